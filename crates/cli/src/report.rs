//! Streaming output of the bulk commands (`account import`, `promote --batch`): nothing here
//! holds more than one row, whatever the file's size.
//!
//! - [`Progress`]: a progress bar on stderr (rows, rows/s, bytes read of the file, ETA from the
//!   bytes when the file's size is known), drawn only on a terminal and never with `--json` or
//!   `-q`.
//! - [`ReportFile`]: `--report FILE`, one line per row (line, reference, outcome, error kind,
//!   message) as CSV (`.csv`) or JSON lines (`.jsonl`, `.ndjson`); [`report_path`] is the clap
//!   parser that refuses any other extension as a usage error.
//! - [`JsonDoc`]: the one `--json` document, written as it goes: `{"rows": [` then each row,
//!   then the summary keys and `}`.
//! - [`Sink`]: the three together, as a command uses them: each row goes to the report file,
//!   the JSON document (with `--json`) or, when it has an error, to stdout as a line, above
//!   the progress bar.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Stdout, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value, json};

use crate::failure::{ExitClass, Failure};
use crate::output::Out;

/// How often the progress bar's row count and rate are refreshed, in rows.
const PROGRESS_EVERY: u64 = 256;

/// One row's line of a report: where it is in the file, which record it names, and what
/// happened to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowLine<'a> {
    /// The row's 1-based line number in the file (where its record starts).
    pub(crate) line: u64,
    /// What the row names: an account's CRM reference (or id), if the row had one.
    pub(crate) reference: Option<&'a str>,
    /// What happened: `created`, `updated`, `unchanged`, `rejected`, `promoted`, `failed`, …
    pub(crate) outcome: &'a str,
    /// The error's stable kind (docs/cli.md's table), for a row that did not succeed.
    pub(crate) error_kind: Option<&'a str>,
    /// The error's message (or another note on the row).
    pub(crate) message: Option<&'a str>,
}

/// The format of a `--report` file, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportFormat {
    /// `.csv`: a header row, then one CSV row per row.
    Csv,
    /// `.jsonl` or `.ndjson`: one JSON object per line.
    JsonLines,
}

/// A `--report` path with its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportPath {
    pub(crate) path: PathBuf,
    pub(crate) format: ReportFormat,
}

/// The clap value parser of `--report`: `.csv`, `.jsonl` or `.ndjson` (any case); any other
/// extension is refused, which clap reports as a usage error (exit 2).
pub(crate) fn report_path(raw: &str) -> Result<ReportPath, String> {
    let path = PathBuf::from(raw);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match extension.as_deref() {
        Some("csv") => ReportFormat::Csv,
        Some("jsonl" | "ndjson") => ReportFormat::JsonLines,
        _ => {
            return Err(format!(
                "`{raw}`: a report file ends in .csv (CSV) or .jsonl / .ndjson (JSON lines)"
            ));
        }
    };
    Ok(ReportPath { path, format })
}

/// The columns of a CSV report (and the keys of a JSON-lines one).
const REPORT_COLUMNS: [&str; 5] = ["line", "reference", "outcome", "error_kind", "message"];

/// A `--report` file being written, one line per row.
pub(crate) struct ReportFile {
    path: PathBuf,
    writer: ReportWriter,
}

enum ReportWriter {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    JsonLines(BufWriter<File>),
}

impl ReportFile {
    /// Creates (or truncates) the file and, for CSV, writes the header row.
    pub(crate) fn create(report: &ReportPath) -> Result<Self, Failure> {
        let file = File::create(&report.path).map_err(|e| {
            Failure::invalid(
                "report",
                format!("cannot create {}: {e}", report.path.display()),
            )
        })?;
        let writer = BufWriter::new(file);
        let mut this = Self {
            path: report.path.clone(),
            writer: match report.format {
                ReportFormat::Csv => ReportWriter::Csv(Box::new(csv::Writer::from_writer(writer))),
                ReportFormat::JsonLines => ReportWriter::JsonLines(writer),
            },
        };
        if let ReportWriter::Csv(w) = &mut this.writer {
            let written = w.write_record(REPORT_COLUMNS);
            written.map_err(|e| this.write_failed(&e))?;
        }
        Ok(this)
    }

    /// Appends one row.
    pub(crate) fn write(&mut self, row: &RowLine<'_>) -> Result<(), Failure> {
        let written = match &mut self.writer {
            ReportWriter::Csv(w) => w
                .write_record([
                    row.line.to_string().as_str(),
                    row.reference.unwrap_or(""),
                    row.outcome,
                    row.error_kind.unwrap_or(""),
                    row.message.unwrap_or(""),
                ])
                .map_err(|e| e.to_string()),
            ReportWriter::JsonLines(w) => {
                let value = json!({
                    "line": row.line,
                    "reference": row.reference,
                    "outcome": row.outcome,
                    "error_kind": row.error_kind,
                    "message": row.message,
                });
                serde_json::to_writer(&mut *w, &value)
                    .map_err(|e| e.to_string())
                    .and_then(|()| w.write_all(b"\n").map_err(|e| e.to_string()))
            }
        };
        written.map_err(|e| self.write_failed(&e))
    }

    /// Flushes the file.
    pub(crate) fn finish(mut self) -> Result<(), Failure> {
        let flushed = match &mut self.writer {
            ReportWriter::Csv(w) => w.flush(),
            ReportWriter::JsonLines(w) => w.flush(),
        };
        flushed.map_err(|e| self.write_failed(&e))
    }

    fn write_failed(&self, e: &dyn std::fmt::Display) -> Failure {
        Failure::internal(format!("cannot write {}: {e}", self.path.display()))
    }
}

/// The progress bar of a bulk command, on stderr; hidden (every call a no-op) unless stderr is
/// a terminal and neither `--json` nor `-q` was given.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    rows: u64,
}

impl Progress {
    /// A bar for reading a file of `total_bytes` (ETA from the bytes read), or a spinner when
    /// the size is unknown (a pipe). `verb` leads the line (`importing`, `promoting`).
    pub(crate) fn new(out: Out, verb: &'static str, total_bytes: Option<u64>) -> Self {
        let shown = !out.json && !out.quiet && std::io::stderr().is_terminal();
        let bar = shown.then(|| {
            let (bar, template) = match total_bytes {
                Some(total) => (
                    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
                    "{prefix} {wide_bar} {binary_bytes}/{binary_total_bytes} ETA {eta} {msg}",
                ),
                None => (
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                    "{spinner} {prefix} {binary_bytes} read {msg}",
                ),
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(verb);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar, rows: 0 }
    }

    /// Counts one row settled, with `bytes_read` of the file read so far.
    pub(crate) fn row(&mut self, bytes_read: u64) {
        self.rows += 1;
        if self.rows.is_multiple_of(PROGRESS_EVERY) {
            self.refresh(bytes_read);
        }
    }

    /// The rows counted so far.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    fn refresh(&self, bytes_read: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes_read);
            let secs = bar.elapsed().as_secs_f64();
            let rate = if secs > 0.0 {
                // Display only: a rounded rate.
                #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
                let rate = (self.rows as f64 / secs).round() as u64;
                rate
            } else {
                0
            };
            bar.set_message(format!("{} rows, {rate} rows/s", self.rows));
        }
    }

    /// Prints `text` as a line on stdout, above the bar (the bar is redrawn under it).
    pub(crate) fn println(&self, text: &str) {
        let print = || {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The one JSON document of a `--json` bulk run, written to stdout as it goes:
/// `{"rows": [` + one compact row per line + `],` + the summary keys + `}`. Only the row being
/// written is ever held. A closed stdout (`| head`) stops the writing, not the command.
pub(crate) struct JsonDoc {
    out: BufWriter<Stdout>,
    rows: u64,
    broken: bool,
}

impl JsonDoc {
    /// Opens the document with its array `key` (`rows`).
    pub(crate) fn begin(key: &str) -> Self {
        let mut doc = Self {
            out: BufWriter::new(std::io::stdout()),
            rows: 0,
            broken: false,
        };
        let head = format!("{{{}: [", Value::String(key.to_owned()));
        doc.emit(head.as_bytes());
        doc
    }

    /// Appends one element to the array.
    pub(crate) fn row(&mut self, value: &Value) {
        if self.broken {
            return;
        }
        let separator: &[u8] = if self.rows == 0 { b"\n" } else { b",\n" };
        self.rows += 1;
        self.emit(separator);
        if serde_json::to_writer(&mut self.out, value).is_err() {
            self.broken = true;
        }
    }

    /// Closes the array, writes `tail`'s keys (the summary, `exit_code`, an `error`) and ends
    /// the document.
    pub(crate) fn finish(mut self, tail: Map<String, Value>) {
        self.emit(b"\n]");
        for (key, value) in tail {
            let entry = format!(",\n{}: {value}", Value::String(key));
            self.emit(entry.as_bytes());
        }
        self.emit(b"\n}\n");
        if self.out.flush().is_err() {
            self.broken = true;
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        if !self.broken && self.out.write_all(bytes).is_err() {
            self.broken = true;
        }
    }
}

/// Where a bulk command's rows go: the `--report` file, the `--json` document or the human
/// lines (a row with an error is printed as it is found), and the progress bar.
pub(crate) struct Sink {
    out: Out,
    progress: Progress,
    report: Option<ReportFile>,
    json: Option<JsonDoc>,
}

impl Sink {
    /// Starts the output of a bulk run over a file of `total_bytes` (if known): creates the
    /// report file and, with `--json`, opens the document's `rows` array. Call it once the
    /// file is known to be readable, so an error before any row is the ordinary error document.
    pub(crate) fn start(
        out: Out,
        verb: &'static str,
        total_bytes: Option<u64>,
        report: Option<&ReportPath>,
    ) -> Result<Self, Failure> {
        let report = report.map(ReportFile::create).transpose()?;
        Ok(Self {
            out,
            progress: Progress::new(out, verb, total_bytes),
            report,
            json: out.json.then(|| JsonDoc::begin("rows")),
        })
    }

    /// One settled row: to the report file; to the JSON document as `json()` (only built with
    /// `--json`); printed when it has an error (without `--json`). `bytes_read` moves the bar.
    ///
    /// # Errors
    /// The report file could not be written.
    pub(crate) fn row(
        &mut self,
        row: &RowLine<'_>,
        bytes_read: u64,
        json: impl FnOnce() -> Value,
    ) -> Result<(), Failure> {
        if let Some(report) = &mut self.report {
            report.write(row)?;
        }
        if let Some(doc) = &mut self.json {
            doc.row(&json());
        } else if let Some(kind) = row.error_kind {
            let reference = row.reference.map_or_else(String::new, |r| {
                format!(" ({})", crate::render::terminal_safe(r))
            });
            let message = row.message.unwrap_or(kind);
            self.progress.println(&format!(
                "line {}{reference}: {}: {}",
                row.line,
                row.outcome,
                crate::render::terminal_safe(message)
            ));
        }
        self.progress.row(bytes_read);
        Ok(())
    }

    /// The rows settled so far.
    pub(crate) fn rows(&self) -> u64 {
        self.progress.rows()
    }

    /// Ends the run: removes the bar, flushes the report and ends the JSON document with
    /// `summary`'s keys and `exit_code`; without `--json`, prints `human` (the summary lines).
    ///
    /// # Errors
    /// The report file could not be written.
    pub(crate) fn finish(
        self,
        summary: Map<String, Value>,
        class: ExitClass,
        human: &[String],
    ) -> Result<(), Failure> {
        self.progress.finish();
        let flushed = self.report.map_or(Ok(()), ReportFile::finish);
        if let Some(doc) = self.json {
            let mut tail = summary;
            if let Err(failure) = &flushed {
                tail.insert("error".into(), failure.to_json()["error"].clone());
            }
            let class = flushed.as_ref().err().map_or(class, |f| f.class.max(class));
            tail.insert("exit_code".into(), json!(class.code()));
            doc.finish(tail);
            return Ok(());
        }
        for line in human {
            self.out.line(line);
        }
        flushed
    }

    /// Ends a run that `failure` stopped midway: with `--json` the document gets `summary`,
    /// `error` and `exit_code` (one document still) and the command ends with the failure's
    /// class; otherwise the summary lines are printed and the failure is returned, to be
    /// reported as every error is.
    ///
    /// # Errors
    /// `failure`, unless it went into the JSON document.
    pub(crate) fn fail(
        self,
        failure: Failure,
        summary: Map<String, Value>,
        human: &[String],
    ) -> Result<ExitClass, Failure> {
        self.progress.finish();
        // The rows reported so far stay reported; the failure is the news.
        let _ = self.report.map(ReportFile::finish);
        if let Some(doc) = self.json {
            let mut tail = summary;
            tail.insert("error".into(), failure.to_json()["error"].clone());
            tail.insert("exit_code".into(), json!(failure.class.code()));
            doc.finish(tail);
            return Ok(failure.class);
        }
        for line in human {
            self.out.line(line);
        }
        Err(failure)
    }
}

/// The size of `path` when it is a regular file (for the progress bar's ETA).
pub(crate) fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths_are_chosen_by_extension() {
        assert_eq!(report_path("out.csv").unwrap().format, ReportFormat::Csv);
        assert_eq!(report_path("a/b.CSV").unwrap().format, ReportFormat::Csv);
        assert_eq!(
            report_path("out.jsonl").unwrap().format,
            ReportFormat::JsonLines
        );
        assert_eq!(
            report_path("out.ndjson").unwrap().format,
            ReportFormat::JsonLines
        );
        for bad in ["out.json", "out", "out.txt", "csv"] {
            let e = report_path(bad).unwrap_err();
            assert!(e.contains(".jsonl"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_report_file_has_one_line_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let row = RowLine {
            line: 7,
            reference: Some("R, 1"),
            outcome: "rejected",
            error_kind: Some("invalid_input"),
            message: Some("name: is required"),
        };
        let ok = RowLine {
            line: 8,
            reference: None,
            outcome: "created",
            error_kind: None,
            message: None,
        };
        for (name, expected) in [
            (
                "r.csv",
                "line,reference,outcome,error_kind,message\n7,\"R, 1\",rejected,invalid_input,name: is required\n8,,created,,\n",
            ),
            (
                "r.jsonl",
                "{\"line\":7,\"reference\":\"R, 1\",\"outcome\":\"rejected\",\"error_kind\":\"invalid_input\",\"message\":\"name: is required\"}\n\
                 {\"line\":8,\"reference\":null,\"outcome\":\"created\",\"error_kind\":null,\"message\":null}\n",
            ),
        ] {
            let path = dir.path().join(name);
            let parsed = report_path(&path.to_string_lossy()).unwrap();
            let mut file = ReportFile::create(&parsed).unwrap();
            file.write(&row).unwrap();
            file.write(&ok).unwrap();
            file.finish().unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), expected, "{name}");
        }
    }
}
