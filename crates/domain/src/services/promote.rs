//! Promotion, following the spec's exactly-once recipe:
//!
//! 1. validate with no side effects (integration, account, request, prerequisites, codes,
//!    lengths, live promotions);
//! 2. record the intent (`creating`, with a lease) durably — the store's uniqueness over live
//!    states decides races;
//! 3. look the number up in the ERP: found → `failed` ("customer number taken"); absent →
//!    create, once;
//! 4. a definite refusal → `failed`; "already exists", timeouts, resets, 5xx → stay `creating`
//!    with the lease released, for `recover` to settle;
//! 5. confirm: `promoted` and the binding in one fenced transaction.
//!
//! # Dropping the future
//!
//! Before the intent is recorded (step 2) nothing was written but, at most, a log entry:
//! dropping the future leaves no trace that blocks anything. From the intent on, dropping it
//! ends the promotion where it stands — the domain spawns no task to finish it and no guard
//! releases the lease early, since a request the dropped future sent may still reach the ERP.
//! The promotion stays `creating`; its holder's live-task guard went with the future, so its
//! lease expires like a foreign holder's (no later than [`ServiceConfig::lease`] after it was
//! recorded or last renewed). Until then a retry is
//! [`PromoteError::InProgress`] with `holder_alive: true` and [`Services::recover`] reports it
//! still held; after it — in the same live process, no restart — a retry is `InProgress` with
//! `holder_alive: false` and `recover` takes the promotion over and settles it: a customer the
//! dropped future created is adopted, an absent one is created once.
//!
//! A retry never settles the earlier promotion itself: `recover` stays the one path that takes
//! a promotion over and finishes it, so exactly-once rests on one compare-and-swap. A caller
//! that wants a promotion to finish whatever happens to its own future (an HTTP handler under
//! a timeout) runs it on a task of its own.
//!
//! [`ServiceConfig::lease`]: super::ServiceConfig::lease

use std::time::Instant;

use crate::erp::missing_prerequisites;
use crate::ids::{AccountId, PromotionId};
use crate::integration::Integration;
use crate::ports::{
    CreateCustomerError, ErpConnector, ErpCustomer, ErpGateway, LogEvent, NewErpCustomer,
    RecordIntentError, Store,
};
use crate::promotion::{
    Binding, ErpRequest, IntegrationKey, LeaseHolder, Promotion, PromotionRequest, PromotionState,
};

use super::Services;
use super::audit::{Audit, LogDraft, summary_of, summary_of_raw};
use super::duplicates::{DuplicateCandidate, GuardError};
pub use super::promote_error::PromoteError;

/// A successful promotion.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Promoted {
    /// The integration promoted into.
    pub integration: Integration,
    /// The promotion.
    pub promotion: PromotionId,
    /// The binding now on the account.
    pub binding: Binding,
}

/// Everything checked before the intent: what the ERP will be asked to create.
pub(crate) struct Plan {
    pub(crate) integration: Integration,
    pub(crate) request: ErpRequest,
    pub(crate) customer: NewErpCustomer,
    pub(crate) gateway: std::sync::Arc<dyn ErpGateway>,
    /// The account, as read.
    pub(crate) account: crate::account::Account,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Promotes one account, exactly once. Every attempt, refused or not, goes to the
    /// promotion log.
    ///
    /// # Dropping the future
    /// Before the intent is recorded, dropping the future leaves nothing behind. After it, the
    /// promotion ends where it stands and stays `creating` until its lease expires (at most
    /// [`ServiceConfig::lease`](super::ServiceConfig::lease) after it was recorded or renewed);
    /// then a retry returns [`PromoteError::InProgress`] with `holder_alive: false` and
    /// [`Services::recover`], in this same process, settles it — adopting a customer the
    /// dropped future created, or creating it once.
    ///
    /// # Errors
    /// [`PromoteError`]; its [`ErrorCode::class`](crate::ErrorCode::class) says what kind of failure it is.
    pub async fn promote(&self, request: &PromotionRequest) -> Result<Promoted, PromoteError> {
        let started = Instant::now();
        let plan = match self.plan(request, !request.allow_duplicate).await {
            Ok(plan) => plan,
            Err(error) => {
                self.log(
                    Audit::new(
                        request.account,
                        LogEvent::Refused,
                        summary_of_raw(request),
                        started,
                    )
                    .message(Some(error.to_string())),
                )
                .await;
                return Err(error);
            }
        };
        self.execute(request.account, plan, request.allow_duplicate, started)
            .await
    }

    /// Every check before anything is written; with `guard`, the duplicate guard too (a
    /// promotion that allows duplicates skips it: it would create anyway).
    pub(crate) async fn plan(
        &self,
        request: &PromotionRequest,
        guard: bool,
    ) -> Result<Plan, PromoteError> {
        let integration = self
            .resolve_integration(request.integration.as_deref())
            .await?;
        // Three independent reads at once: on a networked store each is a round trip. Their
        // errors are still judged in this order: the account, the request, the prerequisites,
        // a live promotion.
        let (account, synced, promotions) = futures_util::future::join3(
            self.store.account(request.account),
            self.store.synced_kinds(integration.id()),
            self.store.promotions_of(request.account),
        )
        .await;
        let account = account?.ok_or(PromoteError::AccountNotFound(request.account))?;
        let parsed = request
            .parse_for(&integration)
            .map_err(|fields| PromoteError::Invalid {
                integration: integration.name().clone(),
                fields,
            })?;
        let missing = missing_prerequisites(integration.kind(), &synced?);
        if !missing.is_empty() {
            return Err(PromoteError::MissingPrerequisites {
                integration: integration.name().clone(),
                missing,
            });
        }
        self.check_not_live(promotions?, &integration).await?;
        let gateway = self.gateway(&integration).await?;
        let customer = self
            .build_customer(&account, &integration, &parsed, &gateway.limits())
            .await?;
        if guard {
            self.guard(&integration, gateway.as_ref(), &account, false)
                .await?;
        }
        Ok(Plan {
            integration,
            request: parsed,
            customer,
            gateway,
            account,
        })
    }

    /// The duplicate guard's verdict: refused when customers may be the account, unless
    /// `allowed` — then they are returned, for the log (and a guard that could not look is no
    /// reason to stop).
    pub(crate) async fn guard(
        &self,
        integration: &Integration,
        gateway: &dyn ErpGateway,
        account: &crate::account::Account,
        allowed: bool,
    ) -> Result<Vec<DuplicateCandidate>, PromoteError> {
        match self
            .possible_duplicates(integration, gateway, account)
            .await
        {
            Ok(found) if found.is_empty() || allowed => Ok(found),
            Ok(candidates) => Err(PromoteError::PossibleDuplicate { candidates }),
            Err(_) if allowed => Ok(Vec::new()),
            Err(GuardError::Erp(error)) => Err(PromoteError::DuplicateCheck { error }),
            Err(GuardError::Store(e)) => Err(PromoteError::Store(e)),
        }
    }

    /// Refuses when one of the account's `promotions` is live in `integration`.
    async fn check_not_live(
        &self,
        promotions: Vec<Promotion>,
        integration: &Integration,
    ) -> Result<(), PromoteError> {
        let live = promotions
            .into_iter()
            .find(|p| p.integration == integration.id() && p.state.is_live());
        match live {
            None => Ok(()),
            Some(p) => Err(self.live_conflict(p, integration).await),
        }
    }

    async fn live_conflict(&self, existing: Promotion, integration: &Integration) -> PromoteError {
        if existing.state == PromotionState::Promoted {
            let binding = self
                .store
                .bindings_of(existing.account)
                .await
                .ok()
                .and_then(|b| b.into_iter().find(|b| b.integration == integration.id()));
            if let Some(binding) = binding {
                return PromoteError::AlreadyPromoted {
                    account: existing.account,
                    integration: integration.name().clone(),
                    binding: Box::new(binding),
                };
            }
        }
        PromoteError::InProgress {
            promotion: existing.id,
            holder_alive: self.holder_alive(&existing),
        }
    }

    async fn execute(
        &self,
        account: AccountId,
        plan: Plan,
        allow_duplicate: bool,
        started: Instant,
    ) -> Result<Promoted, PromoteError> {
        let Plan {
            integration,
            request,
            customer,
            gateway,
            account: _,
        } = plan;
        let summary = summary_of(&request);
        let now = self.clock.now();
        let (lease, _task) = self.new_lease(Some(&integration));
        let holder = lease.holder.clone();
        let promotion = Promotion {
            id: PromotionId::generate(),
            account,
            integration: integration.id(),
            external_uid: request.external_uid(),
            request: request.clone(),
            state: PromotionState::Creating,
            lease: Some(lease),
            error: None,
            created_at: now,
            updated_at: now,
        };
        let id = promotion.id;
        let mut intent_log = self.intent_entry(account, integration.id(), id, &summary, started);
        if allow_duplicate {
            intent_log.message =
                Some("allow_duplicate: created without the duplicate guard".to_owned());
        }
        if let Err(e) = self.store.record_intent(&promotion, &intent_log).await {
            let error = match e {
                RecordIntentError::AccountLive(existing) => {
                    self.live_conflict(*existing, &integration).await
                }
                RecordIntentError::UidLive(existing) => PromoteError::CustomerNoInUse {
                    external_uid: existing.external_uid.clone(),
                    other_account: existing.account,
                    state: existing.state,
                },
                RecordIntentError::Bound(binding) if binding.account == account => {
                    PromoteError::AlreadyPromoted {
                        account,
                        integration: integration.name().clone(),
                        binding,
                    }
                }
                RecordIntentError::Bound(binding) => PromoteError::CustomerNoInUse {
                    external_uid: binding.external_uid.clone(),
                    other_account: binding.account,
                    state: PromotionState::Promoted,
                },
                RecordIntentError::Store(e) => PromoteError::Store(e),
            };
            self.log(
                Audit::new(account, LogEvent::Refused, summary, started)
                    .integration(integration.id())
                    .message(Some(error.to_string())),
            )
            .await;
            return Err(error);
        }
        let result = match self.crash_point(super::CrashPoint::AfterIntent) {
            Err(crashed) => Err(crashed),
            Ok(()) => {
                let confirm_log = LogDraft {
                    event: LogEvent::Promoted,
                    request: summary.clone(),
                    started,
                };
                self.lookup_and_create(
                    &promotion,
                    &holder,
                    &integration,
                    gateway.as_ref(),
                    &customer,
                    confirm_log,
                )
                .await
            }
        };
        // A success was logged in the confirming transaction itself.
        if let Err(e) = &result {
            let event = match e {
                PromoteError::OutcomeUnknown { .. }
                | PromoteError::LeaseLost(_)
                | PromoteError::NotRecorded { .. }
                | PromoteError::Store(_) => LogEvent::Unknown,
                _ => LogEvent::Failed,
            };
            self.log(
                Audit::new(account, event, summary, started)
                    .integration(integration.id())
                    .promotion(id)
                    .message(Some(e.to_string())),
            )
            .await;
        }
        result.map(|binding| Promoted {
            integration,
            promotion: id,
            binding,
        })
    }

    /// Steps 3–5 for a promotion this task holds: look up, create once, confirm or fail.
    pub(crate) async fn lookup_and_create(
        &self,
        promotion: &Promotion,
        holder: &LeaseHolder,
        integration: &Integration,
        gateway: &dyn ErpGateway,
        customer: &NewErpCustomer,
        confirm_log: LogDraft,
    ) -> Result<Binding, PromoteError> {
        let id = promotion.id;
        let mut expires_at = promotion.lease.as_ref().map(|l| l.expires_at);
        self.renew_if_needed(id, holder, Some(integration), &mut expires_at)
            .await?;
        match gateway.find_customer(&customer.key).await {
            Ok(Some(_)) => {
                self.fenced(
                    self.store
                        .fail(id, holder, "customer number taken", self.clock.now())
                        .await,
                    id,
                )?;
                return Err(PromoteError::CustomerNoTaken {
                    customer_no: customer.key.customer_no.clone(),
                    promotion: id,
                });
            }
            Ok(None) => {}
            Err(error) => {
                let reason = format!("lookup failed: {error}");
                self.fenced(
                    self.store.fail(id, holder, &reason, self.clock.now()).await,
                    id,
                )?;
                return Err(PromoteError::Lookup {
                    promotion: id,
                    error,
                });
            }
        }
        self.renew_if_needed(id, holder, Some(integration), &mut expires_at)
            .await?;
        match gateway.create_customer(customer).await {
            Ok(created) => {
                self.crash_point(super::CrashPoint::AfterCreate)?;
                self.confirm(promotion, holder, integration, created, confirm_log)
                    .await
                    .map_err(|e| match e {
                        PromoteError::Store(error) => PromoteError::NotRecorded {
                            promotion: id,
                            customer_no: customer.key.customer_no.clone(),
                            error,
                        },
                        other => other,
                    })
            }
            Err(CreateCustomerError::AlreadyExists) => {
                self.release(id, holder).await;
                Err(PromoteError::OutcomeUnknown {
                    promotion: id,
                    reason: "the ERP says the customer already exists, though the lookup did not find it".into(),
                })
            }
            Err(CreateCustomerError::Ambiguous { reason }) => {
                self.release(id, holder).await;
                Err(PromoteError::OutcomeUnknown {
                    promotion: id,
                    reason,
                })
            }
            Err(error) => {
                self.fenced(
                    self.store
                        .fail(id, holder, &error.to_string(), self.clock.now())
                        .await,
                    id,
                )?;
                Err(PromoteError::CreateRefused {
                    promotion: id,
                    error,
                })
            }
        }
    }

    /// Step 5: the binding and `promoted`, fenced on the lease.
    pub(crate) async fn confirm(
        &self,
        promotion: &Promotion,
        holder: &LeaseHolder,
        integration: &Integration,
        created: ErpCustomer,
        log: LogDraft,
    ) -> Result<Binding, PromoteError> {
        let binding = Binding {
            account: promotion.account,
            integration: integration.id(),
            customer_no: promotion.request.customer_no().clone(),
            integration_key: IntegrationKey::new(integration.id(), &created.external_uid()),
            external_uid: created.external_uid(),
            promoted_at: self.clock.now(),
            origin: crate::promotion::BindingOrigin::Created,
            erp_record: created.record.headline(),
        };
        self.crash_point(super::CrashPoint::BeforeConfirm)?;
        let entry = self.entry(
            Audit::new(promotion.account, log.event, log.request, log.started)
                .integration(integration.id())
                .promotion(promotion.id),
        );
        self.fenced(
            self.store
                .confirm(promotion.id, holder, &binding, self.clock.now(), &entry)
                .await,
            promotion.id,
        )?;
        Ok(binding)
    }
}
