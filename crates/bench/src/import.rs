//! `import --rows N`: the CLI's `account import` of an `N`-row CSV file (the `crm2sage` binary
//! itself, in a child process, so its peak RSS is its own), next to a bare `csv` + `rusqlite`
//! loop inserting the same rows in 1,000-row transactions in this process.
//!
//! The child's peak RSS is its `VmHWM` (the kernel's high-water mark of its resident set),
//! read from `/proc/PID/status` every few milliseconds while it runs; the mark only grows, so
//! the last reading misses at most what the child added in its last few milliseconds.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::child::{default_cli, hwm_kib};
use crate::note;
use crate::stats::{per_s, round};

/// Rows per transaction of the bare loop (as our import's chunk).
const BASELINE_CHUNK: usize = 1000;

/// How often the child's `VmHWM` is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// The `import` subcommand.
pub(crate) fn import_bench(
    rows: usize,
    dir: Option<&Path>,
    cli: Option<PathBuf>,
) -> Result<Value, String> {
    let cli = match cli {
        Some(cli) => cli,
        None => default_cli()?,
    };
    let dir = crate::ours::temp_dir(dir)?;
    let file = dir.path().join("accounts.csv");
    generate(&file, rows)?;
    let file_mib = std::fs::metadata(&file).map_or(0.0, |m| m.len() as f64 / (1 << 20) as f64);
    note!(
        "generated {rows} rows ({file_mib:.1} MiB) in {}",
        file.display()
    );

    let ours_db = dir.path().join("ours.db");
    let (ours, peak) = run_ours(&cli, &ours_db, &file)?;
    let stored = count(&ours_db)?;
    if stored != rows {
        return Err(format!(
            "ours stored {stored} accounts of {rows} rows; the run is not comparable"
        ));
    }
    note!(
        "ours: {rows} rows in {:.2} s ({:.0}/s), peak RSS {peak:.1} MiB",
        ours.as_secs_f64(),
        per_s(rows, ours)
    );

    let bare = baseline(&dir.path().join("baseline.db"), &file)?;
    note!(
        "baseline: {rows} rows in {:.2} s ({:.0}/s)",
        bare.as_secs_f64(),
        per_s(rows, bare)
    );
    let (ours_rate, bare_rate) = (per_s(rows, ours), per_s(rows, bare));
    Ok(json!({
        "bench": "import",
        "rows": rows,
        "file_mib": round(file_mib, 1),
        "rows_per_s": round(ours_rate, 0),
        "baseline_rows_per_s": round(bare_rate, 0),
        "ratio": round(if bare_rate > 0.0 { ours_rate / bare_rate } else { 0.0 }, 3),
        "peak_rss_mib": round(peak, 1),
        "ours_s": round(ours.as_secs_f64(), 2),
        "baseline_s": round(bare.as_secs_f64(), 2),
        "cli": cli.display().to_string(),
    }))
}

/// Writes an accounts file of `rows` distinct, valid rows.
fn generate(path: &Path, rows: usize) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    let write = |out: &mut BufWriter<std::fs::File>| -> std::io::Result<()> {
        writeln!(
            out,
            "reference,name,line1,city,state,postal_code,country,phone,email"
        )?;
        for i in 0..rows {
            writeln!(
                out,
                "CRM-{i:08},Account {i} Ltd,{} Main St,Vancouver,BC,V5K 0A1,CA,+1 604 555 {:04},ap{i}@example.com",
                i % 10_000 + 1,
                i % 10_000
            )?;
        }
        out.flush()
    };
    write(&mut out).map_err(|e| format!("{}: {e}", path.display()))
}

/// `crm2sage -q --db DB account import FILE`: its wall time and peak RSS (MiB).
fn run_ours(cli: &Path, db: &Path, file: &Path) -> Result<(Duration, f64), String> {
    let started = Instant::now();
    let mut child = Command::new(cli)
        .arg("-q")
        .arg("--db")
        .arg(db)
        .args(["account", "import"])
        .arg(file)
        .env_remove("CRM2SAGE_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", cli.display()))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(kib) = hwm_kib(&status_path) {
            peak_kib = peak_kib.max(kib);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(SAMPLE_EVERY),
            Err(e) => return Err(format!("waiting for {}: {e}", cli.display())),
        }
    };
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(format!(
            "{} account import ended with {status}",
            cli.display()
        ));
    }
    Ok((elapsed, peak_kib as f64 / 1024.0))
}

fn count(db: &Path) -> Result<usize, String> {
    let conn = Connection::open(db).map_err(|e| e.to_string())?;
    conn.query_row("SELECT count(*) FROM accounts", [], |row| {
        row.get::<_, i64>(0)
    })
    .map(|n| usize::try_from(n).unwrap_or(0))
    .map_err(|e| format!("counting our accounts: {e}"))
}

/// The bare loop: read each record with `csv`, insert it with one prepared statement, commit
/// every 1,000 rows (WAL, `synchronous=FULL`, as our store), on a table with the same
/// constraints an import relies on (a primary key, a unique reference).
fn baseline(db: &Path, file: &Path) -> Result<Duration, String> {
    let started = Instant::now();
    let e = |e: rusqlite::Error| e.to_string();
    let mut conn = Connection::open(db).map_err(e)?;
    conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get::<_, String>(0))
        .map_err(e)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(e)?;
    conn.execute_batch(
        "CREATE TABLE accounts (
            id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, billing_line1 TEXT NOT NULL,
            billing_city TEXT NOT NULL, billing_state TEXT, billing_postal_code TEXT,
            billing_country TEXT NOT NULL, phone TEXT, email TEXT, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, reference TEXT UNIQUE
        ) STRICT",
    )
    .map_err(e)?;
    let mut reader = csv::Reader::from_path(file).map_err(|e| e.to_string())?;
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    let mut done = false;
    while !done {
        let tx = conn.transaction().map_err(e)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO accounts (id, name, billing_line1, billing_city, billing_state, \
                     billing_postal_code, billing_country, phone, email, created_at, updated_at, \
                     reference) VALUES (?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?2)",
                )
                .map_err(e)?;
            for _ in 0..BASELINE_CHUNK {
                if !reader.read_record(&mut record).map_err(|e| e.to_string())? {
                    done = true;
                    break;
                }
                n += 1;
                let cell = |i: usize| record.get(i).unwrap_or("");
                insert
                    .execute(params![
                        format!("{n:032x}"),
                        cell(0),
                        cell(1),
                        cell(2),
                        cell(3),
                        cell(4),
                        cell(5),
                        cell(6),
                        cell(7),
                        cell(8),
                        "2026-12-02T00:00:00Z",
                    ])
                    .map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
    }
    Ok(started.elapsed())
}
