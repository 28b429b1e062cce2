//! Where every record is in the dossier ("第 45 页", "第2册第45页"): what binders print beside
//! each record so that a reviewer finds it in the dossier too, and the cache that keeps it
//! between runs.
//!
//! Finding the places means laying the whole dossier out (seconds for thousands of pages), so
//! a build saves them in the output folder's cache (`.cache/places.json`) and a binder run
//! reuses them when nothing the layout depends on changed; otherwise it lays the dossier out
//! and saves them itself. The key covers everything the layout is made from: the program, the
//! Typst sources of every volume as they are rendered now (so every record, field, option,
//! template override and normalised page), and the size and modification time of every
//! evidence and font file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::paths::Fingerprint;
use crate::plan::{self, PlanOptions};
use crate::validate::Dossier;

/// Where every record is, by 件号.
pub type Places = BTreeMap<String, String>;

/// The places as saved: with the key of what they were laid out from.
#[derive(Serialize, Deserialize)]
struct Saved {
    key: String,
    places: Places,
}

/// The cache file under the output folder `out`.
pub fn file(out: &Path) -> PathBuf {
    out.join(".cache").join("places.json")
}

/// The place of a record starting on page `first` of volume `volume`, as binders print it.
pub fn text(several: bool, volume: usize, first: usize) -> String {
    if several {
        format!("第{volume}册第{first}页")
    } else {
        format!("第 {first} 页")
    }
}

/// The key of the dossier's layout with `base` (whole dossier, no draft list), cut into
/// volumes by `limit`; `None` when something it depends on cannot be read (then nothing is
/// cached).
pub fn key(d: &Dossier, base: &PlanOptions, limit: plan::VolumeLimit) -> Option<String> {
    let mut h = sha2::Sha256::new();
    let mut put = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    put(env!("CARGO_PKG_VERSION").as_bytes());
    // The program itself: another build of it may lay out differently.
    put(&stamp(&std::env::current_exe().ok()?)?);
    let volumes = plan::volumes(d, limit);
    let several = volumes.len() > 1;
    for v in &volumes {
        let plan = plan::plan(
            d,
            &PlanOptions {
                volume: several.then(|| v.clone()),
                unit: None,
                draft: false,
                dossier_places: None,
                ..base.clone()
            },
        );
        let rendered = crate::render::render(&plan, Some(&d.root)).ok()?;
        put(rendered.main.as_bytes());
        for (path, text) in &rendered.files {
            put(path.as_bytes());
            put(text.as_bytes());
        }
    }
    let evidence = (d.items.iter())
        .flat_map(|i| &i.records)
        .flat_map(|r| &r.files)
        .map(|f| d.canonical_root.join(&f.rel));
    let fonts = d.config.fonts.as_ref().map_or(Vec::new(), |fc| {
        let entries: Vec<String> = (fc.files.iter())
            .filter_map(|e| crate::evidence::normalise(&e.value).ok())
            .collect();
        crate::build::font_files(&d.canonical_root, &entries)
    });
    for path in evidence.chain(fonts) {
        put(path.to_string_lossy().as_bytes());
        put(&stamp(&path)?);
    }
    Some(crate::evidence::hex(&h.finalize()))
}

/// A file's fingerprint (size, modification and status-change times), as bytes for a key.
fn stamp(path: &Path) -> Option<Vec<u8>> {
    let f = Fingerprint::of(path)?;
    Some(
        [
            f.size.to_le_bytes().as_slice(),
            &f.modified_ns.to_le_bytes(),
            &f.changed_ns.to_le_bytes(),
        ]
        .concat(),
    )
}

/// The places saved under `out` with this key, if any.
pub fn load(out: &Path, key: &str) -> Option<Places> {
    let bytes = std::fs::read(file(out)).ok()?;
    let saved: Saved = serde_json::from_slice(&bytes).ok()?;
    (saved.key == key).then_some(saved.places)
}

/// Saves `places` under `out` with `key`. A cache: a folder that cannot take it only costs the
/// next binder run the layout.
pub fn save(out: &Path, key: &str, places: &Places) {
    let saved = Saved {
        key: key.to_string(),
        places: places.clone(),
    };
    if let Ok(bytes) = serde_json::to_vec(&saved) {
        let _ = crate::output::write_if_changed(&file(out), &bytes);
    }
}
