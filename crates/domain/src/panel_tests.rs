use super::*;
use proptest::prelude::*;

fn amount(t: &str) -> Amount {
    Amount::parse(t).unwrap_or_else(|e| panic!("{e}"))
}

fn date(y: i16, m: i8, d: i8) -> Date {
    Date::new(y, m, d).unwrap_or_else(|e| panic!("{e}"))
}

fn doc(number: &str, date: Date, due: Option<Date>, due_amount: &str) -> OpenDocument {
    OpenDocument {
        number: number.into(),
        document_type: if due_amount.starts_with('-') {
            DocumentType::CreditNote
        } else {
            DocumentType::Invoice
        },
        date,
        due_date: due,
        amount: amount(due_amount),
        amount_due: amount(due_amount),
    }
}

#[test]
fn bucket_edges_are_0_30_31_60_61_90_91() {
    let as_of = date(2026, 6, 30);
    let cases = [
        (-5, AgingBucket::Current),
        (0, AgingBucket::Current),
        (1, AgingBucket::Days1To30),
        (30, AgingBucket::Days1To30),
        (31, AgingBucket::Days31To60),
        (60, AgingBucket::Days31To60),
        (61, AgingBucket::Days61To90),
        (90, AgingBucket::Days61To90),
        (91, AgingBucket::Over90),
        (400, AgingBucket::Over90),
    ];
    for (days, bucket) in cases {
        let due = as_of
            .checked_sub(jiff::Span::new().days(days))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(days_past_due(due, as_of), days);
        assert_eq!(AgingBucket::of(Some(due), as_of), bucket, "{days} days");
        assert_eq!(AgingBucket::of_days(days), bucket);
    }
    assert_eq!(AgingBucket::of(None, as_of), AgingBucket::Current);
}

#[test]
fn the_fold_ages_signed_amounts_exactly_and_skips_settled_documents() {
    let as_of = date(2026, 6, 30);
    let mut fold = DocumentFold::new(as_of, 2);
    let page1 = vec![
        doc("IN1", date(2026, 3, 1), Some(date(2026, 3, 31)), "100.10"), // 91 days
        doc("IN2", date(2026, 4, 1), Some(date(2026, 5, 31)), "200.20"), // 30 days
        doc("CN1", date(2026, 6, 1), None, "-50.05"),                    // current
    ];
    let page2 = vec![
        doc("IN3", date(2026, 6, 1), Some(date(2026, 5, 30)), "0.00"), // settled: skipped
        doc("IN4", date(2026, 6, 2), Some(date(2026, 4, 1)), "10"),    // 90 days
    ];
    fold.push_page(page1).unwrap_or_else(|e| panic!("{e}"));
    fold.push_page(page2).unwrap_or_else(|e| panic!("{e}"));
    let (aging, count, latest) = fold.finish();
    assert_eq!(count, 4);
    assert_eq!(aging.current, amount("-50.05"));
    assert_eq!(aging.days_1_30, amount("200.20"));
    assert_eq!(aging.days_31_60, Amount::ZERO);
    assert_eq!(aging.days_61_90, amount("10"));
    assert_eq!(aging.over_90, amount("100.10"));
    assert_eq!(aging.total.to_string(), "260.25");
    let numbers: Vec<_> = latest.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers, ["IN4", "CN1"], "latest by date, then number");
}

#[test]
fn ties_on_the_date_are_broken_by_the_number() {
    let day = date(2026, 1, 1);
    let mut fold = DocumentFold::new(day, 2);
    for n in ["A3", "A1", "A2"] {
        fold.push(doc(n, day, None, "1"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let (_, _, latest) = fold.finish();
    let numbers: Vec<_> = latest.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers, ["A3", "A2"]);
    let mut none = DocumentFold::new(day, 0);
    none.push(doc("A", day, None, "1"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.finish().2.is_empty());
}

#[test]
fn credit_status_puts_a_hold_first_and_the_limit_itself_within() {
    let figures = |balance: &str, limit: Option<&str>, on_hold| CreditFigures {
        currency: CurrencyCode::parse("USD").ok(),
        balance: amount(balance),
        credit_limit: limit.map(amount),
        on_hold,
    };
    let check = |f: &CreditFigures| credit_status(f).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(check(&figures("10", Some("5"), true)), CreditStatus::OnHold);
    assert_eq!(check(&figures("10", None, false)), CreditStatus::NoLimit);
    assert_eq!(
        check(&figures("1000.00", Some("1000"), false)),
        CreditStatus::WithinLimit {
            available: amount("0")
        }
    );
    assert_eq!(
        check(&figures("1000.01", Some("1000"), false)),
        CreditStatus::OverLimit { by: amount("0.01") }
    );
    assert_eq!(
        check(&figures("-20", Some("100"), false)),
        CreditStatus::WithinLimit {
            available: amount("120")
        }
    );
    assert_eq!(
        figures("150", Some("100"), false).over_limit(),
        Ok(Some(amount("50")))
    );
    assert_eq!(
        figures("50", Some("100"), false).over_limit(),
        Ok(Some(Amount::ZERO))
    );
    assert_eq!(figures("50", None, false).over_limit(), Ok(None));
}

#[test]
fn orders_fold_counts_totals_and_keeps_the_latest() {
    let mut fold = OrderFold::new(1);
    for (n, d, t) in [("O1", 3, "5.5"), ("O2", 9, "4.5"), ("O3", 1, "1")] {
        fold.push(OpenOrder {
            number: n.into(),
            date: date(2026, 1, d),
            expected_ship_date: None,
            total: amount(t),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let orders = fold.finish();
    assert_eq!(orders.count, 3);
    assert_eq!(orders.total.to_string(), "11.0");
    assert_eq!(orders.latest.len(), 1);
    assert_eq!(orders.latest[0].number, "O2");
}

proptest! {
    #[test]
    fn buckets_always_sum_to_the_total(
        docs in prop::collection::vec(
            (-500i64..500, prop::option::of(-200i64..300), -10_000_000i64..10_000_000, 0u32..4),
            0..200,
        ),
        keep in 0usize..8,
    ) {
        let as_of = date(2026, 6, 30);
        let mut fold = DocumentFold::new(as_of, keep);
        let mut expected = Amount::ZERO;
        let mut open = 0u64;
        for (i, (age, due_in, cents, scale)) in docs.into_iter().enumerate() {
            let day = |offset: i64| as_of.checked_sub(jiff::Span::new().days(offset)).ok();
            let value = Amount::from_decimal(rust_decimal::Decimal::new(cents, scale));
            expected = expected.checked_add(value).unwrap_or_else(|e| panic!("{e}"));
            open += u64::from(!value.is_zero());
            let document = OpenDocument {
                number: format!("D{i}"),
                document_type: DocumentType::Invoice,
                date: day(age).unwrap_or(as_of),
                due_date: due_in.and_then(day),
                amount: value,
                amount_due: value,
            };
            fold.push(document).unwrap_or_else(|e| panic!("{e}"));
        }
        let (aging, count, latest) = fold.finish();
        let mut sum = Amount::ZERO;
        for bucket in AgingBucket::ALL {
            sum = sum.checked_add(aging.bucket(bucket)).unwrap_or_else(|e| panic!("{e}"));
        }
        prop_assert_eq!(sum, aging.total);
        prop_assert_eq!(aging.total, expected);
        prop_assert_eq!(count, open);
        prop_assert!(latest.len() <= keep);
        prop_assert!(latest.windows(2).all(|w| (w[0].date, &w[0].number) >= (w[1].date, &w[1].number)));
    }
}
