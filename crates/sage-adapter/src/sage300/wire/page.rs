//! List pages: the OData envelope (count, next link), the next link scanned ahead of the
//! parse, and single entities.

use serde::Deserialize;
use serde_json::Value;

use super::reference::RefRow;
use super::{Entity, protocol, strip_bom};
use crate::errors::excerpt;

/// `{"@odata.context", "@odata.count", "value": [...], "@odata.nextLink"}`; the v3 spelling
/// (`odata.count`, `odata.nextLink`) is accepted too. `R` is a row: a whole [`Entity`] or a
/// [`RefRow`] that keeps only what a reference record needs.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "R: Deserialize<'de>"))]
struct PageEnvelope<R> {
    value: Vec<R>,
    #[serde(rename = "@odata.count", alias = "odata.count", default)]
    count: Option<Count>,
    #[serde(rename = "@odata.nextLink", alias = "odata.nextLink", default)]
    next_link: Option<String>,
}

/// `@odata.count` is a number (v4) or a string (the 2022 Developer Reference).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Count {
    Number(u64),
    Text(String),
}

/// A page of a list, still raw.
#[derive(Debug)]
pub(crate) struct Page<R> {
    pub(crate) rows: Vec<R>,
    pub(crate) count: Option<u64>,
    pub(crate) next_link: Option<String>,
}

/// Reads a list page with rows of type `R`.
pub(crate) fn parse_page_of<'a, R: Deserialize<'a>>(body: &'a [u8]) -> Result<Page<R>, String> {
    let envelope: PageEnvelope<R> = serde_json::from_slice(strip_bom(body))
        .map_err(|e| protocol(&format!("not an OData list ({e})"), body))?;
    let count = match envelope.count {
        None => None,
        Some(Count::Number(n)) => Some(n),
        Some(Count::Text(t)) => Some(
            t.trim()
                .parse()
                .map_err(|_| protocol(&format!("@odata.count `{t}` is not a number"), body))?,
        ),
    };
    Ok(Page {
        rows: envelope.value,
        count,
        next_link: envelope.next_link.filter(|l| !l.trim().is_empty()),
    })
}

/// Reads a list page, every row whole (customers: not a hot path).
pub(crate) fn parse_page(body: &[u8]) -> Result<Page<Entity>, String> {
    parse_page_of(body)
}

/// Reads a list page of reference rows, keeping only the properties in [`Prop`] (borrowed from
/// `body` where the JSON has no escapes).
pub(crate) fn parse_reference_page(body: &[u8]) -> Result<Page<RefRow<'_>>, String> {
    parse_page_of(body)
}

/// The next link of a list page, found **without parsing the page**: the string value of the
/// last `"@odata.nextLink"` (or v3 `"odata.nextLink"`) key in `body`. OData writes the link
/// after `value`, so this finds it near the end and reads one JSON string from there. A hint
/// only (a prefetch is started on it): it can be fooled by a row holding that text, so the
/// link [`parse_reference_page`] reads is the one that counts. Blank links are none, as there.
pub(crate) fn scan_next_link(body: &[u8]) -> Option<String> {
    const KEYS: [&[u8]; 2] = [b"\"@odata.nextLink\"", b"\"odata.nextLink\""];
    let end = KEYS
        .iter()
        .filter_map(|key| rfind(body, key).map(|at| at + key.len()))
        .max()?;
    let rest = body.get(end..)?;
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let value = rest.get(colon..)?.strip_prefix(b":")?;
    let mut de = serde_json::Deserializer::from_slice(value);
    let link = String::deserialize(&mut de).ok()?;
    (!link.trim().is_empty()).then_some(link)
}

/// Where the last occurrence of `needle` starts in `hay`.
fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&last, _) = needle.split_last()?;
    (needle.len() - 1..hay.len())
        .rev()
        .find(|&i| hay[i] == last && hay[..=i].ends_with(needle))
        .map(|i| i + 1 - needle.len())
}

/// Row `index` of the list page `body` as compact JSON, for an error message (re-parses the
/// page: only called when a row is refused).
pub(crate) fn row_text(body: &[u8], index: usize) -> String {
    match parse_page(body) {
        Ok(page) => match page.rows.into_iter().nth(index) {
            Some(row) => Value::Object(row).to_string(),
            None => excerpt(body),
        },
        Err(_) => excerpt(body),
    }
}

/// Reads one entity (a bare JSON object).
pub(crate) fn parse_entity(body: &[u8]) -> Result<Entity, String> {
    serde_json::from_slice::<Entity>(strip_bom(body))
        .map_err(|e| protocol(&format!("not a JSON entity ({e})"), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_pages_keep_the_envelope_tolerances() {
        let v3 = br#"{"odata.count":" 7 ","value":[],"odata.nextLink":"  "}"#;
        let page = parse_reference_page(v3).expect("v3");
        assert_eq!((page.count, page.next_link), (Some(7), None));
        let bom =
            b"\xEF\xBB\xBF{\"value\":[{\"GroupCode\":\"A\"}],\"@odata.nextLink\":\"x?$skip=1\"}";
        let page = parse_reference_page(bom).expect("bom");
        assert_eq!(page.next_link.as_deref(), Some("x?$skip=1"));
        for bad in [
            &br#"{"value":{"GroupCode":"A"}}"#[..],
            br#"{"value":[1]}"#,
            br#"{"value":["A"]}"#,
            br#"{"@odata.count":"many","value":[]}"#,
            br#"{"@odata.count":1,"odata.count":1,"value":[]}"#,
            br#"{"count":1}"#,
            b"<html/>",
        ] {
            assert_eq!(
                parse_reference_page(bad).is_ok(),
                parse_page(bad).is_ok(),
                "{}",
                String::from_utf8_lossy(bad)
            );
            assert!(parse_reference_page(bad).is_err());
        }
    }

    /// The scan finds what the full parse finds on every well-formed envelope: both spellings,
    /// escapes decoded, whitespace around the colon, a BOM, blank links as none, no link.
    #[test]
    fn the_scanned_next_link_is_the_parsed_one() {
        for page in [
            &br#"{"@odata.count":2,"value":[{"GroupCode":"A"}],"@odata.nextLink":"http://h/x?$skip=1"}"#[..],
            br#"{"value":[],"odata.nextLink" :
                "ARTerms?$count=true&$skip=1"}"#,
            br#"{"value":[],"@odata.nextLink":"x?$filter=A%20eq%20\u0027B\u0027\/"}"#,
            b"\xEF\xBB\xBF{\"value\":[],\"@odata.nextLink\":\"x?$skip=2\"}",
            br#"{"value":[],"@odata.nextLink":"  "}"#,
            br#"{"value":[],"@odata.nextLink":null}"#,
            br#"{"value":[{"GroupCode":"A"}]}"#,
            br#"{"@odata.nextLink":"first?$skip=3","value":[{"GroupCode":"A"}]}"#,
        ] {
            let parsed = parse_reference_page(page).expect("a page").next_link;
            assert_eq!(
                scan_next_link(page),
                parsed,
                "{}",
                String::from_utf8_lossy(page)
            );
        }
        assert_eq!(
            scan_next_link(br#"{"value":[],"@odata.nextLink":"x?$filter=\u0027B\u0027"}"#)
                .as_deref(),
            Some("x?$filter='B'")
        );
    }

    /// Where the scan is fooled or finds nothing usable, the full parse still decides: a row
    /// whose text ends in the key, a truncated body, a key that is not followed by a string.
    #[test]
    fn the_scan_is_only_a_hint() {
        let fooled = br#"{"value":[{"GroupCode":"A","Description":"x \"@odata.nextLink"}]}"#;
        assert_eq!(scan_next_link(fooled), None);
        assert_eq!(
            parse_reference_page(fooled).expect("a page").next_link,
            None
        );
        let nested = br#"{"value":[{"GroupCode":"A","X":{"a\"@odata.nextLink":"evil"}}]}"#;
        assert_eq!(scan_next_link(nested).as_deref(), Some("evil"));
        assert_eq!(
            parse_reference_page(nested).expect("a page").next_link,
            None
        );
        assert_eq!(
            scan_next_link(br#"{"value":[],"@odata.nextLink":"x?$sk"#),
            None
        );
        assert_eq!(scan_next_link(br#"{"@odata.nextLink""#), None);
        assert_eq!(scan_next_link(br#"{"@odata.nextLink":3}"#), None);
        assert_eq!(scan_next_link(b""), None);
    }
}
