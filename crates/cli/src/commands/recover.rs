//! `crm2sage recover`: settle what a crash or an unknown ERP outcome left in flight.

use serde_json::json;

use crm2sage_domain::services::RecoverOptions;

use super::{CmdResult, Ctx};
use crate::cli::RecoverArgs;
use crate::failure::{ExitClass, Failure};

pub(crate) async fn run(ctx: &Ctx<'_>, args: &RecoverArgs) -> CmdResult {
    let options = RecoverOptions::with_concurrency(usize::from(args.concurrency));
    let report = ctx.app.recover_with(options).await.map_err(Failure::from)?;
    let class = report
        .unsettled_classes()
        .map(ExitClass::from)
        .max()
        .unwrap_or(ExitClass::Ok);
    let out = ctx.out;
    let counts = json!({
        "found": report.items.len(),
        "adopted": report.count("adopted"),
        "resumed": report.count("resumed"),
        "failed": report.count("failed"),
        "needs_review": report.count("needs_review"),
        "still_held": report.count("still_held"),
        "unsettled": report.count("unsettled"),
    });
    if out.json {
        out.json(&json!({
            "summary": counts,
            "promotions": report.items.iter().map(|i| json!({
                "promotion_id": i.promotion.to_string(),
                "account_id": i.account.to_string(),
                "integration": i.integration.as_ref().map(|n| n.as_str()),
                "customer_no": i.customer_no.as_str(),
                "party": i.party.as_ref().map(|p| json!({"kind": p.kind().as_str(), "code": p.as_str()})),
                "decision": i.decision.as_str(),
                "detail": i.decision.detail(),
            })).collect::<Vec<_>>(),
            "exit_code": class.code(),
        }));
        return Ok(class);
    }
    if report.items.is_empty() {
        out.line("Nothing to recover: no promotion is in flight.");
        return Ok(class);
    }
    out.table(
        &[
            "promotion",
            "account",
            "integration",
            "customer no",
            "ship-to / contact",
            "decision",
            "detail",
        ],
        report
            .items
            .iter()
            .map(|i| {
                vec![
                    i.promotion.to_string(),
                    i.account.to_string(),
                    i.integration
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    i.customer_no.to_string(),
                    i.party
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    i.decision.as_str().to_owned(),
                    i.decision.detail().unwrap_or("").to_owned(),
                ]
            })
            .collect(),
    );
    out.line(format!(
        "{} found: {} adopted, {} resumed, {} failed, {} need review, {} still held, {} unsettled.",
        report.items.len(),
        report.count("adopted"),
        report.count("resumed"),
        report.count("failed"),
        report.count("needs_review"),
        report.count("still_held"),
        report.count("unsettled")
    ));
    if report.count("still_held") > 0 {
        out.note("Some promotions are held by a running crm2sage; run recover again once it has finished.");
    }
    if report.count("unsettled") > 0 {
        out.note("The ERP could not settle some promotions; check the integration (`crm2sage integration test`) and run recover again.");
    }
    Ok(class)
}
