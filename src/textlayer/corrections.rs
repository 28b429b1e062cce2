//! Correction files: `ocr/<evidence path>.yaml` in the dossier holds the text of an evidence
//! file's pages as a person corrected it, and replaces what recognition read for as long as
//! the evidence file is the one the correction was made from (its SHA-256, the `指纹`).
//!
//! `dossier ocr FILE` writes one from what was read ([`render`]); the person changes the
//! `文字` of the lines that were misread (or deletes a line, or adds one with its box) and
//! builds again. A correction that no longer fits — the evidence file was replaced, a page
//! it names is not printed, the evidence file is gone — is a warning at its line, and the
//! pages it names get what recognition reads.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, Place};
use crate::model::Spanned;
use crate::ocr::{Line, PageText};
use crate::validate::Dossier;

use super::PageKey;

/// The folder of the correction files in a dossier.
pub const DIR: &str = crate::load::OCR_DIR;

/// Hex digits of the evidence file's SHA-256 a correction file keeps as its `指纹`.
const PRINT_LEN: usize = 16;

/// A correction file.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// The first hex digits of the SHA-256 of the evidence file the text was read from.
    #[serde(rename = "指纹")]
    print: Spanned<String>,
    /// The pages.
    #[serde(rename = "页")]
    pages: Vec<Page>,
}

/// One page of a correction file.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Page {
    /// The page of the evidence file (1 for an image).
    #[serde(rename = "页码")]
    page: Spanned<u32>,
    /// Width and height, in pixels, of the page image the boxes are in.
    #[serde(rename = "图像")]
    size: [u32; 2],
    /// The lines, in reading order.
    #[serde(rename = "行", default)]
    lines: Vec<FileLine>,
}

/// One line of a correction file.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileLine {
    /// Left, top, right, bottom, in pixels of the page image.
    #[serde(rename = "框")]
    bbox: [f32; 4],
    /// The text.
    #[serde(rename = "文字")]
    text: String,
}

/// Where the correction file of the evidence file `rel` is, relative to the dossier.
pub fn path_of(rel: &str) -> String {
    format!("{DIR}/{rel}.yaml")
}

/// The evidence file a correction file (relative to the dossier) is about.
fn evidence_of(rel: &str) -> Option<&str> {
    rel.strip_prefix(DIR)?
        .strip_prefix('/')?
        .strip_suffix(".yaml")
}

/// The corrected pages of the dossier, by (evidence path, page): every correction file under
/// `ocr/` whose evidence file has the SHA-256 given in `shas` (the files whose pages are read).
/// What cannot be used is a warning in `diags`.
pub fn read(
    d: &Dossier,
    shas: &HashMap<String, String>,
    diags: &mut Vec<Diagnostic>,
) -> HashMap<PageKey, PageText> {
    let mut out = HashMap::new();
    let dir = d.canonical_root.join(DIR);
    if !dir.is_dir() {
        return out;
    }
    let files = walkdir::WalkDir::new(&dir).sort_by_file_name().into_iter();
    for entry in files
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        let Ok(rel) = entry.path().strip_prefix(&d.canonical_root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        let name = entry.file_name().to_string_lossy();
        if crate::paths::is_scratch_file(&name) || !name.ends_with(".yaml") {
            continue;
        }
        match read_one(entry.path(), &rel, shas) {
            Ok(pages) => out.extend(pages),
            Err(diag) => diags.push(diag),
        }
    }
    out
}

/// The pages of one correction file, or the warning saying why it is not used.
fn read_one(
    path: &Path,
    rel: &str,
    shas: &HashMap<String, String>,
) -> Result<Vec<(PageKey, PageText)>, Diagnostic> {
    let unused = |why: String| {
        Diagnostic::warning(format!("文字识别更正 {rel} 未使用：{why}"))
            .code("ocr-correction-unused")
    };
    let bytes = std::fs::read(path).map_err(|e| unused(e.to_string()).at(Place::file(rel)))?;
    let text = crate::yaml::decode(rel, &bytes).map_err(as_warning)?;
    let file: File = crate::yaml::parse(rel, &text).map_err(as_warning)?;
    let Some(evidence) = evidence_of(rel) else {
        return Err(unused("不是 ocr/ 下的文件".into()).at(Place::file(rel)));
    };
    let Some(sha) = shas.get(evidence) else {
        return Err(unused(format!("汇编里没有需要识别文字的证据文件 {evidence}"))
            .at(Place::file(rel))
            .hint(format!("文件名应是证据文件的路径加 .yaml（如 {}）。证据文件改名或不再排入汇编时，请把这个更正文件一并改名或删除。", path_of("evidence/05/扫描件.jpg"))));
    };
    let print = file.print.value.trim().to_ascii_lowercase();
    if print.len() < 8 || !sha.starts_with(&print) {
        return Err(unused(format!("证据文件 {evidence} 已经换过（指纹不符）"))
            .at(Place::at(rel, crate::yaml::pos_of(&file.print)))
            .hint(format!("这份更正是按原来的文件做的，新文件的文字要重新核对：运行 dossier ocr {evidence} --replace 重新生成更正文件，再改正其中的错字。")));
    }
    Ok((file.pages.into_iter())
        .map(|p| {
            let text = PageText {
                width: p.size[0],
                height: p.size[1],
                lines: (p.lines.into_iter())
                    .map(|l| Line {
                        bbox: l.bbox,
                        text: l.text,
                        confidence: 1.0,
                        ink: None,
                    })
                    .collect(),
            };
            ((evidence.to_string(), p.page.value), text)
        })
        .collect())
}

/// A correction file that cannot be read does not stop the build: its pages get what
/// recognition reads.
fn as_warning(mut d: Diagnostic) -> Diagnostic {
    d.severity = crate::diag::Severity::Warning;
    d.code("ocr-correction-unused")
}

/// A correction file for the evidence file `rel` (SHA-256 `sha`) from what was read of its
/// pages: a comment saying how to use it, then the pages and their lines.
pub fn render(rel: &str, sha: &str, pages: &BTreeMap<u32, PageText>) -> String {
    let mut s = format!(
        "# 文字识别更正：{rel}\n\
         # 把识别错的“文字”改正后重新生成汇编即可（dossier build）。不要的行整行删去；漏识别的行\n\
         # 可照样加上，“框”是该行在页面图像上的左、上、右、下（像素，图像大小见“图像”）。\n\
         # “指纹”是证据文件的指纹：文件换了，这份更正就不再使用，并会给出提示。\n\
         指纹: {}\n页:\n",
        &sha[..PRINT_LEN.min(sha.len())]
    );
    for (page, text) in pages {
        s.push_str(&format!(
            "  - 页码: {page}\n    图像: [{}, {}]\n",
            text.width, text.height
        ));
        if text.lines.is_empty() {
            s.push_str("    行: []\n");
            continue;
        }
        s.push_str("    行:\n");
        for l in &text.lines {
            let [x0, y0, x1, y1] = l.bbox.map(|v| v.round() as i64);
            s.push_str(&format!(
                "      - 框: [{x0}, {y0}, {x1}, {y1}]\n        文字: {}\n",
                crate::yaml::quoted(&l.text)
            ));
            if l.confidence < super::LOW_CONFIDENCE {
                // A comment on the line after, so the line itself stays easy to edit.
                s.push_str(&format!("        # 置信度 {:.2}，请核对\n", l.confidence));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_correction_file_reads_back() {
        let sha = "0123456789abcdef".repeat(4);
        let text = PageText {
            width: 1654,
            height: 2339,
            lines: vec![
                Line {
                    bbox: [100.4, 80.0, 900.0, 130.0],
                    text: "县质强办〔2021］3号".into(),
                    confidence: 0.7,
                    ink: None,
                },
                Line {
                    bbox: [100.0, 200.0, 700.0, 250.0],
                    text: "关于开展\"质量\"提升: 行动 # 的通知".into(),
                    confidence: 0.98,
                    ink: None,
                },
            ],
        };
        let pages = BTreeMap::from([
            (1, text.clone()),
            (
                2,
                PageText {
                    lines: vec![],
                    ..text.clone()
                },
            ),
        ]);
        let written = render("evidence/05/扫描件.pdf", &sha, &pages);
        assert!(written.contains("# 置信度 0.70，请核对"), "{written}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.yaml");
        std::fs::write(&path, &written).unwrap();
        let rel = path_of("evidence/05/扫描件.pdf");
        let shas = HashMap::from([("evidence/05/扫描件.pdf".to_string(), sha.clone())]);
        let read = read_one(&path, &rel, &shas).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].0, ("evidence/05/扫描件.pdf".to_string(), 1));
        let lines = &read[0].1.lines;
        assert_eq!(lines[0].text, "县质强办〔2021］3号");
        assert_eq!(lines[0].bbox, [100.0, 80.0, 900.0, 130.0]);
        assert_eq!(lines[1].text, "关于开展\"质量\"提升: 行动 # 的通知");
        assert!(read[1].1.lines.is_empty());
        // Another file with the same name: the 指纹 does not match, a warning at its line.
        let other = HashMap::from([("evidence/05/扫描件.pdf".to_string(), "f".repeat(64))]);
        let warn = read_one(&path, &rel, &other).unwrap_err();
        assert!(!warn.is_error());
        assert!(warn.message.contains("指纹不符"), "{}", warn.message);
        assert_eq!(warn.place.unwrap().pos.unwrap().line, 5);
        // A file whose evidence is not read: unused, said so.
        let warn = read_one(&path, &rel, &HashMap::new()).unwrap_err();
        assert!(
            warn.message.contains("没有需要识别文字的证据文件"),
            "{}",
            warn.message
        );
        // A YAML mistake: a warning with its place, not an error.
        std::fs::write(&path, written.replace("  - 页码: 1", "  - 页码: 一")).unwrap();
        let warn = read_one(&path, &rel, &shas).unwrap_err();
        assert!(!warn.is_error() && warn.place.is_some(), "{warn:?}");
    }
}
