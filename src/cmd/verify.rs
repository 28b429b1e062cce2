//! `dossier verify` re-hashes every file of a package against its manifest; `dossier unpack`
//! restores a dossier folder from a package so it can be rebuilt; `dossier diff` compares the
//! build reports of two packages.

use crate::cli::{DiffArgs, UnpackArgs, VerifyArgs};
use serde_json::json;

use crate::cmd::{Env, Printer, Status, json, status};
use crate::package::{self, Finding};
use crate::report;

/// Runs verify: exit 0 when every file matches the manifest, 1 otherwise. The findings and the
/// verdict are the result: on stdout.
pub fn run(args: &VerifyArgs, env: &Env) -> anyhow::Result<Status> {
    let out = Printer::new(args.output.format, std::path::Path::new(""), env);
    let v = package::verify(&args.package)?;
    for f in &v.findings {
        let (kind, path, why) = match f {
            Finding::Missing(p) => ("missing", p.as_str(), "清单里有，资料包里没有"),
            Finding::Extra(p) => ("extra", p.as_str(), "资料包里有，清单里没有"),
            Finding::Altered(p, why) => ("altered", p.as_str(), why.as_str()),
            Finding::Damaged(why) => ("damaged", "", why.as_str()),
        };
        out.result(&match f {
            Finding::Missing(p) => format!("缺少：{p}（{why}）"),
            Finding::Extra(p) => format!("多出：{p}（{why}）"),
            Finding::Altered(p, _) => format!("被改动：{p}（{why}）"),
            Finding::Damaged(_) => format!("资料包已损坏：{why}"),
        });
        out.json_line(&json!({"type": "finding", "finding": kind, "path": path, "why": why}));
    }
    let ok = v.findings.is_empty() && v.manifest.is_some();
    if let (true, Some(m)) = (ok, &v.manifest) {
        out.result(&format!(
            "资料包完好：{} 个文件全部与清单一致（{}，版本 {}，{}）",
            v.checked, m.title, m.version, m.date
        ));
    } else if v.manifest.is_none() {
        out.result("资料包已损坏，无法逐个核对其中的文件。请从原处重新复制一份资料包。");
    } else {
        out.result(&format!(
            "资料包有问题：核对 {} 个文件，发现 {} 处不符",
            v.checked,
            v.findings.len()
        ));
    }
    out.json_line(&json::summary(
        "verify",
        ok,
        0,
        0,
        json!({"checked": v.checked, "findings": v.findings.len()}),
    ));
    Ok(if ok { Status::Ok } else { Status::DataErrors })
}

/// Runs unpack.
pub fn unpack(args: &UnpackArgs) -> anyhow::Result<Status> {
    let n = package::unpack(&args.package, &args.dir)?;
    status(&format!(
        "已还原 {} 个文件到 {}；用 dossier build {} 可重新生成汇编",
        n,
        args.dir.display(),
        args.dir.display()
    ));
    Ok(Status::Ok)
}

/// Runs diff: what changed between the builds in two packages, on stdout.
pub fn diff(args: &DiffArgs, env: &Env) -> anyhow::Result<Status> {
    let out = Printer::new(args.output.format, std::path::Path::new(""), env);
    let (old_m, old) = report::read_from_package(&args.old)?;
    let (new_m, new) = report::read_from_package(&args.new)?;
    let same =
        (old_m.title.trim(), old_m.county.trim()) == (new_m.title.trim(), new_m.county.trim());
    if !same {
        out.say(&format!(
            "注意：这两个资料包不是同一份汇编：{} 是{}的《{}》，{} 是{}的《{}》。下面的比较只按件号对照，可能没有意义。",
            args.old.display(),
            old_m.county,
            old_m.title,
            args.new.display(),
            new_m.county,
            new_m.title
        ));
    }
    out.result(&format!(
        "比较 {}（版本 {}）与 {}（版本 {}）：",
        args.old.display(),
        old.version,
        args.new.display(),
        new.version
    ));
    let changes = report::compare(&old, &new);
    for line in report::describe(&changes) {
        out.result(&line);
    }
    for v in json::changes(&changes) {
        out.json_line(&v);
    }
    out.json_line(&json::summary("diff", true, 0, 0, {
        let mut v = json::change_summary(Some(&changes));
        v["same_dossier"] = json!(same);
        v
    }));
    Ok(Status::Ok)
}
