//! `SO_ShipToAddress`: create, duplicates, unknown customers, lengths, one by selector, a
//! customer's feed, and a fault on create.

use crm2sage_sage_simulator::{
    DropAfterCommit, DuplicateStatus, Faults, Sage100Config, Sage100Resource,
};
use reqwest::Method;

use crate::helpers::{Sim, assert_diagnosis, column, columns, entry_of, link, ok_xml, opensearch};

const KIND: &str = "SO_ShipToAddress";

fn ship_to<'a>(customer: &'a str, code: &'a str, extra: &[(&'a str, &'a str)]) -> String {
    let mut cols = vec![
        ("ARDivisionNo", "01"),
        ("CustomerNo", customer),
        ("ShipToCode", code),
        ("ShipToName", "Main Warehouse"),
        ("ShipToAddress1", "1 Dock Road"),
        ("ShipToCity", "Milwaukee"),
        ("ShipToState", "WI"),
        ("ShipToZipCode", "53202"),
        ("ShipToCountryCode", "USA"),
        ("TelephoneNo", "414-555-0100"),
        ("EmailAddress", "dock@example.com"),
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
async fn create_then_read_one() {
    let s = Sim::default().await;
    let resp = s
        .send_entry(Method::POST, KIND, &ship_to("ABF", "wh1", &[]))
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.ends_with("/SO_ShipToAddress(01;ABF;WH1)"),
        "{location}"
    );
    let entry = ok_xml(resp).await;
    assert_eq!(column(&entry, "ShipToCode").as_deref(), Some("WH1"));
    assert_eq!(
        column(&entry, "ShipToName").as_deref(),
        Some("Main Warehouse")
    );
    assert_eq!(column(&entry, "ShipToAddress2"), None);

    let got = ok_xml(s.get_url(&location).await).await;
    assert_eq!(column(&got, "ShipToCity").as_deref(), Some("Milwaukee"));
    let got = s.get_xml("SO_ShipToAddress(01;ABF;WH1)").await;
    assert_eq!(
        column(&got, "EmailAddress").as_deref(),
        Some("dock@example.com")
    );
    assert_eq!(
        crate::helpers::resource(&got).attr("sdata:key"),
        Some("01;ABF;WH1")
    );
    let stored = s.sim.ship_to("01", "ABF", "WH1").unwrap();
    assert_eq!(stored.get("ShipToZipCode"), Some("53202"));
    assert_eq!(s.sim.ship_tos("01", "ABF").len(), 1);
    assert_eq!(s.sim.creates(Sage100Resource::ShipToAddresses), 1);
    assert_eq!(s.sim.creates(Sage100Resource::Customers), 0);
}

#[tokio::test]
async fn missing_ship_to_is_404() {
    let s = Sim::default().await;
    let message = assert_diagnosis(
        s.get("SO_ShipToAddress(01;ABF;NOPE)").await,
        404,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(message.contains("not found"), "{message}");
    assert_diagnosis(s.get("SO_ShipToAddress(01;ABF)").await, 400, "BadUrlSyntax").await;
}

#[tokio::test]
async fn duplicate_is_refused_like_a_duplicate_customer() {
    let s = Sim::default().await;
    let body = ship_to("ABF", "WH1", &[]);
    assert_eq!(s.send_entry(Method::POST, KIND, &body).await.status(), 201);
    let message = assert_diagnosis(
        s.send_entry(Method::POST, KIND, &body).await,
        409,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(s.sim.creates(Sage100Resource::ShipToAddresses), 1);

    let s = Sim::start(Sage100Config {
        duplicate_status: DuplicateStatus::BadRequest400,
        ..Sage100Config::default()
    })
    .await;
    assert_eq!(s.send_entry(Method::POST, KIND, &body).await.status(), 201);
    let message = assert_diagnosis(
        s.send_entry(Method::POST, KIND, &body).await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(message.contains("already exists"), "{message}");
}

#[tokio::test]
async fn unknown_customer_is_not_on_file() {
    let s = Sim::default().await;
    let message = assert_diagnosis(
        s.send_entry(Method::POST, KIND, &ship_to("ZZZ", "WH1", &[]))
            .await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(
        message.contains("01-ZZZ") && message.contains("not on file"),
        "{message}"
    );
    assert!(s.sim.ship_tos("01", "ZZZ").is_empty());
    assert_eq!(s.sim.creates(Sage100Resource::ShipToAddresses), 0);
}

#[tokio::test]
async fn lengths_and_shape_are_checked() {
    let s = Sim::default().await;
    for (col, max) in [
        ("ShipToCode", 4),
        ("ShipToName", 30),
        ("ShipToAddress1", 30),
        ("ShipToCity", 20),
        ("ShipToState", 2),
        ("ShipToZipCode", 10),
        ("ShipToCountryCode", 3),
        ("TelephoneNo", 17),
    ] {
        let long = "X".repeat(max + 1);
        let message = assert_diagnosis(
            s.send_entry(Method::POST, KIND, &ship_to("ABF", "WH1", &[(col, &long)]))
                .await,
            400,
            "ApplicationDiagnosis",
        )
        .await;
        assert!(
            message.contains(col) && message.contains(&format!("{max} character")),
            "{col}: {message}"
        );
    }
    let long_email = format!("{}@example.com", "e".repeat(240));
    assert_diagnosis(
        s.send_entry(
            Method::POST,
            KIND,
            &ship_to("ABF", "WH1", &[("EmailAddress", &long_email)]),
        )
        .await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    // A column the table lacks, no code, a payload of another kind, not XML, wrong media type.
    for body in [
        ship_to("ABF", "WH1", &[("ShipToFax", "1")]),
        ship_to("ABF", "", &[]),
        entry_of(
            "AR_Customer",
            &[("ARDivisionNo", "01"), ("CustomerNo", "ABF")],
        ),
        "<entry><not-closed>".to_owned(),
        String::new(),
    ] {
        assert_diagnosis(
            s.send_entry(Method::POST, KIND, &body).await,
            400,
            "ApplicationDiagnosis",
        )
        .await;
    }
    let resp = s
        .req(Method::POST, &s.url(KIND))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_diagnosis(resp, 415, "ApplicationDiagnosis").await;
    assert!(s.sim.ship_tos("01", "ABF").is_empty());
    // At the limits it is taken.
    let resp = s
        .send_entry(
            Method::POST,
            KIND,
            &ship_to("ABF", "WXYZ", &[("ShipToName", &"N".repeat(30))]),
        )
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn a_customers_feed_pages() {
    let s = Sim::start(Sage100Config {
        page_size: 2,
        ..Sage100Config::default()
    })
    .await;
    for code in ["A1", "A2", "A3", "A4", "A5"] {
        let resp = s
            .send_entry(Method::POST, KIND, &ship_to("ABF", code, &[]))
            .await;
        assert_eq!(resp.status(), 201);
    }
    let resp = s
        .send_entry(Method::POST, KIND, &ship_to("AVNET", "B1", &[]))
        .await;
    assert_eq!(resp.status(), 201);

    let mut feed = s
        .get_xml("SO_ShipToAddress?where=ARDivisionNo eq '01' and CustomerNo eq 'ABF'")
        .await;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (total, _, per_page) = opensearch(&feed);
        assert_eq!((total, per_page), (5, 2));
        seen.extend(columns(&feed, "ShipToCode"));
        pages += 1;
        let Some(next) = link(&feed, "next").map(str::to_owned) else {
            break;
        };
        feed = ok_xml(s.get_url(&next).await).await;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["A1", "A2", "A3", "A4", "A5"]);
    let other = s
        .get_xml("SO_ShipToAddress?where=ARDivisionNo eq '01' and CustomerNo eq 'AVNET'")
        .await;
    assert_eq!(columns(&other, "ShipToCode"), ["B1"]);
    assert_eq!(s.sim.ship_tos("01", "ABF").len(), 5);
}

#[tokio::test]
async fn a_ship_to_create_goes_through_the_faults() {
    let s = Sim::default().await;
    s.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_diagnosis(
        s.send_entry(Method::POST, KIND, &ship_to("ABF", "WH1", &[]))
            .await,
        500,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(s.sim.ship_tos("01", "ABF").is_empty());

    s.sim.set_faults(Faults {
        drop_after_commit: DropAfterCommit::Next(1),
        ..Faults::default()
    });
    let result = s
        .req(Method::POST, &s.url(KIND))
        .header("Content-Type", "application/atom+xml; type=entry")
        .body(ship_to("ABF", "WH1", &[]))
        .send()
        .await;
    let err = result.expect_err("the connection is dropped");
    assert!(err.status().is_none(), "{err:?}");
    assert!(s.sim.ship_to("01", "ABF", "WH1").is_some());
    assert_eq!(s.sim.creates(Sage100Resource::ShipToAddresses), 1);
    assert_eq!(s.sim.faults().drop_after_commit, DropAfterCommit::Never);
    assert_diagnosis(
        s.send_entry(Method::POST, KIND, &ship_to("ABF", "WH1", &[]))
            .await,
        409,
        "ApplicationDiagnosis",
    )
    .await;
    assert_eq!(s.sim.count_posts_to(KIND), 3);
    assert_eq!(s.sim.count_posts(), 0);
    // Auth applies as well.
    let resp = s
        .client
        .get(s.url(KIND))
        .basic_auth("sdata", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_diagnosis(resp, 401, "ApplicationDiagnosis").await;
}

#[tokio::test]
async fn seeded_ship_tos_are_served() {
    let mut config = Sage100Config::default();
    config.data.ship_tos.push(
        crm2sage_sage_simulator::Sage100Record::new()
            .with("ARDivisionNo", "01")
            .with("CustomerNo", "ABF")
            .with("ShipToCode", "SEED")
            .with("ShipToName", "Seeded"),
    );
    let s = Sim::start(config).await;
    let got = s.get_xml("SO_ShipToAddress(01;ABF;SEED)").await;
    assert_eq!(column(&got, "ShipToName").as_deref(), Some("Seeded"));
    assert_eq!(s.sim.creates(Sage100Resource::ShipToAddresses), 0);
    // A create of the seeded key is a duplicate.
    assert_diagnosis(
        s.send_entry(Method::POST, KIND, &ship_to("ABF", "SEED", &[]))
            .await,
        409,
        "ApplicationDiagnosis",
    )
    .await;
}
