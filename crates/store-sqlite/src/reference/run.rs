//! A run's life: `begin_sync` (reporting the running run and its holder, creating the TEMP
//! staging), `stage_page` (extending the hold) and `abort_sync` (which also abandons a run
//! begun elsewhere). `finish_sync` is in [`super::swap`].

use rusqlite::{Connection, OptionalExtension, Row, params};

use crm2sage_domain::ports::{BeginSyncError, ErpReferenceRecord, StoreError, SyncRunError};
use crm2sage_domain::{
    IntegrationId, LeaseHolder, ReferenceKind, SyncOutcome, SyncRunId, Timestamp,
};

use super::{DATA_COLUMNS, RUNS};
use crate::db::{
    code_cols, col, corrupt, db_err, extras_to_json, parse_ts, parsed, ts, u64_from_sql,
    u64_to_sql, write_tx,
};

/// Why a running run without a holder is closed: only a crm2sage older than schema version 4
/// (still running when the file was upgraded) begins one.
const HOLDERLESS: &str = "abandoned: begun by an older crm2sage, which records no holder";

/// The TEMP table holding the staged records of the run with `seq`.
pub(super) fn staging_table(seq: i64) -> String {
    format!("sync_stage_{seq}")
}

/// The running run `run`: its rowid, integration and kind; [`SyncRunError::NotRunning`]
/// otherwise.
pub(super) fn running(
    conn: &Connection,
    run: SyncRunId,
) -> Result<(i64, String, String), SyncRunError> {
    conn.prepare_cached(
        "SELECT seq, integration_id, kind FROM sync_runs WHERE id = ?1 AND outcome = 'running'",
    )
    .and_then(|mut s| {
        s.query_row([run.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
    })
    .map_err(db_err("finding a sync run"))?
    .ok_or(SyncRunError::NotRunning(run))
}

/// The staging table of running run `run` (with `seq`) on this connection; an error when it
/// is not here: another connection began the run.
pub(super) fn staging_of(
    conn: &Connection,
    run: SyncRunId,
    seq: i64,
) -> Result<String, SyncRunError> {
    let table = staging_table(seq);
    let here: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM temp.sqlite_schema WHERE type = 'table' AND name = ?1)",
        )
        .and_then(|mut s| s.query_row([&table], |r| r.get(0)))
        .map_err(db_err("finding a sync's staging"))?;
    if here {
        Ok(table)
    } else {
        Err(StoreError::Internal(format!(
            "sync run {run} is running, but not on this connection: its staged records live \
             with the connection that began it (another process, or the database opened \
             again), so it cannot be staged or finished here"
        ))
        .into())
    }
}

pub(super) fn drop_staging(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.{}", staging_table(seq)))
        .map_err(db_err("discarding staged records"))
}

/// Drops this connection's staging tables of runs that are no longer running (abandoned,
/// ended elsewhere, or removed with their integration).
fn drop_dead_staging(conn: &Connection) -> Result<(), StoreError> {
    let dead: Vec<i64> = {
        let mut stmt = conn
            .prepare_cached(
                "SELECT name FROM temp.sqlite_schema \
                 WHERE type = 'table' AND name GLOB 'sync_stage_[0-9]*'",
            )
            .map_err(db_err("finding leftover staging"))?;
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(db_err("finding leftover staging"))?;
        let mut alive = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM sync_runs WHERE seq = ?1 AND outcome = 'running')",
            )
            .map_err(db_err("finding leftover staging"))?;
        let mut dead = Vec::new();
        for seq in names
            .iter()
            .filter_map(|n| n.strip_prefix("sync_stage_")?.parse::<i64>().ok())
        {
            let running: bool = alive
                .query_row([seq], |r| r.get(0))
                .map_err(db_err("finding leftover staging"))?;
            if !running {
                dead.push(seq);
            }
        }
        dead
    };
    for seq in dead {
        drop_staging(conn, seq)?;
    }
    Ok(())
}

/// The holder and expiry of a running run's row, `None` for a row without a holder.
fn hold_from_row(row: &Row<'_>) -> Result<Option<(LeaseHolder, Timestamp)>, StoreError> {
    let host: Option<String> = col(row, RUNS, "holder_host")?;
    let (Some(host), Some(expires)) = (host, col::<Option<String>>(row, RUNS, "expires_at")?)
    else {
        return Ok(None);
    };
    let pid: i64 = col(row, RUNS, "holder_pid")?;
    let start: i64 = col(row, RUNS, "holder_process_start")?;
    let task: i64 = col(row, RUNS, "holder_task")?;
    let holder = LeaseHolder {
        host,
        pid: u32::try_from(pid).map_err(|_| corrupt(RUNS, "holder_pid", pid))?,
        process_start: u64_from_sql(start),
        task: u64_from_sql(task),
    };
    let expires_at = parse_ts(&expires).map_err(|e| corrupt(RUNS, "expires_at", e))?;
    Ok(Some((holder, expires_at)))
}

pub(super) fn begin(
    conn: &mut Connection,
    integration: IntegrationId,
    kind: ReferenceKind,
    holder: &LeaseHolder,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<SyncRunId, BeginSyncError> {
    let tx = write_tx(conn)?;
    let integration_id = integration.to_string();
    let running = {
        let err = db_err("reading running syncs");
        let mut stmt = tx
            .prepare_cached(
                "SELECT seq, id, started_at, holder_host, holder_pid, holder_process_start, \
                 holder_task, expires_at FROM sync_runs \
                 WHERE integration_id = ?1 AND kind = ?2 AND outcome = 'running'",
            )
            .map_err(&err)?;
        let mut rows = stmt
            .query(params![integration_id, kind.as_str()])
            .map_err(&err)?;
        match rows.next().map_err(&err)? {
            None => None,
            Some(row) => Some((
                col::<i64>(row, RUNS, "seq")?,
                parsed(row, RUNS, "id", SyncRunId::parse)?,
                parsed(row, RUNS, "started_at", parse_ts)?,
                hold_from_row(row)?,
            )),
        }
    };
    if let Some((seq, run, since, hold)) = running {
        if let Some((holder, expires_at)) = hold {
            // Whether its holder is still at work is the caller's to judge.
            return Err(BeginSyncError::AlreadyRunning {
                kind,
                run,
                holder,
                expires_at,
                since,
            });
        }
        // No holder: treated as expired (see HOLDERLESS). Its staging went with its process.
        tx.execute(
            "UPDATE sync_runs SET outcome = 'failed', finished_at = ?2, error = ?3 WHERE seq = ?1",
            params![seq, ts(now), HOLDERLESS],
        )
        .map_err(db_err("closing a sync run without a holder"))?;
    }
    drop_dead_staging(&tx)?;
    let id = SyncRunId::generate();
    let seq: i64 = tx
        .prepare_cached(
            "INSERT INTO sync_runs (id, integration_id, kind, started_at, last_activity, \
             outcome, holder_host, holder_pid, holder_process_start, holder_task, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?4, 'running', ?5, ?6, ?7, ?8, ?9) RETURNING seq",
        )
        .and_then(|mut s| {
            s.query_row(
                params![
                    id.to_string(),
                    integration_id,
                    kind.as_str(),
                    ts(now),
                    holder.host,
                    i64::from(holder.pid),
                    u64_to_sql(holder.process_start),
                    u64_to_sql(holder.task),
                    ts(expires_at),
                ],
                |r| r.get(0),
            )
        })
        .map_err(db_err("starting a sync run"))?;
    tx.execute_batch(&format!(
        "CREATE TABLE temp.{} (
             code_key              TEXT NOT NULL PRIMARY KEY,
             code                  TEXT NOT NULL,
             description           TEXT NOT NULL,
             active                INTEGER NOT NULL,
             default_terms         TEXT,
             default_terms_key     TEXT,
             default_tax_group     TEXT,
             default_tax_group_key TEXT,
             extras                TEXT NOT NULL
         ) STRICT, WITHOUT ROWID",
        staging_table(seq)
    ))
    .map_err(db_err("starting a sync run"))?;
    tx.commit().map_err(db_err("starting a sync run"))?;
    Ok(id)
}

pub(super) fn stage(
    conn: &mut Connection,
    run: SyncRunId,
    records: &[ErpReferenceRecord],
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), SyncRunError> {
    let tx = write_tx(conn)?;
    let (seq, _, _) = running(&tx, run)?;
    let table = staging_of(&tx, run, seq)?;
    {
        // The last staged record of a code wins, as the ERP's later page would.
        let mut insert = tx
            .prepare_cached(&format!(
                "INSERT INTO temp.{table} ({DATA_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (code_key) DO UPDATE SET code = excluded.code, \
                 description = excluded.description, active = excluded.active, \
                 default_terms = excluded.default_terms, \
                 default_terms_key = excluded.default_terms_key, \
                 default_tax_group = excluded.default_tax_group, \
                 default_tax_group_key = excluded.default_tax_group_key, \
                 extras = excluded.extras"
            ))
            .map_err(db_err("staging records"))?;
        for r in records {
            let (terms, terms_key) = code_cols(r.extras.default_terms.as_ref());
            let (tax, tax_key) = code_cols(r.extras.default_tax_group.as_ref());
            insert
                .execute(params![
                    r.code.key(),
                    r.code.as_str(),
                    r.description,
                    r.active,
                    terms,
                    terms_key,
                    tax,
                    tax_key,
                    extras_to_json(&r.extras)?,
                ])
                .map_err(db_err("staging records"))?;
        }
    }
    tx.prepare_cached("UPDATE sync_runs SET last_activity = ?2, expires_at = ?3 WHERE seq = ?1")
        .and_then(|mut s| s.execute(params![seq, ts(now), ts(expires_at)]))
        .map_err(db_err("staging records"))?;
    tx.commit().map_err(db_err("staging records"))?;
    Ok(())
}

pub(super) fn abort(
    conn: &mut Connection,
    run: SyncRunId,
    outcome: SyncOutcome,
    error: &str,
    now: Timestamp,
) -> Result<(), SyncRunError> {
    let tx = write_tx(conn)?;
    let (seq, _, _) = running(&tx, run)?;
    let outcome = if outcome == SyncOutcome::Unavailable {
        SyncOutcome::Unavailable
    } else {
        SyncOutcome::Failed
    };
    tx.execute(
        "UPDATE sync_runs SET outcome = ?2, finished_at = ?3, error = ?4 WHERE seq = ?1",
        params![seq, outcome.as_str(), ts(now), error],
    )
    .map_err(db_err("ending a sync run"))?;
    drop_staging(&tx, seq)?;
    tx.commit().map_err(db_err("ending a sync run"))?;
    Ok(())
}
