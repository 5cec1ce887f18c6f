//! `crm2sage`: the command-line face of crm2sage.
//!
//! This binary is deliberately thin: it parses the command line (clap), builds crm2sage with the
//! `crm2sage` facade's builder (the SQLite store, or PostgreSQL for a `postgres://` `--db`; the
//! Sage adapters; secrets from environment variables — the facade's defaults), runs one command, and prints the result as tables or one
//! JSON document.
//! Every failure leaves with the exit code the spec assigns to its class.

mod cli;
mod commands;
mod csvfile;
mod failure;
mod listing;
mod output;
mod render;
mod report;

use std::process::ExitCode;

use crate::failure::ExitClass;
use clap::Parser;
use crm2sage::{Crm2Sage, HostId, SqliteStore};

use crate::cli::{Cli, Command};
use crate::commands::{CmdResult, Ctx};
use crate::failure::Failure;
use crate::output::Out;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    init_tracing(cli.verbose, cli.quiet);
    let out = Out::new(cli.json, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return finish(
                out,
                Err(Failure::internal(format!(
                    "cannot start the async runtime: {e}"
                ))),
            );
        }
    };
    let result = runtime.block_on(run(cli, out));
    finish(out, result)
}

async fn run(cli: Cli, out: Out) -> CmdResult {
    match cli.command {
        Command::Simulate(args) => return commands::simulate::run(out, args).await,
        Command::Demo(args) => return commands::demo::run(out, args).await,
        Command::Db(c) => return commands::db::run(out, c, cli.db.as_deref()).await,
        _ => {}
    }
    let host = host_id(cli.host_id.as_deref())?;
    let mut builder =
        match commands::db::Database::of(cli.db.as_deref()) {
            Some(commands::db::Database::Postgres(url)) => Crm2Sage::builder().postgres(url),
            Some(commands::db::Database::Sqlite(path)) => Crm2Sage::builder().sqlite(path),
            None => Crm2Sage::builder().sqlite(SqliteStore::default_path().map_err(|e| {
                Failure::of(&e, Some("give one with --db or CRM2SAGE_DB".to_owned()))
            })?),
        };
    if let Some(secs) = cli.lease_secs {
        builder = builder.lease(std::time::Duration::from_secs(secs));
    }
    if let Some(host) = host {
        builder = builder.host_id(host);
    }
    let crm2sage = builder.build().await.map_err(|e| Failure::of(&e, None))?;
    let ctx = Ctx {
        app: crm2sage.services(),
        out,
    };
    match cli.command {
        Command::Integration(c) => commands::integration::run(&ctx, c).await,
        Command::Sync(args) => commands::sync::run(&ctx, args).await,
        Command::Account(c) => commands::account::run(&ctx, c).await,
        Command::ShipTo(c) => commands::ship_to::run(&ctx, c).await,
        Command::Contact(c) => commands::contact::run(&ctx, c).await,
        Command::Promote(args) => commands::promote::run(&ctx, args).await,
        Command::ErpDetails(args) => commands::details::run(&ctx, args).await,
        Command::Link(args) => commands::links::link(&ctx, args).await,
        Command::Unlink(args) => commands::links::unlink(&ctx, args).await,
        Command::Match(args) => commands::matching::run(&ctx, args).await,
        Command::Reconcile(args) => commands::reconcile::run(&ctx, args).await,
        Command::Log(args) => commands::log::run(&ctx, args).await,
        Command::Recover(args) => commands::recover::run(&ctx, &args).await,
        Command::Simulate(_) | Command::Demo(_) | Command::Db(_) => Ok(ExitClass::Ok),
    }
}

/// The host id `--host-id` / `CRM2SAGE_HOST_ID` gives, if any (the hostname otherwise).
fn host_id(raw: Option<&str>) -> Result<Option<HostId>, Failure> {
    raw.map(HostId::parse).transpose().map_err(|e| {
        Failure::of(
            &e,
            Some("give another with --host-id or CRM2SAGE_HOST_ID".to_owned()),
        )
        .with_details(serde_json::json!({
            "fields": [{ "field": "host_id", "rule": e.to_string() }]
        }))
    })
}

fn finish(out: Out, result: CmdResult) -> ExitCode {
    match result {
        // A sync stopped by Ctrl-C printed its summary; it ends as interrupted.
        Ok(_) if commands::sync::interrupted() => ExitCode::from(commands::sync::INTERRUPTED_EXIT),
        Ok(class) => ExitCode::from(class.code()),
        Err(failure) => {
            tracing::debug!(kind = failure.kind, "command failed");
            out.fail(&failure);
            ExitCode::from(failure.class.code())
        }
    }
}

/// Clap's own errors: help and version are not errors; the rest are usage errors (exit 2), as
/// a JSON document when `--json` was given.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                2
            } else {
                0
            },
        );
    }
    if std::env::args().any(|a| a == "--json") {
        let failure = Failure::new(
            ExitClass::Usage,
            "usage",
            e.render().to_string().trim().to_owned(),
        );
        Out::new(true, false).fail(&failure);
    } else {
        let _ = e.print();
    }
    ExitCode::from(ExitClass::Usage.code())
}

fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CRM2SAGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!no_color && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
