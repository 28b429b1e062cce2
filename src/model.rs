//! The dossier's files as the clerks write them: `dossier.yaml`, `units.yaml` and one
//! `items/NN.yaml` per assessment item, deserialised with Chinese keys.
//!
//! These types only describe the shape of the YAML. Unknown and duplicate keys are rejected
//! by the parser; everything that needs more than one file to check (units, criteria, evidence
//! paths, 件号) is the job of [`crate::validate`]. Values that later checks must point at keep
//! their source position ([`Spanned`]).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
pub use serde_saphyr::Spanned;

/// `dossier.yaml`: what the dossier is and how it is built.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Title printed on the cover.
    #[serde(rename = "标题")]
    pub title: String,
    /// The county applying.
    #[serde(rename = "县")]
    pub county: String,
    /// The applicant (申报单位).
    #[serde(rename = "申报单位")]
    pub applicant: String,
    /// Who compiled the dossier (编制单位).
    #[serde(rename = "编制单位")]
    pub compiler: String,
    /// Version of the dossier, e.g. "1.0".
    #[serde(rename = "版本")]
    pub version: Scalar,
    /// Date of the dossier: printed on the cover and used as the PDF's timestamp.
    #[serde(rename = "日期")]
    pub date: Spanned<Date>,
    /// The creation period of the plan; record dates outside it are warned about.
    #[serde(rename = "创建期", default)]
    pub period: Option<Period>,
    /// File name (without extension) of the outputs.
    #[serde(rename = "输出文件名", default)]
    pub output_name: Option<Spanned<String>>,
    /// Extra fonts and the families to use for each role.
    #[serde(rename = "字体", default)]
    pub fonts: Option<FontConfig>,
    /// Export PDF/A-3b (archival). Not possible when evidence PDFs are embedded.
    #[serde(rename = "PDF/A", default)]
    pub pdfa: Option<Spanned<YesNo>>,
    /// Archive data printed on the binders' box labels (DA/T 22-2015).
    #[serde(rename = "归档", default)]
    pub archive: Option<Archive>,
    /// Read the text of scanned evidence pages and lay it over them as an invisible text
    /// layer (as `build --ocr`).
    #[serde(rename = "文字识别", default)]
    pub ocr: Option<Spanned<YesNo>>,
    /// The revision history, printed as a 修订记录 page.
    #[serde(rename = "修订记录", default)]
    pub revisions: Vec<Revision>,
    /// How the dossier is cut into volumes (分册).
    #[serde(rename = "分册", default)]
    pub volumes: Option<VolumeConfig>,
    /// Deadlines for collecting evidence, shown by `dossier status`.
    #[serde(rename = "进度", default)]
    pub progress: Option<ProgressConfig>,
}

/// `进度`: by when the units are to hand in their evidence. A unit's own date replaces the
/// general one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressConfig {
    /// The date every unit's evidence is due.
    #[serde(rename = "截止日期", default)]
    pub deadline: Option<Spanned<Date>>,
    /// Deadlines of single units (or unit groups): name → date.
    #[serde(rename = "各单位截止日期", default)]
    pub units: Option<Spanned<std::collections::BTreeMap<String, Date>>>,
}

/// `分册`: a dossier with more evidence pages than the limit is cut into volumes, each a PDF
/// of whole items, plus a master volume (总目录) with the summary, contents and indexes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeConfig {
    /// Evidence pages per volume at most (an item bigger than this gets a volume of its own);
    /// 0 never cuts by pages.
    #[serde(rename = "每册页数上限", default)]
    pub max_pages: Option<usize>,
    /// Megabytes per volume PDF at most (for upload limits), estimated from the evidence each
    /// item embeds; 0 or absent never cuts by size.
    #[serde(rename = "每册大小上限", default)]
    pub max_mb: Option<f64>,
}

/// One entry of the revision history (修订记录).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    /// Version after the correction.
    #[serde(rename = "版本")]
    pub version: Scalar,
    /// Date of the correction.
    #[serde(rename = "日期")]
    pub date: Date,
    /// What was corrected.
    #[serde(rename = "内容")]
    pub note: String,
}

/// `归档`: what the archive box labels of the unit binders show.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    /// 全宗号.
    #[serde(rename = "全宗号", default)]
    pub fonds: Option<Scalar>,
    /// 年度.
    #[serde(rename = "年度", default)]
    pub year: Option<Scalar>,
    /// 保管期限 (永久, 定期30年, 定期10年), for every record that does not say otherwise.
    #[serde(rename = "保管期限", default)]
    pub retention: Option<Spanned<Scalar>>,
    /// 盒号 of each unit's box: unit name → number.
    #[serde(rename = "盒号", default)]
    pub boxes: Option<Spanned<std::collections::BTreeMap<String, Scalar>>>,
}

/// `字体`: fonts an office adds (its own 仿宋_GB2312, 方正小标宋 …) and which family each role
/// uses. Without it only the embedded fonts are used.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FontConfig {
    /// Font files or folders, relative to the dossier root.
    #[serde(rename = "文件", default)]
    pub files: Vec<Spanned<String>>,
    /// Family for body text (宋体 role), e.g. 仿宋_GB2312.
    #[serde(rename = "正文", default)]
    pub song: Option<Spanned<String>>,
    /// Family for headings and tables (黑体 role).
    #[serde(rename = "黑体", default)]
    pub hei: Option<Spanned<String>>,
    /// Family for notes (楷体 role).
    #[serde(rename = "楷体", default)]
    pub kai: Option<Spanned<String>>,
    /// Family for the cover and group titles (小标宋 role).
    #[serde(rename = "标题", default)]
    pub title: Option<Spanned<String>>,
}

/// The creation period (创建期).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First day.
    #[serde(rename = "起")]
    pub start: Spanned<Date>,
    /// Last day.
    #[serde(rename = "止")]
    pub end: Spanned<Date>,
}

/// `units.yaml`: the registry of responsible units.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitsFile {
    /// The leading group of 附件1 (for the record; printed in the dossier).
    #[serde(rename = "领导小组", default)]
    pub leading_group: Option<LeadingGroup>,
    /// The units.
    #[serde(rename = "单位")]
    pub units: Vec<Spanned<UnitEntry>>,
    /// Collective names that stand for several units.
    #[serde(rename = "单位组", default)]
    pub groups: Vec<Spanned<GroupEntry>>,
}

/// The leading group (领导小组) as listed in 附件1.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadingGroup {
    /// Its name.
    #[serde(rename = "名称")]
    pub name: String,
    /// Leader(s), "name（title）".
    #[serde(rename = "组长", default)]
    pub leaders: Vec<String>,
    /// Deputy leaders.
    #[serde(rename = "副组长", default)]
    pub deputies: Vec<String>,
    /// Where its office sits and who runs it.
    #[serde(rename = "办公室", default)]
    pub office: Option<String>,
}

/// One unit of the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitEntry {
    /// Official name (printed on the unit's binder).
    #[serde(rename = "名称")]
    pub name: Spanned<String>,
    /// The short name the task table uses.
    #[serde(rename = "简称", default)]
    pub short: Option<Spanned<String>>,
    /// Other spellings.
    #[serde(rename = "别名", default)]
    pub aliases: Vec<Spanned<String>>,
    /// Head of the unit.
    #[serde(rename = "负责人", default)]
    pub head: Option<String>,
    /// The head's title.
    #[serde(rename = "职务", default)]
    pub head_title: Option<String>,
}

/// A collective name (单位组) such as 县创建各成员单位.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    /// The collective name.
    #[serde(rename = "名称")]
    pub name: Spanned<String>,
    /// Other spellings.
    #[serde(rename = "别名", default)]
    pub aliases: Vec<Spanned<String>>,
    /// Member units (name, short name or alias).
    #[serde(rename = "成员")]
    pub members: Vec<Spanned<String>>,
}

/// `items/NN.yaml`: one assessment item and its evidence records. `材料:` left empty means no
/// records yet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFile {
    /// The item's number in the catalog (1–21).
    #[serde(rename = "指标")]
    pub item: Spanned<u32>,
    /// The item's title, for the reader of the file; checked against the catalog.
    #[serde(rename = "指标内容", default)]
    pub title: Option<Spanned<String>>,
    /// The evidence records.
    #[serde(rename = "材料", default)]
    pub records: Option<Vec<Spanned<Record>>>,
}

/// One evidence record (一件材料), with DA/T 22-2015 names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// 件号: the record's number inside its item, stable across edits.
    #[serde(rename = "件号", default)]
    pub number: Option<Spanned<u32>>,
    /// 题名: title.
    #[serde(rename = "题名", default)]
    pub title: Option<Spanned<String>>,
    /// 文号: document number, e.g. 民政办〔2021〕12号.
    #[serde(rename = "文号", default)]
    pub doc_number: Option<Scalar>,
    /// 责任者: who issued the document.
    #[serde(rename = "责任者", default)]
    pub issuer: Option<String>,
    /// 日期: date of the document.
    #[serde(rename = "日期", default)]
    pub date: Option<Spanned<Date>>,
    /// 责任单位: the unit(s) that supplied the record.
    #[serde(rename = "责任单位", default)]
    pub units: Option<OneOrMany<String>>,
    /// 考核内容: positions (1-based) of the item's criteria this record supports.
    #[serde(rename = "考核内容", default)]
    pub criteria: Option<OneOrMany<u32>>,
    /// 工作任务: numbers of the item's tasks this record supports.
    #[serde(rename = "工作任务", default)]
    pub tasks: Option<OneOrMany<u32>>,
    /// 文件: the evidence file(s), paths relative to the dossier root.
    #[serde(rename = "文件", default)]
    pub files: Option<OneOrMany<FileNode>>,
    /// 实测: measured values against the criterion's targets.
    #[serde(rename = "实测", default)]
    pub measures: Option<OneOrMany<Measure>>,
    /// 备注: remarks.
    #[serde(rename = "备注", default)]
    pub remark: Option<String>,
    /// 保管期限 of this record, when it differs from `归档: 保管期限` in dossier.yaml.
    #[serde(rename = "保管期限", default)]
    pub retention: Option<Spanned<String>>,
    /// 地点: where a photo was taken (DA/T 50 照片说明).
    #[serde(rename = "地点", default)]
    pub place: Option<String>,
    /// 人物: who is in a photo.
    #[serde(rename = "人物", default)]
    pub people: Option<String>,
    /// 摄影者: who took a photo.
    #[serde(rename = "摄影者", default)]
    pub photographer: Option<String>,
    /// 加分: the bonus points this record claims (bonus items only).
    #[serde(rename = "加分", default)]
    pub bonus: Option<Spanned<u32>>,
}

/// 保管期限 (DA/T 22-2015): how long the archive keeps a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Retention {
    /// 永久.
    Permanent,
    /// 定期30年.
    Years30,
    /// 定期10年.
    Years10,
}

impl Retention {
    /// Reads 永久, 定期30年 / 30年 / D30, 定期10年 / 10年 / D10 (and the codes Y, D30, D10).
    pub fn parse(text: &str) -> Option<Retention> {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        Some(match t.to_ascii_uppercase().as_str() {
            "永久" | "Y" => Retention::Permanent,
            "定期30年" | "30年" | "D30" => Retention::Years30,
            "定期10年" | "10年" | "D10" => Retention::Years10,
            _ => return None,
        })
    }

    /// As printed: 永久, 定期30年, 定期10年.
    pub fn label(self) -> &'static str {
        match self {
            Retention::Permanent => "永久",
            Retention::Years30 => "定期30年",
            Retention::Years10 => "定期10年",
        }
    }

    /// The code in an archive number (档号): Y, D30, D10.
    pub fn code(self) -> &'static str {
        match self {
            Retention::Permanent => "Y",
            Retention::Years30 => "D30",
            Retention::Years10 => "D10",
        }
    }
}

/// One evidence file of a record: a path, or a path with options.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Path relative to the dossier root, as written.
    pub path: Spanned<String>,
    /// 页码: which pages of a PDF go into the dossier.
    pub pages: Option<Spanned<PageSelection>>,
    /// 仅入包: the file goes only into the package, not into the PDF.
    pub package_only: bool,
}

/// A `文件` entry as written: a bare path or a mapping with options.
#[derive(Debug, Clone)]
pub enum FileNode {
    /// `- evidence/05/方案.pdf`
    Path(String),
    /// `- {路径: evidence/05/方案.pdf, 页码: 2-3}`
    Map(FileMap),
}

/// The mapping form of a `文件` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMap {
    /// 路径
    #[serde(rename = "路径")]
    pub path: Spanned<String>,
    /// 页码
    #[serde(rename = "页码", default)]
    pub pages: Option<Spanned<PageSelection>>,
    /// 仅入包
    #[serde(rename = "仅入包", default)]
    pub package_only: Option<YesNo>,
}

impl<'de> Deserialize<'de> for FileNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FileNode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("文件路径，或含“路径”的映射")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileNode, E> {
                Ok(FileNode::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FileNode, A::Error> {
                FileMap::deserialize(de::value::MapAccessDeserializer::new(map)).map(FileNode::Map)
            }
        }
        d.deserialize_any(V)
    }
}

impl FileEntry {
    /// The entry of a `文件` node; a bare path takes the node's position.
    pub fn from_node(node: &Spanned<FileNode>) -> FileEntry {
        match &node.value {
            FileNode::Path(p) => FileEntry {
                path: Spanned {
                    value: p.clone(),
                    referenced: node.referenced,
                    defined: node.defined,
                },
                pages: None,
                package_only: false,
            },
            FileNode::Map(m) => FileEntry {
                path: m.path.clone(),
                pages: m.pages.clone(),
                package_only: m.package_only.is_some_and(|y| y.0),
            },
        }
    }
}

/// A measured value (实测) of a record against one of its criterion's targets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// Which criterion (1-based); may be left out when only one criterion of the item has
    /// targets.
    #[serde(rename = "考核内容", default)]
    pub criterion: Option<Spanned<u32>>,
    /// Which target, by name; may be left out when the criterion has one target.
    #[serde(rename = "指标项", default)]
    pub target: Option<Spanned<String>>,
    /// The measured value, in the target's unit.
    #[serde(rename = "数值")]
    pub value: f64,
    /// For a relative target (全省平均水平), the value compared with.
    #[serde(rename = "参照值", default)]
    pub reference: Option<f64>,
    /// Where the number comes from, e.g. 2021年全年抽检.
    #[serde(rename = "说明", default)]
    pub note: Option<String>,
}

/// A value written once or as a list: `责任单位: 市场监管局` or `责任单位: [市场监管局, 财政局]`.
/// Every value keeps its position.
#[derive(Debug, Clone, PartialEq)]
pub struct OneOrMany<T>(pub Vec<Spanned<T>>);

impl<T> OneOrMany<T> {
    /// The values.
    pub fn iter(&self) -> std::slice::Iter<'_, Spanned<T>> {
        self.0.iter()
    }
}

enum OneOrManyNode<T> {
    One(T),
    Many(Vec<Spanned<T>>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrManyNode<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrManyNode<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("一个值或一个列表")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(OneOrManyNode::Many(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(OneOrManyNode::One)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(v)).map(OneOrManyNode::One)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(de::value::U64Deserializer::new(v)).map(OneOrManyNode::One)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(de::value::I64Deserializer::new(v)).map(OneOrManyNode::One)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                T::deserialize(de::value::F64Deserializer::new(v)).map(OneOrManyNode::One)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::deserialize(de::value::BoolDeserializer::new(v)).map(OneOrManyNode::One)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let node = Spanned::<OneOrManyNode<T>>::deserialize(d)?;
        Ok(match node.value {
            OneOrManyNode::One(value) => OneOrMany(vec![Spanned {
                value,
                referenced: node.referenced,
                defined: node.defined,
            }]),
            OneOrManyNode::Many(values) => OneOrMany(values),
        })
    }
}

/// A text value that may be written as a number (`版本: 1.0`, `文号: 12`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("一段文字")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A yes/no value: `是`/`否` as well as `true`/`false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YesNo(pub bool);

impl<'de> Deserialize<'de> for YesNo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = YesNo;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("是 或 否")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<YesNo, E> {
                Ok(YesNo(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<YesNo, E> {
                match v.trim() {
                    "是" | "true" | "True" | "TRUE" => Ok(YesNo(true)),
                    "否" | "false" | "False" | "FALSE" => Ok(YesNo(false)),
                    _ => Err(E::custom(format!("“{v}”不是“是”或“否”"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A calendar date written `2021-03-03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31 (checked against the month).
    pub day: u8,
}

impl Date {
    /// The earliest year a date may have (dates before it are typing mistakes).
    pub const FIRST_YEAR: u16 = 1949;
    /// The latest year a date may have.
    pub const LAST_YEAR: u16 = 2100;

    /// Parses `YYYY-MM-DD` (digits only), checking that the day exists and that the year is
    /// plausible ([`Date::FIRST_YEAR`]–[`Date::LAST_YEAR`]).
    pub fn parse(text: &str) -> Result<Date, String> {
        let t = text.trim();
        let parts: Vec<&str> = t.split('-').collect();
        let bad = || format!("“{t}”不是日期：应写成“2021-03-03”这样的“年-月-日”");
        let [y, m, d] = parts.as_slice() else {
            return Err(bad());
        };
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        // Only digits: `parse` would also take signs ("2021-+3-+5").
        if y.len() != 4 || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
            return Err(bad());
        }
        let (Ok(year), Ok(month), Ok(day)) = (y.parse::<u16>(), m.parse::<u8>(), d.parse::<u8>())
        else {
            return Err(bad());
        };
        if !(Date::FIRST_YEAR..=Date::LAST_YEAR).contains(&year) {
            return Err(format!(
                "“{t}”的年份 {year} 不合理：应在 {}–{} 年之间",
                Date::FIRST_YEAR,
                Date::LAST_YEAR
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(format!("“{t}”不是日期：没有{month}月"));
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if day == 0 || day > days {
            return Err(format!("“{t}”不是日期：{year}年{month}月没有{day}日"));
        }
        Ok(Date { year, month, day })
    }

    /// Days since 1970-01-01 (for timestamps).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
    pub fn from_days_since_epoch(days: i64) -> Date {
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

    /// As DA/T 22 writes dates: 20210303.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// As written in the dossier: 2021年3月3日.
    pub fn chinese(self) -> String {
        format!("{}年{}月{}日", self.year, self.month, self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Date;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("日期，如 2021-03-03")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Date, E> {
                Date::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Date, E> {
                Err(E::custom(format!(
                    "“{v}”不是日期：应写成“2021-03-03”这样的“年-月-日”"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Date, E> {
                Err(E::custom(format!(
                    "“{v}”不是日期：应写成“2021-03-03”这样的“年-月-日”"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Date, E> {
                Err(E::custom(format!(
                    "“{v}”不是日期：应写成“2021-03-03”这样的“年-月-日”"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A page selection such as `3`, `2-5` or `1-3, 7, 9-`, 1-based and inclusive; an open end
/// runs to the last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSelection {
    /// Inclusive ranges; `None` as the end means "to the last page".
    pub ranges: Vec<(u32, Option<u32>)>,
    /// As written.
    pub text: String,
}

impl PageSelection {
    /// Parses a selection. Accepts `,`, `，` and `、` between parts and `-`, `–`, `~`, `至`
    /// inside a range.
    pub fn parse(text: &str) -> Result<PageSelection, String> {
        let bad = |why: &str| format!("页码“{text}”写得不对：{why}。应写成“3”“2-5”或“1-3, 7”");
        let mut ranges = Vec::new();
        for part in text.split([',', '，', '、']) {
            let part = part.trim();
            if part.is_empty() {
                return Err(bad("有空的部分"));
            }
            let num = |s: &str| -> Result<u32, String> {
                let n: u32 = s
                    .trim()
                    .parse()
                    .map_err(|_| bad(&format!("“{}”不是页码", s.trim())))?;
                if n == 0 {
                    Err(bad("页码从 1 开始"))
                } else {
                    Ok(n)
                }
            };
            match part.split_once(['-', '–', '~', '至']) {
                None => {
                    let n = num(part)?;
                    ranges.push((n, Some(n)));
                }
                Some((a, b)) => {
                    let a = num(a)?;
                    if b.trim().is_empty() {
                        ranges.push((a, None));
                    } else {
                        let b = num(b)?;
                        if b < a {
                            return Err(bad(&format!("{a}-{b} 起页大于止页")));
                        }
                        ranges.push((a, Some(b)));
                    }
                }
            }
        }
        Ok(PageSelection {
            ranges,
            text: text.to_string(),
        })
    }

    /// The highest page the selection names explicitly.
    pub fn max_page(&self) -> u32 {
        self.ranges
            .iter()
            .map(|&(a, b)| b.unwrap_or(a))
            .max()
            .unwrap_or(0)
    }

    /// The selected 1-based pages of a document with `count` pages, in order.
    pub fn pages(&self, count: u32) -> Vec<u32> {
        let mut out = Vec::new();
        for &(a, b) in &self.ranges {
            let end = b.unwrap_or(count).min(count);
            out.extend(a..=end);
        }
        out
    }
}

impl<'de> Deserialize<'de> for PageSelection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PageSelection;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("页码，如 3、2-5 或 1-3, 7")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PageSelection, E> {
                PageSelection::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PageSelection, E> {
                PageSelection::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PageSelection, E> {
                PageSelection::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_against_the_calendar() {
        assert_eq!(
            Date::parse("2021-03-03").unwrap(),
            Date {
                year: 2021,
                month: 3,
                day: 3
            }
        );
        assert_eq!(Date::parse("2020-2-29").unwrap().day, 29);
        assert!(Date::parse("2021-02-29").unwrap_err().contains("没有29日"));
        assert!(Date::parse("2021-13-01").unwrap_err().contains("没有13月"));
        assert!(Date::parse("2021年3月3日").is_err());
        assert!(Date::parse("三月").is_err());
        // Signs, spaces inside and implausible years are refused.
        assert!(Date::parse("2021-+3-+5").unwrap_err().contains("不是日期"));
        assert!(Date::parse("2021- 3-05").is_err());
        assert!(
            Date::parse("0000-01-01")
                .unwrap_err()
                .contains("年份 0 不合理")
        );
        assert!(Date::parse("1900-01-01").unwrap_err().contains("1949–2100"));
        assert!(Date::parse("2101-01-01").is_err());
        assert!(Date::parse("1949-01-01").is_ok());
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        assert_eq!(Date::parse("2022-05-20").unwrap().days_since_epoch(), 19132);
        let d = Date::parse("2022-05-20").unwrap();
        assert_eq!(Date::from_days_since_epoch(d.days_since_epoch()), d);
    }

    #[test]
    fn page_selections_parse_and_expand() {
        let s = PageSelection::parse("1-3, 7，9-").unwrap();
        assert_eq!(s.ranges, vec![(1, Some(3)), (7, Some(7)), (9, None)]);
        assert_eq!(s.pages(10), vec![1, 2, 3, 7, 9, 10]);
        assert_eq!(s.max_page(), 9);
        assert!(PageSelection::parse("0").is_err());
        assert!(PageSelection::parse("5-2").is_err());
        assert!(PageSelection::parse("a").is_err());
        assert!(PageSelection::parse("1,,2").is_err());
    }
}
