//! Small numeric helpers: percentiles, rounding, memory of this process.

use std::time::Duration;

/// The `q` quantile (0.0–1.0) of `samples` in milliseconds, nearest rank; 0 when empty.
pub(crate) fn percentile_ms(samples: &mut [Duration], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let rank = (q * samples.len() as f64).ceil() as usize;
    let i = rank.clamp(1, samples.len()) - 1;
    round(samples[i].as_secs_f64() * 1000.0, 2)
}

/// `x` rounded to `digits` decimals.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// `n / elapsed` per second.
pub(crate) fn per_s(n: usize, elapsed: Duration) -> f64 {
    let s = elapsed.as_secs_f64();
    if s > 0.0 { n as f64 / s } else { 0.0 }
}

/// A field of `/proc/self/status` in MiB (`VmHWM`: peak resident set; `VmRSS`: now). `None`
/// off Linux.
pub(crate) fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())?;
    Some(round(kib / 1024.0, 1))
}

/// The CPU time this process has used so far (user + system, every thread, live or gone), in
/// seconds, from `/proc/self/stat` (in the kernel's 1/100 s ticks). `None` off Linux.
pub(crate) fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// The CPU milliseconds each of `n` items took, between two [`process_cpu_s`] readings (JSON
/// null when either is missing).
pub(crate) fn cpu_ms_each(n: usize, from: Option<f64>, to: Option<f64>) -> serde_json::Value {
    match (from, to) {
        (Some(from), Some(to)) if n > 0 => {
            serde_json::json!(round((to - from) * 1000.0 / n as f64, 3))
        }
        _ => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_cpu_grows_with_work() {
        let before = process_cpu_s().expect("a Linux /proc");
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = process_cpu_s().expect("a Linux /proc");
        assert!(
            after - before >= 0.1,
            "{before} then {after} after 300 ms of work"
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((percentile_ms(&mut v, 0.5) - 50.0).abs() < 1e-9);
        assert!((percentile_ms(&mut v, 0.99) - 99.0).abs() < 1e-9);
        assert!((percentile_ms(&mut [], 0.5)).abs() < 1e-9);
    }
}
