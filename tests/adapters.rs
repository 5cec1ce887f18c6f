//! The suites on the real pieces: the domain services over the Sage adapter (`SageConnector`)
//! and the SQLite store, against the Sage 300 and Sage 100 simulators on 127.0.0.1 — the seed
//! workflows, the exactly-once fault scenarios and secret rotation.

#[path = "exactly_once.rs"]
mod exactly_once;
#[path = "rotation.rs"]
mod rotation;
#[path = "sage100.rs"]
mod sage100;
#[path = "sage300.rs"]
mod sage300;
