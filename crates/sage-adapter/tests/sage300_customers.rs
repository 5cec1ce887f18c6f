//! The Sage 300 customer list, name lookup, summary and CRM-id update on the wire, checked
//! against wiremock with the requests `docs/reference-customers.md` fixes: the exact query
//! options, paging across pages, the `DateLastMaintained` filter and its fallback, how each
//! property maps, the `PATCH` body, and malformed answers.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;

use crm2sage_domain::ports::{ErpCustomerStatus, ErpGateway, ErpReadError, ErpWriteError};
use crm2sage_domain::{ErpFieldName, ErpKind};
use crm2sage_sage_adapter::ClientSettings;
use jiff::civil::date;
use serde_json::{Value, json};
use support::{CRM_FIELD, connect, key};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const COMPANY: &str = "/Sage300WebApi/v1.0/-/SAMLTD";
const CUSTOMERS: &str = "/Sage300WebApi/v1.0/-/SAMLTD/AR/ARCustomers";
const SELECT: &str = "CustomerNumber,CustomerName,AddressLine1,AddressLine2,AddressLine3,City,\
StateProvince,ZipPostalCode,Country,PhoneNumber,Email,Status,OnHold,DateLastMaintained,\
CustomerOptionalFieldValues";
const NOT_FOUND: &str = r#"{"error":{"code":"RecordNotFound","message":{"lang":"en-US","value":"A Record cannot be found for the specified entity key"}}}"#;

async fn gateway_with(server: &MockServer, settings: ClientSettings) -> Arc<dyn ErpGateway> {
    let i = support::integration(
        &format!("{}/Sage300WebApi", server.uri()),
        "SAMLTD",
        "ADMIN",
    );
    connect(&i, "ADMIN", settings).await
}

async fn gateway(server: &MockServer) -> Arc<dyn ErpGateway> {
    gateway_with(server, ClientSettings::for_tests()).await
}

fn json_answer(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// The decoded value of query option `name` of a request, if sent.
fn param(r: &Request, name: &str) -> Option<String> {
    r.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn page(rows: &[Value], count: Option<u64>, next: Option<&str>) -> String {
    let mut envelope = json!({
        "@odata.context": "http://host/Sage300WebApi/v1.0/-/SAMLTD/AR/$metadata#ARCustomers",
        "value": rows,
    });
    if let Some(c) = count {
        envelope["@odata.count"] = json!(c);
    }
    if let Some(n) = next {
        envelope["@odata.nextLink"] = json!(n);
    }
    envelope.to_string()
}

fn row(number: &str, name: &str) -> Value {
    json!({"CustomerNumber": number, "CustomerName": name, "Status": "Active", "OnHold": "No"})
}

fn full_row() -> Value {
    json!({
        "CustomerNumber": " 1200 ", "CustomerName": " Mr. Ronald Black ",
        "AddressLine1": "4002 Main St", "AddressLine2": "", "AddressLine3": null,
        "City": " Reno ", "StateProvince": "NV", "ZipPostalCode": "89501", "Country": "USA",
        "PhoneNumber": "7755550100", "Email": "ron@example.com",
        "Status": "Active", "OnHold": "Yes", "DateLastMaintained": "2019-07-16T00:00:00Z",
        "CustomerOptionalFieldValues": [
            {"CustomerNumber": "1200", "OptionalField": "OTHER", "Value": "x"},
            {"CustomerNumber": "1200", "OptionalField": "CRMID", "Value": " acc-9 "}
        ]
    })
}

#[tokio::test]
async fn the_list_pages_by_next_link_then_by_skip_and_maps_every_property() {
    let server = MockServer::start().await;
    let page1 = page(
        &[
            full_row(),
            json!({"CustomerNumber": "1300", "CustomerName": "Second",
            "Status": "Inactive", "OnHold": false, "DateLastMaintained": "2019-07-17"}),
        ],
        Some(4),
        // Relative, as some builds write it.
        Some(
            "ARCustomers?$select=CustomerNumber&$orderby=CustomerNumber&$top=498&$count=true&$skip=2",
        ),
    );
    // No next link although the count says one more row: the adapter asks with `$skip`.
    let page2 = page(
        &[
            json!({"CustomerNumber": "1400", "CustomerName": "Third", "Status": "Deleted",
            "OnHold": "No", "DateLastMaintained": "not a date"}),
        ],
        Some(4),
        None,
    );
    let page3 = page(&[row("1500", "Fourth")], Some(4), None);
    for (skip, body) in [("3", page3), ("2", page2)] {
        Mock::given(method("GET"))
            .and(path(CUSTOMERS))
            .and(query_param("$skip", skip))
            .respond_with(json_answer(200, &body))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param_is_missing("$skip"))
        .respond_with(json_answer(200, &page1))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;

    let first = gw.customers_page(None, None).await.unwrap();
    assert!(!first.since_applied);
    assert_eq!(first.total, Some(4));
    let [a, b] = first.customers.as_slice() else {
        panic!("two rows: {:?}", first.customers)
    };
    assert_eq!(a.key, key("1200"));
    assert_eq!(a.name, "Mr. Ronald Black");
    assert_eq!(
        a.address_lines,
        [Some("4002 Main St".to_owned()), None, None]
    );
    assert_eq!(a.city.as_deref(), Some("Reno"));
    assert_eq!(a.state.as_deref(), Some("NV"));
    assert_eq!(a.postal_code.as_deref(), Some("89501"));
    assert_eq!(a.country.as_deref(), Some("USA"));
    assert_eq!(a.phone.as_deref(), Some("7755550100"));
    assert_eq!(a.email.as_deref(), Some("ron@example.com"));
    assert_eq!(a.status, ErpCustomerStatus::Active);
    assert!(a.on_hold);
    assert_eq!(a.last_maintained, Some(date(2019, 7, 16)));
    assert_eq!(a.crm_id.as_deref(), Some("acc-9"));
    assert_eq!(b.status, ErpCustomerStatus::Inactive);
    assert!(!b.on_hold, "a boolean OnHold");
    assert_eq!(b.last_maintained, Some(date(2019, 7, 17)), "a bare date");
    assert_eq!(b.crm_id, None);

    let second = gw.customers_page(None, first.next.clone()).await.unwrap();
    assert_eq!(second.customers.len(), 1);
    let c = &second.customers[0];
    assert_eq!(c.status, ErpCustomerStatus::Inactive, "not Active");
    assert_eq!(c.last_maintained, None, "an unreadable date");
    let third = gw.customers_page(None, second.next.clone()).await.unwrap();
    assert_eq!(third.customers[0].key, key("1500"));
    assert_eq!(third.next, None);

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    let r = &sent[0];
    assert_eq!(r.url.path(), CUSTOMERS);
    assert_eq!(param(r, "$select").as_deref(), Some(SELECT));
    assert_eq!(param(r, "$orderby").as_deref(), Some("CustomerNumber"));
    assert_eq!(param(r, "$top").as_deref(), Some("500"));
    assert_eq!(param(r, "$count").as_deref(), Some("true"));
    assert_eq!(param(r, "$filter"), None);
    assert_eq!(param(&sent[1], "$skip").as_deref(), Some("2"));
    assert_eq!(param(&sent[2], "$skip").as_deref(), Some("3"));
    assert_eq!(
        param(&sent[2], "$top").as_deref(),
        Some("498"),
        "the link's own query kept"
    );
}

#[tokio::test]
async fn since_is_an_unquoted_datetimeoffset_filter_kept_on_the_next_pages() {
    let server = MockServer::start().await;
    let filter = "DateLastMaintained ge 2026-12-01T00:00:00Z";
    let next = format!(
        "http://host{CUSTOMERS}?$filter=DateLastMaintained%20ge%202026-12-01T00:00:00Z&$top=499&$skip=1"
    );
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param("$skip", "1"))
        .respond_with(json_answer(200, &page(&[row("B", "Bee")], None, None)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param("$filter", filter))
        .respond_with(json_answer(
            200,
            &page(&[row("A", "Ay")], None, Some(&next)),
        ))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let since = Some(date(2026, 12, 1));
    let first = gw.customers_page(since, None).await.unwrap();
    assert!(first.since_applied);
    let second = gw.customers_page(since, first.next.clone()).await.unwrap();
    assert!(second.since_applied, "the cursor carries the filter");
    assert_eq!(second.customers[0].key, key("B"));
    assert_eq!(second.next, None, "a short page without count or link ends");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(param(&sent[0], "$filter").as_deref(), Some(filter));
    let raw = sent[0].url.query().unwrap();
    assert!(
        raw.contains("DateLastMaintained%20ge%202026-12-01T00%3A00%3A00Z"),
        "{raw}"
    );
    assert_eq!(
        sent[1].url.host_str(),
        sent[0].url.host_str(),
        "a link on another host is applied to ours"
    );
    // A filtered list's cursor is not a page of the whole list.
    let err = gw.customers_page(None, first.next).await.unwrap_err();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_since_filter_is_retried_once_without_it() {
    for status in [400u16, 501] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(CUSTOMERS))
            .and(query_param("$filter", "DateLastMaintained ge 2026-12-01T00:00:00Z"))
            .respond_with(json_answer(
                status,
                r#"{"error":{"code":"General","message":{"lang":"en-US","value":"The query specified in the URI is not valid."}}}"#,
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(CUSTOMERS))
            .and(query_param_is_missing("$filter"))
            .respond_with(json_answer(200, &page(&[row("A", "Ay")], Some(1), None)))
            .mount(&server)
            .await;
        let gw = gateway(&server).await;
        let got = gw
            .customers_page(Some(date(2026, 12, 1)), None)
            .await
            .unwrap();
        assert!(!got.since_applied, "{status}");
        assert_eq!(got.customers.len(), 1);
        assert_eq!(got.next, None);
        let sent = requests(&server).await;
        let last = sent.last().unwrap();
        assert_eq!(param(last, "$filter"), None);
        assert_eq!(param(last, "$orderby").as_deref(), Some("CustomerNumber"));
        // 400 once; 501 is a 5xx, retried as every GET is, then given up on.
        let expected = if status == 400 { 2 } else { 4 };
        assert_eq!(sent.len(), expected, "{status}");
    }
    // Any other failure is the list's failure, never the whole list instead.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_answer(
            403,
            r#"{"error":{"code":"Forbidden","message":"no"}}"#,
        ))
        .mount(&server)
        .await;
    let err = gateway(&server)
        .await
        .customers_page(Some(date(2026, 12, 1)), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ErpReadError::Forbidden(_)), "{err:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_server_refusing_select_or_orderby_is_asked_with_the_documented_options_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param_is_missing("$orderby"))
        .and(query_param_is_missing("$select"))
        .respond_with(json_answer(200, &page(&[full_row()], Some(1), None)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_answer(
            400,
            r#"{"error":{"code":"General","message":"Could not find a property named 'DateLastMaintained'."}}"#,
        ))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let got = gw.customers_page(None, None).await.unwrap();
    assert_eq!(got.customers[0].crm_id.as_deref(), Some("acc-9"));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].url.query(), Some("$top=500&$count=true"));
    // With a since date: the filter, then the whole list, then the whole list plainly.
    let got = gw
        .customers_page(Some(date(2026, 12, 1)), None)
        .await
        .unwrap();
    assert!(!got.since_applied);
    assert_eq!(requests(&server).await.len(), 5);
    // The name lookup too, once.
    let found = gw.customers_named("Mr. Ronald Black").await.unwrap();
    assert_eq!(found.len(), 1);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 7);
    assert_eq!(param(&sent[6], "$select"), None);
    assert_eq!(
        param(&sent[6], "$filter").as_deref(),
        Some("CustomerName eq 'Mr. Ronald Black'")
    );
}

#[tokio::test]
async fn a_name_is_looked_up_with_its_quote_doubled_and_at_most_20() {
    let server = MockServer::start().await;
    let rows: Vec<Value> = (0..25)
        .map(|i| row(&format!("C{i}"), "O'Brien Supply"))
        .collect();
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .respond_with(json_answer(200, &page(&rows, None, None)))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let found = gw.customers_named("O'Brien Supply").await.unwrap();
    assert_eq!(found.len(), 20, "never more than 20");
    assert_eq!(found[0].name, "O'Brien Supply");
    assert!(gw.customers_named("  ").await.unwrap().is_empty());
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1, "one request; none for a blank name");
    let r = &sent[0];
    assert_eq!(
        param(r, "$filter").as_deref(),
        Some("CustomerName eq 'O''Brien Supply'")
    );
    assert_eq!(param(r, "$top").as_deref(), Some("20"));
    assert!(
        r.url
            .query()
            .unwrap()
            .contains("CustomerName%20eq%20%27O%27%27Brien%20Supply%27"),
        "{}",
        r.url
    );
}

#[tokio::test]
async fn malformed_answers_are_protocol_errors() {
    let cases: [(&str, &str); 8] = [
        (
            "<html><body>Server Error</body></html>",
            "not an OData list",
        ),
        (
            r#"{"value":[{"CustomerNumber":"C1","CustomerName":"A"}"#,
            "not an OData list",
        ),
        (r#"{"value":{"CustomerNumber":"C1"}}"#, "not an OData list"),
        (r#"{"value":[1]}"#, "not an OData list"),
        (
            r#"{"value":[{"CustomerName":"No number"}]}"#,
            "without CustomerNumber",
        ),
        (
            r#"{"value":[{"CustomerNumber":"C1","CustomerName":"  "}]}"#,
            "without CustomerName",
        ),
        (
            r#"{"value":[{"CustomerNumber":"C1","CustomerName":"A","OnHold":"Maybe"}]}"#,
            "OnHold `Maybe`",
        ),
        (
            r#"{"value":[{"CustomerNumber":"THIRTEEN-CHARS","CustomerName":"A"}]}"#,
            "not usable",
        ),
    ];
    for (body, why) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(json_answer(200, body))
            .mount(&server)
            .await;
        let gw = gateway(&server).await;
        for err in [
            gw.customers_page(None, None).await.unwrap_err(),
            gw.customers_named("A").await.unwrap_err(),
        ] {
            let ErpReadError::Protocol { excerpt } = &err else {
                panic!("{body}: {err:?}")
            };
            assert!(excerpt.contains(why), "{body}: {excerpt}");
        }
    }
    // A page over the cap is not read to its end.
    let server = MockServer::start().await;
    let rows: Vec<Value> = (0..100).map(|i| row(&format!("C{i}"), "Name")).collect();
    Mock::given(method("GET"))
        .respond_with(json_answer(200, &page(&rows, None, None)))
        .mount(&server)
        .await;
    let gw = gateway_with(
        &server,
        ClientSettings::for_tests().with_body_limits(1024, 2048),
    )
    .await;
    let err = gw.customers_page(None, None).await.unwrap_err();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
    // A next link that repeats the page is refused, not followed.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_answer(
            200,
            &page(
                &[row("A", "Ay")],
                None,
                Some(&format!("{}{CUSTOMERS}?$skip=0", server.uri())),
            ),
        ))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let first = gw.customers_page(None, None).await;
    let err = match first {
        Ok(p) => gw.customers_page(None, p.next).await.unwrap_err(),
        Err(e) => e,
    };
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn a_summary_is_the_customer_read_by_key_and_a_404_is_none() {
    let server = MockServer::start().await;
    let mut entity = full_row();
    entity["CustomerNumber"] = json!("C1");
    Mock::given(method("GET"))
        .and(path(format!("{CUSTOMERS}('C1')")))
        .respond_with(json_answer(200, &entity.to_string()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{CUSTOMERS}('C9')")))
        .respond_with(json_answer(404, NOT_FOUND))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let s = gw.customer_summary(&key("C1")).await.unwrap().unwrap();
    assert_eq!(s.key, key("C1"));
    assert_eq!(s.name, "Mr. Ronald Black");
    assert_eq!(s.crm_id.as_deref(), Some("acc-9"));
    assert!(s.on_hold);
    assert_eq!(s.last_maintained, Some(date(2019, 7, 16)));
    assert_eq!(s.address_lines[1], None);
    assert_eq!(gw.customer_summary(&key("C9")).await.unwrap(), None);
}

#[tokio::test]
async fn the_crm_id_is_a_patch_of_only_the_optional_field() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("{CUSTOMERS}('C1')")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{CUSTOMERS}('C9')")))
        .respond_with(json_answer(404, NOT_FOUND))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{CUSTOMERS}('C5')")))
        .respond_with(json_answer(
            500,
            r#"{"error":{"code":"General","message":"boom"}}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{CUSTOMERS}('C4')")))
        .respond_with(json_answer(
            400,
            r#"{"error":{"code":"FieldInvalid","message":{"value":"Optional field CRMID is not valid."}}}"#,
        ))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let field = ErpFieldName::parse(ErpKind::Sage300, CRM_FIELD).unwrap();
    gw.set_crm_id(&key("C1"), &field, "acc-9").await.unwrap();
    gw.set_crm_id(&key("C1"), &field, "acc-9").await.unwrap();
    assert_eq!(
        gw.set_crm_id(&key("C9"), &field, "acc-9")
            .await
            .unwrap_err(),
        ErpWriteError::CustomerMissing
    );
    let err = gw
        .set_crm_id(&key("C5"), &field, "acc-9")
        .await
        .unwrap_err();
    assert!(matches!(err, ErpWriteError::Ambiguous { .. }), "{err:?}");
    let err = gw
        .set_crm_id(&key("C4"), &field, "acc-9")
        .await
        .unwrap_err();
    assert!(matches!(err, ErpWriteError::Rejected { .. }), "{err:?}");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 5, "a write is never retried");
    assert_eq!(sent[0].method.as_str(), "PATCH");
    assert_eq!(
        serde_json::from_slice::<Value>(&sent[0].body).unwrap(),
        json!({"CustomerOptionalFieldValues": [
            {"CustomerNumber": "C1", "OptionalField": "CRMID", "Value": "acc-9"}
        ]})
    );
    assert_eq!(
        sent[0].body, sent[1].body,
        "idempotent: the same body twice"
    );
    assert_eq!(
        sent[0]
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
}

#[tokio::test]
async fn a_patch_answered_with_another_value_is_ambiguous() {
    let server = MockServer::start().await;
    let mut answered = full_row();
    answered["CustomerNumber"] = json!("C1");
    Mock::given(method("PATCH"))
        .respond_with(json_answer(200, &answered.to_string()))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let field = ErpFieldName::parse(ErpKind::Sage300, CRM_FIELD).unwrap();
    gw.set_crm_id(&key("C1"), &field, "acc-9").await.unwrap();
    let err = gw
        .set_crm_id(&key("C1"), &field, "acc-1")
        .await
        .unwrap_err();
    assert!(matches!(err, ErpWriteError::Ambiguous { .. }), "{err:?}");
}

#[tokio::test]
async fn the_payload_shown_is_the_body_the_create_posts() {
    let server = MockServer::start().await;
    let customer = support::customer("C1");
    Mock::given(method("POST"))
        .and(path(format!("{COMPANY}/AR/ARCustomers")))
        .respond_with(json_answer(
            201,
            r#"{"CustomerNumber":"C1","CustomerName":"Contract & Sons Wholesale"}"#,
        ))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let shown = gw.customer_payload(&customer);
    gw.create_customer(&customer).await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(String::from_utf8(sent[0].body.clone()).unwrap(), shown);
    let v: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["CustomerNumber"], "C1");
    assert_eq!(
        v["CustomerOptionalFieldValues"][0]["OptionalField"],
        "CRMID"
    );
    assert!(!shown.contains("ADMIN"), "no secret in the payload");
}
