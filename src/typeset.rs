//! Typesetting: a Typst [`World`] over in-memory sources (the rendered templates), the fonts
//! embedded from `fonts/`, and the evidence files under the dossier root, with the date pinned
//! so the same input gives the same document; plus PDF export with a fixed identifier and
//! timestamp.
//!
//! Fonts are loaded once per process ([`Fonts`]) and shared by every compilation; a font's
//! data is parsed only when Typst first asks for it. No system font is ever looked up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use typst::diag::{FileError, FileResult, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::{FontSource, FontStore};
use typst_layout::PagedDocument;

use crate::model::Date;

/// The fonts compiled into the binary: file name and data. See `fonts/README.md`.
pub const EMBEDDED_FONTS: [(&str, &[u8]); 5] = [
    (
        "NotoSerifCJKsc-Regular-GBK.otf",
        include_bytes!("../fonts/NotoSerifCJKsc-Regular-GBK.otf"),
    ),
    (
        "NotoSerifCJKsc-Bold-GB2312.otf",
        include_bytes!("../fonts/NotoSerifCJKsc-Bold-GB2312.otf"),
    ),
    (
        "NotoSansCJKsc-Regular-GB2312.otf",
        include_bytes!("../fonts/NotoSansCJKsc-Regular-GB2312.otf"),
    ),
    (
        "NotoSansCJKsc-Bold-GB2312.otf",
        include_bytes!("../fonts/NotoSansCJKsc-Bold-GB2312.otf"),
    ),
    (
        "DossierKai-Regular.ttf",
        include_bytes!("../fonts/DossierKai-Regular.ttf"),
    ),
];

/// Fallback faces for the Han characters the body font lacks (Extension A and later, used in
/// personal and place names), compressed (Brotli) and decompressed only when a page uses one of
/// their characters: file name, family, the compressed font, its coverage (code point ranges,
/// one per line, hex). See `fonts/README.md` and `fonts/han_fallback.py`.
pub const FALLBACK_FONTS: [(&str, &str, &[u8], &str); 2] = [
    (
        "DossierHanA.ttf.br",
        "Dossier Han A",
        include_bytes!("../fonts/DossierHanA.ttf.br"),
        include_str!("../fonts/DossierHanA.cmap"),
    ),
    (
        "DossierHanB.ttf.br",
        "Dossier Han B",
        include_bytes!("../fonts/DossierHanB.ttf.br"),
        include_str!("../fonts/DossierHanB.cmap"),
    ),
];

/// A compressed fallback font, decompressed on first use.
struct Compressed {
    data: &'static [u8],
}

impl Compressed {
    fn decompress(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut reader = brotli_decompressor::Decompressor::new(self.data, 1 << 16);
        std::io::Read::read_to_end(&mut reader, &mut out).ok()?;
        Some(out)
    }
}

impl FontSource for Compressed {
    fn load(&self) -> Option<Font> {
        Font::new(Bytes::new(self.decompress()?), 0)
    }
}

/// The metadata of a fallback font, built from its family name and coverage file without
/// decompressing it (a unit test checks it equals what the font itself says).
fn fallback_info(family: &str, ranges: &str) -> FontInfo {
    let mut codepoints = Vec::new();
    for line in ranges.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (a, b) = line.split_once('-').unwrap_or((line, line));
        if let (Ok(a), Ok(b)) = (u32::from_str_radix(a, 16), u32::from_str_radix(b, 16)) {
            codepoints.extend(a..=b);
        }
    }
    FontInfo {
        family: family.to_string(),
        variant: typst::text::FontVariant::default(),
        flags: typst::text::FontFlags::empty(),
        axes: Vec::new(),
        coverage: typst::text::Coverage::from_vec(codepoints),
    }
}

/// A font embedded in the binary, parsed on first use.
struct Embedded {
    data: &'static [u8],
    index: u32,
}

impl FontSource for Embedded {
    fn load(&self) -> Option<Font> {
        Font::new(Bytes::new(self.data), self.index)
    }
}

/// A font file named by the dossier, read on first use.
struct External {
    path: PathBuf,
    index: u32,
}

impl FontSource for External {
    fn load(&self) -> Option<Font> {
        let data = std::fs::read(&self.path).ok()?;
        Font::new(Bytes::new(data), self.index)
    }
}

/// The fonts every compilation uses: the embedded ones, then any the dossier adds.
pub struct Fonts {
    store: FontStore,
}

impl Fonts {
    /// Only the embedded fonts.
    pub fn embedded() -> Fonts {
        let mut store = FontStore::new();
        for (_, data) in EMBEDDED_FONTS {
            for (index, info) in FontInfo::iter(data).enumerate() {
                store.push((
                    Embedded {
                        data,
                        index: index as u32,
                    },
                    info,
                ));
            }
        }
        for (_, family, data, ranges) in FALLBACK_FONTS {
            store.push((Compressed { data }, fallback_info(family, ranges)));
        }
        Fonts { store }
    }

    /// Whether some font can print `c` (Typst falls back through every font it has).
    pub fn covers(&self, c: char) -> bool {
        let book = self.book();
        (0..)
            .map_while(|i| book.info(i))
            .any(|info| info.coverage.contains(u32::from(c)))
    }

    /// Adds the fonts of one file (a `.ttf`, `.otf`, `.ttc` or `.otc`); returns how many faces
    /// it had, or `None` if it is not a font Typst can read.
    pub fn add_file(&mut self, path: &Path) -> std::io::Result<Option<usize>> {
        let data = std::fs::read(path)?;
        let infos: Vec<FontInfo> = FontInfo::iter(&data).collect();
        if infos.is_empty() {
            return Ok(None);
        }
        let n = infos.len();
        for (index, info) in infos.into_iter().enumerate() {
            self.store.push((
                External {
                    path: path.to_path_buf(),
                    index: index as u32,
                },
                info,
            ));
        }
        Ok(Some(n))
    }

    /// The font book (metadata of every face).
    pub fn book(&self) -> &LazyHash<FontBook> {
        self.store.book()
    }

    /// Family names, sorted and deduplicated.
    pub fn families(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .book()
            .families()
            .map(|(name, _)| name.to_string())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Evidence bytes kept between compilations (in `watch`), each checked against its file's size
/// and modification time when asked for, so a changed file is read again and an unchanged one
/// keeps the same [`Bytes`] (whose hash Typst's caches already know).
pub struct FileCache {
    cache: crate::paths::FingerprintCache<Bytes>,
    /// Stand-ins of PDF evidence (see [`crate::assemble`]), kept the same way.
    pub stand_ins: Arc<crate::assemble::StandInCache>,
}

/// The most evidence bytes kept between compilations. Beyond it the least recently used are
/// read again when next asked for: `binder --all` over thousands of pages, or a long `watch`,
/// does not hold every file it ever read.
pub const FILE_CACHE_BUDGET: usize = 512 << 20;

impl Default for FileCache {
    fn default() -> Self {
        FileCache {
            cache: crate::paths::FingerprintCache::with_budget(FILE_CACHE_BUDGET, Bytes::len),
            stand_ins: Arc::default(),
        }
    }
}

impl FileCache {
    /// The bytes of the file at `path` (canonical), from the cache when the file is unchanged.
    pub fn read(&self, path: &Path) -> std::io::Result<Bytes> {
        self.cache
            .get_or_make(path, || std::fs::read(path).map(Bytes::new))
    }

    /// Forgets files that no compilation asked for since `keep` was taken; bounds memory in a
    /// long `watch`.
    pub fn retain(&self, keep: impl Fn(&Path) -> bool) {
        self.cache.retain(&keep);
        self.stand_ins.retain(keep);
    }
}

/// One compilation's world: the main source and other in-memory files, the fonts, the
/// evidence root and the pinned date.
pub struct DossierWorld {
    library: LazyHash<Library>,
    fonts: Arc<Fonts>,
    main: FileId,
    sources: HashMap<FileId, Source>,
    root: Option<PathBuf>,
    files: Mutex<HashMap<FileId, FileResult<Bytes>>>,
    cache: Arc<FileCache>,
    normalized: Option<PathBuf>,
    stand_ins: Option<Arc<crate::assemble::StandIns>>,
    today: Datetime,
}

/// The id of a project file at `path` (e.g. `/main.typ`, `/evidence/05/a.pdf`).
pub fn file_id(path: &str) -> FileId {
    let vpath =
        VirtualPath::new(path).unwrap_or_else(|_| VirtualPath::new("/invalid").expect("valid"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

impl DossierWorld {
    /// A world whose main file is `main` (Typst source), with further in-memory `sources`
    /// (path → text), reading other files from `root` (canonical; files must stay inside it)
    /// and with `today` as the date.
    pub fn new(
        fonts: Arc<Fonts>,
        main: String,
        sources: Vec<(String, String)>,
        root: Option<PathBuf>,
        today: Date,
    ) -> DossierWorld {
        let main_id = file_id("/main.typ");
        let mut map = HashMap::new();
        map.insert(main_id, Source::new(main_id, main));
        for (path, text) in sources {
            let id = file_id(&path);
            map.insert(id, Source::new(id, text));
        }
        let today = Datetime::from_ymd(i32::from(today.year), today.month, today.day)
            .unwrap_or_else(|| Datetime::from_ymd(2022, 1, 1).expect("valid date"));
        DossierWorld {
            library: LazyHash::new(Library::builder().build()),
            fonts,
            main: main_id,
            sources: map,
            root,
            files: Mutex::new(HashMap::new()),
            cache: Arc::new(FileCache::default()),
            normalized: None,
            stand_ins: None,
            today,
        }
    }

    /// Serves normalised evidence (`/.normalized/…`) from this folder.
    pub fn with_normalized(mut self, dir: Option<PathBuf>) -> DossierWorld {
        self.normalized = dir;
        self
    }

    /// Gives PDF evidence as stand-ins (see [`crate::assemble`]) recorded in `stand_ins`.
    pub fn with_stand_ins(
        mut self,
        stand_ins: Option<Arc<crate::assemble::StandIns>>,
    ) -> DossierWorld {
        self.stand_ins = stand_ins;
        self
    }

    /// The stand-ins given out, if this world gives them.
    pub fn stand_ins(&self) -> Option<Arc<crate::assemble::StandIns>> {
        self.stand_ins.clone()
    }

    /// The bytes Typst gets for the file at `path`, which it asked for as `asked`: the
    /// stand-in of a PDF when this world gives them, else the file itself (through the shared
    /// cache).
    fn serve(&self, path: &Path, asked: &str) -> FileResult<Bytes> {
        if let (Some(stand_ins), true) = (&self.stand_ins, is_pdf(path)) {
            return stand_ins
                .stand_in(path, asked)
                .map(Bytes::new)
                .map_err(|e| FileError::Other(Some(format!("{e:#}").into())));
        }
        self.cache
            .read(path)
            .map_err(|e| FileError::from_io(e, Path::new(asked)))
    }

    /// Shares a file cache with other compilations (a `watch` session).
    pub fn with_cache(mut self, cache: Arc<FileCache>) -> DossierWorld {
        self.cache = cache;
        self
    }

    /// The text of an in-memory source (for mapping diagnostics back).
    pub fn source_text(&self, id: FileId) -> Option<&str> {
        self.sources.get(&id).map(|s| s.text())
    }

    fn read(&self, id: FileId) -> FileResult<Bytes> {
        let Some(root) = &self.root else {
            return Err(FileError::AccessDenied);
        };
        let rooted = id.get();
        if !matches!(rooted.root(), VirtualRoot::Project) {
            return Err(FileError::AccessDenied);
        }
        let virtual_path = rooted.vpath().get_with_slash();
        match resolve(root, self.normalized.as_deref(), virtual_path)? {
            Served::File(path) => self.serve(&path, virtual_path),
            Served::Jpeg(path) => self.serve_jpeg(&path, virtual_path),
        }
    }

    /// A JPEG that passes through (see [`crate::normalize::PASS_THROUGH_DIR`]): its stand-in
    /// when this world gives them, else its one-page PDF.
    fn serve_jpeg(&self, path: &Path, asked: &str) -> FileResult<Bytes> {
        let failed = |e: anyhow::Error| FileError::Other(Some(format!("{e:#}").into()));
        if let Some(stand_ins) = &self.stand_ins {
            return stand_ins
                .jpeg_stand_in(path, asked)
                .map(Bytes::new)
                .map_err(failed);
        }
        let data = self
            .cache
            .read(path)
            .map_err(|e| FileError::from_io(e, Path::new(asked)))?;
        crate::normalize::image_page(&data)
            .map(Bytes::new)
            .map_err(failed)
    }
}

/// What a project path is served from: a file (given as it is, or as a stand-in when it is a
/// PDF), or a JPEG that passes through (see [`crate::normalize::PASS_THROUGH_DIR`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// The file at this path.
    File(PathBuf),
    /// The JPEG at this path, drawn on a page of its own size.
    Jpeg(PathBuf),
}

/// Where the file Typst asks for as `asked` (`/evidence/05/a.pdf`, `/.normalized/…`,
/// `/.jpeg/…`) is, for a dossier at `root` (canonical) with normalised pages in `normalized`:
/// the same answer for the world and for the assembler that writes evidence before the
/// layout (see [`crate::assemble::Ahead`]).
pub fn resolve(root: &Path, normalized: Option<&Path>, asked: &str) -> FileResult<Served> {
    if let (Some(dir), Some(name)) = (
        normalized,
        asked.strip_prefix(crate::normalize::VIRTUAL_DIR),
    ) {
        let name = name.trim_start_matches('/');
        if name.contains('/') || name.contains("..") {
            return Err(FileError::AccessDenied);
        }
        return Ok(Served::File(dir.join(name)));
    }
    if let Some(rel) = asked.strip_prefix(crate::normalize::PASS_THROUGH_DIR) {
        let real = within(root, &root.join(rel.trim_start_matches('/')))?;
        return Ok(Served::Jpeg(real));
    }
    let vpath = VirtualPath::new(asked).map_err(|_| FileError::AccessDenied)?;
    let path = vpath.realize(root).map_err(|_| FileError::AccessDenied)?;
    Ok(Served::File(within(root, &path)?))
}

/// Whether `path` names a PDF (given to Typst as a stand-in when the world gives them).
pub fn is_pdf(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
}

/// The canonical form of `path`, refused unless it is inside `root` (canonical).
fn within(root: &Path, path: &Path) -> FileResult<PathBuf> {
    let real = std::fs::canonicalize(path).map_err(|e| FileError::from_io(e, path))?;
    if !real.starts_with(root) {
        return Err(FileError::AccessDenied);
    }
    Ok(real)
}

impl World for DossierWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.fonts.book()
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        match self.sources.get(&id) {
            Some(s) => Ok(s.clone()),
            None => Err(FileError::NotSource),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(s) = self.sources.get(&id) {
            return Ok(Bytes::from_string(s.clone()));
        }
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.entry(id).or_insert_with(|| self.read(id)).clone()
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.store.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

/// The outcome of a compilation: the pages or the errors, and the warnings either way.
pub struct Compiled {
    /// Pages, or the errors that stopped the compilation.
    pub output: Result<PagedDocument, Vec<SourceDiagnostic>>,
    /// Warnings.
    pub warnings: Vec<SourceDiagnostic>,
}

/// Compiles the world's main file into pages.
pub fn compile(world: &DossierWorld) -> Compiled {
    let Warned { output, warnings } = typst::compile::<PagedDocument>(world);
    Compiled {
        output: output.map_err(|e| e.to_vec()),
        warnings: warnings.to_vec(),
    }
}

/// Exports pages as PDF, with a document id derived from `ident` and the timestamp `date`
/// (noon UTC), so equal input gives equal bytes; PDF/A-3b when `pdfa`.
pub fn export_pdf(
    doc: &PagedDocument,
    ident: &str,
    date: Date,
    pdfa: bool,
) -> Result<Vec<u8>, Vec<SourceDiagnostic>> {
    let datetime = Datetime::from_ymd_hms(i32::from(date.year), date.month, date.day, 12, 0, 0);
    let standards = if pdfa {
        typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::A_3b])
            .expect("PDF/A-3b alone is a valid configuration")
    } else {
        typst_pdf::PdfStandards::default()
    };
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(ident.to_string()),
        creator: Smart::Custom(Some(format!("dossier {}", env!("CARGO_PKG_VERSION")))),
        timestamp: datetime.map(typst_pdf::Timestamp::new_utc),
        standards,
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(doc, &options).map_err(|e| e.to_vec())
}

/// Renders Typst diagnostics as plain text (for internal sources, where there is no user
/// file to point at).
pub fn describe(world: &DossierWorld, diags: &[SourceDiagnostic]) -> String {
    use typst::WorldExt;
    let mut out = String::new();
    for d in diags {
        let place = match (d.span.id(), world.range(d.span)) {
            (Some(id), Some(range)) => {
                let text = world.source_text(id).unwrap_or("");
                let (line, col) = crate::diag::line_col(text, range.start);
                format!("{:?}:{line}:{col}: ", id.get().vpath())
            }
            _ => String::new(),
        };
        out.push_str(&format!("{place}{}\n", d.message));
        for h in &d.hints {
            out.push_str(&format!("  提示：{}\n", h.v));
        }
    }
    out
}

/// Drops what Typst memoised (every layout, every decoded image) and gives the memory it
/// held back to the operating system (glibc keeps freed memory in its arenas otherwise, so
/// the next volume or binder box would grow on top of this one's). Called where a document's
/// layout is no longer needed.
pub fn forget_layouts() {
    typst::comemo::evict(0);
    trim_heap();
}

/// Typst's memo being given back ([`forget_layouts`]) on a thread of its own while the
/// document just laid out is exported (which needs none of it): the time overlaps the
/// export's. [`Forgetting::wait`] waits for it and gives back what was freed meanwhile (the
/// laid-out document, once the caller dropped it), so the memory is back before the document
/// is written. Dropping it waits too.
pub struct Forgetting(Option<std::thread::JoinHandle<()>>);

impl Forgetting {
    /// Starts forgetting (at once, on this thread, if no thread can be started).
    pub fn start() -> Forgetting {
        let thread = std::thread::Builder::new()
            .name("forget".into())
            .spawn(forget_layouts);
        match thread {
            Ok(h) => Forgetting(Some(h)),
            Err(_) => {
                forget_layouts();
                Forgetting(None)
            }
        }
    }

    /// Waits until the memo is given back, then gives back what was freed meanwhile.
    pub fn wait(mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
        trim_heap();
    }
}

impl Drop for Forgetting {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

/// Returns the free pages of glibc's heap to the system.
#[allow(unsafe_code)]
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory that is free; it takes a plain integer.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(src: &str) -> DossierWorld {
        DossierWorld::new(
            Arc::new(Fonts::embedded()),
            src.into(),
            vec![],
            None,
            Date::parse("2022-05-20").unwrap(),
        )
    }

    #[test]
    fn embedded_fonts_have_the_four_roles() {
        let fams = Fonts::embedded().families();
        for want in ["Noto Serif CJK SC", "Noto Sans CJK SC", "Dossier Kai"] {
            assert!(
                fams.iter().any(|f| f.eq_ignore_ascii_case(want)),
                "{want} missing in {fams:?}"
            );
        }
    }

    #[test]
    fn compiles_chinese_with_a_pinned_date_to_identical_pdfs() {
        let src = "#set text(font: \"Noto Serif CJK SC\", lang: \"zh\")\n某某县 #datetime.today().display()";
        let w = world(src);
        let doc = compile(&w).output.expect("compiles");
        assert_eq!(doc.pages().len(), 1);
        let a = export_pdf(&doc, "x", Date::parse("2022-05-20").unwrap(), false).unwrap();
        let b = export_pdf(
            &compile(&world(src)).output.unwrap(),
            "x",
            Date::parse("2022-05-20").unwrap(),
            false,
        )
        .unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with(b"%PDF-"));
    }

    #[test]
    fn font_files_add_their_faces_and_other_files_are_refused() {
        let mut fonts = Fonts::embedded();
        let before = fonts.book().families().count();
        let kai = Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/DossierKai-Regular.ttf");
        assert_eq!(fonts.add_file(&kai).unwrap(), Some(1));
        assert!(fonts.book().families().count() >= before);
        let not_a_font = Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/OFL-1.1.txt");
        assert_eq!(fonts.add_file(&not_a_font).unwrap(), None);
        assert!(fonts.add_file(Path::new("/no/such/font.ttf")).is_err());
    }

    #[test]
    fn the_fallback_fonts_metadata_matches_the_fonts() {
        for (name, family, data, ranges) in FALLBACK_FONTS {
            let font = Compressed { data }.decompress().expect(name);
            let real = FontInfo::new(&font, 0).expect(name);
            let built = fallback_info(family, ranges);
            assert_eq!(real.family, built.family, "{name}");
            assert_eq!(real.variant, built.variant, "{name}");
            assert_eq!(real.coverage, built.coverage, "{name}");
        }
    }

    #[test]
    fn rare_han_characters_print_from_the_fallback_fonts() {
        // Extension A (㛃 䶮), B (𠀀), C (𫖮), E (𬌗), and a character GBK lacks (鿍): each gets a
        // real glyph (not .notdef) from some font; an emoji and a private-use character get none.
        let fonts = Fonts::embedded();
        for c in ['㛃', '䶮', '𠀀', '𫖮', '𬌗', '鿍', '民'] {
            assert!(fonts.covers(c), "{c} U+{:04X}", u32::from(c));
        }
        for c in ['😀', '\u{E000}'] {
            assert!(!fonts.covers(c), "U+{:04X}", u32::from(c));
        }
        let src = "#set text(font: \"Noto Serif CJK SC\")\n张㛃䶮𠀀𫖮𬌗鿍";
        let doc = compile(&world(src)).output.expect("compiles");
        let mut glyphs = Vec::new();
        fn walk(frame: &typst::layout::Frame, out: &mut Vec<(String, u16)>) {
            for (_, item) in frame.items() {
                match item {
                    typst::layout::FrameItem::Group(g) => walk(&g.frame, out),
                    typst::layout::FrameItem::Text(t) => {
                        for g in &t.glyphs {
                            out.push((t.font.info().family.clone(), g.id));
                        }
                    }
                    _ => {}
                }
            }
        }
        walk(&doc.pages()[0].frame, &mut glyphs);
        assert_eq!(glyphs.len(), 7, "{glyphs:?}");
        assert!(
            glyphs.iter().all(|(_, id)| *id != 0),
            "a .notdef glyph: {glyphs:?}"
        );
        let families: Vec<&str> = glyphs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            families,
            [
                "Noto Serif CJK SC",
                "Dossier Han A",
                "Dossier Han A",
                "Dossier Han B",
                "Dossier Han B",
                "Dossier Han B",
                "Dossier Han A"
            ]
        );
    }

    #[test]
    fn files_outside_a_root_are_denied() {
        let w = world("#read(\"/etc/passwd\")");
        assert!(compile(&w).output.is_err());
    }
}
