//! The machine a run happened on: cores, CPU model, memory, kernel, and the date (UTC).

fn first_value(file: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
pub fn now_utc() -> String {
    let format =
        time::format_description::parse_borrowed::<2>("[year]-[month]-[day] [hour]:[minute] UTC")
            .expect("a valid format description");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// A markdown list describing the machine.
pub fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = first_value("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into());
    let mem = first_value("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1048576.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    format!(
        "- Machine: {cores} cores (nproc), {cpu}, {mem} RAM, Linux {kernel}\n- Load average \
         at start (1, 5, 15 min): {load}\n- Date: {}\n",
        now_utc()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_a_utc_minute() {
        let now = now_utc();
        assert_eq!(now.len(), "2026-11-21 15:30 UTC".len(), "{now}");
        assert!(now.ends_with(" UTC") && now.starts_with("20"), "{now}");
    }
}
