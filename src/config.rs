//! `promoscan.toml`: project settings (DESIGN §7), and the [`Policy`] they make: which
//! rules are off and which severities are changed. Unknown keys and unknown rule ids are
//! errors, so a typo never silently turns a rule off.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::finding::{Finding, Severity};
use crate::position::{line_of_offset, toml_key_at};
use crate::rules::RuleSet;

/// The config file name looked for in the current folder and its parents.
pub const CONFIG_FILE_NAME: &str = "promoscan.toml";

/// The threshold at which a run fails (`--fail-on`, `fail_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Fail on errors.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Fail on any finding.
    Note,
    /// Never fail because of findings.
    Never,
}

impl FailOn {
    /// The lowest severity that fails the run, `None` for never.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

/// The contents of a `promoscan.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Default for `--fail-on`.
    pub fail_on: Option<FailOn>,
    /// Rule ids or categories to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Severity overrides by rule id or category.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Extra rule folders, relative to the config file.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Largest file scanned, in bytes.
    pub max_file_size: Option<u64>,
    /// Limits for following links and fetching pages (`[follow]`).
    #[serde(default)]
    pub follow: FollowConfig,
    /// Crawl settings of `audit` (`[audit]`).
    #[serde(default)]
    pub audit: AuditConfig,
    /// The file this was read from (not a key of the file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// The file's text (for line numbers in errors).
    #[serde(skip)]
    source: String,
}

/// The `[follow]` table: limits for fetching pages and following links. Every key is
/// optional; command-line flags win over it, and DESIGN §6 defaults apply otherwise.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowConfig {
    /// Seconds to open a connection.
    pub connect_timeout: Option<f64>,
    /// Seconds for one request, body included.
    pub timeout: Option<f64>,
    /// Seconds for a whole redirect chain.
    pub chain_timeout: Option<f64>,
    /// Most redirects followed.
    pub max_hops: Option<usize>,
    /// Largest body read, in bytes (after decompression).
    pub body_cap: Option<usize>,
    /// Requests in flight at once.
    pub concurrency: Option<usize>,
    /// Requests in flight at once to one host.
    pub per_host: Option<usize>,
    /// Requests started per second on one host.
    pub host_rate: Option<f64>,
    /// Retries of 429/502/503/504 answers.
    pub retries: Option<u32>,
    /// Follow into loopback and private addresses.
    pub allow_private: Option<bool>,
}

/// The `[audit]` table: defaults for `audit`'s flags (the flags win).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Most pages visited.
    pub max_pages: Option<usize>,
    /// Most links followed from the start page.
    pub max_depth: Option<u32>,
    /// Only URLs matching one of these patterns.
    #[serde(default)]
    pub include: Vec<String>,
    /// No URL matching one of these patterns.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Do not read or obey robots.txt.
    pub ignore_robots: Option<bool>,
}

/// A config file could not be read, or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not readable.
    #[error("{path}: cannot read config file")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A rule or category named on the command line does not exist.
    #[error("{flag} {name}: unknown rule or category (see `promoscan rules list`)")]
    UnknownOnCommandLine {
        /// The flag.
        flag: &'static str,
        /// The unknown name.
        name: String,
    },
    /// Readable but wrong.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line (0 when unknown).
        line: u32,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let source = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut config: Config = toml::from_str(&source).map_err(|error| {
            let start = error.span().map(|span| span.start);
            let message = error.message().trim_end();
            // Name the key whose value is wrong (the error points at the value).
            let message = match start.and_then(|offset| toml_key_at(&source, offset)) {
                Some(key) if !message.contains(&format!("`{key}`")) => {
                    format!("`{key}`: {message}")
                }
                _ => message.to_string(),
            };
            ConfigError::Invalid {
                path: path.display().to_string(),
                line: start.map_or(0, |offset| line_of_offset(&source, offset)),
                message,
            }
        })?;
        config.path = Some(path.to_path_buf());
        config.source = source;
        Ok(config)
    }

    /// Finds `promoscan.toml` in `start` or the nearest parent that has one.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .map(|dir| dir.join(CONFIG_FILE_NAME))
            .find(|candidate| candidate.is_file())
    }

    /// Rule folders, resolved against the config file's folder.
    pub fn rule_dirs(&self) -> Vec<PathBuf> {
        let base = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        self.rules.iter().map(|dir| base.join(dir)).collect()
    }

    /// The line where `name` is written in the file (for errors about it).
    fn line_of(&self, name: &str) -> u32 {
        let quoted = [format!("\"{name}\""), format!("'{name}'")];
        self.source
            .lines()
            .position(|line| {
                quoted.iter().any(|q| line.contains(q.as_str()))
                    || line.trim_start().starts_with(name)
            })
            .map(|index| index as u32 + 1)
            .unwrap_or(0)
    }

    fn display_path(&self) -> String {
        self.path
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|| CONFIG_FILE_NAME.to_string())
    }
}

/// Which rules are off and which severities change: from the config file and the
/// command line, checked against the rule set.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    disabled: HashSet<String>,
    severity: BTreeMap<String, Severity>,
}

impl Policy {
    /// Builds a policy. Every name must be a known rule id or category.
    pub fn new(
        config: &Config,
        extra_disabled: &[String],
        rules: &RuleSet,
    ) -> Result<Policy, ConfigError> {
        let unknown = |name: &str, from_config: bool| {
            if from_config {
                ConfigError::Invalid {
                    path: config.display_path(),
                    line: config.line_of(name),
                    message: format!(
                        "unknown rule or category '{name}' (see `promoscan rules list`)"
                    ),
                }
            } else {
                ConfigError::UnknownOnCommandLine {
                    flag: "--disable",
                    name: name.to_string(),
                }
            }
        };
        let mut disabled = HashSet::new();
        for name in &config.disable {
            if !rules.knows(name) {
                return Err(unknown(name, true));
            }
            disabled.insert(name.clone());
        }
        for name in extra_disabled {
            if !rules.knows(name) {
                return Err(unknown(name, false));
            }
            disabled.insert(name.clone());
        }
        for name in config.severity.keys() {
            if !rules.knows(name) {
                return Err(unknown(name, true));
            }
        }
        Ok(Policy {
            disabled,
            severity: config.severity.clone(),
        })
    }

    /// Applies the policy to a finding: `None` when its rule is off, else the finding
    /// with its severity overridden (a rule id wins over its category).
    pub fn apply(&self, mut finding: Finding) -> Option<Finding> {
        if self.disabled.contains(&finding.rule) || self.disabled.contains(&finding.category) {
            return None;
        }
        if let Some(severity) = self
            .severity
            .get(&finding.rule)
            .or_else(|| self.severity.get(&finding.category))
        {
            finding.severity = *severity;
        }
        Some(finding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(CONFIG_FILE_NAME);
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn reads_every_key() {
        let (_dir, path) = write(
            "fail_on = \"warning\"\ndisable = [\"claim-coupon\"]\nrules = [\"my-rules\"]\nmax_file_size = 100\n[severity]\n\"claim-price\" = \"note\"\n",
        );
        let config = Config::load(&path).expect("valid");
        assert_eq!(config.fail_on, Some(FailOn::Warning));
        assert_eq!(config.disable, vec!["claim-coupon"]);
        assert_eq!(config.severity.get("claim-price"), Some(&Severity::Note));
        assert_eq!(
            config.rule_dirs(),
            vec![path.parent().unwrap().join("my-rules")]
        );
        assert_eq!(config.max_file_size, Some(100));
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let (_dir, path) = write("fail_on = \"error\"\nfial_on = \"note\"\n");
        let message = Config::load(&path).expect_err("invalid").to_string();
        assert!(message.contains("promoscan.toml:2:"), "{message}");
        assert!(message.contains("fial_on"), "{message}");
    }

    #[test]
    fn discovers_config_in_a_parent_folder() {
        let (dir, path) = write("");
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).expect("mkdir");
        assert_eq!(Config::discover(&nested), Some(path));
    }
}
