//! The host side of crm2sage's small ports, as a library: secrets from environment variables
//! ([`EnvSecrets`]) or from memory ([`MemorySecrets`]), and this operating system's process
//! identity and liveness for promotion leases ([`OsProcesses`], named by a [`HostId`]).
//!
//! The `crm2sage` facade uses [`EnvSecrets`] and [`OsProcesses`] by default; the CLI and the
//! benchmarks use them too. An embedding service that keeps its secrets elsewhere (Vault, a
//! cloud secret manager) writes its own [`SecretSource`] instead, or hands secrets it already
//! holds to a [`MemorySecrets`].
//!
//! ```
//! use crm2sage_domain::SecretRef;
//! use crm2sage_host::MemorySecrets;
//! use secrecy::{ExposeSecret, SecretString};
//!
//! let secrets = MemorySecrets::new().with("erp/password", SecretString::from("s3cret"));
//! let reference = SecretRef::external("erp/password").unwrap();
//! assert_eq!(secrets.lookup(&reference).unwrap().expose_secret(), "s3cret");
//! ```
#![deny(missing_docs)]

mod host_id;

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;
use crm2sage_domain::ports::{Liveness, ProcessIdentity, Processes, SecretError, SecretSource};
use crm2sage_domain::{Integration, LeaseHolder, SecretRef, SecretRefKind};
use secrecy::SecretString;

pub use host_id::{HostId, HostIdError};

/// Secrets from environment variables, read at the moment they are needed (so a changed
/// variable is seen by the next connection). An external reference is
/// [`SecretError::Unsupported`]: this source only reads the environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvSecrets;

impl EnvSecrets {
    /// The secret `reference` names, read from the environment now.
    ///
    /// # Errors
    /// [`SecretError::Missing`] for an unset or empty variable; [`SecretError::Unsupported`]
    /// for an external reference.
    pub fn read(reference: &SecretRef) -> Result<SecretString, SecretError> {
        match reference.kind() {
            SecretRefKind::Env(name) => match std::env::var(name) {
                Ok(value) if !value.is_empty() => Ok(SecretString::from(value)),
                _ => Err(SecretError::Missing {
                    reference: reference.clone(),
                }),
            },
            _ => Err(SecretError::Unsupported {
                reference: reference.clone(),
            }),
        }
    }
}

/// Reads the environment synchronously; dropping the future does nothing.
#[async_trait]
impl SecretSource for EnvSecrets {
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError> {
        Self::read(integration.secret())
    }
}

/// Secrets held in memory, by the name a [`SecretRef`] carries (the variable's name for an
/// environment reference, the key for an external one). Useful to an embedding service that
/// already holds its ERP password, to examples and to tests. Secrets can be replaced while
/// crm2sage runs ([`MemorySecrets::insert`]); the next connection reads the new value.
///
/// With [`MemorySecrets::or_env`], an environment reference this map does not hold is read from
/// the environment; without it, it is [`SecretError::Missing`].
///
/// Its `Debug` output lists the names only, never a secret.
#[derive(Default)]
pub struct MemorySecrets {
    secrets: RwLock<HashMap<String, SecretString>>,
    env_fallback: bool,
}

impl std::fmt::Debug for MemorySecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secrets = self
            .secrets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut names: Vec<&String> = secrets.keys().collect();
        names.sort();
        f.debug_struct("MemorySecrets")
            .field("names", &names)
            .field("env_fallback", &self.env_fallback)
            .finish()
    }
}

impl MemorySecrets {
    /// An empty map that does not fall back to the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `secret` under `name`.
    #[must_use]
    pub fn with(self, name: impl Into<String>, secret: SecretString) -> Self {
        self.insert(name, secret);
        self
    }

    /// Falling back to the environment ([`EnvSecrets`]) for a reference this map does not hold.
    #[must_use]
    pub fn or_env(mut self) -> Self {
        self.env_fallback = true;
        self
    }

    /// Holds `secret` under `name`, replacing any earlier one (a rotation).
    pub fn insert(&self, name: impl Into<String>, secret: SecretString) {
        self.secrets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.into(), secret);
    }

    /// Forgets the secret under `name`; whether there was one.
    pub fn remove(&self, name: &str) -> bool {
        self.secrets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(name)
            .is_some()
    }
}

impl MemorySecrets {
    /// The secret `reference` names, from this map (or, with [`MemorySecrets::or_env`], the
    /// environment).
    ///
    /// # Errors
    /// [`SecretError::Missing`] when neither holds it; [`SecretError::Unsupported`] for an
    /// external reference the map lacks when falling back to the environment.
    pub fn lookup(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        let held = self
            .secrets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(reference.name())
            .cloned();
        match held {
            Some(secret) => Ok(secret),
            None if self.env_fallback => EnvSecrets::read(reference),
            None => Err(SecretError::Missing {
                reference: reference.clone(),
            }),
        }
    }
}

/// Reads memory synchronously; dropping the future does nothing.
#[async_trait]
impl SecretSource for MemorySecrets {
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError> {
        self.lookup(integration.secret())
    }
}

/// This process and its neighbours, as Linux's `/proc` shows them, on a host named by a
/// [`HostId`] (by default the machine's hostname).
///
/// A lease holder with another host id is [`Liveness::Unknown`]: a process id means nothing
/// on another machine, so only the lease's expiry decides. A holder with this host id is
/// judged by its pid and start time ([`Liveness::Alive`] or [`Liveness::Dead`]). Elsewhere
/// than Linux liveness is always unknown and the expiry decides.
#[derive(Debug, Clone)]
pub struct OsProcesses {
    me: ProcessIdentity,
}

impl Default for OsProcesses {
    fn default() -> Self {
        Self::new()
    }
}

impl OsProcesses {
    /// This process on this machine: its hostname ([`HostId::from_hostname`]), pid and (on
    /// Linux) start time, read once now.
    pub fn new() -> Self {
        Self::with_host(HostId::from_hostname())
    }

    /// This process, on the host `host` names instead of the machine's hostname: how several
    /// "hosts" share one machine (a test), or how a machine whose hostname is not stable keeps
    /// one id. Two machines must never share a host id: each would judge the other's leases
    /// by a process id that means nothing there.
    pub fn with_host(host: HostId) -> Self {
        let pid = std::process::id();
        Self {
            me: ProcessIdentity {
                host: host.as_str().to_owned(),
                pid,
                process_start: start_time(pid).unwrap_or(0),
            },
        }
    }

    /// The host id this process writes into its leases.
    pub fn host_id(&self) -> &str {
        &self.me.host
    }
}

/// The start time of `pid` in clock ticks since boot (field 22 of `/proc/PID/stat`).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

impl Processes for OsProcesses {
    fn current(&self) -> ProcessIdentity {
        self.me.clone()
    }

    fn liveness(&self, holder: &LeaseHolder) -> Liveness {
        if holder.host != self.me.host || self.me.process_start == 0 {
            return Liveness::Unknown;
        }
        match start_time(holder.pid) {
            Some(start) if start == holder.process_start => Liveness::Alive,
            _ => Liveness::Dead,
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn this_process_is_alive_and_a_recycled_pid_is_not() {
        let os = OsProcesses::new();
        let me = os.current();
        if me.process_start == 0 {
            return; // not Linux: liveness is Unknown by design
        }
        let holder = LeaseHolder {
            host: me.host.clone(),
            pid: me.pid,
            process_start: me.process_start,
            task: 1,
        };
        assert_eq!(os.liveness(&holder), Liveness::Alive);
        let recycled = LeaseHolder {
            process_start: me.process_start + 1,
            ..holder.clone()
        };
        assert_eq!(os.liveness(&recycled), Liveness::Dead);
        let elsewhere = LeaseHolder {
            host: "other-host".into(),
            ..holder
        };
        assert_eq!(os.liveness(&elsewhere), Liveness::Unknown);
    }

    #[test]
    fn another_host_id_is_unknown_and_the_same_one_still_checks_the_process() {
        let worker_a = OsProcesses::with_host(HostId::parse("worker-a").unwrap());
        let worker_b = OsProcesses::with_host(HostId::parse("worker-b").unwrap());
        let me = worker_a.current();
        assert_eq!(
            (worker_a.host_id(), me.host.as_str()),
            ("worker-a", "worker-a")
        );
        let holder = LeaseHolder {
            host: me.host.clone(),
            pid: me.pid,
            process_start: me.process_start,
            task: 1,
        };
        // Another host id: this very process, yet only the expiry may decide.
        assert_eq!(worker_b.liveness(&holder), Liveness::Unknown);
        if me.process_start == 0 {
            return; // not Linux: liveness is Unknown by design
        }
        let again = OsProcesses::with_host(HostId::parse("worker-a").unwrap());
        assert_eq!(again.liveness(&holder), Liveness::Alive);
        let dead = LeaseHolder {
            process_start: me.process_start + 1,
            ..holder
        };
        assert_eq!(again.liveness(&dead), Liveness::Dead);
        assert_eq!(worker_b.liveness(&dead), Liveness::Unknown);
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = EnvSecrets::read(&SecretRef::env("CRM2SAGE_TEST_SURELY_UNSET_VAR").unwrap())
            .unwrap_err();
        assert!(
            err.to_string().contains("CRM2SAGE_TEST_SURELY_UNSET_VAR"),
            "{err}"
        );
    }

    #[test]
    fn memory_secrets_resolve_rotate_and_never_show_a_value() {
        let secrets = MemorySecrets::new().with("vault/erp", SecretString::from("first"));
        let reference = SecretRef::external("vault/erp").unwrap();
        assert_eq!(secrets.lookup(&reference).unwrap().expose_secret(), "first");
        secrets.insert("vault/erp", SecretString::from("second"));
        assert_eq!(
            secrets.lookup(&reference).unwrap().expose_secret(),
            "second"
        );
        let shown = format!("{secrets:?}");
        assert!(
            shown.contains("vault/erp") && !shown.contains("second"),
            "{shown}"
        );
        assert!(secrets.remove("vault/erp"));
        assert!(matches!(
            secrets.lookup(&reference),
            Err(SecretError::Missing { .. })
        ));
    }

    #[test]
    fn memory_secrets_fall_back_to_the_environment_only_when_asked() {
        let reference = SecretRef::env("CRM2SAGE_TEST_SURELY_UNSET_VAR").unwrap();
        let strict = MemorySecrets::new();
        assert!(matches!(
            strict.lookup(&reference),
            Err(SecretError::Missing { .. })
        ));
        let external = SecretRef::external("CRM2SAGE_TEST_SURELY_UNSET_VAR").unwrap();
        // The environment source refuses external references; the fallback passes that on.
        assert!(matches!(
            MemorySecrets::new().or_env().lookup(&external),
            Err(SecretError::Unsupported { .. })
        ));
    }
}
