//! Faults: latency, error rate, commit-then-drop, slow responses, the concurrency limit.

use std::time::{Duration, Instant};

use crm2sage_sage_simulator::{DropAfterCommit, Faults, Sage300Config};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Sim, assert_error};

#[tokio::test]
async fn latency_per_request() {
    let s = Sim::start(Sage300Config {
        faults: Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        },
        ..Sage300Config::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(s.get("AR/ARCustomers").await.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    // Changed at runtime.
    s.sim.set_faults(Faults::default());
    let started = Instant::now();
    assert_eq!(s.get("AR/ARCustomers").await.status(), 200);
    assert!(started.elapsed() < Duration::from_millis(150));
    let log = s.sim.request_log();
    assert!(log[0].finished - log[0].started >= Duration::from_millis(150));
}

#[tokio::test]
async fn error_rate_answers_500_and_writes_nothing() {
    let s = Sim::default().await;
    s.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_error(s.get("AR/ARCustomers").await, 500, "InternalServerError").await;
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "E1", "GroupCode": "RTL"}),
        )
        .await,
        500,
        "InternalServerError",
    )
    .await;
    assert!(s.sim.customer("E1").is_none());

    // A fractional rate fails some requests, the same ones for the same seed.
    let mut runs = Vec::new();
    for _ in 0..2 {
        s.sim.set_faults(Faults {
            error_rate: 0.5,
            seed: 42,
            ..Faults::default()
        });
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(s.get("CS/CSCurrencyCodes").await.status().as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    let failures = runs[0].iter().filter(|s| **s == 500).count();
    assert!((8..=32).contains(&failures), "{failures} of 40");
    assert!(runs[0].iter().all(|s| *s == 200 || *s == 500));
}

#[tokio::test]
async fn commit_then_drop_the_connection() {
    let s = Sim::default().await;
    s.sim.set_faults(Faults {
        drop_after_commit: DropAfterCommit::Next(1),
        ..Faults::default()
    });
    let result = s
        .req(Method::POST, &s.url("AR/ARCustomers"))
        .body(json!({"CustomerNumber": "DROP1", "GroupCode": "RTL"}).to_string())
        .send()
        .await;
    let err = result.expect_err("the client sees an error, not a status");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert!(
        s.sim.customer("DROP1").is_some(),
        "the create was committed"
    );
    let log = s.sim.request_log();
    let entry = log.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(entry.status, None);

    // Only the next one: later creates answer normally, and reads are never dropped.
    assert_eq!(s.sim.faults().drop_after_commit, DropAfterCommit::Never);
    assert_eq!(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "OK1", "GroupCode": "RTL"})
        )
        .await
        .status(),
        201
    );
    s.sim.set_faults(Faults {
        drop_after_commit: DropAfterCommit::Always,
        ..Faults::default()
    });
    assert_eq!(s.get("AR/ARCustomers('DROP1')").await.status(), 200);
    // A refused create is not committed, so not dropped.
    assert_error(
        s.post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "DROP1", "GroupCode": "RTL"}),
        )
        .await,
        409,
        "RecordDuplicate",
    )
    .await;
    for n in ["DROP2", "DROP3"] {
        let r = s
            .req(Method::POST, &s.url("AR/ARCustomers"))
            .body(json!({"CustomerNumber": n, "GroupCode": "RTL"}).to_string())
            .send()
            .await;
        assert!(r.is_err());
        assert!(s.sim.customer(n).is_some());
    }
    assert_eq!(s.sim.count_posts(), 5);
}

#[tokio::test]
async fn slow_response_beyond_the_client_timeout() {
    let s = Sim::default().await;
    s.sim.set_faults(Faults {
        slow_response: Some(Duration::from_millis(400)),
        ..Faults::default()
    });
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let post = impatient
        .post(s.url("AR/ARCustomers"))
        .basic_auth("WEBAPI", Some("WEBAPI"))
        .header("Content-Type", "application/json")
        .body(json!({"CustomerNumber": "SLOW1", "GroupCode": "RTL"}).to_string())
        .send()
        .await;
    assert!(post.expect_err("times out").is_timeout());
    assert!(
        s.sim.customer("SLOW1").is_some(),
        "the create was committed before the response was held"
    );
    let get = impatient
        .get(s.url("AR/ARCustomers"))
        .basic_auth("WEBAPI", Some("WEBAPI"))
        .header("Content-Type", "application/json")
        .send()
        .await;
    assert!(get.expect_err("times out").is_timeout());
    // A patient client gets the answer.
    let started = Instant::now();
    assert_eq!(s.get("CS/CSCurrencyCodes").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn too_many_concurrent_requests_are_429() {
    let s = Sim::default().await;
    s.sim.set_faults(Faults {
        latency: Duration::from_millis(200),
        max_concurrent: Some(2),
        ..Faults::default()
    });
    let url = s.url("CS/CSCurrencyCodes");
    let sends = (0..4).map(|_| s.req(Method::GET, &url).send());
    let responses = futures_join_all(sends).await;
    let mut statuses: Vec<u16> = responses
        .iter()
        .map(|r| r.as_ref().unwrap().status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 429, 429]);
    assert!(s.sim.max_in_flight() >= 3, "{}", s.sim.max_in_flight());
    for r in responses {
        let r = r.unwrap();
        if r.status() == 429 {
            assert_error(r, 429, "TooManyRequests").await;
        }
    }
    // Without the limit all four pass, and max_in_flight shows they overlapped.
    s.sim.set_faults(Faults {
        latency: Duration::from_millis(100),
        ..Faults::default()
    });
    s.sim.reset_max_in_flight();
    let responses = futures_join_all((0..4).map(|_| s.req(Method::GET, &url).send())).await;
    assert!(
        responses
            .iter()
            .all(|r| r.as_ref().unwrap().status() == 200)
    );
    assert_eq!(s.sim.max_in_flight(), 4);
}

/// Runs futures concurrently on the current task (no `futures` dependency needed).
async fn futures_join_all<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
