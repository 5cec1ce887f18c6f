//! Ship-tos and contacts against both simulators (written apart from the adapter): a create
//! lands where the simulator keeps it, reads and lists find it, the primary pointers move, and
//! a duplicate or a missing customer come back typed.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use crm2sage_domain::ports::{
    ErpPartyKey, ErpWriteError, NewErpParty, NewErpPartyDetail, PartyHome,
};
use crm2sage_domain::{CountryCode, PartyCode, PartyKind};
use crm2sage_sage_adapter::ClientSettings;
use crm2sage_sage_simulator::{
    DuplicateStatus, PutSemantics, Sage100Config, Sage300Config, UnknownCustomer, start_sage100,
    start_sage300,
};
use support::{connect, integration, key, key100, sage100_integration};

fn party(
    customer: crm2sage_domain::ports::ErpCustomerKey,
    kind: PartyKind,
    code: &str,
) -> NewErpParty {
    let detail = match kind {
        PartyKind::Contact => NewErpPartyDetail::Contact {
            title: Some("Buyer".into()),
        },
        _ => NewErpPartyDetail::ShipTo {
            address_lines: [Some("1 Dock Rd".into()), None, None],
            city: Some("Reno".into()),
            state: Some("NV".into()),
            postal_code: Some("89501".into()),
            country: CountryCode::parse("US").ok(),
        },
    };
    NewErpParty {
        key: ErpPartyKey {
            customer,
            party: PartyCode::parse(kind, code).unwrap(),
        },
        name: "Dock Jane".into(),
        phone: Some("775-555-0100".into()),
        email: Some("dock@example.com".into()),
        primary: true,
        detail,
    }
}

#[tokio::test]
async fn sage300_ship_tos_and_contacts_round_trip() {
    let sim = start_sage300(Sage300Config {
        contacts: true,
        ..Sage300Config::default()
    })
    .await
    .unwrap();
    let i = integration(&sim.base_url(), sim.company(), sim.user());
    let gw = connect(&i, sim.password(), ClientSettings::for_tests()).await;

    let wh1 = party(key("1105"), PartyKind::ShipTo, "WH1");
    let created = gw.create_party(&wh1).await.unwrap();
    assert_eq!(created.code.as_deref(), Some("WH1"));
    assert_eq!(created.name.as_deref(), Some("Dock Jane"));
    assert!(sim.ship_to("1105", "WH1").is_some());
    assert_eq!(
        gw.create_party(&wh1).await.unwrap_err(),
        ErpWriteError::AlreadyExists
    );
    assert!(gw.find_party(&wh1.key).await.unwrap().is_some());
    let wh2 = party(key("1105"), PartyKind::ShipTo, "WH2");
    assert_eq!(gw.find_party(&wh2.key).await.unwrap(), None);
    gw.set_primary_party(&wh1).await.unwrap();
    gw.set_primary_party(&wh1).await.unwrap();
    assert_eq!(sim.primary_ship_to("1105").as_deref(), Some("WH1"));
    let page = gw
        .parties_page(&key("1105"), PartyKind::ShipTo, None)
        .await
        .unwrap();
    assert!(
        page.parties
            .iter()
            .any(|p| p.code.as_deref() == Some("WH1"))
    );

    assert_eq!(
        gw.party_home(PartyKind::Contact).await.unwrap(),
        PartyHome::Records
    );
    let jane = party(key("1105"), PartyKind::Contact, "JANE");
    gw.create_party(&jane).await.unwrap();
    assert!(sim.contact("1105", "JANE").is_some());
    let found = gw.find_party(&jane.key).await.unwrap().unwrap();
    assert_eq!(found.kind, PartyKind::Contact);
}

#[tokio::test]
async fn sage300_a_missing_customer_is_customer_missing_however_it_is_refused() {
    for unknown_customer in [
        UnknownCustomer::General409,
        UnknownCustomer::InvalidPayload400,
        UnknownCustomer::RecordNotFound404,
    ] {
        let sim = start_sage300(Sage300Config {
            contacts: true,
            unknown_customer,
            ..Sage300Config::default()
        })
        .await
        .unwrap();
        let i = integration(&sim.base_url(), sim.company(), sim.user());
        let gw = connect(&i, sim.password(), ClientSettings::for_tests()).await;
        for kind in [PartyKind::ShipTo, PartyKind::Contact] {
            let missing = party(key("NOSUCH"), kind, "WH1");
            assert_eq!(
                gw.create_party(&missing).await.unwrap_err(),
                ErpWriteError::CustomerMissing,
                "{unknown_customer:?} {kind}"
            );
            assert_eq!(
                gw.set_primary_party(&missing).await.unwrap_err(),
                ErpWriteError::CustomerMissing,
                "{unknown_customer:?} {kind}"
            );
        }
    }
}

#[tokio::test]
async fn sage300_without_contacts_keeps_the_primary_on_the_customer() {
    let sim = start_sage300(Sage300Config::default()).await.unwrap();
    let i = integration(&sim.base_url(), sim.company(), sim.user());
    let gw = connect(&i, sim.password(), ClientSettings::for_tests()).await;
    assert_eq!(
        gw.party_home(PartyKind::Contact).await.unwrap(),
        PartyHome::OnCustomer
    );
    let jane = party(key("1105"), PartyKind::Contact, "JANE");
    gw.set_primary_party(&jane).await.unwrap();
    assert_eq!(
        sim.customer_contact("1105"),
        Some((
            "Dock Jane".to_owned(),
            "775-555-0100".to_owned(),
            "dock@example.com".to_owned()
        ))
    );
    let page = gw
        .parties_page(&key("1105"), PartyKind::Contact, None)
        .await
        .unwrap();
    assert_eq!(page.parties.len(), 1);
    assert_eq!(page.parties[0].code, None);
    assert_eq!(page.parties[0].name.as_deref(), Some("Dock Jane"));
}

#[tokio::test]
async fn sage100_ship_tos_and_contacts_round_trip() {
    for (duplicate_status, put_semantics) in [
        (DuplicateStatus::Conflict409, PutSemantics::Partial),
        (DuplicateStatus::BadRequest400, PutSemantics::Replace),
    ] {
        sage100_round_trip(Sage100Config {
            duplicate_status,
            put_semantics,
            ..Sage100Config::default()
        })
        .await;
    }
}

async fn sage100_round_trip(config: Sage100Config) {
    let replaces = config.put_semantics == PutSemantics::Replace;
    let sim = start_sage100(config).await.unwrap();
    let i = sage100_integration(&sim.base_url(), sim.company(), sim.user(), 30);
    let gw = connect(&i, sim.password(), ClientSettings::for_tests()).await;
    let customer = key100("01", "AVNET");

    let wh1 = party(customer.clone(), PartyKind::ShipTo, "WH1");
    let created = gw.create_party(&wh1).await.unwrap();
    assert_eq!(created.code.as_deref(), Some("WH1"));
    assert!(sim.ship_to("01", "AVNET", "WH1").is_some());
    assert_eq!(
        gw.create_party(&wh1).await.unwrap_err(),
        ErpWriteError::AlreadyExists
    );
    assert!(gw.find_party(&wh1.key).await.unwrap().is_some());
    assert_eq!(
        gw.find_party(&party(customer.clone(), PartyKind::ShipTo, "WH2").key)
            .await
            .unwrap(),
        None
    );
    gw.set_primary_party(&wh1).await.unwrap();
    assert_eq!(sim.primary_ship_to("01", "AVNET").as_deref(), Some("WH1"));

    let jane = party(customer.clone(), PartyKind::Contact, "JANE");
    gw.create_party(&jane).await.unwrap();
    gw.set_primary_party(&jane).await.unwrap();
    assert_eq!(sim.primary_contact("01", "AVNET").as_deref(), Some("JANE"));
    if !replaces {
        assert_eq!(
            sim.primary_ship_to("01", "AVNET").as_deref(),
            Some("WH1"),
            "a partial PUT of one column leaves the other"
        );
    }
    let contacts = gw
        .parties_page(&customer, PartyKind::Contact, None)
        .await
        .unwrap();
    assert!(
        contacts
            .parties
            .iter()
            .any(|p| p.code.as_deref() == Some("JANE"))
    );
}

#[tokio::test]
async fn sage100_a_missing_customer_is_customer_missing() {
    let sim = start_sage100(Sage100Config::default()).await.unwrap();
    let i = sage100_integration(&sim.base_url(), sim.company(), sim.user(), 30);
    let gw = connect(&i, sim.password(), ClientSettings::for_tests()).await;
    for kind in [PartyKind::ShipTo, PartyKind::Contact] {
        let missing = party(key100("01", "NOSUCH"), kind, "WH1");
        assert_eq!(
            gw.create_party(&missing).await.unwrap_err(),
            ErpWriteError::CustomerMissing,
            "{kind}"
        );
        assert_eq!(
            gw.set_primary_party(&missing).await.unwrap_err(),
            ErpWriteError::CustomerMissing,
            "{kind}"
        );
    }
}
