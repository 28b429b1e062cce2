//! `dossier watch`: builds, then rebuilds whenever a file of the dossier changes (YAML,
//! evidence, templates, fonts), in one long-lived session so fonts stay loaded and Typst's
//! caches stay warm. Events are batched (editors write several files, or write a temporary
//! file and rename it); the output folder is never watched; a failed rebuild prints its
//! diagnostics and watching goes on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use anyhow::Context;
use notify::{RecursiveMode, Watcher};

use crate::cli::BuildArgs;
use crate::cmd::{Env, Printer, Status, status};
use crate::session::Session;

/// How long a batch of file events stays open after the last event.
const QUIET: Duration = Duration::from_millis(60);

/// Runs watch until interrupted.
pub fn run(args: &BuildArgs, env: &Env) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let out = Printer::new(args.output.format, root, env);
    // A refused output folder (a file, inside the evidence) stops watch before it starts.
    if let Ok(canonical_root) = std::fs::canonicalize(root) {
        drop(crate::output::OutDir::open(
            &args.out,
            &canonical_root,
            status,
        )?);
    }
    let mut session = Session::new(root, super::build::options(args, env));
    session.pdf_first = true;
    session.keep_layouts = true;
    out.say(&format!("生成 {} ……", root.display()));
    build(&out, env, &mut session, 0);

    let watched = std::fs::canonicalize(root)
        .with_context(|| format!("找不到资料目录 {}", root.display()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("无法创建输出目录 {}", args.out.display()))?;
    let dir = std::fs::canonicalize(&args.out)
        .with_context(|| format!("无法读取 {}", args.out.display()))?;
    let (tx, rx) = channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })
    .context("无法监视文件变化")?;
    watcher
        .watch(&watched, RecursiveMode::Recursive)
        .with_context(|| format!("无法监视 {}", watched.display()))?;
    out.say(&format!(
        "正在监视 {} 的变化（按 Ctrl+C 结束）……",
        root.display()
    ));

    let mut round = 0;
    loop {
        let mut changed = BTreeSet::new();
        let Ok(first) = rx.recv() else { break };
        collect(first, &watched, &dir, &mut changed);
        loop {
            match rx.recv_timeout(QUIET) {
                Ok(event) => collect(event, &watched, &dir, &mut changed),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return Ok(Status::Ok),
            }
        }
        if changed.is_empty() {
            continue;
        }
        round += 1;
        out.say(&format!(
            "[第 {round} 次] {} 有变化，重新生成……",
            crate::diag::list_first(&changed, 5, "个文件")
        ));
        build(&out, env, &mut session, round);
        // Keep Typst's caches for what the last builds used, drop older entries.
        typst::comemo::evict(10);
    }
    Ok(Status::Ok)
}

fn build(out: &Printer, env: &Env, session: &mut Session, round: usize) {
    let tag = if round == 0 {
        String::new()
    } else {
        format!("[第 {round} 次] ")
    };
    let mut progress = out.progress(env);
    match session.build(&mut progress) {
        Ok(outcome) => {
            let status = super::build::print(out, &outcome.report, outcome.value.as_ref(), &tag);
            if status != Status::Ok {
                out.say(&format!("{tag}继续监视，改正后保存即可重新生成。"));
            }
        }
        Err(e) => out.say(&format!("{tag}错误：{e:#}（继续监视）")),
    }
}

/// Adds the paths of an event that concern the dossier (relative to its root) to `changed`.
fn collect(
    event: notify::Result<notify::Event>,
    root: &Path,
    out: &Path,
    changed: &mut BTreeSet<String>,
) {
    let Ok(event) = event else { return };
    if matches!(event.kind, notify::EventKind::Access(_)) {
        return;
    }
    for path in event.paths {
        if let Some(rel) = relevant(&path, root, out) {
            changed.insert(rel);
        }
    }
}

/// The path relative to the root, unless it is in the output folder or an editor's or our
/// own temporary file.
fn relevant(path: &Path, root: &Path, out: &Path) -> Option<String> {
    if path.starts_with(out) {
        return None;
    }
    let rel: PathBuf = path.strip_prefix(root).ok()?.to_path_buf();
    let name = rel.file_name()?.to_string_lossy();
    // Hidden folders (names starting with '.') are checked below, for every part.
    if crate::paths::is_scratch_file(&name)
        || rel
            .components()
            .any(|c| crate::paths::is_hidden_folder(&c.as_os_str().to_string_lossy()))
    {
        return None;
    }
    Some(rel.to_string_lossy().replace('\\', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_folder_and_temporary_files_are_ignored() {
        let root = Path::new("/d");
        let out = Path::new("/d/out");
        assert_eq!(
            relevant(Path::new("/d/items/05.yaml"), root, out).as_deref(),
            Some("items/05.yaml")
        );
        assert_eq!(relevant(Path::new("/d/out/a.pdf"), root, out), None);
        assert_eq!(
            relevant(Path::new("/d/items/.05.yaml.swp"), root, out),
            None
        );
        assert_eq!(relevant(Path::new("/d/items/05.yaml~"), root, out), None);
        assert_eq!(relevant(Path::new("/d/items/4913"), root, out), None);
        assert_eq!(relevant(Path::new("/d/.git/index"), root, out), None);
        assert_eq!(relevant(Path::new("/elsewhere/x"), root, out), None);
    }
}
