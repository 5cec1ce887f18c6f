//! The Sage 100 side of the live customer panel: the customer's credit figures from
//! `AR_Customer`, its open invoices from `AR_OpenInvoice`, its open orders from
//! `SO_SalesOrderHeader` (when Sales Order is installed). Unsure details and how each is
//! tolerated are in `docs/reference-panel-sage100.md`.
//!
//! - **Balance** = `CurrentBalance` + `AgingCategory1..4` (those the server sends): Sage 100
//!   keeps the current part and the aged parts apart; a server sending only `CurrentBalance`
//!   gives that.
//! - **Credit limit**: `CreditLimit`; zero or absent is "no limit". **On hold**: `CreditHold`
//!   `Y`. No currency (Sage 100 is single-currency).
//! - **Open invoices**: `AR_OpenInvoice?where=ARDivisionNo eq 'DD' and CustomerNo eq 'NO' and
//!   Balance ne 0`, pages of [`PANEL_PAGE_COUNT`], each page one call (the domain folds them;
//!   nothing is kept here between pages). Amounts are parsed from the XML text as exact
//!   decimals. Credit rows (`InvoiceType` `CM`, `PP`, `PY`) are made negative whatever sign the
//!   server writes; the original amount is `InvoiceAmt`, or the balance when the server has no
//!   such column.
//! - **Paging** without state (panel reads of several customers may interleave): a page must
//!   start where it was asked to, a next page must keep this customer's filter and start
//!   further on, a linked page must not be empty, the rows must not exceed the announced
//!   total, and a list that ends before its total continues by `startIndex` (an empty page
//!   then fails). Every entry must be this customer's: a server that ignores the filter is a
//!   protocol error, never another customer's invoices.
//! - **Orders**: `SO_SalesOrderHeader` filtered by customer; quotes (`OrderType` `Q`, `P`) and
//!   closed orders (`OrderStatus` `C`) are left out; the total is `TaxableAmt` +
//!   `NonTaxableAmt` + `SalesTaxAmt` + `FreightAmt` − `DiscountAmt`. Not in `$schema`, or 404
//!   `ResourceKindNotFound` on the first page: [`OrdersPage::Unavailable`].

use crm2sage_domain::ports::{
    DocumentPage, ErpCustomerKey, ErpGateway, ErpReadError, OrdersPage, PageCursor,
};
use crm2sage_domain::{
    Amount, ArDivision, CreditFigures, CustomerNo, Date, DocumentType, OpenDocument, OpenOrder,
};
use reqwest::StatusCode;
use url::Url;

use super::xml::{self, Document, Entry};
use super::{Sage100Gateway, next_page, protocol, read_failure, urls, wire};

/// The open-invoice table.
pub(super) const OPEN_INVOICES: &str = "AR_OpenInvoice";
/// The sales-order header table (Sales Order module).
pub(super) const SALES_ORDERS: &str = "SO_SalesOrderHeader";
/// Rows asked for per panel page (`count=`); a server may send fewer.
pub(super) const PANEL_PAGE_COUNT: u64 = 500;
/// `AR_Customer`'s aged parts of the balance, beside `CurrentBalance`.
const AGED: [&str; 4] = [
    "AgingCategory1",
    "AgingCategory2",
    "AgingCategory3",
    "AgingCategory4",
];
/// `AR_OpenInvoice` types that are credits: credit memo, prepayment, payment.
const CREDIT_TYPES: [&str; 3] = ["CM", "PP", "PY"];
/// The blank date public ODBC queries over Sage 100 tables filter out.
const BLANK_DATE: &str = "1753-01-01";

fn key_parts(key: &ErpCustomerKey) -> (ArDivision, &CustomerNo) {
    (key.division.unwrap_or_default(), &key.customer_no)
}

/// An exact amount from a column's text; `None` when the column is absent or nil.
fn amount(entry_text: Option<&str>, what: &str) -> Result<Option<Amount>, String> {
    entry_text
        .map(|t| Amount::parse(t).map_err(|e| format!("{what}: {e}")))
        .transpose()
}

/// A date from `YYYY-MM-DD` (a time after it is ignored); `None` for absent, nil or the
/// `1753-01-01` blank.
fn date(text: Option<&str>, what: &str) -> Result<Option<Date>, String> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let day = t.get(..10).unwrap_or(t);
    let rest = t.get(10..).unwrap_or("");
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
        return Err(format!("{what}: `{t}` is not a date"));
    }
    if day == BLANK_DATE {
        return Ok(None);
    }
    day.parse::<Date>()
        .map(Some)
        .map_err(|_| format!("{what}: `{t}` is not a date"))
}

pub(super) async fn credit_figures(
    gateway: &Sage100Gateway,
    key: &ErpCustomerKey,
) -> Result<Option<CreditFigures>, ErpReadError> {
    let Some(customer) = gateway.find_customer(key).await? else {
        return Ok(None);
    };
    let r = &customer.record;
    let uid = key.external_uid();
    let bad = |e: String| protocol(format!("AR_Customer {uid}: {e}"));
    let mut balance = amount(r.text("CurrentBalance"), "CurrentBalance")
        .map_err(bad)?
        .ok_or_else(|| bad("no CurrentBalance".to_owned()))?;
    for aged in AGED {
        if let Some(part) = amount(r.text(aged), aged).map_err(bad)? {
            balance = balance
                .checked_add(part)
                .map_err(|_| bad("the balance does not fit in an amount".to_owned()))?;
        }
    }
    let credit_limit = amount(r.text("CreditLimit"), "CreditLimit")
        .map_err(bad)?
        .filter(|l| !l.is_zero());
    let on_hold = match r.text("CreditHold").map(str::trim) {
        None | Some("") => false,
        Some(h) if h.eq_ignore_ascii_case("Y") => true,
        Some(h) if h.eq_ignore_ascii_case("N") => false,
        Some(other) => return Err(bad(format!("CreditHold `{other}` is not Y or N"))),
    };
    Ok(Some(CreditFigures {
        currency: None,
        balance,
        credit_limit,
        on_hold,
    }))
}

/// One page read for the panel.
pub(super) struct Fetched {
    pub(super) doc: Document,
    pub(super) body: Vec<u8>,
    pub(super) next: Option<Url>,
}

/// Reads the page of `table` filtered by `filter` at `cursor` (the first when `None`), and
/// checks the paging facts the module docs list; `None` when the table is not on this server
/// (404 `ResourceKindNotFound` on the first page).
pub(super) async fn read_page(
    gateway: &Sage100Gateway,
    table: &str,
    filter: &str,
    cursor: Option<&PageCursor>,
) -> Result<Option<Fetched>, ErpReadError> {
    let url = match cursor {
        None => gateway.urls.resource(
            table,
            &[
                ("where", filter),
                ("startIndex", "1"),
                ("count", &PANEL_PAGE_COUNT.to_string()),
            ],
        ),
        Some(c) => {
            let u = gateway
                .urls
                .cursor_url(c.as_str(), table)
                .map_err(protocol)?;
            if urls::param(&u, "where").as_deref() != Some(filter) {
                return Err(protocol(format!(
                    "the page cursor {u} is not a page of this customer's {table}"
                )));
            }
            u
        }
    };
    let answer = gateway
        .get(&url, Some(gateway.settings.list_timeout))
        .await?;
    if !answer.status.is_success() {
        if cursor.is_none() && answer.status == StatusCode::NOT_FOUND {
            let diagnoses = xml::parse_diagnoses(&answer.body).unwrap_or_default();
            if wire::has_code(&diagnoses, &["ResourceKindNotFound"]) {
                return Ok(None);
            }
        }
        return Err(read_failure(&answer));
    }
    let doc = Sage100Gateway::document(&answer)?;
    let fail = |what: String| protocol(xml::protocol(&what, &answer.body));
    if doc.root != "feed" {
        return Err(fail(format!(
            "expected an Atom feed of {table}, got <{}>",
            doc.root
        )));
    }
    let asked = urls::param(&url, "startIndex")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1);
    if let Some(start) = doc.start_index
        && start != asked
    {
        return Err(fail(format!(
            "{table}: asked for the page at startIndex {asked}, got the one at {start}"
        )));
    }
    let rows = doc.entries.len() as u64;
    if let Some(total) = doc.total_results
        && asked - 1 + rows > total
    {
        return Err(fail(format!(
            "{table}: {} rows by the end of this page, but totalResults is {total}",
            asked - 1 + rows
        )));
    }
    let next = next_page(&gateway.urls, &url, &doc, table).map_err(fail)?;
    if let Some(n) = &next {
        if urls::param(n, "where").as_deref() != Some(filter) {
            return Err(fail(format!(
                "{table}: the next page ({n}) drops this customer's filter"
            )));
        }
        let n_start = urls::param(n, "startIndex").and_then(|s| s.trim().parse::<u64>().ok());
        if n_start.is_some_and(|s| s <= asked) || rows == 0 {
            return Err(fail(format!(
                "{table}: the page at startIndex {asked} ({rows} rows) links to {n}; the \
                 paging does not move on"
            )));
        }
    }
    Ok(Some(Fetched {
        doc,
        body: answer.body,
        next,
    }))
}

/// Checks that `entry` belongs to the customer `division`-`number`.
pub(super) fn check_owner(
    entry: &Entry,
    division: ArDivision,
    number: &CustomerNo,
    table: &str,
) -> Result<(), String> {
    let (Some(dd), Some(no)) = (entry.text("ARDivisionNo"), entry.text("CustomerNo")) else {
        return Err(format!(
            "a {table} entry without ARDivisionNo and CustomerNo"
        ));
    };
    let same = ArDivision::parse(dd).is_ok_and(|d| d == division)
        && CustomerNo::parse_sage100(no).is_ok_and(|n| &n == number);
    if same {
        Ok(())
    } else {
        Err(format!(
            "{table} for {division}-{number} returned a row of {dd}-{no}; the server did not \
             filter"
        ))
    }
}

fn document_type(code: &str) -> DocumentType {
    match code {
        "IN" => DocumentType::Invoice,
        "CM" => DocumentType::CreditNote,
        "DM" => DocumentType::DebitNote,
        "FC" => DocumentType::Interest,
        "PP" => DocumentType::Prepayment,
        "PY" => DocumentType::Payment,
        other => DocumentType::Other(other.to_owned()),
    }
}

/// `amount` negative when the row is a credit (whatever sign the server wrote).
fn signed(amount: Amount, credit: bool) -> Amount {
    if credit && !amount.is_negative() {
        Amount::ZERO.checked_sub(amount).unwrap_or(amount)
    } else {
        amount
    }
}

/// One `AR_OpenInvoice` entry as an open document; `None` when its balance is zero.
fn to_document(entry: &Entry) -> Result<Option<OpenDocument>, String> {
    let number = entry
        .text("InvoiceNo")
        .ok_or("an AR_OpenInvoice entry without InvoiceNo")?;
    let what = |c: &str| format!("AR_OpenInvoice {number} {c}");
    let kind = entry
        .text("InvoiceType")
        .unwrap_or("IN")
        .to_ascii_uppercase();
    let credit = CREDIT_TYPES.contains(&kind.as_str());
    let balance = amount(entry.text("Balance"), &what("Balance"))?
        .ok_or_else(|| format!("{} is missing", what("Balance")))?;
    if balance.is_zero() {
        return Ok(None);
    }
    let amount_due = signed(balance, credit);
    let original = amount(entry.text("InvoiceAmt"), &what("InvoiceAmt"))?
        .map_or(amount_due, |a| signed(a, credit));
    let due_date = date(entry.text("InvoiceDueDate"), &what("InvoiceDueDate"))?;
    let invoice_date = date(entry.text("InvoiceDate"), &what("InvoiceDate"))?
        .or(due_date)
        .ok_or_else(|| format!("{} is missing", what("InvoiceDate")))?;
    Ok(Some(OpenDocument {
        number: number.to_owned(),
        document_type: document_type(&kind),
        date: invoice_date,
        due_date,
        amount: original,
        amount_due,
    }))
}

pub(super) async fn open_documents_page(
    gateway: &Sage100Gateway,
    key: &ErpCustomerKey,
    cursor: Option<PageCursor>,
) -> Result<DocumentPage, ErpReadError> {
    let (division, number) = key_parts(key);
    let filter = format!(
        "{} and Balance ne 0",
        urls::where_eq(&[
            ("ARDivisionNo", division.as_str()),
            ("CustomerNo", number.as_str()),
        ])
    );
    let Some(Fetched { doc, body, next }) =
        read_page(gateway, OPEN_INVOICES, &filter, cursor.as_ref()).await?
    else {
        return Err(protocol(format!(
            "the server has no {OPEN_INVOICES} resource kind"
        )));
    };
    let mut documents = Vec::with_capacity(doc.entries.len());
    for entry in &doc.entries {
        let found = check_owner(entry, division, number, OPEN_INVOICES)
            .and_then(|()| to_document(entry))
            .map_err(|e| protocol(xml::protocol(&e, &body)))?;
        documents.extend(found);
    }
    Ok(DocumentPage {
        documents,
        next: next.map(|u| PageCursor::new(u.to_string())),
    })
}

/// One `SO_SalesOrderHeader` entry as an open order; `None` for a quote or a closed order.
fn to_order(entry: &Entry) -> Result<Option<OpenOrder>, String> {
    let number = entry
        .text("SalesOrderNo")
        .ok_or("a SO_SalesOrderHeader entry without SalesOrderNo")?;
    let what = |c: &str| format!("SO_SalesOrderHeader {number} {c}");
    let kind = entry.text("OrderType").unwrap_or("S").to_ascii_uppercase();
    let status = entry
        .text("OrderStatus")
        .unwrap_or("O")
        .to_ascii_uppercase();
    if matches!(kind.as_str(), "Q" | "P") || status == "C" {
        return Ok(None);
    }
    let mut total = None;
    for (column, sign) in [
        ("TaxableAmt", false),
        ("NonTaxableAmt", false),
        ("SalesTaxAmt", false),
        ("FreightAmt", false),
        ("DiscountAmt", true),
    ] {
        if let Some(a) = amount(entry.text(column), &what(column))? {
            let sum = total.unwrap_or(Amount::ZERO);
            let next = if sign {
                sum.checked_sub(a)
            } else {
                sum.checked_add(a)
            };
            total = Some(next.map_err(|_| format!("{} does not fit", what("total")))?);
        }
    }
    let total = total.ok_or_else(|| format!("{}has no amount columns", what("")))?;
    let expected_ship_date = date(entry.text("ShipExpireDate"), &what("ShipExpireDate"))?;
    let order_date = date(entry.text("OrderDate"), &what("OrderDate"))?
        .ok_or_else(|| format!("{} is missing", what("OrderDate")))?;
    Ok(Some(OpenOrder {
        number: number.to_owned(),
        date: order_date,
        expected_ship_date,
        total,
    }))
}

pub(super) async fn open_orders_page(
    gateway: &Sage100Gateway,
    key: &ErpCustomerKey,
    cursor: Option<PageCursor>,
) -> Result<OrdersPage, ErpReadError> {
    if cursor.is_none()
        && let Some(kinds) = gateway.schema_kinds().await?
        && !kinds
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(SALES_ORDERS))
    {
        return Ok(OrdersPage::Unavailable);
    }
    let (division, number) = key_parts(key);
    let filter = urls::where_eq(&[
        ("ARDivisionNo", division.as_str()),
        ("CustomerNo", number.as_str()),
    ]);
    let Some(Fetched { doc, body, next }) =
        read_page(gateway, SALES_ORDERS, &filter, cursor.as_ref()).await?
    else {
        return Ok(OrdersPage::Unavailable);
    };
    let mut orders = Vec::with_capacity(doc.entries.len());
    for entry in &doc.entries {
        let found = check_owner(entry, division, number, SALES_ORDERS)
            .and_then(|()| to_order(entry))
            .map_err(|e| protocol(xml::protocol(&e, &body)))?;
        orders.extend(found);
    }
    Ok(OrdersPage::Orders {
        orders,
        next: next.map(|u| PageCursor::new(u.to_string())),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
    use super::*;

    #[test]
    fn dates_take_a_time_and_the_blank() {
        let d = |t| date(Some(t), "d");
        assert_eq!(d("2026-06-30").unwrap(), Some(Date::constant(2026, 6, 30)));
        assert_eq!(
            d("2026-06-30T00:00:00").unwrap(),
            Some(Date::constant(2026, 6, 30))
        );
        assert_eq!(d("1753-01-01T00:00:00").unwrap(), None);
        assert_eq!(date(None, "d").unwrap(), None);
        assert!(d("06/30/2026").is_err());
        assert!(d("2026-02-30").is_err());
        assert!(d("2026-06-30x").is_err());
    }

    #[test]
    fn credits_are_negative_whatever_the_server_wrote() {
        let a = |t| Amount::parse(t).unwrap();
        assert_eq!(signed(a("40.00"), true), a("-40.00"));
        assert_eq!(signed(a("-40.00"), true), a("-40.00"));
        assert_eq!(signed(a("40.00"), false), a("40.00"));
        assert_eq!(
            signed(a("-40.00"), false),
            a("-40.00"),
            "as the ERP reports it"
        );
    }
}
