//! Smoke test: every subcommand runs at a tiny size and prints one JSON object with its keys.
//! The real figures come from `--release` runs (docs/performance.md), never from tests.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::Command;

fn run(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_crm2sage-bench"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON object per run: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

fn assert_keys(v: &serde_json::Value, keys: &[&str]) {
    for key in keys {
        assert!(v.get(key).is_some(), "`{key}` missing from {v}");
    }
}

#[test]
fn every_benchmark_prints_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    let promote = run(&[
        "promote",
        "--accounts",
        "20",
        "--latency-ms",
        "1",
        "--concurrency",
        "4",
        "--dir",
        dir,
    ]);
    assert_keys(
        &promote,
        &[
            "throughput_per_s",
            "baseline_per_s",
            "ratio",
            "ceiling_per_s",
            "p50_ms",
            "p99_ms",
        ],
    );
    assert_eq!(promote["failed"], 0, "{promote}");
    assert_eq!(promote["baseline_failed"], 0, "{promote}");

    let overhead = run(&[
        "overhead",
        "--accounts",
        "20",
        "--concurrency",
        "2",
        "--dir",
        dir,
    ]);
    assert_keys(&overhead, &["promotions_per_s", "baseline_per_s", "ratio"]);
    assert_eq!(overhead["failed"], 0, "{overhead}");

    let sync = run(&[
        "sync",
        "--records",
        "50",
        "--page-size",
        "10",
        "--latency-ms",
        "0",
        "--dir",
        dir,
    ]);
    assert_keys(
        &sync,
        &["records_per_s", "baseline_per_s", "ratio", "peak_rss_mib"],
    );
    assert_eq!(sync["records"], 54, "50 generated + 4 demo groups: {sync}");
    assert_eq!(sync["pages"], 6, "{sync}");

    let commits = run(&["commits", "--count", "10", "--dir", dir]);
    assert_keys(&commits, &["commits_per_s", "p50_ms", "p99_ms"]);

    // `import` runs the `crm2sage` binary, which a workspace build puts next to this one (a
    // `cargo test -p crm2sage-bench` alone does not build it).
    let cli = std::path::Path::new(env!("CARGO_BIN_EXE_crm2sage-bench"))
        .with_file_name(format!("crm2sage{}", std::env::consts::EXE_SUFFIX));
    if cli.exists() {
        let import = run(&["import", "--rows", "1500", "--dir", dir]);
        assert_keys(
            &import,
            &["rows_per_s", "baseline_rows_per_s", "ratio", "peak_rss_mib"],
        );
        assert_eq!(import["rows"], 1500, "{import}");
    } else {
        eprintln!("import not run: {} is not built", cli.display());
    }
}

/// `list` runs the `crm2sage` binary: the one cargo built next to the bench (a workspace
/// build or test builds it; `cargo test -p crm2sage-bench` alone may not).
#[test]
fn the_list_benchmark_counts_what_the_cli_printed() {
    let bench = std::path::PathBuf::from(env!("CARGO_BIN_EXE_crm2sage-bench"));
    let cli = bench.with_file_name(format!("crm2sage{}", std::env::consts::EXE_SUFFIX));
    if !cli.is_file() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: {} is not built", cli.display());
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let list = run(&[
        "list",
        "--accounts",
        "1234",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_keys(&list, &["accounts_per_s", "peak_rss_mib", "json_mib"]);
    assert_eq!(list["accounts"], 1234, "{list}");
    assert!(list["peak_rss_mib"].as_f64().unwrap() > 0.0, "{list}");
}

/// The PostgreSQL benchmarks at a tiny size, on the server `CRM2SAGE_BENCH_POSTGRES` names (the
/// local test server by default). An unreachable server fails this test unless
/// `CRM2SAGE_SKIP_POSTGRES=1` is set on purpose.
#[test]
fn the_postgres_benchmarks_print_their_figures() {
    let reachable = Command::new(env!("CARGO_BIN_EXE_crm2sage-bench"))
        .args(["promote", "--store", "postgres", "--accounts", "4"])
        .args(["--latency-ms", "0", "--concurrency", "2"])
        .output()
        .unwrap();
    if !reachable.status.success()
        && std::env::var("CRM2SAGE_SKIP_POSTGRES").is_ok_and(|v| v == "1")
    {
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "SKIPPED ON PURPOSE (CRM2SAGE_SKIP_POSTGRES=1): the PostgreSQL benchmarks: {}",
                String::from_utf8_lossy(&reachable.stderr)
            );
        }
        return;
    }
    let promote = run(&[
        "promote",
        "--store",
        "postgres",
        "--accounts",
        "20",
        "--latency-ms",
        "1",
        "--concurrency",
        "4",
    ]);
    assert_keys(
        &promote,
        &["throughput_per_s", "baseline_per_s", "ratio", "p50_ms"],
    );
    assert_eq!(promote["store"], "postgres", "{promote}");
    assert_eq!(promote["failed"], 0, "{promote}");
    assert_eq!(promote["baseline_failed"], 0, "{promote}");

    let workers = run(&[
        "workers",
        "--processes",
        "2",
        "--accounts",
        "10",
        "--latency-ms",
        "1",
        "--concurrency",
        "2",
    ]);
    assert_keys(&workers, &["one_worker_per_s", "workers_per_s", "scaling"]);
    assert_eq!(workers["failed"], 0, "{workers}");
    assert_eq!(workers["workers"].as_array().unwrap().len(), 2, "{workers}");
    assert_eq!(workers["one_worker"][0]["promoted"], 10, "{workers}");
}

/// `match` and `customers` (issue 21) run the `crm2sage` binary too: skipped when it is not
/// built next to the bench.
#[test]
fn the_customer_index_benchmarks_check_what_the_cli_did() {
    let bench = std::path::PathBuf::from(env!("CARGO_BIN_EXE_crm2sage-bench"));
    let cli = bench.with_file_name(format!("crm2sage{}", std::env::consts::EXE_SUFFIX));
    if !cli.is_file() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: {} is not built", cli.display());
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    let matched = run(&[
        "match",
        "--accounts",
        "300",
        "--customers",
        "200",
        "--dir",
        dir,
    ]);
    assert_keys(&matched, &["accounts_per_s", "peak_rss_mib", "elapsed_s"]);
    // Odd accounts up to 200 match their customer.
    assert_eq!(matched["with_candidates"], 100, "{matched}");

    let customers = run(&[
        "customers",
        "--customers",
        "1200",
        "--latency-ms",
        "0",
        "--dir",
        dir,
    ]);
    assert_keys(
        &customers,
        &["records_per_s", "baseline_per_s", "ratio", "peak_rss_mib"],
    );
    assert!(
        customers["customers"].as_u64().unwrap() >= 1200,
        "{customers}"
    );
    assert!(customers["pages"].as_u64().unwrap() >= 3, "{customers}");
}
