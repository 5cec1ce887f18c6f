//! Helpers shared by the adapter's test binaries: integrations, keys and customers.
#![allow(dead_code, unreachable_pub)] // each binary uses a subset

pub mod tls;

use std::sync::Arc;

use crm2sage_domain::ports::{
    ErpConnector, ErpCustomerKey, ErpGateway, FixedCredentials, NewErpCustomer,
};
use crm2sage_domain::{
    ArDivision, CountryCode, CurrencyCode, CustomerNo, ErpFieldName, ErpKind, HttpPolicy,
    Integration, NewIntegration, ReferenceCode, SalespersonRef, Timestamp,
};
use crm2sage_sage_adapter::{ClientSettings, SageConnector};
use secrecy::SecretString;

/// The optional field our tests configure for the CRM id.
pub const CRM_FIELD: &str = "CRMID";

/// A validated Sage 300 integration on `url` for `company`, user `user`, CRM-id field `CRMID`.
pub fn integration(url: &str, company: &str, user: &str) -> Integration {
    {
        let mut new_integration = NewIntegration::new("s300", "sage300", url, company, user);
        new_integration.password_env = "S300_PASSWORD".into();
        new_integration.crm_id_field = Some(CRM_FIELD.into());
        new_integration.http_policy = HttpPolicy::HttpsOnly;
        new_integration
    }
    .validate(Timestamp::UNIX_EPOCH)
    .expect("valid integration")
}

/// A gateway for `integration` with `password` and `settings`.
pub async fn connect(
    integration: &Integration,
    password: &str,
    settings: ClientSettings,
) -> Arc<dyn ErpGateway> {
    SageConnector::new(settings)
        .connect(
            integration,
            FixedCredentials::shared(SecretString::from(password.to_owned())),
        )
        .await
        .expect("connects")
}

/// A code.
pub fn code(raw: &str) -> ReferenceCode {
    ReferenceCode::parse(raw).expect("code")
}

/// The Sage 300 key of `number`.
pub fn key(number: &str) -> ErpCustomerKey {
    ErpCustomerKey {
        division: None,
        customer_no: CustomerNo::parse_sage300(number).expect("number"),
    }
}

/// A customer the demo data accepts: group RTL, tax group CALIF, terms N30, USD, ENG, the CRM
/// id `acc-1` in `CRMID`.
pub fn customer(number: &str) -> NewErpCustomer {
    NewErpCustomer {
        key: key(number),
        name: "Contract & Sons Wholesale".into(),
        address_lines: [Some("1 Main St".into()), Some("Floor 2".into()), None],
        city: Some("Milwaukee".into()),
        state: Some("WI".into()),
        postal_code: Some("53202".into()),
        country: CountryCode::parse("US").ok(),
        phone: Some("414-555-0100".into()),
        email: Some("ap@contract.example.com".into()),
        website: Some("https://contract.example.com".into()),
        currency: CurrencyCode::parse("USD").ok(),
        language: Some(code("ENG")),
        category: Some(code("RTL")),
        tax: Some(code("CALIF")),
        terms: Some(code("N30")),
        salesperson: None,
        ship_method: None,
        crm_id: Some((
            ErpFieldName::parse(ErpKind::Sage300, CRM_FIELD).expect("field"),
            "acc-1".into(),
        )),
    }
}

/// The UDF column our Sage 100 tests configure for the CRM id.
pub const UDF_FIELD: &str = "UDF_CRM_ID";

/// A validated Sage 100 integration on `url` (the SData root) for `company`, user `user`,
/// default division `01`, CRM-id column `UDF_CRM_ID`, `CustomerName` up to `name_max`.
pub fn sage100_integration(url: &str, company: &str, user: &str, name_max: u32) -> Integration {
    {
        let mut new_integration = NewIntegration::new("s100", "sage100", url, company, user);
        new_integration.password_env = "S100_PASSWORD".into();
        new_integration.division = Some("01".into());
        new_integration.customer_name_max = Some(name_max);
        new_integration.crm_id_field = Some(UDF_FIELD.into());
        new_integration.http_policy = HttpPolicy::HttpsOnly;
        new_integration
    }
    .validate(Timestamp::UNIX_EPOCH)
    .expect("valid integration")
}

/// The Sage 100 key `DD-NUMBER`.
pub fn key100(division: &str, number: &str) -> ErpCustomerKey {
    ErpCustomerKey {
        division: Some(ArDivision::parse(division).expect("division")),
        customer_no: CustomerNo::parse_sage100(number).expect("number"),
    }
}

/// A Sage 100 customer the demo data accepts, in division `01`: terms `01`, tax schedule
/// `WI MIL`, salesperson `01-0100`, customer type `RET`, the CRM id `acc-1` in `UDF_CRM_ID`.
pub fn customer100(number: &str) -> NewErpCustomer {
    NewErpCustomer {
        key: key100("01", number),
        name: "Contract & Sons".into(),
        address_lines: [Some("1 Main St".into()), Some("Floor 2".into()), None],
        city: Some("Milwaukee".into()),
        state: Some("WI".into()),
        postal_code: Some("53202".into()),
        country: CountryCode::parse("US").ok(),
        phone: Some("414-555-0100".into()),
        email: Some("ap@contract.example.com".into()),
        website: Some("https://contract.example.com".into()),
        currency: None,
        language: None,
        category: Some(code("RET")),
        tax: Some(code("WI MIL")),
        terms: Some(code("01")),
        salesperson: Some(SalespersonRef::parse("01-0100").expect("salesperson")),
        ship_method: None,
        crm_id: Some((
            ErpFieldName::parse(ErpKind::Sage100, UDF_FIELD).expect("field"),
            "acc-1".into(),
        )),
    }
}
