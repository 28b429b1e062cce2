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

#[cfg(test)]
mod tests {
    use super::*;

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
}

/// Whether a folder name is a hidden folder (`.git`, `.cache`): never evidence, never a reason
/// to rebuild.
pub fn is_hidden_folder(name: &str) -> bool {
    name.starts_with('.')
}

/// Size and modification time of a file: when either changes, the file changed. What every
/// cache of file contents here is keyed by (evidence bytes, inspections, fonts), and what the
/// record of outputs keeps to tell a file changed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, in nanoseconds since the Unix epoch.
    pub modified_ns: u128,
}

impl Fingerprint {
    /// The fingerprint of the file at `path`, if its metadata can be read.
    pub fn of(path: &std::path::Path) -> Option<Fingerprint> {
        let meta = std::fs::metadata(path).ok()?;
        let modified = meta.modified().ok()?;
        Some(Fingerprint {
            size: meta.len(),
            modified_ns: modified
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        })
    }
}

/// Values made from files (their bytes, what inspecting them found), each kept with the file's
/// fingerprint and reused while the file is unchanged. Shared between threads.
#[derive(Debug)]
pub struct FingerprintCache<V> {
    map: std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, (Fingerprint, V)>>,
}

impl<V> Default for FingerprintCache<V> {
    fn default() -> Self {
        FingerprintCache {
            map: std::sync::Mutex::default(),
        }
    }
}

impl<V: Clone> FingerprintCache<V> {
    /// The value for the file at `path`: the kept one while the file is unchanged, else made by
    /// `make` (and kept, when the file's fingerprint can be read).
    pub fn get_or_make<E>(
        &self,
        path: &std::path::Path,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let print = Fingerprint::of(path);
        if let Some(print) = print
            && let Some((kept, value)) = self.lock().get(path)
            && *kept == print
        {
            return Ok(value.clone());
        }
        let value = make()?;
        if let Some(print) = print {
            self.lock()
                .insert(path.to_path_buf(), (print, value.clone()));
        }
        Ok(value)
    }

    /// Keeps only the files `keep` says yes to: bounds memory in a long `watch`.
    pub fn retain(&self, keep: impl Fn(&std::path::Path) -> bool) {
        self.lock().retain(|p, _| keep(p));
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<std::path::PathBuf, (Fingerprint, V)>>
    {
        // A panic elsewhere while the lock was held leaves a map that is still consistent.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod fingerprint_tests {
    use super::*;

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
}
