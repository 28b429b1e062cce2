//! End-to-end tests of `dossier build`: the sample dossier's PDF read back with lopdf (pages,
//! bookmarks, links, printed page numbers, metadata), literal rendering of special
//! characters, reproducibility, error mapping and safe output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::pdf::{Bookmark, Pdf, compact};
use crate::common::*;
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The sample dossier built once for all tests of this file: (output folder, PDF path).
fn sample() -> &'static (PathBuf, PathBuf) {
    static SAMPLE: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let out = shared_out("build-sample");
        let run = dossier(
            repo(),
            &["build", "--out", out.to_str().unwrap(), "--format", "json"],
        );
        let log = log(&run);
        assert_eq!(run.status.code(), Some(0), "{log}");
        // The JSON lines name each output written, with the PDF's pages.
        let lines = json_lines(&run);
        let outputs: Vec<(&str, &str)> = lines
            .iter()
            .filter(|v| v["type"] == "output")
            .map(|v| (v["kind"].as_str().unwrap(), v["path"].as_str().unwrap()))
            .collect();
        let pdf = out.join("民权县质量强县示范县验收资料.pdf");
        let at = |name: &str| out.join(name).to_str().unwrap().to_string();
        assert_eq!(
            outputs,
            [
                ("pdf", at("民权县质量强县示范县验收资料.pdf").as_str()),
                ("package", at("民权县质量强县示范县验收资料.zip").as_str()),
                (
                    "report",
                    at("民权县质量强县示范县验收资料-构建报告.json").as_str()
                ),
            ],
            "{log}"
        );
        let summary = summary(&lines);
        assert_eq!(summary["records"], 79, "{summary}");
        let pages = lines.iter().find(|v| v["kind"] == "pdf").unwrap()["pages"].clone();
        assert_eq!(pages, summary["pages"], "one PDF holds every page");
        assert_eq!(
            pages,
            crate::common::pdf::Pdf::load(&pdf).page_count(),
            "the pages it reports are the PDF's"
        );
        (out, pdf)
    })
}

impl SampleRecord {
    fn title_compact(&self) -> String {
        compact(&self.title)
    }
}

/// A record of the sample as the test reads it from the YAML itself.
#[derive(Debug)]
struct SampleRecord {
    item: u64,
    id: String,
    title: String,
    /// Pages counted here, independently of the tool: PDF pages by lopdf, selections parsed
    /// here, one per image, one placeholder for a record with only package files.
    pages: usize,
}

fn count_selection(sel: &str, total: usize) -> usize {
    sel.split([',', '，'])
        .map(|part| {
            let part = part.trim();
            match part.split_once('-') {
                Some((a, b)) => {
                    let a: usize = a.trim().parse().unwrap();
                    let b: usize = if b.trim().is_empty() {
                        total
                    } else {
                        b.trim().parse().unwrap()
                    };
                    b - a + 1
                }
                None => 1,
            }
        })
        .sum()
}

/// Whether an evidence file of the sample is a photo that prints landscape (its EXIF
/// orientation applied).
fn is_landscape_photo(root: &Path, path: &str) -> bool {
    use image::ImageDecoder;
    use image::metadata::Orientation::{Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH};
    if !(path.ends_with(".jpg") || path.ends_with(".png")) {
        return false;
    }
    let mut dec = image::ImageReader::open(root.join(path))
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    let (w, h) = dec.dimensions();
    let turned = matches!(
        dec.orientation().unwrap(),
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH
    );
    if turned { h > w } else { w > h }
}

fn sample_records() -> Vec<SampleRecord> {
    let root = repo().join("dossier");
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("items"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let v: Value = serde_saphyr::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let item = v["指标"].as_u64().unwrap();
        for r in v["材料"].as_array().into_iter().flatten() {
            let entries: Vec<Value> = match &r["文件"] {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            let mut pages = 0;
            // Landscape photos of a record with several print two to a page.
            let landscape = |path: &str| is_landscape_photo(&root, path);
            let paths: Vec<String> = entries
                .iter()
                .filter_map(|e| match e {
                    Value::String(p) => Some(p.clone()),
                    _ => None,
                })
                .collect();
            let pair = paths.iter().filter(|p| landscape(p)).count() >= 2;
            let mut room = false;
            for e in entries {
                let (path, sel, pkg) = match &e {
                    Value::String(p) => (p.clone(), None, false),
                    Value::Object(m) => (
                        m["路径"].as_str().unwrap().to_string(),
                        m.get("页码").and_then(|s| s.as_str()).map(str::to_string),
                        m.get("仅入包")
                            .is_some_and(|p| p.as_str() == Some("是") || p.as_bool() == Some(true)),
                    ),
                    _ => panic!("unexpected 文件 entry {e}"),
                };
                if pkg {
                    continue;
                }
                if path.ends_with(".pdf") {
                    let total = lopdf::Document::load(root.join(&path))
                        .unwrap()
                        .get_pages()
                        .len();
                    pages += sel.map_or(total, |s| count_selection(&s, total));
                    room = false;
                } else if pair && landscape(&path) && room {
                    room = false;
                } else {
                    pages += 1;
                    room = pair && landscape(&path);
                }
            }
            let number = r["件号"].as_u64().unwrap();
            out.push(SampleRecord {
                item,
                id: format!("{item:02}-{number:02}"),
                title: r["题名"].as_str().unwrap().to_string(),
                pages: pages.max(1),
            });
        }
    }
    out
}

#[test]
fn sample_page_count_is_front_matter_plus_evidence_plus_sections_plus_indexes() {
    let pdf = Pdf::load(&sample().1);
    let marks = pdf.bookmarks();
    let records = sample_records();
    let total = pdf.page_count();
    // The bookmarks in page order, with the page where the next one starts.
    let starts: Vec<&Bookmark> = marks.iter().collect();
    let next_start = |i: usize| starts.get(i + 1).map_or(total + 1, |b| b.page);
    let mut evidence_pages = 0;
    let mut section_pages = 0;
    // Blank versos inserted so that every record starts on a right-hand page print nothing
    // and belong to no section.
    let blanks = |a: usize, b: usize| (a..b).filter(|&p| pdf.is_blank_verso(p)).count();
    for (i, b) in starts.iter().enumerate() {
        let span = next_start(i) - b.page - blanks(b.page, next_start(i));
        if b.depth == 2 {
            let id = b.title.split(' ').next().unwrap();
            let r = records
                .iter()
                .find(|r| r.id == id)
                .unwrap_or_else(|| panic!("no record {id}"));
            assert_eq!(span, r.pages, "pages of record {id} ({})", r.title);
            evidence_pages += span;
        } else if (b.depth == 0 && b.title.starts_with(['一', '二', '三', '四', '五', '加']))
            || (b.depth == 1 && b.title.starts_with("指标"))
        {
            // A group's divider page, or an item's criteria and catalog.
            section_pages += span;
        }
    }
    let independent: usize = records.iter().map(|r| r.pages).sum();
    assert_eq!(
        evidence_pages, independent,
        "evidence pages in the PDF vs counted from the files"
    );
    let first_group = marks
        .iter()
        .find(|b| b.title.starts_with("一、"))
        .unwrap()
        .page;
    let index = marks.iter().find(|b| b.title == "索引").unwrap().page;
    let front = first_group - 1;
    let back = total - index + 1;
    let all_blanks = blanks(1, total + 1);
    assert_eq!(
        total,
        front + section_pages + independent + back + blanks(first_group, index),
        "front {front}, sections {section_pages}, back {back}, blanks {all_blanks}"
    );
    assert!(front >= 4, "cover and its back, contents, summary");
}

#[test]
fn every_title_is_in_the_text_and_every_group_item_and_record_has_a_bookmark() {
    let pdf = Pdf::load(&sample().1);
    let text = compact(&pdf.all_text().concat());
    let marks = pdf.bookmarks();
    let catalog = dossier::catalog::Catalog::get();
    for item in &catalog.items {
        assert!(
            text.contains(&compact(&item.title)),
            "item {} title missing from the text",
            item.number
        );
        let want = format!("指标{} {}", item.number, item.title);
        let b = marks
            .iter()
            .find(|b| b.title == want)
            .unwrap_or_else(|| panic!("no bookmark {want}"));
        assert_eq!(b.depth, 1);
    }
    for g in &catalog.groups {
        let b = marks
            .iter()
            .find(|b| b.title == g.source_text)
            .unwrap_or_else(|| panic!("no bookmark {}", g.source_text));
        assert_eq!(b.depth, 0);
    }
    let records = sample_records();
    assert!(records.len() >= 60);
    for r in &records {
        let want = format!("{} {}", r.id, r.title);
        let b = marks
            .iter()
            .find(|b| b.title == want)
            .unwrap_or_else(|| panic!("no bookmark {want}"));
        assert_eq!(b.depth, 2);
        // The record's bookmark sits under its item's bookmark.
        let parent = marks
            .iter()
            .rev()
            .find(|p| p.depth == 1 && p.page <= b.page)
            .unwrap();
        assert!(
            parent.title.starts_with(&format!("指标{} ", r.item)),
            "{want} under {}",
            parent.title
        );
    }
}

#[test]
fn catalog_rows_link_to_the_first_page_of_each_record_and_printed_numbers_match() {
    let pdf = Pdf::load(&sample().1);
    let marks = pdf.bookmarks();
    let texts = pdf.all_text();
    let records = sample_records();
    // Each record's first page from its bookmark.
    let first: BTreeMap<String, usize> = marks
        .iter()
        .filter(|b| b.depth == 2)
        .map(|b| (b.title.split(' ').next().unwrap().to_string(), b.page))
        .collect();
    let labels = pdf.labels();
    for r in &records {
        let page = first[&r.id];
        // Printed on both sides, every record starts on a right-hand page.
        assert!(page % 2 == 1, "{} starts on page {page}", r.id);
        // The printed page number equals the PDF page label.
        let printed = labels[page - 1].expect("a record's page has a label");
        assert!(
            texts[page - 1].contains(&format!("— {printed} —")),
            "page {page} does not print its number {printed}"
        );
        // The item's catalog: the pages between the item bookmark and its first record.
        let item_page = marks
            .iter()
            .find(|b| b.depth == 1 && b.title.starts_with(&format!("指标{} ", r.item)))
            .unwrap()
            .page;
        let catalog_pages = item_page
            ..first
                .values()
                .copied()
                .filter(|&p| p > item_page)
                .min()
                .unwrap_or(pdf.page_count());
        let linked = catalog_pages.clone().any(|p| pdf.links(p).contains(&page));
        assert!(
            linked,
            "no catalog link to {} (page {page}) on pages {catalog_pages:?}",
            r.id
        );
        // The catalog prints the record's 页码 (first page, or first–last).
        let shown = catalog_pages
            .clone()
            .map(|p| compact(&texts[p - 1]))
            .collect::<String>();
        let range = if r.pages == 1 {
            format!("{printed}")
        } else {
            format!("{printed}–{}", printed + r.pages - 1)
        };
        assert!(
            shown.contains(&r.title_compact()) && shown.contains(&range),
            "catalog of item {} lacks {range} for {}",
            r.item,
            r.id
        );
    }
}

#[test]
fn sample_pdf_metadata_labels_and_language() {
    let pdf = Pdf::load(&sample().1);
    assert_eq!(
        pdf.info("Title").as_deref(),
        Some("民权县创建“河南省质量强县示范县”验收资料汇编")
    );
    assert_eq!(
        pdf.info("Author").as_deref(),
        Some("民权县创建河南省质量强县示范县工作领导小组办公室")
    );
    assert!(
        pdf.info("Keywords")
            .unwrap_or_default()
            .contains("质量强县")
    );
    assert!(pdf.info("Subject").unwrap_or_default().contains("验收资料"));
    assert_eq!(pdf.lang().as_deref(), Some("zh-CN"));
    // The cover and its back are outside the count (no label, no number); from the page after
    // them, Arabic labels from 1: what the reader types into the viewer's page box is what is
    // printed on the page.
    let labels = pdf.labels();
    assert_eq!(&labels[..3], &[None, None, Some(1)]);
    for (i, l) in labels.iter().enumerate().skip(2) {
        assert_eq!(*l, Some(i - 1), "label of page index {i}");
    }
    for (i, t) in pdf.all_text().iter().enumerate() {
        let page = i + 1;
        match labels[i] {
            None => assert!(!t.contains('—'), "cover page {page} prints a number"),
            // A blank verso prints only 本页无正文.
            Some(_) if pdf.is_blank_verso(page) => {}
            Some(n) => assert!(
                t.contains(&format!("— {n} —")),
                "page {page} (label {n}) does not print its number"
            ),
        }
    }
}

#[test]
fn every_evidence_stand_in_is_replaced_by_its_page() {
    // Typst lays out PDF evidence as stand-ins; the assembler puts the real pages in. None may
    // be left: a reader would see an empty box.
    let doc = lopdf::Document::load(&sample().1).unwrap();
    let mut forms = 0;
    for object in doc.objects.values() {
        let Ok(stream) = object.as_stream() else {
            continue;
        };
        if stream.dict.get(b"Subtype").and_then(|s| s.as_name()).ok() != Some(b"Form") {
            continue;
        }
        forms += 1;
        let body = stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone());
        assert!(
            !body.starts_with(b"% dossier-evidence"),
            "a stand-in is left in the PDF"
        );
    }
    assert!(forms > 50, "{forms} embedded pages");
}

#[test]
fn evidence_written_before_the_layout_is_all_drawn_in_one_revision() {
    // The evidence is written before Typst has laid out the frame, from the plan, and the
    // frame's objects come after it, renumbered. Every object must be reached from the
    // trailer — an evidence page written ahead that no page draws would be dead weight, a
    // sign that the plan and the templates disagree on what is drawn — and the file is one
    // revision (one cross-reference section), not an update appended to the frame.
    let bytes = std::fs::read(&sample().1).unwrap();
    assert_eq!(
        count(&bytes, b"startxref"),
        1,
        "one cross-reference section"
    );
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let mut reached = std::collections::HashSet::new();
    let mut todo = Vec::new();
    doc.trailer
        .iter()
        .for_each(|(_, o)| references(o, &mut todo));
    while let Some(r) = todo.pop() {
        if reached.insert(r) {
            references(doc.get_object(r).unwrap(), &mut todo);
        }
    }
    let dead: Vec<_> = doc
        .objects
        .keys()
        .filter(|k| !reached.contains(k))
        .collect();
    assert!(dead.is_empty(), "objects no page uses: {dead:?}");
    // The evidence comes first: the first object is an embedded page or image, not the frame's.
    let first = doc.objects.keys().min().unwrap();
    let first = doc.get_object(*first).unwrap().as_stream().unwrap();
    let kind = first
        .dict
        .get(b"Subtype")
        .and_then(|s| s.as_name())
        .unwrap();
    assert!(
        matches!(kind, b"Form" | b"Image"),
        "{}",
        String::from_utf8_lossy(kind)
    );
}

fn references(o: &lopdf::Object, out: &mut Vec<lopdf::ObjectId>) {
    match o {
        lopdf::Object::Reference(r) => out.push(*r),
        lopdf::Object::Array(a) => a.iter().for_each(|x| references(x, out)),
        lopdf::Object::Dictionary(d) => d.iter().for_each(|(_, x)| references(x, out)),
        lopdf::Object::Stream(s) => s.dict.iter().for_each(|(_, x)| references(x, out)),
        _ => {}
    }
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[test]
fn building_twice_gives_identical_bytes() {
    let (tmp, _) = dossier_with(None);
    for out in ["o1", "o2"] {
        let run = dossier(tmp.path(), &["build", "d", "--out", out]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let a = std::fs::read(tmp.path().join("o1/测试资料.pdf")).unwrap();
    let b = std::fs::read(tmp.path().join("o2/测试资料.pdf")).unwrap();
    assert_eq!(
        dossier::evidence::hex(&sha(&a)),
        dossier::evidence::hex(&sha(&b))
    );
    // And the sample too: the same bytes as the shared build.
    let again = tempfile::tempdir().unwrap();
    let run = dossier(repo(), &["build", "--out", again.path().to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0));
    let first = std::fs::read(&sample().1).unwrap();
    let second = std::fs::read(again.path().join("民权县质量强县示范县验收资料.pdf")).unwrap();
    assert!(first == second, "the sample PDF differs between two builds");
    // A build that takes its normalised images from the cache gives the same bytes as one that
    // made them.
    let cache = again.path().join(".cache/normalized");
    assert!(
        std::fs::read_dir(&cache).unwrap().count() > 0,
        "the sample has no normalised images in {}",
        cache.display()
    );
    let run = dossier(repo(), &["build", "--out", again.path().to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("没有变化"), "{stdout}");
    let third = std::fs::read(again.path().join("民权县质量强县示范县验收资料.pdf")).unwrap();
    assert!(
        first == third,
        "a build from the cache differs from a fresh one"
    );
}

fn sha(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

#[test]
fn special_characters_render_literally() {
    let (tmp, root) = dossier_with(None);
    overlay(&fixtures().join("build/special-chars"), &root);
    build_ok(tmp.path(), &[]);
    let pdf = Pdf::load(&tmp.path().join("o/特殊字符.pdf"));
    let text = compact(&pdf.all_text().concat());
    let read = |file: &str| -> Value {
        serde_saphyr::from_str(&std::fs::read_to_string(root.join(file)).unwrap()).unwrap()
    };
    let config = read("dossier.yaml");
    let item = read("items/06.yaml");
    let rec = &item["材料"][0];
    let mut fields: Vec<String> = ["标题", "申报单位", "编制单位", "版本"]
        .iter()
        .map(|k| config[k].as_str().unwrap().to_string())
        .collect();
    for k in ["题名", "文号", "责任者"] {
        fields.push(rec[k].as_str().unwrap().to_string());
    }
    fields.extend(rec["备注"].as_str().unwrap().lines().map(str::to_string));
    for f in &fields {
        assert!(text.contains(&compact(f)), "not rendered literally: {f:?}");
    }
    // The title is also the PDF title and the record's bookmark.
    assert_eq!(pdf.info("Title").as_deref(), config["标题"].as_str());
    let want = format!("06-01 {}", rec["题名"].as_str().unwrap());
    assert!(
        pdf.bookmarks().iter().any(|b| b.title == want),
        "bookmark {want:?}"
    );
}

#[test]
fn a_broken_image_names_the_record_and_keeps_the_previous_pdf() {
    // Caught while normalising (the default) or by Typst (without normalising): either way the
    // error names the record, its YAML line and its file.
    for extra in [&[][..], &["--no-normalize"][..]] {
        let (tmp, root) = dossier_with(None);
        build_ok(tmp.path(), extra);
        let pdf = tmp.path().join("o/测试资料.pdf");
        let before = std::fs::read(&pdf).unwrap();
        overlay(&fixtures().join("build/broken-image"), &root);
        let mut args = vec!["build", "d", "--out", "o"];
        args.extend_from_slice(extra);
        let run = dossier(tmp.path(), &args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{extra:?}: {stderr}");
        let e = the_error(&printed(&stderr, "d"), &stderr);
        assert!(
            e.message.contains("06-01") && e.message.contains("质量月活动签到表扫描件"),
            "{e:?}"
        );
        assert_eq!((e.file.as_str(), e.line), ("items/06.yaml", 3));
        assert!(e.hint.contains("evidence/06/损坏的扫描件.png"), "{e:?}");
        assert_eq!(
            std::fs::read(&pdf).unwrap(),
            before,
            "the previous PDF changed"
        );
        assert_outputs(
            &tmp.path().join("o"),
            &["测试资料.pdf", "测试资料.zip", "测试资料-构建报告.json"],
        );
    }
}

#[test]
fn a_dossier_with_errors_writes_nothing() {
    let (tmp, _) = dossier_with(Some("missing-file"));
    let run = dossier(tmp.path(), &["build", "d", "--out", "o"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(!tmp.path().join("o").exists());
}

#[test]
fn pdfa_with_images_only_and_a_clear_error_with_pdf_pages() {
    let (tmp, root) = dossier_with(None);
    std::fs::copy(
        fixtures().join("build/pdfa/dossier.yaml"),
        root.join("dossier.yaml"),
    )
    .unwrap();
    let e = build_error(tmp.path());
    assert!(
        e.message.contains("PDF/A") && e.message.contains("05-01"),
        "{e:?}"
    );
    assert_eq!((e.file.as_str(), e.line), ("dossier.yaml", 10));

    overlay(&fixtures().join("build/pdfa"), &root);
    build_ok(tmp.path(), &[]);
    let bytes = std::fs::read(tmp.path().join("o/测试资料.pdf")).unwrap();
    let xmp = String::from_utf8_lossy(&bytes);
    assert!(
        xmp.contains("<pdfaid:part>3</pdfaid:part>")
            && xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>")
    );
}

#[test]
fn draft_lists_the_criteria_without_evidence() {
    let (tmp, _) = dossier_with(None);
    build_ok(tmp.path(), &["--draft"]);
    let text = pdf_text(&tmp.path().join("o/测试资料.pdf"));
    assert!(text.contains("缺少材料的考核内容（草稿）"));
    assert!(
        text.contains(&compact("宣传成效明显，群众知晓度高。")),
        "item 5's third criterion is a gap"
    );
    build_ok(tmp.path(), &[]);
    let text = pdf_text(&tmp.path().join("o/测试资料.pdf"));
    assert!(!text.contains("缺少材料的考核内容"));
}

#[test]
fn a_dossier_can_override_a_template() {
    let (tmp, root) = dossier_with(None);
    overlay(&fixtures().join("build/template-override"), &root);
    build_ok(tmp.path(), &[]);
    let pdf = Pdf::load(&tmp.path().join("o/测试资料.pdf"));
    assert_eq!(pdf.page_count(), 1);
    assert!(compact(&pdf.text(1)).contains("自定义模板：测试县创建“河南省质量强县示范县”验收资料"));
}

#[test]
fn a_broken_template_override_is_named_with_its_line() {
    let (tmp, root) = dossier_with(None);
    overlay(&fixtures().join("build/template-broken"), &root);
    for cmd in ["check", "build"] {
        let run = dossier(tmp.path(), &[cmd, "d"]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{cmd}: {stderr}");
        let e = the_error(&printed(&stderr, "d"), &stderr);
        assert_eq!(
            (e.file.as_str(), e.line),
            ("templates/dossier.typ", 2),
            "{cmd}: {e:?}"
        );
        assert!(e.message.contains("模板 dossier.typ 出错"), "{e:?}");
    }
}

#[test]
fn an_unknown_font_family_is_an_error_in_dossier_yaml() {
    let (tmp, root) = dossier_with(None);
    overlay(&fixtures().join("build/unknown-font"), &root);
    let (code, diags, stderr) = check_in(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    let e = the_error(&diags, &stderr);
    assert_eq!((e.file.as_str(), e.line), ("dossier.yaml", 9));
    assert!(e.message.contains("正文字体“仿宋_GB2312”没有找到"), "{e:?}");
    assert!(
        e.hint.contains("Noto Serif CJK SC"),
        "the hint lists the fonts there are: {e:?}"
    );
}

/// Builds the dossier `d` under `dir` into `out` with its stages timed (`DOSSIER_TIMINGS`):
/// what it said, which includes how many times it was laid out.
fn build_timed(dir: &Path, out: &str) -> String {
    let run = command(dir, &["build", "d", "--out", out])
        .env("DOSSIER_TIMINGS", "1")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(0), "{log}");
    log
}

/// A rebuild lays the dossier out once with the places of the last build (the catalog's
/// 页码, the indexes, the links; `.cache/anchors.json`), and whichever way the layout settles
/// — no places, the right ones, wrong ones, those of a dossier that has since changed — the
/// PDF is the same bytes as a build without any.
#[test]
fn the_last_builds_places_change_the_time_never_the_pdf() {
    let (tmp, root) = dossier_with(None);
    let build = |out: &str| -> (String, Vec<u8>) {
        let log = build_timed(tmp.path(), out);
        (
            log,
            std::fs::read(tmp.path().join(out).join("测试资料.pdf")).unwrap(),
        )
    };
    let hints = tmp.path().join("o/.cache/anchors.json");

    // A first build: the places from a quick layout beforehand, which hold.
    let (log, cold) = build("o");
    assert!(
        log.contains("版面 1 遍（没有上次的页码，先试排一遍定出页码）"),
        "{log}"
    );
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&hints).unwrap()).unwrap();
    let places = &saved["documents"]["测试资料.pdf"];
    // Where the PDF says record 05-01 starts (its page label) is where the hint has it.
    let first = places["rec-05-01"]["page"].as_u64().unwrap() as usize;
    let labels = Pdf::load(&tmp.path().join("o/测试资料.pdf")).labels();
    let physical = places["rec-05-01"]["physical"].as_u64().unwrap() as usize;
    assert_eq!(labels[physical - 1], Some(first));

    let (log, warm) = build("o");
    assert!(log.contains("版面 1 遍（沿用上次的页码）"), "{log}");
    assert!(
        warm == cold,
        "a build with the last places differs from one without"
    );

    // Wrong places (every page one further on): laid out again, the same PDF, the right
    // places saved.
    let mut wrong = saved.clone();
    for (_, a) in wrong["documents"]["测试资料.pdf"].as_object_mut().unwrap() {
        for key in ["page", "physical"] {
            a[key] = (a[key].as_u64().unwrap() + 1).into();
        }
    }
    std::fs::write(&hints, serde_json::to_vec(&wrong).unwrap()).unwrap();
    let (log, again) = build("o");
    assert!(log.contains("版面 2 遍（上次的页码有变）"), "{log}");
    assert!(again == cold, "wrong places changed the PDF");
    let resaved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&hints).unwrap()).unwrap();
    assert_eq!(resaved, saved);
    // An unreadable cache is no cache.
    std::fs::write(&hints, "{ not json").unwrap();
    let (log, again) = build("o");
    assert!(log.contains("版面 1 遍（没有上次的页码，先试排"), "{log}");
    assert!(again == cold, "an unreadable cache changed the PDF");

    // An edit that moves every later page: the places of the last build are wrong now; the
    // PDF is what a build without them makes.
    replace_in(
        &root.join("items/05.yaml"),
        "    文件: evidence/05/方案.pdf\n  - 件号: 2",
        "    文件:\n      - 路径: evidence/05/方案.pdf\n        页码: 1\n  - 件号: 2",
    );
    let (log, edited) = build("o");
    assert!(log.contains("上次的页码有变"), "{log}");
    let (log, fresh) = build("o2");
    assert!(log.contains("没有上次的页码"), "{log}");
    assert!(edited != cold, "the edit changed nothing");
    assert!(
        edited == fresh,
        "a rebuild after an edit differs from a fresh build"
    );
}

/// A first build lays the document out quickly beforehand (nothing drawn on the pages, page
/// numbers as placeholders) to learn where every page and label will be, then once for real
/// with those places. A dossier with templates of its own (which may not know that quick
/// layout) gets Typst finding the places itself, as before: the same pages, text, page
/// labels, links and bookmarks. (Not the same bytes: a dossier's own templates have its PDF
/// written after the layout, see `assemble::write`.)
#[test]
fn a_first_build_finds_its_places_beforehand_and_prints_what_typst_finds() {
    let (tmp, root) = dossier_with(None);
    let build = |out: &str| -> (String, Pdf) {
        let log = build_timed(tmp.path(), out);
        (log, Pdf::load(&tmp.path().join(out).join("测试资料.pdf")))
    };
    let (log, probed) = build("o");
    assert!(
        log.contains("版面 1 遍（没有上次的页码，先试排一遍定出页码）"),
        "{log}"
    );
    // The same templates, exported and one of them given a comment: the dossier's own now.
    let run = dossier(&root, &["templates", "."]);
    assert_eq!(run.status.code(), Some(0), "{}", crate::common::log(&run));
    let own = root.join("templates/dossier.typ");
    let text = std::fs::read_to_string(&own).unwrap();
    std::fs::write(&own, format!("{text}\n// 本县的模板\n")).unwrap();
    let (log, found) = build("o2");
    assert!(log.contains("（没有上次的页码）"), "{log}");
    assert!(!log.contains("试排"), "{log}");
    assert_eq!(probed.page_count(), found.page_count());
    assert_eq!(probed.all_text(), found.all_text());
    assert_eq!(probed.labels(), found.labels());
    assert_eq!(probed.bookmarks(), found.bookmarks());
    let links =
        |pdf: &Pdf| -> Vec<Vec<usize>> { (1..=pdf.page_count()).map(|p| pdf.links(p)).collect() };
    let linked = links(&probed);
    assert!(linked.iter().flatten().count() > 20, "{linked:?}");
    assert_eq!(linked, links(&found));
}
