//! The simulator's own errors (starting and stopping it; never the wire errors it serves).

use std::net::SocketAddr;

/// Why a simulator could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulatorError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is unusable (e.g. a page size of 0).
    #[error("invalid simulator configuration: {0}")]
    InvalidConfig(String),
}
