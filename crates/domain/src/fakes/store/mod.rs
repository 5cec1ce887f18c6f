//! The in-memory store: every store port behind one mutex, keeping the same constraints the
//! SQLite store keeps.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::account::{Account, AccountRef};
use crate::codes::ReferenceCode;
use crate::erp::ReferenceKind;
use crate::ids::{AccountId, IntegrationId, PromotionId, SyncRunId};
use crate::integration::{Integration, IntegrationName, IntegrationParts};
use crate::ports::{
    AccountFilter, AccountStore, AddIntegrationError, BeginSyncError, ErpReferenceRecord,
    FencedWriteError, IntegrationStore, LogEntry, LogPosition, PromotionStore, RecordIntentError,
    ReferenceStore, RemoveIntegrationError, SetDefaultError, StoreError, SyncRunError,
    TakeOverError, UpdateAccountError, UpdateIntegrationError,
};
use crate::promotion::{Binding, Lease, LeaseHolder, Promotion, PromotionState};

mod customers;
mod lease;
mod links;
mod parties;
mod party_promotions;
use lease::fenced;
mod reference;
use crate::reference::{ReferenceRecord, SyncCounts, SyncOutcome, SyncRun};
use jiff::Timestamp;

#[derive(Debug, Default)]
struct State {
    integrations: Vec<Integration>,
    accounts: BTreeMap<AccountId, Account>,
    records: BTreeMap<(IntegrationId, ReferenceKind, String), ReferenceRecord>,
    runs: Vec<SyncRun>,
    /// The holder of each running run, and until when.
    sync_holds: HashMap<SyncRunId, (LeaseHolder, Timestamp)>,
    staging: HashMap<SyncRunId, Vec<ErpReferenceRecord>>,
    promotions: Vec<Promotion>,
    bindings: Vec<Binding>,
    /// Ship-to and contact promotions, oldest first.
    party_promotions: Vec<crate::party_promotion::PartyPromotion>,
    log: Vec<LogEntry>,
    /// The customer index of each integration, and where each stands.
    customer_index: customers::CustomerIndex,
    /// Ship-tos by (account, code).
    ship_tos: BTreeMap<(AccountId, crate::ship_to::ShipToCode), crate::ship_to::ShipTo>,
    /// Contacts by (account, code).
    contacts: BTreeMap<(AccountId, crate::contact::ContactCode), crate::contact::Contact>,
    /// Answered, once, by the next `finish_sync` (which then changes nothing).
    finish_fault: Option<StoreError>,
    /// Answered, once, by the next `confirm` (which then changes nothing).
    confirm_fault: Option<StoreError>,
}

/// Every store port in memory. Cheap to create; one per test.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<State>);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `finish_sync` fail with `error` and change nothing, as a store whose
    /// swap fails (disk full, I/O error) would.
    pub fn fail_next_finish_sync(&self, error: StoreError) {
        self.state().finish_fault = Some(error);
    }

    /// Makes the next `confirm` fail with `error` and change nothing, as a store that cannot
    /// write the binding after the ERP created the customer (disk full, database locked) would.
    pub fn fail_next_confirm(&self, error: StoreError) {
        self.state().confirm_fault = Some(error);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl IntegrationStore for MemoryStore {
    async fn add_integration(&self, integration: &Integration) -> Result<(), AddIntegrationError> {
        let mut s = self.state();
        if s.integrations
            .iter()
            .any(|i| i.name() == integration.name())
        {
            return Err(AddIntegrationError::NameTaken(integration.name().clone()));
        }
        if integration.is_default() {
            for i in &mut s.integrations {
                *i = i.clone().with_default(false);
            }
        }
        s.integrations.push(integration.clone());
        s.integrations.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(())
    }

    async fn integrations(&self) -> Result<Vec<Integration>, StoreError> {
        Ok(self.state().integrations.clone())
    }

    async fn integrations_page(
        &self,
        after: Option<&IntegrationName>,
        limit: usize,
    ) -> Result<Vec<Integration>, StoreError> {
        // Kept sorted by name (see add_integration).
        let s = self.state();
        let start = after.map_or(0, |after| {
            s.integrations.partition_point(|i| i.name() <= after)
        });
        Ok(s.integrations
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn integration_by_name(
        &self,
        name: &IntegrationName,
    ) -> Result<Option<Integration>, StoreError> {
        Ok(self
            .state()
            .integrations
            .iter()
            .find(|i| i.name() == name)
            .cloned())
    }

    async fn integration(&self, id: IntegrationId) -> Result<Option<Integration>, StoreError> {
        Ok(self
            .state()
            .integrations
            .iter()
            .find(|i| i.id() == id)
            .cloned())
    }

    async fn default_integration(&self) -> Result<Option<Integration>, StoreError> {
        Ok(self
            .state()
            .integrations
            .iter()
            .find(|i| i.is_default())
            .cloned())
    }

    async fn set_default(&self, name: &IntegrationName) -> Result<(), SetDefaultError> {
        let mut s = self.state();
        if !s.integrations.iter().any(|i| i.name() == name) {
            return Err(SetDefaultError::NotFound(name.clone()));
        }
        for i in &mut s.integrations {
            let is = i.name() == name;
            *i = i.clone().with_default(is);
        }
        Ok(())
    }

    async fn update_integration(
        &self,
        integration: &Integration,
    ) -> Result<(), UpdateIntegrationError> {
        let mut s = self.state();
        let Some(stored) = s
            .integrations
            .iter_mut()
            .find(|i| i.id() == integration.id())
        else {
            return Err(UpdateIntegrationError::NotFound(integration.name().clone()));
        };
        // Only the connection settings change; identity, kind and default stay as stored.
        *stored = Integration::restore(IntegrationParts {
            id: stored.id(),
            name: stored.name().clone(),
            settings: stored.settings().clone(),
            base_url: integration.base_url().clone(),
            company: stored.company().clone(),
            user: integration.user().clone(),
            secret: integration.secret().clone(),
            crm_id_field: integration.crm_id_field().cloned(),
            http_policy: integration.http_policy(),
            timeout: integration.timeout(),
            trusted_ca: integration.trusted_ca().cloned(),
            is_default: stored.is_default(),
            created_at: stored.created_at(),
        });
        Ok(())
    }

    async fn remove_integration(
        &self,
        name: &IntegrationName,
    ) -> Result<(), RemoveIntegrationError> {
        let mut s = self.state();
        let Some(id) = s
            .integrations
            .iter()
            .find(|i| i.name() == name)
            .map(Integration::id)
        else {
            return Err(RemoveIntegrationError::NotFound(name.clone()));
        };
        if s.promotions.iter().any(|p| p.integration == id)
            || s.bindings.iter().any(|b| b.integration == id)
            || s.party_promotions.iter().any(|p| p.integration == id)
        {
            return Err(RemoveIntegrationError::InUse(name.clone()));
        }
        s.integrations.retain(|i| i.id() != id);
        s.customer_index.remove(id);
        s.records.retain(|(i, _, _), _| *i != id);
        let runs: Vec<SyncRunId> = s
            .runs
            .iter()
            .filter(|r| r.integration == id)
            .map(|r| r.id)
            .collect();
        s.runs.retain(|r| r.integration != id);
        for run in runs {
            s.staging.remove(&run);
            s.sync_holds.remove(&run);
        }
        Ok(())
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError> {
        self.insert_accounts(std::slice::from_ref(account)).await
    }

    async fn insert_accounts(&self, accounts: &[Account]) -> Result<(), StoreError> {
        let mut s = self.state();
        let mut taken: BTreeSet<&AccountRef> = s
            .accounts
            .values()
            .filter_map(|a| a.details().reference())
            .collect();
        for account in accounts {
            if let Some(reference) = account.details().reference()
                && !taken.insert(reference)
            {
                return Err(StoreError::Internal(format!(
                    "UNIQUE constraint failed: account reference `{reference}` is taken"
                )));
            }
        }
        drop(taken);
        for account in accounts {
            s.accounts.insert(account.id(), account.clone());
        }
        Ok(())
    }

    async fn update_account(&self, account: &Account) -> Result<(), UpdateAccountError> {
        let mut s = self.state();
        if let Some(reference) = account.details().reference()
            && let Some(other) = s
                .accounts
                .values()
                .find(|a| a.id() != account.id() && a.details().reference() == Some(reference))
        {
            return Err(UpdateAccountError::ReferenceTaken {
                reference: reference.clone(),
                other: other.id(),
            });
        }
        let stored = s
            .accounts
            .get_mut(&account.id())
            .ok_or(UpdateAccountError::NotFound(account.id()))?;
        *stored = Account::restore(
            account.id(),
            account.details().clone(),
            stored.created_at(),
            account.updated_at(),
        );
        Ok(())
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        Ok(self.state().accounts.get(&id).cloned())
    }

    async fn account_by_reference(
        &self,
        reference: &AccountRef,
    ) -> Result<Option<Account>, StoreError> {
        Ok(self
            .state()
            .accounts
            .values()
            .find(|a| a.details().reference() == Some(reference))
            .cloned())
    }

    async fn accounts_by_references(
        &self,
        references: &[AccountRef],
    ) -> Result<Vec<Option<Account>>, StoreError> {
        let s = self.state();
        let by_reference: HashMap<&AccountRef, &Account> = s
            .accounts
            .values()
            .filter_map(|a| a.details().reference().map(|r| (r, a)))
            .collect();
        Ok(references
            .iter()
            .map(|r| by_reference.get(r).map(|a| (*a).clone()))
            .collect())
    }

    async fn write_accounts(
        &self,
        new: Vec<Account>,
        changed: Vec<Account>,
    ) -> Result<(), UpdateAccountError> {
        // All or none: the writes go to a copy, which replaces the accounts only whole.
        let mut s = self.state();
        let mut accounts = s.accounts.clone();
        let mut taken: HashMap<AccountRef, AccountId> = accounts
            .values()
            .filter_map(|a| a.details().reference().map(|r| (r.clone(), a.id())))
            .collect();
        for account in &new {
            if let Some(reference) = account.details().reference()
                && taken.insert(reference.clone(), account.id()).is_some()
            {
                return Err(UpdateAccountError::Store(StoreError::Internal(format!(
                    "UNIQUE constraint failed: account reference `{reference}` is taken"
                ))));
            }
            accounts.insert(account.id(), account.clone());
        }
        for account in &changed {
            let stored = accounts
                .get(&account.id())
                .ok_or(UpdateAccountError::NotFound(account.id()))?;
            if let Some(old) = stored.details().reference() {
                taken.remove(old);
            }
            if let Some(reference) = account.details().reference()
                && let Some(other) = taken.insert(reference.clone(), account.id())
            {
                return Err(UpdateAccountError::ReferenceTaken {
                    reference: reference.clone(),
                    other,
                });
            }
            let restored = Account::restore(
                account.id(),
                account.details().clone(),
                stored.created_at(),
                account.updated_at(),
            );
            accounts.insert(account.id(), restored);
        }
        s.accounts = accounts;
        Ok(())
    }

    async fn accounts(&self, filter: AccountFilter) -> Result<Vec<Account>, StoreError> {
        let s = self.state();
        let promoted: BTreeSet<AccountId> = s.bindings.iter().map(|b| b.account).collect();
        Ok(s.accounts
            .values()
            .filter(|a| match filter {
                AccountFilter::All => true,
                AccountFilter::Promoted => promoted.contains(&a.id()),
                AccountFilter::Pending => !promoted.contains(&a.id()),
            })
            .cloned()
            .collect())
    }

    async fn accounts_page(
        &self,
        filter: AccountFilter,
        after: Option<AccountId>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        use std::ops::Bound;
        let s = self.state();
        let promoted: BTreeSet<AccountId> = s.bindings.iter().map(|b| b.account).collect();
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(s.accounts
            .range((from, Bound::Unbounded))
            .map(|(_, a)| a)
            .filter(|a| match filter {
                AccountFilter::All => true,
                AccountFilter::Promoted => promoted.contains(&a.id()),
                AccountFilter::Pending => !promoted.contains(&a.id()),
            })
            .take(limit)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl PromotionStore for MemoryStore {
    async fn record_intent(
        &self,
        promotion: &Promotion,
        log: &LogEntry,
    ) -> Result<(), RecordIntentError> {
        let mut s = self.state();
        let live = |p: &&Promotion| p.integration == promotion.integration && p.state.is_live();
        if let Some(existing) = s
            .promotions
            .iter()
            .filter(live)
            .find(|p| p.account == promotion.account)
        {
            return Err(RecordIntentError::AccountLive(Box::new(existing.clone())));
        }
        if let Some(existing) = s
            .promotions
            .iter()
            .filter(live)
            .find(|p| p.external_uid == promotion.external_uid)
        {
            return Err(RecordIntentError::UidLive(Box::new(existing.clone())));
        }
        // No live promotion holds either: a binding that remains is a `link`'s.
        if let Some(bound) = s.bindings.iter().find(|b| {
            b.integration == promotion.integration
                && (b.account == promotion.account || b.external_uid == promotion.external_uid)
        }) {
            return Err(RecordIntentError::Bound(Box::new(bound.clone())));
        }
        s.promotions.push(promotion.clone());
        s.log.push(log.clone());
        Ok(())
    }

    async fn renew_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        expires_at: Timestamp,
    ) -> Result<(), FencedWriteError> {
        let mut s = self.state();
        let p = fenced(&mut s.promotions, id, holder)?;
        p.lease = Some(Lease {
            holder: holder.clone(),
            expires_at,
        });
        Ok(())
    }

    async fn confirm(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        binding: &Binding,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError> {
        let mut s = self.state();
        if let Some(error) = s.confirm_fault.take() {
            return Err(FencedWriteError::Store(error));
        }
        let p = fenced(&mut s.promotions, id, holder)?;
        p.state = PromotionState::Promoted;
        p.lease = None;
        p.updated_at = now;
        p.external_uid = binding.external_uid.clone();
        s.bindings
            .retain(|b| !(b.account == binding.account && b.integration == binding.integration));
        s.bindings.push(binding.clone());
        s.log.push(log.clone());
        Ok(())
    }

    async fn fail(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        lease::settle(
            &mut self.state().promotions,
            id,
            holder,
            PromotionState::Failed,
            Some(reason.to_owned()),
            now,
        )
    }

    async fn mark_needs_review(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        lease::settle(
            &mut self.state().promotions,
            id,
            holder,
            PromotionState::NeedsReview,
            Some(reason.to_owned()),
            now,
        )
    }

    async fn release_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError> {
        lease::release(&mut self.state().promotions, id, holder, now)
    }

    async fn take_over(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError> {
        lease::take_over(&mut self.state().promotions, id, expected, new)
    }

    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StoreError> {
        Ok(self.state().promotions.iter().find(|p| p.id == id).cloned())
    }

    async fn in_flight(&self) -> Result<Vec<Promotion>, StoreError> {
        Ok(self
            .state()
            .promotions
            .iter()
            .filter(|p| p.state == PromotionState::Creating)
            .cloned()
            .collect())
    }

    async fn promotions_of(&self, account: AccountId) -> Result<Vec<Promotion>, StoreError> {
        Ok(self
            .state()
            .promotions
            .iter()
            .filter(|p| p.account == account)
            .cloned()
            .collect())
    }

    async fn bindings_of(&self, account: AccountId) -> Result<Vec<Binding>, StoreError> {
        Ok(self
            .state()
            .bindings
            .iter()
            .filter(|b| b.account == account)
            .cloned()
            .collect())
    }

    async fn append_log(&self, entry: &LogEntry) -> Result<(), StoreError> {
        self.state().log.push(entry.clone());
        Ok(())
    }

    async fn log(&self, account: Option<AccountId>) -> Result<Vec<LogEntry>, StoreError> {
        Ok(self
            .state()
            .log
            .iter()
            .filter(|e| account.is_none_or(|a| e.account == a))
            .cloned()
            .collect())
    }

    async fn log_page(
        &self,
        account: Option<AccountId>,
        after: Option<LogPosition>,
        limit: usize,
    ) -> Result<Vec<(LogPosition, LogEntry)>, StoreError> {
        // Position n is the n-th entry appended (entries are never removed).
        let s = self.state();
        let skip = after.map_or(0, |p| usize::try_from(p.get()).unwrap_or(usize::MAX));
        Ok(s.log
            .iter()
            .enumerate()
            .skip(skip)
            .filter(|(_, e)| account.is_none_or(|a| e.account == a))
            .take(limit)
            .map(|(i, e)| (LogPosition::new(i as u64 + 1), e.clone()))
            .collect())
    }
}
