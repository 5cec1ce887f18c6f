//! The ERP's customer list as the duplicate guard, `match`, `link` and `reconcile` see it: a
//! short, ERP-neutral summary of each customer, read page by page or looked up by exact name.
//! The adapters map these to `AR/ARCustomers` (Sage 300) and `AR_Customer` (Sage 100); the
//! domain never sees those names.

use jiff::civil::Date;

use super::erp::{ErpCustomerKey, PageCursor};

/// Whether the ERP lets the customer be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErpCustomerStatus {
    /// Active.
    Active,
    /// Inactive (Sage 300 `Status` `Inactive`, Sage 100 `CustomerStatus` `I`), or any status
    /// the adapter cannot read as active (Sage 100 `T`, temporary, among them).
    Inactive,
}

impl ErpCustomerStatus {
    /// `active` or `inactive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    /// Parses [`ErpCustomerStatus::as_str`]'s spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Active, Self::Inactive]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// One ERP customer, summarised: what a lookup compares and a listing shows. Text is the
/// ERP's, trimmed, with empty fields as `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErpCustomerSummary {
    /// The key (number, and division on Sage 100).
    pub key: ErpCustomerKey,
    /// The customer name.
    pub name: String,
    /// Address lines 1–3.
    pub address_lines: [Option<String>; 3],
    /// City.
    pub city: Option<String>,
    /// State or province.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country, as the ERP spells it (alpha-2 or alpha-3).
    pub country: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Active or not.
    pub status: ErpCustomerStatus,
    /// On credit hold (Sage 300 `OnHold`, Sage 100 `CreditHold`).
    pub on_hold: bool,
    /// The day it was last changed (Sage 300 `DateLastMaintained`, Sage 100 `DateUpdated`),
    /// when the ERP says.
    pub last_maintained: Option<Date>,
    /// The value of the integration's CRM-id field, when it has one and the ERP returned it.
    pub crm_id: Option<String>,
}

/// One page of the customer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPage {
    /// The customers on this page, in the ERP's order.
    pub customers: Vec<ErpCustomerSummary>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
    /// The total number of customers in the list, when the ERP says.
    pub total: Option<u64>,
    /// Whether the list is filtered to customers maintained since the date asked for. `false`
    /// when none was asked for, or when the ERP refused the filter and the adapter fell back to
    /// the whole list: the caller then has every customer, and may treat the sync as full.
    pub since_applied: bool,
}
