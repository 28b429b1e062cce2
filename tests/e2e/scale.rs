//! Normalised evidence (scaled images, split PDFs) changes what is typeset, never the layout:
//! the same pages, the same printed numbers, the same records on the same pages; and the
//! package still carries the original files.

use std::path::Path;

use crate::common::pdf::Pdf;
use crate::common::*;

#[test]
fn normalising_keeps_page_counts_numbers_and_record_pages() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    for (out, extra) in [("n", None), ("o", Some("--no-normalize"))] {
        let o = tmp.path().join(out);
        let mut args = vec!["build", "--out", o.to_str().unwrap()];
        args.extend(extra);
        let run = dossier(repo, &args);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let name = "民权县质量强县示范县验收资料";
    let normalised = Pdf::load(&tmp.path().join(format!("n/{name}.pdf")));
    let original = Pdf::load(&tmp.path().join(format!("o/{name}.pdf")));
    assert_eq!(normalised.page_count(), original.page_count());
    assert_eq!(
        normalised.bookmarks(),
        original.bookmarks(),
        "records on the same pages"
    );
    let labels = normalised.labels();
    assert_eq!(labels, original.labels());
    for (i, (a, b)) in normalised
        .all_text()
        .iter()
        .zip(original.all_text())
        .enumerate()
    {
        // Covers and blank versos print no number; every other page prints its label.
        let Some(n) = labels[i].filter(|_| !normalised.is_blank_verso(i + 1)) else {
            continue;
        };
        let number = format!("— {n} —");
        assert!(
            a.contains(&number) && b.contains(&number),
            "page {} prints its number {n} in both",
            i + 1
        );
    }
    // Smaller, because photos are printed at 150 dpi instead of their full size.
    let size = |p: &str| std::fs::metadata(tmp.path().join(p)).unwrap().len();
    assert!(size(&format!("n/{name}.pdf")) < size(&format!("o/{name}.pdf")));
    // The package carries the originals either way.
    let zip_a = std::fs::read(tmp.path().join(format!("n/{name}.zip"))).unwrap();
    let zip_b = std::fs::read(tmp.path().join(format!("o/{name}.zip"))).unwrap();
    let manifest = |z: &[u8]| -> Vec<(String, String)> {
        let mut a = zip::ZipArchive::new(std::io::Cursor::new(z)).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut a.by_name("清单.json").unwrap(), &mut text).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "evidence")
            .map(|f| {
                (
                    f["source"].as_str().unwrap().to_string(),
                    f["sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(manifest(&zip_a), manifest(&zip_b));
}

/// The records of the item files in `items`, counted from their text.
fn records_in(items: &Path) -> usize {
    std::fs::read_dir(items)
        .unwrap()
        .map(|e| {
            std::fs::read_to_string(e.unwrap().path())
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("  - 件号:"))
                .count()
        })
        .sum()
}

#[test]
fn volumes_keep_records_whole_and_the_master_contents_point_to_the_right_pages() {
    let tmp = sample_cut_by("每册页数上限: 60");
    build_ok(tmp.path(), &[]);
    let name = "民权县质量强县示范县验收资料";
    let mut volumes = Vec::new();
    for n in 1.. {
        let path = tmp.path().join(format!("o/{name}-第{n}册.pdf"));
        if !path.exists() {
            break;
        }
        volumes.push(Pdf::load(&path));
    }
    assert!(volumes.len() >= 3, "{} volumes", volumes.len());
    package_holds_the_pdfs(&tmp.path().join("o"), name, volumes.len());
    // Every record is in exactly one volume, whole: its pages run from its bookmark to the
    // next one, all inside that volume, each printing the volume and its page number.
    let mut seen = std::collections::BTreeMap::new();
    for (i, v) in volumes.iter().enumerate() {
        let marks = v.bookmarks();
        let texts: Vec<String> = v
            .all_text()
            .iter()
            .map(|t| crate::common::pdf::compact(t))
            .collect();
        let labels = v.labels();
        for (k, b) in marks.iter().enumerate() {
            if b.depth != 2 {
                continue;
            }
            let id = b.title.split(' ').next().unwrap().to_string();
            let end = marks.get(k + 1).map_or(v.page_count() + 1, |n| n.page);
            for p in (b.page..end).filter(|&p| !v.is_blank_verso(p)) {
                let label = labels[p - 1].expect("an evidence page has a label");
                let printed = format!("第{}册—{label}—", i + 1);
                assert!(
                    texts[p - 1].contains(&printed),
                    "volume {} page {p} lacks {printed:?}",
                    i + 1
                );
            }
            let title = b.title.split_once(' ').unwrap().1.to_string();
            let printed_first = labels[b.page - 1].expect("a record's first page has a label");
            assert!(
                seen.insert(id.clone(), (i + 1, printed_first, title))
                    .is_none(),
                "{id} is in two volumes"
            );
        }
    }
    assert_eq!(
        seen.len(),
        records_in(&tmp.path().join("d/items")),
        "every record is in a volume"
    );
    // The master contents give each record's volume and page.
    let master = crate::common::pdf::compact(
        &Pdf::load(&tmp.path().join(format!("o/{name}-总目录.pdf")))
            .all_text()
            .concat(),
    );
    for (id, (volume, page, title)) in &seen {
        let title = crate::common::pdf::compact(title);
        let want = format!("第{volume}册第{page}页");
        // "05-03 title ........ 第2册第45页": the entry, its leaders, its place.
        let entry = format!("{id}{title}");
        let at = master
            .find(&entry)
            .unwrap_or_else(|| panic!("the master contents lack {id}"));
        let after = master[at + entry.len()..].trim_start_matches('.');
        assert!(
            after.starts_with(&want),
            "{id}: {want} expected after the entry"
        );
    }
    // Built again, each volume and the master laid out with the places of this build (and
    // written while the next is laid out): the same bytes.
    let first = pdfs_in(&tmp.path().join("o"));
    assert!(tmp.path().join("o/.cache/anchors.json").is_file());
    build_ok(tmp.path(), &[]);
    let second = pdfs_in(&tmp.path().join("o"));
    assert_eq!(first.len(), volumes.len() + 1);
    assert!(first == second, "a rebuild of the volumes differs");
}

/// The PDFs in a folder and their bytes, by file name.
fn pdfs_in(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// The package holds every PDF as written (each volume went in as soon as it was typeset),
/// listed master first, then the volumes in order.
fn package_holds_the_pdfs(out: &Path, name: &str, volumes: usize) {
    let verified = dossier::package::verify(&out.join(format!("{name}.zip"))).unwrap();
    assert!(verified.findings.is_empty(), "{:?}", verified.findings);
    let listed: Vec<(String, String)> = (verified.manifest.unwrap().files.into_iter())
        .filter(|f| f.kind == dossier::package::EntryKind::Dossier)
        .map(|f| (f.path, f.sha256))
        .collect();
    let want: Vec<String> = std::iter::once(format!("{name}-总目录.pdf"))
        .chain((1..=volumes).map(|n| format!("{name}-第{n}册.pdf")))
        .collect();
    assert_eq!(listed.iter().map(|l| l.0.clone()).collect::<Vec<_>>(), want);
    for (file, sha) in &listed {
        let bytes = std::fs::read(out.join(file)).unwrap();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
        assert_eq!(&dossier::evidence::hex(&digest), sha, "{file}");
    }
}

#[test]
fn a_size_limit_cuts_volumes_and_a_volume_over_it_is_named() {
    let tmp = sample_cut_by("每册大小上限: 2");
    let (code, diags, _, log) = json_run(tmp.path(), &["build", "d", "--out", "o"]);
    assert_eq!(code, 0, "{log}");
    let over: Vec<&Printed> = diags
        .iter()
        .filter(|d| d.code == "volume-over-size")
        .collect();
    let mut volumes = 0;
    for e in std::fs::read_dir(tmp.path().join("o")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !name.contains("册.pdf") {
            continue;
        }
        volumes += 1;
        let size = std::fs::metadata(tmp.path().join("o").join(&name))
            .unwrap()
            .len();
        // Every volume keeps to the limit, or the build says which one does not.
        assert!(
            size <= 2_000_000 || over.iter().any(|d| d.message.contains(&name)),
            "{name}: {size} bytes, not reported\n{log}"
        );
    }
    // The sample's 11 MB of evidence needs several 2 MB volumes.
    assert!(volumes >= 5, "{volumes} volumes\n{log}");

    // Half a megabyte: items bigger than that alone get a volume each, over the limit, named.
    replace_in(
        &tmp.path().join("d/dossier.yaml"),
        "每册大小上限: 2\n",
        "每册大小上限: 0.5\n",
    );
    let (code, diags, _, log) = json_run(tmp.path(), &["build", "d", "--out", "o"]);
    assert_eq!(code, 0, "{log}");
    let over: Vec<&Printed> = diags
        .iter()
        .filter(|d| d.code == "volume-over-size")
        .collect();
    assert!(!over.is_empty(), "{log}");
    assert!(
        over.iter()
            .all(|d| d.hint.contains("一项指标不会拆到两册里")),
        "{log}"
    );
}
