//! Issue 17 item 4: dropping the future of `promote`, a batch or `recover` at any await point
//! leaves nothing that blocks progress beyond the lease.
//!
//! The ERP is the domain's fake behind a wrapper whose every call — connect, lookup, create —
//! yields once before it reaches the fake and once after it answered, so each poll of an
//! operation's future runs it to its next ERP step. A test polls the future `k` times with a
//! no-op waker and drops it, for every `k` until the operation completes on its own: a drop
//! before the intent, after the intent, after the lookup, after the create reached the ERP but
//! before the confirm. Then the (manual) clock passes the lease, and a retry or `recover()` in
//! the same `Services` — the same live process — must settle every account: bound, and the ERP
//! holding exactly one customer per account. No real time passes.
//!
//! The last test runs a promotion on the SQLite store instead, dropped by a timeout swept over
//! growing durations: there a write runs on the store's writer thread, so one its dropped
//! caller submitted (a confirm) may still commit while the retry and recover look on.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_trait::async_trait;
use crm2sage_domain::fakes::{
    ErpFault, FakeErp, FakeProcesses, FixedSecrets, ManualClock, MemoryStore,
};
use crm2sage_domain::ports::{
    ConnectError, CreateCustomerError, Credentials, ErpConnector, ErpCustomer, ErpCustomerKey,
    ErpGateway, ErpReadError, NewErpCustomer, PageCursor, ReferencePage, Store,
};
use crm2sage_domain::services::{CancelFlag, PromoteError, RecoverDecision};
use crm2sage_domain::{
    AccountId, CustomerNo, FieldLimits, Integration, PromotionRequest, PromotionState,
    ReferenceKind, Services,
};
use crm2sage_tests::{sage300_input, valid_account};

/// The lease these services hold promotions for (fixed, as an embedder may set it).
const LEASE: Duration = Duration::from_secs(45);
/// Longer than the lease.
const PAST_THE_LEASE: Duration = Duration::from_secs(46);

/// The demo ERP's own customer (`1200`).
const DEMO_CUSTOMERS: usize = 1;

/// Pending once (waking itself), then ready: one await point a test can stop at.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn step() -> YieldOnce {
    YieldOnce(false)
}

/// The fake ERP, with a yield before and after every call.
#[derive(Debug, Clone)]
struct Stepping {
    erp: FakeErp,
}

struct SteppingGateway {
    inner: Arc<dyn ErpGateway>,
}

impl std::fmt::Debug for SteppingGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SteppingGateway").finish_non_exhaustive()
    }
}

#[async_trait]
impl ErpConnector for Stepping {
    async fn connect(
        &self,
        integration: &Integration,
        credentials: Arc<dyn Credentials>,
    ) -> Result<Arc<dyn ErpGateway>, ConnectError> {
        step().await;
        let inner = self.erp.connect(integration, credentials).await?;
        step().await;
        Ok(Arc::new(SteppingGateway { inner }))
    }
}

#[async_trait]
impl ErpGateway for SteppingGateway {
    async fn test_connection(&self) -> Result<(), ErpReadError> {
        self.inner.test_connection().await
    }

    async fn reference_page(
        &self,
        kind: ReferenceKind,
        cursor: Option<PageCursor>,
    ) -> Result<ReferencePage, ErpReadError> {
        self.inner.reference_page(kind, cursor).await
    }

    async fn find_customer(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomer>, ErpReadError> {
        step().await;
        let found = self.inner.find_customer(key).await;
        step().await;
        found
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
    ) -> Result<ErpCustomer, CreateCustomerError> {
        step().await;
        let created = self.inner.create_customer(customer).await;
        step().await;
        created
    }

    fn limits(&self) -> FieldLimits {
        self.inner.limits()
    }
    crm2sage_tests::delegate_party_calls!();
}

/// Polls `future` at most `polls` times; drops it unfinished if it did not complete.
fn poll_then_drop<F: Future>(future: F, polls: usize) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..polls {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

struct World<S: Store = MemoryStore> {
    services: Services<S, Stepping>,
    store: Arc<S>,
    erp: FakeErp,
    clock: Arc<ManualClock>,
    /// Whether the store queues writes (SQLite's writer thread), so one its dropped caller
    /// submitted may still commit later.
    queued_writes: bool,
}

async fn world() -> World {
    world_on(Arc::new(MemoryStore::new()), false).await
}

async fn world_on<S: Store>(store: Arc<S>, queued_writes: bool) -> World<S> {
    let erp = FakeErp::sage300_demo();
    let clock = Arc::new(ManualClock::default());
    let connector = Stepping { erp: erp.clone() };
    let services = Services::new(
        Arc::clone(&store),
        Arc::new(connector),
        Arc::new(FixedSecrets::default().with("S300_PASSWORD", "pw")),
        Arc::new(FakeProcesses::default()),
    )
    .with_config(crm2sage_domain::ServiceConfig::default().with_lease(LEASE))
    .with_clock(clock.clone());
    let mut input = sage300_input();
    input.make_default = true;
    services.add_integration(&input).await.unwrap();
    services.sync(None, None, &|_| {}).await.unwrap();
    World {
        services,
        store,
        erp,
        clock,
        queued_writes,
    }
}

fn request(account: AccountId, number: &str) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, number);
    r.category = Some("RTL".into());
    r.tax_group = Some("CALIF".into());
    // These suites promote many accounts made from one template (one name): not the
    // duplicate guard's business, which `duplicates.rs` tests.
    r.allow_duplicate = true;
    r
}

fn key(number: &str) -> ErpCustomerKey {
    ErpCustomerKey {
        division: None,
        customer_no: CustomerNo::parse_sage300(number).unwrap(),
    }
}

impl<S: Store> World<S> {
    async fn accounts(&self, n: usize) -> Vec<AccountId> {
        let mut ids = Vec::new();
        for i in 0..n {
            let mut input = valid_account();
            input.name = format!("Cancelco {i} Ltd");
            ids.push(self.services.create_account(&input).await.unwrap().id());
        }
        ids
    }

    /// After the lease ran out: a retry of each account's promotion, and `recover()` for those
    /// the retry says are held by a gone holder; then every account is bound once, as
    /// `number(i)`, the ERP holds exactly one customer per account and nothing is in flight.
    /// Returns the recover decisions.
    async fn settle(
        &self,
        accounts: &[AccountId],
        number: impl Fn(usize) -> String,
    ) -> Vec<String> {
        self.clock.advance(PAST_THE_LEASE);
        let mut need_recover = Vec::new();
        for (i, account) in accounts.iter().enumerate() {
            match self.services.promote(&request(*account, &number(i))).await {
                Ok(_) | Err(PromoteError::AlreadyPromoted { .. }) => {}
                Err(PromoteError::InProgress {
                    holder_alive: false,
                    ..
                }) => need_recover.push(*account),
                Err(other) => panic!("account {i}: the retry got {other:?}"),
            }
        }
        let mut report = self.services.recover().await.unwrap();
        if self.queued_writes {
            // A write the dropped future queued (its confirm) may have committed between the
            // retry's read and recover's take-over: then recover finds less to do, or finds
            // its take-over refused ("another process is settling it"). A second recover must
            // then have nothing left but to settle.
            assert!(report.items.len() <= need_recover.len(), "{report:?}");
            report.items.retain(|item| {
                !matches!(&item.decision, RecoverDecision::StillHeld(why) if why.contains("another"))
            });
            report
                .items
                .extend(self.services.recover().await.unwrap().items);
        } else {
            assert_eq!(report.items.len(), need_recover.len(), "{report:?}");
        }
        let decisions: Vec<String> = report
            .items
            .iter()
            .map(|item| item.decision.as_str().to_owned())
            .collect();
        for item in &report.items {
            assert!(
                matches!(
                    item.decision,
                    RecoverDecision::Adopted | RecoverDecision::Resumed
                ),
                "{report:?}"
            );
        }
        for (i, account) in accounts.iter().enumerate() {
            let bindings = self.store.bindings_of(*account).await.unwrap();
            assert_eq!(bindings.len(), 1, "account {i} is bound once");
            assert_eq!(bindings[0].customer_no.as_str(), number(i));
            assert!(self.erp.customer(&key(&number(i))).is_some());
            let states: Vec<PromotionState> = self
                .store
                .promotions_of(*account)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.state)
                .collect();
            assert!(
                states.contains(&PromotionState::Promoted),
                "account {i}: {states:?}"
            );
        }
        assert_eq!(
            self.erp.customers().len(),
            DEMO_CUSTOMERS + accounts.len(),
            "exactly one customer per account"
        );
        assert!(self.store.in_flight().await.unwrap().is_empty());
        decisions
    }

    async fn live_creating(&self, account: AccountId) -> bool {
        self.store
            .promotions_of(account)
            .await
            .unwrap()
            .iter()
            .any(|p| p.state == PromotionState::Creating)
    }
}

/// A promotion dropped at every await point in turn ends bound after the lease, once; while the
/// lease runs, a retry is told the holder is at work and recover leaves it alone.
#[tokio::test]
async fn a_promotion_dropped_at_any_await_point_is_settled_once_after_its_lease() {
    let mut completed_at = None;
    let mut saw = (false, false); // (dropped after the intent, dropped with the customer created)
    for polls in 0..64 {
        let w = world().await;
        let accounts = w.accounts(1).await;
        let a = accounts[0];
        if let Some(result) = poll_then_drop(w.services.promote(&request(a, "DROP1")), polls) {
            result.unwrap();
            completed_at = Some(polls);
            break;
        }
        if w.live_creating(a).await {
            saw.0 = true;
            saw.1 |= w.erp.customer(&key("DROP1")).is_some();
            // The lease still runs: the request the dropped future sent may be in flight.
            let retry = w.services.promote(&request(a, "DROP1")).await.unwrap_err();
            assert!(
                matches!(
                    retry,
                    PromoteError::InProgress {
                        holder_alive: true,
                        ..
                    }
                ),
                "{polls} polls: {retry:?}"
            );
            let report = w.services.recover().await.unwrap();
            assert_eq!(report.count("still_held"), 1, "{polls} polls: {report:?}");
        }
        w.settle(&accounts, |_| "DROP1".into()).await;
        assert_eq!(w.erp.create_attempts(), 1, "{polls} polls: one create");
    }
    assert!(completed_at.is_some(), "the promotion never completed");
    assert!(saw.0, "some drop came after the intent");
    assert!(saw.1, "some drop came after the create reached the ERP");
}

/// The create reached the ERP and the future was dropped before the confirm: the customer
/// exists, recover adopts it and never creates a second.
#[tokio::test]
async fn dropped_after_the_create_reached_the_erp_is_adopted_not_created_again() {
    let mut found = false;
    for polls in 0..64 {
        let w = world().await;
        let accounts = w.accounts(1).await;
        if poll_then_drop(w.services.promote(&request(accounts[0], "ADOPT1")), polls).is_some() {
            break;
        }
        if w.erp.customer(&key("ADOPT1")).is_none() || !w.live_creating(accounts[0]).await {
            continue;
        }
        found = true;
        let decisions = w.settle(&accounts, |_| "ADOPT1".into()).await;
        assert_eq!(decisions, ["adopted"]);
        assert_eq!(w.erp.create_attempts(), 1, "never created again");
    }
    assert!(
        found,
        "no poll count stopped between the create and the confirm"
    );
}

/// A batch of several accounts dropped at every await point in turn: after the lease, retries
/// and recover bind every account once.
#[tokio::test]
async fn a_batch_dropped_midway_is_settled_once_per_account() {
    let number = |i: usize| format!("B{i}");
    let mut completed = false;
    for polls in 0..200 {
        let w = world().await;
        let accounts = w.accounts(3).await;
        let requests: Vec<_> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| request(*a, &number(i)))
            .collect();
        let cancel = CancelFlag::new();
        let mut seen = 0_u64;
        let mut count = |_: crm2sage_domain::services::BatchEvent<'_>| seen += 1;
        let batch =
            w.services
                .promote_batch(futures_util::stream::iter(requests), 2, &cancel, &mut count);
        let ended = poll_then_drop(batch, polls);
        if let Some(summary) = ended {
            assert_eq!(summary.total, 3);
            assert_eq!(seen, 3, "every row's outcome was delivered");
            completed = true;
            break;
        }
        w.settle(&accounts, number).await;
    }
    assert!(completed, "the batch never completed");
}

/// Recover itself dropped at every await point while settling several stuck promotions (one
/// whose create committed, one whose create never arrived): a later recover settles each once.
#[tokio::test]
async fn a_recover_dropped_midway_is_settled_by_a_later_recover() {
    let number = |i: usize| format!("R{i}");
    let mut completed = false;
    for polls in 0..64 {
        let w = world().await;
        let accounts = w.accounts(2).await;
        w.erp.inject(ErpFault::CommitThenDrop);
        w.erp.inject(ErpFault::TimeoutBeforeCommit);
        for (i, a) in accounts.iter().enumerate() {
            let err = w
                .services
                .promote(&request(*a, &number(i)))
                .await
                .unwrap_err();
            assert!(
                matches!(err, PromoteError::OutcomeUnknown { .. }),
                "{err:?}"
            );
        }
        if let Some(report) = poll_then_drop(w.services.recover(), polls) {
            assert_eq!(report.unwrap().unsettled_classes().count(), 0);
            completed = true;
            break;
        }
        w.settle(&accounts, number).await;
    }
    assert!(completed, "recover never completed");
}

/// The same on the SQLite store, where a write runs on the store's writer thread and may
/// commit after its caller was dropped: a timeout swept over growing durations drops the
/// promotion wherever it happens to be (the point is not chosen, so nothing is asserted about
/// it); every run settles once after the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_promotion_dropped_by_a_timeout_anywhere_settles_once() {
    let mut budget = Duration::from_micros(20);
    let mut completed = false;
    for _ in 0..60 {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            crm2sage_store_sqlite::SqliteStore::open(&dir.path().join("crm2sage.db")).unwrap(),
        );
        let w = world_on(store, true).await;
        let accounts = w.accounts(1).await;
        let first = request(accounts[0], "SQL1");
        let promote = w.services.promote(&first);
        if let Ok(result) = tokio::time::timeout(budget, promote).await {
            result.unwrap();
            completed = true;
            break;
        }
        w.settle(&accounts, |_| "SQL1".into()).await;
        assert_eq!(w.erp.create_attempts(), 1, "after {budget:?}: one create");
        budget = budget.mul_f64(1.3);
    }
    assert!(completed, "the promotion never completed within {budget:?}");
}
