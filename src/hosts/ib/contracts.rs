//! What ktrdr asks IB for, decided without a gateway: the contract for a symbol, the bar size
//! for a timeframe, a range cut into requests (`end` + duration in IB's units, never longer
//! than IB serves for the bar size), and what an error 162 means.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub use ktrdr_core::ib::{ContractOverride, WhatToShow};
use ktrdr_core::timeframe::Timeframe;

/// A contract as ktrdr resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "sec_type")]
pub enum ContractSpec {
    /// `STK`, routed through SMART unless overridden.
    #[serde(rename = "STK")]
    Stock {
        symbol: String,
        exchange: String,
        currency: String,
        what_to_show: WhatToShow,
    },
    /// `CRYPTO` on PAXOS: `BTCUSD` or `BTC.USD` -> BTC in USD (AGGTRADES).
    #[serde(rename = "CRYPTO")]
    Crypto {
        symbol: String,
        currency: String,
        exchange: String,
        what_to_show: WhatToShow,
    },
    /// `CASH` on IDEALPRO: `EURUSD` or `EUR.USD` -> base EUR, quote USD.
    #[serde(rename = "CASH")]
    Forex {
        base: String,
        quote: String,
        exchange: String,
        what_to_show: WhatToShow,
    },
}

/// A six-letter pair or `AAA.BBB`: forex.
fn forex_pair(symbol: &str) -> Option<(String, String)> {
    if let Some((b, q)) = symbol.split_once('.') {
        if b.len() == 3 && q.len() == 3 {
            return Some((b.to_ascii_uppercase(), q.to_ascii_uppercase()));
        }
    }
    if symbol.len() == 6 && symbol.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Some((
            symbol[..3].to_ascii_uppercase(),
            symbol[3..].to_ascii_uppercase(),
        ));
    }
    None
}

impl ContractSpec {
    /// The contract for `symbol`: forex for a pair (MIDPOINT, as KTRDR asks for forex), a stock
    /// on SMART in USD (TRADES) otherwise; `overrides` can change any of it per symbol.
    pub fn for_symbol(
        symbol: &str,
        overrides: &HashMap<String, ContractOverride>,
    ) -> Result<Self, String> {
        let o = overrides.get(symbol).cloned().unwrap_or_default();
        let pair = forex_pair(symbol);
        let kind = match o.kind.as_deref() {
            Some("stock") => "stock",
            Some("forex") => "forex",
            Some("crypto") => "crypto",
            Some(other) => {
                return Err(format!(
                    "ib_gateway.symbols.{symbol}.kind: {other:?} (expected stock, forex or crypto)"
                ))
            }
            None if pair.is_some()
                && crate::data::calendar::Calendar::for_symbol(symbol)
                    == crate::data::calendar::Calendar::Crypto =>
            {
                "crypto"
            }
            None if pair.is_some() => "forex",
            None => "stock",
        };
        Ok(match kind {
            "crypto" => {
                let (coin, currency) = pair
                    .ok_or_else(|| format!("{symbol} is not a crypto pair (BTCUSD or BTC.USD)"))?;
                ContractSpec::Crypto {
                    symbol: coin,
                    currency: o.currency.unwrap_or(currency),
                    exchange: o.exchange.unwrap_or_else(|| "PAXOS".into()),
                    what_to_show: o.what_to_show.unwrap_or(WhatToShow::Aggtrades),
                }
            }
            "forex" => {
                let (base, quote) = pair.ok_or_else(|| {
                    format!("{symbol} is not a currency pair (EURUSD or EUR.USD)")
                })?;
                ContractSpec::Forex {
                    base,
                    quote,
                    exchange: o.exchange.unwrap_or_else(|| "IDEALPRO".into()),
                    what_to_show: o.what_to_show.unwrap_or(WhatToShow::Midpoint),
                }
            }
            _ => ContractSpec::Stock {
                symbol: symbol.to_ascii_uppercase(),
                exchange: o.exchange.unwrap_or_else(|| "SMART".into()),
                currency: o.currency.unwrap_or_else(|| "USD".into()),
                what_to_show: o.what_to_show.unwrap_or(WhatToShow::Trades),
            },
        })
    }

    pub fn what_to_show(&self) -> WhatToShow {
        match self {
            ContractSpec::Stock { what_to_show, .. }
            | ContractSpec::Crypto { what_to_show, .. }
            | ContractSpec::Forex { what_to_show, .. } => *what_to_show,
        }
    }

    /// A short name for pacing and logs (`STK:AAPL`, `CASH:EUR.USD`).
    pub fn key(&self) -> String {
        match self {
            ContractSpec::Stock { symbol, .. } => format!("STK:{symbol}"),
            ContractSpec::Crypto {
                symbol, currency, ..
            } => format!("CRYPTO:{symbol}.{currency}"),
            ContractSpec::Forex { base, quote, .. } => format!("CASH:{base}.{quote}"),
        }
    }
}

/// IB's bar size setting for a timeframe.
pub fn bar_size(tf: Timeframe) -> &'static str {
    match tf {
        Timeframe::M1 => "1 min",
        Timeframe::M5 => "5 mins",
        Timeframe::M15 => "15 mins",
        Timeframe::M30 => "30 mins",
        Timeframe::H1 => "1 hour",
        Timeframe::H2 => "2 hours",
        Timeframe::H4 => "4 hours",
        Timeframe::D1 => "1 day",
        Timeframe::W1 => "1 week",
        Timeframe::MN1 => "1 month",
    }
}

/// A duration in IB's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IbDuration {
    Seconds(i32),
    Days(i32),
    Weeks(i32),
    Years(i32),
}

impl std::fmt::Display for IbDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IbDuration::Seconds(n) => write!(f, "{n} S"),
            IbDuration::Days(n) => write!(f, "{n} D"),
            IbDuration::Weeks(n) => write!(f, "{n} W"),
            IbDuration::Years(n) => write!(f, "{n} Y"),
        }
    }
}

/// The smallest IB duration that covers `span`: seconds up to a day, days up to a year, years
/// beyond.
pub fn covering(span: Duration) -> IbDuration {
    let secs = span.num_seconds().max(1);
    if secs <= 86_400 {
        IbDuration::Seconds(secs as i32)
    } else if secs <= 365 * 86_400 {
        IbDuration::Days(((secs + 86_399) / 86_400) as i32)
    } else {
        IbDuration::Years(((secs + 365 * 86_400 - 1) / (365 * 86_400)) as i32)
    }
}

/// One historical request: bars ending at `end`, going back `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub duration: IbDuration,
}

/// `[start, end)` cut into requests no longer than IB serves for the bar size, oldest first.
pub fn chunks(tf: Timeframe, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Chunk> {
    let max = tf.max_request_span();
    let mut out = Vec::new();
    let mut s = start;
    while s < end {
        let e = (s + max).min(end);
        out.push(Chunk {
            start: s,
            end: e,
            duration: covering(e - s),
        });
        s = e;
    }
    out
}

/// What an IB error 162 ("Historical Market Data Service error") means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error162 {
    /// Too many requests: wait and try again.
    Pacing,
    /// The range has no bars: an empty answer, not an error.
    NoData,
    /// Anything else: an error with IB's text.
    Other,
}

pub fn classify_162(message: &str) -> Error162 {
    let m = message.to_ascii_lowercase();
    if m.contains("pacing violation") {
        Error162::Pacing
    } else if m.contains("returned no data") || m.contains("no data") {
        Error162::NoData
    } else {
        Error162::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn contracts_for_stocks_and_pairs() {
        let none = HashMap::new();
        assert_eq!(
            ContractSpec::for_symbol("AAPL", &none).unwrap(),
            ContractSpec::Stock {
                symbol: "AAPL".into(),
                exchange: "SMART".into(),
                currency: "USD".into(),
                what_to_show: WhatToShow::Trades
            }
        );
        for s in ["EURUSD", "EUR.USD"] {
            let c = ContractSpec::for_symbol(s, &none).unwrap();
            assert_eq!(
                c,
                ContractSpec::Forex {
                    base: "EUR".into(),
                    quote: "USD".into(),
                    exchange: "IDEALPRO".into(),
                    what_to_show: WhatToShow::Midpoint
                }
            );
            assert_eq!(c.key(), "CASH:EUR.USD");
        }
        // Crypto pairs: CRYPTO on PAXOS.
        assert_eq!(
            ContractSpec::for_symbol("BTCUSD", &none).unwrap(),
            ContractSpec::Crypto {
                symbol: "BTC".into(),
                currency: "USD".into(),
                exchange: "PAXOS".into(),
                what_to_show: WhatToShow::Aggtrades
            }
        );
        // Overrides: a six-letter stock, a forex pair on BID, a European listing.
        let mut o = HashMap::new();
        o.insert(
            "GOOGLE".to_owned(),
            ContractOverride {
                kind: Some("stock".into()),
                ..Default::default()
            },
        );
        o.insert(
            "GBPUSD".to_owned(),
            ContractOverride {
                what_to_show: Some(WhatToShow::Bid),
                ..Default::default()
            },
        );
        o.insert(
            "SAP".to_owned(),
            ContractOverride {
                exchange: Some("IBIS".into()),
                currency: Some("EUR".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            ContractSpec::for_symbol("GOOGLE", &o).unwrap().key(),
            "STK:GOOGLE"
        );
        assert_eq!(
            ContractSpec::for_symbol("GBPUSD", &o)
                .unwrap()
                .what_to_show(),
            WhatToShow::Bid
        );
        assert!(matches!(
            ContractSpec::for_symbol("SAP", &o).unwrap(),
            ContractSpec::Stock { exchange, currency, .. } if exchange == "IBIS" && currency == "EUR"
        ));
        o.insert(
            "AAPL".to_owned(),
            ContractOverride {
                kind: Some("forex".into()),
                ..Default::default()
            },
        );
        assert!(ContractSpec::for_symbol("AAPL", &o).is_err());
    }

    #[test]
    fn every_timeframe_has_a_bar_size() {
        let sizes: Vec<&str> = Timeframe::ALL.iter().map(|t| bar_size(*t)).collect();
        assert_eq!(
            sizes,
            [
                "1 min", "5 mins", "15 mins", "30 mins", "1 hour", "2 hours", "4 hours", "1 day",
                "1 week", "1 month"
            ]
        );
    }

    #[test]
    fn durations_cover_the_span_in_ib_units() {
        assert_eq!(covering(Duration::hours(6)), IbDuration::Seconds(21_600));
        assert_eq!(covering(Duration::days(1)), IbDuration::Seconds(86_400));
        assert_eq!(covering(Duration::hours(25)), IbDuration::Days(2));
        assert_eq!(covering(Duration::days(365)), IbDuration::Days(365));
        assert_eq!(covering(Duration::days(400)), IbDuration::Years(2));
        assert_eq!(IbDuration::Days(30).to_string(), "30 D");
    }

    /// Ranges longer than IB serves are cut at its limit for the bar size; each chunk's duration
    /// covers it and stays within the limit.
    #[test]
    fn ranges_crossing_the_limits_are_cut() {
        for tf in Timeframe::ALL {
            let (start, end) = (t(2020, 1, 1), t(2023, 7, 1));
            let c = chunks(tf, start, end);
            assert_eq!(c.first().unwrap().start, start);
            assert_eq!(c.last().unwrap().end, end);
            for w in c.windows(2) {
                assert_eq!(w[0].end, w[1].start, "{tf}: contiguous");
            }
            for ch in &c {
                assert!(ch.end - ch.start <= tf.max_request_span(), "{tf}");
                let covered = match ch.duration {
                    IbDuration::Seconds(n) => Duration::seconds(n.into()),
                    IbDuration::Days(n) => Duration::days(n.into()),
                    IbDuration::Weeks(n) => Duration::weeks(n.into()),
                    IbDuration::Years(n) => Duration::days(365 * i64::from(n)),
                };
                assert!(covered >= ch.end - ch.start, "{tf}: {ch:?}");
                assert!(
                    covered <= tf.max_request_span().max(Duration::days(365)),
                    "{tf}: {ch:?}"
                );
            }
        }
        // Within the limit: one request.
        assert_eq!(chunks(Timeframe::D1, t(2020, 1, 1), t(2020, 6, 1)).len(), 1);
        assert_eq!(chunks(Timeframe::M1, t(2020, 1, 1), t(2020, 1, 4)).len(), 3);
        assert!(chunks(Timeframe::H1, t(2020, 1, 1), t(2020, 1, 1)).is_empty());
    }

    #[test]
    fn error_162_is_split_three_ways() {
        assert_eq!(
            classify_162("Historical Market Data Service error message:Historical data request pacing violation"),
            Error162::Pacing
        );
        assert_eq!(
            classify_162("Historical Market Data Service error message:HMDS query returned no data: AAPL@SMART Trades"),
            Error162::NoData
        );
        assert_eq!(
            classify_162("Historical Market Data Service error message:No market data permissions for NYSE STK"),
            Error162::Other
        );
    }
}
