//! The build report: what a build was made from (a digest of every input) and what it made
//! (a digest and the page range of every record). `build` writes it next to the outputs and
//! into the package, compares it with the previous one and says what changed: records added,
//! removed or modified (which fields, which files), pages that moved, binders affected.
//! `diff` compares the reports of two packages.

use std::collections::{BTreeMap, BTreeSet};

use std::io::Read;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::diag::{list, list_first};
use crate::evidence::hex;
use crate::names::REPORT_JSON;
use crate::package::{self, EntryKind, ManifestEntry};
use crate::validate::{Dossier, Rec};

/// Identifies the report format.
pub const FORMAT: &str = "dossier-report/1";

/// One build's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildReport {
    /// [`FORMAT`].
    pub format: String,
    /// Dossier version (dossier.yaml 版本).
    pub version: String,
    /// SHA-256 over every input: the program version, the YAML sources, template overrides and
    /// every evidence file (by path and content).
    pub inputs: String,
    /// SHA-256 of the PDF.
    pub pdf: String,
    /// Pages of the PDF.
    pub pages: usize,
    /// Every record by 件号.
    pub records: BTreeMap<String, RecordReport>,
    /// The text layer over scanned pages, when the build laid one (`--ocr`): pages, corrected
    /// pages, and the pages read with a low confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr: Option<crate::textlayer::Summary>,
}

/// One record in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordReport {
    /// SHA-256 over the record's fields and its files' contents.
    pub digest: String,
    /// The record's fields as printed (题名, 文号, 日期 …).
    pub fields: BTreeMap<String, String>,
    /// Its files: path → SHA-256.
    pub files: BTreeMap<String, String>,
    /// Responsible units (short names).
    pub units: Vec<String>,
    /// Volume (1 for a dossier in one volume).
    #[serde(default = "one")]
    pub volume: usize,
    /// First page in the dossier (in its volume).
    pub first_page: usize,
    /// Last page in the dossier.
    pub last_page: usize,
}

fn one() -> usize {
    1
}

/// The fields of a record as the report keeps them.
fn fields(d: &Dossier, r: &Rec) -> BTreeMap<String, String> {
    let reg = &d.registry;
    let mut f = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        if !v.is_empty() {
            f.insert(k.to_string(), v);
        }
    };
    put("题名", r.title.clone());
    put("文号", r.doc_number.clone().unwrap_or_default());
    put("责任者", r.issuer.clone().unwrap_or_default());
    put("日期", r.date.map(|d| d.to_string()).unwrap_or_default());
    put(
        "责任单位",
        list(r.units.iter().map(|&u| reg.units[u].short.as_str())),
    );
    put("考核内容", list(&r.criteria));
    put("工作任务", list(&r.tasks));
    put(
        "文件",
        r.files
            .iter()
            .map(|f| {
                let mut s = f.rel.clone();
                if let Some(sel) = &f.selection {
                    s.push_str(&format!("（第 {sel} 页）"));
                }
                if f.package_only {
                    s.push_str("（仅入包）");
                }
                s
            })
            .collect::<Vec<_>>()
            .join("、"),
    );
    put(
        "实测",
        list(
            r.measures
                .iter()
                .map(|m| format!("{}-{}: {}", m.criterion, m.target, m.value)),
        ),
    );
    put("备注", r.remark.clone().unwrap_or_default());
    f
}

/// Makes the report of a build from the dossier, the page ranges Typst gave each record and
/// the package manifest (which has every file's SHA-256).
pub fn make(
    d: &Dossier,
    pages: usize,
    record_pages: &BTreeMap<String, (usize, usize, usize)>,
    packaged: &[ManifestEntry],
) -> BuildReport {
    let hashes: BTreeMap<&str, &str> = packaged
        .iter()
        .filter(|f| matches!(f.kind, EntryKind::Evidence | EntryKind::Source))
        .map(|f| (f.source.as_str(), f.sha256.as_str()))
        .collect();
    let mut inputs = sha2::Sha256::new();
    inputs.update(env!("CARGO_PKG_VERSION").as_bytes());
    for (path, sha) in &hashes {
        inputs.update(path.as_bytes());
        inputs.update([0]);
        inputs.update(sha.as_bytes());
        inputs.update([0]);
    }
    let mut records = BTreeMap::new();
    for item in &d.items {
        for r in &item.records {
            let fields = fields(d, r);
            let files: BTreeMap<String, String> = r
                .files
                .iter()
                .map(|f| {
                    (
                        f.rel.clone(),
                        hashes
                            .get(f.rel.as_str())
                            .map(|s| s.to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect();
            let digest = {
                let mut h = sha2::Sha256::new();
                h.update(
                    serde_json::to_string(&(&fields, &files))
                        .unwrap_or_default()
                        .as_bytes(),
                );
                hex(&h.finalize())
            };
            let (volume, first_page, last_page) =
                record_pages.get(&r.label()).copied().unwrap_or((1, 0, 0));
            records.insert(
                r.label(),
                RecordReport {
                    digest,
                    fields,
                    files,
                    units: r
                        .units
                        .iter()
                        .map(|&u| d.registry.units[u].short.clone())
                        .collect(),
                    volume,
                    first_page,
                    last_page,
                },
            );
        }
    }
    BuildReport {
        format: FORMAT.into(),
        version: d.config.version.0.trim().to_string(),
        inputs: hex(&inputs.finalize()),
        pdf: {
            let mut h = sha2::Sha256::new();
            for f in packaged.iter().filter(|f| f.kind == EntryKind::Dossier) {
                h.update(f.sha256.as_bytes());
            }
            hex(&h.finalize())
        },
        pages,
        records,
        ocr: None,
    }
}

/// First and last page of a record.
pub type PageRange = (usize, usize);

/// What changed between two builds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Records only in the new build.
    pub added: Vec<String>,
    /// Records only in the old build.
    pub removed: Vec<String>,
    /// Records in both whose content changed: 件号, changed fields, changed files.
    pub modified: Vec<(String, Vec<String>, Vec<String>)>,
    /// Records whose pages moved: 件号, old range, new range.
    pub moved: Vec<(String, PageRange, PageRange)>,
    /// Units whose binders change (short names).
    pub binders: BTreeSet<String>,
    /// The inputs differ.
    pub inputs_changed: bool,
    /// The PDF differs.
    pub pdf_changed: bool,
}

impl Changes {
    /// Nothing changed at all.
    pub fn is_empty(&self) -> bool {
        !self.inputs_changed
            && !self.pdf_changed
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.modified.is_empty()
    }
}

/// Compares two reports.
pub fn compare(old: &BuildReport, new: &BuildReport) -> Changes {
    let mut c = Changes {
        inputs_changed: old.inputs != new.inputs,
        pdf_changed: old.pdf != new.pdf,
        ..Changes::default()
    };
    for (id, n) in &new.records {
        match old.records.get(id) {
            None => {
                c.added.push(id.clone());
                c.binders.extend(n.units.iter().cloned());
            }
            Some(o) => {
                if o.digest != n.digest {
                    let keys: BTreeSet<&String> = o.fields.keys().chain(n.fields.keys()).collect();
                    let fields: Vec<String> = keys
                        .into_iter()
                        .filter(|k| o.fields.get(*k) != n.fields.get(*k))
                        .cloned()
                        .collect();
                    let paths: BTreeSet<&String> = o.files.keys().chain(n.files.keys()).collect();
                    let files: Vec<String> = paths
                        .into_iter()
                        .filter(|p| o.files.get(*p) != n.files.get(*p))
                        .cloned()
                        .collect();
                    c.modified.push((id.clone(), fields, files));
                    c.binders.extend(o.units.iter().cloned());
                    c.binders.extend(n.units.iter().cloned());
                }
                let (a, b) = ((o.first_page, o.last_page), (n.first_page, n.last_page));
                if a != b || o.volume != n.volume {
                    c.moved.push((id.clone(), a, b));
                }
            }
        }
    }
    for (id, o) in &old.records {
        if !new.records.contains_key(id) {
            c.removed.push(id.clone());
            c.binders.extend(o.units.iter().cloned());
        }
    }
    c
}

fn range(r: (usize, usize)) -> String {
    if r.0 == r.1 {
        format!("第 {} 页", r.0)
    } else {
        format!("第 {}–{} 页", r.0, r.1)
    }
}

/// The changes as lines for people.
pub fn describe(c: &Changes) -> Vec<String> {
    if c.is_empty() {
        return vec!["与上次生成相比没有变化：输入相同，PDF 相同。".into()];
    }
    let mut out = Vec::new();
    if !c.added.is_empty() {
        out.push(format!("新增材料：{}", c.added.join("、")));
    }
    if !c.removed.is_empty() {
        out.push(format!("删除材料：{}", c.removed.join("、")));
    }
    for (id, fields, files) in &c.modified {
        let mut what = Vec::new();
        let fields: Vec<&String> = fields.iter().filter(|f| *f != "文件").collect();
        if !fields.is_empty() {
            what.push(format!("字段 {}", list(fields)));
        }
        if !files.is_empty() {
            what.push(format!("文件 {}", files.join("、")));
        }
        out.push(format!("修改材料 {id}：{}", what.join("；")));
    }
    if !c.moved.is_empty() {
        let moved = c
            .moved
            .iter()
            .map(|(id, a, b)| format!("{id}（{} → {}）", range(*a), range(*b)));
        out.push(format!("页码变动：{}", list_first(moved, 5, "件")));
    }
    if !c.binders.is_empty() {
        out.push(format!("受影响的单位证据册：{}", list(&c.binders)));
    }
    if out.is_empty() {
        out.push(if c.inputs_changed {
            "输入有变化（登记文件或模板），材料内容和页码不变。".into()
        } else {
            "PDF 有变化，材料内容和页码不变。".into()
        });
    }
    out
}

/// Reads the manifest and the build report of a package (for `diff`).
pub fn read_from_package(
    path: &std::path::Path,
) -> anyhow::Result<(package::Manifest, BuildReport)> {
    let mut zip = package::open_zip(path)?
        .map_err(|why| anyhow::anyhow!("{} 已损坏：{why}", path.display()))?;
    let manifest = package::read_manifest(&mut zip).map_err(|e| match e {
        package::ManifestError::Damaged(why)
        | package::ManifestError::NotAPackage(why)
        | package::ManifestError::OtherFormat(why) => anyhow::anyhow!("{}：{why}", path.display()),
    })?;
    let name = REPORT_JSON;
    let mut f = zip.by_name(name).map_err(|_| {
        anyhow::anyhow!(
            "{} 里没有 {name}，它不是 dossier 生成的资料包",
            path.display()
        )
    })?;
    let mut text = String::new();
    f.read_to_string(&mut text)
        .with_context(|| format!("无法读取 {name}，资料包可能已损坏"))?;
    let report: BuildReport =
        serde_json::from_str(&text).with_context(|| format!("{name} 已损坏"))?;
    if report.format != FORMAT {
        bail!("构建报告格式是 {}，本程序只认识 {}", report.format, FORMAT);
    }
    Ok((manifest, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(digest: &str, title: &str, pages: (usize, usize)) -> RecordReport {
        RecordReport {
            digest: digest.into(),
            fields: BTreeMap::from([("题名".to_string(), title.to_string())]),
            files: BTreeMap::new(),
            units: vec!["市场监管局".into()],
            volume: 1,
            first_page: pages.0,
            last_page: pages.1,
        }
    }

    fn report(records: Vec<(&str, RecordReport)>) -> BuildReport {
        BuildReport {
            format: FORMAT.into(),
            version: "1".into(),
            inputs: "i".into(),
            pdf: "p".into(),
            pages: 9,
            records: records
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            ocr: None,
        }
    }

    #[test]
    fn compare_names_added_removed_modified_and_moved_records() {
        let old = report(vec![
            ("05-01", rec("a", "甲", (5, 6))),
            ("05-02", rec("b", "乙", (7, 7))),
        ]);
        let mut new = report(vec![
            ("05-01", rec("x", "甲（改）", (5, 6))),
            ("05-03", rec("c", "丙", (8, 9))),
        ]);
        new.inputs = "j".into();
        let c = compare(&old, &new);
        assert_eq!(c.added, vec!["05-03"]);
        assert_eq!(c.removed, vec!["05-02"]);
        assert_eq!(
            c.modified,
            vec![("05-01".to_string(), vec!["题名".to_string()], vec![])]
        );
        assert!(c.binders.contains("市场监管局"));
        let lines = describe(&c);
        assert!(
            lines.iter().any(|l| l == "修改材料 05-01：字段 题名"),
            "{lines:?}"
        );
        assert!(compare(&old, &old).is_empty());
        assert_eq!(
            describe(&compare(&old, &old)),
            vec!["与上次生成相比没有变化：输入相同，PDF 相同。"]
        );
    }
}
