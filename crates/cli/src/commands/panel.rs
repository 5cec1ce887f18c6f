//! The live customer panel as `erp-details` and `demo` show it: a text block, or the
//! `"panel"` object of `--json` (every amount an exact decimal string).

use crm2sage_domain::{
    AgingBucket, Amount, CreditCheck, CreditStatus, OpenDocument, Orders, Panel,
};
use serde_json::{Value, json};

use crate::output::Out;
use crate::render::terminal_safe;

fn money(a: Amount) -> Value {
    Value::String(a.to_string())
}

fn opt_money(a: Option<Amount>) -> Value {
    a.map_or(Value::Null, money)
}

fn date(d: Option<crm2sage_domain::Date>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.to_string()))
}

fn document_json(d: &OpenDocument) -> Value {
    json!({
        "number": d.number,
        "type": d.document_type.as_str(),
        "date": d.date.to_string(),
        "due_date": date(d.due_date),
        "amount": money(d.amount),
        "amount_due": money(d.amount_due),
    })
}

/// The issue's `"panel"` object.
pub(crate) fn panel_json(p: &Panel) -> Value {
    let f = &p.credit.figures;
    let aging = json!({
        "current": money(p.aging.current),
        "days_1_30": money(p.aging.days_1_30),
        "days_31_60": money(p.aging.days_31_60),
        "days_61_90": money(p.aging.days_61_90),
        "over_90": money(p.aging.over_90),
        "total": money(p.aging.total),
    });
    let orders = match &p.orders {
        Orders::Available(o) => Value::Array(
            o.latest
                .iter()
                .map(|o| {
                    json!({
                        "number": o.number,
                        "date": o.date.to_string(),
                        "expected_ship_date": date(o.expected_ship_date),
                        "total": money(o.total),
                    })
                })
                .collect(),
        ),
        _ => Value::String("not_available".into()),
    };
    json!({
        "as_of": p.as_of.to_string(),
        "currency": f.currency.as_ref().map(|c| c.as_str()),
        "balance": money(f.balance),
        "credit_limit": opt_money(f.credit_limit),
        "over_limit": opt_money(p.over_limit),
        "on_hold": f.on_hold,
        "aging": aging,
        "documents": p.documents.iter().map(document_json).collect::<Vec<_>>(),
        "orders": orders,
    })
}

/// The credit check as JSON: `{"status", "available" | "over_by", "balance", "credit_limit",
/// "on_hold", "currency"}`.
pub(crate) fn credit_json(c: &CreditCheck) -> Value {
    let mut v = json!({
        "status": c.status.as_str(),
        "currency": c.figures.currency.as_ref().map(|c| c.as_str()),
        "balance": money(c.figures.balance),
        "credit_limit": opt_money(c.figures.credit_limit),
        "on_hold": c.figures.on_hold,
    });
    match c.status {
        CreditStatus::WithinLimit { available } => v["available"] = money(available),
        CreditStatus::OverLimit { by } => v["over_by"] = money(by),
        _ => {}
    }
    v
}

fn credit_line(c: &CreditCheck, cur: &str) -> String {
    match c.status {
        CreditStatus::OnHold => "ON HOLD: orders should be blocked or referred".to_owned(),
        CreditStatus::NoLimit => "no credit limit".to_owned(),
        CreditStatus::WithinLimit { available } => {
            format!("within limit ({available}{cur} available)")
        }
        CreditStatus::OverLimit { by } => format!("OVER LIMIT by {by}{cur}"),
        _ => c.status.as_str().to_owned(),
    }
}

/// The panel as text, after the record. `status` is the customer's status as the record says.
pub(crate) fn show(out: &Out, p: &Panel, status: Option<&str>) {
    let f = &p.credit.figures;
    let cur = f
        .currency
        .as_ref()
        .map_or(String::new(), |c| format!(" {c}"));
    let with = |a: Amount| format!("{a}{cur}");
    out.line("");
    out.line(format!("Customer panel, as of {}:", p.as_of));
    let mut rows = Vec::new();
    if let Some(s) = status {
        rows.push(vec!["status".to_owned(), s.to_owned()]);
    }
    rows.push(vec![
        "on hold".into(),
        if f.on_hold { "yes" } else { "no" }.into(),
    ]);
    rows.push(vec![
        "credit limit".into(),
        f.credit_limit.map_or("none".to_owned(), with),
    ]);
    rows.push(vec!["balance".into(), with(f.balance)]);
    rows.push(vec![
        "over limit".into(),
        p.over_limit.map_or("-".to_owned(), with),
    ]);
    rows.push(vec!["credit status".into(), credit_line(&p.credit, &cur)]);
    out.table(&["field", "value"], rows);
    out.line("");
    out.line(format!("Aging of {} open documents:", p.document_count));
    let mut aging: Vec<Vec<String>> = AgingBucket::ALL
        .iter()
        .map(|b| vec![b.as_str().to_owned(), with(p.aging.bucket(*b))])
        .collect();
    aging.push(vec!["total".into(), with(p.aging.total)]);
    out.table(&["bucket", "amount due"], aging);
    out.line("");
    out.line(format!(
        "Last {} documents (latest first):",
        p.documents.len()
    ));
    let docs = p
        .documents
        .iter()
        .map(|d| {
            vec![
                terminal_safe(&d.number).into_owned(),
                d.document_type.to_string(),
                d.date.to_string(),
                d.due_date.map_or(String::new(), |d| d.to_string()),
                with(d.amount),
                with(d.amount_due),
            ]
        })
        .collect();
    out.table(
        &["number", "type", "date", "due date", "amount", "amount due"],
        docs,
    );
    out.line("");
    match &p.orders {
        Orders::Available(o) => {
            out.line(format!(
                "Open orders: {} (total {}):",
                o.count,
                with(o.total)
            ));
            let rows = o
                .latest
                .iter()
                .map(|o| {
                    vec![
                        terminal_safe(&o.number).into_owned(),
                        o.date.to_string(),
                        o.expected_ship_date
                            .map_or(String::new(), |d| d.to_string()),
                        with(o.total),
                    ]
                })
                .collect();
            out.table(&["number", "date", "expected ship", "total"], rows);
        }
        _ => out.line("Open orders: not available (the company has no order entry)"),
    }
}
