//! Targeted hints for the YAML mistakes Chinese clerks make, found by reading the raw lines of
//! a file: a full-width colon or no space after a key, full-width spaces or tabs in the
//! indentation, and text values that start with a character YAML reads as syntax (`#` starts a
//! comment, `[`/`{` a list or map, `*`/`&` an alias or anchor, `!` a tag, `|`/`>` a block).
//!
//! The parser's own messages for these are either vague ("did not find expected key") or
//! absent (`题名: #1号文件` parses, as an empty title; `题名: &甲 文字` drops "&甲"). The lint
//! says what happened and how to write it, at the line and column of the offending character.
//! Some findings only matter when the parser failed (a tab in the indentation is legal inside
//! some constructs); [`Finding::only_if_parse_failed`] marks them.

use crate::diag::{Diagnostic, Place, Pos};

/// Keys whose value is one piece of text: a list, map, alias, anchor or tag there is always a
/// mistake.
const TEXT_KEYS: &[&str] = &[
    "标题",
    "县",
    "申报单位",
    "编制单位",
    "版本",
    "输出文件名",
    "正文",
    "黑体",
    "楷体",
    "全宗号",
    "年度",
    "保管期限",
    "内容",
    "名称",
    "办公室",
    "简称",
    "负责人",
    "职务",
    "指标内容",
    "题名",
    "文号",
    "责任者",
    "备注",
    "说明",
    "指标项",
    "路径",
    "页码",
    "地点",
    "人物",
    "摄影者",
];

/// Keys whose value is a list, a map, a number, a date or yes/no.
const OTHER_KEYS: &[&str] = &[
    "日期",
    "创建期",
    "起",
    "止",
    "字体",
    "文件",
    "PDF/A",
    "文字识别",
    "归档",
    "盒号",
    "修订记录",
    "分册",
    "每册页数上限",
    "每册大小上限",
    "领导小组",
    "组长",
    "副组长",
    "单位",
    "别名",
    "单位组",
    "成员",
    "指标",
    "材料",
    "件号",
    "责任单位",
    "考核内容",
    "工作任务",
    "实测",
    "数值",
    "参照值",
    "仅入包",
    "进度",
    "截止日期",
];

/// One thing the lint found.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The diagnostic, placed at the offending character.
    pub diagnostic: Diagnostic,
    /// Reported only when the file did not parse (otherwise the construct was legal there).
    pub only_if_parse_failed: bool,
}

/// Lints the text of `file`.
pub fn lint(file: &str, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    // Lines inside a block scalar (after `key: |`) are text, not YAML: skipped until a line is
    // indented no deeper than the key.
    let mut block_indent: Option<usize> = None;
    for (i, text) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(f) = control_character(file, n, text) {
            out.push(f);
            continue;
        }
        let (indent_chars, indent_cols) = leading_blank(text);
        let rest: String = text.chars().skip(indent_chars).collect();
        if let Some(key_indent) = block_indent {
            if rest.trim().is_empty() || indent_cols > key_indent {
                continue;
            }
            block_indent = None;
        }
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let line = Line {
            file,
            n,
            lead: text.chars().take(indent_chars).collect(),
            indent_chars,
            rest: &rest,
        };
        if lint_line(&line, &mut out) == Some(Block) {
            block_indent = Some(indent_cols);
        }
    }
    out
}

/// A line of YAML that is not blank, a comment or block text.
struct Line<'a> {
    file: &'a str,
    /// Line number, from 1.
    n: usize,
    /// The blanks before its content.
    lead: String,
    /// How many characters they are.
    indent_chars: usize,
    /// The content.
    rest: &'a str,
}

impl Line<'_> {
    fn at(&self, col: usize, len: usize) -> Place {
        Place::at(self.file, Pos::new(self.n, col, len))
    }
}

/// The line opens a block scalar (`key: |`): the lines indented under it are text.
#[derive(PartialEq, Eq)]
struct Block;

/// An invisible control character on a line (copied in from a web page).
fn control_character(file: &str, n: usize, line: &str) -> Option<Finding> {
    let (col, c) = (line.chars().enumerate()).find(|(_, c)| c.is_control() && *c != '\t')?;
    Some(Finding {
        diagnostic: Diagnostic::error(format!("有一个看不见的控制字符（U+{:04X}）", u32::from(c)))
            .code("yaml-control-character")
            .at(Place::at(file, Pos::new(n, col + 1, 1)))
            .hint("这通常是从网页或别的软件复制文字时带进来的。请把这一行的文字删掉后重新输入。"),
        only_if_parse_failed: false,
    })
}

/// The findings of one line: blanks a YAML reader does not take for indentation, then the key
/// and its value.
fn lint_line(line: &Line, out: &mut Vec<Finding>) -> Option<Block> {
    // The entry after any "- " markers.
    let (mut offset, mut entry) = (line.indent_chars, line.rest);
    while let Some(after) = (entry.strip_prefix("- ")).or_else(|| entry.strip_prefix("-\u{3000}")) {
        let skipped = entry.chars().count() - after.chars().count();
        let trimmed = after.trim_start_matches([' ', '\u{3000}']);
        offset += skipped + (after.chars().count() - trimmed.chars().count());
        entry = trimmed;
    }
    let key = known_key(entry);
    if let Some(pos) = line.lead.chars().position(|c| c == '\u{3000}')
        && (key.is_some() || line.rest.starts_with('-'))
    {
        out.push(Finding {
            diagnostic: Diagnostic::error("行首有全角空格（中文输入法下打出的空格）")
                .code("yaml-fullwidth-space")
                .at(line.at(pos + 1, 1))
                .hint("YAML 只认英文空格：请切换到英文输入法，把行首的空白删掉后用空格键重新缩进（同一层级对齐）。"),
            only_if_parse_failed: false,
        });
        return None;
    }
    if let Some(pos) = line.lead.chars().position(|c| c == '\t') {
        out.push(Finding {
            diagnostic: Diagnostic::error("YAML 不能用 Tab 键缩进")
                .code("yaml-tab-indent")
                .at(line.at(pos + 1, 1))
                .hint("请把这一行行首的 Tab 换成空格（同一层级对齐即可，习惯用两个空格）。"),
            only_if_parse_failed: true,
        });
    }
    let key = key?;
    let after_key: String = entry.chars().skip(key.chars().count()).collect();
    lint_key_value(line, key, &after_key, offset + key.chars().count() + 1, out)
}

/// The colon after a known key and the value after it.
fn lint_key_value(
    line: &Line,
    key: &str,
    after_key: &str,
    colon_col: usize,
    out: &mut Vec<Finding>,
) -> Option<Block> {
    if after_key.starts_with('：') {
        out.push(Finding {
            diagnostic: Diagnostic::error(format!("“{key}”后面用了中文冒号“：”"))
                .code("yaml-fullwidth-colon")
                .at(line.at(colon_col, 1))
                .hint(format!(
                    "把中文冒号“：”改成英文冒号加空格：{key}: {}",
                    after_key.trim_start_matches('：').trim()
                )),
            only_if_parse_failed: false,
        });
        return None;
    }
    let value = after_key.strip_prefix(':')?;
    if !value.is_empty() && !value.starts_with([' ', '\t']) {
        out.push(Finding {
            diagnostic: Diagnostic::error(format!("“{key}:”后面缺一个空格"))
                .code("yaml-space-after-colon")
                .at(line.at(colon_col, 1))
                .hint(format!(
                    "YAML 要求冒号后面有一个英文空格：{key}: {}",
                    value.trim()
                )),
            only_if_parse_failed: false,
        });
        return None;
    }
    let trimmed = value.trim_start_matches([' ', '\t']);
    let value_col = colon_col + 1 + (value.chars().count() - trimmed.chars().count());
    if is_block_header(trimmed) {
        return Some(Block);
    }
    if TEXT_KEYS.contains(&key)
        && let Some(f) = text_value(key, trimmed, line.at(value_col, trimmed.chars().count()))
    {
        out.push(f);
    }
    None
}

/// A finding for a text value that starts with a YAML indicator.
fn text_value(key: &str, value: &str, place: Place) -> Option<Finding> {
    let first = value.chars().next()?;
    let quoted = format!("{key}: \"{}\"", value.replace('"', "\\\""));
    let (message, error) = match first {
        // "#1号文件" is text the clerk meant; "# 说明" is an ordinary comment (a required field
        // left empty that way gets its own error, with a hint, from the record checks).
        '#' if value[1..].starts_with([' ', '\t']) || value[1..].trim().is_empty() => return None,
        '#' => (
            format!("“{key}”的值以“#”开头，YAML 把“#”后面的文字当成注释，这个字段实际是空的"),
            true,
        ),
        '[' | '{' => (
            format!(
                "“{key}”的值以“{first}”开头，YAML 会把它当成{}而不是文字",
                if first == '[' { "列表" } else { "映射" }
            ),
            true,
        ),
        '*' => (
            format!("“{key}”的值以“*”开头，YAML 会把它当成对别处内容的引用（别名）"),
            true,
        ),
        '&' => (
            format!("“{key}”的值以“&”开头，YAML 会把“&”和紧跟的文字当成锚点名丢掉"),
            true,
        ),
        '!' => (
            format!("“{key}”的值以“!”开头，YAML 会把它当成类型标记"),
            true,
        ),
        '|' | '>' => (
            format!("“{key}”的值以“{first}”开头，YAML 会把它当成多行文字的开头"),
            true,
        ),
        '%' | '@' | '`' => (
            format!("“{key}”的值以“{first}”开头，YAML 不允许不加引号的值以它开头"),
            true,
        ),
        _ => return None,
    };
    let diagnostic = if error {
        Diagnostic::error(message).code("yaml-unquoted-value")
    } else {
        Diagnostic::warning(message).code("yaml-unquoted-value")
    };
    Some(Finding {
        diagnostic: diagnostic.at(place).hint(format!(
            "以“{first}”开头的文字要用英文双引号括起来，写成：{quoted}"
        )),
        only_if_parse_failed: false,
    })
}

/// The known key an entry starts with (followed by a colon, either width), if any.
fn known_key(entry: &str) -> Option<&'static str> {
    TEXT_KEYS
        .iter()
        .chain(OTHER_KEYS)
        .filter(|k| {
            entry
                .strip_prefix(**k)
                .is_some_and(|rest| rest.starts_with([':', '：']))
        })
        // The longest match: "日期" must not shadow "截止日期" (and vice versa).
        .max_by_key(|k| k.len())
        .copied()
}

/// Whether a value is a block scalar header (`|`, `>-`, `|2 # note`).
fn is_block_header(value: &str) -> bool {
    let mut chars = value.chars();
    if !matches!(chars.next(), Some('|' | '>')) {
        return false;
    }
    let rest: String = chars.collect();
    let head = rest.split('#').next().unwrap_or("");
    head.trim()
        .chars()
        .all(|c| c == '+' || c == '-' || c.is_ascii_digit())
        && (rest.trim().is_empty() || head.ends_with([' ', '\t']) || !rest.contains('#'))
}

/// The leading blank of a line (spaces, tabs, full-width spaces): how many characters, and how
/// many columns it indents (a full-width space counts as two, a tab as one).
fn leading_blank(line: &str) -> (usize, usize) {
    let mut chars = 0;
    let mut cols = 0;
    for c in line.chars() {
        match c {
            ' ' | '\t' => cols += 1,
            '\u{3000}' => cols += 2,
            _ => break,
        }
        chars += 1;
    }
    (chars, cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (String, (usize, usize), String, bool) {
        let found = lint("items/05.yaml", text);
        assert_eq!(found.len(), 1, "{text:?}: {found:#?}");
        let d = &found[0].diagnostic;
        let p = d.place.as_ref().unwrap().pos.unwrap();
        (
            d.message.clone(),
            (p.line, p.col),
            d.hint.clone().unwrap_or_default(),
            d.is_error(),
        )
    }

    #[test]
    fn full_width_colon_and_missing_space_after_a_key() {
        let (m, at, h, e) = one("指标: 5\n材料:\n  - 件号: 1\n    题名：关于通知\n");
        assert_eq!(m, "“题名”后面用了中文冒号“：”");
        assert_eq!(at, (4, 7));
        assert!(h.contains("题名: 关于通知"), "{h}");
        assert!(e);
        let (m, at, _, _) = one("指标:5\n");
        assert_eq!(m, "“指标:”后面缺一个空格");
        assert_eq!(at, (1, 3));
        // A list item with a full-width colon.
        let (_, at, _, _) = one("材料:\n  - 件号：1\n");
        assert_eq!(at, (2, 7));
    }

    #[test]
    fn full_width_spaces_and_tabs_in_the_indentation() {
        let (m, at, _, e) = one("指标: 5\n材料:\n  - 件号: 1\n　　题名: 关于\n");
        assert!(m.contains("全角空格"), "{m}");
        assert_eq!(at, (4, 1));
        assert!(e);
        let found = lint("a", "材料:\n  - 件号: 1\n \t题名: a\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].only_if_parse_failed);
        assert_eq!(
            found[0].diagnostic.place.as_ref().unwrap().pos.unwrap().col,
            2
        );
    }

    #[test]
    fn text_values_starting_with_yaml_syntax() {
        let (m, at, h, e) = one("题名: #1号文件\n");
        assert!(m.contains("注释"), "{m}");
        assert_eq!(at, (1, 5));
        assert!(h.contains("题名: \"#1号文件\""), "{h}");
        assert!(e, "#text without a space is an error");
        assert!(
            lint("a", "备注: # 暂无\n负责人:    # 请填写\n").is_empty(),
            "comments are comments"
        );
        for (text, word) in [
            ("题名: [重要]关于通知\n", "列表"),
            ("题名: {重要}关于\n", "映射"),
            ("题名: *号文件\n", "别名"),
            ("题名: &甲 文字\n", "锚点"),
            ("题名: !重要\n", "类型标记"),
            ("题名: |重要\n", "多行文字"),
            ("文号: @1\n", "不允许"),
        ] {
            let (m, _, h, e) = one(text);
            assert!(m.contains(word), "{text}: {m}");
            assert!(h.contains("英文双引号"), "{h}");
            assert!(e);
        }
    }

    #[test]
    fn control_characters_are_pointed_at() {
        let (m, at, _, e) = one("题名: 王\u{1}五\n");
        assert!(m.contains("U+0001"), "{m}");
        assert_eq!(at, (1, 6));
        assert!(e);
    }

    #[test]
    fn legal_yaml_is_left_alone() {
        let ok = "# 注释\n指标: 5\n指标内容: 以多种形式宣传创建活动。\n材料:\n  - 件号: 1\n    题名: \"#1号\"\n    责任单位: [市场监管局, 财政局]\n    文件: {路径: evidence/a.pdf, 页码: 2-3}\n    备注: |\n      第一行\n      题名：这是文字\n    文号: 民政〔2021〕3号  # 注释\n";
        let found = lint("items/05.yaml", ok);
        assert!(found.is_empty(), "{found:#?}");
        assert!(lint("a", "内容: >-\n  多行\n").is_empty());
    }
}
