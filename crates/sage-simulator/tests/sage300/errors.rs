//! Each refusal with its status and body: authentication, headers, company, keys, parameters.

use crm2sage_sage_simulator::{Sage300Config, UnknownCompany};
use reqwest::Method;

use crate::helpers::{Sim, assert_error, json_of};

#[tokio::test]
async fn basic_auth_is_required() {
    let s = Sim::default().await;
    let url = s.url("AR/ARCustomers");
    let none = s
        .client
        .get(&url)
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        none.headers().get("www-authenticate").unwrap(),
        "Basic realm=\"Sage300WebApi\""
    );
    assert_error(none, 401, "Unauthorized").await;
    let wrong = s
        .client
        .get(&url)
        .basic_auth("WEBAPI", Some("wrong"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(wrong, 401, "Unauthorized").await;
    let garbage = s
        .client
        .get(&url)
        .header("Authorization", "Basic %%%")
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(garbage, 401, "Unauthorized").await;
    // ADMIN has no Web API rights by default.
    let admin = s
        .client
        .get(&url)
        .basic_auth("ADMIN", Some("ADMIN"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(admin, 403, "Forbidden").await;
    // User IDs are case-insensitive.
    let lower = s
        .client
        .get(&url)
        .basic_auth("webapi", Some("WEBAPI"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
}

#[tokio::test]
async fn other_users_can_be_configured() {
    let config = Sage300Config {
        users: vec![
            ("SYNC".into(), "s3cret".into()),
            ("OTHER".into(), "x".into()),
        ],
        forbidden_users: vec![("VIEWER".into(), "v".into())],
        ..Sage300Config::default()
    };
    let s = Sim::start(config).await;
    assert_eq!((s.sim.user(), s.sim.password()), ("SYNC", "s3cret"));
    assert_eq!(s.get("AR/ARCustomers").await.status(), 200);
    let url = s.url("AR/ARCustomers");
    let other = s
        .client
        .get(&url)
        .basic_auth("OTHER", Some("x"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    let viewer = s
        .client
        .get(&url)
        .basic_auth("VIEWER", Some("v"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(viewer, 403, "Forbidden").await;
    let webapi = s
        .client
        .get(&url)
        .basic_auth("WEBAPI", Some("WEBAPI"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(webapi, 401, "Unauthorized").await;
}

#[tokio::test]
async fn content_type_is_required_on_every_request() {
    let s = Sim::default().await;
    let url = s.url("AR/ARCustomers");
    let bare = s
        .client
        .get(&url)
        .basic_auth("WEBAPI", Some("WEBAPI"))
        .send()
        .await
        .unwrap();
    assert_error(bare, 500, "InternalServerError").await;
    let text = s
        .client
        .get(&url)
        .basic_auth("WEBAPI", Some("WEBAPI"))
        .header("Content-Type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_error(text, 500, "InternalServerError").await;
    let post = s
        .client
        .post(&url)
        .basic_auth("WEBAPI", Some("WEBAPI"))
        .body(r#"{"CustomerNumber":"X"}"#)
        .send()
        .await
        .unwrap();
    assert_error(post, 500, "InternalServerError").await;
    assert!(s.sim.customer("X").is_none());
    let charset = s
        .client
        .get(&url)
        .basic_auth("WEBAPI", Some("WEBAPI"))
        .header("Content-Type", "application/json; charset=utf-8")
        .send()
        .await
        .unwrap();
    assert_eq!(charset.status(), 200);

    // The setting turns the check off.
    let lenient = Sim::start(Sage300Config::lenient()).await;
    let url = lenient.url("AR/ARCustomers");
    let bare = lenient
        .client
        .get(&url)
        .basic_auth("WEBAPI", Some("WEBAPI"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
}

#[tokio::test]
async fn unknown_company_per_setting() {
    let s = Sim::default().await;
    let url = format!("{}/v1.0/-/NOPE/AR/ARCustomers", s.sim.base_url());
    assert_error(
        s.req(Method::GET, &url).send().await.unwrap(),
        500,
        "DBLinkError",
    )
    .await;

    let s = Sim::start(Sage300Config {
        unknown_company: UnknownCompany::ResourceNotFound404,
        ..Sage300Config::default()
    })
    .await;
    let url = format!("{}/v1.0/-/NOPE/AR/ARCustomers", s.sim.base_url());
    assert_error(
        s.req(Method::GET, &url).send().await.unwrap(),
        404,
        "ResourceNotFound",
    )
    .await;
    // Another company name configured.
    let s = Sim::start(Sage300Config {
        company: "SAMINC".into(),
        ..Sage300Config::default()
    })
    .await;
    assert_eq!(s.sim.company(), "SAMINC");
    assert_eq!(s.get("AR/ARCustomers").await.status(), 200);
}

#[tokio::test]
async fn malformed_keys_are_invalid_entity_key() {
    let s = Sim::default().await;
    for path in [
        "AR/ARCustomers('1100'",
        "AR/ARCustomers('1100)",
        "AR/ARCustomers(1100)",
        "AR/ARCustomers(abc)",
        "AR/ARCustomers('a''b'c')",
        "AR/ARCustomers(Nope='1100')",
        "AR/ARCustomers(CustomerNumber='1',CustomerNumber='1')",
        "TX/TXTaxGroups('CALIF')",
        "TX/TXTaxGroups(TaxGroupKey='CALIF')",
        "TX/TXTaxGroups(TaxGroupKey='CALIF',Other='Sales')",
    ] {
        assert_error(s.get(path).await, 400, "InvalidEntityKey").await;
    }
}

#[tokio::test]
async fn bad_query_options_are_invalid_parameters() {
    let s = Sim::default().await;
    for query in [
        "$top=-1",
        "$top=abc",
        "$skip=1.5",
        "$count=yes",
        "$top=1&$top=2",
        "$filter=GroupCode%20eq%20'RTL'&$filter=GroupCode%20eq%20'WHL'",
        "$expand=Details",
        "$select=NoSuchField",
        "$orderby=NoSuchField",
        "$filter=NoSuchField%20eq%20'x'",
        "$filter=GroupCode%20eq%203",
        "$filter=GroupCode",
        "$inlinecount=allpages",
    ] {
        let msg = assert_error(
            s.get(&format!("AR/ARCustomers?{query}")).await,
            400,
            "InvalidParameters",
        )
        .await;
        assert!(!msg.is_empty(), "{query}");
    }
    // Custom (non-$) options are ignored, as OData does.
    let (st, _) = json_of(s.get("AR/ARCustomers?foo=bar&$format=json").await).await;
    assert_eq!(st, 200);
    assert_error(
        s.get("AR/ARCustomers('1100')?$top=1").await,
        400,
        "InvalidParameters",
    )
    .await;
}

#[tokio::test]
async fn a_password_changed_at_run_time_is_required_from_then_on() {
    let s = Sim::default().await;
    let url = s.url("AR/ARCustomers");
    let with = |password: &'static str| {
        s.client
            .get(&url)
            .basic_auth("WEBAPI", Some(password))
            .header("Content-Type", "application/json")
            .send()
    };
    assert_eq!(with("WEBAPI").await.unwrap().status(), 200);
    s.sim.set_password("rotated");
    assert_eq!(s.sim.current_password(), "rotated");
    assert_eq!(s.sim.password(), "WEBAPI", "the password it started with");
    assert_error(with("WEBAPI").await.unwrap(), 401, "Unauthorized").await;
    assert_eq!(with("rotated").await.unwrap().status(), 200);
}
