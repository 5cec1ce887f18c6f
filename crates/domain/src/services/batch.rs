//! Batches: many promotions with bounded concurrency, each outcome reported as it settles.
//!
//! Every row goes through [`Services::promote`], so every exactly-once rule holds inside a
//! batch too: two rows for one account — one wins, the other reports a conflict. Cancelling
//! (raising the [`CancelFlag`]) stops new rows from starting; rows already under way finish (a
//! promotion is never left half-done by a cancel), and rows never started are reported as not
//! attempted.
//!
//! Dropping the batch's future is another thing: it drops every row under way with it, each
//! exactly as a dropped [`Services::promote`] (it stays `creating` until its lease expires, then
//! a retry says so and [`Services::recover`] settles it); rows not started never start. The
//! flag and the counters hold nothing that outlives the future.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures_util::stream::{self, StreamExt};

use crate::ports::{ErpConnector, Store};
use crate::promotion::PromotionRequest;

use super::{PromoteError, Promoted, Services};
use crate::error_class::{ErrorClass, ErrorCode};

/// A flag an embedding service sets to stop a batch from starting more rows.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag not yet raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the flag: rows not started yet will not start.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the flag is raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How one row ended.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
#[non_exhaustive]
pub enum RowOutcome {
    /// Promoted.
    Promoted(Promoted),
    /// Not promoted, and why.
    Failed(PromoteError),
    /// Never started: the batch was cancelled first.
    NotAttempted,
}

impl RowOutcome {
    /// The class of the row's failure: `None` when promoted, the error's class when failed,
    /// [`ErrorClass::Conflict`] when not attempted (it may be run again).
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            RowOutcome::Promoted(_) => None,
            RowOutcome::Failed(e) => Some(e.class()),
            RowOutcome::NotAttempted => Some(ErrorClass::Conflict),
        }
    }
}

/// One row's outcome.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BatchOutcome {
    /// The row's position in the input (0-based).
    pub index: usize,
    /// The request.
    pub request: PromotionRequest,
    /// How it ended.
    pub outcome: RowOutcome,
}

/// Progress of a batch: a row settled.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct BatchEvent<'a> {
    /// The row that settled.
    pub row: &'a BatchOutcome,
    /// Rows settled so far (this one included).
    pub settled: usize,
    /// Rows in the batch.
    pub total: usize,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Promotes every request with at most `concurrency` under way at once (at least 1),
    /// calling `on_event` as each row settles. Returns every row's outcome in input order.
    ///
    /// # Dropping the future
    /// Drops every row under way, each as a dropped [`Services::promote`] would be (settled by
    /// [`Services::recover`] once its lease expired); rows not yet started never start and
    /// rows already settled stay settled. Raise the [`CancelFlag`] instead to let the rows
    /// under way finish.
    pub async fn promote_batch(
        &self,
        requests: Vec<PromotionRequest>,
        concurrency: usize,
        cancel: &CancelFlag,
        on_event: &(dyn Fn(BatchEvent<'_>) + Send + Sync),
    ) -> Vec<BatchOutcome> {
        run_batch(
            requests,
            concurrency,
            cancel,
            on_event,
            |request| async move { self.promote(&request).await },
        )
        .await
    }
}

/// The batch loop over any `promote` (the facade's runs each row on its own task): at most
/// `concurrency` rows under way at once (at least 1), `on_event` as each settles, every row's
/// outcome in input order; rows not started when `cancel` is raised are
/// [`RowOutcome::NotAttempted`].
///
/// # Dropping the future
/// Drops every `promote` future under way (what that does is `promote`'s to say); rows not yet
/// started never start.
pub async fn run_batch<F, Fut>(
    requests: Vec<PromotionRequest>,
    concurrency: usize,
    cancel: &CancelFlag,
    on_event: &(dyn Fn(BatchEvent<'_>) + Send + Sync),
    promote: F,
) -> Vec<BatchOutcome>
where
    F: Fn(PromotionRequest) -> Fut,
    Fut: Future<Output = Result<Promoted, PromoteError>>,
{
    let total = requests.len();
    let settled = AtomicUsize::new(0);
    let settled = &settled;
    let promote = &promote;
    let mut outcomes: Vec<BatchOutcome> = stream::iter(requests.into_iter().enumerate())
        .map(|(index, request)| async move {
            let outcome = if cancel.is_cancelled() {
                RowOutcome::NotAttempted
            } else {
                match promote(request.clone()).await {
                    Ok(promoted) => RowOutcome::Promoted(promoted),
                    Err(e) => RowOutcome::Failed(e),
                }
            };
            let row = BatchOutcome {
                index,
                request,
                outcome,
            };
            let done = settled.fetch_add(1, Ordering::SeqCst) + 1;
            on_event(BatchEvent {
                row: &row,
                settled: done,
                total,
            });
            row
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    outcomes.sort_by_key(|o| o.index);
    outcomes
}
