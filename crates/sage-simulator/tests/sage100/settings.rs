//! Every setting for what the reference marks unsure.

use crm2sage_sage_simulator::{
    CreateStatus, DiagnosisStyle, DuplicateStatus, KeySyntax, ResourceNamespace, Sage100Config,
    SimulatorError, start_sage100,
};

use crate::helpers::{
    Sim, assert_diagnosis, column, columns, customer, entry_body, ok_xml, resource,
};
use crate::xml;

#[tokio::test]
async fn key_syntax_unquoted_quoted_both() {
    // Default: unquoted only.
    let s = Sim::default().await;
    assert_eq!(s.get("AR_Customer(01;ABF)").await.status(), 200);
    assert_diagnosis(s.get("AR_Customer('01;ABF')").await, 400, "BadUrlSyntax").await;

    let s = Sim::start(Sage100Config {
        key_syntax: KeySyntax::Quoted,
        ..Sage100Config::default()
    })
    .await;
    let entry = s.get_xml("AR_Customer('01;ABF')").await;
    assert!(entry.text_of("id").ends_with("AR_Customer('01;ABF')"));
    assert_eq!(resource(&entry).attr("sdata:key"), Some("'01;ABF'"));
    assert_eq!(s.get("AR_Customer(%2701%3BABF%27)").await.status(), 200);
    assert_diagnosis(s.get("AR_Customer(01;ABF)").await, 400, "BadWhereSyntax").await;
    assert_diagnosis(
        s.get("AR_Customer(CustomerNo eq 'ABF')").await,
        400,
        "BadUrlSyntax",
    )
    .await;
    let resp = s.post_entry(&entry_body(&customer("Q1", &[]))).await;
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("AR_Customer('01;Q1')")
    );

    let s = Sim::start(Sage100Config {
        key_syntax: KeySyntax::Both,
        ..Sage100Config::default()
    })
    .await;
    assert_eq!(s.get("AR_Customer(01;ABF)").await.status(), 200);
    assert_eq!(s.get("AR_Customer('01;ABF')").await.status(), 200);
    let entry = s.get_xml("AR_Customer('01;ABF')").await;
    assert!(entry.text_of("id").ends_with("AR_Customer(01;ABF)"));
}

#[tokio::test]
async fn bare_diagnoses() {
    let s = Sim::start(Sage100Config {
        diagnosis_style: DiagnosisStyle::Bare,
        ..Sage100Config::default()
    })
    .await;
    let resp = s.get("AR_Nothing").await;
    assert_eq!(resp.status(), 404);
    let text = resp.text().await.unwrap();
    let root = xml::parse(&text);
    assert_eq!(root.qname, "diagnosis");
    assert_eq!(root.attr("xmlns"), Some(crate::helpers::SDATA));
    assert_eq!(root.text_of("sdataCode"), "ResourceKindNotFound");
    assert_eq!(root.text_of("severity"), "error");
    assert!(root.all("applicationCode").len() == 1);
}

#[tokio::test]
async fn duplicate_as_400_and_create_as_200() {
    let s = Sim::start(Sage100Config {
        duplicate_status: DuplicateStatus::BadRequest400,
        create_status: CreateStatus::Ok200,
        ..Sage100Config::default()
    })
    .await;
    let m = assert_diagnosis(
        s.post_entry(&entry_body(&customer("ABF", &[]))).await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(m.contains("already exists"), "{m}");
    let resp = s.post_entry(&entry_body(&customer("OK200", &[]))).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("location").is_none());
    let entry = ok_xml(resp).await;
    assert_eq!(column(&entry, "CustomerNo").as_deref(), Some("OK200"));
}

#[tokio::test]
async fn contract_namespace() {
    let ns = "http://schemas.sage.com/sdata/masContract/2009";
    let s = Sim::start(Sage100Config {
        resource_namespace: ResourceNamespace::Contract(ns.to_owned()),
        ..Sage100Config::default()
    })
    .await;
    let feed = s.get_xml("AR_Division").await;
    assert_eq!(resource(feed.all("entry")[0]).attr("xmlns"), Some(ns));
    let schema = s.get_xml("$schema").await;
    assert_eq!(schema.attr("targetNamespace"), Some(ns));
    // A POST in no namespace is still read (by local names).
    assert_eq!(
        s.post_entry(&entry_body(&customer("NS1", &[])))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn customer_name_max_50() {
    let s = Sim::start(Sage100Config {
        customer_name_max: 50,
        ..Sage100Config::default()
    })
    .await;
    let name40 = "N".repeat(40);
    let resp = s
        .post_entry(&entry_body(&customer("LONG", &[("CustomerName", &name40)])))
        .await;
    assert_eq!(resp.status(), 201);
    let name51 = "N".repeat(51);
    let m = assert_diagnosis(
        s.post_entry(&entry_body(&customer(
            "LONGER",
            &[("CustomerName", &name51)],
        )))
        .await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(m.contains("greater than 50"), "{m}");
}

#[tokio::test]
async fn without_customer_type_table() {
    let s = Sim::start(Sage100Config {
        customer_type_table: false,
        ..Sage100Config::default()
    })
    .await;
    assert_diagnosis(s.get("AR_CustomerType").await, 404, "ResourceKindNotFound").await;
    let schema = s.get_xml("$schema").await;
    let names: Vec<&str> = schema
        .all("element")
        .iter()
        .filter_map(|e| e.attr("name"))
        .collect();
    assert!(!names.contains(&"AR_CustomerType"), "{names:?}");
    assert!(names.contains(&"AR_Customer"));
    // Any type of at most 4 characters.
    let resp = s
        .post_entry(&entry_body(&customer("T1", &[("CustomerType", "ZZZ")])))
        .await;
    assert_eq!(resp.status(), 201);
    let m = assert_diagnosis(
        s.post_entry(&entry_body(&customer("T2", &[("CustomerType", "ZZZZZ")])))
            .await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
    assert!(m.contains("CustomerType"), "{m}");
}

#[tokio::test]
async fn with_a_ship_method_table() {
    let s = Sim::start(Sage100Config {
        ship_method_table: Some("SY_ShipVia".to_owned()),
        ..Sage100Config::default()
    })
    .await;
    assert_eq!(s.sim.ship_method_table(), Some("SY_ShipVia"));
    let schema = s.get_xml("$schema").await;
    assert!(schema.all("element").iter().any(
        |e| e.attr("name") == Some("SY_ShipVia") && e.attr("sme:role") == Some("resourceKind")
    ));
    let feed = s.get_xml("SY_ShipVia").await;
    assert_eq!(
        columns(&feed, "ShipMethod"),
        ["FEDEX 2DAY", "UPS GROUND", "WILL CALL"]
    );
    let one = s.get_xml("SY_ShipVia(WILL%20CALL)").await;
    assert_eq!(
        column(&one, "ShipMethodDesc").as_deref(),
        Some("Customer pick-up")
    );
    assert_diagnosis(s.get("SO_ShipMethod").await, 404, "ResourceKindNotFound").await;
    assert_diagnosis(
        s.post_entry(&entry_body(&customer("S1", &[("ShipMethod", "CAMEL")])))
            .await,
        400,
        "ApplicationDiagnosis",
    )
    .await;
}

#[tokio::test]
async fn company_users_and_invalid_configs() {
    let s = Sim::start(Sage100Config {
        company: "JOB".into(),
        users: vec![("SdataUser".into(), "s3cret".into())],
        ..Sage100Config::default()
    })
    .await;
    assert_eq!(s.sim.company(), "JOB");
    assert!(
        s.sim
            .company_url()
            .ends_with("/sdata/MasApp/MasContract/JOB")
    );
    assert_eq!(s.sim.password(), "s3cret");
    assert_eq!(s.get("AR_Division").await.status(), 200);

    for bad in [
        Sage100Config {
            page_size: 0,
            ..Sage100Config::default()
        },
        Sage100Config {
            users: vec![],
            ..Sage100Config::default()
        },
        Sage100Config {
            customer_name_max: 0,
            ..Sage100Config::default()
        },
        Sage100Config {
            ship_method_table: Some(String::new()),
            ..Sage100Config::default()
        },
    ] {
        assert!(matches!(
            start_sage100(bad).await,
            Err(SimulatorError::InvalidConfig(_))
        ));
    }
}
