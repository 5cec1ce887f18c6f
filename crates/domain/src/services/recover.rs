//! Recover: settle every `creating` promotion whose holder is gone, as the spec's step 6 says
//! (ship-tos' and contacts' after the customers', in `party_recover.rs`).
//!
//! For each free in-flight promotion (no lease, a dead holder on this host, or an expired
//! lease from another host) recover takes the lease (compare-and-swap, so two recovers never
//! both act), looks the customer number up and:
//! - a record that matches the account (the CRM id in the configured field, or else the same
//!   name) is **adopted**: confirmed with a binding;
//! - no record: the create is **resumed** (the ERP's unique key makes a late duplicate fail
//!   instead of doubling; a late "already exists" is looked up again and matched);
//! - a record that does not match: **needs_review**, never overwritten.
//!
//! Promotions whose holder is still at work (a running task, a live process on this host, or a
//! lease not yet expired) are reported and left alone. A promotion whose future was dropped in
//! this very process is free once its lease expired: no restart is needed. Every decision is
//! logged.
//!
//! Recover settles several promotions at once ([`RecoverOptions::concurrency`], default 8), so
//! one hanging ERP call holds up only its own slot; the report keeps the in-flight order.
//!
//! Dropping a `recover` future ends it where it stands: the promotions it already settled stay
//! settled, the ones it was settling (up to its concurrency) keep the lease recover took, which expires like any other
//! dropped holder's (no later than [`ServiceConfig::lease`](super::ServiceConfig::lease)), and
//! the promotions it had not reached are untouched. A later recover settles the rest.

use std::time::Instant;

use futures_util::stream::StreamExt;

use crate::account::Account;
use crate::codes::CustomerNo;
use crate::ids::{AccountId, PromotionId};
use crate::integration::{Integration, IntegrationName};
use crate::ports::{
    CreateCustomerError, ErpConnector, ErpCustomer, ErpGateway, LogEvent, Store, StoreError,
    TakeOverError,
};
use crate::promotion::{Lease, LeaseHolder, Promotion};

use super::audit::{Audit, LogDraft, summary_of};
use super::customer::CustomerError;
use super::tasks::LiveTask;
use super::{PromoteError, Services};
use crate::error_class::{ErrorClass, ErrorCode};

/// What recover did with one in-flight promotion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoverDecision {
    /// The ERP had a matching customer: now promoted.
    Adopted,
    /// The ERP had none: created now, promoted.
    Resumed,
    /// The resumed create was refused (or can no longer be made): failed, nothing created.
    Failed(String),
    /// The ERP has a customer with this number that is not this account's.
    NeedsReview(String),
    /// Held by a live process (or being settled by another recover); left alone.
    StillHeld(String),
    /// The ERP could not be reached or answered ambiguously; still `creating`.
    Unsettled(String),
}

impl RecoverDecision {
    /// `adopted`, `resumed`, `failed`, `needs_review`, `still_held`, `unsettled`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Adopted => "adopted",
            Self::Resumed => "resumed",
            Self::Failed(_) => "failed",
            Self::NeedsReview(_) => "needs_review",
            Self::StillHeld(_) => "still_held",
            Self::Unsettled(_) => "unsettled",
        }
    }

    /// The detail, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Failed(d) | Self::NeedsReview(d) | Self::StillHeld(d) | Self::Unsettled(d) => {
                Some(d)
            }
            Self::Adopted | Self::Resumed => None,
        }
    }

    /// What is left unsettled, by class: `None` when settled (adopted, resumed, failed,
    /// needs review), [`ErrorClass::Conflict`] when still held, [`ErrorClass::Erp`] when the ERP
    /// could not settle it.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            Self::Adopted | Self::Resumed | Self::Failed(_) | Self::NeedsReview(_) => None,
            Self::StillHeld(_) => Some(ErrorClass::Conflict),
            Self::Unsettled(_) => Some(ErrorClass::Erp),
        }
    }
}

/// One in-flight promotion and what recover did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoverItem {
    /// The promotion.
    pub promotion: PromotionId,
    /// Its account.
    pub account: AccountId,
    /// Its integration.
    pub integration: Option<IntegrationName>,
    /// The customer number (of the party's customer, for a ship-to or contact).
    pub customer_no: CustomerNo,
    /// The ship-to or contact, when this is one's promotion; `None` for a customer's.
    pub party: Option<crate::party::PartyCode>,
    /// The decision.
    pub decision: RecoverDecision,
}

impl RecoverItem {
    pub(crate) fn new(
        promotion: PromotionId,
        account: AccountId,
        integration: Option<IntegrationName>,
        customer_no: CustomerNo,
        decision: RecoverDecision,
    ) -> Self {
        Self {
            promotion,
            account,
            integration,
            customer_no,
            party: None,
            decision,
        }
    }
}

/// Everything one recover run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoverReport {
    /// One item per in-flight promotion found, oldest first.
    pub items: Vec<RecoverItem>,
}

impl RecoverReport {
    /// The class of every item left unsettled (see [`RecoverDecision::class`]); empty when
    /// everything found is settled.
    pub fn unsettled_classes(&self) -> impl Iterator<Item = ErrorClass> + '_ {
        self.items.iter().filter_map(|i| i.decision.class())
    }

    /// How many items got `decision` (by its name).
    pub fn count(&self, decision: &str) -> usize {
        self.items
            .iter()
            .filter(|i| i.decision.as_str() == decision)
            .count()
    }
}

/// How a recover run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoverOptions {
    /// How many promotions are settled at once (at least 1; default 8).
    pub concurrency: usize,
}

impl Default for RecoverOptions {
    fn default() -> Self {
        Self { concurrency: 8 }
    }
}

impl RecoverOptions {
    /// Options settling up to `concurrency` promotions at once (at least 1).
    pub fn with_concurrency(concurrency: usize) -> Self {
        Self {
            concurrency: concurrency.max(1),
        }
    }
}

/// Why recover could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecoverError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for RecoverError {
    fn code(&self) -> &'static str {
        match self {
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Store(e) => e.class(),
        }
    }
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Settles every free in-flight promotion. An embedding service runs this at start-up, and
    /// whenever a promotion was left `creating` ([`PromoteError::OutcomeUnknown`], or
    /// [`PromoteError::InProgress`] with `holder_alive: false`).
    ///
    /// # Dropping the future
    /// Ends the run where it stands: what it settled stays settled; the promotions it was
    /// settling (up to 8 at once) keep recover's lease until that expires (at most
    /// [`ServiceConfig::lease`](super::ServiceConfig::lease)), then a later recover settles it;
    /// the rest are untouched. Nothing is created twice: a create the dropped run sent is found
    /// by the next run's lookup and adopted.
    ///
    /// # Errors
    /// [`RecoverError`] only when the store cannot list in-flight promotions; per-promotion
    /// trouble is a decision in the report.
    pub async fn recover(&self) -> Result<RecoverReport, RecoverError> {
        self.recover_with(RecoverOptions::default()).await
    }

    /// [`Services::recover`] with `options`: at most [`RecoverOptions::concurrency`]
    /// promotions are settled at once, so one hanging ERP call holds up only its own slot. The
    /// report is complete and in the same order (oldest first) whatever the concurrency.
    ///
    /// # Dropping the future
    /// As [`Services::recover`]: the promotions being settled (up to the concurrency) keep
    /// recover's lease until it expires; what was settled stays settled.
    ///
    /// # Errors
    /// As [`Services::recover`].
    pub async fn recover_with(
        &self,
        options: RecoverOptions,
    ) -> Result<RecoverReport, RecoverError> {
        let in_flight = self.store.in_flight().await?;
        let settled = futures_util::stream::iter(in_flight)
            .map(|promotion| async move { self.settle(&promotion).await })
            .buffered(options.concurrency.max(1));
        futures_util::pin_mut!(settled);
        let mut report = RecoverReport::default();
        while let Some(item) = settled.next().await {
            report.items.push(item?);
        }
        // Ship-tos and contacts after the customers: a party's customer is settled first.
        let parties = self.store.party_in_flight().await?;
        let settled = futures_util::stream::iter(parties)
            .map(|promotion| async move { self.settle_party_promotion(&promotion).await })
            .buffered(options.concurrency.max(1));
        futures_util::pin_mut!(settled);
        while let Some(item) = settled.next().await {
            report.items.push(item?);
        }
        Ok(report)
    }

    /// Settles one in-flight promotion as recover does, logging the decision: the one owner of
    /// that rule (a batch row settling its own leftover calls it too).
    pub(crate) async fn settle(&self, promotion: &Promotion) -> Result<RecoverItem, RecoverError> {
        let started = Instant::now();
        let integration = self.store.integration(promotion.integration).await?;
        let decision = self
            .recover_one(promotion, integration.as_ref(), started)
            .await;
        let event = match &decision {
            // Logged in the confirming transaction itself.
            RecoverDecision::Adopted | RecoverDecision::Resumed => None,
            RecoverDecision::Failed(_) => Some(LogEvent::Failed),
            RecoverDecision::NeedsReview(_) => Some(LogEvent::NeedsReview),
            RecoverDecision::StillHeld(_) | RecoverDecision::Unsettled(_) => {
                Some(LogEvent::Skipped)
            }
        };
        if let Some(event) = event {
            self.log(
                Audit::new(
                    promotion.account,
                    event,
                    format!("recover {}", summary_of(&promotion.request)),
                    started,
                )
                .integration(promotion.integration)
                .promotion(promotion.id)
                .message(decision.detail().map(str::to_owned)),
            )
            .await;
        }
        Ok(RecoverItem::new(
            promotion.id,
            promotion.account,
            integration.map(|i| i.name().clone()),
            promotion.request.customer_no().clone(),
            decision,
        ))
    }

    /// Recover's first step for any in-flight promotion, a customer's or a party's: one whose
    /// holder is still at work is left alone; else a fresh lease replaces `current` through
    /// `take_over` (the store's compare-and-swap), and one another process took first is left
    /// alone too. Returns the new holder and the guard to hold while settling, or the
    /// `StillHeld` decision.
    pub(crate) async fn take_over_to_settle<F>(
        &self,
        current: Option<&Lease>,
        integration: Option<&Integration>,
        take_over: impl FnOnce(Lease) -> F,
    ) -> Result<(LeaseHolder, LiveTask), RecoverDecision>
    where
        F: Future<Output = Result<(), TakeOverError>>,
    {
        if self.lease_alive(current) {
            let holder = current.map_or_else(String::new, |l| l.holder.to_string());
            return Err(RecoverDecision::StillHeld(format!(
                "held by {holder}, still at work or with its lease not yet expired"
            )));
        }
        let (lease, task) = self.new_lease(integration);
        let holder = lease.holder.clone();
        if take_over(lease).await.is_err() {
            return Err(RecoverDecision::StillHeld(
                "another process is settling it".into(),
            ));
        }
        Ok((holder, task))
    }

    async fn recover_one(
        &self,
        promotion: &Promotion,
        integration: Option<&Integration>,
        started: Instant,
    ) -> RecoverDecision {
        let (holder, _task) = match self
            .take_over_to_settle(promotion.lease.as_ref(), integration, |lease| async move {
                self.store
                    .take_over(promotion.id, promotion.lease.as_ref(), &lease)
                    .await
            })
            .await
        {
            Ok(held) => held,
            Err(still_held) => return still_held,
        };
        let Some(integration) = integration else {
            return self
                .settle_fail(promotion.id, &holder, "its integration no longer exists")
                .await;
        };
        let account = match self.store.account(promotion.account).await {
            Ok(Some(account)) => account,
            Ok(None) => {
                return self
                    .settle_fail(promotion.id, &holder, "its account no longer exists")
                    .await;
            }
            Err(e) => return self.unsettled(promotion.id, &holder, e.to_string()).await,
        };
        let gateway = match self.gateway(integration).await {
            Ok(g) => g,
            Err(e) => return self.unsettled(promotion.id, &holder, e.to_string()).await,
        };
        let key = promotion.request.key();
        match gateway.find_customer(&key).await {
            Err(e) => {
                self.unsettled(promotion.id, &holder, format!("lookup failed: {e}"))
                    .await
            }
            Ok(Some(found)) => {
                self.adopt_or_review(promotion, &holder, integration, &account, found, started)
                    .await
            }
            Ok(None) => {
                self.resume(
                    promotion,
                    &holder,
                    integration,
                    &account,
                    gateway.as_ref(),
                    started,
                )
                .await
            }
        }
    }

    /// Whether `found` is this account's customer: the CRM id when the integration has the
    /// field, else the name.
    fn matches(
        integration: &Integration,
        account: &Account,
        found: &ErpCustomer,
    ) -> Result<(), String> {
        match integration.crm_id_field() {
            Some(field) => match found.crm_id(field) {
                Some(id) if id == account.id().to_string() => Ok(()),
                Some(other) => Err(format!(
                    "its {} is {other}, not this account's id",
                    field.as_str()
                )),
                None => Err(format!(
                    "its {} is empty, so it was not created by crm2sage for this account",
                    field.as_str()
                )),
            },
            None => {
                let ours = account.details().name().as_str();
                match found.name() {
                    Some(name) if name.trim().eq_ignore_ascii_case(ours.trim()) => Ok(()),
                    other => Err(format!(
                        "its name is {:?}, not {ours:?}",
                        other.unwrap_or("")
                    )),
                }
            }
        }
    }

    async fn adopt_or_review(
        &self,
        promotion: &Promotion,
        holder: &LeaseHolder,
        integration: &Integration,
        account: &Account,
        found: ErpCustomer,
        started: Instant,
    ) -> RecoverDecision {
        match Self::matches(integration, account, &found) {
            Ok(()) => match self
                .confirm(
                    promotion,
                    holder,
                    integration,
                    found,
                    self.draft(promotion, LogEvent::Adopted, started),
                )
                .await
            {
                Ok(_) => RecoverDecision::Adopted,
                Err(e) => self.after_write_error(promotion.id, holder, e).await,
            },
            Err(why) => {
                let reason = format!(
                    "the ERP has customer {} but it does not match this account: {why}; left untouched for review",
                    found.external_uid()
                );
                match self
                    .store
                    .mark_needs_review(promotion.id, holder, &reason, self.clock.now())
                    .await
                {
                    Ok(()) => RecoverDecision::NeedsReview(reason),
                    Err(e) => RecoverDecision::Unsettled(e.to_string()),
                }
            }
        }
    }

    async fn resume(
        &self,
        promotion: &Promotion,
        holder: &LeaseHolder,
        integration: &Integration,
        account: &Account,
        gateway: &dyn ErpGateway,
        started: Instant,
    ) -> RecoverDecision {
        let customer = match self
            .build_customer(account, integration, &promotion.request, &gateway.limits())
            .await
        {
            Ok(customer) => customer,
            Err(CustomerError::Store(e)) => {
                return self.unsettled(promotion.id, holder, e.to_string()).await;
            }
            Err(e) => {
                return self
                    .settle_fail(promotion.id, holder, &format!("cannot be resumed: {e}"))
                    .await;
            }
        };
        if let Err(e) = self
            .store
            .renew_lease(promotion.id, holder, self.lease_expiry(Some(integration)))
            .await
        {
            return RecoverDecision::StillHeld(e.to_string());
        }
        match gateway.create_customer(&customer).await {
            Ok(created) => match self
                .confirm(
                    promotion,
                    holder,
                    integration,
                    created,
                    self.draft(promotion, LogEvent::Resumed, started),
                )
                .await
            {
                Ok(_) => RecoverDecision::Resumed,
                Err(e) => self.after_write_error(promotion.id, holder, e).await,
            },
            Err(CreateCustomerError::AlreadyExists) => {
                match gateway.find_customer(&customer.key).await {
                    Ok(Some(found)) => {
                        self.adopt_or_review(
                            promotion,
                            holder,
                            integration,
                            account,
                            found,
                            started,
                        )
                        .await
                    }
                    Ok(None) => {
                        self.unsettled(
                            promotion.id,
                            holder,
                            "the ERP says it exists but cannot find it".into(),
                        )
                        .await
                    }
                    Err(e) => {
                        self.unsettled(promotion.id, holder, format!("lookup failed: {e}"))
                            .await
                    }
                }
            }
            Err(CreateCustomerError::Ambiguous { reason }) => {
                self.unsettled(promotion.id, holder, reason).await
            }
            Err(CreateCustomerError::Unreachable(reason)) => {
                self.unsettled(promotion.id, holder, reason).await
            }
            Err(e) => self.settle_fail(promotion.id, holder, &e.to_string()).await,
        }
    }

    fn draft(&self, promotion: &Promotion, event: LogEvent, started: Instant) -> LogDraft {
        LogDraft {
            event,
            request: format!("recover {}", summary_of(&promotion.request)),
            started,
        }
    }

    async fn settle_fail(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
    ) -> RecoverDecision {
        match self.store.fail(id, holder, reason, self.clock.now()).await {
            Ok(()) => RecoverDecision::Failed(reason.to_owned()),
            Err(e) => RecoverDecision::Unsettled(e.to_string()),
        }
    }

    async fn unsettled(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: String,
    ) -> RecoverDecision {
        let _ = self.store.release_lease(id, holder, self.clock.now()).await;
        RecoverDecision::Unsettled(reason)
    }

    async fn after_write_error(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        e: PromoteError,
    ) -> RecoverDecision {
        match e {
            PromoteError::LeaseLost(_) => RecoverDecision::StillHeld(e.to_string()),
            other => self.unsettled(id, holder, other.to_string()).await,
        }
    }
}
