//! Reading: an Atom feed of a table (`where`, `startIndex`, `count`, `select`, `orderBy`, paging
//! links), one entry by its selector, and `$schema`.

use std::cmp::Ordering as CmpOrdering;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::errors::ApiError;
use super::{AGING, ENTRY_TYPE, FEED_TYPE, RequestCtx, Shared, esc_path};
use crate::pipeline;
use crate::sage100::config::{CustomerBalance, KeySyntax, ResourceNamespace, SDataNextLink};
use crate::sage100::data::Sage100Record;
use crate::sage100::schema::Sage100Resource;
use crate::sage100::store::{Tables, key_of};
use crate::sdata::atom::{self, NS_SME, esc};
use crate::sdata::key::{self, KeyForm};
use crate::sdata::where_clause::{self, CmpOp, ColumnKind, Operand, Where};

impl Shared {
    pub(super) fn feed(
        &self,
        ctx: &RequestCtx,
        resource: Sage100Resource,
        query: Option<&str>,
    ) -> Result<Response, ApiError> {
        let q = parse_query(query, false)?;
        self.check_columns(resource, &q)?;
        if self.settings.reject_date_filter
            && let Some((_, w)) = &q.where_clause
            && w.columns().contains(&"DateUpdated")
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "BadWhereSyntax",
                "The where clause cannot filter on DateUpdated.",
            ));
        }
        let count = q
            .count
            .unwrap_or(self.settings.page_size)
            .min(self.settings.page_size);
        let start = q.start_index;
        // A where clause pinning the leading key columns reads only that key range.
        let prefix = q
            .where_clause
            .as_ref()
            .map(|(_, w)| key_prefix(resource, w))
            .unwrap_or_default();
        let (page, total) = {
            let mut tables = self.tables();
            // Paging through one query re-reads the keys it matched (until a row changes),
            // so a 50,000-row list costs one scan, not one per page.
            let cache_key = format!(
                "{}\u{0}{}",
                q.where_clause.as_ref().map_or("", |(t, _)| t.as_str()),
                q.order_by_text.as_deref().unwrap_or("")
            );
            let hits = if let Some(hits) = tables.cached_hits(resource, &cache_key) {
                hits
            } else {
                let hits = Arc::new(self.matching_keys(&tables, resource, &q, &prefix));
                tables.cache_hits(resource, cache_key, Arc::clone(&hits));
                hits
            };
            let total = hits.len();
            let page: Vec<String> = hits
                .iter()
                .skip(start - 1)
                .take(count)
                .filter_map(|k| tables.get(resource, k))
                .map(|r| self.entry_xml(ctx, resource, r, q.select.as_deref(), false))
                .collect();
            (page, total)
        };
        let kind = self.settings.kind_name(resource);
        let feed_url = format!("{}/{}", ctx.company_url, esc_path(kind));
        let page_url = |s: usize| format!("{feed_url}?{}", q.link_query(s, count));
        let mut xml = String::with_capacity(1024 + page.iter().map(String::len).sum::<usize>());
        xml.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
        let _ = write!(
            xml,
            "<feed {}><title>{}</title><id>{}</id><updated>{}</updated>",
            atom::namespace_decls(),
            esc(kind),
            esc(&feed_url),
            now_iso()
        );
        let mut link = |rel: &str, href: &str| {
            let _ = write!(
                xml,
                r#"<link rel="{rel}" type="application/atom+xml; type=feed" href="{}"/>"#,
                esc(href)
            );
        };
        link("self", &page_url(start));
        if self.settings.next_link == SDataNextLink::Present && count > 0 {
            link("first", &page_url(1));
            // The last page start reachable from this one by whole pages.
            let last = if total >= start {
                start + (total - start) / count * count
            } else {
                1
            };
            link("last", &page_url(last));
            if start > 1 {
                link("previous", &page_url(start.saturating_sub(count).max(1)));
            }
            if start - 1 + page.len() < total {
                link("next", &page_url(start + page.len()));
            }
        }
        let _ = write!(
            xml,
            "<opensearch:totalResults>{total}</opensearch:totalResults><opensearch:startIndex>{start}</opensearch:startIndex><opensearch:itemsPerPage>{count}</opensearch:itemsPerPage>"
        );
        for e in &page {
            xml.push_str(e);
        }
        xml.push_str("</feed>");
        Ok(self.xml_response(StatusCode::OK, FEED_TYPE, xml))
    }

    /// The keys of the rows matching `q` (within the key range `prefix`), in feed order.
    fn matching_keys(
        &self,
        tables: &Tables,
        resource: Sage100Resource,
        q: &ListQuery,
        prefix: &[String],
    ) -> Vec<Vec<String>> {
        let mut hits: Vec<&Sage100Record> = tables
            .rows_with_prefix(resource, prefix)
            .filter(|r| {
                q.where_clause.as_ref().is_none_or(|(_, w)| {
                    w.matches(&|c| {
                        let stored = self.settings.stored_column(resource, c);
                        (
                            self.settings
                                .kind_of(resource, c)
                                .unwrap_or(ColumnKind::Text),
                            stored.and_then(|c| r.get(c)).map(str::to_owned),
                        )
                    })
                })
            })
            .collect();
        if !q.order_by.is_empty() {
            let by: Vec<(String, bool)> = q
                .order_by
                .iter()
                .map(|(c, desc)| {
                    let stored = self.settings.stored_column(resource, c).unwrap_or(c);
                    (stored.to_owned(), *desc)
                })
                .collect();
            hits.sort_by(|a, b| order(resource, a, b, &by));
        }
        hits.iter().filter_map(|r| key_of(resource, r)).collect()
    }

    pub(super) fn check_columns(
        &self,
        resource: Sage100Resource,
        q: &ListQuery,
    ) -> Result<(), ApiError> {
        if let Some((_, w)) = &q.where_clause {
            w.check(&|c| self.settings.kind_of(resource, c))
                .map_err(|e| {
                    ApiError::new(StatusCode::BAD_REQUEST, "BadWhereSyntax", e.to_string())
                })?;
        }
        let kind = self.settings.kind_name(resource);
        for c in q
            .select
            .iter()
            .flatten()
            .chain(q.order_by.iter().map(|(c, _)| c))
        {
            if self.settings.kind_of(resource, c).is_none() {
                return Err(ApiError::bad_query(format!(
                    "The resource kind {kind} has no property '{c}'."
                )));
            }
        }
        Ok(())
    }

    pub(super) fn single(
        &self,
        ctx: &RequestCtx,
        resource: Sage100Resource,
        selector: &str,
        query: Option<&str>,
    ) -> Result<Response, ApiError> {
        let q = parse_query(query, true)?;
        self.check_columns(resource, &q)?;
        let kind = self.settings.kind_name(resource);
        let parts = self.selector_key(resource, selector)?;
        let found = {
            let tables = self.tables();
            tables
                .get(resource, &parts)
                .map(|r| self.entry_xml(ctx, resource, r, q.select.as_deref(), true))
        };
        match found {
            Some(xml) => Ok(self.xml_response(StatusCode::OK, ENTRY_TYPE, xml)),
            None => Err(ApiError::app(
                StatusCode::NOT_FOUND,
                format!("The {kind} record ({}) was not found.", parts.join(";")),
            )),
        }
    }

    /// The key values a selector (`01;ABC` or `'01;ABC'`, per [`KeySyntax`]) names, in key
    /// order; the diagnosis for a selector the server does not take.
    pub(super) fn selector_key(
        &self,
        resource: Sage100Resource,
        selector: &str,
    ) -> Result<Vec<String>, ApiError> {
        let kind = self.settings.kind_name(resource);
        if self.settings.key_syntax == KeySyntax::Quoted && !selector.starts_with('\'') {
            // The spec reads unquoted text in parentheses as a where clause.
            let w = where_clause::parse(selector).and_then(|w| {
                w.check(&|c| resource.kind_of(c))?;
                Ok(w)
            });
            return match w {
                Err(e) => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "BadWhereSyntax",
                    format!("The selector ({selector}) is read as a where clause: {e}"),
                )),
                Ok(_) => Err(ApiError::bad_url(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "A where clause in parentheses is not supported; use ?where={selector}."
                    ),
                )),
            };
        }
        let parsed = key::parse_key(selector)
            .map_err(|e| ApiError::bad_url(StatusCode::BAD_REQUEST, e.0))?;
        if parsed.form == KeyForm::Quoted && self.settings.key_syntax == KeySyntax::Unquoted {
            return Err(ApiError::bad_url(
                StatusCode::BAD_REQUEST,
                format!(
                    "Quoted selectors are not supported: use {kind}({}).",
                    parsed.parts.join(";")
                ),
            ));
        }
        let keys = resource.keys();
        if parsed.parts.len() != keys.len() {
            return Err(ApiError::bad_url(
                StatusCode::BAD_REQUEST,
                format!(
                    "{kind} is keyed by {} ({} part(s) joined by ';'); got {}.",
                    keys.join(";"),
                    keys.len(),
                    parsed.parts.len()
                ),
            ));
        }
        Ok(parsed.parts)
    }

    /// One `<entry>`; `standalone` adds the XML declaration and the namespace declarations.
    pub(super) fn entry_xml(
        &self,
        ctx: &RequestCtx,
        resource: Sage100Resource,
        row: &Sage100Record,
        select: Option<&[String]>,
        standalone: bool,
    ) -> String {
        let kind = self.settings.kind_name(resource);
        let key = key_of(resource, row).unwrap_or_default();
        let refs: Vec<&str> = key.iter().map(String::as_str).collect();
        let selector = key::format_key(&refs, self.settings.id_form());
        let url = format!(
            "{}/{}({})",
            ctx.company_url,
            esc_path(kind),
            esc_path(&selector)
        );
        let mut x = String::with_capacity(1024);
        if standalone {
            x.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            let _ = write!(x, "<entry {}>", atom::namespace_decls());
        } else {
            x.push_str("<entry>");
        }
        let title = row.get(resource.title_column()).unwrap_or_default();
        let _ = write!(
            x,
            r#"<id>{u}</id><title>{}</title><updated>{}</updated><link rel="self" type="application/atom+xml; type=entry" href="{u}"/><sdata:payload>"#,
            esc(title),
            now_iso(),
            u = esc(&url),
        );
        let ns = match &self.settings.resource_namespace {
            ResourceNamespace::NoNamespace => String::new(),
            ResourceNamespace::Contract(ns) => ns.clone(),
        };
        let _ = write!(
            x,
            r#"<{kind} sdata:key="{}" sdata:uri="{}" xmlns="{}">"#,
            esc(&selector),
            esc(&url),
            esc(&ns)
        );
        let wanted = |c: &str| select.is_none_or(|s| s.iter().any(|x| x == c));
        let mut column = |name: &str, value: Option<&str>| match value {
            Some(v) => {
                let _ = write!(x, "<{name}>{}</{name}>", esc(v));
            }
            None => {
                let _ = write!(x, r#"<{name} xsi:nil="true"/>"#);
            }
        };
        let row_type = row.get("InvoiceType");
        for c in resource.columns() {
            let Some(name) = self.settings.wire_column(resource, c.name) else {
                continue;
            };
            if wanted(name) {
                let value = if self.settings.customer_balance == CustomerBalance::Total
                    && resource == Sage100Resource::Customers
                    && c.name == "CurrentBalance"
                {
                    // The whole balance: the stored current part plus the aged parts.
                    let parts = std::iter::once("CurrentBalance").chain(AGING);
                    sum_cents(parts.map(|c| row.get(c).unwrap_or("0")))
                } else {
                    self.settings
                        .wire_value(resource, c.name, row_type, row.get(c.name))
                };
                column(name, value.as_deref());
            }
        }
        for (c, v) in row.columns() {
            if resource.column(c).is_none() && wanted(c) {
                column(c, v);
            }
        }
        let _ = write!(x, "</{kind}></sdata:payload></entry>");
        x
    }

    pub(super) fn schema_xsd(&self) -> String {
        let mut x = String::new();
        x.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
        let target = match &self.settings.resource_namespace {
            ResourceNamespace::NoNamespace => String::new(),
            ResourceNamespace::Contract(ns) => {
                format!(r#" targetNamespace="{0}" xmlns="{0}""#, esc(ns))
            }
        };
        let _ = write!(
            x,
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:sme="{NS_SME}"{target} elementFormDefault="qualified">"#
        );
        for r in Sage100Resource::ALL {
            if !self.settings.serves(r) {
                continue;
            }
            let kind = esc(self.settings.kind_name(r)).into_owned();
            let post = r.allows_post();
            let put = r == Sage100Resource::Customers;
            let _ = write!(
                x,
                r#"<xs:element name="{kind}" type="{kind}--type" sme:role="resourceKind" sme:pluralName="{kind}" sme:label="{kind}" sme:canGet="true" sme:canPost="{post}" sme:canPut="{put}" sme:canDelete="false" sme:canPagePrevious="true" sme:canPageNext="true" sme:canPageIndex="true" sme:supportsSearch="false"/>"#
            );
            let _ = write!(x, r#"<xs:complexType name="{kind}--type"><xs:all>"#);
            for c in r.columns() {
                let Some(name) = self.settings.wire_column(r, c.name) else {
                    continue;
                };
                let key = if r.keys().contains(&c.name) {
                    r#" sme:isKey="true""#
                } else {
                    ""
                };
                match c.kind {
                    ColumnKind::Text => {
                        let max = self.settings.max_len(r, c.name).unwrap_or(255);
                        let _ = write!(
                            x,
                            r#"<xs:element name="{}" minOccurs="0" nillable="true"{key}><xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="{max}"/></xs:restriction></xs:simpleType></xs:element>"#,
                            esc(name)
                        );
                    }
                    ColumnKind::Number => {
                        let _ = write!(
                            x,
                            r#"<xs:element name="{}" type="xs:decimal" minOccurs="0" nillable="true"/>"#,
                            esc(name)
                        );
                    }
                    ColumnKind::Date => {
                        let _ = write!(
                            x,
                            r#"<xs:element name="{}" type="xs:date" minOccurs="0" nillable="true"/>"#,
                            esc(name)
                        );
                    }
                }
            }
            x.push_str("</xs:all></xs:complexType>");
        }
        x.push_str("</xs:schema>");
        x
    }
}

/// The sum of decimal texts of at most two decimals (`"12.5"`, `"-3.25"`), as `0.00`; `None`
/// when one is not such a decimal.
fn sum_cents<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut cents: i128 = 0;
    for v in values {
        let v = v.trim();
        let (neg, digits) = v.strip_prefix('-').map_or((false, v), |d| (true, d));
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if frac.len() > 2 || !(whole.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let frac: i128 = format!("{frac:0<2}").parse().ok()?;
        let c = whole.checked_mul(100)?.checked_add(frac)?;
        cents = cents.checked_add(if neg { -c } else { c })?;
    }
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    Some(format!("{sign}{}.{:02}", abs / 100, abs % 100))
}

/// The values `w` pins the leading key columns of `resource` to (`KeyCol eq 'text'` joined by
/// `and` at the top level), in key order, as far as they go.
fn key_prefix(resource: Sage100Resource, w: &Where) -> Vec<String> {
    fn pins<'a>(w: &'a Where, out: &mut Vec<(&'a str, &'a str)>) {
        match w {
            Where::And(l, r) => {
                pins(l, out);
                pins(r, out);
            }
            Where::Compare(CmpOp::Eq, Operand::Column(c), Operand::Text(v))
            | Where::Compare(CmpOp::Eq, Operand::Text(v), Operand::Column(c)) => {
                out.push((c.as_str(), v.as_str()));
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    pins(w, &mut found);
    resource
        .keys()
        .iter()
        .map_while(|k| {
            found
                .iter()
                .find(|(c, _)| c == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .collect()
}

fn order(
    resource: Sage100Resource,
    a: &Sage100Record,
    b: &Sage100Record,
    by: &[(String, bool)],
) -> CmpOrdering {
    for (col, desc) in by {
        let (x, y) = (a.get(col), b.get(col));
        let o = if resource.kind_of(col) == Some(ColumnKind::Number) {
            let n = |v: Option<&str>| v.and_then(|s| s.parse::<f64>().ok());
            n(x).partial_cmp(&n(y)).unwrap_or(CmpOrdering::Equal)
        } else {
            x.unwrap_or_default().cmp(y.unwrap_or_default())
        };
        let o = if *desc { o.reverse() } else { o };
        if o != CmpOrdering::Equal {
            return o;
        }
    }
    CmpOrdering::Equal
}

/// The query parameters of a read.
#[derive(Debug, Default)]
pub(super) struct ListQuery {
    /// The text as given (for links) and its parse.
    where_clause: Option<(String, Where)>,
    /// 1-based.
    start_index: usize,
    count: Option<usize>,
    select: Option<Vec<String>>,
    order_by: Vec<(String, bool)>,
    /// The `orderBy` text as given (for links).
    order_by_text: Option<String>,
}

impl ListQuery {
    /// `startIndex=…&count=…` plus the other parameters, percent-encoded.
    fn link_query(&self, start: usize, count: usize) -> String {
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let mut q = format!("startIndex={start}&count={count}");
        if let Some((w, _)) = &self.where_clause {
            let _ = write!(q, "&where={}", enc(w));
        }
        if let Some(s) = &self.select {
            let _ = write!(q, "&select={}", enc(&s.join(",")));
        }
        if let Some(o) = &self.order_by_text {
            let _ = write!(q, "&orderBy={}", enc(o));
        }
        q
    }
}

pub(super) fn parse_query(raw: Option<&str>, single: bool) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        start_index: 1,
        ..ListQuery::default()
    };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(ApiError::bad_query(format!(
                "The query parameter '{name}' is given twice."
            )));
        }
        seen.push(lower.clone());
        let allowed_single = matches!(lower.as_str(), "select" | "format");
        if single && !allowed_single {
            return Err(ApiError::bad_query(format!(
                "The query parameter '{name}' does not apply to a single resource."
            )));
        }
        match lower.as_str() {
            "where" => {
                let w = where_clause::parse(&value).map_err(|e| {
                    ApiError::new(StatusCode::BAD_REQUEST, "BadWhereSyntax", e.to_string())
                })?;
                q.where_clause = Some((value.into_owned(), w));
            }
            "startindex" => {
                q.start_index = value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        ApiError::bad_query(format!(
                            "startIndex '{value}' is not a whole number of at least 1."
                        ))
                    })?;
            }
            "count" => {
                q.count = Some(value.trim().parse::<usize>().map_err(|_| {
                    ApiError::bad_query(format!("count '{value}' is not a whole number."))
                })?);
            }
            "select" => {
                let cols: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).collect();
                if cols.iter().any(String::is_empty) {
                    return Err(ApiError::bad_query(format!(
                        "select '{value}' has an empty name."
                    )));
                }
                q.select = Some(cols);
            }
            "orderby" => {
                for part in value.split(',') {
                    let mut words = part.split_whitespace();
                    let (Some(col), dir, None) = (words.next(), words.next(), words.next()) else {
                        return Err(ApiError::bad_query(format!(
                            "orderBy '{value}' is not 'Column [asc|desc], …'."
                        )));
                    };
                    let desc = match dir.map(str::to_ascii_lowercase).as_deref() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(other) => {
                            return Err(ApiError::bad_query(format!(
                                "orderBy direction '{other}' is not asc or desc."
                            )));
                        }
                    };
                    q.order_by.push((col.to_owned(), desc));
                }
                q.order_by_text = Some(value.into_owned());
            }
            "format" => {
                if !value.eq_ignore_ascii_case("atom") {
                    return Err(ApiError::bad_query(format!(
                        "format '{value}' is not supported; only atom."
                    )));
                }
            }
            _ => {
                return Err(ApiError::bad_query(format!(
                    "The query parameter '{name}' is not supported (where, startIndex, count, select, orderBy, format)."
                )));
            }
        }
    }
    Ok(q)
}

/// Now, `YYYY-MM-DDTHH:MM:SSZ`.
pub(super) fn now_iso() -> String {
    let secs = pipeline::now_secs();
    let (y, m, d) =
        crate::odata::filter::civil_from_days(i64::try_from(secs / 86_400).unwrap_or_default());
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}
