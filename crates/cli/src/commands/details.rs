//! `crm2sage erp-details ACCOUNT`: the customer, live from the ERP.

use crate::failure::ExitClass;
use crm2sage_domain::PartyKind;
use crm2sage_domain::services::{DetailsError, LiveParties};
use serde_json::Value;

use super::party_promote::list_key;
use super::{CmdResult, Ctx, account_id, panel};
use crate::cli::ErpDetailsArgs;
use crate::failure::Failure;
use crate::render;

pub(crate) async fn run(ctx: &Ctx<'_>, args: ErpDetailsArgs) -> CmdResult {
    let account = account_id(&args.account)?;
    let as_of = match args.as_of.as_deref() {
        None => None,
        Some(raw) => Some(parse_as_of(raw)?),
    };
    let (integration, binding, customer) = ctx
        .app
        .erp_details(account, args.integration.as_deref())
        .await?;
    let panel = ctx
        .app
        .erp_panel(account, args.integration.as_deref(), as_of, args.documents)
        .await?;
    // The customer's ship-tos and contacts come second: a server that cannot list them
    // (no right to AR/ARShipToLocations, no SO module) still shows the customer, and says so.
    let parties = ctx
        .app
        .erp_parties(
            account,
            args.integration.as_deref(),
            &[PartyKind::ShipTo, PartyKind::Contact],
        )
        .await;
    let out = ctx.out;
    let fields = render::erp_record(&customer.record);
    if out.json {
        let mut doc = serde_json::Map::new();
        doc.insert("account_id".into(), Value::String(account.to_string()));
        doc.insert(
            "integration".into(),
            Value::String(integration.name().to_string()),
        );
        doc.insert(
            "customer_no".into(),
            Value::String(binding.customer_no.to_string()),
        );
        doc.insert(
            "external_uid".into(),
            Value::String(customer.external_uid().to_string()),
        );
        doc.insert(
            "integration_key".into(),
            Value::String(binding.integration_key.to_string()),
        );
        // The ERP's own field names, at the top level (they are PascalCase; ours are snake_case).
        doc.insert("panel".into(), panel::panel_json(&panel));
        doc.insert("credit_status".into(), panel::credit_json(&panel.credit));
        parties_json(&mut doc, parties);
        for (k, v) in fields {
            doc.entry(k).or_insert(v);
        }
        out.json(&Value::Object(doc));
        return Ok(ExitClass::Ok);
    }
    out.line(format!(
        "Customer {} in {} ({}), read live from the ERP:",
        render::terminal_safe(customer.external_uid().as_str()),
        integration.name(),
        integration.kind()
    ));
    let shown = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    // The fields the adapter labelled, in the order it gave them, under its labels.
    let record = &customer.record;
    let mut rows: Vec<Vec<String>> = record
        .labelled()
        .filter_map(|(label, name, _)| fields.get(name).map(|v| vec![label.to_owned(), shown(v)]))
        .filter(|row| !row[1].is_empty())
        .collect();
    let others = fields
        .iter()
        .filter(|(k, v)| record.label(k).is_none() && !shown(v).is_empty())
        .count();
    out.table(&["field", "value"], std::mem::take(&mut rows));
    if others > 0 {
        out.line(format!(
            "({others} more fields with values; `--json` shows every field)"
        ));
    }
    let status = record
        .text("Status")
        .or_else(|| record.text("CustomerStatus"));
    panel::show(&out, &panel, status);
    show_parties(ctx, parties);
    Ok(ExitClass::Ok)
}

fn parties_json(
    doc: &mut serde_json::Map<String, Value>,
    parties: Result<Vec<LiveParties>, DetailsError>,
) {
    match parties {
        Ok(lists) => {
            for list in lists {
                let key = list_key(list.kind);
                let rows = list
                    .parties
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "code": p.code,
                            "name": p.name,
                            "fields": Value::Object(render::erp_record(&p.record)),
                        })
                    })
                    .collect();
                doc.insert(key.into(), Value::Array(rows));
                doc.insert(format!("{key}_truncated"), Value::Bool(list.truncated));
            }
        }
        Err(e) => {
            let error = Failure::from(e);
            for kind in [PartyKind::ShipTo, PartyKind::Contact] {
                doc.insert(list_key(kind).into(), Value::Null);
            }
            doc.insert(
                "parties_error".into(),
                serde_json::json!({ "kind": error.kind, "message": error.message }),
            );
        }
    }
}

fn show_parties(ctx: &Ctx<'_>, parties: Result<Vec<LiveParties>, DetailsError>) {
    let out = ctx.out;
    match parties {
        Ok(lists) => {
            for list in lists {
                let title = match list.kind {
                    PartyKind::ShipTo => "Ship-to locations",
                    _ => "Contacts",
                };
                out.line(format!("{title} (live, {}):", list.parties.len()));
                out.table(
                    &["code", "name"],
                    list.parties
                        .iter()
                        .map(|p| {
                            vec![
                                render::terminal_safe(p.code.as_deref().unwrap_or("")).into_owned(),
                                render::terminal_safe(p.name.as_deref().unwrap_or("")).into_owned(),
                            ]
                        })
                        .collect(),
                );
                if list.truncated {
                    out.line(format!(
                        "(only the first {} are shown)",
                        crm2sage_domain::services::MAX_LIVE_PARTIES
                    ));
                }
            }
        }
        Err(e) => out.note(format!(
            "ship-tos and contacts could not be read from the ERP: {}",
            render::terminal_safe(&e.to_string())
        )),
    }
}

/// `--as-of`: a calendar date, `YYYY-MM-DD`.
fn parse_as_of(raw: &str) -> Result<crm2sage_domain::Date, Failure> {
    let t = raw.trim();
    let shaped =
        t.len() == 10 && t.as_bytes().get(4) == Some(&b'-') && t.as_bytes().get(7) == Some(&b'-');
    t.parse::<crm2sage_domain::Date>()
        .ok()
        .filter(|_| shaped)
        .ok_or_else(|| Failure::invalid("as_of", format!("`{raw}` is not a date: use YYYY-MM-DD")))
}
