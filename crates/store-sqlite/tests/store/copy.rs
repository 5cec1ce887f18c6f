//! `db copy`'s export side for party promotions: counted, and read out page by page in the
//! order they were recorded, each row as the store reads it.

use crm2sage_domain::contract::stores::party_promotions::{
    customer, party_intent, sage100_customer,
};
use crm2sage_domain::contract::stores::{account, entry, holder, integration};
use crm2sage_domain::ports::{
    AccountStore, CopyPage, CopySection, CountRows, IntegrationStore, LogEvent,
    PartyPromotionStore, StoreError, StoreExport,
};
use crm2sage_domain::{PartyKind, PartyOutcome, PartyPromotion};

use crate::helpers::Scratch;

#[tokio::test]
async fn party_promotions_are_counted_and_exported_page_by_page_as_recorded() {
    let scratch = Scratch::new();
    let store = scratch.store();
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let (a, b) = (account("A"), account("B"));
    store
        .insert_accounts(&[a.clone(), b.clone()])
        .await
        .unwrap();
    let recorded = [
        party_intent(
            &i,
            a.id(),
            &customer("C1"),
            (PartyKind::ShipTo, "WH1"),
            1,
            1,
        ),
        party_intent(
            &i,
            b.id(),
            &sage100_customer("01", "ABC"),
            (PartyKind::Contact, "JANE"),
            2,
            2,
        ),
        party_intent(
            &i,
            a.id(),
            &customer("C1"),
            (PartyKind::Contact, "ANA"),
            3,
            3,
        ),
        party_intent(
            &i,
            b.id(),
            &customer("C2"),
            (PartyKind::ShipTo, "MAIN"),
            4,
            4,
        ),
        party_intent(
            &i,
            a.id(),
            &customer("C1"),
            (PartyKind::ShipTo, "WH2"),
            5,
            5,
        ),
    ];
    for p in &recorded {
        store
            .record_party_intent(p, &entry(LogEvent::Intent))
            .await
            .unwrap();
    }
    store
        .settle_party(
            recorded[0].id,
            &holder(1),
            &PartyOutcome::Promoted,
            recorded[0].created_at,
            &entry(LogEvent::Promoted),
        )
        .await
        .unwrap();
    store
        .settle_party(
            recorded[1].id,
            &holder(2),
            &PartyOutcome::NeedsReview("look".into()),
            recorded[1].created_at,
            &entry(LogEvent::NeedsReview),
        )
        .await
        .unwrap();
    let mut expected: Vec<PartyPromotion> = Vec::new();
    for p in &recorded {
        expected.push(store.party_promotion(p.id).await.unwrap().unwrap());
    }

    assert_eq!(store.row_counts().await.unwrap().party_promotions, 5);
    let mut exported = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .export_page(CopySection::PartyPromotions, after.as_ref(), 2)
            .await
            .unwrap();
        let CopyPage::PartyPromotions(rows) = page.rows else {
            panic!("a page of another section: {:?}", page.rows.section());
        };
        assert!(rows.len() <= 2);
        exported.extend(rows);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(exported, expected, "every row, as recorded, exactly");

    let bad = crm2sage_domain::ports::ExportCursor::new("not a position");
    assert!(matches!(
        store
            .export_page(CopySection::PartyPromotions, Some(&bad), 2)
            .await,
        Err(StoreError::Internal(_))
    ));
}
