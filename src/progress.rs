//! Where the collection of evidence stands (`dossier status`): per group, item and criterion
//! the records and pages that support it and whether its quantitative targets are met; per
//! unit the tasks the task table gives it (groups expanded to their members), the records it
//! supplied, the criteria it still owes and whether its deadline (`进度` in dossier.yaml) has
//! passed. Computed from a checked dossier; the page and workbook are made by
//! [`html`] and [`crate::sheets`].

pub mod html;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Catalog, Item};
use crate::model::Date;
use crate::validate::{Dossier, Rec};

/// The id of the bonus group (加分项): its criteria are optional, never owed.
pub const BONUS_GROUP: &str = "加分项";

/// Where the collection stands.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The dossier's title.
    pub title: String,
    /// The county.
    pub county: String,
    /// The day the status is for (deadlines are compared with it).
    pub today: String,
    /// Errors `check` reports (records with errors may be missing from the counts).
    pub errors: usize,
    /// Warnings `check` reports.
    pub warnings: usize,
    /// The PDF the record links point into, when a build was found.
    pub built_pdf: Option<String>,
    /// Totals over the whole dossier.
    pub totals: Totals,
    /// The groups in table order.
    pub groups: Vec<GroupStatus>,
    /// Every unit with work, in registry order.
    pub units: Vec<UnitStatus>,
}

/// Totals over the dossier (bonus criteria counted apart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Assessment items.
    pub items: usize,
    /// Required criteria (not bonus).
    pub criteria: usize,
    /// Required criteria with at least one record.
    pub covered: usize,
    /// Required criteria without any record.
    pub missing: usize,
    /// Bonus criteria.
    pub bonus_criteria: usize,
    /// Bonus criteria with a record.
    pub bonus_covered: usize,
    /// Records.
    pub records: usize,
    /// Evidence pages the records print.
    pub pages: usize,
    /// Quantitative targets.
    pub targets: usize,
    /// Targets whose measured value meets them.
    pub targets_met: usize,
    /// Targets measured and not met.
    pub targets_failed: usize,
    /// Targets without a measured value (or a relative one without its reference).
    pub targets_open: usize,
    /// Units with work.
    pub units: usize,
    /// Units that still owe something.
    pub units_owing: usize,
    /// Units owing something after their deadline.
    pub units_overdue: usize,
    /// (unit, criterion) pairs still owed.
    pub owed: usize,
}

impl Totals {
    /// Covered share of the required criteria, 0–100.
    pub fn percent(&self) -> u32 {
        percent(self.covered, self.criteria)
    }
}

/// `part` of `whole` in whole percent (100 for an empty whole).
pub fn percent(part: usize, whole: usize) -> u32 {
    (part * 100).checked_div(whole).map_or(100, |p| p as u32)
}

/// One group of items.
#[derive(Debug, Clone)]
pub struct GroupStatus {
    /// 一 … 五, 加分项.
    pub id: String,
    /// The group's title.
    pub title: String,
    /// Whether this is the bonus group.
    pub bonus: bool,
    /// Its items.
    pub items: Vec<ItemStatus>,
}

/// One item.
#[derive(Debug, Clone)]
pub struct ItemStatus {
    /// 1–21.
    pub number: u32,
    /// 指标内容.
    pub title: String,
    /// Records of the item.
    pub records: usize,
    /// Their pages.
    pub pages: usize,
    /// Bonus item (optional).
    pub bonus: bool,
    /// Its criteria.
    pub criteria: Vec<CriterionStatus>,
}

/// One criterion.
#[derive(Debug, Clone)]
pub struct CriterionStatus {
    /// 1-based position in its item.
    pub index: usize,
    /// 考核评分内容.
    pub text: String,
    /// The units the task table gives it (names as in the registry).
    pub units: Vec<String>,
    /// The records that support it.
    pub records: Vec<RecordRef>,
    /// Their pages.
    pub pages: usize,
    /// At least one record.
    pub covered: bool,
    /// Optional (bonus).
    pub bonus: bool,
    /// Its quantitative targets.
    pub targets: Vec<TargetStatus>,
}

/// A record as the status lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// 件号, e.g. 05-03.
    pub label: String,
    /// 题名.
    pub title: String,
    /// 日期.
    pub date: Option<String>,
    /// 责任单位 as written.
    pub units: Vec<String>,
    /// Pages it prints.
    pub pages: usize,
    /// Link to its first page in the last built PDF (relative to the status page).
    pub link: Option<String>,
}

/// A quantitative target and what was measured against it.
#[derive(Debug, Clone)]
pub struct TargetStatus {
    /// What is measured.
    pub name: String,
    /// The goal as printed, e.g. "≥ 97%".
    pub goal: String,
    /// The latest measured value (of the last record that measures it).
    pub value: Option<f64>,
    /// Met, not met, or unknown.
    pub met: Option<bool>,
    /// The record the value comes from.
    pub from: Option<String>,
}

/// One unit's work.
#[derive(Debug, Clone)]
pub struct UnitStatus {
    /// The unit's name as the registry writes it.
    pub name: String,
    /// Its tasks.
    pub tasks: Vec<UnitTask>,
    /// Records it supplied (alone or with others).
    pub records: Vec<RecordRef>,
    /// Criteria it has a task for and supplied no record to.
    pub owes: Vec<Owed>,
    /// (item, criterion) pairs it has a task for.
    pub criteria: usize,
    /// Its deadline.
    pub deadline: Option<String>,
    /// It owes something and its deadline has passed.
    pub overdue: bool,
}

/// A task of a unit.
#[derive(Debug, Clone)]
pub struct UnitTask {
    /// Item number.
    pub item: u32,
    /// Task number.
    pub number: u32,
    /// The task's text.
    pub text: String,
    /// Criteria (1-based) the task supports.
    pub criteria: Vec<usize>,
}

/// A criterion a unit still owes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Owed {
    /// Item number.
    pub item: u32,
    /// Criterion (1-based).
    pub criterion: usize,
    /// The criterion's text.
    pub text: String,
}

/// What the status is computed from besides the dossier.
pub struct Inputs<'a> {
    /// The day to compare deadlines with.
    pub today: Date,
    /// Links to records' pages in the last built PDF, by 件号 label.
    pub links: &'a BTreeMap<String, String>,
    /// The PDF they point into.
    pub built_pdf: Option<String>,
    /// Errors and warnings of the check.
    pub diagnostics: (usize, usize),
}

/// Computes where the collection stands.
pub fn compute(d: &Dossier, inputs: &Inputs) -> Progress {
    let catalog = &*d.catalog;
    let records: BTreeMap<u32, &[Rec]> = d
        .items
        .iter()
        .map(|i| (i.number, i.records.as_slice()))
        .collect();
    let groups: Vec<GroupStatus> = catalog
        .groups
        .iter()
        .map(|g| GroupStatus {
            id: g.id.clone(),
            title: g.title.clone(),
            bonus: g.id == BONUS_GROUP,
            items: (g.items.iter())
                .filter_map(|n| catalog.item(*n))
                .map(|item| {
                    let recs = records.get(&item.number).copied().unwrap_or(&[]);
                    item_status(d, item, recs, g.id == BONUS_GROUP, inputs)
                })
                .collect(),
        })
        .collect();
    let units = unit_statuses(d, catalog, &records, inputs);
    let totals = totals(&groups, &units);
    Progress {
        title: d.config.title.clone(),
        county: d.config.county.clone(),
        today: inputs.today.to_string(),
        errors: inputs.diagnostics.0,
        warnings: inputs.diagnostics.1,
        built_pdf: inputs.built_pdf.clone(),
        totals,
        groups,
        units,
    }
}

/// A record as listed.
fn record_ref(r: &Rec, links: &BTreeMap<String, String>) -> RecordRef {
    let label = r.label();
    RecordRef {
        link: links.get(&label).cloned(),
        label,
        title: r.title.clone(),
        date: r.date.map(|d| d.to_string()),
        units: r.unit_names.clone(),
        pages: r.pages(),
    }
}

/// One item's status.
fn item_status(d: &Dossier, item: &Item, recs: &[Rec], bonus: bool, inputs: &Inputs) -> ItemStatus {
    let criteria = (item.criteria.iter().enumerate())
        .map(|(i, c)| {
            let k = i + 1;
            let supporting: Vec<&Rec> = recs.iter().filter(|r| r.criteria.contains(&k)).collect();
            let row = item.effective_row(k).unwrap_or(c);
            CriterionStatus {
                index: k,
                text: c.text.clone(),
                units: row_units(d, &row.units),
                pages: supporting.iter().map(|r| r.pages()).sum(),
                covered: !supporting.is_empty(),
                records: (supporting.iter())
                    .map(|r| record_ref(r, inputs.links))
                    .collect(),
                bonus,
                targets: target_statuses(c, k, recs),
            }
        })
        .collect();
    ItemStatus {
        number: item.number,
        title: item.title.clone(),
        records: recs.len(),
        pages: recs.iter().map(Rec::pages).sum(),
        bonus,
        criteria,
    }
}

/// The registry's names of a row's units (as the task table writes them when unknown).
fn row_units(d: &Dossier, names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| match d.registry.resolve(n) {
            Some(r) => d.registry.display(r).to_string(),
            None => n.clone(),
        })
        .collect()
}

/// The targets of criterion `k` and the latest value measured against each.
fn target_statuses(c: &crate::catalog::Criterion, k: usize, recs: &[Rec]) -> Vec<TargetStatus> {
    (c.targets.iter().enumerate())
        .map(|(t, target)| {
            let last = recs.iter().rev().find_map(|r| {
                (r.measures.iter())
                    .rev()
                    .find(|m| m.criterion == k && m.target == t)
                    .map(|m| (r, m))
            });
            let goal = match (target.value, &target.reference) {
                (Some(v), _) => format!(
                    "{} {}{}",
                    target.op.symbol(),
                    v,
                    target.unit.as_deref().unwrap_or("")
                ),
                (None, Some(r)) => format!("{} {r}", target.op.symbol()),
                (None, None) => String::new(),
            };
            TargetStatus {
                name: target.name.clone(),
                goal,
                value: last.map(|(_, m)| m.value),
                met: last.and_then(|(_, m)| m.met),
                from: last.map(|(r, _)| r.label()),
            }
        })
        .collect()
}

/// Each unit's deadline: its own entry, else that of a group it belongs to, else the general
/// one.
fn deadlines(d: &Dossier) -> Vec<Option<Date>> {
    let progress = d.config.progress.as_ref();
    let general = progress.and_then(|p| p.deadline.as_ref()).map(|s| s.value);
    let mut out = vec![general; d.registry.units.len()];
    let Some(map) = progress.and_then(|p| p.units.as_ref()) else {
        return out;
    };
    // Groups first, so that a unit's own date wins.
    let mut entries: Vec<(bool, &String, &Date)> = (map.value.iter())
        .map(|(name, date)| {
            let own = matches!(
                d.registry.resolve(name),
                Some(crate::units::Resolved::Unit(_))
            );
            (own, name, date)
        })
        .collect();
    entries.sort_by_key(|e| e.0);
    for (_, name, date) in entries {
        for u in d.registry.units_of(name) {
            out[u] = Some(*date);
        }
    }
    out
}

/// The units with work and what each owes.
fn unit_statuses(
    d: &Dossier,
    catalog: &Catalog,
    records: &BTreeMap<u32, &[Rec]>,
    inputs: &Inputs,
) -> Vec<UnitStatus> {
    let deadlines = deadlines(d);
    let mut out = Vec::new();
    for (u, unit) in d.registry.units.iter().enumerate() {
        let mut tasks = Vec::new();
        let mut assigned: BTreeSet<(u32, usize)> = BTreeSet::new();
        for item in &catalog.items {
            for t in item.tasks() {
                if t.units.iter().any(|n| d.registry.units_of(n).contains(&u)) {
                    let criteria = item.criteria_of_task(t.task.number);
                    assigned.extend(criteria.iter().map(|&k| (item.number, k)));
                    tasks.push(UnitTask {
                        item: item.number,
                        number: t.task.number,
                        text: t.task.text.clone(),
                        criteria,
                    });
                }
            }
        }
        let own: Vec<&Rec> = (records.values())
            .flat_map(|r| r.iter())
            .filter(|r| r.units.contains(&u))
            .collect();
        if tasks.is_empty() && own.is_empty() {
            continue;
        }
        let owes: Vec<Owed> = (assigned.iter())
            .filter(|(item, k)| {
                !is_bonus(catalog, *item)
                    && !own
                        .iter()
                        .any(|r| r.item == *item && r.criteria.contains(k))
            })
            .map(|&(item, k)| Owed {
                item,
                criterion: k,
                text: (catalog.item(item).and_then(|i| i.criterion(k)))
                    .map_or_else(String::new, |c| c.text.clone()),
            })
            .collect();
        let deadline = deadlines[u];
        out.push(UnitStatus {
            name: unit.short.clone(),
            overdue: !owes.is_empty() && deadline.is_some_and(|d| d < inputs.today),
            deadline: deadline.map(|d| d.to_string()),
            criteria: assigned.len(),
            tasks,
            records: own.iter().map(|r| record_ref(r, inputs.links)).collect(),
            owes,
        });
    }
    out
}

/// Whether an item is in the bonus group.
fn is_bonus(catalog: &Catalog, item: u32) -> bool {
    catalog.group_of(item).is_some_and(|g| g.id == BONUS_GROUP)
}

/// Totals over groups and units.
fn totals(groups: &[GroupStatus], units: &[UnitStatus]) -> Totals {
    let mut t = Totals::default();
    for c in groups
        .iter()
        .flat_map(|g| &g.items)
        .flat_map(|i| &i.criteria)
    {
        if c.bonus {
            t.bonus_criteria += 1;
            t.bonus_covered += usize::from(c.covered);
        } else {
            t.criteria += 1;
            t.covered += usize::from(c.covered);
        }
        for target in &c.targets {
            t.targets += 1;
            match target.met {
                Some(true) => t.targets_met += 1,
                Some(false) => t.targets_failed += 1,
                None => t.targets_open += 1,
            }
        }
    }
    t.missing = t.criteria - t.covered;
    for i in groups.iter().flat_map(|g| &g.items) {
        t.items += 1;
        t.records += i.records;
        t.pages += i.pages;
    }
    t.units = units.len();
    t.units_owing = units.iter().filter(|u| !u.owes.is_empty()).count();
    t.units_overdue = units.iter().filter(|u| u.overdue).count();
    t.owed = units.iter().map(|u| u.owes.len()).sum();
    t
}
