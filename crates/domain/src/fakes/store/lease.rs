//! The fencing and the take-over of the in-memory store, for customer and party promotions
//! alike: the SQL stores' `WHERE id AND state = 'creating' AND lease = …`, written once.

use crate::ids::PromotionId;
use crate::party_promotion::PartyPromotion;
use crate::ports::{FencedWriteError, TakeOverError};
use crate::promotion::{Lease, LeaseHolder, Promotion, PromotionState};
use jiff::Timestamp;

/// A promotion with a lease: what the fence, the settle and the take-over touch.
pub(super) trait Leased {
    fn id(&self) -> PromotionId;
    fn state(&mut self) -> &mut PromotionState;
    fn lease(&mut self) -> &mut Option<Lease>;
    fn error(&mut self) -> &mut Option<String>;
    fn updated_at(&mut self) -> &mut Timestamp;
}

/// [`Leased`] for promotion types, whose fields have the same names.
macro_rules! leased {
    ($($t:ty),*) => {$(
        impl Leased for $t {
            fn id(&self) -> PromotionId {
                self.id
            }
            fn state(&mut self) -> &mut PromotionState {
                &mut self.state
            }
            fn lease(&mut self) -> &mut Option<Lease> {
                &mut self.lease
            }
            fn error(&mut self) -> &mut Option<String> {
                &mut self.error
            }
            fn updated_at(&mut self) -> &mut Timestamp {
                &mut self.updated_at
            }
        }
    )*};
}

leased!(Promotion, PartyPromotion);

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
    if *p.state() != PromotionState::Creating
        || p.lease().as_ref().map(|l| &l.holder) != Some(holder)
    {
        return Err(FencedWriteError::LeaseLost);
    }
    Ok(p)
}

/// Ends the holder's `creating` promotion `id` of `rows` as `state` with `error`, releasing
/// its lease.
pub(super) fn settle<P: Leased>(
    rows: &mut [P],
    id: PromotionId,
    holder: &LeaseHolder,
    state: PromotionState,
    error: Option<String>,
    now: Timestamp,
) -> Result<(), FencedWriteError> {
    let p = fenced(rows, id, holder)?;
    *p.state() = state;
    *p.error() = error;
    *p.lease() = None;
    *p.updated_at() = now;
    Ok(())
}

/// Gives up the holder's lease on the `creating` promotion `id` of `rows`.
pub(super) fn release<P: Leased>(
    rows: &mut [P],
    id: PromotionId,
    holder: &LeaseHolder,
    now: Timestamp,
) -> Result<(), FencedWriteError> {
    let p = fenced(rows, id, holder)?;
    *p.lease() = None;
    *p.updated_at() = now;
    Ok(())
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
    if *p.state() != PromotionState::Creating || p.lease().as_ref() != expected {
        return Err(TakeOverError::Changed);
    }
    *p.lease() = Some(new.clone());
    Ok(())
}
