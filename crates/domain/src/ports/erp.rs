//! The ERP side: one connector that turns an integration into a gateway, and the gateway's
//! operations, which the Sage 300 and Sage 100 adapters both implement.

use std::sync::Arc;

use async_trait::async_trait;

use crate::codes::{ArDivision, CurrencyCode, CustomerNo, ReferenceCode, SalespersonRef};
use crate::country::CountryCode;
use crate::erp::{ErpKind, FieldLimits, ReferenceKind};
use crate::integration::{ErpFieldName, Integration};
use crate::panel::{CreditFigures, OpenDocument, OpenOrder};
use crate::party::PartyKind;
use crate::ports::Credentials;
use crate::promotion::ExternalUid;
use crate::record::ErpRecord;
use crate::reference::ReferenceExtras;

use super::erp_customers::{CustomerPage, ErpCustomerSummary};
use super::erp_parties::{
    ErpParty, ErpPartyKey, ErpWriteError, NewErpParty, PartyFieldLimit, PartyHome, PartyPage,
};

/// Why an integration could not be turned into a gateway. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The base URL cannot be used.
    #[error("integration URL `{url}` cannot be used: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Plain `http://` to a host that is not loopback, and the integration does not allow it.
    #[error(
        "`{url}` uses plain http:// to a non-loopback host, and the integration does not allow insecure http"
    )]
    InsecureHttp {
        /// The URL.
        url: String,
    },
    /// This build has no adapter for the ERP kind.
    #[error("no adapter for {0} in this build")]
    Unsupported(ErpKind),
    /// The integration's trusted CA certificates (`--ca-file`) cannot be used by the TLS
    /// stack; carries why, never the PEM text.
    #[error(
        "the integration's CA certificates (ca_file) cannot be used: {reason}; give the PEM of the CA that signed the server's certificate"
    )]
    TrustedCa {
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built (TLS set-up, …).
    #[error("could not set up the ERP client: {0}")]
    Internal(String),
}

impl crate::ErrorCode for ConnectError {
    fn code(&self) -> &'static str {
        match self {
            Self::InsecureHttp { .. } => "insecure_http",
            Self::InvalidUrl { .. }
            | Self::Unsupported(_)
            | Self::TrustedCa { .. }
            | Self::Internal(_) => "erp_connect",
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::InvalidUrl { .. }
            | Self::InsecureHttp { .. }
            | Self::Unsupported(_)
            | Self::TrustedCa { .. } => crate::ErrorClass::Invalid,
            Self::Internal(_) => crate::ErrorClass::Internal,
        }
    }
}

/// Turns an integration and its secret into a live gateway.
#[async_trait]
pub trait ErpConnector: Send + Sync {
    /// Builds a gateway for `integration`, authenticating with `credentials`' current secret.
    /// Sends nothing. When the ERP refuses the credentials (401), the gateway calls
    /// [`Credentials::refresh`] once and, if the secret changed, sends that request once more
    /// with it before reporting `Unauthorized` (a rotated password).
    ///
    /// Dropping the returned future abandons the gateway being built; nothing was sent.
    ///
    /// # Errors
    /// MUST return [`ConnectError::InvalidUrl`] for a URL the adapter cannot use and
    /// [`ConnectError::InsecureHttp`] for plain `http://` to a non-loopback host unless the
    /// integration allows it.
    async fn connect(
        &self,
        integration: &Integration,
        credentials: Arc<dyn Credentials>,
    ) -> Result<Arc<dyn ErpGateway>, ConnectError>;
}

/// An opaque position in an ERP list: an OData next-link, an SData start index… Only the
/// gateway that produced it knows what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor(String);

impl PageCursor {
    /// Wraps the adapter's own representation.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The adapter's own representation.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reference record as the ERP lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErpReferenceRecord {
    /// The code, as the ERP spells it.
    pub code: ReferenceCode,
    /// The description.
    pub description: String,
    /// Whether the ERP marks it active.
    pub active: bool,
    /// ERP-specific extras (a group's default terms and tax group, …).
    pub extras: ReferenceExtras,
}

/// One page of a reference list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencePage {
    /// The records on this page.
    pub records: Vec<ErpReferenceRecord>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
    /// The total number of records, when the ERP says.
    pub total: Option<u64>,
}

/// The key of an ERP customer: the number, and for Sage 100 the AR division.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErpCustomerKey {
    /// Sage 100 division; `None` for Sage 300.
    pub division: Option<ArDivision>,
    /// The customer number.
    pub customer_no: CustomerNo,
}

impl ErpCustomerKey {
    /// The External UID this key has.
    pub fn external_uid(&self) -> ExternalUid {
        match self.division {
            Some(division) => ExternalUid::sage100(division, &self.customer_no),
            None => ExternalUid::sage300(&self.customer_no),
        }
    }
}

/// A customer as the ERP holds it: its key, its External UID and the full record under the ERP's
/// own field names.
#[derive(Debug, Clone, PartialEq)]
pub struct ErpCustomer {
    /// The key.
    pub key: ErpCustomerKey,
    /// The customer's name, as the adapter read it from the record.
    pub name: Option<String>,
    /// Every field the ERP returned, in its order.
    pub record: ErpRecord,
}

impl ErpCustomer {
    /// The ERP's key as one string, derived from [`key`](Self::key).
    pub fn external_uid(&self) -> ExternalUid {
        self.key.external_uid()
    }

    /// The customer's name (the adapter knows which field of the record holds it).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The value of the CRM-id field, when the integration configures one. An ERP that keeps
    /// such fields in a nested list (Sage 300's optional fields) has them surfaced under the
    /// field's code by the adapter.
    pub fn crm_id(&self, field: &ErpFieldName) -> Option<&str> {
        self.record.text(field.as_str())
    }
}

/// An ERP-neutral new customer, built by the domain from the account and the request. The
/// adapter maps it to its payload: it derives `ShortName`, picks the country form, and leaves
/// out every `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewErpCustomer {
    /// Key.
    pub key: ErpCustomerKey,
    /// Customer name.
    pub name: String,
    /// Address lines 1–3 (first required).
    pub address_lines: [Option<String>; 3],
    /// City.
    pub city: Option<String>,
    /// State or province.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country (alpha-2 and alpha-3 both available).
    pub country: Option<CountryCode>,
    /// Telephone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Currency (Sage 300).
    pub currency: Option<CurrencyCode>,
    /// Check language (Sage 300).
    pub language: Option<ReferenceCode>,
    /// Sage 300 group / Sage 100 customer type.
    pub category: Option<ReferenceCode>,
    /// Sage 300 tax group / Sage 100 tax schedule.
    pub tax: Option<ReferenceCode>,
    /// Terms.
    pub terms: Option<ReferenceCode>,
    /// Sage 100 salesperson (division resolved).
    pub salesperson: Option<SalespersonRef>,
    /// Sage 100 ship method.
    pub ship_method: Option<ReferenceCode>,
    /// The CRM-id field and the account id to put in it.
    pub crm_id: Option<(ErpFieldName, String)>,
}

/// One page of a customer's open AR documents (amount due not zero), in the ERP's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPage {
    /// The documents on this page.
    pub documents: Vec<OpenDocument>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

/// One page of a customer's open sales orders, or the typed answer that the company has no
/// order entry at all (not an error: the panel shows "not available").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrdersPage {
    /// The company has order entry: the orders on this page.
    Orders {
        /// The orders on this page.
        orders: Vec<OpenOrder>,
        /// Where the next page starts; `None` on the last page.
        next: Option<PageCursor>,
    },
    /// The company has no order entry (Sage 300 O/E, Sage 100 Sales Order not installed).
    Unavailable,
}

/// Why a read from the ERP failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErpReadError {
    /// No answer: connection refused, DNS, TLS, timeout, reset.
    #[error("the ERP could not be reached: {0}")]
    Unreachable(String),
    /// The credentials were refused (401).
    #[error("the ERP refused the credentials (401): check the user name and the password")]
    Unauthorized,
    /// The user lacks a right (403).
    #[error("the ERP user lacks the right for this (403): {0}")]
    Forbidden(String),
    /// Too many requests (429).
    #[error("the ERP is rate limiting requests (429); try again later")]
    RateLimited,
    /// Any other failure status, with the ERP's message.
    #[error("the ERP answered {status}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The ERP's message.
        message: String,
    },
    /// A body that is not the documented shape.
    #[error("the ERP sent a response crm2sage cannot read: {excerpt}")]
    Protocol {
        /// A short excerpt of what arrived.
        excerpt: String,
    },
    /// The ERP does not have this (optional) kind of reference data.
    #[error("the ERP does not offer {0}")]
    KindUnavailable(ReferenceKind),
}

impl crate::ErrorCode for ErpReadError {
    fn code(&self) -> &'static str {
        match self {
            Self::Unreachable(_) => "erp_unreachable",
            Self::Unauthorized => "erp_unauthorized",
            Self::Forbidden(_) => "erp_forbidden",
            Self::RateLimited => "erp_rate_limited",
            Self::Server { .. } | Self::Protocol { .. } => "erp",
            Self::KindUnavailable(_) => "kind_unavailable",
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::Unreachable(_)
            | Self::Unauthorized
            | Self::Forbidden(_)
            | Self::RateLimited
            | Self::Server { .. }
            | Self::Protocol { .. }
            | Self::KindUnavailable(_) => crate::ErrorClass::Erp,
        }
    }
}

/// Why a create failed — exactly one of: definitely not created, already there, or unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CreateCustomerError {
    /// The ERP refused the customer; nothing was created.
    #[error("the ERP refused the customer ({code}): {message}")]
    Rejected {
        /// The ERP's error code.
        code: String,
        /// The ERP's message.
        message: String,
    },
    /// A customer with this key already exists.
    #[error("the ERP already has a customer with this number")]
    AlreadyExists,
    /// It may or may not have been created: timeout after sending, reset, 5xx, an unreadable
    /// 2xx body, a read-back that misses.
    #[error("the outcome is unknown: {reason}")]
    Ambiguous {
        /// What happened.
        reason: String,
    },
    /// Never sent: the ERP could not be reached.
    #[error("the ERP could not be reached: {0}")]
    Unreachable(String),
    /// The credentials were refused; nothing was created.
    #[error("the ERP refused the credentials (401)")]
    Unauthorized,
    /// The user lacks the right; nothing was created.
    #[error("the ERP user lacks the right to create customers (403): {0}")]
    Forbidden(String),
    /// Too many requests; nothing was created.
    #[error("the ERP is rate limiting requests (429)")]
    RateLimited,
}

impl crate::ErrorCode for CreateCustomerError {
    fn code(&self) -> &'static str {
        match self {
            Self::Rejected { .. } => "erp_refused",
            Self::AlreadyExists => "customer_no_taken",
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
            Self::Rejected { .. }
            | Self::Ambiguous { .. }
            | Self::Unreachable(_)
            | Self::Unauthorized
            | Self::Forbidden(_)
            | Self::RateLimited => crate::ErrorClass::Erp,
        }
    }
}

/// A live connection to one ERP company.
#[cfg_attr(feature = "test-support", mockall::automock)]
#[async_trait]
pub trait ErpGateway: Send + Sync {
    /// Checks that the ERP answers and accepts the credentials.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`.
    async fn test_connection(&self) -> Result<(), ErpReadError>;

    /// Reads one page of `kind`, starting at `cursor` (the first page when `None`).
    ///
    /// # Errors
    /// MUST return [`ErpReadError::KindUnavailable`] when the server lacks an optional kind,
    /// never an empty page; otherwise any [`ErpReadError`]. A list that fails is never turned
    /// into an empty result.
    async fn reference_page(
        &self,
        kind: ReferenceKind,
        cursor: Option<PageCursor>,
    ) -> Result<ReferencePage, ErpReadError>;

    /// Reads the **full** customer with `key`, or `None` when the ERP has none.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`; "not found" is `Ok(None)`, never an error.
    async fn find_customer(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomer>, ErpReadError>;

    /// Reads the credit figures of the customer with `key` (balance, credit limit, hold,
    /// currency), or `None` when the ERP has no such customer.
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`; "not found" is `Ok(None)`.
    async fn credit_figures(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<CreditFigures>, ErpReadError>;

    /// Reads one page of the open documents (amount due not zero) of the customer with `key`,
    /// starting at `cursor` (the first page when `None`). The ERP filters by customer and
    /// "not fully paid" itself where it can; a document with a zero amount due that still
    /// arrives is skipped by the caller. A page holds at most the adapter's page size, so a
    /// caller folding page by page stays bounded.
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`; a customer without documents is an
    /// empty last page. A list that fails is never turned into an empty result.
    async fn open_documents_page(
        &self,
        key: &ErpCustomerKey,
        cursor: Option<PageCursor>,
    ) -> Result<DocumentPage, ErpReadError>;

    /// Reads one page of the open sales orders of the customer with `key`, starting at
    /// `cursor`; [`OrdersPage::Unavailable`] when the company has no order entry.
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`. A list that fails is never turned into
    /// an empty result or into `Unavailable`.
    async fn open_orders_page(
        &self,
        key: &ErpCustomerKey,
        cursor: Option<PageCursor>,
    ) -> Result<OrdersPage, ErpReadError>;

    /// Creates `customer` once. Never retried by the adapter.
    ///
    /// # Errors
    /// [`CreateCustomerError::Rejected`] only when nothing was created;
    /// [`CreateCustomerError::AlreadyExists`] for a duplicate key;
    /// [`CreateCustomerError::Ambiguous`] whenever it may have been created;
    /// `Unreachable`, `Unauthorized`, `Forbidden`, `RateLimited` when nothing was created.
    async fn create_customer(
        &self,
        customer: &NewErpCustomer,
    ) -> Result<ErpCustomer, CreateCustomerError>;

    /// The field lengths this ERP accepts, checked before any write.
    fn limits(&self) -> FieldLimits;

    /// Where this company keeps parties of `kind`: ship-tos are always
    /// [`PartyHome::Records`]; Sage 300 contacts are records only where the server has
    /// `MT/MTContacts` (the adapter asks once and remembers), else
    /// [`PartyHome::OnCustomer`].
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`; an absent optional resource is
    /// `Ok(PartyHome::OnCustomer)`, never an error.
    async fn party_home(&self, kind: PartyKind) -> Result<PartyHome, ErpReadError>;

    /// Reads the ship-to or contact with `key`, or `None` when the ERP has none (also when
    /// its customer is missing).
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`; "not found" is `Ok(None)`.
    async fn find_party(&self, key: &ErpPartyKey) -> Result<Option<ErpParty>, ErpReadError>;

    /// Creates `party` as a record of its own, once. Never retried by the adapter. Does not
    /// touch the customer: [`ErpGateway::set_primary_party`] does that.
    ///
    /// Dropping the future abandons the request; one already sent may still create it, which
    /// is why the caller holds an intent and `recover` looks it up.
    ///
    /// # Errors
    /// [`ErpWriteError::Rejected`] only when nothing was created;
    /// [`ErpWriteError::AlreadyExists`] for a duplicate key; [`ErpWriteError::CustomerMissing`]
    /// when the ERP has no such customer; [`ErpWriteError::Ambiguous`] whenever it may have been
    /// created; `Unreachable`, `Unauthorized`, `Forbidden`, `RateLimited` when nothing was
    /// created.
    async fn create_party(&self, party: &NewErpParty) -> Result<ErpParty, ErpWriteError>;

    /// Makes `party` its customer's primary one with an idempotent update of the customer:
    /// Sage 300 `PrimaryShipToLocation`, Sage 100 `PrimaryShipToCode` / `ContactCode`; a
    /// contact of a Sage 300 without contacts ([`PartyHome::OnCustomer`]) writes its name,
    /// phone and e-mail into `ContactName`, `ContactsPhone`, `ContactsEmail`. Sending it twice
    /// leaves the customer as sending it once.
    ///
    /// Dropping the future abandons the request; one already sent may still apply.
    ///
    /// # Errors
    /// As [`ErpGateway::create_party`], never `AlreadyExists`.
    async fn set_primary_party(&self, party: &NewErpParty) -> Result<(), ErpWriteError>;

    /// Reads one page of the customer's parties of `kind`, starting at `cursor` (the first
    /// page when `None`); for [`PartyHome::OnCustomer`] contacts, the one the customer's own
    /// fields hold, if any.
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`. A list that fails is never turned into
    /// an empty result.
    async fn parties_page(
        &self,
        customer: &ErpCustomerKey,
        kind: PartyKind,
        cursor: Option<PageCursor>,
    ) -> Result<PartyPage, ErpReadError>;

    /// The field lengths this ERP accepts for parties of `kind`, checked before any write.
    fn party_limits(&self, kind: PartyKind) -> Vec<PartyFieldLimit>;

    /// Reads one page of the customer list, starting at `cursor` (the first page when
    /// `None`), in the ERP's key order. With `since`, asks the ERP for the customers
    /// maintained on or after that day only (Sage 300 `DateLastMaintained`, Sage 100
    /// `DateUpdated`); an ERP that refuses the filter (400) on the first page gets the whole
    /// list instead, and [`CustomerPage::since_applied`] says which it was. A page holds at
    /// most the adapter's page size.
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`. A list that fails is never turned into
    /// an empty result.
    async fn customers_page(
        &self,
        since: Option<jiff::civil::Date>,
        cursor: Option<PageCursor>,
    ) -> Result<CustomerPage, ErpReadError>;

    /// The customers whose name is exactly `name` (as the ERP compares: Sage 300 and Sage 100
    /// both compare case-insensitively on most installs), at most 20, in one request: the
    /// duplicate guard's live lookup.
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`; none found is `Ok(vec![])`.
    async fn customers_named(&self, name: &str) -> Result<Vec<ErpCustomerSummary>, ErpReadError>;

    /// Reads the customer with `key`, summarised, or `None` when the ERP has none: what
    /// `link` and `reconcile` compare.
    ///
    /// Dropping the future abandons the read; nothing in the ERP changes.
    ///
    /// # Errors
    /// Any [`ErpReadError`] except `KindUnavailable`; "not found" is `Ok(None)`.
    async fn customer_summary(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomerSummary>, ErpReadError>;

    /// Writes `value` into the CRM-id field `field` of the customer with `key` (a Sage 300
    /// optional field, a Sage 100 UDF) with an idempotent update that touches nothing else:
    /// sending it twice leaves the customer as sending it once.
    ///
    /// Dropping the future abandons the request; one already sent may still apply.
    ///
    /// # Errors
    /// [`ErpWriteError::CustomerMissing`] when the ERP has no such customer;
    /// [`ErpWriteError::Rejected`] when it refused (nothing written);
    /// [`ErpWriteError::Ambiguous`] whenever it may have applied; `Unreachable`,
    /// `Unauthorized`, `Forbidden`, `RateLimited` when nothing was written. Never
    /// `AlreadyExists`.
    async fn set_crm_id(
        &self,
        key: &ErpCustomerKey,
        field: &ErpFieldName,
        value: &str,
    ) -> Result<(), ErpWriteError>;

    /// The exact body [`ErpGateway::create_customer`] would send for `customer` (JSON for
    /// Sage 300, the Atom entry for Sage 100), without sending anything: what
    /// `promote --dry-run` prints. It holds no secret.
    fn customer_payload(&self, customer: &NewErpCustomer) -> String;
}
