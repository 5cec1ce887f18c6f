//! Starting a Sage 300 simulator and the handle tests use to steer and inspect it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use super::api::{Settings, Shared};
use super::config::Sage300Config;
use super::data::Sage300Record;
use super::schema::Sage300Resource;
use super::store::{Tables, key_values, row_key};
use crate::SimulatorError;
use crate::pipeline::{self, Common};
use crate::running::running_handle;

mod edit;

/// Starts a Sage 300 simulator on `addr` (e.g. `127.0.0.1:8300` for `crm2sage simulate`).
///
/// # Errors
/// As [`start_sage300`].
pub async fn start_sage300_on(
    addr: SocketAddr,
    config: Sage300Config,
) -> Result<RunningSage300, SimulatorError> {
    pipeline::check_config(config.page_size, &config.users)?;
    let tables =
        Tables::from_data(&config.data, config.terms_key).map_err(SimulatorError::InvalidConfig)?;
    RunningSage300::bind(
        addr,
        Shared {
            settings: Settings::from_config(&config),
            tables: Mutex::new(tables),
            common: Common::new(
                &config.users,
                &config.forbidden_users,
                config.faults.clone(),
            ),
        },
    )
    .await
}

/// Starts a Sage 300 simulator on `127.0.0.1` with a free port.
///
/// # Errors
/// [`SimulatorError::Bind`] if no port can be bound; [`SimulatorError::InvalidConfig`] for a
/// page size of 0, no users, or a seed record without its key.
pub async fn start_sage300(config: Sage300Config) -> Result<RunningSage300, SimulatorError> {
    start_sage300_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
}

impl RunningSage300 {
    /// The company root: `http://127.0.0.1:PORT/Sage300WebApi/v1.0/-/SAMLTD`. Append
    /// `/AR/ARCustomers` and so on.
    pub fn company_url(&self) -> String {
        format!(
            "{}/v1.0/-/{}",
            self.base_url(),
            self.shared.settings.company
        )
    }

    /// Every customer as stored (dates with `Z`, whatever the date style), in key order.
    pub fn customers(&self) -> Vec<Sage300Record> {
        self.records(Sage300Resource::Customers)
    }

    /// One customer by its exact number.
    pub fn customer(&self, number: &str) -> Option<Sage300Record> {
        self.record(Sage300Resource::Customers, &[number])
    }

    /// Adds or replaces a customer, e.g. "someone else created it meanwhile". Properties left
    /// out get their defaults; no business rule is checked.
    ///
    /// # Panics
    /// If the record has no `CustomerNumber` string (a test bug).
    pub fn insert_customer(&self, record: Sage300Record) {
        self.insert_record(Sage300Resource::Customers, record);
    }

    /// A customer's ship-to locations (`AR/ARShipToLocations`) as stored, defaults filled in,
    /// in key order; `PrimaryShipToIndicator` is `Yes` on the primary one.
    pub fn ship_tos(&self, customer: &str) -> Vec<Sage300Record> {
        self.parts(Sage300Resource::ShipToLocations, customer)
    }

    /// One ship-to location by its customer and `ShipToLocationKey` (exact).
    pub fn ship_to(&self, customer: &str, code: &str) -> Option<Sage300Record> {
        self.record(Sage300Resource::ShipToLocations, &[customer, code])
    }

    /// A customer's contacts (`MT/MTContacts`) as stored, in key order (whether or not the
    /// resource is served).
    pub fn contacts(&self, customer: &str) -> Vec<Sage300Record> {
        self.parts(Sage300Resource::Contacts, customer)
    }

    /// One contact by its customer and `ContactCode` (exact).
    pub fn contact(&self, customer: &str, code: &str) -> Option<Sage300Record> {
        self.record(Sage300Resource::Contacts, &[customer, code])
    }

    /// The customer's `PrimaryShipToLocation`; `None` when the customer does not exist or
    /// names none.
    pub fn primary_ship_to(&self, customer: &str) -> Option<String> {
        self.customer_text(customer, "PrimaryShipToLocation")
    }

    /// The contact kept on the customer itself: `(ContactName, ContactsPhone, ContactsEmail)`;
    /// `None` when the customer does not exist.
    pub fn customer_contact(&self, customer: &str) -> Option<(String, String, String)> {
        let rec = self.customer(customer)?;
        let text = |k: &str| {
            rec.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Some((
            text("ContactName"),
            text("ContactsPhone"),
            text("ContactsEmail"),
        ))
    }

    /// How many creates of `resource` the API committed so far (refused ones are not counted;
    /// one committed and then dropped is). Seeding through the handle is not counted.
    pub fn creates(&self, resource: Sage300Resource) -> usize {
        self.shared.tables().creates(resource)
    }

    fn parts(&self, resource: Sage300Resource, customer: &str) -> Vec<Sage300Record> {
        let tables = self.shared.tables();
        tables
            .parts_of(resource, customer)
            .map(|r| tables.full(resource, r))
            .collect()
    }

    fn customer_text(&self, customer: &str, property: &str) -> Option<String> {
        self.customer(customer)?
            .get(property)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// Every record of a resource as stored (every property, defaults filled in), in key order.
    pub fn records(&self, resource: Sage300Resource) -> Vec<Sage300Record> {
        let tables = self.shared.tables();
        tables
            .rows(resource)
            .values()
            .map(|r| tables.full(resource, r))
            .collect()
    }

    /// One record by its exact key values, in key order (`["CALIF", "Sales"]` for a tax group).
    pub fn record(&self, resource: Sage300Resource, key: &[&str]) -> Option<Sage300Record> {
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
    pub fn insert_record(&self, resource: Sage300Resource, record: Sage300Record) {
        let tk = self.shared.settings.terms_key;
        let result = self.shared.tables().insert(resource, &record, tk);
        if let Err(e) = result {
            panic!("insert_record: {e}");
        }
    }

    /// Adds or replaces many records under one lock, e.g. 50,000 open documents of one
    /// customer (build them with [`posted_document`](crate::posted_document)).
    ///
    /// # Panics
    /// If a record lacks its key properties (a test bug).
    pub fn insert_records(
        &self,
        resource: Sage300Resource,
        records: impl IntoIterator<Item = Sage300Record>,
    ) {
        let tk = self.shared.settings.terms_key;
        let mut tables = self.shared.tables();
        for record in records {
            if let Err(e) = tables.insert(resource, &record, tk) {
                panic!("insert_records: {e}");
            }
        }
    }

    /// Removes a record by its exact key values; returns it if it existed.
    pub fn remove_record(&self, resource: Sage300Resource, key: &[&str]) -> Option<Sage300Record> {
        let mut tables = self.shared.tables();
        let removed = tables.remove(resource, &row_key(resource, key));
        removed.map(|r| tables.full(resource, &r))
    }

    /// The key values of a record of `resource` (helper for tests that hold records).
    pub fn key_of(&self, resource: Sage300Resource, record: &Sage300Record) -> Option<Vec<String>> {
        key_values(resource, record, self.shared.settings.terms_key)
            .map(|v| v.into_iter().map(str::to_owned).collect())
    }
}

running_handle!(
/// A running Sage 300 simulator. Dropping it stops the server (abruptly);
/// [`RunningSage300::shutdown`] stops it and waits.
RunningSage300, "Sage 300", root: "Sage300WebApi", posts: "ARCustomers"
);
