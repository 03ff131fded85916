//! The server roles (`serve`, `ib-host`, `training-host`) as the `ktrdr-server` binary runs
//! them. They live apart from the client verbs so that the `ktrdr` command the user types
//! (`src/main.rs`, built from the `ktrdr-cli` package) does not link libtorch: loading its
//! ~4 GB of shared libraries costs about 0.6 s per command, while a client verb must feel
//! instant. `ktrdr serve` execs `ktrdr-server serve` (same arguments, same process id); the
//! roles are told apart once, by `ktrdr_cli::run`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ktrdr_cli::{Listen, ProviderKind, ServerRole};

use crate::config::Settings;
use crate::data::provider::BarProvider;
use crate::hosts::ib::csv_provider::CsvProvider;
use crate::http::guard::{Guard, Role};
use crate::{hosts, server};

/// Runs a server role in this process until it shuts down.
pub fn serve(role: ServerRole) -> ExitCode {
    let system = actix_web::rt::System::new();
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
    match system.block_on(run_server(role, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ktrdr: {e}");
            ExitCode::FAILURE
        }
    }
}

fn host_of(listen: &Listen, settings: &Settings) -> String {
    listen
        .host
        .clone()
        .unwrap_or_else(|| settings.server.host.clone())
}

async fn run_server(role: ServerRole, settings: Settings) -> std::io::Result<()> {
    match role {
        ServerRole::Backend(listen) => {
            let host = host_of(&listen, &settings);
            let port = listen.port.unwrap_or(settings.server.port);
            server::serve(settings, &host, port).await
        }
        ServerRole::IbHost(listen, source) => {
            let host = host_of(&listen, &settings);
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
                    let config = crate::hosts::ib::gateway::GatewayConfig::from_settings(
                        &settings.ib_gateway,
                    );
                    tracing::info!(gateway = %config.address(), "IB Gateway provider");
                    Arc::new(hosts::ib::gateway::GatewayProvider::start(config))
                }
            };
            let security = settings.security.clone();
            server::serve_app(
                &host,
                port,
                "IB host service",
                move |addr| Guard::for_role(Role::IbHost, addr, &security),
                hosts::ib::app(provider),
            )
            .await
        }
        ServerRole::TrainingHost(listen) => {
            let host = host_of(&listen, &settings);
            let port = listen.port.unwrap_or(5002);
            let state = hosts::training::TrainingHost::new(
                &settings.paths.models_dir,
                settings.training.max_sessions,
            )
            .with_max_start_bytes(settings.training.max_request_mb.saturating_mul(1024 * 1024));
            let security = settings.security.clone();
            server::serve_app(
                &host,
                port,
                "training host service",
                move |addr| Guard::for_role(Role::TrainingHost, addr, &security),
                hosts::training::app(state),
            )
            .await
        }
    }
}
