//! A build session: one `dossier build`, or every rebuild of a `dossier watch`. What survives
//! between builds lives here: the fonts (loaded once, reloaded only when the dossier names other
//! font files), the evidence bytes Typst read, the inspections of unchanged evidence files.
//! Typst's own caches (comemo) are process-wide and reused too; `watch` evicts old entries.
//!
//! One build: check → plan → render → typeset → PDF, package and build report written to
//! temporary files → all three renamed into place → compared with the previous report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::build::{self, Stamp};
use crate::cmd::{checked_dossier, print_diagnostics, status};
use crate::diag::{Diagnostic, Place};
use crate::load::CONFIG_FILE;
use crate::plan::{self, FontRoles, PlanOptions};
use crate::report::{self, BuildReport, Changes};
use crate::typeset::{FileCache, Fonts};
use crate::validate::{Dossier, InspectCache};
use crate::yaml::pos_of;
use crate::{output, package};

/// Default output name when dossier.yaml has none.
pub const DEFAULT_OUTPUT_NAME: &str = "验收资料汇编";

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
    /// Printed on both sides (the default).
    pub duplex: bool,
}

impl From<&crate::cli::BuildArgs> for BuildOptions {
    fn from(a: &crate::cli::BuildArgs) -> Self {
        BuildOptions {
            out: a.out.clone(),
            draft: a.draft,
            include_unreferenced: a.include_unreferenced,
            normalize: !a.no_normalize,
            duplex: !a.simplex,
        }
    }
}

/// What a successful build made.
#[derive(Debug, Clone)]
pub struct Built {
    /// The PDFs: the dossier, or the master volume and each volume.
    pub pdfs: Vec<PathBuf>,
    /// The package.
    pub zip: PathBuf,
    /// Pages of all PDFs.
    pub pages: usize,
    /// Records.
    pub records: usize,
    /// Changes against the previous build, if there was one.
    pub changes: Option<Changes>,
    /// Time taken.
    pub elapsed: Duration,
}

/// A PDF of a build, for the package, with its temporary file if it is not yet in place.
type StagedPdf = (package::PackagePdf, Option<output::Staged>);

/// Fonts loaded for a session, with the files (path, size, time) they were loaded from.
type LoadedFonts = (Vec<(PathBuf, u64, SystemTime)>, Arc<Fonts>, FontRoles);

/// A sequence of builds of one dossier.
pub struct Session {
    root: PathBuf,
    opts: BuildOptions,
    /// Put the PDF in place as soon as it is written, before the package (watch: the PDF is
    /// what the user is looking at); otherwise all outputs are replaced together.
    pub pdf_first: bool,
    timings: bool,
    files: Arc<FileCache>,
    inspected: InspectCache,
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
            fonts: None,
            pdf_first: false,
            timings: std::env::var_os("DOSSIER_TIMINGS").is_some(),
        }
    }

    /// Builds once. `Ok(None)` when the dossier has errors (they are printed) and nothing was
    /// written; I/O problems are errors.
    pub fn build(&mut self) -> anyhow::Result<Option<Built>> {
        let start = Instant::now();
        let root = self.root.clone();
        let mut lap = Lap::new(self.timings);
        let checked = checked_dossier(&root, "汇编", &self.inspected)?;
        lap.note("检查");
        let Some(dossier) = checked else {
            return Ok(None);
        };
        // Held until the build returns: another build into the same folder waits.
        let out_dir = output::OutDir::open(&self.opts.out, &dossier.canonical_root, status)?;
        let (fonts, roles) = match self.fonts(&dossier) {
            Ok(f) => f,
            Err(diags) => return fail(&dossier, diags),
        };
        let unprintable = crate::glyphs::check(&dossier, &fonts);
        if !unprintable.is_empty() {
            return fail(&dossier, unprintable);
        }
        let (res, prepared) = match resources(
            &dossier,
            fonts,
            self.files.clone(),
            &self.opts.out,
            self.opts.normalize,
        )? {
            Ok(r) => r,
            Err(diags) => return fail(&dossier, diags),
        };
        lap.note("规范化证据");

        let name = output_name(&dossier);
        let stamp = Stamp::of(&dossier, "dossier");
        let limit = dossier
            .config
            .volumes
            .as_ref()
            .map_or(plan::DEFAULT_VOLUME_PAGES, |v| v.max_pages);
        let volumes = plan::volumes(&dossier, limit);
        let several = volumes.len() > 1;
        let base = PlanOptions {
            draft: self.opts.draft,
            fonts: roles,
            prepared,
            duplex: self.opts.duplex,
            ..PlanOptions::default()
        };
        // Each volume is typeset, written to a temporary file and dropped before the next one:
        // memory holds one volume at a time.
        let mut pdfs: Vec<StagedPdf> = Vec::new();
        let mut places: std::collections::BTreeMap<String, (usize, usize, usize)> =
            Default::default();
        let mut item_places: std::collections::BTreeMap<u32, (usize, usize)> = Default::default();
        let mut records = 0;
        for v in &volumes {
            let plan = plan::plan(
                &dossier,
                &PlanOptions {
                    volume: several.then(|| v.clone()),
                    ..base.clone()
                },
            );
            records += plan.totals.records;
            let file = if several {
                format!("{name}-第{}册.pdf", v.number)
            } else {
                format!("{name}.pdf")
            };
            status(&format!(
                "排版{}{} 件材料、{} 页证据……",
                if several {
                    format!("第 {} 册：", v.number)
                } else {
                    String::new()
                },
                plan.totals.records,
                plan.totals.pages
            ));
            let stamp = Stamp {
                ident: format!("{}/{}", stamp.ident, v.number),
                ..stamp.clone()
            };
            let (pdf, doc) = match self.typeset(&plan, &dossier, &res, &stamp, file)? {
                Ok(made) => made,
                Err(diags) => return fail(&dossier, diags),
            };
            for (id, (a, b)) in &doc.record_pages {
                places.insert(id.clone(), (v.number, *a, *b));
            }
            for (n, p) in &doc.item_pages {
                item_places.insert(*n, (v.number, *p));
            }
            pdfs.push(pdf);
            if several {
                // Memory holds one volume at a time: forget this volume's evidence bytes and
                // Typst's cached results for them before the next volume.
                res.files.retain(|_| false);
                typst::comemo::evict(0);
            }
        }
        if several {
            let mut plan = plan::plan(&dossier, &base);
            plan.volumes = pdfs
                .iter()
                .zip(&volumes)
                .map(|((p, _), v)| plan::VolumeInfo {
                    label: format!("第{}册", v.number),
                    file: p.name.clone(),
                    items: crate::diag::list(v.items.iter().map(|n| format!("指标{n}"))),
                    pages: p.pages,
                })
                .collect();
            let at = |vol: usize, page: usize| format!("第{vol}册第{page}页");
            plan.places = places
                .iter()
                .map(|(id, (vol, a, _))| (format!("rec-{id}"), at(*vol, *a)))
                .chain(
                    item_places
                        .iter()
                        .map(|(n, (vol, p))| (format!("item-{n:02}"), at(*vol, *p))),
                )
                .collect();
            status("排版总目录……");
            let stamp = Stamp {
                ident: format!("{}/master", stamp.ident),
                ..stamp.clone()
            };
            let file = format!("{name}-总目录.pdf");
            let (pdf, _) = match self.typeset(&plan, &dossier, &res, &stamp, file)? {
                Ok(made) => made,
                Err(diags) => return fail(&dossier, diags),
            };
            pdfs.insert(0, pdf);
        }
        lap.note("排版");

        // Every output is complete on disk before any replaces its previous version.
        let zip_name = format!("{name}.zip");
        let report_name = format!("{name}-{}", report::IN_PACKAGE);
        let zip_path = self.opts.out.join(&zip_name);
        let report_path = self.opts.out.join(&report_name);
        let previous: Option<BuildReport> = std::fs::read(&report_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        status("打包证据原件……");
        let input = package::PackageInput {
            dossier: &dossier,
            pdfs: pdfs.iter().map(|(p, _)| p.clone()).collect(),
            include_unreferenced: self.opts.include_unreferenced,
            date: stamp.date,
        };
        let pages: usize = pdfs.iter().map(|(p, _)| p.pages).sum();
        // The report goes into the package and beside it, the same bytes in both.
        let mut made: Option<(BuildReport, Vec<u8>)> = None;
        let (zip_staged, _manifest) = output::stage(&zip_path, |f| {
            package::write(std::io::BufWriter::new(f), &input, |entries| {
                let r = report::make(&dossier, pages, &places, entries);
                let bytes = serde_json::to_vec_pretty(&r)?;
                made = Some((r, bytes.clone()));
                Ok(vec![(report::IN_PACKAGE.to_string(), bytes)])
            })
        })?;
        let (new_report, report_bytes) =
            made.expect("the package writer calls back before the manifest");
        let (report_staged, ()) = output::stage(&report_path, |f| Ok(f.write_all(&report_bytes)?))?;
        let pdf_paths: Vec<PathBuf> = pdfs
            .iter()
            .map(|(p, _)| self.opts.out.join(&p.name))
            .collect();
        let pdf_names: Vec<String> = pdfs.iter().map(|(p, _)| p.name.clone()).collect();
        for (_, staged) in pdfs {
            if let Some(staged) = staged {
                staged.commit()?;
            }
        }
        zip_staged.commit()?;
        report_staged.commit()?;
        lap.note("打包");
        let written: Vec<String> = pdf_names
            .into_iter()
            .chain([zip_name, report_name])
            .collect();
        // PDFs an earlier build of this name may have left: the dossier, volumes, the master.
        let former = out_dir.files("", |f| {
            f.strip_prefix(name.as_str()).is_some_and(|rest| {
                rest == ".pdf"
                    || rest == "-总目录.pdf"
                    || rest
                        .strip_prefix("-第")
                        .is_some_and(|r| r.ends_with("册.pdf"))
            })
        });
        for line in out_dir.record("build", &written, false, &former)? {
            status(&line);
        }

        if !dossier.unreferenced.is_empty() {
            let what = if self.opts.include_unreferenced {
                format!("已放入资料包的“{}”文件夹", package::UNREFERENCED_FOLDER)
            } else {
                "没有放入资料包（需要时加 --include-unreferenced）".to_string()
            };
            status(&format!(
                "注意：evidence 里有 {} 个文件没有被任何材料引用，{what}。",
                dossier.unreferenced.len()
            ));
        }
        // Keep only what this build used: its evidence and its normalised pages.
        let mut used: std::collections::BTreeSet<PathBuf> = dossier
            .files
            .keys()
            .map(|rel| dossier.canonical_root.join(rel))
            .collect();
        if let (Some(dir), Some(p)) = (&res.normalized, &base.prepared) {
            used.extend(
                p.pages
                    .values()
                    .filter_map(|v| v.strip_prefix(crate::normalize::VIRTUAL_DIR))
                    .map(|n| dir.join(n.trim_start_matches('/'))),
            );
        }
        self.files.retain(|p| used.contains(p));
        Ok(Some(Built {
            pdfs: pdf_paths,
            zip: zip_path,
            pages,
            records,
            changes: previous.map(|p| report::compare(&p, &new_report)),
            elapsed: start.elapsed(),
        }))
    }

    /// Typesets one PDF of this build (the dossier, a volume or the master volume), prints
    /// Typst's warnings and writes it to a temporary file in the output folder (in place in
    /// `pdf_first` mode). Returns it for the package, and the document without its bytes (for
    /// its page places): memory holds one volume's PDF at a time.
    fn typeset(
        &self,
        plan: &plan::Plan,
        d: &Dossier,
        res: &build::Resources,
        stamp: &Stamp,
        file: String,
    ) -> anyhow::Result<Result<(StagedPdf, build::Document), Vec<Diagnostic>>> {
        let mut doc = match build::build(plan, d, res, stamp) {
            Ok(doc) => doc,
            Err(diags) => return Ok(Err(diags)),
        };
        print_diagnostics(d, std::mem::take(&mut doc.warnings));
        let (staged, path) = self.stage_pdf(&self.opts.out.join(&file), &doc.pdf)?;
        doc.pdf = Vec::new();
        let pdf = package::PackagePdf {
            name: file,
            path,
            pages: doc.pages,
        };
        Ok(Ok(((pdf, staged), doc)))
    }

    /// Writes a PDF to a temporary file beside its destination; in `pdf_first` mode it is put in
    /// place at once. Returns the staged file (if not yet in place) and where its bytes are now.
    fn stage_pdf(
        &self,
        dest: &Path,
        pdf: &[u8],
    ) -> anyhow::Result<(Option<output::Staged>, PathBuf)> {
        let (staged, ()) = output::stage(dest, |f| Ok(f.write_all(pdf)?))?;
        if self.pdf_first {
            staged.commit()?;
            Ok((None, dest.to_path_buf()))
        } else {
            let path = staged.path().to_path_buf();
            Ok((Some(staged), path))
        }
    }

    /// The fonts, loaded once and again only when the font files named in dossier.yaml change.
    fn fonts(&mut self, d: &Dossier) -> Result<(Arc<Fonts>, FontRoles), Vec<Diagnostic>> {
        let files: Vec<String> = d
            .config
            .fonts
            .iter()
            .flat_map(|f| f.files.iter().map(|s| s.value.clone()))
            .collect();
        let key: Vec<(PathBuf, u64, SystemTime)> = build::font_files(&d.canonical_root, &files)
            .into_iter()
            .filter_map(|p| {
                let m = std::fs::metadata(&p).ok()?;
                Some((p, m.len(), m.modified().ok()?))
            })
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

/// Where every record is in the dossier as `build` lays it out with these options, by 件号:
/// "第 45 页", or "第2册第45页" for a dossier cut into volumes. Laid out only, not exported:
/// binders print these so a reviewer finds each record in the dossier too.
pub fn dossier_places(
    d: &Dossier,
    res: &build::Resources,
    base: &PlanOptions,
) -> Result<std::collections::BTreeMap<String, String>, Vec<Diagnostic>> {
    let limit = d
        .config
        .volumes
        .as_ref()
        .map_or(plan::DEFAULT_VOLUME_PAGES, |v| v.max_pages);
    let volumes = plan::volumes(d, limit);
    let several = volumes.len() > 1;
    let stamp = Stamp::of(d, "dossier");
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
        let places = build::layout_places(&plan, d, res, &stamp)?;
        for (id, (first, _)) in places.records {
            let at = if several {
                format!("第{}册第{first}页", v.number)
            } else {
                format!("第 {first} 页")
            };
            out.insert(id, at);
        }
    }
    Ok(out)
}

/// Prints build errors with the dossier's sources for snippets, and says nothing was replaced.
fn fail(dossier: &Dossier, diags: Vec<Diagnostic>) -> anyhow::Result<Option<Built>> {
    let errors = print_diagnostics(dossier, diags);
    status(&format!(
        "排版出错（{errors} 个错误），没有生成汇编；上一次生成的文件保持不变。"
    ));
    Ok(None)
}

/// What typesetting needs, and the normalised pages the plan should point to.
pub type Ready = (build::Resources, Option<Arc<crate::normalize::Prepared>>);

/// The typesetting resources of a dossier (its PDFs or its binders): the fonts given, the cache
/// of evidence bytes given, and, when `normalize` is on, the evidence normalised into the cache
/// under `out` (one-page PDFs; scaled JPEGs under PDF/A, which may not embed PDF pages).
/// `Ok(Err(..))`: the dossier cannot be typeset as asked (PDF/A with PDF evidence, files that
/// could not be normalised), with diagnostics at the records.
pub fn resources(
    d: &Dossier,
    fonts: Arc<Fonts>,
    files: Arc<FileCache>,
    out: &Path,
    normalize: bool,
) -> anyhow::Result<Result<Ready, Vec<Diagnostic>>> {
    if let Some(diag) = pdfa_conflict(d) {
        return Ok(Err(vec![diag]));
    }
    if !normalize {
        let res = build::Resources {
            fonts,
            files,
            normalized: None,
        };
        return Ok(Ok((res, None)));
    }
    let dir = crate::normalize::cache_dir(out);
    let pdfa = d.config.pdfa.as_ref().is_some_and(|p| p.value.0);
    let form = if pdfa {
        crate::normalize::ImageForm::Jpeg
    } else {
        crate::normalize::ImageForm::Pdf
    };
    let prepared = crate::normalize::prepare(d, &dir, form)?;
    if !prepared.failed.is_empty() {
        return Ok(Err(unreadable(d, &prepared.failed)));
    }
    if prepared.made > 0 {
        status(&format!(
            "已规范化 {} 个证据文件（缩放图片、拆分大 PDF；原件不变）",
            prepared.made
        ));
    }
    let res = build::Resources {
        fonts,
        files,
        normalized: Some(std::fs::canonicalize(&dir)?),
    };
    Ok(Ok((res, Some(Arc::new(prepared)))))
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
                    .at(r.origin.clone())
                    .hint(format!("这件材料的文件：{rel}。文件可能已损坏：请用看图或 PDF 软件打开检查，损坏时请重新扫描或导出。")),
            );
        }
    }
    out
}

/// The output file name (without extension).
pub fn output_name(d: &Dossier) -> String {
    d.config
        .output_name
        .as_ref()
        .map(|n| n.value.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_OUTPUT_NAME.to_string())
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
            .at(Place::at(CONFIG_FILE, pos_of(asked)))
            .hint("排版引擎 Typst 0.15 在 PDF/A 模式下不支持嵌入 PDF。请去掉“PDF/A: 是”，或把这些 PDF 材料转换为图片后再登记。"),
    )
}

/// The status line of a build: what was written, and what changed since the previous one.
pub fn summary(b: &Built) -> Vec<String> {
    let mut lines = vec![format!(
        "已生成 {}：{} 件材料，{} 页；资料包 {}；用时 {:.1} 秒",
        crate::diag::list(b.pdfs.iter().map(|p| p.display())),
        b.records,
        b.pages,
        b.zip.display(),
        b.elapsed.as_secs_f64()
    )];
    if let Some(c) = &b.changes {
        lines.extend(report::describe(c));
    }
    lines
}

/// Prints how long each phase took, when `DOSSIER_TIMINGS` is set (for measuring).
struct Lap {
    on: bool,
    last: Instant,
}

impl Lap {
    fn new(on: bool) -> Lap {
        Lap {
            on,
            last: Instant::now(),
        }
    }

    fn note(&mut self, phase: &str) {
        if self.on {
            status(&format!(
                "  {phase}：{:.0} 毫秒",
                self.last.elapsed().as_secs_f64() * 1000.0
            ));
        }
        self.last = Instant::now();
    }
}
