//! The Sage 300 Web API flavour: OData v4 over HTTP Basic, as `reference/sage300-web-api.md`
//! describes it.
//!
//! Routes (any tenant segment; `-` is the canonical one):
//!
//! - `GET  /Sage300WebApi/v1.0/{tenant}/{company}/{module}/{Resource}`: a page of records with
//!   `$filter`, `$select`, `$top`, `$skip`, `$count`, `$orderby`.
//! - `GET  …/{Resource}('KEY')` or `…/{Resource}(Name='…',…)`: one record.
//! - `POST …/AR/ARCustomers`: create a customer.
//! - `PATCH …/AR/ARCustomers('KEY')`: a partial update (the primary ship-to location, the
//!   customer's own contact fields, …), answered 204.
//! - `POST …/AR/ARShipToLocations`: create a customer's ship-to location; one is
//!   `ARShipToLocations(CustomerNumber='C1',ShipToLocationKey='WH1')`, a customer's list
//!   `?$filter=CustomerNumber eq 'C1'`.
//! - `POST …/MT/MTContacts`: create a customer's contact (only with
//!   [`Sage300Config::contacts`]; else the resource is 404 like any the server lacks).
//!
//! Resources: `AR/ARCustomers`, `AR/ARCustomerGroups`, `AR/ARTerms`, `TX/TXTaxGroups`,
//! `CS/CSCurrencyCodes`, `AR/ARPostedDocuments`, `AR/ARShipToLocations`, (with
//! [`Sage300Config::order_entry`]) `OE/OEOrders` and (with [`Sage300Config::contacts`])
//! `MT/MTContacts` ([`Sage300Resource`]). The ship-to and contact details, confirmed and
//! unsure, are in `docs/reference-parties.md`. The customer panel's unsure details are listed in
//! `docs/reference-panel.md`.
//!
//! Checks, in order, and how each refusal is answered (always the body
//! `{"error":{"code":…,"message":{"lang":"en-US","value":…}}}`, labelled per
//! [`ErrorContentType`]):
//!
//! | check | status | code |
//! |---|---|---|
//! | path not `/Sage300WebApi/v1.0/{tenant}/{company}/{module}/{segment}` | 404 | `ResourceNotFound` |
//! | Basic credentials not a configured user | 401 | `Unauthorized` |
//! | credentials of a [`Sage300Config::forbidden_users`] entry | 403 | `Forbidden` |
//! | no `Content-Type: application/json` (when required) | 500 | `InternalServerError` |
//! | unknown company | 500 / 404 | `DBLinkError` / `ResourceNotFound` ([`UnknownCompany`]) |
//! | unknown module or resource (also `$metadata`, not served) | 404 | `ResourceNotFound` |
//! | unparsable key in parentheses, wrong key parts | 400 | `InvalidEntityKey` |
//! | verb not supported (POST except on ARCustomers, ARShipToLocations, MTContacts; PATCH except on one customer; PUT, DELETE are not simulated) | 405 | `MethodNotAllowed` |
//! | POST with a key (`$template`, `$process` are not simulated) | 400 | `InvalidAction` |
//! | bad, unknown or repeated query option, unknown property, filter type error; a filter on `DateLastMaintained` under [`Sage300Config::reject_date_filter`] | 400 | `InvalidParameters` |
//! | no record for the key | 404 | `RecordNotFound` |
//! | create: body not a JSON object, unknown property, wrong JSON type, bad enum name | 400 | `InvalidPayload` |
//! | create: `CustomerNumber` blank, > 12 characters, or lower-case under [`LowercaseKeys::Refuse`] | 409 / 400 | `RecordInvalid` / `InvalidPayload` ([`KeyRejection`]) |
//! | create: group blank, unknown or inactive; terms blank, unknown or inactive; tax group without a Sales row; unknown currency; `CheckLanguage` not `ENG FRA ESN CHT CHN` | 409 | `General` |
//! | create: the number exists | 409 | `RecordDuplicate` |
//! | ship-to / contact create: a key part blank, too long or lower-case (as above); a text longer than its length | 409 / 400 | `RecordInvalid` / `InvalidPayload` ([`KeyRejection`]) |
//! | ship-to / contact create: the customer does not exist | 409 / 400 / 404 | `General` / `InvalidPayload` / `RecordNotFound` ([`UnknownCustomer`]) |
//! | ship-to / contact create: the key exists | 409 | `RecordDuplicate` |
//! | PATCH: no such customer | 404 | `RecordNotFound` |
//! | PATCH: not a JSON object, unknown property, wrong type, a changed `CustomerNumber` | 400 | `InvalidPayload` |
//! | PATCH: a text longer than its ARCUS length | 409 / 400 | `RecordInvalid` / `InvalidPayload` ([`KeyRejection`]) |
//! | PATCH: `PrimaryShipToLocation` not one of the customer's ship-tos; unknown group, terms, tax group, currency | 409 | `General` |
//! | fault: too many in flight / injected error | 429 / 500 | `TooManyRequests` / `InternalServerError` |
//!
//! A created customer is the ARCustomers template (every property at its default), then the
//! group's defaults (`AccountSet`, `BillingCycle`, `InterestProfile`, `Terms`, `TaxGroup`,
//! `AccountType`, …), then the payload's values; `CurrencyCode` defaults from the account set
//! (then the home currency); `DateLastMaintained` and (when absent) `StartDate` are today;
//! balances are 0; optional fields are stored with the customer number filled in. Other field
//! lengths are not checked. String comparisons in `$filter` are exact (case-sensitive); a
//! date-time property compares with a date-time literal (`2026-12-01T00:00:00Z`,
//! `datetimeoffset'…'`, an offset) as an instant. A `PATCH` sets `DateLastMaintained` to today
//! (`YYYY-MM-DDT00:00:00Z`) and upserts the `CustomerOptionalFieldValues` items it carries by
//! `OptionalField`, keeping the customer's others.
//!
//! A list query's matching keys are computed once and reused for its following pages until any
//! record changes, so paging through 100,000 customers is one scan, not one per page.

mod api;
pub(crate) mod config;
pub(crate) mod data;
mod panel;
mod running;
pub(crate) mod schema;
mod store;

pub use config::{
    CountStyle, CreateStatus, DateStyle, ErrorContentType, KeyRejection, LowercaseKeys,
    NextLinkStyle, PatchStatus, Sage300Config, TermsKey, UnknownCompany, UnknownCustomer,
};
pub use data::{Catalogue, Sage300Data, Sage300Record};
pub use panel::posted_document;
pub use running::{RunningSage300, start_sage300, start_sage300_on};
pub use schema::Sage300Resource;
