//! Settings: `config/default.toml` (compiled in), then an optional file named by
//! `KTRDR_CONFIG`, then environment variables. A bad value stops start-up with a message that
//! names the setting and the values it accepts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use figment::providers::{Format, Toml};
use figment::Figment;
use serde::Deserialize;

/// The defaults shipped in `config/default.toml`.
const DEFAULTS: &str = include_str!("../config/default.toml");

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An environment variable with a value outside what its setting accepts.
    #[error("invalid value {value:?} for {name}: expected {expected}")]
    InvalidEnv {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A settings file that does not parse or has an unknown key.
    #[error("invalid settings file {path}: {reason}")]
    InvalidFile { path: String, reason: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub operations: OperationSettings,
    pub ib_host_service: HostServiceSettings,
    pub training_host_service: HostServiceSettings,
    pub host_client: HostClientSettings,
    pub data: DataSettings,
    pub training: TrainingSettings,
    pub ib_gateway: IbGatewaySettings,
    pub paths: PathSettings,
    pub security: SecuritySettings,
}

/// Who may drive the servers (see `crate::http::guard`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// The backend's API token (clients send `Authorization: Bearer ...`); empty: none.
    pub api_token: String,
    /// A file holding the API token (used when `api_token` is empty).
    pub api_token_file: String,
    /// The token between the backend and the host services; empty: none.
    pub host_token: String,
    pub host_token_file: String,
    /// `Host` names accepted besides the loopback ones (DNS rebinding protection).
    pub allowed_hosts: Vec<String>,
    /// Web origins allowed to call the API (CORS) and open its websockets, besides its own.
    pub allowed_origins: Vec<String>,
}

impl SecuritySettings {
    fn token(value: &str, file: &str, name: &str) -> std::io::Result<Option<String>> {
        if !value.trim().is_empty() {
            return Ok(Some(value.trim().to_owned()));
        }
        if file.is_empty() {
            return Ok(None);
        }
        let t = std::fs::read_to_string(file).map_err(|e| {
            std::io::Error::new(e.kind(), format!("{name}: cannot read the token file: {e}"))
        })?;
        let t = t.trim().to_owned();
        Ok((!t.is_empty()).then_some(t))
    }

    /// The backend's API token.
    pub fn api_token(&self) -> std::io::Result<Option<String>> {
        Self::token(
            &self.api_token,
            &self.api_token_file,
            "KTRDR_API_TOKEN_FILE",
        )
    }

    /// The host services' token.
    pub fn host_token(&self) -> std::io::Result<Option<String>> {
        Self::token(
            &self.host_token,
            &self.host_token_file,
            "KTRDR_HOST_TOKEN_FILE",
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IbGatewaySettings {
    pub host: String,
    pub port: u16,
    pub client_id: i32,
    pub connect_timeout_secs: u64,
    pub request_timeout_secs: u64,
    /// Historical requests in flight at once.
    pub max_in_flight: usize,
    /// IB's pacing windows (10 min, 15 s, 2 s) and the 60 s back-off after a violation,
    /// times this: 1 is IB's own; tests scale them down.
    pub pacing_scale: f64,
    /// Per-symbol contract overrides.
    #[serde(default)]
    pub symbols: std::collections::HashMap<String, ktrdr_core::ib::ContractOverride>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSettings {
    /// Sessions the training host runs at once; more are refused with 503.
    pub max_sessions: usize,
    /// Largest run the training host accepts, in MB (bigger requests: 413, unread).
    pub max_request_mb: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSettings {
    /// The provider used in-process when the IB host service is not used: `csv` or `ib`.
    pub provider: String,
    /// CSV folder served in-process when the IB host service is not used.
    pub csv_dir: PathBuf,
    /// Segments a load fetches at once.
    pub load_concurrency: usize,
    /// Provider requests one load may plan; a bigger load is refused (400).
    pub max_requests_per_load: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationSettings {
    /// Finished operations kept in the store (newest first); 0 = no limit.
    pub retention: usize,
    /// Finished operations older than this many days are deleted; 0 = no limit.
    pub retention_days: u64,
    /// Per-operation time limit in seconds; 0 means none.
    pub timeout_secs: u64,
    /// The operation store: `sqlite://FILE`, `sqlite::memory:` or `postgres://...`; empty
    /// means `operations.db` in the data folder.
    pub database_url: String,
    /// This backend's name in the store (a restarted backend marks the operations it left
    /// running as interrupted); empty means this host's name and the data folder.
    pub instance: String,
    /// Operations one client (by address) may run at once; more get 429. 0: no limit.
    pub max_active_per_client: usize,
}

impl OperationSettings {
    /// The store's URL for a backend whose data folder is `data_dir`.
    pub fn store_url(&self, data_dir: &std::path::Path) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", data_dir.join("operations.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// This backend's name in the store.
    pub fn instance_name(&self, data_dir: &std::path::Path) -> String {
        if !self.instance.is_empty() {
            return self.instance.clone();
        }
        let host = ktrdr_actors::store::hostname();
        let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
        format!("{host}:{}", dir.display())
    }

    pub fn timeout(&self) -> Option<Duration> {
        (self.timeout_secs > 0).then(|| Duration::from_secs(self.timeout_secs))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostServiceSettings {
    /// Delegate to the host service instead of working in-process.
    pub enabled: bool,
    pub url: String,
    /// One attempt's limit for this service, answer included (0: `host_client.timeout_secs`).
    /// The IB host may hold a request through IB's 60 s pacing back-off, so its default is
    /// longer.
    #[serde(default)]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostClientSettings {
    pub timeout_secs: u64,
    pub max_retries: u32,
    pub connection_limit: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSettings {
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub strategies_dir: PathBuf,
}

impl Settings {
    /// Loads the settings from the defaults, `KTRDR_CONFIG` and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_env(&std::env::vars().collect())
    }

    /// Loads the settings with `env` as the environment (tests pass their own).
    /// Layers, each over the one before: the compiled-in defaults, the file `KTRDR_CONFIG`
    /// names (any subset of the keys), then the environment variables.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut layers = Figment::from(Toml::string(DEFAULTS));
        let mut source = "config/default.toml".to_owned();
        if let Some(path) = env.get("KTRDR_CONFIG") {
            if !std::path::Path::new(path).is_file() {
                return Err(ConfigError::InvalidFile {
                    path: path.clone(),
                    reason: "no such file".into(),
                });
            }
            layers = layers.merge(Toml::file_exact(path));
            source = path.clone();
        }
        let mut settings: Settings =
            layers
                .extract()
                .map_err(|e: figment::Error| ConfigError::InvalidFile {
                    path: source,
                    reason: e.to_string(),
                })?;
        settings.apply_env(env)?;
        Ok(settings)
    }

    fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        let get = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        if let Some(v) = get("KTRDR_HOST") {
            self.server.host = v.to_owned();
        }
        for (slot, name) in [
            (&mut self.security.api_token, "KTRDR_API_TOKEN"),
            (&mut self.security.api_token_file, "KTRDR_API_TOKEN_FILE"),
            (&mut self.security.host_token, "KTRDR_HOST_TOKEN"),
            (&mut self.security.host_token_file, "KTRDR_HOST_TOKEN_FILE"),
        ] {
            if let Some(v) = get(name) {
                *slot = v.to_owned();
            }
        }
        for (slot, name) in [
            (&mut self.security.allowed_hosts, "KTRDR_ALLOWED_HOSTS"),
            (&mut self.security.allowed_origins, "KTRDR_ALLOWED_ORIGINS"),
        ] {
            if let Some(v) = get(name) {
                *slot = v
                    .split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect();
            }
        }
        set_parsed(
            &mut self.server.port,
            get("KTRDR_PORT"),
            "KTRDR_PORT",
            "a port number 0-65535",
        )?;
        set_parsed(
            &mut self.server.shutdown_timeout_secs,
            get("KTRDR_SHUTDOWN_TIMEOUT_SECS"),
            "KTRDR_SHUTDOWN_TIMEOUT_SECS",
            "a whole number of seconds",
        )?;
        set_parsed(
            &mut self.operations.retention,
            get("KTRDR_OPERATION_RETENTION"),
            "KTRDR_OPERATION_RETENTION",
            "a whole number of operations",
        )?;
        set_parsed(
            &mut self.operations.retention_days,
            get("KTRDR_OPERATION_RETENTION_DAYS"),
            "KTRDR_OPERATION_RETENTION_DAYS",
            "a whole number of days (0 = no limit)",
        )?;
        if let Some(v) = get("KTRDR_DATABASE_URL") {
            self.operations.database_url = v.to_owned();
        }
        if let Some(v) = get("KTRDR_INSTANCE") {
            self.operations.instance = v.to_owned();
        }
        set_parsed(
            &mut self.operations.max_active_per_client,
            get("KTRDR_MAX_ACTIVE_PER_CLIENT"),
            "KTRDR_MAX_ACTIVE_PER_CLIENT",
            "a whole number of operations (0 = no limit)",
        )?;
        set_parsed(
            &mut self.operations.timeout_secs,
            get("KTRDR_OPERATION_TIMEOUT_SECS"),
            "KTRDR_OPERATION_TIMEOUT_SECS",
            "a whole number of seconds (0 = no limit)",
        )?;
        for (svc, use_var, url_var) in [
            (
                &mut self.ib_host_service,
                "USE_IB_HOST_SERVICE",
                "IB_HOST_SERVICE_URL",
            ),
            (
                &mut self.training_host_service,
                "USE_TRAINING_HOST_SERVICE",
                "TRAINING_HOST_SERVICE_URL",
            ),
        ] {
            if let Some(v) = get(use_var) {
                svc.enabled = parse_bool(use_var, v)?;
            }
            if let Some(v) = get(url_var) {
                svc.url = parse_url(url_var, v)?;
            }
        }
        set_parsed(
            &mut self.host_client.timeout_secs,
            get("KTRDR_HOST_CLIENT_TIMEOUT_SECS"),
            "KTRDR_HOST_CLIENT_TIMEOUT_SECS",
            "a whole number of seconds",
        )?;
        set_parsed(
            &mut self.host_client.max_retries,
            get("KTRDR_HOST_CLIENT_MAX_RETRIES"),
            "KTRDR_HOST_CLIENT_MAX_RETRIES",
            "a whole number of retries",
        )?;
        set_parsed(
            &mut self.host_client.connection_limit,
            get("KTRDR_HOST_CLIENT_CONNECTION_LIMIT"),
            "KTRDR_HOST_CLIENT_CONNECTION_LIMIT",
            "a whole number of connections",
        )?;
        if let Some(v) = get("IB_HOST") {
            self.ib_gateway.host = v.to_owned();
        }
        set_parsed(
            &mut self.ib_gateway.port,
            get("IB_PORT"),
            "IB_PORT",
            "a port number (IB Gateway paper: 4002, live: 4001; TWS: 7497/7496)",
        )?;
        set_parsed(
            &mut self.ib_gateway.client_id,
            get("IB_CLIENT_ID"),
            "IB_CLIENT_ID",
            "a whole number",
        )?;
        set_parsed(
            &mut self.ib_gateway.max_in_flight,
            get("IB_MAX_IN_FLIGHT"),
            "IB_MAX_IN_FLIGHT",
            "a whole number of requests from 1",
        )?;
        if let Some(v) = get("KTRDR_DATA_PROVIDER") {
            if v != "csv" && v != "ib" {
                return Err(ConfigError::InvalidEnv {
                    name: "KTRDR_DATA_PROVIDER",
                    value: v.to_owned(),
                    expected: "csv or ib",
                });
            }
            self.data.provider = v.to_owned();
        }
        set_parsed(
            &mut self.training.max_sessions,
            get("KTRDR_TRAINING_MAX_SESSIONS"),
            "KTRDR_TRAINING_MAX_SESSIONS",
            "a whole number of sessions from 1",
        )?;
        self.training.max_sessions = self.training.max_sessions.max(1);
        set_parsed(
            &mut self.training.max_request_mb,
            get("KTRDR_TRAINING_MAX_REQUEST_MB"),
            "KTRDR_TRAINING_MAX_REQUEST_MB",
            "a whole number of megabytes",
        )?;
        if let Some(v) = get("KTRDR_CSV_DIR") {
            self.data.csv_dir = PathBuf::from(v);
        }
        set_parsed(
            &mut self.data.load_concurrency,
            get("KTRDR_LOAD_CONCURRENCY"),
            "KTRDR_LOAD_CONCURRENCY",
            "a whole number of segments from 1",
        )?;
        if self.data.load_concurrency == 0 {
            return Err(ConfigError::InvalidEnv {
                name: "KTRDR_LOAD_CONCURRENCY",
                value: "0".into(),
                expected: "a whole number of segments from 1",
            });
        }
        set_parsed(
            &mut self.data.max_requests_per_load,
            get("KTRDR_MAX_REQUESTS_PER_LOAD"),
            "KTRDR_MAX_REQUESTS_PER_LOAD",
            "a whole number of requests",
        )?;
        for (path, var) in [
            (&mut self.paths.data_dir, "KTRDR_DATA_DIR"),
            (&mut self.paths.models_dir, "KTRDR_MODELS_DIR"),
            (&mut self.paths.strategies_dir, "KTRDR_STRATEGIES_DIR"),
        ] {
            if let Some(v) = get(var) {
                *path = PathBuf::from(v);
            }
        }
        // Checked here too so that a file cannot bring in what the environment may not.
        parse_url("IB_HOST_SERVICE_URL", &self.ib_host_service.url)?;
        parse_url("TRAINING_HOST_SERVICE_URL", &self.training_host_service.url)?;
        Ok(())
    }
}

fn set_parsed<T: std::str::FromStr>(
    slot: &mut T,
    value: Option<&str>,
    name: &'static str,
    expected: &'static str,
) -> Result<(), ConfigError> {
    if let Some(v) = value {
        *slot = v.parse().map_err(|_| ConfigError::InvalidEnv {
            name,
            value: v.to_owned(),
            expected,
        })?;
    }
    Ok(())
}

/// `true/false`, `1/0`, `yes/no`, `on/off`, any case.
pub fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::InvalidEnv {
            name,
            value: value.to_owned(),
            expected: "one of true, false, 1, 0, yes, no, on, off",
        }),
    }
}

/// An `http://` or `https://` URL with a host, kept without its trailing `/`.
pub fn parse_url(name: &'static str, value: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError::InvalidEnv {
        name,
        value: value.to_owned(),
        expected: "an http:// or https:// URL such as http://localhost:5001",
    };
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .ok_or_else(bad)?;
    let host = rest.split(['/', '?']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(value.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The shipped defaults parse and match DESIGN.md's ports and URLs.
    #[test]
    fn defaults_parse() {
        let s = Settings::from_env(&env(&[])).unwrap();
        assert_eq!(s.server.port, 8000);
        assert_eq!(s.ib_host_service.url, "http://localhost:5001");
        assert_eq!(s.training_host_service.url, "http://localhost:5002");
        assert!(!s.ib_host_service.enabled);
        assert_eq!(s.operations.timeout(), None);
    }

    /// Environment variables override the defaults.
    #[test]
    fn env_overrides() {
        let s = Settings::from_env(&env(&[
            ("USE_IB_HOST_SERVICE", "TRUE"),
            ("IB_HOST_SERVICE_URL", "http://10.0.0.5:6001/"),
            ("USE_TRAINING_HOST_SERVICE", "0"),
            ("KTRDR_DATA_DIR", "/tmp/x"),
            ("KTRDR_OPERATION_TIMEOUT_SECS", "60"),
        ]))
        .unwrap();
        assert!(s.ib_host_service.enabled);
        assert_eq!(s.ib_host_service.url, "http://10.0.0.5:6001");
        assert!(!s.training_host_service.enabled);
        assert_eq!(s.paths.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.operations.timeout(), Some(Duration::from_secs(60)));
    }

    /// Bad values name the setting and what it accepts.
    #[test]
    fn bad_values_name_the_setting() {
        for (name, value, expect) in [
            ("USE_IB_HOST_SERVICE", "maybe", "true, false"),
            ("TRAINING_HOST_SERVICE_URL", "localhost:5002", "http://"),
            ("KTRDR_PORT", "80000", "port number"),
            ("KTRDR_OPERATION_RETENTION", "-1", "whole number"),
        ] {
            let err = Settings::from_env(&env(&[(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name) && err.contains(expect), "{err}");
        }
    }

    /// A settings file with an unknown key is refused with the key's name.
    #[test]
    fn unknown_file_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(
            &path,
            DEFAULTS.replace("[paths]", "[paths]\ndata_dri = \"x\""),
        )
        .unwrap();
        let err = Settings::from_env(&env(&[("KTRDR_CONFIG", path.to_str().unwrap())]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("data_dri"), "{err}");
    }

    /// A partial settings file overrides only the keys it names: the rest keep their
    /// defaults, and the environment still wins over the file.
    #[test]
    fn partial_file_overrides_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partial.toml");
        std::fs::write(&path, "[server]\nport = 9100\n").unwrap();
        let file = path.to_str().unwrap();
        let s = Settings::from_env(&env(&[("KTRDR_CONFIG", file)])).unwrap();
        assert_eq!(s.server.port, 9100);
        assert_eq!(s.server.host, "127.0.0.1", "the default stays");
        assert_eq!(s.data.load_concurrency, 5, "other sections stay");
        let s =
            Settings::from_env(&env(&[("KTRDR_CONFIG", file), ("KTRDR_PORT", "9200")])).unwrap();
        assert_eq!(s.server.port, 9200);
        let err = Settings::from_env(&env(&[("KTRDR_CONFIG", "/nonexistent/k.toml")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no such file"), "{err}");
    }
}
