//! Validation: turns the parsed files into a checked [`Dossier`] and reports every problem
//! that needs more than one file to see: items against the catalog, units against the
//! registry, criteria and tasks against the item, 件号 against each other, evidence paths
//! against the folder and evidence files against what Typst can read.
//!
//! Validation never stops at the first problem: it reports all it finds, and produces a
//! dossier only when none of them is an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::catalog::{Catalog, Item};
use crate::diag::{Diagnostic, Place, Pos, Report};
use crate::evidence::{self, Inspected, Kind};
use crate::load::{Sources, UNITS_FILE};
use crate::model::{Config, Date, FileEntry, ItemFile, Record};
use crate::units::Registry;
use crate::yaml::pos_of;

mod files;

pub use files::InspectCache;
use files::{check_file, inspect_all, path_or_file_problem, path_problem, unreferenced_files};

/// The creation period when `dossier.yaml` does not give one: 2020-11 to 2022-06 (plan §六).
pub const DEFAULT_PERIOD: (Date, Date) = (
    Date {
        year: 2020,
        month: 11,
        day: 1,
    },
    Date {
        year: 2022,
        month: 6,
        day: 30,
    },
);

/// A checked dossier: every reference resolved, every evidence file inspected.
#[derive(Debug, Clone)]
pub struct Dossier {
    /// The root as the user gave it.
    pub root: PathBuf,
    /// The root with symlinks resolved.
    pub canonical_root: PathBuf,
    /// `dossier.yaml`.
    pub config: Config,
    /// The units registry.
    pub registry: Registry,
    /// One entry per catalog item, in catalog order (items without a file have no records).
    pub items: Vec<ItemEvidence>,
    /// Every referenced evidence file, by normalised relative path.
    pub files: BTreeMap<String, Inspected>,
    /// Files under `evidence/` that no record references.
    pub unreferenced: Vec<String>,
}

/// The records of one item.
#[derive(Debug, Clone)]
pub struct ItemEvidence {
    /// Item number.
    pub number: u32,
    /// The item file, relative to the root, if there is one.
    pub file: Option<String>,
    /// Records in 件号 order.
    pub records: Vec<Rec>,
}

/// One checked evidence record.
#[derive(Debug, Clone)]
pub struct Rec {
    /// Item number.
    pub item: u32,
    /// 件号 within the item.
    pub number: u32,
    /// 题名.
    pub title: String,
    /// 文号.
    pub doc_number: Option<String>,
    /// 责任者.
    pub issuer: Option<String>,
    /// 日期.
    pub date: Option<Date>,
    /// 责任单位 as written.
    pub unit_names: Vec<String>,
    /// The units they stand for (indices into the registry), groups expanded, sorted.
    pub units: Vec<usize>,
    /// Supported criteria (1-based), written or implied by tasks, sorted.
    pub criteria: Vec<usize>,
    /// Supported tasks, as written.
    pub tasks: Vec<u32>,
    /// Evidence files in the order written.
    pub files: Vec<RecFile>,
    /// Measured values.
    pub measures: Vec<Measured>,
    /// 备注.
    pub remark: Option<String>,
    /// Where the record is written (file and line), to map later errors back.
    pub origin: Place,
}

impl Rec {
    /// The 件号 as printed: item and number, e.g. 05-03.
    pub fn label(&self) -> String {
        label(self.item, self.number)
    }

    /// Pages this record contributes to the dossier (typeset files only).
    pub fn pages(&self) -> usize {
        self.files.iter().map(|f| f.pages.len()).sum()
    }
}

/// The printed 件号 of record `number` in `item`.
pub fn label(item: u32, number: u32) -> String {
    format!("{item:02}-{number:02}")
}

/// One evidence file of a record.
#[derive(Debug, Clone)]
pub struct RecFile {
    /// Normalised path relative to the root.
    pub rel: String,
    /// Content kind.
    pub kind: Kind,
    /// Size in bytes.
    pub size: u64,
    /// Pages of the file.
    pub page_count: u32,
    /// The 1-based pages that go into the dossier (empty for package-only files).
    pub pages: Vec<u32>,
    /// The page selection as written.
    pub selection: Option<String>,
    /// Goes into the package only.
    pub package_only: bool,
}

/// A measured value against a target.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Criterion (1-based).
    pub criterion: usize,
    /// Index of the target in the criterion.
    pub target: usize,
    /// Measured value.
    pub value: f64,
    /// Reference value of a relative target.
    pub reference: Option<f64>,
    /// Where the number comes from.
    pub note: Option<String>,
    /// Whether the target is met (unknown for a relative target without a reference).
    pub met: Option<bool>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Item files loaded.
    pub items: usize,
    /// Records.
    pub records: usize,
    /// Distinct evidence files referenced.
    pub files: usize,
    /// Evidence pages that go into the dossier.
    pub pages: usize,
}

/// The result of validating: the dossier when there are no errors, the counts, the report.
pub struct Validated {
    /// The checked dossier, when nothing is an error.
    pub dossier: Option<Dossier>,
    /// What was found.
    pub counts: Counts,
    /// All diagnostics, sorted.
    pub report: Report,
}

/// Validates loaded sources.
pub fn validate(sources: Sources) -> Validated {
    validate_with(sources, &InspectCache::default())
}

/// Validates loaded sources, reusing earlier inspections of unchanged evidence files.
pub fn validate_with(sources: Sources, cache: &InspectCache) -> Validated {
    let Sources {
        root,
        canonical_root,
        config,
        units,
        items,
        item_files,
        mut report,
    } = sources;
    let catalog = Catalog::get();
    let mut diags: Vec<Diagnostic> = Vec::new();

    let period = config
        .as_ref()
        .map_or(DEFAULT_PERIOD, |c| check_config(c, &mut diags));
    let registry = units
        .as_ref()
        .map(|u| Registry::build(UNITS_FILE, u, &mut diags));
    if let Some(reg) = &registry {
        check_catalog_units(reg, catalog, &mut diags);
        if let Some(boxes) = config
            .as_ref()
            .and_then(|c| c.archive.as_ref())
            .and_then(|a| a.boxes.as_ref())
        {
            for name in boxes.value.keys() {
                match reg.resolve(name) {
                    Some(crate::units::Resolved::Unit(_)) => {}
                    Some(crate::units::Resolved::Group(_)) => diags.push(
                        Diagnostic::error(format!("盒号要按单位填写，“{name}”是单位组"))
                            .at(Place::at(crate::load::CONFIG_FILE, pos_of(boxes))),
                    ),
                    None => diags.push(reg.unknown(
                        name,
                        Place::at(crate::load::CONFIG_FILE, pos_of(boxes)),
                        "盒号里的单位",
                    )),
                }
            }
        }
    }

    // Items: one file per catalog item.
    let mut by_item: BTreeMap<u32, (String, ItemFile)> = BTreeMap::new();
    for (file, data) in items {
        let n = data.item.value;
        let Some(cat) = catalog.item(n) else {
            diags.push(
                Diagnostic::error(format!("目录中没有指标{n}"))
                    .at(Place::at(&file, pos_of(&data.item)))
                    .hint(format!(
                        "任务分解表共 {} 项指标，编号 1–{}。",
                        catalog.items.len(),
                        catalog.items.len()
                    )),
            );
            continue;
        };
        if let Some((first, first_data)) = by_item.get(&n) {
            diags.push(
                Diagnostic::error(format!("指标{n}有两个文件"))
                    .at(Place::at(&file, pos_of(&data.item)))
                    .related(Place::at(first, pos_of(&first_data.item)), "另一个在这里")
                    .hint("每项指标只能有一个文件；请把两个文件里的材料合并到一个文件里。"),
            );
            continue;
        }
        let stem = file
            .rsplit('/')
            .next()
            .unwrap_or(&file)
            .split('.')
            .next()
            .unwrap_or("");
        if stem.parse::<u32>().is_ok_and(|s| s != n) {
            diags.push(
                Diagnostic::warning(format!("文件名是 {stem}，写的却是指标{n}"))
                    .at(Place::at(&file, pos_of(&data.item)))
                    .hint(format!(
                        "文件名和“指标”不一致容易看错；建议把文件改名为 {n:02}.yaml。"
                    )),
            );
        }
        if let Some(title) = &data.title {
            let norm = |s: &str| {
                s.trim()
                    .trim_end_matches(['。', '.'])
                    .replace(char::is_whitespace, "")
            };
            if norm(&title.value) != norm(&cat.title) {
                diags.push(
                    Diagnostic::warning(format!(
                        "指标内容与任务分解表不一致：表中指标{n}是“{}”",
                        cat.title
                    ))
                    .at(Place::at(&file, pos_of(title)))
                    .hint("“指标内容”只是方便阅读，以任务分解表为准；请检查是否写错了指标号。"),
                );
            }
        }
        by_item.insert(n, (file, data));
    }

    // Records.
    let mut pending: Vec<(u32, Option<String>, Vec<PendingRec>)> = Vec::new();
    for cat in &catalog.items {
        match by_item.get(&cat.number) {
            Some((file, data)) => {
                let recs = check_records(file, data, cat, registry.as_ref(), period, &mut diags);
                pending.push((cat.number, Some(file.clone()), recs));
            }
            None => {
                if item_files > 0 {
                    diags.push(
                        Diagnostic::warning(format!(
                            "没有指标{}的文件，这项指标没有任何材料",
                            cat.number
                        ))
                        .at(Place::file(format!("items/{:02}.yaml", cat.number)))
                        .hint(format!(
                            "新建 items/{:02}.yaml，写上“指标: {}”和材料。",
                            cat.number, cat.number
                        )),
                    );
                }
                pending.push((cat.number, None, Vec::new()));
            }
        }
    }

    // Evidence files: inspect each distinct file once.
    let mut wanted: BTreeMap<String, Place> = BTreeMap::new();
    for (_, file, recs) in &pending {
        let file = file.as_deref().unwrap_or_default();
        for r in recs {
            for f in &r.files {
                if let Some(rel) = &f.rel {
                    wanted
                        .entry(rel.clone())
                        .or_insert_with(|| Place::at(file, pos_of(&f.entry.path)));
                }
            }
        }
    }
    let inspected = inspect_all(&canonical_root, wanted.keys().cloned().collect(), cache);

    let mut counts = Counts {
        items: by_item.len(),
        ..Counts::default()
    };
    let mut items_out = Vec::new();
    let mut files_out = BTreeMap::new();
    for (number, file, recs) in pending {
        let cat = catalog
            .item(number)
            .expect("pending items come from the catalog");
        let file_name = file.clone().unwrap_or_default();
        let mut out = Vec::new();
        for p in recs {
            let mut rec = p.rec;
            for f in p.files {
                let Some(rel) = f.rel else { continue };
                let place = Place::at(&file_name, pos_of(&f.entry.path));
                match inspected.get(&rel) {
                    Some(Ok(info)) => {
                        files_out.insert(rel.clone(), info.clone());
                        if let Some(rf) = check_file(&rel, &f.entry, info, place, &mut diags) {
                            rec.files.push(rf);
                        }
                    }
                    Some(Err(err)) => diags.push(path_or_file_problem(
                        &canonical_root,
                        &rel,
                        &f.entry.path.value,
                        err,
                        place,
                    )),
                    None => {}
                }
            }
            counts.records += 1;
            counts.pages += rec.pages();
            out.push(rec);
        }
        out.sort_by_key(|r| r.number);
        let at = by_item
            .get(&number)
            .map(|(f, d)| Place::at(f, pos_of(&d.item)));
        check_coverage(cat, at, &out, &mut diags);
        items_out.push(ItemEvidence {
            number,
            file,
            records: out,
        });
    }
    counts.files = files_out.len();

    let unreferenced = unreferenced_files(&root, &wanted, &mut diags);

    report_all(&mut report, diags);
    report.sort();
    let dossier = match (report.has_errors(), config, registry) {
        (false, Some(config), Some(registry)) => Some(Dossier {
            root,
            canonical_root,
            config,
            registry,
            items: items_out,
            files: files_out,
            unreferenced,
        }),
        _ => None,
    };
    Validated {
        dossier,
        counts,
        report,
    }
}

fn report_all(report: &mut Report, diags: Vec<Diagnostic>) {
    for d in diags {
        report.push(d);
    }
}

fn check_config(c: &Config, diags: &mut Vec<Diagnostic>) -> (Date, Date) {
    let file = crate::load::CONFIG_FILE;
    let Some(p) = &c.period else {
        return DEFAULT_PERIOD;
    };
    if p.start.value > p.end.value {
        diags.push(
            Diagnostic::error(format!(
                "创建期的起始日期 {} 晚于结束日期 {}",
                p.start.value, p.end.value
            ))
            .at(Place::at(file, pos_of(&p.start))),
        );
        return DEFAULT_PERIOD;
    }
    if let Some(name) = &c.output_name
        && (name.value.trim().is_empty()
            || name
                .value
                .contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|']))
    {
        diags.push(
            Diagnostic::error(format!("输出文件名“{}”不能用作文件名", name.value))
                .at(Place::at(file, pos_of(name)))
                .hint("文件名里不能有 / \\ : * ? \" < > |，也不能为空。"),
        );
    }
    (p.start.value, p.end.value)
}

/// Every unit the catalog names must resolve in the dossier's registry (the office may have
/// edited units.yaml).
fn check_catalog_units(reg: &Registry, catalog: &Catalog, diags: &mut Vec<Diagnostic>) {
    let mut missing: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for item in &catalog.items {
        for name in item.unit_names() {
            if reg.resolve(name).is_none() {
                missing.entry(name).or_default().push(item.number);
            }
        }
    }
    for (name, items) in missing {
        let list = crate::diag::list(items.iter().map(|n| format!("指标{n}")));
        let d = reg.unknown(name, Place::file(UNITS_FILE), "任务分解表里的责任单位");
        diags.push(Diagnostic {
            hint: Some(format!(
                "{list}用到了“{name}”。请在 units.yaml 里加上这个单位（或把它作为别名）。{}",
                d.hint
                    .as_deref()
                    .map(|h| format!("\n{h}"))
                    .unwrap_or_default()
            )),
            ..d
        });
    }
}

struct PendingFile {
    entry: FileEntry,
    rel: Option<String>,
}

struct PendingRec {
    rec: Rec,
    files: Vec<PendingFile>,
}

fn check_records(
    file: &str,
    data: &ItemFile,
    cat: &Item,
    reg: Option<&Registry>,
    period: (Date, Date),
    diags: &mut Vec<Diagnostic>,
) -> Vec<PendingRec> {
    let n = cat.number;
    let mut seen: BTreeMap<u32, Pos> = BTreeMap::new();
    let used: BTreeSet<u32> = data
        .records
        .iter()
        .flatten()
        .filter_map(|r| r.value.number.as_ref().map(|x| x.value))
        .collect();
    let next_free = (1..).find(|k| !used.contains(k)).unwrap_or(1);
    let mut out = Vec::new();
    for (i, spanned) in data.records.iter().flatten().enumerate() {
        let r: &Record = &spanned.value;
        let at = |p: Pos| Place::at(file, p);
        let rec_pos = pos_of(spanned);
        let ordinal = i + 1;

        let number = match &r.number {
            None => {
                diags.push(
                    Diagnostic::error(format!("第{ordinal}件材料没有件号"))
                        .at(at(rec_pos))
                        .hint(format!("加上“件号: {next_free}”（本指标下一个未用的件号）。件号一经打印不要再改。")),
                );
                None
            }
            Some(num) if num.value == 0 => {
                diags.push(Diagnostic::error("件号从 1 开始").at(at(pos_of(num))));
                None
            }
            Some(num) => {
                if let Some(first) = seen.get(&num.value) {
                    diags.push(
                        Diagnostic::error(format!(
                            "件号 {} 重复：指标{n}里已经有一件 {}",
                            num.value,
                            label(n, num.value)
                        ))
                        .at(at(pos_of(num)))
                        .related(at(*first), "第一次用在这里")
                        .hint(format!(
                            "每件材料的件号在本指标内不能重复；新材料请用 {next_free}。"
                        )),
                    );
                    None
                } else {
                    seen.insert(num.value, pos_of(num));
                    Some(num.value)
                }
            }
        };

        let title = match &r.title {
            Some(t) if !t.value.trim().is_empty() => t.value.trim().to_string(),
            Some(t) => {
                diags.push(
                    Diagnostic::error(format!("第{ordinal}件材料的题名是空的"))
                        .at(at(pos_of(t)))
                        .hint("题名写文件的标题，如“关于印发……的通知”。"),
                );
                String::new()
            }
            None => {
                diags.push(
                    Diagnostic::error(format!("第{ordinal}件材料没有题名"))
                        .at(at(rec_pos))
                        .hint("每件材料都要有“题名: …”（文件的标题），目录和页眉都用它。"),
                );
                String::new()
            }
        };

        if let Some(d) = &r.date
            && (d.value < period.0 || d.value > period.1)
        {
            diags.push(
                Diagnostic::warning(format!("日期 {} 不在创建期（{} 至 {}）内", d.value, period.0, period.1))
                    .at(at(pos_of(d)))
                    .hint("请核对日期；创建期以外的材料也会收入，但验收组可能会问。创建期可在 dossier.yaml 的“创建期”里改。"),
            );
        }

        // Units.
        let mut unit_names = Vec::new();
        let mut units = BTreeSet::new();
        match &r.units {
            None => diags.push(
                Diagnostic::error(format!("第{ordinal}件材料没有写责任单位"))
                    .at(at(rec_pos))
                    .hint(format!(
                        "写提供这件材料的单位，如“责任单位: {}”。本指标的责任单位有：{}。",
                        cat.unit_names().first().copied().unwrap_or("市场监管局"),
                        cat.unit_names().join("、")
                    )),
            ),
            Some(list) => {
                for u in list.iter() {
                    unit_names.push(u.value.trim().to_string());
                    if let Some(reg) = reg {
                        if reg.resolve(&u.value).is_none() {
                            diags.push(reg.unknown(u.value.trim(), at(pos_of(u)), "责任单位"));
                        } else {
                            units.extend(reg.units_of(&u.value));
                        }
                    }
                }
            }
        }

        // Criteria and tasks.
        let mut criteria = BTreeSet::new();
        let mut written_criteria = BTreeSet::new();
        if let Some(list) = &r.criteria {
            for c in list.iter() {
                let k = c.value as usize;
                if cat.criterion(k).is_none() {
                    diags.push(
                        Diagnostic::error(format!("指标{n}没有第{k}条考核内容"))
                            .at(at(pos_of(c)))
                            .hint(format!(
                                "指标{n}共有 {} 条考核内容，写 1–{}。",
                                cat.criteria.len(),
                                cat.criteria.len()
                            )),
                    );
                } else {
                    criteria.insert(k);
                    written_criteria.insert(k);
                }
            }
        }
        let mut tasks = Vec::new();
        if let Some(list) = &r.tasks {
            for t in list.iter() {
                if cat.task(t.value).is_none() {
                    let gap = if cat.tasks().any(|x| x.task.number > t.value) && t.value > 0 {
                        "（原表的任务编号在这里有跳号）"
                    } else {
                        ""
                    };
                    diags.push(
                        Diagnostic::error(format!("指标{n}没有第{}项工作任务{gap}", t.value))
                            .at(at(pos_of(t)))
                            .hint(format!("指标{n}的工作任务编号是：{}。", cat.task_numbers())),
                    );
                    continue;
                }
                let of = cat.criteria_of_task(t.value);
                if !written_criteria.is_empty() && !of.iter().any(|c| written_criteria.contains(c))
                {
                    diags.push(
                        Diagnostic::warning(format!(
                            "工作任务{}属于第{}条考核内容，与所填考核内容不一致",
                            t.value,
                            crate::diag::list(&of)
                        ))
                        .at(at(pos_of(t)))
                        .hint("请核对“考核内容”和“工作任务”是否对应；这件材料会同时算作两条考核内容的佐证。"),
                    );
                }
                criteria.extend(of);
                tasks.push(t.value);
            }
        }
        if criteria.is_empty() && r.criteria.is_none() && r.tasks.is_none() {
            if cat.criteria.len() == 1 {
                criteria.insert(1);
            } else {
                diags.push(
                    Diagnostic::warning(format!("第{ordinal}件材料没有写它佐证哪条考核内容"))
                        .at(at(rec_pos))
                        .hint(format!(
                            "加上“考核内容: [1]”或“工作任务: [1]”；指标{n}有 {} 条考核内容。",
                            cat.criteria.len()
                        )),
                );
            }
        }

        // Files (inspected later, all at once).
        let mut files = Vec::new();
        match &r.files {
            None => diags.push(
                Diagnostic::error(format!("第{ordinal}件材料没有文件"))
                    .at(at(rec_pos))
                    .hint(
                        "写上证据文件的路径，如“文件: evidence/05/宣传方案.pdf”（相对资料目录）。",
                    ),
            ),
            Some(list) if list.0.is_empty() => diags.push(
                Diagnostic::error(format!("第{ordinal}件材料的文件列表是空的")).at(at(rec_pos)),
            ),
            Some(list) => {
                let mut here = BTreeSet::new();
                for node in list.iter() {
                    let entry = FileEntry::from_node(node);
                    let rel = match evidence::normalise(&entry.path.value) {
                        Ok(rel) => {
                            if !here.insert(rel.clone()) {
                                diags.push(
                                    Diagnostic::warning(format!("同一件材料里 {rel} 写了两次"))
                                        .at(at(pos_of(&entry.path))),
                                );
                            }
                            Some(rel)
                        }
                        Err(e) => {
                            diags.push(
                                path_problem(&entry.path.value, &e).at(at(pos_of(&entry.path))),
                            );
                            None
                        }
                    };
                    files.push(PendingFile { entry, rel });
                }
            }
        }

        let measures = r
            .measures
            .as_ref()
            .map(|m| check_measures(file, cat, &criteria, m, diags))
            .unwrap_or_default();

        out.push(PendingRec {
            rec: Rec {
                item: n,
                number: number.unwrap_or(0),
                title,
                doc_number: r
                    .doc_number
                    .as_ref()
                    .map(|s| s.0.trim().to_string())
                    .filter(|s| !s.is_empty()),
                issuer: r
                    .issuer
                    .as_ref()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
                date: r.date.as_ref().map(|d| d.value),
                unit_names,
                units: units.into_iter().collect(),
                criteria: criteria.into_iter().collect(),
                tasks,
                files: Vec::new(),
                measures,
                remark: r
                    .remark
                    .as_ref()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
                origin: at(rec_pos),
            },
            files,
        });
    }
    out
}

fn check_measures(
    file: &str,
    cat: &Item,
    criteria: &BTreeSet<usize>,
    list: &crate::model::OneOrMany<crate::model::Measure>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Measured> {
    let n = cat.number;
    let mut out = Vec::new();
    for m in list.iter() {
        let at = Place::at(file, pos_of(m));
        let m = &m.value;
        let with_targets: Vec<usize> = (1..=cat.criteria.len())
            .filter(|&k| !cat.criteria[k - 1].targets.is_empty())
            .collect();
        let k = match &m.criterion {
            Some(c) => c.value as usize,
            None => {
                let candidates: Vec<usize> = with_targets
                    .iter()
                    .copied()
                    .filter(|k| criteria.is_empty() || criteria.contains(k))
                    .collect();
                match candidates.as_slice() {
                    [k] => *k,
                    [] => {
                        diags.push(
                            Diagnostic::error(format!(
                                "指标{n}没有带量化目标的考核内容，无法填写实测值"
                            ))
                            .at(at)
                            .hint(targets_hint(cat)),
                        );
                        continue;
                    }
                    _ => {
                        diags.push(
                            Diagnostic::error("实测值没有写对应哪条考核内容")
                                .at(at)
                                .hint(format!("加上“考核内容: N”。{}", targets_hint(cat))),
                        );
                        continue;
                    }
                }
            }
        };
        let Some(crit) = cat.criterion(k) else {
            diags.push(
                Diagnostic::error(format!("指标{n}没有第{k}条考核内容"))
                    .at(at)
                    .hint(targets_hint(cat)),
            );
            continue;
        };
        if crit.targets.is_empty() {
            diags.push(
                Diagnostic::error(format!("指标{n}第{k}条考核内容没有量化目标"))
                    .at(at)
                    .hint(targets_hint(cat)),
            );
            continue;
        }
        let t = match &m.target {
            None if crit.targets.len() == 1 => 0,
            None => {
                let names = crit
                    .targets
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join("”或“");
                diags.push(
                    Diagnostic::error("这条考核内容有几个目标，没有写实测的是哪一个")
                        .at(at)
                        .hint(format!("加上“指标项: {names}”。")),
                );
                continue;
            }
            Some(name) => match crit
                .targets
                .iter()
                .position(|t| t.name == name.value.trim())
            {
                Some(i) => i,
                None => {
                    let names = crit
                        .targets
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join("”“");
                    diags.push(
                        Diagnostic::error(format!("第{k}条考核内容没有“{}”这个目标", name.value))
                            .at(Place::at(file, pos_of(name)))
                            .hint(format!("可写：“{names}”。")),
                    );
                    continue;
                }
            },
        };
        let target = &crit.targets[t];
        let met = match (target.value, m.reference) {
            (Some(goal), _) => Some(target.op.holds(m.value, goal)),
            (None, Some(reference)) => Some(target.op.holds(m.value, reference)),
            (None, None) => {
                diags.push(
                    Diagnostic::warning(format!(
                        "“{}”要与{}比较，没有写参照值",
                        target.name,
                        target.reference.as_deref().unwrap_or("参照值")
                    ))
                    .at(at)
                    .hint("加上“参照值: …”，才能判断是否达标。"),
                );
                None
            }
        };
        out.push(Measured {
            criterion: k,
            target: t,
            value: m.value,
            reference: m.reference,
            note: m.note.clone(),
            met,
        });
    }
    out
}

fn targets_hint(cat: &Item) -> String {
    let list: Vec<String> = cat
        .criteria
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.targets.is_empty())
        .map(|(i, c)| {
            format!(
                "第{}条：{}",
                i + 1,
                c.targets
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            )
        })
        .collect();
    if list.is_empty() {
        format!("指标{}的考核内容都没有量化目标。", cat.number)
    } else {
        format!(
            "指标{}有量化目标的考核内容：{}。",
            cat.number,
            list.join("；")
        )
    }
}

/// Warns about every criterion of an item (whose file's `指标:` is at `at`) that no record
/// supports.
fn check_coverage(cat: &Item, at: Option<Place>, recs: &[Rec], diags: &mut Vec<Diagnostic>) {
    let Some(at) = at else { return };
    let covered: BTreeSet<usize> = recs
        .iter()
        .flat_map(|r| r.criteria.iter().copied())
        .collect();
    for (i, c) in cat.criteria.iter().enumerate() {
        let k = i + 1;
        if !covered.contains(&k) {
            let short: String = c.text.chars().take(24).collect();
            let ellipsis = if c.text.chars().count() > 24 {
                "……"
            } else {
                ""
            };
            diags.push(
                Diagnostic::warning(format!(
                    "指标{}第{k}条考核内容没有材料：{short}{ellipsis}",
                    cat.number
                ))
                .at(at.clone())
                .hint(format!("补充材料，并在材料里写“考核内容: [{k}]”。")),
            );
        }
    }
}
