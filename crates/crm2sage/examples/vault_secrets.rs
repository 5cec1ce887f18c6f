//! Secrets from a vault: an integration registered under an external reference
//! (`vault/erp`) whose password crm2sage gets from the service's own provider, never from the
//! environment or the database.
//!
//! ```text
//! cargo run -p crm2sage --example vault_secrets
//! ```
//!
//! The "vault" is a fake: an in-process map answered after a delay, as a network vault would
//! be. [`VaultSecrets`] is the provider handed to [`Crm2Sage::builder`].
//!
//! On this branch the secret port ([`SecretSource::resolve`]) is synchronous and gets the
//! reference, so the provider reads the vault asynchronously ahead of time
//! ([`VaultSecrets::refresh`]) and answers from what it read. With issue 17 item 3 the port
//! is `async fn resolve(&self, integration: &Integration)`, and `resolve` becomes
//! `self.vault.read(key).await` on `integration.secret()`'s key, without the cache.
//!
//! `crates/crm2sage/tests/examples.rs` runs [`run`] and checks what it returns.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crm2sage::ports::{SecretError, SecretSource};
use crm2sage::services::{GatewayError, IntegrationError};
use crm2sage::simulator::{Sage300Config, start_sage300};
use crm2sage::{
    AddressInput, Crm2Sage, Integration, IntegrationParts, NewAccount, NewIntegration,
    PromotionRequest, SecretRef, SecretString, Timestamp,
};

/// Any error of the run.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A fake vault: secrets by path, each read answered after a delay.
#[derive(Default)]
pub struct FakeVault {
    secrets: RwLock<HashMap<String, SecretString>>,
    reads: AtomicUsize,
}

impl std::fmt::Debug for FakeVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeVault")
            .field("reads", &self.reads.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl FakeVault {
    /// Stores `secret` at `path` (a rotation when one was there).
    pub fn put(&self, path: &str, secret: SecretString) {
        if let Ok(mut secrets) = self.secrets.write() {
            secrets.insert(path.to_owned(), secret);
        }
    }

    /// Reads the secret at `path`, as a network call would: after a delay.
    pub async fn read(&self, path: &str) -> Option<SecretString> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.secrets.read().ok()?.get(path).cloned()
    }

    /// How many reads the vault answered.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

/// The secret provider crm2sage is built with: external references are vault paths.
#[derive(Debug)]
pub struct VaultSecrets {
    vault: Arc<FakeVault>,
    read: RwLock<HashMap<String, SecretString>>,
}

impl VaultSecrets {
    /// A provider reading `vault`.
    pub fn new(vault: Arc<FakeVault>) -> Self {
        Self {
            vault,
            read: RwLock::new(HashMap::new()),
        }
    }

    /// Reads `paths` from the vault (again), so that [`resolve`](SecretSource::resolve)
    /// answers with their current secrets. A path the vault does not hold is forgotten.
    pub async fn refresh(&self, paths: &[&str]) {
        for path in paths {
            let secret = self.vault.read(path).await;
            if let Ok(mut read) = self.read.write() {
                match secret {
                    Some(secret) => read.insert((*path).to_owned(), secret),
                    None => read.remove(*path),
                };
            }
        }
    }
}

impl SecretSource for VaultSecrets {
    fn resolve(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        let missing = || SecretError::Missing {
            reference: reference.clone(),
        };
        match reference {
            SecretRef::External(path) => self
                .read
                .read()
                .map_err(|_| missing())?
                .get(path)
                .cloned()
                .ok_or_else(missing),
            SecretRef::EnvVar(_) => Err(SecretError::Unsupported {
                reference: reference.clone(),
            }),
        }
    }
}

/// Stores `input` with the external reference `path` as its secret.
///
/// On this branch `NewIntegration` takes only an environment-variable name: the input is
/// validated with a placeholder and stored with the external reference in its place. With
/// issue 17 item 3 this is `add_integration` with `secret_ref: Some(SecretRef::external(path)?)`.
async fn add_with_external_secret(
    crm2sage: &Crm2Sage,
    input: NewIntegration,
    path: &str,
) -> Result<Integration, Error> {
    let validated = NewIntegration {
        password_env: "UNUSED_EXTERNAL_SECRET".into(),
        ..input
    }
    .validate(Timestamp::now())
    .map_err(IntegrationError::Invalid)?;
    let integration = Integration::restore(IntegrationParts {
        id: validated.id(),
        name: validated.name().clone(),
        settings: validated.settings().clone(),
        base_url: validated.base_url().clone(),
        company: validated.company().clone(),
        user: validated.user().clone(),
        secret: SecretRef::External(path.into()),
        crm_id_field: validated.crm_id_field().cloned(),
        http_policy: validated.http_policy(),
        is_default: validated.is_default(),
        created_at: validated.created_at(),
    });
    crm2sage
        .store()
        .add_integration(&integration)
        .await
        .map_err(|e| format!("cannot add the integration: {e}"))?;
    Ok(integration)
}

/// What the run did.
#[derive(Debug)]
pub struct Summary {
    /// The integration's secret reference, as stored (never the secret).
    pub reference: String,
    /// The customer number the account was promoted to.
    pub customer_no: String,
    /// The customer's name, live from the ERP.
    pub erp_name: Option<String>,
    /// Creates the ERP received.
    pub erp_creates: usize,
    /// Reads the vault answered.
    pub vault_reads: usize,
    /// The error a second integration got for a path the vault does not hold.
    pub unknown_path_error: String,
}

/// Registers an integration under `vault/erp`, promotes an account through it against a
/// fresh simulator, and tries an integration whose path the vault does not hold.
///
/// # Errors
/// Any step's error.
pub async fn run() -> Result<Summary, Error> {
    let sim = start_sage300(Sage300Config::default()).await?;
    let dir = tempfile::tempdir()?;

    // The vault holds the ERP password; the provider reads it from there.
    let vault = Arc::new(FakeVault::default());
    vault.put("vault/erp", SecretString::from(sim.password()));
    let secrets = Arc::new(VaultSecrets::new(Arc::clone(&vault)));
    secrets.refresh(&["vault/erp", "vault/nope"]).await;
    let crm2sage = Crm2Sage::builder()
        .sqlite(dir.path().join("crm2sage.db"))
        .shared_secrets(secrets)
        .build()
        .await?;

    let erp = |name: &str| NewIntegration {
        name: name.into(),
        kind: "sage300".into(),
        url: sim.base_url(),
        company: sim.company().into(),
        user: sim.user().into(),
        make_default: name == "erp",
        ..NewIntegration::default()
    };
    let integration = add_with_external_secret(&crm2sage, erp("erp"), "vault/erp").await?;
    crm2sage.test_integration("erp").await?;
    crm2sage.sync(None, None, &|_| {}).await?;

    let account = crm2sage
        .create_account(&NewAccount {
            name: "Vault Traders".into(),
            billing: AddressInput {
                line1: "1 Strongroom Lane".into(),
                city: "Vancouver".into(),
                state: Some("BC".into()),
                country: "CA".into(),
                ..AddressInput::default()
            },
            currency: Some("CAD".into()),
            ..NewAccount::default()
        })
        .await?;
    let mut request = PromotionRequest::new(account.id(), "VT1001");
    request.category = Some("RTL".into());
    request.tax_group = Some("CALIF".into());
    let promoted = crm2sage.promote(&request).await?;
    let (_, _, customer) = crm2sage.erp_details(account.id(), None).await?;

    // A path the vault does not hold: the connection test says which reference is missing.
    add_with_external_secret(&crm2sage, erp("other"), "vault/nope").await?;
    let unknown_path_error = match crm2sage.test_integration("other").await {
        Err(IntegrationError::Gateway(e @ GatewayError::Secret(_))) => e.to_string(),
        other => return Err(format!("expected a missing secret, got {other:?}").into()),
    };

    let summary = Summary {
        reference: integration.secret().to_string(),
        customer_no: promoted.binding.customer_no.as_str().to_owned(),
        erp_name: customer.name,
        erp_creates: sim.count_posts(),
        vault_reads: vault.reads(),
        unknown_path_error,
    };
    sim.shutdown().await;
    Ok(summary)
}

#[allow(dead_code, clippy::print_stdout)]
#[tokio::main]
async fn main() -> Result<(), Error> {
    let summary = run().await?;
    println!(
        "integration secret {}: promoted to customer {} ({}); the vault answered {} read(s); \
         an unknown path: {}",
        summary.reference,
        summary.customer_no,
        summary.erp_name.as_deref().unwrap_or("no name"),
        summary.vault_reads,
        summary.unknown_path_error
    );
    Ok(())
}
