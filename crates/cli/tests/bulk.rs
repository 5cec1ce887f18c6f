//! Bulk work through the binary: `account import` and `promote --batch` against the simulator.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use crm2sage_sage_simulator::{Faults, Sage300Config};
use support::Env;

fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn setup(env: &Env) {
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
        "--default",
    ]);
    env.ok(&["sync"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_saves_valid_rows_and_reports_each_bad_one() {
    let env = Env::start(Sage300Config::default()).await;
    let file = write(
        &env,
        "accounts.csv",
        "reference,name,line1,city,country,email\n\
         R1,Good One,1 Main St,Town,US,a@example.com\n\
         R2,,1 Main St,,XX,not-an-email\n\
         R3,\"Quoted, Inc.\",2 Side Rd,Town,CA,\n\
         R1,Dup Ref,3 Road,Town,US,\n",
    );
    let run = env.run(&["--json", "account", "import", &file]);
    assert_eq!(
        run.code, 3,
        "a bad row makes the import exit 3: {}",
        run.stdout
    );
    let doc = run.json();
    assert_eq!(doc["imported"], 3);
    assert_eq!(doc["created"], 2);
    assert_eq!(doc["rejected"], 1);
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows[1]["line"], 3);
    let fields: Vec<_> = rows[1]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["name", "billing.city", "billing.country", "email"],
        "every invalid field of the row"
    );
    // A reference repeated in the file is an upsert again: the later row updates the account.
    assert_eq!(rows[3]["line"], 5);
    assert_eq!(rows[3]["outcome"], "updated");
    assert_eq!(rows[3]["id"], rows[0]["id"]);
    let listed = env.ok(&["account", "list"]);
    let names: BTreeSet<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["Dup Ref".to_owned(), "Quoted, Inc.".to_owned()])
    );

    // A malformed file or a wrong header is a clear error, and nothing is saved.
    let bad_quotes = write(
        &env,
        "bad.csv",
        "name,line1,city,country\nA,\"unterminated,Town,US\nB,1 Rd,Town,US,extra\n",
    );
    let run = env.run(&["--json", "account", "import", &bad_quotes]);
    assert_eq!(run.code, 3);
    assert!(
        run.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed CSV"),
        "{}",
        run.stdout
    );
    let wrong_header = write(
        &env,
        "header.csv",
        "nom,line1,city,country\nA,1 Rd,Town,US\n",
    );
    let run = env.run(&["--json", "account", "import", &wrong_header]);
    assert_eq!(run.code, 3);
    let message = run.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("unknown column(s) nom") && message.contains("name"),
        "{message}"
    );
    assert_eq!(env.ok(&["account", "list"]).as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_200_with_bad_rows_taken_numbers_and_duplicates() {
    let config = Sage300Config {
        faults: Faults {
            latency: Duration::from_millis(5),
            ..Faults::default()
        },
        ..Sage300Config::default()
    };
    let env = Env::start(config).await;
    setup(&env);
    let mut accounts = String::from("reference,name,line1,city,country\n");
    for i in 0..190 {
        writeln!(accounts, "A{i:03},Account {i},{i} Main St,Town,US").unwrap();
    }
    let file = write(&env, "accounts.csv", &accounts);
    assert_eq!(env.ok(&["account", "import", &file])["imported"], 190);

    // 200 rows: 180 good; 5 numbers the ERP already has (1200 and siblings seeded below);
    // 5 second rows for an account already in the batch; 5 rows naming an unknown account;
    // 5 rows with an invalid customer number.
    for n in ["TAKEN1", "TAKEN2", "TAKEN3", "TAKEN4", "TAKEN5"] {
        let mut record = env.sim.customer("1200").unwrap();
        record.insert("CustomerNumber".into(), n.into());
        env.sim.insert_customer(record);
    }
    let mut batch = String::from("account_ref,customer_no,category,tax_group\n");
    let mut expected: BTreeMap<usize, &str> = BTreeMap::new();
    for i in 0..180 {
        writeln!(batch, "A{i:03},N{i:04},RTL,CALIF").unwrap();
        expected.insert(expected.len() + 2, "promoted");
    }
    for i in 0..5 {
        writeln!(batch, "A{:03},TAKEN{},RTL,CALIF", 180 + i, i + 1).unwrap();
        expected.insert(expected.len() + 2, "taken");
    }
    for i in 0..5 {
        writeln!(batch, "A{i:03},D{i:04},RTL,CALIF").unwrap();
        expected.insert(expected.len() + 2, "duplicate");
    }
    for i in 0..5 {
        writeln!(batch, "NOPE{i},U{i:04},RTL,CALIF").unwrap();
        expected.insert(expected.len() + 2, "unknown");
    }
    for i in 0..5 {
        writeln!(batch, "A{:03},WAY-TOO-LONG-{i},RTL,CALIF", 185 + i).unwrap();
        expected.insert(expected.len() + 2, "invalid");
    }
    let file = write(&env, "batch.csv", &batch);
    env.sim.reset_max_in_flight();
    env.sim.clear_request_log();
    let run = env.run(&["--json", "promote", "--batch", &file, "--concurrency", "8"]);
    assert_eq!(
        run.code, 5,
        "the highest row code: conflicts (5) beat invalid (3) and not found (4)"
    );
    let doc = run.json();
    assert_eq!(doc["summary"]["total"], 200);
    let rows = doc["rows"].as_array().unwrap();
    for row in rows {
        let line = usize::try_from(row["line"].as_u64().unwrap()).unwrap();
        let outcome = row["outcome"].as_str().unwrap();
        let kind = row["error"]["kind"].as_str().unwrap_or("");
        match expected[&line] {
            "promoted" => assert_eq!(outcome, "promoted", "line {line}: {row}"),
            "taken" => assert_eq!(kind, "customer_no_taken", "line {line}: {row}"),
            "duplicate" => assert!(
                kind == "already_promoted" || kind == "in_progress",
                "line {line}: {row}"
            ),
            "unknown" => assert_eq!(kind, "account_not_found", "line {line}: {row}"),
            "invalid" => assert_eq!(kind, "invalid_input", "line {line}: {row}"),
            other => panic!("{other}"),
        }
    }
    assert_eq!(doc["summary"]["promoted"], 180);

    // Exactly one ERP customer per successful row, none for the others.
    let posts = env
        .sim
        .request_log()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(
        posts, 180,
        "one POST per promoted row and none for the rest"
    );
    let numbers: Vec<String> = env
        .sim
        .customers()
        .iter()
        .map(|c| c["CustomerNumber"].as_str().unwrap().to_owned())
        .collect();
    let unique: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(unique.len(), numbers.len(), "no duplicate ERP customers");
    for i in 0..180 {
        assert!(unique.contains(&format!("N{i:04}")), "N{i:04} created");
    }
    for i in 0..5 {
        assert!(!unique.contains(&format!("D{i:04}")) && !unique.contains(&format!("U{i:04}")));
    }
    assert!(
        env.sim.max_in_flight() <= 8,
        "concurrency never exceeds the limit: saw {}",
        env.sim.max_in_flight()
    );
    assert!(
        env.sim.max_in_flight() >= 2,
        "the batch did run concurrently: saw {}",
        env.sim.max_in_flight()
    );
}
