//! Quickstart: crm2sage's five steps against the built-in Sage 300 simulator.
//!
//! ```text
//! cargo run -p crm2sage --example quickstart --features simulator
//! ```
//!
//! 1. register an integration (one ERP company) and check that it answers;
//! 2. sync its prerequisite reference data;
//! 3. create a CRM account;
//! 4. promote it to an ERP customer (exactly once);
//! 5. read the customer back, live from the ERP.
//!
//! `crates/crm2sage/tests/examples.rs` runs [`run`] and checks what it returns.

use crm2sage::simulator::{Sage300Config, start_sage300};
use crm2sage::{
    AddressInput, Crm2Sage, MemorySecrets, NewAccount, NewIntegration, PromotionRequest,
    SecretString,
};

/// Any error of the five steps.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the five steps did.
#[derive(Debug)]
pub struct Summary {
    /// The customer number the account was promoted to.
    pub customer_no: String,
    /// The account's bindings afterwards (one per integration it was promoted to).
    pub bindings: usize,
    /// The customer's name as the ERP answered it in step 5.
    pub erp_name: Option<String>,
    /// Creates the ERP received.
    pub erp_creates: usize,
}

/// Runs the five steps against a fresh simulator and a database in a temporary directory.
///
/// # Errors
/// Any step's error.
pub async fn run() -> Result<Summary, Error> {
    // The ERP: a Sage 300 simulator on a loopback port; crm2sage's data: a SQLite file.
    let sim = start_sage300(Sage300Config::default()).await?;
    let dir = tempfile::tempdir()?;
    // The password is handed over in memory, under the name the integration refers to.
    let secrets = MemorySecrets::new().with("SAGE_PASSWORD", SecretString::from(sim.password()));
    let crm2sage = Crm2Sage::builder()
        .sqlite(dir.path().join("crm2sage.db"))
        .secrets(secrets)
        .build()
        .await?;

    // 1. An integration, made the default, and a connection test.
    let mut new = NewIntegration::new("erp", "sage300", sim.base_url(), sim.company(), sim.user());
    new.password_env = "SAGE_PASSWORD".into();
    new.make_default = true;
    let integration = crm2sage.add_integration(&new).await?;
    crm2sage
        .test_integration(integration.name().as_str())
        .await?;

    // 2. The reference data a promotion is checked against (groups, tax groups, terms, …).
    crm2sage.sync(None, None, &|_progress| {}).await?;

    // 3. A CRM account.
    let mut billing = AddressInput::new("100 Harbour Way", "Vancouver", "CA");
    billing.state = Some("BC".into());
    billing.postal_code = Some("V6C 3E1".into());
    let mut input = NewAccount::new("Northwind Traders", billing);
    input.email = Some("ap@northwind.example.com".into());
    input.currency = Some("CAD".into());
    let account = crm2sage.create_account(&input).await?;

    // 4. The promotion: customer number, group and tax group.
    let mut request = PromotionRequest::new(account.id(), "NW1001");
    request.category = Some("RTL".into());
    request.tax_group = Some("CALIF".into());
    let promoted = crm2sage.promote(&request).await?;

    // 5. The customer, live from the ERP.
    let (_, _, customer) = crm2sage.erp_details(account.id(), None).await?;

    let summary = Summary {
        customer_no: promoted.binding.customer_no.as_str().to_owned(),
        bindings: crm2sage.account(account.id()).await?.bindings.len(),
        erp_name: customer.name,
        erp_creates: sim.count_posts(),
    };
    sim.shutdown().await;
    Ok(summary)
}

#[allow(dead_code, clippy::print_stdout)]
#[tokio::main]
async fn main() -> Result<(), Error> {
    let summary = run().await?;
    println!(
        "promoted to customer {} ({}); the ERP received {} create(s)",
        summary.customer_no,
        summary.erp_name.as_deref().unwrap_or("no name"),
        summary.erp_creates
    );
    Ok(())
}
