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
//! The secret port ([`SecretSource::resolve`]) is async and gets the integration, so the
//! provider reads the vault at the moment crm2sage needs the password (the first connection,
//! and once more when the ERP answers 401 — a rotated password is picked up without a
//! restart).
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
    AddressInput, Crm2Sage, Integration, NewAccount, NewIntegration, PromotionRequest, SecretRef,
    SecretRefKind, SecretString,
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
}

impl VaultSecrets {
    /// A provider reading `vault`.
    pub fn new(vault: Arc<FakeVault>) -> Self {
        Self { vault }
    }
}

/// Reads the vault; dropping the future abandons the read (nothing is cached or written).
#[async_trait::async_trait]
impl SecretSource for VaultSecrets {
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError> {
        let reference = integration.secret();
        match reference.kind() {
            SecretRefKind::External(path) => {
                self.vault
                    .read(path)
                    .await
                    .ok_or_else(|| SecretError::Missing {
                        reference: reference.clone(),
                    })
            }
            _ => Err(SecretError::Unsupported {
                reference: reference.clone(),
            }),
        }
    }
}

/// Adds `input` with the external reference `path` as its secret.
async fn add_with_external_secret(
    crm2sage: &Crm2Sage,
    mut input: NewIntegration,
    path: &str,
) -> Result<Integration, Error> {
    input.secret_ref = Some(SecretRef::external(path)?);
    Ok(crm2sage.add_integration(&input).await?)
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
    let crm2sage = Crm2Sage::builder()
        .sqlite(dir.path().join("crm2sage.db"))
        .shared_secrets(secrets)
        .build()
        .await?;

    let erp = |name: &str| {
        let mut v_newintegration = NewIntegration::default();
        v_newintegration.name = name.into();
        v_newintegration.kind = "sage300".into();
        v_newintegration.url = sim.base_url();
        v_newintegration.company = sim.company().into();
        v_newintegration.user = sim.user().into();
        v_newintegration.make_default = name == "erp";
        v_newintegration
    };
    let integration = add_with_external_secret(&crm2sage, erp("erp"), "vault/erp").await?;
    crm2sage.test_integration("erp").await?;
    crm2sage.sync(None, None, &|_| {}).await?;

    let account = crm2sage
        .create_account(&{
            let mut v_newaccount = NewAccount::default();
            v_newaccount.name = "Vault Traders".into();
            v_newaccount.billing = {
                let mut v_addressinput = AddressInput::default();
                v_addressinput.line1 = "1 Strongroom Lane".into();
                v_addressinput.city = "Vancouver".into();
                v_addressinput.state = Some("BC".into());
                v_addressinput.country = "CA".into();
                v_addressinput
            };
            v_newaccount.currency = Some("CAD".into());
            v_newaccount
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
