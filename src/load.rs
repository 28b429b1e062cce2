//! Loading a dossier folder: reads `dossier.yaml`, `units.yaml` and `items/*.yaml`, decodes and
//! parses each, and collects one diagnostic per file that cannot be parsed. Nothing is written.
//!
//! A folder that does not exist or has no `dossier.yaml` is not a dossier at all: that is an
//! I/O error (exit 2), not a diagnostic.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::diag::{Diagnostic, Place, Report};
use crate::model::{Config, ItemFile, UnitsFile};
use crate::yaml;

/// Name of the dossier's main file.
pub const CONFIG_FILE: &str = "dossier.yaml";
/// Name of the units registry file.
pub const UNITS_FILE: &str = "units.yaml";
/// Folder of the item files.
pub const ITEMS_DIR: &str = "items";
/// Folder of the evidence files.
pub const EVIDENCE_DIR: &str = "evidence";

/// The parsed YAML files of a dossier.
#[derive(Debug)]
pub struct Sources {
    /// The root as the user gave it (used to show paths).
    pub root: PathBuf,
    /// The root with symlinks resolved (used to keep evidence inside it).
    pub canonical_root: PathBuf,
    /// `dossier.yaml`, if it parsed.
    pub config: Option<Config>,
    /// `units.yaml`, if it parsed.
    pub units: Option<UnitsFile>,
    /// Item files that parsed, with their path relative to the root, in file-name order.
    pub items: Vec<(String, ItemFile)>,
    /// Number of item files found (parsed or not).
    pub item_files: usize,
    /// Parse problems, and the text of every file read.
    pub report: Report,
}

/// Reads and parses every YAML file of the dossier at `root`.
pub fn load(root: &Path) -> anyhow::Result<Sources> {
    let meta =
        std::fs::metadata(root).with_context(|| format!("找不到资料目录 {}", root.display()))?;
    if !meta.is_dir() {
        bail!("{} 不是文件夹", root.display());
    }
    if !root.join(CONFIG_FILE).is_file() {
        bail!(
            "{} 不是资料目录：里面没有 {CONFIG_FILE}（新建资料目录请用 dossier init {}）",
            root.display(),
            root.display()
        );
    }
    let canonical_root =
        std::fs::canonicalize(root).with_context(|| format!("无法读取 {}", root.display()))?;
    let mut report = Report::new();
    let config = read(root, CONFIG_FILE, &mut report)?;
    let units = if root.join(UNITS_FILE).is_file() {
        read(root, UNITS_FILE, &mut report)?
    } else {
        report.push(
            Diagnostic::error("缺少单位名录 units.yaml")
                .at(Place::file(UNITS_FILE))
                .hint("用 dossier init 新建一个资料目录，把其中的 units.yaml 复制过来再修改。"),
        );
        None
    };
    let mut items = Vec::new();
    let mut item_files = 0;
    let dir = root.join(ITEMS_DIR);
    if dir.is_dir() {
        let mut names = Vec::new();
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("无法读取 {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("无法读取 {}", dir.display()))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        for name in names {
            let rel = format!("{ITEMS_DIR}/{name}");
            let path = dir.join(&name);
            let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml");
            if name.starts_with('.') || name.starts_with("~$") {
                continue; // editor temp files and hidden files
            }
            if !is_yaml || !path.is_file() {
                report.push(
                    Diagnostic::warning(format!("{rel} 不是 .yaml 文件，已忽略"))
                        .at(Place::file(&rel))
                        .hint("items 文件夹里只放各指标的 .yaml 文件；证据文件请放在 evidence 文件夹。"),
                );
                continue;
            }
            item_files += 1;
            if let Some(item) = read::<ItemFile>(root, &rel, &mut report)? {
                items.push((rel, item));
            }
        }
    } else {
        report.push(
            Diagnostic::error("缺少 items 文件夹")
                .at(Place::file(ITEMS_DIR))
                .hint("每项指标一个文件：items/01.yaml … items/21.yaml。用 dossier init 可以生成全部 21 个。"),
        );
    }
    Ok(Sources {
        root: root.to_path_buf(),
        canonical_root,
        config,
        units,
        items,
        item_files,
        report,
    })
}

/// Reads one YAML file; a parse problem becomes a diagnostic and `None`, an unreadable file an
/// I/O error.
fn read<T: serde::de::DeserializeOwned>(
    root: &Path,
    rel: &str,
    report: &mut Report,
) -> anyhow::Result<Option<T>> {
    let path = root.join(rel);
    let bytes = std::fs::read(&path).with_context(|| format!("无法读取 {}", path.display()))?;
    let text = match yaml::decode(rel, &bytes) {
        Ok(text) => text,
        Err(d) => {
            report.push(d);
            return Ok(None);
        }
    };
    report.add_source(rel, text.clone());
    match yaml::parse::<T>(rel, &text) {
        Ok(v) => Ok(Some(v)),
        Err(d) => {
            report.push(d);
            Ok(None)
        }
    }
}
