//! [`Crm2Sage`]: the workflow, delegating to the domain's services, with promotions and
//! recovery on their own tasks so that a dropped future never stops one midway.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crm2sage_domain::ports::{
    AccountFilter, ErpConnector, ErpCustomer, LogEntry, LogPosition, Store, StoreError,
};
use crm2sage_domain::services::{
    AccountError, AccountView, BatchEvent, BatchSummary, CancelFlag, DetailsError, ImportOutcome,
    ImportRow, ImportSummary, IntegrationError, KindReport, PromoteError, Promoted, RecoverError,
    RecoverOptions, RecoverReport, RowOutcome, SyncError, SyncProgress,
};
use crm2sage_domain::{
    Account, AccountId, Binding, CreditCheck, Date, Integration, IntegrationName, NewAccount,
    NewIntegration, Panel, PromotionRequest, ReferenceKind, Services,
};

use crate::Crm2SageBuilder;

/// The domain's services as the facade holds them: any store, any ERP connector.
pub type DynServices = Services<dyn Store, dyn ErpConnector>;

/// How often [`Crm2Sage::sync_cancellable`] looks at its flag.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// crm2sage, wired: integrations, reference-data sync, accounts, promotion (one or a batch),
/// live ERP details, recovery and the promotion log.
///
/// Cheap to clone (one [`Arc`] inside) and `Send + Sync + 'static`: build one at start-up and
/// hand clones to every request handler. Every clone shares the same store, HTTP connection
/// pool, open ERP gateways and promotion leases.
///
/// Each method delegates to [`Services`] (reachable with [`services`](Self::services) for
/// anything not offered here) and returns its typed errors, each with a `class()`.
///
/// **Cancellation.** [`promote`](Self::promote), each row of
/// [`promote_batch`](Self::promote_batch) and [`recover`](Self::recover) run on their own
/// Tokio task: dropping the caller's future (a client disconnect, a timeout layer, a
/// `select!`) never stops them midway. The other methods run in the caller's future; what
/// dropping each one does is in its documentation.
#[derive(Clone)]
pub struct Crm2Sage {
    services: Arc<DynServices>,
}

impl std::fmt::Debug for Crm2Sage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crm2Sage")
            .field("config", &self.services.config())
            .finish_non_exhaustive()
    }
}

/// Runs `work` on its own Tokio task and waits for it. Dropping the returned future detaches
/// the task, which runs to its end. A panic in the task is resumed here; a task cancelled by
/// the runtime shutting down is `Err`. Outside a Tokio runtime `work` runs in place.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return Ok(work.await);
    };
    match handle.spawn(work).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(format!(
            "the operation's task was cancelled (the runtime is shutting down): {e}"
        )),
    }
}

impl Crm2Sage {
    /// A builder: choose the store (required), secrets, HTTP client and lease, then `build`.
    pub fn builder() -> Crm2SageBuilder {
        Crm2SageBuilder::default()
    }

    /// crm2sage over services you wired yourself.
    pub fn from_services(services: Arc<DynServices>) -> Self {
        Self { services }
    }

    /// The domain's services, for anything this facade does not offer.
    pub fn services(&self) -> &Arc<DynServices> {
        &self.services
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        self.services.store()
    }

    // ----- integrations -------------------------------------------------------------------

    /// Validates and stores a new integration (one ERP company). Sends nothing to the ERP
    /// (use [`test_integration`](Self::test_integration)).
    ///
    /// Dropping this future before it completes: the integration is either stored whole or
    /// not at all (one store transaction).
    ///
    /// # Errors
    /// [`IntegrationError`]: invalid fields (all listed), a taken name, the store.
    pub async fn add_integration(
        &self,
        input: &NewIntegration,
    ) -> Result<Integration, IntegrationError> {
        self.services.add_integration(input).await
    }

    /// Every integration.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`IntegrationError::Store`].
    pub async fn integrations(&self) -> Result<Vec<Integration>, IntegrationError> {
        self.services.list_integrations().await
    }

    /// One page of [`integrations`](Self::integrations): at most `limit` integrations whose
    /// name sorts after `after` (from the first when `None`), by name. Pass the last name of a
    /// page as `after` to read the next one; a short page is the last. A listing read this
    /// way holds one page in memory, whatever the number of integrations.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`IntegrationError::Store`].
    pub async fn integrations_page(
        &self,
        after: Option<&IntegrationName>,
        limit: usize,
    ) -> Result<Vec<Integration>, IntegrationError> {
        Ok(self
            .services
            .store()
            .integrations_page(after, limit)
            .await?)
    }

    /// The integration named `name`.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`IntegrationError`]: not found (listing the configured ones), the store.
    pub async fn integration(&self, name: &str) -> Result<Integration, IntegrationError> {
        self.services.show_integration(name).await
    }

    /// Makes `name` the default integration (the one used when none is named).
    ///
    /// Dropping this future before it completes: the default is either changed or not (one
    /// store transaction).
    ///
    /// # Errors
    /// [`IntegrationError`]: not found, the store.
    pub async fn set_default_integration(
        &self,
        name: &str,
    ) -> Result<Integration, IntegrationError> {
        self.services.set_default_integration(name).await
    }

    /// Removes the integration `name` (refused while accounts are bound to it).
    ///
    /// Dropping this future before it completes: the integration is either removed or not
    /// (one store transaction).
    ///
    /// # Errors
    /// [`IntegrationError`]: not found, in use, the store.
    pub async fn remove_integration(&self, name: &str) -> Result<(), IntegrationError> {
        self.services.remove_integration(name).await
    }

    /// Connects to the integration's ERP and checks that it answers and accepts the
    /// credentials. Reads only.
    ///
    /// Dropping this future abandons the check (an HTTP request in flight is cancelled);
    /// nothing is written anywhere.
    ///
    /// # Errors
    /// [`IntegrationError`]: not found, the secret, the ERP's refusal or silence.
    pub async fn test_integration(&self, name: &str) -> Result<Integration, IntegrationError> {
        self.services.test_integration(name).await
    }

    // ----- sync ---------------------------------------------------------------------------

    /// Syncs the prerequisite reference data (every kind the ERP offers, or only `only`) of
    /// `integration` (the default when `None`), calling `progress` as it goes. A kind that
    /// fails keeps its previous data; the others go on.
    ///
    /// Dropping this future stops the sync at its next await point: kinds already finished
    /// keep their new data, the kind under way keeps its previous data (its staged pages are
    /// never swapped in), and that kind's run stays recorded as running until the next sync
    /// takes it over — at once in this process, once its hold expires elsewhere (see
    /// [`Services::sync`](crm2sage_domain::Services::sync)).
    /// [`sync_cancellable`](Self::sync_cancellable) closes that run right away instead.
    ///
    /// # Errors
    /// [`SyncError`] when nothing could be synced at all; per-kind failures are reports.
    pub async fn sync(
        &self,
        integration: Option<&str>,
        only: Option<&[ReferenceKind]>,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<(Integration, Vec<KindReport>), SyncError> {
        self.services.sync(integration, only, progress).await
    }

    /// [`sync`](Self::sync), stopped when `cancel` is raised: `Ok(None)` then. The flag is
    /// looked at every 20 ms; stopping is the domain's
    /// [`Services::sync_until`](crm2sage_domain::Services::sync_until): the request in flight is
    /// dropped and the run of the kind under way is closed as failed at once (its previous data
    /// unchanged), so the next sync of that kind starts straight away anywhere.
    ///
    /// Dropping this future behaves as dropping a [`sync`](Self::sync) future (see there).
    ///
    /// # Errors
    /// As [`sync`](Self::sync).
    pub async fn sync_cancellable(
        &self,
        integration: Option<&str>,
        only: Option<&[ReferenceKind]>,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        cancel: &CancelFlag,
    ) -> Result<Option<(Integration, Vec<KindReport>)>, SyncError> {
        let stopped = AtomicBool::new(false);
        let until = async {
            while !cancel.is_cancelled() {
                tokio::time::sleep(CANCEL_POLL).await;
            }
            stopped.store(true, Ordering::SeqCst);
        };
        let synced = self
            .services
            .sync_until(integration, only, progress, until)
            .await?;
        Ok((!stopped.load(Ordering::SeqCst)).then_some(synced))
    }

    // ----- accounts -----------------------------------------------------------------------

    /// Validates and stores a new account.
    ///
    /// Dropping this future before it completes: the account is either stored or not.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] listing **every** bad field; nothing is stored then.
    pub async fn create_account(&self, input: &NewAccount) -> Result<Account, AccountError> {
        self.services.create_account(input).await
    }

    /// Imports `rows` in order, each as [`upsert_account`](Services::upsert_account) stores it
    /// (a new CRM reference creates an account, a known one updates it or leaves it
    /// unchanged, a row without a reference creates one, an invalid row is rejected), so
    /// importing the same rows again is safe. Rows are taken lazily and stored in chunks of
    /// [`IMPORT_CHUNK`](crm2sage_domain::services::IMPORT_CHUNK), one store transaction each;
    /// `on_row` gets each row's tag and outcome as its chunk is stored. The next chunk is
    /// read while one is written: memory holds two chunks at most, whatever the number of rows. See
    /// [`Services::import_accounts`] for the details.
    ///
    /// Dropping this future before it completes: the chunks already reported are stored, the
    /// chunk being written is stored whole or not at all, the rest is not read; importing the
    /// same rows again completes the import.
    ///
    /// # Errors
    /// [`AccountError::Store`]; the chunks reported before it are stored.
    pub async fn import_accounts<T, I, F>(
        &self,
        rows: I,
        on_row: F,
    ) -> Result<ImportSummary, AccountError>
    where
        I: IntoIterator<Item = ImportRow<T>>,
        F: FnMut(T, ImportOutcome),
    {
        self.services.import_accounts(rows, on_row).await
    }

    /// Accounts matching `filter`.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`AccountError::Store`].
    pub async fn accounts(&self, filter: AccountFilter) -> Result<Vec<Account>, AccountError> {
        self.services.list_accounts(filter).await
    }

    /// One page of [`accounts`](Self::accounts): at most `limit` accounts matching `filter`
    /// whose id sorts after `after` (from the first when `None`), by id (creation order).
    /// Pass the last id of a page as `after` to read the next one; a short page is the last.
    /// A listing read this way holds one page in memory, whatever the number of accounts.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`AccountError::Store`].
    pub async fn accounts_page(
        &self,
        filter: AccountFilter,
        after: Option<AccountId>,
        limit: usize,
    ) -> Result<Vec<Account>, AccountError> {
        Ok(self
            .services
            .store()
            .accounts_page(filter, after, limit)
            .await?)
    }

    /// One account with its bindings (one per integration it was promoted to) and every
    /// promotion attempt.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`AccountError::NotFound`]; [`AccountError::Store`].
    pub async fn account(&self, id: AccountId) -> Result<AccountView, AccountError> {
        self.services.show_account(id).await
    }

    // ----- promotion ----------------------------------------------------------------------

    /// Promotes one account to an ERP customer, exactly once: checks the prerequisites,
    /// records the intent under a lease, creates the customer (adopting one this account
    /// already created) and binds the account. Every attempt, refused or not, goes to the
    /// promotion log.
    ///
    /// **What dropping this future does:** nothing to the promotion. It runs on its own Tokio
    /// task, which goes on to its end and records its result even when the caller stops
    /// waiting (a client disconnect, a timeout layer, a `select!`). A retry meanwhile gets
    /// [`PromoteError::InProgress`]; once it has finished, [`PromoteError::AlreadyPromoted`]
    /// with the binding (or the new attempt's own outcome, if the first one failed). A
    /// promotion whose task died with its process is settled by [`recover`](Self::recover)
    /// once its lease has expired. Outside a Tokio runtime the promotion runs in the caller's
    /// future instead, without this guarantee.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use crm2sage::simulator::{Sage300Config, start_sage300};
    /// use crm2sage::{
    ///     AddressInput, Crm2Sage, MemorySecrets, NewAccount, NewIntegration, PromotionRequest,
    ///     SecretString,
    /// };
    ///
    /// let sim = start_sage300(Sage300Config::default()).await?;
    /// let dir = tempfile::tempdir()?;
    /// let crm2sage = Crm2Sage::builder()
    ///     .sqlite(dir.path().join("crm2sage.db"))
    ///     .secrets(MemorySecrets::new().with("SAGE_PASSWORD", SecretString::from(sim.password())))
    ///     .build()
    ///     .await?;
    /// let mut erp = NewIntegration::new("erp", "sage300", sim.base_url(), sim.company(), sim.user());
    /// erp.password_env = "SAGE_PASSWORD".into();
    /// erp.make_default = true;
    /// crm2sage.add_integration(&erp).await?;
    /// crm2sage.sync(None, None, &|_| {}).await?;
    /// let mut billing = AddressInput::new("100 Harbour Way", "Vancouver", "CA");
    /// billing.state = Some("BC".into());
    /// let mut input = NewAccount::new("Northwind Traders", billing);
    /// input.currency = Some("CAD".into());
    /// let account = crm2sage.create_account(&input).await?;
    /// let mut request = PromotionRequest::new(account.id(), "NW1001");
    /// request.category = Some("RTL".into());
    /// request.tax_group = Some("CALIF".into());
    /// let promoted = crm2sage.promote(&request).await?;
    /// assert_eq!(promoted.binding.customer_no.as_str(), "NW1001");
    /// assert!(sim.customer("NW1001").is_some());
    /// sim.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`PromoteError`]; its `class()` sorts it (invalid, not found, conflict, ERP,
    /// internal). A task cancelled by the runtime shutting down is
    /// [`PromoteError::Store`] with [`StoreError::Internal`] (the promotion, if it had
    /// started, is settled by [`recover`](Self::recover)).
    pub async fn promote(&self, request: &PromotionRequest) -> Result<Promoted, PromoteError> {
        let services = Arc::clone(&self.services);
        let request = request.clone();
        detached(async move { services.promote(&request).await })
            .await
            .unwrap_or_else(|why| Err(PromoteError::Store(StoreError::Internal(why))))
    }

    /// Promotes every request `source` yields with at most `concurrency` under way at once
    /// (at least 1), pulling the next request only when a slot is free, and calling
    /// `on_event` as each row settles; returns the counts. Nothing holds every row or every
    /// outcome, so memory stays flat at any batch size. Each row is a
    /// [`Services::promote_row`](crm2sage_domain::Services::promote_row): every exactly-once
    /// rule holds inside a batch, and running the same batch again is safe — an account
    /// already promoted is `already_promoted` with no ERP work, one a gone holder left
    /// `creating` is settled as [`recover`](Self::recover) settles it, one held by a live
    /// holder (another worker) is `in_progress` and skipped. Raising `cancel` stops new rows
    /// from starting and stops pulling from `source` (rows pulled but not started are
    /// [`RowOutcome::NotAttempted`](crm2sage_domain::services::RowOutcome::NotAttempted)); rows
    /// under way finish.
    ///
    /// **What dropping this future does:** rows already started run to their end on their own
    /// tasks and record their results (their events are not delivered); rows not started
    /// never start, and `source` is not pulled again.
    pub async fn promote_batch<Src>(
        &self,
        source: Src,
        concurrency: usize,
        cancel: &CancelFlag,
        on_event: &mut (dyn FnMut(BatchEvent<'_>) + Send),
    ) -> BatchSummary
    where
        Src: futures_util::Stream<Item = PromotionRequest>,
    {
        crm2sage_domain::services::run_batch(source, concurrency, cancel, on_event, |request| {
            let services = Arc::clone(&self.services);
            async move {
                detached(async move { services.promote_row(&request).await })
                    .await
                    .unwrap_or_else(|why| {
                        RowOutcome::Failed(PromoteError::Store(StoreError::Internal(why)))
                    })
            }
        })
        .await
    }

    /// Reads the promoted customer of `account` live from the integration's ERP (the default
    /// when `integration` is `None`). Reads only.
    ///
    /// Dropping this future abandons the read (an HTTP request in flight is cancelled);
    /// nothing is written anywhere.
    ///
    /// # Errors
    /// [`DetailsError`]; an unreachable ERP is an error, never stale data.
    pub async fn erp_details(
        &self,
        account: AccountId,
        integration: Option<&str>,
    ) -> Result<(Integration, Binding, ErpCustomer), DetailsError> {
        self.services.erp_details(account, integration).await
    }

    /// The live customer panel of `account`'s promoted customer: credit figures and status,
    /// the aging of every open document as of `as_of` (today, UTC, when `None`), the last
    /// `documents` documents (by document date, then number; latest first) and the open
    /// orders, or "not available" when the company has no order entry. Documents and orders
    /// are folded page by page, so memory stays bounded whatever the customer holds. Reads
    /// only.
    ///
    /// Dropping this future abandons the read (an HTTP request in flight is cancelled);
    /// nothing is written anywhere.
    ///
    /// # Errors
    /// [`DetailsError`]; an unreachable ERP or a page that fails is an error, never a partial
    /// aging or stale data.
    pub async fn erp_panel(
        &self,
        account: AccountId,
        integration: Option<&str>,
        as_of: Option<Date>,
        documents: usize,
    ) -> Result<Panel, DetailsError> {
        self.services
            .erp_panel(account, integration, as_of, documents)
            .await
    }

    /// The credit check of `account`'s promoted customer, from the ERP's figures now: on
    /// hold, no limit, within the limit (with what is left) or over it (by how much), with the
    /// figures it used — for an order flow that warns or blocks. A promotion never depends on
    /// it. Reads only.
    ///
    /// Dropping this future abandons the read (an HTTP request in flight is cancelled);
    /// nothing is written anywhere.
    ///
    /// # Errors
    /// [`DetailsError`]; an unreachable ERP is an error, never a stale answer.
    pub async fn credit_status(
        &self,
        account: AccountId,
        integration: Option<&str>,
    ) -> Result<CreditCheck, DetailsError> {
        self.services.credit_status(account, integration).await
    }

    /// Settles every free in-flight promotion: one whose holder's process is gone, or whose
    /// lease has expired without a live task holding it. Run it at start-up, and for a
    /// promotion that still reports `in_progress` once its lease is over.
    ///
    /// **What dropping this future does:** nothing to the recovery. It runs on its own Tokio
    /// task, which settles what it has started and records it; the report is lost. Run it
    /// again to see the state.
    ///
    /// # Errors
    /// [`RecoverError`] only when the store cannot list in-flight promotions (also when the
    /// runtime shut down under the task); per-promotion trouble is a decision in the report.
    pub async fn recover(&self) -> Result<RecoverReport, RecoverError> {
        self.recover_with(RecoverOptions::default()).await
    }

    /// [`recover`](Self::recover) with `options`: up to
    /// [`RecoverOptions::concurrency`](crm2sage_domain::services::RecoverOptions::concurrency)
    /// promotions settled at once (default 8), so one hanging ERP call holds up only its own
    /// slot; the report is complete, oldest first.
    ///
    /// **What dropping this future does:** as for [`recover`](Self::recover): nothing to the
    /// recovery, which runs on its own task to its end; the report is lost.
    ///
    /// # Errors
    /// As [`recover`](Self::recover).
    pub async fn recover_with(
        &self,
        options: RecoverOptions,
    ) -> Result<RecoverReport, RecoverError> {
        let services = Arc::clone(&self.services);
        detached(async move { services.recover_with(options).await })
            .await
            .unwrap_or_else(|why| Err(RecoverError::Store(StoreError::Internal(why))))
    }

    /// The promotion log, oldest first: of `account`, or of every account.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn log(&self, account: Option<AccountId>) -> Result<Vec<LogEntry>, StoreError> {
        self.services.store().log(account).await
    }

    /// One page of [`log`](Self::log): at most `limit` entries (of `account` when given)
    /// after position `after` (from the first when `None`), oldest first, each with its
    /// position. Pass the last position of a page as `after` to read the next one; a short
    /// page is the last. A log read this way holds one page in memory, whatever its length.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn log_page(
        &self,
        account: Option<AccountId>,
        after: Option<LogPosition>,
        limit: usize,
    ) -> Result<Vec<(LogPosition, LogEntry)>, StoreError> {
        self.services.store().log_page(account, after, limit).await
    }
}
