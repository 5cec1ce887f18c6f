//! The Sage 100 SData routes: one fallback handler that parses the path itself, so every refusal
//! gets a diagnosis body with the right `sdataCode` and status.

use std::cmp::Ordering as CmpOrdering;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::Response;
use percent_encoding::{
    AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode,
};

use super::config::{
    DiagnosisStyle, DuplicateStatus, KeySyntax, ResourceNamespace, SDataNextLink, Sage100Config,
};
use super::data::Sage100Row;
use super::schema::{SUGGESTED_SHIP_METHOD_TABLE, Sage100Resource, is_udf};
use super::store::{Tables, key_of};
use crate::CreateStatus;
use crate::auth;
use crate::faults::FaultState;
use crate::log::{InFlight, LoggedRequest, RequestLog};
use crate::odata::filter::civil_from_days;
use crate::sdata::atom::{self, Diagnosis, NS_SME, esc};
use crate::sdata::key::{self, KeyForm};
use crate::sdata::where_clause::{self, ColumnKind, Where};
use crate::server::ConnectionKiller;

/// Largest request body read (bytes).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Characters escaped in a path segment we write (selectors keep `'`, `;`, `(`, `)`).
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'&');
const FEED_TYPE: &str = "application/atom+xml; type=feed; charset=utf-8";
const ENTRY_TYPE: &str = "application/atom+xml; type=entry; charset=utf-8";
const XML_TYPE: &str = "application/xml; charset=utf-8";

/// The settings that cannot change while the simulator runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) company: String,
    pub(crate) users: Vec<(String, String)>,
    pub(crate) forbidden_users: Vec<(String, String)>,
    pub(crate) page_size: usize,
    pub(crate) next_link: SDataNextLink,
    pub(crate) resource_namespace: ResourceNamespace,
    pub(crate) key_syntax: KeySyntax,
    pub(crate) diagnosis_style: DiagnosisStyle,
    pub(crate) duplicate_status: DuplicateStatus,
    pub(crate) create_status: CreateStatus,
    pub(crate) customer_name_max: usize,
    pub(crate) customer_type_table: bool,
    pub(crate) ship_method_table: Option<String>,
}

impl Settings {
    pub(crate) fn from_config(c: &Sage100Config) -> Settings {
        Settings {
            company: c.company.clone(),
            users: c.users.clone(),
            forbidden_users: c.forbidden_users.clone(),
            page_size: c.page_size,
            next_link: c.next_link,
            resource_namespace: c.resource_namespace.clone(),
            key_syntax: c.key_syntax,
            diagnosis_style: c.diagnosis_style,
            duplicate_status: c.duplicate_status,
            create_status: c.create_status,
            customer_name_max: c.customer_name_max,
            customer_type_table: c.customer_type_table,
            ship_method_table: c.ship_method_table.clone(),
        }
    }

    /// Whether the server has this table.
    pub(crate) fn serves(&self, r: Sage100Resource) -> bool {
        match r {
            Sage100Resource::CustomerTypes => self.customer_type_table,
            Sage100Resource::ShipMethods => self.ship_method_table.is_some(),
            _ => true,
        }
    }

    /// The resource kind's name on the wire.
    pub(crate) fn kind_name(&self, r: Sage100Resource) -> &str {
        match r {
            Sage100Resource::ShipMethods => self
                .ship_method_table
                .as_deref()
                .unwrap_or(SUGGESTED_SHIP_METHOD_TABLE),
            other => other.name(),
        }
    }

    fn resource_named(&self, name: &str) -> Option<Sage100Resource> {
        Sage100Resource::ALL
            .into_iter()
            .find(|r| self.serves(*r) && self.kind_name(*r) == name)
    }

    fn id_form(&self) -> KeyForm {
        match self.key_syntax {
            KeySyntax::Quoted => KeyForm::Quoted,
            KeySyntax::Unquoted | KeySyntax::Both => KeyForm::Unquoted,
        }
    }

    fn max_len(&self, r: Sage100Resource, column: &str) -> Option<usize> {
        if r == Sage100Resource::Customers && column == "CustomerName" {
            return Some(self.customer_name_max);
        }
        r.column(column).and_then(|c| c.max)
    }
}

/// State shared by every request of one simulator.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) tables: Mutex<Tables>,
    pub(crate) faults: FaultState,
    pub(crate) log: Arc<RequestLog>,
    pub(crate) malformed: AtomicBool,
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
    diag: Diagnosis,
}

impl ApiError {
    fn new(status: StatusCode, sdata_code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            diag: Diagnosis {
                severity: "error",
                sdata_code,
                application_code: String::new(),
                message: message.into(),
                payload_path: None,
            },
        }
    }

    /// A business-rule refusal: `ApplicationDiagnosis`, empty application code.
    fn app(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::new(status, "ApplicationDiagnosis", message)
    }

    fn bad_query(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadQueryParameter", message)
    }

    fn bad_url(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::new(status, "BadUrlSyntax", message)
    }

    /// Points the diagnosis at a column of the posted resource.
    fn at(mut self, column: &str) -> ApiError {
        self.diag.payload_path = Some(format!("/entry/sdata:payload/AR_Customer/{column}"));
        self
    }
}

/// What a handler produced.
enum Outcome {
    Respond(Response),
    /// The create committed; close the connection without answering.
    Drop,
}

/// The single entry point: logging, faults, then SData itself.
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
            let resp = shared.error_response(&ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The request body could not be read: {e}"),
            ));
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
            shared.error_response(&ApiError::app(
                StatusCode::INTERNAL_SERVER_ERROR,
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
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ApplicationUnavailable",
                "Too many requests are being processed. Try again later.",
            );
            e.diag.severity = "transient";
            return Outcome::Respond(self.error_response(&e));
        }
        let latency = self.faults.get().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if self.faults.roll_error() {
            return Outcome::Respond(self.error_response(&ApiError::app(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An unexpected error occurred (injected by the simulator).",
            )));
        }
        match self.dispatch(parts, body) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Respond(self.error_response(&e)),
        }
    }

    fn error_response(&self, e: &ApiError) -> Response {
        let prefixed = self.settings.diagnosis_style == DiagnosisStyle::Prefixed;
        let mut resp = Response::new(Body::from(atom::diagnosis_xml(&e.diag, prefixed)));
        *resp.status_mut() = e.status;
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(XML_TYPE));
        if e.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"SData\""),
            );
        }
        resp
    }

    /// A successful XML response; cut in half under the malformed-XML fault.
    fn xml_response(
        &self,
        status: StatusCode,
        content_type: &'static str,
        body: String,
    ) -> Response {
        let body = if self.malformed.load(Ordering::SeqCst) {
            let mut cut = body.len() / 2;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body[..cut].to_owned()
        } else {
            body
        };
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = status;
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        resp
    }

    fn dispatch(&self, parts: &Parts, body: &Bytes) -> Result<Outcome, ApiError> {
        let raw_path = parts.uri.path();
        let raw: Vec<&str> = raw_path.split('/').collect();
        // ["", "sdata", app, contract, company, kind]
        if raw.len() < 2 || !raw[0].is_empty() || !raw[1].eq_ignore_ascii_case("sdata") {
            return Err(ApiError::bad_url(
                StatusCode::NOT_FOUND,
                format!(
                    "'{raw_path}' is not an SData URL (/sdata/MasApp/MasContract/{{company}}/{{kind}})."
                ),
            ));
        }
        self.authorise(&parts.headers)?;
        let decode = |s: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| {
                    ApiError::bad_url(StatusCode::BAD_REQUEST, "The URL is not valid UTF-8.")
                })
        };
        let app = decode(raw.get(2).copied().unwrap_or_default())?;
        if !app.eq_ignore_ascii_case("MasApp") {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "ApplicationNotFound",
                format!("The application '{app}' was not found; only MasApp is served."),
            ));
        }
        let contract = decode(raw.get(3).copied().unwrap_or_default())?;
        if !contract.eq_ignore_ascii_case("MasContract") {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "ContractNotFound",
                format!("The contract '{contract}' was not found; only MasContract is served."),
            ));
        }
        let company = decode(raw.get(4).copied().unwrap_or_default())?;
        if !company.eq_ignore_ascii_case(&self.settings.company) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "DatasetNotFound",
                format!("The dataset (company) '{company}' was not found."),
            ));
        }
        let segment = decode(raw.get(5).copied().unwrap_or_default())?;
        if raw.len() > 6 {
            return Err(ApiError::bad_url(
                StatusCode::NOT_FOUND,
                format!("'{raw_path}' has segments after the resource kind."),
            ));
        }
        let ctx = RequestCtx::new(parts, &self.settings.company);
        if segment.eq_ignore_ascii_case("$schema") {
            return if parts.method == Method::GET {
                Ok(Outcome::Respond(self.xml_response(
                    StatusCode::OK,
                    XML_TYPE,
                    self.schema_xsd(),
                )))
            } else {
                Err(method_not_allowed(&parts.method, "$schema"))
            };
        }
        let (name, selector) = key::split_segment(&segment)
            .map_err(|e| ApiError::bad_url(StatusCode::BAD_REQUEST, e.0))?;
        let Some(resource) = self.settings.resource_named(name) else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "ResourceKindNotFound",
                if name.is_empty() {
                    "No resource kind was given.".to_owned()
                } else {
                    format!("The resource kind '{name}' was not found.")
                },
            ));
        };
        match (selector, &parts.method) {
            (None, &Method::GET) => self
                .feed(&ctx, resource, parts.uri.query())
                .map(Outcome::Respond),
            (None, &Method::POST) if resource == Sage100Resource::Customers => {
                self.create_customer(&ctx, &parts.headers, body)
            }
            (Some(sel), &Method::GET) => self
                .single(&ctx, resource, sel, parts.uri.query())
                .map(Outcome::Respond),
            (_, m) => Err(method_not_allowed(m, self.settings.kind_name(resource))),
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
                    "ApplicationDiagnosis",
                    format!("The user '{u}' is not allowed to use SData for this company."),
                ))
            }
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "ApplicationDiagnosis",
                "Authentication failed: the user logon or password is not valid.",
            )),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Reading

    fn feed(
        &self,
        ctx: &RequestCtx,
        resource: Sage100Resource,
        query: Option<&str>,
    ) -> Result<Response, ApiError> {
        let q = parse_query(query, false)?;
        self.check_columns(resource, &q)?;
        let count = q
            .count
            .unwrap_or(self.settings.page_size)
            .min(self.settings.page_size);
        let start = q.start_index;
        let (page, total) = {
            let tables = self.tables();
            let mut hits: Vec<&Sage100Row> = tables
                .rows(resource)
                .filter(|r| {
                    q.where_clause.as_ref().is_none_or(|(_, w)| {
                        w.matches(&|c| {
                            (
                                resource.kind_of(c).unwrap_or(ColumnKind::Text),
                                r.get(c).map(str::to_owned),
                            )
                        })
                    })
                })
                .collect();
            if !q.order_by.is_empty() {
                hits.sort_by(|a, b| order(resource, a, b, &q.order_by));
            }
            let total = hits.len();
            let page: Vec<String> = hits
                .iter()
                .skip(start - 1)
                .take(count)
                .map(|r| self.entry_xml(ctx, resource, r, q.select.as_deref(), false))
                .collect();
            (page, total)
        };
        let kind = self.settings.kind_name(resource);
        let feed_url = format!("{}/{}", ctx.company_url, esc_path(kind));
        let page_url = |s: usize| format!("{feed_url}?{}", q.link_query(s, count));
        let mut xml = String::with_capacity(1024 + page.iter().map(String::len).sum::<usize>());
        xml.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
        let _ = write!(
            xml,
            "<feed {}><title>{}</title><id>{}</id><updated>{}</updated>",
            atom::namespace_decls(),
            esc(kind),
            esc(&feed_url),
            now_iso()
        );
        let mut link = |rel: &str, href: &str| {
            let _ = write!(
                xml,
                r#"<link rel="{rel}" type="application/atom+xml; type=feed" href="{}"/>"#,
                esc(href)
            );
        };
        link("self", &page_url(start));
        if self.settings.next_link == SDataNextLink::Present && count > 0 {
            link("first", &page_url(1));
            // The last page start reachable from this one by whole pages.
            let last = if total >= start {
                start + (total - start) / count * count
            } else {
                1
            };
            link("last", &page_url(last));
            if start > 1 {
                link("previous", &page_url(start.saturating_sub(count).max(1)));
            }
            if start - 1 + page.len() < total {
                link("next", &page_url(start + page.len()));
            }
        }
        let _ = write!(
            xml,
            "<opensearch:totalResults>{total}</opensearch:totalResults><opensearch:startIndex>{start}</opensearch:startIndex><opensearch:itemsPerPage>{count}</opensearch:itemsPerPage>"
        );
        for e in &page {
            xml.push_str(e);
        }
        xml.push_str("</feed>");
        Ok(self.xml_response(StatusCode::OK, FEED_TYPE, xml))
    }

    fn check_columns(&self, resource: Sage100Resource, q: &ListQuery) -> Result<(), ApiError> {
        if let Some((_, w)) = &q.where_clause {
            w.check(&|c| resource.kind_of(c)).map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "BadWhereSyntax", e.to_string())
            })?;
        }
        let kind = self.settings.kind_name(resource);
        for c in q
            .select
            .iter()
            .flatten()
            .chain(q.order_by.iter().map(|(c, _)| c))
        {
            if resource.kind_of(c).is_none() {
                return Err(ApiError::bad_query(format!(
                    "The resource kind {kind} has no property '{c}'."
                )));
            }
        }
        Ok(())
    }

    fn single(
        &self,
        ctx: &RequestCtx,
        resource: Sage100Resource,
        selector: &str,
        query: Option<&str>,
    ) -> Result<Response, ApiError> {
        let q = parse_query(query, true)?;
        self.check_columns(resource, &q)?;
        let kind = self.settings.kind_name(resource);
        if self.settings.key_syntax == KeySyntax::Quoted && !selector.starts_with('\'') {
            // The spec reads unquoted text in parentheses as a where clause.
            let w = where_clause::parse(selector).and_then(|w| {
                w.check(&|c| resource.kind_of(c))?;
                Ok(w)
            });
            return match w {
                Err(e) => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "BadWhereSyntax",
                    format!("The selector ({selector}) is read as a where clause: {e}"),
                )),
                Ok(_) => Err(ApiError::bad_url(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "A where clause in parentheses is not supported; use ?where={selector}."
                    ),
                )),
            };
        }
        let parsed = key::parse_key(selector)
            .map_err(|e| ApiError::bad_url(StatusCode::BAD_REQUEST, e.0))?;
        if parsed.form == KeyForm::Quoted && self.settings.key_syntax == KeySyntax::Unquoted {
            return Err(ApiError::bad_url(
                StatusCode::BAD_REQUEST,
                format!(
                    "Quoted selectors are not supported: use {kind}({}).",
                    parsed.parts.join(";")
                ),
            ));
        }
        let keys = resource.keys();
        if parsed.parts.len() != keys.len() {
            return Err(ApiError::bad_url(
                StatusCode::BAD_REQUEST,
                format!(
                    "{kind} is keyed by {} ({} part(s) joined by ';'); got {}.",
                    keys.join(";"),
                    keys.len(),
                    parsed.parts.len()
                ),
            ));
        }
        let found = {
            let tables = self.tables();
            tables
                .get(resource, &parsed.parts)
                .map(|r| self.entry_xml(ctx, resource, r, q.select.as_deref(), true))
        };
        match found {
            Some(xml) => Ok(self.xml_response(StatusCode::OK, ENTRY_TYPE, xml)),
            None => Err(ApiError::app(
                StatusCode::NOT_FOUND,
                format!(
                    "The {kind} record ({}) was not found.",
                    parsed.parts.join(";")
                ),
            )),
        }
    }

    /// One `<entry>`; `standalone` adds the XML declaration and the namespace declarations.
    fn entry_xml(
        &self,
        ctx: &RequestCtx,
        resource: Sage100Resource,
        row: &Sage100Row,
        select: Option<&[String]>,
        standalone: bool,
    ) -> String {
        let kind = self.settings.kind_name(resource);
        let key = key_of(resource, row).unwrap_or_default();
        let refs: Vec<&str> = key.iter().map(String::as_str).collect();
        let selector = key::format_key(&refs, self.settings.id_form());
        let url = format!(
            "{}/{}({})",
            ctx.company_url,
            esc_path(kind),
            esc_path(&selector)
        );
        let mut x = String::with_capacity(1024);
        if standalone {
            x.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            let _ = write!(x, "<entry {}>", atom::namespace_decls());
        } else {
            x.push_str("<entry>");
        }
        let title = row.get(resource.title_column()).unwrap_or_default();
        let _ = write!(
            x,
            r#"<id>{u}</id><title>{}</title><updated>{}</updated><link rel="self" type="application/atom+xml; type=entry" href="{u}"/><sdata:payload>"#,
            esc(title),
            now_iso(),
            u = esc(&url),
        );
        let ns = match &self.settings.resource_namespace {
            ResourceNamespace::NoNamespace => String::new(),
            ResourceNamespace::Contract(ns) => ns.clone(),
        };
        let _ = write!(
            x,
            r#"<{kind} sdata:key="{}" sdata:uri="{}" xmlns="{}">"#,
            esc(&selector),
            esc(&url),
            esc(&ns)
        );
        let wanted = |c: &str| select.is_none_or(|s| s.iter().any(|x| x == c));
        let mut column = |name: &str, value: Option<&str>| match value {
            Some(v) => {
                let _ = write!(x, "<{name}>{}</{name}>", esc(v));
            }
            None => {
                let _ = write!(x, r#"<{name} xsi:nil="true"/>"#);
            }
        };
        for c in resource.columns() {
            if wanted(c.name) {
                column(c.name, row.get(c.name));
            }
        }
        for (c, v) in row.columns() {
            if resource.column(c).is_none() && wanted(c) {
                column(c, v);
            }
        }
        let _ = write!(x, "</{kind}></sdata:payload></entry>");
        x
    }

    fn schema_xsd(&self) -> String {
        let mut x = String::new();
        x.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
        let target = match &self.settings.resource_namespace {
            ResourceNamespace::NoNamespace => String::new(),
            ResourceNamespace::Contract(ns) => {
                format!(r#" targetNamespace="{0}" xmlns="{0}""#, esc(ns))
            }
        };
        let _ = write!(
            x,
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:sme="{NS_SME}"{target} elementFormDefault="qualified">"#
        );
        for r in Sage100Resource::ALL {
            if !self.settings.serves(r) {
                continue;
            }
            let kind = esc(self.settings.kind_name(r)).into_owned();
            let post = r == Sage100Resource::Customers;
            let _ = write!(
                x,
                r#"<xs:element name="{kind}" type="{kind}--type" sme:role="resourceKind" sme:pluralName="{kind}" sme:label="{kind}" sme:canGet="true" sme:canPost="{post}" sme:canPut="false" sme:canDelete="false" sme:canPagePrevious="true" sme:canPageNext="true" sme:canPageIndex="true" sme:supportsSearch="false"/>"#
            );
            let _ = write!(x, r#"<xs:complexType name="{kind}--type"><xs:all>"#);
            for c in r.columns() {
                let key = if r.keys().contains(&c.name) {
                    r#" sme:isKey="true""#
                } else {
                    ""
                };
                match c.kind {
                    ColumnKind::Text => {
                        let max = self.settings.max_len(r, c.name).unwrap_or(255);
                        let _ = write!(
                            x,
                            r#"<xs:element name="{}" minOccurs="0" nillable="true"{key}><xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="{max}"/></xs:restriction></xs:simpleType></xs:element>"#,
                            c.name
                        );
                    }
                    ColumnKind::Number => {
                        let _ = write!(
                            x,
                            r#"<xs:element name="{}" type="xs:decimal" minOccurs="0" nillable="true"/>"#,
                            c.name
                        );
                    }
                    ColumnKind::Date => {
                        let _ = write!(
                            x,
                            r#"<xs:element name="{}" type="xs:date" minOccurs="0" nillable="true"/>"#,
                            c.name
                        );
                    }
                }
            }
            x.push_str("</xs:all></xs:complexType>");
        }
        x.push_str("</xs:schema>");
        x
    }

    // -----------------------------------------------------------------------------------------
    // Creating

    fn create_customer(
        &self,
        ctx: &RequestCtx,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Outcome, ApiError> {
        let resource = Sage100Resource::Customers;
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if !media.eq_ignore_ascii_case("application/atom+xml") {
            return Err(ApiError::app(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "The Content-Type '{content_type}' is not supported; send application/atom+xml; type=entry."
                ),
            ));
        }
        let text = std::str::from_utf8(body).map_err(|_| {
            ApiError::app(StatusCode::BAD_REQUEST, "The request body is not UTF-8.")
        })?;
        let posted = atom::parse_entry(text).map_err(|e| {
            let mut err = ApiError::app(StatusCode::BAD_REQUEST, e.message);
            if let Some(c) = e.path {
                err = err.at(&c);
            }
            err
        })?;
        if posted.kind != "AR_Customer" {
            return Err(ApiError::app(
                StatusCode::BAD_REQUEST,
                format!(
                    "The payload holds <{}>; <AR_Customer> is expected.",
                    posted.kind
                ),
            ));
        }
        for (c, _) in &posted.columns {
            if resource.column(c).is_none() && !is_udf(c) {
                return Err(ApiError::app(
                    StatusCode::BAD_REQUEST,
                    format!("AR_Customer has no column '{c}'."),
                )
                .at(c));
            }
        }
        let given = |c: &str| {
            posted
                .columns
                .iter()
                .find(|(n, _)| n == c)
                .and_then(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let code = |c: &str| given(c).map(|v| v.trim().to_uppercase());

        // The key.
        let division = code("ARDivisionNo").ok_or_else(|| {
            ApiError::app(StatusCode::BAD_REQUEST, "The ARDivisionNo is required.")
                .at("ARDivisionNo")
        })?;
        let division = zero_fill(&division, 2);
        if division.len() != 2 || !division.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The ARDivisionNo '{division}' is invalid; it is two digits."),
            )
            .at("ARDivisionNo"));
        }
        let number = code("CustomerNo").ok_or_else(|| {
            ApiError::app(StatusCode::BAD_REQUEST, "The CustomerNo is required.").at("CustomerNo")
        })?;
        if !number.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The CustomerNo '{number}' is invalid; use letters and digits."),
            )
            .at("CustomerNo"));
        }
        if number.chars().count() > 20 {
            return Err(ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The CustomerNo is greater than 20 character(s): '{number}'."),
            )
            .at("CustomerNo"));
        }
        let number = if number.len() <= 7 && number.bytes().all(|b| b.is_ascii_digit()) {
            format!("{number:0>7}")
        } else {
            number
        };

        let mut tables = self.tables();
        if !tables.contains(Sage100Resource::Divisions, &[&division]) {
            return Err(ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The ARDivisionNo {division} is not on file."),
            )
            .at("ARDivisionNo"));
        }
        if tables.contains(resource, &[&division, &number]) {
            let status = match self.settings.duplicate_status {
                DuplicateStatus::Conflict409 => StatusCode::CONFLICT,
                DuplicateStatus::BadRequest400 => StatusCode::BAD_REQUEST,
            };
            return Err(ApiError::app(
                status,
                format!("The customer {division}-{number} already exists."),
            )
            .at("CustomerNo"));
        }

        // Lengths and formats, in column order.
        let mut row = Sage100Row::new();
        for c in resource.columns() {
            let Some(v) = given(c.name) else {
                row.set(c.name, None);
                continue;
            };
            let v = match c.kind {
                ColumnKind::Text => {
                    if let Some(max) = self.settings.max_len(resource, c.name)
                        && v.chars().count() > max
                    {
                        return Err(ApiError::app(
                            StatusCode::BAD_REQUEST,
                            format!("The {} is greater than {max} character(s).", c.name),
                        )
                        .at(c.name));
                    }
                    v
                }
                ColumnKind::Number => {
                    let n: f64 = v.trim().parse().map_err(|_| {
                        ApiError::app(
                            StatusCode::BAD_REQUEST,
                            format!("The {} '{v}' is not a number.", c.name),
                        )
                        .at(c.name)
                    })?;
                    format!("{n:.2}")
                }
                ColumnKind::Date => {
                    if where_clause::parse(&format!("X eq @{}@", v.trim())).is_err() {
                        return Err(ApiError::app(
                            StatusCode::BAD_REQUEST,
                            format!("The {} '{v}' is not a date (YYYY-MM-DD).", c.name),
                        )
                        .at(c.name));
                    }
                    v.trim().to_owned()
                }
            };
            row.set(c.name, Some(&v));
        }
        for (c, v) in &posted.columns {
            if is_udf(c) {
                row.set(c, v.as_deref());
            }
        }
        row.set("ARDivisionNo", Some(&division));
        row.set("CustomerNo", Some(&number));

        // Codes: upper-cased, then checked against their tables.
        let not_on_file = |col: &str, v: &str| {
            ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The {col} {v} is not on file."),
            )
            .at(col)
        };
        if let Some(terms) = code("TermsCode") {
            let terms = zero_fill(&terms, 2);
            if !tables.contains(Sage100Resource::Terms, &[&terms]) {
                return Err(not_on_file("TermsCode", &terms));
            }
            row.set("TermsCode", Some(&terms));
        }
        if let Some(tax) = code("TaxSchedule") {
            if !tables.contains(Sage100Resource::TaxSchedules, &[&tax]) {
                return Err(not_on_file("TaxSchedule", &tax));
            }
            row.set("TaxSchedule", Some(&tax));
        }
        let sp_division = code("SalespersonDivisionNo")
            .map(|d| zero_fill(&d, 2))
            .unwrap_or_else(|| division.clone());
        let Some(sp_no) = code("SalespersonNo") else {
            return Err(
                ApiError::app(StatusCode::BAD_REQUEST, "The SalespersonNo is required.")
                    .at("SalespersonNo"),
            );
        };
        if !tables.contains(Sage100Resource::Salespersons, &[&sp_division, &sp_no]) {
            return Err(not_on_file(
                "SalespersonNo",
                &format!("{sp_division}-{sp_no}"),
            ));
        }
        row.set("SalespersonDivisionNo", Some(&sp_division));
        row.set("SalespersonNo", Some(&sp_no));
        if let Some(t) = code("CustomerType") {
            if self.settings.customer_type_table
                && !tables.contains(Sage100Resource::CustomerTypes, &[&t])
            {
                return Err(not_on_file("CustomerType", &t));
            }
            row.set("CustomerType", Some(&t));
        }
        if let Some(m) = code("ShipMethod") {
            if self.settings.ship_method_table.is_some()
                && !tables.contains(Sage100Resource::ShipMethods, &[&m])
            {
                return Err(not_on_file("ShipMethod", &m));
            }
            row.set("ShipMethod", Some(&m));
        }
        for (col, allowed) in [
            ("CreditHold", &["Y", "N"][..]),
            ("CustomerStatus", &["A", "I", "T"][..]),
        ] {
            if let Some(v) = code(col) {
                if !allowed.contains(&v.as_str()) {
                    return Err(ApiError::app(
                        StatusCode::BAD_REQUEST,
                        format!("The {col} '{v}' is invalid; expected one of {allowed:?}."),
                    )
                    .at(col));
                }
                row.set(col, Some(&v));
            }
        }

        // Defaults and server-maintained columns.
        let today = today();
        for (col, default) in [
            ("CustomerStatus", "A"),
            ("CreditHold", "N"),
            ("CreditLimit", "0.00"),
            ("DateEstablished", today.as_str()),
        ] {
            if row.get(col).is_none() {
                row.set(col, Some(default));
            }
        }
        row.set("CurrentBalance", Some("0.00"));
        row.set("DateUpdated", Some(&today));

        if let Err(e) = tables.insert(resource, row.clone()) {
            return Err(ApiError::app(StatusCode::INTERNAL_SERVER_ERROR, e));
        }
        drop(tables);

        if self.faults.take_drop() {
            return Ok(Outcome::Drop);
        }
        let xml = self.entry_xml(ctx, resource, &row, None, true);
        let status = match self.settings.create_status {
            CreateStatus::Created201 => StatusCode::CREATED,
            CreateStatus::Ok200 => StatusCode::OK,
        };
        let mut resp = self.xml_response(status, ENTRY_TYPE, xml);
        if status == StatusCode::CREATED {
            let selector = key::format_key(&[&division, &number], self.settings.id_form());
            let location = format!("{}/AR_Customer({})", ctx.company_url, esc_path(&selector));
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
        }
        Ok(Outcome::Respond(resp))
    }
}

fn method_not_allowed(method: &Method, what: &str) -> ApiError {
    ApiError::app(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("The method {method} is not supported on {what}."),
    )
}

/// `1` → `01` for a one-digit code of a two-digit zero-filled column.
fn zero_fill(v: &str, width: usize) -> String {
    if !v.is_empty() && v.len() < width && v.bytes().all(|b| b.is_ascii_digit()) {
        format!("{v:0>width$}")
    } else {
        v.to_owned()
    }
}

fn esc_path(s: &str) -> String {
    utf8_percent_encode(s, PATH_SEGMENT).to_string()
}

fn order(
    resource: Sage100Resource,
    a: &Sage100Row,
    b: &Sage100Row,
    by: &[(String, bool)],
) -> CmpOrdering {
    for (col, desc) in by {
        let (x, y) = (a.get(col), b.get(col));
        let o = if resource.kind_of(col) == Some(ColumnKind::Number) {
            let n = |v: Option<&str>| v.and_then(|s| s.parse::<f64>().ok());
            n(x).partial_cmp(&n(y)).unwrap_or(CmpOrdering::Equal)
        } else {
            x.unwrap_or_default().cmp(y.unwrap_or_default())
        };
        let o = if *desc { o.reverse() } else { o };
        if o != CmpOrdering::Equal {
            return o;
        }
    }
    CmpOrdering::Equal
}

/// The query parameters of a read.
#[derive(Debug, Default)]
struct ListQuery {
    /// The text as given (for links) and its parse.
    where_clause: Option<(String, Where)>,
    /// 1-based.
    start_index: usize,
    count: Option<usize>,
    select: Option<Vec<String>>,
    order_by: Vec<(String, bool)>,
    /// The `orderBy` text as given (for links).
    order_by_text: Option<String>,
}

impl ListQuery {
    /// `startIndex=…&count=…` plus the other parameters, percent-encoded.
    fn link_query(&self, start: usize, count: usize) -> String {
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let mut q = format!("startIndex={start}&count={count}");
        if let Some((w, _)) = &self.where_clause {
            let _ = write!(q, "&where={}", enc(w));
        }
        if let Some(s) = &self.select {
            let _ = write!(q, "&select={}", enc(&s.join(",")));
        }
        if let Some(o) = &self.order_by_text {
            let _ = write!(q, "&orderBy={}", enc(o));
        }
        q
    }
}

fn parse_query(raw: Option<&str>, single: bool) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        start_index: 1,
        ..ListQuery::default()
    };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(ApiError::bad_query(format!(
                "The query parameter '{name}' is given twice."
            )));
        }
        seen.push(lower.clone());
        let allowed_single = matches!(lower.as_str(), "select" | "format");
        if single && !allowed_single {
            return Err(ApiError::bad_query(format!(
                "The query parameter '{name}' does not apply to a single resource."
            )));
        }
        match lower.as_str() {
            "where" => {
                let w = where_clause::parse(&value).map_err(|e| {
                    ApiError::new(StatusCode::BAD_REQUEST, "BadWhereSyntax", e.to_string())
                })?;
                q.where_clause = Some((value.into_owned(), w));
            }
            "startindex" => {
                q.start_index = value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        ApiError::bad_query(format!(
                            "startIndex '{value}' is not a whole number of at least 1."
                        ))
                    })?;
            }
            "count" => {
                q.count = Some(value.trim().parse::<usize>().map_err(|_| {
                    ApiError::bad_query(format!("count '{value}' is not a whole number."))
                })?);
            }
            "select" => {
                let cols: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).collect();
                if cols.iter().any(String::is_empty) {
                    return Err(ApiError::bad_query(format!(
                        "select '{value}' has an empty name."
                    )));
                }
                q.select = Some(cols);
            }
            "orderby" => {
                for part in value.split(',') {
                    let mut words = part.split_whitespace();
                    let (Some(col), dir, None) = (words.next(), words.next(), words.next()) else {
                        return Err(ApiError::bad_query(format!(
                            "orderBy '{value}' is not 'Column [asc|desc], …'."
                        )));
                    };
                    let desc = match dir.map(str::to_ascii_lowercase).as_deref() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(other) => {
                            return Err(ApiError::bad_query(format!(
                                "orderBy direction '{other}' is not asc or desc."
                            )));
                        }
                    };
                    q.order_by.push((col.to_owned(), desc));
                }
                q.order_by_text = Some(value.into_owned());
            }
            "format" => {
                if !value.eq_ignore_ascii_case("atom") {
                    return Err(ApiError::bad_query(format!(
                        "format '{value}' is not supported; only atom."
                    )));
                }
            }
            _ => {
                return Err(ApiError::bad_query(format!(
                    "The query parameter '{name}' is not supported (where, startIndex, count, select, orderBy, format)."
                )));
            }
        }
    }
    Ok(q)
}

/// Today, `YYYY-MM-DD` (UTC).
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or_default());
    format!("{y:04}-{m:02}-{d:02}")
}

/// Now, `YYYY-MM-DDTHH:MM:SSZ`.
fn now_iso() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or_default());
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Where the request came from, for links.
#[derive(Debug)]
struct RequestCtx {
    /// `http://host:port/sdata/MasApp/MasContract/ABC`
    company_url: String,
}

impl RequestCtx {
    fn new(parts: &Parts, company: &str) -> RequestCtx {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        RequestCtx {
            company_url: format!(
                "http://{host}/sdata/MasApp/MasContract/{}",
                esc_path(company)
            ),
        }
    }
}
