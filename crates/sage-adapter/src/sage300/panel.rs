//! The Sage 300 side of the live customer panel (`AR/ARPostedDocuments`, the customer's credit
//! figures, `OE/OEOrders`).
//!
//! TEMPORARY: this build does not read the Sage 100 panel yet; every call answers a 501
//! server error naming that, so nothing made up is ever shown. Replaced by the Sage 300
//! implementation.

use crm2sage_domain::CreditFigures;
use crm2sage_domain::ports::{DocumentPage, ErpCustomerKey, ErpReadError, OrdersPage, PageCursor};

use super::Sage300Gateway;

fn not_yet() -> ErpReadError {
    ErpReadError::Server {
        status: 501,
        message: "this build does not read the Sage 300 customer panel yet".into(),
    }
}

pub(super) async fn credit_figures(
    _gateway: &Sage300Gateway,
    _key: &ErpCustomerKey,
) -> Result<Option<CreditFigures>, ErpReadError> {
    Err(not_yet())
}

pub(super) async fn open_documents_page(
    _gateway: &Sage300Gateway,
    _key: &ErpCustomerKey,
    _cursor: Option<PageCursor>,
) -> Result<DocumentPage, ErpReadError> {
    Err(not_yet())
}

pub(super) async fn open_orders_page(
    _gateway: &Sage300Gateway,
    _key: &ErpCustomerKey,
    _cursor: Option<PageCursor>,
) -> Result<OrdersPage, ErpReadError> {
    Err(not_yet())
}
