//! Work spread over a few threads: architectures of a run, candidate fits of one collection.
//! burn's CPU ops on small tensors keep little more than one core busy (docs/PERFORMANCE.md),
//! so independent jobs side by side use a 2-core machine almost twice as well.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::Result;

/// Runs `work` on every item, at most `jobs` at a time, starting them in item order, and
/// returns the results in item order. After a failure no further item starts; the error of
/// the earliest failing item is returned once the running ones have finished.
pub fn map_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(usize, &T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, Result<R>)>> = Mutex::new(Vec::with_capacity(items.len()));
    let jobs = jobs.clamp(1, items.len().max(1));
    let pools = jobs > 1;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while !failed.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let result = in_own_pool(pools, || work(i, item));
                    if result.is_err() {
                        failed.store(true, Ordering::SeqCst);
                    }
                    results.lock().unwrap_or_else(|p| p.into_inner()).push((i, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs `work` in a rayon pool of its own, as wide as the current one, when `own` is set.
/// Jobs that share one pool queue their small tensor ops behind each other's: two ResNet-8
/// fits side by side took 370 s in one pool against 277 s as two processes (PERFORMANCE.md).
/// The width is the current pool's, so burn-flex splits every op as it would alone and the
/// results stay the same; a pool that cannot be built leaves the work in the current one.
fn in_own_pool<R: Send>(own: bool, work: impl FnOnce() -> R + Send) -> R {
    let pool = own
        .then(|| rayon::ThreadPoolBuilder::new().num_threads(rayon::current_num_threads()).build())
        .and_then(Result::ok);
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// The default number of jobs: one per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::map_parallel;
    use std::sync::Mutex;

    #[test]
    fn runs_every_item_once_and_keeps_their_order_with_any_number_of_jobs() {
        for jobs in [1, 2, 5] {
            let seen = Mutex::new(Vec::new());
            let out = map_parallel(&[1, 2, 3, 4], jobs, |i, &p| {
                seen.lock().unwrap().push(p);
                Ok(10 * p + i)
            })
            .unwrap();
            assert_eq!(out, [10, 21, 32, 43], "jobs {jobs}");
            let mut seen = seen.into_inner().unwrap();
            seen.sort();
            assert_eq!(seen, [1, 2, 3, 4], "jobs {jobs}");
        }
    }

    #[test]
    fn returns_the_earliest_failure_and_starts_nothing_after_it() {
        let started = Mutex::new(Vec::new());
        let err = map_parallel(&[1, 2, 3, 4, 5], 1, |_, &p| {
            started.lock().unwrap().push(p);
            if p >= 2 { anyhow::bail!("plan {p} failed") } else { Ok(()) }
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "plan 2 failed");
        assert_eq!(started.into_inner().unwrap(), [1, 2]);
    }
}
