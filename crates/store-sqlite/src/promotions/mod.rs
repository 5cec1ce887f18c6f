//! [`PromotionStore`]: promotions with their leases, bindings and the promotion log.
//!
//! The exactly-once rule lives in two partial unique indexes (see the schema); every change
//! to an in-flight promotion is a *fenced* `UPDATE … WHERE state = 'creating' AND lease = the
//! caller's`, so a task that lost its lease changes nothing.

pub(crate) mod rows;

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};

use crm2sage_domain::ports::{
    FencedWriteError, LogEntry, PromotionStore, RecordIntentError, StoreError, TakeOverError,
};
use crm2sage_domain::{
    AccountId, ArDivision, Binding, CustomerNo, ErpKind, ErpRequest, ExternalUid, IntegrationId,
    Lease, LeaseHolder, Promotion, PromotionId, PromotionState, ReferenceCode, Sage100Request,
    Sage300Request, SalespersonRef, Timestamp,
};

use crate::SqliteStore;
use crate::db::{
    col, corrupt, db_err, is_unique_violation, known, parse_ts, parsed, parsed_opt, ts,
    u64_from_sql, u64_to_sql, write_tx,
};

const TABLE: &str = "promotions";

const COLUMNS: &str = "id, account_id, integration_id, erp_kind, customer_no, category, \
     tax_group, terms, division, salesperson, ship_method, tax_schedule, external_uid, state, \
     lease_host, lease_pid, lease_process_start, lease_task, lease_expires_at, error, \
     created_at, updated_at";

/// The fence of every write by a lease holder: parameters `?1` (id) to `?5` (task).
macro_rules! fence {
    () => {
        "id = ?1 AND state = 'creating' AND lease_host = ?2 AND lease_pid = ?3 \
         AND lease_process_start = ?4 AND lease_task = ?5"
    };
}

fn code(row: &Row<'_>, name: &str) -> Result<Option<ReferenceCode>, StoreError> {
    parsed_opt(row, TABLE, name, ReferenceCode::parse)
}

fn required_code(row: &Row<'_>, name: &str) -> Result<ReferenceCode, StoreError> {
    code(row, name)?.ok_or_else(|| corrupt(TABLE, name, "missing"))
}

fn request_from_row(row: &Row<'_>) -> Result<ErpRequest, StoreError> {
    let kind: ErpKind = parsed(row, TABLE, "erp_kind", str::parse)?;
    let customer_no = parsed(row, TABLE, "customer_no", |raw| {
        CustomerNo::parse(kind, raw)
    })?;
    Ok(match kind {
        ErpKind::Sage300 => ErpRequest::Sage300(Sage300Request {
            customer_no,
            category: required_code(row, "category")?,
            tax_group: required_code(row, "tax_group")?,
            terms: code(row, "terms")?,
        }),
        ErpKind::Sage100 => ErpRequest::Sage100(Sage100Request {
            customer_no,
            division: parsed(row, TABLE, "division", ArDivision::parse)?,
            salesperson: parsed(row, TABLE, "salesperson", SalespersonRef::parse)?,
            tax_schedule: required_code(row, "tax_schedule")?,
            terms: code(row, "terms")?,
            ship_method: code(row, "ship_method")?,
            category: code(row, "category")?,
        }),
    })
}

fn lease_from_row(row: &Row<'_>) -> Result<Option<Lease>, StoreError> {
    let host: Option<String> = col(row, TABLE, "lease_host")?;
    let Some(host) = host else {
        return Ok(None);
    };
    let pid: i64 = col(row, TABLE, "lease_pid")?;
    let start: i64 = col(row, TABLE, "lease_process_start")?;
    let task: i64 = col(row, TABLE, "lease_task")?;
    Ok(Some(Lease {
        holder: LeaseHolder {
            host,
            pid: u32::try_from(pid).map_err(|_| corrupt(TABLE, "lease_pid", pid))?,
            process_start: u64_from_sql(start),
            task: u64_from_sql(task),
        },
        expires_at: parsed(row, TABLE, "lease_expires_at", parse_ts)?,
    }))
}

fn from_row(row: &Row<'_>) -> Result<Promotion, StoreError> {
    Ok(Promotion {
        id: parsed(row, TABLE, "id", PromotionId::parse)?,
        account: parsed(row, TABLE, "account_id", AccountId::parse)?,
        integration: parsed(row, TABLE, "integration_id", IntegrationId::parse)?,
        request: request_from_row(row)?,
        external_uid: parsed(row, TABLE, "external_uid", ExternalUid::parse)?,
        state: parsed(
            row,
            TABLE,
            "state",
            known("promotion state", PromotionState::parse),
        )?,
        lease: lease_from_row(row)?,
        error: col(row, TABLE, "error")?,
        created_at: parsed(row, TABLE, "created_at", parse_ts)?,
        updated_at: parsed(row, TABLE, "updated_at", parse_ts)?,
    })
}

/// The query of [`select`]. Sorted here, not by `ORDER BY seq`: with that clause beside
/// `account_id = ?1`, SQLite re-prepares the statement for every new account (its planner
/// weighs the partial index on `seq` against the bound value) — a parse on every
/// promotion's `promotions_of`. The rows of one filter are few.
fn select_sql(filter: &str) -> String {
    format!("SELECT seq AS row_seq, {COLUMNS} FROM promotions WHERE {filter}")
}

pub(crate) fn select<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
) -> Result<Vec<Promotion>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&select_sql(filter))
        .map_err(db_err("reading promotions"))?;
    let mut rows = stmt.query(params).map_err(db_err("reading promotions"))?;
    let mut out: Vec<(i64, Promotion)> = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading promotions"))? {
        out.push((col(row, TABLE, "row_seq")?, from_row(row)?));
    }
    out.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

fn opt_str(code: Option<&ReferenceCode>) -> Option<&str> {
    code.map(ReferenceCode::as_str)
}

fn insert_intent(tx: &Connection, p: &Promotion) -> rusqlite::Result<usize> {
    let (category, tax_group, terms, division, salesperson, ship_method, tax_schedule) =
        match &p.request {
            ErpRequest::Sage300(r) => (
                Some(r.category.as_str()),
                Some(r.tax_group.as_str()),
                opt_str(r.terms.as_ref()),
                None,
                None,
                None,
                None,
            ),
            ErpRequest::Sage100(r) => (
                opt_str(r.category.as_ref()),
                None,
                opt_str(r.terms.as_ref()),
                Some(r.division.as_str().to_owned()),
                Some(r.salesperson.to_string()),
                opt_str(r.ship_method.as_ref()),
                Some(r.tax_schedule.as_str()),
            ),
        };
    let lease = p.lease.as_ref();
    tx.prepare_cached(&format!(
        "INSERT INTO promotions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, \
         ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
    ))?
    .execute(params![
        p.id.to_string(),
        p.account.to_string(),
        p.integration.to_string(),
        p.request.kind().as_str(),
        p.request.customer_no().as_str(),
        category,
        tax_group,
        terms,
        division,
        salesperson,
        ship_method,
        tax_schedule,
        p.external_uid.as_str(),
        p.state.as_str(),
        lease.map(|l| &l.holder.host),
        lease.map(|l| l.holder.pid),
        lease.map(|l| u64_to_sql(l.holder.process_start)),
        lease.map(|l| u64_to_sql(l.holder.task)),
        lease.map(|l| ts(l.expires_at)),
        p.error,
        ts(p.created_at),
        ts(p.updated_at),
    ])
}

fn live_with(
    tx: &Connection,
    integration: IntegrationId,
    column: &str,
    value: &str,
) -> Result<Option<Promotion>, StoreError> {
    Ok(select(
        tx,
        &format!("integration_id = ?1 AND {column} = ?2 AND state IN ('creating', 'promoted')"),
        params![integration.to_string(), value],
    )?
    .pop())
}

fn record_intent(
    conn: &mut Connection,
    p: &Promotion,
    log: &LogEntry,
) -> Result<(), RecordIntentError> {
    let tx = write_tx(conn)?;
    match insert_intent(&tx, p) {
        Ok(_) => {}
        // The partial unique indexes decide; the live promotion that holds the spot answers.
        Err(e) if is_unique_violation(&e) => {
            if let Some(existing) =
                live_with(&tx, p.integration, "account_id", &p.account.to_string())?
            {
                return Err(RecordIntentError::AccountLive(Box::new(existing)));
            }
            if let Some(existing) =
                live_with(&tx, p.integration, "external_uid", p.external_uid.as_str())?
            {
                return Err(RecordIntentError::UidLive(Box::new(existing)));
            }
            return Err(db_err(&format!("recording promotion {}", p.id))(e).into());
        }
        Err(e) => return Err(db_err(&format!("recording promotion {}", p.id))(e).into()),
    }
    rows::insert_log(&tx, log)?;
    tx.commit().map_err(db_err("recording an intent"))?;
    Ok(())
}

fn holder_params(id: PromotionId, h: &LeaseHolder) -> (String, String, u32, i64, i64) {
    (
        id.to_string(),
        h.host.clone(),
        h.pid,
        u64_to_sql(h.process_start),
        u64_to_sql(h.task),
    )
}

/// Explains a fenced update that changed nothing: the promotion is gone or not ours.
fn refused(tx: &Connection, id: PromotionId) -> FencedWriteError {
    let exists = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM promotions WHERE id = ?1)")
        .and_then(|mut s| s.query_row([id.to_string()], |r| r.get::<_, bool>(0)))
        .map_err(db_err("checking a promotion"));
    match exists {
        Ok(true) => FencedWriteError::LeaseLost,
        Ok(false) => FencedWriteError::NotFound,
        Err(e) => FencedWriteError::Store(e),
    }
}

/// Runs `sql` (fenced with [`fence!`]) with the holder's parameters then `extra`, in its own
/// transaction.
fn fenced_update(
    conn: &mut Connection,
    id: PromotionId,
    holder: &LeaseHolder,
    sql: &str,
    extra: &[&dyn rusqlite::ToSql],
) -> Result<(), FencedWriteError> {
    let tx = write_tx(conn)?;
    let (pid_s, host, pid, start, task) = holder_params(id, holder);
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&pid_s, &host, &pid, &start, &task];
    all.extend_from_slice(extra);
    let changed = tx
        .prepare_cached(sql)
        .and_then(|mut s| s.execute(all.as_slice()))
        .map_err(db_err("updating a promotion"))?;
    if changed == 0 {
        return Err(refused(&tx, id));
    }
    tx.commit().map_err(db_err("updating a promotion"))?;
    Ok(())
}

fn confirm(
    conn: &mut Connection,
    id: PromotionId,
    holder: &LeaseHolder,
    binding: &rows::BindingRow,
    now: Timestamp,
    log: &LogEntry,
) -> Result<(), FencedWriteError> {
    let tx = write_tx(conn)?;
    let (pid_s, host, pid, start, task) = holder_params(id, holder);
    let changed = tx
        .prepare_cached(concat!(
            "UPDATE promotions SET state = 'promoted', lease_host = NULL, lease_pid = NULL, \
             lease_process_start = NULL, lease_task = NULL, lease_expires_at = NULL, \
             updated_at = ?6, external_uid = ?7 WHERE ",
            fence!()
        ))
        .and_then(|mut s| {
            s.execute(params![
                pid_s,
                host,
                pid,
                start,
                task,
                ts(now),
                binding.external_uid()
            ])
        })
        .map_err(db_err("confirming a promotion"))?;
    if changed == 0 {
        return Err(refused(&tx, id));
    }
    let kind: String = tx
        .prepare_cached("SELECT erp_kind FROM promotions WHERE id = ?1")
        .and_then(|mut s| s.query_row([id.to_string()], |r| r.get(0)))
        .map_err(db_err("confirming a promotion"))?;
    rows::replace_binding(&tx, binding, &kind)?;
    rows::insert_log(&tx, log)?;
    tx.commit().map_err(db_err("confirming a promotion"))?;
    Ok(())
}

fn take_over(
    conn: &mut Connection,
    id: PromotionId,
    expected: Option<&Lease>,
    new: &Lease,
) -> Result<(), TakeOverError> {
    let tx = write_tx(conn)?;
    let set = "UPDATE promotions SET lease_host = ?2, lease_pid = ?3, lease_process_start = ?4, \
               lease_task = ?5, lease_expires_at = ?6 WHERE id = ?1 AND state = 'creating' AND ";
    let new_params = (
        id.to_string(),
        new.holder.host.clone(),
        new.holder.pid,
        u64_to_sql(new.holder.process_start),
        u64_to_sql(new.holder.task),
        ts(new.expires_at),
    );
    let changed = match expected {
        None => tx
            .prepare_cached(&format!("{set}lease_host IS NULL"))
            .and_then(|mut s| s.execute(new_params)),
        Some(old) => tx
            .prepare_cached(&format!(
                "{set}lease_host = ?7 AND lease_pid = ?8 AND lease_process_start = ?9 \
                 AND lease_task = ?10 AND lease_expires_at = ?11"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    new_params.0,
                    new_params.1,
                    new_params.2,
                    new_params.3,
                    new_params.4,
                    new_params.5,
                    old.holder.host,
                    old.holder.pid,
                    u64_to_sql(old.holder.process_start),
                    u64_to_sql(old.holder.task),
                    ts(old.expires_at),
                ])
            }),
    }
    .map_err(db_err("taking over a lease"))?;
    if changed == 0 {
        return Err(TakeOverError::Changed);
    }
    tx.commit().map_err(db_err("taking over a lease"))?;
    Ok(())
}

/// How an in-flight promotion ends without a binding: what [`PromotionStore::fail`] and
/// [`PromotionStore::mark_needs_review`] write.
#[derive(Clone, Copy)]
enum Settled {
    /// The ERP certainly did not create the customer.
    Failed,
    /// Nobody knows whether it did; an operator decides.
    NeedsReview,
}

impl Settled {
    /// The `state` column's value.
    fn state(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::NeedsReview => "needs_review",
        }
    }
}

impl SqliteStore {
    /// Ends the holder's in-flight promotion `id` as `settled` with `reason`, releasing the
    /// lease in the same fenced `UPDATE`. Dropping the future before it completes does not
    /// cancel the write once the writer thread took it; the outcome is then unknown to the
    /// caller (the promotion is settled or still in flight, never half-written).
    async fn settle(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        settled: Settled,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        let (holder, reason) = (holder.clone(), reason.to_owned());
        self.write(move |conn| {
            fenced_update(
                conn,
                id,
                &holder,
                concat!(
                    "UPDATE promotions SET state = ?8, lease_host = NULL, \
                     lease_pid = NULL, lease_process_start = NULL, lease_task = NULL, \
                     lease_expires_at = NULL, error = ?6, updated_at = ?7 WHERE ",
                    fence!()
                ),
                &[&reason, &ts(now), &settled.state()],
            )
        })
        .await
    }
}

#[async_trait]
impl PromotionStore for SqliteStore {
    async fn record_intent(
        &self,
        promotion: &Promotion,
        log: &LogEntry,
    ) -> Result<(), RecordIntentError> {
        let (p, log) = (promotion.clone(), log.clone());
        self.write(move |conn| record_intent(conn, &p, &log)).await
    }

    async fn renew_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        expires_at: Timestamp,
    ) -> Result<(), FencedWriteError> {
        let holder = holder.clone();
        self.write(move |conn| {
            fenced_update(
                conn,
                id,
                &holder,
                concat!(
                    "UPDATE promotions SET lease_expires_at = ?6 WHERE ",
                    fence!()
                ),
                &[&ts(expires_at)],
            )
        })
        .await
    }

    async fn confirm(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        binding: &Binding,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        let (holder, log) = (holder.clone(), log.clone());
        let row = rows::BindingRow::new(binding)?;
        self.write(move |conn| confirm(conn, id, &holder, &row, now, &log))
            .await
    }

    async fn fail(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.settle(id, holder, Settled::Failed, reason, now).await
    }

    async fn mark_needs_review(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.settle(id, holder, Settled::NeedsReview, reason, now)
            .await
    }

    async fn release_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        let holder = holder.clone();
        self.write(move |conn| {
            fenced_update(
                conn,
                id,
                &holder,
                concat!(
                    "UPDATE promotions SET lease_host = NULL, lease_pid = NULL, \
                     lease_process_start = NULL, lease_task = NULL, lease_expires_at = NULL, \
                     updated_at = ?6 WHERE ",
                    fence!()
                ),
                &[&ts(now)],
            )
        })
        .await
    }

    async fn take_over(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        let (expected, new) = (expected.cloned(), new.clone());
        self.write(move |conn| take_over(conn, id, expected.as_ref(), &new))
            .await
    }

    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StoreError> {
        self.read_point(move |conn| Ok(select(conn, "id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn in_flight(&self) -> Result<Vec<Promotion>, StoreError> {
        self.read(|conn| select(conn, "state = 'creating'", []))
            .await
    }

    async fn promotions_of(&self, account: AccountId) -> Result<Vec<Promotion>, StoreError> {
        self.read_point(move |conn| select(conn, "account_id = ?1", [account.to_string()]))
            .await
    }

    async fn bindings_of(&self, account: AccountId) -> Result<Vec<Binding>, StoreError> {
        self.read_point(move |conn| rows::bindings_of(conn, account))
            .await
    }

    async fn append_log(&self, entry: &LogEntry) -> Result<(), StoreError> {
        let e = entry.clone();
        self.write(move |conn| rows::insert_log(conn, &e)).await
    }

    async fn log(&self, account: Option<AccountId>) -> Result<Vec<LogEntry>, StoreError> {
        self.read(move |conn| rows::log(conn, account)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::db::connect;

    #[tokio::test]
    async fn a_promotions_read_reuses_its_statement_whatever_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(crate::SqliteStore::open(&path).unwrap());
        let reader = connect(&path, true).unwrap();
        for account in ["a", "b", "c", "d"] {
            assert!(
                select(&reader, "account_id = ?1", [account])
                    .unwrap()
                    .is_empty()
            );
        }
        let stmt = reader
            .prepare_cached(&select_sql("account_id = ?1"))
            .unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }
}
