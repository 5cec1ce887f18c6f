//! The row codec of `party_promotions`: a [`PartyPromotion`] to its columns and back (the
//! SQLite store's encodings). A row that no longer parses is [`StoreError::Corrupt`] naming
//! the column, never a panic.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crm2sage_domain::ports::{ErpCustomerKey, StoreError};
use crm2sage_domain::{
    AccountId, ArDivision, CustomerNo, ErpKind, ExternalUid, IntegrationId, PartyCode, PartyKind,
    PartyPromotion, PromotionId, PromotionState,
};

use crate::db::{Value, col, known, parse_ts, parsed, parsed_opt, ts};
use crate::{lease, query_map};

pub(super) const TABLE: &str = "party_promotions";

/// Every column but `seq`, in [`values`]' order.
pub(crate) const COLUMNS: &str = "id, account_id, integration_id, kind, code, division, \
     customer_no, external_uid, state, lease_host, lease_pid, lease_process_start, lease_task, \
     lease_expires_at, error, created_at, updated_at";

/// `$1, …, $17`: the placeholders of [`COLUMNS`].
pub(crate) const PLACEHOLDERS: &str =
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17";

fn party_from_row(row: &Row) -> Result<PartyCode, StoreError> {
    let kind = parsed(row, TABLE, "kind", known("party kind", PartyKind::parse))?;
    parsed(row, TABLE, "code", |raw| PartyCode::parse(kind, raw))
}

/// The customer key: a division makes it Sage 100's, none Sage 300's.
fn customer_from_row(row: &Row) -> Result<ErpCustomerKey, StoreError> {
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
pub(crate) fn from_row(row: &Row) -> Result<PartyPromotion, StoreError> {
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

/// The party promotions matching `filter`, oldest first.
///
/// # Errors
/// [`StoreError`], [`StoreError::Corrupt`] for a row that does not parse.
pub(crate) async fn select<C: GenericClient>(
    client: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<PartyPromotion>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM party_promotions WHERE {filter} ORDER BY seq");
    query_map(client, &sql, params, "reading party promotions", from_row).await
}

/// The parameters of `p`'s row as it is (state, lease, error and timestamps kept), in
/// [`COLUMNS`]' order.
pub(crate) fn values(p: &PartyPromotion) -> Vec<Value> {
    let (lease_host, lease_pid, lease_start, lease_task, lease_expires) =
        lease::values(p.lease.as_ref());
    vec![
        Box::new(p.id.to_string()),
        Box::new(p.account.to_string()),
        Box::new(p.integration.to_string()),
        Box::new(p.party.kind().as_str()),
        Box::new(p.party.as_str().to_owned()),
        Box::new(p.customer.division.as_ref().map(|d| d.as_str().to_owned())),
        Box::new(p.customer.customer_no.as_str().to_owned()),
        Box::new(p.external_uid.as_str().to_owned()),
        Box::new(p.state.as_str()),
        Box::new(lease_host),
        Box::new(lease_pid),
        Box::new(lease_start),
        Box::new(lease_task),
        Box::new(lease_expires),
        Box::new(p.error.clone()),
        Box::new(ts(p.created_at)),
        Box::new(ts(p.updated_at)),
    ]
}
