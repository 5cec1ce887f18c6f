//! Bindings made and removed by hand: `link` binds an account to a customer the ERP already
//! has, `unlink` removes a binding and leaves the ERP customer alone. Also the reads `match` and
//! `reconcile` walk the bindings with.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::ids::{AccountId, IntegrationId};
use crate::promotion::{Binding, ExternalUid, IntegrationKey, Promotion};

use super::store::{LogEntry, StoreError};

/// Why a link could not be written; nothing was (not even the log entry).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The account already has a binding in this integration.
    #[error("the account is already bound to customer {} in this integration", .0.external_uid)]
    AccountBound(Box<Binding>),
    /// Another account of this integration is bound to the customer.
    #[error("customer {} is already bound to account {} in this integration", .0.external_uid, .0.account)]
    CustomerBound(Box<Binding>),
    /// A live (`creating`) promotion holds the account or the customer in this integration.
    #[error("a promotion of customer {} for account {} is in progress in this integration", .0.external_uid, .0.account)]
    InProgress(Box<Promotion>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for LinkError {
    fn code(&self) -> &'static str {
        match self {
            Self::AccountBound(_) => "already_promoted",
            Self::CustomerBound(_) => "customer_bound",
            Self::InProgress(_) => "in_progress",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::AccountBound(_) | Self::CustomerBound(_) | Self::InProgress(_) => {
                crate::ErrorClass::Conflict
            }
            Self::Store(e) => e.class(),
        }
    }
}

/// Why a binding could not be removed; nothing was.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum UnlinkError {
    /// The account has no binding in this integration.
    #[error("the account has no binding in this integration")]
    NotBound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for UnlinkError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotBound => "not_bound",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NotBound => crate::ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}

/// Bindings by hand, and reads across bindings.
#[async_trait]
pub trait BindingStore: Send + Sync {
    /// Writes `binding` (its origin [`BindingOrigin::Linked`](crate::BindingOrigin::Linked))
    /// and appends `log`, in one transaction — atomically with
    /// [`PromotionStore::record_intent`](super::PromotionStore::record_intent), so a link and
    /// a promotion of the same account or customer racing each other never both win.
    ///
    /// # Errors
    /// MUST return [`LinkError::AccountBound`] when the account has a binding in the
    /// integration, [`LinkError::CustomerBound`] when another account's binding in the
    /// integration has the same External UID, and [`LinkError::InProgress`] when a `creating`
    /// promotion of the integration holds the account or the External UID; each writes nothing.
    async fn link(&self, binding: &Binding, log: &LogEntry) -> Result<(), LinkError>;

    /// Removes `account`'s binding in `integration` and returns it, marks the `promoted`
    /// promotion it came from (if any) [`PromotionState::Unlinked`](crate::PromotionState)
    /// at `now`, and appends `log`, in one transaction. The account may then be promoted or
    /// linked again; the log keeps the history.
    ///
    /// # Errors
    /// MUST return [`UnlinkError::NotBound`] (writing nothing) when there is no such binding.
    async fn unlink(
        &self,
        account: AccountId,
        integration: IntegrationId,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<Binding, UnlinkError>;

    /// One page of `integration`'s bindings: at most `limit` whose Integration key sorts after
    /// `after` (from the first when `None`), by Integration key.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn bindings_page(
        &self,
        integration: IntegrationId,
        after: Option<&IntegrationKey>,
        limit: usize,
    ) -> Result<Vec<Binding>, StoreError>;

    /// The bindings in `integration` of any of `accounts` (at most one each), in no order: one
    /// read for a chunk of accounts.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn bindings_of_accounts(
        &self,
        integration: IntegrationId,
        accounts: &[AccountId],
    ) -> Result<Vec<Binding>, StoreError>;

    /// The bindings in `integration` of any of the customers `uids` (at most one each), in no
    /// order.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn bindings_of_customers(
        &self,
        integration: IntegrationId,
        uids: &[ExternalUid],
    ) -> Result<Vec<Binding>, StoreError>;
}
