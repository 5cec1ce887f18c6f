//! The live customer panel and the credit check, read from the ERP page by page.

use jiff::civil::Date;

use crate::ids::AccountId;
use crate::money::AmountOverflow;
use crate::panel::{
    CreditCheck, CreditFigures, DocumentFold, OrderFold, Orders, Panel, credit_status,
};
use crate::ports::{ErpConnector, ErpCustomerKey, ErpGateway, ErpReadError, OrdersPage, Store};

use super::{DetailsError, Services};

/// How many documents the panel keeps for display unless told otherwise.
pub const DEFAULT_PANEL_DOCUMENTS: usize = 10;

fn overflow(_: AmountOverflow) -> DetailsError {
    DetailsError::Erp(ErpReadError::Protocol {
        excerpt: "amounts whose sum does not fit in 28 significant digits".into(),
    })
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Builds the live panel of `account`'s promoted customer in the integration's ERP (the
    /// default when `integration` is `None`): credit figures, the aging of every open document
    /// as of `as_of` (today, UTC, from the services' clock when `None`), the last `documents`
    /// documents (by document date, then number; latest first) and the open orders or "not
    /// available". The documents and orders are folded page by page: memory holds `documents`
    /// of each, whatever the customer has.
    ///
    /// # Dropping the future
    /// Harmless: it only reads (the store, then the ERP); at most a gateway it opened on the
    /// way is kept for the next call.
    ///
    /// # Errors
    /// [`DetailsError`]; an unreachable ERP or a failed page is an error, never a partial
    /// aging. [`DetailsError::GoneFromErp`] when the ERP no longer has the customer.
    pub async fn erp_panel(
        &self,
        account: AccountId,
        integration: Option<&str>,
        as_of: Option<Date>,
        documents: usize,
    ) -> Result<Panel, DetailsError> {
        let (integration, binding, key) = self.promoted_key(account, integration).await?;
        let gateway = self.gateway(&integration).await?;
        let figures =
            gateway
                .credit_figures(&key)
                .await?
                .ok_or_else(|| DetailsError::GoneFromErp {
                    external_uid: binding.external_uid.to_string(),
                })?;
        let as_of = as_of.unwrap_or_else(|| self.today());
        let status = credit_status(&figures).map_err(overflow)?;
        let over_limit = figures.over_limit().map_err(overflow)?;
        let mut fold = DocumentFold::new(as_of, documents);
        let mut cursor = None;
        loop {
            let page = gateway.open_documents_page(&key, cursor).await?;
            fold.push_page(page.documents).map_err(overflow)?;
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let (aging, document_count, latest) = fold.finish();
        let orders = read_orders(gateway.as_ref(), &key, documents).await?;
        Ok(Panel {
            as_of,
            credit: CreditCheck { figures, status },
            over_limit,
            aging,
            document_count,
            documents: latest,
            orders,
        })
    }

    /// The credit check of `account`'s promoted customer, from the figures the ERP holds now:
    /// on hold, no limit, within the limit (and what is left) or over it (and by how much),
    /// with the figures used. For an order flow that warns or blocks; a promotion never
    /// depends on it.
    ///
    /// # Dropping the future
    /// Harmless: it only reads; at most a gateway it opened is kept for the next call.
    ///
    /// # Errors
    /// [`DetailsError`]; an unreachable ERP is an error, never a stale answer.
    pub async fn credit_status(
        &self,
        account: AccountId,
        integration: Option<&str>,
    ) -> Result<CreditCheck, DetailsError> {
        let (integration, binding, key) = self.promoted_key(account, integration).await?;
        let gateway = self.gateway(&integration).await?;
        let figures: CreditFigures =
            gateway
                .credit_figures(&key)
                .await?
                .ok_or_else(|| DetailsError::GoneFromErp {
                    external_uid: binding.external_uid.to_string(),
                })?;
        let status = credit_status(&figures).map_err(overflow)?;
        Ok(CreditCheck { figures, status })
    }

    fn today(&self) -> Date {
        jiff::tz::Offset::UTC.to_datetime(self.clock.now()).date()
    }
}

async fn read_orders(
    gateway: &dyn ErpGateway,
    key: &ErpCustomerKey,
    keep: usize,
) -> Result<Orders, DetailsError> {
    let mut fold = OrderFold::new(keep);
    let mut cursor = None;
    loop {
        match gateway.open_orders_page(key, cursor).await? {
            OrdersPage::Unavailable => return Ok(Orders::NotAvailable),
            OrdersPage::Orders { orders, next } => {
                for order in orders {
                    fold.push(order).map_err(overflow)?;
                }
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
    }
    Ok(Orders::Available(fold.finish()))
}
