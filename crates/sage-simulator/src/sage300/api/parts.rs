//! Creating a customer's parts: `POST AR/ARShipToLocations` (a ship-to location, key
//! `CustomerNumber` + `ShipToLocationKey`) and `POST MT/MTContacts` (a contact, key
//! `CustomerNumber` + `ContactCode`, served only with
//! [`Sage300Config::contacts`](crate::Sage300Config::contacts)).
//!
//! Checks, in order: the body is one JSON object of known, well-typed properties (400
//! `InvalidPayload`); the key parts are present, short enough and upper-case as
//! [`LowercaseKeys`] says (refused per [`KeyRejection`], as a customer's number is); every
//! property with a known length fits (refused the same way) \[UNSURE: ARCSP's lengths are taken
//! from ARCUS\]; the customer exists (409 `General` naming it, as a create naming an unknown
//! group is refused, or as [`UnknownCustomer`] says) \[UNSURE\]; the key is new (409 `RecordDuplicate`, as a duplicate customer)
//! \[UNSURE\]. A ship-to's `PrimaryShipToIndicator` is never taken from the payload: it is
//! computed from the customer's `PrimaryShipToLocation` \[UNSURE whether it is writable\].

use axum::body::Bytes;
use axum::http::StatusCode;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::create::{check_type, today};
use super::errors::ApiError;
use super::lists::json_response;
use super::{RequestCtx, Shared};
use crate::pipeline::{self, Outcome};
use crate::sage300::config::{KeyRejection, LowercaseKeys, UnknownCustomer};
use crate::sage300::schema::{self, Sage300Resource};
use crate::sage300::store::row_key;

impl Shared {
    /// A property value or key the server will not take, refused as an unacceptable
    /// `CustomerNumber` is ([`KeyRejection`]).
    pub(super) fn refuse_value(&self, message: String) -> ApiError {
        match self.settings.key_rejection {
            KeyRejection::RecordInvalid409 => {
                ApiError::new(StatusCode::CONFLICT, "RecordInvalid", message)
            }
            KeyRejection::InvalidPayload400 => ApiError::invalid_payload(message),
        }
    }

    /// Checks the text properties of `payload` against the lengths of `resource`.
    pub(super) fn check_lengths(
        &self,
        resource: Sage300Resource,
        payload: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        for (k, v) in payload {
            if let (Some(max), Some(s)) = (resource.max_len(k), v.as_str())
                && s.chars().count() > max
            {
                return Err(
                    self.refuse_value(format!("{k} '{s}' is longer than {max} characters."))
                );
            }
        }
        Ok(())
    }

    /// `POST` of a ship-to location or a contact (`ctx.resource`).
    pub(super) fn create_part(&self, ctx: &RequestCtx, body: &Bytes) -> Result<Outcome, ApiError> {
        let resource = ctx.resource;
        let entity = resource.name();
        let payload: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid_payload(format!("The request body is not valid JSON: {e}"))
        })?;
        let Value::Object(payload) = payload else {
            return Err(ApiError::invalid_payload(format!(
                "The request body must be a JSON object (one {entity} entity)."
            )));
        };
        let tk = self.settings.terms_key;
        for (k, v) in &payload {
            if k.starts_with("@odata.") || k.starts_with("odata.") {
                continue;
            }
            let Some(ty) = resource.field_type(k, tk) else {
                return Err(ApiError::invalid_payload(format!(
                    "The property '{k}' does not exist on type '{entity}'."
                )));
            };
            check_type(k, ty, v)?;
        }

        // The key: the customer's number, then the part's own code.
        let keys = resource.keys(tk);
        let normalise = self.settings.lowercase_keys == LowercaseKeys::Normalise;
        let mut key = Vec::with_capacity(keys.len());
        for k in keys {
            let given = payload
                .get(*k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned();
            if given.is_empty() {
                return Err(self.refuse_value(format!("{k} cannot be blank.")));
            }
            if let Some(max) = resource.max_len(k)
                && given.chars().count() > max
            {
                return Err(
                    self.refuse_value(format!("{k} '{given}' is longer than {max} characters."))
                );
            }
            let upper = given.to_uppercase();
            if !normalise && given != upper {
                return Err(self.refuse_value(format!("{k} '{given}' must be upper-case.")));
            }
            key.push(upper);
        }
        self.check_lengths(resource, &payload)?;
        let (number, code) = (key[0].clone(), key[1].clone());

        let mut tables = self.tables();
        let customers = Sage300Resource::Customers;
        if tables
            .get(customers, &row_key(customers, &[&number]))
            .is_none()
        {
            let message = format!("Customer \"{number}\" does not exist.");
            return Err(match self.settings.unknown_customer {
                UnknownCustomer::General409 => ApiError::general(message),
                UnknownCustomer::InvalidPayload400 => ApiError::invalid_payload(message),
                UnknownCustomer::RecordNotFound404 => {
                    ApiError::new(StatusCode::NOT_FOUND, "RecordNotFound", message)
                }
            });
        }
        let row = row_key(resource, &[&number, &code]);
        if tables.get(resource, &row).is_some() {
            let what = match resource {
                Sage300Resource::ShipToLocations => "Ship-to location",
                _ => "Contact",
            };
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "RecordDuplicate",
                format!("{what} \"{code}\" for customer \"{number}\" already exists."),
            ));
        }
        let mut rec = tables.template(resource).clone();
        for (k, v) in &payload {
            if k.starts_with("@odata.")
                || k.starts_with("odata.")
                || k == "PrimaryShipToIndicator"
                || v.is_null()
            {
                continue;
            }
            rec.insert(k.clone(), schema::normalise_date(v));
        }
        rec.insert(keys[0].to_owned(), json!(number));
        rec.insert(keys[1].to_owned(), json!(code));
        if rec.contains_key("DateLastMaintained") {
            rec.insert("DateLastMaintained".into(), json!(today()));
        }
        tables.insert_complete(resource, row.clone(), rec);
        tables.note_create(resource);
        // The stored record, with the indicator computed from the customer.
        let rec = tables.get(resource, &row).cloned().unwrap_or_default();
        drop(tables);

        Ok(self.common.answer_create(|| {
            let body = self.with_entity_context(ctx, self.render(&Map::new(), &rec, None));
            let status = self.settings.create_status.status_code();
            let mut resp = json_response(status, &Value::Object(body));
            if status == StatusCode::CREATED {
                let literal = |s: &str| format!("'{}'", s.replace('\'', "''"));
                let key_text = format!(
                    "{}={},{}={}",
                    keys[0],
                    literal(&number),
                    keys[1],
                    literal(&code)
                );
                let location = format!(
                    "{}{}({})",
                    ctx.origin,
                    ctx.raw_path,
                    utf8_percent_encode(&key_text, NON_ALPHANUMERIC)
                );
                pipeline::set_location(&mut resp, &location);
            }
            resp
        }))
    }
}
