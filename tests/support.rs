//! Shared helpers for the cross-crate suites: builders for valid inputs, so each test states
//! only what it changes.

use crm2sage_domain::{AddressInput, NewAccount};

pub mod world;

/// A new account that passes every rule.
pub fn valid_account() -> NewAccount {
    {
        let mut new_account = NewAccount::new("Barmart Ltd", {
            let mut address = AddressInput::new("100 Main St", "Vancouver", "CA");
            address.line2 = Some("Suite 4".into());
            address.state = Some("BC".into());
            address.postal_code = Some("V5K 0A1".into());
            address
        });
        new_account.phone = Some("+1 604 555 0100".into());
        new_account.email = Some("ap@barmart.example.com".into());
        new_account.website = Some("https://barmart.example.com".into());
        new_account.currency = Some("CAD".into());
        new_account.language = Some("ENG".into());
        new_account.terms = Some("N30".into());
        new_account
    }
}

use std::sync::Arc;

use crm2sage_domain::fakes::{FakeErp, FakeProcesses, FixedSecrets, ManualClock, MemoryStore};
use crm2sage_domain::ports::{ErpCustomerKey, NewErpCustomer};
use crm2sage_domain::{
    ArDivision, CountryCode, CustomerNo, ErpKind, HttpPolicy, Integration, NewIntegration,
    ReferenceCode, SalespersonRef, Services, Timestamp,
};

/// The input of a Sage 300 integration named `s300` on a loopback URL, password in
/// `S300_PASSWORD`.
pub fn sage300_input() -> NewIntegration {
    {
        let mut new_integration = NewIntegration::new(
            "s300",
            "sage300",
            "http://127.0.0.1:8300/Sage300WebApi",
            "SAMLTD",
            "WEBAPI",
        );
        new_integration.password_env = "S300_PASSWORD".into();
        new_integration.http_policy = HttpPolicy::HttpsOnly;
        new_integration
    }
}

/// The input of a Sage 100 integration named `s100`, default division `01`.
pub fn sage100_input() -> NewIntegration {
    {
        let mut new_integration = NewIntegration::new(
            "s100",
            "sage100",
            "http://127.0.0.1:8100/sdata/MasApp/MasContract",
            "ABC",
            "sdata",
        );
        new_integration.password_env = "S100_PASSWORD".into();
        new_integration.division = Some("01".into());
        new_integration
    }
}

/// A validated Sage 300 integration.
pub fn sage300_integration() -> Integration {
    sage300_input()
        .validate(Timestamp::UNIX_EPOCH)
        .expect("valid integration")
}

/// A validated Sage 100 integration.
pub fn sage100_integration() -> Integration {
    sage100_input()
        .validate(Timestamp::UNIX_EPOCH)
        .expect("valid integration")
}

fn code(raw: &str) -> ReferenceCode {
    ReferenceCode::parse(raw).expect("valid code")
}

/// A new ERP customer with codes the demo data has (its number is a placeholder).
pub fn new_customer(erp: ErpKind) -> NewErpCustomer {
    let (key, category, tax, terms, salesperson) = match erp {
        ErpKind::Sage300 => (
            ErpCustomerKey {
                division: None,
                customer_no: CustomerNo::parse_sage300("PLACEHOLDER").expect("number"),
            },
            Some(code("RTL")),
            code("CALIF"),
            Some(code("N30")),
            None,
        ),
        ErpKind::Sage100 => (
            ErpCustomerKey {
                division: ArDivision::parse("01").ok(),
                customer_no: CustomerNo::parse_sage100("PLACEHOLDER").expect("number"),
            },
            None,
            code("WI MIL"),
            Some(code("01")),
            Some(SalespersonRef::parse("01-0100").expect("salesperson")),
        ),
    };
    NewErpCustomer {
        key,
        name: "Contract & Sons".into(),
        address_lines: [Some("1 Main St".into()), None, None],
        city: Some("Milwaukee".into()),
        state: Some("WI".into()),
        postal_code: Some("53202".into()),
        country: CountryCode::parse("US").ok(),
        phone: Some("414-555-0100".into()),
        email: Some("ap@contract.example.com".into()),
        website: None,
        currency: (erp == ErpKind::Sage300)
            .then(|| crm2sage_domain::CurrencyCode::parse("USD").expect("currency")),
        language: None,
        category,
        tax: Some(tax),
        terms,
        salesperson,
        ship_method: None,
        crm_id: None,
    }
}

/// Services over in-memory fakes: the store, the given fake ERP, secrets for both demo
/// integrations (`S300_PASSWORD`, `S100_PASSWORD` = `pw`), a manual clock and fake processes.
pub type FakeServices = Services<MemoryStore, FakeErp>;

/// Builds [`FakeServices`] around `erp`.
pub fn fake_services(erp: FakeErp) -> (Arc<FakeServices>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let secrets = FixedSecrets::default()
        .with("S300_PASSWORD", "pw")
        .with("S100_PASSWORD", "pw");
    let services = Services::new(
        Arc::clone(&store),
        Arc::new(erp),
        Arc::new(secrets),
        Arc::new(FakeProcesses::default()),
    )
    .with_clock(Arc::new(ManualClock::default()));
    (Arc::new(services), store)
}

/// The services on the real pieces, as the workflow suites use them.
pub type RealServices =
    Services<crm2sage_store_sqlite::SqliteStore, crm2sage_sage_adapter::SageConnector>;

/// Services on the real pieces: a SQLite store in `dir`, the Sage adapter with the short test
/// timeouts, `password` under the variable name `password_env`, and fake process identities.
pub fn real_services(
    dir: &std::path::Path,
    password_env: &str,
    password: &str,
) -> (RealServices, Arc<crm2sage_store_sqlite::SqliteStore>) {
    let store = Arc::new(
        crm2sage_store_sqlite::SqliteStore::open(&dir.join("crm2sage.db")).expect("open the store"),
    );
    let services = Services::new(
        Arc::clone(&store),
        Arc::new(crm2sage_sage_adapter::SageConnector::new(
            crm2sage_sage_adapter::ClientSettings::for_tests(),
        )),
        Arc::new(FixedSecrets::default().with(password_env, password)),
        Arc::new(FakeProcesses::default()),
    );
    (services, store)
}

/// Inside an `#[async_trait] impl ErpGateway` of a test's wrapping gateway (a struct with an
/// `inner: Arc<dyn ErpGateway>` field): the ship-to and contact operations, passed to `inner`
/// as they are. One owner for every wrapper that only intercepts customer calls. The methods
/// are written in `async_trait`'s expanded form (the attribute runs before this macro does),
/// handing back `inner`'s own boxed futures.
#[macro_export]
macro_rules! delegate_party_calls {
    () => {
        fn party_home<'life0, 'async_trait>(
            &'life0 self,
            kind: ::crm2sage_domain::PartyKind,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<
                            ::crm2sage_domain::ports::PartyHome,
                            ::crm2sage_domain::ports::ErpReadError,
                        >,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.party_home(kind)
        }

        fn find_party<'life0, 'life1, 'async_trait>(
            &'life0 self,
            key: &'life1 ::crm2sage_domain::ports::ErpPartyKey,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<
                            Option<::crm2sage_domain::ports::ErpParty>,
                            ::crm2sage_domain::ports::ErpReadError,
                        >,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.find_party(key)
        }

        fn create_party<'life0, 'life1, 'async_trait>(
            &'life0 self,
            party: &'life1 ::crm2sage_domain::ports::NewErpParty,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<
                            ::crm2sage_domain::ports::ErpParty,
                            ::crm2sage_domain::ports::ErpWriteError,
                        >,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.create_party(party)
        }

        fn set_primary_party<'life0, 'life1, 'async_trait>(
            &'life0 self,
            party: &'life1 ::crm2sage_domain::ports::NewErpParty,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<(), ::crm2sage_domain::ports::ErpWriteError>,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.set_primary_party(party)
        }

        fn parties_page<'life0, 'life1, 'async_trait>(
            &'life0 self,
            customer: &'life1 ::crm2sage_domain::ports::ErpCustomerKey,
            kind: ::crm2sage_domain::PartyKind,
            cursor: Option<::crm2sage_domain::ports::PageCursor>,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<
                            ::crm2sage_domain::ports::PartyPage,
                            ::crm2sage_domain::ports::ErpReadError,
                        >,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.parties_page(customer, kind, cursor)
        }

        fn party_limits(
            &self,
            kind: ::crm2sage_domain::PartyKind,
        ) -> Vec<::crm2sage_domain::ports::PartyFieldLimit> {
            self.inner.party_limits(kind)
        }

        fn customers_page<'life0, 'async_trait>(
            &'life0 self,
            since: Option<::crm2sage_domain::Date>,
            cursor: Option<::crm2sage_domain::ports::PageCursor>,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<
                            ::crm2sage_domain::ports::CustomerPage,
                            ::crm2sage_domain::ports::ErpReadError,
                        >,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.customers_page(since, cursor)
        }

        fn customers_named<'life0, 'life1, 'async_trait>(
            &'life0 self,
            name: &'life1 str,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<
                            Vec<::crm2sage_domain::ports::ErpCustomerSummary>,
                            ::crm2sage_domain::ports::ErpReadError,
                        >,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.customers_named(name)
        }

        fn customer_summary<'life0, 'life1, 'async_trait>(
            &'life0 self,
            key: &'life1 ::crm2sage_domain::ports::ErpCustomerKey,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<
                            Option<::crm2sage_domain::ports::ErpCustomerSummary>,
                            ::crm2sage_domain::ports::ErpReadError,
                        >,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.customer_summary(key)
        }

        fn set_crm_id<'life0, 'life1, 'life2, 'life3, 'async_trait>(
            &'life0 self,
            key: &'life1 ::crm2sage_domain::ports::ErpCustomerKey,
            field: &'life2 ::crm2sage_domain::ErpFieldName,
            value: &'life3 str,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<(), ::crm2sage_domain::ports::ErpWriteError>,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            'life2: 'async_trait,
            'life3: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.set_crm_id(key, field, value)
        }

        fn customer_payload(&self, customer: &::crm2sage_domain::ports::NewErpCustomer) -> String {
            self.inner.customer_payload(customer)
        }
    };
}
