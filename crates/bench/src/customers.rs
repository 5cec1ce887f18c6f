//! `customers --customers N --page-size P --latency-ms L`: the CLI's `crm2sage --json sync
//! --only customer` (a full first sync of the customer index) of `N` seeded customers, run by
//! the `crm2sage` binary in a child process so its peak RSS is its own (measured as
//! [`crate::child`] says), next to a bare reqwest loop fetching the same pages in this process
//! ([`baseline::fetch_pages`] with the adapter's first URL, [`baseline::customers_first_query`],
//! and its paging: the next link, else `$skip` while `@odata.count` says more rows exist — the
//! simulator, like OData, ends the links at `$top`).
//!
//! The simulator's list query caches the keys it matched until a record changes, so the first
//! pass over a query pays a scan the second does not: one untimed request of the first page
//! warms it before either side runs. Ours is timed from spawn to exit, so it includes the
//! process's start and the database's opening (`process_startup_s` reports a run of
//! `integration list` for scale).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::baseline;
use crate::child::{Child, default_cli, excerpt};
use crate::note;
use crate::sim::SimInfo;
use crate::stats::{per_s, round};

/// What the list's first page is fetched from.
const CUSTOMERS: &str = "AR/ARCustomers";

/// The `customers` subcommand, against a simulator seeded with `customers` customers.
pub(crate) async fn customers_bench(
    sim: &SimInfo,
    customers: usize,
    page_size: usize,
    latency_ms: u64,
    dir: Option<&Path>,
    cli: Option<PathBuf>,
) -> Result<Value, String> {
    let cli = match cli {
        Some(cli) => cli,
        None => default_cli()?,
    };
    let tmp = crate::ours::temp_dir(dir)?;
    let db = tmp.path().join("ours.db");
    let child = Child {
        cli: cli.clone(),
        db: db.clone(),
        password: sim.password.clone(),
    };
    child.add_integration(sim)?;
    let startup = child
        .measured_off_runtime(&["-q", "integration", "list"], None)
        .await?;
    warm(sim).await?;

    note!("ours: crm2sage --json sync --only customer ({customers} seeded)");
    let out = tmp.path().join("sync.json");
    let measured = child
        .measured_off_runtime(&["--json", "sync", "--only", "customer"], Some(out.clone()))
        .await?;
    let (listed, indexed) = listed(&out)?;
    if indexed < customers || listed != indexed {
        return Err(format!(
            "the sync listed {listed} and indexed {indexed} customers of {customers} seeded (and the demo's); the run is not comparable"
        ));
    }
    let ours = measured.elapsed;
    note!(
        "ours: {listed} customers in {:.2} s ({:.0}/s), peak RSS {:.1} MiB",
        ours.as_secs_f64(),
        per_s(listed, ours),
        measured.peak_rss_mib
    );

    let (pages, bytes, bare, parse) = baseline::fetch_pages(
        sim,
        CUSTOMERS,
        &baseline::customers_first_query(),
        baseline::Paging::LinksThenSkip {
            row_key: "\"CustomerNumber\":",
        },
    )
    .await?;
    note!(
        "baseline: {pages} pages, {:.1} MiB in {:.2} s ({:.0}/s)",
        bytes as f64 / (1 << 20) as f64,
        bare.as_secs_f64(),
        per_s(listed, bare)
    );
    let (ours_rate, bare_rate) = (per_s(listed, ours), per_s(listed, bare));
    Ok(json!({
        "bench": "customers",
        "customers": listed,
        "customers_seeded": customers,
        "page_size": page_size,
        "latency_ms": latency_ms,
        "pages": pages,
        "records_per_s": round(ours_rate, 0),
        "baseline_per_s": round(bare_rate, 0),
        "ratio": crate::ours::ratio(ours_rate, bare_rate),
        "peak_rss_mib": round(measured.peak_rss_mib, 1),
        "elapsed_s": secs(ours),
        "baseline_elapsed_s": secs(bare),
        "process_startup_s": secs(startup.elapsed),
        "page_kib": round(bytes as f64 / 1024.0 / pages.max(1) as f64, 1),
        "json_parse_ms_per_page": round(parse.as_secs_f64() * 1000.0, 2),
        "db_mib_after": round(crate::batch::db_bytes(&db) as f64 / (1 << 20) as f64, 1),
        "target_ratio": 0.85,
        "target_peak_rss_mib": 64,
        "cli": cli.display().to_string(),
    }))
}

fn secs(d: Duration) -> f64 {
    round(d.as_secs_f64(), 3)
}

/// One untimed request of the list's first page (see the module docs).
async fn warm(sim: &SimInfo) -> Result<(), String> {
    let started = Instant::now();
    let client = baseline::client(sim)?;
    let url = format!(
        "{}/{CUSTOMERS}?{}",
        sim.company_url,
        baseline::customers_first_query()
    );
    let answer = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !answer.status().is_success() {
        return Err(format!("GET {url}: status {}", answer.status()));
    }
    let _ = answer.bytes().await.map_err(|e| e.to_string())?;
    note!(
        "warmed the simulator's list in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `listed` and `indexed` of the sync's JSON document.
fn listed(path: &Path) -> Result<(usize, usize), String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value =
        serde_json::from_slice(&text).map_err(|e| format!("the sync's output: {e}"))?;
    let field = |name: &str| {
        doc[name]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| format!("the sync's output lacks `{name}`: {}", excerpt(&doc, 300)))
    };
    Ok((field("listed")?, field("indexed")?))
}
