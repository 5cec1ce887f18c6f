//! The contract suites against every implementation this workspace has: the in-memory fakes
//! here; the SQLite store and the Sage adapters join as they land.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use crm2sage_domain::contract;
use crm2sage_domain::fakes::MemoryStore;

#[tokio::test]
async fn memory_store_keeps_the_store_contract() {
    contract::stores::run(|| async { Arc::new(MemoryStore::new()) }).await;
}

mod erp {
    use std::sync::Arc;

    use crm2sage_domain::contract::erp::{GatewayFixture, run};
    use crm2sage_domain::fakes::FakeErp;
    use crm2sage_domain::ports::{ErpConnector, ErpCustomerKey, FixedCredentials};
    use crm2sage_domain::{ArDivision, CustomerNo, ErpKind};
    use crm2sage_tests::{new_customer, sage100_integration, sage300_integration};
    use secrecy::SecretString;

    #[tokio::test]
    async fn fake_sage300_keeps_the_gateway_contract() {
        let erp = FakeErp::sage300_demo().with_password("pw");
        let gateway = erp
            .connect(
                &sage300_integration(),
                FixedCredentials::shared(SecretString::from("pw")),
            )
            .await
            .unwrap();
        run(GatewayFixture {
            gateway,
            erp: ErpKind::Sage300,
            existing: ErpCustomerKey {
                division: None,
                customer_no: CustomerNo::parse_sage300("1200").unwrap(),
            },
            valid_customer: new_customer(ErpKind::Sage300),
            fresh_numbers: vec![
                CustomerNo::parse_sage300("NEW1").unwrap(),
                CustomerNo::parse_sage300("NEW2").unwrap(),
            ],
        })
        .await;
    }

    #[tokio::test]
    async fn fake_sage100_keeps_the_gateway_contract() {
        let erp = FakeErp::sage100_demo();
        let gateway = erp
            .connect(
                &sage100_integration(),
                FixedCredentials::shared(SecretString::from("pw")),
            )
            .await
            .unwrap();
        run(GatewayFixture {
            gateway: Arc::clone(&gateway),
            erp: ErpKind::Sage100,
            existing: ErpCustomerKey {
                division: ArDivision::parse("01").ok(),
                customer_no: CustomerNo::parse_sage100("ABF").unwrap(),
            },
            valid_customer: new_customer(ErpKind::Sage100),
            fresh_numbers: vec![
                CustomerNo::parse_sage100("NEW1").unwrap(),
                CustomerNo::parse_sage100("123").unwrap(),
            ],
        })
        .await;
    }

    #[tokio::test]
    async fn fake_gateways_rotate_a_refused_secret() {
        use crm2sage_domain::contract::erp::{RotationFixture, rotation};
        for (erp, integration) in [
            (FakeErp::sage300_demo(), sage300_integration()),
            (FakeErp::sage100_demo(), sage100_integration()),
        ] {
            let erp = erp.with_password("pw");
            let hand = erp.clone();
            rotation(RotationFixture {
                connector: Arc::new(erp),
                integration,
                password: "pw".into(),
                set_password: Box::new(move |p| hand.set_password(p)),
            })
            .await;
        }
    }
}
