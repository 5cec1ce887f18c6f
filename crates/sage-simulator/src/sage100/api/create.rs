//! Creating: `POST AR_Customer` with Sage 100's validation and defaults.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};

use super::errors::ApiError;
use super::{AGING, ENTRY_TYPE, RequestCtx, Shared, esc_path};
use crate::pipeline::{self, Outcome};
use crate::sage100::config::DuplicateStatus;
use crate::sage100::data::Sage100Record;
use crate::sage100::panel_data;
use crate::sage100::schema::{Column, Sage100Resource, is_udf};
use crate::sdata::atom;
use crate::sdata::key;
use crate::sdata::where_clause::{self, ColumnKind};

impl Shared {
    pub(super) fn create_customer(
        &self,
        ctx: &RequestCtx,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Outcome, ApiError> {
        let resource = Sage100Resource::Customers;
        let posted = posted_entry(headers, body, resource.name())?;
        for (c, _) in &posted.columns {
            if resource.column(c).is_none() && !is_udf(c) {
                return Err(ApiError::app(
                    StatusCode::BAD_REQUEST,
                    format!("AR_Customer has no column '{c}'."),
                )
                .at(c));
            }
        }
        let given = |c: &str| {
            posted
                .columns
                .iter()
                .find(|(n, _)| n == c)
                .and_then(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let code = |c: &str| given(c).map(|v| v.trim().to_uppercase());

        // The key.
        let (division, number) =
            customer_key(code("ARDivisionNo"), code("CustomerNo"), resource.name())?;

        let mut tables = self.tables();
        if !tables.contains(Sage100Resource::Divisions, &[&division]) {
            return Err(ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The ARDivisionNo {division} is not on file."),
            )
            .at("ARDivisionNo"));
        }
        if tables.contains(resource, &[&division, &number]) {
            let status = match self.settings.duplicate_status {
                DuplicateStatus::Conflict409 => StatusCode::CONFLICT,
                DuplicateStatus::BadRequest400 => StatusCode::BAD_REQUEST,
            };
            return Err(ApiError::app(
                status,
                format!("The customer {division}-{number} already exists."),
            )
            .at("CustomerNo"));
        }

        // Lengths and formats, in column order.
        let mut row = Sage100Record::new();
        for c in resource.columns() {
            let Some(v) = given(c.name) else {
                row.set(c.name, None);
                continue;
            };
            let v = self.checked_value(resource, c, v)?;
            row.set(c.name, Some(&v));
        }
        for (c, v) in &posted.columns {
            if is_udf(c) {
                row.set(c, v.as_deref());
            }
        }
        row.set("ARDivisionNo", Some(&division));
        row.set("CustomerNo", Some(&number));

        // Codes: upper-cased, then checked against their tables.
        let not_on_file = |col: &str, v: &str| {
            ApiError::app(
                StatusCode::BAD_REQUEST,
                format!("The {col} {v} is not on file."),
            )
            .at(col)
        };
        if let Some(terms) = code("TermsCode") {
            let terms = zero_fill(&terms, 2);
            if !tables.contains(Sage100Resource::Terms, &[&terms]) {
                return Err(not_on_file("TermsCode", &terms));
            }
            row.set("TermsCode", Some(&terms));
        }
        if let Some(tax) = code("TaxSchedule") {
            if !tables.contains(Sage100Resource::TaxSchedules, &[&tax]) {
                return Err(not_on_file("TaxSchedule", &tax));
            }
            row.set("TaxSchedule", Some(&tax));
        }
        let sp_division = code("SalespersonDivisionNo")
            .map(|d| zero_fill(&d, 2))
            .unwrap_or_else(|| division.clone());
        let Some(sp_no) = code("SalespersonNo") else {
            return Err(
                ApiError::app(StatusCode::BAD_REQUEST, "The SalespersonNo is required.")
                    .at("SalespersonNo"),
            );
        };
        if !tables.contains(Sage100Resource::Salespersons, &[&sp_division, &sp_no]) {
            return Err(not_on_file(
                "SalespersonNo",
                &format!("{sp_division}-{sp_no}"),
            ));
        }
        row.set("SalespersonDivisionNo", Some(&sp_division));
        row.set("SalespersonNo", Some(&sp_no));
        if let Some(t) = code("CustomerType") {
            if self.settings.customer_type_table
                && !tables.contains(Sage100Resource::CustomerTypes, &[&t])
            {
                return Err(not_on_file("CustomerType", &t));
            }
            row.set("CustomerType", Some(&t));
        }
        if let Some(m) = code("ShipMethod") {
            if self.settings.ship_method_table.is_some()
                && !tables.contains(Sage100Resource::ShipMethods, &[&m])
            {
                return Err(not_on_file("ShipMethod", &m));
            }
            row.set("ShipMethod", Some(&m));
        }
        for (col, allowed) in [
            ("CreditHold", &["Y", "N"][..]),
            ("CustomerStatus", &["A", "I", "T"][..]),
        ] {
            if let Some(v) = code(col) {
                if !allowed.contains(&v.as_str()) {
                    return Err(ApiError::app(
                        StatusCode::BAD_REQUEST,
                        format!("The {col} '{v}' is invalid; expected one of {allowed:?}."),
                    )
                    .at(col));
                }
                row.set(col, Some(&v));
            }
        }

        // Defaults and server-maintained columns.
        let today = today();
        for (col, default) in [
            ("CustomerStatus", "A"),
            ("CreditHold", "N"),
            ("CreditLimit", "0.00"),
            ("DateEstablished", today.as_str()),
        ] {
            if row.get(col).is_none() {
                row.set(col, Some(default));
            }
        }
        // The balance follows the open invoices already on file for this key (none, unless
        // seeded ahead, as the demo does), aged as of today.
        let prefix = [division.clone(), number.clone()];
        let parts = panel_data::aged_parts(
            tables.rows_with_prefix(Sage100Resource::OpenInvoices, &prefix),
            panel_data::today(),
        );
        for (c, v) in ["CurrentBalance", AGING[0], AGING[1], AGING[2], AGING[3]]
            .into_iter()
            .zip(parts)
        {
            row.set(c, Some(&v));
        }
        row.set("DateUpdated", Some(&today));

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
                let selector = key::format_key(&[&division, &number], self.settings.id_form());
                let location = format!("{}/AR_Customer({})", ctx.company_url, esc_path(&selector));
                pipeline::set_location(&mut resp, &location);
            }
            resp
        }))
    }
}

impl Shared {
    /// A posted value of column `c` of `resource` as stored: a text within its length, a
    /// number with two decimals, a date `YYYY-MM-DD`; else the diagnosis at the column.
    pub(super) fn checked_value(
        &self,
        resource: Sage100Resource,
        c: &Column,
        v: String,
    ) -> Result<String, ApiError> {
        let kind = resource.name();
        Ok(match c.kind {
            ColumnKind::Text => {
                if let Some(max) = self.settings.max_len(resource, c.name)
                    && v.chars().count() > max
                {
                    return Err(ApiError::app(
                        StatusCode::BAD_REQUEST,
                        format!("The {} is greater than {max} character(s).", c.name),
                    )
                    .at_in(kind, c.name));
                }
                v
            }
            ColumnKind::Number => {
                let n: f64 = v.trim().parse().map_err(|_| {
                    ApiError::app(
                        StatusCode::BAD_REQUEST,
                        format!("The {} '{v}' is not a number.", c.name),
                    )
                    .at_in(kind, c.name)
                })?;
                format!("{n:.2}")
            }
            ColumnKind::Date => {
                if where_clause::parse(&format!("X eq @{}@", v.trim())).is_err() {
                    return Err(ApiError::app(
                        StatusCode::BAD_REQUEST,
                        format!("The {} '{v}' is not a date (YYYY-MM-DD).", c.name),
                    )
                    .at_in(kind, c.name));
                }
                v.trim().to_owned()
            }
        })
    }
}

/// The resource an `application/atom+xml` entry body posts (or puts), which must be of kind
/// `kind`; the diagnosis of the ERP otherwise (415 for another media type, 400 for a body that
/// is not such an entry).
pub(super) fn posted_entry(
    headers: &HeaderMap,
    body: &Bytes,
    kind: &str,
) -> Result<atom::PostedResource, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/atom+xml") {
        return Err(ApiError::app(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "The Content-Type '{content_type}' is not supported; send application/atom+xml; type=entry."
            ),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::app(StatusCode::BAD_REQUEST, "The request body is not UTF-8."))?;
    let posted = atom::parse_entry(text).map_err(|e| {
        let mut err = ApiError::app(StatusCode::BAD_REQUEST, e.message);
        if let Some(c) = e.path {
            err = err.at_in(kind, &c);
        }
        err
    })?;
    if posted.kind != kind {
        return Err(ApiError::app(
            StatusCode::BAD_REQUEST,
            format!("The payload holds <{}>; <{kind}> is expected.", posted.kind),
        ));
    }
    Ok(posted)
}

/// The customer key a posted resource of kind `kind` gives (`ARDivisionNo`, `CustomerNo`, both
/// trimmed and upper-cased): the division zero-filled to two digits, an all-digit number of 7 or
/// fewer digits zero-filled to 7; the diagnosis when one is missing or malformed.
pub(super) fn customer_key(
    division: Option<String>,
    number: Option<String>,
    kind: &str,
) -> Result<(String, String), ApiError> {
    let division = division.ok_or_else(|| {
        ApiError::app(StatusCode::BAD_REQUEST, "The ARDivisionNo is required.")
            .at_in(kind, "ARDivisionNo")
    })?;
    let division = zero_fill(&division, 2);
    if division.len() != 2 || !division.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::app(
            StatusCode::BAD_REQUEST,
            format!("The ARDivisionNo '{division}' is invalid; it is two digits."),
        )
        .at_in(kind, "ARDivisionNo"));
    }
    let number = number.ok_or_else(|| {
        ApiError::app(StatusCode::BAD_REQUEST, "The CustomerNo is required.")
            .at_in(kind, "CustomerNo")
    })?;
    if !number.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::app(
            StatusCode::BAD_REQUEST,
            format!("The CustomerNo '{number}' is invalid; use letters and digits."),
        )
        .at_in(kind, "CustomerNo"));
    }
    if number.chars().count() > 20 {
        return Err(ApiError::app(
            StatusCode::BAD_REQUEST,
            format!("The CustomerNo is greater than 20 character(s): '{number}'."),
        )
        .at_in(kind, "CustomerNo"));
    }
    let number = if number.len() <= 7 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("{number:0>7}")
    } else {
        number
    };
    Ok((division, number))
}

/// `1` → `01` for a one-digit code of a two-digit zero-filled column.
pub(super) fn zero_fill(v: &str, width: usize) -> String {
    if !v.is_empty() && v.len() < width && v.bytes().all(|b| b.is_ascii_digit()) {
        format!("{v:0>width$}")
    } else {
        v.to_owned()
    }
}

/// Today, `YYYY-MM-DD` (UTC).
pub(super) fn today() -> String {
    let (y, m, d) = pipeline::today_ymd();
    format!("{y:04}-{m:02}-{d:02}")
}
