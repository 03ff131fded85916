//! The bar-provider port of the data domain: where historical bars come from (a folder of CSV
//! files, IB Gateway). The data domain's load uses it in-process (`source.rs`); the IB host
//! service serves one over HTTP. The adapters live with the hosts (`hosts::ib`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::Serialize;

use ktrdr_core::bars::Bars;
use ktrdr_core::protocol::ib::{HealthAnswer, HealthStatus};
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

/// A provider's state as the IB host service's health reports it: `healthy`, or `degraded`
/// while it cannot serve, its name, and what it adds (`gateway`, `pacing`).
pub fn describe(provider: &dyn BarProvider, service: &str) -> HealthAnswer {
    let health = provider.health();
    let details = provider.details();
    let some = |v: &serde_json::Value| (!v.is_null()).then(|| v.clone());
    HealthAnswer {
        status: if provider.connected() {
            HealthStatus::Healthy
        } else {
            HealthStatus::Degraded
        },
        service: service.to_owned(),
        provider: provider.name().to_owned(),
        uptime_seconds: None,
        gateway: some(&health["gateway"]),
        pacing: some(&details["pacing"]),
        requests: None,
        errors: None,
        last_error: None,
    }
}
