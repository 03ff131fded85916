//! The `ktrdr-server` binary: the server roles with libtorch linked (`ktrdr serve`,
//! `ktrdr ib-host` and `ktrdr training-host` exec it). It runs the client verbs too.

use std::process::ExitCode;

fn main() -> ExitCode {
    ktrdr_cli::run(ktrdr_cli::parse(), ktrdr::launcher::serve)
}
