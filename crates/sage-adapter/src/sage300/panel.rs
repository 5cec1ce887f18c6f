//! The Sage 300 side of the live customer panel: open documents from `AR/ARPostedDocuments`
//! (filtered by customer and `FullyPaid` on the server, paged by next link), the credit
//! figures from `AR/ARCustomers`, and open orders from `OE/OEOrders` when the company has
//! Order Entry. Which names are confirmed by the 2016 `$metadata` and which are not is tabled
//! in `docs/reference-panel.md`.
//!
//! Every amount is read from its raw JSON token ([`wire::amount`]): exact, never a float.
//!
//! Paging: each call reads one page, and the cursor is the next link. The reference syncs'
//! [`PagingGuard`](crate::paging::PagingGuard) holds one sync's state per gateway and is keyed by
//! reference kind, so these reads (many customers at once on one gateway) do not share it;
//! each page is checked on its own instead: a next link that points at the same page, does
//! not move `$skip` forward, or follows an empty page is refused (a loop), so a read always
//! ends.

use crm2sage_domain::ports::{DocumentPage, ErpCustomerKey, ErpReadError, OrdersPage, PageCursor};
use crm2sage_domain::{CreditFigures, CurrencyCode, DocumentType, OpenDocument, OpenOrder};
use url::Url;

use super::wire::{self, RawRow};
use super::{CUSTOMERS, Sage300Gateway, get_ok, protocol, read_failure, urls};
use crate::http::BodyKind;

const DOCUMENTS: &str = "AR/ARPostedDocuments";
const ORDERS: &str = "OE/OEOrders";

const DOCUMENT_SELECT: &str = "CustomerNumber,DocumentNumber,DocumentType,DocumentDate,DueDate,\
CustomerCurrencyInvoiceAmount,CustomerCurrencyAmountDue,FullyPaid";
const CREDIT_SELECT: &str =
    "CustomerNumber,CurrencyCode,OnHold,CreditLimitCustomerCurrency,BalanceDueInCustomerCurrency";

fn skip_of(url: &Url) -> Option<u64> {
    url.query_pairs()
        .find(|(k, _)| k == "$skip")
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// The page's URL: the first (filtered) one, or the cursor's.
pub(super) fn page_url(
    gateway: &Sage300Gateway,
    resource: &str,
    first: impl FnOnce() -> Url,
    cursor: Option<&PageCursor>,
) -> Result<Url, ErpReadError> {
    match cursor {
        None => Ok(first()),
        Some(c) => gateway
            .urls
            .cursor_url(c.as_str(), resource)
            .map_err(protocol),
    }
}

/// The cursor of the page after `url`, checked so that the paging always ends.
pub(super) fn next_cursor(
    gateway: &Sage300Gateway,
    resource: &str,
    url: &Url,
    link: Option<&str>,
    rows: usize,
) -> Result<Option<PageCursor>, ErpReadError> {
    let Some(link) = link else { return Ok(None) };
    let next = gateway
        .urls
        .next_page(url, link, resource)
        .map_err(|e| protocol(format!("{resource}: {e}")))?;
    // A `$skip` link must move forward; a link without one (a skip token) is only refused
    // when it repeats this page.
    let backwards = skip_of(&next).is_some_and(|n| n <= skip_of(url).unwrap_or(0));
    if next == *url || rows == 0 || backwards {
        return Err(protocol(format!(
            "{resource}: the next link `{link}` does not move past this page; the paging loops"
        )));
    }
    Ok(Some(PageCursor::new(next.to_string())))
}

fn same_customer(row: &RawRow, key: &ErpCustomerKey) -> bool {
    wire::raw_text(row, "CustomerNumber").is_some_and(|n| n == key.customer_no.as_str())
}

fn document_type(text: &str) -> DocumentType {
    match text {
        "Invoice" => DocumentType::Invoice,
        "CreditNote" => DocumentType::CreditNote,
        "DebitNote" => DocumentType::DebitNote,
        "Interest" => DocumentType::Interest,
        "Receipt" | "UnappliedCash" | "Payment" => DocumentType::Payment,
        "Prepayment" => DocumentType::Prepayment,
        other => DocumentType::Other(other.to_owned()),
    }
}

fn document(row: &RawRow) -> Result<OpenDocument, String> {
    let number = wire::raw_text(row, "DocumentNumber").ok_or("DocumentNumber is missing")?;
    let what = |e: String| format!("document {number}: {e}");
    let date = wire::date(row, "DocumentDate")
        .map_err(what)?
        .ok_or_else(|| what("DocumentDate is missing".into()))?;
    Ok(OpenDocument {
        document_type: document_type(&wire::raw_text(row, "DocumentType").unwrap_or_default()),
        date,
        due_date: wire::date(row, "DueDate").map_err(what)?,
        amount: wire::amount(row, "CustomerCurrencyInvoiceAmount").map_err(what)?,
        amount_due: wire::amount(row, "CustomerCurrencyAmountDue").map_err(what)?,
        number,
    })
}

fn order(row: &RawRow) -> Result<OpenOrder, String> {
    let number = wire::raw_text(row, "OrderNumber").ok_or("OrderNumber is missing")?;
    let what = |e: String| format!("order {number}: {e}");
    let date = wire::date(row, "OrderDate")
        .map_err(what)?
        .ok_or_else(|| what("OrderDate is missing".into()))?;
    Ok(OpenOrder {
        date,
        expected_ship_date: wire::date(row, "ExpectedShipDate").map_err(what)?,
        total: wire::amount(row, "OrderTotal").map_err(what)?,
        number,
    })
}

pub(super) async fn credit_figures(
    gateway: &Sage300Gateway,
    key: &ErpCustomerKey,
) -> Result<Option<CreditFigures>, ErpReadError> {
    let filter = urls::eq_filter("CustomerNumber", key.customer_no.as_str());
    let url = gateway.urls.resource(
        CUSTOMERS,
        &[("$filter", &filter), ("$select", CREDIT_SELECT)],
    );
    let answer = get_ok(&gateway.http, &url, None).await?;
    let page = wire::parse_page_of::<RawRow>(&answer.body).map_err(protocol)?;
    let Some(row) = page.rows.iter().find(|r| same_customer(r, key)) else {
        return Ok(None);
    };
    let bad = |e: String| protocol(wire::protocol(&e, &answer.body));
    let limit = wire::amount(row, "CreditLimitCustomerCurrency").map_err(bad)?;
    let on_hold = match wire::raw_text(row, "OnHold").as_deref() {
        Some("Yes" | "true" | "1") => true,
        Some("No" | "false" | "0") | None => false,
        Some(other) => return Err(bad(format!("OnHold `{other}` is neither Yes nor No"))),
    };
    Ok(Some(CreditFigures {
        currency: wire::raw_text(row, "CurrencyCode").and_then(|c| CurrencyCode::parse(&c).ok()),
        balance: wire::amount(row, "BalanceDueInCustomerCurrency").map_err(bad)?,
        // A limit of zero is "no limit" [UNSURE: CheckCreditLimit is not consulted].
        credit_limit: (!limit.is_zero()).then_some(limit),
        on_hold,
    }))
}

pub(super) async fn open_documents_page(
    gateway: &Sage300Gateway,
    key: &ErpCustomerKey,
    cursor: Option<PageCursor>,
) -> Result<DocumentPage, ErpReadError> {
    let url = page_url(
        gateway,
        DOCUMENTS,
        || {
            let filter = format!(
                "{} and {}",
                urls::eq_filter("CustomerNumber", key.customer_no.as_str()),
                urls::eq_filter("FullyPaid", "No")
            );
            gateway.urls.resource(
                DOCUMENTS,
                &[("$filter", &filter), ("$select", DOCUMENT_SELECT)],
            )
        },
        cursor.as_ref(),
    )?;
    let answer = get_ok(&gateway.http, &url, Some(gateway.settings.list_timeout)).await?;
    let page = wire::parse_page_of::<RawRow>(&answer.body).map_err(protocol)?;
    let mut documents = Vec::with_capacity(page.rows.len());
    // Never trust that the server filtered: only this customer's, only with something due.
    for row in page.rows.iter().filter(|r| same_customer(r, key)) {
        let d = document(row).map_err(|e| protocol(wire::protocol(&e, &answer.body)))?;
        if !d.amount_due.is_zero() {
            documents.push(d);
        }
    }
    let next = next_cursor(
        gateway,
        DOCUMENTS,
        &url,
        page.next_link.as_deref(),
        page.rows.len(),
    )?;
    Ok(DocumentPage { documents, next })
}

pub(super) async fn open_orders_page(
    gateway: &Sage300Gateway,
    key: &ErpCustomerKey,
    cursor: Option<PageCursor>,
) -> Result<OrdersPage, ErpReadError> {
    let url = page_url(
        gateway,
        ORDERS,
        || {
            let filter = urls::eq_filter("CustomerNumber", key.customer_no.as_str());
            gateway.urls.resource(ORDERS, &[("$filter", &filter)])
        },
        cursor.as_ref(),
    )?;
    let answer = gateway
        .http
        .get(&url, Some(gateway.settings.list_timeout), BodyKind::Page)
        .await
        .map_err(crate::errors::read_transport)?;
    if answer.status.as_u16() == 404 {
        // A company without O/E has no OE resources: Sage answers 404 `ResourceNotFound`
        // [UNSURE: the exact answer is not documented]. Anything else is an error.
        let parsed = wire::parse_error(&answer.body);
        if parsed
            .as_ref()
            .is_some_and(|m| m.code() == "ResourceNotFound")
        {
            return Ok(OrdersPage::Unavailable);
        }
    }
    if !answer.status.is_success() {
        return Err(read_failure(&answer));
    }
    let page = wire::parse_page_of::<RawRow>(&answer.body).map_err(protocol)?;
    let mut orders = Vec::with_capacity(page.rows.len());
    for row in page.rows.iter().filter(|r| same_customer(r, key)) {
        // `OrderCompleted` [UNSURE]: a completed order is not open.
        if wire::raw_text(row, "OrderCompleted").is_some_and(|c| c == "Yes") {
            continue;
        }
        orders.push(order(row).map_err(|e| protocol(wire::protocol(&e, &answer.body)))?);
    }
    let next = next_cursor(
        gateway,
        ORDERS,
        &url,
        page.next_link.as_deref(),
        page.rows.len(),
    )?;
    Ok(OrdersPage::Orders { orders, next })
}
