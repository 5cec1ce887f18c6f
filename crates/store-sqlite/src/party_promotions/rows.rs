//! The row codec of `party_promotions`: a [`PartyPromotion`] to its columns and back. A row
//! that no longer parses is [`StoreError::Corrupt`] naming the column, never a panic.

use rusqlite::{Connection, Row, params};

use crm2sage_domain::ports::{ErpCustomerKey, StoreError};
use crm2sage_domain::{
    AccountId, ArDivision, CustomerNo, ErpKind, ExternalUid, IntegrationId, PartyCode, PartyKind,
    PartyPromotion, PromotionId, PromotionState,
};

use crate::db::{col, known, parse_ts, parsed, parsed_opt, select_by_seq, ts};
use crate::lease;

pub(super) const TABLE: &str = "party_promotions";

/// Every column but `seq`, in the order [`insert`] binds them.
pub(crate) const COLUMNS: &str = "id, account_id, integration_id, kind, code, division, \
     customer_no, external_uid, state, lease_host, lease_pid, lease_process_start, lease_task, \
     lease_expires_at, error, created_at, updated_at";

fn party_from_row(row: &Row<'_>) -> Result<PartyCode, StoreError> {
    let kind = parsed(row, TABLE, "kind", known("party kind", PartyKind::parse))?;
    parsed(row, TABLE, "code", |raw| PartyCode::parse(kind, raw))
}

/// The customer key: a division makes it Sage 100's, none Sage 300's.
fn customer_from_row(row: &Row<'_>) -> Result<ErpCustomerKey, StoreError> {
    let division = parsed_opt(row, TABLE, "division", ArDivision::parse)?;
    let erp = if division.is_some() {
        ErpKind::Sage100
    } else {
        ErpKind::Sage300
    };
    Ok(ErpCustomerKey {
        division,
        customer_no: parsed(row, TABLE, "customer_no", |raw| CustomerNo::parse(erp, raw))?,
    })
}

/// A row of [`COLUMNS`] as a party promotion.
///
/// # Errors
/// [`StoreError::Corrupt`] naming the column that does not parse.
pub(crate) fn from_row(row: &Row<'_>) -> Result<PartyPromotion, StoreError> {
    Ok(PartyPromotion {
        id: parsed(row, TABLE, "id", PromotionId::parse)?,
        account: parsed(row, TABLE, "account_id", AccountId::parse)?,
        integration: parsed(row, TABLE, "integration_id", IntegrationId::parse)?,
        party: party_from_row(row)?,
        customer: customer_from_row(row)?,
        external_uid: parsed(row, TABLE, "external_uid", ExternalUid::parse)?,
        state: parsed(
            row,
            TABLE,
            "state",
            known("promotion state", PromotionState::parse),
        )?,
        lease: lease::from_row(row, TABLE)?,
        error: col(row, TABLE, "error")?,
        created_at: parsed(row, TABLE, "created_at", parse_ts)?,
        updated_at: parsed(row, TABLE, "updated_at", parse_ts)?,
    })
}

/// The query of [`select`]: sorted by `seq` in Rust, not by `ORDER BY`, for the reason the
/// customer promotions' query gives (a statement re-prepared per account otherwise).
fn select_sql(filter: &str) -> String {
    format!("SELECT seq AS row_seq, {COLUMNS} FROM party_promotions WHERE {filter}")
}

/// The party promotions matching `filter`, oldest first.
///
/// # Errors
/// [`StoreError`], [`StoreError::Corrupt`] for a row that does not parse.
pub(crate) fn select<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
) -> Result<Vec<PartyPromotion>, StoreError> {
    select_by_seq(
        conn,
        &select_sql(filter),
        params,
        TABLE,
        "reading party promotions",
        from_row,
    )
}

/// Inserts `p` as it is (state, lease, error and timestamps kept).
///
/// # Errors
/// The driver's error, for the caller to translate (a unique violation is a live one).
pub(crate) fn insert(conn: &Connection, p: &PartyPromotion) -> rusqlite::Result<usize> {
    let (lease_host, lease_pid, lease_start, lease_task, lease_expires) =
        lease::values(p.lease.as_ref());
    conn.prepare_cached(&format!(
        "INSERT INTO party_promotions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
         ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    ))?
    .execute(params![
        p.id.to_string(),
        p.account.to_string(),
        p.integration.to_string(),
        p.party.kind().as_str(),
        p.party.as_str(),
        p.customer.division.as_ref().map(|d| d.as_str().to_owned()),
        p.customer.customer_no.as_str(),
        p.external_uid.as_str(),
        p.state.as_str(),
        lease_host,
        lease_pid,
        lease_start,
        lease_task,
        lease_expires,
        p.error,
        ts(p.created_at),
        ts(p.updated_at),
    ])
}
