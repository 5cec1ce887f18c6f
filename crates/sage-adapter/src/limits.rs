//! The field lengths each Sage accepts for the customer fields a promotion writes, under Sage's
//! own property names. The adapter owns them: the domain checks whatever limits the gateway
//! gives it and knows no Sage field.

use crm2sage_domain::ports::PartyFieldLimit;
use crm2sage_domain::{
    CustomerField, FieldLimit, FieldLimits, Integration, IntegrationSettings, PartyKind,
};

fn build(entries: &[(CustomerField, &str, usize)]) -> FieldLimits {
    FieldLimits::new(
        entries
            .iter()
            .map(|(field, erp_name, max)| FieldLimit {
                field: *field,
                erp_name: (*erp_name).to_owned(),
                max: *max,
            })
            .collect(),
    )
}

/// Sage 300 `ARCUS` (AOM): `CustomerName` 60, `AddressLine1..3` 60, `City` 30,
/// `StateProvince` 30, `ZipPostalCode` 20, `PhoneNumber` 30, `Email` 50, `WebSite` 100.
pub fn sage300() -> FieldLimits {
    build(&[
        (CustomerField::Name, "CustomerName", 60),
        (CustomerField::BillingLine(1), "AddressLine1", 60),
        (CustomerField::BillingLine(2), "AddressLine2", 60),
        (CustomerField::BillingLine(3), "AddressLine3", 60),
        (CustomerField::City, "City", 30),
        (CustomerField::State, "StateProvince", 30),
        (CustomerField::PostalCode, "ZipPostalCode", 20),
        (CustomerField::Phone, "PhoneNumber", 30),
        (CustomerField::Email, "Email", 50),
        (CustomerField::Website, "WebSite", 100),
    ])
}

/// Sage 100 `AR_Customer` (4.40–2018 layout): `CustomerName` `customer_name` (30, or 50 from
/// Sage 100 2022), `AddressLine1..3` 30, `City` 20, `State` 2, `ZipCode` 10, `TelephoneNo` 17,
/// `EmailAddress` 250, `URLAddress` 50.
pub fn sage100(customer_name: usize) -> FieldLimits {
    build(&[
        (CustomerField::Name, "CustomerName", customer_name),
        (CustomerField::BillingLine(1), "AddressLine1", 30),
        (CustomerField::BillingLine(2), "AddressLine2", 30),
        (CustomerField::BillingLine(3), "AddressLine3", 30),
        (CustomerField::City, "City", 20),
        (CustomerField::State, "State", 2),
        (CustomerField::PostalCode, "ZipCode", 10),
        (CustomerField::Phone, "TelephoneNo", 17),
        (CustomerField::Email, "EmailAddress", 250),
        (CustomerField::Website, "URLAddress", 50),
    ])
}

/// The limits a promotion into `integration` checks.
pub fn for_integration(integration: &Integration) -> FieldLimits {
    match integration.settings() {
        IntegrationSettings::Sage100 {
            customer_name_max, ..
        } => sage100(customer_name_max.chars()),
        IntegrationSettings::Sage300 => sage300(),
    }
}

fn party(entries: &[(&'static str, &'static str, usize)]) -> Vec<PartyFieldLimit> {
    entries
        .iter()
        .map(|&(input, erp_name, max)| PartyFieldLimit {
            input,
            erp_name,
            max,
        })
        .collect()
}

/// Sage 300 ship-tos (`AR/ARShipToLocations`, ARCSP, which mirrors ARCUS) and contacts.
/// Contacts kept on the customer (`contacts_on_customer`, no `MT/MTContacts`) are bounded by
/// the customer's `ContactName` 60, `ContactsPhone` 30, `ContactsEmail` 50 and have no title;
/// `MT/MTContacts` records (or a server not yet asked) by `ContactName` 60, `Title` 60,
/// `PhoneNumber` 30, `Email` 50 \[UNSURE: no public `$metadata`\].
pub fn sage300_parties(kind: PartyKind, contacts_on_customer: bool) -> Vec<PartyFieldLimit> {
    match kind {
        PartyKind::Contact if contacts_on_customer => party(&[
            ("name", "ContactName", 60),
            ("phone", "ContactsPhone", 30),
            ("email", "ContactsEmail", 50),
        ]),
        PartyKind::Contact => party(&[
            ("name", "ContactName", 60),
            ("title", "Title", 60),
            ("phone", "PhoneNumber", 30),
            ("email", "Email", 50),
        ]),
        _ => party(&[
            ("name", "Description", 60),
            ("line1", "AddressLine1", 60),
            ("line2", "AddressLine2", 60),
            ("line3", "AddressLine3", 60),
            ("city", "City", 30),
            ("state", "StateProvince", 30),
            ("postal_code", "ZipPostalCode", 20),
            ("phone", "PhoneNumber", 30),
            ("email", "Email", 50),
        ]),
    }
}

/// Sage 100 `SO_ShipToAddress` (`ShipToName` 30, `ShipToAddress1..3` 30, `ShipToCity` 20,
/// `ShipToState` 2, `ShipToZipCode` 10, `TelephoneNo` 17, `EmailAddress` 250) and
/// `AR_CustomerContact` (`ContactName` 30, `ContactTitle` 30, `TelephoneNo1` 17,
/// `EmailAddress` 250).
pub fn sage100_parties(kind: PartyKind) -> Vec<PartyFieldLimit> {
    match kind {
        PartyKind::Contact => party(&[
            ("name", "ContactName", 30),
            ("title", "ContactTitle", 30),
            ("phone", "TelephoneNo1", 17),
            ("email", "EmailAddress", 250),
        ]),
        _ => party(&[
            ("name", "ShipToName", 30),
            ("line1", "ShipToAddress1", 30),
            ("line2", "ShipToAddress2", 30),
            ("line3", "ShipToAddress3", 30),
            ("city", "ShipToCity", 20),
            ("state", "ShipToState", 2),
            ("postal_code", "ShipToZipCode", 10),
            ("phone", "TelephoneNo", 17),
            ("email", "EmailAddress", 250),
        ]),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
    use super::*;
    use crm2sage_domain::NewIntegration;
    use jiff::Timestamp;

    #[test]
    fn limits_follow_the_reference() {
        assert_eq!(sage300().max(CustomerField::Name), Some(60));
        assert_eq!(sage300().max(CustomerField::City), Some(30));
        let s100 = sage100(30);
        assert_eq!(
            (
                s100.max(CustomerField::BillingLine(1)),
                s100.max(CustomerField::City),
                s100.max(CustomerField::State)
            ),
            (Some(30), Some(20), Some(2))
        );
        assert_eq!(sage100(50).max(CustomerField::Name), Some(50));
        assert_eq!(
            sage300().get(CustomerField::PostalCode).unwrap().erp_name,
            "ZipPostalCode"
        );
    }

    #[test]
    fn sage100_integrations_default_the_name_to_30_and_follow_the_setting() {
        let mut input = {
            let mut new_integration = NewIntegration::new(
                "s100",
                "sage100",
                "https://erp.example.com/sdata/",
                "ABC",
                "WEBAPI",
            );
            new_integration.password_env = "SAGE_PASSWORD".into();
            new_integration
        };
        let i = input.clone().validate(Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(for_integration(&i).max(CustomerField::Name), Some(30));
        input.customer_name_max = Some(50);
        let i = input.validate(Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(for_integration(&i).max(CustomerField::Name), Some(50));
        input_is_sage300_by_default();
    }

    fn input_is_sage300_by_default() {
        let i = {
            let mut new_integration = NewIntegration::new(
                "s300",
                "sage300",
                "https://erp.example.com/Sage300WebApi/",
                "samltd",
                "WEBAPI",
            );
            new_integration.password_env = "SAGE_PASSWORD".into();
            new_integration
        }
        .validate(Timestamp::UNIX_EPOCH)
        .unwrap();
        assert_eq!(for_integration(&i).max(CustomerField::Name), Some(60));
    }
}
