//! Starting a Sage 100 simulator and the handle tests use to steer and inspect it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::api::{Settings, Shared};
use super::config::Sage100Config;
use super::data::Sage100Record;
use super::schema::Sage100Resource;
use super::store::Tables;
use crate::SimulatorError;
use crate::pipeline::{self, Common};
use crate::running::running_handle;

mod edit;

/// Starts a Sage 100 SData simulator on `addr` (e.g. `127.0.0.1:8100` for `crm2sage simulate`).
///
/// # Errors
/// As [`start_sage100`].
pub async fn start_sage100_on(
    addr: SocketAddr,
    config: Sage100Config,
) -> Result<RunningSage100, SimulatorError> {
    pipeline::check_config(config.page_size, &config.users)?;
    let invalid = |m: &str| Err(SimulatorError::InvalidConfig(m.to_owned()));
    if config.customer_name_max == 0 {
        return invalid("customer_name_max must be at least 1");
    }
    if config
        .ship_method_table
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.contains(['/', '(', ')']))
    {
        return invalid("ship_method_table must be a plain table name");
    }
    let tables = Tables::from_data(&config.data).map_err(SimulatorError::InvalidConfig)?;
    RunningSage100::bind(
        addr,
        Shared {
            settings: Settings::from_config(&config),
            tables: Mutex::new(tables),
            common: Common::new(
                &config.users,
                &config.forbidden_users,
                config.faults.clone(),
            ),
            malformed: AtomicBool::new(config.malformed_xml),
        },
    )
    .await
}

/// Starts a Sage 100 SData simulator on `127.0.0.1` with a free port.
///
/// # Errors
/// [`SimulatorError::Bind`] if no port can be bound; [`SimulatorError::InvalidConfig`] for a
/// page size of 0, no users, a `customer_name_max` of 0, an empty ship-method table name, or a
/// seed row without its key columns.
pub async fn start_sage100(config: Sage100Config) -> Result<RunningSage100, SimulatorError> {
    start_sage100_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
}

impl RunningSage100 {
    /// The company root: `http://127.0.0.1:PORT/sdata/MasApp/MasContract/ABC`. Append
    /// `/AR_Customer` and so on.
    pub fn company_url(&self) -> String {
        format!("{}/{}", self.base_url(), self.shared.settings.company)
    }

    /// The name the ship-method table is served under, when the server has one.
    pub fn ship_method_table(&self) -> Option<&str> {
        self.shared.settings.ship_method_table.as_deref()
    }

    /// Turns the malformed-XML fault on or off: every successful body is cut in half.
    pub fn set_malformed_xml(&self, on: bool) {
        self.shared.malformed.store(on, Ordering::SeqCst);
    }

    /// Every customer as stored, in key order (division, then number).
    pub fn customers(&self) -> Vec<Sage100Record> {
        self.records(Sage100Resource::Customers)
    }

    /// One customer by its exact division and number (`("01", "ABF")`).
    pub fn customer(&self, division: &str, number: &str) -> Option<Sage100Record> {
        self.record(Sage100Resource::Customers, &[division, number])
    }

    /// Adds or replaces a customer, e.g. "someone else created it meanwhile". No rule is
    /// checked; columns left out are null.
    ///
    /// # Panics
    /// If the row lacks `ARDivisionNo` or `CustomerNo` (a test bug).
    pub fn insert_customer(&self, row: Sage100Record) {
        self.insert_record(Sage100Resource::Customers, row);
    }

    /// A customer's ship-to addresses (`SO_ShipToAddress`) as stored, in key order.
    pub fn ship_tos(&self, division: &str, customer: &str) -> Vec<Sage100Record> {
        self.parts(Sage100Resource::ShipToAddresses, division, customer)
    }

    /// One ship-to address by its exact division, customer number and `ShipToCode`.
    pub fn ship_to(&self, division: &str, customer: &str, code: &str) -> Option<Sage100Record> {
        self.record(
            Sage100Resource::ShipToAddresses,
            &[division, customer, code],
        )
    }

    /// A customer's contacts (`AR_CustomerContact`) as stored, in key order.
    pub fn contacts(&self, division: &str, customer: &str) -> Vec<Sage100Record> {
        self.parts(Sage100Resource::CustomerContacts, division, customer)
    }

    /// One contact by its exact division, customer number and `ContactCode`.
    pub fn contact(&self, division: &str, customer: &str, code: &str) -> Option<Sage100Record> {
        self.record(
            Sage100Resource::CustomerContacts,
            &[division, customer, code],
        )
    }

    /// The customer's `PrimaryShipToCode`; `None` when the customer does not exist or names none.
    pub fn primary_ship_to(&self, division: &str, customer: &str) -> Option<String> {
        self.customer(division, customer)?
            .get("PrimaryShipToCode")
            .map(str::to_owned)
    }

    /// The customer's `ContactCode` (its primary contact); `None` when the customer does not
    /// exist or names none.
    pub fn primary_contact(&self, division: &str, customer: &str) -> Option<String> {
        self.customer(division, customer)?
            .get("ContactCode")
            .map(str::to_owned)
    }

    /// How many creates of `resource` the API committed so far (refused ones are not counted;
    /// one committed and then dropped is). Seeding through the handle is not counted.
    pub fn creates(&self, resource: Sage100Resource) -> usize {
        self.shared.tables().creates(resource)
    }

    fn parts(
        &self,
        resource: Sage100Resource,
        division: &str,
        customer: &str,
    ) -> Vec<Sage100Record> {
        let prefix = [division.to_owned(), customer.to_owned()];
        self.shared
            .tables()
            .rows_with_prefix(resource, &prefix)
            .cloned()
            .collect()
    }

    /// Every row of a table as stored, in key order (whether or not the table is served).
    pub fn records(&self, resource: Sage100Resource) -> Vec<Sage100Record> {
        self.shared.tables().rows(resource).cloned().collect()
    }

    /// One row by its exact key values, in key order (`["01", "0100"]` for a salesperson).
    pub fn record(&self, resource: Sage100Resource, key: &[&str]) -> Option<Sage100Record> {
        let key: Vec<String> = key.iter().map(|s| (*s).to_owned()).collect();
        self.shared.tables().get(resource, &key).cloned()
    }

    /// Adds or replaces a row.
    ///
    /// # Panics
    /// If the row lacks its key columns (a test bug).
    pub fn insert_record(&self, resource: Sage100Resource, row: Sage100Record) {
        let result = self.shared.tables().insert(resource, row);
        if let Err(e) = result {
            panic!("insert_record: {e}");
        }
    }

    /// Removes a row by its exact key values; returns it if it existed.
    pub fn remove_record(&self, resource: Sage100Resource, key: &[&str]) -> Option<Sage100Record> {
        let key: Vec<String> = key.iter().map(|s| (*s).to_owned()).collect();
        self.shared.tables().remove(resource, &key)
    }
}

running_handle!(
/// A running Sage 100 SData simulator. Dropping it stops the server (abruptly);
/// [`RunningSage100::shutdown`] stops it and waits.
///
/// Faults ([`RunningSage100::set_faults`]) on the wire: the concurrency limit answers **503**
/// (`sdataCode` `ApplicationUnavailable`, severity `transient`); the error rate answers 500
/// (`ApplicationDiagnosis`).
RunningSage100, "Sage 100", root: "sdata/MasApp/MasContract", posts: "AR_Customer"
);
