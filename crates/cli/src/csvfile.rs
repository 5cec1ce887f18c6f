//! Reading the CSV files of `account import` and `promote --batch`, one record at a time: a
//! header row naming known columns, then rows; each row keeps the line number its record
//! starts on (right for LF and CRLF files, and for cells with quoted newlines).
//!
//! Memory is bounded whatever the file: a record longer than [`MAX_RECORD_BYTES`] is an error
//! naming its line (the reader never takes more than that plus one buffer from the file for
//! one record), so `account import /dev/zero` fails fast. A UTF-8 byte-order mark is skipped. A
//! row whose cells are not valid UTF-8 is handed back as [`Read::Unreadable`] with its line,
//! and the reading goes on; a duplicated, unknown or missing column, bad quoting or a row with
//! the wrong number of cells stops it, as a [`Failure`] of kind `invalid_csv` naming the line.

use std::fs::File;
use std::io;
use std::path::Path;

use serde_json::json;

use crate::failure::{ExitClass, Failure};

/// The longest record (a line, or several when a quoted cell holds newlines) a file may have.
pub(crate) const MAX_RECORD_BYTES: u64 = 1 << 20;

/// The reader's buffer: what it may read past a record's end.
const BUFFER_BYTES: usize = 64 * 1024;

/// The error kind of a file that cannot be read as CSV (docs/cli.md).
pub(crate) const INVALID_CSV: &str = "invalid_csv";

/// One data row: its 1-based line number in the file and its cells, by column (blank cells
/// are absent; cells are trimmed).
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) line: u64,
    columns: &'static [&'static str],
    cells: Vec<Option<String>>,
}

impl Row {
    fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == column)
    }

    /// The cell of `column`, if not blank.
    pub(crate) fn get(&self, column: &str) -> Option<String> {
        self.index(column)
            .and_then(|i| self.cells.get(i).cloned().flatten())
    }

    /// The cell of `column`, or "" when blank.
    pub(crate) fn text(&self, column: &str) -> String {
        self.get(column).unwrap_or_default()
    }

    /// Takes the cell of `column` out of the row (no copy).
    pub(crate) fn take(&mut self, column: &str) -> Option<String> {
        self.index(column)
            .and_then(|i| self.cells.get_mut(i).and_then(Option::take))
    }
}

/// What [`CsvReader::next_row`] read.
#[derive(Debug)]
pub(crate) enum Read {
    /// A row.
    Row(Row),
    /// A row that cannot be read: `column`'s cell is not valid UTF-8.
    Unreadable {
        line: u64,
        column: &'static str,
        /// What the row names (its `key` column), when that cell could be read.
        key: Option<String>,
    },
}

/// The file under the CSV parser: counts the bytes read and refuses to read past `limit`
/// (one record's worth past the current record's start).
struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
    last: Option<u8>,
    eof: bool,
}

/// The error [`Capped`] answers at its limit.
#[derive(Debug)]
struct TooLong;

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record is longer than {MAX_RECORD_BYTES} bytes")
    }
}

impl std::error::Error for TooLong {}

impl<R: io::Read> io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.read);
        if room == 0 {
            return Err(io::Error::other(TooLong));
        }
        let want = usize::try_from(room).map_or(buf.len(), |room| room.min(buf.len()));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            self.eof = true;
        } else {
            self.read += n as u64;
            self.last = buf.get(n - 1).copied();
        }
        Ok(n)
    }
}

/// A CSV file read one row at a time.
pub(crate) struct CsvReader {
    shown: String,
    reader: csv::Reader<Capped<File>>,
    /// For each header column, its index in `columns`.
    header: Vec<usize>,
    columns: &'static [&'static str],
    key: Option<usize>,
    record: csv::ByteRecord,
}

impl std::fmt::Debug for CsvReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvReader")
            .field("file", &self.shown)
            .finish_non_exhaustive()
    }
}

impl CsvReader {
    /// Opens `path` and reads its header row: every column must be one of `columns`, none
    /// twice, every `required` one present. `key` names the column that identifies a row in
    /// reports (read even from a row that is otherwise unreadable).
    pub(crate) fn open(
        path: &Path,
        columns: &'static [&'static str],
        required: &[&str],
        key: Option<&'static str>,
    ) -> Result<Self, Failure> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|e| {
            Failure::new(
                ExitClass::Invalid,
                INVALID_CSV,
                format!("cannot read {shown}: {e}"),
            )
            .with_details(json!({"file": shown, "line": null, "problem": "unreadable"}))
        })?;
        let capped = Capped {
            inner: file,
            read: 0,
            limit: MAX_RECORD_BYTES + BUFFER_BYTES as u64,
            last: None,
            eof: false,
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(BUFFER_BYTES)
            .from_reader(capped);
        let mut this = Self {
            shown,
            reader,
            header: Vec::new(),
            columns,
            key: None,
            record: csv::ByteRecord::new(),
        };
        let Some(line) = this.next_record()? else {
            return Err(this.invalid(1, "empty", "the file is empty; a header row is required"));
        };
        let mut names = Vec::with_capacity(this.record.len());
        for (i, raw) in this.record.iter().enumerate() {
            let raw = if i == 0 {
                raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
            } else {
                raw
            };
            let Ok(name) = std::str::from_utf8(raw) else {
                return Err(this.invalid(
                    line,
                    "unreadable",
                    format!("the header row's column {} is not valid UTF-8", i + 1),
                ));
            };
            names.push(name.trim().to_ascii_lowercase());
        }
        let unknown: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|h| !columns.contains(h))
            .collect();
        if !unknown.is_empty() {
            return Err(this.invalid(
                line,
                "unknown_column",
                format!(
                    "unknown column(s) {} in the header row; the columns are: {}",
                    unknown.join(", "),
                    columns.join(", ")
                ),
            ));
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(this.invalid(
                    line,
                    "duplicate_column",
                    format!("the header row names the column {name} twice"),
                ));
            }
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|r| !names.iter().any(|h| h == r))
            .collect();
        if !missing.is_empty() {
            return Err(this.invalid(
                line,
                "missing_column",
                format!(
                    "the header row lacks the required column(s) {}; a header row is required (columns: {})",
                    missing.join(", "),
                    columns.join(", ")
                ),
            ));
        }
        this.header = names
            .iter()
            .filter_map(|n| columns.iter().position(|c| c == n))
            .collect();
        this.key = key.and_then(|k| names.iter().position(|n| n == k));
        Ok(this)
    }

    /// Bytes of the file read so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The next row, or `None` at the end of the file. Blank lines are skipped.
    ///
    /// # Errors
    /// A record over [`MAX_RECORD_BYTES`], bad quoting, a row whose number of cells is not the
    /// header's, a read error: `invalid_csv`, naming the line.
    pub(crate) fn next_row(&mut self) -> Result<Option<Read>, Failure> {
        loop {
            let Some(line) = self.next_record()? else {
                return Ok(None);
            };
            if self.record.len() == 1 && self.record[0].trim_ascii().is_empty() {
                continue; // a blank line ("\r" alone, in a CRLF file)
            }
            if self.record.len() != self.header.len() {
                return Err(self.invalid(
                    line,
                    "malformed",
                    format!(
                        "malformed CSV at line {line}: the row has {} cell(s), the header row {}",
                        self.record.len(),
                        self.header.len()
                    ),
                ));
            }
            return Ok(Some(self.row(line)));
        }
    }

    fn row(&self, line: u64) -> Read {
        let mut cells = vec![None; self.columns.len()];
        let key = self
            .key
            .and_then(|k| std::str::from_utf8(&self.record[k]).ok())
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty());
        for (raw, &column) in self.record.iter().zip(&self.header) {
            let Ok(text) = std::str::from_utf8(raw) else {
                return Read::Unreadable {
                    line,
                    column: self.columns[column],
                    key,
                };
            };
            let text = text.trim();
            if !text.is_empty() {
                cells[column] = Some(text.to_owned());
            }
        }
        Read::Row(Row {
            line,
            columns: self.columns,
            cells,
        })
    }

    /// Reads the next record into `self.record`; its first line, or `None` at the end.
    fn next_record(&mut self) -> Result<Option<u64>, Failure> {
        let start = self.reader.position().clone();
        let read = self.reader.read_byte_record(&mut self.record);
        let end = self.reader.position().clone();
        match read {
            Ok(false) => Ok(None),
            Ok(true) => {
                if end.byte() - start.byte() > MAX_RECORD_BYTES {
                    return Err(self.too_long(self.first_line(&start, &end)));
                }
                let line = self.first_line(&start, &end);
                self.reader.get_mut().limit = end.byte() + MAX_RECORD_BYTES + BUFFER_BYTES as u64;
                Ok(Some(line))
            }
            Err(e) => {
                let line = start.line();
                if let csv::ErrorKind::Io(io) = e.kind()
                    && io.get_ref().is_some_and(|inner| inner.is::<TooLong>())
                {
                    return Err(self.too_long(line));
                }
                let problem = if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    "unreadable"
                } else {
                    "malformed"
                };
                Err(self.invalid(line, problem, format!("malformed CSV at line {line}: {e}")))
            }
        }
    }

    /// The line a record read from `start` to `end` starts on: the line its last byte ends,
    /// less the newlines inside its cells, less its own newline. (`start`'s line is too low
    /// by the blank lines the parser skipped before the record.)
    fn first_line(&self, start: &csv::Position, end: &csv::Position) -> u64 {
        let inside: u64 = self
            .record
            .iter()
            .map(|cell| cell.iter().filter(|b| **b == b'\n').count() as u64)
            .sum();
        let capped = self.reader.get_ref();
        let unterminated = capped.eof && end.byte() == capped.read && capped.last != Some(b'\n');
        let own = u64::from(!unterminated);
        end.line().saturating_sub(inside + own).max(start.line())
    }

    fn too_long(&self, line: u64) -> Failure {
        self.invalid(
            line,
            "line_too_long",
            format!(
                "the record at line {line} is longer than {} MiB; is this a CSV file?",
                MAX_RECORD_BYTES >> 20
            ),
        )
    }

    fn invalid(&self, line: u64, problem: &str, message: impl std::fmt::Display) -> Failure {
        Failure::new(
            ExitClass::Invalid,
            INVALID_CSV,
            format!("{}: {message}", self.shown),
        )
        .with_details(json!({"file": self.shown, "line": line, "problem": problem}))
    }
}
