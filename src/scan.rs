//! The scan pipeline: input → page model → detectors → suppressions and policy →
//! findings, for one source or a whole list of targets (in parallel, reported in a
//! deterministic order). One bad target becomes a `scan-error` finding and a failed
//! target record; it never stops the others.

use std::path::Path;

use rayon::prelude::*;
use url::Url;

use crate::config::Policy;
use crate::detect::Context;
use crate::finding::{Finding, Location, Report, TargetKind, TargetRecord, TargetStatus};
use crate::follow::FetchedPage;
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
    /// Collect the affiliate and shortened links of each page, to follow them.
    pub collect_links: bool,
    /// Collect every http(s) link of each page, to crawl them (`audit`).
    pub collect_page_links: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: input::DEFAULT_MAX_FILE_SIZE,
            stdin_format: SourceFormat::Html,
            max_depth: input::nesting::DEFAULT_MAX_DEPTH,
            collect_links: false,
            collect_page_links: false,
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
    /// Its links to follow (when [`ScanOptions::collect_links`] is set).
    pub links: Vec<LinkToFollow>,
    /// Its inline suppressions, for findings added later (a followed link's).
    pub suppressions: Suppressions,
    /// Its http(s) links (when [`ScanOptions::collect_page_links`] is set).
    pub page_links: Vec<Url>,
}

/// An affiliate link (or a shortened link) on a scanned page: worth following.
#[derive(Debug, Clone)]
pub struct LinkToFollow {
    /// The resolved URL.
    pub url: Url,
    /// Where the link is in the source.
    pub location: Location,
    /// The link's text.
    pub text: String,
    /// The link's start tag.
    pub evidence: String,
    /// The affiliate network, when the link is one of a known network.
    pub network: Option<String>,
}

/// What scanning one page gives.
#[derive(Debug, Clone, Default)]
pub struct Scanned {
    /// Findings, suppressions and policy applied.
    pub findings: Vec<Finding>,
    /// Links to follow (when collected).
    pub links: Vec<LinkToFollow>,
    /// The page's inline suppressions.
    pub suppressions: Suppressions,
    /// Every http(s) link of the page (when collected), resolved against its URL.
    pub page_links: Vec<Url>,
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
        let scanned = self.scan_html(target, &as_html(format, text), text, None);
        self.apply_policy(scanned.findings)
    }

    /// Scans `html` (the source itself, or Markdown rendered with its lines kept);
    /// `source` is what the user gave, for columns. Suppression comments are applied;
    /// the policy is left to the caller.
    fn scan_html(&self, target: &str, html: &str, source: &str, url: Option<&Url>) -> Scanned {
        let page = Page::from_html(html, url.cloned());
        let suppressions = Suppressions::from_comments(&page.comments);
        let context = Context::new(&page, self.library, target, source);
        let mut findings = context.detect_all();
        findings.retain(|finding| !suppressions.suppresses(finding));
        // A line is always one of the source's. Rendered Markdown can run ahead of its
        // source on broken raw HTML (an attribute left open swallows the lines after
        // it); such a place is reported at the source's last line.
        let last_line = u32::try_from(context.line_count()).unwrap_or(u32::MAX);
        for finding in &mut findings {
            if let Some(location) = &mut finding.location
                && location.line > last_line
            {
                location.line = last_line;
                location.column = 1;
            }
        }
        let links = if self.options.collect_links {
            links_to_follow(&context)
        } else {
            Vec::new()
        };
        let page_links = if self.options.collect_page_links {
            page.links
                .iter()
                .filter_map(|link| link.url.clone())
                .collect()
        } else {
            Vec::new()
        };
        Scanned {
            findings,
            links,
            suppressions,
            page_links,
        }
    }

    /// Scans raw bytes: binary check, decoding, empty check, then [`Scanner::scan_text`].
    /// `Err` carries the problem when nothing could be scanned.
    pub fn scan_bytes(
        &self,
        target: &str,
        format: SourceFormat,
        bytes: &[u8],
    ) -> Result<Vec<Finding>, (InputProblem, Vec<Finding>)> {
        self.scan_source(target, format, bytes)
            .map(|scanned| scanned.findings)
    }

    /// [`Scanner::scan_bytes`], keeping links and suppressions.
    fn scan_source(
        &self,
        target: &str,
        format: SourceFormat,
        bytes: &[u8],
    ) -> Result<Scanned, (InputProblem, Vec<Finding>)> {
        if let Err(problem) = input::check_not_binary(bytes) {
            let finding = self.problem_finding(target, &problem);
            return Err((problem, self.apply_policy(finding.into_iter().collect())));
        }
        let decoded = input::decode(bytes, format);
        self.scan_decoded(
            target,
            format,
            &decoded.text,
            decoded.guessed_encoding.as_deref(),
            bytes.is_empty(),
            None,
        )
    }

    /// Scans a page fetched over HTTP (already decoded); a truncated body gets a note.
    pub fn scan_fetched(
        &self,
        target: &str,
        page: &FetchedPage,
    ) -> Result<Scanned, (InputProblem, Vec<Finding>)> {
        // A body sent as HTML that is no text (an image, an archive) is refused as the
        // same bytes in a file are, not scanned as a page of garbage.
        let mut outcome = match input::check_not_binary(page.text.as_bytes()) {
            Err(problem) => Err(self.failure(target, problem)),
            Ok(()) => self.scan_decoded(
                target,
                SourceFormat::Html,
                &page.text,
                page.guessed_encoding.as_deref(),
                page.text.is_empty(),
                Some(&page.url),
            ),
        };
        if let Some(reason) = &page.truncated {
            let note = self.rule_finding("scan-error/truncated", target, reason);
            let note = self.apply_policy(note.into_iter().collect());
            match &mut outcome {
                Ok(scanned) => scanned.findings.extend(note),
                Err((_, findings)) => findings.extend(note),
            }
        }
        outcome
    }

    /// The shared tail of every scan: empty check, depth check, then the page.
    fn scan_decoded(
        &self,
        target: &str,
        format: SourceFormat,
        text: &str,
        guessed_encoding: Option<&str>,
        no_bytes: bool,
        url: Option<&Url>,
    ) -> Result<Scanned, (InputProblem, Vec<Finding>)> {
        let mut findings = Vec::new();
        if let Some(encoding) = guessed_encoding {
            findings.extend(self.rule_finding("scan-error/not-utf8", target, encoding));
        }
        if text.trim().is_empty() {
            let detail = if no_bytes { "" } else { " (only whitespace)" };
            findings.extend(self.rule_finding("scan-error/empty", target, detail));
            return Ok(Scanned {
                findings: self.apply_policy(findings),
                ..Scanned::default()
            });
        }
        // Markdown nests through its own syntax (quotes, lists): check what it renders.
        let html = as_html(format, text);
        if let Some(depth) = input::nesting::depth_beyond(&html, self.options.max_depth) {
            let problem = InputProblem::TooDeep {
                depth,
                limit: self.options.max_depth,
            };
            findings.extend(self.problem_finding(target, &problem));
            return Err((problem, self.apply_policy(findings)));
        }
        let mut scanned = self.scan_html(target, &html, text, url);
        findings.append(&mut scanned.findings);
        scanned.findings = self.apply_policy(findings);
        Ok(scanned)
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
            (None, Target::Stdin) => {
                input::read_limited(std::io::stdin().lock(), self.options.max_file_size)
                    .map(|bytes| (bytes, self.options.stdin_format))
            }
            (None, Target::Url(_)) => Err(InputProblem::Unreadable(
                "URLs are not fetched in this run (--offline); save the page and scan the file"
                    .to_string(),
            )),
        };
        let outcome = match read {
            Ok((bytes, format)) => self.scan_source(&name, format, &bytes),
            Err(problem) => Err(self.failure(&name, problem)),
        };
        TargetResult::from_outcome(name, kind, outcome)
    }

    /// A target that could not be scanned: its problem and `scan-error` finding.
    pub fn failure(&self, target: &str, problem: InputProblem) -> (InputProblem, Vec<Finding>) {
        let findings = self.problem_finding(target, &problem).into_iter().collect();
        (problem, self.apply_policy(findings))
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

    /// The policy (disabled rules, severity overrides) applied to findings.
    pub fn apply_policy(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter_map(|finding| self.policy.apply(finding))
            .collect()
    }
}

impl TargetResult {
    /// The result of a scan (or of a failure to scan) of target `name`.
    pub fn from_outcome(
        name: String,
        kind: TargetKind,
        outcome: Result<Scanned, (InputProblem, Vec<Finding>)>,
    ) -> TargetResult {
        let (status, error, scanned) = match outcome {
            Ok(scanned) => (TargetStatus::Scanned, None, scanned),
            Err((problem, findings)) => (
                TargetStatus::Failed,
                Some(problem.to_string()),
                Scanned {
                    findings,
                    ..Scanned::default()
                },
            ),
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
            findings: scanned.findings,
            links: scanned.links,
            suppressions: scanned.suppressions,
            page_links: scanned.page_links,
        }
    }
}

/// The page's affiliate links and general shortener links, each with its place.
fn links_to_follow(context: &Context<'_>) -> Vec<LinkToFollow> {
    context
        .links
        .iter()
        .filter(|link| {
            link.is_affiliate_like()
                || link.classification.kind == crate::networks::LinkKind::Shortener
        })
        .map(|link| {
            let page_link = &context.page.links[link.index];
            LinkToFollow {
                url: link.url.clone().into_owned(),
                location: context.location(page_link.line, &page_link.href),
                text: page_link.text.to_string(),
                evidence: context.tag_evidence(page_link.node),
                network: link.classification.network.clone(),
            }
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_with_an_unclosed_html_attribute_reports_lines_of_the_source() {
        // Found by the scan_markdown fuzz target: findings past the last line.
        let source =
            include_bytes!("../fuzz/corpus/scan_markdown/regression-unclosed-attribute.md");
        let library = Library::load(&[]).expect("the built-in library loads");
        let scanner = Scanner::new(&library, Policy::default(), ScanOptions::default());
        let findings = scanner
            .scan_bytes("post.md", SourceFormat::Markdown, source)
            .expect("scanned");
        assert!(!findings.is_empty());
        let newlines = source.iter().filter(|&&byte| byte == b'\n').count();
        let lines = u32::try_from(newlines + 1).expect("few lines");
        for finding in findings {
            let line = finding.location.map(|location| location.line).unwrap_or(1);
            assert!((1..=lines).contains(&line), "{finding:?}");
        }
    }
}
