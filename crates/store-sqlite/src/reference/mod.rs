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
//! A run records its holder (`holder_host`, `holder_pid`, `holder_process_start`,
//! `holder_task`) and `expires_at`, which each `stage_page` extends. `begin_sync` does not judge
//! a running run's holder: it reports it ([`BeginSyncError::AlreadyRunning`]) and the domain
//! decides, then `abandon_sync` (an `abort_sync`, which works for a run begun by any connection)
//! closes it. A running row without a holder (only a crm2sage from before schema version 4
//! writes one) is treated as expired: `begin_sync` closes it.
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
//! process's staging goes with its connection; a run abandoned in this process (a dropped
//! sync) is closed by the next sync of its kind, and every `begin_sync` drops the TEMP tables
//! of runs no longer running. The TEMP database keeps a small page cache (SQLite's default) and
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

pub(crate) mod reads;
mod run;
mod swap;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use async_trait::async_trait;

use crm2sage_domain::ports::{
    BeginSyncError, ErpReferenceRecord, ReferenceStore, StoreError, SyncRunError,
};
use crm2sage_domain::{
    IntegrationId, LeaseHolder, ReferenceCode, ReferenceKind, ReferenceRecord, SyncCounts,
    SyncOutcome, SyncRun, SyncRunId, Timestamp,
};

use crate::SqliteStore;

/// The table of reference records, as errors name it.
const RECORDS: &str = "reference_records";
/// The table of sync runs, as errors name it.
const RUNS: &str = "sync_runs";

/// The columns a staged row and a record share, in this order.
const DATA_COLUMNS: &str = "code_key, code, description, active, default_terms, \
     default_terms_key, default_tax_group, default_tax_group_key, extras";

#[async_trait]
impl ReferenceStore for SqliteStore {
    async fn begin_sync(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        holder: &LeaseHolder,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<SyncRunId, BeginSyncError> {
        let holder = holder.clone();
        self.write(move |conn| run::begin(conn, integration, kind, &holder, now, expires_at))
            .await
    }

    async fn stage_page(
        &self,
        run: SyncRunId,
        records: &[ErpReferenceRecord],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), SyncRunError> {
        let records = records.to_vec();
        self.write(move |conn| run::stage(conn, run, &records, now, expires_at))
            .await
    }

    async fn finish_sync(
        &self,
        run: SyncRunId,
        now: Timestamp,
    ) -> Result<SyncCounts, SyncRunError> {
        self.write(move |conn| swap::finish(conn, run, now)).await
    }

    async fn abort_sync(
        &self,
        run: SyncRunId,
        outcome: SyncOutcome,
        error: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        let error = error.to_owned();
        self.write(move |conn| run::abort(conn, run, outcome, &error, now))
            .await
    }

    async fn reference_records(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
    ) -> Result<Vec<ReferenceRecord>, StoreError> {
        self.read(move |conn| reads::records(conn, integration, kind))
            .await
    }

    async fn reference_record(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        code: &ReferenceCode,
    ) -> Result<Option<ReferenceRecord>, StoreError> {
        let key = code.key().to_owned();
        self.read_point(move |conn| reads::record_by_key(conn, integration, kind, &key))
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
                .map(|(kind, key)| reads::record_by_key(conn, integration, kind, &key))
                .collect()
        })
        .await
    }

    async fn synced_kinds(
        &self,
        integration: IntegrationId,
    ) -> Result<BTreeSet<ReferenceKind>, StoreError> {
        self.read_point(move |conn| reads::synced_kinds(conn, integration))
            .await
    }

    async fn sync_runs(&self, integration: IntegrationId) -> Result<Vec<SyncRun>, StoreError> {
        self.read(move |conn| reads::sync_runs(conn, integration))
            .await
    }
}
