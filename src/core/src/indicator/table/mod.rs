//! The registry's entries, by category file. [`all`] is the one table every reader uses.

mod momentum;
mod trend;
mod volatility;
mod volume;

use super::registry::*;

/// Every indicator, in the original's list order within each file.
pub fn all() -> impl Iterator<Item = &'static IndicatorSpec> {
    trend::SPECS
        .iter()
        .chain(momentum::SPECS)
        .chain(volatility::SPECS)
        .chain(volume::SPECS)
}

/// The indicator answering to `name` (its id, short name or an alias; any case, `_` ignored).
pub fn find(name: &str) -> Option<&'static IndicatorSpec> {
    let key = fold(name);
    all().find(|s| s.names().any(|n| fold(n) == key))
}

fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// An integer parameter (bounds inclusive).
pub(super) const fn int(
    name: &'static str,
    default: i64,
    min: i64,
    max: i64,
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Int { default, min, max },
        description,
    }
}

/// A number parameter (bounds inclusive).
pub(super) const fn float(
    name: &'static str,
    default: f64,
    min: f64,
    max: f64,
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Float { default, min, max },
        description,
    }
}

/// The `source` parameter: which price column the indicator reads.
pub(super) const fn source(default: &'static str) -> ParamSpec {
    ParamSpec {
        name: "source",
        kind: ParamKind::Source { default },
        description: "Price column to read (open, high, low, close or volume)",
    }
}
