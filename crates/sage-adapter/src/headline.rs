//! The fields of a Sage customer worth showing first (the spec's list), in the order people read
//! them, each labelled with its Sage property name. The adapter owns the list: the CLI prints the
//! labelled fields in the record's order and knows no Sage field.

use crm2sage_domain::ErpRecord;

/// The headline fields of both Sages, in display order (each ERP has only some of them).
const HEADLINE: &[&str] = &[
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

/// `record` with its headline fields first, in headline order and labelled, then every other
/// field in the ERP's order.
pub(crate) fn arrange(record: ErpRecord) -> ErpRecord {
    let first = HEADLINE
        .iter()
        .filter_map(|name| record.get(name).map(|v| ((*name).to_owned(), v.clone())));
    let rest = record
        .fields()
        .filter(|(name, _)| !HEADLINE.contains(name))
        .map(|(name, v)| (name.to_owned(), v.clone()));
    let mut arranged: ErpRecord = first.chain(rest).collect();
    for name in HEADLINE {
        arranged.set_label(name, *name);
    }
    arranged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm2sage_domain::ErpValue;

    #[test]
    fn headline_fields_come_first_labelled_and_nothing_is_lost() {
        let mut r = ErpRecord::new();
        r.push("OnHold", ErpValue::Bool(false));
        r.push("City", ErpValue::Text("Dublin".into()));
        r.push("CustomerNumber", ErpValue::Text("1200".into()));
        let arranged = arrange(r.clone());
        let names: Vec<_> = arranged.fields().map(|(n, _)| n).collect();
        assert_eq!(names, ["CustomerNumber", "City", "OnHold"]);
        let labels: Vec<_> = arranged.labelled().map(|(l, _, _)| l).collect();
        assert_eq!(labels, ["CustomerNumber", "City"]);
        assert_eq!(arranged.len(), r.len());
    }
}
