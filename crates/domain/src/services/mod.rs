//! The services: the user's workflow, written against the ports only.
//!
//! [`Services`] holds the ports and offers each step of the workflow — integrations, accounts,
//! sync, promotion, live ERP details — as async methods. It is generic over the store and the
//! ERP connector, so an embedding service can plug in its own, and `Send + Sync`, so one value
//! can serve many tasks.
//!
//! Every error a service returns knows its [`ExitClass`], the category the CLI turns into an
//! exit code.

mod accounts;
mod audit;
mod batch;
mod crash;
mod customer;
mod details;
mod integrations;
mod lease;
mod promote;
mod promote_error;
mod recover;
mod sync;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::integration::{Integration, IntegrationName};
use crate::ports::{
    Clock, ConnectError, ErpConnector, ErpGateway, Processes, SecretError, SecretSource, Store,
    StoreError, SystemClock,
};

pub use accounts::{AccountError, AccountView};
pub use batch::{BatchEvent, BatchOutcome, CancelFlag, RowOutcome};
#[cfg(feature = "crash-points")]
pub use crash::CrashHook;
pub use crash::CrashPoint;
pub use details::DetailsError;
pub use integrations::IntegrationError;
pub use promote::{PromoteError, Promoted};
pub use recover::{RecoverDecision, RecoverError, RecoverItem, RecoverReport};
pub use sync::{KindReport, SyncError, SyncProgress};

/// The category of an outcome, which the CLI maps to its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitClass {
    /// 0: success.
    Ok,
    /// 1: a bug or an environment failure (the local database).
    Internal,
    /// 2: the command line was not understood.
    Usage,
    /// 3: invalid input or unmet prerequisites.
    Invalid,
    /// 4: something named does not exist.
    NotFound,
    /// 5: a conflict: already promoted, customer number taken, in progress.
    Conflict,
    /// 6: the ERP could not be reached or refused.
    Erp,
}

impl ExitClass {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitClass::Ok => 0,
            ExitClass::Internal => 1,
            ExitClass::Usage => 2,
            ExitClass::Invalid => 3,
            ExitClass::NotFound => 4,
            ExitClass::Conflict => 5,
            ExitClass::Erp => 6,
        }
    }

    /// A short machine name: `ok`, `internal`, `usage`, `invalid`, `not_found`, `conflict`,
    /// `erp`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitClass::Ok => "ok",
            ExitClass::Internal => "internal",
            ExitClass::Usage => "usage",
            ExitClass::Invalid => "invalid",
            ExitClass::NotFound => "not_found",
            ExitClass::Conflict => "conflict",
            ExitClass::Erp => "erp",
        }
    }
}

/// Tunables of the services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// The shortest a promotion lease lasts before it must be renewed (default 45 s). A
    /// promotion's lease is longer when its integration's timeout needs it: at least twice the
    /// longest one ERP call at that timeout ([`crate::RequestTimeout::call_budget`]; 420 s at
    /// the default 60 s), so that renewing before each call with half the lease left covers
    /// the call.
    pub lease: Duration,
    /// A running sync that has not staged a page for this long is taken as killed.
    pub sync_abandoned_after: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(45),
            sync_abandoned_after: Duration::from_secs(300),
        }
    }
}

impl ServiceConfig {
    /// With a lease length.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
}

/// Why an integration could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// None named and no default set.
    #[error("no integration was named and none is the default; configured: {}. Name one with --integration or run `crm2sage integration set-default NAME`", list_or_none(.configured))]
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
        "none (add one with `crm2sage integration add`)".to_owned()
    } else {
        names
            .iter()
            .map(IntegrationName::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ResolveError {
    /// The exit class.
    pub fn class(&self) -> ExitClass {
        match self {
            ResolveError::NoDefault { .. } => ExitClass::Invalid,
            ResolveError::NotFound { .. } => ExitClass::NotFound,
            ResolveError::Store(_) => ExitClass::Internal,
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

impl GatewayError {
    /// The exit class: invalid configuration (3).
    pub fn class(&self) -> ExitClass {
        match self {
            GatewayError::Connect(ConnectError::Internal(_)) => ExitClass::Internal,
            _ => ExitClass::Invalid,
        }
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

    /// A gateway to `integration`, opened on first use (resolving its secret then) and reused
    /// afterwards, so a batch shares one HTTP client and its connection pool.
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
        let secret: SecretString = self.secrets.resolve(integration.secret())?;
        let gateway = self.erp.connect(integration, secret).await?;
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

    /// Drops every open gateway (e.g. after a password change); the next call reconnects.
    pub fn forget_gateways(&self) {
        self.gateways
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}
