//! The customer-panel rows of the demo company: open invoices (`AR_OpenInvoice`) with due dates
//! spread over every aging bucket, credit memos and a finance charge, and sales orders
//! (`SO_SalesOrderHeader`); plus a generator of many invoices for one customer.
//!
//! Dates are relative to an anchor day (the as-of date), so the demo ages the same way whatever
//! day it runs on.

use super::data::{Sage100Data, Sage100Record};
use crate::odata::filter::{civil_from_days, days_from_civil};

/// A day as days since 1970-01-01.
pub(crate) fn day(y: i32, m: u8, d: u8) -> i64 {
    days_from_civil(i64::from(y), i64::from(m), i64::from(d))
}

/// `YYYY-MM-DD` of a day number.
pub(crate) fn ymd(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today (UTC) as days since 1970-01-01.
pub(crate) fn today() -> i64 {
    i64::try_from(crate::pipeline::now_secs() / 86_400).unwrap_or_default()
}

/// Cents of a decimal text of at most two decimals (`-40.5` is -4050); `None` otherwise.
fn cents(v: &str) -> Option<i128> {
    let v = v.trim();
    let (neg, digits) = v.strip_prefix('-').map_or((false, v), |d| (true, d));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i128 = format!("{frac:0<2}").parse().ok()?;
    let c = whole.checked_mul(100)?.checked_add(frac)?;
    Some(if neg { -c } else { c })
}

/// A customer's balance split as `AR_Customer` holds it — `CurrentBalance` (not yet past
/// due, or no due date) and `AgingCategory1..4` (1–30, 31–60, 61–90, over 90 days past due on
/// `day`) — from its open-invoice rows.
pub(crate) fn aged_parts<'a>(
    invoices: impl Iterator<Item = &'a Sage100Record>,
    day: i64,
) -> [String; 5] {
    let mut parts = [0i128; 5];
    for r in invoices {
        let Some(balance) = r.get("Balance").and_then(cents) else {
            continue;
        };
        let past_due = r
            .get("InvoiceDueDate")
            .and_then(|d| {
                let mut it = d.splitn(3, '-').map(|p| p.parse::<i64>().ok());
                let (y, m, dd) = (it.next()??, it.next()??, it.next()??);
                Some(day - days_from_civil(y, m, dd))
            })
            .unwrap_or(0);
        let slot = match past_due {
            ..=0 => 0,
            1..=30 => 1,
            31..=60 => 2,
            61..=90 => 3,
            _ => 4,
        };
        parts[slot] += balance;
    }
    parts.map(|c| {
        let sign = if c < 0 { "-" } else { "" };
        format!(
            "{sign}{}.{:02}",
            c.unsigned_abs() / 100,
            c.unsigned_abs() % 100
        )
    })
}

/// One open-invoice row: `due` is days relative to the anchor (`-30` is 30 days past due
/// there), `None` is no due date; the invoice date is 30 days before the due date (or 5 days
/// before the anchor without one).
fn invoice(
    anchor: i64,
    (div, cust, no, kind): (&str, &str, &str, &str),
    due: Option<i64>,
    balance: &str,
    amount: &str,
) -> Sage100Record {
    let mut r = Sage100Record::from_pairs(&[
        ("ARDivisionNo", div),
        ("CustomerNo", cust),
        ("InvoiceNo", no),
        ("InvoiceType", kind),
        (
            "InvoiceDate",
            &ymd(due.map_or(anchor - 5, |d| anchor + d - 30)),
        ),
        ("TermsCode", "01"),
        ("Balance", balance),
        ("InvoiceAmt", amount),
    ]);
    if let Some(d) = due {
        r.set("InvoiceDueDate", Some(&ymd(anchor + d)));
    }
    r
}

/// One sales-order header; `days` is the order date relative to the anchor.
fn order(
    anchor: i64,
    (no, kind, status): (&str, &str, &str),
    (div, cust, po): (&str, &str, &str),
    days: i64,
    amounts: [&str; 5],
) -> Sage100Record {
    let [taxable, non_taxable, tax, freight, discount] = amounts;
    Sage100Record::from_pairs(&[
        ("SalesOrderNo", no),
        ("OrderDate", &ymd(anchor + days)),
        ("OrderType", kind),
        ("OrderStatus", status),
        ("ARDivisionNo", div),
        ("CustomerNo", cust),
        ("CustomerPONo", po),
        ("ShipExpireDate", &ymd(anchor + days + 14)),
        ("TaxableAmt", taxable),
        ("NonTaxableAmt", non_taxable),
        ("SalesTaxAmt", tax),
        ("FreightAmt", freight),
        ("DiscountAmt", discount),
    ])
}

/// The demo company's open invoices as of `anchor` (see [`Sage100Data::demo_as_of`]).
pub(crate) fn demo_invoices(anchor: i64) -> Vec<Sage100Record> {
    let abf = |no| ("01", "ABF", no, "IN");
    let avnet = |no| ("01", "AVNET", no, "IN");
    vec![
        invoice(anchor, abf("0100011"), Some(10), "300.00", "300.00"),
        invoice(anchor, abf("0100012"), Some(0), "150.00", "150.00"),
        invoice(anchor, abf("0100013"), Some(-1), "200.25", "450.25"),
        invoice(anchor, abf("0100014"), Some(-30), "100.00", "100.00"),
        invoice(anchor, abf("0100015"), Some(-31), "180.50", "180.50"),
        invoice(anchor, abf("0100016"), Some(-60), "75.00", "275.00"),
        invoice(anchor, abf("0100017"), Some(-61), "120.00", "120.00"),
        invoice(anchor, abf("0100018"), Some(-90), "60.00", "60.00"),
        invoice(anchor, abf("0100019"), Some(-91), "95.00", "95.00"),
        invoice(
            anchor,
            ("01", "ABF", "0100020", "FC"),
            None,
            "10.00",
            "10.00",
        ),
        invoice(
            anchor,
            ("01", "ABF", "0100021", "CM"),
            Some(-45),
            "-40.00",
            "-40.00",
        ),
        // Paid in full: still on file, left out by `Balance ne 0`.
        invoice(anchor, abf("0100022"), Some(-20), "0.00", "640.00"),
        invoice(anchor, avnet("0100031"), Some(20), "12000.00", "12000.00"),
        invoice(anchor, avnet("0100032"), Some(-15), "9500.40", "9500.40"),
        invoice(anchor, avnet("0100033"), Some(-75), "5230.00", "7230.00"),
        invoice(
            anchor,
            ("01", "AVNET", "0100035", "CM"),
            Some(-5),
            "-250.00",
            "-250.00",
        ),
        invoice(
            anchor,
            ("00", "0000001", "0100041", "IN"),
            Some(-120),
            "480.00",
            "480.00",
        ),
        // For 01-NW1001, the customer `crm2sage demo` creates: one in every bucket.
        invoice(anchor, nw("0100051", "IN"), Some(12), "1800.00", "1800.00"),
        invoice(anchor, nw("0100052", "IN"), Some(-14), "950.50", "950.50"),
        invoice(anchor, nw("0100053", "CM"), Some(-20), "-120.00", "-120.00"),
        invoice(anchor, nw("0100054", "IN"), Some(-45), "640.25", "1240.25"),
        invoice(anchor, nw("0100055", "IN"), Some(-75), "310.00", "310.00"),
        invoice(anchor, nw("0100056", "IN"), Some(-130), "89.99", "89.99"),
    ]
}

fn nw(
    no: &'static str,
    kind: &'static str,
) -> (&'static str, &'static str, &'static str, &'static str) {
    ("01", "NW1001", no, kind)
}

/// The demo company's sales orders as of `anchor`.
pub(crate) fn demo_orders(anchor: i64) -> Vec<Sage100Record> {
    vec![
        order(
            anchor,
            ("0000101", "S", "O"),
            ("01", "ABF", "PO-4471"),
            -3,
            ["1200.00", "0.00", "66.00", "25.00", "0.00"],
        ),
        order(
            anchor,
            ("0000102", "B", "O"),
            ("01", "ABF", "PO-4390"),
            -10,
            ["0.00", "349.99", "0.00", "0.00", "0.00"],
        ),
        order(
            anchor,
            ("0000103", "Q", "N"),
            ("01", "ABF", ""),
            -1,
            ["500.00", "0.00", "0.00", "0.00", "0.00"],
        ),
        order(
            anchor,
            ("0000104", "S", "H"),
            ("01", "AVNET", "AV-88120"),
            -2,
            ["8000.00", "0.00", "440.00", "410.00", "50.00"],
        ),
        order(
            anchor,
            ("0000105", "S", "O"),
            ("01", "NW1001", "NW-PO-1"),
            -4,
            ["2400.00", "0.00", "132.00", "35.00", "0.00"],
        ),
    ]
}

impl Sage100Data {
    /// Adds `n` (at most 999,999) open invoices for customer `division`-`customer`, as of the
    /// day `as_of` (`(2026, 6, 30)`), e.g. 50,000 for a bounded-memory read. Invoice `i`
    /// (0-based) is `G` + `i` in six digits; its days past due on `as_of` are
    /// `[-5, 15, 45, 75, 105][i % 5]` (due date = `as_of` minus that), its invoice date 30 days
    /// before its due date. Every tenth (`i % 10 == 9`) is a credit memo (`CM`) of `-5.67`, the
    /// others invoices (`IN`) of `12.34` (balance = original amount).
    ///
    /// So for a multiple of 10 invoices, each of the first four due-date classes holds
    /// `n / 5 × 12.34`, the last `n / 10 × (12.34 − 5.67)`: 50,000 invoices are
    /// 123,400.00 current, 123,400.00 at 1–30, 31–60 and 61–90 days, 33,350.00 over 90;
    /// 526,950.00 in all.
    pub fn add_open_invoices(
        &mut self,
        division: &str,
        customer: &str,
        n: usize,
        as_of: (i32, u8, u8),
    ) {
        let anchor = day(as_of.0, as_of.1, as_of.2);
        const PAST_DUE: [i64; 5] = [-5, 15, 45, 75, 105];
        self.open_invoices.reserve(n.min(999_999));
        for i in 0..n.min(999_999) {
            let past_due = PAST_DUE[i % 5];
            let credit = i % 10 == 9;
            let (kind, amount) = if credit {
                ("CM", "-5.67")
            } else {
                ("IN", "12.34")
            };
            self.open_invoices.push(invoice(
                anchor,
                (division, customer, &format!("G{i:06}"), kind),
                Some(-past_due),
                amount,
                amount,
            ));
        }
    }
}
