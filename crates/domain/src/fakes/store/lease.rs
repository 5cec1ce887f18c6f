//! The fencing and the take-over of the in-memory store, for customer and party promotions
//! alike: the SQL stores' `WHERE id AND state = 'creating' AND lease = …`, written once.

use crate::ids::PromotionId;
use crate::party_promotion::PartyPromotion;
use crate::ports::{FencedWriteError, TakeOverError};
use crate::promotion::{Lease, LeaseHolder, Promotion, PromotionState};

/// A promotion with a lease: what the fence and the take-over look at.
pub(super) trait Leased {
    fn id(&self) -> PromotionId;
    fn state(&self) -> PromotionState;
    fn lease(&mut self) -> &mut Option<Lease>;
}

impl Leased for Promotion {
    fn id(&self) -> PromotionId {
        self.id
    }
    fn state(&self) -> PromotionState {
        self.state
    }
    fn lease(&mut self) -> &mut Option<Lease> {
        &mut self.lease
    }
}

impl Leased for PartyPromotion {
    fn id(&self) -> PromotionId {
        self.id
    }
    fn state(&self) -> PromotionState {
        self.state
    }
    fn lease(&mut self) -> &mut Option<Lease> {
        &mut self.lease
    }
}

/// The `creating` promotion `id` of `rows`, if `holder` holds its lease.
pub(super) fn fenced<'a, P: Leased>(
    rows: &'a mut [P],
    id: PromotionId,
    holder: &LeaseHolder,
) -> Result<&'a mut P, FencedWriteError> {
    let p = rows
        .iter_mut()
        .find(|p| p.id() == id)
        .ok_or(FencedWriteError::NotFound)?;
    if p.state() != PromotionState::Creating
        || p.lease().as_ref().map(|l| &l.holder) != Some(holder)
    {
        return Err(FencedWriteError::LeaseLost);
    }
    Ok(p)
}

/// Gives the `creating` promotion `id` of `rows` the lease `new` if its lease is still
/// `expected`: a compare-and-swap on the whole lease.
pub(super) fn take_over<P: Leased>(
    rows: &mut [P],
    id: PromotionId,
    expected: Option<&Lease>,
    new: &Lease,
) -> Result<(), TakeOverError> {
    let p = rows
        .iter_mut()
        .find(|p| p.id() == id)
        .ok_or(TakeOverError::Changed)?;
    if p.state() != PromotionState::Creating || p.lease().as_ref() != expected {
        return Err(TakeOverError::Changed);
    }
    *p.lease() = Some(new.clone());
    Ok(())
}
