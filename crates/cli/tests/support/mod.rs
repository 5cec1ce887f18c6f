//! Helpers: a simulator per test, a temporary database, and a way to run the binary.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
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

/// The crm id field every integration in these tests is configured with, so `recover` can
/// recognise our customers.
pub(crate) const CRM_ID_FIELD: &str = "CRMID";

pub(crate) fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Imports accounts `{prefix}000…` named `Account {prefix}{i}`; returns reference → id.
pub(crate) fn import_accounts(env: &Env, prefix: &str, n: usize) -> BTreeMap<String, String> {
    let mut csv = String::from("reference,name,line1,city,country\n");
    for i in 0..n {
        writeln!(
            csv,
            "{prefix}{i:03},Account {prefix}{i},{i} Main St,Town,US"
        )
        .unwrap();
    }
    let file = write(env, &format!("{prefix}-accounts.csv"), &csv);
    assert_eq!(env.ok(&["account", "import", &file])["imported"], n);
    env.ok(&["account", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| {
            let reference = a["reference"].as_str()?;
            reference
                .starts_with(prefix)
                .then(|| (reference.to_owned(), a["id"].as_str().unwrap().to_owned()))
        })
        .collect()
}

/// A batch file promoting every account `{prefix}i` as customer `{number_prefix}i`.
pub(crate) fn batch_file(env: &Env, prefix: &str, number_prefix: &str, n: usize) -> String {
    let mut csv = String::from("account_ref,customer_no,category,tax_group\n");
    for i in 0..n {
        writeln!(csv, "{prefix}{i:03},{number_prefix}{i:03},RTL,CALIF").unwrap();
    }
    write(env, &format!("{prefix}-batch.csv"), &csv)
}

/// The ERP's customers created after `before` (numbers) and the crm id each carries.
pub(crate) fn created_customers(
    env: &Env,
    before: &BTreeSet<String>,
) -> BTreeMap<String, Option<String>> {
    env.sim
        .customers()
        .into_iter()
        .filter_map(|c| {
            let number = c["CustomerNumber"].as_str()?.to_owned();
            if before.contains(&number) {
                return None;
            }
            let crm_id = c["CustomerOptionalFieldValues"]
                .as_array()
                .and_then(|fields| {
                    fields
                        .iter()
                        .find(|f| f["OptionalField"].as_str() == Some(CRM_ID_FIELD))
                })
                .and_then(|f| f["Value"].as_str())
                .map(str::to_owned);
            Some((number, crm_id))
        })
        .collect()
}
