//! The fake ERP's ship-tos and contacts: records under their customer, the customer's primary
//! pointers, and the same create faults as customers (the next create of any kind takes the
//! next fault).

use std::collections::BTreeMap;

use crate::erp::ErpKind;
use crate::party::PartyKind;
use crate::ports::{
    ErpCustomerKey, ErpParty, ErpPartyKey, ErpReadError, ErpWriteError, NewErpParty,
    NewErpPartyDetail, PageCursor, PartyFieldLimit, PartyHome, PartyPage,
};
use crate::record::{ErpRecord, ErpValue};

use super::erp::{ErpFault, FakeErp, State, slot};

type PartySlot = ((Option<String>, String), PartyKind, String);

#[derive(Debug, Default)]
pub(super) struct PartyState {
    records: BTreeMap<PartySlot, ErpParty>,
    /// (customer, kind) → the primary's code, as the customer record points at it.
    primary: BTreeMap<((Option<String>, String), PartyKind), String>,
    contacts_on_customer: bool,
    pub(super) primary_updates: usize,
}

fn party_slot(key: &ErpPartyKey) -> PartySlot {
    (
        slot(&key.customer),
        key.party.kind(),
        key.party.as_str().to_owned(),
    )
}

fn record_of(party: &NewErpParty) -> ErpRecord {
    let mut r = ErpRecord::new();
    let text = |v: &str| ErpValue::Text(v.to_owned());
    r.push("customer_no", text(party.key.customer.customer_no.as_str()));
    r.push("code", text(party.key.party.as_str()));
    r.push("name", text(&party.name));
    let mut optional = vec![
        ("phone", party.phone.clone()),
        ("email", party.email.clone()),
    ];
    match &party.detail {
        NewErpPartyDetail::ShipTo {
            address_lines,
            city,
            state,
            postal_code,
            country,
        } => {
            for (i, line) in address_lines.iter().enumerate() {
                if let Some(line) = line {
                    r.push(format!("address_line_{}", i + 1), text(line));
                }
            }
            optional.extend([
                ("city", city.clone()),
                ("state", state.clone()),
                ("postal_code", postal_code.clone()),
                ("country", country.map(|c| c.alpha2().to_owned())),
            ]);
        }
        NewErpPartyDetail::Contact { title } => optional.push(("title", title.clone())),
    }
    for (name, value) in optional {
        if let Some(value) = value {
            r.push(name, text(&value));
        }
    }
    r
}

fn read_back(party: &NewErpParty) -> ErpParty {
    ErpParty {
        customer: party.key.customer.clone(),
        kind: party.kind(),
        code: Some(party.key.party.as_str().to_owned()),
        name: Some(party.name.clone()),
        record: record_of(party),
    }
}

impl FakeErp {
    /// Makes this a Sage 300 without `MT/MTContacts`: contacts live on the customer.
    pub fn without_contact_records(self) -> Self {
        self.state().parties.contacts_on_customer = true;
        self
    }

    /// The ship-tos or contacts the fake ERP holds, by customer and code.
    pub fn parties(&self, kind: PartyKind) -> Vec<ErpParty> {
        let s = self.state();
        s.parties
            .records
            .iter()
            .filter(|((_, k, _), _)| *k == kind)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// The code the customer points at as its primary party of `kind`.
    pub fn primary_of(&self, customer: &ErpCustomerKey, kind: PartyKind) -> Option<String> {
        self.state()
            .parties
            .primary
            .get(&(slot(customer), kind))
            .cloned()
    }

    /// How many primary updates of customers were sent.
    pub fn primary_updates(&self) -> usize {
        self.state().parties.primary_updates
    }

    fn home(&self, kind: PartyKind) -> PartyHome {
        let on_customer = self.kind == ErpKind::Sage300
            && kind == PartyKind::Contact
            && self.state().parties.contacts_on_customer;
        if on_customer {
            PartyHome::OnCustomer
        } else {
            PartyHome::Records
        }
    }
}

pub(super) fn party_home(erp: &FakeErp, kind: PartyKind) -> PartyHome {
    erp.home(kind)
}

pub(super) fn find(s: &mut State, key: &ErpPartyKey) -> Result<Option<ErpParty>, ErpReadError> {
    s.lookups += 1;
    if let Some(ErpFault::FailLookup(e)) = s.next_lookup.pop_front() {
        return Err(e);
    }
    Ok(s.parties.records.get(&party_slot(key)).cloned())
}

pub(super) fn create(s: &mut State, party: &NewErpParty) -> Result<ErpParty, ErpWriteError> {
    s.create_attempts += 1;
    let fault = s.next_create.pop_front();
    let key = party_slot(&party.key);
    let created = read_back(party);
    match fault {
        Some(ErpFault::RejectCreate { code, message }) => {
            return Err(ErpWriteError::Rejected { code, message });
        }
        Some(ErpFault::TimeoutBeforeCommit) => {
            return Err(ErpWriteError::Ambiguous {
                reason: "timed out (fake)".into(),
            });
        }
        Some(ErpFault::CommitThenDrop) => {
            s.parties.records.entry(key).or_insert(created);
            return Err(ErpWriteError::Ambiguous {
                reason: "connection reset after sending (fake)".into(),
            });
        }
        Some(ErpFault::CreatedMeanwhile) => {
            s.parties.records.entry(key).or_insert(created);
            return Err(ErpWriteError::AlreadyExists);
        }
        _ => {}
    }
    if !s.customers.contains_key(&slot(&party.key.customer)) {
        return Err(ErpWriteError::CustomerMissing);
    }
    if s.parties.records.contains_key(&key) {
        return Err(ErpWriteError::AlreadyExists);
    }
    s.parties.records.insert(key, created.clone());
    Ok(created)
}

pub(super) fn set_primary(
    s: &mut State,
    home: PartyHome,
    party: &NewErpParty,
) -> Result<(), ErpWriteError> {
    let customer = slot(&party.key.customer);
    if !s.customers.contains_key(&customer) {
        return Err(ErpWriteError::CustomerMissing);
    }
    s.parties.primary_updates += 1;
    let kind = party.kind();
    if home == PartyHome::OnCustomer {
        // The customer's own contact fields hold it: keep it as a record under the customer
        // so reads see it, as a real server shows the fields.
        s.parties
            .records
            .retain(|(c, k, _), _| !(c == &customer && *k == kind));
        s.parties.records.insert(
            party_slot(&party.key),
            ErpParty {
                code: None,
                ..read_back(party)
            },
        );
    }
    s.parties
        .primary
        .insert((customer, kind), party.key.party.as_str().to_owned());
    Ok(())
}

pub(super) fn page(
    s: &State,
    customer: &ErpCustomerKey,
    kind: PartyKind,
    cursor: Option<&PageCursor>,
    page_size: usize,
) -> Result<PartyPage, ErpReadError> {
    let start: usize = match cursor {
        None => 0,
        Some(c) => c.as_str().parse().map_err(|_| ErpReadError::Protocol {
            excerpt: c.as_str().to_owned(),
        })?,
    };
    let customer = slot(customer);
    let all: Vec<&ErpParty> = s
        .parties
        .records
        .iter()
        .filter(|((c, k, _), _)| c == &customer && *k == kind)
        .map(|(_, p)| p)
        .collect();
    let end = (start + page_size).min(all.len());
    let parties = all
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|p| (*p).clone())
        .collect();
    let next = (end < all.len()).then(|| PageCursor::new(end.to_string()));
    Ok(PartyPage { parties, next })
}

/// Sage 100's lengths for Sage 100, Sage 300's for Sage 300, under plain names.
pub(super) fn limits(kind: ErpKind, party: PartyKind) -> Vec<PartyFieldLimit> {
    let limit = |input, erp_name, max| PartyFieldLimit {
        input,
        erp_name,
        max,
    };
    match (kind, party) {
        (ErpKind::Sage300, PartyKind::ShipTo) => vec![
            limit("name", "name", 60),
            limit("line1", "address_line_1", 60),
            limit("city", "city", 30),
            limit("phone", "phone", 30),
            limit("email", "email", 50),
        ],
        (ErpKind::Sage100, PartyKind::ShipTo) => vec![
            limit("name", "name", 30),
            limit("line1", "address_line_1", 30),
            limit("city", "city", 20),
            limit("phone", "phone", 17),
            limit("email", "email", 250),
        ],
        (ErpKind::Sage300, _) => vec![limit("name", "name", 60), limit("email", "email", 50)],
        (_, _) => vec![
            limit("name", "name", 30),
            limit("title", "title", 30),
            limit("phone", "phone", 17),
        ],
    }
}
