//! Strategy files by name in a folder.

use std::path::{Path, PathBuf};

use super::{err, Strategy, StrategyError};

/// Why a named strategy could not be loaded from its folder. Messages name the strategy, never
/// the folder: they reach API clients.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategyFileError {
    /// The name is not a plain name, or no file has it.
    #[error("{}", .0.reason)]
    Name(StrategyError),
    /// The file exists but cannot be read.
    #[error("cannot read strategy {name}: {reason}")]
    Unreadable { name: String, reason: String },
    /// The file is not a valid strategy.
    #[error("invalid strategy: {file}: {error}")]
    Invalid { file: String, error: StrategyError },
}

/// A strategy loaded by name: its file, its text and the checked strategy.
#[derive(Debug, Clone)]
pub struct StrategyFile {
    pub path: PathBuf,
    pub yaml: String,
    pub strategy: Strategy,
}

/// Finds, reads and checks the strategy `name` in `dir` (blocking).
pub fn load(dir: &Path, name: &str) -> Result<StrategyFile, StrategyFileError> {
    let path = locate(dir, name).map_err(StrategyFileError::Name)?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let yaml = std::fs::read_to_string(&path).map_err(|e| StrategyFileError::Unreadable {
        name: name.to_owned(),
        reason: e.to_string(),
    })?;
    let strategy =
        Strategy::from_yaml(&yaml).map_err(|error| StrategyFileError::Invalid { file, error })?;
    Ok(StrategyFile {
        path,
        yaml,
        strategy,
    })
}

/// The file for a strategy name in `dir`: `{dir}/{name}.yaml` (or `.yml`). The name must be
/// a plain name, so a request cannot reach outside the folder.
pub fn locate(dir: &Path, name: &str) -> Result<PathBuf, StrategyError> {
    let stem = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name);
    if !valid_name(stem) {
        return Err(err(
            "strategy_name",
            format!("invalid strategy name {name:?}: use letters, digits, '_' and '-'"),
        ));
    }
    for ext in ["yaml", "yml"] {
        let p = dir.join(format!("{stem}.{ext}"));
        if p.is_file() {
            return Ok(p);
        }
    }
    let known: Vec<String> = list(dir).into_iter().map(|(n, _)| n).collect();
    Err(err(
        "strategy_name",
        format!(
            "strategy not found: {stem} (available: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ),
    ))
}

/// The strategy files in `dir`: (name, path), sorted by name.
pub fn list(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let ext = p.extension()?.to_str()?;
            if ext != "yaml" && ext != "yml" {
                return None;
            }
            Some((p.file_stem()?.to_str()?.to_owned(), p))
        })
        .collect();
    out.sort();
    out
}

pub(super) fn valid_name(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
