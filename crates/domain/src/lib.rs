//! The pure core of crm2sage: what an account, an integration, reference data and a promotion
//! *are*, the rules they obey, the ports the outside world is reached through, and the services
//! that run the user's workflow over those ports.
//!
//! # Why it is shaped this way
//!
//! crm2sage is a hexagon. This crate is the inside: it knows nothing of HTTP, SQL, XML or an
//! async runtime (its only async-related dependency is `async-trait`, a macro). Everything
//! outside — the Sage adapters, the SQLite store, the CLI — depends on it, never the reverse, so
//! the rules of the product live in exactly one place and can be tested without a network or a
//! disk.
//!
//! Inputs are *parsed, not validated*: every value that has a rule has a newtype with a private
//! field and a fallible constructor with its own error type ([`CustomerNo::parse_sage300`],
//! [`Email::parse`], …). Once you hold a [`CustomerNo`] it is normalised and well formed; nothing
//! downstream re-checks it. Validated types deliberately carry no `serde` derives: adapters read
//! into their own wire structs and come back through these constructors, so nothing bypasses the
//! rules.
//!
//! Input and entity are separate types: a [`NewAccount`] is what a user typed (raw strings),
//! [`NewAccount::validate`] reports **every** invalid field at once, and an [`Account`] is what the
//! store holds.
//!
//! ```
//! use crm2sage_domain::{CustomerNo, ErpKind};
//!
//! let no = CustomerNo::parse_sage100(" 123 ").unwrap();
//! assert_eq!(no.as_str(), "0000123");
//! assert!(CustomerNo::parse(ErpKind::Sage300, "THIRTEEN-CHAR").is_err());
//! ```
#![deny(missing_docs)]

mod account;
mod codes;
mod connection;
mod contact;
#[cfg(feature = "test-support")]
pub mod contract;
mod country;
mod erp;
mod error_class;
#[cfg(feature = "test-support")]
pub mod fakes;
mod field;
mod ids;
mod integration;
mod matching;
mod money;
mod normalize;
mod panel;
mod party;
mod party_promotion;
pub mod ports;
mod promotion;
mod record;
mod reference;
mod secret;
pub mod services;
mod ship_to;

pub use account::{
    Account, AccountDetails, AccountName, AccountRef, Address, AddressInput, Email, EmailError,
    NewAccount, Phone, PhoneError, Website, WebsiteError,
};
pub use codes::{
    ArDivision, ArDivisionError, CompanyCode, CompanyCodeError, CurrencyCode, CurrencyCodeError,
    CustomerNo, CustomerNoError, ReferenceCode, ReferenceCodeError, SalespersonRef,
    SalespersonRefError,
};
pub use connection::{
    BaseUrl, BaseUrlError, HttpPolicy, RequestTimeout, RequestTimeoutError, TrustedCa,
    TrustedCaError,
};
pub use contact::{Contact, ContactCode, ContactDetails, NewContact};
pub use country::{CountryCode, CountryCodeError};
pub use erp::{
    CustomerField, ErpKind, ErpKindError, FieldLimit, FieldLimits, KindRequirement, ReferenceKind,
    ReferenceKindError, missing_prerequisites, prerequisite_table,
};
pub use field::{InvalidField, InvalidFields, TextError};
pub use ids::{AccountId, IdError, IntegrationId, PromotionId, SyncRunId};
pub use integration::{
    CustomerNameMax, ErpFieldName, ErpFieldNameError, Integration, IntegrationChanges,
    IntegrationName, IntegrationNameError, IntegrationParts, IntegrationSettings, NewIntegration,
    UserName,
};
pub use matching::{
    DEFAULT_MIN_SCORE, MIN_PHONE_DIGITS, MatchKeys, MatchReason, PHONE_DIGITS_COMPARED, score,
};
pub use money::{Amount, AmountError, AmountOverflow};
pub use normalize::{LEGAL_FORMS, normalize_email, normalize_name, phone_digits};
pub use panel::{
    Aging, AgingBucket, CreditCheck, CreditFigures, CreditStatus, DocumentFold, DocumentType,
    OpenDocument, OpenOrder, OpenOrders, OrderFold, Orders, Panel, credit_status, days_past_due,
};
pub use party::{PartyCode, PartyCodeError, PartyKind, Primary};
pub use party_promotion::{PartyOutcome, PartyPromotion};
pub use promotion::{
    Binding, BindingOrigin, ErpRequest, ExternalUid, ExternalUidError, IntegrationKey, Lease,
    LeaseHolder, Promotion, PromotionRequest, PromotionState, Sage100Request, Sage300Request,
};
pub use record::{ErpNumber, ErpNumberError, ErpRecord, ErpValue};
pub use reference::{ReferenceExtras, ReferenceRecord, SyncCounts, SyncOutcome, SyncRun};
pub use secret::{SecretRef, SecretRefError, SecretRefKind};
pub use ship_to::{NewShipTo, ShipTo, ShipToCode, ShipToDetails};

pub use error_class::{ErrorClass, ErrorCode};
pub use services::{ServiceConfig, Services};

/// A point in time (UTC), as used for every timestamp in the domain.
pub use jiff::Timestamp;

/// A calendar date (no time zone), as ERP documents carry them.
pub use jiff::civil::Date;
