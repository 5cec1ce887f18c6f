//! Contacts: `MT/MTContacts` (absent by default, served with `contacts`), and the customer's
//! own contact fields through `PATCH AR/ARCustomers('KEY')`.

use crm2sage_sage_simulator::{Faults, PatchStatus, Sage300Config, Sage300Resource};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Sim, assert_error, json_of, strings, values};

const CONTACTS: &str = "MT/MTContacts";

fn contact(customer: &str, code: &str) -> Value {
    json!({
        "CustomerNumber": customer,
        "ContactCode": code,
        "ContactName": format!("Contact {code}"),
        "Title": "Buyer",
        "PhoneNumber": "619-555-0101",
        "Email": "buyer@example.com",
    })
}

async fn with_contacts() -> Sim {
    Sim::start(Sage300Config {
        contacts: true,
        page_size: 2,
        ..Sage300Config::default()
    })
    .await
}

async fn patch(s: &Sim, path: &str, body: &Value) -> reqwest::Response {
    s.req(Method::PATCH, &s.url(path))
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pre_2020_server_has_no_mt_contacts() {
    let s = Sim::default().await;
    assert_error(
        s.get(&format!("{CONTACTS}?$top=1")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    assert_error(
        s.post(CONTACTS, &contact("1100", "BUYER")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    assert!(s.sim.contacts("1100").is_empty());
    assert_eq!(s.sim.creates(Sage300Resource::Contacts), 0);
}

#[tokio::test]
async fn served_when_on_create_get_list() {
    let s = with_contacts().await;
    // Detection: `$top=1` answers 200 even with no contacts.
    let (status, body) = s.get_json(&format!("{CONTACTS}?$top=1")).await;
    assert_eq!(status, 200);
    assert!(values(&body).is_empty());

    let resp = s.post(CONTACTS, &contact("1100", "BUYER")).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (_, created) = json_of(resp).await;
    assert_eq!(created["ContactName"], "Contact BUYER");
    assert_eq!(created["Title"], "Buyer");
    let (status, got) = json_of(s.req(Method::GET, &location).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(got["Email"], "buyer@example.com");
    let (status, got) = s
        .get_json(&format!(
            "{CONTACTS}(CustomerNumber='1100',ContactCode='BUYER')"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["PhoneNumber"], "619-555-0101");
    assert_error(
        s.get(&format!(
            "{CONTACTS}(CustomerNumber='1100',ContactCode='NOPE')"
        ))
        .await,
        404,
        "RecordNotFound",
    )
    .await;

    for code in ["AP", "OWNER"] {
        assert_eq!(s.post(CONTACTS, &contact("1100", code)).await.status(), 201);
    }
    assert_eq!(s.post(CONTACTS, &contact("1105", "AP")).await.status(), 201);
    let (_, page) = s
        .get_json(&format!("{CONTACTS}?$filter=CustomerNumber eq '1100'"))
        .await;
    assert_eq!(strings(&page, "ContactCode"), ["AP", "BUYER"]);
    let next = page["@odata.nextLink"].as_str().unwrap().to_owned();
    let (_, page) = json_of(s.req(Method::GET, &next).send().await.unwrap()).await;
    assert_eq!(strings(&page, "ContactCode"), ["OWNER"]);
    assert!(page.get("@odata.nextLink").is_none());
    let (_, top) = s.get_json(&format!("{CONTACTS}?$top=1")).await;
    assert_eq!(values(&top).len(), 1);

    let stored: Vec<String> = s
        .sim
        .contacts("1100")
        .iter()
        .map(|r| r["ContactCode"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stored, ["AP", "BUYER", "OWNER"]);
    assert!(s.sim.contact("1105", "AP").is_some());
    assert_eq!(s.sim.creates(Sage300Resource::Contacts), 4);
}

#[tokio::test]
async fn contact_refusals() {
    let s = with_contacts().await;
    assert_eq!(
        s.post(CONTACTS, &contact("1100", "BUYER")).await.status(),
        201
    );
    assert_error(
        s.post(CONTACTS, &contact("1100", "BUYER")).await,
        409,
        "RecordDuplicate",
    )
    .await;
    let message = assert_error(
        s.post(CONTACTS, &contact("ZZZ", "BUYER")).await,
        409,
        "General",
    )
    .await;
    assert!(message.contains("\"ZZZ\""), "{message}");
    let mut long = contact("1100", "LONG");
    long["Email"] = json!(format!("{}@example.com", "x".repeat(40)));
    assert_error(s.post(CONTACTS, &long).await, 409, "RecordInvalid").await;
    let mut unknown = contact("1100", "X");
    unknown["Mobile"] = json!("1");
    assert_error(s.post(CONTACTS, &unknown).await, 400, "InvalidPayload").await;
    assert_eq!(s.sim.contacts("1100").len(), 1);
    assert_eq!(s.sim.creates(Sage300Resource::Contacts), 1);
}

#[tokio::test]
async fn patch_sets_the_customers_own_contact() {
    let s = Sim::default().await;
    let body = json!({
        "ContactName": "Jane Smith",
        "ContactsPhone": "619-555-0199",
        "ContactsEmail": "jane@example.com",
    });
    let resp = patch(&s, "AR/ARCustomers('1100')", &body).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        s.sim.customer_contact("1100"),
        Some((
            "Jane Smith".to_owned(),
            "619-555-0199".to_owned(),
            "jane@example.com".to_owned()
        ))
    );
    // Only the given properties change; the same PATCH again is harmless.
    let c = s.sim.customer("1100").unwrap();
    assert_eq!(c["CustomerName"], "Bargain Mart - San Diego");
    assert_eq!(c["City"], "San Diego");
    assert_eq!(
        patch(&s, "AR/ARCustomers('1100')", &body).await.status(),
        204
    );
    let (_, read) = s.get_json("AR/ARCustomers('1100')").await;
    assert_eq!(read["ContactsEmail"], "jane@example.com");
    assert_eq!(read["GroupCode"], "RTL");
    assert_eq!(s.sim.customer_contact("9999"), None);

    // The other success status the reference leaves open.
    let s = Sim::start(Sage300Config {
        patch_status: PatchStatus::Ok200,
        ..Sage300Config::default()
    })
    .await;
    let resp = patch(&s, "AR/ARCustomers('1100')", &body).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().is_empty());
    assert_eq!(
        s.sim.customer_contact("1100").map(|c| c.0),
        Some("Jane Smith".to_owned())
    );
}

#[tokio::test]
async fn patch_refusals() {
    let s = Sim::default().await;
    let before = s.sim.customer("1100").unwrap();
    for (body, status, code) in [
        (json!({"ContactName": "x".repeat(61)}), 409, "RecordInvalid"),
        (
            json!({"ContactsPhone": "1".repeat(31)}),
            409,
            "RecordInvalid",
        ),
        (
            json!({"ContactsEmail": "e".repeat(51)}),
            409,
            "RecordInvalid",
        ),
        (json!({"Nickname": "x"}), 400, "InvalidPayload"),
        (json!({"ContactName": 5}), 400, "InvalidPayload"),
        (json!({"CustomerNumber": "OTHER"}), 400, "InvalidPayload"),
        (json!({"Terms": "NOPE"}), 409, "General"),
        (json!([1]), 400, "InvalidPayload"),
    ] {
        let resp = patch(&s, "AR/ARCustomers('1100')", &body).await;
        assert_error(resp, status, code).await;
    }
    let resp = s
        .req(Method::PATCH, &s.url("AR/ARCustomers('1100')"))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "InvalidPayload").await;
    // Nothing changed.
    assert_eq!(s.sim.customer("1100").unwrap(), before);
    // A missing customer is 404 as on a read.
    assert_error(
        patch(&s, "AR/ARCustomers('NOSUCH')", &json!({"ContactName": "x"})).await,
        404,
        "RecordNotFound",
    )
    .await;
    // Faults and auth apply to PATCH as to everything else.
    s.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_error(
        patch(&s, "AR/ARCustomers('1100')", &json!({"ContactName": "x"})).await,
        500,
        "InternalServerError",
    )
    .await;
    s.sim.set_faults(Faults::default());
    let resp = s
        .client
        .patch(s.url("AR/ARCustomers('1100')"))
        .header("Content-Type", "application/json")
        .body(json!({"ContactName": "x"}).to_string())
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "Unauthorized").await;
    assert_eq!(s.sim.customer("1100").unwrap(), before);
}
