//! [`BindingStore`]: `link` and `unlink` on the writer thread, checked inside the same kind of
//! transaction as `record_intent` (the writer thread runs one at a time; other processes wait
//! at `BEGIN IMMEDIATE`), and the unique indexes on `bindings` as the last word; the binding
//! reads by page and by chunk.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crm2sage_domain::ports::{BindingStore, LinkError, LogEntry, StoreError, UnlinkError};
use crm2sage_domain::{
    AccountId, Binding, BindingOrigin, ExternalUid, IntegrationId, IntegrationKey, PromotionState,
    Timestamp,
};

use crate::SqliteStore;
use crate::db::{db_err, ts, write_tx};
use crate::promotions::live_with;
use crate::promotions::rows::{self, BINDING_COLUMNS, BindingRow, binding_from_row};

/// The bindings one cached statement finds for each of `values`, in one read transaction.
fn each<V: rusqlite::ToSql>(
    conn: &mut Connection,
    filter: &str,
    integration: &str,
    values: &[V],
) -> Result<Vec<Binding>, StoreError> {
    const WHAT: &str = "reading bindings";
    let tx = conn.transaction().map_err(db_err(WHAT))?;
    let mut out = Vec::new();
    {
        let mut stmt = tx
            .prepare_cached(&format!(
                "SELECT {BINDING_COLUMNS} FROM bindings WHERE integration_id = ?1 AND {filter}"
            ))
            .map_err(db_err(WHAT))?;
        for value in values {
            let mut found = stmt
                .query(params![integration, value])
                .map_err(db_err(WHAT))?;
            while let Some(row) = found.next().map_err(db_err(WHAT))? {
                out.push(binding_from_row(row)?);
            }
        }
    }
    tx.finish().map_err(db_err(WHAT))?;
    Ok(out)
}

/// The binding in `integration` of `account`, or else one of the customer `key`: what refuses
/// a link or an intent.
pub(crate) fn bound(
    conn: &Connection,
    account: &str,
    integration: &str,
    key: &str,
) -> Result<(Option<Binding>, Option<Binding>), StoreError> {
    const WHAT: &str = "reading bindings";
    let one = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Option<Binding>, StoreError> {
        let mut stmt = conn.prepare_cached(sql).map_err(db_err(WHAT))?;
        let mut rows = stmt.query(p).map_err(db_err(WHAT))?;
        rows.next()
            .map_err(db_err(WHAT))?
            .map(binding_from_row)
            .transpose()
    };
    let of_account = one(
        &format!(
            "SELECT {BINDING_COLUMNS} FROM bindings WHERE account_id = ?1 AND integration_id = ?2"
        ),
        &[&account, &integration],
    )?;
    let of_customer = one(
        &format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE integration_key = ?1"),
        &[&key],
    )?;
    Ok((of_account, of_customer))
}

fn link(
    conn: &mut Connection,
    b: &BindingRow,
    integration: IntegrationId,
    uid: &str,
    log: &LogEntry,
) -> Result<(), LinkError> {
    const WHAT: &str = "linking an account";
    let tx = write_tx(conn)?;
    let (of_account, of_customer) = bound(&tx, b.account(), b.integration(), b.integration_key())?;
    if let Some(bound) = of_account {
        return Err(LinkError::AccountBound(Box::new(bound)));
    }
    if let Some(bound) = of_customer {
        return Err(LinkError::CustomerBound(Box::new(bound)));
    }
    for (column, value) in [("account_id", b.account()), ("external_uid", uid)] {
        if let Some(live) = live_with(&tx, integration, column, value)?
            && live.state == PromotionState::Creating
        {
            return Err(LinkError::InProgress(Box::new(live)));
        }
    }
    let kind: String = tx
        .prepare_cached("SELECT kind FROM integrations WHERE id = ?1")
        .and_then(|mut s| s.query_row([b.integration()], |r| r.get(0)))
        .map_err(db_err(WHAT))?;
    rows::replace_binding(&tx, b, &kind)?;
    rows::insert_log(&tx, log)?;
    tx.commit().map_err(db_err(WHAT))?;
    Ok(())
}

fn unlink(
    conn: &mut Connection,
    account: &str,
    integration: &str,
    now: Timestamp,
    log: &LogEntry,
) -> Result<Binding, UnlinkError> {
    const WHAT: &str = "unlinking an account";
    let tx = write_tx(conn)?;
    let removed = {
        let mut stmt = tx
            .prepare_cached(&format!(
                "DELETE FROM bindings WHERE account_id = ?1 AND integration_id = ?2 \
                 RETURNING {BINDING_COLUMNS}"
            ))
            .map_err(db_err(WHAT))?;
        let mut rows = stmt.query([account, integration]).map_err(db_err(WHAT))?;
        let removed = rows
            .next()
            .map_err(db_err(WHAT))?
            .map(binding_from_row)
            .transpose()?;
        // RETURNING's statement ends once stepped to its end.
        while rows.next().map_err(db_err(WHAT))?.is_some() {}
        removed
    };
    let Some(removed) = removed else {
        return Err(UnlinkError::NotBound);
    };
    tx.prepare_cached(
        "UPDATE promotions SET state = 'unlinked', updated_at = ?3 \
         WHERE integration_id = ?1 AND account_id = ?2 AND state = 'promoted'",
    )
    .and_then(|mut s| s.execute(params![integration, account, ts(now)]))
    .map_err(db_err(WHAT))?;
    rows::insert_log(&tx, log)?;
    tx.commit().map_err(db_err(WHAT))?;
    Ok(removed)
}

#[async_trait]
impl BindingStore for SqliteStore {
    async fn link(&self, binding: &Binding, log: &LogEntry) -> Result<(), LinkError> {
        let row = BindingRow::new(&Binding {
            origin: BindingOrigin::Linked,
            ..binding.clone()
        })?;
        let (integration, uid, log) = (
            binding.integration,
            binding.external_uid.as_str().to_owned(),
            log.clone(),
        );
        self.write(move |conn| link(conn, &row, integration, &uid, &log))
            .await
    }

    async fn unlink(
        &self,
        account: AccountId,
        integration: IntegrationId,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<Binding, UnlinkError> {
        let (account, integration, log) =
            (account.to_string(), integration.to_string(), log.clone());
        self.write(move |conn| unlink(conn, &account, &integration, now, &log))
            .await
    }

    async fn bindings_page(
        &self,
        integration: IntegrationId,
        after: Option<&IntegrationKey>,
        limit: usize,
    ) -> Result<Vec<Binding>, StoreError> {
        const WHAT: &str = "reading bindings";
        if limit == 0 {
            return Ok(Vec::new());
        }
        // Every key of the integration starts with `{id}:`, so after none is after that.
        let after = after.map_or_else(|| format!("{integration}:"), |k| k.as_str().to_owned());
        let integration = integration.to_string();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {BINDING_COLUMNS} FROM bindings WHERE integration_key > ?2 \
                     AND integration_id = ?1 ORDER BY integration_key LIMIT ?3"
                ))
                .map_err(db_err(WHAT))?;
            let mut rows = stmt
                .query(params![integration, after, limit])
                .map_err(db_err(WHAT))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(db_err(WHAT))? {
                out.push(binding_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn bindings_of_accounts(
        &self,
        integration: IntegrationId,
        accounts: &[AccountId],
    ) -> Result<Vec<Binding>, StoreError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let accounts: Vec<String> = accounts.iter().map(ToString::to_string).collect();
        let integration = integration.to_string();
        self.read(move |conn| each(conn, "account_id = ?2", &integration, &accounts))
            .await
    }

    async fn bindings_of_customers(
        &self,
        integration: IntegrationId,
        uids: &[ExternalUid],
    ) -> Result<Vec<Binding>, StoreError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = uids
            .iter()
            .map(|u| IntegrationKey::new(integration, u).as_str().to_owned())
            .collect();
        let integration = integration.to_string();
        self.read(move |conn| each(conn, "integration_key = ?2", &integration, &keys))
            .await
    }
}
