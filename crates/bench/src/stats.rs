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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((percentile_ms(&mut v, 0.5) - 50.0).abs() < 1e-9);
        assert!((percentile_ms(&mut v, 0.99) - 99.0).abs() < 1e-9);
        assert!((percentile_ms(&mut [], 0.5)).abs() < 1e-9);
    }
}
