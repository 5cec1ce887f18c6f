//! Issue 21's acceptance through the binary against the Sage 300 simulator: the customer index
//! sync, the duplicate guard (exit 5, `possible_duplicate`, `--allow-duplicate`), the dry run
//! writing nothing, `link` writing the CRM id into the ERP customer, `reconcile` seeing drift,
//! `unlink`, and `match` proposing and applying.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use crm2sage_sage_simulator::{RunningSage300, Sage300Resource};
use serde_json::{Value, json};
use support::{Env, sim_config};

fn error(env: &Env, args: &[&str], exit: i32) -> Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let run = env.run(&full);
    assert_eq!(run.code, exit, "crm2sage {args:?}:\n{}\n{}", run.stdout, run.stderr);
    run.json()
}

fn promote<'a>(account: &'a str, number: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "promote",
        account,
        "--customer-no",
        number,
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ];
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_dry_run_link_reconcile_unlink_and_match_through_the_binary() {
    let env = Env::start(sim_config()).await;
    env.sim.seed_customers(5, 0);
    env.setup_sage300(&["--crm-id-field", "CRMID"]);
    let s1 = RunningSage300::seeded_customer_number(1);

    // The index: every customer, page by page.
    let synced = env.ok(&["sync", "--only", "customer"]);
    assert_eq!(synced["full"], true);
    let listed = synced["listed"].as_u64().unwrap();
    assert!(listed >= 5, "{synced}");
    assert_eq!(synced["indexed"], listed);

    // The guard: the ERP has "Customer 000001 Inc." — this account is that one.
    let dup = env.new_account("CUSTOMER 000001");
    let creates = env.sim.creates(Sage300Resource::Customers);
    let doc = error(&env, &promote(&dup, "NEW1", &[]), 5);
    assert_eq!(doc["error"]["kind"], "possible_duplicate");
    let candidates = doc["error"]["details"]["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{doc}");
    assert_eq!(candidates[0]["customer_no"], s1.as_str());
    assert_eq!(candidates[0]["reasons"], json!(["name"]));
    assert_eq!(env.sim.creates(Sage300Resource::Customers), creates);

    // The dry run: every check, the payload, nothing written.
    let log_before = env.ok(&["log"]).as_array().unwrap().len();
    let dry = env.ok(&promote(&dup, "NEW1", &["--dry-run", "--allow-duplicate"]));
    assert_eq!(dry["dry_run"], true);
    let payload: Value = serde_json::from_str(dry["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["CustomerNumber"], "NEW1");
    assert_eq!(payload["CustomerName"], "CUSTOMER 000001");
    assert_eq!(dry["possible_duplicates"][0]["customer_no"], s1.as_str());
    assert_eq!(env.sim.creates(Sage300Resource::Customers), creates);
    assert_eq!(env.ok(&["log"]).as_array().unwrap().len(), log_before);
    let taken = error(&env, &promote(&dup, &s1, &["--dry-run", "--allow-duplicate"]), 5);
    assert_eq!(taken["error"]["kind"], "customer_no_taken");

    // Link it instead: bound, marked linked, the account id written into the customer.
    let absent = error(&env, &["link", &dup, "--customer-no", "NOPE"], 4);
    assert_eq!(absent["error"]["kind"], "customer_not_found");
    let linked = env.ok(&["link", &dup, "--customer-no", &s1]);
    assert_eq!(linked["origin"], "linked");
    assert_eq!(linked["crm_id"], "written");
    let customer = env.sim.customer(&s1).unwrap();
    let fields = customer["CustomerOptionalFieldValues"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["OptionalField"] == "CRMID" && f["Value"] == dup.as_str()),
        "{fields:?}"
    );
    let other = env.new_account("Somebody Else");
    let bound = error(&env, &["link", &other, "--customer-no", &s1], 5);
    assert_eq!(bound["error"]["kind"], "customer_bound");
    let shown = env.ok(&["account", "show", &dup]);
    assert_eq!(shown["bindings"][0]["external_uid"], s1.as_str());

    // A created one beside it, then reconcile: the linked customer's address is not the
    // account's (changed); the created one is ok.
    let fresh = env.new_account("Fresh Start Trading");
    env.ok(&promote(&fresh, "FRESH1", &[]));
    let rows = env.run(&["--json", "reconcile"]);
    assert_eq!(rows.code, 5, "{}\n{}", rows.stdout, rows.stderr);
    let rows = rows.json();
    let status = |rows: &Value, no: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["customer_no"] == no)
            .map(|r| (r["status"].as_str().unwrap().to_owned(), r["changed"].clone()))
            .unwrap()
    };
    assert_eq!(status(&rows, "FRESH1").0, "ok");
    let (linked_status, changed) = status(&rows, &s1);
    assert_eq!(linked_status, "changed");
    assert!(changed.as_array().unwrap().contains(&json!("city")), "{changed}");
    // Deleted in the ERP: missing.
    assert!(env.sim.delete_customer("FRESH1"));
    let rows = env.run(&["--json", "reconcile"]).json();
    assert_eq!(status(&rows, "FRESH1").0, "missing");

    // Unlink: the binding goes, the ERP customer stays, and again is not_bound.
    let unlinked = env.ok(&["unlink", &dup]);
    assert_eq!(unlinked["unlinked"]["external_uid"], s1.as_str());
    assert!(env.sim.customer(&s1).is_some());
    let again = error(&env, &["unlink", &dup], 4);
    assert_eq!(again["error"]["kind"], "not_bound");
    let events: Vec<String> = env.log_events(&dup);
    assert!(
        events.contains(&"linked".to_owned()) && events.contains(&"unlinked".to_owned()),
        "{events:?}"
    );

    // Match: the unbound account finds its customer, and --apply links it.
    let proposed = env.ok(&["match"]);
    let row = proposed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account_id"] == dup.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["candidates"][0]["customer_no"], s1.as_str());
    assert!(row["applied"].is_null());
    let applied = env.ok(&["match", "--apply"]);
    let row = applied
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account_id"] == dup.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["applied"], "linked", "{row}");
    let shown = env.ok(&["account", "show", &dup]);
    assert_eq!(shown["bindings"][0]["external_uid"], s1.as_str());
}
