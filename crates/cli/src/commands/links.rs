//! `crm2sage link ACCOUNT --customer-no NO` and `crm2sage unlink ACCOUNT`.

use crm2sage_domain::services::CrmIdWrite;
use serde_json::json;

use super::{CmdResult, Ctx, account_id};
use crate::cli::{LinkArgs, UnlinkArgs};
use crate::failure::ExitClass;

pub(crate) async fn link(ctx: &Ctx<'_>, args: LinkArgs) -> CmdResult {
    let account = account_id(&args.account)?;
    let linked = ctx
        .app
        .link(account, &args.customer_no, args.integration.as_deref())
        .await?;
    let b = &linked.binding;
    let (crm_id, class) = match &linked.crm_id {
        CrmIdWrite::Failed(e) => (Some(e.to_string()), ExitClass::Erp),
        _ => (None, ExitClass::Ok),
    };
    let out = ctx.out;
    if out.json {
        out.json(&json!({
            "account_id": account.to_string(),
            "integration": linked.integration.name().as_str(),
            "customer_no": b.customer_no.as_str(),
            "external_uid": b.external_uid.as_str(),
            "integration_key": b.integration_key.as_str(),
            "origin": b.origin.as_str(),
            "already": linked.already,
            "crm_id": linked.crm_id.as_str(),
            "crm_id_error": crm_id,
        }));
    } else {
        let verb = if linked.already {
            "was already linked"
        } else {
            "linked"
        };
        out.line(format!(
            "Account {account} {verb} to {} customer {} (External UID {}, Integration key {}).",
            linked.integration.name(),
            b.customer_no,
            b.external_uid,
            b.integration_key
        ));
        match &linked.crm_id {
            CrmIdWrite::Written => out.line("  The account id was written into the customer's CRM-id field."),
            CrmIdWrite::AlreadySet => out.line("  The customer's CRM-id field already holds the account id."),
            CrmIdWrite::Failed(e) => out.note(format!(
                "the binding is written, but the account id could not be written into the ERP customer's CRM-id field: {e}; run the same `crm2sage link` again to retry it"
            )),
            _ => {}
        }
    }
    Ok(class)
}

pub(crate) async fn unlink(ctx: &Ctx<'_>, args: UnlinkArgs) -> CmdResult {
    let account = account_id(&args.account)?;
    let (integration, b) = ctx.app.unlink(account, args.integration.as_deref()).await?;
    let out = ctx.out;
    if out.json {
        out.json(&json!({
            "account_id": account.to_string(),
            "integration": integration.name().as_str(),
            "unlinked": {
                "customer_no": b.customer_no.as_str(),
                "external_uid": b.external_uid.as_str(),
                "integration_key": b.integration_key.as_str(),
                "origin": b.origin.as_str(),
            },
        }));
    } else {
        out.line(format!(
            "Account {account} is no longer bound to {} customer {}; the ERP customer was not touched.",
            integration.name(),
            b.external_uid
        ));
    }
    Ok(ExitClass::Ok)
}
