//! `dossier init DIR`: writes a new dossier from the embedded catalog and units registry.
//! Refuses a folder that already has anything in it, so nothing of the user's is overwritten.

use std::path::Path;

use anyhow::{Context, bail};

use crate::catalog::Catalog;
use crate::cli::InitArgs;
use crate::cmd::{Env, Status, status};
use crate::init;
use crate::load::{CONFIG_FILE, EVIDENCE_DIR, ITEMS_DIR, TASK_TABLE_FILE, UNITS_FILE};
use crate::model::Date;
use crate::units::DEFAULT_UNITS_YAML;

/// Runs init.
pub fn run(args: &InitArgs, env: &Env) -> anyhow::Result<Status> {
    let dir = &args.dir;
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{} 已存在，而且不是文件夹", dir.display());
        }
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("无法读取 {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} 不是空文件夹；为了不覆盖已有文件，请换一个新文件夹名",
                dir.display()
            );
        }
    }
    let seed = Catalog::get();
    let county = args
        .county
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(&seed.county);
    if county
        .chars()
        .any(|c| c.is_control() || "\"\\:#".contains(c))
    {
        anyhow::bail!("县名“{county}”里有不能用的符号；请只写县名，如 --县 宁陵县");
    }
    let own = county != seed.county;
    let catalog = seed.for_county(county);
    write_all(dir, &catalog, own, env.today())
        .with_context(|| format!("无法在 {} 写入新资料目录", dir.display()))?;
    let table = if own {
        format!("{TASK_TABLE_FILE}（本县的任务分解表，标有“请核对”的地方请对照本县实施方案确认）、")
    } else {
        String::new()
    };
    status(&format!(
        "已新建{county}的资料目录 {}：{CONFIG_FILE}、{UNITS_FILE}、{table}{ITEMS_DIR}/ 下 {} 个指标文件、{EVIDENCE_DIR}/ 证据文件夹。",
        dir.display(),
        catalog.items.len()
    ));
    if args.county.is_none() {
        status(&format!(
            "没有用 --县 指定县名，按示例（{}）生成；为其他县新建请用：dossier init {} --县 某某县",
            seed.county,
            dir.display()
        ));
    } else if own {
        status(&format!(
            "请在 {UNITS_FILE} 里填写各单位的负责人，把本县的乡镇（街道办）加到“单位”和“各乡镇(街道办)”组里。"
        ));
    }
    status(&format!(
        "下一步：修改 {CONFIG_FILE}，把证据文件放进 {EVIDENCE_DIR}/，在指标文件里登记材料，然后运行 dossier check {}",
        dir.display()
    ));
    Ok(Status::Ok)
}

/// Writes the files of a new dossier for `catalog`'s county; `own` (another county than the
/// seed's): its own units registry without the sample's officials, and its task table.
fn write_all(dir: &Path, catalog: &Catalog, own: bool, today: Date) -> anyhow::Result<()> {
    let county = &catalog.county;
    std::fs::create_dir_all(dir.join(ITEMS_DIR))?;
    std::fs::write(
        dir.join(CONFIG_FILE),
        init::config_yaml(today, county, init::plan_period(catalog)),
    )?;
    if own {
        std::fs::write(dir.join(UNITS_FILE), init::units_yaml(catalog, county))?;
        std::fs::write(dir.join(TASK_TABLE_FILE), init::task_table_yaml(catalog))?;
    } else {
        std::fs::write(dir.join(UNITS_FILE), DEFAULT_UNITS_YAML)?;
    }
    for item in &catalog.items {
        std::fs::write(
            dir.join(ITEMS_DIR).join(format!("{:02}.yaml", item.number)),
            init::item_yaml(catalog, item, county),
        )?;
        std::fs::create_dir_all(dir.join(EVIDENCE_DIR).join(format!("{:02}", item.number)))?;
    }
    Ok(())
}
