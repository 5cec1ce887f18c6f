//! `where=`: comparisons, `and`/`or`, quotes doubled, and 400 `BadWhereSyntax` for the rest.

use crm2sage_sage_simulator::Sage100Record;

use crate::helpers::{Sim, assert_diagnosis, columns, opensearch};

fn q(w: &str) -> String {
    let enc: String = url_encode(w);
    format!("AR_Customer?where={enc}")
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn comparisons_and_or_quotes() {
    let s = Sim::default().await;
    s.sim.insert_customer(
        Sage100Record::new()
            .with("ARDivisionNo", "01")
            .with("CustomerNo", "OBRIEN")
            .with("CustomerName", "O'Brien & Co")
            .with("CreditLimit", "750.00"),
    );
    let nos = |feed: &crate::xml::Node| columns(feed, "CustomerNo");
    let f = s
        .get_xml(&q("ARDivisionNo eq '01' and CustomerNo eq 'ABF'"))
        .await;
    assert_eq!(nos(&f), ["ABF"]);
    assert_eq!(opensearch(&f).0, 1);
    let f = s
        .get_xml(&q("CustomerNo eq 'ABF' or CustomerNo eq '0000001'"))
        .await;
    assert_eq!(nos(&f), ["0000001", "ABF"]);
    let f = s.get_xml(&q("CustomerName eq 'O''Brien & Co'")).await;
    assert_eq!(nos(&f), ["OBRIEN"]);
    let f = s
        .get_xml(&q(
            "ARDivisionNo eq '01' and (CustomerNo eq 'AVNET' or CreditLimit lt 1000)",
        ))
        .await;
    assert_eq!(nos(&f), ["AVNET", "OBRIEN"]);
    let f = s.get_xml(&q("CreditLimit ge 5000")).await;
    assert_eq!(nos(&f), ["ABF", "AVNET"]);
    let f = s.get_xml(&q("DateEstablished gt @2000-01-01@")).await;
    assert_eq!(nos(&f), ["0000001", "AVNET"]);
    let f = s
        .get_xml(&q("CustomerNo ne 'ABF' and ARDivisionNo le '00'"))
        .await;
    assert_eq!(nos(&f), ["0000001"]);
    // Exact (case-sensitive) text.
    let f = s.get_xml(&q("CustomerNo eq 'abf'")).await;
    assert!(nos(&f).is_empty());
    // `+` in a form-encoded query is a space.
    let f = s.get_xml("AR_Customer?where=CustomerNo+eq+'ABF'").await;
    assert_eq!(nos(&f), ["ABF"]);
}

#[tokio::test]
async fn everything_else_is_bad_where_syntax() {
    let s = Sim::default().await;
    for bad in [
        "CustomerNo like 'AB%'",
        "CustomerNo eq 'ABF",
        "CustomerNo = 'ABF'",
        "CustomerNo eq 'ABF' AND ARDivisionNo eq '01'",
        "not CustomerNo eq 'ABF'",
        "CustomerNo in ('ABF')",
        "Nope eq 'x'",
        "CustomerNo eq 1",
        "CreditLimit eq '1'",
        "'a' eq 'a'",
        "CustomerNo eq 'A' or",
        "",
    ] {
        let m = assert_diagnosis(s.get(&q(bad)).await, 400, "BadWhereSyntax").await;
        assert!(m.contains("where"), "{bad}: {m}");
    }
}
