//! The plan of one document: what goes into the whole dossier, in which order, with which
//! labels and page entries. The templates only lay out what the plan says; they compute
//! nothing but page numbers. A unit's binder is the same plan filtered to one unit.
//!
//! Everything here is derived from the checked [`Dossier`] and its task table (the county's own,
//! or the embedded one adapted to its county), in a fixed order, so equal input gives an equal
//! plan (and an equal PDF).

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{self, METHODS};
use crate::evidence::Kind;
use crate::model::{Date, Retention};
use crate::names::Target;
use crate::normalize::Prepared;
use crate::textlayer::TextLayers;
use crate::validate::{Dossier, Rec};

mod types;
pub use types::*;

/// Human-readable size.
pub fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1u64 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.0} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} 字节")
    }
}

fn number_text(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Options for planning.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Print the gap list.
    pub draft: bool,
    /// Font roles.
    pub fonts: FontRoles,
    /// Plan one unit's binder (index into the registry) instead of the whole dossier.
    pub unit: Option<usize>,
    /// Duplex printing: each record starts on a right-hand page (binders).
    pub duplex: bool,
    /// Normalised pages to typeset instead of the original files.
    pub prepared: Option<std::sync::Arc<crate::normalize::Prepared>>,
    /// Plan one volume of a dossier cut into volumes.
    pub volume: Option<Volume>,
    /// What was read from scanned pages, laid over them as an invisible text layer.
    pub text: Option<std::sync::Arc<TextLayers>>,
    /// For binders: where each record is in the dossier, by 件号 ("第 45 页", "第2册第45页").
    pub dossier_places: Option<std::sync::Arc<BTreeMap<String, String>>>,
}

/// One volume (分册) of a dossier: a run of whole items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// 1-based.
    pub number: usize,
    /// How many volumes there are.
    pub count: usize,
    /// The items in this volume.
    pub items: Vec<u32>,
    /// Evidence pages in this volume.
    pub pages: usize,
}

/// Default evidence pages per volume. About 750 printed pages (with the item pages and the
/// blank versos of duplex printing), 375 sheets: one 40 mm 档案盒. Typst's memory grows with
/// the pages of one compilation (about 0.45 MiB a page), so this also keeps a build under
/// 500 MiB (bench/scale.py).
pub const DEFAULT_VOLUME_PAGES: usize = 500;

/// How big a volume may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolumeLimit {
    /// Evidence pages (0: no limit).
    pub pages: usize,
    /// Estimated bytes of the volume's PDF ([`item_bytes`]), when limited.
    pub bytes: Option<u64>,
}

/// Bytes a volume's PDF has besides its evidence: fonts, cover, contents, catalogs (the
/// sample's master volume, which has no evidence, is 345 kB).
const VOLUME_OVERHEAD: u64 = 500_000;
/// Bytes each evidence page adds besides the evidence itself: its head, stamp and number.
const PAGE_OVERHEAD: u64 = 3_000;

/// About how many bytes an item's evidence adds to the PDF: each typeset file's size, in
/// proportion to the pages of it that are printed (a scan or a PDF page is embedded as it is;
/// photos that get reduced make this an overestimate, never an underestimate).
pub fn item_bytes(d: &Dossier, n: u32) -> u64 {
    let Some(item) = d.items.iter().find(|i| i.number == n) else {
        return 0;
    };
    (item.records.iter())
        .flat_map(|r| &r.files)
        .filter(|f| !f.package_only)
        .map(|f| f.size * f.pages.len() as u64 / u64::from(f.page_count.max(1)))
        .sum()
}

/// Cuts the dossier into volumes of whole items, none with more than `limit` evidence pages or
/// estimated bytes unless one item alone has more. One volume when everything fits.
pub fn volumes(d: &Dossier, limit: VolumeLimit) -> Vec<Volume> {
    let items = (d.catalog.items.iter())
        .map(|i| {
            let pages = (d.items.iter().find(|e| e.number == i.number))
                .map_or(0, |e| e.records.iter().map(|r| r.pages().max(1)).sum());
            (i.number, pages, item_bytes(d, i.number))
        })
        .collect();
    cut(items, limit)
}

/// Cuts unit `u`'s binder into boxes (盒) of whole items by the unit's own evidence pages, as
/// [`volumes`] cuts the dossier: a box holds the unit's records of its items, none more than
/// `limit.pages` unless one item alone has more. One box when everything fits. Only the
/// page limit counts: a size limit is for uploads, and binders are printed.
pub fn binder_boxes(d: &Dossier, u: usize, limit: VolumeLimit) -> Vec<Volume> {
    let reg = &d.registry;
    let items = (d.catalog.items.iter())
        .filter_map(|i| {
            let records: Vec<&Rec> = (d.items.iter().find(|e| e.number == i.number))
                .map_or(Vec::new(), |e| {
                    e.records.iter().filter(|r| r.units.contains(&u)).collect()
                });
            let tasks = (i.tasks()).any(|t| t.units.iter().any(|n| reg.units_of(n).contains(&u)));
            let pages = records.iter().map(|r| r.pages().max(1)).sum();
            (tasks || !records.is_empty()).then_some((i.number, pages, 0))
        })
        .collect();
    cut(
        items,
        VolumeLimit {
            pages: limit.pages,
            bytes: None,
        },
    )
}

/// Cuts `items` (number, evidence pages, estimated bytes), in order, into runs none over
/// `limit` unless one item alone is.
fn cut(items: Vec<(u32, usize, u64)>, limit: VolumeLimit) -> Vec<Volume> {
    let fits = |pages: usize, bytes: u64| {
        (limit.pages == 0 || pages <= limit.pages)
            && limit
                .bytes
                .is_none_or(|max| bytes + VOLUME_OVERHEAD + PAGE_OVERHEAD * pages as u64 <= max)
    };
    let total = items.iter().fold((0, 0), |(p, b), i| (p + i.1, b + i.2));
    if fits(total.0, total.1) {
        return vec![Volume {
            number: 1,
            count: 1,
            items: items.iter().map(|i| i.0).collect(),
            pages: total.0,
        }];
    }
    let mut out: Vec<(Volume, u64)> = Vec::new();
    for (n, p, b) in items {
        match out.last_mut() {
            // An item without evidence never opens a box (or a volume) of its own.
            Some((v, bytes)) if p == 0 || fits(v.pages + p, *bytes + b) => {
                v.items.push(n);
                v.pages += p;
                *bytes += b;
            }
            _ => out.push((
                Volume {
                    number: out.len() + 1,
                    count: 0,
                    items: vec![n],
                    pages: p,
                },
                b,
            )),
        }
    }
    let count = out.len();
    out.into_iter()
        .map(|(mut v, _)| {
            v.count = count;
            v
        })
        .collect()
}

/// What planning the items gathers on the way, for the summary and the indexes.
#[derive(Default)]
struct Tally {
    summary: Vec<SummaryRow>,
    gaps: Vec<Gap>,
    totals: Totals,
    /// Unit index → its task numbers by item.
    unit_tasks: BTreeMap<usize, BTreeMap<u32, BTreeSet<u32>>>,
    /// Unit index → the records it supplied.
    unit_records: BTreeMap<usize, Vec<RefTitle>>,
}

/// How far an item's criteria and targets are met.
#[derive(Default)]
struct Coverage {
    covered: usize,
    targets: usize,
    targets_met: usize,
}

/// One item being planned: its entry in the task table and its records.
struct ItemCtx<'a> {
    d: &'a Dossier,
    opts: &'a PlanOptions,
    cat: &'a catalog::Item,
    /// All records of the item.
    all: &'a [Rec],
    /// The records this document shows (a binder: the unit's own).
    recs: Vec<&'a Rec>,
}

/// Plans the whole dossier; with `opts.unit` a unit's binder, with `opts.volume` one volume.
pub fn plan(d: &Dossier, opts: &PlanOptions) -> Plan {
    let mut tally = Tally::default();
    let groups: Vec<GroupPlan> = d
        .catalog
        .groups
        .iter()
        .filter_map(|g| plan_group(d, opts, g, &mut tally))
        .collect();
    let units = unit_index(d, &tally);
    let binder = opts
        .unit
        .map(|u| binder_meta(d, u, opts.volume.as_ref(), &groups));
    let target = match (opts.unit, &opts.volume) {
        (Some(u), v) => Target::Binder(
            d.registry.units[u].short.clone(),
            v.as_ref().filter(|v| v.count > 1).map(|v| v.number),
        ),
        (None, Some(v)) if v.count > 1 => Target::Volume(v.number),
        (None, _) => Target::Dossier,
    };
    Plan {
        target,
        meta: meta(d, opts),
        fonts: opts.fonts.clone(),
        groups,
        summary: tally.summary,
        units,
        methods: method_index(d),
        gaps: tally.gaps,
        totals: tally.totals,
        binder,
        volumes: Vec::new(),
        places: BTreeMap::new(),
        revisions: d
            .config
            .revisions
            .iter()
            .map(|r| RevisionRow {
                version: r.version.0.trim().to_string(),
                date: r.date.chinese(),
                note: r.note.trim().to_string(),
            })
            .collect(),
    }
}

/// A group of items; `None` when a binder or a volume has none of its items.
fn plan_group(
    d: &Dossier,
    opts: &PlanOptions,
    g: &catalog::Group,
    tally: &mut Tally,
) -> Option<GroupPlan> {
    let items: Vec<ItemPlan> = g
        .items
        .iter()
        .filter_map(|&n| plan_item(d, opts, n, tally))
        .collect();
    if (opts.unit.is_some() || opts.volume.is_some()) && items.is_empty() {
        return None;
    }
    Some(GroupPlan {
        id: g.id.clone(),
        heading: g.source_text.clone(),
        items,
    })
}

/// One item: its criteria with their records, tasks and targets. `None` when the item is not
/// in this volume, or a binder's unit has nothing in it.
fn plan_item(d: &Dossier, opts: &PlanOptions, n: u32, tally: &mut Tally) -> Option<ItemPlan> {
    let cat = d.catalog.item(n)?;
    if opts.volume.as_ref().is_some_and(|v| !v.items.contains(&n)) {
        return None;
    }
    let all: &[Rec] = d
        .items
        .iter()
        .find(|i| i.number == n)
        .map_or(&[], |e| e.records.as_slice());
    let ctx = ItemCtx {
        d,
        opts,
        cat,
        all,
        // A binder keeps the unit's own records, and the criteria it has tasks or records in.
        recs: all
            .iter()
            .filter(|r| opts.unit.is_none_or(|u| r.units.contains(&u)))
            .collect(),
    };
    note_work(&ctx, n, tally);
    let records: Vec<RecordPlan> = ctx.recs.iter().map(|r| record_plan(d, r, opts)).collect();
    let mut coverage = Coverage::default();
    let criteria: Vec<CriterionPlan> = (cat.criteria.iter().enumerate())
        .filter_map(|(i, c)| plan_criterion(&ctx, i + 1, c, &mut tally.gaps, &mut coverage))
        .collect();
    if opts.unit.is_some() && criteria.is_empty() {
        return None;
    }
    tally.add_item(cat, &records, &coverage);
    let methods = cat.methods.join("、");
    let compact = |s: &str| s.replace(['\n', '、', ' '], "");
    Some(ItemPlan {
        number: n,
        title: cat.title.clone(),
        label: crate::names::item_label(n),
        methods_text: (compact(&cat.methods_text) != compact(&methods))
            .then(|| cat.methods_text.replace('\n', "")),
        methods,
        bonus_total: (cat.criteria.iter().any(|c| !c.bonus.is_empty()))
            .then(|| criteria.iter().filter_map(|c| c.claimed).sum()),
        criteria,
        records,
    })
}

/// Records, for the unit index, which units have tasks and records in item `n`.
fn note_work(ctx: &ItemCtx, n: u32, tally: &mut Tally) {
    let reg = &ctx.d.registry;
    for t in ctx.cat.tasks() {
        for name in t.units {
            for u in reg.units_of(name) {
                let item = tally.unit_tasks.entry(u).or_default().entry(n);
                item.or_default().insert(t.task.number);
            }
        }
    }
    for r in &ctx.recs {
        for &u in &r.units {
            tally.unit_records.entry(u).or_default().push(RefTitle {
                id: r.label(),
                label: r.id().label(),
                title: r.title.clone(),
            });
        }
    }
}

impl Tally {
    /// Counts a planned item into the totals and the summary table.
    fn add_item(&mut self, cat: &catalog::Item, records: &[RecordPlan], c: &Coverage) {
        let pages: usize = records.iter().map(|r| r.pages).sum();
        self.totals.records += records.len();
        self.totals.pages += pages;
        if !records.is_empty() {
            self.totals.items_with_records += 1;
        }
        self.summary.push(SummaryRow {
            number: cat.number,
            title: cat.title.clone(),
            label: crate::names::item_label(cat.number),
            records: records.len(),
            pages,
            criteria: format!("{}/{}", c.covered, cat.criteria.len()),
            targets: if c.targets == 0 {
                "—".into()
            } else {
                format!("{}/{}", c.targets_met, c.targets)
            },
        });
    }
}

/// Criterion `k` of an item, with its records, tasks and targets; a criterion without records
/// is a gap. `None` when a binder's unit has neither tasks nor records under it.
fn plan_criterion(
    ctx: &ItemCtx,
    k: usize,
    c: &catalog::Criterion,
    gaps: &mut Vec<Gap>,
    coverage: &mut Coverage,
) -> Option<CriterionPlan> {
    let (cat, reg) = (ctx.cat, &ctx.d.registry);
    let responsible = ctx.opts.unit.is_none_or(|u| {
        cat.effective_row(k)
            .is_some_and(|row| row.units.iter().any(|name| reg.units_of(name).contains(&u)))
    });
    let cites = |r: &&&Rec| r.criteria.contains(&k);
    if ctx.opts.unit.is_some() && !responsible && !ctx.recs.iter().any(|r| cites(&r)) {
        return None;
    }
    let refs: Vec<RefPlan> = ctx.recs.iter().filter(cites).map(|r| ref_plan(r)).collect();
    if refs.is_empty() {
        gaps.push(Gap {
            item: cat.number,
            criterion: k,
            text: c.text.clone(),
            units: cat
                .effective_row(k)
                .map_or(String::new(), |r| r.units_text.replace('\n', "")),
            label: crate::names::item_label(cat.number),
        });
    } else {
        coverage.covered += 1;
    }
    let task = |t: &catalog::Task| TaskPlan {
        number: if t.unnumbered {
            String::new()
        } else {
            t.number.to_string()
        },
        text: t.text.clone(),
    };
    Some(CriterionPlan {
        index: k,
        text: c.text.clone(),
        merged: c.merged_with_previous,
        tasks: c.tasks.iter().filter(|_| responsible).map(task).collect(),
        units: c.units_text.replace('\n', ""),
        targets: plan_targets(ctx, k, c, coverage),
        bonus: (c.bonus.iter())
            .map(|b| format!("{}，加{}分", b.condition, b.points))
            .collect(),
        claimed: (ctx.all.iter())
            .filter(|r| r.criteria.contains(&k))
            .filter_map(|r| r.bonus)
            .max(),
        records: refs,
        others: others(ctx, k),
    })
}

/// A reference to a record.
fn ref_plan(r: &Rec) -> RefPlan {
    RefPlan {
        id: r.label(),
        label: r.id().label(),
    }
}

/// The targets of criterion `k`, each with the values the records measured.
fn plan_targets(
    ctx: &ItemCtx,
    k: usize,
    c: &catalog::Criterion,
    coverage: &mut Coverage,
) -> Vec<TargetPlan> {
    let mut out = Vec::new();
    for (ti, t) in c.targets.iter().enumerate() {
        let unit = t.unit.clone().unwrap_or_default();
        let goal = match (t.value, &t.reference) {
            (Some(v), _) => format!("{} {}{unit}", t.op.symbol(), number_text(v)),
            (None, Some(r)) => format!("{} {r}", t.op.symbol()),
            (None, None) => String::new(),
        };
        let measured: Vec<MeasurePlan> = (ctx.recs.iter())
            .flat_map(|r| r.measures.iter().map(move |m| (r, m)))
            .filter(|(_, m)| m.criterion == k && m.target == ti)
            .map(|(r, m)| MeasurePlan {
                value: format!("{}{unit}", number_text(m.value)),
                reference: m.reference.map(|x| format!("{}{unit}", number_text(x))),
                verdict: match m.met {
                    Some(true) => "达标",
                    Some(false) => "未达标",
                    None => "无法判断",
                }
                .to_string(),
                met: m.met,
                note: m.note.clone(),
                record: ref_plan(r),
            })
            .collect();
        coverage.targets += 1;
        if !measured.is_empty() && measured.iter().all(|m| m.met == Some(true)) {
            coverage.targets_met += 1;
        }
        out.push(TargetPlan {
            name: t.name.clone(),
            goal,
            measured,
        });
    }
    out
}

/// In a binder: the other units' records under criterion `k`, with their place in the dossier.
fn others(ctx: &ItemCtx, k: usize) -> Vec<OtherRef> {
    let Some(u) = ctx.opts.unit else {
        return Vec::new();
    };
    let reg = &ctx.d.registry;
    (ctx.all.iter())
        .filter(|r| r.criteria.contains(&k) && !r.units.contains(&u))
        .map(|r| OtherRef {
            unit: (r.units.first()).map_or(String::new(), |&x| reg.units[x].short.clone()),
            id: r.label(),
            place: (ctx.opts.dossier_places.as_ref())
                .and_then(|m| m.get(&r.label()))
                .cloned()
                .unwrap_or_default(),
        })
        .collect()
}

/// The index by unit: each unit with tasks or records, what it was assigned and supplied.
fn unit_index(d: &Dossier, tally: &Tally) -> Vec<UnitIndex> {
    let tasks = |i: usize| -> Vec<UnitTasks> {
        tally.unit_tasks.get(&i).map_or_else(Vec::new, |m| {
            m.iter()
                .map(|(n, ts)| UnitTasks {
                    item: format!("指标{n}"),
                    label: crate::names::item_label(*n),
                    tasks: format!("工作任务 {}", crate::diag::list(ts)),
                })
                .collect()
        })
    };
    (d.registry.units.iter().enumerate())
        .filter(|(i, _)| tally.unit_tasks.contains_key(i) || tally.unit_records.contains_key(i))
        .map(|(i, u)| UnitIndex {
            short: u.short.clone(),
            name: u.name.clone(),
            head: u.head_line(),
            tasks: tasks(i),
            records: tally.unit_records.get(&i).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The index by acceptance method.
fn method_index(d: &Dossier) -> Vec<MethodIndex> {
    METHODS
        .iter()
        .map(|m| MethodIndex {
            method: m.to_string(),
            items: (d.catalog.items.iter())
                .filter(|i| i.methods.iter().any(|x| x == m))
                .map(|i| ItemRef {
                    number: i.number,
                    title: i.title.clone(),
                    label: crate::names::item_label(i.number),
                })
                .collect(),
        })
        .collect()
}

/// The trimmed text of an optional dossier.yaml value.
fn scalar_text(v: Option<&crate::model::Scalar>) -> String {
    v.map(|s| s.0.trim().to_string()).unwrap_or_default()
}

/// A binder's unit and its archive box data.
fn binder_meta(d: &Dossier, u: usize, part: Option<&Volume>, groups: &[GroupPlan]) -> BinderMeta {
    let reg = &d.registry;
    let unit = &reg.units[u];
    let records: Vec<RecordPlan> = (groups.iter())
        .flat_map(|g| &g.items)
        .flat_map(|i| i.records.iter().cloned())
        .collect();
    let archive = d.config.archive.as_ref();
    let first_box = first_box(d, u);
    BinderMeta {
        short: unit.short.clone(),
        name: unit.name.clone(),
        head: unit.head_line(),
        fonds: scalar_text(archive.and_then(|a| a.fonds.as_ref())),
        year: scalar_text(archive.and_then(|a| a.year.as_ref())),
        retention: (archive.and_then(|a| a.retention.as_ref()))
            .and_then(|r| Retention::parse(&r.value.0))
            .map_or(String::new(), |r| r.label().to_string()),
        box_number: box_number(&first_box, part.filter(|p| p.count > 1).map(|p| p.number)),
        range: match (records.first(), records.last()) {
            (Some(a), Some(b)) if a.id != b.id => format!("{}～{}", a.id, b.id),
            (Some(a), _) => a.id.clone(),
            _ => String::new(),
        },
        org: unit.short.clone(),
        records,
    }
}

/// The 盒号 dossier.yaml gives unit `u`'s binder (its first box); empty when none.
pub fn first_box(d: &Dossier, u: usize) -> String {
    (d.config.archive.as_ref())
        .and_then(|a| a.boxes.as_ref())
        .and_then(|b| {
            (b.value.iter())
                .find(|(k, _)| d.registry.units_of(k).contains(&u))
                .map(|(_, v)| v.0.trim().to_string())
        })
        .unwrap_or_default()
}

/// The 盒号 of box `n` (1-based) of a binder cut into boxes whose first box is `first` (as
/// dossier.yaml gives it): a number counts on (3 → 3, 4, 5), anything else gets the box's
/// number after a hyphen (A3 → A3-1, A3-2). Empty stays empty (filled in by hand).
pub fn box_number(first: &str, n: Option<usize>) -> String {
    match n {
        _ if first.is_empty() => String::new(),
        None => first.to_string(),
        Some(n) => match first
            .parse::<usize>()
            .ok()
            .and_then(|f| f.checked_add(n - 1))
        {
            Some(number) if first.bytes().all(|b| b.is_ascii_digit()) => {
                let width = first.len();
                format!("{number:0width$}")
            }
            _ => format!("{first}-{n}"),
        },
    }
}

/// Item numbers as a volume's or a box's cover lists them: runs of three or more joined
/// ("指标1～3、5、6、8～12"), so the line is short and never breaks inside a number.
pub fn item_runs(items: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &n in items {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == n => *last = n,
            _ => runs.push((n, n)),
        }
    }
    let parts: Vec<String> = (runs.iter())
        .flat_map(|&(a, b)| match b - a {
            0 => vec![a.to_string()],
            1 => vec![a.to_string(), b.to_string()],
            _ => vec![format!("{a}～{b}")],
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("指标{}", parts.join("、"))
    }
}

/// The document's metadata: title, county, date, volume.
fn meta(d: &Dossier, opts: &PlanOptions) -> Meta {
    let cfg = &d.config;
    let county = cfg.county.trim().to_string();
    let several = opts.volume.as_ref().filter(|v| v.count > 1);
    // A dossier is cut into volumes (册), a unit's binder into boxes (盒).
    let part = if opts.unit.is_some() { "盒" } else { "册" };
    Meta {
        title: cfg.title.trim().to_string(),
        applicant: cfg.applicant.trim().to_string(),
        author: cfg.compiler.trim().to_string(),
        version: cfg.version.0.trim().to_string(),
        date: cfg.date.value.chinese(),
        subject: format!("{county}创建“河南省质量强县示范县”验收资料"),
        keywords: vec![
            "质量强县".into(),
            "示范县".into(),
            "验收资料".into(),
            county.clone(),
        ],
        county,
        draft: opts.draft,
        volume_label: several.map_or(String::new(), |v| format!("第{}{part}", v.number)),
        volume_title: several.map_or(String::new(), |v| {
            format!("第{}{part}（共{}{part}）", v.number, v.count)
        }),
        volume_items: opts
            .volume
            .as_ref()
            .map_or(String::new(), |v| item_runs(&v.items)),
        duplex: opts.duplex,
    }
}

/// What Typst shows for page `page` of file `f`: the normalised page when there is one.
fn slot(
    f: &crate::validate::RecFile,
    page: u32,
    prepared: Option<&Prepared>,
    text: Option<&TextLayers>,
) -> Slot {
    let text = (text.and_then(|t| t.get(&f.rel, page))).and_then(crate::textlayer::overlay);
    if let Some(path) = prepared.and_then(|n| n.page(&f.rel, page)) {
        // A normalised page: a one-page PDF, or a scaled JPEG, in the cache; or a JPEG that
        // passes through, served as a one-page PDF.
        let scaled = path.starts_with(crate::normalize::VIRTUAL_DIR) && path.ends_with(".jpg");
        let (kind, format) = if scaled {
            ("image", "jpg")
        } else {
            ("pdf", "pdf")
        };
        return Slot {
            path: path.to_string(),
            kind: kind.into(),
            page: 1,
            format: format.into(),
            text,
        };
    }
    Slot {
        path: format!("/{}", f.rel),
        kind: if f.kind == Kind::Pdf { "pdf" } else { "image" }.into(),
        page,
        format: f.kind.typst_format().unwrap_or("").to_string(),
        text,
    }
}

/// A page selection in words: "1-2, 5" → "第 1–2、5 页".
fn selection_words(sel: &str) -> String {
    let parts: Vec<String> = sel
        .split([',', '，', '、'])
        .map(|p| p.trim().replace(['-', '~', '至'], "–"))
        .filter(|p| !p.is_empty())
        .collect();
    format!("第 {} 页", parts.join("、"))
}

/// 档号 of a record: 全宗号-年度-保管期限代码-件号, e.g. Z028-2021-Y-05-03 (DA/T 22-2015
/// without the 门类 and 机构 parts: a dossier is one category, and its 件号 already carries
/// the item). Without a 全宗号, a year or a 保管期限 (dossier.yaml's 归档 not filled in) the
/// 档号 cannot be formed, and the 件号 stands alone.
pub fn archive_number(fonds: &str, year: &str, retention: Option<Retention>, id: &str) -> String {
    match retention {
        Some(r) if !fonds.is_empty() && !year.is_empty() => {
            format!("{fonds}-{year}-{}-{id}", r.code())
        }
        _ => id.to_string(),
    }
}

/// The archive data of a record: 全宗号, year and 保管期限 (the record's own, or the dossier's).
struct ArchiveData {
    fonds: String,
    year: String,
    retention: Option<Retention>,
}

impl ArchiveData {
    fn of(d: &Dossier, r: &Rec) -> ArchiveData {
        let archive = d.config.archive.as_ref();
        ArchiveData {
            fonds: scalar_text(archive.and_then(|a| a.fonds.as_ref())),
            year: r.date.map_or_else(
                || scalar_text(archive.and_then(|a| a.year.as_ref())),
                |d| d.year.to_string(),
            ),
            retention: r.retention.or_else(|| {
                (archive.and_then(|a| a.retention.as_ref()))
                    .and_then(|x| Retention::parse(&x.value.0))
            }),
        }
    }
}

/// A record's files that go only into the package, and the notes its 备注 gets about them
/// and about page selections.
fn file_notes(r: &Rec) -> (Vec<PackageFile>, Vec<String>) {
    let mut package_files = Vec::new();
    let mut notes = Vec::new();
    let typeset = r.files.iter().filter(|f| !f.package_only).count();
    for f in &r.files {
        let name = f.rel.rsplit('/').next().unwrap_or(&f.rel).to_string();
        if f.package_only {
            package_files.push(PackageFile {
                name: name.clone(),
                path: f.rel.clone(),
                package_path: crate::names::evidence_path(r.item, &r.label(), &r.title, &f.rel),
                size: human_size(f.size),
            });
            notes.push(format!("{name} 仅收入资料包"));
        } else if let Some(sel) = &f.selection {
            let which = if typeset > 1 {
                format!("{name} ")
            } else {
                String::new()
            };
            notes.push(format!(
                "{which}节选{}（共 {} 页）",
                selection_words(sel),
                f.page_count
            ));
        }
    }
    (package_files, notes)
}

/// The printed pages of a record; a record with only package files gets one placeholder page.
fn page_entries(r: &Rec, prepared: Option<&Prepared>, text: Option<&TextLayers>) -> Vec<PageEntry> {
    let mut entries: Vec<PageEntry> = (r.printed_pages().into_iter().enumerate())
        .map(|(i, slots)| {
            let mut slots =
                (slots.into_iter()).map(|(fi, page)| slot(&r.files[fi], page, prepared, text));
            let first = slots.next().expect("a printed page shows something");
            PageEntry {
                path: first.path,
                kind: first.kind,
                page: first.page,
                format: first.format,
                text: first.text,
                seq: i + 1,
                second: slots.next(),
            }
        })
        .collect();
    if entries.is_empty() {
        entries.push(PageEntry {
            path: String::new(),
            kind: "placeholder".into(),
            page: 0,
            format: String::new(),
            text: None,
            seq: 1,
            second: None,
        });
    }
    entries
}

/// The cells of a record's 归档章 (DA/T 22-2015): 全宗号, 年度, 件号, 机构（问题）, 保管期限,
/// 页数. Several units: all of them, or the first "等" when that does not fit.
fn stamp_cells(a: &ArchiveData, id: &str, units: &[String], pages: usize) -> Vec<StampCell> {
    let org = match units {
        [] => Vec::new(),
        [one] => vec![one.clone()],
        [first, ..] => vec![units.join("、"), format!("{first}等")],
    };
    let cell = |label: &str, values: Vec<String>| StampCell {
        label: label.into(),
        values: values.into_iter().filter(|v| !v.is_empty()).collect(),
    };
    vec![
        cell("全宗号", vec![a.fonds.clone()]),
        cell("年度", vec![a.year.clone()]),
        cell("件号", vec![id.to_string()]),
        cell("机构（问题）", org),
        cell(
            "保管期限",
            vec![a.retention.map_or("", Retention::label).to_string()],
        ),
        cell("页数", vec![pages.to_string()]),
    ]
}

/// One record: its catalog row, its 归档章, its pages and its package-only files.
fn record_plan(d: &Dossier, r: &Rec, opts: &PlanOptions) -> RecordPlan {
    let reg = &d.registry;
    let archive = ArchiveData::of(d, r);
    let (package_files, notes) = file_notes(r);
    let entries = page_entries(r, opts.prepared.as_deref(), opts.text.as_deref());
    let unit_short: Vec<String> = (r.unit_names.iter())
        .map(|n| (reg.resolve(n)).map_or(n.clone(), |x| reg.display(x).to_string()))
        .collect();
    let remark = (r.remark.iter().filter(|s| !s.is_empty()).cloned())
        .chain((!notes.is_empty()).then(|| notes.join("；")))
        .collect::<Vec<_>>()
        .join("；");
    let pages = entries.len();
    let id = r.label();
    RecordPlan {
        label: r.id().label(),
        end_label: r.id().end_label(),
        item: r.item,
        number: r.number,
        title: r.title.clone(),
        doc_number: r.doc_number.clone().unwrap_or_default(),
        issuer: r.issuer.clone().unwrap_or_default(),
        date: r.date.map(Date::compact).unwrap_or_default(),
        date_cn: r.date.map(Date::chinese).unwrap_or_default(),
        archive_no: archive_number(&archive.fonds, &archive.year, archive.retention, &id),
        units: unit_short.join("、"),
        remark,
        pages,
        stamp: stamp_cells(&archive, &id, &unit_short, pages),
        photo: r.photo.as_ref().map(|p| PhotoPlan {
            place: p.place.clone().unwrap_or_default(),
            people: p.people.clone().unwrap_or_default(),
            photographer: p.photographer.clone().unwrap_or_default(),
        }),
        bonus: r.bonus,
        dossier_place: (opts.dossier_places.as_ref())
            .and_then(|m| m.get(&id))
            .cloned()
            .unwrap_or_default(),
        id,
        entries,
        package_files,
        origin: r.origin.pos.map_or(r.origin.file.clone(), |p| {
            format!("{}:{}", r.origin.file, p.line)
        }),
    }
}

/// The units that have at least one task (directly or through a group) or one record, in
/// registry order: the units that get a binder.
pub fn units_with_work(d: &Dossier) -> Vec<usize> {
    let reg = &d.registry;
    let mut with: BTreeSet<usize> = BTreeSet::new();
    for item in &d.catalog.items {
        for name in item.unit_names() {
            with.extend(reg.units_of(name));
        }
    }
    for item in &d.items {
        for r in &item.records {
            with.extend(r.units.iter().copied());
        }
    }
    with.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::{box_number, item_runs};

    #[test]
    fn item_runs_join_three_or_more() {
        assert_eq!(
            item_runs(&[1, 2, 3, 5, 6, 8, 9, 10, 11, 12]),
            "指标1～3、5、6、8～12"
        );
        assert_eq!(item_runs(&[15]), "指标15");
        assert_eq!(item_runs(&[]), "");
    }

    #[test]
    fn box_numbers_count_on_from_the_first_and_keep_their_width() {
        assert_eq!(box_number("3", None), "3");
        assert_eq!(box_number("3", Some(1)), "3");
        assert_eq!(box_number("3", Some(3)), "5");
        assert_eq!(box_number("009", Some(2)), "010");
        assert_eq!(box_number("A3", Some(2)), "A3-2");
        assert_eq!(box_number("", Some(2)), "");
        assert_eq!(box_number("+4", Some(2)), "+4-2");
        let huge = usize::MAX.to_string();
        assert_eq!(box_number(&huge, Some(2)), format!("{huge}-2"));
    }
}
