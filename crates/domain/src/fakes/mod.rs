//! In-memory fakes of every port, for tests of this crate and of every crate that embeds it
//! (feature `test-support`). They keep the ports' contracts — the same contract suites
//! ([`crate::contract`]) run against them and against the real adapters — so a test on fakes
//! means something.

mod erp;
mod erp_customers;
mod erp_panel;
mod erp_parties;
mod store;
mod system;

pub use erp::{ErpFault, FakeErp, FakeErpGateway};
pub use store::MemoryStore;
pub use system::{FakeProcesses, FixedSecrets, ManualClock};
