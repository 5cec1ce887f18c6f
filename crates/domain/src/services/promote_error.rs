//! Why a promotion did not end `promoted`, and the code and class of each reason.

use crate::codes::CustomerNo;
use crate::erp::ReferenceKind;
use crate::field::InvalidFields;
use crate::ids::{AccountId, PromotionId};
use crate::integration::IntegrationName;
use crate::ports::{CreateCustomerError, ErpReadError, StoreError};
use crate::promotion::{Binding, ExternalUid, PromotionState};

use super::customer::CustomerError;
use super::{GatewayError, ResolveError};
use crate::error_class::{ErrorClass, ErrorCode};

/// Why a promotion did not end `promoted`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PromoteError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No such account.
    #[error("no account with id {0}")]
    AccountNotFound(AccountId),
    /// The request, a code or a field length broke a rule; every one is listed.
    #[error("cannot promote into {integration}: {fields}")]
    Invalid {
        /// The integration.
        integration: IntegrationName,
        /// Every refused field.
        fields: InvalidFields,
    },
    /// Required reference data was never synced.
    #[error("{} {} never been synced for integration {integration}", kinds(.missing), if .missing.len() == 1 { "has" } else { "have" })]
    MissingPrerequisites {
        /// The integration.
        integration: IntegrationName,
        /// Every missing kind, in table order.
        missing: Vec<ReferenceKind>,
    },
    /// The account is already promoted to this integration.
    #[error("account {account} is already promoted to {integration} as customer {} (integration key {})", .binding.customer_no, .binding.integration_key)]
    AlreadyPromoted {
        /// The account.
        account: AccountId,
        /// The integration.
        integration: IntegrationName,
        /// Its binding.
        binding: Box<Binding>,
    },
    /// Another promotion of this account (or of this customer number) is in flight.
    #[error("{}", in_progress_message(*.promotion, .holder_alive))]
    InProgress {
        /// The promotion in flight.
        promotion: PromotionId,
        /// Whether its holder is still at work: a running task, or a lease not yet expired
        /// (false: the holder is gone — its process ended, or its future was dropped and the
        /// lease ran out — and a recover settles it).
        holder_alive: bool,
    },
    /// Another account's live promotion holds this customer number.
    #[error(
        "customer {external_uid} is already {state} for another account ({other_account}) in this integration; choose another customer number"
    )]
    CustomerNoInUse {
        /// The External UID.
        external_uid: ExternalUid,
        /// The other account.
        other_account: AccountId,
        /// That promotion's state.
        state: PromotionState,
    },
    /// The ERP already has a customer with this number; the promotion ended `failed`.
    #[error("customer number {customer_no} is taken in the ERP; nothing was created")]
    CustomerNoTaken {
        /// The number.
        customer_no: CustomerNo,
        /// The failed promotion.
        promotion: PromotionId,
    },
    /// The gateway could not be opened (secret, URL).
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The lookup failed; nothing was created and the promotion ended `failed`.
    #[error("could not check the customer number in the ERP: {error}; nothing was created")]
    Lookup {
        /// The failed promotion.
        promotion: PromotionId,
        /// The ERP error.
        error: ErpReadError,
    },
    /// The ERP refused the create (or could not be asked); nothing was created and the
    /// promotion ended `failed`.
    #[error("{error}; nothing was created")]
    CreateRefused {
        /// The failed promotion.
        promotion: PromotionId,
        /// The ERP error.
        error: CreateCustomerError,
    },
    /// The create may or may not have happened; the promotion stays `creating`.
    #[error("the outcome of creating the customer is unknown ({reason}); a recover settles it")]
    OutcomeUnknown {
        /// The promotion left `creating`.
        promotion: PromotionId,
        /// What happened.
        reason: String,
    },
    /// The ERP created the customer, but recording it locally failed (disk full, database
    /// locked); the promotion stays `creating`.
    #[error(
        "the ERP created customer {customer_no}, but recording it locally failed ({error}); the customer probably exists in the ERP and a recover settles it"
    )]
    NotRecorded {
        /// The promotion left `creating`.
        promotion: PromotionId,
        /// The number the ERP created.
        customer_no: CustomerNo,
        /// The local failure.
        error: StoreError,
    },
    /// This task lost the promotion's lease to another; it wrote nothing more.
    #[error(
        "promotion {0} was taken over by another process; a recover or the other process settles it"
    )]
    LeaseLost(PromotionId),
    /// The ERP may already have this account: customers share its name, phone or e-mail.
    /// Nothing was recorded or created; `allow_duplicate` creates it anyway.
    #[error("{}", duplicate_message(.candidates))]
    PossibleDuplicate {
        /// The ERP customers that may be this account, best first.
        candidates: Vec<super::duplicates::DuplicateCandidate>,
    },
    /// The duplicate guard's lookup in the ERP failed; nothing was recorded or created.
    #[error("could not look for the account in the ERP before creating it: {error}; nothing was created")]
    DuplicateCheck {
        /// The ERP error.
        error: ErpReadError,
    },
    /// The ERP already has a customer with this number (found by a dry run: nothing was
    /// recorded).
    #[error("customer number {customer_no} is taken in the ERP; choose another")]
    CustomerNoExists {
        /// The number.
        customer_no: CustomerNo,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A crash test stopped the promotion at this point (feature `crash-points` only).
    #[cfg(feature = "crash-points")]
    #[error("crashed at {0} (crash test)")]
    Crashed(super::CrashPoint),
}

impl From<CustomerError> for PromoteError {
    fn from(e: CustomerError) -> Self {
        match e {
            CustomerError::Invalid {
                integration,
                fields,
            } => Self::Invalid {
                integration,
                fields,
            },
            CustomerError::Store(e) => Self::Store(e),
        }
    }
}

fn duplicate_message(candidates: &[super::duplicates::DuplicateCandidate]) -> String {
    let listed: Vec<String> = candidates
        .iter()
        .map(|c| {
            let reasons: Vec<&str> = c.reasons.iter().map(|r| r.as_str()).collect();
            format!("{} \"{}\" ({})", c.external_uid, c.name, reasons.join(", "))
        })
        .collect();
    format!(
        "the ERP may already have this account: {}; nothing was created (link the account to that customer, or allow the duplicate to create it anyway)",
        listed.join("; ")
    )
}

fn kinds(missing: &[ReferenceKind]) -> String {
    missing
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn in_progress_message(promotion: PromotionId, holder_alive: &bool) -> String {
    if *holder_alive {
        format!(
            "a promotion of this account or customer number is in progress (promotion {promotion}); wait for it to finish"
        )
    } else {
        format!(
            "a promotion of this account or customer number is in progress (promotion {promotion}) but its holder is gone (its process ended, or it was dropped and its lease ran out); a recover settles it"
        )
    }
}

impl ErrorCode for PromoteError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::AccountNotFound(_) => "account_not_found",
            Self::Invalid { .. } => "invalid_input",
            Self::MissingPrerequisites { .. } => "missing_prerequisites",
            Self::AlreadyPromoted { .. } => "already_promoted",
            Self::InProgress { .. } => "in_progress",
            Self::CustomerNoInUse { .. } => "customer_no_in_use",
            Self::CustomerNoTaken { .. } => "customer_no_taken",
            Self::Gateway(e) => e.code(),
            Self::Lookup { .. } => "erp",
            Self::CreateRefused { .. } => "erp_refused",
            Self::OutcomeUnknown { .. } => "outcome_unknown",
            Self::NotRecorded { .. } => "not_recorded",
            Self::LeaseLost(_) => "lease_lost",
            Self::PossibleDuplicate { .. } => "possible_duplicate",
            Self::DuplicateCheck { error } => error.code(),
            Self::CustomerNoExists { .. } => "customer_no_taken",
            Self::Store(e) => e.code(),
            #[cfg(feature = "crash-points")]
            Self::Crashed(_) => "internal",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::AccountNotFound(_) => ErrorClass::NotFound,
            Self::Invalid { .. } | Self::MissingPrerequisites { .. } => ErrorClass::Invalid,
            Self::AlreadyPromoted { .. }
            | Self::InProgress { .. }
            | Self::CustomerNoInUse { .. }
            | Self::CustomerNoTaken { .. }
            | Self::CustomerNoExists { .. }
            | Self::PossibleDuplicate { .. }
            | Self::LeaseLost(_) => ErrorClass::Conflict,
            Self::DuplicateCheck { .. } => ErrorClass::Erp,
            Self::Gateway(e) => e.class(),
            Self::Lookup { .. } | Self::CreateRefused { .. } | Self::OutcomeUnknown { .. } => {
                ErrorClass::Erp
            }
            Self::Store(_) | Self::NotRecorded { .. } => ErrorClass::Internal,
            #[cfg(feature = "crash-points")]
            Self::Crashed(_) => ErrorClass::Internal,
        }
    }
}

impl PromoteError {
    /// The promotion this error left behind, once its intent was recorded.
    pub fn promotion(&self) -> Option<PromotionId> {
        match self {
            Self::CustomerNoTaken { promotion, .. }
            | Self::Lookup { promotion, .. }
            | Self::CreateRefused { promotion, .. }
            | Self::OutcomeUnknown { promotion, .. }
            | Self::NotRecorded { promotion, .. }
            | Self::LeaseLost(promotion) => Some(*promotion),
            _ => None,
        }
    }
}
