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
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("无法创建输出目录 {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".dossier-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("无法在 {} 创建临时文件", dir.display()))?;
    fill(tmp.as_file_mut()).with_context(|| format!("写入 {} 失败", path.display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("写入 {} 失败", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("无法保存 {}", path.display()))?;
    Ok(())
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
