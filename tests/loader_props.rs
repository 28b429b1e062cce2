//! Property tests: the loader and the validator never panic, whatever the bytes or the YAML.
//! Arbitrary bytes go through decoding and parsing of every file type; arbitrary YAML built
//! from the dossier's own keys (so that it gets past the parser and into validation) goes
//! through the whole `load` + `validate` path of a real dossier folder.

use std::path::Path;

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
    std::fs::write(root.join("dossier.yaml"), init::config_yaml(date)).unwrap();
    std::fs::write(root.join("units.yaml"), units::DEFAULT_UNITS_YAML).unwrap();
    std::fs::write(
        root.join("items/05.yaml"),
        init::item_yaml(Catalog::get().item(5).unwrap()),
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
