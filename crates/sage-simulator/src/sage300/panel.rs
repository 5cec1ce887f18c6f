//! The customer panel's resources: `AR/ARPostedDocuments` (the 2016 `$metadata`'s
//! `PostedDocument`, the properties the panel reads plus a few neighbours) and `OE/OEOrders`
//! (names not in public material: \[UNSURE\], see `docs/reference-panel.md`), and the demo's
//! open documents and orders.

use serde_json::{Value, json};

use super::data::Sage300Record;
use super::schema::Ty::{self, Date, Dec, Str};

/// `AR/ARPostedDocuments` properties, in `$metadata` order (a subset).
pub(crate) const POSTED_DOCUMENT: &[(&str, Ty)] = &[
    ("CustomerNumber", Str),
    ("DocumentNumber", Str),
    ("OrderNumber", Str),
    ("PONumber", Str),
    ("DueDate", Date),
    ("TransactionType", Str),
    ("DocumentType", Str),
    ("DocumentDescription", Str),
    ("DocumentDate", Date),
    ("Terms", Str),
    ("CurrencyCode", Str),
    ("FunctionalCurrencyInvoiceAmount", Dec),
    ("FunctionalCurrencyAmountDue", Dec),
    ("CustomerCurrencyInvoiceAmount", Dec),
    ("CustomerCurrencyAmountDue", Dec),
    ("FullyPaid", Str),
    ("LastActivityDate", Date),
];

/// `OE/OEOrders` properties \[UNSURE: names follow Sage 300's O/E view fields as the Web API
/// spells other modules; not confirmed by public `$metadata`\].
pub(crate) const ORDER: &[(&str, Ty)] = &[
    ("OrderNumber", Str),
    ("CustomerNumber", Str),
    ("OrderDate", Date),
    ("ExpectedShipDate", Date),
    ("OrderDescription", Str),
    ("OrderTotal", Dec),
    ("OrderCompleted", Str),
];

/// Today plus `offset` days, as the simulator writes date-times.
fn day(offset: i64) -> String {
    let (y, m, d) = crate::odata::filter::civil_from_days(
        i64::try_from(crate::pipeline::now_secs() / 86_400).unwrap_or_default() + offset,
    );
    format!("{y:04}-{m:02}-{d:02}T00:00:00Z")
}

/// One open document row. `amount_due` is signed as Sage reports it: negative for credit notes.
pub fn posted_document(
    customer: &str,
    number: &str,
    document_type: &str,
    date: &str,
    due: Option<&str>,
    amount: f64,
    amount_due: f64,
) -> Sage300Record {
    let fully_paid = if amount_due == 0.0 { "Yes" } else { "No" };
    let Value::Object(m) = json!({
        "CustomerNumber": customer, "DocumentNumber": number, "DocumentType": document_type,
        "TransactionType": "InvoiceItemIssued", "DocumentDate": date, "DueDate": due,
        "CurrencyCode": "USD", "CustomerCurrencyInvoiceAmount": amount,
        "CustomerCurrencyAmountDue": amount_due, "FunctionalCurrencyInvoiceAmount": amount,
        "FunctionalCurrencyAmountDue": amount_due, "FullyPaid": fully_paid,
    }) else {
        return Sage300Record::new();
    };
    m
}

/// What `customer` owes on `documents`: the sum of their `CustomerCurrencyAmountDue` (a
/// credit note's is negative), as Sage 300 keeps `BalanceDueInCustomerCurrency` from the
/// posted documents.
pub(crate) fn balance_due<'a>(
    documents: impl IntoIterator<Item = &'a Sage300Record>,
    customer: &str,
) -> f64 {
    let cents: i64 = documents
        .into_iter()
        .filter(|d| d.get("CustomerNumber").and_then(Value::as_str) == Some(customer))
        .filter_map(|d| d.get("CustomerCurrencyAmountDue").and_then(Value::as_f64))
        // Summed in cents so 0.1 + 0.2 shows as 0.30, not 0.30000000000000004.
        .map(|amount| (amount * 100.0).round() as i64)
        .sum();
    cents as f64 / 100.0
}

/// (number, type, days from today to the document date, to the due date, amount, amount due).
type DemoDocument = (&'static str, &'static str, i64, Option<i64>, f64, f64);

/// The demo's open documents, for customers `1200` and `NW1001` (the customer `demo`
/// promotes): due dates spread around today so every aging bucket holds something, a credit
/// note, a document without a due date, and one fully paid invoice (filtered out).
pub(crate) fn demo_documents() -> Vec<Sage300Record> {
    let mut out = Vec::new();
    for customer in ["1200", "NW1001"] {
        let rows: [DemoDocument; 8] = [
            ("IN-1001", "Invoice", -150, Some(-120), 1250.00, 1250.00),
            ("IN-1002", "Invoice", -105, Some(-75), 830.40, 430.40),
            ("IN-1003", "Invoice", -75, Some(-45), 2100.00, 2100.00),
            ("IN-1004", "Invoice", -40, Some(-10), 560.25, 560.25),
            ("IN-1005", "Invoice", -15, Some(15), 975.00, 975.00),
            ("CN-1001", "CreditNote", -20, None, -120.00, -120.00),
            ("DN-1001", "DebitNote", -3, Some(27), 45.10, 45.10),
            ("IN-0999", "Invoice", -200, Some(-170), 300.00, 0.00),
        ];
        for (number, kind, date, due, amount, amount_due) in rows {
            let due = due.map(day);
            out.push(posted_document(
                customer,
                number,
                kind,
                &day(date),
                due.as_deref(),
                amount,
                amount_due,
            ));
        }
    }
    out
}

/// The demo's open orders: two for `1200` and `NW1001` each.
pub(crate) fn demo_orders() -> Vec<Sage300Record> {
    let mut out = Vec::new();
    for (i, customer) in ["1200", "NW1001"].into_iter().enumerate() {
        for (j, (date, ship, total)) in [(-2, 5, 1520.00), (-1, 12, 310.75)].into_iter().enumerate()
        {
            if let Value::Object(m) = json!({
                "OrderNumber": format!("ORD{:05}", i * 10 + j + 1), "CustomerNumber": customer,
                "OrderDate": day(date), "ExpectedShipDate": day(ship), "OrderTotal": total,
                "OrderCompleted": "No",
            }) {
                out.push(m);
            }
        }
    }
    out
}
