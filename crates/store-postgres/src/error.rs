//! [`PgStoreError`]: why a store could not be connected, and the URL redaction its texts use.

use crm2sage_domain::ports::StoreError;
use crm2sage_domain::{ErrorClass, ErrorCode};

/// Why [`PostgresStore::connect`](crate::PostgresStore::connect) failed. Its texts show the
/// server's URL without its password (see [`redact_url`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PgStoreError {
    /// The URL or a setting is not valid: not a `postgres://` / `postgresql://` URL, or a
    /// schema name that is not a plain identifier.
    #[error("invalid PostgreSQL connection settings: {0}")]
    InvalidSettings(String),
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL at {url}: {reason}")]
    Unreachable {
        /// The URL, its password removed.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The connection worked, but the schema could not be brought up to date (or is newer
    /// than this build), or another store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for PgStoreError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidSettings(_) => "database_settings_invalid",
            Self::Unreachable { .. } => "database_unreachable",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::InvalidSettings(_) => ErrorClass::Invalid,
            Self::Unreachable { .. } => ErrorClass::Internal,
            Self::Store(e) => e.class(),
        }
    }
}

impl From<PgStoreError> for StoreError {
    fn from(e: PgStoreError) -> Self {
        match e {
            PgStoreError::Store(e) => e,
            other => StoreError::Internal(other.to_string()),
        }
    }
}

/// `url` with its password removed (and any `password=` query parameter dropped), for texts
/// and logs; a text that does not parse as a URL is shown as `(an unparsable URL)`, since
/// any part of it might be the password.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "(an unparsable URL)".to_owned();
    };
    if parsed.password().is_some() && parsed.set_password(None).is_err() {
        return "(an unparsable URL)".to_owned();
    }
    if parsed.query().is_some() {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("password"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_removed_wherever_it_is_given() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example.com:5432/crm"),
            "postgres://app@db.example.com:5432/crm"
        );
        let q = redact_url("postgres://app@db/crm?sslmode=require&password=s3cret");
        assert!(!q.contains("s3cret"), "{q}");
        assert!(q.contains("sslmode=require"), "{q}");
        assert_eq!(redact_url("not a url s3cret"), "(an unparsable URL)");
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
    }

    #[test]
    fn codes_and_classes() {
        let invalid = PgStoreError::InvalidSettings("x".into());
        assert_eq!(
            (invalid.code(), invalid.class()),
            ("database_settings_invalid", ErrorClass::Invalid)
        );
        let down = PgStoreError::Unreachable {
            url: "postgres://h/db".into(),
            reason: "refused".into(),
        };
        assert_eq!(
            (down.code(), down.class()),
            ("database_unreachable", ErrorClass::Internal)
        );
        let store = PgStoreError::from(StoreError::Busy("b".into()));
        assert_eq!(store.code(), "database_busy");
    }
}
