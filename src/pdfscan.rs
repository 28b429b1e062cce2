//! The page count of a PDF read from its cross-reference data, without reading the whole file.
//!
//! `check` and a build's first inspection count the pages of every evidence PDF; a scanned
//! report can be hundreds of megabytes, and reading two such files whole on two threads held a
//! gigabyte. This reads only what the count needs: the end of the file (`startxref`), the
//! cross-reference sections (classic tables and cross-reference streams, following `/Prev`
//! and a hybrid file's `/XRefStm`), the catalog and the root of the page tree, whose `/Count`
//! is the number of pages — a few kilobytes, wherever they are in the file.
//!
//! Anything it does not read with certainty gives `None`, and the caller reads the file whole
//! as before: an encrypted file (the password checks need the whole parser), a damaged or
//! unusual cross-reference, a filter other than Flate, a catalog or page tree that is not where
//! the cross-reference says.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};

/// How much of the end of the file is searched for `startxref`.
const TAIL: u64 = 4096;
/// What is read first for one object: a page, a catalog, a font list fit.
const SMALL_WINDOW: usize = 4096;
/// The most read for one object's dictionary (a catalog or page tree node is far smaller).
const OBJECT_WINDOW: usize = 64 * 1024;
/// The most pages and page tree levels walked.
const MAX_PAGES: usize = 1_000_000;
const MAX_DEPTH: usize = 64;
/// The XObjects of one resource dictionary looked into for a text layer.
const MAX_XOBJECTS: usize = 16;
/// The most read for one stream (a cross-reference stream or an object stream).
const STREAM_LIMIT: u64 = 64 << 20;
/// The most cross-reference sections followed (a file updated this often is unusual).
const SECTIONS: usize = 64;

/// The page count of the PDF `file` holds (`size` bytes), from its root page tree node's
/// `/Count`; `None` when it cannot be read that way with certainty (see the module doc).
pub fn page_count<F: Read + Seek>(file: &mut F, size: u64) -> Option<u32> {
    let (mut doc, root) = Doc::open(file, size)?;
    root_count(&mut doc, root)
}

/// What the inspection of an evidence PDF needs, read in one pass over its cross-reference
/// data: the page count, and which pages have a text layer (see [`text_pages`]; `None` when
/// the page tree cannot be walked with certainty or disagrees with the count).
pub struct Summary {
    /// The root page tree node's `/Count`.
    pub pages: u32,
    /// Whether each page has a text layer.
    pub text: Option<Vec<bool>>,
}

/// The [`Summary`] of the PDF `file` holds (`size` bytes); `None` when not even the page
/// count can be read with certainty.
pub fn summary<F: Read + Seek>(file: &mut F, size: u64) -> Option<Summary> {
    let (mut doc, root) = Doc::open(file, size)?;
    let pages = root_count(&mut doc, root)?;
    let text = walk(&mut doc, root).filter(|t| t.len() == pages as usize);
    Some(Summary { pages, text })
}

/// The `/Count` of the root page tree node `root`.
fn root_count<F: Read + Seek>(doc: &mut Doc<'_, F>, root: (u32, u16)) -> Option<u32> {
    let pages = doc.object(root)?;
    let pages = pages.as_dict()?;
    if pages
        .get(b"Type")
        .is_some_and(|t| t.as_name() != Some(b"Pages"))
    {
        return None;
    }
    let count = match pages.get(b"Count")? {
        Obj::Int(n) => *n,
        Obj::Ref(r) => match doc.object(*r)? {
            Obj::Int(n) => n,
            _ => return None,
        },
        _ => return None,
    };
    u32::try_from(count).ok()
}

/// Which pages of the PDF `file` holds have a text layer, in page order: a page has one when
/// its resources (its own or inherited from the page tree) name a font, directly or in a form
/// XObject it uses — a scan has only an image, a scan with a recognised text layer or a PDF
/// made from a document has fonts. `None` when the page tree cannot be read with certainty.
pub fn text_pages<F: Read + Seek>(file: &mut F, size: u64) -> Option<Vec<bool>> {
    let (mut doc, root) = Doc::open(file, size)?;
    walk(&mut doc, root)
}

/// Whether each page under the page tree node `root` has a text layer.
fn walk<F: Read + Seek>(doc: &mut Doc<'_, F>, root: (u32, u16)) -> Option<Vec<bool>> {
    let mut walk = Walk::default();
    walk.node(doc, root, None, 0)?;
    Some(walk.pages)
}

/// A walk over the page tree, in order.
#[derive(Default)]
struct Walk {
    /// Whether each page so far has a text layer.
    pages: Vec<bool>,
    /// Nodes seen (a loop in the tree is a damaged file).
    seen: HashSet<(u32, u16)>,
    /// Resource dictionaries and form XObjects already judged, by reference: pages mostly
    /// share them.
    judged: HashMap<(u32, u16), bool>,
}

impl Walk {
    fn node<F: Read + Seek>(
        &mut self,
        doc: &mut Doc<'_, F>,
        r: (u32, u16),
        inherited: Option<Obj>,
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH || self.pages.len() > MAX_PAGES || !self.seen.insert(r) {
            return None;
        }
        let node = doc.object(r)?;
        let node = node.as_dict()?;
        let resources = node.get(b"Resources").cloned().or(inherited);
        match node.get(b"Kids") {
            Some(kids) => {
                let Obj::Array(kids) = doc.resolve(kids)? else {
                    return None;
                };
                for kid in &kids {
                    self.node(doc, kid.as_ref()?, resources.clone(), depth + 1)?;
                }
            }
            None => {
                let text = self.has_text(doc, resources.as_ref(), 0)?;
                self.pages.push(text);
            }
        }
        Some(())
    }

    /// Whether `resources` name a font, directly or in one of their form XObjects.
    fn has_text<F: Read + Seek>(
        &mut self,
        doc: &mut Doc<'_, F>,
        resources: Option<&Obj>,
        depth: usize,
    ) -> Option<bool> {
        let Some(resources) = resources else {
            return Some(false);
        };
        let key = resources.as_ref();
        if let Some(known) = key.and_then(|k| self.judged.get(&k)) {
            return Some(*known);
        }
        let dict = doc.resolve(resources)?;
        let dict = dict.as_dict()?;
        let mut text = match dict.get(b"Font") {
            Some(fonts) => doc
                .resolve(fonts)?
                .as_dict()
                .is_some_and(|f| !f.0.is_empty()),
            None => false,
        };
        if let (false, Some(xobjects)) = (text, dict.get(b"XObject"))
            && depth < 2
        {
            let xobjects = doc.resolve(xobjects)?;
            for (_, x) in xobjects.as_dict()?.0.iter().take(MAX_XOBJECTS) {
                if let Obj::Ref(form) = x
                    && self.form_has_text(doc, *form, depth)?
                {
                    text = true;
                    break;
                }
            }
        }
        if let Some(k) = key {
            self.judged.insert(k, text);
        }
        Some(text)
    }

    /// Whether the XObject `r` is a form whose resources name a font.
    fn form_has_text<F: Read + Seek>(
        &mut self,
        doc: &mut Doc<'_, F>,
        r: (u32, u16),
        depth: usize,
    ) -> Option<bool> {
        if let Some(known) = self.judged.get(&r) {
            return Some(*known);
        }
        // The stream's dictionary only: its data (an image) is not read.
        let x = doc.object(r)?;
        let x = x.as_dict()?;
        let text = if x.get(b"Subtype").and_then(Obj::as_name) == Some(b"Form") {
            self.has_text(doc, x.get(b"Resources"), depth + 1)?
        } else {
            false
        };
        self.judged.insert(r, text);
        Some(text)
    }
}

/// A PDF value, as far as the page count needs one.
#[derive(Debug, Clone, PartialEq)]
enum Obj {
    Int(i64),
    Name(Vec<u8>),
    Ref((u32, u16)),
    Dict(Dict),
    Array(Vec<Obj>),
    /// A real number, string, boolean or null: read past, never needed.
    Other,
}

impl Obj {
    fn as_dict(&self) -> Option<&Dict> {
        match self {
            Obj::Dict(d) => Some(d),
            _ => None,
        }
    }

    fn as_ref(&self) -> Option<(u32, u16)> {
        match self {
            Obj::Ref(r) => Some(*r),
            _ => None,
        }
    }

    fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }

    fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// A dictionary: keys (without the slash) and values, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
struct Dict(Vec<(Vec<u8>, Obj)>);

impl Dict {
    fn get(&self, key: &[u8]) -> Option<&Obj> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Where an object is, by one cross-reference section.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Entry {
    Free,
    /// At this byte offset in the file.
    At(u64),
    /// In the object stream with this number.
    InStream(u32),
}

/// One cross-reference section.
enum Section {
    /// A classic table: subsections (first object, count, file offset of their entries).
    Table(Vec<(u32, u32, u64)>),
    /// A decoded cross-reference stream: field widths, subsections (first, count) and rows.
    Stream {
        widths: [usize; 3],
        index: Vec<(u32, u32)>,
        rows: Vec<u8>,
    },
}

struct Doc<'a, F> {
    file: &'a mut F,
    size: u64,
    /// Newest first: the order in which an object's entry is looked up.
    sections: Vec<Section>,
    /// Object streams decoded so far: their dictionary's /First and their data.
    object_streams: HashMap<u32, (usize, Vec<u8>)>,
}

impl<'a, F: Read + Seek> Doc<'a, F> {
    /// Reads the cross-reference sections of the PDF `file` holds; returns them with the
    /// reference of the root of the page tree. `None` for an encrypted file.
    fn open(file: &'a mut F, size: u64) -> Option<(Self, (u32, u16))> {
        let mut doc = Doc {
            file,
            size,
            sections: Vec::new(),
            object_streams: HashMap::new(),
        };
        let start = doc.startxref()?;
        let trailer = doc.load_sections(start)?;
        if trailer.get(b"Encrypt").is_some() {
            return None;
        }
        let catalog = doc.object(trailer.get(b"Root")?.as_ref()?)?;
        let root = catalog.as_dict()?.get(b"Pages")?.as_ref()?;
        Some((doc, root))
    }

    /// Up to `len` bytes at `offset` (fewer at the end of the file).
    fn read_at(&mut self, offset: u64, len: usize) -> Option<Vec<u8>> {
        if offset >= self.size {
            return None;
        }
        let len = len.min(usize::try_from(self.size - offset).ok()?);
        self.file.seek(SeekFrom::Start(offset)).ok()?;
        let mut buf = vec![0; len];
        self.file.read_exact(&mut buf).ok()?;
        Some(buf)
    }

    /// The offset after the last `startxref`.
    fn startxref(&mut self) -> Option<u64> {
        let from = self.size.saturating_sub(TAIL);
        let tail = self.read_at(from, TAIL as usize)?;
        let at = memchr::memmem::rfind(&tail, b"startxref")?;
        let mut lex = Lexer::new(&tail[at + 9..]);
        u64::try_from(lex.int()?).ok()
    }

    /// Reads the section at `offset` and those it points to, newest first; returns the newest
    /// trailer.
    fn load_sections(&mut self, offset: u64) -> Option<Dict> {
        let mut next = vec![offset];
        let mut newest = None;
        let mut seen = Vec::new();
        while let Some(at) = next.pop() {
            if seen.contains(&at) || seen.len() >= SECTIONS {
                return None;
            }
            seen.push(at);
            let (section, trailer) = self.section(at)?;
            self.sections.push(section);
            // A hybrid file's stream comes right after its table; then the older sections.
            if let Some(prev) = trailer.get(b"Prev") {
                next.push(u64::try_from(prev.as_int()?).ok()?);
            }
            if let Some(stm) = trailer.get(b"XRefStm") {
                next.push(u64::try_from(stm.as_int()?).ok()?);
            }
            newest.get_or_insert(trailer);
        }
        newest
    }

    /// The section at `offset` and its trailer (a stream's dictionary is its trailer).
    fn section(&mut self, offset: u64) -> Option<(Section, Dict)> {
        let head = self.read_at(offset, 64)?;
        let mut lex = Lexer::new(&head);
        lex.skip_space();
        if lex.rest().starts_with(b"xref") {
            self.table(offset + lex.pos as u64 + 4)
        } else {
            self.xref_stream(offset)
        }
    }

    /// A classic table whose subsections start at `offset`: skips over the entries (20 bytes
    /// each) to the trailer.
    fn table(&mut self, mut offset: u64) -> Option<(Section, Dict)> {
        let mut subsections = Vec::new();
        loop {
            let head = self.read_at(offset, 256)?;
            let mut lex = Lexer::new(&head);
            lex.skip_space();
            if lex.rest().starts_with(b"trailer") {
                let at = offset + lex.pos as u64 + 7;
                let window = self.read_at(at, OBJECT_WINDOW)?;
                let trailer = Lexer::new(&window).object()?;
                return Some((Section::Table(subsections), trailer.as_dict()?.clone()));
            }
            let first = u32::try_from(lex.int()?).ok()?;
            let count = u32::try_from(lex.int()?).ok()?;
            // The header ends with its end of line; the entries follow.
            let line_end = lex.rest().iter().position(|&b| b == b'\n' || b == b'\r')?;
            let mut start = lex.pos + line_end;
            while head.get(start).is_some_and(|&b| b == b'\n' || b == b'\r') {
                start += 1;
            }
            let entries = offset + start as u64;
            // Each entry is exactly 20 bytes: check the last one looks like one.
            if count > 0 {
                let last = self.read_at(entries + (u64::from(count) - 1) * 20, 20)?;
                if last.len() != 20 || !matches!(last[17], b'n' | b'f') || last[10] != b' ' {
                    return None;
                }
            }
            subsections.push((first, count, entries));
            offset = entries + u64::from(count) * 20;
            if subsections.len() > 100_000 {
                return None;
            }
        }
    }

    /// A cross-reference stream at `offset`, decoded.
    fn xref_stream(&mut self, offset: u64) -> Option<(Section, Dict)> {
        let (dict, data) = self.stream_at(offset, None)?;
        if dict.get(b"Type")?.as_name()? != b"XRef" {
            return None;
        }
        let w: Vec<usize> = match dict.get(b"W")? {
            Obj::Array(a) => (a.iter())
                .map(|o| o.as_int().and_then(|n| usize::try_from(n).ok()))
                .collect::<Option<_>>()?,
            _ => return None,
        };
        let widths: [usize; 3] = w.try_into().ok()?;
        if widths.iter().any(|&w| w > 8) {
            return None;
        }
        let size = u32::try_from(dict.get(b"Size")?.as_int()?).ok()?;
        let index = match dict.get(b"Index") {
            None => vec![(0, size)],
            Some(Obj::Array(a)) => {
                let n: Vec<u32> = (a.iter())
                    .map(|o| o.as_int().and_then(|n| u32::try_from(n).ok()))
                    .collect::<Option<_>>()?;
                n.chunks_exact(2).map(|c| (c[0], c[1])).collect()
            }
            Some(_) => return None,
        };
        let rows_needed: u64 = index.iter().map(|&(_, c)| u64::from(c)).sum();
        let row: usize = widths.iter().sum();
        if (data.len() as u64) < rows_needed * row as u64 {
            return None;
        }
        let section = Section::Stream {
            widths,
            index,
            rows: data,
        };
        Some((section, dict))
    }

    /// Where object `num` is, by the newest section that lists it.
    fn entry(&mut self, num: u32) -> Option<Entry> {
        for i in 0..self.sections.len() {
            if let Some(e) = self.entry_in(i, num)? {
                return Some(e);
            }
        }
        None
    }

    /// Object `num`'s entry in section `i`: `Some(None)` when the section does not list it.
    fn entry_in(&mut self, i: usize, num: u32) -> Option<Option<Entry>> {
        match &self.sections[i] {
            Section::Table(subsections) => {
                let Some(&(first, _, at)) = (subsections.iter())
                    .find(|&&(first, count, _)| num >= first && num - first < count)
                else {
                    return Some(None);
                };
                let raw = self.read_at(at + u64::from(num - first) * 20, 20)?;
                let mut lex = Lexer::new(&raw);
                let offset = u64::try_from(lex.int()?).ok()?;
                lex.int()?;
                lex.skip_space();
                Some(Some(match lex.rest().first()? {
                    b'n' => Entry::At(offset),
                    b'f' => Entry::Free,
                    _ => return None,
                }))
            }
            Section::Stream {
                widths,
                index,
                rows,
            } => {
                let mut before = 0usize;
                for &(first, count) in index {
                    if num >= first && num - first < count {
                        let row: usize = widths.iter().sum();
                        let at = (before + (num - first) as usize) * row;
                        let field = |k: usize, default: u64| {
                            let from = at + widths[..k].iter().sum::<usize>();
                            let bytes = &rows[from..from + widths[k]];
                            if bytes.is_empty() {
                                default
                            } else {
                                bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b))
                            }
                        };
                        return Some(Some(match field(0, 1) {
                            0 => Entry::Free,
                            1 => Entry::At(field(1, 0)),
                            2 => Entry::InStream(u32::try_from(field(1, 0)).ok()?),
                            _ => return None,
                        }));
                    }
                    before += count as usize;
                }
                Some(None)
            }
        }
    }

    /// The value of object `r`.
    fn object(&mut self, r: (u32, u16)) -> Option<Obj> {
        match self.entry(r.0)? {
            Entry::Free => None,
            Entry::At(offset) => {
                // Most objects (a page, a font list) fit a small window; a larger one if not.
                for window in [SMALL_WINDOW, OBJECT_WINDOW] {
                    let bytes = self.read_at(offset, window)?;
                    let mut lex = Lexer::new(&bytes);
                    lex.object_header(r.0)?;
                    if let Some(obj) = lex.object() {
                        return Some(obj);
                    }
                    if bytes.len() < window {
                        return None;
                    }
                }
                None
            }
            Entry::InStream(stream) => self.in_object_stream(stream, r.0),
        }
    }

    /// Object `num` from object stream `stream`.
    fn in_object_stream(&mut self, stream: u32, num: u32) -> Option<Obj> {
        if !self.object_streams.contains_key(&stream) {
            let Entry::At(offset) = self.entry(stream)? else {
                return None;
            };
            let (dict, data) = self.stream_at(offset, Some(stream))?;
            if dict.get(b"Type")?.as_name()? != b"ObjStm" {
                return None;
            }
            let first = usize::try_from(dict.get(b"First")?.as_int()?).ok()?;
            self.object_streams.insert(stream, (first, data));
        }
        let (first, data) = self.object_streams.get(&stream)?;
        let (first, data) = (*first, data.as_slice());
        let mut lex = Lexer::new(data.get(..first)?);
        loop {
            let (obj, at) = (lex.int()?, lex.int()?);
            if obj == i64::from(num) {
                let from = first.checked_add(usize::try_from(at).ok()?)?;
                return Lexer::new(data.get(from..)?).object();
            }
        }
    }

    /// `obj`, or the object it refers to.
    fn resolve(&mut self, obj: &Obj) -> Option<Obj> {
        match obj {
            Obj::Ref(r) => self.object(*r),
            other => Some(other.clone()),
        }
    }

    /// The dictionary and decoded data of the stream object at `offset` (object `num`, when
    /// known, is checked against its header).
    fn stream_at(&mut self, offset: u64, num: Option<u32>) -> Option<(Dict, Vec<u8>)> {
        let window = self.read_at(offset, OBJECT_WINDOW)?;
        let mut lex = Lexer::new(&window);
        let header = lex.object_header_any()?;
        if num.is_some_and(|n| n != header) {
            return None;
        }
        let dict = lex.object()?.as_dict()?.clone();
        lex.skip_space();
        if !lex.rest().starts_with(b"stream") {
            return None;
        }
        let mut start = lex.pos + 6;
        if window.get(start) == Some(&b'\r') {
            start += 1;
        }
        if window.get(start) == Some(&b'\n') {
            start += 1;
        }
        let length = match dict.get(b"Length")? {
            Obj::Int(n) => u64::try_from(*n).ok()?,
            // An indirect length in an xref stream would need the xref being read.
            Obj::Ref(r) if num.is_some() => u64::try_from(self.object(*r)?.as_int()?).ok()?,
            _ => return None,
        };
        if length > STREAM_LIMIT {
            return None;
        }
        let raw = self.read_at(offset + start as u64, usize::try_from(length).ok()?)?;
        if raw.len() as u64 != length {
            return None;
        }
        let data = decode(&dict, raw)?;
        Some((dict, data))
    }
}

/// The stream data after its filter: none, or Flate with or without PNG predictors.
fn decode(dict: &Dict, raw: Vec<u8>) -> Option<Vec<u8>> {
    let filter = match dict.get(b"Filter") {
        None => None,
        Some(Obj::Name(n)) => Some(n.as_slice()),
        Some(Obj::Array(a)) if a.len() == 1 => Some(a[0].as_name()?),
        Some(Obj::Array(a)) if a.is_empty() => None,
        Some(_) => return None,
    };
    let data = match filter {
        None => return Some(raw),
        Some(b"FlateDecode") => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(raw.as_slice())
                .take(STREAM_LIMIT)
                .read_to_end(&mut out)
                .ok()?;
            out
        }
        Some(_) => return None,
    };
    let params = match dict.get(b"DecodeParms") {
        None => return Some(data),
        Some(Obj::Dict(d)) => d,
        Some(Obj::Array(a)) if a.len() == 1 => a[0].as_dict()?,
        Some(_) => return None,
    };
    let predictor = params.get(b"Predictor").and_then(Obj::as_int).unwrap_or(1);
    let columns = params.get(b"Columns").and_then(Obj::as_int).unwrap_or(1);
    let colors = params.get(b"Colors").and_then(Obj::as_int).unwrap_or(1);
    let bits = params
        .get(b"BitsPerComponent")
        .and_then(Obj::as_int)
        .unwrap_or(8);
    match predictor {
        1 => Some(data),
        10..=15 if colors == 1 && bits == 8 => unpredict_png(&data, usize::try_from(columns).ok()?),
        _ => None,
    }
}

/// Undoes PNG row predictors (one byte per pixel, `columns` bytes a row).
fn unpredict_png(data: &[u8], columns: usize) -> Option<Vec<u8>> {
    if columns == 0 {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; columns];
    for row in data.chunks(columns + 1) {
        let (&kind, bytes) = row.split_first()?;
        if bytes.len() != columns {
            return None;
        }
        let mut cur = vec![0u8; columns];
        for i in 0..columns {
            let left = if i > 0 { cur[i - 1] } else { 0 };
            let up = prev[i];
            let up_left = if i > 0 { prev[i - 1] } else { 0 };
            let add = match kind {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, up_left),
                _ => return None,
            };
            cur[i] = bytes[i].wrapping_add(add);
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Some(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Reads PDF values from a byte slice; `None` on anything unexpected or cut off.
struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delimiter(b: u8) -> bool {
    is_space(b) || b"()<>[]{}/%".contains(&b)
}

impl<'a> Lexer<'a> {
    fn new(data: &'a [u8]) -> Self {
        Lexer { data, pos: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        &self.data[self.pos.min(self.data.len())..]
    }

    fn skip_space(&mut self) {
        while let Some(&b) = self.data.get(self.pos) {
            if is_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self
                    .data
                    .get(self.pos)
                    .is_some_and(|&b| b != b'\n' && b != b'\r')
                {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A token of regular characters.
    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.data.get(self.pos).is_some_and(|&b| !is_delimiter(b)) {
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    fn int(&mut self) -> Option<i64> {
        self.skip_space();
        let w = self.word();
        std::str::from_utf8(w).ok()?.parse().ok()
    }

    /// `num gen obj`, checking the number.
    fn object_header(&mut self, num: u32) -> Option<()> {
        (self.object_header_any()? == num).then_some(())
    }

    /// `num gen obj`: the number.
    fn object_header_any(&mut self) -> Option<u32> {
        let num = u32::try_from(self.int()?).ok()?;
        self.int()?;
        self.skip_space();
        (self.word() == b"obj").then_some(num)
    }

    /// One value.
    fn object(&mut self) -> Option<Obj> {
        self.skip_space();
        let b = *self.data.get(self.pos)?;
        match b {
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut dict = Dict::default();
                loop {
                    self.skip_space();
                    if self.rest().starts_with(b">>") {
                        self.pos += 2;
                        return Some(Obj::Dict(dict));
                    }
                    let key = match self.object()? {
                        Obj::Name(n) => n,
                        _ => return None,
                    };
                    let value = self.object()?;
                    dict.0.push((key, value));
                }
            }
            b'<' => {
                let end = memchr::memchr(b'>', self.rest())?;
                self.pos += end + 1;
                Some(Obj::Other)
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    if self.data.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        return Some(Obj::Array(items));
                    }
                    items.push(self.object()?);
                }
            }
            b'(' => self.string(),
            b'/' => {
                self.pos += 1;
                Some(Obj::Name(self.word().to_vec()))
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => self.number(),
            _ => match self.word() {
                b"true" | b"false" | b"null" => Some(Obj::Other),
                _ => None,
            },
        }
    }

    /// An integer, a real, or a reference `num gen R`.
    fn number(&mut self) -> Option<Obj> {
        let w = self.word();
        let Ok(n) = std::str::from_utf8(w).ok()?.parse::<i64>() else {
            std::str::from_utf8(w).ok()?.parse::<f64>().ok()?;
            return Some(Obj::Other);
        };
        // `num gen R`?
        let save = self.pos;
        if let Some(generation) = self.int()
            && {
                self.skip_space();
                self.word() == b"R"
            }
            && let (Ok(num), Ok(generation)) = (u32::try_from(n), u16::try_from(generation))
        {
            return Some(Obj::Ref((num, generation)));
        }
        self.pos = save;
        Some(Obj::Int(n))
    }

    /// A literal string, with nested brackets and escapes.
    fn string(&mut self) -> Option<Obj> {
        self.pos += 1;
        let mut depth = 1;
        while depth > 0 {
            match *self.data.get(self.pos)? {
                b'\\' => self.pos += 1,
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        Some(Obj::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Counts the bytes read through it.
    struct Counting<R> {
        inner: R,
        read: u64,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n as u64;
            Ok(n)
        }
    }

    impl<R: Seek> Seek for Counting<R> {
        fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    fn count(bytes: &[u8]) -> Option<u32> {
        page_count(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    fn hayro_count(bytes: &[u8]) -> usize {
        let pdf = hayro_syntax::Pdf::new(std::sync::Arc::new(bytes.to_vec())).unwrap();
        pdf.pages().len()
    }

    /// A PDF of `pages` pages written by lopdf, each holding `filler` bytes of content; with
    /// `compressed`, in object streams with a cross-reference stream.
    fn lopdf_pdf(pages: usize, filler: usize, compressed: bool) -> Vec<u8> {
        use lopdf::{Document, Object, Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let tree = doc.new_object_id();
        let kids: Vec<Object> = (0..pages)
            .map(|i| {
                let body = format!("% page {i}\n{}", "0 0 m\n".repeat(filler / 6));
                let content = doc.add_object(Stream::new(dictionary! {}, body.into_bytes()));
                doc.add_object(dictionary! {
                    "Type" => "Page",
                    "Parent" => tree,
                    "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
                    "Contents" => content,
                })
                .into()
            })
            .collect();
        doc.objects.insert(
            tree,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => kids,
                "Count" => i64::try_from(pages).unwrap(),
            }),
        );
        save(doc, tree, compressed)
    }

    /// `doc` with a catalog over the page tree `tree`, as bytes: classic, or (`compressed`)
    /// with object streams and a cross-reference stream.
    fn save(mut doc: lopdf::Document, tree: lopdf::ObjectId, compressed: bool) -> Vec<u8> {
        let catalog = doc.add_object(lopdf::dictionary! { "Type" => "Catalog", "Pages" => tree });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        if compressed {
            doc.save_modern(&mut out).unwrap();
        } else {
            doc.save_to(&mut out).unwrap();
        }
        out
    }

    #[test]
    fn classic_and_stream_cross_references_give_the_page_tree_count() {
        for compressed in [false, true] {
            for pages in [1, 3, 40] {
                let pdf = lopdf_pdf(pages, 100, compressed);
                let streams = [&b"/ObjStm"[..], b"/XRef"]
                    .iter()
                    .all(|k| memchr::memmem::find(&pdf, k).is_some());
                assert_eq!(streams, compressed, "object and cross-reference streams");
                assert_eq!(count(&pdf), Some(pages as u32), "{compressed} {pages}");
                assert_eq!(hayro_count(&pdf), pages);
            }
        }
    }

    #[test]
    fn a_large_pdf_is_counted_from_a_few_kilobytes() {
        let pdf = lopdf_pdf(200, 40_000, false);
        assert!(pdf.len() > 7_000_000, "{}", pdf.len());
        let mut file = Counting {
            inner: Cursor::new(&pdf),
            read: 0,
        };
        assert_eq!(page_count(&mut file, pdf.len() as u64), Some(200));
        assert!(file.read < 300_000, "read {} bytes", file.read);
    }

    /// Appends `objects` (number, body) to `pdf` with a classic cross-reference table whose
    /// trailer has `/Prev prev`; returns the table's offset.
    fn append_section(pdf: &mut Vec<u8>, objects: &[(u32, &str)], prev: Option<u64>) -> u64 {
        let mut offsets = Vec::new();
        for (n, body) in objects {
            offsets.push((*n, pdf.len()));
            pdf.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
        }
        let xref = pdf.len() as u64;
        let mut table = String::from("xref\n0 1\n0000000000 65535 f \n");
        for (n, at) in offsets {
            table.push_str(&format!("{n} 1\n{at:010} 00000 n \n"));
        }
        let prev = prev.map_or(String::new(), |p| format!(" /Prev {p}"));
        table.push_str(&format!(
            "trailer\n<< /Size 6 /Root 1 0 R{prev} >>\nstartxref\n{xref}\n%%EOF\n"
        ));
        pdf.extend_from_slice(table.as_bytes());
        xref
    }

    #[test]
    fn an_incremental_update_is_followed_to_the_newest_page_tree() {
        let page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>";
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let first = append_section(
            &mut pdf,
            &[
                (1, "<< /Type /Catalog /Pages 2 0 R >>"),
                (2, "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>"),
                (3, page),
                (4, page),
            ],
            None,
        );
        assert_eq!((count(&pdf), hayro_count(&pdf)), (Some(2), 2));
        // The update replaces the page tree (object 2) and adds page 5; the catalog stays in
        // the first section.
        append_section(
            &mut pdf,
            &[
                (2, "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>"),
                (5, page),
            ],
            Some(first),
        );
        assert_eq!((count(&pdf), hayro_count(&pdf)), (Some(3), 3));
    }

    #[test]
    fn what_it_cannot_read_for_certain_is_none() {
        let pdf = lopdf_pdf(3, 10, false);
        // No startxref, a startxref pointing nowhere, garbage, an empty file.
        let cut = &pdf[..pdf.len() - 40];
        assert_eq!(count(cut), None);
        let text = String::from_utf8_lossy(&pdf).replace("startxref\n", "startxref\n9");
        assert_eq!(count(text.as_bytes()), None);
        assert_eq!(count(b"%PDF-1.4\nnot really"), None);
        assert_eq!(count(b""), None);
        // An encrypted trailer is left to the full reader.
        let text =
            String::from_utf8_lossy(&pdf).replace("trailer\n<<", "trailer\n<</Encrypt 1 0 R");
        assert_eq!(count(text.as_bytes()), None);
    }

    #[test]
    fn every_pdf_of_the_sample_and_the_fixtures_is_counted_as_hayro_counts_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (mut counted, mut left) = (0, Vec::new());
        for dir in ["dossier", "tests/fixtures"] {
            for e in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
                let path = e.unwrap().into_path();
                if path.extension().is_none_or(|x| x != "pdf") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let full = hayro_syntax::Pdf::new(std::sync::Arc::new(bytes.clone()));
                match (count(&bytes), full) {
                    (Some(n), Ok(pdf)) => {
                        assert_eq!(n as usize, pdf.pages().len(), "{}", path.display());
                        counted += 1;
                    }
                    (Some(n), Err(_)) => {
                        panic!("{}: {n} pages, hayro cannot read it", path.display())
                    }
                    (None, _) => left.push(path),
                }
            }
        }
        assert!(counted >= 10, "{counted} counted");
        // Left to the full reader: only the fixtures made to be unreadable or encrypted.
        for path in &left {
            let name = path.to_string_lossy();
            assert!(
                ["空文件", "损坏", "限制编辑", "加密"]
                    .iter()
                    .any(|w| name.contains(w)),
                "{name} was not counted quickly"
            );
        }
    }

    /// Five pages: own fonts; only an image; fonts inherited from the page tree; a form
    /// XObject with fonts; under a second tree node, its own resources with only an image.
    fn mixed_pdf(compressed: bool) -> Vec<u8> {
        use lopdf::{Document, Object, Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        });
        let image = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
            },
            vec![0],
        ));
        let form = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 9.into(), 9.into()],
                "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            },
            b"BT /F1 9 Tf (x) Tj ET".to_vec(),
        ));
        let (root, inner) = (doc.new_object_id(), doc.new_object_id());
        let page = |doc: &mut Document, parent, resources: Option<lopdf::Dictionary>| {
            let mut d = dictionary! {
                "Type" => "Page", "Parent" => parent,
                "MediaBox" => vec![0.into(), 0.into(), 9.into(), 9.into()],
            };
            if let Some(r) = resources {
                d.set("Resources", r);
            }
            Object::from(doc.add_object(d))
        };
        let kids = vec![
            page(
                &mut doc,
                root,
                Some(dictionary! { "Font" => dictionary! { "F1" => font } }),
            ),
            page(
                &mut doc,
                root,
                Some(dictionary! { "XObject" => dictionary! { "Im0" => image } }),
            ),
            page(&mut doc, root, None),
            page(
                &mut doc,
                root,
                Some(dictionary! { "XObject" => dictionary! { "Fm0" => form } }),
            ),
            Object::from(inner),
        ];
        let inner_kid = page(
            &mut doc,
            inner,
            Some(dictionary! { "XObject" => dictionary! { "Im0" => image } }),
        );
        doc.objects.insert(
            inner,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Parent" => root, "Kids" => vec![inner_kid], "Count" => 1,
            }),
        );
        doc.objects.insert(
            root,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => kids, "Count" => 5,
                "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            }),
        );
        save(doc, root, compressed)
    }

    #[test]
    fn pages_with_fonts_have_a_text_layer_and_pages_of_images_do_not() {
        for compressed in [false, true] {
            let pdf = mixed_pdf(compressed);
            assert_eq!(hayro_count(&pdf), 5);
            let pages = text_pages(&mut Cursor::new(&pdf), pdf.len() as u64);
            // A page's own resources replace inherited ones: pages 2 and 5 are images alone.
            assert_eq!(
                pages,
                Some(vec![true, false, true, true, false]),
                "compressed: {compressed}"
            );
        }
        // Read in one pass for an inspection: the same count and flags.
        let pdf = mixed_pdf(true);
        let s = summary(&mut Cursor::new(&pdf), pdf.len() as u64).unwrap();
        assert_eq!(
            (s.pages, s.text),
            (5, Some(vec![true, false, true, true, false]))
        );
        // A scan-like PDF: every page only an image.
        let pdf = lopdf_pdf(3, 10, false);
        assert_eq!(
            text_pages(&mut Cursor::new(&pdf), pdf.len() as u64),
            Some(vec![false; 3])
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Damaged files — bytes overwritten anywhere, or cut short — never make the reader
        /// panic, loop or claim more pages than the file could hold; it answers or gives up.
        #[test]
        fn damaged_pdfs_never_panic(
            compressed in proptest::bool::ANY,
            edits in proptest::collection::vec((0.0f64..1.0, proptest::num::u8::ANY), 0..12),
            cut in proptest::prop_oneof![proptest::strategy::Just(1.0), 0.5f64..1.0],
        ) {
            let mut pdf = mixed_pdf(compressed);
            for (at, byte) in edits {
                let i = ((pdf.len() - 1) as f64 * at) as usize;
                pdf[i] = byte;
            }
            pdf.truncate(((pdf.len() as f64) * cut) as usize);
            let size = pdf.len() as u64;
            if let Some(n) = count(&pdf) {
                proptest::prop_assert!(u64::from(n) <= size);
            }
            if let Some(pages) = text_pages(&mut Cursor::new(&pdf), size) {
                proptest::prop_assert!(pages.len() as u64 <= size);
            }
        }
    }

    #[test]
    fn png_predictors_are_undone() {
        // Two rows of three bytes: Up predictor on the second row.
        let data = [0, 1, 2, 3, 2, 1, 1, 1];
        assert_eq!(unpredict_png(&data, 3), Some(vec![1, 2, 3, 2, 3, 4]));
        assert_eq!(unpredict_png(&[9, 1, 2, 3], 3), None);
        assert_eq!(paeth(10, 20, 15), 15);
    }
}
