//! Architecture invariants, checked by `cargo test` (docs/architecture.md, "Invariants").
//!
//! Everything is read from the tree at run time — the files on disk and `cargo metadata` — so
//! a file added under `crates/*/src` is checked before any module declares it, and a
//! dependency added to a manifest is checked before any code uses it.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Crates the pure core must not depend on, directly or through another dependency.
const FORBIDDEN_IN_DOMAIN: &[&str] = &[
    "reqwest",
    "rusqlite",
    "tokio",
    "axum",
    "hyper",
    "quick-xml",
    "tokio-postgres",
    "sqlx",
];

/// The only direct normal dependencies the domain may have (docs/architecture.md,
/// "Architecture invariants"): pure crates, no I/O. `rust_decimal` (without its serde feature)
/// is the exact money of the customer panel.
const ALLOWED_IN_DOMAIN: &[&str] = &[
    "async-trait",
    "thiserror",
    "secrecy",
    "jiff",
    "uuid",
    "url",
    "isocountry",
    "email_address",
    "pem",
    "rust_decimal",
    "unicode-normalization",
    "futures-util",
    "mockall",
];

/// Property names of the Sage wire formats, as the adapter's wire structs and queries spell
/// them. Only names that cannot be anything else: no `City`, `Terms`, `CurrencyCode`, whose
/// spelling the core may share. Matched as string literals (`"CustomerNo"`), so the core's
/// Rust types of the same spelling (`CustomerNo`) are not flagged.
const SAGE_PROPERTIES: &[&str] = &[
    // Sage 300 (Web API)
    "CustomerNumber",
    "CustomerName",
    "ShortName",
    "GroupCode",
    "AddressLine1",
    "AddressLine2",
    "AddressLine3",
    "AddressLine4",
    "StateProvince",
    "ZipPostalCode",
    "PhoneNumber",
    "WebSite",
    "CheckLanguage",
    "InactiveDate",
    "CustomerOptionalFieldValues",
    "OptionalField",
    // Sage 100 (SData)
    "AR_Customer",
    "AR_Division",
    "AR_TermsCode",
    "SO_ShipMethod",
    "ARDivisionNo",
    "CustomerNo",
    "SalespersonNo",
    "SalespersonDivisionNo",
    "TelephoneNo",
    "EmailAddress",
    "ZipCode",
    "TermsCode",
    "TaxSchedule",
    "URLAddress",
];

/// The longest a production source file may be.
const MAX_LINES: usize = 800;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `crates/<name>/src` of every crate in the tree.
fn crate_sources() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src").is_dir())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, p.join("src"))
        })
        .collect();
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `cargo metadata` of the workspace, as JSON.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The normal (not dev, not build) dependencies of `package`: its manifest's, then, through
/// the resolved graph, theirs. Each with the path that reaches it.
fn normal_dependencies(meta: &Value, package: &str) -> Vec<(String, String)> {
    let packages = meta["packages"].as_array().unwrap();
    let pkg = packages
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("{package} is not in cargo metadata"));
    let mut found: Vec<(String, String)> = pkg["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"].is_null())
        .map(|d| {
            let name = d["name"].as_str().unwrap().to_owned();
            (name.clone(), format!("{package} → {name} (manifest)"))
        })
        .collect();
    // The resolved graph: follow normal edges from the package.
    let nodes = meta["resolve"]["nodes"].as_array().unwrap();
    let name_of = |id: &str| -> String {
        packages
            .iter()
            .find(|p| p["id"] == id)
            .and_then(|p| p["name"].as_str())
            .unwrap_or(id)
            .to_owned()
    };
    let start = pkg["id"].as_str().unwrap().to_owned();
    let mut seen = vec![start.clone()];
    let mut todo = vec![(start, package.to_owned())];
    while let Some((id, via)) = todo.pop() {
        let Some(node) = nodes.iter().find(|n| n["id"] == id.as_str()) else {
            continue;
        };
        for dep in node["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap().to_owned();
            if normal && !seen.contains(&dep_id) {
                seen.push(dep_id.clone());
                let path = format!("{via} → {}", name_of(&dep_id));
                found.push((name_of(&dep_id), path.clone()));
                todo.push((dep_id, path));
            }
        }
    }
    found
}

#[test]
fn the_domain_depends_on_no_http_sql_xml_or_async_runtime_crate() {
    let meta = metadata();
    let bad: Vec<String> = normal_dependencies(&meta, "crm2sage-domain")
        .into_iter()
        .filter(|(name, _)| FORBIDDEN_IN_DOMAIN.contains(&name.as_str()))
        .map(|(_, path)| path)
        .collect();
    assert!(
        bad.is_empty(),
        "crm2sage-domain must stay free of I/O crates (docs/architecture.md); found:\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn the_domain_lists_only_allowed_direct_dependencies() {
    let meta = metadata();
    let direct: Vec<String> = normal_dependencies(&meta, "crm2sage-domain")
        .into_iter()
        .filter(|(_, path)| path.ends_with("(manifest)"))
        .map(|(name, _)| name)
        .filter(|name| !ALLOWED_IN_DOMAIN.contains(&name.as_str()))
        .collect();
    assert!(
        direct.is_empty(),
        "crm2sage-domain depends on crates outside its allowed list (docs/architecture.md): {direct:?}"
    );
}

#[test]
fn sage_property_names_live_only_in_the_adapter_and_the_simulator() {
    let root = root();
    let mut files = rust_files(&root.join("crates/domain"));
    files.extend(rust_files(&root.join("crates/cli/src")));
    files.extend(rust_files(&root.join("crates/store-sqlite/src")));
    files.extend(rust_files(&root.join("crates/store-postgres/src")));
    files.extend(rust_files(&root.join("crates/crm2sage")));
    files.extend(rust_files(&root.join("crates/host/src")));
    assert!(
        !files.is_empty(),
        "no sources found under {}",
        root.display()
    );
    let mut bad = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for name in SAGE_PROPERTIES {
                if line.contains(&format!("\"{name}\"")) {
                    bad.push(format!("{}:{}: \"{name}\"", relative(file), n + 1));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "Sage property names belong to crates/sage-adapter and crates/sage-simulator; \
         found {}:\n  {}",
        bad.len(),
        bad.join("\n  ")
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut bad = Vec::new();
    let mut checked = 0;
    for (_, src) in crate_sources() {
        for file in rust_files(&src) {
            checked += 1;
            let lines = fs::read_to_string(&file).unwrap().lines().count();
            if lines > MAX_LINES {
                bad.push(format!("{}: {lines} lines", relative(&file)));
            }
        }
    }
    assert!(checked > 0, "no sources found");
    assert!(
        bad.is_empty(),
        "split these along their seams (at most {MAX_LINES} lines each):\n  {}",
        bad.join("\n  ")
    );
}

/// The part of a source file that is production code: everything before its first
/// `#[cfg(test)]` (test modules sit at the end), nothing of a file that is a test module.
fn production_part(file: &Path, text: &str) -> String {
    let is_test_file = file.file_stem().is_some_and(|s| s == "tests")
        || file.components().any(|c| c.as_os_str() == "tests");
    if is_test_file {
        return String::new();
    }
    text.lines()
        .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_todo_or_unimplemented_outside_tests() {
    let mut bad = Vec::new();
    for (_, src) in crate_sources() {
        for file in rust_files(&src) {
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in production_part(&file, &text).lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if code.contains("todo!(") || code.contains("unimplemented!(") {
                    bad.push(format!("{}:{}: {}", relative(&file), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "stubs in production code:\n  {}",
        bad.join("\n  ")
    );
}

/// `1.89.0`, `1.89` → `(1, 89, 0)`; `None` for anything else.
fn version_triple(raw: &str) -> Option<(u64, u64, u64)> {
    let mut parts = raw.split('.').map(str::parse::<u64>);
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

#[test]
fn the_workspace_rust_version_is_at_least_every_dependency_s() {
    let meta = metadata();
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = meta["packages"].as_array().unwrap();
    let mut declared = Vec::new();
    let mut needed: Option<((u64, u64, u64), String)> = None;
    for p in packages {
        let Some(raw) = p["rust_version"].as_str() else {
            continue;
        };
        let version = version_triple(raw).unwrap();
        let name = p["name"].as_str().unwrap().to_owned();
        if members.contains(&p["id"].as_str().unwrap()) {
            declared.push((version, name));
        } else if needed.as_ref().is_none_or(|(v, _)| version > *v) {
            needed = Some((version, format!("{name} {}", p["version"])));
        }
    }
    assert!(
        !declared.is_empty(),
        "no workspace member declares rust-version"
    );
    let (need, by) = needed.unwrap();
    let low: Vec<_> = declared.iter().filter(|(v, _)| *v < need).collect();
    assert!(
        low.is_empty(),
        "{by} needs Rust {}.{}.{}, but these members declare less: {low:?}; raise \
         `rust-version` in the workspace Cargo.toml",
        need.0,
        need.1,
        need.2
    );
}

/// The library crates: what an embedding service links, whose texts it shows its own users.
const LIBRARY_CRATES: &[&str] = &["domain", "sage-adapter", "store-sqlite", "store-postgres"];

/// Whether a line of code holds a string literal naming a CLI flag (`--customer-no`), a CLI
/// command (`` `crm2sage sync` ``) or a shell instruction (`export NAME=`).
fn names_the_cli(code: &str) -> Option<&'static str> {
    let mut literal = false;
    let bytes = code.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' && (i == 0 || bytes[i - 1] != b'\\') {
            literal = !literal;
            continue;
        }
        if !literal {
            continue;
        }
        let rest = &code[i..];
        let before = if i == 0 { b' ' } else { bytes[i - 1] };
        if rest.starts_with("--")
            && rest[2..].starts_with(|c: char| c.is_ascii_lowercase())
            && matches!(before, b' ' | b'(' | b'`' | b'"')
        {
            return Some("a flag");
        }
        if rest.starts_with("`crm2sage ") {
            return Some("a command");
        }
        if rest.starts_with("export ") {
            return Some("a shell export");
        }
    }
    None
}

#[test]
fn library_error_texts_name_no_cli_flag_or_command() {
    let mut bad = Vec::new();
    for (name, src) in crate_sources() {
        if !LIBRARY_CRATES.contains(&name.as_str()) {
            continue;
        }
        for file in rust_files(&src) {
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in production_part(&file, &text).lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                if let Some(what) = names_the_cli(line) {
                    bad.push(format!(
                        "{}:{}: {what}: {}",
                        relative(&file),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "library texts must say what happened, not which CLI flag or command to use (the CLI \
         adds that in crates/cli/src/failure.rs):\n  {}",
        bad.join("\n  ")
    );
}
