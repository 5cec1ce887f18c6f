//! The Sage 300 side of ship-tos and contacts, as `docs/reference-parties.md` fixes the wire:
//!
//! - **Ship-tos** are `AR/ARShipToLocations` records: created by `POST`, read one by the
//!   composite key `(CustomerNumber='C1',ShipToLocationKey='WH1')` (a 404 is "none"; a
//!   customer number holding a character IIS mangles in a path, or a server answering 400 to
//!   the composite key, is read with `$filter=CustomerNumber eq '…' and ShipToLocationKey eq
//!   '…'` instead; there an empty list is "none"), listed with
//!   `$filter=CustomerNumber eq 'C1'` and paged by next link. The primary is the customer's
//!   `PrimaryShipToLocation`, set by `PATCH AR/ARCustomers('C1')`.
//! - **Contacts** are `MT/MTContacts` records where the server has that resource (asked once
//!   per gateway with `GET MT/MTContacts?$top=1`: a 2xx list → records, a 404 → none; any other
//!   answer is an error and is asked again next time). Without it the customer's own
//!   `ContactName`, `ContactsPhone`, `ContactsEmail` hold the primary contact, and a list of
//!   contacts is that one (without a code). Either way, making a contact primary writes those
//!   three fields of the customer.
//!
//! Writes are sent once and classified by [`errors::write_status`]: a duplicate is
//! `RecordDuplicate` on a 409 (as for customers) or a 400, a missing customer is a 404
//! `RecordNotFound` on the customer's own URL or a refusal whose message has the customer as its
//! subject (`Customer "C9" does not exist.`); a 2xx whose body cannot be read (or is another
//! record) is ambiguous. A customer number holding a character IIS mangles in a path is still
//! patched at its key URL (an update has no `$filter` form).

use crm2sage_domain::ports::{
    ErpCustomerKey, ErpGateway, ErpParty, ErpPartyKey, ErpReadError, ErpWriteError, NewErpParty,
    PageCursor, PartyHome, PartyPage,
};
use crm2sage_domain::{ErpRecord, PartyKind};
use reqwest::{Method, StatusCode};
use url::Url;

use super::wire::{self, Entity, party as pw};
use super::{CUSTOMERS, PATH_HOSTILE, Sage300Gateway, get_ok, panel, protocol, read_failure, urls};
use crate::errors::{self, Verdict, WriteAct, WriteFailure};
use crate::http::{Answer, BodyKind};

/// Where this server keeps contacts, asked once (see the module docs).
pub(super) async fn party_home(
    gateway: &Sage300Gateway,
    kind: PartyKind,
) -> Result<PartyHome, ErpReadError> {
    if kind != PartyKind::Contact {
        return Ok(PartyHome::Records);
    }
    gateway
        .contacts_home
        .get_or_try_init(|| detect_contacts(gateway))
        .await
        .copied()
}

async fn detect_contacts(gateway: &Sage300Gateway) -> Result<PartyHome, ErpReadError> {
    let url = gateway.urls.resource(pw::CONTACTS, &[("$top", "1")]);
    let answer = gateway
        .http
        .get(&url, None, BodyKind::Entity)
        .await
        .map_err(errors::read_transport)?;
    if answer.status == StatusCode::NOT_FOUND {
        tracing::debug!("no MT/MTContacts: contacts live on the customer");
        return Ok(PartyHome::OnCustomer);
    }
    if !answer.status.is_success() {
        return Err(read_failure(&answer));
    }
    // A 2xx that is not an OData list (a proxy's page) proves nothing either way.
    wire::parse_page(&answer.body).map_err(protocol)?;
    Ok(PartyHome::Records)
}

/// Whether contacts are known to live on the customer (no request).
pub(super) fn contacts_on_customer(gateway: &Sage300Gateway) -> bool {
    gateway.contacts_home.get() == Some(&PartyHome::OnCustomer)
}

/// `{resource}?$filter=CustomerNumber eq '…' and {code} eq '…'`.
fn filter_url(gateway: &Sage300Gateway, key: &ErpPartyKey) -> Url {
    let wire = pw::party_wire(key.party.kind());
    let filter = format!(
        "{} and {}",
        urls::eq_filter("CustomerNumber", key.customer.customer_no.as_str()),
        urls::eq_filter(wire.code, key.party.as_str())
    );
    gateway
        .urls
        .resource(wire.resource, &[("$filter", &filter)])
}

/// The URL that reads the one party with `key`: the composite key, or the `$filter` for a
/// customer number IIS would mangle in a path.
fn one_url(gateway: &Sage300Gateway, key: &ErpPartyKey) -> (Url, bool) {
    let wire = pw::party_wire(key.party.kind());
    let number = key.customer.customer_no.as_str();
    if number.contains(PATH_HOSTILE) {
        (filter_url(gateway, key), false)
    } else {
        let url = gateway.urls.composite(
            wire.resource,
            &[("CustomerNumber", number), (wire.code, key.party.as_str())],
        );
        (url, true)
    }
}

/// The party with `key` among the entities of `body` (one entity, or a list), if any. An
/// entity that is another party is a protocol error, never "none".
fn party_in(body: &[u8], key: &ErpPartyKey) -> Result<Option<ErpParty>, String> {
    let kind = key.party.kind();
    let wire = pw::party_wire(kind);
    let entities: Vec<Entity> = match wire::parse_page(body) {
        Ok(page) => page.rows,
        Err(_) => vec![wire::parse_entity(body)?],
    };
    let mut found = None;
    for entity in &entities {
        let party = pw::party(entity, kind, &key.customer).map_err(|e| wire::protocol(&e, body))?;
        let same = party
            .code
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(key.party.as_str()));
        if !same {
            return Err(wire::protocol(
                &format!(
                    "asked for {} {}, got {} `{}`",
                    key.party,
                    key.external_uid(),
                    wire.code,
                    party.code.as_deref().unwrap_or("")
                ),
                body,
            ));
        }
        found.get_or_insert(party);
    }
    Ok(found)
}

pub(super) async fn find_party(
    gateway: &Sage300Gateway,
    key: &ErpPartyKey,
) -> Result<Option<ErpParty>, ErpReadError> {
    if key.party.kind() == PartyKind::Contact
        && party_home(gateway, PartyKind::Contact).await? == PartyHome::OnCustomer
    {
        return Ok(None);
    }
    let (url, by_key) = one_url(gateway, key);
    let mut answer = gateway
        .http
        .get(&url, None, BodyKind::Entity)
        .await
        .map_err(errors::read_transport)?;
    if answer.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if by_key && answer.status == StatusCode::BAD_REQUEST {
        // A server whose routing refuses the composite-key form [UNSURE]: ask by `$filter`.
        tracing::debug!(%url, "composite key refused; reading by $filter");
        answer = get_ok(&gateway.http, &filter_url(gateway, key), None).await?;
    }
    if !answer.status.is_success() {
        return Err(read_failure(&answer));
    }
    party_in(&answer.body, key).map_err(protocol)
}

/// How a failed write's answer reads: a duplicate, a missing customer (`on_customer`: the
/// write went to the customer's own URL, where a 404 `RecordNotFound` says so), or neither.
pub(super) fn classify(answer: &Answer, act: WriteAct, on_customer: bool) -> WriteFailure {
    let parsed = wire::parse_error(&answer.body);
    let code = parsed.as_ref().map_or("", |m| m.code());
    let status = answer.status;
    let verdict = Verdict {
        // An update of an existing customer never creates a key: never "already exists".
        duplicate: act == WriteAct::Create
            && code == "RecordDuplicate"
            && matches!(status, StatusCode::CONFLICT | StatusCode::BAD_REQUEST),
        customer_missing: (on_customer
            && status == StatusCode::NOT_FOUND
            && code == "RecordNotFound")
            || parsed
                .as_ref()
                .and_then(|m| m.message.as_deref())
                .is_some_and(errors::says_customer_missing),
    };
    errors::write_status(status.as_u16(), parsed.as_ref(), &answer.body, verdict, act)
}

pub(super) fn not_sent(what: &str, e: &str) -> ErpWriteError {
    ErpWriteError::Rejected {
        code: "crm2sage".to_owned(),
        message: format!("{what} could not be written (nothing was sent): {e}"),
    }
}

pub(super) async fn create_party(
    gateway: &Sage300Gateway,
    party: &NewErpParty,
) -> Result<ErpParty, ErpWriteError> {
    let kind = party.kind();
    if kind == PartyKind::Contact
        && party_home(gateway, kind)
            .await
            .map_err(errors::write_from_read)?
            == PartyHome::OnCustomer
    {
        return Err(ErpWriteError::Rejected {
            code: "crm2sage".to_owned(),
            message: "this Sage 300 has no contact records (no MT/MTContacts); only the \
                      primary contact can be kept, in the customer's own contact fields"
                .to_owned(),
        });
    }
    let body = pw::party_payload(party).map_err(|e| not_sent("the payload", &e))?;
    let url = gateway.urls.resource(pw::party_wire(kind).resource, &[]);
    let act = WriteAct::Create;
    let answer = gateway
        .http
        .write_party(Method::POST, &url, body, act, |a| classify(a, act, false))
        .await?;
    let status = answer.status.as_u16();
    let ambiguous =
        |why: String| ErpWriteError::from(errors::unreadable_success(status, act, &why));
    if answer.body.iter().all(u8::is_ascii_whitespace) {
        // No entity in the answer (a 201/204 without body): read it back.
        return match find_party(gateway, &party.key).await {
            Ok(Some(created)) => Ok(created),
            Ok(None) => Err(ambiguous(format!(
                "no entity, and reading {} back finds nothing",
                party.key.external_uid()
            ))),
            Err(e) => Err(ambiguous(format!(
                "no entity, and reading it back failed: {e}"
            ))),
        };
    }
    match party_in(&answer.body, &party.key) {
        Ok(Some(created)) => Ok(created),
        Ok(None) => Err(ambiguous(errors::excerpt(&answer.body))),
        Err(e) => Err(ambiguous(e)),
    }
}

pub(super) async fn set_primary_party(
    gateway: &Sage300Gateway,
    party: &NewErpParty,
) -> Result<(), ErpWriteError> {
    let body = match party.kind() {
        PartyKind::Contact => pw::customer_contact_patch(party),
        _ => pw::primary_ship_to_patch(party.key.party.as_str()),
    }
    .map_err(|e| not_sent("the customer update", &e))?;
    let url = gateway
        .urls
        .entity(CUSTOMERS, party.key.customer.customer_no.as_str());
    let act = WriteAct::Update;
    let answer = gateway
        .http
        .write_party(Method::PATCH, &url, body, act, |a| classify(a, act, true))
        .await?;
    let status = answer.status.as_u16();
    // 204 without a body, or the updated customer.
    if answer.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let entity = wire::parse_entity(&answer.body)
        .map_err(|e| ErpWriteError::from(errors::unreadable_success(status, act, &e)))?;
    if party.kind() == PartyKind::ShipTo
        && let Some(now) = pw::primary_ship_to(&entity)
        && !now.eq_ignore_ascii_case(party.key.party.as_str())
    {
        return Err(errors::unreadable_success(
            status,
            act,
            &format!(
                "the customer answered has PrimaryShipToLocation `{now}`, not `{}`",
                party.key.party.as_str()
            ),
        )
        .into());
    }
    Ok(())
}

pub(super) async fn parties_page(
    gateway: &Sage300Gateway,
    customer: &ErpCustomerKey,
    kind: PartyKind,
    cursor: Option<PageCursor>,
) -> Result<PartyPage, ErpReadError> {
    if kind == PartyKind::Contact && party_home(gateway, kind).await? == PartyHome::OnCustomer {
        return contact_on_customer(gateway, customer, cursor.as_ref()).await;
    }
    let resource = pw::party_wire(kind).resource;
    let url = panel::page_url(
        gateway,
        resource,
        || {
            let filter = urls::eq_filter("CustomerNumber", customer.customer_no.as_str());
            gateway.urls.resource(resource, &[("$filter", &filter)])
        },
        cursor.as_ref(),
    )?;
    let answer = get_ok(&gateway.http, &url, Some(gateway.settings.list_timeout)).await?;
    let page = wire::parse_page(&answer.body).map_err(protocol)?;
    let mut parties = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        // Never trust that the server filtered: only this customer's.
        if pw::owner(row).is_some_and(|n| n != customer.customer_no) {
            continue;
        }
        parties.push(
            pw::party(row, kind, customer)
                .map_err(|e| protocol(wire::protocol(&e, &answer.body)))?,
        );
    }
    let next = panel::next_cursor(
        gateway,
        resource,
        &url,
        page.next_link.as_deref(),
        page.rows.len(),
    )?;
    Ok(PartyPage { parties, next })
}

/// The contact the customer's own fields hold, as the one page of a server without contact
/// records; none when the customer is missing or its `ContactName` is blank.
async fn contact_on_customer(
    gateway: &Sage300Gateway,
    customer: &ErpCustomerKey,
    cursor: Option<&PageCursor>,
) -> Result<PartyPage, ErpReadError> {
    if let Some(c) = cursor {
        return Err(protocol(format!(
            "the customer's contact is one page; unexpected cursor `{}`",
            c.as_str()
        )));
    }
    let found = gateway.find_customer(customer).await?;
    let parties = found
        .and_then(|c| {
            let name = c
                .record
                .text(pw::CUSTOMER_CONTACT_NAME)
                .map(str::trim)
                .filter(|n| !n.is_empty())?
                .to_owned();
            let record: ErpRecord = pw::customer_contact_record(&c.record);
            Some(ErpParty {
                customer: customer.clone(),
                kind: PartyKind::Contact,
                code: None,
                name: Some(name),
                record,
            })
        })
        .into_iter()
        .collect();
    Ok(PartyPage {
        parties,
        next: None,
    })
}
