//! Test helpers that change customers behind the API's back, as someone working in Sage 100
//! would: edit, delete, renumber (the customer number change utility), and seed many at once
//! (benchmarks).

use super::RunningSage100;
use crate::odata::filter::{civil_from_days, days_from_civil};
use crate::pipeline;
use crate::sage100::data::Sage100Record;
use crate::sage100::schema::Sage100Resource;
use crate::sage100::store::key_of;

const CUSTOMERS: Sage100Resource = Sage100Resource::Customers;

/// The name suffixes seeded customers cycle through (`Customer 000123 Ltd`, … `Inc.`, …).
const SUFFIXES: [&str; 4] = ["Ltd", "Inc.", "LLC", "Co."];

fn key(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

/// Today (UTC), `YYYY-MM-DD`.
fn today() -> String {
    let (y, m, d) = pipeline::today_ymd();
    format!("{y:04}-{m:02}-{d:02}")
}

impl RunningSage100 {
    /// The number [`seed_customers`](Self::seed_customers) gives the `i`-th seeded customer:
    /// `S000123` (`S` and six digits: 7 characters, Sage 100's `CustomerNo` length).
    pub fn seeded_customer_number(i: usize) -> String {
        format!("S{:06}", i % 1_000_000)
    }

    /// How many customers are on file (without copying them, unlike
    /// [`customers`](Self::customers)).
    pub fn customer_count(&self) -> usize {
        self.shared.tables().len(CUSTOMERS)
    }

    /// Sets columns of a customer as a user editing it in Sage would (no rule is checked):
    /// e.g. `[("CustomerName", Some("New name")), ("TelephoneNo", Some("(555) 010-0100")),
    /// ("EmailAddress", Some("a@b.example")), ("CustomerStatus", Some("I")),
    /// ("CreditHold", Some("Y"))]`; `None` (or an empty text) makes a column null; any `UDF_`
    /// column may be given. `DateUpdated` becomes today (`YYYY-MM-DD`) unless `changes` sets
    /// it. Key columns are ignored (see [`renumber_customer`](Self::renumber_customer)).
    /// Returns whether the customer exists.
    pub fn edit_customer(
        &self,
        division: &str,
        number: &str,
        changes: &[(&str, Option<&str>)],
    ) -> bool {
        let k = key(&[division, number]);
        let mut tables = self.shared.tables();
        let Some(mut row) = tables.get(CUSTOMERS, &k).cloned() else {
            return false;
        };
        let mut dated = false;
        for (c, v) in changes {
            if CUSTOMERS.keys().contains(c) {
                continue;
            }
            dated |= *c == "DateUpdated";
            row.set(c, *v);
        }
        if !dated {
            row.set("DateUpdated", Some(&today()));
        }
        tables.insert(CUSTOMERS, row).is_ok()
    }

    /// Deletes a customer as if someone deleted it in Sage 100: the customer, its ship-to
    /// addresses and its contacts go (open invoices and sales orders stay). Returns whether it
    /// existed.
    pub fn delete_customer(&self, division: &str, number: &str) -> bool {
        let mut tables = self.shared.tables();
        if tables
            .remove(CUSTOMERS, &key(&[division, number]))
            .is_none()
        {
            return false;
        }
        let prefix = key(&[division, number]);
        for part in [
            Sage100Resource::ShipToAddresses,
            Sage100Resource::CustomerContacts,
        ] {
            let keys: Vec<Vec<String>> = tables
                .rows_with_prefix(part, &prefix)
                .filter_map(|r| key_of(part, r))
                .collect();
            for k in keys {
                tables.remove(part, &k);
            }
        }
        true
    }

    /// Moves customer `division`-`old` to `division`-`new`, as Sage 100's customer number
    /// change utility does: the row keeps every other column (`DateUpdated` included), and
    /// every row naming the old customer (ship-to addresses, contacts, open invoices, sales
    /// orders) names the new one. Returns `false`, changing nothing, when the old customer is
    /// not on file or the new number is empty or taken.
    pub fn renumber_customer(&self, division: &str, old: &str, new: &str) -> bool {
        let mut tables = self.shared.tables();
        if new.is_empty()
            || tables.get(CUSTOMERS, &key(&[division, new])).is_some()
            || tables.get(CUSTOMERS, &key(&[division, old])).is_none()
        {
            return false;
        }
        for resource in Sage100Resource::ALL {
            let names_old = |r: &Sage100Record| {
                r.get("ARDivisionNo") == Some(division) && r.get("CustomerNo") == Some(old)
            };
            let keys: Vec<Vec<String>> = tables
                .rows(resource)
                .filter(|r| names_old(r))
                .filter_map(|r| key_of(resource, r))
                .collect();
            for k in keys {
                let Some(mut row) = tables.remove(resource, &k) else {
                    continue;
                };
                row.set("CustomerNo", Some(new));
                if let Err(e) = tables.insert(resource, row) {
                    tracing::warn!("renumber_customer: {e}");
                }
            }
        }
        true
    }

    /// Inserts `n` customers of `division` numbered
    /// [`seeded_customer_number`](Self::seeded_customer_number)`(i)` (`S000001`, …) for `i` in
    /// `first..first + n`, replacing any with the same key, under one lock and without business
    /// rules: fast enough for 100,000 (a benchmark's customer list). Numbers repeat past
    /// `i = 999,999`.
    ///
    /// Customer `i` is deterministic and distinct: `CustomerName` `Customer 000123 Ltd` (the
    /// suffix cycles `Ltd`, `Inc.`, `LLC`, `Co.`), `TelephoneNo` `555-000-0123`
    /// (`555-{i / 10000 % 1000}-{i % 10000}`), `EmailAddress` `customer000123@example.com`,
    /// `ZipCode` five digits varying with `i`, `CustomerStatus` `A`, `CreditHold` `N`,
    /// `CurrentBalance` `0.00`, and `DateUpdated` a day in 2025 (`2025-01-01` plus `i % 365`
    /// days); every other column is null. 100,000 take about 140 MB. Change any of them with
    /// [`edit_customer`](Self::edit_customer).
    pub fn seed_customers(&self, division: &str, n: usize, first: usize) {
        let base = days_from_civil(2025, 1, 1);
        let dates: Vec<String> = (0..365)
            .map(|d| {
                let (y, m, dd) = civil_from_days(base + d);
                format!("{y:04}-{m:02}-{dd:02}")
            })
            .collect();
        let mut tables = self.shared.tables();
        for i in first..first.saturating_add(n) {
            let mut row = Sage100Record::with_capacity(10);
            row.set("ARDivisionNo", Some(division));
            row.set("CustomerNo", Some(&Self::seeded_customer_number(i)));
            let name = format!("Customer {i:06} {}", SUFFIXES[i % SUFFIXES.len()]);
            row.set("CustomerName", Some(&name));
            let zip = format!("{:05}", 10_000 + i.wrapping_mul(7_919) % 90_000);
            row.set("ZipCode", Some(&zip));
            let phone = format!("555-{:03}-{:04}", i / 10_000 % 1000, i % 10_000);
            row.set("TelephoneNo", Some(&phone));
            row.set("EmailAddress", Some(&format!("customer{i:06}@example.com")));
            row.set("CreditHold", Some("N"));
            row.set("CustomerStatus", Some("A"));
            row.set("CurrentBalance", Some("0.00"));
            row.set("DateUpdated", Some(&dates[i % dates.len()]));
            if let Err(e) = tables.insert(CUSTOMERS, row) {
                tracing::warn!("seed_customers: {e}");
            }
        }
    }
}
