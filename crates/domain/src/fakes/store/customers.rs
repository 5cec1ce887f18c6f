//! [`CustomerIndexStore`] in memory: the index of each integration by (division, number), its
//! lookups a scan (the fake holds test-sized lists), with the SQL stores' semantics.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::MemoryStore;
use crate::codes::{ArDivision, CustomerNo};
use crate::ids::IntegrationId;
use crate::matching::MatchKeys;
use crate::ports::{
    CustomerIndexState, CustomerIndexStore, ErpCustomerKey, ErpCustomerSummary, IndexedCustomer,
    StoreError,
};
use jiff::Timestamp;

/// Where an index entry sorts: integration, division (`None` first), number.
pub(super) type IndexKey = (IntegrationId, Option<ArDivision>, CustomerNo);

fn index_key(integration: IntegrationId, key: &ErpCustomerKey) -> IndexKey {
    (integration, key.division, key.customer_no.clone())
}

/// Whether `entry` shares a key with `keys` (a `None` key matches nothing).
fn shares_a_key(entry: &MatchKeys, keys: &MatchKeys) -> bool {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    same(&entry.name, &keys.name)
        || same(&entry.phone, &keys.phone)
        || same(&entry.email, &keys.email)
}

/// The customer index, and the state of each integration's.
#[derive(Debug, Default)]
pub(super) struct CustomerIndex {
    pub(super) customers: BTreeMap<IndexKey, IndexedCustomer>,
    pub(super) states: BTreeMap<IntegrationId, CustomerIndexState>,
}

impl CustomerIndex {
    fn of(&self, integration: IntegrationId) -> impl Iterator<Item = &IndexedCustomer> {
        self.customers
            .iter()
            .filter(move |((i, _, _), _)| *i == integration)
            .map(|(_, c)| c)
    }

    /// Drops every entry of `integration` (when the integration is removed).
    pub(super) fn remove(&mut self, integration: IntegrationId) {
        self.customers.retain(|(i, _, _), _| *i != integration);
        self.states.remove(&integration);
    }
}

#[async_trait]
impl CustomerIndexStore for MemoryStore {
    async fn upsert_customers(
        &self,
        integration: IntegrationId,
        customers: &[IndexedCustomer],
    ) -> Result<(), StoreError> {
        let mut s = self.state();
        for customer in customers {
            s.customer_index.customers.insert(
                index_key(integration, &customer.summary.key),
                customer.clone(),
            );
        }
        Ok(())
    }

    async fn finish_customer_sync(
        &self,
        integration: IntegrationId,
        started_at: Timestamp,
        full: bool,
        now: Timestamp,
    ) -> Result<CustomerIndexState, StoreError> {
        let mut s = self.state();
        let index = &mut s.customer_index;
        if full {
            index
                .customers
                .retain(|(i, _, _), c| *i != integration || c.seen_at >= started_at);
        }
        let previous = index.states.get(&integration).map(|st| st.full_from);
        let state = CustomerIndexState {
            synced_from: started_at,
            // Never a full sync yet: the epoch, so "the last full sync is old" holds.
            full_from: if full {
                started_at
            } else {
                previous.unwrap_or(Timestamp::UNIX_EPOCH)
            },
            finished_at: now,
            customers: index.of(integration).count() as u64,
        };
        index.states.insert(integration, state);
        Ok(state)
    }

    async fn customer_index_state(
        &self,
        integration: IntegrationId,
    ) -> Result<Option<CustomerIndexState>, StoreError> {
        Ok(self
            .state()
            .customer_index
            .states
            .get(&integration)
            .copied())
    }

    async fn customer_candidates(
        &self,
        integration: IntegrationId,
        keys: &[MatchKeys],
        limit_each: usize,
    ) -> Result<Vec<Vec<ErpCustomerSummary>>, StoreError> {
        let s = self.state();
        Ok(keys
            .iter()
            .map(|wanted| {
                // Entries come by key, each once however many of its keys match.
                s.customer_index
                    .of(integration)
                    .filter(|c| shares_a_key(&c.keys, wanted))
                    .take(limit_each)
                    .map(|c| c.summary.clone())
                    .collect()
            })
            .collect())
    }

    async fn indexed_customers_page(
        &self,
        integration: IntegrationId,
        after: Option<&ErpCustomerKey>,
        limit: usize,
    ) -> Result<Vec<IndexedCustomer>, StoreError> {
        let s = self.state();
        let after = after.map(|k| (k.division, k.customer_no.clone()));
        Ok(s.customer_index
            .customers
            .iter()
            .filter(|((i, division, number), _)| {
                *i == integration
                    && after
                        .as_ref()
                        .is_none_or(|(d, n)| (division, number) > (d, n))
            })
            .take(limit)
            .map(|(_, c)| c.clone())
            .collect())
    }
}
