//! The small ports: time, secrets and process identity.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::integration::Integration;
use crate::promotion::LeaseHolder;
use crate::secret::SecretRef;
use jiff::Timestamp;

/// The current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Why a secret could not be had. No variant carries the secret, and no text suggests a
/// shell command: a front end adds its own hint (the CLI suggests `export NAME=...` for an
/// environment-variable reference, and only for one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The referenced secret is not there (e.g. the environment variable is unset or empty, or
    /// the external key is unknown to the provider).
    #[error("the secret {reference} is not set")]
    Missing {
        /// The reference that was looked up.
        reference: SecretRef,
    },
    /// This source cannot resolve this kind of reference.
    #[error(
        "the secret {reference} cannot be resolved here: no secret source for it was configured"
    )]
    Unsupported {
        /// The reference.
        reference: SecretRef,
    },
    /// The provider failed (a vault that cannot be reached, a refused token, …).
    #[error("the secret {reference} could not be fetched: {reason}")]
    Unavailable {
        /// The reference.
        reference: SecretRef,
        /// The provider's account of the failure. It must never contain the secret.
        reason: String,
    },
}

impl SecretError {
    /// The reference the error is about.
    pub fn reference(&self) -> &SecretRef {
        match self {
            Self::Missing { reference }
            | Self::Unsupported { reference }
            | Self::Unavailable { reference, .. } => reference,
        }
    }
}

/// A missing or unsupported secret is invalid configuration; a provider that failed is an
/// environment failure (internal).
impl crate::ErrorCode for SecretError {
    fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "secret_missing",
            Self::Unsupported { .. } => "secret_unsupported",
            Self::Unavailable { .. } => "secret_unavailable",
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::Missing { .. } | Self::Unsupported { .. } => crate::ErrorClass::Invalid,
            Self::Unavailable { .. } => crate::ErrorClass::Internal,
        }
    }
}

/// Resolves an integration's secret, at the moment it is needed: when a gateway is opened, and
/// once more when the ERP refuses the secret (rotation). Implement it to read a vault or a
/// cloud secret manager; the CLI's implementation reads environment variables.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The secret of `integration` (its reference is [`Integration::secret`]).
    ///
    /// Dropping the returned future abandons the lookup; nothing is cached by the caller, so
    /// the next call asks again.
    ///
    /// # Errors
    /// [`SecretError::Missing`] when it is not there; [`SecretError::Unsupported`] for a kind of
    /// reference this source does not handle; [`SecretError::Unavailable`] when the provider
    /// failed.
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError>;
}

/// One integration's secret as a gateway holds it: the value in use, and a way to ask for it
/// again after the ERP refused it (a rotated password). [`Services`](crate::Services) builds
/// one from its [`SecretSource`] for each gateway it opens; an adapter test may use
/// [`FixedCredentials`].
#[async_trait]
pub trait Credentials: Send + Sync {
    /// The secret in use now: the last one resolved. Never calls the provider.
    fn current(&self) -> SecretString;

    /// Resolves the secret again (after a 401) and makes the answer the current one. The
    /// caller compares it with the secret it sent and retries only when it changed.
    ///
    /// Dropping the returned future abandons the lookup and leaves the current secret as it
    /// was.
    ///
    /// # Errors
    /// The provider's [`SecretError`]; the current secret is then unchanged.
    async fn refresh(&self) -> Result<SecretString, SecretError>;
}

/// A secret that never changes: [`refresh`](Credentials::refresh) returns the same value.
#[derive(Clone)]
pub struct FixedCredentials(SecretString);

impl FixedCredentials {
    /// `secret`, shared, as a gateway takes it.
    pub fn shared(secret: SecretString) -> Arc<dyn Credentials> {
        Arc::new(Self(secret))
    }
}

impl std::fmt::Debug for FixedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedCredentials([secret])")
    }
}

#[async_trait]
impl Credentials for FixedCredentials {
    fn current(&self) -> SecretString {
        self.0.clone()
    }

    async fn refresh(&self) -> Result<SecretString, SecretError> {
        Ok(self.0.clone())
    }
}

/// This process, as a lease holder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIdentity {
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Process start time, in the unit [`Processes::liveness`] compares.
    pub process_start: u64,
}

/// Whether a lease holder is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The holder's process runs on this host (same pid and start time).
    Alive,
    /// The holder's process is gone from this host.
    Dead,
    /// Another host: only the lease's expiry can tell.
    Unknown,
}

/// Process identity and liveness, for leases.
pub trait Processes: Send + Sync {
    /// This process.
    fn current(&self) -> ProcessIdentity;

    /// Whether `holder` still runs. On the same host, pid and start time decide; for another
    /// host the answer is [`Liveness::Unknown`].
    fn liveness(&self, holder: &LeaseHolder) -> Liveness;
}
