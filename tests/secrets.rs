//! Secrets an embedder owns, on the fakes: an external reference registered through
//! `add_integration` and resolved by an async provider, the provider's errors, rotation, and
//! forgetting one integration's gateway.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use crm2sage_domain::fakes::{FakeErp, FakeProcesses, FixedSecrets, ManualClock, MemoryStore};
use crm2sage_domain::ports::{ErpReadError, IntegrationStore, SecretError, SecretSource};
use crm2sage_domain::services::{GatewayError, IntegrationError, PromoteError, SyncProgress};
use crm2sage_domain::{ErrorClass, ErrorCode, Integration, PromotionRequest, SecretRef, Services};
use crm2sage_tests::{sage300_input, valid_account};
use secrecy::SecretString;

fn no_progress(_: SyncProgress) {}

/// An async provider in the manner of a vault client: it yields to the runtime before each
/// answer, knows keys (not variables), counts its calls, and can be made to fail.
#[derive(Default)]
struct Vault {
    keys: std::sync::Mutex<HashMap<String, String>>,
    sealed: std::sync::atomic::AtomicBool,
    calls: AtomicUsize,
}

impl Vault {
    fn with(self, key: &str, value: &str) -> Self {
        self.keys
            .lock()
            .unwrap()
            .insert(key.to_owned(), value.to_owned());
        self
    }
}

#[async_trait]
impl SecretSource for Vault {
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        let reference = integration.secret();
        if reference.is_env() {
            return Err(SecretError::Unsupported {
                reference: reference.clone(),
            });
        }
        if self.sealed.load(Ordering::SeqCst) {
            return Err(SecretError::Unavailable {
                reference: reference.clone(),
                reason: "the vault is sealed".into(),
            });
        }
        let keys = self.keys.lock().unwrap();
        keys.get(reference.name())
            .map(|v| SecretString::from(v.clone()))
            .ok_or_else(|| SecretError::Missing {
                reference: reference.clone(),
            })
    }
}

fn services(
    erp: &FakeErp,
    secrets: Arc<dyn SecretSource>,
) -> (Services<MemoryStore, FakeErp>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let services = Services::new(
        Arc::clone(&store),
        Arc::new(erp.clone()),
        secrets,
        Arc::new(FakeProcesses::default()),
    )
    .with_clock(Arc::new(ManualClock::default()));
    (services, store)
}

/// The Sage 300 demo input with its secret at the external key `key`.
fn external_input(key: &str) -> crm2sage_domain::NewIntegration {
    let mut input = sage300_input();
    input.password_env = String::new();
    input.secret_ref = Some(SecretRef::external(key).unwrap());
    input.make_default = true;
    input
}

fn request(account: crm2sage_domain::AccountId, number: &str) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, number);
    r.category = Some("RTL".into());
    r.tax_group = Some("CALIF".into());
    r
}

#[tokio::test]
async fn an_external_secret_is_registered_through_the_services_and_a_vault_resolves_it() {
    let erp = FakeErp::sage300_demo().with_password("from-the-vault");
    let vault = Arc::new(Vault::default().with("vault/erp", "from-the-vault"));
    let (services, store) = services(&erp, vault.clone());

    let integration = services
        .add_integration(&external_input("vault/erp"))
        .await
        .unwrap();
    assert_eq!(integration.secret().to_string(), "external:vault/erp");
    let stored = store
        .integration_by_name(integration.name())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.secret(), integration.secret(), "stored as given");

    services.sync(None, None, &no_progress).await.unwrap();
    let account = services.create_account(&valid_account()).await.unwrap();
    let promoted = services
        .promote(&request(account.id(), "VAULT1"))
        .await
        .unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "VAULT1");
    assert_eq!(erp.customers().len(), 2, "the demo customer and ours");
    assert_eq!(
        vault.calls.load(Ordering::SeqCst),
        1,
        "resolved once, when the gateway opened"
    );
}

#[tokio::test]
async fn an_env_name_and_a_secret_reference_together_are_refused_on_password_env() {
    let erp = FakeErp::sage300_demo();
    let (services, _) = services(&erp, Arc::new(Vault::default()));
    let mut input = external_input("vault/erp");
    input.password_env = "S300_PASSWORD".into();
    match services.add_integration(&input).await {
        Err(IntegrationError::Invalid(fields)) => {
            let names: Vec<_> = fields.fields().iter().map(|f| f.field()).collect();
            assert_eq!(names, ["password_env"]);
        }
        other => panic!("expected invalid password_env, got {other:?}"),
    }
}

#[tokio::test]
async fn secret_errors_never_suggest_export() {
    let erp = FakeErp::sage300_demo();
    let vault = Arc::new(Vault::default());
    let (services, _) = services(&erp, vault.clone());
    services
        .add_integration(&external_input("vault/missing"))
        .await
        .unwrap();
    let mut env_input = sage300_input();
    env_input.name = "by-env".into();
    services.add_integration(&env_input).await.unwrap();

    // Missing external key: invalid configuration, named, no shell hint.
    let missing = services.test_integration("s300").await.unwrap_err();
    let IntegrationError::Gateway(GatewayError::Secret(SecretError::Missing { .. })) = &missing
    else {
        panic!("expected a missing secret, got {missing:?}");
    };
    assert_eq!(missing.class(), ErrorClass::Invalid);
    let text = missing.to_string();
    assert!(
        text.contains("external:vault/missing") && !text.contains("export"),
        "{text}"
    );

    // A provider failure: its reason, no secret, no hint; an environment failure.
    vault.sealed.store(true, Ordering::SeqCst);
    let unavailable = services.test_integration("s300").await.unwrap_err();
    assert!(
        matches!(
            &unavailable,
            IntegrationError::Gateway(GatewayError::Secret(SecretError::Unavailable { .. }))
        ),
        "{unavailable:?}"
    );
    assert_eq!(unavailable.class(), ErrorClass::Internal);
    let text = unavailable.to_string();
    assert!(
        text.contains("the vault is sealed") && !text.contains("export"),
        "{text}"
    );

    // An env reference this provider does not handle: no hint in the domain's text either
    // (the CLI adds one for variables).
    let unsupported = services.test_integration("by-env").await.unwrap_err();
    let text = unsupported.to_string();
    assert!(
        text.contains("env:S300_PASSWORD") && !text.contains("export"),
        "{text}"
    );
    let missing_env = SecretError::Missing {
        reference: SecretRef::env("S300_PASSWORD").unwrap(),
    };
    assert!(!missing_env.to_string().contains("export"), "{missing_env}");
}

#[tokio::test]
async fn a_rotated_secret_is_asked_for_once_and_used() {
    let erp = FakeErp::sage300_demo().with_password("old");
    let secrets = Arc::new(FixedSecrets::default().with("S300_PASSWORD", "old"));
    let (services, _) = services(&erp, secrets.clone());
    let mut input = sage300_input();
    input.make_default = true;
    services.add_integration(&input).await.unwrap();
    services.test_integration("s300").await.unwrap();
    assert_eq!(secrets.calls(), 1);

    erp.set_password("new");
    secrets.set("S300_PASSWORD", "new");
    services.test_integration("s300").await.unwrap();
    assert_eq!(secrets.calls(), 2, "asked once more after the refusal");
    services.test_integration("s300").await.unwrap();
    assert_eq!(secrets.calls(), 2, "the new secret is kept");

    // A source that still has the old secret: one refresh, then the refusal.
    erp.set_password("newer");
    let refused = services.test_integration("s300").await.unwrap_err();
    assert!(
        matches!(refused, IntegrationError::Erp(ErpReadError::Unauthorized)),
        "{refused:?}"
    );
    assert_eq!(secrets.calls(), 3, "one refresh, no loop");
}

#[tokio::test]
async fn forgetting_one_gateway_keeps_the_others() {
    let erp = FakeErp::sage300_demo();
    let secrets = Arc::new(FixedSecrets::default().with("S300_PASSWORD", "pw"));
    let (services, _) = services(&erp, secrets);
    let first = services.add_integration(&sage300_input()).await.unwrap();
    let mut other = sage300_input();
    other.name = "other".into();
    let second = services.add_integration(&other).await.unwrap();

    services.gateway(&first).await.unwrap();
    services.gateway(&second).await.unwrap();
    assert_eq!(erp.connects(), 2);
    services.gateway(&first).await.unwrap();
    assert_eq!(erp.connects(), 2, "gateways are reused");

    services.forget_gateway(first.id());
    services.gateway(&second).await.unwrap();
    assert_eq!(erp.connects(), 2, "the other integration's gateway is kept");
    services.gateway(&first).await.unwrap();
    assert_eq!(erp.connects(), 3, "the forgotten one reconnects");

    services.forget_gateways();
    services.gateway(&first).await.unwrap();
    services.gateway(&second).await.unwrap();
    assert_eq!(erp.connects(), 5, "forgetting all reconnects both");
}

#[tokio::test]
async fn a_promotion_whose_secret_is_unavailable_sends_nothing() {
    let erp = FakeErp::sage300_demo().with_password("pw");
    let vault = Arc::new(Vault::default().with("vault/erp", "pw"));
    let (services, _) = services(&erp, vault.clone());
    services
        .add_integration(&external_input("vault/erp"))
        .await
        .unwrap();
    services.sync(None, None, &no_progress).await.unwrap();
    services.forget_gateways();
    vault.sealed.store(true, Ordering::SeqCst);
    let account = services.create_account(&valid_account()).await.unwrap();
    let err = services
        .promote(&request(account.id(), "SEALED"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            PromoteError::Gateway(GatewayError::Secret(SecretError::Unavailable { .. }))
        ),
        "{err:?}"
    );
    assert_eq!(erp.create_attempts(), 0);
}
