//! The promotion lease: who holds an in-flight promotion, until when, renewing it, telling a
//! live holder from a dead one, fencing writes on it and releasing it.

use std::time::Duration;

use crate::ids::PromotionId;
use crate::integration::Integration;
use crate::ports::{ErpConnector, FencedWriteError, Liveness, Store};
use crate::promotion::{LeaseHolder, Promotion};

use super::tasks::LiveTask;
use super::{PromoteError, Services};

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Whether the holder of a `creating` promotion is still at work. In this process, a task
    /// of this value that still runs is, and any other (a dropped future, another `Services`)
    /// holds until the lease expires; another live process on this host is, a dead one is not;
    /// a process elsewhere holds until the lease expires.
    pub(crate) fn holder_alive(&self, promotion: &Promotion) -> bool {
        match &promotion.lease {
            None => false,
            Some(lease) => self.lease_holder_alive(&lease.holder, lease.expires_at),
        }
    }

    /// Whether `holder`, whose lease runs until `expires_at`, is still at work (see
    /// [`Services::holder_alive`]); for any lease-like record, such as a sync run.
    pub(crate) fn lease_holder_alive(
        &self,
        holder: &LeaseHolder,
        expires_at: jiff::Timestamp,
    ) -> bool {
        if self.is_me(holder) {
            return self.tasks.is_live(holder.task) || expires_at > self.clock.now();
        }
        match self.processes.liveness(holder) {
            Liveness::Alive => true,
            Liveness::Dead => false,
            Liveness::Unknown => expires_at > self.clock.now(),
        }
    }

    /// Why a sync run held by `holder` until `expires_at` may be taken over, or `None` while
    /// its holder is at work. Unlike a promotion, a sync has no ERP side effect to wait out:
    /// a sync of this process whose task has ended (its future was dropped) is gone at once,
    /// as is one of a dead process on this host; any other (a live process here, one elsewhere)
    /// is gone once its hold expired.
    /// (A sync of another `Services` value in this process looks like a dropped one: its task
    /// is not in this value's registry.)
    pub(crate) fn sync_holder_gone(
        &self,
        holder: &LeaseHolder,
        expires_at: jiff::Timestamp,
    ) -> Option<&'static str> {
        if self.is_me(holder) {
            return (!self.tasks.is_live(holder.task))
                .then_some("abandoned: the sync running it in this process was dropped");
        }
        match self.processes.liveness(holder) {
            Liveness::Dead => Some("abandoned: the process running it stopped"),
            // A live process's sync renews its hold with every staged page; one that let it
            // expire dropped its sync (or is stuck), and nothing it sends changes the ERP.
            Liveness::Alive | Liveness::Unknown => (expires_at <= self.clock.now())
                .then_some("abandoned: its holder let its hold expire"),
        }
    }

    fn is_me(&self, holder: &LeaseHolder) -> bool {
        let me = self.processes.current();
        holder.host == me.host && holder.pid == me.pid && holder.process_start == me.process_start
    }

    /// Before each ERP call the holder makes sure its lease has at least half its length left,
    /// renewing it (a fenced write) when it has not. A lease recorded or renewed moments ago is
    /// left alone: nobody can take a live holder's unexpired lease, so a renewal then would only
    /// add a durable commit to every promotion.
    ///
    /// Why this covers every call: the lease is at least twice the longest one ERP call through
    /// `integration` can take ([`Services::lease_length`]), and each call starts with at least
    /// half of it left, so the lease outlives the call even when the call takes its whole
    /// budget (a lookup with all its retries, or a create that times out).
    pub(crate) async fn renew_if_needed(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        integration: Option<&Integration>,
        expires_at: &mut Option<jiff::Timestamp>,
    ) -> Result<(), PromoteError> {
        let half =
            jiff::SignedDuration::try_from(self.lease_length(integration) / 2).unwrap_or_default();
        let fresh_enough = expires_at
            .and_then(|at| at.checked_sub(half).ok())
            .is_some_and(|threshold| self.clock.now() < threshold);
        if fresh_enough {
            return Ok(());
        }
        let renewed = self.lease_expiry(integration);
        self.fenced(self.store.renew_lease(id, holder, renewed).await, id)?;
        *expires_at = Some(renewed);
        Ok(())
    }

    pub(crate) async fn release(&self, id: PromotionId, holder: &LeaseHolder) {
        // Best effort: if it fails, the lease simply expires (or the process ends).
        let _ = self.store.release_lease(id, holder, self.clock.now()).await;
    }

    pub(crate) fn fenced(
        &self,
        result: Result<(), FencedWriteError>,
        id: PromotionId,
    ) -> Result<(), PromoteError> {
        match result {
            Ok(()) => Ok(()),
            Err(FencedWriteError::Store(e)) => Err(PromoteError::Store(e)),
            Err(_) => Err(PromoteError::LeaseLost(id)),
        }
    }

    /// How long a lease on a promotion through `integration` lasts: [`ServiceConfig::lease`]
    /// when it is set; otherwise 45 s at least, and at least twice the longest one ERP call at
    /// the integration's timeout ([`RequestTimeout::call_budget`]). The holder renews before
    /// each ERP call once less than half is left, so every call starts with at least its whole
    /// budget ahead of it. At the default 60 s timeout that is 420 s: a holder on another host
    /// that died, or a promotion whose future was dropped, is settled that long after (on this
    /// host, a dead process is seen at once). `None` (no ERP call under the lease): 45 s.
    ///
    /// [`ServiceConfig::lease`]: super::ServiceConfig::lease
    /// [`RequestTimeout::call_budget`]: crate::RequestTimeout::call_budget
    pub fn lease_length(&self, integration: Option<&Integration>) -> Duration {
        if let Some(fixed) = self.config.lease {
            return fixed;
        }
        let call = integration.map_or(Duration::ZERO, |i| {
            i.timeout().unwrap_or_default().call_budget()
        });
        Self::MIN_LEASE.max(call.saturating_mul(2))
    }

    /// The shortest lease [`Services::lease_length`] derives.
    const MIN_LEASE: Duration = Duration::from_secs(45);

    pub(crate) fn lease_expiry(&self, integration: Option<&Integration>) -> jiff::Timestamp {
        let now = self.clock.now();
        jiff::SignedDuration::try_from(self.lease_length(integration))
            .ok()
            .and_then(|d| now.checked_add(d).ok())
            .unwrap_or(now)
    }

    /// A holder for a new operation, and the guard that keeps it live: hold the guard for as
    /// long as the operation runs (see the `tasks` module).
    pub(crate) fn new_holder(&self) -> (LeaseHolder, LiveTask) {
        let me = self.processes.current();
        let task = self.tasks.start();
        let holder = LeaseHolder {
            host: me.host,
            pid: me.pid,
            process_start: me.process_start,
            task: task.id(),
        };
        (holder, task)
    }
}
