//! [`ReferenceStore`]: reference records, sync runs and staged pages.
//!
//! A sync never holds the write lock between calls: `begin_sync`, each `stage_page` and
//! `finish_sync` / `abort_sync` are separate short `BEGIN IMMEDIATE` transactions. The swap in
//! `finish_sync` is set-based SQL over the staging table, so it needs no memory per record.

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

const RECORD_COLUMNS: &str = "integration_id, kind, code, description, active, default_terms, \
     default_tax_group, extras, synced_at";

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
fn running(tx: &Connection, run: SyncRunId) -> Result<(i64, String, String), SyncRunError> {
    tx.prepare_cached(
        "SELECT seq, integration_id, kind FROM sync_runs WHERE id = ?1 AND outcome = 'running'",
    )
    .and_then(|mut s| {
        s.query_row([run.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
    })
    .map_err(db_err("finding a sync run"))?
    .ok_or(SyncRunError::NotRunning(run))
}

fn discard_staging(tx: &Connection, run_seq: i64) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM sync_staging WHERE run_seq = ?1")
        .and_then(|mut s| s.execute([run_seq]))
        .map_err(db_err("discarding staged records"))?;
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
        // Abandoned by a killed process: close it and drop its staging.
        tx.execute(
            "UPDATE sync_runs SET outcome = 'failed', finished_at = ?2, error = ?3 WHERE seq = ?1",
            params![seq, ts(now), ABANDONED],
        )
        .map_err(db_err("closing an abandoned sync"))?;
        discard_staging(&tx, seq)?;
    }
    // Any leftover staging of this kind (there should be none) goes too.
    tx.execute(
        "DELETE FROM sync_staging WHERE run_seq IN (SELECT seq FROM sync_runs \
         WHERE integration_id = ?1 AND kind = ?2 AND outcome <> 'running')",
        params![integration_id, kind.as_str()],
    )
    .map_err(db_err("discarding leftover staging"))?;
    let id = SyncRunId::generate();
    tx.execute(
        "INSERT INTO sync_runs (id, integration_id, kind, started_at, last_activity, outcome) \
         VALUES (?1, ?2, ?3, ?4, ?4, 'running')",
        params![id.to_string(), integration_id, kind.as_str(), ts(now)],
    )
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
    {
        // The last staged record of a code wins, as the ERP's later page would.
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO sync_staging (run_seq, code_key, code, description, active, \
                 default_terms, default_terms_key, default_tax_group, default_tax_group_key, \
                 extras) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (run_seq, code_key) DO UPDATE SET code = excluded.code, \
                 description = excluded.description, active = excluded.active, \
                 default_terms = excluded.default_terms, \
                 default_terms_key = excluded.default_terms_key, \
                 default_tax_group = excluded.default_tax_group, \
                 default_tax_group_key = excluded.default_tax_group_key, \
                 extras = excluded.extras",
            )
            .map_err(db_err("staging records"))?;
        for r in records {
            let (terms, terms_key) = code_cols(r.extras.default_terms.as_ref());
            let (tax, tax_key) = code_cols(r.extras.default_tax_group.as_ref());
            insert
                .execute(params![
                    seq,
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

fn finish(
    conn: &mut Connection,
    run: SyncRunId,
    now: Timestamp,
) -> Result<SyncCounts, SyncRunError> {
    let tx = write_tx(conn)?;
    let (seq, integration, kind) = running(&tx, run)?;
    let now = ts(now);
    let scalar = |sql: &str| -> Result<u64, StoreError> {
        let n: i64 = tx
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(params![integration, kind, seq], |r| r.get(0)))
            .map_err(db_err("counting a sync's changes"))?;
        Ok(u64::try_from(n).unwrap_or_default())
    };
    let total: i64 = tx
        .prepare_cached("SELECT count(*) FROM sync_staging WHERE run_seq = ?1")
        .and_then(|mut s| s.query_row([seq], |r| r.get(0)))
        .map_err(db_err("counting staged records"))?;
    let total = u64::try_from(total).unwrap_or_default();
    let added = scalar(
        "SELECT count(*) FROM sync_staging AS s WHERE s.run_seq = ?3 AND NOT EXISTS \
         (SELECT 1 FROM reference_records AS r \
          WHERE r.integration_id = ?1 AND r.kind = ?2 AND r.code_key = s.code_key)",
    )?;
    // Changed: the description, active flag, extras (defaults compared as codes, i.e. by
    // key) or the code's spelling.
    let updated = scalar(
        "SELECT count(*) FROM sync_staging AS s JOIN reference_records AS r \
         ON r.integration_id = ?1 AND r.kind = ?2 AND r.code_key = s.code_key \
         WHERE s.run_seq = ?3 AND (r.description IS NOT s.description \
         OR r.active IS NOT s.active OR r.default_terms_key IS NOT s.default_terms_key \
         OR r.default_tax_group_key IS NOT s.default_tax_group_key \
         OR r.extras IS NOT s.extras OR r.code IS NOT s.code)",
    )?;
    tx.prepare_cached(
        "INSERT INTO reference_records (integration_id, kind, code_key, code, description, \
         active, default_terms, default_terms_key, default_tax_group, default_tax_group_key, \
         extras, synced_at) \
         SELECT ?1, ?2, code_key, code, description, active, default_terms, default_terms_key, \
         default_tax_group, default_tax_group_key, extras, ?4 FROM sync_staging \
         WHERE run_seq = ?3 \
         ON CONFLICT (integration_id, kind, code_key) DO UPDATE SET code = excluded.code, \
         description = excluded.description, active = excluded.active, \
         default_terms = excluded.default_terms, default_terms_key = excluded.default_terms_key, \
         default_tax_group = excluded.default_tax_group, \
         default_tax_group_key = excluded.default_tax_group_key, extras = excluded.extras, \
         synced_at = excluded.synced_at",
    )
    .and_then(|mut s| s.execute(params![integration, kind, seq, now]))
    .map_err(db_err("swapping the snapshot in"))?;
    // Never delete: what the ERP no longer returns is kept, inactive.
    let deactivated = tx
        .prepare_cached(
            "UPDATE reference_records SET active = 0, synced_at = ?4 \
             WHERE integration_id = ?1 AND kind = ?2 AND active = 1 AND NOT EXISTS \
             (SELECT 1 FROM sync_staging AS s \
              WHERE s.run_seq = ?3 AND s.code_key = reference_records.code_key)",
        )
        .and_then(|mut s| s.execute(params![integration, kind, seq, now]))
        .map_err(db_err("deactivating records the ERP no longer returns"))?;
    let counts = SyncCounts {
        added,
        updated,
        deactivated: deactivated as u64,
        total,
    };
    discard_staging(&tx, seq)?;
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
    discard_staging(&tx, seq)?;
    tx.commit().map_err(db_err("ending a sync run"))?;
    Ok(())
}

fn records<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
) -> Result<Vec<ReferenceRecord>, StoreError> {
    let sql =
        format!("SELECT {RECORD_COLUMNS} FROM reference_records WHERE {filter} ORDER BY code_key");
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(db_err("reading reference records"))?;
    let mut rows = stmt
        .query(params)
        .map_err(db_err("reading reference records"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading reference records"))? {
        out.push(record_from_row(row)?);
    }
    Ok(out)
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
        self.read(move |conn| {
            records(
                conn,
                "integration_id = ?1 AND kind = ?2",
                params![integration.to_string(), kind.as_str()],
            )
        })
        .await
    }

    async fn reference_record(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        code: &ReferenceCode,
    ) -> Result<Option<ReferenceRecord>, StoreError> {
        let key = code.key().to_owned();
        self.read_point(move |conn| {
            Ok(records(
                conn,
                "integration_id = ?1 AND kind = ?2 AND code_key = ?3",
                params![integration.to_string(), kind.as_str(), key],
            )?
            .pop())
        })
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
                .map(|(kind, key)| {
                    Ok(records(
                        conn,
                        "integration_id = ?1 AND kind = ?2 AND code_key = ?3",
                        params![integration.to_string(), kind.as_str(), key],
                    )?
                    .pop())
                })
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
