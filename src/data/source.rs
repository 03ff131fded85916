//! Where a load fetches bars: the IB host service over HTTP (`USE_IB_HOST_SERVICE=true`), or
//! a provider in-process. Same interface either way.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ktrdr_actors::host_client::{HostClient, HostServiceError};
use ktrdr_core::protocol::ib::{HeadTimestampAnswer, HistoricalAnswer, HistoricalRequest};

use crate::data::provider::BarProvider;
use ktrdr_core::bars::Bars;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// A fetch that failed, with the text to show the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// The host's own message when it sent one (`detail` of its error envelope).
fn host_error(e: HostServiceError) -> SourceError {
    if let HostServiceError::Status {
        status,
        body,
        service,
        ..
    } = &e
    {
        if let Some(detail) = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
        {
            return SourceError(format!("{service} ({status}): {detail}"));
        }
    }
    SourceError(e.to_string())
}

/// The bar source of a load (see the module docs).
#[derive(Clone)]
pub enum BarSource {
    Host(HostClient),
    Local(Arc<dyn BarProvider>),
}

impl BarSource {
    /// Bars in `[start, end)`.
    pub async fn historical(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Bars, SourceError> {
        match self {
            Self::Host(client) => {
                let answer: HistoricalAnswer = client
                    .post_as(
                        "/data/historical",
                        &HistoricalRequest::new(symbol, timeframe, start, end),
                    )
                    .await
                    .map_err(host_error)?;
                Ok(answer.bars)
            }
            Self::Local(provider) => provider
                .historical(symbol.clone(), timeframe, start, end)
                .await
                .map_err(|e| SourceError(e.to_string())),
        }
    }

    /// The first available bar's time.
    pub async fn head_timestamp(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
    ) -> Result<Option<DateTime<Utc>>, SourceError> {
        match self {
            Self::Host(client) => {
                let answer: HeadTimestampAnswer = client
                    .get_as(&format!(
                        "/data/head-timestamp?symbol={symbol}&timeframe={timeframe}"
                    ))
                    .await
                    .map_err(host_error)?;
                Ok(answer.head_timestamp)
            }
            Self::Local(provider) => provider
                .head_timestamp(symbol.clone(), timeframe)
                .await
                .map_err(|e| SourceError(e.to_string())),
        }
    }
}
