//! `$top`, `$skip`, `$count`, `$select`, `$orderby` and server paging with next links.

use crm2sage_sage_simulator::{Catalogue, Sage300Config, Sage300Data};
use reqwest::{Method, Url};
use serde_json::Value;

use crate::helpers::{Sim, json_of, strings, values};

fn with_groups(n: usize, page_size: usize) -> Sage300Config {
    Sage300Config {
        page_size,
        data: Sage300Data::generated(Catalogue {
            groups: n,
            ..Catalogue::default()
        }),
        ..Sage300Config::default()
    }
}

/// Follows next links from `first`; returns every page's codes.
async fn follow(s: &Sim, first: &str, key: &str, link_name: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = Url::parse(&s.url(first)).unwrap();
    loop {
        let (st, body) = json_of(s.req(Method::GET, url.as_str()).send().await.unwrap()).await;
        assert_eq!(st, 200, "{url}: {body}");
        pages.push(strings(&body, key));
        match body.get(link_name).and_then(Value::as_str) {
            Some(next) => url = url.join(next).unwrap(),
            None => break,
        }
        assert!(pages.len() < 1000, "runaway paging");
    }
    pages
}

#[tokio::test]
async fn top_skip_select_count() {
    let s = Sim::default().await;
    let (_, body) = s.get_json("AR/ARCustomers?$top=2").await;
    assert_eq!(strings(&body, "CustomerNumber"), ["1100", "1105"]);
    assert!(
        body.get("@odata.nextLink").is_none(),
        "$top smaller than the page: no link"
    );
    let (_, body) = s.get_json("AR/ARCustomers?$skip=2").await;
    assert_eq!(strings(&body, "CustomerNumber"), ["1200", "BCCUST"]);
    let (_, body) = s
        .get_json("AR/ARCustomers?$skip=2&$top=1&$count=true")
        .await;
    assert_eq!(strings(&body, "CustomerNumber"), ["1200"]);
    assert_eq!(body["@odata.count"], 4);
    let (_, body) = s
        .get_json("AR/ARCustomers?$count=true&$filter=GroupCode%20eq%20'RTL'&$top=0")
        .await;
    assert_eq!(body["@odata.count"], 2);
    assert!(values(&body).is_empty());
    let (_, body) = s.get_json("AR/ARCustomers?$count=false").await;
    assert!(body.get("@odata.count").is_none());
    let (_, body) = s
        .get_json("AR/ARCustomers?$select=CustomerNumber,ShortName,GroupCode&$top=1")
        .await;
    let keys: Vec<String> = values(&body)[0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["CustomerNumber", "ShortName", "GroupCode"]);
    let (_, body) = s.get_json("AR/ARCustomers?$select=*&$top=1").await;
    assert!(values(&body)[0].as_object().unwrap().len() > 100);
    let (_, body) = s
        .get_json("AR/ARCustomers?$orderby=CustomerName%20desc&$select=CustomerNumber")
        .await;
    assert_eq!(
        strings(&body, "CustomerNumber"),
        ["1200", "BCCUST", "1100", "1105"]
    );
    let (_, body) = s
        .get_json("AR/ARCustomers?$orderby=GroupCode,CustomerNumber%20desc&$select=CustomerNumber")
        .await;
    assert_eq!(
        strings(&body, "CustomerNumber"),
        ["BCCUST", "1105", "1100", "1200"]
    );
}

#[tokio::test]
async fn pages_across_three_and_more_with_absolute_links() {
    let s = Sim::start(with_groups(7, 3)).await; // 4 demo + 7 generated = 11 groups
    let (_, first) = s.get_json("AR/ARCustomerGroups?$count=true").await;
    assert_eq!(first["@odata.count"], 11);
    let link = first["@odata.nextLink"].as_str().unwrap();
    assert!(link.starts_with(&s.sim.company_url()), "{link}");
    assert!(
        link.ends_with("/AR/ARCustomerGroups?$count=true&$skip=3"),
        "{link}"
    );

    let pages = follow(&s, "AR/ARCustomerGroups", "GroupCode", "@odata.nextLink").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 3, 2]);
    let all: Vec<String> = pages.concat();
    assert_eq!(all.len(), 11);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, all, "in key order, no repeats");

    // A filter and $select are carried by the link.
    let pages = follow(
        &s,
        "AR/ARCustomerGroups?$filter=startswith(GroupCode,'G')&$select=GroupCode",
        "GroupCode",
        "@odata.nextLink",
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    // $top larger than a page is spread over pages and honoured.
    let pages = follow(
        &s,
        "AR/ARCustomerGroups?$top=7",
        "GroupCode",
        "@odata.nextLink",
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    // An exact multiple of the page size ends without an empty page.
    let pages = follow(
        &s,
        "AR/ARCustomerGroups?$skip=2",
        "GroupCode",
        "@odata.nextLink",
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 3]);
}

#[tokio::test]
async fn a_large_catalogue_pages_completely() {
    // Its speed is the `sync` benchmark's to measure, not a timed assertion's.
    let s = Sim::start(with_groups(20_000, 1000)).await;
    let pages = follow(
        &s,
        "AR/ARCustomerGroups?$count=true",
        "GroupCode",
        "@odata.nextLink",
    )
    .await;
    assert_eq!(pages.len(), 21);
    assert_eq!(pages.concat().len(), 20_004);
}
