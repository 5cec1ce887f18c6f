//! Updating: `PUT AR_Customer(01;ABC)` with an entry carrying the columns to change (how the
//! adapter sets `PrimaryShipToCode` and `ContactCode`).
//!
//! Checks, in order: the selector (as a read's); the customer is on file (404, as a read); the
//! body is an `application/atom+xml` entry of an `AR_Customer` (415 / 400); every column is the
//! table's or a `UDF_` one (400); a key column sent names this customer (400: the key cannot
//! change); texts fit their lengths, numbers and dates parse (400); `PrimaryShipToCode` names one
//! of the customer's `SO_ShipToAddress` rows and `ContactCode` one of its `AR_CustomerContact`
//! rows, `TermsCode`, `TaxSchedule`, the salesperson, `CustomerType` (table on) and `ShipMethod`
//! (table on) are on file, `CreditHold` is Y/N and `CustomerStatus` A/I/T (400 "… is not on
//! file.", as on create). A blank or nil value clears a column. The columns the server maintains
//! (`CurrentBalance`, `AgingCategory1..4`, `DateEstablished`, `DateUpdated`) are not taken from
//! the payload; `DateUpdated` becomes today. Columns left out stay as they are, or become null
//! under [`PutSemantics::Replace`]. The answer is 200 with the updated entry.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::create::{customer_key, posted_entry, today, zero_fill};
use super::errors::ApiError;
use super::{AGING, ENTRY_TYPE, RequestCtx, Shared};
use crate::sage100::config::PutSemantics;
use crate::sage100::schema::{Sage100Resource, is_udf};

/// Columns only the server writes.
const MAINTAINED: [&str; 7] = [
    "CurrentBalance",
    AGING[0],
    AGING[1],
    AGING[2],
    AGING[3],
    "DateEstablished",
    "DateUpdated",
];

impl Shared {
    pub(super) fn update_customer(
        &self,
        ctx: &RequestCtx,
        selector: &str,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Response, ApiError> {
        let resource = Sage100Resource::Customers;
        let kind = resource.name();
        let key = self.selector_key(resource, selector)?;
        let not_found = || {
            ApiError::app(
                StatusCode::NOT_FOUND,
                format!("The {kind} record ({}) was not found.", key.join(";")),
            )
        };
        if self.tables().get(resource, &key).is_none() {
            return Err(not_found());
        }
        let posted = posted_entry(headers, body, kind)?;
        for (c, _) in &posted.columns {
            if resource.column(c).is_none() && !is_udf(c) {
                return Err(ApiError::app(
                    StatusCode::BAD_REQUEST,
                    format!("{kind} has no column '{c}'."),
                )
                .at(c));
            }
        }
        let sent = |c: &str| posted.columns.iter().any(|(n, _)| n == c);
        let given = |c: &str| {
            posted
                .columns
                .iter()
                .find(|(n, _)| n == c)
                .and_then(|(_, v)| v.clone())
                .filter(|v| !v.trim().is_empty())
        };
        let code = |c: &str| given(c).map(|v| v.trim().to_uppercase());
        let (division, number) = (key[0].clone(), key[1].clone());
        if sent("ARDivisionNo") || sent("CustomerNo") {
            let (d, n) = customer_key(
                code("ARDivisionNo").or_else(|| Some(division.clone())),
                code("CustomerNo").or_else(|| Some(number.clone())),
                kind,
            )?;
            if (d.as_str(), n.as_str()) != (division.as_str(), number.as_str()) {
                return Err(ApiError::app(
                    StatusCode::BAD_REQUEST,
                    format!("The key of {kind}({division};{number}) cannot be changed to {d}-{n}."),
                )
                .at("CustomerNo"));
            }
        }

        // The new values, checked; `None` clears the column.
        let mut changes: Vec<(&str, Option<String>)> = Vec::new();
        for c in resource.columns() {
            if resource.keys().contains(&c.name) || MAINTAINED.contains(&c.name) {
                continue;
            }
            if !sent(c.name) {
                if self.settings.put_semantics == PutSemantics::Replace {
                    changes.push((c.name, None));
                }
                continue;
            }
            let value = match given(c.name) {
                Some(v) => Some(self.checked_value(resource, c, v)?),
                None => None,
            };
            changes.push((c.name, value));
        }

        let mut tables = self.tables();
        let Some(mut row) = tables.get(resource, &key).cloned() else {
            return Err(not_found());
        };
        let not_on_file = |col: &str, v: &str| {
            ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The {col} {v} is not on file."),
            )
            .at(col)
        };
        for (col, value) in &mut changes {
            let Some(v) = value.as_mut() else {
                continue;
            };
            let upper = v.trim().to_uppercase();
            let exists = match *col {
                "PrimaryShipToCode" => Some(tables.contains(
                    Sage100Resource::ShipToAddresses,
                    &[&division, &number, &upper],
                )),
                "ContactCode" => Some(tables.contains(
                    Sage100Resource::CustomerContacts,
                    &[&division, &number, &upper],
                )),
                "TermsCode" => {
                    *v = zero_fill(&upper, 2);
                    Some(tables.contains(Sage100Resource::Terms, &[v.as_str()]))
                }
                "TaxSchedule" => Some(tables.contains(Sage100Resource::TaxSchedules, &[&upper])),
                "CustomerType" if self.settings.customer_type_table => {
                    Some(tables.contains(Sage100Resource::CustomerTypes, &[&upper]))
                }
                "ShipMethod" if self.settings.ship_method_table.is_some() => {
                    Some(tables.contains(Sage100Resource::ShipMethods, &[&upper]))
                }
                "CreditHold" | "CustomerStatus" => {
                    let allowed: &[&str] = if *col == "CreditHold" {
                        &["Y", "N"]
                    } else {
                        &["A", "I", "T"]
                    };
                    if !allowed.contains(&upper.as_str()) {
                        return Err(ApiError::app(
                            StatusCode::BAD_REQUEST,
                            format!("The {col} '{upper}' is invalid; expected one of {allowed:?}."),
                        )
                        .at(col));
                    }
                    None
                }
                _ => None,
            };
            let is_code = matches!(
                *col,
                "PrimaryShipToCode"
                    | "ContactCode"
                    | "TaxSchedule"
                    | "CustomerType"
                    | "ShipMethod"
                    | "CreditHold"
                    | "CustomerStatus"
                    | "SalespersonDivisionNo"
                    | "SalespersonNo"
            );
            if is_code {
                *v = upper;
            }
            if exists == Some(false) {
                let shown = match *col {
                    "PrimaryShipToCode" | "ContactCode" => format!("{division}-{number}-{v}"),
                    _ => v.clone(),
                };
                return Err(not_on_file(col, &shown));
            }
        }
        let current = |c: &str| {
            changes
                .iter()
                .find(|(n, _)| *n == c)
                .map_or_else(|| row.get(c).map(str::to_owned), |(_, v)| v.clone())
        };
        if sent("SalespersonDivisionNo") || sent("SalespersonNo") {
            let sp_division = current("SalespersonDivisionNo")
                .map(|d| zero_fill(&d, 2))
                .unwrap_or_else(|| division.clone());
            let Some(sp_no) = current("SalespersonNo") else {
                return Err(ApiError::app(
                    StatusCode::BAD_REQUEST,
                    "The SalespersonNo is required.",
                )
                .at("SalespersonNo"));
            };
            if !tables.contains(Sage100Resource::Salespersons, &[&sp_division, &sp_no]) {
                return Err(not_on_file(
                    "SalespersonNo",
                    &format!("{sp_division}-{sp_no}"),
                ));
            }
        }
        for (col, value) in &changes {
            row.set(col, value.as_deref());
        }
        let replace = self.settings.put_semantics == PutSemantics::Replace;
        let udfs: Vec<String> = row
            .columns()
            .map(|(c, _)| c.to_owned())
            .filter(|c| is_udf(c))
            .collect();
        for c in udfs {
            if replace && !sent(&c) {
                row.set(&c, None);
            }
        }
        for (c, v) in &posted.columns {
            if is_udf(c) {
                row.set(c, v.as_deref());
            }
        }
        row.set("DateUpdated", Some(&today()));
        if let Err(e) = tables.insert(resource, row.clone()) {
            return Err(ApiError::app(StatusCode::INTERNAL_SERVER_ERROR, e));
        }
        drop(tables);
        let xml = self.entry_xml(ctx, resource, &row, None, true);
        Ok(self.xml_response(StatusCode::OK, ENTRY_TYPE, xml))
    }
}
