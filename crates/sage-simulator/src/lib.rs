//! An in-process Sage stand-in that speaks the real wire format, for tests, benchmarks and the
//! demo.
//!
//! # What it is
//!
//! Two flavours, each a small HTTP server (axum on tokio):
//!
//! - **Sage 300** ([`sage300`]): behaves like a Sage 300 Web API server as
//!   `reference/sage300-web-api.md` describes it: the same URLs, HTTP Basic, OData v4 lists with
//!   `$filter`/`$select`/`$top`/`$skip`/`$count` and server paging, the OData error body with
//!   Sage's codes and statuses, and `POST AR/ARCustomers` with the business rules that matter to
//!   a promotion (group defaults, unknown codes, duplicates); a customer's ship-to locations
//!   (`AR/ARShipToLocations`), contacts (`MT/MTContacts`, per [`Sage300Config::contacts`]) and
//!   `PATCH AR/ARCustomers('KEY')` for its primary ship-to and contact fields.
//! - **Sage 100** ([`sage100`]): behaves like a Sage 100 SData provider as
//!   `reference/sage100.md` describes it: `/sdata/MasApp/MasContract/{COMPANY}/{Table}`, HTTP
//!   Basic, Atom feeds with OpenSearch totals and `next` links, `where=`, single records
//!   `AR_Customer(01;ABC)`, `$schema`, SData diagnoses, and `POST AR_Customer` with Sage 100's
//!   validation (divisions, terms, tax schedules, salespersons, customer types, lengths,
//!   duplicates, `UDF_` columns); a customer's ship-to addresses (`SO_ShipToAddress`) and
//!   contacts (`AR_CustomerContact`), and `PUT AR_Customer(01;ABC)` for its primary pointers.
//!
//! State lives in memory.
//!
//! # Why it exists
//!
//! No real Sage server is reachable from CI or a laptop. Every detail the reference marks
//! \[UNSURE\] is a setting ([`Sage300Config`], [`Sage100Config`]), so the adapter can be tested against each variant;
//! faults ([`Faults`]) make the unhappy paths reproducible: latency, a seeded error rate, a
//! concurrency limit, a create that commits and then drops the connection, a response slower than
//! the client's timeout.
//!
//! # Where it may be used
//!
//! It is a test fixture. The library crates (`domain`, `sage-adapter`, `store-sqlite`) may use it
//! only as a **dev-dependency**; the CLI links it for `demo` and `simulate`. Nothing in a
//! production path depends on it.
//!
//! # Layout
//!
//! - common pieces any flavour reuses: [`Faults`] (fault injection), [`LoggedRequest`] (the
//!   request log), HTTP Basic checking, the server loop that can drop one connection, the one
//!   request pipeline (logging, auth, faults, commit-then-drop, latency) every request goes
//!   through, and the methods both `Running…` handles share ([`RunningSage300`],
//!   [`RunningSage100`]);
//! - [`odata`]: the pure OData pieces (`$filter` parser and evaluator, entity keys, query options);
//! - [`sdata`]: the pure SData pieces (`where` parser and evaluator, resource selectors);
//! - [`sage300`]: the Sage 300 Web API flavour;
//! - [`sage100`]: the Sage 100 SData flavour.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use crm2sage_sage_simulator::{Sage300Config, start_sage300};
//!
//! let sim = start_sage300(Sage300Config::default()).await?;
//! // e.g. http://127.0.0.1:54321/Sage300WebApi, company SAMLTD, user WEBAPI/WEBAPI
//! let url = format!("{}/v1.0/-/{}/AR/ARCustomerGroups", sim.base_url(), sim.company());
//! # let _ = url;
//! assert!(sim.customer("1100").is_some());
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use crm2sage_sage_simulator::{Sage100Config, start_sage100};
//!
//! let sim = start_sage100(Sage100Config::default()).await?;
//! // e.g. http://127.0.0.1:54321/sdata/MasApp/MasContract, company ABC, user sdata/sdata
//! let url = format!("{}/{}/AR_Customer(01;ABF)", sim.base_url(), sim.company());
//! # let _ = url;
//! assert!(sim.customer("01", "ABF").is_some());
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod auth;
mod error;
mod faults;
mod log;
pub mod odata;
mod pipeline;
mod running;
pub mod sage100;
pub mod sage300;
pub mod sdata;
mod server;

pub use error::SimulatorError;
pub use faults::{DropAfterCommit, Faults};
pub use log::LoggedRequest;
pub use sage100::{
    DiagnosisStyle, DuplicateStatus, KeySyntax, PutSemantics, ResourceNamespace, RunningSage100,
    SDataNextLink, SUGGESTED_SHIP_METHOD_TABLE, Sage100Catalogue, Sage100Config, Sage100Data,
    Sage100Record, Sage100Resource, start_sage100, start_sage100_on,
};
pub use sage300::{
    Catalogue, CountStyle, CreateStatus, DateStyle, ErrorContentType, KeyRejection, LowercaseKeys,
    NextLinkStyle, PatchStatus, RunningSage300, Sage300Config, Sage300Data, Sage300Record,
    Sage300Resource, TermsKey, UnknownCompany, UnknownCustomer, posted_document, start_sage300,
    start_sage300_on,
};
