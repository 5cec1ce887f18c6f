//! Reads: reference records of a set (all, or one by key), synced kinds and sync runs.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crm2sage_domain::ports::StoreError;
use crm2sage_domain::{
    IntegrationId, ReferenceCode, ReferenceExtras, ReferenceKind, ReferenceRecord, SyncCounts,
    SyncOutcome, SyncRun, SyncRunId,
};

use super::{RECORDS, RUNS};
use crate::db::{col, corrupt, db_err, extras_from_json, known, parse_ts, parsed, parsed_opt};
use crate::{query, query_map};

fn record_from_row(row: &Row) -> Result<ReferenceRecord, StoreError> {
    Ok(ReferenceRecord {
        integration: parsed(row, RECORDS, "integration_id", IntegrationId::parse)?,
        kind: parsed(row, RECORDS, "kind", str::parse)?,
        code: parsed(row, RECORDS, "code", ReferenceCode::parse)?,
        description: col(row, RECORDS, "description")?,
        active: col(row, RECORDS, "active")?,
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
     WHERE s.integration_id = $1 AND s.kind = $2";

fn count(row: &Row, name: &str) -> Result<u64, StoreError> {
    let n: i64 = col(row, RUNS, name)?;
    u64::try_from(n).map_err(|_| corrupt(RUNS, name, n))
}

fn run_from_row(row: &Row) -> Result<SyncRun, StoreError> {
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

/// The records of (`integration`, `kind`), by code.
pub(super) async fn records<C: GenericClient>(
    client: &C,
    integration: IntegrationId,
    kind: ReferenceKind,
) -> Result<Vec<ReferenceRecord>, StoreError> {
    query_map(
        client,
        &format!("{RECORD_SELECT} ORDER BY r.code_key"),
        &[&integration.to_string(), &kind.as_str()],
        "reading reference records",
        record_from_row,
    )
    .await
}

/// The record of (`integration`, `kind`) with `key`, if any.
pub(super) async fn record_by_key<C: GenericClient>(
    client: &C,
    integration: IntegrationId,
    kind: ReferenceKind,
    key: &str,
) -> Result<Option<ReferenceRecord>, StoreError> {
    query(
        client,
        &format!("{RECORD_SELECT} AND r.code_key = $3"),
        &[&integration.to_string(), &kind.as_str(), &key],
    )
    .await
    .map_err(db_err("reading reference records"))?
    .first()
    .map(record_from_row)
    .transpose()
}

/// The kinds of `integration` with at least one successful sync.
pub(super) async fn synced_kinds<C: GenericClient>(
    client: &C,
    integration: IntegrationId,
) -> Result<BTreeSet<ReferenceKind>, StoreError> {
    query(
        client,
        "SELECT DISTINCT kind FROM sync_runs WHERE integration_id = $1 AND outcome = 'ok'",
        &[&integration.to_string()],
    )
    .await
    .map_err(db_err("reading synced kinds"))?
    .iter()
    .map(|row| parsed(row, RUNS, "kind", str::parse))
    .collect()
}

/// The sync runs of `integration`, newest first.
pub(super) async fn sync_runs<C: GenericClient>(
    client: &C,
    integration: IntegrationId,
) -> Result<Vec<SyncRun>, StoreError> {
    query(
        client,
        "SELECT id, integration_id, kind, started_at, finished_at, outcome, added, \
         updated, deactivated, total, error FROM sync_runs \
         WHERE integration_id = $1 ORDER BY seq DESC",
        &[&integration.to_string()],
    )
    .await
    .map_err(db_err("reading sync runs"))?
    .iter()
    .map(run_from_row)
    .collect()
}
