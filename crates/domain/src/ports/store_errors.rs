//! The errors of the store ports ([`super::store`]), each with its code and class beside it.

use crate::account::AccountRef;
use crate::ids::AccountId;
use crate::integration::IntegrationName;
use crate::promotion::Promotion;

/// A store failure with no business meaning: the database could not be opened, is corrupt,
/// stayed locked, or a row could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database stayed busy past its timeout.
    #[error("the local database is busy: {0}")]
    Busy(String),
    /// The database file is damaged or not a crm2sage database.
    #[error("the local database is damaged or not a crm2sage database: {0}")]
    Corrupt(String),
    /// The database was written by a newer crm2sage.
    #[error(
        "the local database has schema version {found}, newer than this crm2sage supports ({supported}); upgrade crm2sage"
    )]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest this build knows.
        supported: i64,
    },
    /// Anything else, with context.
    #[error("local database error: {0}")]
    Internal(String),
}

impl crate::ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        match self {
            Self::Busy(_) => "database_busy",
            Self::Corrupt(_) => "database_corrupt",
            Self::TooNew { .. } => "database_too_new",
            Self::Internal(_) => "database",
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::Busy(_) | Self::Corrupt(_) | Self::TooNew { .. } | Self::Internal(_) => {
                crate::ErrorClass::Internal
            }
        }
    }
}

/// Why an integration could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddIntegrationError {
    /// Another integration has this name.
    #[error("an integration named `{0}` already exists")]
    NameTaken(IntegrationName),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for AddIntegrationError {
    fn code(&self) -> &'static str {
        match self {
            Self::NameTaken(_) => "integration_exists",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NameTaken(_) => crate::ErrorClass::Conflict,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why the default could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetDefaultError {
    /// No integration has this name.
    #[error("no integration named `{0}`")]
    NotFound(IntegrationName),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for SetDefaultError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "integration_not_found",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NotFound(_) => crate::ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why an integration's settings could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateIntegrationError {
    /// No integration has this id (it was removed meanwhile); carries the name it had.
    #[error("no integration named `{0}`")]
    NotFound(IntegrationName),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for UpdateIntegrationError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "integration_not_found",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NotFound(_) => crate::ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why an integration could not be removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoveIntegrationError {
    /// No integration has this name.
    #[error("no integration named `{0}`")]
    NotFound(IntegrationName),
    /// Promotions or bindings refer to it.
    #[error("integration `{0}` has promotions; it cannot be removed without losing their history")]
    InUse(IntegrationName),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for RemoveIntegrationError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "integration_not_found",
            Self::InUse(_) => "integration_in_use",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NotFound(_) => crate::ErrorClass::NotFound,
            Self::InUse(_) => crate::ErrorClass::Conflict,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why an account could not be updated. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateAccountError {
    /// No account has this id.
    #[error("no account with id {0}")]
    NotFound(AccountId),
    /// Another account already has this CRM reference.
    #[error("reference `{reference}` is already the reference of account {other}")]
    ReferenceTaken {
        /// The reference asked for.
        reference: AccountRef,
        /// The account that has it.
        other: AccountId,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for UpdateAccountError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "account_not_found",
            Self::ReferenceTaken { .. } => "invalid_input",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NotFound(_) => crate::ErrorClass::NotFound,
            Self::ReferenceTaken { .. } => crate::ErrorClass::Invalid,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why an intent could not be recorded: the live-state uniqueness rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordIntentError {
    /// The account already has a live promotion in this integration.
    #[error("the account already has a {} promotion in this integration", .0.state)]
    AccountLive(Box<Promotion>),
    /// Another live promotion in this integration holds the same External UID.
    #[error("customer {} is already held by a {} promotion of another account", .0.external_uid, .0.state)]
    UidLive(Box<Promotion>),
    /// The account, or another account with the same External UID, has a binding in this
    /// integration that no live promotion holds: a `link`.
    #[error("account {} is already linked to customer {} in this integration", .0.account, .0.external_uid)]
    Bound(Box<crate::promotion::Binding>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for RecordIntentError {
    fn code(&self) -> &'static str {
        match self {
            Self::AccountLive(_) => "in_progress",
            Self::UidLive(_) => "customer_no_in_use",
            Self::Bound(_) => "already_promoted",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::AccountLive(_) | Self::UidLive(_) | Self::Bound(_) => crate::ErrorClass::Conflict,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why a fenced write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FencedWriteError {
    /// The caller no longer holds the lease, or the promotion is no longer `creating`.
    #[error("this task no longer holds the promotion's lease; a recover will settle it")]
    LeaseLost,
    /// No such promotion.
    #[error("no such promotion")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for FencedWriteError {
    fn code(&self) -> &'static str {
        match self {
            Self::LeaseLost => "lease_lost",
            Self::NotFound => "promotion_not_found",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::LeaseLost => crate::ErrorClass::Conflict,
            Self::NotFound => crate::ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why a lease could not be taken over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TakeOverError {
    /// The lease is no longer the one expected (someone else took it, or it was renewed), or
    /// the promotion is no longer `creating`.
    #[error("the promotion's lease changed; someone else is settling it")]
    Changed,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for TakeOverError {
    fn code(&self) -> &'static str {
        match self {
            Self::Changed => "lease_lost",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::Changed => crate::ErrorClass::Conflict,
            Self::Store(e) => e.class(),
        }
    }
}
