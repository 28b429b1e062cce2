//! Issue 15: the invisible text layer over scanned evidence (`build --ocr`), its cache, and
//! correction files (`dossier ocr`). The scan is `tests/fixtures/build/ocr/evidence/06/
//! 通知扫描件.jpg`, a generated page whose text is known (see `ocr::tests` in the library); the
//! record showing it has neither its 文号 nor its title, so only the text layer can put them
//! into the PDF's text.

use std::path::Path;

use crate::common::*;

/// What the scan says (its 文号, its title, a phrase of its second paragraph).
const NUMBER: &str = "县质强办〔2021〕3号";
const TITLE: &str = "关于开展质量提升行动的通知";
const PHRASE: &str = "2021年4月30日前";

/// The test dossier with the scan as record 06-01.
fn dossier_with_scan() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, root) = dossier_with(None);
    overlay(&fixtures().join("build").join("ocr"), &root);
    (tmp, root)
}

/// The pages (1-based) of the PDF whose text has all of `needles` (whitespace ignored).
fn pages_with(pdf: &pdf::Pdf, needles: &[&str]) -> Vec<usize> {
    (1..=pdf.page_count())
        .filter(|&p| {
            let text = pdf::compact(&pdf.text(p));
            needles.iter().all(|n| text.contains(&pdf::compact(n)))
        })
        .collect()
}

/// Runs `dossier build d --out o --ocr` in `dir`: asserts it succeeded without a warning about
/// the text layer; its summary and log.
fn build_ocr(dir: &Path) -> (serde_json::Value, String) {
    let (code, diags, summary, log) = json_run(dir, &["build", "d", "--out", "o", "--ocr"]);
    assert_eq!(code, 0, "{log}");
    let about_ocr: Vec<_> = (diags.iter())
        .filter(|d| d.code.starts_with("ocr-"))
        .collect();
    assert!(about_ocr.is_empty(), "{about_ocr:?}");
    (summary, log)
}

/// Page `page` (1-based) of a PDF rendered at 72 dpi on white (hayro), as RGBA bytes.
fn rendered(pdf: &[u8], page: usize) -> Vec<u8> {
    let doc = hayro::hayro_syntax::Pdf::new(std::sync::Arc::new(pdf.to_vec())).unwrap();
    let settings = hayro::RenderSettings {
        bg_color: hayro::vello_cpu::color::palette::css::WHITE,
        ..Default::default()
    };
    let cache = hayro::RenderCache::new();
    let pix = hayro::render(
        &doc.pages()[page - 1],
        &cache,
        &Default::default(),
        &settings,
    );
    pix.data_as_u8_slice().to_vec()
}

/// Names and modification times of the files of the OCR cache.
fn cache_entries(out: &Path) -> Vec<(String, std::time::SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(out.join(".cache/ocr"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, e.metadata().unwrap().modified().unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn build_ocr_makes_a_scan_searchable_on_its_page_and_reads_it_once() {
    let (tmp, root) = dossier_with_scan();
    let pdf_path = tmp.path().join("o/测试资料.pdf");
    // Without --ocr the scan is a picture: none of its text is in the PDF.
    build_ok(tmp.path(), &[]);
    let plain_bytes = std::fs::read(&pdf_path).unwrap();
    let plain = pdf::Pdf::load(&pdf_path);
    let record_page = pages_with(&plain, &["06-01", "质量月活动文件扫描件"]);
    assert!(!record_page.is_empty());
    for needle in [NUMBER, TITLE, PHRASE] {
        assert!(
            pages_with(&plain, &[needle]).is_empty(),
            "{needle} without OCR"
        );
    }

    let (summary, log) = build_ocr(tmp.path());
    // Six pages without a text layer: the base fixture's photo, its scan and the three pages
    // of its PDF drawn without fonts (printed twice, read once), and this scan; on five of
    // them nothing is written.
    let ocr = &summary["ocr"];
    assert_eq!(
        (ocr["pages"].as_u64(), ocr["read"].as_u64()),
        (Some(6), Some(6)),
        "{log}"
    );
    assert_eq!(ocr["empty"], 5, "{log}");
    let first = std::fs::read(&pdf_path).unwrap();
    let layered = pdf::Pdf::load(&pdf_path);
    assert_eq!(layered.page_count(), plain.page_count(), "the same pages");
    // The 文号, the title and the phrase are on the record's page, and only there.
    let found = pages_with(&layered, &[NUMBER, TITLE, PHRASE, "06-01"]);
    assert_eq!(found.len(), 1, "{found:?}");
    for needle in [NUMBER, TITLE, PHRASE] {
        assert_eq!(pages_with(&layered, &[needle]), found, "{needle}");
    }
    // Nobody sees the layer: the page renders as without it (hayro composites one row of
    // pixels a level apart; visible text would differ by far more).
    let (with, without) = (rendered(&first, found[0]), rendered(&plain_bytes, found[0]));
    assert_eq!(with.len(), without.len());
    let most = (with.iter().zip(&without))
        .map(|(a, b)| a.abs_diff(*b))
        .max();
    assert!(
        most <= Some(2),
        "the text layer changes how page {} looks: {most:?}",
        found[0]
    );

    // A rebuild reads nothing again and makes the same bytes.
    let cache = cache_entries(&tmp.path().join("o"));
    let (code, _, summary, text) = json_run(tmp.path(), &["build", "d", "--out", "o", "--ocr"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(summary["ocr"]["read"], 0, "{text}");
    assert_eq!(
        std::fs::read(&pdf_path).unwrap(),
        first,
        "byte-identical rebuild"
    );
    assert_eq!(
        cache_entries(&tmp.path().join("o")),
        cache,
        "nothing read or written"
    );

    // A binder uses the same results: the unit's binder is searchable, nothing is read.
    let run = dossier(
        tmp.path(),
        &["binder", "d", "--out", "o", "--unit", "市场监管局", "--ocr"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", crate::common::log(&run));
    let binder = pdf::Pdf::load(&tmp.path().join("o/binders/市场监管局.pdf"));
    assert_eq!(pages_with(&binder, &[NUMBER, TITLE, PHRASE]).len(), 1);
    assert_eq!(
        cache_entries(&tmp.path().join("o")),
        cache,
        "the binder read nothing"
    );

    // dossier.yaml can ask for it instead of the command line.
    let config = root.join("dossier.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n文字识别: 是\n")).unwrap();
    let (code, _, summary, log) = json_run(tmp.path(), &["build", "d", "--out", "o"]);
    assert_eq!(code, 0, "{log}");
    assert_eq!(summary["ocr"]["pages"], 6, "{log}");
}

#[test]
fn a_correction_file_replaces_what_was_read_until_the_scan_changes() {
    let (tmp, root) = dossier_with_scan();
    let pdf_path = tmp.path().join("o/测试资料.pdf");
    let scan = "d/evidence/06/通知扫描件.jpg";
    let correction = root.join("ocr/evidence/06/通知扫描件.jpg.yaml");
    // Made from what recognition reads (the build's cache is not needed: it reads the page).
    let run = dossier(tmp.path(), &["ocr", scan, "--out", "o"]);
    assert_eq!(run.status.code(), Some(0), "{}", crate::common::log(&run));
    let written = std::fs::read_to_string(&correction).unwrap();
    assert!(
        written.contains("县质强办") && written.contains("指纹: "),
        "{written}"
    );
    // Never overwritten without --replace.
    let again = dossier(tmp.path(), &["ocr", scan, "--out", "o"]);
    assert_eq!(again.status.code(), Some(1), "{}", log(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--replace"));
    assert_eq!(std::fs::read_to_string(&correction).unwrap(), written);

    // The person corrects the 文号 line (whatever was read there) and builds.
    let fixed: String = (written.lines())
        .map(|l| {
            if l.trim_start().starts_with("文字:") && l.contains("县质强办") {
                "        文字: \"县质强办〔2021〕99号\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&correction, fixed).unwrap();
    let (summary, log) = build_ocr(tmp.path());
    assert_eq!(summary["ocr"]["corrected"], 1, "{log}");
    let pdf = pdf::Pdf::load(&pdf_path);
    assert_eq!(pages_with(&pdf, &["县质强办〔2021〕99号", TITLE]).len(), 1);
    assert!(
        pages_with(&pdf, &[NUMBER]).is_empty(),
        "the misread text is gone"
    );
    // The correction is one of the dossier's sources: it goes into the package.
    let zip = zip::ZipArchive::new(std::fs::File::open(tmp.path().join("o/测试资料.zip")).unwrap())
        .unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("ocr/evidence/06/通知扫描件.jpg.yaml")),
        "{names:?}"
    );

    // The scan is replaced by another file: the correction no longer applies, a warning at
    // its 指纹 line says so, and the page gets what recognition reads of the new file.
    let other = root.join("evidence/05/照片.jpg");
    std::fs::copy(&other, root.join("evidence/06/通知扫描件.jpg")).unwrap();
    let (code, diags, summary, log) = json_run(tmp.path(), &["build", "d", "--out", "o", "--ocr"]);
    assert_eq!(code, 0, "{log}");
    assert_eq!(summary["ocr"]["corrected"], 0, "{log}");
    let warning = (diags.iter())
        .find(|d| d.code == "ocr-correction-unused")
        .expect("a warning about the correction");
    assert_eq!(
        (warning.file.as_str(), warning.line),
        ("ocr/evidence/06/通知扫描件.jpg.yaml", 5),
        "{warning:?}"
    );
    assert!(warning.message.contains("指纹不符"), "{warning:?}");
    assert!(warning.hint.contains("--replace"), "{warning:?}");
}
