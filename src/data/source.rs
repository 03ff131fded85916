//! Where a load fetches bars: the IB host service over HTTP (`USE_IB_HOST_SERVICE=true`), or
//! a provider in-process. Same interface either way.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ktrdr_actors::host_client::{HostClient, HostServiceError};
use ktrdr_core::protocol::ib::{
    HeadTimestampAnswer, HealthAnswer, HistoricalAnswer, HistoricalRequest,
};

use crate::data::provider::{describe, BarProvider, ProviderError};
use ktrdr_core::bars::Bars;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Why a fetch failed; its text is shown to the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// The host service refused with its own reason (`detail` of its error envelope).
    #[error("{service} ({status}): {detail}")]
    Refused {
        service: String,
        status: u16,
        detail: String,
    },
    /// The host service could not be used (down, timed out, unreadable answer).
    #[error("{0}")]
    Host(HostServiceError),
    /// The in-process provider could not answer.
    #[error("{0}")]
    Provider(#[from] ProviderError),
    /// The answer arrived but cannot be bars of what was asked.
    #[error("malformed {timeframe} answer: {reason}")]
    Malformed {
        timeframe: Timeframe,
        reason: String,
    },
}

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
            return SourceError::Refused {
                service: service.clone(),
                status: *status,
                detail,
            };
        }
    }
    SourceError::Host(e)
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
                .map_err(SourceError::from),
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
                .map_err(SourceError::from),
        }
    }

    /// The source's state, as the IB host service's `/health/detailed` gives it: status,
    /// provider, the gateway link and pacing when it is IB, request counts when remote.
    pub async fn health(&self) -> Result<HealthAnswer, SourceError> {
        match self {
            Self::Host(client) => client.get_as("/health/detailed").await.map_err(host_error),
            Self::Local(provider) => Ok(describe(provider.as_ref(), "in-process")),
        }
    }
}
