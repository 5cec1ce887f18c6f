//! Secret references: where an integration's password is found. The password itself is never
//! stored; an integration holds a [`SecretRef`], which a
//! [`SecretSource`](crate::ports::SecretSource) resolves when the ERP is called.

use std::fmt;

/// Why a secret reference was refused. No variant carries the refused text: a value typed where
/// a variable's name or a key belongs may be the password itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretRefError {
    /// Not a portable environment-variable name.
    #[error(
        "is not an environment variable name (letters, digits and `_`, not starting with a digit, at most 128); the value is not repeated in case it is the password itself"
    )]
    EnvName,
    /// An external key that is empty, longer than [`SecretRef::MAX_EXTERNAL_LEN`] characters,
    /// or holds whitespace or control characters.
    #[error(
        "is not an external secret key (1-256 characters, no whitespace or control characters); the value is not repeated in case it is the password itself"
    )]
    ExternalKey,
}

/// Always invalid input.
impl crate::ErrorCode for SecretRefError {
    fn code(&self) -> &'static str {
        match self {
            Self::EnvName | Self::ExternalKey => "invalid_input",
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            Self::EnvName | Self::ExternalKey => crate::ErrorClass::Invalid,
        }
    }
}

/// What kind of reference a [`SecretRef`] is, with its name: a view for matching on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecretRefKind<'a> {
    /// The name of an environment variable, read when the ERP is called.
    Env(&'a str),
    /// A key an embedding service's own secret source resolves (a Vault path, a cloud secret
    /// manager's name, …).
    External(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Inner {
    Env(String),
    External(String),
}

/// Where an integration's password is found: an environment variable, or a key an embedder's
/// own [`SecretSource`](crate::ports::SecretSource) resolves. Built only through the validated
/// constructors [`SecretRef::env`] and [`SecretRef::external`]. Displayed as `env:NAME` or
/// `external:KEY` — the reference, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef(Inner);

impl SecretRef {
    /// The longest external key, in characters.
    pub const MAX_EXTERNAL_LEN: usize = 256;

    /// An environment-variable reference. `name` is trimmed, then must be a portable variable
    /// name: ASCII letters, digits and `_`, not starting with a digit, at most 128 bytes.
    ///
    /// # Errors
    /// [`SecretRefError::EnvName`] (without the refused text).
    pub fn env(name: &str) -> Result<Self, SecretRefError> {
        let name = name.trim();
        let mut bytes = name.bytes();
        let ok = matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && name.len() <= 128;
        if ok {
            Ok(Self(Inner::Env(name.to_owned())))
        } else {
            Err(SecretRefError::EnvName)
        }
    }

    /// A reference an embedder's secret source resolves, e.g. `vault/erp` or
    /// `projects/p/secrets/erp`. `key` is taken as given (not trimmed): 1 to
    /// [`MAX_EXTERNAL_LEN`](Self::MAX_EXTERNAL_LEN) characters, none of them whitespace or a
    /// control character. Anything else (`/`, `:`, `@`, non-ASCII letters) is the source's
    /// business.
    ///
    /// # Errors
    /// [`SecretRefError::ExternalKey`] (without the refused text).
    pub fn external(key: &str) -> Result<Self, SecretRefError> {
        let ok = !key.is_empty()
            && key.chars().count() <= Self::MAX_EXTERNAL_LEN
            && !key.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(Inner::External(key.to_owned())))
        } else {
            Err(SecretRefError::ExternalKey)
        }
    }

    /// Whether this names an environment variable.
    pub fn is_env(&self) -> bool {
        matches!(self.0, Inner::Env(_))
    }

    /// The variable's name or the external key.
    pub fn name(&self) -> &str {
        match &self.0 {
            Inner::Env(name) | Inner::External(name) => name,
        }
    }

    /// The kind of reference, with its name.
    pub fn kind(&self) -> SecretRefKind<'_> {
        match &self.0 {
            Inner::Env(name) => SecretRefKind::Env(name),
            Inner::External(key) => SecretRefKind::External(key),
        }
    }
}

impl fmt::Display for SecretRef {
    /// `env:NAME` or `external:KEY` — the reference, never the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Env(name) => write!(f, "env:{name}"),
            Inner::External(key) => write!(f, "external:{key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_portable_variable_names() {
        let r = SecretRef::env(" SAGE_PASSWORD ").unwrap();
        assert!(r.is_env());
        assert_eq!(r.name(), "SAGE_PASSWORD");
        assert_eq!(r.kind(), SecretRefKind::Env("SAGE_PASSWORD"));
        assert_eq!(r.to_string(), "env:SAGE_PASSWORD");
        for bad in ["", "1BAD", "has space", "a-b", &"A".repeat(129)] {
            assert_eq!(SecretRef::env(bad), Err(SecretRefError::EnvName), "{bad:?}");
        }
    }

    #[test]
    fn external_keys_are_1_to_256_visible_characters() {
        let r = SecretRef::external("vault/erp").unwrap();
        assert!(!r.is_env());
        assert_eq!(r.kind(), SecretRefKind::External("vault/erp"));
        assert_eq!(r.to_string(), "external:vault/erp");
        assert!(SecretRef::external(&"é".repeat(256)).is_ok());
        for bad in [
            "",
            " vault/erp",
            "vault erp",
            "vault/erp\n",
            "a\u{7}b",
            &"k".repeat(257),
        ] {
            assert_eq!(
                SecretRef::external(bad),
                Err(SecretRefError::ExternalKey),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_refusal_never_repeats_the_refused_text() {
        for err in [
            SecretRef::env("s3cr3t-P@ss!").unwrap_err(),
            SecretRef::external("s3cr3t P@ss!").unwrap_err(),
        ] {
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert_eq!(crate::ErrorCode::class(&err), crate::ErrorClass::Invalid);
        }
    }
}
