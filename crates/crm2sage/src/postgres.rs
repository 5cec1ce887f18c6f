//! The PostgreSQL store behind the facade (feature `postgres`): opening it for the builder,
//! and [`copy_sqlite_to_postgres`], which moves a SQLite store into an empty database.

use std::path::PathBuf;

use crm2sage_domain::ports::StoreError;
use crm2sage_domain::services::CopyError;
use crm2sage_domain::{ErrorClass, ErrorCode};
use crm2sage_store_postgres::{PgSettings, PgStoreError, PostgresStore, redact_url};

use crate::BuildError;

/// Rows per page of a copy: enough to keep round trips few, small enough to bound memory.
pub const COPY_PAGE: usize = 500;

/// `url`, with the password `PGPASSWORD` holds when the URL has none and the variable is set
/// (as libpq does). The result may hold a password: it is only ever handed to the driver.
fn with_env_password(url: &str) -> String {
    let Some(password) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) else {
        return url.to_owned();
    };
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_none() => {
            if parsed.set_password(Some(&password)).is_ok() {
                parsed.into()
            } else {
                url.to_owned()
            }
        }
        _ => url.to_owned(),
    }
}

/// Connects to the database at `url` (with `PGPASSWORD` when the URL has no password).
pub(crate) async fn open_postgres(
    url: &str,
    settings: PgSettings,
) -> Result<PostgresStore, BuildError> {
    PostgresStore::connect(&with_env_password(url), settings)
        .await
        .map_err(|source| BuildError::Postgres {
            url: redact_url(url),
            source,
        })
}

/// Why [`copy_sqlite_to_postgres`] failed. No text or field holds the URL's password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CopyStoreError {
    /// The SQLite file to copy from does not exist (a copy never creates it).
    #[error("the database {} does not exist", .path.display())]
    SourceMissing {
        /// The path given.
        path: PathBuf,
    },
    /// The SQLite file could not be opened (or migrated).
    #[error("cannot open the database {}: {source}", .path.display())]
    Source {
        /// The file.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The PostgreSQL database could not be connected to (or migrated).
    #[error("cannot open the PostgreSQL database: {source}")]
    Target {
        /// The URL, its password removed.
        url: String,
        /// Why.
        source: PgStoreError,
    },
    /// The copy itself failed: a non-empty target, a store error, counts that differ.
    #[error(transparent)]
    Copy(#[from] CopyError),
}

/// `database_missing` (not found) for a missing source; otherwise the code of what failed.
impl ErrorCode for CopyStoreError {
    fn code(&self) -> &'static str {
        match self {
            Self::SourceMissing { .. } => "database_missing",
            Self::Source { source, .. } => source.code(),
            Self::Target { source, .. } => source.code(),
            Self::Copy(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::SourceMissing { .. } => ErrorClass::NotFound,
            Self::Source { source, .. } => source.class(),
            Self::Target { source, .. } => source.class(),
            Self::Copy(e) => e.class(),
        }
    }
}

/// Moves the SQLite store at `from` into the empty PostgreSQL database at `to` (its schema
/// created or migrated first, `settings` choosing the pool and schema): every integration,
/// account, reference record and sync run, promotion (lease, state, error and timestamps
/// kept), binding and log entry, ids preserved, [`COPY_PAGE`] rows at a time; then the rows
/// of each section are counted on both sides and compared. The SQLite file is only read.
/// A sync still running in the file is closed as failed in the copy (its staged pages are
/// not copied).
///
/// Stop every process using either database first. A URL without a password takes the one
/// in `PGPASSWORD` when that is set; the password appears in no error.
///
/// Dropping the returned future stops the copy after the last page written: the target
/// then holds part of the copy, and a new copy into it is refused as not empty
/// ([`CopyError::TargetNotEmpty`]) until it is emptied (drop and re-create its schema).
///
/// # Errors
/// [`CopyStoreError::SourceMissing`] for a missing file; [`CopyStoreError::Source`] /
/// [`CopyStoreError::Target`] when a database cannot be opened; [`CopyStoreError::Copy`]
/// with [`CopyError::TargetNotEmpty`] (nothing written), [`CopyError::CountsDiffer`], or a
/// store's error.
#[cfg(any(feature = "sqlite", feature = "sqlite-system"))]
pub async fn copy_sqlite_to_postgres(
    from: &std::path::Path,
    to: &str,
    settings: PgSettings,
) -> Result<crm2sage_domain::services::CopyReport, CopyStoreError> {
    if !from.is_file() {
        return Err(CopyStoreError::SourceMissing {
            path: from.to_owned(),
        });
    }
    let source = {
        let path = from.to_owned();
        tokio::task::spawn_blocking(move || crm2sage_store_sqlite::SqliteStore::open(&path))
            .await
            .map_err(|e| CopyStoreError::Source {
                path: from.to_owned(),
                source: StoreError::Internal(format!("opening stopped unexpectedly: {e}")),
            })?
            .map_err(|source| CopyStoreError::Source {
                path: from.to_owned(),
                source,
            })?
    };
    let target = PostgresStore::connect(&with_env_password(to), settings)
        .await
        .map_err(|source| CopyStoreError::Target {
            url: redact_url(to),
            source,
        })?;
    let now = crm2sage_domain::Timestamp::now();
    Ok(crm2sage_domain::services::copy_store(&source, &target, COPY_PAGE, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_show_no_password() {
        let e = CopyStoreError::Target {
            url: redact_url("postgres://app:s3cret@db.example.com/crm"),
            source: PgStoreError::InvalidSettings("x".into()),
        };
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
        let missing = CopyStoreError::SourceMissing {
            path: "/nowhere/crm2sage.db".into(),
        };
        assert_eq!(
            (missing.code(), missing.class()),
            ("database_missing", ErrorClass::NotFound)
        );
    }
}
