//! `dossier check`: load and validate, print every diagnostic and a summary. Writes nothing.

use crate::cli::CheckArgs;
use crate::cmd::{Status, print_report, status};
use crate::{load, validate};

/// Runs the check.
pub fn run(args: &CheckArgs) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let sources = load::load(root)?;
    let checked = validate::validate(sources);
    print_report(&checked.report, root);
    let c = checked.counts;
    let (errors, warnings) = (checked.report.errors(), checked.report.warnings());
    let verdict = if errors > 0 {
        "检查未通过"
    } else {
        "检查通过"
    };
    status(&format!(
        "{verdict}：{} 项指标，{} 件材料，{} 个文件，{} 页；{errors} 个错误，{warnings} 个警告",
        c.items, c.records, c.files, c.pages
    ));
    Ok(if errors > 0 {
        Status::DataErrors
    } else {
        Status::Ok
    })
}
