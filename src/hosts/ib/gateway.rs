//! The IB Gateway / TWS provider (`ktrdr ib-host --provider ib`), on the `ibapi` crate.
//!
//! One connection per host service, kept by a background task that connects with backoff and
//! reconnects when the link drops, so the service starts without a gateway and recovers
//! without a restart. While there is no connection, requests fail at once with
//! [`ProviderError::Unavailable`] (503) naming the gateway. Every historical request passes
//! the shared [`Pacer`] first (IB's three pacing rules and the in-flight limit); an error 162
//! is a pacing violation (wait 60 s, try again), "no data" (an empty answer) or an error with
//! IB's text. Head timestamps are cached per contract and bar size.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use ibapi::market_data::historical::{
    BarSize, BarTimestamp, Duration as IbApiDuration, WhatToShow as IbWhat,
};
use ibapi::market_data::TradingHours;
use ibapi::prelude::{Client, Contract};
use serde_json::{json, Value};

use super::contracts::{
    bar_size, chunks, classify_162, ContractOverride, ContractSpec, Error162, WhatToShow,
};
use super::pacing::{Pacer, PacingRules, RequestKey};
use crate::config::IbGatewaySettings;
use crate::data::provider::{BarProvider, ProviderError, SymbolInfo};
use ktrdr_actors::backoff::Backoff;
use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Where the gateway is and how to talk to it.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub host: String,
    pub port: u16,
    pub client_id: i32,
    pub connect_timeout: StdDuration,
    pub request_timeout: StdDuration,
    /// Wait after a pacing violation before trying again.
    pub pacing_backoff: StdDuration,
    pub max_in_flight: usize,
    /// IB's pacing windows (10 min, 15 s, 2 s) times this (1: IB's own).
    pub pacing_scale: f64,
    pub overrides: HashMap<String, ContractOverride>,
}

impl GatewayConfig {
    /// The gateway's settings from config (`[ib_gateway]`).
    pub fn from_settings(s: &IbGatewaySettings) -> Self {
        Self {
            host: s.host.clone(),
            port: s.port,
            client_id: s.client_id,
            connect_timeout: StdDuration::from_secs(s.connect_timeout_secs.max(1)),
            request_timeout: StdDuration::from_secs(s.request_timeout_secs.max(1)),
            pacing_backoff: StdDuration::from_secs_f64(60.0 * s.pacing_scale.max(0.0)),
            max_in_flight: s.max_in_flight.max(1),
            pacing_scale: s.pacing_scale,
            overrides: s.symbols.clone(),
        }
    }

    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[derive(Debug, Default, Clone)]
struct LinkState {
    connected: bool,
    attempts: u64,
    last_error: Option<String>,
    connected_since: Option<DateTime<Utc>>,
}

/// Pacing numbers for `/health/detailed`.
#[derive(Debug, Default, Clone)]
struct PacingStats {
    requests: u64,
    total_wait_ms: f64,
    max_wait_ms: f64,
    violations: u64,
}

pub struct GatewayProvider {
    config: GatewayConfig,
    client: tokio::sync::RwLock<Option<Arc<Client>>>,
    link: Mutex<LinkState>,
    pacer: Pacer,
    pacing: Mutex<PacingStats>,
    heads: Mutex<HeadCache>,
}

/// How often the connection task checks that the link is still up.
const LIVENESS_CHECK: StdDuration = StdDuration::from_millis(200);

/// First bar time by (contract, bar size); `None`: IB has no data for it.
type HeadCache = HashMap<(String, Timeframe), Option<DateTime<Utc>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl GatewayProvider {
    /// Starts the provider and its connection task (on the current runtime); returns at once.
    pub fn start(config: GatewayConfig) -> Arc<Self> {
        let rules = PacingRules::ib(config.pacing_scale, config.max_in_flight);
        let p = Arc::new(Self {
            config,
            client: tokio::sync::RwLock::new(None),
            link: Mutex::new(LinkState::default()),
            pacer: Pacer::new(rules),
            pacing: Mutex::new(PacingStats::default()),
            heads: Mutex::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&p);
        actix_web::rt::spawn(async move {
            // Reconnect attempts since the link was last up.
            let schedule = Backoff {
                base: StdDuration::from_secs(1),
                max: StdDuration::from_secs(30),
                jitter: true,
            };
            let mut failures = 0u32;
            loop {
                let Some(p) = weak.upgrade() else { return };
                let alive = p
                    .client
                    .read()
                    .await
                    .as_ref()
                    .is_some_and(|c| c.is_connected());
                if alive {
                    failures = 0;
                    drop(p);
                    tokio::time::sleep(LIVENESS_CHECK).await;
                    continue;
                }
                let was_connected = p.client.write().await.take().is_some();
                if was_connected {
                    tracing::warn!(gateway = %p.config.address(), "IB Gateway connection lost; reconnecting");
                }
                let address = p.config.address();
                // ibapi's own reconnect stays off: it would resend the requests in flight on
                // the new session behind the pacer's back (IB counts the resend as an
                // identical request within 15 s) while this task may open a second session
                // with the same client id (IB refuses it: 326). This task reconnects; the
                // requests cut off fail and are retried by the caller through the pacer.
                let attempt = tokio::time::timeout(
                    p.config.connect_timeout,
                    Client::builder()
                        .address(address.as_str())
                        .client_id(p.config.client_id)
                        .max_reconnect_attempts(0)
                        .connect(),
                )
                .await;
                let result = match attempt {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(format!(
                        "no answer within {:.0} s",
                        p.config.connect_timeout.as_secs_f64()
                    )),
                };
                match result {
                    Ok(c) => {
                        *p.client.write().await = Some(Arc::new(c));
                        let mut l = lock(&p.link);
                        l.connected = true;
                        l.connected_since = Some(Utc::now());
                        l.last_error = None;
                        tracing::info!(gateway = %address, "connected to IB Gateway");
                    }
                    Err(e) => {
                        let mut l = lock(&p.link);
                        l.connected = false;
                        l.connected_since = None;
                        l.attempts += 1;
                        l.last_error = Some(e.clone());
                        tracing::debug!(gateway = %address, error = %e, "IB Gateway unreachable");
                    }
                }
                drop(p);
                failures += 1;
                tokio::time::sleep(schedule.delay(failures)).await;
            }
        });
        p
    }

    fn unavailable(&self) -> ProviderError {
        let l = lock(&self.link);
        ProviderError::Unavailable(format!(
            "IB Gateway at {} is not connected{}; start IB Gateway or TWS with the API enabled \
             (the host service reconnects by itself)",
            self.config.address(),
            l.last_error
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ))
    }

    async fn client(&self) -> Result<Arc<Client>, ProviderError> {
        match self.client.read().await.as_ref() {
            Some(c) if c.is_connected() => Ok(c.clone()),
            _ => Err(self.unavailable()),
        }
    }

    fn contract(&self, symbol: &Symbol) -> Result<(ContractSpec, Contract), ProviderError> {
        let spec = ContractSpec::for_symbol(symbol.as_str(), &self.config.overrides)
            .map_err(ProviderError::Unavailable)?;
        let contract = match &spec {
            ContractSpec::Stock {
                symbol,
                exchange,
                currency,
                ..
            } => Contract::stock(symbol.as_str())
                .on_exchange(exchange.as_str())
                .in_currency(currency.as_str())
                .build(),
            ContractSpec::Forex {
                base,
                quote,
                exchange,
                ..
            } => Contract::forex(base.as_str(), quote.as_str())
                .on_exchange(exchange.as_str())
                .build(),
            ContractSpec::Crypto {
                symbol,
                currency,
                exchange,
                ..
            } => Contract::crypto(symbol.as_str())
                .on_exchange(exchange.as_str())
                .in_currency(currency.as_str())
                .build(),
        };
        Ok((spec, contract))
    }

    /// An `ibapi` error as ktrdr reports it; `None` for "no data" (an empty answer).
    fn request_error(&self, e: ibapi::Error) -> Result<Option<Error162>, ProviderError> {
        if let ibapi::Error::Notice(n) = &e {
            if n.code == 162 {
                return match classify_162(&n.message) {
                    Error162::NoData => Ok(None),
                    Error162::Pacing => Ok(Some(Error162::Pacing)),
                    Error162::Other => Err(ProviderError::Unavailable(format!(
                        "IB error 162: {}",
                        n.message
                    ))),
                };
            }
            if n.code == 200 {
                return Err(ProviderError::UnknownSymbol(n.message.clone()));
            }
            return Err(ProviderError::Unavailable(format!(
                "IB error {}: {}",
                n.code, n.message
            )));
        }
        Err(ProviderError::Unavailable(format!(
            "IB Gateway at {}: {e}",
            self.config.address()
        )))
    }

    /// The bars and the time spent waiting for the pacer.
    async fn fetch(
        self: Arc<Self>,
        symbol: Symbol,
        tf: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(Bars, StdDuration), ProviderError> {
        let (spec, contract) = self.contract(&symbol)?;
        let mut out = Bars::default();
        let mut waited = StdDuration::ZERO;
        for chunk in chunks(tf, start, end) {
            let key = RequestKey {
                contract: spec.key(),
                request: format!(
                    "{}|{}|{}|{}|{:?}",
                    spec.key(),
                    bar_size(tf),
                    chunk.end.timestamp(),
                    chunk.duration,
                    spec.what_to_show()
                ),
            };
            let mut violations = 0;
            let data = loop {
                let client = self.client().await?;
                let permit = self.pacer.acquire(key.clone()).await;
                waited += permit.waited;
                {
                    let mut s = lock(&self.pacing);
                    let ms = permit.waited.as_secs_f64() * 1000.0;
                    s.requests += 1;
                    s.total_wait_ms += ms;
                    s.max_wait_ms = s.max_wait_ms.max(ms);
                }
                let ending = time::OffsetDateTime::from_unix_timestamp(chunk.end.timestamp())
                    .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
                let duration: IbApiDuration = chunk
                    .duration
                    .to_string()
                    .parse()
                    .map_err(|e| ProviderError::Unavailable(format!("duration: {e:?}")))?;
                let request = client
                    .historical_data(&contract, ib_bar_size(tf))
                    .what_to_show(ib_what(spec.what_to_show()))
                    .trading_hours(TradingHours::Extended)
                    .duration(duration)
                    .ending(ending)
                    .fetch();
                let answer = tokio::time::timeout(self.config.request_timeout, request).await;
                drop(permit);
                match answer {
                    Err(_) => {
                        return Err(ProviderError::Unavailable(format!(
                            "IB Gateway at {} did not answer within {:.0} s",
                            self.config.address(),
                            self.config.request_timeout.as_secs_f64()
                        )))
                    }
                    Ok(Ok(d)) => break Some(d),
                    Ok(Err(e)) => match self.request_error(e)? {
                        None => break None,
                        Some(_) if violations < 2 => {
                            violations += 1;
                            lock(&self.pacing).violations += 1;
                            tracing::warn!(%symbol, %tf, "IB pacing violation; waiting before retrying");
                            tokio::time::sleep(self.config.pacing_backoff).await;
                        }
                        Some(_) => {
                            return Err(ProviderError::Unavailable(
                                "IB reports pacing violations again after backing off twice".into(),
                            ))
                        }
                    },
                }
            };
            for b in data.map(|d| d.bars).unwrap_or_default() {
                let time = bar_time(&b.date);
                if time >= chunk.start.timestamp_millis() && time < chunk.end.timestamp_millis() {
                    out.push(Bar {
                        time,
                        open: b.open,
                        high: b.high,
                        low: b.low,
                        close: b.close,
                        volume: b.volume.max(0.0),
                    });
                }
            }
        }
        Ok((out, waited))
    }
}

/// A bar's start as ms UTC: daily and longer bars are dated by their day (00:00 UTC, as the
/// store keeps them); intraday bars carry their start time.
fn bar_time(ts: &BarTimestamp) -> i64 {
    match ts {
        BarTimestamp::Date(d) => d.midnight().assume_utc().unix_timestamp() * 1000,
        BarTimestamp::DateTime(dt) => (dt.unix_timestamp_nanos() / 1_000_000) as i64,
    }
}

fn ib_bar_size(tf: Timeframe) -> BarSize {
    match tf {
        Timeframe::M1 => BarSize::Min,
        Timeframe::M5 => BarSize::Min5,
        Timeframe::M15 => BarSize::Min15,
        Timeframe::M30 => BarSize::Min30,
        Timeframe::H1 => BarSize::Hour,
        Timeframe::H2 => BarSize::Hour2,
        Timeframe::H4 => BarSize::Hour4,
        Timeframe::D1 => BarSize::Day,
        Timeframe::W1 => BarSize::Week,
        Timeframe::MN1 => BarSize::Month,
    }
}

fn ib_what(w: WhatToShow) -> IbWhat {
    match w {
        WhatToShow::Trades => IbWhat::Trades,
        WhatToShow::Midpoint => IbWhat::MidPoint,
        WhatToShow::Bid => IbWhat::Bid,
        WhatToShow::Ask => IbWhat::Ask,
        WhatToShow::Aggtrades => IbWhat::AggTrades,
    }
}

impl BarProvider for Arc<GatewayProvider> {
    fn name(&self) -> &'static str {
        "ib"
    }

    fn historical(
        &self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'static, Result<Bars, ProviderError>> {
        let fut = self.clone().fetch(symbol, timeframe, start, end);
        Box::pin(async move { fut.await.map(|(bars, _)| bars) })
    }

    fn historical_timed(
        &self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'static, Result<(Bars, StdDuration), ProviderError>> {
        Box::pin(self.clone().fetch(symbol, timeframe, start, end))
    }

    fn head_timestamp(
        &self,
        symbol: Symbol,
        timeframe: Timeframe,
    ) -> BoxFuture<'static, Result<Option<DateTime<Utc>>, ProviderError>> {
        let p = self.clone();
        Box::pin(async move {
            let (spec, contract) = p.contract(&symbol)?;
            let cache_key = (spec.key(), timeframe);
            if let Some(hit) = lock(&p.heads).get(&cache_key) {
                return Ok(*hit);
            }
            let client = p.client().await?;
            let answer = tokio::time::timeout(
                p.config.request_timeout,
                client.head_timestamp(
                    &contract,
                    ib_what(spec.what_to_show()),
                    TradingHours::Extended,
                ),
            )
            .await
            .map_err(|_| ProviderError::Unavailable("IB Gateway did not answer".into()))?;
            let head = match answer {
                Ok(t) => DateTime::from_timestamp(t.unix_timestamp(), 0),
                Err(e) => match p.request_error(e)? {
                    None => None,
                    Some(_) => {
                        return Err(ProviderError::Unavailable("IB pacing violation".into()))
                    }
                },
            };
            lock(&p.heads).insert(cache_key, head);
            Ok(head)
        })
    }

    fn validate(&self, symbol: Symbol) -> BoxFuture<'static, Result<SymbolInfo, ProviderError>> {
        let p = self.clone();
        Box::pin(async move {
            let (spec, contract) = p.contract(&symbol)?;
            let client = p.client().await?;
            let details =
                tokio::time::timeout(p.config.request_timeout, client.contract_details(&contract))
                    .await
                    .map_err(|_| ProviderError::Unavailable("IB Gateway did not answer".into()))?;
            let details = match details {
                Ok(d) => d,
                Err(e) => {
                    p.request_error(e)?;
                    Vec::new()
                }
            };
            let Some(first) = details.first() else {
                return Err(ProviderError::UnknownSymbol(format!(
                    "{symbol} ({}): IB knows no such contract",
                    spec.key()
                )));
            };
            Ok(SymbolInfo {
                symbol: symbol.to_string(),
                available_timeframes: Timeframe::ALL.to_vec(),
                contract: Some(json!({
                    "contract_id": first.contract.contract_id,
                    "sec_type": first.contract.security_type.to_string(),
                    "exchange": first.contract.exchange.to_string(),
                    "primary_exchange": first.contract.primary_exchange.to_string(),
                    "currency": first.contract.currency.to_string(),
                    "local_symbol": first.contract.local_symbol,
                    "long_name": first.long_name,
                    "time_zone": first.time_zone_id,
                })),
            })
        })
    }

    fn health(&self) -> Value {
        let l = lock(&self.link).clone();
        json!({
            "gateway": {
                "address": self.config.address(),
                "client_id": self.config.client_id,
                "connected": l.connected,
                "connected_since": l.connected_since,
                "failed_attempts": l.attempts,
                "last_error": l.last_error,
            }
        })
    }

    fn connected(&self) -> bool {
        lock(&self.link).connected
    }

    fn details(&self) -> Value {
        let s = lock(&self.pacing).clone();
        json!({
            "pacing": {
                "queued": self.pacer.queued(),
                "requests": s.requests,
                "mean_wait_ms": if s.requests > 0 { s.total_wait_ms / s.requests as f64 } else { 0.0 },
                "max_wait_ms": s.max_wait_ms,
                "violations": s.violations,
            }
        })
    }
}
