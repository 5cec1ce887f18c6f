//! Every way a command can fail, as the CLI reports it: an exit class (→ exit code), a stable
//! machine `kind`, a message that says what to do next, and JSON `details`.

use crm2sage_domain::ports::{ConnectError, SecretError, StoreError};
use crm2sage_domain::services::{
    AccountError, DetailsError, GatewayError, IntegrationError, PromoteError, ResolveError,
    SyncError,
};
use crm2sage_domain::{ExitClass, InvalidFields};
use serde_json::{Value, json};

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

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        let kind = match e {
            StoreError::Busy(_) => "database_busy",
            StoreError::Corrupt(_) => "database_corrupt",
            StoreError::TooNew { .. } => "database_too_new",
            _ => "database",
        };
        Failure::new(ExitClass::Internal, kind, e.to_string())
    }
}

impl From<ResolveError> for Failure {
    fn from(e: ResolveError) -> Self {
        let class = e.class();
        match &e {
            ResolveError::NoDefault { configured } => Failure::new(class, "no_default_integration", e.to_string())
                .with_details(json!({ "configured": configured.iter().map(|n| n.as_str()).collect::<Vec<_>>() })),
            ResolveError::NotFound { configured, name } => Failure::new(class, "integration_not_found", e.to_string())
                .with_details(json!({ "name": name, "configured": configured.iter().map(|n| n.as_str()).collect::<Vec<_>>() })),
            ResolveError::Store(s) => s.clone().into(),
            _ => Failure::new(class, "internal", e.to_string()),
        }
    }
}

impl From<GatewayError> for Failure {
    fn from(e: GatewayError) -> Self {
        let kind = match &e {
            GatewayError::Secret(SecretError::Unavailable { .. }) => "secret_unavailable",
            GatewayError::Secret(_) => "secret_missing",
            GatewayError::Connect(ConnectError::InsecureHttp { .. }) => "insecure_http",
            GatewayError::Connect(_) => "erp_connect",
            _ => "erp_connect",
        };
        let message = match &e {
            // The shell hint is the CLI's, and only for a variable: an external key is not one.
            GatewayError::Secret(SecretError::Missing { reference }) if reference.is_env() => {
                format!(
                    "{e}: export it before running (e.g. `export {}=...`)",
                    reference.name()
                )
            }
            _ => e.to_string(),
        };
        Failure::new(e.class(), kind, message)
    }
}

impl From<IntegrationError> for Failure {
    fn from(e: IntegrationError) -> Self {
        let class = e.class();
        match e {
            IntegrationError::Invalid(fields) => Failure::new(
                class,
                "invalid_input",
                format!("invalid integration: {fields}"),
            )
            .with_details(fields_json(&fields)),
            IntegrationError::NameTaken(_) => {
                Failure::new(class, "integration_exists", e.to_string())
            }
            IntegrationError::InUse(_) => Failure::new(class, "integration_in_use", e.to_string()),
            IntegrationError::Resolve(r) => r.into(),
            IntegrationError::Gateway(g) => g.into(),
            IntegrationError::Erp(_) => Failure::new(class, "erp", e.to_string()),
            IntegrationError::Store(s) => s.into(),
            _ => Failure::new(class, "internal", e.to_string()),
        }
    }
}

impl From<AccountError> for Failure {
    fn from(e: AccountError) -> Self {
        let class = e.class();
        match e {
            AccountError::Invalid(fields) => {
                Failure::new(class, "invalid_input", format!("invalid account: {fields}"))
                    .with_details(fields_json(&fields))
            }
            AccountError::NotFound(_) => Failure::new(class, "account_not_found", e.to_string()),
            AccountError::Store(s) => s.into(),
            _ => Failure::new(class, "internal", e.to_string()),
        }
    }
}

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Self {
        let class = e.class();
        match e {
            SyncError::Resolve(r) => r.into(),
            SyncError::Gateway(g) => g.into(),
            SyncError::KindNotOffered { .. } => Failure::new(class, "invalid_input", e.to_string()),
            _ => Failure::new(class, "internal", e.to_string()),
        }
    }
}

impl From<DetailsError> for Failure {
    fn from(e: DetailsError) -> Self {
        let class = e.class();
        match e {
            DetailsError::Resolve(r) => r.into(),
            DetailsError::Gateway(g) => g.into(),
            DetailsError::Store(s) => s.into(),
            DetailsError::AccountNotFound(_) => {
                Failure::new(class, "account_not_found", e.to_string())
            }
            DetailsError::NotPromoted { .. } => Failure::new(class, "not_promoted", e.to_string()),
            DetailsError::GoneFromErp { .. } => Failure::new(class, "customer_gone", e.to_string()),
            DetailsError::Erp(_) => Failure::new(class, "erp", e.to_string()),
            _ => Failure::new(class, "internal", e.to_string()),
        }
    }
}

impl From<PromoteError> for Failure {
    fn from(e: PromoteError) -> Self {
        let class = e.class();
        let promotion = e.promotion().map(|p| p.to_string());
        let failure = match &e {
            PromoteError::Resolve(r) => return r.clone().into(),
            PromoteError::Gateway(g) => return g.clone().into(),
            PromoteError::Store(s) => return s.clone().into(),
            PromoteError::AccountNotFound(_) => Failure::new(class, "account_not_found", e.to_string()),
            PromoteError::Invalid { fields, .. } => Failure::new(class, "invalid_input", e.to_string()).with_details(fields_json(fields)),
            PromoteError::MissingPrerequisites { integration, missing } => {
                Failure::new(class, "missing_prerequisites", e.to_string()).with_details(json!({
                    "integration": integration.as_str(),
                    "missing_kinds": missing.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                }))
            }
            PromoteError::AlreadyPromoted { binding, .. } => Failure::new(class, "already_promoted", e.to_string()).with_details(json!({
                "customer_no": binding.customer_no.as_str(),
                "external_uid": binding.external_uid.as_str(),
                "integration_key": binding.integration_key.as_str(),
            })),
            PromoteError::InProgress { promotion, holder_alive } => Failure::new(class, "in_progress", e.to_string())
                .with_details(json!({ "promotion_id": promotion.to_string(), "holder_alive": holder_alive })),
            PromoteError::CustomerNoInUse { external_uid, other_account, .. } => Failure::new(class, "customer_no_in_use", e.to_string())
                .with_details(json!({ "external_uid": external_uid.as_str(), "other_account_id": other_account.to_string() })),
            PromoteError::CustomerNoTaken { customer_no, .. } => Failure::new(class, "customer_no_taken", e.to_string())
                .with_details(json!({ "customer_no": customer_no.as_str() })),
            PromoteError::Lookup { .. } => Failure::new(class, "erp", e.to_string()),
            PromoteError::CreateRefused { .. } => Failure::new(class, "erp_refused", e.to_string()),
            PromoteError::OutcomeUnknown { .. } => Failure::new(class, "outcome_unknown", e.to_string()),
            PromoteError::LeaseLost(_) => Failure::new(class, "lease_lost", e.to_string()),
            PromoteError::NotRecorded { customer_no, .. } => {
                Failure::new(class, "not_recorded", format!("{e}; run `crm2sage recover`"))
                    .with_details(json!({ "customer_no": customer_no.as_str() }))
            }
            _ => Failure::new(class, "internal", e.to_string()),
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
}
