//! The embedded simulators behind one face, for `demo` and `simulate`.

use std::net::SocketAddr;
use std::time::Duration;

use crm2sage_sage_simulator::{
    Faults, RunningSage100, RunningSage300, Sage100Config, Sage300Config, SimulatorError,
    start_sage100_on, start_sage300_on,
};

use crate::cli::KindArg;

/// A running Sage 300 or Sage 100 simulator with demo data.
pub(crate) enum Sim {
    Sage300(RunningSage300),
    Sage100(RunningSage100),
}

impl Sim {
    pub(crate) async fn start(
        kind: KindArg,
        addr: SocketAddr,
        page_size: usize,
        latency: Duration,
    ) -> Result<Self, SimulatorError> {
        let faults = Faults {
            latency,
            ..Faults::default()
        };
        Ok(match kind {
            KindArg::Sage300 => Sim::Sage300(
                start_sage300_on(
                    addr,
                    Sage300Config {
                        page_size,
                        faults,
                        ..Sage300Config::default()
                    },
                )
                .await?,
            ),
            KindArg::Sage100 => Sim::Sage100(
                start_sage100_on(
                    addr,
                    Sage100Config {
                        page_size,
                        faults,
                        ..Sage100Config::default()
                    },
                )
                .await?,
            ),
        })
    }

    pub(crate) fn base_url(&self) -> String {
        match self {
            Sim::Sage300(s) => s.base_url(),
            Sim::Sage100(s) => s.base_url(),
        }
    }

    pub(crate) fn company(&self) -> &str {
        match self {
            Sim::Sage300(s) => s.company(),
            Sim::Sage100(s) => s.company(),
        }
    }

    pub(crate) fn user(&self) -> &str {
        match self {
            Sim::Sage300(s) => s.user(),
            Sim::Sage100(s) => s.user(),
        }
    }

    pub(crate) fn password(&self) -> &str {
        match self {
            Sim::Sage300(s) => s.password(),
            Sim::Sage100(s) => s.password(),
        }
    }

    pub(crate) fn count_posts(&self) -> usize {
        match self {
            Sim::Sage300(s) => s.count_posts(),
            Sim::Sage100(s) => s.count_posts(),
        }
    }

    /// The ship-tos and contacts the simulator created (committed creates).
    pub(crate) fn party_creates(&self) -> (usize, usize) {
        use crm2sage_sage_simulator::{Sage100Resource, Sage300Resource};
        match self {
            Sim::Sage300(s) => (
                s.creates(Sage300Resource::ShipToLocations),
                s.creates(Sage300Resource::Contacts),
            ),
            Sim::Sage100(s) => (
                s.creates(Sage100Resource::ShipToAddresses),
                s.creates(Sage100Resource::CustomerContacts),
            ),
        }
    }

    pub(crate) fn product(&self) -> &'static str {
        match self {
            Sim::Sage300(_) => "Sage 300",
            Sim::Sage100(_) => "Sage 100",
        }
    }

    pub(crate) async fn shutdown(self) {
        match self {
            Sim::Sage300(s) => s.shutdown().await,
            Sim::Sage100(s) => s.shutdown().await,
        }
    }
}
