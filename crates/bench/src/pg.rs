//! The benchmarks on PostgreSQL (issue 20): the server from `CRM2SAGE_BENCH_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`), each run in a schema of its own, dropped at the
//! end. `promote --store postgres`: ours through the facade over `PostgresStore`, next to a bare
//! tokio-postgres baseline making the same three ERP requests (the duplicate guard's lookup by
//! name, the lookup by number, the create) and the same two durable commits per promotion
//! ([`BarePg`]).

use std::sync::{Arc, Mutex, PoisonError};

use crm2sage_store_postgres::{PgSettings, PostgresStore};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_postgres::{Client, NoTls, Statement};

use crate::baseline::{self, BareCommits, COMMITS_PER_PROMOTION};
use crate::ours;
use crate::sim::SimInfo;
use crate::stats::round;

/// The variable naming the benchmarks' PostgreSQL server.
pub(crate) const SERVER_VAR: &str = "CRM2SAGE_BENCH_POSTGRES";

/// Connections of the bare baseline's pool: the store's default pool size.
const BARE_CONNECTIONS: usize = 16;

/// The benchmarks' server: `CRM2SAGE_BENCH_POSTGRES`, else the local test server.
pub(crate) fn server_url() -> String {
    std::env::var(SERVER_VAR)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// `url` without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A client to `url`, its connection driven on a task of the current runtime.
pub(crate) async fn connect(url: &str) -> Result<Client, String> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| format!("connecting to {}: {e}", redacted(url)))?;
    tokio::spawn(connection);
    Ok(client)
}

/// A schema of this run's own in the server; [`Schema::drop_now`] removes it.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) server: String,
    pub(crate) name: String,
}

impl Schema {
    /// A fresh, empty schema named after this process and the time.
    pub(crate) async fn create(server: String) -> Result<Schema, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!("crm2sage_bench_{}_{nanos}", std::process::id());
        let client = connect(&server).await?;
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .map_err(|e| format!("creating schema {name}: {e}"))?;
        crate::note!("schema {name} on {}", redacted(&server));
        Ok(Schema { server, name })
    }

    /// The store over this schema, with `max_connections` pooled connections (the store's
    /// default when `None`).
    pub(crate) async fn store(
        &self,
        max_connections: Option<usize>,
    ) -> Result<PostgresStore, String> {
        store_in(&self.server, &self.name, max_connections).await
    }

    /// Drops the schema with everything in it.
    pub(crate) async fn drop_now(self) -> Result<(), String> {
        let client = connect(&self.server).await?;
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .await
            .map_err(|e| format!("dropping schema {}: {e}", self.name))
    }
}

/// `PostgresStore` over schema `schema` of `server`.
pub(crate) async fn store_in(
    server: &str,
    schema: &str,
    max_connections: Option<usize>,
) -> Result<PostgresStore, String> {
    let mut settings = PgSettings::default();
    settings.schema = Some(schema.to_owned());
    if let Some(max) = max_connections {
        settings.max_connections = max;
    }
    PostgresStore::connect(server, settings)
        .await
        .map_err(|e| format!("opening the PostgreSQL store: {e}"))
}

/// Runs `body` with a fresh schema and drops the schema afterwards, whatever `body` returned.
pub(crate) async fn in_schema<F, Fut>(body: F) -> Result<Value, String>
where
    F: FnOnce(Arc<Schema>) -> Fut,
    Fut: std::future::Future<Output = Result<Value, String>>,
{
    let schema = Arc::new(Schema::create(server_url()).await?);
    let result = body(Arc::clone(&schema)).await;
    let dropped = match Arc::try_unwrap(schema) {
        Ok(schema) => schema.drop_now().await,
        Err(_) => Err("the schema is still in use".to_owned()),
    };
    match (result, dropped) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), _) => Err(e),
    }
}

/// The baseline's prepared statements, on one connection.
#[derive(Clone)]
struct Statements {
    intent: Statement,
    log: Statement,
    confirm: Statement,
    binding: Statement,
}

/// One pooled connection of the baseline and its prepared statements.
struct Conn {
    client: Client,
    statements: Statements,
}

/// A bare tokio-postgres baseline of the two durable commits a promotion makes, in its own
/// tables (primary keys only) in the run's schema, over [`BARE_CONNECTIONS`] connections (a free
/// list behind a semaphore; no pool crate):
///
/// 1. intent: `INSERT` into `bare_promotions` and `INSERT` into `bare_promotion_log`, one
///    transaction;
/// 2. confirm: `UPDATE bare_promotions`, `INSERT` into `bare_bindings` (the ERP's answer) and
///    `INSERT` into `bare_promotion_log`, one transaction.
///
/// Every commit is durable (the server's default `synchronous_commit = on`).
pub(crate) struct BarePg {
    free: Mutex<Vec<Conn>>,
    permits: Semaphore,
}

impl BarePg {
    /// The tables in `schema` and the pool.
    pub(crate) async fn open(server: &str, schema: &str) -> Result<Self, String> {
        let setup = connect(server).await?;
        setup
            .batch_execute(&format!(
                "CREATE TABLE {schema}.bare_promotions (id TEXT PRIMARY KEY,
                     customer_no TEXT NOT NULL, state TEXT NOT NULL, lease_expires TEXT,
                     created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
                 CREATE TABLE {schema}.bare_promotion_log (id BIGSERIAL PRIMARY KEY,
                     at TEXT NOT NULL, promotion TEXT, event TEXT NOT NULL, message TEXT);
                 CREATE TABLE {schema}.bare_bindings (promotion TEXT PRIMARY KEY,
                     customer_no TEXT NOT NULL, erp_record TEXT NOT NULL,
                     promoted_at TEXT NOT NULL);"
            ))
            .await
            .map_err(|e| format!("creating the baseline's tables: {e}"))?;
        let mut free = Vec::with_capacity(BARE_CONNECTIONS);
        for _ in 0..BARE_CONNECTIONS {
            let client = connect(server).await?;
            let statements = Statements {
                intent: prepare(
                    &client,
                    &format!(
                        "INSERT INTO {schema}.bare_promotions
                         VALUES ($1, $2, 'creating', $3, $3, $3)"
                    ),
                )
                .await?,
                log: prepare(
                    &client,
                    &format!(
                        "INSERT INTO {schema}.bare_promotion_log (at, promotion, event, message)
                         VALUES ($1, $2, $3, '')"
                    ),
                )
                .await?,
                confirm: prepare(
                    &client,
                    &format!(
                        "UPDATE {schema}.bare_promotions SET state = 'promoted',
                         lease_expires = NULL, updated_at = $2 WHERE id = $1"
                    ),
                )
                .await?,
                binding: prepare(
                    &client,
                    &format!("INSERT INTO {schema}.bare_bindings VALUES ($1, $2, $3, $4)"),
                )
                .await?,
            };
            free.push(Conn { client, statements });
        }
        Ok(Self {
            free: Mutex::new(free),
            permits: Semaphore::new(BARE_CONNECTIONS),
        })
    }

    /// A free connection (waiting for one), given back by [`BarePg::give_back`].
    async fn take(&self) -> Result<(tokio::sync::SemaphorePermit<'_>, Conn), String> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| format!("the baseline's pool: {e}"))?;
        let conn = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .ok_or_else(|| "the baseline's pool is empty".to_owned())?;
        Ok((permit, conn))
    }

    fn give_back(&self, conn: Conn) {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
    }
}

async fn prepare(client: &Client, sql: &str) -> Result<Statement, String> {
    client
        .prepare(sql)
        .await
        .map_err(|e| format!("preparing `{sql}`: {e}"))
}

fn now_text() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

impl BareCommits for BarePg {
    async fn commit_intent(&self, id: &str, number: &str) -> Result<(), String> {
        let (_permit, mut conn) = self.take().await?;
        let Conn { client, statements } = &mut conn;
        let outcome = async {
            let now = now_text();
            let tx = client.transaction().await?;
            tx.execute(&statements.intent, &[&id, &number, &now])
                .await?;
            tx.execute(&statements.log, &[&now, &id, &"intent"]).await?;
            tx.commit().await
        }
        .await
        .map_err(|e| format!("the baseline's intent: {e}"));
        self.give_back(conn);
        outcome
    }

    async fn commit_confirm(&self, id: &str, number: &str, record: &[u8]) -> Result<(), String> {
        let record = String::from_utf8_lossy(record).into_owned();
        let (_permit, mut conn) = self.take().await?;
        let Conn { client, statements } = &mut conn;
        let outcome = async {
            let now = now_text();
            let tx = client.transaction().await?;
            tx.execute(&statements.confirm, &[&id, &now]).await?;
            tx.execute(&statements.binding, &[&id, &number, &record, &now])
                .await?;
            tx.execute(&statements.log, &[&now, &id, &"promoted"])
                .await?;
            tx.commit().await
        }
        .await
        .map_err(|e| format!("the baseline's confirm: {e}"));
        self.give_back(conn);
        outcome
    }
}

/// `promote --store postgres --accounts N --latency-ms L --concurrency C`: the baseline first
/// (its own customer numbers `Q…`, against `base_sim`), then ours (`P…`, against `sim`; the
/// two simulators started alike, see `ours`' module docs), on the same server. Ours with
/// `allow_duplicate` (the guard skipped), so both make the same requests.
pub(crate) async fn promote_bench(
    sim: &SimInfo,
    base_sim: &SimInfo,
    n: usize,
    latency_ms: u64,
    concurrency: usize,
) -> Result<Value, String> {
    in_schema(|schema| async move {
        let store = schema.store(None).await?;
        let services = ours::services_over(sim, Arc::new(store)).await?;
        ours::add_integration(&services, sim).await?;
        let bare = Arc::new(BarePg::open(&schema.server, &schema.name).await?);
        crate::note!(
            "baseline: {n} × (GET by number + POST + {COMMITS_PER_PROMOTION} \
             PostgreSQL commits), {concurrency} in flight"
        );
        let mut base = baseline::promotions(base_sim, n, concurrency, "Q", Some(bare)).await?;
        crate::note!(
            "baseline: {:.1}/s in {:.2} s",
            base.per_s(n),
            base.elapsed.as_secs_f64()
        );
        let requests = ours::prepare(&services, n, "P").await?;
        let mut mine = ours::timed_promotions(&services, requests, concurrency).await;
        crate::note!(
            "ours: {:.1}/s in {:.2} s",
            mine.per_s(n),
            mine.elapsed.as_secs_f64()
        );
        let (p50, p99) = mine.p50_p99();
        let (b50, b99) = base.p50_p99();
        let (theirs, ours_per_s) = (base.per_s(n), mine.per_s(n));
        let ceiling = ours::ceiling(concurrency, latency_ms);
        Ok(json!({
            "bench": "promote",
            "store": "postgres",
            "accounts": n,
            "latency_ms": latency_ms,
            "concurrency": concurrency,
            "throughput_per_s": round(ours_per_s, 1),
            "baseline_per_s": round(theirs, 1),
            "ratio": ours::ratio(ours_per_s, theirs),
            "ceiling_per_s": ceiling,
            "p50_ms": p50,
            "p99_ms": p99,
            "baseline_p50_ms": b50,
            "baseline_p99_ms": b99,
            "commits_per_promotion": COMMITS_PER_PROMOTION,
            "baseline_connections": BARE_CONNECTIONS,
            "failed": mine.failed,
            "baseline_failed": base.failed,
        }))
    })
    .await
}
