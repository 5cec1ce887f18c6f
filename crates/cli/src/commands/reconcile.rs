//! `crm2sage reconcile`: every binding checked live, streamed as checked (a table per chunk,
//! or one JSON array written an element at a time); exit 0 when all are ok.

use std::io::BufWriter;

use crm2sage_domain::services::{BindingStatus, ReconcileRow};
use serde_json::{Value, json};

use super::{CmdResult, Ctx};
use crate::cli::ReconcileArgs;
use crate::failure::{ExitClass, Failure};
use crate::listing::JsonArray;

const HEADER: &[&str] = &["ACCOUNT", "CUSTOMER", "ORIGIN", "STATUS", "DETAIL"];

/// Table rows buffered before printing.
const TABLE_ROWS: usize = 200;

pub(crate) async fn run(ctx: &Ctx<'_>, args: ReconcileArgs) -> CmdResult {
    let out = ctx.out;
    let mut json = out
        .json
        .then(|| JsonArray::new(BufWriter::new(std::io::stdout())));
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut printed = false;
    let mut broken = false;
    let mut on_row = |row: &ReconcileRow| {
        if broken {
            return;
        }
        match json.as_mut() {
            Some(array) => broken = array.push(&row_json(row)).is_err(),
            None => {
                table.push(vec![
                    row.binding.account.to_string(),
                    row.binding.external_uid.to_string(),
                    row.binding.origin.as_str().to_owned(),
                    row.status.as_str().to_owned(),
                    detail(row),
                ]);
                if table.len() >= TABLE_ROWS {
                    out.table(HEADER, std::mem::take(&mut table));
                    printed = true;
                }
            }
        }
    };
    let result = ctx
        .app
        .reconcile(args.integration.as_deref(), &mut on_row)
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
            if !table.is_empty() || !printed {
                out.table(HEADER, table);
            }
            out.note(format!(
                "{}: {} bindings checked, {} ok, {} not ok, {} unreadable",
                integration.name(),
                summary.checked,
                summary.ok,
                summary.checked - summary.ok - summary.unreadable,
                summary.unreadable
            ));
        }
    }
    let drifted = summary.checked - summary.ok - summary.unreadable;
    Ok(if summary.all_ok() {
        ExitClass::Ok
    } else if drifted > 0 {
        ExitClass::Conflict
    } else {
        ExitClass::Erp
    })
}

fn detail(row: &ReconcileRow) -> String {
    match &row.status {
        BindingStatus::Unreadable(e) => e.to_string(),
        BindingStatus::Missing => "the ERP has no such customer (deleted or renumbered)".into(),
        _ if !row.changed.is_empty() => format!("changed: {}", row.changed.join(", ")),
        _ => String::new(),
    }
}

fn row_json(row: &ReconcileRow) -> Value {
    let b = &row.binding;
    json!({
        "account_id": b.account.to_string(),
        "customer_no": b.customer_no.as_str(),
        "external_uid": b.external_uid.as_str(),
        "integration_key": b.integration_key.as_str(),
        "origin": b.origin.as_str(),
        "status": row.status.as_str(),
        "changed": row.changed,
        "error": match &row.status {
            BindingStatus::Unreadable(e) => Some(e.to_string()),
            _ => None,
        },
    })
}
