//! Promoting a ship-to or a contact, with the customer's exactly-once recipe:
//!
//! 1. check with no side effects: the integration, the account and its **binding** there (a
//!    party goes under the account's ERP customer, so the account must be promoted first), the
//!    party, a live promotion of it, where the ERP keeps this kind ([`PartyHome`]), and every
//!    field's length in this ERP;
//! 2. record the intent (`creating`, with a lease) — the store's uniqueness over live states
//!    decides races;
//! 3. look it up under the customer: found → it is this party (same customer, same code) and
//!    is **adopted**; absent → create it once;
//! 4. when it is the account's primary, point the customer at it (an idempotent update);
//! 5. confirm: `promoted`, fenced on the lease; that row is the party's binding.
//!
//! A definite refusal ends `failed` (a failed row never blocks; promoting again adopts what
//! the ERP may hold). Timeouts, resets, 5xx and "exists but cannot be found" stay `creating`
//! with the lease released, and [`Services::recover`] settles them: looks the party up again,
//! adopts or creates it, and re-sends the primary update.
//!
//! A contact of a Sage 300 without `MT/MTContacts` ([`PartyHome::OnCustomer`]) has no record
//! of its own: only the primary contact can be promoted, and its promotion is step 4 alone.
//!
//! # Dropping the future
//!
//! As for a customer ([`Services::promote`]): before the intent nothing was written but, at
//! most, a log entry; after it, the promotion stays `creating` until its lease expires, and
//! then `recover`, in this same process, settles it.

use std::time::Instant;

use crate::account::{Address, Email, Phone};
use crate::field::{Collector, InvalidField};
use crate::ids::{AccountId, PromotionId};
use crate::integration::Integration;
use crate::party::{PartyCode, PartyKind, Primary};
use crate::party_promotion::PartyPromotion;
use crate::ports::{
    ErpConnector, ErpCustomerKey, ErpGateway, ErpPartyKey, LogEvent, NewErpParty,
    NewErpPartyDetail, PartyHome, RecordPartyIntentError, Store, StoreError,
};
use crate::promotion::PromotionState;

use super::audit::{Audit, LogDraft};
pub use super::party_promote_error::PartyPromoteError;
use super::{CrashPoint, Services};

/// A ship-to or contact to promote: the account, the integration (the default when `None`)
/// and the party by kind and code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartyPromotionRequest {
    /// The account.
    pub account: AccountId,
    /// The integration's name; the default when `None`.
    pub integration: Option<String>,
    /// The party.
    pub party: PartyCode,
}

impl PartyPromotionRequest {
    /// A request into the default integration.
    pub fn new(account: AccountId, party: PartyCode) -> Self {
        Self {
            account,
            integration: None,
            party,
        }
    }

    /// Into the integration named `name`.
    #[must_use]
    pub fn integration(mut self, name: impl Into<String>) -> Self {
        self.integration = Some(name.into());
        self
    }
}

/// A promoted ship-to or contact.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PartyPromoted {
    /// The integration.
    pub integration: Integration,
    /// The party's binding (a `promoted` row: External UID, Integration key).
    pub binding: PartyPromotion,
    /// Whether it was promoted before this call (nothing was sent).
    pub already: bool,
}

/// How a held promotion ended in the ERP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartyStep {
    /// The ERP had it: adopted.
    Found,
    /// Created (or, for a contact kept on the customer, written) now.
    Created,
}

enum Planned {
    Already(Box<PartyPromotion>),
    Go(Box<PartyPlan>),
}

struct PartyPlan {
    party: NewErpParty,
    home: PartyHome,
    gateway: std::sync::Arc<dyn ErpGateway>,
}

/// `ship_to=WH1 customer=CUST01` for the log.
pub(crate) fn party_summary(party: &PartyCode, customer: Option<&ErpCustomerKey>) -> String {
    let mut s = format!("{}={}", party.kind().as_str(), party.as_str());
    if let Some(customer) = customer {
        s.push_str(&format!(" customer={}", customer.external_uid()));
    }
    s
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Promotes one ship-to or contact of an account already promoted to the integration,
    /// exactly once. Promoting one already promoted there sends nothing and returns its
    /// binding with `already: true`. Every attempt, refused or not, goes to the promotion log.
    ///
    /// # Dropping the future
    /// Before the intent is recorded, dropping the future leaves nothing behind. After it, the
    /// promotion stays `creating` until its lease expires; then [`Services::recover`], in this
    /// same process, settles it — adopting a ship-to or contact the dropped future created, or
    /// creating it once.
    ///
    /// # Errors
    /// [`PartyPromoteError`]; its class says what kind of failure it is.
    pub async fn promote_party(
        &self,
        request: &PartyPromotionRequest,
    ) -> Result<PartyPromoted, PartyPromoteError> {
        let started = Instant::now();
        let integration = match self
            .resolve_integration(request.integration.as_deref())
            .await
        {
            Ok(integration) => integration,
            Err(e) => {
                let error = PartyPromoteError::from(e);
                self.refused(request.account, None, &request.party, &error, started)
                    .await;
                return Err(error);
            }
        };
        match self
            .plan_party(request.account, &integration, &request.party)
            .await
        {
            Ok(Planned::Already(binding)) => Ok(PartyPromoted {
                integration,
                binding: *binding,
                already: true,
            }),
            Ok(Planned::Go(plan)) => {
                self.execute_party(request.account, integration, *plan, started)
                    .await
            }
            Err(error) => {
                self.refused(
                    request.account,
                    Some(&integration),
                    &request.party,
                    &error,
                    started,
                )
                .await;
                Err(error)
            }
        }
    }

    /// Every ship-to (then every contact) of the account, of the `kinds` asked for, each
    /// promoted as [`Services::promote_party`] does, one after the other (the customer's
    /// primary pointer is written in the order they come). A contact that this ERP has no
    /// place for ([`PartyPromoteError::NoPlace`]) is reported like any other outcome.
    ///
    /// # Dropping the future
    /// Ends the run where it stands: the parties already promoted stay promoted, the one in
    /// flight is as a dropped [`Services::promote_party`] leaves it, the rest are untouched.
    ///
    /// # Errors
    /// [`PartyPromoteError`] only when the account's parties cannot be listed; each party's
    /// own outcome is in the list.
    pub async fn promote_parties(
        &self,
        account: AccountId,
        integration: Option<&str>,
        kinds: &[PartyKind],
    ) -> Result<Vec<(PartyCode, Result<PartyPromoted, PartyPromoteError>)>, PartyPromoteError> {
        let mut codes = Vec::new();
        for kind in PartyKind::ALL {
            if !kinds.contains(&kind) {
                continue;
            }
            match kind {
                PartyKind::ShipTo => codes.extend(
                    self.store
                        .ship_tos(account)
                        .await?
                        .into_iter()
                        .map(|s| PartyCode::ShipTo(s.code().clone())),
                ),
                PartyKind::Contact => codes.extend(
                    self.store
                        .contacts(account)
                        .await?
                        .into_iter()
                        .map(|c| PartyCode::Contact(c.code().clone())),
                ),
            }
        }
        let mut out = Vec::with_capacity(codes.len());
        for party in codes {
            let mut request = PartyPromotionRequest::new(account, party.clone());
            request.integration = integration.map(str::to_owned);
            let result = self.promote_party(&request).await;
            out.push((party, result));
        }
        Ok(out)
    }

    async fn refused(
        &self,
        account: AccountId,
        integration: Option<&Integration>,
        party: &PartyCode,
        error: &PartyPromoteError,
        started: Instant,
    ) {
        let mut audit = Audit::new(
            account,
            LogEvent::Refused,
            party_summary(party, None),
            started,
        )
        .message(Some(error.to_string()));
        if let Some(integration) = integration {
            audit = audit.integration(integration.id());
        }
        self.log(audit).await;
    }

    async fn plan_party(
        &self,
        account: AccountId,
        integration: &Integration,
        party: &PartyCode,
    ) -> Result<Planned, PartyPromoteError> {
        let (found, bindings, parties) = futures_util::future::join3(
            self.store.account(account),
            self.store.bindings_of(account),
            self.store.party_promotions_of(account),
        )
        .await;
        found?.ok_or(PartyPromoteError::AccountNotFound(account))?;
        let customer = bindings?
            .into_iter()
            .find(|b| b.integration == integration.id())
            .map(|b| b.customer_key())
            .ok_or_else(|| PartyPromoteError::NotPromoted {
                account,
                integration: integration.name().clone(),
            })?;
        let new = self
            .new_erp_party(account, &customer, party)
            .await?
            .ok_or_else(|| PartyPromoteError::PartyNotFound {
                account,
                party: party.clone(),
            })?;
        let live = parties?
            .into_iter()
            .find(|p| p.integration == integration.id() && &p.party == party && p.state.is_live());
        if let Some(live) = live {
            return self.live_party(live).map(Planned::Already);
        }
        let gateway = self.gateway(integration).await?;
        let home =
            gateway
                .party_home(party.kind())
                .await
                .map_err(|error| PartyPromoteError::Probe {
                    kind: party.kind(),
                    error,
                })?;
        if home == PartyHome::OnCustomer && !new.primary {
            return Err(PartyPromoteError::NoPlace {
                party: party.clone(),
                integration: integration.name().clone(),
            });
        }
        check_party_lengths(&new, integration, gateway.as_ref())?;
        Ok(Planned::Go(Box::new(PartyPlan {
            party: new,
            home,
            gateway,
        })))
    }

    /// A live promotion of the party: promoted, it is the binding to hand back; otherwise
    /// another is in progress.
    fn live_party(&self, live: PartyPromotion) -> Result<Box<PartyPromotion>, PartyPromoteError> {
        if live.is_binding() {
            Ok(Box::new(live))
        } else {
            Err(PartyPromoteError::InProgress {
                promotion: live.id,
                holder_alive: self.lease_alive(live.lease.as_ref()),
            })
        }
    }

    /// The ERP-neutral record of the account's stored party, under `customer`; `None` when
    /// the account has no such party (any more).
    pub(crate) async fn new_erp_party(
        &self,
        account: AccountId,
        customer: &ErpCustomerKey,
        party: &PartyCode,
    ) -> Result<Option<NewErpParty>, StoreError> {
        let key = ErpPartyKey {
            customer: customer.clone(),
            party: party.clone(),
        };
        // What both kinds share; `detail` is the kind's own.
        let erp_party = |name: &str,
                         phone: Option<&Phone>,
                         email: Option<&Email>,
                         primary: Primary,
                         detail: NewErpPartyDetail| NewErpParty {
            key,
            name: name.to_owned(),
            phone: phone.map(|p| p.as_str().to_owned()),
            email: email.map(|e| e.as_str().to_owned()),
            primary: primary.is_primary(),
            detail,
        };
        Ok(match party {
            PartyCode::ShipTo(code) => self
                .store
                .ship_tos(account)
                .await?
                .into_iter()
                .find(|s| s.code() == code)
                .map(|s| {
                    let d = s.details();
                    erp_party(
                        d.name(),
                        d.phone(),
                        d.email(),
                        d.primary(),
                        ship_to_detail(d.address()),
                    )
                }),
            PartyCode::Contact(code) => self
                .store
                .contacts(account)
                .await?
                .into_iter()
                .find(|c| c.code() == code)
                .map(|c| {
                    let d = c.details();
                    let title = d.title().map(str::to_owned);
                    erp_party(
                        d.name(),
                        d.phone(),
                        d.email(),
                        d.primary(),
                        NewErpPartyDetail::Contact { title },
                    )
                }),
        })
    }

    async fn execute_party(
        &self,
        account: AccountId,
        integration: Integration,
        plan: PartyPlan,
        started: Instant,
    ) -> Result<PartyPromoted, PartyPromoteError> {
        let PartyPlan {
            party,
            home,
            gateway,
        } = plan;
        let summary = party_summary(&party.key.party, Some(&party.key.customer));
        let now = self.clock.now();
        let (lease, _task) = self.new_lease(Some(&integration));
        let holder = lease.holder.clone();
        let promotion = PartyPromotion {
            id: PromotionId::generate(),
            account,
            integration: integration.id(),
            party: party.key.party.clone(),
            customer: party.key.customer.clone(),
            external_uid: party.key.external_uid(),
            state: PromotionState::Creating,
            lease: Some(lease),
            error: None,
            created_at: now,
            updated_at: now,
        };
        let id = promotion.id;
        let intent_log = self.intent_entry(account, integration.id(), id, &summary, started);
        if let Err(e) = self
            .store
            .record_party_intent(&promotion, &intent_log)
            .await
        {
            let error = match e {
                // Promoted meanwhile by another task: its binding, as a retry would get.
                RecordPartyIntentError::Live(live) => match self.live_party(*live) {
                    Ok(binding) => {
                        return Ok(PartyPromoted {
                            integration,
                            binding: *binding,
                            already: true,
                        });
                    }
                    Err(in_progress) => in_progress,
                },
                RecordPartyIntentError::AccountNotFound(a) => PartyPromoteError::AccountNotFound(a),
                RecordPartyIntentError::Store(e) => PartyPromoteError::Store(e),
            };
            self.refused(
                account,
                Some(&integration),
                &promotion.party,
                &error,
                started,
            )
            .await;
            return Err(error);
        }
        let draft = LogDraft {
            event: LogEvent::Promoted,
            request: summary.clone(),
            started,
        };
        let result = match self.party_crash(CrashPoint::AfterIntent) {
            Err(crashed) => Err(crashed),
            Ok(()) => {
                self.lookup_party_and_finish(
                    &promotion,
                    &holder,
                    gateway.as_ref(),
                    &party,
                    home,
                    draft,
                )
                .await
            }
        };
        match result {
            Ok(_) => Ok(PartyPromoted {
                integration,
                binding: PartyPromotion {
                    state: PromotionState::Promoted,
                    lease: None,
                    updated_at: self.clock.now(),
                    ..promotion
                },
                already: false,
            }),
            Err(error) => {
                // A definite failure was logged with the `failed` state itself.
                if !matches!(
                    error,
                    PartyPromoteError::Refused { .. } | PartyPromoteError::Lookup { .. }
                ) {
                    self.log(
                        Audit::new(account, LogEvent::Unknown, summary, started)
                            .integration(integration.id())
                            .promotion(id)
                            .message(Some(error.to_string())),
                    )
                    .await;
                }
                Err(error)
            }
        }
    }
}

fn ship_to_detail(address: &Address) -> NewErpPartyDetail {
    NewErpPartyDetail::ShipTo {
        address_lines: [
            Some(address.line1().to_owned()),
            address.line2().map(str::to_owned),
            address.line3().map(str::to_owned),
        ],
        city: Some(address.city().to_owned()),
        state: address.state().map(str::to_owned),
        postal_code: address.postal_code().map(str::to_owned),
        country: Some(address.country()),
    }
}

/// Every field longer than this ERP takes, all at once; nothing is ever cut.
fn check_party_lengths(
    party: &NewErpParty,
    integration: &Integration,
    gateway: &dyn ErpGateway,
) -> Result<(), PartyPromoteError> {
    let mut c = Collector::default();
    for limit in gateway.party_limits(party.kind()) {
        let Some(value) = party_field(party, limit.input) else {
            continue;
        };
        let len = value.chars().count();
        if len > limit.max {
            c.push(InvalidField::new(
                limit.input,
                format!(
                    "is {len} characters; {} allows at most {} for {} (shorten it; it is never cut silently)",
                    integration.kind(),
                    limit.max,
                    limit.erp_name
                ),
            ));
        }
    }
    c.finish().map_err(|fields| PartyPromoteError::Invalid {
        party: party.key.party.clone(),
        integration: integration.name().clone(),
        fields,
    })
}

/// The value of the input field `input` of `party`, if it has one.
fn party_field<'a>(party: &'a NewErpParty, input: &str) -> Option<&'a str> {
    match (input, &party.detail) {
        ("name", _) => Some(&party.name),
        ("phone", _) => party.phone.as_deref(),
        ("email", _) => party.email.as_deref(),
        ("title", NewErpPartyDetail::Contact { title }) => title.as_deref(),
        (line, NewErpPartyDetail::ShipTo { address_lines, .. }) if line.starts_with("line") => line
            .strip_prefix("line")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| address_lines.get(i))
            .and_then(Option::as_deref),
        ("city", NewErpPartyDetail::ShipTo { city, .. }) => city.as_deref(),
        ("state", NewErpPartyDetail::ShipTo { state, .. }) => state.as_deref(),
        ("postal_code", NewErpPartyDetail::ShipTo { postal_code, .. }) => postal_code.as_deref(),
        _ => None,
    }
}
