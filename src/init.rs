//! The files of a new dossier: `dossier.yaml` with a comment on every field, the default units
//! registry, and one item file per catalog item whose comments carry the item's criteria,
//! tasks, units, methods and targets (the data itself stays in the embedded catalog).

use std::fmt::Write as _;

use crate::catalog::{Catalog, Item};
use crate::model::{Date, UnitsFile};
use crate::units::DEFAULT_UNITS_YAML;

/// `dossier.yaml` for a new dossier of `county` dated `date`; `period` is the creation period
/// when it is known (the seed county's plan), otherwise the field is left for the office.
pub fn config_yaml(date: Date, county: &str, period: Option<(Date, Date)>) -> String {
    let period = match period {
        Some((a, b)) => format!(
            "# 创建期：材料日期不在此期间内会给出警告（实施方案：{}年{}月至{}年{}月）\n创建期:\n  起: {a}\n  止: {b}\n",
            a.year, a.month, b.year, b.month
        ),
        None => "# 创建期（可选）：材料日期不在此期间内会给出警告。按本县实施方案的工作进度安排填写，\n# 去掉下面几行行首的“# ”：\n# 创建期:\n#   起: 2021-01-01\n#   止: 2022-06-30\n".to_string(),
    };
    format!(
        r#"# 资料汇编的基本信息。“#”后面是说明，不影响内容。
# 字段名不要改；值里如有英文冒号加空格、“#”等符号，请用英文双引号把整段括起来。

# 封面标题
标题: "{county}创建“河南省质量强县示范县”验收资料汇编"
# 申报的县
县: {county}
# 申报单位
申报单位: {county}人民政府
# 编制单位（印在封面和每页页脚）
编制单位: {county}创建河南省质量强县示范县工作领导小组办公室
# 版本号：每次修改后重新生成时加大，如 1.0 → 1.1
版本: "1.0"
# 汇编日期：印在封面上，也是 PDF 的创建时间（同样的资料生成同样的文件）
日期: {date}
{period}# 输出文件名（不含扩展名）：生成 out/文件名.pdf 和 out/文件名.zip
输出文件名: {county}质量强县示范县验收资料

# 字体（可选）：不写就用程序内置的字体。要用办公室自己的字体（如仿宋_GB2312、方正小标宋），
# 把字体文件放进资料目录，去掉下面几行行首的“# ”：
# 字体:
#   文件: [fonts/]               # 字体文件或文件夹（相对资料目录）
#   正文: FangSong_GB2312        # 正文用的字体族名（字体文件里的英文名）
#   标题: FZXiaoBiaoSong-B05S    # 封面和分隔页标题
#   黑体: SimHei                 # 标题、表格
#   楷体: KaiTi_GB2312           # 说明文字

# PDF/A（可选）：是 = 生成 PDF/A-3b 长期存档格式。材料中有 PDF 文件时不能用（排版引擎的限制）。
# PDF/A: 否

# 文字识别（可选）：是 = 每次生成都识别扫描件、照片上的文字，盖一层看不见的文字层，汇编里可搜索、
# 可复制（同 dossier build --ocr；第一次每页约 1 秒，结果保存在输出目录，下次不再识别）。
# 文字识别: 是

# 修订记录（可选）：每次更正后重新生成时，在这里加一条，汇编会印一页“修订记录”。
# 修订记录:
#   - 版本: "1.1"
#     日期: 2022-05-25
#     内容: 更正 06-01 的日期；补充 14-08。

# 归档（可选）：各单位证据册的档案盒封面和盒脊上印的内容（DA/T 22-2015），不写则留空待填。
# 归档:
#   全宗号: Z028
#   年度: 2022
#   保管期限: 永久                # 永久、30年、10年
#   盒号:                         # 各单位证据册的盒号（分盒的单位从这个号起连续编）
#     县创建办公室: 1
#     市场监管局: 2

# 进度（可选）：各单位交齐材料的截止日期；dossier status 据此列出已逾期、仍欠材料的单位。
# 进度:
#   截止日期: 2022-03-31          # 所有单位
#   各单位截止日期:               # 个别单位另定的日期（也可写单位组，如 各乡镇(街道办)）
#     市场监管局: 2022-03-15
"#
    )
}

/// The creation period of the seed county's plan, if the catalog gives one.
pub fn plan_period(catalog: &Catalog) -> Option<(Date, Date)> {
    match catalog.plan_period.as_slice() {
        [a, b] => Some((Date::parse(a).ok()?, Date::parse(b).ok()?)),
        _ => None,
    }
}

/// The comment at the top of another county's units.yaml: what the file is, what to fill in.
fn units_yaml_header(s: &mut String, county: &str) {
    let _ = writeln!(s, "# 单位名录（units.yaml）：{county}");
    let _ = writeln!(s, "#");
    let _ = writeln!(
        s,
        "# 任务分解表（任务分解表.yaml）和证据记录里写到的每一个责任单位，都要能在这里按“名称”“简称”或"
    );
    let _ = writeln!(
        s,
        "# “别名”找到。本文件由 dossier init 按示例生成：单位名称已换成{county}，负责人、职务和领导小组"
    );
    let _ = writeln!(
        s,
        "# 成员留空，请按本县创建工作领导小组的文件填写；本县没有的单位删去，有而这里没有的加上。"
    );
    let _ = writeln!(s, "#");
    let _ = writeln!(
        s,
        "# 单位：名称（正式名称，印在本单位证据册封面上）、简称（任务分解表里的写法）、别名（其他写法）、"
    );
    let _ = writeln!(s, "#       负责人、职务（印在证据册封面上）");
    let _ = writeln!(
        s,
        "# 单位组：任务分解表里的集体名称（如“县创建各成员单位”），落到每个成员单位"
    );
    let _ = writeln!(s);
}

/// The 单位组 of units.yaml, without the members another county does not have (`dropped`).
fn write_unit_groups(s: &mut String, data: &UnitsFile, dropped: &[String]) {
    let q = crate::yaml::quoted;
    let _ = writeln!(s, "单位组:");
    for g in &data.groups {
        let g = &g.value;
        let _ = writeln!(s, "  - 名称: {}", q(&g.name.value));
        if !g.aliases.is_empty() {
            let aliases: Vec<String> = g.aliases.iter().map(|a| q(&a.value)).collect();
            let _ = writeln!(s, "    别名: [{}]", aliases.join(", "));
        }
        let members: Vec<String> = g
            .members
            .iter()
            .filter(|m| !dropped.contains(&m.value))
            .map(|m| q(&m.value))
            .collect();
        if members.is_empty() {
            let _ = writeln!(
                s,
                "    # 请把本县的乡镇和街道办加到上面的“单位”里，再逐个列在这里，如：[城关镇, 某某乡]"
            );
        }
        let _ = writeln!(s, "    成员: [{}]", members.join(", "));
    }
}

/// `units.yaml` for another county than the seed's: the seed's units with the county's name,
/// without the seed's officials (heads, titles, leading group members) and without the units
/// only the seed county has; the group of towns left for the office to fill in.
pub fn units_yaml(catalog: &Catalog, county: &str) -> String {
    let seed = Catalog::get();
    let data: UnitsFile = crate::yaml::parse(crate::load::UNITS_FILE, DEFAULT_UNITS_YAML)
        .expect("the embedded units.yaml parses");
    let swap = |t: &str| t.replace(&seed.county, county);
    let q = crate::yaml::quoted;
    let mut s = String::new();
    units_yaml_header(&mut s, county);
    if let Some(g) = &data.leading_group {
        let _ = writeln!(s, "领导小组:");
        let _ = writeln!(s, "  名称: {}", q(&swap(&g.name)));
        let _ = writeln!(
            s,
            "  组长: []      # 请填写，如：[张三（县委副书记、县长）]"
        );
        let _ = writeln!(s, "  副组长: []    # 请填写，每人一项");
        let _ = writeln!(
            s,
            "  # 办公室: 领导小组下设办公室，办公地点设在……，……同志兼办公室主任。"
        );
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "单位:");
    let local: Vec<&String> = seed.local_units.keys().collect();
    let mut dropped: Vec<String> = Vec::new();
    for u in &data.units {
        let u = &u.value;
        let short = u.short.as_ref().map_or(&u.name.value, |x| &x.value);
        if local.contains(&short) {
            dropped.push(short.clone());
            continue;
        }
        let _ = writeln!(s, "  - 名称: {}", q(&swap(&u.name.value)));
        if let Some(short) = &u.short {
            let _ = writeln!(s, "    简称: {}", q(&short.value));
        }
        if !u.aliases.is_empty() {
            let aliases: Vec<String> = u.aliases.iter().map(|a| q(&swap(&a.value))).collect();
            let _ = writeln!(s, "    别名: [{}]", aliases.join(", "));
        }
        let _ = writeln!(s, "    负责人:       # 请填写");
        let _ = writeln!(s, "    职务:");
    }
    let _ = writeln!(s);
    write_unit_groups(&mut s, &data, &dropped);
    // The table of this county names only units of this file.
    debug_assert!(catalog.items.iter().all(|i| {
        i.unit_names()
            .iter()
            .all(|n| !dropped.iter().any(|d| d == n))
    }));
    s
}

/// `任务分解表.yaml`: the county's task table (the embedded one adapted to it), with a note on
/// every row that differs from the seed's, for the office to review.
pub fn task_table_yaml(table: &Catalog) -> String {
    let seed = Catalog::get();
    let q = crate::yaml::quoted;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {}：创建“河南省质量强县示范县”工作任务分解表",
        table.county
    );
    let _ = writeln!(s, "#");
    let _ = writeln!(
        s,
        "# 由 dossier init 按示例（{}的任务分解表）生成，县名已换成{}。指标（items）和考核评分内容",
        seed.county, table.county
    );
    let _ = writeln!(
        s,
        "# （criteria 的 text）是省里定的，不要增删、不要调换顺序；本县可以改的是工作任务（tasks）的写法和"
    );
    let _ = writeln!(
        s,
        "# 编号、责任单位（units：写 units.yaml 里的名称、简称或别名；units_text：表里的原文）和验收方式。"
    );
    let _ = writeln!(
        s,
        "# 标有“请核对”的地方是与示例不同、需要对照本县实施方案确认的。"
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "source: {}", q(&table.source));
    let _ = writeln!(s, "county: {}", q(&table.county));
    let _ = writeln!(s, "groups:");
    for g in &table.groups {
        let _ = writeln!(s, "  - id: {}", q(&g.id));
        let _ = writeln!(s, "    title: {}", q(&g.title));
        let _ = writeln!(s, "    source_text: {}", q(&g.source_text));
        let items: Vec<String> = g.items.iter().map(u32::to_string).collect();
        let _ = writeln!(s, "    items: [{}]", items.join(", "));
    }
    let _ = writeln!(s, "items:");
    for item in &table.items {
        let seed_item = seed.item(item.number);
        let _ = writeln!(s, "  - number: {}", item.number);
        let _ = writeln!(s, "    title: {}", q(&item.title));
        let _ = writeln!(s, "    methods_text: {}", q(&item.methods_text));
        let methods: Vec<String> = item.methods.iter().map(|m| q(m)).collect();
        let _ = writeln!(s, "    methods: [{}]", methods.join(", "));
        let _ = writeln!(s, "    criteria:");
        for (k, c) in item.criteria.iter().enumerate() {
            let seed_c = seed_item.and_then(|i| i.criteria.get(k));
            write_criterion(&mut s, c, seed_c, &seed.county);
        }
    }
    s
}

/// One criterion of the task table, with a 请核对 comment where it differs from the sample's
/// criterion `seed` (of `seed_county`).
fn write_criterion(
    s: &mut String,
    c: &crate::catalog::Criterion,
    seed: Option<&crate::catalog::Criterion>,
    seed_county: &str,
) {
    let q = crate::yaml::quoted;
    if seed.is_some_and(|x| x.text != c.text) {
        let _ = writeln!(s, "      # 请核对：示例此处写的是{seed_county}");
    }
    let _ = writeln!(s, "      - text: {}", q(&c.text));
    if c.merged_with_previous {
        let _ = writeln!(s, "        merged_with_previous: true");
    }
    if seed.is_some_and(|x| x.units != c.units) {
        let _ = writeln!(
            s,
            "        # 请核对：示例的责任单位是“{}”（{seed_county}自己的单位），这里换成了本县的乡镇（街道办）",
            seed.map_or("", |x| x.units_text.as_str()),
        );
    }
    let _ = writeln!(s, "        units_text: {}", q(&c.units_text));
    let units: Vec<String> = c.units.iter().map(|u| q(u)).collect();
    let _ = writeln!(s, "        units: [{}]", units.join(", "));
    if !c.tasks.is_empty() {
        let _ = writeln!(s, "        tasks:");
    }
    for t in &c.tasks {
        let seed_t = seed.and_then(|x| x.tasks.iter().find(|y| y.number == t.number));
        if seed_t.is_some_and(|y| y.text != t.text) {
            let _ = writeln!(s, "          # 请核对：示例此处写的是{seed_county}");
        }
        let _ = writeln!(s, "          - number: {}", t.number);
        if t.unnumbered {
            let _ = writeln!(s, "            unnumbered: true");
        }
        let _ = writeln!(s, "            text: {}", q(&t.text));
    }
    if !c.targets.is_empty() {
        let _ = writeln!(s, "        targets:");
    }
    for t in &c.targets {
        let _ = writeln!(s, "          - {{{}}}", target_fields(t));
    }
    if !c.bonus.is_empty() {
        let _ = writeln!(s, "        bonus:");
    }
    for b in &c.bonus {
        let _ = writeln!(
            s,
            "          - {{condition: {}, points: {}}}",
            q(&b.condition),
            b.points
        );
    }
}

/// A target as a YAML flow mapping's fields.
fn target_fields(t: &crate::catalog::Target) -> String {
    let q = crate::yaml::quoted;
    let op = match t.op {
        crate::catalog::Op::Ge => ">=",
        crate::catalog::Op::Gt => ">",
        crate::catalog::Op::Le => "<=",
        crate::catalog::Op::Lt => "<",
    };
    let mut fields = vec![format!("name: {}", q(&t.name)), format!("op: {}", q(op))];
    if let Some(v) = t.value {
        fields.push(format!("value: {v}"));
    }
    if let Some(u) = &t.unit {
        fields.push(format!("unit: {}", q(u)));
    }
    if let Some(r) = &t.reference {
        fields.push(format!("reference: {}", q(r)));
    }
    if let Some(x) = &t.text {
        fields.push(format!("text: {}", q(x)));
    }
    fields.join(", ")
}

/// An item file of `county` with no records, its entry in `catalog` in comments.
pub fn item_yaml(catalog: &Catalog, item: &Item, county: &str) -> String {
    let mut s = String::new();
    let group = catalog
        .group_of(item.number)
        .map_or("", |g| g.source_text.as_str());
    let _ = writeln!(s, "# 指标{} {}", item.number, item.title);
    let _ = writeln!(s, "# 所属项目：{group}");
    let _ = writeln!(s, "# 验收方式：{}", item.methods.join("、"));
    let _ = writeln!(s, "#");
    let _ = writeln!(
        s,
        "# 考核评分内容（材料里写“考核内容: [序号]”）和工作任务（写“工作任务: [编号]”）："
    );
    for (i, c) in item.criteria.iter().enumerate() {
        let _ = writeln!(s, "#   {}. {}", i + 1, c.text);
        if c.merged_with_previous {
            let _ = writeln!(s, "#      （原表此行的工作任务、责任单位与上一行合并）");
        }
        for t in &c.tasks {
            let number = if t.unnumbered {
                format!("{}（原表未编号）", t.number)
            } else {
                t.number.to_string()
            };
            let _ = writeln!(s, "#      工作任务 {number}：{}", t.text);
        }
        if !c.units_text.is_empty() {
            let _ = writeln!(s, "#      责任单位：{}", c.units_text.replace('\n', ""));
        }
        for t in &c.targets {
            let goal = match (t.value, &t.reference) {
                (Some(v), _) => {
                    format!("{} {}{}", t.op.symbol(), v, t.unit.as_deref().unwrap_or(""))
                }
                (None, Some(r)) => format!("{} {r}", t.op.symbol()),
                (None, None) => String::new(),
            };
            let _ = writeln!(s, "#      量化目标：{} {goal}", t.name);
        }
        for b in &c.bonus {
            let _ = writeln!(s, "#      加分：{}，加{}分", b.condition, b.points);
        }
    }
    let _ = writeln!(s, "#");
    let _ = writeln!(
        s,
        "# 每件材料的写法（去掉行首的“# ”即可用；字段说明见 README）："
    );
    let _ = writeln!(
        s,
        "#  - 件号: 1                        # 本指标内的序号，打印后不要再改"
    );
    let _ = writeln!(s, "#    题名: 关于印发《……》的通知");
    let abbreviation: String = county.chars().take(1).collect();
    let _ = writeln!(
        s,
        "#    文号: {abbreviation}质强办〔2021〕1号        # 没有文号可不写"
    );
    let _ = writeln!(
        s,
        "#    责任者: {county}人民政府办公室     # 发文机关或形成材料的单位"
    );
    let _ = writeln!(s, "#    日期: 2021-03-03");
    let unit = item.unit_names().first().copied().unwrap_or("县创建办公室");
    let _ = writeln!(
        s,
        "#    责任单位: {unit}                 # 提供材料的单位，可写列表 [甲, 乙]"
    );
    let _ = writeln!(s, "#    考核内容: [1]");
    let _ = writeln!(s, "#    工作任务: [1]");
    let _ = writeln!(
        s,
        "#    文件: evidence/{:02}/文件名.pdf   # 多个文件写成列表",
        item.number
    );
    let _ = writeln!(s, "#    备注: ");
    let _ = writeln!(s);
    let _ = writeln!(s, "指标: {}", item.number);
    let _ = writeln!(s, "指标内容: {}", item.title);
    let _ = writeln!(s, "材料:");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, ItemFile};

    #[test]
    fn another_countys_files_parse_and_hold_nothing_of_the_sample() {
        let county = "宁陵县";
        let table = Catalog::get().for_county(county);
        let text = task_table_yaml(&table);
        let parsed: Catalog = crate::yaml::parse("任务分解表.yaml", &text).unwrap();
        assert_eq!(parsed, table, "the table written is the table read");
        let units = units_yaml(&table, county);
        let data: UnitsFile = crate::yaml::parse("units.yaml", &units).unwrap();
        let mut diags = Vec::new();
        let reg = crate::units::Registry::build("units.yaml", &data, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        for item in &table.items {
            for name in item.unit_names() {
                assert!(reg.resolve(name).is_some(), "{name}");
            }
        }
        assert!(
            reg.units.iter().all(|u| u.head.is_none()),
            "no sample officials"
        );
        let config = config_yaml(Date::parse("2022-05-20").unwrap(), county, None);
        let all = format!("{text}{units}{config}");
        let values: String = all
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        let seed = Catalog::get();
        let mut seed_only: Vec<String> = vec![seed.county.trim_end_matches('县').to_string()];
        seed_only.extend(
            seed.local_units
                .keys()
                .map(|u| u.trim_end_matches("街道办").to_string()),
        );
        let sample: UnitsFile = crate::yaml::parse("units.yaml", DEFAULT_UNITS_YAML).unwrap();
        seed_only.extend(sample.units.iter().filter_map(|u| u.value.head.clone()));
        assert!(seed_only.len() > 20);
        for name in &seed_only {
            assert!(
                !values.contains(name.as_str()),
                "{name} in another county's files"
            );
        }
        assert!(
            text.contains("# 请核对"),
            "changed rows are marked for review"
        );
        let _: Config = crate::yaml::parse("dossier.yaml", &config).unwrap();
    }

    #[test]
    fn generated_files_parse_and_round_trip_dates() {
        let date = Date::parse("2022-05-20").unwrap();
        let seed = Catalog::get();
        let config: Config = crate::yaml::parse(
            "dossier.yaml",
            &config_yaml(date, &seed.county, plan_period(seed)),
        )
        .unwrap();
        assert_eq!(config.date.value, date);
        assert!(config.period.is_some());
        for item in &Catalog::get().items {
            let text = item_yaml(seed, item, &seed.county);
            let parsed: ItemFile = crate::yaml::parse("items/x.yaml", &text).unwrap();
            assert_eq!(parsed.item.value, item.number);
            assert!(parsed.records.is_none());
            assert!(text.contains(&item.criteria[0].text));
        }
    }
}
