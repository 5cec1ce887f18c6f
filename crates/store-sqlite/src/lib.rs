//! SQLite implementation of crm2sage's store ports: [`SqliteStore`] implements
//! [`IntegrationStore`](crm2sage_domain::ports::IntegrationStore),
//! [`AccountStore`](crm2sage_domain::ports::AccountStore),
//! [`ReferenceStore`](crm2sage_domain::ports::ReferenceStore) and
//! [`PromotionStore`](crm2sage_domain::ports::PromotionStore), and so the domain's
//! [`Store`](crm2sage_domain::ports::Store).
//!
//! ```no_run
//! # async fn demo() -> Result<(), crm2sage_domain::ports::StoreError> {
//! use crm2sage_domain::ports::IntegrationStore;
//! use crm2sage_store_sqlite::SqliteStore;
//!
//! let store = SqliteStore::open(std::path::Path::new("/tmp/crm2sage.db"))?;
//! for integration in store.integrations().await? {
//!     println!("{}", integration.name());
//! }
//! # Ok(()) }
//! ```
//!
//! # Schema
//!
//! One table per concept, every domain value in its own column as text (identifiers as
//! hyphenated UUIDs, timestamps as RFC 3339 UTC with nine fractional digits — exact, readable,
//! and ordered as text), rebuilt through the domain's constructors on the way out. A row that
//! no longer parses is [`StoreError::Corrupt`] naming the table and column, never a panic.
//! Tables are `STRICT`, and the constraints carry the rules:
//!
//! - `integrations`: the secret is kept as its *reference* (`env:NAME` / `external:KEY`),
//!   never a value; a partial unique index on `is_default WHERE is_default = 1` allows at
//!   most one default.
//! - `accounts`: the account with its billing and optional shipping address inline.
//! - `reference_sets` and `reference_records`: one set per (integration, kind) with a small
//!   integer id; records keyed by (set, `code_key`), where `code_key` is
//!   [`ReferenceCode::key`](crm2sage_domain::ReferenceCode::key) (codes compare
//!   case-insensitively) and `code` keeps the ERP's spelling; active flag, the group defaults
//!   (spelling and key) and the other extras as a sorted JSON object (see the `reference`
//!   module).
//! - `sync_runs`: a partial unique index allows one `running` run per (integration, kind);
//!   a run's staged pages live in a TEMP table on the writer connection, not in the file.
//! - `promotions`: the parsed request in columns, the state, and the lease (host, pid,
//!   process start, task, expiry — all set or all null). **Partial unique indexes over the
//!   live states** (`creating`, `promoted`) on (integration, account) and (integration,
//!   External UID) make [`record_intent`](crm2sage_domain::ports::PromotionStore::record_intent)
//!   atomic: of two racing intents, the second fails at the index and is answered with the
//!   winner.
//! - `bindings`: one per (account, integration), the ERP record as a JSON array of
//!   `[name, type, value]` in the ERP's order (numbers as exact decimal text), and its origin
//!   (`created` by a promotion, `linked` by hand). `link`, `unlink` and `record_intent`'s
//!   `Bound` check read and write them in the writer thread's one transaction at a time.
//! - `customer_index` and `customer_index_state`: the ERP's customers per integration (the
//!   summary in columns, division `''` for Sage 300) with their lookup keys, each indexed;
//!   a cache a full customer sync rebuilds, so `db copy` leaves it out.
//! - `party_promotions`: ship-to and contact promotions, one row per attempt, with the party
//!   (kind, code), the ERP customer (division NULL for Sage 300), the External UID, the state
//!   and the lease; a partial unique index over the live states on (integration, account,
//!   kind, code) makes
//!   [`record_party_intent`](crm2sage_domain::ports::PartyPromotionStore::record_party_intent)
//!   atomic. A `promoted` row is the party's binding.
//! - `promotion_log`: the audit trail, deliberately without foreign keys (a refused attempt
//!   may name an account that does not exist).
//!
//! Foreign keys are on: promotions and bindings refer to accounts and integrations (so an
//! integration with promotions cannot be deleted even by a racing process), reference data
//! and sync runs cascade when their integration is removed.
//!
//! # Migrations
//!
//! The schema version is `PRAGMA user_version`; `PRAGMA application_id` marks the file as
//! crm2sage's. The migrator is a list of SQL steps, each applied in its own `BEGIN IMMEDIATE`
//! transaction that also sets `user_version`, re-reading the version under the lock so two
//! processes opening a new file migrate it once. A file with a newer version is refused with
//! [`StoreError::TooNew`]; a file that is not an SQLite database, or is another program's, is
//! [`StoreError::Corrupt`].
//!
//! Why not `rusqlite_migration`: no release supports rusqlite 0.43, and pinning an older
//! rusqlite (and its bundled SQLite) for a forty-line loop is the worse trade. The small
//! migrator also does what we need and a generic one would not: refuse other programs'
//! files and be safe under concurrent first opens.
//!
//! # Durability and concurrency
//!
//! Every connection uses WAL (readers never block the writer and vice versa),
//! `synchronous=FULL` (a committed intent survives power loss — the exactly-once recipe relies
//! on it), `foreign_keys=ON` and a `busy_timeout`, past which a write reports
//! [`StoreError::Busy`]. Every write transaction is `BEGIN IMMEDIATE`: it takes the write lock
//! up front, so two processes serialise at `BEGIN` and no transaction ever fails mid-way
//! upgrading a read lock.
//!
//! Each call is one short transaction, and the ports are shaped so that no call spans a
//! network wait: a sync is `begin_sync`, one `stage_page` per page as it arrives, then one
//! `finish_sync` that swaps the snapshot in with set-based SQL (deactivate what was not
//! staged, then write only what is new or changed). Between calls no lock is held, so a slow
//! ERP never holds up another process; a sync that fails discards its staging and the
//! previous snapshot was never touched. A killed sync's staging goes with its connection.
//!
//! # Async
//!
//! SQLite calls block, so they are kept off the async executor except where that costs less
//! than leaving it:
//!
//! - **Writes** go to the store's writer thread, which owns the one writer connection and
//!   commits the writes that queue up while it is busy together (group commit: each write in
//!   its own savepoint, every caller answered after the shared durable `COMMIT`; see the
//!   `writer` module). A promotion's two writes therefore never wait for a blocking-pool
//!   thread nor for a mutex, and concurrent promotions share fsyncs.
//! - **Point reads** (one row or one account's few rows, by key: the integration, the
//!   account, its promotions, the synced kinds, a handful of reference codes) run on the
//!   calling thread when a reader connection is idle: they take tens of microseconds, and in
//!   WAL mode a reader never waits for a writer. Handing them to the blocking pool cost two
//!   thread switches each, which dominated a promotion's CPU time (docs/performance.md).
//!   With no idle reader they go to the blocking pool like the other reads.
//! - **Other reads** (listings that grow with the data) run on Tokio's blocking pool
//!   (`spawn_blocking`; outside a Tokio runtime, inline).
//!
//! Reader connections each sit behind their own mutex, so no connection is ever used by two
//! threads at once. The store is cheap to [`Clone`] (clones share the connections and the
//! writer thread, which stops when the last clone is dropped). Separate [`SqliteStore`]s on
//! the same file — as in separate processes — coordinate through SQLite's locks.

mod accounts;
mod copy;
mod customer_index;
mod db;
mod integrations;
mod lease;
mod links;
mod parties;
mod party_promotions;
mod promotions;
mod reference;
mod schema;
mod writer;

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use rusqlite::Connection;

use crm2sage_domain::ports::StoreError;

pub use writer::WriteStats;

/// The file name inside the data directory.
pub const DEFAULT_FILE_NAME: &str = "crm2sage.db";

/// The schema version this build reads and writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = schema::LATEST;

/// Reader connections: enough that the runtime's worker threads doing point reads inline and
/// a listing on the blocking pool rarely find none idle.
const READERS: usize = 4;

/// The SQLite store. See the crate docs for the design.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: writer::Writer,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Locks a connection, recovering from a panic in an earlier holder: the panic unwound
/// through the transaction guard, which rolled back; any transaction still open is rolled
/// back here.
fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    settle(conn.lock().unwrap_or_else(PoisonError::into_inner))
}

fn settle(guard: MutexGuard<'_, Connection>) -> MutexGuard<'_, Connection> {
    if !guard.is_autocommit() {
        // Best effort: the next BEGIN reports any remaining problem.
        let _ = guard.execute_batch("ROLLBACK");
    }
    guard
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `path` and brings its schema up to
    /// date. Missing parent directories are created (owner-only, `0700` on Unix); a new file
    /// is created readable and writable by its owner only (mode `0600` on Unix; SQLite gives
    /// its `-wal` and `-shm` files the same mode). Blocks: call it at start-up or from
    /// a blocking context.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the file is damaged, not an SQLite database or not
    /// crm2sage's; [`StoreError::TooNew`] when a newer crm2sage wrote it;
    /// [`StoreError::Busy`] when another process held it locked past the timeout;
    /// [`StoreError::Internal`] for I/O failures, with the path.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        create_file(path)?;
        let mut writer = db::connect(path, false)?;
        schema::migrate(&mut writer)?;
        let writer = writer::Writer::start(writer)?;
        let readers = (0..READERS)
            .map(|_| db::connect(path, true).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer,
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    /// Opens the database at [`SqliteStore::default_path`].
    ///
    /// # Errors
    /// As [`SqliteStore::default_path`] and [`SqliteStore::open`].
    pub fn open_default() -> Result<Self, StoreError> {
        Self::open(&Self::default_path()?)
    }

    /// The default location: `crm2sage.db` in the platform's data directory for `crm2sage`
    /// (e.g. `~/.local/share/crm2sage/crm2sage.db` on Linux,
    /// `~/Library/Application Support/crm2sage/crm2sage.db` on macOS,
    /// `%APPDATA%\crm2sage\data\crm2sage.db` on Windows).
    ///
    /// # Errors
    /// [`StoreError::Internal`] when the platform has no home directory to put it in.
    pub fn default_path() -> Result<PathBuf, StoreError> {
        directories::ProjectDirs::from("", "", "crm2sage")
            .map(|dirs| dirs.data_dir().join(DEFAULT_FILE_NAME))
            .ok_or_else(|| {
                StoreError::Internal(
                    "no home directory to keep the database in; give its path explicitly".into(),
                )
            })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many writes this store (and its clones) has run, and in how many committed
    /// transactions: with group commit, concurrent writes share one.
    pub fn write_stats(&self) -> WriteStats {
        self.inner.writer.stats()
    }

    /// Runs `f` with the writer connection on the writer thread, inside a transaction it may
    /// share with other writes; `f` opens its own savepoint with `db::write_tx`. Answers once
    /// the transaction is committed (or with an error when it is not).
    async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }

    /// Runs a point read `f` on an idle reader connection on the calling thread, else as
    /// [`SqliteStore::read`]. Only for reads bounded by a key (see the crate docs).
    async fn read_point<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let f = match self.inner.idle_reader() {
            Some(mut conn) => return f(&mut conn),
            None => f,
        };
        self.read(f).await
    }

    /// Runs `f` with a reader connection, off the async executor.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            // Any idle reader, else wait for the next in turn.
            let mut conn = match inner.idle_reader() {
                Some(guard) => guard,
                None => {
                    let n = inner.readers.len();
                    lock(&inner.readers[inner.next_reader.fetch_add(1, Ordering::Relaxed) % n])
                }
            };
            f(&mut conn)
        })
        .await
    }
}

impl Inner {
    /// An idle reader connection, if any.
    fn idle_reader(&self) -> Option<MutexGuard<'_, Connection>> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        (0..n).find_map(|i| match self.readers[(start + i) % n].try_lock() {
            Ok(guard) => Some(settle(guard)),
            Err(TryLockError::Poisoned(poisoned)) => Some(settle(poisoned.into_inner())),
            Err(TryLockError::WouldBlock) => None,
        })
    }
}

/// Runs blocking `f` on Tokio's blocking pool, or inline outside a Tokio runtime.
async fn blocking<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.spawn_blocking(f).await.map_err(|e| {
            E::from(StoreError::Internal(format!(
                "a database task stopped unexpectedly: {e}"
            )))
        })?,
        Err(_) => f(),
    }
}

/// Creates `path`'s directories and the file itself, owner-only, if missing.
fn create_file(path: &Path) -> Result<(), StoreError> {
    let io = |what: &str, e: std::io::Error| {
        StoreError::Internal(format!("{what} {}: {e}", path.display()))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut dirs = std::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            dirs.mode(0o700);
        }
        dirs.create(parent)
            .map_err(|e| io("creating the directory of", e))?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io("creating", e)),
    }
}
