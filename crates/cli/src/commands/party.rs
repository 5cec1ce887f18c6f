//! What `ship-to` and `contact` share: the line an add or a remove prints, and how either
//! service's error becomes a failure with its hint.

use std::fmt::Display;

use crm2sage_domain::{AccountId, ErrorCode, InvalidFields, PartyKind};
use serde_json::Value;

use super::Ctx;
use crate::failure::Failure;

/// The variants of a ship-to's or contact's service error the CLI hints at.
pub(crate) enum Refusal<'a> {
    Invalid(&'a InvalidFields),
    AccountNotFound,
    NotFound(AccountId),
    PrimaryTaken,
    Other,
}

/// `e`, a ship-to's or contact's service error that is `refusal`, as a failure.
pub(crate) fn failure<E: ErrorCode>(e: &E, kind: PartyKind, refusal: Refusal<'_>) -> Failure {
    let hint = match refusal {
        Refusal::Invalid(fields) => {
            return Failure::of(e, None).with_details(super::party_import::fields_json(fields));
        }
        Refusal::AccountNotFound => Some("`crm2sage account list` shows the accounts".to_owned()),
        Refusal::NotFound(account) => Some(format!(
            "`crm2sage {kind} list {account}` shows its {kind}s"
        )),
        Refusal::PrimaryTaken => {
            Some("add it without --primary, or remove the primary one first".to_owned())
        }
        Refusal::Other => None,
    };
    Failure::of(e, hint)
}

/// Prints a party just added: its JSON, or one line.
pub(crate) fn print_added(
    ctx: &Ctx<'_>,
    json: &Value,
    kind: PartyKind,
    code: &dyn Display,
    name: &str,
    primary: bool,
    account: AccountId,
) {
    if ctx.out.json {
        ctx.out.json(json);
    } else {
        let primary = if primary { ", primary" } else { "" };
        ctx.out.line(format!(
            "Added {kind} {code} ({name}) to account {account}{primary}."
        ));
    }
}

/// Prints a party just removed: its JSON, or one line.
pub(crate) fn print_removed(
    ctx: &Ctx<'_>,
    json: &Value,
    kind: PartyKind,
    code: &dyn Display,
    account: AccountId,
) {
    if ctx.out.json {
        ctx.out.json(json);
    } else {
        ctx.out
            .line(format!("Removed {kind} {code} from account {account}."));
    }
}
