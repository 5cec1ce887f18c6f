//! Recover for ship-to and contact promotions: the same rule as for customers (take the
//! lease of a free `creating` row by compare-and-swap, look it up, adopt or create once), run
//! after the customers so a party's customer is settled first. A party found under the
//! account's customer with its code is this party — nothing else could have made it there —
//! so there is no "needs review" here; the primary update is sent again (it is idempotent).

use std::time::Instant;

use crate::party_promotion::PartyPromotion;
use crate::ports::{ErpConnector, LogEvent, PartyHome, Store};

use super::Services;
use super::audit::{Audit, LogDraft};
use super::party_promote::{PartyPromoteError, PartyStep, party_summary};
use super::recover::{RecoverDecision, RecoverError, RecoverItem};

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Settles one in-flight party promotion as recover does, logging the decision.
    pub(crate) async fn settle_party_promotion(
        &self,
        promotion: &PartyPromotion,
    ) -> Result<RecoverItem, RecoverError> {
        let started = Instant::now();
        let integration = self.store.integration(promotion.integration).await?;
        let summary = format!(
            "recover {}",
            party_summary(&promotion.party, Some(&promotion.customer))
        );
        let decision = self
            .recover_party(promotion, integration.as_ref(), &summary, started)
            .await;
        let event = match &decision {
            // Logged in the settling transaction itself.
            RecoverDecision::Adopted | RecoverDecision::Resumed | RecoverDecision::Failed(_) => {
                None
            }
            RecoverDecision::NeedsReview(_) => Some(LogEvent::NeedsReview),
            _ => Some(LogEvent::Skipped),
        };
        if let Some(event) = event {
            self.log(
                Audit::new(promotion.account, event, summary, started)
                    .integration(promotion.integration)
                    .promotion(promotion.id)
                    .message(decision.detail().map(str::to_owned)),
            )
            .await;
        }
        let mut item = RecoverItem::new(
            promotion.id,
            promotion.account,
            integration.map(|i| i.name().clone()),
            promotion.customer.customer_no.clone(),
            decision,
        );
        item.party = Some(promotion.party.clone());
        Ok(item)
    }

    async fn recover_party(
        &self,
        promotion: &PartyPromotion,
        integration: Option<&crate::integration::Integration>,
        summary: &str,
        started: Instant,
    ) -> RecoverDecision {
        let (holder, _task) = match self
            .take_over_to_settle(promotion.lease.as_ref(), integration, |lease| async move {
                self.store
                    .take_over_party(promotion.id, promotion.lease.as_ref(), &lease)
                    .await
            })
            .await
        {
            Ok(held) => held,
            Err(still_held) => return still_held,
        };
        let draft = |event| LogDraft {
            event,
            request: summary.to_owned(),
            started,
        };
        let Some(integration) = integration else {
            let reason = "its integration no longer exists";
            return match self
                .settle_party_failed(promotion, &holder, reason, &draft(LogEvent::Failed))
                .await
            {
                Ok(()) => RecoverDecision::Failed(reason.into()),
                Err(e) => {
                    self.party_unsettled(promotion, &holder, e.to_string())
                        .await
                }
            };
        };
        let gateway = match self.gateway(integration).await {
            Ok(g) => g,
            Err(e) => {
                return self
                    .party_unsettled(promotion, &holder, e.to_string())
                    .await;
            }
        };
        let party = match self
            .new_erp_party(promotion.account, &promotion.customer, &promotion.party)
            .await
        {
            Ok(party) => party,
            Err(e) => {
                return self
                    .party_unsettled(promotion, &holder, e.to_string())
                    .await;
            }
        };
        let home = match gateway.party_home(promotion.kind()).await {
            Ok(home) => home,
            Err(e) => {
                return self
                    .party_unsettled(promotion, &holder, e.to_string())
                    .await;
            }
        };
        let found = if home == PartyHome::Records {
            match gateway.find_party(&promotion.key()).await {
                Ok(found) => found.is_some(),
                Err(e) => {
                    return self
                        .party_unsettled(promotion, &holder, format!("lookup failed: {e}"))
                        .await;
                }
            }
        } else {
            false
        };
        let event = if found {
            LogEvent::Adopted
        } else {
            LogEvent::Resumed
        };
        match self
            .finish_party(
                promotion,
                &holder,
                gateway.as_ref(),
                party.as_ref(),
                home,
                found,
                draft(event),
            )
            .await
        {
            Ok(PartyStep::Found) => RecoverDecision::Adopted,
            Ok(PartyStep::Created) => RecoverDecision::Resumed,
            Err(
                e @ (PartyPromoteError::Refused { .. } | PartyPromoteError::PartyNotFound { .. }),
            ) => RecoverDecision::Failed(e.to_string()),
            Err(e @ PartyPromoteError::LeaseLost(_)) => RecoverDecision::StillHeld(e.to_string()),
            // Already stepped aside (lease released) or not recorded: still `creating`.
            Err(e) => RecoverDecision::Unsettled(e.to_string()),
        }
    }

    async fn party_unsettled(
        &self,
        promotion: &PartyPromotion,
        holder: &crate::promotion::LeaseHolder,
        reason: String,
    ) -> RecoverDecision {
        let _ = self
            .store
            .release_party_lease(promotion.id, holder, self.clock.now())
            .await;
        RecoverDecision::Unsettled(reason)
    }
}
