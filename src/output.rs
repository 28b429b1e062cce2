//! Writing outputs safely: every output goes to a temporary file in the target folder and is
//! renamed into place only when complete, so a failed or interrupted build leaves the previous
//! output as it was.
//!
//! [`OutDir`] is the output folder of one run: checked (a folder, not inside the dossier's own
//! folders), locked (a second `dossier` writing into the same folder waits), cleared of the
//! temporary files a killed run left behind, and keeping a record of the files each command
//! wrote, so a build removes what it no longer produces (a volume that is gone, an old output
//! name) instead of leaving it beside the new files.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::paths::Fingerprint;

/// Prefix of every temporary file this program writes.
pub const TEMP_PREFIX: &str = ".dossier-";
/// Suffix of every temporary file this program writes.
pub const TEMP_SUFFIX: &str = ".tmp";
/// The lock file in an output folder.
pub const LOCK_FILE: &str = ".dossier.lock";
/// The record of what each command wrote into an output folder.
pub const RECORD_FILE: &str = ".dossier-outputs.json";

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_with(path, |f| f.write_all(bytes).map_err(Into::into))
}

/// Writes `bytes` to `path` (creating its folder) unless the file already holds exactly them:
/// for caches saved between runs, which mostly come out the same.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("无法创建缓存目录 {}", dir.display()))?;
    }
    write_atomic(path, bytes).with_context(|| format!("无法写入缓存 {}", path.display()))
}

/// Creates `path` through a temporary file filled by `fill`, renamed into place when `fill`
/// succeeds; on failure the temporary file is removed and `path` is untouched.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    stage(path, fill)?.0.commit()
}

/// A complete output waiting in a temporary file next to its destination. Dropping it removes
/// the temporary file; [`Staged::commit`] renames it into place.
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    dest: std::path::PathBuf,
}

/// Writes an output to a temporary file beside `dest` with `fill` and flushes it to disk, but
/// does not put it in place yet: outputs that belong together are committed together, after
/// all of them were written.
pub fn stage<T>(
    dest: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> anyhow::Result<T>,
) -> anyhow::Result<(Staged, T)> {
    let mut staging = Staging::open(dest)?;
    let value =
        fill(staging.tmp.as_file_mut()).with_context(|| format!("写入 {} 失败", dest.display()))?;
    Ok((staging.finish()?, value))
}

/// [`stage`] for a large output: `fill` writes through a buffered [`Writeback`], so what it
/// writes goes to the disk while it is written and the final flush waits only for the tail
/// (a PDF of hundreds of megabytes: its whole write-back would otherwise come at the end).
pub fn stage_writeback<T>(
    dest: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<Writeback>) -> anyhow::Result<T>,
) -> anyhow::Result<(Staged, T)> {
    let staging = Staging::open(dest)?;
    let write = || -> anyhow::Result<T> {
        let mut w = std::io::BufWriter::new(staging.writeback()?);
        let value = fill(&mut w)?;
        w.flush()?;
        Ok(value)
    };
    let value = write().with_context(|| format!("写入 {} 失败", dest.display()))?;
    Ok((staging.finish()?, value))
}

/// An output being written to a temporary file beside its destination, over a longer time
/// than one call (the package: its evidence while the PDF is typeset, the rest after).
/// Dropping it removes the temporary file.
pub struct Staging {
    tmp: tempfile::NamedTempFile,
    dest: std::path::PathBuf,
}

impl Staging {
    /// A new empty temporary file for `dest`.
    pub fn open(dest: &Path) -> anyhow::Result<Staging> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)
            .with_context(|| format!("无法创建输出目录 {}", dir.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)
            .with_context(|| format!("无法在 {} 创建临时文件", dir.display()))?;
        Ok(Staging {
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    /// Another handle to the temporary file, to write through.
    pub fn writer(&self) -> anyhow::Result<std::fs::File> {
        (self.tmp.as_file().try_clone())
            .with_context(|| format!("写入 {} 失败", self.dest.display()))
    }

    /// A writer to the temporary file that hands what is written to the disk as it goes (see
    /// [`Writeback`]).
    pub fn writeback(&self) -> anyhow::Result<Writeback> {
        let flusher = File::open(self.tmp.path()).ok();
        Ok(Writeback::new(self.writer()?, flusher))
    }

    /// The file is complete: made an ordinary readable file and flushed to disk.
    pub fn finish(self) -> anyhow::Result<Staged> {
        let dest = &self.dest;
        // Temporary files are private (0600); an output is an ordinary readable file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(self.tmp.path(), std::fs::Permissions::from_mode(0o644))
                .with_context(|| format!("写入 {} 失败", dest.display()))?;
        }
        (self.tmp.as_file().sync_all()).with_context(|| format!("写入 {} 失败", dest.display()))?;
        Ok(Staged {
            tmp: self.tmp,
            dest: self.dest,
        })
    }
}

/// Bytes written through a [`Writeback`] between two requests to start writing them to disk.
pub const WRITEBACK_EVERY: u64 = 32 << 20;

/// A file written through this goes to disk while it is written: every [`WRITEBACK_EVERY`]
/// bytes a helper thread flushes what is written so far (`fdatasync`), so the `sync_all` that
/// ends the writing ([`Staging::finish`]) waits only for the last part — the disk's time
/// overlaps the making of the rest. The helper flushes through a file opened on its own, not a
/// duplicate of the writer's handle: the kernel reports a failed write-back once to each open
/// file, and the error the helper does not look at must still reach that final `sync_all`.
/// Dropping it waits for the helper. Made by [`Staging::writeback`].
pub struct Writeback {
    file: File,
    pending: u64,
    nudge: Option<std::sync::mpsc::SyncSender<()>>,
    helper: Option<std::thread::JoinHandle<()>>,
}

impl Writeback {
    /// Writes to `file`; `flusher`, the same file opened separately, is flushed by the helper
    /// (without it, nothing is flushed early).
    fn new(file: File, flusher: Option<File>) -> Writeback {
        let (nudge, helper) = match flusher {
            Some(f) => {
                // One request waiting is enough: the flush it starts covers everything
                // written before it runs.
                let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
                let helper = std::thread::Builder::new()
                    .name("writeback".into())
                    .spawn(move || {
                        for () in rx {
                            let _ = f.sync_data();
                        }
                    })
                    .ok();
                (helper.is_some().then_some(tx), helper)
            }
            None => (None, None),
        };
        Writeback {
            file,
            pending: 0,
            nudge,
            helper,
        }
    }
}

impl Write for Writeback {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(b)?;
        self.pending += n as u64;
        if self.pending >= WRITEBACK_EVERY {
            self.pending = 0;
            if let Some(tx) = &self.nudge {
                let _ = tx.try_send(());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl std::io::Seek for Writeback {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.file.seek(pos)
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        self.nudge = None;
        if let Some(h) = self.helper.take() {
            let _ = h.join();
        }
    }
}

impl Staged {
    /// Where the bytes are until [`Staged::commit`].
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Renames the temporary file into place.
    pub fn commit(self) -> anyhow::Result<()> {
        let dest = self.dest;
        self.tmp
            .persist(&dest)
            .map_err(|e| e.error)
            .with_context(|| format!("无法保存 {}", dest.display()))?;
        Ok(())
    }
}

/// Puts outputs that belong together in place, all or none. Every destination is checked
/// first (a folder in the way stops the commit before anything moves); the files they replace
/// are set aside, and if one rename still fails, the outputs already placed are taken back and
/// the set-aside files restored, so the folder is as it was before.
pub fn commit_all(staged: Vec<Staged>) -> anyhow::Result<()> {
    for s in &staged {
        if s.dest.is_dir() {
            bail!(
                "无法保存 {}：那里有一个同名文件夹。请把它移走或改名后重新生成",
                s.dest.display()
            );
        }
    }
    // The previous outputs, renamed aside (in the same folder, with the temporary prefix, so
    // that a killed run's leftovers are cleared by the next one).
    let mut aside: Vec<(PathBuf, PathBuf)> = Vec::new();
    let restore = |aside: &[(PathBuf, PathBuf)], placed: &[PathBuf]| {
        for p in placed {
            let _ = std::fs::remove_file(p);
        }
        for (dest, backup) in aside {
            let _ = std::fs::rename(backup, dest);
        }
    };
    for s in &staged {
        if s.dest.is_file() {
            let backup = s.tmp.path().with_extension("old.tmp");
            if let Err(e) = std::fs::rename(&s.dest, &backup) {
                restore(&aside, &[]);
                return Err(e).with_context(|| format!("无法保存 {}", s.dest.display()));
            }
            aside.push((s.dest.clone(), backup));
        }
    }
    let mut placed: Vec<PathBuf> = Vec::new();
    for s in staged {
        let dest = s.dest.clone();
        if let Err(e) = s.commit() {
            restore(&aside, &placed);
            return Err(e);
        }
        placed.push(dest);
    }
    for (_, backup) in aside {
        let _ = std::fs::remove_file(backup);
    }
    Ok(())
}

/// The output folder of one run, locked for as long as this value lives.
pub struct OutDir {
    path: PathBuf,
    _lock: File,
}

/// The folders of a dossier that an output folder may not be in: what is inside them is read
/// as the dossier's own files.
const INPUT_FOLDERS: [&str; 4] = [
    crate::load::EVIDENCE_DIR,
    crate::load::OCR_DIR,
    crate::load::ITEMS_DIR,
    crate::load::TEMPLATES_DIR,
];

impl OutDir {
    /// Opens the output folder `out` of the dossier at `canonical_root` (creating it), refuses
    /// it if it is not a folder or lies in the dossier's own folders, waits while another
    /// `dossier` writes into it (saying so through `note`), and removes temporary files that a
    /// killed run left there.
    pub fn open(
        out: &Path,
        canonical_root: &Path,
        mut note: impl FnMut(&str),
    ) -> anyhow::Result<OutDir> {
        if out.exists() && !out.is_dir() {
            bail!(
                "输出目录 {} 已存在，但不是文件夹；请用 --out 指定一个文件夹",
                out.display()
            );
        }
        // Checked before anything is created: a refused folder must not appear in the dossier.
        let canonical =
            canonical_to_be(out).with_context(|| format!("无法读取输出目录 {}", out.display()))?;
        if canonical == canonical_root {
            bail!(
                "输出目录 {} 就是资料目录本身；生成的文件会和资料混在一起。请用 --out 指定资料目录以外的文件夹（默认 out）",
                out.display()
            );
        }
        for folder in INPUT_FOLDERS {
            if canonical.starts_with(canonical_root.join(folder)) {
                bail!(
                    "输出目录 {} 在资料目录的 {folder} 文件夹里；生成的 PDF 和资料包会被当成资料读进去。请用 --out 指定 {folder} 以外的文件夹（默认 out）",
                    out.display()
                );
            }
        }
        std::fs::create_dir_all(out)
            .with_context(|| format!("无法创建输出目录 {}", out.display()))?;
        let lock_path = out.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("无法写入输出目录 {}", out.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                note(&format!(
                    "输出目录 {} 正由另一个 dossier 进程写入（另一次生成，或正在运行的 dossier watch），等它写完再继续……",
                    out.display()
                ));
                lock.lock()
                    .with_context(|| format!("无法锁定输出目录 {}", out.display()))?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("无法锁定输出目录 {}", out.display()));
            }
        }
        let dir = OutDir {
            path: out.to_path_buf(),
            _lock: lock,
        };
        let removed = dir.remove_leftovers();
        if removed > 0 {
            note(&format!(
                "已删除上次中断的生成留下的 {removed} 个临时文件（{}）",
                out.display()
            ));
        }
        Ok(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files directly in `sub` (a subfolder, or "" for the folder itself) whose names pass
    /// `keep`, relative to the folder, sorted: candidates for [`OutDir::record`].
    pub fn files(&self, sub: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.path.join(sub)) else {
            return Vec::new();
        };
        let mut found: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|f| keep(f))
            .map(|f| {
                if sub.is_empty() {
                    f
                } else {
                    format!("{sub}/{f}")
                }
            })
            .collect();
        found.sort();
        found
    }

    /// Removes this program's temporary files in the folder and its subfolders (a killed run
    /// leaves them; while the lock is held no other run is writing any). Returns how many.
    fn remove_leftovers(&self) -> usize {
        walkdir::WalkDir::new(&self.path)
            .max_depth(3)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name().to_string_lossy();
                e.file_type().is_file()
                    && name.starts_with(TEMP_PREFIX)
                    && name.ends_with(TEMP_SUFFIX)
            })
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }

    /// Records `written` (paths relative to the folder) as what `producer` (e.g. "build")
    /// wrote this time, and removes what it wrote last time and no longer produces, unless
    /// the file was changed since or `keep` says so (a single binder keeps the other units'
    /// binders, not its own old boxes). Returns lines to tell the user.
    ///
    /// `candidates` are files in the folder that look like this producer's outputs (an older
    /// volume, another binder); any of them that exists, was not written now and is not in the
    /// record (written by an older version, or by hand) is pointed out, not removed.
    pub fn record(
        &self,
        producer: &str,
        written: &[String],
        keep: &dyn Fn(&str) -> bool,
        candidates: &[String],
    ) -> anyhow::Result<Vec<String>> {
        let path = self.path.join(RECORD_FILE);
        let mut record: Record = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let old = record.outputs.remove(producer).unwrap_or_default();
        let handled: Vec<String> = old.keys().cloned().collect();
        let mut lines = Vec::new();
        let mut now: BTreeMap<String, Fingerprint> = BTreeMap::new();
        for rel in written {
            if let Some(stamp) = Fingerprint::of(&self.path.join(rel)) {
                now.insert(rel.clone(), stamp);
            }
        }
        for (rel, stamp) in old {
            if now.contains_key(&rel) {
                continue;
            }
            let file = self.path.join(&rel);
            match Fingerprint::of(&file) {
                None => {}
                Some(s) if keep(&rel) && s.still(&stamp) => {
                    now.insert(rel, s);
                }
                Some(s) if s.still(&stamp) => {
                    std::fs::remove_file(&file)
                        .with_context(|| format!("无法删除过时的 {}", file.display()))?;
                    lines.push(format!("已删除这次不再生成的 {}", file.display()));
                }
                Some(_) => lines.push(format!(
                    "注意：{} 是以前生成的，这次不再生成；它之后被改动过，所以没有删除",
                    file.display()
                )),
            }
        }
        let recorded: Vec<&String> = record.outputs.values().flat_map(|m| m.keys()).collect();
        for rel in candidates {
            let file = self.path.join(rel);
            if !now.contains_key(rel)
                && !recorded.contains(&rel)
                && !handled.contains(rel)
                && file.is_file()
            {
                lines.push(format!(
                    "注意：输出目录里的 {} 不是这次生成的（可能是旧版本生成的分册或证据册）；请核对后删除，以免和新文件混淆",
                    file.display()
                ));
            }
        }
        record.outputs.insert(producer.to_string(), now);
        let bytes = serde_json::to_vec_pretty(&record)?;
        write_atomic(&path, &bytes)?;
        Ok(lines)
    }
}

/// The canonical path `path` has or will have once created: its longest existing ancestor
/// canonicalised, the rest appended.
fn canonical_to_be(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if existing.exists() {
            let mut out = std::fs::canonicalize(existing)?;
            out.extend(rest.iter().rev());
            return Ok(out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(absolute),
        }
    }
}

/// What each command last wrote into an output folder.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    /// Producer ("build", "binder") → file (relative to the folder) → its stamp when written.
    outputs: BTreeMap<String, BTreeMap<String, Fingerprint>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_through_writeback_has_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let staging = Staging::open(&path).unwrap();
        let chunk: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let mut w = staging.writeback().unwrap();
        assert!(w.helper.is_some(), "no helper to flush early");
        // More than two flush requests' worth, in pieces that do not line up with them.
        let mut written = 0usize;
        while written < (WRITEBACK_EVERY as usize) * 2 + 12345 {
            let n = (written % 7919) + 1000;
            w.write_all(&chunk[..n]).unwrap();
            written += n;
        }
        drop(w);
        staging.finish().unwrap().commit().unwrap();
        let back = std::fs::read(&path).unwrap();
        assert_eq!(back.len(), written);
        let mut at = 0usize;
        while at < back.len() {
            let n = (at % 7919) + 1000;
            assert_eq!(&back[at..at + n], &chunk[..n]);
            at += n;
        }
    }

    fn staged(dest: &Path, bytes: &'static [u8]) -> Staged {
        stage(dest, |f| Ok(f.write_all(bytes)?)).unwrap().0
    }

    #[test]
    fn commit_all_places_every_output_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.pdf"), dir.path().join("b.pdf"));
        write_atomic(&a, b"old a").unwrap();
        // A folder where the second output goes: nothing moves, the folder is as it was.
        std::fs::create_dir(&b).unwrap();
        let err = commit_all(vec![staged(&a, b"new a"), staged(&b, b"new b")]).unwrap_err();
        assert!(format!("{err:#}").contains("同名文件夹"), "{err:#}");
        assert_eq!(std::fs::read(&a).unwrap(), b"old a");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temporary files"
        );
        std::fs::remove_dir(&b).unwrap();
        // Both in place, the replaced file's copy set aside removed.
        commit_all(vec![staged(&a, b"new a"), staged(&b, b"new b")]).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"new a");
        assert_eq!(std::fs::read(&b).unwrap(), b"new b");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn commit_all_takes_back_what_it_placed_when_a_rename_fails() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pdf");
        write_atomic(&a, b"old a").unwrap();
        let first = staged(&a, b"new a");
        let second = staged(&other.path().join("b.pdf"), b"new b");
        // The second output's temporary file disappears before the commit (a folder removed
        // under the run): its rename fails after the first output was placed.
        std::fs::remove_file(second.path()).unwrap();
        assert!(commit_all(vec![first, second]).is_err());
        assert_eq!(
            std::fs::read(&a).unwrap(),
            b"old a",
            "the old output restored"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "nothing left beside it: {names:?}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pdf");
        write_atomic(&path, b"old").unwrap();
        let err = write_with(&path, |f| {
            f.write_all(b"half")?;
            anyhow::bail!("disk full")
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file removed"
        );
    }

    #[test]
    fn an_output_folder_inside_the_dossier_is_refused_and_leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("evidence")).unwrap();
        let err = OutDir::open(&root.join("evidence/out/x"), &root, |_| {})
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("evidence 文件夹里"), "{err:#}");
        assert!(
            !root.join("evidence/out").exists(),
            "nothing created in the evidence"
        );
        assert!(OutDir::open(&root, &root, |_| {}).is_err());
        std::fs::write(root.join("file"), b"x").unwrap();
        let err = OutDir::open(&root.join("file"), &root, |_| {})
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("不是文件夹"), "{err:#}");

        let out = root.join("out");
        std::fs::create_dir_all(out.join("binders")).unwrap();
        std::fs::write(out.join(".dossier-abc.tmp"), b"half").unwrap();
        std::fs::write(out.join("binders/.dossier-x.tmp"), b"half").unwrap();
        std::fs::write(out.join("keep.pdf"), b"mine").unwrap();
        let notes = std::cell::RefCell::new(Vec::new());
        let d = OutDir::open(&out, &root, |l| notes.borrow_mut().push(l.to_string())).unwrap();
        assert!(
            notes.borrow()[0].contains("2 个临时文件"),
            "{:?}",
            notes.borrow()
        );
        assert!(!out.join(".dossier-abc.tmp").exists());
        assert!(out.join("keep.pdf").exists());
        drop(d);
    }

    #[test]
    fn files_a_producer_no_longer_writes_are_removed_unless_changed() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let out = root.join("out");
        let d = OutDir::open(&out, &root, |_| {}).unwrap();
        for f in ["a.pdf", "b.pdf", "c.pdf"] {
            write_atomic(&out.join(f), b"1").unwrap();
        }
        let all: Vec<String> = ["a.pdf", "b.pdf", "c.pdf"].map(String::from).to_vec();
        assert!(d.record("build", &all, &|_| false, &[]).unwrap().is_empty());
        // c.pdf is changed by hand; then a build writes only a.pdf.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(out.join("c.pdf"), b"edited").unwrap();
        let lines = d
            .record("build", &["a.pdf".to_string()], &|_| false, &[])
            .unwrap();
        assert!(!out.join("b.pdf").exists(), "b.pdf is stale and removed");
        assert!(
            out.join("c.pdf").exists(),
            "c.pdf was changed by hand and stays"
        );
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].contains("被改动过"), "{lines:?}");
        // Another producer's files are its own business.
        write_atomic(&out.join("x.pdf"), b"1").unwrap();
        d.record("binder", &["x.pdf".to_string()], &|_| false, &[])
            .unwrap();
        d.record("build", &[], &|_| false, &[]).unwrap();
        assert!(out.join("x.pdf").exists());
        // keep: a single binder keeps the others it wrote before, and only those.
        write_atomic(&out.join("y.pdf"), b"1").unwrap();
        write_atomic(&out.join("w.pdf"), b"1").unwrap();
        d.record(
            "binder",
            &["x.pdf".to_string(), "w.pdf".to_string()],
            &|_| false,
            &[],
        )
        .unwrap();
        d.record("binder", &["y.pdf".to_string()], &|f| f != "w.pdf", &[])
            .unwrap();
        assert!(out.join("x.pdf").exists());
        assert!(!out.join("w.pdf").exists());
        d.record("binder", &["y.pdf".to_string()], &|_| false, &[])
            .unwrap();
        assert!(!out.join("x.pdf").exists());
        // A file that looks like an output but was never recorded is pointed out, not removed.
        std::fs::write(out.join("z.pdf"), b"old").unwrap();
        let lines = d
            .record(
                "binder",
                &["y.pdf".to_string()],
                &|_| false,
                &["z.pdf".to_string()],
            )
            .unwrap();
        assert!(lines[0].contains("不是这次生成的"), "{lines:?}");
        assert!(out.join("z.pdf").exists());
    }

    #[test]
    fn a_second_run_waits_for_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let out = root.join("out");
        let first = OutDir::open(&out, &root, |_| {}).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (out2, root2) = (out.clone(), root.clone());
        let waiter = std::thread::spawn(move || {
            let tx2 = tx.clone();
            let d = OutDir::open(&out2, &root2, move |l| {
                let _ = tx2.send(l.to_string());
            })
            .unwrap();
            let _ = tx.send("locked".to_string());
            drop(d);
        });
        let said = rx.recv().unwrap();
        assert!(said.contains("等它写完"), "{said}");
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err()
        );
        drop(first);
        assert_eq!(rx.recv().unwrap(), "locked");
        waiter.join().unwrap();
    }
}
