//! `dossier build`: check, then typeset the whole dossier into one PDF in the output folder.
//! Nothing is written unless the dossier has no errors, and the PDF replaces the previous one
//! only when it is complete.

use std::io::Write;
use std::time::Instant;

use crate::build::{self, Stamp};
use crate::cli::BuildArgs;
use crate::cmd::{Status, checked_dossier, print_report, status};
use crate::diag::{Diagnostic, Place, Report};
use crate::load::CONFIG_FILE;
use crate::plan::{self, PlanOptions};
use crate::validate::Dossier;
use crate::yaml::pos_of;
use crate::{output, package};

/// Default output name when dossier.yaml has none.
pub const DEFAULT_OUTPUT_NAME: &str = "验收资料汇编";

/// Runs the build.
pub fn run(args: &BuildArgs) -> anyhow::Result<Status> {
    let start = Instant::now();
    let root = &args.dossier.dir;
    status(&format!("检查资料目录 {} ……", root.display()));
    let Some(dossier) = checked_dossier(root, "汇编")? else {
        return Ok(Status::DataErrors);
    };
    let fail = |diags: Vec<Diagnostic>| {
        let mut report = Report::new();
        for d in diags {
            report.push(d);
        }
        if let Ok(text) = std::fs::read_to_string(root.join(CONFIG_FILE)) {
            report.add_source(CONFIG_FILE, text.into());
        }
        for item in &dossier.items {
            if let Some(f) = &item.file
                && let Ok(text) = std::fs::read_to_string(root.join(f))
            {
                report.add_source(f.clone(), text.into());
            }
        }
        report.sort();
        print_report(&report, root);
        status(&format!(
            "排版出错（{} 个错误），没有生成汇编；上一次生成的文件保持不变。",
            report.errors()
        ));
        Ok(Status::DataErrors)
    };
    let (fonts, roles) = match build::dossier_fonts(&dossier) {
        Ok(f) => f,
        Err(diags) => return fail(diags),
    };
    let plan = plan::plan(
        &dossier,
        &PlanOptions {
            draft: args.draft,
            fonts: roles,
            ..PlanOptions::default()
        },
    );
    if let Some(d) = pdfa_conflict(&dossier, &plan) {
        return fail(vec![d]);
    }
    status(&format!(
        "排版 {} 件材料、{} 页证据……",
        plan.totals.records, plan.totals.pages
    ));
    let stamp = Stamp::of(&dossier, "dossier");
    let doc = match build::build(&plan, &dossier, fonts, &stamp) {
        Ok(doc) => doc,
        Err(diags) => return fail(diags),
    };
    if !doc.warnings.is_empty() {
        let mut report = Report::new();
        for w in doc.warnings {
            report.push(w);
        }
        report.sort();
        print_report(&report, root);
    }
    // Both outputs are written completely before either replaces the previous one.
    let name = output_name(&dossier);
    let pdf_path = args.out.join(format!("{name}.pdf"));
    let zip_path = args.out.join(format!("{name}.zip"));
    let (pdf_staged, ()) = output::stage(&pdf_path, |f| Ok(f.write_all(&doc.pdf)?))?;
    status("打包证据原件……");
    let input = package::PackageInput {
        dossier: &dossier,
        pdf_name: format!("{name}.pdf"),
        pdf: &doc.pdf,
        pdf_pages: doc.pages,
        include_unreferenced: args.include_unreferenced,
        date: stamp.date,
    };
    let (zip_staged, manifest) = output::stage(&zip_path, |f| {
        package::write(std::io::BufWriter::new(f), &input)
    })?;
    pdf_staged.commit()?;
    zip_staged.commit()?;
    if !dossier.unreferenced.is_empty() {
        let what = if args.include_unreferenced {
            format!("已放入资料包的“{}”文件夹", package::UNREFERENCED_FOLDER)
        } else {
            "没有放入资料包（需要时加 --include-unreferenced）".to_string()
        };
        status(&format!(
            "注意：evidence 里有 {} 个文件没有被任何材料引用，{what}。",
            dossier.unreferenced.len()
        ));
    }
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    status(&format!(
        "已生成 {}：{} 项指标，{} 件材料，{} 页；资料包 {}（{} 个文件，{}），用时 {:.1} 秒",
        pdf_path.display(),
        plan.summary.len(),
        plan.totals.records,
        doc.pages,
        zip_path.display(),
        manifest.files.len() + 2,
        plan::human_size(bytes),
        start.elapsed().as_secs_f64()
    ));
    Ok(Status::Ok)
}

/// The output file name (without extension).
pub fn output_name(d: &Dossier) -> String {
    d.config
        .output_name
        .as_ref()
        .map(|n| n.value.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_OUTPUT_NAME.to_string())
}

/// PDF/A cannot embed PDF pages (Typst 0.15): a clear error when both are asked for.
fn pdfa_conflict(d: &Dossier, plan: &plan::Plan) -> Option<Diagnostic> {
    let asked = d.config.pdfa.as_ref().filter(|p| p.value.0)?;
    let with_pdf: Vec<String> = plan
        .groups
        .iter()
        .flat_map(|g| &g.items)
        .flat_map(|i| &i.records)
        .filter(|r| r.entries.iter().any(|e| e.kind == "pdf"))
        .map(|r| r.id.clone())
        .collect();
    if with_pdf.is_empty() {
        return None;
    }
    let shown: Vec<&str> = with_pdf.iter().take(5).map(String::as_str).collect();
    let more = if with_pdf.len() > 5 {
        format!(" 等 {} 件", with_pdf.len())
    } else {
        String::new()
    };
    Some(
        Diagnostic::error(format!(
            "要求生成 PDF/A，但有材料是 PDF 文件（{}{more}）：PDF/A 模式下不能嵌入 PDF 页面",
            shown.join("、")
        ))
        .at(Place::at(CONFIG_FILE, pos_of(asked)))
        .hint("排版引擎 Typst 0.15 在 PDF/A 模式下不支持嵌入 PDF。请去掉“PDF/A: 是”，或把这些 PDF 材料转换为图片后再登记。"),
    )
}
