//! A ship-to's or contact's promotion: the same exactly-once recipe as a customer's (intent
//! with a lease, lookup, create once, confirm; an unknown outcome stays `creating` for
//! `recover`), one row per attempt. A `promoted` row **is** the party's binding: it carries
//! the External UID and the Integration key.

use crate::Timestamp;
use crate::ids::{AccountId, IntegrationId, PromotionId};
use crate::party::{PartyCode, PartyKind};
use crate::ports::{ErpCustomerKey, ErpPartyKey};
use crate::promotion::{ExternalUid, IntegrationKey, Lease, PromotionState};

/// One attempt to promote a ship-to or a contact of an account into an integration. At most
/// one per (integration, account, party) is live (`creating` or `promoted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyPromotion {
    /// Its id.
    pub id: PromotionId,
    /// The account the party belongs to.
    pub account: AccountId,
    /// The integration.
    pub integration: IntegrationId,
    /// The party, by kind and code.
    pub party: PartyCode,
    /// The ERP customer the party is created under (the account's binding).
    pub customer: ErpCustomerKey,
    /// Its External UID (see [`ErpPartyKey::external_uid`]).
    pub external_uid: ExternalUid,
    /// Where it stands.
    pub state: PromotionState,
    /// Who works on it, while `creating`.
    pub lease: Option<Lease>,
    /// Why it failed or needs review.
    pub error: Option<String>,
    /// When the intent was recorded.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl PartyPromotion {
    /// The party's key in the ERP.
    pub fn key(&self) -> ErpPartyKey {
        ErpPartyKey {
            customer: self.customer.clone(),
            party: self.party.clone(),
        }
    }

    /// The kind of party.
    pub fn kind(&self) -> PartyKind {
        self.party.kind()
    }

    /// The Integration key (`{integration id}:{external uid}`).
    pub fn integration_key(&self) -> IntegrationKey {
        IntegrationKey::new(self.integration, &self.external_uid)
    }

    /// Whether this row is the party's binding.
    pub fn is_binding(&self) -> bool {
        self.state == PromotionState::Promoted
    }
}

/// How a party promotion held by a task ends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartyOutcome {
    /// Created (or found, adopted): the row becomes the binding.
    Promoted,
    /// Definitely not created, with why.
    Failed(String),
    /// A person must look, with why.
    NeedsReview(String),
}

impl PartyOutcome {
    /// The state it leaves the promotion in.
    pub fn state(&self) -> PromotionState {
        match self {
            Self::Promoted => PromotionState::Promoted,
            Self::Failed(_) => PromotionState::Failed,
            Self::NeedsReview(_) => PromotionState::NeedsReview,
        }
    }

    /// The error it records.
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Promoted => None,
            Self::Failed(why) | Self::NeedsReview(why) => Some(why),
        }
    }
}
