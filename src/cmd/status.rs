//! `dossier status`: where the collection of evidence stands, as an offline page and a
//! workbook in the output folder, and a short summary. Works on a dossier with errors too (what
//! could not be checked is left out, and the page says so).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::cli::StatusArgs;
use crate::cmd::{Env, Printer, Status, json};
use crate::names::Target;
use crate::progress::{self, Inputs, Progress};
use crate::report::BuildReport;

/// The status page's file name under the output name.
pub fn page_name(output_name: &str) -> String {
    format!("{output_name}-进度.html")
}

/// The status workbook's file name under the output name.
pub fn workbook_name(output_name: &str) -> String {
    format!("{output_name}-进度.xlsx")
}

/// Runs the status.
pub fn run(args: &StatusArgs, env: &Env) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let out = Printer::new(args.output.format, root, env);
    let checked = crate::engine::validate(root, &Default::default())?;
    let (errors, warnings) = (checked.report.errors(), checked.report.warnings());
    // The warnings are mostly criteria without records: the page lists them.
    if out.is_json() {
        out.report(&checked.report);
    } else {
        out.report(&checked.report.errors_only());
    }
    let Some(d) = checked.dossier.as_ref().or(checked.incomplete.as_ref()) else {
        out.say(&format!(
            "有 {errors} 个错误，dossier.yaml 或 units.yaml 读不出来，无法统计进度。请先改正。"
        ));
        out.json_line(&json::summary("status", false, errors, warnings, json!({})));
        return Ok(Status::DataErrors);
    };
    let name = crate::engine::output_name(d);
    let dir = crate::output::OutDir::open(&args.out, &d.canonical_root, |n| out.say(n))?;
    let (links, built_pdf) = last_build(dir.path(), &name);
    let today = env.today();
    let p = progress::compute(
        d,
        &Inputs {
            today,
            links: &links,
            built_pdf,
            diagnostics: (errors, warnings),
        },
    );
    let html = dir.path().join(page_name(&name));
    let xlsx = dir.path().join(workbook_name(&name));
    let book = progress::xlsx::workbook(&p, today)?;
    let staged = vec![
        crate::output::stage(&html, |f| {
            use std::io::Write;
            f.write_all(progress::html::page(&p).as_bytes())?;
            Ok(())
        })?
        .0,
        crate::output::stage(&xlsx, |f| {
            use std::io::Write;
            f.write_all(&book)?;
            Ok(())
        })?
        .0,
    ];
    crate::output::commit_all(staged)?;
    print(&out, &p, (&html, &xlsx));
    Ok(if errors > 0 {
        Status::DataErrors
    } else {
        Status::Ok
    })
}

/// The summary: totals, the units most behind, the files.
fn print(out: &Printer, p: &Progress, (html, xlsx): (&Path, &Path)) {
    let t = &p.totals;
    out.result(&format!(
        "材料收集进度（截至 {}）：考核内容 {} 条，有材料 {} 条（{}%），缺 {} 条；材料 {} 件，证据 {} 页；量化目标 {} 项，达到 {} 项，未达到 {} 项",
        p.today, t.criteria, t.covered, t.percent(), t.missing, t.records, t.pages, t.targets, t.targets_met, t.targets_failed
    ));
    out.result(&format!(
        "{} 个单位有工作任务，{} 个仍欠材料（共 {} 条），{} 个已逾期",
        t.units, t.units_owing, t.owed, t.units_overdue
    ));
    let mut behind: Vec<_> = p.units.iter().filter(|u| !u.owes.is_empty()).collect();
    behind.sort_by_key(|u| (!u.overdue, std::cmp::Reverse(u.owes.len())));
    for u in behind.iter().take(5) {
        let late = if u.overdue { "，已逾期" } else { "" };
        out.result(&format!("  {}：欠 {} 条{late}", u.name, u.owes.len()));
    }
    if p.warnings > 0 {
        out.say(&format!(
            "另有 {} 个警告（多为缺材料的考核内容，已列在进度页里；dossier check 可看全部）",
            p.warnings
        ));
    }
    out.result(&format!("已写出 {} 和 {}", html.display(), xlsx.display()));
    for u in &p.units {
        out.json_line(&json!({
            "type": "unit",
            "unit": u.name,
            "tasks": u.tasks.len(),
            "records": u.records.len(),
            "owed": u.owes.iter().map(|o| json!({"item": o.item, "criterion": o.criterion})).collect::<Vec<_>>(),
            "deadline": u.deadline,
            "overdue": u.overdue,
        }));
    }
    out.json_line(&json::output(html, "status-page", None, None));
    out.json_line(&json::output(xlsx, "status-workbook", None, None));
    out.json_line(&json::summary(
        "status",
        p.errors == 0,
        p.errors,
        p.warnings,
        json!({
            "criteria": t.criteria, "covered": t.covered, "missing": t.missing,
            "records": t.records, "pages": t.pages, "targets": t.targets,
            "targets_met": t.targets_met, "targets_failed": t.targets_failed,
            "units": t.units, "units_owing": t.units_owing, "units_overdue": t.units_overdue,
            "owed": t.owed,
        }),
    ));
}

/// Links to each record's first page in the last build in `dir` (from its build report), and
/// the PDF they point into. Nothing when there was no build.
fn last_build(dir: &Path, name: &str) -> (BTreeMap<String, String>, Option<String>) {
    let report_path = dir.join(format!("{name}-{}", crate::names::REPORT_JSON));
    let Some(report) = std::fs::read(&report_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<BuildReport>(&b).ok())
    else {
        return (BTreeMap::new(), None);
    };
    let volumes = dir.join(Target::Volume(1).file_name(name)).is_file();
    let pdf_of = |volume: usize| {
        if volumes {
            Target::Volume(volume).file_name(name)
        } else {
            Target::Dossier.file_name(name)
        }
    };
    let links = (report.records.iter())
        .filter(|(_, r)| dir.join(pdf_of(r.volume)).is_file())
        .map(|(label, r)| {
            (
                label.clone(),
                format!("{}#page={}", href(&pdf_of(r.volume)), r.first_page),
            )
        })
        .collect();
    let main = if volumes {
        Target::Master.file_name(name)
    } else {
        Target::Dossier.file_name(name)
    };
    let built = dir.join(&main).is_file().then_some(main);
    (links, built)
}

/// A file name as a relative URL: the characters URLs reserve are escaped, Chinese is kept.
fn href(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        match c {
            '%' | '#' | '?' | ' ' | '"' | '<' | '>' | '\\' => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    s.push_str(&format!("%{b:02X}"));
                }
            }
            _ => s.push(c),
        }
    }
    s
}
