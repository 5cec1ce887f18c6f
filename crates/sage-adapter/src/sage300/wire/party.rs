//! Ship-to locations (`AR/ARShipToLocations`) and contacts (`MT/MTContacts`, or the
//! customer's own contact fields): the create payloads, the customer updates that make one
//! primary, and reading an entity back. Names and their status: `docs/reference-parties.md`.

use crm2sage_domain::ports::{ErpCustomerKey, ErpParty, NewErpParty, NewErpPartyDetail};
use crm2sage_domain::{CustomerNo, ErpRecord, PartyKind};
use serde::Serialize;

use super::Entity;
use super::customer::{AddressPayload, customer_record, given, text};

/// The ship-to resource.
pub(crate) const SHIP_TOS: &str = "AR/ARShipToLocations";
/// The contact resource (Sage 300 2020.1 and later) \[UNSURE].
pub(crate) const CONTACTS: &str = "MT/MTContacts";
/// The customer's property pointing at its primary ship-to.
const PRIMARY_SHIP_TO: &str = "PrimaryShipToLocation";
/// The customer's own contact fields, which hold its primary contact.
pub(crate) const CUSTOMER_CONTACT_NAME: &str = "ContactName";

/// Where one kind of party lives as records, and which properties hold its key and name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartyWire {
    /// The resource (`AR/ARShipToLocations`, `MT/MTContacts`).
    pub(crate) resource: &'static str,
    /// The property holding the party's code within its customer.
    pub(crate) code: &'static str,
    /// The property holding its name.
    pub(crate) name: &'static str,
}

/// The records of `kind`.
pub(crate) fn party_wire(kind: PartyKind) -> PartyWire {
    match kind {
        PartyKind::Contact => PartyWire {
            resource: CONTACTS,
            code: "ContactCode",
            name: "ContactName",
        },
        _ => PartyWire {
            resource: SHIP_TOS,
            code: "ShipToLocationKey",
            name: "Description",
        },
    }
}

/// `POST AR/ARShipToLocations` body: the key first, then the location; `None` and blank text
/// are left out.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ShipToPayload<'a> {
    customer_number: &'a str,
    ship_to_location_key: &'a str,
    description: &'a str,
    #[serde(flatten)]
    address: AddressPayload<'a>,
}

/// `POST MT/MTContacts` body \[UNSURE: every name].
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContactPayload<'a> {
    customer_number: &'a str,
    contact_code: &'a str,
    contact_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

/// The create payload of `party`, as bytes in property order. A detail of the other kind
/// than the key's is refused (nothing is sent).
pub(crate) fn party_payload(party: &NewErpParty) -> Result<Vec<u8>, String> {
    let number = party.key.customer.customer_no.as_str();
    let code = party.key.party.as_str();
    let written = match (party.kind(), &party.detail) {
        (
            PartyKind::ShipTo,
            NewErpPartyDetail::ShipTo {
                address_lines,
                city,
                state,
                postal_code,
                country,
            },
        ) => serde_json::to_vec(&ShipToPayload {
            customer_number: number,
            ship_to_location_key: code,
            description: &party.name,
            address: AddressPayload::new(
                address_lines,
                city.as_deref(),
                state.as_deref(),
                postal_code.as_deref(),
                country.as_ref(),
                party.phone.as_deref(),
                party.email.as_deref(),
            ),
        }),
        (PartyKind::Contact, NewErpPartyDetail::Contact { title }) => {
            serde_json::to_vec(&ContactPayload {
                customer_number: number,
                contact_code: code,
                contact_name: &party.name,
                title: given(title.as_deref()),
                phone_number: given(party.phone.as_deref()),
                email: given(party.email.as_deref()),
            })
        }
        (kind, _) => return Err(format!("a {kind} whose details are not a {kind}'s")),
    };
    written.map_err(|e| e.to_string())
}

/// `PATCH AR/ARCustomers('C1')` body making `code` the primary ship-to.
pub(crate) fn primary_ship_to_patch(code: &str) -> Result<Vec<u8>, String> {
    let mut body = serde_json::Map::new();
    body.insert(PRIMARY_SHIP_TO.to_owned(), code.into());
    serde_json::to_vec(&body).map_err(|e| e.to_string())
}

/// `PATCH AR/ARCustomers('C1')` body writing `party` into the customer's contact fields:
/// `ContactName`, `ContactsPhone`, `ContactsEmail`, all three always sent (a missing phone or
/// e-mail as `""`, so the previous contact's do not stay beside the new name), hence sending
/// it twice leaves what sending it once does.
pub(crate) fn customer_contact_patch(party: &NewErpParty) -> Result<Vec<u8>, String> {
    let mut body = serde_json::Map::new();
    body.insert(CUSTOMER_CONTACT_NAME.to_owned(), party.name.trim().into());
    for (name, value) in [
        ("ContactsPhone", &party.phone),
        ("ContactsEmail", &party.email),
    ] {
        let value = given(value.as_deref()).map(str::trim).unwrap_or("");
        body.insert(name.to_owned(), value.into());
    }
    serde_json::to_vec(&body).map_err(|e| e.to_string())
}

/// The customer's primary ship-to as the customer entity `entity` says, if it says.
pub(crate) fn primary_ship_to(entity: &Entity) -> Option<String> {
    text(entity, PRIMARY_SHIP_TO)
}

/// The customer's `Contact…` fields, in its order.
pub(crate) fn customer_contact_record(customer: &ErpRecord) -> ErpRecord {
    let mut record = ErpRecord::new();
    for (name, value) in customer.fields() {
        if name.starts_with("Contact") {
            record.push(name, value.clone());
        }
    }
    record
}

/// The `CustomerNumber` of a party entity, as the domain reads customer numbers; `None` when
/// absent or unusable.
pub(crate) fn owner(entity: &Entity) -> Option<CustomerNo> {
    text(entity, "CustomerNumber").and_then(|n| CustomerNo::parse_sage300(&n).ok())
}

/// A party entity of `kind` as an [`ErpParty`] of `customer`. An entity of another customer,
/// or without its code, is refused.
pub(crate) fn party(
    entity: &Entity,
    kind: PartyKind,
    customer: &ErpCustomerKey,
) -> Result<ErpParty, String> {
    let wire = party_wire(kind);
    let number =
        text(entity, "CustomerNumber").ok_or_else(|| format!("a {kind} without CustomerNumber"))?;
    match CustomerNo::parse_sage300(&number) {
        Ok(n) if n == customer.customer_no => {}
        _ => {
            return Err(format!(
                "a {kind} of customer `{number}`, not of `{}`",
                customer.customer_no
            ));
        }
    }
    let code = text(entity, wire.code).ok_or_else(|| format!("a {kind} without {}", wire.code))?;
    Ok(ErpParty {
        customer: customer.clone(),
        kind,
        code: Some(code),
        name: text(entity, wire.name),
        record: customer_record(entity),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
    use super::*;
    use crm2sage_domain::ports::ErpPartyKey;
    use crm2sage_domain::{CountryCode, PartyCode};

    fn ship_to() -> NewErpParty {
        NewErpParty {
            key: ErpPartyKey {
                customer: ErpCustomerKey {
                    division: None,
                    customer_no: CustomerNo::parse_sage300("c1").unwrap(),
                },
                party: PartyCode::parse(PartyKind::ShipTo, "wh1").unwrap(),
            },
            name: "Warehouse".into(),
            phone: Some(" ".into()),
            email: None,
            primary: true,
            detail: NewErpPartyDetail::ShipTo {
                address_lines: [Some("1 Dock Rd".into()), None, Some(String::new())],
                city: Some("Reno".into()),
                state: None,
                postal_code: None,
                country: CountryCode::parse("US").ok(),
            },
        }
    }

    #[test]
    fn the_ship_to_payload_is_in_order_and_leaves_blanks_out() {
        let body = String::from_utf8(party_payload(&ship_to()).unwrap()).unwrap();
        assert_eq!(
            body,
            r#"{"CustomerNumber":"C1","ShipToLocationKey":"WH1","Description":"Warehouse","AddressLine1":"1 Dock Rd","City":"Reno","Country":"US"}"#
        );
        let mut wrong = ship_to();
        wrong.detail = NewErpPartyDetail::Contact { title: None };
        assert!(party_payload(&wrong).is_err());
    }

    #[test]
    fn the_customer_contact_patch_always_has_its_three_fields() {
        let body = String::from_utf8(customer_contact_patch(&ship_to()).unwrap()).unwrap();
        assert_eq!(
            body,
            r#"{"ContactName":"Warehouse","ContactsPhone":"","ContactsEmail":""}"#
        );
        assert_eq!(
            String::from_utf8(primary_ship_to_patch("WH1").unwrap()).unwrap(),
            r#"{"PrimaryShipToLocation":"WH1"}"#
        );
    }
}
