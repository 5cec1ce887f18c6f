//! The ERP side of ship-to addresses and contacts: their keys, the ERP-neutral records the
//! domain asks a gateway to create, what it reads back, and how writes fail. The adapters map
//! these to `AR/ARShipToLocations`, `MT/MTContacts` (Sage 300) and `SO_ShipToAddress`,
//! `AR_CustomerContact` (Sage 100); the domain never sees those names.

use crate::country::CountryCode;
use crate::party::{PartyCode, PartyKind};
use crate::promotion::ExternalUid;
use crate::record::ErpRecord;

use super::erp::{ErpCustomerKey, PageCursor};

/// The key of a ship-to or contact in the ERP: its customer's key and its code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErpPartyKey {
    /// The customer it belongs to.
    pub customer: ErpCustomerKey,
    /// Its kind and code.
    pub party: PartyCode,
}

impl ErpPartyKey {
    /// The External UID: the customer's, `/`, `ST:` (ship-to) or `CT:` (contact), the code —
    /// `CUST01/ST:WH1`, `01-ABC/CT:JANE`.
    pub fn external_uid(&self) -> ExternalUid {
        ExternalUid::party(&self.customer.external_uid(), &self.party)
    }
}

/// What only a ship-to or only a contact has.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewErpPartyDetail {
    /// A ship-to's address.
    ShipTo {
        /// Address lines 1–3 (first required).
        address_lines: [Option<String>; 3],
        /// City.
        city: Option<String>,
        /// State or province.
        state: Option<String>,
        /// Postal code.
        postal_code: Option<String>,
        /// Country.
        country: Option<CountryCode>,
    },
    /// A contact's title.
    Contact {
        /// Job title.
        title: Option<String>,
    },
}

/// An ERP-neutral new ship-to or contact, built by the domain from the stored party and the
/// account's binding. The adapter maps it to its payload and leaves out every `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewErpParty {
    /// Its key (customer and code).
    pub key: ErpPartyKey,
    /// The location's or the person's name.
    pub name: String,
    /// Telephone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Whether it is the account's primary one: the customer then points at it.
    pub primary: bool,
    /// What only this kind has.
    pub detail: NewErpPartyDetail,
}

impl NewErpParty {
    /// The kind.
    pub fn kind(&self) -> PartyKind {
        self.key.party.kind()
    }
}

/// A ship-to or contact as the ERP holds it. Its code is the ERP's text as it is: a record
/// someone else made may not follow crm2sage's code rule (a 6-character Sage 300 ship-to
/// key), and a contact kept on the customer ([`PartyHome::OnCustomer`]) has none.
#[derive(Debug, Clone, PartialEq)]
pub struct ErpParty {
    /// The customer it belongs to.
    pub customer: ErpCustomerKey,
    /// Ship-to or contact.
    pub kind: PartyKind,
    /// Its code in the ERP, when it has one.
    pub code: Option<String>,
    /// Its name, as the adapter read it.
    pub name: Option<String>,
    /// Every field the ERP returned, in its order.
    pub record: ErpRecord,
}

/// One page of a customer's ship-tos or contacts.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyPage {
    /// The parties on this page.
    pub parties: Vec<ErpParty>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

/// Where an ERP keeps one kind of party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartyHome {
    /// As records of their own (ship-to locations; Sage 300 2020.1+ `MT/MTContacts`; Sage 100
    /// `AR_CustomerContact`): one is created per party.
    Records,
    /// Only on the customer itself (a Sage 300 without contacts): the **primary** one is
    /// written into the customer's own fields by [`ErpGateway::set_primary_party`]
    /// (`ContactName`, `ContactsPhone`, `ContactsEmail`); others have nowhere to go.
    ///
    /// [`ErpGateway::set_primary_party`]: super::ErpGateway::set_primary_party
    OnCustomer,
}

/// The longest value an ERP accepts for one field of a ship-to or contact, under the input's
/// name (`name`, `line1`, `city`, `phone`, `title`, …) and the ERP's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartyFieldLimit {
    /// The input field a refusal names.
    pub input: &'static str,
    /// The ERP's name for it.
    pub erp_name: &'static str,
    /// The longest value accepted, in characters.
    pub max: usize,
}

/// Why a write of a ship-to, a contact or a customer update failed — exactly one of:
/// definitely not written, already there, or unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErpWriteError {
    /// The ERP refused it; nothing was written.
    #[error("the ERP refused it ({code}): {message}")]
    Rejected {
        /// The ERP's error code.
        code: String,
        /// The ERP's message.
        message: String,
    },
    /// A record with this key already exists.
    #[error("the ERP already has a record with this key")]
    AlreadyExists,
    /// The customer it belongs to is not in the ERP.
    #[error("the ERP has no such customer")]
    CustomerMissing,
    /// It may or may not have been written: timeout after sending, reset, 5xx, an unreadable
    /// 2xx body.
    #[error("the outcome is unknown: {reason}")]
    Ambiguous {
        /// What happened.
        reason: String,
    },
    /// Never sent: the ERP could not be reached.
    #[error("the ERP could not be reached: {0}")]
    Unreachable(String),
    /// The credentials were refused; nothing was written.
    #[error("the ERP refused the credentials (401)")]
    Unauthorized,
    /// The user lacks the right; nothing was written.
    #[error("the ERP user lacks the right for this (403): {0}")]
    Forbidden(String),
    /// Too many requests; nothing was written.
    #[error("the ERP is rate limiting requests (429)")]
    RateLimited,
}

impl crate::ErrorCode for ErpWriteError {
    fn code(&self) -> &'static str {
        match self {
            Self::Rejected { .. } => "erp_refused",
            Self::AlreadyExists => "record_exists",
            Self::CustomerMissing => "customer_missing",
            Self::Ambiguous { .. } => "outcome_unknown",
            Self::Unreachable(_) => "erp_unreachable",
            Self::Unauthorized => "erp_unauthorized",
            Self::Forbidden(_) => "erp_forbidden",
            Self::RateLimited => "erp_rate_limited",
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::AlreadyExists => crate::ErrorClass::Conflict,
            Self::CustomerMissing => crate::ErrorClass::NotFound,
            Self::Rejected { .. }
            | Self::Ambiguous { .. }
            | Self::Unreachable(_)
            | Self::Unauthorized
            | Self::Forbidden(_)
            | Self::RateLimited => crate::ErrorClass::Erp,
        }
    }
}
