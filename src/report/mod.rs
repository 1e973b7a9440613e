//! Reporters: a finished [`Report`] written as JSON, JSON Lines, SARIF 2.1.0 or text.
//!
//! One submodule per output format, each a function from a report to bytes on a writer.
//! [`write_report`] picks the format. Reporters only format: they never decide which
//! findings exist, how they are sorted or whether the run fails (see [`crate::finding`]),
//! nor whether the terminal supports colour (the caller passes `color`).
//!
//! [`jsonl`] also offers one function per line so that a run can stream its results as
//! they arrive, and [`stream`] writes a whole run's report as its targets are done.
//! [`rules`] writes the output of the `rules` commands.

pub mod json;
pub mod jsonl;
pub mod rules;
pub mod sarif;
pub mod stream;
pub mod text;

use std::io::Write;

use crate::finding::Report;
use crate::rules::RuleSet;

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The whole report as one pretty-printed JSON document (schema `promoscan/v1`).
    Json,
    /// One JSON object per line: each target's findings then its target line; the summary
    /// last.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning dashboards and editors.
    Sarif,
    /// Compiler-like messages for people.
    Text,
}

impl Format {
    /// The name used on the command line and in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Sarif => "sarif",
            Format::Text => "text",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

/// Writes a whole report in `format`, then flushes `out`.
///
/// `rules` is the library the run used: SARIF lists every rule of it. `color` turns on
/// ANSI colours in the text format (other formats ignore it); callers decide it from the
/// terminal and `NO_COLOR`.
pub fn write_report(
    report: &Report,
    rules: &RuleSet,
    format: Format,
    out: &mut dyn Write,
    color: bool,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write_report(report, out)?,
        Format::Jsonl => jsonl::write_report(report, out)?,
        Format::Sarif => sarif::write_report(report, rules, out)?,
        Format::Text => text::write_report(report, out, color)?,
    }
    out.flush()
}

/// A small hand-built report and rule set shared by the reporters' tests.
#[cfg(test)]
pub(crate) mod sample {
    use crate::finding::{
        Confidence, Finding, Hop, Location, Report, Severity, TargetKind, TargetRecord,
        TargetStatus,
    };
    use crate::rules::{RuleSet, load_str};

    /// Three rules: two text rules and a detector rule without a pattern.
    const RULES: &str = r#"schema = "promoscan-rules/v1"
language = "en"

[[rule]]
id = "claim-urgency/only-n-left"
category = "claim-urgency"
severity = "error"
confidence = "high"
message = "Fake scarcity claim '{match}'"
help = "Show real stock levels or remove the claim."
description = "Claims of limited stock push readers to buy before they compare."
references = ["FTC guides on urgency claims", "https://www.ftc.gov/business-guidance"]
pattern = '(?i)\bonly\s+\d+\s+left\b'

[rule.examples]
match = ["Only 2 left in stock!"]
ok = ["Plenty in stock."]

[[rule]]
id = "claim-price/lowest-ever"
category = "claim-price"
severity = "warning"
confidence = "medium"
message = "Superlative price claim '{match}'"
help = "Name the price and the date."
pattern = '(?i)\blowest\s+price\s+ever\b'

[rule.examples]
match = ["Lowest price ever!"]
ok = ["A low price."]

[[rule]]
id = "disclosure/missing"
category = "disclosure"
severity = "note"
confidence = "low"
message = "Page has affiliate links but no affiliate disclosure"
help = ""

[rule.examples]
match = [{ html = "<a href='https://s.click.aliexpress.com/e/_x'>deal</a>" }]
ok = [{ html = "<p>x</p>" }]
"#;

    /// The sample rule set.
    pub fn rules() -> RuleSet {
        let rules = load_str("test.toml", RULES).expect("sample rules are valid");
        RuleSet::new(rules).expect("sample rule ids are unique")
    }

    /// Two targets (one failed) and three findings, one without a location and one whose
    /// rule (`scan-error/unreachable`) is not in [`rules`].
    pub fn report() -> Report {
        let targets = vec![
            TargetRecord {
                target: "fixtures/articles/x.html".to_string(),
                kind: TargetKind::File,
                status: TargetStatus::Scanned,
                error: None,
                final_url: None,
                chain: None,
            },
            TargetRecord {
                target: "https://shop.example/deals?id=1".to_string(),
                kind: TargetKind::Url,
                status: TargetStatus::Failed,
                error: Some("connection refused".to_string()),
                final_url: None,
                chain: Some(vec![Hop {
                    url: "https://shop.example/deals?id=1".to_string(),
                    status: None,
                    via: "http".to_string(),
                    delay: None,
                    set_cookie: false,
                    elapsed_ms: Some(12),
                    error: Some("connection refused".to_string()),
                }]),
            },
        ];
        let findings = vec![
            Finding {
                rule: "claim-price/lowest-ever".to_string(),
                category: "claim-price".to_string(),
                severity: Severity::Warning,
                confidence: Confidence::Medium,
                message: "Superlative price claim 'Lowest price ever'".to_string(),
                target: "fixtures/articles/x.html".to_string(),
                location: Some(Location {
                    line: 50,
                    column: 1,
                }),
                evidence: Some("Lowest price ever on this phone.".to_string()),
                url: None,
                network: None,
                chain: None,
                help: "Name the price and the date.".to_string(),
            },
            Finding {
                rule: "claim-urgency/only-n-left".to_string(),
                category: "claim-urgency".to_string(),
                severity: Severity::Error,
                confidence: Confidence::High,
                message: "Fake scarcity claim 'Only 2 left'".to_string(),
                target: "fixtures/articles/x.html".to_string(),
                location: Some(Location {
                    line: 42,
                    column: 3,
                }),
                evidence: Some("Only 2 left in stock, order now!".to_string()),
                url: Some("https://s.click.aliexpress.com/e/_dXyZ".to_string()),
                network: Some("aliexpress".to_string()),
                chain: None,
                help: "Show real stock levels or remove the claim.".to_string(),
            },
            Finding {
                rule: "scan-error/unreachable".to_string(),
                category: "scan-error".to_string(),
                severity: Severity::Error,
                confidence: Confidence::High,
                message: "Cannot fetch the page: connection refused".to_string(),
                target: "https://shop.example/deals?id=1".to_string(),
                location: None,
                evidence: None,
                url: Some("https://shop.example/deals?id=1".to_string()),
                network: None,
                chain: None,
                help: "Check the address, or scan a saved copy of the page.".to_string(),
            },
        ];
        Report::new(targets, findings)
    }
}
