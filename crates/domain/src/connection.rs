//! How an integration reaches its ERP: the base URL and its transport rule, the per-request
//! timeout, and the private certificate authorities it trusts on top of the built-in roots.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// Whether plain `http://` may be used to a host that is not loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpPolicy {
    /// `https://` everywhere; plain `http://` only to loopback addresses.
    #[default]
    HttpsOnly,
    /// Plain `http://` allowed to any host (the integration was added with
    /// `--allow-insecure-http`).
    AllowInsecureHttp,
}

/// `raw` with any user information (`user:password@`) removed, for error messages: a password
/// typed into `--url` by mistake is never repeated. Works on text that is not a valid URL too.
fn without_userinfo(raw: &str) -> String {
    let (scheme, rest) = match raw.find("://") {
        Some(i) => raw.split_at(i + 3),
        None => ("", raw),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}{}{path}", &authority[at + 1..]),
        None if path.contains('@') && scheme.is_empty() => String::from("(a URL with credentials)"),
        None => raw.to_owned(),
    }
}

/// Why a base URL was refused. The URL each variant carries has its user information
/// (`user:password@`) removed, so an error never repeats a password typed into the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// Not an absolute `http(s)://host/...` URL.
    #[error("`{0}` is not an http(s) URL with a host (e.g. https://erp.example.com/Sage300WebApi)")]
    Malformed(String),
    /// Carries a query or a fragment; the adapter appends its own paths.
    #[error("`{0}` must not carry a query string or fragment")]
    HasQuery(String),
    /// Credentials inside the URL; they belong in the secret. Carries the URL without them.
    #[error(
        "`{0}` must not contain a user name or password (removed here); the user and the password are given separately"
    )]
    HasCredentials(String),
    /// Plain `http://` to a host that is not loopback, without [`HttpPolicy::AllowInsecureHttp`].
    #[error(
        "`{0}` uses plain http:// to a non-loopback host; use https:// or allow insecure http for this integration"
    )]
    InsecureHttp(String),
}
crate::error_class::one_code!(BaseUrlError => "invalid_input", Invalid);

/// The ERP's base URL (Sage 300: the Web API root; Sage 100: the SData root up to the
/// contract), without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Parses and normalises `raw` (trailing `/` removed).
    ///
    /// # Errors
    /// [`BaseUrlError`] naming the rule.
    pub fn parse(raw: &str) -> Result<Self, BaseUrlError> {
        let value = raw.trim();
        let shown = || without_userinfo(value);
        let url = url::Url::parse(value).map_err(|_| BaseUrlError::Malformed(shown()))?;
        if !url.username().is_empty() || url.password().is_some() {
            let mut bare = url.clone();
            let _ = bare.set_username("");
            let _ = bare.set_password(None);
            return Err(BaseUrlError::HasCredentials(without_userinfo(
                bare.as_str(),
            )));
        }
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(BaseUrlError::Malformed(shown()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(BaseUrlError::HasQuery(shown()));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the URL uses plain `http://`.
    pub fn is_plain_http(&self) -> bool {
        self.0.starts_with("http://")
    }

    /// Whether the host is a loopback address (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = url::Url::parse(&self.0) else {
            return false;
        };
        match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        }
    }

    /// Checks the transport rule: plain `http://` only to loopback unless `policy` allows it.
    ///
    /// # Errors
    /// [`BaseUrlError::InsecureHttp`].
    pub fn check_transport(&self, policy: HttpPolicy) -> Result<(), BaseUrlError> {
        if self.is_plain_http() && !self.is_loopback() && policy == HttpPolicy::HttpsOnly {
            Err(BaseUrlError::InsecureHttp(self.0.clone()))
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a request timeout was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be between {min} and {max} seconds (got {0})",
    min = RequestTimeout::MIN_SECS,
    max = RequestTimeout::MAX_SECS
)]
pub struct RequestTimeoutError(u64);
crate::error_class::one_code!(RequestTimeoutError => "invalid_input", Invalid);

/// How long one request to the ERP (a lookup, a create, one page, a test) may take, connection
/// included: 1–600 whole seconds. The default, [`RequestTimeout::DEFAULT_SECS`] (60 s), suits an
/// on-prem IIS whose cold application pool answers its first requests after 20–45 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestTimeout(u64);

impl RequestTimeout {
    /// The shortest timeout.
    pub const MIN_SECS: u64 = 1;
    /// The longest timeout (10 minutes).
    pub const MAX_SECS: u64 = 600;
    /// The timeout of an integration that sets none.
    pub const DEFAULT_SECS: u64 = 60;

    /// A timeout of `secs` seconds.
    ///
    /// # Errors
    /// [`RequestTimeoutError`] outside `MIN_SECS..=MAX_SECS`.
    pub fn from_secs(secs: u64) -> Result<Self, RequestTimeoutError> {
        if (Self::MIN_SECS..=Self::MAX_SECS).contains(&secs) {
            Ok(Self(secs))
        } else {
            Err(RequestTimeoutError(secs))
        }
    }

    /// The seconds.
    pub fn as_secs(self) -> u64 {
        self.0
    }

    /// As a [`Duration`].
    pub fn as_duration(self) -> Duration {
        Duration::from_secs(self.0)
    }
}

impl RequestTimeout {
    /// The longest one ERP call of a promotion may take at this timeout, as the Sage adapter's
    /// default retry policy bounds it: a lookup makes up to 3 attempts of this timeout with 2
    /// waits of at most 15 s between them (a server's `Retry-After` honoured up to 10 s,
    /// jittered by up to 1.5); a create is one attempt. So `3 × timeout + 30 s`: 210 s at the
    /// default 60 s. The adapter's tests check its default settings stay within this.
    pub fn call_budget(self) -> Duration {
        self.as_duration()
            .saturating_mul(3)
            .saturating_add(Duration::from_secs(30))
    }
}

impl Default for RequestTimeout {
    /// [`RequestTimeout::DEFAULT_SECS`].
    fn default() -> Self {
        Self(Self::DEFAULT_SECS)
    }
}

impl fmt::Display for RequestTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}

/// Why a CA bundle was refused. No variant carries the refused text: a file holding a private
/// key must not be repeated anywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustedCaError {
    /// Longer than [`TrustedCa::MAX_BYTES`].
    #[error(
        "is larger than {} bytes; a CA bundle is a few KiB",
        TrustedCa::MAX_BYTES
    )]
    TooLarge,
    /// No `-----BEGIN CERTIFICATE-----` block, or a block that is not valid PEM.
    #[error("is not PEM text holding at least one `-----BEGIN CERTIFICATE-----` block")]
    NotPem,
    /// A block holds a private key. Nothing of it is stored or repeated.
    #[error(
        "holds a PRIVATE KEY; give only the CA's certificate (the key was not stored or shown)"
    )]
    PrivateKey,
    /// A block that is not a certificate (its PEM label is named).
    #[error("holds a `{0}` block; only CERTIFICATE blocks are accepted")]
    NotCertificate(String),
}
crate::error_class::one_code!(TrustedCaError => "invalid_input", Invalid);

/// The PEM text of one or more CA certificates an integration trusts, in addition to the
/// built-in roots (an on-prem IIS with a certificate from a private or self-signed CA). Every
/// PEM block is a `CERTIFICATE`; whether each is a usable CA certificate is checked by the
/// adapter when it builds the client.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TrustedCa {
    pem: String,
    certificates: usize,
}

impl TrustedCa {
    /// The longest bundle accepted (1 MiB).
    pub const MAX_BYTES: usize = 1 << 20;

    /// Checks `pem`: at most [`TrustedCa::MAX_BYTES`], only `CERTIFICATE` blocks, at least one.
    ///
    /// # Errors
    /// [`TrustedCaError`] naming the rule, never repeating the text.
    pub fn parse(pem: &str) -> Result<Self, TrustedCaError> {
        if pem.len() > Self::MAX_BYTES {
            return Err(TrustedCaError::TooLarge);
        }
        // Checked on the raw text too: a key in a malformed block is still a key.
        if pem.contains("PRIVATE KEY-----") {
            return Err(TrustedCaError::PrivateKey);
        }
        let blocks = ::pem::parse_many(pem).map_err(|_| TrustedCaError::NotPem)?;
        if blocks.is_empty() {
            return Err(TrustedCaError::NotPem);
        }
        for block in &blocks {
            let tag = block.tag();
            if tag.contains("PRIVATE KEY") {
                return Err(TrustedCaError::PrivateKey);
            }
            if tag != "CERTIFICATE" {
                let shown: String = tag
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
                    .take(40)
                    .collect();
                return Err(TrustedCaError::NotCertificate(shown));
            }
        }
        Ok(Self {
            pem: pem.to_owned(),
            certificates: blocks.len(),
        })
    }

    /// The PEM text, as given.
    pub fn as_pem(&self) -> &str {
        &self.pem
    }

    /// How many certificates it holds.
    pub fn certificates(&self) -> usize {
        self.certificates
    }
}

impl fmt::Debug for TrustedCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedCa")
            .field("certificates", &self.certificates)
            .field("bytes", &self.pem.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str =
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";

    #[test]
    fn timeouts_are_1_to_600_seconds_defaulting_to_60() {
        assert_eq!(RequestTimeout::default().as_secs(), 60);
        assert_eq!(RequestTimeout::from_secs(1).unwrap().as_secs(), 1);
        assert_eq!(
            RequestTimeout::from_secs(600).unwrap().as_duration(),
            Duration::from_secs(600)
        );
        for bad in [0, 601, u64::MAX] {
            let err = RequestTimeout::from_secs(bad).unwrap_err();
            assert!(err.to_string().contains("between 1 and 600"), "{err}");
        }
    }

    #[test]
    fn a_ca_bundle_holds_certificates_only() {
        let two = format!("{CERT}{CERT}");
        assert_eq!(TrustedCa::parse(&two).unwrap().certificates(), 2);
        assert_eq!(TrustedCa::parse(""), Err(TrustedCaError::NotPem));
        assert_eq!(TrustedCa::parse("just text"), Err(TrustedCaError::NotPem));
        let csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
        assert!(matches!(
            TrustedCa::parse(csr),
            Err(TrustedCaError::NotCertificate(tag)) if tag == "CERTIFICATE REQUEST"
        ));
        let big = "x".repeat(TrustedCa::MAX_BYTES + 1);
        assert_eq!(TrustedCa::parse(&big), Err(TrustedCaError::TooLarge));
    }

    #[test]
    fn a_private_key_is_refused_and_never_repeated() {
        let key = "-----BEGIN PRIVATE KEY-----\nU2VjcmV0S2V5Qnl0ZXM=\n-----END PRIVATE KEY-----\n";
        for text in [
            format!("{CERT}{key}"),
            key.replace("BEGIN PRIVATE", "BEGIN EC PRIVATE")
                .replace("END PRIVATE", "END EC PRIVATE"),
            "-----BEGIN RSA PRIVATE KEY-----\nU2VjcmV0S2V5Qnl0ZXM=\n".to_owned(),
        ] {
            let err = TrustedCa::parse(&text).unwrap_err();
            assert_eq!(err, TrustedCaError::PrivateKey);
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("U2VjcmV0"), "{shown}");
        }
        let ca = TrustedCa::parse(CERT).unwrap();
        assert!(!format!("{ca:?}").contains("MIIB"), "Debug shows no PEM");
    }
}
