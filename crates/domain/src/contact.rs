//! Contacts: the people at an account. [`NewContact`] is the input (raw text, as typed or
//! imported); [`ContactDetails`] is the same data once every rule holds; [`Contact`] is the
//! stored entity, which belongs to one account. A contact is identified within its account by
//! its [`ContactCode`] (1–10 letters or digits: Sage 100's `ContactCode` length); an account
//! has at most one primary contact.

use crate::account::{Email, Phone};
use crate::field::{
    Collector, InvalidField, InvalidFields, TextError, optional_text, required_text,
};
use crate::party::{Primary, optional, party_code, party_entity};

party_code! {
    /// A contact's code: 1–10 ASCII letters or digits, upper-cased; unique within its account.
    pub struct ContactCode;
    /// The longest code (Sage 100's `ContactCode` length).
    const MAX_LEN = 10;
}

/// A contact as typed or imported: raw text, checked by [`NewContact::validate`]. Built with
/// [`NewContact::new`]; the optional fields are then set on the value (more may be added).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewContact {
    /// Code (required, see [`ContactCode`]).
    pub code: String,
    /// The person's name (required, 1–60).
    pub name: String,
    /// Job title (at most 40).
    pub title: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Whether it is the account's primary contact.
    pub primary: bool,
}

impl NewContact {
    /// A contact with its required parts and nothing else (not primary).
    pub fn new(code: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            name: name.into(),
            ..Self::default()
        }
    }

    /// Checks every field and reports **all** refusals at once. Field names: `code`, `name`,
    /// `title`, `phone`, `email`. Blank optional fields count as absent.
    ///
    /// ```
    /// use crm2sage_domain::NewContact;
    ///
    /// let mut input = NewContact::new("", "Ana Ruiz");
    /// input.phone = Some("call me".into());
    /// let err = input.validate().unwrap_err();
    /// assert!(err.contains("code") && err.contains("phone") && !err.contains("name"));
    /// ```
    ///
    /// # Errors
    /// [`InvalidFields`] listing each refused field.
    pub fn validate(&self) -> Result<ContactDetails, InvalidFields> {
        let mut c = Collector::default();
        let code = c.take("code", ContactCode::parse(&self.code));
        let name = c.take("name", required_text(&self.name, ContactDetails::NAME_MAX));
        let title = c.take(
            "title",
            optional_text(self.title.as_deref(), ContactDetails::TITLE_MAX),
        );
        let phone = c.take("phone", optional(self.phone.as_deref(), Phone::parse));
        let email = c.take("email", optional(self.email.as_deref(), Email::parse));
        c.finish()?;
        match (code, name, title, phone, email) {
            (Some(code), Some(name), Some(title), Some(phone), Some(email)) => Ok(ContactDetails {
                code,
                name,
                title,
                phone,
                email,
                primary: Primary::from_flag(self.primary),
            }),
            // Unreachable: the collector reported every `None`.
            _ => Err(InvalidFields::single(InvalidField::new(
                "contact",
                TextError::Empty,
            ))),
        }
    }
}

/// A contact's data once every rule holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDetails {
    code: ContactCode,
    name: String,
    title: Option<String>,
    phone: Option<Phone>,
    email: Option<Email>,
    primary: Primary,
}

impl ContactDetails {
    /// The longest name (Sage 300's customer `ContactName` is 60; each ERP's own limit is
    /// checked at promotion).
    pub const NAME_MAX: usize = 60;
    /// The longest job title.
    pub const TITLE_MAX: usize = 40;

    /// Code.
    pub fn code(&self) -> &ContactCode {
        &self.code
    }
    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Job title.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    /// Telephone.
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }
    /// Email.
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }
    /// Whether it is the account's primary contact.
    pub fn primary(&self) -> Primary {
        self.primary
    }

    /// Back to input form (stores use this to persist and re-validate on load).
    pub fn to_input(&self) -> NewContact {
        NewContact {
            code: self.code.0.clone(),
            name: self.name.clone(),
            title: self.title.clone(),
            phone: self.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: self.email.as_ref().map(|e| e.as_str().to_owned()),
            primary: self.primary.is_primary(),
        }
    }
}

party_entity! {
    /// A stored contact: its account and its details.
    pub struct Contact(ContactDetails, ContactCode, "contact");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_contact_passes_and_normalises() {
        let mut input = NewContact::new("ana1", " Ana Ruiz ");
        input.title = Some("Buyer".into());
        input.phone = Some("604-555-0100".into());
        input.email = Some("ana@example.com".into());
        input.primary = true;
        let details = input.validate().unwrap();
        assert_eq!(details.code().as_str(), "ANA1");
        assert_eq!(details.name(), "Ana Ruiz");
        assert_eq!(details.title(), Some("Buyer"));
        assert_eq!(details.primary(), Primary::Yes);
        assert_eq!(details.to_input().validate().unwrap(), details);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let input = NewContact {
            code: "X".repeat(11),
            name: " ".into(),
            title: Some("t".repeat(41)),
            phone: Some("12".into()),
            email: Some("nobody".into()),
            primary: false,
        };
        let err = input.validate().unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(InvalidField::field).collect();
        assert_eq!(fields, ["code", "name", "title", "phone", "email"]);
        assert!(
            err.to_string().contains("code: must be at most 10"),
            "{err}"
        );
    }
}
