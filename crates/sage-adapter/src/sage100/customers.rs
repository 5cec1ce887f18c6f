//! The Sage 100 customer list as the duplicate guard, `match`, `link` and `reconcile` read it,
//! and the CRM-id update, over SData Atom. The wire is fixed in `docs/reference-customers.md`:
//!
//! - **List**: `GET AR_Customer?startIndex=1&count=500` in the server's key order (no
//!   `orderBy`: the adapter sends none anywhere), then the feed's `rel="next"` link, or
//!   `startIndex` moved on as the reference lists do ([`next_page`]). A next page must start
//!   further on, follow a non-empty page and keep this page's `where`.
//! - **Since**: `where=DateUpdated ge @2026-12-01@` (the SData spec's date literal) \[UNSURE\]; a
//!   first page refused with 400 is asked once with `where=DateUpdated ge '2026-12-01'`, and on a
//!   second 400 once without a filter (`since_applied: false`). A later page is filtered when its
//!   cursor carries the filter.
//! - **Name**: `where=CustomerName eq 'O''Brien'&count=20` (quote doubled), one request.
//! - **One summary**: the customer read as [`ErpGateway::find_customer`] reads it.
//! - **CRM id**: `PUT AR_Customer(DD;NO)` carrying only the UDF column, classified as the
//!   primary-party update is (`parties`).
//!
//! A row is mapped with text trimmed and blanks as `None`; an entry without a payload,
//! `ARDivisionNo`, `CustomerNo` or `CustomerName` (or with a key the domain refuses) is a
//! protocol error, never a skipped customer. `CustomerStatus` `A` is active, absent is active,
//! anything else (`I`, `T`, …) inactive; `CreditHold` `Y`/`N` (absent: not on hold), anything
//! else a protocol error; `DateUpdated` by its date part (`1753-01-01`, the blank, and anything
//! unreadable as `None`).

use crm2sage_domain::ports::{
    CustomerPage, ErpCustomerKey, ErpCustomerStatus, ErpCustomerSummary, ErpGateway, ErpReadError,
    ErpWriteError, NewErpCustomer, PageCursor,
};
use crm2sage_domain::{ArDivision, CustomerNo, ErpFieldName};
use jiff::civil::Date;
use reqwest::{Method, StatusCode};
use url::Url;

use super::wire::CUSTOMERS;
use super::xml::{self, Document};
use super::{Sage100Gateway, next_page, parties, protocol, read_failure, urls, wire};
use crate::errors::{self, WriteAct};
use crate::http::Answer;

/// Rows asked for per page (`count=`); a server may send fewer.
const PAGE_COUNT: u64 = 500;
/// The most customers a name lookup returns.
const NAMED_MAX: usize = 20;
/// The column the `since` filter compares.
const UPDATED: &str = "DateUpdated";
/// The blank date Sage 100 tables hold.
const BLANK_DATE: &str = "1753-01-01";

/// The `since` filters tried in turn: the SData date literal, then a quoted string.
fn since_filters(day: Date) -> [String; 2] {
    [
        format!("{UPDATED} ge @{day}@"),
        format!("{UPDATED} ge '{day}'"),
    ]
}

fn first_url(gateway: &Sage100Gateway, filter: Option<&str>) -> Url {
    let count = PAGE_COUNT.to_string();
    let mut query: Vec<(&str, &str)> = Vec::with_capacity(3);
    if let Some(f) = filter {
        query.push(("where", f));
    }
    query.push(("startIndex", "1"));
    query.push(("count", &count));
    gateway.urls.resource(CUSTOMERS, &query)
}

/// Whether the page at `url` (a cursor's) is filtered by `DateUpdated`, checked against what
/// the caller asks for: a cursor filtered on another day, or while no day is asked for, is
/// refused (the caller would take a partial list for the whole).
fn cursor_filtered(url: &Url, since: Option<Date>) -> Result<bool, ErpReadError> {
    let Some(filter) = urls::param(url, "where").filter(|w| w.contains(UPDATED)) else {
        return Ok(false);
    };
    match since {
        Some(day) if filter.contains(&day.to_string()) => Ok(true),
        _ => Err(protocol(format!(
            "the page cursor {url} is of a list filtered by {UPDATED} other than the one asked for"
        ))),
    }
}

/// GETs one page of the list.
async fn get_page(gateway: &Sage100Gateway, url: &Url) -> Result<Answer, ErpReadError> {
    gateway.get(url, Some(gateway.settings.list_timeout)).await
}

/// The first page, filtered by `since` when the server accepts one of the filters.
async fn first_page(
    gateway: &Sage100Gateway,
    since: Option<Date>,
) -> Result<(Url, Answer, bool), ErpReadError> {
    if let Some(day) = since {
        for filter in since_filters(day) {
            let url = first_url(gateway, Some(&filter));
            let answer = get_page(gateway, &url).await?;
            if answer.status == StatusCode::BAD_REQUEST {
                // [UNSURE] which date literal the provider accepts: try the next form.
                tracing::debug!(%url, "the server refused the {UPDATED} filter");
                continue;
            }
            return Ok((url, answer, true));
        }
        tracing::warn!("the server refused every {UPDATED} filter; reading the whole list");
    }
    let url = first_url(gateway, None);
    let answer = get_page(gateway, &url).await?;
    Ok((url, answer, false))
}

/// A 2xx feed of customers as summaries, or the error it is.
fn feed_summaries(
    gateway: &Sage100Gateway,
    answer: &Answer,
) -> Result<(Document, Vec<ErpCustomerSummary>), ErpReadError> {
    if !answer.status.is_success() {
        return Err(read_failure(answer));
    }
    let doc = Sage100Gateway::document(answer)?;
    let fail = |what: String| protocol(xml::protocol(&what, &answer.body));
    if doc.root != "feed" {
        return Err(fail(format!(
            "expected an Atom feed of {CUSTOMERS}, got <{}>",
            doc.root
        )));
    }
    let mut customers = Vec::with_capacity(doc.entries.len());
    for entry in &doc.entries {
        if entry.resource.is_none() {
            return Err(fail(format!("an entry of {CUSTOMERS} without a payload")));
        }
        customers.push(
            summary(
                &|c| entry.text(c).map(str::to_owned),
                gateway.crm_field.as_ref(),
            )
            .map_err(&fail)?,
        );
    }
    Ok((doc, customers))
}

pub(super) async fn customers_page(
    gateway: &Sage100Gateway,
    since: Option<Date>,
    cursor: Option<PageCursor>,
) -> Result<CustomerPage, ErpReadError> {
    let (url, answer, since_applied) = match &cursor {
        None => first_page(gateway, since).await?,
        Some(c) => {
            let url = gateway
                .urls
                .cursor_url(c.as_str(), CUSTOMERS)
                .map_err(protocol)?;
            let filtered = cursor_filtered(&url, since)?;
            let answer = get_page(gateway, &url).await?;
            (url, answer, filtered)
        }
    };
    let (doc, customers) = feed_summaries(gateway, &answer)?;
    let fail = |what: String| protocol(xml::protocol(&what, &answer.body));
    let next = next_page(&gateway.urls, &url, &doc, CUSTOMERS).map_err(fail)?;
    if let Some(n) = &next {
        let asked = urls::param(&url, "startIndex")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(1);
        let n_start = urls::param(n, "startIndex").and_then(|s| s.trim().parse::<u64>().ok());
        if n_start.is_some_and(|s| s <= asked) || doc.entries.is_empty() {
            return Err(fail(format!(
                "{CUSTOMERS}: the page at startIndex {asked} ({} rows) links to {n}; the paging \
                 does not move on",
                doc.entries.len()
            )));
        }
        if urls::param(n, "where") != urls::param(&url, "where") {
            return Err(fail(format!(
                "{CUSTOMERS}: the next page ({n}) does not keep this page's filter"
            )));
        }
    }
    Ok(CustomerPage {
        customers,
        next: next.map(|u| PageCursor::new(u.to_string())),
        total: doc.total_results,
        since_applied,
    })
}

pub(super) async fn customers_named(
    gateway: &Sage100Gateway,
    name: &str,
) -> Result<Vec<ErpCustomerSummary>, ErpReadError> {
    if name.trim().is_empty() {
        // No customer has a blank name (a row without one is refused): nothing to ask.
        return Ok(Vec::new());
    }
    let filter = urls::where_eq(&[("CustomerName", name)]);
    let count = NAMED_MAX.to_string();
    let url = gateway
        .urls
        .resource(CUSTOMERS, &[("where", &filter), ("count", &count)]);
    let answer = get_page(gateway, &url).await?;
    let (_, mut found) = feed_summaries(gateway, &answer)?;
    found.truncate(NAMED_MAX);
    Ok(found)
}

pub(super) async fn customer_summary(
    gateway: &Sage100Gateway,
    key: &ErpCustomerKey,
) -> Result<Option<ErpCustomerSummary>, ErpReadError> {
    let Some(customer) = gateway.find_customer(key).await? else {
        return Ok(None);
    };
    let record = &customer.record;
    let get = |c: &str| {
        record
            .text(c)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    summary(&get, gateway.crm_field.as_ref())
        .map(Some)
        .map_err(|e| protocol(format!("{CUSTOMERS} {}: {e}", key.external_uid())))
}

pub(super) async fn set_crm_id(
    gateway: &Sage100Gateway,
    key: &ErpCustomerKey,
    field: &ErpFieldName,
    value: &str,
) -> Result<(), ErpWriteError> {
    let column = wire::udf_column(field.as_str()).map_err(|e| ErpWriteError::Rejected {
        code: "crm2sage".to_owned(),
        message: format!("the customer update could not be written (nothing was sent): {e}"),
    })?;
    let body = xml::entry_xml(CUSTOMERS, &[(column, value)]);
    let division = key.division.unwrap_or_default();
    let url = gateway
        .urls
        .single(CUSTOMERS, &[division.as_str(), key.customer_no.as_str()]);
    let act = WriteAct::Update;
    let answer = gateway
        .http
        .write_party(Method::PUT, &url, body.into_bytes(), act, |a| {
            parties::classify(a, act, true)
        })
        .await?;
    let status = answer.status.as_u16();
    let unreadable =
        |why: String| ErpWriteError::from(errors::unreadable_success(status, act, &why));
    let Some(doc) = parties::readable(&answer.body).map_err(unreadable)? else {
        return Ok(());
    };
    if doc.diagnoses.iter().any(xml::Diagnosis::is_error) {
        let m = wire::message_of(&doc.diagnoses);
        return Err(unreadable(format!(
            "a {status} carrying an error diagnosis: {}",
            m.message.as_deref().unwrap_or(m.code())
        )));
    }
    // The customer answered, when it carries the column, must carry this value.
    if let Some(now) = doc.entries.iter().find_map(|e| e.text(column))
        && now != value.trim()
    {
        return Err(unreadable(format!(
            "the customer answered has {column} `{now}`, not `{value}`"
        )));
    }
    Ok(())
}

/// The exact Atom entry `create_customer` POSTs for `customer`.
pub(super) fn customer_payload(customer: &NewErpCustomer) -> String {
    wire::create_entry(customer).unwrap_or_else(|e| {
        format!("<!-- the entry could not be written, nothing would be sent: {e} -->")
    })
}

/// The summary from `get` (a column's trimmed, non-blank text) and the CRM-id column.
fn summary(
    get: &dyn Fn(&str) -> Option<String>,
    crm_field: Option<&ErpFieldName>,
) -> Result<ErpCustomerSummary, String> {
    let (Some(dd), Some(no)) = (get("ARDivisionNo"), get("CustomerNo")) else {
        return Err(format!(
            "a {CUSTOMERS} entry without ARDivisionNo and CustomerNo"
        ));
    };
    let division = ArDivision::parse(&dd).map_err(|e| format!("ARDivisionNo `{dd}`: {e}"))?;
    let customer_no =
        CustomerNo::parse_sage100(&no).map_err(|e| format!("CustomerNo `{no}`: {e}"))?;
    let name =
        get("CustomerName").ok_or_else(|| format!("customer {dd}-{no} without CustomerName"))?;
    let status = match get("CustomerStatus") {
        None => ErpCustomerStatus::Active,
        Some(s) if s.eq_ignore_ascii_case("A") || s.eq_ignore_ascii_case("Active") => {
            ErpCustomerStatus::Active
        }
        Some(_) => ErpCustomerStatus::Inactive,
    };
    let on_hold = match get("CreditHold") {
        None => false,
        Some(h)
            if ["y", "yes", "true", "1"]
                .iter()
                .any(|y| h.eq_ignore_ascii_case(y)) =>
        {
            true
        }
        Some(h)
            if ["n", "no", "false", "0"]
                .iter()
                .any(|n| h.eq_ignore_ascii_case(n)) =>
        {
            false
        }
        Some(other) => {
            return Err(format!(
                "customer {dd}-{no}: CreditHold `{other}` is not Y or N"
            ));
        }
    };
    Ok(ErpCustomerSummary {
        key: ErpCustomerKey {
            division: Some(division),
            customer_no,
        },
        name,
        address_lines: [
            get("AddressLine1"),
            get("AddressLine2"),
            get("AddressLine3"),
        ],
        city: get("City"),
        state: get("State"),
        postal_code: get("ZipCode"),
        country: get("CountryCode"),
        phone: get("TelephoneNo"),
        email: get("EmailAddress"),
        status,
        on_hold,
        last_maintained: get(UPDATED).and_then(|d| date_part(&d)),
        crm_id: crm_field.and_then(|f| get(f.as_str())),
    })
}

/// The calendar day of `2026-12-01`, `2026-12-01T00:00:00`, `2026-12-01T00:00:00-05:00`;
/// `None` for the `1753-01-01` blank or what is not a date.
fn date_part(text: &str) -> Option<Date> {
    let day = text.trim().get(..10)?;
    if day == BLANK_DATE {
        return None;
    }
    day.parse::<Date>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(columns: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |c| {
            columns
                .iter()
                .find(|(n, _)| *n == c)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        }
    }

    #[test]
    fn statuses_holds_and_dates() {
        let cols = [
            ("ARDivisionNo", "01"),
            ("CustomerNo", "ABF"),
            ("CustomerName", "American Business Futures"),
            ("CustomerStatus", "T"),
            ("CreditHold", "Y"),
            ("DateUpdated", "2026-12-01T10:11:12-05:00"),
        ];
        let s = summary(&get(&cols), None).expect("a summary");
        assert_eq!(s.status, ErpCustomerStatus::Inactive);
        assert!(s.on_hold);
        assert_eq!(
            s.last_maintained.map(|d| d.to_string()).as_deref(),
            Some("2026-12-01")
        );
        let bare = [
            ("ARDivisionNo", "01"),
            ("CustomerNo", "ABF"),
            ("CustomerName", "X"),
        ];
        let s = summary(&get(&bare), None).expect("a summary");
        assert_eq!(s.status, ErpCustomerStatus::Active);
        assert!(!s.on_hold);
        assert_eq!(date_part(BLANK_DATE), None);
        assert_eq!(date_part("2026-1"), None);
        let odd = [
            ("ARDivisionNo", "01"),
            ("CustomerNo", "ABF"),
            ("CustomerName", "X"),
            ("CreditHold", "maybe"),
        ];
        assert!(summary(&get(&odd), None).is_err());
        assert!(summary(&get(&[("CustomerNo", "ABF")]), None).is_err());
    }
}
