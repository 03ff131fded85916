//! The command line: server subcommands (`serve`, `ib-host`, `training-host`).

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "ktrdr",
    version,
    about = "ktrdr: market data and neuro-fuzzy training backend"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where a server listens. `--port 0` picks a free port; the first line on stdout says which.
#[derive(Debug, Clone, clap::Args)]
pub struct Listen {
    /// Address to bind [default: server.host from config, KTRDR_HOST].
    #[arg(long)]
    pub host: Option<String>,
    /// Port to bind; 0 picks a free one.
    #[arg(long)]
    pub port: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the backend: REST API under /api/v1 and websocket progress (port 8000).
    Serve(Listen),
    /// Run the IB host service (port 5001).
    IbHost(Listen),
    /// Run the training host service (port 5002).
    TrainingHost(Listen),
}
