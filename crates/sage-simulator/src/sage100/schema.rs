//! The Sage 100 tables the simulator serves: names, keys, columns, types and lengths (the
//! 4.40/2018 file layouts of `reference/sage100.md` Part B).

use crate::sdata::where_clause::ColumnKind;

/// A table (SData resource kind) the Sage 100 simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Sage100Resource {
    /// `AR_Customer`, keyed by `ARDivisionNo` + `CustomerNo`.
    Customers,
    /// `AR_Division`, keyed by `ARDivisionNo`.
    Divisions,
    /// `AR_TermsCode`, keyed by `TermsCode`.
    Terms,
    /// `SY_SalesTaxSchedule`, keyed by `TaxSchedule`.
    TaxSchedules,
    /// `AR_Salesperson`, keyed by `SalespersonDivisionNo` + `SalespersonNo`.
    Salespersons,
    /// `AR_CustomerType`, keyed by `CustomerType` (optional table).
    CustomerTypes,
    /// The ship-method table, keyed by `ShipMethod` (optional table; its name is
    /// [`Sage100Config::ship_method_table`](crate::Sage100Config::ship_method_table)).
    ShipMethods,
    /// `AR_OpenInvoice`, keyed by `ARDivisionNo` + `CustomerNo` + `InvoiceNo` + `InvoiceType`:
    /// the customer's open (and recently paid) invoices, credit memos, finance charges.
    OpenInvoices,
    /// `SO_SalesOrderHeader`, keyed by `SalesOrderNo`: open sales orders and quotes; served
    /// only when [`Sage100Config::sales_order`](crate::Sage100Config::sales_order) says the
    /// module is installed.
    SalesOrders,
    /// `SO_ShipToAddress`, keyed by `ARDivisionNo` + `CustomerNo` + `ShipToCode`: a customer's
    /// ship-to addresses (column names and lengths \[UNSURE\], see
    /// `docs/reference-parties.md`); GET and POST.
    ShipToAddresses,
    /// `AR_CustomerContact`, keyed by `ARDivisionNo` + `CustomerNo` + `ContactCode`: a
    /// customer's contacts; GET and POST.
    CustomerContacts,
}

/// The ship-method table name the simulator suggests when a test enables the table. The real
/// name is unknown (reference Part A §1); any name can be configured.
pub const SUGGESTED_SHIP_METHOD_TABLE: &str = "SO_ShipMethod";

/// One column: name, type and the longest text it takes (`None`: not checked).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) kind: ColumnKind,
    pub(crate) max: Option<usize>,
}

const fn t(name: &'static str, max: usize) -> Column {
    Column {
        name,
        kind: ColumnKind::Text,
        max: Some(max),
    }
}

const fn n(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnKind::Number,
        max: None,
    }
}

const fn d(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnKind::Date,
        max: None,
    }
}

const CUSTOMER: &[Column] = &[
    t("ARDivisionNo", 2),
    t("CustomerNo", 20),
    // The length is the `customer_name_max` setting.
    t("CustomerName", 50),
    t("AddressLine1", 30),
    t("AddressLine2", 30),
    t("AddressLine3", 30),
    t("City", 20),
    t("State", 2),
    t("ZipCode", 10),
    t("CountryCode", 3),
    t("TelephoneNo", 17),
    t("TelephoneExt", 5),
    t("EmailAddress", 250),
    t("URLAddress", 50),
    t("ContactCode", 10),
    t("PrimaryShipToCode", 4),
    t("TermsCode", 2),
    t("TaxSchedule", 9),
    t("SalespersonDivisionNo", 2),
    t("SalespersonNo", 4),
    t("CustomerType", 4),
    t("PriceLevel", 1),
    t("DefaultPaymentType", 5),
    t("ShipMethod", 15),
    t("CreditHold", 1),
    t("CustomerStatus", 1),
    n("CreditLimit"),
    n("CurrentBalance"),
    n("AgingCategory1"),
    n("AgingCategory2"),
    n("AgingCategory3"),
    n("AgingCategory4"),
    d("DateEstablished"),
    d("DateUpdated"),
];

const DIVISION: &[Column] = &[t("ARDivisionNo", 2), t("DivisionDesc", 30)];

const TERMS: &[Column] = &[
    t("TermsCode", 2),
    t("TermsCodeDesc", 30),
    n("DaysBeforeDue"),
    n("DiscountRate"),
    n("DaysBeforeDiscountDue"),
];

const TAX_SCHEDULE: &[Column] = &[t("TaxSchedule", 9), t("TaxScheduleDesc", 30)];

const SALESPERSON: &[Column] = &[
    t("SalespersonDivisionNo", 2),
    t("SalespersonNo", 4),
    t("SalespersonName", 30),
    t("EmailAddress", 250),
];

const CUSTOMER_TYPE: &[Column] = &[
    t("CustomerType", 4),
    t("CustomerTypeDesc", 30),
    t("ReportAsType", 4),
];

const SHIP_METHOD: &[Column] = &[t("ShipMethod", 15), t("ShipMethodDesc", 30)];

/// `AR_OpenInvoice`: names from public SQL over Sage 100 tables (see
/// `docs/reference-panel-sage100.md`); `InvoiceAmt` (the original amount) is unconfirmed and
/// served under [`Sage100Config::invoice_amount_column`](crate::Sage100Config::invoice_amount_column).
const OPEN_INVOICE: &[Column] = &[
    t("ARDivisionNo", 2),
    t("CustomerNo", 20),
    t("InvoiceNo", 7),
    t("InvoiceType", 2),
    d("InvoiceDate"),
    d("InvoiceDueDate"),
    t("TermsCode", 2),
    t("CustomerPONo", 15),
    t("Comment", 30),
    n("Balance"),
    n("InvoiceAmt"),
];

/// `SO_SalesOrderHeader`: the key, dates, type/status and customer are from public SQL; the
/// amount columns are an inference (as on `SO_InvoiceHeader`).
const SALES_ORDER: &[Column] = &[
    t("SalesOrderNo", 7),
    d("OrderDate"),
    t("OrderType", 1),
    t("OrderStatus", 1),
    t("ARDivisionNo", 2),
    t("CustomerNo", 20),
    t("CustomerPONo", 15),
    d("ShipExpireDate"),
    n("TaxableAmt"),
    n("NonTaxableAmt"),
    n("SalesTaxAmt"),
    n("FreightAmt"),
    n("DiscountAmt"),
];

/// `SO_ShipToAddress` \[UNSURE: names and lengths from table-layout memory\].
const SHIP_TO_ADDRESS: &[Column] = &[
    t("ARDivisionNo", 2),
    t("CustomerNo", 20),
    t("ShipToCode", 4),
    t("ShipToName", 30),
    t("ShipToAddress1", 30),
    t("ShipToAddress2", 30),
    t("ShipToAddress3", 30),
    t("ShipToCity", 20),
    t("ShipToState", 2),
    t("ShipToZipCode", 10),
    t("ShipToCountryCode", 3),
    t("TelephoneNo", 17),
    t("EmailAddress", 250),
];

/// `AR_CustomerContact` (names from the reference's CustomerContact members; lengths
/// \[UNSURE\]).
const CUSTOMER_CONTACT: &[Column] = &[
    t("ARDivisionNo", 2),
    t("CustomerNo", 20),
    t("ContactCode", 10),
    t("ContactName", 30),
    t("ContactTitle", 30),
    t("TelephoneNo1", 17),
    t("EmailAddress", 250),
];

impl Sage100Resource {
    /// Every resource, in `$schema` order.
    pub const ALL: [Sage100Resource; 11] = [
        Sage100Resource::Customers,
        Sage100Resource::Divisions,
        Sage100Resource::Terms,
        Sage100Resource::TaxSchedules,
        Sage100Resource::Salespersons,
        Sage100Resource::CustomerTypes,
        Sage100Resource::ShipMethods,
        Sage100Resource::OpenInvoices,
        Sage100Resource::SalesOrders,
        Sage100Resource::ShipToAddresses,
        Sage100Resource::CustomerContacts,
    ];

    /// The table name (resource kind); the ship-method table answers
    /// [`SUGGESTED_SHIP_METHOD_TABLE`] here, whatever a simulator was configured with.
    pub fn name(self) -> &'static str {
        match self {
            Sage100Resource::Customers => "AR_Customer",
            Sage100Resource::Divisions => "AR_Division",
            Sage100Resource::Terms => "AR_TermsCode",
            Sage100Resource::TaxSchedules => "SY_SalesTaxSchedule",
            Sage100Resource::Salespersons => "AR_Salesperson",
            Sage100Resource::CustomerTypes => "AR_CustomerType",
            Sage100Resource::ShipMethods => SUGGESTED_SHIP_METHOD_TABLE,
            Sage100Resource::OpenInvoices => "AR_OpenInvoice",
            Sage100Resource::SalesOrders => "SO_SalesOrderHeader",
            Sage100Resource::ShipToAddresses => "SO_ShipToAddress",
            Sage100Resource::CustomerContacts => "AR_CustomerContact",
        }
    }

    /// The key columns, in selector order (`AR_Customer(01;ABC)` is `ARDivisionNo;CustomerNo`).
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Sage100Resource::Customers => &["ARDivisionNo", "CustomerNo"],
            Sage100Resource::Divisions => &["ARDivisionNo"],
            Sage100Resource::Terms => &["TermsCode"],
            Sage100Resource::TaxSchedules => &["TaxSchedule"],
            Sage100Resource::Salespersons => &["SalespersonDivisionNo", "SalespersonNo"],
            Sage100Resource::CustomerTypes => &["CustomerType"],
            Sage100Resource::ShipMethods => &["ShipMethod"],
            Sage100Resource::OpenInvoices => {
                &["ARDivisionNo", "CustomerNo", "InvoiceNo", "InvoiceType"]
            }
            Sage100Resource::SalesOrders => &["SalesOrderNo"],
            Sage100Resource::ShipToAddresses => &["ARDivisionNo", "CustomerNo", "ShipToCode"],
            Sage100Resource::CustomerContacts => &["ARDivisionNo", "CustomerNo", "ContactCode"],
        }
    }

    /// The column names, in the order entries list them (UDF columns follow).
    pub fn column_names(self) -> Vec<&'static str> {
        self.columns().iter().map(|c| c.name).collect()
    }

    pub(crate) fn columns(self) -> &'static [Column] {
        match self {
            Sage100Resource::Customers => CUSTOMER,
            Sage100Resource::Divisions => DIVISION,
            Sage100Resource::Terms => TERMS,
            Sage100Resource::TaxSchedules => TAX_SCHEDULE,
            Sage100Resource::Salespersons => SALESPERSON,
            Sage100Resource::CustomerTypes => CUSTOMER_TYPE,
            Sage100Resource::ShipMethods => SHIP_METHOD,
            Sage100Resource::OpenInvoices => OPEN_INVOICE,
            Sage100Resource::SalesOrders => SALES_ORDER,
            Sage100Resource::ShipToAddresses => SHIP_TO_ADDRESS,
            Sage100Resource::CustomerContacts => CUSTOMER_CONTACT,
        }
    }

    pub(crate) fn column(self, name: &str) -> Option<&'static Column> {
        self.columns().iter().find(|c| c.name == name)
    }

    /// The column an entry's `<title>` shows.
    pub(crate) fn title_column(self) -> &'static str {
        match self {
            Sage100Resource::Customers => "CustomerName",
            Sage100Resource::Divisions => "DivisionDesc",
            Sage100Resource::Terms => "TermsCodeDesc",
            Sage100Resource::TaxSchedules => "TaxScheduleDesc",
            Sage100Resource::Salespersons => "SalespersonName",
            Sage100Resource::CustomerTypes => "CustomerTypeDesc",
            Sage100Resource::ShipMethods => "ShipMethodDesc",
            Sage100Resource::OpenInvoices => "InvoiceNo",
            Sage100Resource::SalesOrders => "SalesOrderNo",
            Sage100Resource::ShipToAddresses => "ShipToName",
            Sage100Resource::CustomerContacts => "ContactName",
        }
    }

    /// Whether `POST` creates rows here (`AR_Customer`, `SO_ShipToAddress`,
    /// `AR_CustomerContact`).
    pub fn allows_post(self) -> bool {
        matches!(
            self,
            Sage100Resource::Customers
                | Sage100Resource::ShipToAddresses
                | Sage100Resource::CustomerContacts
        )
    }

    /// Whether rows here belong to one customer (keyed by its division and number, then a
    /// code of their own).
    pub(crate) fn is_customer_part(self) -> bool {
        matches!(
            self,
            Sage100Resource::ShipToAddresses | Sage100Resource::CustomerContacts
        )
    }

    /// Whether `column` exists for reading (`where`, `select`, `orderBy`): a schema column, or a
    /// `UDF_` column of AR_Customer (text).
    pub(crate) fn kind_of(self, column: &str) -> Option<ColumnKind> {
        match self.column(column) {
            Some(c) => Some(c.kind),
            None if self == Sage100Resource::Customers && is_udf(column) => Some(ColumnKind::Text),
            None => None,
        }
    }
}

/// `UDF_` followed by at least one letter, digit or `_`.
pub(crate) fn is_udf(column: &str) -> bool {
    column.strip_prefix("UDF_").is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}
