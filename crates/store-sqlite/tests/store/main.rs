//! The SQLite store: the domain's store contract, plus what only a real file can show —
//! durability, races between processes, failed syncs, damaged and newer files, secrets.
#![allow(clippy::unwrap_used)]

mod concurrency;
mod contract;
mod copy;
mod files;
mod helpers;
mod workflow;
