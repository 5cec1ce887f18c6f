//! The fake ERP: a catalogue of reference data and a customer table in memory, paged like a
//! real server, with faults on demand.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::codes::ReferenceCode;
use crate::erp::{ErpKind, FieldLimits, ReferenceKind};
use crate::integration::{ErpFieldName, Integration};
use crate::panel::CreditFigures;
use crate::party::PartyKind;
use crate::ports::{
    ConnectError, CreateCustomerError, Credentials, CustomerPage, DocumentPage, ErpConnector,
    ErpCustomer, ErpCustomerKey, ErpCustomerSummary, ErpGateway, ErpParty, ErpPartyKey,
    ErpReadError, ErpReferenceRecord, ErpWriteError, NewErpCustomer, NewErpParty, OrdersPage,
    PageCursor, PartyFieldLimit, PartyHome, PartyPage, ReferencePage,
};
use crate::record::{ErpRecord, ErpValue};
use crate::reference::ReferenceExtras;

/// A fault the fake ERP injects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErpFault {
    /// Every call fails: the ERP cannot be reached (until cleared).
    Unreachable,
    /// The next create is refused with this code and message; nothing is created.
    RejectCreate {
        /// Sage's code.
        code: String,
        /// Sage's message.
        message: String,
    },
    /// The next create times out before the ERP commits: ambiguous, nothing created.
    TimeoutBeforeCommit,
    /// The next create commits, then the connection drops: ambiguous, customer created.
    CommitThenDrop,
    /// Someone else creates the same customer just before the next create: it answers
    /// "already exists".
    CreatedMeanwhile,
    /// The next lookup fails with this error.
    FailLookup(ErpReadError),
    /// The next customer-list page or exact-name lookup fails with this error.
    FailList(ErpReadError),
    /// Reading page `page` (1-based) of `kind` fails with a server error.
    FailPage {
        /// The kind.
        kind: ReferenceKind,
        /// The page.
        page: u32,
    },
}

#[derive(Debug, Default)]
pub(super) struct State {
    catalogue: BTreeMap<ReferenceKind, Vec<ErpReferenceRecord>>,
    unavailable: BTreeSet<ReferenceKind>,
    pub(super) customers: BTreeMap<(Option<String>, String), ErpCustomer>,
    pub(super) panel: super::erp_panel::PanelState,
    pub(super) parties: super::erp_parties::PartyState,
    unreachable: bool,
    pub(super) next_create: VecDeque<ErpFault>,
    pub(super) next_lookup: VecDeque<ErpFault>,
    pub(super) next_list: VecDeque<ErpFault>,
    pub(super) list: super::erp_customers::CustomerListState,
    page_faults: Vec<(ReferenceKind, u32)>,
    pub(super) lookups: usize,
    pub(super) create_attempts: usize,
    pages_read: usize,
    password: Option<String>,
    connects: usize,
}

/// The fake ERP: its own connector and, once connected, its gateway. Clones share state.
#[derive(Debug, Clone)]
pub struct FakeErp {
    pub(super) kind: ErpKind,
    pub(super) page_size: usize,
    state: Arc<Mutex<State>>,
}

fn code(raw: &str) -> ReferenceCode {
    ReferenceCode::parse(raw).unwrap_or_else(|_| code("?"))
}

fn rec(raw: &str, description: &str) -> ErpReferenceRecord {
    ErpReferenceRecord {
        code: code(raw),
        description: description.to_owned(),
        active: true,
        extras: ReferenceExtras::default(),
    }
}

impl FakeErp {
    /// An empty ERP of `kind` (3 records per page).
    pub fn new(kind: ErpKind) -> Self {
        Self {
            kind,
            page_size: 3,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// A Sage 300 with the sample company's reference data: groups `RTL`, `WHL` and inactive
    /// `INA`; currencies `USD`, `CAD`; the five check languages; terms `N30`, `2N31`; tax groups
    /// `CALIF`, `BCTAX`; and customer `1200`.
    pub fn sage300_demo() -> Self {
        let erp = Self::new(ErpKind::Sage300);
        let mut rtl = rec("RTL", "Retail");
        rtl.extras.default_terms = Some(code("N30"));
        rtl.extras.default_tax_group = Some(code("CALIF"));
        let mut whl = rec("WHL", "Wholesale");
        whl.extras.default_terms = Some(code("2N31"));
        let mut ina = rec("INA", "Inactive group");
        ina.active = false;
        erp.set_catalogue(ReferenceKind::Category, vec![rtl, whl, ina]);
        erp.set_catalogue(
            ReferenceKind::Currency,
            vec![rec("USD", "US Dollars"), rec("CAD", "Canadian Dollars")],
        );
        erp.set_catalogue(
            ReferenceKind::Language,
            ["ENG", "FRA", "ESN", "CHT", "CHN"]
                .iter()
                .map(|l| rec(l, l))
                .collect(),
        );
        erp.set_catalogue(
            ReferenceKind::Terms,
            vec![rec("N30", "Net 30"), rec("2N31", "2% 10, net 31")],
        );
        erp.set_catalogue(
            ReferenceKind::Tax,
            vec![rec("CALIF", "California"), rec("BCTAX", "British Columbia")],
        );
        erp.insert_customer(
            ErpCustomerKey {
                division: None,
                customer_no: crate::codes::CustomerNo::parse_sage300("1200")
                    .unwrap_or_else(|_| unreachable_no()),
            },
            "Mr. Ronald Black",
        );
        erp
    }

    /// A Sage 100 with demo data: divisions `00`, `01`; terms `00`–`05`; tax schedules
    /// `DEFAULT`, `WI MIL`; salespersons `01-0100`, `01-0200`; customer types `RET`, `WHL`; no
    /// ship-method table; and customer `01-ABF`.
    pub fn sage100_demo() -> Self {
        let erp = Self::new(ErpKind::Sage100);
        erp.set_catalogue(
            ReferenceKind::Division,
            vec![rec("00", "Default"), rec("01", "East")],
        );
        erp.set_catalogue(
            ReferenceKind::Terms,
            (0..=5).map(|i| rec(&format!("{i:02}"), "Terms")).collect(),
        );
        erp.set_catalogue(
            ReferenceKind::Tax,
            vec![rec("DEFAULT", "Default"), rec("WI MIL", "Milwaukee")],
        );
        erp.set_catalogue(
            ReferenceKind::Salesperson,
            vec![rec("01-0100", "Jim"), rec("01-0200", "Ann")],
        );
        erp.set_catalogue(
            ReferenceKind::Category,
            vec![rec("RET", "Retail"), rec("WHL", "Wholesale")],
        );
        erp.set_unavailable(ReferenceKind::ShipMethod);
        erp.insert_customer(
            ErpCustomerKey {
                division: crate::codes::ArDivision::parse("01").ok(),
                customer_no: crate::codes::CustomerNo::parse_sage100("ABF")
                    .unwrap_or_else(|_| unreachable_no()),
            },
            "American Business Futures",
        );
        erp
    }

    /// Requires `password` from every connection (calls answer `Unauthorized` otherwise).
    pub fn with_password(self, password: &str) -> Self {
        self.set_password(password);
        self
    }

    /// From now on the ERP requires `password` (a rotation): a gateway whose secret is the old
    /// one refreshes its credentials once on its next call, as the real adapter does on a 401.
    pub fn set_password(&self, password: &str) {
        self.state().password = Some(password.to_owned());
    }

    /// How many gateways were opened ([`ErpConnector::connect`] calls that succeeded).
    pub fn connects(&self) -> usize {
        self.state().connects
    }

    /// Lists pages of `size` records.
    pub fn with_page_size(mut self, size: usize) -> Self {
        self.page_size = size.max(1);
        self
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the records of `kind`.
    pub fn set_catalogue(&self, kind: ReferenceKind, records: Vec<ErpReferenceRecord>) {
        let mut s = self.state();
        s.unavailable.remove(&kind);
        s.catalogue.insert(kind, records);
    }

    /// Makes `kind` a table this server does not have.
    pub fn set_unavailable(&self, kind: ReferenceKind) {
        self.state().unavailable.insert(kind);
    }

    /// Adds a customer as if someone created it in the ERP.
    pub fn insert_customer(&self, key: ErpCustomerKey, name: &str) {
        let mut record = ErpRecord::new();
        self.push_key(&mut record, &key);
        record.push("name", ErpValue::Text(name.to_owned()));
        let mut customer = ErpCustomer {
            key: key.clone(),
            name: Some(name.to_owned()),
            record,
        };
        let mut s = self.state();
        super::erp_customers::stamp(&s.list, &mut customer);
        s.customers.insert(slot(&key), customer);
    }

    /// Sets a field of an existing customer (e.g. a name edited in the ERP).
    pub fn edit_customer(&self, key: &ErpCustomerKey, field: &str, value: &str) {
        if let Some(c) = self.state().customers.get_mut(&slot(key)) {
            if field == "name" {
                c.name = Some(value.to_owned());
            }
            c.record.push(field, ErpValue::Text(value.to_owned()));
        }
    }

    /// Queues or sets a fault.
    pub fn inject(&self, fault: ErpFault) {
        let mut s = self.state();
        match fault {
            ErpFault::Unreachable => s.unreachable = true,
            ErpFault::FailLookup(_) => s.next_lookup.push_back(fault),
            ErpFault::FailList(e) => s.next_list.push_back(ErpFault::FailLookup(e)),
            ErpFault::FailPage { kind, page } => s.page_faults.push((kind, page)),
            other => s.next_create.push_back(other),
        }
    }

    /// Clears every fault.
    pub fn heal(&self) {
        let mut s = self.state();
        s.unreachable = false;
        s.next_create.clear();
        s.next_lookup.clear();
        s.next_list.clear();
        s.page_faults.clear();
    }

    /// The customers the ERP holds.
    pub fn customers(&self) -> Vec<ErpCustomer> {
        self.state().customers.values().cloned().collect()
    }

    /// The customer with `key`.
    pub fn customer(&self, key: &ErpCustomerKey) -> Option<ErpCustomer> {
        self.state().customers.get(&slot(key)).cloned()
    }

    /// How many creates were attempted (each one a POST on a real server).
    pub fn create_attempts(&self) -> usize {
        self.state().create_attempts
    }

    /// How many lookups were made.
    pub fn lookups(&self) -> usize {
        self.state().lookups
    }

    /// How many list pages were read.
    pub fn pages_read(&self) -> usize {
        self.state().pages_read
    }

    fn push_key(&self, record: &mut ErpRecord, key: &ErpCustomerKey) {
        match (self.kind, key.division) {
            (ErpKind::Sage100, division) => {
                record.push(
                    "division",
                    ErpValue::Text(division.unwrap_or_default().to_string()),
                );
                record.push("customer_no", ErpValue::Text(key.customer_no.to_string()));
            }
            (ErpKind::Sage300, _) => {
                record.push("customer_no", ErpValue::Text(key.customer_no.to_string()))
            }
        }
    }

    fn record_of(&self, c: &NewErpCustomer) -> ErpRecord {
        let mut r = ErpRecord::new();
        self.push_key(&mut r, &c.key);
        let text = |v: &str| ErpValue::Text(v.to_owned());
        let s300 = self.kind == ErpKind::Sage300;
        if let (true, Some(g)) = (s300, &c.category) {
            r.push("group", text(g.as_str()));
        }
        r.push("name", text(&c.name));
        for (i, line) in c.address_lines.iter().enumerate() {
            if let Some(line) = line {
                r.push(format!("address_line_{}", i + 1), text(line));
            }
        }
        // Plain field names, the same for both kinds: the fake imitates behaviour, not wire
        // names (those live in the adapter).
        let country = c
            .country
            .map(|k| if s300 { k.alpha2() } else { k.alpha3() }.to_owned());
        let fields: [(&str, Option<String>); 12] = [
            ("city", c.city.clone()),
            ("state", c.state.clone()),
            ("postal_code", c.postal_code.clone()),
            ("country", country),
            ("phone", c.phone.clone()),
            ("email", c.email.clone()),
            ("website", c.website.clone()),
            ("tax", c.tax.as_ref().map(|t| t.as_str().to_owned())),
            ("terms", c.terms.as_ref().map(|t| t.as_str().to_owned())),
            (
                "currency",
                c.currency.as_ref().map(|t| t.as_str().to_owned()),
            ),
            (
                "language",
                c.language.as_ref().map(|t| t.as_str().to_owned()),
            ),
            (
                "customer_type",
                if s300 {
                    None
                } else {
                    c.category.as_ref().map(|t| t.as_str().to_owned())
                },
            ),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                r.push(name, text(&value));
            }
        }
        if let Some(sp) = &c.salesperson {
            r.push(
                "salesperson_division",
                text(&sp.division().unwrap_or_default().to_string()),
            );
            r.push("salesperson", text(sp.number()));
        }
        if let Some(m) = &c.ship_method {
            r.push("ship_method", text(m.as_str()));
        }
        if let Some((field, value)) = &c.crm_id {
            r.push(field.as_str(), text(value));
        }
        r.push(
            "CreditLimit",
            ErpValue::Number(crate::ErpNumber::from(0u64)),
        );
        r
    }

    /// The codes of `kind` a create may use (active ones).
    fn known(&self, s: &State, kind: ReferenceKind, c: &ReferenceCode) -> bool {
        s.catalogue
            .get(&kind)
            .is_some_and(|rs| rs.iter().any(|r| &r.code == c && r.active))
    }
}

fn unreachable_no() -> crate::codes::CustomerNo {
    match crate::codes::CustomerNo::parse_sage100("X") {
        Ok(no) => no,
        Err(_) => unreachable_no(),
    }
}

pub(super) fn slot(key: &ErpCustomerKey) -> (Option<String>, String) {
    (
        key.division.map(|d| d.to_string()),
        key.customer_no.to_string(),
    )
}

/// The fake ERP's own field lengths (the numbers of the ERP kind it plays), under its own names.
fn fake_limits(integration: &Integration) -> FieldLimits {
    use crate::erp::{CustomerField as F, FieldLimit};
    let (name, line, city, state, postal, phone, email, web) = match integration.settings() {
        crate::integration::IntegrationSettings::Sage300 => (60, 60, 30, 30, 20, 30, 50, 100),
        crate::integration::IntegrationSettings::Sage100 {
            customer_name_max, ..
        } => (customer_name_max.chars(), 30, 20, 2, 10, 17, 250, 50),
    };
    let limit = |field, erp_name: &str, max| FieldLimit {
        field,
        erp_name: erp_name.to_owned(),
        max,
    };
    FieldLimits::new(vec![
        limit(F::Name, "Name", name),
        limit(F::BillingLine(1), "Address line 1", line),
        limit(F::BillingLine(2), "Address line 2", line),
        limit(F::BillingLine(3), "Address line 3", line),
        limit(F::City, "City", city),
        limit(F::State, "State", state),
        limit(F::PostalCode, "Postal code", postal),
        limit(F::Phone, "Phone", phone),
        limit(F::Email, "Email", email),
        limit(F::Website, "Website", web),
    ])
}

/// The fake gateway: a connected [`FakeErp`], checking on every call the secret its
/// credentials hold, and refreshing them once when the ERP's password is another.
pub struct FakeErpGateway {
    erp: FakeErp,
    credentials: Arc<dyn Credentials>,
    limits: FieldLimits,
    crm_field: Option<ErpFieldName>,
}

impl std::fmt::Debug for FakeErpGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeErpGateway")
            .field("erp", &self.erp)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ErpConnector for FakeErp {
    async fn connect(
        &self,
        integration: &Integration,
        credentials: Arc<dyn Credentials>,
    ) -> Result<Arc<dyn ErpGateway>, ConnectError> {
        integration
            .base_url()
            .check_transport(integration.http_policy())
            .map_err(|_| ConnectError::InsecureHttp {
                url: integration.base_url().to_string(),
            })?;
        if integration.kind() != self.kind {
            return Err(ConnectError::Unsupported(integration.kind()));
        }
        self.state().connects += 1;
        Ok(Arc::new(FakeErpGateway {
            erp: self.clone(),
            credentials,
            limits: fake_limits(integration),
            crm_field: integration.crm_id_field().cloned(),
        }))
    }
}

impl FakeErpGateway {
    fn accepts(&self, secret: &SecretString) -> bool {
        self.erp
            .state()
            .password
            .as_deref()
            .is_none_or(|p| p == secret.expose_secret())
    }

    /// [`FakeErpGateway::gate`] for a write: what failed, in a write's terms.
    async fn write_gate(&self) -> Result<(), ErpWriteError> {
        match self.gate().await {
            Ok(()) => Ok(()),
            Err(ErpReadError::Unauthorized) => Err(ErpWriteError::Unauthorized),
            Err(e) => Err(ErpWriteError::Unreachable(e.to_string())),
        }
    }

    async fn gate(&self) -> Result<(), ErpReadError> {
        if self.erp.state().unreachable {
            return Err(ErpReadError::Unreachable(
                "connection refused (fake)".into(),
            ));
        }
        let sent = self.credentials.current();
        if self.accepts(&sent) {
            return Ok(());
        }
        // Refused: ask once more, as the adapter does on a 401, and retry only with a changed
        // secret.
        match self.credentials.refresh().await {
            Ok(fresh) if fresh.expose_secret() != sent.expose_secret() && self.accepts(&fresh) => {
                Ok(())
            }
            _ => Err(ErpReadError::Unauthorized),
        }
    }
}

#[async_trait]
impl ErpGateway for FakeErpGateway {
    async fn test_connection(&self) -> Result<(), ErpReadError> {
        self.gate().await
    }

    async fn reference_page(
        &self,
        kind: ReferenceKind,
        cursor: Option<PageCursor>,
    ) -> Result<ReferencePage, ErpReadError> {
        self.gate().await?;
        let mut s = self.erp.state();
        s.pages_read += 1;
        if s.unavailable.contains(&kind) {
            return Err(ErpReadError::KindUnavailable(kind));
        }
        let start: usize = match &cursor {
            None => 0,
            Some(c) => c.as_str().parse().map_err(|_| ErpReadError::Protocol {
                excerpt: c.as_str().to_owned(),
            })?,
        };
        let page_no = u32::try_from(start / self.erp.page_size + 1).unwrap_or(u32::MAX);
        if s.page_faults.contains(&(kind, page_no)) {
            return Err(ErpReadError::Server {
                status: 500,
                message: format!("page {page_no} failed (fake)"),
            });
        }
        let all = s.catalogue.get(&kind).cloned().unwrap_or_default();
        let end = (start + self.erp.page_size).min(all.len());
        let records = all.get(start..end).map(<[_]>::to_vec).unwrap_or_default();
        let next = (end < all.len()).then(|| PageCursor::new(end.to_string()));
        Ok(ReferencePage {
            records,
            next,
            total: Some(all.len() as u64),
        })
    }

    async fn find_customer(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomer>, ErpReadError> {
        self.gate().await?;
        let mut s = self.erp.state();
        s.lookups += 1;
        if let Some(ErpFault::FailLookup(e)) = s.next_lookup.pop_front() {
            return Err(e);
        }
        Ok(s.customers.get(&slot(key)).cloned())
    }

    async fn credit_figures(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<CreditFigures>, ErpReadError> {
        self.gate().await?;
        let mut s = self.erp.state();
        s.lookups += 1;
        if let Some(ErpFault::FailLookup(e)) = s.next_lookup.pop_front() {
            return Err(e);
        }
        Ok(super::erp_panel::credit_figures(&s, key))
    }

    async fn open_documents_page(
        &self,
        key: &ErpCustomerKey,
        cursor: Option<PageCursor>,
    ) -> Result<DocumentPage, ErpReadError> {
        self.gate().await?;
        let mut s = self.erp.state();
        super::erp_panel::documents_page(&mut s, key, cursor.as_ref(), self.erp.page_size)
    }

    async fn open_orders_page(
        &self,
        key: &ErpCustomerKey,
        cursor: Option<PageCursor>,
    ) -> Result<OrdersPage, ErpReadError> {
        self.gate().await?;
        let s = self.erp.state();
        super::erp_panel::orders_page(&s, key, cursor.as_ref(), self.erp.page_size)
    }

    async fn create_customer(
        &self,
        customer: &NewErpCustomer,
    ) -> Result<ErpCustomer, CreateCustomerError> {
        match self.gate().await {
            Err(ErpReadError::Unauthorized) => return Err(CreateCustomerError::Unauthorized),
            Err(e) => return Err(CreateCustomerError::Unreachable(e.to_string())),
            Ok(()) => {}
        }
        let record = self.erp.record_of(customer);
        let mut s = self.erp.state();
        s.create_attempts += 1;
        let fault = s.next_create.pop_front();
        let key = slot(&customer.key);
        let created = ErpCustomer {
            key: customer.key.clone(),
            name: Some(customer.name.clone()),
            record,
        };
        match fault {
            Some(ErpFault::RejectCreate { code, message }) => {
                return Err(CreateCustomerError::Rejected { code, message });
            }
            Some(ErpFault::TimeoutBeforeCommit) => {
                return Err(CreateCustomerError::Ambiguous {
                    reason: "timed out (fake)".into(),
                });
            }
            Some(ErpFault::CommitThenDrop) => {
                s.customers.entry(key).or_insert(created);
                return Err(CreateCustomerError::Ambiguous {
                    reason: "connection reset after sending (fake)".into(),
                });
            }
            Some(ErpFault::CreatedMeanwhile) => {
                let mut other = created.clone();
                other.name = Some("Someone Else Inc".into());
                other
                    .record
                    .push("name", ErpValue::Text("Someone Else Inc".into()));
                s.customers.entry(key).or_insert(other);
                return Err(CreateCustomerError::AlreadyExists);
            }
            _ => {}
        }
        if s.customers.contains_key(&key) {
            return Err(CreateCustomerError::AlreadyExists);
        }
        let mut created = created;
        super::erp_customers::stamp(&s.list, &mut created);
        let checks = [
            (
                ReferenceKind::Category,
                customer.category.as_ref(),
                self.erp.kind == ErpKind::Sage300,
            ),
            (ReferenceKind::Tax, customer.tax.as_ref(), true),
            (ReferenceKind::Terms, customer.terms.as_ref(), true),
        ];
        for (kind, value, required) in checks {
            match value {
                Some(c) if !self.erp.known(&s, kind, c) => {
                    return Err(CreateCustomerError::Rejected {
                        code: "General".into(),
                        message: format!("{kind} {c} does not exist (fake)"),
                    });
                }
                None if required && kind != ReferenceKind::Terms => {
                    return Err(CreateCustomerError::Rejected {
                        code: "General".into(),
                        message: format!("{kind} is required (fake)"),
                    });
                }
                _ => {}
            }
        }
        s.customers.insert(key, created.clone());
        Ok(created)
    }

    fn limits(&self) -> FieldLimits {
        self.limits.clone()
    }

    async fn party_home(&self, kind: PartyKind) -> Result<PartyHome, ErpReadError> {
        self.gate().await?;
        Ok(super::erp_parties::party_home(&self.erp, kind))
    }

    async fn find_party(&self, key: &ErpPartyKey) -> Result<Option<ErpParty>, ErpReadError> {
        self.gate().await?;
        super::erp_parties::find(&mut self.erp.state(), key)
    }

    async fn create_party(&self, party: &NewErpParty) -> Result<ErpParty, ErpWriteError> {
        self.write_gate().await?;
        super::erp_parties::create(&mut self.erp.state(), party)
    }

    async fn set_primary_party(&self, party: &NewErpParty) -> Result<(), ErpWriteError> {
        self.write_gate().await?;
        let home = super::erp_parties::party_home(&self.erp, party.kind());
        super::erp_parties::set_primary(&mut self.erp.state(), home, party)
    }

    async fn parties_page(
        &self,
        customer: &ErpCustomerKey,
        kind: PartyKind,
        cursor: Option<PageCursor>,
    ) -> Result<PartyPage, ErpReadError> {
        self.gate().await?;
        let s = self.erp.state();
        super::erp_parties::page(&s, customer, kind, cursor.as_ref(), self.erp.page_size)
    }

    fn party_limits(&self, kind: PartyKind) -> Vec<PartyFieldLimit> {
        super::erp_parties::limits(self.erp.kind, kind)
    }

    async fn customers_page(
        &self,
        since: Option<jiff::civil::Date>,
        cursor: Option<PageCursor>,
    ) -> Result<CustomerPage, ErpReadError> {
        self.gate().await?;
        let mut s = self.erp.state();
        let size = self.erp.page_size;
        super::erp_customers::page(
            &mut s,
            since,
            cursor.as_ref(),
            size,
            self.crm_field.as_ref(),
        )
    }

    async fn customers_named(&self, name: &str) -> Result<Vec<ErpCustomerSummary>, ErpReadError> {
        self.gate().await?;
        super::erp_customers::named(&mut self.erp.state(), name, self.crm_field.as_ref())
    }

    async fn customer_summary(
        &self,
        key: &ErpCustomerKey,
    ) -> Result<Option<ErpCustomerSummary>, ErpReadError> {
        let found = self.find_customer(key).await?;
        Ok(found.map(|c| super::erp_customers::summary(&c, self.crm_field.as_ref())))
    }

    async fn set_crm_id(
        &self,
        key: &ErpCustomerKey,
        field: &ErpFieldName,
        value: &str,
    ) -> Result<(), ErpWriteError> {
        self.write_gate().await?;
        super::erp_customers::set_crm_id(&mut self.erp.state(), key, field, value)
    }

    fn customer_payload(&self, customer: &NewErpCustomer) -> String {
        // The fake sends no body; its "payload" is the record it would store.
        self.erp
            .record_of(customer)
            .fields()
            .map(|(name, value)| format!("{name}={value}\n"))
            .collect()
    }
}
