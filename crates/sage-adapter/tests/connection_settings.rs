//! An integration's own connection settings (issue 18 items 4 and 6): its request timeout is
//! honoured by every call of its gateway, and the private CA it names is trusted for it (and
//! only for it) on top of the built-in roots.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;
use std::time::Duration;

use crm2sage_domain::ports::{
    ConnectError, CreateCustomerError, Credentials, ErpConnector, ErpReadError, FixedCredentials,
};
use crm2sage_domain::{HttpPolicy, Integration, NewIntegration, Timestamp};
use crm2sage_sage_adapter::{ClientSettings, SageConnector};
use secrecy::SecretString;
use support::tls::{self, TestPki};

fn integration(url: &str, timeout_secs: Option<u64>, ca_pem: Option<&str>) -> Integration {
    let mut input = NewIntegration::new("s300", "sage300", url, "SAMLTD", "ADMIN");
    input.password_env = "S300_PASSWORD".into();
    input.http_policy = HttpPolicy::HttpsOnly;
    input.timeout_secs = timeout_secs;
    input.ca_pem = ca_pem.map(str::to_owned);
    input.validate(Timestamp::UNIX_EPOCH).unwrap()
}

fn secret() -> Arc<dyn Credentials> {
    FixedCredentials::shared(SecretString::from("ADMIN".to_owned()))
}

#[tokio::test]
async fn every_call_waits_as_long_as_the_integrations_timeout_and_no_longer() {
    // The server answers after 3 s; the connector's own request timeout is 2 s and GETs are
    // not retried, so only the integration's timeout decides.
    let server = tls::start(None, Duration::from_secs(3)).await;
    let connector = SageConnector::new(ClientSettings::for_tests().with_get_retries(0));
    let patient = integration(&server.url(false), Some(5), None);
    let hasty = integration(&server.url(false), Some(1), None);
    let patient = connector.connect(&patient, secret()).await.unwrap();
    let hasty = connector.connect(&hasty, secret()).await.unwrap();
    assert_eq!(connector.client_count(), 2, "one client per timeout");
    let customer = support::customer("TIMEOUT01");
    let (slow_ok, read, create) = tokio::join!(
        patient.test_connection(),
        hasty.test_connection(),
        hasty.create_customer(&customer),
    );
    slow_ok.expect("a 3 s answer is inside a 5 s timeout");
    match read {
        Err(ErpReadError::Unreachable(message)) => {
            assert!(message.contains("timed out"), "{message}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        matches!(create, Err(CreateCustomerError::Ambiguous { .. })),
        "a create slower than the timeout has an unknown outcome: {create:?}"
    );
}

#[tokio::test]
async fn integrations_with_the_same_settings_share_one_client() {
    let connector = SageConnector::new(ClientSettings::for_tests());
    let url = "https://erp.example.com/Sage300WebApi";
    for i in [
        integration(url, None, None),
        integration(url, None, None),
        integration(url, Some(30), None),
        integration(url, Some(30), None),
    ] {
        connector.connect(&i, secret()).await.unwrap();
    }
    assert_eq!(connector.client_count(), 2);
}

#[tokio::test]
async fn a_private_ca_is_trusted_for_the_integration_that_names_it() {
    let pki = TestPki::new();
    let server = tls::start(Some(&pki), Duration::ZERO).await;
    let connector = SageConnector::new(ClientSettings::for_tests().with_get_retries(0));

    let without = integration(&server.url(true), None, None);
    let gateway = connector.connect(&without, secret()).await.unwrap();
    match gateway.test_connection().await {
        Err(ErpReadError::Unreachable(message)) => {
            assert!(
                message.contains("could not connect") && message.contains("certificate"),
                "{message}"
            );
        }
        other => panic!("an unknown CA must fail the TLS handshake, got {other:?}"),
    }
    assert_eq!(
        server.answered(),
        0,
        "nothing was answered over an untrusted connection"
    );

    let with = integration(&server.url(true), None, Some(&pki.ca_pem));
    let gateway = connector.connect(&with, secret()).await.unwrap();
    gateway
        .test_connection()
        .await
        .expect("the private CA is trusted");
    assert_eq!(server.answered(), 1);

    // Another CA does not vouch for this server.
    let other = TestPki::new();
    let wrong = integration(&server.url(true), None, Some(&other.ca_pem));
    let gateway = connector.connect(&wrong, secret()).await.unwrap();
    assert!(matches!(
        gateway.test_connection().await,
        Err(ErpReadError::Unreachable(_))
    ));
}

#[tokio::test]
async fn a_ca_the_tls_stack_refuses_is_a_typed_connect_error_naming_ca_file() {
    // PEM-wise a certificate, but its DER is nonsense.
    let bogus = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
    let i = integration("https://127.0.0.1:9/Sage300WebApi", None, Some(bogus));
    let connector = SageConnector::new(ClientSettings::for_tests());
    match connector.connect(&i, secret()).await {
        Err(e @ ConnectError::TrustedCa { .. }) => {
            assert!(e.to_string().contains("ca_file"), "{e}");
            assert!(
                !e.to_string().contains("MIIB"),
                "the PEM is not repeated: {e}"
            );
        }
        Err(other) => panic!("expected ConnectError::TrustedCa, got {other:?}"),
        Ok(_) => panic!("expected ConnectError::TrustedCa, got a gateway"),
    }
}

#[test]
fn the_default_settings_stay_within_the_budget_the_promotion_lease_is_sized_by() {
    use crm2sage_domain::RequestTimeout;
    for secs in [1, 5, 60, 600] {
        let timeout = RequestTimeout::from_secs(secs).unwrap();
        let settings = ClientSettings::default().for_timeout(timeout);
        assert!(
            settings.call_budget() <= timeout.call_budget(),
            "{secs} s: {:?} > {:?}",
            settings.call_budget(),
            timeout.call_budget()
        );
    }
    assert!(ClientSettings::default().call_budget() <= RequestTimeout::default().call_budget());
}
