//! Issue 22's acceptance through the binary, against both simulators: an account with two
//! ship-tos (one primary) and two contacts (one primary) promoted with `--with-ship-tos
//! --with-contacts` — each created once, the customer pointed at the primaries, a second run
//! sending nothing, the bindings listed, the ERP's records shown live by `erp-details`; the
//! process aborted at every crash point of a ship-to promotion, then `recover`, leaving
//! exactly one ERP ship-to; and a Sage 300 without contacts taking only the primary contact.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use crm2sage_domain::services::CrashPoint;
use crm2sage_sage_simulator::{
    Sage100Config, Sage100Resource, Sage300Config, Sage300Resource, start_sage100,
};
use serde_json::Value;
use support::{Env, run_bin, sim_config};

/// Adds two ship-tos (MAIN primary, WH2) and two contacts (ANA primary, BOB) to `account`.
fn add_parties(run: &dyn Fn(&[&str]) -> Value, account: &str) {
    for (code, city, primary) in [("MAIN", "Seattle", true), ("WH2", "Tacoma", false)] {
        let mut args = vec![
            "ship-to",
            "add",
            account,
            "--code",
            code,
            "--name",
            "Dock",
            "--line1",
            "2 Dock Rd",
            "--city",
            city,
            "--state",
            "WA",
            "--country",
            "US",
        ];
        if primary {
            args.push("--primary");
        }
        run(&args);
    }
    for (code, name, primary) in [("ANA", "Ana Diaz", true), ("BOB", "Bob Lee", false)] {
        let mut args = vec![
            "contact",
            "add",
            account,
            "--code",
            code,
            "--name",
            name,
            "--title",
            "Buyer",
            "--phone",
            "206-555-0100",
            "--email",
            "ana@example.com",
        ];
        if primary {
            args.push("--primary");
        }
        run(&args);
    }
}

fn outcomes(doc: &Value, key: &str) -> Vec<(String, String)> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {doc}"))
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sage300_with_contacts_creates_each_ship_to_and_contact_once() {
    let env = Env::start(Sage300Config {
        contacts: true,
        ..sim_config()
    })
    .await;
    env.setup_sage300(&[]);
    let id = env.new_account("Barmart Ltd");
    add_parties(&|args| env.ok(args), &id);
    let doc = env.ok(&[
        "promote",
        &id,
        "--customer-no",
        "BAR100",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
        "--with-ship-tos",
        "--with-contacts",
    ]);
    assert_eq!(doc["customer_no"], "BAR100");
    assert_eq!(
        outcomes(&doc, "ship_tos"),
        pairs(&[("MAIN", "promoted"), ("WH2", "promoted")])
    );
    assert_eq!(
        outcomes(&doc, "contacts"),
        pairs(&[("ANA", "promoted"), ("BOB", "promoted")])
    );
    assert_eq!(doc["ship_tos"][0]["external_uid"], "BAR100/ST:MAIN");
    assert_eq!(env.sim.creates(Sage300Resource::ShipToLocations), 2);
    assert_eq!(env.sim.creates(Sage300Resource::Contacts), 2);
    assert_eq!(env.sim.ship_tos("BAR100").len(), 2);
    assert_eq!(env.sim.contacts("BAR100").len(), 2);
    assert_eq!(env.sim.primary_ship_to("BAR100").as_deref(), Some("MAIN"));

    // Again: the customer is already promoted, so are its parties; nothing is created.
    let again = env.ok(&[
        "promote",
        &id,
        "--customer-no",
        "BAR100",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
        "--with-ship-tos",
        "--with-contacts",
    ]);
    assert_eq!(again["already"], true);
    assert_eq!(
        outcomes(&again, "ship_tos"),
        pairs(&[("MAIN", "already_promoted"), ("WH2", "already_promoted")])
    );
    assert_eq!(env.sim.creates(Sage300Resource::ShipToLocations), 2);
    assert_eq!(env.sim.creates(Sage300Resource::Contacts), 2);

    // The bindings are listed, and the ERP's records are shown live.
    let list = env.ok(&["ship-to", "list", &id]);
    assert_eq!(list[0]["bindings"][0]["external_uid"], "BAR100/ST:MAIN");
    assert_eq!(list[0]["bindings"][0]["integration"], "s300");
    let key = list[0]["bindings"][0]["integration_key"].as_str().unwrap();
    assert!(key.ends_with(":BAR100/ST:MAIN"), "{key}");
    let contacts = env.ok(&["contact", "list", &id]);
    assert_eq!(contacts[1]["bindings"][0]["external_uid"], "BAR100/CT:BOB");
    let shown = env.ok(&["account", "show", &id]);
    assert_eq!(
        shown["ship_tos"][1]["bindings"][0]["external_uid"],
        "BAR100/ST:WH2"
    );
    let details = env.ok(&["erp-details", &id]);
    let live: Vec<&str> = details["ship_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(live, ["MAIN", "WH2"]);
    assert_eq!(details["contacts"].as_array().unwrap().len(), 2);
    let text = env.text(&["erp-details", &id]);
    assert!(text.contains("Ship-to locations (live, 2)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sage100_creates_each_ship_to_and_contact_once_and_points_the_customer_at_the_primaries() {
    let sim = start_sage100(Sage100Config {
        page_size: 2,
        ..Sage100Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir
        .path()
        .join("crm2sage.db")
        .to_string_lossy()
        .into_owned();
    let env = [
        ("CRM2SAGE_DB", db.as_str()),
        ("S100_PASSWORD", sim.password()),
    ];
    let ok = |args: &[&str]| {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let run = run_bin(&full, &env);
        assert_eq!(
            run.code, 0,
            "crm2sage {args:?}: {}\n{}",
            run.stdout, run.stderr
        );
        run.json()
    };
    let url = sim.base_url();
    ok(&[
        "integration",
        "add",
        "s100",
        "--kind",
        "sage100",
        "--url",
        &url,
        "--company",
        sim.company(),
        "--user",
        sim.user(),
        "--password-env",
        "S100_PASSWORD",
        "--division",
        "01",
        "--default",
    ]);
    ok(&["sync"]);
    let account = ok(&[
        "account",
        "new",
        "--name",
        "Lakeside",
        "--line1",
        "1 Shore Dr",
        "--city",
        "Milwaukee",
        "--state",
        "WI",
        "--country",
        "US",
    ]);
    let id = account["id"].as_str().unwrap();
    add_parties(&ok, id);
    let doc = ok(&[
        "promote",
        id,
        "--customer-no",
        "123",
        "--salesperson",
        "0100",
        "--tax-schedule",
        "WI MIL",
        "--with-ship-tos",
        "--with-contacts",
    ]);
    assert_eq!(
        outcomes(&doc, "ship_tos"),
        pairs(&[("MAIN", "promoted"), ("WH2", "promoted")])
    );
    assert_eq!(
        outcomes(&doc, "contacts"),
        pairs(&[("ANA", "promoted"), ("BOB", "promoted")])
    );
    assert_eq!(doc["contacts"][0]["external_uid"], "01-0000123/CT:ANA");
    assert_eq!(sim.creates(Sage100Resource::ShipToAddresses), 2);
    assert_eq!(sim.creates(Sage100Resource::CustomerContacts), 2);
    assert_eq!(sim.ship_tos("01", "0000123").len(), 2);
    assert_eq!(sim.contacts("01", "0000123").len(), 2);
    assert_eq!(
        sim.primary_ship_to("01", "0000123").as_deref(),
        Some("MAIN")
    );
    assert_eq!(sim.primary_contact("01", "0000123").as_deref(), Some("ANA"));

    // A ship-to added later is promoted on its own, once.
    ok(&[
        "ship-to",
        "add",
        id,
        "--code",
        "WH3",
        "--name",
        "Third",
        "--line1",
        "3 Dock Rd",
        "--city",
        "Racine",
        "--state",
        "WI",
        "--country",
        "US",
    ]);
    let one = ok(&["ship-to", "promote", id, "WH3"]);
    assert_eq!(one["external_uid"], "01-0000123/ST:WH3");
    assert_eq!(one["already"], false);
    let twice = ok(&["ship-to", "promote", id, "WH3"]);
    assert_eq!(twice["already"], true);
    assert_eq!(sim.creates(Sage100Resource::ShipToAddresses), 3);
    let details = ok(&["erp-details", id]);
    assert_eq!(details["ship_tos"].as_array().unwrap().len(), 3);
}

/// The binary aborts at each crash point of a ship-to promotion; `recover` then leaves
/// exactly one ERP ship-to, the binding recorded and the customer pointed at it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_at_every_crash_point_of_a_ship_to_promotion_then_recover_leaves_one_ship_to() {
    for (i, point) in CrashPoint::ALL.into_iter().enumerate() {
        let env = Env::start(sim_config()).await;
        env.setup_sage300(&[]);
        let id = env.new_account("Crashco");
        let number = format!("CR{i}");
        env.ok(&[
            "promote",
            &id,
            "--customer-no",
            &number,
            "--category",
            "RTL",
            "--tax-group",
            "CALIF",
        ]);
        env.ok(&[
            "ship-to",
            "add",
            &id,
            "--code",
            "MAIN",
            "--name",
            "Dock",
            "--line1",
            "2 Dock Rd",
            "--city",
            "Seattle",
            "--country",
            "US",
            "--primary",
        ]);
        let crashed = env.run_with(
            &["ship-to", "promote", &id, "MAIN"],
            &[("CRM2SAGE_CRASH_AT", point.as_str())],
        );
        assert_eq!(
            crashed.code, -1,
            "{point}: killed by a signal\n{}",
            crashed.stderr
        );
        let creates = env.sim.creates(Sage300Resource::ShipToLocations);
        assert_eq!(
            creates,
            usize::from(point != CrashPoint::AfterIntent),
            "{point}"
        );

        let report = env.ok(&["recover"]);
        let items = report["promotions"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{point}: {report}");
        assert_eq!(items[0]["party"]["code"], "MAIN", "{report}");
        let expected = if point == CrashPoint::AfterIntent {
            "resumed"
        } else {
            "adopted"
        };
        assert_eq!(items[0]["decision"], expected, "{point}: {report}");
        assert_eq!(env.sim.ship_tos(&number).len(), 1, "{point}: exactly one");
        assert_eq!(
            env.sim.creates(Sage300Resource::ShipToLocations),
            1,
            "{point}"
        );
        assert_eq!(
            env.sim.primary_ship_to(&number).as_deref(),
            Some("MAIN"),
            "{point}"
        );
        let list = env.ok(&["ship-to", "list", &id]);
        assert_eq!(
            list[0]["bindings"][0]["external_uid"],
            format!("{number}/ST:MAIN"),
            "{point}"
        );
        let again = env.ok(&["recover"]);
        assert_eq!(again["summary"]["found"], 0, "{point}");
        let promoted = env.ok(&["ship-to", "promote", &id, "MAIN"]);
        assert_eq!(promoted["already"], true, "{point}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sage300_without_contacts_takes_the_primary_contact_onto_the_customer_only() {
    let env = Env::start(sim_config()).await;
    env.setup_sage300(&[]);
    let id = env.new_account("Oneperson Inc");
    add_parties(&|args| env.ok(args), &id);
    let doc = env.ok(&[
        "promote",
        &id,
        "--customer-no",
        "ONE1",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
        "--with-contacts",
    ]);
    assert_eq!(
        outcomes(&doc, "contacts"),
        pairs(&[("ANA", "promoted"), ("BOB", "skipped")])
    );
    assert_eq!(doc["contacts"][1]["error"]["kind"], "contacts_unsupported");
    assert!(doc.get("ship_tos").is_none(), "{doc}");
    let (name, _phone, email) = env.sim.customer_contact("ONE1").unwrap();
    assert_eq!(
        (name.as_str(), email.as_str()),
        ("Ana Diaz", "ana@example.com")
    );
    assert_eq!(env.sim.creates(Sage300Resource::Contacts), 0);
    assert!(env.sim.ship_tos("ONE1").is_empty(), "not asked for");

    // Promoting the other one alone says why, exit 3.
    let run = env.run(&["--json", "contact", "promote", &id, "BOB"]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert_eq!(run.json()["error"]["kind"], "contacts_unsupported");
    // An account not promoted: exit 3 naming the fix.
    let other = env.new_account("Unpromoted Ltd");
    env.ok(&[
        "ship-to",
        "add",
        &other,
        "--code",
        "X1",
        "--name",
        "Dock",
        "--line1",
        "2 Dock Rd",
        "--city",
        "Seattle",
        "--country",
        "US",
    ]);
    let run = env.run(&["--json", "ship-to", "promote", &other, "X1"]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let err = run.json();
    assert_eq!(err["error"]["kind"], "account_not_promoted");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("crm2sage promote"),
        "{err}"
    );
    let run = env.run(&["--json", "ship-to", "promote", &id, "NOPE"]);
    assert_eq!(run.code, 4, "{}", run.stdout);
}

/// `promote --batch --with-ship-tos`: each promoted row's ship-tos go with it (in the row's
/// JSON), once; running the same file again creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_ship_tos_promotes_each_row_s_ship_tos_once() {
    use std::fmt::Write as _;
    let env = Env::start(sim_config()).await;
    env.setup_sage300(&[]);
    let accounts = support::import_accounts(&env, "SB", 3);
    let mut csv = String::from("account_ref,code,name,line1,city,country,primary\n");
    for reference in accounts.keys() {
        writeln!(csv, "{reference},MAIN,Dock,2 Dock Rd,Seattle,US,yes").unwrap();
        writeln!(csv, "{reference},WH2,Yard,3 Dock Rd,Tacoma,US,").unwrap();
    }
    let file = support::write(&env, "ship-tos.csv", &csv);
    env.ok(&["ship-to", "import", &file]);
    let batch = support::batch_file(&env, "SB", "SBC", 3);
    let run = env.run(&["--json", "promote", "--batch", &batch, "--with-ship-tos"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let rows = doc["rows"].as_array().unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(rows.len(), 3);
    for row in rows {
        assert_eq!(
            outcomes(row, "ship_tos"),
            pairs(&[("MAIN", "promoted"), ("WH2", "promoted")]),
            "{row}"
        );
    }
    assert_eq!(env.sim.creates(Sage300Resource::ShipToLocations), 6);
    assert_eq!(env.sim.primary_ship_to("SBC001").as_deref(), Some("MAIN"));

    let again = env.run(&["--json", "promote", "--batch", &batch, "--with-ship-tos"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    let rows = again.json()["rows"].as_array().unwrap().clone();
    assert!(rows.iter().all(|r| r["outcome"] == "already_promoted"));
    assert_eq!(
        outcomes(&rows[0], "ship_tos"),
        pairs(&[("MAIN", "already_promoted"), ("WH2", "already_promoted")])
    );
    assert_eq!(env.sim.creates(Sage300Resource::ShipToLocations), 6);
}
