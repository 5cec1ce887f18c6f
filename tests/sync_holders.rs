//! A killed, dropped or interrupted sync never blocks the next one (issue 18 item 11, issue 17
//! item 4): a sync run records its holder, and the next sync judges it — a dropped sync of this
//! process or a dead process on this host is taken over at once, any other holder (a live
//! process on this host, a process elsewhere) once its hold (the sync lease) has expired.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_trait::async_trait;
use crm2sage_domain::fakes::{FakeErp, FakeProcesses, FixedSecrets, ManualClock, MemoryStore};
use crm2sage_domain::ports::{
    ConnectError, Credentials, ErpConnector, ErpCustomer, ErpCustomerKey, ErpGateway, ErpReadError,
    NewErpCustomer, PageCursor, ReferencePage, ReferenceStore,
};
use crm2sage_domain::services::{KindReport, SyncProgress};
use crm2sage_domain::{
    ErrorClass, FieldLimits, Integration, IntegrationId, ReferenceKind, Services, SyncOutcome,
    SyncRun,
};
use crm2sage_tests::sage300_input;

fn no_progress(_: SyncProgress) {}

/// The fake ERP, whose reference pages after the first never arrive while `park` is raised,
/// nor the page read by call number `park_call` (1-based; 0: none).
#[derive(Clone)]
struct ParkingErp {
    inner: FakeErp,
    park: Arc<AtomicBool>,
    park_call: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

struct ParkingGateway {
    inner: Arc<dyn ErpGateway>,
    park: Arc<AtomicBool>,
    park_call: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl ErpConnector for ParkingErp {
    async fn connect(
        &self,
        integration: &Integration,
        credentials: Arc<dyn Credentials>,
    ) -> Result<Arc<dyn ErpGateway>, ConnectError> {
        let inner = self.inner.connect(integration, credentials).await?;
        Ok(Arc::new(ParkingGateway {
            inner,
            park: Arc::clone(&self.park),
            park_call: Arc::clone(&self.park_call),
            calls: Arc::clone(&self.calls),
        }))
    }
}

#[async_trait]
impl ErpGateway for ParkingGateway {
    async fn test_connection(&self) -> Result<(), ErpReadError> {
        self.inner.test_connection().await
    }
    async fn reference_page(
        &self,
        kind: ReferenceKind,
        cursor: Option<PageCursor>,
    ) -> Result<ReferencePage, ErpReadError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if (cursor.is_some() && self.park.load(Ordering::SeqCst))
            || call == self.park_call.load(Ordering::SeqCst)
        {
            std::future::pending::<()>().await;
        }
        self.inner.reference_page(kind, cursor).await
    }
    async fn find_customer(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomer>, ErpReadError> {
        self.inner.find_customer(key).await
    }
    async fn credit_figures(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<crm2sage_domain::CreditFigures>, ErpReadError> {
        self.inner.credit_figures(key).await
    }

    async fn open_documents_page(
        &self,
        key: &ErpCustomerKey,
        cursor: Option<PageCursor>,
    ) -> Result<crm2sage_domain::ports::DocumentPage, ErpReadError> {
        self.inner.open_documents_page(key, cursor).await
    }

    async fn open_orders_page(
        &self,
        key: &ErpCustomerKey,
        cursor: Option<PageCursor>,
    ) -> Result<crm2sage_domain::ports::OrdersPage, ErpReadError> {
        self.inner.open_orders_page(key, cursor).await
    }

    async fn create_customer(
        &self,
        customer: &NewErpCustomer,
    ) -> Result<ErpCustomer, crm2sage_domain::ports::CreateCustomerError> {
        self.inner.create_customer(customer).await
    }
    fn limits(&self) -> FieldLimits {
        self.inner.limits()
    }
    crm2sage_tests::delegate_party_calls!();
}

type Parked = Services<MemoryStore, ParkingErp>;

/// One shared store, ERP and clock; each "process" is a `Services` value of its own.
struct World {
    store: Arc<MemoryStore>,
    erp: ParkingErp,
    clock: Arc<ManualClock>,
}

const TERMS: &[ReferenceKind] = &[ReferenceKind::Terms];

impl World {
    fn new() -> Self {
        Self {
            store: Arc::new(MemoryStore::new()),
            erp: ParkingErp {
                inner: FakeErp::sage300_demo().with_page_size(1),
                park: Arc::new(AtomicBool::new(false)),
                park_call: Arc::new(AtomicUsize::new(0)),
                calls: Arc::new(AtomicUsize::new(0)),
            },
            clock: Arc::new(ManualClock::default()),
        }
    }

    /// A process `pid` on `host`; its liveness check is returned for killing others.
    fn process(&self, host: &str, pid: u32) -> (Parked, Arc<FakeProcesses>) {
        let processes = Arc::new(FakeProcesses::new(host, pid, 1));
        let services = Services::new(
            Arc::clone(&self.store),
            Arc::new(self.erp.clone()),
            Arc::new(FixedSecrets::default().with("S300_PASSWORD", "pw")),
            Arc::clone(&processes) as Arc<_>,
        )
        .with_clock(Arc::clone(&self.clock) as Arc<_>);
        (services, processes)
    }

    fn park(&self, park: bool) {
        self.erp.park.store(park, Ordering::SeqCst);
    }

    async fn integration(&self, services: &Parked) -> IntegrationId {
        let mut input = sage300_input();
        input.make_default = true;
        services.add_integration(&input).await.unwrap().id()
    }

    /// Every record of each of `kinds`, by kind.
    async fn records(
        &self,
        integration: IntegrationId,
        kinds: &[ReferenceKind],
    ) -> Vec<Vec<(String, String, bool)>> {
        let mut all = Vec::new();
        for kind in kinds {
            let records = self.store.reference_records(integration, *kind).await;
            all.push(
                records
                    .unwrap()
                    .into_iter()
                    .map(|r| (r.code.as_str().to_owned(), r.description, r.active))
                    .collect(),
            );
        }
        all
    }

    async fn runs(&self, integration: IntegrationId) -> Vec<SyncRun> {
        self.store.sync_runs(integration).await.unwrap()
    }
}

/// Polls `fut` once: the fakes answer at once, so one poll runs a sync up to the parked page.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Starts a sync of terms on `services` and drops it while page 2 is parked: page 1 staged,
/// the run left `running`.
fn start_and_drop(world: &World, services: &Parked) {
    world.park(true);
    {
        let sync = pin!(services.sync(None, Some(TERMS), &no_progress));
        assert!(poll_once(sync).is_pending(), "parked on page 2");
    }
    world.park(false);
}

async fn sync_terms(services: &Parked) -> KindReport {
    let (_, mut reports) = services
        .sync(None, Some(TERMS), &no_progress)
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

#[tokio::test]
async fn a_sync_dropped_mid_run_frees_its_kind_for_the_next_sync_at_once() {
    let world = World::new();
    let (services, _) = world.process("test-host", 1);
    let integration = world.integration(&services).await;
    start_and_drop(&world, &services);
    let runs = world.runs(integration).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, SyncOutcome::Running, "left running");

    // No time passes: the dropped sync's task is gone, so its run is closed at once.
    let report = sync_terms(&services).await;
    assert_eq!(report.outcome, SyncOutcome::Ok, "{:?}", report.error);
    assert_eq!(
        report.counts.total, 2,
        "every term, none from the dropped run twice"
    );
    let runs = world.runs(integration).await;
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].outcome, SyncOutcome::Ok);
    assert_eq!(
        runs[1].outcome,
        SyncOutcome::Failed,
        "the dropped run closed"
    );
    assert!(
        runs[1]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("dropped"),
        "{:?}",
        runs[1].error
    );
}

#[tokio::test]
async fn a_run_of_a_dead_process_on_this_host_is_taken_over_at_once_a_live_one_after_its_hold() {
    let world = World::new();
    let (killed, _) = world.process("test-host", 7);
    let (services, processes) = world.process("test-host", 8);
    let integration = world.integration(&services).await;
    start_and_drop(&world, &killed);

    // Process 7 still runs (its sync could be at work): blocked within the sync lease.
    world.clock.advance(Duration::from_secs(59));
    let report = sync_terms(&services).await;
    assert_eq!(report.outcome, SyncOutcome::Failed);
    assert_eq!(report.class, Some(ErrorClass::Conflict));
    assert!(
        report
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("already running"),
        "{:?}",
        report.error
    );

    // Process 7 died: its run is free at once.
    processes.kill(7, 1);
    let report = sync_terms(&services).await;
    assert_eq!(report.outcome, SyncOutcome::Ok, "{:?}", report.error);
    let runs = world.runs(integration).await;
    assert_eq!(runs[0].outcome, SyncOutcome::Ok);
    let abandoned = runs.iter().find(|r| r.outcome == SyncOutcome::Failed);
    assert!(
        abandoned
            .and_then(|r| r.error.as_deref())
            .is_some_and(|e| e.contains("process running it stopped")),
        "{runs:?}"
    );
    assert!(runs.iter().all(|r| r.outcome != SyncOutcome::Running));
}

#[tokio::test]
async fn a_live_process_on_this_host_that_let_its_hold_expire_is_taken_over() {
    // A service on this host that dropped a sync future keeps its process alive; a sync has no
    // ERP side effect to wait out, so its run is free once the hold its pages renew expires.
    let world = World::new();
    let (idle, _) = world.process("test-host", 7);
    let (services, _) = world.process("test-host", 8);
    let integration = world.integration(&services).await;
    start_and_drop(&world, &idle);
    world.clock.advance(Duration::from_secs(61));
    let report = sync_terms(&services).await;
    assert_eq!(report.outcome, SyncOutcome::Ok, "{:?}", report.error);
    let runs = world.runs(integration).await;
    assert!(
        runs.iter()
            .filter_map(|r| r.error.as_deref())
            .any(|e| e.contains("let its hold expire")),
        "{runs:?}"
    );
    assert!(runs.iter().all(|r| r.outcome != SyncOutcome::Running));
}

#[tokio::test]
async fn a_run_held_on_another_host_blocks_until_its_lease_expires_then_is_taken_over() {
    let world = World::new();
    let (elsewhere, _) = world.process("other-host", 7);
    let (services, _) = world.process("test-host", 8);
    let integration = world.integration(&services).await;
    start_and_drop(&world, &elsewhere);

    // Within the sync lease (60 s from its last staged page): blocked.
    world.clock.advance(Duration::from_secs(59));
    let report = sync_terms(&services).await;
    assert_eq!(report.outcome, SyncOutcome::Failed);
    assert_eq!(
        report.class,
        Some(ErrorClass::Conflict),
        "{:?}",
        report.error
    );

    // After it: taken over.
    world.clock.advance(Duration::from_secs(2));
    let report = sync_terms(&services).await;
    assert_eq!(report.outcome, SyncOutcome::Ok, "{:?}", report.error);
    let runs = world.runs(integration).await;
    assert_eq!(runs.len(), 2, "the blocked attempt began no run: {runs:?}");
    assert_eq!(runs[1].outcome, SyncOutcome::Failed);
    assert!(
        runs[1]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("expire"),
        "{:?}",
        runs[1].error
    );
}

#[tokio::test]
async fn an_interrupted_sync_closes_its_run_as_failed_and_the_next_one_runs() {
    let world = World::new();
    let (services, _) = world.process("test-host", 1);
    let integration = world.integration(&services).await;
    world.park(true);
    // Interrupted while page 2 of terms is on its way: terms is closed as failed, the kinds
    // after it are not started.
    let interrupted = services.sync_until(
        None,
        Some(&[ReferenceKind::Terms, ReferenceKind::Tax]),
        &no_progress,
        async {},
    );
    // A guard against hanging, not a speed check: without the interrupt it parks forever.
    let (_, reports) = tokio::time::timeout(Duration::from_secs(30), interrupted)
        .await
        .expect("the interrupt stops the sync")
        .unwrap();
    world.park(false);
    assert_eq!(reports.len(), 1, "tax never started: {reports:?}");
    let interrupted = &reports[0];
    assert_eq!(interrupted.kind, ReferenceKind::Terms);
    assert_eq!(interrupted.outcome, SyncOutcome::Failed);
    assert!(
        interrupted
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("interrupted"),
        "{:?}",
        interrupted.error
    );
    let runs = world.runs(integration).await;
    assert!(
        runs.iter().all(|r| r.outcome != SyncOutcome::Running),
        "closed, not left running: {runs:?}"
    );
    assert!(
        world
            .store
            .reference_records(integration, ReferenceKind::Terms)
            .await
            .unwrap()
            .is_empty(),
        "nothing of the interrupted run swapped in"
    );
    let report = sync_terms(&services).await;
    assert_eq!(report.outcome, SyncOutcome::Ok, "{:?}", report.error);
}

#[tokio::test]
async fn a_sync_dropped_at_any_page_read_leaves_nothing_that_blocks_the_next_one() {
    // How many page reads a whole sync makes, and what it ends with.
    let world = World::new();
    let (services, _) = world.process("test-host", 1);
    let integration = world.integration(&services).await;
    let (_, reports) = services.sync(None, None, &no_progress).await.unwrap();
    let reads = world.erp.calls.load(Ordering::SeqCst);
    let kinds: Vec<ReferenceKind> = reports.iter().map(|r| r.kind).collect();
    assert!(reads > 5, "several pages per kind: {reads}");
    let expected = world.records(integration, &kinds).await;

    for park_at in 1..=reads {
        let world = World::new();
        let (services, _) = world.process("test-host", 1);
        let integration = world.integration(&services).await;
        world.erp.park_call.store(park_at, Ordering::SeqCst);
        {
            let sync = pin!(services.sync(None, None, &no_progress));
            assert!(poll_once(sync).is_pending(), "parked at read {park_at}");
        }
        world.erp.park_call.store(0, Ordering::SeqCst);
        let (_, reports) = services.sync(None, None, &no_progress).await.unwrap();
        assert!(
            reports.iter().all(|r| r.outcome == SyncOutcome::Ok),
            "dropped at read {park_at}: {reports:?}"
        );
        let runs = world.runs(integration).await;
        assert!(
            runs.iter().all(|r| r.outcome != SyncOutcome::Running),
            "dropped at read {park_at}: {runs:?}"
        );
        assert_eq!(
            world.records(integration, &kinds).await,
            expected,
            "dropped at read {park_at}"
        );
    }
}
