//! Helpers: a simulator per test, a temporary database, and a way to run the binary.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;
use std::process::Command;

use crm2sage_sage_simulator::{RunningSimulator, Sage300Config, start_sage300};
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
    pub(crate) sim: RunningSimulator,
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
