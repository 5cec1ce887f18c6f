//! Shared helpers for the cross-crate suites: builders for valid inputs, so each test states
//! only what it changes.

use crm2sage_domain::{AddressInput, NewAccount};

/// A new account that passes every rule.
pub fn valid_account() -> NewAccount {
    NewAccount {
        name: "Barmart Ltd".into(),
        billing: AddressInput {
            line1: "100 Main St".into(),
            line2: Some("Suite 4".into()),
            city: "Vancouver".into(),
            state: Some("BC".into()),
            postal_code: Some("V5K 0A1".into()),
            country: "CA".into(),
            ..Default::default()
        },
        phone: Some("+1 604 555 0100".into()),
        email: Some("ap@barmart.example.com".into()),
        website: Some("https://barmart.example.com".into()),
        currency: Some("CAD".into()),
        language: Some("ENG".into()),
        terms: Some("N30".into()),
        ..Default::default()
    }
}
