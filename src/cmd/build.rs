//! `dossier build`: check, then typeset the whole dossier into one PDF (or volumes and a master
//! volume), package it with the evidence, write the build report, and say what changed since
//! the previous build. Nothing is written unless the dossier has no errors; outputs replace
//! their previous versions only when all of them are complete.

use serde_json::{Value, json};

use crate::cli::BuildArgs;
use crate::cmd::{Env, Printer, Status, json};
use crate::session::{BuildOptions, Built, Session};

/// The build options the command line asks for.
pub fn options(args: &BuildArgs, env: &Env) -> BuildOptions {
    BuildOptions {
        out: args.out.clone(),
        draft: args.draft,
        include_unreferenced: args.include_unreferenced,
        normalize: !args.no_normalize,
        ocr: args.ocr,
        duplex: !args.simplex,
        date: env.source_date,
    }
}

/// Runs the build.
pub fn run(args: &BuildArgs, env: &Env) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let out = Printer::new(args.output.format, root, env);
    out.say(&format!("检查资料目录 {} ……", root.display()));
    let mut session = Session::new(root, options(args, env));
    let mut progress = out.progress(env);
    let outcome = session.build(&mut progress)?;
    Ok(print(&out, &outcome.report, outcome.value.as_ref(), ""))
}

/// Prints a build's diagnostics and what it made (each line after `tag`, for watch's rounds).
pub fn print(
    out: &Printer,
    report: &crate::diag::Report,
    built: Option<&Built>,
    tag: &str,
) -> Status {
    out.report(report);
    let (errors, warnings) = (report.errors(), report.warnings());
    let Some(b) = built else {
        out.say(&format!(
            "{tag}有 {errors} 个错误，没有生成汇编；上一次生成的文件保持不变。请改正后重新生成。"
        ));
        out.json_line(&json::summary("build", false, errors, warnings, json!({})));
        return Status::DataErrors;
    };
    if b.unreferenced > 0 {
        out.say(&format!(
            "{tag}注意：evidence 里有 {} 个文件没有被任何材料引用，没有放入资料包（需要时加 --include-unreferenced；加了则在资料包的“{}”文件夹里）。",
            b.unreferenced,
            crate::names::UNREFERENCED_FOLDER
        ));
    }
    out.result(&format!(
        "{tag}已生成 {}：{} 件材料，{} 页；资料包 {}；用时 {:.1} 秒",
        crate::diag::list(b.pdfs.iter().map(|p| p.path.display())),
        b.records,
        b.pages,
        b.zip.display(),
        b.elapsed.as_secs_f64()
    ));
    if let Some(o) = &b.ocr {
        for line in ocr_lines(o) {
            out.result(&format!("{tag}{line}"));
        }
    }
    if let Some(c) = &b.changes {
        for line in crate::report::describe(c) {
            out.result(&format!("{tag}{line}"));
        }
        for v in json::changes(c) {
            out.json_line(&v);
        }
    }
    for p in &b.pdfs {
        out.json_line(&json::output(&p.path, "pdf", Some(p.pages), None));
    }
    out.json_line(&json::output(&b.zip, "package", None, None));
    out.json_line(&json::output(&b.report, "report", None, None));
    let mut counts = json!({"records": b.records, "pages": b.pages});
    if let (Some(map), Some(o)) = (counts.as_object_mut(), &b.ocr) {
        map.insert("ocr".into(), json!({"pages": o.pages, "read": o.read, "corrected": o.corrected, "empty": o.empty, "doubtful": o.doubtful}));
    }
    if let (Some(map), Value::Object(more)) = (
        counts.as_object_mut(),
        json::change_summary(b.changes.as_ref()),
    ) {
        map.extend(more);
    }
    out.json_line(&json::summary("build", true, errors, warnings, counts));
    Status::Ok
}

/// What the text layer did, in words: pages, read now or earlier, corrected; then the pages
/// read with a low confidence, lowest first, each with how to correct it (at most ten named).
fn ocr_lines(o: &crate::textlayer::Summary) -> Vec<String> {
    let read = match (o.read, o.pages - o.read.min(o.pages)) {
        (0, _) => "全部沿用上次的识别结果".to_string(),
        (n, 0) => format!("本次识别 {n} 页"),
        (n, kept) => format!("本次识别 {n} 页，{kept} 页沿用上次的结果"),
    };
    let mut lines = vec![format!(
        "文字识别：{} 页证据加了文字层（{read}{}{}）",
        o.pages,
        if o.corrected > 0 {
            format!("；按更正文件 {} 页", o.corrected)
        } else {
            String::new()
        },
        if o.empty > 0 {
            format!("；{} 页没有识别出文字", o.empty)
        } else {
            String::new()
        },
    )];
    if o.doubtful.is_empty() {
        return lines;
    }
    let limit = crate::textlayer::LOW_CONFIDENCE;
    lines.push(format!(
        "其中 {} 页识别置信度低于 {limit:.2}，请对照原件核对；有错字时运行 dossier ocr 文件路径 生成更正文件，改正后重新生成：",
        o.doubtful.len()
    ));
    for p in o.doubtful.iter().take(10) {
        lines.push(format!(
            "  {} 第 {} 页（{} 第 {} 页，置信度 {:.2}）",
            p.record, p.seq, p.rel, p.page, p.confidence
        ));
    }
    if o.doubtful.len() > 10 {
        lines.push(format!("  ……另有 {} 页，见生成报告", o.doubtful.len() - 10));
    }
    lines
}
