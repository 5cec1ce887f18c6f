//! Steps 3–5 of a ship-to's or contact's promotion that this task holds (see
//! `party_promote.rs` for the recipe): after the lookup, create it once, point the customer at
//! it when it is the primary, confirm — and every way out of them (failed, unknown, lease lost,
//! a crash point). The one owner of those steps: a fresh promotion and `recover` both end here.

use crate::party_promotion::{PartyOutcome, PartyPromotion};
use crate::ports::{
    ErpConnector, ErpGateway, ErpWriteError, FencedWriteError, LogEvent, NewErpParty, PartyHome,
    Store, StoreError,
};
use crate::promotion::LeaseHolder;

use super::audit::{Audit, LogDraft};
use super::party_promote::PartyStep;
use super::party_promote_error::PartyPromoteError;
use super::{CrashPoint, Services};

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Steps 3–5 of a fresh promotion: a lookup that fails ends it `failed` (nothing was
    /// created yet).
    pub(super) async fn lookup_party_and_finish(
        &self,
        promotion: &PartyPromotion,
        holder: &LeaseHolder,
        gateway: &dyn ErpGateway,
        party: &NewErpParty,
        home: PartyHome,
        draft: LogDraft,
    ) -> Result<PartyStep, PartyPromoteError> {
        let found = if home == PartyHome::Records {
            match gateway.find_party(&promotion.key()).await {
                Ok(found) => found.is_some(),
                Err(error) => {
                    let reason = format!("lookup failed: {error}");
                    self.settle_party_failed(promotion, holder, &reason, &draft)
                        .await?;
                    return Err(PartyPromoteError::Lookup {
                        promotion: promotion.id,
                        party: promotion.party.clone(),
                        error,
                    });
                }
            }
        } else {
            false
        };
        self.finish_party(promotion, holder, gateway, Some(party), home, found, draft)
            .await
    }

    /// Steps 3 (after the lookup) to 5 for a promotion this task holds: create unless `found`,
    /// point the customer at it when primary, confirm. The one owner of that rule: `recover`
    /// calls it too, with its own lookup. `party` is `None` when the account no longer has it
    /// locally: then one the ERP has is adopted and an absent one is not created.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn finish_party(
        &self,
        promotion: &PartyPromotion,
        holder: &LeaseHolder,
        gateway: &dyn ErpGateway,
        party: Option<&NewErpParty>,
        home: PartyHome,
        found: bool,
        draft: LogDraft,
    ) -> Result<PartyStep, PartyPromoteError> {
        let id = promotion.id;
        let code = &promotion.party;
        let step = match (home, party, found) {
            (PartyHome::Records, _, true) => PartyStep::Found,
            (PartyHome::Records, Some(party), false) => {
                self.create_party_once(promotion, holder, gateway, party, &draft)
                    .await?
            }
            // A contact kept on the customer is written by the primary update below.
            (_, Some(_), _) => PartyStep::Created,
            (_, None, _) => {
                let reason = "the account no longer has it, and the ERP does not either";
                self.settle_party_failed(promotion, holder, reason, &draft)
                    .await?;
                return Err(PartyPromoteError::PartyNotFound {
                    account: promotion.account,
                    party: code.clone(),
                });
            }
        };
        if let Some(party) = party.filter(|p| p.primary) {
            self.write_primary(promotion, holder, gateway, party, &draft)
                .await?;
        }
        self.party_crash(CrashPoint::BeforeConfirm)?;
        self.settle_held_party(
            promotion,
            holder,
            PartyOutcome::Promoted,
            draft.event,
            &draft,
            |error| PartyPromoteError::NotRecorded {
                promotion: id,
                party: code.clone(),
                error,
            },
        )
        .await?;
        Ok(step)
    }

    async fn create_party_once(
        &self,
        promotion: &PartyPromotion,
        holder: &LeaseHolder,
        gateway: &dyn ErpGateway,
        party: &NewErpParty,
        draft: &LogDraft,
    ) -> Result<PartyStep, PartyPromoteError> {
        match gateway.create_party(party).await {
            Ok(_) => {
                self.party_crash(CrashPoint::AfterCreate)?;
                Ok(PartyStep::Created)
            }
            // Under our own customer with our own code: an earlier request of ours, or one
            // made meanwhile. Look again; adopt it when it is there.
            Err(ErpWriteError::AlreadyExists) => match gateway.find_party(&party.key).await {
                Ok(Some(_)) => Ok(PartyStep::Found),
                Ok(None) => Err(self
                    .party_unknown(
                        promotion,
                        holder,
                        "the ERP says it exists but cannot find it".into(),
                    )
                    .await),
                Err(e) => Err(self
                    .party_unknown(promotion, holder, format!("lookup failed: {e}"))
                    .await),
            },
            Err(ErpWriteError::Ambiguous { reason }) => {
                Err(self.party_unknown(promotion, holder, reason).await)
            }
            Err(error) => {
                self.settle_party_failed(promotion, holder, &error.to_string(), draft)
                    .await?;
                Err(PartyPromoteError::Refused {
                    promotion: promotion.id,
                    party: promotion.party.clone(),
                    error,
                })
            }
        }
    }

    async fn write_primary(
        &self,
        promotion: &PartyPromotion,
        holder: &LeaseHolder,
        gateway: &dyn ErpGateway,
        party: &NewErpParty,
        draft: &LogDraft,
    ) -> Result<(), PartyPromoteError> {
        match gateway.set_primary_party(party).await {
            Ok(()) => Ok(()),
            Err(ErpWriteError::Ambiguous { reason }) => Err(self
                .party_unknown(
                    promotion,
                    holder,
                    format!("making it the customer's primary: {reason}"),
                )
                .await),
            Err(error) => {
                let reason = format!("the ERP refused to make it the customer's primary: {error}");
                self.settle_party_failed(promotion, holder, &reason, draft)
                    .await?;
                Err(PartyPromoteError::Refused {
                    promotion: promotion.id,
                    party: promotion.party.clone(),
                    error,
                })
            }
        }
    }

    /// Ends a held promotion `failed` with `reason`, logging it in the same transaction.
    pub(crate) async fn settle_party_failed(
        &self,
        promotion: &PartyPromotion,
        holder: &LeaseHolder,
        reason: &str,
        draft: &LogDraft,
    ) -> Result<(), PartyPromoteError> {
        self.settle_held_party(
            promotion,
            holder,
            PartyOutcome::Failed(reason.to_owned()),
            LogEvent::Failed,
            draft,
            PartyPromoteError::Store,
        )
        .await
    }

    /// Settles a held promotion with `outcome`, fenced on the lease, logging `event` (with a
    /// failure's reason) in the same transaction: the one owner of that write and of its
    /// errors. A store failure is `store_error`'s; a lost fence is `LeaseLost`.
    async fn settle_held_party(
        &self,
        promotion: &PartyPromotion,
        holder: &LeaseHolder,
        outcome: PartyOutcome,
        event: LogEvent,
        draft: &LogDraft,
        store_error: impl FnOnce(StoreError) -> PartyPromoteError,
    ) -> Result<(), PartyPromoteError> {
        let reason = match &outcome {
            PartyOutcome::Failed(reason) | PartyOutcome::NeedsReview(reason) => {
                Some(reason.clone())
            }
            PartyOutcome::Promoted => None,
        };
        let entry = self.entry(
            Audit::new(
                promotion.account,
                event,
                draft.request.clone(),
                draft.started,
            )
            .integration(promotion.integration)
            .promotion(promotion.id)
            .message(reason),
        );
        match self
            .store
            .settle_party(promotion.id, holder, &outcome, self.clock.now(), &entry)
            .await
        {
            Ok(()) => Ok(()),
            Err(FencedWriteError::Store(e)) => Err(store_error(e)),
            Err(_) => Err(PartyPromoteError::LeaseLost(promotion.id)),
        }
    }

    /// Steps aside from an outcome this task cannot know: the lease is released (best effort;
    /// else it expires) so `recover` may settle it at once.
    async fn party_unknown(
        &self,
        promotion: &PartyPromotion,
        holder: &LeaseHolder,
        reason: String,
    ) -> PartyPromoteError {
        let _ = self
            .store
            .release_party_lease(promotion.id, holder, self.clock.now())
            .await;
        PartyPromoteError::OutcomeUnknown {
            promotion: promotion.id,
            party: promotion.party.clone(),
            reason,
        }
    }

    #[allow(clippy::unused_self, clippy::unnecessary_wraps)]
    pub(super) fn party_crash(&self, point: CrashPoint) -> Result<(), PartyPromoteError> {
        match self.crash_point(point) {
            Ok(()) => Ok(()),
            #[cfg(feature = "crash-points")]
            Err(super::PromoteError::Crashed(point)) => Err(PartyPromoteError::Crashed(point)),
            // `crash_point` reports nothing but a crash.
            Err(other) => Err(PartyPromoteError::Store(StoreError::Internal(
                other.to_string(),
            ))),
        }
    }
}
