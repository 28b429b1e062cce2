//! `dossier verify` re-hashes every file of a package against its manifest; `dossier unpack`
//! restores a dossier folder from a package so it can be rebuilt; `dossier diff` compares the
//! build reports of two packages.

use crate::cli::{DiffArgs, UnpackArgs, VerifyArgs};
use crate::cmd::{Status, status};
use crate::package::{self, Finding};
use crate::report;

/// Runs verify: exit 0 when every file matches the manifest, 1 otherwise.
pub fn run(args: &VerifyArgs) -> anyhow::Result<Status> {
    let v = package::verify(&args.package)?;
    for f in &v.findings {
        status(&match f {
            Finding::Missing(p) => format!("缺少：{p}（清单里有，资料包里没有）"),
            Finding::Extra(p) => format!("多出：{p}（资料包里有，清单里没有）"),
            Finding::Altered(p, why) => format!("被改动：{p}（{why}）"),
            Finding::Damaged(why) => format!("资料包已损坏：{why}"),
        });
    }
    if let (true, Some(m)) = (v.findings.is_empty(), &v.manifest) {
        status(&format!(
            "资料包完好：{} 个文件全部与清单一致（{}，版本 {}，{}）",
            v.checked, m.title, m.version, m.date
        ));
        Ok(Status::Ok)
    } else if v.manifest.is_none() {
        status("资料包已损坏，无法逐个核对其中的文件。请从原处重新复制一份资料包。");
        Ok(Status::DataErrors)
    } else {
        status(&format!(
            "资料包有问题：核对 {} 个文件，发现 {} 处不符",
            v.checked,
            v.findings.len()
        ));
        Ok(Status::DataErrors)
    }
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

/// Runs diff: prints what changed between the builds in two packages.
pub fn diff(args: &DiffArgs) -> anyhow::Result<Status> {
    let (old_m, old) = package::read_report(&args.old)?;
    let (new_m, new) = package::read_report(&args.new)?;
    if (old_m.title.trim(), old_m.county.trim()) != (new_m.title.trim(), new_m.county.trim()) {
        status(&format!(
            "注意：这两个资料包不是同一份汇编：{} 是{}的《{}》，{} 是{}的《{}》。下面的比较只按件号对照，可能没有意义。",
            args.old.display(),
            old_m.county,
            old_m.title,
            args.new.display(),
            new_m.county,
            new_m.title
        ));
    }
    status(&format!(
        "比较 {}（版本 {}）与 {}（版本 {}）：",
        args.old.display(),
        old.version,
        args.new.display(),
        new.version
    ));
    for line in report::describe(&report::compare(&old, &new)) {
        status(&line);
    }
    Ok(Status::Ok)
}
