//! What the benchmark reads about a process from `/proc`: CPU time (user + system, from
//! `/proc/PID/stat`; its ended children's too), resident memory now (VmRSS) and its peak (VmHWM, from
//! `/proc/PID/status`).

use anyhow::{anyhow, Context};

/// One reading.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcSample {
    /// User plus system CPU seconds since the process started.
    pub cpu_s: f64,
    /// User plus system CPU seconds of its children that ended and were waited for (an EBE
    /// connector's programs).
    pub children_cpu_s: f64,
    pub rss_kb: u64,
    pub peak_rss_kb: u64,
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Read `pid`'s CPU time and memory.
pub fn sample(pid: u32) -> anyhow::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("process {pid} is gone"))?;
    // The command name (field 2) may hold spaces; the fields after its closing ')' do not.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("unreadable /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow!("short /proc/{pid}/stat"))?
            .parse::<u64>()? as f64)
    };
    let cpu_s = (ticks(11)? + ticks(12)?) / ticks_per_second();
    // cutime (16) and cstime (17).
    let children_cpu_s = (ticks(13)? + ticks(14)?) / ticks_per_second();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("process {pid} is gone"))?;
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(ProcSample {
        cpu_s,
        children_cpu_s,
        rss_kb: kb("VmRSS:"),
        peak_rss_kb: kb("VmHWM:"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_process() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kb > 0 && s.peak_rss_kb >= s.rss_kb);
        assert!(s.cpu_s >= 0.0);
    }
}
