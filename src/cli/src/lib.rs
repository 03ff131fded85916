//! ktrdr-cli: the command line. The client verbs (`operations`, `data`, `models`) talk to a
//! running backend over its API; the server roles (`serve`, `ib-host`, `training-host`) are
//! told apart here, once, and handed to whoever runs servers ([`run`]).
//!
//! This package reaches neither polars nor tch (only `ktrdr-core`), so the `ktrdr` binary built
//! from it starts in milliseconds; `ktrdr-server` (the `ktrdr` package) links libtorch and runs
//! the server roles.

pub mod data;
pub mod indicators;
pub mod models;
pub mod operations;
pub mod progress;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::Value;

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

/// Which provider the IB host service serves bars from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderKind {
    /// `{SYMBOL}_{timeframe}.csv` files from `--csv-dir`.
    Csv,
    /// IB Gateway / TWS at IB_HOST:IB_PORT (config `[ib_gateway]`).
    Ib,
}

#[derive(Debug, Clone, clap::Args)]
pub struct IbSource {
    /// Where bars come from.
    #[arg(long, value_enum, default_value_t = ProviderKind::Csv)]
    pub provider: ProviderKind,
    /// Folder of CSV files for `--provider csv`.
    #[arg(long, default_value = "sample_data")]
    pub csv_dir: std::path::PathBuf,
    /// Added to every request, to simulate a slow gateway.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the backend: REST API under /api/v1 and websocket progress (port 8000).
    Serve(Listen),
    /// Run the IB host service (port 5001).
    IbHost {
        #[command(flatten)]
        listen: Listen,
        #[command(flatten)]
        source: IbSource,
    },
    /// Run the training host service (port 5002).
    TrainingHost(Listen),
    /// Market data on a running backend: load, show, range.
    Data {
        #[command(flatten)]
        backend: BackendUrl,
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Models on a running backend: train a strategy, list stored models.
    Models {
        #[command(flatten)]
        backend: BackendUrl,
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Indicators on a running backend: list them, compute one over stored bars.
    Indicators {
        #[command(flatten)]
        backend: BackendUrl,
        #[command(subcommand)]
        command: IndicatorsCommand,
    },
    /// Operations on a running backend.
    Operations {
        #[command(flatten)]
        backend: BackendUrl,
        #[command(subcommand)]
        command: OperationsCommand,
    },
}

/// Where the client verbs find the backend.
#[derive(Debug, Clone, clap::Args)]
pub struct BackendUrl {
    /// Backend URL.
    #[arg(
        long,
        env = "KTRDR_API_URL",
        default_value = "http://localhost:8000",
        global = true
    )]
    pub url: String,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Load bars into the local store and follow the load's progress.
    Load {
        symbol: String,
        #[arg(short, long, default_value = "1d")]
        timeframe: String,
        /// local, tail, backfill or full.
        #[arg(short, long, default_value = "tail")]
        mode: String,
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        end: Option<String>,
        /// Do not print progress lines.
        #[arg(long)]
        no_progress: bool,
        /// Print nothing but errors (and `-f json`).
        #[arg(short, long)]
        quiet: bool,
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show the last stored bars.
    Show {
        symbol: String,
        #[arg(short, long, default_value = "1d")]
        timeframe: String,
        /// How many of the last rows.
        #[arg(short, long, default_value_t = 10)]
        rows: usize,
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        end: Option<String>,
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The stored range and bar count.
    Range {
        symbol: String,
        #[arg(short, long, default_value = "1d")]
        timeframe: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Train a strategy and follow its progress (Ctrl+C cancels the training).
    Train {
        /// Strategy file (checked before sending) or the name of one in the backend's
        /// strategies folder.
        strategy: String,
        /// Symbol to train on [default: the strategy's].
        symbol: Option<String>,
        /// Timeframe to train on [default: the strategy's].
        timeframe: Option<String>,
        #[arg(long)]
        start_date: Option<String>,
        #[arg(long)]
        end_date: Option<String>,
        /// Check the strategy and arguments and say what would be trained; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not show progress.
        #[arg(long)]
        no_progress: bool,
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the stored models.
    List {
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum IndicatorsCommand {
    /// List every indicator with its parameters (defaults, ranges) and output columns.
    List {
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Compute an indicator over a stored series and show its last values.
    Compute {
        symbol: String,
        timeframe: String,
        /// Indicator name, id or alias (`rsi`, `RSIIndicator`, `bbands`...).
        name: String,
        /// A parameter, NAME=VALUE (repeat for several): --param period=14.
        #[arg(short, long = "param")]
        param: Vec<String>,
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        end: Option<String>,
        /// How many of the last rows.
        #[arg(short, long, default_value_t = 10)]
        rows: usize,
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum OperationsCommand {
    /// List operations, newest first.
    List {
        /// Only this status (pending, running, completed, failed, cancelled).
        #[arg(short, long)]
        status: Option<String>,
        /// Only this operation type (data_load, training, dummy, ...).
        #[arg(short = 't', long = "type")]
        operation_type: Option<String>,
        /// At most this many.
        #[arg(short, long, default_value_t = 20)]
        limit: usize,
        /// Only pending and running ones.
        #[arg(short, long)]
        active: bool,
    },
    /// Show one operation.
    Status { id: String },
    /// Cancel an operation and wait until it has stopped.
    Cancel {
        id: String,
        #[arg(short, long)]
        reason: Option<String>,
    },
    /// Follow an operation's progress until it ends (Ctrl+C cancels it).
    Watch { id: String },
    /// Run a failed or cancelled operation again (a data load fetches only what is missing).
    Retry {
        id: String,
        /// Follow the new operation's progress until it ends.
        #[arg(short, long)]
        watch: bool,
    },
}

/// Why a client command failed; each maps to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The backend could not be reached (exit 2).
    #[error("cannot reach the ktrdr backend at {url}: {reason}\n  start it with `ktrdr serve` or point KTRDR_API_URL/--url at it")]
    Unreachable { url: String, reason: String },
    /// The backend refused the request (exit 1).
    #[error("{0}")]
    Api(String),
    /// Invalid input, refused before any request (exit 2).
    #[error("{0}")]
    Input(String),
    /// The operation failed (exit 1).
    #[error("Operation failed: {0}")]
    Failed(String),
    /// The operation was cancelled (exit 130).
    #[error("Operation cancelled")]
    Cancelled,
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Unreachable { .. } | Self::Input(_) => 2,
            Self::Api(_) | Self::Failed(_) => 1,
            Self::Cancelled => 130,
        }
    }
}

/// The backend's API token, from the environment.
fn api_token() -> Option<String> {
    let from = |v: String| Some(v.trim().to_owned()).filter(|t| !t.is_empty());
    std::env::var("KTRDR_API_TOKEN")
        .ok()
        .and_then(from)
        .or_else(|| {
            std::env::var("KTRDR_API_TOKEN_FILE")
                .ok()
                .and_then(|f| std::fs::read_to_string(f.trim()).ok())
                .and_then(from)
        })
}

/// One pooled HTTP client for the whole command.
pub struct Client {
    base: String,
    http: awc::Client,
}

impl Client {
    /// A client of the backend at `base`; it sends the API token from `KTRDR_API_TOKEN` (or
    /// the file `KTRDR_API_TOKEN_FILE` names) when there is one.
    pub fn new(base: &str) -> Self {
        let mut builder = awc::Client::builder().timeout(Duration::from_secs(30));
        if let Some(token) = api_token() {
            builder = builder.bearer_auth(token);
        }
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: builder.finish(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub fn http(&self) -> &awc::Client {
        &self.http
    }

    fn unreachable(&self, reason: String) -> CliError {
        CliError::Unreachable {
            url: self.base.clone(),
            reason,
        }
    }

    /// Sends `req` (with a JSON body, if any) and returns the answer's JSON, or the
    /// backend's message for an error status.
    async fn send(&self, req: awc::ClientRequest, body: Option<&Value>) -> Result<Value, CliError> {
        let sent = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        };
        let mut res = sent.map_err(|e| self.unreachable(e.to_string()))?;
        let body: Value = res
            .json()
            .limit(64 * 1024 * 1024)
            .await
            .map_err(|e| CliError::Api(format!("unreadable answer: {e}")))?;
        if res.status().is_success() {
            Ok(body)
        } else {
            let msg = body["detail"]
                .as_str()
                .or_else(|| body["detail"]["message"].as_str())
                .or_else(|| body["error"]["message"].as_str())
                .unwrap_or("request failed");
            Err(CliError::Api(msg.to_owned()))
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.send(self.http.get(self.url(path)), None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.send(self.http.post(self.url(path)), Some(body)).await
    }

    pub async fn cancel(&self, id: &str, reason: Option<&str>) -> Result<Value, CliError> {
        let req = self.http.delete(self.url(&format!("/operations/{id}")));
        self.send(req, Some(&serde_json::json!({ "reason": reason })))
            .await
    }
}

/// The exit code of a client verb; errors are one line on stderr.
/// A server role with its command-line arguments.
#[derive(Debug)]
pub enum ServerRole {
    Backend(Listen),
    IbHost(Listen, IbSource),
    TrainingHost(Listen),
}

/// The command line of this process.
pub fn parse() -> Cli {
    Cli::parse()
}

/// Runs `cli`: a client verb here (its exit code), a server role through `serve`.
pub fn run(cli: Cli, serve: impl FnOnce(ServerRole) -> ExitCode) -> ExitCode {
    match cli.command {
        Command::Operations { backend, command } => client(run_operations(&backend.url, command)),
        Command::Models { backend, command } => client(run_models(&backend.url, command)),
        Command::Data { backend, command } => client(run_data(&backend.url, command)),
        Command::Indicators { backend, command } => client(run_indicators(&backend.url, command)),
        Command::Serve(listen) => serve(ServerRole::Backend(listen)),
        Command::IbHost { listen, source } => serve(ServerRole::IbHost(listen, source)),
        Command::TrainingHost(listen) => serve(ServerRole::TrainingHost(listen)),
    }
}

/// Runs a client verb to its end. Client verbs need no settings and stay quiet: no log
/// subscriber.
fn client(verb: impl std::future::Future<Output = Result<(), CliError>>) -> ExitCode {
    client_exit(actix_rt::System::new().block_on(verb))
}

pub fn client_exit(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a `data` verb.
pub async fn run_data(url: &str, command: DataCommand) -> Result<(), CliError> {
    let client = Client::new(url);
    match command {
        DataCommand::Load {
            symbol,
            timeframe,
            mode,
            start,
            end,
            no_progress,
            quiet,
            format,
        } => {
            let args = data::LoadArgs {
                symbol: &symbol,
                timeframe: &timeframe,
                mode: &mode,
                start: start.as_deref(),
                end: end.as_deref(),
                progress: !no_progress,
                quiet,
                format,
            };
            data::load(&client, args).await
        }
        DataCommand::Show {
            symbol,
            timeframe,
            rows,
            start,
            end,
            format,
        } => {
            let (s, e) = (start.as_deref(), end.as_deref());
            data::show(&client, &symbol, &timeframe, rows, s, e, format).await
        }
        DataCommand::Range { symbol, timeframe } => data::range(&client, &symbol, &timeframe).await,
    }
}

/// Runs an `indicators` verb.
pub async fn run_indicators(url: &str, command: IndicatorsCommand) -> Result<(), CliError> {
    let client = Client::new(url);
    match command {
        IndicatorsCommand::List { format } => indicators::list(&client, format).await,
        IndicatorsCommand::Compute {
            symbol,
            timeframe,
            name,
            param,
            start,
            end,
            rows,
            format,
        } => {
            let args = indicators::ComputeArgs {
                symbol: &symbol,
                timeframe: &timeframe,
                name: &name,
                params: &param,
                start: start.as_deref(),
                end: end.as_deref(),
                rows,
                format,
            };
            indicators::compute(&client, args).await
        }
    }
}

/// Runs a `models` verb.
pub async fn run_models(url: &str, command: ModelsCommand) -> Result<(), CliError> {
    let client = Client::new(url);
    match command {
        ModelsCommand::Train {
            strategy,
            symbol,
            timeframe,
            start_date,
            end_date,
            dry_run,
            no_progress,
            format,
        } => {
            let args = models::TrainArgs {
                strategy: &strategy,
                symbol: symbol.as_deref(),
                timeframe: timeframe.as_deref(),
                start_date: start_date.as_deref(),
                end_date: end_date.as_deref(),
                dry_run,
                progress: !no_progress,
                format,
            };
            models::train(&client, args).await
        }
        ModelsCommand::List { format } => models::list(&client, format).await,
    }
}

/// Runs an `operations` verb.
pub async fn run_operations(url: &str, command: OperationsCommand) -> Result<(), CliError> {
    let client = Client::new(url);
    match command {
        OperationsCommand::List {
            status,
            operation_type,
            limit,
            active,
        } => {
            let mut q = format!("?limit={limit}&active_only={active}");
            if let Some(s) = status {
                q.push_str(&format!("&status={s}"));
            }
            if let Some(t) = operation_type {
                q.push_str(&format!("&operation_type={t}"));
            }
            operations::list(&client, &q).await
        }
        OperationsCommand::Status { id } => operations::status(&client, &id).await,
        OperationsCommand::Cancel { id, reason } => {
            operations::cancel(&client, &id, reason.as_deref()).await
        }
        OperationsCommand::Watch { id } => operations::watch(&client, &id).await,
        OperationsCommand::Retry { id, watch } => operations::retry(&client, &id, watch).await,
    }
}
