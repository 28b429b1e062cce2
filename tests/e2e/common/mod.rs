//! Helpers shared by the end-to-end tests: build a dossier in a temporary folder from the
//! fixtures, run the `dossier` binary on it, and read its diagnostics back.

#![allow(dead_code)]

pub mod images;
pub mod pdf;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The test fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// An empty output folder for something a test file builds once and shares between its tests
/// (held in a static, so a temp dir would never be dropped and would pile up in /tmp). It lives
/// under Cargo's per-target temp dir and is emptied at the start of each run.
pub fn shared_out(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("old shared output removable");
    }
    std::fs::create_dir_all(&dir).expect("shared output folder");
    dir
}

/// The binary with `args`, to run in `cwd` as every test runs it: no colours, a pinned date.
pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dossier"));
    c.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", "1653004800");
    c
}

/// Runs the binary with `args`, in `cwd`.
pub fn dossier(cwd: &Path, args: &[&str]) -> Output {
    command(cwd, args)
        .output()
        .expect("the dossier binary runs")
}

/// Runs the binary as a shell does with `dossier ARGS > FILE` in `cwd`: stdout goes into the
/// file `stdout` (stderr to the terminal of the test). Returns the exit code and the file's text.
pub fn dossier_to_file(cwd: &Path, args: &[&str], stdout: &Path) -> (Option<i32>, String) {
    let status = command(cwd, args)
        .stdout(std::fs::File::create(stdout).expect("the result file"))
        .status()
        .expect("the dossier binary runs");
    let text = std::fs::read_to_string(stdout).expect("the result file is UTF-8");
    (status.code(), text)
}

/// Copies every file under `from` into `to`, keeping relative paths (overwriting).
pub fn overlay(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.expect("fixture readable");
        let rel = entry.path().strip_prefix(from).expect("under from");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy fixture");
        }
    }
}

/// A copy of the sample dossier at `d/` whose dossier.yaml cuts volumes by `limit`
/// (`每册页数上限: 60`).
pub fn sample_cut_by(limit: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    overlay(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("dossier"),
        &tmp.path().join("d"),
    );
    let config = tmp.path().join("d/dossier.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n分册:\n  {limit}\n")).unwrap();
    tmp
}

/// Replaces `from` (which must be there) by `to` in the text file at `path`.
pub fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// A temporary folder holding a dossier at `d/`: `dossier init`, then the base fixture, then
/// the named case's files (under `tests/fixtures/check/CASE`) on top.
pub fn dossier_with(case: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = dossier(tmp.path(), &["init", "d"]);
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = tmp.path().join("d");
    overlay(&fixtures().join("base"), &root);
    if let Some(case) = case {
        let dir = fixtures().join("check").join(case);
        assert!(dir.is_dir(), "no fixture {case}");
        overlay(&dir, &root);
    }
    (tmp, root)
}

/// One diagnostic as printed.
#[derive(Debug, Clone)]
pub struct Printed {
    /// "错误" or "警告".
    pub severity: String,
    /// The message line.
    pub message: String,
    /// File relative to the dossier root (empty if none).
    pub file: String,
    /// Line, 0 if none.
    pub line: usize,
    /// Column, 0 if none.
    pub col: usize,
    /// The hint, if any.
    pub hint: String,
    /// The diagnostic's code (JSON output only; empty when parsed from text).
    pub code: String,
}

/// Parses the diagnostics printed on stderr. `root` is the dossier folder as passed to the
/// binary (relative to its working directory).
pub fn printed(stderr: &str, root: &str) -> Vec<Printed> {
    let mut out: Vec<Printed> = Vec::new();
    for line in stderr.lines() {
        let (sev, rest) = if let Some(r) = line.strip_prefix("错误：") {
            ("错误", r)
        } else if let Some(r) = line.strip_prefix("警告：") {
            ("警告", r)
        } else {
            if let Some(d) = out.last_mut() {
                let t = line.trim_start();
                if let Some(loc) = t.strip_prefix("--> ") {
                    if d.file.is_empty() {
                        let loc = loc.split('（').next().unwrap_or(loc);
                        let loc = loc.strip_prefix(&format!("{root}/")).unwrap_or(loc);
                        let mut parts = loc.rsplitn(3, ':');
                        let (c, l, f) = (parts.next(), parts.next(), parts.next());
                        match (
                            f,
                            l.and_then(|l| l.parse().ok()),
                            c.and_then(|c| c.parse().ok()),
                        ) {
                            (Some(f), Some(l), Some(c)) => {
                                d.file = f.to_string();
                                d.line = l;
                                d.col = c;
                            }
                            _ => d.file = loc.to_string(),
                        }
                    }
                } else if let Some(h) = t.strip_prefix("= 提示：") {
                    d.hint = h.to_string();
                }
            }
            continue;
        };
        out.push(Printed {
            severity: sev.into(),
            message: rest.into(),
            file: String::new(),
            line: 0,
            col: 0,
            hint: String::new(),
            code: String::new(),
        });
    }
    out
}

/// The JSON lines a `--format json` run wrote on stdout, each parsed (a line that is not JSON
/// fails the test). Asserts the schema's promise that the last line, and only it, is the
/// `summary`.
pub fn json_lines(run: &Output) -> Vec<Value> {
    let stdout = String::from_utf8_lossy(&run.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let summaries = lines.iter().filter(|v| v["type"] == "summary").count();
    assert_eq!(summaries, 1, "one summary line:\n{stdout}");
    assert_eq!(lines.last().unwrap()["type"], "summary", "{stdout}");
    lines
}

/// The `summary` line of a JSON run.
pub fn summary(lines: &[Value]) -> &Value {
    lines.last().expect("at least the summary")
}

/// The `diagnostic` lines of a JSON run, in the shape the text parser gives.
pub fn json_diagnostics(lines: &[Value]) -> Vec<Printed> {
    lines
        .iter()
        .filter(|v| v["type"] == "diagnostic")
        .map(|v| Printed {
            severity: match v["severity"].as_str() {
                Some("error") => "错误".into(),
                Some("warning") => "警告".into(),
                other => panic!("severity {other:?} in {v}"),
            },
            message: v["message"].as_str().expect("message").into(),
            file: v["file"].as_str().unwrap_or_default().into(),
            line: v["line"].as_u64().unwrap_or(0) as usize,
            col: v["column"].as_u64().unwrap_or(0) as usize,
            hint: v["hint"].as_str().unwrap_or_default().into(),
            // Every diagnostic has a stable code a program can group by.
            code: match v["code"].as_str() {
                Some(c)
                    if !c.is_empty()
                        && c.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
                {
                    c.into()
                }
                _ => panic!("a diagnostic without a code: {v}"),
            },
        })
        .collect()
}

/// stdout and stderr of a run, for failure messages.
pub fn log(run: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    )
}

/// Runs `args` with `--format json` in `dir`: the exit code, the diagnostics and the summary
/// read from the JSON lines, and the whole log for failure messages. Asserts that the summary
/// agrees with the exit code and counts the diagnostics it printed.
pub fn json_run(dir: &Path, args: &[&str]) -> (i32, Vec<Printed>, Value, String) {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    let run = dossier(dir, &args);
    let log = log(&run);
    let lines = json_lines(&run);
    let diags = json_diagnostics(&lines);
    let summary = summary(&lines).clone();
    let code = run.status.code().unwrap_or(-1);
    assert_eq!(
        summary["ok"],
        code == 0,
        "summary agrees with the exit code\n{log}"
    );
    let errors = diags.iter().filter(|d| d.severity == "错误").count();
    let warnings = diags.len() - errors;
    assert_eq!(summary["errors"], errors, "{log}");
    assert_eq!(summary["warnings"], warnings, "{log}");
    (code, diags, summary, log)
}

/// Runs `dossier check d` on a case and returns the exit code and the diagnostics.
pub fn check_case(case: &str) -> (i32, Vec<Printed>, String) {
    let (tmp, _) = dossier_with(Some(case));
    check_in(tmp.path())
}

/// Runs `dossier check d --format json` in `dir`: exit code, diagnostics, log.
pub fn check_in(dir: &Path) -> (i32, Vec<Printed>, String) {
    let (code, diags, _, log) = json_run(dir, &["check", "d"]);
    (code, diags, log)
}

/// The single error of a run, or a panic showing everything that was printed.
pub fn the_error(diags: &[Printed], stderr: &str) -> Printed {
    let errors: Vec<&Printed> = diags.iter().filter(|d| d.severity == "错误").collect();
    assert_eq!(
        errors.len(),
        1,
        "expected exactly one error, got:\n{stderr}"
    );
    errors[0].clone()
}

/// Runs `dossier build d --out o` (plus `extra` arguments) in `dir` and asserts it succeeded.
pub fn build_ok(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["build", "d", "--out", "o"];
    args.extend_from_slice(extra);
    let run = dossier(dir, &args);
    assert_eq!(
        run.status.code(),
        Some(0),
        "build failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

/// Runs `dossier build d --out o --format json` in `dir`, asserts exit code 1 and one error,
/// returns it.
pub fn build_error(dir: &Path) -> Printed {
    let (code, diags, _, log) = json_run(dir, &["build", "d", "--out", "o"]);
    assert_eq!(code, 1, "{log}");
    the_error(&diags, &log)
}

/// All text of a PDF, without whitespace.
pub fn pdf_text(path: &Path) -> String {
    pdf::compact(&pdf::Pdf::load(path).all_text().concat())
}

/// Asserts that the output folder holds exactly these files besides the normalisation cache,
/// the lock file and the record of outputs (no temporary files left over).
pub fn assert_outputs(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !matches!(
                n.as_str(),
                ".cache" | ".dossier.lock" | ".dossier-outputs.json"
            )
        })
        .collect();
    names.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected, "files in {}", dir.display());
}
