//! Diagnostics: the problems found in a user's dossier, each with a place, a message and a hint,
//! and their rendering as Chinese text with a source snippet.
//!
//! Every stage that reads user data (YAML, evidence files, templates, Typst) reports through
//! this one type, so the user sees one format whatever went wrong. Errors of the program's own
//! work (a folder that cannot be read, an output that cannot be written) are `anyhow` errors
//! instead and never reach this module.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use unicode_width::UnicodeWidthChar;

/// How bad a problem is: errors stop a build, warnings are printed and the build goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The dossier cannot be built as it is.
    Error,
    /// The dossier builds, but something is probably missing or wrong.
    Warning,
}

/// A position in a text file: 1-based line and column (in characters), and the length in
/// characters of the text to underline (0 for a point).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, counted from 1.
    pub line: usize,
    /// Column in characters, counted from 1.
    pub col: usize,
    /// Number of characters to underline on that line.
    pub len: usize,
}

impl Pos {
    /// A position at `line`:`col` underlining `len` characters.
    pub fn new(line: usize, col: usize, len: usize) -> Self {
        Pos {
            line: line.max(1),
            col: col.max(1),
            len,
        }
    }
}

/// Where a problem is: a file (relative to the dossier root) and, for text files, a position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    /// Path relative to the dossier root, with `/` separators.
    pub file: String,
    /// Position inside the file, when the file is text and the position is known.
    pub pos: Option<Pos>,
}

impl Place {
    /// A whole file.
    pub fn file(file: impl Into<String>) -> Self {
        Place {
            file: file.into(),
            pos: None,
        }
    }

    /// A position inside a file.
    pub fn at(file: impl Into<String>, pos: Pos) -> Self {
        Place {
            file: file.into(),
            pos: Some(pos),
        }
    }
}

/// One problem in the user's data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where it is, if it has a place.
    pub place: Option<Place>,
    /// How to fix it.
    pub hint: Option<String>,
    /// Further places that explain the problem (e.g. the first of two duplicates).
    pub related: Vec<(Place, String)>,
    /// A stable name of the kind of problem, for programs reading `--format json`
    /// (e.g. "unit-unknown"). Every place that makes a diagnostic gives one; the end-to-end
    /// tests fail on a diagnostic without it.
    pub code: Option<&'static str>,
}

impl Diagnostic {
    /// An error with a message and no place yet.
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            place: None,
            hint: None,
            related: Vec::new(),
            code: None,
        }
    }

    /// A warning with a message and no place yet.
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Sets the place.
    pub fn at(mut self, place: Place) -> Self {
        self.place = Some(place);
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the code.
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// Adds a related place with a note.
    pub fn related(mut self, place: Place, note: impl Into<String>) -> Self {
        self.related.push((place, note.into()));
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of one run, with the text of the files they point into, so they can be
/// rendered with snippets.
#[derive(Debug, Default, Clone)]
pub struct Report {
    diagnostics: Vec<Diagnostic>,
    sources: BTreeMap<String, Arc<str>>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Report::default()
    }

    /// Remembers the text of a file so diagnostics in it can show a snippet.
    pub fn add_source(&mut self, file: impl Into<String>, text: Arc<str>) {
        self.sources.insert(file.into(), text);
    }

    /// The text of a file, if it was added.
    pub fn source(&self, file: &str) -> Option<&Arc<str>> {
        self.sources.get(file)
    }

    /// Adds a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The same report with only the errors (its file texts kept).
    pub fn errors_only(&self) -> Report {
        let mut r = self.clone();
        r.diagnostics.retain(Diagnostic::is_error);
        r
    }

    /// All diagnostics, in the order [`Report::sort`] left them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    /// True when there is at least one error.
    pub fn has_errors(&self) -> bool {
        self.errors() > 0
    }

    /// Orders diagnostics by file and position, errors before warnings at the same place,
    /// keeping the order they were found in otherwise (the checks run in a fixed order), and
    /// drops exact duplicates.
    pub fn sort(&mut self) {
        self.diagnostics
            .sort_by(|a, b| (&a.place, a.severity).cmp(&(&b.place, b.severity)));
        let mut seen = std::collections::HashSet::new();
        self.diagnostics.retain(|d| seen.insert(d.clone()));
    }

    /// Renders every diagnostic. `root` is how the dossier root is shown before each file
    /// name (usually as the user typed it), so the printed path can be pasted into an editor.
    pub fn render(&self, root: &Path, color: bool) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            render_one(&mut out, d, root, &self.sources, color);
        }
        out
    }
}

/// Shows `file` under `root` the way a user would type it.
pub fn display_path(root: &Path, file: &str) -> String {
    let joined: PathBuf = if root.as_os_str().is_empty() || root == Path::new(".") {
        PathBuf::from(file)
    } else {
        root.join(file)
    };
    joined.to_string_lossy().replace('\\', "/")
}

/// Joins items as a Chinese enumeration: `甲、乙、丙`.
pub fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut s = String::new();
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            s.push('、');
        }
        let _ = write!(s, "{x}");
    }
    s
}

/// Like [`list`], but names at most `max` items and then counts them all: `甲、乙 等 7 件`.
pub fn list_first<T: std::fmt::Display>(
    items: impl IntoIterator<Item = T>,
    max: usize,
    unit: &str,
) -> String {
    let mut n = 0;
    let mut shown = Vec::new();
    for x in items {
        if n < max {
            shown.push(x);
        }
        n += 1;
    }
    let mut s = list(shown);
    if n > max {
        let _ = write!(s, " 等 {n} {unit}");
    }
    s
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn render_one(
    out: &mut String,
    d: &Diagnostic,
    root: &Path,
    sources: &BTreeMap<String, Arc<str>>,
    color: bool,
) {
    let paint = Paint { on: color };
    let (label, code) = match d.severity {
        Severity::Error => ("错误", "1;31"),
        Severity::Warning => ("警告", "1;33"),
    };
    let _ = writeln!(
        out,
        "{}{}",
        paint.wrap(code, &format!("{label}：")),
        paint.wrap("1", &d.message)
    );
    if let Some(place) = &d.place {
        render_place(out, place, root, sources, &paint, code, None);
    }
    for (place, note) in &d.related {
        render_place(out, place, root, sources, &paint, "1;36", Some(note));
    }
    if let Some(hint) = &d.hint {
        let mut lines = hint.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(out, "   = {}{first}", paint.wrap("1;36", "提示："));
        }
        for line in lines {
            let _ = writeln!(out, "         {line}");
        }
    }
    out.push('\n');
}

fn render_place(
    out: &mut String,
    place: &Place,
    root: &Path,
    sources: &BTreeMap<String, Arc<str>>,
    paint: &Paint,
    code: &str,
    note: Option<&str>,
) {
    let path = display_path(root, &place.file);
    let arrow = paint.wrap("1;34", "-->");
    let Some(pos) = place.pos else {
        let _ = match note {
            Some(note) => writeln!(out, "  {arrow} {path}（{note}）"),
            None => writeln!(out, "  {arrow} {path}"),
        };
        return;
    };
    let _ = writeln!(out, "  {arrow} {path}:{}:{}", pos.line, pos.col);
    let Some(line) = sources
        .get(&place.file)
        .and_then(|text| text.lines().nth(pos.line - 1))
    else {
        if let Some(note) = note {
            let _ = writeln!(out, "      {note}");
        }
        return;
    };
    let line = line.trim_end_matches('\r');
    let gutter = pos.line.to_string();
    let pad = " ".repeat(gutter.len());
    let bar = paint.wrap("1;34", "|");
    let shown: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let _ = writeln!(out, "  {pad} {bar}");
    let _ = writeln!(out, "  {} {bar} {shown}", paint.wrap("1;34", &gutter));
    // Underline in display columns: CJK characters are two columns wide.
    let before: usize = line.chars().take(pos.col - 1).map(char_width).sum();
    let under: usize = line
        .chars()
        .skip(pos.col - 1)
        .take(pos.len.max(1))
        .map(char_width)
        .sum();
    let marks = "^".repeat(under.max(1));
    let tail = note.map(|n| format!(" {n}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "  {pad} {bar} {}{}",
        " ".repeat(before),
        paint.wrap(code, &format!("{marks}{tail}"))
    );
}

fn char_width(c: char) -> usize {
    if c == '\t' { 1 } else { c.width().unwrap_or(0) }
}

/// Every place `needle` is written in `text`, outside YAML comment lines: a position for a
/// problem found in the data (a character no font has, a name from the sample) that the parser
/// kept no position for.
pub fn occurrences(text: &str, needle: &str) -> Vec<Pos> {
    let len = needle.chars().count();
    let mut out = Vec::new();
    if needle.is_empty() {
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        for (byte, _) in line.match_indices(needle) {
            out.push(Pos::new(i + 1, line[..byte].chars().count() + 1, len));
        }
    }
    out
}

/// Converts a byte offset in `text` into a 1-based line and character column. Offsets past
/// the end or inside a character are clamped, never panic.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrences_skip_comment_lines_and_count_columns_in_characters() {
        let text = "# 😀 在注释里\n题名: 张😀 与😀\n负责人: 金守旺\n";
        let at: Vec<(usize, usize)> = occurrences(text, "😀")
            .iter()
            .map(|p| (p.line, p.col))
            .collect();
        assert_eq!(at, vec![(2, 6), (2, 9)]);
        assert_eq!(occurrences(text, "金守旺")[0], Pos::new(3, 6, 3));
    }

    #[test]
    fn lists_read_as_chinese_enumerations() {
        assert_eq!(list([1, 2, 3]), "1、2、3");
        assert_eq!(list(Vec::<u8>::new()), "");
        assert_eq!(list_first(["甲", "乙"], 5, "件"), "甲、乙");
        assert_eq!(
            list_first(["甲", "乙", "丙", "丁"], 2, "件"),
            "甲、乙 等 4 件"
        );
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "指标: 5\n材料:\n  - 题名: 质量月\n";
        let off = text.find("质量月").unwrap();
        assert_eq!(line_col(text, off), (3, 9));
        assert_eq!(line_col(text, 0), (1, 1));
        // Clamped, not a panic: past the end and inside a multi-byte character.
        assert_eq!(line_col(text, 10_000).0, 4);
        assert_eq!(line_col(text, 1), (1, 1));
    }

    #[test]
    fn render_underlines_wide_characters_in_display_columns() {
        let mut report = Report::new();
        report.add_source("items/05.yaml", Arc::from("材料:\n  - 题目: 质量月\n"));
        report.push(
            Diagnostic::error("未知的字段“题目”")
                .at(Place::at("items/05.yaml", Pos::new(2, 5, 2)))
                .hint("应为“题名”"),
        );
        let text = report.render(Path::new("dossier"), false);
        assert!(text.contains("错误：未知的字段“题目”"), "{text}");
        assert!(text.contains("--> dossier/items/05.yaml:2:5"), "{text}");
        // "  - " is four columns, "题目" four columns wide.
        assert!(text.contains("  |     ^^^^\n"), "{text}");
        assert!(text.contains("= 提示：应为“题名”"), "{text}");
    }

    #[test]
    fn sort_orders_by_place_and_removes_duplicates() {
        let mut report = Report::new();
        let w = Diagnostic::warning("b").at(Place::at("a.yaml", Pos::new(3, 1, 0)));
        let e = Diagnostic::error("a").at(Place::at("a.yaml", Pos::new(1, 1, 0)));
        report.push(w.clone());
        report.push(e.clone());
        report.push(w.clone());
        report.sort();
        assert_eq!(report.diagnostics(), &[e, w]);
        assert_eq!((report.errors(), report.warnings()), (1, 1));
    }
}
