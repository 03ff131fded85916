//! The `ktrdr` binary: parse the command line, load settings, run one subcommand.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use ktrdr::cli::{Cli, Command, Listen};
use ktrdr::config::Settings;
use ktrdr::{hosts, server};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ktrdr: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = actix_web::rt::System::new().block_on(run(cli.command, settings));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ktrdr: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> std::io::Result<()> {
    let host = |l: &Listen| {
        l.host
            .clone()
            .unwrap_or_else(|| settings.server.host.clone())
    };
    let started = Instant::now();
    match command {
        Command::Serve(l) => {
            let (h, p) = (host(&l), l.port.unwrap_or(settings.server.port));
            server::serve(settings, &h, p).await
        }
        Command::IbHost(l) => {
            let h = host(&l);
            server::serve_app(&h, l.port.unwrap_or(5001), "IB host service", move |cfg| {
                hosts::ib::configure(cfg, started)
            })
            .await
        }
        Command::TrainingHost(l) => {
            let h = host(&l);
            server::serve_app(
                &h,
                l.port.unwrap_or(5002),
                "training host service",
                move |cfg| hosts::training::configure(cfg, started),
            )
            .await
        }
    }
}
