//! The streaming page assembler. Typst lays out the frame of a document — cover, contents,
//! catalogs, and every evidence page with its running head, stamp and number — but each PDF
//! page of evidence it embeds is a *stand-in*: a page of the same size and rotation whose only
//! content is a marker naming the real page. Typst never holds the evidence, and its output is
//! small. The assembler then writes the frame as it is and appends, as an incremental update,
//! each stand-in's form XObject redefined as the real page (its content and resources copied
//! from the source file by hayro-write, one file at a time), so links, bookmarks, page labels
//! and tags of the frame stay exactly as Typst made them.
//!
//! Memory: the frame, and one evidence file at a time. Deterministic: markers name files by a
//! digest of the project path Typst asked for, and files are written in the order of those
//! digests, so the same evidence gives the same bytes wherever the dossier and its output
//! folder are.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use pdf_writer::{Finish, Pdf, Rect, Ref};
use sha2::Digest;

use crate::normalize::PassThrough;
use crate::paths::Fingerprint;

/// An evidence file that cannot go into the PDF as it is (a JPEG damaged between intact
/// ends, which `check` does not read): an error of the record that has it, reported there by
/// the build, not a failure to write.
#[derive(Debug)]
pub struct Unusable {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub why: String,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "图片 {} 无法使用：{}", self.path.display(), self.why)
    }
}

impl std::error::Error for Unusable {}

/// The first bytes of a stand-in page's content.
const MARKER: &[u8] = b"% dossier-evidence ";

/// The pages of evidence read so far, kept while their files are unchanged (shared by the
/// compilations of a session, a `watch` and parallel binders).
pub type StandInCache = crate::paths::FingerprintCache<Arc<Pages>>;

/// What a stand-in needs of an evidence file: its page boxes, and for a JPEG that passes
/// through, how it is placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Pages {
    boxes: Vec<PageBox>,
    jpeg: Option<PassThrough>,
}

impl Pages {
    /// The one page of a JPEG that passes through.
    pub fn jpeg(p: PassThrough) -> Pages {
        let rect = Rect::new(0.0, 0.0, p.size.0 as f32, p.size.1 as f32);
        Pages {
            boxes: vec![PageBox {
                media: rect,
                crop: rect,
                rotate: 0,
            }],
            jpeg: Some(p),
        }
    }
}

/// What a stand-in page copies of its real page: media box, crop box, rotation (degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageBox {
    media: Rect,
    crop: Rect,
    rotate: i32,
}

/// What a stand-in stands for: pages of a PDF, or a JPEG that passes through (see
/// [`crate::normalize::pass_through`]), drawn on its page as its one-page PDF would, as it
/// was when the stand-in was made (the assembler checks the file is unchanged).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Pdf,
    Jpeg(PassThrough, Option<Fingerprint>),
}

/// The evidence a compilation was given stand-ins for: marker key → real file.
#[derive(Default)]
pub struct StandIns {
    files: Mutex<HashMap<String, (PathBuf, Source)>>,
    boxes: Arc<StandInCache>,
}

impl StandIns {
    /// Stand-ins for one compilation, reusing the page boxes read into `boxes`.
    pub fn new(boxes: Arc<StandInCache>) -> StandIns {
        StandIns {
            files: Mutex::default(),
            boxes,
        }
    }

    /// The stand-in of the PDF at `real`, which Typst asked for as `asked` (its path in the
    /// project, the same wherever the dossier is): one page per page of it, each the same
    /// size and rotation, holding only its marker.
    pub fn stand_in(&self, real: &Path, asked: &str) -> anyhow::Result<Vec<u8>> {
        let pages = self.boxes.get_or_make(real, || {
            page_boxes(real).map(|boxes| Arc::new(Pages { boxes, jpeg: None }))
        })?;
        Ok(self.made(real, asked, &pages.boxes, Source::Pdf))
    }

    /// The stand-in of the JPEG at `real` (one that passes through), asked for as `asked`: one
    /// page of the size its one-page PDF would have.
    pub fn jpeg_stand_in(&self, real: &Path, asked: &str) -> anyhow::Result<Vec<u8>> {
        let print = Fingerprint::of(real);
        let pages = (self.boxes).get_or_make(real, || {
            pass_through_of(real).map(|p| Arc::new(Pages::jpeg(p)))
        })?;
        let Some(placed) = pages.jpeg else {
            bail!("{} 不是可以直接嵌入的 JPEG", real.display());
        };
        Ok(self.made(real, asked, &pages.boxes, Source::Jpeg(placed, print)))
    }

    fn made(&self, real: &Path, asked: &str, boxes: &[PageBox], source: Source) -> Vec<u8> {
        let key = key_of(asked);
        lock(&self.files).insert(key.clone(), (real.to_path_buf(), source));
        stand_in_pdf(boxes, &key)
    }

    /// Whether any stand-in was made.
    pub fn is_empty(&self) -> bool {
        lock(&self.files).is_empty()
    }

    fn file(&self, key: &str) -> Option<(PathBuf, Source)> {
        lock(&self.files).get(key).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The marker key of a file: a digest of the path Typst asked for it by (`/evidence/05/a.pdf`,
/// `/.normalized/<content digest>-1.pdf`), so that the same evidence gives the same PDF
/// wherever the dossier and its output folder are.
fn key_of(asked: &str) -> String {
    let digest = sha2::Sha256::digest(asked.as_bytes());
    crate::evidence::hex(&digest[..12])
}

/// How the JPEG at `real` passes through; an error if it does not (it changed since it was
/// normalised).
fn pass_through_of(real: &Path) -> anyhow::Result<crate::normalize::PassThrough> {
    crate::normalize::pass_through_file(real)?
        .with_context(|| format!("{} 在生成过程中被改动了，请重新生成", real.display()))
}

/// The page boxes of the PDF at `real`.
fn page_boxes(real: &Path) -> anyhow::Result<Vec<PageBox>> {
    let data = std::fs::read(real).with_context(|| format!("无法读取 {}", real.display()))?;
    let source = hayro_syntax::Pdf::new(Arc::new(data))
        .map_err(|_| anyhow::anyhow!("{} 不是可读的 PDF", real.display()))?;
    let rect = |r: hayro_syntax::object::Rect| {
        Rect::new(r.x0 as f32, r.y0 as f32, r.x1 as f32, r.y1 as f32)
    };
    Ok((source.pages().iter())
        .map(|page| PageBox {
            media: rect(page.media_box()),
            crop: rect(page.crop_box()),
            rotate: match page.rotation() {
                hayro_syntax::page::Rotation::None => 0,
                hayro_syntax::page::Rotation::Horizontal => 90,
                hayro_syntax::page::Rotation::Flipped => 180,
                hayro_syntax::page::Rotation::FlippedHorizontal => 270,
            },
        })
        .collect())
}

/// A stand-in PDF: pages with these boxes, each holding the marker `key` and its index.
fn stand_in_pdf(boxes: &[PageBox], key: &str) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = Ref::new(1);
    let (catalog, tree) = (next.bump(), next.bump());
    let ids: Vec<(Ref, Ref)> = boxes.iter().map(|_| (next.bump(), next.bump())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|i| i.0))
        .count(ids.len() as i32);
    for (n, (b, &(id, content))) in boxes.iter().zip(&ids).enumerate() {
        let mut p = pdf.page(id);
        p.parent(tree)
            .media_box(b.media)
            .crop_box(b.crop)
            .contents(content);
        if b.rotate != 0 {
            p.rotate(b.rotate);
        }
        p.finish();
        let mut body = MARKER.to_vec();
        body.extend_from_slice(format!("{key} {n}\n").as_bytes());
        pdf.stream(content, &body);
    }
    pdf.finish()
}

/// One stand-in found in a frame: its object number, file and 0-based page.
struct Found {
    id: u32,
    key: String,
    file: PathBuf,
    source: Source,
    page: usize,
}

/// Writes the frame `frame` with every stand-in replaced by its real page to `out`.
pub fn write(frame: &[u8], stand_ins: &StandIns, out: &mut impl Write) -> anyhow::Result<()> {
    out.write_all(frame)?;
    if stand_ins.is_empty() {
        return Ok(());
    }
    // Only the stand-ins are kept of the frame's objects (and the trailer): the frame's fonts,
    // pages and contents are already written and need not be held twice.
    let options = lopdf::LoadOptions {
        filter: Some(keep_stand_ins),
        ..lopdf::LoadOptions::default()
    };
    let doc = lopdf::Document::load_mem_with_options(frame, options)
        .context("排版结果无法读回（拼装证据页）")?;
    let found = stand_ins_in(&doc, stand_ins)?;
    if found.is_empty() {
        return Ok(());
    }
    let prev = start_xref(frame).context("排版结果没有交叉引用表")?;
    let mut next = doc.max_id + 1;
    let mut offsets: BTreeMap<u32, usize> = BTreeMap::new();
    let mut pos = frame.len();
    if !frame.ends_with(b"\n") {
        out.write_all(b"\n")?;
        pos += 1;
    }
    // One file at a time, all its pages in one extraction so that what they share (fonts,
    // images) is written once.
    for group in found.chunk_by(|a, b| a.key == b.key) {
        let chunk = match group[0].source {
            Source::Pdf => file_xobjects(group, &mut next)?,
            Source::Jpeg(placed, print) => jpeg_xobjects(group, placed, print, &mut next)?,
        };
        for (id, at) in object_offsets(&chunk)? {
            offsets.insert(id, pos + at);
        }
        out.write_all(chunk.as_bytes())?;
        pos += chunk.len();
    }
    write_xref(out, &doc, &offsets, (pos, prev))
}

/// Whether an object of the frame is kept when it is read back: a form XObject whose content
/// starts with the marker (or is not read yet: its length is an indirect object, and the
/// lengths, plain integers, are kept too), or an object stream (which may hold anything).
fn keep_stand_ins(
    id: (u32, u16),
    object: &mut lopdf::Object,
) -> Option<((u32, u16), lopdf::Object)> {
    let keep = match &*object {
        lopdf::Object::Integer(_) => true,
        lopdf::Object::Stream(stream) => {
            let dict = &stream.dict;
            dict.has_type(b"ObjStm")
                || (dict.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"Form")
                    && (stream.content.is_empty() || stand_in_body(stream).is_some()))
        }
        _ => false,
    };
    // lopdf keeps its own object when the answer is `Some`; what is returned is not used.
    keep.then_some((id, lopdf::Object::Null))
}

/// The text after the marker of a stand-in's content stream.
fn stand_in_body(stream: &lopdf::Stream) -> Option<Vec<u8>> {
    let body = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    body.strip_prefix(MARKER).map(<[u8]>::to_vec)
}

/// The stand-in XObjects of a frame, by file and page.
fn stand_ins_in(doc: &lopdf::Document, stand_ins: &StandIns) -> anyhow::Result<Vec<Found>> {
    let mut found = Vec::new();
    for (&(id, _), object) in &doc.objects {
        let Ok(stream) = object.as_stream() else {
            continue;
        };
        let form = stream.dict.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"Form");
        if !form {
            continue;
        }
        let Some(rest) = stand_in_body(stream) else {
            continue;
        };
        let text = String::from_utf8_lossy(&rest);
        let mut parts = text.split_whitespace();
        let (Some(key), Some(Ok(page))) = (parts.next(), parts.next().map(str::parse::<usize>))
        else {
            bail!("排版结果里的证据占位页 {id} 无法识别");
        };
        let Some((file, source)) = stand_ins.file(key) else {
            bail!("排版结果里的证据占位页 {id} 指向未知的文件");
        };
        found.push(Found {
            id,
            key: key.to_string(),
            file,
            source,
            page,
        });
    }
    // One file after another, its pages in order: each file is read once.
    found.sort_by(|a, b| (&a.key, a.page, a.id).cmp(&(&b.key, b.page, b.id)));
    Ok(found)
}

/// The real pages of one file as form XObjects, each numbered as its stand-in, what they use
/// numbered from `next` on.
fn file_xobjects(group: &[Found], next: &mut u32) -> anyhow::Result<pdf_writer::Chunk> {
    let file = &group[0].file;
    let data = std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?;
    let source = hayro_syntax::Pdf::new(Arc::new(data))
        .map_err(|_| anyhow::anyhow!("{} 不是可读的 PDF", file.display()))?;
    let queries: Vec<hayro_write::ExtractionQuery> = group
        .iter()
        .map(|f| hayro_write::ExtractionQuery::new_xobject(f.page))
        .collect();
    let first = *next as i32;
    let mut alloc = Ref::new(first);
    let extracted = hayro_write::extract(
        &source,
        Box::new(move || alloc.bump()),
        hayro_write::ChunkSettings::default(),
        |_| {},
        &queries,
    )
    .map_err(|e| anyhow::anyhow!("{} 无法嵌入：{e:?}", file.display()))?;
    let mut roots: HashMap<Ref, Ref> = HashMap::new();
    for (f, root) in group.iter().zip(&extracted.root_refs) {
        let Ok(root) = root else {
            bail!("{} 第 {} 页无法嵌入", file.display(), f.page + 1);
        };
        roots.insert(*root, Ref::new(f.id as i32));
    }
    let max = (extracted.chunk.refs())
        .map(Ref::get)
        .chain([extracted.page_tree_parent_ref.get()])
        .max()
        .unwrap_or(first);
    *next = max as u32 + 1;
    Ok(extracted
        .chunk
        .renumber(|r| roots.get(&r).copied().unwrap_or(r)))
}

/// A JPEG that passes through as the form XObject of each stand-in of it (one, normally): the
/// image drawn over the page as its one-page PDF would (orientation by the matrix), the image
/// numbered `next`.
fn jpeg_xobjects(
    group: &[Found],
    placed: PassThrough,
    print: Option<Fingerprint>,
    next: &mut u32,
) -> anyhow::Result<pdf_writer::Chunk> {
    let file = &group[0].file;
    let data = std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?;
    if print.is_none()
        || Fingerprint::of(file) != print
        || data.len() as u64 != print.map_or(0, |p| p.size)
    {
        bail!(
            "{} 在生成过程中被改动了，请等文件复制完成后重新生成",
            file.display()
        );
    }
    // Every byte that goes into the PDF is walked: `check` read only the JPEG's two ends (see
    // `raster::examine_jpeg_file`).
    if let Err(defect) = crate::raster::examine(crate::raster::Format::Jpeg, &data) {
        return Err(Unusable {
            path: file.clone(),
            why: defect.to_string(),
        }
        .into());
    }
    let (pw, ph) = (placed.size.0 as f32, placed.size.1 as f32);
    let image = Ref::new(*next as i32);
    *next += 1;
    let mut chunk = pdf_writer::Chunk::new();
    let content = crate::normalize::jpeg_content(placed.orientation, pw, ph);
    for f in group {
        let mut form = chunk.form_xobject(Ref::new(f.id as i32), &content);
        form.bbox(Rect::new(0.0, 0.0, pw, ph));
        form.resources()
            .x_objects()
            .pair(pdf_writer::Name(b"Im0"), image);
        form.finish();
    }
    crate::normalize::write_jpeg_image(&mut chunk, image, &placed.jpeg(&data));
    Ok(chunk)
}

/// Where each object of a chunk starts in its bytes. pdf-writer writes objects one after
/// another, each `N 0 obj` at the start of a line after the previous `endobj`.
fn object_offsets(chunk: &pdf_writer::Chunk) -> anyhow::Result<Vec<(u32, usize)>> {
    let bytes = chunk.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    for r in chunk.refs() {
        let head = format!("{} 0 obj", r.get());
        let at = (from..bytes.len())
            .find(|&i| {
                bytes[i..].starts_with(head.as_bytes())
                    && (i == 0 || bytes[i - 1] == b'\n')
                    && (i == 0
                        || bytes[..i].ends_with(b"endobj\n")
                        || bytes[..i].ends_with(b"endobj\n\n"))
            })
            .ok_or_else(|| anyhow::anyhow!("拼装证据页时找不到对象 {}", r.get()))?;
        out.push((r.get() as u32, at));
        from = at + head.len();
    }
    Ok(out)
}

/// The offset of a PDF's last cross-reference section.
fn start_xref(pdf: &[u8]) -> Option<usize> {
    let tail = &pdf[pdf.len().saturating_sub(1024)..];
    let at = tail.windows(9).rposition(|w| w == b"startxref")?;
    let text = String::from_utf8_lossy(&tail[at + 9..]);
    text.split_whitespace().next()?.parse().ok()
}

/// The cross-reference section and trailer of the update.
fn write_xref(
    out: &mut impl Write,
    doc: &lopdf::Document,
    offsets: &BTreeMap<u32, usize>,
    (pos, prev): (usize, usize),
) -> anyhow::Result<()> {
    let mut s = String::from("xref\n");
    let ids: Vec<u32> = offsets.keys().copied().collect();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
            j += 1;
        }
        s.push_str(&format!("{} {}\n", ids[i], j - i + 1));
        for id in &ids[i..=j] {
            s.push_str(&format!("{:010} 00000 n\r\n", offsets[id]));
        }
        i = j + 1;
    }
    let size = ids.last().copied().unwrap_or(0).max(doc.max_id) + 1;
    let reference = |key: &[u8]| {
        doc.trailer
            .get(key)
            .and_then(lopdf::Object::as_reference)
            .ok()
            .map(|(n, g)| format!(" /{} {n} {g} R", String::from_utf8_lossy(key)))
    };
    let root = reference(b"Root").context("排版结果没有 /Root")?;
    let info = reference(b"Info").unwrap_or_default();
    let id = doc
        .trailer
        .get(b"ID")
        .and_then(lopdf::Object::as_array)
        .ok()
        .map(|a| {
            let hex: Vec<String> = a
                .iter()
                .filter_map(|o| o.as_str().ok())
                .map(|b| format!("<{}>", crate::evidence::hex(b)))
                .collect();
            format!(" /ID [{}]", hex.join(" "))
        })
        .unwrap_or_default();
    s.push_str(&format!(
        "trailer\n<< /Size {size}{root}{info}{id} /Prev {prev} >>\nstartxref\n{pos}\n%%EOF\n"
    ));
    out.write_all(s.as_bytes())?;
    Ok(())
}
