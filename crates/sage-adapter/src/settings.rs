//! Timeouts and retries of the HTTP client.

use std::time::Duration;

use crm2sage_domain::RequestTimeout;

/// How the client talks to a Sage server: timeouts, GET retries and connection pooling.
///
/// The defaults ([`ClientSettings::default`]):
///
/// | setting | default | why |
/// |---|---|---|
/// | `connect_timeout` | 5 s | a server that does not accept a connection in 5 s is down |
/// | `request_timeout` | 60 s | one lookup or one create: an on-prem IIS whose application pool is cold answers its first requests after 20–45 s |
/// | `list_timeout` | 60 s | one page of reference data (a page of 1,000 rows can be slow, and the first page meets the cold pool too) |
/// | `get_retries` | 2 | three attempts in all |
/// | `retry_backoff` | 200 ms | doubled after each attempt: 200 ms, 400 ms (jittered ±50 %) |
/// | `max_retry_after` | 10 s | the longest `Retry-After` honoured |
/// | `max_entity_bytes` | 4 MiB | one record's body |
/// | `max_page_bytes` | 32 MiB | one page's body |
///
/// An integration with its own timeout (`integration add --timeout`, [`Integration::timeout`])
/// gets these settings with [`ClientSettings::for_timeout`]: that timeout for every request,
/// and a connect timeout no longer than it.
///
/// # The promotion lease
/// A promotion renews its lease before each of its two ERP calls (the lookup, the create)
/// whenever less than half of it is left, so the lease must be at least twice the longest of
/// those calls: a lookup takes up to `(get_retries + 1) × request_timeout` plus the backoffs
/// (`retry_backoff × (2^get_retries − 1) × 1.5`, or up to `max_retry_after` per retry when the
/// server asks), a create at most `request_timeout`. [`ClientSettings::call_budget`] is that
/// worst case: 3 × 60 s for the attempts + 2 × 15 s for retries a server asked to delay by the
/// longest `Retry-After` honoured = 210 s at the defaults. The services size the lease from the
/// integration's timeout the same way (`ServiceConfig::lease` is the floor).
///
/// [`Integration::timeout`]: crm2sage_domain::Integration::timeout
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
            request_timeout: RequestTimeout::default().as_duration(),
            list_timeout: RequestTimeout::default().as_duration(),
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

    /// These settings for an integration whose requests each get `timeout`: the request and
    /// list timeouts become `timeout`, the connect timeout at most `timeout`.
    pub fn for_timeout(mut self, timeout: RequestTimeout) -> Self {
        let timeout = timeout.as_duration();
        self.connect_timeout = self.connect_timeout.min(timeout);
        self.request_timeout = timeout;
        self.list_timeout = timeout;
        self
    }

    /// The longest one lookup (a GET with its retries and backoffs, the server's `Retry-After`
    /// honoured up to its cap) or one create can take with these settings.
    pub fn call_budget(&self) -> Duration {
        let attempts = self.get_retries.saturating_add(1);
        let mut budget = self.request_timeout.saturating_mul(attempts);
        for retry in 0..self.get_retries {
            let backoff = self
                .retry_backoff
                .saturating_mul(2u32.saturating_pow(retry))
                .max(self.max_retry_after);
            // The jitter scales a wait by at most 1.5.
            budget = budget.saturating_add(backoff.saturating_add(backoff / 2));
        }
        budget
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
