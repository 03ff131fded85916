//! Bar sizes and symbols, parsed once at the edge.

use std::fmt;
use std::str::FromStr;

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// A bar size. `1M` (monthly) is not supported yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Timeframe {
    M1,
    M5,
    M15,
    M30,
    H1,
    H2,
    H4,
    D1,
    W1,
    /// Monthly bars (KTRDR's `1M`), dated by a day of their month (vendors use the month's
    /// first or last day).
    MN1,
}

/// A timeframe outside the supported list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timeframe {0:?}: expected one of 1m, 5m, 15m, 30m, 1h, 2h, 4h, 1d, 1w, 1M")]
pub struct TimeframeError(pub String);

impl Timeframe {
    pub const ALL: [Timeframe; 10] = [
        Self::M1,
        Self::M5,
        Self::M15,
        Self::M30,
        Self::H1,
        Self::H2,
        Self::H4,
        Self::D1,
        Self::W1,
        Self::MN1,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::M1 => "1m",
            Self::M5 => "5m",
            Self::M15 => "15m",
            Self::M30 => "30m",
            Self::H1 => "1h",
            Self::H2 => "2h",
            Self::H4 => "4h",
            Self::D1 => "1d",
            Self::W1 => "1w",
            Self::MN1 => "1M",
        }
    }

    /// Length of one bar.
    pub fn duration(self) -> Duration {
        match self {
            Self::M1 => Duration::minutes(1),
            Self::M5 => Duration::minutes(5),
            Self::M15 => Duration::minutes(15),
            Self::M30 => Duration::minutes(30),
            Self::H1 => Duration::hours(1),
            Self::H2 => Duration::hours(2),
            Self::H4 => Duration::hours(4),
            Self::D1 => Duration::days(1),
            Self::W1 => Duration::weeks(1),
            // Nominal: months are 28-31 days; the gap analysis allows for that.
            Self::MN1 => Duration::days(30),
        }
    }

    /// The longest range IB serves in one historical request for this bar size.
    pub fn max_request_span(self) -> Duration {
        match self {
            Self::M1 => Duration::days(1),
            Self::M5 => Duration::days(7),
            Self::M15 => Duration::days(14),
            Self::M30 | Self::H1 | Self::H2 => Duration::days(30),
            Self::H4 => Duration::days(120),
            Self::D1 => Duration::days(365),
            Self::W1 => Duration::days(730),
            Self::MN1 => Duration::days(3650),
        }
    }

    /// Daily and weekly bars are dated by their trading day, not a time of day.
    pub fn is_daily_or_longer(self) -> bool {
        matches!(self, Self::D1 | Self::W1 | Self::MN1)
    }

    /// Name and description as `GET /api/v1/timeframes` shows them.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Self::M1 => ("1 Minute", "One-minute interval data"),
            Self::M5 => ("5 Minutes", "Five-minute interval data"),
            Self::M15 => ("15 Minutes", "Fifteen-minute interval data"),
            Self::M30 => ("30 Minutes", "Thirty-minute interval data"),
            Self::H1 => ("1 Hour", "One-hour interval data"),
            Self::H2 => ("2 Hours", "Two-hour interval data"),
            Self::H4 => ("4 Hours", "Four-hour interval data"),
            Self::D1 => ("Daily", "Daily interval data"),
            Self::W1 => ("Weekly", "Weekly interval data"),
            Self::MN1 => ("Monthly", "Monthly interval data"),
        }
    }
}

impl FromStr for Timeframe {
    type Err = TimeframeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| TimeframeError(s.to_owned()))
    }
}

impl TryFrom<String> for Timeframe {
    type Error = TimeframeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Timeframe> for String {
    fn from(t: Timeframe) -> String {
        t.as_str().to_owned()
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ticker: `^[A-Za-z0-9.\-]{1,16}$`, so it can never name a path outside the data folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(String);

/// A symbol with characters or a length outside what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid symbol {0:?}: expected 1-16 letters, digits, '.' or '-'")]
pub struct SymbolError(pub String);

impl Symbol {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=16).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && s != "."
            && s != "..";
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(SymbolError(s.to_owned()))
        }
    }
}

impl TryFrom<String> for Symbol {
    type Error = SymbolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> String {
        s.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every listed timeframe round-trips; others are refused with the list.
    #[test]
    fn timeframe_parse() {
        for t in Timeframe::ALL {
            assert_eq!(t.as_str().parse::<Timeframe>().unwrap(), t);
        }
        let err = "3h".parse::<Timeframe>().unwrap_err().to_string();
        assert!(
            err.contains("1m, 5m, 15m, 30m, 1h, 2h, 4h, 1d, 1w"),
            "{err}"
        );
        assert!("1H".parse::<Timeframe>().is_err());
    }

    /// IB's request limits per bar size.
    #[test]
    fn request_spans() {
        assert_eq!(Timeframe::M1.max_request_span(), Duration::days(1));
        assert_eq!(Timeframe::H1.max_request_span(), Duration::days(30));
        assert_eq!(Timeframe::D1.max_request_span(), Duration::days(365));
        assert_eq!(Timeframe::W1.max_request_span(), Duration::days(730));
    }

    /// Symbols that could escape the data folder or are too long are refused.
    #[test]
    fn symbol_validation() {
        for ok in ["AAPL", "EUR.USD", "BRK-B", "GOOG", "a1"] {
            assert!(ok.parse::<Symbol>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "..",
            ".",
            "../etc",
            "A/B",
            "AAPL ",
            "ABCDEFGHIJKLMNOPQ",
            "A_B",
        ] {
            assert!(bad.parse::<Symbol>().is_err(), "{bad}");
        }
    }
}
