//! The SHA-256 and CRC-32 of evidence files as the last package found them, kept between runs
//! in the output folder, so that a rebuild copies the evidence into the package without hashing
//! it again (200 scans: 157 MB; 5,000 pages: several GB of SHA-256 on every rebuild).
//!
//! A kept digest is trusted only while the file's status is exactly what it was when it was
//! hashed: size, modification time, status-change time (ctime), inode and device. Any write to
//! a file moves its ctime, and no program can set a ctime back, so a file changed in any way
//! (even one whose modification time was restored, or a copy put in its place) is hashed again.
//! As git does with "racily clean" entries, a digest is kept only for a file whose ctime is at
//! least [`SETTLED`] older than the moment it was read: a file written again within the same
//! clock tick as the hashed version could otherwise keep its ctime. On top of that the package
//! computes the CRC-32 of every byte it copies (cheap: the zip needs it anyway) and uses a kept
//! SHA-256 only when that CRC-32 and the size match the kept ones; else it hashes the file
//! again. Where the file status has no ctime or inode (not Unix), nothing is kept.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::paths::Fingerprint;

/// How much older than the moment of reading a file's last change must be for its digest to
/// be kept (see the module documentation).
pub const SETTLED: Duration = Duration::from_secs(2);

/// What a file's status says about its contents: its fingerprint (size, modification and
/// status-change times), inode and device. When any of it changes, the contents may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Size and times.
    pub print: Fingerprint,
    /// Inode number.
    pub inode: u64,
    /// Device number.
    pub device: u64,
}

impl Status {
    /// The status of an open file (`None` where the platform has no ctime or inode).
    pub fn of(file: &std::fs::File) -> Option<Status> {
        file.metadata().ok().and_then(|m| Status::from_metadata(&m))
    }

    #[cfg(unix)]
    fn from_metadata(m: &std::fs::Metadata) -> Option<Status> {
        use std::os::unix::fs::MetadataExt;
        Some(Status {
            print: Fingerprint::from_metadata(m)?,
            inode: m.ino(),
            device: m.dev(),
        })
    }

    #[cfg(not(unix))]
    fn from_metadata(_: &std::fs::Metadata) -> Option<Status> {
        None
    }

    /// Whether the file had settled (last changed at least [`SETTLED`] before `read_at`).
    pub fn settled_before(&self, read_at: SystemTime) -> bool {
        let at = read_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        self.print.changed_ns + SETTLED.as_nanos() <= at
    }
}

/// The digests of one file's contents, with the status it had when they were computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// The file's status then.
    pub status: Status,
    /// CRC-32 of the contents (as zip computes it).
    pub crc32: u32,
    /// SHA-256 of the contents, lowercase hex.
    pub sha256: String,
}

/// Digests of files by path (as the package reads them), read from and saved to the output
/// folder's cache.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Digests {
    version: String,
    files: BTreeMap<String, Digest>,
    /// Something was added, replaced or dropped since it was read.
    #[serde(skip)]
    changed: bool,
}

impl Digests {
    /// Where a build keeps them, in its output folder.
    pub fn file(out: &Path) -> std::path::PathBuf {
        out.join(".cache").join("digests.json")
    }

    /// The digests saved at `file`; none when it is missing, unreadable or of another version
    /// (every file is then hashed again).
    pub fn load(file: &Path) -> Digests {
        let saved = std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Digests>(&b).ok())
            .filter(|d| d.version == env!("CARGO_PKG_VERSION"));
        saved.unwrap_or_else(|| Digests {
            version: env!("CARGO_PKG_VERSION").into(),
            ..Digests::default()
        })
    }

    /// The kept digest of the file at `path` if the file's status is still `status`.
    pub fn get(&self, path: &Path, status: &Status) -> Option<&Digest> {
        (self.files.get(&key(path))).filter(|d| d.status == *status)
    }

    /// Keeps `digest` for the file at `path` (replacing what was kept).
    pub fn keep(&mut self, path: &Path, digest: Digest) {
        let old = self.files.insert(key(path), digest.clone());
        self.changed |= old.as_ref() != Some(&digest);
    }

    /// Drops what was kept for the file at `path` (it changed too recently to keep its new
    /// digests).
    pub fn forget(&mut self, path: &Path) {
        self.changed |= self.files.remove(&key(path)).is_some();
    }

    /// Drops every file not in `used` (files no longer in the dossier).
    pub fn retain_only(&mut self, used: &std::collections::BTreeSet<String>) {
        let before = self.files.len();
        self.files.retain(|k, _| used.contains(k));
        self.changed |= self.files.len() != before;
    }

    /// The key of `path` in [`Digests::retain_only`]'s set.
    pub fn key_of(path: &Path) -> String {
        key(path)
    }

    /// Saves them to `file` if anything changed since they were read.
    pub fn save(&self, file: &Path) -> anyhow::Result<()> {
        if !self.changed {
            return Ok(());
        }
        crate::output::write_if_changed(file, &serde_json::to_vec(self)?)
    }
}

fn key(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(path: &Path) -> Status {
        Status::of(&std::fs::File::open(path).unwrap()).unwrap()
    }

    #[test]
    fn a_kept_digest_holds_only_while_the_status_is_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpg");
        std::fs::write(&path, b"one").unwrap();
        let status = status_of(&path);
        let mut d = Digests::load(&Digests::file(dir.path()));
        d.keep(
            &path,
            Digest {
                status,
                crc32: crc32fast::hash(b"one"),
                sha256: "x".into(),
            },
        );
        assert!(d.get(&path, &status_of(&path)).is_some());
        // Same size, modification time put back: the ctime still moves.
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, b"two").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let now = status_of(&path);
        assert_eq!(
            (now.print.size, now.print.modified_ns),
            (status.print.size, status.print.modified_ns)
        );
        assert!(d.get(&path, &now).is_none());
    }

    #[test]
    fn saved_digests_are_read_back_and_another_version_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpg");
        std::fs::write(&path, b"one").unwrap();
        let file = Digests::file(dir.path());
        let mut d = Digests::load(&file);
        let digest = Digest {
            status: status_of(&path),
            crc32: 1,
            sha256: "ab".into(),
        };
        d.keep(&path, digest.clone());
        d.save(&file).unwrap();
        assert_eq!(
            Digests::load(&file).get(&path, &digest.status),
            Some(&digest)
        );
        let text = std::fs::read_to_string(&file).unwrap();
        let other = text.replace(env!("CARGO_PKG_VERSION"), "0.0.0-other");
        std::fs::write(&file, other).unwrap();
        assert!(Digests::load(&file).get(&path, &digest.status).is_none());
    }

    #[test]
    fn a_file_changed_just_before_it_was_read_has_not_settled() {
        let s = Status {
            print: Fingerprint {
                size: 1,
                modified_ns: 0,
                changed_ns: 10_000_000_000,
            },
            inode: 1,
            device: 1,
        };
        let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        assert!(!s.settled_before(at(11)));
        assert!(s.settled_before(at(12)));
    }
}
