//! The streaming page assembler. Typst lays out the frame of a document — cover, contents,
//! catalogs, and every evidence page with its running head, stamp and number — but each PDF
//! page of evidence it embeds is a *stand-in*: a page of the same size and rotation whose only
//! content is a marker naming the real page. Typst never holds the evidence, and its output is
//! small. The real pages (their content and resources copied from the source file by
//! hayro-write, one file at a time; a JPEG that passes through as its own bytes) are written
//! one of two ways, and links, bookmarks, page labels and tags of the frame stay exactly as
//! Typst made them either way:
//!
//! - *ahead* ([`write_ahead`], [`finish_ahead`]): the evidence the plan draws is written first,
//!   while Typst lays out the frame, numbered from 1; then the frame's objects, renumbered after
//!   it byte for byte otherwise (`renumber`), each stand-in drawn by the page written for it;
//!   one cross-reference section. A dossier (or its first volume) is written so: most of its
//!   bytes go to the disk and the package while the layout runs. Later volumes are laid out
//!   while the one before is written, so they are written after.
//! - *after* ([`write()`]): the frame as it is, then an incremental update redefining each
//!   stand-in as its real page — for later volumes, binders, and a dossier whose own templates
//!   may draw other pages than its plan says.
//!
//! Memory: the frame, and one evidence file at a time. Deterministic: markers name files by a
//! digest of the project path Typst asked for; ahead, files are written in the order of the
//! document, after, in the order of those digests — so the same evidence gives the same bytes
//! wherever the dossier and its output folder are.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use pdf_writer::{Finish, Pdf, Rect, Ref};
use sha2::Digest;

use crate::normalize::PassThrough;
use crate::paths::Fingerprint;
use crate::typeset::Served;

mod renumber;

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
    files: Mutex<HashMap<String, (PathBuf, Source, usize)>>,
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
        let entry = (real.to_path_buf(), source, boxes.len());
        lock(&self.files).insert(key.clone(), entry);
        stand_in_pdf(boxes, &key)
    }

    /// Whether any stand-in was made.
    pub fn is_empty(&self) -> bool {
        lock(&self.files).is_empty()
    }

    /// The file of marker `key`, how it is drawn, and its number of pages.
    fn file(&self, key: &str) -> Option<(PathBuf, Source, usize)> {
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

/// Writes the frame `frame` as it is, then, as an incremental update, every stand-in redefined
/// as its real page: a document whose evidence was not written ahead (a later volume, a
/// binder, a dossier with templates of its own).
pub fn write(frame: &[u8], stand_ins: &StandIns, out: &mut impl Write) -> anyhow::Result<()> {
    out.write_all(frame)?;
    if stand_ins.is_empty() {
        return Ok(());
    }
    let objects = renumber::objects(frame)?;
    let found = found_of(renumber::marked_forms(frame, &objects, MARKER)?, stand_ins)?;
    if found.is_empty() {
        return Ok(());
    }
    let prev = start_xref(frame).context("排版结果没有交叉引用表")?;
    let trailer = Trailer::of(frame, &objects, &|n| n)?;
    let mut next = trailer.max_id + 1;
    let mut offsets: BTreeMap<u32, usize> = BTreeMap::new();
    let mut pos = frame.len();
    if !frame.ends_with(b"\n") {
        out.write_all(b"\n")?;
        pos += 1;
    }
    // One file at a time, all its pages in one extraction so that what they share (fonts,
    // images) is written once.
    let placing = Placing {
        out,
        pos,
        offsets: &mut offsets,
        scratch: Vec::new(),
    };
    let found: Vec<&Found> = found.iter().collect();
    let pos = write_pages(&found, (0, &mut next), placing)?;
    write_xref(out, &trailer, &offsets, (pos, Some(prev)))
}

/// Writes the real pages of `found` stand-ins (each the form XObject numbered as its stand-in,
/// plus `shift`; what they use from `next` on) to `to`; returns the position after them.
fn write_pages<W: Write>(
    found: &[&Found],
    (shift, next): (u32, &mut u32),
    mut to: Placing<'_, W>,
) -> anyhow::Result<usize> {
    for group in found.chunk_by(|a, b| a.key == b.key) {
        let pages: Vec<(usize, u32)> = group.iter().map(|f| (f.page, f.id + shift)).collect();
        xobjects(&group[0].file, group[0].source, &pages, (next, &mut to))?;
    }
    Ok(to.pos)
}

/// The first bytes of every PDF Typst writes here (PDF 1.7, then a binary comment): a PDF
/// whose evidence is written before its frame starts with them, and the frame must too.
const HEADER: &[u8] = b"%PDF-1.7\n%\x80\x80\x80\x80\n\n";

/// The evidence of a document written before its layout is done ([`write_ahead`]): the
/// objects numbered from 1, the frame's after them ([`finish_ahead`]). Writing the evidence —
/// most of the bytes of a dossier of scans — while Typst lays out and exports keeps the disk
/// and the package busy when they would otherwise wait for the frame (200 scans on 2 cores:
/// a first build 0.95 → 0.88 s, a rebuild 0.84 → 0.81 s, alternated runs).
pub struct Ahead {
    /// (marker key, 0-based page) → the form XObject that draws that page.
    forms: HashMap<(String, usize), u32>,
    /// Marker key → file and how it was drawn.
    files: HashMap<String, (PathBuf, Source)>,
    /// Object → its offset in the file.
    offsets: BTreeMap<u32, usize>,
    /// Bytes written.
    pos: usize,
    /// The highest object number used.
    last: u32,
}

/// Writes the start of a PDF: its header and the evidence pages its document will draw,
/// `pages` (as the plan names them: path for Typst, 1-based page; see
/// [`crate::plan::Plan::drawn_pages`]), found by `resolve` as the world finds them, one file at
/// a time in the order of the document. A page that cannot be found or read here is left to
/// the layout, which reports it as it always does.
pub fn write_ahead(
    pages: &[(&str, u32)],
    resolve: &dyn Fn(&str) -> Option<Served>,
    cache: Arc<StandInCache>,
    out: &mut impl Write,
) -> anyhow::Result<Ahead> {
    out.write_all(HEADER)?;
    let mut ahead = Ahead {
        forms: HashMap::new(),
        files: HashMap::new(),
        offsets: BTreeMap::new(),
        pos: HEADER.len(),
        last: 0,
    };
    // Each file once, at its first page, with all its pages.
    let mut order: Vec<&str> = Vec::new();
    let mut wanted: HashMap<&str, Vec<usize>> = HashMap::new();
    for &(asked, page) in pages {
        let Some(index) = (page as usize).checked_sub(1) else {
            continue;
        };
        let list = wanted.entry(asked).or_insert_with(|| {
            order.push(asked);
            Vec::new()
        });
        if !list.contains(&index) {
            list.push(index);
        }
    }
    let stand_ins = StandIns::new(cache);
    let mut next = 1u32;
    let mut scratch = Vec::new();
    for asked in order {
        let made = match resolve(asked) {
            Some(Served::File(path)) if crate::typeset::is_pdf(&path) => {
                stand_ins.stand_in(&path, asked)
            }
            Some(Served::Jpeg(path)) => stand_ins.jpeg_stand_in(&path, asked),
            _ => continue,
        };
        let key = key_of(asked);
        let (Ok(_), Some((file, source, count))) = (made, stand_ins.file(&key)) else {
            continue;
        };
        let mut list: Vec<(usize, u32)> = Vec::new();
        for &page in &wanted[asked] {
            if page < count {
                list.push((page, next));
                next += 1;
            }
        }
        if list.is_empty() {
            continue;
        }
        let mut to = Placing {
            out: &mut *out,
            pos: ahead.pos,
            offsets: &mut ahead.offsets,
            scratch: std::mem::take(&mut scratch),
        };
        xobjects(&file, source, &list, (&mut next, &mut to))?;
        (ahead.pos, scratch) = (to.pos, to.scratch);
        for (page, id) in list {
            ahead.forms.insert((key.clone(), page), id);
        }
        ahead.files.insert(key, (file, source));
    }
    ahead.last = next - 1;
    Ok(ahead)
}

/// Writes the rest of a PDF begun by [`write_ahead`]: the objects of the frame numbered after
/// the evidence (byte for byte otherwise), each stand-in drawn by the form written ahead for
/// its page — or, for a page not written ahead, by one written now — then one
/// cross-reference section for all.
pub fn finish_ahead(
    frame: &[u8],
    stand_ins: &StandIns,
    ahead: Ahead,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if !frame.starts_with(&HEADER[..9]) {
        bail!("排版结果不是 PDF 1.7，无法接在已写出的证据后面");
    }
    let objects = renumber::objects(frame)?;
    let found = found_of(renumber::marked_forms(frame, &objects, MARKER)?, stand_ins)?;
    let shift = ahead.last;
    // A stand-in whose page was written ahead is not copied: what refers to it draws that page.
    let mut drawn: HashMap<u32, u32> = HashMap::new();
    let mut late: Vec<&Found> = Vec::new();
    for f in &found {
        let same = (ahead.files.get(&f.key)).is_some_and(|(p, s)| *p == f.file && *s == f.source);
        match ahead.forms.get(&(f.key.clone(), f.page)) {
            Some(&form) if same => {
                drawn.insert(f.id, form);
            }
            _ => late.push(f),
        }
    }
    let map = |n: u32| drawn.get(&n).copied().unwrap_or(n + shift);
    let stand_in_ids: std::collections::HashSet<u32> = found.iter().map(|f| f.id).collect();
    let mut offsets = ahead.offsets;
    let mut pos = ahead.pos;
    let mut buf = Vec::with_capacity(1 << 16);
    let trailer = Trailer::of(frame, &objects, &map)?;
    let mut next = objects.iter().map(|&(n, _)| n).max().unwrap_or(0) + shift + 1;
    for (n, at) in objects {
        // Stand-ins are not copied: what drew them draws the evidence written for them.
        if stand_in_ids.contains(&n) {
            continue;
        }
        buf.clear();
        let src = frame.get(at..).context("排版结果的对象位置不对")?;
        renumber::copy(src, n + shift, &map, &mut buf)
            .with_context(|| format!("排版结果的对象 {n} 无法重新编号"))?;
        buf.push(b'\n');
        offsets.insert(n + shift, pos);
        out.write_all(&buf)?;
        pos += buf.len();
    }
    let placing = Placing {
        out: &mut *out,
        pos,
        offsets: &mut offsets,
        scratch: Vec::new(),
    };
    let pos = write_pages(&late, (shift, &mut next), placing)?;
    write_xref(out, &trailer, &offsets, (pos, None))
}

/// The stand-ins of `marked` form XObjects (number, text after the marker), by file and page.
fn found_of(marked: Vec<(u32, Vec<u8>)>, stand_ins: &StandIns) -> anyhow::Result<Vec<Found>> {
    let mut found = Vec::new();
    for (id, rest) in marked {
        let text = String::from_utf8_lossy(&rest);
        let mut parts = text.split_whitespace();
        let (Some(key), Some(Ok(page))) = (parts.next(), parts.next().map(str::parse::<usize>))
        else {
            bail!("排版结果里的证据占位页 {id} 无法识别");
        };
        let Some((file, source, _)) = stand_ins.file(key) else {
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

/// The real pages of one file as form XObjects: `pages` are (0-based page, number of its form
/// XObject); what they use is numbered from `next` on.
fn file_xobjects(
    file: &Path,
    pages: &[(usize, u32)],
    next: &mut u32,
) -> anyhow::Result<pdf_writer::Chunk> {
    let data = std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?;
    let source = hayro_syntax::Pdf::new(Arc::new(data))
        .map_err(|_| anyhow::anyhow!("{} 不是可读的 PDF", file.display()))?;
    let queries: Vec<hayro_write::ExtractionQuery> = pages
        .iter()
        .map(|&(page, _)| hayro_write::ExtractionQuery::new_xobject(page))
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
    for (&(page, id), root) in pages.iter().zip(&extracted.root_refs) {
        let Ok(root) = root else {
            bail!("{} 第 {} 页无法嵌入", file.display(), page + 1);
        };
        roots.insert(*root, Ref::new(id as i32));
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

/// A JPEG that passes through as form XObjects numbered `forms` (one, normally): the image
/// drawn over the page as its one-page PDF would (orientation by the matrix), the image
/// numbered `next`, its bytes written from `to.scratch` as they are (no copy of them is made).
/// `print`: the file as it was when its placement was read.
fn jpeg_xobjects<W: Write>(
    file: &Path,
    (placed, print): (PassThrough, Option<Fingerprint>),
    forms: &[u32],
    (next, to): (&mut u32, &mut Placing<'_, W>),
) -> anyhow::Result<()> {
    let mut data = std::mem::take(&mut to.scratch);
    data.clear();
    let read =
        std::fs::File::open(file).and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut data));
    read.with_context(|| format!("无法读取 {}", file.display()))?;
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
            path: file.to_path_buf(),
            why: defect.to_string(),
        }
        .into());
    }
    let (pw, ph) = (placed.size.0 as f32, placed.size.1 as f32);
    let image = Ref::new(*next as i32);
    *next += 1;
    let mut chunk = pdf_writer::Chunk::new();
    let content = crate::normalize::jpeg_content(placed.orientation, pw, ph);
    for &id in forms {
        let mut form = chunk.form_xobject(Ref::new(id as i32), &content);
        form.bbox(Rect::new(0.0, 0.0, pw, ph));
        form.resources()
            .x_objects()
            .pair(pdf_writer::Name(b"Im0"), image);
        form.finish();
    }
    to.chunk(&chunk)?;
    // The image's dictionary as pdf-writer writes it, its data after it as it is.
    let mut head = pdf_writer::Chunk::new();
    crate::normalize::write_jpeg_image(&mut head, image, &placed.jpeg(&[]));
    let head = head.as_bytes();
    let length = b"/Length 0\n";
    let at = memchr::memmem::find(head, length).context("图片对象的格式不对")?;
    let stream = memchr::memmem::find(head, b"stream\n").context("图片对象的格式不对")?;
    let mut start = head[..at].to_vec();
    start.extend_from_slice(format!("/Length {}\n", data.len()).as_bytes());
    start.extend_from_slice(&head[at + length.len()..stream + 7]);
    let end = &head[stream + 7..];
    to.object(image.get() as u32, &[&start, &data, end])?;
    to.scratch = data;
    Ok(())
}

/// The objects of one file's pages, written to `to`: form XObjects numbered `pages`' (page,
/// number), what they use from `next` on.
fn xobjects<W: Write>(
    file: &Path,
    source: Source,
    pages: &[(usize, u32)],
    (next, to): (&mut u32, &mut Placing<'_, W>),
) -> anyhow::Result<()> {
    match source {
        Source::Pdf => to.chunk(&file_xobjects(file, pages, next)?),
        Source::Jpeg(placed, print) => {
            let forms: Vec<u32> = pages.iter().map(|&(_, id)| id).collect();
            jpeg_xobjects(file, (placed, print), &forms, (next, to))
        }
    }
}

/// Writes objects to a PDF being written, keeping where each starts.
struct Placing<'a, W: Write> {
    out: &'a mut W,
    /// Bytes written before.
    pos: usize,
    offsets: &'a mut BTreeMap<u32, usize>,
    /// A buffer the bytes of one evidence file are read into, kept from file to file.
    scratch: Vec<u8>,
}

impl<W: Write> Placing<'_, W> {
    fn chunk(&mut self, chunk: &pdf_writer::Chunk) -> anyhow::Result<()> {
        for (id, at) in object_offsets(chunk)? {
            self.offsets.insert(id, self.pos + at);
        }
        self.out.write_all(chunk.as_bytes())?;
        self.pos += chunk.len();
        Ok(())
    }

    /// Object `id` made of `parts` (the first starts with `id 0 obj`).
    fn object(&mut self, id: u32, parts: &[&[u8]]) -> anyhow::Result<()> {
        self.offsets.insert(id, self.pos);
        for p in parts {
            self.out.write_all(p)?;
            self.pos += p.len();
        }
        Ok(())
    }
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

/// What a trailer names: the catalog, the document information, the file identifier (as
/// written: `[<…> <…>]`) and the highest object number of the frame.
struct Trailer {
    root: u32,
    info: Option<u32>,
    id: Option<String>,
    max_id: u32,
}

impl Trailer {
    /// The trailer of a frame with these `objects`, its object numbers mapped by `map`.
    fn of(
        frame: &[u8],
        objects: &[(u32, usize)],
        map: &dyn Fn(u32) -> u32,
    ) -> anyhow::Result<Trailer> {
        let (root, info, id) = renumber::trailer(frame)?;
        Ok(Trailer {
            root: map(root),
            info: info.map(map),
            id: id.map(|id| String::from_utf8_lossy(&id).into_owned()),
            max_id: map(objects.iter().map(|&(n, _)| n).max().unwrap_or(0)),
        })
    }
}

/// The cross-reference section and trailer: of an update when there is a `prev` section, else
/// of the whole file.
fn write_xref(
    out: &mut impl Write,
    trailer: &Trailer,
    offsets: &BTreeMap<u32, usize>,
    (pos, prev): (usize, Option<usize>),
) -> anyhow::Result<()> {
    let mut s = String::from("xref\n");
    if prev.is_none() {
        // A whole file: object 0 heads the (empty) list of free objects.
        s.push_str("0 1\n0000000000 65535 f\r\n");
    }
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
    let size = ids.last().copied().unwrap_or(0).max(trailer.max_id) + 1;
    let root = format!(" /Root {} 0 R", trailer.root);
    let info = (trailer.info).map_or(String::new(), |n| format!(" /Info {n} 0 R"));
    let id = (trailer.id.as_ref()).map_or(String::new(), |id| format!(" /ID {id}"));
    let prev = prev.map(|p| format!(" /Prev {p}")).unwrap_or_default();
    s.push_str(&format!(
        "trailer\n<< /Size {size}{root}{info}{id}{prev} >>\nstartxref\n{pos}\n%%EOF\n"
    ));
    out.write_all(s.as_bytes())?;
    Ok(())
}
