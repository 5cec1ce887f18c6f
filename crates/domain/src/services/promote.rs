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

use std::time::Instant;

use crate::account::Account;
use crate::codes::{CustomerNo, ReferenceCode};
use crate::erp::{CustomerField, FieldLimits, ReferenceKind, missing_prerequisites};
use crate::field::{Collector, InvalidField, InvalidFields};
use crate::ids::{AccountId, IntegrationId, PromotionId};
use crate::integration::{Integration, IntegrationName};
use crate::ports::{
    CreateCustomerError, ErpConnector, ErpCustomer, ErpCustomerKey, ErpGateway, ErpReadError,
    FencedWriteError, Liveness, LogEntry, LogEvent, NewErpCustomer, RecordIntentError, Store,
    StoreError,
};
use crate::promotion::{
    Binding, ErpRequest, ExternalUid, IntegrationKey, Lease, LeaseHolder, Promotion,
    PromotionRequest, PromotionState,
};

use super::{ExitClass, GatewayError, ResolveError, Services};

/// A successful promotion.
#[derive(Debug, Clone, PartialEq)]
pub struct Promoted {
    /// The integration promoted into.
    pub integration: Integration,
    /// The promotion.
    pub promotion: PromotionId,
    /// The binding now on the account.
    pub binding: Binding,
}

/// Why a promotion did not end `promoted`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PromoteError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No such account.
    #[error("no account with id {0}; `crm2sage account list` shows them")]
    AccountNotFound(AccountId),
    /// The request, a code or a field length broke a rule; every one is listed.
    #[error("cannot promote into {integration}: {fields}")]
    Invalid {
        /// The integration.
        integration: IntegrationName,
        /// Every refused field.
        fields: InvalidFields,
    },
    /// Required reference data was never synced.
    #[error("run `crm2sage sync --integration {integration}` first: {} {} never been synced for integration {integration}", kinds(.missing), if .missing.len() == 1 { "has" } else { "have" })]
    MissingPrerequisites {
        /// The integration.
        integration: IntegrationName,
        /// Every missing kind, in table order.
        missing: Vec<ReferenceKind>,
    },
    /// The account is already promoted to this integration.
    #[error("account {account} is already promoted to {integration} as customer {} (integration key {})", .binding.customer_no, .binding.integration_key)]
    AlreadyPromoted {
        /// The account.
        account: AccountId,
        /// The integration.
        integration: IntegrationName,
        /// Its binding.
        binding: Box<Binding>,
    },
    /// Another promotion of this account (or of this customer number) is in flight.
    #[error("{}", in_progress_message(*.promotion, .holder_alive))]
    InProgress {
        /// The promotion in flight.
        promotion: PromotionId,
        /// Whether its holder still runs (false: run `crm2sage recover`).
        holder_alive: bool,
    },
    /// Another account's live promotion holds this customer number.
    #[error(
        "customer {external_uid} is already {state} for another account ({other_account}) in this integration; choose another customer number"
    )]
    CustomerNoInUse {
        /// The External UID.
        external_uid: ExternalUid,
        /// The other account.
        other_account: AccountId,
        /// That promotion's state.
        state: PromotionState,
    },
    /// The ERP already has a customer with this number; the promotion ended `failed`.
    #[error(
        "customer number {customer_no} is taken in the ERP; promote again with another --customer-no"
    )]
    CustomerNoTaken {
        /// The number.
        customer_no: CustomerNo,
        /// The failed promotion.
        promotion: PromotionId,
    },
    /// The gateway could not be opened (secret, URL).
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The lookup failed; nothing was created and the promotion ended `failed`.
    #[error("could not check the customer number in the ERP: {error}; nothing was created")]
    Lookup {
        /// The failed promotion.
        promotion: PromotionId,
        /// The ERP error.
        error: ErpReadError,
    },
    /// The ERP refused the create (or could not be asked); nothing was created and the
    /// promotion ended `failed`.
    #[error("{error}; nothing was created")]
    CreateRefused {
        /// The failed promotion.
        promotion: PromotionId,
        /// The ERP error.
        error: CreateCustomerError,
    },
    /// The create may or may not have happened; the promotion stays `creating`.
    #[error(
        "the outcome of creating the customer is unknown ({reason}); run `crm2sage recover` to settle it"
    )]
    OutcomeUnknown {
        /// The promotion left `creating`.
        promotion: PromotionId,
        /// What happened.
        reason: String,
    },
    /// The ERP created the customer, but recording it locally failed (disk full, database
    /// locked); the promotion stays `creating`.
    #[error(
        "the ERP created customer {customer_no}, but recording it locally failed ({error}); the customer probably exists in the ERP and a recover settles it"
    )]
    NotRecorded {
        /// The promotion left `creating`.
        promotion: PromotionId,
        /// The number the ERP created.
        customer_no: CustomerNo,
        /// The local failure.
        error: StoreError,
    },
    /// This task lost the promotion's lease to another; it wrote nothing more.
    #[error(
        "promotion {0} was taken over by another process; `crm2sage recover` or the other process settles it"
    )]
    LeaseLost(PromotionId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A crash test stopped the promotion at this point (feature `crash-points` only).
    #[cfg(feature = "crash-points")]
    #[error("crashed at {0} (crash test)")]
    Crashed(super::CrashPoint),
}

fn kinds(missing: &[ReferenceKind]) -> String {
    missing
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn in_progress_message(promotion: PromotionId, holder_alive: &bool) -> String {
    if *holder_alive {
        format!(
            "a promotion of this account or customer number is in progress (promotion {promotion}); wait for it to finish"
        )
    } else {
        format!(
            "a promotion of this account or customer number is in progress (promotion {promotion}) but its process is gone; run `crm2sage recover`"
        )
    }
}

impl PromoteError {
    /// The exit class.
    pub fn class(&self) -> ExitClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::AccountNotFound(_) => ExitClass::NotFound,
            Self::Invalid { .. } | Self::MissingPrerequisites { .. } => ExitClass::Invalid,
            Self::AlreadyPromoted { .. }
            | Self::InProgress { .. }
            | Self::CustomerNoInUse { .. }
            | Self::CustomerNoTaken { .. }
            | Self::LeaseLost(_) => ExitClass::Conflict,
            Self::Gateway(e) => e.class(),
            Self::Lookup { .. } | Self::CreateRefused { .. } | Self::OutcomeUnknown { .. } => {
                ExitClass::Erp
            }
            Self::Store(_) | Self::NotRecorded { .. } => ExitClass::Internal,
            #[cfg(feature = "crash-points")]
            Self::Crashed(_) => ExitClass::Internal,
        }
    }

    /// The promotion this error left behind, once its intent was recorded.
    pub fn promotion(&self) -> Option<PromotionId> {
        match self {
            Self::CustomerNoTaken { promotion, .. }
            | Self::Lookup { promotion, .. }
            | Self::CreateRefused { promotion, .. }
            | Self::OutcomeUnknown { promotion, .. }
            | Self::NotRecorded { promotion, .. }
            | Self::LeaseLost(promotion) => Some(*promotion),
            _ => None,
        }
    }
}

/// The log entry a confirming transaction writes with it.
#[derive(Debug)]
pub(crate) struct LogDraft {
    pub(crate) event: LogEvent,
    pub(crate) request: String,
    pub(crate) started: Instant,
}

/// Everything checked before the intent: what the ERP will be asked to create.
struct Plan {
    integration: Integration,
    request: ErpRequest,
    customer: NewErpCustomer,
    gateway: std::sync::Arc<dyn ErpGateway>,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Promotes one account, exactly once. Every attempt, refused or not, goes to the
    /// promotion log.
    ///
    /// # Errors
    /// [`PromoteError`]; its [`PromoteError::class`] is the exit class.
    pub async fn promote(&self, request: &PromotionRequest) -> Result<Promoted, PromoteError> {
        let started = Instant::now();
        let plan = match self.plan(request).await {
            Ok(plan) => plan,
            Err(error) => {
                self.log(
                    request.account,
                    None,
                    None,
                    LogEvent::Refused,
                    summary_of_raw(request),
                    Some(error.to_string()),
                    started,
                )
                .await;
                return Err(error);
            }
        };
        self.execute(request.account, plan, started).await
    }

    async fn plan(&self, request: &PromotionRequest) -> Result<Plan, PromoteError> {
        let integration = self
            .resolve_integration(request.integration.as_deref())
            .await?;
        let account = self
            .store
            .account(request.account)
            .await?
            .ok_or(PromoteError::AccountNotFound(request.account))?;
        let parsed = request
            .parse_for(&integration)
            .map_err(|fields| PromoteError::Invalid {
                integration: integration.name().clone(),
                fields,
            })?;
        let synced = self.store.synced_kinds(integration.id()).await?;
        let missing = missing_prerequisites(integration.kind(), &synced);
        if !missing.is_empty() {
            return Err(PromoteError::MissingPrerequisites {
                integration: integration.name().clone(),
                missing,
            });
        }
        self.check_not_live(&account, &integration).await?;
        let gateway = self.gateway(&integration).await?;
        let customer = self
            .build_customer(&account, &integration, &parsed, &gateway.limits())
            .await?;
        Ok(Plan {
            integration,
            request: parsed,
            customer,
            gateway,
        })
    }

    /// Refuses when the account already has a live promotion in `integration`.
    async fn check_not_live(
        &self,
        account: &Account,
        integration: &Integration,
    ) -> Result<(), PromoteError> {
        let live = self
            .store
            .promotions_of(account.id())
            .await?
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

    /// Checks every code against the synced data and every field against the ERP's lengths,
    /// then builds the ERP-neutral customer.
    pub(crate) async fn build_customer(
        &self,
        account: &Account,
        integration: &Integration,
        request: &ErpRequest,
        limits: &FieldLimits,
    ) -> Result<NewErpCustomer, PromoteError> {
        let mut c = Collector::default();
        let d = account.details();
        let id = integration.id();
        let code_of = |raw: &str| ReferenceCode::parse(raw).ok();
        let customer = match request {
            ErpRequest::Sage300(r) => {
                // Terms: as asked, else the account's, else the group's default (Sage fills it).
                let asked_terms = match (&r.terms, d.terms()) {
                    (Some(t), _) => Some((t.clone(), "terms")),
                    (None, Some(t)) => Some((t.clone(), "account.terms")),
                    (None, None) => None,
                };
                let mut checks = vec![
                    (
                        ReferenceKind::Category,
                        "category",
                        Some(r.category.clone()),
                    ),
                    (ReferenceKind::Tax, "tax_group", Some(r.tax_group.clone())),
                    (
                        ReferenceKind::Terms,
                        asked_terms.as_ref().map_or("terms", |t| t.1),
                        asked_terms.as_ref().map(|t| t.0.clone()),
                    ),
                    (
                        ReferenceKind::Currency,
                        "account.currency",
                        d.currency().and_then(|c| code_of(c.as_str())),
                    ),
                    (
                        ReferenceKind::Language,
                        "account.language",
                        d.language().cloned(),
                    ),
                ];
                let found = self.check_codes(&mut c, id, &checks).await?;
                if asked_terms.is_none() {
                    let group_terms = found
                        .first()
                        .cloned()
                        .flatten()
                        .and_then(|g| g.extras.default_terms);
                    checks = vec![(ReferenceKind::Terms, "category.default_terms", group_terms)];
                    self.check_codes(&mut c, id, &checks).await?;
                }
                NewErpCustomer {
                    currency: d.currency().cloned(),
                    language: d.language().cloned(),
                    category: Some(r.category.clone()),
                    tax: Some(r.tax_group.clone()),
                    terms: r.terms.clone().or_else(|| d.terms().cloned()),
                    salesperson: None,
                    ship_method: None,
                    ..base_customer(account, integration, request.key())
                }
            }
            ErpRequest::Sage100(r) => {
                let checks = [
                    (
                        ReferenceKind::Division,
                        "division",
                        code_of(r.division.as_str()),
                    ),
                    (
                        ReferenceKind::Salesperson,
                        "salesperson",
                        code_of(&r.salesperson.to_string()),
                    ),
                    (
                        ReferenceKind::Tax,
                        "tax_schedule",
                        Some(r.tax_schedule.clone()),
                    ),
                    (ReferenceKind::Terms, "terms", r.terms.clone()),
                    (
                        ReferenceKind::ShipMethod,
                        "ship_method",
                        r.ship_method.clone(),
                    ),
                    (ReferenceKind::Category, "category", r.category.clone()),
                ];
                self.check_codes(&mut c, id, &checks).await?;
                NewErpCustomer {
                    currency: None,
                    language: None,
                    category: r.category.clone(),
                    tax: Some(r.tax_schedule.clone()),
                    terms: r.terms.clone(),
                    salesperson: Some(r.salesperson.clone()),
                    ship_method: r.ship_method.clone(),
                    ..base_customer(account, integration, request.key())
                }
            }
        };
        check_lengths(&mut c, &customer, limits, integration);
        c.finish().map_err(|fields| PromoteError::Invalid {
            integration: integration.name().clone(),
            fields,
        })?;
        Ok(customer)
    }

    /// Looks every named code up in the synced data in one read and records each one that is
    /// unknown or inactive under its field. Returns the records found, in `checks` order
    /// (`None` for an absent code or a check with no code).
    async fn check_codes(
        &self,
        c: &mut Collector,
        integration: IntegrationId,
        checks: &[(ReferenceKind, &str, Option<ReferenceCode>)],
    ) -> Result<Vec<Option<crate::reference::ReferenceRecord>>, StoreError> {
        let wanted: Vec<(ReferenceKind, ReferenceCode)> = checks
            .iter()
            .filter_map(|(kind, _, code)| code.clone().map(|code| (*kind, code)))
            .collect();
        let mut found = self
            .store
            .reference_records_by_code(integration, &wanted)
            .await?
            .into_iter();
        let mut out = Vec::with_capacity(checks.len());
        for (kind, field, code) in checks {
            let Some(code) = code else {
                out.push(None);
                continue;
            };
            let record = found.next().flatten();
            match &record {
                None => c.push(InvalidField::new(
                    *field,
                    format!("`{code}` is not a known {kind} code in the synced data (run `crm2sage sync` if it was added in the ERP recently)"),
                )),
                Some(r) if !r.active => {
                    c.push(InvalidField::new(*field, format!("{kind} `{code}` is inactive in the ERP")));
                }
                Some(_) => {}
            }
            out.push(record);
        }
        Ok(out)
    }

    async fn execute(
        &self,
        account: AccountId,
        plan: Plan,
        started: Instant,
    ) -> Result<Promoted, PromoteError> {
        let Plan {
            integration,
            request,
            customer,
            gateway,
        } = plan;
        let summary = summary_of(&request);
        let now = self.clock.now();
        let holder = self.new_holder();
        let promotion = Promotion {
            id: PromotionId::generate(),
            account,
            integration: integration.id(),
            external_uid: request.external_uid(),
            request: request.clone(),
            state: PromotionState::Creating,
            lease: Some(Lease {
                holder: holder.clone(),
                expires_at: self.lease_expiry(),
            }),
            error: None,
            created_at: now,
            updated_at: now,
        };
        let id = promotion.id;
        let intent_log = self.entry(
            account,
            Some(integration.id()),
            Some(id),
            LogEvent::Intent,
            summary.clone(),
            None,
            started,
        );
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
                RecordIntentError::Store(e) => PromoteError::Store(e),
            };
            self.log(
                account,
                Some(integration.id()),
                None,
                LogEvent::Refused,
                summary,
                Some(error.to_string()),
                started,
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
                account,
                Some(integration.id()),
                Some(id),
                event,
                summary,
                Some(e.to_string()),
                started,
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
        self.renew_if_needed(id, holder, &mut expires_at).await?;
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
        self.renew_if_needed(id, holder, &mut expires_at).await?;
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
            erp_record: created.record,
        };
        self.crash_point(super::CrashPoint::BeforeConfirm)?;
        let entry = self.entry(
            promotion.account,
            Some(integration.id()),
            Some(promotion.id),
            log.event,
            log.request,
            None,
            log.started,
        );
        self.fenced(
            self.store
                .confirm(promotion.id, holder, &binding, self.clock.now(), &entry)
                .await,
            promotion.id,
        )?;
        Ok(binding)
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

    async fn release(&self, id: PromotionId, holder: &LeaseHolder) {
        // Best effort: if it fails, the lease simply expires (or the process ends).
        let _ = self.store.release_lease(id, holder, self.clock.now()).await;
    }

    fn fenced(
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

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn entry(
        &self,
        account: AccountId,
        integration: Option<IntegrationId>,
        promotion: Option<PromotionId>,
        event: LogEvent,
        request: String,
        message: Option<String>,
        started: Instant,
    ) -> LogEntry {
        LogEntry {
            at: self.clock.now(),
            account,
            integration,
            promotion,
            event,
            request,
            message,
            duration_ms: Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn log(
        &self,
        account: AccountId,
        integration: Option<IntegrationId>,
        promotion: Option<PromotionId>,
        event: LogEvent,
        request: String,
        message: Option<String>,
        started: Instant,
    ) {
        let entry = self.entry(
            account,
            integration,
            promotion,
            event,
            request,
            message,
            started,
        );
        // The log is an audit trail; failing to write it must not change the outcome.
        let _ = self.store.append_log(&entry).await;
    }
}

/// The account's name, billing address and contact details, as the ERP will receive them.
fn base_customer(
    account: &Account,
    integration: &Integration,
    key: ErpCustomerKey,
) -> NewErpCustomer {
    let d = account.details();
    let a = d.billing();
    NewErpCustomer {
        key,
        name: d.name().as_str().to_owned(),
        address_lines: [
            Some(a.line1().to_owned()),
            a.line2().map(str::to_owned),
            a.line3().map(str::to_owned),
        ],
        city: Some(a.city().to_owned()),
        state: a.state().map(str::to_owned),
        postal_code: a.postal_code().map(str::to_owned),
        country: Some(a.country()),
        phone: d.phone().map(|p| p.as_str().to_owned()),
        email: d.email().map(|e| e.as_str().to_owned()),
        website: d.website().map(|w| w.as_str().to_owned()),
        currency: None,
        language: None,
        category: None,
        tax: None,
        terms: None,
        salesperson: None,
        ship_method: None,
        crm_id: integration
            .crm_id_field()
            .map(|f| (f.clone(), account.id().to_string())),
    }
}

fn check_lengths(
    c: &mut Collector,
    customer: &NewErpCustomer,
    limits: &FieldLimits,
    integration: &Integration,
) {
    let erp = integration.kind();
    for limit in limits.iter() {
        let value = match limit.field {
            CustomerField::Name => Some(customer.name.as_str()),
            CustomerField::AddressLine(n) => usize::from(n)
                .checked_sub(1)
                .and_then(|i| customer.address_lines.get(i))
                .and_then(Option::as_deref),
            CustomerField::City => customer.city.as_deref(),
            CustomerField::State => customer.state.as_deref(),
            CustomerField::PostalCode => customer.postal_code.as_deref(),
            CustomerField::Phone => customer.phone.as_deref(),
            CustomerField::Email => customer.email.as_deref(),
            CustomerField::Website => customer.website.as_deref(),
        };
        let Some(value) = value else { continue };
        let len = value.chars().count();
        let (max, erp_field) = (limit.max, &limit.erp_name);
        if len > max {
            c.push(InvalidField::new(
                limit.field.input_name(),
                format!("is {len} characters; {erp} allows at most {max} for {erp_field} (shorten it; it is never cut silently)"),
            ));
        }
    }
}

/// `customer_no=C1 category=RTL tax=CALIF …` for the log.
pub(crate) fn summary_of(request: &ErpRequest) -> String {
    match request {
        ErpRequest::Sage300(r) => {
            let mut s = format!(
                "customer_no={} category={} tax_group={}",
                r.customer_no, r.category, r.tax_group
            );
            if let Some(t) = &r.terms {
                s.push_str(&format!(" terms={t}"));
            }
            s
        }
        ErpRequest::Sage100(r) => {
            let mut s = format!(
                "customer_no={} division={} salesperson={} tax_schedule={}",
                r.customer_no, r.division, r.salesperson, r.tax_schedule
            );
            for (name, value) in [
                ("terms", &r.terms),
                ("ship_method", &r.ship_method),
                ("category", &r.category),
            ] {
                if let Some(v) = value {
                    s.push_str(&format!(" {name}={v}"));
                }
            }
            s
        }
    }
}

fn summary_of_raw(request: &PromotionRequest) -> String {
    let mut s = format!("customer_no={}", request.customer_no.trim());
    for (name, value) in [
        ("integration", &request.integration),
        ("category", &request.category),
        ("tax_group", &request.tax_group),
        ("terms", &request.terms),
        ("division", &request.division),
        ("salesperson", &request.salesperson),
        ("ship_method", &request.ship_method),
        ("tax_schedule", &request.tax_schedule),
    ] {
        if let Some(v) = value {
            s.push_str(&format!(" {name}={}", v.trim()));
        }
    }
    s
}
