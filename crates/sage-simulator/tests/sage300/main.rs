//! Integration tests of the Sage 300 simulator with plain reqwest calls (no adapter).
#![allow(clippy::unwrap_used)]

mod helpers;

mod contacts;
mod create;
mod customer_list;
mod errors;
mod faults;
mod filter;
mod paging;
mod routes;
mod settings;
mod ship_tos;
