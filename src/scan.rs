//! The scan pipeline: input → page model → detectors → suppressions and policy →
//! findings, for one source or a whole list of targets (in parallel, reported in a
//! deterministic order). One bad target becomes a `scan-error` finding and a failed
//! target record; it never stops the others.

use std::path::Path;

use rayon::prelude::*;

use crate::config::Policy;
use crate::detect::Context;
use crate::finding::{Finding, Report, TargetKind, TargetRecord, TargetStatus};
use crate::input::{self, InputProblem, SourceFormat, Target};
use crate::library::Library;
use crate::page::Page;
use crate::suppress::Suppressions;

/// Settings of a scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Largest file or stdin read, in bytes.
    pub max_file_size: u64,
    /// How stdin is parsed.
    pub stdin_format: SourceFormat,
    /// Deepest element nesting parsed (deeper pages are refused, not parsed).
    pub max_depth: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: input::DEFAULT_MAX_FILE_SIZE,
            stdin_format: SourceFormat::Html,
            max_depth: input::nesting::DEFAULT_MAX_DEPTH,
        }
    }
}

/// Scans sources with one rule set and policy.
#[derive(Debug, Clone)]
pub struct Scanner<'a> {
    library: &'a Library,
    policy: Policy,
    options: ScanOptions,
}

/// The result of scanning one target.
#[derive(Debug, Clone)]
pub struct TargetResult {
    /// The target's record.
    pub record: TargetRecord,
    /// Its findings, unsorted.
    pub findings: Vec<Finding>,
}

impl<'a> Scanner<'a> {
    /// A scanner using `library`, its findings filtered and adjusted by `policy`.
    pub fn new(library: &'a Library, policy: Policy, options: ScanOptions) -> Scanner<'a> {
        Scanner {
            library,
            policy,
            options,
        }
    }

    /// The library in use.
    pub fn library(&self) -> &Library {
        self.library
    }

    /// Scans decoded text: builds the page once and runs every detector over it.
    pub fn scan_text(&self, target: &str, format: SourceFormat, text: &str) -> Vec<Finding> {
        let findings = self.scan_html(target, &as_html(format, text), text);
        self.finish(findings)
    }

    /// Scans `html` (the source itself, or Markdown rendered with its lines kept);
    /// `source` is what the user gave, for columns. Suppression comments are applied;
    /// the policy is left to the caller.
    fn scan_html(&self, target: &str, html: &str, source: &str) -> Vec<Finding> {
        let page = Page::from_html(html, None);
        let suppressions = Suppressions::from_comments(&page.comments);
        let mut findings = Context::new(&page, self.library, target, source).detect_all();
        findings.retain(|finding| !suppressions.suppresses(finding));
        findings
    }

    /// Scans raw bytes: binary check, decoding, empty check, then [`Scanner::scan_text`].
    /// `Err` carries the problem when nothing could be scanned.
    pub fn scan_bytes(
        &self,
        target: &str,
        format: SourceFormat,
        bytes: &[u8],
    ) -> Result<Vec<Finding>, (InputProblem, Vec<Finding>)> {
        if let Err(problem) = input::check_not_binary(bytes) {
            let finding = self.problem_finding(target, &problem);
            return Err((problem, self.finish(finding.into_iter().collect())));
        }
        let decoded = input::decode(bytes, format);
        let mut findings = Vec::new();
        if let Some(encoding) = &decoded.guessed_encoding {
            findings.extend(self.rule_finding("scan-error/not-utf8", target, encoding));
        }
        if decoded.text.trim().is_empty() {
            let detail = if bytes.is_empty() {
                ""
            } else {
                " (only whitespace)"
            };
            findings.extend(self.rule_finding("scan-error/empty", target, detail));
            return Ok(self.finish(findings));
        }
        // Markdown nests through its own syntax (quotes, lists): check what it renders.
        let html = as_html(format, &decoded.text);
        let depth = input::nesting::estimated_depth(&html);
        if depth > self.options.max_depth {
            let problem = InputProblem::TooDeep {
                depth,
                limit: self.options.max_depth,
            };
            findings.extend(self.problem_finding(target, &problem));
            return Err((problem, self.finish(findings)));
        }
        findings.extend(self.scan_html(target, &html, &decoded.text));
        Ok(self.finish(findings))
    }

    /// Reads and scans one target. `problem` is a problem already known (e.g. a folder
    /// that could not be walked).
    pub fn scan_target(&self, target: &Target, problem: Option<InputProblem>) -> TargetResult {
        let name = target.name();
        let kind = match target {
            Target::File(_) => TargetKind::File,
            Target::Stdin => TargetKind::Stdin,
            Target::Url(_) => TargetKind::Url,
        };
        let read = match (problem, target) {
            (Some(problem), _) => Err(problem),
            (None, Target::File(path)) => input::read_file(path, self.options.max_file_size)
                .map(|bytes| (bytes, format_of(path))),
            (None, Target::Stdin) => input::read_limited(std::io::stdin().lock(), self.options.max_file_size)
                .map(|bytes| (bytes, self.options.stdin_format)),
            (None, Target::Url(_)) => Err(InputProblem::Unreadable(
                "fetching URLs is not supported by this version of promoscan; save the page and scan the file".to_string(),
            )),
        };
        let outcome = match read {
            Ok((bytes, format)) => self.scan_bytes(&name, format, &bytes),
            Err(problem) => {
                let findings = self.problem_finding(&name, &problem).into_iter().collect();
                Err((problem, self.finish(findings)))
            }
        };
        let (status, error, findings) = match outcome {
            Ok(findings) => (TargetStatus::Scanned, None, findings),
            Err((problem, findings)) => (TargetStatus::Failed, Some(problem.to_string()), findings),
        };
        TargetResult {
            record: TargetRecord {
                target: name,
                kind,
                status,
                error,
                final_url: None,
                chain: None,
            },
            findings,
        }
    }

    /// Scans every target (in parallel) and builds the report, targets in the order
    /// given.
    pub fn scan_all(&self, targets: Vec<(Target, Option<InputProblem>)>) -> Report {
        let results: Vec<TargetResult> = targets
            .into_par_iter()
            .map(|(target, problem)| self.scan_target(&target, problem))
            .collect();
        let mut records = Vec::with_capacity(results.len());
        let mut findings = Vec::new();
        for result in results {
            records.push(result.record);
            findings.extend(result.findings);
        }
        Report::new(records, findings)
    }

    /// A finding of a detector rule (`scan-error/...`), `{match}` filled with `detail`.
    /// `None` when the rule is missing from the set.
    fn rule_finding(&self, rule_id: &str, target: &str, detail: &str) -> Option<Finding> {
        let rule = self.library.rules.get(rule_id)?;
        Some(Finding {
            rule: rule.id.clone(),
            category: rule.category.clone(),
            severity: rule.severity,
            confidence: rule.confidence,
            message: rule.message_for(detail),
            target: target.to_string(),
            location: None,
            evidence: None,
            url: None,
            network: None,
            chain: None,
            help: rule.help.clone(),
        })
    }

    fn problem_finding(&self, target: &str, problem: &InputProblem) -> Option<Finding> {
        let rule_id = match problem {
            InputProblem::Unreadable(_) => "scan-error/unreadable",
            InputProblem::Binary(_) => "scan-error/binary-file",
            InputProblem::TooLarge { .. } => "scan-error/too-large",
            InputProblem::TooDeep { .. } => "scan-error/too-deep",
        };
        self.rule_finding(rule_id, target, &problem.to_string())
    }

    fn finish(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter_map(|finding| self.policy.apply(finding))
            .collect()
    }
}

/// The HTML to parse: the text itself, or Markdown rendered with its lines kept.
fn as_html(format: SourceFormat, text: &str) -> std::borrow::Cow<'_, str> {
    match format {
        SourceFormat::Html => std::borrow::Cow::Borrowed(text),
        SourceFormat::Markdown => std::borrow::Cow::Owned(input::markdown::to_html(text)),
    }
}

/// The format of a file: by extension, HTML for anything else named directly.
fn format_of(path: &Path) -> SourceFormat {
    SourceFormat::from_path(path).unwrap_or(SourceFormat::Html)
}
