//! `dossier build`: check, then typeset the whole dossier into one PDF, package it with the
//! evidence, write the build report, and say what changed since the previous build. Nothing
//! is written unless the dossier has no errors; outputs replace their previous versions only
//! when all of them are complete.

use crate::cli::BuildArgs;
use crate::cmd::{Status, status};
use crate::session::{self, BuildOptions, Session};

/// Runs the build.
pub fn run(args: &BuildArgs) -> anyhow::Result<Status> {
    let root = &args.dossier.dir;
    status(&format!("检查资料目录 {} ……", root.display()));
    let mut session = Session::new(root, BuildOptions::from(args));
    match session.build()? {
        Some(built) => {
            for line in session::summary(&built) {
                status(&line);
            }
            Ok(Status::Ok)
        }
        None => Ok(Status::DataErrors),
    }
}
