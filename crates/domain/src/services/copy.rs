//! Copying a whole store into an empty one ([`copy_store`]): every section in
//! [`CopySection::ALL`] order, a page at a time, then the counts compared.

use crate::ports::{CopyPage, CopySection, RowCounts, StoreError, StoreExport, StoreImport};
use crate::reference::SyncOutcome;
use jiff::Timestamp;

/// The error a sync run gets that was still running in the source when it was copied: its
/// staging is not copied, so it can never finish in the target.
pub const COPIED_WHILE_RUNNING: &str = "abandoned: the store was copied while it ran";

/// What [`copy_store`] copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// The rows of each section, in the source and (verified) in the target.
    pub counts: RowCounts,
    /// Sync runs that were running in the source, closed as failed in the target
    /// ([`COPIED_WHILE_RUNNING`]).
    pub closed_syncs: u64,
}

/// Why [`copy_store`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// The target already holds rows: a copy only fills an empty store (a copy interrupted
    /// earlier left some; empty the target and copy again).
    #[error(
        "the target store is not empty ({} rows: {}); a copy only fills an empty store",
        .counts.total(), describe(.counts)
    )]
    TargetNotEmpty {
        /// What the target holds.
        counts: RowCounts,
    },
    /// After the copy, a section's count in the target differs from the source's (something
    /// wrote to one of them meanwhile, or a store lost rows).
    #[error(
        "the copy does not match: {section} has {source_rows} rows in the source but \
         {target_rows} in the target"
    )]
    CountsDiffer {
        /// The section.
        section: CopySection,
        /// Its rows in the source.
        source_rows: u64,
        /// Its rows in the target.
        target_rows: u64,
    },
    /// Reading the source failed.
    #[error("reading the source store: {0}")]
    Source(StoreError),
    /// Writing or reading the target failed.
    #[error("writing the target store: {0}")]
    Target(StoreError),
}

fn describe(counts: &RowCounts) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    parts.join(", ")
}

/// `target_not_empty` (conflict), `copy_counts_differ` (internal), or the store's own code.
impl crate::ErrorCode for CopyError {
    fn code(&self) -> &'static str {
        match self {
            Self::TargetNotEmpty { .. } => "target_not_empty",
            Self::CountsDiffer { .. } => "copy_counts_differ",
            Self::Source(e) | Self::Target(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::TargetNotEmpty { .. } => crate::ErrorClass::Conflict,
            Self::CountsDiffer { .. } => crate::ErrorClass::Internal,
            Self::Source(e) | Self::Target(e) => e.class(),
        }
    }
}

/// Copies every row of `from` into `to`, which must be empty: integrations (the default
/// too), accounts, their ship-tos and contacts, reference records and sync runs, promotions
/// and party promotions (leases, states, errors and timestamps kept), bindings and the log,
/// ids preserved, `page` rows at a time (memory holds one page). A sync run still running in
/// `from` is closed in `to` as failed at `now` ([`COPIED_WHILE_RUNNING`]): its staged pages
/// are not copied. At the end each section's count in `to` is compared with `from`'s.
///
/// Run it while nothing else writes to either store.
///
/// Dropping the returned future stops the copy after the last page written: `to` then holds
/// part of the copy, and a new copy into it is refused ([`CopyError::TargetNotEmpty`]) until
/// it is emptied.
///
/// # Errors
/// [`CopyError::TargetNotEmpty`] (nothing written); [`CopyError::Source`] /
/// [`CopyError::Target`] when a store fails; [`CopyError::CountsDiffer`] when the counts do
/// not match at the end.
pub async fn copy_store<S, T>(
    from: &S,
    to: &T,
    page: usize,
    now: Timestamp,
) -> Result<CopyReport, CopyError>
where
    S: StoreExport + ?Sized,
    T: StoreImport + ?Sized,
{
    let page = page.max(1);
    if !to.is_empty().await.map_err(CopyError::Target)? {
        let counts = to.row_counts().await.map_err(CopyError::Target)?;
        return Err(CopyError::TargetNotEmpty { counts });
    }
    let mut closed_syncs = 0;
    for section in CopySection::ALL {
        let mut after = None;
        loop {
            let exported = from
                .export_page(section, after.as_ref(), page)
                .await
                .map_err(CopyError::Source)?;
            let mut rows = exported.rows;
            if rows.section() != section {
                return Err(CopyError::Source(StoreError::Internal(format!(
                    "asked for a page of {section}, the store gave {}",
                    rows.section()
                ))));
            }
            if let CopyPage::SyncRuns(runs) = &mut rows {
                for run in runs
                    .iter_mut()
                    .filter(|r| r.outcome == SyncOutcome::Running)
                {
                    run.outcome = SyncOutcome::Failed;
                    run.finished_at = Some(now.max(run.started_at));
                    run.error = Some(COPIED_WHILE_RUNNING.to_owned());
                    closed_syncs += 1;
                }
            }
            if !rows.is_empty() {
                to.import_page(&rows).await.map_err(CopyError::Target)?;
            }
            match exported.next {
                Some(next) if !rows.is_empty() => after = Some(next),
                _ => break,
            }
        }
    }
    let source = from.row_counts().await.map_err(CopyError::Source)?;
    let target = to.row_counts().await.map_err(CopyError::Target)?;
    if let Some((section, source_rows)) = source.iter().find(|(s, n)| target.get(*s) != *n) {
        return Err(CopyError::CountsDiffer {
            section,
            source_rows,
            target_rows: target.get(section),
        });
    }
    Ok(CopyReport {
        counts: source,
        closed_syncs,
    })
}
