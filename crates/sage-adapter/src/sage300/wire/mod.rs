//! The Sage 300 JSON on the wire: private structs and functions that read pages, entities and
//! error bodies, and write the create payload. Nothing here leaves the crate; everything is
//! converted through the domain's constructors.
//!
//! One file per concern: [`page`] (list envelopes and entities), [`error`] (error bodies),
//! [`reference`] (reference rows and kinds), [`customer`] (customer records and the create
//! payload), [`party`] (ship-tos and contacts).

mod customer;
mod documents;
mod error;
mod page;
pub(crate) mod party;
mod reference;

use serde_json::{Map, Value};

use crate::errors::excerpt;

pub(crate) use customer::{
    OPTIONAL_FIELDS, create_payload, customer_number, customer_record, optional_field_patch, text,
};
pub(crate) use documents::{RawRow, amount, date, raw_text};
pub(crate) use error::parse_error;
pub(crate) use page::{
    Page, parse_entity, parse_page, parse_page_of, parse_reference_page, row_text, scan_next_link,
};
pub(crate) use reference::{CHECK_LANGUAGES, KindWire, kind_wire, reference_record};

/// One entity as Sage sent it, properties in order.
pub(crate) type Entity = Map<String, Value>;

/// A body that is not the documented shape: why, and an excerpt.
pub(crate) fn protocol(what: &str, body: &[u8]) -> String {
    format!("{what}: {}", excerpt(body))
}

fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body)
}
