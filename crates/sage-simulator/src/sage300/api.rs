//! The Sage 300 Web API routes: one fallback handler that parses the path itself, so every
//! refusal gets the OData error body with the reference's code and status.

use std::cmp::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::Response;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::config::{
    CountStyle, CreateStatus, DateStyle, ErrorContentType, KeyRejection, LowercaseKeys,
    NextLinkStyle, Sage300Config, TermsKey, UnknownCompany,
};
use super::data::Record;
use super::schema::{
    self, CHECK_LANGUAGES, CUSTOMER_ENUMS, CUSTOMER_OPTIONAL_FIELD, Sage300Resource, Ty,
};
use super::store::{Tables, row_key};
use crate::auth;
use crate::faults::FaultState;
use crate::log::{InFlight, LoggedRequest, RequestLog};
use crate::odata::filter::{self, civil_from_days};
use crate::odata::key::{self, EntityKey, KeyValue};
use crate::odata::query::{self, QueryOptions};
use crate::server::ConnectionKiller;

/// Largest request body read (bytes).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// The longest `CustomerNumber` (ARCUS `IDCUST` is 12 characters).
const MAX_CUSTOMER_NUMBER: usize = 12;

/// The settings that cannot change while the simulator runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) company: String,
    pub(crate) users: Vec<(String, String)>,
    pub(crate) forbidden_users: Vec<(String, String)>,
    pub(crate) page_size: usize,
    pub(crate) require_content_type: bool,
    pub(crate) create_status: CreateStatus,
    pub(crate) next_link: NextLinkStyle,
    pub(crate) count_style: CountStyle,
    pub(crate) terms_key: TermsKey,
    pub(crate) date_style: DateStyle,
    pub(crate) error_content_type: ErrorContentType,
    pub(crate) lowercase_keys: LowercaseKeys,
    pub(crate) key_rejection: KeyRejection,
    pub(crate) unknown_company: UnknownCompany,
}

impl Settings {
    pub(crate) fn from_config(c: &Sage300Config) -> Settings {
        Settings {
            company: c.company.clone(),
            users: c.users.clone(),
            forbidden_users: c.forbidden_users.clone(),
            page_size: c.page_size,
            require_content_type: c.require_content_type,
            create_status: c.create_status,
            next_link: c.next_link,
            count_style: c.count_style,
            terms_key: c.terms_key,
            date_style: c.date_style,
            error_content_type: c.error_content_type,
            lowercase_keys: c.lowercase_keys,
            key_rejection: c.key_rejection,
            unknown_company: c.unknown_company,
        }
    }
}

/// State shared by every request of one simulator.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) tables: Mutex<Tables>,
    pub(crate) faults: FaultState,
    pub(crate) log: Arc<RequestLog>,
}

impl Shared {
    pub(crate) fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A refusal on the wire.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid_parameters(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidParameters", message)
    }

    fn invalid_payload(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidPayload", message)
    }

    fn general(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "General", message)
    }

    fn resource_not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFound", message)
    }

    fn method_not_allowed(method: &Method, what: &str) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}' on {what}."),
        )
    }
}

/// The body of every error: `{"error":{"code","message":{"lang","value"}}}`.
pub(crate) fn error_body(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": {"lang": "en-US", "value": message}}}).to_string()
}

/// What a handler produced.
enum Outcome {
    Respond(Response),
    /// The create committed; close the connection without answering.
    Drop,
}

/// The single entry point: logging, faults, then the Web API itself.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
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
    let mut flight = InFlight::start(shared.log.clone(), entry);
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let resp = shared.error_response(&ApiError::invalid_payload(format!(
                "The request body could not be read: {e}"
            )));
            flight.finish(resp.status().as_u16());
            return resp;
        }
    };
    flight.set_body(String::from_utf8_lossy(&bytes).into_owned());

    let outcome = shared
        .with_faults(&parts, &bytes, flight.in_flight_at_start())
        .await;
    let resp = match outcome {
        Outcome::Respond(resp) => resp,
        Outcome::Drop => {
            if let Some(killer) = parts.extensions.get::<ConnectionKiller>() {
                killer.kill();
                // The connection task drops this future; `flight` then logs "no status".
                std::future::pending::<()>().await;
            }
            shared.error_response(&ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "connection could not be dropped",
            ))
        }
    };
    if let Some(hold) = shared.faults.get().slow_response {
        tokio::time::sleep(hold).await;
    }
    flight.finish(resp.status().as_u16());
    resp
}

impl Shared {
    async fn with_faults(&self, parts: &Parts, body: &Bytes, in_flight: usize) -> Outcome {
        if self.faults.over_limit(in_flight) {
            return Outcome::Respond(self.error_response(&ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests are being processed. Try again later.",
            )));
        }
        let latency = self.faults.get().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if self.faults.roll_error() {
            return Outcome::Respond(self.error_response(&ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An error has occurred (injected by the simulator).",
            )));
        }
        match self.dispatch(parts, body) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Respond(self.error_response(&e)),
        }
    }

    pub(crate) fn error_response(&self, e: &ApiError) -> Response {
        let content_type = match self.settings.error_content_type {
            ErrorContentType::Json => "application/json; charset=utf-8",
            ErrorContentType::TextPlain => "text/plain; charset=utf-8",
        };
        let mut resp = Response::new(Body::from(error_body(e.code, &e.message)));
        *resp.status_mut() = e.status;
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if e.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Sage300WebApi\""),
            );
        }
        resp
    }

    fn dispatch(&self, parts: &Parts, body: &Bytes) -> Result<Outcome, ApiError> {
        let raw_path = parts.uri.path();
        let raw: Vec<&str> = raw_path.split('/').collect();
        // ["", "Sage300WebApi", "v1.0", tenant, company, module, resource]
        let shape_ok = raw.len() == 7
            && raw[0].is_empty()
            && raw[1].eq_ignore_ascii_case("Sage300WebApi")
            && raw[2] == "v1.0";
        if !shape_ok {
            return Err(ApiError::resource_not_found(format!(
                "No resource was found that matches the request URI '{raw_path}'."
            )));
        }
        let decode = |s: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| ApiError::invalid_parameters("The URL is not valid UTF-8."))
        };
        let (company, module, segment) = (decode(raw[4])?, decode(raw[5])?, decode(raw[6])?);

        self.authorise(&parts.headers)?;
        if self.settings.require_content_type && !is_json_content_type(&parts.headers) {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An error has occurred. The request has no Content-Type 'application/json'.",
            ));
        }
        if !company.eq_ignore_ascii_case(&self.settings.company) {
            return Err(match self.settings.unknown_company {
                UnknownCompany::DbLinkError500 => ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "DBLinkError",
                    format!("Cannot open database link to company '{company}'."),
                ),
                UnknownCompany::ResourceNotFound404 => {
                    ApiError::resource_not_found(format!("Company '{company}' was not found."))
                }
            });
        }
        let (name, key_text) = key::split_segment(&segment).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "InvalidEntityKey", e.to_string())
        })?;
        let Some(resource) = Sage300Resource::find(&module, name) else {
            return Err(ApiError::resource_not_found(format!(
                "No resource was found that matches the request URI '{raw_path}'."
            )));
        };
        let ctx = RequestCtx::new(parts, &raw, resource);
        match (key_text, &parts.method) {
            (None, &Method::GET) => self.list(&ctx, parts.uri.query()).map(Outcome::Respond),
            (None, &Method::POST) if resource.allows_post() => self.create_customer(&ctx, body),
            (Some(k), &Method::GET) => self
                .get_one(&ctx, resource, k, parts.uri.query())
                .map(Outcome::Respond),
            (Some(k), &Method::POST) if resource.allows_post() => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!(
                    "The action '{k}' is not supported (the simulator does not implement $template or $process)."
                ),
            )),
            (None, m) => Err(ApiError::method_not_allowed(m, resource.name())),
            (Some(_), m) => Err(ApiError::method_not_allowed(
                m,
                &format!("a single {} entity", resource.name()),
            )),
        }
    }

    fn authorise(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let creds = auth::basic_credentials(
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
        );
        match creds {
            Some((u, p)) if auth::is_listed(&self.settings.users, &u, &p) => Ok(()),
            Some((u, p)) if auth::is_listed(&self.settings.forbidden_users, &u, &p) => {
                Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    format!(
                        "User '{}' is not authorized to use the Sage 300 Web API.",
                        u.to_uppercase()
                    ),
                ))
            }
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Authorization has been denied for this request.",
            )),
        }
    }

    fn list(&self, ctx: &RequestCtx, query: Option<&str>) -> Result<Response, ApiError> {
        let opts = query::parse_query(query).map_err(|e| ApiError::invalid_parameters(e.0))?;
        let resource = ctx.resource;
        self.check_properties(resource, &opts)?;
        let limit = opts.top.unwrap_or(usize::MAX).min(self.settings.page_size);
        let skip = opts.skip;
        let select = opts.select.as_deref();
        let filter_err = |e: filter::FilterError| ApiError::invalid_parameters(e.to_string());

        let (page, matched) = {
            let tables = self.tables();
            let rows = tables.rows(resource);
            let template = tables.template(resource);
            let test = |f: &filter::Expr, r: &Record| {
                filter::matches_with(f, &|k| r.get(k).or_else(|| template.get(k)))
                    .map_err(filter_err)
            };
            if !opts.orderby.is_empty() {
                let mut hits: Vec<&Record> = Vec::new();
                for r in rows.values() {
                    if opts.filter.as_ref().map_or(Ok(true), |f| test(f, r))? {
                        hits.push(r);
                    }
                }
                hits.sort_by(|a, b| order(template, a, b, &opts.orderby));
                let page: Vec<Record> = hits
                    .iter()
                    .skip(skip)
                    .take(limit)
                    .map(|r| self.render(template, r, select))
                    .collect();
                (page, hits.len())
            } else if let Some(f) = &opts.filter {
                let mut n = 0usize;
                let mut page = Vec::new();
                for r in rows.values() {
                    if !test(f, r)? {
                        continue;
                    }
                    if n >= skip && page.len() < limit {
                        page.push(self.render(template, r, select));
                    }
                    n += 1;
                    // Without $count, stop once one match past the page proves there is more.
                    if !opts.count && page.len() == limit && n > skip.saturating_add(limit) {
                        break;
                    }
                }
                (page, n)
            } else {
                let page: Vec<Record> = rows
                    .values()
                    .skip(skip)
                    .take(limit)
                    .map(|r| self.render(template, r, select))
                    .collect();
                (page, rows.len())
            }
        };
        let page_len = page.len();
        let more_rows = matched > skip.saturating_add(page_len);
        let top_left = opts.top.map(|t| t - page.len().min(t));
        let has_next = more_rows && top_left != Some(0) && !page.is_empty();

        let v3 = self.settings.next_link == NextLinkStyle::V3;
        let prefix = if v3 { "odata." } else { "@odata." };
        let mut out = Map::new();
        out.insert(
            format!("{prefix}context"),
            json!(format!("{}#{}", ctx.metadata_url, resource.name())),
        );
        if opts.count {
            let count = match self.settings.count_style {
                CountStyle::Number => json!(matched),
                CountStyle::String => json!(matched.to_string()),
            };
            out.insert(format!("{prefix}count"), count);
        }
        out.insert(
            "value".to_owned(),
            Value::Array(page.into_iter().map(Value::Object).collect()),
        );
        if has_next {
            let q = query::next_query(&opts, skip + page_len, top_left);
            let link = match self.settings.next_link {
                NextLinkStyle::Absolute | NextLinkStyle::V3 => {
                    format!("{}{}?{q}", ctx.origin, ctx.raw_path)
                }
                NextLinkStyle::Relative => format!("{}?{q}", ctx.raw_segment),
            };
            out.insert(format!("{prefix}nextLink"), json!(link));
        }
        Ok(json_response(StatusCode::OK, &Value::Object(out)))
    }

    fn check_properties(
        &self,
        resource: Sage300Resource,
        opts: &QueryOptions,
    ) -> Result<(), ApiError> {
        let tk = self.settings.terms_key;
        let unknown = |p: &str| resource.field_type(p, tk).is_none();
        let mut names: Vec<&str> = Vec::new();
        if let Some(f) = &opts.filter {
            names.extend(f.properties());
        }
        if let Some(s) = &opts.select {
            names.extend(s.iter().map(String::as_str));
        }
        names.extend(opts.orderby.iter().map(|(p, _)| p.as_str()));
        match names.into_iter().find(|p| unknown(p)) {
            Some(p) => Err(ApiError::invalid_parameters(format!(
                "Could not find a property named '{p}' on type '{}'.",
                resource.name()
            ))),
            None => Ok(()),
        }
    }

    fn get_one(
        &self,
        ctx: &RequestCtx,
        resource: Sage300Resource,
        key_text: &str,
        query: Option<&str>,
    ) -> Result<Response, ApiError> {
        let opts = query::parse_query(query).map_err(|e| ApiError::invalid_parameters(e.0))?;
        if opts.filter.is_some()
            || opts.top.is_some()
            || opts.skip > 0
            || opts.count
            || !opts.orderby.is_empty()
        {
            return Err(ApiError::invalid_parameters(
                "Only $select applies to a single entity.",
            ));
        }
        self.check_properties(resource, &opts)?;
        let invalid_key = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "InvalidEntityKey", m);
        let parsed = key::parse_key(key_text).map_err(|e| invalid_key(e.to_string()))?;
        let names = resource.keys(self.settings.terms_key);
        let values: Vec<String> = match parsed {
            EntityKey::Single(v) if names.len() == 1 => vec![key_string(v, &invalid_key)?],
            EntityKey::Single(_) => {
                return Err(invalid_key(format!(
                    "{} has a composite key; name every part: ({})",
                    resource.name(),
                    names.join("=…,")
                )));
            }
            EntityKey::Named(parts) => {
                if parts.len() != names.len() {
                    return Err(invalid_key(format!(
                        "{} is keyed by {}",
                        resource.name(),
                        names.join(", ")
                    )));
                }
                let mut out = Vec::new();
                for n in names {
                    let Some((_, v)) = parts.iter().find(|(pn, _)| pn == n) else {
                        return Err(invalid_key(format!("the key part '{n}' is missing")));
                    };
                    out.push(key_string(v.clone(), &invalid_key)?);
                }
                out
            }
        };
        let values = self.normalise_key(resource, values);
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let found = {
            let tables = self.tables();
            tables
                .get(resource, &row_key(resource, &refs))
                .map(|r| self.render(tables.template(resource), r, opts.select.as_deref()))
        };
        let Some(rec) = found else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "RecordNotFound",
                "A Record cannot be found for the specified entity key",
            ));
        };
        Ok(json_response(
            StatusCode::OK,
            &Value::Object(self.with_entity_context(ctx, rec)),
        ))
    }

    fn normalise_key(&self, resource: Sage300Resource, mut values: Vec<String>) -> Vec<String> {
        if self.settings.lowercase_keys == LowercaseKeys::Normalise {
            if let Some(first) = values.first_mut() {
                *first = first.to_uppercase();
            }
            if resource == Sage300Resource::TaxGroups
                && let Some(t) = values.get_mut(1)
            {
                for canonical in ["Sales", "Purchases"] {
                    if t.eq_ignore_ascii_case(canonical) {
                        *t = canonical.to_owned();
                    }
                }
            }
        }
        values
    }

    fn with_entity_context(&self, ctx: &RequestCtx, rec: Record) -> Record {
        let prefix = if self.settings.next_link == NextLinkStyle::V3 {
            "odata."
        } else {
            "@odata."
        };
        let mut out = Map::with_capacity(rec.len() + 1);
        out.insert(
            format!("{prefix}context"),
            json!(format!(
                "{}#{}/$entity",
                ctx.metadata_url,
                ctx.resource.name()
            )),
        );
        out.extend(rec);
        out
    }

    /// A stored record as it goes on the wire: defaults filled from `template` (in its order,
    /// then any extra properties), `$select` applied, dates in the configured style.
    fn render(&self, template: &Record, rec: &Record, select: Option<&[String]>) -> Record {
        let style = self.settings.date_style;
        let wanted = |k: &String| select.is_none_or(|s| s.iter().any(|f| f == k));
        let mut out = Map::new();
        for (k, default) in template {
            if wanted(k) {
                out.insert(
                    k.clone(),
                    render_value(rec.get(k).unwrap_or(default), style),
                );
            }
        }
        for (k, v) in rec {
            if !template.contains_key(k) && wanted(k) {
                out.insert(k.clone(), render_value(v, style));
            }
        }
        out
    }

    fn create_customer(&self, ctx: &RequestCtx, body: &Bytes) -> Result<Outcome, ApiError> {
        let payload: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid_payload(format!("The request body is not valid JSON: {e}"))
        })?;
        let Value::Object(payload) = payload else {
            return Err(ApiError::invalid_payload(
                "The request body must be a JSON object (one ARCustomers entity).",
            ));
        };
        let tk = self.settings.terms_key;
        let resource = Sage300Resource::Customers;
        // Shape: every property known and of the right type, like the OData deserializer.
        for (k, v) in &payload {
            if k.starts_with("@odata.") || k.starts_with("odata.") {
                continue;
            }
            let Some(ty) = resource.field_type(k, tk) else {
                return Err(ApiError::invalid_payload(format!(
                    "The property '{k}' does not exist on type 'ARCustomers'."
                )));
            };
            check_type(k, ty, v)?;
            if let Some((_, allowed)) = CUSTOMER_ENUMS.iter().find(|(n, _)| n == k)
                && let Some(s) = v.as_str()
                && !allowed.contains(&s)
            {
                return Err(ApiError::invalid_payload(format!(
                    "The value '{s}' is not valid for '{k}'; expected one of {allowed:?}."
                )));
            }
        }
        let normalise = self.settings.lowercase_keys == LowercaseKeys::Normalise;
        let text = |k: &str| payload.get(k).and_then(Value::as_str).map(str::to_owned);
        let code = |k: &str| text(k).map(|s| if normalise { s.to_uppercase() } else { s });

        // The key.
        let reject_key = |m: String| match self.settings.key_rejection {
            KeyRejection::RecordInvalid409 => {
                ApiError::new(StatusCode::CONFLICT, "RecordInvalid", m)
            }
            KeyRejection::InvalidPayload400 => ApiError::invalid_payload(m),
        };
        let number = text("CustomerNumber").unwrap_or_default();
        if number.trim().is_empty() {
            return Err(reject_key("Customer Number cannot be blank.".to_owned()));
        }
        if number.chars().count() > MAX_CUSTOMER_NUMBER {
            return Err(reject_key(format!(
                "Customer Number '{number}' is longer than {MAX_CUSTOMER_NUMBER} characters."
            )));
        }
        let number = if normalise {
            number.to_uppercase()
        } else if number != number.to_uppercase() {
            return Err(reject_key(format!(
                "Customer Number '{number}' must be upper-case."
            )));
        } else {
            number
        };

        let mut tables = self.tables();
        // The group and the defaults it supplies.
        let group_code = code("GroupCode").unwrap_or_default();
        if group_code.is_empty() {
            return Err(ApiError::general("Customer Group cannot be blank."));
        }
        let group = tables
            .get(
                Sage300Resource::CustomerGroups,
                &row_key(Sage300Resource::CustomerGroups, &[&group_code]),
            )
            .ok_or_else(|| {
                ApiError::general(format!("Customer Group \"{group_code}\" does not exist."))
            })?;
        let groups = Sage300Resource::CustomerGroups;
        if tables
            .field(groups, group, "Status")
            .and_then(Value::as_str)
            == Some("Inactive")
        {
            return Err(ApiError::general(format!(
                "Customer Group \"{group_code}\" is inactive."
            )));
        }
        let mut rec = tables.template(resource).clone();
        for field in GROUP_DEFAULTS {
            if let Some(v) = tables.field(groups, group, field) {
                rec.insert((*field).to_owned(), v.clone());
            }
        }
        for (k, v) in &payload {
            if k.starts_with("@odata.")
                || k.starts_with("odata.")
                || k == "CustomerOptionalFieldValues"
                || v.is_null()
            {
                continue;
            }
            rec.insert(k.clone(), schema::normalise_date(v));
        }
        rec.insert("CustomerNumber".into(), json!(number));
        rec.insert("GroupCode".into(), json!(group_code));
        for k in ["Terms", "TaxGroup", "CurrencyCode"] {
            if let Some(c) = code(k) {
                rec.insert(k.to_owned(), json!(c));
            }
        }
        if payload.get("CurrencyCode").is_none_or(Value::is_null) {
            let set = rec
                .get("AccountSet")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let currency = tables
                .account_sets
                .get(set)
                .cloned()
                .unwrap_or_else(|| tables.home_currency.clone());
            rec.insert("CurrencyCode".into(), json!(currency));
        }
        let field = |k: &str| {
            rec.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };

        // The codes the customer refers to.
        let terms = field("Terms");
        if terms.is_empty() {
            return Err(ApiError::general("Terms Code cannot be blank."));
        }
        {
            let t = tables
                .get(
                    Sage300Resource::Terms,
                    &row_key(Sage300Resource::Terms, &[&terms]),
                )
                .ok_or_else(|| {
                    ApiError::general(format!("Terms Code \"{terms}\" does not exist."))
                })?;
            if tables
                .field(Sage300Resource::Terms, t, "Status")
                .and_then(Value::as_str)
                == Some("Inactive")
            {
                return Err(ApiError::general(format!(
                    "Terms Code \"{terms}\" is inactive."
                )));
            }
        }
        let tax = field("TaxGroup");
        if tax.is_empty() {
            return Err(ApiError::general("Tax Group cannot be blank."));
        }
        if tables
            .get(
                Sage300Resource::TaxGroups,
                &row_key(Sage300Resource::TaxGroups, &[&tax, "Sales"]),
            )
            .is_none()
        {
            return Err(ApiError::general(format!(
                "Tax Group \"{tax}\" does not exist for Sales transactions."
            )));
        }
        let currency = field("CurrencyCode");
        if tables
            .get(
                Sage300Resource::CurrencyCodes,
                &row_key(Sage300Resource::CurrencyCodes, &[&currency]),
            )
            .is_none()
        {
            return Err(ApiError::general(format!(
                "Currency Code \"{currency}\" does not exist."
            )));
        }
        let language = field("CheckLanguage");
        if !language.is_empty() && !CHECK_LANGUAGES.contains(&language.as_str()) {
            return Err(ApiError::general(format!(
                "Check Language \"{language}\" is not valid; expected one of {CHECK_LANGUAGES:?}."
            )));
        }

        // Optional fields.
        let optional = optional_fields(&number, payload.get("CustomerOptionalFieldValues"))?;
        rec.insert("NumberOfOptionalFields".into(), json!(optional.len()));
        rec.insert(
            "CustomerOptionalFieldValues".into(),
            Value::Array(optional.into_iter().map(Value::Object).collect()),
        );

        // Maintained by the server.
        let today = today();
        rec.insert("DateLastMaintained".into(), json!(today));
        if rec.get("StartDate").is_none_or(Value::is_null) {
            rec.insert("StartDate".into(), json!(today));
        }
        for k in [
            "BalanceDueInCustomerCurrency",
            "BalanceDueInFunctionalCurrency",
        ] {
            rec.insert(k.to_owned(), json!(0.0));
        }

        let key = row_key(resource, &[&number]);
        if tables.get(resource, &key).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "RecordDuplicate",
                format!("Customer \"{number}\" already exists."),
            ));
        }
        tables.insert_complete(resource, key, rec.clone());
        drop(tables);

        if self.faults.take_drop() {
            return Ok(Outcome::Drop);
        }
        let body = self.with_entity_context(ctx, self.render(&Map::new(), &rec, None));
        let status = match self.settings.create_status {
            CreateStatus::Created201 => StatusCode::CREATED,
            CreateStatus::Ok200 => StatusCode::OK,
        };
        let mut resp = json_response(status, &Value::Object(body));
        if status == StatusCode::CREATED {
            let literal = format!("'{}'", number.replace('\'', "''"));
            let location = format!(
                "{}{}({})",
                ctx.origin,
                ctx.raw_path,
                utf8_percent_encode(&literal, NON_ALPHANUMERIC)
            );
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
        }
        Ok(Outcome::Respond(resp))
    }
}

/// Customer properties a group supplies when the payload leaves them out.
const GROUP_DEFAULTS: &[&str] = &[
    "AccountSet",
    "AutocashProfile",
    "BillingCycle",
    "InterestProfile",
    "AccountType",
    "Terms",
    "RateType",
    "TaxGroup",
    "TaxClassCode1",
    "TaxClassCode2",
    "TaxClassCode3",
    "TaxClassCode4",
    "TaxClassCode5",
    "Salesperson1",
    "Salesperson2",
    "Salesperson3",
    "Salesperson4",
    "Salesperson5",
    "SalesSplitPercentage1",
    "SalesSplitPercentage2",
    "SalesSplitPercentage3",
    "SalesSplitPercentage4",
    "SalesSplitPercentage5",
    "PrintStatements",
    "CheckCreditLimit",
    "CheckOverdueAmounts",
    "DaysOverdue",
];

fn optional_fields(number: &str, given: Option<&Value>) -> Result<Vec<Record>, ApiError> {
    let items = match given {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::invalid_payload(
                "CustomerOptionalFieldValues must be an array.",
            ));
        }
    };
    let mut out: Vec<Record> = Vec::new();
    for item in items {
        let Value::Object(item) = item else {
            return Err(ApiError::invalid_payload(
                "Each CustomerOptionalFieldValues item must be an object.",
            ));
        };
        let mut row: Record = Map::new();
        for (name, ty) in CUSTOMER_OPTIONAL_FIELD {
            let default = match ty {
                Ty::Str => json!(""),
                Ty::Int => json!(0),
                Ty::Dec => json!(0.0),
                Ty::Bool => json!(false),
                Ty::Date | Ty::Coll => Value::Null,
            };
            row.insert((*name).to_owned(), default);
        }
        row.insert("CustomerOptionalFieldValueType".into(), json!("Text"));
        row.insert("Length".into(), json!(60));
        row.insert("AllowBlank".into(), json!(true));
        row.insert("ValueSet".into(), json!("No"));
        for (k, v) in item {
            let Some((_, ty)) = CUSTOMER_OPTIONAL_FIELD.iter().find(|(n, _)| n == k) else {
                if k == "UpdateOperation" {
                    continue;
                }
                return Err(ApiError::invalid_payload(format!(
                    "The property '{k}' does not exist on type 'CustomerOptionalFieldValue'."
                )));
            };
            check_type(k, *ty, v)?;
            if !v.is_null() {
                row.insert(k.clone(), v.clone());
            }
        }
        let code = row
            .get("OptionalField")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_uppercase();
        if code.is_empty() {
            return Err(ApiError::invalid_payload(
                "Each CustomerOptionalFieldValues item needs an OptionalField.",
            ));
        }
        if out
            .iter()
            .any(|r| r.get("OptionalField").and_then(Value::as_str) == Some(code.as_str()))
        {
            return Err(ApiError::general(format!(
                "Optional field \"{code}\" is given more than once."
            )));
        }
        row.insert("OptionalField".into(), json!(code));
        row.insert("CustomerNumber".into(), json!(number));
        if !item.contains_key("TextValue") {
            let value = row.get("Value").cloned().unwrap_or(Value::Null);
            row.insert("TextValue".into(), value);
        }
        out.push(row);
    }
    Ok(out)
}

fn check_type(name: &str, ty: Ty, v: &Value) -> Result<(), ApiError> {
    let ok = match (ty, v) {
        (_, Value::Null) => true,
        (Ty::Str, Value::String(_))
        | (Ty::Dec, Value::Number(_))
        | (Ty::Bool, Value::Bool(_))
        | (Ty::Coll, Value::Array(_)) => true,
        (Ty::Int, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Ty::Date, Value::String(s)) => filter::parse_datetime(s).is_some(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_payload(format!(
            "Cannot convert the value {v} of property '{name}' to {ty:?}."
        )))
    }
}

fn key_string(v: KeyValue, invalid: &dyn Fn(String) -> ApiError) -> Result<String, ApiError> {
    match v {
        KeyValue::String(s) => Ok(s),
        KeyValue::Number(n) => Err(invalid(format!("the key {n} must be a quoted string"))),
    }
}

fn order(template: &Record, a: &Record, b: &Record, by: &[(String, bool)]) -> Ordering {
    for (prop, desc) in by {
        let o = cmp_json(
            a.get(prop).or_else(|| template.get(prop)),
            b.get(prop).or_else(|| template.get(prop)),
        );
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn cmp_json(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

fn render_value(v: &Value, style: DateStyle) -> Value {
    match v {
        Value::String(s)
            if style == DateStyle::NoZone
                && s.len() == 20
                && s.ends_with('Z')
                && schema::is_zoneless_datetime(&s[..19]) =>
        {
            Value::String(s[..19].to_owned())
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| render_value(i, style)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), render_value(v, style)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; odata.metadata=minimal; charset=utf-8"),
    );
    resp
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Today at midnight UTC, `YYYY-MM-DDT00:00:00Z`.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or_default());
    format!("{y:04}-{m:02}-{d:02}T00:00:00Z")
}

/// Where the request came from, for links.
#[derive(Debug)]
struct RequestCtx {
    resource: Sage300Resource,
    /// `http://host:port`
    origin: String,
    /// The list path as sent, e.g. `/Sage300WebApi/v1.0/-/SAMLTD/AR/ARCustomers`.
    raw_path: String,
    /// The last segment without a key, e.g. `ARCustomers`.
    raw_segment: String,
    /// `http://host:port/Sage300WebApi/v1.0/-/SAMLTD/AR/$metadata`
    metadata_url: String,
}

impl RequestCtx {
    fn new(parts: &Parts, raw: &[&str], resource: Sage300Resource) -> RequestCtx {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let origin = format!("http://{host}");
        let prefix = raw[..6].join("/");
        RequestCtx {
            resource,
            raw_path: format!("{prefix}/{}", resource.name()),
            raw_segment: resource.name().to_owned(),
            metadata_url: format!("{origin}{prefix}/$metadata"),
            origin,
        }
    }
}
