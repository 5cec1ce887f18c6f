//! Starting a Sage 300 simulator and the handle tests use to steer and inspect it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use super::api::{Settings, Shared, handle};
use super::config::Sage300Config;
use super::data::Record;
use super::schema::Sage300Resource;
use super::store::{Tables, key_values, row_key};
use crate::faults::FaultState;
use crate::log::{LoggedRequest, RequestLog};
use crate::server::Server;
use crate::{Faults, SimulatorError};
use axum::Router;

/// Starts a Sage 300 simulator on `127.0.0.1` with a free port.
///
/// # Errors
/// [`SimulatorError::Bind`] if no port can be bound; [`SimulatorError::InvalidConfig`] for a
/// page size of 0, no users, or a seed record without its key.
pub async fn start_sage300(config: Sage300Config) -> Result<RunningSimulator, SimulatorError> {
    start_sage300_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
}

/// Starts a Sage 300 simulator on `addr` (e.g. `127.0.0.1:8300` for `crm2sage simulate`).
///
/// # Errors
/// As [`start_sage300`].
pub async fn start_sage300_on(
    addr: SocketAddr,
    config: Sage300Config,
) -> Result<RunningSimulator, SimulatorError> {
    if config.page_size == 0 {
        return Err(SimulatorError::InvalidConfig(
            "page_size must be at least 1".to_owned(),
        ));
    }
    if config.users.is_empty() {
        return Err(SimulatorError::InvalidConfig(
            "at least one user is needed".to_owned(),
        ));
    }
    let tables =
        Tables::from_data(&config.data, config.terms_key).map_err(SimulatorError::InvalidConfig)?;
    let shared = Arc::new(Shared {
        settings: Settings::from_config(&config),
        tables: Mutex::new(tables),
        faults: FaultState::new(config.faults.clone()),
        log: Arc::new(RequestLog::default()),
    });
    let router = Router::new().fallback(handle).with_state(shared.clone());
    let server = Server::bind(addr, router).await?;
    tracing::debug!(addr = %server.addr(), company = %config.company, "Sage 300 simulator listening");
    Ok(RunningSimulator { server, shared })
}

/// A running Sage 300 simulator. Dropping it stops the server (abruptly);
/// [`RunningSimulator::shutdown`] stops it and waits.
#[derive(Debug)]
pub struct RunningSimulator {
    server: Server,
    shared: Arc<Shared>,
}

impl RunningSimulator {
    /// The Web API root an integration is configured with: `http://127.0.0.1:PORT/Sage300WebApi`.
    pub fn base_url(&self) -> String {
        format!("http://{}/Sage300WebApi", self.server.addr())
    }

    /// The company root: `http://127.0.0.1:PORT/Sage300WebApi/v1.0/-/SAMLTD`. Append
    /// `/AR/ARCustomers` and so on.
    pub fn company_url(&self) -> String {
        format!(
            "{}/v1.0/-/{}",
            self.base_url(),
            self.shared.settings.company
        )
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The company served.
    pub fn company(&self) -> &str {
        &self.shared.settings.company
    }

    /// The first configured user's ID.
    pub fn user(&self) -> &str {
        self.shared
            .settings
            .users
            .first()
            .map_or("", |(u, _)| u.as_str())
    }

    /// The first configured user's password.
    pub fn password(&self) -> &str {
        self.shared
            .settings
            .users
            .first()
            .map_or("", |(_, p)| p.as_str())
    }

    /// Replaces the faults; applies to requests that arrive afterwards (and to the
    /// `slow_response` of requests in progress). Resets the error-rate PRNG to `faults.seed`.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults);
    }

    /// The faults now in force (a `DropAfterCommit::Next(n)` counts down as creates drop).
    pub fn faults(&self) -> Faults {
        self.shared.faults.get()
    }

    /// Every request answered or dropped so far, in the order they finished.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.log.entries()
    }

    /// Forgets the request log.
    pub fn clear_request_log(&self) {
        self.shared.log.clear();
    }

    /// The highest number of requests in flight at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.shared.log.max_in_flight()
    }

    /// Restarts [`RunningSimulator::max_in_flight`] from the number in flight now.
    pub fn reset_max_in_flight(&self) {
        self.shared.log.reset_max_in_flight();
    }

    /// How many `POST`s to `ARCustomers` the log holds (whatever their outcome).
    pub fn count_posts(&self) -> usize {
        self.request_log()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/ARCustomers"))
            .count()
    }

    /// Every customer as stored (dates with `Z`, whatever the date style), in key order.
    pub fn customers(&self) -> Vec<Record> {
        self.records(Sage300Resource::Customers)
    }

    /// One customer by its exact number.
    pub fn customer(&self, number: &str) -> Option<Record> {
        self.record(Sage300Resource::Customers, &[number])
    }

    /// Adds or replaces a customer, e.g. "someone else created it meanwhile". Properties left
    /// out get their defaults; no business rule is checked.
    ///
    /// # Panics
    /// If the record has no `CustomerNumber` string (a test bug).
    pub fn insert_customer(&self, record: Record) {
        self.insert_record(Sage300Resource::Customers, record);
    }

    /// Every record of a resource as stored (every property, defaults filled in), in key order.
    pub fn records(&self, resource: Sage300Resource) -> Vec<Record> {
        let tables = self.shared.tables();
        tables
            .rows(resource)
            .values()
            .map(|r| tables.full(resource, r))
            .collect()
    }

    /// One record by its exact key values, in key order (`["CALIF", "Sales"]` for a tax group).
    pub fn record(&self, resource: Sage300Resource, key: &[&str]) -> Option<Record> {
        let tables = self.shared.tables();
        tables
            .get(resource, &row_key(resource, key))
            .map(|r| tables.full(resource, r))
    }

    /// Adds or replaces a record (defaults filled in; terms may use `TermsCode` whatever the
    /// key setting). Seeds state between requests, e.g. a group turned inactive.
    ///
    /// # Panics
    /// If the record lacks its key properties (a test bug).
    pub fn insert_record(&self, resource: Sage300Resource, record: Record) {
        let tk = self.shared.settings.terms_key;
        let result = self.shared.tables().insert(resource, &record, tk);
        if let Err(e) = result {
            panic!("insert_record: {e}");
        }
    }

    /// Removes a record by its exact key values; returns it if it existed.
    pub fn remove_record(&self, resource: Sage300Resource, key: &[&str]) -> Option<Record> {
        let mut tables = self.shared.tables();
        let removed = tables.remove(resource, &row_key(resource, key));
        removed.map(|r| tables.full(resource, &r))
    }

    /// The key values of a record of `resource` (helper for tests that hold records).
    pub fn key_of(&self, resource: Sage300Resource, record: &Record) -> Option<Vec<String>> {
        key_values(resource, record, self.shared.settings.terms_key)
            .map(|v| v.into_iter().map(str::to_owned).collect())
    }

    /// Stops accepting, closes every connection and waits.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<RunningSimulator>();
};
