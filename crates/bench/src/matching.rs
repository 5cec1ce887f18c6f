//! `match --accounts N --customers M`: the CLI's `crm2sage --json match` over `N` unbound
//! accounts and an `M`-customer index, run by the `crm2sage` binary in a child process so its
//! peak RSS is its own (measured as [`crate::child`] says); accounts per second.
//!
//! Prepared with the same binary, none of it timed: the `N` accounts imported from a generated
//! file (`account import`), the simulator (seeded with `M` customers, `S000001`…) added as an
//! integration, `sync` (the reference kinds: needed for nothing here, harmless) and
//! `sync --only customer` (the index). Account `i` (1-based) is, for odd `i` up to `M`, the
//! seeded customer `i` written another way — `Customer 000123 Limited` for `Customer 000123
//! Ltd`, phone `(555) 000-0123` for `555-000-0123`, e-mail in capitals — so it gets exactly one
//! candidate, `S000123`, by name, phone and e-mail; every other account has a name, phone and
//! e-mail no customer shares. The timed run's output (a JSON array of the accounts with
//! candidates) goes to a file and is checked afterwards: one row per matching account, each
//! proposing its customer.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use crate::child::{Child, default_cli, excerpt, path_arg};
use crate::note;
use crate::sim::SimInfo;
use crate::stats::{per_s, round};

/// Whether account `i` (1-based) is written to match seeded customer `i`.
fn matches_customer(i: usize, customers: usize) -> bool {
    i % 2 == 1 && i <= customers
}

/// The `match` subcommand, against a simulator seeded with `customers` customers.
pub(crate) async fn match_bench(
    sim: &SimInfo,
    accounts: usize,
    customers: usize,
    dir: Option<&Path>,
    cli: Option<PathBuf>,
) -> Result<Value, String> {
    let cli = match cli {
        Some(cli) => cli,
        None => default_cli()?,
    };
    let tmp = crate::ours::temp_dir(dir)?;
    let db = tmp.path().join("ours.db");
    let file = tmp.path().join("accounts.csv");
    let expected = generate(&file, accounts, customers)?;
    let child = Child {
        cli: cli.clone(),
        db: db.clone(),
        password: sim.password.clone(),
    };
    let started = Instant::now();
    child.run(&["-q", "account", "import", &path_arg(&file)])?;
    note!(
        "imported {accounts} accounts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    child.add_integration(sim)?;
    child.run(&["-q", "sync"])?;
    let started = Instant::now();
    let synced = child
        .measured_off_runtime(&["-q", "sync", "--only", "customer"], None)
        .await?;
    note!(
        "customer index synced in {:.1} s (peak RSS {:.1} MiB)",
        started.elapsed().as_secs_f64(),
        synced.peak_rss_mib
    );
    let db_mib = crate::batch::db_bytes(&db) as f64 / (1 << 20) as f64;

    note!("ours: crm2sage --json match over {accounts} accounts");
    let out = tmp.path().join("match.json");
    let measured = child
        .measured_off_runtime(&["--json", "match"], Some(out.clone()))
        .await?;
    let checked = check(&out, customers)?;
    if checked.rows != expected || checked.right != expected {
        return Err(format!(
            "match listed {} accounts with candidates ({} proposing their customer) where {expected} were expected; the run is not comparable",
            checked.rows, checked.right
        ));
    }
    let rate = per_s(accounts, measured.elapsed);
    note!(
        "ours: {accounts} accounts in {:.2} s ({rate:.0}/s), peak RSS {:.1} MiB, {} with candidates",
        measured.elapsed.as_secs_f64(),
        measured.peak_rss_mib,
        checked.rows
    );
    Ok(json!({
        "bench": "match",
        "accounts": accounts,
        "customers_seeded": customers,
        "accounts_per_s": round(rate, 0),
        "elapsed_s": round(measured.elapsed.as_secs_f64(), 3),
        "peak_rss_mib": round(measured.peak_rss_mib, 1),
        "with_candidates": checked.rows,
        "output_mib": round(checked.bytes as f64 / (1 << 20) as f64, 1),
        "db_mib_before": round(db_mib, 1),
        "index_sync_s": round(synced.elapsed.as_secs_f64(), 2),
        "index_sync_peak_rss_mib": round(synced.peak_rss_mib, 1),
        "target_accounts_per_s": 10_000,
        "target_peak_rss_mib": 128,
        "cli": cli.display().to_string(),
    }))
}

/// Writes the accounts file (see the module docs); returns how many accounts match a customer.
fn generate(path: &Path, accounts: usize, customers: usize) -> Result<usize, String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    let mut matching = 0;
    let mut write = |out: &mut BufWriter<std::fs::File>| -> std::io::Result<()> {
        writeln!(
            out,
            "reference,name,line1,city,state,postal_code,country,phone,email"
        )?;
        for i in 1..=accounts {
            let street = i % 10_000 + 1;
            let (hi, lo) = (i / 10_000 % 1000, i % 10_000);
            if matches_customer(i, customers) {
                matching += 1;
                writeln!(
                    out,
                    "M-{i:08},Customer {i:06} Limited,{street} Main St,Vancouver,BC,V5K 0A1,CA,(555) {hi:03}-{lo:04},CUSTOMER{i:06}@Example.COM"
                )?;
            } else {
                writeln!(
                    out,
                    "M-{i:08},Prospect {i:06} Holdings,{street} Main St,Vancouver,BC,V5K 0A1,CA,+1 604 {hi:03} {lo:04},ap{i}@prospect.example"
                )?;
            }
        }
        out.flush()
    };
    write(&mut out).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(matching)
}

/// What the timed run printed.
#[derive(Debug)]
struct Checked {
    /// Accounts listed (those with candidates).
    rows: usize,
    /// Of them, with exactly one candidate: their own customer.
    right: usize,
    bytes: u64,
}

/// Reads the match output: a JSON array of rows, each an account and its candidates.
fn check(path: &Path, customers: usize) -> Result<Checked, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = text.len() as u64;
    let mut docs = serde_json::Deserializer::from_slice(&text).into_iter::<Value>();
    let doc = docs
        .next()
        .ok_or_else(|| "match printed nothing".to_owned())?
        .map_err(|e| format!("match's output: {e}"))?;
    let rows = doc
        .as_array()
        .ok_or_else(|| format!("match's output is not an array: {}", excerpt(&doc, 200)))?;
    let right = rows
        .iter()
        .filter(|row| proposes_own(row, customers))
        .count();
    Ok(Checked {
        rows: rows.len(),
        right,
        bytes,
    })
}

/// Whether `row` is account `Customer {i:06} Limited` with the one candidate `S{i:06}`.
fn proposes_own(row: &Value, customers: usize) -> bool {
    let i = row["name"]
        .as_str()
        .and_then(|n| n.strip_prefix("Customer "))
        .and_then(|n| n.strip_suffix(" Limited"))
        .and_then(|n| n.parse::<usize>().ok());
    let Some(i) = i.filter(|i| matches_customer(*i, customers)) else {
        return false;
    };
    match row["candidates"].as_array().map(Vec::as_slice) {
        Some([only]) => {
            only["customer_no"].as_str()
                == Some(crm2sage_sage_simulator::RunningSage300::seeded_customer_number(i).as_str())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_the_accounts_match_and_only_their_own_customer() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let file = dir.path().join("a.csv");
        assert_eq!(generate(&file, 10, 6).expect("written"), 3);
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(
            text.contains("M-00000005,Customer 000005 Limited,"),
            "{text}"
        );
        assert!(
            text.contains("M-00000007,Prospect 000007 Holdings,"),
            "{text}"
        );
        let row =
            json!({"name": "Customer 000005 Limited", "candidates": [{"customer_no": "S000005"}]});
        assert!(proposes_own(&row, 6));
        let wrong =
            json!({"name": "Customer 000005 Limited", "candidates": [{"customer_no": "S000003"}]});
        assert!(!proposes_own(&wrong, 6));
    }
}
