//! `db copy`'s import side for party promotions: a page goes in whole, each row as it was
//! (state, lease, error and timestamps kept) and counted, or not at all.

use crm2sage_domain::contract::stores::party_promotions::{
    customer, party_intent, sage100_customer,
};
use crm2sage_domain::contract::stores::{account, integration};
use crm2sage_domain::ports::{CopyPage, CountRows, PartyPromotionStore, StoreImport};
use crm2sage_domain::{PartyKind, PromotionState};
use crm2sage_store_postgres::testing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_party_promotions_is_imported_as_it_was_or_not_at_all() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    let (a, b) = (account("A"), account("B"));
    store
        .import_page(&CopyPage::Integrations(vec![i.clone()]))
        .await
        .unwrap();
    store
        .import_page(&CopyPage::Accounts(vec![a.clone(), b.clone()]))
        .await
        .unwrap();
    let mut promoted = party_intent(
        &i,
        a.id(),
        &customer("C1"),
        (PartyKind::ShipTo, "WH1"),
        1,
        1,
    );
    promoted.state = PromotionState::Promoted;
    promoted.lease = None;
    let mut failed = party_intent(
        &i,
        b.id(),
        &sage100_customer("01", "ABC"),
        (PartyKind::Contact, "JANE"),
        2,
        2,
    );
    failed.state = PromotionState::Failed;
    failed.lease = None;
    failed.error = Some("refused".into());
    let creating = party_intent(
        &i,
        a.id(),
        &customer("C1"),
        (PartyKind::Contact, "ANA"),
        3,
        3,
    );
    let page = vec![promoted.clone(), failed.clone(), creating.clone()];
    store
        .import_page(&CopyPage::PartyPromotions(page))
        .await
        .unwrap();
    assert_eq!(store.row_counts().await.unwrap().party_promotions, 3);
    assert_eq!(
        store.party_promotions_of(a.id()).await.unwrap(),
        [promoted.clone(), creating.clone()],
        "as they were, in the order they came"
    );
    assert_eq!(store.party_promotions_of(b.id()).await.unwrap(), [failed]);
    assert_eq!(store.party_in_flight().await.unwrap(), [creating]);

    // A page with a second live row for a party: nothing of it goes in.
    let fresh = party_intent(
        &i,
        b.id(),
        &customer("C2"),
        (PartyKind::ShipTo, "MAIN"),
        4,
        4,
    );
    let clash = party_intent(
        &i,
        a.id(),
        &customer("C1"),
        (PartyKind::ShipTo, "WH1"),
        5,
        5,
    );
    assert!(
        store
            .import_page(&CopyPage::PartyPromotions(vec![fresh.clone(), clash]))
            .await
            .is_err()
    );
    assert_eq!(store.party_promotion(fresh.id).await.unwrap(), None);
    assert_eq!(store.row_counts().await.unwrap().party_promotions, 3);
    drop(store);
    guard.drop_schema().await;
}
