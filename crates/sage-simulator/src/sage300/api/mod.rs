//! The Sage 300 Web API routes: the shared pipeline ([`crate::pipeline`]) hands every request to
//! [`Shared::dispatch`], which parses the path itself, so every refusal gets the OData error body
//! with the reference's code and status.
//!
//! - [`errors`]: the refusal and its wire form;
//! - [`lists`]: a page of a list, one record by key;
//! - [`create`]: `POST AR/ARCustomers`;
//! - [`parts`]: `POST AR/ARShipToLocations` and `POST MT/MTContacts`, a customer's parts;
//! - [`patch`]: `PATCH AR/ARCustomers('KEY')`, a partial update.

mod create;
mod errors;
mod lists;
mod optional;
mod parts;
mod patch;

use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::response::Response;
use percent_encoding::percent_decode_str;

use super::config::{
    CountStyle, CreateStatus, DateStyle, ErrorContentType, KeyRejection, LowercaseKeys,
    NextLinkStyle, PatchStatus, Sage300Config, TermsKey, UnknownCompany, UnknownCustomer,
};
use super::schema::Sage300Resource;
use super::store::Tables;
use crate::odata::key;
use crate::pipeline::{self, Common, Flavour, Outcome};
pub(crate) use errors::ApiError;

/// The settings that cannot change while the simulator runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) company: String,
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
    pub(crate) order_entry: bool,
    pub(crate) contacts: bool,
    pub(crate) unknown_customer: UnknownCustomer,
    pub(crate) patch_status: PatchStatus,
    pub(crate) reject_date_filter: bool,
}

impl Settings {
    pub(crate) fn from_config(c: &Sage300Config) -> Settings {
        Settings {
            company: c.company.clone(),
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
            order_entry: c.order_entry,
            contacts: c.contacts,
            unknown_customer: c.unknown_customer,
            patch_status: c.patch_status,
            reject_date_filter: c.reject_date_filter,
        }
    }
}

/// State shared by every request of one simulator.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) tables: Mutex<Tables>,
    pub(crate) common: Common,
}

impl Shared {
    pub(crate) fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Flavour for Shared {
    type Error = ApiError;

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

        self.common.authorise(&parts.headers)?;
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
        let found = Sage300Resource::find(&module, name).filter(|r| match r {
            Sage300Resource::Orders => self.settings.order_entry,
            Sage300Resource::Contacts => self.settings.contacts,
            _ => true,
        });
        let Some(resource) = found else {
            return Err(ApiError::resource_not_found(format!(
                "No resource was found that matches the request URI '{raw_path}'."
            )));
        };
        let ctx = RequestCtx::new(parts, &raw, resource);
        match (key_text, &parts.method) {
            (None, &Method::GET) => self.list(&ctx, parts.uri.query()).map(Outcome::Respond),
            (None, &Method::POST) if resource == Sage300Resource::Customers => {
                self.create_customer(&ctx, body)
            }
            (None, &Method::POST) if resource.is_customer_part() => self.create_part(&ctx, body),
            (Some(k), &Method::PATCH) if resource == Sage300Resource::Customers => {
                self.patch_customer(resource, k, body).map(Outcome::Respond)
            }
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

    fn common(&self) -> &Common {
        &self.common
    }

    fn error_response(&self, e: &ApiError) -> Response {
        errors::response(self, e)
    }
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
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
        let origin = format!("http://{}", pipeline::host(parts));
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
