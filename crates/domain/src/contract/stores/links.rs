//! The store contract's binding checks: `link` refuses a bound account, a bound customer and a
//! customer or account a `creating` promotion holds, writing nothing; `record_intent` refuses a
//! linked account or customer with `Bound`; `unlink` removes the binding, marks its promotion
//! `unlinked`, keeps the log and frees the account; the binding reads page and batch.

use super::*;
use crate::ports::{LinkError, UnlinkError};
use crate::promotion::ExternalUid;

/// A `link` binding of `account` to the Sage 300 customer `number` of `integration`.
pub fn linked(integration: &Integration, account: AccountId, number: &str) -> Binding {
    let customer_no = CustomerNo::parse_sage300(number).unwrap();
    let external_uid = ExternalUid::parse(customer_no.as_str()).unwrap();
    let mut erp_record = ErpRecord::new();
    erp_record.push("number", ErpValue::Text(customer_no.to_string()));
    Binding {
        account,
        integration: integration.id(),
        integration_key: IntegrationKey::new(integration.id(), &external_uid),
        customer_no,
        external_uid,
        promoted_at: at(3),
        origin: BindingOrigin::Linked,
        erp_record,
    }
}

/// The log entry of a link or an unlink of `account`.
fn noted(account: AccountId, message: &str) -> LogEntry {
    LogEntry {
        account,
        message: Some(message.into()),
        ..entry(LogEvent::Adopted)
    }
}

async fn two_integrations<S: Store + ?Sized>(store: &S) -> (Integration, Integration) {
    let i = integration("alpha", false);
    let j = integration("beta", false);
    store.add_integration(&i).await.unwrap();
    store.add_integration(&j).await.unwrap();
    (i, j)
}

async fn accounts_named<S: Store + ?Sized>(store: &S, names: &[&str]) -> Vec<AccountId> {
    let accounts: Vec<Account> = names.iter().map(|n| account(n)).collect();
    store.insert_accounts(&accounts).await.unwrap();
    accounts.iter().map(Account::id).collect()
}

pub(super) async fn links<S: Store + ?Sized>(store: &S) {
    let (i, j) = two_integrations(store).await;
    let ids = accounts_named(store, &["A", "B", "C"]).await;
    let (a, b, c) = (ids[0], ids[1], ids[2]);

    let to_x = linked(&i, a, "X1");
    let log = noted(a, "linked");
    store.link(&to_x, &log).await.unwrap();
    assert_eq!(
        store.bindings_of(a).await.unwrap(),
        vec![to_x.clone()],
        "reads back exactly"
    );
    assert_eq!(
        store.log(None).await.unwrap(),
        vec![log.clone()],
        "the log entry is written"
    );

    match store.link(&linked(&i, a, "Y1"), &noted(a, "again")).await {
        Err(LinkError::AccountBound(bound)) => assert_eq!(*bound, to_x),
        other => panic!("expected AccountBound, got {other:?}"),
    }
    match store
        .link(&linked(&i, b, "X1"), &noted(b, "same customer"))
        .await
    {
        Err(LinkError::CustomerBound(bound)) => assert_eq!(*bound, to_x),
        other => panic!("expected CustomerBound, got {other:?}"),
    }
    let creating = intent(&i, c, "C5", 1);
    let intent_log = LogEntry {
        account: c,
        promotion: Some(creating.id),
        ..entry(LogEvent::Intent)
    };
    store.record_intent(&creating, &intent_log).await.unwrap();
    match store
        .link(&linked(&i, b, "C5"), &noted(b, "held customer"))
        .await
    {
        Err(LinkError::InProgress(p)) => assert_eq!(p.id, creating.id),
        other => panic!("expected InProgress for a held customer, got {other:?}"),
    }
    match store
        .link(&linked(&i, c, "Z1"), &noted(c, "held account"))
        .await
    {
        Err(LinkError::InProgress(p)) => assert_eq!(p.id, creating.id),
        other => panic!("expected InProgress for a held account, got {other:?}"),
    }

    // A promotion of the linked account, or of its customer for another account, is refused.
    match store
        .record_intent(&intent(&i, a, "C7", 2), &entry(LogEvent::Intent))
        .await
    {
        Err(RecordIntentError::Bound(bound)) => assert_eq!(*bound, to_x),
        other => panic!("expected Bound for the linked account, got {other:?}"),
    }
    match store
        .record_intent(&intent(&i, b, "x1", 3), &entry(LogEvent::Intent))
        .await
    {
        Err(RecordIntentError::Bound(bound)) => assert_eq!(*bound, to_x),
        other => panic!("expected Bound for the linked customer, got {other:?}"),
    }
    assert_eq!(
        store.log(None).await.unwrap(),
        vec![log, intent_log],
        "refusals write nothing"
    );
    assert_eq!(store.bindings_of(b).await.unwrap(), vec![], "nor a binding");
    assert_eq!(
        store.promotions_of(a).await.unwrap(),
        vec![],
        "nor a promotion"
    );

    // Another integration is apart.
    let elsewhere = linked(&j, a, "X1");
    store.link(&elsewhere, &noted(a, "other")).await.unwrap();
    store
        .record_intent(&intent(&j, b, "Q1", 4), &entry(LogEvent::Intent))
        .await
        .unwrap();

    let of_accounts = store
        .bindings_of_accounts(i.id(), &[a, b, c])
        .await
        .unwrap();
    assert_eq!(of_accounts, vec![to_x.clone()]);
    assert!(
        store
            .bindings_of_accounts(i.id(), &[])
            .await
            .unwrap()
            .is_empty()
    );
    let uid = |n: &str| ExternalUid::parse(n).unwrap();
    let of_customers = store
        .bindings_of_customers(i.id(), &[uid("Q9"), uid("X1")])
        .await
        .unwrap();
    assert_eq!(of_customers, vec![to_x]);
    assert_eq!(
        store
            .bindings_of_customers(j.id(), &[uid("X1")])
            .await
            .unwrap(),
        vec![elsewhere]
    );
    assert!(
        store
            .bindings_of_customers(i.id(), &[])
            .await
            .unwrap()
            .is_empty()
    );
}

pub(super) async fn unlinks<S: Store + ?Sized>(store: &S) {
    let (i, j) = two_integrations(store).await;
    let ids = accounts_named(store, &["A", "B"]).await;
    let (a, b) = (ids[0], ids[1]);

    // A promoted account: unlink returns its binding and marks the promotion unlinked.
    let promoted = intent(&i, a, "C1", 1);
    store
        .record_intent(&promoted, &entry(LogEvent::Intent))
        .await
        .unwrap();
    let binding = binding_for(&promoted);
    store
        .confirm(
            promoted.id,
            &holder(1),
            &binding,
            at(2),
            &entry(LogEvent::Promoted),
        )
        .await
        .unwrap();
    let kept = linked(&j, a, "C1");
    store
        .link(&kept, &noted(a, "other integration"))
        .await
        .unwrap();
    let before = store.log(None).await.unwrap();
    let log = noted(a, "unlinked");
    let removed = store.unlink(a, i.id(), at(9), &log).await.unwrap();
    assert_eq!(removed, binding, "the binding removed, origin created");
    let p = store.promotion(promoted.id).await.unwrap().unwrap();
    assert_eq!(p.state, PromotionState::Unlinked);
    assert_eq!(p.updated_at, at(9));
    assert_eq!(
        store.bindings_of(a).await.unwrap(),
        vec![kept.clone()],
        "other integration kept"
    );
    let mut expected = before.clone();
    expected.push(log);
    assert_eq!(
        store.log(None).await.unwrap(),
        expected,
        "the log keeps the history"
    );
    assert!(
        store.in_flight().await.unwrap().is_empty(),
        "an unlinked promotion is not in flight"
    );

    // Twice is NotBound, writing nothing.
    assert!(matches!(
        store.unlink(a, i.id(), at(10), &noted(a, "again")).await,
        Err(UnlinkError::NotBound)
    ));
    assert!(matches!(
        store.unlink(b, i.id(), at(10), &noted(b, "never")).await,
        Err(UnlinkError::NotBound)
    ));
    assert_eq!(store.log(None).await.unwrap(), expected);

    // The account, and the customer, may be promoted again.
    let again = intent(&i, a, "C1", 2);
    store
        .record_intent(&again, &entry(LogEvent::Intent))
        .await
        .unwrap();
    assert_eq!(
        store.promotion(promoted.id).await.unwrap().unwrap().state,
        PromotionState::Unlinked,
        "the old promotion stays unlinked"
    );
    store
        .fail(again.id, &holder(2), "test", at(11))
        .await
        .unwrap();

    // A link unlinks too, touching no promotion.
    let to_y = linked(&i, b, "Y1");
    store.link(&to_y, &noted(b, "linked")).await.unwrap();
    let removed = store
        .unlink(b, i.id(), at(12), &noted(b, "unlinked"))
        .await
        .unwrap();
    assert_eq!(removed.origin, BindingOrigin::Linked);
    assert_eq!(removed, to_y);
    store
        .link(&linked(&i, b, "Y1"), &noted(b, "relinked"))
        .await
        .unwrap();
    assert_eq!(
        store.promotion(again.id).await.unwrap().unwrap().state,
        PromotionState::Failed
    );
}

pub(super) async fn binding_pages<S: Store + ?Sized>(store: &S) {
    let (i, j) = two_integrations(store).await;
    let names = ["A", "B", "C", "D", "E"];
    let ids = accounts_named(store, &names).await;
    let numbers = ["M5", "B2", "Z1", "A10", "A9"];
    for (account, number) in ids.iter().zip(numbers) {
        store
            .link(&linked(&i, *account, number), &noted(*account, "linked"))
            .await
            .unwrap();
    }
    store
        .link(&linked(&j, ids[0], "A1"), &noted(ids[0], "other"))
        .await
        .unwrap();
    let mut expected: Vec<String> = numbers.iter().map(|n| format!("{}:{n}", i.id())).collect();
    expected.sort();
    for size in [1, 2, 3, 5, 8] {
        let mut got: Vec<String> = Vec::new();
        let mut after: Option<IntegrationKey> = None;
        loop {
            let page = store
                .bindings_page(i.id(), after.as_ref(), size)
                .await
                .unwrap();
            assert!(page.len() <= size);
            let Some(last) = page.last() else { break };
            after = Some(last.integration_key.clone());
            got.extend(page.iter().map(|b| b.integration_key.to_string()));
        }
        assert_eq!(
            got, expected,
            "pages of {size} walk the bindings by Integration key"
        );
    }
    let from = IntegrationKey::new(i.id(), &ExternalUid::parse("B").unwrap());
    let page = store.bindings_page(i.id(), Some(&from), 1).await.unwrap();
    assert_eq!(
        page[0].integration_key.to_string(),
        format!("{}:B2", i.id()),
        "a key that is not stored is a valid `after`"
    );
    assert!(
        store
            .bindings_page(i.id(), None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.bindings_page(j.id(), None, 10).await.unwrap().len(),
        1
    );
}
