//! Checks of what the dossier prints.
//!
//! Characters no font can print: Typst prints a character it has no glyph for as a blank gap
//! (and keeps it in the text layer, so a search still finds it): a name with a rare character,
//! an emoji in a title, a control character pasted from a web page would disappear from the
//! paper without a word. Every character the dossier prints (everything the plan carries, plus
//! the archive fields the binders print) is checked against every font the build has (Typst
//! falls back through all of them); each one no font covers is an error at the place it is
//! written, with its code point and what to do.
//!
//! The sample's leftovers: a county starts from the sample, so every place where the sample
//! county's name, towns or unit heads would still print in another county's dossier is a
//! warning ([`sample_leftovers`]).

use std::collections::BTreeSet;

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Place, Pos};
use crate::load::UNITS_FILE;
use crate::plan::{self, PlanOptions};
use crate::typeset::Fonts;
use crate::validate::Dossier;

/// Diagnostics for every character the dossier prints that no font in `fonts` has.
pub fn check(d: &Dossier, fonts: &Fonts) -> Vec<Diagnostic> {
    let mut missing: BTreeSet<char> = BTreeSet::new();
    let mut seen: BTreeSet<char> = BTreeSet::new();
    for text in printed_strings(d) {
        for c in text.chars() {
            if seen.insert(c) && !ignorable(c) && !fonts.covers(c) {
                missing.insert(c);
            }
        }
    }
    if missing.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let files = source_files(d);
    for &c in &missing {
        let mut found = false;
        for (file, text) in &files {
            let places = crate::diag::occurrences(text, &c.to_string());
            let Some(&pos) = places.first() else {
                continue;
            };
            found = true;
            let more = if places.len() > 1 {
                format!("（这个文件里共 {} 处）", places.len())
            } else {
                String::new()
            };
            out.push(diagnostic(c, &more).at(Place::at(file.clone(), pos)));
        }
        if !found {
            out.push(diagnostic(c, ""));
        }
    }
    out
}

/// Every string the dossier's documents print: the dossier's plan (cover, catalogs, records,
/// indexes, units with their heads) and the archive fields of the binders' box labels.
pub fn printed_strings(d: &Dossier) -> Vec<String> {
    let mut out = Vec::new();
    let plan = plan::plan(
        d,
        &PlanOptions {
            draft: true,
            ..PlanOptions::default()
        },
    );
    if let Ok(value) = serde_json::to_value(&plan) {
        collect(&value, &mut out);
    }
    if let Some(a) = &d.config.archive {
        for v in [&a.fonds, &a.year].into_iter().flatten() {
            out.push(v.0.clone());
        }
        if let Some(boxes) = &a.boxes {
            out.extend(boxes.value.values().map(|v| v.0.clone()));
        }
    }
    out
}

fn collect(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// Characters that are not drawn, so need no glyph: spaces and line breaks, and the Unicode
/// default-ignorables (zero-width joiners, variation selectors, byte-order marks). Other
/// control characters are drawn as nothing and are reported.
fn ignorable(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\t') || c.is_whitespace() || typst::text::is_default_ignorable(c)
}

/// The dossier's YAML files and their text, read again (they are small): where a character
/// can be pointed at.
pub fn source_files(d: &Dossier) -> Vec<(String, String)> {
    let mut names = vec![
        crate::load::CONFIG_FILE.to_string(),
        crate::load::UNITS_FILE.to_string(),
    ];
    names.extend(d.items.iter().filter_map(|i| i.file.clone()));
    names.extend(d.task_table.clone());
    names
        .into_iter()
        .filter_map(|n| Some((n.clone(), std::fs::read_to_string(d.root.join(&n)).ok()?)))
        .collect()
}

fn diagnostic(c: char, more: &str) -> Diagnostic {
    let code = format!("U+{:04X}", u32::from(c));
    let emoji = matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF);
    if c.is_control() {
        return Diagnostic::error(format!(
            "有一个看不见的控制字符（{code}），打印不出来{more}"
        ))
        .code("glyph-control-character")
        .hint("这通常是从网页或别的软件复制文字时带进来的。请把这段文字删掉后重新输入。");
    }
    if emoji {
        return Diagnostic::error(format!("表情符号“{c}”（{code}）打印不出来{more}"))
            .code("glyph-emoji")
            .hint("汇编用的字体没有表情符号，打印出来会是空白。请删去它，或改用文字。");
    }
    let mut hint =
        String::from("内置字体和 dossier.yaml 里“字体”所列的字体都没有这个字，打印出来会是空白。");
    hint.push_str(
        "如果是人名、地名里的生僻字，请把含有这个字的字体文件放进资料目录，在 dossier.yaml 的“字体: 文件:”里列出；否则请换成常用的写法。",
    );
    Diagnostic::error(format!("字符“{c}”（{code}）没有字体可以打印{more}"))
        .code("glyph-no-font")
        .hint(hint)
}

/// Warnings for what of the sample county is still printed in another county's dossier: its
/// name, its towns, and the officials of its units and leading group.
pub fn sample_leftovers(d: &Dossier) -> Vec<Diagnostic> {
    let seed = Catalog::get();
    let county = d.config.county.trim();
    if seed.county.is_empty() || county == seed.county {
        return Vec::new();
    }
    let stem = seed.county.trim_end_matches(['县', '市', '区']);
    let mut needles: Vec<String> = vec![stem.to_string()];
    for unit in seed.local_units.keys() {
        let town = unit
            .trim_end_matches("街道办")
            .trim_end_matches(['乡', '镇']);
        if !town.is_empty() {
            needles.push(town.to_string());
        }
    }
    let mut people = seed_officials();
    // Only the sample's head of the same unit: a namesake heading another unit is not the
    // sample's (and the leading group is not printed).
    people.retain(|(unit, head)| {
        d.registry
            .units
            .iter()
            .any(|u| &u.short == unit && u.head.as_deref().map(str::trim) == Some(head.as_str()))
    });
    let printed = printed_strings(d).concat();
    let files = source_files(d);
    let mut out = Vec::new();
    // `only`: a file and a word the line must have (the head's own line, not a mention).
    let mut warn = |needle: &str, message: String, only: Option<(&str, &str)>| {
        for (file, text) in &files {
            if only.is_some_and(|(o, _)| o != file) {
                continue;
            }
            let lines: Vec<&str> = text.lines().collect();
            let on_its_line = |p: &&Pos| {
                only.is_none_or(|(_, word)| lines.get(p.line - 1).is_some_and(|l| l.contains(word)))
            };
            if let Some(&pos) = crate::diag::occurrences(text, needle)
                .iter()
                .find(on_its_line)
            {
                out.push(
                    Diagnostic::warning(message.clone())
                        .code("sample-county-text")
                        .at(Place::at(file.clone(), pos))
                        .hint(format!(
                            "这多半是从示例资料或 dossier init 生成的文件里留下的。请改成{county}的内容，或删去。"
                        )),
                );
            }
        }
    };
    for needle in &needles {
        if printed.contains(needle.as_str()) {
            warn(
                needle,
                format!(
                    "“{needle}”是示例（{}）的内容，会印在{county}的汇编里",
                    seed.county
                ),
                None,
            );
        }
    }
    let mut heads: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (unit, head) in people {
        heads.entry(head).or_default().push(unit);
    }
    for (head, units) in heads {
        warn(
            &head,
            format!(
                "“{head}”是示例（{}）里{}的负责人，会印在{county}的汇编和证据册里",
                seed.county,
                crate::diag::list(&units)
            ),
            Some((UNITS_FILE, "负责人")),
        );
    }
    out
}

/// The heads of the sample's units: (unit short name, head).
fn seed_officials() -> Vec<(String, String)> {
    let Ok(data) =
        crate::yaml::parse::<crate::model::UnitsFile>(UNITS_FILE, crate::units::DEFAULT_UNITS_YAML)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for u in &data.units {
        let u = &u.value;
        if let Some(head) = u.head.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            let short = u.short.as_ref().map_or(&u.name.value, |s| &s.value);
            out.push((short.trim().to_string(), head.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_and_invisible_joiners_need_no_glyph_but_controls_do() {
        for c in [' ', '\u{3000}', '\n', '\u{200B}', '\u{FE0F}', '\u{FEFF}'] {
            assert!(ignorable(c), "U+{:04X}", u32::from(c));
        }
        assert!(!ignorable('\u{7}'));
        assert!(!ignorable('😀'));
    }

    #[test]
    fn messages_say_the_code_point_and_what_to_do() {
        let d = diagnostic('😀', "");
        assert!(d.message.contains("U+1F600") && d.message.contains("表情符号"));
        let d = diagnostic('\u{E000}', "（这个文件里共 2 处）");
        assert!(d.message.contains("U+E000"), "{}", d.message);
        assert!(d.hint.unwrap().contains("字体: 文件:"));
        assert!(diagnostic('\u{1}', "").message.contains("控制字符"));
    }
    #[test]
    fn the_sample_officials_are_known() {
        let people = seed_officials();
        assert!(people.contains(&("市场监管局".to_string(), "金守旺".to_string())));
        assert!(people.len() > 20);
    }
}
