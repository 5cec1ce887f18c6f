//! `POST AR_Customer`: success, normalisation, defaults, UDFs, escaping, and every refusal.

use crm2sage_sage_simulator::{SUGGESTED_SHIP_METHOD_TABLE, Sage100Config};
use reqwest::Method;

use crate::helpers::{Sim, assert_diagnosis, column, customer, entry_body, ok_xml};
use crate::xml;

#[tokio::test]
async fn creates_with_defaults_and_answers_the_entry() {
    let s = Sim::default().await;
    let body = entry_body(&customer(
        "newco",
        &[
            ("CustomerName", "A & B <C> 'D' \"E\""),
            ("AddressLine1", "1 Main St"),
            ("City", "Milwaukee"),
            ("State", "WI"),
            ("ZipCode", "53202"),
            ("CountryCode", "USA"),
            ("TelephoneNo", "414-555-0100"),
            ("EmailAddress", "ap@newco.example.com"),
            ("URLAddress", "www.newco.example.com"),
            ("TermsCode", "1"),
            ("TaxSchedule", "wi mil"),
            ("CustomerType", "ret"),
            ("ShipMethod", "ANY CARRIER"),
            ("UDF_CRM_ID", "acc-123 & <x>"),
        ],
    ));
    let resp = s.post_entry(&body).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.ends_with("/sdata/MasApp/MasContract/ABC/AR_Customer(01;NEWCO)"),
        "{location}"
    );
    let entry = ok_xml(resp).await;
    assert_eq!(entry.local(), "entry");
    assert_eq!(column(&entry, "CustomerNo").as_deref(), Some("NEWCO"));
    assert_eq!(
        column(&entry, "CustomerName").as_deref(),
        Some("A & B <C> 'D' \"E\"")
    );
    assert_eq!(column(&entry, "TermsCode").as_deref(), Some("01"));
    assert_eq!(column(&entry, "TaxSchedule").as_deref(), Some("WI MIL"));
    assert_eq!(column(&entry, "CustomerType").as_deref(), Some("RET"));
    assert_eq!(column(&entry, "CustomerStatus").as_deref(), Some("A"));
    assert_eq!(column(&entry, "CreditHold").as_deref(), Some("N"));
    assert_eq!(column(&entry, "CreditLimit").as_deref(), Some("0.00"));
    assert_eq!(column(&entry, "CurrentBalance").as_deref(), Some("0.00"));
    assert_eq!(column(&entry, "DateEstablished").unwrap().len(), 10);
    assert_eq!(column(&entry, "AddressLine2"), None);
    assert_eq!(
        column(&entry, "UDF_CRM_ID").as_deref(),
        Some("acc-123 & <x>")
    );

    // Stored, and read back by the Location, by key and by where.
    let row = s.sim.customer("01", "NEWCO").unwrap();
    assert_eq!(row.get("UDF_CRM_ID"), Some("acc-123 & <x>"));
    assert_eq!(row.get("AddressLine2"), None);
    let again = ok_xml(s.get_url(&location).await).await;
    assert_eq!(
        column(&again, "CustomerName").as_deref(),
        Some("A & B <C> 'D' \"E\"")
    );
    let feed = s
        .get_xml("AR_Customer?where=UDF_CRM_ID%20eq%20'acc-123%20%26%20%3Cx%3E'")
        .await;
    assert_eq!(crate::helpers::columns(&feed, "CustomerNo"), ["NEWCO"]);
    let feed = s
        .get_xml("AR_Customer?where=CustomerName%20eq%20'A%20%26%20B%20%3CC%3E%20''D''%20%22E%22'")
        .await;
    assert_eq!(feed.all("entry").len(), 1);
    // The request log keeps the raw body.
    assert_eq!(s.sim.count_posts(), 1);
    let log = s.sim.request_log();
    let post = log.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.body, body);
    assert_eq!(post.status, Some(201));
    assert_eq!(post.user.as_deref(), Some("sdata"));
}

#[tokio::test]
async fn normalises_numbers_and_salesperson_division() {
    let s = Sim::default().await;
    let mut cols = customer("123", &[("ARDivisionNo", "0")]);
    cols.retain(|(c, _)| *c != "SalespersonDivisionNo");
    cols[0] = ("ARDivisionNo", "1");
    let resp = s.post_entry(&entry_body(&cols)).await;
    assert_eq!(resp.status(), 201);
    let row = s.sim.customer("01", "0000123").unwrap();
    assert_eq!(row.get("SalespersonDivisionNo"), Some("01"));
    // Long all-digit numbers are left alone.
    let resp = s.post_entry(&entry_body(&customer("12345678", &[]))).await;
    assert_eq!(resp.status(), 201);
    assert!(s.sim.customer("01", "12345678").is_some());
    // Nil columns are nulls; prefixes on the POST do not matter.
    let body = r#"<a:entry xmlns:a="http://www.w3.org/2005/Atom" xmlns:s="http://schemas.sage.com/sdata/2008/1" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><s:payload><AR_Customer xmlns=""><ARDivisionNo>00</ARDivisionNo><CustomerNo>NILS</CustomerNo><CustomerName>Nils</CustomerName><AddressLine1 i:nil="true"/><SalespersonDivisionNo>01</SalespersonDivisionNo><SalespersonNo>0200</SalespersonNo></AR_Customer></s:payload></a:entry>"#;
    let resp = s
        .req(Method::POST, &s.url("AR_Customer"))
        .header("Content-Type", "application/atom+xml")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(
        s.sim.customer("00", "NILS").unwrap().get("AddressLine1"),
        None
    );
}

#[tokio::test]
async fn each_validation_failure_names_the_column() {
    let s = Sim::start(Sage100Config {
        ship_method_table: Some(SUGGESTED_SHIP_METHOD_TABLE.to_owned()),
        ..Sage100Config::default()
    })
    .await;
    let long31 = "N".repeat(31);
    let long21 = "C".repeat(21);
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            customer("V1", &[("ARDivisionNo", "09")]),
            "ARDivisionNo",
            "not on file",
        ),
        (
            customer("V1", &[("ARDivisionNo", "ABC")]),
            "ARDivisionNo",
            "invalid",
        ),
        (
            customer("V1", &[("TermsCode", "99")]),
            "TermsCode",
            "not on file",
        ),
        (
            customer("V1", &[("TaxSchedule", "NOPE")]),
            "TaxSchedule",
            "not on file",
        ),
        (
            customer("V1", &[("SalespersonNo", "0999")]),
            "SalespersonNo",
            "01-0999 is not on file",
        ),
        (
            customer("V1", &[("SalespersonDivisionNo", "00")]),
            "SalespersonNo",
            "not on file",
        ),
        (
            customer("V1", &[("CustomerType", "XYZ")]),
            "CustomerType",
            "not on file",
        ),
        (
            customer("V1", &[("ShipMethod", "CAMEL")]),
            "ShipMethod",
            "not on file",
        ),
        (
            customer("V1", &[("CustomerName", &long31)]),
            "CustomerName",
            "greater than 30 character(s)",
        ),
        (
            customer("V1", &[("City", "A City Name Too Long!")]),
            "City",
            "greater than 20",
        ),
        (
            customer("V1", &[("State", "WIS")]),
            "State",
            "greater than 2",
        ),
        (
            customer("V1", &[("ZipCode", "12345-67890")]),
            "ZipCode",
            "greater than 10",
        ),
        (
            customer("V1", &[("CountryCode", "USAA")]),
            "CountryCode",
            "greater than 3",
        ),
        (
            customer("V1", &[("AddressLine1", &long31)]),
            "AddressLine1",
            "greater than 30",
        ),
        (
            customer("V1", &[("TelephoneNo", "+1 (414) 555-0100 x")]),
            "TelephoneNo",
            "greater than 17",
        ),
        (
            customer("V1", &[("ShipMethod", "UPS GROUND EXPRESS")]),
            "ShipMethod",
            "greater than 15",
        ),
        (
            customer("V1", &[("CreditLimit", "lots")]),
            "CreditLimit",
            "not a number",
        ),
        (
            customer("V1", &[("CreditHold", "X")]),
            "CreditHold",
            "invalid",
        ),
        (customer(&long21, &[]), "CustomerNo", "greater than 20"),
        (customer("A-B", &[]), "CustomerNo", "invalid"),
        (customer("V1", &[("Bogus", "x")]), "Bogus", "no column"),
    ];
    for (cols, col, text) in cases {
        let resp = s.post_entry(&entry_body(&cols)).await;
        assert_eq!(resp.status(), 400, "{col}");
        let body = resp.text().await.unwrap();
        let d = xml::parse(&body);
        let d = d.one("diagnosis");
        assert_eq!(d.text_of("sdataCode"), "ApplicationDiagnosis");
        let msg = d.text_of("message");
        assert!(msg.contains(col) && msg.contains(text), "{col}: {msg}");
        assert_eq!(
            d.text_of("payloadPath"),
            format!("/entry/sdata:payload/AR_Customer/{col}")
        );
    }
    // Required columns.
    for missing in ["ARDivisionNo", "CustomerNo", "SalespersonNo"] {
        let mut cols = customer("V2", &[]);
        cols.retain(|(c, _)| *c != missing);
        let m = assert_diagnosis(
            s.post_entry(&entry_body(&cols)).await,
            400,
            "ApplicationDiagnosis",
        )
        .await;
        assert!(m.contains(missing) && m.contains("required"), "{m}");
    }
    assert_eq!(s.sim.customers().len(), 3, "nothing was written");
    // A known ship method is accepted when the table exists.
    let ok = s
        .post_entry(&entry_body(&customer(
            "V3",
            &[("ShipMethod", "ups ground")],
        )))
        .await;
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn duplicate_is_409_with_already_exists() {
    let s = Sim::default().await;
    let m = assert_diagnosis(
        s.post_entry(&entry_body(&customer("abf", &[]))).await,
        409,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(m.contains("already exists"), "{m}");
    let m = assert_diagnosis(
        s.post_entry(&entry_body(&customer("1", &[("ARDivisionNo", "00")])))
            .await,
        409,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(m.contains("00-0000001 already exists"), "{m}");
}

#[tokio::test]
async fn bodies_it_cannot_read() {
    let s = Sim::default().await;
    let send = |ct: &'static str, body: String| {
        s.req(Method::POST, &s.url("AR_Customer"))
            .header("Content-Type", ct)
            .body(body)
            .send()
    };
    let good = entry_body(&customer("X1", &[]));
    assert_diagnosis(
        send("application/json", good.clone()).await.unwrap(),
        415,
        "ApplicationDiagnosis",
    )
    .await;
    assert_diagnosis(
        send("text/xml", good.clone()).await.unwrap(),
        415,
        "ApplicationDiagnosis",
    )
    .await;
    let cut = good[..good.len() - 20].to_owned();
    let m = assert_diagnosis(
        send("application/atom+xml; type=entry", cut).await.unwrap(),
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(m.contains("XML"), "{m}");
    let mismatched = good.replace("</CustomerNo>", "</CustomerNumber>");
    assert_diagnosis(
        send("application/atom+xml", mismatched).await.unwrap(),
        400,
        "ApplicationDiagnosis",
    )
    .await;
    let other_kind = good.replace("AR_Customer", "AR_Division");
    let m = assert_diagnosis(
        send("application/atom+xml", other_kind).await.unwrap(),
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(m.contains("AR_Division"), "{m}");
    let no_payload = format!(
        r#"<entry xmlns="{}"><title/></entry>"#,
        crate::helpers::ATOM
    );
    assert_diagnosis(
        send("application/atom+xml", no_payload).await.unwrap(),
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert_diagnosis(
        send("application/atom+xml", String::new()).await.unwrap(),
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(s.sim.customer("01", "X1").is_none());
}
