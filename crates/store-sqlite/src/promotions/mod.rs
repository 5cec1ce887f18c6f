//! [`PromotionStore`]: promotions with their leases, bindings and the promotion log.
//!
//! The exactly-once rule lives in two partial unique indexes (see the schema); every change
//! to an in-flight promotion is a *fenced* `UPDATE … WHERE state = 'creating' AND lease = the
//! caller's`, so a task that lost its lease changes nothing.

pub(crate) mod rows;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crm2sage_domain::ports::{
    FencedWriteError, LogEntry, LogPosition, PromotionStore, RecordIntentError, StoreError,
    TakeOverError,
};
use crm2sage_domain::{
    AccountId, ArDivision, Binding, CustomerNo, ErpKind, ErpRequest, ExternalUid, IntegrationId,
    IntegrationKey, Lease, LeaseHolder, Promotion, PromotionId, PromotionState, ReferenceCode,
    Sage100Request, Sage300Request, SalespersonRef, Timestamp,
};

use crate::SqliteStore;
use crate::db::{
    col, corrupt, db_err, is_unique_violation, known, parse_ts, parsed, parsed_opt, select_by_seq,
    ts, write_tx,
};
use crate::lease::{self, Leased, fence, fenced_update, no_lease};

const TABLE: &str = "promotions";

const COLUMNS: &str = "id, account_id, integration_id, erp_kind, customer_no, category, \
     tax_group, terms, division, salesperson, ship_method, tax_schedule, external_uid, state, \
     lease_host, lease_pid, lease_process_start, lease_task, lease_expires_at, error, \
     created_at, updated_at";

/// The table's words for the shared fenced writes.
const LEASED: Leased = Leased {
    table: TABLE,
    noun: "a promotion",
    taking_over: "taking over a lease",
};

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
        lease: lease::from_row(row, TABLE)?,
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
    select_by_seq(
        conn,
        &select_sql(filter),
        params,
        TABLE,
        "reading promotions",
        from_row,
    )
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
    let (lease_host, lease_pid, lease_start, lease_task, lease_expires) =
        lease::values(p.lease.as_ref());
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

/// The live promotion of `integration` whose `column` is `value`.
pub(crate) fn live_with(
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
    // No live promotion holds either: a binding that remains is a `link`'s. One indexed probe
    // on the hot path (static SQL, cached); the bindings are read only when it hits.
    let key = IntegrationKey::new(p.integration, &p.external_uid);
    let (account, integration) = (p.account.to_string(), p.integration.to_string());
    let hit = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM bindings WHERE account_id = ?1 AND integration_id = ?2) \
             OR EXISTS (SELECT 1 FROM bindings WHERE integration_key = ?3)",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![account, integration, key.as_str()], |row| {
                row.get::<_, bool>(0)
            })
        })
        .map_err(db_err("reading bindings"))?;
    if hit {
        let (of_account, of_customer) =
            crate::links::bound(&tx, &account, &integration, key.as_str())?;
        if let Some(bound) = of_account.or(of_customer) {
            return Err(RecordIntentError::Bound(Box::new(bound)));
        }
    }
    rows::insert_log(&tx, log)?;
    tx.commit().map_err(db_err("recording an intent"))?;
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
    let (pid_s, host, pid, start, task) = lease::holder_params(id, holder);
    // The fenced update answers with the promotion's kind (for the binding): no second read.
    let kind: Option<String> = tx
        .prepare_cached(concat!(
            "UPDATE promotions SET state = 'promoted', ",
            no_lease!(),
            ", updated_at = ?6, external_uid = ?7 WHERE ",
            fence!(),
            " RETURNING erp_kind"
        ))
        .and_then(|mut s| {
            s.query_row(
                params![
                    pid_s,
                    host,
                    pid,
                    start,
                    task,
                    ts(now),
                    binding.external_uid()
                ],
                |r| r.get(0),
            )
            .optional()
        })
        .map_err(db_err("confirming a promotion"))?;
    let Some(kind) = kind else {
        return Err(lease::refused(&tx, &LEASED, id));
    };
    rows::replace_binding(&tx, binding, &kind)?;
    rows::insert_log(&tx, log)?;
    tx.commit().map_err(db_err("confirming a promotion"))?;
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
            lease::settle(
                conn,
                &LEASED,
                id,
                &holder,
                settled.state(),
                Some(&reason),
                now,
                None,
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
                &LEASED,
                id,
                &holder,
                concat!(
                    "UPDATE promotions SET lease_expires_at = ?6 WHERE ",
                    fence!()
                ),
                &[&ts(expires_at)],
                None,
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
        self.release_held_lease(&LEASED, id, holder, now).await
    }

    async fn take_over(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        self.take_over_lease(&LEASED, id, expected, new).await
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

    async fn log_page(
        &self,
        account: Option<AccountId>,
        after: Option<LogPosition>,
        limit: usize,
    ) -> Result<Vec<(LogPosition, LogEntry)>, StoreError> {
        self.read(move |conn| rows::log_page(conn, account, after, limit))
            .await
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
