//! Every file in `tests/samples/` (copied verbatim from `reference/samples/`; see
//! `tests/samples/SOURCES.md`) read through the gateways, byte for byte as published: the
//! Sage 300 entity, list and error bodies, and the SData diagnoses, entry and feeds.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use crm2sage_domain::ports::{CreateCustomerError, ErpGateway, ErpReadError};
use crm2sage_domain::{ErpValue, ReferenceKind};
use crm2sage_sage_adapter::ClientSettings;
use support::{connect, customer, key, key100, sage100_integration};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn sample(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every sample file this test reads; the directory holds exactly these (and SOURCES.md).
const SAMPLES: &[&str] = &[
    "sage300/ariox_409_FieldInvalid.json",
    "sage300/ariox_409_General.json",
    "sage300/devref_12_error_404_RecordNotFound.json",
    "sage300/devref_2.3_customer_1200.json",
    "sage300/devref_4.2_list_count.json",
    "sage300/gosage300_TXTaxGroups_rows.json",
    "sage300/sdk_ARCustomerGroups.json",
    "sage300/sdk_ARCustomers.json",
    "sage300/sdk_ARTerms.json",
    "sage300/sdk_CSCurrencyCodes.json",
    "sage100/sage50_issue132_diagnosis_ResourceKindNotFound.xml",
    "sage100/sage50_issue17_diagnosis_ApplicationDiagnosis.xml",
    "sage100/sdataclient_TestEntry.xml",
    "sage100/sdataclient_TestFeed.xml",
    "sage100/spec0301_feed_salesOrders.xml",
    "sage100/spec0310_diagnoses_BadWhereSyntax.xml",
];

#[test]
fn every_sample_is_tested_here() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let mut found = Vec::new();
    for dir in ["sage300", "sage100"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            found.push(format!(
                "{dir}/{}",
                entry.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    found.sort();
    let mut listed: Vec<String> = SAMPLES.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(found, listed);
    // And they are the shared reference's bytes: `shared/` sits beside the checkout on every
    // developer's machine and in CI (a checkout without it still checks the copies above).
    let shared =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/samples");
    if shared.is_dir() {
        for s in SAMPLES {
            assert_eq!(std::fs::read(shared.join(s)).unwrap(), sample(s), "{s}");
        }
    }
}

async fn serve(status: u16, verb: &str, body: Vec<u8>, content_type: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(verb))
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, content_type))
        .mount(&server)
        .await;
    server
}

async fn sage300(server: &MockServer) -> Arc<dyn ErpGateway> {
    let i = support::integration(
        &format!("{}/Sage300WebApi", server.uri()),
        "SAMLTD",
        "ADMIN",
    );
    connect(&i, "ADMIN", ClientSettings::for_tests()).await
}

async fn sage100(server: &MockServer) -> Arc<dyn ErpGateway> {
    let i = sage100_integration(
        &format!("{}/sdata/MasApp/MasContract", server.uri()),
        "ABC",
        "SdataUser",
        30,
    );
    connect(&i, "secret", ClientSettings::for_tests()).await
}

/// A request body sample (an entity) as the one row of a list page, the file's bytes inside.
fn as_rows(entity_or_rows: &[u8]) -> Vec<u8> {
    let trimmed = String::from_utf8_lossy(entity_or_rows);
    let rows = if trimmed.trim_start().starts_with('[') {
        trimmed.into_owned()
    } else {
        format!("[{trimmed}]")
    };
    format!(r#"{{"@odata.count":{},"value":{rows}}}"#, 1).into_bytes()
}

#[tokio::test]
async fn sage300_entity_customer_1200() {
    let server = serve(
        200,
        "GET",
        sample("sage300/devref_2.3_customer_1200.json"),
        "application/json",
    )
    .await;
    let found = sage300(&server)
        .await
        .find_customer(&key("1200"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.key.customer_no.as_str(), "1200");
    assert_eq!(
        found.record.get("ShortName"),
        Some(&ErpValue::Text("BLACK".into()))
    );
    assert_eq!(found.record.get("InactiveDate"), Some(&ErpValue::Null));
}

#[tokio::test]
async fn sage300_list_with_a_string_count_and_customer_rows() {
    for s in ["sage300/devref_4.2_list_count.json"] {
        let server = serve(200, "GET", sample(s), "application/json").await;
        sage300(&server).await.test_connection().await.unwrap();
    }
    let server = serve(
        200,
        "GET",
        as_rows(&sample("sage300/sdk_ARCustomers.json")),
        "application/json",
    )
    .await;
    sage300(&server).await.test_connection().await.unwrap();
    // The SDK's customer as the entity of a lookup by key.
    let server = serve(
        200,
        "GET",
        sample("sage300/sdk_ARCustomers.json"),
        "application/json",
    )
    .await;
    let found = sage300(&server)
        .await
        .find_customer(&key("1501"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.record.get("GroupCode"),
        Some(&ErpValue::Text("WHL".into()))
    );
}

#[tokio::test]
async fn sage300_reference_rows_of_every_kind() {
    for (s, kind, first) in [
        (
            "sage300/sdk_ARCustomerGroups.json",
            ReferenceKind::Category,
            None,
        ),
        ("sage300/sdk_ARTerms.json", ReferenceKind::Terms, None),
        (
            "sage300/sdk_CSCurrencyCodes.json",
            ReferenceKind::Currency,
            None,
        ),
        (
            "sage300/gosage300_TXTaxGroups_rows.json",
            ReferenceKind::Tax,
            Some("CALIF"),
        ),
    ] {
        let server = serve(200, "GET", as_rows(&sample(s)), "application/json").await;
        let page = sage300(&server).await.reference_page(kind, None).await;
        let page = page.unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(!page.records.is_empty(), "{s}");
        if let Some(code) = first {
            assert_eq!(page.records[0].code.as_str(), code, "{s}");
        }
    }
}

#[tokio::test]
async fn sage300_error_bodies() {
    let server = serve(
        404,
        "GET",
        sample("sage300/devref_12_error_404_RecordNotFound.json"),
        "application/json",
    )
    .await;
    assert_eq!(
        sage300(&server).await.find_customer(&key("NOPE")).await,
        Ok(None)
    );
    for (s, code) in [
        ("sage300/ariox_409_General.json", "General"),
        ("sage300/ariox_409_FieldInvalid.json", "FieldInvalid"),
    ] {
        let server = serve(409, "POST", sample(s), "application/json").await;
        let err = sage300(&server)
            .await
            .create_customer(&customer("C1"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, CreateCustomerError::Rejected { code: c, .. } if c == code),
            "{s}: {err:?}"
        );
    }
}

#[tokio::test]
async fn sdata_diagnoses_are_typed_errors_with_their_message() {
    for (s, status, needle) in [
        (
            "sage100/sage50_issue132_diagnosis_ResourceKindNotFound.xml",
            404,
            "ResourceKindNotFound",
        ),
        (
            "sage100/sage50_issue17_diagnosis_ApplicationDiagnosis.xml",
            500,
            "",
        ),
        (
            "sage100/spec0310_diagnoses_BadWhereSyntax.xml",
            400,
            "BadWhereSyntax",
        ),
    ] {
        let server = serve(status, "GET", sample(s), "application/xml").await;
        let err = sage100(&server).await.test_connection().await.unwrap_err();
        let text = err.to_string();
        assert!(!matches!(err, ErpReadError::Unreachable(_)), "{s}: {err:?}");
        assert!(text.contains(needle), "{s}: {text}");
    }
}

#[tokio::test]
async fn sdata_feeds_and_the_entry_are_read() {
    let s = "sage100/spec0301_feed_salesOrders.xml";
    let server = serve(200, "GET", sample(s), "application/atom+xml").await;
    assert_eq!(
        sage100(&server).await.test_connection().await,
        Ok(()),
        "{s}"
    );
    // Two `sdata:payload` elements in one entry: which resource is meant is unknowable, so it
    // is a typed protocol error saying so, not a guess.
    let s = "sage100/sdataclient_TestFeed.xml";
    let server = serve(200, "GET", sample(s), "application/atom+xml").await;
    let err = sage100(&server).await.test_connection().await.unwrap_err();
    assert!(
        matches!(&err, ErpReadError::Protocol { excerpt } if excerpt.contains("more than one")),
        "{s}: {err:?}"
    );
    // A single entry where a feed is expected: a typed protocol error, never a panic.
    let server = serve(
        200,
        "GET",
        sample("sage100/sdataclient_TestEntry.xml"),
        "application/atom+xml",
    )
    .await;
    let g = sage100(&server).await;
    let err = g.test_connection().await.unwrap_err();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
    // As the answer to a lookup by key, its payload (another resource) is no customer of ours.
    let found = g.find_customer(&key100("01", "0000001")).await;
    assert!(!matches!(found, Ok(Some(_))), "{found:?}");
}
