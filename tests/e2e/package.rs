//! End-to-end tests of the submission package written by `dossier build`, of `dossier verify`
//! and of `dossier unpack`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::Value;
use sha2::Digest;

fn sha_hex(bytes: &[u8]) -> String {
    dossier::evidence::hex(&sha2::Sha256::digest(bytes))
}

/// Builds the base fixture (plus `extra` build arguments) and returns (temp dir, zip path).
fn built(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let (tmp, _) = dossier_with(None);
    build_ok(tmp.path(), extra);
    let zip = tmp.path().join("o/测试资料.zip");
    (tmp, zip)
}

fn manifest(zip: &Path) -> Value {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name("清单.json")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every evidence path the sample's records reference, read from the YAML by the test.
fn sample_evidence() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("dossier/items");
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).unwrap() {
        let v: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
        for r in v["材料"].as_array().into_iter().flatten() {
            let files = match &r["文件"] {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            for f in files {
                out.push(match f {
                    Value::String(s) => s,
                    Value::Object(m) => m["路径"].as_str().unwrap().to_string(),
                    _ => panic!(),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn the_sample_package_holds_every_evidence_file_with_its_sha256() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let run = dossier(repo, &["build", "--out", out.path().to_str().unwrap()]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let zip_path = out.path().join("民权县质量强县示范县验收资料.zip");
    let m = manifest(&zip_path);
    let files = m["files"].as_array().unwrap();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    for rel in sample_evidence() {
        let original = std::fs::read(repo.join("dossier").join(&rel)).unwrap();
        let entries: Vec<&Value> = files
            .iter()
            .filter(|f| f["source"] == rel.as_str() && f["kind"] == "evidence")
            .collect();
        assert!(!entries.is_empty(), "{rel} is not in the package");
        for e in entries {
            assert_eq!(
                e["sha256"],
                sha_hex(&original).as_str(),
                "{rel}: sha256 in the manifest"
            );
            assert_eq!(e["size"], original.len() as u64);
            let path = e["path"].as_str().unwrap();
            assert!(path.starts_with("证据材料/指标"), "{path}");
            let mut packed = Vec::new();
            archive
                .by_name(path)
                .unwrap()
                .read_to_end(&mut packed)
                .unwrap();
            assert!(packed == original, "{path} is not byte-identical to {rel}");
        }
    }
    // The PDF and the sources are there too, and the CSV opens in Excel with the Chinese intact.
    assert!(
        files
            .iter()
            .any(|f| f["kind"] == "dossier" && f["path"] == "民权县质量强县示范县验收资料.pdf")
    );
    assert!(files.iter().any(|f| f["path"] == "源文件/items/05.yaml"));
    let mut csv = Vec::new();
    archive
        .by_name("清单.csv")
        .unwrap()
        .read_to_end(&mut csv)
        .unwrap();
    assert!(csv.starts_with("\u{feff}包内路径,原路径,类别".as_bytes()));
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), files.len() + 1);
}

#[test]
fn every_entry_reads_back_intact_and_chinese_names_carry_the_utf8_flag() {
    let (_tmp, zip) = built(&[]);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut buf = Vec::new();
        // The zip crate checks each entry's CRC-32 when it is read to the end.
        let name = f.name().unwrap().into_owned();
        f.read_to_end(&mut buf)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(buf.len() as u64, f.size());
    }
    let bytes = std::fs::read(&zip).unwrap();
    let headers = central_headers(&bytes);
    assert_eq!(headers.len(), archive.len());
    let mut chinese = 0;
    for (name, flags, method) in &headers {
        if !name.is_ascii() {
            chinese += 1;
            assert!(flags & 0x0800 != 0, "{name:?} lacks the UTF-8 flag");
        }
        // Compressed formats stored, text deflated.
        let stored = [".pdf", ".jpg", ".png", ".xlsx"]
            .iter()
            .any(|e| name.ends_with(e));
        assert_eq!(
            *method,
            if stored { 0 } else { 8 },
            "{name}: compression method"
        );
    }
    assert!(chinese > 5);
}

/// (name, general purpose flags, compression method) of every central directory entry, read
/// from the end-of-central-directory record (no zip64 in these small packages).
fn central_headers(zip: &[u8]) -> Vec<(String, u16, u16)> {
    let eocd = (0..zip.len() - 21)
        .rev()
        .find(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("EOCD");
    let u16_at = |o: usize| u16::from_le_bytes([zip[o], zip[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes([zip[o], zip[o + 1], zip[o + 2], zip[o + 3]]);
    let count = u16_at(eocd + 10) as usize;
    let mut i = u32_at(eocd + 16) as usize;
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(zip[i..i + 4], [0x50, 0x4b, 0x01, 0x02], "central header");
        let (flags, method) = (u16_at(i + 8), u16_at(i + 10));
        let (n, x, c) = (
            u16_at(i + 28) as usize,
            u16_at(i + 30) as usize,
            u16_at(i + 32) as usize,
        );
        out.push((
            String::from_utf8(zip[i + 46..i + 46 + n].to_vec()).unwrap(),
            flags,
            method,
        ));
        i += 46 + n + x + c;
    }
    out
}

#[test]
fn two_builds_give_the_same_zip_bytes() {
    let (tmp, zip) = built(&[]);
    let first = std::fs::read(&zip).unwrap();
    build_ok(tmp.path(), &[]);
    let second = std::fs::read(&zip).unwrap();
    assert!(first == second, "the package differs between two builds");
}

#[test]
fn verify_accepts_an_intact_package_and_names_an_altered_file() {
    let (tmp, zip) = built(&[]);
    // The verdict is the result: on stdout, so `dossier verify p > f` puts it in f.
    let (code, text) = dossier_to_file(
        tmp.path(),
        &["verify", zip.to_str().unwrap()],
        &tmp.path().join("verify.txt"),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("资料包完好"), "{text}");

    // Change one byte inside the stored photo.
    let mut bytes = std::fs::read(&zip).unwrap();
    let name = "证据材料/指标05/05-02 宣传牌照片及扫描件/照片.jpg";
    let at = data_offset(&bytes, name) + 100;
    bytes[at] ^= 0x01;
    let altered = tmp.path().join("altered.zip");
    std::fs::write(&altered, &bytes).unwrap();
    let run = dossier(tmp.path(), &["verify", altered.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{}", log(&run));
    assert!(stdout.contains(&format!("被改动：{name}")), "{stdout}");
    assert_eq!(
        stdout.matches("被改动").count(),
        1,
        "only that file: {stdout}"
    );
    // The same as JSON lines: one finding, and a summary that is not ok.
    let run = dossier(
        tmp.path(),
        &["verify", altered.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(run.status.code(), Some(1), "{}", log(&run));
    let lines = json_lines(&run);
    let findings: Vec<_> = lines.iter().filter(|v| v["type"] == "finding").collect();
    assert_eq!(findings.len(), 1, "{lines:?}");
    assert_eq!(findings[0]["finding"], "altered");
    assert_eq!(findings[0]["path"], name);
    assert_eq!(summary(&lines)["ok"], false);
    assert_eq!(summary(&lines)["findings"], 1);
}

/// Offset of the data of the entry `name` (from its local header).
fn data_offset(zip: &[u8], name: &str) -> usize {
    let needle = name.as_bytes();
    let mut i = 0;
    while i + 30 < zip.len() {
        if zip[i..i + 4] == [0x50, 0x4b, 0x03, 0x04] {
            let n = u16::from_le_bytes([zip[i + 26], zip[i + 27]]) as usize;
            let x = u16::from_le_bytes([zip[i + 28], zip[i + 29]]) as usize;
            if &zip[i + 30..i + 30 + n] == needle {
                return i + 30 + n + x;
            }
        }
        i += 1;
    }
    panic!("{name} not in the zip");
}

#[test]
fn verify_reports_missing_and_extra_files() {
    let (tmp, zip) = built(&[]);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let rebuilt = tmp.path().join("rebuilt.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&rebuilt).unwrap());
    let dropped = "源文件/units.yaml";
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).unwrap();
        if f.name().unwrap() != dropped {
            w.raw_copy_file(f).unwrap();
        }
    }
    w.start_file("多余的文件.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"x").unwrap();
    w.finish().unwrap();
    let run = dossier(tmp.path(), &["verify", rebuilt.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{}", log(&run));
    assert!(stdout.contains(&format!("缺少：{dropped}")), "{stdout}");
    assert!(stdout.contains("多出：多余的文件.txt"), "{stdout}");
}

#[test]
fn a_missing_evidence_file_fails_the_build_and_keeps_the_previous_package() {
    let (tmp, zip) = built(&[]);
    let before = std::fs::read(&zip).unwrap();
    std::fs::remove_file(tmp.path().join("d/evidence/05/扫描件.png")).unwrap();
    let run = dossier(tmp.path(), &["build", "d", "--out", "o"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        std::fs::read(&zip).unwrap() == before,
        "the previous package changed"
    );
    assert_outputs(
        &tmp.path().join("o"),
        &["测试资料.pdf", "测试资料.zip", "测试资料-构建报告.json"],
    );
}

#[test]
fn unreferenced_files_are_warned_about_or_packaged_on_request() {
    let (tmp, root) = dossier_with(Some("unreferenced-file"));
    let run = build_ok(tmp.path(), &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("没有被任何材料引用"), "{stderr}");
    let zip = tmp.path().join("o/测试资料.zip");
    let listed = |m: &Value| {
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["source"] == "evidence/05/未登记的照片.jpg")
    };
    assert!(!listed(&manifest(&zip)));
    build_ok(tmp.path(), &["--include-unreferenced"]);
    let m = manifest(&zip);
    assert!(listed(&m));
    let entry = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unreferenced")
        .unwrap();
    assert_eq!(entry["path"], "未引用的文件/evidence/05/未登记的照片.jpg");
    assert_eq!(
        entry["sha256"],
        sha_hex(&std::fs::read(root.join("evidence/05/未登记的照片.jpg")).unwrap()).as_str()
    );
}

#[test]
fn an_unpacked_package_rebuilds_the_same_pdf() {
    let (tmp, zip) = built(&[]);
    let run = dossier(tmp.path(), &["unpack", zip.to_str().unwrap(), "还原"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let run = dossier(tmp.path(), &["build", "还原", "--out", "o2"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let a = std::fs::read(tmp.path().join("o/测试资料.pdf")).unwrap();
    let b = std::fs::read(tmp.path().join("o2/测试资料.pdf")).unwrap();
    assert!(a == b, "the rebuilt PDF differs");
    // unpack refuses a folder that is not empty.
    let run = dossier(tmp.path(), &["unpack", zip.to_str().unwrap(), "还原"]);
    assert_eq!(run.status.code(), Some(2));
}

/// Each PDF goes into the package while it is being written (not read back from its file):
/// the entry is the file byte for byte, and the manifest has its hash and size — for a dossier
/// in volumes too (every volume and the master volume).
#[test]
fn every_pdf_in_the_package_is_the_pdf_written_beside_it() {
    let tmp = sample_cut_by("每册页数上限: 60");
    build_ok(tmp.path(), &[]);
    let out = tmp.path().join("o");
    let zip = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "zip"))
        .unwrap();
    let m = manifest(&zip);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let mut seen = 0;
    for f in m["files"].as_array().unwrap() {
        if f["kind"] != "dossier" {
            continue;
        }
        let name = f["path"].as_str().unwrap();
        let written = std::fs::read(out.join(name)).unwrap();
        let mut packed = Vec::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_end(&mut packed)
            .unwrap();
        assert!(
            packed == written,
            "{name} in the package differs from the file"
        );
        assert_eq!(f["sha256"], sha_hex(&written), "{name}");
        assert_eq!(f["size"], written.len(), "{name}");
        seen += 1;
    }
    assert!(
        seen >= 3,
        "{seen} PDFs in the package: expected volumes and the master"
    );
}

/// The evidence's digests kept by the last package, as `.cache/digests.json` holds them: file
/// path → (status, CRC-32, SHA-256).
fn kept_digests(out: &Path) -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(out.join(".cache/digests.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["files"].as_object().unwrap().clone()
}

/// A rebuild takes an evidence file's SHA-256 from the last package only while the file's
/// status (size, times, inode) is unchanged and the CRC-32 of the bytes copied is the kept one:
/// a file rewritten with its old size and modification time, and a file whose kept CRC-32 does
/// not match, are hashed again; an unchanged file's kept digest is what the manifest lists.
#[test]
fn a_rebuild_hashes_again_every_evidence_file_that_changed_even_with_its_old_time() {
    let (tmp, root) = dossier_with(None);
    // Files changed in the last two seconds are not kept (they could change again within the
    // same clock tick): let the fixture's files settle first.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    build_ok(tmp.path(), &[]);
    let out = tmp.path().join("o");
    let zip = out.join("测试资料.zip");
    let evidence: Vec<String> = (manifest(&zip)["files"].as_array().unwrap().iter())
        .filter(|f| f["kind"] == "evidence")
        .map(|f| f["source"].as_str().unwrap().to_string())
        .collect();
    assert!(evidence.len() >= 3, "{evidence:?}");
    let kept = kept_digests(&out);
    for rel in &evidence {
        assert!(
            kept.keys().any(|k| k.ends_with(rel.as_str())),
            "{rel} not kept: {:?}",
            kept.keys()
        );
    }
    let key = |kept: &serde_json::Map<String, Value>, rel: &str| {
        kept.keys().find(|k| k.ends_with(rel)).unwrap().clone()
    };

    // The photo rewritten in place: same size, its modification time put back.
    let photo = root.join("evidence/05/照片.jpg");
    let mtime = std::fs::metadata(&photo).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&photo).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&photo, &bytes).unwrap();
    let f = std::fs::File::options().write(true).open(&photo).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    // The scheme's kept CRC-32 made wrong: its kept SHA-256 must not be trusted.
    let mut kept = kept_digests(&out);
    let scheme = key(&kept, "evidence/05/方案.pdf");
    let crc = kept[&scheme]["crc32"].as_u64().unwrap();
    kept[&scheme]["crc32"] = Value::from(crc ^ 1);
    kept[&scheme]["sha256"] = Value::from("0".repeat(64));
    let file = out.join(".cache/digests.json");
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    saved["files"] = Value::Object(kept);
    std::fs::write(&file, serde_json::to_vec(&saved).unwrap()).unwrap();

    build_ok(tmp.path(), &[]);
    for f in manifest(&zip)["files"].as_array().unwrap() {
        if f["kind"] == "evidence" {
            let bytes = std::fs::read(root.join(f["source"].as_str().unwrap())).unwrap();
            assert_eq!(f["sha256"], sha_hex(&bytes), "{}", f["source"]);
        }
    }
    let run = dossier(tmp.path(), &["verify", "o/测试资料.zip"]);
    assert!(run.status.success(), "{}", log(&run));
    // The rewritten photo changed a moment ago: nothing is kept for it until it settles.
    let kept = kept_digests(&out);
    assert!(!kept.keys().any(|k| k.ends_with("evidence/05/照片.jpg")));
    assert_eq!(
        kept[&key(&kept, "evidence/05/方案.pdf")]["sha256"],
        sha_hex(&std::fs::read(root.join("evidence/05/方案.pdf")).unwrap())
    );

    // An unchanged file: the kept SHA-256 is what goes into the manifest (it is not hashed
    // again) — shown by a kept value the file does not have, with its status and CRC-32 right.
    let mut kept = kept_digests(&out);
    let scan = key(&kept, "evidence/05/扫描件.png");
    kept[&scan]["sha256"] = Value::from("ab".repeat(32));
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    saved["files"] = Value::Object(kept);
    std::fs::write(&file, serde_json::to_vec(&saved).unwrap()).unwrap();
    build_ok(tmp.path(), &[]);
    let listed = (manifest(&zip)["files"].as_array().unwrap().iter())
        .find(|f| f["source"] == "evidence/05/扫描件.png")
        .unwrap()["sha256"]
        .clone();
    assert_eq!(listed, "ab".repeat(32));
}
