//! The embedded catalog against the seed document itself: this test parses the task table
//! (附件2) of `seeds/minquan-quality-county-plan.txt` on its own and compares every item's
//! title, its criteria (count and text), its tasks (count and numbers, row by row), its units
//! cell and its methods cell with `seeds/catalog.yaml`. Nothing here is copied by hand from
//! the catalog; a transcription mistake on either side fails.

use dossier::catalog::Catalog;

/// One row of the task table: 项目, 指标内容, 考核评分内容, 工作任务, 责任单位, 验收方式.
struct Row {
    cells: Vec<String>,
}

/// The table's rows. In the text export every cell starts with a tab at the start of a line;
/// lines without a tab continue the cell above. `[bookmark: …]` artefacts are removed.
fn table_rows(seed: &str) -> Vec<Row> {
    let start = seed
        .lines()
        .position(|l| l.trim() == "附件2")
        .expect("the seed has 附件2");
    let mut cells: Vec<Vec<String>> = Vec::new();
    for line in seed.lines().skip(start + 2) {
        let line = strip_bookmarks(line);
        if let Some(rest) = line.strip_prefix('\t') {
            cells.push(vec![rest.to_string()]);
        } else if let Some(cell) = cells.last_mut() {
            cell.push(line);
        }
    }
    // The last row's empty 验收方式 cell is not in the export.
    while !cells.len().is_multiple_of(6) {
        cells.push(vec![String::new()]);
    }
    cells
        .chunks(6)
        .map(|c| Row {
            cells: c.iter().map(|lines| lines.join("\n")).collect(),
        })
        .filter(|r| compact(&r.cells[1]) != "指标内容")
        .collect()
}

fn strip_bookmarks(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("[bookmark:") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once(']').map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out
}

/// Text without any whitespace (the export wraps and indents cells at random).
fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The tasks of a 工作任务 cell: (number, text). A number starts a task when it stands at the
/// start of the cell or after whitespace and is followed by a dot and a non-digit ("3.15" in
/// the middle of a sentence is not a task). A cell without numbers is one unnumbered task.
fn tasks(cell: &str) -> Vec<(Option<u32>, String)> {
    let chars: Vec<char> = cell.chars().collect();
    let mut starts = Vec::new();
    for i in 0..chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && !chars[i - 1].is_whitespace()) {
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        if j + 1 < chars.len() && chars[j] == '.' && !chars[j + 1].is_ascii_digit() {
            let n: u32 = chars[i..j].iter().collect::<String>().parse().unwrap();
            starts.push((i, j + 1, n));
        }
    }
    if starts.is_empty() {
        let text = compact(cell);
        return if text.is_empty() {
            Vec::new()
        } else {
            vec![(None, text)]
        };
    }
    let mut out = Vec::new();
    for (k, &(_, body, n)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(chars.len(), |s| s.0);
        out.push((
            Some(n),
            compact(&chars[body..end].iter().collect::<String>()),
        ));
    }
    out
}

struct SeedItem {
    number: u32,
    title: String,
    methods: String,
    rows: Vec<Row>,
}

fn seed_items() -> Vec<SeedItem> {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/seeds/minquan-quality-county-plan.txt"
    ))
    .expect("seed readable");
    let mut items: Vec<SeedItem> = Vec::new();
    for row in table_rows(&seed) {
        let indicator = compact(&row.cells[1]);
        if !indicator.is_empty() {
            let (num, title) = indicator
                .split_once('.')
                .expect("指标内容 starts with its number");
            items.push(SeedItem {
                number: num.parse().expect("item number"),
                title: title.to_string(),
                methods: compact(&row.cells[5]),
                rows: Vec::new(),
            });
        }
        items
            .last_mut()
            .expect("a row belongs to an item")
            .rows
            .push(row);
    }
    items
}

#[test]
fn the_seed_has_21_items_and_the_catalog_has_the_same_titles() {
    let seed = seed_items();
    let catalog = Catalog::get();
    assert_eq!(seed.len(), 21);
    let seed_titles: Vec<(u32, String)> =
        seed.iter().map(|i| (i.number, i.title.clone())).collect();
    let cat_titles: Vec<(u32, String)> = catalog
        .items
        .iter()
        .map(|i| (i.number, compact(&i.title)))
        .collect();
    assert_eq!(cat_titles, seed_titles);
}

#[test]
fn criteria_and_tasks_per_item_match_the_seed() {
    let catalog = Catalog::get();
    for s in seed_items() {
        let c = catalog.item(s.number).unwrap();
        assert_eq!(
            c.criteria.len(),
            s.rows.len(),
            "item {}: number of criteria",
            s.number
        );
        let seed_tasks: usize = s.rows.iter().map(|r| tasks(&r.cells[3]).len()).sum();
        assert_eq!(
            c.tasks().count(),
            seed_tasks,
            "item {}: number of tasks",
            s.number
        );
        assert_eq!(
            compact(&c.methods_text),
            s.methods,
            "item {}: 验收方式",
            s.number
        );
        for (k, (row, crit)) in s.rows.iter().zip(&c.criteria).enumerate() {
            let at = format!("item {} criterion {}", s.number, k + 1);
            assert_eq!(compact(&crit.text), compact(&row.cells[2]), "{at}: text");
            let in_seed = tasks(&row.cells[3]);
            // A row whose task and unit cells are empty is merged with the row above.
            assert_eq!(
                crit.merged_with_previous,
                in_seed.is_empty() && compact(&row.cells[4]).is_empty(),
                "{at}: merged"
            );
            assert_eq!(
                compact(&crit.units_text),
                compact(&row.cells[4]),
                "{at}: 责任单位"
            );
            let numbers: Vec<(Option<u32>, String)> = crit
                .tasks
                .iter()
                .map(|t| {
                    (
                        if t.unnumbered { None } else { Some(t.number) },
                        compact(&t.text),
                    )
                })
                .collect();
            assert_eq!(numbers, in_seed, "{at}: tasks");
        }
    }
}

#[test]
fn the_seed_parser_sees_the_quirks() {
    // The parser must not "fix" the table: the gaps and the merged row are in the seed.
    let items = seed_items();
    let numbers = |n: u32| -> Vec<u32> {
        items[n as usize - 1]
            .rows
            .iter()
            .flat_map(|r| tasks(&r.cells[3]))
            .filter_map(|t| t.0)
            .collect()
    };
    assert!(!numbers(14).contains(&13) && numbers(14).contains(&14));
    assert!(!numbers(15).contains(&8) && numbers(15).contains(&9));
    assert!(tasks(&items[10].rows[1].cells[3]).is_empty());
    // "3.15" inside a sentence is not a task number.
    assert_eq!(tasks("3.制定方案积极开展3.15活动日.公众认知度").len(), 1);
}
