//! The lease of an in-flight promotion, for every table that holds one (`promotions`,
//! `party_promotions`): its columns' codec, the fence of a holder's write, and the
//! take-over that compares the whole current lease in its `WHERE`. One owner, so the two
//! tables cannot drift apart in how they fence.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crm2sage_domain::ports::{FencedWriteError, LogEntry, StoreError, TakeOverError};
use crm2sage_domain::{Lease, LeaseHolder, PromotionId, Timestamp};

use crate::db::{as_params, col, corrupt, db_err, parse_ts, parsed, ts, u64_from_sql, u64_to_sql};
use crate::promotions::rows::{LOG_COLUMNS, log_values};
use crate::{PostgresStore, execute};

/// The fence of every write by a lease holder: parameters `$1` (id) to `$5` (task).
macro_rules! fence {
    () => {
        "id = $1 AND state = 'creating' AND lease_host = $2 AND lease_pid = $3 \
         AND lease_process_start = $4 AND lease_task = $5"
    };
}
pub(crate) use fence;

/// Clears the lease (the `SET` part).
macro_rules! no_lease {
    () => {
        "lease_host = NULL, lease_pid = NULL, lease_process_start = NULL, lease_task = NULL, \
         lease_expires_at = NULL"
    };
}
pub(crate) use no_lease;

/// A table of leased promotions, and the words its errors use.
pub(crate) struct Leased {
    /// The table's name.
    pub(crate) table: &'static str,
    /// What a row is, in an error's context ("a promotion").
    pub(crate) noun: &'static str,
    /// The context of a failed take-over.
    pub(crate) taking_over: &'static str,
}

/// The lease columns (`lease_host` … `lease_expires_at`) of a row of `table`.
pub(crate) fn from_row(row: &Row, table: &str) -> Result<Option<Lease>, StoreError> {
    let host: Option<String> = col(row, table, "lease_host")?;
    let Some(host) = host else {
        return Ok(None);
    };
    let pid: i64 = col(row, table, "lease_pid")?;
    let start: i64 = col(row, table, "lease_process_start")?;
    let task: i64 = col(row, table, "lease_task")?;
    Ok(Some(Lease {
        holder: LeaseHolder {
            host,
            pid: u32::try_from(pid).map_err(|_| corrupt(table, "lease_pid", pid))?,
            process_start: u64_from_sql(start),
            task: u64_from_sql(task),
        },
        expires_at: parsed(row, table, "lease_expires_at", parse_ts)?,
    }))
}

/// The lease columns' values (host, pid, process start, task, expiry), all `NULL` without one.
pub(crate) type Values = (
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// `lease` as the values of its columns, in [`from_row`]'s order.
pub(crate) fn values(lease: Option<&Lease>) -> Values {
    (
        lease.map(|l| l.holder.host.clone()),
        lease.map(|l| i64::from(l.holder.pid)),
        lease.map(|l| u64_to_sql(l.holder.process_start)),
        lease.map(|l| u64_to_sql(l.holder.task)),
        lease.map(|l| ts(l.expires_at)),
    )
}

/// The parameters `$1` to `$5` of [`fence!`]: the id, then the holder.
pub(crate) fn holder_values(id: PromotionId, h: &LeaseHolder) -> (String, String, i64, i64, i64) {
    (
        id.to_string(),
        h.host.clone(),
        i64::from(h.pid),
        u64_to_sql(h.process_start),
        u64_to_sql(h.task),
    )
}

/// Explains a fenced update that changed nothing: the promotion is gone or not ours.
pub(crate) async fn refused<C: GenericClient>(
    client: &C,
    t: &Leased,
    id: PromotionId,
) -> FencedWriteError {
    let exists = client
        .query_one(
            &format!("SELECT EXISTS (SELECT 1 FROM {} WHERE id = $1)", t.table),
            &[&id.to_string()],
        )
        .await
        .and_then(|r| r.try_get::<_, bool>(0))
        .map_err(db_err(&format!("checking {}", t.noun)));
    match exists {
        Ok(true) => FencedWriteError::LeaseLost,
        Ok(false) => FencedWriteError::NotFound,
        Err(e) => FencedWriteError::Store(e),
    }
}

impl PostgresStore {
    /// Runs `sql` (a write to `t` fenced with [`fence!`]) with the holder's parameters then
    /// `extra`, as one statement (its own transaction); `sql` answers, as rows changed, 0 when
    /// the fence refused. Dropping the future after the statement was sent leaves the outcome
    /// unknown to the caller: the write happened or not, never half.
    pub(crate) async fn fenced_update(
        &self,
        t: &Leased,
        id: PromotionId,
        holder: &LeaseHolder,
        sql: &str,
        extra: &[&(dyn ToSql + Sync)],
    ) -> Result<(), FencedWriteError> {
        let client = self.client().await?;
        let (id_s, host, pid, start, task) = holder_values(id, holder);
        let mut all: Vec<&(dyn ToSql + Sync)> = vec![&id_s, &host, &pid, &start, &task];
        all.extend_from_slice(extra);
        let changed = execute(&client, sql, &all)
            .await
            .map_err(db_err(&format!("updating {}", t.noun)))?;
        if changed == 0 {
            return Err(refused(&client, t, id).await);
        }
        Ok(())
    }

    /// Ends the holder's in-flight promotion `id` of `t` as `state` with `error`, releasing
    /// the lease in the same fenced `UPDATE`; with `log`, in the same statement the log line
    /// goes in only when the fenced update changed the row.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn settle_held(
        &self,
        t: &Leased,
        id: PromotionId,
        holder: &LeaseHolder,
        state: &str,
        error: Option<&str>,
        now: Timestamp,
        log: Option<&LogEntry>,
    ) -> Result<(), FencedWriteError> {
        let update = format!(
            concat!(
                "UPDATE {} SET state = $6, error = $7, updated_at = $8, ",
                no_lease!(),
                " WHERE ",
                fence!()
            ),
            t.table
        );
        let now = ts(now);
        let mut extra: Vec<&(dyn ToSql + Sync)> = vec![&state, &error, &now];
        let Some(log) = log else {
            return self.fenced_update(t, id, holder, &update, &extra).await;
        };
        let log = log_values(log)?;
        extra.extend(as_params(&log));
        let sql = format!(
            "WITH settled AS ({update} RETURNING 1) INSERT INTO promotion_log ({LOG_COLUMNS}) \
             SELECT $9, $10, $11, $12, $13, $14, $15, $16 FROM settled"
        );
        self.fenced_update(t, id, holder, &sql, &extra).await
    }

    /// Gives up the holder's lease on promotion `id` of `t`, which stays in flight for
    /// another to take over.
    pub(crate) async fn release_held_lease(
        &self,
        t: &Leased,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        let sql = format!(
            concat!(
                "UPDATE {} SET updated_at = $6, ",
                no_lease!(),
                " WHERE ",
                fence!()
            ),
            t.table
        );
        self.fenced_update(t, id, holder, &sql, &[&ts(now)]).await
    }

    /// Gives promotion `id` of `t` the lease `new` if its lease is still `expected` (none, or
    /// the whole lease, expiry included): one compare-and-set statement.
    pub(crate) async fn take_over_lease(
        &self,
        t: &Leased,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        let client = self.client().await?;
        let set = format!(
            "UPDATE {} SET lease_host = $2, lease_pid = $3, lease_process_start = $4, \
             lease_task = $5, lease_expires_at = $6 WHERE id = $1 AND state = 'creating' AND ",
            t.table
        );
        let (id_s, host, pid, start, task) = holder_values(id, &new.holder);
        let expires = ts(new.expires_at);
        let changed = match expected {
            None => {
                execute(
                    &client,
                    &format!("{set}lease_host IS NULL"),
                    &[&id_s, &host, &pid, &start, &task, &expires],
                )
                .await
            }
            Some(old) => {
                let (_, old_host, old_pid, old_start, old_task) = holder_values(id, &old.holder);
                execute(
                    &client,
                    &format!(
                        "{set}lease_host = $7 AND lease_pid = $8 AND lease_process_start = $9 \
                         AND lease_task = $10 AND lease_expires_at = $11"
                    ),
                    &[
                        &id_s,
                        &host,
                        &pid,
                        &start,
                        &task,
                        &expires,
                        &old_host,
                        &old_pid,
                        &old_start,
                        &old_task,
                        &ts(old.expires_at),
                    ],
                )
                .await
            }
        }
        .map_err(db_err(t.taking_over))?;
        if changed == 0 {
            return Err(TakeOverError::Changed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_lease_is_all_nulls_and_a_lease_keeps_its_holder() {
        assert_eq!(values(None), (None, None, None, None, None));
        let lease = Lease {
            holder: LeaseHolder {
                host: "h".into(),
                pid: 7,
                process_start: u64::MAX,
                task: 3,
            },
            expires_at: "2026-01-01T00:00:00Z".parse().expect("a timestamp"),
        };
        let (host, pid, start, task, expires) = values(Some(&lease));
        assert_eq!((host.as_deref(), pid, task), (Some("h"), Some(7), Some(3)));
        assert_eq!(start.map(u64_from_sql), Some(u64::MAX));
        assert_eq!(expires, Some(ts(lease.expires_at)));
    }
}
