//! Reading: a page of a list (`$filter`, `$select`, `$top`, `$skip`, `$count`, `$orderby`,
//! next links) and one record by its key.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::errors::ApiError;
use super::{RequestCtx, Shared};
use crate::odata::filter;
use crate::odata::key::{self, EntityKey, KeyValue};
use crate::odata::query::{self, QueryOptions};
use crate::sage300::config::{CountStyle, DateStyle, LowercaseKeys, NextLinkStyle};
use crate::sage300::data::Sage300Record;
use crate::sage300::schema::{self, Sage300Resource};
use crate::sage300::store::{Tables, row_key};

impl Shared {
    pub(super) fn list(&self, ctx: &RequestCtx, query: Option<&str>) -> Result<Response, ApiError> {
        let opts = query::parse_query(query).map_err(|e| ApiError::invalid_parameters(e.0))?;
        let resource = ctx.resource;
        self.check_properties(resource, &opts)?;
        if self.settings.reject_date_filter
            && let Some(f) = &opts.filter
            && let Some(p) = f.properties().into_iter().find(|p| is_last_maintained(p))
        {
            return Err(ApiError::invalid_parameters(format!(
                "The query specified in the URI is not valid. Filtering on the property '{p}' is not supported."
            )));
        }
        let limit = opts.top.unwrap_or(usize::MAX).min(self.settings.page_size);
        let skip = opts.skip;
        let select = opts.select.as_deref();

        let (page, matched) = {
            let mut tables = self.tables();
            // Paging through one query re-reads the keys it matched (until a row changes), so
            // listing 100,000 customers page by page costs one scan, not one per page.
            let cache_key = format!(
                "{}\u{0}{}",
                opts.filter_text.as_deref().unwrap_or(""),
                opts.orderby_text.as_deref().unwrap_or("")
            );
            let hits = if let Some(hits) = tables.cached_hits(resource, &cache_key) {
                hits
            } else {
                let hits = Arc::new(self.matching_keys(&tables, resource, &opts)?);
                tables.cache_hits(resource, cache_key, Arc::clone(&hits));
                hits
            };
            let template = tables.template(resource);
            let page: Vec<Sage300Record> = hits
                .iter()
                .skip(skip)
                .take(limit)
                .filter_map(|k| tables.get(resource, k))
                .map(|r| self.render(template, r, select))
                .collect();
            (page, hits.len())
        };
        let page_len = page.len();
        let more_rows = matched > skip.saturating_add(page_len);
        let top_left = opts.top.map(|t| t - page.len().min(t));
        let has_next = more_rows && top_left != Some(0) && !page.is_empty();

        let v3 = self.settings.next_link == NextLinkStyle::V3;
        let prefix = if v3 { "odata." } else { "@odata." };
        let mut out = Map::new();
        out.insert(
            format!("{prefix}context"),
            json!(format!("{}#{}", ctx.metadata_url, resource.name())),
        );
        if opts.count {
            let count = match self.settings.count_style {
                CountStyle::Number => json!(matched),
                CountStyle::String => json!(matched.to_string()),
            };
            out.insert(format!("{prefix}count"), count);
        }
        out.insert(
            "value".to_owned(),
            Value::Array(page.into_iter().map(Value::Object).collect()),
        );
        if has_next {
            let q = query::next_query(&opts, skip + page_len, top_left);
            let link = match self.settings.next_link {
                NextLinkStyle::Absolute | NextLinkStyle::V3 => {
                    format!("{}{}?{q}", ctx.origin, ctx.raw_path)
                }
                NextLinkStyle::Relative => format!("{}?{q}", ctx.raw_segment),
            };
            out.insert(format!("{prefix}nextLink"), json!(link));
        }
        Ok(json_response(StatusCode::OK, &Value::Object(out)))
    }

    /// The map keys of the rows of `resource` matching `opts.filter`, in `opts.orderby` order
    /// (key order when none is given or it is the key order).
    fn matching_keys(
        &self,
        tables: &Tables,
        resource: Sage300Resource,
        opts: &QueryOptions,
    ) -> Result<Vec<String>, ApiError> {
        let template = tables.template(resource);
        let mut hits: Vec<(&String, &Sage300Record)> = Vec::new();
        for (k, r) in tables.rows(resource) {
            let keep = match &opts.filter {
                None => true,
                Some(f) => filter::matches_with(f, &|p| r.get(p).or_else(|| template.get(p)))
                    .map_err(|e| ApiError::invalid_parameters(e.to_string()))?,
            };
            if keep {
                hits.push((k, r));
            }
        }
        if !self.is_key_order(resource, &opts.orderby) {
            // Stable: rows that tie stay in key order.
            hits.sort_by(|a, b| order(template, a.1, b.1, &opts.orderby));
        }
        Ok(hits.into_iter().map(|(k, _)| k.clone()).collect())
    }

    /// Whether rows in map-key order are already in `orderby` order: none given, or ascending
    /// by leading key properties (tax groups excepted: their map key orders Sales first).
    fn is_key_order(&self, resource: Sage300Resource, orderby: &[(String, bool)]) -> bool {
        let keys = resource.keys(self.settings.terms_key);
        resource != Sage300Resource::TaxGroups
            && orderby.len() <= keys.len()
            && orderby
                .iter()
                .zip(keys)
                .all(|((p, desc), k)| !desc && p == *k)
    }

    pub(super) fn check_properties(
        &self,
        resource: Sage300Resource,
        opts: &QueryOptions,
    ) -> Result<(), ApiError> {
        let tk = self.settings.terms_key;
        let unknown = |p: &str| resource.field_type(p, tk).is_none();
        let mut names: Vec<&str> = Vec::new();
        if let Some(f) = &opts.filter {
            names.extend(f.properties());
        }
        if let Some(s) = &opts.select {
            names.extend(s.iter().map(String::as_str));
        }
        names.extend(opts.orderby.iter().map(|(p, _)| p.as_str()));
        match names.into_iter().find(|p| unknown(p)) {
            Some(p) => Err(ApiError::invalid_parameters(format!(
                "Could not find a property named '{p}' on type '{}'.",
                resource.name()
            ))),
            None => Ok(()),
        }
    }

    pub(super) fn get_one(
        &self,
        ctx: &RequestCtx,
        resource: Sage300Resource,
        key_text: &str,
        query: Option<&str>,
    ) -> Result<Response, ApiError> {
        let opts = query::parse_query(query).map_err(|e| ApiError::invalid_parameters(e.0))?;
        if opts.filter.is_some()
            || opts.top.is_some()
            || opts.skip > 0
            || opts.count
            || !opts.orderby.is_empty()
        {
            return Err(ApiError::invalid_parameters(
                "Only $select applies to a single entity.",
            ));
        }
        self.check_properties(resource, &opts)?;
        let values = self.entity_key(resource, key_text)?;
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let found = {
            let tables = self.tables();
            tables
                .get(resource, &row_key(resource, &refs))
                .map(|r| self.render(tables.template(resource), r, opts.select.as_deref()))
        };
        let Some(rec) = found else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "RecordNotFound",
                "A Record cannot be found for the specified entity key",
            ));
        };
        Ok(json_response(
            StatusCode::OK,
            &Value::Object(self.with_entity_context(ctx, rec)),
        ))
    }

    /// The key values in parentheses (`'C1'` or `CustomerNumber='C1',ShipToLocationKey='WH1'`),
    /// in key order, normalised per [`LowercaseKeys`].
    pub(super) fn entity_key(
        &self,
        resource: Sage300Resource,
        key_text: &str,
    ) -> Result<Vec<String>, ApiError> {
        let invalid_key = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "InvalidEntityKey", m);
        let parsed = key::parse_key(key_text).map_err(|e| invalid_key(e.to_string()))?;
        let names = resource.keys(self.settings.terms_key);
        let values: Vec<String> = match parsed {
            EntityKey::Single(v) if names.len() == 1 => vec![key_string(v, &invalid_key)?],
            EntityKey::Single(_) => {
                return Err(invalid_key(format!(
                    "{} has a composite key; name every part: ({})",
                    resource.name(),
                    names.join("=…,")
                )));
            }
            EntityKey::Named(parts) => {
                if parts.len() != names.len() {
                    return Err(invalid_key(format!(
                        "{} is keyed by {}",
                        resource.name(),
                        names.join(", ")
                    )));
                }
                let mut out = Vec::new();
                for n in names {
                    let Some((_, v)) = parts.iter().find(|(pn, _)| pn == n) else {
                        return Err(invalid_key(format!("the key part '{n}' is missing")));
                    };
                    out.push(key_string(v.clone(), &invalid_key)?);
                }
                out
            }
        };
        Ok(self.normalise_key(resource, values))
    }

    fn normalise_key(&self, resource: Sage300Resource, mut values: Vec<String>) -> Vec<String> {
        if self.settings.lowercase_keys == LowercaseKeys::Normalise {
            if resource.is_customer_part() {
                for v in &mut values {
                    *v = v.to_uppercase();
                }
            } else if let Some(first) = values.first_mut() {
                *first = first.to_uppercase();
            }
            if resource == Sage300Resource::TaxGroups
                && let Some(t) = values.get_mut(1)
            {
                for canonical in ["Sales", "Purchases"] {
                    if t.eq_ignore_ascii_case(canonical) {
                        *t = canonical.to_owned();
                    }
                }
            }
        }
        values
    }

    pub(super) fn with_entity_context(
        &self,
        ctx: &RequestCtx,
        rec: Sage300Record,
    ) -> Sage300Record {
        let prefix = if self.settings.next_link == NextLinkStyle::V3 {
            "odata."
        } else {
            "@odata."
        };
        let mut out = Map::with_capacity(rec.len() + 1);
        out.insert(
            format!("{prefix}context"),
            json!(format!(
                "{}#{}/$entity",
                ctx.metadata_url,
                ctx.resource.name()
            )),
        );
        out.extend(rec);
        out
    }

    /// A stored record as it goes on the wire: defaults filled from `template` (in its order,
    /// then any extra properties), `$select` applied, dates in the configured style.
    pub(super) fn render(
        &self,
        template: &Sage300Record,
        rec: &Sage300Record,
        select: Option<&[String]>,
    ) -> Sage300Record {
        let style = self.settings.date_style;
        let wanted = |k: &String| select.is_none_or(|s| s.iter().any(|f| f == k));
        let mut out = Map::new();
        for (k, default) in template {
            if wanted(k) {
                out.insert(
                    k.clone(),
                    render_value(rec.get(k).unwrap_or(default), style),
                );
            }
        }
        for (k, v) in rec {
            if !template.contains_key(k) && wanted(k) {
                out.insert(k.clone(), render_value(v, style));
            }
        }
        out
    }
}

/// The last-maintained date properties [`Sage300Config::reject_date_filter`] refuses to filter on.
///
/// [`Sage300Config::reject_date_filter`]: crate::Sage300Config::reject_date_filter
fn is_last_maintained(property: &str) -> bool {
    matches!(property, "DateLastMaintained" | "LastMaintained")
}

fn key_string(v: KeyValue, invalid: &dyn Fn(String) -> ApiError) -> Result<String, ApiError> {
    match v {
        KeyValue::String(s) => Ok(s),
        KeyValue::Number(n) => Err(invalid(format!("the key {n} must be a quoted string"))),
    }
}

fn order(
    template: &Sage300Record,
    a: &Sage300Record,
    b: &Sage300Record,
    by: &[(String, bool)],
) -> Ordering {
    for (prop, desc) in by {
        let o = cmp_json(
            a.get(prop).or_else(|| template.get(prop)),
            b.get(prop).or_else(|| template.get(prop)),
        );
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn cmp_json(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

fn render_value(v: &Value, style: DateStyle) -> Value {
    match v {
        Value::String(s)
            if style == DateStyle::NoZone
                && s.len() == 20
                && s.ends_with('Z')
                && schema::is_zoneless_datetime(&s[..19]) =>
        {
            Value::String(s[..19].to_owned())
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| render_value(i, style)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), render_value(v, style)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; odata.metadata=minimal; charset=utf-8"),
    );
    resp
}
