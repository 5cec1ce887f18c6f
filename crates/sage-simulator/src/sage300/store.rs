//! The in-memory tables: one ordered map per resource, keyed so iteration is the key order a
//! real server returns (tax groups: key, then Sales before Purchases).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::config::TermsKey;
use super::data::{Sage300Data, Sage300Record};
use super::schema::Sage300Resource;

/// The records of every resource.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    /// Records as given (sparse): a property left out has its template default.
    tables: BTreeMap<Sage300Resource, BTreeMap<String, Sage300Record>>,
    /// Every property at its default, per resource, in `$metadata` order.
    templates: BTreeMap<Sage300Resource, Sage300Record>,
    terms_key: TermsKey,
    /// Account set code → currency.
    pub(crate) account_sets: BTreeMap<String, String>,
    pub(crate) home_currency: String,
    /// Creates committed through the API, per resource.
    created: BTreeMap<Sage300Resource, usize>,
    /// The row keys the last list query matched: (resource, query text, keys). Any write
    /// clears it, so paging through one query costs one scan, not one per page.
    hits: Option<(Sage300Resource, String, Hits)>,
}

/// The map keys of the rows a list query matched, in list order.
pub(crate) type Hits = Arc<Vec<String>>;

/// The map key of a record from its key property values.
pub(crate) fn row_key(resource: Sage300Resource, values: &[&str]) -> String {
    match (resource, values) {
        (Sage300Resource::TaxGroups, [key, ttype]) => {
            let order = match *ttype {
                "Sales" => "1".to_owned(),
                "Purchases" => "2".to_owned(),
                other => format!("3{other}"),
            };
            format!("{key}\u{0}{order}")
        }
        _ => values.join("\u{0}"),
    }
}

/// The key values of a record, or `None` when one is missing or not a string.
pub(crate) fn key_values(
    resource: Sage300Resource,
    rec: &Sage300Record,
    terms_key: TermsKey,
) -> Option<Vec<&str>> {
    resource
        .keys(terms_key)
        .iter()
        .map(|k| rec.get(*k).and_then(Value::as_str))
        .collect()
}

impl Tables {
    pub(crate) fn from_data(data: &Sage300Data, terms_key: TermsKey) -> Result<Tables, String> {
        let mut t = Tables {
            home_currency: data.home_currency.clone(),
            terms_key,
            ..Tables::default()
        };
        if t.home_currency.is_empty() {
            t.home_currency = "USD".to_owned();
        }
        for resource in Sage300Resource::ALL {
            t.tables.insert(resource, BTreeMap::new());
            t.templates.insert(resource, resource.template(terms_key));
        }
        let sets: [(Sage300Resource, &Vec<Sage300Record>); 9] = [
            (Sage300Resource::CustomerGroups, &data.groups),
            (Sage300Resource::Terms, &data.terms),
            (Sage300Resource::TaxGroups, &data.tax_groups),
            (Sage300Resource::CurrencyCodes, &data.currencies),
            (Sage300Resource::Customers, &data.customers),
            (Sage300Resource::PostedDocuments, &data.posted_documents),
            (Sage300Resource::Orders, &data.orders),
            (Sage300Resource::ShipToLocations, &data.ship_tos),
            (Sage300Resource::Contacts, &data.contacts),
        ];
        for (resource, records) in sets {
            for r in records {
                t.insert(resource, r, terms_key)?;
            }
        }
        for set in &data.account_sets {
            if let (Some(code), Some(cur)) = (
                set.get("AccountSetCode").and_then(Value::as_str),
                set.get("CurrencyCode").and_then(Value::as_str),
            ) {
                t.account_sets.insert(code.to_owned(), cur.to_owned());
            }
        }
        Ok(t)
    }

    /// Every property of `resource` at its default.
    pub(crate) fn template(&self, resource: Sage300Resource) -> &Sage300Record {
        static EMPTY: std::sync::LazyLock<Sage300Record> =
            std::sync::LazyLock::new(Sage300Record::new);
        self.templates.get(&resource).unwrap_or(&EMPTY)
    }

    /// A stored record with its defaults filled in, in `$metadata` order.
    pub(crate) fn full(&self, resource: Sage300Resource, rec: &Sage300Record) -> Sage300Record {
        resource.complete_from(self.template(resource), rec, self.terms_key)
    }

    /// One property of a stored record, its default when the record leaves it out.
    pub(crate) fn field<'a>(
        &'a self,
        resource: Sage300Resource,
        rec: &'a Sage300Record,
        name: &str,
    ) -> Option<&'a Value> {
        rec.get(name).or_else(|| self.template(resource).get(name))
    }

    pub(crate) fn rows(&self, resource: Sage300Resource) -> &BTreeMap<String, Sage300Record> {
        static EMPTY: BTreeMap<String, Sage300Record> = BTreeMap::new();
        self.tables.get(&resource).unwrap_or(&EMPTY)
    }

    /// The rows to change: forgets the cached list hits first (every write comes here).
    fn rows_mut(&mut self, resource: Sage300Resource) -> &mut BTreeMap<String, Sage300Record> {
        self.hits = None;
        self.tables.entry(resource).or_default()
    }

    /// The keys a list query `query` of `resource` matched, when nothing changed since.
    pub(crate) fn cached_hits(&self, resource: Sage300Resource, query: &str) -> Option<Hits> {
        self.hits
            .as_ref()
            .filter(|(r, q, _)| *r == resource && q == query)
            .map(|(_, _, keys)| Arc::clone(keys))
    }

    /// Remembers the keys a list query matched.
    pub(crate) fn cache_hits(&mut self, resource: Sage300Resource, query: String, keys: Hits) {
        self.hits = Some((resource, query, keys));
    }

    /// Completes `partial` with defaults and inserts it, replacing a record with the same key.
    pub(crate) fn insert(
        &mut self,
        resource: Sage300Resource,
        partial: &Sage300Record,
        terms_key: TermsKey,
    ) -> Result<(), String> {
        let rec = resource.sparse(partial, terms_key);
        self.insert_completed(resource, rec, terms_key)
    }

    fn insert_completed(
        &mut self,
        resource: Sage300Resource,
        rec: Sage300Record,
        terms_key: TermsKey,
    ) -> Result<(), String> {
        let key = key_values(resource, &rec, terms_key)
            .filter(|v| v.iter().all(|s| !s.is_empty()))
            .map(|v| row_key(resource, &v))
            .ok_or_else(|| {
                format!(
                    "a {} record lacks its key {:?}",
                    resource.name(),
                    resource.keys(terms_key)
                )
            })?;
        let customer = rec
            .get("CustomerNumber")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.rows_mut(resource).insert(key, rec);
        self.after_insert(resource, customer.as_deref());
        Ok(())
    }

    /// Inserts a complete record under a known key.
    pub(crate) fn insert_complete(
        &mut self,
        resource: Sage300Resource,
        key: String,
        rec: Sage300Record,
    ) {
        let customer = rec
            .get("CustomerNumber")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.rows_mut(resource).insert(key, rec);
        self.after_insert(resource, customer.as_deref());
    }

    /// Keeps every ship-to's `PrimaryShipToIndicator` in step with its customer's
    /// `PrimaryShipToLocation` after a customer or a ship-to was written.
    fn after_insert(&mut self, resource: Sage300Resource, customer: Option<&str>) {
        if matches!(
            resource,
            Sage300Resource::Customers | Sage300Resource::ShipToLocations
        ) && let Some(c) = customer
        {
            self.sync_primary_ship_to(c);
        }
    }

    /// Sets `PrimaryShipToIndicator` to `Yes` on the ship-to the customer names as primary and
    /// `No` on its others.
    pub(crate) fn sync_primary_ship_to(&mut self, customer: &str) {
        let customers = Sage300Resource::Customers;
        let primary = self
            .get(customers, &row_key(customers, &[customer]))
            .and_then(|r| self.field(customers, r, "PrimaryShipToLocation"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let prefix = format!("{customer}\u{0}");
        let ship_tos = self.rows_mut(Sage300Resource::ShipToLocations);
        for (_, rec) in ship_tos
            .range_mut(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            let is_primary = !primary.is_empty()
                && rec.get("ShipToLocationKey").and_then(Value::as_str) == Some(primary.as_str());
            let flag = if is_primary { "Yes" } else { "No" };
            rec.insert("PrimaryShipToIndicator".to_owned(), Value::from(flag));
        }
    }

    /// The records of a customer-owned resource (ship-tos, contacts) that belong to `customer`,
    /// in key order.
    pub(crate) fn parts_of<'a>(
        &'a self,
        resource: Sage300Resource,
        customer: &str,
    ) -> impl Iterator<Item = &'a Sage300Record> + 'a {
        let prefix = format!("{customer}\u{0}");
        self.rows(resource)
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(_, r)| r)
    }

    /// Counts a create committed through the API.
    pub(crate) fn note_create(&mut self, resource: Sage300Resource) {
        *self.created.entry(resource).or_default() += 1;
    }

    /// How many creates of `resource` were committed through the API.
    pub(crate) fn creates(&self, resource: Sage300Resource) -> usize {
        self.created.get(&resource).copied().unwrap_or_default()
    }

    pub(crate) fn get(&self, resource: Sage300Resource, key: &str) -> Option<&Sage300Record> {
        self.rows(resource).get(key)
    }

    pub(crate) fn remove(&mut self, resource: Sage300Resource, key: &str) -> Option<Sage300Record> {
        self.rows_mut(resource).remove(key)
    }
}
