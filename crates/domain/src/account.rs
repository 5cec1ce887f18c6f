//! Accounts: the CRM records that get promoted. [`NewAccount`] is the input (raw text, as typed
//! or imported); [`AccountDetails`] is the same data once every rule holds; [`Account`] is the
//! stored entity.

use std::fmt;

use crate::codes::{CurrencyCode, ReferenceCode};
use crate::country::CountryCode;
use crate::field::{
    Collector, InvalidField, InvalidFields, TextError, optional_text, required_text,
};
use crate::ids::AccountId;
use jiff::Timestamp;

/// An account's name: 1–60 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountName(String);

impl AccountName {
    /// The longest name an account may have.
    pub const MAX_LEN: usize = 60;

    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`TextError`] naming the rule.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        required_text(raw, Self::MAX_LEN).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The CRM's own key for an account (its id in the system it was imported from): 1–64
/// characters, trimmed, no control characters; unique across accounts. Batch files refer to
/// imported accounts by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountRef(String);

impl AccountRef {
    /// The longest reference.
    pub const MAX_LEN: usize = 64;

    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`TextError`] naming the rule.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        required_text(raw, Self::MAX_LEN).map(Self)
    }

    /// The reference.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Not an address of the form `local@domain.tld`.
    #[error("`{0}` is not an email address (expected name@example.com)")]
    Malformed(String),
    /// Longer than 254 characters.
    #[error("must be at most 254 characters")]
    TooLong,
}
crate::error_class::one_code!(EmailError => "invalid_input", Invalid);

/// An email address (RFC 5322 syntax, a dotted domain, at most 254 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`EmailError`] naming the rule.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let value = raw.trim();
        if value.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let malformed = || EmailError::Malformed(value.to_owned());
        let parsed: email_address::EmailAddress = value.parse().map_err(|_| malformed())?;
        let domain = parsed.domain();
        let dotted = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
        if !dotted || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed());
        }
        Ok(Self(value.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// A character other than digits, spaces and `+ - ( ) . /`, or `x` for an extension.
    #[error("`{0}` may contain only digits, spaces, + - ( ) . / and x (extension)")]
    BadCharacter(String),
    /// Fewer than 3 digits.
    #[error("`{0}` must contain at least 3 digits")]
    TooFewDigits(String),
    /// Longer than 30 characters.
    #[error("must be at most 30 characters")]
    TooLong,
}
crate::error_class::one_code!(PhoneError => "invalid_input", Invalid);

/// A telephone number as people write them (`+1 (604) 555-0100 x12`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`PhoneError`] naming the rule.
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let value = raw.trim();
        if value.chars().count() > 30 {
            return Err(PhoneError::TooLong);
        }
        let allowed = |c: char| c.is_ascii_digit() || " +-()./xX".contains(c);
        if !value.chars().all(allowed) {
            return Err(PhoneError::BadCharacter(value.to_owned()));
        }
        if value.chars().filter(char::is_ascii_digit).count() < 3 {
            return Err(PhoneError::TooFewDigits(value.to_owned()));
        }
        Ok(Self(value.to_owned()))
    }

    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a website was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebsiteError {
    /// Not a web address.
    #[error("`{0}` is not a web address (expected example.com or https://example.com/...)")]
    Malformed(String),
    /// Longer than 255 characters.
    #[error("must be at most 255 characters")]
    TooLong,
}
crate::error_class::one_code!(WebsiteError => "invalid_input", Invalid);

/// A website, with or without its `http(s)://` scheme, kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Website(String);

impl Website {
    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`WebsiteError`] naming the rule.
    pub fn parse(raw: &str) -> Result<Self, WebsiteError> {
        let value = raw.trim();
        if value.chars().count() > 255 {
            return Err(WebsiteError::TooLong);
        }
        let malformed = || WebsiteError::Malformed(value.to_owned());
        if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed());
        }
        let lower = value.to_ascii_lowercase();
        let with_scheme = if lower.starts_with("http://") || lower.starts_with("https://") {
            value.to_owned()
        } else if value.contains("://") {
            return Err(malformed());
        } else {
            format!("https://{value}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|_| malformed())?;
        match url.host_str() {
            Some(host) if host.contains('.') && !host.ends_with('.') => Ok(Self(value.to_owned())),
            _ => Err(malformed()),
        }
    }

    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An address as typed: raw text, checked by [`Address::parse`]. Built with
/// [`AddressInput::new`]; the optional lines are then set on the value (more may be added).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddressInput {
    /// First line (required).
    pub line1: String,
    /// Second line.
    pub line2: Option<String>,
    /// Third line.
    pub line3: Option<String>,
    /// City (required).
    pub city: String,
    /// State or province.
    pub state: Option<String>,
    /// Postal or ZIP code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 or alpha-3 (required).
    pub country: String,
}

impl AddressInput {
    /// An address with its required parts and nothing else.
    pub fn new(
        line1: impl Into<String>,
        city: impl Into<String>,
        country: impl Into<String>,
    ) -> Self {
        Self {
            line1: line1.into(),
            city: city.into(),
            country: country.into(),
            ..Self::default()
        }
    }
}

/// A validated postal address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    line1: String,
    line2: Option<String>,
    line3: Option<String>,
    city: String,
    state: Option<String>,
    postal_code: Option<String>,
    country: CountryCode,
}

impl Address {
    /// Longest address line kept on an account (each ERP has its own, smaller limit, checked at
    /// promotion).
    pub const LINE_MAX: usize = 100;
    /// Longest city.
    pub const CITY_MAX: usize = 60;
    /// Longest state or province.
    pub const STATE_MAX: usize = 60;
    /// Longest postal code.
    pub const POSTAL_CODE_MAX: usize = 20;

    /// Checks every field of `input`, reporting all refusals at once (field names `line1`,
    /// `line2`, `line3`, `city`, `state`, `postal_code`, `country`).
    ///
    /// # Errors
    /// [`InvalidFields`] listing each refused field.
    pub fn parse(input: &AddressInput) -> Result<Self, InvalidFields> {
        let mut c = Collector::default();
        let line1 = c.take("line1", required_text(&input.line1, Self::LINE_MAX));
        let line2 = c.take(
            "line2",
            optional_text(input.line2.as_deref(), Self::LINE_MAX),
        );
        let line3 = c.take(
            "line3",
            optional_text(input.line3.as_deref(), Self::LINE_MAX),
        );
        let city = c.take("city", required_text(&input.city, Self::CITY_MAX));
        let state = c.take(
            "state",
            optional_text(input.state.as_deref(), Self::STATE_MAX),
        );
        let postal_code = c.take(
            "postal_code",
            optional_text(input.postal_code.as_deref(), Self::POSTAL_CODE_MAX),
        );
        let country = if input.country.trim().is_empty() {
            c.push(InvalidField::new("country", TextError::Empty));
            None
        } else {
            c.take("country", CountryCode::parse(&input.country))
        };
        c.finish()?;
        match (line1, line2, line3, city, state, postal_code, country) {
            (
                Some(line1),
                Some(line2),
                Some(line3),
                Some(city),
                Some(state),
                Some(postal_code),
                Some(country),
            ) => Ok(Self {
                line1,
                line2,
                line3,
                city,
                state,
                postal_code,
                country,
            }),
            // Unreachable: the collector reported every `None`.
            _ => Err(InvalidFields(vec![InvalidField::new(
                "address",
                "is invalid",
            )])),
        }
    }

    /// First line.
    pub fn line1(&self) -> &str {
        &self.line1
    }
    /// Second line.
    pub fn line2(&self) -> Option<&str> {
        self.line2.as_deref()
    }
    /// Third line.
    pub fn line3(&self) -> Option<&str> {
        self.line3.as_deref()
    }
    /// City.
    pub fn city(&self) -> &str {
        &self.city
    }
    /// State or province.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }
    /// Postal code.
    pub fn postal_code(&self) -> Option<&str> {
        self.postal_code.as_deref()
    }
    /// Country.
    pub fn country(&self) -> CountryCode {
        self.country
    }

    /// Back to input form (for editing or re-validation).
    pub fn to_input(&self) -> AddressInput {
        AddressInput {
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            line3: self.line3.clone(),
            city: self.city.clone(),
            state: self.state.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.alpha2().to_owned(),
        }
    }
}

/// A new account as typed or imported: raw text, checked by [`NewAccount::validate`]. Built
/// with [`NewAccount::new`]; the optional fields are then set on the value (more may be added).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewAccount {
    /// Name (required, 1–60).
    pub name: String,
    /// Billing address (required).
    pub billing: AddressInput,
    /// Shipping address.
    pub shipping: Option<AddressInput>,
    /// Telephone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// Language code (checked against synced languages at promotion).
    pub language: Option<String>,
    /// Payment terms code (checked against synced terms at promotion).
    pub terms: Option<String>,
    /// The CRM's own key for the account (unique).
    pub reference: Option<String>,
}

impl NewAccount {
    /// An account with its required parts and nothing else.
    pub fn new(name: impl Into<String>, billing: AddressInput) -> Self {
        Self {
            name: name.into(),
            billing,
            ..Self::default()
        }
    }

    /// Checks every field and reports **all** refusals at once. Field names: `name`,
    /// `billing.line1` … `billing.country`, `shipping.…`, `phone`, `email`, `website`,
    /// `currency`, `language`, `terms`. Blank optional fields count as absent.
    ///
    /// ```
    /// use crm2sage_domain::{AddressInput, NewAccount};
    ///
    /// let mut input = NewAccount::new("", AddressInput::new("1 Main St", "Vancouver", "CA"));
    /// input.email = Some("not-an-email".into());
    /// let err = input.validate().unwrap_err();
    /// assert!(err.contains("name") && err.contains("email"));
    /// ```
    ///
    /// # Errors
    /// [`InvalidFields`] listing each refused field.
    pub fn validate(&self) -> Result<AccountDetails, InvalidFields> {
        let mut c = Collector::default();
        let name = c.take("name", AccountName::parse(&self.name));
        let billing = match Address::parse(&self.billing) {
            Ok(address) => Some(address),
            Err(fields) => {
                c.extend_prefixed("billing", fields);
                None
            }
        };
        let shipping = match self.shipping.as_ref().map(Address::parse) {
            None => Some(None),
            Some(Ok(address)) => Some(Some(address)),
            Some(Err(fields)) => {
                c.extend_prefixed("shipping", fields);
                None
            }
        };
        let phone = c.take("phone", optional(&self.phone, Phone::parse));
        let email = c.take("email", optional(&self.email, Email::parse));
        let website = c.take("website", optional(&self.website, Website::parse));
        let currency = c.take("currency", optional(&self.currency, CurrencyCode::parse));
        let language = c.take("language", optional(&self.language, ReferenceCode::parse));
        let terms = c.take("terms", optional(&self.terms, ReferenceCode::parse));
        let reference = c.take("reference", optional(&self.reference, AccountRef::parse));
        c.finish()?;
        match (
            name, billing, shipping, phone, email, website, currency, language, terms, reference,
        ) {
            (
                Some(name),
                Some(billing),
                Some(shipping),
                Some(phone),
                Some(email),
                Some(website),
                Some(currency),
                Some(language),
                Some(terms),
                Some(reference),
            ) => Ok(AccountDetails {
                name,
                billing,
                shipping,
                phone,
                email,
                website,
                currency,
                language,
                terms,
                reference,
            }),
            // Unreachable: the collector reported every `None`.
            _ => Err(InvalidFields(vec![InvalidField::new(
                "account",
                "is invalid",
            )])),
        }
    }
}

fn optional<T, E>(
    raw: &Option<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, E> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => parse(value).map(Some),
    }
}

/// An account's data once every rule holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDetails {
    name: AccountName,
    billing: Address,
    shipping: Option<Address>,
    phone: Option<Phone>,
    email: Option<Email>,
    website: Option<Website>,
    currency: Option<CurrencyCode>,
    language: Option<ReferenceCode>,
    terms: Option<ReferenceCode>,
    reference: Option<AccountRef>,
}

impl AccountDetails {
    /// Name.
    pub fn name(&self) -> &AccountName {
        &self.name
    }
    /// Billing address.
    pub fn billing(&self) -> &Address {
        &self.billing
    }
    /// Shipping address.
    pub fn shipping(&self) -> Option<&Address> {
        self.shipping.as_ref()
    }
    /// Telephone.
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }
    /// Email.
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }
    /// Website.
    pub fn website(&self) -> Option<&Website> {
        self.website.as_ref()
    }
    /// Currency.
    pub fn currency(&self) -> Option<&CurrencyCode> {
        self.currency.as_ref()
    }
    /// Language code.
    pub fn language(&self) -> Option<&ReferenceCode> {
        self.language.as_ref()
    }
    /// Payment terms code.
    pub fn terms(&self) -> Option<&ReferenceCode> {
        self.terms.as_ref()
    }

    /// The CRM's own key.
    pub fn reference(&self) -> Option<&AccountRef> {
        self.reference.as_ref()
    }

    /// Back to input form (stores use this to persist and re-validate on load).
    pub fn to_input(&self) -> NewAccount {
        NewAccount {
            name: self.name.0.clone(),
            billing: self.billing.to_input(),
            shipping: self.shipping.as_ref().map(Address::to_input),
            phone: self.phone.as_ref().map(|p| p.0.clone()),
            email: self.email.as_ref().map(|e| e.0.clone()),
            website: self.website.as_ref().map(|w| w.0.clone()),
            currency: self.currency.as_ref().map(|c| c.as_str().to_owned()),
            language: self.language.as_ref().map(|l| l.as_str().to_owned()),
            terms: self.terms.as_ref().map(|t| t.as_str().to_owned()),
            reference: self.reference.as_ref().map(|r| r.0.clone()),
        }
    }
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    id: AccountId,
    details: AccountDetails,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl Account {
    /// An account with `details`, created now.
    pub fn new(id: AccountId, details: AccountDetails, now: Timestamp) -> Self {
        Self {
            id,
            details,
            created_at: now,
            updated_at: now,
        }
    }

    /// An account as a store reads it back.
    pub fn restore(
        id: AccountId,
        details: AccountDetails,
        created_at: Timestamp,
        updated_at: Timestamp,
    ) -> Self {
        Self {
            id,
            details,
            created_at,
            updated_at,
        }
    }

    /// The same account with `details` instead, updated at `now` (id and creation time stay).
    pub fn with_details(&self, details: AccountDetails, now: Timestamp) -> Self {
        Self {
            id: self.id,
            details,
            created_at: self.created_at,
            updated_at: now,
        }
    }

    /// Identifier.
    pub fn id(&self) -> AccountId {
        self.id
    }
    /// The account's data.
    pub fn details(&self) -> &AccountDetails {
        &self.details
    }
    /// Created at.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// Last updated at.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> NewAccount {
        NewAccount {
            name: "Barmart Ltd".into(),
            billing: AddressInput {
                line1: "100 Main St".into(),
                city: "Vancouver".into(),
                country: "CA".into(),
                ..Default::default()
            },
            email: Some("ap@barmart.example.com".into()),
            phone: Some("+1 (604) 555-0100 x12".into()),
            website: Some("barmart.example.com".into()),
            currency: Some("cad".into()),
            language: Some("ENG".into()),
            terms: Some("N30".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_account_passes_and_normalises() {
        let details = valid().validate().unwrap();
        assert_eq!(details.name().as_str(), "Barmart Ltd");
        assert_eq!(details.currency().unwrap().as_str(), "CAD");
        assert_eq!(details.billing().country().alpha3(), "CAN");
        assert_eq!(details.to_input().validate().unwrap(), details);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let input = NewAccount {
            name: " ".into(),
            billing: AddressInput::default(),
            shipping: Some(AddressInput {
                line1: "x".into(),
                city: "y".into(),
                country: "ZZ".into(),
                ..Default::default()
            }),
            phone: Some("call me".into()),
            email: Some("a@b".into()),
            website: Some("not a site".into()),
            currency: Some("dollars".into()),
            language: Some("E\nN".into()),
            terms: Some("X".repeat(21)),
            reference: Some("r".repeat(65)),
        };
        let err = input.validate().unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(InvalidField::field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "billing.line1",
                "billing.city",
                "billing.country",
                "shipping.country",
                "phone",
                "email",
                "website",
                "currency",
                "language",
                "terms",
                "reference"
            ]
        );
        assert!(err.to_string().contains("name: is required"), "{err}");
    }

    #[test]
    fn blank_optional_fields_are_absent() {
        let mut input = valid();
        input.email = Some("  ".into());
        input.billing.line2 = Some(String::new());
        let details = input.validate().unwrap();
        assert!(details.email().is_none());
        assert!(details.billing().line2().is_none());
    }

    #[test]
    fn name_length_is_1_to_60() {
        assert!(AccountName::parse(&"n".repeat(60)).is_ok());
        assert_eq!(
            AccountName::parse(&"n".repeat(61)),
            Err(TextError::TooLong {
                max: 60,
                actual: 61
            })
        );
    }

    #[test]
    fn emails_need_a_dotted_domain() {
        assert!(Email::parse("ap@example.com").is_ok());
        for bad in [
            "",
            "ap",
            "ap@",
            "@example.com",
            "ap@example",
            "a p@example.com",
            "ap@example.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_and_websites() {
        assert!(Phone::parse("604-555-0100").is_ok());
        assert!(matches!(
            Phone::parse("12"),
            Err(PhoneError::TooFewDigits(_))
        ));
        assert!(matches!(
            Phone::parse("555-CALL"),
            Err(PhoneError::BadCharacter(_))
        ));
        assert!(Website::parse("https://www.example.com/about").is_ok());
        assert!(Website::parse("www.example.com").is_ok());
        for bad in ["example", "ftp://example.com", "http://", "exa mple.com"] {
            assert!(Website::parse(bad).is_err(), "{bad}");
        }
    }
}
