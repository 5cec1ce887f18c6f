//! The promotion lease: who holds an in-flight promotion, until when, renewing it, telling a
//! live holder from a dead one, fencing writes on it and releasing it.

use crate::ids::PromotionId;
use crate::ports::{ErpConnector, FencedWriteError, Liveness, Store};
use crate::promotion::{LeaseHolder, Promotion};

use super::{PromoteError, Services};

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Whether the holder of a `creating` promotion is still at work: on this host its process
    /// decides; elsewhere the lease's expiry.
    pub(crate) fn holder_alive(&self, promotion: &Promotion) -> bool {
        match &promotion.lease {
            None => false,
            Some(lease) => match self.processes.liveness(&lease.holder) {
                Liveness::Alive => true,
                Liveness::Dead => false,
                Liveness::Unknown => lease.expires_at > self.clock.now(),
            },
        }
    }

    /// Before each ERP call the holder makes sure its lease has at least half its length left,
    /// renewing it (a fenced write) when it has not. A lease recorded or renewed moments ago is
    /// left alone: nobody can take a live holder's unexpired lease, so a renewal then would only
    /// add a durable commit to every promotion.
    pub(crate) async fn renew_if_needed(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        expires_at: &mut Option<jiff::Timestamp>,
    ) -> Result<(), PromoteError> {
        let half = jiff::SignedDuration::try_from(self.config.lease / 2).unwrap_or_default();
        let fresh_enough = expires_at
            .and_then(|at| at.checked_sub(half).ok())
            .is_some_and(|threshold| self.clock.now() < threshold);
        if fresh_enough {
            return Ok(());
        }
        let renewed = self.lease_expiry();
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

    pub(crate) fn lease_expiry(&self) -> jiff::Timestamp {
        let now = self.clock.now();
        jiff::SignedDuration::try_from(self.config.lease)
            .ok()
            .and_then(|d| now.checked_add(d).ok())
            .unwrap_or(now)
    }

    pub(crate) fn new_holder(&self) -> LeaseHolder {
        let me = self.processes.current();
        LeaseHolder {
            host: me.host,
            pid: me.pid,
            process_start: me.process_start,
            task: self
                .task_counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }
}
