//! `sync --only customer`: the ERP's customer list into the local customer index, page by page
//! (the next page is asked for while the last one is written), so memory holds two pages
//! whatever the ERP's size.
//!
//! The first sync of an integration lists every customer; later ones ask only for customers
//! maintained since the day before the last sync started (the day before, so a clock or a time
//! zone between us and the ERP cannot lose a change) and upsert them. A full sync — the first,
//! one asked for, or one whose ERP refused the filter and listed everything — also drops the
//! customers it did not see. Deletions and renumbers in the ERP therefore leave the index at the
//! next full sync; `reconcile` reads bindings live and does not wait for it.

use futures_util::future::join;
use jiff::civil::Date;

use crate::error_class::{ErrorClass, ErrorCode};
use crate::integration::Integration;
use crate::ports::{
    CustomerIndexState, ErpConnector, ErpReadError, IndexedCustomer, PageCursor, Store, StoreError,
};

use super::{GatewayError, ResolveError, Services};

/// Why a customer sync stopped; the index keeps what earlier pages wrote (upserts of what the
/// ERP listed), its state does not move, and the next sync asks again from the same day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CustomerSyncError {
    /// The integration could not be chosen.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The gateway could not be opened.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// A page could not be read.
    #[error("customer list page {page} failed: {error}")]
    Page {
        /// 1-based.
        page: u64,
        /// The ERP error.
        error: ErpReadError,
    },
    /// The ERP's paging does not end: the same next link again, or far more customers than it
    /// said it has.
    #[error("customer list page {page}: {why}; the sync was stopped")]
    Looping {
        /// 1-based.
        page: u64,
        /// What was seen.
        why: String,
    },
    /// The store failed.
    #[error("the customer index could not be written: {0}")]
    Store(StoreError),
}

impl ErrorCode for CustomerSyncError {
    fn code(&self) -> &'static str {
        match self {
            Self::Resolve(e) => e.code(),
            Self::Gateway(e) => e.code(),
            Self::Page { error, .. } => error.code(),
            Self::Looping { .. } => "erp",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Resolve(e) => e.class(),
            Self::Gateway(e) => e.class(),
            Self::Page { .. } | Self::Looping { .. } => ErrorClass::Erp,
            Self::Store(e) => e.class(),
        }
    }
}

/// What a customer sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomerSyncReport {
    /// The integration synced.
    pub integration: Integration,
    /// Whether every customer was listed (and the unseen dropped).
    pub full: bool,
    /// The day changes were asked from, when it was not full.
    pub since: Option<Date>,
    /// Customers the ERP listed.
    pub listed: u64,
    /// Where the index stands now.
    pub state: CustomerIndexState,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Syncs the integration's customer index (see the module docs): everything when `full`
    /// or on the first sync, else what changed since the last. `progress` gets the customers
    /// listed so far and the ERP's total, after each page.
    ///
    /// Dropping the future stops the sync: pages already written stay (they are what the ERP
    /// listed), the index's state does not move, and the next sync starts from the same day.
    /// Nothing is held or left running.
    ///
    /// # Errors
    /// [`CustomerSyncError`].
    pub async fn sync_customers(
        &self,
        integration: Option<&str>,
        full: bool,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> Result<CustomerSyncReport, CustomerSyncError> {
        let integration = self.resolve_integration(integration).await?;
        let gateway = self.gateway(&integration).await?;
        let id = integration.id();
        let state = self
            .store
            .customer_index_state(id)
            .await
            .map_err(CustomerSyncError::Store)?;
        let since = match state {
            Some(state) if !full => {
                let day = jiff::tz::Offset::UTC.to_datetime(state.synced_from).date();
                Some(day.yesterday().unwrap_or(day))
            }
            _ => None,
        };
        let started_at = self.clock.now();
        let mut listed = 0_u64;
        let mut page_no = 1_u64;
        let mut cursor: Option<PageCursor> = None;
        let mut fetched = gateway.customers_page(since, None).await;
        let mut filtered = since.is_some();
        loop {
            let page = fetched.map_err(|error| CustomerSyncError::Page {
                page: page_no,
                error,
            })?;
            if page_no == 1 {
                filtered = filtered && page.since_applied;
            }
            if let Some(next) = page.next.as_ref().filter(|n| cursor.as_ref() == Some(*n)) {
                return Err(CustomerSyncError::Looping {
                    page: page_no,
                    why: format!(
                        "the ERP returned the same next page link again ({})",
                        next.as_str()
                    ),
                });
            }
            listed += page.customers.len() as u64;
            if let Some(total) = page
                .total
                .filter(|t| listed > t.saturating_mul(2).saturating_add(10_000))
            {
                return Err(CustomerSyncError::Looping {
                    page: page_no,
                    why: format!("{listed} customers listed where the ERP said it has {total}"),
                });
            }
            let entries: Vec<IndexedCustomer> = page
                .customers
                .into_iter()
                .map(|c| IndexedCustomer::new(c, started_at))
                .collect();
            let write = self.store.upsert_customers(id, &entries);
            let (written, following) = match &page.next {
                Some(next) => {
                    let (w, f) =
                        join(write, gateway.customers_page(since, Some(next.clone()))).await;
                    (w, Some(f))
                }
                None => (write.await, None),
            };
            written.map_err(CustomerSyncError::Store)?;
            progress(listed, page.total);
            match following {
                None => break,
                Some(f) => {
                    fetched = f;
                    cursor = page.next;
                    page_no += 1;
                }
            }
        }
        let full = !filtered;
        let state = self
            .store
            .finish_customer_sync(id, started_at, full, self.clock.now())
            .await
            .map_err(CustomerSyncError::Store)?;
        Ok(CustomerSyncReport {
            integration,
            full,
            since: since.filter(|_| filtered),
            listed,
            state,
        })
    }
}
