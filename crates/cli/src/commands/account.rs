//! `crm2sage account new|update|upsert|list|show`.

use crate::failure::ExitClass;
use crm2sage_domain::ports::AccountFilter;
use crm2sage_domain::{Account, AddressInput, NewAccount};
use serde_json::{Value, json};

use super::{CmdResult, Ctx, account_id, integration_names};
use crate::cli::{AccountCommand, AccountListArgs, AccountNewArgs, AccountUpdateArgs};
use crate::listing::{self, Render};
use crate::render;

pub(crate) async fn run(ctx: &Ctx<'_>, command: AccountCommand) -> CmdResult {
    let out = ctx.out;
    match command {
        AccountCommand::New(args) => {
            let account = ctx.app.create_account(&new_account(&args)).await?;
            if out.json {
                out.json(&render::account(&account));
            } else {
                out.line(format!(
                    "Created account {} ({}).",
                    account.id(),
                    account.details().name()
                ));
                out.line(format!(
                    "Next: `crm2sage promote {} --customer-no NO ...`",
                    account.id()
                ));
            }
        }
        AccountCommand::Update(args) => {
            let id = account_id(&args.id)?;
            let stored = ctx.app.show_account(id).await?.account;
            let input = changed(stored.details().to_input(), &args);
            let account = ctx.app.update_account(id, &input).await?;
            if out.json {
                out.json(&render::account(&account));
            } else {
                out.line(format!(
                    "Updated account {} ({}).",
                    account.id(),
                    account.details().name()
                ));
            }
        }
        AccountCommand::Upsert(args) => {
            let reference = args.reference.clone().unwrap_or_default();
            let (account, what) = ctx
                .app
                .upsert_account(&reference, &new_account(&args))
                .await?;
            if out.json {
                out.json(
                    &json!({ "outcome": what.as_str(), "account": render::account(&account) }),
                );
            } else {
                out.line(format!(
                    "Account {} ({}): {}.",
                    account.id(),
                    account.details().name(),
                    what.as_str()
                ));
            }
        }
        AccountCommand::List(args) => return list(ctx, &args).await,
        AccountCommand::Import { file, report } => {
            return super::import::run(ctx, &file, report.as_ref()).await;
        }
        AccountCommand::Show { id } => {
            let view = ctx.app.show_account(account_id(&id)?).await?;
            let names = integration_names(ctx.app.store().as_ref()).await?;
            let name = |id| names.get(&id).map_or("?", String::as_str);
            let parties = super::party_promote::PartyBindings::load(ctx, view.account.id()).await?;
            if out.json {
                let mut doc = render::account(&view.account);
                if let Some(map) = doc.as_object_mut() {
                    map.insert(
                        "bindings".into(),
                        Value::Array(
                            view.bindings
                                .iter()
                                .map(|b| render::binding(b, name(b.integration)))
                                .collect(),
                        ),
                    );
                    map.insert(
                        "promotions".into(),
                        Value::Array(
                            view.promotions
                                .iter()
                                .map(|p| render::promotion(p, name(p.integration)))
                                .collect(),
                        ),
                    );
                    map.insert(
                        "ship_tos".into(),
                        Value::Array(
                            view.ship_tos
                                .iter()
                                .map(|s| super::ship_to::render(s, &parties))
                                .collect(),
                        ),
                    );
                    map.insert(
                        "contacts".into(),
                        Value::Array(
                            view.contacts
                                .iter()
                                .map(|c| super::contact::render(c, &parties))
                                .collect(),
                        ),
                    );
                }
                out.json(&json!({ "account": doc.clone(), "bindings": doc["bindings"], "promotions": doc["promotions"], "ship_tos": doc["ship_tos"], "contacts": doc["contacts"] }));
            } else {
                let d = view.account.details();
                let a = d.billing();
                out.line(format!("Account {}", view.account.id()));
                out.line(format!("  name:     {}", d.name()));
                let lines: Vec<&str> = [Some(a.line1()), a.line2(), a.line3()]
                    .into_iter()
                    .flatten()
                    .collect();
                out.line(format!(
                    "  billing:  {}, {} {} {} {}",
                    lines.join(", "),
                    a.city(),
                    a.state().unwrap_or(""),
                    a.postal_code().unwrap_or(""),
                    a.country().alpha2()
                ));
                for (label, value) in [
                    ("phone", d.phone().map(|v| v.as_str().to_owned())),
                    ("email", d.email().map(|v| v.as_str().to_owned())),
                    ("website", d.website().map(|v| v.as_str().to_owned())),
                    ("currency", d.currency().map(|v| v.as_str().to_owned())),
                    ("language", d.language().map(|v| v.as_str().to_owned())),
                    ("terms", d.terms().map(|v| v.as_str().to_owned())),
                ] {
                    if let Some(value) = value {
                        out.line(format!("  {label:<9} {value}"));
                    }
                }
                out.line("Bindings:");
                out.table(
                    &[
                        "integration",
                        "customer no",
                        "External UID",
                        "Integration key",
                        "promoted",
                    ],
                    view.bindings
                        .iter()
                        .map(|b| {
                            vec![
                                name(b.integration).to_owned(),
                                b.customer_no.to_string(),
                                b.external_uid.to_string(),
                                b.integration_key.to_string(),
                                render::when(b.promoted_at),
                            ]
                        })
                        .collect(),
                );
                out.line("Ship-tos:");
                super::ship_to::table(ctx, &view.ship_tos, &parties);
                out.line("Contacts:");
                super::contact::table(ctx, &view.contacts, &parties);
                out.line("Promotions:");
                out.table(
                    &["id", "integration", "customer no", "state", "error"],
                    view.promotions
                        .iter()
                        .map(|p| {
                            vec![
                                p.id.to_string(),
                                name(p.integration).to_owned(),
                                p.request.customer_no().to_string(),
                                p.state.to_string(),
                                p.error.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                );
            }
        }
    }
    Ok(ExitClass::Ok)
}

pub(crate) fn new_account(args: &AccountNewArgs) -> NewAccount {
    let mut new_account = NewAccount::new(args.name.clone(), {
        let mut address =
            AddressInput::new(args.line1.clone(), args.city.clone(), args.country.clone());
        address.line2 = args.line2.clone();
        address.line3 = args.line3.clone();
        address.state = args.state.clone();
        address.postal_code = args.postal_code.clone();
        address
    });
    new_account.phone = args.phone.clone();
    new_account.email = args.email.clone();
    new_account.website = args.website.clone();
    new_account.currency = args.currency.clone();
    new_account.language = args.language.clone();
    new_account.terms = args.terms.clone();
    new_account.reference = args.reference.clone();
    new_account
}

/// The stored input with every field the command line gave replaced.
fn changed(mut input: NewAccount, args: &AccountUpdateArgs) -> NewAccount {
    let set = |field: &mut String, value: &Option<String>| {
        if let Some(v) = value {
            field.clone_from(v);
        }
    };
    let set_opt = |field: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            field.clone_from(value);
        }
    };
    set(&mut input.name, &args.name);
    let b = &mut input.billing;
    set(&mut b.line1, &args.line1);
    set_opt(&mut b.line2, &args.line2);
    set_opt(&mut b.line3, &args.line3);
    set(&mut b.city, &args.city);
    set_opt(&mut b.state, &args.state);
    set_opt(&mut b.postal_code, &args.postal_code);
    set(&mut b.country, &args.country);
    set_opt(&mut input.phone, &args.phone);
    set_opt(&mut input.email, &args.email);
    set_opt(&mut input.website, &args.website);
    set_opt(&mut input.currency, &args.currency);
    set_opt(&mut input.language, &args.language);
    set_opt(&mut input.terms, &args.terms);
    set_opt(&mut input.reference, &args.reference);
    input
}

/// `account list`: pages of accounts by id, printed as they are read.
async fn list(ctx: &Ctx<'_>, args: &AccountListArgs) -> CmdResult {
    let filter = if args.promoted {
        AccountFilter::Promoted
    } else if args.pending {
        AccountFilter::Pending
    } else {
        AccountFilter::All
    };
    let after = args.after.as_deref().map(account_id).transpose()?;
    let store = ctx.app.store();
    let row = |a: &Account| {
        let d = a.details();
        vec![
            a.id().to_string(),
            d.name().to_string(),
            d.billing().city().to_owned(),
            d.billing().country().alpha2().to_owned(),
            render::when(a.created_at()),
        ]
    };
    let render = Render {
        header: &["id", "name", "city", "country", "created"],
        json: &render::account,
        row: &row,
    };
    let more = listing::stream(
        ctx.out,
        args.limit,
        after,
        Account::id,
        |after, limit| async move { Ok(store.accounts_page(filter, after, limit).await?) },
        &render,
    )
    .await?;
    listing::note_more(ctx.out, more);
    Ok(ExitClass::Ok)
}
