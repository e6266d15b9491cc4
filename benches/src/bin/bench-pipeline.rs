//! The pipeline benchmark of issue #8: runs `pdiff-zoo run RECIPE -o <temp dir>` under
//! `/usr/bin/time -v` and writes one JSON file with the machine, the command, the totals
//! (wall, user + sys CPU, peak RSS) and, per architecture and stage, the wall seconds the zoo
//! recorded (`state/<arch>.<stage>.json`) plus the CPU seconds and memory observed while that
//! stage ran.
//!
//! Usage (normally through `scripts/bench-pipeline.sh RECIPE [OUT.json]`):
//! `bench-pipeline [--keep] PDIFF_ZOO_BINARY RECIPE OUT.json`
//!
//! Per-stage CPU and memory come from sampling `/proc/<pid>/stat` and `/proc/<pid>/status`
//! of the `pdiff-zoo` process every [`POLL`] while watching its `state/` folder: a stage's
//! interval ends when its completion record appears, so each interval also holds the start-up
//! work before the stage (recipe, dataset loading) and misses at most one poll period. The
//! peak RSS of a stage is the largest sampled `VmRSS` in its interval (a spike shorter than a
//! poll can be missed) next to the process's exact high-water mark `VmHWM` at its end.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Sampling period of the `/proc` poller.
const POLL: Duration = Duration::from_millis(50);

fn main() {
    if let Err(e) = run() {
        eprintln!("bench-pipeline: {e}");
        std::process::exit(1);
    }
}

type Result<T> = std::result::Result<T, String>;

fn run() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.first().is_some_and(|a| a == "--keep");
    if keep {
        args.remove(0);
    }
    let [binary, recipe, out] = args.as_slice() else {
        return Err("usage: bench-pipeline [--keep] PDIFF_ZOO_BINARY RECIPE OUT.json".into());
    };
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return Err("/usr/bin/time is missing (Debian/Ubuntu: apt-get install time)".into());
    }
    let work =
        std::env::temp_dir().join(format!("pdiff-zoo-bench-pipeline.{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let zoo = work.join("zoo");
    let time_file = work.join("time.txt");
    let log_file = work.join("run.log");
    let command = vec![
        binary.clone(),
        "run".to_string(),
        recipe.clone(),
        "-o".to_string(),
        zoo.display().to_string(),
    ];
    let date = shell("date -u +%Y-%m-%dT%H:%M:%SZ").unwrap_or_default();
    let machine = machine();
    eprintln!("bench-pipeline: {} (log: {})", command.join(" "), log_file.display());

    let log = std::fs::File::create(&log_file).map_err(|e| e.to_string())?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(time)
        .arg("-v")
        .arg("-o")
        .arg(&time_file)
        .args(&command)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("starting /usr/bin/time: {e}"))?;
    let tick = shell("getconf CLK_TCK").and_then(|s| s.parse::<f64>().ok()).unwrap_or(100.0);
    let mut poller = Poller::new(child.id(), zoo.join("state"), tick, started);
    let status = loop {
        poller.poll();
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        std::thread::sleep(POLL);
    };
    poller.poll();
    let wall_observed = started.elapsed().as_secs_f64();
    let time_text = std::fs::read_to_string(&time_file).unwrap_or_default();
    let totals = parse_time_v(&time_text);
    if !status.success() {
        let text = std::fs::read_to_string(&log_file).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "pdiff-zoo run failed ({status}); last lines of {}:\n{}",
            log_file.display(),
            tail.join("\n")
        ));
    }
    let total_cpu = totals.user + totals.sys;
    let stages_cpu: f64 = poller.segments.iter().map(|s| s.user + s.sys).sum();
    let stages_wall: f64 = poller.segments.iter().map(|s| s.observed_wall).sum();
    let mut per_arch = serde_json::Map::new();
    for s in &poller.segments {
        let entry = per_arch
            .entry(s.arch.clone())
            .or_insert_with(|| json!({"wall_seconds": 0.0, "cpu_seconds": 0.0}));
        let add = |v: &mut Value, x: f64| *v = json!(v.as_f64().unwrap_or(0.0) + x);
        add(&mut entry["wall_seconds"], s.seconds);
        add(&mut entry["cpu_seconds"], s.user + s.sys);
    }
    let report = json!({
        "benchmark": "pdiff-zoo pipeline (issue #8)",
        "date": date,
        "machine": machine,
        "git_commit": shell("git rev-parse --short HEAD"),
        "recipe": recipe,
        "command": format!("/usr/bin/time -v {}", command.join(" ")),
        "total": {
            "wall_seconds": totals.wall,
            "user_seconds": totals.user,
            "sys_seconds": totals.sys,
            "cpu_seconds": total_cpu,
            "cpu_per_wall": total_cpu / totals.wall.max(1e-9),
            "peak_rss_mib": totals.max_rss_kib as f64 / 1024.0,
            "exit_status": totals.exit_status,
            "wall_seconds_observed": wall_observed,
        },
        "stages": poller.segments.iter().map(Segment::to_json).collect::<Vec<_>>(),
        "after_last_stage": {
            "what": "manifest, report.html and process exit (total minus the stage intervals)",
            "wall_seconds": (wall_observed - stages_wall).max(0.0),
            "cpu_seconds": (total_cpu - stages_cpu).max(0.0),
        },
        "per_arch": per_arch,
        "method": [
            "total: /usr/bin/time -v of the whole `pdiff-zoo run` (one process)",
            "stages[].seconds: the stage's own wall clock from state/<arch>.<stage>.json",
            "stages[].cpu_* and observed_wall_seconds: /proc/<pid>/stat of pdiff-zoo sampled \
             every 50 ms; an interval runs from the previous record (or process start) to this \
             stage's record, so start-up work is counted in the first stage",
            "stages[].peak_rss_mib_sampled: largest VmRSS sampled in the interval (may miss \
             spikes shorter than 50 ms); hwm_mib_at_end: the process's VmHWM (exact, but \
             cumulative) when the record appeared",
        ],
    });
    let text = serde_json::to_string_pretty(&rounded(report)).map_err(|e| e.to_string())?;
    if let Some(dir) = Path::new(out).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(out, text + "\n").map_err(|e| format!("{out}: {e}"))?;
    eprintln!("bench-pipeline: {:.1} s wall, {:.1} s CPU → {out}", totals.wall, total_cpu);
    if keep {
        eprintln!("bench-pipeline: kept {}", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

/// Every float rounded to 4 decimals (ms resolution is all the sources have).
fn rounded(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            json!((n.as_f64().unwrap_or(0.0) * 1e4).round() / 1e4)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(rounded).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, rounded(v))).collect()),
        other => other,
    }
}

/// Trimmed stdout of a shell command, if it succeeded.
fn shell(command: &str) -> Option<String> {
    let out = Command::new("sh").arg("-c").arg(command).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `nproc`, CPU model, memory, kernel and the load average when the run started.
fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |text: &str, key: &str| {
        text.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = field(&meminfo, "MemTotal")
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse::<f64>().ok()));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({
        "nproc": shell("nproc").and_then(|s| s.parse::<u64>().ok()),
        "cpu_model": field(&cpuinfo, "model name"),
        // The SIMD level and cache sizes pick burn-flex's and gemm's kernels and blocking,
        // hence the summation order: results can differ between machines that differ here.
        "cpu_simd_flags": field(&cpuinfo, "flags").map(|f| simd_flags(&f)),
        "cpu_caches": caches(),
        "memory_gib": mem_kib.map(|k| (k / 1024.0 / 1024.0 * 10.0).round() / 10.0),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_string()),
        "load_average_at_start": load.split_whitespace().take(3).filter_map(|v| v.parse::<f64>().ok()).collect::<Vec<_>>(),
    })
}

/// The SIMD-related flags among `flags` (a `/proc/cpuinfo` flags line), sorted.
fn simd_flags(flags: &str) -> Vec<String> {
    let mut out: Vec<String> = flags
        .split_whitespace()
        .filter(|f| f.starts_with("avx") || f.starts_with("sse") || matches!(*f, "fma" | "f16c"))
        .map(str::to_string)
        .collect();
    out.sort_unstable();
    out
}

/// CPU 0's caches as "L<level> <type> <size>", from sysfs (empty where it is unavailable).
fn caches() -> Vec<String> {
    let read = |path: &std::path::Path, name: &str| {
        std::fs::read_to_string(path.join(name)).ok().map(|s| s.trim().to_string())
    };
    let mut dirs: Vec<_> = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("index")))
        .collect();
    dirs.sort();
    dirs.iter()
        .filter_map(|d| {
            Some(format!("L{} {} {}", read(d, "level")?, read(d, "type")?, read(d, "size")?))
        })
        .collect()
}

/// What `/usr/bin/time -v` reported.
#[derive(Debug, Default, PartialEq)]
struct TimeV {
    wall: f64,
    user: f64,
    sys: f64,
    max_rss_kib: u64,
    exit_status: Option<i64>,
}

fn parse_time_v(text: &str) -> TimeV {
    let mut t = TimeV::default();
    for line in text.lines() {
        let line = line.trim();
        let Some((key, value)) = line.rsplit_once(": ") else { continue };
        let value = value.trim();
        if key == "User time (seconds)" {
            t.user = value.parse().unwrap_or(0.0);
        } else if key == "System time (seconds)" {
            t.sys = value.parse().unwrap_or(0.0);
        } else if key == "Maximum resident set size (kbytes)" {
            t.max_rss_kib = value.parse().unwrap_or(0);
        } else if key == "Exit status" {
            t.exit_status = value.parse().ok();
        } else if key.starts_with("Elapsed (wall clock) time") {
            // h:mm:ss or m:ss.ss
            t.wall = value
                .split(':')
                .try_fold(0.0, |acc, part| part.parse::<f64>().map(|v| acc * 60.0 + v))
                .unwrap_or(0.0);
        }
    }
    t
}

/// `(utime, stime)` in clock ticks and `(VmRSS, VmHWM)` in KiB of a process.
fn sample(pid: u32) -> Option<((u64, u64), (u64, u64))> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let cpu = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((cpu, (kib("VmRSS:")?, kib("VmHWM:")?)))
}

/// The parent pid of a process.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

/// The first child process of `parent`.
fn child_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .find(|&pid| parent_of(pid) == Some(parent))
}

/// One stage of one architecture as observed from outside.
#[derive(Debug)]
struct Segment {
    arch: String,
    stage: String,
    seconds: f64,
    observed_wall: f64,
    user: f64,
    sys: f64,
    rss_max_kib: u64,
    hwm_kib: u64,
}

impl Segment {
    fn to_json(&self) -> Value {
        let cpu = self.user + self.sys;
        json!({
            "arch": self.arch,
            "stage": self.stage,
            "seconds": self.seconds,
            "observed_wall_seconds": self.observed_wall,
            "cpu_seconds": cpu,
            "user_seconds": self.user,
            "sys_seconds": self.sys,
            "cpu_per_wall": cpu / self.observed_wall.max(1e-9),
            "peak_rss_mib_sampled": self.rss_max_kib as f64 / 1024.0,
            "hwm_mib_at_end": self.hwm_kib as f64 / 1024.0,
        })
    }
}

/// Samples the `pdiff-zoo` process (the child of `/usr/bin/time`) and cuts its life into
/// stages as their completion records appear.
struct Poller {
    time_pid: u32,
    pid: Option<u32>,
    state: PathBuf,
    tick: f64,
    started: Instant,
    seen: BTreeSet<String>,
    last: ((u64, u64), (u64, u64)),
    mark_cpu: (u64, u64),
    mark_time: f64,
    rss_max: u64,
    segments: Vec<Segment>,
}

impl Poller {
    fn new(time_pid: u32, state: PathBuf, tick: f64, started: Instant) -> Self {
        Self {
            time_pid,
            pid: None,
            state,
            tick,
            started,
            seen: BTreeSet::new(),
            last: ((0, 0), (0, 0)),
            mark_cpu: (0, 0),
            mark_time: 0.0,
            rss_max: 0,
            segments: Vec::new(),
        }
    }

    fn poll(&mut self) {
        if self.pid.is_none() {
            self.pid = child_of(self.time_pid);
        }
        if let Some(s) = self.pid.and_then(sample) {
            self.last = s;
            self.rss_max = self.rss_max.max(s.1.0);
        }
        let Ok(entries) = std::fs::read_dir(&self.state) else { return };
        let mut fresh: Vec<(String, Value)> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.ends_with(".json") && !n.starts_with('.') && !self.seen.contains(n))
            .filter_map(|n| {
                let text = std::fs::read_to_string(self.state.join(&n)).ok()?;
                let record: Value = serde_json::from_str(&text).ok()?;
                Some((n, record))
            })
            .collect();
        // Several records in one poll (a fast stage): the interval goes to the first one.
        fresh.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, record) in fresh {
            let now = self.started.elapsed().as_secs_f64();
            let ((user, sys), (_, hwm)) = self.last;
            self.segments.push(Segment {
                arch: record["arch"].as_str().unwrap_or("?").to_string(),
                stage: record["stage"].as_str().unwrap_or("?").to_string(),
                seconds: record["seconds"].as_f64().unwrap_or(f64::NAN),
                observed_wall: now - self.mark_time,
                user: (user - self.mark_cpu.0) as f64 / self.tick,
                sys: (sys - self.mark_cpu.1) as f64 / self.tick,
                rss_max_kib: self.rss_max,
                hwm_kib: hwm,
            });
            self.seen.insert(name);
            self.mark_cpu = (user, sys);
            self.mark_time = now;
            self.rss_max = self.last.1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gnu_time_verbose_output() {
        let text = "\tCommand being timed: \"pdiff-zoo run x\"\n\
                    \tUser time (seconds): 12.50\n\
                    \tSystem time (seconds): 0.75\n\
                    \tPercent of CPU this job got: 180%\n\
                    \tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03.5\n\
                    \tMaximum resident set size (kbytes): 204800\n\
                    \tExit status: 0\n";
        let t = parse_time_v(text);
        assert_eq!(t.user, 12.5);
        assert_eq!(t.sys, 0.75);
        assert_eq!(t.wall, 3723.5);
        assert_eq!(t.max_rss_kib, 204800);
        assert_eq!(t.exit_status, Some(0));
        assert_eq!(
            parse_time_v("\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:07.25").wall,
            7.25
        );
    }

    #[test]
    fn keeps_only_simd_flags_sorted() {
        let flags = "fpu sse2 avx512f fma pni avx2 ht avx512_bf16 f16c sse4_2";
        assert_eq!(
            simd_flags(flags),
            ["avx2", "avx512_bf16", "avx512f", "f16c", "fma", "sse2", "sse4_2"]
        );
    }

    #[test]
    fn samples_its_own_process() {
        let ((user, _), (rss, hwm)) = sample(std::process::id()).unwrap();
        assert!(rss > 0 && hwm >= rss);
        let _ = user;
        assert_eq!(parent_of(std::process::id()), Some(std::os::unix::process::parent_id()));
    }
}
