//! A CRM service on axum that promotes its accounts to ERP customers with crm2sage.
//!
//! ```text
//! ERP_KIND=sage300 ERP_URL=https://erp.example.com/Sage300WebApi ERP_COMPANY=SAMLTD \
//! ERP_USER=WEBAPI ERP_PASSWORD=… \
//! cargo run --release -p crm2sage --example axum_service -- \
//!     --db ./crm2sage.db --listen 127.0.0.1:8080 [--lease-secs 45] [--request-timeout-ms 30000]
//! ```
//!
//! Sage 100: `ERP_KIND=sage100`, and `ERP_DIVISION` (the default AR division, `00` when unset).
//! The password is handed to crm2sage by this service's own in-memory secret provider
//! ([`ServiceSecrets`]) under an external reference (`erp/password`); crm2sage never reads it
//! from the environment. At start the service registers the integration `erp` (reusing it when
//! the database already has it), syncs its reference data, then serves.
//!
//! Every handler runs under a tower timeout layer (`--request-timeout-ms`, default 30,000): a
//! request that takes longer is answered **504** `{"error": {"code": "timeout", …}}` and its
//! handler future is dropped. A promotion whose handler was dropped goes on (crm2sage runs it on
//! its own task); a retry answers 409 `in_progress` meanwhile, then 409 `already_promoted`
//! with the binding; `POST /recover` settles one whose task is gone once its lease expired.
//!
//! # Routes
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /accounts` | `name`, `line1`, `city`, `country`, optional `reference`, `line2`, `line3`, `state`, `postal_code`, `phone`, `email`, `website`, `currency`, `language`, `terms` | 201 `{"id"}` |
//! | `GET /accounts/{id}` | | 200 `{"id", "name", "reference", "bindings": [{"integration", "customer_no", "external_uid", "integration_key"}], "promotions": [{"id", "state", "customer_no", "error"}]}` |
//! | `POST /accounts/{id}/promote` | `customer_no`, Sage 300: `category`, `tax_group`; Sage 100: `salesperson`, `tax_schedule`, optional `category`, `division`, `ship_method`; optional `terms` | 200 `{"external_uid", "integration_key", "customer_no", "promotion_id"}` |
//! | `GET /accounts/{id}/erp` | | 200 `{"integration", "customer_no", "external_uid", "name", "record": {…the ERP's fields…}}`, live from the ERP |
//! | `POST /recover` | | 200 `{"items": [{"promotion_id", "account_id", "integration", "customer_no", "decision", "detail"}]}` |
//! | `GET /health` | | 200 `{"status": "ok"}` |
//!
//! Errors: `{"error": {"code", "message", "details"}}` with 422 invalid input (also a body
//! that is not the JSON asked for; `details.fields` names each refused field), 404 not found,
//! 409 conflict, 502 ERP, 500 internal, 504 timeout. The status comes from the library
//! error's class in one function, [`status_of`].
//!
//! `crates/crm2sage/tests/axum_service.rs` runs [`serve`] in-process against the simulator.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{BoxError, Json, Router};
use crm2sage::ports::{SecretError, SecretSource, StoreError};
use crm2sage::services::{
    AccountError, DetailsError, GatewayError, IntegrationError, PromoteError, RecoverError,
    ResolveError, SyncError,
};
use crm2sage::{
    AccountId, AddressInput, Crm2Sage, ErpRecord, ErpValue, ErrorClass, ErrorCode, Integration,
    InvalidFields, NewAccount, NewIntegration, PromotionRequest, SecretRef, SecretRefKind,
    SecretString,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower::ServiceBuilder;

/// Any error of start-up.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The integration this service registers and promotes into.
pub const INTEGRATION: &str = "erp";

/// The external reference the ERP password is registered under.
pub const SECRET_KEY: &str = "erp/password";

/// Default `--request-timeout-ms`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_millis(30_000);

/// The ERP this service promotes into (from `ERP_*`).
#[derive(Debug, Clone)]
pub struct ErpConfig {
    /// `sage300` or `sage100` (`ERP_KIND`).
    pub kind: String,
    /// Base URL (`ERP_URL`).
    pub url: String,
    /// Company code (`ERP_COMPANY`).
    pub company: String,
    /// ERP user (`ERP_USER`).
    pub user: String,
    /// Its password (`ERP_PASSWORD`), handed to crm2sage by [`ServiceSecrets`].
    pub password: SecretString,
    /// Sage 100 default AR division (`ERP_DIVISION`).
    pub division: Option<String>,
}

/// Everything the service is started with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SQLite database (`--db`).
    pub db: PathBuf,
    /// Where to listen (`--listen`); [`serve`] takes an already bound listener.
    pub listen: SocketAddr,
    /// A promotion's lease (`--lease-secs`; crm2sage's default, 45 s, when `None`).
    pub lease: Option<Duration>,
    /// Every handler's time limit (`--request-timeout-ms`).
    pub request_timeout: Duration,
    /// The ERP.
    pub erp: ErpConfig,
}

impl Config {
    /// Reads the arguments (without the program name) and the `ERP_*` variables through `env`.
    ///
    /// # Errors
    /// A text naming the argument or variable that is missing or malformed.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut db = None;
        let mut listen = None;
        let mut lease = None;
        let mut request_timeout = DEFAULT_REQUEST_TIMEOUT;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--db" => db = Some(PathBuf::from(value()?)),
                "--listen" => {
                    let raw = value()?;
                    listen = Some(
                        raw.parse::<SocketAddr>()
                            .map_err(|e| format!("--listen `{raw}`: {e}"))?,
                    );
                }
                "--lease-secs" => {
                    let raw = value()?;
                    let secs = raw
                        .parse::<u64>()
                        .map_err(|e| format!("--lease-secs `{raw}`: {e}"))?;
                    lease = Some(Duration::from_secs(secs));
                }
                "--request-timeout-ms" => {
                    let raw = value()?;
                    let ms = raw.parse::<u64>().ok().filter(|ms| *ms > 0).ok_or(format!(
                        "--request-timeout-ms `{raw}`: not a positive number"
                    ))?;
                    request_timeout = Duration::from_millis(ms);
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        let required = |name: &str| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(format!("the environment variable {name} is not set"))
        };
        let erp = ErpConfig {
            kind: required("ERP_KIND")?,
            url: required("ERP_URL")?,
            company: required("ERP_COMPANY")?,
            user: required("ERP_USER")?,
            password: SecretString::from(required("ERP_PASSWORD")?),
            division: env("ERP_DIVISION").filter(|v| !v.trim().is_empty()),
        };
        Ok(Self {
            db: db.ok_or("--db PATH is required")?,
            listen: listen.ok_or("--listen ADDR is required")?,
            lease,
            request_timeout,
            erp,
        })
    }
}

/// This service's own secret provider: the secrets it holds in memory, under external
/// references. An environment-variable reference is refused: crm2sage gets the password from
/// the service, never from the environment.
pub struct ServiceSecrets {
    secrets: HashMap<String, SecretString>,
}

impl std::fmt::Debug for ServiceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSecrets")
            .field("keys", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ServiceSecrets {
    /// One secret, under `key`.
    pub fn new(key: &str, secret: SecretString) -> Self {
        Self {
            secrets: HashMap::from([(key.to_owned(), secret)]),
        }
    }
}

/// Answers the external references it holds; an environment-variable reference is not this
/// provider's. Reads memory only: dropping the future does nothing.
#[async_trait::async_trait]
impl SecretSource for ServiceSecrets {
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError> {
        let reference = integration.secret();
        match reference.kind() {
            SecretRefKind::External(key) => {
                self.secrets
                    .get(key)
                    .cloned()
                    .ok_or_else(|| SecretError::Missing {
                        reference: reference.clone(),
                    })
            }
            _ => Err(SecretError::Unsupported {
                reference: reference.clone(),
            }),
        }
    }
}

/// crm2sage, wired for this service: the integration registered and synced.
#[derive(Debug, Clone)]
pub struct Service {
    /// The library.
    pub crm2sage: Crm2Sage,
    /// The integration `erp`.
    pub integration: Integration,
}

/// Builds crm2sage on `config.db`, registers the integration `erp` (or reuses it) and syncs
/// its reference data.
///
/// # Errors
/// The database, an invalid `ERP_*` setting, or a sync that could sync nothing.
pub async fn start(config: &Config) -> Result<Service, Error> {
    let secrets = ServiceSecrets::new(SECRET_KEY, config.erp.password.clone());
    let mut builder = Crm2Sage::builder().sqlite(&config.db).secrets(secrets);
    if let Some(lease) = config.lease {
        builder = builder.lease(lease);
    }
    let crm2sage = builder.build().await?;
    let integration = match crm2sage.integration(INTEGRATION).await {
        Ok(existing) => existing,
        Err(IntegrationError::Resolve(ResolveError::NotFound { .. })) => {
            register(&crm2sage, &config.erp).await?
        }
        Err(e) => return Err(e.into()),
    };
    crm2sage.sync(Some(INTEGRATION), None, &|_| {}).await?;
    Ok(Service {
        crm2sage,
        integration,
    })
}

/// Registers the integration `erp` with the password under the external reference
/// [`SECRET_KEY`].
async fn register(crm2sage: &Crm2Sage, erp: &ErpConfig) -> Result<Integration, Error> {
    let mut input = NewIntegration::new(
        INTEGRATION,
        erp.kind.clone(),
        erp.url.clone(),
        erp.company.clone(),
        erp.user.clone(),
    );
    input.secret_ref =
        Some(SecretRef::external(SECRET_KEY).map_err(|e| format!("the secret reference {e}"))?);
    input.division.clone_from(&erp.division);
    input.make_default = true;
    Ok(crm2sage.add_integration(&input).await?)
}

/// The routes, every handler under a timeout of `request_timeout` (its future dropped when
/// the time is up, answered 504 `timeout`).
pub fn router(service: Service, request_timeout: Duration) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/accounts", post(create_account))
        .route("/accounts/{id}", get(show_account))
        .route("/accounts/{id}/promote", post(promote))
        .route("/accounts/{id}/erp", get(erp_record))
        .route("/recover", post(recover))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(timed_out))
                .timeout(request_timeout),
        )
        .with_state(service)
}

/// Starts crm2sage ([`start`]) and serves on `listener` until the process ends.
///
/// Dropping this future stops serving: connections close, handler futures are dropped (a
/// promotion under way still runs to its end on its own task).
///
/// # Errors
/// [`start`]'s errors; an I/O error of the listener.
pub async fn serve(config: Config, listener: tokio::net::TcpListener) -> Result<(), Error> {
    serve_until(config, listener, std::future::pending()).await
}

/// [`serve`], stopping gracefully (in-flight requests answered) when `shutdown` completes.
///
/// Dropping this future stops serving at once, as [`serve`].
///
/// # Errors
/// As [`serve`].
pub async fn serve_until(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let service = start(&config).await?;
    let app = router(service, config.request_timeout);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

// ----- errors --------------------------------------------------------------------------------

/// A failed request: `{"error": {"code", "message", "details"}}` under its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: json!({}),
        }
    }

    fn invalid(field: &str, rule: impl std::fmt::Display) -> Self {
        let rule = rule.to_string();
        Self {
            details: json!({ "fields": [{ "field": field, "rule": rule }] }),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("{field}: {rule}"),
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": {
            "code": self.code,
            "message": self.message,
            "details": self.details,
        }});
        (self.status, Json(body)).into_response()
    }
}

/// The one place a library error's class becomes an HTTP status.
pub fn status_of(class: ErrorClass) -> StatusCode {
    match class {
        ErrorClass::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorClass::NotFound => StatusCode::NOT_FOUND,
        ErrorClass::Conflict => StatusCode::CONFLICT,
        ErrorClass::Erp => StatusCode::BAD_GATEWAY,
        ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A library error as the API reports it: the library's own code and class
/// ([`ErrorCode`]), and the details this API adds.
trait Details: ErrorCode {
    fn details(&self) -> Value {
        json!({})
    }
}

impl<E: Details> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self {
            status: status_of(e.class()),
            code: e.code(),
            message: e.to_string(),
            details: e.details(),
        }
    }
}

fn fields_json(fields: &InvalidFields) -> Value {
    let fields: Vec<Value> = fields
        .fields()
        .iter()
        .map(|f| json!({ "field": f.field(), "rule": f.rule() }))
        .collect();
    json!({ "fields": fields })
}

impl Details for StoreError {}
impl Details for ResolveError {}
impl Details for GatewayError {}
impl Details for DetailsError {}
impl Details for RecoverError {}
impl Details for SyncError {}

impl Details for AccountError {
    fn details(&self) -> Value {
        match self {
            AccountError::Invalid(fields) => fields_json(fields),
            _ => json!({}),
        }
    }
}

impl Details for PromoteError {
    fn details(&self) -> Value {
        let mut details = match self {
            PromoteError::Invalid { fields, .. } => fields_json(fields),
            PromoteError::MissingPrerequisites { missing, .. } => {
                json!({ "missing_kinds": missing.iter().map(|k| k.as_str()).collect::<Vec<_>>() })
            }
            PromoteError::AlreadyPromoted { binding, .. } => json!({
                "customer_no": binding.customer_no.as_str(),
                "external_uid": binding.external_uid.as_str(),
                "integration_key": binding.integration_key.as_str(),
            }),
            PromoteError::InProgress { holder_alive, .. } => {
                json!({ "holder_alive": holder_alive })
            }
            PromoteError::CustomerNoTaken { customer_no, .. } => {
                json!({ "customer_no": customer_no.as_str() })
            }
            _ => json!({}),
        };
        if let (Some(id), Value::Object(map)) = (self.promotion(), &mut details) {
            map.insert("promotion_id".into(), Value::String(id.to_string()));
        }
        details
    }
}

/// A body that is not the JSON asked for: 422, like any invalid input, naming the field when
/// the JSON was well formed but a value had the wrong type (`name: invalid type: …`), else
/// `body`.
fn bad_body(rejection: &JsonRejection) -> ApiError {
    let text = rejection.body_text();
    if let JsonRejection::JsonDataError(_) = rejection
        && let Some((_, detail)) = text.split_once("target type: ")
        && let Some((path, rule)) = detail.split_once(": ")
        && !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']'))
    {
        return ApiError::invalid(path, rule);
    }
    ApiError::invalid("body", text)
}

fn account_id(raw: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(raw).map_err(|e| ApiError::invalid("id", e))
}

async fn timed_out(error: BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            "the request took longer than the service's time limit; a promotion under way goes on: retry it, or read the account",
        )
    } else {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the request failed: {error}"),
        )
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take this method",
    )
}

// ----- handlers ------------------------------------------------------------------------------

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `POST /accounts`. Every field is optional to serde so that the library reports every
/// missing or refused one at once, by name.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountBody {
    name: String,
    line1: String,
    line2: Option<String>,
    line3: Option<String>,
    city: String,
    state: Option<String>,
    postal_code: Option<String>,
    country: String,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
    currency: Option<String>,
    language: Option<String>,
    terms: Option<String>,
    reference: Option<String>,
}

async fn create_account(
    State(service): State<Service>,
    body: Result<Json<AccountBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body.map_err(|r| bad_body(&r))?;
    let input = {
        let mut billing = AddressInput::new(body.line1, body.city, body.country);
        billing.line2 = body.line2;
        billing.line3 = body.line3;
        billing.state = body.state;
        billing.postal_code = body.postal_code;
        let mut v_newaccount = NewAccount::new(body.name, billing);
        v_newaccount.phone = body.phone;
        v_newaccount.email = body.email;
        v_newaccount.website = body.website;
        v_newaccount.currency = body.currency;
        v_newaccount.language = body.language;
        v_newaccount.terms = body.terms;
        v_newaccount.reference = body.reference;
        v_newaccount
    };
    let account = service.crm2sage.create_account(&input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": account.id().to_string() })),
    ))
}

async fn show_account(
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = service.crm2sage.account(account_id(&id)?).await?;
    let names: HashMap<_, _> = service
        .crm2sage
        .integrations()
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "database", e.to_string()))?
        .into_iter()
        .map(|i| (i.id(), i.name().as_str().to_owned()))
        .collect();
    let bindings: Vec<Value> = view
        .bindings
        .iter()
        .map(|b| {
            json!({
                "integration": names.get(&b.integration),
                "customer_no": b.customer_no.as_str(),
                "external_uid": b.external_uid.as_str(),
                "integration_key": b.integration_key.as_str(),
            })
        })
        .collect();
    let promotions: Vec<Value> = view
        .promotions
        .iter()
        .map(|p| {
            json!({
                "id": p.id.to_string(),
                "state": p.state.as_str(),
                "customer_no": p.request.customer_no().as_str(),
                "error": p.error,
            })
        })
        .collect();
    Ok(Json(json!({
        "id": view.account.id().to_string(),
        "name": view.account.details().name().as_str(),
        "reference": view.account.details().reference().map(|r| r.as_str()),
        "bindings": bindings,
        "promotions": promotions,
    })))
}

/// `POST /accounts/{id}/promote`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PromoteBody {
    customer_no: String,
    category: Option<String>,
    tax_group: Option<String>,
    terms: Option<String>,
    division: Option<String>,
    salesperson: Option<String>,
    ship_method: Option<String>,
    tax_schedule: Option<String>,
}

async fn promote(
    State(service): State<Service>,
    Path(id): Path<String>,
    body: Result<Json<PromoteBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let account = account_id(&id)?;
    let Json(body) = body.map_err(|r| bad_body(&r))?;
    let mut request = PromotionRequest::new(account, body.customer_no);
    request.integration = Some(INTEGRATION.into());
    request.category = body.category;
    request.tax_group = body.tax_group;
    request.terms = body.terms;
    request.division = body.division;
    request.salesperson = body.salesperson;
    request.ship_method = body.ship_method;
    request.tax_schedule = body.tax_schedule;
    // Dropped by the timeout layer, this future stops waiting; the promotion goes on.
    let promoted = service.crm2sage.promote(&request).await?;
    Ok(Json(json!({
        "external_uid": promoted.binding.external_uid.as_str(),
        "integration_key": promoted.binding.integration_key.as_str(),
        "customer_no": promoted.binding.customer_no.as_str(),
        "promotion_id": promoted.promotion.to_string(),
    })))
}

fn erp_value(value: &ErpValue) -> Value {
    match value {
        ErpValue::Text(t) => Value::String(t.clone()),
        ErpValue::Number(n) => serde_json::from_str::<serde_json::Number>(n.as_str())
            .map_or_else(|_| Value::String(n.to_string()), Value::Number),
        ErpValue::Bool(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

fn erp_fields(record: &ErpRecord) -> Map<String, Value> {
    record
        .fields()
        .map(|(name, value)| (name.to_owned(), erp_value(value)))
        .collect()
}

async fn erp_record(
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let account = account_id(&id)?;
    let (integration, binding, customer) = service
        .crm2sage
        .erp_details(account, Some(INTEGRATION))
        .await?;
    Ok(Json(json!({
        "integration": integration.name().as_str(),
        "customer_no": binding.customer_no.as_str(),
        "external_uid": customer.external_uid().as_str(),
        "name": customer.name(),
        "record": erp_fields(&customer.record),
    })))
}

async fn recover(State(service): State<Service>) -> Result<Json<Value>, ApiError> {
    // Dropped by the timeout layer, this future stops waiting; the recovery goes on.
    let report = service.crm2sage.recover().await?;
    let items: Vec<Value> = report
        .items
        .iter()
        .map(|i| {
            json!({
                "promotion_id": i.promotion.to_string(),
                "account_id": i.account.to_string(),
                "integration": i.integration.as_ref().map(|n| n.as_str()),
                "customer_no": i.customer_no.as_str(),
                "decision": i.decision.as_str(),
                "detail": i.decision.detail(),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

// ----- main ----------------------------------------------------------------------------------

#[allow(dead_code, clippy::print_stderr)]
#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = match Config::parse(std::env::args().skip(1), |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(why) => {
            eprintln!("axum_service: {why}");
            eprintln!(
                "usage: axum_service --db PATH --listen ADDR [--lease-secs N] [--request-timeout-ms N]\n\
                 environment: ERP_KIND (sage300|sage100), ERP_URL, ERP_COMPANY, ERP_USER, ERP_PASSWORD, ERP_DIVISION (Sage 100)"
            );
            std::process::exit(2);
        }
    };
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    eprintln!(
        "axum_service: bound to http://{}; registering the integration `{INTEGRATION}` and syncing, then serving",
        listener.local_addr()?
    );
    serve_until(config, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
