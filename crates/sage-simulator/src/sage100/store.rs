//! The in-memory tables, keyed by their key columns (so feeds come out in key order).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::data::{Sage100Data, Sage100Record};
use super::schema::Sage100Resource;

/// Every table's rows.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    rows: BTreeMap<Sage100Resource, BTreeMap<Vec<String>, Sage100Record>>,
    /// The keys the last feed query matched: (table, query text, keys). Any write clears it.
    hits: Option<(Sage100Resource, String, Hits)>,
    /// Creates committed through the API, per table.
    created: BTreeMap<Sage100Resource, usize>,
}

/// The keys of the rows a feed query matched, in feed order.
pub(crate) type Hits = Arc<Vec<Vec<String>>>;

/// The key values of `row`, `None` when one is missing.
pub(crate) fn key_of(resource: Sage100Resource, row: &Sage100Record) -> Option<Vec<String>> {
    resource
        .keys()
        .iter()
        .map(|k| row.get(k).map(str::to_owned))
        .collect()
}

impl Tables {
    pub(crate) fn from_data(data: &Sage100Data) -> Result<Tables, String> {
        let mut t = Tables::default();
        for r in Sage100Resource::ALL {
            t.rows.insert(r, BTreeMap::new());
        }
        let lists = [
            (Sage100Resource::Customers, &data.customers),
            (Sage100Resource::Divisions, &data.divisions),
            (Sage100Resource::Terms, &data.terms),
            (Sage100Resource::TaxSchedules, &data.tax_schedules),
            (Sage100Resource::Salespersons, &data.salespersons),
            (Sage100Resource::CustomerTypes, &data.customer_types),
            (Sage100Resource::ShipMethods, &data.ship_methods),
            (Sage100Resource::OpenInvoices, &data.open_invoices),
            (Sage100Resource::SalesOrders, &data.sales_orders),
            (Sage100Resource::ShipToAddresses, &data.ship_tos),
            (Sage100Resource::CustomerContacts, &data.contacts),
        ];
        for (resource, rows) in lists {
            for row in rows {
                t.insert(resource, row.clone())?;
            }
        }
        Ok(t)
    }

    /// Adds or replaces a row.
    pub(crate) fn insert(
        &mut self,
        resource: Sage100Resource,
        row: Sage100Record,
    ) -> Result<(), String> {
        let key = key_of(resource, &row).ok_or_else(|| {
            format!(
                "a {} row needs its key columns {:?}",
                resource.name(),
                resource.keys()
            )
        })?;
        self.hits = None;
        self.rows.entry(resource).or_default().insert(key, row);
        Ok(())
    }

    /// The keys a feed query `query` of `resource` matched, when nothing changed since.
    pub(crate) fn cached_hits(&self, resource: Sage100Resource, query: &str) -> Option<Hits> {
        self.hits
            .as_ref()
            .filter(|(r, q, _)| *r == resource && q == query)
            .map(|(_, _, keys)| Arc::clone(keys))
    }

    /// Remembers the keys a feed query matched.
    pub(crate) fn cache_hits(&mut self, resource: Sage100Resource, query: String, keys: Hits) {
        self.hits = Some((resource, query, keys));
    }

    pub(crate) fn get(&self, resource: Sage100Resource, key: &[String]) -> Option<&Sage100Record> {
        self.rows.get(&resource).and_then(|t| t.get(key))
    }

    pub(crate) fn contains(&self, resource: Sage100Resource, key: &[&str]) -> bool {
        let key: Vec<String> = key.iter().map(|s| (*s).to_owned()).collect();
        self.get(resource, &key).is_some()
    }

    pub(crate) fn rows(&self, resource: Sage100Resource) -> impl Iterator<Item = &Sage100Record> {
        self.rows
            .get(&resource)
            .into_iter()
            .flat_map(|t| t.values())
    }

    /// The rows whose key starts with `prefix` (all of them for an empty one), in key order.
    pub(crate) fn rows_with_prefix<'a>(
        &'a self,
        resource: Sage100Resource,
        prefix: &'a [String],
    ) -> impl Iterator<Item = &'a Sage100Record> {
        self.rows.get(&resource).into_iter().flat_map(move |t| {
            t.range(prefix.to_vec()..)
                .take_while(move |(k, _)| k.starts_with(prefix))
                .map(|(_, r)| r)
        })
    }

    pub(crate) fn remove(
        &mut self,
        resource: Sage100Resource,
        key: &[String],
    ) -> Option<Sage100Record> {
        self.hits = None;
        self.rows.get_mut(&resource).and_then(|t| t.remove(key))
    }

    /// How many rows `resource` has.
    pub(crate) fn len(&self, resource: Sage100Resource) -> usize {
        self.rows.get(&resource).map_or(0, BTreeMap::len)
    }

    /// Counts a create committed through the API.
    pub(crate) fn note_create(&mut self, resource: Sage100Resource) {
        *self.created.entry(resource).or_default() += 1;
    }

    /// How many creates of `resource` were committed through the API.
    pub(crate) fn creates(&self, resource: Sage100Resource) -> usize {
        self.created.get(&resource).copied().unwrap_or_default()
    }
}
