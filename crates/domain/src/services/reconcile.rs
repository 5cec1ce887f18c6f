//! `reconcile`: is every binding of an integration still true? Each binding's customer is read
//! live (at most [`RECONCILE_CONCURRENCY`] reads at once, a page of bindings at a time, in
//! Integration-key order) and compared with its account.

use futures_util::stream::{self, StreamExt};

use crate::account::Account;
use crate::error_class::{ErrorClass, ErrorCode};
use crate::integration::Integration;
use crate::normalize::normalize_name;
use crate::ports::{
    ErpConnector, ErpCustomerStatus, ErpCustomerSummary, ErpReadError, Store, StoreError,
};
use crate::promotion::Binding;

use super::{GatewayError, ResolveError, Services};

/// Live reads in flight at once.
pub const RECONCILE_CONCURRENCY: usize = 8;

/// Bindings read per page.
const PAGE: usize = 200;

/// Why a reconcile could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The gateway could not be opened.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for ReconcileError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::Gateway(e) => e.code(),
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::Gateway(e) => e.class(),
            Self::Store(e) => e.class(),
        }
    }
}

/// Where a binding stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindingStatus {
    /// The customer is there, active, not on hold, and its name and address are the
    /// account's.
    Ok,
    /// The ERP has no customer with the binding's key (deleted, or renumbered).
    Missing,
    /// The customer is inactive.
    Inactive,
    /// The customer is on credit hold.
    OnHold,
    /// The name or address differ from the account's: these fields (`name`, `address_line_1`
    /// … `address_line_3`, `city`, `state`, `postal_code`, `country`).
    Changed(Vec<&'static str>),
    /// The customer could not be read.
    Unreadable(ErpReadError),
    /// The binding's account is no longer in the store.
    AccountMissing,
}

impl BindingStatus {
    /// `ok`, `missing`, `inactive`, `on_hold`, `changed`, `unreadable`, `account_missing`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Missing => "missing",
            Self::Inactive => "inactive",
            Self::OnHold => "on_hold",
            Self::Changed(_) => "changed",
            Self::Unreadable(_) => "unreadable",
            Self::AccountMissing => "account_missing",
        }
    }
}

/// One binding checked.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReconcileRow {
    /// The binding.
    pub binding: Binding,
    /// Its status; when several hold, the first of missing, inactive, on hold, changed.
    pub status: BindingStatus,
    /// The fields that differ (also when the status is inactive or on hold).
    pub changed: Vec<&'static str>,
}

/// What a reconcile found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileSummary {
    /// Bindings checked.
    pub checked: u64,
    /// Of them, `ok`.
    pub ok: u64,
    /// Of them, unreadable (the ERP failed).
    pub unreadable: u64,
}

impl ReconcileSummary {
    /// Whether every binding is `ok`.
    pub fn all_ok(&self) -> bool {
        self.ok == self.checked
    }
}

/// The fields in which `customer` differs from `account` (trimmed, case-insensitive; the name
/// by [`normalize_name`]; the country in either ISO form).
pub fn changed_fields(account: &Account, customer: &ErpCustomerSummary) -> Vec<&'static str> {
    let d = account.details();
    let b = d.billing();
    let same = |ours: Option<&str>, theirs: Option<&str>| {
        let norm = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_lowercase)
        };
        norm(ours) == norm(theirs)
    };
    let mut out = Vec::new();
    if normalize_name(d.name().as_str()) != normalize_name(&customer.name) {
        out.push("name");
    }
    let pairs: [(&'static str, Option<&str>, Option<&str>); 6] = [
        (
            "address_line_1",
            Some(b.line1()),
            customer.address_lines[0].as_deref(),
        ),
        (
            "address_line_2",
            b.line2(),
            customer.address_lines[1].as_deref(),
        ),
        (
            "address_line_3",
            b.line3(),
            customer.address_lines[2].as_deref(),
        ),
        ("city", Some(b.city()), customer.city.as_deref()),
        ("state", b.state(), customer.state.as_deref()),
        (
            "postal_code",
            b.postal_code(),
            customer.postal_code.as_deref(),
        ),
    ];
    for (field, ours, theirs) in pairs {
        if !same(ours, theirs) {
            out.push(field);
        }
    }
    let country = b.country();
    let theirs = customer
        .country
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let differs = |theirs: &&str| {
        !theirs.eq_ignore_ascii_case(country.alpha2())
            && !theirs.eq_ignore_ascii_case(country.alpha3())
    };
    if theirs.is_some_and(|t| differs(&t)) {
        out.push("country");
    }
    out
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Checks every binding of `integration` (the default when `None`) against the ERP,
    /// calling `on_row` for each in Integration-key order (see the module docs).
    ///
    /// Dropping the future stops it; nothing was written anywhere.
    ///
    /// # Errors
    /// [`ReconcileError`] when it cannot run or the store fails; a customer that cannot be read
    /// is a row's [`BindingStatus::Unreadable`].
    pub async fn reconcile(
        &self,
        integration: Option<&str>,
        on_row: &mut (dyn FnMut(&ReconcileRow) + Send),
    ) -> Result<(Integration, ReconcileSummary), ReconcileError> {
        let integration = self.resolve_integration(integration).await?;
        let gateway = self.gateway(&integration).await?;
        let mut summary = ReconcileSummary::default();
        let mut after = None;
        loop {
            let bindings = self
                .store
                .bindings_page(integration.id(), after.as_ref(), PAGE)
                .await?;
            let Some(last) = bindings.last() else { break };
            after = Some(last.integration_key.clone());
            let gateway = gateway.as_ref();
            let mut checked = stream::iter(bindings)
                .map(|binding| async move {
                    let key = binding.customer_key();
                    let (account, customer) = futures_util::future::join(
                        self.store.account(binding.account),
                        gateway.customer_summary(&key),
                    )
                    .await;
                    (binding, account, customer)
                })
                .buffered(RECONCILE_CONCURRENCY);
            while let Some((binding, account, customer)) = checked.next().await {
                let account = account?;
                let (status, changed) = match (account, customer) {
                    (None, _) => (BindingStatus::AccountMissing, Vec::new()),
                    (_, Err(e)) => (BindingStatus::Unreadable(e), Vec::new()),
                    (_, Ok(None)) => (BindingStatus::Missing, Vec::new()),
                    (Some(account), Ok(Some(customer))) => {
                        let changed = changed_fields(&account, &customer);
                        let status = if customer.status != ErpCustomerStatus::Active {
                            BindingStatus::Inactive
                        } else if customer.on_hold {
                            BindingStatus::OnHold
                        } else if !changed.is_empty() {
                            BindingStatus::Changed(changed.clone())
                        } else {
                            BindingStatus::Ok
                        };
                        (status, changed)
                    }
                };
                summary.checked += 1;
                match status {
                    BindingStatus::Ok => summary.ok += 1,
                    BindingStatus::Unreadable(_) => summary.unreadable += 1,
                    _ => {}
                }
                on_row(&ReconcileRow {
                    binding,
                    status,
                    changed,
                });
            }
        }
        Ok((integration, summary))
    }
}
