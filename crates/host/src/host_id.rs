//! [`HostId`]: the name a process gives its host in every lease it writes.

use std::fmt;

use crm2sage_domain::{ErrorClass, ErrorCode};

/// The host a process runs on, as its leases name it: by default the machine's hostname
/// ([`HostId::from_hostname`]), or one an operator chose (several "hosts" on one machine in a
/// test, a container whose hostname changes at every start).
///
/// Leases compare host ids only: two processes with the same host id are judged by each
/// other's process id and start time, so every machine sharing one database needs its own id.
///
/// A host id is 1 to [`HostId::MAX_LEN`] bytes of visible characters: no whitespace, no
/// control characters.
///
/// ```
/// use crm2sage_host::HostId;
///
/// assert_eq!(HostId::parse("worker-1").unwrap().as_str(), "worker-1");
/// assert!(HostId::parse("").is_err());
/// assert!(HostId::parse("two words").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(String);

/// Why a text is not a [`HostId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostIdError {
    /// The text is empty.
    #[error("a host id must not be empty")]
    Empty,
    /// The text is longer than [`HostId::MAX_LEN`] bytes.
    #[error("a host id is at most {max} bytes long (this one has {len})")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// [`HostId::MAX_LEN`].
        max: usize,
    },
    /// The text holds whitespace or a control character.
    #[error(
        "a host id holds visible characters only: no whitespace or control characters \
         (found {found:?} at byte {at})"
    )]
    NotPrintable {
        /// The offending character.
        found: char,
        /// Its byte offset.
        at: usize,
    },
}

/// Every host id error is invalid input.
impl ErrorCode for HostIdError {
    fn code(&self) -> &'static str {
        "invalid_input"
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::Invalid
    }
}

impl HostId {
    /// The longest host id, in bytes (a DNS name is at most 253).
    pub const MAX_LEN: usize = 255;

    /// The host id `raw` spells.
    ///
    /// # Errors
    /// [`HostIdError`] for an empty text, one longer than [`HostId::MAX_LEN`] bytes, or one
    /// with whitespace or a control character.
    pub fn parse(raw: &str) -> Result<Self, HostIdError> {
        if raw.is_empty() {
            return Err(HostIdError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(HostIdError::TooLong {
                len: raw.len(),
                max: Self::MAX_LEN,
            });
        }
        if let Some((at, found)) = raw
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || c.is_control())
        {
            return Err(HostIdError::NotPrintable { found, at });
        }
        Ok(Self(raw.to_owned()))
    }

    /// This machine's hostname; `unknown-host` when it cannot be read or is no valid host id
    /// (then give every machine its own id explicitly).
    pub fn from_hostname() -> Self {
        hostname::get()
            .ok()
            .and_then(|h| h.to_str().and_then(|h| Self::parse(h).ok()))
            .unwrap_or_else(|| Self("unknown-host".to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for HostId {
    type Err = HostIdError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_id_is_short_visible_text() {
        assert_eq!(
            HostId::parse("db-worker.eu-1").map(|h| h.to_string()),
            Ok("db-worker.eu-1".to_owned())
        );
        assert_eq!(HostId::parse(""), Err(HostIdError::Empty));
        let long = "h".repeat(HostId::MAX_LEN + 1);
        assert_eq!(
            HostId::parse(&long),
            Err(HostIdError::TooLong {
                len: HostId::MAX_LEN + 1,
                max: HostId::MAX_LEN
            })
        );
        assert!(HostId::parse(&long[1..]).is_ok(), "MAX_LEN itself is fine");
        assert_eq!(
            HostId::parse("a b"),
            Err(HostIdError::NotPrintable { found: ' ', at: 1 })
        );
        assert_eq!(
            HostId::parse("a\u{1b}[2J"),
            Err(HostIdError::NotPrintable {
                found: '\u{1b}',
                at: 1
            })
        );
        assert!(
            HostId::parse("wörker").is_ok(),
            "non-ASCII letters are visible"
        );
    }

    #[test]
    fn errors_are_invalid_input_and_name_no_flag() {
        for e in [
            HostIdError::Empty,
            HostIdError::TooLong { len: 300, max: 255 },
            HostIdError::NotPrintable { found: ' ', at: 0 },
        ] {
            assert_eq!(
                (e.code(), e.class()),
                ("invalid_input", ErrorClass::Invalid)
            );
            assert!(!e.to_string().contains("--"), "{e}");
        }
    }

    #[test]
    fn the_hostname_default_is_a_valid_id() {
        let id = HostId::from_hostname();
        assert_eq!(HostId::parse(id.as_str()), Ok(id));
    }
}
