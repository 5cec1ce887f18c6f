//! `crm2sage simulate`: the Sage simulator with demo data, until interrupted.

use std::net::SocketAddr;
use std::time::Duration;

use crate::failure::ExitClass;
use serde_json::json;

use super::CmdResult;
use super::sim::Sim;
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
    let sim = Sim::start(
        args.kind,
        addr,
        args.page_size,
        Duration::from_millis(args.latency_ms),
    )
    .await
    .map_err(|e| {
        Failure::new(
            ExitClass::Invalid,
            "listen",
            format!("cannot start the simulator on {addr}: {e}; pick another --listen address"),
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
            "{} simulator listening (demo data, page size {}, latency {} ms).",
            sim.product(),
            args.page_size,
            args.latency_ms
        ));
        out.line(format!("  url:      {}", sim.base_url()));
        out.line(format!("  company:  {}", sim.company()));
        out.line(format!("  user:     {}", sim.user()));
        out.line(format!(
            "  password: {}   (a simulator credential, not a secret)",
            sim.password()
        ));
        let division = if args.kind == KindArg::Sage100 {
            " --division 01"
        } else {
            ""
        };
        out.line("Try:");
        out.line(format!(
            "  export SIM_PASSWORD={} && crm2sage integration add sim --kind {} --url {} --company {} --user {} --password-env SIM_PASSWORD{division} --default",
            sim.password(),
            args.kind.as_str(),
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
