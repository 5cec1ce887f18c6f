//! Test helpers that change customers behind the API's back, as someone working in Sage would:
//! edit, delete, renumber, and seed many at once (benchmarks).

use serde_json::{Map, Value, json};

use super::RunningSage300;
use crate::odata::filter::{civil_from_days, days_from_civil};
use crate::pipeline;
use crate::sage300::data::Sage300Record;
use crate::sage300::schema::{self, Sage300Resource};
use crate::sage300::store::row_key;

const CUSTOMERS: Sage300Resource = Sage300Resource::Customers;

/// The name suffixes seeded customers cycle through (`Customer 000123 Ltd`, … `Inc.`, …).
const SUFFIXES: [&str; 4] = ["Ltd", "Inc.", "LLC", "Co."];

/// `YYYY-MM-DDT00:00:00Z` of a day number (days since 1970-01-01).
fn midnight(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T00:00:00Z")
}

impl RunningSage300 {
    /// The number [`seed_customers`](Self::seed_customers) gives the `i`-th seeded customer:
    /// `S000123` (`S` and at least six digits).
    pub fn seeded_customer_number(i: usize) -> String {
        format!("S{i:06}")
    }

    /// How many customers are on file (without copying them, unlike
    /// [`customers`](Self::customers)).
    pub fn customer_count(&self) -> usize {
        self.shared.tables().rows(CUSTOMERS).len()
    }

    /// Sets properties of a customer as a user editing it in Sage would (no rule is checked):
    /// e.g. `[("CustomerName", json!("New name")), ("PhoneNumber", json!("555-0100")),
    /// ("Email", json!("a@b.example")), ("Status", json!("Inactive")), ("OnHold", json!("Yes"))]`.
    /// `null` puts a property back to its default. `DateLastMaintained` becomes today
    /// (`YYYY-MM-DDT00:00:00Z`) unless `changes` sets it (a zone-less date-time gets `Z`).
    /// Returns whether the customer exists. `CustomerNumber` cannot change this way (see
    /// [`renumber_customer`](Self::renumber_customer)) and is ignored.
    pub fn edit_customer<'a>(
        &self,
        number: &str,
        changes: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> bool {
        let key = row_key(CUSTOMERS, &[number]);
        let mut tables = self.shared.tables();
        let Some(mut rec) = tables.get(CUSTOMERS, &key).cloned() else {
            return false;
        };
        let mut dated = false;
        for (k, v) in changes {
            if k == "CustomerNumber" {
                continue;
            }
            dated |= k == "DateLastMaintained";
            if v.is_null() {
                rec.remove(k);
            } else {
                rec.insert(k.to_owned(), schema::normalise_date(&v));
            }
        }
        if !dated {
            let (y, m, d) = pipeline::today_ymd();
            rec.insert(
                "DateLastMaintained".into(),
                json!(format!("{y:04}-{m:02}-{d:02}T00:00:00Z")),
            );
        }
        tables.insert_complete(CUSTOMERS, key, rec);
        true
    }

    /// Deletes a customer as if someone deleted it in Sage: the customer, its ship-to
    /// locations and its contacts go (its posted documents and orders stay). Returns whether it
    /// existed.
    pub fn delete_customer(&self, number: &str) -> bool {
        let mut tables = self.shared.tables();
        if tables
            .remove(CUSTOMERS, &row_key(CUSTOMERS, &[number]))
            .is_none()
        {
            return false;
        }
        for part in [Sage300Resource::ShipToLocations, Sage300Resource::Contacts] {
            let prefix = format!("{number}\u{0}");
            let keys: Vec<String> = tables
                .rows(part)
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                tables.remove(part, &k);
            }
        }
        true
    }

    /// Moves a customer to a new number, as Sage's change-number utility does: the record keeps
    /// every other property (`DateLastMaintained` included), and every record naming the old
    /// number (ship-to locations, contacts, posted documents, orders, optional field values)
    /// names the new one. Returns `false`, changing nothing, when `old` is not on file or `new`
    /// is empty or already taken.
    pub fn renumber_customer(&self, old: &str, new: &str) -> bool {
        let tk = self.shared.settings.terms_key;
        let mut tables = self.shared.tables();
        let (old_key, new_key) = (row_key(CUSTOMERS, &[old]), row_key(CUSTOMERS, &[new]));
        if new.is_empty()
            || tables.get(CUSTOMERS, &new_key).is_some()
            || tables.get(CUSTOMERS, &old_key).is_none()
        {
            return false;
        }
        for resource in Sage300Resource::ALL {
            let keys: Vec<String> = tables
                .rows(resource)
                .iter()
                .filter(|(_, r)| r.get("CustomerNumber").and_then(Value::as_str) == Some(old))
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                let Some(mut rec) = tables.remove(resource, &k) else {
                    continue;
                };
                rec.insert("CustomerNumber".into(), json!(new));
                if let Some(Value::Array(fields)) = rec.get_mut("CustomerOptionalFieldValues") {
                    for f in fields.iter_mut().filter_map(Value::as_object_mut) {
                        f.insert("CustomerNumber".into(), json!(new));
                    }
                }
                if let Err(e) = tables.insert(resource, &rec, tk) {
                    tracing::warn!("renumber_customer: {e}");
                }
            }
        }
        true
    }

    /// Inserts `n` customers numbered [`seeded_customer_number`](Self::seeded_customer_number)`(i)` (`S000001`, …) for `i` in
    /// `first..first + n`, replacing any with the same number, under one lock and without
    /// business rules: fast enough for 100,000 (a benchmark's customer list).
    ///
    /// Customer `i` is deterministic and distinct: `CustomerName` `Customer 000123 Ltd` (the
    /// suffix cycles `Ltd`, `Inc.`, `LLC`, `Co.`), `ShortName` `CUST000123`, `PhoneNumber`
    /// `555-000-0123` (`555-{i / 10000 % 1000}-{i % 10000}`), `Email`
    /// `customer000123@example.com`, `ZipPostalCode` five digits varying with `i`, group `RTL`,
    /// `Active`, not on hold, and `DateLastMaintained` a midnight in 2025
    /// (`2025-01-01T00:00:00Z` plus `i % 365` days). Every other property is its default (blank
    /// account set, currency, terms and tax group): eight stored properties keep 100,000
    /// customers near 130 MB. Change any of them with [`edit_customer`](Self::edit_customer).
    pub fn seed_customers(&self, n: usize, first: usize) {
        let base = days_from_civil(2025, 1, 1);
        let dates: Vec<Value> = (0..365).map(|d| json!(midnight(base + d))).collect();
        let mut tables = self.shared.tables();
        for i in first..first.saturating_add(n) {
            let number = Self::seeded_customer_number(i);
            let mut rec: Sage300Record = Map::with_capacity(8);
            rec.insert("CustomerNumber".into(), json!(number));
            rec.insert(
                "ShortName".into(),
                json!(format!("CUST{:06}", i % 1_000_000)),
            );
            rec.insert(
                "CustomerName".into(),
                json!(format!("Customer {i:06} {}", SUFFIXES[i % SUFFIXES.len()])),
            );
            rec.insert(
                "PhoneNumber".into(),
                json!(format!("555-{:03}-{:04}", i / 10_000 % 1000, i % 10_000)),
            );
            rec.insert("Email".into(), json!(format!("customer{i:06}@example.com")));
            rec.insert(
                "ZipPostalCode".into(),
                json!(format!("{:05}", 10_000 + i.wrapping_mul(7_919) % 90_000)),
            );
            rec.insert("DateLastMaintained".into(), dates[i % dates.len()].clone());
            rec.insert("GroupCode".into(), json!("RTL"));
            tables.insert_complete(CUSTOMERS, row_key(CUSTOMERS, &[&number]), rec);
        }
    }
}
