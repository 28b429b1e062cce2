//! The files of a new dossier: `dossier.yaml` with a comment on every field, the default units
//! registry, and one item file per catalog item whose comments carry the item's criteria,
//! tasks, units, methods and targets (the data itself stays in the embedded catalog).

use std::fmt::Write as _;

use crate::catalog::{Catalog, Item};
use crate::model::Date;

/// `dossier.yaml` for a new dossier dated `date`.
pub fn config_yaml(date: Date) -> String {
    format!(
        r#"# 资料汇编的基本信息。“#”后面是说明，不影响内容。
# 字段名不要改；值里如有英文冒号加空格、“#”等符号，请用英文双引号把整段括起来。

# 封面标题
标题: "民权县创建“河南省质量强县示范县”验收资料汇编"
# 申报的县
县: 民权县
# 申报单位
申报单位: 民权县人民政府
# 编制单位（印在封面和每页页脚）
编制单位: 民权县创建河南省质量强县示范县工作领导小组办公室
# 版本号：每次修改后重新生成时加大，如 1.0 → 1.1
版本: "1.0"
# 汇编日期：印在封面上，也是 PDF 的创建时间（同样的资料生成同样的文件）
日期: {date}
# 创建期：材料日期不在此期间内会给出警告（实施方案：2020年11月至2022年6月）
创建期:
  起: 2020-11-01
  止: 2022-06-30
# 输出文件名（不含扩展名）：生成 out/文件名.pdf 和 out/文件名.zip
输出文件名: 民权县质量强县示范县验收资料

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
#   盒号:                         # 各单位证据册的盒号
#     县创建办公室: 1
#     市场监管局: 2
"#
    )
}

/// An item file with no records, its catalog entry in comments.
pub fn item_yaml(item: &Item) -> String {
    let catalog = Catalog::get();
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
    let _ = writeln!(s, "#    文号: 民质强办〔2021〕1号        # 没有文号可不写");
    let _ = writeln!(
        s,
        "#    责任者: 民权县人民政府办公室     # 发文机关或形成材料的单位"
    );
    let _ = writeln!(s, "#    日期: 2021-03-03");
    let unit = item.unit_names().first().copied().unwrap_or("市场监管局");
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

/// Today's date from `SOURCE_DATE_EPOCH` if set, else the system clock (UTC). Only `init`
/// uses it, to fill in a new dossier's date; builds take their date from `dossier.yaml`.
pub fn today() -> Date {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    civil_from_days(secs.div_euclid(86_400))
}

/// The date `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
pub fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    Date { year, month, day }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, ItemFile};

    #[test]
    fn generated_files_parse_and_round_trip_dates() {
        let date = Date::parse("2022-05-20").unwrap();
        assert_eq!(civil_from_days(date.days_since_epoch()), date);
        let config: Config = crate::yaml::parse("dossier.yaml", &config_yaml(date)).unwrap();
        assert_eq!(config.date.value, date);
        for item in &Catalog::get().items {
            let text = item_yaml(item);
            let parsed: ItemFile = crate::yaml::parse("items/x.yaml", &text).unwrap();
            assert_eq!(parsed.item.value, item.number);
            assert!(parsed.records.is_none());
            assert!(text.contains(&item.criteria[0].text));
        }
    }
}
