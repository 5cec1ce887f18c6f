//! Promoting ship-tos and contacts from the command line: `ship-to promote`, `contact
//! promote`, `promote … --with-ship-tos --with-contacts`, and how their bindings and
//! failures are shown. One owner for both kinds.

use std::collections::HashMap;

use crm2sage_domain::services::{PartyPromoteError, PartyPromoted, PartyPromotionRequest};
use crm2sage_domain::{AccountId, ErrorCode, IntegrationId, PartyCode, PartyKind, PartyPromotion};
use serde_json::{Value, json};

use super::{CmdResult, Ctx, account_id};
use crate::failure::{ExitClass, Failure};

/// `ship-to promote ACCOUNT CODE` / `contact promote ACCOUNT CODE`.
pub(crate) async fn promote_one(
    ctx: &Ctx<'_>,
    kind: PartyKind,
    account: &str,
    code: &str,
    integration: Option<String>,
) -> CmdResult {
    let account = account_id(account)?;
    let party = PartyCode::parse(kind, code).map_err(|e| Failure::invalid("code", e))?;
    let mut request = PartyPromotionRequest::new(account, party);
    request.integration = integration;
    let promoted = ctx.app.promote_party(&request).await?;
    let out = ctx.out;
    if out.json {
        out.json(&promoted_json(&promoted));
    } else {
        let b = &promoted.binding;
        out.line(format!(
            "{} {} of account {account} {} {}.",
            capitalised(kind.label()),
            b.party.as_str(),
            if promoted.already {
                "was already promoted to"
            } else {
                "promoted to"
            },
            promoted.integration.name()
        ));
        out.line(format!("  External UID:    {}", b.external_uid));
        out.line(format!("  Integration key: {}", b.integration_key()));
    }
    Ok(ExitClass::Ok)
}

fn capitalised(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A promoted party as JSON (docs/cli.md).
pub(crate) fn promoted_json(p: &PartyPromoted) -> Value {
    let b = &p.binding;
    json!({
        "account_id": b.account.to_string(),
        "integration": p.integration.name().as_str(),
        "kind": b.kind().as_str(),
        "code": b.party.as_str(),
        "customer_no": b.customer.customer_no.as_str(),
        "external_uid": b.external_uid.as_str(),
        "integration_key": b.integration_key().as_str(),
        "state": "promoted",
        "already": p.already,
        "promotion_id": b.id.to_string(),
    })
}

/// `promote ACCOUNT … --with-ship-tos --with-contacts`: every party of the kinds asked for,
/// after the customer. Prints one line per party (or returns their JSON) and the exit class
/// of the worst outcome; a contact this ERP has no place for is `skipped`, not a failure.
pub(crate) async fn promote_with(
    ctx: &Ctx<'_>,
    account: AccountId,
    integration: Option<&str>,
    kinds: &[PartyKind],
) -> Result<(Value, ExitClass), Failure> {
    let results = ctx.app.promote_parties(account, integration, kinds).await?;
    let report = PartyReport::of(kinds, &results);
    if !ctx.out.json {
        for line in &report.lines {
            ctx.out.line(crate::render::terminal_safe(line));
        }
    }
    Ok((Value::Object(report.doc), report.class))
}

/// What promoting an account's parties did, for people and for JSON: the one owner of how a
/// party outcome is shown (`promote --with-…` and `promote --batch --with-…`).
#[derive(Debug)]
pub(crate) struct PartyReport {
    /// `{"ship_tos": [{code, outcome, …}], "contacts": […]}`, the kinds asked for.
    pub(crate) doc: serde_json::Map<String, Value>,
    /// One line per party.
    pub(crate) lines: Vec<String>,
    /// The worst outcome's exit class.
    pub(crate) class: ExitClass,
    /// The first failure: its kind and message.
    pub(crate) first_failure: Option<(&'static str, String)>,
}

impl PartyReport {
    pub(crate) fn of(
        kinds: &[PartyKind],
        results: &[(PartyCode, Result<PartyPromoted, PartyPromoteError>)],
    ) -> Self {
        let mut report = Self {
            doc: serde_json::Map::new(),
            lines: Vec::new(),
            class: ExitClass::Ok,
            first_failure: None,
        };
        let mut by_kind: HashMap<PartyKind, Vec<Value>> = HashMap::new();
        for (party, result) in results {
            let (row, line, class) = match result {
                Ok(p) => (
                    json!({
                        "code": party.as_str(),
                        "outcome": if p.already { "already_promoted" } else { "promoted" },
                        "external_uid": p.binding.external_uid.as_str(),
                        "integration_key": p.binding.integration_key().as_str(),
                    }),
                    format!(
                        "  {party}: {} ({})",
                        if p.already {
                            "already promoted"
                        } else {
                            "promoted"
                        },
                        p.binding.external_uid
                    ),
                    ExitClass::Ok,
                ),
                Err(e @ PartyPromoteError::NoPlace { .. }) => (
                    json!({ "code": party.as_str(), "outcome": "skipped", "error": error_json(e) }),
                    format!("  {party}: skipped — {e}"),
                    ExitClass::Ok,
                ),
                Err(e) => {
                    if report.first_failure.is_none() {
                        report.first_failure = Some((e.code(), format!("{party}: {e}")));
                    }
                    (
                        json!({ "code": party.as_str(), "outcome": "failed", "error": error_json(e) }),
                        format!("  {party}: failed — {e}"),
                        ExitClass::from(e.class()),
                    )
                }
            };
            report.class = report.class.max(class);
            report.lines.push(line);
            by_kind.entry(party.kind()).or_default().push(row);
        }
        for kind in kinds {
            report.doc.insert(
                list_key(*kind).into(),
                Value::Array(by_kind.remove(kind).unwrap_or_default()),
            );
        }
        report
    }

    /// A failure before any party was tried (the account's parties could not be read).
    pub(crate) fn failed(kinds: &[PartyKind], e: &PartyPromoteError) -> Self {
        let mut doc = serde_json::Map::new();
        for kind in kinds {
            doc.insert(list_key(*kind).into(), Value::Null);
        }
        doc.insert("parties_error".into(), error_json(e));
        Self {
            doc,
            lines: vec![format!("  ship-tos and contacts: failed — {e}")],
            class: ExitClass::from(e.class()),
            first_failure: Some((e.code(), e.to_string())),
        }
    }
}

/// The JSON key of a kind's list: `ship_tos`, `contacts`.
pub(crate) fn list_key(kind: PartyKind) -> &'static str {
    match kind {
        PartyKind::ShipTo => "ship_tos",
        _ => "contacts",
    }
}

fn error_json(e: &PartyPromoteError) -> Value {
    json!({ "kind": e.code(), "message": e.to_string() })
}

/// The bindings of an account's parties (its promoted party rows) and the integrations'
/// names, for listings.
#[derive(Debug, Default)]
pub(crate) struct PartyBindings {
    by_party: HashMap<PartyCode, Vec<PartyPromotion>>,
    names: HashMap<IntegrationId, String>,
}

impl PartyBindings {
    /// The bindings of `account`'s ship-tos and contacts.
    pub(crate) async fn load(ctx: &Ctx<'_>, account: AccountId) -> Result<Self, Failure> {
        let mut by_party: HashMap<PartyCode, Vec<PartyPromotion>> = HashMap::new();
        for p in ctx.app.store().party_promotions_of(account).await? {
            if p.is_binding() {
                by_party.entry(p.party.clone()).or_default().push(p);
            }
        }
        let names = if by_party.is_empty() {
            HashMap::new()
        } else {
            super::integration_names(ctx.app.store().as_ref()).await?
        };
        Ok(Self { by_party, names })
    }

    /// One party's bindings as JSON: `[{integration, external_uid, integration_key,
    /// promoted_at}]`.
    pub(crate) fn json(&self, party: &PartyCode) -> Value {
        Value::Array(
            self.by_party
                .get(party)
                .into_iter()
                .flatten()
                .map(|b| {
                    json!({
                        "integration": self.names.get(&b.integration),
                        "external_uid": b.external_uid.as_str(),
                        "integration_key": b.integration_key().as_str(),
                        "promoted_at": b.updated_at.to_string(),
                    })
                })
                .collect(),
        )
    }

    /// One party's External UIDs, for a table cell.
    pub(crate) fn cell(&self, party: &PartyCode) -> String {
        self.by_party
            .get(party)
            .into_iter()
            .flatten()
            .map(|b| b.external_uid.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl From<PartyPromoteError> for Failure {
    fn from(e: PartyPromoteError) -> Self {
        match &e {
            PartyPromoteError::Resolve(r) => r.clone().into(),
            PartyPromoteError::Gateway(g) => g.clone().into(),
            PartyPromoteError::NotPromoted { account, .. } => Failure::of(
                &e,
                Some(format!(
                    "`crm2sage promote {account} --customer-no …` promotes the account"
                )),
            ),
            PartyPromoteError::PartyNotFound { account, party } => Failure::of(
                &e,
                Some(format!(
                    "`crm2sage {} list {account}` shows them",
                    party.kind().label()
                )),
            ),
            PartyPromoteError::Invalid { fields, .. } => {
                Failure::of(&e, None).with_details(super::party_import::fields_json(fields))
            }
            PartyPromoteError::InProgress {
                promotion,
                holder_alive,
            } => Failure::of(
                &e,
                (!holder_alive).then(|| "run `crm2sage recover`".to_owned()),
            )
            .with_details(
                json!({ "promotion_id": promotion.to_string(), "holder_alive": holder_alive }),
            ),
            PartyPromoteError::OutcomeUnknown { promotion, .. }
            | PartyPromoteError::NotRecorded { promotion, .. }
            | PartyPromoteError::Refused { promotion, .. }
            | PartyPromoteError::Lookup { promotion, .. } => {
                Failure::of(&e, None).with_details(json!({ "promotion_id": promotion.to_string() }))
            }
            _ => Failure::of(&e, None),
        }
    }
}
