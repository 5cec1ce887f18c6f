//! The operations this value of [`Services`](super::Services) is running now, so leases are
//! held per operation, not per process.
//!
//! A lease names its holder by host, process and task. The process's liveness says whether the
//! process still runs; it cannot say whether the *operation* does — a promotion whose future was
//! dropped (a client disconnect, a tower timeout, `select!`) leaves its process alive. So every
//! operation that takes a lease registers a task here and holds a [`LiveTask`] guard for as long
//! as it runs; dropping the guard (the operation ended, or its future was dropped at any await
//! point) takes the task off the list. A lease whose holder is this process but whose task is
//! not on the list is judged by its expiry, exactly like a holder on another host: nothing may
//! take it over before then, because a request the dropped future sent may still be in flight.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// The tasks running now. Cheap to share; see the module docs.
#[derive(Debug, Default, Clone)]
pub(crate) struct LiveTasks {
    live: Arc<Mutex<HashSet<u64>>>,
}

impl LiveTasks {
    /// Registers a new task with an id unique beyond this value (random, so two `Services` in
    /// one process never share one), live until the returned guard is dropped.
    pub(crate) fn start(&self) -> LiveTask {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let id = loop {
            let (_, random) = uuid::Uuid::now_v7().as_u64_pair();
            // Keep it within i64 so every store can hold it as a signed 64-bit integer.
            let id = random >> 1;
            if live.insert(id) {
                break id;
            }
        };
        LiveTask {
            id,
            live: Arc::clone(&self.live),
        }
    }

    /// Whether `task` was started here and its guard is still held.
    pub(crate) fn is_live(&self, task: u64) -> bool {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&task)
    }
}

/// A running task; dropping it ends the task (see the module docs).
#[derive(Debug)]
#[must_use = "the task ends when this guard is dropped"]
pub(crate) struct LiveTask {
    id: u64,
    live: Arc<Mutex<HashSet<u64>>>,
}

impl LiveTask {
    /// The task's id, as a lease records it.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for LiveTask {
    fn drop(&mut self) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_live_until_its_guard_drops() {
        let tasks = LiveTasks::default();
        let first = tasks.start();
        let second = tasks.start();
        assert_ne!(first.id(), second.id());
        assert!(i64::try_from(first.id()).is_ok());
        assert!(tasks.is_live(first.id()) && tasks.is_live(second.id()));
        let gone = first.id();
        drop(first);
        assert!(!tasks.is_live(gone));
        assert!(tasks.is_live(second.id()));
        assert!(
            !LiveTasks::default().is_live(second.id()),
            "another value's task is unknown"
        );
    }
}
