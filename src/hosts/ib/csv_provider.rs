//! The CSV-folder provider: serves `{SYMBOL}_{timeframe}.csv` files through the data domain's
//! provider port ([`crate::data::provider::BarProvider`]); the IB Gateway provider
//! (`gateway.rs`) is the other adapter.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::data::csv;
use crate::data::provider::{BarProvider, ProviderError, SymbolInfo};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use ktrdr_core::bars::Bars;
use ktrdr_core::timeframe::{Symbol, Timeframe};

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
