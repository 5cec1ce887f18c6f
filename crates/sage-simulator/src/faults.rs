//! Fault injection shared by every flavour: latency, a random error rate, a concurrency limit,
//! "commit the create, then drop the connection" and responses held longer than a client's
//! timeout.
//!
//! The flavour decides how a fault looks on the wire (an OData error body for Sage 300); this
//! module only decides *whether* one happens, deterministically from a seed.

use std::sync::Mutex;
use std::time::Duration;

/// Faults to inject. The default injects none. Change them at runtime with
/// [`RunningSage300::set_faults`](crate::RunningSage300::set_faults).
///
/// Order within one request: the concurrency limit (429 on Sage 300, 503 `ApplicationUnavailable`
/// on Sage 100) is checked first, then `latency` is
/// waited, then `error_rate` may answer 500, then the request is handled (a create may commit and
/// drop the connection), then `slow_response` holds the response.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Added before every request is handled.
    pub latency: Duration,
    /// Probability (0.0–1.0) that a request is answered 500 (Sage 300 `InternalServerError`,
    /// Sage 100 `ApplicationDiagnosis`) before it is handled (nothing is written). Drawn from a PRNG seeded with `seed`.
    pub error_rate: f64,
    /// Seed of the error-rate PRNG; the same seed and request order give the same failures.
    pub seed: u64,
    /// Which successful creates commit and then close the connection without any response.
    pub drop_after_commit: DropAfterCommit,
    /// Hold every response this long after the request was handled. A create is therefore
    /// **committed** even when the client gives up first (set this above the client timeout).
    pub slow_response: Option<Duration>,
    /// Answer 429 `TooManyRequests` (Sage 300) or 503 `ApplicationUnavailable` with severity
    /// `transient` (Sage 100) to a request that arrives while this many are in flight.
    pub max_concurrent: Option<usize>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency: Duration::ZERO,
            error_rate: 0.0,
            seed: 0x5EED_5A6E_0300,
            drop_after_commit: DropAfterCommit::Never,
            slow_response: None,
            max_concurrent: None,
        }
    }
}

/// Which creates commit and then drop the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DropAfterCommit {
    /// Answer every create normally.
    #[default]
    Never,
    /// The next `n` successful creates commit and drop; later ones are answered normally.
    Next(usize),
    /// Every successful create commits and drops.
    Always,
}

/// Runtime fault state: the settings, the PRNG and the remaining drop count.
#[derive(Debug)]
pub(crate) struct FaultState {
    inner: Mutex<(Faults, SplitMix64)>,
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = SplitMix64(faults.seed);
        FaultState {
            inner: Mutex::new((faults, rng)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Faults, SplitMix64)> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn set(&self, faults: Faults) {
        let mut g = self.lock();
        g.1 = SplitMix64(faults.seed);
        g.0 = faults;
    }

    pub(crate) fn get(&self) -> Faults {
        self.lock().0.clone()
    }

    /// Decides before handling: the concurrency limit, then (after `latency`, which the caller
    /// waits) the error rate. `in_flight` counts this request.
    pub(crate) fn over_limit(&self, in_flight: usize) -> bool {
        self.lock()
            .0
            .max_concurrent
            .is_some_and(|max| in_flight > max)
    }

    /// Rolls the error-rate dice.
    pub(crate) fn roll_error(&self) -> bool {
        let mut g = self.lock();
        let rate = g.0.error_rate;
        if rate <= 0.0 {
            return false;
        }
        let x = g.1.next_f64();
        x < rate
    }

    /// Called after a create committed: should the connection be dropped now?
    pub(crate) fn take_drop(&self) -> bool {
        let mut g = self.lock();
        match g.0.drop_after_commit {
            DropAfterCommit::Never | DropAfterCommit::Next(0) => false,
            DropAfterCommit::Always => true,
            DropAfterCommit::Next(n) => {
                g.0.drop_after_commit = if n == 1 {
                    DropAfterCommit::Never
                } else {
                    DropAfterCommit::Next(n - 1)
                };
                true
            }
        }
    }
}

/// A tiny deterministic PRNG (SplitMix64); no `rand` dependency needed for one coin flip.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rate_is_deterministic_and_roughly_right() {
        let f = Faults {
            error_rate: 0.3,
            ..Faults::default()
        };
        let a = FaultState::new(f.clone());
        let b = FaultState::new(f);
        let ra: Vec<bool> = (0..1000).map(|_| a.roll_error()).collect();
        let rb: Vec<bool> = (0..1000).map(|_| b.roll_error()).collect();
        assert_eq!(ra, rb);
        let hits = ra.iter().filter(|x| **x).count();
        assert!((200..400).contains(&hits), "{hits}");
    }

    #[test]
    fn drop_next_counts_down() {
        let s = FaultState::new(Faults {
            drop_after_commit: DropAfterCommit::Next(2),
            ..Faults::default()
        });
        assert!(s.take_drop());
        assert!(s.take_drop());
        assert!(!s.take_drop());
        assert_eq!(s.get().drop_after_commit, DropAfterCommit::Never);
    }
}
