#![allow(clippy::unwrap_used)]
use super::lex::days_from_civil;
use super::*;
use serde_json::{Map, Value, json};

fn rec() -> Map<String, Value> {
    json!({
        "CustomerNumber": "O'BRIEN",
        "GroupCode": "RTL",
        "CreditLimit": 5000.0,
        "Count": 3,
        "Taxable": true,
        "Nothing": null,
        "DateLastMaintained": "2024-03-01T00:00:00Z",
        "StartDate": "2020-01-15T00:00:00",
        "Details": [],
    })
    .as_object()
    .cloned()
    .unwrap()
}

fn check(f: &str) -> bool {
    matches(&parse(f).unwrap(), &rec()).unwrap()
}

fn bad(f: &str) {
    assert!(
        parse(f).is_err(),
        "expected a parse error for {f:?}, got {:?}",
        parse(f)
    );
}

#[test]
fn comparisons() {
    assert!(check("GroupCode eq 'RTL'"));
    assert!(!check("GroupCode eq 'WHL'"));
    assert!(check("GroupCode ne 'WHL'"));
    assert!(check("GroupCode gt 'A'"));
    assert!(check("GroupCode ge 'RTL'"));
    assert!(check("GroupCode lt 'S'"));
    assert!(check("GroupCode le 'RTL'"));
    assert!(check("CreditLimit gt 4999.99m"));
    assert!(check("CreditLimit eq 5000"));
    assert!(check("Count le 3"));
    assert!(check("Count gt -1"));
    assert!(check("Count lt 1e3"));
    assert!(check("Taxable eq true"));
    assert!(check("Nothing eq null"));
    assert!(check("GroupCode ne null"));
    assert!(check("Missing eq null"));
    assert!(!check("Nothing gt 'A'"));
}

#[test]
fn quote_inside_a_literal() {
    assert!(check("CustomerNumber eq 'O''BRIEN'"));
    assert!(!check("CustomerNumber eq 'O''''BRIEN'"));
    assert_eq!(
        parse("X eq ''''").unwrap(),
        Expr::Compare(
            CmpOp::Eq,
            Box::new(Expr::Property("X".into())),
            Box::new(Expr::Literal(Literal::String("'".into())))
        )
    );
}

#[test]
fn logic_and_precedence() {
    assert!(check(
        "GroupCode eq 'WHL' or GroupCode eq 'RTL' and Count eq 3"
    ));
    assert!(!check(
        "(GroupCode eq 'WHL' or GroupCode eq 'RTL') and Count eq 4"
    ));
    assert!(check("not (GroupCode eq 'WHL')"));
    assert!(check("not startswith(GroupCode,'W')"));
    assert!(check("((GroupCode eq 'RTL'))"));
    // `and` binds tighter than `or`.
    let e = parse("A eq 1 or B eq 2 and C eq 3").unwrap();
    assert!(matches!(e, Expr::Or(_, r) if matches!(*r, Expr::And(_, _))));
}

#[test]
fn functions() {
    assert!(check("startswith(CustomerNumber, 'O''B')"));
    assert!(check("endswith(CustomerNumber,'IEN')"));
    assert!(check("contains(CustomerNumber,'BRI')"));
    assert!(check("substringof('BRI', CustomerNumber)"));
    assert!(!check("substringof(CustomerNumber, 'BRI')"));
    assert!(check("length(GroupCode) eq 3"));
    assert!(check("tolower(GroupCode) eq 'rtl'"));
    assert!(check("toupper('rtl') eq GroupCode"));
    assert!(check("trim('  RTL ') eq GroupCode"));
    assert!(!check("startswith(Nothing,'A')"));
}

#[test]
fn dates() {
    assert!(check("DateLastMaintained eq 2024-03-01T00:00:00Z"));
    assert!(check("DateLastMaintained gt datetime'2024-02-29T12:00'"));
    assert!(check("DateLastMaintained lt 2024-03-01T01:00:00+00:30"));
    assert!(check("StartDate eq 2020-01-15"));
    assert!(check("StartDate ge datetimeoffset'2020-01-15T00:00:00Z'"));
    assert_eq!(parse_datetime("1970-01-02T00:00:00Z"), Some(86_400));
    assert_eq!(
        parse_datetime("2000-03-01"),
        Some(days_from_civil(2000, 3, 1) * 86_400)
    );
    assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    assert_eq!(parse_datetime("2024-13-01"), None);
    bad("StartDate eq datetime'yesterday'");
}

#[test]
fn enum_literals() {
    assert!(check("GroupCode eq Sage.Enums.Group'RTL'"));
    bad("GroupCode eq foo'RTL'");
}

#[test]
fn malformed_filters_are_errors() {
    for f in [
        "",
        "GroupCode eq",
        "GroupCode eq 'RTL",
        "GroupCode = 'RTL'",
        "GroupCode EQ 'RTL'",
        "GroupCode eq 'RTL' and",
        "(GroupCode eq 'RTL'",
        "GroupCode eq 'RTL')",
        "GroupCode eq 'A' eq 'B'",
        "frobnicate(GroupCode)",
        "startswith(GroupCode)",
        "startswith(GroupCode,'A','B')",
        "GroupCode eq 12ab",
        "GroupCode eq 1.",
        "GroupCode eq \"RTL\"",
        "GroupCode add 1",
        "Address/City eq 'X'",
        "a.b eq 1",
        "eq eq eq",
        "GroupCode eq 'A' GroupCode",
    ] {
        bad(f);
    }
}

#[test]
fn type_errors_are_errors() {
    for f in [
        "GroupCode eq 3",
        "Count eq 'RTL'",
        "GroupCode",
        "not GroupCode",
        "startswith(Count,'1')",
        "Details eq null",
        "GroupCode eq 2024-01-01",
    ] {
        let e = parse(f).unwrap();
        assert!(matches(&e, &rec()).is_err(), "{f} should be a type error");
    }
}

#[test]
fn lists_properties() {
    let e = parse("A eq 1 and (startswith(B,'x') or not C eq D)").unwrap();
    assert_eq!(e.properties(), vec!["A", "B", "C", "D"]);
}
