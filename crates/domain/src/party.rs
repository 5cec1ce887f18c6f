//! What ship-to addresses ([`crate::ShipTo`]) and contacts ([`crate::Contact`]) share: the
//! rule of their codes and the parsing of their optional fields.
//!
//! # The code rule
//!
//! A code identifies a ship-to or a contact **within its account** (two accounts may both have
//! a ship-to `MAIN`). It is kept so that both ERPs can take it as it is, never cut:
//!
//! - ASCII letters and digits only, trimmed and upper-cased (Sage compares keys
//!   case-insensitively, so `main` and `MAIN` are one code);
//! - a ship-to code is 1–4 characters: Sage 100's `ShipToCode` is 4, Sage 300's ship-to
//!   location key is 6, so 4 fits both;
//! - a contact code is 1–10 characters: Sage 100's `ContactCode` is 10 (the reference has no
//!   verified length for Sage 300 contacts; 10 is what Sage 100 takes).

use std::fmt;

/// Why a ship-to or contact code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartyCodeError {
    /// Blank after trimming.
    #[error("is required and must not be empty")]
    Empty,
    /// Longer than allowed.
    #[error("must be at most {max} characters (got {actual})")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length seen, in characters.
        actual: usize,
    },
    /// A character other than an ASCII letter or digit.
    #[error("`{0}` may contain only letters A-Z and digits 0-9")]
    BadCharacter(String),
}
crate::error_class::one_code!(PartyCodeError => "invalid_input", Invalid);

/// Trims, checks and upper-cases a code of at most `max` characters.
pub(crate) fn parse_code(raw: &str, max: usize) -> Result<String, PartyCodeError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(PartyCodeError::Empty);
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(PartyCodeError::BadCharacter(
            value.chars().filter(|c| !c.is_control()).collect(),
        ));
    }
    let actual = value.chars().count();
    if actual > max {
        return Err(PartyCodeError::TooLong { max, actual });
    }
    Ok(value.to_ascii_uppercase())
}

/// A kind's code type (`ShipToCode`, `ContactCode`): a newtype over the text
/// [`parse_code`] accepts, with its `MAX_LEN`, `parse`, `as_str` and `Display`.
macro_rules! party_code {
    ($(#[$doc:meta])* pub struct $name:ident; $(#[$max_doc:meta])* const MAX_LEN = $max:literal;) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            $(#[$max_doc])*
            pub const MAX_LEN: usize = $max;

            /// Trims, upper-cases and checks `raw`.
            ///
            /// # Errors
            /// [`PartyCodeError`](crate::PartyCodeError) naming the rule.
            pub fn parse(raw: &str) -> Result<Self, $crate::party::PartyCodeError> {
                $crate::party::parse_code(raw, Self::MAX_LEN).map(Self)
            }

            /// The code.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use party_code;

/// A kind's stored entity (`ShipTo`, `Contact`): its account and its `$details`, whose
/// `code` and `primary` fields it reads.
macro_rules! party_entity {
    ($(#[$doc:meta])* pub struct $name:ident($details:ident, $code:ident, $noun:literal);) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            account: $crate::ids::AccountId,
            details: $details,
        }

        impl $name {
            #[doc = concat!("The ", $noun, " `details` of `account`.")]
            pub fn new(account: $crate::ids::AccountId, details: $details) -> Self {
                Self { account, details }
            }

            /// The account it belongs to.
            pub fn account(&self) -> $crate::ids::AccountId {
                self.account
            }
            /// Its data.
            pub fn details(&self) -> &$details {
                &self.details
            }
            /// Its code (unique within the account).
            pub fn code(&self) -> &$code {
                &self.details.code
            }
            #[doc = concat!("Whether it is the account's primary ", $noun, ".")]
            pub fn is_primary(&self) -> bool {
                self.details.primary.is_primary()
            }
        }
    };
}
pub(crate) use party_entity;

/// Parses an optional field: blank is `None`.
pub(crate) fn optional<T, E>(
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, E> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => parse(value).map(Some),
    }
}

/// Whether a ship-to or contact is its account's primary one. At most one of each per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Primary {
    /// The account's primary (default) one.
    Yes,
    /// Not the primary.
    #[default]
    No,
}

impl Primary {
    /// Whether this is the primary.
    pub fn is_primary(self) -> bool {
        self == Self::Yes
    }

    /// [`Primary::Yes`] for `true`.
    pub fn from_flag(primary: bool) -> Self {
        if primary { Self::Yes } else { Self::No }
    }
}

impl fmt::Display for Primary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_primary() { "yes" } else { "no" })
    }
}

/// Which of an account's parties: a ship-to address or a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PartyKind {
    /// A ship-to address ([`crate::ShipTo`]).
    ShipTo,
    /// A contact ([`crate::Contact`]).
    Contact,
}

impl PartyKind {
    /// Both kinds, ship-tos first (the order a promotion sends them in).
    pub const ALL: [Self; 2] = [Self::ShipTo, Self::Contact];

    /// As stored and in JSON: `ship_to`, `contact`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ShipTo => "ship_to",
            Self::Contact => "contact",
        }
    }

    /// Reads [`PartyKind::as_str`]'s spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// For people: `ship-to`, `contact`.
    pub fn label(self) -> &'static str {
        match self {
            Self::ShipTo => "ship-to",
            Self::Contact => "contact",
        }
    }
}

impl fmt::Display for PartyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One party of an account by its code: the kind travels with the code, so a ship-to code
/// is never taken for a contact's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartyCode {
    /// A ship-to's code.
    ShipTo(crate::ShipToCode),
    /// A contact's code.
    Contact(crate::ContactCode),
}

impl PartyCode {
    /// Parses `raw` as a code of `kind`.
    ///
    /// # Errors
    /// [`PartyCodeError`] naming the rule.
    pub fn parse(kind: PartyKind, raw: &str) -> Result<Self, PartyCodeError> {
        match kind {
            PartyKind::ShipTo => crate::ShipToCode::parse(raw).map(Self::ShipTo),
            PartyKind::Contact => crate::ContactCode::parse(raw).map(Self::Contact),
        }
    }

    /// The kind.
    pub fn kind(&self) -> PartyKind {
        match self {
            Self::ShipTo(_) => PartyKind::ShipTo,
            Self::Contact(_) => PartyKind::Contact,
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ShipTo(code) => code.as_str(),
            Self::Contact(code) => code.as_str(),
        }
    }
}

impl fmt::Display for PartyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_trimmed_upper_cased_letters_and_digits() {
        assert_eq!(parse_code(" wh1 ", 4).as_deref(), Ok("WH1"));
        assert_eq!(parse_code("", 4), Err(PartyCodeError::Empty));
        assert_eq!(parse_code("  ", 4), Err(PartyCodeError::Empty));
        assert_eq!(
            parse_code("ABCDE", 4),
            Err(PartyCodeError::TooLong { max: 4, actual: 5 })
        );
        assert_eq!(
            parse_code("A-1", 4),
            Err(PartyCodeError::BadCharacter("A-1".into()))
        );
        assert!(matches!(
            parse_code("É1", 4),
            Err(PartyCodeError::BadCharacter(_))
        ));
    }

    #[test]
    fn kinds_round_trip_and_codes_keep_their_kind() {
        for kind in PartyKind::ALL {
            assert_eq!(PartyKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PartyKind::parse("ship-to"), None);
        let ship_to = PartyCode::parse(PartyKind::ShipTo, " wh1").unwrap();
        assert_eq!(
            (ship_to.kind(), ship_to.as_str()),
            (PartyKind::ShipTo, "WH1")
        );
        assert_eq!(ship_to.to_string(), "ship-to WH1");
        assert!(PartyCode::parse(PartyKind::ShipTo, "ABCDE").is_err());
        assert!(PartyCode::parse(PartyKind::Contact, "ABCDE").is_ok());
    }

    #[test]
    fn primary_flags() {
        assert!(Primary::from_flag(true).is_primary());
        assert!(!Primary::default().is_primary());
        assert_eq!(Primary::Yes.to_string(), "yes");
    }
}
