//! Loading a dossier folder: reads `dossier.yaml`, `units.yaml` and `items/*.yaml`, decodes and
//! parses each, and collects one diagnostic per file that cannot be parsed. Nothing is written.
//!
//! A folder that does not exist or has no `dossier.yaml` is not a dossier at all: that is an
//! I/O error (exit 2), not a diagnostic.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Place, Report};
use crate::model::{Config, ItemFile, UnitsFile};
use crate::yaml;

/// Name of the dossier's main file.
pub const CONFIG_FILE: &str = "dossier.yaml";
/// Name of the units registry file.
pub const UNITS_FILE: &str = "units.yaml";
/// The county's own task table (optional; same schema as `seeds/catalog.yaml`). Without it the
/// embedded table is used, adapted to the county named in `dossier.yaml`.
pub const TASK_TABLE_FILE: &str = "任务分解表.yaml";
/// Folder of the item files.
pub const ITEMS_DIR: &str = "items";
/// Folder of the evidence files.
pub const EVIDENCE_DIR: &str = "evidence";
/// The folder of the text-layer correction files (`src/textlayer/corrections.rs`).
pub const OCR_DIR: &str = "ocr";
/// The folder of a dossier's own templates (each replaces the built-in one of its name).
pub const TEMPLATES_DIR: &str = "templates";

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
    /// The county's own task table: `None` without the file, `Some(None)` when it did not parse.
    pub task_table: Option<Option<Catalog>>,
    /// Item files that parsed, with their path relative to the root, in file-name order.
    pub items: Vec<(String, ItemFile)>,
    /// Number of item files found (parsed or not).
    pub item_files: usize,
    /// Item files that could not be parsed (their errors are in the report).
    pub unparsed: Vec<String>,
    /// Parse problems, and the text of every file read.
    pub report: Report,
}

/// Texts that stand in for files of a dossier (relative path → text), to check what an edit
/// would give before writing it (`dossier import`).
pub type Overlay = std::collections::BTreeMap<String, String>;

/// Reads and parses every YAML file of the dossier at `root`.
pub fn load(root: &Path) -> anyhow::Result<Sources> {
    load_with(root, &Overlay::new())
}

/// Like [`load`], with the files in `overlay` read from it instead of the disk (an item file
/// in it that does not exist yet is read too).
pub fn load_with(root: &Path, overlay: &Overlay) -> anyhow::Result<Sources> {
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
    let config = read_from(root, CONFIG_FILE, overlay, &mut report)?;
    let units = if root.join(UNITS_FILE).is_file() {
        read_from(root, UNITS_FILE, overlay, &mut report)?
    } else {
        report.push(
            Diagnostic::error("缺少单位名录 units.yaml")
                .code("units-file-missing")
                .at(Place::file(UNITS_FILE))
                .hint("用 dossier init 新建一个资料目录，把其中的 units.yaml 复制过来再修改。"),
        );
        None
    };
    let task_table = if root.join(TASK_TABLE_FILE).is_file() {
        Some(read_from::<Catalog>(
            root,
            TASK_TABLE_FILE,
            overlay,
            &mut report,
        )?)
    } else {
        None
    };
    let ItemFiles {
        items,
        count: item_files,
        unparsed,
    } = load_items(root, overlay, &mut report)?;
    Ok(Sources {
        root: root.to_path_buf(),
        canonical_root,
        config,
        units,
        task_table,
        items,
        item_files,
        unparsed,
        report,
    })
}

/// The item files of a dossier, read.
struct ItemFiles {
    /// Those that parsed, in file-name order.
    items: Vec<(String, ItemFile)>,
    /// How many there are (parsed or not).
    count: usize,
    /// Those that did not parse.
    unparsed: Vec<String>,
}

/// Reads every item file in `items/`. Anything else there (a folder, a file that is not
/// YAML, a name that is not UTF-8) is an error, not silently skipped; editors' scratch files
/// are skipped.
fn load_items(root: &Path, overlay: &Overlay, report: &mut Report) -> anyhow::Result<ItemFiles> {
    let mut out = ItemFiles {
        items: Vec::new(),
        count: 0,
        unparsed: Vec::new(),
    };
    let dir = root.join(ITEMS_DIR);
    if !dir.is_dir() {
        report.push(
            Diagnostic::error("缺少 items 文件夹")
                .code("items-folder-missing")
                .at(Place::file(ITEMS_DIR))
                .hint("每项指标一个文件：items/01.yaml … items/21.yaml。用 dossier init 可以生成全部 21 个。"),
        );
        return Ok(out);
    }
    let mut names = item_dir_names(&dir, report)?;
    for rel in overlay.keys() {
        if let Some(name) = rel.strip_prefix(&format!("{ITEMS_DIR}/"))
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_string());
        }
    }
    names.sort();
    for name in names {
        let rel = format!("{ITEMS_DIR}/{name}");
        if crate::paths::is_scratch_file(&name) {
            continue; // editor temp files and hidden files
        }
        let lower = name.to_lowercase();
        if !overlay.contains_key(&rel) && !dir.join(&name).is_file() {
            report.push(
                Diagnostic::error(format!("{rel} 是文件夹，items 里只能放指标文件"))
                    .code("items-folder-in-items")
                    .at(Place::file(&rel))
                    .hint("每项指标一个文件：items/01.yaml … items/21.yaml。请把这个文件夹移出 items。"),
            );
        } else if !(lower.ends_with(".yaml") || lower.ends_with(".yml")) {
            report.push(
                Diagnostic::error(format!("{rel} 不是指标文件（.yaml），items 里不能放别的文件"))
                    .code("items-not-yaml")
                    .at(Place::file(&rel))
                    .hint("items 文件夹里只放各指标的 .yaml 文件；证据文件放在 evidence 文件夹，备份和草稿请移出资料目录。"),
            );
        } else {
            out.count += 1;
            match read_from::<ItemFile>(root, &rel, overlay, report)? {
                Some(item) => out.items.push((rel, item)),
                None => out.unparsed.push(rel),
            }
        }
    }
    Ok(out)
}

/// The names in the items folder, sorted; a name that is not UTF-8 is an error.
fn item_dir_names(dir: &Path, report: &mut Report) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("无法读取 {}", dir.display()))?
    {
        let entry = entry.with_context(|| format!("无法读取 {}", dir.display()))?;
        match entry.file_name().into_string() {
            Ok(name) => names.push(name),
            Err(raw) => {
                let shown = raw.to_string_lossy().into_owned();
                report.push(
                    Diagnostic::error(format!(
                        "{ITEMS_DIR} 里的文件名“{shown}”不是 UTF-8 编码，无法读取"
                    ))
                    .code("items-name-not-utf8")
                    .at(Place::file(format!("{ITEMS_DIR}/{shown}")))
                    .hint("这个文件可能是从别的系统拷来的（文件名用了 GBK 等编码）。请把它改名为 NN.yaml（如 05.yaml）。"),
                );
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Reads one YAML file; a parse problem becomes a diagnostic and `None`, an unreadable file an
/// I/O error.
fn read_from<T: serde::de::DeserializeOwned>(
    root: &Path,
    rel: &str,
    overlay: &Overlay,
    report: &mut Report,
) -> anyhow::Result<Option<T>> {
    let path = root.join(rel);
    let bytes = match overlay.get(rel) {
        Some(text) => text.as_bytes().to_vec(),
        None => std::fs::read(&path).with_context(|| format!("无法读取 {}", path.display()))?,
    };
    let text = match yaml::decode(rel, &bytes) {
        Ok(text) => text,
        Err(d) => {
            report.push(d);
            return Ok(None);
        }
    };
    report.add_source(rel, text.clone());
    let findings = yaml::lint::lint(rel, &text);
    match yaml::parse::<T>(rel, &text) {
        Ok(v) => {
            for f in findings.into_iter().filter(|f| !f.only_if_parse_failed) {
                report.push(f.diagnostic);
            }
            // A lint error (text the parser silently dropped) fails the file like a parse error.
            Ok(Some(v))
        }
        Err(d) => {
            report.push(explain_parse_error(d, findings));
            Ok(None)
        }
    }
}

/// The diagnostic for a file that did not parse: the lint's finding on the line where the
/// parser stopped or just before it (it says what is wrong and how to write it), else the
/// parser's own.
fn explain_parse_error(parsed: Diagnostic, findings: Vec<yaml::lint::Finding>) -> Diagnostic {
    let line = parsed.place.as_ref().and_then(|p| p.pos).map(|p| p.line);
    let near = |f: &yaml::lint::Finding| {
        let l = f
            .diagnostic
            .place
            .as_ref()
            .and_then(|p| p.pos)
            .map(|p| p.line);
        match (l, line) {
            (Some(l), Some(line)) => l <= line + 1,
            _ => false,
        }
    };
    // Errors before warnings, the earliest line first.
    findings
        .into_iter()
        .filter(|f| near(f) && f.diagnostic.is_error())
        .min_by_key(|f| f.diagnostic.place.clone())
        .map_or(parsed, |f| f.diagnostic)
}
