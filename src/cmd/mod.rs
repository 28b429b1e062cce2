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

/// Loads and validates the dossier at `root` and prints the diagnostics. Without errors, the
/// checked dossier; with errors, `None` after a line saying that `what` was not made.
pub fn checked_dossier(
    root: &std::path::Path,
    what: &str,
) -> anyhow::Result<Option<crate::validate::Dossier>> {
    let checked = crate::validate::validate(crate::load::load(root)?);
    print_report(&checked.report, root);
    if checked.dossier.is_none() {
        status(&format!(
            "资料有 {} 个错误，没有生成{what}。请改正后重新生成。",
            checked.report.errors()
        ));
    }
    Ok(checked.dossier)
}

/// Prints one status line to stderr.
pub fn status(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
