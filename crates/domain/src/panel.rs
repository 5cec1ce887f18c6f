//! The live customer panel: credit figures, AR aging folded from the open documents page by
//! page, the last few documents and the open orders, and the credit check an order flow uses.
//!
//! Everything here is pure: the service reads pages through the ERP gateway and feeds them to
//! a [`DocumentFold`] and an [`OrderFold`], which keep a fixed number of items whatever the
//! customer holds — a customer with 50,000 open documents costs the same memory as one with 50.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;

use jiff::civil::Date;

use crate::codes::CurrencyCode;
use crate::money::{Amount, AmountOverflow};

/// What kind of AR document it is, as the ERP classes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DocumentType {
    /// An invoice.
    Invoice,
    /// A credit note (its amount due is negative as the ERP reports it).
    CreditNote,
    /// A debit note.
    DebitNote,
    /// An interest charge.
    Interest,
    /// A payment or receipt on account (unapplied cash).
    Payment,
    /// A prepayment.
    Prepayment,
    /// Anything else, under the ERP's own name or number for it.
    Other(String),
}

impl DocumentType {
    /// The spelling shown and written to JSON: `invoice`, `credit_note`, `debit_note`,
    /// `interest`, `payment`, `prepayment`, or the ERP's own text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invoice => "invoice",
            Self::CreditNote => "credit_note",
            Self::DebitNote => "debit_note",
            Self::Interest => "interest",
            Self::Payment => "payment",
            Self::Prepayment => "prepayment",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One open AR document of a customer (its amount due is not zero), signed as the ERP reports
/// it: a credit note's amounts are negative, so it subtracts from the aging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDocument {
    /// The document number.
    pub number: String,
    /// The document type.
    pub document_type: DocumentType,
    /// The document date.
    pub date: Date,
    /// The due date; a document without one counts as current.
    pub due_date: Option<Date>,
    /// The document's amount, in the customer's currency.
    pub amount: Amount,
    /// What is still due on it, in the customer's currency.
    pub amount_due: Amount,
}

/// One open sales order of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOrder {
    /// The order number.
    pub number: String,
    /// The order date.
    pub date: Date,
    /// When it is expected to ship, when the ERP says.
    pub expected_ship_date: Option<Date>,
    /// The order total, in the customer's currency.
    pub total: Amount,
}

/// A customer's credit figures as the ERP holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditFigures {
    /// The customer's currency, when the ERP names one (Sage 100 has a single home currency
    /// and does not).
    pub currency: Option<CurrencyCode>,
    /// The balance the ERP reports for the customer (what it owes, net of credits).
    pub balance: Amount,
    /// The credit limit; `None` when the customer has no limit.
    pub credit_limit: Option<Amount>,
    /// Whether the customer is on credit hold.
    pub on_hold: bool,
}

impl CreditFigures {
    /// How far the balance is above the limit: zero when within it, `None` without a limit.
    ///
    /// # Errors
    /// [`AmountOverflow`] when the figures are too large to subtract.
    pub fn over_limit(&self) -> Result<Option<Amount>, AmountOverflow> {
        match self.credit_limit {
            None => Ok(None),
            Some(limit) => {
                let over = self.balance.checked_sub(limit)?;
                Ok(Some(if over.is_negative() {
                    Amount::ZERO
                } else {
                    over
                }))
            }
        }
    }
}

/// The outcome of a credit check, from the figures the ERP holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreditStatus {
    /// On credit hold: whatever the balance, an order should be blocked or referred.
    OnHold,
    /// The customer has no credit limit.
    NoLimit,
    /// The balance is at or below the limit; `available` is the limit minus the balance.
    WithinLimit {
        /// What is left under the limit.
        available: Amount,
    },
    /// The balance is above the limit by `by`.
    OverLimit {
        /// By how much.
        by: Amount,
    },
}

impl CreditStatus {
    /// The spelling shown and written to JSON: `on_hold`, `no_limit`, `within_limit`,
    /// `over_limit`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OnHold => "on_hold",
            Self::NoLimit => "no_limit",
            Self::WithinLimit { .. } => "within_limit",
            Self::OverLimit { .. } => "over_limit",
        }
    }
}

/// A credit check and the figures it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCheck {
    /// The figures.
    pub figures: CreditFigures,
    /// The outcome.
    pub status: CreditStatus,
}

/// The credit check: on hold first (a hold blocks whatever the balance), then no limit, then
/// the balance against the limit (a balance equal to the limit is within it).
///
/// ```
/// # use crm2sage_domain::{credit_status, Amount, CreditFigures, CreditStatus};
/// let figures = CreditFigures {
///     currency: None,
///     balance: Amount::parse("1500.00").unwrap(),
///     credit_limit: Some(Amount::parse("1000").unwrap()),
///     on_hold: false,
/// };
/// assert_eq!(
///     credit_status(&figures).unwrap(),
///     CreditStatus::OverLimit { by: Amount::parse("500.00").unwrap() }
/// );
/// ```
///
/// # Errors
/// [`AmountOverflow`] when the figures are too large to subtract.
pub fn credit_status(figures: &CreditFigures) -> Result<CreditStatus, AmountOverflow> {
    if figures.on_hold {
        return Ok(CreditStatus::OnHold);
    }
    let Some(limit) = figures.credit_limit else {
        return Ok(CreditStatus::NoLimit);
    };
    let available = limit.checked_sub(figures.balance)?;
    if available.is_negative() {
        Ok(CreditStatus::OverLimit {
            by: figures.balance.checked_sub(limit)?,
        })
    } else {
        Ok(CreditStatus::WithinLimit { available })
    }
}

/// An aging bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgingBucket {
    /// Not yet past due (0 days or fewer), or no due date.
    Current,
    /// 1 to 30 days past due.
    Days1To30,
    /// 31 to 60 days past due.
    Days31To60,
    /// 61 to 90 days past due.
    Days61To90,
    /// 91 days or more past due.
    Over90,
}

impl AgingBucket {
    /// Every bucket, oldest last.
    pub const ALL: [AgingBucket; 5] = [
        AgingBucket::Current,
        AgingBucket::Days1To30,
        AgingBucket::Days31To60,
        AgingBucket::Days61To90,
        AgingBucket::Over90,
    ];

    /// The bucket of a document `days` past due (as-of date minus due date; negative when
    /// not yet due).
    pub fn of_days(days: i64) -> Self {
        match days {
            ..=0 => Self::Current,
            1..=30 => Self::Days1To30,
            31..=60 => Self::Days31To60,
            61..=90 => Self::Days61To90,
            _ => Self::Over90,
        }
    }

    /// The bucket of a document due on `due` (current without a due date), as of `as_of`.
    pub fn of(due: Option<Date>, as_of: Date) -> Self {
        due.map_or(Self::Current, |due| {
            Self::of_days(days_past_due(due, as_of))
        })
    }

    /// The JSON name: `current`, `days_1_30`, `days_31_60`, `days_61_90`, `over_90`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Days1To30 => "days_1_30",
            Self::Days31To60 => "days_31_60",
            Self::Days61To90 => "days_61_90",
            Self::Over90 => "over_90",
        }
    }
}

/// Days from `due` to `as_of` (positive when past due). Two civil dates are at most about 7.3
/// million days apart, which always fits.
pub fn days_past_due(due: Date, as_of: Date) -> i64 {
    // `since` with days as the largest unit cannot fail for two valid civil dates; 0 (current)
    // is the fallback should it ever.
    as_of
        .since(due)
        .map_or(0, |span| i64::from(span.get_days()))
}

/// The amounts due of a customer's open documents, summed per bucket, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Aging {
    /// Not yet past due, or no due date.
    pub current: Amount,
    /// 1–30 days past due.
    pub days_1_30: Amount,
    /// 31–60 days past due.
    pub days_31_60: Amount,
    /// 61–90 days past due.
    pub days_61_90: Amount,
    /// 91 days or more past due.
    pub over_90: Amount,
    /// The sum of every amount due (always the sum of the five buckets).
    pub total: Amount,
}

impl Aging {
    /// The sum in `bucket`.
    pub fn bucket(&self, bucket: AgingBucket) -> Amount {
        match bucket {
            AgingBucket::Current => self.current,
            AgingBucket::Days1To30 => self.days_1_30,
            AgingBucket::Days31To60 => self.days_31_60,
            AgingBucket::Days61To90 => self.days_61_90,
            AgingBucket::Over90 => self.over_90,
        }
    }

    /// Adds `amount` to `bucket` and to the total.
    ///
    /// # Errors
    /// [`AmountOverflow`] when a sum does not fit; nothing is added then.
    pub fn add(&mut self, bucket: AgingBucket, amount: Amount) -> Result<(), AmountOverflow> {
        let total = self.total.checked_add(amount)?;
        let slot = match bucket {
            AgingBucket::Current => &mut self.current,
            AgingBucket::Days1To30 => &mut self.days_1_30,
            AgingBucket::Days31To60 => &mut self.days_31_60,
            AgingBucket::Days61To90 => &mut self.days_61_90,
            AgingBucket::Over90 => &mut self.over_90,
        };
        *slot = slot.checked_add(amount)?;
        self.total = total;
        Ok(())
    }
}

/// "Later" for display: by date, then by number (so of two documents of one day the greater
/// number is the later one).
struct ByRecency<T>(T, fn(&T) -> (&Date, &str));

impl<T> PartialEq for ByRecency<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for ByRecency<T> {}
impl<T> PartialOrd for ByRecency<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for ByRecency<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.1)(&self.0).cmp(&(other.1)(&other.0))
    }
}

/// Keeps the `keep` latest items seen (by date, then number) in a min-heap of that size.
struct Latest<T> {
    keep: usize,
    key: fn(&T) -> (&Date, &str),
    heap: BinaryHeap<Reverse<ByRecency<T>>>,
}

impl<T> Latest<T> {
    fn new(keep: usize, key: fn(&T) -> (&Date, &str)) -> Self {
        Self {
            keep,
            key,
            heap: BinaryHeap::with_capacity(keep.min(1024) + 1),
        }
    }

    fn push(&mut self, item: T) {
        if self.keep == 0 {
            return;
        }
        self.heap.push(Reverse(ByRecency(item, self.key)));
        if self.heap.len() > self.keep {
            self.heap.pop();
        }
    }

    /// Latest first.
    fn into_latest_first(self) -> Vec<T> {
        // `into_sorted_vec` of `Reverse` is descending by recency: latest first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(ByRecency(item, _))| item)
            .collect()
    }
}

fn document_key(d: &OpenDocument) -> (&Date, &str) {
    (&d.date, &d.number)
}

fn order_key(o: &OpenOrder) -> (&Date, &str) {
    (&o.date, &o.number)
}

/// Folds a customer's open documents, page by page, into the aging and the last `keep`
/// documents. Documents whose amount due is zero are not open and are skipped. Memory holds
/// `keep` documents at most, whatever is fed.
pub struct DocumentFold {
    as_of: Date,
    aging: Aging,
    count: u64,
    latest: Latest<OpenDocument>,
}

impl fmt::Debug for DocumentFold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentFold")
            .field("as_of", &self.as_of)
            .field("aging", &self.aging)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl DocumentFold {
    /// A fold aging as of `as_of` that keeps the last `keep` documents for display.
    pub fn new(as_of: Date, keep: usize) -> Self {
        Self {
            as_of,
            aging: Aging::default(),
            count: 0,
            latest: Latest::new(keep, document_key),
        }
    }

    /// Adds one document.
    ///
    /// # Errors
    /// [`AmountOverflow`] when a sum does not fit; the document is not counted then.
    pub fn push(&mut self, document: OpenDocument) -> Result<(), AmountOverflow> {
        if document.amount_due.is_zero() {
            return Ok(());
        }
        let bucket = AgingBucket::of(document.due_date, self.as_of);
        self.aging.add(bucket, document.amount_due)?;
        self.count += 1;
        self.latest.push(document);
        Ok(())
    }

    /// Adds a page of documents.
    ///
    /// # Errors
    /// [`AmountOverflow`] when a sum does not fit.
    pub fn push_page(
        &mut self,
        documents: impl IntoIterator<Item = OpenDocument>,
    ) -> Result<(), AmountOverflow> {
        documents.into_iter().try_for_each(|d| self.push(d))
    }

    /// The aging so far.
    pub fn aging(&self) -> &Aging {
        &self.aging
    }

    /// The aging, the number of open documents, and the last documents, latest first.
    pub fn finish(self) -> (Aging, u64, Vec<OpenDocument>) {
        (self.aging, self.count, self.latest.into_latest_first())
    }
}

/// Folds a customer's open orders, page by page, into their count, their total and the last
/// `keep` orders (by order date, then number). Memory holds `keep` orders at most.
pub struct OrderFold {
    count: u64,
    total: Amount,
    latest: Latest<OpenOrder>,
}

impl fmt::Debug for OrderFold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderFold")
            .field("count", &self.count)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl OrderFold {
    /// A fold that keeps the last `keep` orders.
    pub fn new(keep: usize) -> Self {
        Self {
            count: 0,
            total: Amount::ZERO,
            latest: Latest::new(keep, order_key),
        }
    }

    /// Adds one order.
    ///
    /// # Errors
    /// [`AmountOverflow`] when the total does not fit.
    pub fn push(&mut self, order: OpenOrder) -> Result<(), AmountOverflow> {
        self.total = self.total.checked_add(order.total)?;
        self.count += 1;
        self.latest.push(order);
        Ok(())
    }

    /// The open orders seen.
    pub fn finish(self) -> OpenOrders {
        OpenOrders {
            count: self.count,
            total: self.total,
            latest: self.latest.into_latest_first(),
        }
    }
}

/// A customer's open orders: how many, their total, and the last few, latest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOrders {
    /// How many open orders the customer has.
    pub count: u64,
    /// Their total.
    pub total: Amount,
    /// The last few (by order date, then number), latest first.
    pub latest: Vec<OpenOrder>,
}

/// Open orders, or the typed answer that this company has no order entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Orders {
    /// The company has order entry; these are the customer's open orders.
    Available(OpenOrders),
    /// The company has no order entry (Sage 300 O/E, Sage 100 Sales Order).
    NotAvailable,
}

/// The live customer panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    /// The date the aging is computed as of.
    pub as_of: Date,
    /// The credit figures and the check computed from them.
    pub credit: CreditCheck,
    /// How far the balance is above the limit (zero within it, `None` without a limit).
    pub over_limit: Option<Amount>,
    /// The aging of the open documents.
    pub aging: Aging,
    /// How many open documents the customer has.
    pub document_count: u64,
    /// The last documents (by document date, then number), latest first.
    pub documents: Vec<OpenDocument>,
    /// The open orders, or "not available".
    pub orders: Orders,
}

#[cfg(test)]
#[path = "panel_tests.rs"]
mod tests;
