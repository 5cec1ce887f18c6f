//! `crm2sage account import FILE.csv [--report FILE]`: the file is read one row at a time and
//! handed lazily to the library's import, which stores it in chunks (one transaction each);
//! each row's outcome streams out as its chunk is stored (docs/cli.md). Memory holds two
//! chunks at most (the next is read while one is written), whatever the file's size.

use std::cell::Cell;
use std::path::Path;

use crm2sage_domain::services::{ImportOutcome, ImportRow, ImportSummary};
use crm2sage_domain::{AddressInput, InvalidField, InvalidFields, NewAccount};
use serde_json::{Map, Value, json};

use super::{CmdResult, Ctx};
use crate::csvfile::{CsvReader, Read, Row};
use crate::failure::{ExitClass, Failure};
use crate::report::{ReportPath, RowLine, Sink, file_size};

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

/// What the import hands back with each row: its line and its reference (as the file has it).
type Tag = (u64, Option<String>);

pub(crate) async fn run(ctx: &Ctx<'_>, file: &Path, report: Option<&ReportPath>) -> CmdResult {
    let mut reader = CsvReader::open(file, COLUMNS, REQUIRED, Some("reference"))?;
    let mut sink = Sink::start(ctx.out, "importing", file_size(file), report)?;
    let bytes = Cell::new(0u64);
    let mut stopped: Option<Failure> = None;
    let mut sink_failed: Option<Failure> = None;
    // Our own tally, which survives a store failure midway.
    let mut summary = ImportSummary::default();
    // The file is read on this thread as the import asks for rows: a buffered local read,
    // one row at a time (the store's writes are off this thread).
    let rows = read_rows(&mut reader, &mut stopped, &bytes, |read| match read {
        Read::Row(row) => to_import_row(row),
        Read::Unreadable { line, column, key } => ImportRow::refused(
            (line, key),
            InvalidFields::single(InvalidField::new(column, "is not valid UTF-8")),
        ),
    });
    let on_row = |(line, reference): Tag, outcome: ImportOutcome| {
        summary.count(&outcome);
        if sink_failed.is_some() {
            return;
        }
        if let Err(failure) = emit(&mut sink, line, reference.as_deref(), &outcome, bytes.get()) {
            sink_failed = Some(failure);
        }
    };
    let imported = ctx.app.import_accounts(rows, on_row).await;
    let failure = match imported {
        Ok(_) => stopped.or(sink_failed),
        Err(e) => Some(Failure::from(e)),
    };
    finish(ctx, sink, &summary, failure)
}

/// The file's rows, read as the import asks for them and each made its input by `to_row`; a
/// file that cannot be read further ends them, with why in `stopped`. `bytes` follows how far
/// the file was read, for the progress bar.
pub(super) fn read_rows<'a, T>(
    reader: &'a mut CsvReader,
    stopped: &'a mut Option<Failure>,
    bytes: &'a Cell<u64>,
    mut to_row: impl FnMut(Read) -> T + 'a,
) -> impl Iterator<Item = T> + 'a {
    std::iter::from_fn(move || {
        if stopped.is_some() {
            return None;
        }
        let read = match reader.next_row() {
            Ok(read) => read,
            Err(failure) => {
                *stopped = Some(failure);
                return None;
            }
        };
        bytes.set(reader.bytes_read());
        read.map(&mut to_row)
    })
}

/// Ends an import (of accounts, ship-tos or contacts) once its rows are through: a `failure`
/// (the file, the report or the store) stops it with what was saved so far; otherwise the
/// summary, exit 4 when a row was rejected. The one owner of the summary and its advice.
pub(super) fn finish(
    ctx: &Ctx<'_>,
    sink: Sink,
    summary: &ImportSummary,
    failure: Option<Failure>,
) -> CmdResult {
    if let Some(failure) = failure {
        let human = stopped_lines(summary, sink.rows());
        return sink.fail(failure, counts(summary), &human);
    }
    let class = if summary.rejected == 0 {
        ExitClass::Ok
    } else {
        ExitClass::Invalid
    };
    let human = vec![format!(
        "{} rows: {} created, {} updated, {} unchanged, {} rejected.",
        sink.rows(),
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.rejected
    )];
    sink.finish(counts(summary), class, &human)?;
    if summary.rejected > 0 {
        ctx.out.note(
            "Fix the rejected rows and import the file again: the rows already imported are reported unchanged.",
        );
    }
    Ok(class)
}

/// The address columns of a row (accounts and ship-tos share them), moved out of it.
pub(super) fn address(row: &mut Row) -> AddressInput {
    let mut address = AddressInput::new(
        row.take("line1").unwrap_or_default(),
        row.take("city").unwrap_or_default(),
        row.take("country").unwrap_or_default(),
    );
    address.line2 = row.take("line2");
    address.line3 = row.take("line3");
    address.state = row.take("state");
    address.postal_code = row.take("postal_code");
    address
}

/// A CSV row as the import's input, its cells moved (not copied) into the account.
fn to_import_row(mut row: Row) -> ImportRow<Tag> {
    let reference = row.take("reference");
    let address = address(&mut row);
    let mut input = NewAccount::new(row.take("name").unwrap_or_default(), address);
    input.phone = row.take("phone");
    input.email = row.take("email");
    input.website = row.take("website");
    input.currency = row.take("currency");
    input.language = row.take("language");
    input.terms = row.take("terms");
    input.reference.clone_from(&reference);
    ImportRow::new((row.line, reference), input)
}

/// One row's outcome to the report file, the JSON document or the terminal.
fn emit(
    sink: &mut Sink,
    line: u64,
    reference: Option<&str>,
    outcome: &ImportOutcome,
    bytes_read: u64,
) -> Result<(), Failure> {
    let (what, message) = match outcome {
        ImportOutcome::Stored(_, how) => (how.as_str(), None),
        ImportOutcome::Rejected(fields) => ("rejected", Some(fields.to_string())),
        _ => (
            "failed",
            Some("an outcome this CLI does not know".to_owned()),
        ),
    };
    let row = RowLine {
        line,
        reference,
        outcome: what,
        error_kind: message.as_ref().map(|_| "invalid_input"),
        message: message.as_deref(),
    };
    sink.row(&row, bytes_read, || match outcome {
        ImportOutcome::Stored(account, how) => json!({
            "line": line,
            "id": account.id().to_string(),
            "reference": account.details().reference().map(|r| r.as_str()),
            "outcome": how.as_str(),
            "errors": [],
        }),
        ImportOutcome::Rejected(fields) => json!({
            "line": line,
            "id": null,
            "reference": reference,
            "outcome": "rejected",
            "errors": fields.fields().iter().map(|f| json!({"field": f.field(), "rule": f.rule()})).collect::<Vec<_>>(),
        }),
        _ => json!({"line": line, "id": null, "reference": reference, "outcome": what, "errors": []}),
    })
}

/// The summary keys of the JSON document.
fn counts(summary: &ImportSummary) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("imported".into(), json!(summary.stored()));
    map.insert("created".into(), json!(summary.created));
    map.insert("updated".into(), json!(summary.updated));
    map.insert("unchanged".into(), json!(summary.unchanged));
    map.insert("rejected".into(), json!(summary.rejected));
    map
}

/// The human summary of an import that stopped.
fn stopped_lines(summary: &ImportSummary, rows: u64) -> Vec<String> {
    vec![format!(
        "Stopped after {rows} rows ({} created, {} updated, {} unchanged, {} rejected); the rows \
         reported were saved. Fix the file and import it again: rows already imported are \
         reported unchanged.",
        summary.created, summary.updated, summary.unchanged, summary.rejected
    )]
}
