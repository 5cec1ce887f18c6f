//! The HTTP transport every Sage flavour shares: one pooled reqwest client, HTTP Basic, GETs
//! retried with bounded backoff, a POST sent exactly once, and every transport failure sorted
//! into "never reached the server" or "sent, answer lost" — the distinction a create needs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{self, HeaderValue};
use reqwest::{Client, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::settings::ClientSettings;

/// A complete answer from the server: a status and the whole body.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// Why no complete answer arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The request never reached the server: connection refused, DNS, TLS, connect timeout.
    NotSent(String),
    /// The request was (or may have been) sent, but no complete answer came back: a timeout, a
    /// reset, a connection closed mid-response.
    AnswerLost(String),
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::NotSent(m) | Transport::AnswerLost(m) => f.write_str(m),
        }
    }
}

/// The media-type headers a flavour sends.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    /// `Content-Type` on a GET (Sage 300 demands one even without a body), or none.
    get_content_type: Option<HeaderValue>,
    /// `Content-Type` of a POST body.
    post_content_type: HeaderValue,
    /// `Accept` on every request.
    accept: HeaderValue,
}

impl Media {
    /// Sage 300: `application/json` everywhere, GETs included.
    pub(crate) fn json() -> Self {
        let json = HeaderValue::from_static("application/json");
        Self {
            get_content_type: Some(json.clone()),
            post_content_type: json.clone(),
            accept: json,
        }
    }

    /// Sage 100 SData: Atom XML; no `Content-Type` on a GET, an Atom entry on a POST.
    pub(crate) fn atom() -> Self {
        Self {
            get_content_type: None,
            post_content_type: HeaderValue::from_static("application/atom+xml; type=entry"),
            accept: HeaderValue::from_static("application/atom+xml"),
        }
    }
}

/// One authenticated connection to one ERP company. Cheap to share; the reqwest client inside
/// is pooled and shared by every gateway the same connector built.
pub(crate) struct HttpClient {
    client: Client,
    /// `Basic base64(user:password)`, marked sensitive so it never shows in `Debug`.
    authorization: HeaderValue,
    settings: Arc<ClientSettings>,
    media: Media,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Builds the pooled client with the settings' timeouts. rustls is the only TLS backend
/// compiled in.
pub(crate) fn build_client(settings: &ClientSettings) -> Result<Client, reqwest::Error> {
    Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .pool_idle_timeout(settings.pool_idle_timeout)
        .user_agent(concat!("crm2sage/", env!("CARGO_PKG_VERSION")))
        // Redirects would replay a POST or send the credentials elsewhere: never follow.
        .redirect(reqwest::redirect::Policy::none())
        // No transparent resends of any kind: a create must be sent at most once, and GET
        // retries are ours (bounded, logged).
        .retry(reqwest::retry::never())
        .build()
}

/// The `Authorization` header for HTTP Basic. The secret is exposed only here, to encode it.
pub(crate) fn basic_authorization(user: &str, secret: &SecretString) -> Option<HeaderValue> {
    let raw = format!("{user}:{}", secret.expose_secret());
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

impl HttpClient {
    pub(crate) fn new(
        client: Client,
        authorization: HeaderValue,
        settings: Arc<ClientSettings>,
    ) -> Self {
        Self {
            client,
            authorization,
            settings,
            media: Media::json(),
        }
    }

    /// This client sending `media`'s headers instead of JSON's.
    pub(crate) fn with_media(mut self, media: Media) -> Self {
        self.media = media;
        self
    }

    /// Sends one request and reads the whole answer. No retry.
    async fn send_once(
        &self,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Answer, Transport> {
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::ACCEPT, self.media.accept.clone());
        // Sage 300 answers 500 to any request without a Content-Type, GETs included.
        let content_type = if body.is_some() {
            Some(&self.media.post_content_type)
        } else {
            self.media.get_content_type.as_ref()
        };
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type.clone());
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        tracing::debug!(%method, %url, "sage request");
        let response = request.send().await.map_err(|e| classify(&e, url))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Transport::AnswerLost(describe(&e, url, "reading the answer")))?;
        tracing::debug!(%method, %url, status = status.as_u16(), bytes = body.len(), "sage answer");
        Ok(Answer {
            status,
            body: body.to_vec(),
        })
    }

    /// GETs `url`, retrying connect failures, lost answers, 5xx and 429 up to
    /// [`ClientSettings::get_retries`] times with exponential backoff. Returns the last answer
    /// or failure.
    pub(crate) async fn get(
        &self,
        url: &Url,
        timeout: Option<Duration>,
    ) -> Result<Answer, Transport> {
        let mut attempt: u32 = 0;
        loop {
            let result = self.send_once(Method::GET, url, None, timeout).await;
            let retryable = match &result {
                Ok(answer) => {
                    answer.status.is_server_error()
                        || answer.status == StatusCode::TOO_MANY_REQUESTS
                }
                Err(_) => true,
            };
            if !retryable || attempt >= self.settings.get_retries {
                return result;
            }
            let wait = self
                .settings
                .retry_backoff
                .saturating_mul(2u32.saturating_pow(attempt));
            tracing::debug!(%url, attempt, ?wait, "retrying GET");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// POSTs `body` to `url` exactly once.
    pub(crate) async fn post_once(&self, url: &Url, body: Vec<u8>) -> Result<Answer, Transport> {
        self.send_once(Method::POST, url, Some(body), None).await
    }
}

/// Sorts a reqwest failure: a connect failure was never sent; anything else may have been.
fn classify(e: &reqwest::Error, url: &Url) -> Transport {
    if e.is_connect() {
        Transport::NotSent(describe(e, url, "connecting"))
    } else {
        Transport::AnswerLost(describe(e, url, "waiting for the answer"))
    }
}

/// A one-line description with the root cause (reqwest's own message is often generic).
fn describe(e: &reqwest::Error, url: &Url, during: &str) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let host = url.host_str().unwrap_or("?");
    let port = url
        .port_or_known_default()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    if cause.is_empty() {
        format!("{host}{port} {what} while {during}")
    } else {
        format!("{host}{port} {what} while {during}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_is_basic_and_never_shown() {
        let header = basic_authorization("ADMIN", &SecretString::from("ADMIN")).expect("header");
        assert_eq!(header.to_str().ok(), Some("Basic QURNSU46QURNSU4="));
        assert!(header.is_sensitive());
        let settings = Arc::new(ClientSettings::for_tests());
        let client = build_client(&settings).expect("client");
        let http = HttpClient::new(client, header, settings);
        let debug = format!("{http:?}");
        assert!(!debug.contains("QURNSU4"), "{debug}");
    }
}
