//! The server roles (`serve`, `ib-host`, `training-host`) as the `ktrdr-server` binary runs
//! them. They live apart from the client verbs so that the `ktrdr` command the user types
//! (`src/main.rs`) does not link libtorch: loading its ~4 GB of shared libraries costs about
//! 0.6 s per command, while a client verb must feel instant. `ktrdr serve` execs
//! `ktrdr-server serve` (same arguments, same process id).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Cli, Command, IbSource, Listen, ProviderKind};
use crate::config::Settings;
use crate::hosts::ib::provider::{BarProvider, CsvProvider};
use crate::{cli, hosts, server};

/// Runs any `ktrdr` command in this process: a server role, or a client verb.
pub fn main(cli: Cli) -> ExitCode {
    let system = actix_web::rt::System::new();
    let (listen, role) = match cli.command {
        // Client verbs need no settings and stay quiet: no log subscriber.
        Command::Operations { backend, command } => {
            return cli::client_exit(system.block_on(cli::run_operations(&backend.url, command)));
        }
        Command::Models { backend, command } => {
            return cli::client_exit(system.block_on(cli::run_models(&backend.url, command)));
        }
        Command::Data { backend, command } => {
            return cli::client_exit(system.block_on(cli::run_data(&backend.url, command)));
        }
        Command::Serve(l) => (l, Role::Backend),
        Command::IbHost { listen, source } => (listen, Role::IbHost(source)),
        Command::TrainingHost(l) => (l, Role::TrainingHost),
    };
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
    match system.block_on(run_server(role, listen, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ktrdr: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Which server a subcommand runs.
enum Role {
    Backend,
    IbHost(IbSource),
    TrainingHost,
}

async fn run_server(role: Role, listen: Listen, settings: Settings) -> std::io::Result<()> {
    let host = listen
        .host
        .clone()
        .unwrap_or_else(|| settings.server.host.clone());
    match role {
        Role::Backend => {
            let port = listen.port.unwrap_or(settings.server.port);
            server::serve(settings, &host, port).await
        }
        Role::IbHost(source) => {
            let port = listen.port.unwrap_or(5001);
            let provider: Arc<dyn BarProvider> = match source.provider {
                ProviderKind::Csv => {
                    if !source.csv_dir.is_dir() {
                        return Err(std::io::Error::other(format!(
                            "--csv-dir {}: not a folder",
                            source.csv_dir.display()
                        )));
                    }
                    Arc::new(CsvProvider::new(
                        source.csv_dir,
                        Duration::from_millis(source.latency_ms),
                    ))
                }
                ProviderKind::Ib => {
                    let config = settings.ib_gateway.gateway_config();
                    tracing::info!(gateway = %config.address(), "IB Gateway provider");
                    Arc::new(hosts::ib::gateway::GatewayProvider::start(config))
                }
            };
            server::serve_app(&host, port, "IB host service", hosts::ib::app(provider)).await
        }
        Role::TrainingHost => {
            let port = listen.port.unwrap_or(5002);
            let state = hosts::training::TrainingHost::new(
                &settings.paths.models_dir,
                settings.training.max_sessions,
            );
            server::serve_app(
                &host,
                port,
                "training host service",
                hosts::training::app(state),
            )
            .await
        }
    }
}
