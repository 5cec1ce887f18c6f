//! `account import` as a stream (issue 19 items 1 and 5): line numbers right for CRLF files and
//! quoted newlines, a BOM accepted, header and over-long records refused with the line named,
//! an invalid UTF-8 row rejected alone, re-import safe, `--report` and the incremental `--json`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::fmt::Write as _;

use serde_json::Value;
use support::{Env, sim_config};

const HEADER: &str = "reference,name,line1,city,country";

fn write(env: &Env, name: &str, bytes: &[u8]) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

fn rows(doc: &Value) -> &Vec<Value> {
    doc["rows"].as_array().unwrap()
}

fn lines(doc: &Value) -> Vec<u64> {
    rows(doc)
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect()
}

fn accounts(env: &Env) -> usize {
    env.ok(&["account", "list"]).as_array().unwrap().len()
}

/// `n` good rows `{prefix}{i}`, one per line, after the header.
fn good_rows(prefix: &str, n: usize) -> String {
    let mut csv = format!("{HEADER}\n");
    for i in 0..n {
        writeln!(
            csv,
            "{prefix}{i:05},Account {prefix}{i},{i} Main St,Town,US"
        )
        .unwrap();
    }
    csv
}

#[tokio::test]
async fn crlf_quoted_newlines_blank_lines_and_a_bom_keep_the_line_numbers_right() {
    let env = Env::start(sim_config()).await;
    let file = write(
        &env,
        "crlf.csv",
        "\u{feff}Reference,Name,Line1,City,Country\r\n\
         R1,One,1 Main St,Town,US\r\n\
         R2,\"Two\r\nLines\",2 Main St,Town,US\r\n\
         R3,Three,3 Main St,Town,XX\r\n\
         \r\n\
         R4,Four,4 Main St,Town,US\r\n\
         R5,\"Five, Inc.\",5 Main St,Town,US"
            .as_bytes(),
    );
    let run = env.run(&["--json", "account", "import", &file]);
    let doc = run.json();
    assert_eq!(
        run.code, 3,
        "a rejected row makes it exit 3: {}",
        run.stdout
    );
    assert_eq!(
        lines(&doc),
        [2, 3, 5, 7, 8],
        "each row's line is where its record starts: {}",
        run.stdout
    );
    let r3 = &rows(&doc)[2];
    assert_eq!(r3["reference"], "R3");
    assert_eq!(r3["outcome"], "rejected");
    assert_eq!(r3["errors"][0]["field"], "billing.country");
    assert_eq!(rows(&doc)[4]["outcome"], "created", "{}", run.stdout);
    assert_eq!(
        rows(&doc)[1]["reference"],
        "R2",
        "the BOM'd header still names reference"
    );
    let stored = doc["imported"].as_u64().unwrap();
    assert_eq!(stored + doc["rejected"].as_u64().unwrap(), 5);
    assert_eq!(accounts(&env) as u64, stored);

    // The same lines for people: a rejected row is printed with its line as it is found.
    let run = env.run(&["account", "import", &file]);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("line 5 (R3): rejected: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .last()
            .unwrap()
            .contains("5 rows: 0 created"),
        "a summary, not a table: {}",
        run.stdout
    );
}

fn csv_error(env: &Env, name: &str, bytes: &[u8]) -> Value {
    let file = write(env, name, bytes);
    let run = env.run(&["--json", "account", "import", &file]);
    assert_eq!(run.code, 3, "{name}: {}", run.stdout);
    let error = run.json()["error"].clone();
    assert_eq!(error["kind"], "invalid_csv", "{name}: {error}");
    assert!(
        error["message"].as_str().unwrap().contains(name),
        "the message names the file: {error}"
    );
    error
}

#[tokio::test]
async fn a_duplicated_or_unknown_column_and_an_over_long_record_are_typed_errors_naming_the_line() {
    let env = Env::start(sim_config()).await;
    let error = csv_error(
        &env,
        "dup.csv",
        b"reference,name,line1,city,country,NAME\nR1,A,1 Rd,Town,US,B\n",
    );
    assert_eq!(error["details"]["problem"], "duplicate_column");
    assert_eq!(error["details"]["line"], 1);
    assert!(error["message"].as_str().unwrap().contains("name twice"));

    let error = csv_error(&env, "unknown.csv", b"reference,nom,line1,city,country\n");
    assert_eq!(error["details"]["problem"], "unknown_column");
    assert_eq!(error["details"]["line"], 1);

    let error = csv_error(&env, "missing.csv", b"reference,line1,city,country\n");
    assert_eq!(error["details"]["problem"], "missing_column");

    // A 2 MiB record on line 3 (no newline in it): refused, bounded, naming line 3.
    let mut long = format!("{HEADER}\nR1,One,1 Main St,Town,US\nR2,").into_bytes();
    long.extend(std::iter::repeat_n(b'x', 2 << 20));
    let error = csv_error(&env, "long.csv", &long);
    assert_eq!(error["details"]["problem"], "line_too_long", "{error}");
    assert_eq!(error["details"]["line"], 3, "{error}");

    // A file that is one endless record: the header's line.
    let mut zeros = vec![0u8; 3 << 20];
    zeros[..5].copy_from_slice(b"name,");
    let error = csv_error(&env, "zeros.csv", &zeros);
    assert_eq!(error["details"]["problem"], "line_too_long");
    assert_eq!(error["details"]["line"], 1);
    if std::path::Path::new("/dev/zero").exists() {
        let run = env.run(&["--json", "account", "import", "/dev/zero"]);
        assert_eq!(run.code, 3, "{}", run.stdout);
        assert_eq!(run.json()["error"]["details"]["problem"], "line_too_long");
    }

    // Bad quoting stops the import at its line.
    let error = csv_error(
        &env,
        "cells.csv",
        format!("{HEADER}\nR1,One,1 Main St,Town,US\nR2,Two,Town,US\n").as_bytes(),
    );
    assert_eq!(error["details"]["problem"], "malformed");
    assert_eq!(error["details"]["line"], 3);
    assert!(error["message"].as_str().unwrap().contains("malformed CSV"));
}

#[tokio::test]
async fn an_invalid_utf8_row_is_rejected_with_its_line_and_the_import_goes_on() {
    let env = Env::start(sim_config()).await;
    let mut bytes = format!("{HEADER}\nR1,One,1 Main St,Town,US\nR2,T").into_bytes();
    bytes.extend_from_slice(b"\xffwo,2 Main St,Town,US\nR3,Three,3 Main St,Town,US\n");
    let file = write(&env, "latin1.csv", &bytes);
    let run = env.run(&["--json", "account", "import", &file]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(lines(&doc), [2, 3, 4]);
    let bad = &rows(&doc)[1];
    assert_eq!(bad["outcome"], "rejected");
    assert_eq!(bad["reference"], "R2", "the readable reference is kept");
    assert_eq!(bad["errors"][0]["field"], "name");
    assert!(bad["errors"][0]["rule"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(doc["imported"], 2);
    assert_eq!(accounts(&env), 2);
}

#[tokio::test]
async fn importing_again_is_safe_unchanged_rows_stay_and_changed_ones_are_updated() {
    let env = Env::start(sim_config()).await;
    // More than one chunk (1,000 rows) so chunk boundaries are crossed.
    let n = 2_345;
    let text = good_rows("A", n);
    let file = write(&env, "accounts.csv", text.as_bytes());
    let first = env.ok(&["account", "import", &file]);
    assert_eq!(first["created"], n);
    assert_eq!(first["imported"], n);
    assert_eq!(rows(&first).len(), n);

    let again = env.ok(&["account", "import", &file]);
    assert_eq!(again["created"], 0);
    assert_eq!(again["unchanged"], n);
    let same_ids = rows(&first)
        .iter()
        .zip(rows(&again))
        .all(|(a, b)| a["id"] == b["id"] && b["outcome"] == "unchanged");
    assert!(same_ids, "the same accounts, unchanged");

    // Two rows changed, one row new, one reference twice (the later row wins).
    let changed = text
        .replace("A00007,Account A7,", "A00007,Account A7 Renamed,")
        .replace(
            "A02000,Account A2000,2000 Main St",
            "A02000,Account A2000,1 New Rd",
        )
        + "NEW1,New One,9 Rd,Town,CA\nA00001,Account A1 Again,1 Main St,Town,US\n";
    let file = write(&env, "changed.csv", changed.as_bytes());
    let third = env.ok(&["account", "import", &file]);
    assert_eq!(third["created"], 1);
    assert_eq!(third["updated"], 3, "{}", third["updated"]);
    assert_eq!(third["unchanged"], n - 2);
    assert_eq!(third["rejected"], 0);
    assert_eq!(rows(&third)[7]["outcome"], "updated");
    assert_eq!(rows(&third)[7]["id"], rows(&first)[7]["id"]);
    assert_eq!(accounts(&env), n + 1, "never duplicated");
    let a1 = env
        .ok(&["account", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["reference"] == "A00001")
        .unwrap()["name"]
        .clone();
    assert_eq!(a1, "Account A1 Again");
}

#[tokio::test]
async fn a_malformed_row_midway_stops_the_import_and_the_json_document_ends_with_the_error() {
    let env = Env::start(sim_config()).await;
    let text = good_rows("M", 1_500) + "M9,Bad,\"unterminated\n";
    let file = write(&env, "midway.csv", text.as_bytes());
    let run = env.run(&["--json", "account", "import", &file]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "invalid_csv");
    assert_eq!(doc["error"]["details"]["line"], 1_502);
    assert_eq!(doc["exit_code"], 3);
    assert_eq!(rows(&doc).len(), 1_500, "every row before it was reported");
    assert_eq!(doc["created"], 1_500);
    assert_eq!(accounts(&env), 1_500, "and saved");
    // Run again (after fixing nothing): the same rows are unchanged, the same error.
    let run = env.run(&["account", "import", &file]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("line 1502"), "{}", run.stderr);
    assert!(run.stdout.contains("1500 unchanged"), "{}", run.stdout);
    assert_eq!(accounts(&env), 1_500);
}

#[tokio::test]
async fn report_files_have_one_line_per_row_as_csv_or_json_lines() {
    let env = Env::start(sim_config()).await;
    let file = write(
        &env,
        "accounts.csv",
        format!("{HEADER}\nR1,One,1 Main St,Town,US\nR2,,2 Main St,Town,US\nR3,Three,3 Main St,Town,US\n")
            .as_bytes(),
    );
    let csv_report = env.dir.path().join("report.csv");
    let run = env.run(&[
        "account",
        "import",
        &file,
        "--report",
        &csv_report.to_string_lossy(),
    ]);
    assert_eq!(run.code, 3);
    let text = std::fs::read_to_string(&csv_report).unwrap();
    let report: Vec<&str> = text.lines().collect();
    assert_eq!(report.len(), 4, "a header and one line per row: {text}");
    assert_eq!(report[0], "line,reference,outcome,error_kind,message");
    assert_eq!(report[1], "2,R1,created,,");
    assert!(
        report[2].starts_with("3,R2,rejected,invalid_input,") && report[2].contains("name"),
        "{}",
        report[2]
    );
    assert_eq!(report[3], "4,R3,created,,");

    for name in ["report.jsonl", "report.NDJSON"] {
        let path = env.dir.path().join(name);
        let run = env.run(&[
            "--json",
            "account",
            "import",
            &file,
            "--report",
            &path.to_string_lossy(),
        ]);
        assert_eq!(run.code, 3);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["line"], 2);
        assert_eq!(lines[0]["reference"], "R1");
        assert_eq!(lines[0]["outcome"], "unchanged");
        assert_eq!(lines[0]["error_kind"], Value::Null);
        assert_eq!(lines[1]["outcome"], "rejected");
        assert_eq!(lines[1]["error_kind"], "invalid_input");
        assert!(lines[1]["message"].as_str().unwrap().contains("name"));
    }

    let run = env.run(&["account", "import", &file, "--report", "out.json"]);
    assert_eq!(
        run.code, 2,
        "another extension is a usage error: {}",
        run.stderr
    );
    assert!(run.stderr.contains(".jsonl"), "{}", run.stderr);
}

#[tokio::test]
async fn the_json_document_is_the_documented_shape() {
    let env = Env::start(sim_config()).await;
    let file = write(
        &env,
        "accounts.csv",
        format!(
            "{HEADER}\nR1,One,1 Main St,Town,US\nR2,Two,2 Main St,Town,XX\n,Three,3 Rd,Town,CA\n"
        )
        .as_bytes(),
    );
    let run = env.run(&["--json", "account", "import", &file]);
    assert_eq!(run.code, 3);
    let doc = run.json();
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "rows",
            "imported",
            "created",
            "updated",
            "unchanged",
            "rejected",
            "exit_code"
        ]
    );
    assert_eq!(doc["imported"], 2);
    assert_eq!(doc["rejected"], 1);
    assert_eq!(doc["exit_code"], 3);
    let row = &rows(&doc)[0];
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["line", "id", "reference", "outcome", "errors"]);
    assert_eq!(row["errors"], serde_json::json!([]));
    assert!(row["id"].as_str().unwrap().len() > 30);
    assert_eq!(rows(&doc)[1]["id"], Value::Null);
    assert_eq!(
        rows(&doc)[2]["reference"],
        Value::Null,
        "a row without a reference"
    );
    assert_eq!(rows(&doc)[2]["outcome"], "created");
}
