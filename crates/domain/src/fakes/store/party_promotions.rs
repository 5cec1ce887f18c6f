//! [`PartyPromotionStore`] in memory, with the SQL stores' constraints: the account must
//! exist, one live (`creating` or `promoted`) promotion per (integration, account, party),
//! every change fenced on the lease holder, the take-over a compare-and-swap.

use async_trait::async_trait;

use super::MemoryStore;
use super::lease::{release, settle, take_over};
use crate::ids::{AccountId, PromotionId};
use crate::party_promotion::{PartyOutcome, PartyPromotion};
use crate::ports::{
    FencedWriteError, LogEntry, PartyPromotionStore, RecordPartyIntentError, StoreError,
    TakeOverError,
};
use crate::promotion::{Lease, LeaseHolder, PromotionState};
use jiff::Timestamp;

#[async_trait]
impl PartyPromotionStore for MemoryStore {
    async fn record_party_intent(
        &self,
        promotion: &PartyPromotion,
        log: &LogEntry,
    ) -> Result<(), RecordPartyIntentError> {
        let mut s = self.state();
        if !s.accounts.contains_key(&promotion.account) {
            return Err(RecordPartyIntentError::AccountNotFound(promotion.account));
        }
        if let Some(live) = s.party_promotions.iter().find(|p| {
            p.integration == promotion.integration
                && p.account == promotion.account
                && p.party == promotion.party
                && p.state.is_live()
        }) {
            return Err(RecordPartyIntentError::Live(Box::new(live.clone())));
        }
        if s.party_promotions.iter().any(|p| p.id == promotion.id) {
            return Err(StoreError::Internal(format!(
                "UNIQUE constraint failed: party promotion {} is already recorded",
                promotion.id
            ))
            .into());
        }
        s.party_promotions.push(promotion.clone());
        s.log.push(log.clone());
        Ok(())
    }

    async fn settle_party(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        outcome: &PartyOutcome,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        let mut s = self.state();
        settle(
            &mut s.party_promotions,
            id,
            holder,
            outcome.state(),
            outcome.error().map(str::to_owned),
            now,
        )?;
        s.log.push(log.clone());
        Ok(())
    }

    async fn release_party_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        release(&mut self.state().party_promotions, id, holder, now)
    }

    async fn take_over_party(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        take_over(&mut self.state().party_promotions, id, expected, new)
    }

    async fn party_promotion(&self, id: PromotionId) -> Result<Option<PartyPromotion>, StoreError> {
        Ok(self
            .state()
            .party_promotions
            .iter()
            .find(|p| p.id == id)
            .cloned())
    }

    async fn party_in_flight(&self) -> Result<Vec<PartyPromotion>, StoreError> {
        Ok(self
            .state()
            .party_promotions
            .iter()
            .filter(|p| p.state == PromotionState::Creating)
            .cloned()
            .collect())
    }

    async fn party_promotions_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<PartyPromotion>, StoreError> {
        Ok(self
            .state()
            .party_promotions
            .iter()
            .filter(|p| p.account == account)
            .cloned()
            .collect())
    }
}
