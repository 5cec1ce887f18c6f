//! Creating a customer's parts: `POST SO_ShipToAddress` (key `ARDivisionNo;CustomerNo;ShipToCode`)
//! and `POST AR_CustomerContact` (key `ARDivisionNo;CustomerNo;ContactCode`).
//!
//! Checks, in order, each answered with an `ApplicationDiagnosis` pointing at the column: the
//! body is an `application/atom+xml` entry of the table (415 / 400, as a customer create); every
//! column is the table's (400); the key is given and well-formed, normalised as a customer's
//! (the division zero-filled, a short all-digit number zero-filled to 7, the code trimmed and
//! upper-cased) and the code fits its length (400); every text fits its length (400, "The
//! ShipToName is greater than 30 character(s)."); the customer is on file (400, "The CustomerNo
//! 01-ZZZ is not on file.", as a create naming an unknown salesperson); the key is new (409 / 400
//! per [`DuplicateStatus`], "… already exists.", as a duplicate customer) \[UNSURE\].

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};

use super::create::{customer_key, posted_entry};
use super::errors::ApiError;
use super::{ENTRY_TYPE, RequestCtx, Shared, esc_path};
use crate::pipeline::{self, Outcome};
use crate::sage100::config::DuplicateStatus;
use crate::sage100::data::Sage100Record;
use crate::sage100::schema::Sage100Resource;
use crate::sdata::key;

impl Shared {
    /// `POST` of a ship-to address or a contact (`resource`).
    pub(super) fn create_part(
        &self,
        ctx: &RequestCtx,
        resource: Sage100Resource,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Outcome, ApiError> {
        let kind = resource.name();
        let posted = posted_entry(headers, body, kind)?;
        for (c, _) in &posted.columns {
            if resource.column(c).is_none() {
                return Err(ApiError::app(
                    StatusCode::BAD_REQUEST,
                    format!("{kind} has no column '{c}'."),
                )
                .at_in(kind, c));
            }
        }
        let given = |c: &str| {
            posted
                .columns
                .iter()
                .find(|(n, _)| n == c)
                .and_then(|(_, v)| v.clone())
                .filter(|v| !v.trim().is_empty())
        };
        let code = |c: &str| given(c).map(|v| v.trim().to_uppercase());

        let (division, number) = customer_key(code("ARDivisionNo"), code("CustomerNo"), kind)?;
        let code_column = resource.keys()[2];
        let part_code = code(code_column).ok_or_else(|| {
            ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The {code_column} is required."),
            )
            .at_in(kind, code_column)
        })?;
        if !part_code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The {code_column} '{part_code}' is invalid; use letters and digits."),
            )
            .at_in(kind, code_column));
        }

        // Lengths and formats, in column order.
        let mut row = Sage100Record::new();
        for c in resource.columns() {
            let value = match c.name {
                "ARDivisionNo" => Some(division.clone()),
                "CustomerNo" => Some(number.clone()),
                n if n == code_column => Some(part_code.clone()),
                n => given(n),
            };
            let value = match value {
                Some(v) => Some(self.checked_value(resource, c, v)?),
                None => None,
            };
            row.set(c.name, value.as_deref());
        }

        let mut tables = self.tables();
        if !tables.contains(Sage100Resource::Customers, &[&division, &number]) {
            return Err(ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The CustomerNo {division}-{number} is not on file."),
            )
            .at_in(kind, "CustomerNo"));
        }
        if tables.contains(resource, &[&division, &number, &part_code]) {
            let status = match self.settings.duplicate_status {
                DuplicateStatus::Conflict409 => StatusCode::CONFLICT,
                DuplicateStatus::BadRequest400 => StatusCode::BAD_REQUEST,
            };
            return Err(ApiError::app(
                status,
                format!("The {code_column} {division}-{number}-{part_code} already exists."),
            )
            .at_in(kind, code_column));
        }
        if let Err(e) = tables.insert(resource, row.clone()) {
            return Err(ApiError::app(StatusCode::INTERNAL_SERVER_ERROR, e));
        }
        tables.note_create(resource);
        drop(tables);

        Ok(self.common.answer_create(|| {
            let xml = self.entry_xml(ctx, resource, &row, None, true);
            let status = self.settings.create_status.status_code();
            let mut resp = self.xml_response(status, ENTRY_TYPE, xml);
            if status == StatusCode::CREATED {
                let selector =
                    key::format_key(&[&division, &number, &part_code], self.settings.id_form());
                let location = format!("{}/{kind}({})", ctx.company_url, esc_path(&selector));
                pipeline::set_location(&mut resp, &location);
            }
            resp
        }))
    }
}
