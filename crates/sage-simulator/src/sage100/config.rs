//! How a Sage 100 simulator behaves: credentials, paging, and one setting for every wire detail
//! the reference marks \[UNSURE\].

use super::data::Sage100Data;
use crate::{CreateStatus, Faults};

/// Everything a Sage 100 SData simulator is started with.
///
/// `Sage100Config::default()` is company `ABC` with user `sdata`/`sdata`, pages of 100, the demo
/// data, and the most likely variant of every unsure wire detail: `next` links present,
/// resource elements in no namespace, unquoted keys only, `sdata:`-prefixed diagnoses, a
/// duplicate answered 409, a create answered 201, `CustomerName` up to 30 characters,
/// `AR_CustomerType` served, no ship-method table; Sales Order installed, credit memos with a
/// negative `Balance`, the original amount as `InvoiceAmt`, dates as `YYYY-MM-DD`, a blank date
/// as `xsi:nil`.
#[derive(Debug, Clone)]
pub struct Sage100Config {
    /// The company code (SData dataset) served; matched case-insensitively. Default `ABC`.
    pub company: String,
    /// Sage 100 logons (user, password) allowed to use SData. The first is the one
    /// [`RunningSage100::user`](crate::RunningSage100::user) reports. User names compare
    /// case-insensitively, passwords exactly. Default `[("sdata","sdata")]`.
    pub users: Vec<(String, String)>,
    /// Logons whose password is right but that lack the right to SData: answered 403.
    /// Default none.
    pub forbidden_users: Vec<(String, String)>,
    /// The largest page: a `count` above it is cut to it, no `count` means this. Default 100.
    pub page_size: usize,
    /// Whether feeds carry `<link rel="next">` (and `first`/`last`/`previous`).
    pub next_link: SDataNextLink,
    /// The namespace of the resource element inside `<sdata:payload>` (and `$schema`'s
    /// `targetNamespace`).
    pub resource_namespace: ResourceNamespace,
    /// Which single-resource selector forms are accepted.
    pub key_syntax: KeySyntax,
    /// The shape of diagnosis bodies.
    pub diagnosis_style: DiagnosisStyle,
    /// How a create of an existing customer is refused.
    pub duplicate_status: DuplicateStatus,
    /// Status of a successful create (`201` with `Location`, or `200`).
    pub create_status: CreateStatus,
    /// Longest `CustomerName`: 30 (4.40/2018 layout, the default) or 50 (2022 and later).
    pub customer_name_max: usize,
    /// Whether the server has `AR_CustomerType` (listed in `$schema`, served, and checked on
    /// create). Off: any `CustomerType` of at most 4 characters is accepted and the resource kind
    /// is 404 `ResourceKindNotFound`. Default `true`.
    pub customer_type_table: bool,
    /// The ship-method table's name when the server has one (the real name is unknown; e.g.
    /// [`SUGGESTED_SHIP_METHOD_TABLE`](crate::SUGGESTED_SHIP_METHOD_TABLE)). `None` (default):
    /// no such table, and any `ShipMethod` of at most 15 characters is accepted.
    pub ship_method_table: Option<String>,
    /// Whether the company has Sales Order (`SO_SalesOrderHeader`). Default
    /// [`SalesOrderModule::Installed`].
    pub sales_order: SalesOrderModule,
    /// The sign of `Balance` (and the original amount) on credit rows of `AR_OpenInvoice`
    /// (`InvoiceType` `CM`, `PP`, `PY`). Rows are stored signed (credits negative); the setting
    /// only changes how they are sent.
    pub credit_balance_sign: CreditBalanceSign,
    /// The name `AR_OpenInvoice`'s original-amount column is served under (rows store it as
    /// `InvoiceAmt`); `None`: the server has no such column (it is left out of entries and
    /// `$schema`). Default `Some("InvoiceAmt")`. The real name is unconfirmed.
    pub invoice_amount_column: Option<String>,
    /// What `AR_Customer.CurrentBalance` holds. Default [`CustomerBalance::Aged`].
    pub customer_balance: CustomerBalance,
    /// How the dates of `AR_OpenInvoice` and `SO_SalesOrderHeader` are written.
    pub date_style: SDataDateStyle,
    /// How a blank date of `AR_OpenInvoice` and `SO_SalesOrderHeader` is written.
    pub blank_date: BlankDate,
    /// What a `PUT AR_Customer(01;ABC)` does to the columns it leaves out.
    pub put_semantics: PutSemantics,
    /// Refuse a `where` on `DateUpdated` with 400 `BadWhereSyntax`, as a provider that cannot
    /// filter on it would: lets a client's fallback (a full list) be tested. Default `false`.
    pub reject_date_filter: bool,
    /// Faults at start; change them later with
    /// [`RunningSage100::set_faults`](crate::RunningSage100::set_faults).
    pub faults: Faults,
    /// Cut every successful response body in half (malformed XML) from the start; change it later
    /// with [`RunningSage100::set_malformed_xml`](crate::RunningSage100::set_malformed_xml).
    /// Creates still commit. Default `false`.
    pub malformed_xml: bool,
    /// The rows at start.
    pub data: Sage100Data,
}

impl Default for Sage100Config {
    fn default() -> Self {
        Sage100Config {
            company: "ABC".to_owned(),
            users: vec![("sdata".to_owned(), "sdata".to_owned())],
            forbidden_users: Vec::new(),
            page_size: 100,
            next_link: SDataNextLink::Present,
            resource_namespace: ResourceNamespace::NoNamespace,
            key_syntax: KeySyntax::Unquoted,
            diagnosis_style: DiagnosisStyle::Prefixed,
            duplicate_status: DuplicateStatus::Conflict409,
            create_status: CreateStatus::Created201,
            customer_name_max: 30,
            customer_type_table: true,
            ship_method_table: None,
            sales_order: SalesOrderModule::Installed,
            credit_balance_sign: CreditBalanceSign::Negative,
            invoice_amount_column: Some("InvoiceAmt".to_owned()),
            customer_balance: CustomerBalance::Aged,
            date_style: SDataDateStyle::Date,
            blank_date: BlankDate::Nil,
            put_semantics: PutSemantics::Partial,
            reject_date_filter: false,
            faults: Faults::default(),
            malformed_xml: false,
            data: Sage100Data::demo(),
        }
    }
}

/// Whether feeds carry paging links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SDataNextLink {
    /// `<link rel="next" href="http://…/AR_Customer?startIndex=101&count=100…"/>` (absolute) when
    /// more rows follow, plus `first`, `last` and (after page one) `previous`.
    #[default]
    Present,
    /// No paging links at all: a client pages with the OpenSearch totals
    /// (`startIndex + itemsPerPage` until `totalResults`).
    Absent,
}

/// The namespace of the resource element (`<AR_Customer>`) in payloads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ResourceNamespace {
    /// `<AR_Customer xmlns="">` (what Sage 100 clients send; the likely answer).
    #[default]
    NoNamespace,
    /// `<AR_Customer xmlns="…">` with this contract namespace (also `$schema`'s
    /// `targetNamespace`).
    Contract(String),
}

/// Which single-resource selector forms are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeySyntax {
    /// Only `AR_Customer(01;ABC)` (what Sage 100 clients use). A quoted selector is 400
    /// `BadUrlSyntax`. Entry ids and `Location` use this form.
    #[default]
    Unquoted,
    /// Only `AR_Customer('01;ABC')` (the spec's form). An unquoted selector is read as a where
    /// clause, as the spec says, so it is 400 `BadWhereSyntax`. Ids use this form.
    Quoted,
    /// Both forms; ids use the unquoted one.
    Both,
}

/// The shape of diagnosis bodies (`Content-Type: application/xml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DiagnosisStyle {
    /// `<sdata:diagnoses xmlns:sdata="…"><sdata:diagnosis><sdata:severity>…`.
    #[default]
    Prefixed,
    /// `<diagnosis xmlns="http://schemas.sage.com/sdata/2008/1"><severity>…` (seen from Sage 50).
    Bare,
}

/// How a create of an existing `ARDivisionNo` + `CustomerNo` is refused. The message always
/// contains "already exists".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DuplicateStatus {
    /// 409 Conflict (the SData spec's unique-key conflict).
    #[default]
    Conflict409,
    /// 400 with an `ApplicationDiagnosis` whose message says the record already exists.
    BadRequest400,
}

/// Whether the company has the Sales Order module. Which answer a company without it gives is
/// unconfirmed; [`SalesOrderModule::Absent`] is the SData spec's answer for an unknown kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SalesOrderModule {
    /// `SO_SalesOrderHeader` is listed in `$schema` and served.
    #[default]
    Installed,
    /// Not in `$schema`; a read is 404 `ResourceKindNotFound`.
    Absent,
}

/// The sign credit rows of `AR_OpenInvoice` are sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CreditBalanceSign {
    /// `<Balance>-40.00</Balance>` on a credit memo (as public SQL over the table suggests).
    #[default]
    Negative,
    /// `<Balance>40.00</Balance>`: the sign is carried by `InvoiceType` alone.
    Positive,
}

/// How dates of the panel tables are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SDataDateStyle {
    /// `2024-01-15` (`xs:date`).
    #[default]
    Date,
    /// `2024-01-15T00:00:00` (`xs:dateTime`, no zone).
    DateTime,
}

/// How a blank date of the panel tables is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BlankDate {
    /// `<InvoiceDueDate xsi:nil="true"/>`.
    #[default]
    Nil,
    /// `1753-01-01`, the blank date public ODBC queries over Sage 100 tables filter out.
    Sentinel1753,
}

/// What `AR_Customer.CurrentBalance` holds. Rows store the aged split (`CurrentBalance` the
/// current part, `AgingCategory1..4` the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CustomerBalance {
    /// `CurrentBalance` is only the current (not yet past due) part; `AgingCategory1..4` hold
    /// the aged parts (as public client code shows them: captions "Current", "Over 30 Days"…),
    /// so the customer's balance is their sum.
    #[default]
    Aged,
    /// `CurrentBalance` is the whole balance and the `AgingCategory` columns are not served.
    Total,
}

/// What a `PUT` of an `AR_Customer` does to the columns the payload leaves out (the SData spec
/// makes PUT a partial update; whether Sage 100's provider follows it is \[UNSURE\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PutSemantics {
    /// Only the columns sent change (a PUT with just `PrimaryShipToCode` sets just that).
    #[default]
    Partial,
    /// The payload replaces the record: every column left out becomes null, except the key and
    /// the columns the server maintains (`CurrentBalance`, `AgingCategory1..4`,
    /// `DateEstablished`, `DateUpdated`).
    Replace,
}
