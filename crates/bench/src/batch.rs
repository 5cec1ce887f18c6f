//! `batch --rows N --latency-ms L --concurrency C`: the CLI's `promote --batch` of an `N`-row
//! CSV file (rows naming their accounts by reference), run by the `crm2sage` binary itself in a
//! child process so its peak RSS is its own, next to the bare promote baseline
//! ([`baseline::promotions`]: the same two requests per promotion — the lookup by number, the
//! create — `C` in flight) against a simulator started alike.
//!
//! The batch runs with `--allow-duplicate`, which skips the duplicate guard (its lookup by
//! name): the figure is the promotion path's throughput, as before the guard; a guarded row
//! costs one more request's latency.
//!
//! Before the timed run the child's database is prepared with the same binary: the `N`
//! accounts imported (`account import`), the simulator added as an integration and synced.
//! The child's peak RSS is measured as [`crate::child`] says.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::baseline::{self, REQUESTS_PER_PROMOTION};
use crate::child::{Child, default_cli, path_arg};
use crate::note;
use crate::sim::SimInfo;
use crate::stats::{per_s, round};

/// The name of the batch's account `i` (0-based).
fn batch_name(i: usize) -> String {
    format!("Batch Account {i}")
}

/// The `batch` subcommand: ours against `sim`, the baseline against `base_sim` (a simulator
/// started alike, so both sides' customer tables grow alike).
pub(crate) async fn batch_bench(
    sim: &SimInfo,
    base_sim: &SimInfo,
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
        cli: cli.clone(),
        db: db.clone(),
        password: sim.password.clone(),
    };
    child.run(&["-q", "account", "import", &path_arg(&accounts)])?;
    child.add_integration(sim)?;
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
        "--allow-duplicate",
    ];
    let measured = child.measured_off_runtime(&args, None).await?;
    let (ours, peak) = (measured.elapsed, measured.peak_rss_mib);
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

    note!("baseline: {rows} × (GET by number + POST), {concurrency} in flight");
    let base =
        baseline::promotions::<baseline::BareDb>(base_sim, rows, concurrency, "Q", None).await?;
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
            json!(round(
                concurrency as f64
                    / (REQUESTS_PER_PROMOTION as f64 * latency_ms as f64 / 1000.0),
                1
            ))
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
                "B-{i:08},{},{} Main St,Vancouver,BC,V5K 0A1,CA,CAD",
                batch_name(i),
                i % 10_000 + 1
            )
        },
    )?;
    write(batch, "account_ref,customer_no", &|i| {
        format!("B-{i:08},BT{i:08}")
    })
}

/// The database's size on disk: the file and its WAL.
pub(crate) fn db_bytes(db: &Path) -> u64 {
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
