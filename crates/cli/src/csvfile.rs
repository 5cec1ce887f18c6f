//! Reading the CSV files of `account import` and `promote --batch`: a header row naming known
//! columns, then rows; each row keeps its line number for reports.

use std::collections::HashMap;
use std::path::Path;

use crate::failure::Failure;

/// One data row: its 1-based line number in the file and its cells by column name (blank
/// cells are absent).
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) line: u64,
    cells: HashMap<String, String>,
}

impl Row {
    pub(crate) fn get(&self, column: &str) -> Option<String> {
        self.cells.get(column).cloned()
    }

    pub(crate) fn text(&self, column: &str) -> String {
        self.get(column).unwrap_or_default()
    }
}

/// Reads `path`: checks the header against `allowed` (every `required` present, nothing
/// unknown), then every row. A malformed file is a clear error naming the line.
pub(crate) fn read(path: &Path, allowed: &[&str], required: &[&str]) -> Result<Vec<Row>, Failure> {
    let invalid = |message: String| Failure::invalid("file", message);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| {
            invalid(format!(
                "{}: the header row cannot be read: {e}",
                path.display()
            ))
        })?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let unknown: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|h| !allowed.contains(h))
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(format!(
            "{}: unknown column(s) {} in the header row; the columns are: {}",
            path.display(),
            unknown.join(", "),
            allowed.join(", ")
        )));
    }
    let missing: Vec<&&str> = required
        .iter()
        .filter(|r| !header.iter().any(|h| h == *r))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "{}: the header row lacks the required column(s) {}; a header row is required (columns: {})",
            path.display(),
            missing.iter().map(|m| **m).collect::<Vec<_>>().join(", "),
            allowed.join(", ")
        )));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e
                .position()
                .map_or_else(String::new, |p| format!(" at line {}", p.line()));
            invalid(format!("{}: malformed CSV{line}: {e}", path.display()))
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let cells = header
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(h, v)| (h.clone(), v.to_owned()))
            .collect();
        rows.push(Row { line, cells });
    }
    Ok(rows)
}
