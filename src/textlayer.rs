//! The invisible text layer over scanned evidence (a 双层PDF): which printed pages need one,
//! what was read from them, and what the plan gives the templates to lay over each page.
//!
//! A printed page needs one when its file has no text layer on that page ([`RecFile::text`]):
//! images, and PDF pages whose content is only an image. Each such page is read by [`ocr`]
//! once: what was read is kept in the output folder's cache by the file's SHA-256, the page
//! and the models ([`ocr::Cache`]), so a rebuild, a `watch` save or a binder run reads
//! nothing again. The SHA-256 of a file is itself kept by the file's size and modification
//! time, so an unchanged dossier is not hashed again either.
//!
//! A misread can be corrected: `ocr/<evidence path>.yaml` in the dossier (made by
//! `dossier ocr`, see [`corrections`]) replaces what was read from that file's pages for as
//! long as the file is the one it was made from.
//!
//! [`RecFile::text`]: crate::validate::RecFile::text

pub mod corrections;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::evidence::Kind;
use crate::ocr::{self, PageText};
use crate::paths::Fingerprint;
use crate::validate::Dossier;

/// The resolution PDF pages are rendered at for reading (images are read as they are).
pub const RENDER_DPI: f32 = 200.0;

/// Pages read with a lower confidence ([`PageText::confidence`]) are listed after the build,
/// to be looked at and corrected. Printed body text reads at 0.95 and more; a marginal note in
/// handwriting, a stamp over text or a poor scan falls below.
pub const LOW_CONFIDENCE: f32 = 0.85;

/// A page of an evidence file: its path in the dossier and the page (1-based).
pub type PageKey = (String, u32);

/// What was read from every page that needed it, by (evidence path, page).
#[derive(Debug, Default)]
pub struct TextLayers {
    pages: HashMap<PageKey, Arc<PageText>>,
}

impl TextLayers {
    /// What to lay over page `page` of the evidence file `rel`, if it was read.
    pub fn get(&self, rel: &str, page: u32) -> Option<&PageText> {
        self.pages.get(&(rel.to_string(), page)).map(|p| &**p)
    }
}

/// A page whose reading is doubtful.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Doubtful {
    /// The 件号 of the first record showing it.
    pub record: String,
    /// The page of that record (1-based).
    pub seq: usize,
    /// The evidence file.
    pub rel: String,
    /// Its page.
    pub page: u32,
    /// The page's confidence.
    pub confidence: f32,
}

/// What the stage did, for the build's output and report (which leaves out what depends on
/// the cache: the report is the same for the same inputs).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Pages with a text layer laid over them.
    pub pages: usize,
    /// Of them, read in this run (the rest came from the cache).
    #[serde(skip)]
    pub read: usize,
    /// Of them, taken from a correction file.
    pub corrected: usize,
    /// Pages on which nothing was read (photos without writing, blank pages).
    pub empty: usize,
    /// Pages read with a confidence under [`LOW_CONFIDENCE`], lowest first.
    pub doubtful: Vec<Doubtful>,
}

/// A printed page that needs a text layer: its file and page, and the records (件号) and
/// their pages that show it.
#[derive(Debug, Clone)]
struct Wanted {
    rel: String,
    kind: Kind,
    page: u32,
    shown: Vec<(String, usize)>,
}

/// The printed pages of the dossier without a text layer, in dossier order, each once.
fn wanted(d: &Dossier) -> Vec<Wanted> {
    let mut out: Vec<Wanted> = Vec::new();
    let mut seen: HashMap<PageKey, usize> = HashMap::new();
    for r in d.items.iter().flat_map(|i| &i.records) {
        for (seq, slots) in r.printed_pages().into_iter().enumerate() {
            for (fi, page) in slots {
                let Some(f) = r.files.get(fi) else { continue };
                let readable = matches!(f.kind, Kind::Pdf) || f.kind.is_image();
                if !readable || f.text.has(page) != Some(false) {
                    continue;
                }
                let key = (f.rel.clone(), page);
                let at = *seen.entry(key).or_insert_with(|| {
                    out.push(Wanted {
                        rel: f.rel.clone(),
                        kind: f.kind,
                        page,
                        shown: Vec::new(),
                    });
                    out.len() - 1
                });
                out[at].shown.push((r.label(), seq + 1));
            }
        }
    }
    out
}

/// The SHA-256 of evidence files, kept by fingerprint in the OCR cache folder.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Hashes {
    files: BTreeMap<String, (Fingerprint, String)>,
    /// Something was added or changed since it was read.
    #[serde(skip)]
    changed: bool,
}

impl Hashes {
    fn path(out: &Path) -> std::path::PathBuf {
        out.join(".cache").join("ocr").join("files.json")
    }

    fn read(out: &Path) -> Hashes {
        (std::fs::read(Hashes::path(out)).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// The SHA-256 of each file (relative to `root`), from the index when its fingerprint is
    /// unchanged, else read (on every core); files that cannot be read are left out.
    fn of(&mut self, root: &Path, rels: &[&str]) -> HashMap<String, String> {
        let results = crate::par::map(rels, usize::MAX, |rel| {
            let path = root.join(rel);
            let print = Fingerprint::of(&path)?;
            match self.files.get(*rel) {
                Some((known, sha)) if *known == print => Some((print, sha.clone())),
                _ => Some((print, crate::evidence::sha256_file(&path).ok()?)),
            }
        });
        let mut out = HashMap::new();
        for (rel, found) in rels.iter().zip(results) {
            if let Some(Some((print, sha))) = found {
                let entry = (print, sha.clone());
                if self.files.get(*rel) != Some(&entry) {
                    self.files.insert((*rel).to_string(), entry);
                    self.changed = true;
                }
                out.insert((*rel).to_string(), sha);
            }
        }
        out
    }

    /// Saves the index, if it changed.
    fn write(&self, out: &Path) -> anyhow::Result<()> {
        if !self.changed {
            return Ok(());
        }
        let path = Hashes::path(out);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::output::write_atomic(&path, &serde_json::to_vec(self)?)
    }
}

/// What reading some pages found.
struct Found {
    /// What was read of each page asked for, in order (`None`: not read).
    pages: Vec<Option<PageText>>,
    /// The SHA-256 of each file whose pages were asked for (files that could not be read are
    /// missing).
    shas: HashMap<String, String>,
    /// Pages read now (not from the cache).
    read: usize,
}

/// Reads the pages `wanted` (from the cache where they were read before; each page read now
/// goes into the cache). Pages that cannot be read are warnings in `diags`.
fn read_pages(
    d: &Dossier,
    out: &Path,
    wanted: &[Wanted],
    progress: &mut (dyn FnMut(usize, usize) + Send),
    diags: &mut Vec<Diagnostic>,
) -> anyhow::Result<Found> {
    let mut hashes = Hashes::read(out);
    let mut rels: Vec<&str> = wanted.iter().map(|w| w.rel.as_str()).collect();
    rels.sort_unstable();
    rels.dedup();
    let shas = hashes.of(&d.canonical_root, &rels);
    hashes.write(out)?;
    // A file that cannot be read now (it was checked moments ago) is said, not skipped.
    for w in wanted.iter().filter(|w| !shas.contains_key(&w.rel)) {
        diags.extend(unread(d, w, "文件读不出来"));
    }
    let cache = ocr::Cache::new(out);
    let mut found = Found {
        pages: (wanted.iter())
            .map(|w| shas.get(&w.rel).and_then(|sha| cache.get(sha, w.page)))
            .collect(),
        shas,
        read: 0,
    };
    let missing: Vec<usize> = (0..wanted.len())
        .filter(|&i| found.pages[i].is_none() && found.shas.contains_key(&wanted[i].rel))
        .collect();
    if missing.is_empty() {
        return Ok(found);
    }
    let engine = ocr::Engine::new().map_err(|e| anyhow::anyhow!("无法载入文字识别模型：{e}"))?;
    let total = missing.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = std::sync::Mutex::new(progress);
    if let Ok(mut p) = progress.lock() {
        p(0, total);
    }
    // One page per core at a time, each on one core: more pages a second than every core on
    // one page, and memory holds one page image per core.
    // Each page goes into the cache as soon as it is read: a run stopped half-way (Ctrl+C,
    // a crash) keeps what it read.
    let shas = &found.shas;
    let results = crate::par::map(&missing, usize::MAX, |&i| {
        let w = &wanted[i];
        let path = d.canonical_root.join(&w.rel);
        let source = if w.kind == Kind::Pdf {
            ocr::Source::PdfPage(&path, w.page)
        } else {
            ocr::Source::Image(&path)
        };
        let read = ocr::page_image(source, RENDER_DPI).and_then(|img| {
            Ok(PageText {
                width: img.width(),
                height: img.height(),
                lines: engine.recognise_alone(&img)?,
            })
        });
        let kept = match &read {
            Ok(text) => cache.put(&shas[&w.rel], w.page, text),
            Err(_) => Ok(()),
        };
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Ok(mut p) = progress.lock() {
            p(n, total);
        }
        (read, kept)
    });
    for (&i, result) in missing.iter().zip(results) {
        let w = &wanted[i];
        let (read, kept) = result.unwrap_or_else(|| (Err("识别时出错".into()), Ok(())));
        // The output folder failing is not the evidence's fault: an I/O error.
        kept?;
        match read {
            Ok(text) => {
                found.read += 1;
                found.pages[i] = Some(text);
            }
            Err(why) => diags.extend(unread(d, w, &why)),
        }
    }
    Ok(found)
}

/// Reads every printed page of the dossier that has no text layer (from the cache where it
/// was read before), applies the dossier's correction files, and says what it did. Pages
/// that cannot be read are warnings at their records (they get no text layer); unusable
/// correction files are warnings at the file. `progress` hears (pages done, pages to read)
/// while pages are read. An output folder that cannot be written is an `Err`.
pub fn prepare(
    d: &Dossier,
    out: &Path,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> anyhow::Result<(TextLayers, Summary, Vec<Diagnostic>)> {
    let wanted = wanted(d);
    let mut diags = Vec::new();
    let found = read_pages(d, out, &wanted, progress, &mut diags)?;
    let fixes = corrections::read(d, &found.shas, &mut diags);
    let pages = (found.pages.into_iter()).map(|p| p.map(PageText::without_noise));
    let (layers, mut summary) = summarise(&wanted, pages.collect(), &fixes);
    summary.read = found.read;
    Ok((layers, summary, diags))
}

/// A corrected page with the ink of each line whose box is a line that was read (the
/// correction file keeps the boxes, rounded to pixels, not the ink).
fn with_ink(mut fixed: PageText, read: Option<&PageText>) -> PageText {
    let Some(read) = read.filter(|r| (r.width, r.height) == (fixed.width, fixed.height)) else {
        return fixed;
    };
    for line in &mut fixed.lines {
        let same = |l: &&ocr::Line| {
            l.bbox
                .iter()
                .zip(line.bbox)
                .all(|(a, b)| (a.round() - b).abs() < 0.5)
        };
        line.ink = read.lines.iter().find(same).and_then(|l| l.ink);
    }
    fixed
}

/// The text layers of the pages `wanted` from what was read of them (`found`, in the same
/// order) and the corrections, and what they come to.
fn summarise(
    wanted: &[Wanted],
    found: Vec<Option<PageText>>,
    fixes: &HashMap<PageKey, PageText>,
) -> (TextLayers, Summary) {
    let mut summary = Summary::default();
    let mut layers = TextLayers::default();
    for (w, text) in wanted.iter().zip(found) {
        let (text, corrected) = match fixes.get(&(w.rel.clone(), w.page)) {
            Some(fixed) => (with_ink(fixed.clone(), text.as_ref()), true),
            None => match text {
                Some(t) => (t, false),
                None => continue,
            },
        };
        summary.pages += 1;
        summary.corrected += usize::from(corrected);
        match text.confidence() {
            None => summary.empty += 1,
            Some(c) if c < LOW_CONFIDENCE && !corrected => {
                let (record, seq) = w.shown[0].clone();
                summary.doubtful.push(Doubtful {
                    record,
                    seq,
                    rel: w.rel.clone(),
                    page: w.page,
                    confidence: c,
                });
            }
            Some(_) => {}
        }
        layers.pages.insert((w.rel.clone(), w.page), Arc::new(text));
    }
    (summary.doubtful).sort_by(|a, b| a.confidence.total_cmp(&b.confidence));
    (layers, summary)
}

/// What was read of one evidence file, for its correction file.
#[derive(Debug)]
pub struct FileText {
    /// The file's SHA-256.
    pub sha256: String,
    /// What was read of each of its printed pages without a text layer.
    pub pages: BTreeMap<u32, PageText>,
    /// Pages that could not be read.
    pub warnings: Vec<Diagnostic>,
}

/// What was read of the printed pages of the evidence file `rel` that have no text layer
/// — for a correction file (`dossier ocr`). `None` when the dossier prints no such page of it.
pub fn read_file(
    d: &Dossier,
    out: &Path,
    rel: &str,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> anyhow::Result<Option<FileText>> {
    let wanted: Vec<Wanted> = wanted(d).into_iter().filter(|w| w.rel == rel).collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut diags = Vec::new();
    let found = read_pages(d, out, &wanted, progress, &mut diags)?;
    let Some(sha) = found.shas.get(rel).cloned() else {
        anyhow::bail!("读不出 {rel}");
    };
    let pages = (wanted.iter().zip(found.pages))
        .filter_map(|(w, p)| Some((w.page, p?.without_noise())))
        .collect();
    Ok(Some(FileText {
        sha256: sha,
        pages,
        warnings: diags,
    }))
}

/// Warnings at every record showing a page that could not be read.
fn unread(d: &Dossier, w: &Wanted, why: &str) -> Vec<Diagnostic> {
    let records = d.items.iter().flat_map(|i| &i.records);
    (records.filter(|r| w.shown.iter().any(|(id, _)| *id == r.label())))
        .map(|r| {
            Diagnostic::warning(format!(
                "第 {} 件材料《{}》的文件 {} 第 {} 页无法识别文字：{why}",
                r.label(),
                r.title,
                w.rel,
                w.page
            ))
            .code("ocr-unreadable")
            .at(r.origin.clone())
            .hint("这一页照常印出，但没有文字层（搜不到、复制不出）。请用看图或 PDF 软件打开检查文件；重新扫描后再生成即可。")
        })
        .collect()
}

/// How wide a character is set in the dossier's CJK fonts, in em: Chinese characters, full-width
/// forms and the East-Asian ambiguous ones (“”、…, full width in a CJK font) 1, others ½.
fn em_width(c: char) -> f64 {
    // `width_cjk` counts the ambiguous characters as wide, as a CJK font sets them.
    match unicode_width::UnicodeWidthChar::width_cjk(c) {
        Some(2) => 1.0,
        Some(0) => 0.0,
        _ => 0.5,
    }
}

/// The size of the text laid over a line whose ink was not measured (a corrected line), as a
/// share of the line box's height: the box is the glyphs grown on every side by the
/// detector's unclip (measured on the generated test page: ink 0.54–0.70 of the box).
const SIZE_OF_BOX: f64 = 0.66;

/// The height of the ink of a line, in em: Chinese characters fill about 0.88 of their em
/// box; a line of Latin letters and digits only, about 0.72 (the digits' height).
fn ink_em(text: &str) -> f64 {
    if text.chars().any(|c| em_width(c) == 1.0) {
        0.88
    } else {
        0.72
    }
}

/// One line of the text layer, in shares of the width of the page image as it is shown:
/// left and top of the text's em box, font size, tracking, the width to set it in (room to
/// spare: it must never wrap), and the text.
pub type OverlayLine = (f64, f64, f64, f64, f64, String);

/// What the template lays over a page image: its aspect ratio (width / height) and the lines.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Overlay {
    /// Width over height of the page image.
    pub ratio: f64,
    /// The lines.
    pub lines: Vec<OverlayLine>,
}

/// The overlay of a page that was read: each line's text sized to the height of its ink
/// (or of its box), centred on it, and spaced (tracking) so it spans the ink's (the box's)
/// width. Numbers rounded to 5 decimals
/// (a hundredth of a millimetre on A4), so the Typst source stays short and stable.
pub fn overlay(text: &PageText) -> Option<Overlay> {
    if text.width == 0 || text.height == 0 {
        return None;
    }
    let w = f64::from(text.width);
    let round = |v: f64| (v * 1e5).round() / 1e5;
    let lines = (text.lines.iter())
        .filter(|l| !l.text.trim().is_empty())
        .map(|l| {
            // Set on the ink when it was measured, else on the box.
            let (size, [x0, y0, x1, y1]) = match l.ink {
                Some(ink) => {
                    let ink = ink.map(f64::from);
                    ((ink[3] - ink[1]) / ink_em(&l.text) / w, ink)
                }
                None => {
                    let b = l.bbox.map(f64::from);
                    (SIZE_OF_BOX * (b[3] - b[1]) / w, b)
                }
            };
            let chars = l.text.chars().count() as f64;
            let ems: f64 = l.text.chars().map(em_width).sum();
            let span = (x1 - x0) / w;
            let tracking = (span - size * ems) / chars;
            let top = (y0 + y1) / 2.0 / w - size / 2.0;
            (
                round(x0 / w),
                round(top),
                round(size),
                round(tracking),
                round(2.0 * span + 2.0 * size),
                l.text.clone(),
            )
        })
        .collect::<Vec<_>>();
    Some(Overlay {
        ratio: round(w / f64::from(text.height)),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_and_wide_characters_are_a_full_em() {
        for c in ['质', '〔', '“', '”', '、', '。', '（', 'Ａ'] {
            assert_eq!(em_width(c), 1.0, "{c}");
        }
        for c in ['a', '3', '(', ' '] {
            assert_eq!(em_width(c), 0.5, "{c}");
        }
    }

    fn page(conf: &[(f32, &str)]) -> PageText {
        PageText {
            width: 100,
            height: 141,
            lines: (conf.iter())
                .map(|&(confidence, text)| ocr::Line {
                    bbox: [1.0, 1.0, 50.0, 10.0],
                    text: text.into(),
                    confidence,
                    ink: None,
                })
                .collect(),
        }
    }

    #[test]
    fn doubtful_pages_are_listed_lowest_first_and_corrections_win() {
        let want = |rel: &str, page: u32, id: &str, seq: usize| Wanted {
            rel: rel.into(),
            kind: Kind::Jpeg,
            page,
            shown: vec![(id.into(), seq)],
        };
        let wanted = vec![
            want("evidence/05/a.jpg", 1, "05-01", 1),
            want("evidence/05/b.pdf", 2, "05-02", 2),
            want("evidence/05/b.pdf", 3, "05-02", 3),
            want("evidence/06/c.jpg", 1, "06-01", 1),
            want("evidence/06/d.jpg", 1, "06-02", 1),
        ];
        let found = vec![
            Some(page(&[(0.99, "县质强办"), (0.5, "〔2021〕3号")])),
            Some(page(&[(0.6, "看不清的一行字")])),
            Some(page(&[])),
            Some(page(&[(0.4, "错字")])),
            None,
        ];
        let fixes = HashMap::from([(("evidence/06/c.jpg".to_string(), 1), page(&[(1.0, "正字")]))]);
        let (layers, s) = summarise(&wanted, found, &fixes);
        assert_eq!((s.pages, s.corrected, s.empty), (4, 1, 1));
        // a.jpg: (0.99×4 + 0.5×8) / 12 = 0.663; b.pdf page 2: 0.6; c.jpg corrected: not listed.
        let listed: Vec<_> = s
            .doubtful
            .iter()
            .map(|p| (p.record.as_str(), p.seq, p.page))
            .collect();
        assert_eq!(listed, [("05-02", 2, 2), ("05-01", 1, 1)]);
        assert!((s.doubtful[1].confidence - 0.6633).abs() < 1e-3);
        assert_eq!(
            layers.get("evidence/06/c.jpg", 1).unwrap().lines[0].text,
            "正字"
        );
        assert!(
            layers.get("evidence/06/d.jpg", 1).is_none(),
            "not read: no layer"
        );
    }

    #[test]
    fn a_line_spans_its_ink_or_its_box() {
        let line = |ink| ocr::Line {
            bbox: [100.0, 200.0, 500.0, 250.0],
            text: "县质强办〔2021〕3号".into(),
            confidence: 0.9,
            ink,
        };
        let text = PageText {
            width: 1000,
            height: 1414,
            lines: vec![line(None), line(Some([110.0, 211.0, 490.0, 239.6]))],
        };
        let o = overlay(&text).unwrap();
        assert!((o.ratio - 0.70721).abs() < 1e-9, "{}", o.ratio);
        // (left, centre, size, right) of each line, in shares of the image's width.
        for (i, (left, centre, em, right)) in [
            (0.1, 0.225, 0.66 * 0.05, 0.5),
            (0.11, 0.2253, 0.0286 / 0.88, 0.49),
        ]
        .into_iter()
        .enumerate()
        {
            let (x, top, size, tracking, room, t) = &o.lines[i];
            assert_eq!((*x, t.as_str()), (left, "县质强办〔2021〕3号"), "line {i}");
            assert!((size - em).abs() < 1e-5, "line {i}: {size}");
            // Centred: the em box's middle is the ink's (the box's) middle.
            assert!((top + size / 2.0 - centre).abs() < 1e-5, "line {i}");
            // 7 full-width characters and 5 half-width: 9.5 em, plus tracking for 12.
            let width = size * 9.5 + tracking * 12.0;
            assert!((x + width - right).abs() < 1e-4, "line {i}: {width}");
            assert!(*room > width);
        }
    }

    #[test]
    fn a_corrected_line_keeps_the_ink_of_the_line_it_corrects() {
        let read = page(&[(0.6, "县质强办[2021]3号"), (0.9, "通知")]);
        let mut read = read;
        read.lines[0].bbox = [10.4, 20.0, 90.0, 30.0];
        read.lines[0].ink = Some([12.0, 22.0, 88.0, 28.0]);
        read.lines[1].ink = Some([1.0, 1.0, 2.0, 2.0]);
        let mut fixed = read.clone();
        fixed.lines[0].bbox = [10.0, 20.0, 90.0, 30.0];
        fixed.lines[0].text = "县质强办〔2021〕3号".into();
        fixed.lines.iter_mut().for_each(|l| l.ink = None);
        fixed.lines[1].bbox = [50.0, 50.0, 60.0, 60.0];
        let got = with_ink(fixed, Some(&read));
        assert_eq!(got.lines[0].ink, Some([12.0, 22.0, 88.0, 28.0]));
        assert_eq!(
            got.lines[1].ink, None,
            "a line moved or added: set on its box"
        );
    }
}
