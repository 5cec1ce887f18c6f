//! `promote --batch` as a streaming, resumable run (issue 19 items 2 and 4): a re-run after a
//! SIGKILL or a Ctrl-C does no ERP work for the rows already promoted and settles the rows the
//! dead run left `creating`; `--report` writes one line per row; `recover --concurrency`
//! settles several promotions hanging on a slow ERP.
#![allow(clippy::unwrap_used)] // tests

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt as _;
use std::process::Command;
use std::time::{Duration, Instant};

use crm2sage_domain::ports::PromotionStore;
use crm2sage_sage_simulator::{Faults, Sage300Config};
use crm2sage_store_sqlite::SqliteStore;
use serde_json::Value;
use support::{Env, batch_file, import_accounts, write};

const SIGKILL: i32 = 9;

fn slow_env_config(latency_ms: u64) -> Sage300Config {
    Sage300Config {
        faults: Faults {
            latency: Duration::from_millis(latency_ms),
            ..Faults::default()
        },
        ..support::sim_config()
    }
}

/// Bindings (account id → customer numbers) and the number of promotions still `creating`.
async fn local(env: &Env) -> (BTreeMap<String, Vec<String>>, usize) {
    let store = SqliteStore::open(&env.db).unwrap();
    let mut bindings = BTreeMap::new();
    for id in import_ids(env) {
        let account = crm2sage_domain::AccountId::parse(&id).unwrap();
        bindings.insert(
            id,
            store
                .bindings_of(account)
                .await
                .unwrap()
                .iter()
                .map(|b| b.customer_no.as_str().to_owned())
                .collect(),
        );
    }
    (bindings, store.in_flight().await.unwrap().len())
}

fn import_ids(env: &Env) -> Vec<String> {
    env.ok(&["account", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The simulator's customers per number, among `numbers`.
fn customers_per_number(env: &Env, numbers: &BTreeSet<String>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in env.sim.customers() {
        let Some(number) = c["CustomerNumber"].as_str() else {
            continue;
        };
        if numbers.contains(number) {
            *out.entry(number.to_owned()).or_default() += 1;
        }
    }
    out
}

/// Exactly one customer per account in the simulator, and one binding per account, to it.
async fn assert_one_customer_per_account(
    env: &Env,
    accounts: &BTreeMap<String, String>,
    number: &str,
) {
    let numbers: BTreeSet<String> = (0..accounts.len())
        .map(|i| format!("{number}{i:03}"))
        .collect();
    let per_number = customers_per_number(env, &numbers);
    assert_eq!(per_number.len(), accounts.len(), "{per_number:?}");
    assert!(per_number.values().all(|n| *n == 1), "{per_number:?}");
    let (bindings, in_flight) = local(env).await;
    assert_eq!(in_flight, 0, "nothing left creating");
    for (i, id) in accounts.values().enumerate() {
        assert_eq!(bindings[id], [format!("{number}{i:03}")], "account {id}");
    }
}

fn rows(doc: &Value) -> &Vec<Value> {
    doc["rows"].as_array().unwrap()
}

fn posts(env: &Env) -> usize {
    env.sim
        .request_log()
        .iter()
        .filter(|r| r.method == "POST")
        .count()
}

/// Waits (bounded) until the simulator has seen `n` POSTs.
fn wait_for_posts(env: &Env, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while posts(env) < n {
        assert!(
            Instant::now() < deadline,
            "the batch never got to {n} creates"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The simulator's customers numbered `prefix…`: creates committed.
fn committed(env: &Env, prefix: &str) -> usize {
    env.sim
        .customers()
        .iter()
        .filter(|c| {
            c["CustomerNumber"]
                .as_str()
                .is_some_and(|n| n.starts_with(prefix))
        })
        .count()
}

/// Waits (bounded) until the simulator holds a customer numbered `prefix…` whose create has
/// not been answered (more such customers than answered POSTs).
fn wait_for_an_unanswered_create(env: &Env, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let committed = committed(env, prefix);
        let answered = posts(env);
        if committed > answered {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no create was ever held unanswered ({committed} committed, {answered} answered)"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits (bounded) until every committed create numbered `prefix…` has been answered.
fn wait_until_every_create_is_answered(env: &Env, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while committed(env, prefix) > posts(env) {
        assert!(
            Instant::now() < deadline,
            "held creates were never answered"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A simulator answering after 40 ms, 40 accounts imported with references `{prefix}000…`,
/// and a batch file promoting each to `{number}000…`.
async fn forty_slow_rows(prefix: &str, number: &str) -> (Env, BTreeMap<String, String>, String) {
    let env = Env::start(slow_env_config(40)).await;
    env.setup_sage300(&["--crm-id-field", "CRMID"]);
    let accounts = import_accounts(&env, prefix, 40);
    let file = batch_file(&env, prefix, number, 40);
    (env, accounts, file)
}

/// `--json promote --batch FILE --concurrency 4`.
fn batch_args(file: &str) -> [&str; 6] {
    ["--json", "promote", "--batch", file, "--concurrency", "4"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_after_a_sigkill_skips_promoted_rows_and_settles_the_dead_runs_rows() {
    let (env, accounts, file) = forty_slow_rows("K", "KC").await;
    let n = accounts.len();
    let batch = batch_args(&file);
    env.sim.clear_request_log();

    let mut child = env.spawn(&batch);
    wait_for_posts(&env, 12);
    // From now on a create commits and its answer is held for 2 s: once one has committed
    // unanswered, its row is `creating` in the store when the kill comes a moment later.
    let normal = env.sim.faults();
    env.sim.set_faults(Faults {
        slow_response: Some(Duration::from_secs(2)),
        ..normal.clone()
    });
    // The creates that arrived before the switch are answered within their 40 ms latency.
    std::thread::sleep(Duration::from_millis(200));
    wait_for_an_unanswered_create(&env, "KC");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(SIGKILL), "{status:?}");

    let (bindings, in_flight) = local(&env).await;
    let promoted_before: BTreeSet<&String> = bindings
        .iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(id, _)| id)
        .collect();
    assert!(in_flight >= 1, "the kill left rows creating");
    assert!(promoted_before.len() < n);
    // The held answers go out (to nobody) before the re-run, so its log holds only its own.
    wait_until_every_create_is_answered(&env, "KC");
    let posts_before = posts(&env);
    env.sim.set_faults(normal);
    env.sim.clear_request_log();

    // Run it again: no ERP work for the promoted rows, the dead run's rows settled first.
    let run = env.run(&batch);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let summary = &doc["summary"];
    assert_eq!(summary["total"], n, "{summary}");
    assert_eq!(
        summary["already_promoted"],
        promoted_before.len(),
        "{summary}"
    );
    assert_eq!(summary["recovered"], in_flight, "{summary}");
    assert_eq!(
        summary["promoted"].as_u64().unwrap(),
        (n - promoted_before.len() - in_flight) as u64,
        "{summary}"
    );
    for row in rows(&doc) {
        let id = row["account_id"].as_str().unwrap().to_owned();
        let outcome = row["outcome"].as_str().unwrap();
        if promoted_before.contains(&id) {
            assert_eq!(outcome, "already_promoted", "{row}");
        } else {
            assert!(outcome == "promoted" || outcome == "recovered", "{row}");
        }
        assert_eq!(row["exit_code"], 0, "{row}");
    }
    // The ERP heard nothing about the promoted rows' customers.
    let promoted_numbers: Vec<String> = accounts
        .values()
        .enumerate()
        .filter(|(_, id)| promoted_before.contains(id))
        .map(|(i, _)| format!("KC{i:03}"))
        .collect();
    for request in env.sim.request_log() {
        for number in &promoted_numbers {
            assert!(
                !request.path.contains(number.as_str()) && !request.body.contains(number.as_str()),
                "a request about {number}, already promoted: {} {}",
                request.method,
                request.path
            );
        }
    }
    assert!(posts(&env) <= n - promoted_before.len());
    assert!(posts_before >= 12);
    assert_one_customer_per_account(&env, &accounts, "KC").await;

    // And again: everything is already promoted, with no ERP request at all.
    env.sim.clear_request_log();
    let again = env.run(&batch);
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert_eq!(again.json()["summary"]["already_promoted"], n);
    assert_eq!(posts(&env), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_finishes_the_rows_under_way_and_a_rerun_goes_on() {
    let (env, accounts, file) = forty_slow_rows("I", "IC").await;
    let n = accounts.len();
    let batch = batch_args(&file);

    let child = env.spawn(&batch);
    wait_for_posts(&env, 8);
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let run = support::finish(child);
    assert_eq!(run.code, 5, "interrupted: {}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["summary"]["cancelled"], true, "{doc}");
    let first = doc["summary"]["promoted"].as_u64().unwrap();
    assert!(first >= 1 && first < n as u64, "{doc}");
    assert_eq!(doc["summary"]["failed"], 0, "{doc}");
    let (_, in_flight) = local(&env).await;
    assert_eq!(in_flight, 0, "the rows under way finished");

    env.sim.clear_request_log();
    let again = env.run(&batch);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let doc = again.json();
    assert_eq!(doc["summary"]["already_promoted"], first, "{doc}");
    assert_eq!(
        doc["summary"]["promoted"].as_u64().unwrap(),
        n as u64 - first,
        "{doc}"
    );
    assert_eq!(
        posts(&env) as u64,
        n as u64 - first,
        "one create per new row only"
    );
    assert_one_customer_per_account(&env, &accounts, "IC").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_files_have_one_line_per_row_as_csv_or_json_lines() {
    let env = Env::start(support::sim_config()).await;
    env.setup_sage300(&[]);
    let accounts = import_accounts(&env, "P", 4);
    assert_eq!(accounts.len(), 4);
    // Three good rows, an unknown account, and the ERP's taken number 1200.
    let file = write(
        &env,
        "report-batch.csv",
        "account_ref,customer_no,category,tax_group\n\
         P000,PC000,RTL,CALIF\n\
         P001,PC001,RTL,CALIF\n\
         NOPE,PC999,RTL,CALIF\n\
         P002,PC002,RTL,CALIF\n\
         P003,1200,RTL,CALIF\n",
    );
    let csv_report = env.dir.path().join("out.csv");
    let run = env.run(&[
        "promote",
        "--batch",
        &file,
        "--report",
        &csv_report.to_string_lossy(),
    ]);
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    // Failures are printed as they happen, with their line.
    assert!(run.stdout.contains("line 4 (NOPE)"), "{}", run.stdout);
    assert!(run.stdout.contains("line 6 (P003)"), "{}", run.stdout);
    let text = std::fs::read_to_string(&csv_report).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.remove(0), "line,reference,outcome,error_kind,message");
    lines.sort_unstable();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("2,P000,promoted,,"), "{text}");
    assert!(lines[1].starts_with("3,P001,promoted,,"), "{text}");
    assert!(
        lines[2].starts_with("4,NOPE,failed,account_not_found,"),
        "{text}"
    );
    assert!(lines[3].starts_with("5,P002,promoted,,"), "{text}");
    assert!(
        lines[4].starts_with("6,P003,failed,customer_no_taken,"),
        "{text}"
    );

    // Again, as JSON lines: the promoted rows are already promoted now.
    let jsonl = env.dir.path().join("out.jsonl");
    let run = env.run(&[
        "--json",
        "promote",
        "--batch",
        &file,
        "--report",
        &jsonl.to_string_lossy(),
    ]);
    assert_eq!(run.code, 5, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["summary"]["already_promoted"], 3, "{doc}");
    assert_eq!(doc["summary"]["failed"], 2, "{doc}");
    let mut by_line: BTreeMap<u64, Value> = BTreeMap::new();
    for line in std::fs::read_to_string(&jsonl).unwrap().lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        by_line.insert(row["line"].as_u64().unwrap(), row);
    }
    assert_eq!(by_line.len(), 5);
    for line in [2, 3, 5] {
        assert_eq!(
            by_line[&line]["outcome"], "already_promoted",
            "{}",
            by_line[&line]
        );
        assert_eq!(by_line[&line]["error_kind"], Value::Null);
    }
    assert_eq!(by_line[&4]["reference"], "NOPE");
    assert_eq!(by_line[&4]["error_kind"], "account_not_found");
    assert_eq!(by_line[&6]["error_kind"], "customer_no_taken");

    // Any other extension is a usage error.
    let bad = env.run(&["promote", "--batch", &file, "--report", "out.txt"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_with_concurrency_settles_every_promotion_hanging_on_a_slow_erp() {
    let env = Env::start(support::sim_config()).await;
    env.setup_sage300(&["--crm-id-field", "CRMID"]);
    let n = 6;
    let mut ids = Vec::new();
    for i in 0..n {
        let id = env.new_account(&format!("Hanging {i}"));
        // Each promotion dies right after its intent: left creating, nothing created.
        let run = env.run_with(
            &[
                "--json",
                "promote",
                &id,
                "--customer-no",
                &format!("H{i:03}"),
                "--category",
                "RTL",
                "--tax-group",
                "CALIF",
            ],
            &[("CRM2SAGE_CRASH_AT", "after-intent")],
        );
        assert_eq!(run.code, -1, "aborted: {}", run.stderr);
        ids.push(id);
    }
    let (_, in_flight) = local(&env).await;
    assert_eq!(in_flight, n);

    // Every ERP answer is slow now: recover settles them side by side.
    env.sim.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    env.sim.clear_request_log();
    let run = env.run(&["--json", "recover", "--concurrency", "6"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["summary"]["found"], n, "{doc}");
    assert_eq!(doc["summary"]["resumed"], n, "{doc}");
    let promotions = doc["promotions"].as_array().unwrap();
    assert_eq!(promotions.len(), n, "the report is complete");
    assert!(
        promotions.iter().all(|p| p["decision"] == "resumed"),
        "{doc}"
    );
    assert!(
        env.sim.max_in_flight() > 1,
        "the ERP saw more than one request at once"
    );
    assert_eq!(posts(&env), n, "one create each");
    let (bindings, in_flight) = local(&env).await;
    assert_eq!(in_flight, 0);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(bindings[id], [format!("H{i:03}")]);
    }

    // A concurrency out of range is a usage error.
    assert_eq!(env.run(&["recover", "--concurrency", "0"]).code, 2);
}
