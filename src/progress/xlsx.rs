//! The status workbook: the numbers of the status page as sheets an office can sort, filter
//! and forward — 概况 (totals), 考核内容 (one row per criterion), 单位 (one row per unit) and
//! 尚缺 (every criterion a unit still owes).

use anyhow::Context;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use super::Progress;
use crate::model::Date;

/// The workbook's bytes (the same status gives the same bytes).
pub fn workbook(p: &Progress, date: Date) -> anyhow::Result<Vec<u8>> {
    let mut wb = Workbook::new();
    wb.set_properties(&crate::sheets::properties(date)?);
    summary(wb.add_worksheet(), p)?;
    criteria(wb.add_worksheet(), p)?;
    units(wb.add_worksheet(), p)?;
    owed(wb.add_worksheet(), p)?;
    wb.save_to_buffer().context("无法生成 Excel 工作簿")
}

/// Names the sheet and writes its header row (see [`crate::sheets::header`]).
fn header(sheet: &mut Worksheet, name: &str, cols: &[(&str, f64)]) -> anyhow::Result<()> {
    sheet.set_name(name)?;
    crate::sheets::header(sheet, cols)
}

/// 概况: label and number per line.
fn summary(sheet: &mut Worksheet, p: &Progress) -> anyhow::Result<()> {
    header(sheet, "概况", &[("项目", 30.0), ("数量", 12.0)])?;
    let t = &p.totals;
    let rows: [(&str, usize); 14] = [
        ("考核内容（不含加分项）", t.criteria),
        ("有材料的考核内容", t.covered),
        ("缺材料的考核内容", t.missing),
        ("加分项考核内容", t.bonus_criteria),
        ("加分项有材料", t.bonus_covered),
        ("材料（件）", t.records),
        ("证据页", t.pages),
        ("量化目标", t.targets),
        ("量化目标已达到", t.targets_met),
        ("量化目标未达到", t.targets_failed),
        ("有工作任务的单位", t.units),
        ("仍欠材料的单位", t.units_owing),
        ("逾期的单位", t.units_overdue),
        ("尚缺（单位 × 考核内容）", t.owed),
    ];
    for (i, (label, n)) in rows.iter().enumerate() {
        sheet.write_string(i as u32 + 1, 0, *label)?;
        sheet.write_number(i as u32 + 1, 1, *n as f64)?;
    }
    sheet.write_string(rows.len() as u32 + 2, 0, format!("截至 {}", p.today))?;
    Ok(())
}

/// 考核内容: one row per criterion.
fn criteria(sheet: &mut Worksheet, p: &Progress) -> anyhow::Result<()> {
    let cols = [
        ("项目", 8.0),
        ("指标", 6.0),
        ("序号", 6.0),
        ("考核内容", 60.0),
        ("责任单位", 30.0),
        ("材料（件）", 10.0),
        ("页数", 8.0),
        ("状态", 12.0),
        ("量化目标", 40.0),
    ];
    header(sheet, "考核内容", &cols)?;
    let wrap = Format::new().set_text_wrap();
    let mut r = 1;
    for g in &p.groups {
        for i in &g.items {
            for c in &i.criteria {
                let state = match (c.covered, c.bonus) {
                    (true, _) => "有材料",
                    (false, true) => "加分项（可选）",
                    (false, false) => "缺材料",
                };
                let targets: Vec<String> = (c.targets.iter())
                    .map(|t| {
                        let met = match t.met {
                            Some(true) => "达到",
                            Some(false) => "未达到",
                            None => "未判断",
                        };
                        let v = t.value.map(|v| format!(" 实测 {v}")).unwrap_or_default();
                        format!("{} {}{v} {met}", t.name, t.goal)
                    })
                    .collect();
                sheet.write_string(r, 0, &g.id)?;
                sheet.write_number(r, 1, i.number)?;
                sheet.write_number(r, 2, c.index as f64)?;
                sheet.write_string_with_format(r, 3, &c.text, &wrap)?;
                sheet.write_string_with_format(r, 4, c.units.join("、"), &wrap)?;
                sheet.write_number(r, 5, c.records.len() as f64)?;
                sheet.write_number(r, 6, c.pages as f64)?;
                sheet.write_string(r, 7, state)?;
                sheet.write_string_with_format(r, 8, targets.join("\n"), &wrap)?;
                r += 1;
            }
        }
    }
    sheet.autofilter(0, 0, r.max(2) - 1, cols.len() as u16 - 1)?;
    Ok(())
}

/// 单位: one row per unit.
fn units(sheet: &mut Worksheet, p: &Progress) -> anyhow::Result<()> {
    let cols = [
        ("单位", 24.0),
        ("工作任务", 10.0),
        ("考核内容", 10.0),
        ("已提供材料（件）", 16.0),
        ("仍欠（条）", 10.0),
        ("截止日期", 12.0),
        ("逾期", 8.0),
    ];
    header(sheet, "单位", &cols)?;
    for (i, u) in p.units.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, &u.name)?;
        sheet.write_number(r, 1, u.tasks.len() as f64)?;
        sheet.write_number(r, 2, u.criteria as f64)?;
        sheet.write_number(r, 3, u.records.len() as f64)?;
        sheet.write_number(r, 4, u.owes.len() as f64)?;
        sheet.write_string(r, 5, u.deadline.as_deref().unwrap_or(""))?;
        sheet.write_string(r, 6, if u.overdue { "是" } else { "" })?;
    }
    sheet.autofilter(0, 0, p.units.len().max(1) as u32, cols.len() as u16 - 1)?;
    Ok(())
}

/// 尚缺: every (unit, criterion) still owed.
fn owed(sheet: &mut Worksheet, p: &Progress) -> anyhow::Result<()> {
    let cols = [
        ("单位", 24.0),
        ("截止日期", 12.0),
        ("指标", 6.0),
        ("序号", 6.0),
        ("考核内容", 70.0),
    ];
    header(sheet, "尚缺", &cols)?;
    let wrap = Format::new().set_text_wrap();
    let mut r = 1;
    for u in &p.units {
        for o in &u.owes {
            sheet.write_string(r, 0, &u.name)?;
            sheet.write_string(r, 1, u.deadline.as_deref().unwrap_or(""))?;
            sheet.write_number(r, 2, o.item)?;
            sheet.write_number(r, 3, o.criterion as f64)?;
            sheet.write_string_with_format(r, 4, &o.text, &wrap)?;
            r += 1;
        }
    }
    sheet.autofilter(0, 0, r.max(2) - 1, cols.len() as u16 - 1)?;
    Ok(())
}
