//! Contract suites: one per port family, written once and run against every implementation —
//! the fakes here, SQLite in `crm2sage-store-sqlite`, the Sage adapters on the simulator — so a
//! fake cannot drift from the truth. Each suite panics with a message naming the broken rule.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use crm2sage_domain::{contract, fakes::MemoryStore};
//! contract::stores::run(|| async { Arc::new(MemoryStore::new()) }).await;
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod erp;
pub mod stores;
