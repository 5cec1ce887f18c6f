//! `finish_sync`: swapping a run's staging into its set in one transaction, as the module
//! docs of [`super`] describe.

use rusqlite::{Connection, OptionalExtension, params};

use crm2sage_domain::ports::{StoreError, SyncRunError};
use crm2sage_domain::{SyncCounts, SyncRunId, Timestamp};

use super::DATA_COLUMNS;
use super::run::{drop_staging, running, staging_of};
use crate::db::{count_to_sql, db_err, ts, write_tx};

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
pub(super) fn must_write() -> String {
    format!(
        "(r.code_key IS NULL OR r.synced_at IS NOT NULL \
         OR r.default_terms IS NOT s.default_terms \
         OR r.default_tax_group IS NOT s.default_tax_group OR {CHANGED})"
    )
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

pub(super) fn finish(
    conn: &mut Connection,
    run: SyncRunId,
    now: Timestamp,
) -> Result<SyncCounts, SyncRunError> {
    finish_timed(conn, run, now, &mut |_| {})
}

pub(super) fn finish_timed(
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
