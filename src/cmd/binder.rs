//! `dossier binder`: one PDF per responsible unit, with only that unit's tasks and records
//! (the same 件号 and evidence pages as the dossier), a 卷内目录, a blank 备考表, the box cover
//! and the spine label. `--all` builds the binders in parallel over one set of fonts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;

use crate::build::{self, Stamp};
use crate::cli::BinderArgs;
use crate::cmd::{Status, checked_dossier, print_diagnostics, status};
use crate::diag::Diagnostic;
use crate::plan::{self, FontRoles, PlanOptions};
use crate::units::Resolved;
use crate::validate::Dossier;
use crate::{output, package};

/// The folder of the binders in the output folder.
const BINDERS_DIR: &str = "binders";

/// Runs the binder command.
pub fn run(args: &BinderArgs) -> anyhow::Result<Status> {
    let start = Instant::now();
    let root = &args.dossier.dir;
    let Some(dossier) = checked_dossier(root, "证据册", &Default::default())? else {
        return Ok(Status::DataErrors);
    };
    let with_work = plan::units_with_work(&dossier);
    let units: Vec<usize> = match &args.unit {
        Some(name) => {
            let reg = &dossier.registry;
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
            if !with_work.contains(&u) {
                status(&format!(
                    "{} 没有承担任务，也没有提供材料，不生成证据册。",
                    reg.units[u].short
                ));
                return Ok(Status::Ok);
            }
            vec![u]
        }
        None => {
            for (i, u) in dossier.registry.units.iter().enumerate() {
                if !with_work.contains(&i) {
                    status(&format!(
                        "{} 没有承担任务，也没有提供材料，不生成证据册。",
                        u.short
                    ));
                }
            }
            with_work
        }
    };
    // Held until the binders are written: a build or another binder run into the same folder
    // waits.
    let out_dir = output::OutDir::open(&args.out, &dossier.canonical_root, status)?;
    let (fonts, roles) = match build::dossier_fonts(&dossier) {
        Ok(f) => f,
        Err(diags) => {
            return Ok(not_made(&dossier, diags));
        }
    };
    let unprintable = crate::glyphs::check(&dossier, &fonts);
    if !unprintable.is_empty() {
        return Ok(not_made(&dossier, unprintable));
    }
    // One cache of evidence bytes for every binder: a file shared by several units is read once.
    let files = Arc::new(crate::typeset::FileCache::default());
    let (res, prepared) =
        match crate::session::resources(&dossier, fonts, files, &args.out, !args.no_normalize)? {
            Ok(r) => r,
            Err(diags) => {
                return Ok(not_made(&dossier, diags));
            }
        };
    let duplex = !args.simplex;
    // Where each record is in the dossier, laid out as `build` lays it out (printed on the same
    // sides as these binders): every binder's catalog shows it.
    let base = PlanOptions {
        fonts: roles.clone(),
        duplex,
        prepared: prepared.clone(),
        ..PlanOptions::default()
    };
    let places = match crate::session::dossier_places(&dossier, &res, &base) {
        Ok(p) => Arc::new(p),
        Err(diags) => return Ok(not_made(&dossier, diags)),
    };
    warn_missing_boxes(&dossier, &units);
    let job = Job {
        d: &dossier,
        res,
        roles,
        prepared,
        duplex,
        dir: args.out.join(BINDERS_DIR),
        places,
    };
    let dir = job.dir.clone();
    let results = build_all(&job, &units);
    let mut failed = Vec::new();
    let mut warnings = Vec::new();
    let mut pages = 0;
    let mut written = Vec::new();
    for (u, result) in units.iter().zip(results) {
        match result {
            Ok(made) => {
                pages += made.pages;
                if let Ok(rel) = made.path.strip_prefix(&args.out) {
                    written.push(rel.to_string_lossy().replace('\\', "/"));
                }
                status(&format!(
                    "已生成 {}：{} 件材料，{} 页",
                    made.path.display(),
                    made.records,
                    made.pages
                ));
                warnings.extend(made.warnings);
            }
            Err(diags) => {
                status(&format!(
                    "{} 的证据册生成失败：",
                    dossier.registry.units[*u].short
                ));
                failed.extend(diags);
            }
        }
    }
    // Typst's warnings, once each however many binders met them.
    print_diagnostics(&dossier, warnings);
    // `--all` makes every binder there is: one for a unit that no longer has work is removed.
    let others = if args.all {
        out_dir.files(BINDERS_DIR, |f| f.ends_with(".pdf"))
    } else {
        Vec::new()
    };
    for line in out_dir.record("binder", &written, args.unit.is_some(), &others)? {
        status(&line);
    }
    if !failed.is_empty() {
        print_diagnostics(&dossier, failed);
        return Ok(Status::DataErrors);
    }
    status(&format!(
        "共生成 {} 本证据册（{pages} 页，{}）到 {}，用时 {:.1} 秒",
        units.len(),
        if duplex {
            "双面打印"
        } else {
            "单面打印"
        },
        dir.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(Status::Ok)
}

/// One binder written.
struct Made {
    path: PathBuf,
    records: usize,
    pages: usize,
    warnings: Vec<Diagnostic>,
}

type Built = Result<Made, Vec<Diagnostic>>;

/// What every binder of one run shares.
struct Job<'a> {
    d: &'a Dossier,
    res: build::Resources,
    roles: FontRoles,
    prepared: Option<Arc<crate::normalize::Prepared>>,
    duplex: bool,
    dir: PathBuf,
    /// Where each record is in the dossier, by 件号.
    places: Arc<std::collections::BTreeMap<String, String>>,
}

/// Builds the binders of `units`, in parallel, in the order given.
fn build_all(job: &Job<'_>, units: &[usize]) -> Vec<Built> {
    crate::par::map(units, usize::MAX, |&u| build_one(job, u))
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(vec![Diagnostic::error("证据册生成中断")])))
        .collect()
}

fn build_one(job: &Job<'_>, unit: usize) -> Built {
    let d = job.d;
    let opts = PlanOptions {
        fonts: job.roles.clone(),
        unit: Some(unit),
        duplex: job.duplex,
        prepared: job.prepared.clone(),
        dossier_places: Some(job.places.clone()),
        ..PlanOptions::default()
    };
    let plan = plan::plan(d, &opts);
    let short = &d.registry.units[unit].short;
    let stamp = Stamp::of(d, &format!("binder/{short}"));
    let doc = build::build(&plan, d, &job.res, &stamp)?;
    let path = job
        .dir
        .join(format!("{}.pdf", package::safe_name(short, 60, false)));
    output::write_atomic(&path, &doc.pdf).map_err(|e| vec![Diagnostic::error(format!("{e:#}"))])?;
    Ok(Made {
        path,
        records: plan.totals.records,
        pages: doc.pages,
        warnings: doc.warnings,
    })
}

/// Says which binders will have no 盒号 on their box cover and spine label, and where to set
/// it: one line for all of them.
fn warn_missing_boxes(d: &Dossier, units: &[usize]) {
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
    if let Some(first) = missing.first() {
        status(&format!(
            "警告：{} 的证据册没有盒号，档案盒封面和盒脊上的盒号留空待填。要印上盒号，请在 dossier.yaml 的“归档: 盒号:”下按单位填写，如“{first}: 1”。",
            crate::diag::list_first(&missing, 5, "个单位")
        ));
    }
}

/// Prints why no binder could be made.
fn not_made(dossier: &Dossier, diags: Vec<Diagnostic>) -> Status {
    let errors = print_diagnostics(dossier, diags);
    status(&format!(
        "有 {errors} 个错误，没有生成证据册；已有的证据册保持不变。"
    ));
    Status::DataErrors
}
