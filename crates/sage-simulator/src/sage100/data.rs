//! The rows a Sage 100 simulator starts with: the demo company, and generated catalogues for
//! benchmarks.

/// One row of a Sage 100 table: column names and text values, in order. `None` is a null (sent
/// as `xsi:nil="true"`); an empty text is stored as `None` too.
///
/// Every SData value is text on the wire, so the row keeps text: decimals as `5000.00`, dates as
/// `2024-01-15`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sage100Record {
    columns: Vec<(String, Option<String>)>,
}

impl Sage100Record {
    /// An empty row.
    pub fn new() -> Sage100Record {
        Sage100Record::default()
    }

    /// An empty row with room for `n` columns (bulk seeding: no over-allocation).
    pub(crate) fn with_capacity(n: usize) -> Sage100Record {
        Sage100Record {
            columns: Vec::with_capacity(n),
        }
    }

    /// A row from `(column, value)` pairs; an empty value is a null.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Sage100Record {
        let mut row = Sage100Record::new();
        for (c, v) in pairs {
            row.set(c, Some(v));
        }
        row
    }

    /// The row with `column` set to `value` (builder style).
    #[must_use]
    pub fn with(mut self, column: &str, value: &str) -> Sage100Record {
        self.set(column, Some(value));
        self
    }

    /// Sets a column (added at the end when new); `None` or an empty text makes it null.
    pub fn set(&mut self, column: &str, value: Option<&str>) {
        let value = value.filter(|v| !v.is_empty()).map(str::to_owned);
        if let Some(slot) = self.columns.iter_mut().find(|(c, _)| c == column) {
            slot.1 = value;
        } else {
            self.columns.push((column.to_owned(), value));
        }
    }

    /// A column's value; `None` when the column is null or absent.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(c, _)| c == column)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether the row has the column (null or not).
    pub fn contains(&self, column: &str) -> bool {
        self.columns.iter().any(|(c, _)| c == column)
    }

    /// Every column in order.
    pub fn columns(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.columns.iter().map(|(c, v)| (c.as_str(), v.as_deref()))
    }

    /// Removes a column; returns whether it was there.
    pub fn remove(&mut self, column: &str) -> bool {
        let before = self.columns.len();
        self.columns.retain(|(c, _)| c != column);
        before != self.columns.len()
    }
}

/// The rows a Sage 100 simulator starts with, one list per table. Each row needs only its key
/// columns; the others are null unless given.
#[derive(Debug, Clone, Default)]
pub struct Sage100Data {
    /// `AR_Division` (`ARDivisionNo`, `DivisionDesc`).
    pub divisions: Vec<Sage100Record>,
    /// `AR_TermsCode` (`TermsCode`, `TermsCodeDesc`, `DaysBeforeDue`, …).
    pub terms: Vec<Sage100Record>,
    /// `SY_SalesTaxSchedule` (`TaxSchedule`, `TaxScheduleDesc`).
    pub tax_schedules: Vec<Sage100Record>,
    /// `AR_Salesperson` (`SalespersonDivisionNo`, `SalespersonNo`, `SalespersonName`, …).
    pub salespersons: Vec<Sage100Record>,
    /// `AR_CustomerType` (`CustomerType`, `CustomerTypeDesc`, `ReportAsType`); served only when
    /// [`Sage100Config::customer_type_table`](crate::Sage100Config::customer_type_table) is on.
    pub customer_types: Vec<Sage100Record>,
    /// The ship-method table (`ShipMethod`, `ShipMethodDesc`); served only when
    /// [`Sage100Config::ship_method_table`](crate::Sage100Config::ship_method_table) names it.
    pub ship_methods: Vec<Sage100Record>,
    /// `AR_Customer`.
    pub customers: Vec<Sage100Record>,
    /// `AR_OpenInvoice` (`ARDivisionNo`, `CustomerNo`, `InvoiceNo`, `InvoiceType`,
    /// `InvoiceDate`, `InvoiceDueDate`, `Balance`, `InvoiceAmt`, …); amounts signed, credits
    /// negative. See [`Sage100Data::add_open_invoices`].
    pub open_invoices: Vec<Sage100Record>,
    /// `SO_SalesOrderHeader` (`SalesOrderNo`, `OrderDate`, `OrderType`, `OrderStatus`,
    /// `ARDivisionNo`, `CustomerNo`, amounts); served only when
    /// [`Sage100Config::sales_order`](crate::Sage100Config::sales_order) says installed.
    pub sales_orders: Vec<Sage100Record>,
    /// `SO_ShipToAddress` (`ARDivisionNo`, `CustomerNo`, `ShipToCode`, `ShipToName`, …). None
    /// in the demo.
    pub ship_tos: Vec<Sage100Record>,
    /// `AR_CustomerContact` (`ARDivisionNo`, `CustomerNo`, `ContactCode`, `ContactName`, …).
    /// None in the demo.
    pub contacts: Vec<Sage100Record>,
}

/// How many rows of each kind [`Sage100Data::generated`] adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sage100Catalogue {
    /// Salespersons `02-0001`, `02-0002`, … in division `02` (added to `AR_Division`);
    /// at most 9,999.
    pub salespersons: usize,
    /// Terms `A0`, `A1`, … (two characters, letter then base-36 digit); at most 936.
    pub terms: usize,
    /// Tax schedules `TS0000001`, … (9 characters).
    pub tax_schedules: usize,
    /// Customer types `T001`, … (4 characters); at most 999.
    pub customer_types: usize,
    /// Ship methods `SHIP000001`, ….
    pub ship_methods: usize,
    /// Customers `02-C0000001`, … in division `02`, salesperson `01-0100`.
    pub customers: usize,
}

impl Sage100Catalogue {
    /// `n` rows of every kind (capped as each field says).
    pub fn each(n: usize) -> Sage100Catalogue {
        Sage100Catalogue {
            salespersons: n,
            terms: n,
            tax_schedules: n,
            customer_types: n,
            ship_methods: n,
            customers: n,
        }
    }
}

fn row(pairs: &[(&str, &str)]) -> Sage100Record {
    Sage100Record::from_pairs(pairs)
}

impl Sage100Data {
    /// Data like Sage 100's demo company ABC:
    ///
    /// - divisions `00` (Corporate), `01` (Eastern Sales);
    /// - terms `00`–`05` (`00` COD, `01` Net 30 Days, `02` 2% 10 Net 30, `03` Net 10 Days,
    ///   `04` Net 60 Days, `05` Due on Receipt);
    /// - tax schedules `DEFAULT`, `WI MIL` (an inner space);
    /// - salespersons `01-0100` (Jim Kentley), `01-0200` (Sally Ross);
    /// - customer types `RET` (Retail), `WHL` (Wholesale);
    /// - ship methods `UPS GROUND`, `FEDEX 2DAY`, `WILL CALL` (served only when the ship-method
    ///   table is enabled);
    /// - customers (balance = `CurrentBalance` + `AgingCategory1..4`) `01-ABF` American
    ///   Business Futures (null `AddressLine2`, `AddressLine3`; limit 5,000.00, balance
    ///   1,250.75), `01-AVNET` Avnet Processing Corp (limit 25,000.00,
    ///   balance 26,480.40: over the limit), `00-0000001` `Ashton & Baker <Supply>` (markup
    ///   characters in the name; no limit, on credit hold, balance 480.00);
    /// - open invoices as of today (UTC), see [`Sage100Data::demo_as_of`];
    /// - sales orders: ABF `0000101` (standard, open, 1,291.00), `0000102` (back order,
    ///   349.99), `0000103` (a quote, 500.00); AVNET `0000104` (standard, on hold, 8,800.00).
    pub fn demo() -> Sage100Data {
        let (y, m, d) = crate::pipeline::today_ymd();
        Sage100Data::demo_as_of((
            i32::try_from(y).unwrap_or(2026),
            u8::try_from(m).unwrap_or(1),
            u8::try_from(d).unwrap_or(1),
        ))
    }

    /// [`Sage100Data::demo`] with the open invoices and orders dated relative to `as_of`
    /// (`(2026, 6, 30)`). Days past due on `as_of` (due date = `as_of` minus them), balances:
    ///
    /// | customer | invoice | type | days past due | balance |
    /// |---|---|---|---|---|
    /// | 01-ABF | 0100011 | IN | −10 | 300.00 |
    /// | 01-ABF | 0100012 | IN | 0 | 150.00 |
    /// | 01-ABF | 0100013 | IN | 1 | 200.25 (of 450.25) |
    /// | 01-ABF | 0100014 | IN | 30 | 100.00 |
    /// | 01-ABF | 0100015 | IN | 31 | 180.50 |
    /// | 01-ABF | 0100016 | IN | 60 | 75.00 (of 275.00) |
    /// | 01-ABF | 0100017 | IN | 61 | 120.00 |
    /// | 01-ABF | 0100018 | IN | 90 | 60.00 |
    /// | 01-ABF | 0100019 | IN | 91 | 95.00 |
    /// | 01-ABF | 0100020 | FC | no due date | 10.00 |
    /// | 01-ABF | 0100021 | CM | 45 | −40.00 |
    /// | 01-ABF | 0100022 | IN | 20 | 0.00 (paid) |
    /// | 01-AVNET | 0100031 | IN | −20 | 12,000.00 |
    /// | 01-AVNET | 0100032 | IN | 15 | 9,500.40 |
    /// | 01-AVNET | 0100033 | IN | 75 | 5,230.00 (of 7,230.00) |
    /// | 01-AVNET | 0100035 | CM | 5 | −250.00 |
    /// | 00-0000001 | 0100041 | IN | 120 | 480.00 |
    ///
    /// Plus, for `01-NW1001` (the customer `crm2sage demo` creates; a create takes its balance
    /// from the invoices on file): 0100051 IN −12: 1,800.00 · 0100052 IN 14: 950.50 · 0100053
    /// CM 20: −120.00 · 0100054 IN 45: 640.25 (of 1,240.25) · 0100055 IN 75: 310.00 · 0100056
    /// IN 130: 89.99, and order `0000105` (2,567.00).
    ///
    /// Each customer's open balances add up to its balance: `CurrentBalance` (the part not yet
    /// past due on `as_of`) plus `AgingCategory1..4` (1–30, 31–60, 61–90 and over 90 days past
    /// due on `as_of`). Invoice dates are 30 days
    /// before the due date (the finance charge: 5 days before `as_of`); the original amount
    /// (`InvoiceAmt`) equals the balance unless shown. Orders are dated 3, 10, 1 and 2 days
    /// before `as_of`.
    pub fn demo_as_of(as_of: (i32, u8, u8)) -> Sage100Data {
        let anchor = super::panel_data::day(as_of.0, as_of.1, as_of.2);
        let terms = [
            ("00", "C.O.D.", "0", "0.000", "0"),
            ("01", "Net 30 Days", "30", "0.000", "0"),
            ("02", "2% 10 Net 30", "30", "2.000", "10"),
            ("03", "Net 10 Days", "10", "0.000", "0"),
            ("04", "Net 60 Days", "60", "0.000", "0"),
            ("05", "Due on Receipt", "0", "0.000", "0"),
        ]
        .iter()
        .map(|(code, desc, days, rate, disc_days)| {
            row(&[
                ("TermsCode", code),
                ("TermsCodeDesc", desc),
                ("DaysBeforeDue", days),
                ("DiscountRate", rate),
                ("DaysBeforeDiscountDue", disc_days),
            ])
        })
        .collect();
        let customer = |div: &str, no: &str, name: &str, extra: &[(&str, &str)]| {
            let mut r = row(&[
                ("ARDivisionNo", div),
                ("CustomerNo", no),
                ("CustomerName", name),
            ]);
            for (c, v) in extra {
                r.set(c, Some(v));
            }
            for (c, v) in [
                ("CreditHold", "N"),
                ("CustomerStatus", "A"),
                ("CurrentBalance", "0.00"),
                ("DateUpdated", "2024-01-15"),
            ] {
                if !r.contains(c) {
                    r.set(c, Some(v));
                }
            }
            r
        };
        Sage100Data {
            divisions: vec![
                row(&[("ARDivisionNo", "00"), ("DivisionDesc", "Corporate")]),
                row(&[("ARDivisionNo", "01"), ("DivisionDesc", "Eastern Sales")]),
            ],
            terms,
            tax_schedules: vec![
                row(&[
                    ("TaxSchedule", "DEFAULT"),
                    ("TaxScheduleDesc", "Default tax schedule"),
                ]),
                row(&[
                    ("TaxSchedule", "WI MIL"),
                    ("TaxScheduleDesc", "Milwaukee County, WI"),
                ]),
            ],
            salespersons: vec![
                row(&[
                    ("SalespersonDivisionNo", "01"),
                    ("SalespersonNo", "0100"),
                    ("SalespersonName", "Jim Kentley"),
                    ("EmailAddress", "jim.kentley@example.com"),
                ]),
                row(&[
                    ("SalespersonDivisionNo", "01"),
                    ("SalespersonNo", "0200"),
                    ("SalespersonName", "Sally Ross"),
                    ("EmailAddress", "sally.ross@example.com"),
                ]),
            ],
            customer_types: vec![
                row(&[
                    ("CustomerType", "RET"),
                    ("CustomerTypeDesc", "Retail"),
                    ("ReportAsType", "RET"),
                ]),
                row(&[
                    ("CustomerType", "WHL"),
                    ("CustomerTypeDesc", "Wholesale"),
                    ("ReportAsType", "WHL"),
                ]),
            ],
            ship_methods: vec![
                row(&[
                    ("ShipMethod", "UPS GROUND"),
                    ("ShipMethodDesc", "UPS Ground"),
                ]),
                row(&[
                    ("ShipMethod", "FEDEX 2DAY"),
                    ("ShipMethodDesc", "FedEx 2nd Day Air"),
                ]),
                row(&[
                    ("ShipMethod", "WILL CALL"),
                    ("ShipMethodDesc", "Customer pick-up"),
                ]),
            ],
            customers: vec![
                customer(
                    "01",
                    "ABF",
                    "American Business Futures",
                    &[
                        ("AddressLine1", "2131 N. 14th Street"),
                        ("City", "Milwaukee"),
                        ("State", "WI"),
                        ("ZipCode", "53205-1204"),
                        ("CountryCode", "USA"),
                        ("TelephoneNo", "(414) 555-4787"),
                        ("EmailAddress", "artie@abf.example.com"),
                        ("URLAddress", "www.abf.example.com"),
                        ("TermsCode", "01"),
                        ("TaxSchedule", "WI MIL"),
                        ("SalespersonDivisionNo", "01"),
                        ("SalespersonNo", "0100"),
                        ("CustomerType", "RET"),
                        ("PriceLevel", "A"),
                        ("CreditLimit", "5000.00"),
                        ("CurrentBalance", "460.00"),
                        ("AgingCategory1", "300.25"),
                        ("AgingCategory2", "215.50"),
                        ("AgingCategory3", "180.00"),
                        ("AgingCategory4", "95.00"),
                        ("DateEstablished", "1998-03-01"),
                    ],
                ),
                customer(
                    "01",
                    "AVNET",
                    "Avnet Processing Corp",
                    &[
                        ("AddressLine1", "Avnet Building"),
                        ("AddressLine2", "4001 Industrial Parkway"),
                        ("City", "Madison"),
                        ("State", "WI"),
                        ("ZipCode", "53714"),
                        ("CountryCode", "USA"),
                        ("TelephoneNo", "(608) 555-0166"),
                        ("TermsCode", "02"),
                        ("TaxSchedule", "DEFAULT"),
                        ("SalespersonDivisionNo", "01"),
                        ("SalespersonNo", "0200"),
                        ("CustomerType", "WHL"),
                        ("CreditLimit", "25000.00"),
                        ("CurrentBalance", "12000.00"),
                        ("AgingCategory1", "9250.40"),
                        ("AgingCategory2", "0.00"),
                        ("AgingCategory3", "5230.00"),
                        ("AgingCategory4", "0.00"),
                        ("DateEstablished", "2005-07-12"),
                    ],
                ),
                customer(
                    "00",
                    "0000001",
                    "Ashton & Baker <Supply>",
                    &[
                        ("AddressLine1", "12 O'Brien \"Quay\""),
                        ("City", "Chicago"),
                        ("State", "IL"),
                        ("ZipCode", "60601"),
                        ("CountryCode", "USA"),
                        ("TermsCode", "00"),
                        ("TaxSchedule", "DEFAULT"),
                        ("SalespersonDivisionNo", "01"),
                        ("SalespersonNo", "0100"),
                        ("CreditLimit", "0.00"),
                        ("CreditHold", "Y"),
                        ("CurrentBalance", "0.00"),
                        ("AgingCategory1", "0.00"),
                        ("AgingCategory2", "0.00"),
                        ("AgingCategory3", "0.00"),
                        ("AgingCategory4", "480.00"),
                        ("DateEstablished", "2019-11-30"),
                    ],
                ),
            ],
            open_invoices: super::panel_data::demo_invoices(anchor),
            sales_orders: super::panel_data::demo_orders(anchor),
            ship_tos: Vec::new(),
            contacts: Vec::new(),
        }
    }

    /// The demo data plus a generated catalogue (for paging and benchmarks).
    pub fn generated(catalogue: Sage100Catalogue) -> Sage100Data {
        let mut data = Sage100Data::demo();
        data.add_generated(catalogue);
        data
    }

    /// Adds a generated catalogue to these rows.
    pub fn add_generated(&mut self, c: Sage100Catalogue) {
        const B36: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        if (c.salespersons > 0 || c.customers > 0)
            && !self
                .divisions
                .iter()
                .any(|d| d.get("ARDivisionNo") == Some("02"))
        {
            self.divisions.push(row(&[
                ("ARDivisionNo", "02"),
                ("DivisionDesc", "Generated division"),
            ]));
        }
        for i in 1..=c.salespersons.min(9_999) {
            let no = format!("{i:04}");
            self.salespersons.push(row(&[
                ("SalespersonDivisionNo", "02"),
                ("SalespersonNo", &no),
                ("SalespersonName", &format!("Generated salesperson {no}")),
            ]));
        }
        for i in 0..c.terms.min(26 * 36) {
            let code: String = [B36[10 + i / 36] as char, B36[i % 36] as char]
                .iter()
                .collect();
            self.terms.push(row(&[
                ("TermsCode", &code),
                ("TermsCodeDesc", &format!("Generated terms {code}")),
                ("DaysBeforeDue", "30"),
            ]));
        }
        for i in 1..=c.tax_schedules.min(9_999_999) {
            let code = format!("TS{i:07}");
            self.tax_schedules.push(row(&[
                ("TaxSchedule", &code),
                ("TaxScheduleDesc", &format!("Generated schedule {code}")),
            ]));
        }
        for i in 1..=c.customer_types.min(999) {
            let code = format!("T{i:03}");
            self.customer_types.push(row(&[
                ("CustomerType", &code),
                ("CustomerTypeDesc", &format!("Generated type {code}")),
                ("ReportAsType", &code),
            ]));
        }
        for i in 1..=c.ship_methods.min(999_999) {
            let code = format!("SHIP{i:06}");
            self.ship_methods.push(row(&[
                ("ShipMethod", &code),
                ("ShipMethodDesc", &format!("Generated ship method {code}")),
            ]));
        }
        for i in 1..=c.customers.min(9_999_999) {
            let no = format!("C{i:07}");
            self.customers.push(row(&[
                ("ARDivisionNo", "02"),
                ("CustomerNo", &no),
                ("CustomerName", &format!("Generated customer {no}")),
                ("SalespersonDivisionNo", "01"),
                ("SalespersonNo", "0100"),
                ("CreditHold", "N"),
                ("CustomerStatus", "A"),
            ]));
        }
    }
}
