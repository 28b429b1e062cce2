//! A small parallel map: the one place that spreads independent jobs (inspecting evidence files,
//! normalising images, building binders) over the machine's cores.
//!
//! Results come back in the order of the input, so callers stay deterministic however the work
//! was scheduled. A job that panics (a decoder choking on a strange file) yields `None` for that
//! item alone; the others still finish.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Applies `f` to every item on up to `max_threads` threads (never more than the cores or the
/// items) and returns the results in input order; `None` where `f` panicked.
pub fn map<T, R, F>(items: &[T], max_threads: usize, f: F) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(max_threads)
        .min(items.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if let Ok(r) = catch_unwind(AssertUnwindSafe(|| f(item))) {
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
    fn no_items_no_threads() {
        let out: Vec<Option<()>> = map(&[] as &[u8], 4, |_| ());
        assert!(out.is_empty());
    }
}
