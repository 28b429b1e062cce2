//! Which files of a dossier folder are the user's and which are scratch: editors' temporary
//! and backup files, hidden files, the operating system's own files. Loading, the search for
//! unreferenced evidence and `watch` all skip the same ones, decided here once.

/// Whether a file name (the last component of a path) is an editor's temporary or backup file,
/// a hidden file, or a file the operating system leaves in folders: never evidence, never an
/// item file, never a reason to rebuild.
pub fn is_scratch_file(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('~')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913"
        || name.eq_ignore_ascii_case("Thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
}

/// Whether a folder name is a hidden folder (`.git`, `.cache`): never evidence, never a reason
/// to rebuild.
pub fn is_hidden_folder(name: &str) -> bool {
    name.starts_with('.')
}

/// Size, modification time and status-change time (ctime) of a file: when any changes, the
/// file may have changed. What every cache of file contents here is keyed by (evidence bytes,
/// inspections, normalised images, fonts), and what the record of outputs keeps to tell a file
/// changed by hand. The ctime matters: a tool that edits a file in place and puts its
/// modification time back (`exiftool -P` turning a photo, `touch -r`) leaves size and mtime
/// as they were, but every write moves the ctime and no program can set it back. (Copying the
/// dossier folder elsewhere gives every file a new ctime: the caches are made again once.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, in nanoseconds since the Unix epoch.
    pub modified_ns: u128,
    /// Status-change time, in nanoseconds since the Unix epoch (0 where the platform has none,
    /// and in records written before it was kept).
    #[serde(default)]
    pub changed_ns: u128,
}

impl Fingerprint {
    /// The fingerprint of the file at `path`, if its metadata can be read.
    pub fn of(path: &std::path::Path) -> Option<Fingerprint> {
        Fingerprint::from_metadata(&std::fs::metadata(path).ok()?)
    }

    /// The fingerprint in `meta` (of a path, or of an open file), if it has a modification time.
    pub fn from_metadata(meta: &std::fs::Metadata) -> Option<Fingerprint> {
        let modified = meta.modified().ok()?;
        Some(Fingerprint {
            size: meta.len(),
            modified_ns: modified
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            changed_ns: changed_ns(meta),
        })
    }

    /// Whether a fingerprint recorded earlier (perhaps by a version that kept no ctime) still
    /// describes the file whose fingerprint is `self` now.
    pub fn still(&self, recorded: &Fingerprint) -> bool {
        if recorded.changed_ns == 0 {
            (self.size, self.modified_ns) == (recorded.size, recorded.modified_ns)
        } else {
            self == recorded
        }
    }
}

#[cfg(unix)]
fn changed_ns(meta: &std::fs::Metadata) -> u128 {
    use std::os::unix::fs::MetadataExt;
    u128::try_from(meta.ctime()).unwrap_or(0) * 1_000_000_000
        + u128::try_from(meta.ctime_nsec()).unwrap_or(0)
}

#[cfg(not(unix))]
fn changed_ns(_: &std::fs::Metadata) -> u128 {
    0
}

/// Values made from files (their bytes, what inspecting them found), each kept with the file's
/// fingerprint and reused while the file is unchanged. Shared between threads. With a budget
/// ([`FingerprintCache::with_budget`]), the least recently used values are dropped when the
/// kept values weigh more than it: memory stays bounded however many files a run reads.
pub struct FingerprintCache<V> {
    map: std::sync::Mutex<Entries<V>>,
    /// The most the kept values may weigh, and how to weigh one.
    budget: Option<Budget<V>>,
}

/// A weight limit and the function that weighs a value.
type Budget<V> = (usize, fn(&V) -> usize);

/// The kept values: by file, each with its fingerprint and when it was last used; the clock;
/// their total weight.
struct Entries<V> {
    by_path: std::collections::HashMap<std::path::PathBuf, (Fingerprint, V, u64)>,
    clock: u64,
    weight: usize,
}

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries {
            by_path: std::collections::HashMap::new(),
            clock: 0,
            weight: 0,
        }
    }
}

impl<V> Default for FingerprintCache<V> {
    fn default() -> Self {
        FingerprintCache {
            map: std::sync::Mutex::default(),
            budget: None,
        }
    }
}

impl<V> std::fmt::Debug for FingerprintCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.lock();
        f.debug_struct("FingerprintCache")
            .field("files", &entries.by_path.len())
            .field("weight", &entries.weight)
            .finish()
    }
}

impl<V: Clone> FingerprintCache<V> {
    /// A cache whose values may weigh at most `budget` (by `weight`) together.
    pub fn with_budget(budget: usize, weight: fn(&V) -> usize) -> Self {
        FingerprintCache {
            map: std::sync::Mutex::default(),
            budget: Some((budget, weight)),
        }
    }

    /// The value for the file at `path`: the kept one while the file is unchanged, else made by
    /// `make` (and kept, when the file's fingerprint can be read).
    pub fn get_or_make<E>(
        &self,
        path: &std::path::Path,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let print = Fingerprint::of(path);
        if let Some(print) = print {
            let mut entries = self.lock();
            entries.clock += 1;
            let now = entries.clock;
            if let Some((kept, value, used)) = entries.by_path.get_mut(path)
                && *kept == print
            {
                *used = now;
                return Ok(value.clone());
            }
        }
        let value = make()?;
        if let Some(print) = print {
            self.keep(path.to_path_buf(), print, value.clone());
        }
        Ok(value)
    }

    /// Keeps `value` for the file at `path` as it was with fingerprint `print`: used while the
    /// file still has it (a value saved by an earlier run and read back).
    pub fn keep(&self, path: std::path::PathBuf, print: Fingerprint, value: V) {
        let mut entries = self.lock();
        let now = entries.clock;
        let weight = self.budget.map(|(_, weigh)| weigh(&value));
        let old = entries.by_path.insert(path, (print, value, now));
        if let (Some((_, weigh)), Some(w)) = (self.budget, weight) {
            entries.weight += w;
            entries.weight -= old.map_or(0, |(_, v, _)| weigh(&v));
        }
        self.shrink(&mut entries);
    }

    /// Every kept value with its file and fingerprint, sorted by file (to save them).
    pub fn snapshot(&self) -> Vec<(std::path::PathBuf, Fingerprint, V)> {
        let mut all: Vec<_> = (self.lock().by_path.iter())
            .map(|(p, (print, v, _))| (p.clone(), *print, v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Drops the least recently used values until the rest fit the budget.
    fn shrink(&self, entries: &mut Entries<V>) {
        let Some((budget, weigh)) = self.budget else {
            return;
        };
        if entries.weight <= budget {
            return;
        }
        let mut by_age: Vec<(u64, std::path::PathBuf)> = (entries.by_path.iter())
            .map(|(p, (_, _, used))| (*used, p.clone()))
            .collect();
        by_age.sort();
        for (_, path) in by_age {
            if entries.weight <= budget {
                break;
            }
            if let Some((_, v, _)) = entries.by_path.remove(&path) {
                entries.weight -= weigh(&v);
            }
        }
    }

    /// Keeps only the files `keep` says yes to: bounds memory in a long `watch`.
    pub fn retain(&self, keep: impl Fn(&std::path::Path) -> bool) {
        let mut entries = self.lock();
        let weigh = self.budget.map(|(_, w)| w);
        let mut dropped = 0;
        entries.by_path.retain(|p, (_, v, _)| {
            let k = keep(p);
            if !k {
                dropped += weigh.map_or(0, |w| w(v));
            }
            k
        });
        entries.weight -= dropped;
    }

    /// The total weight of the kept values (0 without a budget).
    pub fn weight(&self) -> usize {
        self.lock().weight
    }
}

impl<V> FingerprintCache<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<V>> {
        // A panic elsewhere while the lock was held leaves entries that are still consistent.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_rewritten_with_its_old_size_and_time_has_another_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.jpg");
        std::fs::write(&path, b"orientation 1").unwrap();
        let before = Fingerprint::of(&path).unwrap();
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, b"orientation 6").unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(mtime).unwrap();
        drop(f);
        let after = Fingerprint::of(&path).unwrap();
        assert_eq!(
            (after.size, after.modified_ns),
            (before.size, before.modified_ns)
        );
        if cfg!(unix) {
            assert_ne!(after, before);
            assert!(!after.still(&before));
        }
        // A record written before the ctime was kept is matched by size and time.
        let old = Fingerprint {
            changed_ns: 0,
            ..before
        };
        assert!(after.still(&old));
    }

    #[test]
    fn scratch_files_are_recognised_and_ordinary_ones_are_not() {
        for name in [
            ".05.yaml.swp",
            "~$统计表.xlsx",
            "05.yaml~",
            "#05.yaml#",
            "4913",
            ".DS_Store",
            "Thumbs.db",
            "desktop.ini",
            ".dossier-abc.tmp",
        ] {
            assert!(is_scratch_file(name), "{name}");
        }
        for name in ["05.yaml", "05.YAML", "方案.pdf", "a~b.pdf", "备份.bak"] {
            assert!(!is_scratch_file(name), "{name}");
        }
    }

    #[test]
    fn a_value_is_made_again_when_its_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "one").unwrap();
        let cache: FingerprintCache<String> = FingerprintCache::default();
        let read = || cache.get_or_make(&path, || std::fs::read_to_string(&path));
        assert_eq!(read().unwrap(), "one");
        // Unchanged: the kept value, even though `make` would now fail.
        let kept = cache.get_or_make(&path, || Err::<String, _>("not called"));
        assert_eq!(kept.unwrap(), "one");
        std::fs::write(&path, "three").unwrap(); // another size
        assert_eq!(read().unwrap(), "three");
        cache.retain(|_| false);
        assert!(
            cache
                .get_or_make(&path, || Err::<String, _>("made"))
                .is_err()
        );
    }

    #[test]
    fn a_budget_drops_the_least_recently_used_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = |i: usize| dir.path().join(format!("{i}.bin"));
        for i in 0..4 {
            std::fs::write(path(i), vec![0u8; 100]).unwrap();
        }
        let cache: FingerprintCache<Vec<u8>> = FingerprintCache::with_budget(250, Vec::len);
        let read = |i: usize| {
            cache
                .get_or_make(&path(i), || std::fs::read(path(i)))
                .unwrap()
        };
        read(0);
        read(1);
        read(0); // 0 used again: 1 is now the least recently used
        read(2); // 300 > 250: 1 goes
        assert_eq!(cache.weight(), 200);
        let kept = |i: usize| {
            cache
                .get_or_make(&path(i), || Err::<Vec<u8>, _>(()))
                .is_ok()
        };
        assert!(!kept(1));
        assert!(kept(0) && kept(2));
        read(3);
        assert!(cache.weight() <= 250);
        cache.retain(|_| false);
        assert_eq!(cache.weight(), 0);
    }
}
