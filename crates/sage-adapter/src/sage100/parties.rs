//! The Sage 100 side of ship-tos and contacts, as `docs/reference-parties.md` fixes the wire:
//! `SO_ShipToAddress` and `AR_CustomerContact` records over SData Atom XML.
//!
//! - **Create**: `POST {table}` with an Atom entry (key columns first), sent once. A 2xx that
//!   carries the created entry is read from it; one that does not (201 with only a
//!   `Location`, 200 with an empty body) is confirmed by reading the record back, and a
//!   read-back that misses is ambiguous, as for customers.
//! - **One record**: `{table}(01;ABC;WH1)`, unquoted and `;`-joined. A 404 is "none" unless its
//!   diagnoses say the URL itself is wrong (unknown resource kind, company, contract…). A server
//!   that answers 400 to the selector is asked `where=ARDivisionNo eq '01' and CustomerNo eq
//!   'ABC' and ShipToCode eq 'WH1'` instead (an empty feed is "none").
//! - **A customer's list**: `where=ARDivisionNo eq '01' and CustomerNo eq 'ABC'`, paged and
//!   checked as the panel's feeds are; every entry must be this customer's.
//! - **Primary**: `PUT AR_Customer(01;ABC)` carrying only `PrimaryShipToCode` (ship-to) or
//!   `ContactCode` (contact); sending it twice leaves the customer as sending it once. A 404
//!   that is not about the URL means the customer is missing.
//!
//! Contacts are always records here ([`PartyHome::Records`]).

use crm2sage_domain::PartyKind;
use crm2sage_domain::ports::{
    ErpCustomerKey, ErpParty, ErpPartyKey, ErpReadError, ErpWriteError, NewErpParty, PageCursor,
    PartyHome, PartyPage,
};
use reqwest::{Method, StatusCode};

use super::party_wire::{self as pw};
use super::xml::{self, Document};
use super::{Sage100Gateway, panel, protocol, read_failure, urls, wire};
use crate::errors::{self, Verdict, WriteAct, WriteFailure};
use crate::http::Answer;

/// Sage 100 keeps both kinds as records.
pub(super) fn party_home(_kind: PartyKind) -> PartyHome {
    PartyHome::Records
}

/// The party with `key` among `doc`'s entries, if any; an entry that is another party is an
/// error, never "none".
fn party_in(doc: &Document, key: &ErpPartyKey) -> Result<Option<ErpParty>, String> {
    let kind = key.party.kind();
    let wire = pw::party_wire(kind);
    let mut found = None;
    for entry in &doc.entries {
        if entry.resource.is_none() {
            continue;
        }
        let party = pw::party(entry, kind, &key.customer)?;
        let same = party
            .code
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(key.party.as_str()));
        if !same {
            return Err(format!(
                "asked for {} of {}, got {} `{}`",
                key.party,
                key.customer.external_uid(),
                wire.code,
                party.code.as_deref().unwrap_or("")
            ));
        }
        found.get_or_insert(party);
    }
    Ok(found)
}

pub(super) async fn find_party(
    gateway: &Sage100Gateway,
    key: &ErpPartyKey,
) -> Result<Option<ErpParty>, ErpReadError> {
    let wire = pw::party_wire(key.party.kind());
    let division = key.customer.division.unwrap_or_default();
    let url = gateway.urls.single(
        wire.table,
        &[
            division.as_str(),
            key.customer.customer_no.as_str(),
            key.party.as_str(),
        ],
    );
    let mut answer = gateway.get(&url, None).await?;
    if answer.status == StatusCode::BAD_REQUEST {
        // A server that refuses the selector form: ask with `where` on the whole key.
        tracing::debug!(%url, "selector refused; reading by where");
        let filter = urls::where_eq(&[
            ("ARDivisionNo", division.as_str()),
            ("CustomerNo", key.customer.customer_no.as_str()),
            (wire.code, key.party.as_str()),
        ]);
        let by_where = gateway.urls.resource(wire.table, &[("where", &filter)]);
        answer = gateway.get(&by_where, None).await?;
    }
    if answer.status == StatusCode::NOT_FOUND {
        let diagnoses = xml::parse_diagnoses(&answer.body).unwrap_or_default();
        if wire::has_code(&diagnoses, wire::WRONG_URL) {
            return Err(read_failure(&answer));
        }
        return Ok(None);
    }
    if !answer.status.is_success() {
        return Err(read_failure(&answer));
    }
    let doc = Sage100Gateway::document(&answer)?;
    party_in(&doc, key).map_err(|e| protocol(xml::protocol(&e, &answer.body)))
}

/// How a failed write's answer reads. `on_customer`: the write went to the customer's own
/// URL, where a 404 whose diagnoses are not about the URL says the customer is missing.
pub(super) fn classify(answer: &Answer, act: WriteAct, on_customer: bool) -> WriteFailure {
    let diagnoses = xml::parse_diagnoses(&answer.body);
    let parsed = diagnoses.as_deref().map(wire::message_of);
    let status = answer.status;
    let missing_customer_url = on_customer
        && status == StatusCode::NOT_FOUND
        && diagnoses
            .as_deref()
            .is_some_and(|d| !wire::has_code(d, wire::WRONG_URL));
    let verdict = Verdict {
        duplicate: act == WriteAct::Create
            && (status == StatusCode::CONFLICT
                || diagnoses.as_deref().is_some_and(wire::says_duplicate)),
        customer_missing: missing_customer_url
            || parsed
                .as_ref()
                .and_then(|m| m.message.as_deref())
                .is_some_and(errors::says_customer_missing),
    };
    errors::write_status(status.as_u16(), parsed.as_ref(), &answer.body, verdict, act)
}

/// A 2xx body is readable when it is empty or XML.
pub(super) fn readable(body: &[u8]) -> Result<Option<Document>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    xml::parse(body).map(Some)
}

pub(super) async fn create_party(
    gateway: &Sage100Gateway,
    party: &NewErpParty,
) -> Result<ErpParty, ErpWriteError> {
    let wire = pw::party_wire(party.kind());
    let columns = pw::create_columns(party).map_err(|e| ErpWriteError::Rejected {
        code: "crm2sage".to_owned(),
        message: format!("the entry could not be written (nothing was sent): {e}"),
    })?;
    let pairs: Vec<(&str, &str)> = columns.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let body = xml::entry_xml(wire.table, &pairs);
    let url = gateway.urls.resource(wire.table, &[]);
    let act = WriteAct::Create;
    let answer = gateway
        .http
        .write_party(Method::POST, &url, body.into_bytes(), act, |a| {
            classify(a, act, false)
        })
        .await?;
    let status = answer.status.as_u16();
    let ambiguous =
        |why: String| ErpWriteError::from(errors::unreadable_success(status, act, &why));
    let doc = readable(&answer.body).map_err(ambiguous)?;
    if let Some(doc) = &doc {
        match party_in(doc, &party.key) {
            Ok(Some(created)) => return Ok(created),
            Ok(None) => {}
            Err(e) => return Err(ambiguous(e)),
        }
    }
    // No entry in the answer: success is confirmed by reading the record back.
    match find_party(gateway, &party.key).await {
        Ok(Some(created)) => Ok(created),
        Ok(None) => Err(ambiguous(format!(
            "reading {} back finds nothing",
            party.key.external_uid()
        ))),
        Err(e) => Err(ambiguous(format!("reading it back failed: {e}"))),
    }
}

pub(super) async fn set_primary_party(
    gateway: &Sage100Gateway,
    party: &NewErpParty,
) -> Result<(), ErpWriteError> {
    let wire = pw::party_wire(party.kind());
    let code = party.key.party.as_str();
    let body = xml::entry_xml(wire::CUSTOMERS, &[(wire.primary, code)]);
    let division = party.key.customer.division.unwrap_or_default();
    let url = gateway.urls.single(
        wire::CUSTOMERS,
        &[division.as_str(), party.key.customer.customer_no.as_str()],
    );
    let act = WriteAct::Update;
    let answer = gateway
        .http
        .write_party(Method::PUT, &url, body.into_bytes(), act, |a| {
            classify(a, act, true)
        })
        .await?;
    let status = answer.status.as_u16();
    let unreadable =
        |why: String| ErpWriteError::from(errors::unreadable_success(status, act, &why));
    let Some(doc) = readable(&answer.body).map_err(unreadable)? else {
        return Ok(());
    };
    if doc.diagnoses.iter().any(xml::Diagnosis::is_error) {
        let m = wire::message_of(&doc.diagnoses);
        return Err(unreadable(format!(
            "a {status} carrying an error diagnosis: {}",
            m.message.as_deref().unwrap_or(m.code())
        )));
    }
    // The customer answered, when it says which one is primary, must say this one.
    if let Some(now) = doc.entries.iter().find_map(|e| e.text(wire.primary))
        && !now.eq_ignore_ascii_case(code)
    {
        return Err(unreadable(format!(
            "the customer answered has {} `{now}`, not `{code}`",
            wire.primary
        )));
    }
    Ok(())
}

pub(super) async fn parties_page(
    gateway: &Sage100Gateway,
    customer: &ErpCustomerKey,
    kind: PartyKind,
    cursor: Option<PageCursor>,
) -> Result<PartyPage, ErpReadError> {
    let wire = pw::party_wire(kind);
    let division = customer.division.unwrap_or_default();
    let filter = urls::where_eq(&[
        ("ARDivisionNo", division.as_str()),
        ("CustomerNo", customer.customer_no.as_str()),
    ]);
    let Some(panel::Fetched { doc, body, next }) =
        panel::read_page(gateway, wire.table, &filter, cursor.as_ref()).await?
    else {
        return Err(protocol(format!(
            "the server has no {} resource kind",
            wire.table
        )));
    };
    let mut parties = Vec::with_capacity(doc.entries.len());
    for entry in &doc.entries {
        parties.push(
            pw::party(entry, kind, customer).map_err(|e| protocol(xml::protocol(&e, &body)))?,
        );
    }
    Ok(PartyPage {
        parties,
        next: next.map(|u| PageCursor::new(u.to_string())),
    })
}
