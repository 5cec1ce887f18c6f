//! Ship-to addresses: where an account's goods go. [`NewShipTo`] is the input (raw text, as
//! typed or imported); [`ShipToDetails`] is the same data once every rule holds; [`ShipTo`] is
//! the stored entity, which belongs to one account. A ship-to is identified within its account
//! by its [`ShipToCode`] (see the code rule in [`PartyCodeError`](crate::PartyCodeError)'s
//! module: 1–4 letters or digits, so both ERPs take it as it is); an account has at most one
//! primary ship-to.

use crate::account::{Address, AddressInput, Email, Phone};
use crate::field::{Collector, InvalidField, InvalidFields, TextError, required_text};
use crate::party::{Primary, optional, party_code, party_entity};

party_code! {
    /// A ship-to's code: 1–4 ASCII letters or digits, upper-cased; unique within its account.
    pub struct ShipToCode;
    /// The longest code (Sage 100's `ShipToCode` length; Sage 300 allows 6).
    const MAX_LEN = 4;
}

/// A ship-to as typed or imported: raw text, checked by [`NewShipTo::validate`]. Built with
/// [`NewShipTo::new`]; the optional fields are then set on the value (more may be added).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewShipTo {
    /// Code (required, see [`ShipToCode`]).
    pub code: String,
    /// Name of the location (required, 1–60).
    pub name: String,
    /// Its address (required).
    pub address: AddressInput,
    /// Telephone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Whether it is the account's primary ship-to.
    pub primary: bool,
}

impl NewShipTo {
    /// A ship-to with its required parts and nothing else (not primary).
    pub fn new(code: impl Into<String>, name: impl Into<String>, address: AddressInput) -> Self {
        Self {
            code: code.into(),
            name: name.into(),
            address,
            ..Self::default()
        }
    }

    /// Checks every field and reports **all** refusals at once. Field names: `code`, `name`,
    /// `line1` … `country` (the address's own names), `phone`, `email`. Blank optional fields
    /// count as absent.
    ///
    /// ```
    /// use crm2sage_domain::{AddressInput, NewShipTo};
    ///
    /// let mut input = NewShipTo::new("TOO-LONG", "", AddressInput::new("1 Dock Rd", "", "CA"));
    /// input.email = Some("nobody".into());
    /// let err = input.validate().unwrap_err();
    /// assert!(err.contains("code") && err.contains("name") && err.contains("city"));
    /// assert!(err.contains("email"));
    /// ```
    ///
    /// # Errors
    /// [`InvalidFields`] listing each refused field.
    pub fn validate(&self) -> Result<ShipToDetails, InvalidFields> {
        let mut c = Collector::default();
        let code = c.take("code", ShipToCode::parse(&self.code));
        let name = c.take("name", required_text(&self.name, ShipToDetails::NAME_MAX));
        let address = match Address::parse(&self.address) {
            Ok(address) => Some(address),
            Err(fields) => {
                for field in fields.0 {
                    c.push(field);
                }
                None
            }
        };
        let phone = c.take("phone", optional(self.phone.as_deref(), Phone::parse));
        let email = c.take("email", optional(self.email.as_deref(), Email::parse));
        c.finish()?;
        match (code, name, address, phone, email) {
            (Some(code), Some(name), Some(address), Some(phone), Some(email)) => {
                Ok(ShipToDetails {
                    code,
                    name,
                    address,
                    phone,
                    email,
                    primary: Primary::from_flag(self.primary),
                })
            }
            // Unreachable: the collector reported every `None`.
            _ => Err(InvalidFields::single(InvalidField::new(
                "ship_to",
                TextError::Empty,
            ))),
        }
    }
}

/// A ship-to's data once every rule holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipToDetails {
    code: ShipToCode,
    name: String,
    address: Address,
    phone: Option<Phone>,
    email: Option<Email>,
    primary: Primary,
}

impl ShipToDetails {
    /// The longest name a ship-to may have (each ERP has its own, smaller limit, checked at
    /// promotion).
    pub const NAME_MAX: usize = 60;

    /// Code.
    pub fn code(&self) -> &ShipToCode {
        &self.code
    }
    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Address.
    pub fn address(&self) -> &Address {
        &self.address
    }
    /// Telephone.
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }
    /// Email.
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }
    /// Whether it is the account's primary ship-to.
    pub fn primary(&self) -> Primary {
        self.primary
    }

    /// Back to input form (stores use this to persist and re-validate on load).
    pub fn to_input(&self) -> NewShipTo {
        NewShipTo {
            code: self.code.0.clone(),
            name: self.name.clone(),
            address: self.address.to_input(),
            phone: self.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: self.email.as_ref().map(|e| e.as_str().to_owned()),
            primary: self.primary.is_primary(),
        }
    }
}

party_entity! {
    /// A stored ship-to: its account and its details.
    pub struct ShipTo(ShipToDetails, ShipToCode, "ship-to");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::party::PartyCodeError;

    fn valid() -> NewShipTo {
        let mut address = AddressInput::new("2 Dock Rd", "Seattle", "US");
        address.state = Some("WA".into());
        let mut input = NewShipTo::new(" wh1 ", "Warehouse 1", address);
        input.phone = Some("+1 206 555 0100".into());
        input.email = Some("dock@example.com".into());
        input.primary = true;
        input
    }

    #[test]
    fn a_valid_ship_to_passes_and_normalises() {
        let details = valid().validate().unwrap();
        assert_eq!(details.code().as_str(), "WH1");
        assert_eq!(details.name(), "Warehouse 1");
        assert_eq!(details.address().country().alpha3(), "USA");
        assert_eq!(details.primary(), Primary::Yes);
        assert_eq!(details.to_input().validate().unwrap(), details);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let input = NewShipTo {
            code: "WH-12".into(),
            name: "n".repeat(61),
            address: AddressInput::new("", "", "ZZ"),
            phone: Some("call me".into()),
            email: Some("a@b".into()),
            primary: false,
        };
        let err = input.validate().unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(InvalidField::field).collect();
        assert_eq!(
            fields,
            ["code", "name", "line1", "city", "country", "phone", "email"]
        );
    }

    #[test]
    fn blank_optional_fields_are_absent() {
        let mut input = valid();
        input.phone = Some("  ".into());
        input.email = None;
        let details = input.validate().unwrap();
        assert!(details.phone().is_none() && details.email().is_none());
    }

    #[test]
    fn codes_are_1_to_4() {
        assert!(ShipToCode::parse("ABCD").is_ok());
        assert_eq!(
            ShipToCode::parse("ABCDE"),
            Err(PartyCodeError::TooLong { max: 4, actual: 5 })
        );
        assert_eq!(ShipToCode::parse("main"), ShipToCode::parse("MAIN"));
    }
}
