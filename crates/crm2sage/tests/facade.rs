//! The facade's own guarantees: what it is (cheap, shareable), what its builder refuses, and
//! that a dropped promotion future never stops the promotion.

use std::time::Duration;

use crm2sage::services::{CancelFlag, PromoteError, RowOutcome, SyncProgress};
use crm2sage::simulator::{Faults, RunningSage300, Sage300Config, start_sage300};
use crm2sage::{
    AccountId, AddressInput, BuildError, ClientSettings, Crm2Sage, ErrorClass, ErrorCode,
    MemorySecrets, NewAccount, NewIntegration, PromotionRequest, PromotionState, SecretString,
    SyncOutcome,
};

/// The simulator's latency while a promotion is dropped: far above the few milliseconds the
/// caller waits, so the drop always lands while the promotion talks to the ERP.
const SLOW: Duration = Duration::from_millis(300);

/// How long to keep polling for an outcome before the test gives up (not a timing
/// assertion: a guard so a broken guarantee fails instead of hanging).
const GIVE_UP_AFTER: usize = 1_500;
const POLL: Duration = Duration::from_millis(20);

struct World {
    sim: RunningSage300,
    crm2sage: Crm2Sage,
    _dir: tempfile::TempDir,
}

/// A fresh simulator and database, an integration `erp` (the default) and a sync.
async fn world(client: Option<crm2sage::reqwest::Client>) -> World {
    let sim = start_sage300(Sage300Config::default())
        .await
        .expect("the simulator starts");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut builder = Crm2Sage::builder()
        .sqlite(dir.path().join("crm2sage.db"))
        .secrets(MemorySecrets::new().with("SAGE_PASSWORD", SecretString::from(sim.password())))
        .http(ClientSettings::for_tests())
        .lease(Duration::from_secs(30));
    if let Some(client) = client {
        builder = builder.reqwest_client(client);
    }
    let crm2sage = builder.build().await.expect("crm2sage builds");
    crm2sage
        .add_integration(&{
            let mut v_newintegration = NewIntegration::default();
            v_newintegration.name = "erp".into();
            v_newintegration.kind = "sage300".into();
            v_newintegration.url = sim.base_url();
            v_newintegration.company = sim.company().into();
            v_newintegration.user = sim.user().into();
            v_newintegration.password_env = "SAGE_PASSWORD".into();
            v_newintegration.make_default = true;
            v_newintegration
        })
        .await
        .expect("the integration is added");
    crm2sage
        .sync(None, None, &|_| {})
        .await
        .expect("the sync runs");
    World {
        sim,
        crm2sage,
        _dir: dir,
    }
}

async fn account(crm2sage: &Crm2Sage, name: &str) -> AccountId {
    crm2sage
        .create_account(&{
            let mut v_newaccount = NewAccount::default();
            v_newaccount.name = name.into();
            v_newaccount.billing = {
                let mut v_addressinput = AddressInput::default();
                v_addressinput.line1 = "100 Harbour Way".into();
                v_addressinput.city = "Vancouver".into();
                v_addressinput.state = Some("BC".into());
                v_addressinput.country = "CA".into();
                v_addressinput
            };
            v_newaccount.currency = Some("CAD".into());
            v_newaccount
        })
        .await
        .expect("the account is stored")
        .id()
}

fn request(account: AccountId, customer_no: &str) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, customer_no);
    r.category = Some("RTL".into());
    r.tax_group = Some("CALIF".into());
    r
}

/// Polls until `account` has a binding; whether it got one.
async fn bound(crm2sage: &Crm2Sage, account: AccountId) -> bool {
    for _ in 0..GIVE_UP_AFTER {
        let view = crm2sage.account(account).await.expect("the account reads");
        if !view.bindings.is_empty() {
            return true;
        }
        tokio::time::sleep(POLL).await;
    }
    false
}

#[test]
fn the_facade_is_cheap_to_share_across_tasks() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Crm2Sage>();
    // One `Arc` inside: a clone copies a pointer.
    assert_eq!(
        std::mem::size_of::<Crm2Sage>(),
        std::mem::size_of::<usize>()
    );
}

#[tokio::test]
async fn the_builder_refuses_a_missing_store_and_a_zero_lease() {
    let no_store = Crm2Sage::builder().build().await.unwrap_err();
    assert_eq!(no_store, BuildError::NoStore);
    assert_eq!(
        (no_store.code(), no_store.class()),
        ("invalid_input", ErrorClass::Invalid)
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let zero = Crm2Sage::builder()
        .sqlite(dir.path().join("db"))
        .lease(Duration::ZERO)
        .build()
        .await
        .unwrap_err();
    assert_eq!(zero, BuildError::ZeroLease);
    let not_a_db = dir.path().join("not-a-db");
    std::fs::write(&not_a_db, b"this is not a SQLite file, not at all, no").expect("written");
    let bad = Crm2Sage::builder()
        .sqlite(&not_a_db)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(bad, BuildError::Store { .. }), "{bad:?}");
    assert_eq!(bad.class(), ErrorClass::Internal);
    assert!(bad.code().starts_with("database"), "{}", bad.code());
    assert!(bad.to_string().contains("not-a-db"), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_built_reqwest_client_is_used() {
    // The caller's client gives up after 50 ms; crm2sage's own (test settings) would wait 2 s.
    let client = crm2sage::reqwest::Client::builder()
        .redirect(crm2sage::reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(50))
        .build()
        .expect("a client");
    let w = world(Some(client)).await;
    w.crm2sage
        .test_integration("erp")
        .await
        .expect("the ERP answers at once");
    w.sim.set_faults(Faults {
        latency: SLOW,
        ..Faults::default()
    });
    let slow = w.crm2sage.test_integration("erp").await;
    assert!(
        slow.is_err(),
        "the caller's 50 ms timeout applies: {slow:?}"
    );
    w.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_promote_future_still_promotes_exactly_once() {
    let w = world(None).await;
    let id = account(&w.crm2sage, "Northwind Traders").await;
    w.sim.set_faults(Faults {
        latency: SLOW,
        ..Faults::default()
    });
    let posts_before = w.sim.count_posts();
    let req = request(id, "NW1001");

    // The caller stops waiting after a few milliseconds (a disconnect, a timeout layer).
    let dropped = tokio::time::timeout(Duration::from_millis(5), w.crm2sage.promote(&req)).await;
    assert!(
        dropped.is_err(),
        "the promotion cannot be done yet: {dropped:?}"
    );

    // While its task runs, a retry sees it in progress.
    let mut creating = false;
    for _ in 0..GIVE_UP_AFTER {
        let view = w.crm2sage.account(id).await.expect("the account reads");
        if view
            .promotions
            .iter()
            .any(|p| p.state == PromotionState::Creating)
        {
            creating = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(creating, "the dropped promotion recorded its intent");
    let retry = w.crm2sage.promote(&req).await;
    assert!(
        matches!(retry, Err(PromoteError::InProgress { .. })),
        "{retry:?}"
    );

    // It runs to its end: the account is bound to one new ERP customer.
    assert!(
        bound(&w.crm2sage, id).await,
        "the dropped promotion finished"
    );
    assert_eq!(w.sim.count_posts() - posts_before, 1);
    assert!(w.sim.customer("NW1001").is_some());
    w.sim.set_faults(Faults::default());
    let again = w.crm2sage.promote(&req).await;
    assert!(
        matches!(again, Err(PromoteError::AlreadyPromoted { .. })),
        "{again:?}"
    );
    assert_eq!(w.sim.count_posts() - posts_before, 1);
    // Every attempt is in the log: the dropped one, the in-progress retry, the last one.
    let log = w.crm2sage.log(Some(id)).await.expect("the log reads");
    assert!(log.len() >= 3, "{log:?}");
    w.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raised_flag_stops_a_sync() {
    let w = world(None).await;
    w.sim.set_faults(Faults {
        latency: SLOW,
        ..Faults::default()
    });
    let cancel = CancelFlag::new();
    cancel.cancel();
    let stopped = w
        .crm2sage
        .sync_cancellable(None, None, &|_| {}, &cancel)
        .await
        .expect("no error");
    assert!(stopped.is_none(), "{stopped:?}");
    w.sim.set_faults(Faults::default());
    let ran = w
        .crm2sage
        .sync_cancellable(None, None, &|_| {}, &CancelFlag::new())
        .await;
    assert!(matches!(ran, Ok(Some(_))), "{ran:?}");
    w.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_raised_mid_sync_closes_the_run_it_stopped_in() {
    let w = world(None).await;
    w.sim.set_faults(Faults {
        latency: SLOW,
        ..Faults::default()
    });
    // Raised as the first page is staged: the sync is then inside a kind (this one's swap, or
    // the next one's page read), not before its first run.
    let cancel = CancelFlag::new();
    let raise = cancel.clone();
    let stopped = w
        .crm2sage
        .sync_cancellable(
            None,
            None,
            &move |event| {
                if matches!(event, SyncProgress::Page { .. }) {
                    raise.cancel();
                }
            },
            &cancel,
        )
        .await
        .expect("no error");
    assert!(stopped.is_none(), "{stopped:?}");
    // The run of the kind it stopped in is closed, not left `running` for a later take-over.
    let integration = w
        .crm2sage
        .integration("erp")
        .await
        .expect("the integration");
    let runs = w
        .crm2sage
        .store()
        .sync_runs(integration.id())
        .await
        .expect("the runs");
    assert!(
        runs.iter().all(|r| r.outcome != SyncOutcome::Running),
        "{runs:?}"
    );
    w.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_batch_finishes_the_rows_it_started_and_starts_no_other() {
    let w = world(None).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(account(&w.crm2sage, &format!("Batch Account {n}")).await);
    }
    w.sim.set_faults(Faults {
        latency: SLOW,
        ..Faults::default()
    });
    let posts_before = w.sim.count_posts();
    let requests: Vec<PromotionRequest> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| request(*id, &format!("B{n:04}")))
        .collect();
    let cancel = CancelFlag::new();
    // Two rows under way at once; the batch future is dropped while they talk to the ERP.
    let mut ignore = |_: crm2sage::services::BatchEvent<'_>| {};
    let batch = w.crm2sage.promote_batch(
        futures_util::stream::iter(requests),
        2,
        &cancel,
        &mut ignore,
    );
    let dropped = tokio::time::timeout(Duration::from_millis(5), batch).await;
    assert!(dropped.is_err(), "the batch cannot be done yet");

    // The two started rows end bound; the two never started stay unpromoted.
    assert!(bound(&w.crm2sage, ids[0]).await);
    assert!(bound(&w.crm2sage, ids[1]).await);
    for id in &ids[2..] {
        let view = w.crm2sage.account(*id).await.expect("the account reads");
        assert!(view.promotions.is_empty(), "a row not started never starts");
    }
    assert_eq!(w.sim.count_posts() - posts_before, 2);

    // A batch run in full reports every row.
    w.sim.set_faults(Faults::default());
    let requests: Vec<PromotionRequest> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| request(*id, &format!("B{n:04}")))
        .collect();
    let mut rows = Vec::new();
    w.crm2sage
        .promote_batch(futures_util::stream::iter(requests), 2, &cancel, &mut |e| {
            rows.push(e.row.clone())
        })
        .await;
    // The flag was never raised: every row ran.
    let promoted = rows
        .iter()
        .filter(|r| matches!(r.outcome, RowOutcome::Promoted(_)))
        .count();
    // A second run of the same rows: the promoted ones are already promoted, with no ERP work.
    let already = rows
        .iter()
        .filter(|r| matches!(r.outcome, RowOutcome::AlreadyPromoted(_)))
        .count();
    assert_eq!((promoted, already), (2, 2), "{rows:?}");
    assert_eq!(w.sim.count_posts() - posts_before, 4);
    w.sim.shutdown().await;
}
