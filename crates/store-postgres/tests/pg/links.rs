//! A link and a promotion racing across stores ("hosts"): of a `link` and a `record_intent`
//! of the same customer, or of the same account, exactly one wins.

use crm2sage_domain::contract::stores::links::linked;
use crm2sage_domain::contract::stores::{account, entry, integration, intent};
use crm2sage_domain::ports::{
    AccountStore, BindingStore, IntegrationStore, LinkError, LogEvent, PromotionStore,
    RecordIntentError,
};
use crm2sage_store_postgres::testing;

use crate::more_stores;

const ROUNDS: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_a_racing_link_and_intent_exactly_one_wins() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let others = more_stores(&guard, 1).await;
    let other = &others[0];
    for round in 0..ROUNDS {
        let (a, b) = (account(&format!("A{round}")), account(&format!("B{round}")));
        store
            .insert_accounts(&[a.clone(), b.clone()])
            .await
            .unwrap();
        // Same customer, two accounts; then (odd rounds) the same account, two customers.
        let same_account = round % 2 == 1;
        let linking = linked(&i, a.id(), &format!("X{round}"));
        let (promoted, number) = if same_account {
            (a.id(), format!("Y{round}"))
        } else {
            (b.id(), format!("X{round}"))
        };
        let p = intent(&i, promoted, &number, round as u64);
        let (link_log, intent_log) = (entry(LogEvent::Adopted), entry(LogEvent::Intent));
        let (link, intent) = if round % 4 < 2 {
            tokio::join!(
                store.link(&linking, &link_log),
                other.record_intent(&p, &intent_log)
            )
        } else {
            let (intent, link) = tokio::join!(
                other.record_intent(&p, &intent_log),
                store.link(&linking, &link_log)
            );
            (link, intent)
        };
        match (&link, &intent) {
            (Ok(()), Err(RecordIntentError::Bound(bound))) => assert_eq!(**bound, linking),
            (Err(LinkError::InProgress(live)), Ok(())) => assert_eq!(live.id, p.id),
            other => panic!("round {round}: exactly one wins, got {other:?}"),
        }
        let bound = store.bindings_of(a.id()).await.unwrap().len();
        let recorded = store.promotions_of(promoted).await.unwrap().len();
        assert_eq!(
            bound + recorded,
            1,
            "round {round}: one of them was written"
        );
    }
    drop((others, store));
    guard.drop_schema().await;
}
