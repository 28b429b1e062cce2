//! Validation: turns the parsed files into a checked [`Dossier`] and reports every problem
//! that needs more than one file to see: items against the catalog, units against the
//! registry, criteria and tasks against the item, 件号 against each other, evidence paths
//! against the folder and evidence files against what Typst can read.
//!
//! Validation never stops at the first problem: it reports all it finds, and produces a
//! dossier only when none of them is an error.
//!
//! This module checks the whole (config, units, items against the catalog, 件号 across files);
//! the private submodules `records` (one item file's records) and `files` (the evidence files
//! they name) do the rest.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Place, Report};
use crate::evidence::{Inspected, Kind};
use crate::load::{Sources, TASK_TABLE_FILE, UNITS_FILE};
use crate::model::{Config, Date, ItemFile, UnitsFile};
use crate::units::Registry;
use crate::yaml::pos_of;

mod files;
mod records;

use records::{PendingRec, check_coverage, check_records};

pub use files::InspectCache;
use files::{check_file, inspect_all, path_or_file_problem, path_problem, unreferenced_files};

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
    /// The task table: the dossier's own, or the embedded one adapted to its county.
    pub catalog: Arc<Catalog>,
    /// The dossier's own task table file, when it has one.
    pub task_table: Option<String>,
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
    /// 保管期限 of this record when it has its own (otherwise dossier.yaml's applies).
    pub retention: Option<crate::model::Retention>,
    /// The photo caption fields (DA/T 50), when any is given.
    pub photo: Option<Photo>,
    /// Bonus points claimed (bonus items only).
    pub bonus: Option<u32>,
    /// Where the record is written (file and line), to map later errors back.
    pub origin: Place,
}

/// What a photo's caption says besides its title and date (DA/T 50 照片说明).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Photo {
    /// 地点.
    pub place: Option<String>,
    /// 人物.
    pub people: Option<String>,
    /// 摄影者.
    pub photographer: Option<String>,
}

impl Rec {
    /// The record's identity.
    pub fn id(&self) -> crate::names::RecordId {
        crate::names::RecordId::new(self.item, self.number)
    }

    /// The 件号 as printed: item and number, e.g. 05-03.
    pub fn label(&self) -> String {
        self.id().to_string()
    }

    /// Pages this record contributes to the dossier (typeset files only; a record with only
    /// package files has none of its own).
    pub fn pages(&self) -> usize {
        self.printed_pages().len()
    }

    /// The printed pages of the record known to have no text layer: every file shown on
    /// the page has none on that page.
    pub fn pages_without_text(&self) -> usize {
        (self.printed_pages().iter())
            .filter(|shown| {
                !shown.is_empty()
                    && shown.iter().all(|&(i, page)| {
                        (self.files.get(i)).is_some_and(|f| f.text.has(page) == Some(false))
                    })
            })
            .count()
    }

    /// The printed pages of the record, each the (file index, page) pairs it shows: one page
    /// of a file, or two landscape photos one above the other — a record with several
    /// landscape photos prints them two to a page, as evidence binders do (DA/T 50 practice).
    pub fn printed_pages(&self) -> Vec<Vec<(usize, u32)>> {
        let landscape = |f: &RecFile| f.kind.is_image() && f.pixels.is_some_and(|(w, h)| w > h);
        let pair = self
            .files
            .iter()
            .filter(|f| !f.package_only && landscape(f))
            .count()
            >= 2;
        let mut out: Vec<Vec<(usize, u32)>> = Vec::new();
        // Whether the last page holds one landscape photo and has room for a second.
        let mut room = false;
        for (i, f) in self.files.iter().enumerate() {
            if f.package_only {
                continue;
            }
            for &p in &f.pages {
                match out.last_mut() {
                    Some(last) if pair && landscape(f) && room => {
                        last.push((i, p));
                        room = false;
                    }
                    _ => {
                        out.push(vec![(i, p)]);
                        room = pair && landscape(f);
                    }
                }
            }
        }
        out
    }
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
    /// Pixel size of an image as shown (EXIF orientation applied).
    pub pixels: Option<(u32, u32)>,
    /// Which pages have a text layer.
    pub text: crate::evidence::TextLayer,
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
    /// Of those, the pages known to have no text layer (scans, photos): nothing on them can
    /// be searched for or copied.
    pub pages_without_text: usize,
}

/// The result of validating: the dossier when there are no errors, the counts, the report.
pub struct Validated {
    /// The checked dossier, when nothing is an error.
    pub dossier: Option<Dossier>,
    /// The dossier as far as it could be checked, when something is an error but dossier.yaml
    /// and units.yaml parsed: records or files with errors may be missing from it. Only for
    /// reports of progress (`dossier status`), never for printing.
    pub incomplete: Option<Dossier>,
    /// What was found.
    pub counts: Counts,
    /// All diagnostics, sorted.
    pub report: Report,
}

/// Validates loaded sources.
pub fn validate(sources: Sources) -> Validated {
    validate_with(sources, &InspectCache::default())
}

/// Validates loaded sources, reusing earlier inspections of unchanged evidence files. The
/// checks run as stages, each reporting its own problems: the task table, dossier.yaml, the
/// units registry, the item files, the records, the evidence files, coverage, unreferenced
/// files. A stage that lacks its input (units.yaml did not parse) skips only the checks that
/// need it.
pub fn validate_with(sources: Sources, cache: &InspectCache) -> Validated {
    let Sources {
        root,
        canonical_root,
        config,
        units,
        task_table,
        items,
        item_files,
        unparsed,
        mut report,
    } = sources;
    let mut diags: Vec<Diagnostic> = Vec::new();
    let has_table = task_table.is_some();
    let table_text = report.source(TASK_TABLE_FILE).cloned();
    let Some(catalog) = crate::county::task_table(
        task_table,
        table_text.as_deref(),
        config.as_ref(),
        &mut diags,
    ) else {
        // The county's own table did not parse: its error is reported, nothing else can be
        // checked against it.
        report.sort();
        return Validated {
            dossier: None,
            incomplete: None,
            counts: Counts::default(),
            report,
        };
    };
    let catalog = &*catalog;
    let period = config.as_ref().and_then(|c| check_config(c, &mut diags));
    let registry = (units.as_ref()).map(|u| Registry::build(UNITS_FILE, u, &mut diags));
    if let Some(reg) = &registry {
        let table = (catalog, table_text.as_deref());
        check_registry(reg, units.as_ref(), table, config.as_ref(), &mut diags);
    }
    let by_item = index_items(items, catalog, &mut diags);
    let ctx = RecordsCtx {
        catalog,
        by_item: &by_item,
        report: &report,
        registry: registry.as_ref(),
        period,
        item_files,
        unparsed: &unparsed,
    };
    let pending = check_all_records(&ctx, &mut diags);
    let wanted = wanted_files(&pending);
    let inspected = inspect_all(&canonical_root, wanted.keys().cloned().collect(), cache);
    let (items_out, files_out, mut counts) =
        attach_files(pending, &inspected, &canonical_root, &mut diags);
    for item in &items_out {
        let cat = catalog
            .item(item.number)
            .expect("items come from the catalog");
        let at = (by_item.get(&item.number)).map(|(f, d)| Place::at(f, pos_of(&d.item)));
        check_coverage(cat, at, &item.records, &mut diags);
    }
    counts.items = by_item.len();
    let unreferenced = unreferenced_files(&root, &wanted, &mut diags);

    report_all(&mut report, diags);
    let dossier = match (config, registry) {
        (Some(config), Some(registry)) => Some(Dossier {
            root,
            canonical_root,
            config,
            registry,
            catalog: Arc::new(catalog.clone()),
            task_table: has_table.then(|| TASK_TABLE_FILE.to_string()),
            items: items_out,
            files: files_out,
            unreferenced,
        }),
        _ => None,
    };
    finish(report, dossier, counts)
}

/// The result: the dossier when nothing is an error, else as far as it could be checked.
fn finish(mut report: Report, dossier: Option<Dossier>, counts: Counts) -> Validated {
    let (dossier, incomplete) = if report.has_errors() {
        (None, dossier)
    } else {
        (dossier, None)
    };
    report.sort();
    Validated {
        dossier,
        incomplete,
        counts,
        report,
    }
}

/// The registry against the task table (`catalog`, and its text when the county has its own)
/// and dossier.yaml: every unit named resolves, groups are sound, 盒号 name units.
fn check_registry(
    reg: &Registry,
    units: Option<&UnitsFile>,
    (catalog, table_text): (&Catalog, Option<&str>),
    config: Option<&Config>,
    diags: &mut Vec<Diagnostic>,
) {
    let table_place = |item: u32, name: &str| match table_text {
        Some(text) => crate::county::table_place(text, item, name),
        None => Place::file(UNITS_FILE),
    };
    check_catalog_units(reg, catalog, &table_place, diags);
    check_groups(reg, units, catalog, diags);
    check_boxes(reg, config, diags);
    check_deadlines(reg, config, diags);
}

/// The 盒号 of dossier.yaml are given per unit: each name must be a unit of the registry.
fn check_boxes(reg: &Registry, config: Option<&Config>, diags: &mut Vec<Diagnostic>) {
    let Some(boxes) = config
        .and_then(|c| c.archive.as_ref())
        .and_then(|a| a.boxes.as_ref())
    else {
        return;
    };
    for name in boxes.value.keys() {
        let place = Place::at(crate::load::CONFIG_FILE, pos_of(boxes));
        match reg.resolve(name) {
            Some(crate::units::Resolved::Unit(_)) => {}
            Some(crate::units::Resolved::Group(_)) => diags.push(
                Diagnostic::error(format!("盒号要按单位填写，“{name}”是单位组"))
                    .code("box-for-group")
                    .at(place),
            ),
            None => diags.push(reg.unknown(name, place, "盒号里的单位")),
        }
    }
}

/// `进度: 各单位截止日期` names units or groups of the registry.
fn check_deadlines(reg: &Registry, config: Option<&Config>, diags: &mut Vec<Diagnostic>) {
    let Some(units) = config
        .and_then(|c| c.progress.as_ref())
        .and_then(|p| p.units.as_ref())
    else {
        return;
    };
    for name in units.value.keys() {
        if reg.resolve(name).is_none() {
            let place = Place::at(crate::load::CONFIG_FILE, pos_of(units));
            diags.push(reg.unknown(name, place, "各单位截止日期里的单位"));
        }
    }
}

/// The item files by item number: one per item of the task table. A file for an item the table
/// does not have, or a second file for an item, is an error; a file whose name or 指标内容
/// disagrees with its 指标 a warning.
fn index_items(
    items: Vec<(String, ItemFile)>,
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<u32, (String, ItemFile)> {
    let mut by_item: BTreeMap<u32, (String, ItemFile)> = BTreeMap::new();
    for (file, data) in items {
        let n = data.item.value;
        let Some(cat) = catalog.item(n) else {
            diags.push(
                Diagnostic::error(format!("目录中没有指标{n}"))
                    .code("item-unknown")
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
                    .code("item-file-twice")
                    .at(Place::at(&file, pos_of(&data.item)))
                    .related(Place::at(first, pos_of(&first_data.item)), "另一个在这里")
                    .hint("每项指标只能有一个文件；请把两个文件里的材料合并到一个文件里。"),
            );
            continue;
        }
        check_item_names(&file, &data, cat, diags);
        by_item.insert(n, (file, data));
    }
    by_item
}

/// An item file's name and its 指标内容 against its 指标.
fn check_item_names(
    file: &str,
    data: &ItemFile,
    cat: &crate::catalog::Item,
    diags: &mut Vec<Diagnostic>,
) {
    let n = data.item.value;
    let stem = (file.rsplit('/').next().unwrap_or(file).split('.').next()).unwrap_or("");
    if item_number_of_file(file).is_some_and(|s| s != n) {
        diags.push(
            Diagnostic::warning(format!("文件名是 {stem}，写的却是指标{n}"))
                .code("item-file-name")
                .at(Place::at(file, pos_of(&data.item)))
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
                .code("item-title-differs")
                .at(Place::at(file, pos_of(title)))
                .hint("“指标内容”只是方便阅读，以任务分解表为准；请检查是否写错了指标号。"),
            );
        }
    }
}

/// What checking the records of every item needs.
struct RecordsCtx<'a> {
    catalog: &'a Catalog,
    by_item: &'a BTreeMap<u32, (String, ItemFile)>,
    report: &'a Report,
    registry: Option<&'a Registry>,
    period: Option<(Date, Date)>,
    /// How many item files there are (none: a new dossier, no warning per missing item).
    item_files: usize,
    /// Item files that did not parse.
    unparsed: &'a [String],
}

/// The records of one item, checked, their evidence files not yet inspected.
struct PendingItem {
    number: u32,
    file: Option<String>,
    recs: Vec<PendingRec>,
}

/// Checks the records of every item of the task table, in its order; an item without a file is
/// a warning (unless a file that did not parse may be it).
fn check_all_records(ctx: &RecordsCtx, diags: &mut Vec<Diagnostic>) -> Vec<PendingItem> {
    // An item file that did not parse may be the missing item: say nothing about missing files
    // it could stand for (its parse error is reported).
    let unparsed_items: Option<Vec<u32>> = ctx
        .unparsed
        .iter()
        .map(|f| item_number_of_file(f))
        .collect();
    let mut pending = Vec::new();
    for cat in &ctx.catalog.items {
        let Some((file, data)) = ctx.by_item.get(&cat.number) else {
            let may_be_unparsed = unparsed_items
                .as_ref()
                .is_none_or(|numbers| numbers.contains(&cat.number));
            if ctx.item_files > 0 && !may_be_unparsed {
                diags.push(
                    Diagnostic::warning(format!(
                        "没有指标{}的文件，这项指标没有任何材料",
                        cat.number
                    ))
                    .code("item-file-missing")
                    .at(Place::file(format!("items/{:02}.yaml", cat.number)))
                    .hint(format!(
                        "新建 items/{:02}.yaml，写上“指标: {}”和材料。",
                        cat.number, cat.number
                    )),
                );
            }
            pending.push(PendingItem {
                number: cat.number,
                file: None,
                recs: Vec::new(),
            });
            continue;
        };
        let text = ctx.report.source(file).cloned();
        let src = records::Source {
            file,
            text: text.as_deref(),
        };
        let recs = check_records(&src, data, cat, ctx.registry, ctx.period, diags);
        pending.push(PendingItem {
            number: cat.number,
            file: Some(file.clone()),
            recs,
        });
    }
    pending
}

/// Every evidence file the records name, once, with the place of its first mention.
fn wanted_files(pending: &[PendingItem]) -> BTreeMap<String, Place> {
    let mut wanted: BTreeMap<String, Place> = BTreeMap::new();
    for item in pending {
        let file = item.file.as_deref().unwrap_or_default();
        for f in item.recs.iter().flat_map(|r| &r.files) {
            if let Some(rel) = &f.rel {
                wanted
                    .entry(rel.clone())
                    .or_insert_with(|| Place::at(file, pos_of(&f.entry.path)));
            }
        }
    }
    wanted
}

/// Gives each record its inspected evidence files (reporting the files that cannot be used),
/// and counts records, files and pages.
fn attach_files(
    pending: Vec<PendingItem>,
    inspected: &BTreeMap<String, Result<Inspected, files::FileError>>,
    canonical_root: &std::path::Path,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<ItemEvidence>, BTreeMap<String, Inspected>, Counts) {
    let mut counts = Counts::default();
    let mut items_out = Vec::new();
    let mut files_out = BTreeMap::new();
    for PendingItem { number, file, recs } in pending {
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
                        if let Some(rf) = check_file(&rel, &f.entry, info, place, diags) {
                            rec.files.push(rf);
                        }
                    }
                    Some(Err(err)) => diags.push(path_or_file_problem(
                        canonical_root,
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
            counts.pages_without_text += rec.pages_without_text();
            out.push(rec);
        }
        out.sort_by_key(|r| r.number);
        items_out.push(ItemEvidence {
            number,
            file,
            records: out,
        });
    }
    counts.files = files_out.len();
    (items_out, files_out, counts)
}

/// The item number an item file's name stands for: `items/05.yaml` → 5.
fn item_number_of_file(file: &str) -> Option<u32> {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.split('.').next()?.trim().parse().ok()
}

fn report_all(report: &mut Report, diags: Vec<Diagnostic>) {
    for d in diags {
        report.push(d);
    }
}

/// The checks of `dossier.yaml` that need no other file. Each runs on its own, so one cannot
/// hide another. Returns the creation period to check record dates against, if it gives one.
fn check_config(c: &Config, diags: &mut Vec<Diagnostic>) -> Option<(Date, Date)> {
    check_output_name(c, diags);
    check_retention(c, diags);
    check_period(c, diags)
}

/// 输出文件名 is a file name that stays in the output folder.
fn check_output_name(c: &Config, diags: &mut Vec<Diagnostic>) {
    let file = crate::load::CONFIG_FILE;
    if let Some(name) = &c.output_name
        && let Err(why) = output_name_problem(&name.value)
    {
        diags.push(
            Diagnostic::error(format!("输出文件名“{}”不能用：{why}", name.value))
                .code("output-name-invalid")
                .at(Place::at(file, pos_of(name)))
                .hint("输出文件名只是一个文件名（不含扩展名），如“某某县质量强县验收资料”；生成的文件总是放在输出目录（--out）里。不能含 / \\ : * ? \" < > | 和“..”，不能是 CON、PRN、AUX、NUL、COM1、LPT1 等 Windows 保留名。"),
        );
    }
}

/// 归档: 保管期限 is one of DA/T 22's.
fn check_retention(c: &Config, diags: &mut Vec<Diagnostic>) {
    let file = crate::load::CONFIG_FILE;
    if let Some(r) = c.archive.as_ref().and_then(|a| a.retention.as_ref())
        && crate::model::Retention::parse(&r.value.0).is_none()
    {
        diags.push(retention_error(&r.value.0).at(Place::at(file, pos_of(r))));
    }
}

/// 创建期, when given, starts before it ends: the period record dates are checked against.
fn check_period(c: &Config, diags: &mut Vec<Diagnostic>) -> Option<(Date, Date)> {
    let file = crate::load::CONFIG_FILE;
    let p = c.period.as_ref()?;
    if p.start.value > p.end.value {
        diags.push(
            Diagnostic::error(format!(
                "创建期的起始日期 {} 晚于结束日期 {}",
                p.start.value, p.end.value
            ))
            .code("period-reversed")
            .at(Place::at(file, pos_of(&p.start))),
        );
        return None;
    }
    Some((p.start.value, p.end.value))
}

/// The error for a 保管期限 that is none of the three DA/T 22 periods.
pub fn retention_error(written: &str) -> Diagnostic {
    Diagnostic::error(format!("保管期限“{written}”不是 DA/T 22 的期限"))
        .code("retention-invalid")
        .hint("保管期限写“永久”“定期30年”或“定期10年”（也可以写“30年”“10年”）。")
}

/// Why `name` cannot be the file name (without extension) of the outputs, if it cannot: it
/// must be one plain file name that every system accepts, so outputs never land outside the
/// output folder.
pub fn output_name_problem(name: &str) -> Result<(), String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err("是空的".into());
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
    {
        return Err(format!("含有“{c}”（路径分隔符或系统不允许的字符）"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("含有控制字符".into());
    }
    if trimmed == "." || trimmed.contains("..") {
        return Err("含有“..”".into());
    }
    if trimmed.starts_with('.') {
        return Err("以“.”开头（会成为隐藏文件）".into());
    }
    if trimmed.ends_with('.') {
        return Err("以“.”结尾（Windows 不允许）".into());
    }
    let stem = trimmed
        .split('.')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ["COM", "LPT"].iter().any(|p| {
            stem.strip_prefix(p)
                .is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit())
        });
    if reserved {
        return Err(format!("“{stem}”是 Windows 的保留设备名"));
    }
    if trimmed.chars().count() > 100 {
        return Err("太长（不能超过 100 个字）".into());
    }
    Ok(())
}

/// Every unit the catalog names must resolve in the dossier's registry (the office may have
/// edited units.yaml).
fn check_catalog_units(
    reg: &Registry,
    catalog: &Catalog,
    place: &dyn Fn(u32, &str) -> Place,
    diags: &mut Vec<Diagnostic>,
) {
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
        let d = reg.unknown(name, place(items[0], name), "任务分解表里的责任单位");
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

/// Warns about a group the task table gives tasks to that has no members: those tasks would
/// land in no unit's binder (a county that has not yet listed its towns).
fn check_groups(
    reg: &Registry,
    units: Option<&crate::model::UnitsFile>,
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) {
    let used: std::collections::BTreeSet<&str> =
        catalog.items.iter().flat_map(|i| i.unit_names()).collect();
    for (gi, g) in reg.groups.iter().enumerate() {
        if !g.members.is_empty() {
            continue;
        }
        let named = used
            .iter()
            .any(|u| reg.resolve(u) == Some(crate::units::Resolved::Group(gi)));
        if !named {
            continue;
        }
        let place = units
            .and_then(|u| u.groups.get(gi))
            .map_or(Place::file(UNITS_FILE), |e| {
                Place::at(UNITS_FILE, pos_of(&e.value.name))
            });
        diags.push(
            Diagnostic::warning(format!(
                "单位组“{}”没有成员：任务分解表交给它的工作任务不会落到任何单位",
                g.name
            ))
            .code("unit-group-empty")
            .at(place)
            .hint("把本县的单位（如各乡镇、街道办）加到 units.yaml 的“单位”里，再写进这个组的“成员”。"),
        );
    }
}
