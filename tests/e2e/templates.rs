//! `dossier templates`: the built-in templates written out for a county office to customise,
//! used in place of the built-in ones, never overwritten, and their errors shown at their own
//! file and line.

use crate::common::*;

#[test]
fn exported_templates_build_the_same_pdf_are_kept_and_their_errors_point_at_their_lines() {
    let (tmp, root) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    let pdf = tmp.path().join("o/测试资料.pdf");
    let before = std::fs::read(&pdf).unwrap();

    let run = dossier(tmp.path(), &["templates", "d"]);
    assert_eq!(run.status.code(), Some(0), "{}", log(&run));
    let mut names: Vec<String> = std::fs::read_dir(root.join("templates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "binder.typ",
            "dossier.typ",
            "lib.typ",
            "master.typ",
            "parts.typ"
        ]
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(stdout.matches("已写出").count(), 5, "{stdout}");

    // Unchanged, they are the built-in templates: the same PDF, byte for byte.
    build_ok(tmp.path(), &[]);
    assert!(std::fs::read(&pdf).unwrap() == before, "the PDF changed");

    // The office breaks its lib.typ: running the command again keeps the office's file.
    let lib = root.join("templates/lib.typ");
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str("#panic(\"本县改坏的模板\")\n");
    let line = text.lines().count();
    std::fs::write(&lib, &text).unwrap();
    let run = dossier(tmp.path(), &["templates", "d"]);
    assert_eq!(run.status.code(), Some(0), "{}", log(&run));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr)
            .matches("没有覆盖")
            .count(),
        5,
        "{}",
        log(&run)
    );
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), text);

    // The error is at the office's template and line, and the previous PDF stays.
    let e = build_error(tmp.path());
    assert_eq!(
        (e.file.as_str(), e.line),
        ("templates/lib.typ", line),
        "{e:?}"
    );
    assert!(e.message.contains("本县改坏的模板"), "{e:?}");
    assert!(e.hint.contains("自定义的模板"), "{e:?}");
    assert!(std::fs::read(&pdf).unwrap() == before);
    // The package was being written while the dossier was typeset: it is dropped, not left
    // half-written beside the outputs.
    let left: Vec<_> = std::fs::read_dir(pdf.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn templates_needs_a_dossier() {
    let tmp = tempfile::tempdir().unwrap();
    let run = dossier(tmp.path(), &["templates", "."]);
    assert_eq!(run.status.code(), Some(2), "{}", log(&run));
    assert!(String::from_utf8_lossy(&run.stderr).contains("不是资料目录"));
    assert!(!tmp.path().join("templates").exists());
}
