//! The request pipeline every flavour shares, so a new fault is written once.
//!
//! For each request, in order: log it on arrival ([`InFlight`]), read the body, refuse it when
//! too many are in flight, wait the injected latency, roll the injected error rate, let the
//! flavour handle it, drop the connection when a create committed under
//! [`DropAfterCommit`](crate::DropAfterCommit), hold the response under `slow_response`, then log
//! the status. A flavour ([`Flavour`]) only says how each of the pipeline's refusals looks on its
//! wire and how it handles a request that got through.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::Response;

use crate::auth;
use crate::faults::FaultState;
use crate::log::{InFlight, LoggedRequest, RequestLog};
use crate::server::{ConnectionKiller, Server};
use crate::{Faults, SimulatorError};

/// Largest request body read (bytes).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What a flavour's handling produced.
pub(crate) enum Outcome {
    /// Answer with this response.
    Respond(Response),
    /// The create committed; close the connection without answering.
    Drop,
}

/// A refusal the pipeline itself decides on; the flavour says how it looks on the wire.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The body could not be read; the text says why.
    UnreadableBody(String),
    /// More requests in flight than [`Faults::max_concurrent`].
    OverLimit,
    /// The injected error rate hit.
    Injected,
    /// A create committed but the connection could not be closed.
    NotDropped,
    /// The credentials are a configured forbidden user's; carries the user ID as sent.
    Forbidden(String),
    /// No credentials, or not a configured user and password.
    Unauthorized,
}

/// The users, fault state and request log every flavour keeps.
#[derive(Debug)]
pub(crate) struct Common {
    /// The users as configured (the handle's `user()` and `password()`).
    pub(crate) users: Vec<(String, String)>,
    /// The users and the passwords they have now (changed by `set_password`).
    current_users: std::sync::Mutex<Vec<(String, String)>>,
    pub(crate) forbidden_users: Vec<(String, String)>,
    pub(crate) faults: FaultState,
    pub(crate) log: Arc<RequestLog>,
}

impl Common {
    pub(crate) fn new(
        users: &[(String, String)],
        forbidden_users: &[(String, String)],
        faults: Faults,
    ) -> Common {
        Common {
            users: users.to_vec(),
            current_users: std::sync::Mutex::new(users.to_vec()),
            forbidden_users: forbidden_users.to_vec(),
            faults: FaultState::new(faults),
            log: Arc::new(RequestLog::default()),
        }
    }

    /// Checks the request's HTTP Basic credentials against the users' current passwords.
    pub(crate) fn authorise(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let users = self
            .current_users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match auth::access(headers, &users, &self.forbidden_users) {
            auth::Access::Allowed => Ok(()),
            auth::Access::Forbidden(u) => Err(Refusal::Forbidden(u)),
            auth::Access::Denied => Err(Refusal::Unauthorized),
        }
    }

    /// The first user's password from now on.
    pub(crate) fn set_password(&self, password: &str) {
        let mut users = self
            .current_users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(first) = users.first_mut() {
            first.1 = password.to_owned();
        }
    }

    /// The first user's password now.
    pub(crate) fn current_password(&self) -> String {
        self.current_users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .first()
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    }

    /// After a create committed: drop the connection if the fault says so, else answer with
    /// `respond()`.
    pub(crate) fn answer_create(&self, respond: impl FnOnce() -> Response) -> Outcome {
        if self.faults.take_drop() {
            Outcome::Drop
        } else {
            Outcome::Respond(respond())
        }
    }
}

/// One flavour of simulator: its wire errors and its handling of a request.
pub(crate) trait Flavour: Send + Sync + 'static {
    /// A refusal as the flavour models it, including the pipeline's own.
    type Error: From<Refusal>;

    /// Handles a request that got past the faults.
    fn dispatch(&self, parts: &Parts, body: &Bytes) -> Result<Outcome, Self::Error>;

    /// The shared users, fault state and log.
    fn common(&self) -> &Common;

    /// The response that carries `e`.
    fn error_response(&self, e: &Self::Error) -> Response;
}

/// Validation every flavour's configuration shares.
pub(crate) fn check_config(
    page_size: usize,
    users: &[(String, String)],
) -> Result<(), SimulatorError> {
    let invalid = |m: &str| Err(SimulatorError::InvalidConfig(m.to_owned()));
    if page_size == 0 {
        return invalid("page_size must be at least 1");
    }
    if users.is_empty() {
        return invalid("at least one user is needed");
    }
    Ok(())
}

/// Binds `addr` and serves every request of `shared`'s flavour through [`handle`].
pub(crate) async fn serve<F: Flavour>(
    addr: SocketAddr,
    shared: Arc<F>,
) -> Result<Server, SimulatorError> {
    let router = Router::new().fallback(handle::<F>).with_state(shared);
    Server::bind(addr, router).await
}

/// The single entry point of every flavour: logging, faults, then the flavour itself.
async fn handle<F: Flavour>(State(shared): State<Arc<F>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let now = Instant::now();
    let header_str = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let entry = LoggedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        content_type: header_str(header::CONTENT_TYPE),
        user: auth::basic_credentials(header_str(header::AUTHORIZATION).as_deref()).map(|(u, _)| u),
        body: String::new(),
        status: None,
        started: now,
        finished: now,
    };
    let common = shared.common();
    let mut flight = InFlight::start(common.log.clone(), entry);
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let why = Refusal::UnreadableBody(format!("The request body could not be read: {e}"));
            let resp = shared.error_response(&why.into());
            flight.finish(resp.status().as_u16());
            return resp;
        }
    };
    flight.set_body(String::from_utf8_lossy(&bytes).into_owned());

    let outcome = with_faults(&*shared, &parts, &bytes, flight.in_flight_at_start()).await;
    let resp = match outcome {
        Outcome::Respond(resp) => resp,
        Outcome::Drop => {
            if let Some(killer) = parts.extensions.get::<ConnectionKiller>() {
                killer.kill();
                // The connection task drops this future; `flight` then logs "no status".
                std::future::pending::<()>().await;
            }
            shared.error_response(&Refusal::NotDropped.into())
        }
    };
    if let Some(hold) = common.faults.get().slow_response {
        tokio::time::sleep(hold).await;
    }
    flight.finish(resp.status().as_u16());
    resp
}

async fn with_faults<F: Flavour>(
    shared: &F,
    parts: &Parts,
    body: &Bytes,
    in_flight: usize,
) -> Outcome {
    let faults = &shared.common().faults;
    if faults.over_limit(in_flight) {
        return Outcome::Respond(shared.error_response(&Refusal::OverLimit.into()));
    }
    let latency = faults.get().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if faults.roll_error() {
        return Outcome::Respond(shared.error_response(&Refusal::Injected.into()));
    }
    match shared.dispatch(parts, body) {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Respond(shared.error_response(&e)),
    }
}

/// A response with `body`, `status` and `content_type`; a 401 also carries
/// `WWW-Authenticate: {challenge}`.
pub(crate) fn error_response(
    status: StatusCode,
    content_type: &'static str,
    body: String,
    challenge: &'static str,
) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    resp
}

/// Adds `Location: {location}` to `resp` when it is a valid header value.
pub(crate) fn set_location(resp: &mut Response, location: &str) {
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
}

/// The `Host` header of the request, `localhost` when absent.
pub(crate) fn host(parts: &Parts) -> &str {
    parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Today's date (UTC) as `(year, month, day)`.
pub(crate) fn today_ymd() -> (i64, i64, i64) {
    crate::odata::filter::civil_from_days(i64::try_from(now_secs() / 86_400).unwrap_or_default())
}
