//! Every route, list and single record, and the answers to unknown paths.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Sim, assert_error, json_of, strings};

#[tokio::test]
async fn lists_every_resource() {
    let s = Sim::default().await;
    let (st, body) = s.get_json("AR/ARCustomers").await;
    assert_eq!(st, 200);
    assert_eq!(
        strings(&body, "CustomerNumber"),
        ["1100", "1105", "1200", "BCCUST"]
    );
    let context = body["@odata.context"].as_str().unwrap();
    assert!(
        context.ends_with("/Sage300WebApi/v1.0/-/SAMLTD/AR/$metadata#ARCustomers"),
        "{context}"
    );
    assert!(body.get("@odata.count").is_none());
    assert!(body.get("@odata.nextLink").is_none());

    let (_, body) = s.get_json("AR/ARCustomerGroups").await;
    assert_eq!(strings(&body, "GroupCode"), ["CAN", "OLD", "RTL", "WHL"]);
    assert_eq!(body["value"][1]["Status"], "Inactive");
    assert_eq!(body["value"][2]["Terms"], "N30");
    assert_eq!(body["value"][2]["TaxGroup"], "CALIF");

    let (_, body) = s.get_json("AR/ARTerms").await;
    assert_eq!(
        strings(&body, "TermsCode"),
        ["2N31", "COD", "DUETBL", "N30"]
    );

    let (_, body) = s.get_json("TX/TXTaxGroups").await;
    let rows: Vec<(String, String)> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["TaxGroupKey"].as_str().unwrap().to_owned(),
                r["TransactionType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(rows[0], ("BCTAX".to_owned(), "Sales".to_owned()));
    assert_eq!(rows[1], ("BCTAX".to_owned(), "Purchases".to_owned()));
    assert!(rows.contains(&("IMPORT".to_owned(), "Purchases".to_owned())));
    assert!(!rows.contains(&("IMPORT".to_owned(), "Sales".to_owned())));
    assert_eq!(body["value"][0]["Taxable1"], true);

    let (_, body) = s.get_json("CS/CSCurrencyCodes").await;
    assert_eq!(strings(&body, "CurrencyCodeKey"), ["CAD", "EUR", "USD"]);
    assert_eq!(body["value"][0]["DecimalPlaces"], "Num2");
}

#[tokio::test]
async fn single_records_by_single_and_named_keys() {
    let s = Sim::default().await;
    for path in [
        "AR/ARCustomers('1100')",
        "AR/ARCustomers(CustomerNumber='1100')",
        "AR/ARCustomers( '1100' )",
    ] {
        let (st, body) = s.get_json(path).await;
        assert_eq!(st, 200, "{path}");
        assert_eq!(body["CustomerNumber"], "1100");
        assert_eq!(body["CustomerName"], "Bargain Mart - San Diego");
        assert!(
            body["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("#ARCustomers/$entity")
        );
        assert!(body.get("value").is_none());
    }
    let (_, g) = s.get_json("AR/ARCustomerGroups('WHL')").await;
    assert_eq!(g["Terms"], "2N31");
    let (_, t) = s.get_json("AR/ARTerms('N30')").await;
    assert_eq!(t["Description"], "Net 30 days");
    let (_, c) = s.get_json("CS/CSCurrencyCodes('CAD')").await;
    assert_eq!(c["Description"], "Canadian Dollars");
    for path in [
        "TX/TXTaxGroups(TaxGroupKey='CALIF',TransactionType='Sales')",
        "TX/TXTaxGroups(TransactionType='Sales', TaxGroupKey='CALIF')",
        "TX/TXTaxGroups(TaxGroupKey='CALIF',TransactionType=Sage.CA.SBS.ERP.Sage300.TX.Models.Enums.TransactionType'Sales')",
    ] {
        let (st, tg) = s.get_json(path).await;
        assert_eq!(st, 200, "{path}");
        assert_eq!(
            (tg["TaxGroupKey"].as_str(), tg["TransactionType"].as_str()),
            (Some("CALIF"), Some("Sales"))
        );
    }
    let (st, _) = s
        .get_json("TX/TXTaxGroups(TaxGroupKey='IMPORT',TransactionType='Purchases')")
        .await;
    assert_eq!(st, 200);
    // $select applies to one record too.
    let (_, sel) = s
        .get_json("AR/ARCustomers('1100')?$select=CustomerNumber,City")
        .await;
    let keys: Vec<&String> = sel.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["@odata.context", "CustomerNumber", "City"]);
}

#[tokio::test]
async fn any_tenant_segment_is_accepted() {
    let s = Sim::default().await;
    for tenant in ["-", "vertilux", "x"] {
        let url = format!(
            "{}/v1.0/{tenant}/SAMLTD/AR/ARCustomers('1200')",
            s.sim.base_url()
        );
        let (st, body) = json_of(s.req(Method::GET, &url).send().await.unwrap()).await;
        assert_eq!(st, 200, "{tenant}");
        assert_eq!(body["CustomerNumber"], "1200");
    }
    // The company matches case-insensitively.
    let url = format!("{}/v1.0/-/samltd/AR/ARCustomers", s.sim.base_url());
    assert_eq!(s.req(Method::GET, &url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn unknown_paths_resources_and_records() {
    let s = Sim::default().await;
    assert_error(s.get("AR/ARNoSuchThing").await, 404, "ResourceNotFound").await;
    assert_error(s.get("XX/ARCustomers").await, 404, "ResourceNotFound").await;
    assert_error(s.get("CS/ARCustomers").await, 404, "ResourceNotFound").await;
    assert_error(s.get("AR/arcustomers").await, 404, "ResourceNotFound").await;
    assert_error(s.get("AR/$metadata").await, 404, "ResourceNotFound").await;
    assert_error(s.get("AR").await, 404, "ResourceNotFound").await;
    let url = format!("{}/v2.0/-/SAMLTD/AR/ARCustomers", s.sim.base_url());
    assert_error(
        s.req(Method::GET, &url).send().await.unwrap(),
        404,
        "ResourceNotFound",
    )
    .await;
    let url = format!("http://{}/elsewhere", s.sim.addr());
    assert_error(
        s.req(Method::GET, &url).send().await.unwrap(),
        404,
        "ResourceNotFound",
    )
    .await;

    let msg = assert_error(s.get("AR/ARCustomers('NOPE')").await, 404, "RecordNotFound").await;
    assert_eq!(msg, "A Record cannot be found for the specified entity key");
    assert_error(
        s.get("TX/TXTaxGroups(TaxGroupKey='IMPORT',TransactionType='Sales')")
            .await,
        404,
        "RecordNotFound",
    )
    .await;
}

#[tokio::test]
async fn verbs_a_resource_lacks_are_405() {
    let s = Sim::default().await;
    let body = json!({"TaxGroupKey": "NEW", "TransactionType": "Sales"});
    assert_error(
        s.post("TX/TXTaxGroups", &body).await,
        405,
        "MethodNotAllowed",
    )
    .await;
    assert_error(
        s.post("AR/ARCustomerGroups", &json!({"GroupCode": "NEW"}))
            .await,
        405,
        "MethodNotAllowed",
    )
    .await;
    for (method, path) in [
        (Method::PUT, "AR/ARCustomers('1100')"),
        (Method::DELETE, "AR/ARCustomers('1100')"),
        (Method::PATCH, "AR/ARCustomerGroups('RTL')"),
        (Method::PATCH, "AR/ARCustomers"),
    ] {
        let resp = s.req(method, &s.url(path)).body("{}").send().await.unwrap();
        assert_error(resp, 405, "MethodNotAllowed").await;
    }
    assert_error(
        s.post("AR/ARCustomers('$template')", &json!({})).await,
        400,
        "InvalidAction",
    )
    .await;
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let s = Sim::default().await;
    let url = s.url("AR/ARCustomers");
    assert_eq!(s.req(Method::GET, &url).send().await.unwrap().status(), 200);
    let Sim { sim, client } = s;
    sim.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(&url).send().await.is_err());
    drop(client);
}
