//! `crm2sage match [--apply] [--min-score S]`: candidates for every unbound account, streamed
//! as they are decided (a table per chunk, or one JSON array written an element at a time).

use std::io::BufWriter;

use crm2sage_domain::services::{MatchApplied, MatchRow};
use serde_json::{Value, json};

use super::{CmdResult, Ctx};
use crate::cli::MatchArgs;
use crate::failure::{ExitClass, Failure, candidates_json};
use crate::listing::JsonArray;
use crate::render::terminal_safe;

const HEADER: &[&str] = &[
    "ACCOUNT", "NAME", "CUSTOMER", "ERP NAME", "SCORE", "REASONS", "APPLIED",
];

/// Table rows buffered before printing.
const TABLE_ROWS: usize = 200;

pub(crate) async fn run(ctx: &Ctx<'_>, args: MatchArgs) -> CmdResult {
    let out = ctx.out;
    let mut json = out
        .json
        .then(|| JsonArray::new(BufWriter::new(std::io::stdout())));
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut printed_table = false;
    let mut broken = false;
    let all = args.all;
    let mut on_row = |row: &MatchRow| {
        if broken || (!all && row.candidates.is_empty()) {
            return;
        }
        match json.as_mut() {
            Some(array) => broken = array.push(&row_json(row)).is_err(),
            None => {
                table.extend(rows(row));
                if table.len() >= TABLE_ROWS {
                    out.table(HEADER, std::mem::take(&mut table));
                    printed_table = true;
                }
            }
        }
    };
    let result = ctx
        .app
        .match_accounts(
            args.integration.as_deref(),
            args.min_score,
            args.apply,
            &mut on_row,
        )
        .await;
    let (integration, summary) = match result {
        Ok(done) => done,
        Err(e) => {
            if let Some(array) = json {
                drop(array.finish());
            }
            return Err(Failure::from(e));
        }
    };
    match json {
        Some(array) => drop(array.finish()),
        None => {
            if !table.is_empty() || !printed_table {
                out.table(HEADER, table);
            }
            let mut line = format!(
                "{}: {} unbound accounts, {} with candidates",
                integration.name(),
                summary.accounts,
                summary.with_candidates
            );
            if args.apply {
                line.push_str(&format!(
                    "; linked {}, ambiguous {}, failed {}",
                    summary.linked, summary.ambiguous, summary.failed
                ));
            }
            out.note(line);
        }
    }
    Ok(if summary.failed > 0 {
        ExitClass::Conflict
    } else {
        ExitClass::Ok
    })
}

fn applied(row: &MatchRow) -> (&'static str, Option<String>) {
    match &row.applied {
        None => ("", None),
        Some(MatchApplied::Linked(_)) => ("linked", None),
        Some(MatchApplied::Ambiguous) => ("ambiguous", None),
        Some(MatchApplied::Failed(e)) => ("failed", Some(e.to_string())),
        Some(_) => ("", None),
    }
}

fn row_json(row: &MatchRow) -> Value {
    let (applied, error) = applied(row);
    json!({
        "account_id": row.account.to_string(),
        "name": row.account_name,
        "candidates": candidates_json(&row.candidates),
        "applied": (!applied.is_empty()).then_some(applied),
        "error": error,
    })
}

fn rows(row: &MatchRow) -> Vec<Vec<String>> {
    let (applied, error) = applied(row);
    let applied = match error {
        Some(e) => format!("{applied}: {e}"),
        None => applied.to_owned(),
    };
    if row.candidates.is_empty() {
        return vec![vec![
            row.account.to_string(),
            terminal_safe(&row.account_name).into_owned(),
            "-".into(),
            String::new(),
            String::new(),
            String::new(),
            applied,
        ]];
    }
    row.candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let reasons: Vec<&str> = c.reasons.iter().map(|r| r.as_str()).collect();
            vec![
                if i == 0 {
                    row.account.to_string()
                } else {
                    String::new()
                },
                if i == 0 {
                    terminal_safe(&row.account_name).into_owned()
                } else {
                    String::new()
                },
                c.external_uid.to_string(),
                terminal_safe(&c.name).into_owned(),
                format!("{:.2}", c.score),
                reasons.join(","),
                if i == 0 {
                    applied.clone()
                } else {
                    String::new()
                },
            ]
        })
        .collect()
}
