//! The local customer index: the ERP's customer list, kept per integration with its lookup
//! keys, so the duplicate guard and `match` compare without asking the ERP.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::ids::IntegrationId;
use crate::matching::MatchKeys;

use super::erp::ErpCustomerKey;
use super::erp_customers::ErpCustomerSummary;
use super::store::StoreError;

/// One customer of the index: the summary the ERP listed, its lookup keys
/// ([`MatchKeys::of`] of its name, phone and e-mail) and when a sync last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedCustomer {
    /// What the ERP listed.
    pub summary: ErpCustomerSummary,
    /// Its lookup keys.
    pub keys: MatchKeys,
    /// When the sync that last listed it started.
    pub seen_at: Timestamp,
}

impl IndexedCustomer {
    /// The index entry for `summary`, seen by a sync started at `seen_at`; its keys are
    /// derived here, so every store keeps the same ones.
    pub fn new(summary: ErpCustomerSummary, seen_at: Timestamp) -> Self {
        let keys = MatchKeys::of(
            &summary.name,
            summary.phone.as_deref(),
            summary.email.as_deref(),
        );
        Self {
            summary,
            keys,
            seen_at,
        }
    }
}

/// Where an integration's customer index stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerIndexState {
    /// When the last sync that finished started: the next sync asks for what changed since.
    pub synced_from: Timestamp,
    /// When the last full sync (every customer listed, the unseen dropped) started.
    pub full_from: Timestamp,
    /// When the last sync finished.
    pub finished_at: Timestamp,
    /// How many customers the index holds.
    pub customers: u64,
}

/// The customer index of each integration.
#[async_trait]
pub trait CustomerIndexStore: Send + Sync {
    /// Inserts or replaces (by integration and key) every one of `customers`, in one
    /// transaction: one page of a customer sync.
    ///
    /// # Errors
    /// [`StoreError`]; on error nothing of the page is written.
    async fn upsert_customers(
        &self,
        integration: IntegrationId,
        customers: &[IndexedCustomer],
    ) -> Result<(), StoreError>;

    /// Ends a sync of `integration`'s index that started at `started_at`: when `full`, drops
    /// every customer last seen before `started_at` (the ERP no longer lists it) first; then
    /// records the [`CustomerIndexState`] (its `full_from` moves only when `full`) and returns
    /// it, in one transaction.
    ///
    /// # Errors
    /// [`StoreError`]; on error nothing is dropped or recorded.
    async fn finish_customer_sync(
        &self,
        integration: IntegrationId,
        started_at: Timestamp,
        full: bool,
        now: Timestamp,
    ) -> Result<CustomerIndexState, StoreError>;

    /// Where `integration`'s index stands; `None` when no sync of it has finished.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn customer_index_state(
        &self,
        integration: IntegrationId,
    ) -> Result<Option<CustomerIndexState>, StoreError>;

    /// For each of `keys`, in order, the index's customers of `integration` sharing at least
    /// one of its keys (name, phone or e-mail; a `None` key matches nothing), at most
    /// `limit_each` of them, by key: one read for a chunk of accounts.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn customer_candidates(
        &self,
        integration: IntegrationId,
        keys: &[MatchKeys],
        limit_each: usize,
    ) -> Result<Vec<Vec<ErpCustomerSummary>>, StoreError>;

    /// One page of `integration`'s index: at most `limit` customers whose key sorts after
    /// `after` (division, then number; from the first when `None`).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn indexed_customers_page(
        &self,
        integration: IntegrationId,
        after: Option<&ErpCustomerKey>,
        limit: usize,
    ) -> Result<Vec<IndexedCustomer>, StoreError>;
}
