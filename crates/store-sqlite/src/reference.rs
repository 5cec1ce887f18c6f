//! [`ReferenceStore`]: reference records, sync runs and staged pages.
//!
//! # Tables
//!
//! - `reference_sets`: one row per (integration, kind) ever synced: a small integer `id` and
//!   `synced_at`, when the set's last successful sync finished.
//! - `reference_records`: keyed by (`set_id`, `code_key`), so no row repeats the integration's
//!   36-character id and the kind. A record's `synced_at` is **NULL when the set's last sync
//!   returned it** (it reads as the set's `synced_at`, in the same `SELECT`) and otherwise holds
//!   the time it was last written (deactivated, or returned inactive by an earlier sync). A
//!   record a sync returns unchanged is therefore not rewritten; what a reader sees is exactly
//!   what writing `synced_at = now` into every returned row would show.
//!
//! # A sync
//!
//! A sync never holds the write lock between calls: `begin_sync`, each `stage_page` and
//! `finish_sync` / `abort_sync` are separate short writes (each its own savepoint in a `BEGIN
//! IMMEDIATE` transaction of the writer thread, which may carry other writes with it).
//!
//! **Staging lives in the writer connection's TEMP database**, one table per run
//! (`temp.sync_stage_<run seq>`, keyed by `code_key`, so the last staged record of a code
//! wins), created by `begin_sync` and dropped by `finish_sync` / `abort_sync`. The staging of
//! a run that dies is discarded, never resumed, so it needs no durability: staged rows cost no
//! WAL and no fsync (a page's transaction writes only the run's `last_activity` to the file),
//! and discarding 100,000 of them is a `DROP TABLE`. The table lives as long as the
//! connection, so a run is staged and finished through the store that began it
//! ([`SqliteStore`] clones share it, as one process does); a run another connection began
//! (another process, the file opened again) cannot be staged or finished here — that is
//! reported as a store error and the run is left to be aborted or abandoned. A killed
//! process's staging goes with its connection; a run abandoned in this process is marked
//! failed by the next `begin_sync` of its kind, and every `begin_sync` drops the TEMP tables of
//! runs no longer running. The TEMP database keeps a small page cache (SQLite's default) and
//! spills to an unsynced temporary file (`SQLITE_TMPDIR`, `TMPDIR` or `/tmp`), so a large
//! sync's staging takes that much room there instead of in the database's directory.
//!
//! **`finish_sync`** is one transaction of set-based SQL, needing no memory per record:
//!
//! 1. A set with no records yet (the first sync): one `INSERT … SELECT` of the staging;
//!    everything is added.
//! 2. Otherwise one pass over the staging `LEFT JOIN` the set counts the total, the added, the
//!    updated (description, active flag, defaults compared as codes, other extras, or the
//!    code's spelling changed), the rows to write (also a default's spelling, or a record the
//!    last sync did not return) and the staged records that were *live* (active, or returned
//!    by the last sync). A count over the set's records gives its live and active ones: only
//!    when fewer live records were staged than there are does one `UPDATE` run, over the old
//!    rows only (it runs before the upsert): a live record not staged becomes inactive (never
//!    deleted) with `synced_at` = now if it was active, else the last sync's time (when that
//!    sync returned it). The deactivated count is the active records minus the active ones
//!    staged (staged codes are distinct). Then only the rows to write are upserted: a resync
//!    that changes nothing writes two small rows (the set's time and the run).
//! 3. The set's `synced_at` becomes now, the staging is dropped, the run is closed with its
//!    counts.
//!
//! Readers see the old snapshot or the new one, never a mix: it is one transaction, and each
//! read is one `SELECT` joining the set and its records.
//!
//! Every helper takes a `&Connection` (a transaction or savepoint derefs to one) and relies
//! on nothing but its own statements within the transaction.

use std::collections::BTreeSet;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crm2sage_domain::ports::{
    BeginSyncError, ErpReferenceRecord, ReferenceStore, StoreError, SyncRunError,
};
use crm2sage_domain::{
    IntegrationId, ReferenceCode, ReferenceExtras, ReferenceKind, ReferenceRecord, SyncCounts,
    SyncOutcome, SyncRun, SyncRunId, Timestamp,
};

use crate::SqliteStore;
use crate::db::{
    code_cols, col, corrupt, count_to_sql, db_err, extras_from_json, extras_to_json, known,
    parse_ts, parsed, parsed_opt, ts, write_tx,
};

const RECORDS: &str = "reference_records";
const RUNS: &str = "sync_runs";

const ABANDONED: &str = "abandoned: the process running it stopped";

/// The columns a staged row and a record share, in this order.
const DATA_COLUMNS: &str = "code_key, code, description, active, default_terms, \
     default_terms_key, default_tax_group, default_tax_group_key, extras";

/// For a staged row `s` and its record `r`: changed in a way a sync reports as an update —
/// description, active flag, defaults (compared as codes, i.e. by key), the other extras, or
/// the code's spelling.
const CHANGED: &str = "(r.description IS NOT s.description OR r.active IS NOT s.active \
     OR r.default_terms_key IS NOT s.default_terms_key \
     OR r.default_tax_group_key IS NOT s.default_tax_group_key \
     OR r.extras IS NOT s.extras OR r.code IS NOT s.code)";

/// For a staged row `s` and its record `r` (absent: all NULL): the record must be written —
/// it is new, changed, a default's spelling changed, or the set's last sync did not return
/// it (its `synced_at` is its own, and must become NULL).
fn must_write() -> String {
    format!(
        "(r.code_key IS NULL OR r.synced_at IS NOT NULL \
         OR r.default_terms IS NOT s.default_terms \
         OR r.default_tax_group IS NOT s.default_tax_group OR {CHANGED})"
    )
}

/// The TEMP table holding the staged records of the run with `seq`.
fn staging_table(seq: i64) -> String {
    format!("sync_stage_{seq}")
}

fn record_from_row(row: &Row<'_>) -> Result<ReferenceRecord, StoreError> {
    let active: i64 = col(row, RECORDS, "active")?;
    Ok(ReferenceRecord {
        integration: parsed(row, RECORDS, "integration_id", IntegrationId::parse)?,
        kind: parsed(row, RECORDS, "kind", str::parse)?,
        code: parsed(row, RECORDS, "code", ReferenceCode::parse)?,
        description: col(row, RECORDS, "description")?,
        active: active != 0,
        extras: ReferenceExtras {
            default_terms: parsed_opt(row, RECORDS, "default_terms", ReferenceCode::parse)?,
            default_tax_group: parsed_opt(row, RECORDS, "default_tax_group", ReferenceCode::parse)?,
            other: parsed(row, RECORDS, "extras", extras_from_json)?,
        },
        synced_at: parsed(row, RECORDS, "synced_at", parse_ts)?,
    })
}

/// A record with its set's integration and kind; a NULL `synced_at` reads as the set's.
const RECORD_SELECT: &str = "SELECT s.integration_id AS integration_id, s.kind AS kind, \
     r.code AS code, r.description AS description, r.active AS active, \
     r.default_terms AS default_terms, r.default_tax_group AS default_tax_group, \
     r.extras AS extras, coalesce(r.synced_at, s.synced_at) AS synced_at \
     FROM reference_sets AS s JOIN reference_records AS r ON r.set_id = s.id \
     WHERE s.integration_id = ?1 AND s.kind = ?2";

/// One record of a set, by key: what a promotion's code checks read. Not the join of
/// [`RECORD_SELECT`]: next to that join, `r.code_key = ?3` makes SQLite re-prepare the
/// statement whenever the bound values change (its planner looks at them), which was a
/// parse on every check of every promotion. The set's columns come from the parameters and
/// a subquery instead.
const RECORD_BY_KEY: &str = "SELECT ?1 AS integration_id, ?2 AS kind, \
     r.code AS code, r.description AS description, r.active AS active, \
     r.default_terms AS default_terms, r.default_tax_group AS default_tax_group, \
     r.extras AS extras, \
     coalesce(r.synced_at, (SELECT synced_at FROM reference_sets WHERE id = r.set_id)) \
     AS synced_at \
     FROM reference_records AS r \
     WHERE r.set_id = (SELECT id FROM reference_sets WHERE integration_id = ?1 AND kind = ?2) \
     AND r.code_key = ?3";

fn count(row: &Row<'_>, name: &str) -> Result<u64, StoreError> {
    let n: i64 = col(row, RUNS, name)?;
    u64::try_from(n).map_err(|_| corrupt(RUNS, name, n))
}

fn run_from_row(row: &Row<'_>) -> Result<SyncRun, StoreError> {
    Ok(SyncRun {
        id: parsed(row, RUNS, "id", SyncRunId::parse)?,
        integration: parsed(row, RUNS, "integration_id", IntegrationId::parse)?,
        kind: parsed(row, RUNS, "kind", str::parse)?,
        started_at: parsed(row, RUNS, "started_at", parse_ts)?,
        finished_at: parsed_opt(row, RUNS, "finished_at", parse_ts)?,
        outcome: parsed(
            row,
            RUNS,
            "outcome",
            known("sync outcome", SyncOutcome::parse),
        )?,
        counts: SyncCounts {
            added: count(row, "added")?,
            updated: count(row, "updated")?,
            deactivated: count(row, "deactivated")?,
            total: count(row, "total")?,
        },
        error: col(row, RUNS, "error")?,
    })
}

/// The running run `run`: its rowid, integration and kind; [`SyncRunError::NotRunning`]
/// otherwise.
fn running(conn: &Connection, run: SyncRunId) -> Result<(i64, String, String), SyncRunError> {
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
fn staging_of(conn: &Connection, run: SyncRunId, seq: i64) -> Result<String, SyncRunError> {
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

fn drop_staging(conn: &Connection, seq: i64) -> Result<(), StoreError> {
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

fn begin(
    conn: &mut Connection,
    integration: IntegrationId,
    kind: ReferenceKind,
    now: Timestamp,
    abandoned_before: Timestamp,
) -> Result<SyncRunId, BeginSyncError> {
    let tx = write_tx(conn)?;
    let integration_id = integration.to_string();
    let live: Vec<(i64, String, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT seq, started_at, last_activity FROM sync_runs \
                 WHERE integration_id = ?1 AND kind = ?2 AND outcome = 'running'",
            )
            .map_err(db_err("reading running syncs"))?;
        stmt.query_map(params![integration_id, kind.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .and_then(Iterator::collect)
        .map_err(db_err("reading running syncs"))?
    };
    for (seq, started, last) in live {
        let started = parse_ts(&started).map_err(|e| corrupt(RUNS, "started_at", e))?;
        let last = parse_ts(&last).map_err(|e| corrupt(RUNS, "last_activity", e))?;
        if last >= abandoned_before {
            return Err(BeginSyncError::AlreadyRunning {
                kind,
                since: started,
            });
        }
        // Abandoned: close it. Its staging went with its process, or (if this connection
        // began it) goes just below.
        tx.execute(
            "UPDATE sync_runs SET outcome = 'failed', finished_at = ?2, error = ?3 WHERE seq = ?1",
            params![seq, ts(now), ABANDONED],
        )
        .map_err(db_err("closing an abandoned sync"))?;
    }
    drop_dead_staging(&tx)?;
    let id = SyncRunId::generate();
    let seq: i64 = tx
        .prepare_cached(
            "INSERT INTO sync_runs (id, integration_id, kind, started_at, last_activity, \
             outcome) VALUES (?1, ?2, ?3, ?4, ?4, 'running') RETURNING seq",
        )
        .and_then(|mut s| {
            s.query_row(
                params![id.to_string(), integration_id, kind.as_str(), ts(now)],
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

fn stage(
    conn: &mut Connection,
    run: SyncRunId,
    records: &[ErpReferenceRecord],
    now: Timestamp,
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
    tx.prepare_cached("UPDATE sync_runs SET last_activity = ?2 WHERE seq = ?1")
        .and_then(|mut s| s.execute(params![seq, ts(now)]))
        .map_err(db_err("staging records"))?;
    tx.commit().map_err(db_err("staging records"))?;
    Ok(())
}

fn to_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// Swaps the staging in `table` into the set of (`integration`, `kind`), as the module docs
/// describe, and returns the counts. `lap` is told the name of each step as it ends (a no-op
/// but for the timing test).
fn swap(
    conn: &Connection,
    integration: &str,
    kind: &str,
    table: &str,
    now: &str,
    lap: &mut dyn FnMut(&'static str),
) -> Result<SyncCounts, StoreError> {
    let err = db_err("swapping the snapshot in");
    let existing: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT id, synced_at FROM reference_sets WHERE integration_id = ?1 AND kind = ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![integration, kind], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(&err)?;
    let (set, previous, fresh) = match existing {
        Some((set, previous)) => {
            let any: bool = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM reference_records WHERE set_id = ?1)")
                .and_then(|mut s| s.query_row([set], |r| r.get(0)))
                .map_err(&err)?;
            (set, previous, !any)
        }
        None => {
            let set: i64 = conn
                .prepare_cached(
                    "INSERT INTO reference_sets (integration_id, kind, synced_at) \
                     VALUES (?1, ?2, ?3) RETURNING id",
                )
                .and_then(|mut s| s.query_row(params![integration, kind, now], |r| r.get(0)))
                .map_err(&err)?;
            (set, now.to_owned(), true)
        }
    };
    lap("set");
    let counts = if fresh {
        let added = conn
            .execute(
                &format!(
                    "INSERT INTO reference_records (set_id, {DATA_COLUMNS}) \
                     SELECT ?1, {DATA_COLUMNS} FROM temp.{table}"
                ),
                [set],
            )
            .map_err(&err)? as u64;
        lap("insert");
        SyncCounts {
            added,
            updated: 0,
            deactivated: 0,
            total: added,
        }
    } else {
        let must_write = must_write();
        let (total, added, updated, to_write, live_staged, active_staged): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = conn
            .query_row(
                &format!(
                    "SELECT count(*), count(*) FILTER (WHERE r.code_key IS NULL), \
                     count(*) FILTER (WHERE r.code_key IS NOT NULL AND {CHANGED}), \
                     count(*) FILTER (WHERE {must_write}), \
                     count(*) FILTER (WHERE r.code_key IS NOT NULL \
                                      AND (r.synced_at IS NULL OR r.active = 1)), \
                     count(*) FILTER (WHERE r.active = 1) \
                     FROM temp.{table} AS s LEFT JOIN reference_records AS r \
                     ON r.set_id = ?1 AND r.code_key = s.code_key"
                ),
                [set],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .map_err(db_err("counting a sync's changes"))?;
        lap("classify");
        // Live: active, or returned by the last sync. Staged codes are distinct, so
        // `live - live_staged` live records (`active - active_staged` active ones) went.
        let (live, active): (i64, i64) = conn
            .prepare_cached(
                "SELECT count(*) FILTER (WHERE synced_at IS NULL OR active = 1), \
                 count(*) FILTER (WHERE active = 1) FROM reference_records WHERE set_id = ?1",
            )
            .and_then(|mut s| s.query_row([set], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(db_err("counting a sync's changes"))?;
        lap("count live");
        if live_staged < live {
            // Never delete: what the ERP no longer returns is kept, inactive. An active record
            // is deactivated now; an inactive one keeps the time of the last sync that
            // returned it.
            conn.execute(
                &format!(
                    "UPDATE reference_records \
                     SET active = 0, synced_at = CASE WHEN active = 1 THEN ?2 ELSE ?3 END \
                     WHERE set_id = ?1 AND (synced_at IS NULL OR active = 1) \
                     AND code_key NOT IN (SELECT code_key FROM temp.{table})"
                ),
                params![set, now, previous],
            )
            .map_err(db_err("deactivating records the ERP no longer returns"))?;
            lap("deactivate");
        }
        if to_write > 0 {
            conn.execute(
                &format!(
                    "INSERT INTO reference_records (set_id, {DATA_COLUMNS}, synced_at) \
                     SELECT ?1, s.code_key, s.code, s.description, s.active, s.default_terms, \
                     s.default_terms_key, s.default_tax_group, s.default_tax_group_key, \
                     s.extras, NULL \
                     FROM temp.{table} AS s LEFT JOIN reference_records AS r \
                     ON r.set_id = ?1 AND r.code_key = s.code_key \
                     WHERE {must_write} \
                     ON CONFLICT (set_id, code_key) DO UPDATE SET code = excluded.code, \
                     description = excluded.description, active = excluded.active, \
                     default_terms = excluded.default_terms, \
                     default_terms_key = excluded.default_terms_key, \
                     default_tax_group = excluded.default_tax_group, \
                     default_tax_group_key = excluded.default_tax_group_key, \
                     extras = excluded.extras, synced_at = NULL"
                ),
                [set],
            )
            .map_err(&err)?;
            lap("upsert");
        }
        SyncCounts {
            added: to_count(added),
            updated: to_count(updated),
            deactivated: to_count(active - active_staged),
            total: to_count(total),
        }
    };
    // Every record this sync returned now reads this time.
    conn.prepare_cached("UPDATE reference_sets SET synced_at = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![set, now]))
        .map_err(&err)?;
    lap("set time");
    Ok(counts)
}

fn finish(
    conn: &mut Connection,
    run: SyncRunId,
    now: Timestamp,
) -> Result<SyncCounts, SyncRunError> {
    finish_timed(conn, run, now, &mut |_| {})
}

fn finish_timed(
    conn: &mut Connection,
    run: SyncRunId,
    now: Timestamp,
    lap: &mut dyn FnMut(&'static str),
) -> Result<SyncCounts, SyncRunError> {
    let tx = write_tx(conn)?;
    let (seq, integration, kind) = running(&tx, run)?;
    let table = staging_of(&tx, run, seq)?;
    let now = ts(now);
    lap("find run");
    let counts = swap(&tx, &integration, &kind, &table, &now, lap)?;
    drop_staging(&tx, seq)?;
    lap("drop staging");
    tx.execute(
        "UPDATE sync_runs SET outcome = 'ok', finished_at = ?2, last_activity = ?2, \
         added = ?3, updated = ?4, deactivated = ?5, total = ?6 WHERE seq = ?1",
        params![
            seq,
            now,
            count_to_sql(counts.added, "count")?,
            count_to_sql(counts.updated, "count")?,
            count_to_sql(counts.deactivated, "count")?,
            count_to_sql(counts.total, "count")?,
        ],
    )
    .map_err(db_err("finishing a sync run"))?;
    tx.commit().map_err(db_err("finishing a sync run"))?;
    lap("release savepoint");
    Ok(counts)
}

fn abort(
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

/// The records of (`integration`, `kind`), by code.
fn records(
    conn: &Connection,
    integration: IntegrationId,
    kind: ReferenceKind,
) -> Result<Vec<ReferenceRecord>, StoreError> {
    let err = db_err("reading reference records");
    let mut stmt = conn
        .prepare_cached(&format!("{RECORD_SELECT} ORDER BY r.code_key"))
        .map_err(&err)?;
    let mut rows = stmt
        .query(params![integration.to_string(), kind.as_str()])
        .map_err(&err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(&err)? {
        out.push(record_from_row(row)?);
    }
    Ok(out)
}

/// The record of (`integration`, `kind`) with `key`, if any.
fn record_by_key(
    conn: &Connection,
    integration: IntegrationId,
    kind: ReferenceKind,
    key: &str,
) -> Result<Option<ReferenceRecord>, StoreError> {
    let err = db_err("reading reference records");
    let mut stmt = conn.prepare_cached(RECORD_BY_KEY).map_err(&err)?;
    let mut rows = stmt
        .query(params![integration.to_string(), kind.as_str(), key])
        .map_err(&err)?;
    rows.next().map_err(&err)?.map(record_from_row).transpose()
}

#[async_trait]
impl ReferenceStore for SqliteStore {
    async fn begin_sync(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        now: Timestamp,
        abandoned_before: Timestamp,
    ) -> Result<SyncRunId, BeginSyncError> {
        self.write(move |conn| begin(conn, integration, kind, now, abandoned_before))
            .await
    }

    async fn stage_page(
        &self,
        run: SyncRunId,
        records: &[ErpReferenceRecord],
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        let records = records.to_vec();
        self.write(move |conn| stage(conn, run, &records, now))
            .await
    }

    async fn finish_sync(
        &self,
        run: SyncRunId,
        now: Timestamp,
    ) -> Result<SyncCounts, SyncRunError> {
        self.write(move |conn| finish(conn, run, now)).await
    }

    async fn abort_sync(
        &self,
        run: SyncRunId,
        outcome: SyncOutcome,
        error: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        let error = error.to_owned();
        self.write(move |conn| abort(conn, run, outcome, &error, now))
            .await
    }

    async fn reference_records(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
    ) -> Result<Vec<ReferenceRecord>, StoreError> {
        self.read(move |conn| records(conn, integration, kind))
            .await
    }

    async fn reference_record(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        code: &ReferenceCode,
    ) -> Result<Option<ReferenceRecord>, StoreError> {
        let key = code.key().to_owned();
        self.read_point(move |conn| record_by_key(conn, integration, kind, &key))
            .await
    }

    async fn reference_records_by_code(
        &self,
        integration: IntegrationId,
        wanted: &[(ReferenceKind, ReferenceCode)],
    ) -> Result<Vec<Option<ReferenceRecord>>, StoreError> {
        let wanted: Vec<(ReferenceKind, String)> = wanted
            .iter()
            .map(|(kind, code)| (*kind, code.key().to_owned()))
            .collect();
        // One trip to the blocking pool for all of a promotion's checks.
        self.read_point(move |conn| {
            wanted
                .into_iter()
                .map(|(kind, key)| record_by_key(conn, integration, kind, &key))
                .collect()
        })
        .await
    }

    async fn synced_kinds(
        &self,
        integration: IntegrationId,
    ) -> Result<BTreeSet<ReferenceKind>, StoreError> {
        self.read_point(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT DISTINCT kind FROM sync_runs \
                     WHERE integration_id = ?1 AND outcome = 'ok'",
                )
                .map_err(db_err("reading synced kinds"))?;
            let mut rows = stmt
                .query([integration.to_string()])
                .map_err(db_err("reading synced kinds"))?;
            let mut kinds = BTreeSet::new();
            while let Some(row) = rows.next().map_err(db_err("reading synced kinds"))? {
                kinds.insert(parsed(row, RUNS, "kind", str::parse)?);
            }
            Ok(kinds)
        })
        .await
    }

    async fn sync_runs(&self, integration: IntegrationId) -> Result<Vec<SyncRun>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, integration_id, kind, started_at, finished_at, outcome, added, \
                     updated, deactivated, total, error FROM sync_runs \
                     WHERE integration_id = ?1 ORDER BY seq DESC",
                )
                .map_err(db_err("reading sync runs"))?;
            let mut rows = stmt
                .query([integration.to_string()])
                .map_err(db_err("reading sync runs"))?;
            let mut runs = Vec::new();
            while let Some(row) = rows.next().map_err(db_err("reading sync runs"))? {
                runs.push(run_from_row(row)?);
            }
            Ok(runs)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::Instant;

    use crm2sage_domain::contract::stores::{integration, t0};
    use crm2sage_domain::ports::IntegrationStore;

    use super::*;
    use crate::db::{as_one_write, connect};

    // The write functions as the writer thread runs them: each in a transaction of its own.
    fn begin(
        conn: &mut Connection,
        integration: IntegrationId,
        kind: ReferenceKind,
        now: Timestamp,
        abandoned_before: Timestamp,
    ) -> Result<SyncRunId, BeginSyncError> {
        as_one_write(conn, |c| {
            super::begin(c, integration, kind, now, abandoned_before)
        })
    }

    fn stage(
        conn: &mut Connection,
        run: SyncRunId,
        records: &[ErpReferenceRecord],
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        as_one_write(conn, |c| super::stage(c, run, records, now))
    }

    fn finish(
        conn: &mut Connection,
        run: SyncRunId,
        now: Timestamp,
    ) -> Result<SyncCounts, SyncRunError> {
        as_one_write(conn, |c| super::finish(c, run, now))
    }

    fn abort(
        conn: &mut Connection,
        run: SyncRunId,
        outcome: SyncOutcome,
        error: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        as_one_write(conn, |c| super::abort(c, run, outcome, error, now))
    }

    fn at(seconds: i64) -> Timestamp {
        t0().checked_add(jiff::SignedDuration::from_secs(seconds))
            .unwrap()
    }

    /// A store file with one integration, and a writer connection of our own on it.
    async fn writer(path: &Path) -> (IntegrationId, Connection) {
        let store = SqliteStore::open(path).unwrap();
        let i = integration("alpha", true);
        store.add_integration(&i).await.unwrap();
        (i.id(), connect(path, false).unwrap())
    }

    fn temp_tables(conn: &Connection) -> Vec<String> {
        conn.prepare("SELECT name FROM temp.sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn record(code: &str) -> ErpReferenceRecord {
        ErpReferenceRecord {
            code: ReferenceCode::parse(code).unwrap(),
            description: format!("{code} description"),
            active: true,
            extras: ReferenceExtras::default(),
        }
    }

    #[tokio::test]
    async fn staging_lives_in_temp_and_goes_at_finish_abort_and_the_next_begin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (i, mut conn) = writer(&path).await;
        let kind = ReferenceKind::Terms;

        let run = begin(&mut conn, i, kind, at(0), at(-300)).unwrap();
        stage(&mut conn, run, &[record("N30")], at(1)).unwrap();
        let (seq, _, _) = running(&conn, run).unwrap();
        assert_eq!(temp_tables(&conn), [staging_table(seq)]);
        let staged: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM temp.{}", staging_table(seq)),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(staged, 1);
        finish(&mut conn, run, at(2)).unwrap();
        assert!(temp_tables(&conn).is_empty(), "finish drops the staging");

        let run = begin(&mut conn, i, kind, at(10), at(-290)).unwrap();
        stage(&mut conn, run, &[record("N60")], at(11)).unwrap();
        abort(&mut conn, run, SyncOutcome::Failed, "boom", at(12)).unwrap();
        assert!(temp_tables(&conn).is_empty(), "abort drops the staging");

        // Abandoned in this process (never finished nor aborted): the next begin of its kind
        // closes it and drops its staging.
        let abandoned = begin(&mut conn, i, kind, at(20), at(-280)).unwrap();
        stage(&mut conn, abandoned, &[record("ZZZ")], at(21)).unwrap();
        let fresh = begin(&mut conn, i, kind, at(400), at(100)).unwrap();
        let (seq, _, _) = running(&conn, fresh).unwrap();
        assert_eq!(temp_tables(&conn), [staging_table(seq)]);
        assert!(matches!(
            stage(&mut conn, abandoned, &[record("ZZZ")], at(401)),
            Err(SyncRunError::NotRunning(_))
        ));
        let counts = finish(&mut conn, fresh, at(402)).unwrap();
        assert_eq!((counts.total, counts.deactivated), (0, 1));

        // The main file holds no staging at all.
        let main_tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM main.sqlite_schema WHERE name LIKE '%stag%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(main_tables, 0);
    }

    #[tokio::test]
    async fn a_run_another_connection_began_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (i, mut mine) = writer(&path).await;
        let mut other = connect(&path, false).unwrap();
        let kind = ReferenceKind::Terms;
        let run = begin(&mut mine, i, kind, at(0), at(-300)).unwrap();
        stage(&mut mine, run, &[record("N30")], at(1)).unwrap();

        let err = stage(&mut other, run, &[record("N60")], at(2)).unwrap_err();
        let refused = matches!(&err, SyncRunError::Store(StoreError::Internal(m))
            if m.contains("not on this connection"));
        assert!(refused, "{err:?}");
        let err = finish(&mut other, run, at(3)).unwrap_err();
        assert!(matches!(err, SyncRunError::Store(_)), "{err:?}");
        assert!(temp_tables(&other).is_empty());
        // Still running, and its own connection finishes it with what it staged.
        let counts = finish(&mut mine, run, at(4)).unwrap();
        assert_eq!((counts.added, counts.total), (1, 1));
        // Abort needs no staging: another connection may end a run.
        let run = begin(&mut mine, i, kind, at(10), at(-290)).unwrap();
        abort(&mut other, run, SyncOutcome::Failed, "stopped", at(11)).unwrap();
        assert!(matches!(
            finish(&mut mine, run, at(12)),
            Err(SyncRunError::NotRunning(_))
        ));
    }

    fn base36(mut n: usize) -> String {
        let digits = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut out = [b'0'; 5];
        for d in out.iter_mut().rev() {
            *d = digits[n % 36];
            n /= 36;
        }
        String::from_utf8(out.to_vec()).unwrap()
    }

    /// A customer group shaped like the simulator's generated ones (what the bench syncs).
    fn generated_group(i: usize) -> ErpReferenceRecord {
        let other: BTreeMap<String, String> = [
            ("AccountSet", "USA"),
            ("BillingCycle", "USA"),
            ("InterestProfile", "USA"),
            ("RateType", "SP"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        ErpReferenceRecord {
            code: ReferenceCode::parse(&format!("G{}", base36(i))).unwrap(),
            description: format!("Generated group {i}"),
            active: true,
            extras: ReferenceExtras {
                default_terms: Some(ReferenceCode::parse("N30").unwrap()),
                default_tax_group: Some(ReferenceCode::parse("CALIF").unwrap()),
                other,
            },
        }
    }

    fn explain(conn: &Connection, sql: &str) {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let params = stmt.parameter_count();
        let args: Vec<i64> = vec![1; params];
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        eprintln!("  plan: {}", plan.join(" | "));
    }

    /// Prints how long each step of staging and of the swap takes for 100,000 records:
    /// a first sync, a resync that changes nothing, and one where 1 % changed and 1 % went.
    /// `cargo test --release -p crm2sage-store-sqlite --lib -- --ignored --nocapture`
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "prints timings; run by hand"]
    async fn swap_timings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (i, mut conn) = writer(&path).await;
        let kind = ReferenceKind::Category;
        let all: Vec<ErpReferenceRecord> = (1..=100_000).map(generated_group).collect();
        for round in 0..3_i64 {
            let mut records = all.clone();
            if round == 2 {
                for r in records.iter_mut().step_by(100) {
                    r.description.push_str(" (changed)");
                }
                records.truncate(99_000);
            }
            let run = begin(&mut conn, i, kind, at(round * 10), at(round * 10 - 300)).unwrap();
            let t = Instant::now();
            for page in records.chunks(1000) {
                stage(&mut conn, run, page, at(round * 10 + 1)).unwrap();
            }
            eprintln!(
                "round {round}: staged {} records in {:.1} ms",
                records.len(),
                t.elapsed().as_secs_f64() * 1e3
            );
            if round == 2 {
                let (seq, _, _) = running(&conn, run).unwrap();
                let table = staging_table(seq);
                let must_write = must_write();
                explain(
                    &conn,
                    &format!(
                        "SELECT count(*) FILTER (WHERE {must_write}) FROM temp.{table} AS s \
                         LEFT JOIN reference_records AS r \
                         ON r.set_id = ?1 AND r.code_key = s.code_key"
                    ),
                );
                explain(
                    &conn,
                    &format!(
                        "UPDATE reference_records \
                         SET active = 0, synced_at = CASE WHEN active = 1 THEN ?2 ELSE ?3 END \
                         WHERE set_id = ?1 AND (synced_at IS NULL OR active = 1) \
                         AND code_key NOT IN (SELECT code_key FROM temp.{table})"
                    ),
                );
                explain(
                    &conn,
                    &format!(
                        "INSERT INTO reference_records (set_id, {DATA_COLUMNS}, synced_at) \
                         SELECT ?1, s.code_key, s.code, s.description, s.active, \
                         s.default_terms, s.default_terms_key, s.default_tax_group, \
                         s.default_tax_group_key, s.extras, NULL \
                         FROM temp.{table} AS s LEFT JOIN reference_records AS r \
                         ON r.set_id = ?1 AND r.code_key = s.code_key WHERE {must_write} \
                         ON CONFLICT (set_id, code_key) DO UPDATE SET synced_at = NULL"
                    ),
                );
                explain(
                    &conn,
                    "SELECT count(*) FROM reference_records \
                     WHERE set_id = ?1 AND (synced_at IS NULL OR active = 1)",
                );
            }
            let start = Instant::now();
            let mut t = Instant::now();
            let counts = as_one_write(&mut conn, |c| {
                finish_timed(c, run, at(round * 10 + 2), &mut |step| {
                    eprintln!("  {step:<14} {:>7.1} ms", t.elapsed().as_secs_f64() * 1e3);
                    t = Instant::now();
                })
            })
            .unwrap();
            eprintln!(
                "  commit (group) {:>7.1} ms",
                t.elapsed().as_secs_f64() * 1e3
            );
            eprintln!(
                "  finish total   {:>7.1} ms  {counts:?}",
                start.elapsed().as_secs_f64() * 1e3
            );
        }
        let sizes: Vec<(String, i64, i64)> = conn
            .prepare(
                "SELECT name, sum(pgsize), sum(payload) FROM dbstat \
                 GROUP BY name HAVING sum(pgsize) > 65536",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        eprintln!("sizes (bytes on pages, payload): {sizes:?}");
    }

    #[tokio::test]
    async fn a_code_check_reuses_its_statement_whatever_the_code() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (i, mut conn) = writer(&path).await;
        let run = begin(&mut conn, i, ReferenceKind::Terms, at(0), at(-300)).unwrap();
        stage(&mut conn, run, &[record("N30"), record("N60")], at(1)).unwrap();
        finish(&mut conn, run, at(2)).unwrap();
        let reader = connect(&path, true).unwrap();
        for code in ["N30", "N60", "N90", "n30"] {
            let found = record_by_key(&reader, i, ReferenceKind::Terms, &code.to_ascii_uppercase())
                .unwrap();
            assert_eq!(found.is_some(), code != "N90", "{code}");
            if let Some(r) = &found {
                assert_eq!((r.integration, r.kind), (i, ReferenceKind::Terms));
                assert_eq!(r.synced_at, at(2));
            }
        }
        let stmt = reader.prepare_cached(RECORD_BY_KEY).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }
}
