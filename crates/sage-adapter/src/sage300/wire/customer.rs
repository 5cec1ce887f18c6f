//! Customers: reading an entity into a record, and writing the create payload.

use crm2sage_domain::ports::NewErpCustomer;
use crm2sage_domain::{CountryCode, ErpNumber, ErpRecord, ErpValue, ReferenceCode};
use serde::Serialize;
use serde_json::Value;

use super::Entity;
use super::error::scalar_text;

/// The field that carries Sage 300 optional fields on a customer.
pub(crate) const OPTIONAL_FIELDS: &str = "CustomerOptionalFieldValues";

/// Non-empty text of a property (numbers written as text), trimmed: Sage pads fixed-width
/// fields on some builds.
pub(crate) fn text(row: &Entity, name: &str) -> Option<String> {
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
            // serde_json keeps integers exact (u64/i64) and writes a decimal's shortest
            // round-tripping text: `9007199254740993` and `2` come out as they went in.
            Value::Number(n) => record.push(
                name.as_str(),
                ErpNumber::parse(&n.to_string())
                    .map_or_else(|_| ErpValue::Text(n.to_string()), ErpValue::Number),
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

/// The address, telephone and e-mail of a create, as a customer and a ship-to send them alike
/// (in this order, within the body's own order); blank text is left out.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AddressPayload<'a> {
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
}

impl<'a> AddressPayload<'a> {
    pub(super) fn new(
        lines: &'a [Option<String>; 3],
        city: Option<&'a str>,
        state: Option<&'a str>,
        postal_code: Option<&'a str>,
        country: Option<&CountryCode>,
        phone: Option<&'a str>,
        email: Option<&'a str>,
    ) -> Self {
        Self {
            address_line1: given(lines[0].as_deref()),
            address_line2: given(lines[1].as_deref()),
            address_line3: given(lines[2].as_deref()),
            city: given(city),
            state_province: given(state),
            zip_postal_code: given(postal_code),
            // Sage 300 `Country` is free text (30); we send ISO 3166 alpha-2, as the spec's
            // "countries are entered as ISO alpha-2 or alpha-3" allows and Sage 100 does not
            // need.
            country: country.map(CountryCode::alpha2),
            phone_number: given(phone),
            email: given(email),
        }
    }
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
    #[serde(flatten)]
    address: AddressPayload<'a>,
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

/// `PATCH AR/ARCustomers('C1')` body that writes one optional field and nothing else.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OptionalFieldPatch<'a> {
    customer_optional_field_values: [OptionalFieldValue<'a>; 1],
}

/// The customer update that sets the optional field `field` of customer `number` to `value`:
/// `{"CustomerOptionalFieldValues":[{"CustomerNumber":…,"OptionalField":…,"Value":…}]}`.
pub(crate) fn optional_field_patch(
    number: &str,
    field: &str,
    value: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&OptionalFieldPatch {
        customer_optional_field_values: [OptionalFieldValue {
            customer_number: number,
            optional_field: field,
            value,
        }],
    })
}

/// `Some` only for non-blank text.
pub(super) fn given(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

/// `ShortName`: the name's first 10 characters (not bytes), trailing spaces dropped.
pub(crate) fn short_name(name: &str) -> Option<String> {
    let short: String = name.trim().chars().take(10).collect();
    let short = short.trim_end().to_owned();
    (!short.is_empty()).then_some(short)
}

/// The create payload for `c`, in the required property order: the one body `create_customer`
/// POSTs and `customer_payload` shows.
pub(crate) fn create_payload(c: &NewErpCustomer) -> Result<String, serde_json::Error> {
    let number = c.key.customer_no.as_str();
    let payload = CreatePayload {
        customer_number: number,
        group_code: given(c.category.as_ref().map(ReferenceCode::as_str)),
        short_name: short_name(&c.name),
        customer_name: &c.name,
        address: AddressPayload::new(
            &c.address_lines,
            c.city.as_deref(),
            c.state.as_deref(),
            c.postal_code.as_deref(),
            c.country.as_ref(),
            c.phone.as_deref(),
            c.email.as_deref(),
        ),
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
    serde_json::to_string(&payload)
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
}
