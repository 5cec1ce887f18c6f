//! Several hosts, one shared store (issue 20): four `crm2sage` worker processes, each with its
//! own host id (`CRM2SAGE_HOST_ID`), run the same 400-row `promote --batch` file against one
//! simulator and one shared PostgreSQL database (a schema of its own, created and dropped here).
//! One worker is SIGKILLed mid-run. Then a fifth host's `recover`:
//! - right after the kill leaves the dead worker's in-flight promotions alone — on another host
//!   a process id means nothing, so only the lease's expiry decides, and it has not passed;
//! - once their leases have expired, settles every one of them (adopted or resumed).
//!
//! In the end every account is promoted exactly once (one `promoted` promotion, one binding,
//! nothing left `creating`, read through the store's ports) and the simulator holds exactly one
//! customer per account (its own listing, by the CRM id each customer carries).
//!
//! The workers see each other's rows as in progress or already promoted; only the end state is
//! asserted, not per-row outcomes. The lease is short (`CRM2SAGE_LEASE_SECS`) so the test
//! waits seconds, not the derived 420 s.
//!
//! The server: `CRM2SAGE_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).
//! An unreachable server fails the test, unless `CRM2SAGE_SKIP_POSTGRES=1` is set on purpose
//! (then it says it was skipped). Figures are printed with `--nocapture`.
#![allow(clippy::unwrap_used, clippy::print_stderr)] // tests

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm2sage_domain::ports::{AccountFilter, Store};
use crm2sage_domain::{PromotionId, PromotionState};
use crm2sage_sage_simulator::{Faults, Sage300Config};
use crm2sage_store_postgres::{PgSettings, PostgresStore};
use serde_json::Value;
use support::{CRM_ID_FIELD, Env, Run, created_customers, write};

/// Worker processes sharing the database.
const WORKERS: usize = 4;
/// Rows of the batch every worker runs.
const ROWS: usize = 400;
/// Each worker's `--concurrency`.
const CONCURRENCY: &str = "4";
/// The promotion lease every process here uses: long enough for a recover right after the kill
/// to run well inside it, short enough to wait out.
const LEASE_SECS: u64 = 8;
/// The host id of the process that recovers.
const RECOVERER: &str = "host-recover";

/// The shared database: a schema of its own in the test server, dropped when this is.
struct SharedDb {
    /// The server's URL (no schema).
    server: String,
    /// What every process gets as `CRM2SAGE_DB`: the server's URL with this schema first in the
    /// `search_path`.
    url: String,
    schema: String,
}

impl SharedDb {
    /// A fresh schema, or `None` when the server is unreachable and the skip was asked for.
    async fn create() -> Option<SharedDb> {
        let server = std::env::var("CRM2SAGE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let client = match connect(&server).await {
            Ok(client) => client,
            Err(e) => {
                if std::env::var("CRM2SAGE_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
                    eprintln!(
                        "multi_host: SKIPPED ON PURPOSE (CRM2SAGE_SKIP_POSTGRES=1): the \
                         PostgreSQL server at CRM2SAGE_TEST_POSTGRES is unreachable: {e}"
                    );
                    return None;
                }
                panic!(
                    "the PostgreSQL server for the tests is unreachable ({e}); start it, point \
                     CRM2SAGE_TEST_POSTGRES at one, or set CRM2SAGE_SKIP_POSTGRES=1 to skip \
                     these tests on purpose"
                );
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!("multi_host_{}_{nanos}", std::process::id());
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options=-csearch_path%3D{schema}");
        Some(SharedDb {
            server,
            url,
            schema,
        })
    }

    /// The store every process writes, opened here to read it through the ports.
    async fn store(&self) -> Arc<dyn Store> {
        let mut settings = PgSettings::default().with_schema(self.schema.clone());
        settings.max_connections = 2;
        Arc::new(
            PostgresStore::connect(&self.server, settings)
                .await
                .unwrap(),
        )
    }
}

impl Drop for SharedDb {
    fn drop(&mut self) {
        // Dropped on a runtime's thread, so the drop runs on a thread of its own.
        let (server, schema) = (self.server.clone(), self.schema.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let client = connect(&server).await.ok()?;
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("multi_host: could not drop schema {}", self.schema);
        }
    }
}

/// A client to `url`, its connection driven on a task of the current runtime.
async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// `crm2sage` against the shared database as host `host`, with the short lease.
fn command(env: &Env, db: &SharedDb, host: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm2sage"));
    cmd.args(args)
        .env("CRM2SAGE_DB", &db.url)
        .env("CRM2SAGE_HOST_ID", host)
        .env("CRM2SAGE_LEASE_SECS", LEASE_SECS.to_string())
        .env("S300_PASSWORD", env.sim.password())
        .env("NO_COLOR", "1")
        .env_remove("CRM2SAGE_CRASH_AT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn run(env: &Env, db: &SharedDb, host: &str, args: &[&str]) -> Run {
    let output = command(env, db, host, args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `crm2sage --json ARGS` as the set-up host; expects exit 0.
fn ok(env: &Env, db: &SharedDb, args: &[&str]) -> Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let run = run(env, db, "host-setup", &full);
    assert_eq!(
        run.code, 0,
        "crm2sage {args:?} failed:\n{}\n{}",
        run.stdout, run.stderr
    );
    run.json()
}

/// `crm2sage --json recover` from another host: the exit code and the document.
fn recover(env: &Env, db: &SharedDb) -> (i32, Value) {
    let run = run(env, db, RECOVERER, &["--json", "recover"]);
    (run.code, run.json())
}

/// The integration, its reference data, `ROWS` accounts `M000…` and the batch file promoting
/// each as customer `H000…`. Returns account id → its customer number, and the file.
fn set_up(env: &Env, db: &SharedDb) -> (BTreeMap<String, String>, String) {
    ok(
        env,
        db,
        &[
            "integration",
            "add",
            "s300",
            "--kind",
            "sage300",
            "--url",
            &env.url(),
            "--company",
            &env.company(),
            "--user",
            &env.user(),
            "--password-env",
            "S300_PASSWORD",
            "--crm-id-field",
            CRM_ID_FIELD,
            "--default",
        ],
    );
    ok(env, db, &["sync"]);
    let mut accounts = String::from("reference,name,line1,city,country\n");
    let mut batch = String::from("account_ref,customer_no,category,tax_group\n");
    for i in 0..ROWS {
        writeln!(accounts, "M{i:03},Account M{i},{i} Main St,Town,US").unwrap();
        writeln!(batch, "M{i:03},H{i:03},RTL,CALIF").unwrap();
    }
    let file = write(env, "accounts.csv", &accounts);
    assert_eq!(ok(env, db, &["account", "import", &file])["imported"], ROWS);
    let expected = ok(env, db, &["account", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| {
            let reference = a["reference"].as_str()?.strip_prefix('M')?;
            Some((
                a["id"].as_str().unwrap().to_owned(),
                format!("H{reference}"),
            ))
        })
        .collect::<BTreeMap<_, _>>();
    assert_eq!(expected.len(), ROWS);
    (expected, write(env, "batch.csv", &batch))
}

/// A worker process whose output is read on a thread of its own from the start (a batch's
/// document is larger than a pipe holds).
struct Worker {
    host: String,
    pid: u32,
    done: std::sync::mpsc::Receiver<Run>,
}

impl Worker {
    fn spawn(mut cmd: Command, host: &str) -> Worker {
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        let (tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(support::finish(child)));
        Worker {
            host: host.to_owned(),
            pid,
            done,
        }
    }

    /// Waits for it to end by itself (at most `limit`; SIGKILLed then).
    fn wait(self, limit: Duration) -> Run {
        match self.done.recv_timeout(limit) {
            Ok(run) => run,
            Err(_) => {
                let _ = Command::new("kill")
                    .args(["-9", &self.pid.to_string()])
                    .status();
                let run = self.done.recv().unwrap();
                panic!(
                    "{} did not end within {limit:?}:\n{}",
                    self.host, run.stderr
                );
            }
        }
    }
}

/// The in-flight promotions of the process `pid`, with when each lease lapses.
async fn in_flight_of(store: &dyn Store, pid: u32) -> BTreeMap<PromotionId, jiff::Timestamp> {
    store
        .in_flight()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|p| {
            let lease = p.lease?;
            (lease.holder.pid == pid).then_some((p.id, lease.expires_at))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_hosts_one_killed_recover_waits_for_the_lease_then_each_account_is_promoted_once() {
    let started = Instant::now();
    let Some(db) = SharedDb::create().await else {
        return;
    };
    let env = Env::start(Sage300Config {
        page_size: 100,
        faults: Faults {
            latency: Duration::from_millis(20),
            ..Faults::default()
        },
        ..Sage300Config::default()
    })
    .await;
    let (expected, file) = set_up(&env, &db);
    let store = db.store().await;
    let before: BTreeSet<String> = env
        .sim
        .customers()
        .iter()
        .filter_map(|c| c["CustomerNumber"].as_str().map(str::to_owned))
        .collect();
    let set_up_in = started.elapsed();

    // Four hosts run the same file at once.
    let batch = [
        "--json",
        "promote",
        "--batch",
        file.as_str(),
        "--concurrency",
        CONCURRENCY,
    ];
    let mut workers: Vec<Worker> = (1..=WORKERS)
        .map(|w| {
            let host = format!("host-{w}");
            Worker::spawn(command(&env, &db, &host, &batch), &host)
        })
        .collect();

    // The last one is SIGKILLed mid-run: once a quarter of the customers exist, at a moment it
    // has promotions in flight (each lasts two ERP calls, far longer than this check and the
    // kill).
    let victim = workers.pop().unwrap();
    let (victim_host, victim_pid) = (victim.host.clone(), victim.pid);
    let waiting = Instant::now();
    while created_customers(&env, &before).len() < ROWS / 4
        || in_flight_of(store.as_ref(), victim_pid).await.is_empty()
    {
        assert!(
            waiting.elapsed() < Duration::from_secs(40),
            "the workers made no progress: {} customers",
            created_customers(&env, &before).len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // From here every answer is held 2 s, so what the victim has in flight stays in flight
    // until the kill lands: without the hold, its last rows could settle between the check
    // above and the kill (a row lasts two ERP calls of 20 ms), leaving nothing to recover.
    let held = Faults {
        latency: Duration::from_millis(20),
        ..Faults::default()
    };
    env.sim.set_faults(Faults {
        slow_response: Some(Duration::from_secs(2)),
        ..held.clone()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    while in_flight_of(store.as_ref(), victim_pid).await.is_empty() {
        assert!(
            waiting.elapsed() < Duration::from_secs(40),
            "{victim_host} has nothing in flight"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed = Command::new("kill")
        .args(["-9", &victim_pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success(), "{victim_host} was running when killed");
    let run = victim.done.recv().unwrap();
    assert_eq!(
        run.code, -1,
        "{victim_host} ended by the signal: {}",
        run.stderr
    );
    env.sim.set_faults(held);
    let created_at_kill = created_customers(&env, &before).len();

    // What it held when it died: leases of its host id, unexpired.
    let victims = in_flight_of(store.as_ref(), victim_pid).await;
    assert!(
        !victims.is_empty(),
        "the kill left promotions of {victim_host} in flight"
    );
    for promotion in store.in_flight().await.unwrap() {
        if let Some(lease) = promotion.lease.filter(|l| l.holder.pid == victim_pid) {
            assert_eq!(
                lease.holder.host, victim_host,
                "the lease carries the host id"
            );
        }
    }

    // Another host's recover, before the leases expire: the dead worker's promotions are left
    // alone (on another host only the expiry decides).
    let (code, doc) = recover(&env, &db);
    let recovered_early = jiff::Timestamp::now();
    let earliest = victims.values().min().copied().unwrap();
    assert!(
        recovered_early < earliest,
        "the machine is too slow for this test: the early recover ended after the leases \
         expired ({recovered_early} >= {earliest})"
    );
    assert!(code == 0 || code == 5, "{doc}");
    let items = doc["promotions"].as_array().unwrap();
    for id in victims.keys() {
        let item = items
            .iter()
            .find(|i| i["promotion_id"] == id.to_string())
            .unwrap_or_else(|| panic!("the early recover lists {id}: {doc}"));
        assert_eq!(item["decision"], "still_held", "{doc}");
    }
    for decision in ["adopted", "resumed", "failed", "needs_review"] {
        assert_eq!(doc["summary"][decision], 0, "nothing settled early: {doc}");
    }
    assert_eq!(
        in_flight_of(store.as_ref(), victim_pid).await.len(),
        victims.len(),
        "still in flight after the early recover"
    );

    // The other three finish the file; only the dead worker's promotions are left in flight.
    let mut exits = Vec::new();
    for worker in workers {
        let host = worker.host.clone();
        let run = worker.wait(Duration::from_secs(60));
        assert!(
            run.code == 0 || run.code == 5,
            "{host}: exit {}\n{}\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
        exits.push((host, run.code));
    }
    let left: BTreeSet<PromotionId> = store
        .in_flight()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        left,
        victims.keys().copied().collect::<BTreeSet<_>>(),
        "only the dead worker's promotions are left in flight"
    );

    // Once the leases have expired, another host's recover settles every one of them.
    let latest = victims.values().max().copied().unwrap();
    let wait_for = latest
        .duration_since(jiff::Timestamp::now())
        .unsigned_abs()
        .saturating_add(Duration::from_millis(300));
    if jiff::Timestamp::now() < latest {
        tokio::time::sleep(wait_for).await;
    }
    let (code, doc) = recover(&env, &db);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["summary"]["found"], victims.len(), "{doc}");
    for item in doc["promotions"].as_array().unwrap() {
        let decision = item["decision"].as_str().unwrap();
        assert!(
            decision == "adopted" || decision == "resumed",
            "every expired promotion settled: {doc}"
        );
    }
    let adopted = doc["summary"]["adopted"].as_u64().unwrap();
    let resumed = doc["summary"]["resumed"].as_u64().unwrap();

    // Every account promoted exactly once, in the store and in the ERP.
    assert!(store.in_flight().await.unwrap().is_empty());
    let accounts = store.accounts(AccountFilter::All).await.unwrap();
    assert_eq!(accounts.len(), ROWS);
    for account in &accounts {
        let id = account.id();
        let number = &expected[&id.to_string()];
        let promoted = store
            .promotions_of(id)
            .await
            .unwrap()
            .iter()
            .filter(|p| p.state == PromotionState::Promoted)
            .count();
        assert_eq!(promoted, 1, "account {id}: one promoted promotion");
        let bindings: Vec<String> = store
            .bindings_of(id)
            .await
            .unwrap()
            .iter()
            .map(|b| b.customer_no.as_str().to_owned())
            .collect();
        assert_eq!(
            bindings.as_slice(),
            std::slice::from_ref(number),
            "account {id}: one binding"
        );
    }
    let created = created_customers(&env, &before);
    assert_eq!(created.len(), ROWS, "one ERP customer per account");
    let mut per_account: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (number, crm_id) in created {
        let crm_id = crm_id.unwrap_or_else(|| panic!("customer {number} has no {CRM_ID_FIELD}"));
        per_account.entry(crm_id).or_default().push(number);
    }
    for (account, number) in &expected {
        assert_eq!(
            per_account.get(account).map(Vec::as_slice),
            Some(std::slice::from_ref(number)),
            "account {account}: exactly one ERP customer, {number}"
        );
    }
    let posts: Vec<_> = env
        .sim
        .request_log()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    let refused = posts.iter().filter(|r| r.status == Some(409)).count();
    eprintln!(
        "multi_host: set up in {set_up_in:?}; {victim_host} killed at {created_at_kill} customers \
         with {} in flight; early recover left them alone; after expiry {adopted} adopted, \
         {resumed} resumed; workers exited {exits:?}; {} POSTs ({refused} refused as duplicates by the \
         ERP's key), {ROWS} customers; {:?} in all",
        victims.len(),
        posts.len(),
        started.elapsed()
    );
}
