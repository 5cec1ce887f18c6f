//! The system query options of a list request: `$filter`, `$select`, `$top`, `$skip`,
//! `$count`, `$orderby` (and `$format=json`, accepted and ignored).
//!
//! Each option may appear once. An unknown `$option`, a repeated one, or a malformed value is a
//! [`QueryError`] (the server answers 400 `InvalidParameters`). Parameters without a `$` are
//! custom query options and are ignored, as OData does.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::filter::{self, Expr};

/// Why the query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// The parsed system query options.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// `$filter`, parsed.
    pub filter: Option<Expr>,
    /// `$filter` as sent (decoded), for the next link.
    pub filter_text: Option<String>,
    /// `$select`, property names in the order given (`None` for absent or `*`).
    pub select: Option<Vec<String>>,
    /// `$select` as sent, for the next link.
    pub select_text: Option<String>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip` (0 when absent).
    pub skip: usize,
    /// `$count=true`.
    pub count: bool,
    /// `$orderby`: property and descending flag, in order.
    pub orderby: Vec<(String, bool)>,
    /// `$orderby` as sent, for the next link.
    pub orderby_text: Option<String>,
}

/// Parses a raw (still percent-encoded) query string.
///
/// # Errors
/// A [`QueryError`] naming the offending option.
pub fn parse_query(raw: Option<&str>) -> Result<QueryOptions, QueryError> {
    let mut opts = QueryOptions::default();
    let mut seen: Vec<String> = Vec::new();
    let Some(raw) = raw else { return Ok(opts) };
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if !name.starts_with('$') {
            continue;
        }
        if seen.iter().any(|s| s == name.as_ref()) {
            return Err(QueryError(format!(
                "The query option '{name}' was specified more than once, but it must be specified at most once."
            )));
        }
        seen.push(name.to_string());
        let value = value.into_owned();
        match name.as_ref() {
            "$filter" => {
                let expr = filter::parse(&value).map_err(|e| QueryError(e.to_string()))?;
                opts.filter = Some(expr);
                opts.filter_text = Some(value);
            }
            "$select" => {
                let fields: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).collect();
                if fields.iter().any(|f| {
                    f.is_empty()
                        || !f
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '*')
                }) {
                    return Err(QueryError(format!("invalid $select '{value}'")));
                }
                if !fields.iter().any(|f| f == "*") {
                    opts.select = Some(fields);
                }
                opts.select_text = Some(value);
            }
            "$top" => opts.top = Some(non_negative("$top", &value)?),
            "$skip" => opts.skip = non_negative("$skip", &value)?,
            "$count" => {
                opts.count = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(QueryError(format!(
                            "invalid $count '{value}': expected true or false"
                        )));
                    }
                }
            }
            "$orderby" => {
                for part in value.split(',') {
                    let words: Vec<&str> = part.split_whitespace().collect();
                    let item = match words.as_slice() {
                        [p] => (p.to_string(), false),
                        [p, "asc"] => (p.to_string(), false),
                        [p, "desc"] => (p.to_string(), true),
                        _ => return Err(QueryError(format!("invalid $orderby '{value}'"))),
                    };
                    if !item
                        .0
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(QueryError(format!("invalid $orderby '{value}'")));
                    }
                    opts.orderby.push(item);
                }
                opts.orderby_text = Some(value);
            }
            "$format" if value == "json" || value.starts_with("application/json") => {}
            other => {
                return Err(QueryError(format!(
                    "The query option '{other}' is not supported."
                )));
            }
        }
    }
    Ok(opts)
}

fn non_negative(name: &str, value: &str) -> Result<usize, QueryError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError(format!(
            "invalid {name} '{value}': expected a non-negative integer"
        )));
    }
    value
        .parse()
        .map_err(|_| QueryError(format!("invalid {name} '{value}'")))
}

/// Characters escaped in query values of generated links.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'=')
    .add(b'\'')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']');

/// Builds the query string of the link to the page after `skip` items (without the `?`).
pub fn next_query(opts: &QueryOptions, next_skip: usize, remaining_top: Option<usize>) -> String {
    let mut parts = Vec::new();
    let mut push = |name: &str, value: &str| {
        parts.push(format!(
            "{name}={}",
            utf8_percent_encode(value, QUERY_VALUE)
        ))
    };
    if let Some(f) = &opts.filter_text {
        push("$filter", f);
    }
    if let Some(s) = &opts.select_text {
        push("$select", s);
    }
    if let Some(o) = &opts.orderby_text {
        push("$orderby", o);
    }
    if opts.count {
        push("$count", "true");
    }
    if let Some(t) = remaining_top {
        push("$top", &t.to_string());
    }
    push("$skip", &next_skip.to_string());
    parts.join("&")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_options() {
        let q = parse_query(Some("$filter=A%20eq%20'x'&$select=A,B&$top=5&$skip=10&$count=true&$orderby=A desc,B&foo=bar")).unwrap();
        assert!(q.filter.is_some());
        assert_eq!(q.select, Some(vec!["A".to_owned(), "B".to_owned()]));
        assert_eq!((q.top, q.skip, q.count), (Some(5), 10, true));
        assert_eq!(
            q.orderby,
            vec![("A".to_owned(), true), ("B".to_owned(), false)]
        );
        let next = next_query(&q, 20, Some(3));
        assert_eq!(
            next,
            "$filter=A%20eq%20%27x%27&$select=A,B&$orderby=A%20desc,B&$count=true&$top=3&$skip=20"
        );
        let again = parse_query(Some(&next)).unwrap();
        assert_eq!(again.filter_text.as_deref(), Some("A eq 'x'"));
    }

    #[test]
    fn refuses_bad_options() {
        for q in [
            "$top=-1",
            "$top=x",
            "$skip=1.5",
            "$count=yes",
            "$top=1&$top=2",
            "$filter=A eq",
            "$expand=X",
            "$select=A,,B",
            "$orderby=A sideways",
        ] {
            assert!(parse_query(Some(q)).is_err(), "{q} should fail");
        }
        assert!(parse_query(Some("$format=json")).is_ok());
    }
}
