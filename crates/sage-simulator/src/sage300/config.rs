//! How a Sage 300 simulator behaves: credentials, paging, and one setting for every wire detail
//! the reference marks \[UNSURE\].

use super::data::Sage300Data;
use crate::Faults;

/// Everything a Sage 300 simulator is started with.
///
/// `Sage300Config::default()` is the demo company `SAMLTD` with user `WEBAPI`/`WEBAPI`, pages of
/// 100, `Content-Type` required and the most likely variant of every unsure wire detail.
#[derive(Debug, Clone)]
pub struct Sage300Config {
    /// The company (org ID) served; matched case-insensitively. Default `SAMLTD`.
    pub company: String,
    /// Users (ID, password) with the Web API right. The first is the one
    /// [`RunningSage300::user`](crate::RunningSage300::user) reports. Default `[("WEBAPI","WEBAPI")]`.
    pub users: Vec<(String, String)>,
    /// Users whose password is right but who lack the "Sage 300 Web API" right: answered 403
    /// `Forbidden`. Default `[("ADMIN","ADMIN")]` (ADMIN has no Web API rights by default).
    pub forbidden_users: Vec<(String, String)>,
    /// Server page size (`PageSize` in Web.config). Default 100.
    pub page_size: usize,
    /// Answer 500 to a request without `Content-Type: application/json` (GETs included), as the
    /// real server does. Default `true`.
    pub require_content_type: bool,
    /// Status of a successful create.
    pub create_status: CreateStatus,
    /// Shape of the next-page link.
    pub next_link: NextLinkStyle,
    /// Type of the count annotation.
    pub count_style: CountStyle,
    /// Key property of ARTerms.
    pub terms_key: TermsKey,
    /// How date-times are written in responses.
    pub date_style: DateStyle,
    /// `Content-Type` of error responses (the body is the same JSON either way).
    pub error_content_type: ErrorContentType,
    /// What happens to a lower-case key.
    pub lowercase_keys: LowercaseKeys,
    /// How an unacceptable `CustomerNumber` on create is refused (missing, empty, longer than 12,
    /// or lower-case under [`LowercaseKeys::Refuse`]).
    pub key_rejection: KeyRejection,
    /// How a request for a company other than [`Sage300Config::company`] is answered.
    pub unknown_company: UnknownCompany,
    /// Whether the company has Order Entry: `OE/OEOrders` is served, else it answers 404
    /// `ResourceNotFound` like any resource the server lacks \[UNSURE: how a company without
    /// O/E answers is not documented\]. Default `true`.
    pub order_entry: bool,
    /// Whether the server has `MT/MTContacts` (Sage 300 2020.1 and later): served, else it
    /// answers 404 `ResourceNotFound` as a pre-2020 server does, and a customer's only contact
    /// is its own `ContactName` / `ContactsPhone` / `ContactsEmail` \[UNSURE: the resource, its
    /// key and properties are inferred\]. Default `false`.
    pub contacts: bool,
    /// How a ship-to or contact create naming a customer that does not exist is refused.
    pub unknown_customer: UnknownCustomer,
    /// Status of a successful `PATCH` (always without a body).
    pub patch_status: PatchStatus,
    /// Refuse a `$filter` on the last-maintained date (`DateLastMaintained`, tax groups'
    /// `LastMaintained`) with 400 `InvalidParameters`, as a server whose entity does not allow
    /// filtering on it would: lets a client's fallback (a full list) be tested. Default `false`.
    pub reject_date_filter: bool,
    /// Faults at start; change them later with
    /// [`RunningSage300::set_faults`](crate::RunningSage300::set_faults).
    pub faults: Faults,
    /// The records at start.
    pub data: Sage300Data,
}

impl Default for Sage300Config {
    fn default() -> Self {
        Sage300Config {
            company: "SAMLTD".to_owned(),
            users: vec![("WEBAPI".to_owned(), "WEBAPI".to_owned())],
            forbidden_users: vec![("ADMIN".to_owned(), "ADMIN".to_owned())],
            page_size: 100,
            require_content_type: true,
            create_status: CreateStatus::Created201,
            next_link: NextLinkStyle::Absolute,
            count_style: CountStyle::Number,
            terms_key: TermsKey::TermsCode,
            date_style: DateStyle::Utc,
            error_content_type: ErrorContentType::Json,
            lowercase_keys: LowercaseKeys::Normalise,
            key_rejection: KeyRejection::RecordInvalid409,
            unknown_company: UnknownCompany::DbLinkError500,
            order_entry: true,
            contacts: false,
            unknown_customer: UnknownCustomer::General409,
            patch_status: PatchStatus::NoContent204,
            reject_date_filter: false,
            faults: Faults::default(),
            data: Sage300Data::demo(),
        }
    }
}

impl Sage300Config {
    /// The default configuration, but a missing `Content-Type` is accepted: convenient for
    /// tests that are not about that header.
    pub fn lenient() -> Self {
        Sage300Config {
            require_content_type: false,
            ..Sage300Config::default()
        }
    }
}

/// Status of a successful `POST` (the reference infers 201 from OData v4; undocumented).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreateStatus {
    /// `201 Created` with a `Location` header.
    #[default]
    Created201,
    /// `200 OK`.
    Ok200,
}

impl CreateStatus {
    /// The status a successful create is answered with.
    pub(crate) fn status_code(self) -> axum::http::StatusCode {
        match self {
            CreateStatus::Created201 => axum::http::StatusCode::CREATED,
            CreateStatus::Ok200 => axum::http::StatusCode::OK,
        }
    }
}

/// Shape of the link to the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NextLinkStyle {
    /// `"@odata.nextLink": "http://host/Sage300WebApi/v1.0/-/SAMLTD/AR/ARCustomers?$skip=100"`.
    #[default]
    Absolute,
    /// `"@odata.nextLink": "ARCustomers?$skip=100"`, relative to the request URL (resolve it as
    /// RFC 3986 says, e.g. `Url::join`).
    Relative,
    /// OData v3 spelling of every annotation: `"odata.context"`, `"odata.count"`,
    /// `"odata.nextLink"` (absolute), as the 2022 Developer Reference prints them.
    V3,
}

/// Type of `@odata.count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CountStyle {
    /// `"@odata.count": 625`.
    #[default]
    Number,
    /// `"@odata.count": "625"`.
    String,
}

/// Key property name of ARTerms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TermsKey {
    /// `TermsCode` (2019+ samples).
    #[default]
    TermsCode,
    /// `TermsCodeKey` (2016 `$metadata`). Demo and seeded records written with `TermsCode` are
    /// renamed.
    TermsCodeKey,
}

/// How date-times are written in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateStyle {
    /// `2024-03-01T00:00:00Z`.
    #[default]
    Utc,
    /// `2024-03-01T00:00:00`.
    NoZone,
}

/// `Content-Type` of error responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorContentType {
    /// `application/json; charset=utf-8`.
    #[default]
    Json,
    /// `text/plain; charset=utf-8` (the body is still the JSON error object).
    TextPlain,
}

/// What happens to a lower-case key in a URL or a created record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LowercaseKeys {
    /// Upper-case it: a create of `abc` stores `ABC`, `ARCustomers('abc')` finds `ABC`, and the
    /// codes a create refers to (`GroupCode`, `Terms`, `TaxGroup`, `CurrencyCode`) are upper-cased
    /// before they are checked.
    #[default]
    Normalise,
    /// Keys are exact: a create with a lower-case `CustomerNumber` is refused as
    /// [`Sage300Config::key_rejection`] says, and `ARCustomers('abc')` is 404 `RecordNotFound`.
    Refuse,
}

/// How a `CustomerNumber` the server will not take is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyRejection {
    /// 409 `RecordInvalid` (a business-rule failure).
    #[default]
    RecordInvalid409,
    /// 400 `InvalidPayload`.
    InvalidPayload400,
}

/// How a request for an unknown company is answered (the reference does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownCompany {
    /// 500 `DBLinkError` (opening the company's database fails).
    #[default]
    DbLinkError500,
    /// 404 `ResourceNotFound`.
    ResourceNotFound404,
}

/// How a create of a ship-to location or contact for a customer that does not exist is refused
/// (the reference does not say: "`400`/`404` with an error naming the customer"). The message
/// always names the customer (`Customer "C9" does not exist.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownCustomer {
    /// 409 `General`, as a customer create naming an unknown group is refused.
    #[default]
    General409,
    /// 400 `InvalidPayload`.
    InvalidPayload400,
    /// 404 `RecordNotFound`.
    RecordNotFound404,
}

/// Status of a successful `PATCH` (the reference: "There is no response payload"; the status is
/// inferred).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchStatus {
    /// `204 No Content`.
    #[default]
    NoContent204,
    /// `200 OK` with an empty body.
    Ok200,
}
