//! [`Crm2Sage`]'s promotion of ship-tos and contacts, their bindings, and their live listing:
//! each delegates to the domain's services (see
//! [`Services::promote_party`](crm2sage_domain::Services::promote_party) for the recipe).

use std::sync::Arc;

use crm2sage_domain::ports::StoreError;
use crm2sage_domain::services::{
    DetailsError, LiveParties, PartyPromoteError, PartyPromoted, PartyPromotionRequest,
};
use crm2sage_domain::{AccountId, PartyCode, PartyKind, PartyPromotion};

use crate::Crm2Sage;
use crate::facade::detached;

/// What [`Crm2Sage::promote_parties`] returns: each party and its own outcome.
pub type PartyOutcomes = Vec<(PartyCode, Result<PartyPromoted, PartyPromoteError>)>;

impl Crm2Sage {
    /// Promotes one ship-to or contact of an account already promoted to the integration,
    /// exactly once (intent, lookup, create, the customer's primary pointer when it is the
    /// primary, confirm). One already promoted there is returned with `already: true` and
    /// nothing is sent.
    ///
    /// **What dropping this future does:** nothing to the promotion: it runs on its own Tokio
    /// task to its end and records its result, as [`promote`](Self::promote) does. Outside a
    /// Tokio runtime it runs in the caller's future instead.
    ///
    /// # Errors
    /// [`PartyPromoteError`]: `NotPromoted` (promote the account first) and `Invalid` (a
    /// field longer than this ERP takes) are invalid input; `PartyNotFound`,
    /// `AccountNotFound` not found; `InProgress` a conflict; the ERP's failures, with
    /// `OutcomeUnknown` settled by [`recover`](Self::recover).
    pub async fn promote_party(
        &self,
        request: &PartyPromotionRequest,
    ) -> Result<PartyPromoted, PartyPromoteError> {
        let services = Arc::clone(self.services());
        let request = request.clone();
        detached(async move { services.promote_party(&request).await })
            .await
            .unwrap_or_else(|why| Err(PartyPromoteError::Store(StoreError::Internal(why))))
    }

    /// Promotes every ship-to and/or contact (`kinds`) of `account`, one after the other,
    /// each as [`promote_party`](Self::promote_party) does; returns each one's outcome.
    ///
    /// **What dropping this future does:** the run goes on to its end on its own Tokio task
    /// (outside a runtime, in the caller's future).
    ///
    /// # Errors
    /// [`PartyPromoteError`] only when the account's parties cannot be read.
    pub async fn promote_parties(
        &self,
        account: AccountId,
        integration: Option<&str>,
        kinds: &[PartyKind],
    ) -> Result<PartyOutcomes, PartyPromoteError> {
        let services = Arc::clone(self.services());
        let integration = integration.map(str::to_owned);
        let kinds = kinds.to_vec();
        detached(async move {
            services
                .promote_parties(account, integration.as_deref(), &kinds)
                .await
        })
        .await
        .unwrap_or_else(|why| Err(PartyPromoteError::Store(StoreError::Internal(why))))
    }

    /// The bindings of `account`'s ship-tos and contacts: its `promoted` party promotions, one
    /// per (integration, party), oldest first.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn party_bindings(
        &self,
        account: AccountId,
    ) -> Result<Vec<PartyPromotion>, StoreError> {
        let all = self.store().party_promotions_of(account).await?;
        Ok(all.into_iter().filter(PartyPromotion::is_binding).collect())
    }

    /// The ship-tos and contacts (`kinds`) of `account`'s promoted customer, live from the
    /// ERP (at most [`MAX_LIVE_PARTIES`](crm2sage_domain::services::MAX_LIVE_PARTIES) of
    /// each). Reads only.
    ///
    /// Dropping this future abandons the read; nothing is written anywhere.
    ///
    /// # Errors
    /// [`DetailsError`]; an unreachable ERP is an error, never an empty list.
    pub async fn erp_parties(
        &self,
        account: AccountId,
        integration: Option<&str>,
        kinds: &[PartyKind],
    ) -> Result<Vec<LiveParties>, DetailsError> {
        self.services()
            .erp_parties(account, integration, kinds)
            .await
    }
}
