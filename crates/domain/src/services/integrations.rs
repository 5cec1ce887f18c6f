//! Integrations: add, list, show, change, set the default, test, remove.

use crate::field::InvalidFields;
use crate::integration::{Integration, IntegrationChanges, IntegrationName, NewIntegration};
use crate::ports::{
    AddIntegrationError, ErpConnector, ErpReadError, RemoveIntegrationError, SetDefaultError,
    Store, StoreError, UpdateIntegrationError,
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

    /// Changes the settings of `name` (see [`IntegrationChanges::apply`]) and stores them.
    /// This integration's open gateway is dropped afterwards, so its next ERP call connects
    /// with the new URL, credentials, timeout and CA; other integrations keep theirs.
    ///
    /// Dropping the future before the store write completes leaves the change stored or not
    /// (the write is atomic); once it completes, the gateway is dropped in the same step.
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
        self.forget_gateway(next.id());
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

#[cfg(all(test, feature = "test-support"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::time::Duration;

    use crate::ErpKind;
    use crate::fakes::{FakeErp, FakeProcesses, FixedSecrets, MemoryStore};
    use crate::integration::{IntegrationChanges, NewIntegration};

    use super::{IntegrationError, Services};

    type App = Services<MemoryStore, FakeErp>;

    async fn app() -> App {
        let app = Services::new(
            Arc::new(MemoryStore::new()),
            Arc::new(FakeErp::new(ErpKind::Sage300)),
            Arc::new(FixedSecrets::default().with("PW", "secret")),
            Arc::new(FakeProcesses::new("host", 1, 1)),
        );
        app.add_integration(&NewIntegration {
            name: "s300".into(),
            kind: "sage300".into(),
            url: "https://erp.example.com/Sage300WebApi".into(),
            company: "SAMLTD".into(),
            user: "WEBAPI".into(),
            password_env: "PW".into(),
            ..NewIntegration::default()
        })
        .await
        .unwrap();
        app
    }

    /// Runs `f` to completion: the fakes never wait, so it is ready at once.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn a_change_is_stored_and_the_next_call_uses_a_new_gateway() {
        block_on(async {
            let app = app().await;
            let before = app.show_integration("s300").await.unwrap();
            let old_gateway = app.gateway(&before).await.unwrap();
            let mut changes = IntegrationChanges {
                timeout_secs: Some(5),
                user: Some("OTHER".into()),
                ..IntegrationChanges::default()
            };
            let after = app.update_integration("s300", &changes).await.unwrap();
            assert_eq!(after.timeout().map(|t| t.as_secs()), Some(5));
            assert_eq!(app.show_integration("s300").await.unwrap(), after);
            let new_gateway = app.gateway(&after).await.unwrap();
            assert!(
                !Arc::ptr_eq(&old_gateway, &new_gateway),
                "the cached gateway was dropped"
            );

            changes.timeout_secs = Some(0);
            changes.url = Some("http://erp.example.com/".into());
            match app.update_integration("s300", &changes).await {
                Err(IntegrationError::Invalid(fields)) => {
                    assert!(
                        fields.contains("timeout") && fields.contains("url"),
                        "{fields}"
                    );
                }
                other => panic!("{other:?}"),
            }
            assert!(matches!(
                app.update_integration("nope", &changes).await,
                Err(IntegrationError::Resolve(_))
            ));
            assert_eq!(app.show_integration("s300").await.unwrap(), after);
        });
    }

    #[test]
    fn the_lease_covers_twice_the_longest_call_at_the_integrations_timeout() {
        block_on(async {
            let app = app().await;
            let default = app.show_integration("s300").await.unwrap();
            // 60 s: 2 × (3 × 60 s + 30 s).
            assert_eq!(app.lease_length(Some(&default)), Duration::from_secs(420));
            let changes = IntegrationChanges {
                timeout_secs: Some(1),
                ..IntegrationChanges::default()
            };
            let quick = app.update_integration("s300", &changes).await.unwrap();
            assert_eq!(app.lease_length(Some(&quick)), Duration::from_secs(66));
            assert_eq!(app.lease_length(None), Duration::from_secs(45));
            // A fixed lease is honoured as it is, longer or shorter.
            let config = app.config().with_lease(Duration::from_secs(900));
            let app = app.with_config(config);
            assert_eq!(app.lease_length(Some(&default)), Duration::from_secs(900));
            let app = app.with_config(config.with_lease(Duration::from_secs(3)));
            assert_eq!(app.lease_length(Some(&default)), Duration::from_secs(3));
        });
    }
}
