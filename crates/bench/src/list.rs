//! `list --accounts N`: the real `crm2sage --json account list` over a database of `N`
//! accounts, in its own process: its peak RSS and accounts per second.
//!
//! The database is filled directly through the store's bulk insert (`insert_accounts`, 10,000
//! accounts a transaction: not timed). The listing runs the `crm2sage` binary next to this one
//! (or `--crm2sage PATH`); its stdout is read here, counted and checked (one element per
//! account). Its peak RSS is `VmHWM` of `/proc/PID/status`, sampled every 5 ms until the process
//! is gone (the high-water mark only grows, so the last sample is the peak but for the last
//! few milliseconds of its exit).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crm2sage::ports::AccountStore;
use crm2sage::{Account, AccountId, AddressInput, NewAccount, SqliteStore, Timestamp};
use serde_json::{Value, json};

use crate::stats::{per_s, round};

/// Accounts stored a transaction while filling.
const FILL_CHUNK: usize = 10_000;

/// The `crm2sage` binary next to this one.
fn sibling_binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("finding this binary: {e}"))?;
    let path = me.with_file_name(format!("crm2sage{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is not built: build the cli into the same target dir (cargo build --release -p crm2sage-cli) or pass --crm2sage PATH",
            path.display()
        ))
    }
}

fn account(n: usize, now: Timestamp) -> Result<Account, String> {
    let mut address = AddressInput::new(format!("{n} Main St"), "Vancouver", "CA");
    address.state = Some("BC".into());
    address.postal_code = Some("V5K 0A1".into());
    let mut input = NewAccount::new(format!("Account {n}"), address);
    input.email = Some(format!("ap{n}@example.com"));
    input.currency = Some("CAD".into());
    input.terms = Some("N30".into());
    input.reference = Some(format!("CRM-{n:07}"));
    let details = input.validate().map_err(|e| format!("account {n}: {e}"))?;
    Ok(Account::new(AccountId::generate(), details, now))
}

async fn fill(db: &Path, n: usize) -> Result<(), String> {
    let store = SqliteStore::open(db).map_err(|e| e.to_string())?;
    let now = Timestamp::now();
    let started = Instant::now();
    let mut chunk = Vec::with_capacity(FILL_CHUNK);
    for i in 0..n {
        chunk.push(account(i, now)?);
        if chunk.len() == FILL_CHUNK || i + 1 == n {
            store
                .insert_accounts(&chunk)
                .await
                .map_err(|e| format!("storing accounts: {e}"))?;
            chunk.clear();
        }
    }
    crate::note!(
        "filled {n} accounts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `VmHWM` of process `pid` in KiB, while it has a memory map.
fn hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) async fn list_bench(
    n: usize,
    crm2sage: Option<PathBuf>,
    dir: Option<PathBuf>,
) -> Result<Value, String> {
    let bin = match crm2sage {
        Some(path) => path,
        None => sibling_binary()?,
    };
    let tmp = crate::ours::temp_dir(dir.as_deref())?;
    let db = tmp.path().join("crm2sage.db");
    fill(&db, n).await?;
    let db_mib = std::fs::metadata(&db).map_or(0.0, |m| m.len() as f64 / 1_048_576.0);

    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args(["--json", "account", "list"])
        .env("CRM2SAGE_DB", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let pid = child.id();
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let peak = Arc::clone(&peak);
        std::thread::spawn(move || {
            // Until the process has exited (a zombie has no memory map).
            while let Some(kib) = hwm_kib(pid) {
                peak.fetch_max(kib, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| "the listing's stdout".to_owned())?;
    let (elements, bytes) = tokio::task::spawn_blocking(move || {
        // An account element opens with `  {` on its own line in the pretty array.
        let mut reader = BufReader::with_capacity(1 << 16, stdout);
        let (mut elements, mut bytes) = (0usize, 0usize);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(k) => {
                    bytes += k;
                    if line == "  {\n" {
                        elements += 1;
                    }
                }
            }
        }
        (elements, bytes)
    })
    .await
    .map_err(|e| format!("reading the listing: {e}"))?;
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the listing: {e}"))?;
    let elapsed = started.elapsed();
    let _ = sampler.join();
    if !status.success() {
        return Err(format!("`crm2sage --json account list` failed: {status}"));
    }
    if elements != n {
        return Err(format!("the listing printed {elements} accounts, not {n}"));
    }
    let peak_mib = peak.load(Ordering::Relaxed) as f64 / 1024.0;
    crate::note!(
        "listed {n} accounts ({:.0} MiB of JSON) in {:.2} s, peak RSS {peak_mib:.1} MiB",
        bytes as f64 / 1_048_576.0,
        elapsed.as_secs_f64()
    );
    Ok(json!({
        "benchmark": "list",
        "accounts": n,
        "accounts_per_s": round(per_s(n, elapsed), 0),
        "elapsed_s": round(elapsed.as_secs_f64(), 3),
        "peak_rss_mib": round(peak_mib, 1),
        "json_mib": round(bytes as f64 / 1_048_576.0, 1),
        "db_mib": round(db_mib, 1),
    }))
}
