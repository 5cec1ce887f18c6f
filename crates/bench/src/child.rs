//! The `crm2sage` CLI binary run as a child process on one database: to prepare a benchmark's
//! database, and for the timed run itself, whose peak RSS is then the child's own.
//!
//! The peak RSS is the child's `VmHWM` (the kernel's high-water mark of its resident set), read
//! from `/proc/PID/status` every few milliseconds while it runs; the mark only grows, so the last
//! reading misses at most what the child added in its last few milliseconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often the child's `VmHWM` is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// The environment variable the child reads the simulator's password from.
pub(crate) const PASSWORD_ENV: &str = "CRM2SAGE_BENCH_SAGE_PASSWORD";

/// The `crm2sage` binary next to this one (both built into the same target directory).
pub(crate) fn default_cli() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("where am I: {e}"))?;
    let cli = me.with_file_name(format!("crm2sage{}", std::env::consts::EXE_SUFFIX));
    if cli.exists() {
        Ok(cli)
    } else {
        Err(format!(
            "{} is missing: build it into the same target directory (cargo build --release -p crm2sage-cli), or pass --cli PATH",
            cli.display()
        ))
    }
}

pub(crate) fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// What a timed child run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Measured {
    /// From spawn to exit.
    pub(crate) elapsed: Duration,
    /// Its `VmHWM`, in MiB.
    pub(crate) peak_rss_mib: f64,
}

/// The `crm2sage` binary on one database, with the simulator's password.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    pub(crate) cli: PathBuf,
    pub(crate) db: PathBuf,
    pub(crate) password: String,
}

impl Child {
    fn command(&self, args: &[impl AsRef<std::ffi::OsStr>], stdout: Stdio) -> Command {
        let mut cmd = Command::new(&self.cli);
        cmd.arg("--db")
            .arg(&self.db)
            .args(args)
            .env_remove("CRM2SAGE_DB")
            .env(PASSWORD_ENV, &self.password)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::inherit());
        cmd
    }

    /// Runs to its end, its output discarded; an exit other than 0 is an error.
    pub(crate) fn run(&self, args: &[&str]) -> Result<(), String> {
        let status = self
            .command(args, Stdio::null())
            .status()
            .map_err(|e| format!("starting {}: {e}", self.cli.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("crm2sage {} ended with {status}", args.join(" ")))
        }
    }

    /// The integration `s300` to the simulator at `base_url`, made the default.
    pub(crate) fn add_integration(&self, sim: &crate::sim::SimInfo) -> Result<(), String> {
        self.run(&[
            "-q",
            "integration",
            "add",
            "s300",
            "--kind",
            "sage300",
            "--url",
            &sim.base_url,
            "--company",
            &sim.company,
            "--user",
            &sim.user,
            "--password-env",
            PASSWORD_ENV,
            "--default",
        ])
    }

    /// Runs to its end, timed, sampling its peak RSS; its stdout written to `stdout` when
    /// given (a file: writing it costs the child what a pipe to a reader would), else
    /// discarded.
    pub(crate) fn measured_into(
        &self,
        args: &[String],
        stdout: Option<&Path>,
    ) -> Result<Measured, String> {
        let out = match stdout {
            None => Stdio::null(),
            Some(path) => std::fs::File::create(path)
                .map(Stdio::from)
                .map_err(|e| format!("{}: {e}", path.display()))?,
        };
        let started = Instant::now();
        let mut child = self
            .command(args, out)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.cli.display()))?;
        let status_path = format!("/proc/{}/status", child.id());
        let mut peak_kib = 0u64;
        let status = loop {
            if let Some(kib) = hwm_kib(&status_path) {
                peak_kib = peak_kib.max(kib);
            }
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => std::thread::sleep(SAMPLE_EVERY),
                Err(e) => return Err(format!("waiting for {}: {e}", self.cli.display())),
            }
        };
        let elapsed = started.elapsed();
        if !status.success() {
            return Err(format!("crm2sage {} ended with {status}", args.join(" ")));
        }
        Ok(Measured {
            elapsed,
            peak_rss_mib: peak_kib as f64 / 1024.0,
        })
    }

    /// [`Child::measured_into`] on the blocking pool (the simulator's client side, if any,
    /// keeps running on the runtime meanwhile).
    pub(crate) async fn measured_off_runtime(
        &self,
        args: &[&str],
        stdout: Option<PathBuf>,
    ) -> Result<Measured, String> {
        let child = self.clone();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || child.measured_into(&args, stdout.as_deref()))
            .await
            .map_err(|e| format!("the timed run's thread: {e}"))?
    }
}

/// The first `max` characters of `v`'s JSON text, for error messages.
pub(crate) fn excerpt(v: &serde_json::Value, max: usize) -> String {
    v.to_string().chars().take(max).collect()
}

/// `VmHWM` of a `/proc/PID/status`, in KiB.
pub(crate) fn hwm_kib(status_path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}
