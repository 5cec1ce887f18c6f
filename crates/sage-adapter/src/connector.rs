//! The connector: turns an integration and its credentials into a gateway, sharing one HTTP
//! client.

use std::sync::Arc;

use async_trait::async_trait;
use crm2sage_domain::ErpKind;
use crm2sage_domain::Integration;
use crm2sage_domain::ports::{ConnectError, Credentials, ErpConnector, ErpGateway};

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
        credentials: Arc<dyn Credentials>,
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
        let user = integration.user().as_str();
        let authorization =
            http::basic_authorization(user, &credentials.current()).ok_or_else(|| {
                ConnectError::Internal("the Authorization header could not be built".to_owned())
            })?;
        let http = HttpClient::new(client, authorization, Arc::clone(&self.settings))
            .with_rotation(user, credentials);
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
