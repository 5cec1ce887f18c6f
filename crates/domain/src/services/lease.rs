//! The promotion lease: who holds an in-flight promotion, until when, renewing it, telling a
//! live holder from a dead one, fencing writes on it and releasing it.

use std::time::Duration;

use crate::ids::PromotionId;
use crate::integration::Integration;
use crate::ports::{ErpConnector, FencedWriteError, Liveness, Store};
use crate::promotion::{Lease, LeaseHolder, Promotion};

use super::tasks::LiveTask;
use super::{PromoteError, Services};

/// A lease holder's standing (see `Services::standing`).
enum Standing {
    /// A task of this `Services` value that still runs.
    Running,
    /// This process, but not a running task of this value: a dropped future (or another
    /// `Services` value's task).
    Dropped,
    /// Another process on this host that still runs.
    LiveProcess,
    /// A process on this host that is gone.
    DeadProcess,
    /// A process elsewhere: only the expiry can tell.
    Unknown,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Where `holder` stands, as far as this value can tell. The one place liveness is judged;
    /// a promotion ([`Services::holder_alive`]) and a sync run ([`Services::sync_holder_gone`])
    /// each apply their own rule to it.
    fn standing(&self, holder: &LeaseHolder) -> Standing {
        let me = self.processes.current();
        let is_me = holder.host == me.host
            && holder.pid == me.pid
            && holder.process_start == me.process_start;
        if is_me {
            return if self.tasks.is_live(holder.task) {
                Standing::Running
            } else {
                Standing::Dropped
            };
        }
        match self.processes.liveness(holder) {
            Liveness::Alive => Standing::LiveProcess,
            Liveness::Dead => Standing::DeadProcess,
            Liveness::Unknown => Standing::Unknown,
        }
    }

    /// Whether the holder of a `creating` promotion is still at work. A task of this value
    /// that still runs is, and so is another live process on this host; a dead one is not. Any
    /// other (a dropped future or another `Services` in this process, a process elsewhere)
    /// holds until the lease expires: a request it sent may still be on its way.
    pub(crate) fn holder_alive(&self, promotion: &Promotion) -> bool {
        self.lease_alive(promotion.lease.as_ref())
    }

    /// [`Services::holder_alive`]'s rule for any lease (a ship-to's or contact's promotion
    /// has the same kind of lease).
    pub(crate) fn lease_alive(&self, lease: Option<&Lease>) -> bool {
        let Some(lease) = lease else {
            return false;
        };
        match self.standing(&lease.holder) {
            Standing::Running | Standing::LiveProcess => true,
            Standing::DeadProcess => false,
            Standing::Dropped | Standing::Unknown => lease.expires_at > self.clock.now(),
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
        match self.standing(holder) {
            Standing::Running => None,
            Standing::Dropped => Some("abandoned: the sync running it in this process was dropped"),
            Standing::DeadProcess => Some("abandoned: the process running it stopped"),
            // A live process's sync renews its hold with every staged page; one that let it
            // expire dropped its sync (or is stuck), and nothing it sends changes the ERP.
            Standing::LiveProcess | Standing::Unknown => (expires_at <= self.clock.now())
                .then_some("abandoned: its holder let its hold expire"),
        }
    }

    /// Before each ERP call the holder makes sure its lease has at least half its length left,
    /// renewing it (a fenced write) when it has not. A lease recorded or renewed moments ago is
    /// left alone: nobody can take a live holder's unexpired lease, so a renewal then would only
    /// add a durable commit to every promotion.
    ///
    /// Why this covers every call: the derived lease is at least twice the longest one ERP call
    /// through `integration` can take ([`Services::lease_length`]), and each call starts with
    /// at least half of it left, so the lease outlives the call even when the call takes its
    /// whole budget (a lookup with all its retries, or a create that times out). A shorter
    /// lease an embedder fixed may not; [`ServiceConfig::lease`] says why that is still safe.
    ///
    /// [`ServiceConfig::lease`]: super::ServiceConfig::lease
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

    /// A lease through `integration` for a new holder (see [`Services::new_holder`]), and the
    /// guard that keeps it live: what a fresh intent and a recover's take-over both record.
    pub(crate) fn new_lease(&self, integration: Option<&Integration>) -> (Lease, LiveTask) {
        let (holder, task) = self.new_holder();
        let lease = Lease {
            holder,
            expires_at: self.lease_expiry(integration),
        };
        (lease, task)
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
