//! Property-based suites over the domain's rules: customer-number normalisation, account
//! validation and the prerequisite table.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;

use crm2sage_domain::{
    AddressInput, CustomerNo, ErpKind, KindRequirement, NewAccount, ReferenceKind,
    missing_prerequisites, prerequisite_table,
};
use crm2sage_tests::valid_account;
use proptest::prelude::*;

fn erp_kind() -> impl Strategy<Value = ErpKind> {
    prop_oneof![Just(ErpKind::Sage300), Just(ErpKind::Sage100)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text at all: parsing never panics, and what it accepts is normalised for good.
    #[test]
    fn customer_numbers_are_idempotent_for_arbitrary_unicode(erp in erp_kind(), raw in any::<String>()) {
        if let Ok(no) = CustomerNo::parse(erp, &raw) {
            let again = CustomerNo::parse(erp, no.as_str());
            prop_assert_eq!(again.as_ref(), Ok(&no), "re-parse of {:?}", no.as_str());
            prop_assert_eq!(no.as_str().trim(), no.as_str());
            prop_assert!(!no.as_str().is_empty());
        }
    }

    /// Plausible customer numbers (letters, digits, symbols, padding): the output re-parses to
    /// itself and respects each ERP's length and alphabet.
    #[test]
    fn customer_numbers_reparse_to_themselves(raw in "[ ]{0,2}[A-Za-z0-9_'./-]{1,24}[ ]{0,2}") {
        if let Ok(no) = CustomerNo::parse_sage300(&raw) {
            prop_assert_eq!(no.as_str(), raw.trim().to_uppercase());
            prop_assert!(no.as_str().chars().count() <= 12);
            prop_assert_eq!(CustomerNo::parse_sage300(no.as_str()), Ok(no.clone()));
        } else {
            prop_assert!(raw.trim().chars().count() > 12);
        }
        if let Ok(no) = CustomerNo::parse_sage100(&raw) {
            prop_assert!(no.as_str().bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            prop_assert!(no.as_str().len() <= 20);
            prop_assert_eq!(CustomerNo::parse_sage100(no.as_str()), Ok(no.clone()));
        } else {
            let t = raw.trim();
            prop_assert!(t.len() > 20 || !t.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }

    /// Sage 100 pads all-digit numbers of up to 7 digits to exactly 7, and leaves the rest.
    #[test]
    fn sage100_zero_pads_short_numbers(digits in "[0-9]{1,20}", letters in "[A-Za-z][A-Za-z0-9]{0,6}") {
        let no = CustomerNo::parse_sage100(&digits).unwrap();
        if digits.len() <= 7 {
            prop_assert_eq!(no.as_str().len(), 7);
            prop_assert_eq!(no.as_str().trim_start_matches('0'), digits.trim_start_matches('0'));
        } else {
            prop_assert_eq!(no.as_str(), digits.as_str());
        }
        let no = CustomerNo::parse_sage100(&letters).unwrap();
        prop_assert_eq!(no.as_str(), letters.to_ascii_uppercase());
    }
}

type Breakage = (&'static str, fn(&mut NewAccount));

/// Ways to break one field of a valid account, each with the field name the error must carry.
const BREAKAGES: [Breakage; 15] = [
    ("name", |a| a.name = String::new()),
    ("name", |a| a.name = "n".repeat(61)),
    ("billing.line1", |a| a.billing.line1 = " ".into()),
    ("billing.line2", |a| {
        a.billing.line2 = Some("x\u{0}y".into())
    }),
    ("billing.city", |a| a.billing.city = String::new()),
    ("billing.postal_code", |a| {
        a.billing.postal_code = Some("9".repeat(21))
    }),
    ("billing.country", |a| a.billing.country = "XX".into()),
    ("shipping.city", |a| {
        a.shipping = Some(AddressInput::new("1 Dock Rd", "", "US"))
    }),
    ("phone", |a| a.phone = Some("call me".into())),
    ("email", |a| a.email = Some("ap@@example.com".into())),
    ("website", |a| a.website = Some("not a site".into())),
    ("currency", |a| a.currency = Some("EURO".into())),
    ("language", |a| a.language = Some("E\tN".into())),
    ("terms", |a| a.terms = Some("T".repeat(30))),
    ("billing.state", |a| a.billing.state = Some("S".repeat(61))),
];

prop_compose! {
    /// A valid account with varied values in every field.
    fn arb_valid_account()(
        name in "[A-Za-z0-9][A-Za-z0-9 &.,'-]{0,58}[A-Za-z0-9.]",
        line1 in "[0-9]{1,5} [A-Za-z ]{1,40}",
        city in "[A-Za-z][A-Za-z -]{0,28}",
        country in prop::sample::select(vec!["US", "USA", "ca", "CAN", "GB", "de", "FRA", "mx"]),
        postal in proptest::option::of("[A-Z0-9]{3,6}"),
        phone in proptest::option::of("\\+?[0-9]{3}[ -][0-9]{3}[ -][0-9]{4}"),
        email in proptest::option::of("[a-z]{1,10}@[a-z]{1,10}\\.(com|ca|org)"),
        currency in proptest::option::of("[A-Za-z]{3}"),
        terms in proptest::option::of("[A-Z0-9]{1,6}"),
    ) -> NewAccount {
        {
let mut new_account = NewAccount::new(name, {
let mut address = AddressInput::new(line1, city, country);
address.postal_code = postal;
address
});
new_account.phone = phone;
new_account.email = email;
new_account.currency = currency;
new_account.terms = terms;
new_account
}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_accounts_pass(input in arb_valid_account()) {
        let details = input.validate();
        prop_assert!(details.is_ok(), "{:?}", details);
        // What was accepted re-validates to the same thing.
        let details = details.unwrap();
        prop_assert_eq!(details.to_input().validate(), Ok(details.clone()));
    }

    /// Break any subset of fields: exactly those fields are reported, all at once.
    #[test]
    fn every_invalid_field_is_reported(chosen in prop::sample::subsequence((0..BREAKAGES.len()).collect::<Vec<_>>(), 1..=BREAKAGES.len())) {
        let mut input = valid_account();
        let mut expected = BTreeSet::new();
        for i in chosen {
            let (field, break_it) = BREAKAGES[i];
            break_it(&mut input);
            expected.insert(field);
        }
        let err = input.validate().unwrap_err();
        let reported: BTreeSet<&str> = err.fields().iter().map(|f| f.field()).collect();
        prop_assert_eq!(reported, expected);
    }

    /// For any set of synced kinds, exactly the required kinds not synced are missing.
    #[test]
    fn exactly_the_missing_kinds_are_listed(erp in erp_kind(), synced in prop::sample::subsequence(ReferenceKind::ALL.to_vec(), 0..=ReferenceKind::ALL.len())) {
        let synced: BTreeSet<_> = synced.into_iter().collect();
        let missing = missing_prerequisites(erp, &synced);
        for (kind, requirement) in prerequisite_table(erp) {
            let listed = missing.contains(kind);
            let should = *requirement == KindRequirement::Required && !synced.contains(kind);
            prop_assert_eq!(listed, should, "{} for {}", kind, erp);
        }
        for kind in &missing {
            prop_assert!(prerequisite_table(erp).iter().any(|(k, _)| k == kind));
            prop_assert!(!synced.contains(kind));
        }
        let unique: BTreeSet<_> = missing.iter().collect();
        prop_assert_eq!(unique.len(), missing.len());
    }
}

#[test]
fn the_helpers_valid_account_is_valid() {
    assert!(valid_account().validate().is_ok());
}
