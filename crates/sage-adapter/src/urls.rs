//! URL pieces both Sage flavours build with: percent-encoding sets, quoted string literals
//! (OData and SData quote and double `'` alike) and query strings.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// Everything but RFC 3986 unreserved characters is percent-encoded: a space is `%20`, `'` is
/// `%27`, so the `url` crate never re-encodes what we built.
pub(crate) const UNRESERVED: AsciiSet = NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encoded in a query value.
pub(crate) const QUERY_VALUE: &AsciiSet = &UNRESERVED;

/// A string literal as OData and SData write them: quoted, every `'` doubled.
pub(crate) fn string_literal(raw: &str) -> String {
    format!("'{}'", raw.replace('\'', "''"))
}

/// Appends `?name=value&…` to `s`, every value percent-encoded.
pub(crate) fn push_query(s: &mut String, query: &[(&str, &str)]) {
    for (i, (name, value)) in query.iter().enumerate() {
        s.push(if i == 0 { '?' } else { '&' });
        s.push_str(name);
        s.push('=');
        s.push_str(&utf8_percent_encode(value, QUERY_VALUE).to_string());
    }
}

/// A URL to fall back on where a URL built from an already-parsed root cannot fail to parse;
/// it exists so that no `unwrap` is needed.
pub(crate) fn unreachable_root() -> Url {
    match Url::parse("http://invalid.invalid/") {
        Ok(u) => u,
        Err(_) => unreachable_root(),
    }
}
