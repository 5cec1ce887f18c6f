//! The local side of ship-to and contact promotions: one row per attempt, fenced on its lease
//! like a customer's promotion; a `promoted` row is the party's binding.

use async_trait::async_trait;

use crate::Timestamp;
use crate::ids::{AccountId, PromotionId};
use crate::party_promotion::{PartyOutcome, PartyPromotion};
use crate::promotion::{Lease, LeaseHolder};

use super::store::LogEntry;
use super::store_errors::{FencedWriteError, StoreError, TakeOverError};

/// Why a party's intent was not recorded. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordPartyIntentError {
    /// The party already has a live (`creating` or `promoted`) promotion in this integration.
    #[error("the {} already has a {} promotion in this integration", .0.party, .0.state)]
    Live(Box<PartyPromotion>),
    /// The account does not exist.
    #[error("no account with id {0}")]
    AccountNotFound(AccountId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for RecordPartyIntentError {
    fn code(&self) -> &'static str {
        match self {
            Self::Live(_) => "in_progress",
            Self::AccountNotFound(_) => "account_not_found",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::Live(_) => crate::ErrorClass::Conflict,
            Self::AccountNotFound(_) => crate::ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}

/// Ship-to and contact promotions.
#[async_trait]
pub trait PartyPromotionStore: Send + Sync {
    /// Records `promotion` (state `creating`, with its lease) and appends `log`, durably and
    /// in one transaction.
    ///
    /// Dropping the future before it resolves may leave the intent recorded or not; either
    /// way the store stays consistent (one transaction).
    ///
    /// # Errors
    /// MUST return [`RecordPartyIntentError::Live`] (carrying the live one) when the same
    /// party (account, kind, code) has a live promotion in the integration, atomically — of
    /// two racing intents exactly one wins and the loser writes nothing, not even `log` — and
    /// [`RecordPartyIntentError::AccountNotFound`] for an unknown account. `failed` and
    /// `needs_review` rows never block.
    async fn record_party_intent(
        &self,
        promotion: &PartyPromotion,
        log: &LogEntry,
    ) -> Result<(), RecordPartyIntentError>;

    /// Ends `id` with `outcome` and appends `log`, in one transaction, if `holder` holds it.
    ///
    /// # Errors
    /// MUST return [`FencedWriteError::LeaseLost`] (and write nothing, `log` included) when
    /// `holder` does not hold the lease or the promotion is no longer `creating`, and
    /// [`FencedWriteError::NotFound`] for an unknown id.
    async fn settle_party(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        outcome: &PartyOutcome,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError>;

    /// Gives up the lease of `id` (state stays `creating`), if `holder` holds it, so that
    /// `recover` may settle it at once.
    ///
    /// # Errors
    /// As [`PartyPromotionStore::settle_party`].
    async fn release_party_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError>;

    /// Replaces the lease of a `creating` party promotion, only if its current lease is still
    /// `expected` (compare-and-swap): how `recover` takes over from a dead holder.
    ///
    /// # Errors
    /// MUST return [`TakeOverError::Changed`] when the lease differs from `expected` or the
    /// promotion is no longer `creating` (or does not exist).
    async fn take_over_party(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError>;

    /// The party promotion with `id`.
    ///
    /// # Errors
    /// [`StoreError`]; absence is `Ok(None)`.
    async fn party_promotion(&self, id: PromotionId) -> Result<Option<PartyPromotion>, StoreError>;

    /// Every `creating` party promotion, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn party_in_flight(&self) -> Result<Vec<PartyPromotion>, StoreError>;

    /// Every party promotion of `account`, oldest first (its `promoted` ones are the
    /// bindings of its ship-tos and contacts).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn party_promotions_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<PartyPromotion>, StoreError>;
}
