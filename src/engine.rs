//! The engine: what the commands ask of the library, done without printing anything. Each
//! entry point returns its result and every diagnostic in one [`Report`] (with the texts of the
//! dossier's files, for snippets), and tells what it is doing through [`Events`]; the commands
//! (`cmd/`) decide how any of it looks — Chinese text or JSON lines.
//!
//! The stages every pipeline shares live here once: [`validate`] (load, check against the
//! catalog and the registry, the sample county's leftovers), [`check_printing`] (characters no
//! font has, the templates), and [`ready`] (PDF/A conflicts, normalising the evidence) — used
//! by `check`, by a build [`crate::session::Session`] and by [`crate::binders`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::build::{self, Resources};
use crate::diag::{Diagnostic, Place, Report};
use crate::load::CONFIG_FILE;
use crate::normalize::Prepared;
use crate::plan::{self, FontRoles, PlanOptions};
use crate::typeset::{FileCache, Fonts};
use crate::validate::{Counts, Dossier, InspectCache};
use crate::yaml::pos_of;

/// A stage of the work, as the progress line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Loading and checking the dossier.
    Check,
    /// Normalising the evidence (scaling images, splitting large PDFs).
    Normalise,
    /// Reading the text of scanned pages for their text layer.
    Ocr,
    /// Typesetting a document.
    Typeset,
    /// Writing the package.
    Package,
    /// Typesetting the binders.
    Binders,
}

impl Stage {
    /// The stage's name for people.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Check => "检查",
            Stage::Normalise => "规范化证据",
            Stage::Ocr => "文字识别",
            Stage::Typeset => "排版",
            Stage::Package => "打包",
            Stage::Binders => "证据册",
        }
    }
}

/// Something worth telling the person at the terminal while the engine works.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A stage begins; `detail` says on what ("第 2 册：12 件材料、345 页证据").
    Started {
        /// Which stage.
        stage: Stage,
        /// On what.
        detail: String,
    },
    /// Progress within a stage: `done` of `total` things.
    Progress {
        /// Which stage.
        stage: Stage,
        /// Done so far.
        done: usize,
        /// In all.
        total: usize,
    },
    /// A stage ended.
    Finished {
        /// Which stage.
        stage: Stage,
        /// How long it took.
        elapsed: Duration,
    },
    /// A remark about the outputs (files removed, leftovers cleaned, evidence normalised,
    /// a wait for another process).
    Notice(String),
    /// How a stage went, for whoever measures it (`DOSSIER_TIMINGS`): "版面 1 遍（沿用上次的页码）".
    Detail(String),
}

/// Where the engine's events go: the command's progress display, or nowhere. Events may come
/// from worker threads (normalising runs on every core), one at a time.
pub trait Events: Send {
    /// Takes one event.
    fn event(&mut self, event: Event);

    /// A notice.
    fn notice(&mut self, text: String) {
        self.event(Event::Notice(text));
    }
}

impl<F: FnMut(Event) + Send> Events for F {
    fn event(&mut self, event: Event) {
        self(event);
    }
}

/// Events nobody looks at.
pub struct Quiet;

impl Events for Quiet {
    fn event(&mut self, _: Event) {}
}

/// What a piece of work found and, when nothing was an error, what it made.
#[derive(Debug)]
pub struct Outcome<T> {
    /// Every diagnostic, with the texts of the files they point into.
    pub report: Report,
    /// The result; `None` when an error stopped the work (nothing was written then).
    pub value: Option<T>,
}

/// A dossier as checked: the diagnostics, what was counted, and the dossier when nothing is
/// an error.
#[derive(Debug)]
pub struct Checked {
    /// Every diagnostic, with the texts of the dossier's YAML files.
    pub report: Report,
    /// Items, records, files and pages found.
    pub counts: Counts,
    /// The checked dossier, when nothing is an error.
    pub dossier: Option<Dossier>,
    /// The dossier as far as it could be checked when something is an error (see
    /// [`crate::validate::Validated::incomplete`]): for progress reports only.
    pub incomplete: Option<Dossier>,
}

/// Loads and validates the dossier at `root` (reusing `cache`'s inspections of unchanged
/// evidence), and warns where another county's dossier would still print the sample's data.
/// An I/O error (no such folder, no dossier.yaml) is an `Err`; problems in the data are in the
/// report.
pub fn validate(root: &Path, cache: &InspectCache) -> anyhow::Result<Checked> {
    let checked = crate::validate::validate_with(crate::load::load(root)?, cache);
    let mut report = checked.report;
    if let Some(d) = &checked.dossier {
        for diag in crate::glyphs::sample_leftovers(d) {
            report.push(diag);
        }
        report.sort();
    }
    Ok(Checked {
        report,
        counts: checked.counts,
        dossier: checked.dossier,
        incomplete: checked.incomplete,
    })
}

/// The checks of what the dossier prints, which need its fonts: every character has a glyph in
/// some font, and (with `templates`) the templates render.
pub fn check_printing(
    d: &Dossier,
    fonts: &Fonts,
    roles: &FontRoles,
    templates: bool,
) -> Vec<Diagnostic> {
    let mut out = crate::glyphs::check(d, fonts);
    if templates {
        let plan = plan::plan(
            d,
            &PlanOptions {
                fonts: roles.clone(),
                ..PlanOptions::default()
            },
        );
        if let Err(e) = crate::render::render(&plan, Some(&d.root)) {
            out.push(e);
        }
    }
    out
}

/// `dossier check`: everything that can be known without writing anything — the data, the
/// fonts, the characters they print, the templates. The inspections a build saved in `out`
/// (see [`InspectCache::file`]) are taken for the evidence files that have not changed since;
/// the others are read and inspected. Nothing is written, not even those inspections.
pub fn check(root: &Path, out: &Path) -> anyhow::Result<Checked> {
    let cache = InspectCache::default();
    cache.load(&InspectCache::file(out));
    let mut checked = validate(root, &cache)?;
    let found = match &checked.dossier {
        Some(d) => match build::dossier_fonts(d) {
            Ok((fonts, roles)) => check_printing(d, &fonts, &roles, true),
            Err(diags) => diags,
        },
        None => Vec::new(),
    };
    if !found.is_empty() {
        for d in found {
            checked.report.push(d);
        }
        checked.report.sort();
        if checked.report.has_errors() && checked.dossier.is_some() {
            checked.incomplete = checked.dossier.take();
        }
    }
    Ok(checked)
}

/// What typesetting needs: the resources and the font roles, and the normalised pages the plan
/// should point to.
#[derive(Clone)]
pub struct Ready {
    /// Fonts, evidence bytes, the folder of normalised pages.
    pub res: Resources,
    /// The families of each font role.
    pub roles: FontRoles,
    /// Normalised pages, when normalising.
    pub prepared: Option<Arc<Prepared>>,
    /// What was read from scanned pages, when reading them (`--ocr`).
    pub text: Option<Arc<crate::textlayer::TextLayers>>,
    /// What reading them did.
    pub text_summary: Option<crate::textlayer::Summary>,
    /// Warnings of getting ready (pages that could not be read, unused corrections).
    pub warnings: Vec<Diagnostic>,
}

impl Ready {
    /// Ready with these resources and normalised pages; no text layer yet.
    fn new(res: Resources, roles: FontRoles, prepared: Option<Arc<Prepared>>) -> Ready {
        Ready {
            res,
            roles,
            prepared,
            text: None,
            text_summary: None,
            warnings: Vec::new(),
        }
    }

    /// The plan options every document of this run starts from.
    pub fn plan_options(&self, duplex: bool) -> PlanOptions {
        PlanOptions {
            fonts: self.roles.clone(),
            prepared: self.prepared.clone(),
            text: self.text.clone(),
            duplex,
            ..PlanOptions::default()
        }
    }
}

/// A callback that tells `events` how far `stage` is (done, total), for the stages that work
/// item by item.
pub fn progress_of(events: &mut dyn Events, stage: Stage) -> impl FnMut(usize, usize) + Send + '_ {
    move |done, total| events.event(Event::Progress { stage, done, total })
}

/// What getting ready does besides checking: normalise the evidence, read scanned pages.
#[derive(Debug, Clone, Copy, Default)]
pub struct Preparing {
    /// Normalise images and split large PDFs.
    pub normalize: bool,
    /// Read the text of scanned pages for their text layer (`--ocr`, `文字识别: 是`).
    pub ocr: bool,
}

/// Whether the dossier's pages are read for a text layer: asked on the command line or in
/// dossier.yaml (`文字识别: 是`).
pub fn ocr_wanted(d: &Dossier, asked: bool) -> bool {
    asked || d.config.ocr.as_ref().is_some_and(|o| o.value.0)
}

/// Gets a checked dossier ready to typeset: refuses characters no font has and PDF/A with PDF
/// evidence, (with `normalize`) normalises the evidence into the cache under `out` — images
/// to one-page PDFs (scaled JPEGs under PDF/A, which may not embed PDF pages), large PDFs
/// split — and (with `ocr`) reads the scanned pages for their text layer.
/// `Ok(Err(..))`: the dossier cannot be typeset as asked, with diagnostics at the records; an
/// output folder that cannot be written is an `Err`.
pub fn ready(
    d: &Dossier,
    (fonts, roles): (Arc<Fonts>, FontRoles),
    files: Arc<FileCache>,
    out: &Path,
    how: Preparing,
    events: &mut dyn Events,
) -> anyhow::Result<Result<Ready, Vec<Diagnostic>>> {
    let mut ready = match normalised(d, (fonts, roles), files, out, how.normalize, events)? {
        Ok(r) => r,
        Err(diags) => return Ok(Err(diags)),
    };
    if how.ocr {
        let started = std::time::Instant::now();
        let (layers, summary, warnings) =
            crate::textlayer::prepare(d, out, &mut progress_of(&mut *events, Stage::Ocr))?;
        events.event(Event::Finished {
            stage: Stage::Ocr,
            elapsed: started.elapsed(),
        });
        ready.text = Some(Arc::new(layers));
        ready.text_summary = Some(summary);
        ready.warnings = warnings;
    }
    Ok(Ok(ready))
}

/// [`ready`] without reading scanned pages.
fn normalised(
    d: &Dossier,
    (fonts, roles): (Arc<Fonts>, FontRoles),
    files: Arc<FileCache>,
    out: &Path,
    normalize: bool,
    events: &mut dyn Events,
) -> anyhow::Result<Result<Ready, Vec<Diagnostic>>> {
    let unprintable = check_printing(d, &fonts, &roles, false);
    if !unprintable.is_empty() {
        return Ok(Err(unprintable));
    }
    if let Some(diag) = pdfa_conflict(d) {
        return Ok(Err(vec![diag]));
    }
    if !normalize {
        let res = Resources {
            fonts,
            files,
            normalized: None,
        };
        return Ok(Ok(Ready::new(res, roles, None)));
    }
    let started = std::time::Instant::now();
    let dir = crate::normalize::cache_dir(out);
    let pdfa = d.config.pdfa.as_ref().is_some_and(|p| p.value.0);
    let form = if pdfa {
        crate::normalize::ImageForm::Jpeg
    } else {
        crate::normalize::ImageForm::Pdf
    };
    let prepared = crate::normalize::prepare(
        d,
        &dir,
        form,
        &mut progress_of(&mut *events, Stage::Normalise),
    )?;
    if !prepared.failed.is_empty() {
        return Ok(Err(unreadable(d, &prepared.failed)));
    }
    // What normalising found of the JPEGs that pass through: their stand-ins need not read
    // them again. Kept under the fingerprint normalising read them with, so a file changed
    // since is read again, not placed as it was.
    for (rel, print, placed) in &prepared.passed {
        let pages = Arc::new(crate::assemble::Pages::jpeg(*placed));
        (files.stand_ins).keep(d.canonical_root.join(rel), *print, pages);
    }
    if prepared.made > 0 {
        events.notice(format!(
            "已规范化 {} 个证据文件（缩放图片、拆分大 PDF；原件不变）",
            prepared.made
        ));
    }
    events.event(Event::Finished {
        stage: Stage::Normalise,
        elapsed: started.elapsed(),
    });
    let res = Resources {
        fonts,
        files,
        normalized: Some(std::fs::canonicalize(&dir)?),
    };
    Ok(Ok(Ready::new(res, roles, Some(Arc::new(prepared)))))
}

/// Diagnostics for evidence files that could not be normalised, at every record using them.
pub fn unreadable(d: &Dossier, failed: &[(String, String)]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (rel, why) in failed {
        for r in d
            .items
            .iter()
            .flat_map(|i| &i.records)
            .filter(|r| r.files.iter().any(|f| &f.rel == rel))
        {
            out.push(
                Diagnostic::error(format!("第 {} 件材料《{}》的文件 {rel} 无法处理：{why}", r.label(), r.title))
                    .code("evidence-unprocessable")
                    .at(r.origin.clone())
                    .hint(format!("这件材料的文件：{rel}。文件可能已损坏：请用看图或 PDF 软件打开检查，损坏时请重新扫描或导出。")),
            );
        }
    }
    out
}

/// An evidence file the assembler could not embed (see [`crate::assemble::Unusable`]) as the
/// error of the records that have it, like those `check` finds; `None` for any other error.
pub fn unusable(d: &Dossier, e: &anyhow::Error) -> Option<Vec<Diagnostic>> {
    let u = e.downcast_ref::<crate::assemble::Unusable>()?;
    let rel = u.path.strip_prefix(&d.canonical_root).ok()?;
    let rel = rel.to_string_lossy().replace('\\', "/");
    let diags = unreadable(d, &[(rel, u.why.clone())]);
    (!diags.is_empty()).then_some(diags)
}

/// PDF/A cannot embed PDF pages (Typst 0.15): a clear error when both are asked for.
fn pdfa_conflict(d: &Dossier) -> Option<Diagnostic> {
    let asked = d.config.pdfa.as_ref().filter(|p| p.value.0)?;
    let with_pdf: Vec<String> = d
        .items
        .iter()
        .flat_map(|i| &i.records)
        .filter(|r| {
            r.files
                .iter()
                .any(|f| !f.package_only && f.kind == crate::evidence::Kind::Pdf)
        })
        .map(|r| r.label())
        .collect();
    if with_pdf.is_empty() {
        return None;
    }
    Some(
        Diagnostic::error(format!("要求生成 PDF/A，但有材料是 PDF 文件（{}）：PDF/A 模式下不能嵌入 PDF 页面", crate::diag::list_first(&with_pdf, 5, "件")))
            .code("pdfa-with-pdf-evidence")
            .at(Place::at(CONFIG_FILE, pos_of(asked)))
            .hint("排版引擎 Typst 0.15 在 PDF/A 模式下不支持嵌入 PDF。请去掉“PDF/A: 是”，或把这些 PDF 材料转换为图片后再登记。"),
    )
}

/// The output file name (without extension): dossier.yaml's 输出文件名, or
/// [`DEFAULT_OUTPUT_NAME`].
pub fn output_name(d: &Dossier) -> String {
    d.config
        .output_name
        .as_ref()
        .map(|n| n.value.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_OUTPUT_NAME.to_string())
}

/// Default output name when dossier.yaml has none.
pub const DEFAULT_OUTPUT_NAME: &str = "验收资料汇编";

/// Where every record is in the dossier as `build` lays it out with these options, by 件号:
/// "第 45 页", or "第2册第45页" for a dossier cut into volumes. Laid out only, not exported:
/// binders print these so a reviewer finds each record in the dossier too.
pub fn dossier_places(
    d: &Dossier,
    res: &Resources,
    base: &PlanOptions,
    stamp: &build::Stamp,
) -> Result<std::collections::BTreeMap<String, String>, Vec<Diagnostic>> {
    let volumes = plan::volumes(d, volume_limit(d));
    let several = volumes.len() > 1;
    let mut out = std::collections::BTreeMap::new();
    for v in &volumes {
        let plan = plan::plan(
            d,
            &PlanOptions {
                volume: several.then(|| v.clone()),
                unit: None,
                ..base.clone()
            },
        );
        let places = build::layout_places(&plan, d, res, stamp)?;
        // Only the page numbers are kept: Typst's memoised layout of this volume can go.
        crate::typeset::forget_layouts();
        for (id, (first, _)) in places.records {
            out.insert(id, crate::places::text(several, v.number, first));
        }
    }
    Ok(out)
}

/// How big a volume may be: dossier.yaml's 分册 (pages, megabytes), or the default pages.
pub fn volume_limit(d: &Dossier) -> plan::VolumeLimit {
    let v = d.config.volumes.as_ref();
    plan::VolumeLimit {
        pages: v
            .and_then(|v| v.max_pages)
            .unwrap_or(plan::DEFAULT_VOLUME_PAGES),
        bytes: (v.and_then(|v| v.max_mb))
            .filter(|mb| *mb > 0.0)
            .map(|mb| (mb * 1_000_000.0) as u64),
    }
}

/// A report that holds `diags` besides what `report` had (the checked dossier's diagnostics and
/// file texts): what a failed stage returns.
pub fn with(mut report: Report, diags: Vec<Diagnostic>) -> Report {
    for d in diags {
        report.push(d);
    }
    report.sort();
    report
}
