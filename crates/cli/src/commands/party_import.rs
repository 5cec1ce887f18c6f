//! `crm2sage ship-to import FILE.csv` and `crm2sage contact import FILE.csv`: companion files
//! of the accounts file, each row naming its account by `account_ref` (the account's CRM
//! reference). As `account import` does, the file is read one row at a time and handed lazily
//! to the library's import, which stores it in chunks (one transaction each) and reports each
//! row as its chunk is stored; each row is an upsert by (account, code), so importing the file
//! again is safe (docs/cli.md).

use std::cell::Cell;
use std::path::Path;

use crm2sage_domain::services::{ImportSummary, PartyImportOutcome, PartyImportRow, Upserted};
use crm2sage_domain::{Contact, InvalidField, InvalidFields, NewContact, NewShipTo, ShipTo};
use serde_json::{Value, json};

use super::import::read_rows;
use super::{CmdResult, Ctx};
use crate::csvfile::{CsvReader, Read, Row};
use crate::failure::Failure;
use crate::report::{ReportPath, RowLine, Sink, file_size};

/// The columns of a ship-tos file (docs/cli.md).
pub(crate) const SHIP_TO_COLUMNS: &[&str] = &[
    "account_ref",
    "code",
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
    "primary",
];
const SHIP_TO_REQUIRED: &[&str] = &["account_ref", "code", "name", "line1", "city", "country"];

/// The columns of a contacts file (docs/cli.md).
pub(crate) const CONTACT_COLUMNS: &[&str] = &[
    "account_ref",
    "code",
    "name",
    "title",
    "phone",
    "email",
    "primary",
];
const CONTACT_REQUIRED: &[&str] = &["account_ref", "code", "name"];

/// What the import hands back with each row: its line, account reference and code (as the
/// file has them).
type Tag = (u64, Option<String>, Option<String>);

/// Every refused field as the JSON `details` of an error.
pub(crate) fn fields_json(fields: &InvalidFields) -> Value {
    json!({ "fields": fields_list(fields) })
}

fn fields_list(fields: &InvalidFields) -> Vec<Value> {
    fields
        .fields()
        .iter()
        .map(|f| json!({"field": f.field(), "rule": f.rule()}))
        .collect()
}

/// A `primary` cell: `true`/`yes`/`y`/`1`/`x` or `false`/`no`/`n`/`0`, any case; blank is
/// `false`.
fn primary(raw: Option<String>) -> Result<bool, InvalidField> {
    match raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "no" | "n" | "0") => Ok(false),
        Some("true" | "yes" | "y" | "1" | "x") => Ok(true),
        Some(_) => Err(InvalidField::new(
            "primary",
            "must be true or false (also yes/no, 1/0)",
        )),
    }
}

/// What differs between the two imports.
trait Kind {
    type Input;
    type Entity;
    /// `importing ship-tos`, for the progress bar.
    const VERB: &'static str;
    const COLUMNS: &'static [&'static str];
    const REQUIRED: &'static [&'static str];
    /// The row's input (its cells moved out of it), or every field it broke.
    fn input(row: &mut Row) -> Result<Self::Input, InvalidFields>;
    fn code(entity: &Self::Entity) -> &str;
    async fn import<I, F>(ctx: &Ctx<'_>, rows: I, on_row: F) -> Result<ImportSummary, Failure>
    where
        I: IntoIterator<Item = PartyImportRow<Tag, Self::Input>>,
        F: FnMut(Tag, PartyImportOutcome<Self::Entity>);
}

/// `input` with the `primary` cell, or every field the row broke (the cell's among them).
fn with_primary<T>(
    mut input: T,
    cell: Option<String>,
    set: impl FnOnce(&mut T, bool),
    validate: impl FnOnce(&T) -> Result<(), InvalidFields>,
) -> Result<T, InvalidFields> {
    match primary(cell) {
        Ok(flag) => {
            set(&mut input, flag);
            Ok(input)
        }
        Err(field) => Err(match validate(&input) {
            Ok(()) => InvalidFields::single(field),
            Err(fields) => fields.with(field),
        }),
    }
}

struct ShipTos;

impl Kind for ShipTos {
    type Input = NewShipTo;
    type Entity = ShipTo;
    const VERB: &'static str = "importing ship-tos";
    const COLUMNS: &'static [&'static str] = SHIP_TO_COLUMNS;
    const REQUIRED: &'static [&'static str] = SHIP_TO_REQUIRED;

    fn input(row: &mut Row) -> Result<NewShipTo, InvalidFields> {
        let address = super::import::address(row);
        let mut input = NewShipTo::new(
            row.text("code"),
            row.take("name").unwrap_or_default(),
            address,
        );
        input.phone = row.take("phone");
        input.email = row.take("email");
        with_primary(
            input,
            row.take("primary"),
            |i, flag| i.primary = flag,
            |i| i.validate().map(|_| ()),
        )
    }

    fn code(entity: &ShipTo) -> &str {
        entity.code().as_str()
    }

    async fn import<I, F>(ctx: &Ctx<'_>, rows: I, on_row: F) -> Result<ImportSummary, Failure>
    where
        I: IntoIterator<Item = PartyImportRow<Tag, NewShipTo>>,
        F: FnMut(Tag, PartyImportOutcome<ShipTo>),
    {
        Ok(ctx.app.import_ship_tos(rows, on_row).await?)
    }
}

struct Contacts;

impl Kind for Contacts {
    type Input = NewContact;
    type Entity = Contact;
    const VERB: &'static str = "importing contacts";
    const COLUMNS: &'static [&'static str] = CONTACT_COLUMNS;
    const REQUIRED: &'static [&'static str] = CONTACT_REQUIRED;

    fn input(row: &mut Row) -> Result<NewContact, InvalidFields> {
        let mut input = NewContact::new(row.text("code"), row.take("name").unwrap_or_default());
        input.title = row.take("title");
        input.phone = row.take("phone");
        input.email = row.take("email");
        with_primary(
            input,
            row.take("primary"),
            |i, flag| i.primary = flag,
            |i| i.validate().map(|_| ()),
        )
    }

    fn code(entity: &Contact) -> &str {
        entity.code().as_str()
    }

    async fn import<I, F>(ctx: &Ctx<'_>, rows: I, on_row: F) -> Result<ImportSummary, Failure>
    where
        I: IntoIterator<Item = PartyImportRow<Tag, NewContact>>,
        F: FnMut(Tag, PartyImportOutcome<Contact>),
    {
        Ok(ctx.app.import_contacts(rows, on_row).await?)
    }
}

/// `ship-to import`.
pub(crate) async fn ship_tos(ctx: &Ctx<'_>, file: &Path, report: Option<&ReportPath>) -> CmdResult {
    run::<ShipTos>(ctx, file, report).await
}

/// `contact import`.
pub(crate) async fn contacts(ctx: &Ctx<'_>, file: &Path, report: Option<&ReportPath>) -> CmdResult {
    run::<Contacts>(ctx, file, report).await
}

fn count<P>(summary: &mut ImportSummary, outcome: &PartyImportOutcome<P>) {
    match outcome {
        PartyImportOutcome::Stored(_, Upserted::Created) => summary.created += 1,
        PartyImportOutcome::Stored(_, Upserted::Updated) => summary.updated += 1,
        PartyImportOutcome::Stored(_, _) => summary.unchanged += 1,
        _ => summary.rejected += 1,
    }
}

async fn run<K: Kind>(ctx: &Ctx<'_>, file: &Path, report: Option<&ReportPath>) -> CmdResult {
    let mut reader = CsvReader::open(file, K::COLUMNS, K::REQUIRED, Some("account_ref"))?;
    let mut sink = Sink::start(ctx.out, K::VERB, file_size(file), report)?;
    let bytes = Cell::new(0u64);
    let mut stopped: Option<Failure> = None;
    let mut sink_failed: Option<Failure> = None;
    // Our own tally, which survives a store failure midway.
    let mut summary = ImportSummary::default();
    let rows = read_rows(&mut reader, &mut stopped, &bytes, |read| match read {
        Read::Row(mut row) => {
            let account_ref = row.text("account_ref");
            let tag = (row.line, row.get("account_ref"), row.get("code"));
            match K::input(&mut row) {
                Ok(input) => PartyImportRow::new(tag, account_ref, input),
                Err(fields) => PartyImportRow::refused(tag, account_ref, fields),
            }
        }
        Read::Unreadable { line, column, key } => PartyImportRow::refused(
            (line, key.clone(), None),
            key.unwrap_or_default(),
            InvalidFields::single(InvalidField::new(column, "is not valid UTF-8")),
        ),
    });
    let on_row = |(line, account_ref, code): Tag, outcome: PartyImportOutcome<K::Entity>| {
        count(&mut summary, &outcome);
        if sink_failed.is_some() {
            return;
        }
        let code = match &outcome {
            PartyImportOutcome::Stored(entity, _) => Some(K::code(entity).to_owned()),
            _ => code,
        };
        if let Err(failure) = emit(
            &mut sink,
            line,
            account_ref.as_deref(),
            code.as_deref(),
            &outcome,
            bytes.get(),
        ) {
            sink_failed = Some(failure);
        }
    };
    let imported = K::import(ctx, rows, on_row).await;
    let failure = match imported {
        Ok(_) => stopped.or(sink_failed),
        Err(failure) => Some(failure),
    };
    super::import::finish(ctx, sink, &summary, failure)
}

/// One row's outcome to the report file, the JSON document or the terminal.
fn emit<P>(
    sink: &mut Sink,
    line: u64,
    account_ref: Option<&str>,
    code: Option<&str>,
    outcome: &PartyImportOutcome<P>,
    bytes_read: u64,
) -> Result<(), Failure> {
    let (what, fields) = match outcome {
        PartyImportOutcome::Stored(_, how) => (how.as_str(), None),
        PartyImportOutcome::Rejected(fields) => ("rejected", Some(fields)),
        _ => ("failed", None),
    };
    let message = fields.map(ToString::to_string);
    let row = RowLine {
        line,
        reference: account_ref,
        outcome: what,
        error_kind: message.as_ref().map(|_| "invalid_input"),
        message: message.as_deref(),
    };
    sink.row(&row, bytes_read, || {
        json!({
            "line": line,
            "account_ref": account_ref,
            "code": code,
            "outcome": what,
            "errors": fields.map(fields_list).unwrap_or_default(),
        })
    })
}
