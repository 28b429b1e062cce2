//! Regression tests for issue 10 ("nothing lost, nothing silent, no panic, any county"), one
//! per class of problem found by trying the tool as a new user, all through the binary:
//! outputs that could land outside `--out`, stale and leftover files, concurrent builds, every
//! colour model and orientation of image, decompression bombs and truncated files, the YAML
//! mistakes Chinese clerks make, implausible dates, empty lists, item files the loader used to
//! skip, and a full output disk.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::images::{self, JpegKind, PngColour};
use crate::common::pdf::{Pdf, compact};
use crate::common::*;

/// Replaces the first `from` in a file of the dossier by `to`.
fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Appends records to an item file.
fn append(root: &Path, file: &str, yaml: &str) {
    let path = root.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(yaml);
    std::fs::write(&path, text).unwrap();
}

/// What a run printed: its results (stdout) and its diagnostics and notices (stderr).
fn printed_by(out: &std::process::Output) -> String {
    log(out)
}

/// The errors printed by `check d` in `dir`, with the exit code.
fn check_errors(dir: &Path) -> (i32, Vec<Printed>, String) {
    let (code, diags, stderr) = check_in(dir);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors = diags.into_iter().filter(|d| d.severity == "错误").collect();
    (code, errors, stderr)
}

#[test]
fn issue10_output_names_that_would_leave_the_output_folder_are_errors() {
    for bad in [
        "../evidence/05/原件",
        "/tmp/dossier-escape",
        "C:\\\\Users\\\\x",
        "sub/name",
        "CON",
        "lpt1.备份",
        "..",
        ".hidden",
    ] {
        let (tmp, root) = dossier_with(None);
        edit(
            &root,
            "dossier.yaml",
            "输出文件名: 测试资料",
            &format!("输出文件名: \"{bad}\""),
        );
        // No 创建期: the name used to be checked only when it was present.
        edit(
            &root,
            "dossier.yaml",
            "创建期:\n  起: 2020-11-01\n  止: 2022-06-30\n",
            "",
        );
        let (code, errors, stderr) = check_errors(tmp.path());
        assert_eq!(code, 1, "{bad}: {stderr}");
        assert_eq!(errors.len(), 1, "{bad}: {stderr}");
        assert!(
            errors[0].message.starts_with("输出文件名"),
            "{bad}: {stderr}"
        );
        assert_eq!(
            (errors[0].file.as_str(), errors[0].line),
            ("dossier.yaml", 9),
            "{stderr}"
        );
        let run = dossier(tmp.path(), &["build", "d", "--out", "o"]);
        assert_eq!(run.status.code(), Some(1), "{bad}");
        let evidence: Vec<_> = walkdir::WalkDir::new(root.join("evidence"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            evidence.len(),
            4,
            "{bad}: nothing new in evidence: {evidence:?}"
        );
        assert!(!Path::new("/tmp/dossier-escape.pdf").exists());
    }
}

#[test]
fn issue10_an_output_folder_inside_the_dossiers_own_folders_is_refused() {
    let (tmp, root) = dossier_with(None);
    for out in ["d/evidence/out", "d/items", "d"] {
        let run = dossier(tmp.path(), &["build", "d", "--out", out]);
        let stderr = printed_by(&run);
        assert_eq!(run.status.code(), Some(2), "{out}: {stderr}");
        assert!(stderr.contains("输出目录"), "{stderr}");
    }
    assert!(
        !root.join("evidence/out").exists(),
        "nothing created in the evidence"
    );
    // Inside the dossier but outside its own folders is fine, and not packaged as evidence.
    let run = dossier(
        tmp.path(),
        &["build", "d", "--out", "d/out", "--include-unreferenced"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", printed_by(&run));
    let run = dossier(
        tmp.path(),
        &["build", "d", "--out", "d/out", "--include-unreferenced"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", printed_by(&run));
    let zip = zip_names(&root.join("out/测试资料.zip"));
    assert!(zip.iter().all(|n| !n.contains("out/")), "{zip:?}");
}

fn zip_names(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    let zip = zip::ZipArchive::new(file).unwrap();
    zip.file_names().map(|n| n.unwrap().into_owned()).collect()
}

#[test]
fn issue10_files_a_build_no_longer_writes_are_removed() {
    let (tmp, root) = dossier_with(None);
    // Records in three items, cut into volumes of at most 2 evidence pages.
    for item in ["06", "07"] {
        append(
            &root,
            &format!("items/{item}.yaml"),
            "  - 件号: 1\n    题名: 照片\n    责任单位: 市场监管局\n    考核内容: [1]\n    文件: evidence/05/照片.jpg\n",
        );
    }
    append(&root, "dossier.yaml", "分册:\n  每册页数上限: 3\n");
    build_ok(tmp.path(), &[]);
    let out = tmp.path().join("o");
    let volumes: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("册") || n.contains("总目录"))
        .collect();
    assert!(volumes.len() >= 3, "{volumes:?}");
    // A hand-edited volume is kept (and said so); the others go when the dossier shrinks.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(out.join("测试资料-总目录.pdf"), b"annotated by hand").unwrap();
    edit(&root, "dossier.yaml", "每册页数上限: 3", "每册页数上限: 0");
    let run = build_ok(tmp.path(), &[]);
    let stderr = printed_by(&run);
    assert!(stderr.contains("已删除这次不再生成的"), "{stderr}");
    assert!(stderr.contains("被改动过，所以没有删除"), "{stderr}");
    assert_outputs(
        &out,
        &[
            "测试资料.pdf",
            "测试资料.zip",
            "测试资料-构建报告.json",
            "测试资料-总目录.pdf",
        ],
    );
    // A renamed output: the old name's files go too.
    std::fs::remove_file(out.join("测试资料-总目录.pdf")).unwrap();
    edit(
        &root,
        "dossier.yaml",
        "输出文件名: 测试资料",
        "输出文件名: 新名称",
    );
    build_ok(tmp.path(), &[]);
    assert_outputs(&out, &["新名称.pdf", "新名称.zip", "新名称-构建报告.json"]);
}

#[test]
fn issue10_temporary_files_of_a_killed_build_are_removed_by_the_next() {
    let (tmp, _root) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    let out = tmp.path().join("o");
    // What `kill -9` during a build leaves: complete temporary files beside the outputs and in
    // the cache.
    std::fs::write(out.join(".dossier-a1b2c3.tmp"), vec![7u8; 4096]).unwrap();
    std::fs::write(out.join(".cache/normalized/.dossier-d4e5.tmp"), b"x").unwrap();
    let run = build_ok(tmp.path(), &[]);
    assert!(
        printed_by(&run).contains("2 个临时文件"),
        "{}",
        printed_by(&run)
    );
    assert!(!out.join(".dossier-a1b2c3.tmp").exists());
    assert!(!out.join(".cache/normalized/.dossier-d4e5.tmp").exists());
    assert_outputs(
        &out,
        &["测试资料.pdf", "测试资料.zip", "测试资料-构建报告.json"],
    );
}

#[test]
fn issue10_a_second_build_into_the_same_folder_waits_for_the_first() {
    let (tmp, _root) = dossier_with(None);
    let out = tmp.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    // This test plays the first build: it holds the output folder's lock.
    let lock = std::fs::File::create(out.join(".dossier.lock")).unwrap();
    lock.lock().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["build", "d", "--out", "o"])
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("等它写完") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no waiting message: {said}"
        );
        said.push_str(&line);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the second build waits"
    );
    assert!(
        !out.join("测试资料.pdf").exists(),
        "nothing written while waiting"
    );
    drop(lock);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(status.success(), "{said}{rest}");
    assert!(out.join("测试资料.pdf").is_file());
}

/// Every image variant of the test, with its record title.
fn image_variants() -> Vec<(String, String, Vec<u8>, u16, bool)> {
    // (title, file name, bytes, orientation, grey)
    let mut v = Vec::new();
    for o in 1..=8u16 {
        v.push((
            format!("方向{o}"),
            format!("方向{o}.jpg"),
            images::jpeg(JpegKind::Rgb, 240, 160, o),
            o,
            false,
        ));
    }
    for (name, kind, grey) in [
        ("灰度JPEG", JpegKind::Grey, true),
        ("CMYK带Adobe标记", JpegKind::CmykAdobe, false),
        ("CMYK无标记", JpegKind::CmykPlain, false),
        ("YCCK", JpegKind::Ycck, false),
    ] {
        v.push((
            name.into(),
            format!("{name}.jpg"),
            images::jpeg(kind, 240, 160, 1),
            1,
            grey,
        ));
    }
    for (name, colour, depth, interlaced, grey) in [
        ("灰度8位PNG", PngColour::Grey, 8, false, true),
        ("灰度16位PNG", PngColour::Grey, 16, false, true),
        ("彩色8位PNG", PngColour::Rgb, 8, false, false),
        ("彩色16位PNG", PngColour::Rgb, 16, false, false),
        ("透明8位PNG", PngColour::Rgba, 8, false, false),
        ("透明16位PNG", PngColour::Rgba, 16, false, false),
        ("灰度透明PNG", PngColour::GreyAlpha, 8, false, true),
        ("调色板8位PNG", PngColour::Palette, 8, false, false),
        ("调色板4位PNG", PngColour::Palette, 4, false, false),
        ("隔行扫描PNG", PngColour::Rgb, 8, true, false),
        ("隔行调色板PNG", PngColour::Palette, 4, true, false),
        ("隔行16位灰度PNG", PngColour::Grey, 16, true, true),
    ] {
        v.push((
            name.into(),
            format!("{name}.png"),
            images::png(colour, depth, interlaced, 240, 160),
            1,
            grey,
        ));
    }
    v
}

#[test]
fn issue10_every_colour_model_and_orientation_prints_as_a_viewer_shows_it() {
    let (tmp, root) = dossier_with(None);
    let dir = root.join("evidence/06");
    std::fs::create_dir_all(&dir).unwrap();
    let variants = image_variants();
    let mut yaml = String::new();
    for (i, (title, file, bytes, _, _)) in variants.iter().enumerate() {
        std::fs::write(dir.join(file), bytes).unwrap();
        yaml.push_str(&format!(
            "  - 件号: {}\n    题名: {title}\n    责任单位: 市场监管局\n    考核内容: [1]\n    文件: evidence/06/{file}\n",
            i + 1
        ));
    }
    append(&root, "items/06.yaml", &yaml);
    build_ok(tmp.path(), &[]);
    let pdf = Pdf::load(&tmp.path().join("o/测试资料.pdf"));
    let pages: std::collections::BTreeMap<String, usize> = pdf
        .bookmarks()
        .into_iter()
        .map(|b| (b.title, b.page))
        .collect();
    for (title, _, _, orientation, grey) in &variants {
        let page = pages
            .iter()
            .find(|(t, _)| t.contains(title.as_str()))
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("no bookmark for {title}"));
        // The image as a viewer shows it: as stored, turned by the matrix that draws it (a
        // JPEG passed through keeps its pixels and is turned by the page).
        let jpegs = pdf.page_jpegs_placed(page);
        assert_eq!(jpegs.len(), 1, "{title}: one image on its page");
        let mut img = image::load_from_memory(&jpegs[0].0).unwrap();
        let turn = pdf::shown_orientation(jpegs[0].1);
        img.apply_orientation(image::metadata::Orientation::from_exif(turn as u8).unwrap());
        let shown = img.to_rgb8();
        let want = images::expected(240, 160, *orientation, *grey);
        let (sw, sh) = shown.dimensions();
        let (ww, wh) = want.dimensions();
        let aspect = |w: u32, h: u32| f64::from(w) / f64::from(h);
        assert!(
            (aspect(sw, sh) - aspect(ww, wh)).abs() < 0.02,
            "{title}: {sw}×{sh} vs {ww}×{wh}"
        );
        let diff = images::quadrant_diff(&shown, &want);
        assert!(diff < 20.0, "{title}: colours differ by {diff:.1}");
        if title.contains("透明") {
            // The transparent strip prints as white paper, not black.
            let top = images::mean(&shown, 0.05, 0.0, 0.4, 0.08);
            assert!(
                top.iter().all(|&c| c > 235.0),
                "{title}: transparent part is {top:?}"
            );
        }
    }
}

#[test]
fn issue14_a_jpeg_that_passes_through_is_embedded_from_its_file_and_never_copied() {
    // A scan at print resolution goes into the PDF byte for byte, read from the evidence
    // folder by the page assembler: nothing of it is written to the normalisation cache.
    let (tmp, root) = dossier_with(None);
    let dir = root.join("evidence/06");
    std::fs::create_dir_all(&dir).unwrap();
    let scan = images::jpeg(JpegKind::Rgb, 240, 160, 6);
    std::fs::write(dir.join("扫描件.jpg"), &scan).unwrap();
    append(
        &root,
        "items/06.yaml",
        "  - 件号: 1\n    题名: 直接嵌入的扫描件\n    责任单位: 市场监管局\n    考核内容: [1]\n    文件: evidence/06/扫描件.jpg\n",
    );
    build_ok(tmp.path(), &[]);
    let pdf = Pdf::load(&tmp.path().join("o/测试资料.pdf"));
    let page = (pdf.bookmarks().into_iter())
        .find(|b| b.title.contains("直接嵌入的扫描件"))
        .expect("bookmark of the record")
        .page;
    let jpegs = pdf.page_jpegs_placed(page);
    assert_eq!(jpegs.len(), 1);
    assert!(jpegs[0].0 == scan, "the JPEG is embedded unchanged");
    assert_eq!(
        pdf::shown_orientation(jpegs[0].1),
        6,
        "EXIF 6 turns it by the matrix"
    );
    let cache = dossier::normalize::cache_dir(&tmp.path().join("o"));
    for e in walkdir::WalkDir::new(&cache)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() {
            let bytes = std::fs::read(e.path()).unwrap();
            assert!(
                !bytes
                    .windows(scan.len().min(64))
                    .any(|w| w == &scan[..w.len()]),
                "{} holds a copy of the scan",
                e.path().display()
            );
        }
    }
}

/// A PDF of `pages` empty A4 pages.
fn blank_pdf(pages: usize) -> Vec<u8> {
    let mut pdf = pdf_writer::Pdf::new();
    let (catalog, tree) = (pdf_writer::Ref::new(1), pdf_writer::Ref::new(2));
    let ids: Vec<pdf_writer::Ref> = (0..pages)
        .map(|i| pdf_writer::Ref::new(3 + i as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().copied())
        .count(pages as i32);
    for id in &ids {
        pdf.page(*id)
            .parent(tree)
            .media_box(pdf_writer::Rect::new(0.0, 0.0, 595.0, 842.0));
    }
    pdf.finish()
}

/// The first and last page of record `id` in the build report beside the PDF.
fn record_pages(out: &std::path::Path, id: &str) -> (u64, u64) {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("测试资料-构建报告.json")).unwrap())
            .unwrap();
    let r = &report["records"][id];
    (
        r["first_page"].as_u64().unwrap(),
        r["last_page"].as_u64().unwrap(),
    )
}

#[test]
fn issue14_inspections_are_kept_between_runs_and_a_changed_file_is_inspected_again() {
    let (tmp, root) = dossier_with(None);
    let out = tmp.path().join("o");
    std::fs::write(root.join("evidence/05/方案.pdf"), blank_pdf(3)).unwrap();
    build_ok(tmp.path(), &[]);
    let saved = std::fs::read_to_string(out.join(".cache/inspections.json")).unwrap();
    assert!(saved.contains("方案.pdf"), "{saved}");
    let (a, b) = record_pages(&out, "05-01");
    assert_eq!(b - a + 1, 3);
    // Another page count: a new size, so the saved inspection is not used.
    std::fs::write(root.join("evidence/05/方案.pdf"), blank_pdf(5)).unwrap();
    build_ok(tmp.path(), &[]);
    let (a, b) = record_pages(&out, "05-01");
    assert_eq!(b - a + 1, 5, "the changed file was inspected again");
    // A damaged saved file is ignored, and written anew.
    std::fs::write(out.join(".cache/inspections.json"), b"{not json").unwrap();
    build_ok(tmp.path(), &[]);
    let (a, b) = record_pages(&out, "05-01");
    assert_eq!(b - a + 1, 5);
    assert!(
        std::fs::read_to_string(out.join(".cache/inspections.json"))
            .unwrap()
            .contains("方案.pdf")
    );
}

#[test]
fn issue14_check_takes_the_inspections_a_build_saved_and_writes_nothing() {
    let (tmp, root) = dossier_with(None);
    let out = tmp.path().join("o");
    std::fs::write(root.join("evidence/05/方案.pdf"), blank_pdf(3)).unwrap();
    build_ok(tmp.path(), &[]);
    let pages = |dir: &str| {
        let (code, _, summary, log) = json_run(tmp.path(), &["check", "d", "--out", dir]);
        assert_eq!(code, 0, "{log}");
        summary["pages"].as_u64().unwrap()
    };
    let fresh = pages("no-such-folder");
    assert_eq!(
        pages("o"),
        fresh,
        "the saved inspections agree with reading the files"
    );
    // The saved inspection of the unchanged file is what check goes by: made to say 4 pages
    // instead of 3 (its size and times kept), check counts one page more without reading it.
    let cache = out.join(".cache/inspections.json");
    let mut saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    let entry = (saved["files"].as_array_mut().unwrap().iter_mut())
        .find(|f| f[0].as_str().unwrap().ends_with("方案.pdf"))
        .expect("the PDF's inspection is saved");
    assert_eq!(entry[2]["pages"], 3);
    entry[2]["pages"] = 4.into();
    let edited = serde_json::to_vec(&saved).unwrap();
    std::fs::write(&cache, &edited).unwrap();
    // Every file and folder of the output with its size and modification time.
    let listing = || -> Vec<_> {
        (walkdir::WalkDir::new(&out).sort_by_file_name().into_iter())
            .map(|e| {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                (e.path().to_path_buf(), m.len(), m.modified().unwrap())
            })
            .collect()
    };
    let before = listing();
    assert_eq!(pages("o"), fresh + 1);
    // Nothing written: the saved file as it was, no file added, none rewritten.
    assert_eq!(std::fs::read(&cache).unwrap(), edited);
    assert_eq!(listing(), before);
    // A changed file (a new size) is read again: 5 pages, whatever was saved.
    std::fs::write(root.join("evidence/05/方案.pdf"), blank_pdf(5)).unwrap();
    assert_eq!(pages("o"), fresh + 2);
}

#[test]
fn issue10_a_decompression_bomb_is_an_error_in_check_not_a_crash() {
    let (tmp, root) = dossier_with(None);
    // 1 × 1 pixels written, 100000 × 100000 declared in the header.
    let mut png = images::png(PngColour::Grey, 8, false, 1, 1);
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(root.join("evidence/05/扫描件.png"), &png).unwrap();
    let (code, errors, stderr) = check_errors(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].message.contains("100000×100000"), "{stderr}");
    assert!(errors[0].message.contains("百万像素"), "{stderr}");
    assert_eq!(
        (errors[0].file.as_str(), errors[0].line),
        ("items/05.yaml", 20),
        "{stderr}"
    );
    let run = dossier(tmp.path(), &["build", "d", "--out", "o"]);
    assert_eq!(run.status.code(), Some(1), "{}", printed_by(&run));
    assert!(!printed_by(&run).contains("panicked"));
}

#[test]
fn issue10_truncated_and_damaged_images_are_errors_in_check() {
    let photo = images::jpeg(JpegKind::Rgb, 240, 160, 1);
    let scan = images::png(PngColour::Grey, 8, false, 60, 40);
    let mut flipped = scan.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    for (file, bytes, word) in [
        ("照片.jpg", photo[..photo.len() * 2 / 3].to_vec(), "不完整"),
        ("扫描件.png", scan[..scan.len() - 20].to_vec(), "不完整"),
        ("扫描件.png", flipped, "损坏"),
    ] {
        let (tmp, root) = dossier_with(None);
        std::fs::write(root.join("evidence/05").join(file), &bytes).unwrap();
        let (code, errors, stderr) = check_errors(tmp.path());
        assert_eq!(code, 1, "{file}: {stderr}");
        assert_eq!(errors.len(), 1, "{file}: {stderr}");
        assert!(errors[0].message.contains(word), "{file}: {stderr}");
        assert!(errors[0].message.contains(file), "{file}: {stderr}");
        assert_eq!(errors[0].file, "items/05.yaml", "{stderr}");
    }
}

#[test]
fn a_jpeg_damaged_between_intact_ends_stops_the_build_and_keeps_the_last_dossier() {
    // `check` reads a JPEG's segments and its last two bytes; the assembler walks every byte
    // it embeds. A broken marker in the middle of the image data, both ends intact: the walk
    // calls it damaged, so the build must stop at the file and leave the last PDF as it was.
    let (tmp, root) = dossier_with(None);
    let photo = images::jpeg(JpegKind::Rgb, 240, 160, 1);
    let file = root.join("evidence/05/照片.jpg");
    std::fs::write(&file, &photo).unwrap();
    let run = dossier(tmp.path(), &["build", "d", "--out", "o"]);
    assert!(run.status.success(), "{}", printed_by(&run));
    let pdf = tmp.path().join("o/测试资料.pdf");
    let before = std::fs::read(&pdf).unwrap();
    let mut damaged = photo.clone();
    let mid = damaged.len() / 2;
    damaged[mid..mid + 2].copy_from_slice(&[0xFF, 0x01]);
    assert!(dossier::raster::examine(dossier::raster::Format::Jpeg, &damaged).is_err());
    assert_eq!(damaged[..2], [0xFF, 0xD8]);
    assert_eq!(damaged[damaged.len() - 2..], [0xFF, 0xD9]);
    std::fs::write(&file, &damaged).unwrap();
    let run = dossier(tmp.path(), &["build", "d", "--out", "o"]);
    let printed = printed_by(&run);
    assert_eq!(run.status.code(), Some(1), "{printed}");
    // At the record, as `check` reports a file it finds damaged.
    assert!(printed.contains("evidence/05/照片.jpg"), "{printed}");
    assert!(printed.contains("items/05.yaml"), "{printed}");
    assert!(printed.contains("损坏"), "{printed}");
    assert!(!printed.contains("panicked"), "{printed}");
    assert_eq!(
        std::fs::read(&pdf).unwrap(),
        before,
        "the last dossier was replaced"
    );
    // A unit's binder embeds it the same way.
    let run = dossier(
        tmp.path(),
        &["binder", "d", "--out", "o", "--unit", "绿洲街道办"],
    );
    let printed = printed_by(&run);
    assert_eq!(run.status.code(), Some(1), "{printed}");
    assert!(printed.contains("evidence/05/照片.jpg"), "{printed}");
    assert!(printed.contains("items/05.yaml"), "{printed}");
}

/// One YAML mistake, the message it must get and the line and column it must point at.
struct Mistake {
    from: &'static str,
    to: &'static str,
    message: &'static str,
    hint: &'static str,
    at: (usize, usize),
}

/// The line of the base fixture's items/05.yaml that most mistakes are made on.
const TITLE: &str = "    题名: 质量精神宣传方案";

/// Each mistake: the line as typed, and the error it must get.
const MISTAKES: &[Mistake] = &[
    Mistake {
        from: TITLE,
        to: "	题名: 质量精神宣传方案",
        message: "Tab",
        hint: "Tab 换成空格",
        at: (5, 1),
    },
    Mistake {
        from: TITLE,
        to: "    题名：质量精神宣传方案",
        message: "中文冒号",
        hint: "英文冒号加空格",
        at: (5, 7),
    },
    Mistake {
        from: TITLE,
        to: "    题名:质量精神宣传方案",
        message: "缺一个空格",
        hint: "题名: 质量精神宣传方案",
        at: (5, 7),
    },
    Mistake {
        from: TITLE,
        to: "　　题名: 质量精神宣传方案",
        message: "全角空格",
        hint: "英文空格",
        at: (5, 1),
    },
    Mistake {
        from: TITLE,
        to: "    题名: #1号质量精神宣传方案",
        message: "注释",
        hint: "题名: \"#1号质量精神宣传方案\"",
        at: (5, 9),
    },
    Mistake {
        from: TITLE,
        to: "    题名: [重要]宣传方案",
        message: "列表",
        hint: "题名: \"[重要]宣传方案\"",
        at: (5, 9),
    },
    Mistake {
        from: TITLE,
        to: "    题名: {重要}宣传方案",
        message: "映射",
        hint: "英文双引号",
        at: (5, 9),
    },
    Mistake {
        from: TITLE,
        to: "    题名: *重要宣传方案",
        message: "别名",
        hint: "英文双引号",
        at: (5, 9),
    },
    Mistake {
        from: TITLE,
        to: "    题名: &重要 宣传方案",
        message: "锚点",
        hint: "英文双引号",
        at: (5, 9),
    },
    Mistake {
        from: TITLE,
        to: "    题名: !重要宣传方案",
        message: "类型标记",
        hint: "英文双引号",
        at: (5, 9),
    },
    Mistake {
        from: TITLE,
        to: "    题名: |重要宣传方案",
        message: "多行文字",
        hint: "英文双引号",
        at: (5, 9),
    },
    Mistake {
        from: TITLE,
        to: "    题名: >重要宣传方案",
        message: "多行文字",
        hint: "英文双引号",
        at: (5, 9),
    },
];

#[test]
fn issue10_the_yaml_mistakes_clerks_make_get_targeted_hints() {
    for m in MISTAKES {
        let (tmp, root) = dossier_with(None);
        edit(&root, "items/05.yaml", m.from, m.to);
        let (code, errors, stderr) = check_errors(tmp.path());
        assert_eq!(code, 1, "{}: {stderr}", m.to);
        let e = errors
            .iter()
            .find(|e| e.message.contains(m.message))
            .unwrap_or_else(|| panic!("{}: no error about {}: {stderr}", m.to, m.message));
        assert_eq!(
            (e.file.as_str(), e.line, e.col),
            ("items/05.yaml", m.at.0, m.at.1),
            "{}: {stderr}",
            m.to
        );
        assert!(e.hint.contains(m.hint), "{}: hint {:?}", m.to, e.hint);
        // The full-width colon's hint must not recommend the full-width colon.
        assert!(!e.hint.contains("换成中文冒号"), "{}: {}", m.to, e.hint);
    }
}

#[test]
fn issue10_implausible_dates_and_empty_lists_are_errors() {
    for (from, to, message, line) in [
        (
            "    日期: 2021-04-12",
            "    日期: 2021-+4-+5",
            "不是日期",
            8,
        ),
        (
            "    日期: 2021-04-12",
            "    日期: 0000-01-01",
            "年份 0 不合理",
            8,
        ),
        (
            "    日期: 2021-04-12",
            "    日期: 2210-04-12",
            "年份 2210 不合理",
            8,
        ),
        (
            "    责任单位: 县创建办公室",
            "    责任单位: []",
            "责任单位是空的",
            9,
        ),
        (
            "    考核内容: [1]",
            "    考核内容: []",
            "考核内容是空的",
            10,
        ),
        (
            "    工作任务: [1]",
            "    工作任务: []",
            "工作任务是空的",
            11,
        ),
    ] {
        let (tmp, root) = dossier_with(None);
        edit(&root, "items/05.yaml", from, to);
        let (code, errors, stderr) = check_errors(tmp.path());
        assert_eq!(code, 1, "{to}: {stderr}");
        assert_eq!(errors.len(), 1, "{to}: {stderr}");
        assert!(errors[0].message.contains(message), "{to}: {stderr}");
        assert_eq!(
            (errors[0].file.as_str(), errors[0].line),
            ("items/05.yaml", line),
            "{to}: {stderr}"
        );
    }
    // The dossier's own date too.
    let (tmp, root) = dossier_with(None);
    edit(
        &root,
        "dossier.yaml",
        "日期: 2022-05-20",
        "日期: 0000-01-01",
    );
    let (code, errors, stderr) = check_errors(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        (errors[0].file.as_str(), errors[0].line),
        ("dossier.yaml", 8),
        "{stderr}"
    );
}

#[test]
fn issue10_item_files_are_found_whatever_the_case_and_nothing_in_items_is_skipped() {
    // 05.YAML is item 5's file: its three records are built.
    let (tmp, root) = dossier_with(None);
    std::fs::rename(root.join("items/05.yaml"), root.join("items/05.YAML")).unwrap();
    let (code, _, summary, stderr) = json_run(tmp.path(), &["check", "d"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["records"], 3, "{stderr}");
    // Anything else in items/ is an error, not a warning that leaves the item empty.
    let (tmp, root) = dossier_with(None);
    std::fs::rename(root.join("items/05.yaml"), root.join("items/05.yaml.bak")).unwrap();
    let (code, errors, stderr) = check_errors(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(
        errors.iter().any(|e| e.file == "items/05.yaml.bak"),
        "{stderr}"
    );
    // A file name that is not UTF-8 (copied from a GBK system) is an error, not skipped.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let (tmp, root) = dossier_with(None);
        let gbk = std::ffi::OsStr::from_bytes(b"\xd6\xb8\xb1\xea05.yaml");
        std::fs::rename(root.join("items/05.yaml"), root.join("items").join(gbk)).unwrap();
        let (code, errors, stderr) = check_errors(tmp.path());
        assert_eq!(code, 1, "{stderr}");
        assert!(
            errors.iter().any(|e| e.message.contains("不是 UTF-8")),
            "{stderr}"
        );
    }
    // A file that does not parse gets its parse error and no "there is no file for item 5".
    let (tmp, root) = dossier_with(None);
    edit(&root, "items/05.yaml", "材料:", "材料: [");
    let (code, _, stderr) = check_errors(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("没有指标5的文件"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn issue10_a_full_output_disk_is_an_io_error_naming_the_output() {
    use std::os::unix::process::CommandExt;
    for limit in [600u64, 60_000] {
        // 600 bytes: the first normalised image cannot be cached; 60 kB: the PDF cannot be written.
        let (tmp, _root) = dossier_with(None);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dossier"));
        cmd.args(["build", "d", "--out", "o"])
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .env("SOURCE_DATE_EPOCH", "1653004800");
        // SAFETY: only async-signal-safe calls between fork and exec. (The one unsafe block of
        // the project: a file-size limit for the child is the only way to fill a "disk".)
        #[allow(unsafe_code)]
        unsafe {
            cmd.pre_exec(move || {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let lim = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let run = cmd.output().unwrap();
        let stderr = printed_by(&run);
        assert_eq!(run.status.code(), Some(2), "limit {limit}: {stderr}");
        assert!(stderr.contains("磁盘空间不足"), "limit {limit}: {stderr}");
        assert!(stderr.contains("o/"), "names the output: {stderr}");
        assert!(
            !stderr.contains("损坏") && !stderr.contains("重新扫描"),
            "limit {limit}: blames the evidence: {stderr}"
        );
        let left: Vec<_> = walkdir::WalkDir::new(tmp.path().join("o"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }
}

#[test]
fn issue10_characters_no_font_has_are_errors_and_rare_han_characters_print() {
    // Rare characters of names print from the fallback faces.
    let (tmp, root) = dossier_with(None);
    edit(
        &root,
        "items/05.yaml",
        "    题名: 质量精神宣传方案",
        "    题名: 张㛃䶮𠀀𬌗𫖮鿍宣传方案",
    );
    build_ok(tmp.path(), &[]);
    let pdf = Pdf::load(&tmp.path().join("o/测试资料.pdf"));
    let text = compact(&pdf.all_text().concat());
    assert!(
        text.contains("张㛃䶮𠀀𬌗𫖮鿍宣传方案"),
        "the text layer has them"
    );
    let fonts = pdf.font_names();
    for face in ["DossierHanA", "DossierHanB"] {
        assert!(
            fonts.iter().any(|f| f.contains(face)),
            "{face} embedded: {fonts:?}"
        );
    }
    // An emoji and a private-use character: errors naming the place, the code point and the fix.
    let (tmp, root) = dossier_with(None);
    edit(
        &root,
        "items/05.yaml",
        "    题名: 质量精神宣传方案",
        "    题名: 质量精神宣传方案😀",
    );
    edit(
        &root,
        "items/05.yaml",
        "    责任者: 民权县创建办公室",
        "    责任者: 测试县\u{E000}办公室",
    );
    let (code, errors, stderr) = check_errors(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(errors.len(), 2, "{stderr}");
    let emoji = errors
        .iter()
        .find(|e| e.message.contains("U+1F600"))
        .expect("emoji");
    assert_eq!(
        (emoji.file.as_str(), emoji.line, emoji.col),
        ("items/05.yaml", 5, 17),
        "{stderr}"
    );
    assert!(emoji.message.contains("表情符号"), "{stderr}");
    let pua = errors
        .iter()
        .find(|e| e.message.contains("U+E000"))
        .expect("private use");
    assert_eq!(
        (pua.file.as_str(), pua.line, pua.col),
        ("items/05.yaml", 7, 13),
        "{stderr}"
    );
    assert!(pua.hint.contains("字体: 文件:"), "{stderr}");
    // The build refuses too, and writes nothing.
    let run = dossier(tmp.path(), &["build", "d", "--out", "o"]);
    assert_eq!(run.status.code(), Some(1), "{}", printed_by(&run));
    assert!(!tmp.path().join("o/测试资料.pdf").exists());
}

#[test]
fn issue10_command_line_errors_are_chinese() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, want) in [
        (
            &["build", "--outt", "x"][..],
            "没有“--outt”这个选项；是不是想写“--out”？",
        ),
        (
            &["bild"][..],
            "没有“bild”这个命令；是不是想写“binder”或“build”？",
        ),
        (&["build", "--out"][..], "“--out <目录>”后面要跟一个值"),
        (&["binder"][..], "用 --unit 单位名称"),
        (&["diff", "a.zip"][..], "缺少参数"),
    ] {
        let run = dossier(tmp.path(), args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", printed_by(&run));
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("错误："), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(stderr.contains("用法："), "{args:?}: {stderr}");
        for english in ["error:", "Usage", "tip:", "For more information"] {
            assert!(!stderr.contains(english), "{args:?}: {english} in {stderr}");
        }
    }
    let run = dossier(tmp.path(), &["diff", "--help"]);
    let help = String::from_utf8_lossy(&run.stdout);
    assert!(
        help.find("<旧资料包>").unwrap() < help.find("<新资料包>").unwrap(),
        "{help}"
    );
    assert!(
        !help.contains("[OPTIONS]") && !help.contains("Arguments"),
        "{help}"
    );
}

#[test]
fn issue10_formula_like_cells_in_the_manifest_csv_are_neutralised() {
    let (tmp, root) = dossier_with(None);
    edit(
        &root,
        "items/05.yaml",
        "    题名: 质量精神宣传方案",
        "    题名: \"=HYPERLINK(\\\"http://x\\\",\\\"点此\\\")\"",
    );
    edit(
        &root,
        "items/05.yaml",
        "    题名: 宣传牌照片及扫描件",
        "    题名: \"+1 -2 @宣传牌\"",
    );
    build_ok(tmp.path(), &[]);
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(tmp.path().join("o/测试资料.zip")).unwrap())
            .unwrap();
    let mut csv = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("清单.csv").unwrap(), &mut csv).unwrap();
    let mut reader =
        csv::ReaderBuilder::new().from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let titles: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(7).unwrap_or("").to_string())
        .filter(|t| !t.is_empty())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t == "'=HYPERLINK(\"http://x\",\"点此\")"),
        "{titles:?}"
    );
    assert!(titles.iter().any(|t| t == "'+1 -2 @宣传牌"), "{titles:?}");
    assert!(
        titles.iter().all(|t| !t.starts_with(['=', '+', '-', '@'])),
        "{titles:?}"
    );
    // The JSON manifest keeps the title as written.
    let mut json = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("清单.json").unwrap(), &mut json).unwrap();
    assert!(json.contains("\"title\": \"=HYPERLINK("), "{json}");
}

#[test]
fn issue10_a_damaged_package_is_damage_not_a_stranger() {
    let (tmp, _root) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    let zip = tmp.path().join("o/测试资料.zip");
    let bytes = std::fs::read(&zip).unwrap();
    // A flipped byte inside 清单.json (stored deflated: the CRC or the inflate fails).
    let at = (0..bytes.len() - 12)
        .rev()
        .find(|&i| {
            bytes[i..i + 4] == [0x50, 0x4b, 0x03, 0x04]
                && bytes[i + 30..].starts_with("清单.json".as_bytes())
        })
        .expect("the manifest's local header");
    let name_len = u16::from_le_bytes([bytes[at + 26], bytes[at + 27]]) as usize;
    let mut flipped = bytes.clone();
    flipped[at + 30 + name_len + 40] ^= 0x21;
    let damaged = tmp.path().join("manifest-flipped.zip");
    std::fs::write(&damaged, &flipped).unwrap();
    let run = dossier(tmp.path(), &["verify", damaged.to_str().unwrap()]);
    let stderr = printed_by(&run);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("资料包已损坏") && stderr.contains("清单.json"),
        "{stderr}"
    );
    assert!(!stderr.contains("不是 dossier 生成的资料包"), "{stderr}");
    // A cut-off end (the zip directory is lost): damage too.
    let cut = tmp.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() - 200]).unwrap();
    let run = dossier(tmp.path(), &["verify", cut.to_str().unwrap()]);
    let stderr = printed_by(&run);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("资料包已损坏") && stderr.contains("目录区"),
        "{stderr}"
    );
    // Something that is not a zip at all is a usage error.
    let pdf = tmp.path().join("o/测试资料.pdf");
    let run = dossier(tmp.path(), &["verify", pdf.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2), "{}", printed_by(&run));
    assert!(printed_by(&run).contains("不是 zip 文件"));
}

#[test]
fn issue10_diff_warns_when_the_packages_are_different_dossiers() {
    let (tmp, root) = dossier_with(None);
    build_ok(tmp.path(), &[]);
    std::fs::rename(tmp.path().join("o/测试资料.zip"), tmp.path().join("a.zip")).unwrap();
    edit(&root, "dossier.yaml", "县: 测试县", "县: 另一县");
    build_ok(tmp.path(), &[]);
    let run = dossier(tmp.path(), &["diff", "a.zip", "o/测试资料.zip"]);
    let stderr = printed_by(&run);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("不是同一份汇编") && stderr.contains("另一县"),
        "{stderr}"
    );
    let run = dossier(tmp.path(), &["diff", "a.zip", "a.zip"]);
    assert!(!printed_by(&run).contains("不是同一份汇编"));
}

/// All text of a PDF, without whitespace.
fn all_text(path: &Path) -> String {
    compact(&Pdf::load(path).all_text().concat())
}

#[test]
fn issue10_a_second_county_gets_nothing_of_minquan_in_its_dossier_and_binders() {
    let tmp = tempfile::tempdir().unwrap();
    let run = dossier(tmp.path(), &["init", "d", "--县", "宁陵县"]);
    assert!(run.status.success(), "{}", printed_by(&run));
    let root = tmp.path().join("d");
    assert!(root.join("任务分解表.yaml").is_file());
    // The sample's name, towns and officials, from the embedded seed itself.
    let seed_units =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/units.yaml"))
            .unwrap();
    let officials: Vec<String> = seed_units
        .lines()
        .filter_map(|l| l.trim().strip_prefix("负责人: "))
        .map(|n| n.replace(' ', ""))
        .collect();
    assert!(officials.len() > 20);
    let mut sample = vec!["民权".to_string(), "绿洲".to_string(), "南华".to_string()];
    sample.extend(officials);
    // The county's own town, evidence and records in two items.
    edit(
        &root,
        "units.yaml",
        "单位组:\n",
        "  - 名称: 宁陵县城关镇人民政府\n    简称: 城关镇\n\n单位组:\n",
    );
    edit(&root, "units.yaml", "    成员: []", "    成员: [城关镇]");
    std::fs::create_dir_all(root.join("evidence/05")).unwrap();
    for f in ["方案.pdf", "照片.jpg"] {
        std::fs::copy(
            fixtures().join("base/evidence/05").join(f),
            root.join("evidence/05").join(f),
        )
        .unwrap();
    }
    append(
        &root,
        "items/05.yaml",
        "  - 件号: 1\n    题名: 质量精神宣传方案\n    责任单位: 县创建办公室\n    考核内容: [1]\n    文件: evidence/05/方案.pdf\n  - 件号: 2\n    题名: 街头宣传照片\n    责任单位: 城关镇\n    考核内容: [2]\n    文件: evidence/05/照片.jpg\n",
    );
    append(
        &root,
        "items/07.yaml",
        "  - 件号: 1\n    题名: 检验检测中心照片\n    责任单位: 市场监管局\n    考核内容: [1]\n    文件: evidence/05/照片.jpg\n",
    );
    let (code, _, stderr) = check_in(tmp.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("示例（"), "no sample leftovers: {stderr}");
    build_ok(tmp.path(), &[]);
    let run = dossier(tmp.path(), &["binder", "d", "--all", "--out", "o"]);
    assert_eq!(run.status.code(), Some(0), "{}", printed_by(&run));
    let mut pdfs = vec![tmp.path().join("o/宁陵县质量强县示范县验收资料.pdf")];
    pdfs.extend(
        std::fs::read_dir(tmp.path().join("o/binders"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    assert!(pdfs.len() > 20, "{pdfs:?}");
    for pdf in &pdfs {
        let text = all_text(pdf);
        assert!(
            text.contains("宁陵县") || pdf.to_string_lossy().contains("binders"),
            "{}",
            pdf.display()
        );
        for s in &sample {
            assert!(!text.contains(s.as_str()), "{s} in {}", pdf.display());
        }
    }
    // The town's binder has its task (item 5, criterion 2) and its record.
    let town = all_text(&tmp.path().join("o/binders/城关镇.pdf"));
    assert!(town.contains("街头宣传照片"), "{town}");
}

#[test]
fn issue10_a_county_that_edits_the_sample_is_told_what_is_still_minquans() {
    let tmp = tempfile::tempdir().unwrap();
    let run = dossier(tmp.path(), &["init", "d"]);
    assert!(run.status.success());
    let root = tmp.path().join("d");
    let config = std::fs::read_to_string(root.join("dossier.yaml")).unwrap();
    std::fs::write(
        root.join("dossier.yaml"),
        config.replace("民权县", "宁陵县"),
    )
    .unwrap();
    // Its towns replace the sample's: no error about the sample's street offices.
    let units = std::fs::read_to_string(root.join("units.yaml")).unwrap();
    let units = units
        .replace("民权县绿洲街道办事处", "宁陵县城关镇人民政府")
        .replace("绿洲街道办", "城关镇")
        .replace("[绿洲街道, 绿洲街道办事处]", "[城关]")
        .replace("    # 实施方案只点名了绿洲、南华两个街道办；其他乡镇请按实际补充到“单位”和这里。\n", "")
        .replace("  - 名称: 民权县南华街道办事处\n    简称: 南华街道办\n    别名: [南华街道, 南华街道办事处]\n", "")
        .replace("[城关镇, 南华街道办]", "[城关镇]");
    std::fs::write(root.join("units.yaml"), &units).unwrap();
    let (code, diags, stderr) = check_in(tmp.path());
    assert_eq!(code, 0, "{stderr}");
    // What is left of the sample is pointed at: its officials, on their own lines.
    let head = diags
        .iter()
        .find(|d| d.message.contains("“金守旺”是示例"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(head.file, "units.yaml");
    let line = units.lines().nth(head.line - 1).unwrap();
    assert!(line.contains("负责人") && line.contains("金守旺"), "{line}");
    assert!(
        diags.iter().any(|d| d.message.starts_with("“民权”是示例")),
        "{stderr}"
    );
    // The task table is this county's: nothing of the sample in the dossier's task texts.
    build_ok(tmp.path(), &[]);
    let text = all_text(&tmp.path().join("o/宁陵县质量强县示范县验收资料.pdf"));
    assert!(text.contains("宁陵县质量发展战略规划文件"));
    for town in ["绿洲", "南华"] {
        assert!(!text.contains(town), "{town}");
    }
}

#[test]
fn issue10_a_file_name_in_another_unicode_form_is_explained() {
    // "café" typed in the YAML (NFC), stored as a Mac writes it (NFD: e + combining accent).
    let (tmp, root) = dossier_with(None);
    std::fs::rename(
        root.join("evidence/05/方案.pdf"),
        root.join("evidence/05/cafe\u{301}方案.pdf"),
    )
    .unwrap();
    let text = std::fs::read_to_string(root.join("items/05.yaml")).unwrap();
    std::fs::write(
        root.join("items/05.yaml"),
        text.replace("evidence/05/方案.pdf", "evidence/05/caf\u{e9}方案.pdf"),
    )
    .unwrap();
    let (code, errors, stderr) = check_errors(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(!errors.is_empty(), "{stderr}");
    for e in &errors {
        assert!(e.message.contains("Unicode 编码形式不同"), "{stderr}");
        assert!(e.hint.contains("重新输入"), "{stderr}");
    }
}

/// A photo turned in place by a tool that keeps its size and puts its modification time back
/// (`exiftool -P -Orientation=6`) prints turned on the next build: the caches of inspections
/// and normalised images know the file changed by its status-change time.
#[test]
fn a_photo_turned_in_place_with_its_old_time_prints_turned() {
    let (tmp, root) = dossier_with(None);
    let dir = root.join("evidence/06");
    std::fs::create_dir_all(&dir).unwrap();
    let photo = dir.join("转向.jpg");
    let upright = images::jpeg(images::JpegKind::Rgb, 240, 160, 2);
    let turned = images::jpeg(images::JpegKind::Rgb, 240, 160, 6);
    assert_eq!(
        upright.len(),
        turned.len(),
        "only the orientation tag differs"
    );
    std::fs::write(&photo, &upright).unwrap();
    append(
        &root,
        "items/06.yaml",
        "  - 件号: 1\n    题名: 转向的照片\n    责任单位: 市场监管局\n    考核内容: [1]\n    文件: evidence/06/转向.jpg\n",
    );
    let shown = |tmp: &Path| {
        let pdf = Pdf::load(&tmp.join("o/测试资料.pdf"));
        let page = (pdf.bookmarks().into_iter())
            .find(|b| b.title.contains("转向的照片"))
            .unwrap()
            .page;
        let jpegs = pdf.page_jpegs_placed(page);
        assert_eq!(jpegs.len(), 1);
        pdf::shown_orientation(jpegs[0].1)
    };
    build_ok(tmp.path(), &[]);
    assert_eq!(shown(tmp.path()), 2);
    let mtime = std::fs::metadata(&photo).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&photo, &turned).unwrap();
    let f = std::fs::File::options().write(true).open(&photo).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    build_ok(tmp.path(), &[]);
    assert_eq!(
        shown(tmp.path()),
        6,
        "the photo still prints as it was before it was turned"
    );
}
