//! The small ports: time, secrets and process identity.

use secrecy::SecretString;

use crate::integration::SecretRef;
use crate::promotion::LeaseHolder;
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

/// Why a secret could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The referenced secret is not there (e.g. the environment variable is unset or empty).
    #[error("the secret {reference} is not set")]
    Missing {
        /// The reference that was looked up.
        reference: SecretRef,
    },
    /// This source cannot resolve this kind of reference.
    #[error("the secret {reference} cannot be resolved here")]
    Unsupported {
        /// The reference.
        reference: SecretRef,
    },
}

impl crate::ErrorCode for SecretError {
    fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "secret_missing",
            Self::Unsupported { .. } => "secret_unsupported",
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::Missing { .. } | Self::Unsupported { .. } => crate::ErrorClass::Invalid,
        }
    }
}

/// Resolves secret references to secrets, at the moment they are needed.
pub trait SecretSource: Send + Sync {
    /// The secret `reference` names.
    ///
    /// # Errors
    /// [`SecretError::Missing`] when it is not there; [`SecretError::Unsupported`] for a kind of
    /// reference this source does not handle.
    fn resolve(&self, reference: &SecretRef) -> Result<SecretString, SecretError>;
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
