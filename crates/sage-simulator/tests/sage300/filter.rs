//! The `$filter` grammar over the wire.

use serde_json::json;

use crate::helpers::{Sim, assert_error, strings};

/// Percent-encodes a filter the way a careful client does.
fn q(filter: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().append_pair("$filter", filter);
    url.query().unwrap().to_owned()
}

async fn numbers(s: &Sim, filter: &str) -> Vec<String> {
    let (st, body) = s.get_json(&format!("AR/ARCustomers?{}", q(filter))).await;
    assert_eq!(st, 200, "{filter}: {body}");
    strings(&body, "CustomerNumber")
}

#[tokio::test]
async fn operators_functions_and_logic() {
    let s = Sim::default().await;
    assert_eq!(numbers(&s, "CustomerNumber eq '1100'").await, ["1100"]);
    assert_eq!(numbers(&s, "GroupCode ne 'RTL'").await, ["1200", "BCCUST"]);
    assert_eq!(
        numbers(&s, "CustomerNumber gt '1105'").await,
        ["1200", "BCCUST"]
    );
    assert_eq!(
        numbers(&s, "CustomerNumber ge '1105'").await,
        ["1105", "1200", "BCCUST"]
    );
    assert_eq!(numbers(&s, "CustomerNumber lt '1105'").await, ["1100"]);
    assert_eq!(
        numbers(&s, "CustomerNumber le '1105'").await,
        ["1100", "1105"]
    );
    assert_eq!(
        numbers(&s, "GroupCode eq 'RTL' and City eq 'San Diego'").await,
        ["1100"]
    );
    assert_eq!(
        numbers(&s, "GroupCode eq 'WHL' or CurrencyCode eq 'CAD'").await,
        ["1200", "BCCUST"]
    );
    assert_eq!(
        numbers(
            &s,
            "not (GroupCode eq 'RTL') and (CurrencyCode eq 'USD' or City eq 'Nowhere')"
        )
        .await,
        ["1200"]
    );
    assert_eq!(
        numbers(&s, "startswith(CustomerName,'Bargain')").await,
        ["1100", "1105"]
    );
    assert_eq!(
        numbers(&s, "endswith(CustomerName,'Black')").await,
        ["1200"]
    );
    assert_eq!(
        numbers(&s, "contains(CustomerName,'Mart')").await,
        ["1100", "1105"]
    );
    assert_eq!(
        numbers(&s, "substringof('Coastal',CustomerName)").await,
        ["BCCUST"]
    );
    assert_eq!(
        numbers(
            &s,
            "CreditLimitCustomerCurrency ge 10000 and BalanceDueInCustomerCurrency eq 0.00m"
        )
        .await
        .len(),
        3,
        "every demo customer but 1200, which owes its open documents"
    );
    assert_eq!(
        numbers(&s, "BalanceDueInCustomerCurrency eq 5240.75m").await,
        ["1200"]
    );
    assert_eq!(
        numbers(&s, "DateLastMaintained eq 2024-01-15T00:00:00Z")
            .await
            .len(),
        4
    );
    assert_eq!(
        numbers(&s, "DateLastMaintained lt datetime'2024-01-15T00:00:00'")
            .await
            .len(),
        0
    );
    assert_eq!(numbers(&s, "InactiveDate eq null").await.len(), 4);
    assert_eq!(
        numbers(&s, "length(CustomerNumber) eq 4").await,
        ["1100", "1105", "1200"]
    );
    // Enum values are strings.
    assert_eq!(numbers(&s, "AccountType eq 'OpenItem'").await.len(), 4);
    // '+' for spaces (form encoding) works too.
    let (st, body) = s
        .get_json("AR/ARCustomers?$filter=GroupCode+eq+'WHL'")
        .await;
    assert_eq!(st, 200);
    assert_eq!(strings(&body, "CustomerNumber"), ["1200"]);
}

#[tokio::test]
async fn a_quote_inside_a_literal() {
    let s = Sim::default().await;
    let (st, _) = s.post_json("AR/ARCustomers", &json!({"CustomerNumber": "O'BRIEN", "GroupCode": "RTL", "CustomerName": "Pat O'Brien"})).await;
    assert_eq!(st, 201);
    assert_eq!(
        numbers(&s, "CustomerNumber eq 'O''BRIEN'").await,
        ["O'BRIEN"]
    );
    assert_eq!(
        numbers(&s, "contains(CustomerName,'''')").await,
        ["O'BRIEN"]
    );
    assert_eq!(
        numbers(&s, "CustomerName eq 'Pat O''Brien'").await,
        ["O'BRIEN"]
    );
    assert!(
        numbers(&s, "CustomerNumber eq 'O''''BRIEN'")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_filters_are_400_never_a_guess() {
    let s = Sim::default().await;
    for f in [
        "CustomerNumber eq '1100",
        "CustomerNumber eq",
        "CustomerNumber = '1100'",
        "CustomerNumber EQ '1100'",
        "(CustomerNumber eq '1100'",
        "CustomerNumber eq '1100')",
        "CustomerNumber eq '1100' and",
        "CustomerNumber eq '1' eq '2'",
        "nosuchfunction(CustomerNumber)",
        "startswith(CustomerNumber)",
        "CustomerNumber eq 'O'BRIEN'",
        "CustomerNumber eq \"1100\"",
        "CustomerNumber eq 1100",
        "CreditLimitCustomerCurrency eq '5'",
        "",
    ] {
        assert_error(
            s.get(&format!("AR/ARCustomers?{}", q(f))).await,
            400,
            "InvalidParameters",
        )
        .await;
    }
}

#[tokio::test]
async fn filters_on_other_resources() {
    let s = Sim::default().await;
    let (_, body) = s
        .get_json(&format!(
            "TX/TXTaxGroups?{}",
            q("TaxGroupKey eq 'CALIF' and TransactionType eq 'Sales'")
        ))
        .await;
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    let (_, body) = s
        .get_json(&format!(
            "TX/TXTaxGroups?{}",
            q("TransactionType eq 'Sales'")
        ))
        .await;
    assert_eq!(strings(&body, "TaxGroupKey"), ["BCTAX", "CALIF", "USDTAX"]);
    let (_, body) = s
        .get_json(&format!("AR/ARCustomerGroups?{}", q("Status eq 'Active'")))
        .await;
    assert_eq!(strings(&body, "GroupCode"), ["CAN", "RTL", "WHL"]);
    let (_, body) = s
        .get_json(&format!("AR/ARTerms?{}", q("Status eq 'Inactive'")))
        .await;
    assert_eq!(strings(&body, "TermsCode"), ["COD"]);
    // The exists-check form from the reference.
    let (_, body) = s
        .get_json(&format!(
            "AR/ARCustomers?{}&$select=CustomerNumber&$top=1",
            q("CustomerNumber eq 'ZZZ'")
        ))
        .await;
    assert_eq!(body["value"], json!([]));
}
