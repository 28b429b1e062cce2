//! Building documents: plan → render → typeset → export, for the whole dossier (and, through
//! the same function, for any other plan). Typst's errors and warnings are mapped back to
//! the record and the YAML line they come from, using the `// @record` markers the templates
//! leave in the generated source.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use typst::WorldExt;
use typst::diag::{Severity as TypstSeverity, SourceDiagnostic};
use typst::syntax::FileId;

use crate::anchors::{self, Anchors};
use crate::diag::{Diagnostic, Place};
use crate::model::Date;
use crate::names::{self, RecordId};
use crate::plan::Plan;
use crate::render::{self, Rendered};
use crate::typeset::{self, DossierWorld, FileCache, Fonts};
use crate::validate::Dossier;

/// A typeset document.
pub struct Document {
    /// The PDF as Typst made it: with stand-ins for PDF evidence pages (see
    /// [`crate::assemble`]); [`Document::write_to`] writes the finished PDF.
    pub pdf: Vec<u8>,
    /// The stand-ins the frame holds.
    pub stand_ins: Arc<crate::assemble::StandIns>,
    /// Number of pages.
    pub pages: usize,
    /// Typst warnings, mapped to places in the dossier.
    pub warnings: Vec<Diagnostic>,
    /// First and last page of every record, by 件号 (05-03).
    pub record_pages: BTreeMap<String, (usize, usize)>,
    /// First page of every item's section, by item number.
    pub item_pages: BTreeMap<u32, usize>,
    /// Where every label is: the hint for the next layout of this document.
    pub anchors: Anchors,
    /// How many times the document was laid out (1 when the hint held or there was none).
    pub layouts: usize,
    /// A hint was given.
    pub hinted: bool,
    /// There was no hint and the places came from a quick layout beforehand ([`probe`]).
    pub probed: bool,
}

impl Document {
    /// Writes the finished PDF: the frame, then every evidence page in place of its stand-in.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> anyhow::Result<()> {
        crate::assemble::write(&self.pdf, &self.stand_ins, out)
    }
}

/// The identifier and timestamp that make a PDF reproducible.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// Stable document identifier (hashed into the PDF's /ID).
    pub ident: String,
    /// The document date (PDF creation date, `datetime.today()`).
    pub date: Date,
    /// Export PDF/A-3b.
    pub pdfa: bool,
}

impl Stamp {
    /// The stamp of a dossier's document of kind `kind` ("dossier", "binder/市场监管局"): its
    /// title and version, dated `date` when given (the command reads `SOURCE_DATE_EPOCH`),
    /// otherwise by `dossier.yaml`'s 日期.
    pub fn of(d: &Dossier, kind: &str, date: Option<Date>) -> Stamp {
        let pdfa = d.config.pdfa.as_ref().is_some_and(|p| p.value.0);
        Stamp {
            ident: format!(
                "dossier/{kind}/{}/{}",
                d.config.title.trim(),
                d.config.version.0.trim()
            ),
            date: date.unwrap_or(d.config.date.value),
            pdfa,
        }
    }

    /// The stamp of one part of a document (a volume, the master volume): the same date, an
    /// identifier of its own.
    pub fn part(&self, part: &str) -> Stamp {
        Stamp {
            ident: format!("{}/{part}", self.ident),
            ..self.clone()
        }
    }
}

/// Renders, typesets and exports one plan, with the places of its last layout (`hint`); with
/// `forget`, what Typst memoised is given back while it is exported (see
/// [`typeset::Forgetting`]). Errors are diagnostics pointing at the record (or template) that
/// caused them.
pub fn build(
    plan: &Plan,
    dossier: &Dossier,
    res: &Resources,
    stamp: &Stamp,
    (hint, forget): (Option<&Anchors>, bool),
) -> Result<Document, Vec<Diagnostic>> {
    let rendered = render::render(plan, Some(&dossier.root)).map_err(|d| vec![d])?;
    typeset_rendered(&rendered, dossier, res, stamp, (hint, forget))
}

/// What typesetting needs besides the sources: the fonts, the cache of evidence bytes, and the
/// folder of normalised pages. Shared by every document of a session (and by parallel binders).
#[derive(Clone)]
pub struct Resources {
    /// Fonts, loaded once.
    pub fonts: Arc<Fonts>,
    /// Evidence bytes read so far.
    pub files: Arc<FileCache>,
    /// Where normalised pages are (`None`: nothing is normalised).
    pub normalized: Option<std::path::PathBuf>,
}

/// The world one compilation of rendered sources runs in: the session's fonts, file cache
/// and normalised pages, the dossier's root, the stamp's date.
/// With `stand_ins`, PDF evidence pages are given to Typst as stand-ins (see
/// [`crate::assemble`]); never for PDF/A, which may not embed PDF pages at all (Typst refuses
/// them, and that error should stay Typst's own).
fn world(
    rendered: &Rendered,
    dossier: &Dossier,
    res: &Resources,
    stamp: &Stamp,
    (stand_ins, known, probe): (bool, &Anchors, Option<&str>),
) -> DossierWorld {
    let stand_ins = (stand_ins && !stamp.pdfa)
        .then(|| Arc::new(crate::assemble::StandIns::new(res.files.stand_ins.clone())));
    let mut files = rendered.files.clone();
    files.push((PLACES_TYP.into(), anchors::source(known, probe)));
    DossierWorld::new(
        res.fonts.clone(),
        rendered.main.clone(),
        files,
        Some(dossier.canonical_root.clone()),
        stamp.date,
    )
    .with_cache(res.files.clone())
    .with_normalized(res.normalized.clone())
    .with_stand_ins(stand_ins)
}

/// The generated source with the places the templates may print without asking Typst (see
/// [`crate::anchors`]); `lib.typ` imports it.
pub const PLACES_TYP: &str = "/places.typ";

/// Typesets and exports rendered sources. `hint`: where the labels were in the last layout of
/// this document (see [`crate::anchors`]); the places it gives are printed only if the layout
/// proves them right, otherwise the document is laid out again with the places it found, and
/// the third time without any. Without a hint (a first build) the places come from a quick
/// layout beforehand ([`probe`]), checked the same way.
pub fn typeset_rendered(
    rendered: &Rendered,
    dossier: &Dossier,
    res: &Resources,
    stamp: &Stamp,
    (hint, forget): (Option<&Anchors>, bool),
) -> Result<Document, Vec<Diagnostic>> {
    let mut known = hint.cloned().unwrap_or_default();
    let probed = known.is_empty()
        && !crate::render::own_templates(&dossier.root)
        && probe(rendered, dossier, res, stamp).is_some_and(|found| {
            known = found;
            true
        });
    let mut layouts = 0;
    let (world, compiled, anchors) = loop {
        layouts += 1;
        let world = world(rendered, dossier, res, stamp, (true, &known, None));
        let compiled = typeset::compile(&world);
        let given = !known.is_empty();
        let anchors = match &compiled.output {
            Ok(doc) => anchors::of(doc),
            // Errors are reported from a layout without hints, as Typst finds them.
            Err(_) if given => {
                known.clear();
                continue;
            }
            Err(_) => Anchors::new(),
        };
        if !given || anchors::holds(&known, &anchors) {
            break (world, compiled, anchors);
        }
        // Moved: once more with the places just found, then without any.
        known = if layouts < 2 { anchors } else { Anchors::new() };
    };
    // Laid out: with `forget`, what Typst memoised goes while the document is exported, and
    // is gone before it is written.
    let forgetting = forget.then(typeset::Forgetting::start);
    let warnings: Vec<Diagnostic> = compiled
        .warnings
        .iter()
        .map(|w| map_diagnostic(&world, rendered, dossier, w))
        .collect();
    let doc = compiled.output.map_err(|errors| {
        errors
            .iter()
            .map(|e| map_diagnostic(&world, rendered, dossier, e))
            .collect::<Vec<_>>()
    })?;
    let pdf =
        typeset::export_pdf(&doc, &stamp.ident, stamp.date, stamp.pdfa).map_err(|errors| {
            errors
                .iter()
                .map(|e| map_diagnostic(&world, rendered, dossier, e))
                .collect::<Vec<_>>()
        })?;
    let pages = doc.pages().len();
    if let Some(f) = forgetting {
        // The layout itself goes too, before the document is written.
        drop(doc);
        f.wait();
    }
    let labels = printed(&anchors);
    Ok(Document {
        stand_ins: world.stand_ins().unwrap_or_default(),
        pages,
        record_pages: record_pages(&labels),
        item_pages: item_pages(&labels),
        anchors,
        layouts,
        hinted: hint.is_some_and(|h| !h.is_empty()),
        probed,
        pdf,
        warnings,
    })
}

/// Where the labels of a document will be, from a quick layout of it (`lib.typ`'s `probing`):
/// each page in its place but no 归档章, running head, evidence or link drawn on it, every
/// page number a placeholder as wide as the numbers likely are. A layout that has to find the
/// places itself lays out everything once without them and then, through Typst's own
/// queries, the catalogs, indexes and contents again with them, holding both in memory; the
/// quick layout and the real one with its places cost less of both (200 scanned records:
/// first build 1.12 → 0.99 s, peak 245 → 203 MiB). What Typst memoised for the quick layout
/// is kept: the real one reuses some of it (evicting it: 184 MiB, 1.04 s). `None` when it
/// fails (the real layout reports why).
fn probe(
    rendered: &Rendered,
    dossier: &Dossier,
    res: &Resources,
    stamp: &Stamp,
) -> Option<Anchors> {
    let quick = |placeholder: &str| {
        let world = world(
            rendered,
            dossier,
            res,
            stamp,
            (true, &Anchors::new(), Some(placeholder)),
        );
        let found = typeset::compile(&world)
            .output
            .ok()
            .map(|doc| anchors::of(&doc));
        found.filter(|a| !a.is_empty())
    };
    let guess = zeros(likely_pages(&rendered.main));
    let found = quick(&guess)?;
    // Numbers of more or fewer digits than guessed set the lines around them differently:
    // once more with as many digits as the last page number has.
    let last = zeros(found.values().map(|a| a.page).max().unwrap_or(0));
    if last == guess {
        Some(found)
    } else {
        quick(&last)
    }
}

/// How many pages a rendered document likely has: each evidence page, a blank back before
/// about every other record (printed on both sides), a few dozen pages of contents, catalogs
/// and indexes.
fn likely_pages(main: &str) -> usize {
    let evidence = main.matches("#evidence-page(").count();
    let records = main.matches("// @record ").count();
    evidence + records / 2 + 40
}

/// The page number printed while probing: as many zeros as `pages` has digits. A wrong
/// guess costs only time: the places found are checked, and laid out again when they moved.
fn zeros(pages: usize) -> String {
    "0".repeat(pages.max(1).to_string().len())
}

/// Lays out one plan without exporting it: the printed page of every record (first, last)
/// and item, for a document that refers to another (a binder to the dossier).
pub fn layout_places(
    plan: &Plan,
    dossier: &Dossier,
    res: &Resources,
    stamp: &Stamp,
) -> Result<Places, Vec<Diagnostic>> {
    let doc = layout_with(plan, dossier, res, stamp, true)?;
    let labels = printed(&anchors::of(&doc));
    Ok(Places {
        records: record_pages(&labels),
        items: item_pages(&labels),
    })
}

/// Lays out one plan into pages (no PDF): for cross-references, and for tests that look at
/// the pages themselves (positions, rendering).
pub fn layout(
    plan: &Plan,
    dossier: &Dossier,
    res: &Resources,
    stamp: &Stamp,
) -> Result<typst_layout::PagedDocument, Vec<Diagnostic>> {
    layout_with(plan, dossier, res, stamp, false)
}

/// Lays out one plan, with PDF evidence as stand-ins (positions only) or as itself (pages to
/// look at).
fn layout_with(
    plan: &Plan,
    dossier: &Dossier,
    res: &Resources,
    stamp: &Stamp,
    stand_ins: bool,
) -> Result<typst_layout::PagedDocument, Vec<Diagnostic>> {
    let rendered = render::render(plan, Some(&dossier.root)).map_err(|d| vec![d])?;
    let world = world(
        &rendered,
        dossier,
        res,
        stamp,
        (stand_ins, &Anchors::new(), None),
    );
    typeset::compile(&world).output.map_err(|errors| {
        errors
            .iter()
            .map(|e| map_diagnostic(&world, &rendered, dossier, e))
            .collect::<Vec<_>>()
    })
}

/// Printed pages of a document's records (first, last) and items.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// By 件号 (05-03).
    pub records: BTreeMap<String, (usize, usize)>,
    /// By item number.
    pub items: BTreeMap<u32, usize>,
}

/// The printed page number (the page counter, which is also the PDF page label) of every
/// labelled element the templates place: `item-05` on an item's first page, `rec-05-03` on a
/// record's first page and `rec-05-03-end` on its last. Covers are outside the count, so the
/// printed number is not the physical page.
fn printed(anchors: &Anchors) -> BTreeMap<String, usize> {
    (anchors.iter())
        .map(|(name, a)| (name.clone(), a.page))
        .collect()
}

/// First page of every item's section, by item number.
fn item_pages(labels: &BTreeMap<String, usize>) -> BTreeMap<u32, usize> {
    labels
        .iter()
        .filter_map(|(name, &page)| Some((names::item_from_label(name)?, page)))
        .collect()
}

/// First and last page of every record, by 件号.
fn record_pages(labels: &BTreeMap<String, usize>) -> BTreeMap<String, (usize, usize)> {
    labels
        .iter()
        .filter_map(|(name, &first)| {
            let (id, false) = RecordId::from_label(name)? else {
                return None;
            };
            let last = labels.get(&id.end_label()).copied().unwrap_or(first);
            Some((id.to_string(), (first, last)))
        })
        .collect()
}

/// What a place in the generated source belongs to.
enum Owner {
    Record(String),
    Item(u32),
    Other,
}

fn owner_at(text: &str, offset: usize) -> Owner {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    for line in before.lines().rev() {
        if let Some(id) = line.strip_prefix("// @record ") {
            return Owner::Record(id.trim().to_string());
        }
        if let Some(n) = line.strip_prefix("// @item ") {
            return n.trim().parse().map_or(Owner::Other, Owner::Item);
        }
    }
    Owner::Other
}

/// Where a Typst diagnostic is: the offset in the main source (its own span, or the first call
/// in its trace that is there, for errors inside lib.typ functions), and the innermost place in
/// another file (lib.typ).
struct Spans {
    in_main: Option<usize>,
    first_other: Option<(FileId, std::ops::Range<usize>)>,
}

impl Spans {
    fn of(world: &DossierWorld, d: &SourceDiagnostic) -> Spans {
        let main = typeset::file_id("/main.typ");
        let spans = std::iter::once(d.span).chain(d.trace.iter().map(|t| t.span.into()));
        let mut out = Spans {
            in_main: None,
            first_other: None,
        };
        for span in spans {
            let (Some(id), Some(range)) = (span.id(), world.range(span)) else {
                continue;
            };
            if id == main {
                out.in_main = Some(range.start);
                break;
            }
            out.first_other.get_or_insert((id, range));
        }
        out
    }
}

/// Maps a Typst diagnostic to the record, item or template it belongs to.
fn map_diagnostic(
    world: &DossierWorld,
    rendered: &Rendered,
    dossier: &Dossier,
    d: &SourceDiagnostic,
) -> Diagnostic {
    let spans = Spans::of(world, d);
    let mut detail = chinese(&d.message);
    for h in &d.hints {
        detail.push_str(&format!("（{}）", h.v));
    }
    let base = match d.severity {
        TypstSeverity::Error => Diagnostic::error,
        TypstSeverity::Warning => Diagnostic::warning,
    };
    let main = typeset::file_id("/main.typ");
    let owner = (spans.in_main).map(|o| owner_at(world.source_text(main).unwrap_or(""), o));
    match owner {
        Some(Owner::Record(id)) => {
            record_diagnostic(dossier, &id, base, &detail).code("typeset-record")
        }
        Some(Owner::Item(n)) => {
            let file = (dossier.items.iter())
                .find(|i| i.number == n)
                .and_then(|i| i.file.clone());
            let diag = base(format!("排版指标{n}时出错：{detail}")).code("typeset-item");
            match file {
                Some(f) => diag.at(Place::file(f)),
                None => diag,
            }
        }
        _ => template_diagnostic(
            world,
            rendered,
            dossier,
            &spans,
            base(format!("排版出错：{detail}")).code("typeset-template"),
        ),
    }
}

/// A Typst error in a record's pages: at the record, naming its files.
fn record_diagnostic(
    dossier: &Dossier,
    id: &str,
    base: fn(String) -> Diagnostic,
    detail: &str,
) -> Diagnostic {
    let rec = (dossier.items.iter())
        .flat_map(|i| &i.records)
        .find(|r| r.label() == id);
    let title = rec.map(|r| r.title.as_str()).unwrap_or("");
    let mut diag = base(format!("排版第 {id} 件材料《{title}》时出错：{detail}"));
    let Some(r) = rec else { return diag };
    diag = diag.at(r.origin.clone());
    let files = crate::diag::list(
        (r.files.iter())
            .filter(|f| !f.package_only)
            .map(|f| f.rel.as_str()),
    );
    if !files.is_empty() {
        diag = diag.hint(format!(
            "这件材料的文件：{files}。请用看图或 PDF 软件打开检查，文件损坏时请重新扫描或导出。"
        ));
    }
    diag
}

/// A Typst error in a template's own text: at the line of the template it came from (found by
/// its text in the template). An error inside lib.typ is shown there, with the line of the
/// main template that called it.
fn template_diagnostic(
    world: &DossierWorld,
    rendered: &Rendered,
    dossier: &Dossier,
    spans: &Spans,
    diag: Diagnostic,
) -> Diagnostic {
    let place_in = |template: &str, id: FileId, offset: usize| {
        let text = world.source_text(id).unwrap_or("");
        let (line, _) = crate::diag::line_col(text, offset);
        let generated_line = text.lines().nth(line - 1).unwrap_or("");
        crate::render::template_place(template, Some(&dossier.root), generated_line)
    };
    let in_lib = spans.first_other.as_ref().and_then(|(id, range)| {
        let path = id.get().vpath().get_without_slash();
        let name = crate::render::TEMPLATES.iter().find(|(n, _)| *n == path)?.0;
        Some(place_in(name, *id, range.start))
    });
    let main = typeset::file_id("/main.typ");
    let in_main = (spans.in_main).map(|offset| place_in(rendered.template, main, offset));
    match (in_lib, in_main) {
        (Some((place, overridden)), called) => {
            let diag = diag
                .at(place)
                .hint(crate::render::template_hint(overridden));
            match called {
                Some((from, _)) => diag.related(from, "从这里调用"),
                None => diag,
            }
        }
        (None, Some((place, overridden))) => diag
            .at(place)
            .hint(crate::render::template_hint(overridden)),
        (None, None) => diag.hint("错误出在汇编的固定部分。请把这条信息报告给维护者。"),
    }
}

/// Typst's message with a Chinese summary in front for the errors users meet; the original
/// follows in brackets (it has the technical detail).
fn chinese(message: &str) -> String {
    const KNOWN: [(&str, &str); 9] = [
        ("failed to decode image", "图片无法解码"),
        ("failed to load PDF", "PDF 无法读取"),
        ("file not found", "找不到文件"),
        ("failed to load file", "文件无法读取"),
        ("unknown font family", "字体不存在"),
        ("page index out of range", "页码超出范围"),
        ("panicked with", "模板里的 panic 中止了排版"),
        ("unknown variable", "模板里用了没有定义的名称"),
        ("unclosed delimiter", "模板里的括号没有配对"),
    ];
    match KNOWN.iter().find(|(en, _)| message.starts_with(en)) {
        Some((_, cn)) => format!("{cn}（{message}）"),
        None => message.to_string(),
    }
}

/// Lists the font files of a dossier's `字体: 文件:` entries (files, or folders searched
/// recursively), sorted.
pub fn font_files(root: &Path, entries: &[String]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in entries {
        let p = root.join(e);
        if p.is_dir() {
            for f in walkdir::WalkDir::new(&p)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
            {
                let ext = f
                    .path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .map(str::to_ascii_lowercase);
                if f.file_type().is_file()
                    && matches!(ext.as_deref(), Some("ttf" | "otf" | "ttc" | "otc"))
                {
                    out.push(f.path().to_path_buf());
                }
            }
        } else {
            out.push(p);
        }
    }
    out
}

/// The fonts of a dossier: the embedded ones plus the files `dossier.yaml` names, and the
/// family of each role. Unreadable files and unknown family names are errors in
/// `dossier.yaml`.
pub fn dossier_fonts(d: &Dossier) -> Result<(Arc<Fonts>, crate::plan::FontRoles), Vec<Diagnostic>> {
    dossier_fonts_with(d, None)
}

/// Like [`dossier_fonts`], but with fonts already loaded (by a `watch` session, when the font
/// files did not change): only the roles are resolved again.
pub fn dossier_fonts_with(
    d: &Dossier,
    loaded: Option<Arc<Fonts>>,
) -> Result<(Arc<Fonts>, crate::plan::FontRoles), Vec<Diagnostic>> {
    use crate::load::CONFIG_FILE;
    use crate::yaml::pos_of;
    let mut roles = crate::plan::FontRoles::default();
    let mut diags = Vec::new();
    let fonts = match loaded {
        Some(fonts) => fonts,
        None => Arc::new(load_font_files(d, &mut diags)),
    };
    let Some(fc) = &d.config.fonts else {
        return Ok((fonts, roles));
    };
    let families = fonts.families();
    let mut pick =
        |want: &Option<crate::model::Spanned<String>>, list: &mut Vec<String>, role: &str| {
            let Some(want) = want else { return };
            let name = want.value.trim();
            match families.iter().find(|f| f.eq_ignore_ascii_case(name)) {
                Some(f) => list.insert(0, f.clone()),
                None => diags.push(
                    Diagnostic::error(format!("{role}字体“{name}”没有找到"))
                        .code("font-not-found")
                        .at(Place::at(CONFIG_FILE, pos_of(want)))
                        .hint(format!(
                            "字体名要写字体文件里的英文族名。现有的字体：{}",
                            families.join("、")
                        )),
                ),
            }
        };
    pick(&fc.song, &mut roles.song, "正文");
    pick(&fc.hei, &mut roles.hei, "黑体");
    pick(&fc.kai, &mut roles.kai, "楷体");
    pick(&fc.title, &mut roles.title, "标题");
    if diags.is_empty() {
        Ok((fonts, roles))
    } else {
        Err(diags)
    }
}

/// The embedded fonts plus every font file dossier.yaml names; problems go to `diags`.
fn load_font_files(d: &Dossier, diags: &mut Vec<Diagnostic>) -> Fonts {
    use crate::load::CONFIG_FILE;
    use crate::yaml::pos_of;
    let mut fonts = Fonts::embedded();
    let Some(fc) = &d.config.fonts else {
        return fonts;
    };
    for entry in &fc.files {
        let at = Place::at(CONFIG_FILE, pos_of(entry));
        let Ok(rel) = crate::evidence::normalise(&entry.value) else {
            diags.push(
                Diagnostic::error(format!("字体路径“{}”不可用", entry.value))
                    .code("font-path-invalid")
                    .at(at)
                    .hint(
                        "字体文件要放在资料目录里，路径从资料目录写起，如 fonts/仿宋_GB2312.ttf。",
                    ),
            );
            continue;
        };
        if crate::evidence::resolve(&d.canonical_root, &rel).is_err() {
            diags.push(
                Diagnostic::error(format!("找不到字体文件或文件夹“{}”", entry.value))
                    .code("font-path-missing")
                    .at(at),
            );
            continue;
        }
        let files = font_files(&d.canonical_root, std::slice::from_ref(&rel));
        if files.is_empty() {
            diags.push(
                Diagnostic::error(format!("{rel} 里没有字体文件（.ttf .otf .ttc .otc）"))
                    .code("font-folder-empty")
                    .at(at.clone()),
            );
        }
        for f in files {
            let shown = f
                .strip_prefix(&d.canonical_root)
                .unwrap_or(&f)
                .display()
                .to_string();
            match fonts.add_file(&f) {
                Ok(Some(_)) => {}
                Ok(None) => diags.push(
                    Diagnostic::error(format!("{shown} 不是可用的字体文件"))
                        .code("font-file-invalid")
                        .at(at.clone()),
                ),
                Err(e) => diags.push(
                    Diagnostic::error(format!("无法读取字体 {shown}：{e}"))
                        .code("font-file-unreadable")
                        .at(at.clone()),
                ),
            }
        }
    }
    fonts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probes_page_number_has_the_digits_of_the_likely_page_count() {
        assert_eq!(zeros(0), "0");
        assert_eq!(zeros(9), "0");
        assert_eq!(zeros(99), "00");
        assert_eq!(zeros(100), "000");
        assert_eq!(zeros(7651), "0000");
        // 200 one-page records: 200 pages, about 100 blank backs, some 40 others.
        let main = "// @record 01-01\n#evidence-page(\n".repeat(200);
        assert_eq!(likely_pages(&main), 340);
        assert_eq!(likely_pages(""), 40);
    }

    #[test]
    fn record_and_item_pages_come_from_their_labels() {
        let labels: BTreeMap<String, usize> = [
            ("item-05", 40),
            ("rec-05-01", 42),
            ("rec-05-01-end", 44),
            ("rec-05-02", 45),
            ("toc", 2),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(item_pages(&labels), BTreeMap::from([(5, 40)]));
        assert_eq!(
            record_pages(&labels),
            BTreeMap::from([
                ("05-01".to_string(), (42, 44)),
                // Without an end label (the templates always place one) it ends where it starts.
                ("05-02".to_string(), (45, 45)),
            ])
        );
    }
}
