//! Issue 10 through the binary: exactly-once promotion when the ERP drops the connection after
//! committing, when two `crm2sage` processes promote one account at once, and when the promoting
//! process is killed mid-create — each settled by `crm2sage recover` with one POST.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use crm2sage_sage_simulator::{DropAfterCommit, Faults};
use support::{Env, Run, sim_config};

const PROMOTE: [&str; 5] = ["--category", "RTL", "--tax-group", "CALIF", "--customer-no"];

fn promote_args<'a>(json: bool, account: &'a str, number: &'a str) -> Vec<&'a str> {
    let mut args = Vec::new();
    if json {
        args.push("--json");
    }
    args.extend(["promote", account]);
    args.extend(PROMOTE);
    args.push(number);
    args
}

fn faults(latency: Duration) -> Faults {
    Faults {
        latency,
        ..Faults::default()
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn error_of(run: &Run) -> serde_json::Value {
    run.json()["error"].clone()
}

/// The simulator commits the create and drops the connection: `promote` exits 6 saying the
/// outcome is unknown and that `recover` settles it; promoting again says "in progress — run
/// recover" (exit 5); `recover` adopts (exit 0); the log shows `unknown` then `adopted`; one
/// POST per account. Fault-injected promotions: 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_then_drop_exits_6_and_recover_adopts_with_one_post() {
    let env = Env::start(sim_config()).await;
    env.setup_sage300(&[]);
    let a = env.new_account("Dropco Ltd");
    let b = env.new_account("Dropco Two");
    env.sim.set_faults(Faults {
        drop_after_commit: DropAfterCommit::Always,
        ..Faults::default()
    });

    let run = env.run(&promote_args(true, &a, "drop1"));
    assert_eq!(run.code, 6, "{}\n{}", run.stdout, run.stderr);
    let error = error_of(&run);
    assert_eq!(error["kind"], "outcome_unknown");
    assert_eq!(error["exit_code"], 6);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("unknown") && message.contains("crm2sage recover"),
        "{message}"
    );
    assert!(error["details"]["promotion_id"].is_string(), "{error}");

    // For people: on stderr.
    let human = env.run(&promote_args(false, &b, "drop2"));
    assert_eq!(human.code, 6);
    assert!(
        human.stderr.contains("unknown") && human.stderr.contains("crm2sage recover"),
        "{}",
        human.stderr
    );
    assert!(env.sim.customer("DROP1").is_some() && env.sim.customer("DROP2").is_some());

    // Before recover: in progress, its process gone.
    let again = env.run(&promote_args(true, &a, "drop1"));
    assert_eq!(again.code, 5, "{}", again.stdout);
    let error = error_of(&again);
    assert_eq!(error["kind"], "in_progress");
    assert_eq!(error["details"]["holder_alive"], false);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("run `crm2sage recover`"),
        "{error}"
    );

    env.sim.set_faults(Faults::default());
    let recovered = env.ok(&["recover"]);
    let summary = &recovered["summary"];
    assert_eq!(summary["found"], 2, "{recovered}");
    assert_eq!(summary["adopted"], 2, "{recovered}");
    assert_eq!(summary["resumed"], 0);
    assert_eq!(recovered["exit_code"], 0);
    for p in recovered["promotions"].as_array().unwrap() {
        assert_eq!(p["decision"], "adopted", "{p}");
        assert_eq!(p["integration"], "s300");
    }
    assert_eq!(env.sim.count_posts(), 2, "one POST per account");

    assert_eq!(
        env.log_events(&a),
        ["intent", "unknown", "refused", "adopted"]
    );
    assert_eq!(env.log_events(&b), ["intent", "unknown", "adopted"]);
    let details = env.ok(&["erp-details", &a]);
    assert_eq!(details["customer_no"], "DROP1");
    assert_eq!(details["CustomerName"], "Dropco Ltd");
    let promoted = env.ok(&["account", "list", "--promoted"]);
    assert_eq!(promoted.as_array().unwrap().len(), 2);

    // Settled: nothing more to recover, and the account is promoted.
    assert_eq!(env.ok(&["recover"])["summary"]["found"], 0);
    let done = env.run(&promote_args(true, &a, "drop3"));
    assert_eq!(done.code, 5);
    assert_eq!(error_of(&done)["kind"], "already_promoted");
    assert_eq!(env.sim.count_posts(), 2);
}

/// `recover` with nothing in flight exits 0, in JSON and for people.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_with_nothing_in_flight_exits_0() {
    let env = Env::start(sim_config()).await;
    let json = env.ok(&["recover"]);
    assert_eq!(json["summary"]["found"], 0, "{json}");
    assert_eq!(json["exit_code"], 0);
    assert!(json["promotions"].as_array().unwrap().is_empty());
    let text = env.text(&["recover"]);
    assert!(text.contains("Nothing to recover"), "{text}");

    // Likewise once an integration exists and a promotion has finished.
    env.setup_sage300(&[]);
    let a = env.new_account("Calmco Ltd");
    env.ok(&promote_args(false, &a, "CALM1")[..]);
    assert_eq!(env.ok(&["recover"])["summary"]["found"], 0);
    assert_eq!(env.sim.count_posts(), 1);
}

/// Two `crm2sage promote` processes for one account at once (the ERP answering slowly): one
/// exits 0, the other 5 (in progress, its holder alive), and Sage gets one POST.
/// Fault-injected (latency) promotions: 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_promoting_one_account_post_once() {
    let env = Env::start(sim_config()).await;
    env.setup_sage300(&[]);
    let a = env.new_account("Pairco Ltd");
    env.sim.set_faults(faults(Duration::from_millis(400)));

    let one = env.spawn(&promote_args(true, &a, "PAIR1"));
    let two = env.spawn(&promote_args(true, &a, "PAIR2"));
    let runs = [support::finish(one), support::finish(two)];
    let mut codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        [0, 5],
        "{}\n{}\n{}\n{}",
        runs[0].stdout,
        runs[0].stderr,
        runs[1].stdout,
        runs[1].stderr
    );
    let loser = runs.iter().find(|r| r.code == 5).unwrap();
    let error = error_of(loser);
    // The winner needs two slow requests (≥ 800 ms) after its intent, so the loser meets it in
    // flight; "already promoted" would mean the loser started that much later, which is still
    // exactly once, but not the race this test is after.
    assert_eq!(error["kind"], "in_progress", "{error}");
    assert_eq!(error["details"]["holder_alive"], true, "{error}");
    assert_eq!(env.sim.count_posts(), 1);

    env.sim.set_faults(Faults::default());
    assert_eq!(env.ok(&["recover"])["summary"]["found"], 0);
    let winner = runs.iter().find(|r| r.code == 0).unwrap().json();
    let number = winner["customer_no"].as_str().unwrap();
    assert!(env.sim.customer(number).is_some());
    let other = if number == "PAIR1" { "PAIR2" } else { "PAIR1" };
    assert!(env.sim.customer(other).is_none());
}

/// The promoting process is killed after Sage committed the create but before the answer came:
/// while it runs, `recover` leaves it alone (exit 5) and `promote` says "in progress"; once it
/// is gone, `promote` says "run recover" and `recover` adopts (exit 0) without a second POST.
/// Fault-injected promotions: 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_promoting_process_is_settled_by_recover_with_one_post() {
    let env = Env::start(sim_config()).await;
    env.setup_sage300(&[]);
    let a = env.new_account("Crashco Ltd");
    let window = Duration::from_millis(300);
    env.sim.set_faults(faults(window));
    let mut child = env.spawn(&promote_args(true, &a, "CRASH1"));
    // The number's lookup (the duplicate guard's lookup by name comes before it).
    wait_until("the lookup", || {
        env.sim.request_log().iter().any(|r| {
            r.method == "GET"
                && r.path.contains("/ARCustomers")
                && (r.path.contains("CRASH1")
                    || r.query.as_deref().is_some_and(|q| q.contains("CRASH1")))
        })
    });
    // The create commits, then its answer is held far beyond the test. (The hold is read
    // just after the commit, so the faults stay until the holder is dead; nothing below asks
    // the ERP before then: a live holder is refused, and left alone, without a request.)
    env.sim.set_faults(Faults {
        latency: window,
        slow_response: Some(Duration::from_secs(60)),
        ..Faults::default()
    });
    wait_until("the commit", || env.sim.customer("CRASH1").is_some());

    // The holder still runs.
    let held = env.run(&["--json", "recover"]);
    assert_eq!(held.code, 5, "{}", held.stdout);
    assert_eq!(held.json()["summary"]["still_held"], 1);
    let busy = env.run(&promote_args(true, &a, "CRASH1"));
    assert_eq!(busy.code, 5);
    assert_eq!(error_of(&busy)["kind"], "in_progress");
    assert_eq!(error_of(&busy)["details"]["holder_alive"], true);

    // Killed (and reaped, so its pid is really gone).
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    env.sim.set_faults(Faults::default());
    let orphaned = env.run(&promote_args(true, &a, "CRASH1"));
    assert_eq!(orphaned.code, 5);
    let error = error_of(&orphaned);
    assert_eq!(error["kind"], "in_progress");
    assert_eq!(error["details"]["holder_alive"], false);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("run `crm2sage recover`"),
        "{error}"
    );

    let since = Instant::now();
    let recovered = env.ok(&["recover"]);
    assert_eq!(recovered["summary"]["adopted"], 1, "{recovered}");
    assert_eq!(recovered["exit_code"], 0);
    let posts_since = env
        .sim
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.started >= since)
        .count();
    assert_eq!(posts_since, 0, "recover created nothing");
    let events = env.log_events(&a);
    assert_eq!(events.first().map(String::as_str), Some("intent"));
    assert_eq!(events.last().map(String::as_str), Some("adopted"));
    assert_eq!(env.ok(&["erp-details", &a])["customer_no"], "CRASH1");
    // The killed process's POST is the only one; the simulator logs it once the connection
    // it was held on is gone.
    wait_until("the held POST to be logged", || env.sim.count_posts() >= 1);
    assert_eq!(env.sim.count_posts(), 1);
}

/// A batch whose every create commits and then loses its answer: every row is unknown and the
/// batch exits 6; `recover` adopts them all; the same batch again is all "already promoted"
/// (exit 5) and sends nothing. Fault-injected promotions: 10.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_unknown_outcomes_is_settled_by_recover_with_one_post_each() {
    const N: usize = 10;
    let env = Env::start(sim_config()).await;
    env.setup_sage300(&[]);
    let mut csv = String::from("account,customer_no\n");
    for i in 0..N {
        let id = env.new_account(&format!("Batchco {i} Ltd"));
        csv.push_str(&format!("{id},BAT{i}\n"));
    }
    let file = env.dir.path().join("batch.csv");
    std::fs::write(&file, csv).unwrap();
    let file = file.to_string_lossy().into_owned();
    let batch = [
        "--json",
        "promote",
        "--batch",
        &file,
        "--concurrency",
        "4",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ];

    env.sim.set_faults(Faults {
        latency: Duration::from_millis(20),
        drop_after_commit: DropAfterCommit::Always,
        ..Faults::default()
    });
    let run = env.run(&batch);
    assert_eq!(run.code, 6, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["summary"]["total"], N);
    assert_eq!(doc["summary"]["failed"], N);
    for row in doc["rows"].as_array().unwrap() {
        assert_eq!(row["error"]["kind"], "outcome_unknown", "{row}");
        assert_eq!(row["exit_code"], 6);
    }
    assert_eq!(env.sim.count_posts(), N);

    env.sim.set_faults(Faults::default());
    let recovered = env.ok(&["recover"]);
    assert_eq!(recovered["summary"]["found"], N, "{recovered}");
    assert_eq!(recovered["summary"]["adopted"], N, "{recovered}");
    assert_eq!(
        env.ok(&["account", "list", "--promoted"])
            .as_array()
            .unwrap()
            .len(),
        N
    );

    // Running the same batch again is safe: every row is already promoted (a success), with
    // no ERP work.
    let again = env.run(&batch);
    assert_eq!(again.code, 0, "{}", again.stdout);
    let doc = again.json();
    assert_eq!(doc["summary"]["already_promoted"], N, "{doc}");
    for row in doc["rows"].as_array().unwrap() {
        assert_eq!(row["outcome"], "already_promoted", "{row}");
        assert_eq!(row["exit_code"], 0, "{row}");
    }
    assert_eq!(env.sim.count_posts(), N, "one POST per account, ever");
    let customers = env.sim.customers();
    for i in 0..N {
        let number = format!("BAT{i}");
        let n = customers
            .iter()
            .filter(|c| c["CustomerNumber"] == number.as_str())
            .count();
        assert_eq!(n, 1, "{number}");
    }
}
