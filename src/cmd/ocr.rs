//! `dossier ocr FILE...`: writes the correction file of each scanned evidence file
//! (`ocr/<evidence path>.yaml` in its dossier) from what recognition read of its printed pages
//! (the build's cache, or read now), for a person to correct misread text. An existing
//! correction file is kept unless `--replace`.

use std::path::{Path, PathBuf};

use crate::cli::OcrArgs;
use crate::cmd::{Env, Printer, Progress, Status, status};
use crate::engine::{Stage, progress_of};
use crate::textlayer::{self, corrections};
use crate::validate::Dossier;

/// The dossier folder an evidence file is in: the nearest folder above it with a dossier.yaml.
fn dossier_of(file: &Path) -> Option<PathBuf> {
    let file = std::fs::canonicalize(file).ok()?;
    (file.ancestors().skip(1))
        .find(|dir| dir.join(crate::load::CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}

/// The one dossier folder all `files` are in.
fn dossier_root(files: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let mut roots = Vec::new();
    for f in files {
        if !f.is_file() {
            anyhow::bail!("找不到证据文件 {}", f.display());
        }
        let Some(root) = dossier_of(f) else {
            anyhow::bail!(
                "{} 不在资料目录里（它上面的目录都没有 dossier.yaml）",
                f.display()
            );
        };
        roots.push(root);
    }
    roots.dedup();
    match roots.as_slice() {
        [one] => Ok(one.clone()),
        _ => anyhow::bail!("这些证据文件分属不同的资料目录，请一次只给一个资料目录里的文件"),
    }
}

/// Runs ocr.
pub fn run(args: &OcrArgs, env: &Env) -> anyhow::Result<Status> {
    let root = dossier_root(&args.files)?;
    let out = Printer::new(crate::cli::Format::Text, &root, env);
    let checked = crate::engine::validate(&root, &crate::validate::InspectCache::default())?;
    out.report(&checked.report);
    let Some(d) = checked.dossier else {
        out.say("资料有错误，请先改正（dossier check 可以查看）。");
        return Ok(Status::DataErrors);
    };
    let mut all = Status::Ok;
    let mut progress = out.progress(env);
    for f in &args.files {
        let canonical = std::fs::canonicalize(f)?;
        let rel = (canonical.strip_prefix(&d.canonical_root))
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if write_correction(&d, args, &rel, &out, &mut progress)? != Status::Ok {
            all = Status::DataErrors;
        }
    }
    Ok(all)
}

/// Writes the correction file of the evidence file `rel`, saying what it wrote or why not.
fn write_correction(
    d: &Dossier,
    args: &OcrArgs,
    rel: &str,
    out: &Printer,
    progress: &mut Progress,
) -> anyhow::Result<Status> {
    let target = d.root.join(corrections::path_of(rel));
    if target.exists() && !args.replace {
        status(&format!(
            "{} 已经存在，没有覆盖（里面可能有您的改正；确要按识别结果重写，加 --replace）",
            target.display()
        ));
        return Ok(Status::DataErrors);
    }
    let read = textlayer::read_file(d, &args.out, rel, &mut progress_of(progress, Stage::Ocr))?;
    let Some(read) = read else {
        status(&format!(
            "{rel} 没有需要识别文字的页：它不是汇编里排印的证据文件，或者它的页本来就有文字层（可以直接搜索）"
        ));
        return Ok(Status::DataErrors);
    };
    for diag in &read.warnings {
        status(&diag.message);
    }
    if read.pages.is_empty() {
        return Ok(Status::DataErrors);
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = corrections::render(rel, &read.sha256, &read.pages);
    crate::output::write_atomic(&target, text.as_bytes())?;
    let lines = read.pages.values().flat_map(|p| &p.lines);
    let doubtful = (lines.clone())
        .filter(|l| l.confidence < textlayer::LOW_CONFIDENCE)
        .count();
    out.result(&format!(
        "已写出 {}：{} 页、{} 行{}。改正其中的错字后重新生成汇编即可。",
        target.display(),
        read.pages.len(),
        lines.count(),
        if doubtful > 0 {
            format!("，其中 {doubtful} 行置信度低，已标“请核对”")
        } else {
            String::new()
        }
    ));
    Ok(Status::Ok)
}
