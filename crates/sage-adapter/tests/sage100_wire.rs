//! The Sage 100 SData wire format checked against wiremock, **not** our simulator, with
//! samples written from `reference/sage100.md` Part A: request paths and headers, the exact
//! `where` text, the Atom entry a create sends, and sample feeds, entries and diagnoses (with
//! the prefixes and namespaces the reference says may vary). The client and the simulator
//! therefore cannot drift together.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;

use crm2sage_domain::ports::{CreateCustomerError, ErpGateway, ErpReadError, PageCursor};
use crm2sage_domain::{ErpValue, ReferenceKind};
use crm2sage_sage_adapter::ClientSettings;
use support::{UDF_FIELD, connect, customer100, key100, sage100_integration};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ROOT: &str = "/sdata/MasApp/MasContract";

/// A canned answer and the check its error must pass.
type Case<E> = (ResponseTemplate, fn(&E) -> bool);

/// A gateway on `server` for company ABC, user `SdataUser` / password `secret`.
async fn gateway(server: &MockServer) -> Arc<dyn ErpGateway> {
    let i = sage100_integration(&format!("{}{ROOT}", server.uri()), "ABC", "SdataUser", 30);
    connect(&i, "secret", ClientSettings::for_tests()).await
}

fn xml(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/atom+xml")
}

fn text_plain(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "text/plain")
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

/// Path and raw query as they went on the wire.
fn target(r: &Request) -> String {
    match r.url.query() {
        Some(q) => format!("{}?{q}", r.url.path()),
        None => r.url.path().to_owned(),
    }
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The reference's feed (Part A §2): Atom default namespace, `sdata:`/`opensearch:` prefixes,
/// `xsi:nil`, a resource element with `xmlns=""`, paging links.
fn feed(entries: &str, total: u32, start: u32, per_page: u32, next: Option<&str>) -> String {
    let next = next
        .map(|n| format!(r#"<link rel="next" type="application/atom+xml; type=feed" href="{n}"/>"#))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1"
      xmlns:http="http://schemas.sage.com/sdata/http/2008/1"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <title>Feed</title>
  <link rel="self" href="http://host/self"/>
  {next}
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>
  {entries}
</feed>"#
    )
}

fn terms_entry(code: &str, desc: &str) -> String {
    format!(
        r#"<entry><id>http://host/AR_TermsCode({code})</id><title>{desc}</title>
  <sdata:payload><AR_TermsCode sdata:key="{code}" xmlns=""><TermsCode>{code}</TermsCode>
  <TermsCodeDesc>{desc}</TermsCodeDesc><DiscountRate xsi:nil="true"/></AR_TermsCode></sdata:payload></entry>"#
    )
}

const ABF_ENTRY: &str = r#"<entry>
  <id>http://host/sdata/MasApp/MasContract/ABC/AR_Customer(01;ABF)</id>
  <title>American Business Futures</title>
  <sdata:payload>
    <AR_Customer sdata:key="01;ABF" sdata:uri="http://host/sdata/MasApp/MasContract/ABC/AR_Customer(01;ABF)" xmlns="">
      <ARDivisionNo>01</ARDivisionNo>
      <CustomerNo>ABF</CustomerNo>
      <CustomerName>American &amp; Business &lt;Futures&gt;</CustomerName>
      <AddressLine1>2131 N. 14th Street</AddressLine1>
      <AddressLine2 xsi:nil="true"/>
      <TermsCode>01</TermsCode>
      <CreditLimit>5000.00</CreditLimit>
      <UDF_CRM_ID>acc-42</UDF_CRM_ID>
    </AR_Customer>
  </sdata:payload>
</entry>"#;

/// The reference's diagnosis (Part A §3), prefixed.
fn diagnosis(sdata_code: &str, application_code: &str, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<sdata:diagnoses xmlns:sdata="http://schemas.sage.com/sdata/2008/1"><sdata:diagnosis>
<sdata:severity>error</sdata:severity><sdata:sdataCode>{sdata_code}</sdata:sdataCode>
<sdata:applicationCode>{application_code}</sdata:applicationCode><sdata:message>{message}</sdata:message>
<sdata:stackTrace/></sdata:diagnosis></sdata:diagnoses>"#
    )
}

#[tokio::test]
async fn a_lookup_sends_the_exact_where_text_and_reads_the_full_record() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR_Customer",
        xml(200, &feed(ABF_ENTRY, 1, 1, 100, None)),
    )
    .await;
    let g = gateway(&server).await;

    let found = g.find_customer(&key100("1", "abf")).await.unwrap().unwrap();

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method.as_str(), "GET");
    assert_eq!(
        target(r),
        "/sdata/MasApp/MasContract/ABC/AR_Customer?where=ARDivisionNo%20eq%20%2701%27%20and%20CustomerNo%20eq%20%27ABF%27"
    );
    let decoded: Vec<_> = r.url.query_pairs().collect();
    assert_eq!(decoded[0].1, "ARDivisionNo eq '01' and CustomerNo eq 'ABF'");
    // Basic base64("SdataUser:secret").
    assert_eq!(
        header(r, "authorization"),
        Some("Basic U2RhdGFVc2VyOnNlY3JldA==")
    );
    assert_eq!(header(r, "accept"), Some("application/atom+xml"));
    assert_eq!(header(r, "content-type"), None);

    assert_eq!(found.external_uid().as_str(), "01-ABF");
    assert_eq!(found.name(), Some("American & Business <Futures>"));
    assert_eq!(found.record.get("AddressLine2"), Some(&ErpValue::Null));
    assert_eq!(found.record.text("CreditLimit"), Some("5000.00"));
    let field =
        crm2sage_domain::ErpFieldName::parse(crm2sage_domain::ErpKind::Sage100, UDF_FIELD).unwrap();
    assert_eq!(found.crm_id(&field), Some("acc-42"));
    let names: Vec<_> = found.record.fields().map(|(n, _)| n).collect();
    assert_eq!(names[..3], ["ARDivisionNo", "CustomerNo", "CustomerName"]);
}

#[tokio::test]
async fn an_empty_feed_is_absent_and_a_feed_of_other_customers_is_an_error() {
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR_Customer",
        xml(200, &feed("", 0, 1, 100, None)),
    )
    .await;
    let g = gateway(&server).await;
    assert_eq!(g.find_customer(&key100("01", "NEW1")).await, Ok(None));

    // A server that ignored the where clause proves nothing about our number.
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR_Customer",
        xml(200, &feed(ABF_ENTRY, 1, 1, 100, None)),
    )
    .await;
    let g = gateway(&server).await;
    assert!(matches!(
        g.find_customer(&key100("01", "NEW1")).await,
        Err(ErpReadError::Protocol { .. })
    ));
}

#[tokio::test]
async fn a_refused_where_query_falls_back_to_the_unquoted_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/AR_Customer")))
        .respond_with(xml(
            400,
            &diagnosis("BadWhereSyntax", "", "The where clause is not supported."),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/AR_Customer(01;ABF)")))
        .respond_with(xml(200, &ABF_ENTRY.replace(
            "<entry>",
            r#"<entry xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/AR_Customer(01;NEW1)")))
        .respond_with(xml(
            404,
            &diagnosis(
                "ApplicationDiagnosis",
                "",
                "AR_Customer(01;NEW1) was not found.",
            ),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/AR_Customer(01;GONE)")))
        .respond_with(xml(
            404,
            &diagnosis(
                "ResourceKindNotFound",
                "",
                "AR_Customer is not a resource kind.",
            ),
        ))
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let found = g
        .find_customer(&key100("01", "ABF"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.name(), Some("American & Business <Futures>"));
    assert_eq!(g.find_customer(&key100("01", "NEW1")).await, Ok(None));
    assert!(matches!(
        g.find_customer(&key100("01", "GONE")).await,
        Err(ErpReadError::Server { status: 404, .. })
    ));
    let targets: Vec<_> = requests(&server).await.iter().map(target).collect();
    assert_eq!(
        targets[1],
        "/sdata/MasApp/MasContract/ABC/AR_Customer(01;ABF)"
    );
}

#[tokio::test]
async fn the_create_sends_the_documented_atom_entry_then_reads_back() {
    let server = MockServer::start().await;
    on(
        &server,
        "POST",
        "AR_Customer",
        ResponseTemplate::new(201).insert_header(
            "Location",
            "http://host/sdata/MasApp/MasContract/ABC/AR_Customer(01;0000123)",
        ),
    )
    .await;
    let created_entry = ABF_ENTRY
        .replace(
            "<CustomerNo>ABF</CustomerNo>",
            "<CustomerNo>0000123</CustomerNo>",
        )
        .replace(
            "American &amp; Business &lt;Futures&gt;",
            "O&apos;Brien &amp; &lt;Sons&gt; &quot;Ltd&quot;",
        );
    on(
        &server,
        "GET",
        "AR_Customer",
        xml(200, &feed(&created_entry, 1, 1, 100, None)),
    )
    .await;
    let g = gateway(&server).await;
    let mut c = customer100("123");
    c.name = r#"O'Brien & <Sons> "Ltd""#.into();

    let created = g.create_customer(&c).await.unwrap();
    assert_eq!(created.external_uid().as_str(), "01-0000123");
    assert_eq!(created.name(), Some(r#"O'Brien & <Sons> "Ltd""#));

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2, "one POST, one read-back");
    let post = &reqs[0];
    assert_eq!(post.method.as_str(), "POST");
    assert_eq!(target(post), "/sdata/MasApp/MasContract/ABC/AR_Customer");
    assert_eq!(
        header(post, "content-type"),
        Some("application/atom+xml; type=entry")
    );
    let body = String::from_utf8(post.body.clone()).unwrap();
    let expected = concat!(
        r#"<?xml version="1.0" encoding="utf-8"?>"#,
        r#"<entry xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
        "<id/><title/><content/><sdata:payload>",
        r#"<AR_Customer xmlns="">"#,
        "<ARDivisionNo>01</ARDivisionNo><CustomerNo>0000123</CustomerNo>",
        "<CustomerName>O&apos;Brien &amp; &lt;Sons&gt; &quot;Ltd&quot;</CustomerName>",
        "<AddressLine1>1 Main St</AddressLine1><AddressLine2>Floor 2</AddressLine2>",
        "<City>Milwaukee</City><State>WI</State><ZipCode>53202</ZipCode><CountryCode>USA</CountryCode>",
        "<TelephoneNo>414-555-0100</TelephoneNo><EmailAddress>ap@contract.example.com</EmailAddress>",
        "<URLAddress>https://contract.example.com</URLAddress>",
        "<TermsCode>01</TermsCode><TaxSchedule>WI MIL</TaxSchedule>",
        "<SalespersonDivisionNo>01</SalespersonDivisionNo><SalespersonNo>0100</SalespersonNo>",
        "<CustomerType>RET</CustomerType><UDF_CRM_ID>acc-1</UDF_CRM_ID>",
        "</AR_Customer></sdata:payload></entry>"
    );
    assert_eq!(body, expected);
    assert_eq!(
        reqs[1].url.query_pairs().next().unwrap().1,
        "ARDivisionNo eq '01' and CustomerNo eq '0000123'"
    );
}

#[tokio::test]
async fn a_salesperson_without_division_takes_the_customers() {
    let server = MockServer::start().await;
    on(&server, "POST", "AR_Customer", ResponseTemplate::new(500)).await;
    let g = gateway(&server).await;
    let mut c = customer100("ABC");
    c.key = key100("02", "ABC");
    c.salesperson = Some(crm2sage_domain::SalespersonRef::parse("0300").unwrap());
    c.category = None;
    c.crm_id = None;
    let _ = g.create_customer(&c).await;
    let body = String::from_utf8(requests(&server).await[0].body.clone()).unwrap();
    assert!(
        body.contains(
            "<SalespersonDivisionNo>02</SalespersonDivisionNo><SalespersonNo>0300</SalespersonNo>"
        ),
        "{body}"
    );
    assert!(
        !body.contains("CustomerType") && !body.contains("UDF_"),
        "{body}"
    );
}

#[tokio::test]
async fn create_failures_follow_the_diagnoses() {
    let cases: Vec<Case<CreateCustomerError>> = vec![
        (
            xml(409, &diagnosis("ApplicationDiagnosis", "", "Conflict.")),
            |e| *e == CreateCustomerError::AlreadyExists,
        ),
        (
            xml(
                400,
                &diagnosis("ApplicationDiagnosis", "", "The record already exists."),
            ),
            |e| *e == CreateCustomerError::AlreadyExists,
        ),
        (
            text_plain(
                400,
                r#"<diagnosis xmlns="http://schemas.sage.com/sdata/2008/1"><severity>error</severity><sdataCode>ApplicationDiagnosis</sdataCode><applicationCode>WS_AlreadyExists</applicationCode><message>Record already exists</message></diagnosis>"#,
            ),
            |e| *e == CreateCustomerError::AlreadyExists,
        ),
        (
            xml(
                400,
                &diagnosis(
                    "ApplicationDiagnosis",
                    "CI_NOF",
                    "The TaxSchedule NOSUCH does not exist.",
                ),
            ),
            |e| {
                matches!(e, CreateCustomerError::Rejected { code, message }
                    if code == "CI_NOF" && message == "The TaxSchedule NOSUCH does not exist.")
            },
        ),
        (
            xml(
                400,
                &diagnosis(
                    "ApplicationDiagnosis",
                    "",
                    "The City is greater than 20 character(s).",
                ),
            ),
            |e| matches!(e, CreateCustomerError::Rejected { code, .. } if code == "ApplicationDiagnosis"),
        ),
        (
            text_plain(400, "Bad Request"),
            |e| matches!(e, CreateCustomerError::Rejected { code, .. } if code == "HTTP 400"),
        ),
        (xml(401, ""), |e| *e == CreateCustomerError::Unauthorized),
        (
            xml(403, &diagnosis("ApplicationDiagnosis", "", "No Access")),
            |e| matches!(e, CreateCustomerError::Forbidden(m) if m.contains("No Access")),
        ),
        (xml(429, ""), |e| *e == CreateCustomerError::RateLimited),
        (
            text_plain(
                500,
                "Exception has been thrown by the target of an invocation.",
            ),
            |e| matches!(e, CreateCustomerError::Ambiguous { .. }),
        ),
        (
            xml(503, &diagnosis("ApplicationUnavailable", "", "Busy")),
            |e| matches!(e, CreateCustomerError::Ambiguous { .. }),
        ),
        // A 2xx whose body is not XML (a proxy's page) is not a confirmation.
        (
            ResponseTemplate::new(200).set_body_raw(b"<html><body>Welcome".to_vec(), "text/html"),
            |e| matches!(e, CreateCustomerError::Ambiguous { .. }),
        ),
    ];
    for (template, expected) in cases {
        let server = MockServer::start().await;
        on(&server, "POST", "AR_Customer", template).await;
        let g = gateway(&server).await;
        let result = g.create_customer(&customer100("NEW1")).await;
        match &result {
            Err(e) if expected(e) => {}
            other => panic!("unexpected {other:?}"),
        }
        let posts = requests(&server)
            .await
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .count();
        assert_eq!(posts, 1, "never retried");
    }
}

#[tokio::test]
async fn a_2xx_whose_read_back_misses_is_ambiguous() {
    let server = MockServer::start().await;
    on(&server, "POST", "AR_Customer", ResponseTemplate::new(200)).await;
    on(
        &server,
        "GET",
        "AR_Customer",
        xml(200, &feed("", 0, 1, 100, None)),
    )
    .await;
    let g = gateway(&server).await;
    match g.create_customer(&customer100("NEW1")).await {
        Err(CreateCustomerError::Ambiguous { reason }) => {
            assert!(reason.contains("01-NEW1"), "{reason}")
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
}

#[tokio::test]
async fn paging_follows_relative_and_foreign_next_links_on_our_host() {
    let server = MockServer::start().await;
    // Page 1 links with a relative href, page 2 with another host (a proxy's internal name).
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/AR_TermsCode")))
        .and(query_param("startIndex", "1"))
        .respond_with(xml(
            200,
            &feed(
                &(terms_entry("00", "C.O.D.") + &terms_entry("01", "Net 30")),
                5,
                1,
                2,
                Some("AR_TermsCode?startIndex=3&amp;count=2"),
            ),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/AR_TermsCode")))
        .and(query_param("startIndex", "3"))
        .respond_with(xml(
            200,
            &feed(
                &(terms_entry("02", "2% 10") + &terms_entry("03", "Net 10")),
                5,
                3,
                2,
                Some("http://internal-sage:8080/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=5&amp;count=2"),
            ),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/AR_TermsCode")))
        .and(query_param("startIndex", "5"))
        .respond_with(xml(200, &feed(&terms_entry("04", "Net 60"), 5, 5, 2, None)))
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let mut cursor: Option<PageCursor> = None;
    let mut codes = Vec::new();
    loop {
        let page = g
            .reference_page(ReferenceKind::Terms, cursor)
            .await
            .unwrap();
        assert_eq!(page.total, Some(5));
        codes.extend(page.records.iter().map(|r| r.code.as_str().to_owned()));
        match page.next {
            Some(n) => {
                assert!(n.as_str().starts_with(&server.uri()), "{}", n.as_str());
                cursor = Some(n);
            }
            None => break,
        }
    }
    assert_eq!(codes, ["00", "01", "02", "03", "04"]);
    let targets: Vec<_> = requests(&server).await.iter().map(target).collect();
    assert_eq!(
        targets,
        [
            "/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=1&count=100",
            "/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=3&count=2",
            "/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=5&count=2",
        ]
    );
}

#[tokio::test]
async fn reference_feeds_are_read_whatever_the_prefixes() {
    let server = MockServer::start().await;
    // Atom under a prefix, the payload's resource in a contract namespace, no paging links.
    let body = r#"<?xml version="1.0"?>
<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:s="http://schemas.sage.com/sdata/2008/1"
        xmlns:os="http://a9.com/-/spec/opensearch/1.1/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <os:totalResults>2</os:totalResults>
  <a:entry><s:payload><c:AR_Salesperson xmlns:c="http://example.com/contract">
    <c:SalespersonDivisionNo>01</c:SalespersonDivisionNo><c:SalespersonNo>0100</c:SalespersonNo>
    <c:SalespersonName>Jim &amp; Co</c:SalespersonName><c:EmailAddress i:nil="true"/>
  </c:AR_Salesperson></s:payload></a:entry>
  <a:entry><s:payload><AR_Salesperson xmlns="">
    <SalespersonDivisionNo>01</SalespersonDivisionNo><SalespersonNo>0200</SalespersonNo>
    <SalespersonName>Sally</SalespersonName><SalespersonStatus>I</SalespersonStatus>
  </AR_Salesperson></s:payload></a:entry>
</a:feed>"#;
    on(&server, "GET", "AR_Salesperson", xml(200, body)).await;
    let g = gateway(&server).await;
    let page = g
        .reference_page(ReferenceKind::Salesperson, None)
        .await
        .unwrap();
    assert_eq!((page.next, page.total), (None, Some(2)));
    let got: Vec<_> = page
        .records
        .iter()
        .map(|r| (r.code.as_str(), r.description.as_str(), r.active))
        .collect();
    assert_eq!(
        got,
        [("01-0100", "Jim & Co", true), ("01-0200", "Sally", false)]
    );
}

#[tokio::test]
async fn schema_kinds_are_read_at_their_sme_path_or_plural_name() {
    // `sme:path` wins over `sme:pluralName`; a path that is not a plain segment falls back to
    // the plural name, and a plural name alone is used too.
    for (attrs, expected) in [
        (r#"sme:pluralName="ShipMethods""#, "ShipMethods"),
        (
            r#"sme:path="SO_ShipMethods" sme:pluralName="ShipMethods""#,
            "SO_ShipMethods",
        ),
        (
            r#"sme:path="../AR_Customer" sme:pluralName="ShipMethods""#,
            "ShipMethods",
        ),
        (r#"sme:pluralName="a/b""#, "SO_ShipMethod"),
    ] {
        let server = MockServer::start().await;
        let schema = format!(
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:sme="http://schemas.sage.com/sdata/sme/2007">
<xs:element name="SO_ShipMethod" type="SO_ShipMethod--type" sme:role="resourceKind" {attrs}/>
</xs:schema>"#
        );
        on(&server, "GET", "$schema", xml(200, &schema)).await;
        on(
            &server,
            "GET",
            expected,
            xml(
                200,
                &feed(
                    r#"<entry><sdata:payload><SO_ShipMethod xmlns=""><ShipMethod>UPS</ShipMethod><ShipMethodDesc>Ground</ShipMethodDesc></SO_ShipMethod></sdata:payload></entry>"#,
                    1,
                    1,
                    100,
                    None,
                ),
            ),
        )
        .await;
        let g = gateway(&server).await;
        let ship = g.reference_page(ReferenceKind::ShipMethod, None).await;
        let ship = ship.unwrap_or_else(|e| panic!("{attrs}: {e:?}"));
        assert_eq!(ship.records[0].code.as_str(), "UPS", "{attrs}");
        let last = requests(&server).await.pop().unwrap();
        assert_eq!(
            target(&last),
            format!("{ROOT}/ABC/{expected}?startIndex=1&count=100"),
            "{attrs}"
        );
    }
}

#[tokio::test]
async fn optional_kinds_come_from_schema_or_a_resource_kind_not_found() {
    // `$schema` lists a ship-via table and no AR_CustomerType.
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "$schema",
        xml(
            200,
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:sme="http://schemas.sage.com/sdata/sme/2007">
<xs:element name="AR_Customer" type="AR_Customer--type" sme:role="resourceKind" sme:canPost="true"/>
<xs:element name="SO_ShipVia" type="SO_ShipVia--type" sme:role="resourceKind"/>
</xs:schema>"#,
        ),
    )
    .await;
    on(
        &server,
        "GET",
        "SO_ShipVia",
        xml(
            200,
            &feed(
                r#"<entry><sdata:payload><SO_ShipVia xmlns=""><ShipVia>UPS RED</ShipVia><Description>Next day</Description></SO_ShipVia></sdata:payload></entry>"#,
                1,
                1,
                100,
                None,
            ),
        ),
    )
    .await;
    let g = gateway(&server).await;
    assert_eq!(
        g.reference_page(ReferenceKind::Category, None).await,
        Err(ErpReadError::KindUnavailable(ReferenceKind::Category))
    );
    let ship = g
        .reference_page(ReferenceKind::ShipMethod, None)
        .await
        .unwrap();
    assert_eq!(ship.records[0].code.as_str(), "UPS RED");
    assert_eq!(ship.records[0].description, "Next day");
    let schema_gets = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("$schema"))
        .count();
    assert_eq!(schema_gets, 1, "read once per gateway");

    // No `$schema` at all: customer types are tried, a ResourceKindNotFound is "unavailable";
    // the ship-method table cannot be named, so it is unavailable too.
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "$schema",
        xml(404, &diagnosis("ResourceKindNotFound", "", "$schema")),
    )
    .await;
    on(
        &server,
        "GET",
        "AR_CustomerType",
        xml(
            404,
            &diagnosis(
                "ResourceKindNotFound",
                "",
                "AR_CustomerType is not a resource kind.",
            ),
        ),
    )
    .await;
    let g = gateway(&server).await;
    assert_eq!(
        g.reference_page(ReferenceKind::Category, None).await,
        Err(ErpReadError::KindUnavailable(ReferenceKind::Category))
    );
    assert_eq!(
        g.reference_page(ReferenceKind::ShipMethod, None).await,
        Err(ErpReadError::KindUnavailable(ReferenceKind::ShipMethod))
    );

    // A required table missing is an error, not "unavailable".
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        "AR_Division",
        xml(
            404,
            &diagnosis(
                "ResourceKindNotFound",
                "",
                "AR_Division is not a resource kind.",
            ),
        ),
    )
    .await;
    let g = gateway(&server).await;
    assert!(matches!(
        g.reference_page(ReferenceKind::Division, None).await,
        Err(ErpReadError::Server { status: 404, .. })
    ));
}

#[tokio::test]
async fn read_failures_are_errors_never_empty_results() {
    let cases: Vec<Case<ErpReadError>> = vec![
        (xml(401, ""), |e| *e == ErpReadError::Unauthorized),
        (xml(429, ""), |e| *e == ErpReadError::RateLimited),
        (
            text_plain(
                404,
                &diagnosis("DatasetNotFound", "", "Company XYZ not found"),
            ),
            |e| matches!(e, ErpReadError::Server { status: 404, message } if message.contains("DatasetNotFound")),
        ),
        (xml(200, "<feed><entry><sdata:payload>"), |e| {
            matches!(e, ErpReadError::Protocol { .. })
        }),
        (xml(200, r#"{"value":[]}"#), |e| {
            matches!(e, ErpReadError::Protocol { .. })
        }),
        // A 200 feed that carries an error diagnosis may be incomplete.
        (
            xml(
                200,
                &feed(
                    r#"<sdata:diagnosis><sdata:severity>error</sdata:severity><sdata:sdataCode>ApplicationDiagnosis</sdata:sdataCode><sdata:message>Read aborted</sdata:message></sdata:diagnosis>"#,
                    0,
                    1,
                    100,
                    None,
                ),
            ),
            |e| matches!(e, ErpReadError::Server { message, .. } if message.contains("Read aborted")),
        ),
        // An entry whose code the domain refuses (control character) names it.
        (
            xml(200, &feed(&terms_entry("&#7;", "Bell"), 1, 1, 100, None)),
            |e| matches!(e, ErpReadError::Protocol { excerpt } if excerpt.contains("terms code")),
        ),
    ];
    for (template, expected) in cases {
        let server = MockServer::start().await;
        on(&server, "GET", "AR_TermsCode", template).await;
        let g = gateway(&server).await;
        let result = g.reference_page(ReferenceKind::Terms, None).await;
        match &result {
            Err(e) if expected(e) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Issue 18: next links that come back (A→B→A) fail the sync with the resource named, and a
/// list that ends before its totals is never passed off as complete.
#[tokio::test]
async fn looping_links_and_short_lists_fail_the_sync() {
    let server = MockServer::start().await;
    let base = format!("{}{ROOT}/ABC/AR_TermsCode", server.uri());
    let (a, b) = (
        format!("{base}?startIndex=1&amp;count=2"),
        format!("{base}?startIndex=3&amp;count=2"),
    );
    Mock::given(method("GET"))
        .respond_with(move |r: &Request| {
            let start = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "startIndex")
                .map(|(_, v)| v.into_owned());
            if start.as_deref() == Some("3") {
                let entries = terms_entry("C", "c") + &terms_entry("D", "d");
                xml(200, &feed(&entries, 9, 3, 2, Some(&a)))
            } else {
                let entries = terms_entry("A", "a") + &terms_entry("B", "b");
                xml(200, &feed(&entries, 9, 1, 2, Some(&b)))
            }
        })
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let mut cursor = None;
    let mut outcome = Ok(());
    for _ in 0..20 {
        match g.reference_page(ReferenceKind::Terms, cursor).await {
            Ok(page) => {
                cursor = page.next;
                if cursor.is_none() {
                    break;
                }
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    let err = outcome.unwrap_err().to_string();
    assert!(
        err.contains("AR_TermsCode") && err.contains("loops"),
        "{err}"
    );

    // Totals of 5, then an empty page: a short list, not the end.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|r: &Request| {
            let first = r
                .url
                .query_pairs()
                .any(|(k, v)| k == "startIndex" && v == "1");
            if first {
                let entries = terms_entry("A", "a") + &terms_entry("B", "b");
                xml(200, &feed(&entries, 5, 1, 2, None))
            } else {
                xml(200, &feed("", 5, 3, 2, None))
            }
        })
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let first = g.reference_page(ReferenceKind::Terms, None).await.unwrap();
    let err = g
        .reference_page(ReferenceKind::Terms, first.next)
        .await
        .unwrap_err();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
}
