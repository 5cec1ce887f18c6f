//! Live ERP details of a promoted account: always read from the ERP, never from the store.

use crate::ids::AccountId;
use crate::integration::{Integration, IntegrationName};
use crate::ports::{ErpConnector, ErpCustomer, ErpCustomerKey, ErpReadError, Store, StoreError};
use crate::promotion::Binding;

use super::{GatewayError, ResolveError, Services};
use crate::error_class::{ErrorClass, ErrorCode};

/// Why the live details could not be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetailsError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No such account.
    #[error("no account with id {0}")]
    AccountNotFound(AccountId),
    /// The account was never promoted to this integration.
    #[error("account {account} has not been promoted to {integration}")]
    NotPromoted {
        /// The account.
        account: AccountId,
        /// The integration.
        integration: IntegrationName,
    },
    /// The binding's customer is no longer in the ERP.
    #[error("the ERP no longer has customer {external_uid} (it was deleted or renumbered there)")]
    GoneFromErp {
        /// The customer's External UID.
        external_uid: String,
    },
    /// The gateway could not be opened.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The ERP could not be read; nothing stale is shown instead.
    #[error("{0}; no stale data is shown instead")]
    Erp(#[from] ErpReadError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for DetailsError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::AccountNotFound(_) => "account_not_found",
            Self::NotPromoted { .. } => "not_promoted",
            Self::GoneFromErp { .. } => "customer_gone",
            Self::Gateway(e) => e.code(),
            Self::Erp(_) => "erp",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::AccountNotFound(_) | Self::NotPromoted { .. } | Self::GoneFromErp { .. } => {
                ErrorClass::NotFound
            }
            Self::Gateway(e) => e.class(),
            Self::Erp(e) => e.class(),
            Self::Store(e) => e.class(),
        }
    }
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Reads the promoted customer of `account` live from the integration's ERP (the default
    /// when `integration` is `None`).
    ///
    /// # Dropping the future
    /// Harmless: it only reads (the store, then the ERP); at most a gateway it opened on the
    /// way is kept for the next call.
    ///
    /// # Errors
    /// [`DetailsError`]; an unreachable ERP is an error, never stale data.
    pub async fn erp_details(
        &self,
        account: AccountId,
        integration: Option<&str>,
    ) -> Result<(Integration, Binding, ErpCustomer), DetailsError> {
        let (integration, binding, key) = self.promoted_key(account, integration).await?;
        let gateway = self.gateway(&integration).await?;
        match gateway.find_customer(&key).await? {
            Some(customer) => Ok((integration, binding, customer)),
            None => Err(DetailsError::GoneFromErp {
                external_uid: binding.external_uid.to_string(),
            }),
        }
    }

    /// The integration, the binding and the ERP key of `account`'s promoted customer: the key
    /// is the one the promotion created the customer under (recorded with it).
    pub(super) async fn promoted_key(
        &self,
        account: AccountId,
        integration: Option<&str>,
    ) -> Result<(Integration, Binding, ErpCustomerKey), DetailsError> {
        let integration = self.resolve_integration(integration).await?;
        self.store
            .account(account)
            .await?
            .ok_or(DetailsError::AccountNotFound(account))?;
        let binding = self
            .store
            .bindings_of(account)
            .await?
            .into_iter()
            .find(|b| b.integration == integration.id())
            .ok_or_else(|| DetailsError::NotPromoted {
                account,
                integration: integration.name().clone(),
            })?;
        // The key the customer was created (or linked) under.
        let key = binding.customer_key();
        Ok((integration, binding, key))
    }
}
