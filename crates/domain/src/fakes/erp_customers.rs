//! The fake ERP's customer list: paged summaries (with a last-maintained filter the fake can be
//! told to refuse), the exact-name lookup, the CRM-id update, and test-only deletes and
//! renumbers, as a real ERP's users would do them.

use jiff::civil::Date;

use crate::integration::ErpFieldName;
use crate::ports::{
    CustomerPage, ErpCustomer, ErpCustomerKey, ErpCustomerStatus, ErpCustomerSummary, ErpReadError,
    ErpWriteError, PageCursor,
};
use crate::record::ErpValue;

use super::erp::{ErpFault, FakeErp, State, slot};

/// The record field the fake keeps a customer's last-maintained day in.
pub(super) const LAST_MAINTAINED: &str = "last_maintained";

/// What the fake ERP's customer side keeps beyond the customers themselves.
#[derive(Debug, Default)]
pub(super) struct CustomerListState {
    /// The day creates and edits are stamped with.
    pub(super) today: Option<Date>,
    /// Whether a last-maintained filter is refused (400), as some servers do.
    pub(super) refuse_since: bool,
    pub(super) name_lookups: usize,
    pub(super) customer_pages: usize,
    pub(super) crm_id_writes: usize,
}

/// The summary of `c` as the fake lists it; `crm_field` is the integration's CRM-id field.
pub(super) fn summary(c: &ErpCustomer, crm_field: Option<&ErpFieldName>) -> ErpCustomerSummary {
    let text = |name: &str| c.record.text(name).map(str::to_owned);
    let status = match c.record.text("status") {
        Some("inactive") => ErpCustomerStatus::Inactive,
        _ => ErpCustomerStatus::Active,
    };
    ErpCustomerSummary {
        key: c.key.clone(),
        name: c.name.clone().unwrap_or_default(),
        address_lines: [
            text("address_line_1"),
            text("address_line_2"),
            text("address_line_3"),
        ],
        city: text("city"),
        state: text("state"),
        postal_code: text("postal_code"),
        country: text("country"),
        phone: text("phone"),
        email: text("email"),
        status,
        on_hold: c.record.text("on_hold") == Some("yes"),
        last_maintained: c
            .record
            .text(LAST_MAINTAINED)
            .and_then(|d| d.parse::<Date>().ok()),
        crm_id: crm_field.and_then(|f| c.crm_id(f)).map(str::to_owned),
    }
}

/// Stamps `c` as maintained today, when the fake has a today.
pub(super) fn stamp(list: &CustomerListState, c: &mut ErpCustomer) {
    if let Some(today) = list.today {
        c.record
            .push(LAST_MAINTAINED, ErpValue::Text(today.to_string()));
    }
}

/// One page of the customer list, by key.
pub(super) fn page(
    s: &mut State,
    since: Option<Date>,
    cursor: Option<&PageCursor>,
    page_size: usize,
    crm_field: Option<&ErpFieldName>,
) -> Result<CustomerPage, ErpReadError> {
    s.list.customer_pages += 1;
    let start: usize = match cursor {
        None => 0,
        Some(c) => c.as_str().parse().map_err(|_| ErpReadError::Protocol {
            excerpt: c.as_str().to_owned(),
        })?,
    };
    if let Some(ErpFault::FailLookup(e)) = s.next_list.pop_front() {
        return Err(e);
    }
    let since = since.filter(|_| !s.list.refuse_since);
    let all: Vec<&ErpCustomer> = s
        .customers
        .values()
        .filter(|c| {
            since.is_none_or(|since| {
                c.record
                    .text(LAST_MAINTAINED)
                    .and_then(|d| d.parse::<Date>().ok())
                    .is_some_and(|d| d >= since)
            })
        })
        .collect();
    let end = (start + page_size).min(all.len());
    let customers = all
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|c| summary(c, crm_field))
        .collect();
    Ok(CustomerPage {
        customers,
        next: (end < all.len()).then(|| PageCursor::new(end.to_string())),
        total: Some(all.len() as u64),
        since_applied: since.is_some(),
    })
}

/// The customers named `name` (trimmed, case-insensitive, as Sage compares), at most 20.
pub(super) fn named(
    s: &mut State,
    name: &str,
    crm_field: Option<&ErpFieldName>,
) -> Result<Vec<ErpCustomerSummary>, ErpReadError> {
    s.list.name_lookups += 1;
    if let Some(ErpFault::FailLookup(e)) = s.next_list.pop_front() {
        return Err(e);
    }
    let wanted = name.trim().to_lowercase();
    Ok(s.customers
        .values()
        .filter(|c| c.name.as_deref().map(|n| n.trim().to_lowercase()) == Some(wanted.clone()))
        .take(20)
        .map(|c| summary(c, crm_field))
        .collect())
}

/// Writes the CRM id into the customer's field.
pub(super) fn set_crm_id(
    s: &mut State,
    key: &ErpCustomerKey,
    field: &ErpFieldName,
    value: &str,
) -> Result<(), ErpWriteError> {
    s.list.crm_id_writes += 1;
    let State {
        customers, list, ..
    } = s;
    let c = customers
        .get_mut(&slot(key))
        .ok_or(ErpWriteError::CustomerMissing)?;
    c.record
        .push(field.as_str(), ErpValue::Text(value.to_owned()));
    stamp(list, c);
    Ok(())
}

impl FakeErp {
    /// Stamps creates and edits from now on as maintained on `today` (none by default: then
    /// nothing matches a last-maintained filter).
    pub fn set_today(&self, today: Date) {
        self.state().list.today = Some(today);
    }

    /// Makes the ERP refuse (`true`) or accept a last-maintained filter: refused, the whole
    /// list comes back and says so.
    pub fn refuse_since_filter(&self, refuse: bool) {
        self.state().list.refuse_since = refuse;
    }

    /// Sets a customer's status (`inactive`), hold (`on_hold` = `yes`), phone, e-mail, an
    /// address field…, by the fake's plain field names, stamping it maintained today.
    pub fn set_customer_field(&self, key: &ErpCustomerKey, field: &str, value: &str) {
        let mut s = self.state();
        let State {
            customers, list, ..
        } = &mut *s;
        if let Some(c) = customers.get_mut(&slot(key)) {
            if field == "name" {
                c.name = Some(value.to_owned());
            }
            c.record.push(field, ErpValue::Text(value.to_owned()));
            stamp(list, c);
        }
    }

    /// Deletes a customer, as a user of the ERP may; whether it was there.
    pub fn delete_customer(&self, key: &ErpCustomerKey) -> bool {
        self.state().customers.remove(&slot(key)).is_some()
    }

    /// Gives a customer a new key, keeping the rest (Sage's "change customer number");
    /// whether it was there and the new key was free.
    pub fn renumber_customer(&self, from: &ErpCustomerKey, to: &ErpCustomerKey) -> bool {
        let mut s = self.state();
        if s.customers.contains_key(&slot(to)) {
            return false;
        }
        let Some(mut c) = s.customers.remove(&slot(from)) else {
            return false;
        };
        c.key = to.clone();
        c.record
            .push("customer_no", ErpValue::Text(to.customer_no.to_string()));
        s.customers.insert(slot(to), c);
        true
    }

    /// How many exact-name lookups were made (the duplicate guard's one request).
    pub fn name_lookups(&self) -> usize {
        self.state().list.name_lookups
    }

    /// How many customer-list pages were read.
    pub fn customer_pages(&self) -> usize {
        self.state().list.customer_pages
    }

    /// How many CRM-id writes were sent.
    pub fn crm_id_writes(&self) -> usize {
        self.state().list.crm_id_writes
    }
}
