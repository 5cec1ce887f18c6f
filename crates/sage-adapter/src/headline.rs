//! The fields of a Sage customer worth showing first (the spec's list), each labelled with its
//! Sage property name. The adapter owns the list: the CLI prints the
//! labelled fields in the record's (the ERP's) order and knows no Sage field.

use crm2sage_domain::ErpRecord;

/// The headline fields of both Sages (each ERP has only some of them).
pub(crate) const HEADLINE: &[&str] = &[
    "CustomerNumber",
    "ARDivisionNo",
    "CustomerNo",
    "CustomerName",
    "AddressLine1",
    "AddressLine2",
    "AddressLine3",
    "City",
    "StateProvince",
    "State",
    "ZipPostalCode",
    "ZipCode",
    "Country",
    "CountryCode",
    "PhoneNumber",
    "TelephoneNo",
    "Email",
    "EmailAddress",
    "WebSite",
    "URLAddress",
    "GroupCode",
    "CustomerType",
    "Terms",
    "TermsCode",
    "TaxGroup",
    "TaxSchedule",
    "CurrencyCode",
    "Status",
    "CustomerStatus",
    "CreditLimitCustomerCurrency",
    "CreditLimit",
    "BalanceDueInCustomerCurrency",
    "CurrentBalance",
    "DateLastMaintained",
    "DateUpdated",
];

/// `record`, in the ERP's order, with its headline fields labelled.
pub(crate) fn arrange(mut record: ErpRecord) -> ErpRecord {
    for name in HEADLINE {
        record.set_label(name, *name);
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm2sage_domain::ErpValue;

    #[test]
    fn headline_fields_are_labelled_and_the_order_is_the_erps() {
        let mut r = ErpRecord::new();
        r.push("OnHold", ErpValue::Bool(false));
        r.push("City", ErpValue::Text("Dublin".into()));
        r.push("CustomerNumber", ErpValue::Text("1200".into()));
        let arranged = arrange(r.clone());
        let names: Vec<_> = arranged.fields().map(|(n, _)| n).collect();
        assert_eq!(names, ["OnHold", "City", "CustomerNumber"]);
        let labels: Vec<_> = arranged.labelled().map(|(l, _, _)| l).collect();
        assert_eq!(labels, ["City", "CustomerNumber"]);
        assert_eq!(arranged.len(), r.len());
    }
}
