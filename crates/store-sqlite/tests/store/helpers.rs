//! Shared helpers: temporary databases and raw access to the file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crm2sage_store_sqlite::SqliteStore;
use tempfile::TempDir;

/// A temporary directory holding any number of databases; removed when dropped.
pub(crate) struct Scratch {
    dir: TempDir,
    next: AtomicUsize,
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
            next: AtomicUsize::new(0),
        }
    }

    /// A fresh, not yet existing database path.
    pub(crate) fn path(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("db-{n}/crm2sage.db"))
    }

    /// A store on a fresh file.
    pub(crate) fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.path()).expect("a fresh store opens")
    }
}

/// A raw connection, bypassing the store (to inspect or damage the file).
pub(crate) fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("a raw connection")
}

/// Every byte the database keeps on disk: the file, its WAL and shared memory.
pub(crate) fn all_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(b) = std::fs::read(PathBuf::from(p)) {
            bytes.extend(b);
        }
    }
    bytes
}

pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
