//! A build session: one `dossier build`, or every rebuild of a `dossier watch`. What survives
//! between builds lives here: the fonts (loaded once, reloaded only when the dossier names other
//! font files), the evidence bytes Typst read, the inspections of unchanged evidence files.
//! Typst's own caches (comemo) are process-wide and reused too; `watch` evicts old entries.
//!
//! One build reads as its stages: check → get ready (characters, normalising) → typeset every
//! volume (and the master volume) → package and report → put everything in place together →
//! record what was written and compare with the previous build. Nothing here prints: the result
//! and every diagnostic come back in an [`Outcome`], progress goes to the caller's [`Events`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use std::time::{Duration, Instant};

use crate::build::{self, Stamp};
use crate::diag::{Diagnostic, Report};
use crate::engine::{self, Event, Events, Outcome, Ready, Stage};
use crate::model::Date;
use crate::names::{self, RecordId, Target};
use crate::paths::Fingerprint;
use crate::plan::{self, FontRoles, PlanOptions};
use crate::report::{self, BuildReport, Changes};
use crate::typeset::{FileCache, Fonts};
use crate::validate::{Dossier, InspectCache};
use crate::{output, package};

/// What a build makes and where.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Print the gap list.
    pub draft: bool,
    /// Put unreferenced evidence into the package.
    pub include_unreferenced: bool,
    /// Normalise images and split large PDFs before typesetting.
    pub normalize: bool,
    /// Lay a text layer over scanned pages (`--ocr`; dossier.yaml's `文字识别` also asks).
    pub ocr: bool,
    /// Printed on both sides (the default).
    pub duplex: bool,
    /// The date to stamp the outputs with instead of dossier.yaml's (`SOURCE_DATE_EPOCH`).
    pub date: Option<Date>,
}

/// What a successful build made.
#[derive(Debug, Clone)]
pub struct Built {
    /// The PDFs: the dossier, or the master volume and each volume.
    pub pdfs: Vec<MadePdf>,
    /// The package.
    pub zip: PathBuf,
    /// The build report beside the package.
    pub report: PathBuf,
    /// Pages of all PDFs.
    pub pages: usize,
    /// Records.
    pub records: usize,
    /// Changes against the previous build, if there was one.
    pub changes: Option<Changes>,
    /// Evidence files no record references (and whether they were packaged).
    pub unreferenced: usize,
    /// Time taken.
    pub elapsed: Duration,
    /// What laying the text layer over scanned pages did (`--ocr`).
    pub ocr: Option<crate::textlayer::Summary>,
}

/// A PDF a build wrote.
#[derive(Debug, Clone)]
pub struct MadePdf {
    /// Where it is.
    pub path: PathBuf,
    /// Its pages.
    pub pages: usize,
}

/// A PDF of a build, for the package, with its temporary file if it is not yet in place.
type StagedPdf = (package::PackagePdf, Option<output::Staged>);

/// What the build report is made of besides the package: pages, where each record is, what
/// the text layer did.
type ReportParts<'a> = (
    usize,
    &'a BTreeMap<String, (usize, usize, usize)>,
    Option<&'a crate::textlayer::Summary>,
);

/// Fonts loaded for a session, with the files (path, size, time) they were loaded from.
type LoadedFonts = (Vec<(PathBuf, Fingerprint)>, Arc<Fonts>, FontRoles);

/// The typeset documents of one build, waiting to be packaged.
#[derive(Default)]
struct Typeset {
    /// The PDFs, master volume first.
    pdfs: Vec<StagedPdf>,
    /// Each record's volume and printed pages, by 件号.
    places: BTreeMap<String, (usize, usize, usize)>,
    /// Records typeset.
    records: usize,
    /// Where each label is in each document, by hint key (see [`Session::hint_key`]).
    anchors: Vec<(String, crate::anchors::Anchors)>,
    /// The places the last builds kept (read once, saved with this build's after the commit).
    hints: crate::anchors::Store,
}

/// What typesetting volume `number` (or the dossier in one volume) is about: "第 2 册：120 件
/// 材料、480 页证据".
fn volume_detail(number: Option<usize>, plan: &plan::Plan) -> String {
    let which = number.map_or(String::new(), |n| format!("第 {n} 册："));
    format!(
        "{which}{} 件材料、{} 页证据",
        plan.totals.records, plan.totals.pages
    )
}

/// How many times a document was laid out, and whether with the places of the last build:
/// "版面 1 遍（沿用上次的页码）".
fn layouts_detail(doc: &build::Document) -> String {
    let how = match (doc.hinted, doc.probed, doc.layouts) {
        (true, _, 1) => "沿用上次的页码",
        (true, _, _) => "上次的页码有变",
        (false, true, 1) => "没有上次的页码，先试排一遍定出页码",
        (false, true, _) => "没有上次的页码，试排定出的页码有变",
        (false, false, _) => "没有上次的页码",
    };
    format!("版面 {} 遍（{how}）", doc.layouts)
}

/// Saves where each record is (`places`: volume, first and last page by 件号) in the cache
/// binders read it from, with the key of this layout (see [`crate::places`]).
fn save_places(
    (d, ready): (&Dossier, &Ready),
    opts: &BuildOptions,
    places: &BTreeMap<String, (usize, usize, usize)>,
    several: bool,
) {
    if opts.draft {
        // A draft's layout is not the dossier's.
        return;
    }
    let (duplex, out) = (opts.duplex, &opts.out);
    if let Some(key) = crate::places::key(d, &ready.plan_options(duplex), engine::volume_limit(d)) {
        let texts = (places.iter())
            .map(|(id, &(v, first, _))| (id.clone(), crate::places::text(several, v, first)))
            .collect();
        crate::places::save(out, &key, &texts);
    }
}

/// A sequence of builds of one dossier.
pub struct Session {
    root: PathBuf,
    opts: BuildOptions,
    /// Put the PDF in place as soon as it is written, before the package (watch: the PDF is
    /// what the user is looking at); otherwise all outputs are replaced together.
    pub pdf_first: bool,
    /// Keep Typst's memoised layouts for the next build (watch: an edit re-lays out only what
    /// it touched). Otherwise they are dropped as soon as a document is exported, before its
    /// evidence is assembled, so that memory holds one of the two at a time.
    pub keep_layouts: bool,
    files: Arc<FileCache>,
    inspected: InspectCache,
    /// The inspections saved by an earlier run were read (once per session).
    inspections_loaded: bool,
    fonts: Option<LoadedFonts>,
}

impl Session {
    /// A session for the dossier at `root`.
    pub fn new(root: &Path, opts: BuildOptions) -> Session {
        Session {
            root: root.to_path_buf(),
            opts,
            files: Arc::new(FileCache::default()),
            inspected: InspectCache::default(),
            inspections_loaded: false,
            fonts: None,
            pdf_first: false,
            keep_layouts: false,
        }
    }

    /// Builds once. The outcome holds every diagnostic; its value is `None` when an error
    /// stopped the build (then nothing was replaced). I/O problems are errors.
    pub fn build(&mut self, events: &mut dyn Events) -> anyhow::Result<Outcome<Built>> {
        let start = Instant::now();
        let saved = InspectCache::file(&self.opts.out);
        if !self.inspections_loaded {
            self.inspected.load(&saved);
            self.inspections_loaded = true;
        }
        let checked = engine::validate(&self.root, &self.inspected)?;
        events.event(Event::Finished {
            stage: Stage::Check,
            elapsed: start.elapsed(),
        });
        let report = checked.report;
        let Some(dossier) = checked.dossier else {
            return Ok(failed(report, Vec::new()));
        };
        // Held until the build returns: another build into the same folder waits.
        let out_dir = output::OutDir::open(&self.opts.out, &dossier.canonical_root, |m| {
            events.notice(m.to_string())
        })?;
        // Only into an output folder that was found fit to write to.
        self.inspected.save(&saved)?;
        let ready = match self.fonts(&dossier) {
            Ok(fonts) => engine::ready(
                &dossier,
                fonts,
                self.files.clone(),
                &self.opts.out,
                engine::Preparing {
                    normalize: self.opts.normalize,
                    ocr: engine::ocr_wanted(&dossier, self.opts.ocr),
                },
                events,
            )?,
            Err(diags) => Err(diags),
        };
        let ready = match ready {
            Ok(r) => r,
            Err(diags) => return Ok(failed(report, diags)),
        };
        let stamp = Stamp::of(&dossier, "dossier", self.opts.date);
        let mut warnings = ready.warnings.clone();
        let (typeset, packed) =
            self.typeset_and_pack(&dossier, &ready, &stamp, &mut warnings, events);
        let typeset = match typeset? {
            Ok(t) => t,
            Err(diags) => return Ok(failed(report, [warnings, diags].concat())),
        };
        let started = match packed {
            None => None,
            Some(Ok(started)) => Some(started?),
            Some(Err(_)) => anyhow::bail!("打包证据原件时程序出错"),
        };
        let ocr = ready.text_summary.as_ref();
        let mut built =
            self.package(&dossier, typeset, (started, ocr), &stamp, &out_dir, events)?;
        built.elapsed = start.elapsed();
        self.keep_only_used(&dossier, &ready);
        Ok(Outcome {
            report: engine::with(report, warnings),
            value: Some(built),
        })
    }

    /// Typesets the dossier and, unless the PDF comes first (watch), starts its package on a
    /// second thread at the same time: the evidence first, then each volume as soon as it is
    /// written. A failed typesetting stops the packing; its temporary file is removed.
    fn typeset_and_pack(
        &self,
        dossier: &Dossier,
        ready: &Ready,
        stamp: &Stamp,
        warnings: &mut Vec<Diagnostic>,
        events: &mut dyn Events,
    ) -> TypesetAndPacked {
        let zip_path = (self.opts.out).join(format!("{}.zip", engine::output_name(dossier)));
        if self.pdf_first {
            // watch: the PDF first, on every core; the package after it.
            let typeset = self.typeset_all(
                dossier,
                ready,
                stamp,
                warnings,
                (events, None, &AtomicBool::new(false)),
            );
            (typeset, None)
        } else {
            // The evidence goes into the package while the dossier is typeset, and each volume
            // as soon as it is written.
            let cancel = AtomicBool::new(false);
            let (tx, rx) = std::sync::mpsc::channel::<Handed>();
            std::thread::scope(|scope| {
                let packing = scope.spawn(|| -> anyhow::Result<StartedPackage> {
                    let include = self.opts.include_unreferenced;
                    let (staging, mut started) = start_package(
                        (&zip_path, &self.opts.out),
                        dossier,
                        include,
                        stamp.date,
                        &cancel,
                    )?;
                    for handed in rx {
                        match handed {
                            Handed::File(pdf) => started.add_pdf(dossier, &pdf)?,
                            Handed::Stream(pdf, chunks) => {
                                started.add_pdf_streamed(dossier, &pdf, chunks)?;
                            }
                        }
                    }
                    (staging.writer()?.sync_data())
                        .with_context(|| format!("写入 {} 失败", zip_path.display()))?;
                    Ok((staging, started))
                });
                let mut hand_over = |handed: Handed| {
                    // A packer that stopped says why when it is joined.
                    let _ = tx.send(handed);
                };
                let typeset = self.typeset_all(
                    dossier,
                    ready,
                    stamp,
                    warnings,
                    (events, Some(&mut hand_over), &cancel),
                );
                if !matches!(typeset, Ok(Ok(_))) {
                    cancel.store(true, Ordering::Relaxed);
                }
                drop(tx);
                (typeset, Some(packing.join()))
            })
        }
    }

    /// Typesets the dossier: each volume written to a temporary file and dropped before the
    /// next (memory holds one volume's layout at a time), then, for several volumes, the
    /// master volume. A volume is written (and streamed to the package, `written`) on a thread
    /// of its own, its evidence while it is laid out, the rest while the next one is; a failed
    /// layout sets `cancel` (the package stops) and the writing stops.
    fn typeset_all(
        &self,
        d: &Dossier,
        ready: &Ready,
        stamp: &Stamp,
        warnings: &mut Vec<Diagnostic>,
        (events, mut written, cancel): (&mut dyn Events, Option<Written<'_>>, &AtomicBool),
    ) -> anyhow::Result<Result<Typeset, Vec<Diagnostic>>> {
        let started = Instant::now();
        let name = engine::output_name(d);
        let volumes = plan::volumes(d, engine::volume_limit(d));
        let several = volumes.len() > 1;
        let base = PlanOptions {
            draft: self.opts.draft,
            ..ready.plan_options(self.opts.duplex)
        };
        let mut out = Typeset::default();
        let hints = crate::anchors::Store::load(&self.opts.out);
        let mut item_places: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
        // Each document's warnings, in the order of the documents.
        let mut found: Vec<Vec<Diagnostic>> = Vec::new();
        let laid_out = std::thread::scope(|scope| -> anyhow::Result<Result<(), Vec<Diagnostic>>> {
            let mut writing: Option<Writing<'_>> = None;
            for v in &volumes {
                let volume = several.then(|| v.clone());
                let opts = PlanOptions {
                    volume,
                    ..base.clone()
                };
                let plan = plan::plan(d, &opts);
                out.records += plan.totals.records;
                events.event(Event::Started {
                    stage: Stage::Typeset,
                    detail: volume_detail(several.then_some(v.number), &plan),
                });
                let stamp = stamp.part(&v.number.to_string());
                let file = plan.target.file_name(&name);
                let (next, mut doc) = match self.write_and_lay_out(
                    scope,
                    (&plan, &stamp, ready),
                    (&file, Some(v), &hints),
                    (d, &mut written, &mut writing, cancel),
                ) {
                    Ok(laid_out) => laid_out,
                    Err(diags) => return Ok(Err(diags)),
                };
                events.event(Event::Detail(layouts_detail(&doc)));
                take_places(&mut doc, v.number, (&mut out.places, &mut item_places));
                self.finish_writing(writing.take(), &mut out, &mut written, &mut found)?;
                writing = Some(next.give(doc, &mut written));
                if several {
                    // Memory holds one volume's evidence bytes (its layout is forgotten).
                    ready.res.files.retain(|_| false);
                }
            }
            // For binders, which print where each record is in the dossier.
            save_places((d, ready), &self.opts, &out.places, several);
            if several {
                let plan = master_plan(d, &base, &volumes, &out, &item_places);
                events.event(Event::Started {
                    stage: Stage::Typeset,
                    detail: "总目录".into(),
                });
                let file = plan.target.file_name(&name);
                let master = stamp.part("master");
                let (next, doc) = match self.write_and_lay_out(
                    scope,
                    (&plan, &master, ready),
                    (&file, None, &hints),
                    (d, &mut written, &mut writing, cancel),
                ) {
                    Ok(laid_out) => laid_out,
                    Err(diags) => return Ok(Err(diags)),
                };
                events.event(Event::Detail(layouts_detail(&doc)));
                self.finish_writing(writing.take(), &mut out, &mut written, &mut found)?;
                writing = Some(next.give(doc, &mut written));
            }
            self.finish_writing(writing.take(), &mut out, &mut written, &mut found)?;
            Ok(Ok(()))
        });
        if let Err(diags) = at_the_record(d, laid_out)? {
            return Ok(Err(diags));
        }
        warnings.extend(found.into_iter().flatten());
        out.hints = hints;
        events.event(Event::Finished {
            stage: Stage::Typeset,
            elapsed: started.elapsed(),
        });
        Ok(Ok(out))
    }

    /// Writes the package and the build report, puts every output in place together, records
    /// what was written (removing what this build no longer makes) and compares with the
    /// previous build.
    fn package(
        &self,
        d: &Dossier,
        typeset: Typeset,
        (packed, ocr): (Option<StartedPackage>, Option<&crate::textlayer::Summary>),
        stamp: &Stamp,
        out_dir: &output::OutDir,
        events: &mut dyn Events,
    ) -> anyhow::Result<Built> {
        let started = Instant::now();
        events.event(Event::Started {
            stage: Stage::Package,
            detail: "证据原件".into(),
        });
        let name = engine::output_name(d);
        let zip_name = format!("{name}.zip");
        let report_name = format!("{name}-{}", crate::names::REPORT_JSON);
        let zip_path = self.opts.out.join(&zip_name);
        let report_path = self.opts.out.join(&report_name);
        let previous: Option<BuildReport> = std::fs::read(&report_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let Typeset {
            pdfs,
            places,
            records,
            anchors,
            hints,
        } = typeset;
        let pages: usize = pdfs.iter().map(|(p, _)| p.pages).sum();
        let input = package::PackageInput {
            dossier: d,
            pdfs: pdfs.iter().map(|(p, _)| p.clone()).collect(),
            include_unreferenced: self.opts.include_unreferenced,
            date: stamp.date,
        };
        let packed = match packed {
            Some(packed) => packed,
            None => {
                let include = input.include_unreferenced;
                let paths = (zip_path.as_path(), self.opts.out.as_path());
                start_package(paths, d, include, stamp.date, &AtomicBool::new(false))?
            }
        };
        let (zip_staged, report_staged, new_report) =
            stage_package(packed, &input, (pages, &places, ocr), &report_path, events)?;
        let names: Vec<(String, usize)> = pdfs
            .iter()
            .map(|(p, _)| (p.name.clone(), p.pages))
            .collect();
        let staged: Vec<output::Staged> = pdfs.into_iter().filter_map(|(_, s)| s).collect();
        output::commit_all(
            staged
                .into_iter()
                .chain([zip_staged, report_staged])
                .collect(),
        )?;
        self.save_hints(hints, &name, anchors);
        events.event(Event::Finished {
            stage: Stage::Package,
            elapsed: started.elapsed(),
        });
        let written: Vec<String> = names
            .iter()
            .map(|(n, _)| n.clone())
            .chain([zip_name, report_name])
            .collect();
        // PDFs an earlier build of this name may have left: the dossier, volumes, the master.
        let former = out_dir.files("", |f| Target::is_dossier_pdf(&name, f));
        for line in out_dir.record("build", &written, &|_| false, &former)? {
            events.notice(line);
        }
        Ok(Built {
            pdfs: names
                .into_iter()
                .map(|(n, pages)| MadePdf {
                    path: self.opts.out.join(n),
                    pages,
                })
                .collect(),
            zip: zip_path,
            report: report_path,
            pages,
            records,
            changes: previous.map(|p| report::compare(&p, &new_report)),
            unreferenced: d.unreferenced.len(),
            ocr: ocr.cloned(),
            elapsed: Duration::ZERO,
        })
    }

    /// Lays out and exports one PDF of this build (the dossier, a volume or the master
    /// volume), with the places of its last build (`hints`). What Typst memoised is given back
    /// unless `watch` keeps it — and a volume's always: the next volume shares little of it,
    /// and memory holds one volume's layout at a time, in `watch` too.
    fn lay_out(
        &self,
        plan: &plan::Plan,
        d: &Dossier,
        res: &build::Resources,
        stamp: &Stamp,
        (file, hints): (&str, &crate::anchors::Store),
    ) -> Result<build::Document, Vec<Diagnostic>> {
        let hint = hints.get(&self.hint_key(file));
        let volume = matches!(plan.target, Target::Volume(_));
        build::build(plan, d, res, stamp, (hint, volume || !self.keep_layouts))
    }

    /// Starts writing a document of this build (see [`Session::start_writing`]) and lays it
    /// out; a failed layout stops that writing and the one of the document before it
    /// (`writing`), and the package (`cancel`).
    fn write_and_lay_out<'scope>(
        &self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        (plan, stamp, ready): (&plan::Plan, &Stamp, &Ready),
        (file, volume, hints): (&str, Option<&plan::Volume>, &crate::anchors::Store),
        (d, written, writing, cancel): (
            &Dossier,
            &mut Option<Written<'_>>,
            &mut Option<Writing<'scope>>,
            &AtomicBool,
        ),
    ) -> Result<(Writing<'scope>, build::Document), Vec<Diagnostic>> {
        let start = (plan, stamp, &ready.res);
        let next = self.start_writing(
            scope,
            start,
            (file.to_string(), volume),
            (d, written, writing),
        );
        match self.lay_out(plan, d, &ready.res, stamp, (file, hints)) {
            Ok(doc) => Ok((next, doc)),
            Err(diags) => Err(abandon([writing.take(), Some(next)], cancel, diags)),
        }
    }

    /// Starts writing a document of this build, before it is laid out, to a temporary file in
    /// the output folder (in place in `pdf_first` mode) on a thread of `scope`: the evidence
    /// pages its plan draws first when it is the first document of the build (see
    /// [`crate::assemble::Ahead`]), then, once
    /// [`Writing::give`] hands it the layout, the rest. Its bytes go to the package (`written`)
    /// at the same time, unless it could reach the size at which the package copies it from
    /// its file (see [`package::PdfSink::fits`]) — handed to the package now unless a document
    /// before it (`before`) is still to be handed, so that the package keeps their order.
    /// `volume`: the volume it is (for the size limit), none for the master volume.
    fn start_writing<'scope>(
        &self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        (plan, stamp, res): (&plan::Plan, &Stamp, &build::Resources),
        (file, volume): (String, Option<&plan::Volume>),
        (d, written, before): (&Dossier, &mut Option<Written<'_>>, &Option<Writing<'_>>),
    ) -> Writing<'scope> {
        let dest = self.opts.out.join(&file);
        let pdf = package::PackagePdf {
            name: file,
            path: dest.clone(),
            pages: 0,
        };
        let evidence: u64 = d.files.values().map(|f| f.size).sum();
        // The frame of a document is some kilobytes a page: far below this.
        let bound = evidence.saturating_mul(2).saturating_add(256 << 20);
        let streamed = written.is_some() && package::PdfSink::fits(bound);
        let (sink, mut handed) = match written.as_mut() {
            Some(_) if streamed => {
                let (sink, chunks) = package::PdfSink::new();
                (Some(sink), Some(Handed::Stream(pdf.clone(), chunks)))
            }
            _ => (None, None),
        };
        if before.as_ref().is_none_or(|b| b.streamed)
            && let (Some(hand), Some(h)) = (written.as_mut(), handed.take())
        {
            hand(h);
        }
        // Ahead only while nothing else is written: a later volume is laid out while the one
        // before it is written anyway, and writing both at once made 5,000 pages in ten
        // volumes slower (14.4 -> 16.5 s, more system time), not faster.
        let ahead =
            (before.is_none() && !stamp.pdfa && !crate::render::own_templates(&d.canonical_root))
                .then(|| Evidence {
                    pages: (plan.drawn_pages().into_iter())
                        .map(|(p, n)| (p.to_string(), n))
                        .collect(),
                    root: d.canonical_root.clone(),
                    normalized: res.normalized.clone(),
                    cache: res.files.stand_ins.clone(),
                });
        let stop = Arc::new(AtomicBool::new(false));
        let (give, frame) = std::sync::mpsc::sync_channel::<Frame>(1);
        let pdf_first = self.pdf_first;
        let stopped = stop.clone();
        let thread = scope.spawn(move || {
            stage_pdf(
                &dest,
                (ahead.filter(|a| !a.pages.is_empty()), &stopped),
                frame,
                sink,
                pdf_first,
            )
        });
        Writing {
            pdf,
            streamed,
            handed,
            volume: volume.map(|v| (v.clone(), engine::volume_limit(d))),
            anchors: crate::anchors::Anchors::new(),
            warnings: Vec::new(),
            give: Some(give),
            stop,
            thread,
        }
    }

    /// Waits for a document being written and takes it into `out` (the master volume first),
    /// its warnings into `found`; hands it to the package now if it was not streamed.
    fn finish_writing(
        &self,
        writing: Option<Writing<'_>>,
        out: &mut Typeset,
        written: &mut Option<Written<'_>>,
        found: &mut Vec<Vec<Diagnostic>>,
    ) -> anyhow::Result<()> {
        let Some(w) = writing else { return Ok(()) };
        let joined = w.thread.join();
        let (staged, path) =
            joined.map_err(|_| anyhow::anyhow!("写出 {} 时程序出错", w.pdf.name))??;
        let mut pdf = w.pdf;
        pdf.path = path;
        if let (Some(hand), false) = (written.as_mut(), w.streamed) {
            hand(Handed::File(pdf.clone()));
        }
        out.anchors.push((self.hint_key(&pdf.name), w.anchors));
        let mut warnings = w.warnings;
        match &w.volume {
            Some((v, limit)) => {
                warnings.extend(over_size(&pdf, v, *limit));
                out.pdfs.push((pdf, staged));
            }
            None => out.pdfs.insert(0, (pdf, staged)),
        }
        found.push(warnings);
        Ok(())
    }

    /// The key of a document's places in the hint store: its file name and what changes its
    /// layout as a whole (draft list, one- or two-sided).
    fn hint_key(&self, file: &str) -> String {
        let draft = if self.opts.draft { "|draft" } else { "" };
        let sides = if self.opts.duplex { "" } else { "|simplex" };
        format!("{file}{draft}{sides}")
    }

    /// Keeps where each label is in this build's documents for the next build, in `store` (the
    /// places read at the start) in place of what an earlier build of the dossier (`name`)
    /// kept; binders' places stay.
    fn save_hints(
        &self,
        mut store: crate::anchors::Store,
        name: &str,
        anchors: Vec<(String, crate::anchors::Anchors)>,
    ) {
        store.retain(|key| {
            let file = key.split('|').next().unwrap_or(key);
            !Target::is_dossier_pdf(name, file)
        });
        for (key, a) in anchors {
            store.set(&key, a);
        }
        store.save(&self.opts.out);
    }

    /// Forgets the evidence bytes and normalised pages this build did not use (a long watch
    /// keeps only what the dossier still needs).
    fn keep_only_used(&self, d: &Dossier, ready: &Ready) {
        let mut used: std::collections::BTreeSet<PathBuf> = d
            .files
            .keys()
            .map(|rel| d.canonical_root.join(rel))
            .collect();
        if let (Some(dir), Some(p)) = (&ready.res.normalized, &ready.prepared) {
            used.extend(
                p.pages
                    .values()
                    .filter_map(|v| v.strip_prefix(crate::normalize::VIRTUAL_DIR))
                    .map(|n| dir.join(n.trim_start_matches('/'))),
            );
        }
        self.files.retain(|p| used.contains(p));
    }

    /// The fonts, loaded once and again only when the font files named in dossier.yaml change.
    fn fonts(&mut self, d: &Dossier) -> Result<(Arc<Fonts>, FontRoles), Vec<Diagnostic>> {
        let files: Vec<String> = d
            .config
            .fonts
            .iter()
            .flat_map(|f| f.files.iter().map(|s| s.value.clone()))
            .collect();
        let key: Vec<(PathBuf, Fingerprint)> = build::font_files(&d.canonical_root, &files)
            .into_iter()
            .filter_map(|p| Some((Fingerprint::of(&p)?, p)))
            .map(|(f, p)| (p, f))
            .collect();
        if let Some((k, fonts, _)) = &self.fonts
            && *k == key
        {
            // Same font files: keep the loaded fonts, take the roles afresh (cheap).
            let fonts = fonts.clone();
            let (_, roles) = build::dossier_fonts_with(d, Some(fonts.clone()))?;
            return Ok((fonts, roles));
        }
        let (fonts, roles) = build::dossier_fonts(d)?;
        self.fonts = Some((key, fonts.clone(), roles.clone()));
        Ok((fonts, roles))
    }
}

/// `r`, with an evidence file the assembler could not embed as the error of its records (see
/// [`engine::unusable`]).
fn at_the_record<T>(
    d: &Dossier,
    r: anyhow::Result<Result<T, Vec<Diagnostic>>>,
) -> anyhow::Result<Result<T, Vec<Diagnostic>>> {
    match r {
        Err(e) => engine::unusable(d, &e).map(Err).ok_or(e),
        r => r,
    }
}

/// What the thread writing a PDF is given once its document is laid out: the frame, its
/// stand-ins and its number of pages.
type Frame = (Vec<u8>, Arc<crate::assemble::StandIns>, usize);

/// The evidence pages a document's plan draws, and what finds them as its world does.
struct Evidence {
    pages: Vec<(String, u32)>,
    root: PathBuf,
    normalized: Option<PathBuf>,
    cache: Arc<crate::assemble::StandInCache>,
}

impl Evidence {
    /// Writes them ahead of the frame (see [`crate::assemble::Ahead`]), unless `stop` is set.
    fn write(
        &self,
        stop: &AtomicBool,
        out: &mut impl Write,
    ) -> anyhow::Result<crate::assemble::Ahead> {
        let pages: Vec<(&str, u32)> = self.pages.iter().map(|(p, n)| (p.as_str(), *n)).collect();
        let resolve = |asked: &str| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            crate::typeset::resolve(&self.root, self.normalized.as_deref(), asked).ok()
        };
        crate::assemble::write_ahead(&pages, &resolve, self.cache.clone(), out)
    }
}

/// Writes a PDF to a temporary file beside its destination, and to `sink` (the package) at
/// the same time: the evidence first when it is known before the layout (`ahead`), then, once
/// the layout comes (`frame`), the frame and the evidence for its stand-ins. In `pdf_first`
/// mode it is put in place at once. Returns the staged file (if not yet in place) and where
/// its bytes are now. When the layout fails (`frame` closes, `stop` is set) nothing is kept.
fn stage_pdf(
    dest: &Path,
    (ahead, stop): (Option<Evidence>, &AtomicBool),
    frame: std::sync::mpsc::Receiver<Frame>,
    sink: Option<package::PdfSink>,
    pdf_first: bool,
) -> anyhow::Result<(Option<output::Staged>, PathBuf)> {
    let (staged, ()) = output::stage_writeback(dest, |file| {
        let mut w = Tee { file, sink };
        let written = ahead.map(|a| a.write(stop, &mut w)).transpose()?;
        let Ok((frame, stand_ins, pages)) = frame.recv() else {
            anyhow::bail!("排版没有完成");
        };
        match written {
            Some(a) => crate::assemble::finish_ahead(&frame, &stand_ins, a, &mut w)?,
            None => crate::assemble::write(&frame, &stand_ins, &mut w)?,
        }
        if let Some(sink) = w.sink {
            w.file.flush()?;
            sink.finish(pages);
        }
        Ok(())
    })?;
    if pdf_first {
        staged.commit()?;
        Ok((None, dest.to_path_buf()))
    } else {
        let path = staged.path().to_path_buf();
        Ok((Some(staged), path))
    }
}

/// Each record's volume and printed pages (first, last), by 件号.
type RecordPlaces = BTreeMap<String, (usize, usize, usize)>;

/// Stops the documents being written when a layout failed (their temporary files go with
/// them, a panic in them included) and the package (`cancel`): the build reports `diags`.
fn abandon<const N: usize>(
    writing: [Option<Writing<'_>>; N],
    cancel: &AtomicBool,
    diags: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    cancel.store(true, Ordering::Relaxed);
    for w in writing.into_iter().flatten() {
        w.stop.store(true, Ordering::Relaxed);
        drop(w.give);
        let _ = w.thread.join();
    }
    diags
}

/// Takes the pages of a volume's records and items (volume `number`) into the dossier's.
fn take_places(
    doc: &mut build::Document,
    number: usize,
    (records, items): (&mut RecordPlaces, &mut BTreeMap<u32, (usize, usize)>),
) {
    for (id, (a, b)) in std::mem::take(&mut doc.record_pages) {
        records.insert(id, (number, a, b));
    }
    for (n, p) in std::mem::take(&mut doc.item_pages) {
        items.insert(n, (number, p));
    }
}

/// A document being written on its own thread while it and the next are laid out, with what
/// the build keeps of it.
struct Writing<'scope> {
    pdf: package::PackagePdf,
    streamed: bool,
    /// Its stream, not yet handed to the package (a document before it is handed first).
    handed: Option<Handed>,
    /// The volume it is and the dossier's limits; none for the master volume.
    volume: Option<(plan::Volume, plan::VolumeLimit)>,
    anchors: crate::anchors::Anchors,
    warnings: Vec<Diagnostic>,
    /// Gives the thread the laid-out document.
    give: Option<std::sync::mpsc::SyncSender<Frame>>,
    /// Set when the layout failed: the thread stops writing evidence.
    stop: Arc<AtomicBool>,
    thread:
        std::thread::ScopedJoinHandle<'scope, anyhow::Result<(Option<output::Staged>, PathBuf)>>,
}

impl<'scope> Writing<'scope> {
    /// Gives the writing its laid-out document (and the package its stream, if the document
    /// before it is handed by now).
    fn give(mut self, doc: build::Document, written: &mut Option<Written<'_>>) -> Writing<'scope> {
        if let (Some(hand), Some(h)) = (written.as_mut(), self.handed.take()) {
            hand(h);
        }
        let build::Document {
            pdf: frame,
            stand_ins,
            anchors,
            warnings,
            pages,
            ..
        } = doc;
        self.pdf.pages = pages;
        self.anchors = anchors;
        self.warnings = warnings;
        if let Some(give) = self.give.take() {
            // A thread that stopped (its evidence could not be written) says why when joined.
            let _ = give.send((frame, stand_ins, pages));
        }
        self
    }
}

/// Told of each PDF of a build as it is written (the package).
type Written<'a> = &'a mut dyn FnMut(Handed);

/// A PDF of the build handed to the package.
enum Handed {
    /// Complete in its file.
    File(package::PackagePdf),
    /// Its bytes as they are written.
    Stream(package::PackagePdf, package::PdfChunks),
}

/// Writes a PDF to its file and to the package.
struct Tee<F: Write> {
    file: F,
    sink: Option<package::PdfSink>,
}

impl<F: Write> Write for Tee<F> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(b)?;
        if let Some(sink) = &mut self.sink {
            sink.write_all(&b[..n])?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// What typesetting gave, and the package started beside it (joined from its thread).
type TypesetAndPacked = (
    anyhow::Result<Result<Typeset, Vec<Diagnostic>>>,
    Option<std::thread::Result<anyhow::Result<StartedPackage>>>,
);

/// A package with its evidence in, in its temporary file.
type StartedPackage = (
    output::Staging,
    package::Started<std::io::BufWriter<output::Writeback>>,
);

/// Starts the package at `zip_path` (a temporary file beside it) with the evidence of `d`.
/// The evidence's digests kept by the last package in `out` are used and saved back updated.
fn start_package(
    (zip_path, out): (&Path, &Path),
    d: &Dossier,
    include_unreferenced: bool,
    date: Date,
    cancel: &AtomicBool,
) -> anyhow::Result<StartedPackage> {
    let staging = output::Staging::open(zip_path)?;
    let writer = std::io::BufWriter::new(staging.writeback()?);
    let kept = crate::digests::Digests::file(out);
    let mut digests = crate::digests::Digests::load(&kept);
    let started = package::start(writer, d, include_unreferenced, date, &mut digests, cancel)
        .with_context(|| format!("写入 {} 失败", zip_path.display()))?;
    digests.save(&kept)?;
    // The evidence to disk now, while the PDF is being typeset: the final flush of the
    // package then has only the PDF and the rest to wait for.
    (staging.writer()?.sync_data()).with_context(|| format!("写入 {} 失败", zip_path.display()))?;
    Ok((staging, started))
}

/// Finishes the package and writes the build report, both to temporary files beside their
/// destinations: the report goes into the package and beside it, the same bytes in both.
fn stage_package(
    (staging, started): StartedPackage,
    input: &package::PackageInput<'_>,
    (pages, places, ocr): ReportParts<'_>,
    report_path: &Path,
    events: &mut dyn Events,
) -> anyhow::Result<(output::Staged, output::Staged, BuildReport)> {
    let mut made: Option<(BuildReport, Vec<u8>)> = None;
    let mut progress = engine::progress_of(events, Stage::Package);
    let report = |entries: &[package::ManifestEntry]| {
        let r = report::BuildReport {
            ocr: ocr.cloned(),
            ..report::make(input.dossier, pages, places, entries)
        };
        let bytes = serde_json::to_vec_pretty(&r)?;
        made = Some((r, bytes.clone()));
        Ok(vec![(crate::names::REPORT_JSON.to_string(), bytes)])
    };
    package::finish(started, input, report, &mut progress)?;
    let zip_staged = staging.finish()?;
    let (report, bytes) = made.expect("the package writer calls back before the manifest");
    let (report_staged, ()) = output::stage(report_path, |f| Ok(f.write_all(&bytes)?))?;
    Ok((zip_staged, report_staged, report))
}

/// The plan of the master volume (总目录): the whole dossier's plan with the volumes and where
/// every record and item is ("第2册第45页").
fn master_plan(
    d: &Dossier,
    base: &PlanOptions,
    volumes: &[plan::Volume],
    typeset: &Typeset,
    item_places: &BTreeMap<u32, (usize, usize)>,
) -> plan::Plan {
    let mut plan = plan::plan(d, base);
    plan.target = Target::Master;
    plan.volumes = typeset
        .pdfs
        .iter()
        .zip(volumes)
        .map(|((p, _), v)| plan::VolumeInfo {
            label: format!("第{}册", v.number),
            file: p.name.clone(),
            items: crate::diag::list(v.items.iter().map(|n| format!("指标{n}"))),
            pages: p.pages,
        })
        .collect();
    let at = |vol: usize, page: usize| format!("第{vol}册第{page}页");
    plan.places = typeset
        .places
        .iter()
        .filter_map(|(id, (vol, a, _))| Some((RecordId::parse(id)?.label(), at(*vol, *a))))
        .chain(
            item_places
                .iter()
                .map(|(n, (vol, p))| (names::item_label(*n), at(*vol, *p))),
        )
        .collect();
    plan
}

/// The outcome of a build stopped by errors: the checked dossier's report with the new
/// diagnostics; nothing was replaced.
fn failed(report: Report, diags: Vec<Diagnostic>) -> Outcome<Built> {
    Outcome {
        report: engine::with(report, diags),
        value: None,
    }
}

/// A warning when a volume's PDF came out bigger than 每册大小上限 (volumes are cut by an
/// estimate made before typesetting).
fn over_size(
    pdf: &package::PackagePdf,
    v: &plan::Volume,
    limit: plan::VolumeLimit,
) -> Option<Diagnostic> {
    let max = limit.bytes?;
    let size = std::fs::metadata(&pdf.path).ok()?.len();
    if size <= max {
        return None;
    }
    let mb = |b: u64| b as f64 / 1_000_000.0;
    let hint = if v.items.len() == 1 {
        format!(
            "这一册只有指标{}，一项指标不会拆到两册里。可以提高上限，或把其中大的扫描件压缩后再登记。",
            v.items[0]
        )
    } else {
        "分册按证据原件的大小估算；把“每册大小上限”调低一些重新生成。".to_string()
    };
    Some(
        Diagnostic::warning(format!(
            "{} 有 {:.1} MB，超过了每册大小上限 {:.1} MB",
            pdf.name,
            mb(size),
            mb(max)
        ))
        .code("volume-over-size")
        .at(crate::diag::Place::file(crate::load::CONFIG_FILE))
        .hint(hint),
    )
}
