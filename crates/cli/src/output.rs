//! Where output goes: one JSON document on stdout with `--json`; otherwise human text on
//! stdout (tables for lists) and diagnostics on stderr. Progress bars only on a terminal.

use std::io::{IsTerminal, Write};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

use crate::failure::Failure;

/// The output settings of one invocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    pub(crate) json: bool,
    pub(crate) quiet: bool,
    color: bool,
    stdout_tty: bool,
}

impl Out {
    pub(crate) fn new(json: bool, quiet: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            json,
            quiet,
            color: !no_color && std::io::stderr().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
        }
    }

    /// The one JSON document of a `--json` run.
    pub(crate) fn json(&self, value: &Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_owned());
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = writeln!(out, "{text}");
    }

    /// A line of human output (nothing with `--json`).
    pub(crate) fn line(&self, text: impl AsRef<str>) {
        if !self.json {
            let _ = writeln!(std::io::stdout().lock(), "{}", text.as_ref());
        }
    }

    /// Narration (the demo's story): suppressed by `--json` and `-q`.
    pub(crate) fn narrate(&self, text: impl AsRef<str>) {
        if !self.json && !self.quiet {
            self.line(text);
        }
    }

    /// A diagnostic on stderr (suppressed by `-q`).
    pub(crate) fn note(&self, text: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{}", text.as_ref());
        }
    }

    /// A table of human output. Every cell is printed through [`crate::render::terminal_safe`]
    /// (cells often carry ERP text).
    pub(crate) fn table(&self, header: &[&str], rows: Vec<Vec<String>>) {
        if self.json {
            return;
        }
        if rows.is_empty() {
            self.line("(none)");
            return;
        }
        self.line(table_text(header, rows, self.stdout_tty));
    }

    /// Whether progress bars may be drawn.
    pub(crate) fn progress_allowed(&self) -> bool {
        !self.json && !self.quiet && self.stdout_tty
    }

    /// Reports a failure: as the JSON document, or on stderr for people.
    pub(crate) fn fail(&self, failure: &Failure) {
        if self.json {
            self.json(&failure.to_json());
            return;
        }
        let prefix = if self.color {
            "\u{1b}[1;31merror:\u{1b}[0m"
        } else {
            "error:"
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{prefix} {}", failure.message);
        if let Some(fields) = failure
            .details
            .get("fields")
            .and_then(Value::as_array)
            .filter(|f| f.len() > 1)
        {
            for f in fields {
                let field = f.get("field").and_then(Value::as_str).unwrap_or("?");
                let rule = f.get("rule").and_then(Value::as_str).unwrap_or("?");
                let _ = writeln!(err, "  - {field}: {rule}");
            }
        }
    }
}

/// The text of a table; every cell goes through [`crate::render::terminal_safe`].
fn table_text(header: &[&str], rows: Vec<Vec<String>>, tty: bool) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    if !tty {
        table.load_preset(comfy_table::presets::ASCII_BORDERS_ONLY_CONDENSED);
    }
    table.set_header(header.to_vec());
    for row in rows {
        table.add_row(
            row.iter()
                .map(|cell| crate::render::terminal_safe(cell).into_owned())
                .collect::<Vec<_>>(),
        );
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::table_text;

    #[test]
    fn table_cells_carry_no_terminal_control_characters() {
        let rows = vec![vec![
            "name".to_owned(),
            "ACME\u{1b}]0;owned\u{7}\u{9b}2J".to_owned(),
        ]];
        for tty in [false, true] {
            let text = table_text(&["field", "value"], rows.clone(), tty);
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
            assert!(
                text.contains("ACME\\u{1b}]0;owned\\u{7}\\u{9b}2J"),
                "{text}"
            );
        }
    }
}
