//! The record table as a spreadsheet (`dossier export`, `dossier import`): which columns it
//! has, how a record's fields read as cells and back, and the workbook the office sends out —
//! one sheet of every record, and one sheet per unit listing its tasks with room for new
//! records. The same cell forms are read back by [`crate::import`], so a table exported,
//! edited in WPS or Excel and imported gives the same records.
//!
//! Cell forms: lists (责任单位, 考核内容, 工作任务) separated by 、；, or new lines; 文件 one path
//! per line, with 页码 and 仅入包 one line per file (an empty line: the whole file / no); 实测
//! one YAML mapping per line, as in the item file (`{考核内容: 2, 数值: 98.5, 说明: "…"}`).

use std::collections::BTreeMap;

use anyhow::Context;
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, DocProperties, ExcelDateTime, Format, FormatAlign, Formula,
    Workbook, Worksheet,
};

use crate::catalog::Catalog;
use crate::model::{Date, FileNode, ItemFile, Measure, Record};
use crate::units::Registry;

/// The record sheet's name.
pub const RECORDS_SHEET: &str = "材料";
/// The sheet of unit names the drop-downs read.
pub const NAMES_SHEET: &str = "名录";
/// The explanation sheet.
pub const HELP_SHEET: &str = "说明";

/// A column of the record table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Col {
    /// 指标.
    Item,
    /// 件号.
    Number,
    /// 题名.
    Title,
    /// 文号.
    DocNumber,
    /// 责任者.
    Issuer,
    /// 日期.
    Date,
    /// 责任单位.
    Units,
    /// 考核内容.
    Criteria,
    /// 工作任务.
    Tasks,
    /// 文件.
    Files,
    /// 页码.
    Pages,
    /// 仅入包.
    PackageOnly,
    /// 实测.
    Measures,
    /// 备注.
    Remark,
    /// 保管期限.
    Retention,
    /// 地点.
    Place,
    /// 人物.
    People,
    /// 摄影者.
    Photographer,
    /// 加分.
    Bonus,
    /// 删除: 是 removes the record on import.
    Delete,
}

/// Every column, in the order of the record sheet.
pub const COLUMNS: [Col; 20] = [
    Col::Item,
    Col::Number,
    Col::Title,
    Col::DocNumber,
    Col::Issuer,
    Col::Date,
    Col::Units,
    Col::Criteria,
    Col::Tasks,
    Col::Files,
    Col::Pages,
    Col::PackageOnly,
    Col::Measures,
    Col::Remark,
    Col::Retention,
    Col::Place,
    Col::People,
    Col::Photographer,
    Col::Bonus,
    Col::Delete,
];

/// Read-only columns of a unit's task sheet: context for the clerk, ignored on import.
pub const CONTEXT_COLUMNS: [&str; 3] = ["考核评分内容", "工作任务内容", "已有材料"];

impl Col {
    /// The header as written.
    pub fn name(self) -> &'static str {
        match self {
            Col::Item => "指标",
            Col::Number => "件号",
            Col::Title => "题名",
            Col::DocNumber => "文号",
            Col::Issuer => "责任者",
            Col::Date => "日期",
            Col::Units => "责任单位",
            Col::Criteria => "考核内容",
            Col::Tasks => "工作任务",
            Col::Files => "文件",
            Col::Pages => "页码",
            Col::PackageOnly => "仅入包",
            Col::Measures => "实测",
            Col::Remark => "备注",
            Col::Retention => "保管期限",
            Col::Place => "地点",
            Col::People => "人物",
            Col::Photographer => "摄影者",
            Col::Bonus => "加分",
            Col::Delete => "删除",
        }
    }

    /// The column a header names (spaces and a trailing note in brackets ignored).
    pub fn from_header(text: &str) -> Option<Col> {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let t = t.split(['(', '（']).next().unwrap_or("");
        COLUMNS.into_iter().find(|c| c.name() == t)
    }

    /// Width in characters on the sheet.
    fn width(self) -> f64 {
        match self {
            Col::Item | Col::Number | Col::PackageOnly | Col::Bonus | Col::Delete => 6.0,
            Col::Date | Col::Criteria | Col::Tasks | Col::Pages | Col::Retention => 11.0,
            Col::Title => 44.0,
            Col::Files | Col::Measures => 40.0,
            Col::Issuer | Col::Units | Col::Remark | Col::DocNumber => 22.0,
            Col::Place | Col::People | Col::Photographer => 16.0,
        }
    }
}

/// A record as the cells of one row: every column that has a value, as text (日期 as
/// `YYYY-MM-DD`). Two records are the same when their rows are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// Column → text.
    pub cells: BTreeMap<Col, String>,
}

impl Row {
    /// The text of a column ("" when empty).
    pub fn get(&self, c: Col) -> &str {
        self.cells.get(&c).map_or("", String::as_str)
    }

    /// Sets a column; an empty text removes it.
    pub fn set(&mut self, c: Col, text: impl Into<String>) {
        let text = text.into();
        if text.trim().is_empty() {
            self.cells.remove(&c);
        } else {
            self.cells.insert(c, text);
        }
    }

    /// The columns whose values differ from `other`'s.
    pub fn changed(&self, other: &Row) -> Vec<Col> {
        COLUMNS
            .into_iter()
            .filter(|&c| self.get(c) != other.get(c))
            .collect()
    }
}

/// A record of item `item` as a row.
pub fn row_of(item: u32, r: &Record) -> Row {
    let mut row = Row::default();
    row.set(Col::Item, item.to_string());
    if let Some(n) = &r.number {
        row.set(Col::Number, n.value.to_string());
    }
    let text = |o: Option<&String>| o.cloned().unwrap_or_default();
    row.set(Col::Title, text(r.title.as_ref().map(|t| &t.value)));
    row.set(Col::DocNumber, text(r.doc_number.as_ref().map(|d| &d.0)));
    row.set(Col::Issuer, text(r.issuer.as_ref()));
    if let Some(d) = &r.date {
        row.set(Col::Date, d.value.to_string());
    }
    let join = |v: Vec<String>| v.join("、");
    if let Some(u) = &r.units {
        row.set(
            Col::Units,
            join(u.iter().map(|s| s.value.clone()).collect()),
        );
    }
    if let Some(c) = &r.criteria {
        row.set(
            Col::Criteria,
            join(c.iter().map(|s| s.value.to_string()).collect()),
        );
    }
    if let Some(t) = &r.tasks {
        row.set(
            Col::Tasks,
            join(t.iter().map(|s| s.value.to_string()).collect()),
        );
    }
    if let Some(files) = &r.files {
        set_files(&mut row, files.iter().map(|f| &f.value));
    }
    if let Some(m) = &r.measures {
        let lines: Vec<String> = m.iter().map(|m| measure_yaml(&m.value)).collect();
        row.set(Col::Measures, lines.join("\n"));
    }
    row.set(Col::Remark, text(r.remark.as_ref()));
    row.set(Col::Retention, text(r.retention.as_ref().map(|t| &t.value)));
    row.set(Col::Place, text(r.place.as_ref()));
    row.set(Col::People, text(r.people.as_ref()));
    row.set(Col::Photographer, text(r.photographer.as_ref()));
    if let Some(b) = &r.bonus {
        row.set(Col::Bonus, b.value.to_string());
    }
    row
}

/// 文件, 页码 and 仅入包: one line per file; 页码 and 仅入包 only when some file has them.
fn set_files<'a>(row: &mut Row, files: impl Iterator<Item = &'a FileNode>) {
    let (mut paths, mut pages, mut only) = (Vec::new(), Vec::new(), Vec::new());
    for f in files {
        match f {
            FileNode::Path(p) => {
                paths.push(p.clone());
                pages.push(String::new());
                only.push(String::new());
            }
            FileNode::Map(m) => {
                paths.push(m.path.value.clone());
                pages.push(
                    m.pages
                        .as_ref()
                        .map_or(String::new(), |p| p.value.text.clone()),
                );
                let yes = m.package_only.is_some_and(|y| y.0);
                only.push(if yes { "是" } else { "" }.to_string());
            }
        }
    }
    row.set(Col::Files, paths.join("\n"));
    if pages.iter().any(|p| !p.is_empty()) {
        row.set(Col::Pages, pages.join("\n").trim_end());
    }
    if only.iter().any(|p| !p.is_empty()) {
        row.set(Col::PackageOnly, only.join("\n").trim_end());
    }
}

/// A measured value as a one-line YAML mapping.
pub fn measure_yaml(m: &Measure) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &m.criterion {
        parts.push(format!("考核内容: {}", c.value));
    }
    if let Some(t) = &m.target {
        parts.push(format!("指标项: {}", crate::yaml::quoted(&t.value)));
    }
    parts.push(format!("数值: {}", m.value));
    if let Some(r) = m.reference {
        parts.push(format!("参照值: {r}"));
    }
    if let Some(n) = &m.note {
        parts.push(format!("说明: {}", crate::yaml::quoted(n)));
    }
    format!("{{{}}}", parts.join(", "))
}

/// What the workbook is made from: the records as written, the task table, the registry.
pub struct Source<'a> {
    /// The item files that parsed, with their paths.
    pub items: &'a [(String, ItemFile)],
    /// The task table.
    pub catalog: &'a Catalog,
    /// The units registry.
    pub registry: &'a Registry,
    /// The workbook's date (its document properties), for byte-identical exports.
    pub date: Date,
    /// Only this unit's task sheet (index into the registry), to send to that unit.
    pub unit: Option<usize>,
}

/// The export workbook: 说明, 材料 (every record), one task sheet per unit with tasks, and the
/// hidden 名录 the drop-downs read.
pub fn export_workbook(src: &Source) -> anyhow::Result<Vec<u8>> {
    let mut wb = Workbook::new();
    wb.set_properties(&properties(src.date)?);
    help_sheet(wb.add_worksheet())?;
    let names = unit_names(src.registry);
    let rows: Vec<Row> = (src.items.iter())
        .flat_map(|(_, f)| {
            let item = f.item.value;
            (f.records.iter().flatten()).map(move |r| row_of(item, &r.value))
        })
        .collect();
    if src.unit.is_none() {
        records_sheet(wb.add_worksheet(), &rows, src.catalog, names.len())?;
    }
    let mut used = Vec::new();
    for (u, unit) in src.registry.units.iter().enumerate() {
        let tasks = unit_tasks(src.catalog, src.registry, u);
        if tasks.is_empty() || src.unit.is_some_and(|only| only != u) {
            continue;
        }
        let sheet = wb.add_worksheet();
        sheet.set_name(sheet_name(&unit.short, &mut used))?;
        unit_sheet(sheet, &unit.short, &tasks, &rows, names.len())?;
    }
    let list = wb.add_worksheet();
    list.set_name(NAMES_SHEET)?;
    for (i, n) in names.iter().enumerate() {
        list.write_string(i as u32, 0, n)?;
    }
    list.set_hidden(true);
    wb.save_to_buffer().context("无法生成 Excel 工作簿")
}

/// Document properties with a fixed date, so the same records give the same bytes.
pub fn properties(date: Date) -> anyhow::Result<DocProperties> {
    let when = ExcelDateTime::from_ymd(date.year, date.month, date.day)?;
    Ok(DocProperties::new()
        .set_creation_datetime(&when)
        .set_author("dossier"))
}

/// Every unit and group name, for the 责任单位 drop-down.
fn unit_names(reg: &Registry) -> Vec<String> {
    let mut names: Vec<String> = reg.units.iter().map(|u| u.short.clone()).collect();
    names.extend(reg.groups.iter().map(|g| g.name.clone()));
    names
}

/// A sheet name from a unit's name: at most 31 characters, none of `[]:*?/\`, unique.
fn sheet_name(name: &str, used: &mut Vec<String>) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { '_' } else { c })
        .take(28)
        .collect();
    let mut out = clean.clone();
    let mut n = 2;
    while used.contains(&out) || [RECORDS_SHEET, NAMES_SHEET, HELP_SHEET].contains(&out.as_str()) {
        out = format!("{clean}{n}");
        n += 1;
    }
    used.push(out.clone());
    out
}

/// Header format.
fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(0xD9E1F2)
        .set_align(FormatAlign::Center)
}

/// Writes a header row, freezes it and sets the widths; prints on A4 landscape, the header on
/// every page.
pub fn header(sheet: &mut Worksheet, names: &[(&str, f64)]) -> anyhow::Result<()> {
    let bold = header_format();
    for (i, (name, width)) in names.iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, *name, &bold)?;
        sheet.set_column_width(i as u16, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_repeat_rows(0, 0)?;
    Ok(())
}

/// Writes a row's cells from column `first` on, in `cols` order.
fn write_row(
    sheet: &mut Worksheet,
    r: u32,
    cols: &[Col],
    first: u16,
    row: &Row,
) -> anyhow::Result<()> {
    let wrap = Format::new().set_text_wrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (i, &c) in cols.iter().enumerate() {
        let at = first + i as u16;
        let text = row.get(c);
        if text.is_empty() {
            continue;
        }
        match c {
            Col::Item | Col::Number | Col::Bonus => match text.parse::<u32>() {
                Ok(n) => sheet.write_number(r, at, n)?,
                Err(_) => sheet.write_string(r, at, text)?,
            },
            Col::Date => match Date::parse(text) {
                Ok(d) => {
                    let dt = ExcelDateTime::from_ymd(d.year, d.month, d.day)?;
                    sheet.write_datetime_with_format(r, at, &dt, &date)?
                }
                Err(_) => sheet.write_string(r, at, text)?,
            },
            _ => sheet.write_string_with_format(r, at, text, &wrap)?,
        };
    }
    Ok(())
}

/// Drop-downs: 指标 a whole number 1–N, 责任单位 from the 名录 sheet (several units can still
/// be typed, so a value outside the list warns instead of refusing).
fn validations(
    sheet: &mut Worksheet,
    (item_col, unit_col): (u16, u16),
    items: usize,
    names: usize,
) -> anyhow::Result<()> {
    let last = 5000;
    let item = DataValidation::new()
        .allow_whole_number(DataValidationRule::Between(1, items as i32))
        .set_error_message("指标是 1 到任务分解表最后一项的编号。")?;
    sheet.add_data_validation(1, item_col, last, item_col, &item)?;
    let list = Formula::new(format!("={NAMES_SHEET}!$A$1:$A${}", names.max(1)));
    let units = DataValidation::new()
        .allow_list_formula(list)
        .set_error_style(rust_xlsxwriter::DataValidationErrorStyle::Warning)
        .set_error_message("不在单位名录里。几个单位一起写时用“、”隔开，可以忽略这个提示。")?;
    sheet.add_data_validation(1, unit_col, last, unit_col, &units)?;
    Ok(())
}

/// The 材料 sheet: one row per record.
fn records_sheet(
    sheet: &mut Worksheet,
    rows: &[Row],
    catalog: &Catalog,
    names: usize,
) -> anyhow::Result<()> {
    sheet.set_name(RECORDS_SHEET)?;
    let heads: Vec<(&str, f64)> = COLUMNS.iter().map(|c| (c.name(), c.width())).collect();
    header(sheet, &heads)?;
    for (i, row) in rows.iter().enumerate() {
        write_row(sheet, i as u32 + 1, &COLUMNS, 0, row)?;
    }
    let col = |c: Col| COLUMNS.iter().position(|&x| x == c).unwrap_or(0) as u16;
    validations(
        sheet,
        (col(Col::Item), col(Col::Units)),
        catalog.items.len(),
        names,
    )?;
    sheet.autofilter(0, 0, rows.len().max(1) as u32, COLUMNS.len() as u16 - 1)?;
    Ok(())
}

/// One task of a unit, for its sheet.
pub struct SheetTask {
    /// Item number.
    pub item: u32,
    /// Task number.
    pub number: u32,
    /// Criteria it supports.
    pub criteria: Vec<usize>,
    /// The criteria's texts.
    pub criteria_text: String,
    /// The task's text.
    pub text: String,
}

/// The tasks the table gives unit `u` (directly or through a group).
pub fn unit_tasks(catalog: &Catalog, reg: &Registry, u: usize) -> Vec<SheetTask> {
    let mut out = Vec::new();
    for item in &catalog.items {
        for t in item.tasks() {
            if !t.units.iter().any(|n| reg.units_of(n).contains(&u)) {
                continue;
            }
            let criteria = item.criteria_of_task(t.task.number);
            let criteria_text = (criteria.iter())
                .filter_map(|&k| item.criterion(k).map(|c| format!("{k}. {}", c.text)))
                .collect::<Vec<_>>()
                .join("\n");
            out.push(SheetTask {
                item: item.number,
                number: t.task.number,
                criteria,
                criteria_text,
                text: t.task.text.clone(),
            });
        }
    }
    out
}

/// The record columns of a unit's sheet, after its context columns.
pub const UNIT_SHEET_COLUMNS: [Col; 12] = [
    Col::Item,
    Col::Criteria,
    Col::Tasks,
    Col::Number,
    Col::Title,
    Col::DocNumber,
    Col::Issuer,
    Col::Date,
    Col::Units,
    Col::Files,
    Col::Pages,
    Col::Remark,
];

/// A unit's sheet: one row per task, its criteria and the records it already has, with the
/// record columns to fill in (责任单位 already filled). A row whose 题名 stays empty is ignored
/// on import; a filled one becomes a new record of that item.
fn unit_sheet(
    sheet: &mut Worksheet,
    unit: &str,
    tasks: &[SheetTask],
    rows: &[Row],
    names: usize,
) -> anyhow::Result<()> {
    let mut heads: Vec<(&str, f64)> = vec![
        (CONTEXT_COLUMNS[0], 40.0),
        (CONTEXT_COLUMNS[1], 40.0),
        (CONTEXT_COLUMNS[2], 18.0),
    ];
    heads.extend(UNIT_SHEET_COLUMNS.iter().map(|c| (c.name(), c.width())));
    header(sheet, &heads)?;
    let wrap = Format::new().set_text_wrap().set_background_color(0xF2F2F2);
    for (i, t) in tasks.iter().enumerate() {
        let r = i as u32 + 1;
        let have: Vec<String> = (rows.iter())
            .filter(|row| {
                row.get(Col::Item) == t.item.to_string()
                    && row.get(Col::Units).split('、').any(|n| n == unit)
            })
            .map(|row| format!("{}-{}", row.get(Col::Item), row.get(Col::Number)))
            .collect();
        sheet.write_string_with_format(r, 0, &t.criteria_text, &wrap)?;
        sheet.write_string_with_format(r, 1, &t.text, &wrap)?;
        sheet.write_string_with_format(r, 2, have.join("、"), &wrap)?;
        let mut row = Row::default();
        row.set(Col::Item, t.item.to_string());
        let criteria: Vec<String> = t.criteria.iter().map(usize::to_string).collect();
        row.set(Col::Criteria, criteria.join("、"));
        row.set(Col::Tasks, t.number.to_string());
        row.set(Col::Units, unit);
        write_row(sheet, r, &UNIT_SHEET_COLUMNS, 3, &row)?;
    }
    let col = |c: Col| 3 + UNIT_SHEET_COLUMNS.iter().position(|&x| x == c).unwrap_or(0) as u16;
    let items = tasks.iter().map(|t| t.item).max().unwrap_or(1) as usize;
    validations(
        sheet,
        (col(Col::Item), col(Col::Units)),
        items.max(21),
        names,
    )?;
    Ok(())
}

/// The 说明 sheet: how to fill the table in.
fn help_sheet(sheet: &mut Worksheet) -> anyhow::Result<()> {
    sheet.set_name(HELP_SHEET)?;
    sheet.set_column_width(0, 110)?;
    let lines = [
        "材料登记表（由 dossier export 生成；填好后用 dossier import 读回资料目录）",
        "",
        "“材料”工作表：每行一件材料。改动后 import 会按“指标 + 件号”找到对应的材料并更新；件号留空的行是新材料，自动编号。",
        "删除一件材料：在“删除”列写“是”。表里没有的材料不会被删除。",
        "各单位工作表：列出本单位的工作任务（灰色三列只供参考，不会读入）。新材料填在任务所在行，或复制该行后填写；“题名”空着的行不读入。",
        "日期：写成日期（2021-05-20），不要写成文字“2021年5月”。",
        "责任单位、考核内容、工作任务：几个值用“、”隔开，如“市场监管局、财政局”“1、2”。",
        "文件：每行一个文件，路径从资料目录算起，如 evidence/05/方案.pdf。页码、仅入包：与文件逐行对应（“2-5”“是”），空行表示全部页 / 否。",
        "实测：每行一个，写法同指标文件，如 {考核内容: 2, 数值: 98.5, 说明: \"2021年全年抽检\"}。",
        "请不要改动第一行的列名；可以增加行，不要增加列。",
    ];
    let bold = Format::new().set_bold();
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            sheet.write_string_with_format(0, 0, *l, &bold)?;
        } else {
            sheet.write_string(i as u32, 0, *l)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_read_back_with_notes_and_spaces() {
        assert_eq!(Col::from_header(" 日 期 "), Some(Col::Date));
        assert_eq!(Col::from_header("文件（每行一个）"), Some(Col::Files));
        assert_eq!(Col::from_header("附件"), None);
        for c in COLUMNS {
            assert_eq!(Col::from_header(c.name()), Some(c));
        }
    }

    #[test]
    fn sheet_names_are_legal_and_unique() {
        let mut used = Vec::new();
        assert_eq!(sheet_name("a/b", &mut used), "a_b");
        assert_eq!(sheet_name("a/b", &mut used), "a_b2");
        assert_eq!(sheet_name("材料", &mut used), "材料2");
        let long: String = "长".repeat(40);
        assert!(sheet_name(&long, &mut used).chars().count() <= 31);
    }
}
