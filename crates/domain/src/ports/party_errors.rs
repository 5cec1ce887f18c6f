//! The errors of the ship-to and contact store ports ([`super::parties`]), each with its code
//! and class beside it.

use crate::contact::ContactCode;
use crate::ids::AccountId;
use crate::ports::StoreError;
use crate::ship_to::ShipToCode;

/// A kind's store-port errors: `$add` (putting one) and `$remove` (deleting one), the same
/// for ship-tos and contacts but for the code type, the noun and the error codes.
macro_rules! party_store_errors {
    ($add:ident, $remove:ident, $code:ty, $noun:literal, $exists:literal, $not_found:literal) => {
        #[doc = concat!("Why a ", $noun, " could not be stored. Nothing was stored.")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[non_exhaustive]
        pub enum $add {
            /// No account has this id.
            #[error("no account with id {0}")]
            AccountNotFound(AccountId),
            #[doc = concat!("The account already has a ", $noun, " with this code.")]
            #[error("account {account} already has a {noun} with code `{code}`", noun = $noun)]
            CodeTaken {
                /// The account.
                account: AccountId,
                /// The code asked for.
                code: $code,
            },
            #[doc = concat!(
                "The ", $noun, " is marked primary, and the account has another primary ",
                $noun, "."
            )]
            #[error(
                "account {account} already has a primary {noun} (`{primary}`); an account has at most one",
                noun = $noun
            )]
            PrimaryTaken {
                /// The account.
                account: AccountId,
                #[doc = concat!("The code of its primary ", $noun, ".")]
                primary: $code,
            },
            /// The store failed.
            #[error(transparent)]
            Store(#[from] StoreError),
        }

        impl crate::ErrorCode for $add {
            fn code(&self) -> &'static str {
                match self {
                    Self::AccountNotFound(_) => "account_not_found",
                    Self::CodeTaken { .. } => $exists,
                    Self::PrimaryTaken { .. } => "primary_taken",
                    Self::Store(e) => e.code(),
                }
            }

            fn class(&self) -> crate::ErrorClass {
                match self {
                    Self::AccountNotFound(_) => crate::ErrorClass::NotFound,
                    Self::CodeTaken { .. } | Self::PrimaryTaken { .. } => {
                        crate::ErrorClass::Conflict
                    }
                    Self::Store(e) => e.class(),
                }
            }
        }

        #[doc = concat!("Why a ", $noun, " could not be removed. Nothing was removed.")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[non_exhaustive]
        pub enum $remove {
            #[doc = concat!(
                "The account has no ", $noun, " with this code (or there is no such account)."
            )]
            #[error("account {account} has no {noun} with code `{code}`", noun = $noun)]
            NotFound {
                /// The account.
                account: AccountId,
                /// The code asked for.
                code: $code,
            },
            /// The store failed.
            #[error(transparent)]
            Store(#[from] StoreError),
        }

        impl crate::ErrorCode for $remove {
            fn code(&self) -> &'static str {
                match self {
                    Self::NotFound { .. } => $not_found,
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
    };
}

party_store_errors!(
    AddShipToError,
    RemoveShipToError,
    ShipToCode,
    "ship-to",
    "ship_to_exists",
    "ship_to_not_found"
);
party_store_errors!(
    AddContactError,
    RemoveContactError,
    ContactCode,
    "contact",
    "contact_exists",
    "contact_not_found"
);
