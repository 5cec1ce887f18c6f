//! Issue 21: the customer list the adapter reads (paging, name and last-maintained filters),
//! optional fields by PATCH, and the test handle's edit / delete / renumber / seed helpers.

use std::time::Instant;

use crm2sage_sage_simulator::{RunningSage300, Sage300Config, Sage300Resource};
use reqwest::{Method, Url};
use serde_json::{Map, Value, json};

use crate::helpers::{Sim, assert_error, json_of, strings, values};

/// `$filter=` text, percent-encoded for a URL.
fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn number(i: usize) -> String {
    RunningSage300::seeded_customer_number(i)
}

async fn patch(s: &Sim, key: &str, body: &Value) -> reqwest::Response {
    s.req(Method::PATCH, &s.url(&format!("AR/ARCustomers('{key}')")))
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// Follows `@odata.nextLink` from `first`; returns each page's customer numbers and the last
/// page's body.
async fn pages(s: &Sim, first: &str) -> (Vec<Vec<String>>, Vec<Value>) {
    let mut url = Url::parse(&s.url(first)).unwrap();
    let (mut numbers, mut bodies) = (Vec::new(), Vec::new());
    loop {
        let (st, body) = json_of(s.req(Method::GET, url.as_str()).send().await.unwrap()).await;
        assert_eq!(st, 200, "{url}: {body}");
        numbers.push(strings(&body, "CustomerNumber"));
        let next = body["@odata.nextLink"].as_str().map(str::to_owned);
        bodies.push(body);
        match next {
            Some(n) => url = url.join(&n).unwrap(),
            None => break,
        }
        assert!(numbers.len() < 1000, "runaway paging");
    }
    (numbers, bodies)
}

#[tokio::test]
async fn pages_250_customers_by_next_link_in_number_order() {
    let s = Sim::start(Sage300Config::default()).await;
    s.sim.seed_customers(250, 1);
    let filter = enc("startswith(CustomerNumber,'S')");
    let (numbers, bodies) = pages(
        &s,
        &format!(
            "AR/ARCustomers?$select=CustomerNumber,CustomerName,DateLastMaintained&$orderby=CustomerNumber&$count=true&$filter={filter}"
        ),
    )
    .await;
    let sizes: Vec<usize> = numbers.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 50]);
    for body in &bodies {
        assert_eq!(body["@odata.count"], 250, "every page carries the count");
        let first = &values(body)[0];
        assert_eq!(
            first.as_object().unwrap().len(),
            3,
            "$select applies: {first}"
        );
    }
    let all: Vec<String> = numbers.concat();
    let expected: Vec<String> = (1..=250).map(number).collect();
    assert_eq!(all, expected);
    let link = bodies[0]["@odata.nextLink"].as_str().unwrap();
    assert!(link.contains("$skip=100"), "{link}");
    assert!(link.contains("$orderby=CustomerNumber"), "{link}");

    // Without a filter the demo's four customers come first (key order), and $top caps it.
    let (_, body) = s
        .get_json(
            "AR/ARCustomers?$orderby=CustomerNumber&$count=true&$top=6&$select=CustomerNumber",
        )
        .await;
    assert_eq!(
        strings(&body, "CustomerNumber"),
        ["1100", "1105", "1200", "BCCUST", "S000001", "S000002"]
    );
    assert_eq!(body["@odata.count"], 254);
    // Descending order sorts.
    let (_, body) = s
        .get_json("AR/ARCustomers?$orderby=CustomerNumber%20desc&$top=2&$select=CustomerNumber")
        .await;
    assert_eq!(strings(&body, "CustomerNumber"), ["S000250", "S000249"]);
}

#[tokio::test]
async fn a_write_between_pages_is_seen_by_the_next_page() {
    let s = Sim::start(Sage300Config::default()).await;
    s.sim.seed_customers(150, 1);
    let q = "AR/ARCustomers?$select=CustomerNumber&$orderby=CustomerNumber&$count=true";
    let (_, first) = s.get_json(q).await;
    assert_eq!(first["@odata.count"], 154);
    assert!(s.sim.delete_customer(&number(150)));
    let (_, second) = s.get_json(&format!("{q}&$skip=100")).await;
    assert_eq!(second["@odata.count"], 153);
    assert_eq!(values(&second).len(), 53);
}

#[tokio::test]
async fn name_filter_takes_a_doubled_quote() {
    let s = Sim::default().await;
    s.sim.seed_customers(20, 1);
    assert!(
        s.sim
            .edit_customer(&number(7), [("CustomerName", json!("O'Brien"))])
    );
    assert!(
        s.sim
            .edit_customer(&number(8), [("CustomerName", json!("O'Brien Supply"))])
    );
    let filter = enc("CustomerName eq 'O''Brien'");
    let (st, body) = s
        .get_json(&format!(
            "AR/ARCustomers?$filter={filter}&$select=CustomerNumber,CustomerName"
        ))
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(strings(&body, "CustomerNumber"), [number(7)]);
    assert_eq!(strings(&body, "CustomerName"), ["O'Brien"]);

    let filter = enc("startswith(CustomerName,'O''Brien')");
    let (_, body) = s
        .get_json(&format!(
            "AR/ARCustomers?$filter={filter}&$select=CustomerNumber"
        ))
        .await;
    assert_eq!(strings(&body, "CustomerNumber"), [number(7), number(8)]);

    // A quote left single is a malformed filter: 400 with the OData error body.
    let filter = enc("CustomerName eq 'O'Brien'");
    let resp = s.get(&format!("AR/ARCustomers?$filter={filter}")).await;
    assert_error(resp, 400, "InvalidParameters").await;
}

#[tokio::test]
async fn last_maintained_filter_compares_instants() {
    let s = Sim::default().await;
    for (no, date) in [
        ("1100", "2026-12-02T00:00:00Z"),
        ("1105", "2026-11-30T00:00:00Z"),
        ("1200", "2026-12-01T00:00:00Z"),
        ("BCCUST", "2020-01-01T00:00:00"),
    ] {
        assert!(
            s.sim
                .edit_customer(no, [("DateLastMaintained", json!(date))])
        );
    }
    let list = |filter: &str| {
        format!(
            "AR/ARCustomers?$filter={}&$select=CustomerNumber,DateLastMaintained&$orderby=CustomerNumber",
            enc(filter)
        )
    };
    for (filter, expected) in [
        (
            "DateLastMaintained ge 2026-12-01T00:00:00Z",
            &["1100", "1200"][..],
        ),
        ("DateLastMaintained gt 2026-12-01T00:00:00Z", &["1100"][..]),
        // The same instant written with an offset.
        (
            "DateLastMaintained ge 2026-12-01T01:00:00+01:00",
            &["1100", "1200"][..],
        ),
        (
            "DateLastMaintained ge datetimeoffset'2026-12-01T00:00:00Z'",
            &["1100", "1200"][..],
        ),
        (
            "DateLastMaintained lt 2026-12-01T00:00:00Z",
            &["1105", "BCCUST"][..],
        ),
        (
            "DateLastMaintained ge 2026-12-01T00:00:00Z and CustomerName eq 'Bargain Mart - San Diego'",
            &["1100"][..],
        ),
    ] {
        let (st, body) = s.get_json(&list(filter)).await;
        assert_eq!(st, 200, "{filter}: {body}");
        assert_eq!(strings(&body, "CustomerNumber"), expected, "{filter}");
    }
    // Rendered as Edm.DateTimeOffset, midnight UTC.
    let (_, body) = s.get_json(&list("CustomerNumber eq 'BCCUST'")).await;
    assert_eq!(
        values(&body)[0]["DateLastMaintained"],
        "2020-01-01T00:00:00Z"
    );

    let resp = s
        .get(&format!(
            "AR/ARCustomers?$filter={}",
            enc("DateLastMaintained ge 2026-13-01T00:00:00Z")
        ))
        .await;
    assert_error(resp, 400, "InvalidParameters").await;
}

#[tokio::test]
async fn a_patched_customer_is_maintained_today() {
    let s = Sim::default().await;
    for no in ["1100", "1105", "1200", "BCCUST"] {
        s.sim
            .edit_customer(no, [("DateLastMaintained", json!("2020-06-01T00:00:00Z"))]);
    }
    let resp = patch(&s, "1105", &json!({"ShortName": "BMLA"})).await;
    assert_eq!(resp.status(), 204);
    let today = s.sim.customer("1105").unwrap()["DateLastMaintained"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(today.len(), 20, "{today}");
    assert!(today.ends_with("T00:00:00Z"), "{today}");
    assert!(today.as_str() > "2020-06-01", "{today}");
    let (_, body) = s
        .get_json(&format!(
            "AR/ARCustomers?$filter={}&$select=CustomerNumber,DateLastMaintained",
            enc(&format!("DateLastMaintained ge {today}"))
        ))
        .await;
    assert_eq!(strings(&body, "CustomerNumber"), ["1105"]);
    assert_eq!(strings(&body, "DateLastMaintained"), [today.as_str()]);

    // A customer created through the API carries it too.
    let (st, created) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "NEW1", "CustomerName": "New One", "GroupCode": "RTL"}),
        )
        .await;
    assert_eq!(st, 201, "{created}");
    assert_eq!(created["DateLastMaintained"], today.as_str());
    // And edit_customer without a date stamps today as well.
    assert!(s.sim.edit_customer("1200", [("OnHold", json!("Yes"))]));
    assert_eq!(
        s.sim.customer("1200").unwrap()["DateLastMaintained"],
        today.as_str()
    );
}

#[tokio::test]
async fn reject_date_filter_refuses_only_the_date() {
    let s = Sim::start(Sage300Config {
        reject_date_filter: true,
        ..Sage300Config::default()
    })
    .await;
    let resp = s
        .get(&format!(
            "AR/ARCustomers?$filter={}",
            enc("DateLastMaintained ge 2026-12-01T00:00:00Z")
        ))
        .await;
    let message = assert_error(resp, 400, "InvalidParameters").await;
    assert!(message.contains("DateLastMaintained"), "{message}");
    let (st, body) = s
        .get_json(&format!(
            "AR/ARCustomers?$filter={}",
            enc("CustomerName eq 'Mr. Ronald Black'")
        ))
        .await;
    assert_eq!(st, 200);
    assert_eq!(strings(&body, "CustomerNumber"), ["1200"]);
}

fn optional(rec: &Map<String, Value>) -> Vec<(String, String, String)> {
    rec["CustomerOptionalFieldValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["OptionalField"].as_str().unwrap().to_owned(),
                f["Value"].as_str().unwrap().to_owned(),
                f["CustomerOptionalFieldValueType"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn patch_upserts_one_optional_field_and_keeps_the_others() {
    let s = Sim::default().await;
    assert!(s.sim.edit_customer(
        "1200",
        [
            (
                "CustomerOptionalFieldValues",
                json!([
                    {"CustomerNumber": "1200", "OptionalField": "CREDTWARNING", "Value": "0", "CustomerOptionalFieldValueType": "YesNo"},
                    {"CustomerNumber": "1200", "OptionalField": "UPSZONE", "Value": "RED", "CustomerOptionalFieldValueType": "Text"},
                ]),
            ),
            ("DateLastMaintained", json!("2020-01-01T00:00:00Z")),
        ],
    ));
    let resp = patch(
        &s,
        "1200",
        &json!({"CustomerOptionalFieldValues": [
            {"OptionalField": "upszone", "Value": "BLUE"},
            {"OptionalField": "CRMID", "Value": "ACC-0042"},
        ]}),
    )
    .await;
    assert_eq!(resp.status(), 204);
    let (_, rec) = s.get_json("AR/ARCustomers('1200')").await;
    let rec = rec.as_object().unwrap();
    assert_eq!(
        optional(rec),
        [
            ("CREDTWARNING".into(), "0".into(), "YesNo".into()),
            ("UPSZONE".into(), "BLUE".into(), "Text".into()),
            ("CRMID".into(), "ACC-0042".into(), "Text".into()),
        ]
    );
    let fields = rec["CustomerOptionalFieldValues"].as_array().unwrap();
    assert_eq!(fields[1]["TextValue"], "BLUE");
    assert_eq!(fields[2]["CustomerNumber"], "1200");
    assert_eq!(rec["NumberOfOptionalFields"], 3);
    assert_ne!(rec["DateLastMaintained"], "2020-01-01T00:00:00Z");
    assert_eq!(rec["CustomerName"], "Mr. Ronald Black", "the rest is kept");

    // Patching it again with the same value keeps one row.
    let resp = patch(
        &s,
        "1200",
        &json!({"CustomerOptionalFieldValues": [{"OptionalField": "CRMID", "Value": "ACC-0043"}]}),
    )
    .await;
    assert_eq!(resp.status(), 204);
    let rec = s.sim.customer("1200").unwrap();
    assert_eq!(
        optional(&rec)[2],
        ("CRMID".into(), "ACC-0043".into(), "Text".into())
    );
    assert_eq!(rec["NumberOfOptionalFields"], 3);

    // UpdateOperation Delete removes one.
    let resp = patch(
        &s,
        "1200",
        &json!({"CustomerOptionalFieldValues": [{"OptionalField": "CREDTWARNING", "UpdateOperation": "Delete"}]}),
    )
    .await;
    assert_eq!(resp.status(), 204);
    let rec = s.sim.customer("1200").unwrap();
    let codes: Vec<String> = optional(&rec).into_iter().map(|f| f.0).collect();
    assert_eq!(codes, ["UPSZONE", "CRMID"]);

    // Malformed items are refused (400, nothing changes).
    for bad in [
        json!({"CustomerOptionalFieldValues": {"OptionalField": "X"}}),
        json!({"CustomerOptionalFieldValues": [{"Value": "no code"}]}),
        json!({"CustomerOptionalFieldValues": [{"OptionalField": "X", "Bogus": 1}]}),
        json!({"CustomerOptionalFieldValues": [1]}),
    ] {
        assert_error(patch(&s, "1200", &bad).await, 400, "InvalidPayload").await;
    }
    assert_eq!(s.sim.customer("1200").unwrap()["NumberOfOptionalFields"], 2);
}

#[tokio::test]
async fn delete_and_renumber_customers() {
    let s = Sim::default().await;
    s.sim.insert_record(
        Sage300Resource::ShipToLocations,
        json!({"CustomerNumber": "1200", "ShipToLocationKey": "WH1", "ShipToLocationName": "Warehouse"})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert!(
        s.sim
            .edit_customer("1200", [("PrimaryShipToLocation", json!("WH1"))])
    );
    let maintained = s.sim.customer("1200").unwrap()["DateLastMaintained"].clone();

    assert!(s.sim.delete_customer("1105"));
    assert!(!s.sim.delete_customer("1105"), "already gone");
    assert_error(s.get("AR/ARCustomers('1105')").await, 404, "RecordNotFound").await;
    assert_eq!(s.sim.customer_count(), 3);

    assert!(!s.sim.renumber_customer("1200", "1100"), "taken");
    assert!(!s.sim.renumber_customer("NOPE", "X1"), "not on file");
    assert!(s.sim.renumber_customer("1200", "1200-NEW"));
    assert_error(s.get("AR/ARCustomers('1200')").await, 404, "RecordNotFound").await;
    let (st, rec) = s.get_json("AR/ARCustomers('1200-NEW')").await;
    assert_eq!(st, 200, "{rec}");
    assert_eq!(rec["CustomerName"], "Mr. Ronald Black");
    assert_eq!(rec["PrimaryShipToLocation"], "WH1");
    assert_eq!(rec["DateLastMaintained"], maintained, "the date is kept");
    assert!(s.sim.ship_tos("1200").is_empty());
    let moved = s.sim.ship_tos("1200-NEW");
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["PrimaryShipToIndicator"], "Yes");
    let (_, body) = s
        .get_json("AR/ARCustomers?$select=CustomerNumber&$orderby=CustomerNumber")
        .await;
    assert_eq!(
        strings(&body, "CustomerNumber"),
        ["1100", "1200-NEW", "BCCUST"]
    );
    assert!(!s.sim.edit_customer("1200", [("OnHold", json!("Yes"))]));
}

#[tokio::test]
async fn seed_100_000_then_first_and_last_pages() {
    let s = Sim::start(Sage300Config {
        page_size: 500,
        ..Sage300Config::default()
    })
    .await;
    let started = Instant::now();
    s.sim.seed_customers(100_000, 1);
    let seeded = started.elapsed();
    assert_eq!(s.sim.customer_count(), 100_004);
    assert!(seeded.as_secs() < 20, "seeding took {seeded:?}");

    let q = "AR/ARCustomers?$select=CustomerNumber,CustomerName,PhoneNumber,Email,ZipPostalCode&$orderby=CustomerNumber&$count=true";
    let started = Instant::now();
    let (st, first) = s.get_json(q).await;
    assert_eq!(st, 200);
    assert_eq!(first["@odata.count"], 100_004);
    let rows = values(&first);
    assert_eq!(rows.len(), 500);
    assert_eq!(rows[4]["CustomerNumber"], "S000001");
    assert_eq!(rows[4]["CustomerName"], "Customer 000001 Inc.");
    assert_eq!(rows[4]["PhoneNumber"], "555-000-0001");
    assert_eq!(rows[4]["Email"], "customer000001@example.com");
    assert_eq!(rows[4]["ZipPostalCode"].as_str().unwrap().len(), 5);
    assert_ne!(rows[4]["ZipPostalCode"], rows[5]["ZipPostalCode"]);

    let (_, last) = s.get_json(&format!("{q}&$skip=100000")).await;
    assert_eq!(
        strings(&last, "CustomerNumber"),
        [
            number(99_997),
            number(99_998),
            number(99_999),
            number(100_000)
        ]
    );
    assert!(last.get("@odata.nextLink").is_none());

    // Every page in turn: one scan for the query, then each page is a slice of it.
    let mut seen = 0;
    for skip in (0..100_004).step_by(500) {
        let (_, page) = s.get_json(&format!("{q}&$skip={skip}")).await;
        seen += values(&page).len();
    }
    assert_eq!(seen, 100_004);
    let listed = started.elapsed();
    assert!(listed.as_secs() < 60, "listing took {listed:?}");
    eprintln!("seed 100,000: {seeded:?}; list 201 pages of 500: {listed:?}");
}
