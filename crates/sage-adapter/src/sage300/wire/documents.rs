//! Rows read for the customer panel (posted documents, orders, credit figures) with every
//! value kept as its raw JSON token, so amounts go from the wire text to an exact decimal
//! without passing through a float.

use std::collections::HashMap;

use crm2sage_domain::{Amount, Date};
use serde_json::value::RawValue;

/// One row: property name → its raw JSON token.
pub(crate) type RawRow = HashMap<String, Box<RawValue>>;

/// The text of a property: a JSON string's content, a number's token as written, `None` for
/// `null`, a missing property, or blank text.
pub(crate) fn raw_text(row: &RawRow, name: &str) -> Option<String> {
    let raw = row.get(name)?.get().trim();
    if raw == "null" {
        return None;
    }
    let text = if raw.starts_with('"') {
        serde_json::from_str::<String>(raw).ok()?
    } else {
        raw.to_owned()
    };
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// An amount property, exactly: a JSON number's token or a decimal in a string. A missing or
/// `null` amount is an error (the panel never guesses zero).
pub(crate) fn amount(row: &RawRow, name: &str) -> Result<Amount, String> {
    let text = raw_text(row, name).ok_or_else(|| format!("{name} is missing"))?;
    Amount::parse(&text).map_err(|e| format!("{name}: {e}"))
}

/// A date property (`Edm.DateTime`: `2024-03-01T00:00:00Z`, with or without the zone, or a
/// bare `2024-03-01`), its calendar date as written; `None` when null or missing.
pub(crate) fn date(row: &RawRow, name: &str) -> Result<Option<Date>, String> {
    let Some(text) = raw_text(row, name) else {
        return Ok(None);
    };
    let day: String = text.chars().take(10).collect();
    day.parse::<Date>()
        .map(Some)
        .map_err(|e| format!("{name} `{text}` is not a date: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(json: &str) -> RawRow {
        serde_json::from_str(json).expect("row")
    }

    #[test]
    fn amounts_keep_the_wire_text_exactly() {
        let r = row(r#"{"A": 12345678901234567.89, "B": "-0.10", "C": null, "D": 1e2, "E": "x"}"#);
        assert_eq!(
            amount(&r, "A").expect("A").to_string(),
            "12345678901234567.89"
        );
        assert_eq!(amount(&r, "B").expect("B").to_string(), "-0.10");
        assert!(amount(&r, "C").is_err());
        assert_eq!(amount(&r, "D").expect("D").to_string(), "100");
        assert!(amount(&r, "E").is_err());
        assert!(amount(&r, "Z").is_err());
    }

    #[test]
    fn dates_take_the_calendar_day() {
        let r = row(r#"{"A": "2024-03-01T00:00:00Z", "B": "2024-03-02", "C": null, "D": "soon"}"#);
        assert_eq!(
            date(&r, "A").expect("A").map(|d| d.to_string()).as_deref(),
            Some("2024-03-01")
        );
        assert_eq!(
            date(&r, "B").expect("B").map(|d| d.to_string()).as_deref(),
            Some("2024-03-02")
        );
        assert_eq!(date(&r, "C"), Ok(None));
        assert!(date(&r, "D").is_err());
    }
}
