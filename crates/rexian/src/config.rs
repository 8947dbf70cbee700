//! Settings: defaults that run as they are, then `rexian.toml`, then
//! `REXIAN_…` environment variables.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the HTTP server (API, Open311, pages).
    pub listen: String,
    /// Where the SQLite database, attachments and recordings live.
    pub data_dir: PathBuf,
    /// `postgres://…` for the multi-node store; empty: SQLite in `data_dir`.
    pub database_url: String,
    /// Time zone of the business calendar and of timestamps shown to people.
    pub time_zone: String,
    /// SQLite durability: `normal` (survives a crash of the process) or
    /// `full` (also survives power loss; slower commits).
    pub sqlite_sync: String,
    /// Year files of holidays and 调休 loaded at start (`*.toml`).
    pub calendars_dir: PathBuf,
    /// Open311 jurisdiction this server answers for.
    pub jurisdiction_id: String,
    /// Mark cookies Secure (set when served over HTTPS).
    pub secure_cookies: bool,
    pub max_upload_mb: usize,
    /// Scheduler tick for deadline events, in milliseconds.
    pub scheduler_interval_ms: u64,
    pub max_connections: u32,
    /// `tracing` filter, e.g. `info,rexian_store=debug`.
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            time_zone: "Asia/Shanghai".into(),
            sqlite_sync: "normal".into(),
            calendars_dir: PathBuf::from("./calendars"),
            jurisdiction_id: "rexian.demo".into(),
            secure_cookies: false,
            max_upload_mb: 20,
            scheduler_interval_ms: 1000,
            max_connections: 8,
            log: "info".into(),
        }
    }
}

impl Config {
    /// Defaults, then the file (if it exists), then the environment.
    pub fn load(file: &Path) -> Result<Self> {
        let mut cfg = if file.exists() {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?
        } else {
            Config::default()
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        let mut v = toml::Value::try_from(&*self)?;
        let table = v.as_table_mut().context("config is a table")?;
        for (key, value) in table.iter_mut() {
            let Some(env) = get(&format!("REXIAN_{}", key.to_uppercase())) else {
                continue;
            };
            *value = match value {
                toml::Value::Boolean(_) => {
                    toml::Value::Boolean(matches!(env.as_str(), "1" | "true" | "yes"))
                }
                toml::Value::Integer(_) => toml::Value::Integer(
                    env.parse()
                        .with_context(|| format!("REXIAN_{}: not a number", key.to_uppercase()))?,
                ),
                _ => toml::Value::String(env),
            };
        }
        *self = v.try_into()?;
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        anyhow::ensure!(
            matches!(self.sqlite_sync.as_str(), "normal" | "full"),
            "sqlite_sync must be normal or full"
        );
        anyhow::ensure!(
            self.scheduler_interval_ms >= 10,
            "scheduler_interval_ms must be at least 10"
        );
        Ok(())
    }

    pub fn store_options(&self) -> rexian_store::StoreOptions {
        let mut o = rexian_store::StoreOptions::sqlite_in(&self.data_dir);
        if !self.database_url.is_empty() {
            o.url = self.database_url.clone();
        }
        o.sqlite_sync_full = self.sqlite_sync == "full";
        o.max_connections = self.max_connections;
        o.time_zone = self.time_zone.clone();
        o
    }

    /// The configuration as TOML with secrets hidden.
    pub fn printable(&self) -> Result<String> {
        let mut c = self.clone();
        c.database_url = rexian_store::redact(&c.database_url);
        Ok(toml::to_string_pretty(&c)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_defaults() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "REXIAN_LISTEN" => Some("0.0.0.0:9000".into()),
            "REXIAN_SECURE_COOKIES" => Some("true".into()),
            "REXIAN_MAX_UPLOAD_MB" => Some("5".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert!(c.secure_cookies);
        assert_eq!(c.max_upload_mb, 5);
        assert!(c
            .apply_env(|k| (k == "REXIAN_MAX_UPLOAD_MB").then(|| "x".into()))
            .is_err());
    }

    #[test]
    fn secrets_are_hidden() {
        let c = Config {
            database_url: "postgres://app:s3cret@db/rexian".into(),
            ..Config::default()
        };
        let p = c.printable().unwrap();
        assert!(!p.contains("s3cret"), "{p}");
        assert!(p.contains("app:***@db"));
    }
}
