//! `dossier templates [DIR]`: writes the built-in templates into the dossier's `templates/`
//! folder for the county office to customise; a template already there is kept.

use crate::cli::TemplatesArgs;
use crate::cmd::{Status, status};
use crate::render;

/// Runs templates.
pub fn run(args: &TemplatesArgs) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let done = render::export_templates(root)?;
    for rel in &done.written {
        println!("已写出 {}", root.join(rel).display());
    }
    for rel in &done.kept {
        status(&format!(
            "{} 已经存在，是本县自己的模板，没有覆盖（要换回内置模板，先删去它再运行本命令）",
            root.join(rel).display()
        ));
    }
    if !done.written.is_empty() {
        status(
            "资料目录 templates/ 里的模板代替同名的内置模板，生成汇编时使用。只改需要改的文件，其余的建议删去：\
             留在这里的模板不会随程序更新。模板出错时，错误信息会指出是哪个模板文件的哪一行。",
        );
    }
    Ok(Status::Ok)
}
