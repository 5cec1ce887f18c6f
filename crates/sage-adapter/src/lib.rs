//! Sage 300 Web API (and, later, Sage 100) transport for crm2sage: the adapter behind the
//! domain's ERP ports ([`ErpConnector`], [`ErpGateway`]).
//!
//! # Why this crate exists
//!
//! It is the **only** crate that knows Sage's wire formats. The domain speaks in validated
//! types (`CustomerNo`, `ReferenceCode`, `ErpRecord`); this crate turns them into URLs, JSON
//! payloads and HTTP requests, and turns Sage's answers back. The wire structs are private:
//! everything Sage sends comes back through the domain's constructors (`ReferenceCode::parse`,
//! `CustomerNo::parse_sage300`), so nothing from the network bypasses a domain rule. A value
//! that fails them is a protocol error naming it — never a silently dropped record.
//!
//! # Layout
//!
//! - `http` (shared): one pooled reqwest client with rustls per [`SageConnector`], HTTP Basic
//!   from a `secrecy` secret (the header is built once and marked sensitive), `Content-Type:
//!   application/json` on **every** request (Sage 300 answers 500 without it, GETs included),
//!   GETs retried with bounded exponential backoff, a POST sent exactly once, no redirects.
//! - `errors` (shared): the status and transport rules — 401/403/429, a 4xx on a create is a
//!   definite rejection, a 5xx or a lost answer on a create is ambiguous, a connect failure was
//!   never sent.
//! - `sage300`: URLs, the OData JSON, the mapping to and from the domain. A `sage100` module can
//!   sit beside it and reuse `http` and `errors`.
//!
//! # How each unsure wire detail is tolerated
//!
//! The reference (`sage300-web-api.md`) marks several details \[UNSURE\]; every variant it lists
//! is accepted:
//!
//! | detail | accepted |
//! |---|---|
//! | create status | any 2xx with the created entity (200 and 201 seen) |
//! | next link | `@odata.nextLink` or v3 `odata.nextLink`; absolute or relative (resolved against the page's URL) |
//! | count | `@odata.count` or `odata.count`; a number or a string |
//! | terms key | `TermsCode` or `TermsCodeKey` |
//! | dates | kept as text; `InactiveDate` judged by its date part, with or without a zone |
//! | error `Content-Type` | the body is parsed as the OData error whatever the header says (`text/plain` too) |
//! | error `message` | `{"value": …}` (Sage) or a plain string (OData v4); `"error"` or `"odata.error"` |
//! | key case | we always send upper-case numbers; a record found under any case is accepted |
//! | unknown error codes | any 400/409 code other than `RecordDuplicate` is a rejection with Sage's message |
//!
//! Other decisions:
//!
//! - The page cursor is the next link itself (resolved to an absolute URL). A next link on
//!   another origin (a server behind a proxy writing its internal host name) is not followed as
//!   given — the credentials would go elsewhere — its query is applied to our own URL instead.
//! - Tax groups are requested with `$filter=TransactionType eq 'Sales'` and filtered again on
//!   our side: a server that ignores the filter cannot slip a Purchases row into a promotion.
//! - Languages have no endpoint: the fixed `CheckLanguage` set (ENG, FRA, ESN, CHT, CHN) is
//!   returned without a request. Divisions, salespersons and ship methods do not exist in
//!   Sage 300: `KindUnavailable`.
//! - A customer is read by key, `ARCustomers('O''BRIEN')` (quote doubled, percent-encoded); a
//!   number holding `/`, `\` or `%` — which IIS routing mangles even when encoded — is read with
//!   `$filter=CustomerNumber eq '…'` instead. Only a 404 with code `RecordNotFound` means
//!   "absent".
//! - The create payload's property order is fixed by a struct (Sage applies properties in
//!   order): `CustomerNumber`, `GroupCode`, then the overrides; `ShortName` is the name's first
//!   10 characters; `Country` is ISO alpha-2; the CRM id goes in
//!   `CustomerOptionalFieldValues`. Nothing is sent as `null` or `""`.
//! - Timeouts and retries: see [`ClientSettings`].
//!
//! # Example
//!
//! ```no_run
//! # async fn demo(integration: crm2sage_domain::Integration) -> Result<(), Box<dyn std::error::Error>> {
//! use crm2sage_domain::ports::ErpConnector;
//! use crm2sage_sage_adapter::{ClientSettings, SageConnector};
//!
//! let connector = SageConnector::new(ClientSettings::default());
//! let gateway = connector
//!     .connect(&integration, secrecy::SecretString::from("WEBAPI"))
//!     .await?;
//! gateway.test_connection().await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`ErpConnector`]: crm2sage_domain::ports::ErpConnector
//! [`ErpGateway`]: crm2sage_domain::ports::ErpGateway

mod connector;
mod errors;
mod http;
mod sage100;
mod sage300;
mod settings;

pub use connector::SageConnector;
pub use settings::ClientSettings;
