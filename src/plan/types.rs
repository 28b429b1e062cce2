//! The plan's data: the serializable structures the templates receive (through minijinja),
//! from the whole document down to one page entry. Built by [`super::plan`].

use std::collections::BTreeMap;

use serde::Serialize;

/// Everything the templates need for one document.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// What the document is: it chooses the template.
    #[serde(skip)]
    pub target: crate::names::Target,
    /// Title page and PDF metadata.
    pub meta: Meta,
    /// Font families by role.
    pub fonts: FontRoles,
    /// Groups in table order, each with its items.
    pub groups: Vec<GroupPlan>,
    /// One summary row per item.
    pub summary: Vec<SummaryRow>,
    /// Index by responsible unit.
    pub units: Vec<UnitIndex>,
    /// Index by acceptance method.
    pub methods: Vec<MethodIndex>,
    /// Criteria without evidence (printed only in a draft).
    pub gaps: Vec<Gap>,
    /// Totals.
    pub totals: Totals,
    /// For a unit's binder: the unit and the archive box data.
    pub binder: Option<BinderMeta>,
    /// The revision history.
    pub revisions: Vec<RevisionRow>,
    /// For the master volume of a dossier cut into volumes: the volumes.
    pub volumes: Vec<VolumeInfo>,
    /// For the master volume: where each label (record or item) is, "第2册第45页".
    pub places: BTreeMap<String, String>,
}

/// A volume as the master volume lists it.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeInfo {
    /// "第2册".
    pub label: String,
    /// Its PDF's file name.
    pub file: String,
    /// "指标1、指标2".
    pub items: String,
    /// Pages of the volume's PDF.
    pub pages: usize,
}

/// What a unit's binder prints besides the plan: the unit, and the box (DA/T 22-2015).
#[derive(Debug, Clone, Serialize)]
pub struct BinderMeta {
    /// Short name.
    pub short: String,
    /// Official name.
    pub name: String,
    /// Head and title.
    pub head: String,
    /// 全宗号.
    pub fonds: String,
    /// 年度.
    pub year: String,
    /// 保管期限.
    pub retention: String,
    /// 盒号.
    pub box_number: String,
    /// 起止件号: first and last 件号 in the binder.
    pub range: String,
    /// 机构（问题）: the unit's short name.
    pub org: String,
    /// Records in the binder, in order (the 卷内目录).
    pub records: Vec<RecordPlan>,
}

impl Plan {
    /// Every page of a file the document draws as a PDF page (a PDF's page, a normalised page,
    /// a JPEG that passes through), in the order of the document: (path for Typst, 1-based
    /// page) — of a dossier or a volume (a binder's records are not listed: binders are
    /// written after their layout). The assembler writes these before the layout (see
    /// [`crate::assemble::Ahead`]).
    pub fn drawn_pages(&self) -> Vec<(&str, u32)> {
        let records = (self.groups.iter())
            .flat_map(|g| &g.items)
            .flat_map(|i| &i.records);
        let mut out = Vec::new();
        for e in records.flat_map(|r| &r.entries) {
            if e.kind == "pdf" {
                out.push((e.path.as_str(), e.page));
            }
            if let Some(s) = e.second.as_ref().filter(|s| s.kind == "pdf") {
                out.push((s.path.as_str(), s.page));
            }
        }
        out
    }
}

/// Metadata of the document.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    /// Cover title and PDF title.
    pub title: String,
    /// The county.
    pub county: String,
    /// 申报单位.
    pub applicant: String,
    /// 编制单位 (PDF author).
    pub author: String,
    /// Version.
    pub version: String,
    /// Date in Chinese (2022年5月20日).
    pub date: String,
    /// PDF subject.
    pub subject: String,
    /// PDF keywords.
    pub keywords: Vec<String>,
    /// Draft: the gap list is printed.
    pub draft: bool,
    /// "第2册" on every page of a volume; empty for a dossier in one volume.
    pub volume_label: String,
    /// "第2册（共3册）", for the cover; empty for a dossier in one volume.
    pub volume_title: String,
    /// The items of this volume, "指标1、指标2、…".
    pub volume_items: String,
    /// Printed on both sides: binding margin inside, every record and the contents on a
    /// right-hand page, inserted blank versos saying 本页无正文.
    pub duplex: bool,
}

/// Font family lists by role; each ends with the embedded body font.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FontRoles {
    /// 宋体: body text.
    pub song: Vec<String>,
    /// 黑体: headings, tables, running heads.
    pub hei: Vec<String>,
    /// 楷体: notes.
    pub kai: Vec<String>,
    /// 标题: cover and group titles (小标宋).
    pub title: Vec<String>,
}

impl Default for FontRoles {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        FontRoles {
            song: v(&["Noto Serif CJK SC"]),
            hei: v(&["Noto Sans CJK SC", "Noto Serif CJK SC"]),
            kai: v(&["Dossier Kai", "Noto Serif CJK SC"]),
            title: v(&["Noto Serif CJK SC"]),
        }
    }
}

/// A group of items.
#[derive(Debug, Clone, Serialize)]
pub struct GroupPlan {
    /// 一 … 五, 加分项.
    pub id: String,
    /// Heading: 一、质量发展战略规划明确清晰.
    pub heading: String,
    /// Items.
    pub items: Vec<ItemPlan>,
}

/// An item's section.
#[derive(Debug, Clone, Serialize)]
pub struct ItemPlan {
    /// Number.
    pub number: u32,
    /// Title as in the table.
    pub title: String,
    /// Typst label of the section.
    pub label: String,
    /// Acceptance methods, normalised, joined.
    pub methods: String,
    /// The methods cell as written, if it says more.
    pub methods_text: Option<String>,
    /// Criteria with tasks, targets and supporting records.
    pub criteria: Vec<CriterionPlan>,
    /// Records in 件号 order.
    pub records: Vec<RecordPlan>,
    /// For a bonus item: the points claimed in all (the sum over its rules), else none.
    pub bonus_total: Option<u32>,
}

/// A criterion in an item's section.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionPlan {
    /// 1-based.
    pub index: usize,
    /// Text as written.
    pub text: String,
    /// The row shares the tasks of the row above.
    pub merged: bool,
    /// Tasks of the row.
    pub tasks: Vec<TaskPlan>,
    /// 责任单位 as written.
    pub units: String,
    /// Targets with measured values.
    pub targets: Vec<TargetPlan>,
    /// Bonus rules, as text.
    pub bonus: Vec<String>,
    /// Bonus points the county claims for this rule: the most any supporting record claims.
    pub claimed: Option<u32>,
    /// Records that support it.
    pub records: Vec<RefPlan>,
    /// In a unit's binder: records of other units that support it, with where they are in the
    /// dossier ("市场监管局提供：01-01，汇编第 7 页").
    pub others: Vec<OtherRef>,
}

/// A record of another unit, as a binder mentions it.
#[derive(Debug, Clone, Serialize)]
pub struct OtherRef {
    /// The unit that supplied it (short name).
    pub unit: String,
    /// 05-03.
    pub id: String,
    /// Where it is in the dossier ("第 45 页", "第2册第45页"), or empty when unknown.
    pub place: String,
}

/// A task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskPlan {
    /// Number as printed ("1", or "" for an unnumbered task).
    pub number: String,
    /// Text.
    pub text: String,
}

/// A target and what was measured against it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetPlan {
    /// What is measured.
    pub name: String,
    /// The goal: "≥ 97%".
    pub goal: String,
    /// Measurements.
    pub measured: Vec<MeasurePlan>,
}

/// One measured value.
#[derive(Debug, Clone, Serialize)]
pub struct MeasurePlan {
    /// "98.2%".
    pub value: String,
    /// Reference value of a relative target, "4.2".
    pub reference: Option<String>,
    /// 达标 / 未达标 / 无法判断.
    pub verdict: String,
    /// Whether met (None: unknown).
    pub met: Option<bool>,
    /// Where the number comes from.
    pub note: Option<String>,
    /// The record.
    pub record: RefPlan,
}

/// A reference to a record.
#[derive(Debug, Clone, Serialize)]
pub struct RefPlan {
    /// 05-03.
    pub id: String,
    /// Label of its first page.
    pub label: String,
}

/// A record with its pages.
#[derive(Debug, Clone, Serialize)]
pub struct RecordPlan {
    /// 05-03.
    pub id: String,
    /// Label of the first page.
    pub label: String,
    /// Label of the last page.
    pub end_label: String,
    /// Item.
    pub item: u32,
    /// 件号 within the item.
    pub number: u32,
    /// 题名.
    pub title: String,
    /// 文号.
    pub doc_number: String,
    /// 责任者.
    pub issuer: String,
    /// 日期 as DA/T 22 writes it: 20210305 (empty when the record has none).
    pub date: String,
    /// 日期 in words, 2021年3月5日, for photo captions.
    pub date_cn: String,
    /// 档号 (see [`super::archive_number`]).
    pub archive_no: String,
    /// Responsible units (short names), joined with 、.
    pub units: String,
    /// 备注 for the catalog, in words (remark, package-only files, page selections).
    pub remark: String,
    /// Number of pages in the dossier.
    pub pages: usize,
    /// The record's pages, in order.
    pub entries: Vec<PageEntry>,
    /// Files that only go into the package.
    pub package_files: Vec<PackageFile>,
    /// The 归档章 (DA/T 22-2015), cells in its order: 全宗号, 年度, 件号 / 机构（问题）, 保管期限,
    /// 页数.
    pub stamp: Vec<StampCell>,
    /// The photo caption's fields (DA/T 50), when the record gives any.
    pub photo: Option<PhotoPlan>,
    /// Bonus points the record claims.
    pub bonus: Option<u32>,
    /// In a unit's binder: where the record is in the dossier ("第 45 页"), or empty.
    pub dossier_place: String,
    /// Where the record is written, "items/05.yaml:12".
    pub origin: String,
}

/// One cell of the 归档章: its label and what to print, the first alternative that fits its
/// cell (a long value has a shorter form, e.g. "市场监管局等" for several units).
#[derive(Debug, Clone, Serialize)]
pub struct StampCell {
    /// 全宗号, 年度, 件号, 机构（问题）, 保管期限, 页数.
    pub label: String,
    /// The value's forms, longest first (empty: a cell left for the archivist's pen).
    pub values: Vec<String>,
}

/// The caption fields of a photo record besides its title and date.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoPlan {
    /// 地点.
    pub place: String,
    /// 人物.
    pub people: String,
    /// 摄影者.
    pub photographer: String,
}

/// One printed page of a record: one page of a file, or two landscape photos.
#[derive(Debug, Clone, Serialize)]
pub struct PageEntry {
    /// Path for Typst ("/evidence/05/a.pdf").
    pub path: String,
    /// "pdf" or "image" or "placeholder".
    pub kind: String,
    /// Page of the PDF (1-based).
    pub page: u32,
    /// Typst image format.
    pub format: String,
    /// The invisible text layer to lay over it (a scan that was read).
    pub text: Option<crate::textlayer::Overlay>,
    /// n of the record's pages (1-based).
    pub seq: usize,
    /// A second landscape photo printed below the first on the same page.
    pub second: Option<Slot>,
}

/// What a printed page shows in one place: a page of a PDF or an image.
#[derive(Debug, Clone, Serialize)]
pub struct Slot {
    /// Path for Typst.
    pub path: String,
    /// "pdf" or "image".
    pub kind: String,
    /// Page of the PDF (1-based).
    pub page: u32,
    /// Typst image format.
    pub format: String,
    /// The invisible text layer to lay over it (a scan that was read).
    pub text: Option<crate::textlayer::Overlay>,
}

/// A package-only file, as shown on the record's placeholder page and in the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct PackageFile {
    /// File name.
    pub name: String,
    /// Path in the dossier.
    pub path: String,
    /// Path in the submission package.
    pub package_path: String,
    /// Human size.
    pub size: String,
}

/// One row of the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// Item number.
    pub number: u32,
    /// Title.
    pub title: String,
    /// Label of the item's section.
    pub label: String,
    /// Records.
    pub records: usize,
    /// Evidence pages.
    pub pages: usize,
    /// "2/3".
    pub criteria: String,
    /// "1/1", or "—" when the item has no targets.
    pub targets: String,
}

/// One unit in the index.
#[derive(Debug, Clone, Serialize)]
pub struct UnitIndex {
    /// Short name.
    pub short: String,
    /// Official name.
    pub name: String,
    /// Head and title.
    pub head: String,
    /// Items and task numbers assigned.
    pub tasks: Vec<UnitTasks>,
    /// Records it supplied.
    pub records: Vec<RefTitle>,
}

/// A record reference with its title.
#[derive(Debug, Clone, Serialize)]
pub struct RefTitle {
    /// 05-03.
    pub id: String,
    /// Label.
    pub label: String,
    /// Title.
    pub title: String,
}

/// One acceptance method in the index.
#[derive(Debug, Clone, Serialize)]
pub struct MethodIndex {
    /// 听取汇报 / 查阅文件资料 / 现场检查.
    pub method: String,
    /// The items checked this way.
    pub items: Vec<ItemRef>,
}

/// One row of the revision history.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionRow {
    /// 版本.
    pub version: String,
    /// The date, in Chinese.
    pub date: String,
    /// What was corrected.
    pub note: String,
}

/// The tasks of one item assigned to a unit.
#[derive(Debug, Clone, Serialize)]
pub struct UnitTasks {
    /// "指标5".
    pub item: String,
    /// The item's label.
    pub label: String,
    /// "工作任务 1、2".
    pub tasks: String,
}

/// An item referred to from an index.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRef {
    /// The item's number.
    pub number: u32,
    /// Its title.
    pub title: String,
    /// Its label.
    pub label: String,
}

/// A criterion without evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    /// Item.
    pub item: u32,
    /// Criterion index.
    pub criterion: usize,
    /// Text.
    pub text: String,
    /// Units responsible.
    pub units: String,
    /// Label of the item.
    pub label: String,
}

/// Totals.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Totals {
    /// Records.
    pub records: usize,
    /// Evidence pages (placeholders included).
    pub pages: usize,
    /// Items with at least one record.
    pub items_with_records: usize,
}
