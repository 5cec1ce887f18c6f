//! The entity shapes the simulator serves: property names in `$metadata` order with their EDM
//! types, the defaults a new record gets, and the resources with their keys and verbs.
//!
//! ARCustomers and ARCustomerGroups follow the AR `$metadata` from Sage's SDK
//! (`reference/sage300/AR-metadata-2016.edmx`), with the names newer builds spell in full
//! (`SageBillingAndPaymentCustomer`, `CustomerGroupOptionalFieldValues`). The other entities carry
//! the properties the reference lists.

use serde_json::{Map, Value, json};

use super::config::TermsKey;

/// The EDM type of a property, as far as the simulator cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// `Edm.String` (enums are strings too).
    Str,
    /// `Edm.Decimal`: a JSON number.
    Dec,
    /// `Edm.Int32`/`Edm.Int64`.
    Int,
    /// `Edm.DateTime`/`DateTimeOffset`: a string or null.
    Date,
    /// `Edm.Boolean`.
    Bool,
    /// A collection of complex values (detail rows).
    Coll,
}

use Ty::{Bool, Coll, Date, Dec, Int, Str};

/// The resources the Sage 300 flavour serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Sage300Resource {
    /// `AR/ARCustomers`, key `CustomerNumber`; GET and POST.
    Customers,
    /// `AR/ARCustomerGroups`, key `GroupCode`; GET.
    CustomerGroups,
    /// `AR/ARTerms`, key `TermsCode` or `TermsCodeKey` ([`TermsKey`]); GET.
    Terms,
    /// `TX/TXTaxGroups`, keys `TaxGroupKey` + `TransactionType`; GET only (as on a real server).
    TaxGroups,
    /// `CS/CSCurrencyCodes`, key `CurrencyCodeKey`; GET.
    CurrencyCodes,
    /// `AR/ARPostedDocuments`, keys `CustomerNumber` + `DocumentNumber` (the 2016 `$metadata`'s
    /// `PostedDocument`); GET.
    PostedDocuments,
    /// `OE/OEOrders`, key `OrderNumber` \[UNSURE: names not in public `$metadata`\]; GET;
    /// absent (404 `ResourceNotFound`) when [`Sage300Config::order_entry`](crate::Sage300Config::order_entry) is off.
    Orders,
    /// `AR/ARShipToLocations`, keys `CustomerNumber` + `ShipToLocationKey` (the 2016
    /// `$metadata`'s `ShipToLocation`); GET and POST. `PrimaryShipToIndicator` is computed from
    /// the customer's `PrimaryShipToLocation`.
    ShipToLocations,
    /// `MT/MTContacts`, keys `CustomerNumber` + `ContactCode` \[UNSURE: 2020.1 and later, no
    /// public `$metadata`\]; GET and POST; absent (404 `ResourceNotFound`) unless
    /// [`Sage300Config::contacts`](crate::Sage300Config::contacts) is on.
    Contacts,
}

impl Sage300Resource {
    /// Every resource.
    pub const ALL: [Sage300Resource; 9] = [
        Sage300Resource::Customers,
        Sage300Resource::CustomerGroups,
        Sage300Resource::Terms,
        Sage300Resource::TaxGroups,
        Sage300Resource::CurrencyCodes,
        Sage300Resource::PostedDocuments,
        Sage300Resource::Orders,
        Sage300Resource::ShipToLocations,
        Sage300Resource::Contacts,
    ];

    /// The module segment (`AR`, `TX`, `CS`).
    pub fn module(self) -> &'static str {
        match self {
            Sage300Resource::Customers
            | Sage300Resource::CustomerGroups
            | Sage300Resource::Terms
            | Sage300Resource::PostedDocuments
            | Sage300Resource::ShipToLocations => "AR",
            Sage300Resource::Orders => "OE",
            Sage300Resource::Contacts => "MT",
            Sage300Resource::TaxGroups => "TX",
            Sage300Resource::CurrencyCodes => "CS",
        }
    }

    /// The entity-set name in the URL (`ARCustomers`).
    pub fn name(self) -> &'static str {
        match self {
            Sage300Resource::Customers => "ARCustomers",
            Sage300Resource::CustomerGroups => "ARCustomerGroups",
            Sage300Resource::Terms => "ARTerms",
            Sage300Resource::TaxGroups => "TXTaxGroups",
            Sage300Resource::CurrencyCodes => "CSCurrencyCodes",
            Sage300Resource::PostedDocuments => "ARPostedDocuments",
            Sage300Resource::Orders => "OEOrders",
            Sage300Resource::ShipToLocations => "ARShipToLocations",
            Sage300Resource::Contacts => "MTContacts",
        }
    }

    /// Looks a resource up by module and name (exact, case-sensitive like OData routing).
    pub fn find(module: &str, name: &str) -> Option<Sage300Resource> {
        Self::ALL
            .into_iter()
            .find(|r| r.module() == module && r.name() == name)
    }

    /// The key properties, in order.
    pub fn keys(self, terms_key: TermsKey) -> &'static [&'static str] {
        match self {
            Sage300Resource::Customers => &["CustomerNumber"],
            Sage300Resource::CustomerGroups => &["GroupCode"],
            Sage300Resource::Terms => match terms_key {
                TermsKey::TermsCode => &["TermsCode"],
                TermsKey::TermsCodeKey => &["TermsCodeKey"],
            },
            Sage300Resource::TaxGroups => &["TaxGroupKey", "TransactionType"],
            Sage300Resource::CurrencyCodes => &["CurrencyCodeKey"],
            Sage300Resource::PostedDocuments => &["CustomerNumber", "DocumentNumber"],
            Sage300Resource::Orders => &["OrderNumber"],
            Sage300Resource::ShipToLocations => &["CustomerNumber", "ShipToLocationKey"],
            Sage300Resource::Contacts => &["CustomerNumber", "ContactCode"],
        }
    }

    /// Whether `POST` creates records here (ARCustomers, ARShipToLocations, MTContacts).
    pub fn allows_post(self) -> bool {
        matches!(
            self,
            Sage300Resource::Customers
                | Sage300Resource::ShipToLocations
                | Sage300Resource::Contacts
        )
    }

    /// Whether records here belong to one customer and are created through this resource
    /// (ship-to locations and contacts).
    pub(crate) fn is_customer_part(self) -> bool {
        matches!(
            self,
            Sage300Resource::ShipToLocations | Sage300Resource::Contacts
        )
    }

    /// The longest text a property takes (`None`: not checked), as the reference gives it
    /// (ARCUS for the customer; ARCSP is taken to mirror it \[UNSURE\]; the contact lengths are
    /// a guess \[UNSURE\]).
    pub(crate) fn max_len(self, name: &str) -> Option<usize> {
        let n = match (self, name) {
            (_, "CustomerNumber") => 12,
            (Sage300Resource::ShipToLocations, "ShipToLocationKey") => 6,
            (Sage300Resource::Contacts, "ContactCode") => 12,
            (Sage300Resource::Contacts, "Title") => 60,
            (Sage300Resource::Customers, "ShortName") => 10,
            (Sage300Resource::Customers, "CustomerName") => 60,
            (Sage300Resource::Customers, "PrimaryShipToLocation") => 6,
            (
                Sage300Resource::Customers | Sage300Resource::ShipToLocations,
                "FaxNumber" | "ContactsFax",
            ) => 30,
            (Sage300Resource::ShipToLocations, "Description") => 60,
            (
                Sage300Resource::Customers | Sage300Resource::ShipToLocations,
                "AddressLine1" | "AddressLine2" | "AddressLine3" | "AddressLine4",
            ) => 60,
            (
                Sage300Resource::Customers | Sage300Resource::ShipToLocations,
                "City" | "StateProvince" | "Country" | "ContactsPhone",
            ) => 30,
            (Sage300Resource::Customers | Sage300Resource::ShipToLocations, "ZipPostalCode") => 20,
            (_, "ContactName") => 60,
            (_, "PhoneNumber") => 30,
            (_, "Email" | "ContactsEmail") => 50,
            _ => return None,
        };
        Some(n)
    }

    pub(crate) fn fields(self) -> &'static [(&'static str, Ty)] {
        match self {
            Sage300Resource::Customers => CUSTOMER,
            Sage300Resource::CustomerGroups => GROUP,
            Sage300Resource::Terms => TERMS,
            Sage300Resource::TaxGroups => TAX_GROUP,
            Sage300Resource::CurrencyCodes => CURRENCY,
            Sage300Resource::PostedDocuments => super::panel::POSTED_DOCUMENT,
            Sage300Resource::Orders => super::panel::ORDER,
            Sage300Resource::ShipToLocations => SHIP_TO_LOCATION,
            Sage300Resource::Contacts => CONTACT,
        }
    }

    /// The type of a property, with the terms key renamed per setting.
    pub(crate) fn field_type(self, name: &str, terms_key: TermsKey) -> Option<Ty> {
        let name = match (self, terms_key, name) {
            (Sage300Resource::Terms, TermsKey::TermsCodeKey, "TermsCodeKey") => "TermsCode",
            (Sage300Resource::Terms, TermsKey::TermsCodeKey, "TermsCode") => return None,
            _ => name,
        };
        self.fields()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    /// A record with every property at its default, in `$metadata` order.
    pub(crate) fn template(self, terms_key: TermsKey) -> Map<String, Value> {
        self.fields()
            .iter()
            .map(|(name, ty)| {
                let name = if self == Sage300Resource::Terms
                    && *name == "TermsCode"
                    && terms_key == TermsKey::TermsCodeKey
                {
                    "TermsCodeKey"
                } else {
                    name
                };
                ((*name).to_owned(), default_value(self, name, *ty))
            })
            .collect()
    }

    /// `partial` as stored: the terms key renamed per setting, zone-less dates given a `Z`.
    pub(crate) fn sparse(
        self,
        partial: &Map<String, Value>,
        terms_key: TermsKey,
    ) -> Map<String, Value> {
        self.complete_from(&Map::new(), partial, terms_key)
    }

    /// Fills `partial` out to a full record: `template` order, then any extra properties given.
    pub(crate) fn complete_from(
        self,
        template: &Map<String, Value>,
        partial: &Map<String, Value>,
        terms_key: TermsKey,
    ) -> Map<String, Value> {
        let mut rec = template.clone();
        for (k, v) in partial {
            let k = if self == Sage300Resource::Terms
                && terms_key == TermsKey::TermsCodeKey
                && k == "TermsCode"
            {
                "TermsCodeKey"
            } else {
                k.as_str()
            };
            rec.insert(k.to_owned(), normalise_date(v));
        }
        rec
    }
}

/// A zone-less date-time string gets the canonical `Z`; everything else is kept.
pub(crate) fn normalise_date(v: &Value) -> Value {
    match v {
        Value::String(s) if is_zoneless_datetime(s) => Value::String(format!("{s}Z")),
        other => other.clone(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS` exactly.
pub(crate) fn is_zoneless_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

fn default_value(resource: Sage300Resource, name: &str, ty: Ty) -> Value {
    let enum_default = match (resource, name) {
        (_, "Status") => Some("Active"),
        (_, "OnHold" | "FullyPaid" | "PrimaryShipToIndicator") => Some("No"),
        (_, "PrintStatements") => Some("Yes"),
        (_, "AccountType") => Some("OpenItem"),
        (_, "AllowEditOfCreditLimit") => Some("No"),
        (
            _,
            "CheckCreditLimit"
            | "CheckOverdueAmounts"
            | "AllowPartialShipments"
            | "AllowWebStoreShopping",
        ) => Some("No"),
        (_, "AllowBackorderQuantities") => Some("Yes"),
        (_, "CheckForDuplicatePOs") => Some("None"),
        (_, "CustomerDiscountType") => Some("CustomerType"),
        (_, "DeliveryMethod") => Some("MailEmail"),
        (_, "ProcessCommandCode") => Some("InsertOptionalFields"),
        (_, "Mode") => Some("Insert"),
        (_, "SageBillingAndPaymentCustomer") => Some("No"),
        (_, "UsePaymentSchedule") => Some("No"),
        (_, "CalculationBaseForDiscountwithTax") => Some("IncludeTaxAmount"),
        (_, "DiscountType") => Some("DaysFromInvoiceDate"),
        (_, "DueDateType") => Some("DaysFromInvoiceDate"),
        (Sage300Resource::TaxGroups, "TransactionType") => Some("Sales"),
        (Sage300Resource::TaxGroups, "TaxCalculationMethod") => Some("CalculateTaxByDetail"),
        (Sage300Resource::TaxGroups, "TaxReportingRateType") => Some("SP"),
        (Sage300Resource::CurrencyCodes, "DecimalPlaces") => Some("Num2"),
        (Sage300Resource::CurrencyCodes, "SymbolPosition") => Some("Beforewithspace"),
        (Sage300Resource::CurrencyCodes, "ThousandsSeparator") => Some("Comma"),
        (Sage300Resource::CurrencyCodes, "DecimalSeparator") => Some("Period"),
        (Sage300Resource::CurrencyCodes, "NegativeDisplay") => Some("Brackets"),
        _ => None,
    };
    if let Some(s) = enum_default {
        return json!(s);
    }
    match ty {
        Str => json!(""),
        Dec => json!(0.0),
        Int => json!(0),
        Date => Value::Null,
        Bool => json!(false),
        Coll => json!([]),
    }
}

/// Enum-valued customer properties and the names they accept on create.
pub(crate) const CUSTOMER_ENUMS: &[(&str, &[&str])] = &[
    ("Status", &["Active", "Inactive"]),
    ("OnHold", &["Yes", "No"]),
    ("PrintStatements", &["Yes", "No"]),
    ("AccountType", &["OpenItem", "BalanceForward"]),
];

/// The languages `CheckLanguage` accepts.
pub(crate) const CHECK_LANGUAGES: &[&str] = &["ENG", "FRA", "ESN", "CHT", "CHN"];

/// A `CustomerOptionalFieldValues` row.
pub(crate) const CUSTOMER_OPTIONAL_FIELD: &[(&str, Ty)] = &[
    ("CustomerNumber", Str),
    ("OptionalField", Str),
    ("Value", Str),
    ("CustomerOptionalFieldValueType", Str),
    ("Length", Int),
    ("Decimals", Int),
    ("AllowBlank", Bool),
    ("Validate", Bool),
    ("ValueSet", Str),
    ("TypedValueFieldIndex", Int),
    ("TextValue", Str),
    ("AmountValue", Dec),
    ("NumberValue", Dec),
    ("IntegerValue", Int),
    ("YesNoValue", Bool),
    ("DateValue", Date),
    ("TimeValue", Date),
    ("OptionalFieldDescription", Str),
    ("ValueDescription", Str),
];

/// ARCustomers, `$metadata` order.
pub(crate) const CUSTOMER: &[(&str, Ty)] = &[
    ("CustomerNumber", Str),
    ("ShortName", Str),
    ("GroupCode", Str),
    ("NationalAccount", Str),
    ("Status", Str),
    ("InactiveDate", Date),
    ("DateLastMaintained", Date),
    ("OnHold", Str),
    ("StartDate", Date),
    ("CreditBureauNumber", Str),
    ("CreditBureauRating", Str),
    ("CreditBureauDate", Date),
    ("CustomerName", Str),
    ("AddressLine1", Str),
    ("AddressLine2", Str),
    ("AddressLine3", Str),
    ("AddressLine4", Str),
    ("City", Str),
    ("StateProvince", Str),
    ("ZipPostalCode", Str),
    ("Country", Str),
    ("ContactName", Str),
    ("PhoneNumber", Str),
    ("FaxNumber", Str),
    ("TerritoryCode", Str),
    ("AccountSet", Str),
    ("AutocashProfile", Str),
    ("BillingCycle", Str),
    ("InterestProfile", Str),
    ("CurrencyCode", Str),
    ("PrintStatements", Str),
    ("AccountType", Str),
    ("Terms", Str),
    ("RateType", Str),
    ("TaxGroup", Str),
    ("TaxRegistrationNumber1", Str),
    ("TaxRegistrationNumber2", Str),
    ("TaxRegistrationNumber3", Str),
    ("TaxRegistrationNumber4", Str),
    ("TaxRegistrationNumber5", Str),
    ("TaxClassCode1", Int),
    ("TaxClassCode2", Int),
    ("TaxClassCode3", Int),
    ("TaxClassCode4", Int),
    ("TaxClassCode5", Int),
    ("CreditLimitCustomerCurrency", Dec),
    ("BalanceDueInCustomerCurrency", Dec),
    ("BalanceDueInFunctionalCurrency", Dec),
    ("DateOfLastStatement", Date),
    ("LastStatementTotalCustomerCurrency", Dec),
    ("DateOfLastBalanceForwardStatement", Date),
    ("BeginningBalanceOnLastStatement", Dec),
    ("DateOfLastRevaluation", Date),
    ("LastRevaluationBalance", Dec),
    ("NumberOfOpenDocuments", Dec),
    ("NumberOfPaidInvoices", Dec),
    ("NumberOfDaysToPay", Dec),
    ("DateOfLargestInvoice", Date),
    ("DateOfHighestBalance", Date),
    ("DateOfLargestInvoiceLastYear", Date),
    ("DateOfHighestBalanceLastYear", Date),
    ("DateOfLastActivity", Date),
    ("DateOfLastInvoice", Date),
    ("DateOfLastCreditNote", Date),
    ("DateOfLastDebitNote", Date),
    ("DateOfLastReceipt", Date),
    ("DateOfLastDiscount", Date),
    ("DateOfLastAdjustment", Date),
    ("DateOfLastWriteOff", Date),
    ("DateOfLastReturnedCheck", Date),
    ("DateOfLastInterestCharge", Date),
    ("LargestInvoiceNumber", Str),
    ("LargestInvoiceNumberLastYear", Str),
    ("LargestInvoiceCustomerCurrency", Dec),
    ("HighestBalanceCustomerCurrency", Dec),
    ("LargestInvoiceLastYearCustomerCurrency", Dec),
    ("HighBalanceLastYearCustomerCurrency", Dec),
    ("LastInvoiceAmountCustomerCurrency", Dec),
    ("LastCreditNoteAmountCustomerCurrency", Dec),
    ("LastDebitNoteAmountCustomerCurrency", Dec),
    ("LastReceiptCustomerCurrency", Dec),
    ("LastDiscountAmountCustomerCurrency", Dec),
    ("LastAdjustmentAmountCustomerCurrency", Dec),
    ("LastWriteOffAmountCustomerCurrency", Dec),
    ("LastReturnedCheckAmountCustomerCurr", Dec),
    ("LastInterestChargeCustomerCurrency", Dec),
    ("LargestInvoiceFunctionalCurrency", Dec),
    ("HighestBalanceFunctionalCurrency", Dec),
    ("LargestInvoiceLastYearFunctionalCurrency", Dec),
    ("HighBalanceLastYearFunctionalCurrency", Dec),
    ("LastInvoiceAmountFunctionalCurrency", Dec),
    ("LastCreditNoteAmountFunctionalCurrency", Dec),
    ("LastDebitNoteAmountFunctionalCurrency", Dec),
    ("LastReceiptFunctionalCurrency", Dec),
    ("LastDiscountAmountFunctionalCurrency", Dec),
    ("LastAdjustmentAmountFunctionalCurrency", Dec),
    ("LastWriteOffAmountFunctionalCurrency", Dec),
    ("LastReturnedCheckAmountFunctionalCurr", Dec),
    ("LastInterestChargeFunctionalCurrency", Dec),
    ("Salesperson1", Str),
    ("Salesperson2", Str),
    ("Salesperson3", Str),
    ("Salesperson4", Str),
    ("Salesperson5", Str),
    ("SalesSplitPercentage1", Dec),
    ("SalesSplitPercentage2", Dec),
    ("SalesSplitPercentage3", Dec),
    ("SalesSplitPercentage4", Dec),
    ("SalesSplitPercentage5", Dec),
    ("AverageDaysToPay", Dec),
    ("CustomerPriceList", Str),
    ("CustomerDiscountType", Str),
    ("AmountPastDue", Dec),
    ("ContactsEmail", Str),
    ("Email", Str),
    ("WebSite", Str),
    ("BillingMethod", Int),
    ("PaymentCode", Str),
    ("FreeOnBoard", Str),
    ("ShipViaCode", Str),
    ("ShipViaDescription", Str),
    ("DeliveryMethod", Str),
    ("PrimaryShipToLocation", Str),
    ("ContactsPhone", Str),
    ("ContactsFax", Str),
    ("AllowPartialShipments", Str),
    ("AllowWebStoreShopping", Str),
    ("PercentRetained", Dec),
    ("DaysRetained", Int),
    ("RetainageTermsCode", Str),
    ("AmountRetainedCustomerCurrency", Dec),
    ("AmountRetainedFunctionalCurrency", Dec),
    ("NumberOfOptionalFields", Int),
    ("ProcessCommandCode", Str),
    ("NumberOfOpenPrepayments", Dec),
    ("AmountPrepaidCustomerCurrency", Dec),
    ("AmountPrepaidFunctionalCurrency", Dec),
    ("DateOfLastRefund", Date),
    ("LastRefundAmountCustomerCurrency", Dec),
    ("LastRefundAmountFunctionalCurrency", Dec),
    ("CheckLanguage", Str),
    ("NextClientUniqueID", Int),
    ("InventoryLocation", Str),
    ("CheckCreditLimit", Str),
    ("CheckOverdueAmounts", Str),
    ("DaysOverdue", Int),
    ("AmountOverdue", Dec),
    ("AllowBackorderQuantities", Str),
    ("CheckForDuplicatePOs", Str),
    ("SuppressIntegration", Bool),
    ("ARVersion", Str),
    ("Database", Str),
    ("Mode", Str),
    ("SageBillingAndPaymentCustomer", Str),
    ("BusinessRegistrationNumber", Str),
    ("CustomerOptionalFieldValues", Coll),
];

/// ARCustomerGroups, `$metadata` order.
pub(crate) const GROUP: &[(&str, Ty)] = &[
    ("GroupCode", Str),
    ("Description", Str),
    ("Status", Str),
    ("InactiveDate", Date),
    ("DateLastMaintained", Date),
    ("AccountSet", Str),
    ("AutocashProfile", Str),
    ("BillingCycle", Str),
    ("InterestProfile", Str),
    ("AccountType", Str),
    ("Terms", Str),
    ("RateType", Str),
    ("AllowEditOfCreditLimit", Str),
    ("CreditLimit1Currency", Str),
    ("CreditLimit1Amount", Dec),
    ("CreditLimit2Currency", Str),
    ("CreditLimit2Amount", Dec),
    ("CreditLimit3Currency", Str),
    ("CreditLimit3Amount", Dec),
    ("CreditLimit4Currency", Str),
    ("CreditLimit4Amount", Dec),
    ("CreditLimit5Currency", Str),
    ("CreditLimit5Amount", Dec),
    ("NumberOfOptionalFields", Int),
    ("ProcessCommandCode", Str),
    ("TaxGroup", Str),
    ("TaxClassCode1", Int),
    ("TaxClassCode2", Int),
    ("TaxClassCode3", Int),
    ("TaxClassCode4", Int),
    ("TaxClassCode5", Int),
    ("Salesperson1", Str),
    ("Salesperson2", Str),
    ("Salesperson3", Str),
    ("Salesperson4", Str),
    ("Salesperson5", Str),
    ("SalesSplitPercentage1", Dec),
    ("SalesSplitPercentage2", Dec),
    ("SalesSplitPercentage3", Dec),
    ("SalesSplitPercentage4", Dec),
    ("SalesSplitPercentage5", Dec),
    ("PrintStatements", Str),
    ("CheckCreditLimit", Str),
    ("CheckOverdueAmounts", Str),
    ("DaysOverdue", Int),
    ("AmountOverdue1", Dec),
    ("AmountOverdue2", Dec),
    ("AmountOverdue3", Dec),
    ("AmountOverdue4", Dec),
    ("AmountOverdue5", Dec),
    ("CustomerGroupOptionalFieldValues", Coll),
];

/// ARTerms (the 2019+ sample payload's properties).
pub(crate) const TERMS: &[(&str, Ty)] = &[
    ("TermsCode", Str),
    ("Description", Str),
    ("Status", Str),
    ("InactiveDate", Date),
    ("DateLastMaintained", Date),
    ("UsePaymentSchedule", Str),
    ("CalculationBaseForDiscountwithTax", Str),
    ("DiscountType", Str),
    ("DueDateType", Str),
    ("NumberOfPayments", Dec),
    ("TotalPercentDue", Dec),
    ("TermsPaymentSchedules", Coll),
];

/// TXTaxGroups (as `omniboost/go-sage300` reads them).
pub(crate) const TAX_GROUP: &[(&str, Ty)] = &[
    ("TaxGroupKey", Str),
    ("TransactionType", Str),
    ("Description", Str),
    ("TaxReportingCurrency", Str),
    ("TaxAuthority1", Str),
    ("Taxable1", Bool),
    ("Surtax1", Bool),
    ("SurtaxOnAuthority1", Str),
    ("TaxAuthority2", Str),
    ("Taxable2", Bool),
    ("Surtax2", Bool),
    ("SurtaxOnAuthority2", Str),
    ("TaxAuthority3", Str),
    ("Taxable3", Bool),
    ("Surtax3", Bool),
    ("SurtaxOnAuthority3", Str),
    ("TaxAuthority4", Str),
    ("Taxable4", Bool),
    ("Surtax4", Bool),
    ("SurtaxOnAuthority4", Str),
    ("TaxAuthority5", Str),
    ("Taxable5", Bool),
    ("Surtax5", Bool),
    ("SurtaxOnAuthority5", Str),
    ("TaxCalculationMethod", Str),
    ("LastMaintained", Date),
    ("TaxReportingRateType", Str),
];

/// CSCurrencyCodes (sample `CS/CSCurrencyCodes.txt`).
pub(crate) const CURRENCY: &[(&str, Ty)] = &[
    ("CurrencyCodeKey", Str),
    ("Description", Str),
    ("Symbol", Str),
    ("DecimalPlaces", Str),
    ("SymbolPosition", Str),
    ("ThousandsSeparator", Str),
    ("DecimalSeparator", Str),
    ("NegativeDisplay", Str),
];

/// ARShipToLocations, `$metadata` order (the 2016 AR `$metadata`'s `ShipToLocation`).
pub(crate) const SHIP_TO_LOCATION: &[(&str, Ty)] = &[
    ("CustomerNumber", Str),
    ("ShipToLocationKey", Str),
    ("Status", Str),
    ("InactiveDate", Date),
    ("DateLastMaintained", Date),
    ("Description", Str),
    ("AddressLine1", Str),
    ("AddressLine2", Str),
    ("AddressLine3", Str),
    ("AddressLine4", Str),
    ("City", Str),
    ("StateProvince", Str),
    ("ZipPostalCode", Str),
    ("Country", Str),
    ("ContactName", Str),
    ("PhoneNumber", Str),
    ("FaxNumber", Str),
    ("TerritoryCode", Str),
    ("TaxGroup", Str),
    ("TaxRegistrationNumber1", Str),
    ("TaxRegistrationNumber2", Str),
    ("TaxRegistrationNumber3", Str),
    ("TaxRegistrationNumber4", Str),
    ("TaxRegistrationNumber5", Str),
    ("TaxClassCode1", Int),
    ("TaxClassCode2", Int),
    ("TaxClassCode3", Int),
    ("TaxClassCode4", Int),
    ("TaxClassCode5", Int),
    ("SpecialInstructions", Str),
    ("Salesperson1", Str),
    ("Salesperson2", Str),
    ("Salesperson3", Str),
    ("Salesperson4", Str),
    ("Salesperson5", Str),
    ("SalesSplitPercentage1", Dec),
    ("SalesSplitPercentage2", Dec),
    ("SalesSplitPercentage3", Dec),
    ("SalesSplitPercentage4", Dec),
    ("SalesSplitPercentage5", Dec),
    ("CustomerPriceList", Str),
    ("FreeOnBoard", Str),
    ("ShipViaCode", Str),
    ("ShipViaDescription", Str),
    ("PrimaryShipToIndicator", Str),
    ("Email", Str),
    ("ContactsPhone", Str),
    ("ContactsFax", Str),
    ("ContactsEmail", Str),
    ("NumberOfOptionalFields", Int),
    ("ProcessCommandCode", Str),
    ("InventoryLocation", Str),
    ("SuppressIntegration", Bool),
    ("ARVersion", Str),
    ("Database", Str),
    ("Mode", Str),
    ("ShipToLocationsOptionalField", Coll),
];

/// MTContacts \[UNSURE: every name; no public `$metadata`\].
pub(crate) const CONTACT: &[(&str, Ty)] = &[
    ("CustomerNumber", Str),
    ("ContactCode", Str),
    ("ContactName", Str),
    ("Title", Str),
    ("PhoneNumber", Str),
    ("Email", Str),
];
