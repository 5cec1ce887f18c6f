//! Integrations: named connections to one ERP company.

use std::fmt;

use crate::codes::{ArDivision, CompanyCode};
use crate::connection::{BaseUrl, HttpPolicy, RequestTimeout, TrustedCa};
use crate::erp::ErpKind;
use crate::field::{Collector, InvalidField, InvalidFields, TextError, required_text};
use crate::ids::IntegrationId;
use crate::secret::SecretRef;
use jiff::Timestamp;

/// Why an integration name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid integration name: use 1-40 letters, digits, `-` or `_`")]
pub struct IntegrationNameError(String);
crate::error_class::one_code!(IntegrationNameError => "invalid_input", Invalid);

/// An integration's unique name: 1–40 ASCII letters, digits, `-`, `_`. Compared as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IntegrationName(String);

impl IntegrationName {
    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`IntegrationNameError`] naming the value.
    pub fn parse(raw: &str) -> Result<Self, IntegrationNameError> {
        let value = raw.trim();
        let ok = (1..=40).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(IntegrationNameError(value.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IntegrationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ERP user name used for HTTP Basic: 1–64 characters, no `:` and no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`TextError`]; a `:` is reported as a control-like character.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let value = required_text(raw, 64)?;
        if value.contains(':') {
            return Err(TextError::ControlCharacter);
        }
        Ok(Self(value))
    }

    /// The user name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an ERP field name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErpFieldNameError {
    /// Not 1–30 letters, digits or `_`.
    #[error("`{0}` is not an ERP field name: use 1-30 letters, digits or `_`")]
    Malformed(String),
    /// A Sage 100 user-defined field must be a `UDF_` column.
    #[error("`{0}` is not a Sage 100 user-defined field: its name must start with UDF_")]
    NotUdf(String),
}
crate::error_class::one_code!(ErpFieldNameError => "invalid_input", Invalid);

/// The ERP field that carries the CRM account id on every customer we create: a Sage 300
/// optional field code, or a Sage 100 `UDF_…` column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErpFieldName(String);

impl ErpFieldName {
    /// Checks `raw` for `erp` (upper-cased for Sage 300, whose optional-field codes are).
    ///
    /// # Errors
    /// [`ErpFieldNameError`] naming the rule.
    pub fn parse(erp: ErpKind, raw: &str) -> Result<Self, ErpFieldNameError> {
        let value = raw.trim();
        let ok = (1..=30).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(ErpFieldNameError::Malformed(value.to_owned()));
        }
        match erp {
            ErpKind::Sage300 => Ok(Self(value.to_ascii_uppercase())),
            ErpKind::Sage100 if value.starts_with("UDF_") => Ok(Self(value.to_owned())),
            ErpKind::Sage100 => Err(ErpFieldNameError::NotUdf(value.to_owned())),
        }
    }

    /// The field name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Sage 100's customer-name length: 30 before 2022, 50 from Sage 100 2022.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CustomerNameMax {
    /// 30 characters (the default; every version).
    #[default]
    Thirty,
    /// 50 characters (Sage 100 2022 and later).
    Fifty,
}

impl CustomerNameMax {
    /// From the `--customer-name-max` value (`30` or `50`).
    pub fn from_len(len: u32) -> Option<Self> {
        match len {
            30 => Some(Self::Thirty),
            50 => Some(Self::Fifty),
            _ => None,
        }
    }

    /// The length.
    pub fn chars(self) -> usize {
        match self {
            Self::Thirty => 30,
            Self::Fifty => 50,
        }
    }
}

/// What depends on the ERP kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrationSettings {
    /// A Sage 300 company.
    Sage300,
    /// A Sage 100 company.
    Sage100 {
        /// The AR division used when a promotion names none.
        default_division: ArDivision,
        /// The customer-name length of this installation.
        customer_name_max: CustomerNameMax,
    },
}

impl IntegrationSettings {
    /// The ERP kind.
    pub fn kind(&self) -> ErpKind {
        match self {
            Self::Sage300 => ErpKind::Sage300,
            Self::Sage100 { .. } => ErpKind::Sage100,
        }
    }
}

/// An integration as typed, checked by [`NewIntegration::validate`]. Built with
/// [`NewIntegration::new`]; the secret and the optional settings are then set on the value
/// (more may be added).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewIntegration {
    /// Unique name.
    pub name: String,
    /// `sage300` or `sage100`.
    pub kind: String,
    /// Base URL.
    pub url: String,
    /// ERP company code.
    pub company: String,
    /// ERP user.
    pub user: String,
    /// Name of the environment variable holding the password, as an operator types it. Leave
    /// it empty when [`secret_ref`](Self::secret_ref) is given.
    pub password_env: String,
    /// A secret reference an embedder built ([`SecretRef::external`] for its own secret
    /// source, or [`SecretRef::env`]); used instead of `password_env`, which must then be
    /// empty.
    pub secret_ref: Option<SecretRef>,
    /// Sage 100 default AR division (default `00`); refused for Sage 300.
    pub division: Option<String>,
    /// Sage 100 customer-name length, 30 or 50; refused for Sage 300.
    pub customer_name_max: Option<u32>,
    /// ERP field carrying the CRM account id.
    pub crm_id_field: Option<String>,
    /// Allow plain `http://` to a non-loopback host.
    pub http_policy: HttpPolicy,
    /// Make this the default integration.
    pub make_default: bool,
    /// Per-request timeout in seconds, 1–600 [default: the connector's, 60 s].
    pub timeout_secs: Option<u64>,
    /// PEM text of the private CA certificates to trust (`--ca-file`'s content).
    pub ca_pem: Option<String>,
}

impl NewIntegration {
    /// An integration with its name, ERP kind (`sage300` or `sage100`), base URL, company and
    /// user; everything else at its default.
    pub fn new(
        name: impl Into<String>,
        kind: impl Into<String>,
        url: impl Into<String>,
        company: impl Into<String>,
        user: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            kind: kind.into(),
            url: url.into(),
            company: company.into(),
            user: user.into(),
            ..Self::default()
        }
    }

    /// Checks every field, reporting all refusals at once, and builds the integration with a
    /// fresh id. Field names: `name`, `kind`, `url`, `company`, `user`, `password_env` (also
    /// when both it and `secret_ref` are given), `division`, `customer_name_max`,
    /// `crm_id_field`, `timeout`, `ca_file`.
    ///
    /// # Errors
    /// [`InvalidFields`] listing each refused field.
    pub fn validate(&self, now: Timestamp) -> Result<Integration, InvalidFields> {
        let mut c = Collector::default();
        let name = c.take("name", IntegrationName::parse(&self.name));
        let kind = c.take("kind", self.kind.parse::<ErpKind>());
        let base_url = c.take(
            "url",
            BaseUrl::parse(&self.url).and_then(|u| u.check_transport(self.http_policy).map(|()| u)),
        );
        let company = c.take("company", CompanyCode::parse(&self.company));
        let user = c.take("user", UserName::parse(&self.user));
        let secret = match &self.secret_ref {
            Some(given) if self.password_env.trim().is_empty() => Some(given.clone()),
            Some(_) => {
                c.push(InvalidField::new(
                    "password_env",
                    "must be empty when a secret reference is given",
                ));
                None
            }
            None => c.take("password_env", SecretRef::env(&self.password_env)),
        };
        let (timeout, trusted_ca) =
            connection_fields(&mut c, self.timeout_secs, self.ca_pem.as_deref());
        let settings = kind.and_then(|kind| match kind {
            ErpKind::Sage300 => {
                if self.division.is_some() {
                    c.push(InvalidField::new(
                        "division",
                        "applies to Sage 100 integrations only",
                    ));
                }
                if self.customer_name_max.is_some() {
                    c.push(InvalidField::new(
                        "customer_name_max",
                        "applies to Sage 100 integrations only",
                    ));
                }
                Some(IntegrationSettings::Sage300)
            }
            ErpKind::Sage100 => {
                let default_division = match &self.division {
                    None => Some(ArDivision::default()),
                    Some(raw) => c.take("division", ArDivision::parse(raw)),
                };
                let customer_name_max = match self.customer_name_max {
                    None => Some(CustomerNameMax::default()),
                    Some(len) => {
                        let parsed = CustomerNameMax::from_len(len);
                        if parsed.is_none() {
                            c.push(InvalidField::new(
                                "customer_name_max",
                                format!("must be 30 or 50 (got {len})"),
                            ));
                        }
                        parsed
                    }
                };
                Some(IntegrationSettings::Sage100 {
                    default_division: default_division?,
                    customer_name_max: customer_name_max?,
                })
            }
        });
        let crm_id_field = match (&self.crm_id_field, kind) {
            (None, _) => Some(None),
            (Some(raw), Some(kind)) => c
                .take("crm_id_field", ErpFieldName::parse(kind, raw))
                .map(Some),
            (Some(_), None) => None,
        };
        c.finish()?;
        let missing = || InvalidFields(vec![InvalidField::new("integration", "is invalid")]);
        Ok(Integration {
            id: IntegrationId::generate(),
            name: name.ok_or_else(missing)?,
            settings: settings.ok_or_else(missing)?,
            base_url: base_url.ok_or_else(missing)?,
            company: company.ok_or_else(missing)?,
            user: user.ok_or_else(missing)?,
            secret: secret.ok_or_else(missing)?,
            crm_id_field: crm_id_field.ok_or_else(missing)?,
            http_policy: self.http_policy,
            timeout: timeout.ok_or_else(missing)?,
            trusted_ca: trusted_ca.ok_or_else(missing)?,
            is_default: self.make_default,
            created_at: now,
        })
    }
}

/// A configured integration. It holds a *reference* to its secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    id: IntegrationId,
    name: IntegrationName,
    settings: IntegrationSettings,
    base_url: BaseUrl,
    company: CompanyCode,
    user: UserName,
    secret: SecretRef,
    crm_id_field: Option<ErpFieldName>,
    http_policy: HttpPolicy,
    timeout: Option<RequestTimeout>,
    trusted_ca: Option<TrustedCa>,
    is_default: bool,
    created_at: Timestamp,
}

/// The parts of a stored integration, for stores to rebuild one ([`Integration::restore`]).
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct IntegrationParts {
    pub id: IntegrationId,
    pub name: IntegrationName,
    pub settings: IntegrationSettings,
    pub base_url: BaseUrl,
    pub company: CompanyCode,
    pub user: UserName,
    pub secret: SecretRef,
    pub crm_id_field: Option<ErpFieldName>,
    pub http_policy: HttpPolicy,
    pub timeout: Option<RequestTimeout>,
    pub trusted_ca: Option<TrustedCa>,
    pub is_default: bool,
    pub created_at: Timestamp,
}

impl Integration {
    /// Rebuilds a stored integration from parts that were validated when stored.
    pub fn restore(parts: IntegrationParts) -> Self {
        let IntegrationParts {
            id,
            name,
            settings,
            base_url,
            company,
            user,
            secret,
            crm_id_field,
            http_policy,
            timeout,
            trusted_ca,
            is_default,
            created_at,
        } = parts;
        Self {
            id,
            name,
            settings,
            base_url,
            company,
            user,
            secret,
            crm_id_field,
            http_policy,
            timeout,
            trusted_ca,
            is_default,
            created_at,
        }
    }

    /// Identifier (stable across renames).
    pub fn id(&self) -> IntegrationId {
        self.id
    }
    /// Unique name.
    pub fn name(&self) -> &IntegrationName {
        &self.name
    }
    /// ERP kind.
    pub fn kind(&self) -> ErpKind {
        self.settings.kind()
    }
    /// ERP-specific settings.
    pub fn settings(&self) -> &IntegrationSettings {
        &self.settings
    }
    /// Base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }
    /// ERP company.
    pub fn company(&self) -> &CompanyCode {
        &self.company
    }
    /// ERP user.
    pub fn user(&self) -> &UserName {
        &self.user
    }
    /// Where the password is found.
    pub fn secret(&self) -> &SecretRef {
        &self.secret
    }
    /// The ERP field carrying the CRM account id, when configured.
    pub fn crm_id_field(&self) -> Option<&ErpFieldName> {
        self.crm_id_field.as_ref()
    }
    /// Transport policy.
    pub fn http_policy(&self) -> HttpPolicy {
        self.http_policy
    }
    /// The per-request timeout set on this integration; `None`: the connector's default
    /// ([`RequestTimeout::DEFAULT_SECS`] unless the embedding service chose another).
    pub fn timeout(&self) -> Option<RequestTimeout> {
        self.timeout
    }
    /// The private CA certificates trusted for this integration, on top of the built-in roots.
    pub fn trusted_ca(&self) -> Option<&TrustedCa> {
        self.trusted_ca.as_ref()
    }
    /// Whether this is the default integration.
    pub fn is_default(&self) -> bool {
        self.is_default
    }
    /// Created at.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// A copy marked (or unmarked) as the default.
    pub fn with_default(mut self, is_default: bool) -> Self {
        self.is_default = is_default;
        self
    }
}

/// Checks the connection fields shared by [`NewIntegration`] and [`IntegrationChanges`]:
/// `timeout` and `ca_file`. `None` in the result: refused (already pushed on `c`).
fn connection_fields(
    c: &mut Collector,
    timeout_secs: Option<u64>,
    ca_pem: Option<&str>,
) -> (Option<Option<RequestTimeout>>, Option<Option<TrustedCa>>) {
    let timeout = match timeout_secs {
        None => Some(None),
        Some(secs) => c.take("timeout", RequestTimeout::from_secs(secs)).map(Some),
    };
    let trusted_ca = match ca_pem {
        None => Some(None),
        Some(pem) => c.take("ca_file", TrustedCa::parse(pem)).map(Some),
    };
    (timeout, trusted_ca)
}

/// Changes to a stored integration (`integration set`), checked by
/// [`IntegrationChanges::apply`]. `None` leaves a setting as it is. The name, kind, company and
/// id never change (promotions and reference data hang off them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntegrationChanges {
    /// A new base URL.
    pub url: Option<String>,
    /// A new ERP user.
    pub user: Option<String>,
    /// A new name of the environment variable holding the password.
    pub password_env: Option<String>,
    /// A new ERP field carrying the CRM account id.
    pub crm_id_field: Option<String>,
    /// Allow plain `http://` to a non-loopback host from now on.
    pub allow_insecure_http: bool,
    /// A new per-request timeout in seconds, 1–600.
    pub timeout_secs: Option<u64>,
    /// `Some(Some(pem))`: trust these CA certificates instead; `Some(None)`: trust none but the
    /// built-in roots.
    pub ca_pem: Option<Option<String>>,
}

impl IntegrationChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// `current` with these changes, every field checked as [`NewIntegration::validate`] checks
    /// it and every refusal reported at once (a new URL, or the old one under a new transport
    /// policy, is checked against the policy that will apply). Field names: `url`, `user`,
    /// `password_env`, `crm_id_field`, `timeout`, `ca_file`; `changes` when nothing is asked.
    ///
    /// # Errors
    /// [`InvalidFields`] listing each refused field.
    pub fn apply(&self, current: &Integration) -> Result<Integration, InvalidFields> {
        if self.is_empty() {
            return Err(InvalidFields::single(InvalidField::new(
                "changes",
                "name at least one setting to change",
            )));
        }
        let mut c = Collector::default();
        let http_policy = if self.allow_insecure_http {
            HttpPolicy::AllowInsecureHttp
        } else {
            current.http_policy
        };
        let base_url = match &self.url {
            Some(raw) => c.take("url", BaseUrl::parse(raw)),
            None => Some(current.base_url.clone()),
        };
        let base_url =
            base_url.and_then(|u| c.take("url", u.check_transport(http_policy).map(|()| u)));
        let user = match &self.user {
            Some(raw) => c.take("user", UserName::parse(raw)),
            None => Some(current.user.clone()),
        };
        let secret = match &self.password_env {
            Some(raw) => c.take("password_env", SecretRef::env(raw)),
            None => Some(current.secret.clone()),
        };
        let crm_id_field = match &self.crm_id_field {
            Some(raw) => c
                .take("crm_id_field", ErpFieldName::parse(current.kind(), raw))
                .map(Some),
            None => Some(current.crm_id_field.clone()),
        };
        let ca_pem = self.ca_pem.as_ref().and_then(Option::as_deref);
        let (timeout, trusted_ca) = connection_fields(&mut c, self.timeout_secs, ca_pem);
        c.finish()?;
        let missing = || InvalidFields(vec![InvalidField::new("integration", "is invalid")]);
        let mut next = current.clone();
        next.base_url = base_url.ok_or_else(missing)?;
        next.user = user.ok_or_else(missing)?;
        next.secret = secret.ok_or_else(missing)?;
        next.crm_id_field = crm_id_field.ok_or_else(missing)?;
        next.http_policy = http_policy;
        if self.timeout_secs.is_some() {
            next.timeout = timeout.ok_or_else(missing)?;
        }
        match &self.ca_pem {
            None => {}
            Some(None) => next.trusted_ca = None,
            Some(Some(_)) => next.trusted_ca = trusted_ca.ok_or_else(missing)?,
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::BaseUrlError;

    fn input() -> NewIntegration {
        NewIntegration {
            name: "s300".into(),
            kind: "sage300".into(),
            url: "https://erp.example.com/Sage300WebApi/".into(),
            company: "samltd".into(),
            user: "WEBAPI".into(),
            password_env: "SAGE_PASSWORD".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_sage300_integration() {
        let i = input().validate(Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(i.kind(), ErpKind::Sage300);
        assert_eq!(
            i.base_url().as_str(),
            "https://erp.example.com/Sage300WebApi"
        );
        assert_eq!(i.company().as_str(), "SAMLTD");
        assert_eq!(i.secret().to_string(), "env:SAGE_PASSWORD");
        assert!(!i.is_default());
    }

    #[test]
    fn sage100_defaults_division_00_and_name_30() {
        let mut s100 = input();
        s100.kind = "sage100".into();
        let i = s100.clone().validate(Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(
            i.settings(),
            &IntegrationSettings::Sage100 {
                default_division: ArDivision::default(),
                customer_name_max: CustomerNameMax::Thirty
            }
        );
        s100.customer_name_max = Some(50);
        s100.division = Some("01".into());
        assert!(matches!(
            s100.validate(Timestamp::UNIX_EPOCH).unwrap().settings(),
            IntegrationSettings::Sage100 {
                customer_name_max: CustomerNameMax::Fifty,
                ..
            }
        ));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = NewIntegration {
            name: "has space".into(),
            kind: "sage300".into(),
            url: "ftp://x".into(),
            company: "".into(),
            user: "a:b".into(),
            password_env: "1BAD".into(),
            division: Some("01".into()),
            customer_name_max: Some(40),
            crm_id_field: Some("bad field".into()),
            ..Default::default()
        };
        let err = bad.validate(Timestamp::UNIX_EPOCH).unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(|f| f.field()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "url",
                "company",
                "user",
                "password_env",
                "division",
                "customer_name_max",
                "crm_id_field"
            ]
        );
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let mut i = input();
        i.url = "http://127.0.0.1:8300/Sage300WebApi".into();
        assert!(i.validate(Timestamp::UNIX_EPOCH).is_ok());
        i.url = "http://localhost/Sage300WebApi".into();
        assert!(i.validate(Timestamp::UNIX_EPOCH).is_ok());
        i.url = "http://[::1]:80/x".into();
        assert!(i.validate(Timestamp::UNIX_EPOCH).is_ok());
        i.url = "http://erp.example.com/Sage300WebApi".into();
        let err = i.validate(Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(err.to_string().contains("allow insecure http"), "{err}");
        i.http_policy = HttpPolicy::AllowInsecureHttp;
        assert!(i.validate(Timestamp::UNIX_EPOCH).is_ok());
    }

    #[test]
    fn base_urls_refuse_queries_and_credentials() {
        assert!(matches!(
            BaseUrl::parse("https://h/x?y=1"),
            Err(BaseUrlError::HasQuery(_))
        ));
        assert!(matches!(
            BaseUrl::parse("https://u:p@h/x"),
            Err(BaseUrlError::HasCredentials(_))
        ));
        assert!(matches!(
            BaseUrl::parse("not a url"),
            Err(BaseUrlError::Malformed(_))
        ));
    }

    #[test]
    fn a_password_in_the_url_or_the_variable_name_is_never_repeated() {
        for raw in [
            "https://admin:Hunter2pw@erp.example.com/Sage300WebApi",
            "https://admin:Hunter2pw@erp.example.com/x?y=1",
            "https://admin:Hunter2pw@/x",
            "ftp://admin:Hunter2pw@erp.example.com/x",
            "admin:Hunter2pw@erp.example.com",
            "https://admin:Hunter2pw@exa mple.com/",
        ] {
            let err = BaseUrl::parse(raw).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("Hunter2pw"), "{raw} -> {shown}");
            assert!(!shown.contains("admin"), "{raw} -> {shown}");
        }
        assert_eq!(
            BaseUrl::parse("https://admin:Hunter2pw@erp.example.com/Sage300WebApi"),
            Err(BaseUrlError::HasCredentials(
                "https://erp.example.com/Sage300WebApi".into()
            ))
        );
        let err = SecretRef::env("s3cr3t-P@ss!").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        let mut i = input();
        i.password_env = "s3cr3t-P@ss!".into();
        i.url = "https://admin:Hunter2pw@erp.example.com/".into();
        let err = i.validate(Timestamp::UNIX_EPOCH).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("Hunter2pw"),
            "{shown}"
        );
    }

    #[test]
    fn an_embedder_gives_a_secret_reference_instead_of_a_variable() {
        let mut i = input();
        i.password_env = String::new();
        i.secret_ref = Some(SecretRef::external("vault/erp").unwrap());
        let built = i.clone().validate(Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(built.secret().to_string(), "external:vault/erp");
        i.password_env = "SAGE_PASSWORD".into();
        let err = i.validate(Timestamp::UNIX_EPOCH).unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(|f| f.field()).collect();
        assert_eq!(fields, ["password_env"]);
    }

    #[test]
    fn crm_id_fields_per_erp() {
        assert_eq!(
            ErpFieldName::parse(ErpKind::Sage300, "crmid")
                .unwrap()
                .as_str(),
            "CRMID"
        );
        assert!(ErpFieldName::parse(ErpKind::Sage100, "UDF_CRM_ID").is_ok());
        assert!(matches!(
            ErpFieldName::parse(ErpKind::Sage100, "CRM_ID"),
            Err(ErpFieldNameError::NotUdf(_))
        ));
    }

    #[test]
    fn names_are_1_to_40_safe_characters() {
        assert!(IntegrationName::parse("s300_prod-2").is_ok());
        assert!(IntegrationName::parse(&"a".repeat(40)).is_ok());
        assert!(IntegrationName::parse(&"a".repeat(41)).is_err());
        assert!(IntegrationName::parse("").is_err());
        assert!(IntegrationName::parse("é").is_err());
    }
}
