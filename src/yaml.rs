//! Reading the dossier's YAML files: decoding, parsing with serde-saphyr (duplicate keys are
//! errors), and turning the parser's errors into Chinese diagnostics with a place and a hint.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::{Error, ExternalMessageSource, Location, Options, Spanned};

use crate::diag::{Diagnostic, Place, Pos};

pub mod lint;

/// The text of a YAML file, decoded, or a diagnostic saying why it cannot be read as text.
pub fn decode(file: &str, bytes: &[u8]) -> Result<Arc<str>, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Arc::from(text)),
        Err(e) => {
            let (line, col) = {
                let good = &bytes[..e.valid_up_to()];
                let text = String::from_utf8_lossy(good);
                crate::diag::line_col(&text, text.len())
            };
            Err(Diagnostic::error("文件不是 UTF-8 编码，无法读取")
                .code("file-not-utf8")
                .at(Place::at(file, Pos::new(line, col, 1)))
                .hint("这个文件可能是用 GBK（ANSI）编码保存的。请用记事本或 WPS 打开，“另存为”时把编码选成 UTF-8。"))
        }
    }
}

/// Parses `text` (the content of `file`) into `T`.
pub fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, Diagnostic> {
    // Node-count and alias budgets stay at their defaults: they stop "billion laughs".
    let options: Options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| to_diagnostic(file, &e))
}

/// The position of a spanned value.
pub fn pos_of<T>(s: &Spanned<T>) -> Pos {
    pos(&s.referenced)
}

/// `text` as a YAML double-quoted string (a JSON string is one): reads back as `text`
/// whatever it holds.
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// A parser location as a diagnostic position.
pub fn pos(l: &Location) -> Pos {
    Pos::new(
        l.line() as usize,
        l.column() as usize,
        l.span().len() as usize,
    )
}

/// Translates a serde-saphyr error into a diagnostic at its place.
pub fn to_diagnostic(file: &str, err: &Error) -> Diagnostic {
    let err = err.without_snippet();
    let place = err
        .location()
        .map_or_else(|| Place::file(file), |l| Place::at(file, pos(&l)));
    let (message, hint) = describe(err);
    let mut d = Diagnostic::error(message).code("yaml-syntax").at(place);
    if let Some(hint) = hint {
        d = d.hint(hint);
    }
    d
}

/// An unknown field, with the nearest known one when it is close.
fn unknown_field(field: &str, expected: &[&str]) -> (String, Option<String>) {
    let known = expected.join("、");
    let near = expected
        .iter()
        .map(|k| (strsim::levenshtein(field, k), *k))
        .filter(|(d, k)| *d <= k.chars().count().div_ceil(2))
        .min();
    let hint = match near {
        Some((_, k)) => format!("是不是想写“{k}”？这里可以写的字段有：{known}"),
        None => format!("这里可以写的字段有：{known}"),
    };
    (format!("未知的字段“{field}”"), Some(hint))
}

/// What a node was expected to be, in words.
fn expected_shape(expected: &str) -> &str {
    if expected.contains("sequence") {
        "列表（每项一行，以“- ”开头，或写成 [a, b]）"
    } else if expected.contains("mapping") {
        "“字段: 值”形式的映射"
    } else {
        expected
    }
}

/// What a parse error means, in Chinese, with a hint when there is one.
fn describe(err: &Error) -> (String, Option<String>) {
    match err {
        Error::SerdeUnknownField {
            field, expected, ..
        } => unknown_field(field, expected),
        Error::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().unwrap_or("?");
            (
                format!("字段“{key}”写了两次"),
                Some(format!(
                    "同一处只能写一次“{key}”，后一个不会覆盖前一个。请合并或删去一个（多个值写成列表，如 [a, b]）。"
                )),
            )
        }
        Error::SerdeMissingField { field, .. } => (
            format!("缺少字段“{field}”"),
            Some(format!("请补上“{field}: …”。")),
        ),
        Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => (
            format!(
                "类型不对：这里应当是{}，写的是{}",
                expected_cn(expected),
                unexpected_cn(unexpected)
            ),
            Some(type_hint(expected)),
        ),
        Error::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => (
            format!(
                "值不对：这里应当是{}，写的是{}",
                expected_cn(expected),
                unexpected_cn(unexpected)
            ),
            None,
        ),
        Error::InvalidScalar { ty, .. } => (
            format!("类型不对：这里应当是{}", expected_cn(ty)),
            Some(type_hint(ty)),
        ),
        Error::Unexpected { expected, .. } => (
            format!("类型不对：这里应当是{}", expected_shape(expected)),
            None,
        ),
        Error::Message { msg, .. } => (msg.clone(), None),
        Error::Eof { .. } => (
            "文件是空的，或内容不完整".to_string(),
            Some("用 dossier init 生成的文件做样子，至少要写“指标: N”。".to_string()),
        ),
        Error::ExternalMessage { source, msg, .. } => match source.as_ref() {
            ExternalMessageSource::Parser(scan) => syntax(scan.kind(), msg),
            _ => (msg.clone(), None),
        },
        Error::MultipleDocuments { .. } => (
            "一个文件里只能有一个 YAML 文档".to_string(),
            Some("删去多余的“---”分隔线。".to_string()),
        ),
        Error::UnknownAnchor { .. } => ("引用了不存在的锚点（*名称）".to_string(), None),
        Error::Budget { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. } => (
            "文件结构过于复杂（别名展开过多），已停止读取".to_string(),
            Some("请不要用“&”“*”别名反复引用大段内容。".to_string()),
        ),
        Error::AliasError { error, .. } => describe(error),
        Error::WithSnippet { error, .. } => describe(error),
        other => (format!("YAML 格式错误：{}", english(other)), None),
    }
}

fn syntax(kind: &ErrorKind, msg: &str) -> (String, Option<String>) {
    let quote_hint = "如果文字里有英文冒号加空格（“: ”）、“#”或以“[”“{”“*”“&”“!”“%”“@”开头，请把整段文字用英文双引号括起来，或把冒号换成中文冒号“：”。";
    let (m, h): (&str, Option<&str>) = match kind {
        ErrorKind::TabNotAllowed
        | ErrorKind::TabInBlockIndentation
        | ErrorKind::TabInIndentation
        | ErrorKind::TabAtBlockScalarStart => (
            "YAML 不能用 Tab 键缩进",
            Some("请把行首的 Tab 换成空格（同一层级对齐即可，习惯用两个空格）。"),
        ),
        ErrorKind::UnclosedQuotedScalar => (
            "引号没有配对",
            Some("检查这一段文字两端的英文引号是否成对。"),
        ),
        ErrorKind::InvalidIndentation
        | ErrorKind::ExpectedBlockMappingKey
        | ErrorKind::ExpectedBlockSequenceEntry
        | ErrorKind::BlockSequenceEntryNotAllowed
        | ErrorKind::InvalidBlockEntryWhitespace => (
            "缩进不对",
            Some("同一层级的字段要左对齐；“- ”开头的每件材料下面的字段要比“-”多缩进两格。"),
        ),
        ErrorKind::UnclosedFlowCollection { .. }
        | ErrorKind::MismatchedFlowCollectionEnd { .. }
        | ErrorKind::MisplacedFlowCollectionEnd
        | ErrorKind::UnexpectedEofFlowSequence
        | ErrorKind::UnexpectedEofFlowMapping => (
            "方括号或花括号没有配对",
            Some("检查“[ ]”“{ }”是否成对，其中的项用英文逗号分隔。"),
        ),
        _ if msg.contains("mapping values are not allowed") => {
            ("这一行的冒号让 YAML 读不懂", Some(quote_hint))
        }
        ErrorKind::UnexpectedCharacter { .. }
        | ErrorKind::InvalidSimpleKey
        | ErrorKind::SimpleKeyExpected => ("YAML 格式错误：这里有读不懂的字符", Some(quote_hint)),
        _ => {
            return (
                format!("YAML 格式错误：{msg}"),
                Some(quote_hint.to_string()),
            );
        }
    };
    (m.to_string(), h.map(str::to_string))
}

fn english(err: &Error) -> String {
    // The error's own text without its "at line …" suffix (the place is printed separately).
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn expected_cn(expected: &str) -> String {
    let e = expected;
    if e.contains("u32") || e.contains("u64") || e.contains("integer") {
        "正整数（序号）".into()
    } else if e.contains("f64") || e.contains("float") {
        "数值".into()
    } else if e.contains("sequence") || e.contains("列表") {
        "列表".into()
    } else if e.contains("struct") || e.contains("map") {
        "“字段: 值”形式的映射".into()
    } else if e.contains("string") || e.contains("文字") {
        "文字".into()
    } else if e.contains("bool") {
        "“是”或“否”".into()
    } else {
        e.to_string()
    }
}

fn unexpected_cn(unexpected: &str) -> String {
    let u = unexpected;
    if let Some(rest) = u.strip_prefix("string ") {
        format!("文字 {rest}")
    } else if let Some(rest) = u.strip_prefix("integer ") {
        format!("数字 {rest}")
    } else if let Some(rest) = u.strip_prefix("floating point ") {
        format!("数字 {rest}")
    } else if u.contains("sequence") {
        "列表".into()
    } else if u.contains("map") {
        "映射".into()
    } else if u.contains("unit") || u.contains("null") {
        "空值".into()
    } else {
        u.to_string()
    }
}

fn type_hint(expected: &str) -> String {
    let e = expected_cn(expected);
    match e.as_str() {
        "正整数（序号）" => "写阿拉伯数字，如 3；多个写成列表，如 [1, 3]。".into(),
        "列表" => "列表写成 [a, b]，或每项一行、以“- ”开头。".into(),
        "数值" => "写阿拉伯数字，如 97.5（不带单位和百分号）。".into(),
        _ => format!("这里要写{e}。"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ItemFile;

    fn err(src: &str) -> Diagnostic {
        parse::<ItemFile>("items/05.yaml", src).unwrap_err()
    }

    fn at(d: &Diagnostic) -> (usize, usize) {
        let p = d.place.as_ref().unwrap().pos.unwrap();
        (p.line, p.col)
    }

    #[test]
    fn unknown_key_suggests_the_near_one() {
        let d = err("指标: 5\n材料:\n  - 件号: 1\n    题目: 测试\n");
        assert_eq!(d.message, "未知的字段“题目”");
        assert_eq!(at(&d), (4, 5));
        assert!(d.hint.unwrap().contains("是不是想写“题名”"));
    }

    #[test]
    fn duplicate_key_is_an_error() {
        let d = err("指标: 5\n材料:\n  - 题名: a\n    文件: a.pdf\n    文件: b.pdf\n");
        assert_eq!(d.message, "字段“文件”写了两次");
        assert_eq!(at(&d), (5, 5));
    }

    #[test]
    fn colon_in_text_gets_a_quoting_hint() {
        let d = err("指标: 5\n材料:\n  - 题名: 关于: 通知\n");
        assert_eq!(d.message, "这一行的冒号让 YAML 读不懂");
        assert_eq!(at(&d).0, 3);
        assert!(d.hint.unwrap().contains("双引号"));
    }

    #[test]
    fn tabs_and_types_and_dates() {
        assert_eq!(
            err("指标: 5\n材料:\n\t- 题名: a\n").message,
            "YAML 不能用 Tab 键缩进"
        );
        let d = err("指标: 5\n材料:\n  - 题名: a\n    考核内容: 第一条\n");
        assert!(
            d.message
                .starts_with("类型不对：这里应当是正整数（序号），写的是文字"),
            "{}",
            d.message
        );
        let d = err("指标: 5\n材料:\n  - 题名: a\n    日期: 2021年3月\n");
        assert!(d.message.contains("不是日期"));
        assert_eq!(at(&d), (4, 9));
        let d = err("指标: 5\n材料: 没有\n");
        assert!(
            d.message.starts_with("类型不对：这里应当是列表"),
            "{}",
            d.message
        );
    }

    #[test]
    fn non_utf8_is_reported_with_a_gbk_hint() {
        let d = decode("items/05.yaml", b"\xd6\xb8\xb1\xea: 5\n").unwrap_err();
        assert!(d.hint.unwrap().contains("GBK"));
        assert_eq!(&*decode("a", b"\xEF\xBB\xBFx: 1").unwrap(), "x: 1");
    }
}
