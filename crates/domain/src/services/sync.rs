//! Sync: every reference kind the integration's ERP offers, page by page into staging, then one
//! swap per kind.
//!
//! A sync run is held like a promotion lease: the run records its holder (host, process, task)
//! and an expiry that each staged page extends ([`ServiceConfig::sync_lease`]). A sync that
//! finds its kind running judges that run's holder: a sync of this process whose future was
//! dropped, or one of a dead process on this host, is taken over at once (the run is closed as
//! failed, its staging discarded); any other (a live process on this host, one elsewhere) once
//! its hold has expired — a sync changes nothing in the ERP, so there is nothing to wait out.
//!
//! [`ServiceConfig::sync_lease`]: super::ServiceConfig::sync_lease

use std::future::Future;
use std::pin::{Pin, pin};

use futures_util::FutureExt as _;
use futures_util::future::{Either, Fuse, FusedFuture as _, join, select};

use crate::erp::{KindRequirement, ReferenceKind, prerequisite_table};
use crate::ids::SyncRunId;
use crate::integration::Integration;
use crate::ports::{
    BeginSyncError, ErpConnector, ErpGateway, ErpReadError, PageCursor, Store, StoreError,
    SyncRunError,
};
use crate::promotion::LeaseHolder;
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

/// What an interrupted kind's report says.
const INTERRUPTED: &str = "interrupted before it finished; the previous data is unchanged";

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Syncs every kind the integration's ERP offers (or only `only`), one after the other,
    /// reporting progress as it goes. A kind that fails changes nothing for that kind; the
    /// others go on. [`Services::sync_until`] with nothing to stop it.
    ///
    /// Dropping the future at any await point changes no kind's data and blocks nothing: the
    /// run of the kind being synced stays `running` in the store (a `Drop` cannot await), and
    /// the next sync of that kind in this process finds its task ended, closes that run as
    /// failed and starts at once. (So would a sync through another `Services` value in this
    /// process, which cannot tell a dropped sync from one of another value's that still runs:
    /// sync through one value per process.) Another process takes it over as soon as this
    /// process has ended (on this host), or once the hold has expired
    /// ([`ServiceConfig::sync_lease`](super::ServiceConfig::sync_lease) after the last staged
    /// page). To stop a sync and have its run closed right away, use
    /// [`Services::sync_until`].
    ///
    /// # Errors
    /// [`SyncError`] when nothing could be synced at all; per-kind failures are reports.
    pub async fn sync(
        &self,
        integration: Option<&str>,
        only: Option<&[ReferenceKind]>,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<(Integration, Vec<KindReport>), SyncError> {
        self.sync_until(integration, only, progress, std::future::pending())
            .await
    }

    /// [`Services::sync`], stopped when `until` completes (a Ctrl-C, a shutdown signal, a
    /// deadline): the ERP call or store write in flight is dropped, the run of the kind being
    /// synced is closed as failed (its staging discarded, the kind's previous data unchanged)
    /// and reported `failed` with the note "interrupted…" and [`ErrorClass::Conflict`] (it may
    /// simply be run again); kinds not started yet are not reported. Kinds already synced keep
    /// their new data. `until` is watched while pages are read and staged: if it completes
    /// while a kind's run is being begun or its snapshot swapped in, that short write finishes
    /// and the sync stops before the next kind.
    ///
    /// Dropping the future behaves as for [`Services::sync`].
    ///
    /// # Errors
    /// [`SyncError`] when nothing could be synced at all; per-kind failures are reports.
    pub async fn sync_until<F>(
        &self,
        integration: Option<&str>,
        only: Option<&[ReferenceKind]>,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        until: F,
    ) -> Result<(Integration, Vec<KindReport>), SyncError>
    where
        F: Future<Output = ()> + Send,
    {
        // One holder for the whole sync; its task ends when this future ends or is dropped,
        // which frees the kind it was syncing for the next sync at once.
        let (holder, _task) = self.new_holder();
        let mut until = pin!(until.fuse());
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
            if until.is_terminated() {
                break;
            }
            progress(SyncProgress::Started(*kind));
            let job = KindJob {
                integration: &integration,
                gateway: gateway.as_ref(),
                holder: &holder,
                kind: *kind,
                requirement: *requirement,
            };
            let report = self.sync_kind(&job, progress, until.as_mut()).await;
            progress(SyncProgress::Finished(*kind, report.outcome));
            reports.push(report);
        }
        Ok((integration, reports))
    }

    /// Until when a sync run started or staged now is held.
    fn sync_expiry(&self) -> jiff::Timestamp {
        let now = self.clock.now();
        jiff::SignedDuration::try_from(self.config.sync_lease)
            .ok()
            .and_then(|d| now.checked_add(d).ok())
            .unwrap_or(now)
    }

    /// Begins a run of the job's kind, taking over a running one whose holder is gone.
    async fn begin_run(&self, job: &KindJob<'_>) -> Result<SyncRunId, KindReport> {
        let failed = |class, error: String| KindReport {
            kind: job.kind,
            outcome: SyncOutcome::Failed,
            counts: SyncCounts::default(),
            error: Some(error),
            class: Some(class),
        };
        // Each round either begins, fails, or closes one gone run; a few rounds are plenty.
        let mut rounds = 0;
        loop {
            rounds += 1;
            let begun = self
                .store
                .begin_sync(
                    job.integration.id(),
                    job.kind,
                    job.holder,
                    self.clock.now(),
                    self.sync_expiry(),
                )
                .await;
            let e = match begun {
                Ok(run) => return Ok(run),
                Err(e) => e,
            };
            let BeginSyncError::AlreadyRunning {
                run,
                holder,
                expires_at,
                ..
            } = &e
            else {
                return Err(failed(ErrorClass::Internal, e.to_string()));
            };
            let gone = self.sync_holder_gone(holder, *expires_at);
            let Some(reason) = gone.filter(|_| rounds <= 3) else {
                return Err(failed(ErrorClass::Conflict, e.to_string()));
            };
            match self
                .store
                .abandon_sync(*run, reason, self.clock.now())
                .await
            {
                // Not running: it ended meanwhile; either way, begin once more.
                Ok(()) | Err(SyncRunError::NotRunning(_)) => {}
                Err(e) => {
                    let why = format!("a gone sync run of {} could not be closed: {e}", job.kind);
                    return Err(failed(ErrorClass::Internal, why));
                }
            }
        }
    }

    async fn sync_kind<F>(
        &self,
        job: &KindJob<'_>,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        until: Pin<&mut Fuse<F>>,
    ) -> KindReport
    where
        F: Future<Output = ()> + Send,
    {
        let kind = job.kind;
        let run = match self.begin_run(job).await {
            Ok(run) => run,
            Err(report) => return report,
        };
        let pages = pin!(self.stage_pages(job, run, progress));
        let staged = match select(pages, until).await {
            Either::Left((staged, _)) => staged,
            Either::Right(((), _)) => {
                return self
                    .abort(run, INTERRUPTED.to_owned(), ErrorClass::Conflict, kind)
                    .await;
            }
        };
        match staged {
            Ok(()) => {}
            Err(Staged::Unavailable(why)) => {
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
                    Err(e) => KindReport {
                        kind,
                        outcome: SyncOutcome::Failed,
                        counts: SyncCounts::default(),
                        error: Some(e.to_string()),
                        class: Some(ErrorClass::Internal),
                    },
                };
            }
            Err(Staged::Failed(why, class)) => return self.abort(run, why, class, kind).await,
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
            // would hold the kind until the next sync took the run over.
            Err(e) => {
                let why = format!("the synced records could not be swapped in: {e}");
                self.abort(run, why, ErrorClass::Internal, kind).await
            }
        }
    }

    /// Reads every page of the job's kind into `run`'s staging, each staged page extending the
    /// run's hold. Pipelined: as soon as page N's cursor is known, page N+1 is requested while
    /// page N is staged. At most two pages are in memory, whatever the record count.
    async fn stage_pages(
        &self,
        job: &KindJob<'_>,
        run: SyncRunId,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<(), Staged> {
        let (kind, gateway) = (job.kind, job.gateway);
        let mut cursor: Option<PageCursor> = None;
        let mut page_no = 1_u64;
        let mut records = 0_u64;
        let mut fetched = gateway.reference_page(kind, None).await;
        loop {
            let page = match fetched {
                Ok(page) => page,
                Err(ErpReadError::KindUnavailable(_))
                    if page_no == 1 && job.requirement == KindRequirement::Optional =>
                {
                    let why = format!("{} does not offer {kind}", job.integration.kind());
                    return Err(Staged::Unavailable(why));
                }
                Err(e) => {
                    let why = format!("page {page_no} failed: {e}");
                    return Err(Staged::Failed(why, ErrorClass::Erp));
                }
            };
            let next = match page.next {
                Some(next) if cursor.as_ref() == Some(&next) => {
                    let why = format!(
                        "page {page_no} failed: the ERP returned the same next page link again ({})",
                        next.as_str()
                    );
                    return Err(Staged::Failed(why, ErrorClass::Erp));
                }
                other => other,
            };
            let stage =
                self.store
                    .stage_page(run, &page.records, self.clock.now(), self.sync_expiry());
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
                return Err(Staged::Failed(why, ErrorClass::Internal));
            }
            records += page.records.len() as u64;
            progress(SyncProgress::Page {
                kind,
                records,
                total: page.total,
            });
            match following {
                None => return Ok(()),
                Some(following) => {
                    fetched = following;
                    cursor = next;
                    page_no += 1;
                }
            }
        }
    }

    async fn abort(
        &self,
        run: SyncRunId,
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

/// One kind to sync, and what it is synced with.
struct KindJob<'a> {
    integration: &'a Integration,
    gateway: &'a dyn ErpGateway,
    holder: &'a LeaseHolder,
    kind: ReferenceKind,
    requirement: KindRequirement,
}

/// Why staging a kind's pages stopped short.
enum Staged {
    /// The optional kind is not offered; why.
    Unavailable(String),
    /// It failed; why and the class.
    Failed(String, ErrorClass),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Resolve(ResolveError::Store(e))
    }
}
