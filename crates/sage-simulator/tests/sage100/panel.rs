//! The customer-panel tables: `AR_OpenInvoice` and `SO_SalesOrderHeader`, their demo rows, the
//! filters and paging the adapter uses, and every setting for an unsure detail.

use crm2sage_sage_simulator::sage100::{
    BlankDate, CreditBalanceSign, CustomerBalance, SDataDateStyle, SalesOrderModule,
};
use crm2sage_sage_simulator::{Sage100Config, Sage100Data, Sage100Resource};

use crate::helpers::{Sim, assert_diagnosis, column, columns, link, ok_xml, opensearch};
use crate::xml::Node;

const AS_OF: (i32, u8, u8) = (2026, 6, 30);

fn config() -> Sage100Config {
    Sage100Config {
        data: Sage100Data::demo_as_of(AS_OF),
        ..Sage100Config::default()
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn open_of(div: &str, cust: &str) -> String {
    format!(
        "AR_OpenInvoice?where={}",
        enc(&format!(
            "ARDivisionNo eq '{div}' and CustomerNo eq '{cust}' and Balance ne 0"
        ))
    )
}

fn row<'a>(feed: &'a Node, invoice: &str) -> &'a Node {
    feed.all("entry")
        .into_iter()
        .find(|e| column(e, "InvoiceNo").as_deref() == Some(invoice))
        .unwrap_or_else(|| panic!("invoice {invoice} in the feed"))
}

#[tokio::test]
async fn open_invoices_are_filtered_by_customer_and_balance() {
    let s = Sim::start(config()).await;
    let feed = s.get_xml(&open_of("01", "ABF")).await;
    // 12 ABF rows on file; the paid one is left out.
    assert_eq!(opensearch(&feed).0, 11);
    assert_eq!(
        columns(&feed, "InvoiceNo"),
        [
            "0100011", "0100012", "0100013", "0100014", "0100015", "0100016", "0100017", "0100018",
            "0100019", "0100020", "0100021"
        ]
    );
    let sum: i64 = columns(&feed, "Balance")
        .iter()
        .map(|b| {
            let (whole, cents) = b.split_once('.').unwrap();
            let sign = if whole.starts_with('-') { -1 } else { 1 };
            whole.parse::<i64>().unwrap() * 100 + sign * cents.parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(
        sum, 125_075,
        "the balances add up to CurrentBalance 1250.75"
    );
    let abf = s.sim.customer("01", "ABF").unwrap();
    assert_eq!(
        abf.get("CurrentBalance"),
        Some("460.00"),
        "the current part"
    );
    // Exactly 30/31/60/61/90/91 days past due on 2026-06-30.
    for (no, due) in [
        ("0100014", "2026-05-31"),
        ("0100015", "2026-05-30"),
        ("0100016", "2026-05-01"),
        ("0100017", "2026-04-30"),
        ("0100018", "2026-04-01"),
        ("0100019", "2026-03-31"),
        ("0100012", "2026-06-30"),
    ] {
        assert_eq!(
            column(row(&feed, no), "InvoiceDueDate").as_deref(),
            Some(due),
            "{no}"
        );
    }
    let memo = row(&feed, "0100021");
    assert_eq!(column(memo, "InvoiceType").as_deref(), Some("CM"));
    assert_eq!(column(memo, "Balance").as_deref(), Some("-40.00"));
    let charge = row(&feed, "0100020");
    assert_eq!(column(charge, "InvoiceType").as_deref(), Some("FC"));
    assert_eq!(column(charge, "InvoiceDueDate"), None, "no due date");
    assert_eq!(column(charge, "InvoiceDate").as_deref(), Some("2026-06-25"));
    let partial = row(&feed, "0100013");
    assert_eq!(column(partial, "InvoiceAmt").as_deref(), Some("450.25"));
    assert_eq!(
        column(partial, "InvoiceDate").as_deref(),
        Some("2026-05-30")
    );
    // Other customers' rows stay out; a customer without invoices is an empty feed.
    let avnet = s.get_xml(&open_of("01", "AVNET")).await;
    assert_eq!(
        columns(&avnet, "InvoiceNo"),
        ["0100031", "0100032", "0100033", "0100035"]
    );
    let none = s.get_xml(&open_of("01", "NOBODY")).await;
    assert_eq!(opensearch(&none).0, 0);
    assert!(none.all("entry").is_empty());
    // A single invoice by its four-part key.
    let one = s.get_xml("AR_OpenInvoice(01;ABF;0100021;CM)").await;
    assert_eq!(column(&one, "Balance").as_deref(), Some("-40.00"));
}

#[tokio::test]
async fn open_invoices_page_with_next_links_and_order_by() {
    let mut data = Sage100Data::demo_as_of(AS_OF);
    data.add_open_invoices("01", "BIG", 1_000, AS_OF);
    let s = Sim::start(Sage100Config {
        page_size: 300,
        data,
        ..Sage100Config::default()
    })
    .await;
    let mut url = s.url(&format!("{}&count=500", open_of("01", "BIG")));
    let (mut rows, mut pages, mut memos) = (0, 0, 0);
    loop {
        let feed = ok_xml(s.get_url(&url).await).await;
        pages += 1;
        assert_eq!(opensearch(&feed).0, 1_000);
        assert_eq!(opensearch(&feed).2, 300, "count is cut to the page size");
        rows += feed.all("entry").len();
        memos += columns(&feed, "InvoiceType")
            .iter()
            .filter(|t| *t == "CM")
            .count();
        match link(&feed, "next") {
            Some(next) => {
                assert!(next.contains("where="), "the filter is kept: {next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!((rows, pages, memos), (1_000, 4, 100));
    // Generated rows: `G` + six digits, the documented amounts and due dates.
    let first = s.get_xml("AR_OpenInvoice(01;BIG;G000000;IN)").await;
    assert_eq!(column(&first, "Balance").as_deref(), Some("12.34"));
    assert_eq!(
        column(&first, "InvoiceDueDate").as_deref(),
        Some("2026-07-05")
    );
    let memo = s.get_xml("AR_OpenInvoice(01;BIG;G000009;CM)").await;
    assert_eq!(column(&memo, "Balance").as_deref(), Some("-5.67"));
    assert_eq!(
        column(&memo, "InvoiceDueDate").as_deref(),
        Some("2026-03-17")
    );
    // Newest first by date.
    let feed = s
        .get_xml(&format!(
            "{}&orderBy={}&count=2",
            open_of("01", "ABF"),
            enc("InvoiceDate desc")
        ))
        .await;
    assert_eq!(columns(&feed, "InvoiceNo"), ["0100020", "0100011"]);
}

#[tokio::test]
async fn sales_orders_when_installed_and_absent_otherwise() {
    let s = Sim::start(config()).await;
    let feed = s
        .get_xml(&format!(
            "SO_SalesOrderHeader?where={}",
            enc("ARDivisionNo eq '01' and CustomerNo eq 'ABF'")
        ))
        .await;
    assert_eq!(
        columns(&feed, "SalesOrderNo"),
        ["0000101", "0000102", "0000103"]
    );
    assert_eq!(columns(&feed, "OrderType"), ["S", "B", "Q"]);
    assert_eq!(columns(&feed, "OrderDate")[0], "2026-06-27");
    assert_eq!(columns(&feed, "TaxableAmt")[0], "1200.00");
    let schema = s.get_xml("$schema").await;
    let kinds: Vec<&str> = schema
        .all("element")
        .iter()
        .filter(|e| e.attr("sme:role") == Some("resourceKind"))
        .filter_map(|e| e.attr("name"))
        .collect();
    assert!(kinds.contains(&"AR_OpenInvoice") && kinds.contains(&"SO_SalesOrderHeader"));

    let s = Sim::start(Sage100Config {
        sales_order: SalesOrderModule::Absent,
        ..config()
    })
    .await;
    assert_diagnosis(
        s.get("SO_SalesOrderHeader").await,
        404,
        "ResourceKindNotFound",
    )
    .await;
    let schema = s.get_xml("$schema").await;
    assert!(
        schema
            .all("element")
            .iter()
            .all(|e| e.attr("name") != Some("SO_SalesOrderHeader"))
    );
    // The rows are still stored (the module is what is missing).
    assert_eq!(s.sim.records(Sage100Resource::SalesOrders).len(), 5);
    assert_eq!(s.get(&open_of("01", "ABF")).await.status(), 200);
}

#[tokio::test]
async fn unsure_details_are_settings() {
    // Credits sent positive: the type alone carries the sign.
    let s = Sim::start(Sage100Config {
        credit_balance_sign: CreditBalanceSign::Positive,
        ..config()
    })
    .await;
    let memo = s.get_xml("AR_OpenInvoice(01;ABF;0100021;CM)").await;
    assert_eq!(column(&memo, "Balance").as_deref(), Some("40.00"));
    assert_eq!(column(&memo, "InvoiceAmt").as_deref(), Some("40.00"));
    // The filter still works on the stored amounts.
    assert_eq!(opensearch(&s.get_xml(&open_of("01", "ABF")).await).0, 11);

    // No original-amount column: not in entries, `$schema`, `select` or `where`.
    let s = Sim::start(Sage100Config {
        invoice_amount_column: None,
        ..config()
    })
    .await;
    let one = s.get_xml("AR_OpenInvoice(01;ABF;0100013;IN)").await;
    let payload = crate::helpers::resource(&one);
    assert!(payload.children.iter().all(|c| c.local() != "InvoiceAmt"));
    assert!(
        !s.get_xml("$schema")
            .await
            .all("element")
            .iter()
            .any(|e| e.attr("name") == Some("InvoiceAmt"))
    );
    assert_diagnosis(
        s.get("AR_OpenInvoice?select=InvoiceNo,InvoiceAmt").await,
        400,
        "BadQueryParameter",
    )
    .await;

    // Another name for it.
    let s = Sim::start(Sage100Config {
        invoice_amount_column: Some("OriginalAmt".to_owned()),
        ..config()
    })
    .await;
    let one = s.get_xml("AR_OpenInvoice(01;ABF;0100013;IN)").await;
    assert_eq!(column(&one, "OriginalAmt").as_deref(), Some("450.25"));
    let feed = s
        .get_xml(&format!(
            "AR_OpenInvoice?where={}&select=InvoiceNo,OriginalAmt",
            enc("OriginalAmt gt 7000 and OriginalAmt lt 8000")
        ))
        .await;
    assert_eq!(columns(&feed, "InvoiceNo"), ["0100033"]);

    // Dates with a time; a blank date as 1753-01-01.
    let s = Sim::start(Sage100Config {
        date_style: SDataDateStyle::DateTime,
        blank_date: BlankDate::Sentinel1753,
        ..config()
    })
    .await;
    let charge = s.get_xml("AR_OpenInvoice(01;ABF;0100020;FC)").await;
    assert_eq!(
        column(&charge, "InvoiceDueDate").as_deref(),
        Some("1753-01-01T00:00:00")
    );
    assert_eq!(
        column(&charge, "InvoiceDate").as_deref(),
        Some("2026-06-25T00:00:00")
    );
    // Other tables keep their plain dates.
    let abf = s.get_xml("AR_Customer(01;ABF)").await;
    assert_eq!(
        column(&abf, "DateEstablished").as_deref(),
        Some("1998-03-01")
    );
}

#[tokio::test]
async fn demo_customers_have_credit_figures() {
    let s = Sim::start(config()).await;
    let feed = s
        .get_xml("AR_Customer?select=CustomerNo,CreditLimit,CurrentBalance,AgingCategory1,AgingCategory4,CreditHold")
        .await;
    assert_eq!(columns(&feed, "CustomerNo"), ["0000001", "ABF", "AVNET"]);
    assert_eq!(
        columns(&feed, "CreditLimit"),
        ["0.00", "5000.00", "25000.00"]
    );
    // The current part, then the aged parts.
    assert_eq!(
        columns(&feed, "CurrentBalance"),
        ["0.00", "460.00", "12000.00"]
    );
    assert_eq!(
        columns(&feed, "AgingCategory1"),
        ["0.00", "300.25", "9250.40"]
    );
    assert_eq!(
        columns(&feed, "AgingCategory4"),
        ["480.00", "95.00", "0.00"]
    );
    assert_eq!(columns(&feed, "CreditHold"), ["Y", "N", "N"]);

    // CurrentBalance as the whole balance, no aging columns.
    let s = Sim::start(Sage100Config {
        customer_balance: CustomerBalance::Total,
        ..config()
    })
    .await;
    let abf = s.get_xml("AR_Customer(01;ABF)").await;
    assert_eq!(column(&abf, "CurrentBalance").as_deref(), Some("1250.75"));
    let payload = crate::helpers::resource(&abf);
    assert!(
        payload
            .children
            .iter()
            .all(|c| !c.local().starts_with("AgingCategory"))
    );
    let avnet = s.get_xml("AR_Customer(01;AVNET)").await;
    assert_eq!(
        column(&avnet, "CurrentBalance").as_deref(),
        Some("26480.40")
    );
    assert_diagnosis(
        s.get("AR_Customer?select=AgingCategory1").await,
        400,
        "BadQueryParameter",
    )
    .await;
}

#[tokio::test]
async fn a_created_customer_takes_its_balance_from_invoices_on_file() {
    // The demo seeds invoices for 01-NW1001 (what `crm2sage demo` creates), as of today.
    let s = Sim::default().await;
    let resp = s
        .post_entry(&crate::helpers::entry_body(&crate::helpers::customer(
            "NW1001",
            &[],
        )))
        .await;
    let entry = ok_xml(resp).await;
    assert_eq!(column(&entry, "CurrentBalance").as_deref(), Some("1800.00"));
    assert_eq!(column(&entry, "AgingCategory1").as_deref(), Some("830.50"));
    assert_eq!(column(&entry, "AgingCategory2").as_deref(), Some("640.25"));
    assert_eq!(column(&entry, "AgingCategory3").as_deref(), Some("310.00"));
    assert_eq!(column(&entry, "AgingCategory4").as_deref(), Some("89.99"));
    // Any other new customer starts at zero.
    let resp = s
        .post_entry(&crate::helpers::entry_body(&crate::helpers::customer(
            "FRESH",
            &[],
        )))
        .await;
    let entry = ok_xml(resp).await;
    assert_eq!(column(&entry, "CurrentBalance").as_deref(), Some("0.00"));
    assert_eq!(column(&entry, "AgingCategory4").as_deref(), Some("0.00"));
}
