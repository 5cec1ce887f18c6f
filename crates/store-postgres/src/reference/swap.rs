//! `finish_sync`: swapping a run's staging into its set in one transaction, as the SQLite
//! store does (see its `reference::swap` module for the steps and why).

use deadpool_postgres::{GenericClient, Object};

use crm2sage_domain::ports::{StoreError, SyncRunError};
use crm2sage_domain::{SyncCounts, SyncRunId, Timestamp};

use super::DATA_COLUMNS;
use super::run::{drop_staging, lock_running};
use crate::db::{col, count_to_sql, db_err, to_count, ts};
use crate::{execute, query};

/// For a staged row `s` and its record `r`: changed in a way a sync reports as an update —
/// description, active flag, defaults (compared as codes, i.e. by key), the other extras, or
/// the code's spelling.
const CHANGED: &str = "(r.description IS DISTINCT FROM s.description \
     OR r.active IS DISTINCT FROM s.active \
     OR r.default_terms_key IS DISTINCT FROM s.default_terms_key \
     OR r.default_tax_group_key IS DISTINCT FROM s.default_tax_group_key \
     OR r.extras IS DISTINCT FROM s.extras OR r.code IS DISTINCT FROM s.code)";

/// For a staged row `s` and its record `r` (absent: all NULL): the record must be written —
/// new, changed, a default's spelling changed, or not returned by the set's last sync.
fn must_write() -> String {
    format!(
        "(r.code_key IS NULL OR r.synced_at IS NOT NULL \
         OR r.default_terms IS DISTINCT FROM s.default_terms \
         OR r.default_tax_group IS DISTINCT FROM s.default_tax_group OR {CHANGED})"
    )
}

/// Swaps the staging of run `seq` into the set of (`integration`, `kind`) and returns the
/// counts.
async fn swap<C: GenericClient>(
    client: &C,
    integration: &str,
    kind: &str,
    seq: i64,
    now: &str,
) -> Result<SyncCounts, StoreError> {
    let err = db_err("swapping the snapshot in");
    // The set, created when missing (locked: two finishes of one kind cannot interleave,
    // and only one run per kind runs anyway).
    let set_row = query(
        client,
        "INSERT INTO reference_sets (integration_id, kind, synced_at) VALUES ($1, $2, $3) \
         ON CONFLICT (integration_id, kind) DO UPDATE SET kind = excluded.kind \
         RETURNING id, synced_at, (xmax = 0) AS created",
        &[&integration, &kind, &now],
    )
    .await
    .map_err(&err)?
    .pop()
    .ok_or_else(|| StoreError::Internal("the reference set was not written".into()))?;
    let set: i64 = col(&set_row, "reference_sets", "id")?;
    let previous: String = col(&set_row, "reference_sets", "synced_at")?;
    let created: bool = col(&set_row, "reference_sets", "created")?;
    let fresh = created
        || !client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM reference_records WHERE set_id = $1)",
                &[&set],
            )
            .await
            .and_then(|r| r.try_get::<_, bool>(0))
            .map_err(&err)?;
    let counts = if fresh {
        let added = execute(
            client,
            &format!(
                "INSERT INTO reference_records (set_id, {DATA_COLUMNS}) \
                 SELECT $1, {DATA_COLUMNS} FROM sync_staging WHERE run_seq = $2"
            ),
            &[&set, &seq],
        )
        .await
        .map_err(&err)?;
        SyncCounts {
            added,
            updated: 0,
            deactivated: 0,
            total: added,
        }
    } else {
        let must_write = must_write();
        let classified = query(
            client,
            &format!(
                "SELECT count(*) AS total, count(*) FILTER (WHERE r.code_key IS NULL) AS added, \
                 count(*) FILTER (WHERE r.code_key IS NOT NULL AND {CHANGED}) AS updated, \
                 count(*) FILTER (WHERE {must_write}) AS to_write, \
                 count(*) FILTER (WHERE r.code_key IS NOT NULL \
                                  AND (r.synced_at IS NULL OR r.active)) AS live_staged, \
                 count(*) FILTER (WHERE r.active) AS active_staged \
                 FROM sync_staging AS s LEFT JOIN reference_records AS r \
                 ON r.set_id = $1 AND r.code_key = s.code_key WHERE s.run_seq = $2"
            ),
            &[&set, &seq],
        )
        .await
        .map_err(db_err("counting a sync's changes"))?
        .pop()
        .ok_or_else(|| StoreError::Internal("counting a sync's changes: no row".into()))?;
        let n = |name: &str| col::<i64>(&classified, "sync_staging", name);
        let (total, added, updated, to_write, live_staged, active_staged) = (
            n("total")?,
            n("added")?,
            n("updated")?,
            n("to_write")?,
            n("live_staged")?,
            n("active_staged")?,
        );
        // Live: active, or returned by the last sync.
        let live_row = query(
            client,
            "SELECT count(*) FILTER (WHERE synced_at IS NULL OR active) AS live, \
             count(*) FILTER (WHERE active) AS active FROM reference_records WHERE set_id = $1",
            &[&set],
        )
        .await
        .map_err(db_err("counting a sync's changes"))?
        .pop()
        .ok_or_else(|| StoreError::Internal("counting a sync's changes: no row".into()))?;
        let live: i64 = col(&live_row, "reference_records", "live")?;
        let active: i64 = col(&live_row, "reference_records", "active")?;
        if live_staged < live {
            // Never delete: what the ERP no longer returns is kept, inactive.
            execute(
                client,
                "UPDATE reference_records AS r \
                 SET active = FALSE, synced_at = CASE WHEN r.active THEN $2 ELSE $3 END \
                 WHERE r.set_id = $1 AND (r.synced_at IS NULL OR r.active) \
                 AND NOT EXISTS (SELECT 1 FROM sync_staging AS s \
                                 WHERE s.run_seq = $4 AND s.code_key = r.code_key)",
                &[&set, &now, &previous, &seq],
            )
            .await
            .map_err(db_err("deactivating records the ERP no longer returns"))?;
        }
        if to_write > 0 {
            execute(
                client,
                &format!(
                    "INSERT INTO reference_records (set_id, {DATA_COLUMNS}, synced_at) \
                     SELECT $1, s.code_key, s.code, s.description, s.active, s.default_terms, \
                     s.default_terms_key, s.default_tax_group, s.default_tax_group_key, \
                     s.extras, NULL \
                     FROM sync_staging AS s LEFT JOIN reference_records AS r \
                     ON r.set_id = $1 AND r.code_key = s.code_key \
                     WHERE s.run_seq = $2 AND {must_write} \
                     ON CONFLICT (set_id, code_key) DO UPDATE SET code = excluded.code, \
                     description = excluded.description, active = excluded.active, \
                     default_terms = excluded.default_terms, \
                     default_terms_key = excluded.default_terms_key, \
                     default_tax_group = excluded.default_tax_group, \
                     default_tax_group_key = excluded.default_tax_group_key, \
                     extras = excluded.extras, synced_at = NULL"
                ),
                &[&set, &seq],
            )
            .await
            .map_err(&err)?;
        }
        SyncCounts {
            added: to_count(added),
            updated: to_count(updated),
            deactivated: to_count(active - active_staged),
            total: to_count(total),
        }
    };
    // Every record this sync returned now reads this time.
    execute(
        client,
        "UPDATE reference_sets SET synced_at = $2 WHERE id = $1",
        &[&set, &now],
    )
    .await
    .map_err(&err)?;
    Ok(counts)
}

pub(super) async fn finish(
    client: &mut Object,
    run: SyncRunId,
    now: Timestamp,
) -> Result<SyncCounts, SyncRunError> {
    let tx = client
        .transaction()
        .await
        .map_err(db_err("finishing a sync run"))?;
    let (seq, integration, kind) = lock_running(&tx, run).await?;
    let now = ts(now);
    let counts = swap(&tx, &integration, &kind, seq, &now).await?;
    drop_staging(&tx, seq).await?;
    execute(
        &tx,
        "UPDATE sync_runs SET outcome = 'ok', finished_at = $2, last_activity = $2, \
         added = $3, updated = $4, deactivated = $5, total = $6 WHERE seq = $1",
        &[
            &seq,
            &now,
            &count_to_sql(counts.added, "count")?,
            &count_to_sql(counts.updated, "count")?,
            &count_to_sql(counts.deactivated, "count")?,
            &count_to_sql(counts.total, "count")?,
        ],
    )
    .await
    .map_err(db_err("finishing a sync run"))?;
    tx.commit().await.map_err(db_err("finishing a sync run"))?;
    Ok(counts)
}
