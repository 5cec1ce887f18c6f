//! Copying a whole store into another (SQLite to PostgreSQL, say): a paged export of each
//! section as domain values ([`StoreExport`]) and a paged import of them ([`StoreImport`]),
//! both counting their rows ([`CountRows`]).
//!
//! These are separate from [`Store`](super::Store) on purpose: the services never need them,
//! and a store that is never copied need not implement them. The copy itself (sections in
//! [`CopySection::ALL`] order, a non-empty target refused, the counts compared at the end) is
//! the facade's; a store only reads and writes pages.
//!
//! Every row keeps its identity: ids, timestamps, states, leases and errors are imported as
//! exported, so the target answers every read as the source did.
//!
//! The customer index ([`CustomerIndexStore`](super::CustomerIndexStore)) is not copied: it
//! is a cache of the ERP's customer list, rebuilt by the next full customer sync, so a copied
//! store starts with none (and no index state, so that sync is a full one). Bindings keep their
//! [origin](crate::BindingOrigin) and promotions their state, `unlinked` included.

use std::fmt;

use async_trait::async_trait;

use crate::account::Account;
use crate::contact::Contact;
use crate::integration::Integration;
use crate::party_promotion::PartyPromotion;
use crate::ports::store::{LogEntry, StoreError};
use crate::promotion::{Binding, Promotion};
use crate::reference::{ReferenceRecord, SyncRun};
use crate::ship_to::ShipTo;

/// One section of a store, i.e. one kind of row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CopySection {
    /// Integrations, the default flag included.
    Integrations,
    /// CRM accounts.
    Accounts,
    /// Accounts' ship-to addresses.
    ShipTos,
    /// Accounts' contacts.
    Contacts,
    /// Synced reference records, with the time each was last synced.
    ReferenceRecords,
    /// Sync runs, with their counts and outcome.
    SyncRuns,
    /// Promotions, with their state, lease, error and timestamps.
    Promotions,
    /// Bindings (account to ERP customer).
    Bindings,
    /// Ship-to and contact promotions (a promoted one is the party's binding), with their
    /// state, lease, error and timestamps.
    PartyPromotions,
    /// The promotion log, oldest first.
    Log,
}

impl CopySection {
    /// Every section, in the order a copy imports them (each refers only to earlier ones).
    /// Sync runs come before reference records: a store may derive a record set's time
    /// from its last `ok` run.
    pub const ALL: [CopySection; 10] = [
        Self::Integrations,
        Self::Accounts,
        Self::ShipTos,
        Self::Contacts,
        Self::SyncRuns,
        Self::ReferenceRecords,
        Self::Promotions,
        Self::Bindings,
        Self::PartyPromotions,
        Self::Log,
    ];

    /// `integrations`, `accounts`, `ship_tos`, `contacts`, `reference_records`, `sync_runs`,
    /// `promotions`, `bindings`, `party_promotions` or `log`: the spelling in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integrations => "integrations",
            Self::Accounts => "accounts",
            Self::ShipTos => "ship_tos",
            Self::Contacts => "contacts",
            Self::ReferenceRecords => "reference_records",
            Self::SyncRuns => "sync_runs",
            Self::Promotions => "promotions",
            Self::Bindings => "bindings",
            Self::PartyPromotions => "party_promotions",
            Self::Log => "log",
        }
    }
}

impl fmt::Display for CopySection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A page of one section's rows, in the store's stable order for that section (the log
/// oldest first).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CopyPage {
    /// Integrations.
    Integrations(Vec<Integration>),
    /// Accounts.
    Accounts(Vec<Account>),
    /// Ship-tos, by account and code.
    ShipTos(Vec<ShipTo>),
    /// Contacts, by account and code.
    Contacts(Vec<Contact>),
    /// Reference records.
    ReferenceRecords(Vec<ReferenceRecord>),
    /// Sync runs.
    SyncRuns(Vec<SyncRun>),
    /// Promotions.
    Promotions(Vec<Promotion>),
    /// Bindings.
    Bindings(Vec<Binding>),
    /// Ship-to and contact promotions.
    PartyPromotions(Vec<PartyPromotion>),
    /// Log entries, oldest first.
    Log(Vec<LogEntry>),
}

impl CopyPage {
    /// An empty page of `section`.
    pub fn empty(section: CopySection) -> Self {
        match section {
            CopySection::Integrations => Self::Integrations(Vec::new()),
            CopySection::Accounts => Self::Accounts(Vec::new()),
            CopySection::ShipTos => Self::ShipTos(Vec::new()),
            CopySection::Contacts => Self::Contacts(Vec::new()),
            CopySection::ReferenceRecords => Self::ReferenceRecords(Vec::new()),
            CopySection::SyncRuns => Self::SyncRuns(Vec::new()),
            CopySection::Promotions => Self::Promotions(Vec::new()),
            CopySection::Bindings => Self::Bindings(Vec::new()),
            CopySection::PartyPromotions => Self::PartyPromotions(Vec::new()),
            CopySection::Log => Self::Log(Vec::new()),
        }
    }

    /// The section its rows belong to.
    pub fn section(&self) -> CopySection {
        match self {
            Self::Integrations(_) => CopySection::Integrations,
            Self::Accounts(_) => CopySection::Accounts,
            Self::ShipTos(_) => CopySection::ShipTos,
            Self::Contacts(_) => CopySection::Contacts,
            Self::ReferenceRecords(_) => CopySection::ReferenceRecords,
            Self::SyncRuns(_) => CopySection::SyncRuns,
            Self::Promotions(_) => CopySection::Promotions,
            Self::Bindings(_) => CopySection::Bindings,
            Self::PartyPromotions(_) => CopySection::PartyPromotions,
            Self::Log(_) => CopySection::Log,
        }
    }

    /// How many rows it holds.
    pub fn len(&self) -> usize {
        match self {
            Self::Integrations(rows) => rows.len(),
            Self::Accounts(rows) => rows.len(),
            Self::ShipTos(rows) => rows.len(),
            Self::Contacts(rows) => rows.len(),
            Self::ReferenceRecords(rows) => rows.len(),
            Self::SyncRuns(rows) => rows.len(),
            Self::Promotions(rows) => rows.len(),
            Self::Bindings(rows) => rows.len(),
            Self::PartyPromotions(rows) => rows.len(),
            Self::Log(rows) => rows.len(),
        }
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where an export of one section continues: opaque to everyone but the store that made it
/// (a key of its last row, say).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExportCursor(String);

impl ExportCursor {
    /// A cursor holding `position`, in the store's own spelling.
    pub fn new(position: impl Into<String>) -> Self {
        Self(position.into())
    }

    /// The store's spelling.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of an export, and where the next begins (`None`: this was the last).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPage {
    /// The rows.
    pub rows: CopyPage,
    /// The cursor of the next page, or `None` after the last.
    pub next: Option<ExportCursor>,
}

/// How many rows each section holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RowCounts {
    /// Integrations.
    pub integrations: u64,
    /// Accounts.
    pub accounts: u64,
    /// Ship-tos.
    pub ship_tos: u64,
    /// Contacts.
    pub contacts: u64,
    /// Reference records.
    pub reference_records: u64,
    /// Sync runs.
    pub sync_runs: u64,
    /// Promotions.
    pub promotions: u64,
    /// Bindings.
    pub bindings: u64,
    /// Ship-to and contact promotions.
    pub party_promotions: u64,
    /// Log entries.
    pub log: u64,
}

impl RowCounts {
    /// The count of `section`.
    pub fn get(&self, section: CopySection) -> u64 {
        match section {
            CopySection::Integrations => self.integrations,
            CopySection::Accounts => self.accounts,
            CopySection::ShipTos => self.ship_tos,
            CopySection::Contacts => self.contacts,
            CopySection::ReferenceRecords => self.reference_records,
            CopySection::SyncRuns => self.sync_runs,
            CopySection::Promotions => self.promotions,
            CopySection::Bindings => self.bindings,
            CopySection::PartyPromotions => self.party_promotions,
            CopySection::Log => self.log,
        }
    }

    /// Sets the count of `section`.
    pub fn set(&mut self, section: CopySection, count: u64) {
        let slot = match section {
            CopySection::Integrations => &mut self.integrations,
            CopySection::Accounts => &mut self.accounts,
            CopySection::ShipTos => &mut self.ship_tos,
            CopySection::Contacts => &mut self.contacts,
            CopySection::ReferenceRecords => &mut self.reference_records,
            CopySection::SyncRuns => &mut self.sync_runs,
            CopySection::Promotions => &mut self.promotions,
            CopySection::Bindings => &mut self.bindings,
            CopySection::PartyPromotions => &mut self.party_promotions,
            CopySection::Log => &mut self.log,
        };
        *slot = count;
    }

    /// Every section with its count, in [`CopySection::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (CopySection, u64)> + '_ {
        CopySection::ALL.into_iter().map(|s| (s, self.get(s)))
    }

    /// Every row of every section.
    pub fn total(&self) -> u64 {
        self.iter().map(|(_, n)| n).sum()
    }
}

/// A store that counts its rows by section.
#[async_trait]
pub trait CountRows: Send + Sync {
    /// The rows of each section now (one consistent read where the store can).
    ///
    /// Dropping the returned future abandons the read; nothing changes.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn row_counts(&self) -> Result<RowCounts, StoreError>;
}

/// A store whose whole content can be read out, section by section, a page at a time.
#[async_trait]
pub trait StoreExport: CountRows {
    /// Up to `limit` rows of `section` (at least one when any remains), after `after` (from
    /// the first row with `None`), in the store's stable order for the section, and the
    /// cursor of the next page. Pages are read independently: a copy runs on a store nothing
    /// else writes to.
    ///
    /// A running sync run is exported as it is stored (outcome `running`); the copy decides
    /// what becomes of it.
    ///
    /// Dropping the returned future abandons the read; nothing changes.
    ///
    /// # Errors
    /// [`StoreError`] (a cursor this store did not make is [`StoreError::Internal`]).
    async fn export_page(
        &self,
        section: CopySection,
        after: Option<&ExportCursor>,
        limit: usize,
    ) -> Result<ExportPage, StoreError>;
}

/// A store that can take a copied content, a page at a time.
#[async_trait]
pub trait StoreImport: CountRows {
    /// Whether the store holds no row in any section (the default asks
    /// [`CountRows::row_counts`]).
    ///
    /// Dropping the returned future abandons the read; nothing changes.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.row_counts().await?.total() == 0)
    }

    /// Writes every row of `page` as it is (ids, timestamps, states, leases and errors
    /// kept), in one transaction: all or none. Pages arrive section by section in
    /// [`CopySection::ALL`] order, so rows a row refers to are already there.
    ///
    /// Dropping the returned future before it completes writes the page wholly or not at
    /// all (the transaction commits or rolls back).
    ///
    /// # Errors
    /// [`StoreError`] when a row cannot be written (a duplicate id, a row referring to one
    /// that is missing); nothing of the page is written then.
    async fn import_page(&self, page: &CopyPage) -> Result<(), StoreError>;
}
