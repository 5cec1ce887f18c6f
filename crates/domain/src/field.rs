//! Field-level errors shared by the validated types.

use std::fmt;

/// Why a free-text value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// The value is empty (after trimming) but is required.
    #[error("is required and must not be empty")]
    Empty,
    /// The value is longer than allowed.
    #[error("must be at most {max} characters (got {actual})")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length seen, in characters.
        actual: usize,
    },
    /// The value holds a control character (tab, newline, …).
    #[error("must not contain control characters")]
    ControlCharacter,
}
crate::error_class::one_code!(TextError => "invalid_input", Invalid);

/// Trims `raw`, then checks it is non-empty, at most `max` characters and free of control
/// characters. Returns the trimmed text.
pub(crate) fn required_text(raw: &str, max: usize) -> Result<String, TextError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(TextError::Empty);
    }
    bounded_text(value, max)
}

/// Like [`required_text`] for an optional field: blank input is `None`.
pub(crate) fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, TextError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => bounded_text(value, max).map(Some),
    }
}

fn bounded_text(value: &str, max: usize) -> Result<String, TextError> {
    if value.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    let actual = value.chars().count();
    if actual > max {
        return Err(TextError::TooLong { max, actual });
    }
    Ok(value.to_owned())
}

/// One refused field: which field, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    field: String,
    rule: String,
}

impl InvalidField {
    /// A refused `field` with the `rule` it broke, written so it reads after the field name
    /// ("email: must contain exactly one `@`").
    pub fn new(field: impl Into<String>, rule: impl fmt::Display) -> Self {
        Self {
            field: field.into(),
            rule: rule.to_string(),
        }
    }

    /// The field's name as the user types it (`name`, `billing.city`, `customer_no`, …).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The rule the value broke.
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Every refused field of one input, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s): {}", .0.len(), join(.0))]
pub struct InvalidFields(pub(crate) Vec<InvalidField>);
crate::error_class::one_code!(InvalidFields => "invalid_input", Invalid);

fn join(fields: &[InvalidField]) -> String {
    fields
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl InvalidFields {
    /// One refused field.
    pub fn single(field: InvalidField) -> Self {
        Self(vec![field])
    }

    /// These refused fields and `field` after them (a caller that checks one more field of
    /// the same input itself, as a CSV reader checks a flag's text, reports them together).
    #[must_use]
    pub fn with(mut self, field: InvalidField) -> Self {
        self.0.push(field);
        self
    }

    /// The refused fields, in input order.
    pub fn fields(&self) -> &[InvalidField] {
        &self.0
    }

    /// Whether `field` is among the refused ones.
    pub fn contains(&self, field: &str) -> bool {
        self.0.iter().any(|f| f.field == field)
    }
}

/// Collects field errors while an input is parsed, so every problem is reported at once.
#[derive(Debug, Default)]
pub(crate) struct Collector(Vec<InvalidField>);

impl Collector {
    /// Records `result`'s error under `field` and passes the value on.
    pub(crate) fn take<T, E: fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(InvalidField::new(field, error));
                None
            }
        }
    }

    /// Records a refusal directly.
    pub(crate) fn push(&mut self, field: InvalidField) {
        self.0.push(field);
    }

    /// Adds every field of a nested input, prefixed (`billing.` + `city`).
    pub(crate) fn extend_prefixed(&mut self, prefix: &str, nested: InvalidFields) {
        self.0.extend(
            nested
                .0
                .into_iter()
                .map(|f| InvalidField::new(format!("{prefix}.{}", f.field), f.rule)),
        );
    }

    /// `Ok(())` when nothing was refused.
    pub(crate) fn finish(self) -> Result<(), InvalidFields> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(InvalidFields(self.0))
        }
    }
}
