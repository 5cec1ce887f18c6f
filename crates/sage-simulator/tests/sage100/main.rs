//! Integration tests of the Sage 100 SData simulator with plain reqwest calls and a small XML
//! tree (no adapter).
#![allow(clippy::unwrap_used)]

mod helpers;
mod xml;

mod contacts;
mod create;
mod customer_list;
mod faults;
mod paging;
mod panel;
mod put;
mod routes;
mod settings;
mod ship_tos;
mod where_clause;
