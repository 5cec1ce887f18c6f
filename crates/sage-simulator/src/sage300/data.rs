//! The records a Sage 300 simulator starts with: the demo company, and generated catalogues for
//! benchmarks.

use serde_json::{Map, Value, json};

/// A JSON record (one entity).
pub type Sage300Record = Map<String, Value>;

/// The records a Sage 300 simulator starts with.
///
/// Each record needs only its key properties; every other property is filled with its default
/// when the simulator starts (so `{"GroupCode":"X","Description":"…"}` is a valid group).
/// Terms may be written with `TermsCode` whatever [`TermsKey`](crate::TermsKey) says.
#[derive(Debug, Clone, Default)]
pub struct Sage300Data {
    /// `AR/ARCustomerGroups`. Besides the ARGRO properties a group's `AccountSet`, `Terms`,
    /// `TaxGroup`, `BillingCycle`, … are the defaults a new customer gets.
    pub groups: Vec<Sage300Record>,
    /// `AR/ARTerms`.
    pub terms: Vec<Sage300Record>,
    /// `TX/TXTaxGroups`: one row per `TaxGroupKey` and `TransactionType` (`Sales`/`Purchases`).
    pub tax_groups: Vec<Sage300Record>,
    /// `CS/CSCurrencyCodes`.
    pub currencies: Vec<Sage300Record>,
    /// `AR/ARCustomers`.
    pub customers: Vec<Sage300Record>,
    /// `AR/ARPostedDocuments`: each needs `CustomerNumber` and `DocumentNumber`.
    pub posted_documents: Vec<Sage300Record>,
    /// `OE/OEOrders`: each needs `OrderNumber`.
    pub orders: Vec<Sage300Record>,
    /// `AR/ARShipToLocations`: each needs `CustomerNumber` and `ShipToLocationKey`
    /// (`PrimaryShipToIndicator` is computed from the customer). None in the demo.
    pub ship_tos: Vec<Sage300Record>,
    /// `MT/MTContacts`: each needs `CustomerNumber` and `ContactCode`. None in the demo.
    pub contacts: Vec<Sage300Record>,
    /// Account sets (`AccountSetCode`, `CurrencyCode`): not served, only used to default a new
    /// customer's `CurrencyCode` from its group's `AccountSet`.
    pub account_sets: Vec<Sage300Record>,
    /// The functional (home) currency: a new customer's currency when neither the payload nor
    /// the account set gives one.
    pub home_currency: String,
}

fn rec(v: Value) -> Sage300Record {
    match v {
        Value::Object(m) => m,
        _ => Sage300Record::new(),
    }
}

/// How many records of each kind [`Sage300Data::generated`] adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Catalogue {
    /// Customer groups `G00001`, `G00002`, … (6 characters, base 36 after `G`).
    pub groups: usize,
    /// Terms `T00001`, … (6 characters, base 36 after `T`).
    pub terms: usize,
    /// Tax groups `TX0000001`, … each with a Sales row (every tenth also a Purchases row).
    pub tax_groups: usize,
    /// Currencies `AAA`, `AAB`, … (at most 17,576).
    pub currencies: usize,
    /// Customers `C0000001`, … in group `RTL`.
    pub customers: usize,
}

impl Catalogue {
    /// `n` records of every kind (currencies capped at 17,576).
    pub fn each(n: usize) -> Catalogue {
        Catalogue {
            groups: n,
            terms: n,
            tax_groups: n,
            currencies: n,
            customers: n,
        }
    }
}

impl Sage300Data {
    /// Data like Sage's sample company SAMLTD:
    ///
    /// - groups `RTL` (Retail), `WHL` (Wholesale), `CAN` (Canadian customers, account set `CAN`
    ///   in CAD, terms `N30`, tax group `BCTAX`) and `OLD` (inactive);
    /// - terms `N30`, `2N31`, `DUETBL` and `COD` (inactive);
    /// - tax groups `CALIF`, `BCTAX`, `USDTAX` with Sales and Purchases rows, and `IMPORT`
    ///   (Purchases only: a customer cannot use it);
    /// - currencies `USD`, `CAD`, `EUR`; home currency `USD`; account sets `USA` (USD), `CAN` (CAD);
    /// - customers `1100`, `1105`, `1200` (RTL/WHL, USD) and `BCCUST` (CAN, CAD).
    pub fn demo() -> Sage300Data {
        let date = "2024-01-15T00:00:00Z";
        let group = |code: &str, desc: &str, set: &str, terms: &str, tax: &str| {
            rec(json!({
                "GroupCode": code, "Description": desc, "Status": "Active", "InactiveDate": null,
                "DateLastMaintained": date, "AccountSet": set, "AutocashProfile": "", "BillingCycle": set,
                "InterestProfile": set, "AccountType": "OpenItem", "Terms": terms, "RateType": "SP",
                "TaxGroup": tax, "TaxClassCode1": 1, "PrintStatements": "Yes",
            }))
        };
        let mut old = group("OLD", "Discontinued group", "USA", "N30", "CALIF");
        old.insert("Status".into(), json!("Inactive"));
        old.insert("InactiveDate".into(), json!("2019-06-30T00:00:00Z"));
        let groups = vec![
            group("RTL", "Retail", "USA", "N30", "CALIF"),
            group("WHL", "Wholesale", "USA", "2N31", "CALIF"),
            group("CAN", "Canadian customers", "CAN", "N30", "BCTAX"),
            old,
        ];
        let terms_rec = |code: &str, desc: &str, status: &str, days: u32| {
            rec(json!({
                "TermsCode": code, "Description": desc, "Status": status,
                "InactiveDate": if status == "Inactive" { json!("2020-12-31T00:00:00Z") } else { Value::Null },
                "DateLastMaintained": date, "UsePaymentSchedule": "No", "DueDateType": "DaysFromInvoiceDate",
                "NumberOfPayments": 1, "TotalPercentDue": 100,
                "TermsPaymentSchedules": [{"TermsCode": code, "PaymentNumber": 1, "PercentDue": 100,
                    "DiscountPercent": if code == "2N31" { 2 } else { 0 }, "DiscountNumberOfDays": if code == "2N31" { 10 } else { 0 },
                    "DiscountDayOfMonth": 0, "DueNumberOfDays": days, "DueDayOfMonth": 0}],
            }))
        };
        let terms = vec![
            terms_rec("N30", "Net 30 days", "Active", 30),
            terms_rec("2N31", "2% 10 days, net 31 days", "Active", 31),
            terms_rec("DUETBL", "Due date table", "Active", 0),
            terms_rec("COD", "Cash on delivery (discontinued)", "Inactive", 0),
        ];
        let tax = |key: &str, ttype: &str, desc: &str, cur: &str, auth: &str| {
            rec(json!({
                "TaxGroupKey": key, "TransactionType": ttype, "Description": desc,
                "TaxReportingCurrency": cur, "TaxAuthority1": auth, "Taxable1": true,
                "TaxCalculationMethod": "CalculateTaxByDetail", "LastMaintained": date,
            }))
        };
        let tax_groups = vec![
            tax(
                "BCTAX",
                "Sales",
                "British Columbia Tax Group",
                "CAD",
                "BCPST",
            ),
            tax(
                "BCTAX",
                "Purchases",
                "British Columbia Tax Group",
                "CAD",
                "BCPST",
            ),
            tax("CALIF", "Sales", "California Tax Group", "USD", "CALIF"),
            tax("CALIF", "Purchases", "California Tax Group", "USD", "CALIF"),
            tax(
                "IMPORT",
                "Purchases",
                "Imports (purchases only)",
                "USD",
                "IMPORT",
            ),
            tax("USDTAX", "Sales", "US Dollar Tax Group", "USD", "USTAX"),
            tax("USDTAX", "Purchases", "US Dollar Tax Group", "USD", "USTAX"),
        ];
        let cur = |code: &str, desc: &str, sym: &str| {
            rec(json!({"CurrencyCodeKey": code, "Description": desc, "Symbol": sym}))
        };
        let currencies = vec![
            cur("USD", "US Dollars", "$"),
            cur("CAD", "Canadian Dollars", "$"),
            cur("EUR", "Euro", "€"),
        ];
        let customer = |no: &str,
                        name: &str,
                        group: &str,
                        city: &str,
                        country: &str,
                        currency: &str,
                        terms: &str,
                        tax: &str| {
            rec(json!({
                "CustomerNumber": no, "ShortName": name.chars().take(10).collect::<String>(), "GroupCode": group,
                "Status": "Active", "DateLastMaintained": date, "StartDate": "2019-01-01T00:00:00Z",
                "CustomerName": name, "AddressLine1": "100 Main Street", "City": city, "Country": country,
                "AccountSet": if currency == "CAD" { "CAN" } else { "USA" },
                "BillingCycle": if currency == "CAD" { "CAN" } else { "USA" },
                "InterestProfile": if currency == "CAD" { "CAN" } else { "USA" },
                "CurrencyCode": currency, "Terms": terms, "TaxGroup": tax, "RateType": "SP",
                "CreditLimitCustomerCurrency": 10000.0, "BalanceDueInCustomerCurrency": 0.0,
            }))
        };
        let customers = vec![
            customer(
                "1100",
                "Bargain Mart - San Diego",
                "RTL",
                "San Diego",
                "USA",
                "USD",
                "N30",
                "CALIF",
            ),
            customer(
                "1105",
                "Bargain Mart - Los Angeles",
                "RTL",
                "Los Angeles",
                "USA",
                "USD",
                "N30",
                "CALIF",
            ),
            customer(
                "1200",
                "Mr. Ronald Black",
                "WHL",
                "Sacramento",
                "USA",
                "USD",
                "2N31",
                "CALIF",
            ),
            customer(
                "BCCUST",
                "Coastal Supplies Ltd.",
                "CAN",
                "Vancouver",
                "Canada",
                "CAD",
                "N30",
                "BCTAX",
            ),
        ];
        let account_sets = vec![
            rec(
                json!({"AccountSetCode": "USA", "Description": "US accounts", "CurrencyCode": "USD"}),
            ),
            rec(
                json!({"AccountSetCode": "CAN", "Description": "Canadian accounts", "CurrencyCode": "CAD"}),
            ),
        ];
        let posted_documents = super::panel::demo_documents();
        let mut customers = customers;
        for customer in &mut customers {
            let number = customer
                .get("CustomerNumber")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let balance = super::panel::balance_due(&posted_documents, &number);
            customer.insert("BalanceDueInCustomerCurrency".into(), json!(balance));
        }
        Sage300Data {
            groups,
            terms,
            tax_groups,
            currencies,
            posted_documents,
            orders: super::panel::demo_orders(),
            ship_tos: Vec::new(),
            contacts: Vec::new(),
            customers,
            account_sets,
            home_currency: "USD".to_owned(),
        }
    }

    /// The demo data plus a generated catalogue (for benchmarks): `catalogue` says how many
    /// records of each kind to add. Generated groups use account set `USA`, terms `N30`, tax
    /// group `CALIF`; generated customers are in group `RTL`. Totals are the demo's plus these.
    pub fn generated(catalogue: Catalogue) -> Sage300Data {
        let mut data = Sage300Data::demo();
        data.add_generated(catalogue);
        data
    }

    /// Adds a generated catalogue to this data (see [`Sage300Data::generated`]).
    pub fn add_generated(&mut self, c: Catalogue) {
        let date = "2024-01-15T00:00:00Z";
        self.groups.reserve(c.groups);
        for i in 1..=c.groups {
            self.groups.push(rec(json!({
                "GroupCode": format!("G{}", base36(i, 5)), "Description": format!("Generated group {i}"),
                "Status": "Active", "DateLastMaintained": date, "AccountSet": "USA", "BillingCycle": "USA",
                "InterestProfile": "USA", "Terms": "N30", "TaxGroup": "CALIF", "RateType": "SP",
            })));
        }
        self.terms.reserve(c.terms);
        for i in 1..=c.terms {
            self.terms.push(rec(json!({
                "TermsCode": format!("T{}", base36(i, 5)), "Description": format!("Generated terms {i}"),
                "Status": "Active", "DateLastMaintained": date, "NumberOfPayments": 1, "TotalPercentDue": 100,
            })));
        }
        self.tax_groups.reserve(c.tax_groups);
        for i in 1..=c.tax_groups {
            let key = format!("TX{i:07}");
            for ttype in ["Sales", "Purchases"] {
                if ttype == "Purchases" && i % 10 != 0 {
                    continue;
                }
                self.tax_groups.push(rec(json!({
                    "TaxGroupKey": key, "TransactionType": ttype, "Description": format!("Generated tax group {i}"),
                    "TaxReportingCurrency": "USD", "LastMaintained": date,
                })));
            }
        }
        let existing: Vec<String> = self
            .currencies
            .iter()
            .filter_map(|r| {
                r.get("CurrencyCodeKey")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        let mut added = 0;
        for i in 0..26 * 26 * 26 {
            if added == c.currencies {
                break;
            }
            let b = |n: usize| char::from(b'A' + (n % 26) as u8);
            let code: String = [b(i / 676), b(i / 26), b(i)].into_iter().collect();
            if existing.contains(&code) {
                continue;
            }
            self.currencies.push(rec(json!({"CurrencyCodeKey": code, "Description": format!("Generated currency {code}")})));
            added += 1;
        }
        self.customers.reserve(c.customers);
        for i in 1..=c.customers {
            self.customers.push(rec(json!({
                "CustomerNumber": format!("C{i:07}"), "ShortName": format!("Gen {i}"), "GroupCode": "RTL",
                "Status": "Active", "DateLastMaintained": date, "CustomerName": format!("Generated customer {i}"),
                "AccountSet": "USA", "BillingCycle": "USA", "InterestProfile": "USA", "CurrencyCode": "USD",
                "Terms": "N30", "TaxGroup": "CALIF",
            })));
        }
    }
}

/// `n` in upper-case base 36, zero-padded to `width` (digits sort before letters in ASCII, so
/// the codes sort in numeric order).
fn base36(mut n: usize, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[n % 36];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_unique_and_sorted() {
        assert_eq!(base36(1, 5), "00001");
        assert_eq!(base36(36, 5), "00010");
        let d = Sage300Data::generated(Catalogue {
            groups: 2000,
            currencies: 30,
            tax_groups: 20,
            ..Catalogue::default()
        });
        let codes: Vec<&str> = d
            .groups
            .iter()
            .filter_map(|g| g["GroupCode"].as_str())
            .collect();
        assert_eq!(codes.len(), 2004);
        let generated = &codes[4..];
        assert!(generated.windows(2).all(|w| w[0] < w[1]));
        assert!(generated.iter().all(|c| c.len() == 6));
        assert_eq!(d.currencies.len(), 33);
        assert_eq!(d.tax_groups.len(), 7 + 22);
    }
}
