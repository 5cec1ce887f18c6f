//! PostgreSQL implementation of crm2sage's store ports, for several workers and hosts sharing
//! one state: [`PostgresStore`] implements
//! [`IntegrationStore`](crm2sage_domain::ports::IntegrationStore),
//! [`AccountStore`](crm2sage_domain::ports::AccountStore),
//! [`ReferenceStore`](crm2sage_domain::ports::ReferenceStore) and
//! [`PromotionStore`](crm2sage_domain::ports::PromotionStore), and so the domain's
//! [`Store`](crm2sage_domain::ports::Store).
//!
//! ```no_run
//! # async fn demo() -> Result<(), crm2sage_store_postgres::PgStoreError> {
//! use crm2sage_domain::ports::IntegrationStore;
//! use crm2sage_store_postgres::{PgSettings, PostgresStore};
//!
//! let store =
//!     PostgresStore::connect("postgres://crm2sage@db.internal/crm2sage", PgSettings::default())
//!         .await?;
//! for integration in store.integrations().await? {
//!     println!("{}", integration.name());
//! }
//! # Ok(()) }
//! ```
//!
//! # Why tokio-postgres, deadpool-postgres and refinery
//!
//! - **tokio-postgres**: the SQL stays explicit, statement by statement, as in the SQLite
//!   store — the exactly-once rules are in that SQL (fenced `UPDATE`s, a compare-and-swap
//!   take-over, partial unique indexes), so it should be read, not generated. It needs no
//!   database at compile time (sqlx's checked macros do, or an offline cache to keep in
//!   step), and pipelines statements on one connection.
//! - **deadpool-postgres**: a small, mature async pool for it, with a per-connection
//!   statement cache; connections are made lazily, up to [`PgSettings::max_connections`].
//! - **refinery** (0.9: 0.10 needs a newer Rust than the workspace's): versioned SQL
//!   migrations with a history table (`crm2sage_schema_history`), run here under a session
//!   `pg_advisory_lock`, so N processes starting at once on a fresh database migrate it once.
//!
//! # Schema
//!
//! The same tables, columns, encodings and constraints as the SQLite store (see the
//! `schema` module): ids and timestamps as text, partial unique indexes over the live
//! promotions (`creating`, `promoted`) per (integration, account) and per (integration,
//! External UID), one running sync per (integration, kind), one default integration. With
//! [`PgSettings::schema`] every pooled connection starts with that `search_path`, and the
//! schema is created when missing; without it the server's default `search_path` decides.
//!
//! # Exactly-once across hosts
//!
//! - [`record_intent`](crm2sage_domain::ports::PromotionStore::record_intent) is one
//!   `INSERT … ON CONFLICT DO NOTHING` with its log line, in one transaction: of two racing
//!   intents (any connections, any hosts) the partial unique indexes let exactly one in; the
//!   other inserts nothing, writes no log, and is answered with the live promotion.
//! - confirm, fail, needs-review, renew and release are **fenced**: one `UPDATE … WHERE id
//!   AND state = 'creating' AND` the lease holder (host, pid, process start, task) is the
//!   caller's. A holder that lost its lease changes nothing.
//! - [`take_over`](crm2sage_domain::ports::PromotionStore::take_over) is one conditional
//!   `UPDATE` comparing the whole current lease (compare-and-swap): of several workers that
//!   read the same [`in_flight`](crm2sage_domain::ports::PromotionStore::in_flight) list,
//!   exactly one takes each promotion. Nothing is decided by reading then writing.
//! - Ship-to and contact promotions (`party_promotions`) follow the same recipe: an intent is
//!   one `INSERT … ON CONFLICT DO NOTHING` with its log line, decided by a partial unique
//!   index over the live states on (integration, account, kind, code); a settle is one fenced
//!   `UPDATE` with its log line in the same statement; a take-over compares the whole lease.
//! - Each port write is its own transaction (an intent and its log line are one statement),
//!   and every pooled connection sets `synchronous_commit = on`, whatever the server's
//!   default: a committed intent survives a crash of the server.
//!
//! # Syncs across connections
//!
//! A run's pages go to the UNLOGGED `sync_staging` table, keyed by the run's `seq`, so each
//! `stage_page` may use any pooled connection, or another process. Each page locks its run
//! row (`FOR UPDATE`) so a page never lands in a run that is being finished or aborted;
//! `finish_sync` swaps the staging in with set-based SQL in one transaction, as the SQLite
//! store does. A run left running by a dead worker keeps its holder and expiry:
//! [`begin_sync`](crm2sage_domain::ports::ReferenceStore::begin_sync) reports them, the
//! caller judges, and [`abandon_sync`](crm2sage_domain::ports::ReferenceStore::abandon_sync)
//! closes it and deletes its staging; every `begin_sync` also deletes the staging of runs of
//! its kind that are no longer running.
//!
//! # Connections and secrets
//!
//! Plain TCP (no TLS) for now: `sslmode=require` URLs are refused by the server handshake.
//! The URL's password is used to connect and then only lives inside the driver's
//! configuration; every text this crate produces (errors, [`Debug`]) shows the URL through
//! [`redact_url`].

mod accounts;
mod copy;
mod customer_index;
mod db;
mod error;
mod integrations;
mod lease;
mod links;
mod parties;
mod party_promotions;
mod promotions;
mod reference;
mod schema;
#[cfg(feature = "test-support")]
pub mod testing;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

use crm2sage_domain::ports::StoreError;

pub use error::{PgStoreError, redact_url};

/// The schema version this build reads and writes (the newest refinery version applied).
pub const SCHEMA_VERSION: i64 = schema::LATEST;

/// How [`PostgresStore::connect`] connects. `Default` is 16 connections, a 10 s connect
/// timeout, a 30 s wait for a free connection and the server's default schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgSettings {
    /// The most connections the pool opens (made as needed, kept while idle).
    pub max_connections: usize,
    /// How long connecting to the server may take.
    pub connect_timeout: Duration,
    /// How long a call waits for a free pooled connection before it fails as busy.
    pub acquire_timeout: Duration,
    /// The schema every pooled connection works in (its `search_path`), created when missing;
    /// `None`: the server's default `search_path`. A plain lowercase identifier (`[a-z_]`
    /// then `[a-z0-9_]`, at most 63 bytes).
    pub schema: Option<String>,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
            schema: None,
        }
    }
}

impl PgSettings {
    /// These settings with `schema` as the schema.
    #[must_use]
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// These settings with at most `n` connections.
    #[must_use]
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
}

/// Whether `name` is a schema name [`PgSettings::schema`] accepts.
fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The PostgreSQL store: a connection pool on one database (and schema). Cheap to
/// [`Clone`]; clones share the pool. See the crate docs for the design.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// The URL without its password.
    url: String,
    schema: Option<String>,
    max_connections: usize,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.inner.url)
            .field("schema", &self.inner.schema)
            .field("max_connections", &self.inner.max_connections)
            .finish_non_exhaustive()
    }
}

/// Parses `url` into the driver's configuration with `settings` applied.
fn config(url: &str, settings: &PgSettings) -> Result<tokio_postgres::Config, PgStoreError> {
    let redacted = redact_url(url);
    let scheme_ok =
        url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "postgres" | "postgresql"));
    if !scheme_ok {
        return Err(PgStoreError::InvalidSettings(format!(
            "{redacted} is not a postgres:// or postgresql:// URL"
        )));
    }
    // The driver's own text could quote the URL: only the redacted one is shown.
    let mut config = tokio_postgres::Config::from_str(url).map_err(|_| {
        PgStoreError::InvalidSettings(format!("{redacted} is not a valid PostgreSQL URL"))
    })?;
    if settings.max_connections == 0 {
        return Err(PgStoreError::InvalidSettings(
            "the pool needs at least one connection".into(),
        ));
    }
    // Every connection commits durably, whatever the server's default: the exactly-once
    // recipe relies on a committed intent surviving a crash (as SQLite's synchronous=FULL).
    let mut options: Vec<String> = config
        .get_options()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .into_iter()
        .collect();
    options.push("-c synchronous_commit=on".to_owned());
    if let Some(schema) = &settings.schema {
        if !valid_schema(schema) {
            return Err(PgStoreError::InvalidSettings(format!(
                "schema `{schema}` is not a plain lowercase identifier ([a-z_][a-z0-9_]*, at \
                 most 63 bytes)"
            )));
        }
        options.push(format!("-c search_path={schema}"));
    }
    config.options(options.join(" "));
    config.connect_timeout(settings.connect_timeout);
    if config.get_application_name().is_none() {
        config.application_name("crm2sage");
    }
    Ok(config)
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/db`),
    /// creates [`PgSettings::schema`] when missing and brings the schema up to date under
    /// an advisory lock (so several processes may connect to a new database at once), then
    /// returns the pooled store. Needs a Tokio runtime. Dropping the future before it
    /// completes closes its migration connection; a migration step it was applying is
    /// rolled back by the server, and the next connect applies it.
    ///
    /// # Errors
    /// [`PgStoreError::InvalidSettings`] for a URL or setting that is not valid;
    /// [`PgStoreError::Unreachable`] when the server cannot be reached or refuses us;
    /// [`PgStoreError::Store`] with [`StoreError::TooNew`] when a newer crm2sage migrated the
    /// schema, or another store error while migrating.
    pub async fn connect(url: &str, settings: PgSettings) -> Result<Self, PgStoreError> {
        let config = config(url, &settings)?;
        let redacted = redact_url(url);
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::Internal(
                "the PostgreSQL store needs a Tokio runtime to connect".into(),
            )
            .into());
        }
        let (mut client, connection) =
            config
                .connect(NoTls)
                .await
                .map_err(|e| PgStoreError::Unreachable {
                    url: redacted.clone(),
                    reason: with_cause(&e),
                })?;
        let task = tokio::spawn(connection);
        let migrated = schema::migrate(&mut client, settings.schema.as_deref()).await;
        drop(client);
        // The connection task ends once its client is gone.
        let _ = task.await;
        migrated?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.acquire_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .build()
            .map_err(|e| PgStoreError::InvalidSettings(format!("building the pool: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                url: redacted,
                schema: settings.schema,
                max_connections: settings.max_connections,
            }),
        })
    }

    /// The server's URL, without its password.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The schema this store works in, when one was set.
    pub fn schema(&self) -> Option<&str> {
        self.inner.schema.as_deref()
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner.pool.get().await.map_err(db::pool_err)
    }
}

/// `e`'s text followed by its causes' (the driver's own text often leaves the cause out).
fn with_cause(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Prepares `sql` (cached per connection) and runs it, returning its rows.
pub(crate) async fn query<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let stmt = client.prepare_cached(sql).await?;
    client.query(&stmt, params).await
}

/// Prepares `sql` (cached per connection), runs it and turns each row into a `T` with `f` as
/// the rows stream in, so a listing never holds all its raw rows and all its values at once.
pub(crate) async fn query_map<C: GenericClient, T>(
    client: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    context: &str,
    f: impl Fn(&tokio_postgres::Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    use futures_util::TryStreamExt;
    let stmt = client
        .prepare_cached(sql)
        .await
        .map_err(db::db_err(context))?;
    let rows = client
        .query_raw(&stmt, params.iter().copied())
        .await
        .map_err(db::db_err(context))?;
    let mut rows = std::pin::pin!(rows);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await.map_err(db::db_err(context))? {
        out.push(f(&row)?);
    }
    Ok(out)
}

/// Prepares `sql` (cached per connection) and runs it, returning the rows it changed.
pub(crate) async fn execute<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, tokio_postgres::Error> {
    let stmt = client.prepare_cached(sql).await?;
    client.execute(&stmt, params).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        for ok in ["crm2sage", "_t1", "a_b_9"] {
            assert!(valid_schema(ok), "{ok}");
        }
        for bad in ["", "1a", "A", "a-b", "a;drop", "a b", &"x".repeat(64)] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }

    #[test]
    fn bad_settings_are_refused_without_showing_the_password() {
        let e = config("mysql://u:s3cret@h/db", &PgSettings::default()).unwrap_err();
        assert!(matches!(e, PgStoreError::InvalidSettings(_)));
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = config(
            "postgres://u:s3cret@h/db",
            &PgSettings::default().with_schema("Bad-Name"),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let c = config(
            "postgres://u:s3cret@h/db",
            &PgSettings::default().with_schema("crm"),
        )
        .unwrap();
        assert_eq!(
            c.get_options(),
            Some("-c synchronous_commit=on -c search_path=crm")
        );
    }
}
