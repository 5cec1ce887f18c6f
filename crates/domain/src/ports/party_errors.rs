//! The errors of the ship-to and contact store ports ([`super::parties`]), each with its code
//! and class beside it.

use crate::contact::ContactCode;
use crate::ids::AccountId;
use crate::ports::StoreError;
use crate::ship_to::ShipToCode;

/// Why a ship-to could not be stored. Nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddShipToError {
    /// No account has this id.
    #[error("no account with id {0}")]
    AccountNotFound(AccountId),
    /// The account already has a ship-to with this code.
    #[error("account {account} already has a ship-to with code `{code}`")]
    CodeTaken {
        /// The account.
        account: AccountId,
        /// The code asked for.
        code: ShipToCode,
    },
    /// The ship-to is marked primary, and the account has another primary ship-to.
    #[error(
        "account {account} already has a primary ship-to (`{primary}`); an account has at most one"
    )]
    PrimaryTaken {
        /// The account.
        account: AccountId,
        /// The code of its primary ship-to.
        primary: ShipToCode,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for AddShipToError {
    fn code(&self) -> &'static str {
        match self {
            Self::AccountNotFound(_) => "account_not_found",
            Self::CodeTaken { .. } => "ship_to_exists",
            Self::PrimaryTaken { .. } => "primary_taken",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::AccountNotFound(_) => crate::ErrorClass::NotFound,
            Self::CodeTaken { .. } | Self::PrimaryTaken { .. } => crate::ErrorClass::Conflict,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why a ship-to could not be removed. Nothing was removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoveShipToError {
    /// The account has no ship-to with this code (or there is no such account).
    #[error("account {account} has no ship-to with code `{code}`")]
    NotFound {
        /// The account.
        account: AccountId,
        /// The code asked for.
        code: ShipToCode,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for RemoveShipToError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "ship_to_not_found",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NotFound { .. } => crate::ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why a contact could not be stored. Nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddContactError {
    /// No account has this id.
    #[error("no account with id {0}")]
    AccountNotFound(AccountId),
    /// The account already has a contact with this code.
    #[error("account {account} already has a contact with code `{code}`")]
    CodeTaken {
        /// The account.
        account: AccountId,
        /// The code asked for.
        code: ContactCode,
    },
    /// The contact is marked primary, and the account has another primary contact.
    #[error(
        "account {account} already has a primary contact (`{primary}`); an account has at most one"
    )]
    PrimaryTaken {
        /// The account.
        account: AccountId,
        /// The code of its primary contact.
        primary: ContactCode,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for AddContactError {
    fn code(&self) -> &'static str {
        match self {
            Self::AccountNotFound(_) => "account_not_found",
            Self::CodeTaken { .. } => "contact_exists",
            Self::PrimaryTaken { .. } => "primary_taken",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::AccountNotFound(_) => crate::ErrorClass::NotFound,
            Self::CodeTaken { .. } | Self::PrimaryTaken { .. } => crate::ErrorClass::Conflict,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why a contact could not be removed. Nothing was removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoveContactError {
    /// The account has no contact with this code (or there is no such account).
    #[error("account {account} has no contact with code `{code}`")]
    NotFound {
        /// The account.
        account: AccountId,
        /// The code asked for.
        code: ContactCode,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for RemoveContactError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "contact_not_found",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NotFound { .. } => crate::ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}
