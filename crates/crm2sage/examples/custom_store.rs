//! Your own store: [`CountingStore`] wraps any [`Store`] (here the SQLite one), counts every
//! call by method and delegates it, and is handed to crm2sage with
//! `Crm2Sage::builder().store(Arc::new(wrapper))`. A wrapper like it can log, meter, trace or
//! cache; a store of your own (another database) is written the same way.
//!
//! ```text
//! cargo run -p crm2sage --example custom_store
//! ```
//!
//! Any store must pass the store contract suite (`crm2sage_domain::contract::stores::run`,
//! feature `test-support` of `crm2sage-domain`): it checks the exactly-once rules a store
//! carries (one live promotion per account and per External UID, fenced writes, take-over,
//! sync snapshots). `crates/crm2sage/tests/examples.rs` runs the suite on this wrapper and
//! [`run`] through it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use crm2sage::ports::{
    AccountFilter, AccountStore, AddContactError, AddIntegrationError, AddShipToError,
    BeginSyncError, BindingStore, ContactStore, CustomerIndexState, CustomerIndexStore,
    ErpCustomerKey, ErpCustomerSummary, ErpReferenceRecord, FencedWriteError, IndexedCustomer,
    IntegrationStore, LinkError, LogEntry, PartyPromotionStore, PromotionStore, RecordIntentError,
    RecordPartyIntentError, ReferenceStore, RemoveContactError, RemoveIntegrationError,
    RemoveShipToError, SetDefaultError, ShipToStore, Store, StoreError, SyncRunError,
    TakeOverError, UnlinkError, UpdateAccountError, UpdateIntegrationError,
};
use crm2sage::simulator::{Sage300Config, start_sage300};
use crm2sage::{
    Account, AccountId, AccountRef, AddressInput, Binding, Contact, ContactCode, Crm2Sage,
    ExternalUid, Integration, IntegrationId, IntegrationKey, IntegrationName, Lease, LeaseHolder,
    MatchKeys, MemorySecrets, NewAccount, NewIntegration, PartyOutcome, PartyPromotion, Promotion,
    PromotionId, PromotionRequest, ReferenceCode, ReferenceKind, ReferenceRecord, SecretString,
    ShipTo, ShipToCode, SqliteStore, SyncCounts, SyncOutcome, SyncRun, SyncRunId, Timestamp,
};

/// Any error of the run.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A store that counts every call by method name, then delegates it to `inner`.
#[derive(Debug)]
pub struct CountingStore<S> {
    inner: S,
    calls: Mutex<BTreeMap<&'static str, usize>>,
}

impl<S> CountingStore<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    /// How many times each method was called so far.
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn hit(&self, method: &'static str) -> &S {
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry(method).or_default() += 1;
        }
        &self.inner
    }
}

impl CountingStore<SqliteStore> {
    /// The SQLite store at `path` (created and migrated when needed), counted.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be opened.
    pub fn sqlite(path: &Path) -> Result<Self, StoreError> {
        Ok(Self::new(SqliteStore::open(path)?))
    }
}

#[async_trait]
impl<S: Store> IntegrationStore for CountingStore<S> {
    async fn add_integration(&self, integration: &Integration) -> Result<(), AddIntegrationError> {
        self.hit("add_integration")
            .add_integration(integration)
            .await
    }

    async fn update_integration(
        &self,
        integration: &Integration,
    ) -> Result<(), UpdateIntegrationError> {
        self.hit("update_integration")
            .update_integration(integration)
            .await
    }

    async fn integrations(&self) -> Result<Vec<Integration>, StoreError> {
        self.hit("integrations").integrations().await
    }

    async fn integration_by_name(
        &self,
        name: &IntegrationName,
    ) -> Result<Option<Integration>, StoreError> {
        self.hit("integration_by_name")
            .integration_by_name(name)
            .await
    }

    async fn integration(&self, id: IntegrationId) -> Result<Option<Integration>, StoreError> {
        self.hit("integration").integration(id).await
    }

    async fn default_integration(&self) -> Result<Option<Integration>, StoreError> {
        self.hit("default_integration").default_integration().await
    }

    async fn set_default(&self, name: &IntegrationName) -> Result<(), SetDefaultError> {
        self.hit("set_default").set_default(name).await
    }

    async fn remove_integration(
        &self,
        name: &IntegrationName,
    ) -> Result<(), RemoveIntegrationError> {
        self.hit("remove_integration")
            .remove_integration(name)
            .await
    }
}

#[async_trait]
impl<S: Store> AccountStore for CountingStore<S> {
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError> {
        self.hit("insert_account").insert_account(account).await
    }

    async fn insert_accounts(&self, accounts: &[Account]) -> Result<(), StoreError> {
        self.hit("insert_accounts").insert_accounts(accounts).await
    }

    async fn update_account(&self, account: &Account) -> Result<(), UpdateAccountError> {
        self.hit("update_account").update_account(account).await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.hit("account").account(id).await
    }

    async fn account_by_reference(
        &self,
        reference: &AccountRef,
    ) -> Result<Option<Account>, StoreError> {
        self.hit("account_by_reference")
            .account_by_reference(reference)
            .await
    }

    async fn accounts(&self, filter: AccountFilter) -> Result<Vec<Account>, StoreError> {
        self.hit("accounts").accounts(filter).await
    }
}

#[async_trait]
impl<S: Store> ShipToStore for CountingStore<S> {
    async fn add_ship_to(&self, ship_to: &ShipTo) -> Result<(), AddShipToError> {
        self.hit("add_ship_to").add_ship_to(ship_to).await
    }

    async fn put_ship_tos(&self, ship_tos: Vec<ShipTo>) -> Result<(), AddShipToError> {
        self.hit("put_ship_tos").put_ship_tos(ship_tos).await
    }

    async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, StoreError> {
        self.hit("ship_tos").ship_tos(account).await
    }

    async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &ShipToCode,
    ) -> Result<ShipTo, RemoveShipToError> {
        self.hit("remove_ship_to")
            .remove_ship_to(account, code)
            .await
    }
}

#[async_trait]
impl<S: Store> ContactStore for CountingStore<S> {
    async fn add_contact(&self, contact: &Contact) -> Result<(), AddContactError> {
        self.hit("add_contact").add_contact(contact).await
    }

    async fn put_contacts(&self, contacts: Vec<Contact>) -> Result<(), AddContactError> {
        self.hit("put_contacts").put_contacts(contacts).await
    }

    async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, StoreError> {
        self.hit("contacts").contacts(account).await
    }

    async fn remove_contact(
        &self,
        account: AccountId,
        code: &ContactCode,
    ) -> Result<Contact, RemoveContactError> {
        self.hit("remove_contact")
            .remove_contact(account, code)
            .await
    }
}

#[async_trait]
impl<S: Store> PartyPromotionStore for CountingStore<S> {
    async fn record_party_intent(
        &self,
        promotion: &PartyPromotion,
        log: &LogEntry,
    ) -> Result<(), RecordPartyIntentError> {
        self.hit("record_party_intent")
            .record_party_intent(promotion, log)
            .await
    }

    async fn settle_party(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        outcome: &PartyOutcome,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        self.hit("settle_party")
            .settle_party(id, holder, outcome, now, log)
            .await
    }

    async fn release_party_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.hit("release_party_lease")
            .release_party_lease(id, holder, now)
            .await
    }

    async fn take_over_party(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        self.hit("take_over_party")
            .take_over_party(id, expected, new)
            .await
    }

    async fn party_promotion(&self, id: PromotionId) -> Result<Option<PartyPromotion>, StoreError> {
        self.hit("party_promotion").party_promotion(id).await
    }

    async fn party_in_flight(&self) -> Result<Vec<PartyPromotion>, StoreError> {
        self.hit("party_in_flight").party_in_flight().await
    }

    async fn party_promotions_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<PartyPromotion>, StoreError> {
        self.hit("party_promotions_of")
            .party_promotions_of(account)
            .await
    }
}

#[async_trait]
impl<S: Store> ReferenceStore for CountingStore<S> {
    async fn begin_sync(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        holder: &LeaseHolder,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<SyncRunId, BeginSyncError> {
        self.hit("begin_sync")
            .begin_sync(integration, kind, holder, now, expires_at)
            .await
    }

    async fn stage_page(
        &self,
        run: SyncRunId,
        records: &[ErpReferenceRecord],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), SyncRunError> {
        self.hit("stage_page")
            .stage_page(run, records, now, expires_at)
            .await
    }

    async fn abandon_sync(
        &self,
        run: SyncRunId,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        self.hit("abandon_sync")
            .abandon_sync(run, reason, now)
            .await
    }

    async fn finish_sync(
        &self,
        run: SyncRunId,
        now: Timestamp,
    ) -> Result<SyncCounts, SyncRunError> {
        self.hit("finish_sync").finish_sync(run, now).await
    }

    async fn abort_sync(
        &self,
        run: SyncRunId,
        outcome: SyncOutcome,
        error: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        self.hit("abort_sync")
            .abort_sync(run, outcome, error, now)
            .await
    }

    async fn reference_records(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
    ) -> Result<Vec<ReferenceRecord>, StoreError> {
        self.hit("reference_records")
            .reference_records(integration, kind)
            .await
    }

    async fn reference_record(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        code: &ReferenceCode,
    ) -> Result<Option<ReferenceRecord>, StoreError> {
        self.hit("reference_record")
            .reference_record(integration, kind, code)
            .await
    }

    // Delegated too (not left to the trait's default), so the inner store's batched read is
    // kept.
    async fn reference_records_by_code(
        &self,
        integration: IntegrationId,
        wanted: &[(ReferenceKind, ReferenceCode)],
    ) -> Result<Vec<Option<ReferenceRecord>>, StoreError> {
        self.hit("reference_records_by_code")
            .reference_records_by_code(integration, wanted)
            .await
    }

    async fn synced_kinds(
        &self,
        integration: IntegrationId,
    ) -> Result<BTreeSet<ReferenceKind>, StoreError> {
        self.hit("synced_kinds").synced_kinds(integration).await
    }

    async fn sync_runs(&self, integration: IntegrationId) -> Result<Vec<SyncRun>, StoreError> {
        self.hit("sync_runs").sync_runs(integration).await
    }
}

#[async_trait]
impl<S: Store> PromotionStore for CountingStore<S> {
    async fn record_intent(
        &self,
        promotion: &Promotion,
        log: &LogEntry,
    ) -> Result<(), RecordIntentError> {
        self.hit("record_intent")
            .record_intent(promotion, log)
            .await
    }

    async fn renew_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        expires_at: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.hit("renew_lease")
            .renew_lease(id, holder, expires_at)
            .await
    }

    async fn confirm(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        binding: &Binding,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        self.hit("confirm")
            .confirm(id, holder, binding, now, log)
            .await
    }

    async fn fail(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.hit("fail").fail(id, holder, reason, now).await
    }

    async fn mark_needs_review(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.hit("mark_needs_review")
            .mark_needs_review(id, holder, reason, now)
            .await
    }

    async fn release_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        self.hit("release_lease")
            .release_lease(id, holder, now)
            .await
    }

    async fn take_over(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        self.hit("take_over").take_over(id, expected, new).await
    }

    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StoreError> {
        self.hit("promotion").promotion(id).await
    }

    async fn in_flight(&self) -> Result<Vec<Promotion>, StoreError> {
        self.hit("in_flight").in_flight().await
    }

    async fn promotions_of(&self, account: AccountId) -> Result<Vec<Promotion>, StoreError> {
        self.hit("promotions_of").promotions_of(account).await
    }

    async fn bindings_of(&self, account: AccountId) -> Result<Vec<Binding>, StoreError> {
        self.hit("bindings_of").bindings_of(account).await
    }

    async fn append_log(&self, entry: &LogEntry) -> Result<(), StoreError> {
        self.hit("append_log").append_log(entry).await
    }

    async fn log(&self, account: Option<AccountId>) -> Result<Vec<LogEntry>, StoreError> {
        self.hit("log").log(account).await
    }
}

#[async_trait]
impl<S: Store> CustomerIndexStore for CountingStore<S> {
    async fn upsert_customers(
        &self,
        integration: IntegrationId,
        customers: &[IndexedCustomer],
    ) -> Result<(), StoreError> {
        self.hit("upsert_customers")
            .upsert_customers(integration, customers)
            .await
    }

    async fn finish_customer_sync(
        &self,
        integration: IntegrationId,
        started_at: Timestamp,
        full: bool,
        now: Timestamp,
    ) -> Result<CustomerIndexState, StoreError> {
        self.hit("finish_customer_sync")
            .finish_customer_sync(integration, started_at, full, now)
            .await
    }

    async fn customer_index_state(
        &self,
        integration: IntegrationId,
    ) -> Result<Option<CustomerIndexState>, StoreError> {
        self.hit("customer_index_state")
            .customer_index_state(integration)
            .await
    }

    async fn customer_candidates(
        &self,
        integration: IntegrationId,
        keys: &[MatchKeys],
        limit_each: usize,
    ) -> Result<Vec<Vec<ErpCustomerSummary>>, StoreError> {
        self.hit("customer_candidates")
            .customer_candidates(integration, keys, limit_each)
            .await
    }

    async fn indexed_customers_page(
        &self,
        integration: IntegrationId,
        after: Option<&ErpCustomerKey>,
        limit: usize,
    ) -> Result<Vec<IndexedCustomer>, StoreError> {
        self.hit("indexed_customers_page")
            .indexed_customers_page(integration, after, limit)
            .await
    }
}

#[async_trait]
impl<S: Store> BindingStore for CountingStore<S> {
    async fn link(&self, binding: &Binding, log: &LogEntry) -> Result<(), LinkError> {
        self.hit("link").link(binding, log).await
    }

    async fn unlink(
        &self,
        account: AccountId,
        integration: IntegrationId,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<Binding, UnlinkError> {
        self.hit("unlink")
            .unlink(account, integration, now, log)
            .await
    }

    async fn bindings_page(
        &self,
        integration: IntegrationId,
        after: Option<&IntegrationKey>,
        limit: usize,
    ) -> Result<Vec<Binding>, StoreError> {
        self.hit("bindings_page")
            .bindings_page(integration, after, limit)
            .await
    }

    async fn bindings_of_accounts(
        &self,
        integration: IntegrationId,
        accounts: &[AccountId],
    ) -> Result<Vec<Binding>, StoreError> {
        self.hit("bindings_of_accounts")
            .bindings_of_accounts(integration, accounts)
            .await
    }

    async fn bindings_of_customers(
        &self,
        integration: IntegrationId,
        uids: &[ExternalUid],
    ) -> Result<Vec<Binding>, StoreError> {
        self.hit("bindings_of_customers")
            .bindings_of_customers(integration, uids)
            .await
    }
}

/// What the run did, as the wrapper saw it.
#[derive(Debug)]
pub struct Summary {
    /// The customer number the account was promoted to.
    pub customer_no: String,
    /// Creates the ERP received.
    pub erp_creates: usize,
    /// The store calls, by method.
    pub calls: BTreeMap<&'static str, usize>,
}

/// Runs the workflow (integration, sync, account, promotion) against a fresh simulator with
/// crm2sage's data in a [`CountingStore`] over SQLite.
///
/// # Errors
/// Any step's error.
pub async fn run() -> Result<Summary, Error> {
    let sim = start_sage300(Sage300Config::default()).await?;
    let dir = tempfile::tempdir()?;
    let store = Arc::new(CountingStore::sqlite(&dir.path().join("crm2sage.db"))?);
    let crm2sage = Crm2Sage::builder()
        .store(Arc::clone(&store))
        .secrets(MemorySecrets::new().with("SAGE_PASSWORD", SecretString::from(sim.password())))
        .build()
        .await?;

    crm2sage
        .add_integration(&{
            let mut v_newintegration = NewIntegration::default();
            v_newintegration.name = "erp".into();
            v_newintegration.kind = "sage300".into();
            v_newintegration.url = sim.base_url();
            v_newintegration.company = sim.company().into();
            v_newintegration.user = sim.user().into();
            v_newintegration.password_env = "SAGE_PASSWORD".into();
            v_newintegration.make_default = true;
            v_newintegration
        })
        .await?;
    crm2sage.sync(None, None, &|_| {}).await?;
    let account = crm2sage
        .create_account(&{
            let mut v_newaccount = NewAccount::default();
            v_newaccount.name = "Counted Goods".into();
            v_newaccount.billing = {
                let mut v_addressinput = AddressInput::default();
                v_addressinput.line1 = "7 Tally Road".into();
                v_addressinput.city = "Vancouver".into();
                v_addressinput.state = Some("BC".into());
                v_addressinput.country = "CA".into();
                v_addressinput
            };
            v_newaccount.currency = Some("CAD".into());
            v_newaccount
        })
        .await?;
    let mut request = PromotionRequest::new(account.id(), "CG1001");
    request.category = Some("RTL".into());
    request.tax_group = Some("CALIF".into());
    let promoted = crm2sage.promote(&request).await?;

    let summary = Summary {
        customer_no: promoted.binding.customer_no.as_str().to_owned(),
        erp_creates: sim.count_posts(),
        calls: store.calls(),
    };
    sim.shutdown().await;
    Ok(summary)
}

#[allow(dead_code, clippy::print_stdout)]
#[tokio::main]
async fn main() -> Result<(), Error> {
    let summary = run().await?;
    println!(
        "promoted to customer {} ({} create(s)); store calls:",
        summary.customer_no, summary.erp_creates
    );
    for (method, count) in &summary.calls {
        println!("  {method:<28} {count}");
    }
    Ok(())
}
