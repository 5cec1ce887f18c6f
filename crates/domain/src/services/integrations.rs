//! Integrations: add, list, show, change, set the default, test, remove.

use crate::field::InvalidFields;
use crate::integration::{Integration, IntegrationChanges, IntegrationName, NewIntegration};
use crate::ports::{
    AddIntegrationError, ErpConnector, ErpReadError, RemoveIntegrationError, SetDefaultError,
    Store, StoreError, UpdateIntegrationError,
};

use super::{ExitClass, GatewayError, ResolveError, Services};

/// Why an integration operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrationError {
    /// The input broke rules.
    #[error("invalid integration: {0}")]
    Invalid(InvalidFields),
    /// The name is taken.
    #[error("an integration named `{0}` already exists; pick another name or remove it first")]
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

impl IntegrationError {
    /// The exit class.
    pub fn class(&self) -> ExitClass {
        match self {
            Self::Invalid(_) => ExitClass::Invalid,
            Self::NameTaken(_) | Self::InUse(_) => ExitClass::Conflict,
            Self::Resolve(e) => e.class(),
            Self::Gateway(e) => e.class(),
            Self::Erp(_) => ExitClass::Erp,
            Self::Store(_) => ExitClass::Internal,
        }
    }
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Validates and stores a new integration (the only default when asked to be).
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

    /// Changes the settings of `name` (see [`IntegrationChanges::apply`]) and stores them.
    /// Every open gateway is dropped afterwards, so the next ERP call of this integration
    /// connects with the new URL, credentials, timeout and CA (the others reconnect too, which
    /// costs one new connection each).
    ///
    /// Dropping the future before the store write commits changes nothing; after it, the
    /// change is stored and only the gateways may not have been dropped yet (a later call of
    /// this method, or a new process, uses the new settings).
    ///
    /// # Errors
    /// [`IntegrationError::Resolve`] when unknown; [`IntegrationError::Invalid`] listing every
    /// refused field.
    pub async fn update_integration(
        &self,
        name: &str,
        changes: &IntegrationChanges,
    ) -> Result<Integration, IntegrationError> {
        let current = self.resolve_integration(Some(name)).await?;
        let next = changes.apply(&current).map_err(IntegrationError::Invalid)?;
        match self.store.update_integration(&next).await {
            Ok(()) => {}
            Err(UpdateIntegrationError::NotFound(_)) => {
                return Err(self
                    .resolve_integration(Some(name))
                    .await
                    .err()
                    .map_or_else(
                        || StoreError::Internal("integration vanished".into()).into(),
                        IntegrationError::from,
                    ));
            }
            Err(UpdateIntegrationError::Store(e)) => return Err(e.into()),
        }
        // Helper E adds a per-integration forget; until then every gateway goes.
        self.forget_gateways();
        Ok(next)
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

    /// Connects to the integration's ERP and checks it answers and accepts the credentials.
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
