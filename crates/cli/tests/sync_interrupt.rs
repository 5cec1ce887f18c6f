//! A killed or interrupted `crm2sage sync` never blocks the next one (issue 18 item 11): the run
//! records its holder, so once the killed process is gone its run is taken over at once (it
//! used to block its kind for 5 minutes); Ctrl-C closes the run as failed and exits 130.
#![allow(clippy::unwrap_used)] // tests

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use crm2sage_sage_simulator::Faults;
use support::{Env, finish};

/// Outcomes of every sync run, oldest first.
fn outcomes(env: &Env) -> Vec<String> {
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let mut stmt = conn
        .prepare("SELECT outcome FROM sync_runs ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Waits (polling the database) until the spawned sync has staged a page of a running run of a
/// kind before the last one (tax), so it is mid-sync with at least one slow request to go
/// whatever moment the signal lands; panics if it never gets there.
fn wait_mid_sync(env: &Env, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the sync ended before it could be stopped: {status}");
        }
        let conn = rusqlite::Connection::open(&env.db).unwrap();
        let staged: i64 = conn
            .query_row(
                "SELECT count(*) FROM sync_runs \
                 WHERE outcome = 'running' AND last_activity > started_at AND kind <> 'tax'",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        if staged > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the sync never got under way");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn slow(env: &Env) {
    env.sim.set_faults(Faults {
        latency: Duration::from_millis(200),
        ..Faults::default()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sync_does_not_block_the_next_one() {
    let env = Env::start(support::sim_config()).await;
    env.add_sage300(&[]);
    slow(&env);
    let mut child = env.spawn(&["sync"]);
    wait_mid_sync(&env, &mut child);
    signal(&child, "KILL");
    let killed = finish(child);
    assert_eq!(killed.code, -1, "killed by the signal");
    assert!(
        outcomes(&env).contains(&"running".to_owned()),
        "left running"
    );

    env.sim.set_faults(Faults::default());
    let synced = env.ok(&["sync"]);
    let kinds = synced["kinds"].as_array().unwrap();
    assert!(
        kinds.iter().all(|k| k["outcome"] == "ok"),
        "the next sync runs at once: {synced}"
    );
    let outcomes = outcomes(&env);
    assert!(!outcomes.contains(&"running".to_owned()), "{outcomes:?}");
    assert!(
        outcomes.contains(&"failed".to_owned()),
        "the killed run closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_closes_the_run_as_failed_and_exits_130() {
    let env = Env::start(support::sim_config()).await;
    env.add_sage300(&[]);
    env.ok(&["sync"]);
    slow(&env);
    let mut child = env.spawn(&["--json", "sync"]);
    wait_mid_sync(&env, &mut child);
    signal(&child, "INT");
    let interrupted = finish(child);
    assert_eq!(
        interrupted.code, 130,
        "{}\n{}",
        interrupted.stdout, interrupted.stderr
    );
    let summary = interrupted.json();
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert_eq!(summary["exit_code"], 130);
    let kinds = summary["kinds"].as_array().unwrap();
    let last = kinds.last().unwrap();
    assert_eq!(last["outcome"], "failed", "{summary}");
    assert!(
        last["error"].as_str().unwrap().contains("interrupted"),
        "{summary}"
    );
    let outcomes = outcomes(&env);
    assert!(
        !outcomes.contains(&"running".to_owned()),
        "closed, not left running: {outcomes:?}"
    );

    env.sim.set_faults(Faults::default());
    let synced = env.ok(&["sync"]);
    assert!(
        synced["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["outcome"] == "ok"),
        "{synced}"
    );
}
