//! The live customer panel through the binary, on the Sage 300 simulator: aging and balance
//! figures against hand-computed values for a fixed `--as-of` date (documents exactly 0, 30,
//! 31, 60, 61, 90 and 91 days past due, a credit note, a settled invoice, another customer's
//! invoice), orders "not available" without O/E, and 50,000 open documents folded page by page.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use crm2sage_domain::Amount;
use crm2sage_sage_simulator::{Sage300Config, Sage300Resource, posted_document};
use serde_json::{Value, json};
use support::{Env, sim_config};

/// An amount the binary wrote: a decimal string, compared by value.
fn amount(v: &Value) -> Amount {
    let text = v
        .as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"));
    Amount::parse(text).unwrap()
}

fn dec(text: &str) -> Amount {
    Amount::parse(text).unwrap()
}

fn at(day: &str) -> String {
    format!("{day}T00:00:00Z")
}

/// Promotes a new account as customer `number` and returns the account id.
fn promoted(env: &Env, number: &str) -> String {
    env.setup_sage300(&[]);
    let id = env.new_account("Panel Test Ltd");
    env.ok(&[
        "promote",
        &id,
        "--customer-no",
        number,
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]);
    id
}

fn set_credit(env: &Env, number: &str, limit: f64, balance: f64, on_hold: &str) {
    let mut customer = env.sim.customer(number).unwrap();
    customer.insert("CreditLimitCustomerCurrency".into(), json!(limit));
    customer.insert("BalanceDueInCustomerCurrency".into(), json!(balance));
    customer.insert("OnHold".into(), json!(on_hold));
    customer.insert("CurrencyCode".into(), json!("USD"));
    env.sim.insert_customer(customer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aging_and_credit_figures_match_hand_computed_values_on_a_fixed_date() {
    let env = Env::start(sim_config()).await; // pages of 2: the documents span 5 pages
    let id = promoted(&env, "PANEL1");
    set_credit(&env, "PANEL1", 1500.0, 2061.85, "No");
    // (number, type, date, due, amount, amount due); as of 2026-06-30.
    let rows: [(&str, &str, &str, Option<&str>, f64, f64); 10] = [
        (
            "D30",
            "Invoice",
            "2026-05-01",
            Some("2026-05-31"),
            100.10,
            100.10,
        ), // 30 days
        (
            "D31",
            "Invoice",
            "2026-04-30",
            Some("2026-05-30"),
            250.00,
            200.20,
        ), // 31 days
        (
            "D60",
            "Invoice",
            "2026-04-01",
            Some("2026-05-01"),
            300.30,
            300.30,
        ), // 60 days
        (
            "D61",
            "Invoice",
            "2026-03-31",
            Some("2026-04-30"),
            400.40,
            400.40,
        ), // 61 days
        (
            "D90",
            "Invoice",
            "2026-03-02",
            Some("2026-04-01"),
            500.50,
            500.50,
        ), // 90 days
        (
            "D91",
            "Invoice",
            "2026-03-01",
            Some("2026-03-31"),
            600.60,
            600.60,
        ), // 91 days
        (
            "D00",
            "Invoice",
            "2026-06-01",
            Some("2026-06-30"),
            10.00,
            10.00,
        ), // due today
        ("CN1", "CreditNote", "2026-06-15", None, -50.25, -50.25), // no due date
        (
            "PAID",
            "Invoice",
            "2026-06-20",
            Some("2026-01-01"),
            999.00,
            0.00,
        ), // settled
        (
            "NEW",
            "Invoice",
            "2026-07-15",
            Some("2026-08-14"),
            75.00,
            75.00,
        ), // not yet due
    ];
    env.sim.insert_records(
        Sage300Resource::PostedDocuments,
        rows.iter().map(|(n, t, d, due, a, ad)| {
            let due = due.map(at);
            posted_document("PANEL1", n, t, &at(d), due.as_deref(), *a, *ad)
        }),
    );
    // Another customer's invoice never counts.
    env.sim.insert_records(
        Sage300Resource::PostedDocuments,
        [posted_document(
            "1100",
            "OTHER",
            "Invoice",
            &at("2026-06-01"),
            None,
            5.0,
            5.0,
        )],
    );

    let details = env.ok(&[
        "erp-details",
        &id,
        "--as-of",
        "2026-06-30",
        "--documents",
        "3",
    ]);
    let panel = &details["panel"];
    assert_eq!(panel["as_of"], "2026-06-30");
    assert_eq!(panel["currency"], "USD");
    assert_eq!(amount(&panel["balance"]), dec("2061.85"));
    assert_eq!(amount(&panel["credit_limit"]), dec("1500"));
    assert_eq!(amount(&panel["over_limit"]), dec("561.85"));
    assert_eq!(panel["on_hold"], false);
    let aging = &panel["aging"];
    // current: 10.00 (0 days) + 75.00 (not yet due) - 50.25 (credit note, no due date)
    assert_eq!(amount(&aging["current"]), dec("34.75"));
    assert_eq!(amount(&aging["days_1_30"]), dec("100.10"));
    assert_eq!(amount(&aging["days_31_60"]), dec("500.50")); // 200.20 + 300.30
    assert_eq!(amount(&aging["days_61_90"]), dec("900.90")); // 400.40 + 500.50
    assert_eq!(amount(&aging["over_90"]), dec("600.60"));
    assert_eq!(amount(&aging["total"]), dec("2136.85"));
    let numbers: Vec<&str> = panel["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        ["NEW", "CN1", "D00"],
        "the latest 3 by document date"
    );
    let cn = &panel["documents"][1];
    assert_eq!(cn["type"], "credit_note");
    assert_eq!(cn["due_date"], Value::Null);
    assert_eq!(cn["date"], "2026-06-15");
    assert_eq!(amount(&cn["amount_due"]), dec("-50.25"));
    assert_eq!(panel["orders"], json!([]), "O/E installed, no orders");
    assert_eq!(details["credit_status"]["status"], "over_limit");
    assert_eq!(amount(&details["credit_status"]["over_by"]), dec("561.85"));

    let text = env.text(&["erp-details", &id, "--as-of", "2026-06-30"]);
    for expected in [
        "Customer panel, as of 2026-06-30",
        "OVER LIMIT by 561.85 USD",
        "over_90",
        "Open orders: 0",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }

    // On hold comes first, whatever the balance.
    set_credit(&env, "PANEL1", 5000.0, 10.0, "Yes");
    let details = env.ok(&["erp-details", &id, "--as-of", "2026-06-30"]);
    assert_eq!(details["credit_status"]["status"], "on_hold");
    assert_eq!(details["panel"]["on_hold"], true);
    assert_eq!(amount(&details["panel"]["over_limit"]), dec("0"));

    let bad = env.run(&["erp-details", &id, "--as-of", "30/06/2026"]);
    assert_eq!(bad.code, 3, "invalid input: {}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_order_entry_orders_are_not_available_and_demo_documents_fill_every_bucket() {
    let env = Env::start(Sage300Config {
        order_entry: false,
        ..sim_config()
    })
    .await;
    // NW1001 is the customer the simulator's demo documents belong to.
    let id = promoted(&env, "NW1001");
    let details = env.ok(&["erp-details", &id]);
    let panel = &details["panel"];
    assert_eq!(panel["orders"], "not_available");
    assert_eq!(
        panel["credit_limit"],
        Value::Null,
        "a zero limit is no limit"
    );
    assert_eq!(details["credit_status"]["status"], "no_limit");
    for bucket in [
        "current",
        "days_1_30",
        "days_31_60",
        "days_61_90",
        "over_90",
    ] {
        assert!(
            !amount(&panel["aging"][bucket]).is_zero(),
            "{bucket} is empty: {panel}"
        );
    }
    assert_eq!(amount(&panel["aging"]["total"]), dec("5240.75"));
    assert_eq!(
        panel["documents"].as_array().unwrap().len(),
        7,
        "the paid one is not open"
    );
    let text = env.text(&["erp-details", &id]);
    assert!(text.contains("Open orders: not available"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_open_documents_are_aggregated_page_by_page() {
    const N: i64 = 50_000;
    let env = Env::start(Sage300Config {
        page_size: 1000,
        ..sim_config()
    })
    .await;
    let id = promoted(&env, "BIG1");
    let as_of = jiff::civil::date(2026, 6, 30);
    // Amounts in quarters (exact in binary too); due 0..=119 days before the as-of date.
    let mut expected = [0i64; 5];
    let docs = (0..N).map(|i| {
        let quarters = (i % 1000) - 100; // some negative: credit notes
        let days = i % 120;
        let bucket = match days {
            0 => 0,
            1..=30 => 1,
            31..=60 => 2,
            61..=90 => 3,
            _ => 4,
        };
        expected[bucket] += quarters;
        let due = as_of.checked_sub(jiff::Span::new().days(days)).unwrap();
        let value = quarters as f64 / 4.0;
        posted_document(
            "BIG1",
            &format!("IN{i:06}"),
            if quarters < 0 {
                "CreditNote"
            } else {
                "Invoice"
            },
            &at(&due.to_string()),
            Some(&at(&due.to_string())),
            value,
            value,
        )
    });
    let docs: Vec<_> = docs.collect();
    env.sim
        .insert_records(Sage300Resource::PostedDocuments, docs);
    let details = env.ok(&[
        "erp-details",
        &id,
        "--as-of",
        "2026-06-30",
        "--documents",
        "5",
    ]);
    let aging = &details["panel"]["aging"];
    let quarters = |q: i64| dec(&(q as f64 / 4.0).to_string());
    for (bucket, q) in [
        "current",
        "days_1_30",
        "days_31_60",
        "days_61_90",
        "over_90",
    ]
    .into_iter()
    .zip(expected)
    {
        assert_eq!(amount(&aging[bucket]), quarters(q), "{bucket}");
    }
    assert_eq!(amount(&aging["total"]), quarters(expected.iter().sum()));
    assert_eq!(details["panel"]["documents"].as_array().unwrap().len(), 5);
    // 50 pages of 1,000 were read, each its own request.
    let pages = env
        .sim
        .request_log()
        .iter()
        .filter(|r| r.path.contains("ARPostedDocuments"))
        .count();
    assert_eq!(pages, 50);
}
