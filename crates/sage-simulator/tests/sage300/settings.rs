//! Every setting for a wire detail the reference marks unsure.

use crm2sage_sage_simulator::{
    CountStyle, CreateStatus, DateStyle, ErrorContentType, KeyRejection, LowercaseKeys,
    NextLinkStyle, Sage300Config, TermsKey,
};
use reqwest::{Method, Url};
use serde_json::{Value, json};

use crate::helpers::{Sim, assert_error, json_of, strings};

fn config() -> Sage300Config {
    Sage300Config::default()
}

#[tokio::test]
async fn create_status_201_or_200() {
    let s = Sim::default().await;
    let resp = s
        .post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "NEW1", "GroupCode": "RTL"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(location, s.url("AR/ARCustomers(%27NEW1%27)"));
    let (st, body) = json_of(s.req(Method::GET, &location).send().await.unwrap()).await;
    assert_eq!(
        (st.as_u16(), body["CustomerNumber"].as_str()),
        (200, Some("NEW1"))
    );

    let s = Sim::start(Sage300Config {
        create_status: CreateStatus::Ok200,
        ..config()
    })
    .await;
    let resp = s
        .post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "NEW1", "GroupCode": "RTL"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("location").is_none());
    let (_, body) = json_of(resp).await;
    assert_eq!(body["CustomerNumber"], "NEW1");
}

#[tokio::test]
async fn next_link_relative_and_v3() {
    let s = Sim::start(Sage300Config {
        page_size: 2,
        next_link: NextLinkStyle::Relative,
        ..config()
    })
    .await;
    let (_, body) = s.get_json("AR/ARCustomers?$select=CustomerNumber").await;
    let link = body["@odata.nextLink"].as_str().unwrap();
    assert_eq!(link, "ARCustomers?$select=CustomerNumber&$skip=2");
    let next = Url::parse(&s.url("AR/ARCustomers?$select=CustomerNumber"))
        .unwrap()
        .join(link)
        .unwrap();
    let (_, body) = json_of(s.req(Method::GET, next.as_str()).send().await.unwrap()).await;
    assert_eq!(strings(&body, "CustomerNumber"), ["1200", "BCCUST"]);

    let s = Sim::start(Sage300Config {
        page_size: 2,
        next_link: NextLinkStyle::V3,
        ..config()
    })
    .await;
    let (_, body) = s.get_json("AR/ARCustomers?$count=true").await;
    assert!(
        body.get("@odata.nextLink").is_none()
            && body.get("@odata.count").is_none()
            && body.get("@odata.context").is_none()
    );
    assert_eq!(body["odata.count"], 4);
    assert!(
        body["odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#ARCustomers")
    );
    let link = body["odata.nextLink"].as_str().unwrap();
    assert!(link.starts_with("http://"), "{link}");
    let (_, body) = json_of(s.req(Method::GET, link).send().await.unwrap()).await;
    assert_eq!(strings(&body, "CustomerNumber"), ["1200", "BCCUST"]);
    assert!(body.get("odata.nextLink").is_none());
}

#[tokio::test]
async fn count_as_number_or_string() {
    let s = Sim::default().await;
    let (_, body) = s.get_json("CS/CSCurrencyCodes?$count=true").await;
    assert_eq!(body["@odata.count"], json!(3));
    let s = Sim::start(Sage300Config {
        count_style: CountStyle::String,
        ..config()
    })
    .await;
    let (_, body) = s.get_json("CS/CSCurrencyCodes?$count=true").await;
    assert_eq!(body["@odata.count"], json!("3"));
}

#[tokio::test]
async fn terms_keyed_terms_code_key() {
    let s = Sim::start(Sage300Config {
        terms_key: TermsKey::TermsCodeKey,
        ..config()
    })
    .await;
    let (_, body) = s.get_json("AR/ARTerms").await;
    assert_eq!(
        strings(&body, "TermsCodeKey"),
        ["2N31", "COD", "DUETBL", "N30"]
    );
    assert!(body["value"][0].get("TermsCode").is_none());
    let (st, one) = s.get_json("AR/ARTerms('N30')").await;
    assert_eq!(
        (st.as_u16(), one["TermsCodeKey"].as_str()),
        (200, Some("N30"))
    );
    let (st, _) = s.get_json("AR/ARTerms(TermsCodeKey='N30')").await;
    assert_eq!(st, 200);
    assert_error(
        s.get("AR/ARTerms(TermsCode='N30')").await,
        400,
        "InvalidEntityKey",
    )
    .await;
    let (_, body) = s
        .get_json("AR/ARTerms?$filter=TermsCodeKey%20eq%20'2N31'&$select=TermsCodeKey")
        .await;
    assert_eq!(strings(&body, "TermsCodeKey"), ["2N31"]);
    assert_error(
        s.get("AR/ARTerms?$filter=TermsCode%20eq%20'2N31'").await,
        400,
        "InvalidParameters",
    )
    .await;
    // Customers still refer to terms by `Terms`.
    let (st, c) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "T1", "GroupCode": "WHL"}),
        )
        .await;
    assert_eq!((st.as_u16(), c["Terms"].as_str()), (201, Some("2N31")));
}

#[tokio::test]
async fn dates_with_or_without_zone() {
    let s = Sim::default().await;
    let (_, c) = s.get_json("AR/ARCustomers('1100')").await;
    assert_eq!(c["DateLastMaintained"], "2024-01-15T00:00:00Z");
    assert_eq!(c["InactiveDate"], Value::Null);
    let (_, created) = s
        .post_json(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "D1", "GroupCode": "RTL"}),
        )
        .await;
    assert!(
        created["DateLastMaintained"]
            .as_str()
            .unwrap()
            .ends_with("T00:00:00Z")
    );

    let s = Sim::start(Sage300Config {
        date_style: DateStyle::NoZone,
        ..config()
    })
    .await;
    let (_, c) = s.get_json("AR/ARCustomers('1100')").await;
    assert_eq!(c["DateLastMaintained"], "2024-01-15T00:00:00");
    let (_, g) = s.get_json("AR/ARCustomerGroups('OLD')").await;
    assert_eq!(g["InactiveDate"], "2019-06-30T00:00:00");
    let (_, created) = s.post_json("AR/ARCustomers", &json!({"CustomerNumber": "D1", "GroupCode": "RTL", "StartDate": "2023-05-01T00:00:00"})).await;
    assert_eq!(created["StartDate"], "2023-05-01T00:00:00");
    assert!(
        !created["DateLastMaintained"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // Filters take either form.
    let (_, body) = s.get_json("AR/ARCustomers?$filter=DateLastMaintained%20eq%202024-01-15T00:00:00&$select=CustomerNumber").await;
    assert_eq!(strings(&body, "CustomerNumber").len(), 4);
    // Stored state keeps the canonical form.
    assert_eq!(
        s.sim.customer("1100").unwrap()["DateLastMaintained"],
        "2024-01-15T00:00:00Z"
    );
}

#[tokio::test]
async fn error_bodies_as_text_plain() {
    let s = Sim::start(Sage300Config {
        error_content_type: ErrorContentType::TextPlain,
        ..config()
    })
    .await;
    let resp = s.get("AR/ARCustomers('NOPE')").await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"error": {"code": "RecordNotFound", "message": {"lang": "en-US", "value": "A Record cannot be found for the specified entity key"}}})
    );
    // Successes stay JSON.
    let ok = s.get("AR/ARCustomers('1100')").await;
    assert!(
        ok.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn lowercase_keys_normalised() {
    let s = Sim::default().await;
    let (st, c) = s.post_json("AR/ARCustomers", &json!({"CustomerNumber": "acme", "GroupCode": "rtl", "TaxGroup": "calif", "CurrencyCode": "usd"})).await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(
        (
            c["CustomerNumber"].as_str(),
            c["GroupCode"].as_str(),
            c["TaxGroup"].as_str()
        ),
        (Some("ACME"), Some("RTL"), Some("CALIF"))
    );
    assert!(s.sim.customer("ACME").is_some());
    let (st, got) = s.get_json("AR/ARCustomers('acme')").await;
    assert_eq!(
        (st.as_u16(), got["CustomerNumber"].as_str()),
        (200, Some("ACME"))
    );
    let (st, _) = s.get_json("AR/ARCustomerGroups('whl')").await;
    assert_eq!(st, 200);
    let (st, _) = s
        .get_json("TX/TXTaxGroups(TaxGroupKey='calif',TransactionType='sales')")
        .await;
    assert_eq!(st, 200);
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "Acme", "GroupCode": "RTL"}),
        )
        .await,
        409,
        "RecordDuplicate",
    )
    .await;
}

#[tokio::test]
async fn lowercase_keys_refused() {
    let s = Sim::start(Sage300Config {
        lowercase_keys: LowercaseKeys::Refuse,
        ..config()
    })
    .await;
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "acme", "GroupCode": "RTL"}),
        )
        .await,
        409,
        "RecordInvalid",
    )
    .await;
    assert!(
        s.sim
            .customers()
            .iter()
            .all(|c| c["CustomerNumber"] != "acme")
    );
    assert_error(
        s.get("AR/ARCustomers('bccust')").await,
        404,
        "RecordNotFound",
    )
    .await;
    // Lower-case codes are not found either.
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "ACME", "GroupCode": "rtl"}),
        )
        .await,
        409,
        "General",
    )
    .await;

    let s = Sim::start(Sage300Config {
        lowercase_keys: LowercaseKeys::Refuse,
        key_rejection: KeyRejection::InvalidPayload400,
        ..config()
    })
    .await;
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "acme", "GroupCode": "RTL"}),
        )
        .await,
        400,
        "InvalidPayload",
    )
    .await;
}
