//! End-to-end tests of `dossier binder`: one PDF per unit with tasks or records, holding exactly
//! that unit's records under their dossier 件号, each starting on an odd page when duplex.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use crate::common::pdf::Pdf;
use crate::common::*;
use dossier::catalog::Catalog;
use dossier::model::UnitsFile;
use dossier::units::Registry;
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The sample's binders (`binder --all`) and its dossier, built once.
fn sample() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = shared_out("binder-sample");
        let o = out.to_str().unwrap();
        for args in [
            vec!["binder", "--all", "--out", o],
            vec!["build", "--out", o],
        ] {
            let run = dossier(repo(), &args);
            assert_eq!(
                run.status.code(),
                Some(0),
                "{args:?}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
        }
        let binders = out.join("binders");
        (out, binders)
    })
}

fn registry() -> Registry {
    let text = std::fs::read_to_string(repo().join("dossier/units.yaml")).unwrap();
    let data: UnitsFile = serde_saphyr::from_str(&text).unwrap();
    let mut diags = Vec::new();
    let reg = Registry::build("units.yaml", &data, &mut diags);
    assert!(diags.is_empty(), "{diags:?}");
    reg
}

/// Every record of the sample: (件号, title, units as short names).
fn records(reg: &Registry) -> Vec<(String, String, BTreeSet<String>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(repo().join("dossier/items")).unwrap() {
        let v: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
        let item = v["指标"].as_u64().unwrap();
        for r in v["材料"].as_array().into_iter().flatten() {
            let names: Vec<String> = match &r["责任单位"] {
                Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
                Value::String(s) => vec![s.clone()],
                _ => panic!(),
            };
            let units = names
                .iter()
                .flat_map(|n| reg.units_of(n))
                .map(|u| reg.units[u].short.clone())
                .collect();
            let id = format!("{item:02}-{:02}", r["件号"].as_u64().unwrap());
            out.push((id, r["题名"].as_str().unwrap().to_string(), units));
        }
    }
    out
}

/// The record bookmarks of a PDF: 件号 → (title, page).
fn record_marks(pdf: &Pdf) -> BTreeMap<String, (String, usize)> {
    pdf.bookmarks()
        .into_iter()
        .filter_map(|b| {
            let (id, title) = b.title.split_once(' ')?;
            let ok = id.len() == 5
                && id.as_bytes()[2] == b'-'
                && id.chars().filter(|c| c.is_ascii_digit()).count() == 4;
            ok.then(|| (id.to_string(), (title.to_string(), b.page)))
        })
        .collect()
}

#[test]
fn the_binder_files_are_the_units_with_tasks_or_records() {
    let reg = registry();
    let mut expected = BTreeSet::new();
    for item in &Catalog::get().items {
        for c in &item.criteria {
            for name in &c.units {
                expected.extend(
                    reg.units_of(name)
                        .into_iter()
                        .map(|u| reg.units[u].short.clone()),
                );
            }
        }
    }
    for (_, _, units) in records(&reg) {
        expected.extend(units);
    }
    let found: BTreeSet<String> = std::fs::read_dir(&sample().1)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".pdf")
                .to_string()
        })
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn each_binder_holds_exactly_its_units_records_with_the_dossier_numbers_on_odd_pages() {
    let reg = registry();
    let all = records(&reg);
    let dossier_pdf = Pdf::load(&sample().0.join("民权县质量强县示范县验收资料.pdf"));
    let in_dossier = record_marks(&dossier_pdf);
    for entry in std::fs::read_dir(&sample().1).unwrap() {
        let path = entry.unwrap().path();
        let unit = path.file_stem().unwrap().to_string_lossy().into_owned();
        let pdf = Pdf::load(&path);
        let marks = record_marks(&pdf);
        let text = pdf_text(&path);
        for (id, title, units) in &all {
            let mine = units.contains(&unit);
            assert_eq!(marks.contains_key(id), mine, "{unit}: record {id} {title}");
            assert_eq!(
                text.contains(&crate::common::pdf::compact(title)),
                mine || other_mentions(&all, title),
                "{unit}: title of {id}"
            );
            if let Some((t, page)) = marks.get(id) {
                assert_eq!(t, title, "{unit}: title under {id}");
                assert_eq!(page % 2, 1, "{unit}: {id} starts on page {page}");
                assert_eq!(
                    in_dossier.get(id).map(|d| &d.0),
                    Some(title),
                    "{id} has another title in the dossier"
                );
            }
        }
    }
}

/// Whether a title is contained in another record's title (then it may appear legitimately).
fn other_mentions(all: &[(String, String, BTreeSet<String>)], title: &str) -> bool {
    all.iter().any(|(_, t, _)| t != title && t.contains(title))
}

#[test]
fn simplex_inserts_no_blank_pages_and_unknown_units_get_suggestions() {
    let (tmp, root) = dossier_with(None);
    for (flag, out) in [("--duplex", "d2"), ("--simplex", "s")] {
        let run = dossier(
            tmp.path(),
            &["binder", "d", "--unit", "县创建办公室", flag, "--out", out],
        );
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let duplex = Pdf::load(&tmp.path().join("d2/binders/县创建办公室.pdf"));
    let simplex = Pdf::load(&tmp.path().join("s/binders/县创建办公室.pdf"));
    assert!(
        simplex.page_count() < duplex.page_count(),
        "{} vs {}",
        simplex.page_count(),
        duplex.page_count()
    );
    // Simplex pages follow each other: the records take consecutive pages.
    let pages: Vec<usize> = record_marks(&simplex).values().map(|v| v.1).collect();
    assert!(pages.windows(2).all(|w| w[1] > w[0]));
    assert!(
        pages.iter().any(|p| p % 2 == 0),
        "without duplex some record starts on an even page: {pages:?}"
    );

    let run = dossier(tmp.path(), &["binder", "d", "--unit", "市场监督局"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("是不是想写“市场监管局”"), "{stderr}");

    // A unit with neither tasks nor records gets no binder and a line saying so.
    let mut units = std::fs::read_to_string(root.join("units.yaml")).unwrap();
    units = units.replace(
        "单位组:",
        "  - 名称: 测试县档案馆\n    简称: 档案馆\n\n单位组:",
    );
    std::fs::write(root.join("units.yaml"), units).unwrap();
    let run = dossier(
        tmp.path(),
        &["binder", "d", "--unit", "档案馆", "--out", "x"],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("档案馆 没有承担任务，也没有提供材料，不生成证据册"),
        "{stderr}"
    );
    assert!(!tmp.path().join("x/binders/档案馆.pdf").exists());
    let run = dossier(tmp.path(), &["binder", "d", "--all", "--out", "x"]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("档案馆 没有承担任务"));
    assert!(
        tmp.path().join("x/binders/县创建办公室.pdf").exists()
            && !tmp.path().join("x/binders/档案馆.pdf").exists()
    );
}

#[test]
fn binders_of_a_pdfa_dossier_are_pdfa_and_pdf_evidence_is_refused_there_too() {
    let (tmp, root) = dossier_with(None);
    std::fs::copy(
        fixtures().join("build/pdfa/dossier.yaml"),
        root.join("dossier.yaml"),
    )
    .unwrap();
    // The base fixture's PDF record cannot go into a PDF/A binder: the same error as build.
    let run = dossier(tmp.path(), &["binder", "d", "--all", "--out", "o"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let e = the_error(&printed(&stderr, "d"), &stderr);
    assert!(
        e.message.contains("PDF/A") && e.message.contains("05-01"),
        "{e:?}"
    );
    assert_eq!((e.file.as_str(), e.line), ("dossier.yaml", 10));

    // Images only: every binder builds, as PDF/A (images normalised to JPEGs, not PDF pages).
    overlay(&fixtures().join("build/pdfa"), &root);
    let run = dossier(tmp.path(), &["binder", "d", "--all", "--out", "o"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let bytes = std::fs::read(tmp.path().join("o/binders/绿洲街道办.pdf")).unwrap();
    let xmp = String::from_utf8_lossy(&bytes);
    assert!(xmp.contains("<pdfaid:part>3</pdfaid:part>"));
    assert!(
        Pdf::load(&tmp.path().join("o/binders/绿洲街道办.pdf"))
            .all_text()
            .concat()
            .contains("宣传牌照片")
    );
}

/// Every file in `dir` with its bytes.
fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn binder_all_changes_no_binder_when_one_unit_fails() {
    let (tmp, root) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    let run = dossier(tmp.path(), &["binder", "d", "--all", "--out", "o"]);
    assert_eq!(run.status.code(), Some(0), "{}", log(&run));
    let binders = tmp.path().join("o/binders");
    let before = files_in(&binders);
    assert!(before.len() >= 2, "{:?}", before.keys());
    assert!(before.contains_key("绿洲街道办.pdf"));

    // A customised template that fails for one unit only, and a change every binder would
    // show (the title on each cover): the run stops with that unit's error, and not one
    // binder in the folder changes, nor is any temporary file left.
    overlay(&fixtures().join("build/binder-fails-for-one-unit"), &root);
    let config = std::fs::read_to_string(root.join("dossier.yaml")).unwrap();
    std::fs::write(
        root.join("dossier.yaml"),
        config.replacen("标题: \"测试县", "标题: \"修订后的测试县", 1),
    )
    .unwrap();
    let (code, diags, summary, log) = json_run(tmp.path(), &["binder", "d", "--all", "--out", "o"]);
    assert_eq!(code, 1, "{log}");
    let e = the_error(&diags, &log);
    // The customised template's own file and line, though Typst saw the rendered source.
    assert_eq!(
        (e.file.as_str(), e.line),
        ("templates/binder.typ", 5),
        "{e:?}"
    );
    assert!(e.message.contains("本单位的证据册模板出错"), "{e:?}");
    assert_eq!(summary["command"], "binder");
    assert_eq!(files_in(&binders), before, "a binder changed");

    // The same when the failure is in putting the binders in place: a folder where one binder
    // goes stops the run before any binder moves.
    std::fs::remove_dir_all(root.join("templates")).unwrap();
    std::fs::remove_file(binders.join("绿洲街道办.pdf")).unwrap();
    std::fs::create_dir(binders.join("绿洲街道办.pdf")).unwrap();
    let before = files_in(&binders);
    let run = dossier(tmp.path(), &["binder", "d", "--all", "--out", "o"]);
    assert_eq!(run.status.code(), Some(2), "{}", crate::common::log(&run));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("同名文件夹"),
        "{}",
        crate::common::log(&run)
    );
    assert_eq!(files_in(&binders), before, "a binder changed");
}

/// The sample with `分册: 每册页数上限: 60`, its binders made with `--all` into `o`.
fn sample_in_boxes() -> (tempfile::TempDir, Output) {
    let tmp = sample_cut_by("每册页数上限: 60");
    let run = dossier(tmp.path(), &["binder", "d", "--all", "--out", "o"]);
    assert_eq!(run.status.code(), Some(0), "{}", log(&run));
    (tmp, run)
}

#[test]
fn a_binder_over_the_box_limit_is_cut_into_boxes_of_whole_items_numbered_on() {
    let (tmp, run) = sample_in_boxes();
    let binders = tmp.path().join("o/binders");
    assert!(!binders.join("市场监管局.pdf").exists());
    let boxes: Vec<Pdf> = (1..)
        .map(|n| binders.join(format!("市场监管局-第{n}盒.pdf")))
        .take_while(|p| p.exists())
        .map(|p| Pdf::load(&p))
        .collect();
    assert_eq!(boxes.len(), 2, "{:?}", std::fs::read_dir(&binders));
    // The boxes hold exactly the records of the unit's one binder, each once, whole items
    // in order: every item of box 1 comes before every item of box 2.
    let whole = record_marks(&Pdf::load(&sample().1.join("市场监管局.pdf")));
    let mut seen = BTreeMap::new();
    let mut last_item = String::new();
    for (i, b) in boxes.iter().enumerate() {
        let marks = record_marks(b);
        assert!(!marks.is_empty(), "box {} is empty", i + 1);
        let first_item = marks.keys().next().unwrap()[..2].to_string();
        assert!(
            first_item > last_item,
            "box {} starts at item {first_item}",
            i + 1
        );
        last_item = marks.keys().last().unwrap()[..2].to_string();
        for (id, (title, page)) in marks {
            assert_eq!(page % 2, 1, "box {}: {id} starts on page {page}", i + 1);
            assert!(seen.insert(id.clone(), title).is_none(), "{id} twice");
        }
    }
    let expected: BTreeMap<String, String> =
        whole.into_iter().map(|(id, (t, _))| (id, t)).collect();
    assert_eq!(seen, expected);
    // Each box says which box it is on its cover and before every page number, and its box
    // cover and spine print its own 盒号: 2 for the first (dossier.yaml), counting on.
    for (i, b) in boxes.iter().enumerate() {
        let n = i + 1;
        let cover = crate::common::pdf::compact(&b.text(1));
        assert!(cover.contains(&format!("第{n}盒（共2盒）")), "{cover}");
        let numbered = crate::common::pdf::compact(&b.text(5));
        assert!(numbered.contains(&format!("第{n}盒—")), "{numbered}");
        let last: Vec<String> = (1..=b.page_count())
            .map(|p| crate::common::pdf::compact(&b.text(p)))
            .filter(|t| t.contains("起止件号") && t.contains("盒号"))
            .collect();
        assert_eq!(last.len(), 2, "box cover and spine label");
        for t in last {
            assert!(t.ends_with(&format!("盒号{}", n + 1)), "{t}");
        }
    }
    // 政府办 is box 3 in dossier.yaml, which 市场监管局's second box now prints too.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("盒号 3 重复：政府办、市场监管局第2盒"),
        "{stderr}"
    );
}

#[test]
fn a_units_binder_run_replaces_its_own_boxes_and_keeps_the_others() {
    let (tmp, _) = sample_in_boxes();
    let binders = tmp.path().join("o/binders");
    let others = files_in(&binders);
    replace_in(
        &tmp.path().join("d/dossier.yaml"),
        "每册页数上限: 60",
        "每册页数上限: 600",
    );
    let run = dossier(
        tmp.path(),
        &["binder", "d", "--unit", "市场监管局", "--out", "o"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", log(&run));
    let now = files_in(&binders);
    assert!(now.contains_key("市场监管局.pdf"));
    assert!(
        !now.keys().any(|k| k.contains("盒.pdf")),
        "{:?}",
        now.keys()
    );
    for (name, bytes) in &others {
        if !name.starts_with("市场监管局") {
            assert_eq!(now.get(name), Some(bytes), "{name} changed");
        }
    }
}

#[test]
fn a_binder_run_reuses_the_places_of_the_last_layout_until_an_input_changes() {
    let (tmp, root) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    let binders = tmp.path().join("o/binders");
    let cache = tmp.path().join("o/.cache/places.json");
    let binder_all = || {
        let run = dossier(tmp.path(), &["binder", "d", "--all", "--out", "o"]);
        assert_eq!(run.status.code(), Some(0), "{}", log(&run));
        // Whether the run laid the dossier out to find the places.
        log(&run).contains("为证据册标出汇编页码")
    };
    // After a build the places are the build's; the binders are those of a run that lays the
    // dossier out anew, byte for byte; that run saves them in turn.
    assert!(!binder_all(), "laid out after a build");
    let reused = files_in(&binders);
    std::fs::remove_file(&cache).unwrap();
    assert!(binder_all());
    assert_eq!(files_in(&binders), reused);
    assert!(!binder_all(), "laid out again with nothing changed");
    // An evidence file touched, a record changed: laid out again, and the same binders as
    // with no saved places at all.
    let scan = root.join("evidence/05/扫描件.png");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&scan)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(binder_all(), "not laid out after an evidence file changed");
    replace_in(
        &root.join("items/05.yaml"),
        "题名: 质量精神宣传方案",
        "题名: 质量精神宣传方案（修订）",
    );
    assert!(binder_all(), "not laid out after a record changed");
    let after = files_in(&binders);
    assert_ne!(after, reused);
    std::fs::remove_file(&cache).unwrap();
    assert!(binder_all());
    assert_eq!(files_in(&binders), after);
    // Every run after the first laid each binder out with the places of its labels from the
    // last run (.cache/anchors.json); without them, the same bytes.
    let hints = tmp.path().join("o/.cache/anchors.json");
    let saved = std::fs::read_to_string(&hints).unwrap();
    assert!(saved.contains("binders/市场监管局.pdf"), "{saved}");
    std::fs::remove_file(&hints).unwrap();
    assert!(!binder_all());
    assert_eq!(files_in(&binders), after);
}
