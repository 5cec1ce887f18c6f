//! `crm2sage promote ACCOUNT --customer-no NO ...`.

use crate::failure::ExitClass;
use crm2sage_domain::services::{DryRun, PromoteError, Promoted};
use crm2sage_domain::{AccountId, PartyKind, PromotionRequest};
use serde_json::{Value, json};

use super::{CmdResult, Ctx, account_id};
use crate::cli::PromoteArgs;

pub(crate) async fn run(ctx: &Ctx<'_>, args: PromoteArgs) -> CmdResult {
    if let Some(file) = &args.batch {
        return super::batch::run(ctx, file, &args).await;
    }
    let account = account_id(args.account.as_deref().unwrap_or_default())?;
    let request = request(account, &args);
    if request.dry_run {
        return dry_run(ctx, &request).await;
    }
    let kinds = args.party_kinds();
    if !kinds.is_empty() {
        return with_parties(ctx, &request, &kinds).await;
    }
    let promoted = ctx.app.promote(&request).await?;
    let out = ctx.out;
    if out.json {
        out.json(&promoted_json(request.account, &promoted));
    } else {
        out.line(format!(
            "Promoted account {} to {} as customer {}.",
            request.account,
            promoted.integration.name(),
            promoted.binding.customer_no
        ));
        out.line(format!(
            "  External UID:    {}",
            promoted.binding.external_uid
        ));
        out.line(format!(
            "  Integration key: {}",
            promoted.binding.integration_key
        ));
    }
    Ok(ExitClass::Ok)
}

/// `promote … --with-ship-tos --with-contacts`: the customer (or, when it is already
/// promoted there, its binding), then each party; the exit code is the worst outcome's.
async fn with_parties(ctx: &Ctx<'_>, request: &PromotionRequest, kinds: &[PartyKind]) -> CmdResult {
    let out = ctx.out;
    let (mut doc, integration) = match ctx.app.promote(request).await {
        Ok(promoted) => {
            if !out.json {
                out.line(format!(
                    "Promoted account {} to {} as customer {} (External UID {}, Integration key {}).",
                    request.account,
                    promoted.integration.name(),
                    promoted.binding.customer_no,
                    promoted.binding.external_uid,
                    promoted.binding.integration_key
                ));
            }
            let name = promoted.integration.name().to_string();
            (promoted_json(request.account, &promoted), name)
        }
        Err(PromoteError::AlreadyPromoted {
            account,
            integration,
            binding,
        }) => {
            if !out.json {
                out.line(format!(
                    "Account {account} is already promoted to {integration} as customer {}; promoting its {}.",
                    binding.customer_no,
                    kinds.iter().map(|k| format!("{}s", k.label())).collect::<Vec<_>>().join(" and ")
                ));
            }
            let doc = json!({
                "account_id": account.to_string(),
                "integration": integration.as_str(),
                "customer_no": binding.customer_no.as_str(),
                "external_uid": binding.external_uid.as_str(),
                "integration_key": binding.integration_key.as_str(),
                "state": "promoted",
                "already": true,
            });
            (doc, integration.to_string())
        }
        Err(e) => return Err(e.into()),
    };
    let (parties, class) =
        super::party_promote::promote_with(ctx, request.account, Some(&integration), kinds).await?;
    if let (Some(doc), Some(parties)) = (doc.as_object_mut(), parties.as_object()) {
        for (k, v) in parties {
            doc.insert(k.clone(), v.clone());
        }
    }
    if out.json {
        out.json(&doc);
    }
    Ok(class)
}

/// `promote --dry-run`: what would be sent, and to whom; nothing is written.
async fn dry_run(ctx: &Ctx<'_>, request: &PromotionRequest) -> CmdResult {
    let dry = ctx.app.promote_dry_run(request).await?;
    let out = ctx.out;
    if out.json {
        out.json(&dry_run_json(request.account, &dry));
    } else {
        out.line(format!(
            "Dry run: account {} would be promoted to {} as customer {}; nothing was written.",
            request.account,
            dry.integration.name(),
            dry.external_uid
        ));
        if !dry.duplicates.is_empty() {
            let listed: Vec<String> = dry
                .duplicates
                .iter()
                .map(|d| format!("{} \"{}\"", d.external_uid, d.name))
                .collect();
            out.line(format!(
                "  Possible duplicates (allowed): {}",
                crate::render::terminal_safe(&listed.join(", "))
            ));
        }
        out.line("  Payload:");
        for line in dry.payload.lines() {
            out.line(format!("    {}", crate::render::terminal_safe(line)));
        }
    }
    Ok(ExitClass::Ok)
}

pub(crate) fn dry_run_json(account: AccountId, dry: &DryRun) -> Value {
    json!({
        "account_id": account.to_string(),
        "integration": dry.integration.name().as_str(),
        "external_uid": dry.external_uid.as_str(),
        "dry_run": true,
        "payload": dry.payload,
        "possible_duplicates": crate::failure::candidates_json(&dry.duplicates),
    })
}

pub(crate) fn request(account: AccountId, args: &PromoteArgs) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, args.customer_no.clone().unwrap_or_default());
    r.integration = args.integration.clone();
    r.category = args.category.clone();
    r.tax_group = args.tax_group.clone();
    r.terms = args.terms.clone();
    r.division = args.division.clone();
    r.salesperson = args.salesperson.clone();
    r.ship_method = args.ship_method.clone();
    r.tax_schedule = args.tax_schedule.clone();
    r.allow_duplicate = args.allow_duplicate;
    r.dry_run = args.dry_run;
    r
}

pub(crate) fn promoted_json(account: AccountId, p: &Promoted) -> Value {
    json!({
        "account_id": account.to_string(),
        "integration": p.integration.name().as_str(),
        "customer_no": p.binding.customer_no.as_str(),
        "external_uid": p.binding.external_uid.as_str(),
        "integration_key": p.binding.integration_key.as_str(),
        "state": "promoted",
        "promotion_id": p.promotion.to_string(),
    })
}
