//! The Sage 100 adapter against the Sage 100 simulator: the gateway contract suite under every
//! setting the simulator has for an unsure wire detail, and every operation's happy and
//! unhappy paths.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;
use std::time::Duration;

use crm2sage_domain::contract::erp::{GatewayFixture, run};
use crm2sage_domain::ports::{CreateCustomerError, ErpGateway, ErpReadError, PageCursor};
use crm2sage_domain::{CustomerNo, ErpKind, ErpValue, ReferenceKind, SalespersonRef};
use crm2sage_sage_adapter::ClientSettings;
use crm2sage_sage_simulator::{
    CreateStatus, DiagnosisStyle, DropAfterCommit, DuplicateStatus, Faults, KeySyntax,
    ResourceNamespace, RunningSage100, SDataNextLink, SUGGESTED_SHIP_METHOD_TABLE, Sage100Config,
    Sage100Data, Sage100Record, start_sage100,
};
use support::{UDF_FIELD, code, connect, customer100, key100, sage100_integration};

async fn start(config: Sage100Config) -> RunningSage100 {
    start_sage100(config).await.expect("simulator starts")
}

async fn gateway(sim: &RunningSage100) -> Arc<dyn ErpGateway> {
    gateway_with(sim, sim.password(), ClientSettings::for_tests()).await
}

async fn gateway_with(
    sim: &RunningSage100,
    password: &str,
    settings: ClientSettings,
) -> Arc<dyn ErpGateway> {
    let i = sage100_integration(&sim.base_url(), sim.company(), sim.user(), 30);
    connect(&i, password, settings).await
}

/// Reads every page of `kind`, returning (codes, pages, total of the first page).
async fn list_all(g: &dyn ErpGateway, kind: ReferenceKind) -> (Vec<String>, usize, Option<u64>) {
    let mut cursor: Option<PageCursor> = None;
    let mut codes = Vec::new();
    let mut pages = 0;
    let mut total = None;
    loop {
        let page = g.reference_page(kind, cursor.clone()).await.unwrap();
        pages += 1;
        if pages == 1 {
            total = page.total;
        }
        codes.extend(page.records.iter().map(|r| r.code.as_str().to_owned()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (codes, pages, total),
        }
        assert!(pages < 100, "paging never ends");
    }
}

async fn contract_on(config: Sage100Config) {
    let name_max = config.customer_name_max as u32;
    let sim = start(config).await;
    let i = sage100_integration(&sim.base_url(), sim.company(), sim.user(), name_max);
    let g = connect(&i, sim.password(), ClientSettings::for_tests()).await;
    run(GatewayFixture {
        gateway: g,
        erp: ErpKind::Sage100,
        existing: key100("01", "ABF"),
        valid_customer: customer100("PLACEHOLDER"),
        fresh_numbers: vec![
            CustomerNo::parse_sage100("NEW1").unwrap(),
            CustomerNo::parse_sage100("123").unwrap(),
        ],
    })
    .await;
    // Every request carried the user; GETs no Content-Type, the POSTs an Atom entry's.
    let log = sim.request_log();
    assert!(log.iter().any(|r| r.method == "POST"));
    for r in log {
        assert_eq!(r.user.as_deref(), Some("sdata"), "{r:?}");
        match r.method.as_str() {
            "POST" => assert_eq!(
                r.content_type.as_deref(),
                Some("application/atom+xml; type=entry")
            ),
            _ => assert_eq!(r.content_type, None, "{r:?}"),
        }
    }
}

#[tokio::test]
async fn contract_suite_passes_on_the_default_simulator() {
    contract_on(Sage100Config::default()).await;
}

#[tokio::test]
async fn contract_suite_passes_under_every_unsure_variant() {
    let small = || Sage100Config {
        page_size: 2,
        ..Sage100Config::default()
    };
    let variants = [
        Sage100Config {
            next_link: SDataNextLink::Absent,
            ..small()
        },
        Sage100Config {
            resource_namespace: ResourceNamespace::Contract(
                "http://example.com/mas/contract".into(),
            ),
            ..small()
        },
        Sage100Config {
            key_syntax: KeySyntax::Quoted,
            ..small()
        },
        Sage100Config {
            key_syntax: KeySyntax::Both,
            ..small()
        },
        Sage100Config {
            diagnosis_style: DiagnosisStyle::Bare,
            duplicate_status: DuplicateStatus::BadRequest400,
            ..small()
        },
        Sage100Config {
            duplicate_status: DuplicateStatus::BadRequest400,
            ..small()
        },
        Sage100Config {
            create_status: CreateStatus::Ok200,
            ..small()
        },
        Sage100Config {
            customer_name_max: 50,
            ..small()
        },
        Sage100Config {
            customer_type_table: false,
            ..small()
        },
        Sage100Config {
            ship_method_table: Some(SUGGESTED_SHIP_METHOD_TABLE.into()),
            ..small()
        },
        Sage100Config {
            ship_method_table: Some("SY_ShipVia".into()),
            next_link: SDataNextLink::Absent,
            ..small()
        },
    ];
    for config in variants {
        contract_on(config).await;
    }
}

#[tokio::test]
async fn paging_reads_three_pages_with_next_links_and_with_totals_only() {
    for next_link in [SDataNextLink::Present, SDataNextLink::Absent] {
        let sim = start(Sage100Config {
            page_size: 2,
            next_link,
            ..Sage100Config::default()
        })
        .await;
        let g = gateway(&sim).await;
        let (codes, pages, total) = list_all(g.as_ref(), ReferenceKind::Terms).await;
        assert_eq!(codes, ["00", "01", "02", "03", "04", "05"], "{next_link:?}");
        assert_eq!((pages, total), (3, Some(6)), "{next_link:?}");
        let gets: Vec<_> = sim
            .request_log()
            .into_iter()
            .filter(|r| r.path.ends_with("/AR_TermsCode"))
            .map(|r| r.query.unwrap_or_default())
            .collect();
        assert_eq!(gets.len(), 3, "{gets:?}");
        assert!(gets[0].contains("startIndex=1"), "{gets:?}");
        assert!(gets[2].contains("startIndex=5"), "{gets:?}");
    }
}

#[tokio::test]
async fn every_kind_maps_codes_descriptions_and_extras() {
    let sim = start(Sage100Config {
        ship_method_table: Some(SUGGESTED_SHIP_METHOD_TABLE.into()),
        ..Sage100Config::default()
    })
    .await;
    let g = gateway(&sim).await;
    let page = |kind| {
        let g = Arc::clone(&g);
        async move { g.reference_page(kind, None).await.unwrap() }
    };
    let divisions = page(ReferenceKind::Division).await;
    assert_eq!(divisions.records[1].code.as_str(), "01");
    assert_eq!(divisions.records[1].description, "Eastern Sales");
    let sp = page(ReferenceKind::Salesperson).await;
    assert_eq!(sp.records[0].code.as_str(), "01-0100");
    assert_eq!(sp.records[0].description, "Jim Kentley");
    // The domain's own parser accepts the code as a salesperson reference.
    assert!(SalespersonRef::parse(sp.records[0].code.as_str()).is_ok());
    let tax = page(ReferenceKind::Tax).await;
    assert!(tax.records.iter().any(|r| r.code.as_str() == "WI MIL"));
    let terms = page(ReferenceKind::Terms).await;
    assert_eq!(
        terms.records[2]
            .extras
            .other
            .get("DiscountRate")
            .map(String::as_str),
        Some("2.000")
    );
    let types = page(ReferenceKind::Category).await;
    assert_eq!(types.records[0].code.as_str(), "RET");
    assert_eq!(types.records[0].description, "Retail");
    let ship = page(ReferenceKind::ShipMethod).await;
    assert_eq!(ship.records.len(), 3);
    assert!(ship.records.iter().any(|r| r.code.as_str() == "UPS GROUND"));
    assert!(ship.records.iter().all(|r| r.active));
    for kind in [ReferenceKind::Currency, ReferenceKind::Language] {
        assert_eq!(
            g.reference_page(kind, None).await,
            Err(ErpReadError::KindUnavailable(kind))
        );
    }
    // `$schema` is read once per gateway.
    let schema_gets = sim
        .request_log()
        .iter()
        .filter(|r| r.path.ends_with("/$schema"))
        .count();
    assert_eq!(schema_gets, 1);
}

#[tokio::test]
async fn optional_tables_the_server_lacks_are_unavailable_not_errors() {
    let sim = start(Sage100Config {
        customer_type_table: false,
        ship_method_table: None,
        ..Sage100Config::default()
    })
    .await;
    let g = gateway(&sim).await;
    for kind in [ReferenceKind::Category, ReferenceKind::ShipMethod] {
        assert_eq!(
            g.reference_page(kind, None).await,
            Err(ErpReadError::KindUnavailable(kind))
        );
    }
}

#[tokio::test]
async fn a_single_entry_feed_and_a_many_entry_feed() {
    let mut data = Sage100Data::demo();
    data.tax_schedules = vec![Sage100Record::from_pairs(&[
        ("TaxSchedule", "ONLY"),
        ("TaxScheduleDesc", "The only one"),
    ])];
    let sim = start(Sage100Config {
        data,
        ..Sage100Config::default()
    })
    .await;
    let g = gateway(&sim).await;
    let one = g.reference_page(ReferenceKind::Tax, None).await.unwrap();
    assert_eq!(one.records.len(), 1);
    assert_eq!(one.records[0].code.as_str(), "ONLY");
    assert_eq!((one.next, one.total), (None, Some(1)));
    let many = g.reference_page(ReferenceKind::Terms, None).await.unwrap();
    assert_eq!(many.records.len(), 6);
    assert_eq!(many.next, None);
}

#[tokio::test]
async fn find_returns_the_full_record_with_nils_and_markup() {
    let sim = start(Sage100Config::default()).await;
    let g = gateway(&sim).await;
    let abf = g
        .find_customer(&key100("01", "abf"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(abf.external_uid().as_str(), "01-ABF");
    assert_eq!(abf.name(), Some("American Business Futures"));
    assert_eq!(
        abf.record.get("AddressLine2"),
        Some(&ErpValue::Null),
        "xsi:nil"
    );
    assert_eq!(abf.record.text("CreditLimit"), Some("5000.00"));
    assert_eq!(abf.record.number("CurrentBalance"), Some(460.0));
    assert_eq!(abf.record.text("AgingCategory1"), Some("300.25"));
    let names: Vec<_> = abf.record.fields().map(|(n, _)| n).take(3).collect();
    assert_eq!(names, ["ARDivisionNo", "CustomerNo", "CustomerName"]);

    let ashton = g.find_customer(&key100("0", "1")).await.unwrap().unwrap();
    assert_eq!(ashton.external_uid().as_str(), "00-0000001");
    assert_eq!(ashton.name(), Some("Ashton & Baker <Supply>"));
    assert_eq!(
        ashton.record.text("AddressLine1"),
        Some("12 O'Brien \"Quay\"")
    );

    // Same number, other division: absent.
    assert_eq!(g.find_customer(&key100("00", "ABF")).await.unwrap(), None);
    let lookup = sim
        .request_log()
        .into_iter()
        .find(|r| r.path.ends_with("/AR_Customer") && r.method == "GET")
        .unwrap();
    assert_eq!(
        lookup.query.as_deref(),
        Some("where=ARDivisionNo%20eq%20%2701%27%20and%20CustomerNo%20eq%20%27ABF%27")
    );
}

#[tokio::test]
async fn create_escapes_markup_and_stores_every_field() {
    let sim = start(Sage100Config {
        customer_name_max: 50,
        ship_method_table: Some(SUGGESTED_SHIP_METHOD_TABLE.into()),
        ..Sage100Config::default()
    })
    .await;
    let i = sage100_integration(&sim.base_url(), sim.company(), sim.user(), 50);
    let g = connect(&i, sim.password(), ClientSettings::for_tests()).await;
    let mut c = customer100("123");
    c.name = r#"Tom & Jerry's <"Best"> Co"#.into();
    c.ship_method = Some(code("UPS GROUND"));
    let created = g.create_customer(&c).await.unwrap();
    assert_eq!(created.external_uid().as_str(), "01-0000123");
    assert_eq!(created.name(), Some(r#"Tom & Jerry's <"Best"> Co"#));
    let row = sim.customer("01", "0000123").unwrap();
    for (column, value) in [
        ("CustomerName", r#"Tom & Jerry's <"Best"> Co"#),
        ("CountryCode", "USA"),
        ("TaxSchedule", "WI MIL"),
        ("TermsCode", "01"),
        ("SalespersonDivisionNo", "01"),
        ("SalespersonNo", "0100"),
        ("CustomerType", "RET"),
        ("ShipMethod", "UPS GROUND"),
        ("URLAddress", "https://contract.example.com"),
        (UDF_FIELD, "acc-1"),
    ] {
        assert_eq!(row.get(column), Some(value), "{column}");
    }
    assert_eq!(row.get("AddressLine3"), None, "left out, never sent empty");
    let post = sim
        .request_log()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert!(
        post.body.contains(
            "<CustomerName>Tom &amp; Jerry&apos;s &lt;&quot;Best&quot;&gt; Co</CustomerName>"
        ),
        "{}",
        post.body
    );
    assert!(!post.body.contains("AddressLine3"), "{}", post.body);
}

#[tokio::test]
async fn a_duplicate_is_already_exists_under_both_statuses() {
    for duplicate_status in [DuplicateStatus::Conflict409, DuplicateStatus::BadRequest400] {
        for diagnosis_style in [DiagnosisStyle::Prefixed, DiagnosisStyle::Bare] {
            let sim = start(Sage100Config {
                duplicate_status,
                diagnosis_style,
                ..Sage100Config::default()
            })
            .await;
            let g = gateway(&sim).await;
            assert_eq!(
                g.create_customer(&customer100("ABF")).await,
                Err(CreateCustomerError::AlreadyExists),
                "{duplicate_status:?} {diagnosis_style:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_salesperson_is_rejected_with_sages_message() {
    let sim = start(Sage100Config::default()).await;
    let g = gateway(&sim).await;
    let mut c = customer100("NEW9");
    c.salesperson = Some(SalespersonRef::parse("01-0999").unwrap());
    match g.create_customer(&c).await {
        Err(CreateCustomerError::Rejected { code, message }) => {
            assert_eq!(code, "ApplicationDiagnosis");
            assert!(message.contains("0999"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(sim.customer("01", "NEW9").is_none());
}

#[tokio::test]
async fn a_bad_password_and_a_forbidden_user_are_told_apart() {
    let sim = start(Sage100Config {
        users: vec![("sdata".into(), "sdata".into())],
        forbidden_users: vec![("viewer".into(), "viewer".into())],
        ..Sage100Config::default()
    })
    .await;
    let g = gateway_with(&sim, "wrong", ClientSettings::for_tests()).await;
    assert_eq!(g.test_connection().await, Err(ErpReadError::Unauthorized));
    assert_eq!(
        g.reference_page(ReferenceKind::Terms, None).await,
        Err(ErpReadError::Unauthorized)
    );
    assert_eq!(
        g.create_customer(&customer100("NEW1")).await,
        Err(CreateCustomerError::Unauthorized)
    );
    let i = sage100_integration(&sim.base_url(), sim.company(), "viewer", 30);
    let viewer = connect(&i, "viewer", ClientSettings::for_tests()).await;
    assert!(matches!(
        viewer.test_connection().await,
        Err(ErpReadError::Forbidden(_))
    ));
}

#[tokio::test]
async fn an_unknown_company_is_an_error_not_an_absent_customer() {
    let sim = start(Sage100Config::default()).await;
    let i = sage100_integration(&sim.base_url(), "XYZ", sim.user(), 30);
    let g = connect(&i, sim.password(), ClientSettings::for_tests()).await;
    match g.find_customer(&key100("01", "ABF")).await {
        Err(ErpReadError::Server {
            status: 404,
            message,
        }) => {
            assert!(message.contains("DatasetNotFound"), "{message}")
        }
        other => panic!("expected a 404 error, got {other:?}"),
    }
    assert!(matches!(
        g.reference_page(ReferenceKind::Category, None).await,
        Err(ErpReadError::Server { status: 404, .. })
    ));
}

#[tokio::test]
async fn a_500_is_a_server_error_on_reads_and_ambiguous_on_create() {
    let sim = start(Sage100Config::default()).await;
    let g = gateway(&sim).await;
    sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert!(matches!(
        g.reference_page(ReferenceKind::Terms, None).await,
        Err(ErpReadError::Server { status: 500, .. })
    ));
    assert!(matches!(
        g.find_customer(&key100("01", "ABF")).await,
        Err(ErpReadError::Server { status: 500, .. })
    ));
    assert!(matches!(
        g.create_customer(&customer100("NEW1")).await,
        Err(CreateCustomerError::Ambiguous { .. })
    ));
    assert_eq!(sim.count_posts(), 1, "a create is never retried");
}

#[tokio::test]
async fn a_timeout_is_unreachable_on_reads_and_ambiguous_on_create() {
    let sim = start(Sage100Config::default()).await;
    let settings = ClientSettings::for_tests()
        .with_timeout(Duration::from_millis(300))
        .with_get_retries(0);
    let g = gateway_with(&sim, sim.password(), settings).await;
    sim.set_faults(Faults {
        slow_response: Some(Duration::from_millis(700)),
        ..Faults::default()
    });
    assert!(matches!(
        g.find_customer(&key100("01", "ABF")).await,
        Err(ErpReadError::Unreachable(_))
    ));
    assert!(matches!(
        g.create_customer(&customer100("NEW1")).await,
        Err(CreateCustomerError::Ambiguous { .. })
    ));
    // It was committed: exactly the case "ambiguous" exists for.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sim.customer("01", "NEW1").is_some());
}

#[tokio::test]
async fn a_dropped_connection_after_commit_is_ambiguous() {
    let sim = start(Sage100Config {
        faults: Faults {
            drop_after_commit: DropAfterCommit::Next(1),
            ..Faults::default()
        },
        ..Sage100Config::default()
    })
    .await;
    let g = gateway(&sim).await;
    assert!(matches!(
        g.create_customer(&customer100("NEW1")).await,
        Err(CreateCustomerError::Ambiguous { .. })
    ));
    assert!(sim.customer("01", "NEW1").is_some());
}

#[tokio::test]
async fn malformed_xml_is_a_protocol_error_on_reads_and_ambiguous_on_create() {
    let sim = start(Sage100Config::default()).await;
    let g = gateway(&sim).await;
    sim.set_malformed_xml(true);
    assert!(matches!(
        g.reference_page(ReferenceKind::Terms, None).await,
        Err(ErpReadError::Protocol { .. })
    ));
    assert!(matches!(
        g.find_customer(&key100("01", "ABF")).await,
        Err(ErpReadError::Protocol { .. })
    ));
    assert!(matches!(
        g.create_customer(&customer100("NEW1")).await,
        Err(CreateCustomerError::Ambiguous { .. })
    ));
    assert!(sim.customer("01", "NEW1").is_some(), "the create committed");
}

#[tokio::test]
async fn a_dead_server_is_unreachable_and_a_create_never_sent() {
    let sim = start(Sage100Config::default()).await;
    let g = gateway(&sim).await;
    sim.shutdown().await;
    assert!(matches!(
        g.test_connection().await,
        Err(ErpReadError::Unreachable(_))
    ));
    assert!(matches!(
        g.create_customer(&customer100("NEW1")).await,
        Err(CreateCustomerError::Unreachable(_))
    ));
}

#[tokio::test]
async fn a_refused_secret_is_refreshed_once_and_a_changed_one_used() {
    let sim = Arc::new(
        crm2sage_sage_simulator::start_sage100(Sage100Config::default())
            .await
            .unwrap(),
    );
    let hand = Arc::clone(&sim);
    crm2sage_domain::contract::erp::rotation(crm2sage_domain::contract::erp::RotationFixture {
        connector: Arc::new(crm2sage_sage_adapter::SageConnector::new(
            ClientSettings::for_tests(),
        )),
        integration: sage100_integration(&sim.base_url(), sim.company(), sim.user(), 30),
        password: sim.password().to_owned(),
        set_password: Box::new(move |p| hand.set_password(p)),
    })
    .await;
}
