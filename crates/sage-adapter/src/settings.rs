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
/// | `retry_backoff` | 200 ms | doubled after each attempt: 200 ms, 400 ms (jittered ±50 %) |
/// | `max_retry_after` | 10 s | the longest `Retry-After` honoured |
/// | `max_entity_bytes` | 4 MiB | one record's body |
/// | `max_page_bytes` | 32 MiB | one page's body |
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
    /// The longest body read for one record, an error or a create's answer; a longer one is
    /// an ERP error, and no more of it is read.
    pub max_entity_bytes: usize,
    /// The longest body read for one page of a list.
    pub max_page_bytes: usize,
    /// The longest wait a server's `Retry-After` (on a 429 or 503) is honoured for.
    pub max_retry_after: Duration,
}

/// 4 MiB: a customer is a few KiB, its optional fields included.
const MAX_ENTITY_BYTES: usize = 4 << 20;
/// 32 MiB: a page of 1,000 whole customer entities is ~5 MiB.
const MAX_PAGE_BYTES: usize = 32 << 20;

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            list_timeout: Duration::from_secs(30),
            get_retries: 2,
            retry_backoff: Duration::from_millis(200),
            pool_idle_timeout: Duration::from_secs(60),
            max_entity_bytes: MAX_ENTITY_BYTES,
            max_page_bytes: MAX_PAGE_BYTES,
            max_retry_after: Duration::from_secs(10),
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
            max_entity_bytes: MAX_ENTITY_BYTES,
            max_page_bytes: MAX_PAGE_BYTES,
            max_retry_after: Duration::from_secs(1),
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

    /// These settings with body caps of `entity` bytes (one record) and `page` bytes (a page).
    pub fn with_body_limits(mut self, entity: usize, page: usize) -> Self {
        self.max_entity_bytes = entity;
        self.max_page_bytes = page;
        self
    }

    /// These settings honouring a `Retry-After` for at most `cap`.
    pub fn with_max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// These settings with a first backoff of `backoff`.
    pub fn with_retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }
}
