//! `crm2sage log [ACCOUNT]`: the promotion log.

use crate::failure::ExitClass;
use serde_json::Value;

use super::{CmdResult, Ctx, account_id, integration_names};
use crate::render;

pub(crate) async fn run(ctx: &Ctx<'_>, account: Option<String>) -> CmdResult {
    let account = account.as_deref().map(account_id).transpose()?;
    let store = ctx.app.store();
    let entries = store.log(account).await?;
    let names = integration_names(store.as_ref()).await?;
    let name = |e: &crm2sage_domain::ports::LogEntry| {
        e.integration
            .and_then(|i| names.get(&i).map(String::as_str))
    };
    let out = ctx.out;
    if out.json {
        out.json(&Value::Array(
            entries
                .iter()
                .map(|e| render::log_entry(e, name(e)))
                .collect(),
        ));
    } else {
        let rows = entries
            .iter()
            .map(|e| {
                vec![
                    render::when(e.at),
                    e.account.to_string(),
                    name(e).unwrap_or("").to_owned(),
                    e.event.as_str().to_owned(),
                    e.request.clone(),
                    e.message.clone().unwrap_or_default(),
                    e.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default(),
                ]
            })
            .collect();
        out.table(
            &[
                "at",
                "account",
                "integration",
                "event",
                "request",
                "message",
                "took",
            ],
            rows,
        );
    }
    Ok(ExitClass::Ok)
}
