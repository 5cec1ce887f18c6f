//! Ship-to and contact promotions across connections and stores ("hosts"): of racing intents
//! for one party exactly one is recorded; of racing take-overs exactly one wins; the schema
//! refuses what the port would; a row that does not parse is a typed error.

use std::sync::Arc;

use crm2sage_domain::contract::stores::party_promotions::{customer, party_intent};
use crm2sage_domain::contract::stores::{account, holder, integration, t0};
use crm2sage_domain::ports::{
    AccountStore, FencedWriteError, IntegrationStore, LogEntry, LogEvent, PartyPromotionStore,
    PromotionStore, RecordPartyIntentError, StoreError, TakeOverError,
};
use crm2sage_domain::{ErrorCode, Lease, PartyKind, PartyOutcome, PartyPromotion};
use crm2sage_store_postgres::testing;

use crate::{more_stores, raw};

const RACERS: usize = 16;

fn log_of(p: &PartyPromotion) -> LogEntry {
    LogEntry {
        at: t0(),
        account: p.account,
        integration: Some(p.integration),
        promotion: Some(p.id),
        event: LogEvent::Intent,
        request: p.party.to_string(),
        message: None,
        duration_ms: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_racing_intents_for_one_party_exactly_one_is_recorded() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let a = account("A");
    store.insert_account(&a).await.unwrap();
    let mut stores = more_stores(&guard, 4).await;
    stores.push(store.clone());
    let stores = Arc::new(stores);
    let racers = (0..RACERS).map(|n| {
        let stores = Arc::clone(&stores);
        let i = i.clone();
        let account = a.id();
        tokio::spawn(async move {
            let p = party_intent(
                &i,
                account,
                &customer("C1"),
                (PartyKind::ShipTo, "WH1"),
                n as u64,
                1,
            );
            let result = stores[n % stores.len()]
                .record_party_intent(&p, &log_of(&p))
                .await;
            (p.id, result)
        })
    });
    let results: Vec<_> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one intent wins: {results:?}");
    let winner = winners[0].0;
    for (_, result) in results.iter().filter(|(_, r)| r.is_err()) {
        assert!(
            matches!(result, Err(RecordPartyIntentError::Live(p)) if p.id == winner),
            "a loser is told the winner: {result:?}"
        );
    }
    let rows = store.party_promotions_of(a.id()).await.unwrap();
    assert_eq!(rows.iter().map(|p| p.id).collect::<Vec<_>>(), [winner]);
    let log = store.log(Some(a.id())).await.unwrap();
    assert_eq!(log.len(), 1, "losers write no log entry");
    assert_eq!(log[0].promotion, Some(winner));
    drop((stores, store));
    guard.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_racing_take_overs_exactly_one_wins_and_settles() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let a = account("A");
    store.insert_account(&a).await.unwrap();
    let p = party_intent(
        &i,
        a.id(),
        &customer("C1"),
        (PartyKind::Contact, "ANA"),
        1,
        1,
    );
    store.record_party_intent(&p, &log_of(&p)).await.unwrap();
    let old = p.lease.clone().unwrap();
    let stores = Arc::new(more_stores(&guard, 4).await);
    let racers = (0..RACERS).map(|n| {
        let stores = Arc::clone(&stores);
        let old = old.clone();
        tokio::spawn(async move {
            let new = Lease {
                holder: holder(100 + n as u64),
                expires_at: t0(),
            };
            let won = stores[n % stores.len()]
                .take_over_party(p.id, Some(&old), &new)
                .await;
            (n, won)
        })
    });
    let results: Vec<_> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one taker wins: {results:?}");
    assert!(
        results
            .iter()
            .filter(|(_, r)| r.is_err())
            .all(|(_, r)| *r == Err(TakeOverError::Changed))
    );
    let taker = holder(100 + winners[0].0 as u64);
    let done = LogEntry {
        event: LogEvent::Promoted,
        ..log_of(&p)
    };
    assert_eq!(
        store
            .settle_party(p.id, &holder(1), &PartyOutcome::Promoted, t0(), &done)
            .await,
        Err(FencedWriteError::LeaseLost),
        "the old holder is fenced out"
    );
    store
        .settle_party(p.id, &taker, &PartyOutcome::Promoted, t0(), &done)
        .await
        .unwrap();
    assert_eq!(store.log(Some(a.id())).await.unwrap().len(), 2);
    assert!(
        store
            .party_promotion(p.id)
            .await
            .unwrap()
            .unwrap()
            .is_binding()
    );
    assert!(store.in_flight().await.unwrap().is_empty());
    drop((stores, store));
    guard.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_what_the_port_would_and_a_bad_row_is_a_typed_error() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let a = account("A");
    store.insert_account(&a).await.unwrap();
    let p = party_intent(
        &i,
        a.id(),
        &customer("C1"),
        (PartyKind::ShipTo, "MAIN"),
        1,
        1,
    );
    store.record_party_intent(&p, &log_of(&p)).await.unwrap();
    let client = raw().await;
    let table = format!("\"{}\".party_promotions", guard.schema());
    let copy = |state: &'static str, kind: &'static str, host: Option<&'static str>| {
        let client = &client;
        let table = table.clone();
        let id = p.id.to_string();
        async move {
            client
                .execute(
                    &format!(
                        "INSERT INTO {table} (id, account_id, integration_id, kind, code, \
                         division, customer_no, external_uid, state, lease_host, lease_pid, \
                         lease_process_start, lease_task, lease_expires_at, error, created_at, \
                         updated_at) SELECT gen_random_uuid()::text, account_id, \
                         integration_id, $2, code, division, customer_no, external_uid, $1, $3, \
                         lease_pid, lease_process_start, lease_task, lease_expires_at, error, \
                         created_at, updated_at FROM {table} WHERE id = $4"
                    ),
                    &[&state, &kind, &host, &id],
                )
                .await
        }
    };
    assert!(
        copy("promoted", "ship_to", Some("h")).await.is_err(),
        "one live row per party"
    );
    assert!(
        copy("failed", "ship_to", None).await.is_err(),
        "a lease is whole or absent"
    );
    assert!(copy("failed", "shipto", Some("h")).await.is_err());
    assert!(copy("bogus", "ship_to", Some("h")).await.is_err());
    copy("failed", "ship_to", Some("h")).await.unwrap();
    copy("creating", "contact", Some("h")).await.unwrap();

    client
        .execute(
            &format!("UPDATE {table} SET division = 'XYZ' WHERE id = $1"),
            &[&p.id.to_string()],
        )
        .await
        .unwrap();
    let err = store.party_promotion(p.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(m) if m.contains("division")),
        "{err:?}"
    );
    assert_eq!(err.code(), "database_corrupt");
    assert!(store.party_promotions_of(a.id()).await.is_err());
    drop(store);
    guard.drop_schema().await;
}
