//! [`BindingStore`] in memory: `link` and `unlink` under the same lock as `record_intent`, so
//! a link and a promotion of one account or customer never both win.

use async_trait::async_trait;

use super::MemoryStore;
use crate::ids::{AccountId, IntegrationId};
use crate::ports::{BindingStore, LinkError, LogEntry, StoreError, UnlinkError};
use crate::promotion::{Binding, BindingOrigin, ExternalUid, IntegrationKey, PromotionState};
use jiff::Timestamp;

#[async_trait]
impl BindingStore for MemoryStore {
    async fn link(&self, binding: &Binding, log: &LogEntry) -> Result<(), LinkError> {
        let mut s = self.state();
        let of_integration = |b: &&Binding| b.integration == binding.integration;
        if let Some(bound) = s
            .bindings
            .iter()
            .filter(of_integration)
            .find(|b| b.account == binding.account)
        {
            return Err(LinkError::AccountBound(Box::new(bound.clone())));
        }
        if let Some(bound) = s
            .bindings
            .iter()
            .filter(of_integration)
            .find(|b| b.external_uid == binding.external_uid)
        {
            return Err(LinkError::CustomerBound(Box::new(bound.clone())));
        }
        if let Some(creating) = s.promotions.iter().find(|p| {
            p.integration == binding.integration
                && p.state == PromotionState::Creating
                && (p.account == binding.account || p.external_uid == binding.external_uid)
        }) {
            return Err(LinkError::InProgress(Box::new(creating.clone())));
        }
        s.bindings.push(Binding {
            origin: BindingOrigin::Linked,
            ..binding.clone()
        });
        s.log.push(log.clone());
        Ok(())
    }

    async fn unlink(
        &self,
        account: AccountId,
        integration: IntegrationId,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<Binding, UnlinkError> {
        let mut s = self.state();
        let at = s
            .bindings
            .iter()
            .position(|b| b.account == account && b.integration == integration)
            .ok_or(UnlinkError::NotBound)?;
        let binding = s.bindings.remove(at);
        if let Some(promoted) = s.promotions.iter_mut().find(|p| {
            p.account == account
                && p.integration == integration
                && p.state == PromotionState::Promoted
        }) {
            promoted.state = PromotionState::Unlinked;
            promoted.updated_at = now;
        }
        s.log.push(log.clone());
        Ok(binding)
    }

    async fn bindings_page(
        &self,
        integration: IntegrationId,
        after: Option<&IntegrationKey>,
        limit: usize,
    ) -> Result<Vec<Binding>, StoreError> {
        let s = self.state();
        let mut page: Vec<&Binding> = s
            .bindings
            .iter()
            .filter(|b| {
                b.integration == integration
                    && after.is_none_or(|after| b.integration_key.as_str() > after.as_str())
            })
            .collect();
        page.sort_by(|a, b| a.integration_key.as_str().cmp(b.integration_key.as_str()));
        Ok(page.into_iter().take(limit).cloned().collect())
    }

    async fn bindings_of_accounts(
        &self,
        integration: IntegrationId,
        accounts: &[AccountId],
    ) -> Result<Vec<Binding>, StoreError> {
        Ok(self
            .state()
            .bindings
            .iter()
            .filter(|b| b.integration == integration && accounts.contains(&b.account))
            .cloned()
            .collect())
    }

    async fn bindings_of_customers(
        &self,
        integration: IntegrationId,
        uids: &[ExternalUid],
    ) -> Result<Vec<Binding>, StoreError> {
        Ok(self
            .state()
            .bindings
            .iter()
            .filter(|b| b.integration == integration && uids.contains(&b.external_uid))
            .cloned()
            .collect())
    }
}
