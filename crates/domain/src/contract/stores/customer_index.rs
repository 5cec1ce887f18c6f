//! The store contract's customer index checks: upserts replace by (integration, division,
//! number), candidates share a key (never a `None` one) and come per entry, in order, by key
//! and at most `limit_each`; a full finish drops what the sync did not see, a partial one
//! nothing; pages walk the index by key.

use super::*;
use crate::codes::ArDivision;
use crate::ids::IntegrationId;
use crate::matching::MatchKeys;
use crate::ports::{
    CustomerIndexState, ErpCustomerKey, ErpCustomerStatus, ErpCustomerSummary, IndexedCustomer,
};

/// A Sage 300 key (no division) for `number`.
fn key(number: &str) -> ErpCustomerKey {
    ErpCustomerKey {
        division: None,
        customer_no: CustomerNo::parse_sage300(number).unwrap(),
    }
}

/// A summary of `number` named `name`, with a phone and e-mail when given; the rest filled.
fn summary(
    key: ErpCustomerKey,
    name: &str,
    phone: Option<&str>,
    email: Option<&str>,
) -> ErpCustomerSummary {
    ErpCustomerSummary {
        key,
        name: name.into(),
        address_lines: [Some("1 Main St".into()), Some("Unit 4".into()), None],
        city: Some("Vancouver".into()),
        state: Some("BC".into()),
        postal_code: Some("V5K 0A1".into()),
        country: Some("CA".into()),
        phone: phone.map(Into::into),
        email: email.map(Into::into),
        status: ErpCustomerStatus::Active,
        on_hold: false,
        last_maintained: Some(jiff::civil::date(2025, 11, 30)),
        crm_id: None,
    }
}

fn seen(summary: ErpCustomerSummary, seconds: i64) -> IndexedCustomer {
    IndexedCustomer::new(summary, at(seconds))
}

fn numbers(found: &[ErpCustomerSummary]) -> Vec<&str> {
    found.iter().map(|c| c.key.customer_no.as_str()).collect()
}

async fn page_all<S: Store + ?Sized>(
    store: &S,
    integration: IntegrationId,
) -> Vec<IndexedCustomer> {
    store
        .indexed_customers_page(integration, None, 1000)
        .await
        .unwrap()
}

pub(super) async fn customer_upserts<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    let j = integration("beta", false);
    store.add_integration(&i).await.unwrap();
    store.add_integration(&j).await.unwrap();
    assert_eq!(store.customer_index_state(i.id()).await.unwrap(), None);
    assert!(page_all(store, i.id()).await.is_empty());

    // Every field is kept: texts, status, hold, the date, the CRM id, keys and seen_at.
    let mut full = summary(
        key("C1"),
        "Acme Supply Co.",
        Some("+1 (604) 555-0199"),
        Some("AP@Acme.example"),
    );
    full.status = ErpCustomerStatus::Inactive;
    full.on_hold = true;
    full.crm_id = Some("CRM-7".into());
    full.address_lines = [Some("1".into()), Some("2".into()), Some("3".into())];
    let mut bare = summary(key("C2"), "Bare", None, None);
    bare.address_lines = [None, None, None];
    bare.city = None;
    bare.state = None;
    bare.postal_code = None;
    bare.country = None;
    bare.last_maintained = None;
    let sage100 = summary(
        ErpCustomerKey {
            division: Some(ArDivision::parse("01").unwrap()),
            customer_no: CustomerNo::parse_sage100("C1").unwrap(),
        },
        "Division One",
        None,
        None,
    );
    let page = vec![
        seen(full.clone(), 10),
        seen(bare.clone(), 10),
        seen(sage100.clone(), 10),
    ];
    store.upsert_customers(i.id(), &page).await.unwrap();
    assert_eq!(
        page_all(store, i.id()).await,
        vec![page[0].clone(), page[1].clone(), page[2].clone()],
        "every customer reads back exactly, by key (no division first)"
    );
    assert!(
        page_all(store, j.id()).await.is_empty(),
        "integrations are apart"
    );

    // A second listing replaces by key: no duplicate, even with no division.
    let renamed = seen(summary(key("C1"), "Acme Renamed", None, None), 20);
    store
        .upsert_customers(i.id(), std::slice::from_ref(&renamed))
        .await
        .unwrap();
    store
        .upsert_customers(i.id(), std::slice::from_ref(&renamed))
        .await
        .unwrap();
    let all = page_all(store, i.id()).await;
    assert_eq!(all.len(), 3, "replaced, not added: {all:?}");
    assert_eq!(all[0], renamed);
    let old_name = MatchKeys::of("Acme Supply Co.", None, None);
    assert!(
        store
            .customer_candidates(i.id(), &[old_name], 10)
            .await
            .unwrap()[0]
            .is_empty(),
        "the replaced keys no longer match"
    );
    store.upsert_customers(i.id(), &[]).await.unwrap();
    store
        .upsert_customers(j.id(), std::slice::from_ref(&renamed))
        .await
        .unwrap();
    assert_eq!(page_all(store, j.id()).await, vec![renamed]);
    assert_eq!(page_all(store, i.id()).await.len(), 3);
}

pub(super) async fn customer_candidates<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    let j = integration("beta", false);
    store.add_integration(&i).await.unwrap();
    store.add_integration(&j).await.unwrap();
    let customers = vec![
        seen(summary(key("N3"), "Same Name Ltd", None, None), 1),
        seen(summary(key("N1"), "Same Name Ltd", None, None), 1),
        seen(summary(key("N2"), "Same Name Ltd", None, None), 1),
        seen(
            summary(key("P1"), "Phone Only", Some("604-555-0101"), None),
            1,
        ),
        seen(
            summary(key("E1"), "Mail Only", None, Some("sales@mail.example")),
            1,
        ),
        seen(
            summary(
                key("B1"),
                "Both Keys",
                Some("+1 604 555 0102"),
                Some("both@x.example"),
            ),
            1,
        ),
    ];
    store.upsert_customers(i.id(), &customers).await.unwrap();
    store
        .upsert_customers(
            j.id(),
            &[seen(summary(key("J1"), "Same Name Ltd", None, None), 1)],
        )
        .await
        .unwrap();

    let by_name = MatchKeys::of("SAME NAME LTD.", None, None);
    let by_phone = MatchKeys::of("nobody", Some("(604) 555-0101"), None);
    let by_email = MatchKeys::of("nobody", None, Some("Sales@Mail.Example"));
    let by_two = MatchKeys::of("Both Keys", Some("604.555.0102"), Some("other@x.example"));
    let none = MatchKeys::default();
    let found = store
        .customer_candidates(
            i.id(),
            &[
                by_email.clone(),
                none.clone(),
                by_name.clone(),
                by_phone.clone(),
                by_two,
            ],
            10,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 5, "one answer per entry, in order");
    assert_eq!(numbers(&found[0]), ["E1"], "by e-mail");
    assert!(found[1].is_empty(), "a `None` key matches nothing");
    assert_eq!(
        numbers(&found[2]),
        ["N1", "N2", "N3"],
        "by name, by key, other integration apart"
    );
    assert_eq!(numbers(&found[3]), ["P1"], "by phone");
    assert_eq!(
        numbers(&found[4]),
        ["B1"],
        "a customer hit by two keys comes once"
    );
    assert_eq!(found[0][0], customers[4].summary, "the whole summary");

    let limited = store
        .customer_candidates(i.id(), &[by_name.clone(), by_phone], 2)
        .await
        .unwrap();
    assert_eq!(
        numbers(&limited[0]),
        ["N1", "N2"],
        "at most limit_each, the first by key"
    );
    assert_eq!(numbers(&limited[1]), ["P1"]);
    assert!(
        store
            .customer_candidates(i.id(), &[], 5)
            .await
            .unwrap()
            .is_empty()
    );
    let other = store
        .customer_candidates(j.id(), &[by_name, none], 5)
        .await
        .unwrap();
    assert_eq!(numbers(&other[0]), ["J1"]);
    assert!(other[1].is_empty());
}

pub(super) async fn customer_sync_finish<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    let j = integration("beta", false);
    store.add_integration(&i).await.unwrap();
    store.add_integration(&j).await.unwrap();
    let c1 = summary(key("C1"), "One", None, None);
    let c2 = summary(key("C2"), "Two", None, None);
    store
        .upsert_customers(i.id(), &[seen(c1.clone(), 10), seen(c2.clone(), 10)])
        .await
        .unwrap();
    store
        .upsert_customers(j.id(), &[seen(c2.clone(), 10)])
        .await
        .unwrap();
    let first = store
        .finish_customer_sync(i.id(), at(10), true, at(11))
        .await
        .unwrap();
    assert_eq!(
        first,
        CustomerIndexState {
            synced_from: at(10),
            full_from: at(10),
            finished_at: at(11),
            customers: 2,
        }
    );
    assert_eq!(
        store.customer_index_state(i.id()).await.unwrap(),
        Some(first)
    );
    assert_eq!(store.customer_index_state(j.id()).await.unwrap(), None);

    // A partial sync sees C1 only and drops nothing; full_from stays.
    store
        .upsert_customers(i.id(), &[seen(c1.clone(), 20)])
        .await
        .unwrap();
    let partial = store
        .finish_customer_sync(i.id(), at(20), false, at(21))
        .await
        .unwrap();
    assert_eq!(
        partial,
        CustomerIndexState {
            synced_from: at(20),
            full_from: at(10),
            finished_at: at(21),
            customers: 2,
        },
        "a partial sync drops none and leaves full_from"
    );
    assert_eq!(
        store.customer_index_state(i.id()).await.unwrap(),
        Some(partial)
    );

    // A full sync started at 20 drops C2, last seen at 10; C1, seen at 20, stays.
    let full = store
        .finish_customer_sync(i.id(), at(20), true, at(22))
        .await
        .unwrap();
    assert_eq!(
        full,
        CustomerIndexState {
            synced_from: at(20),
            full_from: at(20),
            finished_at: at(22),
            customers: 1,
        }
    );
    assert_eq!(
        store.customer_index_state(i.id()).await.unwrap(),
        Some(full)
    );
    assert_eq!(page_all(store, i.id()).await, vec![seen(c1, 20)]);
    assert_eq!(
        page_all(store, j.id()).await,
        vec![seen(c2, 10)],
        "another integration's index is untouched"
    );
}

pub(super) async fn customer_pages<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    let j = integration("beta", false);
    store.add_integration(&i).await.unwrap();
    store.add_integration(&j).await.unwrap();
    let division = |d: &str, n: &str| ErpCustomerKey {
        division: Some(ArDivision::parse(d).unwrap()),
        customer_no: CustomerNo::parse_sage100(n).unwrap(),
    };
    let keys = vec![
        division("02", "A1"),
        key("B2"),
        division("01", "Z9"),
        key("A1"),
        division("01", "A1"),
        key("C3"),
        division("10", "A0"),
    ];
    let customers: Vec<IndexedCustomer> = keys
        .iter()
        .map(|k| seen(summary(k.clone(), "Name", None, None), 1))
        .collect();
    store.upsert_customers(i.id(), &customers).await.unwrap();
    store
        .upsert_customers(j.id(), &customers[..2])
        .await
        .unwrap();
    let mut expected = keys.clone();
    expected.sort_by(|a, b| (a.division, &a.customer_no).cmp(&(b.division, &b.customer_no)));
    for size in [1, 2, 3, 7, 10] {
        let mut got: Vec<ErpCustomerKey> = Vec::new();
        let mut after: Option<ErpCustomerKey> = None;
        loop {
            let page = store
                .indexed_customers_page(i.id(), after.as_ref(), size)
                .await
                .unwrap();
            assert!(page.len() <= size);
            let Some(last) = page.last() else { break };
            after = Some(last.summary.key.clone());
            got.extend(page.into_iter().map(|c| c.summary.key));
        }
        assert_eq!(
            got, expected,
            "pages of {size} walk the index by division, then number"
        );
    }
    // A key that is not stored is a valid `after`; limit 0 is an empty page.
    let page = store
        .indexed_customers_page(i.id(), Some(&division("01", "B")), 10)
        .await
        .unwrap();
    assert_eq!(
        page.first().map(|c| c.summary.key.clone()),
        Some(division("01", "Z9"))
    );
    assert!(
        store
            .indexed_customers_page(i.id(), None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .indexed_customers_page(j.id(), None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}
