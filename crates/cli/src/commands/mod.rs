//! One module per command. Each takes the wired services and the output settings and returns
//! the exit class, or a [`Failure`].

pub(crate) mod account;
pub(crate) mod batch;
pub(crate) mod contact;
pub(crate) mod db;
pub(crate) mod demo;
pub(crate) mod details;
pub(crate) mod import;
pub(crate) mod integration;
pub(crate) mod links;
pub(crate) mod log;
pub(crate) mod matching;
pub(crate) mod panel;
pub(crate) mod party;
pub(crate) mod party_import;
pub(crate) mod party_promote;
pub(crate) mod promote;
pub(crate) mod reconcile;
pub(crate) mod recover;
pub(crate) mod ship_to;
pub(crate) mod sim;
pub(crate) mod simulate;
pub(crate) mod sync;
pub(crate) mod sync_customers;

use std::collections::HashMap;
use std::sync::Arc;

use crate::failure::ExitClass;
use crm2sage_domain::ports::Store;
use crm2sage_domain::{AccountId, IntegrationId};

use crate::failure::Failure;
use crate::output::Out;

/// The services as the CLI builds them with the `crm2sage` facade (SQLite store, Sage
/// adapters, behind the facade's `dyn` ports).
pub(crate) type App = crm2sage::DynServices;

/// What every command gets.
pub(crate) struct Ctx<'a> {
    pub(crate) app: &'a Arc<App>,
    pub(crate) out: Out,
}

pub(crate) type CmdResult = Result<ExitClass, Failure>;

/// Parses an account id argument.
pub(crate) fn account_id(raw: &str) -> Result<AccountId, Failure> {
    AccountId::parse(raw).map_err(|e| {
        Failure::invalid(
            "account",
            format!("{e}; `crm2sage account list` shows the ids"),
        )
    })
}

/// Integration names by id, for rendering.
pub(crate) async fn integration_names<S: Store + ?Sized>(
    store: &S,
) -> Result<HashMap<IntegrationId, String>, Failure> {
    Ok(store
        .integrations()
        .await?
        .into_iter()
        .map(|i| (i.id(), i.name().to_string()))
        .collect())
}
