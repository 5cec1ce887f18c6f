//! The rows a promotion leaves behind: its binding (the account ↔ ERP customer link) and its
//! entries in the promotion log.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crm2sage_domain::ports::{LogEntry, LogEvent, LogPosition, StoreError};
use crm2sage_domain::{
    AccountId, Binding, BindingOrigin, CustomerNo, ErpKind, ExternalUid, IntegrationId,
    IntegrationKey, PromotionId,
};

use crate::db::{
    Value, as_params, col, corrupt, count_to_sql, db_err, known, parse_ts, parsed, parsed_opt,
    record_from_json, record_to_json, ts,
};
use crate::{execute, query, query_map};

/// A binding's columns, encoded before a connection is taken.
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

/// Writes `binding` (of a promotion for an integration of `kind`) in the caller's
/// transaction, replacing the account's earlier binding to the same integration.
pub(crate) async fn replace_binding<C: GenericClient>(
    client: &C,
    binding: &BindingRow,
    kind: &str,
) -> Result<(), StoreError> {
    execute(
        client,
        "DELETE FROM bindings WHERE account_id = $1 AND integration_id = $2",
        &[&binding.account, &binding.integration],
    )
    .await
    .map_err(db_err("writing a binding"))?;
    execute(
        client,
        "INSERT INTO bindings (account_id, integration_id, erp_kind, customer_no, \
         external_uid, integration_key, promoted_at, erp_record, origin) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &binding.account,
            &binding.integration,
            &kind,
            &binding.customer_no,
            &binding.external_uid,
            &binding.integration_key,
            &binding.promoted_at,
            &binding.record_json,
            &binding.origin,
        ],
    )
    .await
    .map_err(db_err("writing a binding"))?;
    Ok(())
}

const LOG: &str = "promotion_log";

/// The columns of a log line, in [`log_values`]' order.
pub(crate) const LOG_COLUMNS: &str =
    "at, account_id, integration_id, promotion_id, event, request, message, duration_ms";

/// The parameters of log line `e`, in [`LOG_COLUMNS`]' order.
pub(crate) fn log_values(e: &LogEntry) -> Result<Vec<Value>, StoreError> {
    let duration = e
        .duration_ms
        .map(|d| count_to_sql(d, "duration"))
        .transpose()?;
    Ok(vec![
        Box::new(ts(e.at)),
        Box::new(e.account.to_string()),
        Box::new(e.integration.map(|i| i.to_string())),
        Box::new(e.promotion.map(|p| p.to_string())),
        Box::new(e.event.as_str()),
        Box::new(e.request.clone()),
        Box::new(e.message.clone()),
        Box::new(duration),
    ])
}

/// Appends `e` to the promotion log on `client` (alone, or inside the caller's transaction).
pub(crate) async fn insert_log<C: GenericClient>(
    client: &C,
    e: &LogEntry,
) -> Result<(), StoreError> {
    let values = log_values(e)?;
    let params = as_params(&values);
    execute(
        client,
        &format!(
            "INSERT INTO promotion_log ({LOG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        &params,
    )
    .await
    .map_err(db_err("appending to the promotion log"))?;
    Ok(())
}

fn log_from_row(row: &Row) -> Result<LogEntry, StoreError> {
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

pub(crate) fn binding_from_row(row: &Row) -> Result<Binding, StoreError> {
    const B: &str = "bindings";
    let kind: ErpKind = parsed(row, B, "erp_kind", str::parse)?;
    let integration = parsed(row, B, "integration_id", IntegrationId::parse)?;
    let external_uid = parsed(row, B, "external_uid", ExternalUid::parse)?;
    let integration_key = IntegrationKey::new(integration, &external_uid);
    let stored: &str = col(row, B, "integration_key")?;
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
pub(super) async fn bindings_of<C: GenericClient>(
    client: &C,
    account: AccountId,
) -> Result<Vec<Binding>, StoreError> {
    query(
        client,
        &format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE account_id = $1 ORDER BY seq"),
        &[&account.to_string()],
    )
    .await
    .map_err(db_err("reading bindings"))?
    .iter()
    .map(binding_from_row)
    .collect()
}

/// The promotion log, oldest first: all of it, or `account`'s entries.
pub(super) async fn log<C: GenericClient>(
    client: &C,
    account: Option<AccountId>,
) -> Result<Vec<LogEntry>, StoreError> {
    let context = "reading the promotion log";
    match account {
        None => {
            query_map(
                client,
                &format!("SELECT {LOG_COLUMNS} FROM promotion_log ORDER BY seq"),
                &[],
                context,
                log_from_row,
            )
            .await
        }
        Some(a) => {
            query_map(
                client,
                &format!(
                    "SELECT {LOG_COLUMNS} FROM promotion_log WHERE account_id = $1 ORDER BY seq"
                ),
                &[&a.to_string()],
                context,
                log_from_row,
            )
            .await
        }
    }
}

/// One page of the promotion log (of `account` when given): at most `limit` entries after
/// position `after`, oldest first, each with its position (its `seq`).
pub(super) async fn log_page<C: GenericClient>(
    client: &C,
    account: Option<AccountId>,
    after: Option<LogPosition>,
    limit: usize,
) -> Result<Vec<(LogPosition, LogEntry)>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let context = "reading the promotion log";
    // A position past every `seq` has nothing after it.
    let after = after.map_or(0, |p| i64::try_from(p.get()).unwrap_or(i64::MAX));
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let entry = |row: &Row| -> Result<(LogPosition, LogEntry), StoreError> {
        let seq: i64 = col(row, LOG, "seq")?;
        let seq = u64::try_from(seq).map_err(|_| corrupt(LOG, "seq", seq))?;
        Ok((LogPosition::new(seq), log_from_row(row)?))
    };
    // Index-backed either way: `promotion_log_by_account (account_id, seq)`, or the key.
    match account {
        Some(a) => {
            query_map(
                client,
                &format!(
                    "SELECT seq, {LOG_COLUMNS} FROM promotion_log \
                     WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                ),
                &[&a.to_string(), &after, &limit],
                context,
                entry,
            )
            .await
        }
        None => {
            query_map(
                client,
                &format!(
                    "SELECT seq, {LOG_COLUMNS} FROM promotion_log \
                     WHERE seq > $1 ORDER BY seq LIMIT $2"
                ),
                &[&after, &limit],
                context,
                entry,
            )
            .await
        }
    }
}
