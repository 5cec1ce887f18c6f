//! The domain's services over the SQLite store and the fake ERP: what the acceptance asks of
//! a real file in a real workflow.

use std::sync::Arc;

use crm2sage_domain::contract::stores::account;
use crm2sage_domain::fakes::{ErpFault, FakeErp, FakeProcesses, FixedSecrets};
use crm2sage_domain::ports::{
    AccountStore, ErpReferenceRecord, IntegrationStore, PromotionStore, ReferenceStore,
};
use crm2sage_domain::{
    NewIntegration, PromotionRequest, PromotionState, ReferenceCode, ReferenceExtras,
    ReferenceKind, Services, SyncOutcome,
};
use crm2sage_store_sqlite::SqliteStore;

use crate::helpers::{Scratch, all_bytes, contains};

const SECRET: &str = "sekrit-XYZ";

fn services(store: &SqliteStore, erp: &FakeErp) -> Services<SqliteStore, FakeErp> {
    Services::new(
        Arc::new(store.clone()),
        Arc::new(erp.clone()),
        Arc::new(FixedSecrets::default().with("S300_PASSWORD", SECRET)),
        Arc::new(FakeProcesses::default()),
    )
}

fn new_integration() -> NewIntegration {
    {
        let mut new_integration = NewIntegration::new(
            "s300",
            "sage300",
            "https://erp.example.com/Sage300WebApi",
            "SAMLTD",
            "WEBAPI",
        );
        new_integration.password_env = "S300_PASSWORD".into();
        new_integration.make_default = true;
        new_integration
    }
}

fn group(code: &str, description: &str) -> ErpReferenceRecord {
    ErpReferenceRecord {
        code: ReferenceCode::parse(code).unwrap(),
        description: description.into(),
        active: true,
        extras: ReferenceExtras::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promoting_through_the_services_keeps_only_the_secret_reference() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let store = SqliteStore::open(&path).unwrap();
    let erp = FakeErp::sage300_demo().with_password(SECRET);
    let services = services(&store, &erp);
    services.add_integration(&new_integration()).await.unwrap();
    let (_, reports) = services.sync(None, None, &|_| {}).await.unwrap();
    assert!(
        reports.iter().all(|r| r.outcome == SyncOutcome::Ok),
        "{reports:?}"
    );

    let acc = account("Acme Trading");
    store.insert_account(&acc).await.unwrap();
    let request = |number: &str| {
        let mut request = PromotionRequest::new(acc.id(), number);
        request.category = Some("RTL".into());
        request.tax_group = Some("CALIF".into());
        request
    };
    // 1200 exists in the ERP: the promotion fails, and does not block the next one.
    let taken = services.promote(&request("1200")).await.unwrap_err();
    let failed = taken.promotion().unwrap();
    assert_eq!(
        store.promotion(failed).await.unwrap().unwrap().state,
        PromotionState::Failed
    );
    let promoted = services.promote(&request("C200")).await.unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "C200");
    assert_eq!(
        store.bindings_of(acc.id()).await.unwrap(),
        vec![promoted.binding]
    );
    assert!(store.log(Some(acc.id())).await.unwrap().len() >= 2);
    drop(services);
    drop(store);

    let bytes = all_bytes(&path);
    assert!(
        contains(&bytes, "env:S300_PASSWORD"),
        "the reference is kept"
    );
    assert!(
        !contains(&bytes, SECRET),
        "the secret never reaches the file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_failing_on_its_third_page_leaves_the_snapshot_untouched() {
    let scratch = Scratch::new();
    let store = scratch.store();
    let erp = FakeErp::sage300_demo()
        .with_password(SECRET)
        .with_page_size(2);
    let kind = ReferenceKind::Category;
    erp.set_catalogue(
        kind,
        (1..=6)
            .map(|n| group(&format!("G{n}"), &format!("Group {n}")))
            .collect(),
    );
    let services = services(&store, &erp);
    let integration = services.add_integration(&new_integration()).await.unwrap();
    let (_, reports) = services.sync(None, Some(&[kind]), &|_| {}).await.unwrap();
    assert_eq!(reports[0].outcome, SyncOutcome::Ok);
    assert_eq!(reports[0].counts.added, 6);
    let before = store
        .reference_records(integration.id(), kind)
        .await
        .unwrap();

    // The ERP changed everything, but page 3 of 3 fails.
    erp.set_catalogue(
        kind,
        (1..=5)
            .map(|n| group(&format!("G{n}"), &format!("Renamed {n}")))
            .collect(),
    );
    erp.inject(ErpFault::FailPage { kind, page: 3 });
    let (_, reports) = services.sync(None, Some(&[kind]), &|_| {}).await.unwrap();
    assert_eq!(reports[0].outcome, SyncOutcome::Failed, "{reports:?}");
    assert_eq!(
        store
            .reference_records(integration.id(), kind)
            .await
            .unwrap(),
        before,
        "a failed sync changes nothing"
    );
    let runs = store.sync_runs(integration.id()).await.unwrap();
    assert_eq!(runs[0].outcome, SyncOutcome::Failed);
    assert!(runs[0].error.is_some());

    // Healed, the next sync swaps the new snapshot in.
    erp.heal();
    let (_, reports) = services.sync(None, Some(&[kind]), &|_| {}).await.unwrap();
    let counts = reports[0].counts;
    assert_eq!(
        (
            counts.added,
            counts.updated,
            counts.deactivated,
            counts.total
        ),
        (0, 5, 1, 5)
    );
    let after = store
        .reference_records(integration.id(), kind)
        .await
        .unwrap();
    assert_eq!(after.len(), 6, "nothing is deleted");
    assert!(
        !after
            .iter()
            .find(|r| r.code.as_str() == "G6")
            .unwrap()
            .active
    );
    let _ = store.integrations().await.unwrap();
}
