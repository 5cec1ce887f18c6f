//! Reference data synced from the ERP, and the record of each sync.

use std::collections::BTreeMap;
use std::fmt;

use crate::codes::ReferenceCode;
use crate::erp::ReferenceKind;
use crate::ids::{IntegrationId, SyncRunId};
use jiff::Timestamp;

/// ERP-specific extras worth keeping with a reference record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceExtras {
    /// A Sage 300 customer group's default terms.
    pub default_terms: Option<ReferenceCode>,
    /// A Sage 300 customer group's default tax group.
    pub default_tax_group: Option<ReferenceCode>,
    /// Anything else, by the ERP's field name (e.g. a tax group's `TransactionType`).
    pub other: BTreeMap<String, String>,
}

/// One synced reference record of one integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceRecord {
    /// The integration it came from.
    pub integration: IntegrationId,
    /// Its kind.
    pub kind: ReferenceKind,
    /// Its code, as the ERP spells it.
    pub code: ReferenceCode,
    /// Its description.
    pub description: String,
    /// Whether it may be used in a promotion: false when the ERP marks it inactive or when the
    /// ERP no longer returns it.
    pub active: bool,
    /// ERP-specific extras.
    pub extras: ReferenceExtras,
    /// When the sync that last wrote it finished.
    pub synced_at: Timestamp,
}

/// How a sync of one kind ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncOutcome {
    /// Still running (or killed without finishing).
    Running,
    /// Every page read and the snapshot swapped in.
    Ok,
    /// The ERP does not have this optional kind.
    Unavailable,
    /// Failed; nothing changed for the kind.
    Failed,
}

impl SyncOutcome {
    /// `running`, `ok`, `unavailable` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncOutcome::Running => "running",
            SyncOutcome::Ok => "ok",
            SyncOutcome::Unavailable => "unavailable",
            SyncOutcome::Failed => "failed",
        }
    }

    /// Parses [`SyncOutcome::as_str`]'s spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Running, Self::Ok, Self::Unavailable, Self::Failed]
            .into_iter()
            .find(|o| o.as_str() == raw)
    }
}

impl fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finished sync changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SyncCounts {
    /// Records seen for the first time.
    pub added: u64,
    /// Records whose description, active flag or extras changed.
    pub updated: u64,
    /// Records the ERP no longer returns, now marked inactive.
    pub deactivated: u64,
    /// Records the ERP returned.
    pub total: u64,
}

/// One sync of one kind for one integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    /// Identifier.
    pub id: SyncRunId,
    /// Integration.
    pub integration: IntegrationId,
    /// Kind synced.
    pub kind: ReferenceKind,
    /// Started at.
    pub started_at: Timestamp,
    /// Finished at (none while running).
    pub finished_at: Option<Timestamp>,
    /// Outcome.
    pub outcome: SyncOutcome,
    /// Counts, once finished `ok`.
    pub counts: SyncCounts,
    /// Why it failed or was unavailable.
    pub error: Option<String>,
}
