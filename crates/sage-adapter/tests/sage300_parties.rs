//! Sage 300 ship-tos and contacts on the wire, checked against wiremock (not our simulator)
//! with the names `docs/reference-parties.md` fixes: the exact requests (method, path, query,
//! body properties), how answers are read back, the `MT/MTContacts` detection, and how every
//! failure is classified.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;

use crm2sage_domain::ports::{
    ErpGateway, ErpPartyKey, ErpReadError, ErpWriteError, NewErpParty, NewErpPartyDetail, PartyHome,
};
use crm2sage_domain::{CountryCode, ErpValue, PartyCode, PartyKind};
use crm2sage_sage_adapter::ClientSettings;
use serde_json::Value;
use support::{connect, key};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const COMPANY: &str = "/Sage300WebApi/v1.0/-/SAMLTD";

async fn gateway(server: &MockServer) -> Arc<dyn ErpGateway> {
    let i = support::integration(
        &format!("{}/Sage300WebApi", server.uri()),
        "SAMLTD",
        "ADMIN",
    );
    connect(&i, "ADMIN", ClientSettings::for_tests()).await
}

fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

async fn on(server: &MockServer, verb: &str, resource: &str, template: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(format!("{COMPANY}/{resource}")))
        .respond_with(template)
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// Path and raw query as they went on the wire.
fn target(r: &Request) -> String {
    match r.url.query() {
        Some(q) => format!("{}?{q}", r.url.path()),
        None => r.url.path().to_owned(),
    }
}

fn body_json(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// The property names of a JSON object body, in the order sent.
fn names(r: &Request) -> Vec<String> {
    match body_json(r) {
        Value::Object(m) => m.keys().cloned().collect(),
        other => panic!("not an object: {other}"),
    }
}

fn ship_to(customer: &str, code: &str) -> NewErpParty {
    NewErpParty {
        key: ErpPartyKey {
            customer: key(customer),
            party: PartyCode::parse(PartyKind::ShipTo, code).unwrap(),
        },
        name: "Main Warehouse".into(),
        phone: Some("775-555-0100".into()),
        email: None,
        primary: true,
        detail: NewErpPartyDetail::ShipTo {
            address_lines: [Some("1 Dock Rd".into()), Some("Bay 4".into()), None],
            city: Some("Reno".into()),
            state: Some("NV".into()),
            postal_code: Some("89501".into()),
            country: CountryCode::parse("US").ok(),
        },
    }
}

fn contact(customer: &str, code: &str) -> NewErpParty {
    NewErpParty {
        key: ErpPartyKey {
            customer: key(customer),
            party: PartyCode::parse(PartyKind::Contact, code).unwrap(),
        },
        name: "Jane Roe".into(),
        phone: Some("414-555-0101".into()),
        email: Some("jane@example.com".into()),
        primary: true,
        detail: NewErpPartyDetail::Contact {
            title: Some("Buyer".into()),
        },
    }
}

const SHIP_TO_WH1: &str = r#"{
  "@odata.context":"http://host/Sage300WebApi/v1.0/-/SAMLTD/AR/$metadata#ARShipToLocations/$entity",
  "CustomerNumber":"C1","ShipToLocationKey":"WH1","Status":"Active","Description":"Main Warehouse",
  "AddressLine1":"1 Dock Rd","City":"Reno","PrimaryShipToIndicator":"No","TaxClassCode1":1}"#;

fn ship_to_row(customer: &str, code: &str) -> String {
    format!(
        r#"{{"CustomerNumber":"{customer}","ShipToLocationKey":"{code}","Description":"Site {code}","PrimaryShipToIndicator":"No"}}"#
    )
}

const DUPLICATE: &str = r#"{"error":{"code":"RecordDuplicate","message":{"lang":"en-US","value":"Record already exists."}}}"#;
const NOT_FOUND: &str = r#"{"error":{"code":"RecordNotFound","message":{"lang":"en-US","value":"A Record cannot be found for the specified entity key"}}}"#;

#[tokio::test]
async fn creating_a_ship_to_posts_the_documented_properties_and_reads_the_entity() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "AR/ARShipToLocations",
        json(201, SHIP_TO_WH1),
    )
    .await;
    let created = gateway(&server)
        .await
        .create_party(&ship_to("c1", "wh1"))
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1, "one POST, nothing else");
    assert_eq!(sent[0].method.as_str(), "POST");
    assert_eq!(target(&sent[0]), format!("{COMPANY}/AR/ARShipToLocations"));
    assert_eq!(
        sent[0]
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(
        names(&sent[0]),
        [
            "CustomerNumber",
            "ShipToLocationKey",
            "Description",
            "AddressLine1",
            "AddressLine2",
            "City",
            "StateProvince",
            "ZipPostalCode",
            "Country",
            "PhoneNumber"
        ]
    );
    let body = body_json(&sent[0]);
    assert_eq!(body["CustomerNumber"], "C1");
    assert_eq!(body["ShipToLocationKey"], "WH1");
    assert_eq!(body["Description"], "Main Warehouse");
    assert_eq!(body["Country"], "US");
    assert_eq!(body["PhoneNumber"], "775-555-0100");
    assert!(
        body.get("PrimaryShipToIndicator").is_none(),
        "the indicator is never sent"
    );

    assert_eq!(created.kind, PartyKind::ShipTo);
    assert_eq!(created.customer, key("C1"));
    assert_eq!(created.code.as_deref(), Some("WH1"));
    assert_eq!(created.name.as_deref(), Some("Main Warehouse"));
    assert_eq!(
        created.record.get("PrimaryShipToIndicator"),
        Some(&ErpValue::Text("No".into()))
    );
    assert!(
        created.record.get("@odata.context").is_none(),
        "annotations are left out"
    );
}

#[tokio::test]
async fn contacts_are_records_where_mt_contacts_answers_and_it_is_asked_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{COMPANY}/MT/MTContacts")))
        .and(query_param("$top", "1"))
        .respond_with(json(200, r#"{"value":[]}"#))
        .mount(&server)
        .await;
    on(
        &server,
        "POST",
        "MT/MTContacts",
        json(
            201,
            r#"{"CustomerNumber":"C1","ContactCode":"JANE","ContactName":"Jane Roe","Title":"Buyer"}"#,
        ),
    )
    .await;
    let gw = gateway(&server).await;
    assert_eq!(
        gw.party_home(PartyKind::Contact).await.unwrap(),
        PartyHome::Records
    );
    assert_eq!(
        gw.party_home(PartyKind::ShipTo).await.unwrap(),
        PartyHome::Records
    );
    let created = gw.create_party(&contact("C1", "jane")).await.unwrap();
    assert_eq!(created.code.as_deref(), Some("JANE"));
    assert_eq!(created.name.as_deref(), Some("Jane Roe"));

    let sent = requests(&server).await;
    let gets: Vec<String> = sent
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .map(target)
        .collect();
    assert_eq!(
        gets,
        [format!("{COMPANY}/MT/MTContacts?$top=1")],
        "detected once"
    );
    let post = sent.iter().find(|r| r.method.as_str() == "POST").unwrap();
    assert_eq!(target(post), format!("{COMPANY}/MT/MTContacts"));
    assert_eq!(
        names(post),
        [
            "CustomerNumber",
            "ContactCode",
            "ContactName",
            "Title",
            "PhoneNumber",
            "Email"
        ]
    );
    let body = body_json(post);
    assert_eq!(
        (
            &body["CustomerNumber"],
            &body["ContactCode"],
            &body["Email"]
        ),
        (
            &Value::from("C1"),
            &Value::from("JANE"),
            &Value::from("jane@example.com")
        )
    );
    // The limits follow the records' names once detected.
    let limits = gw.party_limits(PartyKind::Contact);
    assert!(
        limits
            .iter()
            .any(|l| l.input == "title" && l.erp_name == "Title")
    );
}

#[tokio::test]
async fn without_mt_contacts_the_contact_lives_on_the_customer() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "MT/MTContacts",
        json(
            404,
            r#"{"error":{"code":"ResourceNotFound","message":{"value":"No such resource"}}}"#,
        ),
    )
    .await;
    on(
        &server,
        "PATCH",
        "AR/ARCustomers('C1')",
        ResponseTemplate::new(204),
    )
    .await;
    on(
        &server,
        "GET",
        "AR/ARCustomers('C1')",
        json(
            200,
            r#"{"CustomerNumber":"C1","CustomerName":"Contract & Sons","ContactName":"Jane Roe","ContactsPhone":"414-555-0101","ContactsFax":"","ContactsEmail":"jane@example.com","PhoneNumber":"414-555-0100"}"#,
        ),
    )
    .await;
    let gw = gateway(&server).await;
    assert_eq!(
        gw.party_home(PartyKind::Contact).await.unwrap(),
        PartyHome::OnCustomer
    );
    gw.set_primary_party(&contact("C1", "JANE")).await.unwrap();
    // A record of its own is neither looked for nor created.
    assert_eq!(
        gw.find_party(&contact("C1", "JANE").key).await.unwrap(),
        None
    );
    let refused = gw.create_party(&contact("C1", "JANE")).await.unwrap_err();
    assert!(
        matches!(&refused, ErpWriteError::Rejected { message, .. } if message.contains("MT/MTContacts")),
        "{refused:?}"
    );
    let page = gw
        .parties_page(&key("C1"), PartyKind::Contact, None)
        .await
        .unwrap();

    let sent = requests(&server).await;
    let seen: Vec<(String, String)> = sent
        .iter()
        .map(|r| (r.method.to_string(), target(r)))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET".into(), format!("{COMPANY}/MT/MTContacts?$top=1")),
            ("PATCH".into(), format!("{COMPANY}/AR/ARCustomers('C1')")),
            ("GET".into(), format!("{COMPANY}/AR/ARCustomers('C1')")),
        ],
        "detected once, no POST, no contact GET"
    );
    assert_eq!(
        body_json(&sent[1]),
        serde_json::json!({"ContactName":"Jane Roe","ContactsPhone":"414-555-0101","ContactsEmail":"jane@example.com"})
    );
    assert_eq!(
        names(&sent[1]),
        ["ContactName", "ContactsPhone", "ContactsEmail"]
    );
    assert_eq!(page.next, None);
    let [only] = page.parties.as_slice() else {
        panic!("one contact: {page:?}")
    };
    assert_eq!(only.code, None);
    assert_eq!(only.kind, PartyKind::Contact);
    assert_eq!(only.name.as_deref(), Some("Jane Roe"));
    assert_eq!(only.record.text("ContactsEmail"), Some("jane@example.com"));
    assert_eq!(
        only.record.get("PhoneNumber"),
        None,
        "only the contact fields"
    );
    let limits = gw.party_limits(PartyKind::Contact);
    assert!(
        limits
            .iter()
            .any(|l| l.input == "phone" && l.erp_name == "ContactsPhone" && l.max == 30)
    );
    assert!(limits.iter().all(|l| l.input != "title"));
}

#[tokio::test]
async fn a_customer_with_a_blank_contact_name_has_no_contact() {
    let server = MockServer::start().await;
    on(&server, "GET", "MT/MTContacts", ResponseTemplate::new(404)).await;
    on(
        &server,
        "GET",
        "AR/ARCustomers('C1')",
        json(
            200,
            r#"{"CustomerNumber":"C1","ContactName":"  ","ContactsPhone":"1"}"#,
        ),
    )
    .await;
    let page = gateway(&server)
        .await
        .parties_page(&key("C1"), PartyKind::Contact, None)
        .await
        .unwrap();
    assert!(page.parties.is_empty() && page.next.is_none(), "{page:?}");
}

#[tokio::test]
async fn a_failed_detection_is_an_error_and_is_asked_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{COMPANY}/MT/MTContacts")))
        .respond_with(json(
            403,
            r#"{"error":{"code":"Forbidden","message":"no right"}}"#,
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(
        &server,
        "GET",
        "MT/MTContacts",
        json(200, r#"{"value":[]}"#),
    )
    .await;
    let gw = gateway(&server).await;
    assert!(matches!(
        gw.party_home(PartyKind::Contact).await,
        Err(ErpReadError::Forbidden(_))
    ));
    assert_eq!(
        gw.party_home(PartyKind::Contact).await.unwrap(),
        PartyHome::Records
    );
    assert_eq!(requests(&server).await.len(), 2, "the failure was not kept");
}

#[tokio::test]
async fn a_2xx_detection_that_is_not_a_list_is_a_protocol_error() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "MT/MTContacts",
        ResponseTemplate::new(200).set_body_raw(b"<html>login</html>".to_vec(), "text/html"),
    )
    .await;
    assert!(matches!(
        gateway(&server).await.party_home(PartyKind::Contact).await,
        Err(ErpReadError::Protocol { .. })
    ));
}

#[tokio::test]
async fn the_primary_ship_to_is_patched_on_the_customer() {
    let server = MockServer::start().await;
    on(
        &server,
        "PATCH",
        "AR/ARCustomers('C1')",
        json(
            200,
            r#"{"CustomerNumber":"C1","PrimaryShipToLocation":"WH1"}"#,
        ),
    )
    .await;
    let gw = gateway(&server).await;
    gw.set_primary_party(&ship_to("c1", "wh1")).await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method.as_str(), "PATCH");
    assert_eq!(target(&sent[0]), format!("{COMPANY}/AR/ARCustomers('C1')"));
    assert_eq!(
        body_json(&sent[0]),
        serde_json::json!({"PrimaryShipToLocation":"WH1"})
    );
}

#[tokio::test]
async fn a_primary_answered_with_another_primary_is_ambiguous() {
    let server = MockServer::start().await;
    on(
        &server,
        "PATCH",
        "AR/ARCustomers('C1')",
        json(
            200,
            r#"{"CustomerNumber":"C1","PrimaryShipToLocation":"OTHER"}"#,
        ),
    )
    .await;
    let e = gateway(&server)
        .await
        .set_primary_party(&ship_to("C1", "WH1"))
        .await
        .unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
}

#[tokio::test]
async fn a_primary_for_a_missing_customer_says_so() {
    let server = MockServer::start().await;
    on(
        &server,
        "PATCH",
        "AR/ARCustomers('C9')",
        json(404, NOT_FOUND),
    )
    .await;
    let e = gateway(&server)
        .await
        .set_primary_party(&ship_to("C9", "WH1"))
        .await
        .unwrap_err();
    assert_eq!(e, ErpWriteError::CustomerMissing);
}

#[tokio::test]
async fn find_reads_by_composite_key_and_a_404_is_none() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations(CustomerNumber='C1',ShipToLocationKey='WH1')",
        json(200, SHIP_TO_WH1),
    )
    .await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations(CustomerNumber='C1',ShipToLocationKey='WH2')",
        json(404, NOT_FOUND),
    )
    .await;
    let gw = gateway(&server).await;
    let found = gw
        .find_party(&ship_to("c1", "wh1").key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.code.as_deref(), Some("WH1"));
    assert_eq!(found.record.text("City"), Some("Reno"));
    assert_eq!(
        gw.find_party(&ship_to("C1", "WH2").key).await.unwrap(),
        None
    );
    let sent = requests(&server).await;
    assert_eq!(
        target(&sent[0]),
        format!("{COMPANY}/AR/ARShipToLocations(CustomerNumber='C1',ShipToLocationKey='WH1')")
    );
}

#[tokio::test]
async fn a_customer_number_with_quotes_is_doubled_and_one_iis_mangles_is_filtered() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations",
        json(200, r#"{"value":[]}"#),
    )
    .await;
    Mock::given(method("GET"))
        .respond_with(json(404, NOT_FOUND))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    assert_eq!(
        gw.find_party(&ship_to("o'brien", "WH1").key).await.unwrap(),
        None
    );
    assert_eq!(
        gw.find_party(&ship_to("A/B", "WH1").key).await.unwrap(),
        None
    );
    let sent = requests(&server).await;
    assert_eq!(
        target(&sent[0]),
        format!(
            "{COMPANY}/AR/ARShipToLocations(CustomerNumber='O''BRIEN',ShipToLocationKey='WH1')"
        )
    );
    assert_eq!(
        target(&sent[1]),
        format!(
            "{COMPANY}/AR/ARShipToLocations?$filter=CustomerNumber%20eq%20%27A%2FB%27%20and%20ShipToLocationKey%20eq%20%27WH1%27"
        )
    );
}

#[tokio::test]
async fn find_refuses_another_record_and_an_unreadable_body() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations(CustomerNumber='C1',ShipToLocationKey='WH1')",
        json(200, &ship_to_row("C1", "WH9")),
    )
    .await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations(CustomerNumber='C1',ShipToLocationKey='WH2')",
        json(200, r#"{"CustomerNumber":"C1","ShipToLocationKey":"#),
    )
    .await;
    let gw = gateway(&server).await;
    assert!(matches!(
        gw.find_party(&ship_to("C1", "WH1").key).await,
        Err(ErpReadError::Protocol { .. })
    ));
    assert!(matches!(
        gw.find_party(&ship_to("C1", "WH2").key).await,
        Err(ErpReadError::Protocol { .. })
    ));
}

#[tokio::test]
async fn a_customers_ship_tos_are_filtered_and_paged_by_next_link() {
    let server = MockServer::start().await;
    let first = format!(
        r#"{{"value":[{},{}],"@odata.nextLink":"ARShipToLocations?$filter=CustomerNumber%20eq%20%27C1%27&$skip=2"}}"#,
        ship_to_row("C1", "WH1"),
        ship_to_row("C1", "WH2")
    );
    // The second page also holds another customer's row: it is never taken for C1's.
    let second = format!(
        r#"{{"value":[{},{}]}}"#,
        ship_to_row("C1", "MAIN01"),
        ship_to_row("C2", "WH1")
    );
    Mock::given(method("GET"))
        .and(path(format!("{COMPANY}/AR/ARShipToLocations")))
        .and(query_param("$skip", "2"))
        .respond_with(json(200, &second))
        .mount(&server)
        .await;
    on(&server, "GET", "AR/ARShipToLocations", json(200, &first)).await;
    let gw = gateway(&server).await;
    let page1 = gw
        .parties_page(&key("C1"), PartyKind::ShipTo, None)
        .await
        .unwrap();
    let codes1: Vec<_> = page1
        .parties
        .iter()
        .map(|p| p.code.clone().unwrap())
        .collect();
    assert_eq!(codes1, ["WH1", "WH2"]);
    assert_eq!(page1.parties[0].name.as_deref(), Some("Site WH1"));
    let cursor = page1.next.clone().expect("a second page");
    let page2 = gw
        .parties_page(&key("C1"), PartyKind::ShipTo, Some(cursor))
        .await
        .unwrap();
    let codes2: Vec<_> = page2
        .parties
        .iter()
        .map(|p| p.code.clone().unwrap())
        .collect();
    assert_eq!(
        codes2,
        ["MAIN01"],
        "a 6-character key is kept as the ERP has it"
    );
    assert_eq!(page2.next, None);
    let sent = requests(&server).await;
    assert_eq!(
        target(&sent[0]),
        format!("{COMPANY}/AR/ARShipToLocations?$filter=CustomerNumber%20eq%20%27C1%27")
    );
    assert!(
        target(&sent[1]).ends_with("$skip=2"),
        "{}",
        target(&sent[1])
    );
}

#[tokio::test]
async fn a_list_that_is_not_a_list_is_an_error_never_empty() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations",
        json(200, r#"{"value":5}"#),
    )
    .await;
    let e = gateway(&server)
        .await
        .parties_page(&key("C1"), PartyKind::ShipTo, None)
        .await
        .unwrap_err();
    assert!(matches!(e, ErpReadError::Protocol { .. }), "{e:?}");
}

#[tokio::test]
async fn a_duplicate_create_already_exists() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "AR/ARShipToLocations",
        json(409, DUPLICATE),
    )
    .await;
    let e = gateway(&server)
        .await
        .create_party(&ship_to("C1", "WH1"))
        .await
        .unwrap_err();
    assert_eq!(e, ErpWriteError::AlreadyExists);
}

#[tokio::test]
async fn a_refusal_naming_a_missing_customer_is_customer_missing_others_are_rejected() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            400,
            r#"{"error":{"code":"General","message":{"lang":"en-US","value":"Customer Number \"C9\" does not exist."}}}"#,
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(
        &server,
        "POST",
        "AR/ARShipToLocations",
        json(
            409,
            r#"{"error":{"code":"General","message":{"lang":"en-US","value":"Tax Group \"X\" does not exist."}}}"#,
        ),
    )
    .await;
    let gw = gateway(&server).await;
    assert_eq!(
        gw.create_party(&ship_to("C9", "WH1")).await.unwrap_err(),
        ErpWriteError::CustomerMissing
    );
    let e = gw.create_party(&ship_to("C1", "WH1")).await.unwrap_err();
    assert_eq!(
        e,
        ErpWriteError::Rejected {
            code: "General".into(),
            message: "Tax Group \"X\" does not exist.".into()
        }
    );
}

#[tokio::test]
async fn a_500_on_create_is_ambiguous_and_not_retried() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "AR/ARShipToLocations",
        json(500, r#"{"error":{"code":"General","message":"boom"}}"#),
    )
    .await;
    let e = gateway(&server)
        .await
        .create_party(&ship_to("C1", "WH1"))
        .await
        .unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    assert_eq!(requests(&server).await.len(), 1, "sent once");
}

#[tokio::test]
async fn an_unreadable_or_foreign_2xx_to_a_create_is_ambiguous() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201).set_body_raw(b"<html>proxy</html>".to_vec(), "text/html"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(
        &server,
        "POST",
        "AR/ARShipToLocations",
        json(201, &ship_to_row("C1", "ZZZ")),
    )
    .await;
    let gw = gateway(&server).await;
    for _ in 0..2 {
        let e = gw.create_party(&ship_to("C1", "WH1")).await.unwrap_err();
        assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    }
}

#[tokio::test]
async fn a_create_answered_without_a_body_is_read_back() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "AR/ARShipToLocations",
        ResponseTemplate::new(204),
    )
    .await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations(CustomerNumber='C1',ShipToLocationKey='WH1')",
        json(200, SHIP_TO_WH1),
    )
    .await;
    let created = gateway(&server)
        .await
        .create_party(&ship_to("C1", "WH1"))
        .await
        .unwrap();
    assert_eq!(created.code.as_deref(), Some("WH1"));
    assert_eq!(requests(&server).await.len(), 2);
}

#[test]
fn the_limits_name_the_inputs_and_the_sage_300_fields() {
    let limits = crm2sage_sage_adapter::limits::sage300_parties(PartyKind::ShipTo, false);
    let inputs: Vec<_> = limits
        .iter()
        .map(|l| (l.input, l.erp_name, l.max))
        .collect();
    assert_eq!(
        inputs,
        [
            ("name", "Description", 60),
            ("line1", "AddressLine1", 60),
            ("line2", "AddressLine2", 60),
            ("line3", "AddressLine3", 60),
            ("city", "City", 30),
            ("state", "StateProvince", 30),
            ("postal_code", "ZipPostalCode", 20),
            ("phone", "PhoneNumber", 30),
            ("email", "Email", 50),
        ]
    );
}

#[tokio::test]
async fn a_timeout_after_sending_is_ambiguous_and_a_refused_connection_unreachable() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "AR/ARShipToLocations",
        json(201, SHIP_TO_WH1).set_delay(std::time::Duration::from_millis(600)),
    )
    .await;
    on(
        &server,
        "PATCH",
        "AR/ARCustomers('C1')",
        ResponseTemplate::new(204).set_delay(std::time::Duration::from_millis(600)),
    )
    .await;
    let i = support::integration(
        &format!("{}/Sage300WebApi", server.uri()),
        "SAMLTD",
        "ADMIN",
    );
    let quick = ClientSettings::for_tests().with_timeout(std::time::Duration::from_millis(200));
    let gw = connect(&i, "ADMIN", quick).await;
    let e = gw.create_party(&ship_to("C1", "WH1")).await.unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    let e = gw
        .set_primary_party(&ship_to("C1", "WH1"))
        .await
        .unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    assert_eq!(requests(&server).await.len(), 2, "neither was sent again");

    // Nothing listens there: never sent.
    let closed = support::integration("http://127.0.0.1:9/Sage300WebApi", "SAMLTD", "ADMIN");
    let gw = connect(&closed, "ADMIN", ClientSettings::for_tests()).await;
    let e = gw.create_party(&ship_to("C1", "WH1")).await.unwrap_err();
    assert!(matches!(e, ErpWriteError::Unreachable(_)), "{e:?}");
}

#[tokio::test]
async fn an_oversized_answer_to_a_create_is_ambiguous_and_the_credentials_never_show() {
    let server = MockServer::start().await;
    let mut huge =
        String::from(r#"{"CustomerNumber":"C1","ShipToLocationKey":"WH1","Description":""#);
    huge.push_str(&"x".repeat(64 * 1024));
    huge.push_str(r#""}"#);
    Mock::given(method("POST"))
        .respond_with(json(201, &huge))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(
        &server,
        "POST",
        "AR/ARShipToLocations",
        json(
            400,
            r#"{"error":{"code":"General","message":"bad header Basic QURNSU46QURNSU4= seen"}}"#,
        ),
    )
    .await;
    let i = support::integration(
        &format!("{}/Sage300WebApi", server.uri()),
        "SAMLTD",
        "ADMIN",
    );
    let mut small = ClientSettings::for_tests();
    small.max_entity_bytes = 16 * 1024;
    let gw = connect(&i, "ADMIN", small).await;
    let e = gw.create_party(&ship_to("C1", "WH1")).await.unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    let e = gw.create_party(&ship_to("C1", "WH1")).await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(matches!(e, ErpWriteError::Rejected { .. }), "{e:?}");
    assert!(!shown.contains("QURNSU46QURNSU4="), "{shown}");
}

#[tokio::test]
async fn a_server_refusing_the_composite_key_is_asked_by_filter() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations(CustomerNumber='C1',ShipToLocationKey='WH1')",
        json(
            400,
            r#"{"error":{"code":"BadRequest","message":"Invalid key"}}"#,
        ),
    )
    .await;
    on(
        &server,
        "GET",
        "AR/ARShipToLocations",
        json(
            200,
            &format!(r#"{{"value":[{}]}}"#, ship_to_row("C1", "WH1")),
        ),
    )
    .await;
    let found = gateway(&server)
        .await
        .find_party(&ship_to("C1", "WH1").key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.code.as_deref(), Some("WH1"));
    let sent = requests(&server).await;
    assert_eq!(
        target(&sent[1]),
        format!(
            "{COMPANY}/AR/ARShipToLocations?$filter=CustomerNumber%20eq%20%27C1%27%20and%20ShipToLocationKey%20eq%20%27WH1%27"
        )
    );
}
