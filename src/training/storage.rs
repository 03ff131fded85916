//! Model folders: `models/{strategy}/{timeframe}_v{N}/` holding `model.pt` (tch weights),
//! `config.json` (the strategy), `features.json` (feature names and scaler), `metrics.json`
//! and `metadata.json`. A folder is written under a temporary name and renamed when complete,
//! so a listed model is always whole; N is one more than the highest version present.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tch::Device;

use super::features::Scaler;
use super::model::Mlp;
use ktrdr_core::strategy::Strategy;

/// What a model folder's JSON files hold (besides the weights).
pub struct ModelFiles<'a> {
    pub strategy: &'a Strategy,
    pub strategy_yaml: &'a str,
    pub feature_names: &'a [String],
    pub scaler: Option<&'a Scaler>,
    pub metrics: Value,
    pub metadata: Value,
}

/// Why a model folder could not be written or read. Files are named relative to the models
/// folder: messages reach API clients.
#[derive(Debug, thiserror::Error)]
pub enum ModelStoreError {
    /// The file system refused.
    #[error("model store: {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    /// A file of the folder is missing a part or does not parse.
    #[error("model file {file} is unreadable: {reason}")]
    Unreadable { file: String, reason: String },
    /// The weights could not be saved or loaded.
    #[error("model weights {file}: {reason}")]
    Weights { file: String, reason: String },
    /// Concurrent saves kept taking every version number tried.
    #[error("could not pick a version folder under {0}")]
    NoVersion(String),
}

/// `path` as the last two parts (`{strategy}/{file}` or `{tf}_v{N}/{file}`).
fn short(path: &Path) -> String {
    let parts: Vec<String> = path
        .iter()
        .rev()
        .take(2)
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ModelStoreError + '_ {
    move |source| ModelStoreError::Io {
        file: short(path),
        source,
    }
}

/// The next version number under `models/{strategy}` for `timeframe`.
fn next_version(dir: &Path, timeframe: &str) -> u32 {
    let prefix = format!("{timeframe}_v");
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix(&prefix)?
                .parse::<u32>()
                .ok()
        })
        .max()
        .unwrap_or(0)
        + 1
}

/// Saves a trained model; returns its folder.
pub fn save(
    models_dir: &Path,
    model: &Mlp,
    files: &ModelFiles,
) -> Result<PathBuf, ModelStoreError> {
    let s = files.strategy;
    let dir = models_dir.join(&s.name);
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let tf = s.base_timeframe.as_str();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp_{}_{n}", std::process::id()));
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let write = || -> Result<PathBuf, ModelStoreError> {
        model
            .save(&tmp.join("model.pt"))
            .map_err(|e| ModelStoreError::Weights {
                file: "model.pt".into(),
                reason: e.to_string(),
            })?;
        let json_file = |name: &str, v: &Value| -> Result<(), ModelStoreError> {
            let p = tmp.join(name);
            let text =
                serde_json::to_string_pretty(v).map_err(|e| ModelStoreError::Unreadable {
                    file: name.to_owned(),
                    reason: e.to_string(),
                })?;
            fs::write(&p, text).map_err(io(&p))
        };
        json_file(
            "config.json",
            &json!({
                "strategy": s,
                "strategy_yaml": files.strategy_yaml,
                "input_size": files.feature_names.len(),
            }),
        )?;
        json_file(
            "features.json",
            &json!({
                "feature_names": files.feature_names,
                "lookback_periods": s.model.features.lookback_periods,
                "scaler": files.scaler,
            }),
        )?;
        json_file("metrics.json", &files.metrics)?;
        // Two runs finishing at once may pick the same N: the rename fails for the second, which
        // then takes the next number.
        for _ in 0..100 {
            let version = next_version(&dir, tf);
            let mut meta = files.metadata.clone();
            meta["version"] = json!(version);
            json_file("metadata.json", &meta)?;
            let target = dir.join(format!("{tf}_v{version}"));
            if !target.exists() && fs::rename(&tmp, &target).is_ok() {
                return Ok(target);
            }
        }
        Err(ModelStoreError::NoVersion(s.name.clone()))
    };
    let result = write();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// A stored model, loaded back.
pub struct StoredModel {
    pub model: Mlp,
    pub feature_names: Vec<String>,
    pub scaler: Option<Scaler>,
    pub strategy: Value,
}

/// Loads a model folder written by [`save`].
pub fn load(dir: &Path, device: Device) -> Result<StoredModel, ModelStoreError> {
    let unreadable = |file: &str, reason: String| ModelStoreError::Unreadable {
        file: short(&dir.join(file)),
        reason,
    };
    let read = |name: &str| -> Result<Value, ModelStoreError> {
        let p = dir.join(name);
        let text = fs::read_to_string(&p).map_err(io(&p))?;
        serde_json::from_str(&text).map_err(|e| unreadable(name, e.to_string()))
    };
    let config = read("config.json")?;
    let features = read("features.json")?;
    let yaml = config["strategy_yaml"]
        .as_str()
        .ok_or_else(|| unreadable("config.json", "no strategy_yaml".into()))?;
    let strategy =
        Strategy::from_yaml(yaml).map_err(|e| unreadable("config.json", e.to_string()))?;
    let feature_names: Vec<String> = serde_json::from_value(features["feature_names"].clone())
        .map_err(|e| unreadable("features.json", e.to_string()))?;
    let scaler: Option<Scaler> = serde_json::from_value(features["scaler"].clone())
        .map_err(|e| unreadable("features.json", e.to_string()))?;
    let model = Mlp::load(
        &dir.join("model.pt"),
        feature_names.len(),
        &strategy.model.architecture,
        device,
    )
    .map_err(|e| ModelStoreError::Weights {
        file: short(&dir.join("model.pt")),
        reason: e.to_string(),
    })?;
    Ok(StoredModel {
        model,
        feature_names,
        scaler,
        strategy: config["strategy"].clone(),
    })
}

impl StoredModel {
    /// Class probabilities for unscaled feature rows (the stored scaler is applied).
    pub fn predict(&self, rows: &[f32]) -> Vec<[f32; 3]> {
        let mut x = rows.to_vec();
        if let Some(s) = &self.scaler {
            s.apply(&mut x);
        }
        self.model.predict(&x)
    }
}

/// Every complete model folder's `metadata.json` (with its path), newest version last per
/// strategy and timeframe.
/// A model folder as API answers name it: relative to the models folder
/// (`neuro_mean_reversion/1d_v2`), never a path of this machine.
pub fn relative(models_dir: &Path, folder: &Path) -> String {
    folder
        .strip_prefix(models_dir)
        .unwrap_or(folder)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

pub fn list(models_dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    let Ok(strategies) = fs::read_dir(models_dir) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = strategies
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|e| fs::read_dir(e.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
                && p.join("metadata.json").is_file()
        })
        .collect();
    dirs.sort_by_key(|p| {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        let (tf, v) = name.rsplit_once("_v").unwrap_or((&name, "0"));
        (
            p.parent().map(Path::to_path_buf),
            tf.to_owned(),
            v.parse::<u32>().unwrap_or(0),
        )
    });
    for d in dirs {
        let Ok(text) = fs::read_to_string(d.join("metadata.json")) else {
            continue;
        };
        let Ok(mut meta) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        meta["model_path"] = json!(relative(models_dir, &d));
        out.push(meta);
    }
    out
}
