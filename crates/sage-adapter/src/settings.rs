//! Timeouts and retries of the HTTP client.

use std::time::Duration;

/// How the client talks to a Sage server: timeouts, GET retries and connection pooling.
///
/// The defaults ([`ClientSettings::default`]) are sized for the promotion lease (45 s by
/// default), which must cover one customer lookup **with its retries** plus one create:
///
/// | setting | default | why |
/// |---|---|---|
/// | `connect_timeout` | 5 s | a server that does not accept a connection in 5 s is down |
/// | `request_timeout` | 10 s | one lookup or one create; Sage 300 is slow but not that slow |
/// | `list_timeout` | 30 s | one page of reference data (a page of 1,000 rows can be slow) |
/// | `get_retries` | 2 | three attempts in all |
/// | `retry_backoff` | 200 ms | doubled after each attempt: 200 ms, 400 ms |
///
/// Worst case for a promotion: 3 × 10 s + 0.6 s of backoff for the lookup, then 10 s for the
/// create ≈ 41 s, inside the 45 s lease. Raise the lease if you raise these.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientSettings {
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole lookup or create, connection included.
    pub request_timeout: Duration,
    /// Longest wait for one page of reference data.
    pub list_timeout: Duration,
    /// How many times a failed GET is retried (connect failure, timeout, reset, 5xx, 429). A
    /// create is never retried.
    pub get_retries: u32,
    /// The wait before the first retry; doubled before each further one.
    pub retry_backoff: Duration,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            list_timeout: Duration::from_secs(30),
            get_retries: 2,
            retry_backoff: Duration::from_millis(200),
            pool_idle_timeout: Duration::from_secs(60),
        }
    }
}

impl ClientSettings {
    /// Short timeouts and tiny backoff for tests against a local server: connect 1 s, request
    /// and list 2 s, 2 retries after 5 ms.
    pub fn for_tests() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(2),
            list_timeout: Duration::from_secs(2),
            get_retries: 2,
            retry_backoff: Duration::from_millis(5),
            pool_idle_timeout: Duration::from_secs(10),
        }
    }

    /// These settings with every timeout (connect, request, list) set to `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self.request_timeout = timeout;
        self.list_timeout = timeout;
        self
    }

    /// These settings with `retries` GET retries.
    pub fn with_get_retries(mut self, retries: u32) -> Self {
        self.get_retries = retries;
        self
    }

    /// These settings with a first backoff of `backoff`.
    pub fn with_retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }
}
