//! `crm2sage simulate`: the Sage simulator with demo data, until interrupted.

use std::net::SocketAddr;
use std::time::Duration;

use crm2sage_domain::ExitClass;
use crm2sage_sage_simulator::{Faults, Sage300Config, start_sage300_on};
use serde_json::json;

use super::CmdResult;
use crate::cli::{KindArg, SimulateArgs};
use crate::failure::Failure;
use crate::output::Out;

pub(crate) async fn run(out: Out, args: SimulateArgs) -> CmdResult {
    let default_port = match args.kind {
        KindArg::Sage300 => 8300,
        KindArg::Sage100 => 8100,
    };
    let addr = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)));
    if args.page_size == 0 {
        return Err(Failure::invalid("page-size", "must be at least 1"));
    }
    if args.kind == KindArg::Sage100 {
        return Err(Failure::new(
            ExitClass::Invalid,
            "unsupported",
            "the Sage 100 simulator is not available in this build yet; use --kind sage300",
        ));
    }
    let config = Sage300Config {
        page_size: args.page_size,
        faults: Faults {
            latency: Duration::from_millis(args.latency_ms),
            ..Faults::default()
        },
        ..Sage300Config::default()
    };
    let sim = start_sage300_on(addr, config).await.map_err(|e| {
        Failure::new(
            ExitClass::Invalid,
            "listen",
            format!("cannot start the simulator on {addr}: {e}"),
        )
    })?;
    if out.json {
        out.json(&json!({
            "kind": args.kind.as_str(),
            "url": sim.base_url(),
            "company": sim.company(),
            "user": sim.user(),
            "password": sim.password(),
        }));
    } else {
        out.line(format!(
            "Sage 300 simulator listening (demo data, page size {}, latency {} ms).",
            args.page_size, args.latency_ms
        ));
        out.line(format!("  url:      {}", sim.base_url()));
        out.line(format!("  company:  {}", sim.company()));
        out.line(format!("  user:     {}", sim.user()));
        out.line(format!(
            "  password: {}   (a simulator credential, not a secret)",
            sim.password()
        ));
        out.line("Try:");
        out.line(format!(
            "  export SIM_PASSWORD={} && crm2sage integration add sim --kind sage300 --url {} --company {} --user {} --password-env SIM_PASSWORD --default",
            sim.password(),
            sim.base_url(),
            sim.company(),
            sim.user()
        ));
        out.line("Press Ctrl-C to stop.");
    }
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::internal(format!("cannot wait for Ctrl-C: {e}")))?;
    sim.shutdown().await;
    out.note("Simulator stopped.");
    Ok(ExitClass::Ok)
}
