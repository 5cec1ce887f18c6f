//! The Sage 100 customer list, name lookup, summary and CRM-id update on the wire, checked
//! against wiremock with the requests `docs/reference-customers.md` fixes: `startIndex`/`count`
//! paging by `rel="next"`, the `DateUpdated` filter and its two fallbacks, how each column
//! maps, the `PUT` of the UDF column, and malformed answers.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;

use crm2sage_domain::ports::{ErpCustomerStatus, ErpGateway, ErpReadError, ErpWriteError};
use crm2sage_domain::{ErpFieldName, ErpKind};
use crm2sage_sage_adapter::ClientSettings;
use jiff::civil::date;
use support::{UDF_FIELD, connect, key100, sage100_integration};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ROOT: &str = "/sdata/MasApp/MasContract";
const CUSTOMERS: &str = "/sdata/MasApp/MasContract/ABC/AR_Customer";

async fn gateway(server: &MockServer) -> Arc<dyn ErpGateway> {
    let i = sage100_integration(&format!("{}{ROOT}", server.uri()), "ABC", "SdataUser", 30);
    connect(&i, "secret", ClientSettings::for_tests()).await
}

fn xml(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/atom+xml")
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn param(r: &Request, name: &str) -> Option<String> {
    r.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
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

/// A customer entry with `columns` after its key.
fn entry(no: &str, columns: &str) -> String {
    format!(
        r#"<entry><id>http://host{CUSTOMERS}(01;{no})</id><title>{no}</title>
  <sdata:payload><AR_Customer sdata:key="01;{no}" xmlns="">
    <ARDivisionNo>01</ARDivisionNo><CustomerNo>{no}</CustomerNo>{columns}
  </AR_Customer></sdata:payload></entry>"#
    )
}

fn named(no: &str, name: &str) -> String {
    entry(no, &format!("<CustomerName>{name}</CustomerName>"))
}

fn feed(entries: &str, total: Option<u32>, start: u32, next: Option<&str>) -> String {
    let next = next
        .map(|n| format!(r#"<link rel="next" type="application/atom+xml; type=feed" href="{n}"/>"#))
        .unwrap_or_default();
    let total = total
        .map(|t| format!("<opensearch:totalResults>{t}</opensearch:totalResults>"))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <title>AR_Customer</title>{next}{total}
  <opensearch:startIndex>{start}</opensearch:startIndex>
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

fn abf() -> String {
    entry(
        "ABF",
        r#"<CustomerName> American Business Futures </CustomerName>
    <AddressLine1>2131 N. 14th Ave.</AddressLine1><AddressLine2 xsi:nil="true"/><AddressLine3></AddressLine3>
    <City>Milwaukee</City><State>WI</State><ZipCode>53205</ZipCode><CountryCode>USA</CountryCode>
    <TelephoneNo>(414) 555-4787</TelephoneNo><EmailAddress>artie@abf.example.com</EmailAddress>
    <CustomerStatus>A</CustomerStatus><CreditHold>Y</CreditHold><DateUpdated>2026-12-01T00:00:00</DateUpdated>
    <UDF_CRM_ID> acc-1 </UDF_CRM_ID>"#,
    )
}

#[tokio::test]
async fn the_list_pages_by_next_link_and_maps_every_column() {
    let server = MockServer::start().await;
    let page1 = format!(
        "{}{}",
        abf(),
        entry(
            "AVNET",
            "<CustomerName>Avnet</CustomerName><CustomerStatus>I</CustomerStatus>\
             <CreditHold>N</CreditHold><DateUpdated>2026-12-02</DateUpdated>"
        )
    );
    let page2 = entry(
        "BRESLIN",
        "<CustomerName>Breslin</CustomerName><CustomerStatus>T</CustomerStatus>\
         <DateUpdated>2026-12-03T08:00:00-05:00</DateUpdated>",
    );
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param("startIndex", "3"))
        .respond_with(xml(200, &feed(&page2, Some(3), 3, None)))
        .mount(&server)
        .await;
    let next = format!("http://internal{CUSTOMERS}?startIndex=3&amp;count=500");
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param("startIndex", "1"))
        .respond_with(xml(200, &feed(&page1, Some(3), 1, Some(&next))))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let first = gw.customers_page(None, None).await.unwrap();
    assert!(!first.since_applied);
    assert_eq!(first.total, Some(3));
    let [a, b] = first.customers.as_slice() else {
        panic!("two entries: {:?}", first.customers)
    };
    assert_eq!(a.key, key100("01", "ABF"));
    assert_eq!(a.name, "American Business Futures");
    assert_eq!(
        a.address_lines,
        [Some("2131 N. 14th Ave.".to_owned()), None, None]
    );
    assert_eq!(a.city.as_deref(), Some("Milwaukee"));
    assert_eq!(a.state.as_deref(), Some("WI"));
    assert_eq!(a.postal_code.as_deref(), Some("53205"));
    assert_eq!(a.country.as_deref(), Some("USA"));
    assert_eq!(a.phone.as_deref(), Some("(414) 555-4787"));
    assert_eq!(a.email.as_deref(), Some("artie@abf.example.com"));
    assert_eq!(a.status, ErpCustomerStatus::Active);
    assert!(a.on_hold);
    assert_eq!(a.last_maintained, Some(date(2026, 12, 1)));
    assert_eq!(a.crm_id.as_deref(), Some("acc-1"));
    assert_eq!(b.status, ErpCustomerStatus::Inactive);
    assert!(!b.on_hold);
    assert_eq!(b.last_maintained, Some(date(2026, 12, 2)));
    assert_eq!(b.crm_id, None);

    let second = gw.customers_page(None, first.next.clone()).await.unwrap();
    let [c] = second.customers.as_slice() else {
        panic!("one entry: {:?}", second.customers)
    };
    assert_eq!(c.status, ErpCustomerStatus::Inactive, "T is not active");
    assert!(!c.on_hold, "no CreditHold: not on hold");
    assert_eq!(c.last_maintained, Some(date(2026, 12, 3)), "with an offset");
    assert_eq!(second.next, None);

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].url.path(), CUSTOMERS);
    assert_eq!(sent[0].url.query(), Some("startIndex=1&count=500"));
    assert_eq!(param(&sent[0], "orderBy"), None, "the server's key order");
    assert_eq!(
        sent[1].url.host_str(),
        sent[0].url.host_str(),
        "our host only"
    );
}

#[tokio::test]
async fn since_is_the_sdata_date_literal_kept_on_the_next_pages() {
    let server = MockServer::start().await;
    let filter = "DateUpdated ge @2026-12-01@";
    let next = format!(
        "{CUSTOMERS}?where=DateUpdated%20ge%20%402026-12-01%40&amp;startIndex=2&amp;count=500"
    );
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param("startIndex", "2"))
        .respond_with(xml(200, &feed(&named("B", "Bee"), Some(2), 2, None)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param("where", filter))
        .respond_with(xml(200, &feed(&named("A", "Ay"), Some(2), 1, Some(&next))))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let since = Some(date(2026, 12, 1));
    let first = gw.customers_page(since, None).await.unwrap();
    assert!(first.since_applied);
    let second = gw.customers_page(since, first.next.clone()).await.unwrap();
    assert!(second.since_applied);
    assert_eq!(second.customers[0].key, key100("01", "B"));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(param(&sent[0], "where").as_deref(), Some(filter));
    assert!(
        sent[0]
            .url
            .query()
            .unwrap()
            .starts_with("where=DateUpdated%20ge%20%402026-12-01%40&startIndex=1&count=500"),
        "{}",
        sent[0].url
    );
    let err = gw.customers_page(None, first.next).await.unwrap_err();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_date_literal_tries_a_quoted_date_then_no_filter() {
    let bad_where = || {
        xml(
            400,
            &diagnosis("BadWhereSyntax", "", "The where clause is not valid."),
        )
    };
    // The provider takes the quoted form.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("where", "DateUpdated ge @2026-12-01@"))
        .respond_with(bad_where())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("where", "DateUpdated ge '2026-12-01'"))
        .respond_with(xml(200, &feed(&named("A", "Ay"), Some(1), 1, None)))
        .mount(&server)
        .await;
    let got = gateway(&server)
        .await
        .customers_page(Some(date(2026, 12, 1)), None)
        .await
        .unwrap();
    assert!(got.since_applied);
    assert_eq!(requests(&server).await.len(), 2);

    // It takes neither: the whole list, said so.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param_is_missing("where"))
        .respond_with(xml(200, &feed(&named("A", "Ay"), Some(1), 1, None)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(bad_where())
        .mount(&server)
        .await;
    let got = gateway(&server)
        .await
        .customers_page(Some(date(2026, 12, 1)), None)
        .await
        .unwrap();
    assert!(!got.since_applied);
    assert_eq!(got.customers.len(), 1);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3, "the filter twice, then once without");
    assert_eq!(param(&sent[2], "where"), None);
    assert_eq!(sent[2].url.query(), Some("startIndex=1&count=500"));

    // Any other failure is the list's failure.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(xml(
            404,
            &diagnosis("DatasetNotFound", "", "No company ABC"),
        ))
        .mount(&server)
        .await;
    let err = gateway(&server)
        .await
        .customers_page(Some(date(2026, 12, 1)), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ErpReadError::Server { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_name_is_looked_up_by_where_with_its_quote_doubled() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .respond_with(xml(
            200,
            &feed(
                &format!(
                    "{}{}",
                    named("OBRIEN", "O&apos;Brien Supply"),
                    named("OBRIEN2", "O'Brien Supply")
                ),
                Some(2),
                1,
                None,
            ),
        ))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let found = gw.customers_named("O'Brien Supply").await.unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].name, "O'Brien Supply");
    assert!(gw.customers_named("").await.unwrap().is_empty());
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        param(&sent[0], "where").as_deref(),
        Some("CustomerName eq 'O''Brien Supply'")
    );
    assert_eq!(param(&sent[0], "count").as_deref(), Some("20"));
    assert_eq!(
        sent[0].url.query(),
        Some("where=CustomerName%20eq%20%27O%27%27Brien%20Supply%27&count=20")
    );
}

#[tokio::test]
async fn malformed_answers_are_protocol_errors() {
    let cases = [
        ("<html><body>Server Error</body>".to_owned(), ""),
        ("not xml at all".to_owned(), ""),
        (
            feed(&named("A", "Ay"), Some(1), 1, None).replace("</feed>", ""),
            "",
        ),
        (
            feed(&entry("A", ""), Some(1), 1, None),
            "without CustomerName",
        ),
        (
            feed(
                "<entry><sdata:payload><AR_Customer xmlns=\"\"><CustomerName>X</CustomerName></AR_Customer></sdata:payload></entry>",
                Some(1),
                1,
                None,
            ),
            "without ARDivisionNo",
        ),
        (
            feed("<entry><id>x</id></entry>", Some(1), 1, None),
            "without a payload",
        ),
        (
            feed(
                &entry("A", "<CustomerName>A</CustomerName><CreditHold>X</CreditHold>"),
                Some(1),
                1,
                None,
            ),
            "CreditHold `X`",
        ),
        (
            feed(&named("WAY-TOO-LONG-NUMBER", "A"), Some(1), 1, None),
            "CustomerNo `WAY-TOO-LONG-NUMBER`",
        ),
        (
            named("A", "Ay").replacen(
                "<entry>",
                r#"<entry xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1">"#,
                1,
            ),
            "expected an Atom feed",
        ),
    ];
    for (body, why) in &cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(xml(200, body))
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
    // A next link to the same page is refused, not followed.
    let server = MockServer::start().await;
    let same = format!("{CUSTOMERS}?startIndex=1&amp;count=500");
    Mock::given(method("GET"))
        .respond_with(xml(200, &feed(&named("A", "Ay"), None, 1, Some(&same))))
        .mount(&server)
        .await;
    let err = gateway(&server)
        .await
        .customers_page(None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn a_summary_is_the_customer_as_find_reads_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .and(query_param(
            "where",
            "ARDivisionNo eq '01' and CustomerNo eq 'ABF'",
        ))
        .respond_with(xml(200, &feed(&abf(), Some(1), 1, None)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .respond_with(xml(200, &feed("", Some(0), 1, None)))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let s = gw
        .customer_summary(&key100("01", "ABF"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.key, key100("01", "ABF"));
    assert_eq!(s.name, "American Business Futures");
    assert_eq!(s.crm_id.as_deref(), Some("acc-1"));
    assert!(s.on_hold);
    assert_eq!(s.address_lines[1], None);
    assert_eq!(s.last_maintained, Some(date(2026, 12, 1)));
    assert_eq!(
        gw.customer_summary(&key100("01", "NONE")).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn the_crm_id_is_a_put_of_only_the_udf_column() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("{CUSTOMERS}(01;ABF)")))
        .respond_with(xml(200, ""))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{CUSTOMERS}(01;GONE)")))
        .respond_with(xml(
            404,
            &diagnosis(
                "ApplicationDiagnosis",
                "RecordNotFound",
                "The record is not on file.",
            ),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{CUSTOMERS}(01;BOOM)")))
        .respond_with(xml(500, "oops"))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let field = ErpFieldName::parse(ErpKind::Sage100, UDF_FIELD).unwrap();
    gw.set_crm_id(&key100("01", "ABF"), &field, "acc-<9>")
        .await
        .unwrap();
    gw.set_crm_id(&key100("01", "ABF"), &field, "acc-<9>")
        .await
        .unwrap();
    assert_eq!(
        gw.set_crm_id(&key100("01", "GONE"), &field, "acc-9")
            .await
            .unwrap_err(),
        ErpWriteError::CustomerMissing
    );
    let err = gw
        .set_crm_id(&key100("01", "BOOM"), &field, "acc-9")
        .await
        .unwrap_err();
    assert!(matches!(err, ErpWriteError::Ambiguous { .. }), "{err:?}");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 4, "a write is never retried");
    assert_eq!(sent[0].method.as_str(), "PUT");
    assert_eq!(
        payload(&body(&sent[0]), "AR_Customer"),
        "<UDF_CRM_ID>acc-&lt;9&gt;</UDF_CRM_ID>"
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
        Some("application/atom+xml; type=entry")
    );
}

#[tokio::test]
async fn the_payload_shown_is_the_entry_the_create_posts() {
    let server = MockServer::start().await;
    let customer = support::customer100("ABF");
    Mock::given(method("POST"))
        .and(path(CUSTOMERS))
        .respond_with(xml(201, ""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .respond_with(xml(200, &feed(&abf(), Some(1), 1, None)))
        .mount(&server)
        .await;
    let gw = gateway(&server).await;
    let shown = gw.customer_payload(&customer);
    gw.create_customer(&customer).await.unwrap();
    let posted: Vec<Request> = requests(&server)
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posted.len(), 1);
    assert_eq!(body(&posted[0]), shown);
    assert!(
        payload(&shown, "AR_Customer")
            .starts_with("<ARDivisionNo>01</ARDivisionNo><CustomerNo>ABF</CustomerNo>"),
        "{shown}"
    );
    assert!(shown.contains("<UDF_CRM_ID>acc-1</UDF_CRM_ID>"), "{shown}");
    assert!(!shown.contains("secret"), "no secret in the payload");
}
