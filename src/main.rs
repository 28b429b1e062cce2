//! `dossier`: turns a county's evidence records into the acceptance dossier for the
//! 河南省质量强县示范县 review. `main` only parses arguments, runs one command and maps its
//! outcome to the exit code (0 ok, 1 the dossier has errors, 2 usage, I/O or internal error).

use std::process::ExitCode;

use clap::Parser;

use dossier::cli::{Cli, Command};
use dossier::cmd::{self, Status};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let text = dossier::cli::render_clap_error(&e);
            return if e.use_stderr() {
                cmd::status(text.trim_end());
                ExitCode::from(2)
            } else {
                println!("{}", text.trim_end());
                ExitCode::SUCCESS
            };
        }
    };
    let result = match &cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Init(args) => cmd::init::run(args),
        Command::Build(args) => cmd::build::run(args),
        Command::Binder(args) => cmd::binder::run(args),
        Command::Watch(args) => cmd::watch::run(args),
        Command::Diff(args) => cmd::verify::diff(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Unpack(args) => cmd::verify::unpack(args),
    };
    match result {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::DataErrors) => ExitCode::from(1),
        Err(e) => {
            cmd::status(&format!("错误：{e:#}"));
            if let Some(hint) = cmd::io_hint(&e) {
                cmd::status(&format!("提示：{hint}"));
            }
            ExitCode::from(2)
        }
    }
}
