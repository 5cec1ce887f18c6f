//! Sync: every reference kind the integration's ERP offers, page by page into staging, then one
//! swap per kind.

use futures_util::future::join;

use crate::erp::{KindRequirement, ReferenceKind, prerequisite_table};
use crate::integration::Integration;
use crate::ports::{
    BeginSyncError, ErpConnector, ErpGateway, ErpReadError, PageCursor, Store, StoreError,
};
use crate::reference::{SyncCounts, SyncOutcome};

use super::{GatewayError, ResolveError, Services};
use crate::error_class::{ErrorClass, ErrorCode};

/// Why a sync could not run at all (per-kind failures are in each [`KindReport`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The gateway could not be opened.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The caller asked for a kind this ERP does not have.
    #[error("{erp} has no {kind} reference data; its kinds are: {offered}")]
    KindNotOffered {
        /// The kind asked for.
        kind: ReferenceKind,
        /// The ERP.
        erp: crate::erp::ErpKind,
        /// What it offers.
        offered: String,
    },
}

impl ErrorCode for SyncError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::Gateway(e) => e.code(),
            Self::KindNotOffered { .. } => "invalid_input",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::Gateway(e) => e.class(),
            Self::KindNotOffered { .. } => ErrorClass::Invalid,
        }
    }
}

/// How one kind's sync ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KindReport {
    /// The kind.
    pub kind: ReferenceKind,
    /// `ok`, `unavailable` or `failed`.
    pub outcome: SyncOutcome,
    /// What changed (zero unless `ok`).
    pub counts: SyncCounts,
    /// Why it failed or was unavailable.
    pub error: Option<String>,
    /// The class of this kind's failure (`None` for `ok` and `unavailable`).
    pub class: Option<ErrorClass>,
}

/// Progress of a sync, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncProgress {
    /// A kind started.
    Started(ReferenceKind),
    /// A page was staged.
    Page {
        /// The kind.
        kind: ReferenceKind,
        /// Records staged so far.
        records: u64,
        /// The total, when the ERP says.
        total: Option<u64>,
    },
    /// A kind ended.
    Finished(ReferenceKind, SyncOutcome),
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Syncs every kind the integration's ERP offers (or only `only`), one after the other,
    /// reporting progress as it goes. A kind that fails changes nothing for that kind; the
    /// others go on.
    ///
    /// # Errors
    /// [`SyncError`] when nothing could be synced at all; per-kind failures are reports.
    pub async fn sync(
        &self,
        integration: Option<&str>,
        only: Option<&[ReferenceKind]>,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<(Integration, Vec<KindReport>), SyncError> {
        let integration = self.resolve_integration(integration).await?;
        let table = prerequisite_table(integration.kind());
        if let Some(kind) =
            only.and_then(|only| only.iter().find(|k| !table.iter().any(|(t, _)| t == *k)))
        {
            return Err(SyncError::KindNotOffered {
                kind: *kind,
                erp: integration.kind(),
                offered: table
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let gateway = self.gateway(&integration).await?;
        let mut reports = Vec::new();
        for (kind, requirement) in table {
            if only.is_some_and(|only| !only.contains(kind)) {
                continue;
            }
            progress(SyncProgress::Started(*kind));
            let report = self
                .sync_kind(
                    &integration,
                    gateway.as_ref(),
                    *kind,
                    *requirement,
                    progress,
                )
                .await;
            progress(SyncProgress::Finished(*kind, report.outcome));
            reports.push(report);
        }
        Ok((integration, reports))
    }

    async fn sync_kind(
        &self,
        integration: &Integration,
        gateway: &dyn ErpGateway,
        kind: ReferenceKind,
        requirement: KindRequirement,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> KindReport {
        let failed = |class, error: String| KindReport {
            kind,
            outcome: SyncOutcome::Failed,
            counts: SyncCounts::default(),
            error: Some(error),
            class: Some(class),
        };
        let now = self.clock.now();
        let abandoned_before = now
            .checked_sub(
                jiff::SignedDuration::try_from(self.config.sync_abandoned_after)
                    .unwrap_or_default(),
            )
            .unwrap_or(now);
        let run = match self
            .store
            .begin_sync(integration.id(), kind, now, abandoned_before)
            .await
        {
            Ok(run) => run,
            Err(e @ BeginSyncError::AlreadyRunning { .. }) => {
                return failed(ErrorClass::Conflict, e.to_string());
            }
            Err(e) => return failed(ErrorClass::Internal, e.to_string()),
        };
        // Pipelined: as soon as page N's cursor is known, page N+1 is requested while page N
        // is staged. At most two pages are in memory, whatever the record count.
        let mut cursor: Option<PageCursor> = None;
        let mut page_no = 1_u64;
        let mut records = 0_u64;
        let mut fetched = gateway.reference_page(kind, None).await;
        loop {
            let page = match fetched {
                Ok(page) => page,
                Err(ErpReadError::KindUnavailable(_))
                    if page_no == 1 && requirement == KindRequirement::Optional =>
                {
                    let why = format!("{} does not offer {kind}", integration.kind());
                    let aborted = self
                        .store
                        .abort_sync(run, SyncOutcome::Unavailable, &why, self.clock.now())
                        .await;
                    return match aborted {
                        Ok(()) => KindReport {
                            kind,
                            outcome: SyncOutcome::Unavailable,
                            counts: SyncCounts::default(),
                            error: Some(why),
                            class: None,
                        },
                        Err(e) => failed(ErrorClass::Internal, e.to_string()),
                    };
                }
                Err(e) => {
                    let why = format!("page {page_no} failed: {e}");
                    return self.abort(run, why, ErrorClass::Erp, kind).await;
                }
            };
            let next = match page.next {
                Some(next) if cursor.as_ref() == Some(&next) => {
                    let why = format!(
                        "page {page_no} failed: the ERP returned the same next page link again ({})",
                        next.as_str()
                    );
                    return self.abort(run, why, ErrorClass::Erp, kind).await;
                }
                other => other,
            };
            let stage = self.store.stage_page(run, &page.records, self.clock.now());
            let (staged, following) = match &next {
                Some(next) => {
                    let (staged, following) =
                        join(stage, gateway.reference_page(kind, Some(next.clone()))).await;
                    (staged, Some(following))
                }
                None => (stage.await, None),
            };
            if let Err(e) = staged {
                let why = format!("page {page_no} could not be staged: {e}");
                return self.abort(run, why, ErrorClass::Internal, kind).await;
            }
            records += page.records.len() as u64;
            progress(SyncProgress::Page {
                kind,
                records,
                total: page.total,
            });
            match following {
                None => break,
                Some(following) => {
                    fetched = following;
                    cursor = next;
                    page_no += 1;
                }
            }
        }
        match self.store.finish_sync(run, self.clock.now()).await {
            Ok(counts) => KindReport {
                kind,
                outcome: SyncOutcome::Ok,
                counts,
                error: None,
                class: None,
            },
            // Closed as failed (its staging discarded) rather than left `running`, which
            // would refuse the next sync of this kind until it counted as abandoned.
            Err(e) => {
                let why = format!("the synced records could not be swapped in: {e}");
                self.abort(run, why, ErrorClass::Internal, kind).await
            }
        }
    }

    async fn abort(
        &self,
        run: crate::ids::SyncRunId,
        why: String,
        class: ErrorClass,
        kind: ReferenceKind,
    ) -> KindReport {
        let error = match self
            .store
            .abort_sync(run, SyncOutcome::Failed, &why, self.clock.now())
            .await
        {
            Ok(()) => why,
            Err(e) => format!("{why}; and the run could not be closed: {e}"),
        };
        KindReport {
            kind,
            outcome: SyncOutcome::Failed,
            counts: SyncCounts::default(),
            error: Some(error),
            class: Some(class),
        }
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Resolve(ResolveError::Store(e))
    }
}
