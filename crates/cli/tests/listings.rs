//! The streaming listings through the binary: `account list`, `integration list` and `log` read
//! page by page, take `--limit N` and `--after ID`, and write the JSON documents docs/cli.md
//! shows (byte for byte the pretty array they always were).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crm2sage_sage_simulator::Sage300Config;
use serde_json::Value;
use support::Env;

/// More accounts than one page of the listing (1,000), so the listing streams several.
const ACCOUNTS: usize = 2_345;

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn ids(doc: &Value, key: &str) -> Vec<String> {
    doc.as_array()
        .unwrap()
        .iter()
        .map(|a| a[key].as_str().unwrap().to_owned())
        .collect()
}

/// The `--after` a listing cut short names on stderr.
fn after_note(stderr: &str) -> Option<String> {
    let start = stderr.find("--after ")? + "--after ".len();
    let rest = &stderr[start..];
    Some(rest[..rest.find('`')?].to_owned())
}

/// `--json` output is one pretty-printed document, exactly as serde_json prints it whole.
fn assert_whole_document(stdout: &str) -> Value {
    let doc: Value = serde_json::from_str(stdout).unwrap();
    assert_eq!(
        stdout,
        serde_json::to_string_pretty(&doc).unwrap() + "\n",
        "the streamed array is the document printed whole"
    );
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_list_streams_every_account_and_pages_with_limit_and_after() {
    let env = Env::start(Sage300Config::default()).await;
    let mut csv = String::from("reference,name,line1,city,country\n");
    for n in 0..ACCOUNTS {
        writeln!(csv, "R{n},Account {n},{n} Main St,Town,US").unwrap();
    }
    let file = env.dir.path().join("accounts.csv");
    std::fs::write(&file, csv).unwrap();
    env.ok(&["account", "import", file.to_str().unwrap()]);

    let whole = env.run(&["--json", "account", "list"]);
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    let doc = assert_whole_document(&whole.stdout);
    assert_eq!(after_note(&whole.stderr), None, "no note without --limit");
    let all = ids(&doc, "id");
    assert_eq!(all.len(), ACCOUNTS, "every account, across pages");
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "by id, each once");
    let documented: BTreeSet<&str> = [
        "id",
        "reference",
        "name",
        "billing",
        "shipping",
        "phone",
        "email",
        "website",
        "currency",
        "language",
        "terms",
        "created_at",
        "updated_at",
    ]
    .into();
    for account in doc.as_array().unwrap() {
        assert_eq!(keys(account), documented, "the shape docs/cli.md shows");
    }
    let references: BTreeSet<&str> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["reference"].as_str().unwrap())
        .collect();
    assert_eq!(references.len(), ACCOUNTS);

    // --limit: the first N, and a note naming the --after that continues.
    let first = env.run(&["--json", "account", "list", "--limit", "1500"]);
    assert_eq!(first.code, 0);
    let first_doc = assert_whole_document(&first.stdout);
    assert_eq!(ids(&first_doc, "id"), all[..1500]);
    assert_eq!(first_doc.as_array().unwrap()[0], doc.as_array().unwrap()[0]);
    let next = after_note(&first.stderr).unwrap();
    assert_eq!(next, all[1499]);

    // --after continues exactly there; the rest has no note.
    let rest = env.run(&["--json", "account", "list", "--after", &next]);
    assert_eq!(rest.code, 0);
    assert_eq!(ids(&assert_whole_document(&rest.stdout), "id"), all[1500..]);
    assert_eq!(after_note(&rest.stderr), None);
    let two = env.ok(&["account", "list", "--after", &all[9], "--limit", "2"]);
    assert_eq!(ids(&two, "id"), all[10..12]);

    // A limit that ends at the last account: nothing follows, no note.
    let exact = ACCOUNTS.to_string();
    let run = env.run(&["--json", "account", "list", "--limit", &exact]);
    assert_eq!(ids(&run.json(), "id").len(), ACCOUNTS);
    assert_eq!(after_note(&run.stderr), None);

    // After the last: an empty array.
    let none = env.run(&["--json", "account", "list", "--after", &all[ACCOUNTS - 1]]);
    assert_eq!(none.stdout, "[]\n");
    assert_eq!(
        env.ok(&["account", "list", "--promoted"]),
        Value::Array(vec![])
    );
    assert_eq!(
        ids(
            &env.ok(&["account", "list", "--pending", "--limit", "3"]),
            "id"
        ),
        all[..3]
    );

    // People get a table; a bad id or limit is refused.
    let text = env.text(&["account", "list", "--limit", "2"]);
    assert!(text.contains(&all[0]) && text.contains(&all[1]), "{text}");
    assert!(!text.contains(&all[2]), "{text}");
    let bad = env.run(&["--json", "account", "list", "--after", "nope"]);
    assert_eq!(bad.code, 3, "{}", bad.stdout);
    assert_eq!(env.run(&["account", "list", "--limit", "0"]).code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_list_and_log_page_with_limit_and_after() {
    let env = Env::start(Sage300Config::default()).await;
    env.setup_sage300(&[]);
    for name in ["zulu", "alpha", "mike"] {
        let url = env.url();
        env.ok(&[
            "integration",
            "add",
            name,
            "--kind",
            "sage300",
            "--url",
            &url,
            "--company",
            "SAMLTD",
            "--user",
            "ADMIN",
            "--password-env",
            "S300_PASSWORD",
        ]);
    }
    let whole = env.run(&["--json", "integration", "list"]);
    let doc = assert_whole_document(&whole.stdout);
    assert_eq!(ids(&doc, "name"), ["alpha", "mike", "s300", "zulu"]);
    let shown = env.ok(&["integration", "show", "mike"]);
    assert_eq!(
        doc[1], shown,
        "a listed integration is the one `show` shows"
    );
    let first = env.run(&["--json", "integration", "list", "--limit", "2"]);
    assert_eq!(ids(&first.json(), "name"), ["alpha", "mike"]);
    assert_eq!(after_note(&first.stderr).as_deref(), Some("mike"));
    let rest = env.ok(&["integration", "list", "--after", "mike"]);
    assert_eq!(ids(&rest, "name"), ["s300", "zulu"]);
    let between = env.ok(&["integration", "list", "--after", "n", "--limit", "1"]);
    assert_eq!(
        ids(&between, "name"),
        ["s300"],
        "a name not stored is a keyset"
    );
    let text = env.text(&["integration", "list", "--limit", "1"]);
    assert!(text.contains("alpha") && !text.contains("zulu"), "{text}");

    // Two promotions: an intent and a promoted entry each.
    let a = env.new_account("Log A");
    let b = env.new_account("Log B");
    for (id, number) in [(&a, "LOGA"), (&b, "LOGB")] {
        env.ok(&[
            "promote",
            id,
            "--customer-no",
            number,
            "--category",
            "RTL",
            "--tax-group",
            "CALIF",
        ]);
    }
    let log = env.run(&["--json", "log"]);
    let log = assert_whole_document(&log.stdout);
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 4, "{log:#}");
    let documented: BTreeSet<&str> = [
        "at",
        "account_id",
        "integration",
        "promotion_id",
        "event",
        "request",
        "message",
        "duration_ms",
    ]
    .into();
    for e in entries {
        assert_eq!(keys(e), documented, "the shape docs/cli.md shows");
    }
    assert_eq!(entries[1]["integration"], "s300");

    let first = env.run(&["--json", "log", "--limit", "3"]);
    assert_eq!(first.json().as_array().unwrap()[..], entries[..3]);
    let after = after_note(&first.stderr).unwrap();
    let rest = env.ok(&["log", "--after", &after]);
    assert_eq!(rest.as_array().unwrap()[..], entries[3..]);
    assert_eq!(env.ok(&["log", "--after", "999999"]), Value::Array(vec![]));

    // One account's log pages by the same positions.
    let of_b = env.ok(&["log", &b]);
    assert_eq!(of_b.as_array().unwrap()[..], entries[2..]);
    let one = env.run(&["--json", "log", &b, "--limit", "1"]);
    assert_eq!(one.json().as_array().unwrap()[..], entries[2..3]);
    let at = after_note(&one.stderr).unwrap();
    assert_eq!(
        env.ok(&["log", &b, "--after", &at]).as_array().unwrap()[..],
        entries[3..]
    );
    // The table shows the positions --after takes.
    let text = env.text(&["log", &b]);
    assert!(text.contains('#'), "{text}");
    assert!(text.contains(&format!(" {at} ")), "{text}");
}
