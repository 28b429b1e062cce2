//! Regenerating after a correction: stable 件号, the build report and what it says changed,
//! `diff` of two packages, the revision page, and `watch`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::pdf::Pdf;
use crate::common::*;
use serde_json::Value;

/// A copy of the sample dossier in a temporary folder, at `d/`.
fn sample_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    overlay(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("dossier"),
        &tmp.path().join("d"),
    );
    tmp
}

fn stdout_of(run: &std::process::Output) -> String {
    String::from_utf8_lossy(&run.stdout).into_owned()
}

/// The `change` lines of a JSON run.
fn changes(run: &std::process::Output) -> Vec<Value> {
    json_lines(run)
        .into_iter()
        .filter(|v| v["type"] == "change")
        .collect()
}

fn report(dir: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(format!("o/{name}-构建报告.json"))).unwrap())
        .unwrap()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn editing_one_title_changes_only_that_records_digest_and_the_report_names_it() {
    let (tmp, root) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    let before = report(tmp.path(), "测试资料");
    edit(
        &root.join("items/05.yaml"),
        "题名: 质量精神宣传方案",
        "题名: 质量精神宣传工作方案",
    );
    let run = build_ok(tmp.path(), &["--format", "json"]);
    assert_eq!(
        changes(&run),
        [
            serde_json::json!({"type": "change", "change": "modified", "record": "05-01", "fields": ["题名"], "files": []})
        ],
        "only 05-01 is named"
    );
    let after = report(tmp.path(), "测试资料");
    let digests = |r: &Value| -> BTreeMap<String, String> {
        r["records"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v["digest"].as_str().unwrap().to_string()))
            .collect()
    };
    let (a, b) = (digests(&before), digests(&after));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let changed: Vec<&String> = a.keys().filter(|k| a[*k] != b[*k]).collect();
    assert_eq!(changed, vec!["05-01"]);
    assert_ne!(before["inputs"], after["inputs"]);
}

#[test]
fn a_rebuild_without_changes_reports_nothing_and_writes_identical_bytes() {
    let (tmp, _) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    let read = |f: &str| std::fs::read(tmp.path().join("o").join(f)).unwrap();
    let files = ["测试资料.pdf", "测试资料.zip", "测试资料-构建报告.json"];
    let before: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
    let run = build_ok(tmp.path(), &[]);
    assert!(
        stdout_of(&run).contains("与上次生成相比没有变化"),
        "{}",
        log(&run)
    );
    let run = build_ok(tmp.path(), &["--format", "json"]);
    let lines = json_lines(&run);
    assert!(!lines.iter().any(|v| v["type"] == "change"), "{lines:?}");
    assert_eq!(summary(&lines)["changed"], false, "{lines:?}");
    for (f, b) in files.iter().zip(before) {
        assert!(read(f) == b, "{f} changed");
    }
}

#[test]
fn adding_a_record_to_item_5_changes_no_number_elsewhere() {
    let tmp = sample_copy();
    build_ok(tmp.path(), &[]);
    let pdf = tmp.path().join("o/民权县质量强县示范县验收资料.pdf");
    let numbers = |path: &Path| -> BTreeMap<String, String> {
        Pdf::load(path)
            .bookmarks()
            .into_iter()
            .filter(|b| b.depth == 2)
            .map(|b| {
                let (id, title) = b.title.split_once(' ').unwrap();
                (title.to_string(), id.to_string())
            })
            .collect()
    };
    let before = numbers(&pdf);
    let item5 = tmp.path().join("d/items/05.yaml");
    let mut text = std::fs::read_to_string(&item5).unwrap();
    text.push_str("  - 件号: 5\n    题名: 补充的宣传材料照片\n    日期: 2021-07-01\n    责任单位: 南华街道办\n    考核内容: [2]\n    文件: evidence/05/社区宣传栏.jpg\n");
    std::fs::write(&item5, text).unwrap();
    let run = build_ok(tmp.path(), &["--format", "json"]);
    let added: Vec<Value> = changes(&run)
        .into_iter()
        .filter(|c| c["change"] != "moved")
        .collect();
    assert_eq!(
        added,
        [serde_json::json!({"type": "change", "change": "added", "record": "05-05"})]
    );
    let after = numbers(&pdf);
    assert_eq!(
        after.get("补充的宣传材料照片").map(String::as_str),
        Some("05-05")
    );
    for (title, id) in &before {
        assert_eq!(after.get(title), Some(id), "{title} was {id}");
    }
    assert_eq!(after.len(), before.len() + 1);
}

#[test]
fn diff_of_two_packages_names_the_changed_record() {
    let (tmp, root) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    let old = tmp.path().join("旧.zip");
    std::fs::copy(tmp.path().join("o/测试资料.zip"), &old).unwrap();
    edit(
        &root.join("items/05.yaml"),
        "日期: 2021-06-20",
        "日期: 2021-06-21",
    );
    build_ok(tmp.path(), &[]);
    // The result goes to stdout, so `dossier diff a b > f` puts it in f.
    let (code, text) = dossier_to_file(
        tmp.path(),
        &["diff", old.to_str().unwrap(), "o/测试资料.zip"],
        &tmp.path().join("diff.txt"),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("修改材料 05-02：字段 日期"), "{text}");
    assert!(text.contains("受影响的单位证据册：绿洲街道办"), "{text}");
    // And the same as JSON lines.
    let run = dossier(
        tmp.path(),
        &[
            "diff",
            old.to_str().unwrap(),
            "o/测试资料.zip",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", log(&run));
    let lines = json_lines(&run);
    let modified: Vec<&Value> = lines.iter().filter(|v| v["change"] == "modified").collect();
    assert_eq!(modified.len(), 1, "{lines:?}");
    assert_eq!(modified[0]["record"], "05-02");
    assert_eq!(modified[0]["fields"], serde_json::json!(["日期"]));
    let summary = summary(&lines);
    assert_eq!(
        summary["binders"],
        serde_json::json!(["绿洲街道办"]),
        "{summary}"
    );
    assert_eq!(summary["same_dossier"], true);
}

#[test]
fn the_revision_history_is_printed() {
    let (tmp, root) = dossier_with(None);
    let mut config = std::fs::read_to_string(root.join("dossier.yaml")).unwrap();
    config.push_str(
        "修订记录:\n  - 版本: \"1.1\"\n    日期: 2022-05-25\n    内容: 更正 05-02 的日期。\n",
    );
    std::fs::write(root.join("dossier.yaml"), config).unwrap();
    build_ok(tmp.path(), &[]);
    let pdf = Pdf::load(&tmp.path().join("o/测试资料.pdf"));
    let mark = pdf
        .bookmarks()
        .into_iter()
        .find(|b| b.title == "修订记录")
        .expect("a 修订记录 bookmark");
    let text = crate::common::pdf::compact(&pdf.text(mark.page));
    assert!(text.contains("1.12022年5月25日更正05-02的日期。"), "{text}");
}

/// Lines of a child's output, collected by threads.
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn wait_for(&self, want: &str, after: usize) -> usize {
        let start = Instant::now();
        loop {
            {
                let lines = self.0.lock().unwrap();
                if let Some(i) = lines.iter().skip(after).position(|l| l.contains(want)) {
                    return after + i + 1;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "no {want:?} in:\n{}",
                self.0.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn watch_rebuilds_on_a_save_by_rename_survives_a_broken_file_and_ignores_its_output() {
    let (tmp, root) = dossier_with(None);
    let mut child = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["watch", "d", "--out", "d/o"])
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Results come on stdout, progress and diagnostics on stderr: both read, in one list.
    let lines = Lines(Arc::new(Mutex::new(Vec::new())));
    let stderr = child.stderr.take().unwrap();
    let sink = lines.0.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let stdout = child.stdout.take().unwrap();
    let sink = lines.0.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let n = lines.wait_for("正在监视", 0);
    // An editor saving by writing a temporary file and renaming it over the original.
    let item = root.join("items/05.yaml");
    let text = std::fs::read_to_string(&item)
        .unwrap()
        .replace("题名: 宣传牌照片及扫描件", "题名: 宣传牌照片和扫描件");
    std::fs::write(root.join("items/.05.yaml.tmp"), text).unwrap();
    std::fs::rename(root.join("items/.05.yaml.tmp"), &item).unwrap();
    let n = lines.wait_for("修改材料 05-02：字段 题名", n);
    // A broken file: diagnostics, and watching goes on.
    std::fs::write(
        root.join("items/06.yaml"),
        "指标: 6\n材料:\n  - 题名: 关于: 通知\n",
    )
    .unwrap();
    let n = lines.wait_for("这一行的冒号让 YAML 读不懂", n);
    let n = lines.wait_for("继续监视", n);
    std::fs::write(root.join("items/06.yaml"), "指标: 6\n材料:\n").unwrap();
    let n = lines.wait_for("已生成", n);
    // The outputs written inside the dossier (d/o) did not trigger rebuilds of their own.
    std::thread::sleep(Duration::from_millis(1500));
    let later: Vec<String> = lines.0.lock().unwrap().iter().skip(n).cloned().collect();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        !later.iter().any(|l| l.contains("重新生成")),
        "rebuilt after its own output: {later:?}"
    );
    let pdf = pdf_text(&tmp.path().join("d/o/测试资料.pdf"));
    assert!(pdf.contains("宣传牌照片和扫描件"));
}
