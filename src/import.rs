//! `dossier import`: reads a record table back from a workbook (the layout
//! [`crate::sheets`] exports, or one unit's filled task sheet), checks every row with the same
//! checks as `dossier check` and says what would change; with `apply`, writes the item files.
//!
//! How rows become records: a row of 材料 is matched to a record by 指标 and 件号 and replaces
//! its fields; a row without 件号 is a new record numbered after the item's last (unless the
//! item already has a record with the same 题名, 日期 and 文件: then it is that record); 删除 =
//! 是 removes a record. Records the table lacks are kept and listed. A unit's sheet only adds
//! or updates the columns it has.
//!
//! How the files are written: everything up to `材料:` stays as it was, comments included;
//! records that did not change keep their text (comments, key order); changed and new records
//! are written in the export's field order. The new texts are loaded and validated before
//! anything is written; an error found in a generated record is reported at the row and column
//! it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use calamine::{Data, Reader};

use crate::diag::{Diagnostic, Place, Report};
use crate::load::{ITEMS_DIR, Overlay};
use crate::model::Date;
use crate::sheets::{COLUMNS, CONTEXT_COLUMNS, Col, HELP_SHEET, NAMES_SHEET, RECORDS_SHEET, Row};

/// Where a row is in the workbook.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct At {
    /// Sheet name.
    pub sheet: String,
    /// 1-based row as Excel shows it.
    pub row: u32,
}

impl At {
    /// "工作表“材料”第 12 行", with the column when given.
    pub fn describe(&self, col: Option<(Col, u16)>) -> String {
        match col {
            Some((c, i)) => format!(
                "工作表“{}”第 {} 行“{}”列（{}{}）",
                self.sheet,
                self.row,
                c.name(),
                column_letter(i),
                self.row
            ),
            None => format!("工作表“{}”第 {} 行", self.sheet, self.row),
        }
    }
}

/// The Excel letters of a 0-based column: 0 → A, 27 → AB.
pub fn column_letter(i: u16) -> String {
    let mut n = u32::from(i) + 1;
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// One row of the workbook read as a record.
#[derive(Debug, Clone)]
pub struct SheetRow {
    /// Where it is.
    pub at: At,
    /// Its cells (only the columns its sheet has).
    pub row: Row,
    /// The sheet's columns, with their positions.
    pub columns: Vec<(Col, u16)>,
    /// The sheet is a full record table (材料), not a unit's task sheet.
    pub full: bool,
}

impl SheetRow {
    /// Where a column of this row is, for messages.
    pub fn place(&self, c: Col) -> String {
        let col = self.columns.iter().find(|(x, _)| *x == c).copied();
        self.at.describe(col)
    }
}

/// The rows of a workbook, and problems found reading it.
pub struct Read {
    /// Record rows, in sheet and row order.
    pub rows: Vec<SheetRow>,
    /// Whether it has a full record table (then records it lacks are listed).
    pub has_full_table: bool,
    /// Problems: unreadable cells, unknown columns.
    pub errors: Vec<Diagnostic>,
}

/// Reads the record rows of every sheet of the workbook at `path` (`shown` is how messages
/// name it).
pub fn read_workbook(path: &Path, shown: &str) -> anyhow::Result<Read> {
    if !path.is_file() {
        anyhow::bail!("找不到要导入的文件 {}", path.display());
    }
    // calamine's own message (zip internals) says nothing to a clerk.
    let Ok(mut wb) = calamine::open_workbook_auto(path) else {
        anyhow::bail!(
            "无法读取工作簿 {}：它不是 Excel 工作簿（.xlsx），或者已经损坏。请用 WPS 或 Excel 打开后“另存为”.xlsx 再导入",
            path.display()
        );
    };
    let mut out = Read {
        rows: Vec::new(),
        has_full_table: false,
        errors: Vec::new(),
    };
    for name in wb.sheet_names() {
        if name == HELP_SHEET || name == NAMES_SHEET {
            continue;
        }
        let range = wb
            .worksheet_range(&name)
            .with_context(|| format!("无法读取工作簿 {} 的工作表“{name}”", path.display()))?;
        read_sheet(&name, &range, shown, &mut out);
    }
    Ok(out)
}

/// The columns of a sheet's header row; an unknown header is an error.
fn header_columns(
    sheet: &str,
    header: &[Data],
    first_col: u32,
    header_row: u32,
    shown: &str,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(Col, u16)> {
    let mut cols = Vec::new();
    for (i, cell) in header.iter().enumerate() {
        let text = cell.to_string();
        let text = text.trim();
        let at = (first_col as usize + i) as u16;
        if text.is_empty() || CONTEXT_COLUMNS.contains(&text) {
            continue;
        }
        match Col::from_header(text) {
            Some(c) if cols.iter().any(|(x, _)| *x == c) => errors.push(
                Diagnostic::error(format!(
                    "工作表“{sheet}”的列名“{text}”出现了两次（{}{}）",
                    column_letter(at),
                    header_row
                ))
                .code("import-column-twice")
                .at(Place::file(shown))
                .hint("每个列名只能有一列；删掉或改名多出的一列。"),
            ),
            Some(c) => cols.push((c, at)),
            None => errors.push(
                Diagnostic::error(format!(
                    "工作表“{sheet}”第 {header_row} 行的列名“{text}”（{} 列）不认识",
                    column_letter(at)
                ))
                .code("import-unknown-column")
                .at(Place::file(shown))
                .hint(format!(
                    "列名只能是：{}。不要改动导出表第一行的列名；要加说明请写在“备注”里。",
                    crate::diag::list(COLUMNS.iter().map(|c| c.name()))
                )),
            ),
        }
    }
    cols
}

/// Reads one sheet: its first row is the header.
fn read_sheet(sheet: &str, range: &calamine::Range<Data>, shown: &str, out: &mut Read) {
    let Some((first_row, first_col)) = range.start() else {
        return;
    };
    let mut rows = range.rows();
    let Some(header) = rows.next() else { return };
    let columns = header_columns(
        sheet,
        header,
        first_col,
        first_row + 1,
        shown,
        &mut out.errors,
    );
    let has = |c: Col| columns.iter().any(|(x, _)| *x == c);
    if !(has(Col::Item) && has(Col::Title)) {
        out.errors.push(
            Diagnostic::warning(format!("工作表“{sheet}”没有“指标”和“题名”两列，没有读入"))
                .code("import-sheet-skipped")
                .at(Place::file(shown))
                .hint("材料表的第一行是列名，至少要有“指标”和“题名”。"),
        );
        return;
    }
    let full = sheet == RECORDS_SHEET;
    out.has_full_table |= full;
    for (i, cells) in rows.enumerate() {
        let at = At {
            sheet: sheet.to_string(),
            row: first_row + 2 + i as u32,
        };
        let mut row = Row::default();
        for &(c, col) in &columns {
            let cell = cells
                .get(usize::from(col) - first_col as usize)
                .unwrap_or(&Data::Empty);
            match cell_text(c, cell) {
                Ok(text) => row.set(c, text),
                Err(why) => out.errors.push(
                    Diagnostic::error(format!("{}：{why}", at.describe(Some((c, col)))))
                        .code("import-bad-cell")
                        .at(Place::file(shown)),
                ),
            }
        }
        let blank = row.get(Col::Title).is_empty() && row.get(Col::Number).is_empty();
        if blank && (!full || row.cells.is_empty()) {
            continue; // an empty row, or a unit sheet's task row nobody filled in
        }
        out.rows.push(SheetRow {
            at,
            row,
            columns: columns.clone(),
            full,
        });
    }
}

/// A cell as the text of its column: 日期 as `YYYY-MM-DD`, whole numbers without `.0`.
fn cell_text(c: Col, cell: &Data) -> Result<String, String> {
    if c == Col::Date {
        return cell_date(cell).map(|d| d.map(|d| d.to_string()).unwrap_or_default());
    }
    let text = match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.replace("\r\n", "\n").replace('\r', "\n"),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
            return Err("这一列不应是日期".to_string());
        }
        Data::Error(e) => return Err(format!("单元格是错误值（{e}）")),
    };
    let text = match c {
        // Line-aligned columns keep their leading empty lines.
        Col::Pages | Col::PackageOnly => text.trim_end().to_string(),
        _ => text.trim().to_string(),
    };
    match c {
        Col::Item | Col::Number | Col::Bonus if !text.is_empty() => text
            .parse::<u32>()
            .map(|n| n.to_string())
            .map_err(|_| format!("“{text}”不是整数")),
        _ => Ok(text),
    }
}

/// A date cell: a real date, or text such as 2021-05-20, 2021/5/20, 2021.5.20, 2021年5月20日.
fn cell_date(cell: &Data) -> Result<Option<Date>, String> {
    let hint = "日期要写成 2021-05-20 这样的日期";
    match cell {
        Data::Empty => Ok(None),
        Data::DateTime(dt) => Ok(Some(serial_date(dt.as_f64()))),
        Data::DateTimeIso(s) => parse_date(s.get(..10).unwrap_or(s)).map(Some),
        Data::Float(f) if (18_264.0..73_051.0).contains(f) => Ok(Some(serial_date(*f))),
        Data::Int(i) if (18_264..73_051).contains(i) => Ok(Some(serial_date(*i as f64))),
        Data::String(s) if s.trim().is_empty() => Ok(None),
        Data::String(s) => parse_date(s.trim()).map(Some),
        other => Err(format!("“{other}”不是日期：{hint}")),
    }
    .map_err(|e| {
        if e.contains(hint) {
            e
        } else {
            format!("{e}；{hint}")
        }
    })
}

/// An Excel serial day (1900 system) as a date.
fn serial_date(serial: f64) -> Date {
    // Day 25569 is 1970-01-01.
    Date::from_days_since_epoch(serial.floor() as i64 - 25_569)
}

/// A date typed as text.
fn parse_date(text: &str) -> Result<Date, String> {
    let parts: Vec<&str> = text
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| p.trim().chars().all(|c| c.is_ascii_digit()))
    {
        let n = |p: &str| p.trim().parse::<u32>().unwrap_or(0);
        let iso = format!("{:04}-{:02}-{:02}", n(parts[0]), n(parts[1]), n(parts[2]));
        Date::parse(&iso).map_err(|e| format!("“{text}”不是日期（{e}）"))
    } else {
        Err(format!("“{text}”不是日期"))
    }
}

/// An existing record of an item file.
#[derive(Debug, Clone)]
struct Existing {
    /// Its row.
    row: Row,
    /// Its first line (1-based) in the file.
    line: usize,
}

/// One item file and its records as written.
#[derive(Debug, Clone)]
struct ItemText {
    /// Path relative to the root.
    rel: String,
    /// The text.
    text: String,
    /// Records by 件号, in file order.
    records: Vec<(u32, Existing)>,
}

/// What an import would do.
#[derive(Debug, Default)]
pub struct Plan {
    /// New records: (件号 label, 题名, where).
    pub added: Vec<(String, String, At)>,
    /// Changed records: (label, changed column names, where).
    pub changed: Vec<(String, Vec<&'static str>, At)>,
    /// Removed records: (label, 题名, where).
    pub removed: Vec<(String, String, At)>,
    /// Rows that matched a record and changed nothing.
    pub unchanged: usize,
    /// Rows of a unit sheet that matched an existing record by 题名, 日期 and 文件.
    pub already: Vec<(String, At)>,
    /// Records the full table lacks (kept): labels.
    pub missing_from_table: Vec<String>,
    /// New texts of the item files that change.
    pub files: BTreeMap<String, String>,
    /// Every problem: errors at rows and cells, the dossier's own problems.
    pub report: Report,
    /// Errors in the rows (then nothing may be written).
    pub row_errors: usize,
}

/// Works out what importing `read` into the dossier at `root` would change, and checks the
/// result as `dossier check` would. `shown` names the workbook in messages.
pub fn plan(root: &Path, read: Read, shown: &str) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    let mut errors = read.errors;
    let sources = crate::load::load(root)?;
    if !sources.unparsed.is_empty() {
        // Its records are unknown: writing the item would lose them.
        for rel in &sources.unparsed {
            errors.push(
                Diagnostic::error(format!("{rel} 有错误读不出来，不能往里导入"))
                    .code("import-item-unreadable")
                    .at(Place::file(rel))
                    .hint("先用 dossier check 找到并改正这个文件的错误，再导入。"),
            );
        }
        plan.row_errors = errors.len();
        for e in errors {
            plan.report.push(e);
        }
        return Ok(plan);
    }
    let items = item_texts(&sources)?;
    let catalog_items = catalog_items(&sources);
    let mut edits = Edits::new(&items);
    let ctx = RowCtx {
        catalog: &catalog_items,
        items: &items,
        shown,
    };
    for r in &read.rows {
        edits.apply(r, &ctx, &mut errors, &mut plan);
    }
    if read.has_full_table {
        plan.missing_from_table = edits.untouched(&items);
    }
    let mut lines = LineMap::new();
    for (item, changes) in &edits.by_item {
        let rel = items
            .get(item)
            .map_or_else(|| format!("{ITEMS_DIR}/{item:02}.yaml"), |t| t.rel.clone());
        let text = write_item(*item, items.get(item), changes, &rel, &mut lines);
        plan.files.insert(rel, text);
    }
    plan.row_errors = errors.iter().filter(|d| d.is_error()).count();
    for e in errors {
        plan.report.push(e);
    }
    // Checked even when rows have errors, so that every problem is reported at once.
    validate_result(root, &plan.files.clone(), &lines, shown, &mut plan)?;
    plan.report.sort();
    Ok(plan)
}

/// The item numbers of the dossier's task table: its own, or the embedded one (no evidence is
/// read for this; the new texts are validated whole later).
fn catalog_items(sources: &crate::load::Sources) -> BTreeSet<u32> {
    let text = sources.report.source(crate::load::TASK_TABLE_FILE);
    let catalog = crate::county::task_table(
        sources.task_table.clone(),
        text.map(|t| &**t),
        sources.config.as_ref(),
        &mut Vec::new(),
    );
    let catalog =
        catalog.unwrap_or_else(|| std::sync::Arc::new(crate::catalog::Catalog::get().clone()));
    catalog.items.iter().map(|i| i.number).collect()
}

/// The item files that parsed, by item number, with their records' rows and first lines.
fn item_texts(sources: &crate::load::Sources) -> anyhow::Result<BTreeMap<u32, ItemText>> {
    let mut out = BTreeMap::new();
    for (rel, f) in &sources.items {
        // The text the loader read and parsed: the records' lines are lines of it.
        let text = sources
            .report
            .source(rel)
            .map(|t| t.to_string())
            .with_context(|| format!("无法读取 {rel}"))?;
        let records = (f.records.iter().flatten())
            .filter_map(|r| {
                let n = r.value.number.as_ref()?.value;
                Some((
                    n,
                    Existing {
                        row: crate::sheets::row_of(f.item.value, &r.value),
                        line: crate::yaml::pos_of(r).line,
                    },
                ))
            })
            .collect();
        out.insert(
            f.item.value,
            ItemText {
                rel: rel.clone(),
                text,
                records,
            },
        );
    }
    Ok(out)
}

/// What happens to one record.
#[derive(Debug, Clone)]
enum Change {
    /// Replaced by (or added as) this row.
    Put(Row, SheetRow),
    /// Removed.
    Remove,
}

/// The edits gathered from the rows, by item and 件号.
struct Edits {
    by_item: BTreeMap<u32, BTreeMap<u32, Change>>,
    /// Where each (item, 件号) was first given.
    seen: BTreeMap<(u32, u32), At>,
    /// The next free 件号 of each item.
    next: BTreeMap<u32, u32>,
}

impl Edits {
    fn new(items: &BTreeMap<u32, ItemText>) -> Edits {
        let next = (items.iter())
            .map(|(n, t)| (*n, t.records.iter().map(|(k, _)| *k).max().unwrap_or(0) + 1))
            .collect();
        Edits {
            by_item: BTreeMap::new(),
            seen: BTreeMap::new(),
            next,
        }
    }

    /// The existing records no full-table row named.
    fn untouched(&self, items: &BTreeMap<u32, ItemText>) -> Vec<String> {
        let mut out = Vec::new();
        for (item, t) in items {
            for (n, _) in &t.records {
                if !self.seen.contains_key(&(*item, *n)) {
                    out.push(crate::names::RecordId::new(*item, *n).to_string());
                }
            }
        }
        out
    }

    /// Takes one row into the edits.
    fn apply(&mut self, r: &SheetRow, ctx: &RowCtx, errors: &mut Vec<Diagnostic>, plan: &mut Plan) {
        let Some((item, number, delete)) = self.target(r, ctx, errors, plan) else {
            return;
        };
        let label = crate::names::RecordId::new(item, number).to_string();
        let old = (ctx.items.get(&item)).and_then(|t| t.records.iter().find(|(n, _)| *n == number));
        if delete {
            match old {
                Some((_, e)) => {
                    let title = e.row.get(Col::Title).to_string();
                    plan.removed.push((label, title, r.at.clone()));
                    self.put(item, number, Change::Remove);
                }
                None => errors.push(row_error(
                    ctx.shown,
                    format!("{}：要删除的材料 {label} 不存在", r.place(Col::Delete)),
                    "检查件号；不存在的材料不用删除。",
                )),
            }
            return;
        }
        // A full table's row is the whole record; a unit sheet's row only the columns it has.
        let mut row = match old {
            Some((_, e)) if !r.full => e.row.clone(),
            _ => Row::default(),
        };
        for &(c, _) in &r.columns {
            if c != Col::Delete {
                row.set(c, r.row.get(c));
            }
        }
        row.set(Col::Item, item.to_string());
        row.set(Col::Number, number.to_string());
        match old {
            Some((_, e)) => {
                let changed: Vec<&'static str> =
                    row.changed(&e.row).into_iter().map(Col::name).collect();
                if changed.is_empty() {
                    plan.unchanged += 1;
                    return;
                }
                plan.changed.push((label, changed, r.at.clone()));
            }
            None => plan
                .added
                .push((label, row.get(Col::Title).to_string(), r.at.clone())),
        }
        self.put(item, number, Change::Put(row, r.clone()));
    }

    /// The record a row is about: (item, 件号, whether to delete it). A new record gets the
    /// item's next 件号; a row that repeats an existing record, or names a 件号 another row
    /// named, gives `None` (noted in `plan` or `errors`).
    fn target(
        &mut self,
        r: &SheetRow,
        ctx: &RowCtx,
        errors: &mut Vec<Diagnostic>,
        plan: &mut Plan,
    ) -> Option<(u32, u32, bool)> {
        let err = |msg: String, hint: &str| row_error(ctx.shown, msg, hint);
        let Ok(item) = r.row.get(Col::Item).parse::<u32>() else {
            errors.push(err(
                format!("{}：没有写指标", r.place(Col::Item)),
                "写上这件材料属于哪项指标（1–21 的编号）。",
            ));
            return None;
        };
        if !ctx.catalog.contains(&item) {
            errors.push(err(
                format!("{}：没有指标{item}", r.place(Col::Item)),
                "指标是任务分解表里的编号。",
            ));
            return None;
        }
        let delete = matches!(r.row.get(Col::Delete), "是" | "删除" | "删");
        let number = match r.row.get(Col::Number).parse::<u32>() {
            Ok(n) => n,
            Err(_) if delete => {
                errors.push(err(
                    format!("{}：要删除的材料没有写件号", r.place(Col::Number)),
                    "删除材料要写明它的件号。",
                ));
                return None;
            }
            Err(_) => {
                if let Some(n) = same_record(ctx.items.get(&item), &r.row) {
                    let label = crate::names::RecordId::new(item, n).to_string();
                    plan.already.push((label, r.at.clone()));
                    self.seen.insert((item, n), r.at.clone());
                    return None;
                }
                let next = self.next.entry(item).or_insert(1);
                *next += 1;
                *next - 1
            }
        };
        if let Some(first) = self.seen.get(&(item, number)) {
            let label = crate::names::RecordId::new(item, number);
            errors.push(err(
                format!(
                    "{}：件号 {label} 在{}已经有了",
                    r.place(Col::Number),
                    first.describe(None)
                ),
                "一个件号只能对应一行。新材料的件号留空，导入时自动编号。",
            ));
            return None;
        }
        self.seen.insert((item, number), r.at.clone());
        Some((item, number, delete))
    }

    fn put(&mut self, item: u32, number: u32, change: Change) {
        self.by_item.entry(item).or_default().insert(number, change);
    }
}

/// What every row is checked against.
struct RowCtx<'a> {
    /// The items of the task table.
    catalog: &'a BTreeSet<u32>,
    /// The item files as they are.
    items: &'a BTreeMap<u32, ItemText>,
    /// How messages name the workbook.
    shown: &'a str,
}

/// An error in a row.
fn row_error(shown: &str, msg: String, hint: &str) -> Diagnostic {
    Diagnostic::error(msg)
        .code("import-bad-row")
        .at(Place::file(shown))
        .hint(hint.to_string())
}

/// The existing record a new row repeats (same 题名, 日期 and 文件), if any.
fn same_record(existing: Option<&ItemText>, row: &Row) -> Option<u32> {
    let key = |r: &Row| {
        (
            r.get(Col::Title).to_string(),
            r.get(Col::Date).to_string(),
            r.get(Col::Files).to_string(),
        )
    };
    existing?
        .records
        .iter()
        .find(|(_, e)| key(&e.row) == key(row))
        .map(|(n, _)| *n)
}

/// Lines of generated files → the row and column they came from.
type LineMap = BTreeMap<(String, usize), (SheetRow, Col)>;

/// The new text of an item file: the text up to `材料:` as it was, each record kept, replaced,
/// removed or added (new ones at the end, by 件号).
fn write_item(
    item: u32,
    old: Option<&ItemText>,
    changes: &BTreeMap<u32, Change>,
    rel: &str,
    lines: &mut LineMap,
) -> String {
    let (head, blocks, tail, indent) = match old {
        Some(t) => split_records(t),
        None => (
            format!("指标: {item}\n材料:\n"),
            Vec::new(),
            String::new(),
            2,
        ),
    };
    let mut out = head;
    let mut emit = |out: &mut String, row: &Row, from: &SheetRow| {
        let first = out.lines().count() + 1;
        for (k, (line, col)) in record_yaml(row, indent).into_iter().enumerate() {
            out.push_str(&line);
            out.push('\n');
            lines.insert((rel.to_string(), first + k), (from.clone(), col));
        }
    };
    for (number, block) in &blocks {
        match changes.get(number) {
            None => out.push_str(block),
            Some(Change::Remove) => {}
            Some(Change::Put(row, from)) => emit(&mut out, row, from),
        }
    }
    for (number, change) in changes {
        if blocks.iter().any(|(n, _)| n == number) {
            continue;
        }
        if let Change::Put(row, from) = change {
            emit(&mut out, row, from);
        }
    }
    out.push_str(&tail);
    out
}

/// An item file cut into: the text before its first record (ending with `材料:`), each
/// record's text by 件号, the text after the records, and the indentation of the records'
/// dashes.
fn split_records(t: &ItemText) -> (String, Vec<(u32, String)>, String, usize) {
    let lines: Vec<&str> = t.text.split_inclusive('\n').collect();
    let key_line = lines
        .iter()
        .position(|l| l.starts_with("材料") && l["材料".len()..].trim_start().starts_with(':'));
    let mut starts: Vec<(u32, usize)> = (t.records.iter())
        .map(|(n, e)| (*n, e.line.saturating_sub(1)))
        .collect();
    starts.sort_by_key(|s| s.1);
    let Some(key) = key_line else {
        let mut head = t.text.clone();
        if !head.ends_with('\n') && !head.is_empty() {
            head.push('\n');
        }
        head.push_str("材料:\n");
        return (head, Vec::new(), String::new(), 2);
    };
    let indent = starts
        .first()
        .and_then(|(_, l)| lines.get(*l))
        .map_or(2, |l| l.len() - l.trim_start().len());
    // The records end at the first line back at the left margin that is not a comment or a
    // dash.
    let first_record = starts.first().map_or(key + 1, |s| s.1);
    let end = (first_record..lines.len())
        .find(|&i| {
            let l = lines[i];
            !(l.trim().is_empty() || l.starts_with(' ') || l.starts_with('#') || l.starts_with('-'))
        })
        .unwrap_or(lines.len());
    let mut head: String = lines[..key].concat();
    head.push_str("材料:\n");
    head.push_str(&lines[key + 1..first_record.max(key + 1)].concat());
    let mut blocks = Vec::new();
    for (i, (n, s)) in starts.iter().enumerate() {
        let e = starts.get(i + 1).map_or(end, |x| x.1);
        blocks.push((*n, lines[*s..e].concat()));
    }
    (head, blocks, lines[end..].concat(), indent)
}

/// Whether a text can be written as a plain YAML scalar and read back as the same string.
fn plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let lower = text.to_ascii_lowercase();
    text.trim() == text
        && !text.chars().any(char::is_control)
        && !"-?:,[]{}#&*!|>'\"%@`~+.".contains(first)
        && !first.is_ascii_digit()
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(&lower.as_str())
}

/// A scalar, plain when that reads back the same, else double-quoted.
fn scalar(text: &str) -> String {
    if plain(text) {
        text.to_string()
    } else {
        crate::yaml::quoted(text)
    }
}

/// A scalar inside a flow sequence or mapping (`,` `[]` `{}` need quotes there).
fn flow_scalar(text: &str) -> String {
    if plain(text) && !text.contains([',', '[', ']', '{', '}']) {
        text.to_string()
    } else {
        crate::yaml::quoted(text)
    }
}

/// The parts of a list cell.
pub fn list_parts(text: &str) -> Vec<String> {
    text.split(['、', '，', ',', '；', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A record as YAML lines, each with the column it comes from. `indent` is the dash's.
fn record_yaml(row: &Row, indent: usize) -> Vec<(String, Col)> {
    let dash = " ".repeat(indent);
    let key = " ".repeat(indent + 2);
    let mut out: Vec<(String, Col)> = Vec::new();
    let mut first = true;
    let mut push = |out: &mut Vec<(String, Col)>, text: String, c: Col| {
        let lead = if first {
            format!("{dash}- ")
        } else {
            key.clone()
        };
        first = false;
        out.push((format!("{lead}{text}"), c));
    };
    for c in COLUMNS {
        let v = row.get(c);
        if v.is_empty() || matches!(c, Col::Item | Col::Delete | Col::Pages | Col::PackageOnly) {
            continue;
        }
        match c {
            Col::Number | Col::Bonus | Col::Date => push(&mut out, format!("{}: {v}", c.name()), c),
            Col::Units => {
                let parts = list_parts(v);
                let text = if parts.len() == 1 {
                    scalar(&parts[0])
                } else {
                    let p: Vec<String> = parts.iter().map(|p| flow_scalar(p)).collect();
                    format!("[{}]", p.join(", "))
                };
                push(&mut out, format!("{}: {text}", c.name()), c);
            }
            Col::Criteria | Col::Tasks => {
                let p: Vec<String> = (list_parts(v).iter())
                    .map(|p| match p.parse::<u32>() {
                        Ok(n) => n.to_string(),
                        Err(_) => flow_scalar(p),
                    })
                    .collect();
                push(&mut out, format!("{}: [{}]", c.name(), p.join(", ")), c);
            }
            Col::Files => files_yaml(row, &mut out, &key, &mut push),
            Col::Measures => {
                push(&mut out, "实测:".to_string(), c);
                for line in v.lines().filter(|l| !l.trim().is_empty()) {
                    out.push((format!("{key}  - {}", line.trim()), c));
                }
            }
            _ => push(&mut out, format!("{}: {}", c.name(), scalar(v)), c),
        }
    }
    out
}

/// 文件 with 页码 and 仅入包 lined up: one bare path, or a list of paths and mappings.
fn files_yaml(
    row: &Row,
    out: &mut Vec<(String, Col)>,
    key: &str,
    push: &mut impl FnMut(&mut Vec<(String, Col)>, String, Col),
) {
    let paths: Vec<&str> = row
        .get(Col::Files)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let pages: Vec<&str> = row.get(Col::Pages).lines().map(str::trim).collect();
    let only: Vec<&str> = row.get(Col::PackageOnly).lines().map(str::trim).collect();
    let entry = |i: usize, p: &str| {
        let pg = pages.get(i).copied().unwrap_or("");
        let yes = matches!(only.get(i).copied().unwrap_or(""), "是" | "true");
        if pg.is_empty() && !yes {
            return flow_scalar(p);
        }
        let mut parts = vec![format!("路径: {}", flow_scalar(p))];
        if !pg.is_empty() {
            parts.push(format!("页码: {}", crate::yaml::quoted(pg)));
        }
        if yes {
            parts.push("仅入包: 是".to_string());
        }
        format!("{{{}}}", parts.join(", "))
    };
    if paths.len() == 1 && pages.iter().all(|p| p.is_empty()) && only.iter().all(|o| o.is_empty()) {
        push(out, format!("文件: {}", scalar(paths[0])), Col::Files);
        return;
    }
    push(out, "文件:".to_string(), Col::Files);
    for (i, p) in paths.iter().enumerate() {
        out.push((format!("{key}  - {}", entry(i, p)), Col::Files));
    }
}

/// Loads the dossier with the new texts and checks it; an error in a generated line is moved
/// to its row and column.
fn validate_result(
    root: &Path,
    files: &Overlay,
    lines: &LineMap,
    shown: &str,
    plan: &mut Plan,
) -> anyhow::Result<()> {
    let checked = crate::validate::validate(crate::load::load_with(root, files)?);
    for d in checked.report.diagnostics() {
        let from = d.place.as_ref().and_then(|p| {
            let line = p.pos?.line;
            lines.get(&(p.file.clone(), line))
        });
        match from {
            Some((row, col)) => {
                let mut moved = d.clone();
                moved.message = format!("{}：{}", row.place(*col), d.message);
                moved.place = Some(Place::file(shown));
                if moved.is_error() {
                    plan.row_errors += 1;
                }
                plan.report.push(moved);
            }
            None => plan.report.push(d.clone()),
        }
    }
    for (rel, text) in files {
        plan.report.add_source(rel.clone(), text.as_str().into());
    }
    Ok(())
}

/// Writes the new item files (each through a temporary file and a rename).
pub fn apply(root: &Path, plan: &Plan) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (rel, text) in &plan.files {
        let path = root.join(rel);
        crate::output::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("无法写入 {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ItemFile;

    /// An item file as `item_texts` reads it.
    fn item_text(text: &str) -> ItemText {
        let f: ItemFile = crate::yaml::parse("items/05.yaml", text).unwrap();
        let records = (f.records.iter().flatten())
            .map(|r| {
                let n = r.value.number.as_ref().unwrap().value;
                let row = crate::sheets::row_of(5, &r.value);
                let line = crate::yaml::pos_of(r).line;
                (n, Existing { row, line })
            })
            .collect();
        ItemText {
            rel: "items/05.yaml".into(),
            text: text.into(),
            records,
        }
    }

    fn sheet_row(row: Row) -> SheetRow {
        SheetRow {
            at: At {
                sheet: RECORDS_SHEET.into(),
                row: 2,
            },
            row,
            columns: Vec::new(),
            full: true,
        }
    }

    #[test]
    fn rewriting_an_item_keeps_comments_unchanged_records_and_the_dash_indentation() {
        let text = "# 指标5 说明\n指标: 5\n材料:\n- 件号: 1\n  题名: 甲\n  # 这件要补盖章\n  日期: 2021-01-02\n- 件号: 2\n  题名: 乙   # 原稿\n";
        let old = item_text(text);
        let mut changed = old.records[0].1.row.clone();
        changed.set(Col::Title, "甲（修订）");
        let mut new = Row::default();
        new.set(Col::Item, "5");
        new.set(Col::Number, "3");
        new.set(Col::Title, "丙: 含冒号");
        new.set(Col::Units, "市场监管局、财政局");
        new.set(Col::Files, "evidence/05/a.pdf\nevidence/05/b.pdf");
        new.set(Col::Pages, "\n2-3");
        let changes = BTreeMap::from([
            (1, Change::Put(changed.clone(), sheet_row(changed))),
            (3, Change::Put(new.clone(), sheet_row(new))),
        ]);
        let mut lines = LineMap::new();
        let out = write_item(5, Some(&old), &changes, "items/05.yaml", &mut lines);
        assert!(
            out.starts_with("# 指标5 说明\n指标: 5\n材料:\n- 件号: 1\n"),
            "{out}"
        );
        assert!(
            out.contains("- 件号: 2\n  题名: 乙   # 原稿\n"),
            "unchanged record kept: {out}"
        );
        assert!(
            !out.contains("这件要补盖章"),
            "the changed record is rewritten: {out}"
        );
        let parsed: ItemFile = crate::yaml::parse("items/05.yaml", &out).unwrap();
        let rows: Vec<Row> = (parsed.records.iter().flatten())
            .map(|r| crate::sheets::row_of(5, &r.value))
            .collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].get(Col::Title), "甲（修订）");
        assert_eq!(rows[2].get(Col::Title), "丙: 含冒号");
        assert_eq!(rows[2].get(Col::Units), "市场监管局、财政局");
        assert_eq!(rows[2].get(Col::Pages), "\n2-3");
        // Every generated line points back at its row and column.
        let title_line = out.lines().position(|l| l.contains("丙")).unwrap() + 1;
        let (from, col) = &lines[&("items/05.yaml".to_string(), title_line)];
        assert_eq!((from.at.row, *col), (2, Col::Title));
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(5), "F");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn dates_typed_as_text() {
        for t in ["2021-05-20", "2021/5/20", "2021.5.20", "2021年5月20日"] {
            assert_eq!(parse_date(t).unwrap().to_string(), "2021-05-20", "{t}");
        }
        assert!(parse_date("2021-13-01").is_err());
        assert!(parse_date("五月").is_err());
        assert_eq!(serial_date(44336.0).to_string(), "2021-05-20");
    }

    #[test]
    fn scalars_read_back_as_the_same_text() {
        for t in [
            "关于印发《方案》的通知",
            "12",
            "yes",
            "a: b",
            "[重要]",
            "#1号",
            " 前导空格",
            "2021-05-20",
            "多行\n文字",
            "民政办〔2021〕12号",
            "-",
        ] {
            let yaml = format!("k: {}\n", scalar(t));
            let v: BTreeMap<String, String> =
                crate::yaml::parse("t.yaml", &yaml).unwrap_or_else(|_| panic!("{yaml}"));
            assert_eq!(v["k"], t, "{yaml}");
        }
    }
}
