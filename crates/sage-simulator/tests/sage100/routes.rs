//! Every route: `$schema`, each table's feed, single records, the URL checks and credentials.

use crm2sage_sage_simulator::Sage100Config;
use reqwest::Method;

use crate::helpers::{Sim, assert_diagnosis, column, columns, link, ok_xml, opensearch, resource};
use crate::xml;

#[tokio::test]
async fn schema_lists_the_resource_kinds() {
    let s = Sim::default().await;
    let resp = s.get("$schema").await;
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let root = ok_xml(resp).await;
    assert_eq!(root.local(), "schema");
    let kinds: Vec<(&str, &str)> = root
        .all("element")
        .iter()
        .filter(|e| e.attr("sme:role") == Some("resourceKind"))
        .map(|e| (e.attr("name").unwrap(), e.attr("sme:canPost").unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("AR_Customer", "true"),
            ("AR_Division", "false"),
            ("AR_TermsCode", "false"),
            ("SY_SalesTaxSchedule", "false"),
            ("AR_Salesperson", "false"),
            ("AR_CustomerType", "false"),
            ("AR_OpenInvoice", "false"),
            ("SO_SalesOrderHeader", "false"),
            ("SO_ShipToAddress", "true"),
            ("AR_CustomerContact", "true"),
        ]
    );
    let puts: Vec<&str> = root
        .all("element")
        .iter()
        .filter(|e| e.attr("sme:canPut") == Some("true"))
        .filter_map(|e| e.attr("name"))
        .collect();
    assert_eq!(puts, ["AR_Customer"]);
    // Column lengths are published: CustomerName 30 by default.
    let customer_type = root
        .all("complexType")
        .into_iter()
        .find(|t| t.attr("name") == Some("AR_Customer--type"))
        .unwrap();
    let name = customer_type
        .one("all")
        .all("element")
        .into_iter()
        .find(|e| e.attr("name") == Some("CustomerName"))
        .unwrap();
    let max = name.one("simpleType").one("restriction").one("maxLength");
    assert_eq!(max.attr("value"), Some("30"));
    // `$Schema` spelled as GUMU does works too.
    assert_eq!(s.get("$Schema").await.status(), 200);
}

#[tokio::test]
async fn every_table_serves_its_demo_rows() {
    let s = Sim::default().await;
    let cases: [(&str, &str, &[&str]); 5] = [
        ("AR_Division", "ARDivisionNo", &["00", "01"]),
        (
            "AR_TermsCode",
            "TermsCode",
            &["00", "01", "02", "03", "04", "05"],
        ),
        ("SY_SalesTaxSchedule", "TaxSchedule", &["DEFAULT", "WI MIL"]),
        ("AR_Salesperson", "SalespersonNo", &["0100", "0200"]),
        ("AR_CustomerType", "CustomerType", &["RET", "WHL"]),
    ];
    for (table, key, expected) in cases {
        let resp = s.get(table).await;
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/atom+xml")
        );
        let feed = ok_xml(resp).await;
        assert_eq!(feed.local(), "feed");
        assert_eq!(feed.attr("xmlns"), Some(crate::helpers::ATOM));
        assert_eq!(columns(&feed, key), *expected, "{table}");
        assert_eq!(opensearch(&feed), (expected.len(), 1, 100), "{table}");
        assert!(link(&feed, "next").is_none());
        for e in feed.all("entry") {
            assert_eq!(resource(e).local(), table);
            assert_eq!(resource(e).attr("xmlns"), Some(""));
        }
    }
    let terms = s.get_xml("AR_TermsCode").await;
    assert_eq!(
        column(terms.all("entry")[2], "TermsCodeDesc").as_deref(),
        Some("2% 10 Net 30")
    );
    let sp = s.get_xml("AR_Salesperson").await;
    assert_eq!(
        columns(&sp, "SalespersonName"),
        ["Jim Kentley", "Sally Ross"]
    );
    // Many-entry customer feed in key order.
    let customers = s.get_xml("AR_Customer").await;
    assert_eq!(
        columns(&customers, "CustomerNo"),
        ["0000001", "ABF", "AVNET"]
    );
}

#[tokio::test]
async fn single_record_by_key_with_nil_and_escaping() {
    let s = Sim::default().await;
    let resp = s.get("AR_Customer(01;ABF)").await;
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("type=entry")
    );
    let entry = ok_xml(resp).await;
    assert_eq!(entry.local(), "entry");
    assert!(
        entry
            .text_of("id")
            .ends_with("/sdata/MasApp/MasContract/ABC/AR_Customer(01;ABF)")
    );
    assert_eq!(entry.text_of("title"), "American Business Futures");
    assert_eq!(resource(&entry).attr("sdata:key"), Some("01;ABF"));
    assert_eq!(
        column(&entry, "CustomerName").as_deref(),
        Some("American Business Futures")
    );
    assert_eq!(column(&entry, "AddressLine2"), None);
    assert_eq!(column(&entry, "AddressLine3"), None);
    assert_eq!(column(&entry, "CreditLimit").as_deref(), Some("5000.00"));
    assert_eq!(column(&entry, "TaxSchedule").as_deref(), Some("WI MIL"));

    // Markup characters are escaped on the wire and come back intact.
    let text = s.get("AR_Customer(00;0000001)").await.text().await.unwrap();
    assert!(text.contains("Ashton &amp; Baker &lt;Supply&gt;"), "{text}");
    assert!(text.contains("12 O&apos;Brien &quot;Quay&quot;"), "{text}");
    let entry = xml::parse(&text);
    assert_eq!(
        column(&entry, "CustomerName").as_deref(),
        Some("Ashton & Baker <Supply>")
    );
    assert_eq!(
        column(&entry, "AddressLine1").as_deref(),
        Some("12 O'Brien \"Quay\"")
    );

    // Percent-encoded selectors and keys with a space.
    assert_eq!(s.get("AR_Customer%2801%3BABF%29").await.status(), 200);
    let tax = s.get_xml("SY_SalesTaxSchedule(WI%20MIL)").await;
    assert_eq!(
        column(&tax, "TaxScheduleDesc").as_deref(),
        Some("Milwaukee County, WI")
    );
    let sp = s.get_xml("AR_Salesperson(01;0200)").await;
    assert_eq!(
        column(&sp, "SalespersonName").as_deref(),
        Some("Sally Ross")
    );

    // select narrows the columns.
    let narrow = s
        .get_xml("AR_Customer(01;ABF)?select=CustomerNo,City")
        .await;
    let names: Vec<&str> = resource(&narrow)
        .children
        .iter()
        .map(|c| c.local())
        .collect();
    assert_eq!(names, ["CustomerNo", "City"]);

    // Missing record, wrong key shape.
    let m = assert_diagnosis(
        s.get("AR_Customer(01;NOPE)").await,
        404,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(m.contains("not found"), "{m}");
    assert_diagnosis(s.get("AR_Customer(ABF)").await, 400, "BadUrlSyntax").await;
    assert_diagnosis(s.get("AR_Customer(01;ABF").await, 400, "BadUrlSyntax").await;
    assert_diagnosis(
        s.get("AR_Customer(01;ABF)?count=1").await,
        400,
        "BadQueryParameter",
    )
    .await;
}

#[tokio::test]
async fn path_case_and_url_checks() {
    let s = Sim::default().await;
    let base = s.sim.base_url();
    assert!(base.ends_with("/sdata/MasApp/MasContract"));
    let port = s.sim.addr().port();
    let odd = format!("http://127.0.0.1:{port}/SData/masapp/MASCONTRACT/abc/AR_Division");
    assert_eq!(s.get_url(&odd).await.status(), 200);

    let at = |p: &str| format!("http://127.0.0.1:{port}{p}");
    assert_diagnosis(s.get_url(&at("/other/x")).await, 404, "BadUrlSyntax").await;
    assert_diagnosis(
        s.get_url(&at("/sdata/OtherApp/MasContract/ABC/AR_Customer"))
            .await,
        404,
        "ApplicationNotFound",
    )
    .await;
    assert_diagnosis(
        s.get_url(&at("/sdata/MasApp/crmErp/ABC/AR_Customer")).await,
        404,
        "ContractNotFound",
    )
    .await;
    assert_diagnosis(
        s.get_url(&at("/sdata/MasApp/MasContract/XYZ/AR_Customer"))
            .await,
        404,
        "DatasetNotFound",
    )
    .await;
    assert_diagnosis(s.get("AR_Nothing").await, 404, "ResourceKindNotFound").await;
    assert_diagnosis(s.get("ar_customer").await, 404, "ResourceKindNotFound").await;
    assert_diagnosis(s.get("SO_ShipMethod").await, 404, "ResourceKindNotFound").await;
    assert_diagnosis(s.get("").await, 404, "ResourceKindNotFound").await;
    assert_diagnosis(s.get("AR_Customer/extra").await, 404, "BadUrlSyntax").await;
    let put = s
        .req(Method::PUT, &s.url("AR_Division(01)"))
        .send()
        .await
        .unwrap();
    assert_diagnosis(put, 405, "ApplicationDiagnosis").await;
    // A PUT of a customer needs an Atom entry.
    let put = s
        .req(Method::PUT, &s.url("AR_Customer(01;ABF)"))
        .send()
        .await
        .unwrap();
    assert_diagnosis(put, 415, "ApplicationDiagnosis").await;
    let post = s
        .req(Method::POST, &s.url("AR_Division"))
        .header("Content-Type", "application/atom+xml")
        .send()
        .await
        .unwrap();
    assert_diagnosis(post, 405, "ApplicationDiagnosis").await;
}

#[tokio::test]
async fn credentials() {
    let s = Sim::start(Sage100Config {
        forbidden_users: vec![("viewer".into(), "pw".into())],
        ..Sage100Config::default()
    })
    .await;
    assert_eq!(s.sim.user(), "sdata");
    let url = s.url("AR_Division");
    let none = s.client.get(&url).send().await.unwrap();
    assert_eq!(
        none.headers()["www-authenticate"].to_str().unwrap(),
        "Basic realm=\"SData\""
    );
    assert_diagnosis(none, 401, "ApplicationDiagnosis").await;
    let bad = s
        .client
        .get(&url)
        .basic_auth("sdata", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_diagnosis(bad, 401, "ApplicationDiagnosis").await;
    let upper = s
        .client
        .get(&url)
        .basic_auth("SDATA", Some("sdata"))
        .send()
        .await
        .unwrap();
    assert_eq!(upper.status(), 200, "user names compare case-insensitively");
    let forbidden = s
        .client
        .get(&url)
        .basic_auth("viewer", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_diagnosis(forbidden, 403, "ApplicationDiagnosis").await;
    // Credentials are checked before the company.
    let port = s.sim.addr().port();
    let other = s
        .client
        .get(format!(
            "http://127.0.0.1:{port}/sdata/MasApp/MasContract/XYZ/AR_Customer"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
}

#[tokio::test]
async fn query_parameters() {
    let s = Sim::default().await;
    let feed = s
        .get_xml("AR_Customer?orderBy=CreditLimit%20desc&select=CustomerNo,CreditLimit")
        .await;
    assert_eq!(columns(&feed, "CustomerNo"), ["AVNET", "ABF", "0000001"]);
    let names: Vec<&str> = resource(feed.all("entry")[0])
        .children
        .iter()
        .map(|c| c.local())
        .collect();
    assert_eq!(names, ["CustomerNo", "CreditLimit"]);
    let feed = s
        .get_xml("AR_Customer?orderBy=CustomerName&format=atom")
        .await;
    assert_eq!(columns(&feed, "CustomerNo"), ["ABF", "0000001", "AVNET"]);
    let feed = s.get_xml("AR_Customer?STARTINDEX=2&Count=1").await;
    assert_eq!(opensearch(&feed), (3, 2, 1));
    for bad in [
        "AR_Customer?startIndex=0",
        "AR_Customer?startIndex=x",
        "AR_Customer?count=-1",
        "AR_Customer?select=Nope",
        "AR_Customer?select=",
        "AR_Customer?orderBy=Nope",
        "AR_Customer?orderBy=CustomerNo%20sideways",
        "AR_Customer?format=json",
        "AR_Customer?include=x",
        "AR_Customer?count=1&count=2",
    ] {
        assert_diagnosis(s.get(bad).await, 400, "BadQueryParameter").await;
    }
}
