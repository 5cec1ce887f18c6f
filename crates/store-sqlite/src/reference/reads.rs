//! Reads: reference records of a set (all, or one by key), synced kinds and sync runs.

use std::collections::BTreeSet;

use rusqlite::{Connection, Row, params};

use crm2sage_domain::ports::StoreError;
use crm2sage_domain::{
    IntegrationId, ReferenceCode, ReferenceExtras, ReferenceKind, ReferenceRecord, SyncCounts,
    SyncOutcome, SyncRun, SyncRunId,
};

use super::{RECORDS, RUNS};
use crate::db::{col, corrupt, db_err, extras_from_json, known, parse_ts, parsed, parsed_opt};

pub(crate) fn record_from_row(row: &Row<'_>) -> Result<ReferenceRecord, StoreError> {
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
pub(super) const RECORD_BY_KEY: &str = "SELECT ?1 AS integration_id, ?2 AS kind, \
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

pub(crate) fn run_from_row(row: &Row<'_>) -> Result<SyncRun, StoreError> {
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
pub(super) fn records(
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
pub(super) fn record_by_key(
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

/// The kinds of `integration` with at least one successful sync.
pub(super) fn synced_kinds(
    conn: &Connection,
    integration: IntegrationId,
) -> Result<BTreeSet<ReferenceKind>, StoreError> {
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
}

/// The sync runs of `integration`, newest first.
pub(super) fn sync_runs(
    conn: &Connection,
    integration: IntegrationId,
) -> Result<Vec<SyncRun>, StoreError> {
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
}
