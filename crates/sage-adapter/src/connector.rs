//! The connector: turns an integration and its credentials into a gateway, sharing one HTTP
//! client per distinct (timeout, trusted CA).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use crm2sage_domain::ErpKind;
use crm2sage_domain::ports::{ConnectError, Credentials, ErpConnector, ErpGateway};
use crm2sage_domain::{Integration, RequestTimeout, TrustedCa};

use crate::http::{self, BuildError, HttpClient, Media};
use crate::sage100::{Sage100Gateway, Sage100Urls};
use crate::sage300::{Sage300Gateway, Sage300Urls};
use crate::settings::ClientSettings;

/// Connects integrations to Sage servers. Build one per process and share it: it keeps one
/// pooled HTTP client (rustls) per distinct (request timeout, trusted CA) of the integrations
/// it connected, and every gateway it returns for such an integration reuses that client, so a
/// batch of thousands of promotions reuses connections instead of opening one each, and
/// integrations with the same settings share one pool.
///
/// [`ErpKind::Sage300`] integrations get the Web API gateway, [`ErpKind::Sage100`] ones the
/// SData gateway.
#[derive(Debug, Clone)]
pub struct SageConnector {
    settings: Arc<ClientSettings>,
    /// The clients built so far, by the integration settings they were built for.
    clients: Arc<Mutex<HashMap<ClientKey, Pooled>>>,
    /// A client the caller built ([`SageConnector::with_client`]), used for every integration
    /// without a CA of its own.
    given: Option<reqwest::Client>,
}

/// What a client is built from besides the connector's settings.
type ClientKey = (Option<RequestTimeout>, Option<TrustedCa>);

/// One pooled client and the settings it was built with.
#[derive(Debug, Clone)]
struct Pooled {
    settings: Arc<ClientSettings>,
    client: reqwest::Client,
}

impl SageConnector {
    /// A connector with `settings`. Sends nothing.
    pub fn new(settings: ClientSettings) -> Self {
        Self {
            settings: Arc::new(settings),
            clients: Arc::new(Mutex::new(HashMap::new())),
            given: None,
        }
    }

    /// A connector over a `client` the caller built (to share its pool, its TLS stack or its
    /// proxy and middleware settings), with `settings` for everything but the client itself.
    /// Sends nothing.
    ///
    /// The caller's client keeps its own configuration: `settings`' connect, request and pool
    /// idle timeouts are not applied to it (set them on the client; a page of reference data
    /// still gets `list_timeout`). An integration that trusts its own CA gets a client of the
    /// connector's own (a built client's roots cannot be extended). Build it as
    /// [`SageConnector::new`] does, or a create may be sent twice: **no redirects**
    /// (`redirect(Policy::none())`) and **no transparent retries** (`retry(never())`); a
    /// client that follows a redirect may also send the credentials to another host.
    pub fn with_client(client: reqwest::Client, settings: ClientSettings) -> Self {
        Self {
            given: Some(client),
            ..Self::new(settings)
        }
    }

    /// The settings this connector uses (an integration's own timeout overrides theirs, see
    /// [`ClientSettings::for_timeout`]).
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// The client for `integration`'s timeout and CA, built on first use.
    fn client_for(&self, integration: &Integration) -> Result<Pooled, ConnectError> {
        let key: ClientKey = (integration.timeout(), integration.trusted_ca().cloned());
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pooled) = clients.get(&key) {
            return Ok(pooled.clone());
        }
        let settings = match key.0 {
            Some(timeout) => Arc::new((*self.settings).clone().for_timeout(timeout)),
            None => Arc::clone(&self.settings),
        };
        let client = match (&self.given, &key.1) {
            (Some(given), None) => given.clone(),
            _ => http::build_client(&settings, key.1.as_ref()).map_err(|e| match e {
                BuildError::TrustedCa(reason) => ConnectError::TrustedCa { reason },
                BuildError::Client(reason) => ConnectError::Internal(reason),
            })?,
        };
        let pooled = Pooled { settings, client };
        clients.insert(key, pooled.clone());
        Ok(pooled)
    }

    /// How many distinct clients this connector has built (tests).
    #[doc(hidden)]
    pub fn client_count(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
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
        let Pooled { settings, client } = self.client_for(integration)?;
        let invalid = |reason: String| ConnectError::InvalidUrl {
            url: base_url.to_string(),
            reason,
        };
        let user = integration.user().as_str();
        let authorization =
            http::basic_authorization(user, &credentials.current()).ok_or_else(|| {
                ConnectError::Internal("the Authorization header could not be built".to_owned())
            })?;
        let http = HttpClient::new(client, authorization, Arc::clone(&settings))
            .with_rotation(user, credentials);
        let company = integration.company().as_str();
        match integration.kind() {
            ErpKind::Sage300 => {
                let urls = Sage300Urls::new(base_url.as_str(), company).map_err(invalid)?;
                Ok(Arc::new(
                    Sage300Gateway::new(
                        http,
                        urls,
                        Arc::clone(&settings),
                        crate::limits::for_integration(integration),
                    )
                    .with_crm_field(integration.crm_id_field().cloned()),
                ))
            }
            ErpKind::Sage100 => {
                let urls = Sage100Urls::new(base_url.as_str(), company).map_err(invalid)?;
                Ok(Arc::new(
                    Sage100Gateway::new(
                        http.with_media(Media::atom()),
                        urls,
                        Arc::clone(&settings),
                        crate::limits::for_integration(integration),
                    )
                    .with_crm_field(integration.crm_id_field().cloned()),
                ))
            }
        }
    }
}
