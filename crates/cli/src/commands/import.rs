//! `crm2sage account import FILE.csv`.

use std::path::Path;

use crate::failure::ExitClass;
use crm2sage_domain::{AddressInput, NewAccount};
use serde_json::json;

use super::{CmdResult, Ctx};
use crate::csvfile;

/// The columns of an accounts file (docs/cli.md).
pub(crate) const COLUMNS: &[&str] = &[
    "reference",
    "name",
    "line1",
    "line2",
    "line3",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
    "email",
    "website",
    "currency",
    "language",
    "terms",
];
const REQUIRED: &[&str] = &["name", "line1", "city", "country"];

pub(crate) async fn run(
    ctx: &Ctx<'_>,
    file: &Path,
    _report: Option<&crate::report::ReportPath>,
) -> CmdResult {
    let rows = csvfile::read(file, COLUMNS, REQUIRED)?;
    let inputs: Vec<NewAccount> = rows
        .iter()
        .map(|r| {
            let mut new_account = NewAccount::new(r.text("name"), {
                let mut address =
                    AddressInput::new(r.text("line1"), r.text("city"), r.text("country"));
                address.line2 = r.get("line2");
                address.line3 = r.get("line3");
                address.state = r.get("state");
                address.postal_code = r.get("postal_code");
                address
            });
            new_account.phone = r.get("phone");
            new_account.email = r.get("email");
            new_account.website = r.get("website");
            new_account.currency = r.get("currency");
            new_account.language = r.get("language");
            new_account.terms = r.get("terms");
            new_account.reference = r.get("reference");
            new_account
        })
        .collect();
    let results = ctx.app.import_accounts(&inputs).await?;
    let imported = results.iter().filter(|r| r.is_ok()).count();
    let rejected = results.len() - imported;
    let class = if rejected == 0 {
        ExitClass::Ok
    } else {
        ExitClass::Invalid
    };
    let out = ctx.out;
    if out.json {
        out.json(&json!({
            "imported": imported,
            "rejected": rejected,
            "rows": rows.iter().zip(&results).map(|(row, result)| match result {
                Ok(account) => json!({
                    "line": row.line,
                    "id": account.id().to_string(),
                    "reference": account.details().reference().map(|r| r.as_str()),
                    "errors": [],
                }),
                Err(fields) => json!({
                    "line": row.line,
                    "id": null,
                    "reference": row.get("reference"),
                    "errors": fields.fields().iter().map(|f| json!({"field": f.field(), "rule": f.rule()})).collect::<Vec<_>>(),
                }),
            }).collect::<Vec<_>>(),
            "exit_code": class.code(),
        }));
        return Ok(class);
    }
    out.table(
        &["line", "reference", "result"],
        rows.iter()
            .zip(&results)
            .map(|(row, result)| {
                let outcome = match result {
                    Ok(account) => format!("imported as {}", account.id()),
                    Err(fields) => format!("rejected: {fields}"),
                };
                vec![
                    row.line.to_string(),
                    row.get("reference").unwrap_or_default(),
                    outcome,
                ]
            })
            .collect(),
    );
    out.line(format!("{imported} imported, {rejected} rejected."));
    if rejected > 0 {
        out.note("Fix the rejected rows and import just those again; the imported ones are saved.");
    }
    Ok(class)
}
