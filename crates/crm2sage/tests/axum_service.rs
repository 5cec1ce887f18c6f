//! The `axum_service` example, run in-process on 127.0.0.1:0 against the built-in Sage 300
//! simulator: the acceptance run of issue 17 item 7 (promotions whose handlers a 100 ms
//! timeout layer drops while the ERP answers after 300 ms, then settled by retries and
//! `POST /recover` without a restart, one customer each) and the error envelope.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

// The example's items are `pub` for readers; here they are reached from this crate only.
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/axum_service.rs"]
mod axum_service;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crm2sage::simulator::{
    Faults, RunningSage300, Sage100Config, Sage300Config, start_sage100, start_sage300,
};
use crm2sage::{AccountId, SecretRef};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// A service running on a loopback port, its database in a temporary directory.
struct Service {
    base: String,
    client: reqwest::Client,
    handle: JoinHandle<Result<(), axum_service::Error>>,
    _dir: tempfile::TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// The `ERP_*` variables for a Sage 300 simulator.
fn sage300_env(sim: &RunningSage300) -> HashMap<&'static str, String> {
    HashMap::from([
        ("ERP_KIND", "sage300".to_owned()),
        ("ERP_URL", sim.base_url()),
        ("ERP_COMPANY", sim.company().to_owned()),
        ("ERP_USER", sim.user().to_owned()),
        ("ERP_PASSWORD", sim.password().to_owned()),
    ])
}

fn config(
    sim: &RunningSage300,
    db: &std::path::Path,
    extra: &[&str],
) -> Result<axum_service::Config, String> {
    config_with(&sage300_env(sim), db, extra)
}

fn config_with(
    env: &HashMap<&'static str, String>,
    db: &std::path::Path,
    extra: &[&str],
) -> Result<axum_service::Config, String> {
    let mut args = vec![
        "--db".to_owned(),
        db.display().to_string(),
        "--listen".to_owned(),
        "127.0.0.1:0".to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    axum_service::Config::parse(args, |name| env.get(name).cloned())
}

/// Starts `serve` on 127.0.0.1:0 and waits until it answers (it registers and syncs first;
/// the bound listener holds the first request until then).
async fn start_service(sim: &RunningSage300, extra: &[&str]) -> Service {
    start_service_with(&sage300_env(sim), extra).await
}

async fn start_service_with(env: &HashMap<&'static str, String>, extra: &[&str]) -> Service {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(env, &dir.path().join("crm2sage.db"), extra).unwrap();
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut handle = tokio::spawn(axum_service::serve(config, listener));
    let client = reqwest::Client::new();
    tokio::select! {
        stopped = &mut handle => panic!("the service stopped at start: {stopped:?}"),
        health = client.get(format!("{base}/health")).send() => {
            assert_eq!(health.unwrap().status(), StatusCode::OK);
        }
    }
    Service {
        base,
        client,
        handle,
        _dir: dir,
    }
}

impl Service {
    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn create_account(&self, name: &str) -> String {
        let (status, body) = self
            .post(
                "/accounts",
                &json!({
                    "name": name,
                    "line1": "100 Harbour Way",
                    "city": "Vancouver",
                    "state": "BC",
                    "country": "CA",
                    "currency": "CAD",
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }
}

fn promote_body(customer_no: &str) -> Value {
    json!({ "customer_no": customer_no, "category": "RTL", "tax_group": "CALIF" })
}

/// The error envelope's code (and that the envelope has all three members).
fn code(body: &Value) -> &str {
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()) && error["details"].is_object(),
        "not the error envelope: {body}"
    );
    error["code"].as_str().unwrap()
}

fn refused_fields(body: &Value) -> Vec<&str> {
    body["error"]["details"]["fields"]
        .as_array()
        .map(|fields| fields.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotions_dropped_by_the_timeout_layer_all_end_bound_once_without_a_restart() {
    const ACCOUNTS: usize = 20;
    let sim = start_sage300(Sage300Config::default()).await.unwrap();
    let service = start_service(&sim, &["--request-timeout-ms", "100", "--lease-secs", "3"]).await;
    let customers_before = sim.customers().len();
    let mut ids = Vec::new();
    for n in 0..ACCOUNTS {
        ids.push(
            service
                .create_account(&format!("Timeout Test {n:02}"))
                .await,
        );
    }
    let number = |n: usize| format!("AX{:04}", 1001 + n);

    // The ERP answers every request after 300 ms: each promote's handler is dropped at 100 ms.
    sim.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let first = join_all(ids.iter().enumerate().map(|(n, id)| {
        let service = &service;
        let body = promote_body(&number(n));
        async move {
            service
                .post(&format!("/accounts/{id}/promote"), &body)
                .await
        }
    }))
    .await;
    for (status, body) in &first {
        assert_eq!(*status, StatusCode::GATEWAY_TIMEOUT, "{body}");
        assert_eq!(code(body), "timeout");
    }

    // The ERP answers at once again; the same service settles every account.
    sim.set_faults(Faults::default());
    let started = Instant::now();
    let cap = Duration::from_secs(30);
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    let mut retries = 0usize;
    let mut recovers = 0usize;
    let mut recover_statuses: HashMap<u16, usize> = HashMap::new();
    let mut bound = vec![false; ACCOUNTS];
    while bound.iter().any(|b| !b) {
        assert!(
            started.elapsed() < cap,
            "not every account bound within {cap:?}: {bound:?}, statuses {statuses:?}"
        );
        let unbound: Vec<usize> = (0..ACCOUNTS).filter(|n| !bound[*n]).collect();
        for n in unbound {
            let (status, body) = service
                .post(
                    &format!("/accounts/{}/promote", ids[n]),
                    &promote_body(&number(n)),
                )
                .await;
            retries += 1;
            *statuses.entry(status.as_u16()).or_default() += 1;
            // 409 `in_progress` / `already_promoted`, 200, or 504 when a retry itself outlives
            // the limit (it goes on too); never a 500.
            assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            let (_, account) = service.get(&format!("/accounts/{}", ids[n])).await;
            bound[n] = account["bindings"].as_array().is_some_and(|b| b.len() == 1);
        }
        if bound.iter().any(|b| !b) {
            // A recovery that outlives the 100 ms limit is answered 504 and goes on.
            let (status, report) = service.post("/recover", &json!({})).await;
            recovers += 1;
            *recover_statuses.entry(status.as_u16()).or_default() += 1;
            assert!(
                [StatusCode::OK, StatusCode::GATEWAY_TIMEOUT].contains(&status),
                "{status} {report}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let until_bound = started.elapsed();

    for (n, id) in ids.iter().enumerate() {
        let (status, account) = service.get(&format!("/accounts/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(account["bindings"][0]["customer_no"], number(n).as_str());
        assert_eq!(account["bindings"][0]["integration"], "erp");
        assert!(sim.customer(&number(n)).is_some(), "{} missing", number(n));
    }
    let creates = sim.count_posts();
    let customers_added = sim.customers().len() - customers_before;
    println!(
        "axum_service acceptance: {ACCOUNTS} accounts bound {until_bound:?} after the ERP recovered; \
         {retries} promote retries ({statuses:?} by status), {recovers} recover calls ({recover_statuses:?}); \
         {creates} creates seen, {customers_added} customers added"
    );
    assert_eq!(customers_added, ACCOUNTS, "one customer per account");
    assert_eq!(creates, ACCOUNTS, "one create per account");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_come_in_one_envelope_with_the_status_of_their_class() {
    let sim = start_sage300(Sage300Config::default()).await.unwrap();
    let service = start_service(&sim, &[]).await;

    // 404: an id no account has; a route that does not exist.
    let (status, body) = service
        .get(&format!("/accounts/{}", AccountId::generate()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "account_not_found");
    let (status, body) = service.get("/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "not_found");

    // 422: every refused field named; a malformed id; a body that is not JSON.
    let (status, body) = service
        .post("/accounts", &json!({ "name": "", "city": "Vancouver" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "invalid_input");
    let fields = refused_fields(&body);
    for field in ["name", "billing.line1", "billing.country"] {
        assert!(fields.contains(&field), "{field} not named: {body}");
    }
    let (status, body) = service.get("/accounts/not-an-id").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(refused_fields(&body), ["id"]);
    let response = service
        .client
        .post(format!("{}/accounts", service.base))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "invalid_input");
    assert_eq!(refused_fields(&body), ["body"]);
    let (status, body) = service
        .post(
            "/accounts",
            &json!({ "name": 5, "line1": "1 Main St", "city": "Vancouver", "country": "CA" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(refused_fields(&body), ["name"], "{body}");

    // A promotion missing its tax group: 422 naming it; nothing sent to the ERP.
    let id = service.create_account("Envelope Test").await;
    let (status, body) = service
        .post(
            &format!("/accounts/{id}/promote"),
            &json!({ "customer_no": "ENV1", "category": "RTL" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(refused_fields(&body).contains(&"tax_group"), "{body}");
    assert_eq!(sim.count_posts(), 0);

    // 200, then the binding, the live record, and 409 for a second promotion.
    let (status, promoted) = service
        .post(&format!("/accounts/{id}/promote"), &promote_body("ENV1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{promoted}");
    assert!(promoted["external_uid"].is_string() && promoted["integration_key"].is_string());
    let (status, account) = service.get(&format!("/accounts/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(account["name"], "Envelope Test");
    assert_eq!(
        account["bindings"][0]["integration_key"],
        promoted["integration_key"]
    );
    assert_eq!(account["promotions"][0]["state"], "promoted");
    assert_eq!(account["promotions"][0]["customer_no"], "ENV1");
    let (status, erp) = service.get(&format!("/accounts/{id}/erp")).await;
    assert_eq!(status, StatusCode::OK, "{erp}");
    assert_eq!(erp["name"], "Envelope Test");
    assert!(erp["record"].as_object().is_some_and(|r| !r.is_empty()));
    let (status, body) = service
        .post(&format!("/accounts/{id}/promote"), &promote_body("ENV1"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "already_promoted");
    assert_eq!(body["error"]["details"]["customer_no"], "ENV1");

    // 409: another account asking for the same customer number.
    let other = service.create_account("Envelope Test Two").await;
    let (status, body) = service
        .post(&format!("/accounts/{other}/promote"), &promote_body("ENV1"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        ["customer_no_in_use", "customer_no_taken"].contains(&code(&body)),
        "{body}"
    );

    // An account never promoted has no ERP record: a client error in the envelope.
    let (status, body) = service.get(&format!("/accounts/{other}/erp")).await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(code(&body), "not_promoted");

    let (status, report) = service.post("/recover", &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["items"], json!([]));
    assert_eq!(sim.count_posts(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sage100_service_promotes_with_salesperson_and_tax_schedule_in_its_division() {
    let sim = start_sage100(Sage100Config::default()).await.unwrap();
    let env = HashMap::from([
        ("ERP_KIND", "sage100".to_owned()),
        ("ERP_URL", sim.base_url()),
        ("ERP_COMPANY", sim.company().to_owned()),
        ("ERP_USER", sim.user().to_owned()),
        ("ERP_PASSWORD", sim.password().to_owned()),
        ("ERP_DIVISION", "01".to_owned()),
    ]);
    let service = start_service_with(&env, &[]).await;
    let id = service.create_account("Sage Hundred Co").await;
    let (status, body) = service
        .post(
            &format!("/accounts/{id}/promote"),
            &json!({ "customer_no": "SH1001", "salesperson": "0100", "tax_schedule": "WI MIL" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["external_uid"], "01-SH1001");
    assert!(sim.customer("01", "SH1001").is_some());
    // A Sage 300 field is refused by name for Sage 100.
    let other = service.create_account("Sage Hundred Two").await;
    let (status, body) = service
        .post(
            &format!("/accounts/{other}/promote"),
            &json!({ "customer_no": "SH1002", "salesperson": "0100", "tax_schedule": "WI MIL", "tax_group": "CALIF" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(refused_fields(&body).contains(&"tax_group"), "{body}");
    let (status, erp) = service.get(&format!("/accounts/{id}/erp")).await;
    assert_eq!(status, StatusCode::OK, "{erp}");
    assert_eq!(erp["name"], "Sage Hundred Co");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_reuses_the_integration_and_its_external_secret() {
    let sim = start_sage300(Sage300Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm2sage.db");
    let config = config(&sim, &db, &[]).unwrap();
    let first = axum_service::start(&config).await.unwrap();
    assert_eq!(
        first.integration.secret(),
        &SecretRef::external(axum_service::SECRET_KEY).unwrap(),
        "the password is handed over under an external reference, never an env var"
    );
    let id = first.integration.id();
    drop(first);
    let again = axum_service::start(&config).await.unwrap();
    assert_eq!(again.crm2sage.integrations().await.unwrap().len(), 1);
    assert_eq!(again.integration.id(), id);
    sim.shutdown().await;
}

#[test]
fn the_command_line_and_environment_are_read_as_documented() {
    let env = |name: &str| match name {
        "ERP_KIND" => Some("sage100".to_owned()),
        "ERP_URL" => Some("http://127.0.0.1:1/sdata/MasApp/MasContract".to_owned()),
        "ERP_COMPANY" => Some("ABC".to_owned()),
        "ERP_USER" => Some("sdata".to_owned()),
        "ERP_PASSWORD" => Some("secret".to_owned()),
        "ERP_DIVISION" => Some("01".to_owned()),
        _ => None,
    };
    let args = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let config = axum_service::Config::parse(
        args(&[
            "--db",
            "x.db",
            "--listen",
            "127.0.0.1:8080",
            "--lease-secs",
            "7",
        ]),
        env,
    )
    .unwrap();
    assert_eq!(config.request_timeout, Duration::from_millis(30_000));
    assert_eq!(config.lease, Some(Duration::from_secs(7)));
    assert_eq!(config.erp.division.as_deref(), Some("01"));
    let missing = axum_service::Config::parse(args(&["--db", "x.db"]), env).unwrap_err();
    assert!(missing.contains("--listen"), "{missing}");
    let no_password = axum_service::Config::parse(
        args(&["--db", "x.db", "--listen", "127.0.0.1:8080"]),
        |name| env(name).filter(|_| name != "ERP_PASSWORD"),
    )
    .unwrap_err();
    assert!(no_password.contains("ERP_PASSWORD"), "{no_password}");
    let bad = axum_service::Config::parse(
        args(&[
            "--db",
            "x.db",
            "--listen",
            "127.0.0.1:8080",
            "--request-timeout-ms",
            "0",
        ]),
        env,
    )
    .unwrap_err();
    assert!(bad.contains("--request-timeout-ms"), "{bad}");
}
