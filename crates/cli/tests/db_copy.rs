//! `--db postgres://…`, `--host-id` and `db copy`, end to end: a SQLite store made by the
//! CLI (with a promotion a crashed worker left in flight) is copied into PostgreSQL; the CLI
//! on PostgreSQL answers as it did on the file; another host id leaves the dead worker's
//! promotion to its lease, the same host id settles it; the password of a URL appears in no
//! output, failures included.
//!
//! Each test works in a schema of its own on `CRM2SAGE_TEST_POSTGRES` (the CLI reaches it
//! through the URL's `options=-csearch_path=…`); an unreachable server fails them unless
//! `CRM2SAGE_SKIP_POSTGRES=1` is set on purpose.
#![allow(clippy::unwrap_used)]

mod support;

use crm2sage_store_postgres::testing::{test_url, try_fresh_store};
use serde_json::Value;
use support::{Env, Run, run_bin, sim_config};

const PASSWORD: &str = "s3cret-pw-never-shown";

/// `url` with `PASSWORD` added (trust authentication ignores it) and its search path set
/// to `schema`.
fn url_for(url: &str, schema: &str) -> String {
    let with_password = url
        .split_once("://")
        .and_then(|(scheme, rest)| {
            let (user, host) = rest.split_once('@')?;
            (!user.contains(':')).then(|| format!("{scheme}://{user}:{PASSWORD}@{host}"))
        })
        .unwrap_or_else(|| url.to_owned());
    let sep = if with_password.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{with_password}{sep}options=-csearch_path%3D{schema}")
}

fn assert_no_password(run: &Run) {
    assert!(
        !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
        "the password was shown:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

fn promote_args<'a>(account: &'a str, number: &'a str) -> Vec<&'a str> {
    vec![
        "--json",
        "promote",
        account,
        "--customer-no",
        number,
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]
}

/// What the CLI lists, for comparing two databases.
fn listings(env: &Env, db: &str) -> Vec<Value> {
    let run = |args: &[&str]| {
        let run = env.run_with(args, &[("CRM2SAGE_DB", db)]);
        assert_no_password(&run);
        assert_eq!(run.code, 0, "{args:?}:\n{}\n{}", run.stdout, run.stderr);
        run.json()
    };
    let accounts = run(&["--json", "account", "list"]);
    let mut out = vec![
        accounts.clone(),
        run(&["--json", "integration", "list"]),
        run(&["--json", "log"]),
    ];
    for a in accounts.as_array().unwrap() {
        out.push(run(&[
            "--json",
            "account",
            "show",
            a["id"].as_str().unwrap(),
        ]));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_store_moves_into_postgres_and_its_dead_worker_is_judged_by_host() {
    let Some((_store, guard)) = try_fresh_store().await else {
        return;
    };
    let env = Env::start(sim_config()).await;
    env.setup_sage300(&[]);
    let promoted = env.new_account("Promoted Ltd");
    let crashed = env.new_account("Crashed Ltd");
    let _pending = env.new_account("Pending Ltd");
    env.ok(&promote_args(&promoted, "C1")[1..]);
    // A worker that names itself worker-a dies right after its intent.
    let run = env.run_with(
        &promote_args(&crashed, "C2"),
        &[
            ("CRM2SAGE_CRASH_AT", "after-intent"),
            ("CRM2SAGE_HOST_ID", "worker-a"),
        ],
    );
    assert_ne!(run.code, 0, "the worker crashed: {}", run.stderr);
    let host: String = rusqlite::Connection::open(&env.db)
        .unwrap()
        .query_row(
            "SELECT lease_host FROM promotions WHERE state = 'creating'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(host, "worker-a", "the lease names the host id");

    let pg = url_for(&test_url(), guard.schema());
    let file = env.db.to_string_lossy().into_owned();
    let copy = run_bin(
        &["--json", "db", "copy", "--from", &file],
        &[("CRM2SAGE_DB", pg.as_str())],
    );
    assert_no_password(&copy);
    assert_eq!(copy.code, 0, "{}\n{}", copy.stdout, copy.stderr);
    let report = copy.json();
    let counts = &report["counts"];
    assert_eq!(
        (
            &counts["integrations"],
            &counts["accounts"],
            &counts["promotions"],
            &counts["bindings"]
        ),
        (
            &Value::from(1),
            &Value::from(3),
            &Value::from(2),
            &Value::from(1)
        ),
        "{report}"
    );
    assert!(
        counts["reference_records"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert!(counts["sync_runs"].as_u64().unwrap() > 0, "{report}");
    assert!(counts["log"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(report["verified"], true);
    assert!(
        report["to"].as_str().unwrap().starts_with("postgres"),
        "{report}"
    );

    assert_eq!(listings(&env, &file), listings(&env, &pg));

    // Copying again is refused: the target is not empty.
    let again = run_bin(&["--json", "db", "copy", "--from", &file, "--to", &pg], &[]);
    assert_no_password(&again);
    assert_eq!(again.code, 5, "{}", again.stdout);
    let error = &again.json()["error"];
    assert_eq!(error["kind"], "target_not_empty");
    assert_eq!(error["details"]["target_counts"]["accounts"], 3);

    // On PostgreSQL, another host cannot tell whether worker-a still runs: its promotion
    // is left to its lease (minutes by default). worker-a itself (the same host id) sees it
    // is dead.
    let elsewhere = env.run_with(
        &["--json", "recover"],
        &[
            ("CRM2SAGE_DB", pg.as_str()),
            ("CRM2SAGE_HOST_ID", "worker-b"),
        ],
    );
    assert_no_password(&elsewhere);
    assert_eq!(
        elsewhere.code, 5,
        "{}\n{}",
        elsewhere.stdout, elsewhere.stderr
    );
    assert_eq!(
        elsewhere.json()["summary"]["still_held"],
        1,
        "{}",
        elsewhere.stdout
    );
    let same_host = env.run_with(
        &["--json", "recover"],
        &[
            ("CRM2SAGE_DB", pg.as_str()),
            ("CRM2SAGE_HOST_ID", "worker-a"),
        ],
    );
    assert_eq!(
        same_host.code, 0,
        "{}\n{}",
        same_host.stdout, same_host.stderr
    );
    assert_eq!(
        same_host.json()["summary"]["resumed"],
        1,
        "{}",
        same_host.stdout
    );
    let shown = env.run_with(
        &["--json", "account", "show", &crashed],
        &[("CRM2SAGE_DB", pg.as_str())],
    );
    assert_eq!(
        shown.json()["bindings"].as_array().unwrap().len(),
        1,
        "{}",
        shown.stdout
    );
    assert!(env.sim.customer("C2").is_some(), "created once, by recover");
    guard.drop_schema().await;
}

#[test]
fn a_password_in_the_url_is_never_shown_not_even_when_the_server_is_unreachable() {
    // Nothing listens on port 1.
    let down = format!("postgres://app:{PASSWORD}@127.0.0.1:1/crm");
    for json in [true, false] {
        let mut args = vec!["account", "list"];
        if json {
            args.insert(0, "--json");
        }
        let run = run_bin(&args, &[("CRM2SAGE_DB", down.as_str())]);
        assert_no_password(&run);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        if json {
            let error = &run.json()["error"];
            assert_eq!(error["kind"], "database_unreachable", "{error}");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains("postgres://app@127.0.0.1:1/crm"),
                "{error}"
            );
        } else {
            assert!(run.stderr.contains("127.0.0.1:1"), "{}", run.stderr);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crm2sage.db");
    let made = run_bin(
        &["--json", "account", "list"],
        &[("CRM2SAGE_DB", file.to_str().unwrap())],
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    for args in [
        vec![
            "--json",
            "db",
            "copy",
            "--from",
            file.to_str().unwrap(),
            "--to",
            &down,
        ],
        vec![
            "db",
            "copy",
            "--from",
            file.to_str().unwrap(),
            "--to",
            &down,
        ],
    ] {
        let run = run_bin(&args, &[]);
        assert_no_password(&run);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    }
    let missing = run_bin(
        &[
            "--json",
            "db",
            "copy",
            "--from",
            "/surely/not/here.db",
            "--to",
            &down,
        ],
        &[],
    );
    assert_no_password(&missing);
    assert_eq!(missing.code, 4, "{}", missing.stdout);
    assert_eq!(missing.json()["error"]["kind"], "database_missing");
    let no_target = run_bin(
        &["--json", "db", "copy", "--from", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(no_target.code, 3, "{}", no_target.stdout);
    // Help shows where the value comes from, never the value.
    let help = run_bin(&["--help"], &[("CRM2SAGE_DB", down.as_str())]);
    assert_no_password(&help);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("CRM2SAGE_DB"), "{}", help.stdout);
}

#[test]
fn a_host_id_must_be_visible_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crm2sage.db");
    let db = file.to_str().unwrap();
    for bad in ["two words", ""] {
        let run = run_bin(
            &["--json", "account", "list"],
            &[("CRM2SAGE_DB", db), ("CRM2SAGE_HOST_ID", bad)],
        );
        assert_eq!(run.code, 3, "{}", run.stdout);
        let error = &run.json()["error"];
        assert_eq!(error["kind"], "invalid_input");
        assert_eq!(error["details"]["fields"][0]["field"], "host_id");
        assert!(
            error["message"].as_str().unwrap().contains("--host-id"),
            "{error}"
        );
    }
    let ok = run_bin(
        &["--json", "--host-id", "worker-1", "account", "list"],
        &[("CRM2SAGE_DB", db)],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}
