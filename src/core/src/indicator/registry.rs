//! The indicator registry: one table of every indicator (its id, the names strategies and the
//! API accept, its category, parameters with defaults and ranges, output columns, and the
//! function that computes it). The list route, the strategy loader, the calculate route and
//! the CLI all read this table; adding an indicator is one entry (in `table/`) and one
//! function (in `math/`).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::bars::Bars;

/// The original's indicator categories (its `type` field and `/indicators/categories`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Trend,
    Momentum,
    Volatility,
    Volume,
    SupportResistance,
    MultiPurpose,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Trend,
        Category::Momentum,
        Category::Volatility,
        Category::Volume,
        Category::SupportResistance,
        Category::MultiPurpose,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Trend => "trend",
            Category::Momentum => "momentum",
            Category::Volatility => "volatility",
            Category::Volume => "volume",
            Category::SupportResistance => "support_resistance",
            Category::MultiPurpose => "multi_purpose",
        }
    }
}

/// What the original's `/indicators/categories` says of a category.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CategoryInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub purpose: &'static str,
    pub typical_usage: &'static str,
    pub common_timeframes: &'static [&'static str],
}

impl Category {
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn info(self) -> CategoryInfo {
        let (name, description, purpose, typical_usage, common_timeframes): (
            _,
            _,
            _,
            _,
            &'static [&'static str],
        ) = match self {
            Category::Trend => (
                "Trend Indicators",
                "Indicators that identify the direction and strength of price trends",
                "Determine if the market is trending up, down, or sideways",
                "Entry/exit signals, trend confirmation, support/resistance identification",
                &["1h", "4h", "1d", "1w"],
            ),
            Category::Momentum => (
                "Momentum Indicators",
                "Oscillators that measure the speed and strength of price movements",
                "Identify overbought/oversold conditions and trend reversals",
                "Reversal signals, divergence analysis, confirmation of trends",
                &["15m", "1h", "4h", "1d"],
            ),
            Category::Volatility => (
                "Volatility Indicators",
                "Indicators that measure the degree of price variation and market uncertainty",
                "Assess market volatility and potential price breakouts",
                "Risk management, position sizing, breakout identification",
                &["1h", "4h", "1d"],
            ),
            Category::Volume => (
                "Volume Indicators",
                "Indicators that analyze trading volume to confirm price movements",
                "Validate price trends through volume analysis",
                "Trend confirmation, accumulation/distribution detection",
                &["1h", "4h", "1d"],
            ),
            Category::SupportResistance => (
                "Support & Resistance",
                "Indicators that identify key price levels and market structure",
                "Find significant price levels where reversals might occur",
                "Entry/exit levels, stop-loss placement, target identification",
                &["4h", "1d", "1w"],
            ),
            Category::MultiPurpose => (
                "Multi-Purpose Indicators",
                "Versatile indicators that can serve multiple analysis purposes",
                "Provide comprehensive market analysis across different dimensions",
                "Flexible analysis, confirmation across multiple timeframes",
                &["1h", "4h", "1d"],
            ),
        };
        CategoryInfo {
            name,
            description,
            purpose,
            typical_usage,
            common_timeframes,
        }
    }
}

/// A parameter's type, default and allowed values (bounds inclusive).
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    Int {
        default: i64,
        min: i64,
        max: i64,
    },
    Float {
        default: f64,
        min: f64,
        max: f64,
    },
    /// A price column: one of [`SOURCES`].
    Source {
        default: &'static str,
    },
    /// One of a fixed list of words.
    Choice {
        default: &'static str,
        options: &'static [&'static str],
    },
    Bool {
        default: bool,
    },
}

/// The price columns a `source` parameter may name.
pub const SOURCES: &[&str] = &["open", "high", "low", "close", "volume"];

#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub description: &'static str,
}

/// A parameter's value once checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            // Python's str(float): 2.0 stays "2.0" (the original's column names use it).
            ParamValue::Float(x) if x.fract() == 0.0 && x.abs() < 1e16 => write!(f, "{x:.1}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Str(s) => f.write_str(s),
            ParamValue::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
        }
    }
}

/// An indicator's parameters, every one present (defaults filled in) and within its range.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<&'static str, ParamValue>);

impl Params {
    fn get(&self, name: &str) -> &ParamValue {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("indicator parameter {name:?} is not in its spec"))
    }

    /// An `Int` parameter (ranges keep the ones used as lengths >= 1).
    pub fn usize(&self, name: &str) -> usize {
        match self.get(name) {
            ParamValue::Int(i) => (*i).max(0) as usize,
            other => panic!("indicator parameter {name:?} is {other:?}, not an int"),
        }
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            ParamValue::Int(i) => *i,
            other => panic!("indicator parameter {name:?} is {other:?}, not an int"),
        }
    }

    pub fn f64(&self, name: &str) -> f64 {
        match self.get(name) {
            ParamValue::Float(x) => *x,
            ParamValue::Int(i) => *i as f64,
            other => panic!("indicator parameter {name:?} is {other:?}, not a number"),
        }
    }

    pub fn str(&self, name: &str) -> &str {
        match self.get(name) {
            ParamValue::Str(s) => s,
            other => panic!("indicator parameter {name:?} is {other:?}, not a string"),
        }
    }

    pub fn bool(&self, name: &str) -> bool {
        match self.get(name) {
            ParamValue::Bool(b) => *b,
            other => panic!("indicator parameter {name:?} is {other:?}, not a bool"),
        }
    }

    /// The column named by the `source` parameter.
    pub fn source<'b>(&self, bars: &'b Bars) -> &'b [f64] {
        source_column(bars, self.str("source"))
    }

    /// The parameter as the original writes it in column names (`2.0` for a float 2).
    pub fn show(&self, name: &str) -> String {
        self.get(name).to_string()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &ParamValue)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }
}

/// A price column by name (one of [`SOURCES`]).
pub fn source_column<'b>(bars: &'b Bars, name: &str) -> &'b [f64] {
    match name {
        "open" => &bars.open,
        "high" => &bars.high,
        "low" => &bars.low,
        "volume" => &bars.volume,
        _ => &bars.close,
    }
}

/// A parameter that failed its check: which one and why ("must be >= 2").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: String,
    pub reason: String,
}

impl ParamError {
    pub fn new(param: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            param: param.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.param, self.reason)
    }
}

/// One indicator: everything the routes, the strategy loader and the engine need.
pub struct IndicatorSpec {
    /// The original's class name (`RSIIndicator`), the `id` of its API.
    pub id: &'static str,
    /// The original's short name (`RSI`), also accepted as a name.
    pub name: &'static str,
    /// Other names accepted (any case), as the original's factory and strategy files use them
    /// (`rsi`, `bbands`, `williamsR`...). `id` and `name` need not be repeated.
    pub aliases: &'static [&'static str],
    /// Names the original lists under its category besides `id` and `name`
    /// (`AverageDirectionalIndex`).
    pub listed_aliases: &'static [&'static str],
    pub category: Category,
    pub description: &'static str,
    pub params: &'static [ParamSpec],
    /// Rules across parameters (`fast_period` < `slow_period`), after each is in range.
    pub check: fn(&Params) -> Result<(), ParamError>,
    /// The columns it computes, as the original's API names them (`ADX_14`, `DI_Plus_14`...),
    /// in the order `compute` returns them; the first is the primary output.
    pub columns: fn(&Params) -> Vec<String>,
    /// The same outputs as strategies name them: the primary is the feature id itself, each
    /// other is `feature_id.<suffix>` (`macd.signal`). Same order as `columns`; as long as the
    /// most columns any parameters give (optional outputs come last).
    pub suffixes: &'static [&'static str],
    /// Fewest bars the computation needs; fewer is an "insufficient data" error.
    pub min_bars: fn(&Params) -> usize,
    /// The outputs, one `Vec` per column, each as long as `bars`; NaN where undefined
    /// (warm-up rows).
    pub compute: fn(&Params, &Bars) -> Vec<Vec<f64>>,
}

impl fmt::Debug for IndicatorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndicatorSpec")
            .field("id", &self.id)
            .finish()
    }
}

/// No rule across parameters.
pub fn no_check(_: &Params) -> Result<(), ParamError> {
    Ok(())
}

/// A value given for a parameter, before checking: what YAML, JSON and the CLI can hold.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    /// Anything else (a list, a map, null), named for the error.
    Other(&'static str),
}

impl From<&serde_json::Value> for RawValue {
    fn from(v: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        match v {
            J::Bool(b) => RawValue::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => RawValue::Int(i),
                None => RawValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => RawValue::Str(s.clone()),
            J::Null => RawValue::Other("null"),
            J::Array(_) => RawValue::Other("a list"),
            J::Object(_) => RawValue::Other("a map"),
        }
    }
}

impl From<&serde_yaml::Value> for RawValue {
    fn from(v: &serde_yaml::Value) -> Self {
        use serde_yaml::Value as Y;
        match v {
            Y::Bool(b) => RawValue::Bool(*b),
            Y::Number(n) => match n.as_i64() {
                Some(i) => RawValue::Int(i),
                None => RawValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Y::String(s) => RawValue::Str(s.clone()),
            Y::Null => RawValue::Other("null"),
            Y::Sequence(_) => RawValue::Other("a list"),
            Y::Mapping(_) => RawValue::Other("a map"),
            Y::Tagged(_) => RawValue::Other("a tagged value"),
        }
    }
}

impl IndicatorSpec {
    /// Checks `given` against the spec: unknown names, types, ranges, then the cross rules.
    /// Missing parameters take their defaults.
    pub fn params<'a>(
        &self,
        given: impl IntoIterator<Item = (&'a str, RawValue)>,
    ) -> Result<Params, ParamError> {
        let mut out = BTreeMap::new();
        for (name, raw) in given {
            let Some(spec) = self.params.iter().find(|p| p.name == name) else {
                let takes: Vec<&str> = self.params.iter().map(|p| p.name).collect();
                return Err(ParamError::new(
                    name,
                    if takes.is_empty() {
                        format!("unknown parameter: {} takes none", self.name)
                    } else {
                        format!(
                            "unknown parameter for {} (it takes: {})",
                            self.name,
                            takes.join(", ")
                        )
                    },
                ));
            };
            out.insert(spec.name, check_value(spec, raw)?);
        }
        for spec in self.params {
            out.entry(spec.name).or_insert_with(|| default_value(spec));
        }
        let params = Params(out);
        (self.check)(&params)?;
        Ok(params)
    }

    /// The spec's defaults.
    pub fn defaults(&self) -> Params {
        self.params(std::iter::empty())
            .expect("an indicator's defaults pass its own checks")
    }

    /// Every name this indicator answers to.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        [self.id, self.name]
            .into_iter()
            .chain(self.aliases.iter().copied())
            .chain(self.listed_aliases.iter().copied())
    }

    /// Output names for a strategy feature: `feature_id`, then `feature_id.<suffix>`, one per
    /// column these parameters give.
    pub fn feature_columns(&self, feature_id: &str, params: &Params) -> Vec<String> {
        let n = (self.columns)(params).len();
        self.suffixes
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, s)| {
                if i == 0 {
                    feature_id.to_owned()
                } else {
                    format!("{feature_id}.{s}")
                }
            })
            .collect()
    }
}

fn default_value(spec: &ParamSpec) -> ParamValue {
    match spec.kind {
        ParamKind::Int { default, .. } => ParamValue::Int(default),
        ParamKind::Float { default, .. } => ParamValue::Float(default),
        ParamKind::Source { default } | ParamKind::Choice { default, .. } => {
            ParamValue::Str(default.to_owned())
        }
        ParamKind::Bool { default } => ParamValue::Bool(default),
    }
}

fn check_value(spec: &ParamSpec, raw: RawValue) -> Result<ParamValue, ParamError> {
    let fail = |reason: String| Err(ParamError::new(spec.name, reason));
    match (spec.kind, raw) {
        (ParamKind::Int { min, max, .. }, RawValue::Int(i)) => {
            if i < min {
                fail(format!("must be >= {min}"))
            } else if i > max {
                fail(format!("must be <= {max}"))
            } else {
                Ok(ParamValue::Int(i))
            }
        }
        (ParamKind::Int { .. }, RawValue::Float(x)) => {
            fail(format!("must be a whole number (got {x})"))
        }
        (ParamKind::Float { .. }, RawValue::Int(i)) => check_value(spec, RawValue::Float(i as f64)),
        (ParamKind::Float { min, max, .. }, RawValue::Float(x)) => {
            if !x.is_finite() {
                fail("must be a finite number".into())
            } else if x < min {
                fail(format!("must be >= {min}"))
            } else if x > max {
                fail(format!("must be <= {max}"))
            } else {
                Ok(ParamValue::Float(x))
            }
        }
        (ParamKind::Source { .. }, RawValue::Str(s)) => {
            let lower = s.to_ascii_lowercase();
            if SOURCES.contains(&lower.as_str()) {
                Ok(ParamValue::Str(lower))
            } else {
                fail(format!("must be one of {} (got {s:?})", SOURCES.join(", ")))
            }
        }
        (ParamKind::Choice { options, .. }, RawValue::Str(s)) => {
            match options.iter().find(|o| o.eq_ignore_ascii_case(&s)) {
                Some(o) => Ok(ParamValue::Str((*o).to_owned())),
                None => fail(format!("must be one of {} (got {s:?})", options.join(", "))),
            }
        }
        (ParamKind::Bool { .. }, RawValue::Bool(b)) => Ok(ParamValue::Bool(b)),
        (kind, raw) => fail(format!(
            "must be {}, not {}",
            kind_word(kind),
            raw_word(&raw)
        )),
    }
}

fn kind_word(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Int { .. } => "an integer",
        ParamKind::Float { .. } => "a number",
        ParamKind::Source { .. } | ParamKind::Choice { .. } => "a string",
        ParamKind::Bool { .. } => "true or false",
    }
}

fn raw_word(raw: &RawValue) -> String {
    match raw {
        RawValue::Int(i) => format!("the integer {i}"),
        RawValue::Float(x) => format!("the number {x}"),
        RawValue::Str(s) => format!("the string {s:?}"),
        RawValue::Bool(b) => format!("{b}"),
        RawValue::Other(what) => (*what).to_owned(),
    }
}

/// The type word the original's list shows for a parameter.
pub fn type_name(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Int { .. } => "int",
        ParamKind::Float { .. } => "float",
        ParamKind::Source { .. } | ParamKind::Choice { .. } => "str",
        ParamKind::Bool { .. } => "bool",
    }
}
