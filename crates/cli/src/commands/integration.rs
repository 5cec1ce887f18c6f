//! `crm2sage integration add|list|show|set-default|test|remove`.

use crate::failure::ExitClass;
use crm2sage_domain::ports::ReferenceStore;
use crm2sage_domain::{HttpPolicy, NewIntegration};
use serde_json::{Value, json};

use super::{CmdResult, Ctx};
use crate::cli::{IntegrationAddArgs, IntegrationCommand};
use crate::render;

pub(crate) async fn run(ctx: &Ctx<'_>, command: IntegrationCommand) -> CmdResult {
    let out = ctx.out;
    match command {
        IntegrationCommand::Add(args) => {
            let integration = ctx.app.add_integration(&new_integration(&args)).await?;
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
        IntegrationCommand::List => {
            let all = ctx.app.list_integrations().await?;
            if out.json {
                out.json(&Value::Array(all.iter().map(render::integration).collect()));
            } else {
                let rows = all
                    .iter()
                    .map(|i| {
                        vec![
                            i.name().to_string(),
                            i.kind().as_str().to_owned(),
                            i.company().to_string(),
                            i.base_url().to_string(),
                            if i.is_default() {
                                "yes".into()
                            } else {
                                String::new()
                            },
                        ]
                    })
                    .collect();
                out.table(&["name", "kind", "company", "url", "default"], rows);
            }
        }
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

fn new_integration(args: &IntegrationAddArgs) -> NewIntegration {
    {
        let mut new_integration = NewIntegration::new(
            args.name.clone(),
            args.kind.as_str().to_owned(),
            args.url.clone(),
            args.company.clone(),
            args.user.clone(),
        );
        new_integration.password_env = args.password_env.clone();
        new_integration.division = args.division.clone();
        new_integration.customer_name_max = args.customer_name_max;
        new_integration.crm_id_field = args.crm_id_field.clone();
        new_integration.http_policy = if args.allow_insecure_http {
            HttpPolicy::AllowInsecureHttp
        } else {
            HttpPolicy::HttpsOnly
        };
        new_integration.make_default = args.default;
        new_integration
    }
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
