//! Why a ship-to's or contact's promotion did not end `promoted`, and the code and class of
//! each reason.

use crate::error_class::{ErrorClass, ErrorCode};
use crate::field::InvalidFields;
use crate::ids::{AccountId, PromotionId};
use crate::integration::IntegrationName;
use crate::party::PartyCode;
use crate::ports::{ErpReadError, ErpWriteError, StoreError};

use super::{GatewayError, ResolveError};

/// Why a ship-to or contact was not promoted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PartyPromoteError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No account has this id.
    #[error("no account with id {0}")]
    AccountNotFound(AccountId),
    /// The account has no such ship-to or contact.
    #[error("account {account} has no {party}")]
    PartyNotFound {
        /// The account.
        account: AccountId,
        /// The party asked for.
        party: PartyCode,
    },
    /// The account is not promoted to the integration: its ship-tos and contacts have no
    /// customer to go under. Promote the account first.
    #[error(
        "account {account} is not promoted to {integration}; promote the account first, then its ship-tos and contacts"
    )]
    NotPromoted {
        /// The account.
        account: AccountId,
        /// The integration.
        integration: IntegrationName,
    },
    /// A field does not fit the ERP; every one is listed. Nothing was sent.
    #[error("cannot promote the {party} into {integration}: {fields}")]
    Invalid {
        /// The party.
        party: PartyCode,
        /// The integration.
        integration: IntegrationName,
        /// The refused fields.
        fields: InvalidFields,
    },
    /// This ERP keeps only the primary contact (on the customer record itself), and this one
    /// is not the primary.
    #[error(
        "{integration} keeps contacts only on the customer record (no MT/MTContacts): only the account's primary contact can be promoted, and {party} is not it"
    )]
    NoPlace {
        /// The party.
        party: PartyCode,
        /// The integration.
        integration: IntegrationName,
    },
    /// The ERP could not say where it keeps contacts; nothing was written.
    #[error("could not ask the ERP where it keeps {kind}s: {error}; nothing was written")]
    Probe {
        /// The kind asked about.
        kind: crate::party::PartyKind,
        /// The ERP's failure.
        error: ErpReadError,
    },
    /// Another promotion of this party is in progress.
    #[error("{}", in_progress(*.promotion, *.holder_alive))]
    InProgress {
        /// The live promotion.
        promotion: PromotionId,
        /// Whether its holder is still at work.
        holder_alive: bool,
    },
    /// The gateway could not be opened; nothing was sent.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The lookup failed; nothing was created.
    #[error("could not look the {party} up in the ERP: {error}; nothing was created")]
    Lookup {
        /// The promotion (now `failed`).
        promotion: PromotionId,
        /// The party.
        party: PartyCode,
        /// The ERP's failure.
        error: ErpReadError,
    },
    /// The ERP definitely did not write it (or its customer's primary pointer).
    #[error("the ERP did not take the {party}: {error}")]
    Refused {
        /// The promotion (now `failed`).
        promotion: PromotionId,
        /// The party.
        party: PartyCode,
        /// The ERP's answer.
        error: ErpWriteError,
    },
    /// It may or may not have been written; a recover settles it.
    #[error("the outcome of promoting the {party} is unknown ({reason}); a recover settles it")]
    OutcomeUnknown {
        /// The promotion (still `creating`).
        promotion: PromotionId,
        /// The party.
        party: PartyCode,
        /// What happened.
        reason: String,
    },
    /// Written in the ERP but not recorded locally; a recover settles it.
    #[error(
        "the ERP has the {party}, but recording it locally failed ({error}); a recover settles it"
    )]
    NotRecorded {
        /// The promotion (still `creating`).
        promotion: PromotionId,
        /// The party.
        party: PartyCode,
        /// The store's failure.
        error: StoreError,
    },
    /// Another process took the promotion over.
    #[error(
        "promotion {0} was taken over by another process; a recover or that process settles it"
    )]
    LeaseLost(PromotionId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A crash test stopped here.
    #[cfg(feature = "crash-points")]
    #[error("crashed at {0} (crash test)")]
    Crashed(super::CrashPoint),
}

fn in_progress(promotion: PromotionId, holder_alive: bool) -> String {
    if holder_alive {
        format!(
            "a promotion of this party is in progress (promotion {promotion}); wait for it to finish"
        )
    } else {
        format!(
            "a promotion of this party is in progress (promotion {promotion}) but its holder is gone; a recover settles it"
        )
    }
}

impl ErrorCode for PartyPromoteError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::AccountNotFound(_) => "account_not_found",
            Self::PartyNotFound { party, .. } => match party {
                PartyCode::ShipTo(_) => "ship_to_not_found",
                PartyCode::Contact(_) => "contact_not_found",
            },
            Self::NotPromoted { .. } => "account_not_promoted",
            Self::Invalid { .. } => "invalid_input",
            Self::NoPlace { .. } => "contacts_unsupported",
            Self::InProgress { .. } => "in_progress",
            Self::Gateway(e) => e.code(),
            Self::Lookup { .. } | Self::Probe { .. } => "erp",
            Self::Refused { error, .. } => error.code(),
            Self::OutcomeUnknown { .. } => "outcome_unknown",
            Self::NotRecorded { .. } => "not_recorded",
            Self::LeaseLost(_) => "lease_lost",
            Self::Store(e) => e.code(),
            #[cfg(feature = "crash-points")]
            Self::Crashed(_) => "internal",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::AccountNotFound(_) | Self::PartyNotFound { .. } => ErrorClass::NotFound,
            Self::NotPromoted { .. } | Self::Invalid { .. } | Self::NoPlace { .. } => {
                ErrorClass::Invalid
            }
            Self::InProgress { .. } | Self::LeaseLost(_) => ErrorClass::Conflict,
            Self::Gateway(e) => e.class(),
            Self::Lookup { .. } | Self::Probe { .. } | Self::OutcomeUnknown { .. } => {
                ErrorClass::Erp
            }
            Self::Refused { error, .. } => match error {
                ErpWriteError::CustomerMissing => ErrorClass::NotFound,
                _ => ErrorClass::Erp,
            },
            Self::Store(_) | Self::NotRecorded { .. } => ErrorClass::Internal,
            #[cfg(feature = "crash-points")]
            Self::Crashed(_) => ErrorClass::Internal,
        }
    }
}
