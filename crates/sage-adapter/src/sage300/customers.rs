//! The Sage 300 customer list as the duplicate guard, `match`, `link` and `reconcile` read it,
//! and the CRM-id update. The wire is fixed in `docs/reference-customers.md`:
//!
//! - **List**: `GET AR/ARCustomers?$select=…&$orderby=CustomerNumber&$top=500&$count=true`,
//!   then the page's `@odata.nextLink` (checked as the panel's are: it must move on); a page
//!   without a link while `@odata.count` says more rows exist (or, without a count, a full
//!   page) continues with `$skip`. `CustomerOptionalFieldValues` is selected only when the
//!   integration has a CRM-id field (a structural collection in the `$metadata`, so `$select`
//!   may name it). A first page of the whole list refused with 400 is asked once more without
//!   `$select` and `$orderby` \[UNSURE\] (the documented options only, the server's key order).
//! - **Since**: `$filter=DateLastMaintained ge 2026-12-01T00:00:00Z` (an OData v4
//!   `DateTimeOffset` literal, unquoted) \[UNSURE\]: a first page refused with 400 or 501 is asked
//!   again once without the filter, and the page says `since_applied: false`. A later page is
//!   filtered when its cursor carries the filter.
//! - **Name**: `$filter=CustomerName eq 'O''Brien'&$select=…&$top=20` (quote doubled), one
//!   request (a second without `$select` when the first is refused with 400).
//! - **One summary**: the customer read as [`ErpGateway::find_customer`] reads it.
//! - **CRM id**: `PATCH AR/ARCustomers('C1')` with only
//!   `{"CustomerOptionalFieldValues":[{"CustomerNumber","OptionalField","Value"}]}`, classified
//!   as the primary-party update is (`parties`).
//!
//! A row is mapped with text trimmed and blanks as `None`; a row without `CustomerNumber` or
//! `CustomerName` (or with a number the domain refuses) is a protocol error quoting it, never a
//! skipped customer. `Status` `Active` (or `1`/`true`) is active, absent is active, anything
//! else inactive; `OnHold` `Yes`/`No` (or booleans, `1`/`0`), anything else a protocol error;
//! `DateLastMaintained` by its date part, unreadable as `None`.

use crm2sage_domain::ports::{
    CustomerPage, ErpCustomerKey, ErpCustomerStatus, ErpCustomerSummary, ErpGateway, ErpReadError,
    ErpWriteError, NewErpCustomer, PageCursor,
};
use crm2sage_domain::{CustomerNo, ErpFieldName, ErpRecord, ErpValue};
use jiff::civil::Date;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::wire::{self, Entity};
use super::{CUSTOMERS, Sage300Gateway, get_ok, panel, parties, protocol, urls};
use crate::errors::{self, WriteAct};
use crate::http::Answer;

/// Rows asked for per page (`$top`); a server's own page size (100 by default) may cut it.
const PAGE_SIZE: u64 = 500;
/// The most customers a name lookup returns.
const NAMED_MAX: usize = 20;
/// The properties a summary reads.
const SELECT: &str = "CustomerNumber,CustomerName,AddressLine1,AddressLine2,AddressLine3,City,\
StateProvince,ZipPostalCode,Country,PhoneNumber,Email,Status,OnHold,DateLastMaintained";
/// The property the `since` filter compares.
const MAINTAINED: &str = "DateLastMaintained";

/// `$select`: [`SELECT`], with the optional fields when a CRM-id field is configured.
fn select(gateway: &Sage300Gateway) -> String {
    match gateway.crm_field {
        Some(_) => format!("{SELECT},{}", wire::OPTIONAL_FIELDS),
        None => SELECT.to_owned(),
    }
}

/// `DateLastMaintained ge 2026-12-01T00:00:00Z`.
fn since_filter(day: Date) -> String {
    format!("{MAINTAINED} ge {day}T00:00:00Z")
}

/// The first page of the list, filtered by `filter` when given; `plain` leaves out `$select`
/// and `$orderby` (for a server that refuses them).
fn first_url(gateway: &Sage300Gateway, filter: Option<&str>, plain: bool) -> Url {
    let select = select(gateway);
    let top = PAGE_SIZE.to_string();
    let mut query: Vec<(&str, &str)> = Vec::with_capacity(5);
    if let Some(f) = filter {
        query.push(("$filter", f));
    }
    if !plain {
        query.push(("$select", &select));
        query.push(("$orderby", "CustomerNumber"));
    }
    query.push(("$top", &top));
    query.push(("$count", "true"));
    gateway.urls.resource(CUSTOMERS, &query)
}

/// The first page of the whole list. A server that answers 400 to it refuses `$select` (a
/// property it lacks) or `$orderby` (not documented) [UNSURE]: it is asked once more with
/// neither, the documented options only, in its own (key) order.
async fn whole_list(gateway: &Sage300Gateway) -> Result<(Url, Answer), ErpReadError> {
    let timeout = Some(gateway.settings.list_timeout);
    let url = first_url(gateway, None, false);
    match get_ok(&gateway.http, &url, timeout).await {
        Err(ErpReadError::Server {
            status: 400,
            message,
        }) => {
            tracing::warn!(%message, "the server refused $select or $orderby; asking without");
            let plain = first_url(gateway, None, true);
            let answer = get_ok(&gateway.http, &plain, timeout).await?;
            Ok((plain, answer))
        }
        other => Ok((url, other?)),
    }
}

/// The decoded value of the query option `name`.
fn query_text(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn query_number(url: &Url, name: &str) -> Option<u64> {
    query_text(url, name).and_then(|v| v.trim().parse().ok())
}

/// Whether the page at `url` (a cursor's) is filtered by the last-maintained date, checked
/// against what the caller asks for: a cursor filtered on another day, or filtered while no
/// day is asked for, is refused (the caller would take a partial list for the whole).
fn cursor_filtered(url: &Url, since: Option<Date>) -> Result<bool, ErpReadError> {
    let Some(filter) = query_text(url, "$filter").filter(|f| f.contains(MAINTAINED)) else {
        return Ok(false);
    };
    match since {
        Some(day) if filter.contains(&day.to_string()) => Ok(true),
        _ => Err(protocol(format!(
            "the page cursor {url} is of a list filtered by {MAINTAINED} other than the one asked \
             for"
        ))),
    }
}

/// The cursor of the page after `url`: the next link (checked to move on), else the rows
/// after these when the count says more exist (or, without a count, after a full page).
fn next_cursor(
    gateway: &Sage300Gateway,
    url: &Url,
    page: &wire::Page<Entity>,
) -> Result<Option<PageCursor>, ErpReadError> {
    let rows = page.rows.len() as u64;
    if page.next_link.is_some() {
        let next = panel::next_cursor(
            gateway,
            CUSTOMERS,
            url,
            page.next_link.as_deref(),
            page.rows.len(),
        )?;
        let kept = next.as_ref().is_none_or(|n| {
            Url::parse(n.as_str())
                .is_ok_and(|n| query_text(&n, "$filter") == query_text(url, "$filter"))
        });
        if !kept {
            return Err(protocol(format!(
                "{CUSTOMERS}: the next link `{}` does not keep this page's $filter",
                page.next_link.as_deref().unwrap_or("")
            )));
        }
        return Ok(next);
    }
    let skip = query_number(url, "$skip").unwrap_or(0);
    let more = match page.count {
        Some(count) => skip.saturating_add(rows) < count,
        None => query_number(url, "$top").is_some_and(|top| rows > 0 && rows >= top),
    };
    if !more {
        return Ok(None);
    }
    if rows == 0 {
        return Err(protocol(format!(
            "{CUSTOMERS}: an empty page after {skip} rows although the server announced {} rows",
            page.count.unwrap_or(0)
        )));
    }
    let next = urls::with_skip(url, skip.saturating_add(rows));
    Ok(Some(PageCursor::new(next.to_string())))
}

/// The summaries of a page's rows; a row that cannot be one is an error quoting it.
fn summaries(
    gateway: &Sage300Gateway,
    page: &wire::Page<Entity>,
    body: &[u8],
) -> Result<Vec<ErpCustomerSummary>, ErpReadError> {
    page.rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            entity_summary(row, gateway.crm_field.as_ref())
                .map_err(|e| protocol(format!("{e}: {}", wire::row_text(body, i))))
        })
        .collect()
}

pub(super) async fn customers_page(
    gateway: &Sage300Gateway,
    since: Option<Date>,
    cursor: Option<PageCursor>,
) -> Result<CustomerPage, ErpReadError> {
    let timeout = Some(gateway.settings.list_timeout);
    let (url, answer, since_applied) = match (&cursor, since) {
        (None, None) => {
            let (url, answer) = whole_list(gateway).await?;
            (url, answer, false)
        }
        (None, Some(day)) => {
            let filter = since_filter(day);
            let url = first_url(gateway, Some(&filter), false);
            match get_ok(&gateway.http, &url, timeout).await {
                // [UNSURE] a server whose OData refuses the DateTimeOffset literal (or the
                // filter on this property): the whole list, said so.
                Err(ErpReadError::Server {
                    status: status @ (400 | 501),
                    message,
                }) => {
                    tracing::warn!(
                        status,
                        %message,
                        "the server refused the {MAINTAINED} filter; reading the whole list"
                    );
                    let (whole, answer) = whole_list(gateway).await?;
                    (whole, answer, false)
                }
                other => (url, other?, true),
            }
        }
        (Some(c), _) => {
            let url = gateway
                .urls
                .cursor_url(c.as_str(), CUSTOMERS)
                .map_err(protocol)?;
            let filtered = cursor_filtered(&url, since)?;
            let answer = get_ok(&gateway.http, &url, timeout).await?;
            (url, answer, filtered)
        }
    };
    let page = wire::parse_page(&answer.body).map_err(protocol)?;
    let customers = summaries(gateway, &page, &answer.body)?;
    let next = next_cursor(gateway, &url, &page)?;
    Ok(CustomerPage {
        customers,
        next,
        total: page.count,
        since_applied,
    })
}

pub(super) async fn customers_named(
    gateway: &Sage300Gateway,
    name: &str,
) -> Result<Vec<ErpCustomerSummary>, ErpReadError> {
    if name.trim().is_empty() {
        // No customer has a blank name (a row without one is refused): nothing to ask.
        return Ok(Vec::new());
    }
    let filter = urls::eq_filter("CustomerName", name);
    let select = select(gateway);
    let top = NAMED_MAX.to_string();
    let url = gateway.urls.resource(
        CUSTOMERS,
        &[("$filter", &filter), ("$select", &select), ("$top", &top)],
    );
    let timeout = Some(gateway.settings.list_timeout);
    let answer = match get_ok(&gateway.http, &url, timeout).await {
        // A server that refuses the `$select` (as for the list): once more without it.
        Err(ErpReadError::Server { status: 400, .. }) => {
            let plain = gateway
                .urls
                .resource(CUSTOMERS, &[("$filter", &filter), ("$top", &top)]);
            get_ok(&gateway.http, &plain, timeout).await?
        }
        other => other?,
    };
    let page = wire::parse_page(&answer.body).map_err(protocol)?;
    let mut found = summaries(gateway, &page, &answer.body)?;
    found.truncate(NAMED_MAX);
    Ok(found)
}

pub(super) async fn customer_summary(
    gateway: &Sage300Gateway,
    key: &ErpCustomerKey,
) -> Result<Option<ErpCustomerSummary>, ErpReadError> {
    let Some(customer) = gateway.find_customer(key).await? else {
        return Ok(None);
    };
    record_summary(&customer.record, gateway.crm_field.as_ref())
        .map(Some)
        .map_err(|e| protocol(format!("{CUSTOMERS} {}: {e}", key.external_uid())))
}

pub(super) async fn set_crm_id(
    gateway: &Sage300Gateway,
    key: &ErpCustomerKey,
    field: &ErpFieldName,
    value: &str,
) -> Result<(), ErpWriteError> {
    let number = key.customer_no.as_str();
    let body = wire::optional_field_patch(number, field.as_str(), value)
        .map_err(|e| parties::not_sent("the customer update", &e.to_string()))?;
    let url = gateway.urls.entity(CUSTOMERS, number);
    let act = WriteAct::Update;
    let answer = gateway
        .http
        .write_party(Method::PATCH, &url, body, act, |a| {
            parties::classify(a, act, true)
        })
        .await?;
    let status = answer.status.as_u16();
    // 204 without a body, or the updated customer.
    if answer.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let unreadable = |why: &str| ErpWriteError::from(errors::unreadable_success(status, act, why));
    let entity = wire::parse_entity(&answer.body).map_err(|e| unreadable(&e))?;
    // The customer answered, when it carries the field, must carry this value.
    if let Some(now) = optional_field(&entity, field)
        && now != value.trim()
    {
        return Err(unreadable(&format!(
            "the customer answered has {} `{now}`, not `{value}`",
            field.as_str()
        )));
    }
    Ok(())
}

/// The exact body `create_customer` POSTs for `customer`.
pub(super) fn customer_payload(customer: &NewErpCustomer) -> String {
    wire::create_payload(customer).unwrap_or_else(|e| {
        format!("(the payload could not be written, nothing would be sent: {e})")
    })
}

/// The value of the optional field `field` in the entity's `CustomerOptionalFieldValues`
/// (`Value`, else `TextValue`), trimmed; `None` when absent or blank.
fn optional_field(entity: &Entity, field: &ErpFieldName) -> Option<String> {
    let Some(Value::Array(items)) = entity.get(wire::OPTIONAL_FIELDS) else {
        return None;
    };
    items.iter().find_map(|item| {
        let Value::Object(item) = item else {
            return None;
        };
        let code = wire::text(item, "OptionalField")?;
        if !code.eq_ignore_ascii_case(field.as_str()) {
            return None;
        }
        wire::text(item, "Value").or_else(|| wire::text(item, "TextValue"))
    })
}

/// A list row as a summary.
fn entity_summary(
    row: &Entity,
    crm_field: Option<&ErpFieldName>,
) -> Result<ErpCustomerSummary, String> {
    let crm_id = crm_field.and_then(|f| optional_field(row, f));
    summary(&|name| wire::text(row, name), crm_id)
}

/// A customer record (as [`ErpGateway::find_customer`] returns it, optional fields flattened
/// under their codes) as a summary.
fn record_summary(
    record: &ErpRecord,
    crm_field: Option<&ErpFieldName>,
) -> Result<ErpCustomerSummary, String> {
    let get = |name: &str| -> Option<String> {
        let text = match record.get(name)? {
            ErpValue::Text(s) => s.trim().to_owned(),
            ErpValue::Number(n) => n.as_str().to_owned(),
            ErpValue::Bool(b) => b.to_string(),
            _ => return None,
        };
        (!text.is_empty()).then_some(text)
    };
    let crm_id = crm_field.and_then(|f| get(f.as_str()));
    summary(&get, crm_id)
}

/// The summary from `get` (a property's trimmed, non-blank text) and the CRM id.
fn summary(
    get: &dyn Fn(&str) -> Option<String>,
    crm_id: Option<String>,
) -> Result<ErpCustomerSummary, String> {
    let number = get("CustomerNumber").ok_or("a customer without CustomerNumber")?;
    let customer_no = CustomerNo::parse_sage300(&number)
        .map_err(|e| format!("CustomerNumber `{number}` is not usable ({e})"))?;
    let name =
        get("CustomerName").ok_or_else(|| format!("customer `{number}` without CustomerName"))?;
    let status = match get("Status") {
        None => ErpCustomerStatus::Active,
        Some(s)
            if ["active", "1", "true"]
                .iter()
                .any(|a| s.eq_ignore_ascii_case(a)) =>
        {
            ErpCustomerStatus::Active
        }
        Some(_) => ErpCustomerStatus::Inactive,
    };
    let on_hold = match get("OnHold") {
        None => false,
        Some(h)
            if ["yes", "true", "1"]
                .iter()
                .any(|y| h.eq_ignore_ascii_case(y)) =>
        {
            true
        }
        Some(h)
            if ["no", "false", "0"]
                .iter()
                .any(|n| h.eq_ignore_ascii_case(n)) =>
        {
            false
        }
        Some(other) => {
            return Err(format!(
                "customer `{number}`: OnHold `{other}` is neither Yes nor No"
            ));
        }
    };
    Ok(ErpCustomerSummary {
        key: ErpCustomerKey {
            division: None,
            customer_no,
        },
        name,
        address_lines: [
            get("AddressLine1"),
            get("AddressLine2"),
            get("AddressLine3"),
        ],
        city: get("City"),
        state: get("StateProvince"),
        postal_code: get("ZipPostalCode"),
        country: get("Country"),
        phone: get("PhoneNumber"),
        email: get("Email"),
        status,
        on_hold,
        last_maintained: get(MAINTAINED).and_then(|d| date_part(&d)),
        crm_id,
    })
}

/// The calendar day of `2019-07-16T00:00:00Z`, `2019-07-16T00:00:00`, `2019-07-16`; `None`
/// when it is not one.
fn date_part(text: &str) -> Option<Date> {
    let day = text.trim().get(..10)?;
    day.parse::<Date>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: Value) -> Entity {
        match v {
            Value::Object(m) => m,
            _ => Entity::new(),
        }
    }

    #[test]
    fn dates_take_their_day_and_refuse_quietly() {
        assert_eq!(
            date_part("2019-07-16T00:00:00Z").map(|d| d.to_string()),
            Some("2019-07-16".to_owned())
        );
        assert_eq!(
            date_part("2019-07-16").map(|d| d.to_string()),
            Some("2019-07-16".to_owned())
        );
        for bad in [
            "",
            "2019",
            "soon-ish!!",
            "2019-13-40T00:00:00Z",
            "éééééééééé",
        ] {
            assert_eq!(date_part(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_row_needs_a_number_and_a_name() {
        assert!(entity_summary(&row(serde_json::json!({"CustomerName": "X"})), None).is_err());
        assert!(
            entity_summary(
                &row(serde_json::json!({"CustomerNumber": "C1", "CustomerName": "  "})),
                None
            )
            .is_err()
        );
        let s = entity_summary(
            &row(
                serde_json::json!({"CustomerNumber": " C1 ", "CustomerName": " A ",
                "OnHold": true, "Status": "Inactive", "City": ""}),
            ),
            None,
        )
        .expect("a summary");
        assert_eq!((s.key.customer_no.as_str(), s.name.as_str()), ("C1", "A"));
        assert!(s.on_hold);
        assert_eq!(s.status, ErpCustomerStatus::Inactive);
        assert_eq!(s.city, None);
    }
}
