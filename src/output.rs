//! Writing outputs safely: every output goes to a temporary file in the target folder and is
//! renamed into place only when complete, so a failed or interrupted build leaves the previous
//! output as it was.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_with(path, |f| f.write_all(bytes).map_err(Into::into))
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
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("无法创建输出目录 {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".dossier-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("无法在 {} 创建临时文件", dir.display()))?;
    let value = fill(tmp.as_file_mut()).with_context(|| format!("写入 {} 失败", dest.display()))?;
    // Temporary files are private (0600); an output is an ordinary readable file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("写入 {} 失败", dest.display()))?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("写入 {} 失败", dest.display()))?;
    Ok((
        Staged {
            tmp,
            dest: dest.to_path_buf(),
        },
        value,
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
