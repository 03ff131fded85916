//! Where the IB host service gets bars: a provider. The CSV-folder provider serves
//! `{SYMBOL}_{timeframe}.csv` files; the IB Gateway provider plugs into the same trait.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::data::bars::Bars;
use crate::data::csv;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Why a provider could not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The provider knows nothing of this symbol.
    #[error("unknown symbol {0}")]
    UnknownSymbol(String),
    /// The symbol exists but not at this bar size.
    #[error("no {timeframe} data for {symbol} (available: {available})")]
    TimeframeUnavailable {
        symbol: String,
        timeframe: Timeframe,
        available: String,
    },
    /// The provider's source (gateway, files) cannot be used right now.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
}

/// What `POST /data/validate` reports for a symbol.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SymbolInfo {
    pub symbol: String,
    pub available_timeframes: Vec<Timeframe>,
    /// What the provider resolved the symbol to (IB's contract details), when it has that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<serde_json::Value>,
}

/// A source of historical bars.
pub trait BarProvider: Send + Sync + 'static {
    /// Short name for `/health` ("csv", "ib").
    fn name(&self) -> &'static str;
    /// Bars with `start <= time < end`; an empty result is not an error.
    fn historical(
        &self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'static, Result<Bars, ProviderError>>;
    /// [`Self::historical`] plus how long the request waited for its turn under IB's pacing.
    fn historical_timed(
        &self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'static, Result<(Bars, Duration), ProviderError>> {
        let fut = self.historical(symbol, timeframe, start, end);
        Box::pin(async move { fut.await.map(|b| (b, Duration::ZERO)) })
    }
    /// The first bar's time.
    fn head_timestamp(
        &self,
        symbol: Symbol,
        timeframe: Timeframe,
    ) -> BoxFuture<'static, Result<Option<DateTime<Utc>>, ProviderError>>;
    /// Whether the symbol exists, with its timeframes.
    fn validate(&self, symbol: Symbol) -> BoxFuture<'static, Result<SymbolInfo, ProviderError>>;
    /// Whether the provider can serve requests now (a gateway provider: connected).
    fn connected(&self) -> bool {
        true
    }
    /// What `/health` adds for this provider (the gateway link).
    fn health(&self) -> serde_json::Value {
        serde_json::json!({})
    }
    /// What `/health/detailed` adds (pacing).
    fn details(&self) -> serde_json::Value {
        serde_json::json!({})
    }
}

/// Parsed files by path, with the modification time they were parsed at.
type FileCache = Mutex<HashMap<PathBuf, (SystemTime, Arc<Bars>)>>;

/// Serves CSV files from a folder; parsed files are cached until they change on disk.
pub struct CsvProvider {
    dir: PathBuf,
    /// Simulated gateway latency per request.
    latency: Duration,
    cache: Arc<FileCache>,
}

impl CsvProvider {
    pub fn new(dir: impl Into<PathBuf>, latency: Duration) -> Self {
        Self {
            dir: dir.into(),
            latency,
            cache: Arc::default(),
        }
    }

    /// Timeframes with a file for `symbol`.
    fn timeframes(dir: &std::path::Path, symbol: &Symbol) -> Vec<Timeframe> {
        Timeframe::ALL
            .into_iter()
            .filter(|tf| dir.join(format!("{symbol}_{tf}.csv")).is_file())
            .collect()
    }

    /// The parsed, validated series (blocking).
    fn load(
        dir: &std::path::Path,
        cache: &FileCache,
        symbol: &Symbol,
        tf: Timeframe,
    ) -> Result<Arc<Bars>, ProviderError> {
        let path = dir.join(format!("{symbol}_{tf}.csv"));
        let Ok(meta) = std::fs::metadata(&path) else {
            let available = Self::timeframes(dir, symbol);
            if available.is_empty() {
                return Err(ProviderError::UnknownSymbol(symbol.to_string()));
            }
            return Err(ProviderError::TimeframeUnavailable {
                symbol: symbol.to_string(),
                timeframe: tf,
                available: available
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if let Some((m, bars)) = cache.lock().expect("cache lock").get(&path) {
            if *m == modified {
                return Ok(bars.clone());
            }
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ProviderError::Unavailable(format!("{}: {e}", path.display())))?;
        let raw = csv::parse(&text)
            .map_err(|e| ProviderError::Unavailable(format!("{}: {e}", path.display())))?;
        let bars = Arc::new(crate::data::validation::validate(&raw, tf).0);
        cache
            .lock()
            .expect("cache lock")
            .insert(path, (modified, bars.clone()));
        Ok(bars)
    }

    fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(
                &std::path::Path,
                &Mutex<HashMap<PathBuf, (SystemTime, Arc<Bars>)>>,
            ) -> Result<T, ProviderError>
            + Send
            + 'static,
    ) -> BoxFuture<'static, Result<T, ProviderError>> {
        let (dir, cache, latency) = (self.dir.clone(), self.cache.clone(), self.latency);
        Box::pin(async move {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            tokio::task::spawn_blocking(move || f(&dir, &cache))
                .await
                .map_err(|e| ProviderError::Unavailable(e.to_string()))?
        })
    }
}

impl BarProvider for CsvProvider {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn historical(
        &self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'static, Result<Bars, ProviderError>> {
        self.blocking(move |dir, cache| {
            let bars = Self::load(dir, cache, &symbol, timeframe)?;
            Ok(bars.slice_range(Some(start.timestamp_millis()), Some(end.timestamp_millis())))
        })
    }

    fn head_timestamp(
        &self,
        symbol: Symbol,
        timeframe: Timeframe,
    ) -> BoxFuture<'static, Result<Option<DateTime<Utc>>, ProviderError>> {
        self.blocking(
            move |dir, cache| Ok(Self::load(dir, cache, &symbol, timeframe)?.first_time()),
        )
    }

    fn validate(&self, symbol: Symbol) -> BoxFuture<'static, Result<SymbolInfo, ProviderError>> {
        self.blocking(move |dir, _| {
            let available = Self::timeframes(dir, &symbol);
            if available.is_empty() {
                return Err(ProviderError::UnknownSymbol(symbol.to_string()));
            }
            Ok(SymbolInfo {
                symbol: symbol.to_string(),
                available_timeframes: available,
                contract: None,
            })
        })
    }
}
