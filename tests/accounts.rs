//! Issue 17 item 6: accounts the CRM owns — `update_account` by id and `upsert_account` by the
//! CRM's own reference, on the fakes and, for the race of two upserts, on SQLite.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use crm2sage_domain::fakes::{FakeErp, ManualClock};
use crm2sage_domain::ports::{AccountFilter, AccountStore, PromotionStore};
use crm2sage_domain::services::{AccountError, Upserted};
use crm2sage_domain::{AccountId, ErrorClass, ErrorCode, NewAccount, PromotionRequest};
use crm2sage_tests::{fake_services, sage300_input, valid_account};

fn with_name(name: &str) -> NewAccount {
    let mut input = valid_account();
    input.name = name.into();
    input
}

#[tokio::test]
async fn upsert_creates_then_leaves_alone_then_updates_one_account() {
    let (services, store) = fake_services(FakeErp::sage300_demo());
    let (created, what) = services
        .upsert_account("CRM-42", &with_name("Barmart Ltd"))
        .await
        .unwrap();
    assert_eq!(what, Upserted::Created);
    assert_eq!(created.details().reference().unwrap().as_str(), "CRM-42");

    // The same details again (spelled with other blanks, so they validate the same).
    let (same, what) = services
        .upsert_account("CRM-42", &with_name("  Barmart Ltd "))
        .await
        .unwrap();
    assert_eq!(what, Upserted::Unchanged);
    assert_eq!(same, created, "nothing was written");

    let mut moved = with_name("Barmart Holdings");
    moved.billing.city = "Burnaby".into();
    moved.reference = Some("CRM-42".into());
    let (updated, what) = services.upsert_account("CRM-42", &moved).await.unwrap();
    assert_eq!(what, Upserted::Updated);
    assert_eq!(updated.id(), created.id(), "the same account");
    assert_eq!(updated.details().name().as_str(), "Barmart Holdings");
    assert_eq!(updated.details().billing().city(), "Burnaby");
    assert_eq!(store.account(created.id()).await.unwrap(), Some(updated));

    let all = store.accounts(AccountFilter::All).await.unwrap();
    assert_eq!(all.len(), 1, "one account per reference");
    assert_eq!(Upserted::Updated.as_str(), "updated");
}

#[tokio::test]
async fn upsert_refuses_a_bad_or_mismatched_reference_and_lists_every_bad_field() {
    let (services, store) = fake_services(FakeErp::sage300_demo());
    let mut other = valid_account();
    other.reference = Some("CRM-2".into());
    let err = services.upsert_account("CRM-1", &other).await.unwrap_err();
    let AccountError::Invalid(fields) = &err else {
        panic!("{err:?}")
    };
    assert!(fields.contains("reference"), "{err}");
    assert_eq!(err.class(), ErrorClass::Invalid);

    let err = services
        .upsert_account("  ", &valid_account())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AccountError::Invalid(f) if f.contains("reference")),
        "{err:?}"
    );

    let mut bad = valid_account();
    bad.name = String::new();
    bad.email = Some("not-an-email".into());
    let err = services.upsert_account("CRM-3", &bad).await.unwrap_err();
    let AccountError::Invalid(fields) = &err else {
        panic!("{err:?}")
    };
    assert!(fields.contains("name") && fields.contains("email"), "{err}");
    assert!(store.accounts(AccountFilter::All).await.unwrap().is_empty());
}

#[tokio::test]
async fn update_replaces_the_details_and_refuses_unknown_ids_bad_fields_and_taken_references() {
    let (services, store) = fake_services(FakeErp::sage300_demo());
    let mut first = with_name("First Ltd");
    first.reference = Some("CRM-A".into());
    let first = services.create_account(&first).await.unwrap();
    let mut second = with_name("Second Ltd");
    second.reference = Some("CRM-B".into());
    let second = services.create_account(&second).await.unwrap();

    let mut input = with_name("First Renamed Ltd");
    input.phone = None;
    input.reference = Some("CRM-A".into());
    let updated = services.update_account(first.id(), &input).await.unwrap();
    assert_eq!(updated.id(), first.id());
    assert_eq!(updated.created_at(), first.created_at());
    assert_eq!(
        updated.details().phone(),
        None,
        "a field left empty is cleared"
    );
    assert_eq!(
        store.account(first.id()).await.unwrap(),
        Some(updated.clone())
    );
    let again = services.update_account(first.id(), &input).await.unwrap();
    assert_eq!(again, updated, "the same details write nothing");

    let ghost = AccountId::generate();
    let err = services.update_account(ghost, &input).await.unwrap_err();
    assert_eq!(err, AccountError::NotFound(ghost));
    assert_eq!(err.class(), ErrorClass::NotFound);

    let mut bad = with_name("");
    bad.billing.country = "Atlantis".into();
    let err = services.update_account(first.id(), &bad).await.unwrap_err();
    let AccountError::Invalid(fields) = &err else {
        panic!("{err:?}")
    };
    assert!(
        fields.contains("name") && fields.contains("billing.country"),
        "{err}"
    );

    let mut steal = with_name("Second Ltd");
    steal.reference = Some("CRM-A".into());
    let err = services
        .update_account(second.id(), &steal)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AccountError::Invalid(f) if f.contains("reference")),
        "{err:?}"
    );
    assert_eq!(store.account(second.id()).await.unwrap(), Some(second));
    assert_eq!(store.account(first.id()).await.unwrap(), Some(updated));
}

/// A promoted account may be updated locally; its binding stays and the ERP is not touched.
#[tokio::test]
async fn a_promoted_account_is_updated_locally_only() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = fake_services(erp.clone());
    let mut input = sage300_input();
    input.make_default = true;
    services.add_integration(&input).await.unwrap();
    services.sync(None, None, &|_| {}).await.unwrap();
    let account = services.create_account(&valid_account()).await.unwrap();
    let mut request = PromotionRequest::new(account.id(), "UPD1");
    request.category = Some("RTL".into());
    request.tax_group = Some("CALIF".into());
    services.promote(&request).await.unwrap();
    let before = erp.customers();

    let updated = services
        .update_account(account.id(), &with_name("Renamed After Promotion"))
        .await
        .unwrap();
    assert_eq!(updated.details().name().as_str(), "Renamed After Promotion");
    assert_eq!(store.bindings_of(account.id()).await.unwrap().len(), 1);
    assert_eq!(erp.customers(), before, "the ERP is not touched");
}

/// Many upserts of one reference at once, on SQLite: the unique reference lets one create and
/// every loser carries on as an update — one account, no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_upserts_of_one_reference_make_one_account() {
    let dir = tempfile::tempdir().unwrap();
    let (services, store) = crm2sage_tests::real_services(dir.path(), "UNUSED", "unused");
    let services = Arc::new(services.with_clock(Arc::new(ManualClock::default())));
    for round in 0..5 {
        let reference = format!("CRM-RACE-{round}");
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let services = Arc::clone(&services);
                let reference = reference.clone();
                tokio::spawn(async move {
                    services
                        .upsert_account(&reference, &with_name(&format!("Racer {i}")))
                        .await
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            let (_, what) = task.await.unwrap().unwrap();
            created += usize::from(what == Upserted::Created);
        }
        assert_eq!(created, 1, "round {round}: exactly one upsert created");
    }
    let all = store.accounts(AccountFilter::All).await.unwrap();
    assert_eq!(all.len(), 5, "one account per reference");
}

#[path = "import.rs"]
mod import;
