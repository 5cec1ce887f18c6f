//! Helpers: a simulator per test, a temporary database, and a way to run the binary.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;
use std::process::Command;

use crm2sage_sage_simulator::{RunningSage300, Sage300Config, start_sage300};
use serde_json::Value;

/// What one run of the binary did.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout))
    }
}

/// Runs `crm2sage` with `args` and extra environment.
pub(crate) fn run_bin(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm2sage"));
    cmd.args(args)
        .env_remove("CRM2SAGE_DB")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The simulator settings the tests use: demo data, small pages.
pub(crate) fn sim_config() -> Sage300Config {
    Sage300Config {
        page_size: 2,
        ..Sage300Config::default()
    }
}

/// A simulator and a database for one test.
pub(crate) struct Env {
    pub(crate) sim: RunningSage300,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) db: PathBuf,
}

impl Env {
    pub(crate) async fn start(config: Sage300Config) -> Self {
        let sim = start_sage300(config).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crm2sage.db");
        Self { sim, dir, db }
    }

    pub(crate) fn url(&self) -> String {
        self.sim.base_url()
    }
    pub(crate) fn company(&self) -> String {
        self.sim.company().to_owned()
    }
    pub(crate) fn user(&self) -> String {
        self.sim.user().to_owned()
    }

    /// Runs with this test's database and the simulator's password in `S300_PASSWORD`,
    /// overridden by `extra`.
    pub(crate) fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let db = self.db.to_string_lossy().into_owned();
        let mut env = vec![
            ("CRM2SAGE_DB", db.as_str()),
            ("S300_PASSWORD", self.sim.password()),
        ];
        // Later entries win: Command::env keeps the last value set.
        env.extend_from_slice(extra);
        run_bin(args, &env)
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Runs with `--json`, expects exit 0, returns the document.
    pub(crate) fn ok(&self, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let run = self.run(&full);
        assert_eq!(
            run.code, 0,
            "crm2sage {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run.json()
    }

    /// Runs for people, expects exit 0, returns stdout.
    pub(crate) fn text(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "crm2sage {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run.stdout
    }
}

/// Starts `crm2sage` with `args` and extra environment, stdout and stderr piped, without
/// waiting for it.
pub(crate) fn spawn_bin(args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm2sage"));
    cmd.args(args)
        .env_remove("CRM2SAGE_DB")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits for a spawned `crm2sage` and collects what it did.
pub(crate) fn finish(child: std::process::Child) -> Run {
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Env {
    /// Starts `crm2sage` with this test's database and password, without waiting.
    pub(crate) fn spawn(&self, args: &[&str]) -> std::process::Child {
        let db = self.db.to_string_lossy().into_owned();
        spawn_bin(
            args,
            &[
                ("CRM2SAGE_DB", db.as_str()),
                ("S300_PASSWORD", self.sim.password()),
            ],
        )
    }

    /// Adds the simulator as integration `s300` (the default, with `extra` flags) and syncs
    /// it; then forgets the simulator's request log.
    pub(crate) fn setup_sage300(&self, extra: &[&str]) {
        self.add_sage300(extra);
        self.ok(&["sync"]);
        self.sim.clear_request_log();
    }

    /// Adds the simulator as integration `s300` (the default, with `extra` flags), unsynced.
    pub(crate) fn add_sage300(&self, extra: &[&str]) {
        let (url, company, user) = (self.url(), self.company(), self.user());
        let mut args = vec![
            "integration",
            "add",
            "s300",
            "--kind",
            "sage300",
            "--url",
            &url,
            "--company",
            &company,
            "--user",
            &user,
            "--password-env",
            "S300_PASSWORD",
            "--default",
        ];
        args.extend_from_slice(extra);
        self.ok(&args);
    }

    /// Creates an account named `name` (a valid address in Vancouver) and returns its id.
    pub(crate) fn new_account(&self, name: &str) -> String {
        let account = self.ok(&[
            "account",
            "new",
            "--name",
            name,
            "--line1",
            "100 Main St",
            "--city",
            "Vancouver",
            "--state",
            "BC",
            "--country",
            "CA",
        ]);
        account["id"].as_str().unwrap().to_owned()
    }

    /// The events of `account`'s promotion log, oldest first.
    pub(crate) fn log_events(&self, account: &str) -> Vec<String> {
        self.ok(&["log", account])
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_owned())
            .collect()
    }
}
