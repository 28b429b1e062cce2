//! Any county, not only Minquan. The 21 items and their criteria are the province's; the task
//! table's wording, towns and officials are each county's own. So a dossier's task table is:
//!
//! - its own `任务分解表.yaml` when it has one (`dossier init --县` writes it), checked here
//!   against the province's structure (the same items, the same number of criteria, which
//!   records refer to by position) with every problem at its line;
//! - otherwise the embedded table adapted to the county `dossier.yaml` names
//!   ([`Catalog::for_county`]): no other county's name, towns or officials.
//!
//! Because a county starts from the sample, [`crate::glyphs::sample_leftovers`] warns where the
//! sample county's name, towns or officials would still print in another county's dossier.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::catalog::{Catalog, METHODS};
use crate::diag::{Diagnostic, Place, Pos};
use crate::load::TASK_TABLE_FILE;
use crate::model::Config;

/// The task table of a dossier: its own (checked; `None` when it did not parse) or the
/// embedded one adapted to its county. `text` is the table file's text, for positions.
pub fn task_table(
    own: Option<Option<Catalog>>,
    text: Option<&str>,
    config: Option<&Config>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Arc<Catalog>> {
    let province = Catalog::get();
    match own {
        None => {
            let county = config.map_or("", |c| c.county.as_str());
            Some(Arc::new(province.for_county(county)))
        }
        Some(None) => None,
        Some(Some(table)) => {
            check_table(&table, text.unwrap_or(""), province, diags);
            Some(Arc::new(table))
        }
    }
}

/// Where `needle` is written in item `item`'s part of the table file (the item's own line when
/// the needle is not found, the file when the item is not).
pub fn table_place(text: &str, item: u32, needle: &str) -> Place {
    let lines: Vec<&str> = text.lines().collect();
    let is_item = |l: &str, n: u32| {
        l.trim_start()
            .strip_prefix("- number:")
            .is_some_and(|v| v.trim().parse::<u32>().ok() == Some(n))
    };
    let Some(start) = lines.iter().position(|l| is_item(l, item)) else {
        return Place::file(TASK_TABLE_FILE);
    };
    let indent = lines[start].len() - lines[start].trim_start().len();
    for (i, line) in lines.iter().enumerate().skip(start) {
        if i > start
            && line.len() - line.trim_start().len() <= indent
            && line.trim_start().starts_with('-')
        {
            break;
        }
        if let Some(byte) = line.find(needle).filter(|_| !needle.is_empty()) {
            let col = line[..byte].chars().count() + 1;
            return Place::at(
                TASK_TABLE_FILE,
                Pos::new(i + 1, col, needle.chars().count()),
            );
        }
    }
    Place::at(TASK_TABLE_FILE, Pos::new(start + 1, indent + 1, 0))
}

/// Checks a county's own table against the province's: the same groups and items, the same
/// number of criteria per item (records name criteria by position), known acceptance methods,
/// task numbers used once per item; and warns where an item's title or a criterion's text reads
/// otherwise than the province's (the county's name aside).
fn check_table(table: &Catalog, text: &str, province: &Catalog, diags: &mut Vec<Diagnostic>) {
    let seed = province.for_county(&table.county);
    let numbers: Vec<u32> = table.items.iter().map(|i| i.number).collect();
    let want: Vec<u32> = seed.items.iter().map(|i| i.number).collect();
    if numbers != want {
        diags.push(
            Diagnostic::error(format!(
                "任务分解表的指标应是 {}–{} 共 {} 项、按顺序排列，这里是 {}",
                want.first().unwrap_or(&1),
                want.last().unwrap_or(&21),
                want.len(),
                crate::diag::list(&numbers)
            ))
            .code("table-items")
            .at(Place::file(TASK_TABLE_FILE))
            .hint(
                "指标和考核评分内容是省里定的，不能增删；本县可以改的是工作任务的写法和责任单位。",
            ),
        );
        return;
    }
    for g in &seed.groups {
        let same = table
            .groups
            .iter()
            .any(|t| t.id == g.id && t.items == g.items);
        if !same {
            diags.push(
                Diagnostic::error(format!("任务分解表的项目“{}”应包含指标 {}", g.source_text, crate::diag::list(&g.items)))
                    .code("table-group")
                    .at(table_place(text, 0, &g.id))
                    .hint("项目（一 … 五、加分项）和其中的指标是省里定的，请照 dossier init 生成的表改回。"),
            );
        }
    }
    for (item, p) in table.items.iter().zip(&seed.items) {
        check_table_item(item, p, text, diags);
    }
}

/// One item of a county's table against the province's item `p`.
fn check_table_item(
    item: &crate::catalog::Item,
    p: &crate::catalog::Item,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let n = item.number;
    if item.criteria.len() != p.criteria.len() {
        diags.push(
            Diagnostic::error(format!(
                "指标{n}应有 {} 条考核评分内容，这里有 {} 条",
                p.criteria.len(),
                item.criteria.len()
            ))
            .code("table-criteria-count")
            .at(table_place(text, n, "criteria:"))
            .hint("材料用“考核内容: [序号]”指向考核评分内容，条数和顺序必须与省里的一致。"),
        );
        return;
    }
    let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    if compact(&item.title) != compact(&p.title) {
        diags.push(
            Diagnostic::warning(format!("指标{n}的名称与省里的不一致：省里是“{}”", p.title))
                .code("table-title-differs")
                .at(table_place(text, n, &item.title))
                .hint("指标名称是省里定的；如果不是有意改的，请改回。"),
        );
    }
    for (k, (c, pc)) in item.criteria.iter().zip(&p.criteria).enumerate() {
        if compact(&c.text) != compact(&pc.text) {
            diags.push(
                Diagnostic::warning(format!(
                    "指标{n}第{}条考核评分内容与省里的不一致：省里是“{}”",
                    k + 1,
                    pc.text
                ))
                .code("table-criterion-differs")
                .at(table_place(text, n, &c.text))
                .hint("考核评分内容是省里定的；如果不是有意改的，请改回。"),
            );
        }
    }
    for m in &item.methods {
        if !METHODS.contains(&m.as_str()) {
            diags.push(
                Diagnostic::error(format!(
                    "指标{n}的验收方式“{m}”不是 {} 之一",
                    METHODS.join("、")
                ))
                .code("table-method-unknown")
                .at(table_place(text, n, m)),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for t in item.tasks() {
        if !seen.insert(t.task.number) {
            diags.push(
                Diagnostic::error(format!("指标{n}的工作任务编号 {} 用了两次", t.task.number))
                    .code("table-task-number-twice")
                    .at(table_place(text, n, &t.task.text))
                    .hint("材料用“工作任务: [编号]”指向工作任务，同一指标里的编号不能重复。"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_in_the_table_are_found_within_their_item() {
        let text = "items:\n  - number: 1\n    title: 甲\n  - number: 2\n    title: 乙\n    units: [财政局]\n";
        let p = table_place(text, 2, "财政局");
        assert_eq!(p.pos.map(|p| (p.line, p.col)), Some((6, 13)));
        // Not in item 1's part.
        assert_eq!(table_place(text, 1, "财政局").pos.map(|p| p.line), Some(2));
        assert_eq!(table_place(text, 9, "x"), Place::file(TASK_TABLE_FILE));
    }

    #[test]
    fn the_province_structure_is_enforced() {
        let province = Catalog::get();
        let mut table = province.for_county("宁陵县");
        let mut diags = Vec::new();
        check_table(&table, "", province, &mut diags);
        assert!(diags.is_empty(), "{diags:#?}");
        table.items[4].criteria.pop();
        table.items[6].criteria[0].text.push_str("（本县补充）");
        let t = table.items[13].criteria[0].tasks[0].clone();
        table.items[13].criteria[1].tasks.push(t);
        check_table(&table, "", province, &mut diags);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.starts_with("指标5应有 3 条")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("指标7第1条考核评分内容与省里的不一致")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("工作任务编号 1 用了两次")),
            "{messages:?}"
        );
    }
}
