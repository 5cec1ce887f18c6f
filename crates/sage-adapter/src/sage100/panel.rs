//! The Sage 100 side of the live customer panel (`AR_OpenInvoice`, the customer's credit
//! figures, `SO_SalesOrderHeader`).
//!
//! TEMPORARY: this build does not read the Sage 100 panel yet; every call answers a 501
//! server error naming that, so nothing made up is ever shown. Replaced by the Sage 100
//! implementation.

use crm2sage_domain::CreditFigures;
use crm2sage_domain::ports::{DocumentPage, ErpCustomerKey, ErpReadError, OrdersPage, PageCursor};

use super::Sage100Gateway;

fn not_yet() -> ErpReadError {
    ErpReadError::Server {
        status: 501,
        message: "this build does not read the Sage 100 customer panel yet".into(),
    }
}

pub(super) async fn credit_figures(
    _gateway: &Sage100Gateway,
    _key: &ErpCustomerKey,
) -> Result<Option<CreditFigures>, ErpReadError> {
    Err(not_yet())
}

pub(super) async fn open_documents_page(
    _gateway: &Sage100Gateway,
    _key: &ErpCustomerKey,
    _cursor: Option<PageCursor>,
) -> Result<DocumentPage, ErpReadError> {
    Err(not_yet())
}

pub(super) async fn open_orders_page(
    _gateway: &Sage100Gateway,
    _key: &ErpCustomerKey,
    _cursor: Option<PageCursor>,
) -> Result<OrdersPage, ErpReadError> {
    Err(not_yet())
}
