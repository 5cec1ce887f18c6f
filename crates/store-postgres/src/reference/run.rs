//! A run's life: `begin_sync` (reporting the running run and its holder), `stage_page`
//! (into the shared UNLOGGED staging, extending the hold) and `abort_sync` (which also
//! abandons a run begun elsewhere). `finish_sync` is in [`super::swap`].

use std::collections::HashMap;

use deadpool_postgres::{GenericClient, Object};
use tokio_postgres::Row;

use crm2sage_domain::ports::{BeginSyncError, ErpReferenceRecord, StoreError, SyncRunError};
use crm2sage_domain::{
    IntegrationId, LeaseHolder, ReferenceKind, SyncOutcome, SyncRunId, Timestamp,
};

use super::RUNS;
use crate::db::{
    code_cols, col, corrupt, db_err, extras_to_json, parse_ts, parsed, ts, u64_from_sql, u64_to_sql,
};
use crate::{execute, query};

/// Why a running run without a holder is closed.
const HOLDERLESS: &str = "abandoned: begun by an older crm2sage, which records no holder";

/// How many times `begin_sync` retries when the running run it lost to ended meanwhile.
const BEGIN_TRIES: usize = 3;

/// The running run `run`, locked for this transaction: its seq, integration and kind;
/// [`SyncRunError::NotRunning`] otherwise.
pub(super) async fn lock_running<C: GenericClient>(
    client: &C,
    run: SyncRunId,
) -> Result<(i64, String, String), SyncRunError> {
    let row = query(
        client,
        "SELECT seq, integration_id, kind FROM sync_runs \
         WHERE id = $1 AND outcome = 'running' FOR UPDATE",
        &[&run.to_string()],
    )
    .await
    .map_err(db_err("finding a sync run"))?
    .pop()
    .ok_or(SyncRunError::NotRunning(run))?;
    Ok((
        col(&row, RUNS, "seq")?,
        col(&row, RUNS, "integration_id")?,
        col(&row, RUNS, "kind")?,
    ))
}

/// Deletes the staged rows of the run with `seq`.
pub(super) async fn drop_staging<C: GenericClient>(client: &C, seq: i64) -> Result<(), StoreError> {
    execute(
        client,
        "DELETE FROM sync_staging WHERE run_seq = $1",
        &[&seq],
    )
    .await
    .map_err(db_err("discarding staged records"))?;
    Ok(())
}

/// The holder and expiry of a running run's row, `None` for a row without a holder.
fn hold_from_row(row: &Row) -> Result<Option<(LeaseHolder, Timestamp)>, StoreError> {
    let host: Option<String> = col(row, RUNS, "holder_host")?;
    let expires: Option<&str> = col(row, RUNS, "expires_at")?;
    let (Some(host), Some(expires)) = (host, expires) else {
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
    let expires_at = parse_ts(expires).map_err(|e| corrupt(RUNS, "expires_at", e))?;
    Ok(Some((holder, expires_at)))
}

pub(super) async fn begin(
    client: &mut Object,
    integration: IntegrationId,
    kind: ReferenceKind,
    holder: &LeaseHolder,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<SyncRunId, BeginSyncError> {
    let integration_id = integration.to_string();
    let now_s = ts(now);
    for _ in 0..BEGIN_TRIES {
        let tx = client
            .transaction()
            .await
            .map_err(db_err("starting a sync run"))?;
        // Staging left by runs of this kind that are no longer running.
        execute(
            &tx,
            "DELETE FROM sync_staging WHERE run_seq IN (SELECT seq FROM sync_runs \
             WHERE integration_id = $1 AND kind = $2 AND outcome <> 'running')",
            &[&integration_id, &kind.as_str()],
        )
        .await
        .map_err(db_err("discarding leftover staging"))?;
        // Holderless running rows are closed as expired.
        let closed = query(
            &tx,
            "UPDATE sync_runs SET outcome = 'failed', finished_at = $3, error = $4 \
             WHERE integration_id = $1 AND kind = $2 AND outcome = 'running' \
             AND (holder_host IS NULL OR expires_at IS NULL) RETURNING seq",
            &[&integration_id, &kind.as_str(), &now_s, &HOLDERLESS],
        )
        .await
        .map_err(db_err("closing a sync run without a holder"))?;
        for row in &closed {
            drop_staging(&tx, col(row, RUNS, "seq")?).await?;
        }
        let id = SyncRunId::generate();
        // The partial unique index on running runs decides between racing begins.
        let inserted = execute(
            &tx,
            "INSERT INTO sync_runs (id, integration_id, kind, started_at, last_activity, \
             outcome, holder_host, holder_pid, holder_process_start, holder_task, expires_at) \
             VALUES ($1, $2, $3, $4, $4, 'running', $5, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING",
            &[
                &id.to_string(),
                &integration_id,
                &kind.as_str(),
                &now_s,
                &holder.host,
                &i64::from(holder.pid),
                &u64_to_sql(holder.process_start),
                &u64_to_sql(holder.task),
                &ts(expires_at),
            ],
        )
        .await
        .map_err(db_err("starting a sync run"))?;
        if inserted == 1 {
            tx.commit().await.map_err(db_err("starting a sync run"))?;
            return Ok(id);
        }
        let running = query(
            &tx,
            "SELECT id, started_at, holder_host, holder_pid, holder_process_start, \
             holder_task, expires_at FROM sync_runs \
             WHERE integration_id = $1 AND kind = $2 AND outcome = 'running'",
            &[&integration_id, &kind.as_str()],
        )
        .await
        .map_err(db_err("reading running syncs"))?
        .pop();
        // Nothing of this attempt is kept either way.
        drop(tx);
        if let Some(row) = running
            && let Some((holder, expires_at)) = hold_from_row(&row)?
        {
            // Whether its holder is still at work is the caller's to judge.
            return Err(BeginSyncError::AlreadyRunning {
                kind,
                run: parsed(&row, RUNS, "id", SyncRunId::parse)?,
                holder,
                expires_at,
                since: parsed(&row, RUNS, "started_at", parse_ts)?,
            });
        }
        // The run it lost to ended (or lost its holder) meanwhile: try again.
    }
    Err(StoreError::Busy("starting a sync run: other runs kept starting and ending".into()).into())
}

/// The columns of staged rows, as arrays for one `unnest` insert.
#[derive(Default)]
struct Columns {
    code_key: Vec<String>,
    code: Vec<String>,
    description: Vec<String>,
    active: Vec<bool>,
    terms: Vec<Option<String>>,
    terms_key: Vec<Option<String>>,
    tax: Vec<Option<String>>,
    tax_key: Vec<Option<String>>,
    extras: Vec<String>,
}

impl Columns {
    /// The records of a page, the last of each code winning (as the ERP's later record would).
    fn of(records: &[ErpReferenceRecord]) -> Result<Self, StoreError> {
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            last.insert(r.code.key(), i);
        }
        let mut c = Self::default();
        for (i, r) in records.iter().enumerate() {
            if last.get(r.code.key()) != Some(&i) {
                continue;
            }
            let (terms, terms_key) = code_cols(r.extras.default_terms.as_ref());
            let (tax, tax_key) = code_cols(r.extras.default_tax_group.as_ref());
            c.code_key.push(r.code.key().to_owned());
            c.code.push(r.code.as_str().to_owned());
            c.description.push(r.description.clone());
            c.active.push(r.active);
            c.terms.push(terms);
            c.terms_key.push(terms_key);
            c.tax.push(tax);
            c.tax_key.push(tax_key);
            c.extras.push(extras_to_json(&r.extras)?);
        }
        Ok(c)
    }
}

pub(super) async fn stage(
    client: &mut Object,
    run: SyncRunId,
    records: &[ErpReferenceRecord],
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), SyncRunError> {
    let c = Columns::of(records)?;
    let tx = client
        .transaction()
        .await
        .map_err(db_err("staging records"))?;
    let (seq, _, _) = lock_running(&tx, run).await?;
    if !c.code_key.is_empty() {
        // One statement per page; a code staged by an earlier page is replaced.
        execute(
            &tx,
            "INSERT INTO sync_staging (run_seq, code_key, code, description, active, \
             default_terms, default_terms_key, default_tax_group, default_tax_group_key, extras) \
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bool[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) \
             ON CONFLICT (run_seq, code_key) DO UPDATE SET code = excluded.code, \
             description = excluded.description, active = excluded.active, \
             default_terms = excluded.default_terms, \
             default_terms_key = excluded.default_terms_key, \
             default_tax_group = excluded.default_tax_group, \
             default_tax_group_key = excluded.default_tax_group_key, \
             extras = excluded.extras",
            &[
                &seq,
                &c.code_key,
                &c.code,
                &c.description,
                &c.active,
                &c.terms,
                &c.terms_key,
                &c.tax,
                &c.tax_key,
                &c.extras,
            ],
        )
        .await
        .map_err(db_err("staging records"))?;
    }
    execute(
        &tx,
        "UPDATE sync_runs SET last_activity = $2, expires_at = $3 WHERE seq = $1",
        &[&seq, &ts(now), &ts(expires_at)],
    )
    .await
    .map_err(db_err("staging records"))?;
    tx.commit().await.map_err(db_err("staging records"))?;
    Ok(())
}

pub(super) async fn abort(
    client: &mut Object,
    run: SyncRunId,
    outcome: SyncOutcome,
    error: &str,
    now: Timestamp,
) -> Result<(), SyncRunError> {
    let tx = client
        .transaction()
        .await
        .map_err(db_err("ending a sync run"))?;
    let (seq, _, _) = lock_running(&tx, run).await?;
    let outcome = if outcome == SyncOutcome::Unavailable {
        SyncOutcome::Unavailable
    } else {
        SyncOutcome::Failed
    };
    execute(
        &tx,
        "UPDATE sync_runs SET outcome = $2, finished_at = $3, error = $4 WHERE seq = $1",
        &[&seq, &outcome.as_str(), &ts(now), &error],
    )
    .await
    .map_err(db_err("ending a sync run"))?;
    drop_staging(&tx, seq).await?;
    tx.commit().await.map_err(db_err("ending a sync run"))?;
    Ok(())
}
