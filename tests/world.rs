//! The world of the exactly-once fault scenarios (`exactly_once.rs` in the `adapters` target):
//! one Sage 300 simulator, one SQLite database and the services a test process builds on them,
//! with the audit every scenario ends with.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm2sage_domain::fakes::{FakeProcesses, FixedSecrets, ManualClock};
use crm2sage_domain::ports::{AccountFilter, AccountStore, PromotionStore};
use crm2sage_domain::services::PromoteError;
use crm2sage_domain::{AccountId, NewIntegration, PromotionRequest, PromotionState, Services};
use crm2sage_sage_adapter::{ClientSettings, SageConnector};
use crm2sage_sage_simulator::{
    Faults, RunningSage300, Sage300Config, Sage300Record, start_sage300,
};
use crm2sage_store_sqlite::SqliteStore;

use crate::valid_account;

pub type App = Services<SqliteStore, SageConnector>;

/// The customers the simulator's demo data starts with.
pub const DEMO_CUSTOMERS: [&str; 4] = ["1100", "1105", "1200", "BCCUST"];

/// The optional field the CRM-id scenarios configure.
pub const CRM_ID: &str = "CRMID";

/// How long the create of a race waits before the simulator handles it: the window in which
/// a test changes the faults (or the ERP's data) between the lookup and the create.
pub const WINDOW: Duration = Duration::from_millis(500);

pub fn no_progress(_: crm2sage_domain::services::SyncProgress) {}

pub fn request(account: AccountId, number: &str) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, number);
    r.category = Some("RTL".into());
    r.tax_group = Some("CALIF".into());
    // These suites promote many accounts made from one template (one name): not the
    // duplicate guard's business, which `duplicates.rs` tests.
    r.allow_duplicate = true;
    r
}

pub fn faults(latency: Duration) -> Faults {
    Faults {
        latency,
        ..Faults::default()
    }
}

/// A JSON value without naming serde_json (not a dependency of this crate).
pub fn value<V: From<T>, T>(v: T) -> V {
    V::from(v)
}

/// A JSON array of objects, likewise.
pub fn objects<V: From<Vec<V>> + From<Sage300Record>>(items: Vec<Sage300Record>) -> V {
    V::from(items.into_iter().map(V::from).collect::<Vec<V>>())
}

/// One simulator, one SQLite database, and the services a test process would build on them.
pub struct World {
    pub sim: RunningSage300,
    _dir: tempfile::TempDir,
    pub db: PathBuf,
    pub store: Arc<SqliteStore>,
    pub services: Arc<App>,
    pub crm_id_field: Option<&'static str>,
    pub settings: ClientSettings,
    pub accounts: usize,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("db", &self.db)
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

impl World {
    /// A simulator with the demo data, an integration `s300` (the default) synced, and services
    /// on host `test-host` as process 100. The request log starts empty.
    pub async fn start(settings: ClientSettings, crm_id_field: Option<&'static str>) -> Self {
        let sim = start_sage300(Sage300Config::default()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crm2sage.db");
        let store = Arc::new(SqliteStore::open(&db).unwrap());
        let processes = Arc::new(FakeProcesses::new("test-host", 100, 1));
        let services = Arc::new(Self::services_on(
            Arc::clone(&store),
            &sim,
            settings.clone(),
            processes.clone(),
        ));
        services
            .add_integration(&{
                let mut new_integration = NewIntegration::new(
                    "s300",
                    "sage300",
                    sim.base_url(),
                    sim.company(),
                    sim.user(),
                );
                new_integration.password_env = "S300_PASSWORD".into();
                new_integration.crm_id_field = crm_id_field.map(str::to_owned);
                new_integration.make_default = true;
                new_integration
            })
            .await
            .unwrap();
        services.sync(None, None, &no_progress).await.unwrap();
        sim.clear_request_log();
        Self {
            sim,
            _dir: dir,
            db,
            store,
            services,
            crm_id_field,
            settings,
            accounts: 0,
        }
    }

    pub fn services_on(
        store: Arc<SqliteStore>,
        sim: &RunningSage300,
        settings: ClientSettings,
        processes: Arc<FakeProcesses>,
    ) -> App {
        Services::new(
            store,
            Arc::new(SageConnector::new(settings)),
            Arc::new(FixedSecrets::default().with("S300_PASSWORD", sim.password())),
            processes,
        )
    }

    /// Another process on the same host and database: its own SQLite connection, its own
    /// connector, process `pid`.
    pub fn other_process(&self, pid: u32) -> (App, Arc<FakeProcesses>) {
        let processes = Arc::new(FakeProcesses::new("test-host", pid, 1));
        let store = Arc::new(SqliteStore::open(&self.db).unwrap());
        let app = Self::services_on(store, &self.sim, self.settings.clone(), processes.clone());
        (app, processes)
    }

    /// A process on another host sharing the database, with a clock under test control.
    pub fn process_on_host(&self, host: &str, clock: &Arc<ManualClock>) -> App {
        let processes = Arc::new(FakeProcesses::new(host, 100, 1));
        let store = Arc::new(SqliteStore::open(&self.db).unwrap());
        Self::services_on(store, &self.sim, self.settings.clone(), processes)
            .with_clock(clock.clone())
    }

    pub async fn account(&mut self, name: &str) -> AccountId {
        let mut input = valid_account();
        input.name = name.into();
        self.accounts += 1;
        self.services.create_account(&input).await.unwrap().id()
    }

    pub async fn state(&self, account: AccountId) -> Vec<PromotionState> {
        self.store
            .promotions_of(account)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.state)
            .collect()
    }

    pub async fn events(&self, account: AccountId) -> Vec<&'static str> {
        self.store
            .log(Some(account))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.as_str())
            .collect()
    }

    /// Waits until `n` lookups (GETs of a customer) have been answered.
    pub async fn lookups_answered(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answered = self
                .sim
                .request_log()
                .iter()
                .filter(|r| r.method == "GET" && r.path.contains("/ARCustomers"))
                .count();
            if answered >= n {
                return;
            }
            assert!(Instant::now() < deadline, "no lookup reached the simulator");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The statuses of the POSTs answered (or dropped: `None`) so far.
    pub fn post_statuses(&self) -> Vec<Option<u16>> {
        self.sim
            .request_log()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/ARCustomers"))
            .map(|r| r.status)
            .collect()
    }

    /// POSTs that arrived at `since` or later.
    pub fn posts_since(&self, since: Instant) -> usize {
        self.sim
            .request_log()
            .iter()
            .filter(|r| r.method == "POST" && r.started >= since)
            .count()
    }

    /// Starts a promotion in its own task.
    pub fn spawn_promote(
        &self,
        account: AccountId,
        number: &str,
    ) -> tokio::task::JoinHandle<Result<crm2sage_domain::services::Promoted, PromoteError>> {
        let services = Arc::clone(&self.services);
        let request = request(account, number);
        tokio::spawn(async move { services.promote(&request).await })
    }

    /// A customer that someone else created in Sage, named `name`, with `crm_id` in the
    /// CRM-id optional field if given.
    pub fn foreign_customer(&self, number: &str, name: &str, crm_id: Option<&str>) {
        let mut rec = Sage300Record::new();
        rec.insert("CustomerNumber".into(), value(number));
        rec.insert("CustomerName".into(), value(name));
        rec.insert("GroupCode".into(), value("WHL"));
        if let Some(id) = crm_id {
            let mut field = Sage300Record::new();
            field.insert("CustomerNumber".into(), value(number));
            field.insert("OptionalField".into(), value(CRM_ID));
            field.insert("Value".into(), value(id));
            rec.insert("CustomerOptionalFieldValues".into(), objects(vec![field]));
        }
        self.sim.insert_customer(rec);
    }

    /// The invariants every scenario ends with. `foreign` are the customer numbers someone
    /// else created in the ERP during the test. Returns the number of bound accounts.
    pub async fn audit(&self, foreign: &[&str]) -> usize {
        // Nothing left in flight.
        let in_flight = self.store.in_flight().await.unwrap();
        assert!(in_flight.is_empty(), "still in flight: {in_flight:?}");

        // No duplicate ERP customer.
        let customers = self.sim.customers();
        let numbers: Vec<String> = customers
            .iter()
            .map(|c| c["CustomerNumber"].as_str().unwrap().to_owned())
            .collect();
        let distinct: BTreeSet<&String> = numbers.iter().collect();
        assert_eq!(distinct.len(), numbers.len(), "duplicates in {numbers:?}");

        // No lost account; each account has at most one binding, exactly when one of its
        // promotions is `promoted`, and it points at an ERP customer that is this account's.
        let accounts = self.store.accounts(AccountFilter::All).await.unwrap();
        assert_eq!(accounts.len(), self.accounts, "an account was lost");
        let mut bound: BTreeMap<String, AccountId> = BTreeMap::new();
        for account in &accounts {
            let bindings = self.store.bindings_of(account.id()).await.unwrap();
            let promotions = self.store.promotions_of(account.id()).await.unwrap();
            let promoted = promotions
                .iter()
                .filter(|p| p.state == PromotionState::Promoted)
                .count();
            assert!(bindings.len() <= 1, "{bindings:?}");
            assert_eq!(promoted, bindings.len(), "{promotions:?} vs {bindings:?}");
            for b in bindings {
                let uid = b.external_uid.as_str().to_owned();
                let erp = self
                    .sim
                    .customer(&uid)
                    .unwrap_or_else(|| panic!("binding to {uid}, which the ERP does not have"));
                match self.crm_id_field {
                    Some(field) => {
                        let ids = erp["CustomerOptionalFieldValues"].as_array().unwrap();
                        let id = ids
                            .iter()
                            .find(|f| f["OptionalField"] == field)
                            .and_then(|f| f["Value"].as_str());
                        assert_eq!(id, Some(account.id().to_string().as_str()), "{erp:?}");
                    }
                    // Recover's rule: the same name, ignoring case and surrounding spaces.
                    None => assert!(
                        erp["CustomerName"]
                            .as_str()
                            .unwrap()
                            .trim()
                            .eq_ignore_ascii_case(account.details().name().as_str()),
                        "{erp:?}"
                    ),
                }
                if let Some(other) = bound.insert(uid.clone(), account.id()) {
                    panic!("{uid} is bound to {other} and {}", account.id());
                }
            }
        }

        // Every ERP customer is a demo one, someone else's, or bound to exactly one account:
        // nothing was created and then forgotten.
        for n in &numbers {
            assert!(
                DEMO_CUSTOMERS.contains(&n.as_str())
                    || foreign.contains(&n.as_str())
                    || bound.contains_key(n),
                "customer {n} is in the ERP but bound to no account"
            );
        }
        assert_eq!(
            numbers.len(),
            DEMO_CUSTOMERS.len() + foreign.len() + bound.len()
        );
        bound.len()
    }
}
