//! `PUT AR_Customer(01;ABC)`: the primary ship-to and contact pointers, partial or replacing.

use crm2sage_sage_simulator::{Faults, PutSemantics, Sage100Config};
use reqwest::Method;

use crate::helpers::{Sim, assert_diagnosis, column, entry_body, entry_of, ok_xml};

async fn with_parts(config: Sage100Config) -> Sim {
    let s = Sim::start(config).await;
    for (customer, code) in [("ABF", "WH1"), ("ABF", "WH2"), ("AVNET", "OTH")] {
        let body = entry_of(
            "SO_ShipToAddress",
            &[
                ("ARDivisionNo", "01"),
                ("CustomerNo", customer),
                ("ShipToCode", code),
                ("ShipToName", "Warehouse"),
            ],
        );
        let resp = s.send_entry(Method::POST, "SO_ShipToAddress", &body).await;
        assert_eq!(resp.status(), 201);
    }
    let body = entry_of(
        "AR_CustomerContact",
        &[
            ("ARDivisionNo", "01"),
            ("CustomerNo", "ABF"),
            ("ContactCode", "JSMITH"),
            ("ContactName", "Jane Smith"),
        ],
    );
    let resp = s
        .send_entry(Method::POST, "AR_CustomerContact", &body)
        .await;
    assert_eq!(resp.status(), 201);
    s
}

async fn put(s: &Sim, columns: &[(&str, &str)]) -> reqwest::Response {
    s.send_entry(Method::PUT, "AR_Customer(01;ABF)", &entry_body(columns))
        .await
}

#[tokio::test]
async fn put_of_one_column_changes_only_it() {
    let s = with_parts(Sage100Config::default()).await;
    let before = s.sim.customer("01", "ABF").unwrap();
    assert_eq!(s.sim.primary_ship_to("01", "ABF"), None);

    let entry = ok_xml(put(&s, &[("PrimaryShipToCode", "wh2")]).await).await;
    assert_eq!(column(&entry, "PrimaryShipToCode").as_deref(), Some("WH2"));
    assert_eq!(s.sim.primary_ship_to("01", "ABF").as_deref(), Some("WH2"));
    let after = s.sim.customer("01", "ABF").unwrap();
    assert_eq!(after.get("CustomerName"), before.get("CustomerName"));
    assert_eq!(after.get("SalespersonNo"), before.get("SalespersonNo"));
    assert_eq!(after.get("TermsCode"), before.get("TermsCode"));

    let resp = put(&s, &[("ContactCode", "JSMITH")]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        s.sim.primary_contact("01", "ABF").as_deref(),
        Some("JSMITH")
    );
    // The ship-to set before is kept.
    assert_eq!(s.sim.primary_ship_to("01", "ABF").as_deref(), Some("WH2"));
    let read = s.get_xml("AR_Customer(01;ABF)").await;
    assert_eq!(column(&read, "PrimaryShipToCode").as_deref(), Some("WH2"));
    assert_eq!(column(&read, "ContactCode").as_deref(), Some("JSMITH"));
    assert_eq!(
        column(&read, "CustomerName"),
        before.get("CustomerName").map(str::to_owned)
    );
}

#[tokio::test]
async fn an_unknown_code_is_refused() {
    let s = with_parts(Sage100Config::default()).await;
    let before = s.sim.customer("01", "ABF").unwrap();
    for cols in [
        [("PrimaryShipToCode", "NOPE")],
        // Another customer's ship-to.
        [("PrimaryShipToCode", "OTH")],
        [("ContactCode", "NOBODY")],
        [("TermsCode", "99")],
    ] {
        let message = assert_diagnosis(put(&s, &cols).await, 400, "ApplicationDiagnosis").await;
        assert!(message.contains("not on file"), "{message}");
    }
    let message = assert_diagnosis(
        put(&s, &[("PrimaryShipToCode", "TOOLONG")]).await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(message.contains("4 character"), "{message}");
    // The key cannot change; unknown columns are refused.
    assert_diagnosis(
        put(&s, &[("CustomerNo", "OTHER")]).await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert_diagnosis(
        put(&s, &[("Nickname", "x")]).await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert_diagnosis(
        s.send_entry(Method::PUT, "AR_Customer(01;ABF)", "<entry>")
            .await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert_eq!(s.sim.customer("01", "ABF").unwrap(), before);
    // A missing customer is 404 as on a read.
    let resp = s
        .send_entry(
            Method::PUT,
            "AR_Customer(01;NOPE)",
            &entry_body(&[("ContactCode", "JSMITH")]),
        )
        .await;
    assert_diagnosis(resp, 404, "ApplicationDiagnosis").await;
    // Faults apply to PUT too.
    s.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_diagnosis(
        put(&s, &[("PrimaryShipToCode", "WH1")]).await,
        500,
        "ApplicationDiagnosis",
    )
    .await;
    assert_eq!(s.sim.customer("01", "ABF").unwrap(), before);
}

#[tokio::test]
async fn a_blank_value_clears_the_pointer() {
    let s = with_parts(Sage100Config::default()).await;
    assert_eq!(put(&s, &[("PrimaryShipToCode", "WH1")]).await.status(), 200);
    assert_eq!(s.sim.primary_ship_to("01", "ABF").as_deref(), Some("WH1"));
    assert_eq!(put(&s, &[("PrimaryShipToCode", "")]).await.status(), 200);
    assert_eq!(s.sim.primary_ship_to("01", "ABF"), None);
}

#[tokio::test]
async fn replace_semantics_clear_what_is_left_out() {
    let s = with_parts(Sage100Config {
        put_semantics: PutSemantics::Replace,
        ..Sage100Config::default()
    })
    .await;
    let before = s.sim.customer("01", "ABF").unwrap();
    assert!(before.get("CustomerName").is_some());
    assert_eq!(put(&s, &[("PrimaryShipToCode", "WH1")]).await.status(), 200);
    let after = s.sim.customer("01", "ABF").unwrap();
    assert_eq!(after.get("PrimaryShipToCode"), Some("WH1"));
    assert_eq!(after.get("CustomerName"), None);
    assert_eq!(after.get("SalespersonNo"), None);
    // The key and the balance the server maintains stay.
    assert_eq!(after.get("CustomerNo"), Some("ABF"));
    assert_eq!(after.get("CurrentBalance"), before.get("CurrentBalance"));
}
