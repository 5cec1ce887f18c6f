//! An integration's request timeout and private CA from the command line (issue 18 items 4 and
//! 6): `integration add --timeout/--ca-file`, `integration set`, what list/show say, refusals
//! that name the field and repeat no secret, and `integration test` against a real HTTPS
//! server whose certificate a private CA signed, and against a server as slow as a cold IIS.
#![allow(clippy::unwrap_used)] // tests

mod support;

#[path = "../../sage-adapter/tests/support/tls.rs"]
mod tls;

use std::time::Duration;

use support::{Run, run_bin};

/// A scratch database, and `crm2sage` run against it with `S300_PASSWORD` set.
struct Cli {
    dir: tempfile::TempDir,
    db: String,
}

impl Cli {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir
            .path()
            .join("crm2sage.db")
            .to_string_lossy()
            .into_owned();
        Self { dir, db }
    }

    fn run(&self, args: &[&str]) -> Run {
        run_bin(
            args,
            &[
                ("CRM2SAGE_DB", self.db.as_str()),
                ("S300_PASSWORD", "ADMIN"),
            ],
        )
    }

    fn ok_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
        run.json()
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn add(&self, name: &str, url: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "integration",
            "add",
            name,
            "--kind",
            "sage300",
            "--url",
            url,
            "--company",
            "SAMLTD",
            "--user",
            "ADMIN",
            "--password-env",
            "S300_PASSWORD",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

/// The fields a `--json` failure names.
fn refused_fields(run: &Run) -> Vec<String> {
    run.json()["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}

const URL: &str = "https://erp.example.com/Sage300WebApi";

#[test]
fn the_timeout_is_stored_shown_and_changed() {
    let cli = Cli::new();
    let run = cli.add("slow", URL, &["--timeout", "90"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(cli.add("plain", URL, &[]).code, 0);

    let shown = cli.ok_json(&["integration", "show", "slow"]);
    assert_eq!(shown["timeout_secs"], 90);
    assert_eq!(shown["timeout_is_default"], false);
    let plain = cli.ok_json(&["integration", "show", "plain"]);
    assert_eq!(plain["timeout_secs"], 60, "the documented default");
    assert_eq!(plain["timeout_is_default"], true);
    let table = cli.run(&["integration", "list"]);
    assert!(table.stdout.contains("90 s"), "{}", table.stdout);
    assert!(table.stdout.contains("60 s (default)"), "{}", table.stdout);
    let text = cli.run(&["integration", "show", "slow"]);
    assert!(text.stdout.contains("timeout_secs: 90"), "{}", text.stdout);

    let changed = cli.ok_json(&[
        "integration",
        "set",
        "plain",
        "--timeout",
        "300",
        "--user",
        "WEB",
    ]);
    assert_eq!(changed["timeout_secs"], 300);
    assert_eq!(changed["user"], "WEB");
    assert_eq!(changed["url"], URL, "what was not named stays");
    let again = cli.ok_json(&["integration", "show", "plain"]);
    assert_eq!(
        (again["timeout_secs"].as_u64(), again["user"].as_str()),
        (Some(300), Some("WEB"))
    );
}

#[test]
fn refusals_name_every_field_and_repeat_no_secret() {
    let cli = Cli::new();
    let pki = tls::TestPki::new();
    let key = "-----BEGIN PRIVATE KEY-----\nU2VjcmV0S2V5Qnl0ZXM=\n-----END PRIVATE KEY-----\n";
    let with_key = cli.file("with-key.pem", &format!("{}{key}", pki.ca_pem));
    for timeout in ["0", "601", "abc"] {
        let run = cli.add("x", URL, &["--json", "--timeout", timeout]);
        assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
        assert_eq!(refused_fields(&run), ["timeout"]);
    }
    let run = cli.run(&[
        "--json",
        "integration",
        "add",
        "x",
        "--kind",
        "sage300",
        "--url",
        "https://admin:Hunter2pw@erp.example.com/",
        "--company",
        "SAMLTD",
        "--user",
        "ADMIN",
        "--password-env",
        "S300_PASSWORD",
        "--timeout",
        "0",
        "--ca-file",
        &with_key,
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        refused_fields(&run),
        ["url", "timeout", "ca_file"],
        "all at once"
    );
    for secret in ["U2VjcmV0", "Hunter2pw"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{}",
            run.stdout
        );
    }
    let missing = cli.add("x", URL, &["--json", "--ca-file", "/nonexistent/ca.pem"]);
    assert_eq!(refused_fields(&missing), ["ca_file"]);
    assert!(
        missing.stdout.contains("cannot be read"),
        "{}",
        missing.stdout
    );
    let not_pem = cli.file("ca.der", "\u{1}\u{2}binary, not PEM");
    assert_eq!(
        refused_fields(&cli.add("x", URL, &["--json", "--ca-file", &not_pem])),
        ["ca_file"]
    );
    assert_eq!(
        cli.ok_json(&["integration", "list"]),
        serde_json::json!([]),
        "nothing stored"
    );

    assert_eq!(cli.add("s300", URL, &[]).code, 0);
    let run = cli.run(&[
        "--json",
        "integration",
        "set",
        "s300",
        "--timeout",
        "abc",
        "--password-env",
        "s3cr3t-P@ss!",
        "--ca-file",
        &with_key,
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(refused_fields(&run), ["password_env", "timeout", "ca_file"]);
    for secret in ["U2VjcmV0", "s3cr3t"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{}",
            run.stdout
        );
    }
    let nothing = cli.run(&["--json", "integration", "set", "s300"]);
    assert_eq!(refused_fields(&nothing), ["changes"]);
    let unknown = cli.run(&["integration", "set", "nope", "--timeout", "5"]);
    assert_eq!(unknown.code, 4, "{}", unknown.stderr);
    let shown = cli.ok_json(&["integration", "show", "s300"]);
    assert_eq!(shown["timeout_is_default"], true, "nothing changed");
    assert_eq!(shown["password_env"], "S300_PASSWORD");
}

#[test]
fn integration_test_over_https_needs_the_private_ca() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pki = tls::TestPki::new();
    let server = runtime.block_on(tls::start(Some(&pki), Duration::ZERO));
    let cli = Cli::new();
    let ca = cli.file("ca.pem", &pki.ca_pem);
    assert_eq!(cli.add("onprem", &server.url(true), &[]).code, 0);

    let run = cli.run(&["integration", "test", "onprem"]);
    assert_eq!(run.code, 6, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("certificate"),
        "a TLS failure: {}",
        run.stderr
    );
    assert_eq!(server.answered(), 0);

    let set = cli.ok_json(&["integration", "set", "onprem", "--ca-file", &ca]);
    assert_eq!(set["ca_certificates"], 1);
    assert!(
        !set.to_string().contains("BEGIN"),
        "the PEM is not printed: {set}"
    );
    let run = cli.run(&["integration", "test", "onprem"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(server.answered(), 1);

    let cleared = cli.ok_json(&["integration", "set", "onprem", "--no-ca-file"]);
    assert_eq!(cleared["ca_certificates"], 0);
    assert_eq!(cli.run(&["integration", "test", "onprem"]).code, 6);

    // Given at `add`, the CA works from the first call.
    assert_eq!(
        cli.add("onprem2", &server.url(true), &["--ca-file", &ca])
            .code,
        0
    );
    let run = cli.run(&["integration", "test", "onprem2"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn integration_test_waits_for_a_slow_server_as_long_as_the_timeout_says() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A cold application pool: every answer takes 3 s.
    let server = runtime.block_on(tls::start(None, Duration::from_secs(3)));
    let cli = Cli::new();
    assert_eq!(
        cli.add("cold", &server.url(false), &["--timeout", "1"])
            .code,
        0
    );
    let run = cli.run(&["integration", "test", "cold"]);
    assert_eq!(run.code, 6, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    cli.ok_json(&["integration", "set", "cold", "--timeout", "5"]);
    let run = cli.run(&["integration", "test", "cold"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
