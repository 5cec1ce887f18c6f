//! Secret rotation on the real pieces: the ERP's password changes while the service runs, and
//! the gateway (the Sage adapter) asks the secret source once more on the 401, retries that
//! request once with a changed secret, and fails after that one refresh when it is unchanged.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use crm2sage_domain::fakes::FakeProcesses;
use crm2sage_domain::ports::{
    CreateCustomerError, Credentials, ErpConnector, ErpReadError, SecretError, SecretSource,
};
use crm2sage_domain::services::{IntegrationError, SyncProgress};
use crm2sage_domain::{
    CustomerNo, ErpKind, Integration, PromotionRequest, SecretRef, Services, Timestamp,
};
use crm2sage_sage_adapter::{ClientSettings, SageConnector};
use crm2sage_sage_simulator::{RunningSage300, Sage300Config, start_sage300};
use crm2sage_store_sqlite::SqliteStore;
use crm2sage_tests::{new_customer, sage300_input, valid_account};
use secrecy::{ExposeSecret, SecretString};

fn no_progress(_: SyncProgress) {}

/// A secret source that answers its scripted values in turn (the last one from then on) and
/// counts how often it was asked.
struct Scripted {
    answers: Vec<String>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(answers: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            answers: answers.iter().map(|a| (*a).to_owned()).collect(),
            calls: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn next(&self) -> SecretString {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self.answers.get(call).or(self.answers.last());
        SecretString::from(answer.cloned().unwrap_or_default())
    }
}

#[async_trait]
impl SecretSource for Scripted {
    async fn resolve(&self, _integration: &Integration) -> Result<SecretString, SecretError> {
        tokio::task::yield_now().await;
        Ok(self.next())
    }
}

#[async_trait]
impl Credentials for Scripted {
    fn current(&self) -> SecretString {
        let call = self.calls.load(Ordering::SeqCst).saturating_sub(1);
        SecretString::from(
            self.answers
                .get(call)
                .or(self.answers.last())
                .cloned()
                .unwrap_or_default(),
        )
    }

    async fn refresh(&self) -> Result<SecretString, SecretError> {
        Ok(self.next())
    }
}

type Real = Services<SqliteStore, SageConnector>;

/// Services on SQLite and the Sage adapter, with `secrets`, and the simulator's integration
/// registered with an external secret reference.
async fn real(dir: &std::path::Path, sim: &RunningSage300, secrets: Arc<dyn SecretSource>) -> Real {
    let store = Arc::new(SqliteStore::open(&dir.join("crm2sage.db")).unwrap());
    let services = Services::new(
        store,
        Arc::new(SageConnector::new(ClientSettings::for_tests())),
        secrets,
        Arc::new(FakeProcesses::default()),
    );
    let mut input = sage300_input();
    input.url = sim.base_url();
    input.company = sim.company().into();
    input.user = sim.user().into();
    input.password_env = String::new();
    input.secret_ref = Some(SecretRef::external("vault/erp").unwrap());
    input.make_default = true;
    services.add_integration(&input).await.unwrap();
    let stored = services.show_integration("s300").await.unwrap();
    assert_eq!(
        stored.secret().to_string(),
        "external:vault/erp",
        "SQLite keeps the external reference"
    );
    services
}

#[tokio::test]
async fn a_rotated_password_is_resolved_again_on_the_401_and_the_promotion_succeeds() {
    let sim = start_sage300(Sage300Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let old = sim.password().to_owned();
    let secrets = Scripted::new(&[&old, "rotated-Pw-2026"]);
    let services = real(dir.path(), &sim, secrets.clone()).await;
    services.test_integration("s300").await.unwrap();
    services.sync(None, None, &no_progress).await.unwrap();
    assert_eq!(secrets.calls(), 1, "resolved once when the gateway opened");

    sim.set_password("rotated-Pw-2026");
    let account = services.create_account(&valid_account()).await.unwrap();
    let mut request = PromotionRequest::new(account.id(), "ROT1");
    request.category = Some("RTL".into());
    request.tax_group = Some("CALIF".into());
    let promoted = services.promote(&request).await.unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "ROT1");
    assert_eq!(
        secrets.calls(),
        2,
        "asked exactly twice: at open, and once after the 401"
    );
    assert_eq!(sim.count_posts(), 1, "one create");

    services.test_integration("s300").await.unwrap();
    assert_eq!(secrets.calls(), 2, "the rotated secret is kept");
}

#[tokio::test]
async fn a_stale_secret_fails_with_the_auth_error_after_one_refresh() {
    let sim = start_sage300(Sage300Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = Scripted::new(&[sim.password()]);
    let services = real(dir.path(), &sim, secrets.clone()).await;
    services.test_integration("s300").await.unwrap();

    sim.set_password("rotated-Pw-2026");
    sim.clear_request_log();
    let err = services.test_integration("s300").await.unwrap_err();
    assert!(
        matches!(err, IntegrationError::Erp(ErpReadError::Unauthorized)),
        "{err:?}"
    );
    assert_eq!(secrets.calls(), 2, "one refresh, no loop");
    let statuses: Vec<_> = sim.request_log().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [Some(401)],
        "an unchanged secret is not sent again"
    );
}

#[tokio::test]
async fn a_create_answered_401_is_sent_once_more_with_the_rotated_secret_and_creates_once() {
    let sim = start_sage300(Sage300Config::default()).await.unwrap();
    let mut input = sage300_input();
    input.url = sim.base_url();
    input.company = sim.company().into();
    input.user = sim.user().into();
    let integration = input.validate(Timestamp::UNIX_EPOCH).unwrap();
    let credentials = Scripted::new(&[sim.password(), "rotated-Pw-2026"]);
    credentials.next(); // the value the gateway opens with
    let gateway = SageConnector::new(ClientSettings::for_tests())
        .connect(&integration, credentials.clone())
        .await
        .unwrap();
    assert_eq!(credentials.current().expose_secret(), sim.password());

    sim.set_password("rotated-Pw-2026");
    let mut customer = new_customer(ErpKind::Sage300);
    customer.key.customer_no = CustomerNo::parse_sage300("ROT2").unwrap();
    let created = gateway.create_customer(&customer).await.unwrap();
    assert_eq!(created.key, customer.key);
    assert_eq!(credentials.calls(), 2, "one refresh");
    let posts: Vec<_> = sim
        .request_log()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.status)
        .collect();
    assert_eq!(
        posts,
        [Some(401), Some(201)],
        "refused unprocessed, then created"
    );

    // And the gateway now sends the rotated secret: a duplicate is a duplicate, not a 401.
    assert!(matches!(
        gateway.create_customer(&customer).await,
        Err(CreateCustomerError::AlreadyExists)
    ));
    assert_eq!(credentials.calls(), 2);
}

/// Requests refused together ask the source once.
#[tokio::test]
async fn concurrent_refusals_refresh_once() {
    let sim = start_sage300(Sage300Config::default()).await.unwrap();
    let mut input = sage300_input();
    input.url = sim.base_url();
    input.company = sim.company().into();
    input.user = sim.user().into();
    let integration = input.validate(Timestamp::UNIX_EPOCH).unwrap();
    let credentials = Scripted::new(&[sim.password(), "rotated-Pw-2026"]);
    credentials.next();
    let gateway = SageConnector::new(ClientSettings::for_tests())
        .connect(&integration, credentials.clone())
        .await
        .unwrap();
    sim.set_password("rotated-Pw-2026");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let gateway = Arc::clone(&gateway);
        tasks.spawn(async move { gateway.test_connection().await });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.len(), 8);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(credentials.calls(), 2, "one refresh for all eight");
}
