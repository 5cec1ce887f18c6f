//! Issue 21: the customer list the adapter reads (paging, name and DateUpdated filters), `UDF_`
//! columns by PUT, and the test handle's edit / delete / renumber / seed helpers.

use std::time::Instant;

use crm2sage_sage_simulator::{RunningSage100, Sage100Config, Sage100Record, Sage100Resource};
use reqwest::Method;

use crate::helpers::{
    Sim, assert_diagnosis, column, columns, entry_body, link, ok_xml, opensearch,
};
use crate::xml::Node;

fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn number(i: usize) -> String {
    RunningSage100::seeded_customer_number(i)
}

/// Follows `rel="next"` from `first`; returns each page's feed.
async fn pages(s: &Sim, first: &str) -> Vec<Node> {
    let mut url = s.url(first);
    let mut feeds = Vec::new();
    loop {
        let feed = ok_xml(s.get_url(&url).await).await;
        let next = link(&feed, "next").map(str::to_owned);
        feeds.push(feed);
        match next {
            Some(n) => url = n,
            None => break,
        }
        assert!(feeds.len() < 1000, "runaway paging");
    }
    feeds
}

async fn customer_numbers(s: &Sim, where_text: &str) -> Vec<String> {
    let feed = s
        .get_xml(&format!("AR_Customer?where={}", enc(where_text)))
        .await;
    columns(&feed, "CustomerNo")
}

#[tokio::test]
async fn pages_250_customers_by_next_links() {
    let s = Sim::default().await;
    s.sim.seed_customers("01", 250, 1);
    let feeds = pages(
        &s,
        &format!(
            "AR_Customer?where={}&select=CustomerNo,CustomerName,DateUpdated",
            enc("ARDivisionNo eq '01' and CustomerNo ge 'S'")
        ),
    )
    .await;
    let mut all = Vec::new();
    for (i, feed) in feeds.iter().enumerate() {
        let (total, start, per_page) = opensearch(feed);
        assert_eq!((total, start, per_page), (250, 1 + 100 * i, 100));
        all.extend(columns(feed, "CustomerNo"));
    }
    assert_eq!(feeds.len(), 3);
    assert_eq!(feeds[2].all("entry").len(), 50);
    let expected: Vec<String> = (1..=250).map(number).collect();
    assert_eq!(all, expected);
    let next = link(&feeds[0], "next").unwrap();
    assert!(next.contains("startIndex=101"), "{next}");
    assert!(next.contains("where="), "{next}");

    // Unfiltered: the demo's three customers first, in key order; count caps the page.
    let feed = s.get_xml("AR_Customer?count=5&startIndex=1").await;
    assert_eq!(opensearch(&feed).0, 253);
    assert_eq!(
        columns(&feed, "CustomerNo"),
        ["0000001", "ABF", "AVNET", "S000001", "S000002"]
    );
}

#[tokio::test]
async fn name_filter_takes_a_doubled_quote() {
    let s = Sim::default().await;
    s.sim.seed_customers("01", 20, 1);
    assert!(
        s.sim
            .edit_customer("01", &number(7), &[("CustomerName", Some("O'Brien"))])
    );
    assert!(s.sim.edit_customer(
        "01",
        &number(8),
        &[("CustomerName", Some("O'Brien Supply"))]
    ));
    assert_eq!(
        customer_numbers(&s, "CustomerName eq 'O''Brien'").await,
        [number(7)]
    );
    let feed = s
        .get_xml(&format!(
            "AR_Customer?where={}",
            enc("CustomerName eq 'O''Brien'")
        ))
        .await;
    assert_eq!(columns(&feed, "CustomerName"), ["O'Brien"]);
    let resp = s
        .get(&format!(
            "AR_Customer?where={}",
            enc("CustomerName eq 'O'Brien'")
        ))
        .await;
    assert_diagnosis(resp, 400, "BadWhereSyntax").await;
}

#[tokio::test]
async fn date_updated_filters_by_date_literal_or_quoted_text() {
    let s = Sim::default().await;
    for (no, date) in [
        ("ABF", "2026-12-02"),
        ("AVNET", "2026-11-30"),
        ("S000001", "2026-12-01"),
    ] {
        if no.starts_with('S') {
            s.sim.seed_customers("01", 1, 1);
        }
        assert!(
            s.sim
                .edit_customer("01", no, &[("DateUpdated", Some(date))])
        );
    }
    assert!(
        s.sim
            .edit_customer("00", "0000001", &[("DateUpdated", Some("2020-01-01"))])
    );
    for (w, expected) in [
        ("DateUpdated ge @2026-12-01@", &["ABF", "S000001"][..]),
        ("DateUpdated ge '2026-12-01'", &["ABF", "S000001"][..]),
        ("DateUpdated gt @2026-12-01@", &["ABF"][..]),
        ("DateUpdated lt @2026-12-01@", &["0000001", "AVNET"][..]),
        (
            "DateUpdated ge @2026-12-01@ and CustomerName eq 'American Business Futures'",
            &["ABF"][..],
        ),
    ] {
        assert_eq!(customer_numbers(&s, w).await, expected, "{w}");
    }
    let feed = s
        .get_xml(&format!("AR_Customer?where={}", enc("CustomerNo eq 'ABF'")))
        .await;
    assert_eq!(columns(&feed, "DateUpdated"), ["2026-12-02"]);
    for bad in ["DateUpdated ge @2026-12-1@", "DateUpdated ge 20261201"] {
        let resp = s.get(&format!("AR_Customer?where={}", enc(bad))).await;
        assert_diagnosis(resp, 400, "BadWhereSyntax").await;
    }
}

#[tokio::test]
async fn a_put_sets_udf_columns_and_today_as_date_updated() {
    let s = Sim::default().await;
    for (div, no) in [("00", "0000001"), ("01", "ABF"), ("01", "AVNET")] {
        assert!(
            s.sim
                .edit_customer(div, no, &[("DateUpdated", Some("2020-06-01"))])
        );
    }
    let resp = s
        .send_entry(
            Method::PUT,
            "AR_Customer(01;AVNET)",
            &entry_body(&[("UDF_CRM_ID", "ACC-0042"), ("UDF_SEGMENT", "Retail")]),
        )
        .await;
    let entry = ok_xml(resp).await;
    assert_eq!(column(&entry, "UDF_CRM_ID").as_deref(), Some("ACC-0042"));
    let today = column(&entry, "DateUpdated").unwrap();
    assert_eq!(today.len(), 10, "{today}");
    assert!(today.as_str() > "2020-06-01", "{today}");
    let row = s.sim.customer("01", "AVNET").unwrap();
    assert_eq!(row.get("UDF_CRM_ID"), Some("ACC-0042"));
    assert_eq!(row.get("UDF_SEGMENT"), Some("Retail"));
    assert_eq!(row.get("CustomerName"), Some("Avnet Processing Corp"));

    // The customer changed today shows up in the DateUpdated filter; the others do not.
    let w = format!("DateUpdated ge @{today}@");
    assert_eq!(customer_numbers(&s, &w).await, ["AVNET"]);
    assert_eq!(
        customer_numbers(&s, "UDF_CRM_ID eq 'ACC-0042'").await,
        ["AVNET"]
    );

    // A second PUT of one UDF changes only it.
    let resp = s
        .send_entry(
            Method::PUT,
            "AR_Customer(01;AVNET)",
            &entry_body(&[("UDF_CRM_ID", "ACC-0043")]),
        )
        .await;
    ok_xml(resp).await;
    let row = s.sim.customer("01", "AVNET").unwrap();
    assert_eq!(row.get("UDF_CRM_ID"), Some("ACC-0043"));
    assert_eq!(row.get("UDF_SEGMENT"), Some("Retail"));
}

#[tokio::test]
async fn reject_date_filter_refuses_only_date_updated() {
    let s = Sim::start(Sage100Config {
        reject_date_filter: true,
        ..Sage100Config::default()
    })
    .await;
    let resp = s
        .get(&format!(
            "AR_Customer?where={}",
            enc("DateUpdated ge @2026-12-01@")
        ))
        .await;
    let message = assert_diagnosis(resp, 400, "BadWhereSyntax").await;
    assert!(message.contains("DateUpdated"), "{message}");
    assert_eq!(
        customer_numbers(&s, "CustomerName eq 'Avnet Processing Corp'").await,
        ["AVNET"]
    );
}

#[tokio::test]
async fn delete_and_renumber_customers() {
    let s = Sim::default().await;
    s.sim.insert_record(
        Sage100Resource::ShipToAddresses,
        Sage100Record::from_pairs(&[
            ("ARDivisionNo", "01"),
            ("CustomerNo", "ABF"),
            ("ShipToCode", "WH1"),
            ("ShipToName", "Warehouse"),
        ]),
    );
    assert!(s.sim.edit_customer(
        "01",
        "ABF",
        &[
            ("PrimaryShipToCode", Some("WH1")),
            ("UDF_CRM_ID", Some("ACC-1"))
        ]
    ));
    let before = s.sim.customer("01", "ABF").unwrap();

    assert!(s.sim.delete_customer("01", "AVNET"));
    assert!(!s.sim.delete_customer("01", "AVNET"), "already gone");
    let resp = s.get("AR_Customer(01;AVNET)").await;
    assert_eq!(resp.status(), 404);
    assert_eq!(s.sim.customer_count(), 2);

    assert!(!s.sim.renumber_customer("01", "NOPE", "X1"), "not on file");
    s.sim.seed_customers("01", 1, 5);
    assert!(!s.sim.renumber_customer("01", "ABF", &number(5)), "taken");
    assert!(s.sim.renumber_customer("01", "ABF", "ABF2"));
    assert_eq!(s.get("AR_Customer(01;ABF)").await.status(), 404);
    let entry = ok_xml(s.get("AR_Customer(01;ABF2)").await).await;
    assert_eq!(
        column(&entry, "CustomerName").as_deref(),
        Some("American Business Futures")
    );
    assert_eq!(column(&entry, "PrimaryShipToCode").as_deref(), Some("WH1"));
    assert_eq!(column(&entry, "UDF_CRM_ID").as_deref(), Some("ACC-1"));
    let after = s.sim.customer("01", "ABF2").unwrap();
    assert_eq!(after.get("DateUpdated"), before.get("DateUpdated"), "kept");
    assert!(s.sim.ship_tos("01", "ABF").is_empty());
    assert_eq!(s.sim.ship_tos("01", "ABF2").len(), 1);
    assert_eq!(
        customer_numbers(&s, "ARDivisionNo eq '01'").await,
        ["ABF2", number(5).as_str()]
    );
    assert!(
        !s.sim
            .edit_customer("01", "ABF", &[("CreditHold", Some("Y"))])
    );
}

#[tokio::test]
async fn seed_100_000_then_first_and_last_pages() {
    let s = Sim::start(Sage100Config {
        page_size: 500,
        ..Sage100Config::default()
    })
    .await;
    let started = Instant::now();
    s.sim.seed_customers("01", 100_000, 1);
    let seeded = started.elapsed();
    assert_eq!(s.sim.customer_count(), 100_003);
    assert!(seeded.as_secs() < 20, "seeding took {seeded:?}");

    let started = Instant::now();
    let q = "AR_Customer?select=CustomerNo,CustomerName,TelephoneNo,EmailAddress,ZipCode";
    let first = s.get_xml(&format!("{q}&count=500")).await;
    assert_eq!(opensearch(&first), (100_003, 1, 500));
    let entries = first.all("entry");
    assert_eq!(entries.len(), 500);
    let third = entries[3];
    assert_eq!(column(third, "CustomerNo").unwrap(), number(1));
    assert_eq!(
        column(third, "CustomerName").as_deref(),
        Some("Customer 000001 Inc.")
    );
    assert_eq!(
        column(third, "TelephoneNo").as_deref(),
        Some("555-000-0001")
    );
    assert_eq!(
        column(third, "EmailAddress").as_deref(),
        Some("customer000001@example.com")
    );
    assert_eq!(column(third, "ZipCode").unwrap().len(), 5);

    let last = s.get_xml(&format!("{q}&count=500&startIndex=100001")).await;
    assert_eq!(
        columns(&last, "CustomerNo"),
        [number(99_998), number(99_999), number(100_000)]
    );
    assert!(link(&last, "next").is_none());

    let mut seen = 0;
    for start in (1..=100_003).step_by(500) {
        let feed = s
            .get_xml(&format!("{q}&count=500&startIndex={start}"))
            .await;
        seen += feed.all("entry").len();
    }
    assert_eq!(seen, 100_003);
    let listed = started.elapsed();
    assert!(listed.as_secs() < 60, "listing took {listed:?}");
    eprintln!("seed 100,000: {seeded:?}; list 201 pages of 500: {listed:?}");
}
