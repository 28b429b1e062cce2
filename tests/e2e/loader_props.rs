//! Property tests: the loader, the validator and image normalisation never panic, whatever the
//! bytes, the YAML or the image. Arbitrary bytes go through decoding and parsing of every file
//! type; arbitrary YAML built from the dossier's own keys (so that it gets past the parser and
//! into validation) goes through the whole `load` + `validate` path of a real dossier folder;
//! generated images of every colour model, depth, orientation and truncation go through
//! normalisation; arbitrary bytes named .pdf/.jpg/.png go through `check`'s file inspection.

use std::path::Path;

use crate::common::images::{self, JpegKind, PngColour};
use dossier::model::{Config, ItemFile, UnitsFile};
use dossier::{catalog::Catalog, init, load, units, validate, yaml};
use proptest::prelude::*;

fn parse_all(text: &str) {
    let _ = yaml::parse::<ItemFile>("items/06.yaml", text);
    let _ = yaml::parse::<Config>("dossier.yaml", text);
    let _ = yaml::parse::<UnitsFile>("units.yaml", text);
}

/// A YAML value built from the dossier's vocabulary.
fn value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("1".to_string()),
        Just("0".to_string()),
        Just("-3".to_string()),
        Just("2021-03-03".to_string()),
        Just("2021-02-30".to_string()),
        Just("是".to_string()),
        Just("市场监管局".to_string()),
        Just("市场监督局".to_string()),
        Just("evidence/05/方案.pdf".to_string()),
        Just("../x.pdf".to_string()),
        Just("/etc/passwd".to_string()),
        Just("2-5".to_string()),
        Just("\"\"".to_string()),
        Just("~".to_string()),
        Just("1e400".to_string()),
        "[\\PC]{0,12}".prop_map(|s| format!("{s:?}")),
        "[a-z0-9 :#\\-\\[\\]{}&*!|>%@]{0,10}",
    ];
    scalar.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((key(), inner), 0..4).prop_map(|kv| format!(
                "{{{}}}",
                kv.into_iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "件号",
            "题名",
            "文号",
            "责任者",
            "日期",
            "责任单位",
            "考核内容",
            "工作任务",
            "文件",
            "实测",
            "备注",
            "路径",
            "页码",
            "仅入包",
            "数值",
            "参照值",
            "指标项",
            "说明",
            "指标",
            "材料",
        ])
        .prop_map(str::to_string),
        "[a-z]{1,4}",
    ]
}

/// An item file: `指标: N` and a list of records of random keys and values.
fn item_file() -> impl Strategy<Value = String> {
    let record = prop::collection::vec((key(), value()), 0..8).prop_map(|kv| {
        let mut s = String::new();
        for (i, (k, v)) in kv.into_iter().enumerate() {
            s.push_str(if i == 0 { "  - " } else { "    " });
            s.push_str(&format!("{k}: {v}\n"));
        }
        if s.is_empty() {
            "  - {}\n".to_string()
        } else {
            s
        }
    });
    (0u32..30, prop::collection::vec(record, 0..5))
        .prop_map(|(n, recs)| format!("指标: {n}\n材料:\n{}", recs.concat()))
}

fn write_dossier(root: &Path) {
    std::fs::create_dir_all(root.join("items")).unwrap();
    std::fs::create_dir_all(root.join("evidence/05")).unwrap();
    let date = dossier::model::Date {
        year: 2022,
        month: 5,
        day: 20,
    };
    let seed = Catalog::get();
    std::fs::write(
        root.join("dossier.yaml"),
        init::config_yaml(date, &seed.county, init::plan_period(seed)),
    )
    .unwrap();
    std::fs::write(root.join("units.yaml"), units::DEFAULT_UNITS_YAML).unwrap();
    std::fs::write(
        root.join("items/05.yaml"),
        init::item_yaml(seed, seed.item(5).unwrap(), &seed.county),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/base/evidence/05/方案.pdf"),
        root.join("evidence/05/方案.pdf"),
    )
    .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(text) = yaml::decode("x.yaml", &bytes) {
            parse_all(&text);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        parse_all(&text);
    }

    #[test]
    fn arbitrary_item_files_load_and_validate_without_panic(files in prop::collection::vec(item_file(), 1..3)) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("d");
        write_dossier(&root);
        for (i, text) in files.iter().enumerate() {
            std::fs::write(root.join(format!("items/x{i}.yaml")), text).unwrap();
        }
        let sources = load::load(&root).unwrap();
        let checked = validate::validate(sources);
        // Rendering the report must not panic either (positions past line ends, wide text).
        let _ = checked.report.render(&root, true);
        if checked.dossier.is_some() {
            prop_assert!(!checked.report.has_errors());
        }
    }

}

/// An image to normalise: how it is made, its stored size, its EXIF orientation, and how many
/// bytes are cut off its end (0 = whole).
#[derive(Debug, Clone)]
struct Shot {
    kind: Kind,
    w: u16,
    h: u16,
    orientation: u16,
    cut: usize,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Jpeg(JpegKind),
    Png(PngColour, u8, bool),
}

fn shot() -> impl Strategy<Value = Shot> {
    let jpeg = prop::sample::select(vec![
        JpegKind::Rgb,
        JpegKind::Grey,
        JpegKind::CmykAdobe,
        JpegKind::CmykPlain,
        JpegKind::Ycck,
    ])
    .prop_map(Kind::Jpeg);
    let png = (
        prop::sample::select(vec![
            PngColour::Grey,
            PngColour::GreyAlpha,
            PngColour::Rgb,
            PngColour::Rgba,
            PngColour::Palette,
        ]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(c, deep, interlaced)| {
            let depth = match (c, deep) {
                (PngColour::Palette, true) => 4,
                (PngColour::Palette, false) => 8,
                (_, true) => 16,
                (_, false) => 8,
            };
            Kind::Png(c, depth, interlaced)
        });
    (
        prop_oneof![jpeg, png],
        1u16..400,
        1u16..400,
        1u16..=8,
        prop_oneof![3 => Just(0usize), 1 => 1usize..2000],
    )
        .prop_map(|(kind, w, h, orientation, cut)| Shot {
            kind,
            w,
            h,
            orientation,
            cut,
        })
}

fn bytes_of(s: &Shot) -> Vec<u8> {
    let mut data = match s.kind {
        // Only JPEGs written by the image crate carry the EXIF block here.
        Kind::Jpeg(k) => images::jpeg(
            k,
            s.w,
            s.h,
            if k == JpegKind::Rgb { s.orientation } else { 1 },
        ),
        Kind::Png(c, d, i) => images::png(c, d, i, u32::from(s.w), u32::from(s.h)),
    };
    let cut = s.cut.min(data.len().saturating_sub(1));
    data.truncate(data.len() - cut);
    data
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn normalising_any_image_gives_a_page_of_its_shape_or_an_error(s in shot()) {
        let data = bytes_of(&s);
        let turned = matches!(s.kind, Kind::Jpeg(JpegKind::Rgb)) && s.orientation >= 5;
        let (w, h) = if turned { (s.h, s.w) } else { (s.w, s.h) };
        match std::panic::catch_unwind(|| dossier::normalize::image_page(&data)) {
            Err(_) => prop_assert!(false, "normalising panicked: {s:?}"),
            Ok(Err(e)) => {
                // Only a damaged (cut) image may fail, and it says why in Chinese.
                prop_assert!(s.cut > 0, "a whole image failed: {s:?}: {e:#}");
                let why = format!("{e}");
                prop_assert!(!why.is_empty());
            }
            Ok(Ok(pdf)) => {
                let doc = hayro_syntax::Pdf::new(pdf).expect("a readable PDF");
                let page = &doc.pages()[0];
                let r = page.media_box();
                let (pw, ph) = (r.x1 - r.x0, r.y1 - r.y0);
                let want = f64::from(w) / f64::from(h);
                let got = pw / ph;
                // Rounding of small images to whole pixels: within a pixel of the shape.
                let slack = 1.0 / f64::from(w.min(h)) + 0.01;
                prop_assert!((got / want - 1.0).abs() <= slack, "{s:?}: page {pw}×{ph}");
            }
        }
    }

    #[test]
    fn check_inspects_arbitrary_bytes_named_as_evidence_without_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..3000),
        head in prop::sample::select(vec![&b"%PDF-1.7\n"[..], &b"\xff\xd8\xff\xe0"[..], &b"\x89PNG\r\n\x1a\n"[..], &b""[..]]),
        ext in prop::sample::select(vec!["pdf", "jpg", "png"]),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("d");
        write_dossier(&root);
        let mut data = head.to_vec();
        data.extend_from_slice(&bytes);
        std::fs::write(root.join(format!("evidence/05/x.{ext}")), &data).unwrap();
        std::fs::write(
            root.join("items/05.yaml"),
            format!("指标: 5\n材料:\n  - 件号: 1\n    题名: 测试\n    责任单位: 市场监管局\n    考核内容: [1]\n    文件: evidence/05/x.{ext}\n"),
        )
        .unwrap();
        let checked = std::panic::catch_unwind(|| validate::validate(load::load(&root).unwrap()));
        prop_assert!(checked.is_ok(), "check panicked on {} bytes named .{ext}", data.len());
    }
}
