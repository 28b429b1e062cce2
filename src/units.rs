//! The registry of responsible units (责任单位): every name, short name and alias resolves to
//! one unit, every collective name (单位组) to its member units, and a name that resolves to
//! nothing gets did-you-mean suggestions.
//!
//! Names are compared after normalisation: full-width and half-width brackets are the same and
//! spaces are ignored, so 各乡镇（街道办） finds 各乡镇(街道办).

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Place};
use crate::model::{Spanned, UnitsFile};
use crate::yaml::pos_of;

/// The registry as embedded at compile time (`seeds/units.yaml`); `dossier init` writes it.
pub const DEFAULT_UNITS_YAML: &str = include_str!("../seeds/units.yaml");

/// One responsible unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Official name.
    pub name: String,
    /// Short name used by the task table (falls back to the name).
    pub short: String,
    /// Head of the unit, from 附件1.
    pub head: Option<String>,
    /// The head's title.
    pub head_title: Option<String>,
}

impl Unit {
    /// The head as printed: "金守旺（县市场监管局局长）", or empty when unknown.
    pub fn head_line(&self) -> String {
        match (&self.head, &self.head_title) {
            (Some(h), Some(t)) => format!("{h}（{t}）"),
            (Some(h), None) => h.clone(),
            _ => String::new(),
        }
    }
}

/// A collective name and its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The collective name.
    pub name: String,
    /// Indices into [`Registry::units`].
    pub members: Vec<usize>,
}

/// What a name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// One unit (index into [`Registry::units`]).
    Unit(usize),
    /// A group (index into [`Registry::groups`]).
    Group(usize),
}

/// The units registry.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Units in file order.
    pub units: Vec<Unit>,
    /// Groups in file order.
    pub groups: Vec<Group>,
    /// The leading group's name and members as text lines, if given.
    pub leading_group: Option<crate::model::LeadingGroup>,
    index: BTreeMap<String, Resolved>,
    /// Every accepted spelling with what it resolves to, for suggestions.
    spellings: Vec<(String, Resolved)>,
}

/// Normalises a unit name for comparison.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            _ => c,
        })
        .collect()
}

impl Registry {
    /// Builds the registry from `units.yaml`, reporting duplicate names and unknown members
    /// as errors in `file`.
    pub fn build(file: &str, data: &UnitsFile, out: &mut Vec<Diagnostic>) -> Registry {
        let mut reg = Registry {
            leading_group: data.leading_group.clone(),
            ..Registry::default()
        };
        let mut first_seen: BTreeMap<String, Spanned<String>> = BTreeMap::new();
        let mut claim = |reg: &mut Registry,
                         name: &Spanned<String>,
                         what: Resolved,
                         out: &mut Vec<Diagnostic>| {
            let key = normalise(&name.value);
            if key.is_empty() {
                out.push(
                    Diagnostic::error("单位名称是空的")
                        .code("unit-name-empty")
                        .at(Place::at(file, pos_of(name))),
                );
                return;
            }
            if let Some(first) = first_seen.get(&key) {
                if reg.index.get(&key) != Some(&what) {
                    out.push(
                        Diagnostic::error(format!(
                            "名称“{}”在单位名录里指向两个不同的单位",
                            name.value
                        ))
                        .code("unit-name-ambiguous")
                        .at(Place::at(file, pos_of(name)))
                        .related(Place::at(file, pos_of(first)), "第一次出现在这里")
                        .hint("一个名称只能属于一个单位或单位组，请删去或改掉其中一处。"),
                    );
                }
                return;
            }
            first_seen.insert(key.clone(), name.clone());
            reg.index.insert(key, what);
            reg.spellings.push((name.value.trim().to_string(), what));
        };
        for (i, u) in data.units.iter().enumerate() {
            let u = &u.value;
            let short = u
                .short
                .as_ref()
                .map_or_else(|| u.name.value.clone(), |s| s.value.clone());
            reg.units.push(Unit {
                name: u.name.value.trim().to_string(),
                short: short.trim().to_string(),
                head: u.head.clone().filter(|h| !h.trim().is_empty()),
                head_title: u.head_title.clone(),
            });
            claim(&mut reg, &u.name, Resolved::Unit(i), out);
            if let Some(s) = &u.short {
                claim(&mut reg, s, Resolved::Unit(i), out);
            }
            for a in &u.aliases {
                claim(&mut reg, a, Resolved::Unit(i), out);
            }
        }
        for (gi, g) in data.groups.iter().enumerate() {
            let g = &g.value;
            reg.groups.push(Group {
                name: g.name.value.trim().to_string(),
                members: Vec::new(),
            });
            claim(&mut reg, &g.name, Resolved::Group(gi), out);
            for a in &g.aliases {
                claim(&mut reg, a, Resolved::Group(gi), out);
            }
        }
        reg.add_members(file, data, out);
        reg
    }

    /// Gives each group its members (units of the registry; a member that is a group or no
    /// unit is an error).
    fn add_members(&mut self, file: &str, data: &UnitsFile, out: &mut Vec<Diagnostic>) {
        for (gi, g) in data.groups.iter().enumerate() {
            for m in &g.value.members {
                match self.resolve(&m.value) {
                    Some(Resolved::Unit(u)) => {
                        if !self.groups[gi].members.contains(&u) {
                            self.groups[gi].members.push(u);
                        }
                    }
                    Some(Resolved::Group(_)) => out.push(
                        Diagnostic::error(format!("单位组的成员“{}”本身是单位组", m.value))
                            .code("unit-group-in-group")
                            .at(Place::at(file, pos_of(m)))
                            .hint("成员只能写具体单位；请把那个单位组的成员逐个列出。"),
                    ),
                    None => {
                        out.push(self.unknown(&m.value, Place::at(file, pos_of(m)), "单位组成员"))
                    }
                }
            }
        }
    }

    /// What `name` stands for, if anything.
    pub fn resolve(&self, name: &str) -> Option<Resolved> {
        self.index.get(&normalise(name)).copied()
    }

    /// The units `name` stands for (a group expands to its members).
    pub fn units_of(&self, name: &str) -> Vec<usize> {
        match self.resolve(name) {
            Some(Resolved::Unit(u)) => vec![u],
            Some(Resolved::Group(g)) => self.groups[g].members.clone(),
            None => Vec::new(),
        }
    }

    /// The canonical name of what `name` resolves to (short name for units).
    pub fn display(&self, r: Resolved) -> &str {
        match r {
            Resolved::Unit(u) => &self.units[u].short,
            Resolved::Group(g) => &self.groups[g].name,
        }
    }

    /// Up to three units or groups whose names are close to `name`, closest first, each
    /// shown by its short name (one suggestion per unit, however many of its spellings match).
    pub fn suggest(&self, name: &str) -> Vec<String> {
        let wanted = normalise(name);
        let len = wanted.chars().count();
        let mut best: BTreeMap<(u8, usize), usize> = BTreeMap::new();
        for (spelling, r) in &self.spellings {
            let s = normalise(spelling);
            let d = strsim::levenshtein(&wanted, &s);
            let contains = len >= 2 && (s.contains(&wanted) || wanted.contains(&s));
            if d <= (len.max(s.chars().count()) / 3).max(1) || contains {
                let score = if contains { d.min(2) } else { d };
                let key = match r {
                    Resolved::Unit(u) => (0, *u),
                    Resolved::Group(g) => (1, *g),
                };
                let e = best.entry(key).or_insert(score);
                *e = (*e).min(score);
            }
        }
        let mut ranked: Vec<(usize, (u8, usize))> = best.into_iter().map(|(k, d)| (d, k)).collect();
        ranked.sort();
        ranked
            .into_iter()
            .take(3)
            .map(|(_, (kind, i))| {
                let r = if kind == 0 {
                    Resolved::Unit(i)
                } else {
                    Resolved::Group(i)
                };
                self.display(r).to_string()
            })
            .collect()
    }

    /// The diagnostic for a name that is not in the registry, with suggestions.
    pub fn unknown(&self, name: &str, place: Place, what: &str) -> Diagnostic {
        let suggestions = self.suggest(name);
        let hint = if suggestions.is_empty() {
            "请写单位名录（units.yaml）里的名称、简称或别名；新单位请先加到 units.yaml。"
                .to_string()
        } else {
            format!(
                "是不是想写“{}”？也可以把这个写法作为别名加到 units.yaml。",
                suggestions.join("”或“")
            )
        };
        Diagnostic::error(format!("{what}“{name}”不在单位名录里"))
            .code("unit-unknown")
            .at(place)
            .hint(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_registry() -> Registry {
        let data: UnitsFile = crate::yaml::parse("units.yaml", DEFAULT_UNITS_YAML).unwrap();
        let mut diags = Vec::new();
        let reg = Registry::build("units.yaml", &data, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        reg
    }

    #[test]
    fn every_unit_named_in_the_task_table_resolves() {
        let reg = default_registry();
        for item in &crate::catalog::Catalog::get().items {
            for name in item.unit_names() {
                assert!(reg.resolve(name).is_some(), "item {}: {name}", item.number);
                assert!(
                    !reg.units_of(name).is_empty(),
                    "item {}: {name} has no units",
                    item.number
                );
            }
        }
    }

    #[test]
    fn aliases_groups_and_brackets_resolve() {
        let reg = default_registry();
        let u = reg.units_of("县市场监管局");
        assert_eq!(u.len(), 1);
        assert_eq!(reg.units[u[0]].head.as_deref(), Some("金守旺"));
        assert_eq!(reg.units_of("县县创建各成员单位").len(), 21);
        assert_eq!(
            reg.resolve("各乡镇（街道办）"),
            reg.resolve("各乡镇(街道办)")
        );
        assert!(reg.resolve("各乡镇（街道办）").is_some());
    }

    #[test]
    fn near_names_get_suggestions() {
        let reg = default_registry();
        assert_eq!(
            reg.suggest("市场监督局").first().map(String::as_str),
            Some("市场监管局")
        );
        let d = reg.unknown("市场监督局", Place::file("items/05.yaml"), "责任单位");
        assert!(d.hint.unwrap().contains("市场监管局"));
        assert!(reg.suggest("完全无关的名字").is_empty());
    }

    #[test]
    fn a_name_used_twice_is_an_error() {
        let src = "单位:\n  - 名称: 甲局\n    简称: 甲\n  - 名称: 乙局\n    别名: [甲]\n";
        let data: UnitsFile = crate::yaml::parse("units.yaml", src).unwrap();
        let mut diags = Vec::new();
        Registry::build("units.yaml", &data, &mut diags);
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("指向两个不同的单位"));
    }
}
