//! `dossier binder`: one evidence binder per responsible unit (see [`crate::binders`]), for one
//! unit or all of them; says which units have no work and where the binders went.

use serde_json::json;

use crate::binders::{self, BinderOptions, Which};
use crate::cli::BinderArgs;
use crate::cmd::{Env, Printer, Status, json};

/// Runs the binder command.
pub fn run(args: &BinderArgs, env: &Env) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let out = Printer::new(args.output.format, root, env);
    let which = match &args.unit {
        Some(name) => Which::Unit(name.clone()),
        None => Which::All,
    };
    let opts = BinderOptions {
        out: args.out.clone(),
        duplex: !args.simplex,
        normalize: !args.no_normalize,
        ocr: args.ocr,
        date: env.source_date,
    };
    let mut progress = out.progress(env);
    let outcome = binders::run(root, &opts, &which, &mut progress)?;
    out.report(&outcome.report);
    let (errors, warnings) = (outcome.report.errors(), outcome.report.warnings());
    let Some(made) = outcome.value else {
        out.say(&format!(
            "有 {errors} 个错误，没有生成证据册；已有的证据册保持不变。"
        ));
        out.json_line(&json::summary("binder", false, errors, warnings, json!({})));
        return Ok(Status::DataErrors);
    };
    for unit in &made.without_work {
        out.say(&format!(
            "{unit} 没有承担任务，也没有提供材料，不生成证据册。"
        ));
    }
    for m in &made.made {
        out.result(&format!(
            "已生成 {}：{} 件材料，{} 页",
            m.path.display(),
            m.records,
            m.pages
        ));
        out.json_line(&json::output(
            &m.path,
            "binder",
            Some(m.pages),
            Some(&m.unit),
        ));
    }
    let pages: usize = made.made.iter().map(|m| m.pages).sum();
    // One file per box; a unit's binder is one box unless it is cut into several.
    let binders = made
        .made
        .iter()
        .filter(|m| m.part.is_none_or(|(n, _)| n == 1))
        .count();
    let boxes = made.made.len();
    if !made.made.is_empty() {
        out.result(&format!(
            "共生成 {binders} 本证据册{}（{pages} 页，{}）到 {}",
            if boxes > binders {
                format!("，分装 {boxes} 盒")
            } else {
                String::new()
            },
            if opts.duplex {
                "双面打印"
            } else {
                "单面打印"
            },
            made.dir.display(),
        ));
    }
    out.json_line(&json::summary(
        "binder",
        true,
        errors,
        warnings,
        json!({"binders": binders, "boxes": boxes, "pages": pages, "without_work": made.without_work}),
    ));
    Ok(Status::Ok)
}
