//! `crm2sage sync --only customer [--full]`: the ERP's customer list into the local customer
//! index, with a progress bar on a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::Ctx;
use crate::failure::{ExitClass, Failure};

/// Syncs the index; prints the human summary, or returns the JSON part for the caller's one
/// document.
pub(crate) async fn run(
    ctx: &Ctx<'_>,
    integration: Option<&str>,
    full: bool,
) -> Result<(Option<Value>, ExitClass), Failure> {
    let out = ctx.out;
    let bar = out.progress_allowed().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix("customer");
        bar
    });
    let progress = |listed: u64, total: Option<u64>| {
        if let Some(bar) = &bar {
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(listed);
        }
    };
    let result = ctx.app.sync_customers(integration, full, &progress).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = result?;
    let since = report.since.map(|d| d.to_string());
    if out.json {
        return Ok((
            Some(json!({
                "integration": report.integration.name().as_str(),
                "full": report.full,
                "since": since,
                "listed": report.listed,
                "indexed": report.state.customers,
            })),
            ExitClass::Ok,
        ));
    }
    let how = match &since {
        Some(day) => format!("customers maintained since {day}"),
        None => "every customer (full)".to_owned(),
    };
    out.line(format!(
        "Customer index of {}: listed {} ({how}); {} customers indexed.",
        report.integration.name(),
        report.listed,
        report.state.customers
    ));
    Ok((None, ExitClass::Ok))
}
