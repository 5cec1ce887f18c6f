//! The store contract's check of `update_integration`: the connection settings round-trip,
//! identity and default stay as stored, an unknown id changes nothing.

use super::*;
use crate::integration::IntegrationChanges;
use crate::ports::UpdateIntegrationError;

/// A self-signed test CA's certificate block (the store keeps the text; it does not parse DER).
const CA_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";

pub(super) async fn integration_update<S: Store + ?Sized>(store: &S) {
    let alpha = integration("alpha", true);
    let beta = integration("beta", false);
    store.add_integration(&alpha).await.unwrap();
    store.add_integration(&beta).await.unwrap();
    assert_eq!(alpha.timeout(), None);
    assert_eq!(alpha.trusted_ca(), None);

    let changes = IntegrationChanges {
        url: Some("https://erp2.example.com/Sage300WebApi".into()),
        user: Some("OTHER".into()),
        password_env: Some("S300_OTHER".into()),
        timeout_secs: Some(90),
        ca_pem: Some(Some(CA_PEM.into())),
        ..IntegrationChanges::default()
    };
    let changed = changes.apply(&alpha).unwrap();
    store.update_integration(&changed).await.unwrap();
    let read = store.integration(alpha.id()).await.unwrap().unwrap();
    assert_eq!(read, changed, "every setting round-trips");
    assert_eq!(read.timeout().map(|t| t.as_secs()), Some(90));
    assert_eq!(read.trusted_ca().map(|c| c.as_pem()), Some(CA_PEM));
    assert_eq!(
        read.base_url().as_str(),
        "https://erp2.example.com/Sage300WebApi"
    );
    assert!(read.is_default(), "still the default");
    assert_eq!(
        store.integration(beta.id()).await.unwrap().unwrap(),
        beta,
        "the other integration is untouched"
    );

    // Removing the CA and keeping the timeout.
    let cleared = IntegrationChanges {
        ca_pem: Some(None),
        ..IntegrationChanges::default()
    }
    .apply(&read)
    .unwrap();
    store.update_integration(&cleared).await.unwrap();
    let read = store
        .integration_by_name(alpha.name())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.trusted_ca(), None);
    assert_eq!(read.timeout().map(|t| t.as_secs()), Some(90));

    // An integration that is not stored (or was removed) is refused, and nothing changes.
    let ghost = integration("ghost", false);
    assert!(matches!(
        store.update_integration(&ghost).await,
        Err(UpdateIntegrationError::NotFound(name)) if name.as_str() == "ghost"
    ));
    assert!(
        store
            .integration_by_name(ghost.name())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.integrations().await.unwrap().len(), 2);
}
