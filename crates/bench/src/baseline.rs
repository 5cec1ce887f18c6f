//! The baselines: what a bare client achieves doing the same requests (and the same durable
//! commits) without crm2sage.
//!
//! A bare promotion makes the two ERP requests ours makes with `allow_duplicate` (the duplicate
//! guard skipped, as every promotion benchmark runs: they promote one account template many
//! times): the lookup by number (404 expected), the create. A guarded promotion makes one more,
//! the lookup by name; its cost is that request's latency, not measured here.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use futures_util::stream::{self, StreamExt};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::{Value, json};

use crate::sim::SimInfo;
use crate::stats::{per_s, percentile_ms, round};

/// A bare reqwest client with the headers the Sage 300 adapter sends on every request.
pub(crate) fn client(sim: &SimInfo) -> Result<reqwest::Client, String> {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", sim.user, sim.password));
    let mut headers = HeaderMap::new();
    let auth = HeaderValue::from_str(&format!("Basic {credentials}"))
        .map_err(|e| format!("the Authorization header: {e}"))?;
    headers.insert(AUTHORIZATION, auth);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    // Sage 300 wants a Content-Type on every request, GETs included.
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .map_err(|e| format!("building the baseline client: {e}"))
}

/// The body the adapter sends for the bench's account (`tests/support.rs`'s `valid_account`,
/// group `RTL`, tax group `CALIF`): the same properties in the same order.
pub(crate) fn create_body(number: &str) -> Vec<u8> {
    let body = json!({
        "CustomerNumber": number,
        "GroupCode": "RTL",
        "ShortName": "Barmart Lt",
        "CustomerName": "Barmart Ltd",
        "AddressLine1": "100 Main St",
        "AddressLine2": "Suite 4",
        "City": "Vancouver",
        "StateProvince": "BC",
        "ZipPostalCode": "V5K 0A1",
        "Country": "CA",
        "PhoneNumber": "+1 604 555 0100",
        "Email": "ap@barmart.example.com",
        "WebSite": "https://barmart.example.com",
        "TaxGroup": "CALIF",
        "Terms": "N30",
        "CurrencyCode": "CAD",
        "CheckLanguage": "ENG",
    });
    body.to_string().into_bytes()
}

/// What a baseline promotion loop measured.
#[derive(Debug)]
pub(crate) struct LoopFigures {
    pub(crate) elapsed: Duration,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) failed: usize,
}

impl LoopFigures {
    pub(crate) fn per_s(&self, n: usize) -> f64 {
        per_s(n - self.failed, self.elapsed)
    }

    pub(crate) fn p50_p99(&mut self) -> (f64, f64) {
        (
            percentile_ms(&mut self.latencies, 0.5),
            percentile_ms(&mut self.latencies, 0.99),
        )
    }
}

/// The durable commits a bare baseline makes where our promotion makes its own: the intent
/// before the ERP is asked, the confirm (with the ERP's answer) after it created the customer.
/// [`BareDb`] on SQLite; `pg::BarePg` on PostgreSQL.
pub(crate) trait BareCommits: Send + Sync {
    /// The intent: the promotion row and its log entry, one transaction.
    fn commit_intent(
        &self,
        id: &str,
        number: &str,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;

    /// The confirm: the promotion's state, the binding with `record`, its log entry, one
    /// transaction.
    fn commit_confirm(
        &self,
        id: &str,
        number: &str,
        record: &[u8],
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// ERP requests per promotion, ours (with `allow_duplicate`) and the baseline's: the lookup by
/// number, the create.
pub(crate) const REQUESTS_PER_PROMOTION: usize = 2;

/// The properties the adapter's customer summaries read (`crates/sage-adapter/src/sage300/
/// customers.rs`: `SELECT`, no CRM-id field configured), percent-encoded as it sends them.
pub(crate) const CUSTOMER_SELECT: &str = "CustomerNumber%2CCustomerName%2CAddressLine1%2CAddressLine2%2CAddressLine3%2CCity%2CStateProvince%2CZipPostalCode%2CCountry%2CPhoneNumber%2CEmail%2CStatus%2COnHold%2CDateLastMaintained";

/// The query of the adapter's first customer-list page, character for character
/// (`customers.rs`: `first_url` without a filter): `$select`, `$orderby=CustomerNumber`,
/// `$top=500`, `$count=true`. The next links carry it on.
pub(crate) fn customers_first_query() -> String {
    format!("$select={CUSTOMER_SELECT}&$orderby=CustomerNumber&$top=500&$count=true")
}

/// `n` bare "promotions" with `concurrency` in flight, each making our promotion's two
/// requests: `GET ARCustomers('{NO}')` (404 expected) and `POST ARCustomers` (201 expected), for
/// fresh numbers `{prefix}0000001…`. With `db`, each also makes the durable commits our
/// promotion makes, in the same places (see [`BareCommits`]).
pub(crate) async fn promotions<D: BareCommits>(
    sim: &SimInfo,
    n: usize,
    concurrency: usize,
    prefix: &str,
    db: Option<Arc<D>>,
) -> Result<LoopFigures, String> {
    let client = client(sim)?;
    let customers = format!("{}/AR/ARCustomers", sim.company_url);
    let started = Instant::now();
    let rows: Vec<Result<Duration, String>> = stream::iter(1..=n)
        .map(|i| {
            let client = &client;
            let customers = &customers;
            let db = db.clone();
            async move {
                let t = Instant::now();
                let number = format!("{prefix}{i:07}");
                let id = format!("{prefix}-{i}");
                if let Some(db) = &db {
                    db.commit_intent(&id, &number).await?;
                }
                let status = client
                    .get(format!("{customers}('{number}')"))
                    .send()
                    .await
                    .map_err(|e| format!("GET {number}: {e}"))?;
                let lookup = status.status().as_u16();
                let _ = status.bytes().await.map_err(|e| e.to_string())?;
                if lookup != 404 {
                    return Err(format!("GET {number}: status {lookup}, expected 404"));
                }
                let created = client
                    .post(customers.as_str())
                    .body(create_body(&number))
                    .send()
                    .await
                    .map_err(|e| format!("POST {number}: {e}"))?;
                let status = created.status().as_u16();
                let answer = created.bytes().await.map_err(|e| e.to_string())?;
                if status != 201 {
                    return Err(format!("POST {number}: status {status}"));
                }
                let record = headline(&answer)?;
                if let Some(db) = &db {
                    db.commit_confirm(&id, &number, &record).await?;
                }
                Ok(t.elapsed())
            }
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
                    crate::note!("baseline row failed: {e}");
                }
                failed += 1;
            }
        }
    }
    Ok(LoopFigures {
        elapsed,
        latencies,
        failed,
    })
}

/// The query of the adapter's first URL for customer groups, character for character
/// (`crates/sage-adapter/src/sage300`: `Sage300Gateway::first_page_url` with
/// `wire::GROUP_SELECT`; its tests assert the same string): only the properties the adapter
/// reads, and the count. The next links carry the `$select` on.
pub(crate) const GROUPS_FIRST_QUERY: &str = "$select=GroupCode%2CDescription%2CStatus%2CInactiveDate%2CTerms%2CTaxGroup%2CAccountSet%2CBillingCycle%2CInterestProfile%2CAccountType%2CRateType&$count=true";

/// How a bare loop finds the page after one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paging {
    /// `@odata.nextLink` only (the reference-data lists).
    Links,
    /// `@odata.nextLink`, else — when the page's `@odata.count` says more rows exist — the same
    /// URL with `$skip` moved past this page's rows, as the adapter's customer list does
    /// (`customers.rs`: `next_cursor`; a `$top` below the count ends the server's links). Rows
    /// are counted by occurrences of `row_key` (`"CustomerNumber":`), nothing parsed.
    LinksThenSkip { row_key: &'static str },
}

/// The pages of `resource` fetched one after the other, from `{resource}?{first_query}` on,
/// following `@odata.nextLink` found by a substring search (and `$skip`, per `paging`); nothing
/// parsed, nothing kept. Returns (pages, bytes, elapsed, and — measured afterwards, off the
/// clock — how long parsing the first page into a `serde_json::Value` takes: a floor under what
/// any client that reads the records pays per page).
pub(crate) async fn fetch_pages(
    sim: &SimInfo,
    resource: &str,
    first_query: &str,
    paging: Paging,
) -> Result<(usize, usize, Duration, Duration), String> {
    let client = client(sim)?;
    let mut url = format!("{}/{resource}?{first_query}", sim.company_url);
    let started = Instant::now();
    let (mut pages, mut bytes) = (0, 0);
    let mut first: Option<Vec<u8>> = None;
    loop {
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: status {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        pages += 1;
        bytes += body.len();
        let next = match (next_link(&body), paging) {
            (Some(next), _) => Some(next),
            (None, Paging::Links) => None,
            (None, Paging::LinksThenSkip { row_key }) => skip_past(&url, &body, row_key),
        };
        if first.is_none() {
            first = Some(body.to_vec());
        }
        match next {
            Some(next) => url = next,
            None => break,
        }
    }
    let elapsed = started.elapsed();
    let parse = match first {
        None => Duration::ZERO,
        Some(body) => {
            const TRIES: u32 = 5;
            let t = Instant::now();
            for _ in 0..TRIES {
                let v: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
                std::hint::black_box(v);
            }
            t.elapsed() / TRIES
        }
    };
    Ok((pages, bytes, elapsed, parse))
}

/// `url` with `$skip` past this page's rows when the page's `@odata.count` says more exist.
fn skip_past(url: &str, body: &[u8], row_key: &str) -> Option<String> {
    let key = row_key.as_bytes();
    let rows = body.windows(key.len()).filter(|w| *w == key).count() as u64;
    let count = number_after(body, b"\"@odata.count\":")?;
    let (base, query) = url.split_once('?')?;
    let mut skip = 0;
    let mut kept: Vec<&str> = Vec::new();
    for part in query.split('&') {
        match part.strip_prefix("$skip=") {
            Some(n) => skip = n.parse().ok()?,
            None => kept.push(part),
        }
    }
    let next = skip + rows;
    (rows > 0 && next < count).then(|| format!("{base}?{}&$skip={next}", kept.join("&")))
}

/// The unsigned number right after the first `key` in `body`.
fn number_after(body: &[u8], key: &[u8]) -> Option<u64> {
    let at = body.windows(key.len()).position(|w| w == key)? + key.len();
    let digits = body[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&body[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// The `@odata.nextLink` value, found by searching the body (the simulator writes it last and
/// never escapes anything inside it).
fn next_link(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"@odata.nextLink\":\"";
    let at = body.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let len = body[at..].iter().position(|b| *b == b'"')?;
    String::from_utf8(body[at..at + len].to_vec()).ok()
}

/// A bare rusqlite connection making the durable commits a promotion makes (WAL,
/// `synchronous=FULL`, one connection behind a mutex, each commit on the blocking pool —
/// as `SqliteStore` did before its group-committing writer thread; kept bare on purpose):
///
/// 1. intent: `INSERT` into `promotions` and `INSERT` into `promotion_log` ("intent"), one
///    transaction;
/// 2. confirm: `UPDATE promotions`, `INSERT` into `bindings` (the ERP's answer) and `INSERT`
///    into `promotion_log` ("promoted"), one transaction.
///
/// (No lease renewal: our path renews only when less than half the lease is left, which a
/// promotion at these latencies never reaches.)
#[derive(Debug)]
pub(crate) struct BareDb {
    conn: Arc<Mutex<Connection>>,
}

/// Durable commits per promotion in [`BareDb`] (and in our promotion path).
pub(crate) const COMMITS_PER_PROMOTION: usize = 2;

fn now_text() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

impl BareDb {
    /// A new database file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self, String> {
        let conn = Connection::open(path).map_err(|e| format!("opening {path:?}: {e}"))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
            .map_err(|e| e.to_string())?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("{path:?} is in {mode} mode, not WAL"));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| e.to_string())?;
        conn.execute_batch(
            "CREATE TABLE promotions (id TEXT PRIMARY KEY, customer_no TEXT NOT NULL,
                 state TEXT NOT NULL, lease_expires TEXT, created_at TEXT NOT NULL,
                 updated_at TEXT NOT NULL) STRICT;
             CREATE TABLE promotion_log (id INTEGER PRIMARY KEY, at TEXT NOT NULL,
                 promotion TEXT, event TEXT NOT NULL, message TEXT) STRICT;
             CREATE TABLE bindings (promotion TEXT PRIMARY KEY, customer_no TEXT NOT NULL,
                 erp_record TEXT NOT NULL, promoted_at TEXT NOT NULL) STRICT;",
        )
        .map_err(|e| e.to_string())?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn commit<F>(&self, f: F) -> Result<(), String>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            f(&tx)?;
            tx.commit()
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }
}

impl BareCommits for BareDb {
    async fn commit_intent(&self, id: &str, number: &str) -> Result<(), String> {
        let (id, number) = (id.to_owned(), number.to_owned());
        self.commit(move |tx| {
            let now = now_text();
            tx.execute(
                "INSERT INTO promotions VALUES (?1, ?2, 'creating', ?3, ?3, ?3)",
                params![id, number, now],
            )?;
            tx.execute(
                "INSERT INTO promotion_log (at, promotion, event, message) VALUES (?1, ?2, 'intent', '')",
                params![now, id],
            )
            .map(drop)
        })
        .await
    }

    async fn commit_confirm(&self, id: &str, number: &str, record: &[u8]) -> Result<(), String> {
        let (id, number) = (id.to_owned(), number.to_owned());
        let record = String::from_utf8_lossy(record).into_owned();
        self.commit(move |tx| {
            let now = now_text();
            tx.execute(
                "UPDATE promotions SET state = 'promoted', lease_expires = NULL, updated_at = ?2
                 WHERE id = ?1",
                params![id, now],
            )?;
            tx.execute(
                "INSERT INTO bindings VALUES (?1, ?2, ?3, ?4)",
                params![id, number, record, now],
            )?;
            tx.execute(
                "INSERT INTO promotion_log (at, promotion, event, message) VALUES (?1, ?2, 'promoted', '')",
                params![now, id],
            )
            .map(drop)
        })
        .await
    }
}

/// The `commits` subcommand: `count` small durable commits one after the other.
pub(crate) fn commit_cost(count: usize, dir: Option<&Path>) -> Result<Value, String> {
    let dir = crate::ours::temp_dir(dir)?;
    let conn = Connection::open(dir.path().join("commits.db")).map_err(|e| e.to_string())?;
    conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get::<_, String>(0))
        .map_err(|e| e.to_string())?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| e.to_string())?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT NOT NULL) STRICT")
        .map_err(|e| e.to_string())?;
    let mut each = Vec::with_capacity(count);
    let started = Instant::now();
    for _ in 0..count {
        let t = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE")
            .and_then(|()| conn.execute("INSERT INTO t (at) VALUES (?1)", [now_text()]))
            .and_then(|_| conn.execute_batch("COMMIT"))
            .map_err(|e| e.to_string())?;
        each.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    Ok(json!({
        "bench": "commits",
        "count": count,
        "commits_per_s": round(per_s(count, elapsed), 1),
        "mean_ms": round(elapsed.as_secs_f64() * 1000.0 / count.max(1) as f64, 3),
        "p50_ms": percentile_ms(&mut each, 0.5),
        "p99_ms": percentile_ms(&mut each, 0.99),
        "promotions_per_s_ceiling": round(per_s(count, elapsed) / COMMITS_PER_PROMOTION as f64, 1),
    }))
}

/// What a promotion keeps of the create's answer: the headline fields only (as
/// `ErpRecord::headline`), as one JSON object — so the bare confirm writes as much as ours.
fn headline(answer: &[u8]) -> Result<Vec<u8>, String> {
    let serde_json::Value::Object(mut fields) =
        serde_json::from_slice(answer).map_err(|e| format!("the create's answer: {e}"))?
    else {
        return Err("the create's answer is not a JSON object".to_owned());
    };
    let keep = crm2sage_sage_adapter::headline_fields();
    fields.retain(|name, _| keep.contains(&name.as_str()));
    serde_json::to_vec(&fields).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_customer_page_asks_what_the_adapter_asks() {
        assert!(customers_first_query().starts_with("$select=CustomerNumber%2CCustomerName%2C"));
        assert!(customers_first_query().ends_with("&$orderby=CustomerNumber&$top=500&$count=true"));
    }

    #[test]
    fn next_links_are_found_without_parsing() {
        let body = br#"{"@odata.context":"x","value":[{"A":1}],"@odata.nextLink":"http://h/p?$skip=2&$count=true"}"#;
        assert_eq!(
            next_link(body).as_deref(),
            Some("http://h/p?$skip=2&$count=true")
        );
        assert_eq!(next_link(br#"{"value":[]}"#), None);
    }

    #[test]
    fn without_a_link_the_count_says_whether_to_skip_on() {
        let body = br#"{"@odata.count":5,"value":[{"CustomerNumber":"A"},{"CustomerNumber":"B"}]}"#;
        let key = "\"CustomerNumber\":";
        assert_eq!(
            skip_past("http://h/C?$select=X&$top=2&$count=true", body, key).as_deref(),
            Some("http://h/C?$select=X&$top=2&$count=true&$skip=2")
        );
        assert_eq!(
            skip_past("http://h/C?$select=X&$top=2&$count=true&$skip=2", body, key).as_deref(),
            Some("http://h/C?$select=X&$top=2&$count=true&$skip=4")
        );
        assert_eq!(skip_past("http://h/C?$top=2&$skip=3", body, key), None);
    }
}
