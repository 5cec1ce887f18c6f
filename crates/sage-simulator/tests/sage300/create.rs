//! `POST AR/ARCustomers`: defaults, business rules, optional fields, the request log.

use crm2sage_sage_simulator::{Sage300Config, Sage300Resource};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Sim, assert_error, json_of};

#[tokio::test]
async fn minimal_create_fills_defaults_from_the_group() {
    let s = Sim::default().await;
    let payload =
        json!({"CustomerNumber": "Z_POSTMAN", "GroupCode": "RTL", "ShortName": "Old Name"});
    let (st, c) = s.post_json("AR/ARCustomers", &payload).await;
    assert_eq!(st, 201, "{c}");
    assert!(
        c["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#ARCustomers/$entity")
    );
    for (k, v) in [
        ("CustomerNumber", "Z_POSTMAN"),
        ("ShortName", "Old Name"),
        ("GroupCode", "RTL"),
        ("Status", "Active"),
        ("Terms", "N30"),
        ("TaxGroup", "CALIF"),
        ("AccountSet", "USA"),
        ("BillingCycle", "USA"),
        ("InterestProfile", "USA"),
        ("CurrencyCode", "USD"),
        ("AccountType", "OpenItem"),
        ("OnHold", "No"),
        ("CustomerName", ""),
    ] {
        assert_eq!(c[k], json!(v), "{k}");
    }
    assert_eq!(c["CreditLimitCustomerCurrency"], json!(0.0));
    assert_eq!(c["BalanceDueInCustomerCurrency"], json!(0.0));
    assert_eq!(c["NumberOfOptionalFields"], json!(0));
    assert_eq!(c["CustomerOptionalFieldValues"], json!([]));
    assert!(c["DateLastMaintained"].is_string());
    // Full entity in $metadata order, stored as returned.
    let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
    assert_eq!(
        &keys[..4],
        ["@odata.context", "CustomerNumber", "ShortName", "GroupCode"]
    );
    let mut stored = s.sim.customer("Z_POSTMAN").unwrap();
    stored.insert("@odata.context".into(), c["@odata.context"].clone());
    let mut returned = c.as_object().unwrap().clone();
    returned.sort_keys();
    stored.sort_keys();
    assert_eq!(stored, returned);

    // Other groups give other defaults; the payload overrides them.
    let (_, w) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "W1", "GroupCode": "WHL"}),
        )
        .await;
    assert_eq!(w["Terms"], "2N31");
    let (_, ca) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "C1", "GroupCode": "CAN"}),
        )
        .await;
    assert_eq!(
        (
            ca["CurrencyCode"].as_str(),
            ca["TaxGroup"].as_str(),
            ca["AccountSet"].as_str()
        ),
        (Some("CAD"), Some("BCTAX"), Some("CAN"))
    );
    let (_, o) = s
        .post_json("AR/ARCustomers", &json!({"CustomerNumber": "O1", "GroupCode": "RTL", "Terms": "2N31", "TaxGroup": "USDTAX", "CurrencyCode": "EUR", "CheckLanguage": "FRA"}))
        .await;
    assert_eq!(
        (
            o["Terms"].as_str(),
            o["TaxGroup"].as_str(),
            o["CurrencyCode"].as_str()
        ),
        (Some("2N31"), Some("USDTAX"), Some("EUR"))
    );
    assert_eq!(o["CheckLanguage"], "FRA");
}

#[tokio::test]
async fn a_created_customer_owes_the_documents_posted_under_its_number() {
    let s = Sim::default().await;
    // The demo posts eight documents under NW1001 (one fully paid): 5,240.75 open.
    let payload = json!({"CustomerNumber": "NW1001", "GroupCode": "RTL"});
    let (st, c) = s.post_json("AR/ARCustomers", &payload).await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["BalanceDueInCustomerCurrency"], json!(5240.75));
    assert_eq!(c["BalanceDueInFunctionalCurrency"], json!(5240.75));
}

#[tokio::test]
async fn the_spec_payload_with_optional_fields() {
    let s = Sim::default().await;
    let payload = r#"{"CustomerNumber":"ACME01","GroupCode":"WHL","ShortName":"Acme Corp","CustomerName":"Acme Corporation","AddressLine1":"1 Road","AddressLine2":"Suite 2","AddressLine3":"Floor 3","City":"Springfield","StateProvince":"IL","ZipPostalCode":"62701","Country":"USA","PhoneNumber":"555-0100","Email":"a@acme.test","WebSite":"https://acme.test","TaxGroup":"CALIF","Terms":"N30","CurrencyCode":"USD","CheckLanguage":"ENG","CustomerOptionalFieldValues":[{"OptionalField":"CRMID","Value":"acc-123"}]}"#;
    let resp = s
        .req(Method::POST, &s.url("AR/ARCustomers"))
        .body(payload)
        .send()
        .await
        .unwrap();
    let (st, c) = json_of(resp).await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["CustomerName"], "Acme Corporation");
    assert_eq!(c["Terms"], "N30", "payload wins over the group's 2N31");
    assert_eq!(c["NumberOfOptionalFields"], 1);
    let opt = &c["CustomerOptionalFieldValues"][0];
    assert_eq!(
        (
            opt["CustomerNumber"].as_str(),
            opt["OptionalField"].as_str(),
            opt["Value"].as_str()
        ),
        (Some("ACME01"), Some("CRMID"), Some("acc-123"))
    );
    assert_eq!(opt["TextValue"], "acc-123");
    let stored = s.sim.customer("ACME01").unwrap();
    assert_eq!(stored["CustomerOptionalFieldValues"][0]["Value"], "acc-123");
    let (_, filtered) = s
        .get_json("AR/ARCustomers('ACME01')?$select=CustomerOptionalFieldValues")
        .await;
    assert_eq!(
        filtered["CustomerOptionalFieldValues"][0]["OptionalField"],
        "CRMID"
    );

    // The log keeps the raw body (property order included) and the Content-Type.
    let log = s.sim.request_log();
    let post = log.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.body, payload);
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(post.user.as_deref(), Some("WEBAPI"));
    assert_eq!(post.status, Some(201));
    assert_eq!(post.path, "/Sage300WebApi/v1.0/-/SAMLTD/AR/ARCustomers");
    assert!(post.finished >= post.started);
    assert_eq!(s.sim.count_posts(), 1);
}

#[tokio::test]
async fn the_key_is_required_and_at_most_12_characters() {
    let s = Sim::default().await;
    assert_error(
        s.post("AR/ARCustomers", &json!({"GroupCode": "RTL"})).await,
        409,
        "RecordInvalid",
    )
    .await;
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "", "GroupCode": "RTL"}),
        )
        .await,
        409,
        "RecordInvalid",
    )
    .await;
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "ABCDEFGHIJKLM", "GroupCode": "RTL"}),
        )
        .await,
        409,
        "RecordInvalid",
    )
    .await;
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": 12, "GroupCode": "RTL"}),
        )
        .await,
        400,
        "InvalidPayload",
    )
    .await;
    let (st, _) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "ABCDEFGHIJKL", "GroupCode": "RTL"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, _) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "ÄÖÜ-12345678", "GroupCode": "RTL"}),
        )
        .await;
    assert_eq!(st, 201, "12 characters, more bytes");
}

#[tokio::test]
async fn business_rules_answer_409_general() {
    let s = Sim::default().await;
    let cases = [
        json!({"CustomerNumber": "X1"}),
        json!({"CustomerNumber": "X1", "GroupCode": "NOPE"}),
        json!({"CustomerNumber": "X1", "GroupCode": "OLD"}),
        json!({"CustomerNumber": "X1", "GroupCode": "RTL", "Terms": "NOPE"}),
        json!({"CustomerNumber": "X1", "GroupCode": "RTL", "Terms": "COD"}),
        json!({"CustomerNumber": "X1", "GroupCode": "RTL", "Terms": ""}),
        json!({"CustomerNumber": "X1", "GroupCode": "RTL", "TaxGroup": "NOPE"}),
        json!({"CustomerNumber": "X1", "GroupCode": "RTL", "TaxGroup": "IMPORT"}),
        json!({"CustomerNumber": "X1", "GroupCode": "RTL", "CurrencyCode": "XXX"}),
        json!({"CustomerNumber": "X1", "GroupCode": "RTL", "CheckLanguage": "DEU"}),
        json!({"CustomerNumber": "X1", "GroupCode": "RTL", "CustomerOptionalFieldValues": [{"OptionalField": "A", "Value": "1"}, {"OptionalField": "a", "Value": "2"}]}),
    ];
    for payload in cases {
        let msg = assert_error(s.post("AR/ARCustomers", &payload).await, 409, "General").await;
        assert!(!msg.is_empty(), "{payload}");
    }
    assert!(s.sim.customer("X1").is_none(), "nothing was written");
    let msg = assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "X1", "GroupCode": "RTL", "TaxGroup": "IMPORT"}),
        )
        .await,
        409,
        "General",
    )
    .await;
    assert!(msg.contains("IMPORT"), "{msg}");
}

#[tokio::test]
async fn duplicates_are_409_record_duplicate() {
    let s = Sim::default().await;
    let msg = assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "1100", "GroupCode": "RTL"}),
        )
        .await,
        409,
        "RecordDuplicate",
    )
    .await;
    assert!(msg.contains("1100"));
    // Someone else creates it between our lookup and our create.
    let mut seeded = serde_json::Map::new();
    seeded.insert("CustomerNumber".into(), json!("RACE"));
    seeded.insert("CustomerName".into(), json!("Someone else"));
    s.sim.insert_customer(seeded);
    assert_eq!(
        s.sim.customer("RACE").unwrap()["Status"],
        "Active",
        "defaults filled"
    );
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "RACE", "GroupCode": "RTL"}),
        )
        .await,
        409,
        "RecordDuplicate",
    )
    .await;
    assert_eq!(
        s.sim.customer("RACE").unwrap()["CustomerName"],
        "Someone else"
    );
}

#[tokio::test]
async fn bad_payloads_are_400_invalid_payload() {
    let s = Sim::default().await;
    for body in ["not json", "[]", "\"x\"", "", "{\"CustomerNumber\":\"A\",}"] {
        let resp = s
            .req(Method::POST, &s.url("AR/ARCustomers"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "InvalidPayload").await;
    }
    for payload in [
        json!({"CustomerNumber": "B1", "GroupCode": "RTL", "NoSuchProperty": "x"}),
        json!({"CustomerNumber": "B1", "GroupCode": "RTL", "CreditLimitCustomerCurrency": "lots"}),
        json!({"CustomerNumber": "B1", "GroupCode": "RTL", "TaxClassCode1": 1.5}),
        json!({"CustomerNumber": "B1", "GroupCode": "RTL", "Status": "Sleeping"}),
        json!({"CustomerNumber": "B1", "GroupCode": "RTL", "StartDate": "yesterday"}),
        json!({"CustomerNumber": "B1", "GroupCode": "RTL", "CustomerOptionalFieldValues": {"OptionalField": "A"}}),
        json!({"CustomerNumber": "B1", "GroupCode": "RTL", "CustomerOptionalFieldValues": [{"Value": "no code"}]}),
        json!({"CustomerNumber": "B1", "GroupCode": "RTL", "CustomerOptionalFieldValues": [{"OptionalField": "A", "Bogus": 1}]}),
    ] {
        assert_error(
            s.post("AR/ARCustomers", &payload).await,
            400,
            "InvalidPayload",
        )
        .await;
    }
    assert!(s.sim.customer("B1").is_none());
    // Annotations and nulls are tolerated.
    let (st, c) = s.post_json("AR/ARCustomers", &json!({"@odata.type": "x", "CustomerNumber": "B1", "GroupCode": "RTL", "CustomerName": null})).await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["CustomerName"], "");
    let (st, c) = s.post_json("AR/ARCustomers", &json!({"CustomerNumber": "B2", "GroupCode": "CAN", "CurrencyCode": null, "Terms": null})).await;
    assert_eq!(
        (st.as_u16(), c["CurrencyCode"].as_str(), c["Terms"].as_str()),
        (201, Some("CAD"), Some("N30"))
    );
}

#[tokio::test]
async fn a_quote_in_the_key_round_trips() {
    let s = Sim::default().await;
    let (st, c) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "O'BRIEN", "GroupCode": "RTL"}),
        )
        .await;
    assert_eq!(
        (st.as_u16(), c["CustomerNumber"].as_str()),
        (201, Some("O'BRIEN"))
    );
    for path in [
        "AR/ARCustomers(%27O%27%27BRIEN%27)",
        "AR/ARCustomers('O''BRIEN')",
        "AR/ARCustomers(CustomerNumber=%27O%27%27BRIEN%27)",
    ] {
        let (st, got) = s.get_json(path).await;
        assert_eq!(
            (st.as_u16(), got["CustomerNumber"].as_str()),
            (200, Some("O'BRIEN")),
            "{path}"
        );
    }
    // Other awkward characters, percent-encoded in the key.
    let (st, _) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "A/B #1?%", "GroupCode": "RTL"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, got) = s.get_json("AR/ARCustomers(%27A%2FB%20%231%3F%25%27)").await;
    assert_eq!(
        (st.as_u16(), got["CustomerNumber"].as_str()),
        (200, Some("A/B #1?%"))
    );
}

#[tokio::test]
async fn state_can_be_inspected_and_seeded() {
    let s = Sim::start(Sage300Config::default()).await;
    assert_eq!(s.sim.records(Sage300Resource::CustomerGroups).len(), 4);
    assert!(
        s.sim
            .record(Sage300Resource::TaxGroups, &["CALIF", "Purchases"])
            .is_some()
    );
    // Turn a group inactive between requests; a create in it is refused.
    let mut rtl = s
        .sim
        .record(Sage300Resource::CustomerGroups, &["RTL"])
        .unwrap();
    rtl.insert("Status".into(), json!("Inactive"));
    s.sim.insert_record(Sage300Resource::CustomerGroups, rtl);
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "S1", "GroupCode": "RTL"}),
        )
        .await,
        409,
        "General",
    )
    .await;
    // Remove a record: the ERP no longer returns it.
    assert!(
        s.sim
            .remove_record(Sage300Resource::Terms, &["DUETBL"])
            .is_some()
    );
    let (_, body) = s.get_json("AR/ARTerms").await;
    assert_eq!(body["value"].as_array().unwrap().len(), 3);
    let record = s.sim.customer("1100").unwrap();
    assert_eq!(
        s.sim.key_of(Sage300Resource::Customers, &record),
        Some(vec!["1100".to_owned()])
    );
    assert_eq!(s.sim.customers().len(), 4);
    assert!(
        s.sim
            .customers()
            .iter()
            .all(|c| c["CustomerOptionalFieldValues"] == Value::Array(vec![]))
    );
}
