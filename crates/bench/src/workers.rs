//! `workers --processes P --accounts N --latency-ms L --concurrency C`: how promotion throughput
//! scales with worker processes sharing one PostgreSQL database (issue 20).
//!
//! The parent sets up one schema (the integration, its reference data and 2 N accounts, none of
//! it timed), then runs two phases against the same simulator process: one worker promoting N
//! accounts, then P workers promoting the other N between them (N / P each, disjoint). Every
//! worker is a child process (the hidden `pg-worker` subcommand of this binary) with its own
//! `Crm2Sage` over its own pool (C connections) and C promotions under way. A phase is timed
//! from the moment every worker of it is ready (built, connected) and told to go, until the last
//! one has finished; its throughput is N over that time. `scaling` = P workers' throughput over
//! one worker's.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm2sage::{AccountId, MemorySecrets, PromotionRequest, SecretString};
use serde_json::{Value, json};

use crate::ours::{self, PASSWORD_VAR};
use crate::pg;
use crate::sim::SimInfo;
use crate::stats::{per_s, round};

/// `workers`: both phases, then the figures.
pub(crate) async fn workers_bench(
    sim: &SimInfo,
    n: usize,
    latency_ms: u64,
    concurrency: usize,
    processes: usize,
) -> Result<Value, String> {
    let processes = processes.max(1);
    pg::in_schema(|schema| async move {
        let store = schema.store(Some(4)).await?;
        let services = ours::services_over(sim, Arc::new(store)).await?;
        ours::add_integration(&services, sim).await?;
        let one = ours::prepare(&services, n, "A").await?;
        let many = ours::requests(ours::create_accounts(&services, n).await?, "B");
        let job = Job {
            server: &schema.server,
            schema: &schema.name,
            password: &sim.password,
            concurrency,
        };
        crate::note!("1 worker: {n} promotions, {concurrency} under way");
        let single = tokio::task::block_in_place(|| run_phase(&job, one, 1))?;
        crate::note!(
            "1 worker: {:.1}/s in {:.2} s",
            per_s(single.promoted, single.elapsed),
            single.elapsed.as_secs_f64()
        );
        crate::note!("{processes} workers: {n} promotions, {concurrency} under way each");
        let parallel = tokio::task::block_in_place(|| run_phase(&job, many, processes))?;
        crate::note!(
            "{processes} workers: {:.1}/s in {:.2} s",
            per_s(parallel.promoted, parallel.elapsed),
            parallel.elapsed.as_secs_f64()
        );
        let one_per_s = per_s(single.promoted, single.elapsed);
        let all_per_s = per_s(parallel.promoted, parallel.elapsed);
        // Per worker: three requests per promotion since the duplicate guard.
        let ceiling = ours::ceiling(concurrency, latency_ms);
        Ok(json!({
            "bench": "workers",
            "store": "postgres",
            "processes": processes,
            "accounts": n,
            "latency_ms": latency_ms,
            "concurrency": concurrency,
            "one_worker_per_s": round(one_per_s, 1),
            "workers_per_s": round(all_per_s, 1),
            "scaling": ours::ratio(all_per_s, one_per_s),
            "ceiling_one_worker_per_s": ceiling,
            "one_worker_elapsed_s": round(single.elapsed.as_secs_f64(), 3),
            "workers_elapsed_s": round(parallel.elapsed.as_secs_f64(), 3),
            "one_worker": single.reports,
            "workers": parallel.reports,
            "failed": single.failed + parallel.failed,
        }))
    })
    .await
}

/// What every worker of a run is told, besides its share of the promotions.
struct Job<'a> {
    server: &'a str,
    schema: &'a str,
    password: &'a str,
    concurrency: usize,
}

/// What one phase measured.
struct Phase {
    elapsed: Duration,
    promoted: usize,
    failed: usize,
    /// Each worker's own report.
    reports: Vec<Value>,
}

/// A worker child process.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn() -> Result<Worker, String> {
        let exe = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
        let mut child = Command::new(exe)
            .arg("pg-worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting a worker: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| "a worker has no stdout".to_owned())?;
        Ok(Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| "a worker's stdin is closed".to_owned())?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("writing to a worker: {e}"))
    }

    fn receive(&mut self) -> Result<Value, String> {
        let mut line = String::new();
        let read = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| format!("reading a worker: {e}"))?;
        if read == 0 {
            return Err("a worker ended without answering (see its stderr)".to_owned());
        }
        let value: Value =
            serde_json::from_str(&line).map_err(|e| format!("a worker's line `{line}`: {e}"))?;
        match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(format!("a worker failed: {error}")),
            None => Ok(value),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// `requests` split among `processes` workers; timed from "go" to the last worker's answer.
fn run_phase(
    job: &Job<'_>,
    requests: Vec<PromotionRequest>,
    processes: usize,
) -> Result<Phase, String> {
    let share = requests.len().div_ceil(processes).max(1);
    let mut workers = Vec::with_capacity(processes);
    for (w, chunk) in requests.chunks(share).enumerate() {
        let mut worker = Worker::spawn()?;
        let line = json!({
            "server": job.server,
            "schema": job.schema,
            "password": job.password,
            "concurrency": job.concurrency,
            "worker": w + 1,
            "requests": chunk
                .iter()
                .map(|r| json!([r.account.to_string(), r.customer_no]))
                .collect::<Vec<_>>(),
        });
        worker.send(&line.to_string())?;
        workers.push(worker);
    }
    for worker in &mut workers {
        let ready = worker.receive()?;
        if ready.get("ready") != Some(&Value::Bool(true)) {
            return Err(format!("a worker said `{ready}`, not ready"));
        }
    }
    let started = Instant::now();
    for worker in &mut workers {
        worker.send("go")?;
    }
    let mut reports = Vec::with_capacity(workers.len());
    for worker in &mut workers {
        reports.push(worker.receive()?);
    }
    let elapsed = started.elapsed();
    let count = |key: &str| {
        reports
            .iter()
            .filter_map(|r| r.get(key).and_then(Value::as_u64))
            .map(|v| usize::try_from(v).unwrap_or(usize::MAX))
            .sum::<usize>()
    };
    let (promoted, failed) = (count("promoted"), count("failed"));
    Ok(Phase {
        elapsed,
        promoted,
        failed,
        reports,
    })
}

/// The hidden `pg-worker` subcommand: reads its job (one JSON line on stdin), builds crm2sage
/// over the job's schema, says `{"ready":true}`, waits for `go`, promotes its share and reports
/// (one JSON line). Failures are reported as `{"error": …}`.
pub(crate) async fn worker() -> Result<(), String> {
    let result = work().await;
    let line = match &result {
        Ok(report) => report.to_string(),
        Err(e) => json!({ "error": e }).to_string(),
    };
    answer(&line)?;
    result.map(drop)
}

fn answer(line: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("answering the parent: {e}"))
}

async fn read_line() -> Result<String, String> {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map(|_| line)
            .map_err(|e| format!("reading the job: {e}"))
    })
    .await
    .map_err(|e| format!("reading the job: {e}"))?
}

async fn work() -> Result<Value, String> {
    let job: Value = serde_json::from_str(&read_line().await?)
        .map_err(|e| format!("the job is not JSON: {e}"))?;
    let text = |key: &str| {
        job.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("the job lacks `{key}`"))
    };
    let (server, schema, password) = (text("server")?, text("schema")?, text("password")?);
    let concurrency = job
        .get("concurrency")
        .and_then(Value::as_u64)
        .and_then(|c| usize::try_from(c).ok())
        .unwrap_or(1)
        .max(1);
    let mut requests = Vec::new();
    for pair in job
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| "the job lacks `requests`".to_owned())?
    {
        let (Some(account), Some(number)) = (pair[0].as_str(), pair[1].as_str()) else {
            return Err(format!("a request is not [account, number]: {pair}"));
        };
        let account = AccountId::parse(account).map_err(|e| format!("account {account}: {e}"))?;
        let mut request = PromotionRequest::new(account, number);
        request.category = Some("RTL".into());
        request.tax_group = Some("CALIF".into());
        // Every account has the bench's one name: the duplicate guard looks (one more request
        // per promotion) but must not refuse.
        request.allow_duplicate = true;
        requests.push(request);
    }
    let store = pg::store_in(&server, &schema, Some(concurrency)).await?;
    let services = crm2sage::Crm2Sage::builder()
        .store(Arc::new(store))
        .secrets(MemorySecrets::new().with(PASSWORD_VAR, SecretString::from(password)))
        .build()
        .await
        .map_err(|e| format!("building crm2sage: {e}"))?;
    answer(&json!({ "ready": true }).to_string())?;
    let go = read_line().await?;
    if go.trim() != "go" {
        return Err(format!("expected `go`, got `{}`", go.trim()));
    }
    let n = requests.len();
    let mut figures = ours::timed_promotions(&services, requests, concurrency).await;
    let (p50, p99) = figures.p50_p99();
    Ok(json!({
        "worker": job.get("worker"),
        "promoted": n - figures.failed,
        "failed": figures.failed,
        "elapsed_s": round(figures.elapsed.as_secs_f64(), 3),
        "per_s": round(figures.per_s(n), 1),
        "p50_ms": p50,
        "p99_ms": p99,
    }))
}
