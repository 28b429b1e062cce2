//! `dossier export` and `dossier import`: the record table as a workbook and back.

use anyhow::{Context, bail};
use serde_json::json;

use crate::cli::{ExportArgs, ImportArgs};
use crate::cmd::{Env, Printer, Status, json};
use crate::import::{At, Plan};

/// Runs the export.
pub fn export(args: &ExportArgs, env: &Env) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let out = Printer::new(crate::cli::Format::Text, root, env);
    refuse_existing(&args.xlsx, args.force)?;
    let sources = crate::load::load(root)?;
    let items = sources.items.clone();
    let checked = crate::validate::validate(sources);
    let Some(d) = checked.dossier.as_ref().or(checked.incomplete.as_ref()) else {
        out.report(&checked.report);
        out.say("dossier.yaml 或 units.yaml 读不出来，无法导出。请先改正上面的错误。");
        return Ok(Status::DataErrors);
    };
    let unit = match &args.unit {
        None => None,
        Some(name) => match d.registry.resolve(name) {
            Some(crate::units::Resolved::Unit(u)) => Some(u),
            Some(crate::units::Resolved::Group(_)) => {
                bail!("“{name}”是单位组；请写组里的一个单位")
            }
            None => bail!("单位名录里没有“{name}”；请写 units.yaml 里的名称、简称或别名"),
        },
    };
    let bytes = crate::sheets::export_workbook(&crate::sheets::Source {
        items: &items,
        catalog: &d.catalog,
        registry: &d.registry,
        date: env.today(),
        unit,
    })?;
    crate::output::write_atomic(&args.xlsx, &bytes)
        .with_context(|| format!("无法写入 {}", args.xlsx.display()))?;
    let records: usize = items
        .iter()
        .map(|(_, f)| f.records.as_ref().map_or(0, Vec::len))
        .sum();
    match unit {
        Some(u) => out.result(&format!(
            "已导出{}的任务表到 {}：填好后用 dossier import {} {} 读回",
            d.registry.units[u].short,
            args.xlsx.display(),
            root.display(),
            args.xlsx.display()
        )),
        None => out.result(&format!(
            "已导出 {records} 件材料和各单位的任务表到 {}：改好后用 dossier import {} {} 读回",
            args.xlsx.display(),
            root.display(),
            args.xlsx.display()
        )),
    }
    if checked.report.has_errors() {
        out.say(&format!(
            "注意：资料目录有 {} 个错误（dossier check 查看）；读不出来的指标文件里的材料没有导出。",
            checked.report.errors()
        ));
    }
    Ok(Status::Ok)
}

/// Runs the import.
pub fn import(args: &ImportArgs, env: &Env) -> anyhow::Result<Status> {
    let (root, file) = (&args.dir(), &args.file());
    let out = Printer::new(args.output.format, root, env);
    let shown = std::fs::canonicalize(file)
        .unwrap_or_else(|_| file.clone())
        .to_string_lossy()
        .into_owned();
    let read = crate::import::read_workbook(file, &shown)?;
    let plan = crate::import::plan(root, read, &shown)?;
    out.report(&plan.report);
    print_plan(&out, &plan);
    let (errors, warnings) = (plan.report.errors(), plan.report.warnings());
    let counts = json!({
        "added": plan.added.len(), "changed": plan.changed.len(), "removed": plan.removed.len(),
        "unchanged": plan.unchanged, "already": plan.already.len(),
        "kept": plan.missing_from_table.len(), "row_errors": plan.row_errors,
        "applied": args.apply && plan.row_errors == 0,
    });
    if plan.row_errors > 0 {
        out.say(&format!(
            "有 {} 处错误，没有写入任何文件。改正后重新导入。",
            plan.row_errors
        ));
        out.json_line(&json::summary("import", false, errors, warnings, counts));
        return Ok(Status::DataErrors);
    }
    if plan.files.is_empty() {
        out.result("登记表与资料目录一致，没有要改动的材料。");
    } else if args.apply {
        let written = crate::import::apply(root, &plan)?;
        for p in &written {
            out.json_line(&json::output(p, "item-file", None, None));
        }
        out.result(&format!(
            "已写入 {}",
            crate::diag::list(written.iter().map(|p| p.display()))
        ));
    } else {
        out.result(&format!(
            "以上是预览，没有写入。确认无误后加 --apply：dossier import {} {} --apply",
            root.display(),
            file.display()
        ));
    }
    out.json_line(&json::summary(
        "import",
        errors == 0,
        errors,
        warnings,
        counts,
    ));
    Ok(if errors > 0 {
        Status::DataErrors
    } else {
        Status::Ok
    })
}

/// What the import does, one line per record.
fn print_plan(out: &Printer, plan: &Plan) {
    let at = |a: &At| a.describe(None);
    let line = |action: &str, record: &str, a: Option<&At>, fields: Option<&[&str]>| {
        json!({
            "type": "import", "action": action, "record": record,
            "sheet": a.map(|a| a.sheet.clone()), "row": a.map(|a| a.row), "fields": fields,
        })
    };
    for (label, title, a) in &plan.added {
        out.result(&format!("新增 {label}《{title}》（{}）", at(a)));
        out.json_line(&line("added", label, Some(a), None));
    }
    for (label, fields, a) in &plan.changed {
        out.result(&format!("修改 {label}：{}（{}）", fields.join("、"), at(a)));
        out.json_line(&line("changed", label, Some(a), Some(fields)));
    }
    for (label, title, a) in &plan.removed {
        out.result(&format!("删除 {label}《{title}》（{}）", at(a)));
        out.json_line(&line("removed", label, Some(a), None));
    }
    for (label, a) in &plan.already {
        out.result(&format!("已有 {label}，不再新增（{}）", at(a)));
        out.json_line(&line("already", label, Some(a), None));
    }
    if !plan.missing_from_table.is_empty() {
        out.result(&format!(
            "登记表里没有这些材料，保留不动：{}（要删除请在“删除”列写“是”）",
            crate::diag::list_first(&plan.missing_from_table, 10, "件")
        ));
        for label in &plan.missing_from_table {
            out.json_line(&line("kept", label, None, None));
        }
    }
    if plan.unchanged > 0 {
        out.result(&format!("{} 件材料没有变化", plan.unchanged));
    }
}

/// Refuses a file that exists (for writers that must not overwrite a user's edits).
pub fn refuse_existing(path: &std::path::Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        bail!(
            "{} 已存在，没有覆盖（它可能是填写过的登记表）。换一个文件名，或加 --force 覆盖",
            path.display()
        );
    }
    Ok(())
}
