//! The `ktrdr` command: client verbs run here; server roles (`serve`, `ib-host`,
//! `training-host`) exec the `ktrdr-server` binary beside this one.
//!
//! Why two binaries: `ktrdr-server` links libtorch, whose ~4 GB of shared libraries take about
//! 0.4 s to load, and a client verb must feel instant. This binary uses only the `ktrdr-cli`
//! package, which cannot reach polars or tch (its dependency tree is checked by
//! `scripts/test`), and the build script links libtorch into `ktrdr-server` alone.

use std::process::ExitCode;

fn main() -> ExitCode {
    ktrdr_cli::run(ktrdr_cli::parse(), |_role| exec_server())
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
