//! The Sage 300 Web API gateway: reference lists, customer lookup and create over OData v4
//! JSON, as `reference/sage300-web-api.md` describes them. How each \[UNSURE\] detail is
//! tolerated is tabled in the crate docs (`lib.rs`, "Sage 300").
//!
//! The next reference page is prefetched while the current one is parsed: see [`prefetch`].
//! Ship-tos and contacts: see [`parties`]. The customer list, the name lookup and the CRM-id
//! update: see [`customers`].

mod customers;
mod panel;
mod parties;
mod prefetch;
mod urls;
mod wire;

use prefetch::Prefetch;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use crm2sage_domain::ports::{
    CreateCustomerError, CustomerPage, ErpCustomer, ErpCustomerKey, ErpCustomerSummary, ErpGateway,
    ErpParty, ErpPartyKey, ErpReadError, ErpReferenceRecord, ErpWriteError, NewErpCustomer,
    NewErpParty, PageCursor, PartyFieldLimit, PartyHome, PartyPage, ReferencePage,
};
use crm2sage_domain::{
    CustomerNo, ErpFieldName, FieldLimits, PartyKind, ReferenceCode, ReferenceExtras, ReferenceKind,
};
use reqwest::StatusCode;
use url::Url;

use crate::errors::{self, ErpMessage};
use crate::http::{Answer, BodyKind, HttpClient};
use crate::paging::{PageFacts, PageVerdict, PagingGuard};
use crate::settings::ClientSettings;

pub(crate) use urls::Sage300Urls;

const CUSTOMERS: &str = "AR/ARCustomers";

/// Characters that IIS and ASP.NET refuse or mangle in a URL *path* even when percent-encoded:
/// `/` and `\` (`%2F`, `%5C` are decoded before routing), `%` (double escaping, 404.11),
/// `< > * & : ?` (ASP.NET's request validation, 400) and `+` (request filtering, 404.11). A
/// customer number holding one is looked up with `$filter` (in the query, where they are
/// fine) instead of the key form. `'` is doubled in either form.
const PATH_HOSTILE: &[char] = &['/', '\\', '%', '<', '>', '*', '&', ':', '?', '+'];

/// A connected Sage 300 company.
pub(crate) struct Sage300Gateway {
    /// Shared with the task of a [`Prefetch`].
    http: Arc<HttpClient>,
    urls: Sage300Urls,
    settings: Arc<ClientSettings>,
    limits: FieldLimits,
    /// Resources whose `$select` this server refused with a 400 (a property it lacks): their
    /// first pages are asked for whole from then on.
    select_refused: Mutex<Vec<&'static str>>,
    /// The GET of the page after the last one returned, started before that page was parsed;
    /// at most one per gateway. Taken by the next `reference_page` call (used if it asks for
    /// that page, aborted otherwise), aborted when the gateway is dropped.
    prefetch: Mutex<Option<Prefetch>>,
    /// What the current sync of a kind has seen: refuses loops and short lists.
    paging: PagingGuard,
    /// Where contacts live (`MT/MTContacts` or the customer), asked once; a failed
    /// detection is not kept.
    contacts_home: tokio::sync::OnceCell<PartyHome>,
    /// The integration's CRM-id optional field, read into each customer summary.
    crm_field: Option<ErpFieldName>,
}

impl std::fmt::Debug for Sage300Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sage300Gateway")
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

fn protocol(excerpt: String) -> ErpReadError {
    ErpReadError::Protocol { excerpt }
}

/// Today's date in UTC, `YYYY-MM-DD`, to judge `InactiveDate`.
fn today() -> String {
    jiff::Timestamp::now()
        .to_string()
        .chars()
        .take(10)
        .collect()
}

impl Sage300Gateway {
    pub(crate) fn new(
        http: HttpClient,
        urls: Sage300Urls,
        settings: Arc<ClientSettings>,
        limits: FieldLimits,
    ) -> Self {
        Self {
            http: Arc::new(http),
            urls,
            settings,
            limits,
            select_refused: Mutex::new(Vec::new()),
            prefetch: Mutex::new(None),
            paging: PagingGuard::default(),
            contacts_home: tokio::sync::OnceCell::new(),
            crm_field: None,
        }
    }

    /// This gateway reading the integration's CRM-id optional field `field` into summaries.
    pub(crate) fn with_crm_field(mut self, field: Option<ErpFieldName>) -> Self {
        self.crm_field = field;
        self
    }

    /// The `$select` to send on the first page of `kind`, unless this server refused it.
    fn select_for(&self, kind_wire: &wire::KindWire) -> Option<&'static str> {
        let select = kind_wire.select?;
        let refused = self
            .select_refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (!refused.contains(&kind_wire.resource)).then_some(select)
    }

    fn refuse_select(&self, kind_wire: &wire::KindWire) {
        let mut refused = self
            .select_refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !refused.contains(&kind_wire.resource) {
            refused.push(kind_wire.resource);
        }
    }

    /// The first page of `kind`: `$filter` (tax groups: Sales only), then `$select` when given,
    /// then `$count=true`.
    fn first_page_url(
        &self,
        kind: ReferenceKind,
        kind_wire: &wire::KindWire,
        select: Option<&str>,
    ) -> Url {
        let filter =
            (kind == ReferenceKind::Tax).then(|| urls::eq_filter("TransactionType", "Sales"));
        let mut query: Vec<(&str, &str)> = Vec::with_capacity(3);
        if let Some(f) = &filter {
            query.push(("$filter", f));
        }
        if let Some(s) = select {
            query.push(("$select", s));
        }
        query.push(("$count", "true"));
        self.urls.resource(kind_wire.resource, &query)
    }

    /// GETs `url` (with retries) and returns the answer if it is a success.
    async fn get_ok(&self, url: &Url, timeout: Option<Duration>) -> Result<Answer, ErpReadError> {
        get_ok(&self.http, url, timeout).await
    }

    fn to_customer(
        entity: &wire::Entity,
        requested: &CustomerNo,
        body: &[u8],
    ) -> Result<ErpCustomer, String> {
        let number = wire::customer_number(entity)
            .ok_or_else(|| wire::protocol("a customer without CustomerNumber", body))?;
        let customer_no = CustomerNo::parse_sage300(&number).map_err(|e| {
            wire::protocol(
                &format!("CustomerNumber `{number}` is not usable ({e})"),
                body,
            )
        })?;
        if &customer_no != requested {
            return Err(wire::protocol(
                &format!("asked for customer `{requested}`, got `{customer_no}`"),
                body,
            ));
        }
        let record = crate::headline::arrange(wire::customer_record(entity));
        Ok(ErpCustomer {
            key: ErpCustomerKey {
                division: None,
                customer_no,
            },
            name: record.text("CustomerName").map(str::to_owned),
            record,
        })
    }

    async fn find_by_key(&self, number: &CustomerNo) -> Result<Option<ErpCustomer>, ErpReadError> {
        let url = self.urls.entity(CUSTOMERS, number.as_str());
        let answer = self
            .http
            .get(&url, None, BodyKind::Entity)
            .await
            .map_err(errors::read_transport)?;
        if answer.status == StatusCode::NOT_FOUND {
            let parsed = wire::parse_error(&answer.body);
            // Only "no record for this key" means absent; a 404 `ResourceNotFound` (wrong URL,
            // wrong company) must not pass for "the customer number is free".
            if parsed
                .as_ref()
                .is_some_and(|m| m.code() == "RecordNotFound")
            {
                return Ok(None);
            }
            return Err(errors::read_status(404, parsed.as_ref(), &answer.body));
        }
        if !answer.status.is_success() {
            return Err(read_failure(&answer));
        }
        let entity = wire::parse_entity(&answer.body).map_err(protocol)?;
        Self::to_customer(&entity, number, &answer.body)
            .map(Some)
            .map_err(protocol)
    }

    async fn find_by_filter(
        &self,
        number: &CustomerNo,
    ) -> Result<Option<ErpCustomer>, ErpReadError> {
        let filter = urls::eq_filter("CustomerNumber", number.as_str());
        let url = self.urls.resource(CUSTOMERS, &[("$filter", &filter)]);
        let answer = self.get_ok(&url, None).await?;
        let page = wire::parse_page(&answer.body).map_err(protocol)?;
        // Never trust that the server filtered: take the row with this number, if any.
        let row = page.rows.iter().find(|row| {
            wire::customer_number(row)
                .and_then(|n| CustomerNo::parse_sage300(&n).ok())
                .is_some_and(|n| &n == number)
        });
        match row {
            None => Ok(None),
            Some(entity) => Self::to_customer(entity, number, &answer.body)
                .map(Some)
                .map_err(protocol),
        }
    }

    fn languages(cursor: Option<PageCursor>) -> Result<ReferencePage, ErpReadError> {
        if let Some(c) = cursor {
            return Err(protocol(format!(
                "languages are one fixed page; unexpected cursor `{}`",
                c.as_str()
            )));
        }
        let records = wire::CHECK_LANGUAGES
            .iter()
            .map(|(code, description)| {
                ReferenceCode::parse(code)
                    .map(|code| ErpReferenceRecord {
                        code,
                        description: (*description).to_owned(),
                        active: true,
                        extras: ReferenceExtras::default(),
                    })
                    .map_err(|e| protocol(format!("language `{code}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ReferencePage {
            total: Some(records.len() as u64),
            records,
            next: None,
        })
    }
}

/// GETs `url` (with retries) and returns the answer if it is a success.
async fn get_ok(
    http: &HttpClient,
    url: &Url,
    timeout: Option<Duration>,
) -> Result<Answer, ErpReadError> {
    // A GET with the list timeout reads a page; any other, one record.
    let kind = if timeout.is_some() {
        BodyKind::Page
    } else {
        BodyKind::Entity
    };
    let answer = http
        .get(url, timeout, kind)
        .await
        .map_err(errors::read_transport)?;
    if answer.status.is_success() {
        Ok(answer)
    } else {
        Err(read_failure(&answer))
    }
}

/// A failure status on a GET, with Sage's message when the body has one.
fn read_failure(answer: &Answer) -> ErpReadError {
    let parsed: Option<ErpMessage> = wire::parse_error(&answer.body);
    errors::read_status(answer.status.as_u16(), parsed.as_ref(), &answer.body)
}

#[async_trait]
impl ErpGateway for Sage300Gateway {
    async fn test_connection(&self) -> Result<(), ErpReadError> {
        // The cheapest request that proves the credentials, the company and the AR right.
        let url = self
            .urls
            .resource(CUSTOMERS, &[("$top", "1"), ("$select", "CustomerNumber")]);
        let answer = self.get_ok(&url, None).await?;
        wire::parse_page(&answer.body).map_err(protocol)?;
        Ok(())
    }

    async fn reference_page(
        &self,
        kind: ReferenceKind,
        cursor: Option<PageCursor>,
    ) -> Result<ReferencePage, ErpReadError> {
        // Any call takes the pending prefetch: it is used below if this call asks for the page
        // it fetches, and aborted (dropped) otherwise.
        let pending = self.take_prefetch();
        if kind == ReferenceKind::Language {
            return Self::languages(cursor);
        }
        let Some(kind_wire) = wire::kind_wire(kind) else {
            return Err(ErpReadError::KindUnavailable(kind));
        };
        let timeout = Some(self.settings.list_timeout);
        let (url, answer) = match &cursor {
            None => {
                drop(pending);
                let select = self.select_for(&kind_wire);
                let url = self.first_page_url(kind, &kind_wire, select);
                match self.get_ok(&url, timeout).await {
                    // OData answers 400 to a `$select` naming a property the entity lacks (a
                    // build that spells it differently): ask again for whole entities, and
                    // from then on for this resource.
                    Err(ErpReadError::Server {
                        status: 400,
                        message,
                    }) if select.is_some() => {
                        let whole = self.first_page_url(kind, &kind_wire, None);
                        let answer = self.get_ok(&whole, timeout).await?;
                        tracing::warn!(
                            resource = kind_wire.resource,
                            %message,
                            "the server refused $select; reading whole entities"
                        );
                        self.refuse_select(&kind_wire);
                        (whole, answer)
                    }
                    other => (url, other?),
                }
            }
            Some(c) => {
                let url = self
                    .urls
                    .cursor_url(c.as_str(), kind_wire.resource)
                    .map_err(protocol)?;
                let answer = match pending.filter(|p| p.kind == kind && p.url == url) {
                    Some(prefetched) => prefetched.answer().await?,
                    None => self.get_ok(&url, timeout).await?,
                };
                (url, answer)
            }
        };
        let body = &answer.body;
        // The next page is asked for now, while this one is parsed. The scan is only a hint:
        // the cursor returned is the parse's, and the prefetch is kept only if they agree
        // (dropped, hence aborted, on any early return below).
        let prefetch = self.start_prefetch(kind, kind_wire.resource, &url, body);
        let page = wire::parse_reference_page(body).map_err(protocol)?;
        let today = today();
        let mut records = Vec::with_capacity(page.rows.len());
        for (i, row) in page.rows.iter().enumerate() {
            let row_text = || wire::row_text(body, i);
            if let Some(r) = wire::reference_record(kind, &kind_wire, row, &today, &row_text)
                .map_err(protocol)?
            {
                records.push(r);
            }
        }
        let linked = match &page.next_link {
            None => None,
            Some(link) => {
                let next = self
                    .urls
                    .next_page(&url, link, kind_wire.resource)
                    .map_err(|e| protocol(format!("{kind} ({}): {e}", kind_wire.resource)))?;
                if next == url {
                    return Err(protocol(format!(
                        "the next link of {kind} points at the same page: {link}"
                    )));
                }
                Some(next)
            }
        };
        let facts = PageFacts {
            kind,
            resource: kind_wire.resource,
            first: cursor.is_none(),
            url: &url,
            rows: page.rows.len() as u64,
            offset: url
                .query_pairs()
                .find(|(k, _)| k == "$skip")
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0),
            codes: records.iter().map(|r| r.code.as_str().to_owned()).collect(),
            count: page.count,
            linked: linked.is_some(),
        };
        let next = match self
            .paging
            .judge(facts, linked.as_ref())
            .map_err(protocol)?
        {
            PageVerdict::FollowLink => linked,
            PageVerdict::Done => None,
            PageVerdict::ContinueAfter(rows) => {
                // The count says more rows exist but the page has no next link (the Developer
                // Reference's own example): ask for the rows after these.
                let next = urls::with_skip(&url, rows);
                self.paging
                    .check_unseen(&format!("{kind} ({})", kind_wire.resource), &next)
                    .map_err(protocol)?;
                Some(next)
            }
        };
        if let Some(prefetch) = prefetch.filter(|p| next.as_ref() == Some(&p.url)) {
            self.keep_prefetch(prefetch);
        }
        let next = next.map(|next| PageCursor::new(next.to_string()));
        Ok(ReferencePage {
            records,
            next,
            total: page.count,
        })
    }

    async fn find_customer(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomer>, ErpReadError> {
        let number = &key.customer_no;
        if number.as_str().contains(PATH_HOSTILE) {
            self.find_by_filter(number).await
        } else {
            self.find_by_key(number).await
        }
    }

    async fn credit_figures(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<crm2sage_domain::CreditFigures>, ErpReadError> {
        panel::credit_figures(self, key).await
    }

    async fn open_documents_page(
        &self,
        key: &ErpCustomerKey,
        cursor: Option<PageCursor>,
    ) -> Result<crm2sage_domain::ports::DocumentPage, ErpReadError> {
        panel::open_documents_page(self, key, cursor).await
    }

    async fn open_orders_page(
        &self,
        key: &ErpCustomerKey,
        cursor: Option<PageCursor>,
    ) -> Result<crm2sage_domain::ports::OrdersPage, ErpReadError> {
        panel::open_orders_page(self, key, cursor).await
    }

    async fn create_customer(
        &self,
        customer: &NewErpCustomer,
    ) -> Result<ErpCustomer, CreateCustomerError> {
        let body = wire::create_payload(customer).map_err(|e| CreateCustomerError::Rejected {
            code: "crm2sage".to_owned(),
            message: format!("the payload could not be written (nothing was sent): {e}"),
        })?;
        let url = self.urls.resource(CUSTOMERS, &[]);
        let answer = self
            .http
            .post_once(&url, body.into_bytes())
            .await
            .map_err(errors::create_transport)?;
        let status = answer.status.as_u16();
        if answer.status.is_success() {
            let entity =
                wire::parse_entity(&answer.body).map_err(|e| CreateCustomerError::Ambiguous {
                    reason: format!(
                        "the ERP answered {status} to the create but its answer cannot be read: {e}"
                    ),
                })?;
            return Self::to_customer(&entity, &customer.key.customer_no, &answer.body).map_err(
                |e| CreateCustomerError::Ambiguous {
                    reason: format!("the ERP answered {status} to the create, but: {e}"),
                },
            );
        }
        let parsed = wire::parse_error(&answer.body);
        let duplicate = answer.status == StatusCode::CONFLICT
            && parsed
                .as_ref()
                .is_some_and(|m| m.code() == "RecordDuplicate");
        Err(errors::create_status(
            status,
            parsed.as_ref(),
            &answer.body,
            duplicate,
        ))
    }

    fn limits(&self) -> FieldLimits {
        self.limits.clone()
    }

    async fn party_home(&self, kind: PartyKind) -> Result<PartyHome, ErpReadError> {
        parties::party_home(self, kind).await
    }

    async fn find_party(&self, key: &ErpPartyKey) -> Result<Option<ErpParty>, ErpReadError> {
        parties::find_party(self, key).await
    }

    async fn create_party(&self, party: &NewErpParty) -> Result<ErpParty, ErpWriteError> {
        parties::create_party(self, party).await
    }

    async fn set_primary_party(&self, party: &NewErpParty) -> Result<(), ErpWriteError> {
        parties::set_primary_party(self, party).await
    }

    async fn parties_page(
        &self,
        customer: &ErpCustomerKey,
        kind: PartyKind,
        cursor: Option<PageCursor>,
    ) -> Result<PartyPage, ErpReadError> {
        parties::parties_page(self, customer, kind, cursor).await
    }

    fn party_limits(&self, kind: PartyKind) -> Vec<PartyFieldLimit> {
        crate::limits::sage300_parties(kind, parties::contacts_on_customer(self))
    }

    async fn customers_page(
        &self,
        since: Option<jiff::civil::Date>,
        cursor: Option<PageCursor>,
    ) -> Result<CustomerPage, ErpReadError> {
        customers::customers_page(self, since, cursor).await
    }

    async fn customers_named(&self, name: &str) -> Result<Vec<ErpCustomerSummary>, ErpReadError> {
        customers::customers_named(self, name).await
    }

    async fn customer_summary(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomerSummary>, ErpReadError> {
        customers::customer_summary(self, key).await
    }

    async fn set_crm_id(
        &self,
        key: &ErpCustomerKey,
        field: &ErpFieldName,
        value: &str,
    ) -> Result<(), ErpWriteError> {
        customers::set_crm_id(self, key, field, value).await
    }

    fn customer_payload(&self, customer: &NewErpCustomer) -> String {
        customers::customer_payload(customer)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn today_is_a_date() {
        let t = super::today();
        assert_eq!(t.len(), 10);
        assert_eq!(&t[4..5], "-");
    }
}
