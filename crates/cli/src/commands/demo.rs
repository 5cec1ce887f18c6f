//! `crm2sage demo`: the user's whole workflow, narrated, against an embedded simulator and a
//! database in a temporary directory. Loopback only; nothing is left behind.

use crate::failure::ExitClass;
use crm2sage::{Crm2Sage, MemorySecrets, SecretString};
use crm2sage_domain::{
    AddressInput, HttpPolicy, NewAccount, NewContact, NewIntegration, NewShipTo, PartyKind,
    PromotionRequest,
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
        .map_err(|e| Failure::of(&e, None))?;
    let app = crm2sage.services();
    let ctx = Ctx { app, out };

    out.narrate("1. Configure an integration: one ERP company, the default.");
    let integration = app
        .add_integration(&{
            let mut new_integration = NewIntegration::new(
                if sage100 { "demo-s100" } else { "demo-s300" },
                args.kind.as_str(),
                sim.base_url(),
                sim.company(),
                sim.user(),
            );
            new_integration.password_env = PASSWORD_VAR.into();
            new_integration.division = sage100.then(|| "01".into());
            new_integration.crm_id_field =
                Some(if sage100 { "UDF_CRM_ID" } else { "CRMID" }.into());
            new_integration.http_policy = HttpPolicy::HttpsOnly;
            new_integration.make_default = true;
            new_integration
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
        .map(|r| ExitClass::of(r.class))
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
        .create_account(&{
            let mut new_account = NewAccount::new("Northwind Traders", {
                let mut address = AddressInput::new("100 Harbour Way", "Vancouver", "CA");
                address.line2 = Some("Suite 400".into());
                address.state = Some("BC".into());
                address.postal_code = Some("V6C 3E1".into());
                address
            });
            new_account.phone = Some("+1 604 555 0199".into());
            new_account.email = Some("ap@northwind.example.com".into());
            new_account.website = Some("northwind.example.com".into());
            new_account.currency = Some("CAD".into());
            new_account.language = Some("ENG".into());
            new_account.terms = Some("N30".into());
            new_account
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
    let parties = demo_parties(&out, app, account.id()).await?;
    let guard = demo_guard(&out, app, &account, &request).await?;

    out.narrate(
        "5. Show the promoted customer's details and its panel (credit, aging, documents, orders), live from the ERP.",
    );
    if out.json {
        let (_, _, customer) = app.erp_details(account.id(), None).await?;
        let panel = app
            .erp_panel(
                account.id(),
                None,
                None,
                crm2sage_domain::services::DEFAULT_PANEL_DOCUMENTS,
            )
            .await?;
        out.json(&json!({
            "integration": integration.name().as_str(),
            "sync": reports.iter().map(|r| json!({"kind": r.kind.as_str(), "outcome": r.outcome.as_str(), "total": r.counts.total})).collect::<Vec<_>>(),
            "account_id": account.id().to_string(),
            "promotion": super::promote::promoted_json(account.id(), &promoted),
            "erp_details": crate::render::erp_record(&customer.record),
            "panel": super::panel::panel_json(&panel),
            "credit_status": super::panel::credit_json(&panel.credit),
            "ship_tos": parties.doc.get("ship_tos"),
            "contacts": parties.doc.get("contacts"),
            "duplicate_guard": guard,
        }));
    } else if !out.quiet {
        super::details::run(
            &ctx,
            crate::cli::ErpDetailsArgs {
                account: account.id().to_string(),
                integration: None,
                as_of: None,
                documents: crm2sage_domain::services::DEFAULT_PANEL_DOCUMENTS,
            },
        )
        .await?;
    } else {
        out.line(format!(
            "{} {}",
            promoted.binding.integration_key, promoted.binding.external_uid
        ));
    }
    let (ship_tos, contacts) = sim.party_creates();
    out.narrate("");
    out.narrate(format!(
        "Done: each record created once in the ERP — {} customer POST, {} ship-to{}, {} — the account bound to customer {}.",
        sim.count_posts(),
        ship_tos,
        if ship_tos == 1 { "" } else { "s" },
        if contacts == 0 {
            "the primary contact on the customer record (a Sage 300 without contacts)".to_owned()
        } else {
            format!("{contacts} contact")
        },
        promoted.binding.external_uid
    ));
    sim.shutdown().await;
    drop(dir);
    Ok(ExitClass::Ok)
}

/// Step 4's coda: the same company typed again as another account is refused by the duplicate
/// guard (nothing recorded or created); what it found, as JSON.
async fn demo_guard(
    out: &Out,
    app: &super::App,
    account: &crm2sage_domain::Account,
    promoted: &PromotionRequest,
) -> Result<serde_json::Value, Failure> {
    let mut input = account.details().to_input();
    input.name = format!("{} Ltd.", account.details().name().as_str().to_uppercase());
    input.reference = None;
    let again = app.create_account(&input).await?;
    let index = app.sync_customers(None, false, &|_, _| {}).await?;
    out.narrate(format!(
        "   The customer index (`sync --only customer`): {} ERP customers listed.",
        index.listed
    ));
    let mut request = promoted.clone();
    request.account = again.id();
    request.customer_no = "NW1002".into();
    out.narrate(format!(
        "   The duplicate guard: another account, \"{}\", promoted as NW1002 ...",
        again.details().name()
    ));
    match app.promote(&request).await {
        Err(crm2sage_domain::services::PromoteError::PossibleDuplicate { candidates }) => {
            let listed: Vec<String> = candidates
                .iter()
                .map(|c| {
                    let reasons: Vec<&str> = c.reasons.iter().map(|r| r.as_str()).collect();
                    format!("{} \"{}\" ({})", c.external_uid, c.name, reasons.join(", "))
                })
                .collect();
            out.narrate(format!(
                "   ... is refused (possible_duplicate, exit 5): the ERP already has it as {}; nothing was created.",
                listed.join("; ")
            ));
            Ok(json!({
                "account_id": again.id().to_string(),
                "kind": "possible_duplicate",
                "candidates": crate::failure::candidates_json(&candidates),
            }))
        }
        Ok(_) => Err(Failure::internal(
            "the demo's duplicate was created: the duplicate guard did not see it",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Step 4's second half: two ship-to addresses (the first primary) and a primary contact,
/// added to the account and promoted under its new customer.
async fn demo_parties(
    out: &Out,
    app: &super::App,
    account: crm2sage_domain::AccountId,
) -> Result<super::party_promote::PartyReport, Failure> {
    out.narrate("   Then its two ship-to addresses (HQ the primary) and its primary contact:");
    for (code, name, line1, city, primary) in [
        ("HQ", "Head office", "100 Harbour Way", "Vancouver", true),
        ("WH2", "Warehouse 2", "2 Dock Rd", "Delta", false),
    ] {
        let mut address = AddressInput::new(line1, city, "CA");
        address.state = Some("BC".into());
        let mut ship_to = NewShipTo::new(code, name, address);
        ship_to.primary = primary;
        app.add_ship_to(account, &ship_to).await?;
    }
    let mut contact = NewContact::new("AP", "Ana Park");
    contact.title = Some("Accounts payable".into());
    contact.phone = Some("+1 604 555 0142".into());
    contact.email = Some("ana.park@northwind.example.com".into());
    contact.primary = true;
    app.add_contact(account, &contact).await?;
    let kinds = [PartyKind::ShipTo, PartyKind::Contact];
    let results = app.promote_parties(account, None, &kinds).await?;
    let report = super::party_promote::PartyReport::of(&kinds, &results);
    for line in &report.lines {
        out.narrate(format!("  {line}"));
    }
    match &report.first_failure {
        Some((kind, message)) => Err(Failure::new(report.class, kind, message.clone())),
        None => Ok(report),
    }
}
