//! Offline Chinese text recognition (OCR) of a scanned page: PaddleOCR's PP-OCRv4 detection
//! and recognition models (`models/`, Apache-2.0, embedded in the binary), run in pure Rust
//! by rten. No network, no other program.
//!
//! A page is recognised in three steps. Detection (DB) gives, for the page scaled so that its
//! long side is [`DETECT_SIDE`] pixels, the probability of each pixel being inside a line of
//! text; the connected regions above [`PIXEL_THRESHOLD`] whose mean probability reaches
//! [`BOX_THRESHOLD`] are the lines, each grown by the DB "unclip" distance (area × 1.6 /
//! perimeter) because the model marks a shrunk core of the line. Recognition reads each line,
//! cut from the full-resolution page and scaled to 48 pixels high, into a score per dictionary
//! character for every 4-pixel column; CTC decoding (the best character per column, repeats
//! merged, blanks dropped) gives the text, and the mean score of the characters kept is the
//! line's confidence. The dictionary is the recognition model's own (its ONNX metadata).
//!
//! Lines are axis-aligned boxes: evidence is scanned upright, with at most a slight skew,
//! which the models read through. Lines are returned in reading order: rows top to bottom
//! (boxes overlapping by half their height are one row), left to right within a row.

use std::path::{Path, PathBuf};

use sha2::Digest;

use image::RgbImage;
use rten::{Model, RunOptions};
use rten_tensor::NdTensor;
use rten_tensor::prelude::*;

/// The detection model (PP-OCRv4 det).
const DETECT_MODEL: &[u8] = include_bytes!("../models/ch_PP-OCRv4_det_infer.onnx");
/// The recognition model (PP-OCRv4 rec).
const RECOGNISE_MODEL: &[u8] = include_bytes!("../models/ch_PP-OCRv4_rec_infer.onnx");

/// The long side of the page as detection sees it (a multiple of 32).
pub const DETECT_SIDE: u32 = 960;
/// The long side an image file is read at, at most: an A4 page at 200 dpi is 2,339 pixels
/// long, and text twice as large in pixels reads no better (each line is scaled to 48 pixels
/// high anyway) — a 12-megapixel photo is read at a third of its pixels, in less time and
/// memory.
pub const PAGE_SIDE: u32 = 2400;
/// Lines read with a lower confidence are noise, not text (PaddleOCR's `drop_score`): the
/// texture of a photo, a stamp's border. They are kept in the cache but laid over no page.
pub const DROP_SCORE: f32 = 0.5;
/// A pixel is text when detection gives it more than this.
pub const PIXEL_THRESHOLD: f32 = 0.3;
/// A region is a line when its mean probability is at least this.
pub const BOX_THRESHOLD: f32 = 0.5;
/// How far a detected core is grown: its area times this over its perimeter.
const UNCLIP_RATIO: f32 = 1.6;
/// The height lines are scaled to for recognition.
const LINE_HEIGHT: u32 = 48;
/// The narrowest line recognition is given (PaddleOCR's 320 columns), padded if shorter.
const MIN_LINE_WIDTH: usize = 320;

/// One line of recognised text.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// Left, top, right, bottom, in pixels of the page image.
    pub bbox: [f32; 4],
    /// The text.
    pub text: String,
    /// Mean score of its characters, 0 to 1.
    pub confidence: f32,
    /// Left, top, right, bottom of the ink of the line's glyphs, in pixels of the page image,
    /// when it could be measured: the detected box is the glyphs grown on every side, by more
    /// for a long line than for a short one, so the ink places and sizes the text layer
    /// better.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ink: Option<[f32; 4]>,
}

/// The lines read from one page, with the size of the page image their boxes are in.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PageText {
    /// Width of the page image, pixels.
    pub width: u32,
    /// Height of the page image, pixels.
    pub height: u32,
    /// The lines, in reading order.
    pub lines: Vec<Line>,
}

impl PageText {
    /// The page without the lines read with a confidence under [`DROP_SCORE`].
    pub fn without_noise(mut self) -> PageText {
        self.lines.retain(|l| l.confidence >= DROP_SCORE);
        self
    }

    /// The page's confidence: the mean of its lines' confidences weighted by their characters
    /// (`None` for a page where nothing was read: a photo, a blank page).
    pub fn confidence(&self) -> Option<f32> {
        let (mut sum, mut n) = (0f32, 0usize);
        for l in &self.lines {
            let chars = l.text.chars().filter(|c| !c.is_whitespace()).count();
            sum += l.confidence * chars as f32;
            n += chars;
        }
        (n > 0).then(|| sum / n as f32)
    }
}

/// Changes when recognition would read a page differently: the models, and this number for
/// changes to the steps around them (thresholds, scaling, decoding) or to what is kept.
const PIPELINE: &str = "ppocr-v4/6";

/// Recognised pages kept between runs, one JSON file per page under the output folder's
/// `.cache/ocr/`, named by the SHA-256 of the page's file, the page and the models: a
/// rebuild, a watch save or a binder run never reads a page twice, and a new model or
/// pipeline reads every page again.
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache of the output folder `out`.
    pub fn new(out: &Path) -> Cache {
        Cache {
            dir: out.join(".cache").join("ocr"),
        }
    }

    fn file(&self, file_sha256: &str, page: u32) -> PathBuf {
        static MODELS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let models = MODELS.get_or_init(|| {
            let mut h = sha2::Sha256::new();
            for part in [DETECT_MODEL, RECOGNISE_MODEL, PIPELINE.as_bytes()] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
            }
            crate::evidence::hex(&h.finalize())[..16].to_string()
        });
        self.dir.join(format!("{file_sha256}-{page}-{models}.json"))
    }

    /// What was read earlier from page `page` of the file with this SHA-256; `None` when the
    /// page was not read with these models, or its entry cannot be read back.
    pub fn get(&self, file_sha256: &str, page: u32) -> Option<PageText> {
        let bytes = std::fs::read(self.file(file_sha256, page)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps what was read from page `page` of the file with this SHA-256.
    pub fn put(&self, file_sha256: &str, page: u32, text: &PageText) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        crate::output::write_atomic(&self.file(file_sha256, page), &serde_json::to_vec(text)?)
    }
}

/// A page of an evidence file to recognise.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// An image file (JPEG, PNG, GIF, WebP), shown with its EXIF orientation.
    Image(&'a Path),
    /// Page `n` (1-based) of a PDF file.
    PdfPage(&'a Path, u32),
}

/// The page as an image to recognise: an image file decoded and turned as its EXIF
/// orientation says, on white where it is transparent; a PDF page rendered at `dpi` on white
/// (hayro, the renderer Typst's own tests use). Errors say what could not be read.
pub fn page_image(source: Source<'_>, dpi: f32) -> Result<RgbImage, String> {
    match source {
        Source::Image(path) => {
            let read = |e: image::ImageError| format!("{}：{e}", path.display());
            let reader = (image::ImageReader::open(path))
                .map_err(|e| format!("{}：{e}", path.display()))?
                .with_guessed_format()
                .map_err(|e| format!("{}：{e}", path.display()))?;
            let mut decoder = reader.into_decoder().map_err(read)?;
            let orientation = image::ImageDecoder::orientation(&mut decoder).map_err(read)?;
            let mut img = image::DynamicImage::from_decoder(decoder).map_err(read)?;
            img.apply_orientation(orientation);
            let img = if img.color().has_alpha() {
                on_white(&img.to_rgba8())
            } else {
                img.into_rgb8()
            };
            Ok(at_most(img, PAGE_SIDE))
        }
        Source::PdfPage(path, n) => {
            let data = std::fs::read(path).map_err(|e| format!("{}：{e}", path.display()))?;
            let pdf = hayro::hayro_syntax::Pdf::new(std::sync::Arc::new(data))
                .map_err(|_| format!("{}：PDF 读不出来", path.display()))?;
            let pages = pdf.pages();
            let page = (n.checked_sub(1))
                .and_then(|i| pages.get(i as usize))
                .ok_or_else(|| format!("{}：没有第 {n} 页", path.display()))?;
            let settings = hayro::RenderSettings {
                x_scale: dpi / 72.0,
                y_scale: dpi / 72.0,
                bg_color: hayro::vello_cpu::color::palette::css::WHITE,
                ..Default::default()
            };
            let cache = hayro::RenderCache::new();
            let pix = hayro::render(page, &cache, &Default::default(), &settings);
            let (w, h) = (u32::from(pix.width()), u32::from(pix.height()));
            let rgba = image::RgbaImage::from_raw(w, h, pix.data_as_u8_slice().to_vec())
                .ok_or("渲染结果的大小不对")?;
            Ok(on_white(&rgba))
        }
    }
}

/// `img` scaled down so that its long side is at most `side` pixels, if it is longer.
fn at_most(img: RgbImage, side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if w.max(h) <= side {
        return img;
    }
    let scale = side as f32 / w.max(h) as f32;
    let (nw, nh) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    // Box-filtered in integers: no floating-point copy of the page (a Triangle resize of a
    // 300-dpi A4 scan holds 100 MB of those).
    image::imageops::thumbnail(&img, nw, nh)
}

/// `img` over white.
fn on_white(img: &image::RgbaImage) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let [r, g, b, a] = img.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// The loaded models and the dictionary: made once, used for every page.
pub struct Engine {
    detect: Model,
    recognise: Model,
    /// Character of each class after the CTC blank (class 0); the last class is a space.
    alphabet: Vec<String>,
}

impl Engine {
    /// Loads the embedded models.
    pub fn new() -> Result<Engine, String> {
        let detect = Model::load_static_slice(DETECT_MODEL).map_err(|e| e.to_string())?;
        let recognise = Model::load_static_slice(RECOGNISE_MODEL).map_err(|e| e.to_string())?;
        let alphabet = (onnx_metadata(RECOGNISE_MODEL).into_iter())
            .find(|(k, _)| k == "character")
            .map(|(_, v)| v.lines().map(str::to_string).collect::<Vec<_>>())
            .filter(|a| !a.is_empty())
            .ok_or("识别模型里没有字表（character）")?;
        Ok(Engine {
            detect,
            recognise,
            alphabet,
        })
    }

    /// The text lines of a page image, in reading order; the page's inference on every core.
    pub fn recognise(&self, page: &RgbImage) -> Result<Vec<Line>, String> {
        self.recognise_with(page, None)
    }

    /// The text lines of each page, in input order: pages side by side, one core each, which
    /// reads more pages a second than one page at a time on every core (the models' layers
    /// are small for a single line; measured in bench/ocr.py).
    pub fn recognise_pages(&self, pages: &[RgbImage]) -> Vec<Result<Vec<Line>, String>> {
        let results = crate::par::map(pages, usize::MAX, |page| self.recognise_alone(page));
        (results.into_iter())
            .map(|r| r.unwrap_or_else(|| Err("识别中断".into())))
            .collect()
    }

    /// The text lines of a page on one core, for a caller that reads pages side by side
    /// itself (as [`Engine::recognise_pages`] does).
    pub fn recognise_alone(&self, page: &RgbImage) -> Result<Vec<Line>, String> {
        let mut opts = RunOptions::default();
        opts.thread_pool = Some(std::sync::Arc::new(rten::ThreadPool::with_num_threads(1)));
        self.recognise_with(page, Some(&opts))
    }

    fn recognise_with(
        &self,
        page: &RgbImage,
        opts: Option<&RunOptions>,
    ) -> Result<Vec<Line>, String> {
        let mut lines = Vec::new();
        for bbox in self.detect(page, opts)? {
            if let Some(line) = self.read_line(page, bbox, opts)? {
                lines.push(line);
            }
        }
        Ok(reading_order(lines))
    }

    /// The boxes of the lines of text on `page`, in page pixels.
    fn detect(&self, page: &RgbImage, opts: Option<&RunOptions>) -> Result<Vec<[f32; 4]>, String> {
        let (w, h) = page.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let scale = DETECT_SIDE as f32 / w.max(h) as f32;
        let side = |n: u32| (((n as f32 * scale / 32.0).round() as u32) * 32).max(32);
        let (dw, dh) = (side(w), side(h));
        let small = image::imageops::resize(page, dw, dh, image::imageops::FilterType::Triangle);
        let input = normalised(&small, 0);
        let out =
            (self.detect.run_one(input.view().into(), opts.cloned())).map_err(|e| e.to_string())?;
        let prob: NdTensor<f32, 4> = out.try_into().map_err(|e| format!("{e:?}"))?;
        let (ph, pw) = (prob.size(2), prob.size(3));
        let data: Vec<f32> = prob.iter().copied().collect();
        // Back to page pixels: the detection map has the scaled page's size.
        let (sx, sy) = (w as f32 / pw as f32, h as f32 / ph as f32);
        Ok((regions(&data, pw, ph).into_iter())
            .map(|[x0, y0, x1, y1]| [x0 * sx, y0 * sy, x1 * sx, y1 * sy])
            .collect())
    }

    /// Reads the line in `bbox`; `None` when nothing is read.
    fn read_line(
        &self,
        page: &RgbImage,
        bbox: [f32; 4],
        opts: Option<&RunOptions>,
    ) -> Result<Option<Line>, String> {
        let (w, h) = page.dimensions();
        let x0 = bbox[0].max(0.0) as u32;
        let y0 = bbox[1].max(0.0) as u32;
        let x1 = (bbox[2].ceil() as u32).min(w);
        let y1 = (bbox[3].ceil() as u32).min(h);
        if x1 <= x0 + 1 || y1 <= y0 + 1 {
            return Ok(None);
        }
        let crop = image::imageops::crop_imm(page, x0, y0, x1 - x0, y1 - y0).to_image();
        let ink = ink_box(&crop).map(|[l, t, r, b]| {
            [
                (x0 + l) as f32,
                (y0 + t) as f32,
                (x0 + r + 1) as f32,
                (y0 + b + 1) as f32,
            ]
        });
        let width = ((LINE_HEIGHT as f32 * (x1 - x0) as f32 / (y1 - y0) as f32).ceil() as u32)
            .clamp(8, 4000);
        let line = image::imageops::resize(
            &crop,
            width,
            LINE_HEIGHT,
            image::imageops::FilterType::Triangle,
        );
        let input = normalised(&line, MIN_LINE_WIDTH);
        let out = (self.recognise.run_one(input.view().into(), opts.cloned()))
            .map_err(|e| e.to_string())?;
        let scores: NdTensor<f32, 3> = out.try_into().map_err(|e| format!("{e:?}"))?;
        let (text, confidence) = ctc_greedy(&scores, &self.alphabet);
        let text = document_numbers(text.trim());
        Ok((!text.is_empty()).then_some(Line {
            bbox: [x0 as f32, y0 as f32, x1 as f32, y1 as f32],
            text,
            confidence,
            ink,
        }))
    }
}

/// The ink of a line's crop, left, top, right, bottom (inclusive). Dark means below the
/// middle of the crop's luma range. A table's borders are not ink: columns dark in most rows
/// and rows dark across most of the width are left out. The ink's rows are the run around
/// the darkest row whose rows have more than a tenth of its dark pixels — a blank row ends it,
/// so the edge of a neighbouring line caught in the box is left out —, its columns those with
/// at least two dark pixels in the run (a speckle is one). `None` without contrast or ink.
fn ink_box(crop: &RgbImage) -> Option<[u32; 4]> {
    let (w, h) = (crop.width() as usize, crop.height() as usize);
    if w < 3 || h < 3 {
        return None;
    }
    // One pass each, row by row: grey levels, then dark pixels per column and per row.
    let grey: Vec<u8> = (crop.pixels())
        .map(|p| {
            ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8
        })
        .collect();
    let (lo, hi) = grey
        .iter()
        .fold((255u8, 0u8), |(lo, hi), &g| (lo.min(g), hi.max(g)));
    if u32::from(hi) < u32::from(lo) + 48 {
        return None;
    }
    let mid = ((u32::from(lo) + u32::from(hi)) / 2) as u8;
    let dark: Vec<bool> = grey.iter().map(|&g| g < mid).collect();
    let mut per_column = vec![0usize; w];
    for row in dark.chunks_exact(w) {
        for (c, &d) in per_column.iter_mut().zip(row) {
            *c += usize::from(d);
        }
    }
    let rule_column: Vec<bool> = per_column.iter().map(|&n| n * 100 > h * 70).collect();
    let rows: Vec<usize> = (dark.chunks_exact(w))
        .map(|row| {
            let n = (row.iter().zip(&rule_column))
                .filter(|(d, rule)| **d && !**rule)
                .count();
            if n * 100 > w * 85 { 0 } else { n }
        })
        .collect();
    let (peak, &most) = rows.iter().enumerate().max_by_key(|(_, n)| **n)?;
    if most == 0 {
        return None;
    }
    let inked = |y: usize| rows[y] * 10 > most;
    let mut top = peak;
    while top > 0 && inked(top - 1) {
        top -= 1;
    }
    let mut bottom = peak;
    while bottom + 1 < h && inked(bottom + 1) {
        bottom += 1;
    }
    if bottom < top + 2 {
        return None;
    }
    let mut in_run = vec![0usize; w];
    for row in dark[top * w..(bottom + 1) * w].chunks_exact(w) {
        for (c, &d) in in_run.iter_mut().zip(row) {
            *c += usize::from(d);
        }
    }
    let column = |x: &usize| !rule_column[*x] && in_run[*x] >= 2;
    let left = (0..w).find(column)?;
    let right = (0..w).rev().find(column)?;
    Some([left as u32, top as u32, right as u32, bottom as u32])
}

/// `text` with the year of every 文号 in 六角括号, as GB/T 9704 writes it: the models often
/// read 〔2021〕 as [2021], ［2021］ or (2021), and a search for the number as printed would
/// not find it. A bracket is turned only where it encloses a year (four digits from 19 or
/// 20, spaces allowed) right after a Chinese character and is followed by a number and 号
/// ("县质强办[2021]3号" → "县质强办〔2021〕3号").
pub fn document_numbers(text: &str) -> String {
    const OPEN: [char; 6] = ['[', '［', '(', '（', '【', '〔'];
    const CLOSE: [char; 6] = [']', '］', ')', '）', '】', '〕'];
    let chars: Vec<char> = text.chars().collect();
    let han = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    let spaces = |mut j: usize| {
        while chars.get(j) == Some(&' ') {
            j += 1;
        }
        j
    };
    // The year's digits and where the 文号 goes on after its closing bracket, if the bracket
    // at `i` opens the year of a 文号.
    let year_at = |i: usize| -> Option<(String, usize)> {
        if i == 0 || !OPEN.contains(&chars[i]) || !han(chars[i - 1]) {
            return None;
        }
        let j = spaces(i + 1);
        let year: String = chars.get(j..j + 4)?.iter().collect();
        let is_year = year.chars().all(|c| c.is_ascii_digit())
            && (year.starts_with("19") || year.starts_with("20"));
        let close = spaces(j + 4);
        if !is_year || !chars.get(close).is_some_and(|c| CLOSE.contains(c)) {
            return None;
        }
        let k = spaces(close + 1);
        let digits = (chars.iter().skip(k))
            .take_while(|c| c.is_ascii_digit())
            .count();
        (digits > 0 && chars.get(k + digits) == Some(&'号')).then_some((year, k))
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some((year, next)) = year_at(i) {
            out.push('〔');
            out.push_str(&year);
            out.push('〕');
            i = next;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// An image as the models take it: 1 × 3 × height × width, each channel scaled to −1..1;
/// at least `min_width` columns, the rest zeros (mid-grey) — PaddleOCR pads a line so, and
/// the recognition model misreads a line of one or two characters scaled alone.
fn normalised(img: &RgbImage, min_width: usize) -> NdTensor<f32, 4> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let width = w.max(min_width);
    let mut data = vec![0f32; 3 * width * h];
    for (x, y, p) in img.enumerate_pixels() {
        let (x, y) = (x as usize, y as usize);
        for c in 0..3 {
            data[(c * h + y) * width + x] = f32::from(p[c]) / 127.5 - 1.0;
        }
    }
    NdTensor::from_data([1, 3, h, width], data)
}

/// The lines of a detection map (`w` × `h` probabilities): connected regions of pixels above
/// [`PIXEL_THRESHOLD`] with a mean of at least [`BOX_THRESHOLD`], as boxes grown by the
/// unclip distance, in map pixels.
fn regions(prob: &[f32], w: usize, h: usize) -> Vec<[f32; 4]> {
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if seen[start] || prob[start] <= PIXEL_THRESHOLD {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        let (mut sum, mut n) = (0f32, 0usize);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            sum += prob[i];
            n += 1;
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            let mut visit = |j: usize| {
                if !seen[j] && prob[j] > PIXEL_THRESHOLD {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        if sum / n as f32 >= BOX_THRESHOLD && bw.min(bh) >= 3.0 {
            let d = bw * bh * UNCLIP_RATIO / (2.0 * (bw + bh));
            out.push([
                x0 as f32 - d,
                y0 as f32 - d,
                x1 as f32 + 1.0 + d,
                y1 as f32 + 1.0 + d,
            ]);
        }
    }
    out
}

/// CTC greedy decoding of recognition scores (1 × columns × classes): the best class of
/// each column, repeats merged, the blank (class 0) dropped. The text and the mean score of
/// the characters kept (0 when none is).
fn ctc_greedy(scores: &NdTensor<f32, 3>, alphabet: &[String]) -> (String, f32) {
    let (columns, classes) = (scores.size(1), scores.size(2));
    let mut text = String::new();
    let (mut total, mut kept) = (0f32, 0usize);
    let mut last = 0;
    for t in 0..columns {
        let (mut best, mut score) = (0, f32::MIN);
        for k in 0..classes {
            let s = scores[[0, t, k]];
            if s > score {
                (best, score) = (k, s);
            }
        }
        if best != 0 && best != last {
            text.push_str(alphabet.get(best - 1).map_or(" ", String::as_str));
            total += score;
            kept += 1;
        }
        last = best;
    }
    (text, if kept == 0 { 0.0 } else { total / kept as f32 })
}

/// Lines in reading order: rows top to bottom — a line joins a row when it overlaps the
/// row's first line by half the smaller height —, left to right within a row.
fn reading_order(mut lines: Vec<Line>) -> Vec<Line> {
    lines.sort_by(|a, b| a.bbox[1].total_cmp(&b.bbox[1]));
    let mut rows: Vec<Vec<Line>> = Vec::new();
    for line in lines {
        let joins = rows.last().is_some_and(|row| {
            let first = &row[0].bbox;
            let overlap = first[3].min(line.bbox[3]) - first[1].max(line.bbox[1]);
            overlap >= 0.5 * (first[3] - first[1]).min(line.bbox[3] - line.bbox[1])
        });
        match rows.last_mut() {
            Some(row) if joins => row.push(line),
            _ => rows.push(vec![line]),
        }
    }
    (rows.into_iter())
        .flat_map(|mut row| {
            row.sort_by(|a, b| a.bbox[0].total_cmp(&b.bbox[0]));
            row
        })
        .collect()
}

/// The `metadata_props` (key, value) of an ONNX model: field 14 of its ModelProto, each a
/// StringStringEntryProto (key 1, value 2), read straight from the protobuf encoding.
fn onnx_metadata(model: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some((field, value)) = protobuf_field(model, &mut i) {
        if let (14, Some(entry)) = (field, value) {
            let (mut key, mut text) = (String::new(), String::new());
            let mut j = 0;
            while let Some((f, v)) = protobuf_field(entry, &mut j) {
                let s = String::from_utf8_lossy(v.unwrap_or_default()).into_owned();
                match f {
                    1 => key = s,
                    2 => text = s,
                    _ => {}
                }
            }
            out.push((key, text));
        }
    }
    out
}

/// The next field of a protobuf message at `*i`: its number, and its bytes when it is
/// length-delimited. `None` at the end or on a malformed encoding.
fn protobuf_field<'a>(b: &'a [u8], i: &mut usize) -> Option<(u64, Option<&'a [u8]>)> {
    let tag = varint(b, i)?;
    let value = match tag & 7 {
        0 => {
            varint(b, i)?;
            None
        }
        1 => {
            *i = i.checked_add(8)?;
            None
        }
        5 => {
            *i = i.checked_add(4)?;
            None
        }
        2 => {
            let n = usize::try_from(varint(b, i)?).ok()?;
            let end = i.checked_add(n)?;
            let bytes = b.get(*i..end)?;
            *i = end;
            Some(bytes)
        }
        _ => return None,
    };
    (*i <= b.len()).then_some((tag >> 3, value))
}

/// A protobuf varint at `*i`.
fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use std::sync::Arc;

    const NUMBER: &str = "县质强办〔2021〕3号";
    const TITLE: &str = "关于开展质量提升行动的通知";
    const PARAGRAPHS: [&str; 2] = [
        "为认真贯彻落实全县质量工作会议精神，进一步提升产品、工程和服务质量，经研究决定，在全县范围内开展质量提升行动。现将有关事项通知如下。",
        "各乡镇（街道）、县直有关单位要高度重视，明确责任分工，制定工作方案，于2021年4月30日前将工作进展情况报送县创建办公室。",
    ];
    const TABLE: [[&str; 4]; 4] = [
        ["序号", "单位", "任务", "完成时限"],
        ["1", "市场监管局", "开展质量对标活动", "6月底"],
        ["2", "住建局", "工程质量专项检查", "9月底"],
        ["3", "统计局", "质量统计分析", "12月底"],
    ];
    const SIGNATURE: [&str; 2] = ["县创建办公室", "2021年4月12日"];

    /// The page as Typst source: a 文号, a title, two paragraphs, a table, the signature.
    fn source() -> String {
        let cells: Vec<String> = TABLE.iter().flatten().map(|c| format!("[{c}]")).collect();
        format!(
            "#set page(paper: \"a4\", margin: 25mm)\n\
             #set text(font: \"Noto Serif CJK SC\", size: 14pt, lang: \"zh\")\n\
             #set par(justify: true, leading: 0.9em, first-line-indent: (amount: 2em, all: true))\n\
             #align(right)[{NUMBER}]\n#align(center, text(size: 20pt)[{TITLE}])\n{}\n\n{}\n\n\
             #table(columns: (16mm, 35mm, 60mm, 30mm), inset: 6pt, {})\n#v(12mm)\n\
             #align(right)[{} \\ {}]\n",
            PARAGRAPHS[0],
            PARAGRAPHS[1],
            cells.join(", "),
            SIGNATURE[0],
            SIGNATURE[1],
        )
    }

    /// What the page says, in reading order.
    fn truth() -> String {
        let mut all = vec![NUMBER, TITLE, PARAGRAPHS[0], PARAGRAPHS[1]];
        all.extend(TABLE.iter().flatten());
        all.extend(SIGNATURE);
        all.concat()
    }

    /// The page rendered at `dpi`, on white.
    fn render(dpi: f32) -> RgbImage {
        let world = crate::typeset::DossierWorld::new(
            Arc::new(crate::typeset::Fonts::embedded()),
            source(),
            Vec::new(),
            None,
            crate::model::Date::parse("2022-05-20").unwrap(),
        );
        let doc = crate::typeset::compile(&world)
            .output
            .expect("the page compiles");
        let pixmap = typst_render::render(
            &doc.pages()[0],
            &typst_render::RenderOptions {
                pixel_per_pt: typst::utils::Scalar::new(f64::from(dpi) / 72.0),
                render_bleed: false,
            },
        );
        RgbImage::from_fn(pixmap.width(), pixmap.height(), |x, y| {
            let p = pixmap.pixel(x, y).expect("inside");
            let white = 255 - u16::from(p.alpha());
            let c = |v: u8| (u16::from(v) + white).min(255) as u8;
            Rgb([c(p.red()), c(p.green()), c(p.blue())])
        })
    }

    /// `img` as a scanner leaves it: turned by `degrees` (bilinear, white outside), grey
    /// speckles on one pixel in `1 / speckle`, then JPEG at `quality`.
    fn scanned(img: &RgbImage, degrees: f32, speckle: u32, quality: u8) -> RgbImage {
        image::load_from_memory(&scanned_jpeg(img, degrees, speckle, quality))
            .unwrap()
            .to_rgb8()
    }

    /// [`scanned`], the JPEG file.
    fn scanned_jpeg(img: &RgbImage, degrees: f32, speckle: u32, quality: u8) -> Vec<u8> {
        let (w, h) = img.dimensions();
        let (sin, cos) = degrees.to_radians().sin_cos();
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let mut seed = 12345u32;
        let turned = RgbImage::from_fn(w, h, |x, y| {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let (sx, sy) = (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
            let sample = |x: f32, y: f32| -> [f32; 3] {
                if x < 0.0 || y < 0.0 || x >= (w - 1) as f32 || y >= (h - 1) as f32 {
                    return [255.0; 3];
                }
                let (x0, y0) = (x as u32, y as u32);
                let (fx, fy) = (x - x0 as f32, y - y0 as f32);
                let p = |x, y| img.get_pixel(x, y).0.map(f32::from);
                let (a, b, c, d) = (p(x0, y0), p(x0 + 1, y0), p(x0, y0 + 1), p(x0 + 1, y0 + 1));
                std::array::from_fn(|k| {
                    (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy)
                        + (c[k] * (1.0 - fx) + d[k] * fx) * fy
                })
            };
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            if seed.is_multiple_of(speckle) {
                let g = (seed >> 8) as u8;
                return Rgb([g, g, g]);
            }
            Rgb(sample(sx, sy).map(|v| v.round() as u8))
        });
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, quality)
            .encode(
                turned.as_raw(),
                w as u16,
                h as u16,
                jpeg_encoder::ColorType::Rgb,
            )
            .unwrap();
        jpeg
    }

    /// The scanned page of the end-to-end search test (`tests/e2e/ocr.rs`) is this page at
    /// 150 dpi, turned 0.5°, speckled, JPEG 75; `DOSSIER_UPDATE_REFERENCES=1` writes it again.
    #[test]
    fn the_search_tests_scan_is_the_generated_page() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/build/ocr/evidence/06/通知扫描件.jpg");
        let jpeg = scanned_jpeg(&render(150.0), 0.5, 300, 75);
        if std::env::var_os("DOSSIER_UPDATE_REFERENCES").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &jpeg).unwrap();
        }
        let fixture = image::open(&path).unwrap().to_rgb8();
        let fresh = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        assert_eq!(fixture.dimensions(), fresh.dimensions());
        let diff: u64 = (fixture.as_raw().iter().zip(fresh.as_raw()))
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = diff as f64 / fixture.as_raw().len() as f64;
        assert!(
            mean < 2.0,
            "the fixture differs from the page: {mean:.2} per channel"
        );
    }

    /// Character error rate of `read` against `truth`: edit distance over the length of the
    /// truth, both compared after NFKC (full- and half-width forms alike) without spaces.
    fn cer(truth: &str, read: &str) -> f64 {
        use unicode_normalization::UnicodeNormalization;
        let norm = |s: &str| s.nfkc().filter(|c| !c.is_whitespace()).collect::<String>();
        let (t, r) = (norm(truth), norm(read));
        strsim::levenshtein(&t, &r) as f64 / t.chars().count() as f64
    }

    #[test]
    fn a_generated_page_is_read_with_at_most_three_percent_of_its_characters_wrong() {
        let engine = Engine::new().unwrap();
        let clean = render(200.0);
        let pages = [clean.clone(), scanned(&clean, 0.8, 200, 60)];
        let what = ["200 dpi", "200 dpi, turned 0.8°, speckled, JPEG 60"];
        // Side by side (one core each), in order; and one page on every core.
        let mut read = engine.recognise_pages(&pages);
        read.push(engine.recognise(&pages[0]));
        let truth = truth();
        for (i, lines) in read.into_iter().enumerate() {
            let (what, page) = (what[i % 2], &pages[i % 2]);
            let lines = lines.unwrap();
            let read: String = lines.iter().map(|l| l.text.as_str()).collect();
            let rate = cer(&truth, &read);
            eprintln!(
                "{what}: CER {:.2} % over {} characters, {} lines",
                rate * 100.0,
                truth.chars().count(),
                lines.len()
            );
            assert!(
                rate <= 0.03,
                "{what}: CER {rate:.3}\nread: {read}\ntruth: {truth}"
            );
            // Every line sits inside the page, and the 文号 line is found where it was set:
            // at the top right.
            let (w, h) = page.dimensions();
            let number = (lines.iter())
                .find(|l| l.text.contains("县质强办"))
                .unwrap_or_else(|| panic!("no 文号 line in {lines:#?}"));
            assert!(
                number.bbox[0] > w as f32 * 0.5 && number.bbox[3] < h as f32 * 0.2,
                "{number:?}"
            );
            assert!(
                lines
                    .iter()
                    .all(|l| l.bbox[2] <= w as f32 && l.bbox[3] <= h as f32 && l.confidence > 0.0)
            );
        }
    }

    /// Recognises `source` and asserts the character error rate is at most 3 %.
    fn reads_well(engine: &Engine, source: Source<'_>, what: &str) {
        let page = page_image(source, 200.0).unwrap();
        let (w, h) = page.dimensions();
        assert!(h > w, "{what}: the page is upright ({w} × {h})");
        let read: String = (engine.recognise(&page).unwrap().iter())
            .map(|l| l.text.clone())
            .collect();
        let rate = cer(&truth(), &read);
        eprintln!("{what}: CER {:.2} %", rate * 100.0);
        assert!(rate <= 0.03, "{what}: CER {rate:.3}\nread: {read}");
    }

    #[test]
    fn a_turned_photo_and_a_scanned_pdf_page_are_read_upright() {
        let engine = Engine::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let upright = render(200.0);
        // Stored turned a quarter to the left, with EXIF 6 ("turn right to view").
        let turned = image::imageops::rotate270(&upright);
        let photo = dir.path().join("照片.jpg");
        std::fs::write(&photo, crate::normalize::tests::jpeg_with_exif(&turned, 6)).unwrap();
        reads_well(&engine, Source::Image(&photo), "JPEG with EXIF 6");
        // The upright scan as the only image of an A4 PDF page, as a scanner writes it.
        let jpeg = crate::normalize::tests::jpeg_with_exif(&upright, 1);
        let (w, h) = upright.dimensions();
        let pdf = crate::normalize::jpeg_pdf(
            &[crate::normalize::Jpeg {
                data: &jpeg,
                width: w,
                height: h,
                gray: false,
                orientation: 1,
            }],
            (595.0, 842.0),
        );
        let scanned = dir.path().join("扫描件.pdf");
        std::fs::write(&scanned, pdf).unwrap();
        reads_well(&engine, Source::PdfPage(&scanned, 1), "PDF page");
        // What cannot be read says so.
        let missing = page_image(Source::PdfPage(&scanned, 2), 200.0).unwrap_err();
        assert!(missing.contains("没有第 2 页"), "{missing}");
        assert!(page_image(Source::Image(&dir.path().join("无.png")), 200.0).is_err());
    }

    #[test]
    fn recognised_pages_are_kept_by_file_page_and_models() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let sha = "ab".repeat(32);
        assert_eq!(cache.get(&sha, 1), None);
        let lines = PageText {
            width: 1654,
            height: 2339,
            lines: vec![Line {
                bbox: [1.0, 2.0, 30.5, 12.0],
                text: "县质强办〔2021〕3号".into(),
                confidence: 0.97,
                ink: Some([2.0, 3.0, 29.0, 11.0]),
            }],
        };
        cache.put(&sha, 1, &lines).unwrap();
        assert_eq!(cache.get(&sha, 1), Some(lines.clone()));
        assert_eq!(cache.get(&sha, 2), None, "another page");
        assert_eq!(cache.get(&"cd".repeat(32), 1), None, "another file");
        // An entry that cannot be read back is read again, not an error.
        std::fs::write(cache.file(&sha, 1), b"{not json").unwrap();
        assert_eq!(cache.get(&sha, 1), None);
        // Entries are named by the models: another pipeline would not see these.
        let name = cache.file(&sha, 1);
        let name = name.file_name().unwrap().to_string_lossy();
        assert!(
            name.starts_with(&format!("{sha}-1-")) && name.len() == 64 + 3 + 16 + 5,
            "{name}"
        );
    }

    #[test]
    fn large_images_are_read_at_most_page_side_long_and_noise_is_dropped() {
        let img = at_most(RgbImage::new(4000, 3000), PAGE_SIDE);
        assert_eq!(img.dimensions(), (2400, 1800));
        assert_eq!(
            at_most(RgbImage::new(1654, 2339), PAGE_SIDE).dimensions(),
            (1654, 2339)
        );
        let line = |confidence: f32| Line {
            bbox: [0.0, 0.0, 10.0, 10.0],
            text: "字".into(),
            confidence,
            ink: None,
        };
        let page = PageText {
            width: 10,
            height: 10,
            lines: vec![line(0.9), line(0.49), line(0.5)],
        };
        let kept = page.without_noise();
        assert_eq!(
            kept.lines.iter().map(|l| l.confidence).collect::<Vec<_>>(),
            [0.9, 0.5]
        );
    }

    #[test]
    fn the_year_of_a_document_number_is_put_in_hexagonal_brackets() {
        for (read, fixed) in [
            ("县质强办[2021]3号", "县质强办〔2021〕3号"),
            ("民政〔2021]15号", "民政〔2021〕15号"),
            ("商质办（ 2020 ）7号关于", "商质办〔2020〕7号关于"),
            ("豫政［2019］12号", "豫政〔2019〕12号"),
        ] {
            assert_eq!(document_numbers(read), fixed);
        }
        // Not a 文号: no Chinese character before, not a year, no number and 号 after.
        for kept in [
            "[2021]3号",
            "见表(2021)",
            "办[1021]3号",
            "办[2021]号",
            "办[20x1]3号",
            "（2021）年",
        ] {
            assert_eq!(document_numbers(kept), kept);
        }
    }

    #[test]
    fn the_dictionary_is_read_from_the_models_metadata() {
        let engine = Engine::new().unwrap();
        assert_eq!(engine.alphabet.len(), 6623);
        assert!(engine.alphabet.iter().any(|c| c == "质"));
        assert!(onnx_metadata(b"\x0a\x03abc").is_empty());
        assert!(onnx_metadata(b"\xff\xff").is_empty());
    }
}
