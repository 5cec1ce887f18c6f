//! The suites on the real pieces: the domain services over the Sage adapter (`SageConnector`)
//! and the SQLite store, against the Sage 300 and Sage 100 simulators on 127.0.0.1 — the seed
//! workflows and the exactly-once fault scenarios.

#[path = "exactly_once.rs"]
mod exactly_once;
#[path = "sage100.rs"]
mod sage100;
#[path = "sage300.rs"]
mod sage300;
