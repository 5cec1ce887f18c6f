//! `crm2sage integration add|list|set|show|set-default|test|remove`.

use std::io::Read as _;
use std::path::Path;

use crate::failure::ExitClass;
use crm2sage_domain::ports::ReferenceStore;
use crm2sage_domain::{
    HttpPolicy, Integration, IntegrationChanges, IntegrationName, InvalidField, InvalidFields,
    NewIntegration, Timestamp, TrustedCa,
};
use serde_json::json;

use super::{CmdResult, Ctx};
use crate::cli::{IntegrationAddArgs, IntegrationCommand, IntegrationListArgs, IntegrationSetArgs};
use crate::failure::Failure;
use crate::listing::{self, Render};
use crate::render;

pub(crate) async fn run(ctx: &Ctx<'_>, command: IntegrationCommand) -> CmdResult {
    let out = ctx.out;
    match command {
        IntegrationCommand::Add(args) => {
            let (input, refused) = new_integration(&args);
            if !refused.is_empty() {
                // Reported together with whatever else the input breaks; nothing is stored.
                let others = input.validate(Timestamp::now()).err();
                return Err(invalid(refused, others.as_ref()));
            }
            let integration = ctx.app.add_integration(&input).await?;
            if out.json {
                out.json(&render::integration(&integration));
            } else {
                out.line(format!(
                    "Added integration {} ({}, company {}) with id {}{}.",
                    integration.name(),
                    integration.kind(),
                    integration.company(),
                    integration.id(),
                    if integration.is_default() {
                        ", the default"
                    } else {
                        ""
                    }
                ));
                out.line(format!(
                    "Next: `crm2sage integration test {}`, then `crm2sage sync --integration {}`.",
                    integration.name(),
                    integration.name()
                ));
            }
        }
        IntegrationCommand::List(args) => return list(ctx, &args).await,
        IntegrationCommand::Show { name } => {
            let i = ctx.app.show_integration(&name).await?;
            if out.json {
                out.json(&render::integration(&i));
            } else {
                let runs = sync_runs_summary(ctx.app.store().as_ref(), i.id()).await?;
                for (k, v) in render::integration(&i).as_object().into_iter().flatten() {
                    if !v.is_null() {
                        out.line(format!(
                            "{k:>20}: {}",
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                        ));
                    }
                }
                out.line(format!(
                    "{:>20}: {}",
                    "last syncs",
                    if runs.is_empty() {
                        "never".to_owned()
                    } else {
                        runs
                    }
                ));
            }
        }
        IntegrationCommand::Set(args) => {
            let (changes, refused) = integration_changes(&args);
            if !refused.is_empty() {
                let current = ctx.app.show_integration(&args.name).await?;
                let others = if changes.is_empty() {
                    None
                } else {
                    changes.apply(&current).err()
                };
                return Err(invalid(refused, others.as_ref()));
            }
            let i = ctx.app.update_integration(&args.name, &changes).await?;
            if out.json {
                out.json(&render::integration(&i));
            } else {
                out.line(format!(
                    "Changed integration {}: {} ({}), timeout {}, {}.",
                    i.name(),
                    i.base_url(),
                    i.user().as_str(),
                    render::timeout(&i),
                    match i.trusted_ca() {
                        Some(ca) =>
                            format!("{} private CA certificate(s) trusted", ca.certificates()),
                        None => "the system's CA roots only".to_owned(),
                    }
                ));
                out.line(format!("Next: `crm2sage integration test {}`.", i.name()));
            }
        }
        IntegrationCommand::SetDefault { name } => {
            let i = ctx.app.set_default_integration(&name).await?;
            if out.json {
                out.json(&render::integration(&i));
            } else {
                out.line(format!("{} is now the default integration.", i.name()));
            }
        }
        IntegrationCommand::Test { name } => {
            let i = ctx.app.test_integration(&name).await?;
            if out.json {
                out.json(&json!({ "name": i.name().as_str(), "ok": true }));
            } else {
                out.line(format!(
                    "{}: the ERP answered and accepted the credentials.",
                    i.name()
                ));
            }
        }
        IntegrationCommand::Remove { name } => {
            ctx.app.remove_integration(&name).await?;
            if out.json {
                out.json(&json!({ "removed": name }));
            } else {
                out.line(format!("Removed integration {name}."));
            }
        }
    }
    Ok(ExitClass::Ok)
}

/// The input `integration add` gives the services, and the fields the CLI itself refused
/// (a timeout that is not a number, a CA file that cannot be read).
fn new_integration(args: &IntegrationAddArgs) -> (NewIntegration, Vec<InvalidField>) {
    let mut refused = Vec::new();
    let timeout_secs = args
        .timeout
        .as_deref()
        .and_then(|raw| parse_timeout(raw, &mut refused));
    let ca_pem = args
        .ca_file
        .as_deref()
        .and_then(|path| read_ca_file(path, &mut refused));
    let mut input = NewIntegration::new(
        args.name.clone(),
        args.kind.as_str().to_owned(),
        args.url.clone(),
        args.company.clone(),
        args.user.clone(),
    );
    input.password_env = args.password_env.clone();
    input.division = args.division.clone();
    input.customer_name_max = args.customer_name_max;
    input.crm_id_field = args.crm_id_field.clone();
    input.http_policy = if args.allow_insecure_http {
        HttpPolicy::AllowInsecureHttp
    } else {
        HttpPolicy::HttpsOnly
    };
    input.make_default = args.default;
    input.timeout_secs = timeout_secs;
    input.ca_pem = ca_pem;
    (input, refused)
}

/// The changes `integration set` asks for, and the fields the CLI itself refused.
fn integration_changes(args: &IntegrationSetArgs) -> (IntegrationChanges, Vec<InvalidField>) {
    let mut refused = Vec::new();
    let mut changes = IntegrationChanges::default();
    changes.url.clone_from(&args.url);
    changes.user.clone_from(&args.user);
    changes.password_env.clone_from(&args.password_env);
    changes.crm_id_field.clone_from(&args.crm_id_field);
    changes.allow_insecure_http = args.allow_insecure_http;
    changes.timeout_secs = args
        .timeout
        .as_deref()
        .and_then(|raw| parse_timeout(raw, &mut refused));
    if args.no_ca_file {
        changes.ca_pem = Some(None);
    } else if let Some(path) = &args.ca_file {
        changes.ca_pem = read_ca_file(path, &mut refused).map(Some);
    }
    (changes, refused)
}

/// `--timeout`'s whole seconds; the range is the domain's to check. The value is not repeated.
fn parse_timeout(raw: &str, refused: &mut Vec<InvalidField>) -> Option<u64> {
    let parsed = raw.trim().parse::<u64>().ok();
    if parsed.is_none() {
        refused.push(InvalidField::new(
            "timeout",
            "must be a whole number of seconds, 1-600",
        ));
    }
    parsed
}

/// The text of `--ca-file`, read up to [`TrustedCa::MAX_BYTES`]; whether it is a CA bundle is
/// the domain's to check (which never repeats it).
fn read_ca_file(path: &Path, refused: &mut Vec<InvalidField>) -> Option<String> {
    let shown = path.display();
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|file| {
        file.take(TrustedCa::MAX_BYTES as u64 + 1)
            .read_to_string(&mut text)
    });
    match read {
        Ok(n) if n > TrustedCa::MAX_BYTES => {
            refused.push(InvalidField::new(
                "ca_file",
                format!(
                    "`{shown}` is larger than {} bytes; a CA bundle is a few KiB",
                    TrustedCa::MAX_BYTES
                ),
            ));
            None
        }
        Ok(_) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            refused.push(InvalidField::new(
                "ca_file",
                format!("`{shown}` is not text (a PEM file is; a DER .cer file is not)"),
            ));
            None
        }
        Err(e) => {
            refused.push(InvalidField::new(
                "ca_file",
                format!("`{shown}` cannot be read: {e}"),
            ));
            None
        }
    }
}

/// The usage failure for fields the CLI refused, with the domain's own refusals of the rest.
fn invalid(mut refused: Vec<InvalidField>, others: Option<&InvalidFields>) -> Failure {
    let mut fields: Vec<InvalidField> = others.map(|o| o.fields().to_vec()).unwrap_or_default();
    fields.retain(|f| !refused.iter().any(|r| r.field() == f.field()));
    fields.append(&mut refused);
    // In the order the fields are validated (a stable sort keeps the rest as they came).
    const ORDER: [&str; 11] = [
        "name",
        "kind",
        "url",
        "company",
        "user",
        "password_env",
        "division",
        "customer_name_max",
        "crm_id_field",
        "timeout",
        "ca_file",
    ];
    fields.sort_by_key(|f| {
        ORDER
            .iter()
            .position(|o| *o == f.field())
            .unwrap_or(ORDER.len())
    });
    let message = fields
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    Failure::new(
        ExitClass::Invalid,
        "invalid_input",
        format!(
            "invalid integration: {} invalid field(s): {message}",
            fields.len()
        ),
    )
    .with_details(json!({
        "fields": fields
            .iter()
            .map(|f| json!({ "field": f.field(), "rule": f.rule() }))
            .collect::<Vec<_>>()
    }))
}

/// A one-line summary of the latest sync run per kind.
async fn sync_runs_summary<S: ReferenceStore + ?Sized>(
    store: &S,
    id: crm2sage_domain::IntegrationId,
) -> Result<String, crm2sage_domain::ports::StoreError> {
    let runs = store.sync_runs(id).await?;
    let mut seen = std::collections::BTreeSet::new();
    let parts: Vec<String> = runs
        .iter()
        .filter(|r| seen.insert(r.kind))
        .map(|r| format!("{} {} ({})", r.kind, r.outcome, render::when(r.started_at)))
        .collect();
    Ok(parts.join(", "))
}

/// `integration list`: pages of integrations by name, printed as they are read.
async fn list(ctx: &Ctx<'_>, args: &IntegrationListArgs) -> CmdResult {
    let after = args
        .after
        .as_deref()
        .map(|raw| {
            IntegrationName::parse(raw).map_err(|e| Failure::invalid("after", e.to_string()))
        })
        .transpose()?;
    let store = ctx.app.store();
    let row = |i: &Integration| {
        vec![
            i.name().to_string(),
            i.kind().as_str().to_owned(),
            i.company().to_string(),
            i.base_url().to_string(),
            render::timeout(i),
            if i.trusted_ca().is_some() {
                "yes".into()
            } else {
                String::new()
            },
            if i.is_default() {
                "yes".into()
            } else {
                String::new()
            },
        ]
    };
    let render = Render {
        header: &[
            "name", "kind", "company", "url", "timeout", "own CA", "default",
        ],
        json: &render::integration,
        row: &row,
    };
    let more = listing::stream(
        ctx.out,
        args.limit,
        after,
        |i: &Integration| i.name().clone(),
        |after, limit| async move { Ok(store.integrations_page(after.as_ref(), limit).await?) },
        &render,
    )
    .await?;
    listing::note_more(ctx.out, more);
    Ok(ExitClass::Ok)
}
