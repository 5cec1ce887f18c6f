//! End-to-end tests of the `crm2sage` binary against the Sage simulator: the whole workflow,
//! every exit code, the JSON shapes.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use serde_json::Value;
use support::{Env, sim_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_workflow_with_json_output() {
    let env = Env::start(sim_config()).await;
    let added = env.ok(&[
        "integration",
        "add",
        "s300",
        "--kind",
        "sage300",
        "--url",
        &env.url(),
        "--company",
        &env.company(),
        "--user",
        &env.user(),
        "--password-env",
        "S300_PASSWORD",
        "--default",
    ]);
    assert_eq!(added["name"], "s300");
    assert_eq!(added["default"], true);
    assert_eq!(added["password_env"], "S300_PASSWORD");
    assert_eq!(added["secret"], "env:S300_PASSWORD");
    assert!(added["id"].as_str().unwrap().len() >= 32);

    let listed = env.ok(&["integration", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(env.ok(&["integration", "test", "s300"])["ok"], true);

    let sync = env.ok(&["sync"]);
    assert_eq!(sync["integration"], "s300");
    let kinds: Vec<_> = sync["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kind"].as_str().unwrap().to_owned(),
                k["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["category", "currency", "language", "terms", "tax"]
    );
    assert!(kinds.iter().all(|(_, o)| o == "ok"), "{kinds:?}");
    for k in sync["kinds"].as_array().unwrap() {
        for key in ["added", "updated", "deactivated", "total"] {
            assert!(k[key].is_u64(), "{key} in {k}");
        }
    }

    let account = env.ok(&[
        "account",
        "new",
        "--name",
        "Barmart Ltd",
        "--line1",
        "100 Main St",
        "--city",
        "Vancouver",
        "--state",
        "BC",
        "--country",
        "CA",
        "--email",
        "ap@barmart.example.com",
        "--currency",
        "CAD",
        "--terms",
        "N30",
    ]);
    let id = account["id"].as_str().unwrap().to_owned();
    let accounts = env.ok(&["account", "list"]);
    assert_eq!(accounts[0]["id"], id.as_str());

    let promoted = env.ok(&[
        "promote",
        &id,
        "--customer-no",
        "bar100",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]);
    assert_eq!(promoted["account_id"], id.as_str());
    assert_eq!(promoted["integration"], "s300");
    assert_eq!(promoted["customer_no"], "BAR100");
    assert_eq!(promoted["external_uid"], "BAR100");
    assert_eq!(promoted["state"], "promoted");
    let key = promoted["integration_key"].as_str().unwrap();
    assert!(
        key.ends_with(":BAR100") && key.starts_with(added["id"].as_str().unwrap()),
        "{key}"
    );
    assert_eq!(env.sim.count_posts(), 1);

    let shown = env.ok(&["account", "show", &id]);
    let binding = &shown["bindings"][0];
    assert_eq!(binding["customer_no"], "BAR100");
    assert_eq!(binding["external_uid"], "BAR100");
    assert_eq!(binding["integration_key"], key);
    assert_eq!(binding["integration"], "s300");

    let details = env.ok(&["erp-details", &id]);
    assert_eq!(details["customer_no"], "BAR100");
    assert_eq!(details["CustomerName"], "Barmart Ltd");
    assert_eq!(details["GroupCode"], "RTL");
    assert_eq!(details["TaxGroup"], "CALIF");

    let log = env.ok(&["log", &id]);
    let events: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events, ["intent", "promoted"]);

    // Human output of the same commands works too.
    let text = env.text(&["account", "show", &id]);
    assert!(text.contains("BAR100") && text.contains(key), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exit_code() {
    let env = Env::start(sim_config()).await;
    // 2: usage.
    assert_eq!(env.run(&["promote"]).code, 2);
    let usage = env.run(&["--json", "account", "new", "--bogus"]);
    assert_eq!(usage.code, 2);
    assert_eq!(usage.json()["error"]["kind"], "usage");

    // 3: invalid input, every field at once.
    let bad = env.run(&[
        "--json",
        "account",
        "new",
        "--name",
        "",
        "--line1",
        "x",
        "--city",
        "y",
        "--country",
        "ZZ",
        "--email",
        "nope",
    ]);
    assert_eq!(bad.code, 3);
    let fields: Vec<_> = bad.json()["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "billing.country", "email"]);
    assert_eq!(bad.json()["error"]["exit_code"], 3);

    env.ok(&[
        "integration",
        "add",
        "s300",
        "--kind",
        "sage300",
        "--url",
        &env.url(),
        "--company",
        &env.company(),
        "--user",
        &env.user(),
        "--password-env",
        "S300_PASSWORD",
    ]);
    let account = env.ok(&[
        "account",
        "new",
        "--name",
        "Acme",
        "--line1",
        "1 Road",
        "--city",
        "Town",
        "--country",
        "US",
    ]);
    let id = account["id"].as_str().unwrap().to_owned();

    // 3: no default and none named: the configured integrations are listed.
    let no_default = env.run(&[
        "--json",
        "promote",
        &id,
        "--customer-no",
        "A1",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]);
    assert_eq!(no_default.code, 3);
    assert_eq!(
        no_default.json()["error"]["details"]["configured"][0],
        "s300"
    );
    env.ok(&["integration", "set-default", "s300"]);

    // 3: unmet prerequisites, every missing kind.
    let unsynced = env.run(&[
        "--json",
        "promote",
        &id,
        "--customer-no",
        "A1",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]);
    assert_eq!(unsynced.code, 3);
    let missing = &unsynced.json()["error"]["details"]["missing_kinds"];
    assert_eq!(
        missing,
        &serde_json::json!(["category", "currency", "language", "terms", "tax"])
    );
    let human = env.run(&[
        "promote",
        &id,
        "--customer-no",
        "A1",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]);
    assert!(
        human.stderr.contains("run `crm2sage sync"),
        "{}",
        human.stderr
    );

    // 3: a missing password variable is named.
    let no_secret = env.run_with(&["--json", "sync"], &[("S300_PASSWORD", "")]);
    assert_eq!(no_secret.code, 3);
    let message = no_secret.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("env:S300_PASSWORD") && message.contains("`export S300_PASSWORD=...`"),
        "the CLI adds the export hint for a variable: {message}"
    );

    assert_eq!(env.run(&["sync"]).code, 0);

    // 4: not found.
    assert_eq!(
        env.run(&["account", "show", "0195b6a2-7c1e-7d3a-9f00-1c2b3d4e5f60"])
            .code,
        4
    );
    assert_eq!(env.run(&["integration", "show", "nope"]).code, 4);
    assert_eq!(env.run(&["erp-details", &id]).code, 4, "not promoted yet");

    // 5: the ERP already has the number; then a second promotion of a promoted account.
    let taken = env.run(&[
        "--json",
        "promote",
        &id,
        "--customer-no",
        "1200",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]);
    assert_eq!(taken.code, 5, "{}", taken.stdout);
    assert_eq!(taken.json()["error"]["kind"], "customer_no_taken");
    env.ok(&[
        "promote",
        &id,
        "--customer-no",
        "A1",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]);
    let again = env.run(&[
        "--json",
        "promote",
        &id,
        "--customer-no",
        "A2",
        "--category",
        "RTL",
        "--tax-group",
        "CALIF",
    ]);
    assert_eq!(again.code, 5);
    assert_eq!(again.json()["error"]["kind"], "already_promoted");

    // 6: the ERP refuses the credentials, or cannot be reached.
    let wrong = env.run_with(
        &["--json", "integration", "test", "s300"],
        &[("S300_PASSWORD", "wrong")],
    );
    assert_eq!(wrong.code, 6);
    env.ok(&[
        "integration",
        "add",
        "dead",
        "--kind",
        "sage300",
        "--url",
        "http://127.0.0.1:9/Sage300WebApi",
        "--company",
        "SAMLTD",
        "--user",
        "WEBAPI",
        "--password-env",
        "S300_PASSWORD",
    ]);
    let unreachable = env.run(&["--json", "sync", "--integration", "dead"]);
    assert_eq!(unreachable.code, 6, "{}", unreachable.stdout);
    // Languages are Sage 300's fixed set (no request); every kind that needs the ERP failed.
    for k in unreachable.json()["kinds"].as_array().unwrap() {
        let expected = if k["kind"] == "language" {
            "ok"
        } else {
            "failed"
        };
        assert_eq!(k["outcome"], expected, "{k}");
    }

    // 0 for the rest of the workflow.
    assert_eq!(env.run(&["erp-details", &id]).code, 0);
}

#[test]
fn help_names_every_command_and_flag() {
    let help = support::run_bin(&["--help"], &[]).stdout;
    for command in [
        "integration",
        "sync",
        "account",
        "promote",
        "erp-details",
        "log",
        "simulate",
        "demo",
    ] {
        assert!(help.contains(command), "--help lists {command}");
    }
    for flag in ["--db", "--json", "--verbose", "--quiet"] {
        assert!(help.contains(flag), "--help lists {flag}");
    }
    let add = support::run_bin(&["integration", "add", "--help"], &[]).stdout;
    for flag in [
        "--kind",
        "--url",
        "--company",
        "--user",
        "--password-env",
        "--division",
        "--customer-name-max",
        "--crm-id-field",
        "--allow-insecure-http",
        "--default",
    ] {
        assert!(add.contains(flag), "integration add --help lists {flag}");
    }
    let promote = support::run_bin(&["promote", "--help"], &[]).stdout;
    for flag in [
        "--customer-no",
        "--integration",
        "--category",
        "--tax-group",
        "--terms",
        "--division",
        "--salesperson",
        "--ship-method",
        "--tax-schedule",
    ] {
        assert!(promote.contains(flag), "promote --help lists {flag}");
    }
}

#[test]
fn demo_runs_the_workflow_and_shows_the_key_and_uid() {
    let demo = support::run_bin(&["demo"], &[]);
    assert_eq!(demo.code, 0, "{}\n{}", demo.stdout, demo.stderr);
    assert!(demo.stdout.contains("Integration key: "), "{}", demo.stdout);
    assert!(
        demo.stdout.contains("External UID:    NW1001"),
        "{}",
        demo.stdout
    );
    assert!(
        demo.stdout.contains("CustomerName"),
        "live details shown: {}",
        demo.stdout
    );

    let json = support::run_bin(&["--json", "demo"], &[]);
    assert_eq!(json.code, 0);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["promotion"]["external_uid"], "NW1001");
    assert_eq!(doc["erp_details"]["CustomerName"], "Northwind Traders");
    assert_eq!(doc["ship_tos"][0]["external_uid"], "NW1001/ST:HQ");
    assert_eq!(doc["ship_tos"].as_array().unwrap().len(), 2);
    assert_eq!(doc["contacts"][0]["outcome"], "promoted");
    assert!(
        demo.stdout
            .contains("ship-to WH2: promoted (NW1001/ST:WH2)")
            && demo.stdout.contains("Ship-to locations (live, 2)"),
        "{}",
        demo.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sage100_workflow_through_the_binary() {
    use crm2sage_sage_simulator::{Sage100Config, start_sage100};
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
        let run = support::run_bin(&full, &env);
        assert_eq!(
            run.code, 0,
            "crm2sage {args:?}: {}\n{}",
            run.stdout, run.stderr
        );
        run.json()
    };
    let url = sim.base_url();
    let added = ok(&[
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
        "--crm-id-field",
        "UDF_CRM_ID",
        "--default",
    ]);
    assert_eq!(added["division"], "01");
    assert_eq!(added["customer_name_max"], 30);
    let sync = ok(&["sync"]);
    let outcomes: Vec<(String, String)> = sync["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kind"].as_str().unwrap().to_owned(),
                k["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        outcomes.contains(&("salesperson".to_owned(), "ok".to_owned())),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&("division".to_owned(), "ok".to_owned())),
        "{outcomes:?}"
    );
    let account = ok(&[
        "account",
        "new",
        "--name",
        "Lakeside & Sons",
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
    // Sage 300 flags are refused for a Sage 100 integration, naming the right one.
    let wrong = support::run_bin(
        &[
            "--json",
            "promote",
            id,
            "--customer-no",
            "123",
            "--tax-group",
            "CALIF",
            "--salesperson",
            "0100",
            "--tax-schedule",
            "WI MIL",
        ],
        &env,
    );
    assert_eq!(wrong.code, 3);
    assert!(
        wrong.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--tax-schedule")
    );
    let promoted = ok(&[
        "promote",
        id,
        "--customer-no",
        "123",
        "--salesperson",
        "0100",
        "--tax-schedule",
        "WI MIL",
    ]);
    assert_eq!(promoted["customer_no"], "0000123");
    assert_eq!(promoted["external_uid"], "01-0000123");
    let details = ok(&["erp-details", id]);
    assert_eq!(details["CustomerName"], "Lakeside & Sons");
    assert_eq!(details["SalespersonNo"], "0100");
    assert_eq!(details["UDF_CRM_ID"], id);
    assert_eq!(sim.count_posts(), 1);
}

#[test]
fn the_sage100_demo_exits_0() {
    let demo = support::run_bin(&["demo", "--kind", "sage100"], &[]);
    assert_eq!(demo.code, 0, "{}\n{}", demo.stdout, demo.stderr);
    assert!(
        demo.stdout.contains("External UID:    01-NW1001"),
        "{}",
        demo.stdout
    );
    assert!(
        demo.stdout
            .contains("1 customer POST, 2 ship-tos, 1 contact"),
        "{}",
        demo.stdout
    );
}

/// `account update` changes only the fields given; `account upsert` is keyed by the CRM
/// reference: created, then unchanged, then updated — one account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_update_and_upsert() {
    let env = Env::start(sim_config()).await;
    let id = env.new_account("Barmart Ltd");
    let updated = env.ok(&[
        "account",
        "update",
        &id,
        "--city",
        "Burnaby",
        "--phone",
        "604-555-0100",
    ]);
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["name"], "Barmart Ltd", "untouched");
    assert_eq!(updated["billing"]["city"], "Burnaby");
    assert_eq!(updated["phone"], "604-555-0100");
    let bad = env.run(&[
        "--json",
        "account",
        "update",
        &id,
        "--name",
        "",
        "--country",
        "XX",
    ]);
    assert_eq!(bad.code, 3, "{}", bad.stderr);
    let missing = env.run(&[
        "account",
        "update",
        "0195b6a2-7c1e-7d3a-9f00-1c2b3d4e5f60",
        "--city",
        "X",
    ]);
    assert_eq!(missing.code, 4, "{}", missing.stderr);

    let upsert = |name: &str| {
        env.ok(&[
            "account",
            "upsert",
            "--reference",
            "CRM-7",
            "--name",
            name,
            "--line1",
            "1 Main St",
            "--city",
            "Vancouver",
            "--country",
            "CA",
        ])
    };
    let first = upsert("Upsertco");
    assert_eq!(first["outcome"], "created");
    assert_eq!(first["account"]["reference"], "CRM-7");
    assert_eq!(upsert("Upsertco")["outcome"], "unchanged");
    let third = upsert("Upsertco Holdings");
    assert_eq!(third["outcome"], "updated");
    assert_eq!(third["account"]["id"], first["account"]["id"]);
    let accounts = env.ok(&["account", "list"]);
    assert_eq!(accounts.as_array().unwrap().len(), 2);
}
