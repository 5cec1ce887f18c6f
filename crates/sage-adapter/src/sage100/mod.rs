//! The Sage 100 SData gateway: reference tables, customer lookup and create over Atom XML, as
//! `reference/sage100.md` Part A describes them. How each \[UNSURE\] detail is tolerated is
//! tabled in the crate docs (`lib.rs`, "Sage 100"). Ship-tos and contacts: see [`parties`].
//! The customer list, the name lookup and the CRM-id update: see [`customers`].

mod customers;
mod panel;
mod parties;
mod party_wire;
mod urls;
mod wire;
mod xml;

use std::sync::Arc;

use async_trait::async_trait;
use crm2sage_domain::ports::{
    CreateCustomerError, CustomerPage, ErpCustomer, ErpCustomerKey, ErpCustomerSummary, ErpGateway,
    ErpParty, ErpPartyKey, ErpReadError, ErpWriteError, NewErpCustomer, NewErpParty, PageCursor,
    PartyFieldLimit, PartyHome, PartyPage, ReferencePage,
};
use crm2sage_domain::{
    ArDivision, CustomerNo, ErpFieldName, FieldLimits, PartyKind, ReferenceKind,
};
use reqwest::StatusCode;
use tokio::sync::OnceCell;
use url::Url;

use crate::errors::{self, ErpMessage};
use crate::http::{Answer, BodyKind, HttpClient};
use crate::paging::{PageFacts, PageVerdict, PagingGuard};
use crate::settings::ClientSettings;

pub(crate) use urls::Sage100Urls;
use wire::{CUSTOMER_TYPES, CUSTOMERS};
use xml::{Document, Entry};

/// Rows asked for per page (`count=`); a server may send fewer.
const PAGE_COUNT: u64 = 100;

/// A connected Sage 100 company.
pub(crate) struct Sage100Gateway {
    http: HttpClient,
    urls: Sage100Urls,
    settings: Arc<ClientSettings>,
    limits: FieldLimits,
    /// The resource kinds `$schema` lists as (name, URL segment), read once per gateway; `None`
    /// inside when the server has no usable `$schema`. Failures are not cached.
    schema: OnceCell<Option<Vec<(String, String)>>>,
    /// What the current sync of a kind has seen: refuses loops and short lists.
    paging: PagingGuard,
    /// The integration's CRM-id UDF column, read into each customer summary.
    crm_field: Option<ErpFieldName>,
}

impl std::fmt::Debug for Sage100Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sage100Gateway")
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

fn protocol(excerpt: String) -> ErpReadError {
    ErpReadError::Protocol { excerpt }
}

/// A failure status on a GET, with Sage's diagnoses when the body has them.
fn read_failure(answer: &Answer) -> ErpReadError {
    let parsed = xml::parse_diagnoses(&answer.body).map(|d| wire::message_of(&d));
    errors::read_status(answer.status.as_u16(), parsed.as_ref(), &answer.body)
}

/// A readable 2xx document that nevertheless carries an `error`/`fatal` diagnosis: the list
/// may be incomplete, so it is an error, never a short result.
fn check_diagnoses(status: StatusCode, doc: &Document) -> Result<(), ErpReadError> {
    let errors: Vec<_> = doc
        .diagnoses
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let m: ErpMessage = wire::message_of(&errors);
    Err(ErpReadError::Server {
        status: status.as_u16(),
        message: format!(
            "{}: {}",
            m.code(),
            m.message.as_deref().unwrap_or("(no message)")
        ),
    })
}

impl Sage100Gateway {
    pub(crate) fn new(
        http: HttpClient,
        urls: Sage100Urls,
        settings: Arc<ClientSettings>,
        limits: FieldLimits,
    ) -> Self {
        Self {
            http,
            urls,
            settings,
            limits,
            schema: OnceCell::new(),
            paging: PagingGuard::default(),
            crm_field: None,
        }
    }

    /// This gateway reading the integration's CRM-id UDF column `field` into summaries.
    pub(crate) fn with_crm_field(mut self, field: Option<ErpFieldName>) -> Self {
        self.crm_field = field;
        self
    }

    async fn get(
        &self,
        url: &Url,
        timeout: Option<std::time::Duration>,
    ) -> Result<Answer, ErpReadError> {
        // A GET with the list timeout reads a page (or the schema); any other, one record.
        let kind = if timeout.is_some() {
            BodyKind::Page
        } else {
            BodyKind::Entity
        };
        self.http
            .get(url, timeout, kind)
            .await
            .map_err(errors::read_transport)
    }

    /// Parses a 2xx answer and refuses one carrying error diagnoses.
    fn document(answer: &Answer) -> Result<Document, ErpReadError> {
        let doc = xml::parse(&answer.body).map_err(protocol)?;
        check_diagnoses(answer.status, &doc)?;
        Ok(doc)
    }

    /// The resource kinds `$schema` lists as (name, URL segment: `sme:path`, else
    /// `sme:pluralName`, else the name), one GET per gateway; `None` when the server has no
    /// usable `$schema` (404/400/405/501 that is not "unknown company/application").
    async fn schema_kinds(&self) -> Result<Option<&Vec<(String, String)>>, ErpReadError> {
        let kinds = self
            .schema
            .get_or_try_init(|| async {
                let url = self.urls.schema();
                let answer = self.get(&url, Some(self.settings.list_timeout)).await?;
                if answer.status.is_success() {
                    let doc = Self::document(&answer)?;
                    let kinds = if doc.resource_kinds.is_empty() {
                        doc.top_elements
                    } else {
                        doc.resource_kinds
                    };
                    let kinds: Vec<(String, String)> = kinds
                        .into_iter()
                        .map(|name| {
                            let segment = doc
                                .kind_paths
                                .iter()
                                .find(|(n, _)| *n == name)
                                .map_or_else(|| name.clone(), |(_, p)| p.clone());
                            (name, segment)
                        })
                        .collect();
                    return Ok(Some(kinds).filter(|k| !k.is_empty()));
                }
                let diagnoses = xml::parse_diagnoses(&answer.body).unwrap_or_default();
                let no_schema = matches!(answer.status.as_u16(), 400 | 404 | 405 | 501)
                    && !wire::has_code(
                        &diagnoses,
                        &["ApplicationNotFound", "ContractNotFound", "DatasetNotFound"],
                    );
                if no_schema {
                    tracing::debug!(status = answer.status.as_u16(), "no usable $schema");
                    Ok(None)
                } else {
                    Err(read_failure(&answer))
                }
            })
            .await?;
        Ok(kinds.as_ref())
    }

    /// The URL segment of the table that holds `kind` on this server, or `KindUnavailable`.
    async fn table_of(
        &self,
        kind: ReferenceKind,
        wire: &wire::KindWire,
    ) -> Result<String, ErpReadError> {
        match (kind, wire.table) {
            (ReferenceKind::Category, _) => match self.schema_kinds().await? {
                Some(kinds) => kinds
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(CUSTOMER_TYPES))
                    .map(|(_, segment)| segment.clone())
                    .ok_or(ErpReadError::KindUnavailable(kind)),
                // No $schema: try the table; a 404 ResourceKindNotFound says it is absent.
                None => Ok(CUSTOMER_TYPES.to_owned()),
            },
            (_, Some(table)) => Ok(table.to_owned()),
            (_, None) => self
                .schema_kinds()
                .await?
                .and_then(|kinds| {
                    kinds
                        .iter()
                        .find(|(name, _)| wire::is_ship_method_table(name))
                })
                .map(|(_, segment)| segment.clone())
                .ok_or(ErpReadError::KindUnavailable(kind)),
        }
    }

    /// The customer in `entry` if it is the one with `division` and `number`.
    fn to_customer(
        entry: &Entry,
        division: ArDivision,
        number: &CustomerNo,
    ) -> Result<Option<ErpCustomer>, String> {
        let (Some(dd), Some(no)) = (entry.text("ARDivisionNo"), entry.text("CustomerNo")) else {
            return Err("a customer entry without ARDivisionNo and CustomerNo".to_owned());
        };
        let dd = ArDivision::parse(dd).map_err(|e| format!("ARDivisionNo: {e}"))?;
        let no = CustomerNo::parse_sage100(no).map_err(|e| format!("CustomerNo: {e}"))?;
        if dd != division || &no != number {
            return Ok(None);
        }
        let record = crate::headline::arrange(wire::record(entry));
        Ok(Some(ErpCustomer {
            key: ErpCustomerKey {
                division: Some(dd),
                customer_no: no,
            },
            name: record.text("CustomerName").map(str::to_owned),
            record,
        }))
    }

    /// `AR_Customer?where=ARDivisionNo eq 'DD' and CustomerNo eq 'NO'`; `Err(None)` when the
    /// server refuses the query itself (400), so the caller can read by key instead.
    async fn find_by_where(
        &self,
        division: ArDivision,
        number: &CustomerNo,
    ) -> Result<Option<ErpCustomer>, Option<ErpReadError>> {
        let filter = urls::where_eq(&[
            ("ARDivisionNo", division.as_str()),
            ("CustomerNo", number.as_str()),
        ]);
        let url = self.urls.resource(CUSTOMERS, &[("where", &filter)]);
        let answer = self.get(&url, None).await.map_err(Some)?;
        if answer.status == StatusCode::BAD_REQUEST {
            tracing::debug!(%url, "where query refused; reading by key");
            return Err(None);
        }
        if !answer.status.is_success() {
            return Err(Some(read_failure(&answer)));
        }
        let doc = Self::document(&answer).map_err(Some)?;
        let mut others = 0;
        for entry in &doc.entries {
            match Self::to_customer(entry, division, number) {
                Ok(Some(found)) => return Ok(Some(found)),
                Ok(None) => others += 1,
                Err(e) => return Err(Some(protocol(xml::protocol(&e, &answer.body)))),
            }
        }
        if others > 0 {
            // The server did not filter: its silence about our key proves nothing.
            return Err(Some(protocol(xml::protocol(
                &format!(
                    "the where query for {division}-{number} returned {others} other customers"
                ),
                &answer.body,
            ))));
        }
        Ok(None)
    }

    /// `AR_Customer(DD;NO)`. A 404 is "absent" only with a diagnosis that is not about the URL
    /// (unknown kind, company, contract…).
    async fn find_by_key(
        &self,
        division: ArDivision,
        number: &CustomerNo,
    ) -> Result<Option<ErpCustomer>, ErpReadError> {
        let url = self
            .urls
            .single(CUSTOMERS, &[division.as_str(), number.as_str()]);
        let answer = self.get(&url, None).await?;
        if answer.status == StatusCode::NOT_FOUND {
            let diagnoses = xml::parse_diagnoses(&answer.body).unwrap_or_default();
            if !diagnoses.is_empty() && !wire::has_code(&diagnoses, wire::WRONG_URL) {
                return Ok(None);
            }
            return Err(read_failure(&answer));
        }
        if !answer.status.is_success() {
            return Err(read_failure(&answer));
        }
        let doc = Self::document(&answer)?;
        match doc.entries.as_slice() {
            [entry] => match Self::to_customer(entry, division, number) {
                Ok(Some(found)) => Ok(Some(found)),
                Ok(None) => Err(protocol(xml::protocol(
                    &format!("asked for customer {division}-{number}, got another"),
                    &answer.body,
                ))),
                Err(e) => Err(protocol(xml::protocol(&e, &answer.body))),
            },
            _ => Err(protocol(xml::protocol(
                "a single-resource read did not return one entry",
                &answer.body,
            ))),
        }
    }
}

#[async_trait]
impl ErpGateway for Sage100Gateway {
    async fn test_connection(&self) -> Result<(), ErpReadError> {
        // The cheapest request that proves the credentials, the company and the AR right.
        let url = self
            .urls
            .resource(CUSTOMERS, &[("startIndex", "1"), ("count", "1")]);
        let answer = self.get(&url, None).await?;
        if !answer.status.is_success() {
            return Err(read_failure(&answer));
        }
        let doc = Self::document(&answer)?;
        if doc.root != "feed" {
            return Err(protocol(xml::protocol(
                &format!("expected an Atom feed, got <{}>", doc.root),
                &answer.body,
            )));
        }
        Ok(())
    }

    async fn reference_page(
        &self,
        kind: ReferenceKind,
        cursor: Option<PageCursor>,
    ) -> Result<ReferencePage, ErpReadError> {
        let Some(kind_wire) = wire::kind_wire(kind) else {
            return Err(ErpReadError::KindUnavailable(kind));
        };
        let table = self.table_of(kind, &kind_wire).await?;
        let url = match &cursor {
            None => self.urls.resource(
                &table,
                &[("startIndex", "1"), ("count", &PAGE_COUNT.to_string())],
            ),
            Some(c) => self.urls.cursor_url(c.as_str(), &table).map_err(protocol)?,
        };
        let answer = self.get(&url, Some(self.settings.list_timeout)).await?;
        if !answer.status.is_success() {
            if !kind_wire.required && answer.status == StatusCode::NOT_FOUND && cursor.is_none() {
                let diagnoses = xml::parse_diagnoses(&answer.body).unwrap_or_default();
                if wire::has_code(&diagnoses, &["ResourceKindNotFound"]) {
                    return Err(ErpReadError::KindUnavailable(kind));
                }
            }
            return Err(read_failure(&answer));
        }
        let doc = Self::document(&answer)?;
        if doc.root != "feed" {
            return Err(protocol(xml::protocol(
                &format!("expected an Atom feed of {table}, got <{}>", doc.root),
                &answer.body,
            )));
        }
        let mut records = Vec::with_capacity(doc.entries.len());
        for entry in &doc.entries {
            if entry.resource.is_none() {
                return Err(protocol(xml::protocol(
                    &format!("an entry of {table} without a payload"),
                    &answer.body,
                )));
            }
            let record = wire::reference_record(kind, &kind_wire, entry)
                .map_err(|e| protocol(xml::protocol(&e, &answer.body)))?;
            records.push(record);
        }
        let next = next_page(&self.urls, &url, &doc, &table)
            .map_err(|e| protocol(xml::protocol(&e, &answer.body)))?;
        // Loops, repeats and lists shorter than their totals fail the sync (see `paging`).
        let offset = urls::param(&url, "startIndex")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map_or(0, |s| s.saturating_sub(1));
        let facts = PageFacts {
            kind,
            resource: &table,
            first: cursor.is_none(),
            url: &url,
            rows: doc.entries.len() as u64,
            offset,
            codes: records.iter().map(|r| r.code.as_str().to_owned()).collect(),
            count: doc.total_results,
            linked: next.is_some(),
        };
        let next = match self.paging.judge(facts, next.as_ref()).map_err(protocol)? {
            PageVerdict::FollowLink => next,
            PageVerdict::Done => None,
            PageVerdict::ContinueAfter(rows) => {
                let next = urls::with_param(&url, "startIndex", &(rows + 1).to_string());
                self.paging
                    .check_unseen(&format!("{kind} ({table})"), &next)
                    .map_err(protocol)?;
                Some(next)
            }
        };
        Ok(ReferencePage {
            records,
            next: next.map(|u| PageCursor::new(u.to_string())),
            total: doc.total_results,
        })
    }

    async fn find_customer(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomer>, ErpReadError> {
        let division = key.division.unwrap_or_default();
        match self.find_by_where(division, &key.customer_no).await {
            Ok(found) => Ok(found),
            Err(Some(e)) => Err(e),
            Err(None) => self.find_by_key(division, &key.customer_no).await,
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
        let body = wire::create_entry(customer).map_err(|e| CreateCustomerError::Rejected {
            code: "crm2sage".to_owned(),
            message: format!("the entry could not be written (nothing was sent): {e}"),
        })?;
        let url = self.urls.resource(CUSTOMERS, &[]);
        let answer = self
            .http
            .post_once(&url, body.into_bytes())
            .await
            .map_err(errors::create_transport)?;
        let status = answer.status.as_u16();
        if answer.status.is_success() {
            let readable =
                answer.body.iter().all(u8::is_ascii_whitespace) || xml::parse(&answer.body).is_ok();
            if !readable {
                return Err(CreateCustomerError::Ambiguous {
                    reason: format!(
                        "the ERP answered {status} to the create but its answer cannot be read: {}",
                        errors::excerpt(&answer.body)
                    ),
                });
            }
            // Success is confirmed by reading the customer back.
            let key = ErpCustomerKey {
                division: Some(customer.key.division.unwrap_or_default()),
                customer_no: customer.key.customer_no.clone(),
            };
            return match self.find_customer(&key).await {
                Ok(Some(created)) => Ok(created),
                Ok(None) => Err(CreateCustomerError::Ambiguous {
                    reason: format!(
                        "the ERP answered {status} to the create, but reading customer {} back finds nothing",
                        key.external_uid()
                    ),
                }),
                Err(e) => Err(CreateCustomerError::Ambiguous {
                    reason: format!(
                        "the ERP answered {status} to the create, but reading it back failed: {e}"
                    ),
                }),
            };
        }
        let diagnoses = xml::parse_diagnoses(&answer.body);
        let parsed = diagnoses.as_deref().map(wire::message_of);
        let duplicate = answer.status == StatusCode::CONFLICT
            || diagnoses.as_deref().is_some_and(wire::says_duplicate);
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
        Ok(parties::party_home(kind))
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
        crate::limits::sage100_parties(kind)
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

/// Where the page after `doc` (read from `url`) starts: the feed's `next` link when it has one;
/// otherwise `startIndex + entries` while the OpenSearch `totalResults` says more follow; with
/// no totals either, the next `startIndex` after a full page (an empty page then ends the list).
fn next_page(
    urls: &Sage100Urls,
    url: &Url,
    doc: &Document,
    table: &str,
) -> Result<Option<Url>, String> {
    let on_page = doc.entries.len() as u64;
    let requested_start = urls::param(url, "startIndex")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1);
    let start = doc.start_index.unwrap_or(requested_start).max(1);
    let next = if let Some(link) = &doc.next_link {
        Some(urls.next_page(url, link, table)?)
    } else if let Some(total) = doc.total_results {
        let next_start = start + on_page;
        if next_start > total {
            None
        } else if on_page == 0 {
            return Err(format!(
                "an empty page at startIndex {start} although totalResults is {total}"
            ));
        } else {
            Some(urls::with_param(url, "startIndex", &next_start.to_string()))
        }
    } else {
        let page_size = doc
            .items_per_page
            .or_else(|| urls::param(url, "count").and_then(|c| c.trim().parse().ok()))
            .unwrap_or(PAGE_COUNT);
        (on_page > 0 && on_page >= page_size)
            .then(|| urls::with_param(url, "startIndex", &(start + on_page).to_string()))
    };
    match next {
        Some(n) if &n == url => Err(format!("the next page of {table} is this page: {n}")),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> Sage100Urls {
        Sage100Urls::new("http://h/sdata/MasApp/MasContract", "ABC").expect("urls")
    }

    fn doc(entries: usize, total: Option<u64>, start: Option<u64>, link: Option<&str>) -> Document {
        Document {
            root: "feed".into(),
            entries: vec![Entry::default(); entries],
            total_results: total,
            start_index: start,
            next_link: link.map(str::to_owned),
            ..Document::default()
        }
    }

    #[test]
    fn paging_follows_next_then_falls_back_to_totals() {
        let u = urls();
        let first = u.resource("AR_TermsCode", &[("startIndex", "1"), ("count", "2")]);
        let linked = next_page(
            &u,
            &first,
            &doc(
                2,
                Some(5),
                Some(1),
                Some("AR_TermsCode?startIndex=3&count=2"),
            ),
            "AR_TermsCode",
        )
        .expect("next")
        .expect("some");
        assert_eq!(urls::param(&linked, "startIndex").as_deref(), Some("3"));
        let computed = next_page(&u, &first, &doc(2, Some(5), Some(1), None), "AR_TermsCode")
            .expect("next")
            .expect("some");
        assert_eq!(
            computed.as_str(),
            "http://h/sdata/MasApp/MasContract/ABC/AR_TermsCode?startIndex=3&count=2"
        );
        let last = u.resource("AR_TermsCode", &[("startIndex", "5"), ("count", "2")]);
        assert_eq!(
            next_page(&u, &last, &doc(1, Some(5), Some(5), None), "AR_TermsCode").expect("ok"),
            None
        );
        assert!(next_page(&u, &last, &doc(0, Some(9), Some(5), None), "AR_TermsCode").is_err());
        // No link, no totals: a full page asks for the next one; a short page ends.
        let full = next_page(&u, &first, &doc(2, None, None, None), "AR_TermsCode")
            .expect("ok")
            .expect("some");
        assert_eq!(urls::param(&full, "startIndex").as_deref(), Some("3"));
        assert_eq!(
            next_page(&u, &first, &doc(1, None, None, None), "AR_TermsCode").expect("ok"),
            None
        );
        assert!(
            next_page(
                &u,
                &first,
                &doc(2, Some(5), Some(1), Some(first.as_str())),
                "AR_TermsCode"
            )
            .is_err()
        );
    }
}
