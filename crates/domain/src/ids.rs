//! Generated identifiers. Each is a UUID (version 7, so they sort by creation time) behind its
//! own type, so an account id can never be passed where an integration id is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Why a text is not an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{value}` is not a valid {what} id (expected a UUID such as 0195b6a2-7c1e-7d3a-9f00-1c2b3d4e5f60)"
)]
pub struct IdError {
    what: &'static str,
    value: String,
}
crate::error_class::one_code!(IdError => "invalid_input", Invalid);

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, unique identifier (UUID v7: time-ordered).
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the textual form (any UUID spelling; shown hyphenated, lower-case).
            ///
            /// # Errors
            /// [`IdError`] when `raw` is not a UUID.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                Uuid::parse_str(raw.trim()).map(Self).map_err(|_| IdError {
                    what: $what,
                    value: raw.to_owned(),
                })
            }

            /// Wraps a UUID the embedder already holds (e.g. from its own database).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID behind this identifier.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

id_type!(
    /// The generated identifier of an [`Account`](crate::Account).
    AccountId,
    "account"
);
id_type!(
    /// The stable generated identifier of an [`Integration`](crate::Integration); it survives
    /// renames and is the first half of every [`IntegrationKey`](crate::IntegrationKey).
    IntegrationId,
    "integration"
);
id_type!(
    /// The identifier of one promotion attempt.
    PromotionId,
    "promotion"
);
id_type!(
    /// The identifier of one sync run of one reference kind.
    SyncRunId,
    "sync run"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = AccountId::generate();
        assert_eq!(AccountId::parse(&id.to_string()), Ok(id));
        assert_eq!(id.to_string().parse::<AccountId>(), Ok(id));
    }

    #[test]
    fn generated_ids_differ_and_sort_by_creation() {
        let a = IntegrationId::generate();
        let b = IntegrationId::generate();
        assert_ne!(a, b);
        assert!(a < b);
    }

    #[test]
    fn ids_expose_their_uuid_and_wrap_one() {
        let uuid = Uuid::parse_str("0195b6a2-7c1e-7d3a-9f00-1c2b3d4e5f60").expect("a uuid");
        let id = SyncRunId::from_uuid(uuid);
        assert_eq!(id.as_uuid(), &uuid);
        assert_eq!(
            AccountId::from(uuid).to_string(),
            uuid.hyphenated().to_string()
        );
        assert_eq!(Uuid::from(PromotionId::from(uuid)), uuid);
        assert_eq!(IntegrationId::from_uuid(uuid).as_uuid(), &uuid);
    }

    #[test]
    fn a_non_uuid_is_refused_naming_the_kind() {
        let err = AccountId::parse("acct-42").unwrap_err();
        assert!(err.to_string().contains("account id"), "{err}");
        assert!(PromotionId::parse("").is_err());
    }
}
