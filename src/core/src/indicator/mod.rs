//! Indicators: the registry (one table of every indicator: names, parameters with the
//! original's defaults and ranges, output columns, compute function), the arithmetic on plain
//! slices, and [`Indicator`], one configured in a strategy. The polars glue that feeds bars
//! from frames lives with the server (`ktrdr::training::indicators`).

pub mod math;
pub mod registry;
mod table;

use std::collections::BTreeMap;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_yaml::Value as Yaml;

use crate::bars::Bars;
use crate::error::StrategyError;
pub use registry::*;
pub use table::{all, find};

/// One configured indicator: which one, its checked parameters and its feature id.
#[derive(Debug, Clone)]
pub struct Indicator {
    pub feature_id: String,
    pub spec: &'static IndicatorSpec,
    pub params: Params,
}

impl PartialEq for Indicator {
    fn eq(&self, other: &Self) -> bool {
        self.feature_id == other.feature_id
            && self.spec.id == other.spec.id
            && self.params == other.params
    }
}

impl Serialize for Indicator {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Indicator", 3)?;
        st.serialize_field("feature_id", &self.feature_id)?;
        st.serialize_field("type", self.spec.id)?;
        st.serialize_field("params", &self.params)?;
        st.end()
    }
}

impl Indicator {
    /// Builds an indicator from its YAML entry (`name` and parameters); a mistake names its
    /// path (`indicators[3].period: must be >= 2`).
    pub fn from_params(
        name: &str,
        feature_id: &str,
        params: &BTreeMap<String, Yaml>,
        path: &str,
    ) -> Result<Self, StrategyError> {
        let Some(spec) = find(name) else {
            return Err(StrategyError {
                path: format!("{path}.name"),
                reason: format!(
                    "unknown indicator {name:?} (`ktrdr indicators list` shows the {} known ones)",
                    all().count()
                ),
            });
        };
        let params = spec
            .params(params.iter().map(|(k, v)| (k.as_str(), RawValue::from(v))))
            .map_err(|e| StrategyError {
                path: format!("{path}.{}", e.param),
                reason: e.reason,
            })?;
        Ok(Self {
            feature_id: feature_id.to_owned(),
            spec,
            params,
        })
    }

    /// The names of the columns this indicator adds as features; the first is the primary
    /// output (the feature id itself), the others `feature_id.<suffix>`.
    pub fn output_names(&self) -> Vec<String> {
        self.spec.feature_columns(&self.feature_id, &self.params)
    }

    /// Computes the outputs, in `output_names` order.
    pub fn compute(&self, bars: &Bars) -> Vec<Vec<f64>> {
        (self.spec.compute)(&self.params, bars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_mistakes_name_their_path() {
        let mut params = BTreeMap::new();
        params.insert("perod".into(), Yaml::from(14));
        let e = Indicator::from_params("rsi", "r", &params, "indicators[1]").unwrap_err();
        assert_eq!(e.path, "indicators[1].perod");
        params.clear();
        params.insert("period".into(), Yaml::from(0));
        let e = Indicator::from_params("rsi", "r", &params, "indicators[3]").unwrap_err();
        assert_eq!(e.to_string(), "indicators[3].period: must be >= 2");
        let e = Indicator::from_params("nope", "r", &BTreeMap::new(), "indicators[2]").unwrap_err();
        assert_eq!(e.path, "indicators[2].name");
    }

    /// Every name of every entry finds that entry (and no other), and its defaults pass its
    /// own checks and give as many columns as suffixes.
    #[test]
    fn every_name_finds_its_own_entry() {
        let bars = Bars::default();
        for spec in all() {
            for name in spec.names() {
                assert_eq!(find(name).map(|s| s.id), Some(spec.id), "{name}");
                assert_eq!(find(&name.to_uppercase()).map(|s| s.id), Some(spec.id));
            }
            let p = spec.defaults();
            let columns = (spec.columns)(&p);
            assert!(columns.len() <= spec.suffixes.len(), "{}", spec.id);
            let out = (spec.compute)(&p, &bars);
            assert_eq!(out.len(), columns.len(), "{}", spec.id);
        }
        assert!(find("no_such_indicator").is_none());
    }
}
