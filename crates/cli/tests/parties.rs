//! `ship-to` and `contact` (issue 22 item 1): add, list, remove with their exit codes and JSON,
//! `account show` listing them, and the companion-file imports (rows naming their account by
//! `account_ref`; safe to repeat; an unknown account or a bad row rejected with its line).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use serde_json::Value;
use support::{Env, sim_config, write};

fn new_account(env: &Env, reference: &str) -> String {
    let account = env.ok(&[
        "account",
        "new",
        "--name",
        "Barmart",
        "--line1",
        "1 Main St",
        "--city",
        "Vancouver",
        "--country",
        "CA",
        "--reference",
        reference,
    ]);
    account["id"].as_str().unwrap().to_owned()
}

fn codes(list: &Value) -> Vec<(String, bool)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_owned(),
                s["primary"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn fails(env: &Env, args: &[&str], code: i32, kind: &str) -> Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let run = env.run(&full);
    assert_eq!(run.code, code, "{args:?}: {}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], kind, "{doc}");
    doc
}

#[tokio::test]
async fn ship_tos_are_added_listed_shown_and_removed_with_the_documented_exit_codes() {
    let env = Env::start(sim_config()).await;
    let id = new_account(&env, "CRM-1");
    let main = env.ok(&[
        "ship-to",
        "add",
        &id,
        "--code",
        "main",
        "--name",
        "Main dock",
        "--line1",
        "2 Dock Rd",
        "--city",
        "Seattle",
        "--state",
        "WA",
        "--postal-code",
        "98101",
        "--country",
        "USA",
        "--phone",
        "206-555-0100",
        "--email",
        "dock@example.com",
        "--primary",
    ]);
    assert_eq!(main["code"], "MAIN");
    assert_eq!(main["account_id"], id.as_str());
    assert_eq!(main["address"]["country"], "US");
    assert_eq!(main["primary"], true);
    let add = |code: &str| {
        vec![
            "ship-to".to_owned(),
            "add".into(),
            id.clone(),
            "--code".into(),
            code.into(),
            "--name".into(),
            format!("Dock {code}"),
            "--line1".into(),
            "3 Dock Rd".into(),
            "--city".into(),
            "Tacoma".into(),
            "--country".into(),
            "US".into(),
        ]
    };
    let args = add("WH2");
    env.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // The same code: conflict (5). A second primary: conflict (5), naming the primary.
    fails(
        &env,
        &add("main").iter().map(String::as_str).collect::<Vec<_>>(),
        5,
        "ship_to_exists",
    );
    let mut second = add("WH3");
    second.push("--primary".into());
    let doc = fails(
        &env,
        &second.iter().map(String::as_str).collect::<Vec<_>>(),
        5,
        "primary_taken",
    );
    assert!(
        doc["error"]["message"].as_str().unwrap().contains("`MAIN`"),
        "{doc}"
    );
    // Every invalid field at once: invalid (3).
    let doc = fails(
        &env,
        &[
            "ship-to",
            "add",
            &id,
            "--code",
            "TOO-LONG",
            "--name",
            "",
            "--line1",
            "x",
            "--city",
            "x",
            "--country",
            "ZZ",
            "--email",
            "nobody",
        ],
        3,
        "invalid_input",
    );
    let fields: Vec<&str> = doc["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["code", "name", "country", "email"]);
    // An unknown account: not found (4); a malformed id: invalid (3).
    let ghost = "0195a000-0000-7000-8000-000000000000";
    fails(&env, &["ship-to", "list", ghost], 4, "account_not_found");
    fails(&env, &["ship-to", "list", "acct-42"], 3, "invalid_input");

    let list = env.ok(&["ship-to", "list", &id]);
    assert_eq!(codes(&list), [("MAIN".into(), true), ("WH2".into(), false)]);
    let table = env.text(&["ship-to", "list", &id]);
    assert!(
        table.contains("MAIN") && table.contains("Main dock"),
        "{table}"
    );

    let show = env.ok(&["account", "show", &id]);
    assert_eq!(codes(&show["ship_tos"]), codes(&list));
    assert_eq!(show["account"]["ship_tos"], show["ship_tos"]);
    assert_eq!(show["contacts"], Value::Array(vec![]));
    let human = env.text(&["account", "show", &id]);
    assert!(
        human.contains("Ship-tos:") && human.contains("WH2"),
        "{human}"
    );

    let removed = env.ok(&["ship-to", "remove", &id, "wh2"]);
    assert_eq!(removed["code"], "WH2");
    fails(
        &env,
        &["ship-to", "remove", &id, "WH2"],
        4,
        "ship_to_not_found",
    );
    assert_eq!(
        codes(&env.ok(&["ship-to", "list", &id])),
        [("MAIN".into(), true)]
    );
}

#[tokio::test]
async fn contacts_are_added_listed_shown_and_removed() {
    let env = Env::start(sim_config()).await;
    let id = new_account(&env, "CRM-1");
    let ana = env.ok(&[
        "contact",
        "add",
        &id,
        "--code",
        "ana",
        "--name",
        "Ana Ruiz",
        "--title",
        "Buyer",
        "--phone",
        "604-555-0100",
        "--email",
        "ana@example.com",
        "--primary",
    ]);
    assert_eq!(
        (ana["code"].as_str(), ana["title"].as_str()),
        (Some("ANA"), Some("Buyer"))
    );
    env.ok(&["contact", "add", &id, "--code", "BOB", "--name", "Bob Li"]);
    fails(
        &env,
        &["contact", "add", &id, "--code", "BOB", "--name", "Bob"],
        5,
        "contact_exists",
    );
    fails(
        &env,
        &[
            "contact",
            "add",
            &id,
            "--code",
            "CY",
            "--name",
            "Cy",
            "--primary",
        ],
        5,
        "primary_taken",
    );
    fails(
        &env,
        &[
            "contact", "add", &id, "--code", "C", "--name", "Cy", "--phone", "12",
        ],
        3,
        "invalid_input",
    );
    let list = env.ok(&["contact", "list", &id]);
    assert_eq!(codes(&list), [("ANA".into(), true), ("BOB".into(), false)]);
    let show = env.ok(&["account", "show", &id]);
    assert_eq!(codes(&show["contacts"]), codes(&list));
    env.ok(&["contact", "remove", &id, "ANA"]);
    fails(
        &env,
        &["contact", "remove", &id, "ANA"],
        4,
        "contact_not_found",
    );
    env.ok(&[
        "contact",
        "add",
        &id,
        "--code",
        "CY",
        "--name",
        "Cy",
        "--primary",
    ]);
}

fn outcomes(doc: &Value) -> Vec<(u64, String, String)> {
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["code"].as_str().unwrap_or("").to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_companion_imports_upsert_by_account_and_code_and_repeat_safely() {
    let env = Env::start(sim_config()).await;
    let accounts = write(
        &env,
        "accounts.csv",
        "reference,name,line1,city,country\nCRM-1,One,1 Main St,Vancouver,CA\nCRM-2,Two,2 Main St,Seattle,US\n",
    );
    assert_eq!(env.ok(&["account", "import", &accounts])["created"], 2);
    let ship_tos = write(
        &env,
        "ship-tos.csv",
        "account_ref,code,name,line1,city,state,country,primary\n\
         CRM-1,MAIN,Main dock,2 Dock Rd,Seattle,WA,US,yes\n\
         CRM-1,WH2,Second dock,3 Dock Rd,Tacoma,WA,US,\n\
         CRM-2,MAIN,Their dock,4 Dock Rd,Portland,OR,US,true\n\
         CRM-404,MAIN,Nobody's dock,5 Dock Rd,Boise,ID,US,no\n\
         CRM-2,TOO-LONG,,6 Dock Rd,Reno,NV,US,perhaps\n",
    );
    let run = env.run(&["--json", "ship-to", "import", &ship_tos]);
    assert_eq!(
        run.code, 3,
        "a rejected row is exit 3: {}\n{}",
        run.stdout, run.stderr
    );
    let doc = run.json();
    assert_eq!(
        outcomes(&doc),
        [
            (2, "MAIN".into(), "created".into()),
            (3, "WH2".into(), "created".into()),
            (4, "MAIN".into(), "created".into()),
            (5, "MAIN".into(), "rejected".into()),
            (6, "TOO-LONG".into(), "rejected".into()),
        ]
    );
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows[3]["errors"][0]["field"], "account_ref");
    let bad: Vec<&str> = rows[4]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        bad,
        ["code", "name", "primary"],
        "every field of the row at once"
    );
    assert_eq!(
        (doc["created"].as_u64(), doc["rejected"].as_u64()),
        (Some(3), Some(2))
    );

    // Again: the stored rows are unchanged, nothing is duplicated.
    let again = env.run(&["--json", "ship-to", "import", &ship_tos]).json();
    assert_eq!(
        (again["unchanged"].as_u64(), again["created"].as_u64()),
        (Some(3), Some(0))
    );
    let listed = env.ok(&["account", "list"]);
    let one = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["reference"] == "CRM-1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        codes(&env.ok(&["ship-to", "list", &one])),
        [("MAIN".into(), true), ("WH2".into(), false)]
    );

    // Contacts, with a report file; a changed row is updated.
    let contacts = write(
        &env,
        "contacts.csv",
        "account_ref,code,name,title,primary\nCRM-1,ANA,Ana Ruiz,Buyer,1\nCRM-1,BOB,Bob Li,,0\n",
    );
    assert_eq!(env.ok(&["contact", "import", &contacts])["created"], 2);
    let changed = write(
        &env,
        "contacts2.csv",
        "account_ref,code,name,title,primary\nCRM-1,ANA,Ana Ruiz,Head buyer,1\nCRM-1,BOB,Bob Li,,0\n",
    );
    let report = env.dir.path().join("report.csv");
    let doc = env.ok(&[
        "contact",
        "import",
        &changed,
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(
        (doc["updated"].as_u64(), doc["unchanged"].as_u64()),
        (Some(1), Some(1))
    );
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(
        report.contains("updated") && report.contains("CRM-1"),
        "{report}"
    );
    let human = env.text(&["contact", "list", &one]);
    assert!(human.contains("Head buyer"), "{human}");
}
