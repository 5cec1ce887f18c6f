//! Every way a command can fail, as the CLI reports it: an exit class (→ exit code), a stable
//! machine `kind`, a message that says what happened and what to do next, and JSON `details`.
//!
//! The library owns the `kind` and the class of every error ([`ErrorCode`]); this module only
//! maps classes to exit codes and adds what is CLI-specific: a hint naming the command or flag
//! to use next, and the JSON details.

use crm2sage_domain::ports::{ConnectError, ErpReadError, SecretError, StoreError};
use crm2sage_domain::services::{
    AccountError, CustomerSyncError, DetailsError, DuplicateCandidate, GatewayError,
    IntegrationError, LinkAccountError, MatchError, PromoteError, ReconcileError, RecoverError,
    ResolveError, SyncError, UnlinkAccountError,
};
use crm2sage_domain::ports::LinkError;
use crm2sage_domain::{ErrorClass, ErrorCode, IntegrationName, InvalidFields};
use serde_json::{Value, json};

/// The category of an outcome, as an exit code (docs/cli.md, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ExitClass {
    /// 0: success.
    Ok,
    /// 1: a bug or an environment failure (the local database).
    Internal,
    /// 2: the command line was not understood.
    Usage,
    /// 3: invalid input or unmet prerequisites.
    Invalid,
    /// 4: something named does not exist.
    NotFound,
    /// 5: a conflict: already promoted, customer number taken, in progress.
    Conflict,
    /// 6: the ERP could not be reached or refused.
    Erp,
}

impl ExitClass {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            ExitClass::Ok => 0,
            ExitClass::Internal => 1,
            ExitClass::Usage => 2,
            ExitClass::Invalid => 3,
            ExitClass::NotFound => 4,
            ExitClass::Conflict => 5,
            ExitClass::Erp => 6,
        }
    }

    /// The exit class of an outcome the library classified: `None` is success.
    pub(crate) fn of(class: Option<ErrorClass>) -> Self {
        class.map_or(ExitClass::Ok, Self::from)
    }
}

impl From<ErrorClass> for ExitClass {
    fn from(class: ErrorClass) -> Self {
        match class {
            ErrorClass::Invalid => ExitClass::Invalid,
            ErrorClass::NotFound => ExitClass::NotFound,
            ErrorClass::Conflict => ExitClass::Conflict,
            ErrorClass::Erp => ExitClass::Erp,
            ErrorClass::Internal => ExitClass::Internal,
        }
    }
}

/// A failed command.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) class: ExitClass,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) details: Value,
}

impl Failure {
    pub(crate) fn new(class: ExitClass, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            kind,
            message: message.into(),
            details: json!({}),
        }
    }

    /// A library error: its code and class, its text, and the CLI's hint for it.
    pub(crate) fn of<E: ErrorCode>(e: &E, hint: Option<String>) -> Self {
        let message = match hint {
            Some(hint) => format!("{e}; {hint}"),
            None => e.to_string(),
        };
        Self::new(e.class().into(), e.code(), message)
    }

    pub(crate) fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Input the CLI itself refused (a malformed id, an unknown kind name).
    pub(crate) fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            ExitClass::Invalid,
            "invalid_input",
            format!("{field}: {message}"),
        )
        .with_details(json!({ "fields": [{ "field": field, "rule": message.to_string() }] }))
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(ExitClass::Internal, "internal", message)
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({ "error": {
            "kind": self.kind,
            "message": self.message,
            "exit_code": self.class.code(),
            "details": self.details,
        }})
    }
}

fn fields_json(fields: &InvalidFields) -> Value {
    json!({ "fields": fields.fields().iter().map(|f| json!({"field": f.field(), "rule": f.rule()})).collect::<Vec<_>>() })
}

fn names(configured: &[IntegrationName]) -> Vec<&str> {
    configured.iter().map(IntegrationName::as_str).collect()
}

const RECOVER: &str = "run `crm2sage recover`";

/// What to type next for an integration whose URL or secret was refused.
fn invalid_integration_hint(fields: &InvalidFields) -> Option<String> {
    let rules: Vec<&str> = fields
        .fields()
        .iter()
        .filter(|f| f.field() == "url")
        .map(|f| f.rule())
        .collect();
    if rules.iter().any(|r| r.contains("user name or password")) {
        Some("use --user and --password-env".to_owned())
    } else if rules.iter().any(|r| r.contains("plain http://")) {
        Some("--allow-insecure-http allows it".to_owned())
    } else {
        None
    }
}

/// The flag to use instead of one that does not apply to this ERP (the library names the
/// field: "use tax_schedule instead").
fn promote_fields_hint(fields: &InvalidFields) -> Option<String> {
    fields.fields().iter().find_map(|f| {
        let rest = f.rule().split("(use ").nth(1)?;
        let field = rest.strip_suffix(" instead)")?;
        Some(format!("use --{}", field.replace('_', "-")))
    })
}

fn erp_read_hint(e: &ErpReadError) -> Option<String> {
    match e {
        ErpReadError::Unauthorized => Some("check --user and the password variable".to_owned()),
        ErpReadError::RateLimited => Some("or lower --concurrency".to_owned()),
        _ => None,
    }
}

fn secret_hint(e: &SecretError) -> Option<String> {
    match e {
        // The shell hint is the CLI's, and only for a variable: an external key is not one.
        SecretError::Missing { reference } if reference.is_env() => Some(format!(
            "export it before running (e.g. `export {}=...`)",
            reference.name()
        )),
        _ => None,
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::of(&e, None)
    }
}

impl From<RecoverError> for Failure {
    fn from(e: RecoverError) -> Self {
        Failure::of(&e, None)
    }
}

impl From<ResolveError> for Failure {
    fn from(e: ResolveError) -> Self {
        match &e {
            ResolveError::NoDefault { configured } => {
                let mut hint =
                    "name one with --integration or run `crm2sage integration set-default NAME`"
                        .to_owned();
                if configured.is_empty() {
                    hint = "add one with `crm2sage integration add`".to_owned();
                }
                Failure::of(&e, Some(hint)).with_details(json!({ "configured": names(configured) }))
            }
            ResolveError::NotFound { configured, name } => {
                let hint = configured
                    .is_empty()
                    .then(|| "add one with `crm2sage integration add`".to_owned());
                Failure::of(&e, hint)
                    .with_details(json!({ "name": name, "configured": names(configured) }))
            }
            _ => Failure::of(&e, None),
        }
    }
}

impl From<GatewayError> for Failure {
    fn from(e: GatewayError) -> Self {
        let hint = match &e {
            GatewayError::Secret(s) => secret_hint(s),
            GatewayError::Connect(ConnectError::InsecureHttp { .. }) => {
                Some("use https:// or re-add the integration with --allow-insecure-http".to_owned())
            }
            _ => None,
        };
        Failure::of(&e, hint)
    }
}

impl From<IntegrationError> for Failure {
    fn from(e: IntegrationError) -> Self {
        match e {
            IntegrationError::Resolve(r) => r.into(),
            IntegrationError::Gateway(g) => g.into(),
            IntegrationError::Invalid(ref fields) => {
                Failure::of(&e, invalid_integration_hint(fields)).with_details(fields_json(fields))
            }
            IntegrationError::NameTaken(_) => {
                Failure::of(&e, Some("pick another name or remove it first".to_owned()))
            }
            IntegrationError::Erp(ref r) => Failure::of(&e, erp_read_hint(r)),
            _ => Failure::of(&e, None),
        }
    }
}

impl From<AccountError> for Failure {
    fn from(e: AccountError) -> Self {
        match &e {
            AccountError::Invalid(fields) => {
                Failure::of(&e, None).with_details(fields_json(fields))
            }
            AccountError::NotFound(_) => {
                Failure::of(&e, Some("`crm2sage account list` shows them".to_owned()))
            }
            _ => Failure::of(&e, None),
        }
    }
}

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Resolve(r) => r.into(),
            SyncError::Gateway(g) => g.into(),
            _ => Failure::of(&e, None),
        }
    }
}

impl From<DetailsError> for Failure {
    fn from(e: DetailsError) -> Self {
        let hint = match &e {
            DetailsError::Resolve(r) => return r.clone().into(),
            DetailsError::Gateway(g) => return g.clone().into(),
            DetailsError::AccountNotFound(_) => {
                Some("`crm2sage account list` shows them".to_owned())
            }
            DetailsError::NotPromoted { .. } => {
                Some("promote it first with `crm2sage promote`".to_owned())
            }
            DetailsError::Erp(r) => erp_read_hint(r),
            _ => None,
        };
        Failure::of(&e, hint)
    }
}

impl From<PromoteError> for Failure {
    fn from(e: PromoteError) -> Self {
        let promotion = e.promotion().map(|p| p.to_string());
        let failure = match &e {
            PromoteError::Resolve(r) => return r.clone().into(),
            PromoteError::Gateway(g) => return g.clone().into(),
            PromoteError::AccountNotFound(_) => {
                Failure::of(&e, Some("`crm2sage account list` shows them".to_owned()))
            }
            PromoteError::Invalid { fields, .. } => {
                Failure::of(&e, promote_fields_hint(fields)).with_details(fields_json(fields))
            }
            PromoteError::MissingPrerequisites {
                integration,
                missing,
            } => Failure::of(
                &e,
                Some(format!(
                    "run `crm2sage sync --integration {integration}` first"
                )),
            )
            .with_details(json!({
                "integration": integration.as_str(),
                "missing_kinds": missing.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            })),
            PromoteError::AlreadyPromoted { binding, .. } => {
                Failure::of(&e, None).with_details(json!({
                    "customer_no": binding.customer_no.as_str(),
                    "external_uid": binding.external_uid.as_str(),
                    "integration_key": binding.integration_key.as_str(),
                }))
            }
            PromoteError::InProgress {
                promotion,
                holder_alive,
            } => Failure::of(&e, (!holder_alive).then(|| RECOVER.to_owned())).with_details(
                json!({ "promotion_id": promotion.to_string(), "holder_alive": holder_alive }),
            ),
            PromoteError::CustomerNoInUse {
                external_uid,
                other_account,
                ..
            } => Failure::of(&e, None).with_details(json!({
                "external_uid": external_uid.as_str(),
                "other_account_id": other_account.to_string(),
            })),
            PromoteError::CustomerNoTaken { customer_no, .. } => Failure::of(
                &e,
                Some("promote again with another --customer-no".to_owned()),
            )
            .with_details(json!({ "customer_no": customer_no.as_str() })),
            PromoteError::Lookup { error, .. } => Failure::of(&e, erp_read_hint(error)),
            PromoteError::OutcomeUnknown { .. } => {
                Failure::of(&e, Some(format!("{RECOVER} to settle it")))
            }
            PromoteError::LeaseLost(_) => Failure::of(
                &e,
                Some("`crm2sage recover` or the other process settles it".to_owned()),
            ),
            PromoteError::PossibleDuplicate { candidates } => Failure::of(
                &e,
                Some(
                    "`crm2sage link ACCOUNT --customer-no NO` binds it to one of them; promote with --allow-duplicate to create it anyway"
                        .to_owned(),
                ),
            )
            .with_details(json!({ "candidates": candidates_json(candidates) })),
            PromoteError::DuplicateCheck { error } => Failure::of(&e, erp_read_hint(error)),
            PromoteError::CustomerNoExists { customer_no } => Failure::of(
                &e,
                Some("choose another --customer-no, or `crm2sage link` the account to it".to_owned()),
            )
            .with_details(json!({ "customer_no": customer_no.as_str() })),
            PromoteError::NotRecorded { customer_no, .. } => {
                Failure::of(&e, Some(RECOVER.to_owned()))
                    .with_details(json!({ "customer_no": customer_no.as_str() }))
            }
            _ => Failure::of(&e, None),
        };
        match (promotion, failure.details.clone()) {
            (Some(id), Value::Object(mut map)) => {
                map.insert("promotion_id".into(), Value::String(id));
                failure.with_details(Value::Object(map))
            }
            _ => failure,
        }
    }
}

/// The duplicate guard's (and `match`'s) candidates as JSON.
pub(crate) fn candidates_json(candidates: &[DuplicateCandidate]) -> Value {
    Value::Array(
        candidates
            .iter()
            .map(|c| {
                json!({
                    "customer_no": c.customer_no.as_str(),
                    "external_uid": c.external_uid.as_str(),
                    "name": c.name,
                    "reasons": c.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    "score": (c.score * 100.0).round() / 100.0,
                })
            })
            .collect(),
    )
}

fn binding_json(b: &crm2sage_domain::Binding) -> Value {
    json!({
        "account_id": b.account.to_string(),
        "customer_no": b.customer_no.as_str(),
        "external_uid": b.external_uid.as_str(),
        "integration_key": b.integration_key.as_str(),
        "origin": b.origin.as_str(),
    })
}

impl From<LinkAccountError> for Failure {
    fn from(e: LinkAccountError) -> Self {
        match &e {
            LinkAccountError::Resolve(r) => r.clone().into(),
            LinkAccountError::Gateway(g) => g.clone().into(),
            LinkAccountError::AccountNotFound(_) => {
                Failure::of(&e, Some("`crm2sage account list` shows them".to_owned()))
            }
            LinkAccountError::Invalid { fields, .. } => {
                Failure::of(&e, None).with_details(fields_json(fields))
            }
            LinkAccountError::CustomerNotFound(uid) => Failure::of(&e, None)
                .with_details(json!({ "external_uid": uid.as_str() })),
            LinkAccountError::Claimed {
                external_uid,
                crm_id,
            } => Failure::of(&e, None).with_details(
                json!({ "external_uid": external_uid.as_str(), "crm_id": crm_id }),
            ),
            LinkAccountError::Lookup(r) => Failure::of(&e, erp_read_hint(r)),
            LinkAccountError::Link(LinkError::AccountBound(b)) => Failure::of(
                &e,
                Some("`crm2sage unlink` it first to bind it to another customer".to_owned()),
            )
            .with_details(json!({ "binding": binding_json(b) })),
            LinkAccountError::Link(LinkError::CustomerBound(b)) => {
                Failure::of(&e, None).with_details(json!({ "binding": binding_json(b) }))
            }
            LinkAccountError::Link(LinkError::InProgress(p)) => Failure::of(
                &e,
                Some(format!("wait for it, or {RECOVER} if its process is gone")),
            )
            .with_details(json!({ "promotion_id": p.id.to_string() })),
            _ => Failure::of(&e, None),
        }
    }
}

impl From<UnlinkAccountError> for Failure {
    fn from(e: UnlinkAccountError) -> Self {
        match &e {
            UnlinkAccountError::Resolve(r) => r.clone().into(),
            _ => Failure::of(&e, None),
        }
    }
}

impl From<MatchError> for Failure {
    fn from(e: MatchError) -> Self {
        match &e {
            MatchError::Resolve(r) => r.clone().into(),
            MatchError::NotIndexed(name) => Failure::of(
                &e,
                Some(format!("run `crm2sage sync --only customer --integration {name}`")),
            ),
            MatchError::InvalidScore(_) => Failure::of(&e, None)
                .with_details(json!({ "fields": [{ "field": "min_score", "rule": "must be a number from 0 to 1" }] })),
            _ => Failure::of(&e, None),
        }
    }
}

impl From<ReconcileError> for Failure {
    fn from(e: ReconcileError) -> Self {
        match e {
            ReconcileError::Resolve(r) => r.into(),
            ReconcileError::Gateway(g) => g.into(),
            _ => Failure::of(&e, None),
        }
    }
}

impl From<CustomerSyncError> for Failure {
    fn from(e: CustomerSyncError) -> Self {
        match &e {
            CustomerSyncError::Resolve(r) => r.clone().into(),
            CustomerSyncError::Gateway(g) => g.clone().into(),
            CustomerSyncError::Page { error, .. } => Failure::of(&e, erp_read_hint(error)),
            _ => Failure::of(&e, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm2sage_domain::{CustomerNo, PromotionId, SecretRef};

    #[test]
    fn only_a_missing_variable_gets_the_export_hint() {
        let env = Failure::from(GatewayError::Secret(SecretError::Missing {
            reference: SecretRef::env("S300_PASSWORD").expect("a name"),
        }));
        assert_eq!(env.kind, "secret_missing");
        assert!(
            env.message.contains("`export S300_PASSWORD=...`"),
            "{}",
            env.message
        );
        for e in [
            SecretError::Missing {
                reference: SecretRef::external("vault/erp").expect("a key"),
            },
            SecretError::Unavailable {
                reference: SecretRef::external("vault/erp").expect("a key"),
                reason: "vault sealed".into(),
            },
            SecretError::Unsupported {
                reference: SecretRef::external("vault/erp").expect("a key"),
            },
        ] {
            let f = Failure::from(GatewayError::Secret(e));
            assert!(
                f.message.contains("external:vault/erp") && !f.message.contains("export"),
                "{}",
                f.message
            );
        }
    }

    #[test]
    fn a_customer_created_but_not_recorded_points_at_recover() {
        let e = PromoteError::NotRecorded {
            promotion: PromotionId::generate(),
            customer_no: CustomerNo::parse_sage300("C1").expect("a valid number"),
            error: StoreError::Internal("database or disk is full".into()),
        };
        let f = Failure::from(e);
        assert_eq!(f.kind, "not_recorded");
        assert_eq!(f.class, ExitClass::Internal);
        assert!(
            f.message.contains("probably exists in the ERP")
                && f.message.ends_with("run `crm2sage recover`"),
            "{}",
            f.message
        );
        assert_eq!(f.details["customer_no"], "C1");
        assert!(f.details["promotion_id"].is_string());
    }

    #[test]
    fn the_cli_adds_the_flag_the_library_does_not_name() {
        let e = PromoteError::CustomerNoTaken {
            customer_no: CustomerNo::parse_sage300("C1").expect("a valid number"),
            promotion: PromotionId::generate(),
        };
        assert!(!e.to_string().contains("--"), "{e}");
        let f = Failure::from(e);
        assert_eq!(
            (f.kind, f.class),
            ("customer_no_taken", ExitClass::Conflict)
        );
        assert!(
            f.message.ends_with("another --customer-no"),
            "{}",
            f.message
        );
    }

    #[test]
    fn a_missing_password_variable_is_named_with_the_export_to_run() {
        let reference = SecretRef::env("S300_PASSWORD").expect("a valid name");
        let f = Failure::from(GatewayError::Secret(SecretError::Missing { reference }));
        assert_eq!((f.kind, f.class), ("secret_missing", ExitClass::Invalid));
        assert!(
            f.message.contains("`export S300_PASSWORD=...`"),
            "{}",
            f.message
        );
    }

    #[test]
    fn every_library_class_has_its_documented_exit_code() {
        let codes: Vec<u8> = [
            ErrorClass::Internal,
            ErrorClass::Invalid,
            ErrorClass::NotFound,
            ErrorClass::Conflict,
            ErrorClass::Erp,
        ]
        .into_iter()
        .map(|c| ExitClass::from(c).code())
        .collect();
        assert_eq!(codes, [1, 3, 4, 5, 6]);
        assert_eq!(ExitClass::of(None).code(), 0);
    }
}
