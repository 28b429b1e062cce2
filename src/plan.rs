//! The plan of one document: what goes into the whole dossier, in which order, with which
//! labels and page entries. The templates only lay out what the plan says; they compute
//! nothing but page numbers. A unit's binder is the same plan filtered to one unit.
//!
//! Everything here is derived from the checked [`Dossier`] and its task table (the county's own,
//! or the embedded one adapted to its county), in a fixed order, so equal input gives an equal
//! plan (and an equal PDF).

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::METHODS;
use crate::evidence::Kind;
use crate::model::{Date, Retention};
use crate::normalize::Prepared;
use crate::validate::{Dossier, Rec};

mod types;
pub use types::*;

/// The Typst label of a record's first page.
pub fn record_label(item: u32, number: u32) -> String {
    format!("rec-{item:02}-{number:02}")
}

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

/// Default evidence pages per volume: a volume of this size typesets in under 3 GB.
pub const DEFAULT_VOLUME_PAGES: usize = 1500;

/// Cuts the dossier into volumes of whole items, none with more than `max_pages` evidence pages
/// unless one item alone has more. One volume when everything fits (or `max_pages` is 0).
pub fn volumes(d: &Dossier, max_pages: usize) -> Vec<Volume> {
    let pages_of = |n: u32| -> usize {
        d.items
            .iter()
            .find(|i| i.number == n)
            .map_or(0, |i| i.records.iter().map(|r| r.pages().max(1)).sum())
    };
    let items: Vec<u32> = d.catalog.items.iter().map(|i| i.number).collect();
    let total: usize = items.iter().map(|&n| pages_of(n)).sum();
    if max_pages == 0 || total <= max_pages {
        return vec![Volume {
            number: 1,
            count: 1,
            items,
            pages: total,
        }];
    }
    let mut out: Vec<Volume> = Vec::new();
    for n in items {
        let p = pages_of(n);
        match out.last_mut() {
            Some(v) if v.pages + p <= max_pages || v.items.is_empty() => {
                v.items.push(n);
                v.pages += p;
            }
            _ => out.push(Volume {
                number: out.len() + 1,
                count: 0,
                items: vec![n],
                pages: p,
            }),
        }
    }
    let count = out.len();
    for v in &mut out {
        v.count = count;
    }
    out
}

/// Plans the whole dossier.
pub fn plan(d: &Dossier, opts: &PlanOptions) -> Plan {
    let catalog = &*d.catalog;
    let reg = &d.registry;
    let cfg = &d.config;
    let mut groups = Vec::new();
    let mut summary = Vec::new();
    let mut gaps = Vec::new();
    let mut totals = Totals::default();
    // unit index → (tasks by item, records)
    let mut unit_tasks: BTreeMap<usize, BTreeMap<u32, BTreeSet<u32>>> = BTreeMap::new();
    let mut unit_records: BTreeMap<usize, Vec<RefTitle>> = BTreeMap::new();

    for g in &catalog.groups {
        let mut items = Vec::new();
        for &n in &g.items {
            let Some(cat) = catalog.item(n) else { continue };
            if opts.volume.as_ref().is_some_and(|v| !v.items.contains(&n)) {
                continue;
            }
            let ev = d.items.iter().find(|i| i.number == n);
            let all: &[Rec] = ev.map_or(&[], |e| e.records.as_slice());
            // A binder keeps the unit's own records, and the criteria it has tasks or records in.
            let recs: Vec<&Rec> = all
                .iter()
                .filter(|r| opts.unit.is_none_or(|u| r.units.contains(&u)))
                .collect();
            let row_has_unit = |k: usize| {
                opts.unit.is_none_or(|u| {
                    cat.effective_row(k).is_some_and(|row| {
                        row.units.iter().any(|name| reg.units_of(name).contains(&u))
                    })
                })
            };
            let label = format!("item-{n:02}");
            for t in cat.tasks() {
                for name in t.units {
                    for u in reg.units_of(name) {
                        unit_tasks
                            .entry(u)
                            .or_default()
                            .entry(n)
                            .or_default()
                            .insert(t.task.number);
                    }
                }
            }
            let records: Vec<RecordPlan> = recs.iter().map(|r| record_plan(d, r, opts)).collect();
            for r in &recs {
                for &u in &r.units {
                    unit_records.entry(u).or_default().push(RefTitle {
                        id: r.label(),
                        label: record_label(r.item, r.number),
                        title: r.title.clone(),
                    });
                }
            }
            let mut criteria = Vec::new();
            let (mut covered, mut targets_total, mut targets_met) = (0, 0, 0);
            for (i, c) in cat.criteria.iter().enumerate() {
                let k = i + 1;
                let responsible = row_has_unit(k);
                if opts.unit.is_some()
                    && !responsible
                    && !recs.iter().any(|r| r.criteria.contains(&k))
                {
                    continue;
                }
                let refs: Vec<RefPlan> = recs
                    .iter()
                    .filter(|r| r.criteria.contains(&k))
                    .map(|r| RefPlan {
                        id: r.label(),
                        label: record_label(r.item, r.number),
                    })
                    .collect();
                if refs.is_empty() {
                    gaps.push(Gap {
                        item: n,
                        criterion: k,
                        text: c.text.clone(),
                        units: cat
                            .effective_row(k)
                            .map_or(String::new(), |r| r.units_text.replace('\n', "")),
                        label: label.clone(),
                    });
                } else {
                    covered += 1;
                }
                let targets: Vec<TargetPlan> = c
                    .targets
                    .iter()
                    .enumerate()
                    .map(|(ti, t)| {
                        let unit = t.unit.clone().unwrap_or_default();
                        let goal = match (t.value, &t.reference) {
                            (Some(v), _) => format!("{} {}{unit}", t.op.symbol(), number_text(v)),
                            (None, Some(r)) => format!("{} {r}", t.op.symbol()),
                            (None, None) => String::new(),
                        };
                        let measured: Vec<MeasurePlan> = recs
                            .iter()
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
                                record: RefPlan {
                                    id: r.label(),
                                    label: record_label(r.item, r.number),
                                },
                            })
                            .collect();
                        targets_total += 1;
                        if !measured.is_empty() && measured.iter().all(|m| m.met == Some(true)) {
                            targets_met += 1;
                        }
                        TargetPlan {
                            name: t.name.clone(),
                            goal,
                            measured,
                        }
                    })
                    .collect();
                criteria.push(CriterionPlan {
                    index: k,
                    text: c.text.clone(),
                    merged: c.merged_with_previous,
                    tasks: c
                        .tasks
                        .iter()
                        .filter(|_| responsible)
                        .map(|t| TaskPlan {
                            number: if t.unnumbered {
                                String::new()
                            } else {
                                t.number.to_string()
                            },
                            text: t.text.clone(),
                        })
                        .collect(),
                    units: c.units_text.replace('\n', ""),
                    targets,
                    bonus: c
                        .bonus
                        .iter()
                        .map(|b| format!("{}，加{}分", b.condition, b.points))
                        .collect(),
                    claimed: all
                        .iter()
                        .filter(|r| r.criteria.contains(&k))
                        .filter_map(|r| r.bonus)
                        .max(),
                    records: refs,
                    others: match opts.unit {
                        Some(u) => all
                            .iter()
                            .filter(|r| r.criteria.contains(&k) && !r.units.contains(&u))
                            .map(|r| OtherRef {
                                unit: r
                                    .units
                                    .first()
                                    .map_or(String::new(), |&x| reg.units[x].short.clone()),
                                id: r.label(),
                                place: opts
                                    .dossier_places
                                    .as_ref()
                                    .and_then(|m| m.get(&r.label()))
                                    .cloned()
                                    .unwrap_or_default(),
                            })
                            .collect(),
                        None => Vec::new(),
                    },
                });
            }
            if opts.unit.is_some() && criteria.is_empty() {
                continue;
            }
            let pages: usize = records.iter().map(|r| r.pages).sum();
            totals.records += records.len();
            totals.pages += pages;
            if !records.is_empty() {
                totals.items_with_records += 1;
            }
            summary.push(SummaryRow {
                number: n,
                title: cat.title.clone(),
                label: label.clone(),
                records: records.len(),
                pages,
                criteria: format!("{covered}/{}", cat.criteria.len()),
                targets: if targets_total == 0 {
                    "—".into()
                } else {
                    format!("{targets_met}/{targets_total}")
                },
            });
            let bonus_total = cat
                .criteria
                .iter()
                .any(|c| !c.bonus.is_empty())
                .then(|| criteria.iter().filter_map(|c| c.claimed).sum());
            let methods = cat.methods.join("、");
            let compact = |s: &str| s.replace(['\n', '、', ' '], "");
            items.push(ItemPlan {
                number: n,
                title: cat.title.clone(),
                label,
                methods_text: (compact(&cat.methods_text) != compact(&methods))
                    .then(|| cat.methods_text.replace('\n', "")),
                methods,
                criteria,
                records,
                bonus_total,
            });
        }
        if (opts.unit.is_some() || opts.volume.is_some()) && items.is_empty() {
            continue;
        }
        groups.push(GroupPlan {
            id: g.id.clone(),
            heading: g.source_text.clone(),
            items,
        });
    }

    let units = reg
        .units
        .iter()
        .enumerate()
        .filter(|(i, _)| unit_tasks.contains_key(i) || unit_records.contains_key(i))
        .map(|(i, u)| UnitIndex {
            short: u.short.clone(),
            name: u.name.clone(),
            head: u.head_line(),
            tasks: unit_tasks
                .get(&i)
                .map(|m| {
                    m.iter()
                        .map(|(n, ts)| {
                            let list = crate::diag::list(ts);
                            (
                                format!("指标{n}"),
                                format!("item-{n:02}"),
                                format!("工作任务 {list}"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            records: unit_records.get(&i).cloned().unwrap_or_default(),
        })
        .collect();

    let methods = METHODS
        .iter()
        .map(|m| MethodIndex {
            method: m.to_string(),
            items: catalog
                .items
                .iter()
                .filter(|i| i.methods.iter().any(|x| x == m))
                .map(|i| (i.number, i.title.clone(), format!("item-{:02}", i.number)))
                .collect(),
        })
        .collect();

    let binder = opts.unit.map(|u| {
        let unit = &reg.units[u];
        let records: Vec<RecordPlan> = groups
            .iter()
            .flat_map(|g| &g.items)
            .flat_map(|i| i.records.iter().cloned())
            .collect();
        let archive = cfg.archive.as_ref();
        let text = |v: Option<&crate::model::Scalar>| {
            v.map(|s| s.0.trim().to_string()).unwrap_or_default()
        };
        BinderMeta {
            short: unit.short.clone(),
            name: unit.name.clone(),
            head: unit.head_line(),
            fonds: text(archive.and_then(|a| a.fonds.as_ref())),
            year: text(archive.and_then(|a| a.year.as_ref())),
            retention: archive
                .and_then(|a| a.retention.as_ref())
                .and_then(|r| Retention::parse(&r.value.0))
                .map_or(String::new(), |r| r.label().to_string()),
            box_number: archive
                .and_then(|a| a.boxes.as_ref())
                .and_then(|b| {
                    b.value
                        .iter()
                        .find(|(k, _)| reg.units_of(k).contains(&u))
                        .map(|(_, v)| v.0.trim().to_string())
                })
                .unwrap_or_default(),
            range: match (records.first(), records.last()) {
                (Some(a), Some(b)) if a.id != b.id => format!("{}～{}", a.id, b.id),
                (Some(a), _) => a.id.clone(),
                _ => String::new(),
            },
            org: unit.short.clone(),
            records,
        }
    });
    Plan {
        meta: Meta {
            title: cfg.title.trim().to_string(),
            county: cfg.county.trim().to_string(),
            applicant: cfg.applicant.trim().to_string(),
            author: cfg.compiler.trim().to_string(),
            version: cfg.version.0.trim().to_string(),
            date: cfg.date.value.chinese(),
            subject: format!("{}创建“河南省质量强县示范县”验收资料", cfg.county.trim()),
            keywords: vec![
                "质量强县".into(),
                "示范县".into(),
                "验收资料".into(),
                cfg.county.trim().to_string(),
            ],
            draft: opts.draft,
            volume_label: opts
                .volume
                .as_ref()
                .filter(|v| v.count > 1)
                .map_or(String::new(), |v| format!("第{}册", v.number)),
            volume_title: opts
                .volume
                .as_ref()
                .filter(|v| v.count > 1)
                .map_or(String::new(), |v| {
                    format!("第{}册（共{}册）", v.number, v.count)
                }),
            volume_items: opts.volume.as_ref().map_or(String::new(), |v| {
                crate::diag::list(v.items.iter().map(|n| format!("指标{n}")))
            }),
            duplex: opts.duplex,
        },
        fonts: opts.fonts.clone(),
        groups,
        summary,
        units,
        methods,
        gaps,
        totals,
        binder,
        volumes: Vec::new(),
        places: BTreeMap::new(),
        revisions: cfg
            .revisions
            .iter()
            .map(|r| {
                (
                    r.version.0.trim().to_string(),
                    r.date.chinese(),
                    r.note.trim().to_string(),
                )
            })
            .collect(),
    }
}

/// What Typst shows for page `page` of file `f`: the normalised page when there is one.
fn slot(f: &crate::validate::RecFile, page: u32, prepared: Option<&Prepared>) -> Slot {
    if let Some(path) = prepared.and_then(|n| n.page(&f.rel, page)) {
        // A normalised page: a one-page PDF, or a scaled JPEG, in the cache.
        let (kind, format) = if path.ends_with(".jpg") {
            ("image", "jpg")
        } else {
            ("pdf", "pdf")
        };
        return Slot {
            path: path.to_string(),
            kind: kind.into(),
            page: 1,
            format: format.into(),
        };
    }
    Slot {
        path: format!("/{}", f.rel),
        kind: if f.kind == Kind::Pdf { "pdf" } else { "image" }.into(),
        page,
        format: f.kind.typst_format().unwrap_or("").to_string(),
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

fn record_plan(d: &Dossier, r: &Rec, opts: &PlanOptions) -> RecordPlan {
    let reg = &d.registry;
    let prepared = opts.prepared.as_deref();
    let archive = d.config.archive.as_ref();
    let scalar =
        |v: Option<&crate::model::Scalar>| v.map(|s| s.0.trim().to_string()).unwrap_or_default();
    let fonds = scalar(archive.and_then(|a| a.fonds.as_ref()));
    let retention = r.retention.or_else(|| {
        archive
            .and_then(|a| a.retention.as_ref())
            .and_then(|x| Retention::parse(&x.value.0))
    });
    let year = r.date.map_or_else(
        || scalar(archive.and_then(|a| a.year.as_ref())),
        |d| d.year.to_string(),
    );
    let mut package_files = Vec::new();
    let mut notes = Vec::new();
    let typeset = r.files.iter().filter(|f| !f.package_only).count();
    for f in &r.files {
        let name = f.rel.rsplit('/').next().unwrap_or(&f.rel).to_string();
        if f.package_only {
            package_files.push(PackageFile {
                name: name.clone(),
                path: f.rel.clone(),
                package_path: crate::package::evidence_path(r.item, &r.label(), &r.title, &f.rel),
                size: human_size(f.size),
            });
            notes.push(format!("{name} 仅收入资料包"));
            continue;
        }
        if let Some(sel) = &f.selection {
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
    let mut entries: Vec<PageEntry> = r
        .printed_pages()
        .into_iter()
        .enumerate()
        .map(|(i, slots)| {
            let mut slots = slots
                .into_iter()
                .map(|(fi, page)| slot(&r.files[fi], page, prepared));
            let first = slots.next().expect("a printed page shows something");
            PageEntry {
                path: first.path,
                kind: first.kind,
                page: first.page,
                format: first.format,
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
            seq: 1,
            second: None,
        });
    }
    let unit_short: Vec<String> = r
        .unit_names
        .iter()
        .map(|n| {
            reg.resolve(n)
                .map_or(n.clone(), |x| reg.display(x).to_string())
        })
        .collect();
    let mut remark = r.remark.clone().unwrap_or_default();
    if !notes.is_empty() {
        if !remark.is_empty() {
            remark.push('；');
        }
        remark.push_str(&notes.join("；"));
    }
    let pages = entries.len();
    let id = r.label();
    let origin = r.origin.pos.map_or(r.origin.file.clone(), |p| {
        format!("{}:{}", r.origin.file, p.line)
    });
    let org = match unit_short.as_slice() {
        [] => Vec::new(),
        [one] => vec![one.clone()],
        [first, ..] => vec![unit_short.join("、"), format!("{first}等")],
    };
    let cell = |label: &str, values: Vec<String>| StampCell {
        label: label.into(),
        values: values.into_iter().filter(|v| !v.is_empty()).collect(),
    };
    RecordPlan {
        label: record_label(r.item, r.number),
        end_label: format!("{}-end", record_label(r.item, r.number)),
        item: r.item,
        number: r.number,
        title: r.title.clone(),
        doc_number: r.doc_number.clone().unwrap_or_default(),
        issuer: r.issuer.clone().unwrap_or_default(),
        date: r.date.map(Date::compact).unwrap_or_default(),
        date_cn: r.date.map(Date::chinese).unwrap_or_default(),
        archive_no: archive_number(&fonds, &year, retention, &id),
        units: unit_short.join("、"),
        remark,
        pages,
        stamp: vec![
            cell("全宗号", vec![fonds.clone()]),
            cell("年度", vec![year.clone()]),
            cell("件号", vec![id.clone()]),
            cell("机构（问题）", org),
            cell(
                "保管期限",
                vec![retention.map_or("", Retention::label).to_string()],
            ),
            cell("页数", vec![pages.to_string()]),
        ],
        photo: r.photo.as_ref().map(|p| PhotoPlan {
            place: p.place.clone().unwrap_or_default(),
            people: p.people.clone().unwrap_or_default(),
            photographer: p.photographer.clone().unwrap_or_default(),
        }),
        bonus: r.bonus,
        dossier_place: opts
            .dossier_places
            .as_ref()
            .and_then(|m| m.get(&id))
            .cloned()
            .unwrap_or_default(),
        id,
        entries,
        package_files,
        origin,
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
