//! Batches: many promotions from a lazy source with bounded concurrency, each outcome delivered
//! as it settles and none kept.
//!
//! A batch pulls its rows from a [`Stream`] only as slots free up: at most `concurrency` rows
//! are under way at once and the batch holds no other row, so memory stays flat at any size.
//! It keeps no outcome either: each goes to the caller's callback as it settles, and the batch
//! returns only the counts ([`BatchSummary`]).
//!
//! Every row goes through [`Services::promote_row`], so every exactly-once rule holds inside a
//! batch too, and running a batch again is always safe: a row whose account is already
//! promoted (with the same customer number) is [`RowOutcome::AlreadyPromoted`] with no ERP
//! work; a row whose account was left `creating` by a dead (or expired) holder is settled first
//! exactly as [`Services::recover`] settles it; a row whose account is held by a live holder
//! (another worker running the same file) is [`RowOutcome::InProgress`] and skipped — never
//! retried in a loop.
//!
//! Cancelling (raising the [`CancelFlag`]) stops new rows from starting and stops pulling from
//! the source; rows already under way finish (a promotion is never left half-done by a
//! cancel), and rows already pulled but not started are [`RowOutcome::NotAttempted`].
//!
//! Dropping the batch's future is another thing: it drops every row under way with it, each
//! exactly as a dropped [`Services::promote`] (it stays `creating` until its lease expires, then
//! a retry — or the same batch again — settles it); rows not started never start. The flag and
//! the counters hold nothing that outlives the future.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::stream::{Stream, StreamExt};

use crate::ids::PromotionId;
use crate::ports::{ErpConnector, Store};
use crate::promotion::{Binding, PromotionRequest};

use super::recover::RecoverDecision;
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
    /// Promoted now.
    Promoted(Promoted),
    /// The account was already promoted with this customer number (an earlier run of the
    /// batch): nothing was sent to the ERP.
    AlreadyPromoted(Box<Binding>),
    /// The account's promotion was left `creating` by a holder that is gone (a crashed or
    /// stopped run); it was settled as `recover` settles it (adopted or resumed) and is now
    /// promoted.
    Recovered {
        /// What the settling did: [`RecoverDecision::Adopted`] or [`RecoverDecision::Resumed`].
        decision: RecoverDecision,
        /// The binding now on the account.
        binding: Box<Binding>,
    },
    /// The account's promotion is held by a live holder (another worker running the same
    /// file, or a lease not yet expired): skipped, not retried.
    InProgress(PromotionId),
    /// The account's promotion was left `creating` by a holder that is gone, and settling it
    /// did not end promoted: the ERP has a customer that is not this account's
    /// ([`RecoverDecision::NeedsReview`]) or could not settle it now
    /// ([`RecoverDecision::Unsettled`]; run the batch again later).
    Unsettled(RecoverDecision),
    /// Not promoted, and why.
    Failed(PromoteError),
    /// Never started: the batch was cancelled first.
    NotAttempted,
    /// A dry run: every check passed; this is what would be sent. Nothing was recorded.
    WouldPromote(Box<super::DryRun>),
}

impl RowOutcome {
    /// The class of the row's failure: `None` when the account is promoted (promoted, already
    /// promoted, recovered); [`ErrorClass::Conflict`] when in progress elsewhere, needing review
    /// or not attempted (it may be run again); [`ErrorClass::Erp`] when the ERP could not
    /// settle a leftover; the error's class when failed.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            RowOutcome::Promoted(_)
            | RowOutcome::AlreadyPromoted(_)
            | RowOutcome::Recovered { .. }
            | RowOutcome::WouldPromote(_) => None,
            RowOutcome::InProgress(_) | RowOutcome::NotAttempted => Some(ErrorClass::Conflict),
            RowOutcome::Unsettled(d) => Some(d.class().unwrap_or(ErrorClass::Conflict)),
            RowOutcome::Failed(e) => Some(e.class()),
        }
    }

    /// `promoted`, `already_promoted`, `recovered`, `in_progress`, `unsettled`, `failed`,
    /// `not_attempted`, `would_promote`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RowOutcome::Promoted(_) => "promoted",
            RowOutcome::AlreadyPromoted(_) => "already_promoted",
            RowOutcome::Recovered { .. } => "recovered",
            RowOutcome::InProgress(_) => "in_progress",
            RowOutcome::Unsettled(_) => "unsettled",
            RowOutcome::Failed(_) => "failed",
            RowOutcome::NotAttempted => "not_attempted",
            RowOutcome::WouldPromote(_) => "would_promote",
        }
    }

    /// The binding on the account when it is promoted (promoted, already promoted,
    /// recovered).
    pub fn binding(&self) -> Option<&Binding> {
        match self {
            RowOutcome::Promoted(p) => Some(&p.binding),
            RowOutcome::AlreadyPromoted(b) | RowOutcome::Recovered { binding: b, .. } => Some(b),
            _ => None,
        }
    }
}

/// One row's outcome.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BatchOutcome {
    /// The row's position in the source (0-based).
    pub index: u64,
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
    pub settled: u64,
}

/// What a whole batch did: how many rows ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchSummary {
    /// Rows pulled from the source.
    pub total: u64,
    /// Promoted now.
    pub promoted: u64,
    /// Already promoted (no ERP work).
    pub already_promoted: u64,
    /// Left over by a gone holder, settled and now promoted.
    pub recovered: u64,
    /// Held by a live holder; skipped.
    pub in_progress: u64,
    /// Left over by a gone holder and not settled to promoted.
    pub unsettled: u64,
    /// Failed.
    pub failed: u64,
    /// Not started (cancelled).
    pub not_attempted: u64,
    /// Dry run: would be promoted.
    pub would_promote: u64,
    /// Whether the batch stopped early because the cancel flag was raised.
    pub cancelled: bool,
}

impl BatchSummary {
    fn add(&mut self, outcome: &RowOutcome) {
        self.total += 1;
        let slot = match outcome {
            RowOutcome::Promoted(_) => &mut self.promoted,
            RowOutcome::AlreadyPromoted(_) => &mut self.already_promoted,
            RowOutcome::Recovered { .. } => &mut self.recovered,
            RowOutcome::InProgress(_) => &mut self.in_progress,
            RowOutcome::Unsettled(_) => &mut self.unsettled,
            RowOutcome::Failed(_) => &mut self.failed,
            RowOutcome::NotAttempted => &mut self.not_attempted,
            RowOutcome::WouldPromote(_) => &mut self.would_promote,
        };
        *slot += 1;
    }

    /// Rows whose account is promoted at the end (promoted, already promoted, recovered).
    pub fn succeeded(&self) -> u64 {
        self.promoted + self.already_promoted + self.recovered
    }
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Promotes every request `source` yields with at most `concurrency` under way at once
    /// (at least 1), pulling the next request only when a slot is free, and calling `on_event`
    /// as each row settles. Returns the counts; the outcomes went to `on_event`.
    ///
    /// # Dropping the future
    /// Drops every row under way, each as a dropped [`Services::promote`] would be (its
    /// account stays `creating` until its lease expires; then the same batch again, or
    /// [`Services::recover`], settles it); rows not yet started never start and rows already
    /// settled stay settled. Raise the [`CancelFlag`] instead to let the rows under way finish.
    pub async fn promote_batch<Src>(
        &self,
        source: Src,
        concurrency: usize,
        cancel: &CancelFlag,
        on_event: &mut (dyn FnMut(BatchEvent<'_>) + Send),
    ) -> BatchSummary
    where
        Src: Stream<Item = PromotionRequest>,
    {
        run_batch(
            source,
            concurrency,
            cancel,
            on_event,
            |request| async move { self.promote_row(&request).await },
        )
        .await
    }

    /// One batch row: [`Services::promote`], made safe to run again. An account already
    /// promoted with this customer number is [`RowOutcome::AlreadyPromoted`] (no ERP work); one
    /// whose promotion a gone holder left `creating` is settled first by the one rule
    /// [`Services::recover`] applies (adopted or resumed → [`RowOutcome::Recovered`]; failed →
    /// promoted afresh once; needs review or unsettled → [`RowOutcome::Unsettled`]); one held by
    /// a live holder is [`RowOutcome::InProgress`].
    ///
    /// # Dropping the future
    /// As dropping [`Services::promote`] (or, while settling a leftover, [`Services::recover`]):
    /// the promotion under way stays `creating` under its lease until that expires.
    pub async fn promote_row(&self, request: &PromotionRequest) -> RowOutcome {
        if request.dry_run {
            return match self.promote_dry_run(request).await {
                Ok(dry) => RowOutcome::WouldPromote(Box::new(dry)),
                Err(e) => self.row_outcome(request, Err(e)),
            };
        }
        let first = self.promote(request).await;
        let leftover = match first {
            Err(PromoteError::InProgress {
                promotion,
                holder_alive: false,
            }) => promotion,
            other => return self.row_outcome(request, other),
        };
        let promotion = match self.store.promotion(leftover).await {
            Ok(Some(p)) => p,
            // Settled meanwhile by someone else: what a fresh attempt says is the answer.
            Ok(None) => return self.row_outcome(request, self.promote(request).await),
            Err(e) => return RowOutcome::Failed(PromoteError::Store(e)),
        };
        let decision = match self.settle(&promotion).await {
            Ok(item) => item.decision,
            Err(super::RecoverError::Store(e)) => {
                return RowOutcome::Failed(PromoteError::Store(e));
            }
        };
        match decision {
            RecoverDecision::Adopted | RecoverDecision::Resumed => {
                match self.promote(request).await {
                    Err(PromoteError::AlreadyPromoted { binding, .. }) => {
                        RowOutcome::Recovered { decision, binding }
                    }
                    other => self.row_outcome(request, other),
                }
            }
            // The gone holder's attempt failed and created nothing: promote afresh, once.
            RecoverDecision::Failed(_) => self.row_outcome(request, self.promote(request).await),
            RecoverDecision::StillHeld(_) => RowOutcome::InProgress(leftover),
            other => RowOutcome::Unsettled(other),
        }
    }

    fn row_outcome(
        &self,
        request: &PromotionRequest,
        result: Result<Promoted, PromoteError>,
    ) -> RowOutcome {
        match result {
            Ok(promoted) => RowOutcome::Promoted(promoted),
            Err(PromoteError::AlreadyPromoted { binding, .. })
                if binding
                    .customer_no
                    .as_str()
                    .eq_ignore_ascii_case(request.customer_no.trim()) =>
            {
                RowOutcome::AlreadyPromoted(binding)
            }
            Err(PromoteError::InProgress { promotion, .. }) => RowOutcome::InProgress(promotion),
            Err(e) => RowOutcome::Failed(e),
        }
    }
}

/// The batch loop over any per-row `promote` (the facade's runs each row on its own task):
/// pulls from `source` only while fewer than `concurrency` rows (at least 1) are under way,
/// calls `on_event` as each settles and keeps none of them; rows pulled when `cancel` is
/// raised are [`RowOutcome::NotAttempted`], and no more are pulled after that.
///
/// # Dropping the future
/// Drops every `promote` future under way (what that does is `promote`'s to say); rows not yet
/// started never start.
pub async fn run_batch<Src, F, Fut>(
    source: Src,
    concurrency: usize,
    cancel: &CancelFlag,
    on_event: &mut (dyn FnMut(BatchEvent<'_>) + Send),
    promote: F,
) -> BatchSummary
where
    Src: Stream<Item = PromotionRequest>,
    F: Fn(PromotionRequest) -> Fut,
    Fut: Future<Output = RowOutcome>,
{
    let promote = &promote;
    let mut index = 0_u64;
    let rows = source
        .take_while(|_| std::future::ready(!cancel.is_cancelled()))
        .map(|request| {
            let at = index;
            index += 1;
            async move {
                let outcome = if cancel.is_cancelled() {
                    RowOutcome::NotAttempted
                } else {
                    promote(request.clone()).await
                };
                BatchOutcome {
                    index: at,
                    request,
                    outcome,
                }
            }
        })
        .buffer_unordered(concurrency.max(1));
    futures_util::pin_mut!(rows);
    let mut summary = BatchSummary::default();
    while let Some(row) = rows.next().await {
        summary.add(&row.outcome);
        on_event(BatchEvent {
            row: &row,
            settled: summary.total,
        });
    }
    summary.cancelled = cancel.is_cancelled();
    summary
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::atomic::AtomicU64;
    use std::task::{Context, Poll, Waker};

    use futures_util::stream;

    use super::*;
    use crate::ids::AccountId;

    /// Polls `future` to its end on this thread (the futures here wake themselves).
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    /// Pending `n` times, then ready: a promotion that takes a while.
    async fn take_turns(n: u64) {
        let mut left = n;
        std::future::poll_fn(|cx| {
            if left == 0 {
                return Poll::Ready(());
            }
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await;
    }

    /// Counts rows pulled from the source, rows under way and rows delivered.
    #[derive(Default)]
    struct Counters {
        pulled: AtomicU64,
        under_way: AtomicU64,
        max_under_way: AtomicU64,
        delivered: AtomicU64,
        max_held: AtomicU64,
    }

    fn run(rows: u64, concurrency: usize, cancel_at: Option<u64>) -> (Counters, BatchSummary) {
        let counters = Counters::default();
        let cancel = CancelFlag::new();
        let c = &counters;
        let source = stream::iter(0..rows).map(|i| {
            let pulled = c.pulled.fetch_add(1, Ordering::SeqCst) + 1;
            // Rows pulled and not yet delivered: what the batch holds.
            let held = pulled - c.delivered.load(Ordering::SeqCst);
            c.max_held.fetch_max(held, Ordering::SeqCst);
            PromotionRequest::new(AccountId::generate(), format!("C{i}"))
        });
        let summary = block_on(run_batch(
            source,
            concurrency,
            &cancel,
            &mut |e| {
                c.delivered.fetch_add(1, Ordering::SeqCst);
                assert_eq!(e.settled, c.delivered.load(Ordering::SeqCst));
                if cancel_at == Some(e.settled) {
                    cancel.cancel();
                }
            },
            |request| async move {
                let now = c.under_way.fetch_add(1, Ordering::SeqCst) + 1;
                c.max_under_way.fetch_max(now, Ordering::SeqCst);
                // Rows of different lengths, so they settle out of order.
                take_turns(request.customer_no.len() as u64 * 3 % 7 + 1).await;
                c.under_way.fetch_sub(1, Ordering::SeqCst);
                RowOutcome::InProgress(crate::ids::PromotionId::generate())
            },
        ));
        (counters, summary)
    }

    #[test]
    fn a_batch_holds_no_more_rows_than_its_concurrency_plus_one_read_ahead() {
        for concurrency in [1, 3, 8] {
            let (c, summary) = run(500, concurrency, None);
            assert_eq!(summary.total, 500);
            assert_eq!(summary.in_progress, 500);
            assert_eq!(c.delivered.load(Ordering::SeqCst), 500);
            let max = c.max_under_way.load(Ordering::SeqCst);
            assert!(
                max <= concurrency as u64,
                "{max} under way at {concurrency}"
            );
            assert!(max >= 1);
            let held = c.max_held.load(Ordering::SeqCst);
            assert!(
                held <= concurrency as u64 + 1,
                "{held} rows held at concurrency {concurrency}"
            );
        }
    }

    #[test]
    fn a_cancelled_batch_stops_pulling_from_its_source() {
        let (c, summary) = run(500, 4, Some(10));
        assert!(summary.cancelled);
        let pulled = c.pulled.load(Ordering::SeqCst);
        assert!(pulled <= 10 + 4 + 1, "pulled {pulled} rows");
        assert_eq!(summary.total, c.delivered.load(Ordering::SeqCst));
        assert!(summary.total < 500);
    }
}
