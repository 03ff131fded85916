//! The `ktrdr-server` binary: the server roles with libtorch linked (`ktrdr serve`,
//! `ktrdr ib-host` and `ktrdr training-host` exec it). It runs the client verbs too.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ktrdr::launcher::main(ktrdr::cli::Cli::parse())
}
