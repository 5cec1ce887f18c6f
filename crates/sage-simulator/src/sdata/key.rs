//! Single-resource selectors in SData URLs: `AR_Customer(01;ABC)` (the unquoted form Sage 100
//! clients send) and `AR_Customer('01;ABC')` (the spec's quoted form). Composite keys are joined
//! with `;` inside one selector.

/// Why a URL segment or its selector could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource selector: {0}")]
pub struct KeyError(pub String);

/// How a selector was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// `(01;ABC)`.
    Unquoted,
    /// `('01;ABC')`, `''` inside standing for one quote.
    Quoted,
}

/// A parsed selector: its form and its `;`-separated parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceKey {
    /// How it was written.
    pub form: KeyForm,
    /// The key values in order (e.g. `["01", "ABC"]`).
    pub parts: Vec<String>,
}

/// Splits `Kind(selector)` into the kind and the text inside the parentheses (percent-decoded
/// input expected). `Kind` alone gives no selector.
///
/// # Errors
/// A `(` without a final `)`, or text after it.
pub fn split_segment(segment: &str) -> Result<(&str, Option<&str>), KeyError> {
    let Some(open) = segment.find('(') else {
        if segment.contains(')') {
            return Err(KeyError(format!("unbalanced ')' in '{segment}'")));
        }
        return Ok((segment, None));
    };
    let Some(inner) = segment[open + 1..].strip_suffix(')') else {
        return Err(KeyError(format!(
            "'{segment}' must end with ')' after the selector"
        )));
    };
    Ok((&segment[..open], Some(inner)))
}

/// Parses the text inside the parentheses.
///
/// # Errors
/// An empty selector, an empty part, an unterminated quoted form or a lone quote.
pub fn parse_key(text: &str) -> Result<ResourceKey, KeyError> {
    if text.is_empty() {
        return Err(KeyError("empty selector '()'".to_owned()));
    }
    let (form, joined) = if let Some(rest) = text.strip_prefix('\'') {
        let Some(body) = rest.strip_suffix('\'') else {
            return Err(KeyError(format!("unterminated quoted selector ({text})")));
        };
        let mut out = String::new();
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    return Err(KeyError(format!(
                        "a quote inside a quoted selector must be doubled ({text})"
                    )));
                }
            }
            out.push(c);
        }
        (KeyForm::Quoted, out)
    } else {
        if text.contains('\'') {
            return Err(KeyError(format!("stray quote in selector ({text})")));
        }
        (KeyForm::Unquoted, text.to_owned())
    };
    let parts: Vec<String> = joined.split(';').map(str::to_owned).collect();
    if parts.iter().any(String::is_empty) {
        return Err(KeyError(format!("empty key part in ({text})")));
    }
    Ok(ResourceKey { form, parts })
}

/// Writes a selector in `form` (without the parentheses).
pub fn format_key(parts: &[&str], form: KeyForm) -> String {
    let joined = parts.join(";");
    match form {
        KeyForm::Unquoted => joined,
        KeyForm::Quoted => format!("'{}'", joined.replace('\'', "''")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn splits_and_parses_both_forms() {
        assert_eq!(split_segment("AR_Customer").unwrap(), ("AR_Customer", None));
        assert_eq!(
            split_segment("AR_Customer(01;ABC)").unwrap(),
            ("AR_Customer", Some("01;ABC"))
        );
        assert!(split_segment("AR_Customer(01;ABC").is_err());
        assert!(split_segment("AR_Customer(01)x").is_err());
        assert_eq!(
            parse_key("01;ABC").unwrap(),
            ResourceKey {
                form: KeyForm::Unquoted,
                parts: vec!["01".into(), "ABC".into()]
            }
        );
        assert_eq!(
            parse_key("'01;O''B'").unwrap(),
            ResourceKey {
                form: KeyForm::Quoted,
                parts: vec!["01".into(), "O'B".into()]
            }
        );
        for bad in ["", "'01;ABC", "01;", ";A", "'a'b'", "0'1"] {
            assert!(parse_key(bad).is_err(), "{bad}");
        }
        assert_eq!(format_key(&["01", "O'B"], KeyForm::Quoted), "'01;O''B'");
        assert_eq!(format_key(&["01", "ABC"], KeyForm::Unquoted), "01;ABC");
    }
}
