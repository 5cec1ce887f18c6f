//! `crm2sage sync`: every kind, a progress bar each, then a summary. Ctrl-C stops it: the run
//! of the kind being synced is closed as failed (its previous data unchanged), the summary says
//! so, and the process exits [`INTERRUPTED_EXIT`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Waker};

use crate::failure::ExitClass;
use crm2sage_domain::services::{KindReport, SyncProgress};
use crm2sage_domain::{ReferenceKind, SyncOutcome};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;

use super::{CmdResult, Ctx};
use crate::cli::SyncArgs;
use crate::failure::Failure;

pub(crate) async fn run(ctx: &Ctx<'_>, args: SyncArgs) -> CmdResult {
    let is_customer = |k: &str| k.trim().eq_ignore_ascii_case("customer");
    let customers = args.only.iter().any(|k| is_customer(k));
    if args.full && !customers {
        return Err(Failure::invalid(
            "full",
            "applies to the customer index only: add `--only customer`",
        ));
    }
    let only: Vec<ReferenceKind> = args
        .only
        .iter()
        .filter(|k| !k.trim().is_empty() && !is_customer(k))
        .map(|k| {
            k.parse::<ReferenceKind>()
                .map_err(|e| Failure::invalid("only", e))
        })
        .collect::<Result<_, _>>()?;
    let mut doc = None;
    let mut class = ExitClass::Ok;
    if !customers || !only.is_empty() {
        let (name, reports, kinds_class) = reference(ctx, &args, &only).await?;
        class = kinds_class;
        let value = render(ctx, &name, &reports, class);
        if interrupted() {
            if let Some(value) = value {
                ctx.out.json(&value);
            }
            return Ok(class);
        }
        doc = value;
    }
    if customers {
        let (value, customer_class) =
            super::sync_customers::run(ctx, args.integration.as_deref(), args.full).await?;
        class = class.max(customer_class);
        doc = match (doc, value) {
            (Some(mut d), Some(v)) => {
                if let Some(map) = d.as_object_mut() {
                    map.insert("customers".into(), v);
                    map.insert("exit_code".into(), class.code().into());
                }
                Some(d)
            }
            (None, v) => v,
            (d, None) => d,
        };
    }
    if let Some(doc) = doc {
        ctx.out.json(&doc);
    }
    Ok(class)
}

/// The reference kinds' sync, with its progress bars and Ctrl-C handling.
async fn reference(
    ctx: &Ctx<'_>,
    args: &SyncArgs,
    only: &[ReferenceKind],
) -> Result<(String, Vec<KindReport>, ExitClass), Failure> {
    let bars = Bars::new(ctx.out.progress_allowed());
    let progress = |p: SyncProgress| bars.update(p);
    // Poll once now, which installs the handler: from here on a Ctrl-C stops the sync cleanly
    // instead of killing the process.
    let mut ctrl_c = pin!(tokio::signal::ctrl_c());
    let _ = ctrl_c
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    let until = async move {
        match ctrl_c.await {
            Ok(()) => INTERRUPTED.store(true, Ordering::SeqCst),
            // No handler: nothing can interrupt.
            Err(_) => std::future::pending().await,
        }
    };
    let (integration, reports) = ctx
        .app
        .sync_until(
            args.integration.as_deref(),
            (!only.is_empty()).then_some(only),
            &progress,
            until,
        )
        .await?;
    bars.finish();
    let class = reports
        .iter()
        .map(|r| ExitClass::of(r.class))
        .max()
        .unwrap_or(ExitClass::Ok);
    Ok((integration.name().to_string(), reports, class))
}

/// The exit code of a sync stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED_EXIT: u8 = 130;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether a Ctrl-C stopped the sync of this process.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Prints the human summary, or returns the JSON document (for the caller to print, with the
/// customer index's part when there is one).
pub(crate) fn render(
    ctx: &Ctx<'_>,
    integration: &str,
    reports: &[KindReport],
    class: ExitClass,
) -> Option<serde_json::Value> {
    let out = ctx.out;
    if out.json {
        return Some(json!({
            "integration": integration,
            "kinds": reports.iter().map(|r| json!({
                "kind": r.kind.as_str(),
                "outcome": r.outcome.as_str(),
                "added": r.counts.added,
                "updated": r.counts.updated,
                "deactivated": r.counts.deactivated,
                "total": r.counts.total,
                "error": r.error,
                "exit_code": ExitClass::of(r.class).code(),
            })).collect::<Vec<_>>(),
            "interrupted": interrupted(),
            "exit_code": if interrupted() { INTERRUPTED_EXIT } else { class.code() },
        }));
    }
    let rows = reports
        .iter()
        .map(|r| {
            vec![
                r.kind.to_string(),
                r.outcome.to_string(),
                r.counts.added.to_string(),
                r.counts.updated.to_string(),
                r.counts.deactivated.to_string(),
                r.counts.total.to_string(),
                r.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.line(format!("Sync of {integration}:"));
    out.table(
        &[
            "kind",
            "outcome",
            "added",
            "updated",
            "deactivated",
            "total",
            "note",
        ],
        rows,
    );
    if interrupted() {
        out.note(
            "Interrupted: the kind being synced was stopped and its run closed as failed; its \
             previous data is unchanged. Kinds not listed were not synced. Run `crm2sage sync` \
             again to finish.",
        );
    } else if reports.iter().any(|r| r.outcome == SyncOutcome::Failed) {
        out.note("Some kinds failed; their previous data is unchanged. Fix the cause and run `crm2sage sync` again.");
    }
    None
}

/// One progress bar per kind, on a terminal only.
struct Bars {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<ReferenceKind, ProgressBar>>,
}

impl Bars {
    fn new(enabled: bool) -> Self {
        Self {
            multi: enabled.then(MultiProgress::new),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn update(&self, p: SyncProgress) {
        let Some(multi) = &self.multi else { return };
        let mut bars = self
            .bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match p {
            SyncProgress::Started(kind) => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(kind.to_string());
                bars.insert(kind, bar);
            }
            SyncProgress::Page {
                kind,
                records,
                total,
            } => {
                if let Some(bar) = bars.get(&kind) {
                    if let Some(total) = total {
                        bar.set_length(total);
                    }
                    bar.set_position(records);
                }
            }
            SyncProgress::Finished(kind, outcome) => {
                if let Some(bar) = bars.get(&kind) {
                    bar.finish_with_message(outcome.to_string());
                }
            }
            // Progress this CLI does not draw yet.
            _ => {}
        }
    }

    fn finish(&self) {
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}
