//! The Sage 300 JSON on the wire: private structs and functions that read pages, entities and
//! error bodies, and write the create payload. Nothing here leaves the crate; everything is
//! converted through the domain's constructors.

use crm2sage_domain::ports::{ErpReferenceRecord, NewErpCustomer};
use crm2sage_domain::{ErpRecord, ErpValue, ReferenceCode, ReferenceExtras, ReferenceKind};
use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::errors::{ErpMessage, excerpt};

/// One entity as Sage sent it, properties in order.
pub(crate) type Entity = Map<String, Value>;

/// The field that carries Sage 300 optional fields on a customer.
pub(crate) const OPTIONAL_FIELDS: &str = "CustomerOptionalFieldValues";

/// A body that is not the documented shape: why, and an excerpt.
pub(crate) fn protocol(what: &str, body: &[u8]) -> String {
    format!("{what}: {}", excerpt(body))
}

fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body)
}

// ---------------------------------------------------------------------------------------------
// Lists

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
fn parse_page_of<'a, R: Deserialize<'a>>(body: &'a [u8]) -> Result<Page<R>, String> {
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

// ---------------------------------------------------------------------------------------------
// Errors

/// `{"error":{"code":…,"message":{"lang":…,"value":…}}}`. Also accepted: `"odata.error"` and
/// a plain-string `message` (the OData v4 JSON format's own shape).
#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    #[serde(alias = "odata.error")]
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
}

/// Reads Sage's error body, whatever the `Content-Type` said; `None` when it is not that shape.
pub(crate) fn parse_error(body: &[u8]) -> Option<ErpMessage> {
    let envelope: ErrorEnvelope = serde_json::from_slice(strip_bom(body)).ok()?;
    let code = envelope
        .error
        .code
        .as_ref()
        .and_then(scalar_text)
        .filter(|c| !c.is_empty());
    let message = match envelope.error.message {
        Some(Value::Object(m)) => m.get("value").and_then(scalar_text),
        Some(other) => scalar_text(&other),
        None => None,
    }
    .filter(|m| !m.is_empty());
    if code.is_none() && message.is_none() {
        return None;
    }
    Some(ErpMessage { code, message })
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Reference records

/// The properties a reference row is read for, over every kind (the enum's variant is the
/// property's name on the wire).
macro_rules! props {
    ($($p:ident),* $(,)?) => {
        /// A property of a reference row that the adapter reads.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Prop {
            $($p),*
        }

        impl Prop {
            /// Every property, in declaration order.
            #[cfg(test)]
            const ALL: &[Prop] = &[$(Prop::$p),*];
            /// How many there are.
            const COUNT: usize = [$(Prop::$p),*].len();

            /// The property's name on the wire.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Prop::$p => stringify!($p)),*
                }
            }

            /// The property of that exact (case-sensitive) name, if the adapter reads it.
            fn from_name(name: &str) -> Option<Prop> {
                match name {
                    $(stringify!($p) => Some(Prop::$p),)*
                    _ => None,
                }
            }
        }
    };
}

props!(
    GroupCode,
    CurrencyCodeKey,
    CurrencyCode,
    TermsCode,
    TermsCodeKey,
    TaxGroupKey,
    Description,
    Status,
    InactiveDate,
    Terms,
    TaxGroup,
    TransactionType,
    AccountSet,
    BillingCycle,
    InterestProfile,
    AccountType,
    RateType,
    Symbol,
    DecimalPlaces,
    DueDateType,
    UsePaymentSchedule,
    NumberOfPayments,
    TaxReportingCurrency,
    TaxCalculationMethod,
);

/// A JSON value as a reference row holds it: strings borrowed from the page when they have no
/// escapes, numbers as `serde_json` reads them (so they print as before), anything else
/// (`null`, arrays, objects) as [`Scalar::Other`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    Text(Cow<'a, str>),
    Number(serde_json::Number),
    Bool(bool),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // As `serde_json::Value` does: a non-finite float (never in JSON) is no number.
                Ok(serde_json::Number::from_f64(v).map_or(Scalar::Other, Scalar::Number))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A property name: the [`Prop`] it is, `None` for one the adapter does not read (its value is
/// skipped unread).
struct PropKey(Option<Prop>);

impl<'de> Deserialize<'de> for PropKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PropKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a property name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PropKey(Prop::from_name(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One row of a reference list: an OData entity (a JSON object) of which only the [`Prop`]s
/// are kept; every other property is skipped. As with a JSON map, a property given twice
/// keeps its last value.
#[derive(Debug)]
pub(crate) struct RefRow<'a> {
    props: [Option<Scalar<'a>>; Prop::COUNT],
}

impl<'a> RefRow<'a> {
    fn get(&self, p: Prop) -> Option<&Scalar<'a>> {
        self.props[p as usize].as_ref()
    }

    /// Non-empty text of a property (numbers and booleans written as text), trimmed: Sage pads
    /// fixed-width fields on some builds.
    fn text(&self, p: Prop) -> Option<Cow<'_, str>> {
        let t = match self.get(p)? {
            Scalar::Text(s) => Cow::Borrowed(s.trim()),
            Scalar::Number(n) => Cow::Owned(n.to_string()),
            Scalar::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Scalar::Other => return None,
        };
        (!t.is_empty()).then_some(t)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RefRow<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RefRow<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an OData entity (a JSON object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut row = RefRow {
                    props: std::array::from_fn(|_| None),
                };
                while let Some(PropKey(prop)) = map.next_key()? {
                    match prop {
                        Some(p) => row.props[p as usize] = Some(map.next_value()?),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(row)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Where each kind lives and what its code property is called.
pub(crate) struct KindWire {
    /// `MODULE/Resource`.
    pub(crate) resource: &'static str,
    /// The code property, then its alternative spellings.
    code_fields: &'static [Prop],
    /// Extra properties kept in `extras.other`.
    other: &'static [Prop],
    /// What the first page asks for with `$select` (comma-separated), `None` for the whole
    /// entity. Only properties every build is documented to have: OData answers 400 to a
    /// `$select` naming a property the entity lacks.
    pub(crate) select: Option<&'static str>,
}

/// The `$select` of customer groups: every property [`reference_record`] reads of a group
/// (the code, `Description`, `Status`, `InactiveDate`, the defaults and [`KindWire::other`]);
/// all in the 2016 `$metadata` and the 2019+ samples.
const GROUP_SELECT: &str = "GroupCode,Description,Status,InactiveDate,Terms,TaxGroup,\
AccountSet,BillingCycle,InterestProfile,AccountType,RateType";

/// The `$select` of tax groups: the key pair, `Description` and [`KindWire::other`]. TXGRP has
/// no status (neither `Status` nor `InactiveDate` is a property), so a tax group is active.
const TAX_SELECT: &str =
    "TaxGroupKey,TransactionType,Description,TaxReportingCurrency,TaxCalculationMethod";

/// The Sage 300 source of `kind`, `None` for kinds Sage 300 does not have (languages are a
/// fixed set, served without a request).
///
/// Terms and currencies are read whole (no `$select`): their code property has two spellings
/// across builds (`TermsCode`/`TermsCodeKey`, `CurrencyCodeKey`/`CurrencyCode`), a `$select`
/// must name exactly one, and the lists are a few dozen rows — nothing to save.
pub(crate) fn kind_wire(kind: ReferenceKind) -> Option<KindWire> {
    Some(match kind {
        ReferenceKind::Category => KindWire {
            resource: "AR/ARCustomerGroups",
            code_fields: &[Prop::GroupCode],
            other: &[
                Prop::AccountSet,
                Prop::BillingCycle,
                Prop::InterestProfile,
                Prop::AccountType,
                Prop::RateType,
            ],
            select: Some(GROUP_SELECT),
        },
        ReferenceKind::Currency => KindWire {
            resource: "CS/CSCurrencyCodes",
            code_fields: &[Prop::CurrencyCodeKey, Prop::CurrencyCode],
            other: &[Prop::Symbol, Prop::DecimalPlaces],
            select: None,
        },
        ReferenceKind::Terms => KindWire {
            resource: "AR/ARTerms",
            // 2019+ samples say TermsCode; the 2016 $metadata says TermsCodeKey.
            code_fields: &[Prop::TermsCode, Prop::TermsCodeKey],
            other: &[
                Prop::DueDateType,
                Prop::UsePaymentSchedule,
                Prop::NumberOfPayments,
            ],
            select: None,
        },
        ReferenceKind::Tax => KindWire {
            resource: "TX/TXTaxGroups",
            code_fields: &[Prop::TaxGroupKey],
            other: &[
                Prop::TransactionType,
                Prop::TaxReportingCurrency,
                Prop::TaxCalculationMethod,
            ],
            select: Some(TAX_SELECT),
        },
        _ => return None,
    })
}

/// Whether a row is active: `Status` decides when present (`"Inactive"`, `0` or `false` mean
/// inactive); otherwise an `InactiveDate` on or before today means inactive.
fn active(row: &RefRow<'_>, today: &str) -> bool {
    match row.get(Prop::Status) {
        Some(Scalar::Text(s)) if !s.trim().is_empty() => !s.trim().eq_ignore_ascii_case("inactive"),
        Some(Scalar::Number(n)) => n.as_f64() != Some(0.0),
        Some(Scalar::Bool(b)) => *b,
        _ => match row.text(Prop::InactiveDate) {
            // `YYYY-MM-DD…` with or without a time zone: the date part decides.
            Some(d) if d.len() >= 10 => d.get(..10).is_none_or(|day| day > today),
            _ => true,
        },
    }
}

/// Whether a tax-group row is a Sales row (`"Sales"`, or `1` as the view's TTYPE).
fn is_sales(row: &RefRow<'_>) -> bool {
    match row.get(Prop::TransactionType) {
        Some(Scalar::Text(s)) => s.trim().eq_ignore_ascii_case("sales"),
        Some(Scalar::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

fn code_of(
    kind: ReferenceKind,
    field: &str,
    raw: &str,
    row_text: &dyn Fn() -> String,
) -> Result<ReferenceCode, String> {
    ReferenceCode::parse(raw).map_err(|e| {
        protocol(
            &format!("{kind} {field} `{raw}` is not a usable code ({e})"),
            row_text().as_bytes(),
        )
    })
}

/// Converts one row of `kind`; `Ok(None)` for a row that does not belong (a Purchases tax
/// group). A row without a usable code is an error, never silently dropped; `row_text` gives
/// the whole row as JSON for the message.
pub(crate) fn reference_record(
    kind: ReferenceKind,
    wire: &KindWire,
    row: &RefRow<'_>,
    today: &str,
    row_text: &dyn Fn() -> String,
) -> Result<Option<ErpReferenceRecord>, String> {
    if kind == ReferenceKind::Tax && !is_sales(row) {
        return Ok(None);
    }
    let Some((field, raw)) = wire
        .code_fields
        .iter()
        .find_map(|f| row.text(*f).map(|t| (*f, t)))
    else {
        let names: Vec<&str> = wire.code_fields.iter().map(|p| p.name()).collect();
        return Err(protocol(
            &format!("a {kind} row without {}", names.join(" or ")),
            row_text().as_bytes(),
        ));
    };
    let code = code_of(kind, field.name(), &raw, row_text)?;
    let mut extras = ReferenceExtras::default();
    if kind == ReferenceKind::Category {
        if let Some(t) = row.text(Prop::Terms) {
            extras.default_terms = Some(code_of(kind, "Terms", &t, row_text)?);
        }
        if let Some(t) = row.text(Prop::TaxGroup) {
            extras.default_tax_group = Some(code_of(kind, "TaxGroup", &t, row_text)?);
        }
    }
    for p in wire.other {
        if let Some(v) = row.text(*p) {
            extras.other.insert(p.name().to_owned(), v.into_owned());
        }
    }
    Ok(Some(ErpReferenceRecord {
        code,
        description: row
            .text(Prop::Description)
            .map(Cow::into_owned)
            .unwrap_or_default(),
        active: active(row, today),
        extras,
    }))
}

/// The check languages Sage 300 accepts in `CheckLanguage` (no endpoint lists them).
pub(crate) const CHECK_LANGUAGES: [(&str, &str); 5] = [
    ("ENG", "English"),
    ("FRA", "French"),
    ("ESN", "Spanish"),
    ("CHT", "Chinese (Traditional)"),
    ("CHN", "Chinese (Simplified)"),
];

// ---------------------------------------------------------------------------------------------
// Customers

/// Non-empty text of a property (numbers written as text), trimmed: Sage pads fixed-width
/// fields on some builds.
fn text(row: &Entity, name: &str) -> Option<String> {
    row.get(name)
        .and_then(scalar_text)
        .filter(|t| !t.is_empty())
}

/// The customer's `CustomerNumber`, trimmed.
pub(crate) fn customer_number(entity: &Entity) -> Option<String> {
    text(entity, "CustomerNumber")
}

/// The entity as an [`ErpRecord`], in Sage's property order: strings, numbers, booleans and
/// nulls as they are; each optional field `{OptionalField: CODE, Value: v}` flattened to a
/// field `CODE`; other nested values kept as compact JSON text; `@odata.*` annotations left out.
pub(crate) fn customer_record(entity: &Entity) -> ErpRecord {
    let mut record = ErpRecord::new();
    for (name, value) in entity {
        if name.starts_with("@odata.") || name.starts_with("odata.") || name.contains("@odata.") {
            continue;
        }
        match value {
            Value::String(s) => record.push(name.as_str(), ErpValue::Text(s.clone())),
            Value::Number(n) => record.push(
                name.as_str(),
                n.as_f64()
                    .map_or_else(|| ErpValue::Text(n.to_string()), ErpValue::Number),
            ),
            Value::Bool(b) => record.push(name.as_str(), ErpValue::Bool(*b)),
            Value::Null => record.push(name.as_str(), ErpValue::Null),
            Value::Array(items) if name == OPTIONAL_FIELDS => {
                for item in items {
                    let Value::Object(item) = item else { continue };
                    let Some(code) = text(item, "OptionalField") else {
                        continue;
                    };
                    let value = item
                        .get("Value")
                        .and_then(scalar_text)
                        .or_else(|| item.get("TextValue").and_then(scalar_text))
                        .unwrap_or_default();
                    record.push(code, ErpValue::Text(value));
                }
            }
            nested => record.push(name.as_str(), ErpValue::Text(nested.to_string())),
        }
    }
    record
}

/// `POST AR/ARCustomers` body. Sage applies properties in the order they arrive (each is a
/// view field put), so the order of these fields is part of the contract: the key and the
/// group first (the group fills defaults), then the overrides. `None` is left out: Sage never
/// gets `null` or `""`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePayload<'a> {
    customer_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    short_name: Option<String>,
    customer_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_line1: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_line2: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_line3: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_province: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zip_postal_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    web_site: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tax_group: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    terms: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_language: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    customer_optional_field_values: Vec<OptionalFieldValue<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OptionalFieldValue<'a> {
    customer_number: &'a str,
    optional_field: &'a str,
    value: &'a str,
}

/// `Some` only for non-blank text.
fn given(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

/// `ShortName`: the name's first 10 characters (not bytes), trailing spaces dropped.
pub(crate) fn short_name(name: &str) -> Option<String> {
    let short: String = name.trim().chars().take(10).collect();
    let short = short.trim_end().to_owned();
    (!short.is_empty()).then_some(short)
}

/// The create payload for `c`, as bytes in the required property order.
pub(crate) fn create_payload(c: &NewErpCustomer) -> Result<Vec<u8>, serde_json::Error> {
    let number = c.key.customer_no.as_str();
    let payload = CreatePayload {
        customer_number: number,
        group_code: given(c.category.as_ref().map(ReferenceCode::as_str)),
        short_name: short_name(&c.name),
        customer_name: &c.name,
        address_line1: given(c.address_lines[0].as_deref()),
        address_line2: given(c.address_lines[1].as_deref()),
        address_line3: given(c.address_lines[2].as_deref()),
        city: given(c.city.as_deref()),
        state_province: given(c.state.as_deref()),
        zip_postal_code: given(c.postal_code.as_deref()),
        // Sage 300 `Country` is free text (30); we send ISO 3166 alpha-2, as the spec's
        // "countries are entered as ISO alpha-2 or alpha-3" allows and Sage 100 does not need.
        country: c.country.as_ref().map(|k| k.alpha2()),
        phone_number: given(c.phone.as_deref()),
        email: given(c.email.as_deref()),
        web_site: given(c.website.as_deref()),
        tax_group: given(c.tax.as_ref().map(ReferenceCode::as_str)),
        terms: given(c.terms.as_ref().map(ReferenceCode::as_str)),
        currency_code: given(c.currency.as_ref().map(|k| k.as_str())),
        check_language: given(c.language.as_ref().map(ReferenceCode::as_str)),
        customer_optional_field_values: c
            .crm_id
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(field, value)| OptionalFieldValue {
                customer_number: number,
                optional_field: field.as_str(),
                value,
            })
            .collect(),
    };
    serde_json::to_vec(&payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_count_characters_not_bytes() {
        assert_eq!(short_name("Barmart Ltd").as_deref(), Some("Barmart Lt"));
        assert_eq!(
            short_name("Café Crème Société").as_deref(),
            Some("Café Crème")
        );
        assert_eq!(short_name("Abc Defgh Ijk").as_deref(), Some("Abc Defgh"));
        assert_eq!(short_name("  ").as_deref(), None);
    }

    #[test]
    fn error_bodies_in_every_spelling() {
        let v = br#"{"error":{"code":"RecordNotFound","message":{"lang":"en-US","value":"A Record cannot be found"}}}"#;
        let m = parse_error(v).expect("parsed");
        assert_eq!(m.code.as_deref(), Some("RecordNotFound"));
        assert_eq!(m.message.as_deref(), Some("A Record cannot be found"));
        let v4 = br#"{"error":{"code":"General","message":"plain"}}"#;
        assert_eq!(
            parse_error(v4).and_then(|m| m.message).as_deref(),
            Some("plain")
        );
        let v3 = br#"{"odata.error":{"code":"X","message":{"value":"y"}}}"#;
        assert_eq!(parse_error(v3).and_then(|m| m.code).as_deref(), Some("X"));
        assert_eq!(parse_error(b"<html>Server Error</html>"), None);
        assert_eq!(parse_error(br#"{"value":[]}"#), None);
    }

    fn row(v: Value) -> RefRow<'static> {
        // Leaked: a test row borrowing from a page that lives for the whole test.
        let text: &'static str = Box::leak(v.to_string().into_boxed_str());
        serde_json::from_str(text).expect("a row")
    }

    #[test]
    fn inactive_by_status_or_by_date() {
        let today = "2025-06-01";
        assert!(active(&row(serde_json::json!({"Status": "Active"})), today));
        assert!(!active(
            &row(serde_json::json!({"Status": "Inactive", "InactiveDate": null})),
            today
        ));
        assert!(!active(&row(serde_json::json!({"Status": 0})), today));
        assert!(!active(&row(serde_json::json!({"Status": false})), today));
        assert!(active(&row(serde_json::json!({"Status": 1.5})), today));
        assert!(active(&row(serde_json::json!({})), today));
        assert!(!active(
            &row(serde_json::json!({"InactiveDate": "2020-01-01T00:00:00"})),
            today
        ));
        assert!(!active(
            &row(serde_json::json!({"Status": " ", "InactiveDate": "2020-01-01"})),
            today
        ));
        assert!(active(
            &row(serde_json::json!({"InactiveDate": "2030-01-01T00:00:00Z"})),
            today
        ));
    }

    #[test]
    fn prop_names_are_their_wire_names() {
        assert_eq!(Prop::ALL.len(), Prop::COUNT);
        for p in Prop::ALL {
            assert_eq!(Prop::from_name(p.name()), Some(*p));
        }
        assert_eq!(
            Prop::from_name("groupcode"),
            None,
            "names are case-sensitive"
        );
    }

    /// A typed row reads each property as the JSON map did: text trimmed, numbers printed as
    /// `serde_json` prints them, booleans as text, `null`/arrays/objects as nothing, escapes
    /// decoded, the last of a repeated property kept, unknown properties skipped.
    #[test]
    fn typed_rows_read_what_the_json_map_read() {
        let page = br#"{"value":[{"GroupCode":" RTL ","Description":"Caf\u00e9 \"Q\"",
            "AccountSet":12,"BillingCycle":-3,"InterestProfile":1.50,"AccountType":true,
            "RateType":null,"Terms":["N30"],"TaxGroup":{"a":[1,{"b":2}]},"Status":"Active",
            "Unknown":{"GroupCode":"NOT-ME"},"Status":"Inactive","Symbol":1e3}]}"#;
        let typed = parse_reference_page(page).expect("typed");
        let whole = parse_page(page).expect("whole");
        let (t, w) = (&typed.rows[0], &whole.rows[0]);
        for p in Prop::ALL {
            assert_eq!(
                t.text(*p).map(Cow::into_owned),
                text(w, p.name()),
                "{}",
                p.name()
            );
        }
        assert_eq!(t.text(Prop::GroupCode).as_deref(), Some("RTL"));
        assert_eq!(t.text(Prop::Description).as_deref(), Some("Café \"Q\""));
        assert_eq!(t.text(Prop::InterestProfile).as_deref(), Some("1.5"));
        assert_eq!(t.text(Prop::AccountType).as_deref(), Some("true"));
        assert!(!active(t, "2025-06-01"), "the last Status wins");
        assert!(matches!(
            t.get(Prop::GroupCode),
            Some(Scalar::Text(Cow::Borrowed(_)))
        ));
    }

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

    /// The `$select` of a kind names every property read for it (so a server that honours it
    /// changes nothing), except those documented absent on the resource.
    #[test]
    fn each_select_names_everything_read() {
        for kind in [
            ReferenceKind::Category,
            ReferenceKind::Currency,
            ReferenceKind::Terms,
            ReferenceKind::Tax,
        ] {
            let wire = kind_wire(kind).expect("a kind");
            let Some(select) = wire.select else { continue };
            let selected: Vec<&str> = select.split(',').collect();
            let mut read: Vec<Prop> = wire.code_fields.to_vec();
            read.extend(wire.other);
            read.push(Prop::Description);
            match kind {
                ReferenceKind::Category => {
                    read.extend([
                        Prop::Status,
                        Prop::InactiveDate,
                        Prop::Terms,
                        Prop::TaxGroup,
                    ]);
                }
                ReferenceKind::Tax => read.push(Prop::TransactionType),
                _ => {}
            }
            for p in &read {
                assert!(
                    selected.contains(&p.name()),
                    "{kind}: {} not selected",
                    p.name()
                );
            }
            for name in &selected {
                let p = Prop::from_name(name).expect("a read property");
                assert!(read.contains(&p), "{kind}: {name} selected but never read");
            }
        }
    }

    #[test]
    fn a_refused_row_is_quoted_whole() {
        let page = br#"{"value":[{"GroupCode":"A"},{"Description":"no code","X":[1]}]}"#;
        let typed = parse_reference_page(page).expect("typed");
        let wire = kind_wire(ReferenceKind::Category).expect("groups");
        let today = "2025-06-01";
        let ok = reference_record(
            ReferenceKind::Category,
            &wire,
            &typed.rows[0],
            today,
            &|| row_text(page, 0),
        )
        .expect("row 0");
        assert_eq!(ok.map(|r| r.code.as_str().to_owned()).as_deref(), Some("A"));
        let err = reference_record(
            ReferenceKind::Category,
            &wire,
            &typed.rows[1],
            today,
            &|| row_text(page, 1),
        )
        .expect_err("row 1");
        assert!(
            err.contains(r#"{"Description":"no code","X":[1]}"#),
            "{err}"
        );
    }
}
