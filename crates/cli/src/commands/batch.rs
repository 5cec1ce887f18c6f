//! `crm2sage promote --batch FILE.csv [--concurrency N]`.

use std::path::Path;

use crate::failure::ExitClass;
use crm2sage_domain::services::{BatchEvent, CancelFlag, RowOutcome};
use crm2sage_domain::{AccountId, AccountRef, PromotionRequest};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::{CmdResult, Ctx};
use crate::cli::PromoteArgs;
use crate::csvfile::{self, Row};
use crate::failure::Failure;

/// The columns of a batch file (docs/cli.md).
pub(crate) const COLUMNS: &[&str] = &[
    "account",
    "account_ref",
    "customer_no",
    "integration",
    "category",
    "tax_group",
    "terms",
    "division",
    "salesperson",
    "ship_method",
    "tax_schedule",
];

/// A row ready to run, or why it cannot.
enum Prepared {
    Ready(PromotionRequest),
    Refused(Failure),
}

pub(crate) async fn run(ctx: &Ctx<'_>, file: &Path, args: &PromoteArgs) -> CmdResult {
    let rows = csvfile::read(file, COLUMNS, &["customer_no"])?;
    let mut prepared = Vec::with_capacity(rows.len());
    for row in &rows {
        prepared.push(prepare(ctx, row, args).await?);
    }
    let requests: Vec<PromotionRequest> = prepared
        .iter()
        .filter_map(|p| match p {
            Prepared::Ready(r) => Some(r.clone()),
            Prepared::Refused(_) => None,
        })
        .collect();

    let bar = ctx.out.progress_allowed().then(|| {
        let bar = ProgressBar::new(requests.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("promoting {bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let cancel = CancelFlag::new();
    let on_ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let on_event = |e: BatchEvent<'_>| {
        if let Some(bar) = &bar {
            bar.set_position(e.settled as u64);
            if !matches!(e.row.outcome, RowOutcome::Promoted(_)) {
                bar.set_message("(some rows failed)");
            }
        }
    };
    let mut outcomes = ctx
        .app
        .promote_batch(requests, usize::from(args.concurrency), &cancel, &on_event)
        .await
        .into_iter();
    on_ctrl_c.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    // Back to file order: refused rows in place, the rest as the batch settled them.
    let mut report = Vec::with_capacity(rows.len());
    for (row, p) in rows.iter().zip(prepared) {
        let entry = match p {
            Prepared::Refused(f) => RowReport {
                line: row.line,
                account: row.get("account").or_else(|| row.get("account_ref")),
                customer_no: row.text("customer_no"),
                result: Err(f),
            },
            Prepared::Ready(_) => match outcomes.next() {
                Some(o) => {
                    let account = Some(o.request.account.to_string());
                    let customer_no = o.request.customer_no.clone();
                    let result = match o.outcome {
                        RowOutcome::Promoted(p) => {
                            Ok(Some(super::promote::promoted_json(o.request.account, &p)))
                        }
                        RowOutcome::Failed(e) => Err(Failure::from(e)),
                        RowOutcome::NotAttempted => Ok(None),
                        _ => Err(Failure::internal(
                            "a row ended in a way this CLI does not know",
                        )),
                    };
                    RowReport {
                        line: row.line,
                        account,
                        customer_no,
                        result,
                    }
                }
                None => RowReport {
                    line: row.line,
                    account: None,
                    customer_no: row.text("customer_no"),
                    result: Err(Failure::internal("the batch lost a row")),
                },
            },
        };
        report.push(entry);
    }
    let class = report
        .iter()
        .map(RowReport::class)
        .max()
        .unwrap_or(ExitClass::Ok);
    render(ctx, &report, class);
    Ok(class)
}

async fn prepare(ctx: &Ctx<'_>, row: &Row, args: &PromoteArgs) -> Result<Prepared, Failure> {
    let account = match (row.get("account"), row.get("account_ref")) {
        (Some(id), None) => match AccountId::parse(&id) {
            Ok(id) => id,
            Err(e) => return Ok(Prepared::Refused(Failure::invalid("account", e))),
        },
        (None, Some(reference)) => {
            let reference = match AccountRef::parse(&reference) {
                Ok(r) => r,
                Err(e) => return Ok(Prepared::Refused(Failure::invalid("account_ref", e))),
            };
            match ctx.app.store().account_by_reference(&reference).await? {
                Some(account) => account.id(),
                None => {
                    return Ok(Prepared::Refused(Failure::new(
                        ExitClass::NotFound,
                        "account_not_found",
                        format!(
                            "no account has the reference `{reference}`; import it first with `crm2sage account import`"
                        ),
                    )));
                }
            }
        }
        (Some(_), Some(_)) => {
            return Ok(Prepared::Refused(Failure::invalid(
                "account",
                "give either account or account_ref, not both",
            )));
        }
        (None, None) => {
            return Ok(Prepared::Refused(Failure::invalid(
                "account",
                "is required (an account id, or account_ref)",
            )));
        }
    };
    let pick = |column: &str, default: &Option<String>| row.get(column).or_else(|| default.clone());
    let mut request = PromotionRequest::new(account, row.text("customer_no"));
    request.integration = pick("integration", &args.integration);
    request.category = pick("category", &args.category);
    request.tax_group = pick("tax_group", &args.tax_group);
    request.terms = pick("terms", &args.terms);
    request.division = pick("division", &args.division);
    request.salesperson = pick("salesperson", &args.salesperson);
    request.ship_method = pick("ship_method", &args.ship_method);
    request.tax_schedule = pick("tax_schedule", &args.tax_schedule);
    Ok(Prepared::Ready(request))
}

struct RowReport {
    line: u64,
    account: Option<String>,
    customer_no: String,
    /// `Ok(Some)` promoted, `Ok(None)` not attempted, `Err` failed.
    result: Result<Option<Value>, Failure>,
}

impl RowReport {
    fn class(&self) -> ExitClass {
        match &self.result {
            Ok(Some(_)) => ExitClass::Ok,
            Ok(None) => ExitClass::Conflict,
            Err(f) => f.class,
        }
    }

    fn outcome(&self) -> &'static str {
        match &self.result {
            Ok(Some(_)) => "promoted",
            Ok(None) => "not_attempted",
            Err(_) => "failed",
        }
    }
}

fn render(ctx: &Ctx<'_>, report: &[RowReport], class: ExitClass) {
    let out = ctx.out;
    let count = |o: &str| report.iter().filter(|r| r.outcome() == o).count();
    if out.json {
        out.json(&json!({
            "summary": {
                "total": report.len(),
                "promoted": count("promoted"),
                "failed": count("failed"),
                "not_attempted": count("not_attempted"),
            },
            "rows": report.iter().map(|r| {
                let mut row = json!({
                    "line": r.line,
                    "account_id": r.account,
                    "customer_no": r.customer_no,
                    "outcome": r.outcome(),
                    "exit_code": r.class().code(),
                });
                match &r.result {
                    Ok(Some(promoted)) => {
                        for key in ["account_id", "integration", "customer_no", "external_uid", "integration_key", "promotion_id"] {
                            row[key] = promoted[key].clone();
                        }
                    }
                    Ok(None) => {}
                    Err(f) => row["error"] = f.to_json()["error"].clone(),
                }
                row
            }).collect::<Vec<_>>(),
            "exit_code": class.code(),
        }));
        return;
    }
    out.table(
        &["line", "account", "customer no", "outcome", "detail"],
        report
            .iter()
            .map(|r| {
                let detail = match &r.result {
                    Ok(Some(p)) => format!(
                        "External UID {}, Integration key {}",
                        p["external_uid"].as_str().unwrap_or(""),
                        p["integration_key"].as_str().unwrap_or("")
                    ),
                    Ok(None) => "not attempted (cancelled); run the batch again".to_owned(),
                    Err(f) => f.message.clone(),
                };
                vec![
                    r.line.to_string(),
                    r.account.clone().unwrap_or_default(),
                    r.customer_no.clone(),
                    r.outcome().to_owned(),
                    detail,
                ]
            })
            .collect(),
    );
    out.line(format!(
        "{} rows: {} promoted, {} failed, {} not attempted.",
        report.len(),
        count("promoted"),
        count("failed"),
        count("not_attempted")
    ));
}
