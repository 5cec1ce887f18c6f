//! Faults: latency, error rate, commit-then-drop, slow responses, the concurrency limit,
//! malformed XML.

use std::time::{Duration, Instant};

use crm2sage_sage_simulator::{DropAfterCommit, Faults, Sage100Config};

use crate::helpers::{Sim, assert_diagnosis, customer, entry_body};
use crate::xml;

#[tokio::test]
async fn latency_and_error_rate() {
    let s = Sim::start(Sage100Config {
        faults: Faults {
            latency: Duration::from_millis(120),
            ..Faults::default()
        },
        ..Sage100Config::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(s.get("AR_Division").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(120));

    s.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(s.sim.faults().error_rate, 1.0);
    assert_diagnosis(s.get("AR_Division").await, 500, "ApplicationDiagnosis").await;
    assert_diagnosis(
        s.post_entry(&entry_body(&customer("E1", &[]))).await,
        500,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(s.sim.customer("01", "E1").is_none(), "nothing written");

    let mut runs = Vec::new();
    for _ in 0..2 {
        s.sim.set_faults(Faults {
            error_rate: 0.5,
            seed: 7,
            ..Faults::default()
        });
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(s.get("AR_Division").await.status().as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    let failures = runs[0].iter().filter(|s| **s == 500).count();
    assert!((5..=25).contains(&failures), "{failures}");
}

#[tokio::test]
async fn commit_then_drop_the_connection() {
    let s = Sim::default().await;
    s.sim.set_faults(Faults {
        drop_after_commit: DropAfterCommit::Next(1),
        ..Faults::default()
    });
    let err = s.post_entry_raw(&entry_body(&customer("DROP1", &[]))).await;
    assert!(err.is_err(), "no response");
    assert!(s.sim.customer("01", "DROP1").is_some(), "committed");
    let log = s.sim.request_log();
    assert_eq!(log.last().unwrap().status, None);
    // The next create is answered normally.
    assert_eq!(
        s.post_entry(&entry_body(&customer("DROP2", &[])))
            .await
            .status(),
        201
    );
    assert_eq!(s.sim.count_posts(), 2);
}

#[tokio::test]
async fn slow_response_beyond_the_client_timeout_still_commits() {
    let s = Sim::start(Sage100Config {
        faults: Faults {
            slow_response: Some(Duration::from_millis(600)),
            ..Faults::default()
        },
        ..Sage100Config::default()
    })
    .await;
    let result = s
        .req(reqwest::Method::POST, &s.url("AR_Customer"))
        .header("Content-Type", "application/atom+xml; type=entry")
        .timeout(Duration::from_millis(150))
        .body(entry_body(&customer("SLOW", &[])))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    assert!(s.sim.customer("01", "SLOW").is_some());
}

#[tokio::test]
async fn concurrency_limit_is_503_transient() {
    let s = Sim::start(Sage100Config {
        faults: Faults {
            latency: Duration::from_millis(250),
            max_concurrent: Some(1),
            ..Faults::default()
        },
        ..Sage100Config::default()
    })
    .await;
    let (a, b) = tokio::join!(s.get("AR_Division"), async {
        tokio::time::sleep(Duration::from_millis(60)).await;
        s.get("AR_Division").await
    });
    assert_eq!(a.status(), 200);
    assert_diagnosis(b, 503, "ApplicationUnavailable").await;
    assert_eq!(s.sim.max_in_flight(), 2);
    s.sim.clear_request_log();
    assert!(s.sim.request_log().is_empty());
}

#[tokio::test]
async fn malformed_xml() {
    let s = Sim::start(Sage100Config {
        malformed_xml: true,
        ..Sage100Config::default()
    })
    .await;
    let resp = s.get("AR_Customer").await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(xml::try_parse(&text).is_err(), "{text}");
    // A create commits even though its answer is malformed.
    let resp = s.post_entry(&entry_body(&customer("MAL", &[]))).await;
    assert_eq!(resp.status(), 201);
    assert!(xml::try_parse(&resp.text().await.unwrap()).is_err());
    assert!(s.sim.customer("01", "MAL").is_some());
    // Errors stay well-formed; switching it off restores normal bodies.
    assert_diagnosis(s.get("AR_Nothing").await, 404, "ResourceKindNotFound").await;
    s.sim.set_malformed_xml(false);
    assert!(xml::try_parse(&s.get("AR_Customer").await.text().await.unwrap()).is_ok());
}
