//! Fakes of the small ports.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use secrecy::SecretString;

use crate::integration::Integration;
use crate::ports::{Clock, Liveness, ProcessIdentity, Processes, SecretError, SecretSource};
use crate::promotion::LeaseHolder;
use jiff::{SignedDuration, Timestamp};

/// A clock that moves only when told.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(Mutex::new(start))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX);
        *now = now.checked_add(by).unwrap_or(Timestamp::MAX);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new(Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Secrets from a map of reference name (variable name or external key) → value, changeable
/// at run time ([`FixedSecrets::set`], a rotation), counting the lookups.
#[derive(Debug, Default)]
pub struct FixedSecrets {
    values: Mutex<HashMap<String, String>>,
    calls: AtomicUsize,
}

impl FixedSecrets {
    /// Secrets with `name` → `value`.
    pub fn with(self, name: &str, value: &str) -> Self {
        self.set(name, value);
        self
    }

    /// From now on `name` resolves to `value`.
    pub fn set(&self, name: &str, value: &str) {
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_owned(), value.to_owned());
    }

    /// How many times a secret was resolved.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SecretSource for FixedSecrets {
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let reference = integration.secret();
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(reference.name())
            .map(|v| SecretString::from(v.clone()))
            .ok_or_else(|| SecretError::Missing {
                reference: reference.clone(),
            })
    }
}

/// Process identity and liveness under test control: this process is `host`/`pid`/`start`;
/// holders on the same host are alive unless declared dead.
#[derive(Debug)]
pub struct FakeProcesses {
    me: ProcessIdentity,
    dead: Mutex<HashSet<(u32, u64)>>,
}

impl FakeProcesses {
    /// This process is `host`/`pid`/`start`.
    pub fn new(host: &str, pid: u32, start: u64) -> Self {
        Self {
            me: ProcessIdentity {
                host: host.to_owned(),
                pid,
                process_start: start,
            },
            dead: Mutex::new(HashSet::new()),
        }
    }

    /// Declares the process `pid` started at `start` gone.
    pub fn kill(&self, pid: u32, start: u64) {
        self.dead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((pid, start));
    }
}

impl Default for FakeProcesses {
    fn default() -> Self {
        Self::new("test-host", 4242, 1)
    }
}

impl Processes for FakeProcesses {
    fn current(&self) -> ProcessIdentity {
        self.me.clone()
    }

    fn liveness(&self, holder: &LeaseHolder) -> Liveness {
        if holder.host != self.me.host {
            return Liveness::Unknown;
        }
        let dead = self
            .dead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if dead.contains(&(holder.pid, holder.process_start)) {
            Liveness::Dead
        } else {
            Liveness::Alive
        }
    }
}
