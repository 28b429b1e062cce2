//! Normalising evidence for typesetting. Typst decodes every raster image it embeds and holds
//! it for the whole compilation (a 12 MP photo is ~48 MB decoded), and embedding pages of one
//! large PDF costs pages × file size. So before typesetting:
//!
//! - a raster image becomes a one-page PDF holding a JPEG at print resolution (150 dpi in the
//!   evidence box), with its EXIF orientation applied; Typst embeds that page and never
//!   decodes a pixel;
//! - a PDF larger than [`SPLIT_ABOVE`] is split into one-page PDFs.
//!
//! Results are cached by content hash in the output folder (`.cache/`), so a rebuild does no
//! work twice. Only what is typeset changes: the package carries the original files.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use image::{DynamicImage, GenericImageView, ImageDecoder};
use jpeg_encoder::ColorType;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};
use sha2::Digest;

use crate::evidence::{Kind, hex};
use crate::validate::Dossier;

/// Changes whenever the normalised output changes, so old cache entries are not reused (the
/// crate version is hashed in too, so a new release never reads an older release's cache).
const VERSION: &str = "n6";
/// PDFs bigger than this are split into one-page PDFs.
pub const SPLIT_ABOVE: u64 = 2 << 20;
/// The evidence box of a page, in points: 175 mm × 247 mm (see `evidence-page` in lib.typ).
const BOX_PT: (f64, f64) = (175.0 / 25.4 * 72.0, 247.0 / 25.4 * 72.0);
/// Resolution of normalised images in the evidence box.
const DPI: f64 = 150.0;
/// JPEG quality of normalised images.
const QUALITY: u8 = 85;
/// The Typst folder the cache is served under.
pub const VIRTUAL_DIR: &str = "/.normalized";
/// The Typst folder a JPEG that passes through is served under, by its path in the dossier
/// (`/.jpeg/evidence/05/扫描件.jpg`): a one-page PDF of it, made on the fly — or, when the
/// page assembler is used, a stand-in whose page the assembler writes straight from the file.
/// Nothing is copied into the cache.
pub const PASS_THROUGH_DIR: &str = "/.jpeg";

/// Where each typeset page of each evidence file comes from after normalising:
/// `(file, page)` → Typst path of a one-page PDF (page 1 of it), or of a JPEG in image mode.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// Normalised pages.
    pub pages: BTreeMap<(String, u32), String>,
    /// Files newly normalised in this run (the rest came from the cache).
    pub made: usize,
    /// Files taken from the cache.
    pub cached: usize,
    /// JPEGs that pass through (served from where they are), and how each is placed, with
    /// the file's fingerprint taken before its header was read (what the placing holds for).
    pub passed: Vec<(String, crate::paths::Fingerprint, PassThrough)>,
    /// Files that could not be normalised: path and why (the caller reports them at the records).
    pub failed: Vec<(String, String)>,
}

impl Prepared {
    /// The Typst path to use for page `page` of `rel`, if it was normalised.
    pub fn page(&self, rel: &str, page: u32) -> Option<&str> {
        self.pages.get(&(rel.to_string(), page)).map(String::as_str)
    }
}

/// What normalised images become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageForm {
    /// One-page PDFs: Typst never decodes them (the default).
    Pdf,
    /// JPEG files: for PDF/A, which may not embed PDF pages (Typst decodes these, but they are
    /// small after scaling).
    Jpeg,
}

/// The files of `d` to normalise (each once): every image, and PDFs to split; with their kind
/// and page numbers.
fn jobs_of(d: &Dossier, form: ImageForm) -> Vec<(String, Kind, Vec<u32>)> {
    let mut jobs: Vec<(String, Kind, Vec<u32>)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for item in &d.items {
        for r in &item.records {
            for f in &r.files {
                if f.package_only || f.pages.is_empty() {
                    continue;
                }
                let split = form == ImageForm::Pdf
                    && f.kind == Kind::Pdf
                    && f.size > SPLIT_ABOVE
                    && f.page_count > 1;
                let wanted = f.kind.is_image() || split;
                if wanted && seen.insert(f.rel.clone()) {
                    jobs.push((f.rel.clone(), f.kind, (1..=f.page_count).collect()));
                }
            }
        }
    }
    jobs
}

/// Normalises every typeset evidence file of the dossier into `cache` (created if missing),
/// on every core, one file per thread at a time (memory stays bounded). `progress` hears
/// (files done, files in all) as files finish.
pub fn prepare(
    d: &Dossier,
    cache: &Path,
    form: ImageForm,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> anyhow::Result<Prepared> {
    std::fs::create_dir_all(cache)
        .with_context(|| format!("无法创建缓存目录 {}", cache.display()))?;
    let jobs = jobs_of(d, form);
    let total = jobs.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = std::sync::Mutex::new(progress);
    let index = Index::read(cache, form);
    let results = crate::par::map(&jobs, 16, |(rel, kind, pages)| {
        // Taken before the file is read: a file changed meanwhile is read again next time.
        let print = crate::paths::Fingerprint::of(&d.canonical_root.join(rel));
        let result = match index.unchanged(rel, print, cache) {
            Some(known) => Ok((known.paths.clone(), false, known.passed)),
            None => prepare_file(d, rel, *kind, pages.len(), cache, form),
        };
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Ok(mut p) = progress.lock() {
            p(n, total);
        }
        (print, result)
    });
    let mut out = Prepared::default();
    let mut found = Index::new(form);
    let results: Vec<_> = (jobs.iter().zip(results))
        .map(|((rel, _, _), r)| {
            let (print, result) = match r {
                Some((print, result)) => (print, Some(result)),
                None => (None, None),
            };
            if let (Some(print), Some(Ok((paths, _, passed)))) = (print, &result) {
                let known = Indexed {
                    print,
                    paths: paths.clone(),
                    passed: *passed,
                };
                found.files.insert(rel.clone(), known);
            }
            (print, result)
        })
        .collect();
    found.write(cache)?;
    for ((rel, _, pages), (print, result)) in jobs.iter().zip(results) {
        // A decoder that panics on a strange file must not take the build down.
        let result = match result
            .unwrap_or_else(|| Err(Failure::Evidence(anyhow::anyhow!("解码时出错"))))
        {
            Ok(made) => Ok(made),
            Err(Failure::Evidence(e)) => Err(e),
            // The output folder failing is not the evidence's fault: stop with an I/O error.
            Err(Failure::Output(e)) => return Err(e),
        };
        match result {
            Ok((paths, made, passed)) => {
                if let Some(p) = passed {
                    if let Some(print) = print {
                        out.passed.push((rel.clone(), print, p));
                    }
                } else if made {
                    out.made += 1
                } else {
                    out.cached += 1
                }
                for (page, path) in pages.iter().zip(paths) {
                    out.pages.insert((rel.clone(), *page), path);
                }
            }
            Err(e) => out
                .failed
                .push((rel.clone(), format!("{e}（{}）", e.root_cause()))),
        }
    }
    out.failed.sort();
    Ok(out)
}

/// What normalising found of each file, kept beside the cache (`index.json`) so that a later
/// build does not read unchanged files again (a 5,000-page dossier: gigabytes) to find their
/// cache entries: each file's fingerprint (size, modification time) and the Typst paths of its
/// pages, or how a JPEG passes through. Only a shortcut: a missing or unreadable index, or an
/// entry whose file or cache files changed, means the file is read as before.
#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Index {
    /// This program's version, [`VERSION`] and the image form: another one's entries are
    /// not used.
    version: String,
    files: BTreeMap<String, Indexed>,
}

/// One file's entry in the [`Index`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Indexed {
    print: crate::paths::Fingerprint,
    paths: Vec<String>,
    passed: Option<PassThrough>,
}

impl Index {
    const FILE: &'static str = "index.json";

    fn new(form: ImageForm) -> Index {
        Index {
            version: format!("{} {VERSION} {form:?}", env!("CARGO_PKG_VERSION")),
            files: BTreeMap::new(),
        }
    }

    /// The index in `cache`, if it is this program's for `form`; else an empty one.
    fn read(cache: &Path, form: ImageForm) -> Index {
        let empty = Index::new(form);
        std::fs::read(cache.join(Self::FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<Index>(&b).ok())
            .filter(|i| i.version == empty.version)
            .unwrap_or(empty)
    }

    /// The entry of `rel` if the file is as it was (same fingerprint) and its cache files are
    /// still there.
    fn unchanged(
        &self,
        rel: &str,
        print: Option<crate::paths::Fingerprint>,
        cache: &Path,
    ) -> Option<&Indexed> {
        let known = self.files.get(rel)?;
        let in_cache = |p: &String| {
            p.strip_prefix(VIRTUAL_DIR)
                .is_some_and(|n| cache.join(n.trim_start_matches('/')).is_file())
        };
        let complete = known.passed.is_some() || known.paths.iter().all(in_cache);
        (print? == known.print && complete).then_some(known)
    }

    /// Writes this index to `cache` (unless the file already holds it).
    fn write(&self, cache: &Path) -> anyhow::Result<()> {
        crate::output::write_if_changed(&cache.join(Self::FILE), &serde_json::to_vec(self)?)
    }
}

/// Normalises the file `rel` of the dossier; returns the Typst paths of its pages (in page
/// order) and whether anything had to be made. A JPEG that passes through (see [`image_page`])
/// is neither read whole (its header decides), hashed nor copied: it is served from where it is.
fn prepare_file(
    d: &Dossier,
    rel: &str,
    kind: Kind,
    pages: usize,
    cache: &Path,
    form: ImageForm,
) -> Result<(Vec<String>, bool, Option<PassThrough>), Failure> {
    let path = d.canonical_root.join(rel);
    if kind == Kind::Jpeg
        && form == ImageForm::Pdf
        && let Some(p) = pass_through_file(&path).map_err(Failure::Evidence)?
    {
        return Ok((vec![format!("{PASS_THROUGH_DIR}/{rel}")], false, Some(p)));
    }
    let data = std::fs::read(&path)
        .with_context(|| format!("无法读取 {}", path.display()))
        .map_err(Failure::Evidence)?;
    let mut h = sha2::Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(VERSION.as_bytes());
    h.update(&data);
    let key = hex(&h.finalize());
    let names: Vec<String> = match (kind, form) {
        (Kind::Pdf, _) => (1..=pages).map(|p| format!("{key}-{p}.pdf")).collect(),
        (_, ImageForm::Pdf) => vec![format!("{key}.pdf")],
        (_, ImageForm::Jpeg) => vec![format!("{key}.jpg")],
    };
    let paths = names.iter().map(|n| format!("{VIRTUAL_DIR}/{n}")).collect();
    if names.iter().all(|n| cache.join(n).is_file()) {
        return Ok((paths, false, None));
    }
    let outputs = match (kind, form) {
        (Kind::Pdf, _) => split_pdf(data),
        (_, ImageForm::Pdf) => image_page(&data).map(|p| vec![p]),
        (_, ImageForm::Jpeg) => scaled_jpeg(&data).map(|j| vec![j.0]),
    }
    .map_err(Failure::Evidence)?;
    if outputs.len() != names.len() {
        return Err(Failure::Evidence(anyhow::anyhow!(
            "拆分后有 {} 页，应为 {} 页",
            outputs.len(),
            names.len()
        )));
    }
    for (name, bytes) in names.iter().zip(outputs) {
        crate::output::write_atomic(&cache.join(name), &bytes)
            .with_context(|| format!("无法写入规范化缓存 {}", cache.display()))
            .map_err(Failure::Output)?;
    }
    Ok((paths, true, None))
}

/// Why a file could not be normalised: the evidence (reported at its records), or the output
/// folder (an I/O error that stops the build).
enum Failure {
    Evidence(anyhow::Error),
    Output(anyhow::Error),
}

/// A raster image as a one-page PDF, the page the image's size at 150 dpi in the evidence box
/// (never larger than the box). A JPEG that a PDF reader decodes as it is, and that is not far
/// above print resolution (at most [`PASS_THROUGH_MAX_DPI`] in the box), goes in unchanged,
/// its EXIF orientation applied by the page's matrix: nothing is decoded, and the scan prints
/// as scanned. Anything else is decoded, turned, scaled down to 150 dpi and JPEG-encoded.
pub fn image_page(data: &[u8]) -> anyhow::Result<Vec<u8>> {
    if let Some(page) = passed_through(data)? {
        return Ok(page);
    }
    let (jpeg, (w, h), gray) = scaled_jpeg(data)?;
    // Page size in points: the pixels at DPI (so images smaller than the box stay small).
    let size = (f64::from(w) / DPI * 72.0, f64::from(h) / DPI * 72.0);
    let page = Jpeg {
        data: &jpeg,
        width: w,
        height: h,
        gray,
        orientation: 1,
    };
    Ok(jpeg_pdf(&[page], size))
}

/// Resolution in the evidence box above which a JPEG is decoded and scaled down instead of
/// embedded as it is. An A4 page scanned at 300 dpi is 360 dpi in the 175 mm box and passes;
/// 600-dpi scans and phone photos of 8 MP and more (≥ 470 dpi across the box) are reduced.
pub const PASS_THROUGH_MAX_DPI: f64 = 400.0;

/// The one-page PDF of a JPEG embedded unchanged, when it can be (see [`image_page`]).
fn passed_through(data: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
    Ok(pass_through(data)?.map(|p| jpeg_pdf(&[p.jpeg(data)], p.size)))
}

/// A JPEG embedded unchanged: its page size and how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PassThrough {
    /// The page (and evidence) size in points.
    pub size: (f64, f64),
    /// Width in pixels, as stored.
    pub width: u32,
    /// Height in pixels, as stored.
    pub height: u32,
    /// One channel (DeviceGray) rather than three.
    pub gray: bool,
    /// EXIF orientation (1–8), applied by the matrix.
    pub orientation: u8,
}

impl PassThrough {
    /// The JPEG `data` (whose header this is) ready to embed.
    pub fn jpeg<'a>(&self, data: &'a [u8]) -> Jpeg<'a> {
        Jpeg {
            data,
            width: self.width,
            height: self.height,
            gray: self.gray,
            orientation: self.orientation,
        }
    }
}

/// How the JPEG `data` is embedded unchanged, or `None` when it is not a JPEG a PDF reader
/// decodes as it is, or is far above print resolution (more than [`PASS_THROUGH_MAX_DPI`] in
/// the evidence box). An unreadable JPEG is an error.
pub fn pass_through(data: &[u8]) -> anyhow::Result<Option<PassThrough>> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Ok(None);
    }
    let h = crate::raster::examine(crate::raster::Format::Jpeg, data)
        .map_err(|d| anyhow::anyhow!("{d}"))?;
    Ok(placed(&h))
}

/// [`pass_through`] of the file at `path`, reading only what decides it (see
/// [`crate::raster::examine_jpeg_file`]).
pub fn pass_through_file(path: &Path) -> anyhow::Result<Option<PassThrough>> {
    let read = || format!("无法读取 {}", path.display());
    let mut file = std::fs::File::open(path).with_context(read)?;
    let size = file.metadata().with_context(read)?.len();
    let mut magic = [0u8; 2];
    if size < 2
        || std::io::Read::read_exact(&mut file, &mut magic).is_err()
        || magic != [0xFF, 0xD8]
    {
        return Ok(None);
    }
    let h = crate::raster::examine_jpeg_file(&mut file, size)
        .with_context(read)?
        .map_err(|d| anyhow::anyhow!("{d}"))?;
    Ok(placed(&h))
}

/// How a JPEG with header `h` is embedded unchanged, if it can be.
fn placed(h: &crate::raster::Header) -> Option<PassThrough> {
    if !h.pdf_compatible_jpeg() {
        return None;
    }
    let (dw, dh) = h.shown_size();
    let (max_w, max_h) = max_px();
    let scale = (max_w / f64::from(dw)).min(max_h / f64::from(dh)).min(1.0);
    if DPI / scale > PASS_THROUGH_MAX_DPI {
        return None;
    }
    Some(PassThrough {
        size: (
            f64::from(dw) * scale / DPI * 72.0,
            f64::from(dh) * scale / DPI * 72.0,
        ),
        width: h.width,
        height: h.height,
        gray: h.components == 1,
        orientation: h.orientation,
    })
}

/// The matrix that draws an image stored as it is (the unit square) on a `pw` × `ph` page
/// turned as EXIF `orientation` says (1–8; anything else is 1).
pub fn orientation_matrix(orientation: u8, pw: f32, ph: f32) -> [f32; 6] {
    match orientation {
        2 => [-pw, 0.0, 0.0, ph, pw, 0.0],
        3 => [-pw, 0.0, 0.0, -ph, pw, ph],
        4 => [pw, 0.0, 0.0, -ph, 0.0, ph],
        5 => [0.0, -ph, -pw, 0.0, pw, ph],
        6 => [0.0, -ph, pw, 0.0, 0.0, ph],
        7 => [0.0, ph, pw, 0.0, 0.0, 0.0],
        8 => [0.0, ph, -pw, 0.0, pw, 0.0],
        _ => [pw, 0.0, 0.0, ph, 0.0, 0.0],
    }
}

/// A raster image as a JPEG at 150 dpi in the evidence box (never scaled up), orientation
/// applied: the bytes, the pixel size, and whether it is grey.
pub fn scaled_jpeg(data: &[u8]) -> anyhow::Result<(Vec<u8>, (u32, u32), bool)> {
    let mut reader = image::ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .context("无法识别图片格式")?;
    let format = match reader.format() {
        Some(image::ImageFormat::Jpeg) => crate::raster::Format::Jpeg,
        Some(image::ImageFormat::Png) => crate::raster::Format::Png,
        Some(image::ImageFormat::Gif) => crate::raster::Format::Gif,
        Some(image::ImageFormat::WebP) => crate::raster::Format::Webp,
        _ => bail!("不是 JPEG、PNG、GIF 或 WebP 图片"),
    };
    // The size comes from the header, before anything is decoded: an image over the budget
    // is refused here, not by an allocation failure that would abort the process.
    crate::raster::examine(format, data).map_err(|d| anyhow::anyhow!("{d}"))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(crate::raster::MAX_PIXELS * 8 + (64 << 20));
    reader.limits(limits);
    let jpeg = format == crate::raster::Format::Jpeg;
    let mut decoder = reader.into_decoder().context("无法读取图片")?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let img = if jpeg {
        // JPEG: decode at 1/2, 1/4 or 1/8 of the size in the IDCT when that is still at least
        // nearly the print size: several times faster than decoding every pixel of a 12 MP
        // photo.
        decode_jpeg_scaled(data, jpeg_decode_size(decoder.dimensions(), orientation))?
    } else {
        DynamicImage::from_decoder(decoder).context("图片无法解码")?
    };
    // Scaled down as stored, then turned: turning the smaller image is cheaper.
    let turned = (5..=8).contains(&exif_number(orientation));
    let (w, h) = img.dimensions();
    let (max_w, max_h) = if turned {
        (max_px().1, max_px().0)
    } else {
        max_px()
    };
    let scale = (max_w / f64::from(w)).min(max_h / f64::from(h)).min(1.0);
    let (tw, th) = (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    );
    let mut img = if scale < 1.0 {
        shrink(img, (tw, th))
    } else {
        img
    };
    img.apply_orientation(orientation);
    let (tw, th) = img.dimensions();
    let gray = matches!(
        img.color(),
        image::ColorType::L8
            | image::ColorType::L16
            | image::ColorType::La8
            | image::ColorType::La16
    );
    let jpeg = encode_on_white(&img, gray)?;
    Ok((jpeg, (tw, th), gray))
}

/// The size to decode a JPEG of `(sw, sh)` pixels at: just enough for the evidence box at
/// [`DPI`] once turned by `orientation`.
fn jpeg_decode_size((sw, sh): (u32, u32), orientation: image::metadata::Orientation) -> (u16, u16) {
    use image::metadata::Orientation::{Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH};
    let turned = matches!(
        orientation,
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH
    );
    let (bw, bh) = if turned {
        (max_px().1, max_px().0)
    } else {
        max_px()
    };
    // Down to 90% of the print size (135 dpi) is close enough: a 12 MP photo decodes at 1/4
    // (1000 × 750) instead of 1/2, and needs no scaling after.
    let scale = (bw / f64::from(sw)).min(bh / f64::from(sh)).min(1.0) * DECODE_SLACK;
    (
        (f64::from(sw) * scale).ceil() as u16,
        (f64::from(sh) * scale).ceil() as u16,
    )
}

/// Shrinks an image to `(tw, th)` by area averaging: each pixel the mean of the area of the
/// original it covers. As sharp as a triangle filter when shrinking, and several times faster:
/// 8-bit grey and RGB images (every JPEG) go through [`shrink_u8`]; others through the image
/// crate's own area averaging.
fn shrink(img: DynamicImage, (tw, th): (u32, u32)) -> DynamicImage {
    let (w, h) = img.dimensions();
    match img {
        DynamicImage::ImageLuma8(g) => {
            image::GrayImage::from_raw(tw, th, shrink_u8::<1>(g.as_raw(), (w, h), (tw, th)))
                .map_or_else(
                    || DynamicImage::ImageLuma8(g).thumbnail_exact(tw, th),
                    DynamicImage::ImageLuma8,
                )
        }
        DynamicImage::ImageRgb8(rgb) => {
            image::RgbImage::from_raw(tw, th, shrink_u8::<3>(rgb.as_raw(), (w, h), (tw, th)))
                .map_or_else(
                    || DynamicImage::ImageRgb8(rgb).thumbnail_exact(tw, th),
                    DynamicImage::ImageRgb8,
                )
        }
        other => other.thumbnail_exact(tw, th),
    }
}

/// For each target position along a side of `from` pixels shrunk to `to`: the source pixels
/// it covers and their weights (16.16 fixed point, summing to exactly 1).
fn area_weights(from: u32, to: u32) -> Vec<Vec<(usize, u32)>> {
    let (from, to) = (u64::from(from), u64::from(to.max(1)));
    (0..to)
        .map(|i| {
            // In units of 1/to source pixels: target i covers [i·from, (i+1)·from).
            let (start, end) = (i * from, (i + 1) * from);
            let mut cells: Vec<(usize, u32)> = (start / to..end.div_ceil(to).min(from))
                .map(|j| {
                    let overlap = end.min((j + 1) * to) - start.max(j * to);
                    (j as usize, (overlap * 65536 / from) as u32)
                })
                .filter(|&(_, w)| w > 0)
                .collect();
            // Rounding: the largest weight takes what is missing, so the sum is exactly 1.
            let sum: u32 = cells.iter().map(|c| c.1).sum();
            if let Some(big) = cells.iter_mut().max_by_key(|c| c.1) {
                big.1 = big.1 + 65536 - sum;
            }
            cells
        })
        .collect()
}

/// Area-average shrinking of interleaved 8-bit pixels (`C` channels per pixel), separable:
/// rows first into 8.8 fixed point, then columns. Integer arithmetic: the same bytes on every
/// machine. The channel count is a constant so that each pixel's channels are summed together
/// over the pixels it covers (measured: 12 → 9 ms for a 2000 × 1500 photo to 1378 × 1033).
fn shrink_u8<const C: usize>(src: &[u8], (w, h): (u32, u32), (tw, th): (u32, u32)) -> Vec<u8> {
    let across = area_weights(w, tw);
    let down = area_weights(h, th);
    let (row, trow) = (w as usize * C, tw as usize * C);
    // Rows: h × tw, each value × 256.
    let mut mid = vec![0u16; h as usize * trow];
    for (line, out) in src.chunks_exact(row).zip(mid.chunks_exact_mut(trow)) {
        for (cells, o) in across.iter().zip(out.chunks_exact_mut(C)) {
            let mut acc = [0u32; C];
            for &(j, wt) in cells {
                for (a, &v) in acc.iter_mut().zip(&line[j * C..j * C + C]) {
                    *a += wt * u32::from(v);
                }
            }
            for (o, a) in o.iter_mut().zip(acc) {
                *o = ((a + 128) >> 8) as u16;
            }
        }
    }
    // Columns: th × tw.
    let mut out = vec![0u8; th as usize * trow];
    let mut acc = vec![0u32; trow];
    for (y, cells) in down.iter().enumerate() {
        acc.iter_mut().for_each(|a| *a = 0);
        for &(j, wt) in cells {
            for (a, &m) in acc.iter_mut().zip(&mid[j * trow..(j + 1) * trow]) {
                *a += wt * u32::from(m);
            }
        }
        for (o, &a) in out[y * trow..(y + 1) * trow].iter_mut().zip(&acc) {
            *o = ((a + (1 << 23)) >> 24).min(255) as u8;
        }
    }
    out
}

/// How far below the print size a JPEG may be decoded (see [`jpeg_decode_size`]).
const DECODE_SLACK: f64 = 0.9;

/// The EXIF number (1–8) of an orientation.
fn exif_number(o: image::metadata::Orientation) -> u8 {
    o.to_exif()
}

/// Encodes an image as a JPEG (grey or RGB), transparent parts printed as white paper.
fn encode_on_white(img: &DynamicImage, gray: bool) -> anyhow::Result<Vec<u8>> {
    let (w, h) = img.dimensions();
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        bail!("图片太大（{w} × {h}）");
    };
    // Transparent parts become white paper; an image without transparency is used as it is.
    let (pixels, colour) = match img {
        DynamicImage::ImageLuma8(g) if gray => {
            (std::borrow::Cow::Borrowed(g.as_raw()), ColorType::Luma)
        }
        DynamicImage::ImageRgb8(rgb) if !gray => {
            (std::borrow::Cow::Borrowed(rgb.as_raw()), ColorType::Rgb)
        }
        _ if gray => {
            let luma: Vec<u8> = (img.to_luma_alpha8().pixels())
                .map(|p| {
                    let a = u16::from(p.0[1]);
                    ((u16::from(p.0[0]) * a + 255 * (255 - a)) / 255) as u8
                })
                .collect();
            (std::borrow::Cow::Owned(luma), ColorType::Luma)
        }
        _ => {
            let rgb: Vec<u8> = (img.to_rgba8().pixels())
                .flat_map(|p| {
                    let a = u16::from(p.0[3]);
                    [0, 1, 2].map(|c| ((u16::from(p.0[c]) * a + 255 * (255 - a)) / 255) as u8)
                })
                .collect();
            (std::borrow::Cow::Owned(rgb), ColorType::Rgb)
        }
    };
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, QUALITY)
        .encode(&pixels, w16, h16, colour)
        .context("图片无法压缩")?;
    Ok(jpeg)
}

/// The largest image, in pixels, that fits the evidence box at [`DPI`].
fn max_px() -> (f64, f64) {
    (BOX_PT.0 / 72.0 * DPI, BOX_PT.1 / 72.0 * DPI)
}

/// Decodes a JPEG at the smallest IDCT scale (1, 1/2, 1/4, 1/8) that is at least `want`.
fn decode_jpeg_scaled(data: &[u8], want: (u16, u16)) -> anyhow::Result<DynamicImage> {
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(data));
    let (mut w, mut h) = d
        .scale(want.0.max(1), want.1.max(1))
        .context("图片无法解码")?;
    if w < want.0 || h < want.1 {
        // The decoder chooses the scale by one side; a very thin image would come out too
        // small in the other: decode it whole.
        (w, h) = d.scale(u16::MAX, u16::MAX).context("图片无法解码")?;
    }
    let pixels = d.decode().context("图片无法解码")?;
    let info = d.info().context("图片无法解码")?;
    let (w, h) = (u32::from(w), u32::from(h));
    let img = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        jpeg_decoder::PixelFormat::L16 => {
            let px: Vec<u16> = pixels
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            image::ImageBuffer::from_raw(w, h, px).map(DynamicImage::ImageLuma16)
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            // The decoder undoes the inversion Adobe's CMYK and YCCK JPEGs store (as Photoshop,
            // PIL and every viewer assume, with or without the Adobe marker): these are ink
            // amounts, 0 = none. Naive conversion to RGB is what viewers show for untagged CMYK.
            let rgb: Vec<u8> = pixels
                .chunks_exact(4)
                .flat_map(|c| {
                    let paper = 255 - u16::from(c[3]);
                    [0, 1, 2].map(|i| ((255 - u16::from(c[i])) * paper / 255) as u8)
                })
                .collect();
            image::RgbImage::from_raw(w, h, rgb).map(DynamicImage::ImageRgb8)
        }
    };
    img.context("图片尺寸与数据不符")
}

/// A JPEG as it is stored: its bytes, pixel size and whether it is grayscale.
#[derive(Debug, Clone, Copy)]
pub struct Jpeg<'a> {
    /// The JPEG file's bytes, embedded unchanged (DCTDecode).
    pub data: &'a [u8],
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// One channel (DeviceGray) rather than three (DeviceRGB).
    pub gray: bool,
    /// The EXIF orientation to show it in (1 = as stored), applied by the page's matrix.
    pub orientation: u8,
}

/// A PDF with one page per JPEG, each image over the whole `page_pt` page (points).
pub fn jpeg_pdf(jpegs: &[Jpeg<'_>], page_pt: (f64, f64)) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = Ref::new(1);
    let catalog = next.bump();
    let tree = next.bump();
    let ids: Vec<(Ref, Ref, Ref)> = jpegs
        .iter()
        .map(|_| (next.bump(), next.bump(), next.bump()))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|i| i.0))
        .count(ids.len() as i32);
    let (pw, ph) = (page_pt.0 as f32, page_pt.1 as f32);
    for (&(page, content, image), jpeg) in ids.iter().zip(jpegs) {
        let mut p = pdf.page(page);
        p.parent(tree)
            .media_box(Rect::new(0.0, 0.0, pw, ph))
            .contents(content);
        p.resources().x_objects().pair(Name(b"Im0"), image);
        p.finish();
        pdf.stream(content, &jpeg_content(jpeg.orientation, pw, ph));
        write_jpeg_image(&mut pdf, image, jpeg);
    }
    pdf.finish()
}

/// The content that draws image `/Im0` over a `pw` × `ph` page, turned by `orientation`.
pub fn jpeg_content(orientation: u8, pw: f32, ph: f32) -> Vec<u8> {
    let mut c = Content::new();
    c.save_state();
    c.transform(orientation_matrix(orientation, pw, ph));
    c.x_object(Name(b"Im0"));
    c.restore_state();
    c.finish().into_vec()
}

/// Writes `jpeg` as image XObject `id`, its bytes unchanged (DCTDecode).
pub fn write_jpeg_image(chunk: &mut pdf_writer::Chunk, id: Ref, jpeg: &Jpeg<'_>) {
    let mut x = chunk.image_xobject(id, jpeg.data);
    x.filter(Filter::DctDecode);
    x.width(jpeg.width as i32)
        .height(jpeg.height as i32)
        .bits_per_component(8);
    if jpeg.gray {
        x.color_space().device_gray();
    } else {
        x.color_space().device_rgb();
    }
    x.finish();
}

/// Splits a PDF into one-page PDFs (the same parser and writer Typst uses to embed pages).
pub fn split_pdf(data: Vec<u8>) -> anyhow::Result<Vec<Vec<u8>>> {
    use hayro_write::hayro_syntax::Pdf as Source;
    let source =
        Source::new(std::sync::Arc::new(data)).map_err(|_| anyhow::anyhow!("PDF 无法读取"))?;
    let count = source.pages().len();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut pdf = Pdf::new();
        let mut next = Ref::new(1);
        let catalog = next.bump();
        let extracted = hayro_write::extract(
            &source,
            Box::new(|| next.bump()),
            hayro_write::ChunkSettings::default(),
            |_| {},
            &[hayro_write::ExtractionQuery::new_page(i)],
        )
        .map_err(|e| anyhow::anyhow!("第 {} 页无法提取：{e:?}", i + 1))?;
        let Some(Ok(root)) = extracted.root_refs.first().copied() else {
            bail!("第 {} 页无法提取", i + 1);
        };
        pdf.catalog(catalog).pages(extracted.page_tree_parent_ref);
        pdf.pages(extracted.page_tree_parent_ref)
            .kids([root])
            .count(1);
        pdf.extend(&extracted.chunk);
        out.push(pdf.finish());
    }
    Ok(out)
}

/// The cache folder of an output folder.
pub fn cache_dir(out: &Path) -> PathBuf {
    out.join(".cache").join("normalized")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use image::ImageEncoder;

    #[test]
    fn the_index_vouches_only_for_unchanged_files_with_their_cache_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path();
        let file = cache.join("photo.jpg");
        std::fs::write(&file, b"one").unwrap();
        std::fs::write(cache.join("abc.pdf"), b"%PDF").unwrap();
        let print = crate::paths::Fingerprint::of(&file);
        let mut index = Index::new(ImageForm::Pdf);
        let entry = Indexed {
            print: print.unwrap(),
            paths: vec![format!("{VIRTUAL_DIR}/abc.pdf")],
            passed: None,
        };
        index.files.insert("evidence/photo.jpg".into(), entry);
        index.write(cache).unwrap();
        let read = Index::read(cache, ImageForm::Pdf);
        assert_eq!(read, index);
        assert!(read.unchanged("evidence/photo.jpg", print, cache).is_some());
        // Another form (PDF/A) or another file, a changed file, a lost cache file: not vouched.
        assert!(Index::read(cache, ImageForm::Jpeg).files.is_empty());
        assert!(read.unchanged("evidence/other.jpg", print, cache).is_none());
        std::fs::write(&file, b"three").unwrap();
        assert!(
            read.unchanged(
                "evidence/photo.jpg",
                crate::paths::Fingerprint::of(&file),
                cache
            )
            .is_none()
        );
        std::fs::remove_file(cache.join("abc.pdf")).unwrap();
        assert!(read.unchanged("evidence/photo.jpg", print, cache).is_none());
    }

    #[test]
    fn area_weights_cover_each_target_exactly_once() {
        for (from, to) in [(2000, 1377), (4000, 1033), (3, 2), (1001, 1000), (7, 1)] {
            let weights = area_weights(from, to);
            assert_eq!(weights.len(), to as usize);
            for cells in &weights {
                assert_eq!(cells.iter().map(|c| c.1).sum::<u32>(), 65536, "{from}→{to}");
            }
            // Every source pixel is used, with its whole area over all targets.
            let mut used = vec![0u64; from as usize];
            for (j, w) in weights.iter().flatten() {
                used[*j] += u64::from(*w);
            }
            let each = 65536 * u64::from(to) / u64::from(from);
            assert!(
                used.iter().all(|&u| u.abs_diff(each) <= u64::from(to) + 2),
                "{from}→{to}: {used:?}"
            );
        }
    }

    #[test]
    fn shrinking_averages_areas_exactly() {
        // Stripes average to grey; a noisy picture matches a direct computation of each target
        // pixel's area mean (in floating point) to within rounding.
        let stripes: Vec<u8> = (0..8 * 4)
            .map(|i| if i % 2 == 0 { 0 } else { 255 })
            .collect();
        let out = shrink_u8::<1>(&stripes, (8, 4), (4, 2));
        assert!(out.iter().all(|&v| (127..=128).contains(&v)), "{out:?}");
        let (w, h, tw, th) = (61u32, 47u32, 23u32, 17u32);
        let pic = crate::raster::tests::noise((w * h * 3) as usize, 7);
        let ours = shrink_u8::<3>(&pic, (w, h), (tw, th));
        let overlap = |i: u32, to: u32, j: u32, from: u32| {
            let (a, b) = (
                f64::from(i) * f64::from(from) / f64::from(to),
                f64::from(i + 1) * f64::from(from) / f64::from(to),
            );
            (b.min(f64::from(j + 1)) - a.max(f64::from(j))).max(0.0)
        };
        let mut worst = 0.0f64;
        for ty in 0..th {
            for tx in 0..tw {
                for c in 0..3 {
                    let mut sum = 0.0;
                    for y in 0..h {
                        for x in 0..w {
                            let a = overlap(tx, tw, x, w) * overlap(ty, th, y, h);
                            sum += a * f64::from(pic[((y * w + x) * 3 + c) as usize]);
                        }
                    }
                    let want = sum / (f64::from(w) / f64::from(tw) * f64::from(h) / f64::from(th));
                    let got = f64::from(ours[((ty * tw + tx) * 3 + c) as usize]);
                    worst = worst.max((want - got).abs());
                }
            }
        }
        assert!(worst <= 1.0, "differs by up to {worst:.2}");
    }

    /// A JPEG of `w`×`h` pixels, left half red, with an EXIF orientation tag.
    fn jpeg(w: u32, h: u32, orientation: u16) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, _| {
            if x < w / 2 {
                image::Rgb([220, 0, 0])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        jpeg_with_exif(&img, orientation)
    }

    /// `img` as a JPEG (quality 90) with an EXIF orientation tag.
    pub(crate) fn jpeg_with_exif(img: &image::RgbImage, orientation: u16) -> Vec<u8> {
        let mut exif = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
        exif.extend_from_slice(&orientation.to_le_bytes());
        exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let mut out = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        enc.set_exif_metadata(exif).unwrap();
        let (w, h) = img.dimensions();
        enc.write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    /// Page size (pt) and the embedded JPEG's pixel size of a normalised page.
    fn inspect(pdf: &[u8]) -> ((f32, f32), (u32, u32), image::RgbImage) {
        let doc = hayro_write::hayro_syntax::Pdf::new(pdf.to_vec()).unwrap();
        let page = &doc.pages()[0];
        let r = page.media_box();
        let start = pdf
            .windows(3)
            .position(|w| w == [0xFF, 0xD8, 0xFF])
            .unwrap();
        let end = pdf.windows(2).rposition(|w| w == [0xFF, 0xD9]).unwrap() + 2;
        let img = image::load_from_memory(&pdf[start..end]).unwrap().to_rgb8();
        (
            ((r.x1 - r.x0) as f32, (r.y1 - r.y0) as f32),
            img.dimensions(),
            img,
        )
    }

    /// A JPEG of `w`×`h` pixels in four coloured quadrants (so every turn and flip shows),
    /// with an EXIF orientation tag.
    fn quadrants(w: u32, h: u32, orientation: u16) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| match (x < w / 2, y < h / 2) {
            (true, true) => image::Rgb([220, 30, 30]),
            (false, true) => image::Rgb([30, 160, 30]),
            (true, false) => image::Rgb([30, 30, 220]),
            (false, false) => image::Rgb([240, 220, 40]),
        });
        jpeg_with_exif(&img, orientation)
    }

    /// A one-page PDF rendered as a PDF viewer shows it (hayro, the renderer Typst uses), one
    /// pixel per point.
    fn render(pdf: &[u8]) -> image::RgbImage {
        use hayro::vello_cpu::color::palette::css::WHITE;
        let doc = hayro::hayro_syntax::Pdf::new(std::sync::Arc::new(pdf.to_vec())).unwrap();
        let cache = hayro::RenderCache::new();
        let settings = hayro::RenderSettings {
            bg_color: WHITE,
            ..Default::default()
        };
        let pix = hayro::render(&doc.pages()[0], &cache, &Default::default(), &settings);
        let (w, h) = (u32::from(pix.width()), u32::from(pix.height()));
        let rgb: Vec<u8> = (pix.data_as_u8_slice().chunks_exact(4))
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        image::RgbImage::from_raw(w, h, rgb).unwrap()
    }

    /// Mean colour of each quadrant.
    fn quadrant_means(img: &image::RgbImage) -> Vec<[f64; 3]> {
        let (w, h) = img.dimensions();
        let mut out = Vec::new();
        for (x0, y0) in [(0, 0), (w / 2, 0), (0, h / 2), (w / 2, h / 2)] {
            let mut sum = [0.0; 3];
            let mut n = 0.0;
            // The middle of each quadrant, away from the edges JPEG blurs.
            for y in y0 + h / 8..y0 + h * 3 / 8 {
                for x in x0 + w / 8..x0 + w * 3 / 8 {
                    let p = img.get_pixel(x, y).0;
                    for c in 0..3 {
                        sum[c] += f64::from(p[c]);
                    }
                    n += 1.0;
                }
            }
            out.push(sum.map(|v| v / n));
        }
        out
    }

    fn max_difference(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
        a.iter()
            .zip(b)
            .flat_map(|(x, y)| (0..3).map(move |c| (x[c] - y[c]).abs()))
            .fold(0.0, f64::max)
    }

    #[test]
    fn a_passed_through_jpeg_renders_like_the_decoded_one_in_all_eight_orientations() {
        for orientation in 1..=8u16 {
            // 900×600: under the pass-through limit, so embedded unchanged.
            let data = quadrants(900, 600, orientation);
            let passed = image_page(&data).unwrap();
            assert!(
                passed.windows(data.len()).any(|w| w == data.as_slice()),
                "orientation {orientation}: the JPEG is embedded as it is"
            );
            let (jpeg, (w, h), gray) = scaled_jpeg(&data).unwrap();
            let size = (f64::from(w) / DPI * 72.0, f64::from(h) / DPI * 72.0);
            let decoded = jpeg_pdf(
                &[Jpeg {
                    data: &jpeg,
                    width: w,
                    height: h,
                    gray,
                    orientation: 1,
                }],
                size,
            );
            let (a, b) = (render(&passed), render(&decoded));
            assert_eq!(a.dimensions(), b.dimensions(), "orientation {orientation}");
            let mut want = image::load_from_memory(&data).unwrap();
            want.apply_orientation(
                image::metadata::Orientation::from_exif(orientation as u8).unwrap(),
            );
            let want = want.to_rgb8();
            let (qa, qb, qw) = (
                quadrant_means(&a),
                quadrant_means(&b),
                quadrant_means(&want),
            );
            assert!(
                max_difference(&qa, &qb) < 12.0,
                "orientation {orientation}: {qa:?} vs {qb:?}"
            );
            assert!(
                max_difference(&qa, &qw) < 12.0,
                "orientation {orientation}: {qa:?} vs {qw:?}"
            );
        }
    }

    #[test]
    fn only_jpegs_far_above_print_resolution_are_decoded() {
        let contains = |pdf: &[u8], data: &[u8]| pdf.windows(data.len()).any(|w| w == data);
        // An A4 page scanned at 300 dpi: 360 dpi in the box, passed through.
        let scan = jpeg(2480, 3508, 1);
        assert!(contains(&image_page(&scan).unwrap(), &scan));
        // A 12 MP photo: ~580 dpi across the box, reduced.
        let photo = jpeg(4000, 3000, 1);
        let page = image_page(&photo).unwrap();
        assert!(!contains(&page, &photo) && page.len() < photo.len());
    }

    #[test]
    fn a_normalised_photo_keeps_its_orientation_and_aspect_ratio() {
        // Stored 4000×3000 with orientation 6: it shows upright as 3000×4000 (portrait).
        let pdf = image_page(&jpeg(4000, 3000, 6)).unwrap();
        let ((pw, ph), (w, h), img) = inspect(&pdf);
        assert!(h > w, "portrait after orientation: {w}×{h}");
        let aspect = f64::from(h) / f64::from(w);
        assert!((aspect - 4000.0 / 3000.0).abs() < 0.01, "aspect {aspect}");
        assert!(
            ((ph / pw) as f64 - aspect).abs() < 0.01,
            "page matches the image"
        );
        // Scaled to fit the 175 × 247 mm box at 150 dpi (1033 × 1459 px): here the width binds.
        assert!(w <= 1034 && h <= 1459 && w >= 1030, "{w}×{h}");
        // Orientation 6 turns the stored left (red) half to the top.
        assert!(img.get_pixel(w / 2, h / 8).0[1] < 100, "top is red");
        assert!(
            img.get_pixel(w / 2, h * 7 / 8).0[1] > 200,
            "bottom is white"
        );
    }

    #[test]
    fn thin_images_keep_their_shape() {
        // Found by the property test: 1 × 3 pixels came out 1 × 1.
        for (w, h) in [(1, 3), (3, 1), (2, 17), (40, 1)] {
            let pdf = image_page(&jpeg(w, h, 1)).unwrap();
            let (_, size, _) = inspect(&pdf);
            assert_eq!(size, (w, h));
        }
    }

    #[test]
    fn small_images_are_not_scaled_up_and_grey_scans_stay_grey() {
        let pdf = image_page(&jpeg(300, 200, 1)).unwrap();
        let ((pw, _), (w, h), _) = inspect(&pdf);
        assert_eq!((w, h), (300, 200));
        assert!((pw - 300.0 / 150.0 * 72.0).abs() < 0.1);
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&vec![200u8; 50 * 70], 50, 70, image::ExtendedColorType::L8)
            .unwrap();
        let pdf = image_page(&png).unwrap();
        assert!(String::from_utf8_lossy(&pdf).contains("/DeviceGray"));
    }

    #[test]
    fn pdfs_split_into_one_page_pdfs() {
        let three = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/base/evidence/05/方案.pdf"
        ))
        .unwrap();
        let pages = split_pdf(three).unwrap();
        assert_eq!(pages.len(), 3);
        for p in pages {
            assert_eq!(crate::evidence::pdf_pages(p).unwrap(), 1);
        }
    }
}
