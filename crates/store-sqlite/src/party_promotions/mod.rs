//! [`PartyPromotionStore`]: ship-to and contact promotions over `party_promotions`, fenced
//! like a customer's (see the `promotions` module).
//!
//! The exactly-once rule is the partial unique index over the live states on (integration,
//! account, kind, code): an intent that loses to it writes nothing, log entry included, and
//! is answered with the live row. Every change to an in-flight row is a fenced
//! `UPDATE … WHERE id AND state = 'creating' AND lease = the caller's`; a take-over compares
//! the whole current lease. A `promoted` row is the party's binding.

pub(crate) mod rows;

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crm2sage_domain::ports::{
    FencedWriteError, LogEntry, PartyPromotionStore, RecordPartyIntentError, StoreError,
    TakeOverError,
};
use crm2sage_domain::{
    AccountId, Lease, LeaseHolder, PartyOutcome, PartyPromotion, PromotionId, Timestamp,
};

use crate::SqliteStore;
use crate::db::{db_err, is_unique_violation, ts, u64_to_sql, write_tx};
use crate::promotions::rows::insert_log;

/// The fence of every write by a lease holder: parameters `?1` (id) to `?5` (task).
macro_rules! fence {
    () => {
        "id = ?1 AND state = 'creating' AND lease_host = ?2 AND lease_pid = ?3 \
         AND lease_process_start = ?4 AND lease_task = ?5"
    };
}

/// Clears the lease (the `SET` part).
macro_rules! no_lease {
    () => {
        "lease_host = NULL, lease_pid = NULL, lease_process_start = NULL, lease_task = NULL, \
         lease_expires_at = NULL"
    };
}

fn account_exists(conn: &Connection, account: AccountId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?1)")
        .and_then(|mut stmt| stmt.query_row([account.to_string()], |r| r.get(0)))
        .map_err(db_err("looking up an account"))
}

/// The live promotion of `p`'s party in `p`'s integration, if any.
fn live_of(conn: &Connection, p: &PartyPromotion) -> Result<Option<PartyPromotion>, StoreError> {
    Ok(rows::select(
        conn,
        "integration_id = ?1 AND account_id = ?2 AND kind = ?3 AND code = ?4 \
         AND state IN ('creating', 'promoted')",
        params![
            p.integration.to_string(),
            p.account.to_string(),
            p.party.kind().as_str(),
            p.party.as_str()
        ],
    )?
    .pop())
}

/// The intent and its log entry, in one savepoint. The writer thread's transaction holds the
/// write lock, so the account check cannot be overtaken; the index decides the race all the
/// same.
fn record_intent(
    conn: &mut Connection,
    p: &PartyPromotion,
    log: &LogEntry,
) -> Result<(), RecordPartyIntentError> {
    let tx = write_tx(conn)?;
    if !account_exists(&tx, p.account)? {
        return Err(RecordPartyIntentError::AccountNotFound(p.account));
    }
    let context = format!("recording party promotion {}", p.id);
    match rows::insert(&tx, p) {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            if let Some(live) = live_of(&tx, p)? {
                return Err(RecordPartyIntentError::Live(Box::new(live)));
            }
            return Err(db_err(&context)(e).into());
        }
        Err(e) => return Err(db_err(&context)(e).into()),
    }
    insert_log(&tx, log)?;
    tx.commit().map_err(db_err(&context))?;
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
fn refused(conn: &Connection, id: PromotionId) -> FencedWriteError {
    let exists = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM party_promotions WHERE id = ?1)")
        .and_then(|mut s| s.query_row([id.to_string()], |r| r.get::<_, bool>(0)))
        .map_err(db_err("checking a party promotion"));
    match exists {
        Ok(true) => FencedWriteError::LeaseLost,
        Ok(false) => FencedWriteError::NotFound,
        Err(e) => FencedWriteError::Store(e),
    }
}

/// Runs `sql` (fenced with [`fence!`]) with the holder's parameters then `extra`, and appends
/// `log` when given, in one savepoint: a refused update writes nothing.
fn fenced_update(
    conn: &mut Connection,
    id: PromotionId,
    holder: &LeaseHolder,
    sql: &str,
    extra: &[&dyn rusqlite::ToSql],
    log: Option<&LogEntry>,
) -> Result<(), FencedWriteError> {
    let tx = write_tx(conn)?;
    let (id_s, host, pid, start, task) = holder_params(id, holder);
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&id_s, &host, &pid, &start, &task];
    all.extend_from_slice(extra);
    let changed = tx
        .prepare_cached(sql)
        .and_then(|mut s| s.execute(all.as_slice()))
        .map_err(db_err("updating a party promotion"))?;
    if changed == 0 {
        return Err(refused(&tx, id));
    }
    if let Some(log) = log {
        insert_log(&tx, log)?;
    }
    tx.commit().map_err(db_err("updating a party promotion"))?;
    Ok(())
}

fn take_over(
    conn: &mut Connection,
    id: PromotionId,
    expected: Option<&Lease>,
    new: &Lease,
) -> Result<(), TakeOverError> {
    let tx = write_tx(conn)?;
    let set = "UPDATE party_promotions SET lease_host = ?2, lease_pid = ?3, \
               lease_process_start = ?4, lease_task = ?5, lease_expires_at = ?6 \
               WHERE id = ?1 AND state = 'creating' AND ";
    let (id_s, host, pid, start, task) = holder_params(id, &new.holder);
    let expires = ts(new.expires_at);
    let changed = match expected {
        None => tx
            .prepare_cached(&format!("{set}lease_host IS NULL"))
            .and_then(|mut s| s.execute(params![id_s, host, pid, start, task, expires])),
        Some(old) => tx
            .prepare_cached(&format!(
                "{set}lease_host = ?7 AND lease_pid = ?8 AND lease_process_start = ?9 \
                 AND lease_task = ?10 AND lease_expires_at = ?11"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    id_s,
                    host,
                    pid,
                    start,
                    task,
                    expires,
                    old.holder.host,
                    old.holder.pid,
                    u64_to_sql(old.holder.process_start),
                    u64_to_sql(old.holder.task),
                    ts(old.expires_at),
                ])
            }),
    }
    .map_err(db_err("taking over a party promotion's lease"))?;
    if changed == 0 {
        return Err(TakeOverError::Changed);
    }
    tx.commit()
        .map_err(db_err("taking over a party promotion's lease"))?;
    Ok(())
}

#[async_trait]
impl PartyPromotionStore for SqliteStore {
    async fn record_party_intent(
        &self,
        promotion: &PartyPromotion,
        log: &LogEntry,
    ) -> Result<(), RecordPartyIntentError> {
        let (p, log) = (promotion.clone(), log.clone());
        self.write(move |conn| record_intent(conn, &p, &log)).await
    }

    async fn settle_party(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        outcome: &PartyOutcome,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        let (holder, log) = (holder.clone(), log.clone());
        let (state, error) = (outcome.state(), outcome.error().map(str::to_owned));
        self.write(move |conn| {
            fenced_update(
                conn,
                id,
                &holder,
                concat!(
                    "UPDATE party_promotions SET state = ?6, error = ?7, updated_at = ?8, ",
                    no_lease!(),
                    " WHERE ",
                    fence!()
                ),
                &[&state.as_str(), &error, &ts(now)],
                Some(&log),
            )
        })
        .await
    }

    async fn release_party_lease(
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
                    "UPDATE party_promotions SET updated_at = ?6, ",
                    no_lease!(),
                    " WHERE ",
                    fence!()
                ),
                &[&ts(now)],
                None,
            )
        })
        .await
    }

    async fn take_over_party(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        let (expected, new) = (expected.cloned(), new.clone());
        self.write(move |conn| take_over(conn, id, expected.as_ref(), &new))
            .await
    }

    async fn party_promotion(&self, id: PromotionId) -> Result<Option<PartyPromotion>, StoreError> {
        self.read_point(move |conn| Ok(rows::select(conn, "id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn party_in_flight(&self) -> Result<Vec<PartyPromotion>, StoreError> {
        self.read(|conn| rows::select(conn, "state = 'creating'", []))
            .await
    }

    async fn party_promotions_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<PartyPromotion>, StoreError> {
        self.read_point(move |conn| rows::select(conn, "account_id = ?1", [account.to_string()]))
            .await
    }
}

#[cfg(test)]
mod tests;
