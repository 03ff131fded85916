//! The `ktrdr` command: client verbs run here; server roles (`serve`, `ib-host`,
//! `training-host`) exec the `ktrdr-server` binary beside this one (`src/launcher.rs`).
//!
//! Why two binaries: `ktrdr-server` links libtorch, whose ~4 GB of shared libraries take about
//! 0.4 s to load, and a client verb must feel instant. Depending on the `ktrdr` library is
//! not enough to keep libtorch out (the linker pulls objects that mix client and training code,
//! and libtch's static constructors then keep libtorch needed), so this binary compiles the
//! client's source files itself, the same files the library uses, under the same module paths.

#![allow(dead_code)]

use std::process::ExitCode;

use clap::Parser;

#[path = "cli/mod.rs"]
mod cli;
mod data {
    #[path = "../data/mode.rs"]
    pub mod mode;
    #[path = "../data/timeframe.rs"]
    pub mod timeframe;
    pub mod gaps {
        pub use super::mode::{LoadMode, LoadModeError};
    }
}
mod training {
    #[path = "../training/fuzzy.rs"]
    pub mod fuzzy;
    #[path = "../training/indicators.rs"]
    pub mod indicators;
    #[path = "../training/strategy.rs"]
    pub mod strategy;
}

use cli::{client_exit, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let system = actix_web::rt::System::new();
    match cli.command {
        Command::Operations { backend, command } => {
            client_exit(system.block_on(cli::run_operations(&backend.url, command)))
        }
        Command::Models { backend, command } => {
            client_exit(system.block_on(cli::run_models(&backend.url, command)))
        }
        Command::Data { backend, command } => {
            client_exit(system.block_on(cli::run_data(&backend.url, command)))
        }
        Command::Serve(_) | Command::IbHost { .. } | Command::TrainingHost(_) => exec_server(),
    }
}

/// Replaces this process with `ktrdr-server` and the same arguments.
fn exec_server() -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(p) => p.with_file_name("ktrdr-server"),
        Err(e) => {
            eprintln!("ktrdr: cannot find my own path: {e}");
            return ExitCode::from(2);
        }
    };
    let mut cmd = std::process::Command::new(&exe);
    cmd.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        eprintln!("ktrdr: cannot start {}: {err}", exe.display());
        ExitCode::from(2)
    }
    #[cfg(not(unix))]
    match cmd.status() {
        Ok(s) => ExitCode::from(s.code().unwrap_or(1) as u8),
        Err(e) => {
            eprintln!("ktrdr: cannot start {}: {e}", exe.display());
            ExitCode::from(2)
        }
    }
}
