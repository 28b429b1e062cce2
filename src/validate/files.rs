//! Evidence files for validation: inspecting every referenced file once (in parallel, with a
//! cache for `watch`), turning path and file problems into diagnostics with hints, checking a
//! file entry against what the file turned out to be, and finding unreferenced files.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Place};
use crate::evidence::{self, Inspected, Kind, PathError, Problem};
use crate::load::EVIDENCE_DIR;
use crate::model::FileEntry;
use crate::yaml::pos_of;

use super::RecFile;

/// What inspecting evidence files found, kept between validations (in `watch`) and reused
/// while a file's size and modification time stay the same.
#[derive(Debug, Default)]
pub struct InspectCache {
    cache: crate::paths::FingerprintCache<Inspected>,
}

impl InspectCache {
    fn inspect(&self, path: &std::path::Path) -> Result<Inspected, Problem> {
        self.cache.get_or_make(path, || evidence::inspect(path))
    }

    /// Where a build keeps the inspections between runs, in its output folder.
    pub fn file(out: &std::path::Path) -> std::path::PathBuf {
        out.join(".cache").join("inspections.json")
    }

    /// Takes the inspections saved at `file` by an earlier run; each is used only while its
    /// file keeps the size and modification time it had. A missing or unreadable file, or
    /// one of another version, is ignored (every file is inspected again).
    pub fn load(&self, file: &std::path::Path) {
        let Some(saved) = std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Saved>(&b).ok())
        else {
            return;
        };
        if saved.version != env!("CARGO_PKG_VERSION") {
            return;
        }
        for (path, print, inspected) in saved.files {
            self.cache.keep(path, print, inspected);
        }
    }

    /// Saves the inspections made so far to `file` (when they differ from what it holds), so
    /// that the next run reads no unchanged evidence file to inspect it.
    pub fn save(&self, file: &std::path::Path) -> anyhow::Result<()> {
        // Files deleted or changed since they were inspected are left out.
        let files = (self.cache.snapshot().into_iter())
            .filter(|(path, print, _)| crate::paths::Fingerprint::of(path) == Some(*print))
            .collect();
        let saved = Saved {
            version: env!("CARGO_PKG_VERSION").into(),
            files,
        };
        crate::output::write_if_changed(file, &serde_json::to_vec(&saved)?)
    }
}

/// Inspections as saved between runs.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    version: String,
    files: Vec<(std::path::PathBuf, crate::paths::Fingerprint, Inspected)>,
}

pub(super) fn inspect_all(
    root: &std::path::Path,
    rels: Vec<String>,
    cache: &InspectCache,
) -> BTreeMap<String, Result<Inspected, FileError>> {
    let results = crate::par::map(&rels, 8, |rel| match evidence::resolve(root, rel) {
        Err(e) => Err(FileError::Path(e)),
        Ok(path) => cache.inspect(&path).map_err(FileError::File),
    });
    // A panic inside a decoder leaves that file unknown; it is reported as unreadable.
    rels.into_iter()
        .zip(results)
        .map(|(rel, r)| {
            let r =
                r.unwrap_or_else(|| Err(FileError::File(Problem::Unreadable("读取时出错".into()))));
            (rel, r)
        })
        .collect()
}

#[derive(Debug, Clone)]
pub(super) enum FileError {
    Path(PathError),
    File(Problem),
}

pub(super) fn path_problem(written: &str, e: &PathError) -> Diagnostic {
    match e {
        PathError::Empty => Diagnostic::error("文件路径是空的").code("path-empty"),
        PathError::Absolute => Diagnostic::error(format!("文件路径“{written}”是绝对路径"))
            .code("path-absolute")
            .hint("证据文件要放在资料目录里，路径从资料目录写起，如 evidence/05/方案.pdf。"),
        PathError::Parent => Diagnostic::error(format!("文件路径“{written}”用“..”跳出了资料目录"))
            .code("path-parent")
            .hint("证据文件要放在资料目录里（通常在 evidence 文件夹），路径里不能有“..”。"),
        PathError::OutsideRoot(real) => Diagnostic::error(format!(
            "文件路径“{written}”经由快捷方式（符号链接）指向资料目录之外：{}",
            real.display()
        ))
        .code("path-outside")
        .hint("把文件本身复制到 evidence 文件夹里，不要用链接。"),
        PathError::Missing => {
            Diagnostic::error(format!("找不到文件“{written}”")).code("file-missing")
        }
    }
}

pub(super) fn path_or_file_problem(
    root: &std::path::Path,
    rel: &str,
    written: &str,
    err: &FileError,
    place: Place,
) -> Diagnostic {
    match err {
        FileError::Path(PathError::Missing) => {
            if let Some(actual) = same_name_other_form(root, rel) {
                return Diagnostic::error(format!(
                    "找不到文件“{written}”：文件夹里的“{actual}”看起来一样，但文字的 Unicode 编码形式不同"
                ))
                .code("file-missing-unicode-form")
                .at(place)
                .hint("这常见于在苹果电脑上复制或解压的文件（文件名里的带调字母、假名等被拆成两个字符）。请在资料目录里把这个文件改名：删掉文件名，重新输入一遍。");
            }
            let mut d = path_problem(written, &PathError::Missing).at(place);
            let hint = match similar_files(root, rel) {
                Some(names) => format!("同一文件夹里有：{names}。请核对文件名（包括扩展名）。"),
                None => "请核对路径；路径从资料目录写起，如 evidence/05/方案.pdf。".to_string(),
            };
            d.hint = Some(hint);
            d
        }
        FileError::Path(e) => path_problem(written, e).at(place),
        FileError::File(p) => file_problem(rel, p).at(place),
    }
}

fn file_problem(rel: &str, p: &Problem) -> Diagnostic {
    match p {
        Problem::Empty => Diagnostic::error(format!("文件 {rel} 是空的（0 字节）"))
            .code("file-empty").hint("文件可能没有复制完整，请重新复制原件。"),
        Problem::Encrypted => Diagnostic::error(format!("PDF {rel} 已加密，需要密码才能打开"))
            .code("pdf-encrypted")
            .hint("请向出具单位要一份不加密的 PDF，或打开后“打印为 PDF”另存一份。"),
        Problem::Restricted => Diagnostic::error(format!("PDF {rel} 已加密（设有权限密码）"))
            .code("pdf-restricted")
            .hint("加密的 PDF 无法可靠地编入汇编，也可能被验收组的软件拒收。请“打印为 PDF”另存一份不加密的。"),
        Problem::NoPages => Diagnostic::error(format!("PDF {rel} 没有页面"))
            .code("pdf-no-pages"),
        Problem::Unreadable(why) => Diagnostic::error(format!("无法读取 {rel}：{why}"))
            .code("file-unreadable").hint("文件可能已损坏，请重新扫描或重新导出。"),
        Problem::Mismatch { named, found } => Diagnostic::error(format!("{rel} 的扩展名表明是{named}，内容却是{}", found.label()))
            .code("file-type-mismatch")
            .hint("请确认文件没有损坏、扩展名没有改错；需要时重新导出。"),
        Problem::Image(defect @ crate::raster::Defect::TooLarge { .. }) => {
            Diagnostic::error(format!("图片 {rel} 太大：{defect}"))
                .code("image-too-large")
                .hint("这样大的图片排版时会占用数 GB 内存。请用看图软件把它缩小后另存（打印用，长边 5000 像素左右足够），再登记缩小后的文件；原图可以“仅入包”。")
        }
        Problem::Image(defect) => Diagnostic::error(format!("图片 {rel} 无法使用：{defect}"))
            .code("image-damaged")
            .hint("请用看图软件打开检查。文件不完整时请从原处重新复制；损坏时请重新扫描或重新导出。"),
        Problem::NotAFile => Diagnostic::error(format!("{rel} 不是文件（是文件夹？）"))
            .code("file-not-a-file"),
        Problem::Io(e) => Diagnostic::error(format!("无法读取 {rel}：{e}"))
            .code("file-unreadable"),
    }
}

/// A file in the same folder whose name is `rel`'s name in another Unicode normalisation form
/// (NFD from a Mac against NFC typed in the YAML): identical on screen, different bytes.
fn same_name_other_form(root: &std::path::Path, rel: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let wanted: String = name.nfc().collect();
    std::fs::read_dir(root.join(dir))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n != name && n.nfc().collect::<String>() == wanted)
}

fn similar_files(root: &std::path::Path, rel: &str) -> Option<String> {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let entries = std::fs::read_dir(root.join(dir)).ok()?;
    let mut scored: Vec<(usize, String)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .map(|n| (strsim::levenshtein(&n, name), n))
        .filter(|(d, n)| *d <= n.chars().count().max(name.chars().count()) / 2)
        .collect();
    scored.sort();
    let names: Vec<String> = scored.into_iter().take(3).map(|(_, n)| n).collect();
    (!names.is_empty()).then(|| names.join("、"))
}

pub(super) fn check_file(
    rel: &str,
    entry: &FileEntry,
    info: &Inspected,
    place: Place,
    diags: &mut Vec<Diagnostic>,
) -> Option<RecFile> {
    let mut rf = RecFile {
        rel: rel.to_string(),
        kind: info.kind,
        size: info.size,
        page_count: info.pages,
        pixels: info.pixels,
        text: info.text.clone(),
        pages: Vec::new(),
        selection: entry.pages.as_ref().map(|p| p.value.text.clone()),
        package_only: entry.package_only,
    };
    if entry.package_only {
        return Some(rf);
    }
    if !info.kind.typesettable() {
        diags.push(
            Diagnostic::error(format!("{rel} 不是 PDF 或图片，无法编入汇编"))
                .code("file-not-printable")
                .at(place)
                .hint("这类文件（如 Excel、Word）只能放进资料包：把这一项写成“{路径: …, 仅入包: 是}”；若要在汇编里看到内容，请另存为 PDF 一并列上。"),
        );
        return None;
    }
    match &entry.pages {
        None => rf.pages = (1..=info.pages).collect(),
        Some(sel) => {
            let sel_place = Place::at(place.file.clone(), pos_of(sel));
            if info.kind != Kind::Pdf {
                diags.push(
                    Diagnostic::error(format!(
                        "{rel} 是{}，只有一页，不能选页码",
                        info.kind.label()
                    ))
                    .code("pages-single-page")
                    .at(sel_place)
                    .hint("去掉“页码”。"),
                );
                return None;
            }
            if sel.value.max_page() > info.pages {
                diags.push(
                    Diagnostic::error(format!(
                        "页码“{}”超出范围：{rel} 只有 {} 页",
                        sel.value.text, info.pages
                    ))
                    .code("pages-out-of-range")
                    .at(sel_place)
                    .hint(format!("页码写 1–{} 之间的数。", info.pages)),
                );
                return None;
            }
            rf.pages = sel.value.pages(info.pages);
        }
    }
    Some(rf)
}

pub(super) fn unreferenced_files(
    root: &std::path::Path,
    wanted: &BTreeMap<String, Place>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let dir = root.join(EVIDENCE_DIR);
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        // Hidden folders (.git, .cache) hold no evidence.
        .filter_entry(|e| {
            e.depth() == 0 || !crate::paths::is_hidden_folder(&e.file_name().to_string_lossy())
        });
    for entry in walk {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let at = e
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map_or_else(
                        || EVIDENCE_DIR.to_string(),
                        |p| p.to_string_lossy().replace('\\', "/"),
                    );
                diags.push(
                    Diagnostic::warning(format!("无法读取 {at}，其中的文件没有检查是否被引用"))
                        .code("evidence-folder-unreadable")
                        .at(Place::file(&at))
                        .hint(format!("请检查这个文件夹的权限（{e}）。")),
                );
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        if crate::paths::is_scratch_file(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if !wanted.contains_key(&rel) {
            diags.push(
                Diagnostic::warning(format!("{rel} 没有被任何材料引用，不会进入汇编和资料包"))
                    .code("evidence-unreferenced")
                    .at(Place::file(&rel))
                    .hint("如果它是证据，请在对应指标文件里加一件材料引用它；不需要的话可以移出 evidence 文件夹。"),
            );
            out.push(rel);
        }
    }
    out
}
