//! The fake's reference data and sync runs.

use super::*;

fn running(s: &State, run: SyncRunId) -> Result<usize, SyncRunError> {
    s.runs
        .iter()
        .position(|r| r.id == run && r.outcome == SyncOutcome::Running)
        .ok_or(SyncRunError::NotRunning(run))
}

#[async_trait]
impl ReferenceStore for MemoryStore {
    async fn begin_sync(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        holder: &LeaseHolder,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<SyncRunId, BeginSyncError> {
        let mut s = self.state();
        if let Some(r) = s.runs.iter().find(|r| {
            r.integration == integration && r.kind == kind && r.outcome == SyncOutcome::Running
        }) {
            let (holder, expires_at) = s.sync_holds.get(&r.id).cloned().ok_or_else(|| {
                StoreError::Internal(format!("sync run {} is running without a holder", r.id))
            })?;
            return Err(BeginSyncError::AlreadyRunning {
                kind,
                run: r.id,
                holder,
                expires_at,
                since: r.started_at,
            });
        }
        let id = SyncRunId::generate();
        s.runs.push(SyncRun {
            id,
            integration,
            kind,
            started_at: now,
            finished_at: None,
            outcome: SyncOutcome::Running,
            counts: SyncCounts::default(),
            error: None,
        });
        s.staging.insert(id, Vec::new());
        s.sync_holds.insert(id, (holder.clone(), expires_at));
        Ok(id)
    }

    async fn stage_page(
        &self,
        run: SyncRunId,
        records: &[ErpReferenceRecord],
        _now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), SyncRunError> {
        let mut s = self.state();
        running(&s, run)?;
        s.staging.entry(run).or_default().extend_from_slice(records);
        if let Some(hold) = s.sync_holds.get_mut(&run) {
            hold.1 = expires_at;
        }
        Ok(())
    }

    async fn finish_sync(
        &self,
        run: SyncRunId,
        now: Timestamp,
    ) -> Result<SyncCounts, SyncRunError> {
        let mut s = self.state();
        if let Some(error) = s.finish_fault.take() {
            return Err(SyncRunError::Store(error));
        }
        let at = running(&s, run)?;
        let (integration, kind) = (s.runs[at].integration, s.runs[at].kind);
        let staged = s.staging.remove(&run).unwrap_or_default();
        let mut seen: BTreeMap<String, ErpReferenceRecord> = BTreeMap::new();
        for record in staged {
            seen.insert(record.code.key().to_owned(), record);
        }
        let mut counts = SyncCounts {
            total: seen.len() as u64,
            ..SyncCounts::default()
        };
        for (key, r) in &seen {
            let slot = (integration, kind, key.clone());
            let fresh = ReferenceRecord {
                integration,
                kind,
                code: r.code.clone(),
                description: r.description.clone(),
                active: r.active,
                extras: r.extras.clone(),
                synced_at: now,
            };
            match s.records.get(&slot) {
                None => counts.added += 1,
                Some(old)
                    if old.description != fresh.description
                        || old.active != fresh.active
                        || old.extras != fresh.extras
                        || old.code.as_str() != fresh.code.as_str() =>
                {
                    counts.updated += 1;
                }
                Some(_) => {}
            }
            s.records.insert(slot, fresh);
        }
        for ((i, k, key), record) in s.records.iter_mut() {
            if *i == integration && *k == kind && !seen.contains_key(key) && record.active {
                record.active = false;
                record.synced_at = now;
                counts.deactivated += 1;
            }
        }
        let r = &mut s.runs[at];
        r.outcome = SyncOutcome::Ok;
        r.finished_at = Some(now);
        r.counts = counts;
        s.sync_holds.remove(&run);
        Ok(counts)
    }

    async fn abort_sync(
        &self,
        run: SyncRunId,
        outcome: SyncOutcome,
        error: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        let mut s = self.state();
        let at = running(&s, run)?;
        let r = &mut s.runs[at];
        r.outcome = if outcome == SyncOutcome::Unavailable {
            SyncOutcome::Unavailable
        } else {
            SyncOutcome::Failed
        };
        r.finished_at = Some(now);
        r.error = Some(error.to_owned());
        s.staging.remove(&run);
        s.sync_holds.remove(&run);
        Ok(())
    }

    async fn reference_records(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
    ) -> Result<Vec<ReferenceRecord>, StoreError> {
        Ok(self
            .state()
            .records
            .iter()
            .filter(|((i, k, _), _)| *i == integration && *k == kind)
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn reference_record(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        code: &ReferenceCode,
    ) -> Result<Option<ReferenceRecord>, StoreError> {
        Ok(self
            .state()
            .records
            .get(&(integration, kind, code.key().to_owned()))
            .cloned())
    }

    async fn synced_kinds(
        &self,
        integration: IntegrationId,
    ) -> Result<BTreeSet<ReferenceKind>, StoreError> {
        Ok(self
            .state()
            .runs
            .iter()
            .filter(|r| r.integration == integration && r.outcome == SyncOutcome::Ok)
            .map(|r| r.kind)
            .collect())
    }

    async fn sync_runs(&self, integration: IntegrationId) -> Result<Vec<SyncRun>, StoreError> {
        let mut runs: Vec<SyncRun> = self
            .state()
            .runs
            .iter()
            .filter(|r| r.integration == integration)
            .cloned()
            .collect();
        runs.reverse();
        Ok(runs)
    }
}
