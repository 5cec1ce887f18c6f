//! The Sage 300 JSON on the wire: private structs and functions that read pages, entities and
//! error bodies, and write the create payload. Nothing here leaves the crate; everything is
//! converted through the domain's constructors.

use crm2sage_domain::ports::{ErpReferenceRecord, NewErpCustomer};
use crm2sage_domain::{ErpRecord, ErpValue, ReferenceCode, ReferenceExtras, ReferenceKind};
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
/// (`odata.count`, `odata.nextLink`) is accepted too.
#[derive(Debug, Deserialize)]
struct PageEnvelope {
    value: Vec<Entity>,
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
pub(crate) struct Page {
    pub(crate) rows: Vec<Entity>,
    pub(crate) count: Option<u64>,
    pub(crate) next_link: Option<String>,
}

/// Reads a list page.
pub(crate) fn parse_page(body: &[u8]) -> Result<Page, String> {
    let envelope: PageEnvelope = serde_json::from_slice(strip_bom(body))
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

/// Where each kind lives and what its code property is called.
pub(crate) struct KindWire {
    /// `MODULE/Resource`.
    pub(crate) resource: &'static str,
    /// The code property, then its alternative spellings.
    code_fields: &'static [&'static str],
    /// Extra properties kept in `extras.other`.
    other: &'static [&'static str],
}

/// The Sage 300 source of `kind`, `None` for kinds Sage 300 does not have (languages are a
/// fixed set, served without a request).
pub(crate) fn kind_wire(kind: ReferenceKind) -> Option<KindWire> {
    Some(match kind {
        ReferenceKind::Category => KindWire {
            resource: "AR/ARCustomerGroups",
            code_fields: &["GroupCode"],
            other: &[
                "AccountSet",
                "BillingCycle",
                "InterestProfile",
                "AccountType",
                "RateType",
            ],
        },
        ReferenceKind::Currency => KindWire {
            resource: "CS/CSCurrencyCodes",
            code_fields: &["CurrencyCodeKey", "CurrencyCode"],
            other: &["Symbol", "DecimalPlaces"],
        },
        ReferenceKind::Terms => KindWire {
            resource: "AR/ARTerms",
            // 2019+ samples say TermsCode; the 2016 $metadata says TermsCodeKey.
            code_fields: &["TermsCode", "TermsCodeKey"],
            other: &["DueDateType", "UsePaymentSchedule", "NumberOfPayments"],
        },
        ReferenceKind::Tax => KindWire {
            resource: "TX/TXTaxGroups",
            code_fields: &["TaxGroupKey"],
            other: &[
                "TransactionType",
                "TaxReportingCurrency",
                "TaxCalculationMethod",
            ],
        },
        _ => return None,
    })
}

/// Non-empty text of a property (numbers written as text), trimmed: Sage pads fixed-width
/// fields on some builds.
fn text(row: &Entity, name: &str) -> Option<String> {
    row.get(name)
        .and_then(scalar_text)
        .filter(|t| !t.is_empty())
}

/// Whether a row is active: `Status` decides when present (`"Inactive"`, `0` or `false` mean
/// inactive); otherwise an `InactiveDate` on or before today means inactive.
fn active(row: &Entity, today: &str) -> bool {
    match row.get("Status") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            !s.trim().eq_ignore_ascii_case("inactive")
        }
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Bool(b)) => *b,
        _ => match text(row, "InactiveDate") {
            // `YYYY-MM-DD…` with or without a time zone: the date part decides.
            Some(d) if d.len() >= 10 => d.get(..10).is_none_or(|day| day > today),
            _ => true,
        },
    }
}

/// Whether a tax-group row is a Sales row (`"Sales"`, or `1` as the view's TTYPE).
fn is_sales(row: &Entity) -> bool {
    match row.get("TransactionType") {
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("sales"),
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

fn code_of(
    kind: ReferenceKind,
    field: &str,
    raw: &str,
    row: &Entity,
) -> Result<ReferenceCode, String> {
    ReferenceCode::parse(raw).map_err(|e| {
        let row_text = Value::Object(row.clone()).to_string();
        protocol(
            &format!("{kind} {field} `{raw}` is not a usable code ({e})"),
            row_text.as_bytes(),
        )
    })
}

/// Converts one row of `kind`; `Ok(None)` for a row that does not belong (a Purchases tax
/// group). A row without a usable code is an error, never silently dropped.
pub(crate) fn reference_record(
    kind: ReferenceKind,
    wire: &KindWire,
    row: &Entity,
    today: &str,
) -> Result<Option<ErpReferenceRecord>, String> {
    if kind == ReferenceKind::Tax && !is_sales(row) {
        return Ok(None);
    }
    let Some((field, raw)) = wire
        .code_fields
        .iter()
        .find_map(|f| text(row, f).map(|t| (*f, t)))
    else {
        let row_text = Value::Object(row.clone()).to_string();
        return Err(protocol(
            &format!("a {kind} row without {}", wire.code_fields.join(" or ")),
            row_text.as_bytes(),
        ));
    };
    let code = code_of(kind, field, &raw, row)?;
    let mut extras = ReferenceExtras::default();
    if kind == ReferenceKind::Category {
        if let Some(t) = text(row, "Terms") {
            extras.default_terms = Some(code_of(kind, "Terms", &t, row)?);
        }
        if let Some(t) = text(row, "TaxGroup") {
            extras.default_tax_group = Some(code_of(kind, "TaxGroup", &t, row)?);
        }
    }
    for name in wire.other {
        if let Some(v) = text(row, name) {
            extras.other.insert((*name).to_owned(), v);
        }
    }
    Ok(Some(ErpReferenceRecord {
        code,
        description: text(row, "Description").unwrap_or_default(),
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

    #[test]
    fn inactive_by_status_or_by_date() {
        let row = |v: Value| match v {
            Value::Object(m) => m,
            _ => Entity::new(),
        };
        let today = "2025-06-01";
        assert!(active(&row(serde_json::json!({"Status": "Active"})), today));
        assert!(!active(
            &row(serde_json::json!({"Status": "Inactive", "InactiveDate": null})),
            today
        ));
        assert!(!active(&row(serde_json::json!({"Status": 0})), today));
        assert!(active(&row(serde_json::json!({})), today));
        assert!(!active(
            &row(serde_json::json!({"InactiveDate": "2020-01-01T00:00:00"})),
            today
        ));
        assert!(active(
            &row(serde_json::json!({"InactiveDate": "2030-01-01T00:00:00Z"})),
            today
        ));
    }
}
