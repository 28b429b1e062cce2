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
use crate::cmd::{print_report, status};
use crate::diag::{Diagnostic, Place, Report};
use crate::load::CONFIG_FILE;
use crate::plan::{self, FontRoles, PlanOptions};
use crate::report::{self, BuildReport, Changes};
use crate::typeset::{FileCache, Fonts};
use crate::validate::{Dossier, InspectCache};
use crate::yaml::pos_of;
use crate::{load, output, package, validate};

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
}

impl From<&crate::cli::BuildArgs> for BuildOptions {
    fn from(a: &crate::cli::BuildArgs) -> Self {
        BuildOptions {
            out: a.out.clone(),
            draft: a.draft,
            include_unreferenced: a.include_unreferenced,
        }
    }
}

/// What a successful build made.
#[derive(Debug, Clone)]
pub struct Built {
    /// The PDF.
    pub pdf: PathBuf,
    /// The package.
    pub zip: PathBuf,
    /// Pages of the PDF.
    pub pages: usize,
    /// Records.
    pub records: usize,
    /// Changes against the previous build, if there was one.
    pub changes: Option<Changes>,
    /// Time taken.
    pub elapsed: Duration,
}

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

    /// The output folder.
    pub fn out(&self) -> &Path {
        &self.opts.out
    }

    /// Builds once. `Ok(None)` when the dossier has errors (they are printed) and nothing was
    /// written; I/O problems are errors.
    pub fn build(&mut self) -> anyhow::Result<Option<Built>> {
        let start = Instant::now();
        let root = self.root.clone();
        let mut lap = Lap::new(self.timings);
        let checked = validate::validate_with(load::load(&root)?, &self.inspected);
        lap.note("检查");
        print_report(&checked.report, &root);
        let Some(dossier) = checked.dossier else {
            status(&format!(
                "资料有 {} 个错误，没有生成汇编。请改正后重新生成。",
                checked.report.errors()
            ));
            return Ok(None);
        };
        let (fonts, roles) = match self.fonts(&dossier) {
            Ok(f) => f,
            Err(diags) => return fail(&dossier, diags),
        };
        let plan = plan::plan(
            &dossier,
            &PlanOptions {
                draft: self.opts.draft,
                fonts: roles,
                ..PlanOptions::default()
            },
        );
        if let Some(d) = pdfa_conflict(&dossier, &plan) {
            return fail(&dossier, vec![d]);
        }
        status(&format!(
            "排版 {} 件材料、{} 页证据……",
            plan.totals.records, plan.totals.pages
        ));
        let stamp = Stamp::of(&dossier, "dossier");
        lap.note("编排");
        let doc = match build::build(&plan, &dossier, fonts, &stamp, &self.files) {
            Ok(doc) => doc,
            Err(diags) => return fail(&dossier, diags),
        };
        lap.note("排版");
        if !doc.warnings.is_empty() {
            let mut report = Report::new();
            doc.warnings.iter().cloned().for_each(|w| report.push(w));
            report.sort();
            print_report(&report, &root);
        }

        // Every output is complete on disk before any replaces its previous version.
        let name = output_name(&dossier);
        let pdf_path = self.opts.out.join(format!("{name}.pdf"));
        let zip_path = self.opts.out.join(format!("{name}.zip"));
        let report_path = self.opts.out.join(format!("{name}-{}", report::IN_PACKAGE));
        let previous: Option<BuildReport> = std::fs::read(&report_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let (pdf_staged, ()) = output::stage(&pdf_path, |f| Ok(f.write_all(&doc.pdf)?))?;
        let pdf_staged = if self.pdf_first {
            pdf_staged.commit()?;
            None
        } else {
            Some(pdf_staged)
        };
        lap.note("写 PDF");
        status("打包证据原件……");
        let input = package::PackageInput {
            dossier: &dossier,
            pdf_name: format!("{name}.pdf"),
            pdf: &doc.pdf,
            pdf_pages: doc.pages,
            include_unreferenced: self.opts.include_unreferenced,
            date: stamp.date,
        };
        let mut made: Option<BuildReport> = None;
        let (zip_staged, _manifest) = output::stage(&zip_path, |f| {
            package::write(std::io::BufWriter::new(f), &input, |entries| {
                let r = report::make(&dossier, doc.pages, &doc.pdf, &doc.record_pages, entries);
                let bytes = serde_json::to_vec_pretty(&r)?;
                made = Some(r);
                Ok(vec![(report::IN_PACKAGE.to_string(), bytes)])
            })
        })?;
        let new_report = made.expect("the package writer calls back before the manifest");
        let (report_staged, ()) = output::stage(&report_path, |f| {
            Ok(f.write_all(&serde_json::to_vec_pretty(&new_report)?)?)
        })?;
        if let Some(p) = pdf_staged {
            p.commit()?;
        }
        zip_staged.commit()?;
        report_staged.commit()?;
        lap.note("打包");

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
        // Keep only the evidence this dossier still uses.
        let used: std::collections::BTreeSet<PathBuf> = dossier
            .files
            .keys()
            .map(|rel| dossier.canonical_root.join(rel))
            .collect();
        self.files.retain(|p| used.contains(p));
        Ok(Some(Built {
            pdf: pdf_path,
            zip: zip_path,
            pages: doc.pages,
            records: plan.totals.records,
            changes: previous.map(|p| report::compare(&p, &new_report)),
            elapsed: start.elapsed(),
        }))
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

/// Prints build errors with the dossier's sources for snippets, and says nothing was replaced.
fn fail(dossier: &Dossier, diags: Vec<Diagnostic>) -> anyhow::Result<Option<Built>> {
    let root = &dossier.root;
    let mut report = Report::new();
    diags.into_iter().for_each(|d| report.push(d));
    if let Ok(text) = std::fs::read_to_string(root.join(CONFIG_FILE)) {
        report.add_source(CONFIG_FILE, text.into());
    }
    for item in &dossier.items {
        if let Some(f) = &item.file
            && let Ok(text) = std::fs::read_to_string(root.join(f))
        {
            report.add_source(f.clone(), text.into());
        }
    }
    report.sort();
    print_report(&report, root);
    status(&format!(
        "排版出错（{} 个错误），没有生成汇编；上一次生成的文件保持不变。",
        report.errors()
    ));
    Ok(None)
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
fn pdfa_conflict(d: &Dossier, plan: &plan::Plan) -> Option<Diagnostic> {
    let asked = d.config.pdfa.as_ref().filter(|p| p.value.0)?;
    let with_pdf: Vec<String> = plan
        .groups
        .iter()
        .flat_map(|g| &g.items)
        .flat_map(|i| &i.records)
        .filter(|r| r.entries.iter().any(|e| e.kind == "pdf"))
        .map(|r| r.id.clone())
        .collect();
    if with_pdf.is_empty() {
        return None;
    }
    let shown: Vec<&str> = with_pdf.iter().take(5).map(String::as_str).collect();
    let more = if with_pdf.len() > 5 {
        format!(" 等 {} 件", with_pdf.len())
    } else {
        String::new()
    };
    Some(
        Diagnostic::error(format!("要求生成 PDF/A，但有材料是 PDF 文件（{}{more}）：PDF/A 模式下不能嵌入 PDF 页面", shown.join("、")))
            .at(Place::at(CONFIG_FILE, pos_of(asked)))
            .hint("排版引擎 Typst 0.15 在 PDF/A 模式下不支持嵌入 PDF。请去掉“PDF/A: 是”，或把这些 PDF 材料转换为图片后再登记。"),
    )
}

/// The status line of a build: what was written, and what changed since the previous one.
pub fn summary(b: &Built) -> Vec<String> {
    let mut lines = vec![format!(
        "已生成 {}：{} 件材料，{} 页；资料包 {}；用时 {:.1} 秒",
        b.pdf.display(),
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
