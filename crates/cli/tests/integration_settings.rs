//! `integration add` settings at the ERP boundary (issue 18): a password typed by mistake into
//! `--url` or `--password-env` is never echoed, on stdout, stderr or in the `--json` document.
#![allow(clippy::unwrap_used)] // tests

mod support;

/// Runs `integration add` with `url` and `password_env`, with and without `--json`, and checks
/// that it is refused as a usage error without repeating `secret` anywhere.
fn refused_without_echo(url: &str, password_env: &str, secret: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm2sage.db");
    let db = db.to_string_lossy().into_owned();
    for json in [false, true] {
        let mut args = vec![];
        if json {
            args.push("--json");
        }
        args.extend_from_slice(&[
            "integration",
            "add",
            "s300",
            "--kind",
            "sage300",
            "--url",
            url,
            "--company",
            "SAMLTD",
            "--user",
            "ADMIN",
            "--password-env",
            password_env,
        ]);
        let run = support::run_bin(&args, &[("CRM2SAGE_DB", db.as_str())]);
        assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "the secret was echoed:\nstdout: {}\nstderr: {}",
            run.stdout,
            run.stderr
        );
        if json {
            let doc = run.json();
            assert!(!doc.to_string().contains(secret), "{doc}");
        } else {
            assert!(!run.stderr.is_empty(), "no diagnostic at all");
        }
    }
}

#[test]
fn a_password_in_the_url_is_refused_without_repeating_it() {
    refused_without_echo(
        "https://admin:Tr0ub4dor-pw@erp.example.com/Sage300WebApi",
        "S300_PASSWORD",
        "Tr0ub4dor-pw",
    );
    // Not even a valid URL once the credentials are there.
    refused_without_echo(
        "https://admin:Tr0ub4dor-pw@/x",
        "S300_PASSWORD",
        "Tr0ub4dor-pw",
    );
}

#[test]
fn a_password_given_as_the_variable_name_is_refused_without_repeating_it() {
    refused_without_echo(
        "https://erp.example.com/Sage300WebApi",
        "Tr0ub4dor&3",
        "Tr0ub4dor",
    );
}
