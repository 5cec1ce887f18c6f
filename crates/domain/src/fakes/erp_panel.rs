//! The fake ERP's AR side: open documents, open orders and credit figures per customer, paged
//! like a real server; order entry can be switched off.

use crate::panel::{CreditFigures, OpenDocument, OpenOrder};
use crate::ports::{DocumentPage, ErpCustomerKey, ErpReadError, OrdersPage, PageCursor};

use super::erp::{FakeErp, State, slot};

/// What the fake ERP holds for the panel.
#[derive(Debug, Default)]
pub(super) struct PanelState {
    documents: std::collections::BTreeMap<(Option<String>, String), Vec<OpenDocument>>,
    orders: std::collections::BTreeMap<(Option<String>, String), Vec<OpenOrder>>,
    credit: std::collections::BTreeMap<(Option<String>, String), CreditFigures>,
    no_order_entry: bool,
    document_pages_read: usize,
}

impl FakeErp {
    /// Adds open documents to the customer with `key` (kept in the order given).
    pub fn add_documents(
        &self,
        key: &ErpCustomerKey,
        documents: impl IntoIterator<Item = OpenDocument>,
    ) {
        self.state()
            .panel
            .documents
            .entry(slot(key))
            .or_default()
            .extend(documents);
    }

    /// Adds open orders to the customer with `key`.
    pub fn add_orders(&self, key: &ErpCustomerKey, orders: impl IntoIterator<Item = OpenOrder>) {
        self.state()
            .panel
            .orders
            .entry(slot(key))
            .or_default()
            .extend(orders);
    }

    /// Sets the credit figures of the customer with `key` (a customer without them reads as
    /// balance 0, no limit, not on hold, no currency).
    pub fn set_credit(&self, key: &ErpCustomerKey, figures: CreditFigures) {
        self.state().panel.credit.insert(slot(key), figures);
    }

    /// Whether the company has order entry (it does unless switched off).
    pub fn set_order_entry(&self, installed: bool) {
        self.state().panel.no_order_entry = !installed;
    }

    /// How many pages of open documents were read.
    pub fn document_pages_read(&self) -> usize {
        self.state().panel.document_pages_read
    }
}

fn start_of(cursor: Option<&PageCursor>) -> Result<usize, ErpReadError> {
    match cursor {
        None => Ok(0),
        Some(c) => c.as_str().parse().map_err(|_| ErpReadError::Protocol {
            excerpt: c.as_str().to_owned(),
        }),
    }
}

fn page_of<T: Clone>(all: &[T], start: usize, size: usize) -> (Vec<T>, Option<PageCursor>) {
    let end = start.saturating_add(size).min(all.len());
    let items = all.get(start..end).map(<[_]>::to_vec).unwrap_or_default();
    let next = (end < all.len()).then(|| PageCursor::new(end.to_string()));
    (items, next)
}

pub(super) fn credit_figures(s: &State, key: &ErpCustomerKey) -> Option<CreditFigures> {
    let slot = slot(key);
    if !s.customers.contains_key(&slot) {
        return None;
    }
    Some(s.panel.credit.get(&slot).cloned().unwrap_or(CreditFigures {
        currency: None,
        balance: crate::money::Amount::ZERO,
        credit_limit: None,
        on_hold: false,
    }))
}

pub(super) fn documents_page(
    s: &mut State,
    key: &ErpCustomerKey,
    cursor: Option<&PageCursor>,
    size: usize,
) -> Result<DocumentPage, ErpReadError> {
    let start = start_of(cursor)?;
    s.panel.document_pages_read += 1;
    let all = s
        .panel
        .documents
        .get(&slot(key))
        .map(Vec::as_slice)
        .unwrap_or_default();
    // As the real ERPs filter server-side: only documents with something due.
    let (documents, next) = page_of(all, start, size);
    Ok(DocumentPage {
        documents: documents
            .into_iter()
            .filter(|d| !d.amount_due.is_zero())
            .collect(),
        next,
    })
}

pub(super) fn orders_page(
    s: &State,
    key: &ErpCustomerKey,
    cursor: Option<&PageCursor>,
    size: usize,
) -> Result<OrdersPage, ErpReadError> {
    if s.panel.no_order_entry {
        return Ok(OrdersPage::Unavailable);
    }
    let start = start_of(cursor)?;
    let all = s
        .panel
        .orders
        .get(&slot(key))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let (orders, next) = page_of(all, start, size);
    Ok(OrdersPage::Orders { orders, next })
}
