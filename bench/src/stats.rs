//! Measurements of this process and summaries of samples: CPU time (`getrusage`), resident
//! memory (`/proc/self/status`), and the median and 90th percentile of a set of durations.

use std::time::Duration;

/// User + system CPU time this process has used so far (all threads).
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`), or 0 if unreadable.
pub fn proc_status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix(field)?.strip_prefix(':')?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}

/// Raises the soft limit on open files to the hard limit (fleets keep many sockets open).
pub fn raise_nofile_limit() {
    // SAFETY: plain syscalls on a struct we own.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Median and 90th percentile of some durations.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// 50th percentile.
    pub median: Duration,
    /// 90th percentile.
    pub p90: Duration,
}

impl Summary {
    /// Summarises samples (nearest-rank percentiles); zero for no samples.
    pub fn of(samples: &[Duration]) -> Summary {
        let mut s = samples.to_vec();
        s.sort_unstable();
        let at = |q: f64| {
            if s.is_empty() {
                Duration::ZERO
            } else {
                let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
                s[rank - 1]
            }
        };
        Summary {
            median: at(0.5),
            p90: at(0.9),
        }
    }
}

/// A duration for people: µs below 10 ms, ms below 10 s, else s.
pub fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 10_000.0 {
        format!("{us:.0} µs")
    } else if us < 10_000_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// KiB as MiB for people.
pub fn fmt_kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms: Vec<Duration> = (1..=10).rev().map(Duration::from_millis).collect();
        let s = Summary::of(&ms);
        assert_eq!(s.median, Duration::from_millis(5));
        assert_eq!(s.p90, Duration::from_millis(9));
        assert_eq!(Summary::of(&[]).median, Duration::ZERO);
    }

    #[test]
    fn own_process_is_measurable() {
        assert!(proc_status_kib("VmRSS") > 0);
        assert!(proc_status_kib("VmHWM") >= proc_status_kib("VmRSS") / 2);
    }
}
