//! The Sage 100 SData flavour: Atom feeds over HTTP Basic at
//! `/sdata/MasApp/MasContract/{COMPANY}/{Table}`, as `reference/sage100.md` Part A describes it,
//! with the data rules of Part B.
//!
//! Routes (the `sdata/MasApp/MasContract` part is case-insensitive, like IIS; company codes too;
//! table names are exact):
//!
//! - `GET …/{CO}/$schema`: an XSD listing every served resource kind (`sme:role="resourceKind"`,
//!   `sme:canGet`, `sme:canPost` — true on `AR_Customer`, `SO_ShipToAddress` and
//!   `AR_CustomerContact` —, `sme:canPut` — true on `AR_Customer`) with its columns and lengths.
//! - `GET …/{CO}/{Table}`: an Atom feed with `opensearch:totalResults`, `startIndex` (1-based)
//!   and `itemsPerPage`, `<link rel="self|first|last|previous|next">` (absolute; see
//!   [`SDataNextLink`]) and one `<entry>` per row. Query parameters: `where`, `startIndex`,
//!   `count` (cut to [`Sage100Config::page_size`]), `select`, `orderBy` (`Col [asc|desc],…`),
//!   `format=atom`; names case-insensitive; anything else is 400 `BadQueryParameter`.
//! - `GET …/{CO}/{Table}(01;ABC)` (and/or `('01;ABC')`, per [`KeySyntax`]): one Atom entry.
//! - `POST …/{CO}/AR_Customer` with `Content-Type: application/atom+xml[; type=entry]`: create.
//! - `PUT …/{CO}/AR_Customer(01;ABC)` with an entry of the columns to change (e.g. only
//!   `PrimaryShipToCode` or `ContactCode`): update, answered 200 with the entry; columns left
//!   out stay, or are cleared under [`PutSemantics::Replace`].
//! - `POST …/{CO}/SO_ShipToAddress` and `POST …/{CO}/AR_CustomerContact`: create a customer's
//!   ship-to address (`SO_ShipToAddress(01;ABC;WH1)`) or contact
//!   (`AR_CustomerContact(01;ABC;JSMITH)`); a customer's list is
//!   `?where=ARDivisionNo eq '01' and CustomerNo eq 'ABC'`. See `docs/reference-parties.md`.
//!
//! Tables ([`Sage100Resource`]): `AR_Customer`, `AR_Division`, `AR_TermsCode`,
//! `SY_SalesTaxSchedule`, `AR_Salesperson`, `AR_OpenInvoice` (keyed `01;ABF;0100011;IN`),
//! `SO_ShipToAddress`, `AR_CustomerContact`, and
//! when enabled `AR_CustomerType`, the ship-method table (name configurable) and
//! `SO_SalesOrderHeader` ([`Sage100Config::sales_order`]). The customer panel's unsure details
//! are settings: the sign of credit rows ([`CreditBalanceSign`]), the original-amount column's
//! name ([`Sage100Config::invoice_amount_column`]), dates with or without a time
//! ([`SDataDateStyle`]) and a blank date as nil or `1753-01-01` ([`BlankDate`]); see
//! `docs/reference-panel-sage100.md`. An entry is
//! `<entry><id/><title/><updated/><link rel="self"/><sdata:payload><AR_Customer sdata:key="01;ABF"
//! sdata:uri="…" xmlns="">…columns…</AR_Customer></sdata:payload></entry>`; every column of the
//! table is listed in schema order, a null (or blank) one as `<Col xsi:nil="true"/>`, then any
//! `UDF_` columns the row has. Text is escaped (`& < > ' "`).
//!
//! Refusals, each with a diagnosis body ([`DiagnosisStyle`]; `severity`, `sdataCode`, empty
//! `applicationCode`, `message`, and `payloadPath` for a create's column):
//!
//! | check | status | sdataCode |
//! |---|---|---|
//! | path not under `/sdata` | 404 | `BadUrlSyntax` |
//! | Basic credentials not a configured user | 401 (+ `WWW-Authenticate`) | `ApplicationDiagnosis` |
//! | a [`Sage100Config::forbidden_users`] logon | 403 | `ApplicationDiagnosis` |
//! | application not `MasApp` / contract not `MasContract` | 404 | `ApplicationNotFound` / `ContractNotFound` |
//! | unknown company | 404 | `DatasetNotFound` |
//! | unknown or disabled table | 404 | `ResourceKindNotFound` |
//! | malformed selector, wrong number of key parts, a quoted selector under [`KeySyntax::Unquoted`] | 400 | `BadUrlSyntax` |
//! | an unquoted selector under [`KeySyntax::Quoted`] (read as a where clause) | 400 | `BadWhereSyntax` |
//! | `where` outside the grammar ([`crate::sdata::where_clause`]), unknown column, type mismatch | 400 | `BadWhereSyntax` |
//! | `where` on `DateUpdated` under [`Sage100Config::reject_date_filter`] | 400 | `BadWhereSyntax` |
//! | other bad, unknown or repeated query parameter; unknown `select`/`orderBy` column | 400 | `BadQueryParameter` |
//! | no row for the selector | 404 | `ApplicationDiagnosis` ("… was not found.") |
//! | verb not supported (POST except on `AR_Customer`, `SO_ShipToAddress`, `AR_CustomerContact`; PUT except on one `AR_Customer`; DELETE is not simulated) | 405 | `ApplicationDiagnosis` |
//! | create: `Content-Type` not `application/atom+xml` | 415 | `ApplicationDiagnosis` |
//! | create: body not UTF-8, not well-formed XML, not an `<entry>` with one resource in `<sdata:payload>`, a repeated or nested column | 400 | `ApplicationDiagnosis` |
//! | create: payload element not `AR_Customer`; a column the table does not have (other than `UDF_…`) | 400 | `ApplicationDiagnosis` |
//! | create: `ARDivisionNo` missing, not 2 digits, or not in `AR_Division` | 400 | `ApplicationDiagnosis` |
//! | create: `CustomerNo` missing, not letters/digits, longer than 20 | 400 | `ApplicationDiagnosis` |
//! | create: the customer exists | 409 / 400 ([`DuplicateStatus`]) | `ApplicationDiagnosis` ("… already exists.") |
//! | create: a text column longer than its length, a bad number or date | 400 | `ApplicationDiagnosis` ("The City is greater than 20 character(s).") |
//! | create: `TermsCode`, `TaxSchedule`, salesperson, `CustomerType` (table on), `ShipMethod` (table on) not on file; `SalespersonNo` missing; `CreditHold` not Y/N; `CustomerStatus` not A/I/T | 400 | `ApplicationDiagnosis` ("The SalespersonNo 01-0999 is not on file.") |
//! | ship-to / contact create: a column the table lacks; the key missing or malformed; a text longer than its length | 400 | `ApplicationDiagnosis` |
//! | ship-to / contact create: the customer is not on file | 400 | `ApplicationDiagnosis` ("The CustomerNo 01-ZZZ is not on file.") |
//! | ship-to / contact create: the key exists | 409 / 400 ([`DuplicateStatus`]) | `ApplicationDiagnosis` ("… already exists.") |
//! | PUT: no such customer | 404 | `ApplicationDiagnosis` |
//! | PUT: a changed key; a bad column, length, number or date; `PrimaryShipToCode` / `ContactCode` not one of the customer's; a code not on file | 400 | `ApplicationDiagnosis` |
//! | fault: too many in flight / injected error | 503 (severity `transient`) / 500 | `ApplicationUnavailable` / `ApplicationDiagnosis` |
//!
//! A create normalises before checking: codes trimmed and upper-cased, `ARDivisionNo`,
//! `SalespersonDivisionNo` and `TermsCode` of one digit zero-filled to two, an all-digit
//! `CustomerNo` of 7 or fewer digits zero-filled to 7 (`123` → `0000123`).
//! `SalespersonDivisionNo` defaults to `ARDivisionNo`. Defaults: `CustomerStatus` `A`,
//! `CreditHold` `N`, `CreditLimit` `0.00`, `DateEstablished` today; `CurrentBalance` is `0.00` and
//! `DateUpdated` today whatever was sent. Numbers are stored with two decimals. `UDF_…` columns are
//! stored as sent (lengths not checked). The answer is the created entry (201 with `Location:
//! …/AR_Customer(01;ABC)`, or 200, per [`Sage100Config::create_status`]).

mod api;
pub(crate) mod config;
pub(crate) mod data;
mod panel_data;
mod running;
pub(crate) mod schema;
mod store;

pub use config::{
    BlankDate, CreditBalanceSign, CustomerBalance, DiagnosisStyle, DuplicateStatus, KeySyntax,
    PutSemantics, ResourceNamespace, SDataDateStyle, SDataNextLink, Sage100Config,
    SalesOrderModule,
};
pub use data::{Sage100Catalogue, Sage100Data, Sage100Record};
pub use running::{RunningSage100, start_sage100, start_sage100_on};
pub use schema::{SUGGESTED_SHIP_METHOD_TABLE, Sage100Resource};
