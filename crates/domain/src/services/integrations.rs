//! Integrations: add, list, show, set the default, test, remove.

use crate::field::InvalidFields;
use crate::integration::{Integration, IntegrationName, NewIntegration};
use crate::ports::{
    AddIntegrationError, ErpConnector, ErpReadError, RemoveIntegrationError, SetDefaultError,
    Store, StoreError,
};

use super::{GatewayError, ResolveError, Services};
use crate::error_class::{ErrorClass, ErrorCode};

/// Why an integration operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrationError {
    /// The input broke rules.
    #[error("invalid integration: {0}")]
    Invalid(InvalidFields),
    /// The name is taken.
    #[error("an integration named `{0}` already exists")]
    NameTaken(IntegrationName),
    /// No such integration.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// Promotions refer to it.
    #[error("integration `{0}` has promotions; it cannot be removed without losing their history")]
    InUse(IntegrationName),
    /// The gateway could not be opened.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The ERP failed the test.
    #[error(transparent)]
    Erp(#[from] ErpReadError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for IntegrationError {
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_input",
            Self::NameTaken(_) => "integration_exists",
            Self::InUse(_) => "integration_in_use",
            Self::Resolve(e) => e.code(),
            Self::Gateway(e) => e.code(),
            Self::Erp(_) => "erp",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::Invalid,
            Self::NameTaken(_) | Self::InUse(_) => ErrorClass::Conflict,
            Self::Resolve(e) => e.class(),
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
    /// Validates and stores a new integration (the only default when asked to be). Its secret
    /// is the environment variable `input.password_env` names, or the reference an embedder
    /// put in `input.secret_ref` (e.g. [`SecretRef::external`](crate::SecretRef::external)
    /// for its own [`SecretSource`](crate::ports::SecretSource)); the secret is not resolved
    /// here.
    ///
    /// Dropping the returned future before it completes leaves the integration either stored
    /// or not (one store write); nothing else happens.
    ///
    /// # Errors
    /// [`IntegrationError::Invalid`] listing every bad field; [`IntegrationError::NameTaken`].
    pub async fn add_integration(
        &self,
        input: &NewIntegration,
    ) -> Result<Integration, IntegrationError> {
        let integration = input
            .validate(self.clock.now())
            .map_err(IntegrationError::Invalid)?;
        match self.store.add_integration(&integration).await {
            Ok(()) => Ok(integration),
            Err(AddIntegrationError::NameTaken(name)) => Err(IntegrationError::NameTaken(name)),
            Err(AddIntegrationError::Store(e)) => Err(e.into()),
        }
    }

    /// Every integration, by name.
    ///
    /// # Errors
    /// [`IntegrationError::Store`].
    pub async fn list_integrations(&self) -> Result<Vec<Integration>, IntegrationError> {
        Ok(self.store.integrations().await?)
    }

    /// One integration by name.
    ///
    /// # Errors
    /// [`IntegrationError::Resolve`] when unknown.
    pub async fn show_integration(&self, name: &str) -> Result<Integration, IntegrationError> {
        Ok(self.resolve_integration(Some(name)).await?)
    }

    /// Makes `name` the only default.
    ///
    /// # Errors
    /// [`IntegrationError::Resolve`] when unknown.
    pub async fn set_default_integration(
        &self,
        name: &str,
    ) -> Result<Integration, IntegrationError> {
        let integration = self.resolve_integration(Some(name)).await?;
        match self.store.set_default(integration.name()).await {
            Ok(()) => Ok(integration.with_default(true)),
            Err(SetDefaultError::NotFound(_)) => Err(self
                .resolve_integration(Some(name))
                .await
                .err()
                .map_or_else(
                    || StoreError::Internal("integration vanished".into()).into(),
                    IntegrationError::from,
                )),
            Err(SetDefaultError::Store(e)) => Err(e.into()),
        }
    }

    /// Removes `name` unless promotions refer to it.
    ///
    /// # Errors
    /// [`IntegrationError::Resolve`] when unknown; [`IntegrationError::InUse`].
    pub async fn remove_integration(&self, name: &str) -> Result<(), IntegrationError> {
        let integration = self.resolve_integration(Some(name)).await?;
        match self.store.remove_integration(integration.name()).await {
            Ok(()) => Ok(()),
            Err(RemoveIntegrationError::InUse(name)) => Err(IntegrationError::InUse(name)),
            Err(RemoveIntegrationError::NotFound(_)) => Ok(()),
            Err(RemoveIntegrationError::Store(e)) => Err(e.into()),
        }
    }

    /// Connects to the integration's ERP and checks it answers and accepts the credentials
    /// (a refused secret is resolved once more, see [`Services::gateway`]).
    ///
    /// Dropping the returned future abandons the check; it writes nothing (a gateway opened
    /// on the way may stay cached).
    ///
    /// # Errors
    /// [`IntegrationError::Gateway`] (secret, URL), [`IntegrationError::Erp`].
    pub async fn test_integration(&self, name: &str) -> Result<Integration, IntegrationError> {
        let integration = self.resolve_integration(Some(name)).await?;
        let gateway = self.gateway(&integration).await?;
        gateway.test_connection().await?;
        Ok(integration)
    }
}
