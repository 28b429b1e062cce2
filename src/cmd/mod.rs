//! One file per command. Each takes its parsed arguments and returns the exit status; only
//! `main` turns that into a process exit code.

pub mod binder;
pub mod build;
pub mod check;
pub mod init;
pub mod verify;
pub mod watch;

use std::io::{IsTerminal, Write};

use crate::diag::Report;

/// How a command ended, mapped to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: done (warnings allowed).
    Ok,
    /// 1: the dossier has errors.
    DataErrors,
}

/// Whether stderr gets colours: a terminal, and `NO_COLOR` not set.
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Prints the diagnostics of a report to stderr. A closed pipe is not an error.
pub fn print_report(report: &Report, root: &std::path::Path) {
    let text = report.render(root, color());
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Prints diagnostics found after checking (fonts, typesetting, normalising) with snippets of
/// the dossier's own files, sorted and without repeats. Returns the number of errors.
pub fn print_diagnostics(
    dossier: &crate::validate::Dossier,
    diags: impl IntoIterator<Item = crate::diag::Diagnostic>,
) -> usize {
    let root = &dossier.root;
    let mut report = Report::new();
    diags.into_iter().for_each(|d| report.push(d));
    if report.diagnostics().is_empty() {
        return 0;
    }
    let files = std::iter::once(crate::load::CONFIG_FILE.to_string())
        .chain(dossier.items.iter().filter_map(|i| i.file.clone()));
    for f in files {
        if let Ok(text) = std::fs::read_to_string(root.join(&f)) {
            report.add_source(f, text.into());
        }
    }
    report.sort();
    print_report(&report, root);
    report.errors()
}

/// Loads and validates the dossier at `root` (reusing `cache`'s inspections of unchanged
/// evidence files) and prints the diagnostics. Without errors, the checked dossier; with
/// errors, `None` after a line saying that `what` was not made.
pub fn checked_dossier(
    root: &std::path::Path,
    what: &str,
    cache: &crate::validate::InspectCache,
) -> anyhow::Result<Option<crate::validate::Dossier>> {
    let checked = crate::validate::validate_with(crate::load::load(root)?, cache);
    print_report(&checked.report, root);
    if checked.dossier.is_none() {
        status(&format!(
            "资料有 {} 个错误，没有生成{what}。请改正后重新生成。",
            checked.report.errors()
        ));
    }
    Ok(checked.dossier)
}

/// What to do about the I/O error at the root of `e`, if it is one a user can act on (a full
/// or read-only disk, a missing permission).
pub fn io_hint(e: &anyhow::Error) -> Option<&'static str> {
    use std::io::ErrorKind;
    let io = e.chain().find_map(|c| c.downcast_ref::<std::io::Error>())?;
    Some(match io.kind() {
        ErrorKind::StorageFull | ErrorKind::FileTooLarge | ErrorKind::QuotaExceeded => {
            "磁盘空间不足（或文件超过了磁盘允许的大小）。请清理磁盘，或用 --out 换到空间足够的磁盘；上一次生成的文件没有被改动。"
        }
        ErrorKind::ReadOnlyFilesystem => {
            "这个磁盘是只读的（如光盘、写保护的 U 盘）。请用 --out 换一个可以写入的文件夹。"
        }
        ErrorKind::PermissionDenied => {
            "没有写入或读取的权限。请检查文件夹的权限，或用 --out 换一个自己的文件夹。"
        }
        ErrorKind::NotADirectory => "路径中有一段是文件而不是文件夹，请核对路径。",
        _ => return None,
    })
}

/// Prints one status line to stderr.
pub fn status(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
