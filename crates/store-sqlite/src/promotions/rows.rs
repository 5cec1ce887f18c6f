//! The rows a promotion leaves behind: its binding (the account ↔ ERP customer link) and its
//! entries in the promotion log.

use rusqlite::{Connection, Row, params};

use crm2sage_domain::ports::{LogEntry, LogEvent, LogPosition, StoreError};
use crm2sage_domain::{
    AccountId, Binding, BindingOrigin, CustomerNo, ErpKind, ExternalUid, IntegrationId,
    IntegrationKey, PromotionId,
};

use crate::db::{
    col, corrupt, count_to_sql, db_err, known, parse_ts, parsed, parsed_opt, record_from_json,
    record_to_json, ts,
};

/// A binding's columns, encoded by the caller so the writer thread only writes (and the ERP
/// record, a hundred fields, is not copied to reach it).
pub(crate) struct BindingRow {
    account: String,
    integration: String,
    customer_no: String,
    external_uid: String,
    integration_key: String,
    promoted_at: String,
    origin: &'static str,
    record_json: String,
}

impl BindingRow {
    pub(crate) fn new(b: &Binding) -> Result<Self, StoreError> {
        Ok(Self {
            account: b.account.to_string(),
            integration: b.integration.to_string(),
            customer_no: b.customer_no.as_str().to_owned(),
            external_uid: b.external_uid.as_str().to_owned(),
            integration_key: b.integration_key.as_str().to_owned(),
            promoted_at: ts(b.promoted_at),
            origin: b.origin.as_str(),
            record_json: record_to_json(&b.erp_record)?,
        })
    }
}

/// Writes `binding` (of a promotion for an integration of `kind`) in the caller's
/// transaction, replacing the account's earlier binding to the same integration.
pub(crate) fn replace_binding(
    conn: &Connection,
    binding: &BindingRow,
    kind: &str,
) -> Result<(), StoreError> {
    // One binding per (account, integration): a new one replaces the old.
    conn.prepare_cached("DELETE FROM bindings WHERE account_id = ?1 AND integration_id = ?2")
        .and_then(|mut s| s.execute(params![binding.account, binding.integration]))
        .map_err(db_err("writing a binding"))?;
    conn.prepare_cached(
        "INSERT INTO bindings (account_id, integration_id, erp_kind, customer_no, \
         external_uid, integration_key, promoted_at, erp_record, origin) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            binding.account,
            binding.integration,
            kind,
            binding.customer_no,
            binding.external_uid,
            binding.integration_key,
            binding.promoted_at,
            binding.record_json,
            binding.origin,
        ])
    })
    .map_err(db_err("writing a binding"))?;
    Ok(())
}

impl BindingRow {
    /// The customer's external uid, as stored.
    pub(crate) fn external_uid(&self) -> &str {
        &self.external_uid
    }

    /// The account, as stored.
    pub(crate) fn account(&self) -> &str {
        &self.account
    }

    /// The integration, as stored.
    pub(crate) fn integration(&self) -> &str {
        &self.integration
    }

    /// The Integration key, as stored.
    pub(crate) fn integration_key(&self) -> &str {
        &self.integration_key
    }
}

const LOG: &str = "promotion_log";

/// Appends `e` to the promotion log on `conn` (alone, or inside the caller's transaction).
pub(crate) fn insert_log(conn: &Connection, e: &LogEntry) -> Result<(), StoreError> {
    let duration = e
        .duration_ms
        .map(|d| count_to_sql(d, "duration"))
        .transpose()?;
    conn.prepare_cached(
        "INSERT INTO promotion_log (at, account_id, integration_id, promotion_id, \
         event, request, message, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            ts(e.at),
            e.account.to_string(),
            e.integration.map(|i| i.to_string()),
            e.promotion.map(|p| p.to_string()),
            e.event.as_str(),
            e.request,
            e.message,
            duration,
        ])
    })
    .map_err(db_err("appending to the promotion log"))?;
    Ok(())
}

pub(crate) fn log_from_row(row: &Row<'_>) -> Result<LogEntry, StoreError> {
    let duration: Option<i64> = col(row, LOG, "duration_ms")?;
    Ok(LogEntry {
        at: parsed(row, LOG, "at", parse_ts)?,
        account: parsed(row, LOG, "account_id", AccountId::parse)?,
        integration: parsed_opt(row, LOG, "integration_id", IntegrationId::parse)?,
        promotion: parsed_opt(row, LOG, "promotion_id", PromotionId::parse)?,
        event: parsed(row, LOG, "event", known("log event", LogEvent::parse))?,
        request: col(row, LOG, "request")?,
        message: col(row, LOG, "message")?,
        duration_ms: duration
            .map(|d| u64::try_from(d).map_err(|_| corrupt(LOG, "duration_ms", d)))
            .transpose()?,
    })
}

/// The columns [`binding_from_row`] reads.
pub(crate) const BINDING_COLUMNS: &str = "account_id, integration_id, erp_kind, customer_no, \
     external_uid, integration_key, promoted_at, erp_record, origin";

pub(crate) fn binding_from_row(row: &Row<'_>) -> Result<Binding, StoreError> {
    const B: &str = "bindings";
    let kind: ErpKind = parsed(row, B, "erp_kind", str::parse)?;
    let integration = parsed(row, B, "integration_id", IntegrationId::parse)?;
    let external_uid = parsed(row, B, "external_uid", ExternalUid::parse)?;
    let integration_key = IntegrationKey::new(integration, &external_uid);
    let stored: String = col(row, B, "integration_key")?;
    if stored != integration_key.as_str() {
        return Err(corrupt(
            B,
            "integration_key",
            format!("`{stored}` is not `{integration_key}`"),
        ));
    }
    Ok(Binding {
        account: parsed(row, B, "account_id", AccountId::parse)?,
        integration,
        customer_no: parsed(row, B, "customer_no", |raw| CustomerNo::parse(kind, raw))?,
        external_uid,
        integration_key,
        promoted_at: parsed(row, B, "promoted_at", parse_ts)?,
        origin: parsed(
            row,
            B,
            "origin",
            known("binding origin", BindingOrigin::parse),
        )?,
        erp_record: parsed(row, B, "erp_record", record_from_json)?,
    })
}

/// The bindings of `account`, oldest first.
pub(super) fn bindings_of(
    conn: &Connection,
    account: AccountId,
) -> Result<Vec<Binding>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {BINDING_COLUMNS} FROM bindings WHERE account_id = ?1 ORDER BY seq"
        ))
        .map_err(db_err("reading bindings"))?;
    let mut rows = stmt
        .query([account.to_string()])
        .map_err(db_err("reading bindings"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading bindings"))? {
        out.push(binding_from_row(row)?);
    }
    Ok(out)
}

/// The promotion log, oldest first: all of it, or `account`'s entries.
pub(super) fn log(
    conn: &Connection,
    account: Option<AccountId>,
) -> Result<Vec<LogEntry>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT at, account_id, integration_id, promotion_id, event, request, \
             message, duration_ms FROM promotion_log \
             WHERE ?1 IS NULL OR account_id = ?1 ORDER BY seq",
        )
        .map_err(db_err("reading the promotion log"))?;
    let mut rows = stmt
        .query([account.map(|a| a.to_string())])
        .map_err(db_err("reading the promotion log"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading the promotion log"))? {
        out.push(log_from_row(row)?);
    }
    Ok(out)
}

/// One page of the promotion log: `account`'s entries (or all) after `after`, oldest first,
/// at most `limit`, each with its `seq` (the rowid: the primary key, or `account`'s index, is
/// the keyset).
pub(super) fn log_page(
    conn: &Connection,
    account: Option<AccountId>,
    after: Option<LogPosition>,
    limit: usize,
) -> Result<Vec<(LogPosition, LogEntry)>, StoreError> {
    const WHAT: &str = "reading the promotion log";
    // A position past every rowid has nothing after it.
    let after = after.map_or(0, |p| i64::try_from(p.get()).unwrap_or(i64::MAX));
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let columns = "seq, at, account_id, integration_id, promotion_id, event, request, message, \
                   duration_ms FROM promotion_log";
    let (sql, account) = match account {
        Some(a) => (
            format!("SELECT {columns} WHERE account_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"),
            Some(a.to_string()),
        ),
        None => (
            format!("SELECT {columns} WHERE ?1 IS NULL AND seq > ?2 ORDER BY seq LIMIT ?3"),
            None,
        ),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err(WHAT))?;
    let mut rows = stmt
        .query(rusqlite::params![account, after, limit])
        .map_err(db_err(WHAT))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err(WHAT))? {
        let seq: i64 = col(row, LOG, "seq")?;
        let seq = u64::try_from(seq).map_err(|_| corrupt(LOG, "seq", seq))?;
        out.push((LogPosition::new(seq), log_from_row(row)?));
    }
    Ok(out)
}
