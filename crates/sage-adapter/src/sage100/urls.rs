//! Sage 100 SData URLs: `{root}/{COMPANY}/{Table}`, `where=` text, single-resource selectors
//! and paging cursors.

use percent_encoding::{AsciiSet, utf8_percent_encode};
use url::Url;

pub(crate) use crate::urls::string_literal;
use crate::urls::{QUERY_VALUE, UNRESERVED, push_query, unreachable_root};

/// Encoded in a path segment: everything but RFC 3986 unreserved characters and the selector's
/// `;` (a sub-delimiter, allowed in a segment), so a space, `/`, `#`, `?`, `%` and `'` are
/// always escaped.
const PATH_SEGMENT: &AsciiSet = &UNRESERVED;

/// `A eq 'a' and B eq 'b'` for every (column, value) pair.
pub(crate) fn where_eq(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(column, value)| format!("{column} eq {}", string_literal(value)))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `s` trimmed when it is a plain path segment: not empty, not `.`, and without `/`, `\`,
/// `..`, `?` or `#` (a `$schema` `sme:path` that is not is ignored).
pub(crate) fn plain_segment(s: &str) -> Option<&str> {
    let s = s.trim();
    let plain =
        !s.is_empty() && s != "." && !s.contains("..") && !s.contains(['/', '\\', '?', '#']);
    plain.then_some(s)
}

/// The URLs of one company.
#[derive(Debug, Clone)]
pub(crate) struct Sage100Urls {
    /// `{root}/{COMPANY}` without a trailing slash.
    company_root: String,
    /// Scheme, host and port of the root: links elsewhere are not followed as given.
    origin: url::Origin,
}

impl Sage100Urls {
    /// The URLs of `company` under the SData `root` (up to the contract, e.g.
    /// `https://erp/sdata/MasApp/MasContract`).
    pub(crate) fn new(root: &str, company: &str) -> Result<Self, String> {
        let company_root = format!(
            "{}/{}",
            root.trim_end_matches('/'),
            utf8_percent_encode(company, PATH_SEGMENT)
        );
        let parsed = Url::parse(&company_root).map_err(|e| e.to_string())?;
        if parsed.cannot_be_a_base() || parsed.query().is_some() || parsed.fragment().is_some() {
            return Err("not a base URL".to_owned());
        }
        Ok(Self {
            origin: parsed.origin(),
            company_root,
        })
    }

    /// `{company root}/{table}?{query}`; `query` values are encoded here (names as given).
    pub(crate) fn resource(&self, table: &str, query: &[(&str, &str)]) -> Url {
        let mut s = format!(
            "{}/{}",
            self.company_root,
            utf8_percent_encode(table, PATH_SEGMENT)
        );
        push_query(&mut s, query);
        self.parse(&s)
    }

    /// `{company root}/$schema`.
    pub(crate) fn schema(&self) -> Url {
        self.parse(&format!("{}/$schema", self.company_root))
    }

    /// `{company root}/{table}(k1;k2)`: the unquoted, `;`-joined selector Sage 100 clients send,
    /// each part percent-encoded.
    pub(crate) fn single(&self, table: &str, keys: &[&str]) -> Url {
        let selector = keys
            .iter()
            .map(|k| utf8_percent_encode(k, PATH_SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join(";");
        self.parse(&format!(
            "{}/{}({selector})",
            self.company_root,
            utf8_percent_encode(table, PATH_SEGMENT)
        ))
    }

    /// The URL a `next` link points at. A relative link is resolved against the page that
    /// carried it. A link on another origin (a server behind a proxy writing its internal host
    /// name) is not followed as given — the credentials would go elsewhere — but its query is
    /// applied to this company's `table` URL.
    pub(crate) fn next_page(&self, page_url: &Url, link: &str, table: &str) -> Result<Url, String> {
        let resolved = page_url
            .join(link.trim())
            .map_err(|e| format!("next link `{link}` is not a URL: {e}"))?;
        if resolved.origin() == self.origin {
            return Ok(resolved);
        }
        let mut s = format!(
            "{}/{}",
            self.company_root,
            utf8_percent_encode(table, PATH_SEGMENT)
        );
        if let Some(q) = resolved.query() {
            s.push('?');
            s.push_str(q);
        }
        Ok(self.parse(&s))
    }

    /// Parses a cursor this gateway produced (an absolute URL on our origin).
    pub(crate) fn cursor_url(&self, cursor: &str, table: &str) -> Result<Url, String> {
        let root = self.parse(&self.company_root);
        self.next_page(&root, cursor, table)
    }

    fn parse(&self, s: &str) -> Url {
        // Everything appended to the (already parsed) company root is percent-encoded ASCII,
        // so this cannot fail; fall back to the root rather than panic.
        Url::parse(s).unwrap_or_else(|_| {
            Url::parse(&self.company_root).unwrap_or_else(|_| unreachable_root())
        })
    }
}

/// `url` with the query parameter `name` set to `value` (replaced when present, appended
/// otherwise), every other parameter kept as it was.
pub(crate) fn with_param(url: &Url, name: &str, value: &str) -> Url {
    let mut out = url.clone();
    let mut replaced = false;
    let mut parts: Vec<String> = Vec::new();
    for part in url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let key = part.split('=').next().unwrap_or("");
        if key.eq_ignore_ascii_case(name) {
            if !replaced {
                parts.push(format!(
                    "{name}={}",
                    utf8_percent_encode(value, QUERY_VALUE)
                ));
                replaced = true;
            }
        } else {
            parts.push(part.to_owned());
        }
    }
    if !replaced {
        parts.push(format!(
            "{name}={}",
            utf8_percent_encode(value, QUERY_VALUE)
        ));
    }
    out.set_query(Some(&parts.join("&")));
    out
}

/// The value of query parameter `name` (case-insensitive name), decoded.
pub(crate) fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> Sage100Urls {
        Sage100Urls::new("http://h/sdata/MasApp/MasContract/", "ABC").expect("urls")
    }

    #[test]
    fn where_text_doubles_quotes_and_is_percent_encoded() {
        let text = where_eq(&[("ARDivisionNo", "01"), ("CustomerNo", "O'B")]);
        assert_eq!(text, "ARDivisionNo eq '01' and CustomerNo eq 'O''B'");
        let url = urls().resource("AR_Customer", &[("where", &text)]);
        assert_eq!(
            url.as_str(),
            "http://h/sdata/MasApp/MasContract/ABC/AR_Customer?where=ARDivisionNo%20eq%20%2701%27%20and%20CustomerNo%20eq%20%27O%27%27B%27"
        );
        assert_eq!(param(&url, "where").as_deref(), Some(text.as_str()));
    }

    #[test]
    fn selectors_are_unquoted_and_joined() {
        assert_eq!(
            urls().single("AR_Customer", &["01", "ABC"]).as_str(),
            "http://h/sdata/MasApp/MasContract/ABC/AR_Customer(01;ABC)"
        );
        assert_eq!(
            urls().schema().as_str(),
            "http://h/sdata/MasApp/MasContract/ABC/$schema"
        );
    }

    #[test]
    fn next_links_stay_on_our_origin_and_params_are_replaced() {
        let u = urls();
        let page = u.resource("AR_TermsCode", &[("startIndex", "1"), ("count", "2")]);
        let rel = u
            .next_page(&page, "AR_TermsCode?startIndex=3&count=2", "AR_TermsCode")
            .expect("rel");
        assert_eq!(
            rel.as_str(),
            "http://h/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=3&count=2"
        );
        let foreign = u
            .next_page(
                &page,
                "http://internal:8080/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=5&count=2",
                "AR_TermsCode",
            )
            .expect("foreign");
        assert_eq!(
            foreign.as_str(),
            "http://h/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=5&count=2"
        );
        assert_eq!(u.cursor_url(rel.as_str(), "AR_TermsCode").expect("c"), rel);
        let moved = with_param(&page, "startIndex", "7");
        assert_eq!(
            moved.as_str(),
            "http://h/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=7&count=2"
        );
        let added = with_param(&u.resource("AR_Division", &[]), "startIndex", "3");
        assert_eq!(param(&added, "STARTINDEX").as_deref(), Some("3"));
    }
}
