//! `db copy`, and telling a `--db` PostgreSQL URL from a SQLite path.

use std::ffi::OsStr;
use std::path::PathBuf;

use crm2sage::CopyStoreError;
use crm2sage::{PgSettings, redact_url};
use crm2sage_domain::ports::CopySection;
use crm2sage_domain::services::CopyError;
use serde_json::{Map, Value, json};

use crate::cli::{DbCommand, DbCopyArgs};
use crate::commands::CmdResult;
use crate::failure::{ExitClass, Failure};
use crate::output::Out;

/// Where `--db` points.
pub(crate) enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (it may hold a password: never shown as it is).
    Postgres(String),
}

/// Whether `raw` is a `postgres://` or `postgresql://` URL (the scheme in any case).
pub(crate) fn is_postgres_url(raw: &str) -> bool {
    let lower = raw.get(..13).unwrap_or(raw).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

impl Database {
    /// What `--db` / `CRM2SAGE_DB` names, if given: a PostgreSQL URL, or else a file path.
    pub(crate) fn of(raw: Option<&OsStr>) -> Option<Self> {
        let raw = raw?;
        Some(match raw.to_str() {
            Some(text) if is_postgres_url(text) => Self::Postgres(text.to_owned()),
            _ => Self::Sqlite(PathBuf::from(raw)),
        })
    }
}

/// Runs a `db` command; `db` is the global `--db`, the default target of a copy.
pub(crate) async fn run(out: Out, command: DbCommand, db: Option<&OsStr>) -> CmdResult {
    match command {
        DbCommand::Copy(args) => copy(out, args, db).await,
    }
}

async fn copy(out: Out, args: DbCopyArgs, db: Option<&OsStr>) -> CmdResult {
    let to = match (args.to, Database::of(db)) {
        (Some(url), _) if is_postgres_url(&url) => url,
        (Some(_), _) => {
            return Err(Failure::invalid(
                "to",
                "give a postgres:// or postgresql:// URL to copy into",
            ));
        }
        (None, Some(Database::Postgres(url))) => url,
        (None, _) => {
            return Err(Failure::invalid(
                "to",
                "give the PostgreSQL URL to copy into with --to, or as --db / CRM2SAGE_DB",
            ));
        }
    };
    let shown = redact_url(&to);
    out.note(format!("copying {} into {shown} ...", args.from.display()));
    let report = crm2sage::copy_sqlite_to_postgres(&args.from, &to, PgSettings::default())
        .await
        .map_err(|e| failure(&e))?;
    let mut counts = Map::new();
    for (section, n) in report.counts.iter() {
        counts.insert(section.as_str().to_owned(), json!(n));
    }
    if out.json {
        out.json(&json!({
            "from": args.from.display().to_string(),
            "to": shown,
            "counts": Value::Object(counts),
            "total": report.counts.total(),
            "closed_syncs": report.closed_syncs,
            "verified": true,
        }));
        return Ok(ExitClass::Ok);
    }
    out.table(
        &["table", "rows"],
        report
            .counts
            .iter()
            .map(|(s, n)| vec![s.as_str().to_owned(), n.to_string()])
            .collect(),
    );
    if report.closed_syncs > 0 {
        out.line(format!(
            "{} sync run(s) still running in the file were closed as failed in the copy; \
             run `crm2sage sync` again",
            report.closed_syncs
        ));
    }
    out.line(format!(
        "copied {} rows from {} into {shown}; every table's count matches",
        report.counts.total(),
        args.from.display()
    ));
    Ok(ExitClass::Ok)
}

/// The CLI's failure for a copy error, with what to do next.
fn failure(e: &CopyStoreError) -> Failure {
    match e {
        CopyStoreError::SourceMissing { .. } => {
            Failure::of(e, Some("give the SQLite file with --from".to_owned()))
        }
        CopyStoreError::Copy(CopyError::TargetNotEmpty { counts }) => Failure::of(
            e,
            Some(
                "copy into a new database or schema, or empty this one (an interrupted copy \
                 leaves rows behind)"
                    .to_owned(),
            ),
        )
        .with_details(json!({ "target_counts": counts_json(counts.iter()) })),
        CopyStoreError::Copy(CopyError::CountsDiffer {
            section,
            source_rows,
            target_rows,
        }) => Failure::of(
            e,
            Some(
                "stop every crm2sage process using either database, empty the target and copy \
                 again"
                    .to_owned(),
            ),
        )
        .with_details(json!({
            "table": section.as_str(),
            "source_rows": source_rows,
            "target_rows": target_rows,
        })),
        _ => Failure::of(e, None),
    }
}

fn counts_json(counts: impl Iterator<Item = (CopySection, u64)>) -> Value {
    Value::Object(
        counts
            .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_told_from_a_path() {
        for url in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db",
            "POSTGRES://h/db",
        ] {
            assert!(is_postgres_url(url), "{url}");
            assert!(matches!(
                Database::of(Some(OsStr::new(url))),
                Some(Database::Postgres(_))
            ));
        }
        for path in [
            "crm2sage.db",
            "/var/lib/postgres/crm2sage.db",
            "postgres",
            "p",
        ] {
            assert!(!is_postgres_url(path), "{path}");
            assert!(matches!(
                Database::of(Some(OsStr::new(path))),
                Some(Database::Sqlite(_))
            ));
        }
        assert!(Database::of(None).is_none());
    }
}
