//! ERP records as data: the ERP's own field names and values, in the ERP's order.

use std::fmt;

/// A value from an ERP record.
#[derive(Debug, Clone, PartialEq)]
pub enum ErpValue {
    /// Text.
    Text(String),
    /// A number (amounts, counts), exactly as the ERP wrote it.
    Number(ErpNumber),
    /// A boolean.
    Bool(bool),
    /// No value (`null`, `xsi:nil`).
    Null,
}

impl fmt::Display for ErpValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErpValue::Text(t) => f.write_str(t),
            ErpValue::Number(n) => f.write_str(n.as_str()),
            ErpValue::Bool(b) => write!(f, "{b}"),
            ErpValue::Null => Ok(()),
        }
    }
}

/// A number from an ERP, kept as its decimal text so nothing is lost to a float:
/// `9007199254740993` stays `9007199254740993`, `2` stays `2` and `2.50` stays `2.50`. The
/// text is a JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
///
/// ```
/// # use crm2sage_domain::ErpNumber;
/// assert_eq!(ErpNumber::parse("9007199254740993").unwrap().as_str(), "9007199254740993");
/// assert!(ErpNumber::parse("1e").is_err());
/// assert_eq!(ErpNumber::from(2u64).as_str(), "2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErpNumber(String);

/// Why a text is not an [`ErpNumber`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a decimal number (JSON number syntax)")]
pub struct ErpNumberError {
    /// The refused text.
    pub text: String,
}
crate::error_class::one_code!(ErpNumberError => "invalid_input", Invalid);

impl ErpNumber {
    /// `text` as a number, when it is one in JSON number syntax (no spaces, no `+`, no
    /// `NaN`/infinities).
    pub fn parse(text: &str) -> Result<Self, ErpNumberError> {
        if is_json_number(text.as_bytes()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(ErpNumberError {
                text: text.to_owned(),
            })
        }
    }

    /// The number's text, exactly as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<u64> for ErpNumber {
    fn from(n: u64) -> Self {
        Self(n.to_string())
    }
}

impl From<i64> for ErpNumber {
    fn from(n: i64) -> Self {
        Self(n.to_string())
    }
}

impl fmt::Display for ErpNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_json_number(b: &[u8]) -> bool {
    fn digits(b: &[u8], i: &mut usize) -> usize {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    }
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(b, &mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(b, &mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(b, &mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A record as the ERP returned it: an ordered list of (field name, value), in the order the
/// adapter gives it, some fields with a label the adapter supplies for people (the fields worth
/// showing first). It is data from outside: reading it never bypasses a domain rule.
#[derive(Debug, Clone, Default)]
pub struct ErpRecord(Vec<(String, ErpValue)>, Vec<(String, String)>);

/// Labels are presentation, not data: two records with the same fields are equal.
impl PartialEq for ErpRecord {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl ErpRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a field (or replaces it in place when present).
    pub fn push(&mut self, name: impl Into<String>, value: ErpValue) {
        let name = name.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&ErpValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The text of `name`, when it is non-empty text.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(ErpValue::Text(t)) if !t.is_empty() => Some(t),
            _ => None,
        }
    }

    /// The number of `name` (a number, or text that parses as one), as the nearest `f64`:
    /// for arithmetic, not for showing (use the [`ErpNumber`]'s text for that).
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Some(ErpValue::Number(n)) => n.as_str().parse().ok(),
            Some(ErpValue::Text(t)) => t.trim().parse().ok(),
            _ => None,
        }
    }

    /// Fields in the ERP's order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &ErpValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Labels the field `name` for people (the adapter's word for it); ignored when absent.
    pub fn set_label(&mut self, name: &str, label: impl Into<String>) {
        if self.get(name).is_none() {
            return;
        }
        let label = label.into();
        match self.1.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = label,
            None => self.1.push((name.to_owned(), label)),
        }
    }

    /// The label of `name`, when the adapter gave it one.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.1
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| l.as_str())
    }

    /// The labelled fields as (label, field name, value), in the record's order.
    pub fn labelled(&self) -> impl Iterator<Item = (&str, &str, &ErpValue)> {
        self.fields()
            .filter_map(|(n, v)| self.label(n).map(|l| (l, n, v)))
    }

    /// Only the labelled fields (the ones worth showing first), in the record's order, with
    /// their labels: what a promotion keeps of the ERP's answer, the rest being read live.
    pub fn headline(&self) -> ErpRecord {
        let fields = self
            .0
            .iter()
            .filter(|(n, _)| self.label(n).is_some())
            .cloned()
            .collect();
        ErpRecord(fields, self.1.clone())
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// As [`ErpRecord::push`] for each field (a repeated name replaces the value in place), in
/// linear time: a Sage customer has some 150 fields.
impl FromIterator<(String, ErpValue)> for ErpRecord {
    fn from_iter<I: IntoIterator<Item = (String, ErpValue)>>(iter: I) -> Self {
        let mut fields: Vec<(String, ErpValue)> = Vec::new();
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (name, value) in iter {
            match at.get(&name).and_then(|&i| fields.get_mut(i)) {
                Some(slot) => slot.1 = value,
                None => {
                    at.insert(name.clone(), fields.len());
                    fields.push((name, value));
                }
            }
        }
        ErpRecord(fields, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collecting_replaces_a_repeated_name_in_place() {
        let r: ErpRecord = [
            ("A".to_owned(), ErpValue::Text("1".into())),
            ("B".to_owned(), ErpValue::Bool(true)),
            ("A".to_owned(), ErpValue::Text("2".into())),
        ]
        .into_iter()
        .collect();
        let fields: Vec<_> = r.fields().collect();
        assert_eq!(
            fields,
            [
                ("A", &ErpValue::Text("2".into())),
                ("B", &ErpValue::Bool(true))
            ]
        );
    }

    #[test]
    fn the_headline_is_the_labelled_fields_in_order_with_their_labels() {
        let mut r = ErpRecord::new();
        r.push("Number", ErpValue::Text("1200".into()));
        r.push("Noise", ErpValue::Null);
        r.push("Name", ErpValue::Text("Ronald".into()));
        r.set_label("Name", "Name");
        r.set_label("Number", "No.");
        let h = r.headline();
        let names: Vec<_> = h.fields().map(|(n, _)| n).collect();
        assert_eq!(names, ["Number", "Name"]);
        assert_eq!(h.label("Number"), Some("No."));
        assert_eq!(h.text("Name"), Some("Ronald"));
        assert!(ErpRecord::new().headline().is_empty());
    }

    #[test]
    fn keeps_order_and_replaces_in_place() {
        let mut r = ErpRecord::new();
        r.push("Number", ErpValue::Text("1200".into()));
        r.push("CreditLimit", ErpValue::Number(ErpNumber::from(5000u64)));
        r.push("Number", ErpValue::Text("1300".into()));
        let names: Vec<_> = r.fields().map(|(n, _)| n).collect();
        assert_eq!(names, ["Number", "CreditLimit"]);
        assert_eq!(r.text("Number"), Some("1300"));
        assert_eq!(r.number("CreditLimit"), Some(5000.0));
        assert_eq!(r.text("Missing"), None);
    }

    #[test]
    fn labels_follow_the_record_order_and_are_not_data() {
        let mut r = ErpRecord::new();
        r.push("a", ErpValue::Text("1".into()));
        r.push("b", ErpValue::Text("2".into()));
        let plain = r.clone();
        r.set_label("b", "Bee");
        r.set_label("a", "Ay");
        r.set_label("missing", "Nope");
        let shown: Vec<_> = r.labelled().map(|(l, n, _)| (l, n)).collect();
        assert_eq!(shown, [("Ay", "a"), ("Bee", "b")]);
        assert_eq!(r.label("missing"), None);
        assert_eq!(r, plain);
    }
}

#[cfg(test)]
mod number_tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text_and_refuse_what_is_no_number() {
        for ok in [
            "0",
            "-0",
            "2",
            "9007199254740993",
            "2.50",
            "-1.5e-3",
            "1E+10",
            "0.0",
        ] {
            assert_eq!(
                ErpNumber::parse(ok).map(|n| n.to_string()).as_deref(),
                Ok(ok)
            );
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "+1", " 1", "NaN", "inf", "1_000", "0x10",
        ] {
            assert!(ErpNumber::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(ErpNumber::from(-3i64).as_str(), "-3");
    }
}
