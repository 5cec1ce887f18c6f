//! Sage 100 ship-tos (`SO_ShipToAddress`) and contacts (`AR_CustomerContact`): their tables,
//! key and name columns, the columns a create sends and the customer column that points at
//! the primary one. Names and their status: `docs/reference-parties.md`.

use crm2sage_domain::PartyKind;
use crm2sage_domain::ports::{ErpCustomerKey, ErpParty, NewErpParty, NewErpPartyDetail};

use super::wire;
use super::xml::Entry;

/// The ship-to table.
pub(crate) const SHIP_TOS: &str = "SO_ShipToAddress";
/// The contact table.
pub(crate) const CONTACTS: &str = "AR_CustomerContact";

/// Where one kind of party lives, which column holds its code, which its name, and which
/// `AR_Customer` column points at the primary one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartyWire {
    pub(crate) table: &'static str,
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) primary: &'static str,
}

/// The table of `kind`.
pub(crate) fn party_wire(kind: PartyKind) -> PartyWire {
    match kind {
        PartyKind::Contact => PartyWire {
            table: CONTACTS,
            code: "ContactCode",
            name: "ContactName",
            primary: "ContactCode",
        },
        _ => PartyWire {
            table: SHIP_TOS,
            code: "ShipToCode",
            name: "ShipToName",
            primary: "PrimaryShipToCode",
        },
    }
}

/// The columns of a create, key first; every `None` and blank text is left out. A detail of
/// the other kind than the key's is refused (nothing is sent).
pub(crate) fn create_columns(party: &NewErpParty) -> Result<Vec<(&'static str, String)>, String> {
    let kind = party.kind();
    let wire = party_wire(kind);
    let division = party.key.customer.division.unwrap_or_default();
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut push = |name: &'static str, value: Option<&str>| {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            out.push((name, v.to_owned()));
        }
    };
    push("ARDivisionNo", Some(division.as_str()));
    push("CustomerNo", Some(party.key.customer.customer_no.as_str()));
    push(wire.code, Some(party.key.party.as_str()));
    push(wire.name, Some(&party.name));
    match (kind, &party.detail) {
        (
            PartyKind::ShipTo,
            NewErpPartyDetail::ShipTo {
                address_lines,
                city,
                state,
                postal_code,
                country,
            },
        ) => {
            const LINES: [&str; 3] = ["ShipToAddress1", "ShipToAddress2", "ShipToAddress3"];
            for (column, line) in LINES.iter().zip(address_lines) {
                push(column, line.as_deref());
            }
            push("ShipToCity", city.as_deref());
            push("ShipToState", state.as_deref());
            push("ShipToZipCode", postal_code.as_deref());
            push("ShipToCountryCode", country.map(|c| c.alpha3()));
            push("TelephoneNo", party.phone.as_deref());
            push("EmailAddress", party.email.as_deref());
        }
        (PartyKind::Contact, NewErpPartyDetail::Contact { title }) => {
            push("ContactTitle", title.as_deref());
            push("TelephoneNo1", party.phone.as_deref());
            push("EmailAddress", party.email.as_deref());
        }
        (kind, _) => return Err(format!("a {kind} whose details are not a {kind}'s")),
    }
    Ok(out)
}

/// An entry of `kind` as an [`ErpParty`] of `customer`: it must carry that customer's
/// division and number, and its code.
pub(crate) fn party(
    entry: &Entry,
    kind: PartyKind,
    customer: &ErpCustomerKey,
) -> Result<ErpParty, String> {
    let wire = party_wire(kind);
    let division = customer.division.unwrap_or_default();
    super::panel::check_owner(entry, division, &customer.customer_no, wire.table)?;
    let code = entry
        .text(wire.code)
        .ok_or_else(|| format!("a {} entry without {}", wire.table, wire.code))?;
    Ok(ErpParty {
        customer: ErpCustomerKey {
            division: Some(division),
            customer_no: customer.customer_no.clone(),
        },
        kind,
        code: Some(code.to_owned()),
        name: entry.text(wire.name).map(str::to_owned),
        record: wire::record(entry),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
    use super::*;
    use crm2sage_domain::ports::ErpPartyKey;
    use crm2sage_domain::{ArDivision, CustomerNo, PartyCode};

    #[test]
    fn contact_columns_are_keyed_and_leave_blanks_out() {
        let party = NewErpParty {
            key: ErpPartyKey {
                customer: ErpCustomerKey {
                    division: Some(ArDivision::parse("01").unwrap()),
                    customer_no: CustomerNo::parse_sage100("abc").unwrap(),
                },
                party: PartyCode::parse(PartyKind::Contact, "jane").unwrap(),
            },
            name: "Jane Roe".into(),
            phone: None,
            email: Some("jane@example.com".into()),
            primary: false,
            detail: NewErpPartyDetail::Contact {
                title: Some("  ".into()),
            },
        };
        let columns = create_columns(&party).unwrap();
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "ARDivisionNo",
                "CustomerNo",
                "ContactCode",
                "ContactName",
                "EmailAddress"
            ]
        );
        assert_eq!(columns[2].1, "JANE");
    }
}
