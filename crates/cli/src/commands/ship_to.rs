//! `crm2sage ship-to add|list|promote|remove|import`: an account's ship-to addresses.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use crm2sage_domain::services::ShipToError;
use crm2sage_domain::{AddressInput, NewShipTo, PartyCode, PartyKind, ShipTo};
use serde_json::{Value, json};

use super::party::{self, Refusal};
use super::party_promote::PartyBindings;
use super::{CmdResult, Ctx, account_id};
use crate::failure::{ExitClass, Failure};

#[derive(Debug, Subcommand)]
pub(crate) enum ShipToCommand {
    /// Add a ship-to address to an account (every invalid field is reported at once). Codes
    /// are 1-4 letters or digits, unique within the account; an account has at most one
    /// primary ship-to (a second is refused: exit 5).
    Add(Box<ShipToAddArgs>),
    /// List an account's ship-to addresses, by code.
    List {
        /// Account id (see `crm2sage account list`).
        account: String,
    },
    /// Promote one ship-to address of a promoted account to its ERP customer, exactly once
    /// (the account must be promoted to that integration: else exit 3). Promoting it again
    /// is `already promoted`, exit 0.
    Promote {
        /// Account id.
        account: String,
        /// The ship-to's code.
        code: String,
        /// Integration name [default: the default integration].
        #[arg(long)]
        integration: Option<String>,
    },
    /// Remove an account's ship-to address (its bindings, if promoted, stay in the log and
    /// the ERP keeps the location).
    Remove {
        /// Account id.
        account: String,
        /// The ship-to's code.
        code: String,
    },
    /// Import ship-to addresses from a CSV file whose rows name their account by
    /// `account_ref` (the account's CRM reference); see docs/cli.md. Each row is an upsert by
    /// (account, code), so importing a file again is safe.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Also write one line per row (line, account reference, outcome, error kind,
        /// message) to this file: CSV for `.csv`, JSON lines for `.jsonl` / `.ndjson`.
        #[arg(long, value_name = "FILE", value_parser = crate::report::report_path)]
        report: Option<crate::report::ReportPath>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ShipToAddArgs {
    /// Account id (see `crm2sage account list`).
    pub(crate) account: String,
    /// Code: 1-4 letters or digits, unique within the account.
    #[arg(long)]
    pub(crate) code: String,
    /// Name of the location (1-60).
    #[arg(long)]
    pub(crate) name: String,
    /// Address line 1.
    #[arg(long)]
    pub(crate) line1: String,
    /// Address line 2.
    #[arg(long)]
    pub(crate) line2: Option<String>,
    /// Address line 3.
    #[arg(long)]
    pub(crate) line3: Option<String>,
    /// City.
    #[arg(long)]
    pub(crate) city: String,
    /// State or province.
    #[arg(long)]
    pub(crate) state: Option<String>,
    /// Postal or ZIP code.
    #[arg(long)]
    pub(crate) postal_code: Option<String>,
    /// Country: ISO 3166 alpha-2 (US) or alpha-3 (USA).
    #[arg(long)]
    pub(crate) country: String,
    /// Telephone.
    #[arg(long)]
    pub(crate) phone: Option<String>,
    /// Email.
    #[arg(long)]
    pub(crate) email: Option<String>,
    /// Make it the account's primary ship-to (refused when it has one).
    #[arg(long)]
    pub(crate) primary: bool,
}

pub(crate) async fn run(ctx: &Ctx<'_>, command: ShipToCommand) -> CmdResult {
    let out = ctx.out;
    match command {
        ShipToCommand::Add(args) => {
            let id = account_id(&args.account)?;
            let ship_to = ctx.app.add_ship_to(id, &new_ship_to(&args)).await?;
            party::print_added(
                ctx,
                &render(&ship_to, &PartyBindings::default()),
                PartyKind::ShipTo,
                ship_to.code(),
                ship_to.details().name(),
                ship_to.is_primary(),
                id,
            );
        }
        ShipToCommand::List { account } => {
            let id = account_id(&account)?;
            let ship_tos = ctx.app.ship_tos(id).await?;
            let bindings = PartyBindings::load(ctx, id).await?;
            if out.json {
                out.json(&Value::Array(
                    ship_tos.iter().map(|s| render(s, &bindings)).collect(),
                ));
            } else {
                table(ctx, &ship_tos, &bindings);
            }
        }
        ShipToCommand::Remove { account, code } => {
            let id = account_id(&account)?;
            let removed = ctx.app.remove_ship_to(id, &code).await?;
            party::print_removed(
                ctx,
                &render(&removed, &PartyBindings::default()),
                PartyKind::ShipTo,
                removed.code(),
                id,
            );
        }
        ShipToCommand::Promote {
            account,
            code,
            integration,
        } => {
            return super::party_promote::promote_one(
                ctx,
                PartyKind::ShipTo,
                &account,
                &code,
                integration,
            )
            .await;
        }
        ShipToCommand::Import { file, report } => {
            return super::party_import::ship_tos(ctx, &file, report.as_ref()).await;
        }
    }
    Ok(ExitClass::Ok)
}

fn new_ship_to(args: &ShipToAddArgs) -> NewShipTo {
    let mut address =
        AddressInput::new(args.line1.clone(), args.city.clone(), args.country.clone());
    address.line2 = args.line2.clone();
    address.line3 = args.line3.clone();
    address.state = args.state.clone();
    address.postal_code = args.postal_code.clone();
    let mut input = NewShipTo::new(args.code.clone(), args.name.clone(), address);
    input.phone = args.phone.clone();
    input.email = args.email.clone();
    input.primary = args.primary;
    input
}

/// A ship-to as JSON (docs/cli.md), with its bindings.
pub(crate) fn render(s: &ShipTo, bindings: &PartyBindings) -> Value {
    let d = s.details();
    let a = d.address();
    json!({
        "account_id": s.account().to_string(),
        "code": s.code().as_str(),
        "name": d.name(),
        "address": {
            "line1": a.line1(), "line2": a.line2(), "line3": a.line3(),
            "city": a.city(), "state": a.state(), "postal_code": a.postal_code(),
            "country": a.country().alpha2(),
        },
        "phone": d.phone().map(|p| p.as_str()),
        "email": d.email().map(|e| e.as_str()),
        "primary": s.is_primary(),
        "bindings": bindings.json(&PartyCode::ShipTo(s.code().clone())),
    })
}

/// The ship-tos as a table.
pub(crate) fn table(ctx: &Ctx<'_>, ship_tos: &[ShipTo], bindings: &PartyBindings) {
    ctx.out.table(
        &[
            "code", "name", "address", "city", "country", "primary", "promoted",
        ],
        ship_tos
            .iter()
            .map(|s| {
                let d = s.details();
                let a = d.address();
                vec![
                    s.code().to_string(),
                    d.name().to_owned(),
                    a.line1().to_owned(),
                    a.city().to_owned(),
                    a.country().alpha2().to_owned(),
                    if s.is_primary() { "yes" } else { "" }.to_owned(),
                    bindings.cell(&PartyCode::ShipTo(s.code().clone())),
                ]
            })
            .collect(),
    );
}

impl From<ShipToError> for Failure {
    fn from(e: ShipToError) -> Self {
        let refusal = match &e {
            ShipToError::Invalid(fields) => Refusal::Invalid(fields),
            ShipToError::AccountNotFound(_) => Refusal::AccountNotFound,
            ShipToError::NotFound { account, .. } => Refusal::NotFound(*account),
            ShipToError::PrimaryTaken { .. } => Refusal::PrimaryTaken,
            _ => Refusal::Other,
        };
        party::failure(&e, PartyKind::ShipTo, refusal)
    }
}
