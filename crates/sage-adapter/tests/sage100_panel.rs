//! The Sage 100 side of the live customer panel: credit figures, open invoices folded into the
//! aging, open orders or "not available" — against the simulator (hand-computed figures for a
//! fixed as-of date, every unsure variant, 50,000 invoices) and against wiremock (answers the
//! simulator never gives: unfiltered rows, loops, malformed and oversized bodies).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;

use crm2sage_domain::ports::{ErpGateway, ErpReadError, OrdersPage, PageCursor};
use crm2sage_domain::{
    Aging, AgingBucket, Amount, CreditFigures, Date, DocumentFold, DocumentType, OpenDocument,
    OpenOrder, days_past_due,
};
use crm2sage_sage_adapter::ClientSettings;
use crm2sage_sage_simulator::sage100::{
    BlankDate, CreditBalanceSign, CustomerBalance, SDataDateStyle, SalesOrderModule,
};
use crm2sage_sage_simulator::{
    RunningSage100, Sage100Config, Sage100Data, Sage100Record, start_sage100,
};
use support::{connect, key100, sage100_integration};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AS_OF: (i32, u8, u8) = (2026, 6, 30);

fn as_of() -> Date {
    Date::constant(2026, 6, 30)
}

fn a(text: &str) -> Amount {
    Amount::parse(text).unwrap()
}

fn config() -> Sage100Config {
    Sage100Config {
        data: Sage100Data::demo_as_of(AS_OF),
        ..Sage100Config::default()
    }
}

async fn start(config: Sage100Config) -> (RunningSage100, Arc<dyn ErpGateway>) {
    let sim = start_sage100(config).await.expect("simulator starts");
    let g = gateway_with(&sim, ClientSettings::for_tests()).await;
    (sim, g)
}

async fn gateway_with(sim: &RunningSage100, settings: ClientSettings) -> Arc<dyn ErpGateway> {
    let i = sage100_integration(&sim.base_url(), sim.company(), sim.user(), 30);
    connect(&i, sim.password(), settings).await
}

/// Folds every page of the customer's open documents; returns the fold's result and the
/// largest page seen.
async fn fold_all(
    g: &dyn ErpGateway,
    div: &str,
    no: &str,
    keep: usize,
) -> ((Aging, u64, Vec<OpenDocument>), usize, usize) {
    let key = key100(div, no);
    let mut fold = DocumentFold::new(as_of(), keep);
    let (mut cursor, mut pages, mut largest): (Option<PageCursor>, usize, usize) = (None, 0, 0);
    loop {
        let page = g.open_documents_page(&key, cursor.take()).await.unwrap();
        pages += 1;
        largest = largest.max(page.documents.len());
        fold.push_page(page.documents).unwrap();
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (fold.finish(), pages, largest),
        }
        assert!(pages < 1_000, "paging never ends");
    }
}

async fn all_orders(g: &dyn ErpGateway, div: &str, no: &str) -> Option<Vec<OpenOrder>> {
    let key = key100(div, no);
    let mut cursor = None;
    let mut out = Vec::new();
    loop {
        match g.open_orders_page(&key, cursor.take()).await.unwrap() {
            OrdersPage::Orders { orders, next } => {
                out.extend(orders);
                match next {
                    Some(n) => cursor = Some(n),
                    None => return Some(out),
                }
            }
            OrdersPage::Unavailable => return None,
            _ => panic!("an unknown orders page"),
        }
    }
}

fn aging(c: &str, d1: &str, d31: &str, d61: &str, d91: &str, total: &str) -> Aging {
    Aging {
        current: a(c),
        days_1_30: a(d1),
        days_31_60: a(d31),
        days_61_90: a(d61),
        over_90: a(d91),
        total: a(total),
    }
}

/// ABF on 2026-06-30, by hand: current 300.00 (due in 10 days) + 150.00 (due today) + 10.00
/// (finance charge, no due date) = 460.00; 1–30: 200.25 (1 day) + 100.00 (30 days) = 300.25;
/// 31–60: 180.50 (31) + 75.00 (60) − 40.00 (credit memo, 45) = 215.50; 61–90: 120.00 (61) +
/// 60.00 (90) = 180.00; over 90: 95.00 (91). Total 1,250.75 = the customer's balance.
async fn check_abf(g: &dyn ErpGateway, exact_amounts: bool) {
    let figures = g
        .credit_figures(&key100("01", "ABF"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        figures,
        CreditFigures {
            currency: None,
            balance: a("1250.75"),
            credit_limit: Some(a("5000.00")),
            on_hold: false,
        }
    );
    let ((aging_abf, count, latest), _, _) = fold_all(g, "01", "ABF", 3).await;
    assert_eq!(
        aging_abf,
        aging("460.00", "300.25", "215.50", "180.00", "95.00", "1250.75")
    );
    assert_eq!(aging_abf.total, figures.balance);
    assert_eq!(count, 11, "the paid invoice is not open");
    // The last three by document date: the finance charge (06-25), 0100011 (06-10), 0100012.
    let numbers: Vec<&str> = latest.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers, ["0100020", "0100011", "0100012"]);
    let charge = &latest[0];
    assert_eq!(charge.document_type, DocumentType::Interest);
    assert_eq!(charge.due_date, None);
    assert_eq!(charge.date, Date::constant(2026, 6, 25));
    assert_eq!(latest[1].due_date, Some(Date::constant(2026, 7, 10)));

    // Every document, to check the boundaries one by one.
    let ((_, _, every), _, _) = fold_all(g, "01", "ABF", 100).await;
    let by_no = |no: &str| every.iter().find(|d| d.number == no).unwrap();
    for (no, days, bucket) in [
        ("0100012", 0, AgingBucket::Current),
        ("0100013", 1, AgingBucket::Days1To30),
        ("0100014", 30, AgingBucket::Days1To30),
        ("0100015", 31, AgingBucket::Days31To60),
        ("0100016", 60, AgingBucket::Days31To60),
        ("0100017", 61, AgingBucket::Days61To90),
        ("0100018", 90, AgingBucket::Days61To90),
        ("0100019", 91, AgingBucket::Over90),
    ] {
        let due = by_no(no).due_date.unwrap();
        assert_eq!(days_past_due(due, as_of()), days, "{no}");
        assert_eq!(AgingBucket::of(Some(due), as_of()), bucket, "{no}");
    }
    let memo = by_no("0100021");
    assert_eq!(memo.document_type, DocumentType::CreditNote);
    assert_eq!((memo.amount, memo.amount_due), (a("-40.00"), a("-40.00")));
    let partial = by_no("0100013");
    assert_eq!(partial.amount_due, a("200.25"));
    assert_eq!(
        partial.amount,
        if exact_amounts {
            a("450.25")
        } else {
            a("200.25")
        },
        "the original amount, or the balance without that column"
    );
    assert_eq!(partial.date, Date::constant(2026, 5, 30));
    assert_eq!(partial.document_type, DocumentType::Invoice);
    // Exact decimals: the scale the ERP wrote is kept.
    assert_eq!(partial.amount_due.to_string(), "200.25");
}

#[tokio::test]
async fn aging_and_credit_figures_by_hand_on_a_fixed_date() {
    let (_sim, g) = start(config()).await;
    check_abf(g.as_ref(), true).await;
    let (_, pages, largest) = fold_all(g.as_ref(), "01", "ABF", 3).await;
    assert_eq!((pages, largest), (1, 11), "one page of 11 (of 100 at most)");

    // AVNET: over its limit by 1,480.40; a credit memo 5 days past due subtracts from 1–30.
    let avnet = g
        .credit_figures(&key100("01", "AVNET"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(avnet.balance, a("26480.40"));
    assert_eq!(avnet.over_limit().unwrap(), Some(a("1480.40")));
    let ((aging_avnet, count, _), _, _) = fold_all(g.as_ref(), "01", "AVNET", 10).await;
    assert_eq!(
        aging_avnet,
        aging("12000.00", "9250.40", "0", "5230.00", "0", "26480.40")
    );
    assert_eq!(count, 4);

    // 0000001: on hold, a zero limit is no limit; one invoice 120 days past due.
    let ashton = g
        .credit_figures(&key100("00", "0000001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ashton.balance, ashton.credit_limit, ashton.on_hold),
        (a("480.00"), None, true)
    );
    let ((aging_ashton, _, _), _, _) = fold_all(g.as_ref(), "00", "1", 10).await;
    assert_eq!(aging_ashton, aging("0", "0", "0", "0", "480.00", "480.00"));

    // A customer the ERP does not have: no figures, an empty last page.
    assert_eq!(
        g.credit_figures(&key100("01", "NOBODY")).await.unwrap(),
        None
    );
    let empty = g
        .open_documents_page(&key100("01", "NOBODY"), None)
        .await
        .unwrap();
    assert!(empty.documents.is_empty() && empty.next.is_none());
}

#[tokio::test]
async fn every_unsure_variant_gives_the_same_figures() {
    let variants = [
        Sage100Config {
            credit_balance_sign: CreditBalanceSign::Positive,
            ..config()
        },
        Sage100Config {
            customer_balance: CustomerBalance::Total,
            ..config()
        },
        Sage100Config {
            date_style: SDataDateStyle::DateTime,
            blank_date: BlankDate::Sentinel1753,
            ..config()
        },
        Sage100Config {
            next_link: crm2sage_sage_simulator::SDataNextLink::Absent,
            page_size: 4,
            ..config()
        },
        Sage100Config {
            page_size: 2,
            ..config()
        },
    ];
    for v in variants {
        let (_sim, g) = start(v).await;
        check_abf(g.as_ref(), true).await;
    }
    let (_sim, g) = start(Sage100Config {
        invoice_amount_column: None,
        ..config()
    })
    .await;
    check_abf(g.as_ref(), false).await;
}

#[tokio::test]
async fn fifty_thousand_invoices_are_folded_page_by_page() {
    let mut data = Sage100Data::demo_as_of(AS_OF);
    data.customers.push(Sage100Record::from_pairs(&[
        ("ARDivisionNo", "01"),
        ("CustomerNo", "BIG"),
        ("CustomerName", "Big Invoicer"),
        ("CreditLimit", "1000000.00"),
        ("CurrentBalance", "123400.00"),
        ("AgingCategory1", "123400.00"),
        ("AgingCategory2", "123400.00"),
        ("AgingCategory3", "123400.00"),
        ("AgingCategory4", "33350.00"),
        ("CreditHold", "N"),
    ]));
    data.add_open_invoices("01", "BIG", 50_000, AS_OF);
    let (_sim, g) = start(Sage100Config {
        page_size: 500,
        data,
        ..Sage100Config::default()
    })
    .await;
    let ((aging_big, count, latest), pages, largest) = fold_all(g.as_ref(), "01", "BIG", 10).await;
    // As `add_open_invoices` documents: 10,000 × 12.34 in each of the first four classes;
    // 5,000 × 12.34 − 5,000 × 5.67 over 90 days.
    assert_eq!(
        aging_big,
        aging(
            "123400.00",
            "123400.00",
            "123400.00",
            "123400.00",
            "33350.00",
            "526950.00"
        )
    );
    assert_eq!(count, 50_000);
    assert_eq!((pages, largest), (100, 500), "one bounded page at a time");
    assert_eq!(latest.len(), 10, "only the last N are kept");
    let figures = g
        .credit_figures(&key100("01", "BIG"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(figures.balance, aging_big.total);
}

#[tokio::test]
async fn open_orders_or_not_available() {
    let (_sim, g) = start(config()).await;
    let abf = all_orders(g.as_ref(), "01", "ABF").await.unwrap();
    // The quote 0000103 is not an open order.
    assert_eq!(
        abf,
        vec![
            OpenOrder {
                number: "0000101".into(),
                date: Date::constant(2026, 6, 27),
                expected_ship_date: Some(Date::constant(2026, 7, 11)),
                total: a("1291.00"),
            },
            OpenOrder {
                number: "0000102".into(),
                date: Date::constant(2026, 6, 20),
                expected_ship_date: Some(Date::constant(2026, 7, 4)),
                total: a("349.99"),
            },
        ]
    );
    // 8,000.00 + 440.00 tax + 410.00 freight − 50.00 discount; on hold is still open.
    let avnet = all_orders(g.as_ref(), "01", "AVNET").await.unwrap();
    assert_eq!(avnet.len(), 1);
    assert_eq!(avnet[0].total, a("8800.00"));
    assert_eq!(all_orders(g.as_ref(), "00", "1").await.unwrap(), vec![]);

    let (sim, g) = start(Sage100Config {
        sales_order: SalesOrderModule::Absent,
        ..config()
    })
    .await;
    assert_eq!(all_orders(g.as_ref(), "01", "ABF").await, None);
    // `$schema` said so: the table itself was not asked for.
    assert!(
        sim.request_log()
            .iter()
            .all(|r| !r.path.contains("SO_SalesOrderHeader")),
        "{:?}",
        sim.request_log()
    );
}

#[tokio::test]
async fn malformed_and_oversized_answers_are_typed_errors() {
    let (sim, g) = start(config()).await;
    sim.set_malformed_xml(true);
    let e = g
        .open_documents_page(&key100("01", "ABF"), None)
        .await
        .unwrap_err();
    assert!(matches!(e, ErpReadError::Protocol { .. }), "{e:?}");
    let e = g.credit_figures(&key100("01", "ABF")).await.unwrap_err();
    assert!(matches!(e, ErpReadError::Protocol { .. }), "{e:?}");
    sim.set_malformed_xml(false);

    let mut small = ClientSettings::for_tests();
    small.max_page_bytes = 4_000;
    let g = gateway_with(&sim, small).await;
    let e = g
        .open_documents_page(&key100("01", "ABF"), None)
        .await
        .unwrap_err();
    match e {
        ErpReadError::Protocol { excerpt } => assert!(excerpt.contains("limit"), "{excerpt}"),
        other => panic!("{other:?}"),
    }
}

// ---- wiremock: answers the simulator never gives ----

const ROOT: &str = "/sdata/MasApp/MasContract";

fn feed(entries: &str, total: u32, start: u32, next: Option<&str>) -> String {
    let next = next
        .map(|n| format!(r#"<link rel="next" href="{}"/>"#, n.replace('&', "&amp;")))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <title>AR_OpenInvoice</title>{next}
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
  <opensearch:itemsPerPage>500</opensearch:itemsPerPage>
  {entries}
</feed>"#
    )
}

fn invoice(cust: &str, no: &str, balance: &str, due: &str) -> String {
    format!(
        r#"<entry><id/><title/><sdata:payload><AR_OpenInvoice xmlns=""><ARDivisionNo>01</ARDivisionNo><CustomerNo>{cust}</CustomerNo><InvoiceNo>{no}</InvoiceNo><InvoiceType>IN</InvoiceType><InvoiceDate>2026-05-01</InvoiceDate><InvoiceDueDate>{due}</InvoiceDueDate><Balance>{balance}</Balance></AR_OpenInvoice></sdata:payload></entry>"#
    )
}

async fn mock(body: String) -> (MockServer, Arc<dyn ErpGateway>) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/AR_OpenInvoice")))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "application/atom+xml"),
        )
        .mount(&server)
        .await;
    let i = sage100_integration(&format!("{}{ROOT}", server.uri()), "ABC", "SdataUser", 30);
    let g = connect(&i, "secret", ClientSettings::for_tests()).await;
    (server, g)
}

async fn protocol_error(body: String, says: &str) {
    let (_server, g) = mock(body).await;
    match g.open_documents_page(&key100("01", "ABF"), None).await {
        Err(ErpReadError::Protocol { excerpt }) => assert!(excerpt.contains(says), "{excerpt}"),
        other => panic!("expected a protocol error saying {says:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn answers_that_would_lie_are_refused() {
    // A server ignoring the filter: another customer's invoice is never counted.
    protocol_error(
        feed(&invoice("AVNET", "1", "10.00", "2026-06-01"), 1, 1, None),
        "did not filter",
    )
    .await;
    // Amounts that are not exact decimals, dates that are not dates.
    protocol_error(
        feed(&invoice("ABF", "1", "1,250.75", "2026-06-01"), 1, 1, None),
        "Balance",
    )
    .await;
    protocol_error(
        feed(&invoice("ABF", "1", "10.00", "06/01/2026"), 1, 1, None),
        "InvoiceDueDate",
    )
    .await;
    // A next link that drops the customer's filter, or does not move on.
    let one = invoice("ABF", "1", "10.00", "2026-06-01");
    protocol_error(
        feed(
            &one,
            2,
            1,
            Some("http://elsewhere/AR_OpenInvoice?startIndex=2&count=500"),
        ),
        "filter",
    )
    .await;
    let same_page = format!(
        "AR_OpenInvoice?where={}&startIndex=1&count=500",
        "ARDivisionNo%20eq%20%2701%27%20and%20CustomerNo%20eq%20%27ABF%27%20and%20Balance%20ne%200"
    );
    protocol_error(feed(&one, 2, 1, Some(&same_page)), "").await;
    // The page asked for is not the one sent; more rows than announced.
    protocol_error(feed(&one, 5, 3, None), "startIndex").await;
    protocol_error(
        feed(
            &format!("{one}{}", invoice("ABF", "2", "5.00", "2026-06-01")),
            1,
            1,
            None,
        ),
        "totalResults",
    )
    .await;
    // An empty page while the total says more rows exist.
    protocol_error(feed("", 3, 1, None), "empty page").await;
    // Not a feed at all.
    protocol_error("<html>gateway</html>".to_owned(), "").await;
}

fn diagnosis(code: &str) -> String {
    format!(
        r#"<sdata:diagnoses xmlns:sdata="http://schemas.sage.com/sdata/2008/1"><sdata:diagnosis><sdata:severity>error</sdata:severity><sdata:sdataCode>{code}</sdata:sdataCode><sdata:message>no</sdata:message></sdata:diagnosis></sdata:diagnoses>"#
    )
}

/// A server without a usable `$schema` whose `SO_SalesOrderHeader` answers `status`/`body`.
async fn orders_on(status: u16, body: String) -> Result<OrdersPage, ErpReadError> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/$schema")))
        .respond_with(ResponseTemplate::new(404).set_body_string("not here"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/ABC/SO_SalesOrderHeader")))
        .respond_with(
            ResponseTemplate::new(status).set_body_raw(body.into_bytes(), "application/xml"),
        )
        .mount(&server)
        .await;
    let i = sage100_integration(&format!("{}{ROOT}", server.uri()), "ABC", "SdataUser", 30);
    let g = connect(&i, "secret", ClientSettings::for_tests()).await;
    g.open_orders_page(&key100("01", "ABF"), None).await
}

#[tokio::test]
async fn without_schema_the_orders_table_decides_and_failures_stay_errors() {
    let absent = orders_on(404, diagnosis("ResourceKindNotFound")).await;
    assert!(matches!(absent, Ok(OrdersPage::Unavailable)), "{absent:?}");
    // Any other failure is an error, never "not available".
    for (status, body) in [
        (500, diagnosis("ApplicationDiagnosis")),
        (404, diagnosis("DatasetNotFound")),
        (401, String::new()),
    ] {
        let r = orders_on(status, body).await;
        assert!(r.is_err(), "{status}: {r:?}");
    }
    let empty = orders_on(200, feed("", 0, 1, None)).await.unwrap();
    assert!(
        matches!(empty, OrdersPage::Orders { ref orders, next: None } if orders.is_empty()),
        "{empty:?}"
    );
}
