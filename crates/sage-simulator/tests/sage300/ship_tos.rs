//! `AR/ARShipToLocations`: create, duplicates, unknown customers, lengths, one by key, a
//! customer's list, the computed primary indicator, and a fault on create.

use crm2sage_sage_simulator::{
    DropAfterCommit, Faults, KeyRejection, LowercaseKeys, Sage300Config, Sage300Resource,
    UnknownCustomer,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Sim, assert_error, strings, values};

const SHIP_TOS: &str = "AR/ARShipToLocations";

fn ship_to(customer: &str, code: &str) -> Value {
    json!({
        "CustomerNumber": customer,
        "ShipToLocationKey": code,
        "Description": format!("Warehouse {code}"),
        "AddressLine1": "1 Dock Road",
        "City": "Vancouver",
        "StateProvince": "BC",
        "ZipPostalCode": "V5K 0A1",
        "Country": "Canada",
        "PhoneNumber": "604-555-0100",
        "Email": "dock@example.com",
    })
}

fn one(customer: &str, code: &str) -> String {
    format!("{SHIP_TOS}(CustomerNumber='{customer}',ShipToLocationKey='{code}')")
}

#[tokio::test]
async fn create_then_read_one() {
    let s = Sim::default().await;
    let resp = s.post(SHIP_TOS, &ship_to("1100", "WH1")).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.ends_with(
            "/AR/ARShipToLocations(CustomerNumber%3D%271100%27%2CShipToLocationKey%3D%27WH1%27)"
        ),
        "{location}"
    );
    let (_, created) = crate::helpers::json_of(resp).await;
    assert_eq!(created["CustomerNumber"], "1100");
    assert_eq!(created["ShipToLocationKey"], "WH1");
    assert_eq!(created["Description"], "Warehouse WH1");
    assert_eq!(created["PrimaryShipToIndicator"], "No");
    assert_eq!(created["Status"], "Active");
    assert!(
        created["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#ARShipToLocations/$entity")
    );

    // The Location header resolves to the same record.
    let (status, got) =
        crate::helpers::json_of(s.req(Method::GET, &location).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(got["City"], "Vancouver");
    let (status, got) = s.get_json(&one("1100", "WH1")).await;
    assert_eq!(status, 200);
    assert_eq!(got["Email"], "dock@example.com");
    assert_eq!(got["ZipPostalCode"], "V5K 0A1");

    // Lower-case keys are upper-cased by default, on create and on read.
    assert_eq!(
        s.post(SHIP_TOS, &ship_to("1100", "wh2")).await.status(),
        201
    );
    assert_eq!(s.get(&one("1100", "wh2")).await.status(), 200);
    assert!(s.sim.ship_to("1100", "WH2").is_some());

    let stored = s.sim.ship_tos("1100");
    let codes: Vec<&str> = stored
        .iter()
        .map(|r| r["ShipToLocationKey"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["WH1", "WH2"]);
    assert_eq!(s.sim.creates(Sage300Resource::ShipToLocations), 2);
    assert_eq!(s.sim.creates(Sage300Resource::Customers), 0);
}

#[tokio::test]
async fn missing_ship_to_is_404_and_bad_keys_400() {
    let s = Sim::default().await;
    assert_error(s.get(&one("1100", "NOPE")).await, 404, "RecordNotFound").await;
    assert_error(s.get(&one("NOSUCH", "WH1")).await, 404, "RecordNotFound").await;
    // Both key parts are needed.
    assert_error(
        s.get(&format!("{SHIP_TOS}('1100')")).await,
        400,
        "InvalidEntityKey",
    )
    .await;
    assert_error(
        s.get(&format!("{SHIP_TOS}(CustomerNumber='1100')")).await,
        400,
        "InvalidEntityKey",
    )
    .await;
}

#[tokio::test]
async fn duplicate_is_refused_like_a_duplicate_customer() {
    let s = Sim::default().await;
    assert_eq!(
        s.post(SHIP_TOS, &ship_to("1100", "WH1")).await.status(),
        201
    );
    let message = assert_error(
        s.post(SHIP_TOS, &ship_to("1100", "WH1")).await,
        409,
        "RecordDuplicate",
    )
    .await;
    assert!(
        message.contains("WH1") && message.contains("already exists"),
        "{message}"
    );
    // The same code under another customer is another record.
    assert_eq!(
        s.post(SHIP_TOS, &ship_to("1105", "WH1")).await.status(),
        201
    );
    assert_eq!(s.sim.ship_tos("1100").len(), 1);
    assert_eq!(s.sim.creates(Sage300Resource::ShipToLocations), 2);
}

#[tokio::test]
async fn unknown_customer_is_refused_naming_it() {
    let s = Sim::default().await;
    let message = assert_error(
        s.post(SHIP_TOS, &ship_to("NOSUCH", "WH1")).await,
        409,
        "General",
    )
    .await;
    assert!(message.contains("\"NOSUCH\""), "{message}");
    assert!(s.sim.ship_tos("NOSUCH").is_empty());
    assert_eq!(s.sim.creates(Sage300Resource::ShipToLocations), 0);

    // The other variants the reference leaves open.
    for (setting, status, code) in [
        (UnknownCustomer::InvalidPayload400, 400, "InvalidPayload"),
        (UnknownCustomer::RecordNotFound404, 404, "RecordNotFound"),
    ] {
        let s = Sim::start(Sage300Config {
            unknown_customer: setting,
            ..Sage300Config::default()
        })
        .await;
        let message = assert_error(
            s.post(SHIP_TOS, &ship_to("NOSUCH", "WH1")).await,
            status,
            code,
        )
        .await;
        assert!(message.contains("\"NOSUCH\""), "{message}");
        assert!(s.sim.ship_tos("NOSUCH").is_empty());
    }
}

#[tokio::test]
async fn lengths_and_shape_are_checked() {
    let s = Sim::default().await;
    let too_long = |prop: &str, len: usize| {
        let mut body = ship_to("1100", "WH1");
        body[prop] = json!("X".repeat(len));
        body
    };
    for (prop, max) in [
        ("ShipToLocationKey", 6),
        ("Description", 60),
        ("AddressLine1", 60),
        ("City", 30),
        ("StateProvince", 30),
        ("ZipPostalCode", 20),
        ("Country", 30),
        ("PhoneNumber", 30),
        ("Email", 50),
    ] {
        let message = assert_error(
            s.post(SHIP_TOS, &too_long(prop, max + 1)).await,
            409,
            "RecordInvalid",
        )
        .await;
        assert!(message.contains(prop), "{prop}: {message}");
        // At the limit it is taken (a fresh key each time).
        let mut ok = too_long(prop, max);
        if prop != "ShipToLocationKey" {
            ok["ShipToLocationKey"] = json!(format!("L{}", prop.len()));
        }
        let resp = s.post(SHIP_TOS, &ok).await;
        assert_eq!(resp.status(), 201, "{prop} at {max}");
        s.sim
            .remove_record(
                Sage300Resource::ShipToLocations,
                &["1100", ok["ShipToLocationKey"].as_str().unwrap()],
            )
            .unwrap();
    }
    // Blank key part.
    let mut blank = ship_to("1100", "");
    blank["ShipToLocationKey"] = json!("  ");
    assert_error(s.post(SHIP_TOS, &blank).await, 409, "RecordInvalid").await;
    // Unknown property, wrong type, not JSON, not an object.
    let mut unknown = ship_to("1100", "WH1");
    unknown["Name"] = json!("x");
    let message = assert_error(s.post(SHIP_TOS, &unknown).await, 400, "InvalidPayload").await;
    assert!(message.contains("'Name'"), "{message}");
    let mut wrong = ship_to("1100", "WH1");
    wrong["TaxClassCode1"] = json!("one");
    assert_error(s.post(SHIP_TOS, &wrong).await, 400, "InvalidPayload").await;
    for raw in ["{not json", "[1,2]", "", "\"text\""] {
        let resp = s
            .req(Method::POST, &s.url(SHIP_TOS))
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "InvalidPayload").await;
    }
    assert!(s.sim.ship_tos("1100").is_empty());

    // The refusal follows the key-rejection setting; lower case follows its setting.
    let s = Sim::start(Sage300Config {
        key_rejection: KeyRejection::InvalidPayload400,
        lowercase_keys: LowercaseKeys::Refuse,
        ..Sage300Config::default()
    })
    .await;
    assert_error(
        s.post(SHIP_TOS, &too_long("City", 31)).await,
        400,
        "InvalidPayload",
    )
    .await;
    assert_error(
        s.post(SHIP_TOS, &ship_to("1100", "wh1")).await,
        400,
        "InvalidPayload",
    )
    .await;
}

#[tokio::test]
async fn a_customers_list_pages_with_next_links() {
    let s = Sim::start(Sage300Config {
        page_size: 2,
        ..Sage300Config::default()
    })
    .await;
    for code in ["A1", "A2", "A3", "A4", "A5"] {
        assert_eq!(s.post(SHIP_TOS, &ship_to("1100", code)).await.status(), 201);
    }
    assert_eq!(s.post(SHIP_TOS, &ship_to("1105", "B1")).await.status(), 201);

    let mut url = s.url(&format!(
        "{SHIP_TOS}?$filter=CustomerNumber eq '1100'&$count=true"
    ));
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) =
            crate::helpers::json_of(s.req(Method::GET, &url).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(body["@odata.count"], 5);
        assert!(values(&body).len() <= 2);
        seen.extend(strings(&body, "ShipToLocationKey"));
        pages += 1;
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["A1", "A2", "A3", "A4", "A5"]);

    // The other customer's list, $top and $select.
    let (_, body) = s
        .get_json(&format!(
            "{SHIP_TOS}?$filter=CustomerNumber eq '1105'&$select=ShipToLocationKey"
        ))
        .await;
    assert_eq!(strings(&body, "ShipToLocationKey"), ["B1"]);
    assert_eq!(values(&body)[0].as_object().unwrap().len(), 1);
    let (_, body) = s.get_json(&format!("{SHIP_TOS}?$top=1")).await;
    assert_eq!(values(&body).len(), 1);
    // Filters on other ship-to properties work too.
    let (_, body) = s
        .get_json(&format!("{SHIP_TOS}?$filter=ShipToLocationKey eq 'A3'"))
        .await;
    assert_eq!(strings(&body, "CustomerNumber"), ["1100"]);
}

#[tokio::test]
async fn primary_indicator_follows_the_customer() {
    let s = Sim::default().await;
    for code in ["WH1", "WH2"] {
        assert_eq!(s.post(SHIP_TOS, &ship_to("1100", code)).await.status(), 201);
    }
    assert_eq!(s.sim.primary_ship_to("1100"), None);
    let patch = s
        .req(Method::PATCH, &s.url("AR/ARCustomers('1100')"))
        .body(json!({"PrimaryShipToLocation": "WH2"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 204);
    assert!(patch.text().await.unwrap().is_empty());
    assert_eq!(s.sim.primary_ship_to("1100").as_deref(), Some("WH2"));
    let (_, c) = s.get_json("AR/ARCustomers('1100')").await;
    assert_eq!(c["PrimaryShipToLocation"], "WH2");

    let (_, body) = s
        .get_json(&format!(
            "{SHIP_TOS}?$filter=CustomerNumber eq '1100' and PrimaryShipToIndicator eq 'Yes'"
        ))
        .await;
    assert_eq!(strings(&body, "ShipToLocationKey"), ["WH2"]);
    let (_, wh1) = s.get_json(&one("1100", "WH1")).await;
    assert_eq!(wh1["PrimaryShipToIndicator"], "No");

    // Moving the primary moves the indicator; a ship-to created later is not primary.
    let patch = s
        .req(Method::PATCH, &s.url("AR/ARCustomers('1100')"))
        .body(json!({"PrimaryShipToLocation": "wh1"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 204);
    let (_, wh1) = s.get_json(&one("1100", "WH1")).await;
    let (_, wh2) = s.get_json(&one("1100", "WH2")).await;
    assert_eq!(
        (
            &wh1["PrimaryShipToIndicator"],
            &wh2["PrimaryShipToIndicator"]
        ),
        (&json!("Yes"), &json!("No"))
    );
    let (_, wh3) = s.post_json(SHIP_TOS, &ship_to("1100", "WH3")).await;
    assert_eq!(wh3["PrimaryShipToIndicator"], "No");
    // A payload's indicator is not taken: the server computes it.
    let mut claims = ship_to("1100", "WH4");
    claims["PrimaryShipToIndicator"] = json!("Yes");
    let (_, wh4) = s.post_json(SHIP_TOS, &claims).await;
    assert_eq!(wh4["PrimaryShipToIndicator"], "No");
    assert_eq!(s.sim.primary_ship_to("1100").as_deref(), Some("WH1"));
    let flags: Vec<(String, String)> = s
        .sim
        .ship_tos("1100")
        .iter()
        .map(|r| {
            (
                r["ShipToLocationKey"].as_str().unwrap().to_owned(),
                r["PrimaryShipToIndicator"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("WH1".to_owned(), "Yes".to_owned()),
            ("WH2".to_owned(), "No".to_owned()),
            ("WH3".to_owned(), "No".to_owned()),
            ("WH4".to_owned(), "No".to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_unknown_primary_is_refused() {
    let s = Sim::default().await;
    assert_eq!(
        s.post(SHIP_TOS, &ship_to("1105", "WH1")).await.status(),
        201
    );
    // WH1 belongs to another customer.
    let patch = s
        .req(Method::PATCH, &s.url("AR/ARCustomers('1100')"))
        .body(json!({"PrimaryShipToLocation": "WH1"}).to_string())
        .send()
        .await
        .unwrap();
    let message = assert_error(patch, 409, "General").await;
    assert!(
        message.contains("WH1") && message.contains("1100"),
        "{message}"
    );
    assert_eq!(s.sim.primary_ship_to("1100"), None);
    let patch = s
        .req(Method::PATCH, &s.url("AR/ARCustomers('1100')"))
        .body(json!({"PrimaryShipToLocation": "TOOLONG"}).to_string())
        .send()
        .await
        .unwrap();
    assert_error(patch, 409, "RecordInvalid").await;
}

#[tokio::test]
async fn a_ship_to_create_goes_through_the_faults() {
    let s = Sim::default().await;
    // The injected error rate: nothing is written.
    s.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_error(
        s.post(SHIP_TOS, &ship_to("1100", "WH1")).await,
        500,
        "InternalServerError",
    )
    .await;
    assert!(s.sim.ship_tos("1100").is_empty());
    assert_error(s.get(&one("1100", "WH1")).await, 500, "InternalServerError").await;

    // Commit, then drop the connection: the client sees no status, the record is there.
    s.sim.set_faults(Faults {
        drop_after_commit: DropAfterCommit::Next(1),
        ..Faults::default()
    });
    let result = s
        .req(Method::POST, &s.url(SHIP_TOS))
        .body(ship_to("1100", "WH1").to_string())
        .send()
        .await;
    let err = result.expect_err("the connection is dropped");
    assert!(err.status().is_none(), "{err:?}");
    assert!(s.sim.ship_to("1100", "WH1").is_some());
    assert_eq!(s.sim.creates(Sage300Resource::ShipToLocations), 1);
    // The retry is a duplicate, which is how a client learns the first one committed.
    assert_error(
        s.post(SHIP_TOS, &ship_to("1100", "WH1")).await,
        409,
        "RecordDuplicate",
    )
    .await;
    assert_eq!(s.sim.creates(Sage300Resource::ShipToLocations), 1);
    assert_eq!(s.sim.count_posts_to("ARShipToLocations"), 3);
    assert_eq!(s.sim.count_posts(), 0);
}

#[tokio::test]
async fn auth_applies() {
    let s = Sim::default().await;
    let resp = s
        .client
        .post(s.url(SHIP_TOS))
        .basic_auth("WEBAPI", Some("wrong"))
        .header("Content-Type", "application/json")
        .body(ship_to("1100", "WH1").to_string())
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "Unauthorized").await;
    let resp = s
        .client
        .get(s.url(SHIP_TOS))
        .basic_auth("ADMIN", Some("ADMIN"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "Forbidden").await;
    assert!(s.sim.ship_tos("1100").is_empty());
}

#[tokio::test]
async fn seeded_ship_tos_follow_the_seeded_primary() {
    let mut config = Sage300Config::default();
    for c in &mut config.data.customers {
        if c["CustomerNumber"] == "1100" {
            c.insert("PrimaryShipToLocation".into(), json!("SEED2"));
        }
    }
    for code in ["SEED1", "SEED2"] {
        let rec = json!({"CustomerNumber": "1100", "ShipToLocationKey": code});
        config.data.ship_tos.push(rec.as_object().unwrap().clone());
    }
    let s = Sim::start(config).await;
    let (_, seed2) = s.get_json(&one("1100", "SEED2")).await;
    assert_eq!(seed2["PrimaryShipToIndicator"], "Yes");
    let (_, seed1) = s.get_json(&one("1100", "SEED1")).await;
    assert_eq!(seed1["PrimaryShipToIndicator"], "No");
    // Seeding is not an API create.
    assert_eq!(s.sim.creates(Sage300Resource::ShipToLocations), 0);

    // A customer replaced through the handle moves the indicator too.
    let mut customer = s.sim.customer("1100").unwrap();
    customer.insert("PrimaryShipToLocation".into(), json!("SEED1"));
    s.sim.insert_customer(customer);
    let (_, seed1) = s.get_json(&one("1100", "SEED1")).await;
    assert_eq!(seed1["PrimaryShipToIndicator"], "Yes");
    assert_eq!(
        s.sim.ship_to("1100", "SEED2").unwrap()["PrimaryShipToIndicator"],
        "No"
    );
}
