//! `AR_CustomerContact`: create, duplicates, unknown customers, lengths, one by selector and a
//! customer's feed.

use crm2sage_sage_simulator::{Sage100Config, Sage100Resource};
use reqwest::Method;

use crate::helpers::{Sim, assert_diagnosis, column, columns, entry_of, link, ok_xml};

const KIND: &str = "AR_CustomerContact";

fn contact<'a>(customer: &'a str, code: &'a str, extra: &[(&'a str, &'a str)]) -> String {
    let mut cols = vec![
        ("ARDivisionNo", "01"),
        ("CustomerNo", customer),
        ("ContactCode", code),
        ("ContactName", "Jane Smith"),
        ("ContactTitle", "Buyer"),
        ("TelephoneNo1", "414-555-0101"),
        ("EmailAddress", "jane@example.com"),
    ];
    for (c, v) in extra {
        if let Some(slot) = cols.iter_mut().find(|(n, _)| n == c) {
            slot.1 = v;
        } else {
            cols.push((c, v));
        }
    }
    entry_of(KIND, &cols)
}

#[tokio::test]
async fn create_get_and_list() {
    let s = Sim::start(Sage100Config {
        page_size: 2,
        ..Sage100Config::default()
    })
    .await;
    let resp = s
        .send_entry(Method::POST, KIND, &contact("ABF", "JSMITH", &[]))
        .await;
    assert_eq!(resp.status(), 201);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/AR_CustomerContact(01;ABF;JSMITH)")
    );
    let got = s.get_xml("AR_CustomerContact(01;ABF;JSMITH)").await;
    assert_eq!(column(&got, "ContactTitle").as_deref(), Some("Buyer"));
    assert_eq!(
        column(&got, "TelephoneNo1").as_deref(),
        Some("414-555-0101")
    );
    assert_diagnosis(
        s.get("AR_CustomerContact(01;ABF;NOBODY)").await,
        404,
        "ApplicationDiagnosis",
    )
    .await;

    for code in ["AP", "OWNER"] {
        let resp = s
            .send_entry(Method::POST, KIND, &contact("ABF", code, &[]))
            .await;
        assert_eq!(resp.status(), 201);
    }
    let resp = s
        .send_entry(Method::POST, KIND, &contact("AVNET", "AP", &[]))
        .await;
    assert_eq!(resp.status(), 201);
    let feed = s
        .get_xml("AR_CustomerContact?where=ARDivisionNo eq '01' and CustomerNo eq 'ABF'")
        .await;
    assert_eq!(columns(&feed, "ContactCode"), ["AP", "JSMITH"]);
    let next = link(&feed, "next").unwrap().to_owned();
    let feed = ok_xml(s.get_url(&next).await).await;
    assert_eq!(columns(&feed, "ContactCode"), ["OWNER"]);
    assert!(link(&feed, "next").is_none());

    let codes: Vec<String> = s
        .sim
        .contacts("01", "ABF")
        .iter()
        .map(|r| r.get("ContactCode").unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["AP", "JSMITH", "OWNER"]);
    assert!(s.sim.contact("01", "AVNET", "AP").is_some());
    assert_eq!(s.sim.creates(Sage100Resource::CustomerContacts), 4);
}

#[tokio::test]
async fn contact_refusals() {
    let s = Sim::default().await;
    let body = contact("ABF", "JSMITH", &[]);
    assert_eq!(s.send_entry(Method::POST, KIND, &body).await.status(), 201);
    let message = assert_diagnosis(
        s.send_entry(Method::POST, KIND, &body).await,
        409,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(message.contains("already exists"), "{message}");
    let message = assert_diagnosis(
        s.send_entry(Method::POST, KIND, &contact("NOPE", "JSMITH", &[]))
            .await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(
        message.contains("01-NOPE") && message.contains("not on file"),
        "{message}"
    );
    for (col, max) in [
        ("ContactCode", 10),
        ("ContactName", 30),
        ("ContactTitle", 30),
        ("TelephoneNo1", 17),
    ] {
        let long = "X".repeat(max + 1);
        let message = assert_diagnosis(
            s.send_entry(Method::POST, KIND, &contact("ABF", "NEW", &[(col, &long)]))
                .await,
            400,
            "ApplicationDiagnosis",
        )
        .await;
        assert!(message.contains(col), "{col}: {message}");
    }
    assert_diagnosis(
        s.send_entry(Method::POST, KIND, &contact("ABF", "BAD;CODE", &[]))
            .await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert_eq!(s.sim.contacts("01", "ABF").len(), 1);
    assert_eq!(s.sim.creates(Sage100Resource::CustomerContacts), 1);
}
