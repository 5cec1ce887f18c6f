//! [`Crm2Sage`]'s duplicate-customer tools: the customer index sync, the dry run, link,
//! unlink, match and reconcile, each delegating to the domain's services.

use std::sync::Arc;

use crm2sage_domain::ports::StoreError;
use crm2sage_domain::services::{
    CustomerSyncError, CustomerSyncReport, DryRun, LinkAccountError, Linked, MatchError, MatchRow,
    MatchSummary, PromoteError, ReconcileError, ReconcileRow, ReconcileSummary, UnlinkAccountError,
};
use crm2sage_domain::{AccountId, Binding, Integration, PromotionRequest};

use crate::Crm2Sage;
use crate::facade::detached;

impl Crm2Sage {
    /// Syncs the integration's customer index (the default integration when `None`): every
    /// customer on the first sync or when `full`, else those maintained since the last one;
    /// `progress` gets the customers listed so far and the ERP's total after each page. The
    /// duplicate guard and [`match_accounts`](Self::match_accounts) read the index.
    ///
    /// Dropping this future stops the sync between pages; pages written stay, the index's
    /// state does not move, and the next sync asks again from the same day.
    ///
    /// # Errors
    /// [`CustomerSyncError`]: a page that fails (its ERP error), a looping server, the store.
    pub async fn sync_customers(
        &self,
        integration: Option<&str>,
        full: bool,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> Result<CustomerSyncReport, CustomerSyncError> {
        self.services()
            .sync_customers(integration, full, progress)
            .await
    }

    /// Every check [`promote`](Self::promote) makes — including the live customer-number
    /// check and the duplicate guard — and the exact payload it would send; records nothing
    /// and writes nothing to the ERP.
    ///
    /// Dropping this future abandons its reads; nothing changes anywhere.
    ///
    /// # Errors
    /// [`PromoteError`] as [`promote`](Self::promote) refuses before creating, with
    /// `CustomerNoExists` (the number is taken) and `PossibleDuplicate` (code
    /// `possible_duplicate`, with the candidates).
    pub async fn promote_dry_run(
        &self,
        request: &PromotionRequest,
    ) -> Result<DryRun, PromoteError> {
        self.services().promote_dry_run(request).await
    }

    /// Links `account` to the existing ERP customer `customer_no` (`DD-NNNN` or `NNNN` on
    /// Sage 100) in `integration` (the default when `None`): reads it live, writes the binding
    /// (origin `linked`), logs it, and writes the account id into the integration's CRM-id
    /// field when it has one.
    ///
    /// **What dropping this future does:** nothing to the link: it runs on its own Tokio task
    /// to its end (outside a runtime, in the caller's future).
    ///
    /// # Errors
    /// [`LinkAccountError`]: `customer_not_found` (not found), `customer_bound` /
    /// `already_promoted` / `in_progress` (conflicts), the ERP's read errors. A failed CRM-id
    /// write is reported in [`Linked::crm_id`], not as an error.
    pub async fn link(
        &self,
        account: AccountId,
        customer_no: &str,
        integration: Option<&str>,
    ) -> Result<Linked, LinkAccountError> {
        let services = Arc::clone(self.services());
        let customer_no = customer_no.to_owned();
        let integration = integration.map(str::to_owned);
        detached(async move {
            services
                .link(account, &customer_no, integration.as_deref())
                .await
        })
        .await
        .unwrap_or_else(|why| Err(StoreError::Internal(why).into()))
    }

    /// Removes `account`'s binding in `integration` (the default when `None`); the ERP
    /// customer is not touched and the log keeps the history. Returns the binding removed.
    ///
    /// Dropping this future leaves the binding whole or removed (one store transaction).
    ///
    /// # Errors
    /// [`UnlinkAccountError`]: `not_bound`, `account_not_found`, the store.
    pub async fn unlink(
        &self,
        account: AccountId,
        integration: Option<&str>,
    ) -> Result<(Integration, Binding), UnlinkAccountError> {
        self.services().unlink(account, integration).await
    }

    /// Proposes, for every account unbound in `integration`, the customers of the index that
    /// may be it (score and reasons), calling `on_row` as each account is decided; with
    /// `apply`, links each account that has exactly one candidate at or above `min_score` and
    /// no rival. Streams: memory holds one chunk of accounts.
    ///
    /// Dropping this future stops it; links made stand.
    ///
    /// # Errors
    /// [`MatchError`]: no customer index yet, a bad threshold, the store.
    pub async fn match_accounts(
        &self,
        integration: Option<&str>,
        min_score: f64,
        apply: bool,
        on_row: &mut (dyn FnMut(&MatchRow) + Send),
    ) -> Result<(Integration, MatchSummary), MatchError> {
        self.services()
            .match_accounts(integration, min_score, apply, on_row)
            .await
    }

    /// Checks every binding of `integration` live against the ERP — `ok`, `missing`,
    /// `inactive`, `on_hold`, `changed` (with the fields) — calling `on_row` for each.
    /// Streams, with at most eight reads in flight.
    ///
    /// Dropping this future stops it; nothing was written.
    ///
    /// # Errors
    /// [`ReconcileError`]; an unreadable customer is a row, not an error.
    pub async fn reconcile(
        &self,
        integration: Option<&str>,
        on_row: &mut (dyn FnMut(&ReconcileRow) + Send),
    ) -> Result<(Integration, ReconcileSummary), ReconcileError> {
        self.services().reconcile(integration, on_row).await
    }
}
