//! The Sage 100 SData routes: the shared pipeline ([`crate::pipeline`]) hands every request to
//! [`Shared::dispatch`], which parses the path itself, so every refusal gets a diagnosis body
//! with the right `sdataCode` and status.
//!
//! - [`errors`]: the refusal and its wire form;
//! - [`lists`]: feeds, single entries and `$schema`;
//! - [`create`]: `POST AR_Customer`;
//! - [`parts`]: `POST SO_ShipToAddress` and `POST AR_CustomerContact`, a customer's parts;
//! - [`update`]: `PUT AR_Customer(01;ABC)`.

mod create;
mod errors;
mod lists;
mod parts;
mod update;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::Response;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use super::config::{
    BlankDate, CreditBalanceSign, CustomerBalance, DiagnosisStyle, DuplicateStatus, KeySyntax,
    PutSemantics, ResourceNamespace, SDataDateStyle, SDataNextLink, Sage100Config,
    SalesOrderModule,
};
use super::schema::{SUGGESTED_SHIP_METHOD_TABLE, Sage100Resource};
use super::store::Tables;
use crate::CreateStatus;
use crate::pipeline::{self, Common, Flavour, Outcome};
use crate::sdata::key::{self, KeyForm};
use crate::sdata::where_clause::ColumnKind;
pub(crate) use errors::ApiError;
use errors::method_not_allowed;

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
/// How `AR_OpenInvoice`'s original amount is stored (its wire name is a setting).
pub(crate) const INVOICE_AMOUNT: &str = "InvoiceAmt";
/// `AR_OpenInvoice` types whose amounts are credits: credit memo, prepayment, payment.
/// `AR_Customer`'s aged-balance columns (beside `CurrentBalance`).
pub(crate) const AGING: [&str; 4] = [
    "AgingCategory1",
    "AgingCategory2",
    "AgingCategory3",
    "AgingCategory4",
];
pub(crate) const CREDIT_TYPES: [&str; 3] = ["CM", "PP", "PY"];
const FEED_TYPE: &str = "application/atom+xml; type=feed; charset=utf-8";
const ENTRY_TYPE: &str = "application/atom+xml; type=entry; charset=utf-8";
const XML_TYPE: &str = "application/xml; charset=utf-8";

/// The settings that cannot change while the simulator runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) company: String,
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
    pub(crate) sales_order: SalesOrderModule,
    pub(crate) credit_balance_sign: CreditBalanceSign,
    pub(crate) invoice_amount_column: Option<String>,
    pub(crate) date_style: SDataDateStyle,
    pub(crate) blank_date: BlankDate,
    pub(crate) customer_balance: CustomerBalance,
    pub(crate) put_semantics: PutSemantics,
    pub(crate) reject_date_filter: bool,
}

impl Settings {
    pub(crate) fn from_config(c: &Sage100Config) -> Settings {
        Settings {
            company: c.company.clone(),
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
            sales_order: c.sales_order,
            credit_balance_sign: c.credit_balance_sign,
            invoice_amount_column: c.invoice_amount_column.clone(),
            date_style: c.date_style,
            blank_date: c.blank_date,
            customer_balance: c.customer_balance,
            put_semantics: c.put_semantics,
            reject_date_filter: c.reject_date_filter,
        }
    }

    /// Whether the server has this table.
    pub(crate) fn serves(&self, r: Sage100Resource) -> bool {
        match r {
            Sage100Resource::CustomerTypes => self.customer_type_table,
            Sage100Resource::ShipMethods => self.ship_method_table.is_some(),
            Sage100Resource::SalesOrders => self.sales_order == SalesOrderModule::Installed,
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

    /// The stored column behind a column name on the wire (the original-amount column of
    /// `AR_OpenInvoice` is served under its configured name, or not at all).
    pub(crate) fn stored_column<'a>(&self, r: Sage100Resource, wire: &'a str) -> Option<&'a str> {
        if r == Sage100Resource::Customers {
            let hidden = self.customer_balance == CustomerBalance::Total && AGING.contains(&wire);
            return (!hidden).then_some(wire);
        }
        if r != Sage100Resource::OpenInvoices {
            return Some(wire);
        }
        match self.invoice_amount_column.as_deref() {
            Some(name) if name == wire => Some(INVOICE_AMOUNT),
            _ if wire == INVOICE_AMOUNT => None,
            _ => Some(wire),
        }
    }

    /// The wire name of a stored column (`None`: not served).
    pub(crate) fn wire_column<'a>(
        &'a self,
        r: Sage100Resource,
        stored: &'a str,
    ) -> Option<&'a str> {
        if r == Sage100Resource::OpenInvoices && stored == INVOICE_AMOUNT {
            self.invoice_amount_column.as_deref()
        } else if r == Sage100Resource::Customers
            && self.customer_balance == CustomerBalance::Total
            && AGING.contains(&stored)
        {
            None
        } else {
            Some(stored)
        }
    }

    /// The type of a column named as on the wire, `None` when the table has no such column.
    pub(crate) fn kind_of(&self, r: Sage100Resource, wire: &str) -> Option<ColumnKind> {
        self.stored_column(r, wire).and_then(|c| r.kind_of(c))
    }

    /// A stored value as it is sent: credit rows' sign and the panel tables' dates per the
    /// settings. `row_type` is the row's `InvoiceType`.
    pub(crate) fn wire_value(
        &self,
        r: Sage100Resource,
        column: &str,
        row_type: Option<&str>,
        value: Option<&str>,
    ) -> Option<String> {
        let panel = matches!(
            r,
            Sage100Resource::OpenInvoices | Sage100Resource::SalesOrders
        );
        let kind = r.kind_of(column);
        if panel && kind == Some(ColumnKind::Date) {
            return match (value, self.blank_date) {
                (None, BlankDate::Nil) => None,
                (None, BlankDate::Sentinel1753) => Some(self.date_text("1753-01-01")),
                (Some(v), _) => Some(self.date_text(v)),
            };
        }
        let credit = row_type.is_some_and(|t| CREDIT_TYPES.contains(&t));
        if r == Sage100Resource::OpenInvoices
            && credit
            && self.credit_balance_sign == CreditBalanceSign::Positive
            && matches!(column, "Balance" | INVOICE_AMOUNT)
        {
            return value.map(|v| v.trim_start_matches('-').to_owned());
        }
        value.map(str::to_owned)
    }

    fn date_text(&self, date: &str) -> String {
        match self.date_style {
            SDataDateStyle::Date => date.to_owned(),
            SDataDateStyle::DateTime => format!("{date}T00:00:00"),
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
    pub(crate) common: Common,
    pub(crate) malformed: AtomicBool,
}

impl Shared {
    pub(crate) fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Shared {
    /// A successful XML response; cut in half under the malformed-XML fault.
    pub(super) fn xml_response(
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
}

impl Flavour for Shared {
    type Error = ApiError;

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
        self.common.authorise(&parts.headers)?;
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
            (None, &Method::POST) if resource.is_customer_part() => {
                self.create_part(&ctx, resource, &parts.headers, body)
            }
            (Some(sel), &Method::PUT) if resource == Sage100Resource::Customers => self
                .update_customer(&ctx, sel, &parts.headers, body)
                .map(Outcome::Respond),
            (Some(sel), &Method::GET) => self
                .single(&ctx, resource, sel, parts.uri.query())
                .map(Outcome::Respond),
            (_, m) => Err(method_not_allowed(m, self.settings.kind_name(resource))),
        }
    }

    fn common(&self) -> &Common {
        &self.common
    }

    fn error_response(&self, e: &ApiError) -> Response {
        errors::response(self, e)
    }
}

pub(super) fn esc_path(s: &str) -> String {
    utf8_percent_encode(s, PATH_SEGMENT).to_string()
}

/// Where the request came from, for links.
#[derive(Debug)]
struct RequestCtx {
    /// `http://host:port/sdata/MasApp/MasContract/ABC`
    company_url: String,
}

impl RequestCtx {
    fn new(parts: &Parts, company: &str) -> RequestCtx {
        RequestCtx {
            company_url: format!(
                "http://{}/sdata/MasApp/MasContract/{}",
                pipeline::host(parts),
                esc_path(company)
            ),
        }
    }
}
