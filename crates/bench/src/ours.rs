//! The benchmarks proper: crm2sage's own path (domain services, Sage 300 adapter, SQLite store)
//! next to its baseline.
//!
//! Since the duplicate guard (issue 21) a promotion asks the ERP for customers with the
//! account's name before it creates one. The bench promotes the same account template (one
//! name) thousands of times, which the guard would refuse from the second promotion on: its
//! requests set `allow_duplicate`, which skips the guard, so ours makes the two requests the
//! baseline makes ([`baseline::promotions`]). Ours and the baseline each get a simulator of
//! their own, started alike.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm2sage::ports::Store;
use crm2sage::services::SyncProgress;
use crm2sage::{
    AccountId, AddressInput, Crm2Sage, MemorySecrets, NewAccount, NewIntegration, PromotionRequest,
    ReferenceKind, SecretString, SqliteStore, SyncOutcome,
};
use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};

use crate::baseline::{self, BareDb, COMMITS_PER_PROMOTION, LoopFigures, REQUESTS_PER_PROMOTION};
use crate::sim::SimInfo;
use crate::stats::{cpu_ms_each, per_s, process_cpu_s, round, status_mib};

/// The variable the bench integration names for its password; the simulator's password is
/// handed over in memory under it.
pub(crate) const PASSWORD_VAR: &str = "BENCH_PASSWORD";

/// A fresh temporary directory under `dir` (or the system's temp dir).
pub(crate) fn temp_dir(dir: Option<&Path>) -> Result<tempfile::TempDir, String> {
    let made = match dir {
        Some(dir) => tempfile::Builder::new()
            .prefix("crm2sage-bench")
            .tempdir_in(dir),
        None => tempfile::Builder::new().prefix("crm2sage-bench").tempdir(),
    };
    made.map_err(|e| format!("creating a temporary directory: {e}"))
}

/// crm2sage over a fresh database in `dir`, built by the facade's builder with its defaults
/// (as the CLI builds it; the simulator's password in memory), and an integration `bench` to
/// the simulator, made the default. The store is returned too, for its write counters.
async fn setup(sim: &SimInfo, dir: &Path) -> Result<(Crm2Sage, SqliteStore), String> {
    let store = SqliteStore::open(&dir.join("crm2sage.db")).map_err(|e| e.to_string())?;
    let services = services_over(sim, Arc::new(store.clone())).await?;
    add_integration(&services, sim).await?;
    Ok((services, store))
}

/// crm2sage over `store`, built by the facade's builder with its defaults and the simulator's
/// password in memory.
pub(crate) async fn services_over<S: Store + 'static>(
    sim: &SimInfo,
    store: Arc<S>,
) -> Result<Crm2Sage, String> {
    Crm2Sage::builder()
        .store(store)
        .secrets(MemorySecrets::new().with(PASSWORD_VAR, SecretString::from(sim.password.clone())))
        .build()
        .await
        .map_err(|e| format!("building crm2sage: {e}"))
}

/// The integration `bench` to the simulator, made the default.
pub(crate) async fn add_integration(services: &Crm2Sage, sim: &SimInfo) -> Result<(), String> {
    services
        .add_integration(&{
            let mut new_integration = NewIntegration::new(
                "bench",
                "sage300",
                sim.base_url.clone(),
                sim.company.clone(),
                sim.user.clone(),
            );
            new_integration.password_env = PASSWORD_VAR.into();
            new_integration.make_default = true;
            new_integration
        })
        .await
        .map_err(|e| format!("adding the integration: {e}"))?;
    Ok(())
}

pub(crate) fn no_progress(_: SyncProgress) {}

/// The name of [`account`] (every promotion of the bench promotes an account of this name).
pub(crate) const ACCOUNT_NAME: &str = "Barmart Ltd";

/// The account every promotion promotes (as `tests/support.rs`'s `valid_account`).
pub(crate) fn account() -> NewAccount {
    {
        let mut new_account = NewAccount::new(ACCOUNT_NAME, {
            let mut address = AddressInput::new("100 Main St", "Vancouver", "CA");
            address.line2 = Some("Suite 4".into());
            address.state = Some("BC".into());
            address.postal_code = Some("V5K 0A1".into());
            address
        });
        new_account.phone = Some("+1 604 555 0100".into());
        new_account.email = Some("ap@barmart.example.com".into());
        new_account.website = Some("https://barmart.example.com".into());
        new_account.currency = Some("CAD".into());
        new_account.language = Some("ENG".into());
        new_account.terms = Some("N30".into());
        new_account
    }
}

/// Sync of every kind and `n` accounts (not timed), then `n` promotions with `concurrency` under
/// way, each timed from start to settle (see [`timed_promotions`]), with the SQLite store's
/// write counters around them.
async fn our_promotions(
    services: &Crm2Sage,
    store: &SqliteStore,
    n: usize,
    concurrency: usize,
) -> Result<(LoopFigures, Value), String> {
    let requests = prepare(services, n, "P").await?;
    let writes_before = store.write_stats();
    let figures = timed_promotions(services, requests, concurrency).await;
    let writes = store.write_stats();
    let (w, c) = (
        writes.writes - writes_before.writes,
        writes.commits - writes_before.commits,
    );
    // Group commit: the writes each promotion waited for, and the transactions (fsyncs) that
    // carried them.
    let store_figures = json!({
        "store_writes": w,
        "store_commits": c,
        "fsyncs_per_promotion": round(c as f64 / n.max(1) as f64, 3),
    });
    Ok((figures, store_figures))
}

/// Sync of every kind and `n` accounts (neither timed); returns a promotion request for each,
/// customer numbers `{number_prefix}0000001…`.
pub(crate) async fn prepare(
    services: &Crm2Sage,
    n: usize,
    number_prefix: &str,
) -> Result<Vec<PromotionRequest>, String> {
    let synced = Instant::now();
    let (_, reports) = services
        .sync(None, None, &no_progress)
        .await
        .map_err(|e| format!("sync: {e}"))?;
    if let Some(bad) = reports.iter().find(|r| r.outcome != SyncOutcome::Ok) {
        return Err(format!("sync of {} failed: {:?}", bad.kind, bad.error));
    }
    crate::note!("synced in {:.2} s", synced.elapsed().as_secs_f64());
    let ids = create_accounts(services, n).await?;
    Ok(requests(ids, number_prefix))
}

/// `n` accounts (the bench's [`account`]), one after the other.
pub(crate) async fn create_accounts(
    services: &Crm2Sage,
    n: usize,
) -> Result<Vec<AccountId>, String> {
    let created = Instant::now();
    let input = account();
    let mut ids: Vec<AccountId> = Vec::with_capacity(n);
    for _ in 0..n {
        let account = services
            .create_account(&input)
            .await
            .map_err(|e| format!("creating an account: {e}"))?;
        ids.push(account.id());
    }
    crate::note!(
        "created {n} accounts in {:.2} s",
        created.elapsed().as_secs_f64()
    );
    Ok(ids)
}

/// A promotion request for each of `ids` (group `RTL`, tax group `CALIF`), customer numbers
/// `{number_prefix}0000001…`, with `allow_duplicate` (see the module docs).
pub(crate) fn requests(ids: Vec<AccountId>, number_prefix: &str) -> Vec<PromotionRequest> {
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| {
            let mut r = PromotionRequest::new(id, format!("{number_prefix}{:07}", i + 1));
            r.category = Some("RTL".into());
            r.tax_group = Some("CALIF".into());
            r.allow_duplicate = true;
            r
        })
        .collect()
}

/// `requests` promoted with `concurrency` under way, each timed from start to settle. The same
/// path as `Crm2Sage::promote_batch` (which runs each row through `Crm2Sage::promote`, on its
/// own task, in a `buffer_unordered`), with a timestamp around each row.
pub(crate) async fn timed_promotions(
    services: &Crm2Sage,
    requests: Vec<PromotionRequest>,
    concurrency: usize,
) -> LoopFigures {
    let n = requests.len();
    let started = Instant::now();
    let rows: Vec<Result<Duration, String>> = stream::iter(requests)
        .map(|request| async move {
            let t = Instant::now();
            services
                .promote(&request)
                .await
                .map(|_| t.elapsed())
                .map_err(|e| format!("{}: {e}", request.customer_no))
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut latencies = Vec::with_capacity(n);
    let mut failed = 0;
    for row in rows {
        match row {
            Ok(d) => latencies.push(d),
            Err(e) => {
                if failed == 0 {
                    crate::note!("promotion failed: {e}");
                }
                failed += 1;
            }
        }
    }
    LoopFigures {
        elapsed,
        latencies,
        failed,
    }
}

/// The best a promotion can do with `concurrency` under way at `latency_ms` per request:
/// `C / (2 L)` ([`REQUESTS_PER_PROMOTION`] requests one after the other); null at latency 0.
pub(crate) fn ceiling(concurrency: usize, latency_ms: u64) -> Value {
    if latency_ms == 0 {
        Value::Null
    } else {
        json!(round(
            concurrency as f64 / (REQUESTS_PER_PROMOTION as f64 * latency_ms as f64 / 1000.0),
            1
        ))
    }
}

/// `promote --accounts N --latency-ms L --concurrency C`: ours against `sim`, the baseline
/// against `base_sim` (see the module docs).
pub(crate) async fn promote_bench(
    sim: &SimInfo,
    base_sim: &SimInfo,
    n: usize,
    latency_ms: u64,
    concurrency: usize,
    dir: Option<std::path::PathBuf>,
) -> Result<Value, String> {
    let tmp = temp_dir(dir.as_deref())?;
    let (services, store) = setup(sim, tmp.path()).await?;
    crate::note!("baseline: {n} × (GET by number + POST), {concurrency} in flight");
    let mut base = baseline::promotions::<BareDb>(base_sim, n, concurrency, "Q", None).await?;
    crate::note!(
        "baseline: {:.1}/s in {:.2} s",
        base.per_s(n),
        base.elapsed.as_secs_f64()
    );
    let (mut mine, store_figures) = our_promotions(&services, &store, n, concurrency).await?;
    crate::note!(
        "ours: {:.1}/s in {:.2} s",
        mine.per_s(n),
        mine.elapsed.as_secs_f64()
    );
    let (p50, p99) = mine.p50_p99();
    let (b50, b99) = base.p50_p99();
    let ours = mine.per_s(n);
    let theirs = base.per_s(n);
    let ceiling = ceiling(concurrency, latency_ms);
    let mut out = json!({
        "bench": "promote",
        "accounts": n,
        "latency_ms": latency_ms,
        "concurrency": concurrency,
        "throughput_per_s": round(ours, 1),
        "baseline_per_s": round(theirs, 1),
        "ratio": ratio(ours, theirs),
        "ceiling_per_s": ceiling,
        "p50_ms": p50,
        "p99_ms": p99,
        "baseline_p50_ms": b50,
        "baseline_p99_ms": b99,
        "failed": mine.failed,
        "baseline_failed": base.failed,
    });
    merge(&mut out, store_figures);
    Ok(out)
}

/// `overhead --accounts N --concurrency C` (latency 0): ours against `sim`, the baseline
/// against `base_sim`.
pub(crate) async fn overhead_bench(
    sim: &SimInfo,
    base_sim: &SimInfo,
    n: usize,
    concurrency: usize,
    dir: Option<std::path::PathBuf>,
) -> Result<Value, String> {
    let tmp = temp_dir(dir.as_deref())?;
    let (services, store) = setup(sim, tmp.path()).await?;
    let bare = Arc::new(BareDb::open(&tmp.path().join("bare.db"))?);
    crate::note!(
        "baseline: {n} × (GET by number + POST + {COMMITS_PER_PROMOTION} commits), {concurrency} in flight"
    );
    let cpu_at_start = process_cpu_s();
    let mut base = baseline::promotions(base_sim, n, concurrency, "Q", Some(bare)).await?;
    let cpu_after_baseline = process_cpu_s();
    crate::note!(
        "baseline: {:.1}/s in {:.2} s",
        base.per_s(n),
        base.elapsed.as_secs_f64()
    );
    let (mut mine, store_figures) = our_promotions(&services, &store, n, concurrency).await?;
    let cpu_after_ours = process_cpu_s();
    crate::note!(
        "ours: {:.1}/s in {:.2} s",
        mine.per_s(n),
        mine.elapsed.as_secs_f64()
    );
    let (p50, p99) = mine.p50_p99();
    let (b50, b99) = base.p50_p99();
    let ours = mine.per_s(n);
    let theirs = base.per_s(n);
    let mut out = json!({
        "bench": "overhead",
        "accounts": n,
        "concurrency": concurrency,
        "promotions_per_s": round(ours, 1),
        "baseline_per_s": round(theirs, 1),
        "ratio": ratio(ours, theirs),
        "commits_per_promotion": COMMITS_PER_PROMOTION,
        "requests_per_promotion": REQUESTS_PER_PROMOTION,
        "p50_ms": p50,
        "p99_ms": p99,
        "baseline_p50_ms": b50,
        "baseline_p99_ms": b99,
        "failed": mine.failed,
        "baseline_failed": base.failed,
        // This process's CPU (the simulator runs in a child, so it is not counted).
        "cpu_ms_per_promotion": cpu_ms_each(n, cpu_after_baseline, cpu_after_ours),
        "baseline_cpu_ms_per_promotion": cpu_ms_each(n, cpu_at_start, cpu_after_baseline),
    });
    merge(&mut out, store_figures);
    Ok(out)
}

/// `sync --records N --page-size P --latency-ms L`: ours first (so the peak RSS is the sync's),
/// then the baseline.
pub(crate) async fn sync_bench(
    sim: &SimInfo,
    n: usize,
    page_size: usize,
    latency_ms: u64,
    dir: Option<std::path::PathBuf>,
) -> Result<Value, String> {
    let tmp = temp_dir(dir.as_deref())?;
    let (services, _store) = setup(sim, tmp.path()).await?;
    let rss_before = status_mib("VmRSS");
    let hwm_before = status_mib("VmHWM");
    // When each page was staged, to split the time into pages and the final swap.
    let staged: std::sync::Mutex<Vec<Instant>> = std::sync::Mutex::new(Vec::new());
    let on_progress = |p: SyncProgress| {
        if let SyncProgress::Page { .. } = p {
            staged
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(Instant::now());
        }
    };
    let started = Instant::now();
    let (_, reports) = services
        .sync(None, Some(&[ReferenceKind::Category]), &on_progress)
        .await
        .map_err(|e| format!("sync: {e}"))?;
    let elapsed = started.elapsed();
    let staged = staged
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let first_page = staged.first().map(|t| t.duration_since(started));
    let finish = staged.last().map(|t| started + elapsed - *t);
    let peak = status_mib("VmHWM");
    let report = reports
        .first()
        .ok_or_else(|| "the sync reported no kind".to_owned())?;
    if report.outcome != SyncOutcome::Ok {
        return Err(format!("the sync failed: {:?}", report.error));
    }
    let total = usize::try_from(report.counts.total).unwrap_or(usize::MAX);
    crate::note!(
        "ours: {total} records in {:.2} s ({:.0}/s), peak RSS {peak:?} MiB",
        elapsed.as_secs_f64(),
        per_s(total, elapsed)
    );
    let (pages, bytes, base_elapsed, parse) = baseline::fetch_pages(
        sim,
        "AR/ARCustomerGroups",
        baseline::GROUPS_FIRST_QUERY,
        baseline::Paging::Links,
    )
    .await?;
    crate::note!(
        "baseline: {pages} pages, {:.1} MiB in {:.2} s ({:.0}/s)",
        bytes as f64 / (1024.0 * 1024.0),
        base_elapsed.as_secs_f64(),
        per_s(total, base_elapsed)
    );
    let ours = per_s(total, elapsed);
    let theirs = per_s(total, base_elapsed);
    Ok(json!({
        "bench": "sync",
        "records": total,
        "page_size": page_size,
        "latency_ms": latency_ms,
        "pages": pages,
        "records_per_s": round(ours, 0),
        "baseline_per_s": round(theirs, 0),
        "ratio": ratio(ours, theirs),
        "elapsed_s": round(elapsed.as_secs_f64(), 3),
        "baseline_elapsed_s": round(base_elapsed.as_secs_f64(), 3),
        "first_page_staged_s": first_page.map(|d| round(d.as_secs_f64(), 3)),
        "final_swap_s": finish.map(|d| round(d.as_secs_f64(), 3)),
        "page_kib": round(bytes as f64 / 1024.0 / pages.max(1) as f64, 1),
        "json_parse_ms_per_page": round(parse.as_secs_f64() * 1000.0, 2),
        "peak_rss_mib": peak,
        "rss_before_sync_mib": rss_before,
        "peak_rss_before_sync_mib": hwm_before,
        "generated_records": n,
    }))
}

pub(crate) fn ratio(ours: f64, theirs: f64) -> f64 {
    if theirs > 0.0 {
        round(ours / theirs, 3)
    } else {
        0.0
    }
}

/// Adds `extra`'s keys to the object `out`.
pub(crate) fn merge(out: &mut Value, extra: Value) {
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
}
