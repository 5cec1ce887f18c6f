//! [`Crm2SageBuilder`]: chooses the store, the secrets, the HTTP client and the lease, then
//! wires the domain's services.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crm2sage_domain::ports::{Clock, ErpConnector, Processes, SecretSource, Store, StoreError};
use crm2sage_domain::{ErrorClass, ErrorCode, ServiceConfig, Services};
use crm2sage_host::{EnvSecrets, HostId, OsProcesses};
use crm2sage_sage_adapter::{ClientSettings, SageConnector};

use crate::Crm2Sage;

/// Why [`Crm2SageBuilder::build`] refused. Nothing was started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Neither a SQLite path nor a store was given.
    #[error("no store was chosen: give the builder a SQLite path or a store")]
    NoStore,
    /// The lease is zero: every promotion would lose it at once.
    #[error("the lease must be longer than zero")]
    ZeroLease,
    /// The SQLite database could not be opened (or migrated).
    #[error("cannot open the database {}: {source}", .path.display())]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The PostgreSQL database could not be connected to (or migrated). Neither this text
    /// nor its fields hold the URL's password. Feature `postgres`.
    #[cfg(feature = "postgres")]
    #[error("cannot open the PostgreSQL database: {source}")]
    Postgres {
        /// The URL, its password removed.
        url: String,
        /// Why.
        source: crm2sage_store_postgres::PgStoreError,
    },
}

/// `invalid_input` for a choice the builder refuses; the database's own code (`database`,
/// `database_busy`, …) when it cannot be opened.
impl ErrorCode for BuildError {
    fn code(&self) -> &'static str {
        match self {
            BuildError::NoStore | BuildError::ZeroLease => "invalid_input",
            BuildError::Store { source, .. } => source.code(),
            #[cfg(feature = "postgres")]
            BuildError::Postgres { source, .. } => source.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            BuildError::NoStore | BuildError::ZeroLease => ErrorClass::Invalid,
            BuildError::Store { source, .. } => source.class(),
            #[cfg(feature = "postgres")]
            BuildError::Postgres { source, .. } => source.class(),
        }
    }
}

/// Where the data lives.
enum StoreChoice {
    None,
    #[cfg(any(feature = "sqlite", feature = "sqlite-system"))]
    Sqlite(PathBuf),
    #[cfg(feature = "postgres")]
    Postgres {
        /// The URL as given: it may hold the password, so it is never shown.
        url: String,
        settings: crm2sage_store_postgres::PgSettings,
    },
    Given(Arc<dyn Store>),
}

/// How the ERP is reached.
enum ErpChoice {
    Settings(ClientSettings),
    Client(reqwest::Client, ClientSettings),
    Given(Arc<dyn ErpConnector>),
}

/// Builds a [`Crm2Sage`]. Start with [`Crm2Sage::builder`]; a store is required, everything
/// else has a default:
///
/// | choice | default |
/// |---|---|
/// | secrets | [`EnvSecrets`]: each integration's password from its environment variable |
/// | HTTP | one pooled client (TLS by the crate feature) with [`ClientSettings::default`] |
/// | lease | 45 s ([`ServiceConfig::default`]) |
/// | process liveness | [`OsProcesses`] (Linux `/proc`; elsewhere the lease expiry decides) |
/// | host id in leases | the machine's hostname ([`HostId::from_hostname`]) |
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use crm2sage::{ClientSettings, Crm2Sage, MemorySecrets, SecretString};
///
/// let dir = tempfile::tempdir()?;
/// let crm2sage = Crm2Sage::builder()
///     .sqlite(dir.path().join("crm2sage.db"))
///     .secrets(MemorySecrets::new().with("ERP_PASSWORD", SecretString::from("s3cret")))
///     .http(ClientSettings::default().with_timeout(Duration::from_secs(20)))
///     .lease(Duration::from_secs(60))
///     .build()
///     .await?;
/// assert!(crm2sage.integrations().await?.is_empty());
/// # Ok(())
/// # }
/// ```
#[must_use = "a builder does nothing until `build` is awaited"]
pub struct Crm2SageBuilder {
    store: StoreChoice,
    erp: ErpChoice,
    secrets: Arc<dyn SecretSource>,
    processes: Option<Arc<dyn Processes>>,
    host_id: Option<HostId>,
    clock: Option<Arc<dyn Clock>>,
    config: ServiceConfig,
}

impl std::fmt::Debug for Crm2SageBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crm2SageBuilder")
            .field("host_id", &self.host_id)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for Crm2SageBuilder {
    fn default() -> Self {
        Self {
            store: StoreChoice::None,
            erp: ErpChoice::Settings(ClientSettings::default()),
            secrets: Arc::new(EnvSecrets),
            processes: None,
            host_id: None,
            clock: None,
            config: ServiceConfig::default(),
        }
    }
}

impl Crm2SageBuilder {
    /// The SQLite database at `path`, created (with its directory) when missing and migrated
    /// to this version's schema by [`build`](Self::build). Features `sqlite` or
    /// `sqlite-system`.
    #[cfg(any(feature = "sqlite", feature = "sqlite-system"))]
    pub fn sqlite(mut self, path: impl Into<PathBuf>) -> Self {
        self.store = StoreChoice::Sqlite(path.into());
        self
    }

    /// The PostgreSQL database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB` or
    /// `postgresql://…`), with the default pool settings; its schema is created or migrated
    /// by [`build`](Self::build). Several processes and hosts may share it. A URL without a
    /// password takes the one in `PGPASSWORD` when that is set. The password is never shown:
    /// errors carry the URL without it. Feature `postgres` (a default).
    #[cfg(feature = "postgres")]
    pub fn postgres(self, url: impl Into<String>) -> Self {
        self.postgres_with(url, crm2sage_store_postgres::PgSettings::default())
    }

    /// As [`postgres`](Self::postgres), with pool settings (connections, timeouts, schema).
    #[cfg(feature = "postgres")]
    pub fn postgres_with(
        mut self,
        url: impl Into<String>,
        settings: crm2sage_store_postgres::PgSettings,
    ) -> Self {
        self.store = StoreChoice::Postgres {
            url: url.into(),
            settings,
        };
        self
    }

    /// Your own store (any [`Store`]: a wrapper around the SQLite one, another database). It
    /// must pass the store contract suite of `crm2sage-domain` (feature `test-support`).
    pub fn store<S: Store + 'static>(mut self, store: Arc<S>) -> Self {
        self.store = StoreChoice::Given(store);
        self
    }

    /// The same, for a store already behind `Arc<dyn Store>`.
    pub fn dyn_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = StoreChoice::Given(store);
        self
    }

    /// Where integration passwords come from (default: [`EnvSecrets`]). See
    /// [`MemorySecrets`](crate::MemorySecrets) for secrets your service already holds.
    pub fn secrets(mut self, provider: impl SecretSource + 'static) -> Self {
        self.secrets = Arc::new(provider);
        self
    }

    /// The same, for a provider you keep a handle on (to rotate its secrets, say).
    pub fn shared_secrets(mut self, provider: Arc<dyn SecretSource>) -> Self {
        self.secrets = provider;
        self
    }

    /// Timeouts, retries and body limits of the HTTP client crm2sage builds (default:
    /// [`ClientSettings::default`]).
    pub fn http(mut self, settings: ClientSettings) -> Self {
        self.erp = match self.erp {
            ErpChoice::Client(client, _) => ErpChoice::Client(client, settings),
            _ => ErpChoice::Settings(settings),
        };
        self
    }

    /// Your own `reqwest` client (to share its pool or its TLS stack) instead of one crm2sage
    /// builds; [`http`](Self::http) settings still apply to retries, limits and list pages.
    /// Build it with no redirects and no transparent retries: see
    /// [`SageConnector::with_client`].
    pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.erp = match self.erp {
            ErpChoice::Settings(settings) | ErpChoice::Client(_, settings) => {
                ErpChoice::Client(client, settings)
            }
            ErpChoice::Given(_) => ErpChoice::Client(client, ClientSettings::default()),
        };
        self
    }

    /// Your own ERP connector instead of the Sage one (a fake in tests, a wrapper that
    /// meters calls). Replaces any [`http`](Self::http) or
    /// [`reqwest_client`](Self::reqwest_client) choice.
    pub fn erp(mut self, connector: Arc<dyn ErpConnector>) -> Self {
        self.erp = ErpChoice::Given(connector);
        self
    }

    /// How long a promotion's lease lasts before it must be renewed (default 45 s). A
    /// promotion whose task died is settled by [`Crm2Sage::recover`] once it has expired.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config = self.config.with_lease(lease);
        self
    }

    /// All the services' tunables at once (replaces an earlier [`lease`](Self::lease)).
    pub fn config(mut self, config: ServiceConfig) -> Self {
        self.config = config;
        self
    }

    /// How lease holders' processes are judged alive (default: [`OsProcesses`]). Your
    /// `processes` also names this process's host, so [`host_id`](Self::host_id) does not
    /// apply to it.
    pub fn processes(mut self, processes: Arc<dyn Processes>) -> Self {
        self.processes = Some(processes);
        self
    }

    /// The host id this process writes into its leases (default: the machine's hostname).
    /// A lease held under another host id is judged by its expiry only; one held under this
    /// id by its process id and start time. Give each machine that shares a database its own
    /// id, never one id to two machines; several ids on one machine act as several hosts.
    /// Applies to the default [`OsProcesses`], not to your own [`processes`](Self::processes).
    pub fn host_id(mut self, host: HostId) -> Self {
        self.host_id = Some(host);
        self
    }

    /// Another clock (default: the system's), for tests.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Opens the store and wires the services. Sends nothing to any ERP. Opening a SQLite
    /// database blocks the calling thread while it is created or migrated (once, at start-up).
    ///
    /// Dropping this future before it completes drops everything it built; a database it
    /// created stays on disk, empty or migrated.
    ///
    /// Connecting to PostgreSQL happens here too (and its migration, under the server's
    /// advisory lock); dropping the future then closes the connections it opened.
    ///
    /// # Errors
    /// [`BuildError::NoStore`] without a store; [`BuildError::ZeroLease`];
    /// [`BuildError::Store`] when the SQLite database cannot be opened;
    /// `BuildError::Postgres` (feature `postgres`) when the PostgreSQL one cannot.
    pub async fn build(self) -> Result<Crm2Sage, BuildError> {
        if self.config.lease.is_some_and(|lease| lease.is_zero()) {
            return Err(BuildError::ZeroLease);
        }
        let store: Arc<dyn Store> = match self.store {
            StoreChoice::None => return Err(BuildError::NoStore),
            #[cfg(any(feature = "sqlite", feature = "sqlite-system"))]
            StoreChoice::Sqlite(path) => match crm2sage_store_sqlite::SqliteStore::open(&path) {
                Ok(store) => Arc::new(store),
                Err(source) => return Err(BuildError::Store { path, source }),
            },
            #[cfg(feature = "postgres")]
            StoreChoice::Postgres { url, settings } => {
                Arc::new(crate::postgres::open_postgres(&url, settings).await?)
            }
            StoreChoice::Given(store) => store,
        };
        let erp: Arc<dyn ErpConnector> = match self.erp {
            ErpChoice::Settings(settings) => Arc::new(SageConnector::new(settings)),
            ErpChoice::Client(client, settings) => {
                Arc::new(SageConnector::with_client(client, settings))
            }
            ErpChoice::Given(connector) => connector,
        };
        let processes = self.processes.unwrap_or_else(|| {
            Arc::new(OsProcesses::with_host(
                self.host_id.unwrap_or_else(HostId::from_hostname),
            ))
        });
        let mut services =
            Services::new(store, erp, self.secrets, processes).with_config(self.config);
        if let Some(clock) = self.clock {
            services = services.with_clock(clock);
        }
        Ok(Crm2Sage::from_services(Arc::new(services)))
    }
}
