//! Per-unit evidence binders: one PDF per responsible unit, with only that unit's tasks and
//! records (the same 件号 and evidence pages as the dossier, and each record's page in the
//! dossier), a 归档文件目录, a blank 备考表, and the box cover and spine label.
//!
//! A unit with more evidence than one box holds (the dossier's volume page limit) gets one
//! PDF per box (盒), cut between whole items as volumes are, each with its own contents,
//! 归档文件目录, 备考表, box cover and spine label, and its own 盒号. That is how the binder is
//! filed, and it keeps a Typst compilation — and so memory — to one box's pages.
//!
//! The binders of one run are typeset in parallel over one set of fonts, staged in temporary
//! files and put in place together: when one fails, no binder in the folder changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;

use crate::build::{self, Stamp};
use crate::diag::{Diagnostic, Place};
use crate::engine::{self, Event, Events, Outcome, Ready, Stage};
use crate::load::CONFIG_FILE;
use crate::model::Date;
use crate::output;
use crate::plan::{self, PlanOptions};
use crate::units::Resolved;
use crate::validate::Dossier;

/// The folder of the binders in the output folder.
pub const BINDERS_DIR: &str = "binders";

/// Which binders to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// One unit, by any of its names.
    Unit(String),
    /// Every unit with tasks or records.
    All,
}

/// How binders are made.
#[derive(Debug, Clone)]
pub struct BinderOptions {
    /// Output folder (binders go into its `binders` folder).
    pub out: PathBuf,
    /// Printed on both sides.
    pub duplex: bool,
    /// Normalise images and split large PDFs before typesetting.
    pub normalize: bool,
    /// Lay a text layer over scanned pages (`--ocr`; dossier.yaml's `文字识别` also asks).
    pub ocr: bool,
    /// The date to stamp the PDFs with instead of dossier.yaml's.
    pub date: Option<Date>,
}

/// One binder (or one box of a binder) written.
#[derive(Debug, Clone)]
pub struct Made {
    /// The unit's short name.
    pub unit: String,
    /// Which box of how many, when the unit's binder is cut into boxes.
    pub part: Option<(usize, usize)>,
    /// Where it was written.
    pub path: PathBuf,
    /// Records in it.
    pub records: usize,
    /// Its pages.
    pub pages: usize,
}

/// What a binder run made.
#[derive(Debug, Clone)]
pub struct Binders {
    /// The binders written, in registry order.
    pub made: Vec<Made>,
    /// Units asked for (or, with --all, in the registry) that have neither tasks nor records.
    pub without_work: Vec<String>,
    /// The folder they are in.
    pub dir: PathBuf,
}

/// Makes the binders `which` of the dossier at `root`. Usage problems (an unknown unit, a
/// group) and I/O problems are errors; problems in the data are in the outcome's report.
pub fn run(
    root: &Path,
    opts: &BinderOptions,
    which: &Which,
    events: &mut dyn Events,
) -> anyhow::Result<Outcome<Binders>> {
    let checked = engine::validate(root, &Default::default())?;
    let report = checked.report;
    let Some(d) = checked.dossier else {
        return Ok(Outcome {
            report,
            value: None,
        });
    };
    let (units, without_work) = units_to_make(&d, which)?;
    let dir = opts.out.join(BINDERS_DIR);
    if units.is_empty() {
        return Ok(Outcome {
            report,
            value: Some(Binders {
                made: Vec::new(),
                without_work,
                dir,
            }),
        });
    }
    // Held until the binders are in place: a build or another binder run waits.
    let out_dir = output::OutDir::open(&opts.out, &d.canonical_root, |m| {
        events.notice(m.to_string())
    })?;
    let ready = match build::dossier_fonts(&d) {
        Ok(fonts) => engine::ready(
            &d,
            fonts,
            Arc::new(crate::typeset::FileCache::default()),
            &opts.out,
            engine::Preparing {
                normalize: opts.normalize,
                ocr: engine::ocr_wanted(&d, opts.ocr),
            },
            events,
        )?,
        Err(diags) => Err(diags),
    };
    let mut ready = match ready {
        Ok(r) => r,
        Err(diags) => return Ok(stopped(report, diags)),
    };
    let mut warnings = std::mem::take(&mut ready.warnings);
    let job = match Job::new(&d, ready, opts, events) {
        Ok(job) => job,
        Err(diags) => return Ok(stopped(report, diags)),
    };
    // Every unit's boxes: the clashes of 盒号 are between all of them, not only those made now.
    let limit = engine::volume_limit(&d);
    let boxes: BTreeMap<usize, Vec<plan::Volume>> = (plan::units_with_work(&d).into_iter())
        .map(|u| (u, plan::binder_boxes(&d, u, limit)))
        .collect();
    warnings.extend(missing_boxes(&d, &units));
    warnings.extend(box_clashes(&d, &boxes));
    let parts: Vec<(usize, plan::Volume)> = (units.iter())
        .flat_map(|&u| (boxes.get(&u).into_iter().flatten()).map(move |b| (u, b.clone())))
        .collect();
    let staged = match job.build_all(&parts, &mut warnings, events) {
        Ok(staged) => staged,
        Err(diags) => return Ok(stopped(report, [warnings, diags].concat())),
    };
    let made = commit(staged, &out_dir, (which, job), events)?;
    Ok(Outcome {
        report: engine::with(report, warnings),
        value: Some(Binders {
            made,
            without_work,
            dir,
        }),
    })
}

/// The units to make binders for (registry indices), and the names of those asked for that
/// have no work.
fn units_to_make(d: &Dossier, which: &Which) -> anyhow::Result<(Vec<usize>, Vec<String>)> {
    let reg = &d.registry;
    let with_work = plan::units_with_work(d);
    match which {
        Which::Unit(name) => {
            let u = match reg.resolve(name) {
                Some(Resolved::Unit(u)) => u,
                Some(Resolved::Group(g)) => bail!(
                    "“{name}”是单位组（{}），不是一个单位；请写其中一个单位，或用 --all",
                    crate::diag::list(reg.groups[g].members.iter().map(|&m| &reg.units[m].short))
                ),
                None => {
                    let near = reg.suggest(name);
                    if near.is_empty() {
                        bail!("单位名录里没有“{name}”；请写 units.yaml 里的名称、简称或别名");
                    }
                    bail!(
                        "单位名录里没有“{name}”；是不是想写“{}”？",
                        near.join("”或“")
                    );
                }
            };
            if with_work.contains(&u) {
                Ok((vec![u], Vec::new()))
            } else {
                Ok((Vec::new(), vec![reg.units[u].short.clone()]))
            }
        }
        Which::All => {
            let idle = (0..reg.units.len())
                .filter(|i| !with_work.contains(i))
                .map(|i| reg.units[i].short.clone())
                .collect();
            Ok((with_work, idle))
        }
    }
}

/// What every binder of one run shares.
struct Job<'a> {
    d: &'a Dossier,
    ready: Ready,
    duplex: bool,
    /// The output folder.
    out: PathBuf,
    date: Option<Date>,
    /// Where each record is in the dossier, by 件号.
    places: Arc<BTreeMap<String, String>>,
    /// Where the labels were in each binder the last time (see [`crate::anchors`]).
    hints: crate::anchors::Store,
}

/// A binder typeset and waiting in a temporary file.
struct Staged {
    made: Made,
    file: output::Staged,
    /// Its hint key and where its labels are, for the next run.
    anchors: (String, crate::anchors::Anchors),
}

impl<'a> Job<'a> {
    /// Gets ready: lays the dossier out (as `build` does, printed on the same sides) to know
    /// where each record is in it.
    fn new(
        d: &'a Dossier,
        ready: Ready,
        opts: &BinderOptions,
        events: &mut dyn Events,
    ) -> Result<Job<'a>, Vec<Diagnostic>> {
        let base = ready.plan_options(opts.duplex);
        // Saved by the last build (or binder run) when nothing the layout depends on changed.
        let key = crate::places::key(d, &base, engine::volume_limit(d));
        let saved = key.as_ref().and_then(|k| crate::places::load(&opts.out, k));
        let places = match saved {
            Some(places) => places,
            None => {
                events.event(Event::Started {
                    stage: Stage::Typeset,
                    detail: "汇编（为证据册标出汇编页码）".into(),
                });
                let stamp = Stamp::of(d, "dossier", opts.date);
                let places = engine::dossier_places(d, &ready.res, &base, &stamp)?;
                if let Some(k) = &key {
                    crate::places::save(&opts.out, k, &places);
                }
                places
            }
        };
        Ok(Job {
            d,
            ready,
            duplex: opts.duplex,
            out: opts.out.clone(),
            date: opts.date,
            places: Arc::new(places),
            hints: crate::anchors::Store::load(&opts.out),
        })
    }

    /// Keeps where the labels are in the binders just made for the next run: `--all` replaces
    /// every binder's, one unit's run that unit's; the dossier's stay.
    fn save_hints(self, which: &Which, anchors: Vec<(String, crate::anchors::Anchors)>) {
        let mut store = self.hints;
        let made: Vec<String> = anchors.iter().map(|(k, _)| k.clone()).collect();
        let binders = format!("{BINDERS_DIR}/");
        store.retain(|key| match key.strip_prefix(&binders) {
            None => true,
            Some(_) if *which == Which::All => false,
            Some(_) => !made.iter().any(|m| m == key),
        });
        for (key, a) in anchors {
            store.set(&key, a);
        }
        store.save(&self.out);
    }

    /// The key of a binder's places in the hint store: its path under the output folder, and
    /// one- or two-sided.
    fn hint_key(&self, file: &str) -> String {
        let sides = if self.duplex { "" } else { "|simplex" };
        format!("{BINDERS_DIR}/{file}{sides}")
    }

    /// Typesets the binders (unit, box) of `parts` in parallel, in the order given, each into a
    /// temporary file; Typst's warnings go to `warnings` once each. Any error: none is kept.
    fn build_all(
        &self,
        parts: &[(usize, plan::Volume)],
        warnings: &mut Vec<Diagnostic>,
        events: &mut dyn Events,
    ) -> Result<Vec<Staged>, Vec<Diagnostic>> {
        let started = Instant::now();
        events.event(Event::Started {
            stage: Stage::Binders,
            detail: format!("{} 本", parts.len()),
        });
        // Typst's memory grows with the pages of a compilation: boxes run side by side only
        // while their evidence pages together stay within one box's limit.
        let budget = match engine::volume_limit(self.d).pages {
            0 => usize::MAX,
            n => n,
        };
        let results = crate::par::map_within(
            parts,
            usize::MAX,
            budget,
            |(_, b)| b.pages,
            |(u, b), release| self.build_one(*u, b, release),
        );
        let mut staged = Vec::new();
        let mut failed = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            match result.unwrap_or_else(|| {
                Err(vec![
                    Diagnostic::error("证据册生成中断").code("binder-interrupted"),
                ])
            }) {
                Ok((s, w)) => {
                    warnings.extend(w);
                    staged.push(s);
                }
                Err(diags) => failed.extend(diags),
            }
            events.event(Event::Progress {
                stage: Stage::Binders,
                done: i + 1,
                total: parts.len(),
            });
        }
        events.event(Event::Finished {
            stage: Stage::Binders,
            elapsed: started.elapsed(),
        });
        if failed.is_empty() {
            Ok(staged)
        } else {
            Err(failed)
        }
    }

    /// Typesets one binder (or box) and writes it to a temporary file; its weight in the
    /// budget of binders laid out together is given back (`release`) as soon as it is laid
    /// out, so the next one is laid out while this one is written.
    fn build_one(
        &self,
        unit: usize,
        part: &plan::Volume,
        release: &crate::par::Release<'_>,
    ) -> Result<(Staged, Vec<Diagnostic>), Vec<Diagnostic>> {
        let d = self.d;
        let opts = PlanOptions {
            unit: Some(unit),
            dossier_places: Some(self.places.clone()),
            volume: Some(part.clone()),
            ..self.ready.plan_options(self.duplex)
        };
        let plan = plan::plan(d, &opts);
        let short = &d.registry.units[unit].short;
        let boxed = (part.count > 1).then_some((part.number, part.count));
        let id = match boxed {
            Some((n, _)) => format!("binder/{short}/{n}"),
            None => format!("binder/{short}"),
        };
        let stamp = Stamp::of(d, &id, self.date);
        let file = plan.target.file_name("");
        let key = self.hint_key(&file);
        // Binders share little layout: what Typst memoised for this one would only pile up;
        // it goes while the binder is exported, before the next box is laid out.
        let doc = build::build(
            &plan,
            d,
            &self.ready.res,
            &stamp,
            (self.hints.get(&key), true),
        );
        release.now();
        let mut doc = doc?;
        let path = self.out.join(BINDERS_DIR).join(&file);
        let (file, ()) = output::stage_writeback(&path, |w| doc.write_to(w)).map_err(|e| {
            crate::engine::unusable(d, &e).unwrap_or_else(|| {
                vec![Diagnostic::error(format!("{e:#}")).code("binder-write-failed")]
            })
        })?;
        let made = Made {
            unit: short.clone(),
            part: boxed,
            path,
            records: plan.totals.records,
            pages: doc.pages,
        };
        let anchors = (key, std::mem::take(&mut doc.anchors));
        Ok((
            Staged {
                made,
                file,
                anchors,
            },
            doc.warnings,
        ))
    }
}

/// Puts every staged binder in place and records them; `--all` removes the binders of units
/// that no longer have work (files changed by hand stay, with a notice).
fn commit(
    staged: Vec<Staged>,
    out_dir: &output::OutDir,
    (which, job): (&Which, Job<'_>),
    events: &mut dyn Events,
) -> anyhow::Result<Vec<Made>> {
    let mut anchors = Vec::new();
    let (made, files): (Vec<Made>, Vec<output::Staged>) = (staged.into_iter())
        .map(|s| {
            anchors.push(s.anchors);
            (s.made, s.file)
        })
        .unzip();
    output::commit_all(files)?;
    job.save_hints(which, anchors);
    let written: Vec<String> = made
        .iter()
        .filter_map(|m| m.path.strip_prefix(out_dir.path()).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    // --all replaces every binder; one unit's run replaces that unit's (its boxes of last time
    // when it now has fewer, or one PDF instead of boxes) and keeps the others.
    let others = if *which == Which::All {
        out_dir.files(BINDERS_DIR, |f| f.ends_with(".pdf"))
    } else {
        Vec::new()
    };
    let units: Vec<&str> = made.iter().map(|m| m.unit.as_str()).collect();
    let keep = |rel: &str| {
        *which != Which::All && {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            !units
                .iter()
                .any(|u| crate::names::Target::is_binder_of(u, name))
        }
    };
    for line in out_dir.record("binder", &written, &keep, &others)? {
        events.notice(line);
    }
    Ok(made)
}

/// A warning naming the binders that will have no 盒号 on their box cover and spine label, and
/// where to set it: one for all of them.
fn missing_boxes(d: &Dossier, units: &[usize]) -> Vec<Diagnostic> {
    let boxes = d
        .config
        .archive
        .as_ref()
        .and_then(|a| a.boxes.as_ref())
        .map(|b| &b.value);
    let missing: Vec<&str> = units
        .iter()
        .filter(|&&u| !boxes.is_some_and(|b| b.keys().any(|k| d.registry.units_of(k).contains(&u))))
        .map(|&u| d.registry.units[u].short.as_str())
        .collect();
    let Some(first) = missing.first() else {
        return Vec::new();
    };
    vec![
        Diagnostic::warning(format!(
            "{} 的证据册没有盒号，档案盒封面和盒脊上的盒号留空待填",
            crate::diag::list_first(&missing, 5, "个单位")
        ))
        .code("binder-box-missing")
        .at(Place::file(CONFIG_FILE))
        .hint(format!(
            "要印上盒号，请在 dossier.yaml 的“归档: 盒号:”下按单位填写，如“{first}: 1”。"
        )),
    ]
}

/// A warning for each 盒号 that more than one box would print: two units given the same
/// number, or a binder cut into boxes counting on into the next unit's number.
fn box_clashes(d: &Dossier, boxes: &BTreeMap<usize, Vec<plan::Volume>>) -> Vec<Diagnostic> {
    let mut by_number: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut boxed = Vec::new();
    for (&u, boxes) in boxes {
        let first = plan::first_box(d, u);
        let short = &d.registry.units[u].short;
        if boxes.len() > 1 && !first.is_empty() {
            boxed.push(format!("{short} 分为 {} 盒", boxes.len()));
        }
        for b in boxes {
            let n = (b.count > 1).then_some(b.number);
            let number = plan::box_number(&first, n);
            if !number.is_empty() {
                let name = n.map_or(short.clone(), |n| format!("{short}第{n}盒"));
                by_number.entry(number).or_default().push(name);
            }
        }
    }
    let place = (d.config.archive.as_ref())
        .and_then(|a| a.boxes.as_ref())
        .map_or(Place::file(CONFIG_FILE), |b| {
            Place::at(CONFIG_FILE, crate::yaml::pos_of(b))
        });
    (by_number.into_iter())
        .filter(|(_, names)| names.len() > 1)
        .map(|(number, names)| {
            let why = if boxed.is_empty() {
                String::new()
            } else {
                format!(
                    "（{}；一个单位的证据册分盒时，盒号从它填的盒号起连续编）",
                    boxed.join("，")
                )
            };
            Diagnostic::warning(format!(
                "盒号 {number} 重复：{}都印这个盒号{why}",
                crate::diag::list(&names)
            ))
            .code("binder-box-clash")
            .at(place.clone())
            .hint("请调整 dossier.yaml 里“归档: 盒号:”下各单位的盒号，给分盒的单位留出连续的盒号。")
        })
        .collect()
}

/// The outcome of a binder run stopped by errors: no binder changed.
fn stopped(report: crate::diag::Report, diags: Vec<Diagnostic>) -> Outcome<Binders> {
    Outcome {
        report: engine::with(report, diags),
        value: None,
    }
}
