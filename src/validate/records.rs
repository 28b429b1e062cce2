//! The records of one item file: 件号, 责任单位, 考核内容 and 工作任务 against the catalog,
//! file entries against the folder, measured values against the item's targets, and the
//! item's coverage (criteria without evidence).

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::Item;
use crate::diag::{Diagnostic, Place, Pos};
use crate::evidence;
use crate::model::{Date, FileEntry, ItemFile, Record};
use crate::units::Registry;
use crate::yaml::pos_of;

use super::{Measured, Rec, path_problem};

/// A file entry of a record, its path resolved but the file not yet inspected.
pub(super) struct PendingFile {
    pub(super) entry: FileEntry,
    pub(super) rel: Option<String>,
}

/// A checked record whose files are still to be inspected.
pub(super) struct PendingRec {
    pub(super) rec: Rec,
    pub(super) files: Vec<PendingFile>,
}

/// An item file: its path and, when it was read, its text (to point at a key by its line).
pub(super) struct Source<'a> {
    pub(super) file: &'a str,
    pub(super) text: Option<&'a str>,
}

impl Source<'_> {
    /// The place of `key:` inside the record that starts at `rec` (the record's own place when
    /// the key is not found, e.g. written in flow style).
    fn key(&self, rec: Pos, key: &str) -> Place {
        let found = self.text.and_then(|text| {
            let mut lines = text.lines().enumerate().skip(rec.line - 1);
            let (_, first) = lines.next()?;
            let indent = first.chars().take_while(|c| *c == ' ').count();
            let first_key = first[indent..].trim_start_matches(['-', ' ']);
            let in_first = first_key
                .strip_prefix(key)
                .is_some_and(|r| r.starts_with(':'));
            if in_first {
                let col = first.chars().count() - first_key.chars().count() + 1;
                return Some(Pos::new(rec.line, col, key.chars().count()));
            }
            for (i, line) in lines {
                let depth = line.chars().take_while(|c| *c == ' ').count();
                let rest = &line[depth..];
                if !rest.is_empty() && !rest.starts_with('#') && depth <= indent {
                    return None; // the next record, or the end of the list
                }
                if rest.strip_prefix(key).is_some_and(|r| r.starts_with(':')) {
                    return Some(Pos::new(i + 1, depth + 1, key.chars().count()));
                }
            }
            None
        });
        Place::at(self.file, found.unwrap_or(rec))
    }

    /// The comment that follows the key at `place` on its line (`题名: # 某某` → "# 某某").
    fn comment_after_key(&self, place: &Place) -> Option<String> {
        let pos = place.pos?;
        let line = self.text?.lines().nth(pos.line - 1)?;
        let rest: String = line.chars().skip(pos.col - 1 + pos.len).collect();
        let value = rest.strip_prefix(':')?.trim();
        (value.starts_with('#') && value.len() > 1).then(|| value.to_string())
    }
}

/// One record being checked: where it is and which it is.
struct RecCtx<'a> {
    src: &'a Source<'a>,
    cat: &'a Item,
    /// Where the record starts.
    pos: Pos,
    /// Its position in the item's list, from 1 (for messages about a record without 件号).
    ordinal: usize,
}

impl RecCtx<'_> {
    fn at(&self, p: Pos) -> Place {
        Place::at(self.src.file, p)
    }

    /// The record's own place.
    fn here(&self) -> Place {
        self.at(self.pos)
    }
}

/// The 件号 already used in an item file, and those seen so far while checking it.
struct Numbers {
    seen: BTreeMap<u32, Pos>,
    /// The first number no record uses (suggested in hints).
    next_free: u32,
}

pub(super) fn check_records(
    src: &Source<'_>,
    data: &ItemFile,
    cat: &Item,
    reg: Option<&Registry>,
    period: Option<(Date, Date)>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<PendingRec> {
    let used: BTreeSet<u32> = (data.records.iter().flatten())
        .filter_map(|r| r.value.number.as_ref().map(|x| x.value))
        .collect();
    let mut numbers = Numbers {
        seen: BTreeMap::new(),
        next_free: (1..).find(|k| !used.contains(k)).unwrap_or(1),
    };
    let mut out = Vec::new();
    for (i, spanned) in data.records.iter().flatten().enumerate() {
        let ctx = RecCtx {
            src,
            cat,
            pos: pos_of(spanned),
            ordinal: i + 1,
        };
        out.push(check_record(
            &ctx,
            &spanned.value,
            &mut numbers,
            reg,
            period,
            diags,
        ));
    }
    out
}

/// Checks one record, field by field; each field's check runs whatever the others found.
fn check_record(
    ctx: &RecCtx,
    r: &Record,
    numbers: &mut Numbers,
    reg: Option<&Registry>,
    period: Option<(Date, Date)>,
    diags: &mut Vec<Diagnostic>,
) -> PendingRec {
    let cat = ctx.cat;
    let number = check_number(ctx, r, numbers, diags);
    let title = check_title(ctx, r, diags);
    if let (Some(d), Some(period)) = (&r.date, period)
        && (d.value < period.0 || d.value > period.1)
    {
        diags.push(
            Diagnostic::warning(format!("日期 {} 不在创建期（{} 至 {}）内", d.value, period.0, period.1))
                .code("date-outside-period")
                .at(ctx.at(pos_of(d)))
                .hint("请核对日期；创建期以外的材料也会收入，但验收组可能会问。创建期可在 dossier.yaml 的“创建期”里改。"),
        );
    }
    let (unit_names, units) = check_units(ctx, r, reg, diags);
    let (criteria, tasks) = check_criteria(ctx, r, diags);
    let files = check_file_entries(ctx, r, diags);
    let file = ctx.src.file;
    let measures = (r.measures.as_ref())
        .map(|m| check_measures(file, cat, &criteria, m, diags))
        .unwrap_or_default();
    let retention = r.retention.as_ref().and_then(|x| {
        let parsed = crate::model::Retention::parse(&x.value);
        if parsed.is_none() {
            diags.push(super::retention_error(&x.value).at(ctx.at(pos_of(x))));
        }
        parsed
    });
    let bonus = (r.bonus.as_ref()).and_then(|b| check_bonus(cat, &criteria, b, file, diags));
    let text = |v: Option<&str>| v.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let photo = super::Photo {
        place: text(r.place.as_deref()),
        people: text(r.people.as_deref()),
        photographer: text(r.photographer.as_deref()),
    };
    PendingRec {
        rec: Rec {
            item: cat.number,
            number: number.unwrap_or(0),
            title,
            doc_number: text(r.doc_number.as_ref().map(|s| s.0.as_str())),
            issuer: text(r.issuer.as_deref()),
            date: r.date.as_ref().map(|d| d.value),
            unit_names,
            units: units.into_iter().collect(),
            criteria: criteria.into_iter().collect(),
            tasks,
            files: Vec::new(),
            measures,
            remark: text(r.remark.as_deref()),
            retention,
            photo: (photo != super::Photo::default()).then_some(photo),
            bonus,
            origin: ctx.here(),
        },
        files,
    }
}

/// The 件号: present, from 1, not used twice in the item.
fn check_number(
    ctx: &RecCtx,
    r: &Record,
    numbers: &mut Numbers,
    diags: &mut Vec<Diagnostic>,
) -> Option<u32> {
    let (n, next_free) = (ctx.cat.number, numbers.next_free);
    let Some(num) = &r.number else {
        diags.push(
            Diagnostic::error(format!("第{}件材料没有件号", ctx.ordinal))
                .code("record-number-missing")
                .at(ctx.here())
                .hint(format!(
                    "加上“件号: {next_free}”（本指标下一个未用的件号）。件号一经打印不要再改。"
                )),
        );
        return None;
    };
    if num.value == 0 {
        diags.push(
            Diagnostic::error("件号从 1 开始")
                .code("record-number-zero")
                .at(ctx.at(pos_of(num))),
        );
        return None;
    }
    if let Some(first) = numbers.seen.get(&num.value) {
        diags.push(
            Diagnostic::error(format!(
                "件号 {} 重复：指标{n}里已经有一件 {}",
                num.value,
                crate::names::RecordId::new(n, num.value)
            ))
            .code("record-number-duplicate")
            .at(ctx.at(pos_of(num)))
            .related(ctx.at(*first), "第一次用在这里")
            .hint(format!(
                "每件材料的件号在本指标内不能重复；新材料请用 {next_free}。"
            )),
        );
        return None;
    }
    numbers.seen.insert(num.value, pos_of(num));
    Some(num.value)
}

/// The 题名: present and not empty (with a hint when YAML read it as a comment).
fn check_title(ctx: &RecCtx, r: &Record, diags: &mut Vec<Diagnostic>) -> String {
    let ordinal = ctx.ordinal;
    match &r.title {
        Some(t) if !t.value.trim().is_empty() => t.value.trim().to_string(),
        Some(t) => {
            diags.push(
                Diagnostic::error(format!("第{ordinal}件材料的题名是空的"))
                    .code("record-title-empty")
                    .at(ctx.at(pos_of(t)))
                    .hint("题名写文件的标题，如“关于印发……的通知”。"),
            );
            String::new()
        }
        None => {
            // `题名: # 某某` is a key with a comment and no value.
            let place = ctx.src.key(ctx.pos, "题名");
            let comment = ctx.src.comment_after_key(&place);
            let d = Diagnostic::error(format!("第{ordinal}件材料没有题名"))
                .code("record-title-missing");
            diags.push(match comment {
                Some(c) => d.at(place).hint(format!(
                    "“题名:”后面的“{c}”以“#”开头，YAML 把它当成了注释。要把它作题名，请用英文双引号括起来：题名: \"{c}\""
                )),
                None => d
                    .at(ctx.here())
                    .hint("每件材料都要有“题名: …”（文件的标题），目录和页眉都用它。"),
            });
            String::new()
        }
    }
}

/// The 责任单位: present, not empty, each in the registry. Returns the names as written and
/// the units they stand for.
fn check_units(
    ctx: &RecCtx,
    r: &Record,
    reg: Option<&Registry>,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<String>, BTreeSet<usize>) {
    let (ordinal, cat) = (ctx.ordinal, ctx.cat);
    let mut unit_names = Vec::new();
    let mut units = BTreeSet::new();
    match &r.units {
        None => diags.push(
            Diagnostic::error(format!("第{ordinal}件材料没有写责任单位"))
                .code("record-units-missing")
                .at(ctx.here())
                .hint(format!(
                    "写提供这件材料的单位，如“责任单位: {}”。本指标的责任单位有：{}。",
                    cat.unit_names().first().copied().unwrap_or("市场监管局"),
                    cat.unit_names().join("、")
                )),
        ),
        Some(list) if list.0.is_empty() => diags.push(
            Diagnostic::error(format!("第{ordinal}件材料的责任单位是空的"))
                .code("record-units-empty")
                .at(ctx.src.key(ctx.pos, "责任单位"))
                .hint(format!(
                    "在方括号里写提供这件材料的单位，如“责任单位: [{}]”。本指标的责任单位有：{}。",
                    cat.unit_names().first().copied().unwrap_or("县创建办公室"),
                    cat.unit_names().join("、")
                )),
        ),
        Some(list) => {
            for u in list.iter() {
                unit_names.push(u.value.trim().to_string());
                let Some(reg) = reg else { continue };
                if reg.resolve(&u.value).is_none() {
                    diags.push(reg.unknown(u.value.trim(), ctx.at(pos_of(u)), "责任单位"));
                } else {
                    units.extend(reg.units_of(&u.value));
                }
            }
        }
    }
    (unit_names, units)
}

/// The 考核内容 and 工作任务: each in the item, the tasks agreeing with the criteria written.
/// Returns the criteria the record supports (written, and those of its tasks) and its tasks.
fn check_criteria(
    ctx: &RecCtx,
    r: &Record,
    diags: &mut Vec<Diagnostic>,
) -> (BTreeSet<usize>, Vec<u32>) {
    let (ordinal, cat, n) = (ctx.ordinal, ctx.cat, ctx.cat.number);
    for (key, list) in [("考核内容", &r.criteria), ("工作任务", &r.tasks)] {
        if list.as_ref().is_some_and(|l| l.0.is_empty()) {
            diags.push(
                Diagnostic::error(format!("第{ordinal}件材料的{key}是空的"))
                    .code("record-list-empty")
                    .at(ctx.src.key(ctx.pos, key))
                    .hint(format!(
                        "在方括号里写序号，如“{key}: [1]”；不知道写哪条时删去这一行。指标{n}有 {} 条考核内容，工作任务编号是：{}。",
                        cat.criteria.len(),
                        cat.task_numbers()
                    )),
            );
        }
    }
    let mut written = BTreeSet::new();
    for c in r.criteria.iter().flat_map(|l| l.iter()) {
        let k = c.value as usize;
        if cat.criterion(k).is_some() {
            written.insert(k);
            continue;
        }
        diags.push(
            Diagnostic::error(format!("指标{n}没有第{k}条考核内容"))
                .code("criterion-unknown")
                .at(ctx.at(pos_of(c)))
                .hint(format!(
                    "指标{n}共有 {} 条考核内容，写 1–{}。",
                    cat.criteria.len(),
                    cat.criteria.len()
                )),
        );
    }
    let mut criteria = written.clone();
    let tasks = check_tasks(ctx, r, &written, &mut criteria, diags);
    if criteria.is_empty() && r.criteria.is_none() && r.tasks.is_none() {
        if cat.criteria.len() == 1 {
            criteria.insert(1);
        } else {
            diags.push(
                Diagnostic::warning(format!("第{ordinal}件材料没有写它佐证哪条考核内容"))
                    .code("record-criteria-missing")
                    .at(ctx.here())
                    .hint(format!(
                        "加上“考核内容: [1]”或“工作任务: [1]”；指标{n}有 {} 条考核内容。",
                        cat.criteria.len()
                    )),
            );
        }
    }
    (criteria, tasks)
}

/// The 工作任务 of a record: each in the item, and belonging to a criterion written (a warning
/// otherwise). Adds each task's criteria to `criteria`.
fn check_tasks(
    ctx: &RecCtx,
    r: &Record,
    written: &BTreeSet<usize>,
    criteria: &mut BTreeSet<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<u32> {
    let (cat, n) = (ctx.cat, ctx.cat.number);
    let mut tasks = Vec::new();
    for t in r.tasks.iter().flat_map(|l| l.iter()) {
        if cat.task(t.value).is_none() {
            let gap = if cat.tasks().any(|x| x.task.number > t.value) && t.value > 0 {
                "（原表的任务编号在这里有跳号）"
            } else {
                ""
            };
            diags.push(
                Diagnostic::error(format!("指标{n}没有第{}项工作任务{gap}", t.value))
                    .code("task-unknown")
                    .at(ctx.at(pos_of(t)))
                    .hint(format!("指标{n}的工作任务编号是：{}。", cat.task_numbers())),
            );
            continue;
        }
        let of = cat.criteria_of_task(t.value);
        if !written.is_empty() && !of.iter().any(|c| written.contains(c)) {
            diags.push(
                Diagnostic::warning(format!(
                    "工作任务{}属于第{}条考核内容，与所填考核内容不一致",
                    t.value,
                    crate::diag::list(&of)
                ))
                .code("task-criterion-mismatch")
                .at(ctx.at(pos_of(t)))
                .hint(
                    "请核对“考核内容”和“工作任务”是否对应；这件材料会同时算作两条考核内容的佐证。",
                ),
            );
        }
        criteria.extend(of);
        tasks.push(t.value);
    }
    tasks
}

/// The 文件 entries: present, not empty, each a path inside the dossier, none twice. The files
/// themselves are inspected later, all at once.
fn check_file_entries(ctx: &RecCtx, r: &Record, diags: &mut Vec<Diagnostic>) -> Vec<PendingFile> {
    let ordinal = ctx.ordinal;
    let list = match &r.files {
        None => {
            diags.push(
                Diagnostic::error(format!("第{ordinal}件材料没有文件"))
                    .code("record-files-missing")
                    .at(ctx.here())
                    .hint(
                        "写上证据文件的路径，如“文件: evidence/05/宣传方案.pdf”（相对资料目录）。",
                    ),
            );
            return Vec::new();
        }
        Some(list) if list.0.is_empty() => {
            diags.push(
                Diagnostic::error(format!("第{ordinal}件材料的文件列表是空的"))
                    .code("record-files-empty")
                    .at(ctx.src.key(ctx.pos, "文件"))
                    .hint("在方括号里写证据文件的路径，如“文件: [evidence/05/方案.pdf]”。"),
            );
            return Vec::new();
        }
        Some(list) => list,
    };
    let mut files = Vec::new();
    let mut here = BTreeSet::new();
    for node in list.iter() {
        let entry = FileEntry::from_node(node);
        let at = ctx.at(pos_of(&entry.path));
        let rel = match evidence::normalise(&entry.path.value) {
            Ok(rel) => {
                if !here.insert(rel.clone()) {
                    diags.push(
                        Diagnostic::warning(format!("同一件材料里 {rel} 写了两次"))
                            .code("record-file-twice")
                            .at(at),
                    );
                }
                Some(rel)
            }
            Err(e) => {
                diags.push(path_problem(&entry.path.value, &e).at(at));
                None
            }
        };
        files.push(PendingFile { entry, rel });
    }
    files
}

fn check_measures(
    file: &str,
    cat: &Item,
    criteria: &BTreeSet<usize>,
    list: &crate::model::OneOrMany<crate::model::Measure>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Measured> {
    let mut out = Vec::new();
    for spanned in list.iter() {
        let at = Place::at(file, pos_of(spanned));
        let m = &spanned.value;
        let found = measured_criterion(cat, criteria, m)
            .and_then(|k| measured_target(cat, k, m, file).map(|t| (k, t)));
        let (k, t) = match found {
            Ok(kt) => kt,
            Err(d) => {
                // Without a place of its own, a problem is at the measure.
                diags.push(if d.place.is_some() { d } else { d.at(at) });
                continue;
            }
        };
        let target = &cat.criteria[k - 1].targets[t];
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
                    .code("measure-reference-missing")
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

/// The criterion a measured value belongs to: the one written, or the only criterion with
/// targets among those the record supports. The error has no place (the caller adds it).
fn measured_criterion(
    cat: &Item,
    criteria: &BTreeSet<usize>,
    m: &crate::model::Measure,
) -> Result<usize, Diagnostic> {
    let n = cat.number;
    let k = match &m.criterion {
        Some(c) => c.value as usize,
        None => {
            let candidates: Vec<usize> = (1..=cat.criteria.len())
                .filter(|&k| !cat.criteria[k - 1].targets.is_empty())
                .filter(|k| criteria.is_empty() || criteria.contains(k))
                .collect();
            match candidates.as_slice() {
                [k] => *k,
                [] => {
                    return Err(Diagnostic::error(format!(
                        "指标{n}没有带量化目标的考核内容，无法填写实测值"
                    ))
                    .code("measure-no-targets")
                    .hint(targets_hint(cat)));
                }
                _ => {
                    return Err(Diagnostic::error("实测值没有写对应哪条考核内容")
                        .code("measure-criterion-missing")
                        .hint(format!("加上“考核内容: N”。{}", targets_hint(cat))));
                }
            }
        }
    };
    match cat.criterion(k) {
        None => Err(Diagnostic::error(format!("指标{n}没有第{k}条考核内容"))
            .code("criterion-unknown")
            .hint(targets_hint(cat))),
        Some(crit) if crit.targets.is_empty() => Err(Diagnostic::error(format!(
            "指标{n}第{k}条考核内容没有量化目标"
        ))
        .code("measure-criterion-without-target")
        .hint(targets_hint(cat))),
        Some(_) => Ok(k),
    }
}

/// Which target of criterion `k` a measured value is for: the one named, or the only one.
fn measured_target(
    cat: &Item,
    k: usize,
    m: &crate::model::Measure,
    file: &str,
) -> Result<usize, Diagnostic> {
    let targets = &cat.criteria[k - 1].targets;
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    match &m.target {
        None if targets.len() == 1 => Ok(0),
        None => Err(
            Diagnostic::error("这条考核内容有几个目标，没有写实测的是哪一个")
                .code("measure-target-missing")
                .hint(format!("加上“指标项: {}”。", names.join("”或“"))),
        ),
        Some(name) => targets
            .iter()
            .position(|t| t.name == name.value.trim())
            .ok_or_else(|| {
                Diagnostic::error(format!("第{k}条考核内容没有“{}”这个目标", name.value))
                    .code("measure-target-unknown")
                    .at(Place::at(file, pos_of(name)))
                    .hint(format!("可写：“{}”。", names.join("”“")))
            }),
    }
}

/// Checks claimed bonus points: only for an item with bonus rules, and one of the points the
/// rules of the record's criteria give.
fn check_bonus(
    cat: &Item,
    criteria: &BTreeSet<usize>,
    b: &crate::model::Spanned<u32>,
    file: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<u32> {
    let at = Place::at(file, pos_of(b));
    let n = cat.number;
    if cat.criteria.iter().all(|c| c.bonus.is_empty()) {
        diags.push(
            Diagnostic::error(format!("指标{n}不是加分项，不能写“加分”"))
                .code("bonus-not-allowed")
                .at(at)
                .hint("“加分”只用于加分项（如指标21）的材料，写这件材料申报的分数。"),
        );
        return None;
    }
    let allowed: BTreeSet<u32> = criteria
        .iter()
        .filter_map(|&k| cat.criterion(k))
        .flat_map(|c| c.bonus.iter().map(|x| x.points))
        .collect();
    if !allowed.contains(&b.value) {
        let rules: Vec<String> = cat
            .criteria
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.bonus.is_empty())
            .map(|(i, c)| {
                format!(
                    "第{}条：{}",
                    i + 1,
                    crate::diag::list(c.bonus.iter().map(|x| format!("{}分", x.points)))
                )
            })
            .collect();
        diags.push(
            Diagnostic::error(format!(
                "加分 {} 不是这件材料所佐证的加分规则给的分数",
                b.value
            ))
            .code("bonus-points-invalid")
            .at(at)
            .hint(format!(
                "先用“考核内容”写明是哪条加分规则，再写那条规则的分数。{}",
                rules.join("；")
            )),
        );
        return None;
    }
    Some(b.value)
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
pub(super) fn check_coverage(
    cat: &Item,
    at: Option<Place>,
    recs: &[Rec],
    diags: &mut Vec<Diagnostic>,
) {
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
                .code("criterion-without-evidence")
                .at(at.clone())
                .hint(format!("补充材料，并在材料里写“考核内容: [{k}]”。")),
            );
        }
    }
}
