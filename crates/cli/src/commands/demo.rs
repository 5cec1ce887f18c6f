//! `crm2sage demo`: the user's whole workflow, narrated, against an embedded simulator and a
//! database in a temporary directory. Loopback only; nothing is left behind.

use crm2sage::{Crm2Sage, MemorySecrets, SecretString};
use crm2sage_domain::{
    AddressInput, ExitClass, HttpPolicy, NewAccount, NewIntegration, PromotionRequest,
};
use serde_json::json;

use super::sim::Sim;
use super::{CmdResult, Ctx};
use crate::cli::{DemoArgs, KindArg};
use crate::failure::Failure;
use crate::output::Out;

const PASSWORD_VAR: &str = "CRM2SAGE_DEMO_PASSWORD";

pub(crate) async fn run(out: Out, args: DemoArgs) -> CmdResult {
    let dir = tempfile::tempdir()
        .map_err(|e| Failure::internal(format!("cannot create a temporary directory: {e}")))?;
    let db = dir.path().join("crm2sage.db");
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let sim = Sim::start(args.kind, loopback, 100, std::time::Duration::ZERO)
        .await
        .map_err(|e| Failure::internal(format!("cannot start the embedded simulator: {e}")))?;
    let sage100 = args.kind == KindArg::Sage100;

    out.narrate(format!(
        "crm2sage demo: the whole workflow against an embedded {} simulator.",
        sim.product()
    ));
    out.narrate(format!("  database:  {} (temporary)", db.display()));
    out.narrate(format!(
        "  simulator: {} company {}",
        sim.base_url(),
        sim.company()
    ));
    out.narrate("");

    let crm2sage = Crm2Sage::builder()
        .sqlite(&db)
        .secrets(
            MemorySecrets::new()
                .with(PASSWORD_VAR, SecretString::from(sim.password()))
                .or_env(),
        )
        .build()
        .await
        .map_err(|e| Failure::new(e.class(), e.code(), e.to_string()))?;
    let app = crm2sage.services();
    let ctx = Ctx { app, out };

    out.narrate("1. Configure an integration: one ERP company, the default.");
    let integration = app
        .add_integration(&NewIntegration {
            name: if sage100 { "demo-s100" } else { "demo-s300" }.into(),
            kind: args.kind.as_str().into(),
            url: sim.base_url(),
            company: sim.company().into(),
            user: sim.user().into(),
            password_env: PASSWORD_VAR.into(),
            division: sage100.then(|| "01".into()),
            crm_id_field: Some(if sage100 { "UDF_CRM_ID" } else { "CRMID" }.into()),
            http_policy: HttpPolicy::HttpsOnly,
            make_default: true,
            ..Default::default()
        })
        .await?;
    app.test_integration(integration.name().as_str()).await?;
    out.narrate(format!(
        "   Added {} ({}, company {}); the ERP answered and accepted the credentials.",
        integration.name(),
        integration.kind(),
        integration.company()
    ));

    out.narrate("2. Synchronise the prerequisite reference data from the ERP.");
    let (_, reports) = app.sync(None, None, &|_| {}).await?;
    for r in &reports {
        out.narrate(format!(
            "   {:<12} {:<12} {} records",
            r.kind.as_str(),
            r.outcome.as_str(),
            r.counts.total
        ));
    }
    let sync_class = reports
        .iter()
        .map(|r| r.class)
        .max()
        .unwrap_or(ExitClass::Ok);
    if sync_class != ExitClass::Ok {
        return Err(Failure::new(
            sync_class,
            "sync_failed",
            "the demo sync failed; see the table above",
        ));
    }

    out.narrate("3. Create an account with its required details.");
    let account = app
        .create_account(&NewAccount {
            name: "Northwind Traders".into(),
            billing: AddressInput {
                line1: "100 Harbour Way".into(),
                line2: Some("Suite 400".into()),
                city: "Vancouver".into(),
                state: Some("BC".into()),
                postal_code: Some("V6C 3E1".into()),
                country: "CA".into(),
                ..Default::default()
            },
            phone: Some("+1 604 555 0199".into()),
            email: Some("ap@northwind.example.com".into()),
            website: Some("northwind.example.com".into()),
            currency: Some("CAD".into()),
            language: Some("ENG".into()),
            terms: Some("N30".into()),
            ..Default::default()
        })
        .await?;
    out.narrate(format!(
        "   Account {} ({}).",
        account.id(),
        account.details().name()
    ));

    let mut request = PromotionRequest::new(account.id(), "NW1001");
    if sage100 {
        out.narrate("4. Promote it: division 01, salesperson 0100, tax schedule WI MIL, customer number NW1001.");
        request.salesperson = Some("0100".into());
        request.tax_schedule = Some("WI MIL".into());
    } else {
        out.narrate("4. Promote it: category RTL, tax group CALIF, customer number NW1001.");
        request.category = Some("RTL".into());
        request.tax_group = Some("CALIF".into());
    }
    let promoted = app.promote(&request).await?;
    out.narrate(format!(
        "   Created ERP customer {} in {}.",
        promoted.binding.customer_no,
        promoted.integration.name()
    ));
    out.narrate(format!(
        "   Integration key: {}",
        promoted.binding.integration_key
    ));
    out.narrate(format!(
        "   External UID:    {}",
        promoted.binding.external_uid
    ));

    out.narrate("5. Show the promoted customer's details, live from the ERP.");
    if out.json {
        let (_, _, customer) = app.erp_details(account.id(), None).await?;
        out.json(&json!({
            "integration": integration.name().as_str(),
            "sync": reports.iter().map(|r| json!({"kind": r.kind.as_str(), "outcome": r.outcome.as_str(), "total": r.counts.total})).collect::<Vec<_>>(),
            "account_id": account.id().to_string(),
            "promotion": super::promote::promoted_json(account.id(), &promoted),
            "erp_details": crate::render::erp_record(&customer.record),
        }));
    } else if !out.quiet {
        super::details::run(
            &ctx,
            crate::cli::ErpDetailsArgs {
                account: account.id().to_string(),
                integration: None,
            },
        )
        .await?;
    } else {
        out.line(format!(
            "{} {}",
            promoted.binding.integration_key, promoted.binding.external_uid
        ));
    }
    out.narrate("");
    out.narrate(format!(
        "Done: one POST to the ERP ({} in the simulator's log), the account bound to customer {}.",
        sim.count_posts(),
        promoted.binding.external_uid
    ));
    sim.shutdown().await;
    drop(dir);
    Ok(ExitClass::Ok)
}
