//! The names of what the tool writes: a record's 件号 and the PDF labels of records and items,
//! the folders and files of a package, the package path of each evidence file, and file names
//! that every file system accepts. Planning, typesetting (which reads the labels back from the
//! laid-out pages), packaging, the build report and the binders all take their names from here,
//! so a label is built and parsed in one place.

/// A record's identity: its item and its number within the item. Printed as its 件号 "05-03";
/// in the PDF its first page carries the label `rec-05-03` and its last `rec-05-03-end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId {
    /// The assessment item (指标).
    pub item: u32,
    /// The record's number within the item.
    pub number: u32,
}

impl RecordId {
    /// The record `number` of `item`.
    pub fn new(item: u32, number: u32) -> RecordId {
        RecordId { item, number }
    }

    /// The label of the record's first page.
    pub fn label(self) -> String {
        format!("rec-{self}")
    }

    /// The label of the record's last page.
    pub fn end_label(self) -> String {
        format!("rec-{self}-end")
    }

    /// Reads a printed 件号 ("05-03").
    pub fn parse(text: &str) -> Option<RecordId> {
        let (item, number) = text.split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (digits(item) && digits(number)).then_some(())?;
        Some(RecordId::new(item.parse().ok()?, number.parse().ok()?))
    }

    /// Reads a record's label: the record, and whether it is the label of its last page.
    pub fn from_label(label: &str) -> Option<(RecordId, bool)> {
        let rest = label.strip_prefix("rec-")?;
        match rest.strip_suffix("-end") {
            Some(id) => Some((RecordId::parse(id)?, true)),
            None => Some((RecordId::parse(rest)?, false)),
        }
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}-{:02}", self.item, self.number)
    }
}

/// What a PDF is. It chooses the template the document is rendered from and the name of its
/// file in the output folder (the dossier's output name, from dossier.yaml, is the stem).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Target {
    /// The whole dossier in one PDF.
    #[default]
    Dossier,
    /// Volume `n` of a dossier cut into volumes.
    Volume(usize),
    /// The master volume (总目录) of a dossier cut into volumes.
    Master,
    /// The evidence binder of a unit (its short name), or box `n` of it when it is cut into
    /// boxes (盒).
    Binder(String, Option<usize>),
}

impl Target {
    /// The template the document is rendered from.
    pub fn template(&self) -> &'static str {
        match self {
            Target::Dossier | Target::Volume(_) => "dossier.typ",
            Target::Master => "master.typ",
            Target::Binder(..) => "binder.typ",
        }
    }

    /// The PDF's file name: in the output folder for the dossier's PDFs (`output_name` the
    /// stem), in its binders folder for a binder.
    pub fn file_name(&self, output_name: &str) -> String {
        match self {
            Target::Dossier => format!("{output_name}.pdf"),
            Target::Volume(n) => format!("{output_name}-第{n}册.pdf"),
            Target::Master => format!("{output_name}-总目录.pdf"),
            Target::Binder(unit, None) => format!("{}.pdf", safe_name(unit, 60, false)),
            Target::Binder(unit, Some(n)) => format!("{}-第{n}盒.pdf", safe_name(unit, 60, false)),
        }
    }

    /// Whether `file` (a name in the binders folder) is a binder of `unit`: its one PDF or one
    /// of its boxes. What a run for that unit replaces.
    pub fn is_binder_of(unit: &str, file: &str) -> bool {
        file.strip_prefix(&safe_name(unit, 60, false))
            .is_some_and(|rest| rest == ".pdf" || numbered(rest, "-第", "盒.pdf"))
    }

    /// Whether `file` is the name of one of the dossier's PDFs under `output_name` (the
    /// dossier, a volume or the master volume): what an earlier build may have left.
    pub fn is_dossier_pdf(output_name: &str, file: &str) -> bool {
        file.strip_prefix(output_name).is_some_and(|rest| {
            rest == ".pdf" || rest == "-总目录.pdf" || numbered(rest, "-第", "册.pdf")
        })
    }
}

/// Whether `s` is `prefix`, a number, `suffix`.
fn numbered(s: &str, prefix: &str, suffix: &str) -> bool {
    (s.strip_prefix(prefix))
        .and_then(|r| r.strip_suffix(suffix))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The label of the first page of item `n`'s section.
pub fn item_label(n: u32) -> String {
    format!("item-{n:02}")
}

/// Reads an item's label.
pub fn item_from_label(label: &str) -> Option<u32> {
    let n = label.strip_prefix("item-")?;
    n.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| n.parse().ok())?
}

/// Folder of the evidence files in the package.
pub const EVIDENCE_FOLDER: &str = "证据材料";
/// Folder of the YAML sources.
pub const SOURCES_FOLDER: &str = "源文件";
/// Folder of unreferenced evidence files (only with `--include-unreferenced`).
pub const UNREFERENCED_FOLDER: &str = "未引用的文件";
/// The manifest, JSON.
pub const MANIFEST_JSON: &str = "清单.json";
/// The manifest, CSV (UTF-8 with BOM).
pub const MANIFEST_CSV: &str = "清单.csv";
/// The read-me.
pub const README_TXT: &str = "说明.txt";
/// The build report, in the package and (prefixed with the output name) beside it.
pub const REPORT_JSON: &str = "构建报告.json";

/// Replaces what Windows does not allow in a file name, collapses spaces and cuts the name to
/// `max` characters (keeping an extension when `keep_ext`).
pub fn safe_name(name: &str, max: usize, keep_ext: bool) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_whitespace() {
                ' '
            } else if matches!(c, '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
                || c.is_control()
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let (stem, ext) = match cleaned.rfind('.') {
        Some(i) if keep_ext && i > 0 && cleaned.len() - i <= 8 => (&cleaned[..i], &cleaned[i..]),
        _ => (cleaned.as_str(), ""),
    };
    let room = max.saturating_sub(ext.chars().count()).max(1);
    let stem: String = stem.chars().take(room).collect();
    let stem = stem.trim_end_matches(['.', ' ']).to_string();
    let stem = if stem.is_empty() {
        "_".to_string()
    } else {
        stem
    };
    format!("{stem}{ext}")
}

/// The package path of a record's evidence file.
pub fn evidence_path(item: u32, record_id: &str, title: &str, rel: &str) -> String {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    format!(
        "{EVIDENCE_FOLDER}/指标{item:02}/{record_id} {}/{}",
        safe_name(title, 30, false),
        safe_name(file, 60, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_their_files_and_recognise_them() {
        let name = "某县验收资料";
        for t in [Target::Dossier, Target::Volume(2), Target::Master] {
            assert!(Target::is_dossier_pdf(name, &t.file_name(name)), "{t:?}");
        }
        assert_eq!(
            Target::Volume(12).file_name(name),
            "某县验收资料-第12册.pdf"
        );
        assert!(!Target::is_dossier_pdf(name, "某县验收资料-第x册.pdf"));
        assert!(!Target::is_dossier_pdf(name, "某县验收资料.zip"));
        assert!(!Target::is_dossier_pdf(name, "别的.pdf"));
        assert_eq!(
            Target::Binder("市场/监管局".into(), None).file_name(name),
            "市场_监管局.pdf"
        );
        let boxed = Target::Binder("市场/监管局".into(), Some(2)).file_name(name);
        assert_eq!(boxed, "市场_监管局-第2盒.pdf");
        assert!(Target::is_binder_of("市场/监管局", &boxed));
        assert!(Target::is_binder_of("市场/监管局", "市场_监管局.pdf"));
        assert!(!Target::is_binder_of("市场", "市场_监管局.pdf"));
        assert!(!Target::is_binder_of("市场/监管局", "市场_监管局-第盒.pdf"));
        assert_eq!(Target::Binder(String::new(), None).template(), "binder.typ");
        assert_eq!(Target::Volume(1).template(), "dossier.typ");
    }

    #[test]
    fn record_ids_and_labels_read_back() {
        let id = RecordId::new(5, 3);
        assert_eq!(id.to_string(), "05-03");
        assert_eq!(RecordId::parse("05-03"), Some(id));
        assert_eq!(RecordId::from_label(&id.label()), Some((id, false)));
        assert_eq!(RecordId::from_label(&id.end_label()), Some((id, true)));
        assert_eq!(RecordId::new(12, 105).to_string(), "12-105");
        for bad in ["05", "05-", "-03", "a-03", "05-03-x", "rec-05"] {
            assert_eq!(RecordId::parse(bad), None, "{bad}");
        }
        assert_eq!(RecordId::from_label("item-05"), None);
        assert_eq!(item_from_label(&item_label(7)), Some(7));
        assert_eq!(item_from_label("item-x"), None);
        assert_eq!(item_from_label("rec-05-01"), None);
    }

    #[test]
    fn names_are_safe_for_windows_and_short() {
        assert_eq!(
            safe_name("关于“质量月”的通知: 第1/2号?", 40, false),
            "关于“质量月”的通知_ 第1_2号_"
        );
        assert_eq!(safe_name("a  b\tc", 10, false), "a b c");
        let long = "很".repeat(80) + ".pdf";
        let s = safe_name(&long, 60, true);
        assert_eq!(s.chars().count(), 60);
        assert!(s.ends_with(".pdf"));
        assert_eq!(safe_name("...", 10, false), "_");
        assert_eq!(
            evidence_path(5, "05-03", "宣传方案（节选）", "evidence/05/方案.pdf"),
            "证据材料/指标05/05-03 宣传方案（节选）/方案.pdf"
        );
    }
}
