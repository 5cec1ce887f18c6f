//! Updating: `PATCH AR/ARCustomers('KEY')`, a partial update of the properties given (how the
//! adapter sets a customer's primary ship-to location and, without `MT/MTContacts`, its contact).
//!
//! Checks, in order: the customer exists (404 `RecordNotFound`, as a read of it); the body is one
//! JSON object of known, well-typed `ARCustomers` properties (400 `InvalidPayload`, as on
//! create); a `CustomerNumber` in the body is the URL's (400 `InvalidPayload`: the key cannot
//! change); texts fit their ARCUS lengths (refused as an unacceptable customer number is,
//! [`KeyRejection`](crate::KeyRejection)); a non-blank `PrimaryShipToLocation` is one of the
//! customer's ship-to locations, and `GroupCode`, `Terms`, `TaxGroup`, `CurrencyCode` are on
//! file (409 `General`, as on create). Then the given properties are stored (a blank
//! `PrimaryShipToLocation` clears it; `CustomerOptionalFieldValues` items upsert one optional
//! field each, see [`optional`](super::optional)), `DateLastMaintained` becomes today, every ship-to's
//! `PrimaryShipToIndicator` follows, and the answer is **204** with no body (the reference:
//! "There is no response payload"; the status is inferred: [`PatchStatus`]).

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::create::{check_type, today};
use super::errors::ApiError;
use super::optional::{self, OptionalEdits};
use crate::sage300::config::{LowercaseKeys, PatchStatus};
use crate::sage300::schema::{self, CUSTOMER_ENUMS, Sage300Resource};
use crate::sage300::store::row_key;

/// Customer properties that name a record of another resource, with that resource and the
/// extra key part (a tax group is looked up for Sales).
const REFERENCES: &[(&str, Sage300Resource, Option<&str>)] = &[
    ("GroupCode", Sage300Resource::CustomerGroups, None),
    ("Terms", Sage300Resource::Terms, None),
    ("TaxGroup", Sage300Resource::TaxGroups, Some("Sales")),
    ("CurrencyCode", Sage300Resource::CurrencyCodes, None),
];

impl Shared {
    pub(super) fn patch_customer(
        &self,
        resource: Sage300Resource,
        key_text: &str,
        body: &Bytes,
    ) -> Result<Response, ApiError> {
        let number = self
            .entity_key(resource, key_text)?
            .into_iter()
            .next()
            .unwrap_or_default();
        let key = row_key(resource, &[&number]);
        if self.tables().get(resource, &key).is_none() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "RecordNotFound",
                "A Record cannot be found for the specified entity key",
            ));
        }
        let payload: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid_payload(format!("The request body is not valid JSON: {e}"))
        })?;
        let Value::Object(mut payload) = payload else {
            return Err(ApiError::invalid_payload(
                "The request body must be a JSON object (ARCustomers properties).",
            ));
        };
        payload.retain(|k, _| !k.starts_with("@odata.") && !k.starts_with("odata."));
        let tk = self.settings.terms_key;
        for (k, v) in &payload {
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
        if let Some(given) = payload.get("CustomerNumber").and_then(Value::as_str)
            && !given.eq_ignore_ascii_case(&number)
        {
            return Err(ApiError::invalid_payload(format!(
                "The key property 'CustomerNumber' cannot be changed from '{number}' to '{given}'."
            )));
        }
        payload.remove("CustomerNumber");
        let optional = OptionalEdits::parse(&number, payload.get(optional::PROPERTY))?;
        if optional.is_some() {
            payload.remove(optional::PROPERTY);
        }
        self.check_lengths(resource, &payload)?;
        let normalise = self.settings.lowercase_keys == LowercaseKeys::Normalise;
        // Codes are upper-cased like the create's.
        for k in [
            "PrimaryShipToLocation",
            "GroupCode",
            "Terms",
            "TaxGroup",
            "CurrencyCode",
        ] {
            if normalise && let Some(Value::String(s)) = payload.get_mut(k) {
                *s = s.trim().to_uppercase();
            }
        }

        let mut tables = self.tables();
        if let Some(ship_to) = payload.get("PrimaryShipToLocation").and_then(Value::as_str)
            && !ship_to.is_empty()
        {
            let ship_tos = Sage300Resource::ShipToLocations;
            if tables
                .get(ship_tos, &row_key(ship_tos, &[&number, ship_to]))
                .is_none()
            {
                return Err(ApiError::general(format!(
                    "Ship-To Location \"{ship_to}\" does not exist for customer \"{number}\"."
                )));
            }
        }
        for (prop, table, extra) in REFERENCES {
            let Some(code) = payload.get(*prop).and_then(Value::as_str) else {
                continue;
            };
            let mut parts = vec![code];
            parts.extend(*extra);
            if code.is_empty() || tables.get(*table, &row_key(*table, &parts)).is_none() {
                return Err(ApiError::general(format!(
                    "{prop} \"{code}\" does not exist."
                )));
            }
        }
        let Some(mut rec) = tables.get(resource, &key).cloned() else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "RecordNotFound",
                "A Record cannot be found for the specified entity key",
            ));
        };
        for (k, v) in &payload {
            let v = if v.is_null() {
                tables
                    .template(resource)
                    .get(k)
                    .cloned()
                    .unwrap_or(Value::Null)
            } else {
                schema::normalise_date(v)
            };
            rec.insert(k.clone(), v);
        }
        if let Some(edits) = optional {
            edits.apply(&mut rec);
        }
        rec.insert("DateLastMaintained".into(), json!(today()));
        tables.insert_complete(resource, key, rec);
        drop(tables);

        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = match self.settings.patch_status {
            PatchStatus::NoContent204 => StatusCode::NO_CONTENT,
            PatchStatus::Ok200 => StatusCode::OK,
        };
        Ok(resp)
    }
}
