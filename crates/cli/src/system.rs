//! The operating-system side of the small ports: secrets from environment variables, and
//! process identity and liveness for promotion leases.

use std::collections::HashMap;

use async_trait::async_trait;
use crm2sage_domain::ports::{Liveness, ProcessIdentity, Processes, SecretError, SecretSource};
use crm2sage_domain::{Integration, LeaseHolder, SecretRef, SecretRefKind};
use secrecy::SecretString;

/// Secrets from environment variables, read at the moment they are needed. External
/// references are not this source's: [`SecretError::Unsupported`].
#[derive(Debug, Default)]
pub(crate) struct EnvSecrets;

impl EnvSecrets {
    fn read(reference: &SecretRef) -> Result<SecretString, SecretError> {
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

#[async_trait]
impl SecretSource for EnvSecrets {
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError> {
        Self::read(integration.secret())
    }
}

/// Secrets handed in directly (the demo's simulator password), by variable name or external
/// key, falling back to the environment.
#[derive(Debug, Default)]
pub(crate) struct GivenSecrets(pub(crate) HashMap<String, String>);

#[async_trait]
impl SecretSource for GivenSecrets {
    async fn resolve(&self, integration: &Integration) -> Result<SecretString, SecretError> {
        let reference = integration.secret();
        match self.0.get(reference.name()) {
            Some(value) => Ok(SecretString::from(value.clone())),
            None => EnvSecrets::read(reference),
        }
    }
}

/// This process and its neighbours, as Linux's `/proc` shows them. Elsewhere liveness is
/// unknown and a lease's expiry decides.
#[derive(Debug)]
pub(crate) struct OsProcesses {
    me: ProcessIdentity,
}

impl OsProcesses {
    pub(crate) fn new() -> Self {
        let pid = std::process::id();
        let host = hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "unknown-host".into());
        Self {
            me: ProcessIdentity {
                host,
                pid,
                process_start: start_time(pid).unwrap_or(0),
            },
        }
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
    fn a_missing_variable_is_named() {
        let err = EnvSecrets::read(&SecretRef::env("CRM2SAGE_TEST_SURELY_UNSET_VAR").unwrap())
            .unwrap_err();
        assert!(
            err.to_string().contains("CRM2SAGE_TEST_SURELY_UNSET_VAR"),
            "{err}"
        );
    }

    #[test]
    fn an_external_reference_is_not_the_environments() {
        let reference = SecretRef::external("vault/erp").unwrap();
        assert_eq!(
            EnvSecrets::read(&reference).err(),
            Some(SecretError::Unsupported { reference })
        );
    }
}
