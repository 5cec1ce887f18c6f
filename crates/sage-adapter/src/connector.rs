//! The connector: turns an integration and its secret into a gateway, sharing one HTTP client.

use std::sync::Arc;

use async_trait::async_trait;
use crm2sage_domain::ErpKind;
use crm2sage_domain::Integration;
use crm2sage_domain::ports::{ConnectError, ErpConnector, ErpGateway};
use secrecy::SecretString;

use crate::http::{self, HttpClient, Media};
use crate::sage100::{Sage100Gateway, Sage100Urls};
use crate::sage300::{Sage300Gateway, Sage300Urls};
use crate::settings::ClientSettings;

/// Connects integrations to Sage servers. Build one per process and share it: it holds one
/// pooled HTTP client (rustls) that every gateway it returns reuses, so a batch of thousands
/// of promotions reuses connections instead of opening one each.
///
/// [`ErpKind::Sage300`] integrations get the Web API gateway, [`ErpKind::Sage100`] ones the
/// SData gateway.
#[derive(Debug, Clone)]
pub struct SageConnector {
    settings: Arc<ClientSettings>,
    /// The pooled client, or why it could not be built (reported by `connect`).
    client: Result<reqwest::Client, String>,
}

impl SageConnector {
    /// A connector with `settings`. Sends nothing.
    pub fn new(settings: ClientSettings) -> Self {
        let client = http::build_client(&settings).map_err(|e| e.to_string());
        Self {
            settings: Arc::new(settings),
            client,
        }
    }

    /// A connector over a `client` the caller built (to share its pool, its TLS stack or its
    /// proxy and middleware settings), with `settings` for everything but the client itself.
    /// Sends nothing.
    ///
    /// The caller's client keeps its own configuration: `settings`' connect, request and pool
    /// idle timeouts are not applied to it (set them on the client; a page of reference data
    /// still gets `list_timeout`). Build it as [`SageConnector::new`] does, or a create may be
    /// sent twice: **no redirects**
    /// (`redirect(Policy::none())`) and **no transparent retries** (`retry(never())`); a
    /// client that follows a redirect may also send the credentials to another host.
    pub fn with_client(client: reqwest::Client, settings: ClientSettings) -> Self {
        Self {
            settings: Arc::new(settings),
            client: Ok(client),
        }
    }

    /// The settings this connector uses.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }
}

impl Default for SageConnector {
    /// A connector with [`ClientSettings::default`].
    fn default() -> Self {
        Self::new(ClientSettings::default())
    }
}

#[async_trait]
impl ErpConnector for SageConnector {
    async fn connect(
        &self,
        integration: &Integration,
        secret: SecretString,
    ) -> Result<Arc<dyn ErpGateway>, ConnectError> {
        let base_url = integration.base_url();
        base_url
            .check_transport(integration.http_policy())
            .map_err(|_| ConnectError::InsecureHttp {
                url: base_url.to_string(),
            })?;
        let client = self.client.clone().map_err(ConnectError::Internal)?;
        let invalid = |reason: String| ConnectError::InvalidUrl {
            url: base_url.to_string(),
            reason,
        };
        let authorization = http::basic_authorization(integration.user().as_str(), &secret)
            .ok_or_else(|| {
                ConnectError::Internal("the Authorization header could not be built".to_owned())
            })?;
        let http = HttpClient::new(client, authorization, Arc::clone(&self.settings));
        let company = integration.company().as_str();
        match integration.kind() {
            ErpKind::Sage300 => {
                let urls = Sage300Urls::new(base_url.as_str(), company).map_err(invalid)?;
                Ok(Arc::new(Sage300Gateway::new(
                    http,
                    urls,
                    Arc::clone(&self.settings),
                    crate::limits::for_integration(integration),
                )))
            }
            ErpKind::Sage100 => {
                let urls = Sage100Urls::new(base_url.as_str(), company).map_err(invalid)?;
                Ok(Arc::new(Sage100Gateway::new(
                    http.with_media(Media::atom()),
                    urls,
                    Arc::clone(&self.settings),
                    crate::limits::for_integration(integration),
                )))
            }
        }
    }
}
