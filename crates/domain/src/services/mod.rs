//! The services: the user's workflow, written against the ports only.
//!
//! [`Services`] holds the ports and offers each step of the workflow — integrations, accounts,
//! sync, promotion, live ERP details — as async methods. It is generic over the store and the
//! ERP connector, so an embedding service can plug in its own, and `Send + Sync`, so one value
//! can serve many tasks.
//!
//! Every error a service returns has a stable code and an [`ErrorClass`]
//! through [`ErrorCode`]; the CLI turns the class into an exit code.

mod accounts;
mod audit;
mod batch;
mod copy;
mod crash;
mod customer;
mod customer_sync;
mod details;
mod dry_run;
mod duplicates;
mod import;
mod integrations;
mod lease;
mod links;
mod match_accounts;
mod panel;
mod parties;
mod party_details;
mod party_import;
mod party_promote;
mod party_promote_error;
mod party_recover;
mod party_steps;
mod promote;
mod promote_error;
mod reconcile;
mod recover;
mod sync;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::error_class::{ErrorClass, ErrorCode};
use crate::integration::{Integration, IntegrationName};
use crate::ports::{
    Clock, ConnectError, Credentials, ErpConnector, ErpGateway, Processes, SecretError,
    SecretSource, Store, StoreError, SystemClock,
};

pub use accounts::{AccountError, AccountView, Upserted};
pub use batch::{BatchEvent, BatchOutcome, BatchSummary, CancelFlag, RowOutcome, run_batch};
pub use copy::{COPIED_WHILE_RUNNING, CopyError, CopyReport, copy_store};
#[cfg(feature = "crash-points")]
pub use crash::CrashHook;
pub use crash::CrashPoint;
pub use customer_sync::{CustomerSyncError, CustomerSyncReport};
pub use details::DetailsError;
pub use dry_run::DryRun;
pub use duplicates::DuplicateCandidate;
pub use import::{IMPORT_CHUNK, ImportOutcome, ImportRow, ImportSummary};
pub use integrations::IntegrationError;
pub use links::{CrmIdWrite, LinkAccountError, Linked, UnlinkAccountError};
pub use match_accounts::{MATCH_CHUNK, MatchApplied, MatchError, MatchRow, MatchSummary};
pub use panel::DEFAULT_PANEL_DOCUMENTS;
pub use parties::{ContactError, ShipToError};
pub use party_details::{LiveParties, MAX_LIVE_PARTIES};
pub use party_import::{PartyImportOutcome, PartyImportRow};
pub use party_promote::{PartyPromoteError, PartyPromoted, PartyPromotionRequest};
pub use promote::{PromoteError, Promoted};
pub use reconcile::{
    BindingStatus, RECONCILE_CONCURRENCY, ReconcileError, ReconcileRow, ReconcileSummary,
    changed_fields,
};
pub use recover::{RecoverDecision, RecoverError, RecoverItem, RecoverOptions, RecoverReport};
pub use sync::{KindReport, SyncError, SyncProgress};

/// Tunables of the services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// How long a promotion lease lasts. `None` (the default): long enough for the
    /// integration's timeout — 45 s at least, and twice the longest one ERP call at that
    /// timeout ([`crate::RequestTimeout::call_budget`]; 420 s at the default 60 s), so that
    /// renewing before each call with half the lease left covers the call. `Some(length)`:
    /// exactly that, for a service that wants the promotion of a dropped or crashed holder
    /// settled sooner. A lease shorter than a call cannot create a second customer — the ERP
    /// refuses a second customer with the same number, so a take-over while the first
    /// holder's create is in flight ends as "already exists" and a later recover adopts the
    /// customer — it only costs that detour.
    pub lease: Option<Duration>,
    /// How long a sync run is held for its holder from its start and from each staged page.
    /// A run of a dead process on this host, or of a dropped sync in this process, is taken
    /// over at once; any other once this has passed since its last page. The default (60 s)
    /// covers a slow page.
    pub sync_lease: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            lease: None,
            sync_lease: Duration::from_secs(60),
        }
    }
}

impl ServiceConfig {
    /// With a fixed lease length (see [`ServiceConfig::lease`]).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// With a sync lease length (see [`ServiceConfig::sync_lease`]).
    pub fn with_sync_lease(mut self, sync_lease: Duration) -> Self {
        self.sync_lease = sync_lease;
        self
    }
}

/// Why an integration could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// None named and no default set.
    #[error("no integration was named and none is the default; configured: {}", list_or_none(.configured))]
    NoDefault {
        /// The configured integrations.
        configured: Vec<IntegrationName>,
    },
    /// No integration has this name.
    #[error("no integration named `{name}`; configured: {}", list_or_none(.configured))]
    NotFound {
        /// The name asked for.
        name: String,
        /// The configured integrations.
        configured: Vec<IntegrationName>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list_or_none(names: &[IntegrationName]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names
            .iter()
            .map(IntegrationName::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ErrorCode for ResolveError {
    fn code(&self) -> &'static str {
        match self {
            Self::NoDefault { .. } => "no_default_integration",
            Self::NotFound { .. } => "integration_not_found",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::NoDefault { .. } => ErrorClass::Invalid,
            Self::NotFound { .. } => ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why a gateway could not be opened for an integration. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The secret is not available.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The connector refused the integration.
    #[error(transparent)]
    Connect(#[from] ConnectError),
}

impl ErrorCode for GatewayError {
    fn code(&self) -> &'static str {
        match self {
            Self::Secret(e) => e.code(),
            Self::Connect(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Secret(e) => e.class(),
            Self::Connect(e) => e.class(),
        }
    }
}

/// An integration's secret as its gateway holds it: the last value the [`SecretSource`] gave,
/// asked again on [`Credentials::refresh`].
struct ProviderCredentials {
    secrets: Arc<dyn SecretSource>,
    integration: Integration,
    current: std::sync::Mutex<SecretString>,
}

#[async_trait::async_trait]
impl Credentials for ProviderCredentials {
    fn current(&self) -> SecretString {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    async fn refresh(&self) -> Result<SecretString, SecretError> {
        let fresh = self.secrets.resolve(&self.integration).await?;
        *self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh.clone();
        Ok(fresh)
    }
}

/// The workflow over the ports. See the module docs.
pub struct Services<S: ?Sized, E: ?Sized> {
    store: Arc<S>,
    erp: Arc<E>,
    secrets: Arc<dyn SecretSource>,
    processes: Arc<dyn Processes>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    tasks: tasks::LiveTasks,
    gateways:
        std::sync::Mutex<std::collections::HashMap<crate::ids::IntegrationId, Arc<dyn ErpGateway>>>,
    #[cfg(feature = "crash-points")]
    crash_hook: Option<CrashHook>,
}

impl<S: ?Sized, E: ?Sized> std::fmt::Debug for Services<S, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Services over `store` and `erp`, reading secrets from `secrets` and judging lease holders
    /// with `processes`; the system clock and default [`ServiceConfig`].
    pub fn new(
        store: Arc<S>,
        erp: Arc<E>,
        secrets: Arc<dyn SecretSource>,
        processes: Arc<dyn Processes>,
    ) -> Self {
        Self {
            store,
            erp,
            secrets,
            processes,
            clock: Arc::new(SystemClock),
            config: ServiceConfig::default(),
            tasks: tasks::LiveTasks::default(),
            gateways: std::sync::Mutex::new(std::collections::HashMap::new()),
            #[cfg(feature = "crash-points")]
            crash_hook: None,
        }
    }

    /// With another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// With a hook that decides, at each crash point, whether this "process" dies there
    /// (feature `crash-points`; tests only).
    #[cfg(feature = "crash-points")]
    pub fn with_crash_hook(mut self, hook: CrashHook) -> Self {
        self.crash_hook = Some(hook);
        self
    }

    /// Stops here when a crash test asks for it (a no-op without the `crash-points` feature).
    ///
    /// # Errors
    /// [`PromoteError::Crashed`] when the crash hook says so.
    #[allow(clippy::unused_self, clippy::unnecessary_wraps)]
    pub(crate) fn crash_point(&self, point: CrashPoint) -> Result<(), PromoteError> {
        #[cfg(feature = "crash-points")]
        {
            match &self.crash_hook {
                Some(hook) if hook(point) => return Err(PromoteError::Crashed(point)),
                Some(_) => {}
                None => crash::abort_if_asked(point),
            }
        }
        #[cfg(not(feature = "crash-points"))]
        let _ = point;
        Ok(())
    }

    /// With other tunables.
    pub fn with_config(mut self, config: ServiceConfig) -> Self {
        self.config = config;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The tunables.
    pub fn config(&self) -> ServiceConfig {
        self.config
    }

    /// The integration named `name`, or the default when `None`.
    ///
    /// # Errors
    /// [`ResolveError::NoDefault`] listing the configured integrations;
    /// [`ResolveError::NotFound`].
    pub async fn resolve_integration(
        &self,
        name: Option<&str>,
    ) -> Result<Integration, ResolveError> {
        let found = match name {
            Some(raw) => match IntegrationName::parse(raw) {
                Ok(name) => self.store.integration_by_name(&name).await?,
                Err(_) => None,
            },
            None => self.store.default_integration().await?,
        };
        if let Some(integration) = found {
            return Ok(integration);
        }
        let configured = self
            .store
            .integrations()
            .await?
            .into_iter()
            .map(|i| i.name().clone())
            .collect();
        Err(match name {
            Some(name) => ResolveError::NotFound {
                name: name.to_owned(),
                configured,
            },
            None => ResolveError::NoDefault { configured },
        })
    }

    /// A gateway to `integration`, opened on first use (resolving its secret through the
    /// [`SecretSource`] then) and reused afterwards, so a batch shares one HTTP client and its
    /// connection pool. The gateway asks the source again when the ERP refuses the secret
    /// (see [`ErpConnector::connect`]).
    ///
    /// Dropping the returned future before it completes abandons the lookup or the connect;
    /// nothing is cached and the next call starts again.
    ///
    /// # Errors
    /// [`GatewayError`]; nothing is sent.
    pub async fn gateway(
        &self,
        integration: &Integration,
    ) -> Result<Arc<dyn ErpGateway>, GatewayError> {
        if let Some(gateway) = self.cached_gateway(integration) {
            return Ok(gateway);
        }
        let secret: SecretString = self.secrets.resolve(integration).await?;
        let credentials = Arc::new(ProviderCredentials {
            secrets: Arc::clone(&self.secrets),
            integration: integration.clone(),
            current: std::sync::Mutex::new(secret),
        });
        let gateway = self.erp.connect(integration, credentials).await?;
        self.gateways
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(integration.id(), Arc::clone(&gateway));
        Ok(gateway)
    }

    fn cached_gateway(&self, integration: &Integration) -> Option<Arc<dyn ErpGateway>> {
        self.gateways
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&integration.id())
            .cloned()
    }

    /// Drops the open gateway of the integration `id`, if any (e.g. after its URL or user
    /// changed); the next call for it reconnects, resolving its secret again. Other
    /// integrations' gateways are kept. Operations already holding the gateway finish on it.
    pub fn forget_gateway(&self, id: crate::ids::IntegrationId) {
        self.gateways
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id);
    }

    /// Drops every open gateway; the next call for each integration reconnects.
    pub fn forget_gateways(&self) {
        self.gateways
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}
