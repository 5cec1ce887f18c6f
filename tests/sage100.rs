//! The Sage 100 workflow end to end on real adapters: the domain services with the Sage 100
//! SData adapter (`SageConnector`) and the SQLite store, against the Sage 100 simulator —
//! configure, test, sync, create an account, promote, read the live ERP record.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crm2sage_domain::ports::{AccountStore, PromotionStore};
use crm2sage_domain::services::{PromoteError, SyncProgress};
use crm2sage_domain::{
    ErrorClass, ErrorCode, NewIntegration, PromotionRequest, PromotionState, ReferenceKind,
    SyncOutcome,
};
use crm2sage_sage_simulator::{Sage100Config, start_sage100};
use crm2sage_tests::{real_services, valid_account};

fn no_progress(_: SyncProgress) {}

fn request(account: crm2sage_domain::AccountId, number: &str) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, number);
    r.salesperson = Some("0100".into());
    r.tax_schedule = Some("wi mil".into());
    r.terms = Some("01".into());
    r.category = Some("RET".into());
    // These suites promote many accounts made from one template (one name): not the
    // duplicate guard's business, which `duplicates.rs` tests.
    r.allow_duplicate = true;
    r
}

#[tokio::test]
async fn sage100_workflow_on_the_adapter_the_sqlite_store_and_the_simulator() {
    // Small pages, so the sync really pages.
    let sim = start_sage100(Sage100Config {
        page_size: 2,
        ..Sage100Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (services, store) = real_services(dir.path(), "S100_PASSWORD", sim.password());

    // Configure and test the integration.
    let integration = services
        .add_integration(&{
            let mut new_integration =
                NewIntegration::new("s100", "sage100", sim.base_url(), sim.company(), sim.user());
            new_integration.password_env = "S100_PASSWORD".into();
            new_integration.division = Some("01".into());
            new_integration.crm_id_field = Some("UDF_CRM_ID".into());
            new_integration.make_default = true;
            new_integration
        })
        .await
        .unwrap();
    services.test_integration("s100").await.unwrap();

    // Sync every kind, page by page; the simulator has no ship-method table.
    let (_, reports) = services.sync(None, None, &no_progress).await.unwrap();
    let summary: Vec<_> = reports
        .iter()
        .map(|r| (r.kind, r.outcome, r.counts.total))
        .collect();
    assert_eq!(
        summary,
        [
            (ReferenceKind::Category, SyncOutcome::Ok, 2),
            (ReferenceKind::Terms, SyncOutcome::Ok, 6),
            (ReferenceKind::Tax, SyncOutcome::Ok, 2),
            (ReferenceKind::Division, SyncOutcome::Ok, 2),
            (ReferenceKind::Salesperson, SyncOutcome::Ok, 2),
            (ReferenceKind::ShipMethod, SyncOutcome::Unavailable, 0),
        ],
        "{reports:?}"
    );

    // An account, promoted with an all-digit number: padded to 7, UID `DD-CUSTNO`.
    let account = services.create_account(&valid_account()).await.unwrap();
    let promoted = services
        .promote(&request(account.id(), " 123 "))
        .await
        .unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "0000123");
    assert_eq!(promoted.binding.external_uid.as_str(), "01-0000123");
    assert_eq!(
        promoted.binding.integration_key.as_str(),
        format!("{}:01-0000123", integration.id())
    );
    assert_eq!(sim.count_posts(), 1);

    // What Sage holds: the account's data, the chosen codes, the CRM id.
    let created = sim.customer("01", "0000123").unwrap();
    for (column, value) in [
        ("CustomerName", "Barmart Ltd"),
        ("AddressLine1", "100 Main St"),
        ("City", "Vancouver"),
        ("State", "BC"),
        ("CountryCode", "CAN"),
        ("TaxSchedule", "WI MIL"),
        ("TermsCode", "01"),
        ("SalespersonDivisionNo", "01"),
        ("SalespersonNo", "0100"),
        ("CustomerType", "RET"),
    ] {
        assert_eq!(created.get(column), Some(value), "{column}");
    }
    let crm_id = account.id().to_string();
    assert_eq!(created.get("UDF_CRM_ID"), Some(crm_id.as_str()));
    let post = sim
        .request_log()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(
        post.content_type.as_deref(),
        Some("application/atom+xml; type=entry")
    );
    assert!(
        post.body.contains(
            r#"<AR_Customer xmlns=""><ARDivisionNo>01</ARDivisionNo><CustomerNo>0000123</CustomerNo><CustomerName>Barmart Ltd</CustomerName>"#
        ),
        "{}",
        post.body
    );

    // Stored durably in SQLite.
    let stored = store.promotions_of(account.id()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].state, PromotionState::Promoted);
    assert!(store.account(account.id()).await.unwrap().is_some());

    // The live ERP record, read by the binding; an edit in Sage shows at once.
    let (_, binding, live) = services.erp_details(account.id(), None).await.unwrap();
    assert_eq!(binding.external_uid.as_str(), "01-0000123");
    assert_eq!(live.name(), Some("Barmart Ltd"));
    assert_eq!(live.record.text("CreditHold"), Some("N"), "Sage's defaults");
    let mut edited = created.clone();
    edited.set("CustomerName", Some("Barmart Renamed"));
    sim.insert_customer(edited);
    let (_, _, live) = services
        .erp_details(account.id(), Some("s100"))
        .await
        .unwrap();
    assert_eq!(live.name(), Some("Barmart Renamed"));

    // A number Sage already has: failed "customer number taken", nothing sent.
    let other = services.create_account(&valid_account()).await.unwrap();
    let err = services
        .promote(&request(other.id(), "abf"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PromoteError::CustomerNoTaken { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert_eq!(sim.count_posts(), 1);

    // An unknown salesperson was never synced: refused before any write.
    let mut bad = request(other.id(), "NEW2");
    bad.salesperson = Some("01-0999".into());
    let err = services.promote(&bad).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Invalid, "{err}");
    assert_eq!(sim.count_posts(), 1);

    // The other account with a free number, in division 00, succeeds.
    let mut in_00 = request(other.id(), "new2");
    in_00.division = Some("00".into());
    in_00.salesperson = Some("01-0200".into());
    let promoted = services.promote(&in_00).await.unwrap();
    assert_eq!(promoted.binding.external_uid.as_str(), "00-NEW2");
    let row = sim.customer("00", "NEW2").unwrap();
    assert_eq!(row.get("SalespersonDivisionNo"), Some("01"));

    // A dead ERP is an error that says so, never stale data.
    sim.shutdown().await;
    let err = services.erp_details(account.id(), None).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Erp, "{err}");
}

/// Issue 21 on the Sage 100 adapter and simulator: the customer index (paged SData), the guard's
/// live lookup by exact name, link by `DD-NNNN` writing the UDF, reconcile and unlink.
#[tokio::test]
async fn sage100_guard_index_link_and_reconcile_on_the_adapter() {
    let sim = start_sage100(Sage100Config {
        page_size: 2,
        ..Sage100Config::default()
    })
    .await
    .unwrap();
    sim.seed_customers("01", 5, 0);
    let dir = tempfile::tempdir().unwrap();
    let (services, _store) = real_services(dir.path(), "S100_PASSWORD", sim.password());
    services
        .add_integration(&{
            let mut i =
                NewIntegration::new("s100", "sage100", sim.base_url(), sim.company(), sim.user());
            i.password_env = "S100_PASSWORD".into();
            i.division = Some("01".into());
            i.crm_id_field = Some("UDF_CRM_ID".into());
            i.make_default = true;
            i
        })
        .await
        .unwrap();
    services.sync(None, None, &no_progress).await.unwrap();
    let indexed = services
        .sync_customers(None, false, &|_, _| {})
        .await
        .unwrap();
    assert!(indexed.full && indexed.listed >= 5, "{indexed:?}");

    // Live: the ERP has a customer named exactly "Customer 000002 LLC".
    let mut named = valid_account();
    named.name = "Customer 000002 LLC".into();
    let account = services.create_account(&named).await.unwrap();
    let mut r = request(account.id(), "NEW100");
    r.allow_duplicate = false;
    let err = services.promote(&r).await.unwrap_err();
    assert_eq!(err.code(), "possible_duplicate", "{err:?}");
    let PromoteError::PossibleDuplicate { candidates } = &err else {
        panic!("{err:?}")
    };
    let s2 = crm2sage_sage_simulator::RunningSage100::seeded_customer_number(2);
    assert_eq!(candidates[0].external_uid.as_str(), format!("01-{s2}"));

    // Link it: `DD-NNNN`, the UDF written, reconcile sees the address differ, unlink frees it.
    let linked = services
        .link(account.id(), &format!("01-{s2}"), None)
        .await
        .unwrap();
    assert_eq!(linked.binding.external_uid.as_str(), format!("01-{s2}"));
    assert_eq!(
        linked.crm_id,
        crm2sage_domain::services::CrmIdWrite::Written
    );
    let again = services.link(account.id(), &s2, None).await.unwrap();
    assert!(again.already, "NNNN is the default division's");
    assert_eq!(
        again.crm_id,
        crm2sage_domain::services::CrmIdWrite::AlreadySet
    );
    let (_, binding, live) = services.erp_details(account.id(), None).await.unwrap();
    assert_eq!(binding.external_uid, live.external_uid());
    let mut rows = Vec::new();
    let (_, summary) = services
        .reconcile(None, &mut |row| rows.push(row.clone()))
        .await
        .unwrap();
    assert_eq!(summary.checked, 1);
    assert_eq!(rows[0].status.as_str(), "changed", "{rows:?}");
    assert!(sim.delete_customer("01", &s2));
    let mut rows = Vec::new();
    services
        .reconcile(None, &mut |row| rows.push(row.clone()))
        .await
        .unwrap();
    assert_eq!(rows[0].status.as_str(), "missing");
    services.unlink(account.id(), None).await.unwrap();
}
