//! The suites that run on the in-memory fakes only (fast, no network): the domain's property
//! suites, the contract suites against the fakes, and the whole workflow — refusals, recover,
//! batches, secrets — on fakes.

#[path = "contracts.rs"]
mod contracts;
#[path = "duplicates.rs"]
mod duplicates;
#[path = "parties.rs"]
mod parties;
#[path = "party_promotion.rs"]
mod party_promotion;
#[path = "properties.rs"]
mod properties;
#[path = "secrets.rs"]
mod secrets;
#[path = "sync_holders.rs"]
mod sync_holders;
#[path = "workflow.rs"]
mod workflow;
