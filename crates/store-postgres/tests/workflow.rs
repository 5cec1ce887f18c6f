//! The domain's services on PostgreSQL: two "hosts" (pools of their own, different host
//! identities) promote the same accounts at once against one ERP, and every account ends
//! promoted exactly once with exactly one customer.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use crm2sage_domain::contract::stores::account;
use crm2sage_domain::fakes::{FakeErp, FakeProcesses, FixedSecrets};
use crm2sage_domain::ports::{AccountStore, PromotionStore};
use crm2sage_domain::{NewIntegration, PromotionRequest, PromotionState, Services, SyncOutcome};
use crm2sage_store_postgres::testing;
use crm2sage_store_postgres::{PgSettings, PostgresStore};

const SECRET: &str = "sekrit-PG";
const ACCOUNTS: usize = 30;

fn services(store: &PostgresStore, erp: &FakeErp, host: &str) -> Services<PostgresStore, FakeErp> {
    Services::new(
        Arc::new(store.clone()),
        Arc::new(erp.clone()),
        Arc::new(FixedSecrets::default().with("S300_PASSWORD", SECRET)),
        Arc::new(FakeProcesses::new(host, 4242, 1)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_promoting_the_same_accounts_create_each_customer_once() {
    let Some((store_a, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let store_b = PostgresStore::connect(
        &testing::test_url(),
        PgSettings::default().with_schema(guard.schema()),
    )
    .await
    .unwrap();
    let erp = FakeErp::sage300_demo().with_password(SECRET);
    let host_a = Arc::new(services(&store_a, &erp, "host-a"));
    let host_b = Arc::new(services(&store_b, &erp, "host-b"));
    let mut new_integration = NewIntegration::new(
        "s300",
        "sage300",
        "https://erp.example.com/Sage300WebApi",
        "SAMLTD",
        "WEBAPI",
    );
    new_integration.password_env = "S300_PASSWORD".into();
    new_integration.make_default = true;
    host_a.add_integration(&new_integration).await.unwrap();
    let (_, reports) = host_a.sync(None, None, &|_| {}).await.unwrap();
    assert!(
        reports.iter().all(|r| r.outcome == SyncOutcome::Ok),
        "{reports:?}"
    );
    let accounts: Vec<_> = (0..ACCOUNTS).map(|n| account(&format!("A{n}"))).collect();
    store_a.insert_accounts(&accounts).await.unwrap();
    let customers_before = erp.customers().len();

    let promotions = accounts.iter().enumerate().flat_map(|(n, a)| {
        let mut request = PromotionRequest::new(a.id(), format!("PG{n}"));
        request.category = Some("RTL".into());
        request.tax_group = Some("CALIF".into());
        [Arc::clone(&host_a), Arc::clone(&host_b)].map(|host| {
            let request = request.clone();
            tokio::spawn(async move { host.promote(&request).await.is_ok() })
        })
    });
    let succeeded = futures_util::future::join_all(promotions)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert!((1..=ACCOUNTS).contains(&succeeded), "{succeeded}");
    // Whatever raced, recover (on either host) settles what is left in flight.
    host_b.recover().await.unwrap();
    host_a.recover().await.unwrap();
    for a in &accounts {
        let promoted: Vec<_> = store_b
            .promotions_of(a.id())
            .await
            .unwrap()
            .into_iter()
            .filter(|p| p.state == PromotionState::Promoted)
            .collect();
        assert_eq!(promoted.len(), 1, "account {} promoted once", a.id());
        assert_eq!(store_b.bindings_of(a.id()).await.unwrap().len(), 1);
    }
    assert_eq!(
        erp.customers().len() - customers_before,
        ACCOUNTS,
        "exactly one customer per account"
    );
    assert!(store_a.in_flight().await.unwrap().is_empty());
    drop((host_a, host_b, store_a, store_b));
    guard.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_left_running_by_a_dead_worker_on_another_host_is_cleaned_by_the_next_sync() {
    use crm2sage_domain::contract::stores::t0;
    use crm2sage_domain::ports::{ErpReferenceRecord, IntegrationStore, ReferenceStore};
    use crm2sage_domain::{LeaseHolder, ReferenceCode, ReferenceExtras, ReferenceKind};

    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let erp = FakeErp::sage300_demo().with_password(SECRET);
    let host = services(&store, &erp, "host-b");
    let mut new_integration = NewIntegration::new(
        "s300",
        "sage300",
        "https://erp.example.com/Sage300WebApi",
        "SAMLTD",
        "WEBAPI",
    );
    new_integration.password_env = "S300_PASSWORD".into();
    new_integration.make_default = true;
    let integration = host.add_integration(&new_integration).await.unwrap();
    // A worker on another host began a sync, staged a page through its own pool, and died;
    // its hold expired long ago.
    let kind = ReferenceKind::Category;
    let worker = PostgresStore::connect(
        &testing::test_url(),
        PgSettings::default().with_schema(guard.schema()),
    )
    .await
    .unwrap();
    let dead = LeaseHolder {
        host: "host-a".into(),
        pid: 99,
        process_start: 5,
        task: 1,
    };
    let one_minute = jiff::SignedDuration::from_secs(60);
    let abandoned = worker
        .begin_sync(
            integration.id(),
            kind,
            &dead,
            t0(),
            t0().checked_add(one_minute).unwrap(),
        )
        .await
        .unwrap();
    let stale = ErpReferenceRecord {
        code: ReferenceCode::parse("STALE").unwrap(),
        description: "from the dead worker".into(),
        active: true,
        extras: ReferenceExtras::default(),
    };
    worker
        .stage_page(
            abandoned,
            &[stale],
            t0(),
            t0().checked_add(one_minute).unwrap(),
        )
        .await
        .unwrap();
    drop(worker);

    let (_, reports) = host.sync(None, Some(&[kind]), &|_| {}).await.unwrap();
    assert_eq!(reports[0].outcome, SyncOutcome::Ok, "{reports:?}");
    let runs = store.sync_runs(integration.id()).await.unwrap();
    let old = runs.iter().find(|r| r.id == abandoned).unwrap();
    assert_eq!(old.outcome, SyncOutcome::Failed, "the dead run was closed");
    let records = store
        .reference_records(integration.id(), kind)
        .await
        .unwrap();
    assert!(!records.is_empty());
    assert!(
        records.iter().all(|r| r.code.as_str() != "STALE"),
        "nothing the dead worker staged was swapped in"
    );
    let _ = store.integrations().await.unwrap();
    drop((host, store));
    guard.drop_schema().await;
}
