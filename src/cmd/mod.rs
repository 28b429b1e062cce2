//! One file per command. Each takes its parsed arguments, asks the library ([`crate::engine`],
//! [`crate::session`], [`crate::binders`], [`crate::package`]) for the work, prints what came
//! back and returns the exit status; only `main` turns that into a process exit code.
//!
//! Where things go: results (what was made, what changed, what verify found) on stdout;
//! diagnostics and progress on stderr. With `--format json`, stdout carries JSON lines instead
//! — diagnostics included — and stderr only the progress (schema in [`json`]).

pub mod binder;
pub mod build;
pub mod check;
pub mod init;
pub mod json;
pub mod ocr;
pub mod sheets;
pub mod status;
pub mod templates;
pub mod verify;
pub mod watch;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::diag::Report;
use crate::engine::{Event, Events, Stage};

/// How a command ended, mapped to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: done (warnings allowed).
    Ok,
    /// 1: the dossier has errors.
    DataErrors,
}

/// What the environment says about how to print, read once at the command line: colours, the
/// date to stamp outputs with, whether to time each stage.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `NO_COLOR` is set.
    pub no_color: bool,
    /// `SOURCE_DATE_EPOCH`, as a date.
    pub source_date: Option<crate::model::Date>,
    /// `DOSSIER_TIMINGS` is set: print how long each stage took.
    pub timings: bool,
}

impl Env {
    /// Today's date: `SOURCE_DATE_EPOCH` if set, else the system clock (UTC).
    pub fn today(&self) -> crate::model::Date {
        self.source_date.unwrap_or_else(|| {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            crate::model::Date::from_days_since_epoch(secs.div_euclid(86_400))
        })
    }

    /// Reads the environment.
    pub fn read() -> Env {
        Env {
            no_color: std::env::var_os("NO_COLOR").is_some(),
            source_date: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .map(|secs| crate::model::Date::from_days_since_epoch(secs.div_euclid(86_400))),
            timings: std::env::var_os("DOSSIER_TIMINGS").is_some(),
        }
    }
}

/// Prints a command's results and diagnostics, as text or as JSON lines.
pub struct Printer {
    json: bool,
    color: bool,
    root: PathBuf,
}

impl Printer {
    /// A printer for a command on the dossier at `root` (diagnostics show their files under it).
    pub fn new(format: crate::cli::Format, root: &Path, env: &Env) -> Printer {
        Printer {
            json: format == crate::cli::Format::Json,
            color: !env.no_color && std::io::stderr().is_terminal(),
            root: root.to_path_buf(),
        }
    }

    /// Whether the output is JSON lines.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// The diagnostics of a report: with snippets on stderr, or JSON lines on stdout.
    pub fn report(&self, report: &Report) {
        if self.json {
            for d in report.diagnostics() {
                self.json_line(&json::diagnostic(d));
            }
        } else {
            let _ = std::io::stderr().write_all(report.render(&self.root, self.color).as_bytes());
        }
    }

    /// A result line for people (stdout); nothing in JSON mode.
    pub fn result(&self, line: &str) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        }
    }

    /// A message for people that is not a result (stderr); nothing in JSON mode.
    pub fn say(&self, line: &str) {
        if !self.json {
            status(line);
        }
    }

    /// One JSON line on stdout; nothing in text mode.
    pub fn json_line(&self, value: &serde_json::Value) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}");
        }
    }

    /// The progress display for this command's events: stderr, a live line on a terminal.
    pub fn progress(&self, env: &Env) -> Progress {
        Progress {
            json: self.json,
            live: std::io::stderr().is_terminal(),
            timings: env.timings,
            shown: false,
            last: Instant::now(),
            since: None,
        }
    }
}

/// Shows the engine's events on stderr: the start of each stage, notices (in JSON mode as JSON
/// lines on stdout), and on a terminal a live "规范化证据 12/80" line that is overwritten.
pub struct Progress {
    json: bool,
    live: bool,
    timings: bool,
    shown: bool,
    last: Instant,
    /// When the stage whose progress is shown began (for the time left).
    since: Option<(Stage, Instant)>,
}

/// "约剩 3 分 10 秒" for a stage `done` of `total` into it after `elapsed`; nothing before the
/// first item is done.
fn time_left(done: usize, total: usize, elapsed: std::time::Duration) -> String {
    if done == 0 || done >= total {
        return String::new();
    }
    let left = elapsed.as_secs_f64() / done as f64 * (total - done) as f64;
    let secs = left.round() as u64;
    if secs >= 60 {
        format!("，约剩 {} 分 {} 秒", secs / 60, secs % 60)
    } else {
        format!("，约剩 {} 秒", secs.max(1))
    }
}

impl Progress {
    fn clear(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            self.shown = false;
        }
    }
}

impl Events for Progress {
    fn event(&mut self, event: Event) {
        match event {
            Event::Started { stage, detail } => {
                self.clear();
                // "排版 79 件材料……", "排版第 2 册：……": a space before a number only.
                let gap = if detail.starts_with(|c: char| c.is_ascii_digit()) {
                    " "
                } else {
                    ""
                };
                status(&format!("{}{gap}{detail}……", stage.name()));
            }
            Event::Progress { stage, done, total } => {
                let since = match self.since {
                    Some((s, t)) if s == stage => t,
                    _ => {
                        let now = Instant::now();
                        self.since = Some((stage, now));
                        if stage == Stage::Ocr {
                            // Long the first time: say so before the first page is done.
                            self.clear();
                            status(&format!(
                                "文字识别 {total} 页……（每页约 1 秒，识别结果会保存，下次不再识别）"
                            ));
                        }
                        now
                    }
                };
                let left = time_left(done, total, since.elapsed());
                // Off a terminal, a long stage still says how far it is, every 15 seconds.
                if !self.live
                    && stage == Stage::Ocr
                    && done < total
                    && self.last.elapsed().as_secs() >= 15
                {
                    self.last = Instant::now();
                    status(&format!("  {} {done}/{total}{left}", stage.name()));
                }
                // Redrawn at most ten times a second, and only on a terminal.
                if self.live && (done == total || self.last.elapsed().as_millis() >= 100) {
                    self.last = Instant::now();
                    let _ = write!(
                        std::io::stderr(),
                        "\r\x1b[2K{} {done}/{total}{left}",
                        stage.name()
                    );
                    self.shown = done < total;
                    if done == total {
                        let _ = writeln!(std::io::stderr());
                    }
                }
            }
            Event::Finished { stage, elapsed } => {
                self.clear();
                self.since = None;
                if self.timings {
                    status(&format!(
                        "  {}：{:.0} 毫秒",
                        stage.name(),
                        elapsed.as_secs_f64() * 1000.0
                    ));
                }
            }
            Event::Detail(text) => {
                if self.timings {
                    self.clear();
                    status(&format!("  {text}"));
                }
            }
            Event::Notice(text) => {
                self.clear();
                if self.json {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{}", json::notice(&text));
                } else {
                    status(&text);
                }
            }
        }
    }
}

/// Prints one line to stderr. A closed pipe is not an error.
pub fn status(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Reports a failure that is not the dossier's (exit code 2: an unreadable folder, an output
/// that cannot be written): on stderr, and in JSON mode also as a `failure` line and the
/// closing `summary` on stdout, so a program reading the lines always gets its summary.
pub fn failure(command: &str, format: crate::cli::Format, e: &anyhow::Error) {
    let hint = io_hint(e);
    status(&format!("错误：{e:#}"));
    if let Some(hint) = hint {
        status(&format!("提示：{hint}"));
    }
    if format == crate::cli::Format::Json {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", json::failure(&format!("{e:#}"), hint));
        let _ = writeln!(
            out,
            "{}",
            json::summary(command, false, 0, 0, serde_json::json!({"failed": true}))
        );
    }
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
