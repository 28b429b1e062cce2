//! `dossier init DIR`: writes a new dossier from the embedded catalog and units registry.
//! Refuses a folder that already has anything in it, so nothing of the user's is overwritten.

use std::path::Path;

use anyhow::{Context, bail};

use crate::catalog::Catalog;
use crate::cli::InitArgs;
use crate::cmd::{Status, status};
use crate::init;
use crate::load::{CONFIG_FILE, EVIDENCE_DIR, ITEMS_DIR, UNITS_FILE};
use crate::units::DEFAULT_UNITS_YAML;

/// Runs init.
pub fn run(args: &InitArgs) -> anyhow::Result<Status> {
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
    write_all(dir).with_context(|| format!("无法在 {} 写入新资料目录", dir.display()))?;
    status(&format!(
        "已新建资料目录 {}：{CONFIG_FILE}、{UNITS_FILE}、{ITEMS_DIR}/ 下 {} 个指标文件、{EVIDENCE_DIR}/ 证据文件夹。",
        dir.display(),
        Catalog::get().items.len()
    ));
    status(&format!(
        "下一步：修改 {CONFIG_FILE}，把证据文件放进 {EVIDENCE_DIR}/，在指标文件里登记材料，然后运行 dossier check {}",
        dir.display()
    ));
    Ok(Status::Ok)
}

fn write_all(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join(ITEMS_DIR))?;
    std::fs::write(dir.join(CONFIG_FILE), init::config_yaml(init::today()))?;
    std::fs::write(dir.join(UNITS_FILE), DEFAULT_UNITS_YAML)?;
    for item in &Catalog::get().items {
        std::fs::write(
            dir.join(ITEMS_DIR).join(format!("{:02}.yaml", item.number)),
            init::item_yaml(item),
        )?;
        std::fs::create_dir_all(dir.join(EVIDENCE_DIR).join(format!("{:02}", item.number)))?;
    }
    Ok(())
}
