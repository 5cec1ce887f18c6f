//! Paging: `startIndex`/`count`, OpenSearch totals, `next` links, the page-size cap, and paging
//! with the totals alone when links are absent.

use crm2sage_sage_simulator::{SDataNextLink, Sage100Catalogue, Sage100Config, Sage100Data};

use crate::helpers::{Sim, columns, link, ok_xml, opensearch};

fn big(page_size: usize, next_link: SDataNextLink) -> Sage100Config {
    Sage100Config {
        page_size,
        next_link,
        data: Sage100Data::generated(Sage100Catalogue {
            salespersons: 248,
            ..Sage100Catalogue::default()
        }),
        ..Sage100Config::default()
    }
}

#[tokio::test]
async fn three_pages_by_next_links() {
    let s = Sim::start(big(100, SDataNextLink::Present)).await;
    let mut url = s.url("AR_Salesperson");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let feed = ok_xml(s.get_url(&url).await).await;
        pages += 1;
        let (total, start, per_page) = opensearch(&feed);
        assert_eq!(total, 250);
        assert_eq!(per_page, 100);
        assert_eq!(start, seen.len() + 1);
        let keys: Vec<String> = feed
            .all("entry")
            .iter()
            .map(|e| {
                let r = crate::helpers::resource(e);
                format!(
                    "{}-{}",
                    r.text_of("SalespersonDivisionNo"),
                    r.text_of("SalespersonNo")
                )
            })
            .collect();
        seen.extend(keys);
        assert!(
            link(&feed, "first")
                .unwrap()
                .contains("startIndex=1&count=100")
        );
        assert!(link(&feed, "last").unwrap().contains("startIndex=201"));
        if pages > 1 {
            assert!(link(&feed, "previous").is_some());
        }
        match link(&feed, "next") {
            Some(next) => {
                assert!(next.starts_with("http://127.0.0.1:"), "absolute: {next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 250);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 250, "no duplicates");
    assert_eq!(seen[0], "01-0100");
    assert_eq!(seen[2], "02-0001");
    assert_eq!(seen[249], "02-0248");
}

#[tokio::test]
async fn count_is_cut_to_the_page_size_and_links_keep_the_query() {
    let s = Sim::start(big(40, SDataNextLink::Present)).await;
    let feed = s.get_xml("AR_Salesperson?count=500").await;
    assert_eq!(opensearch(&feed), (250, 1, 40));
    assert_eq!(feed.all("entry").len(), 40);

    let feed = s
        .get_xml("AR_Salesperson?where=SalespersonDivisionNo%20eq%20%2702%27&count=7&startIndex=3&select=SalespersonNo")
        .await;
    assert_eq!(opensearch(&feed), (248, 3, 7));
    assert_eq!(columns(&feed, "SalespersonNo")[0], "0003");
    let next = link(&feed, "next").unwrap();
    assert!(next.contains("startIndex=10&count=7"), "{next}");
    assert!(next.contains("where="), "{next}");
    assert!(next.contains("select=SalespersonNo"), "{next}");
    let prev = link(&feed, "previous").unwrap();
    assert!(prev.contains("startIndex=1&"), "{prev}");
    // Following it keeps the filter.
    let second = ok_xml(s.get_url(next).await).await;
    assert_eq!(opensearch(&second), (248, 10, 7));
    assert_eq!(columns(&second, "SalespersonNo")[0], "0010");

    // Past the end: an empty page, no next.
    let past = s.get_xml("AR_Salesperson?startIndex=900").await;
    assert_eq!(opensearch(&past), (250, 900, 40));
    assert!(past.all("entry").is_empty());
    assert!(link(&past, "next").is_none());

    // count=0: only the totals.
    let zero = s.get_xml("AR_Salesperson?count=0").await;
    assert_eq!(opensearch(&zero), (250, 1, 0));
    assert!(zero.all("entry").is_empty());
    assert!(link(&zero, "next").is_none());
}

#[tokio::test]
async fn without_links_a_client_pages_by_the_totals() {
    let s = Sim::start(big(100, SDataNextLink::Absent)).await;
    let mut start = 1;
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let feed = s
            .get_xml(&format!("AR_Salesperson?startIndex={start}&count=100"))
            .await;
        pages += 1;
        for rel in ["next", "first", "last", "previous"] {
            assert!(link(&feed, rel).is_none(), "{rel}");
        }
        assert!(link(&feed, "self").is_some());
        let (total, _, per_page) = opensearch(&feed);
        seen += feed.all("entry").len();
        start += per_page;
        if start > total {
            break;
        }
    }
    assert_eq!((pages, seen), (3, 250));
}

#[tokio::test]
async fn a_query_that_matches_nothing_is_an_empty_feed() {
    let s = Sim::default().await;
    let feed = s
        .get_xml("AR_Customer?where=CustomerNo%20eq%20%27NOPE%27")
        .await;
    assert_eq!(opensearch(&feed), (0, 1, 100));
    assert!(feed.all("entry").is_empty());
}
