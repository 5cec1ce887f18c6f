//! Sage 100 ship-tos (`SO_ShipToAddress`) and contacts (`AR_CustomerContact`) on the wire,
//! checked against wiremock (not our simulator) with the names `docs/reference-parties.md`
//! fixes: the Atom entries sent, the single-resource keys, the `where` lists and their paging,
//! the customer `PUT`s that set the primary, and how every failure is classified.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;

use crm2sage_domain::ports::{
    ErpGateway, ErpPartyKey, ErpReadError, ErpWriteError, NewErpParty, NewErpPartyDetail, PartyHome,
};
use crm2sage_domain::{CountryCode, ErpValue, PartyCode, PartyKind};
use crm2sage_sage_adapter::ClientSettings;
use support::{connect, key100, sage100_integration};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ROOT: &str = "/sdata/MasApp/MasContract";

async fn gateway(server: &MockServer) -> Arc<dyn ErpGateway> {
    let i = sage100_integration(&format!("{}{ROOT}", server.uri()), "ABC", "SdataUser", 30);
    connect(&i, "secret", ClientSettings::for_tests()).await
}

fn xml(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/atom+xml")
}

async fn on(server: &MockServer, verb: &str, p: &str, template: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(format!("{ROOT}/ABC/{p}")))
        .respond_with(template)
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn target(r: &Request) -> String {
    match r.url.query() {
        Some(q) => format!("{}?{q}", r.url.path()),
        None => r.url.path().to_owned(),
    }
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

fn body(r: &Request) -> String {
    String::from_utf8(r.body.clone()).unwrap()
}

/// The payload of an Atom entry as sent: the text between `<{resource} xmlns="">` and its end.
fn payload<'a>(sent: &'a str, resource: &str) -> &'a str {
    let open = format!(r#"<{resource} xmlns="">"#);
    let start = sent.find(&open).map(|i| i + open.len()).expect("payload");
    let end = sent.find(&format!("</{resource}>")).expect("payload end");
    &sent[start..end]
}

fn ship_to(code: &str) -> NewErpParty {
    NewErpParty {
        key: ErpPartyKey {
            customer: key100("01", "abc"),
            party: PartyCode::parse(PartyKind::ShipTo, code).unwrap(),
        },
        name: "Main & Dock".into(),
        phone: Some("414-555-0100".into()),
        email: Some("dock@example.com".into()),
        primary: true,
        detail: NewErpPartyDetail::ShipTo {
            address_lines: [Some("1 Dock Rd".into()), None, None],
            city: Some("Milwaukee".into()),
            state: Some("WI".into()),
            postal_code: Some("53202".into()),
            country: CountryCode::parse("US").ok(),
        },
    }
}

fn contact(code: &str) -> NewErpParty {
    NewErpParty {
        key: ErpPartyKey {
            customer: key100("01", "ABC"),
            party: PartyCode::parse(PartyKind::Contact, code).unwrap(),
        },
        name: "Jane Roe".into(),
        phone: Some("414-555-0101".into()),
        email: None,
        primary: false,
        detail: NewErpPartyDetail::Contact {
            title: Some("Buyer".into()),
        },
    }
}

fn ship_to_entry(customer: &str, code: &str) -> String {
    format!(
        r#"<entry><id>http://host{ROOT}/ABC/SO_ShipToAddress(01;{customer};{code})</id><title>{code}</title>
  <sdata:payload><SO_ShipToAddress sdata:key="01;{customer};{code}" xmlns="">
    <ARDivisionNo>01</ARDivisionNo><CustomerNo>{customer}</CustomerNo><ShipToCode>{code}</ShipToCode>
    <ShipToName>Site {code}</ShipToName><ShipToAddress2 xsi:nil="true"/><ShipToCity>Milwaukee</ShipToCity>
  </SO_ShipToAddress></sdata:payload></entry>"#
    )
}

fn contact_entry(code: &str) -> String {
    format!(
        r#"<entry><id>http://host{ROOT}/ABC/AR_CustomerContact(01;ABC;{code})</id>
  <sdata:payload><AR_CustomerContact xmlns=""><ARDivisionNo>01</ARDivisionNo><CustomerNo>ABC</CustomerNo>
  <ContactCode>{code}</ContactCode><ContactName>Jane Roe</ContactName><ContactTitle>Buyer</ContactTitle>
  </AR_CustomerContact></sdata:payload></entry>"#
    )
}

/// An Atom document: a single entry (`entry` root) with the namespaces declared.
fn single(entry: &str) -> String {
    entry.replacen(
        "<entry>",
        r#"<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
        1,
    )
}

fn feed(entries: &str, total: u32, start: u32, per_page: u32, next: Option<&str>) -> String {
    let next = next
        .map(|n| format!(r#"<link rel="next" type="application/atom+xml; type=feed" href="{n}"/>"#))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <title>Feed</title>{next}
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>
  {entries}
</feed>"#
    )
}

fn diagnosis(sdata_code: &str, application_code: &str, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<sdata:diagnoses xmlns:sdata="http://schemas.sage.com/sdata/2008/1"><sdata:diagnosis>
<sdata:severity>error</sdata:severity><sdata:sdataCode>{sdata_code}</sdata:sdataCode>
<sdata:applicationCode>{application_code}</sdata:applicationCode><sdata:message>{message}</sdata:message>
</sdata:diagnosis></sdata:diagnoses>"#
    )
}

#[tokio::test]
async fn creating_a_ship_to_posts_the_atom_entry_and_reads_the_created_entry() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "SO_ShipToAddress",
        xml(201, &single(&ship_to_entry("ABC", "WH1"))),
    )
    .await;
    let created = gateway(&server)
        .await
        .create_party(&ship_to("wh1"))
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(
        sent.len(),
        1,
        "the created entry was in the answer: no read-back"
    );
    assert_eq!(sent[0].method.as_str(), "POST");
    assert_eq!(target(&sent[0]), format!("{ROOT}/ABC/SO_ShipToAddress"));
    assert_eq!(
        header(&sent[0], "content-type"),
        Some("application/atom+xml; type=entry")
    );
    let sent_body = body(&sent[0]);
    assert_eq!(
        payload(&sent_body, "SO_ShipToAddress"),
        "<ARDivisionNo>01</ARDivisionNo><CustomerNo>ABC</CustomerNo><ShipToCode>WH1</ShipToCode>\
         <ShipToName>Main &amp; Dock</ShipToName><ShipToAddress1>1 Dock Rd</ShipToAddress1>\
         <ShipToCity>Milwaukee</ShipToCity><ShipToState>WI</ShipToState>\
         <ShipToZipCode>53202</ShipToZipCode><ShipToCountryCode>USA</ShipToCountryCode>\
         <TelephoneNo>414-555-0100</TelephoneNo><EmailAddress>dock@example.com</EmailAddress>"
    );
    assert_eq!(created.kind, PartyKind::ShipTo);
    assert_eq!(created.customer, key100("01", "ABC"));
    assert_eq!(created.code.as_deref(), Some("WH1"));
    assert_eq!(created.name.as_deref(), Some("Site WH1"));
    assert_eq!(created.record.get("ShipToAddress2"), Some(&ErpValue::Null));
    assert_eq!(created.record.text("ShipToCity"), Some("Milwaukee"));
}

#[tokio::test]
async fn creating_a_contact_without_an_entry_in_the_answer_reads_it_back() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "AR_CustomerContact",
        ResponseTemplate::new(201),
    )
    .await;
    on(
        &server,
        "GET",
        "AR_CustomerContact(01;ABC;JANE)",
        xml(200, &single(&contact_entry("JANE"))),
    )
    .await;
    let gw = gateway(&server).await;
    assert_eq!(
        gw.party_home(PartyKind::Contact).await.unwrap(),
        PartyHome::Records
    );
    let created = gw.create_party(&contact("jane")).await.unwrap();
    assert_eq!(created.code.as_deref(), Some("JANE"));
    assert_eq!(created.record.text("ContactTitle"), Some("Buyer"));
    let sent = requests(&server).await;
    assert_eq!(
        sent.len(),
        2,
        "no request to detect anything; POST then read-back"
    );
    assert_eq!(target(&sent[0]), format!("{ROOT}/ABC/AR_CustomerContact"));
    let sent_body = body(&sent[0]);
    assert_eq!(
        payload(&sent_body, "AR_CustomerContact"),
        "<ARDivisionNo>01</ARDivisionNo><CustomerNo>ABC</CustomerNo><ContactCode>JANE</ContactCode>\
         <ContactName>Jane Roe</ContactName><ContactTitle>Buyer</ContactTitle>\
         <TelephoneNo1>414-555-0101</TelephoneNo1>"
    );
    assert_eq!(sent[1].method.as_str(), "GET");
    assert_eq!(
        target(&sent[1]),
        format!("{ROOT}/ABC/AR_CustomerContact(01;ABC;JANE)")
    );
}

#[tokio::test]
async fn the_primary_is_a_put_of_the_customer_carrying_only_its_pointer() {
    let server = MockServer::start().await;
    on(&server, "PUT", "AR_Customer(01;ABC)", xml(200, "")).await;
    let gw = gateway(&server).await;
    gw.set_primary_party(&ship_to("WH1")).await.unwrap();
    gw.set_primary_party(&contact("JANE")).await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    for r in &sent {
        assert_eq!(r.method.as_str(), "PUT");
        assert_eq!(target(r), format!("{ROOT}/ABC/AR_Customer(01;ABC)"));
        assert_eq!(
            header(r, "content-type"),
            Some("application/atom+xml; type=entry")
        );
    }
    assert_eq!(
        payload(&body(&sent[0]), "AR_Customer"),
        "<PrimaryShipToCode>WH1</PrimaryShipToCode>"
    );
    assert_eq!(
        payload(&body(&sent[1]), "AR_Customer"),
        "<ContactCode>JANE</ContactCode>"
    );
}

#[tokio::test]
async fn a_primary_for_a_missing_customer_says_so_a_wrong_url_does_not() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(xml(
            404,
            &diagnosis("ResourceKindNotFound", "", "Unknown resource kind"),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(
        &server,
        "PUT",
        "AR_Customer(01;ABC)",
        xml(
            404,
            &diagnosis(
                "ApplicationDiagnosis",
                "RecordNotFound",
                "The record is not on file.",
            ),
        ),
    )
    .await;
    let gw = gateway(&server).await;
    let wrong_url = gw.set_primary_party(&ship_to("WH1")).await.unwrap_err();
    assert!(
        matches!(wrong_url, ErpWriteError::Rejected { .. }),
        "{wrong_url:?}"
    );
    assert_eq!(
        gw.set_primary_party(&ship_to("WH1")).await.unwrap_err(),
        ErpWriteError::CustomerMissing
    );
}

#[tokio::test]
async fn find_reads_the_unquoted_key_and_a_404_is_none() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "SO_ShipToAddress(01;ABC;WH1)",
        xml(200, &single(&ship_to_entry("ABC", "WH1"))),
    )
    .await;
    on(
        &server,
        "GET",
        "SO_ShipToAddress(01;ABC;WH2)",
        xml(
            404,
            &diagnosis("ApplicationDiagnosis", "", "Record not found"),
        ),
    )
    .await;
    on(
        &server,
        "GET",
        "SO_ShipToAddress(01;ABC;WH3)",
        xml(404, &diagnosis("ResourceKindNotFound", "", "no such kind")),
    )
    .await;
    let gw = gateway(&server).await;
    let found = gw.find_party(&ship_to("wh1").key).await.unwrap().unwrap();
    assert_eq!(found.code.as_deref(), Some("WH1"));
    assert_eq!(gw.find_party(&ship_to("WH2").key).await.unwrap(), None);
    assert!(
        gw.find_party(&ship_to("WH3").key).await.is_err(),
        "a 404 about the URL is not \"none\""
    );
    let sent = requests(&server).await;
    assert_eq!(
        target(&sent[0]),
        format!("{ROOT}/ABC/SO_ShipToAddress(01;ABC;WH1)")
    );
}

#[tokio::test]
async fn find_refuses_another_customers_record_and_a_truncated_body() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "SO_ShipToAddress(01;ABC;WH1)",
        xml(200, &single(&ship_to_entry("XYZ", "WH1"))),
    )
    .await;
    on(
        &server,
        "GET",
        "SO_ShipToAddress(01;ABC;WH2)",
        xml(
            200,
            r#"<?xml version="1.0"?><entry xmlns="http://www.w3.org/2005/Atom"><sdata:payload"#,
        ),
    )
    .await;
    let gw = gateway(&server).await;
    for code in ["WH1", "WH2"] {
        let e = gw.find_party(&ship_to(code).key).await.unwrap_err();
        assert!(matches!(e, ErpReadError::Protocol { .. }), "{code}: {e:?}");
    }
}

#[tokio::test]
async fn a_customers_ship_tos_are_listed_by_where_and_paged() {
    let server = MockServer::start().await;
    let where_text = "ARDivisionNo eq '01' and CustomerNo eq 'ABC'";
    let entries1 = format!(
        "{}{}",
        ship_to_entry("ABC", "WH1"),
        ship_to_entry("ABC", "WH2")
    );
    let next = format!(
        "http://internal{ROOT}/ABC/SO_ShipToAddress?where=ARDivisionNo%20eq%20%2701%27%20and%20CustomerNo%20eq%20%27ABC%27&amp;startIndex=3&amp;count=2"
    );
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/SO_ShipToAddress")))
        .and(query_param("startIndex", "3"))
        .respond_with(xml(
            200,
            &feed(&ship_to_entry("ABC", "MAIN"), 3, 3, 2, None),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/SO_ShipToAddress")))
        .and(query_param("where", where_text))
        .respond_with(xml(200, &feed(&entries1, 3, 1, 2, Some(&next))))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let page1 = gw
        .parties_page(&key100("01", "ABC"), PartyKind::ShipTo, None)
        .await
        .unwrap();
    let codes: Vec<_> = page1
        .parties
        .iter()
        .map(|p| p.code.clone().unwrap())
        .collect();
    assert_eq!(codes, ["WH1", "WH2"]);
    let page2 = gw
        .parties_page(&key100("01", "ABC"), PartyKind::ShipTo, page1.next.clone())
        .await
        .unwrap();
    let codes: Vec<_> = page2
        .parties
        .iter()
        .map(|p| p.code.clone().unwrap())
        .collect();
    assert_eq!(codes, ["MAIN"]);
    assert_eq!(page2.next, None);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    let first = target(&sent[0]);
    assert!(
        first.starts_with(&format!(
            "{ROOT}/ABC/SO_ShipToAddress?where=ARDivisionNo%20eq%20%2701%27%20and%20CustomerNo%20eq%20%27ABC%27"
        )),
        "{first}"
    );
    assert_eq!(
        sent[1].url.host_str(),
        sent[0].url.host_str(),
        "our host only"
    );
}

#[tokio::test]
async fn a_list_holding_another_customers_entry_is_an_error() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR_CustomerContact",
        xml(
            200,
            &feed(
                &ship_to_entry("XYZ", "WH1").replace("SO_ShipToAddress", "AR_CustomerContact"),
                1,
                1,
                500,
                None,
            ),
        ),
    )
    .await;
    let e = gateway(&server)
        .await
        .parties_page(&key100("01", "ABC"), PartyKind::Contact, None)
        .await
        .unwrap_err();
    assert!(matches!(e, ErpReadError::Protocol { .. }), "{e:?}");
}

#[tokio::test]
async fn duplicates_already_exist_by_status_or_by_diagnosis() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(xml(409, &diagnosis("ApplicationDiagnosis", "", "conflict")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(
        &server,
        "POST",
        "SO_ShipToAddress",
        xml(
            400,
            &diagnosis("ApplicationDiagnosis", "", "The record already exists."),
        ),
    )
    .await;
    let gw = gateway(&server).await;
    for _ in 0..2 {
        assert_eq!(
            gw.create_party(&ship_to("WH1")).await.unwrap_err(),
            ErpWriteError::AlreadyExists
        );
    }
}

#[tokio::test]
async fn a_refusal_naming_the_customer_is_customer_missing() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "SO_ShipToAddress",
        xml(
            400,
            &diagnosis(
                "ApplicationDiagnosis",
                "",
                "Customer 01-ABC does not exist.",
            ),
        ),
    )
    .await;
    assert_eq!(
        gateway(&server)
            .await
            .create_party(&ship_to("WH1"))
            .await
            .unwrap_err(),
        ErpWriteError::CustomerMissing
    );
}

#[tokio::test]
async fn a_500_on_create_is_ambiguous_and_not_retried() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "SO_ShipToAddress",
        xml(500, &diagnosis("ApplicationDiagnosis", "", "boom")),
    )
    .await;
    let e = gateway(&server)
        .await
        .create_party(&ship_to("WH1"))
        .await
        .unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    assert_eq!(requests(&server).await.len(), 1, "sent once");
}

#[tokio::test]
async fn an_unreadable_2xx_is_ambiguous_for_creates_and_updates() {
    let server = MockServer::start().await;
    let html = ResponseTemplate::new(200).set_body_raw(b"<html><body>proxy".to_vec(), "text/html");
    on(&server, "POST", "SO_ShipToAddress", html.clone()).await;
    on(&server, "PUT", "AR_Customer(01;ABC)", html).await;
    let gw = gateway(&server).await;
    let e = gw.create_party(&ship_to("WH1")).await.unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    let e = gw.set_primary_party(&ship_to("WH1")).await.unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    assert_eq!(
        requests(&server).await.len(),
        2,
        "no read-back of an unreadable answer"
    );
}

#[tokio::test]
async fn a_2xx_create_whose_read_back_misses_is_ambiguous() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "SO_ShipToAddress",
        ResponseTemplate::new(201),
    )
    .await;
    on(
        &server,
        "GET",
        "SO_ShipToAddress(01;ABC;WH1)",
        xml(
            404,
            &diagnosis("ApplicationDiagnosis", "", "Record not found"),
        ),
    )
    .await;
    let e = gateway(&server)
        .await
        .create_party(&ship_to("WH1"))
        .await
        .unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
}

#[test]
fn the_limits_name_the_inputs_and_the_sage_100_columns() {
    let contact = crm2sage_sage_adapter::limits::sage100_parties(PartyKind::Contact);
    let got: Vec<_> = contact
        .iter()
        .map(|l| (l.input, l.erp_name, l.max))
        .collect();
    assert_eq!(
        got,
        [
            ("name", "ContactName", 30),
            ("title", "ContactTitle", 30),
            ("phone", "TelephoneNo1", 17),
            ("email", "EmailAddress", 250),
        ]
    );
    let ship_to = crm2sage_sage_adapter::limits::sage100_parties(PartyKind::ShipTo);
    let inputs: Vec<_> = ship_to.iter().map(|l| l.input).collect();
    assert_eq!(
        inputs,
        [
            "name",
            "line1",
            "line2",
            "line3",
            "city",
            "state",
            "postal_code",
            "phone",
            "email"
        ]
    );
    assert!(
        ship_to
            .iter()
            .any(|l| l.erp_name == "ShipToState" && l.max == 2)
    );
}

#[tokio::test]
async fn a_timeout_after_sending_is_ambiguous_and_not_sent_again() {
    let server = MockServer::start().await;
    let slow = || xml(200, "").set_delay(std::time::Duration::from_millis(600));
    on(&server, "POST", "AR_CustomerContact", slow()).await;
    on(&server, "PUT", "AR_Customer(01;ABC)", slow()).await;
    let i = sage100_integration(&format!("{}{ROOT}", server.uri()), "ABC", "SdataUser", 30);
    let quick = ClientSettings::for_tests().with_timeout(std::time::Duration::from_millis(200));
    let gw = connect(&i, "secret", quick).await;
    let e = gw.create_party(&contact("JANE")).await.unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    let e = gw.set_primary_party(&contact("JANE")).await.unwrap_err();
    assert!(matches!(e, ErpWriteError::Ambiguous { .. }), "{e:?}");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_server_refusing_the_selector_is_asked_by_where() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "SO_ShipToAddress(01;ABC;WH1)",
        xml(400, &diagnosis("BadUrlSyntax", "", "bad selector")),
    )
    .await;
    on(
        &server,
        "GET",
        "SO_ShipToAddress",
        xml(200, &feed("", 0, 1, 100, None)),
    )
    .await;
    let gw = gateway(&server).await;
    assert_eq!(gw.find_party(&ship_to("WH1").key).await.unwrap(), None);
    let sent = requests(&server).await;
    assert_eq!(
        target(&sent[1]),
        format!(
            "{ROOT}/ABC/SO_ShipToAddress?where=ARDivisionNo%20eq%20%2701%27%20and%20CustomerNo%20eq%20%27ABC%27%20and%20ShipToCode%20eq%20%27WH1%27"
        )
    );
}
