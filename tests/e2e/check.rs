//! End-to-end tests of `dossier check` (and `init`): every error and warning the checker must
//! report has a fixture under `tests/fixtures/check/CASE` (files laid over the base fixture),
//! and a test that asserts the file, the line and the message.

use crate::common::*;

/// Runs a case that must fail with exactly one error, and returns that error.
fn one_error(case: &str) -> Printed {
    let (code, diags, stderr) = check_case(case);
    assert_eq!(code, 1, "{case}: exit code\n{stderr}");
    the_error(&diags, &stderr)
}

fn assert_at(d: &Printed, file: &str, line: usize, message: &str) {
    assert_eq!((d.file.as_str(), d.line), (file, line), "place of {d:?}");
    assert!(
        d.message.contains(message),
        "message {:?} lacks {message:?}",
        d.message
    );
}

#[test]
fn base_fixture_is_valid_with_a_coverage_warning() {
    let (tmp, _) = dossier_with(None);
    let (code, diags, summary, stderr) = json_run(tmp.path(), &["check", "d"]);
    assert_eq!(code, 0, "{stderr}");
    for (key, n) in [("items", 21), ("records", 3), ("files", 4), ("pages", 7)] {
        assert_eq!(summary[key], n, "{key}: {summary}");
    }
    // Warning: a criterion with no evidence (item 5's third criterion).
    let w = diags
        .iter()
        .find(|d| d.message.starts_with("指标5第3条考核内容没有材料"))
        .expect(&stderr);
    assert_eq!(w.severity, "警告");
    assert_eq!(w.code, "criterion-without-evidence");
    assert_eq!((w.file.as_str(), w.line), ("items/05.yaml", 1));
}

#[test]
fn yaml_syntax_error() {
    let e = one_error("yaml-syntax");
    assert_at(&e, "items/06.yaml", 4, "这一行的冒号让 YAML 读不懂");
    assert!(e.hint.contains("双引号"), "{e:?}");
    assert_eq!(e.code, "yaml-syntax");
}

#[test]
fn unknown_key() {
    let e = one_error("unknown-key");
    assert_at(&e, "items/06.yaml", 4, "未知的字段“题目”");
    assert_eq!(e.col, 5);
    assert!(e.hint.contains("是不是想写“题名”"), "{e:?}");
}

#[test]
fn duplicate_key() {
    let e = one_error("duplicate-key");
    assert_at(&e, "items/06.yaml", 7, "字段“文件”写了两次");
}

#[test]
fn a_date_that_is_not_a_date() {
    let e = one_error("not-a-date");
    assert_at(&e, "items/06.yaml", 5, "“2021年9月”不是日期");
    assert_eq!(e.col, 9);
}

#[test]
fn text_where_a_list_is_expected() {
    let e = one_error("text-for-list");
    assert_at(
        &e,
        "items/06.yaml",
        6,
        "类型不对：这里应当是正整数（序号），写的是文字",
    );
}

#[test]
fn item_not_in_the_catalog() {
    let e = one_error("item-not-in-catalog");
    assert_at(&e, "items/22.yaml", 1, "目录中没有指标22");
}

#[test]
fn two_files_for_one_item() {
    let e = one_error("two-files-for-one-item");
    assert_at(&e, "items/05补充.yaml", 1, "指标5有两个文件");
}

#[test]
fn record_without_a_title() {
    let e = one_error("record-without-title");
    assert_at(&e, "items/06.yaml", 3, "第1件材料没有题名");
}

#[test]
fn two_records_with_the_same_number() {
    let e = one_error("duplicate-number");
    assert_at(
        &e,
        "items/06.yaml",
        7,
        "件号 1 重复：指标6里已经有一件 06-01",
    );
}

#[test]
fn missing_evidence_file_suggests_the_near_name() {
    let e = one_error("missing-file");
    assert_at(&e, "items/06.yaml", 6, "找不到文件“evidence/05/方按.pdf”");
    assert!(e.hint.contains("方案.pdf"), "{e:?}");
}

#[test]
fn path_leaving_the_root_with_dot_dot() {
    let e = one_error("path-parent");
    assert_at(&e, "items/06.yaml", 6, "用“..”跳出了资料目录");
}

#[test]
fn absolute_path() {
    let e = one_error("path-absolute");
    assert_at(&e, "items/06.yaml", 6, "是绝对路径");
}

#[cfg(unix)]
#[test]
fn symlink_pointing_outside_the_root() {
    let (tmp, root) = dossier_with(Some("path-symlink"));
    let outside = tmp.path().join("outside.pdf");
    std::fs::copy(root.join("evidence/05/方案.pdf"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("evidence/06/链接.pdf")).unwrap();
    let (code, diags, stderr) = check_in(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    let e = the_error(&diags, &stderr);
    assert_at(&e, "items/06.yaml", 7, "指向资料目录之外");
}

#[test]
fn unknown_unit_with_did_you_mean() {
    let e = one_error("unknown-unit");
    assert_at(&e, "items/06.yaml", 5, "责任单位“市场监督局”不在单位名录里");
    assert!(e.hint.contains("是不是想写“市场监管局"), "{e:?}");
    assert_eq!(e.code, "unit-unknown");
}

#[test]
fn criterion_the_item_does_not_have() {
    let e = one_error("criterion-not-in-item");
    assert_at(&e, "items/06.yaml", 6, "指标6没有第3条考核内容");
    assert_eq!(e.code, "criterion-unknown");
}

#[test]
fn a_measure_must_name_its_target_when_the_criterion_has_several() {
    // Item 17's third criterion has two targets (大中型项目 and 其他工程).
    let e = one_error("measure-which-target");
    assert_at(&e, "items/17.yaml", 9, "没有写实测的是哪一个");
    assert!(
        e.hint
            .contains("指标项: 大中型项目一次性验收合格率”或“其他工程一次性验收合格率"),
        "{e:?}"
    );
}

#[test]
fn a_measure_naming_a_target_the_criterion_does_not_have() {
    let e = one_error("measure-unknown-target");
    assert_at(
        &e,
        "items/17.yaml",
        9,
        "第3条考核内容没有“验收合格率”这个目标",
    );
    assert!(
        e.hint
            .contains("“大中型项目一次性验收合格率”“其他工程一次性验收合格率”"),
        "{e:?}"
    );
}

#[test]
fn task_the_item_does_not_have() {
    // Item 14's task numbers jump from 12 to 14.
    let e = one_error("task-not-in-item");
    assert_at(&e, "items/14.yaml", 6, "指标14没有第13项工作任务");
    assert!(e.hint.contains("12、14"), "{e:?}");
}

#[test]
fn file_that_cannot_be_typeset_unless_package_only() {
    let e = one_error("not-typesettable");
    assert_at(
        &e,
        "items/06.yaml",
        6,
        "evidence/05/统计表.xlsx 不是 PDF 或图片，无法编入汇编",
    );
    assert!(e.hint.contains("仅入包: 是"), "{e:?}");
}

#[test]
fn pdf_that_cannot_be_read() {
    let e = one_error("unreadable-pdf");
    assert_at(&e, "items/06.yaml", 6, "无法读取 evidence/06/损坏.pdf");
}

#[test]
fn encrypted_pdfs() {
    let (code, diags, stderr) = check_case("encrypted-pdf");
    assert_eq!(code, 1, "{stderr}");
    let errors: Vec<&Printed> = diags.iter().filter(|d| d.severity == "错误").collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert_at(
        errors[0],
        "items/06.yaml",
        6,
        "PDF evidence/06/加密.pdf 已加密，需要密码才能打开",
    );
    assert_at(
        errors[1],
        "items/06.yaml",
        10,
        "PDF evidence/06/限制编辑.pdf 已加密（设有权限密码）",
    );
}

#[test]
fn empty_evidence_file() {
    let e = one_error("empty-file");
    assert_at(
        &e,
        "items/06.yaml",
        6,
        "文件 evidence/06/空文件.pdf 是空的（0 字节）",
    );
}

#[test]
fn page_selection_beyond_the_page_count() {
    let e = one_error("page-beyond-count");
    assert_at(
        &e,
        "items/06.yaml",
        8,
        "页码“2-5”超出范围：evidence/05/方案.pdf 只有 3 页",
    );
}

#[test]
fn date_outside_the_creation_period_is_a_warning() {
    let (code, diags, stderr) = check_case("date-outside-period");
    assert_eq!(code, 0, "{stderr}");
    let w = diags
        .iter()
        .find(|d| d.message.contains("2019-09-01"))
        .expect(&stderr);
    assert_eq!(w.severity, "警告");
    assert_at(
        w,
        "items/06.yaml",
        5,
        "日期 2019-09-01 不在创建期（2020-11-01 至 2022-06-30）内",
    );
}

#[test]
fn unreferenced_evidence_file_is_a_warning() {
    let (code, diags, stderr) = check_case("unreferenced-file");
    assert_eq!(code, 0, "{stderr}");
    let w = diags
        .iter()
        .find(|d| d.message.contains("未登记的照片"))
        .expect(&stderr);
    assert_eq!(w.severity, "警告");
    assert_eq!(w.file, "evidence/05/未登记的照片.jpg");
    assert!(w.message.contains("没有被任何材料引用"), "{w:?}");
}

#[test]
fn the_sample_dossier_checks_clean_and_is_not_modified() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let before = snapshot(&repo.join("dossier"));
    let out = dossier(repo, &["check"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The result on stdout, the diagnostics (the sample has coverage warnings) on stderr.
    assert!(stdout.starts_with("检查通过：21 项指标，"), "{stdout}");
    assert!(stdout.contains("0 个错误"), "{stdout}");
    assert!(!stdout.contains("警告："), "{stdout}");
    assert!(stderr.contains("警告："), "{stderr}");
    assert_eq!(
        snapshot(&repo.join("dossier")),
        before,
        "check changed a file of the dossier"
    );
}

/// Every file under `dir` with its size, modification time and content hash.
fn snapshot(dir: &std::path::Path) -> Vec<(String, u64, std::time::SystemTime, u64)> {
    use std::hash::{Hash, Hasher};
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(e.path()).unwrap().hash(&mut h);
            (
                e.path().display().to_string(),
                meta.len(),
                meta.modified().unwrap(),
                h.finish(),
            )
        })
        .collect()
}

#[test]
fn io_and_usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = dossier(tmp.path(), &["check", "没有这个目录"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("找不到资料目录"));
    let out = dossier(tmp.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2), "no ./dossier here");
    let out = dossier(tmp.path(), &["check", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    // A folder without dossier.yaml is not a dossier.
    let out = dossier(tmp.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("不是资料目录"));
}

#[test]
fn a_failure_in_json_mode_is_a_json_line_and_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let run = dossier(tmp.path(), &["check", "没有这个目录", "--format", "json"]);
    assert_eq!(run.status.code(), Some(2), "{}", log(&run));
    let lines = json_lines(&run);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["type"], "failure");
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("找不到资料目录"),
        "{}",
        lines[0]
    );
    let summary = summary(&lines);
    assert_eq!(summary["command"], "check");
    assert_eq!(summary["ok"], false);
    assert_eq!(summary["failed"], true);
}

#[test]
fn init_writes_a_dossier_that_checks_and_refuses_a_non_empty_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = dossier(tmp.path(), &["init", "新目录"]);
    assert!(out.status.success());
    let root = tmp.path().join("新目录");
    let items = std::fs::read_dir(root.join("items")).unwrap().count();
    assert_eq!(items, 21);
    let config = std::fs::read_to_string(root.join("dossier.yaml")).unwrap();
    assert!(
        config.contains("日期: 2022-05-20"),
        "SOURCE_DATE_EPOCH gives the date"
    );
    let out = dossier(tmp.path(), &["check", "新目录"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let before = std::fs::read(root.join("dossier.yaml")).unwrap();
    let out = dossier(tmp.path(), &["init", "新目录"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("不是空文件夹"));
    assert_eq!(std::fs::read(root.join("dossier.yaml")).unwrap(), before);
}

#[test]
fn check_counts_the_evidence_pages_without_a_text_layer_as_information() {
    let (tmp, root) = dossier_with(None);
    // (pages, pages without a text layer, diagnostics) as `check --format json` tells them.
    let counts = || {
        let (code, diags, summary, text) = json_run(tmp.path(), &["check", "d"]);
        assert_eq!(code, 0, "{text}");
        let n = |k: &str| {
            summary[k]
                .as_u64()
                .unwrap_or_else(|| panic!("{k}: {summary}"))
        };
        (n("pages"), n("pages_without_text"), diags.len())
    };
    // The base fixture's evidence: a PDF drawn without any text (3 pages, printed whole and
    // pages 2–3 again), a photo and a scan: 7 pages, none with text.
    let (pages, without, diags) = counts();
    assert_eq!((pages, without), (7, 7));
    // A typeset report (fonts on both pages) added as a record: two more pages, with text.
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("dossier/evidence/04/质量精神征集公告.pdf");
    std::fs::copy(&sample, root.join("evidence/05/公告.pdf")).unwrap();
    let items = root.join("items/05.yaml");
    let yaml = std::fs::read_to_string(&items).unwrap();
    std::fs::write(
        &items,
        format!("{yaml}  - 件号: 4\n    题名: 征集公告\n    日期: 2021-05-01\n    责任单位: 县创建办公室\n    考核内容: [1]\n    文件: evidence/05/公告.pdf\n"),
    )
    .unwrap();
    // Information only: no diagnostic is added for it, and the text run says it.
    assert_eq!(counts(), (9, 7, diags));
    let run = dossier(tmp.path(), &["check", "d"]);
    assert!(
        log(&run).contains("其中 7 页证据没有文字层"),
        "{}",
        log(&run)
    );
}
