//! Sage 300 Web API and Sage 100 SData transport for crm2sage: the adapter behind the domain's
//! ERP ports ([`ErpConnector`], [`ErpGateway`]). [`SageConnector`] picks the gateway by the
//! integration's ERP kind.
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
//!   from a `secrecy` secret (the header is built once and marked sensitive), the flavour's
//!   media types (Sage 300: `Content-Type: application/json` on **every** request, since it
//!   answers 500 without it, GETs included; Sage 100: `Accept: application/atom+xml`, and
//!   `Content-Type: application/atom+xml; type=entry` on the create only), GETs retried with
//!   bounded exponential backoff, a POST sent exactly once, no redirects.
//! - `errors` (shared): the status and transport rules — 401/403/429, a 4xx on a create is a
//!   definite rejection, a 5xx or a lost answer on a create is ambiguous, a connect failure was
//!   never sent.
//! - `sage300`: URLs, the OData JSON, the mapping to and from the domain.
//! - `sage100`: SData URLs, a streaming quick-xml reader for feeds, entries, diagnoses and
//!   `$schema`, the Atom entry writer, the mapping to and from the domain.
//!
//! # Sage 300: how each unsure wire detail is tolerated
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
//! - Paging is prefetched: as soon as a page's body has arrived, its next link is found by a
//!   cheap scan (not a parse) and that page's GET is started on a Tokio task while this one is
//!   parsed; the next call for that cursor takes its answer. The cursor returned is always the
//!   full parse's, errors surface as without the prefetch, and any other call drops it (see the
//!   `sage300` module).
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
//! - Ship-tos (`AR/ARShipToLocations`) and contacts (`MT/MTContacts`, detected once per
//!   gateway, else the customer's own contact fields): see the `sage300::parties` module. A
//!   ship-to or contact is found by its composite key, where any 404 is "none"; making one
//!   primary is a `PATCH` of the customer (a contact always writes `ContactName`,
//!   `ContactsPhone`, `ContactsEmail`, a missing phone or e-mail as `""`).
//! - The customer list (`$top`/`$skip` by next link, `DateLastMaintained ge …Z` for `since`, read
//!   whole when that filter is refused with 400/501), the name lookup and the CRM-id `PATCH`:
//!   see the `sage300::customers` module and `docs/reference-customers.md`.
//! - Timeouts and retries: see [`ClientSettings`].
//!
//! # Sage 100: how each unsure wire detail is tolerated
//!
//! URLs are `{root}/{COMPANY}/{Table}` with the root up to `…/MasApp/MasContract`. The
//! reference (`sage100.md`, Part A) marks several details \[UNSURE\]; every variant is accepted:
//!
//! | detail | accepted |
//! |---|---|
//! | namespaces and prefixes | every element is read by its **local name**: Atom with or without a prefix, the resource element in no namespace or a contract namespace, `sdata:`/`opensearch:` under any prefix |
//! | nulls | `xsi:nil="true"` (or `"1"`), under any prefix, is [`ErpValue::Null`](crm2sage_domain::ErpValue::Null); an empty element is empty text |
//! | paging | the feed's `rel="next"` link (absolute or relative; on another host only its query is used, on our host); without one, `startIndex + entries` while `opensearch:totalResults` says more follow; without totals either, the next `startIndex` after a full page (an empty page ends). A next link to the same page, or an empty page that totals say is not the last, is a protocol error |
//! | single-resource key syntax | avoided: a customer is found with `where=ARDivisionNo eq 'DD' and CustomerNo eq 'NO'` (quotes doubled, percent-encoded), which every server variant accepts; only a server that refuses the query (400) is asked for `AR_Customer(DD;NO)`, the unquoted form Sage 100 clients use |
//! | filtering | never trusted: the entry must carry the asked division and number; a `where` answer holding other customers is a protocol error, never "absent" |
//! | diagnoses | any element whose local name is `diagnosis` (bare root, `sdata:diagnoses` wrapper, or inside a feed), read whatever the `Content-Type` (`text/plain` too); `applicationCode` is the code when given, else `sdataCode` |
//! | duplicate on create | 409, or any failure whose diagnosis code says `AlreadyExists`/`Duplicate` or whose message says "already exist(s)", "record exists", "already on file" or "duplicate" ("does not exist" is a rejection) |
//! | create status | any 2xx (201 with `Location`, 200, an empty body); confirmed by reading the customer back, a read-back that misses is ambiguous |
//! | contract namespace on create | `<AR_Customer xmlns="">`, what working Sage 100 clients send (a `$schema` `targetNamespace` is not used) |
//! | `AR_CustomerType` | available when `$schema` lists it; with no usable `$schema` the table is tried, and a 404 `ResourceKindNotFound` means "not available" |
//! | ship-method table | the first `$schema` resource kind whose name contains `ShipMethod` or `ShipVia` (e.g. `SO_ShipMethod`); none, or no `$schema`, means "not available". Codes from `ShipMethod`, `ShipVia`, `ShipMethodCode` or `ShipCode` |
//! | URL of a `$schema` table | a table found in `$schema` (ship methods, customer types) is read at its `sme:path`, else its `sme:pluralName`, else its element name; a value that is not a plain path segment (empty, `/`, `\`, `..`, `?`, `#`) is ignored |
//! | activity | a reference row is active unless a `…Status` column holds `I`/`Inactive` or an `Inactive…` flag holds `Y`/`Yes`/`true`/`1` |
//! | customer panel | balance `CurrentBalance` + `AgingCategory1..4` (those sent); credits (`CM`/`PP`/`PY`) negative whatever sign is sent; no `InvoiceAmt` → the balance is the amount; dates with or without a time, `1753-01-01` is blank; Sales Order absent from `$schema` or 404 `ResourceKindNotFound` → "not available". Each detail and its evidence: `docs/reference-panel-sage100.md` |
//!
//! Other decisions:
//!
//! - `$schema` is read at most once per gateway (only when an optional kind needs it); a failed
//!   read is not cached. A 400/404/405/501 on `$schema` that is not `ApplicationNotFound`,
//!   `ContractNotFound` or `DatasetNotFound` means "this server has no `$schema`".
//! - A required table (`AR_Division`, `AR_TermsCode`, `SY_SalesTaxSchedule`,
//!   `AR_Salesperson`) that is missing is an error, not "not available".
//! - Salesperson codes are `SalespersonDivisionNo-SalespersonNo` (`01-0100`), the form the
//!   domain checks promotions against; a row without either column is a protocol error.
//! - Records keep every column as text in element order (SData sends text; `0000123` and
//!   `5000.00` keep their spelling), [`ErpRecord::number`](crm2sage_domain::ErpRecord::number)
//!   parses numbers when asked. A column holding child elements (a related resource) is left
//!   out.
//! - The create's columns follow the spec's "Outcome" order (`ARDivisionNo`, `CustomerNo`,
//!   `CustomerName`, `AddressLine1..3`, `City`, `State`, `ZipCode`, `CountryCode` alpha-3,
//!   `TelephoneNo`, `EmailAddress`, `URLAddress`, `TermsCode`, `TaxSchedule`,
//!   `SalespersonDivisionNo`, `SalespersonNo`, `ShipMethod`, `CustomerType`, the CRM-id
//!   `UDF_…` column); nothing is sent empty; every text is XML-escaped. A salesperson typed
//!   without a division takes the customer's.
//! - A 2xx feed carrying an `error`/`fatal` diagnosis is an error (the list may be cut short);
//!   a 2xx create body that is not XML (a proxy's page) is ambiguous.
//! - 404 on `AR_Customer(DD;NO)` is "absent" only with a diagnosis that is not about the URL
//!   (`ResourceKindNotFound`, `DatasetNotFound`, … are errors); a bare 404 is an error.
//! - Ship-tos (`SO_ShipToAddress`) and contacts (`AR_CustomerContact`): see the
//!   `sage100::parties` module. `{Table}(DD;NO;CODE)` answered 404 is "none" unless its
//!   diagnoses are about the URL (a bare 404 is "none" there); the primary is a `PUT` of
//!   `AR_Customer(DD;NO)` carrying only its pointer column.
//! - The customer list (`startIndex`/`count` by `rel="next"`; `since` as `DateUpdated ge
//!   @YYYY-MM-DD@`, then `'YYYY-MM-DD'`, then unfiltered on 400s), the name lookup and the CRM-id
//!   `PUT` of only the UDF column: see the `sage100::customers` module and
//!   `docs/reference-customers.md`.
//!
//! Every write (customer, ship-to, contact, customer update) is classified by one set of rules
//! in `errors` — [`CreateCustomerError`] and [`ErpWriteError`] are both converted from it.
//!
//! [`CreateCustomerError`]: crm2sage_domain::ports::CreateCustomerError
//! [`ErpWriteError`]: crm2sage_domain::ports::ErpWriteError
//!
//! # Example
//!
//! ```no_run
//! # async fn demo(integration: crm2sage_domain::Integration) -> Result<(), Box<dyn std::error::Error>> {
//! use crm2sage_domain::ports::{ErpConnector, FixedCredentials};
//! use crm2sage_sage_adapter::{ClientSettings, SageConnector};
//!
//! let connector = SageConnector::new(ClientSettings::default());
//! let credentials = FixedCredentials::shared(secrecy::SecretString::from("WEBAPI"));
//! let gateway = connector.connect(&integration, credentials).await?;
//! gateway.test_connection().await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`ErpConnector`]: crm2sage_domain::ports::ErpConnector
//! [`ErpGateway`]: crm2sage_domain::ports::ErpGateway

mod connector;
mod errors;
mod headline;
mod http;
pub mod limits;
mod paging;
mod sage100;
mod sage300;
mod settings;
mod urls;

pub use connector::SageConnector;
pub use settings::ClientSettings;

/// The customer fields the adapter labels as a record's headline (each ERP has some of them):
/// what a promotion keeps of the create's answer
/// ([`ErpRecord::headline`](crm2sage_domain::ErpRecord::headline)). Public for the benchmarks'
/// bare baselines, which keep the same fields.
pub fn headline_fields() -> &'static [&'static str] {
    headline::HEADLINE
}
