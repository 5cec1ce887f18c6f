//! [`ReferenceStore`]: reference records, sync runs and staged pages.
//!
//! The tables and the swap mirror the SQLite store's (see its `reference` module): records
//! hang off a set per (integration, kind), a record's `synced_at` is NULL when the set's last
//! sync returned it, and `finish_sync` is one transaction of set-based SQL that deactivates
//! what was not staged (never deletes) and writes only what is new or changed.
//!
//! Staging differs: pages go to the UNLOGGED `sync_staging` table keyed by the run's `seq`,
//! so any pooled connection, or another process, may stage a page of a run or finish it. A
//! page locks its run's row (`FOR UPDATE`), so it never lands in a run being finished or
//! aborted. A running row without a holder (only a copy from an older SQLite file has one)
//! is treated as expired: `begin_sync` closes it.

mod reads;
mod run;
mod swap;

use std::collections::BTreeSet;

use async_trait::async_trait;

use crm2sage_domain::ports::{
    BeginSyncError, ErpReferenceRecord, ReferenceStore, StoreError, SyncRunError,
};
use crm2sage_domain::{
    IntegrationId, LeaseHolder, ReferenceCode, ReferenceKind, ReferenceRecord, SyncCounts,
    SyncOutcome, SyncRun, SyncRunId, Timestamp,
};

use crate::PostgresStore;

/// The table of reference records, as errors name it.
const RECORDS: &str = "reference_records";
/// The table of sync runs, as errors name it.
const RUNS: &str = "sync_runs";

/// The columns a staged row and a record share, in this order.
const DATA_COLUMNS: &str = "code_key, code, description, active, default_terms, \
     default_terms_key, default_tax_group, default_tax_group_key, extras";

#[async_trait]
impl ReferenceStore for PostgresStore {
    async fn begin_sync(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        holder: &LeaseHolder,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<SyncRunId, BeginSyncError> {
        let mut client = self.client().await?;
        run::begin(&mut client, integration, kind, holder, now, expires_at).await
    }

    async fn stage_page(
        &self,
        run: SyncRunId,
        records: &[ErpReferenceRecord],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), SyncRunError> {
        let mut client = self.client().await?;
        run::stage(&mut client, run, records, now, expires_at).await
    }

    async fn finish_sync(
        &self,
        run: SyncRunId,
        now: Timestamp,
    ) -> Result<SyncCounts, SyncRunError> {
        let mut client = self.client().await?;
        swap::finish(&mut client, run, now).await
    }

    async fn abort_sync(
        &self,
        run: SyncRunId,
        outcome: SyncOutcome,
        error: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        let mut client = self.client().await?;
        run::abort(&mut client, run, outcome, error, now).await
    }

    async fn reference_records(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
    ) -> Result<Vec<ReferenceRecord>, StoreError> {
        let client = self.client().await?;
        reads::records(&client, integration, kind).await
    }

    async fn reference_record(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        code: &ReferenceCode,
    ) -> Result<Option<ReferenceRecord>, StoreError> {
        let client = self.client().await?;
        reads::record_by_key(&client, integration, kind, code.key()).await
    }

    async fn reference_records_by_code(
        &self,
        integration: IntegrationId,
        wanted: &[(ReferenceKind, ReferenceCode)],
    ) -> Result<Vec<Option<ReferenceRecord>>, StoreError> {
        // One connection, the reads pipelined on it.
        let client = self.client().await?;
        let reads = wanted
            .iter()
            .map(|(kind, code)| reads::record_by_key(&client, integration, *kind, code.key()));
        futures_util::future::join_all(reads)
            .await
            .into_iter()
            .collect()
    }

    async fn synced_kinds(
        &self,
        integration: IntegrationId,
    ) -> Result<BTreeSet<ReferenceKind>, StoreError> {
        let client = self.client().await?;
        reads::synced_kinds(&client, integration).await
    }

    async fn sync_runs(&self, integration: IntegrationId) -> Result<Vec<SyncRun>, StoreError> {
        let client = self.client().await?;
        reads::sync_runs(&client, integration).await
    }
}
