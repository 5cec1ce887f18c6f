//! The writer thread: every write runs on one thread that owns the writer connection, and
//! writes that queue up while it is busy share one durable commit (group commit).
//!
//! Why a thread of its own rather than `spawn_blocking` and a mutex: with writes arriving from
//! many tasks at once, each one used to wake a blocking-pool thread that then queued on the
//! connection's mutex, and each paid its own fsync. Here a write is a message; the thread
//! drains whatever has queued, runs each closure in its own `SAVEPOINT` inside one
//! `BEGIN IMMEDIATE … COMMIT`, and answers every caller only after that `COMMIT` — so a
//! caller still learns of success only once its write is durable (`synchronous=FULL`), but C
//! concurrent writers cost one fsync instead of C.
//!
//! Isolation between the writes of a group:
//! - a closure that fails rolls back to its own savepoint (the `Savepoint` guard that
//!   [`write_tx`](crate::db::write_tx) hands out is dropped uncommitted); the others are kept;
//! - a closure that panics is answered with [`StoreError::Internal`] and rolled back the same
//!   way; the thread carries on;
//! - an error that makes SQLite roll back the *whole* transaction (I/O error, disk full) undoes
//!   every earlier write of the group: each of them is answered with an error, never with
//!   success, and the group starts a fresh transaction for the writes after it;
//! - a failed `BEGIN` (another process held the lock past the busy timeout) or `COMMIT`
//!   answers every write of the group with that error, and nothing of the group is written.
//!
//! WAL checkpoints are taken off the commit path: the writer connection's automatic
//! checkpoint is off, and once the log has passed [`CHECKPOINT_PAGES`] the thread asks a
//! checkpointer thread of its own (another connection to the file) for a `PASSIVE`
//! checkpoint, so the copy into the database file and its fsync run while the writer goes on
//! committing (WAL lets one checkpoint run beside one writer). Requests coalesce: at most one
//! is pending. Without a file path (or when the second connection cannot be opened) the
//! writer checkpoints itself, after it has answered the group that grew the log.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crm2sage_domain::ports::StoreError;

use crate::db::db_err;

/// The most writes one commit carries: bounds how long the first of them waits for the
/// others' closures.
const MAX_GROUP: usize = 64;

/// WAL size (pages) past which the thread checkpoints: SQLite's own default.
pub(crate) const CHECKPOINT_PAGES: i32 = 1000;

/// One queued write, type-erased.
trait Work: Send {
    /// Runs the closure on `conn` (inside the group's transaction).
    fn run(self: Box<Self>, conn: &mut Connection) -> Box<dyn Done>;
    /// Answers without running: the group could not start.
    fn refuse(self: Box<Self>, error: StoreError);
}

/// A write that has run and waits for its group's commit.
trait Done: Send {
    fn succeeded(&self) -> bool;
    /// Answers the caller: its own result when `failure` is `None` or it failed anyway;
    /// otherwise `failure` (its write was undone).
    fn deliver(self: Box<Self>, failure: Option<StoreError>);
}

struct Pending<F, T, E> {
    f: F,
    reply: oneshot::Sender<Result<T, E>>,
}

struct Ran<T, E> {
    result: Result<T, E>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Work for Pending<F, T, E>
where
    F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut Connection) -> Box<dyn Done> {
        let Pending { f, reply } = *self;
        let result = catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|_| {
            Err(E::from(StoreError::Internal(
                "a database write panicked; it was rolled back".into(),
            )))
        });
        Box::new(Ran { result, reply })
    }

    fn refuse(self: Box<Self>, error: StoreError) {
        // The caller may have stopped waiting; nothing to do then.
        let _ = self.reply.send(Err(E::from(error)));
    }
}

impl<T, E> Done for Ran<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn succeeded(&self) -> bool {
        self.result.is_ok()
    }

    fn deliver(self: Box<Self>, failure: Option<StoreError>) {
        let result = match (self.result, failure) {
            (Ok(_), Some(error)) => Err(E::from(error)),
            (result, _) => result,
        };
        let _ = self.reply.send(result);
    }
}

/// The handle the store keeps: the queue's sending end and the thread, joined on drop so the
/// connection is closed when the last store handle goes.
pub(crate) struct Writer {
    queue: Option<Sender<Box<dyn Work>>>,
    thread: Option<JoinHandle<()>>,
    checkpointer: Option<JoinHandle<()>>,
    stats: Arc<Counters>,
}

/// Starts the checkpointer thread on its own connection to `conn`'s file; `None` when there
/// is no file or it cannot start (the writer then checkpoints itself).
fn start_checkpointer(conn: &Connection) -> Option<(SyncSender<()>, JoinHandle<()>)> {
    let path = std::path::PathBuf::from(conn.path().filter(|p| !p.is_empty())?);
    let checkpoint = crate::db::connect(&path, false).ok()?;
    let (wake, wakes) = mpsc::sync_channel::<()>(1);
    let thread = std::thread::Builder::new()
        .name("crm2sage-sqlite-checkpoint".into())
        .spawn(move || {
            // Ends when the writer thread, which holds the sender, ends.
            while wakes.recv().is_ok() {
                // Best effort, as SQLite's own automatic checkpoint: a reader in the way only
                // means a later one copies more.
                let _ = checkpoint.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        })
        .ok()?;
    Some((wake, thread))
}

/// What the writer thread has done so far.
#[derive(Debug, Default)]
struct Counters {
    writes: AtomicU64,
    commits: AtomicU64,
}

/// Counts of a store's writes and of the transactions that carried them (see
/// [`SqliteStore::write_stats`](crate::SqliteStore::write_stats)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WriteStats {
    /// Write calls run (each in its own savepoint).
    pub writes: u64,
    /// Transactions committed: with group commit, at most `writes`.
    pub commits: u64,
}

impl Writer {
    /// Starts the thread; `conn` is the migrated writer connection.
    ///
    /// # Errors
    /// [`StoreError::Internal`] when the hook cannot be set or the thread cannot start.
    pub(crate) fn start(mut conn: Connection) -> Result<Self, StoreError> {
        let wal_pages = Arc::new(AtomicI32::new(0));
        let seen = Arc::clone(&wal_pages);
        // Setting the hook replaces SQLite's automatic checkpoint on this connection.
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages| {
            seen.store(pages, Ordering::Relaxed);
            Ok(())
        }))
        .map_err(db_err("watching the write-ahead log"))?;
        let (queue, jobs) = mpsc::channel();
        let stats = Arc::new(Counters::default());
        let counters = Arc::clone(&stats);
        let (wake, checkpointer) = start_checkpointer(&conn).unzip();
        let thread = std::thread::Builder::new()
            .name("crm2sage-sqlite-writer".into())
            .spawn(move || serve(&mut conn, &jobs, &wal_pages, &counters, wake.as_ref()))
            .map_err(|e| StoreError::Internal(format!("starting the database writer: {e}")))?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
            checkpointer,
            stats,
        })
    }

    /// Queues `f` and waits for its answer, which comes only after its group's commit.
    pub(crate) async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match self.submit(f) {
            Some(answer) => answer.await.unwrap_or_else(|_| Err(E::from(stopped()))),
            None => Err(E::from(stopped())),
        }
    }

    /// Queues `f`; `None` when the thread is gone.
    fn submit<T, E, F>(&self, f: F) -> Option<oneshot::Receiver<Result<T, E>>>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue.as_ref()?;
        queue.send(Box::new(Pending { f, reply })).ok()?;
        Some(answer)
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            writes: self.stats.writes.load(Ordering::Relaxed),
            commits: self.stats.commits.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has answered what it holds.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // The writer thread took the checkpointer's wake-up sender with it.
        if let Some(thread) = self.checkpointer.take() {
            let _ = thread.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Internal("the database writer stopped unexpectedly".into())
}

fn serve(
    conn: &mut Connection,
    jobs: &Receiver<Box<dyn Work>>,
    wal_pages: &AtomicI32,
    counters: &Counters,
    checkpointer: Option<&SyncSender<()>>,
) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        counters
            .writes
            .fetch_add(group.len() as u64, Ordering::Relaxed);
        if run_group(conn, group) {
            counters.commits.fetch_add(1, Ordering::Relaxed);
        }
        if wal_pages.load(Ordering::Relaxed) >= CHECKPOINT_PAGES {
            match checkpointer {
                // Full: one is pending already, and it will copy these pages too.
                Some(wake) => drop(wake.try_send(())),
                // Best effort, as SQLite's own automatic checkpoint: a reader in the way only
                // means a later one copies more.
                None => drop(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))),
            }
            wal_pages.store(0, Ordering::Relaxed);
        }
    }
}

/// Runs a group; whether it ended in a `COMMIT` that succeeded.
fn run_group(conn: &mut Connection, group: Vec<Box<dyn Work>>) -> bool {
    let mut ran: Vec<Box<dyn Done>> = Vec::with_capacity(group.len());
    let mut open = false;
    let mut jobs = group.into_iter();
    while let Some(job) = jobs.next() {
        if !open {
            if let Err(error) = conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(db_err("starting a write transaction"))
            {
                job.refuse(error.clone());
                jobs.for_each(|j| j.refuse(error.clone()));
                return false;
            }
            open = true;
        }
        let done = job.run(conn);
        if conn.is_autocommit() {
            // This write's failure ended the whole transaction: the group's earlier writes
            // are gone with it.
            let error = StoreError::Internal(
                "a write committed together with this one failed and rolled the transaction \
                 back; nothing of it was written"
                    .into(),
            );
            ran.drain(..).for_each(|d| d.deliver(Some(error.clone())));
            done.deliver(Some(error));
            open = false;
            continue;
        }
        ran.push(done);
    }
    if !open {
        return false;
    }
    // Nothing to commit when every write failed (each rolled back to its savepoint).
    let commit = ran.iter().any(|d| d.succeeded());
    let statement = if commit { "COMMIT" } else { "ROLLBACK" };
    match conn
        .execute_batch(statement)
        .map_err(db_err("committing a write transaction"))
    {
        Ok(()) => {
            ran.into_iter().for_each(|d| d.deliver(None));
            commit
        }
        Err(error) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            ran.into_iter().for_each(|d| d.deliver(Some(error.clone())));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as std_mpsc;

    use super::*;
    use crate::db;

    fn writer() -> (tempfile::TempDir, Writer, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        std::fs::File::create(&path).unwrap();
        let conn = db::connect(&path, false).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
            .unwrap();
        let reader = db::connect(&path, true).unwrap();
        (dir, Writer::start(conn).unwrap(), reader)
    }

    fn insert(v: &'static str) -> impl FnOnce(&mut Connection) -> Result<(), StoreError> {
        move |conn| {
            let tx = db::write_tx(conn)?;
            tx.execute("INSERT INTO t (v) VALUES (?1)", [v])
                .map_err(db_err("inserting"))?;
            tx.commit().map_err(db_err("committing"))
        }
    }

    fn values(reader: &Connection) -> Vec<String> {
        let mut stmt = reader.prepare("SELECT v FROM t ORDER BY v").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Holds the thread in a write of its own until released, so everything submitted
    /// meanwhile is queued and runs as the next group.
    fn hold(
        w: &Writer,
    ) -> (
        std_mpsc::Sender<()>,
        oneshot::Receiver<Result<(), StoreError>>,
    ) {
        let (release, wait) = std_mpsc::channel::<()>();
        let (started, running) = std_mpsc::channel::<()>();
        let held = w
            .submit(move |_conn: &mut Connection| {
                let _ = started.send(());
                wait.recv()
                    .map_err(|_| StoreError::Internal("released".into()))
            })
            .unwrap();
        running.recv().unwrap();
        (release, held)
    }

    #[tokio::test]
    async fn queued_writes_share_one_commit_and_each_failure_is_its_own() {
        let (_dir, w, reader) = writer();
        let (release, held) = hold(&w);
        let a = w.submit(insert("a")).unwrap();
        // Fails after writing: rolled back to its savepoint, the others stay.
        let dup = w
            .submit(|conn: &mut Connection| -> Result<(), StoreError> {
                let tx = db::write_tx(conn)?;
                tx.execute("INSERT INTO t (v) VALUES ('x')", [])
                    .map_err(db_err("inserting"))?;
                tx.execute("INSERT INTO t (v) VALUES ('a')", [])
                    .map_err(db_err("inserting a duplicate"))?;
                tx.commit().map_err(db_err("committing"))
            })
            .unwrap();
        let panics = w
            .submit(|conn: &mut Connection| -> Result<(), StoreError> {
                let tx = db::write_tx(conn)?;
                tx.execute("INSERT INTO t (v) VALUES ('p')", []).unwrap();
                panic!("a bug in a write closure");
            })
            .unwrap();
        let b = w.submit(insert("b")).unwrap();
        let before = w.stats();
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        a.await.unwrap().unwrap();
        let dup = dup.await.unwrap().unwrap_err();
        assert!(dup.to_string().contains("duplicate"), "{dup}");
        let panicked = panics.await.unwrap().unwrap_err();
        assert!(panicked.to_string().contains("panicked"), "{panicked}");
        b.await.unwrap().unwrap();
        assert_eq!(values(&reader), ["a", "b"]);
        let after = w.stats();
        // The four queued behind the held write share one commit. The held write's own
        // commit is usually a second one, but under load the writer can take the held write
        // and the four in one group (seen on a loaded 2-core machine): one commit then. One
        // commit per write (five) is what this rules out.
        let commits = after.commits - before.commits;
        assert!((1..=2).contains(&commits), "{before:?} → {after:?}");
    }

    #[tokio::test]
    async fn a_write_that_ends_the_transaction_fails_the_writes_before_it_not_after() {
        let (_dir, w, reader) = writer();
        let (release, held) = hold(&w);
        let a = w.submit(insert("a")).unwrap();
        // Stands in for an I/O error, after which SQLite rolls back the whole transaction.
        let ends = w
            .submit(|conn: &mut Connection| -> Result<(), StoreError> {
                conn.execute_batch("ROLLBACK")
                    .map_err(db_err("rolling back"))
            })
            .unwrap();
        let c = w.submit(insert("c")).unwrap();
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        let lost = a.await.unwrap().unwrap_err();
        assert!(
            lost.to_string().contains("rolled the transaction back"),
            "{lost}"
        );
        assert!(ends.await.unwrap().is_err());
        c.await.unwrap().unwrap();
        assert_eq!(values(&reader), ["c"]);
    }

    #[tokio::test]
    async fn a_failed_begin_refuses_the_whole_group_and_writes_nothing() {
        let (dir, w, reader) = writer();
        // Another connection holds the write lock past a short busy timeout.
        let mut other = db::connect(&dir.path().join("w.db"), false).unwrap();
        let (release, held) = hold(&w);
        let a = w.submit(insert("a")).unwrap();
        let b = w.submit(insert("b")).unwrap();
        // The writer's own connection gets a short timeout for this test only.
        let shorten = w
            .submit(|conn: &mut Connection| -> Result<(), StoreError> {
                conn.busy_timeout(std::time::Duration::from_millis(50))
                    .map_err(db_err("timeout"))
            })
            .unwrap();
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        a.await.unwrap().unwrap();
        b.await.unwrap().unwrap();
        shorten.await.unwrap().unwrap();
        let lock = other
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        let c = w.submit(insert("c")).unwrap();
        let d = w.submit(insert("d")).unwrap();
        let busy = c.await.unwrap().unwrap_err();
        assert!(matches!(busy, StoreError::Busy(_)), "{busy:?}");
        assert!(matches!(d.await.unwrap(), Err(StoreError::Busy(_))));
        drop(lock);
        assert_eq!(values(&reader), ["a", "b"]);
    }

    #[test]
    fn a_write_outside_the_writer_transaction_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        std::fs::File::create(&path).unwrap();
        let mut conn = db::connect(&path, false).unwrap();
        let e = db::write_tx(&mut conn).unwrap_err();
        assert!(matches!(e, StoreError::Internal(_)), "{e:?}");
    }

    #[tokio::test]
    async fn dropping_the_writer_answers_what_it_holds_and_stops_the_thread() {
        let (_dir, w, reader) = writer();
        let a = w.submit(insert("a")).unwrap();
        drop(w);
        a.await.unwrap().unwrap();
        assert_eq!(values(&reader), ["a"]);
    }
}
