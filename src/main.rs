//! `dossier`: turns a county's evidence records into the acceptance dossier for the
//! 河南省质量强县示范县 review. `main` only parses arguments, runs one command and maps its
//! outcome to the exit code (0 ok, 1 the dossier has errors, 2 usage, I/O or internal error).

use std::process::ExitCode;

use clap::Parser;

use dossier::cli::{Cli, Command};
use dossier::cmd::{self, Status};

/// Keeps glibc's allocator to two arenas. By default every thread that allocates may get an
/// arena of its own (up to eight per core), and each keeps what was freed in it: after one
/// binder box is written on one thread, its memory stays there while the next box grows in
/// another. With two, and the memory of each finished document given back
/// (`typeset::forget_layouts`), the resident size stays near what is in use. Measured (2
/// cores): `binder --all` of the 5,000-page synthetic dossier 489–524 → 367–401 MiB, in
/// about the same time; builds unchanged in time and memory.
/// The program's only other `unsafe`: a C call with plain integer arguments.
#[allow(unsafe_code)]
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's parameters; it is called before any other
    // thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    tune_allocator();
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
    // The environment is read here, once; nothing below reads it.
    let env = cmd::Env::read();
    let result = match &cli.command {
        Command::Check(args) => cmd::check::run(args, &env),
        Command::Init(args) => cmd::init::run(args, &env),
        Command::Build(args) => cmd::build::run(args, &env),
        Command::Binder(args) => cmd::binder::run(args, &env),
        Command::Watch(args) => cmd::watch::run(args, &env),
        Command::Diff(args) => cmd::verify::diff(args, &env),
        Command::Verify(args) => cmd::verify::run(args, &env),
        Command::Unpack(args) => cmd::verify::unpack(args),
        Command::Templates(args) => cmd::templates::run(args),
        Command::Status(args) => cmd::status::run(args, &env),
        Command::Ocr(args) => cmd::ocr::run(args, &env),
        Command::Export(args) => cmd::sheets::export(args, &env),
        Command::Import(args) => cmd::sheets::import(args, &env),
    };
    match result {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::DataErrors) => ExitCode::from(1),
        Err(e) => {
            let (name, format) = cli.command.name_and_format();
            cmd::failure(name, format, &e);
            ExitCode::from(2)
        }
    }
}
