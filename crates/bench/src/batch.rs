//! `batch --rows N --latency-ms L --concurrency C`: the CLI's `promote --batch` of an `N`-row
//! CSV file (rows naming their accounts by reference), run by the `crm2sage` binary itself in a
//! child process so its peak RSS is its own, next to the bare promote baseline
//! ([`baseline::promotions`]: the same lookup and create requests, `C` in flight) against the
//! same simulator.
//!
//! Before the timed run the child's database is prepared with the same binary: the `N`
//! accounts imported (`account import`), the simulator added as an integration and synced.
//! The child's peak RSS is its `VmHWM` (the kernel's high-water mark of its resident set),
//! read from `/proc/PID/status` every few milliseconds while it runs.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::baseline;
use crate::note;
use crate::sim::SimInfo;
use crate::stats::{per_s, round};

/// How often the child's `VmHWM` is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// The environment variable the child reads the simulator's password from.
const PASSWORD_ENV: &str = "CRM2SAGE_BENCH_SAGE_PASSWORD";

/// The `batch` subcommand.
pub(crate) async fn batch_bench(
    sim: &SimInfo,
    rows: usize,
    latency_ms: u64,
    concurrency: usize,
    dir: Option<&Path>,
    cli: Option<PathBuf>,
) -> Result<Value, String> {
    let cli = match cli {
        Some(cli) => cli,
        None => default_cli()?,
    };
    let tmp = crate::ours::temp_dir(dir)?;
    let db = tmp.path().join("ours.db");
    let accounts = tmp.path().join("accounts.csv");
    let batch = tmp.path().join("batch.csv");
    generate(&accounts, &batch, rows)?;
    let prepare_started = Instant::now();
    let child = Child {
        cli: &cli,
        db: &db,
        password: &sim.password,
    };
    child.run(&["-q", "account", "import", &path_arg(&accounts)])?;
    child.run(&[
        "-q",
        "integration",
        "add",
        "s300",
        "--kind",
        "sage300",
        "--url",
        &sim.base_url,
        "--company",
        &sim.company,
        "--user",
        &sim.user,
        "--password-env",
        PASSWORD_ENV,
        "--default",
    ])?;
    child.run(&["-q", "sync"])?;
    let db_before = db_bytes(&db);
    note!(
        "prepared {rows} accounts in {:.1} s; ours: promote --batch, {concurrency} under way",
        prepare_started.elapsed().as_secs_f64()
    );

    let batch_arg = path_arg(&batch);
    let concurrency_arg = concurrency.to_string();
    let args = [
        "-q",
        "promote",
        "--batch",
        batch_arg.as_str(),
        "--concurrency",
        concurrency_arg.as_str(),
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ];
    let (ours, peak) = {
        let cli = cli.clone();
        let db = db.clone();
        let password = sim.password.clone();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let child = Child {
                cli: &cli,
                db: &db,
                password: &password,
            };
            child.measured(&args)
        })
        .await
        .map_err(|e| format!("the timed run's thread: {e}"))??
    };
    // Measured before this process opens the database (closing a connection checkpoints).
    let db_after = db_bytes(&db);
    let promoted = count_bindings(&db)?;
    if promoted != rows {
        return Err(format!(
            "ours promoted {promoted} of {rows} rows; the run is not comparable"
        ));
    }
    note!(
        "ours: {rows} rows in {:.2} s ({:.0}/s), peak RSS {peak:.1} MiB",
        ours.as_secs_f64(),
        per_s(rows, ours)
    );

    note!("baseline: {rows} × (GET + POST), {concurrency} in flight");
    let base = baseline::promotions::<baseline::BareDb>(sim, rows, concurrency, "Q", None).await?;
    note!(
        "baseline: {:.1}/s in {:.2} s",
        base.per_s(rows),
        base.elapsed.as_secs_f64()
    );
    let ours_rate = per_s(rows, ours);
    let base_rate = base.per_s(rows);
    let per_account = |bytes: u64| round(bytes as f64 / promoted.max(1) as f64, 0);
    Ok(json!({
        "bench": "batch",
        "rows": rows,
        "latency_ms": latency_ms,
        "concurrency": concurrency,
        "throughput_per_s": round(ours_rate, 1),
        "baseline_per_s": round(base_rate, 1),
        "ratio": round(if base_rate > 0.0 { ours_rate / base_rate } else { 0.0 }, 3),
        "ceiling_per_s": if latency_ms == 0 {
            Value::Null
        } else {
            json!(round(concurrency as f64 / (2.0 * latency_ms as f64 / 1000.0), 1))
        },
        "peak_rss_mib": round(peak, 1),
        "db_bytes": db_after,
        "db_bytes_per_promoted_account": per_account(db_after),
        "db_growth_bytes_per_promoted_account": per_account(db_after.saturating_sub(db_before)),
        "promoted": promoted,
        "baseline_failed": base.failed,
        "ours_s": round(ours.as_secs_f64(), 2),
        "baseline_s": round(base.elapsed.as_secs_f64(), 2),
        "cli": cli.display().to_string(),
    }))
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The `crm2sage` binary next to this one (both built into the same target directory).
fn default_cli() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("where am I: {e}"))?;
    let cli = me.with_file_name(format!("crm2sage{}", std::env::consts::EXE_SUFFIX));
    if cli.exists() {
        Ok(cli)
    } else {
        Err(format!(
            "{} is missing: build it into the same target directory (cargo build --release -p crm2sage-cli), or pass --cli PATH",
            cli.display()
        ))
    }
}

/// Writes the accounts file (`B-{i}`, valid Vancouver addresses) and the batch file naming
/// each by reference, customer number `BT{i}`.
fn generate(accounts: &Path, batch: &Path, rows: usize) -> Result<(), String> {
    let write = |path: &Path, head: &str, line: &dyn Fn(usize) -> String| {
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut out = BufWriter::new(file);
        let written = (|| -> std::io::Result<()> {
            writeln!(out, "{head}")?;
            for i in 0..rows {
                writeln!(out, "{}", line(i))?;
            }
            out.flush()
        })();
        written.map_err(|e| format!("{}: {e}", path.display()))
    };
    write(
        accounts,
        "reference,name,line1,city,state,postal_code,country,currency",
        &|i| {
            format!(
                "B-{i:08},Batch Account {i},{} Main St,Vancouver,BC,V5K 0A1,CA,CAD",
                i % 10_000 + 1
            )
        },
    )?;
    write(batch, "account_ref,customer_no", &|i| {
        format!("B-{i:08},BT{i:08}")
    })
}

/// The `crm2sage` binary on one database, with the simulator's password.
struct Child<'a> {
    cli: &'a Path,
    db: &'a Path,
    password: &'a str,
}

impl Child<'_> {
    fn command(&self, args: &[impl AsRef<std::ffi::OsStr>]) -> Command {
        let mut cmd = Command::new(self.cli);
        cmd.arg("--db")
            .arg(self.db)
            .args(args)
            .env_remove("CRM2SAGE_DB")
            .env(PASSWORD_ENV, self.password)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        cmd
    }

    /// Runs to its end; an exit other than 0 is an error.
    fn run(&self, args: &[&str]) -> Result<(), String> {
        let status = self
            .command(args)
            .status()
            .map_err(|e| format!("starting {}: {e}", self.cli.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("crm2sage {} ended with {status}", args.join(" ")))
        }
    }

    /// Runs to its end, timed, sampling its peak RSS (MiB).
    fn measured(&self, args: &[String]) -> Result<(Duration, f64), String> {
        let started = Instant::now();
        let mut child = self
            .command(args)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.cli.display()))?;
        let status_path = format!("/proc/{}/status", child.id());
        let mut peak_kib = 0u64;
        let status = loop {
            if let Some(kib) = hwm_kib(&status_path) {
                peak_kib = peak_kib.max(kib);
            }
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => std::thread::sleep(SAMPLE_EVERY),
                Err(e) => return Err(format!("waiting for {}: {e}", self.cli.display())),
            }
        };
        let elapsed = started.elapsed();
        if !status.success() {
            return Err(format!("crm2sage {} ended with {status}", args.join(" ")));
        }
        Ok((elapsed, peak_kib as f64 / 1024.0))
    }
}

/// `VmHWM` of a `/proc/PID/status`, in KiB.
fn hwm_kib(status_path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// The database's size on disk: the file and its WAL.
fn db_bytes(db: &Path) -> u64 {
    let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    size(db.to_path_buf()) + size(PathBuf::from(wal))
}

fn count_bindings(db: &Path) -> Result<usize, String> {
    let conn = Connection::open(db).map_err(|e| e.to_string())?;
    conn.query_row("SELECT count(*) FROM bindings", [], |row| {
        row.get::<_, i64>(0)
    })
    .map(|n| usize::try_from(n).unwrap_or(0))
    .map_err(|e| format!("counting our bindings: {e}"))
}
