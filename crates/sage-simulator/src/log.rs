//! The request log tests read, and the in-flight counter behind
//! [`RunningSage300::max_in_flight`](crate::RunningSage300::max_in_flight).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One request the simulator received, as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The HTTP method, upper-case (`"GET"`, `"POST"`).
    pub method: String,
    /// The path as sent, still percent-encoded (`/Sage300WebApi/v1.0/-/SAMLTD/AR/ARCustomers('O''BRIEN')`).
    pub path: String,
    /// The raw query string without `?`, still percent-encoded.
    pub query: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The user name from HTTP Basic, if the header could be decoded.
    pub user: Option<String>,
    /// The request body as sent (lossy UTF-8); empty for a GET. Keeps the JSON property order.
    pub body: String,
    /// The status answered; `None` when the connection was dropped without a response
    /// ([`DropAfterCommit`](crate::DropAfterCommit)) or the client went away first.
    pub status: Option<u16>,
    /// When the request arrived.
    pub started: Instant,
    /// When the response was handed to the connection (or the connection was dropped).
    pub finished: Instant,
}

/// The shared log and concurrency counters.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl RequestLog {
    pub(crate) fn entries(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn reset_max_in_flight(&self) {
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn push(&self, entry: LoggedRequest) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(entry);
    }
}

/// Tracks one request from arrival to answer. Dropping it without [`InFlight::finish`] (the
/// connection was dropped, or the client went away) logs the request with no status.
#[derive(Debug)]
pub(crate) struct InFlight {
    log: Arc<RequestLog>,
    entry: Option<LoggedRequest>,
    in_flight_now: usize,
}

impl InFlight {
    pub(crate) fn start(log: Arc<RequestLog>, mut entry: LoggedRequest) -> Self {
        let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        log.max_in_flight.fetch_max(now, Ordering::SeqCst);
        entry.started = Instant::now();
        InFlight {
            log,
            entry: Some(entry),
            in_flight_now: now,
        }
    }

    /// Requests in flight when this one arrived, itself included.
    pub(crate) fn in_flight_at_start(&self) -> usize {
        self.in_flight_now
    }

    pub(crate) fn set_body(&mut self, body: String) {
        if let Some(e) = self.entry.as_mut() {
            e.body = body;
        }
    }

    pub(crate) fn finish(mut self, status: u16) {
        if let Some(mut e) = self.entry.take() {
            e.status = Some(status);
            e.finished = Instant::now();
            self.log.push(e);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.log.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Some(mut e) = self.entry.take() {
            e.finished = Instant::now();
            self.log.push(e);
        }
    }
}
