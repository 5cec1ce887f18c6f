//! Creating: `POST AR/ARCustomers` with the business rules that matter to a promotion.

use axum::body::Bytes;
use axum::http::StatusCode;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::errors::ApiError;
use super::lists::json_response;
use super::{RequestCtx, Shared};
use crate::odata::filter;
use crate::pipeline::{self, Outcome};
use crate::sage300::config::{KeyRejection, LowercaseKeys};
use crate::sage300::data::Sage300Record;
use crate::sage300::schema::{
    self, CHECK_LANGUAGES, CUSTOMER_ENUMS, CUSTOMER_OPTIONAL_FIELD, Sage300Resource, Ty,
};
use crate::sage300::store::row_key;

/// The longest `CustomerNumber` (ARCUS `IDCUST` is 12 characters).
const MAX_CUSTOMER_NUMBER: usize = 12;

impl Shared {
    pub(super) fn create_customer(
        &self,
        ctx: &RequestCtx,
        body: &Bytes,
    ) -> Result<Outcome, ApiError> {
        let payload: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid_payload(format!("The request body is not valid JSON: {e}"))
        })?;
        let Value::Object(payload) = payload else {
            return Err(ApiError::invalid_payload(
                "The request body must be a JSON object (one ARCustomers entity).",
            ));
        };
        let tk = self.settings.terms_key;
        let resource = Sage300Resource::Customers;
        // Shape: every property known and of the right type, like the OData deserializer.
        for (k, v) in &payload {
            if k.starts_with("@odata.") || k.starts_with("odata.") {
                continue;
            }
            let Some(ty) = resource.field_type(k, tk) else {
                return Err(ApiError::invalid_payload(format!(
                    "The property '{k}' does not exist on type 'ARCustomers'."
                )));
            };
            check_type(k, ty, v)?;
            if let Some((_, allowed)) = CUSTOMER_ENUMS.iter().find(|(n, _)| n == k)
                && let Some(s) = v.as_str()
                && !allowed.contains(&s)
            {
                return Err(ApiError::invalid_payload(format!(
                    "The value '{s}' is not valid for '{k}'; expected one of {allowed:?}."
                )));
            }
        }
        let normalise = self.settings.lowercase_keys == LowercaseKeys::Normalise;
        let text = |k: &str| payload.get(k).and_then(Value::as_str).map(str::to_owned);
        let code = |k: &str| text(k).map(|s| if normalise { s.to_uppercase() } else { s });

        // The key.
        let reject_key = |m: String| match self.settings.key_rejection {
            KeyRejection::RecordInvalid409 => {
                ApiError::new(StatusCode::CONFLICT, "RecordInvalid", m)
            }
            KeyRejection::InvalidPayload400 => ApiError::invalid_payload(m),
        };
        let number = text("CustomerNumber").unwrap_or_default();
        if number.trim().is_empty() {
            return Err(reject_key("Customer Number cannot be blank.".to_owned()));
        }
        if number.chars().count() > MAX_CUSTOMER_NUMBER {
            return Err(reject_key(format!(
                "Customer Number '{number}' is longer than {MAX_CUSTOMER_NUMBER} characters."
            )));
        }
        let number = if normalise {
            number.to_uppercase()
        } else if number != number.to_uppercase() {
            return Err(reject_key(format!(
                "Customer Number '{number}' must be upper-case."
            )));
        } else {
            number
        };

        let mut tables = self.tables();
        // The group and the defaults it supplies.
        let group_code = code("GroupCode").unwrap_or_default();
        if group_code.is_empty() {
            return Err(ApiError::general("Customer Group cannot be blank."));
        }
        let group = tables
            .get(
                Sage300Resource::CustomerGroups,
                &row_key(Sage300Resource::CustomerGroups, &[&group_code]),
            )
            .ok_or_else(|| {
                ApiError::general(format!("Customer Group \"{group_code}\" does not exist."))
            })?;
        let groups = Sage300Resource::CustomerGroups;
        if tables
            .field(groups, group, "Status")
            .and_then(Value::as_str)
            == Some("Inactive")
        {
            return Err(ApiError::general(format!(
                "Customer Group \"{group_code}\" is inactive."
            )));
        }
        let mut rec = tables.template(resource).clone();
        for field in GROUP_DEFAULTS {
            if let Some(v) = tables.field(groups, group, field) {
                rec.insert((*field).to_owned(), v.clone());
            }
        }
        for (k, v) in &payload {
            if k.starts_with("@odata.")
                || k.starts_with("odata.")
                || k == "CustomerOptionalFieldValues"
                || v.is_null()
            {
                continue;
            }
            rec.insert(k.clone(), schema::normalise_date(v));
        }
        rec.insert("CustomerNumber".into(), json!(number));
        rec.insert("GroupCode".into(), json!(group_code));
        for k in ["Terms", "TaxGroup", "CurrencyCode"] {
            if let Some(c) = code(k) {
                rec.insert(k.to_owned(), json!(c));
            }
        }
        if payload.get("CurrencyCode").is_none_or(Value::is_null) {
            let set = rec
                .get("AccountSet")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let currency = tables
                .account_sets
                .get(set)
                .cloned()
                .unwrap_or_else(|| tables.home_currency.clone());
            rec.insert("CurrencyCode".into(), json!(currency));
        }
        let field = |k: &str| {
            rec.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };

        // The codes the customer refers to.
        let terms = field("Terms");
        if terms.is_empty() {
            return Err(ApiError::general("Terms Code cannot be blank."));
        }
        {
            let t = tables
                .get(
                    Sage300Resource::Terms,
                    &row_key(Sage300Resource::Terms, &[&terms]),
                )
                .ok_or_else(|| {
                    ApiError::general(format!("Terms Code \"{terms}\" does not exist."))
                })?;
            if tables
                .field(Sage300Resource::Terms, t, "Status")
                .and_then(Value::as_str)
                == Some("Inactive")
            {
                return Err(ApiError::general(format!(
                    "Terms Code \"{terms}\" is inactive."
                )));
            }
        }
        let tax = field("TaxGroup");
        if tax.is_empty() {
            return Err(ApiError::general("Tax Group cannot be blank."));
        }
        if tables
            .get(
                Sage300Resource::TaxGroups,
                &row_key(Sage300Resource::TaxGroups, &[&tax, "Sales"]),
            )
            .is_none()
        {
            return Err(ApiError::general(format!(
                "Tax Group \"{tax}\" does not exist for Sales transactions."
            )));
        }
        let currency = field("CurrencyCode");
        if tables
            .get(
                Sage300Resource::CurrencyCodes,
                &row_key(Sage300Resource::CurrencyCodes, &[&currency]),
            )
            .is_none()
        {
            return Err(ApiError::general(format!(
                "Currency Code \"{currency}\" does not exist."
            )));
        }
        let language = field("CheckLanguage");
        if !language.is_empty() && !CHECK_LANGUAGES.contains(&language.as_str()) {
            return Err(ApiError::general(format!(
                "Check Language \"{language}\" is not valid; expected one of {CHECK_LANGUAGES:?}."
            )));
        }

        // Optional fields.
        let optional = optional_fields(&number, payload.get("CustomerOptionalFieldValues"))?;
        rec.insert("NumberOfOptionalFields".into(), json!(optional.len()));
        rec.insert(
            "CustomerOptionalFieldValues".into(),
            Value::Array(optional.into_iter().map(Value::Object).collect()),
        );

        // Maintained by the server.
        let today = today();
        rec.insert("DateLastMaintained".into(), json!(today));
        if rec.get("StartDate").is_none_or(Value::is_null) {
            rec.insert("StartDate".into(), json!(today));
        }
        // What the customer owes on documents already posted under its number (the demo
        // seeds some for `NW1001`, the customer `demo` creates); none for a fresh number.
        let balance = crate::sage300::panel::balance_due(
            tables.rows(Sage300Resource::PostedDocuments).values(),
            &number,
        );
        for k in [
            "BalanceDueInCustomerCurrency",
            "BalanceDueInFunctionalCurrency",
        ] {
            rec.insert(k.to_owned(), json!(balance));
        }

        let key = row_key(resource, &[&number]);
        if tables.get(resource, &key).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "RecordDuplicate",
                format!("Customer \"{number}\" already exists."),
            ));
        }
        tables.insert_complete(resource, key, rec.clone());
        tables.note_create(resource);
        drop(tables);

        Ok(self.common.answer_create(|| {
            let body = self.with_entity_context(ctx, self.render(&Map::new(), &rec, None));
            let status = self.settings.create_status.status_code();
            let mut resp = json_response(status, &Value::Object(body));
            if status == StatusCode::CREATED {
                let literal = format!("'{}'", number.replace('\'', "''"));
                let location = format!(
                    "{}{}({})",
                    ctx.origin,
                    ctx.raw_path,
                    utf8_percent_encode(&literal, NON_ALPHANUMERIC)
                );
                pipeline::set_location(&mut resp, &location);
            }
            resp
        }))
    }
}

/// Customer properties a group supplies when the payload leaves them out.
const GROUP_DEFAULTS: &[&str] = &[
    "AccountSet",
    "AutocashProfile",
    "BillingCycle",
    "InterestProfile",
    "AccountType",
    "Terms",
    "RateType",
    "TaxGroup",
    "TaxClassCode1",
    "TaxClassCode2",
    "TaxClassCode3",
    "TaxClassCode4",
    "TaxClassCode5",
    "Salesperson1",
    "Salesperson2",
    "Salesperson3",
    "Salesperson4",
    "Salesperson5",
    "SalesSplitPercentage1",
    "SalesSplitPercentage2",
    "SalesSplitPercentage3",
    "SalesSplitPercentage4",
    "SalesSplitPercentage5",
    "PrintStatements",
    "CheckCreditLimit",
    "CheckOverdueAmounts",
    "DaysOverdue",
];

pub(super) fn optional_fields(
    number: &str,
    given: Option<&Value>,
) -> Result<Vec<Sage300Record>, ApiError> {
    let items = match given {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::invalid_payload(
                "CustomerOptionalFieldValues must be an array.",
            ));
        }
    };
    let mut out: Vec<Sage300Record> = Vec::new();
    for item in items {
        let Value::Object(item) = item else {
            return Err(ApiError::invalid_payload(
                "Each CustomerOptionalFieldValues item must be an object.",
            ));
        };
        let mut row: Sage300Record = Map::new();
        for (name, ty) in CUSTOMER_OPTIONAL_FIELD {
            let default = match ty {
                Ty::Str => json!(""),
                Ty::Int => json!(0),
                Ty::Dec => json!(0.0),
                Ty::Bool => json!(false),
                Ty::Date | Ty::Coll => Value::Null,
            };
            row.insert((*name).to_owned(), default);
        }
        row.insert("CustomerOptionalFieldValueType".into(), json!("Text"));
        row.insert("Length".into(), json!(60));
        row.insert("AllowBlank".into(), json!(true));
        row.insert("ValueSet".into(), json!("No"));
        for (k, v) in item {
            let Some((_, ty)) = CUSTOMER_OPTIONAL_FIELD.iter().find(|(n, _)| n == k) else {
                if k == "UpdateOperation" {
                    continue;
                }
                return Err(ApiError::invalid_payload(format!(
                    "The property '{k}' does not exist on type 'CustomerOptionalFieldValue'."
                )));
            };
            check_type(k, *ty, v)?;
            if !v.is_null() {
                row.insert(k.clone(), v.clone());
            }
        }
        let code = row
            .get("OptionalField")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_uppercase();
        if code.is_empty() {
            return Err(ApiError::invalid_payload(
                "Each CustomerOptionalFieldValues item needs an OptionalField.",
            ));
        }
        if out
            .iter()
            .any(|r| r.get("OptionalField").and_then(Value::as_str) == Some(code.as_str()))
        {
            return Err(ApiError::general(format!(
                "Optional field \"{code}\" is given more than once."
            )));
        }
        row.insert("OptionalField".into(), json!(code));
        row.insert("CustomerNumber".into(), json!(number));
        if !item.contains_key("TextValue") {
            let value = row.get("Value").cloned().unwrap_or(Value::Null);
            row.insert("TextValue".into(), value);
        }
        out.push(row);
    }
    Ok(out)
}

pub(super) fn check_type(name: &str, ty: Ty, v: &Value) -> Result<(), ApiError> {
    let ok = match (ty, v) {
        (_, Value::Null) => true,
        (Ty::Str, Value::String(_))
        | (Ty::Dec, Value::Number(_))
        | (Ty::Bool, Value::Bool(_))
        | (Ty::Coll, Value::Array(_)) => true,
        (Ty::Int, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Ty::Date, Value::String(s)) => filter::parse_datetime(s).is_some(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_payload(format!(
            "Cannot convert the value {v} of property '{name}' to {ty:?}."
        )))
    }
}

/// Today at midnight UTC, `YYYY-MM-DDT00:00:00Z`.
pub(super) fn today() -> String {
    let (y, m, d) = pipeline::today_ymd();
    format!("{y:04}-{m:02}-{d:02}T00:00:00Z")
}
