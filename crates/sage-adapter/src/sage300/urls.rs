//! Sage 300 Web API URLs: `{root}/v1.0/-/{COMPANY}/{MODULE}/{Resource}`, entity keys as OData
//! string literals, `$filter` text, and following next links.

use percent_encoding::{AsciiSet, utf8_percent_encode};
use url::Url;

pub(crate) use crate::urls::string_literal;
use crate::urls::{UNRESERVED, push_query, unreachable_root};

/// Encoded in a path segment: everything but RFC 3986 unreserved characters and `'` (a
/// sub-delimiter that OData literals are quoted with; kept readable). So a space, `/`, `#`,
/// `?` and `%` inside a key are always escaped.
const KEY_SEGMENT: &AsciiSet = &UNRESERVED.remove(b'\'');

/// `Name eq 'value'` with the value as an OData literal.
pub(crate) fn eq_filter(property: &str, value: &str) -> String {
    format!("{property} eq {}", string_literal(value))
}

/// `url` asking for the rows after the first `rows`: its `$skip` replaced (or added), the rest
/// of its query kept as it was written.
pub(crate) fn with_skip(url: &Url, rows: u64) -> Url {
    let mut next = url.clone();
    let mut parts: Vec<String> = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("$skip=") && !p.starts_with("%24skip="))
        .map(str::to_owned)
        .collect();
    parts.push(format!("$skip={rows}"));
    next.set_query(Some(&parts.join("&")));
    next
}

/// The URLs of one company.
#[derive(Debug, Clone)]
pub(crate) struct Sage300Urls {
    /// `{root}/v1.0/-/{COMPANY}` without a trailing slash.
    company_root: String,
    /// Scheme, host and port of the root: next links elsewhere are not followed as given.
    origin: url::Origin,
    /// The path of the company root with a trailing `/` (`/Sage300WebApi/v1.0/-/SAMLTD/`): a
    /// next link on our origin must stay under it.
    company_path: String,
}

impl Sage300Urls {
    /// The URLs of `company` under the Web API `root` (e.g. `https://erp/Sage300WebApi`).
    pub(crate) fn new(root: &str, company: &str) -> Result<Self, String> {
        let company_root = format!(
            "{}/v1.0/-/{}",
            root.trim_end_matches('/'),
            utf8_percent_encode(company, KEY_SEGMENT)
        );
        let parsed = Url::parse(&company_root).map_err(|e| e.to_string())?;
        if parsed.cannot_be_a_base() || parsed.query().is_some() {
            return Err("not a base URL".to_owned());
        }
        Ok(Self {
            origin: parsed.origin(),
            company_path: format!("{}/", parsed.path().trim_end_matches('/')),
            company_root,
        })
    }

    /// `{company root}/{resource}?{query}`; `query` pairs are encoded here (names as given).
    pub(crate) fn resource(&self, resource: &str, query: &[(&str, &str)]) -> Url {
        let mut s = format!("{}/{resource}", self.company_root);
        push_query(&mut s, query);
        self.parse(&s)
    }

    /// `{company root}/{resource}('KEY')`, the key quoted, `'` doubled, percent-encoded.
    pub(crate) fn entity(&self, resource: &str, key: &str) -> Url {
        let literal = utf8_percent_encode(&string_literal(key), KEY_SEGMENT).to_string();
        self.parse(&format!("{}/{resource}({literal})", self.company_root))
    }

    /// `{company root}/{resource}(Name1='v1',Name2='v2')`: OData v4's composite-key form, each
    /// value quoted, `'` doubled, percent-encoded.
    pub(crate) fn composite(&self, resource: &str, keys: &[(&str, &str)]) -> Url {
        let parts: Vec<String> = keys
            .iter()
            .map(|(name, value)| {
                format!(
                    "{name}={}",
                    utf8_percent_encode(&string_literal(value), KEY_SEGMENT)
                )
            })
            .collect();
        self.parse(&format!(
            "{}/{resource}({})",
            self.company_root,
            parts.join(",")
        ))
    }

    /// The URL of the page a next link points at. A relative link is resolved against the URL
    /// of the page that carried it. A link on another origin (a server behind a proxy that
    /// writes its internal host name) is not followed as given — the credentials would go
    /// elsewhere — but its query is applied to this company's `resource` URL.
    pub(crate) fn next_page(
        &self,
        page_url: &Url,
        link: &str,
        resource: &str,
    ) -> Result<Url, String> {
        let resolved = page_url
            .join(link.trim())
            .map_err(|e| format!("next link `{link}` is not a URL: {e}"))?;
        if resolved.origin() == self.origin {
            if !resolved.path().starts_with(&self.company_path) {
                return Err(format!(
                    "the next link `{link}` leaves this company ({}); it is not followed",
                    self.company_path
                ));
            }
            return Ok(resolved);
        }
        let mut s = format!("{}/{resource}", self.company_root);
        if let Some(q) = resolved.query() {
            s.push('?');
            s.push_str(q);
        }
        Ok(self.parse(&s))
    }

    /// Parses a cursor this gateway produced (an absolute URL on our origin).
    pub(crate) fn cursor_url(&self, cursor: &str, resource: &str) -> Result<Url, String> {
        let root = self.parse(&self.company_root);
        self.next_page(&root, cursor, resource)
    }

    fn parse(&self, s: &str) -> Url {
        // Everything appended to the (already parsed) company root is percent-encoded ASCII,
        // so this cannot fail; fall back to the root rather than panic.
        Url::parse(s).unwrap_or_else(|_| {
            Url::parse(&self.company_root).unwrap_or_else(|_| unreachable_root())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> Sage300Urls {
        Sage300Urls::new("http://h/Sage300WebApi/", "SAMLTD").expect("urls")
    }

    #[test]
    fn entity_keys_are_quoted_doubled_and_encoded() {
        let u = urls();
        assert_eq!(
            u.entity("AR/ARCustomers", "O'BRIEN").as_str(),
            "http://h/Sage300WebApi/v1.0/-/SAMLTD/AR/ARCustomers('O''BRIEN')"
        );
        assert_eq!(
            u.entity("AR/ARCustomers", "A/B #?%1 X").as_str(),
            "http://h/Sage300WebApi/v1.0/-/SAMLTD/AR/ARCustomers('A%2FB%20%23%3F%251%20X')"
        );
        assert_eq!(
            u.entity("AR/ARCustomers", "ÉLAN").as_str(),
            "http://h/Sage300WebApi/v1.0/-/SAMLTD/AR/ARCustomers('%C3%89LAN')"
        );
    }

    #[test]
    fn composite_keys_name_each_part() {
        assert_eq!(
            urls()
                .composite(
                    "AR/ARShipToLocations",
                    &[("CustomerNumber", "O'B R"), ("ShipToLocationKey", "WH1")]
                )
                .as_str(),
            "http://h/Sage300WebApi/v1.0/-/SAMLTD/AR/ARShipToLocations(CustomerNumber='O''B%20R',ShipToLocationKey='WH1')"
        );
    }

    #[test]
    fn filters_are_encoded_in_the_query() {
        let u = urls();
        let url = u.resource(
            "TX/TXTaxGroups",
            &[
                ("$filter", &eq_filter("TransactionType", "Sales")),
                ("$count", "true"),
            ],
        );
        assert_eq!(
            url.as_str(),
            "http://h/Sage300WebApi/v1.0/-/SAMLTD/TX/TXTaxGroups?$filter=TransactionType%20eq%20%27Sales%27&$count=true"
        );
        assert_eq!(
            eq_filter("CustomerNumber", "O'B"),
            "CustomerNumber eq 'O''B'"
        );
    }

    #[test]
    fn next_links_resolve_and_stay_on_our_origin() {
        let u = urls();
        let page = u.resource("AR/ARTerms", &[("$count", "true")]);
        let abs = u
            .next_page(
                &page,
                "http://h/Sage300WebApi/v1.0/-/SAMLTD/AR/ARTerms?$skip=2",
                "AR/ARTerms",
            )
            .expect("abs");
        assert_eq!(
            abs.as_str(),
            "http://h/Sage300WebApi/v1.0/-/SAMLTD/AR/ARTerms?$skip=2"
        );
        let rel = u
            .next_page(&page, "ARTerms?$skip=4", "AR/ARTerms")
            .expect("rel");
        assert_eq!(
            rel.as_str(),
            "http://h/Sage300WebApi/v1.0/-/SAMLTD/AR/ARTerms?$skip=4"
        );
        let foreign = u
            .next_page(
                &page,
                "http://internal:8080/Sage300WebApi/v1.0/-/SAMLTD/AR/ARTerms?$skip=6",
                "AR/ARTerms",
            )
            .expect("foreign");
        assert_eq!(
            foreign.as_str(),
            "http://h/Sage300WebApi/v1.0/-/SAMLTD/AR/ARTerms?$skip=6"
        );
        let again = u.cursor_url(abs.as_str(), "AR/ARTerms").expect("cursor");
        assert_eq!(again, abs);
    }
}
