//! The simulator in its own process: `serve` runs it, [`Sim::spawn`] starts and stops it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crm2sage_sage_simulator::{Catalogue, Faults, Sage300Config, Sage300Data, start_sage300_on};
use serde_json::json;

/// Where the simulator listens and how to log in.
#[derive(Debug, Clone)]
pub(crate) struct SimInfo {
    /// The Web API root (`http://127.0.0.1:PORT/Sage300WebApi`).
    pub(crate) base_url: String,
    /// The company root (`…/v1.0/-/SAMLTD`).
    pub(crate) company_url: String,
    pub(crate) company: String,
    pub(crate) user: String,
    pub(crate) password: String,
}

/// What the simulator child serves besides the demo data.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Seed {
    /// Generated customer groups.
    pub(crate) groups: usize,
    /// Seeded customers (`RunningSage300::seed_customers(customers, 1)`: `S000001`…, named
    /// `Customer 000001 Ltd`, …).
    pub(crate) customers: usize,
}

/// The `serve` subcommand: a Sage 300 simulator on a free loopback port, its address as one JSON
/// line on stdout, until stdin closes.
pub(crate) async fn serve(latency_ms: u64, page_size: usize, seed: Seed) -> Result<(), String> {
    let Seed { groups, customers } = seed;
    let built = Instant::now();
    let config = Sage300Config {
        page_size,
        faults: Faults {
            latency: Duration::from_millis(latency_ms),
            ..Faults::default()
        },
        data: Sage300Data::generated(Catalogue {
            groups,
            ..Catalogue::default()
        }),
        ..Sage300Config::default()
    };
    let sim = start_sage300_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config)
        .await
        .map_err(|e| format!("the simulator did not start: {e}"))?;
    if customers > 0 {
        sim.seed_customers(customers, 1);
    }
    crate::note!(
        "simulator at {} ({groups} generated groups, {customers} seeded customers, pages of {page_size}, latency {latency_ms} ms) ready in {:.1} s",
        sim.base_url(),
        built.elapsed().as_secs_f64()
    );
    let line = json!({
        "base_url": sim.base_url(),
        "company_url": sim.company_url(),
        "company": sim.company(),
        "user": sim.user(),
        "password": sim.password(),
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing the address: {e}"))?;
    }
    // Until the parent closes our stdin (or dies).
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        std::io::stdin().read_to_end(&mut sink)
    })
    .await;
    sim.shutdown().await;
    Ok(())
}

/// A simulator child process; dropping it closes its stdin and waits for it to end.
#[derive(Debug)]
pub(crate) struct Sim {
    child: Child,
    pub(crate) info: SimInfo,
}

impl Sim {
    /// Starts `crm2sage-bench serve` and reads its address.
    pub(crate) fn spawn(latency_ms: u64, page_size: usize, groups: usize) -> Result<Sim, String> {
        Self::spawn_seeded(
            latency_ms,
            page_size,
            Seed {
                groups,
                customers: 0,
            },
        )
    }

    /// Two simulators started alike: one for ours, one for the baseline (so neither side's
    /// requests meet the customers the other created).
    pub(crate) fn spawn_pair(
        latency_ms: u64,
        page_size: usize,
        groups: usize,
    ) -> Result<(Sim, Sim), String> {
        let ours = Self::spawn(latency_ms, page_size, groups)?;
        let baseline = Self::spawn(latency_ms, page_size, groups)?;
        Ok((ours, baseline))
    }

    /// [`Sim::spawn`] with seeded customers too.
    pub(crate) fn spawn_seeded(
        latency_ms: u64,
        page_size: usize,
        seed: Seed,
    ) -> Result<Sim, String> {
        let exe = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
        let mut child = Command::new(exe)
            .args([
                "serve",
                "--latency-ms",
                &latency_ms.to_string(),
                "--page-size",
                &page_size.to_string(),
                "--groups",
                &seed.groups.to_string(),
                "--seed-customers",
                &seed.customers.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting the simulator: {e}"))?;
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .ok_or_else(|| "the simulator has no stdout".to_owned())
            .and_then(|out| {
                BufReader::new(out)
                    .read_line(&mut line)
                    .map_err(|e| format!("reading the simulator's address: {e}"))
            });
        // From here on, dropping `sim` stops the child.
        let mut sim = Sim {
            child,
            info: SimInfo {
                base_url: String::new(),
                company_url: String::new(),
                company: String::new(),
                user: String::new(),
                password: String::new(),
            },
        };
        read?;
        let v: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| format!("the simulator's address line `{line}`: {e}"))?;
        let field = |name: &str| {
            v[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("the simulator's address line lacks `{name}`: {line}"))
        };
        sim.info = SimInfo {
            base_url: field("base_url")?,
            company_url: field("company_url")?,
            company: field("company")?,
            user: field("user")?,
            password: field("password")?,
        };
        Ok(sim)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
