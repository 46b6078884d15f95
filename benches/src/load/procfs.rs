//! What Linux's `/proc` says about the servers under test: resident
//! memory, CPU time, UDP receive-buffer drops, and the machine's load.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::LoadError;

/// The unit of `utime` and `stime` in `/proc/<pid>/stat`: `USER_HZ`, which
/// Linux fixes at 100 per second on every architecture this tool targets
/// (the kernel scales its internal tick to it).
const USER_HZ: u64 = 100;

/// The resident set size of process `pid` (`VmRSS`), in bytes.
pub fn rss_bytes(pid: u32) -> Result<u64, LoadError> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let text = read(&path)?;
    let kib = text
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .ok_or_else(|| malformed(&path, "no VmRSS line"))?;
    Ok(kib * 1024)
}

/// CPU time (user and system) used so far by process `pid`, all its
/// threads together.
pub fn process_cpu(pid: u32) -> Result<Duration, LoadError> {
    cpu_time(&PathBuf::from(format!("/proc/{pid}/stat")))
}

/// CPU time used so far by one thread of this process, named by its path
/// under `/proc/self/task/`.
pub fn thread_cpu(task: &Path) -> Result<Duration, LoadError> {
    cpu_time(&task.join("stat"))
}

/// The `/proc/self/task/<tid>` directory of the calling thread.
pub fn current_task() -> Result<PathBuf, LoadError> {
    let link = Path::new("/proc/thread-self");
    let target = fs::read_link(link)
        .map_err(|e| LoadError::Proc { path: link.to_owned(), reason: e.to_string() })?;
    // The link reads "<pid>/task/<tid>"; the same task seen from any
    // thread of the process is /proc/self/task/<tid>.
    let tid = target.file_name().ok_or_else(|| malformed(link, "no thread id"))?;
    Ok(Path::new("/proc/self/task").join(tid))
}

/// `utime + stime` from a `stat` file.
fn cpu_time(path: &Path) -> Result<Duration, LoadError> {
    let text = read(path)?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields from the last ')'. After it come field 3 (state) on,
    // so utime (14) and stime (15) are the 12th and 13th.
    let rest =
        text.rsplit_once(')').map(|(_, rest)| rest).ok_or_else(|| malformed(path, "no ')'"))?;
    let mut fields = rest.split_whitespace().skip(11);
    let mut next = || fields.next().and_then(|f| f.parse::<u64>().ok());
    let (Some(utime), Some(stime)) = (next(), next()) else {
        return Err(malformed(path, "no utime and stime"));
    };
    Ok(Duration::from_nanos((utime + stime) * (1_000_000_000 / USER_HZ)))
}

/// Datagrams dropped so far because a socket's receive buffer was full,
/// summed over the UDP sockets bound to any of `ports` (IPv4 and IPv6).
pub fn udp_drops(ports: &HashSet<u16>) -> Result<u64, LoadError> {
    let mut drops = 0;
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let path = Path::new(table);
        let Ok(text) = fs::read_to_string(path) else {
            continue; // No IPv6 on this machine.
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "sl local_address rem_address st ... drops": the local
            // address is "HEXADDR:HEXPORT", drops the last field.
            let port = fields
                .get(1)
                .and_then(|local| local.rsplit_once(':'))
                .and_then(|(_, port)| u16::from_str_radix(port, 16).ok());
            if port.is_some_and(|port| ports.contains(&port)) {
                drops += fields.last().and_then(|d| d.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    Ok(drops)
}

/// The machine's 1-minute load average, as `/proc/loadavg` prints it.
pub fn load_average() -> Result<String, LoadError> {
    let path = Path::new("/proc/loadavg");
    let text = read(path)?;
    text.split_whitespace().next().map(str::to_owned).ok_or_else(|| malformed(path, "empty"))
}

/// The number of processors this process may run on.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn read(path: &Path) -> Result<String, LoadError> {
    fs::read_to_string(path)
        .map_err(|e| LoadError::Proc { path: path.to_owned(), reason: e.to_string() })
}

fn malformed(path: &Path, reason: &str) -> LoadError {
    LoadError::Proc { path: path.to_owned(), reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        assert!(rss_bytes(pid).expect("own status") > 0);
        process_cpu(pid).expect("own stat");
        thread_cpu(&current_task().expect("own task")).expect("own thread stat");
        load_average().expect("loadavg");
        udp_drops(&HashSet::from([9])).expect("udp tables");
    }
}
