//! Findings: what promoscan reports, in the `promoscan/v1` schema (docs/findings.md).
//!
//! Detectors produce [`Finding`]s; reporters serialise a [`Report`]. Nothing here reads
//! input or knows how a finding was detected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The schema name written in every JSON report.
pub const SCHEMA: &str = "promoscan/v1";

/// How serious a finding is (the SARIF levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: worth a look.
    Note,
    /// Likely a problem.
    Warning,
    /// A problem a reviewer would reject the page for.
    Error,
}

impl Severity {
    /// The lower-case name used in files and output.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// One step less serious; `None` below `note` (the finding is dropped).
    pub fn downgraded(self) -> Option<Severity> {
        match self {
            Severity::Error => Some(Severity::Warning),
            Severity::Warning => Some(Severity::Note),
            Severity::Note => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "note" => Ok(Severity::Note),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity '{other}' (expected error, warning or note)"
            )),
        }
    }
}

/// How sure the detector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Often a false alarm.
    Low,
    /// Usually right.
    Medium,
    /// Almost always right.
    High,
}

impl Confidence {
    /// The lower-case name used in files and output.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// The finding categories of DESIGN §3; a rule id starts with its category.
pub const CATEGORIES: &[&str] = &[
    "forced-redirect",
    "cookie-stuffing",
    "hidden-content",
    "redirect-chain",
    "claim-shipping",
    "claim-price",
    "claim-refund",
    "claim-urgency",
    "claim-affiliation",
    "claim-coupon",
    "disclosure",
    "link-hygiene",
    "scan-error",
];

/// Where in the source file a finding is (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Line in the file the user gave (the Markdown line for Markdown).
    pub line: u32,
    /// Column (in characters) on that line.
    pub column: u32,
}

/// One hop of a followed link (filled in when links are followed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    /// The URL requested at this hop.
    pub url: String,
    /// HTTP status, `None` when the request failed.
    pub status: Option<u16>,
    /// How the previous hop led here: `http`, `meta-refresh` or `javascript`.
    pub via: String,
    /// Delay in seconds before a client-side hop, if any.
    pub delay: Option<f64>,
    /// True when the response set a cookie (`Set-Cookie`).
    pub set_cookie: bool,
    /// Time the request took, in milliseconds (`None` when no request was made).
    pub elapsed_ms: Option<u64>,
    /// Why this hop has no status (refused, unreachable, timed out), or a note on its
    /// body (truncated at the cap).
    pub error: Option<String>,
}

impl Hop {
    /// A hop about to be requested: no status, cookie, time or error yet.
    pub fn requested(url: String, via: &str, delay: Option<f64>) -> Hop {
        Hop {
            url,
            status: None,
            via: via.to_string(),
            delay,
            set_cookie: false,
            elapsed_ms: None,
            error: None,
        }
    }
}

/// One problem found in one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id, `category/slug`.
    pub rule: String,
    /// The rule's category.
    pub category: String,
    /// Severity after configuration overrides and qualifiers.
    pub severity: Severity,
    /// The rule's confidence.
    pub confidence: Confidence,
    /// What is wrong, with the matched text filled in.
    pub message: String,
    /// The target as the user named it (path, `-`, URL).
    pub target: String,
    /// Where in the target, when it has a place.
    pub location: Option<Location>,
    /// The text or markup that triggered the finding.
    pub evidence: Option<String>,
    /// The URL involved, if any.
    pub url: Option<String>,
    /// The affiliate network involved, if any.
    pub network: Option<String>,
    /// The followed chain, when a link was followed.
    pub chain: Option<Vec<Hop>>,
    /// How to fix it.
    pub help: String,
}

impl Finding {
    /// The deterministic report order: target, line, column, rule, then message.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        let (line, column) = self
            .location
            .map(|location| (location.line, location.column))
            .unwrap_or((0, 0));
        (&self.target, line, column, &self.rule, &self.message)
    }
}

/// What kind of thing a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A file on disk.
    File,
    /// A URL.
    Url,
    /// Standard input.
    Stdin,
}

/// Whether a target could be scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetStatus {
    /// Read and scanned.
    Scanned,
    /// Could not be read or fetched (see `error`).
    Failed,
}

/// One scanned (or failed) target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The target as the user named it.
    pub target: String,
    /// File, URL or stdin.
    pub kind: TargetKind,
    /// Scanned or failed.
    pub status: TargetStatus,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Where a URL target ended up after redirects.
    pub final_url: Option<String>,
    /// A URL target's redirect chain.
    pub chain: Option<Vec<Hop>>,
}

/// Counts over a whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Targets in the run.
    pub targets: usize,
    /// Targets scanned.
    pub scanned: usize,
    /// Targets that failed.
    pub failed: usize,
    /// Findings of severity error.
    pub error: usize,
    /// Findings of severity warning.
    pub warning: usize,
    /// Findings of severity note.
    pub note: usize,
}

/// The tool name and version, as written in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always `promoscan`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: "promoscan".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A whole run's results, in the order they are reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Tool name and version.
    pub tool: ToolInfo,
    /// Every target, in the order given (folders expanded in sorted order).
    pub targets: Vec<TargetRecord>,
    /// Every finding, sorted by [`Finding::sort_key`].
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
}

impl Report {
    /// Builds a report, sorting findings and counting them.
    pub fn new(targets: Vec<TargetRecord>, mut findings: Vec<Finding>) -> Report {
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let summary = Summary::count(&targets, &findings);
        Report {
            schema: SCHEMA.to_string(),
            tool: ToolInfo::default(),
            targets,
            findings,
            summary,
        }
    }

    /// True when some finding is at or above `threshold` (`None` means never fail).
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        match threshold {
            None => false,
            Some(threshold) => self.findings.iter().any(|f| f.severity >= threshold),
        }
    }
}

impl Summary {
    /// Counts targets and findings.
    pub fn count(targets: &[TargetRecord], findings: &[Finding]) -> Summary {
        let mut summary = Summary {
            targets: targets.len(),
            ..Summary::default()
        };
        for target in targets {
            match target.status {
                TargetStatus::Scanned => summary.scanned += 1,
                TargetStatus::Failed => summary.failed += 1,
            }
        }
        for finding in findings {
            match finding.severity {
                Severity::Error => summary.error += 1,
                Severity::Warning => summary.warning += 1,
                Severity::Note => summary.note += 1,
            }
        }
        summary
    }
}
