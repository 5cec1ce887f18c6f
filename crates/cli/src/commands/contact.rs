//! `crm2sage contact add|list|promote|remove|import`: an account's contacts.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use crm2sage_domain::services::ContactError;
use crm2sage_domain::{Contact, NewContact, PartyCode, PartyKind};
use serde_json::{Value, json};

use super::party::{self, Refusal};
use super::party_promote::PartyBindings;
use super::{CmdResult, Ctx, account_id};
use crate::failure::{ExitClass, Failure};

#[derive(Debug, Subcommand)]
pub(crate) enum ContactCommand {
    /// Add a contact to an account (every invalid field is reported at once). Codes are 1-10
    /// letters or digits, unique within the account; an account has at most one primary
    /// contact (a second is refused: exit 5).
    Add(Box<ContactAddArgs>),
    /// List an account's contacts, by code.
    List {
        /// Account id (see `crm2sage account list`).
        account: String,
    },
    /// Promote one contact of a promoted account to its ERP customer, exactly once (the
    /// account must be promoted to that integration: else exit 3). On a Sage 300 without
    /// contacts only the primary contact can be promoted (into the customer's own contact
    /// fields). Promoting it again is `already promoted`, exit 0.
    Promote {
        /// Account id.
        account: String,
        /// The contact's code.
        code: String,
        /// Integration name [default: the default integration].
        #[arg(long)]
        integration: Option<String>,
    },
    /// Remove an account's contact (its bindings, if promoted, stay in the log and the ERP
    /// keeps the contact).
    Remove {
        /// Account id.
        account: String,
        /// The contact's code.
        code: String,
    },
    /// Import contacts from a CSV file whose rows name their account by `account_ref` (the
    /// account's CRM reference); see docs/cli.md. Each row is an upsert by (account, code), so
    /// importing a file again is safe.
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
pub(crate) struct ContactAddArgs {
    /// Account id (see `crm2sage account list`).
    pub(crate) account: String,
    /// Code: 1-10 letters or digits, unique within the account.
    #[arg(long)]
    pub(crate) code: String,
    /// The person's name (1-60).
    #[arg(long)]
    pub(crate) name: String,
    /// Job title (up to 40).
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// Telephone.
    #[arg(long)]
    pub(crate) phone: Option<String>,
    /// Email.
    #[arg(long)]
    pub(crate) email: Option<String>,
    /// Make it the account's primary contact (refused when it has one).
    #[arg(long)]
    pub(crate) primary: bool,
}

pub(crate) async fn run(ctx: &Ctx<'_>, command: ContactCommand) -> CmdResult {
    let out = ctx.out;
    match command {
        ContactCommand::Add(args) => {
            let id = account_id(&args.account)?;
            let mut input = NewContact::new(args.code.clone(), args.name.clone());
            input.title.clone_from(&args.title);
            input.phone.clone_from(&args.phone);
            input.email.clone_from(&args.email);
            input.primary = args.primary;
            let contact = ctx.app.add_contact(id, &input).await?;
            party::print_added(
                ctx,
                &render(&contact, &PartyBindings::default()),
                PartyKind::Contact,
                contact.code(),
                contact.details().name(),
                contact.is_primary(),
                id,
            );
        }
        ContactCommand::List { account } => {
            let id = account_id(&account)?;
            let contacts = ctx.app.contacts(id).await?;
            let bindings = PartyBindings::load(ctx, id).await?;
            if out.json {
                out.json(&Value::Array(
                    contacts.iter().map(|c| render(c, &bindings)).collect(),
                ));
            } else {
                table(ctx, &contacts, &bindings);
            }
        }
        ContactCommand::Remove { account, code } => {
            let id = account_id(&account)?;
            let removed = ctx.app.remove_contact(id, &code).await?;
            party::print_removed(
                ctx,
                &render(&removed, &PartyBindings::default()),
                PartyKind::Contact,
                removed.code(),
                id,
            );
        }
        ContactCommand::Promote {
            account,
            code,
            integration,
        } => {
            return super::party_promote::promote_one(
                ctx,
                PartyKind::Contact,
                &account,
                &code,
                integration,
            )
            .await;
        }
        ContactCommand::Import { file, report } => {
            return super::party_import::contacts(ctx, &file, report.as_ref()).await;
        }
    }
    Ok(ExitClass::Ok)
}

/// A contact as JSON (docs/cli.md), with its bindings.
pub(crate) fn render(c: &Contact, bindings: &PartyBindings) -> Value {
    let d = c.details();
    json!({
        "account_id": c.account().to_string(),
        "code": c.code().as_str(),
        "name": d.name(),
        "title": d.title(),
        "phone": d.phone().map(|p| p.as_str()),
        "email": d.email().map(|e| e.as_str()),
        "primary": c.is_primary(),
        "bindings": bindings.json(&PartyCode::Contact(c.code().clone())),
    })
}

/// The contacts as a table.
pub(crate) fn table(ctx: &Ctx<'_>, contacts: &[Contact], bindings: &PartyBindings) {
    ctx.out.table(
        &[
            "code", "name", "title", "phone", "email", "primary", "promoted",
        ],
        contacts
            .iter()
            .map(|c| {
                let d = c.details();
                vec![
                    c.code().to_string(),
                    d.name().to_owned(),
                    d.title().unwrap_or_default().to_owned(),
                    d.phone().map(|p| p.as_str().to_owned()).unwrap_or_default(),
                    d.email().map(|e| e.as_str().to_owned()).unwrap_or_default(),
                    if c.is_primary() { "yes" } else { "" }.to_owned(),
                    bindings.cell(&PartyCode::Contact(c.code().clone())),
                ]
            })
            .collect(),
    );
}

impl From<ContactError> for Failure {
    fn from(e: ContactError) -> Self {
        let refusal = match &e {
            ContactError::Invalid(fields) => Refusal::Invalid(fields),
            ContactError::AccountNotFound(_) => Refusal::AccountNotFound,
            ContactError::NotFound { account, .. } => Refusal::NotFound(*account),
            ContactError::PrimaryTaken { .. } => Refusal::PrimaryTaken,
            _ => Refusal::Other,
        };
        party::failure(&e, PartyKind::Contact, refusal)
    }
}
