//! **crm2sage** for Rust services: promote CRM accounts to Sage 300 / Sage 100 customers,
//! exactly once. This crate is the one dependency a service adds.
//!
//! ```toml
//! [dependencies]
//! crm2sage = { path = "…/crates/crm2sage" }
//! ```
//!
//! Build a [`Crm2Sage`] once with [`Crm2Sage::builder`], clone it into every handler, and run
//! the workflow: [`add_integration`](Crm2Sage::add_integration) (one ERP company),
//! [`sync`](Crm2Sage::sync) (its prerequisite reference data),
//! [`create_account`](Crm2Sage::create_account), [`promote`](Crm2Sage::promote) and
//! [`erp_details`](Crm2Sage::erp_details) (the customer, live from the ERP); then
//! [`promote_batch`](Crm2Sage::promote_batch), [`recover`](Crm2Sage::recover),
//! [`log`](Crm2Sage::log). `examples/quickstart.rs` runs the five steps against the built-in
//! simulator.
//!
//! # What is here
//!
//! - The facade: [`Crm2Sage`], [`Crm2SageBuilder`], [`BuildError`], [`DynServices`].
//! - **Every public item of `crm2sage-domain` at the crate root** (`crm2sage::NewAccount`,
//!   `crm2sage::PromotionRequest`, …), with its modules [`ports`] (the traits to implement
//!   your own store, ERP connector or secret provider, and the port errors) and [`services`]
//!   (the service errors and reports); the crate itself is [`domain`].
//! - [`SecretString`] (and [`secrecy`]), to hand secrets over without exposing them.
//! - The Sage adapter: [`SageConnector`], [`ClientSettings`]; [`reqwest`], to build a client
//!   for [`Crm2SageBuilder::reqwest_client`].
//! - The host adapters: [`EnvSecrets`], [`MemorySecrets`], [`OsProcesses`] (with its
//!   [`HostId`]).
//! - The SQLite store, [`SqliteStore`] (features `sqlite` / `sqlite-system`).
//! - The PostgreSQL store, [`PostgresStore`] with its [`PgSettings`] (feature `postgres`),
//!   for several workers and hosts on one database, and [`copy_sqlite_to_postgres`] to move
//!   a SQLite store into one (docs/deployment.md).
//! - The simulator, `crm2sage::simulator` (feature `simulator`; for examples and tests).
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `sqlite` | yes | the SQLite store, SQLite compiled in |
//! | `postgres` | yes | the PostgreSQL store ([`Crm2SageBuilder::postgres`]) and the copy into it |
//! | `sqlite-system` | no | the SQLite store linked to the system's `libsqlite3` (with `default-features = false`) |
//! | `rustls` | yes | TLS by rustls |
//! | `native-tls` | no | TLS by the platform (OpenSSL on Linux; its development files are needed to build) |
//! | `simulator` | no | `crm2sage::simulator`: in-process Sage 300 / Sage 100 servers |
//!
//! Without `rustls` or `native-tls` only `http://` ERPs can be reached (the integration must
//! allow plain HTTP). Without a SQLite feature, give the builder your own store.
//!
//! # Cancellation
//!
//! Every async method says what dropping its future does. In short: a promotion, each row of
//! a batch and a recovery run on their own Tokio task to their end, whatever happens to the
//! caller's future; reads just stop; a sync stops at its next await point.
#![deny(missing_docs)]

mod builder;
mod facade;
mod links;
mod parties;
mod party_promotions;
#[cfg(feature = "postgres")]
mod postgres;

pub use builder::{BuildError, Crm2SageBuilder};
pub use facade::{Crm2Sage, DynServices};
pub use party_promotions::PartyOutcomes;

/// The domain crate, whole. Its public items are also at this crate's root.
pub use crm2sage_domain as domain;
pub use crm2sage_domain::*;

pub use secrecy::{self, ExposeSecret, SecretString};

pub use reqwest;
/// The async runtime crm2sage runs on (reqwest's, and the one promotions are spawned on): a
/// program with none of its own can start one with `crm2sage::tokio::runtime::Runtime::new()`.
pub use tokio;

pub use crm2sage_sage_adapter::{ClientSettings, SageConnector};

pub use crm2sage_host::{EnvSecrets, HostId, HostIdError, MemorySecrets, OsProcesses};

#[cfg(any(feature = "sqlite", feature = "sqlite-system"))]
pub use crm2sage_store_sqlite::SqliteStore;

#[cfg(feature = "postgres")]
pub use crm2sage_store_postgres::{PgSettings, PgStoreError, PostgresStore, redact_url};
#[cfg(all(
    feature = "postgres",
    any(feature = "sqlite", feature = "sqlite-system")
))]
pub use postgres::copy_sqlite_to_postgres;
#[cfg(feature = "postgres")]
pub use postgres::{COPY_PAGE, CopyStoreError};

/// In-process Sage 300 and Sage 100 servers speaking the real wire formats (feature
/// `simulator`): for examples, tests and demos, never for production. This is the
/// `crm2sage-sage-simulator` crate.
#[cfg(feature = "simulator")]
pub use crm2sage_sage_simulator as simulator;
