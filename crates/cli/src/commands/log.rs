//! `crm2sage log [ACCOUNT]`: the promotion log, read and printed a page at a time.

use crate::failure::ExitClass;
use crm2sage_domain::ports::{LogEntry, LogPosition};

use super::{CmdResult, Ctx, account_id, integration_names};
use crate::cli::LogArgs;
use crate::listing::{self, Render};
use crate::render;

pub(crate) async fn run(ctx: &Ctx<'_>, args: LogArgs) -> CmdResult {
    let account = args.account.as_deref().map(account_id).transpose()?;
    let store = ctx.app.store();
    let names = integration_names(store.as_ref()).await?;
    let name = |e: &LogEntry| {
        e.integration
            .and_then(|i| names.get(&i).map(String::as_str))
    };
    let json = |(_, e): &(LogPosition, LogEntry)| render::log_entry(e, name(e));
    let row = |(at, e): &(LogPosition, LogEntry)| {
        vec![
            at.to_string(),
            render::when(e.at),
            e.account.to_string(),
            name(e).unwrap_or("").to_owned(),
            e.event.as_str().to_owned(),
            e.request.clone(),
            e.message.clone().unwrap_or_default(),
            e.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default(),
        ]
    };
    let render = Render {
        header: &[
            "#",
            "at",
            "account",
            "integration",
            "event",
            "request",
            "message",
            "took",
        ],
        json: &json,
        row: &row,
    };
    let more = listing::stream(
        ctx.out,
        args.limit,
        args.after.map(LogPosition::new),
        |(at, _): &(LogPosition, LogEntry)| *at,
        |after, limit| async move { Ok(store.log_page(account, after, limit).await?) },
        &render,
    )
    .await?;
    listing::note_more(ctx.out, more);
    Ok(ExitClass::Ok)
}
