//! `crm2sage promote --batch FILE.csv [--concurrency N] [--report FILE] [--with-ship-tos]
//! [--with-contacts]`.
//!
//! The file is read one row at a time, as the batch has room: at most `--concurrency` rows are
//! under way and nothing holds every row or every outcome, so memory stays flat at any size.
//! Each outcome goes to the report file, the `--json` document or (a failure) a line on stdout
//! as it settles; the progress bar follows the bytes read of the file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crm2sage_domain::services::{
    BatchEvent, BatchOutcome, BatchSummary, CancelFlag, RecoverDecision, RowOutcome, run_batch,
};
use crm2sage_domain::{AccountId, AccountRef, PromotionRequest};
use futures_util::StreamExt as _;
use serde_json::{Map, Value, json};

use super::party_promote::PartyReport;
use super::{CmdResult, Ctx};
use crate::cli::PromoteArgs;
use crate::csvfile::{CsvReader, Read, Row};
use crate::failure::{ExitClass, Failure};
use crate::report::{RowLine, Sink, file_size};

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

/// A row the CLI itself refused (an unknown account reference, a malformed id).
struct Refused {
    line: u64,
    reference: Option<String>,
    customer_no: String,
    failure: Failure,
}

/// What the run shares between the file's reader and the batch's callback.
struct Shared {
    sink: Sink,
    /// Line and reference of each row under way, by its index in the batch (bounded by the
    /// rows under way).
    pending: HashMap<u64, (u64, String)>,
    /// The worst exit class so far.
    class: ExitClass,
    /// Rows refused before they could run.
    refused: u64,
    /// A report write that failed (the run stops).
    broken: Option<Failure>,
}

impl Shared {
    fn row(
        &mut self,
        line: &RowLine<'_>,
        bytes: u64,
        class: ExitClass,
        json: impl FnOnce() -> Value,
    ) {
        self.class = self.class.max(class);
        if self.broken.is_none()
            && let Err(e) = self.sink.row(line, bytes, json)
        {
            self.broken = Some(e);
        }
    }

    fn refuse(&mut self, r: Refused, bytes: u64) {
        self.refused += 1;
        let message = r.failure.message.clone();
        let line = RowLine {
            line: r.line,
            reference: r.reference.as_deref(),
            outcome: "failed",
            error_kind: Some(r.failure.kind),
            message: Some(&message),
        };
        let class = r.failure.class;
        self.row(&line, bytes, class, || {
            json!({
                "line": r.line,
                "reference": r.reference,
                "account_id": Value::Null,
                "customer_no": r.customer_no,
                "outcome": "failed",
                "exit_code": class.code(),
                "error": r.failure.to_json()["error"],
            })
        });
    }
}

pub(crate) async fn run(ctx: &Ctx<'_>, file: &Path, args: &PromoteArgs) -> CmdResult {
    let reader = CsvReader::open(file, COLUMNS, &["customer_no"], Some("account_ref"))?;
    let sink = Sink::start(ctx.out, "promoting", file_size(file), args.report.as_ref())?;
    let shared = Mutex::new(Shared {
        sink,
        pending: HashMap::new(),
        class: ExitClass::Ok,
        refused: 0,
        broken: None,
    });
    let bytes = AtomicU64::new(0);
    let fatal: Mutex<Option<Failure>> = Mutex::new(None);
    let cancel = CancelFlag::new();
    let on_ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };

    // The source: the file's next runnable row, reporting refused ones on the way.
    let mut next_index = 0_u64;
    let source = futures_util::stream::unfold(reader, |mut reader| {
        let (shared, bytes, fatal, cancel) = (&shared, &bytes, &fatal, &cancel);
        async move {
            let next = next_request(ctx, &mut reader, args, shared, bytes, fatal, cancel).await;
            next.map(|row| (row, reader))
        }
    })
    .filter_map(std::future::ready)
    .map(|(line, reference, request)| {
        lock(&shared).pending.insert(next_index, (line, reference));
        next_index += 1;
        request
    });
    // `--with-ship-tos` / `--with-contacts`: each promoted row's parties, held by account until
    // its row settles (bounded by the rows under way).
    let kinds = args.party_kinds();
    let parties: Mutex<HashMap<AccountId, PartyReport>> = Mutex::new(HashMap::new());
    let mut on_event = |e: BatchEvent<'_>| {
        let report = lock(&parties).remove(&e.row.request.account);
        settled(&shared, e.row, bytes.load(Ordering::Relaxed), report);
    };
    let summary = run_batch(
        Box::pin(source),
        usize::from(args.concurrency),
        &cancel,
        &mut on_event,
        |request| {
            let (kinds, parties) = (&kinds, &parties);
            async move {
                let outcome = ctx.app.promote_row(&request).await;
                if !kinds.is_empty() && outcome.binding().is_some() {
                    let report = match ctx
                        .app
                        .promote_parties(request.account, request.integration.as_deref(), kinds)
                        .await
                    {
                        Ok(results) => PartyReport::of(kinds, &results),
                        Err(e) => PartyReport::failed(kinds, &e),
                    };
                    lock(parties).insert(request.account, report);
                }
                outcome
            }
        },
    )
    .await;
    on_ctrl_c.abort();

    let shared = shared
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fatal = fatal
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let failure = fatal.or(shared.broken);
    let mut class = shared.class;
    if summary.cancelled && failure.is_none() {
        class = class.max(ExitClass::Conflict);
    }
    let (tail, human) = summarise(&summary, shared.refused, class);
    match failure {
        Some(failure) => shared.sink.fail(failure, tail, &human),
        None => {
            shared.sink.finish(tail, class, &human)?;
            Ok(class)
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The next row of the file: `Some(Some(row))` to run, `Some(None)` a row refused (reported
/// here), `None` at the end (or after a fatal read error, kept in `fatal`, or a cancel).
async fn next_request(
    ctx: &Ctx<'_>,
    reader: &mut CsvReader,
    args: &PromoteArgs,
    shared: &Mutex<Shared>,
    bytes: &AtomicU64,
    fatal: &Mutex<Option<Failure>>,
    cancel: &CancelFlag,
) -> Option<Option<(u64, String, PromotionRequest)>> {
    if cancel.is_cancelled() || lock(shared).broken.is_some() {
        return None;
    }
    let read = reader.next_row();
    bytes.store(reader.bytes_read(), Ordering::Relaxed);
    let at = reader.bytes_read();
    match read {
        Ok(None) => None,
        Err(failure) => {
            *lock(fatal) = Some(failure);
            None
        }
        Ok(Some(Read::Unreadable { line, column, key })) => {
            lock(shared).refuse(
                Refused {
                    line,
                    reference: key,
                    customer_no: String::new(),
                    failure: Failure::invalid(column, "is not valid UTF-8"),
                },
                at,
            );
            Some(None)
        }
        Ok(Some(Read::Row(row))) => {
            let reference = row
                .get("account_ref")
                .or_else(|| row.get("account"))
                .unwrap_or_default();
            match prepare(ctx, &row, args).await {
                Ok(request) => Some(Some((row.line, reference, request))),
                Err(failure) => {
                    lock(shared).refuse(
                        Refused {
                            line: row.line,
                            reference: Some(reference).filter(|r| !r.is_empty()),
                            customer_no: row.text("customer_no"),
                            failure,
                        },
                        at,
                    );
                    Some(None)
                }
            }
        }
    }
}

/// A settled row: to the sink, with its line, and its parties' outcomes when asked for (a
/// party that failed makes the row's line carry its kind and message, and its exit class).
fn settled(shared: &Mutex<Shared>, row: &BatchOutcome, bytes: u64, parties: Option<PartyReport>) {
    let mut shared = lock(shared);
    let (line, reference) = shared
        .pending
        .remove(&row.index)
        .unwrap_or_else(|| (0, String::new()));
    let outcome = row.outcome.as_str();
    let failure = failure_of(&row.outcome);
    let mut class = failure
        .as_ref()
        .map_or_else(|| ExitClass::of(row.outcome.class()), |f| f.class);
    let mut error_kind = failure.as_ref().map(|f| f.kind);
    let mut message = failure.as_ref().map(|f| f.message.clone()).or_else(|| {
        matches!(row.outcome, RowOutcome::NotAttempted)
            .then(|| "not attempted (cancelled); run the batch again".to_owned())
    });
    if let Some(parties) = &parties {
        class = class.max(parties.class);
        if let (None, Some((kind, why))) = (&error_kind, &parties.first_failure) {
            error_kind = Some(kind);
            message = Some(why.clone());
        }
    }
    let report = RowLine {
        line,
        reference: Some(reference.as_str()).filter(|r| !r.is_empty()),
        outcome,
        error_kind,
        message: message.as_deref(),
    };
    shared.row(&report, bytes, class, || {
        let mut value = row_json(line, &reference, row, class, failure.as_ref());
        if let (Some(parties), Some(map)) = (parties, value.as_object_mut()) {
            map.extend(parties.doc);
        }
        value
    });
}

/// The failure a row's outcome stands for (none when its account is promoted, or when it was
/// not attempted).
fn failure_of(outcome: &RowOutcome) -> Option<Failure> {
    match outcome {
        RowOutcome::Promoted(_)
        | RowOutcome::AlreadyPromoted(_)
        | RowOutcome::Recovered { .. }
        | RowOutcome::WouldPromote(_) => None,
        RowOutcome::Failed(e) => Some(Failure::from(e.clone())),
        RowOutcome::InProgress(promotion) => Some(
            Failure::new(
                ExitClass::Conflict,
                "in_progress",
                format!(
                    "promotion {promotion} of this account is under way in another process; skipped (run the batch again once it has finished)"
                ),
            )
            .with_details(json!({"promotion_id": promotion.to_string(), "holder_alive": true})),
        ),
        RowOutcome::Unsettled(decision) => Some(match decision {
            RecoverDecision::NeedsReview(why) => {
                Failure::new(ExitClass::Conflict, "needs_review", why.clone())
            }
            other => Failure::new(
                ExitClass::Erp,
                "outcome_unknown",
                format!(
                    "an earlier run left this promotion in flight and the ERP could not settle it now ({}); run the batch again, or `crm2sage recover`",
                    other.detail().unwrap_or("")
                ),
            ),
        }),
        RowOutcome::NotAttempted => None,
        _ => Some(Failure::internal(
            "a row ended in a way this CLI does not know",
        )),
    }
}

fn row_json(
    line: u64,
    reference: &str,
    row: &BatchOutcome,
    class: ExitClass,
    failure: Option<&Failure>,
) -> Value {
    let mut value = json!({
        "line": line,
        "reference": Some(reference).filter(|r| !r.is_empty()),
        "account_id": row.request.account.to_string(),
        "customer_no": row.request.customer_no,
        "outcome": row.outcome.as_str(),
        "exit_code": class.code(),
    });
    if let RowOutcome::Promoted(p) = &row.outcome {
        let promoted = super::promote::promoted_json(row.request.account, p);
        for key in [
            "integration",
            "customer_no",
            "external_uid",
            "integration_key",
            "promotion_id",
        ] {
            value[key] = promoted[key].clone();
        }
    } else if let Some(binding) = row.outcome.binding() {
        value["customer_no"] = json!(binding.customer_no.as_str());
        value["external_uid"] = json!(binding.external_uid.as_str());
        value["integration_key"] = json!(binding.integration_key.as_str());
    }
    if let RowOutcome::Recovered { decision, .. } = &row.outcome {
        value["decision"] = json!(decision.as_str());
    }
    if let RowOutcome::WouldPromote(dry) = &row.outcome {
        let doc = super::promote::dry_run_json(row.request.account, dry);
        for key in [
            "integration",
            "external_uid",
            "payload",
            "possible_duplicates",
        ] {
            value[key] = doc[key].clone();
        }
    }
    if let Some(f) = failure {
        value["error"] = f.to_json()["error"].clone();
    }
    value
}

fn summarise(
    s: &BatchSummary,
    refused: u64,
    class: ExitClass,
) -> (Map<String, Value>, Vec<String>) {
    let failed = s.failed + refused;
    let summary = json!({
        "total": s.total + refused,
        "promoted": s.promoted,
        "already_promoted": s.already_promoted,
        "recovered": s.recovered,
        "in_progress": s.in_progress,
        "unsettled": s.unsettled,
        "failed": failed,
        "not_attempted": s.not_attempted,
        "would_promote": s.would_promote,
        "cancelled": s.cancelled,
    });
    let mut tail = Map::new();
    tail.insert("summary".into(), summary);
    let mut human = vec![format!(
        "{} rows: {} promoted, {} already promoted, {} recovered, {} in progress elsewhere, {} unsettled, {} failed, {} not attempted.",
        s.total + refused,
        s.promoted,
        s.already_promoted,
        s.recovered,
        s.in_progress,
        s.unsettled,
        failed,
        s.not_attempted
    )];
    if s.would_promote > 0 {
        human.push(format!(
            "Dry run: {} rows would be promoted; nothing was written.",
            s.would_promote
        ));
    }
    if s.cancelled {
        human.push("Interrupted: rows under way finished, the rest of the file was not read. Run the same batch again to go on.".to_owned());
    } else if class != ExitClass::Ok && (s.in_progress > 0 || s.unsettled > 0) {
        human.push(
            "Run the same batch again to settle the rest: promoted rows are skipped.".to_owned(),
        );
    }
    (tail, human)
}

async fn prepare(
    ctx: &Ctx<'_>,
    row: &Row,
    args: &PromoteArgs,
) -> Result<PromotionRequest, Failure> {
    let account = match (row.get("account"), row.get("account_ref")) {
        (Some(id), None) => AccountId::parse(&id).map_err(|e| Failure::invalid("account", e))?,
        (None, Some(reference)) => {
            let reference =
                AccountRef::parse(&reference).map_err(|e| Failure::invalid("account_ref", e))?;
            match ctx.app.store().account_by_reference(&reference).await? {
                Some(account) => account.id(),
                None => {
                    return Err(Failure::new(
                        ExitClass::NotFound,
                        "account_not_found",
                        format!(
                            "no account has the reference `{reference}`; import it first with `crm2sage account import`"
                        ),
                    ));
                }
            }
        }
        (Some(_), Some(_)) => {
            return Err(Failure::invalid(
                "account",
                "give either account or account_ref, not both",
            ));
        }
        (None, None) => {
            return Err(Failure::invalid(
                "account",
                "is required (an account id, or account_ref)",
            ));
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
    request.allow_duplicate = args.allow_duplicate;
    request.dry_run = args.dry_run;
    Ok(request)
}
