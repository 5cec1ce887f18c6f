//! The HTTP transport every Sage flavour shares: one pooled reqwest client, HTTP Basic, GETs
//! retried with bounded backoff, a POST sent exactly once, and every transport failure sorted
//! into "never reached the server" or "sent, answer lost" — the distinction a create needs.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use crm2sage_domain::ports::{Credentials, ErpWriteError};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crm2sage_domain::TrustedCa;

use crate::errors::{self, WriteAct, WriteFailure};
use crate::settings::ClientSettings;

/// A complete answer from the server: a status, the headers the adapter reads, and the whole
/// body (never more than the request's [`BodyKind`] cap).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// What a GET reads, which decides the cap on its body ([`ClientSettings::max_entity_bytes`],
/// [`ClientSettings::max_page_bytes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// One entity, an error body, a create's answer, a one-row probe.
    Entity,
    /// One page of a list (or a schema).
    Page,
}

/// Why no complete answer arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The request never reached the server: connection refused, DNS, TLS, connect timeout.
    NotSent(String),
    /// The request was (or may have been) sent, but no complete answer came back: a timeout, a
    /// reset, a connection closed mid-response.
    AnswerLost(String),
    /// The answer's body was longer than the cap for this request; reading stopped there.
    TooLarge(String),
    /// The server answered with a redirect (3xx), which is never followed.
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Where it pointed (`Location`), or why that is unknown.
        location: String,
    },
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::NotSent(m) | Transport::AnswerLost(m) | Transport::TooLarge(m) => {
                f.write_str(m)
            }
            Transport::Redirect { status, location } => write!(
                f,
                "the ERP answered {status}, a redirect to {location}; redirects are not followed \
                 (check the integration's URL)"
            ),
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

/// One authenticated connection to one ERP company. The reqwest client inside is pooled and
/// shared by every gateway the same connector built; the session cookies are this client's own
/// (one per gateway).
pub(crate) struct HttpClient {
    client: Client,
    /// The credentials sent now: `Basic base64(user:password)` (marked sensitive so it never
    /// shows in `Debug`) and the redactor for them. Replaced when a refused secret is rotated.
    auth: Mutex<Arc<Auth>>,
    /// How to ask for the secret again after a 401, when the connector was given credentials.
    rotation: Option<Rotation>,
    settings: Arc<ClientSettings>,
    media: Media,
    /// Whether the server's session cookies are kept and sent back instead of a new Basic
    /// login on each request (Sage 300: each Basic login may cost a Sage user seat).
    sessions: bool,
    /// The session cookies the server set (`name` → `value`), sent back on later requests.
    cookies: Mutex<Vec<(String, String)>>,
}

/// One set of credentials: the `Authorization` header, and the redactor of every answer (it
/// also redacts the credentials this client sent before a rotation).
struct Auth {
    header: HeaderValue,
    redactor: Redactor,
}

/// What one request asks for, whoever it logs in as.
struct Target<'a> {
    method: Method,
    url: &'a Url,
    timeout: Option<Duration>,
    kind: BodyKind,
}

/// How one request authenticates.
enum Login<'a> {
    /// With the session cookie the server set.
    Cookie(HeaderValue),
    /// With HTTP Basic credentials.
    Basic(&'a Auth),
}

/// What a client needs to rotate its secret after a 401.
struct Rotation {
    user: String,
    credentials: Arc<dyn Credentials>,
    /// One refresh at a time: requests refused together ask the secret source once.
    refreshing: tokio::sync::Mutex<()>,
}

/// Replaces credentials in an answer's body with `[redacted]` before anything reads it, so no
/// error text, log line or stored record can carry them: the integration's own base64
/// `user:password`, its password (when at least [`Redactor::MIN_SECRET`] bytes long: a shorter
/// one would mangle ordinary text) and any `Basic <base64>` credential.
struct Redactor {
    secrets: Vec<Vec<u8>>,
}

impl Redactor {
    /// The shortest password redacted as plain text.
    const MIN_SECRET: usize = 6;
    const MARK: &'static [u8] = b"[redacted]";

    /// From the `Authorization: Basic <base64(user:password)>` header this client sends.
    fn for_authorization(authorization: &HeaderValue) -> Self {
        let mut secrets = Vec::new();
        let encoded = authorization
            .as_bytes()
            .strip_prefix(b"Basic ".as_slice())
            .unwrap_or_default();
        if !encoded.is_empty() {
            secrets.push(encoded.to_vec());
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded)
                && let Some(colon) = decoded.iter().position(|&b| b == b':')
            {
                let password = &decoded[colon + 1..];
                if password.len() >= Self::MIN_SECRET {
                    secrets.push(password.to_vec());
                }
            }
        }
        Self { secrets }
    }

    /// This redactor's secrets plus those of `authorization`.
    fn extended(&self, authorization: &HeaderValue) -> Self {
        let mut secrets = self.secrets.clone();
        for secret in Self::for_authorization(authorization).secrets {
            if !secrets.contains(&secret) {
                secrets.push(secret);
            }
        }
        Self { secrets }
    }

    /// `body` with every secret and every `Basic <credential>` replaced by [`Self::MARK`]. A
    /// body with nothing to redact (every normal answer) is returned as it came, uncopied.
    fn apply(&self, body: Vec<u8>) -> Vec<u8> {
        let mut body = body;
        for secret in &self.secrets {
            if let Some(replaced) = replace_all(&body, secret, Self::MARK) {
                body = replaced;
            }
        }
        redact_basic(&body).unwrap_or(body)
    }
}

/// `hay` with every `needle` replaced by `with`; `None` when `hay` holds no `needle`.
fn replace_all(hay: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    if needle.is_empty() {
        return None;
    }
    let mut found = memchr::memmem::find_iter(hay, needle).peekable();
    found.peek()?;
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    for at in found {
        if at < i {
            continue; // overlaps the previous match
        }
        out.extend_from_slice(&hay[i..at]);
        out.extend_from_slice(with);
        i = at + needle.len();
    }
    out.extend_from_slice(&hay[i..]);
    Some(out)
}

/// `body` with every `Basic ` (any case) followed by 8 or more base64 characters, the
/// characters replaced by `[redacted]`; `None` when there is none.
fn redact_basic(body: &[u8]) -> Option<Vec<u8>> {
    const KEY: &[u8] = b"basic ";
    let is_b64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    for at in memchr::memchr2_iter(b'b', b'B', body) {
        if at < i
            || !body
                .get(at..at + KEY.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(KEY))
        {
            continue;
        }
        let from = at + KEY.len();
        let run = body[from..].iter().take_while(|b| is_b64(b)).count();
        if run >= 8 {
            let out = out.get_or_insert_with(|| Vec::with_capacity(body.len()));
            out.extend_from_slice(&body[i..from]);
            out.extend_from_slice(Redactor::MARK);
            i = from + run;
        }
    }
    let mut out = out?;
    out.extend_from_slice(&body[i..]);
    Some(out)
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("settings", &self.settings)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

/// Why a client could not be built.
#[derive(Debug)]
pub(crate) enum BuildError {
    /// The trusted CA's PEM could not be read as certificates.
    TrustedCa(String),
    /// reqwest refused the configuration (the TLS set-up with the trusted CA included).
    Client(String),
}

/// Builds a pooled client with the settings' timeouts, trusting `ca`'s certificates on top of
/// the built-in roots (the platform verifier's). rustls is the only TLS backend compiled in,
/// and nothing turns certificate verification off. Everything a client is built from comes
/// from `settings` and `ca`.
pub(crate) fn build_client(
    settings: &ClientSettings,
    ca: Option<&TrustedCa>,
) -> Result<Client, BuildError> {
    let mut builder = Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .pool_idle_timeout(settings.pool_idle_timeout)
        .user_agent(concat!("crm2sage/", env!("CARGO_PKG_VERSION")))
        // Redirects would replay a POST or send the credentials elsewhere: never follow.
        .redirect(reqwest::redirect::Policy::none())
        // No transparent resends of any kind: a create must be sent at most once, and GET
        // retries are ours (bounded, logged).
        .retry(reqwest::retry::never());
    if let Some(ca) = ca {
        let certificates = reqwest::Certificate::from_pem_bundle(ca.as_pem().as_bytes())
            .map_err(|e| BuildError::TrustedCa(root_cause(&e)))?;
        if certificates.is_empty() {
            return Err(BuildError::TrustedCa("it holds no certificate".to_owned()));
        }
        builder = builder.tls_certs_merge(certificates);
    }
    builder.build().map_err(|e| {
        if ca.is_some() {
            BuildError::TrustedCa(root_cause(&e))
        } else {
            BuildError::Client(root_cause(&e))
        }
    })
}

/// `e`'s message followed by its innermost cause.
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = Some(s.to_string());
        source = s.source();
    }
    match cause {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// The `Authorization` header for HTTP Basic. The secret is exposed only here, to encode it.
pub(crate) fn basic_authorization(user: &str, secret: &SecretString) -> Option<HeaderValue> {
    let raw = format!("{user}:{}", secret.expose_secret());
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by IIS; it falls back to the
/// backoff).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// `wait` scaled by a factor in [0.5, 1.5): concurrent clients retrying after the same failure
/// do not all come back at once. The randomness is the clock's sub-second part, which is
/// plenty for spreading retries.
fn jittered(wait: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let factor = 0.5 + f64::from(nanos % 1_000) / 1_000.0;
    wait.mul_f64(factor)
}

/// The `name=value` pairs of the response's `Set-Cookie` headers (attributes dropped).
fn set_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let pair = v.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| (name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

impl HttpClient {
    pub(crate) fn new(
        client: Client,
        authorization: HeaderValue,
        settings: Arc<ClientSettings>,
    ) -> Self {
        Self {
            auth: Mutex::new(Arc::new(Auth {
                redactor: Redactor::for_authorization(&authorization),
                header: authorization,
            })),
            rotation: None,
            client,
            settings,
            media: Media::json(),
            sessions: true,
            cookies: Mutex::new(Vec::new()),
        }
    }

    /// This client asking `credentials` for `user`'s secret again when the server refuses the
    /// one it sent (see [`HttpClient::send_once`]).
    pub(crate) fn with_rotation(mut self, user: &str, credentials: Arc<dyn Credentials>) -> Self {
        self.rotation = Some(Rotation {
            user: user.to_owned(),
            credentials,
            refreshing: tokio::sync::Mutex::new(()),
        });
        self
    }

    fn auth(&self) -> Arc<Auth> {
        Arc::clone(&self.auth.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Credentials to send instead of `refused`, which the server answered 401 to: the ones
    /// another request already rotated to, or a refreshed secret when it differs from the
    /// refused one. `None` when there is nothing new to try (no rotation configured, the source
    /// failed or gave the same secret): the 401 stands.
    async fn rotated(&self, refused: &Arc<Auth>) -> Option<Arc<Auth>> {
        let rotation = self.rotation.as_ref()?;
        let _one_at_a_time = rotation.refreshing.lock().await;
        let now = self.auth();
        if now.header != refused.header {
            return Some(now);
        }
        let fresh = match rotation.credentials.refresh().await {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::warn!(error = %e, "the ERP refused the credentials and the secret could not be resolved again");
                return None;
            }
        };
        let header = basic_authorization(&rotation.user, &fresh)?;
        if header == refused.header {
            tracing::debug!("the ERP refused the credentials and the secret is unchanged");
            return None;
        }
        let next = Arc::new(Auth {
            redactor: now.redactor.extended(&header),
            header,
        });
        *self.auth.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&next);
        tracing::info!("the ERP refused the credentials; retrying once with the rotated secret");
        Some(next)
    }

    /// This client sending `media`'s headers instead of JSON's. Atom (SData) clients keep no
    /// session: every request carries Basic credentials.
    pub(crate) fn with_media(mut self, media: Media) -> Self {
        self.sessions = media.get_content_type.is_some();
        self.media = media;
        self
    }

    fn cookie_header(&self) -> Option<HeaderValue> {
        let cookies = self.cookies.lock().unwrap_or_else(PoisonError::into_inner);
        if cookies.is_empty() {
            return None;
        }
        let text = cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut value = HeaderValue::from_str(&text).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    fn keep_cookies(&self, headers: &HeaderMap) {
        if !self.sessions {
            return;
        }
        let fresh = set_cookies(headers);
        if fresh.is_empty() {
            return;
        }
        let mut cookies = self.cookies.lock().unwrap_or_else(PoisonError::into_inner);
        for (name, value) in fresh {
            cookies.retain(|(n, _)| n != &name);
            if !value.is_empty() {
                cookies.push((name, value));
            }
        }
    }

    fn forget_cookies(&self) {
        self.cookies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Sends one request and reads the answer, its body capped by `kind`. With a session
    /// cookie, the cookie is sent instead of Basic credentials; a 401 to it forgets the cookie
    /// and sends the request once more with Basic (the server refused it unprocessed). A 401 to
    /// Basic credentials asks for the secret again ([`HttpClient::with_rotation`]) and, only if
    /// it changed, sends the request once more with it; a second 401 is the answer.
    ///
    /// Resending after a 401 is safe for a create too: the server authenticates a request
    /// before it reads or processes it (IIS Basic authentication in front of the Sage 300 Web
    /// API; SData "bad credentials get a 401" before any resource handling), so a POST answered
    /// 401 created nothing — which is why the adapter already maps a create's 401 to
    /// `CreateCustomerError::Unauthorized`, "nothing was created". Each retry happens at most
    /// once per request, so a stale secret cannot loop.
    async fn send_once(
        &self,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
        timeout: Option<Duration>,
        kind: BodyKind,
    ) -> Result<(Answer, HeaderMap), Transport> {
        let body = body.map(Bytes::from);
        let auth = self.auth();
        let cookie = if self.sessions {
            self.cookie_header()
        } else {
            None
        };
        let first = match cookie {
            Some(cookie) => Login::Cookie(cookie),
            None => Login::Basic(&auth),
        };
        let by_cookie = matches!(first, Login::Cookie(_));
        let target = Target {
            method,
            url,
            timeout,
            kind,
        };
        let mut sent = self.send_with(&target, body.clone(), first).await?;
        if by_cookie && sent.0.status == StatusCode::UNAUTHORIZED {
            tracing::debug!(%url, "the session cookie was refused; logging in again");
            self.forget_cookies();
            sent = self
                .send_with(&target, body.clone(), Login::Basic(&auth))
                .await?;
        }
        if sent.0.status != StatusCode::UNAUTHORIZED {
            return Ok(sent);
        }
        match self.rotated(&auth).await {
            Some(fresh) => self.send_with(&target, body, Login::Basic(&fresh)).await,
            None => Ok(sent),
        }
    }

    async fn send_with(
        &self,
        target: &Target<'_>,
        body: Option<Bytes>,
        login: Login<'_>,
    ) -> Result<(Answer, HeaderMap), Transport> {
        let Target {
            method,
            url,
            timeout,
            kind,
        } = target;
        let (url, timeout, kind) = (*url, *timeout, *kind);
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .header(header::ACCEPT, self.media.accept.clone());
        request = match login {
            Login::Cookie(cookie) => request.header(header::COOKIE, cookie),
            Login::Basic(auth) => request.header(header::AUTHORIZATION, auth.header.clone()),
        };
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
        let mut response = request.send().await.map_err(|e| classify(&e, url))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.keep_cookies(&headers);
        if status.is_redirection() {
            let location = headers
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map_or_else(|| "(no Location header)".to_owned(), str::to_owned);
            return Err(Transport::Redirect {
                status: status.as_u16(),
                location,
            });
        }
        let cap = match kind {
            BodyKind::Entity => self.settings.max_entity_bytes,
            BodyKind::Page => self.settings.max_page_bytes,
        };
        let too_large = || {
            Transport::TooLarge(format!(
                "the answer from {} is larger than the {cap}-byte limit for {}; reading stopped",
                host_port(url),
                match kind {
                    BodyKind::Entity => "one record",
                    BodyKind::Page => "one page",
                }
            ))
        };
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large());
        }
        let declared = response
            .content_length()
            .and_then(|n| usize::try_from(n).ok());
        let mut body = Vec::with_capacity(declared.unwrap_or(0));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Transport::AnswerLost(describe(&e, url, "reading the answer")))?
        {
            if body.len().saturating_add(chunk.len()) > cap {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        // The latest redactor: it also covers the credentials sent before a rotation.
        let body = self.auth().redactor.apply(body);
        tracing::debug!(%method, %url, status = status.as_u16(), bytes = body.len(), "sage answer");
        Ok((Answer { status, body }, headers))
    }

    /// GETs `url`, retrying connect failures, lost answers, 5xx and 429 up to
    /// [`ClientSettings::get_retries`] times. The wait is the server's `Retry-After` on a 429
    /// or 503 (capped by [`ClientSettings::max_retry_after`]), else an exponential backoff;
    /// both jittered. A redirect or an over-long body is not retried. Returns the last answer
    /// or failure.
    pub(crate) async fn get(
        &self,
        url: &Url,
        timeout: Option<Duration>,
        kind: BodyKind,
    ) -> Result<Answer, Transport> {
        let mut attempt: u32 = 0;
        loop {
            let result = self.send_once(Method::GET, url, None, timeout, kind).await;
            let (retryable, asked) = match &result {
                Ok((answer, headers)) => {
                    let status = answer.status;
                    let throttled = status == StatusCode::TOO_MANY_REQUESTS
                        || status == StatusCode::SERVICE_UNAVAILABLE;
                    (
                        status.is_server_error() || throttled,
                        throttled.then(|| retry_after(headers)).flatten(),
                    )
                }
                Err(Transport::Redirect { .. } | Transport::TooLarge(_)) => (false, None),
                Err(_) => (true, None),
            };
            if !retryable || attempt >= self.settings.get_retries {
                return result.map(|(answer, _)| answer);
            }
            let backoff = self
                .settings
                .retry_backoff
                .saturating_mul(2u32.saturating_pow(attempt));
            let wait = jittered(
                asked
                    .map_or(backoff, |a| a.max(backoff))
                    .min(self.settings.max_retry_after.max(backoff)),
            );
            tracing::debug!(%url, attempt, ?wait, "retrying GET");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// POSTs `body` to `url` exactly once (a 401 to a stale session cookie is answered
    /// unprocessed, and is sent once more with Basic credentials).
    pub(crate) async fn post_once(&self, url: &Url, body: Vec<u8>) -> Result<Answer, Transport> {
        self.write_once(Method::POST, url, body).await
    }

    /// Sends a write (`POST`, `PATCH`, `PUT`) with `body` exactly once, as
    /// [`HttpClient::post_once`] does; the body goes with the flavour's write `Content-Type`.
    pub(crate) async fn write_once(
        &self,
        method: Method,
        url: &Url,
        body: Vec<u8>,
    ) -> Result<Answer, Transport> {
        self.send_once(method, url, Some(body), None, BodyKind::Entity)
            .await
            .map(|(answer, _)| answer)
    }

    /// A ship-to's or contact's write (its create, or the customer update that makes it
    /// primary) sent once, as [`HttpClient::write_once`] does, for either ERP: a transport
    /// failure is the act's ([`errors::write_transport`]), a non-2xx answer is what `refused`
    /// makes of it; a 2xx answer is returned to be read.
    pub(crate) async fn write_party(
        &self,
        method: Method,
        url: &Url,
        body: Vec<u8>,
        act: WriteAct,
        refused: impl FnOnce(&Answer) -> WriteFailure,
    ) -> Result<Answer, ErpWriteError> {
        let answer = self
            .write_once(method, url, body)
            .await
            .map_err(|t| ErpWriteError::from(errors::write_transport(t, act)))?;
        if !answer.status.is_success() {
            return Err(refused(&answer).into());
        }
        Ok(answer)
    }
}

fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    let port = url
        .port_or_known_default()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    format!("{host}{port}")
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
    let at = host_port(url);
    if cause.is_empty() {
        format!("{at} {what} while {during}")
    } else {
        format!("{at} {what} while {during}: {cause}")
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
        let client = build_client(&settings, None).expect("client");
        let http = HttpClient::new(client, header, settings);
        let debug = format!("{http:?}");
        assert!(!debug.contains("QURNSU4"), "{debug}");
    }
}
