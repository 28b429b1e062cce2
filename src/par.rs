//! A small parallel map: the one place that spreads independent jobs (inspecting evidence files,
//! normalising images, building binders) over the machine's cores.
//!
//! Results come back in the order of the input, so callers stay deterministic however the work
//! was scheduled. A job that panics (a decoder choking on a strange file) yields `None` for that
//! item alone; the others still finish.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Applies `f` to every item on up to `max_threads` threads (never more than the cores or the
/// items) and returns the results in input order; `None` where `f` panicked.
pub fn map<T, R, F>(items: &[T], max_threads: usize, f: F) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_within(items, max_threads, usize::MAX, |_| 0, |item, _| f(item))
}

/// A running job's hold on the budget of [`map_within`]: [`Release::now`] gives its weight
/// back before the job ends (its memory-heavy part is over: a binder laid out and only being
/// written), so that the next job may start beside what is left of it.
pub struct Release<'a> {
    running: &'a Mutex<usize>,
    done: &'a Condvar,
    weight: usize,
    released: std::cell::Cell<bool>,
}

impl Release<'_> {
    /// Gives the weight back (once; later calls do nothing).
    pub fn now(&self) {
        if self.released.replace(true) {
            return;
        }
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) -= self.weight;
        self.done.notify_all();
    }
}

/// [`map`] for jobs whose memory grows with their size (typesetting a binder box): a job of
/// `weight(item)` starts only while the weights of the jobs running with it stay within
/// `budget` (a job heavier than the budget runs alone), counted until the job ends or gives
/// its weight back through its [`Release`]. Jobs start in input order.
pub fn map_within<T, R, F, W>(
    items: &[T],
    max_threads: usize,
    budget: usize,
    weight: W,
    f: F,
) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T, &Release<'_>) -> R + Sync,
    W: Fn(&T) -> usize + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(max_threads)
        .min(items.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    // The weight of the jobs running now.
    let running = Mutex::new(0usize);
    let done = Condvar::new();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let w = weight(item).min(budget);
                    let mut now = running.lock().unwrap_or_else(|e| e.into_inner());
                    while *now > 0 && now.saturating_add(w) > budget {
                        now = done.wait(now).unwrap_or_else(|e| e.into_inner());
                    }
                    *now += w;
                    drop(now);
                    let release = Release {
                        running: &running,
                        done: &done,
                        weight: w,
                        released: std::cell::Cell::new(false),
                    };
                    let r = catch_unwind(AssertUnwindSafe(|| f(item, &release)));
                    release.now();
                    if let Ok(r) = r {
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                    }
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order() {
        let items: Vec<u64> = (0..200).collect();
        let out = map(&items, 8, |&x| {
            // Uneven work so that threads finish out of order.
            std::thread::sleep(std::time::Duration::from_micros((200 - x) * 10));
            x * x
        });
        let want: Vec<Option<u64>> = items.iter().map(|&x| Some(x * x)).collect();
        assert_eq!(out, want);
    }

    #[test]
    fn a_panicking_job_loses_only_its_own_result() {
        let items = [1, 2, 3, 4];
        let out = map(&items, 4, |&x| {
            if x == 3 {
                panic!("bad file");
            }
            x
        });
        assert_eq!(out, vec![Some(1), Some(2), None, Some(4)]);
    }

    #[test]
    fn jobs_over_the_budget_never_run_together() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items = [6, 5, 2, 2, 9, 1, 1, 4];
        let out = map_within(
            &items,
            4,
            6,
            |&w| w,
            |&w, _| {
                let now = running.fetch_add(w.min(6), Ordering::SeqCst) + w.min(6);
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(5));
                running.fetch_sub(w.min(6), Ordering::SeqCst);
                w
            },
        );
        assert_eq!(out, items.iter().map(|&w| Some(w)).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 6, "{most:?}");
    }

    #[test]
    fn a_job_that_gives_its_weight_back_lets_the_next_start_beside_it() {
        // Each job fills the budget: laid out alone, but each one's writing (after `now`) runs
        // beside the next one's layout. A job waits, after giving its weight back, until the
        // next one has started (at most 10 s: without the release it never would).
        let heavy = AtomicUsize::new(0);
        let most_heavy = AtomicUsize::new(0);
        let started = AtomicUsize::new(0);
        let items = [0, 1, 2, 3];
        let beside = map_within(
            &items,
            2,
            6,
            |_| 6,
            |&i, release| {
                started.fetch_add(1, Ordering::SeqCst);
                most_heavy.fetch_max(heavy.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(5));
                heavy.fetch_sub(1, Ordering::SeqCst);
                release.now();
                release.now();
                let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while i + 1 < items.len() && started.load(Ordering::SeqCst) <= i + 1 {
                    if std::time::Instant::now() > until {
                        return false;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                true
            },
        );
        assert_eq!(most_heavy.load(Ordering::SeqCst), 1, "two layouts at once");
        assert!(beside.iter().all(|b| *b == Some(true)), "{beside:?}");
    }

    #[test]
    fn no_items_no_threads() {
        let out: Vec<Option<()>> = map(&[] as &[u8], 4, |_| ());
        assert!(out.is_empty());
    }
}
