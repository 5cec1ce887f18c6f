//! The ERP gateway contract: what every gateway (the fake, Sage 300 on the simulator, Sage 100
//! on the simulator) must do, given a fixture that says what the ERP holds ([`run`]), and how
//! its connector's gateways rotate a refused secret ([`rotation`]).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::codes::{CustomerNo, ReferenceCode};
use crate::erp::{ErpKind, KindRequirement, prerequisite_table};
use crate::integration::Integration;
use crate::ports::{
    CreateCustomerError, Credentials, ErpConnector, ErpCustomerKey, ErpGateway, ErpReadError,
    NewErpCustomer,
};

/// What the suite needs to know about the ERP behind a gateway.
#[derive(Clone)]
pub struct GatewayFixture {
    /// The gateway under test.
    pub gateway: Arc<dyn ErpGateway>,
    /// Its ERP.
    pub erp: ErpKind,
    /// A customer the ERP already has.
    pub existing: ErpCustomerKey,
    /// A customer the ERP would accept (its key is replaced by the suite's fresh numbers).
    pub valid_customer: NewErpCustomer,
    /// At least two customer numbers the ERP does not have yet (the suite creates the first).
    pub fresh_numbers: Vec<CustomerNo>,
}

impl std::fmt::Debug for GatewayFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayFixture")
            .field("erp", &self.erp)
            .field("existing", &self.existing)
            .finish_non_exhaustive()
    }
}

fn with_number(customer: &NewErpCustomer, number: &CustomerNo) -> NewErpCustomer {
    let mut c = customer.clone();
    c.key.customer_no = number.clone();
    c
}

/// Runs every gateway check against `fixture`.
pub async fn run(fixture: GatewayFixture) {
    let g = fixture.gateway.as_ref();
    assert!(
        fixture.fresh_numbers.len() >= 2,
        "the fixture must offer two fresh customer numbers"
    );

    g.test_connection()
        .await
        .expect("test_connection succeeds with good credentials");

    // Every required kind lists completely, page by page, with unique codes.
    for (kind, requirement) in prerequisite_table(fixture.erp) {
        let mut cursor = None;
        let mut codes = BTreeSet::new();
        let mut pages = 0;
        loop {
            let page = match g.reference_page(*kind, cursor.clone()).await {
                Ok(page) => page,
                Err(ErpReadError::KindUnavailable(k))
                    if *requirement == KindRequirement::Optional && pages == 0 =>
                {
                    assert_eq!(k, *kind, "KindUnavailable names the kind");
                    break;
                }
                Err(e) => panic!("listing {kind} failed: {e}"),
            };
            pages += 1;
            assert!(pages < 10_000, "listing {kind} never ends");
            for r in &page.records {
                assert!(
                    codes.insert(r.code.key().to_owned()),
                    "{kind} code {} listed twice",
                    r.code
                );
            }
            if let Some(total) = page.total {
                assert!(
                    total >= codes.len() as u64,
                    "{kind}: total {total} below records seen"
                );
            }
            match page.next {
                Some(next) => {
                    assert_ne!(
                        Some(&next),
                        cursor.as_ref(),
                        "{kind}: the cursor must advance"
                    );
                    cursor = Some(next);
                }
                None => break,
            }
        }
        if *requirement == KindRequirement::Required {
            assert!(
                !codes.is_empty(),
                "required kind {kind} lists at least one record"
            );
        }
    }

    // The existing customer is found, with its full record.
    let found = g
        .find_customer(&fixture.existing)
        .await
        .expect("find an existing customer")
        .expect("existing customer is found");
    assert_eq!(found.key, fixture.existing, "found under its own key");
    assert_eq!(found.external_uid(), fixture.existing.external_uid());
    assert!(
        found.name().is_some(),
        "the full record carries CustomerName"
    );

    // A fresh number is absent: Ok(None), not an error.
    let fresh = &fixture.fresh_numbers[0];
    let new = with_number(&fixture.valid_customer, fresh);
    assert_eq!(
        g.find_customer(&new.key)
            .await
            .expect("find a fresh number"),
        None,
        "a fresh number is absent"
    );

    // Create it once.
    let created = g
        .create_customer(&new)
        .await
        .expect("a valid customer is created");
    assert_eq!(created.key, new.key, "created under the requested key");
    assert_eq!(created.external_uid(), new.key.external_uid());
    assert_eq!(
        created.name(),
        Some(new.name.as_str()),
        "the created record carries the name sent"
    );
    let read_back = g
        .find_customer(&new.key)
        .await
        .expect("find the created")
        .expect("the created customer is found");
    assert_eq!(read_back.name(), Some(new.name.as_str()));
    if let Some((field, value)) = &new.crm_id {
        assert_eq!(
            read_back.crm_id(field),
            Some(value.as_str()),
            "the CRM id is stored in its field"
        );
    }

    // The same key again: AlreadyExists.
    assert!(
        matches!(
            g.create_customer(&new).await,
            Err(CreateCustomerError::AlreadyExists)
        ),
        "a duplicate key is AlreadyExists"
    );

    // An unknown tax code is refused and creates nothing.
    let mut bad = with_number(&fixture.valid_customer, &fixture.fresh_numbers[1]);
    bad.tax = Some(ReferenceCode::parse("NOSUCHTAX").expect("code"));
    match g.create_customer(&bad).await {
        Err(CreateCustomerError::Rejected { message, .. }) => {
            assert!(!message.is_empty(), "a rejection carries the ERP's message")
        }
        other => panic!("an unknown tax code must be Rejected, got {other:?}"),
    }
    assert_eq!(
        g.find_customer(&bad.key)
            .await
            .expect("find after a rejection"),
        None,
        "a rejected create leaves nothing"
    );

    assert!(
        g.limits().max(crate::erp::CustomerField::Name) >= Some(30),
        "limits are the ERP's"
    );
}

/// What the rotation check needs: a connector, an integration it serves, the ERP's password
/// now, and a way to change it while gateways are open.
pub struct RotationFixture {
    /// The connector under test.
    pub connector: Arc<dyn ErpConnector>,
    /// An integration it serves.
    pub integration: Integration,
    /// The password the ERP accepts now.
    pub password: String,
    /// Makes the ERP accept only the given password from then on.
    pub set_password: Box<dyn Fn(&str) + Send + Sync>,
}

impl std::fmt::Debug for RotationFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotationFixture")
            .field("integration", &self.integration.name())
            .finish_non_exhaustive()
    }
}

/// Credentials whose refresh answers `next`, counting refreshes.
struct Rotating {
    current: Mutex<String>,
    next: Mutex<String>,
    refreshes: AtomicUsize,
}

#[async_trait::async_trait]
impl Credentials for Rotating {
    fn current(&self) -> SecretString {
        SecretString::from(self.current.lock().unwrap().clone())
    }

    async fn refresh(&self) -> Result<SecretString, crate::ports::SecretError> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let next = self.next.lock().unwrap().clone();
        self.current.lock().unwrap().clone_from(&next);
        Ok(SecretString::from(next))
    }
}

/// Checks a connector's gateways rotate a refused secret: on a refusal they refresh the
/// credentials once, retry only with a changed secret, and keep using it.
pub async fn rotation(fixture: RotationFixture) {
    let credentials = Arc::new(Rotating {
        current: Mutex::new(fixture.password.clone()),
        next: Mutex::new(fixture.password.clone()),
        refreshes: AtomicUsize::new(0),
    });
    let gateway = fixture
        .connector
        .connect(&fixture.integration, credentials.clone())
        .await
        .expect("connects");
    gateway
        .test_connection()
        .await
        .expect("the current secret is accepted");
    assert_eq!(
        credentials.refreshes.load(Ordering::SeqCst),
        0,
        "an accepted secret is not refreshed"
    );

    let rotated = format!("{}-rotated", fixture.password);
    (fixture.set_password)(&rotated);
    assert_eq!(
        gateway.test_connection().await,
        Err(ErpReadError::Unauthorized),
        "an unchanged secret after a refusal is Unauthorized"
    );
    assert_eq!(
        credentials.refreshes.load(Ordering::SeqCst),
        1,
        "a refused secret is refreshed exactly once"
    );

    credentials.next.lock().unwrap().clone_from(&rotated);
    gateway
        .test_connection()
        .await
        .expect("the refreshed secret is used");
    assert_eq!(
        credentials.refreshes.load(Ordering::SeqCst),
        2,
        "one refresh per refusal"
    );
    gateway
        .test_connection()
        .await
        .expect("the refreshed secret is kept");
    assert_eq!(
        credentials.refreshes.load(Ordering::SeqCst),
        2,
        "no refresh once accepted"
    );
}
