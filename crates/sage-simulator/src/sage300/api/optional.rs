//! `CustomerOptionalFieldValues` in a `PATCH AR/ARCustomers('KEY')`: each item upserts one
//! optional field of the customer, matched by `OptionalField` (upper-cased, as on create); the
//! customer's other optional fields are kept. An item updating a field on file changes only the
//! properties it gives (`Value` also sets `TextValue` unless that is given); a new field is added
//! with the defaults a create gives it; an item with `"UpdateOperation": "Delete"` removes its
//! field (newer builds' detail-row operations). `NumberOfOptionalFields` follows.

use serde_json::{Value, json};

use super::create::optional_fields;
use super::errors::ApiError;
use crate::sage300::data::Sage300Record;

/// The property a patch carries the optional fields in.
pub(super) const PROPERTY: &str = "CustomerOptionalFieldValues";

/// The checked edits of a patch's `CustomerOptionalFieldValues`.
#[derive(Debug)]
pub(super) struct OptionalEdits {
    /// Per item: its field code, the item as sent, the full row a new field would get, and
    /// whether it deletes the field.
    items: Vec<(String, Sage300Record, Sage300Record, bool)>,
}

impl OptionalEdits {
    /// Checks `given` (an array of items, as on create). `None` for an absent or null value.
    pub(super) fn parse(number: &str, given: Option<&Value>) -> Result<Option<Self>, ApiError> {
        let Some(Value::Array(items)) = given else {
            return match given {
                None | Some(Value::Null) => Ok(None),
                Some(_) => Err(ApiError::invalid_payload(format!(
                    "{PROPERTY} must be an array."
                ))),
            };
        };
        let rows = optional_fields(number, given)?;
        let mut out = Vec::with_capacity(rows.len());
        for (item, row) in items.iter().zip(rows) {
            let Value::Object(item) = item else {
                continue;
            };
            let code = row
                .get("OptionalField")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let delete = item
                .get("UpdateOperation")
                .and_then(Value::as_str)
                .is_some_and(|op| op.eq_ignore_ascii_case("Delete"));
            out.push((code, item.clone(), row, delete));
        }
        Ok(Some(OptionalEdits { items: out }))
    }

    /// Applies the edits to the customer `rec`.
    pub(super) fn apply(self, rec: &mut Sage300Record) {
        let mut fields: Vec<Value> = match rec.get(PROPERTY) {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        let code_of = |v: &Value| {
            v.get("OptionalField")
                .and_then(Value::as_str)
                .map(str::to_uppercase)
        };
        for (code, item, row, delete) in self.items {
            let at = fields
                .iter()
                .position(|f| code_of(f).as_deref() == Some(code.as_str()));
            match (at, delete) {
                (Some(i), true) => {
                    fields.remove(i);
                }
                (None, true) => {}
                (Some(i), false) => {
                    if let Some(Value::Object(on_file)) = fields.get_mut(i) {
                        for (k, v) in &item {
                            if matches!(
                                k.as_str(),
                                "UpdateOperation" | "OptionalField" | "CustomerNumber"
                            ) || v.is_null()
                            {
                                continue;
                            }
                            on_file.insert(k.clone(), v.clone());
                        }
                        if let Some(v) = item.get("Value").filter(|v| !v.is_null())
                            && !item.contains_key("TextValue")
                        {
                            on_file.insert("TextValue".into(), v.clone());
                        }
                    }
                }
                (None, false) => fields.push(Value::Object(row)),
            }
        }
        rec.insert("NumberOfOptionalFields".into(), json!(fields.len()));
        rec.insert(PROPERTY.into(), Value::Array(fields));
    }
}
