//! The assessment catalog: the 21 items of the plan's task table (附件2), embedded in the binary
//! from `seeds/catalog.yaml`.
//!
//! The catalog keeps the table's source text as written (typos, gaps in task numbers, a row
//! whose cells are merged with the one above) and puts normalised fields beside it: unit
//! references, acceptance methods, quantitative targets and bonus points. Records refer to an
//! item's criteria by their position (1-based) and to tasks by the number the table gives them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The catalog YAML as embedded at compile time.
pub const CATALOG_YAML: &str = include_str!("../seeds/catalog.yaml");

/// The three acceptance methods of the table (验收方式), normalised.
pub const METHODS: [&str; 3] = ["听取汇报", "查阅文件资料", "现场检查"];

/// The whole task table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Which document this is a transcription of.
    pub source: String,
    /// The county whose table this is (its name appears in task and criterion texts).
    #[serde(default)]
    pub county: String,
    /// Units only the seed county has (its two street offices), and what another county's
    /// table names instead: the group that stands for that county's own towns.
    #[serde(default)]
    pub local_units: BTreeMap<String, String>,
    /// How the seed's 责任单位 cells that name local units read in another county's table.
    #[serde(default)]
    pub local_texts: BTreeMap<String, String>,
    /// The five groups and the bonus group, in table order.
    pub groups: Vec<Group>,
    /// The 21 items, in table order.
    pub items: Vec<Item>,
    /// The quantitative targets of the plan's §三 tables (the seed county's plan).
    #[serde(default)]
    pub plan_targets: Vec<PlanArea>,
    /// The creation period of the seed county's plan (§六), first and last day, `YYYY-MM-DD`.
    #[serde(default)]
    pub plan_period: Vec<String>,
}

/// A group of items (项目): 一 … 五 and 加分项.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// 一, 二, … or 加分项.
    pub id: String,
    /// Title without its number, e.g. 质量发展战略规划明确清晰.
    pub title: String,
    /// The cell as written, e.g. 一、质量发展战略规划明确清晰.
    pub source_text: String,
    /// Numbers of the items in this group.
    pub items: Vec<u32>,
}

/// One assessment item (指标).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// 1–21.
    pub number: u32,
    /// 指标内容 without its number, as written.
    pub title: String,
    /// The 验收方式 cell as written.
    pub methods_text: String,
    /// The acceptance methods, normalised to [`METHODS`].
    pub methods: Vec<String>,
    /// The item's rows: one criterion (考核评分内容) each.
    pub criteria: Vec<Criterion>,
}

/// One criterion (考核评分内容) with the tasks and units of its row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// The criterion as written.
    pub text: String,
    /// The row's 工作任务 and 责任单位 cells are empty in the source because they are merged
    /// with the row above: this criterion shares that row's tasks and units.
    #[serde(default)]
    pub merged_with_previous: bool,
    /// The 责任单位 cell as written.
    #[serde(default)]
    pub units_text: String,
    /// The responsible units, normalised to names of the units registry.
    #[serde(default)]
    pub units: Vec<String>,
    /// The tasks written in this row.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// Quantitative targets the criterion states.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// Bonus points (item 21 only).
    #[serde(default)]
    pub bonus: Vec<Bonus>,
}

/// One work task (工作任务).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The number the table gives it (numbers have gaps: item 14 has no 13).
    pub number: u32,
    /// The table writes this task without a number (it is the row's only task).
    #[serde(default)]
    pub unnumbered: bool,
    /// The task as written, without its number.
    pub text: String,
}

/// A quantitative target, e.g. 农产品抽检合格率 ≥ 97 %.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// What is measured.
    pub name: String,
    /// Comparison: `>=`, `>`, `<=`, `<`.
    pub op: Op,
    /// The number to reach, when the target states one.
    #[serde(default)]
    pub value: Option<f64>,
    /// Unit of `value`: %, ‰, 个百分点, dB(A), 个.
    #[serde(default)]
    pub unit: Option<String>,
    /// For relative targets, what the value is compared with (e.g. 全省平均水平).
    #[serde(default)]
    pub reference: Option<String>,
    /// The words of the criterion that state the target.
    #[serde(default)]
    pub text: Option<String>,
}

/// A comparison operator of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Op {
    /// At least.
    #[serde(rename = ">=")]
    Ge,
    /// More than.
    #[serde(rename = ">")]
    Gt,
    /// At most.
    #[serde(rename = "<=")]
    Le,
    /// Less than.
    #[serde(rename = "<")]
    Lt,
}

impl Op {
    /// The operator as printed in the dossier.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Ge => "≥",
            Op::Gt => ">",
            Op::Le => "≤",
            Op::Lt => "<",
        }
    }

    /// Whether `actual` satisfies the operator against `goal`.
    pub fn holds(self, actual: f64, goal: f64) -> bool {
        match self {
            Op::Ge => actual >= goal,
            Op::Gt => actual > goal,
            Op::Le => actual <= goal,
            Op::Lt => actual < goal,
        }
    }
}

/// Bonus points of an item-21 criterion.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bonus {
    /// When the points are given.
    pub condition: String,
    /// How many.
    pub points: u32,
}

/// One of the four §三 tables (产品质量, 工程质量, 服务质量, 环境质量).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanArea {
    /// The table's area.
    pub area: String,
    /// Its numbered requirements.
    pub requirements: Vec<PlanRequirement>,
}

/// A requirement of a §三 table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequirement {
    /// As written.
    pub text: String,
    /// The targets it states (none for qualitative ones).
    pub targets: Vec<Target>,
}

/// A task together with the row it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct TaskRef<'a> {
    /// The task.
    pub task: &'a Task,
    /// 1-based index of the criterion row it is written in.
    pub criterion: usize,
    /// The units of that row (as normalised names).
    pub units: &'a [String],
}

impl Catalog {
    /// The embedded catalog, parsed once.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            serde_saphyr::from_str(CATALOG_YAML)
                .unwrap_or_else(|e| panic!("embedded seeds/catalog.yaml is invalid: {e}"))
        })
    }

    /// The table as another county's: the seed county's name replaced by `county` in every
    /// text, and the units only the seed county has replaced by the group that stands for the
    /// county's own towns (their cells reworded to match). The seed county gets the table
    /// unchanged. Items, criteria, targets and bonus points are the province's and stay.
    pub fn for_county(&self, county: &str) -> Catalog {
        let county = county.trim();
        if county.is_empty() || county == self.county {
            return self.clone();
        }
        let mut c = self.clone();
        let swap = |t: &mut String| {
            if !self.county.is_empty() && t.contains(&self.county) {
                *t = t.replace(&self.county, county);
            }
        };
        swap(&mut c.source);
        c.county = county.to_string();
        for item in &mut c.items {
            swap(&mut item.title);
            for crit in &mut item.criteria {
                swap(&mut crit.text);
                for t in &mut crit.tasks {
                    swap(&mut t.text);
                }
                for t in &mut crit.targets {
                    if let Some(text) = &mut t.text {
                        swap(text);
                    }
                }
                if let Some(text) = self.local_texts.get(&crit.units_text) {
                    crit.units_text = text.clone();
                }
                let mut units: Vec<String> = Vec::new();
                for u in &crit.units {
                    let u = self.local_units.get(u).unwrap_or(u);
                    if !units.contains(u) {
                        units.push(u.clone());
                    }
                }
                crit.units = units;
            }
        }
        c.local_units.clear();
        c.local_texts.clear();
        // The seed county's own plan: its §三 targets and its timetable are not another's.
        c.plan_targets.clear();
        c.plan_period.clear();
        c
    }

    /// The item with this number.
    pub fn item(&self, number: u32) -> Option<&Item> {
        self.items.iter().find(|i| i.number == number)
    }

    /// The group an item belongs to.
    pub fn group_of(&self, number: u32) -> Option<&Group> {
        self.groups.iter().find(|g| g.items.contains(&number))
    }
}

impl Item {
    /// Every task of the item with its row, in table order.
    pub fn tasks(&self) -> impl Iterator<Item = TaskRef<'_>> {
        self.criteria.iter().enumerate().flat_map(|(i, c)| {
            c.tasks.iter().map(move |task| TaskRef {
                task,
                criterion: i + 1,
                units: &c.units,
            })
        })
    }

    /// The task with this number.
    pub fn task(&self, number: u32) -> Option<TaskRef<'_>> {
        self.tasks().find(|t| t.task.number == number)
    }

    /// The criterion at this 1-based position.
    pub fn criterion(&self, index: usize) -> Option<&Criterion> {
        index.checked_sub(1).and_then(|i| self.criteria.get(i))
    }

    /// The row whose tasks and units apply to criterion `index` (1-based): the criterion
    /// itself, or for a merged row the nearest row above that has its own cells.
    pub fn effective_row(&self, index: usize) -> Option<&Criterion> {
        let mut i = index.checked_sub(1)?;
        loop {
            let c = self.criteria.get(i)?;
            if !c.merged_with_previous {
                return Some(c);
            }
            i = i.checked_sub(1)?;
        }
    }

    /// 1-based indices of the criteria that a task supports: its own row and any merged rows
    /// below it.
    pub fn criteria_of_task(&self, number: u32) -> Vec<usize> {
        let Some(task) = self.task(number) else {
            return Vec::new();
        };
        let mut out = vec![task.criterion];
        let mut next = task.criterion + 1;
        while self.criterion(next).is_some_and(|c| c.merged_with_previous) {
            out.push(next);
            next += 1;
        }
        out
    }

    /// How the item shows its task numbers in messages: "1、2、3、4" (gaps included).
    pub fn task_numbers(&self) -> String {
        self.tasks()
            .map(|t| t.task.number.to_string())
            .collect::<Vec<_>>()
            .join("、")
    }

    /// Every unit name the item's rows use, in order of first use.
    pub fn unit_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.criteria {
            for u in &c.units {
                if !out.contains(&u.as_str()) {
                    out.push(u);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_parses_and_has_21_items_in_order() {
        let c = Catalog::get();
        assert_eq!(c.items.len(), 21);
        for (i, item) in c.items.iter().enumerate() {
            assert_eq!(item.number as usize, i + 1);
            assert!(!item.criteria.is_empty());
            assert!(
                c.group_of(item.number).is_some(),
                "item {} has no group",
                item.number
            );
            for m in &item.methods {
                assert!(
                    METHODS.contains(&m.as_str()),
                    "item {}: method {m}",
                    item.number
                );
            }
        }
        let grouped: usize = c.groups.iter().map(|g| g.items.len()).sum();
        assert_eq!(grouped, 21);
    }

    #[test]
    fn quirks_of_the_table_survive() {
        let c = Catalog::get();
        // Gaps in task numbers.
        assert!(c.item(14).unwrap().task(13).is_none());
        assert!(c.item(14).unwrap().task(14).is_some());
        assert!(c.item(15).unwrap().task(8).is_none());
        // Item 11's second row is merged with the first: it shares task 1.
        let item11 = c.item(11).unwrap();
        assert!(item11.criteria[1].merged_with_previous);
        assert_eq!(item11.criteria_of_task(1), vec![1, 2]);
        assert_eq!(
            item11.effective_row(2).unwrap().units,
            item11.criteria[0].units
        );
        // Typos are kept.
        let item5 = c.item(5).unwrap();
        assert!(
            item5.criteria[0]
                .units_text
                .starts_with("县县创建各成员单位")
        );
        assert!(
            c.item(19)
                .unwrap()
                .task(5)
                .unwrap()
                .task
                .text
                .contains("得到政府领导提示")
        );
        // Unnumbered tasks.
        assert!(c.item(4).unwrap().task(1).unwrap().task.unnumbered);
    }

    #[test]
    fn another_countys_table_has_its_name_and_none_of_the_seed_countys_towns() {
        let seed = Catalog::get();
        assert!(seed.source.starts_with(&seed.county), "{}", seed.county);
        assert_eq!(seed.for_county(&seed.county), *seed);
        let other = seed.for_county("宁陵县");
        let mut texts = vec![other.source.clone()];
        for item in &other.items {
            texts.push(item.title.clone());
            for c in &item.criteria {
                texts.push(c.text.clone());
                texts.push(c.units_text.clone());
                texts.extend(c.units.iter().cloned());
                texts.extend(c.tasks.iter().map(|t| t.text.clone()));
            }
        }
        let all = texts.concat();
        let stem = seed.county.trim_end_matches('县');
        assert!(
            seed.items
                .iter()
                .any(|i| i.criteria.iter().any(|c| c.text.contains(stem)))
        );
        let towns: Vec<&str> = seed
            .local_units
            .keys()
            .map(|u| u.trim_end_matches("街道办"))
            .collect();
        assert_eq!(towns.len(), 2);
        for seed_only in towns.iter().chain([&stem]) {
            assert!(
                !all.contains(seed_only),
                "{seed_only} left in another county's table"
            );
        }
        assert!(all.contains("宁陵县质量发展战略规划文件"));
        let row = &other.item(5).unwrap().criteria[1];
        assert_eq!(row.units, ["县创建各成员单位", "各乡镇(街道办)"]);
        assert_eq!(row.units_text, "各成员单位、各乡镇(街道办)");
        // The structure is the province's.
        for (a, b) in seed.items.iter().zip(&other.items) {
            assert_eq!(a.criteria.len(), b.criteria.len());
            assert_eq!(a.task_numbers(), b.task_numbers());
        }
    }

    #[test]
    fn targets_and_bonus_points_are_transcribed() {
        let c = Catalog::get();
        let t = &c.item(16).unwrap().criteria[0].targets[0];
        assert_eq!(
            (t.op, t.value, t.unit.as_deref()),
            (Op::Ge, Some(97.0), Some("%"))
        );
        let t = &c.item(3).unwrap().criteria[0].targets[0];
        assert_eq!((t.value, t.unit.as_deref()), (Some(0.6), Some("‰")));
        let t = &c.item(19).unwrap().criteria[3].targets[0];
        assert_eq!((t.value, t.unit.as_deref()), (Some(3.0), Some("个百分点")));
        assert_eq!(c.item(17).unwrap().criteria[2].targets.len(), 2);
        let bonus: Vec<u32> = c
            .item(21)
            .unwrap()
            .criteria
            .iter()
            .flat_map(|c| c.bonus.iter().map(|b| b.points))
            .collect();
        assert_eq!(bonus, vec![2, 1, 2, 1, 2, 1, 2]);
        // Every target's words occur in its criterion.
        for item in &c.items {
            for crit in &item.criteria {
                for t in &crit.targets {
                    let words = t.text.as_deref().unwrap();
                    assert!(crit.text.contains(words), "item {}: {words}", item.number);
                }
            }
        }
        assert_eq!(c.plan_targets.len(), 4);
    }
}
