//! `dossier check`: load and validate, print every diagnostic and a summary. Writes nothing.

use crate::cli::CheckArgs;
use crate::cmd::{Status, print_report, status};
use crate::plan::{self, PlanOptions};
use crate::{build, glyphs, load, render, validate};

/// Runs the check.
pub fn run(args: &CheckArgs) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    let sources = load::load(root)?;
    let mut checked = validate::validate(sources);
    // A valid dossier also needs its fonts and templates to work.
    if let Some(d) = &checked.dossier {
        let mut found = Vec::new();
        match build::dossier_fonts(d) {
            Ok((fonts, roles)) => {
                found.extend(glyphs::check(d, &fonts));
                let plan = plan::plan(
                    d,
                    &PlanOptions {
                        draft: false,
                        fonts: roles,
                        ..PlanOptions::default()
                    },
                );
                if let Err(e) = render::render(&plan, Some(&d.root)) {
                    found.push(e);
                }
            }
            Err(diags) => found.extend(diags),
        }
        for d in found {
            checked.report.push(d);
        }
        checked.report.sort();
    }
    print_report(&checked.report, root);
    let c = checked.counts;
    let (errors, warnings) = (checked.report.errors(), checked.report.warnings());
    let verdict = if errors > 0 {
        "检查未通过"
    } else {
        "检查通过"
    };
    status(&format!(
        "{verdict}：{} 项指标，{} 件材料，{} 个文件，{} 页；{errors} 个错误，{warnings} 个警告",
        c.items, c.records, c.files, c.pages
    ));
    Ok(if errors > 0 {
        Status::DataErrors
    } else {
        Status::Ok
    })
}
