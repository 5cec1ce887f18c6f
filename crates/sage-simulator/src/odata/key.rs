//! Entity keys in a resource path: `ARCustomers('1200')`, `ARCustomers(CustomerNumber='1200')`,
//! `TXTaxGroups(TaxGroupKey='CALIF',TransactionType='Sales')`.

/// One key value from the parentheses.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    /// A quoted string, `''` un-doubled.
    String(String),
    /// An unquoted number, kept as written.
    Number(String),
}

impl KeyValue {
    /// The value as text (a number as written).
    pub fn as_text(&self) -> &str {
        match self {
            KeyValue::String(s) | KeyValue::Number(s) => s,
        }
    }
}

/// The parsed parentheses of a single-entity path.
#[derive(Debug, Clone, PartialEq)]
pub enum EntityKey {
    /// `('X')` or `(12)`.
    Single(KeyValue),
    /// `(A='X',B=2)` in the order written.
    Named(Vec<(String, KeyValue)>),
}

/// Why a key could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid entity key: {0}")]
pub struct KeyError(pub String);

/// Splits a (percent-decoded) path segment such as `ARCustomers('X')` into the resource name
/// and the text between the outer parentheses. A segment without `(` is a plain resource name.
///
/// # Errors
/// A [`KeyError`] when there is a `(` but the segment does not end with `)`.
pub fn split_segment(segment: &str) -> Result<(&str, Option<&str>), KeyError> {
    match segment.find('(') {
        None => Ok((segment, None)),
        Some(open) => {
            let inner = segment[open + 1..]
                .strip_suffix(')')
                .ok_or_else(|| KeyError(format!("'{segment}' does not end with ')'")))?;
            Ok((&segment[..open], Some(inner)))
        }
    }
}

/// Parses the text between the parentheses.
///
/// # Errors
/// A [`KeyError`] when it is not one literal or a list of `Name=literal`.
pub fn parse_key(inner: &str) -> Result<EntityKey, KeyError> {
    let chars: Vec<char> = inner.chars().collect();
    let mut pos = 0;
    skip_ws(&chars, &mut pos);
    // Named form?
    let name_end = {
        let mut i = pos;
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        i
    };
    let mut j = name_end;
    skip_ws(&chars, &mut j);
    if name_end > pos && chars.get(j) == Some(&'=') && chars[pos].is_ascii_alphabetic() {
        let mut parts = Vec::new();
        loop {
            skip_ws(&chars, &mut pos);
            let start = pos;
            while pos < chars.len() && (chars[pos].is_ascii_alphanumeric() || chars[pos] == '_') {
                pos += 1;
            }
            if pos == start {
                return Err(KeyError(format!("expected a key name in '({inner})'")));
            }
            let name: String = chars[start..pos].iter().collect();
            skip_ws(&chars, &mut pos);
            if chars.get(pos) != Some(&'=') {
                return Err(KeyError(format!("expected '=' after '{name}'")));
            }
            pos += 1;
            skip_ws(&chars, &mut pos);
            let value = literal(&chars, &mut pos, inner)?;
            if parts.iter().any(|(n, _)| n == &name) {
                return Err(KeyError(format!("key '{name}' given twice")));
            }
            parts.push((name, value));
            skip_ws(&chars, &mut pos);
            match chars.get(pos) {
                None => return Ok(EntityKey::Named(parts)),
                Some(',') => pos += 1,
                Some(c) => return Err(KeyError(format!("unexpected '{c}' in '({inner})'"))),
            }
        }
    }
    let value = literal(&chars, &mut pos, inner)?;
    skip_ws(&chars, &mut pos);
    if pos != chars.len() {
        return Err(KeyError(format!(
            "unexpected text after the key in '({inner})'"
        )));
    }
    Ok(EntityKey::Single(value))
}

fn skip_ws(chars: &[char], pos: &mut usize) {
    while chars.get(*pos).is_some_and(|c| *c == ' ') {
        *pos += 1;
    }
}

fn literal(chars: &[char], pos: &mut usize, inner: &str) -> Result<KeyValue, KeyError> {
    // A qualified enum literal `Ns.Type'Member'` counts as the string `Member`.
    let mut i = *pos;
    while i < chars.len()
        && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
    {
        i += 1;
    }
    if i > *pos && chars.get(i) == Some(&'\'') && chars[*pos..i].contains(&'.') {
        *pos = i;
    }
    match chars.get(*pos) {
        Some('\'') => {
            let mut s = String::new();
            let mut i = *pos + 1;
            loop {
                match chars.get(i) {
                    None => return Err(KeyError(format!("unterminated string in '({inner})'"))),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        *pos = i + 1;
                        return Ok(KeyValue::String(s));
                    }
                    Some(c) => {
                        s.push(*c);
                        i += 1;
                    }
                }
            }
        }
        Some(c) if c.is_ascii_digit() || *c == '-' => {
            let start = *pos;
            *pos += 1;
            while chars
                .get(*pos)
                .is_some_and(|c| c.is_ascii_digit() || *c == '.')
            {
                *pos += 1;
            }
            let text: String = chars[start..*pos].iter().collect();
            if text.parse::<f64>().is_err() {
                return Err(KeyError(format!("malformed number '{text}'")));
            }
            Ok(KeyValue::Number(text))
        }
        _ => Err(KeyError(format!(
            "expected a quoted string or a number in '({inner})'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn s(v: &str) -> KeyValue {
        KeyValue::String(v.into())
    }

    #[test]
    fn single_and_named() {
        assert_eq!(parse_key("'1200'").unwrap(), EntityKey::Single(s("1200")));
        assert_eq!(
            parse_key("'O''BRIEN'").unwrap(),
            EntityKey::Single(s("O'BRIEN"))
        );
        assert_eq!(
            parse_key("65").unwrap(),
            EntityKey::Single(KeyValue::Number("65".into()))
        );
        assert_eq!(
            parse_key("TaxGroupKey='CALIF', TransactionType='Sales'").unwrap(),
            EntityKey::Named(vec![
                ("TaxGroupKey".into(), s("CALIF")),
                ("TransactionType".into(), s("Sales"))
            ])
        );
        assert_eq!(
            parse_key("TransactionType=Sage.TX.TransactionType'Sales',TaxGroupKey='A,B'").unwrap(),
            EntityKey::Named(vec![
                ("TransactionType".into(), s("Sales")),
                ("TaxGroupKey".into(), s("A,B"))
            ])
        );
        assert_eq!(
            split_segment("ARCustomers('A(B)')").unwrap(),
            ("ARCustomers", Some("'A(B)'"))
        );
        assert_eq!(split_segment("ARCustomers").unwrap(), ("ARCustomers", None));
    }

    #[test]
    fn malformed() {
        for k in [
            "",
            "'abc",
            "abc",
            "'a' 'b'",
            "A='x',",
            "A='x',A='y'",
            "A=",
            "=1",
            "'a'b",
            "1-2",
        ] {
            assert!(
                parse_key(k).is_err(),
                "{k:?} should fail: {:?}",
                parse_key(k)
            );
        }
        assert!(split_segment("ARCustomers('x'").is_err());
    }
}
