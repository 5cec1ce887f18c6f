//! The local side: integrations, accounts, reference data with sync runs, promotions with
//! leases, bindings and the promotion log.
//!
//! The stores carry the exactly-once rules in their constraints: at most one *live* promotion
//! (`creating` or `promoted`) per (integration, account) and per (integration, External UID),
//! enforced atomically by [`PromotionStore::record_intent`], and fenced writes that succeed
//! only for the current lease holder.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::account::{Account, AccountRef};
use crate::codes::ReferenceCode;
use crate::erp::ReferenceKind;
use crate::ids::{AccountId, IntegrationId, PromotionId, SyncRunId};
use crate::integration::{Integration, IntegrationName};
use crate::ports::customer_index::CustomerIndexStore;
use crate::ports::erp::ErpReferenceRecord;
use crate::ports::links::BindingStore;
use crate::ports::parties::{ContactStore, ShipToStore};
use crate::ports::party_promotions::PartyPromotionStore;
use crate::promotion::{Binding, Lease, LeaseHolder, Promotion};
use crate::reference::{ReferenceRecord, SyncCounts, SyncOutcome, SyncRun};
use jiff::Timestamp;

pub use super::store_errors::{
    AddIntegrationError, FencedWriteError, RecordIntentError, RemoveIntegrationError,
    SetDefaultError, StoreError, TakeOverError, UpdateAccountError, UpdateIntegrationError,
};

/// Integrations.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    /// Adds `integration`. When it is marked default, every other integration stops being the
    /// default in the same transaction.
    ///
    /// # Errors
    /// MUST return [`AddIntegrationError::NameTaken`] when the name is in use.
    async fn add_integration(&self, integration: &Integration) -> Result<(), AddIntegrationError>;

    /// Every integration, by name.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn integrations(&self) -> Result<Vec<Integration>, StoreError>;

    /// The integration named `name`.
    ///
    /// # Errors
    /// [`StoreError`]; absence is `Ok(None)`.
    async fn integration_by_name(
        &self,
        name: &IntegrationName,
    ) -> Result<Option<Integration>, StoreError>;

    /// The integration with `id`.
    ///
    /// # Errors
    /// [`StoreError`]; absence is `Ok(None)`.
    async fn integration(&self, id: IntegrationId) -> Result<Option<Integration>, StoreError>;

    /// The default integration, if one is set.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn default_integration(&self) -> Result<Option<Integration>, StoreError>;

    /// Makes `name` the only default.
    ///
    /// # Errors
    /// MUST return [`SetDefaultError::NotFound`] for an unknown name (and change nothing).
    async fn set_default(&self, name: &IntegrationName) -> Result<(), SetDefaultError>;

    /// Replaces the settings of the stored integration with `integration.id()` by
    /// `integration`'s: URL, user, secret reference, CRM id field, transport policy, timeout
    /// and trusted CA. Its name, kind, company, default flag and creation time stay as stored.
    ///
    /// # Errors
    /// MUST return [`UpdateIntegrationError::NotFound`] when no integration has that id (and
    /// change nothing).
    async fn update_integration(
        &self,
        integration: &Integration,
    ) -> Result<(), UpdateIntegrationError>;

    /// Removes `name` and its reference data.
    ///
    /// # Errors
    /// MUST return [`RemoveIntegrationError::NotFound`] for an unknown name and
    /// [`RemoveIntegrationError::InUse`] when any promotion refers to it.
    async fn remove_integration(
        &self,
        name: &IntegrationName,
    ) -> Result<(), RemoveIntegrationError>;

    /// One page of [`IntegrationStore::integrations`]: at most `limit` integrations whose
    /// name sorts after `after` (from the first when `None`), by name — the keyset a listing
    /// continues from is the last name it got. A name that is not stored is a valid `after`
    /// (the page starts at the next name). `limit` 0 is an empty page.
    ///
    /// The default filters [`IntegrationStore::integrations`]; stores override it with an
    /// index-backed keyset read.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn integrations_page(
        &self,
        after: Option<&IntegrationName>,
        limit: usize,
    ) -> Result<Vec<Integration>, StoreError> {
        let mut all = self.integrations().await?;
        all.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(all
            .into_iter()
            .filter(|i| after.is_none_or(|after| i.name() > after))
            .take(limit)
            .collect())
    }
}

/// Which accounts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountFilter {
    /// Every account.
    #[default]
    All,
    /// Accounts with at least one binding.
    Promoted,
    /// Accounts with no binding.
    Pending,
}

/// Accounts.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Stores a new account.
    ///
    /// # Errors
    /// [`StoreError`]; the id is fresh. A CRM reference another account already has MUST be
    /// refused (references are unique: the store's constraint decides between two concurrent
    /// inserts of one reference) and nothing stored.
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError>;

    /// Stores many new accounts in one transaction: all or none.
    ///
    /// # Errors
    /// [`StoreError`]; on error (a taken CRM reference among them too) none is stored.
    async fn insert_accounts(&self, accounts: &[Account]) -> Result<(), StoreError>;

    /// Replaces the stored account that has `account`'s id with `account`: every detail, the
    /// CRM reference and `updated_at` (the creation time is kept as stored).
    ///
    /// # Errors
    /// [`UpdateAccountError::NotFound`] for an unknown id;
    /// [`UpdateAccountError::ReferenceTaken`] when another account has its CRM reference;
    /// [`UpdateAccountError::Store`]. On error nothing changed.
    async fn update_account(&self, account: &Account) -> Result<(), UpdateAccountError>;

    /// The account with `id`.
    ///
    /// # Errors
    /// [`StoreError`]; absence is `Ok(None)`.
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError>;

    /// The account whose CRM reference is `reference` (references are unique).
    ///
    /// # Errors
    /// [`StoreError`]; absence is `Ok(None)`.
    async fn account_by_reference(
        &self,
        reference: &AccountRef,
    ) -> Result<Option<Account>, StoreError>;

    /// Accounts matching `filter`, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn accounts(&self, filter: AccountFilter) -> Result<Vec<Account>, StoreError>;

    /// One page of [`AccountStore::accounts`]: at most `limit` accounts matching `filter` whose
    /// id sorts after `after` (from the first when `None`), by id — ids are UUID v7, so id
    /// order is creation order, and the keyset a listing continues from is the last id it got.
    /// An id that is not stored is a valid `after` (the page starts at the next id). `limit` 0
    /// is an empty page.
    ///
    /// The default filters [`AccountStore::accounts`] (it reads every account); stores
    /// override it with an index-backed keyset read, so a listing of any size holds one page.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn accounts_page(
        &self,
        filter: AccountFilter,
        after: Option<AccountId>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let mut all = self.accounts(filter).await?;
        all.sort_by_key(Account::id);
        Ok(all
            .into_iter()
            .filter(|a| after.is_none_or(|after| a.id() > after))
            .take(limit)
            .collect())
    }

    /// The accounts whose CRM references are `references`, in order (`None` where absent): one
    /// chunk of an import in one read. The default asks
    /// [`AccountStore::account_by_reference`] once per reference; stores override it to read
    /// them together.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn accounts_by_references(
        &self,
        references: &[AccountRef],
    ) -> Result<Vec<Option<Account>>, StoreError> {
        let mut out = Vec::with_capacity(references.len());
        for reference in references {
            out.push(self.account_by_reference(reference).await?);
        }
        Ok(out)
    }

    /// Stores the `new` accounts (as [`AccountStore::insert_account`] does) and replaces the
    /// `changed` ones (as [`AccountStore::update_account`] does): one chunk of an import, taken
    /// by value so a store that moves the write to another thread need not copy it. A store
    /// overriding it MUST do it in one transaction, all or none. The default calls
    /// [`AccountStore::insert_accounts`] with `new` (all or none), then
    /// [`AccountStore::update_account`] for each of `changed`: an error midway leaves the
    /// writes before it (an import repeats safely).
    ///
    /// # Errors
    /// As [`AccountStore::insert_accounts`] (a taken CRM reference among `new` too) and
    /// [`AccountStore::update_account`].
    async fn write_accounts(
        &self,
        new: Vec<Account>,
        changed: Vec<Account>,
    ) -> Result<(), UpdateAccountError> {
        self.insert_accounts(&new).await?;
        for account in &changed {
            self.update_account(account).await?;
        }
        Ok(())
    }
}

/// Why a sync could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BeginSyncError {
    /// Another run of this kind for this integration is running. The store does not judge
    /// whether its holder is still at work: the caller does, and may
    /// [`abandon`](ReferenceStore::abandon_sync) it.
    #[error(
        "a sync of {kind} is already running for this integration (since {since}, held by {holder} until {expires_at}); wait for it to finish"
    )]
    AlreadyRunning {
        /// The kind.
        kind: ReferenceKind,
        /// The running run.
        run: SyncRunId,
        /// Who runs it.
        holder: LeaseHolder,
        /// Until when its holder has it, unless it stages another page.
        expires_at: Timestamp,
        /// When the running sync started.
        since: Timestamp,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for BeginSyncError {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRunning { .. } => "sync_in_progress",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::AlreadyRunning { .. } => crate::ErrorClass::Conflict,
            Self::Store(e) => e.class(),
        }
    }
}

/// Why an operation on a sync run failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncRunError {
    /// The run is unknown or no longer running (finished, aborted, or abandoned and replaced).
    #[error("sync run {0} is not running")]
    NotRunning(SyncRunId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::ErrorCode for SyncRunError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotRunning(_) => "sync_not_running",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::NotRunning(_) => crate::ErrorClass::Conflict,
            Self::Store(e) => e.class(),
        }
    }
}

/// Reference data and sync runs.
///
/// A sync is `begin_sync`, any number of `stage_page`s (each a short write), then one
/// `finish_sync` that swaps the snapshot in (one short write transaction), or `abort_sync`,
/// which discards the staging and leaves the previous snapshot untouched. No write lock is held
/// between calls, so none is held while the caller waits on the ERP.
#[async_trait]
pub trait ReferenceStore: Send + Sync {
    /// Starts a sync run of `kind` for `integration`, held by `holder` until `expires_at`
    /// (each [`stage_page`](ReferenceStore::stage_page) extends it). Any leftover staging of
    /// this kind from runs no longer running is discarded.
    ///
    /// # Errors
    /// MUST return [`BeginSyncError::AlreadyRunning`], naming the run, its holder and expiry,
    /// while another run of that kind for that integration is running, whoever holds it and
    /// however long ago it expired: whether the holder is still at work is for the caller to
    /// judge (and to [`abandon_sync`](ReferenceStore::abandon_sync) the run if it is not).
    async fn begin_sync(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        holder: &LeaseHolder,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<SyncRunId, BeginSyncError>;

    /// Stages one page of records for `run` and extends its holder's hold to `expires_at`.
    ///
    /// # Errors
    /// MUST return [`SyncRunError::NotRunning`] for a run that is not running (finished,
    /// aborted, or abandoned by another sync).
    async fn stage_page(
        &self,
        run: SyncRunId,
        records: &[ErpReferenceRecord],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), SyncRunError>;

    /// Swaps the staged snapshot in: upserts every staged record, marks records of the kind
    /// that were not staged inactive (never deletes), records the counts and outcome `ok`.
    ///
    /// # Errors
    /// MUST return [`SyncRunError::NotRunning`] for a run that is not running.
    async fn finish_sync(&self, run: SyncRunId, now: Timestamp)
    -> Result<SyncCounts, SyncRunError>;

    /// Ends `run` with `outcome` (`Failed` or `Unavailable`) and `error`, discarding its
    /// staging; the previous snapshot is untouched.
    ///
    /// # Errors
    /// MUST return [`SyncRunError::NotRunning`] for a run that is not running.
    async fn abort_sync(
        &self,
        run: SyncRunId,
        outcome: SyncOutcome,
        error: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError>;

    /// Closes `run`, whose holder is no longer at work (a killed process, a dropped future, an
    /// expired hold), as failed with `reason`, discarding whatever staging of it this store
    /// holds; the previous snapshot is untouched, and the run's holder, if it is still at work
    /// after all, gets [`SyncRunError::NotRunning`] on its next call. The default is
    /// [`abort_sync`](ReferenceStore::abort_sync) with [`SyncOutcome::Failed`], which a store
    /// must then allow for a run begun through another connection or process.
    ///
    /// # Errors
    /// MUST return [`SyncRunError::NotRunning`] for a run that is not running (it ended or was
    /// abandoned meanwhile).
    async fn abandon_sync(
        &self,
        run: SyncRunId,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), SyncRunError> {
        self.abort_sync(run, SyncOutcome::Failed, reason, now).await
    }

    /// Every record of `kind` for `integration`, by code.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn reference_records(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
    ) -> Result<Vec<ReferenceRecord>, StoreError>;

    /// The record with `code` (compared case-insensitively).
    ///
    /// # Errors
    /// [`StoreError`]; absence is `Ok(None)`.
    async fn reference_record(
        &self,
        integration: IntegrationId,
        kind: ReferenceKind,
        code: &ReferenceCode,
    ) -> Result<Option<ReferenceRecord>, StoreError>;

    /// The records with each `(kind, code)` of `wanted`, in order (`None` where absent): the
    /// checks of one promotion in one read. The default asks [`ReferenceStore::reference_record`]
    /// once per code; stores override it to read them together.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn reference_records_by_code(
        &self,
        integration: IntegrationId,
        wanted: &[(ReferenceKind, ReferenceCode)],
    ) -> Result<Vec<Option<ReferenceRecord>>, StoreError> {
        let mut out = Vec::with_capacity(wanted.len());
        for (kind, code) in wanted {
            out.push(self.reference_record(integration, *kind, code).await?);
        }
        Ok(out)
    }

    /// Kinds with at least one sync run that ended `ok`.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn synced_kinds(
        &self,
        integration: IntegrationId,
    ) -> Result<BTreeSet<ReferenceKind>, StoreError>;

    /// Every sync run of `integration`, newest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn sync_runs(&self, integration: IntegrationId) -> Result<Vec<SyncRun>, StoreError>;
}

/// What happened, as the promotion log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogEvent {
    /// Refused before anything was written (validation, prerequisites, conflict).
    Refused,
    /// Intent recorded.
    Intent,
    /// Created and confirmed.
    Promoted,
    /// Definitely not created.
    Failed,
    /// The create's outcome is unknown; `recover` settles it.
    Unknown,
    /// Recover adopted an existing matching customer.
    Adopted,
    /// Recover resumed the create.
    Resumed,
    /// Recover found a customer that does not match.
    NeedsReview,
    /// Recover left it alone (held by a live process, or the ERP unreachable).
    Skipped,
    /// `link` bound the account to a customer the ERP already had.
    Linked,
    /// `unlink` removed the account's binding (the ERP customer was left alone).
    Unlinked,
}

impl LogEvent {
    /// The spelling in logs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Intent => "intent",
            Self::Promoted => "promoted",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Adopted => "adopted",
            Self::Resumed => "resumed",
            Self::NeedsReview => "needs_review",
            Self::Skipped => "skipped",
            Self::Linked => "linked",
            Self::Unlinked => "unlinked",
        }
    }

    /// Parses [`LogEvent::as_str`]'s spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Refused,
            Self::Intent,
            Self::Promoted,
            Self::Failed,
            Self::Unknown,
            Self::Adopted,
            Self::Resumed,
            Self::NeedsReview,
            Self::Skipped,
            Self::Linked,
            Self::Unlinked,
        ]
        .into_iter()
        .find(|e| e.as_str() == raw)
    }
}

/// One line of the promotion log (an audit trail: request, outcome, error, timing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// When.
    pub at: Timestamp,
    /// The account (it may not exist when the attempt was refused for that reason).
    pub account: AccountId,
    /// The integration, once resolved.
    pub integration: Option<IntegrationId>,
    /// The promotion, once its intent was recorded.
    pub promotion: Option<PromotionId>,
    /// What happened.
    pub event: LogEvent,
    /// The request, summarised (`customer_no=C1 category=RTL …`).
    pub request: String,
    /// Error or detail.
    pub message: Option<String>,
    /// How long the step took, in milliseconds.
    pub duration_ms: Option<u64>,
}

/// Promotions, bindings and the promotion log.
#[async_trait]
pub trait PromotionStore: Send + Sync {
    /// Records `promotion` (state `creating`, with its lease) and appends `log` to the
    /// promotion log, durably and in one transaction (one commit: the intent is on the hot path
    /// of every promotion).
    ///
    /// # Errors
    /// MUST return [`RecordIntentError::AccountLive`] when the account already has a live
    /// promotion in the integration and [`RecordIntentError::UidLive`] when another live
    /// promotion in the integration holds the same External UID — atomically, so of two racing
    /// intents exactly one wins, and the loser writes nothing (not even `log`). `failed`,
    /// `needs_review` and `unlinked` promotions never block. MUST return
    /// [`RecordIntentError::Bound`] when no live promotion blocks but a binding of the
    /// integration (a `link`) has the account or the External UID — atomically with
    /// [`BindingStore::link`].
    async fn record_intent(
        &self,
        promotion: &Promotion,
        log: &LogEntry,
    ) -> Result<(), RecordIntentError>;

    /// Extends the lease of `id` to `expires_at`, if `holder` holds it.
    ///
    /// # Errors
    /// MUST return [`FencedWriteError::LeaseLost`] when another holder has it or the promotion
    /// is no longer `creating`.
    async fn renew_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        expires_at: Timestamp,
    ) -> Result<(), FencedWriteError>;

    /// Marks `id` `promoted`, writes `binding` and appends `log`, in one transaction, if
    /// `holder` holds it.
    ///
    /// # Errors
    /// MUST return [`FencedWriteError::LeaseLost`] (and write nothing, `log` included) when
    /// `holder` does not hold the lease or the promotion is no longer `creating`.
    async fn confirm(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        binding: &Binding,
        now: Timestamp,
        log: &LogEntry,
    ) -> Result<(), FencedWriteError>;

    /// Marks `id` `failed` with `reason`, if `holder` holds it.
    ///
    /// # Errors
    /// As [`PromotionStore::confirm`].
    async fn fail(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError>;

    /// Marks `id` `needs_review` with `reason`, if `holder` holds it.
    ///
    /// # Errors
    /// As [`PromotionStore::confirm`].
    async fn mark_needs_review(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), FencedWriteError>;

    /// Gives up the lease of `id` (state stays `creating`), if `holder` holds it, so that
    /// `recover` may settle it at once: how a task that cannot know the outcome steps aside.
    ///
    /// # Errors
    /// As [`PromotionStore::confirm`].
    async fn release_lease(
        &self,
        id: PromotionId,
        holder: &LeaseHolder,
        now: Timestamp,
    ) -> Result<(), FencedWriteError>;

    /// Replaces the lease of a `creating` promotion, only if its current lease is still
    /// `expected` (compare-and-swap): how `recover` takes over from a dead holder.
    ///
    /// # Errors
    /// MUST return [`TakeOverError::Changed`] when the lease differs from `expected` or the
    /// promotion is no longer `creating`.
    async fn take_over(
        &self,
        id: PromotionId,
        expected: Option<&Lease>,
        new: &Lease,
    ) -> Result<(), TakeOverError>;

    /// The promotion with `id`.
    ///
    /// # Errors
    /// [`StoreError`]; absence is `Ok(None)`.
    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StoreError>;

    /// Every `creating` promotion, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn in_flight(&self) -> Result<Vec<Promotion>, StoreError>;

    /// Every promotion of `account`, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn promotions_of(&self, account: AccountId) -> Result<Vec<Promotion>, StoreError>;

    /// Every binding of `account`, one per integration it was promoted to.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn bindings_of(&self, account: AccountId) -> Result<Vec<Binding>, StoreError>;

    /// Appends to the promotion log.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn append_log(&self, entry: &LogEntry) -> Result<(), StoreError>;

    /// The log, oldest first; of one account when given.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn log(&self, account: Option<AccountId>) -> Result<Vec<LogEntry>, StoreError>;

    /// One page of [`PromotionStore::log`]: at most `limit` entries (of `account` when given)
    /// whose position is after `after` (from the first when `None`), oldest first, each with
    /// its [`LogPosition`] — the keyset a listing continues from is the last position it got.
    /// Positions grow with every entry appended and are never reused; they are the same
    /// whether or not `account` is given. `limit` 0 is an empty page.
    ///
    /// The default numbers [`PromotionStore::log`]`(None)` from 1 (it reads the whole log);
    /// stores override it with an index-backed keyset read on their own sequence.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn log_page(
        &self,
        account: Option<AccountId>,
        after: Option<LogPosition>,
        limit: usize,
    ) -> Result<Vec<(LogPosition, LogEntry)>, StoreError> {
        let all = self.log(None).await?;
        Ok((1..)
            .map(LogPosition::new)
            .zip(all)
            .filter(|(at, e)| {
                after.is_none_or(|after| *at > after) && account.is_none_or(|a| e.account == a)
            })
            .take(limit)
            .collect())
    }
}

/// Where an entry sits in the promotion log: what [`PromotionStore::log_page`] continues
/// after. Later entries have greater positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition(u64);

impl LogPosition {
    /// The position numbered `n` (a store's own sequence number).
    pub fn new(n: u64) -> Self {
        Self(n)
    }

    /// Its number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for LogPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Every store port at once: what the services need from the local side.
pub trait Store:
    IntegrationStore
    + AccountStore
    + ReferenceStore
    + PromotionStore
    + ShipToStore
    + ContactStore
    + PartyPromotionStore
    + CustomerIndexStore
    + BindingStore
{
}

impl<
    T: IntegrationStore
        + AccountStore
        + ReferenceStore
        + PromotionStore
        + ShipToStore
        + ContactStore
        + PartyPromotionStore
        + CustomerIndexStore
        + BindingStore
        + ?Sized,
> Store for T
{
}
