//! `dossier check`: load and validate, check the fonts, the characters they print and the
//! templates; print every diagnostic and a summary. Writes nothing.

use serde_json::json;

use crate::cli::CheckArgs;
use crate::cmd::{Env, Printer, Status, json};
use crate::engine;

/// Runs the check.
pub fn run(args: &CheckArgs, env: &Env) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let out = Printer::new(args.output.format, root, env);
    let checked = engine::check(root, &args.out)?;
    out.report(&checked.report);
    let c = checked.counts;
    let (errors, warnings) = (checked.report.errors(), checked.report.warnings());
    let verdict = if errors > 0 {
        "检查未通过"
    } else {
        "检查通过"
    };
    out.result(&format!(
        "{verdict}：{} 项指标，{} 件材料，{} 个文件，{} 页；{errors} 个错误，{warnings} 个警告",
        c.items, c.records, c.files, c.pages
    ));
    if c.pages_without_text > 0 {
        // Information, not a warning: scans are what they are.
        out.say(&format!(
            "其中 {} 页证据没有文字层（扫描件、照片）：在汇编 PDF 里搜不到、也复制不出上面的文字；生成时加 --ocr 可识别文字、加上文字层。",
            c.pages_without_text
        ));
    }
    out.json_line(&json::summary(
        "check",
        errors == 0,
        errors,
        warnings,
        json!({"items": c.items, "records": c.records, "files": c.files, "pages": c.pages,
               "pages_without_text": c.pages_without_text}),
    ));
    Ok(if errors > 0 {
        Status::DataErrors
    } else {
        Status::Ok
    })
}
