//! Detectors: functions from a [`Context`] (one page, its visibility, its classified
//! links and no-click loads, and the library) to findings. One module per detector; they
//! share the page model and never re-parse.

pub mod claims;
pub mod cookie_stuffing;
pub mod disclosure;
pub mod forced_redirect;
pub mod hidden_content;
pub mod link_hygiene;
pub mod loads;
pub mod redirect_chain;

use url::Url;

use crate::finding::{Confidence, Finding, Location, Severity};
use crate::library::Library;
use crate::networks::Classification;
use crate::page::visibility::Visibility;
use crate::page::{NodeId, Page};

pub use loads::{ClassifiedLink, Load, LoadVia, ScriptMatch};

/// What every detector sees for one page.
pub struct Context<'a> {
    /// The page.
    pub page: &'a Page,
    /// The library.
    pub library: &'a Library,
    /// Which elements a reader cannot see.
    pub visibility: Visibility,
    /// Links a reader can click, classified.
    pub links: Vec<ClassifiedLink>,
    /// Addresses the page loads without a click, classified.
    pub loads: Vec<Load>,
    /// What the page's scripts do without a click (signature matches).
    pub script_matches: Vec<ScriptMatch>,
    /// The target's name for findings.
    pub target: &'a str,
    /// The source text the user gave (for columns).
    pub source: &'a str,
    /// Byte offset where each source line starts (computed once, for columns).
    line_starts: Vec<usize>,
}

impl<'a> Context<'a> {
    /// Builds the shared context: visibility, classified links and loads.
    pub fn new(
        page: &'a Page,
        library: &'a Library,
        target: &'a str,
        source: &'a str,
    ) -> Context<'a> {
        let visibility = Visibility::compute(&page.document);
        let links = loads::classify_links(page, library, &visibility);
        let script_matches = loads::collect_script_matches(page, library);
        let loads = loads::collect_loads(page, library, &visibility, &script_matches);
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', source.as_bytes()).map(|index| index + 1))
            .collect();
        Context {
            page,
            library,
            visibility,
            links,
            loads,
            script_matches,
            target,
            source,
            line_starts,
        }
    }

    /// Runs every detector.
    pub fn detect_all(&self) -> Vec<Finding> {
        let mut findings = claims::detect(
            self.page,
            &self.library.rules,
            self.target,
            |line| self.source_line(line),
            |node| self.visibility.is_hidden(node),
        );
        findings.extend(cookie_stuffing::detect(self));
        findings.extend(forced_redirect::detect(self));
        findings.extend(hidden_content::detect(self));
        findings.extend(disclosure::detect(self));
        findings.extend(link_hygiene::detect(self));
        findings
    }

    /// A finding of detector rule `rule_id` (its metadata from the library).
    /// `fields` fill the message's `{name}` placeholders. `None` when the rule is not
    /// in the library.
    pub fn finding(&self, rule_id: &str, spec: FindingSpec<'_>) -> Option<Finding> {
        let rule = self.library.rules.get(rule_id)?;
        let mut message = rule.message.clone();
        for (name, value) in spec.fields {
            message = message.replace(&format!("{{{name}}}"), value.as_str());
        }
        let mut severity = Some(rule.severity);
        for _ in 0..spec.downgrade {
            severity = severity.and_then(Severity::downgraded);
        }
        let severity = severity?;
        Some(Finding {
            rule: rule.id.clone(),
            category: rule.category.clone(),
            severity,
            confidence: spec.confidence.unwrap_or(rule.confidence),
            message,
            target: self.target.to_string(),
            location: Some(self.location(spec.line, spec.column_hint)),
            evidence: spec
                .evidence
                .map(|e| crate::detect::claims::shorten(&e, 240)),
            url: spec.url.map(Url::to_string),
            network: spec.classification.and_then(|c| c.network.clone()),
            chain: None,
            help: rule.help.clone(),
        })
    }

    /// The place of `hint` (e.g. a URL) on source line `line`.
    pub fn location(&self, line: u32, hint: &str) -> Location {
        Location {
            line: line.max(1),
            column: column_of(self.source_line(line), hint),
        }
    }

    /// The number of lines of the source (a source with no newline has one).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text of 1-based source line `line` (empty when out of range).
    fn source_line(&self, line: u32) -> &'a str {
        let index = line.saturating_sub(1) as usize;
        let Some(&start) = self.line_starts.get(index) else {
            return "";
        };
        let end = self
            .line_starts
            .get(index + 1)
            .map(|next| next - 1)
            .unwrap_or(self.source.len());
        self.source[start..end].trim_end_matches('\r')
    }

    /// The element's start tag as evidence, e.g. `<iframe src="…" width="0">`.
    pub fn tag_evidence(&self, node: NodeId) -> String {
        let element = self.page.document.node(node);
        let mut text = format!("<{}", element.element_name().unwrap_or(""));
        for (name, value) in element.attrs() {
            text.push_str(&format!(" {name}=\"{value}\""));
        }
        text.push('>');
        text
    }
}

/// The details of one finding a detector makes.
#[derive(Default)]
pub struct FindingSpec<'a> {
    /// Source line.
    pub line: u32,
    /// Text to look for on the line to find the column (e.g. the URL).
    pub column_hint: &'a str,
    /// `{name}` placeholders of the message.
    pub fields: Vec<(&'a str, String)>,
    /// Evidence text.
    pub evidence: Option<String>,
    /// The URL involved.
    pub url: Option<&'a Url>,
    /// Its classification (gives the network).
    pub classification: Option<&'a Classification>,
    /// Steps below the rule's severity (a note downgraded is dropped).
    pub downgrade: u8,
    /// Overrides the rule's confidence.
    pub confidence: Option<Confidence>,
}

/// The 1-based column where `hint` (or its first 40 characters) appears on the line
/// `text`, else the column of its first non-blank character.
fn column_of(text: &str, hint: &str) -> u32 {
    let hint: String = hint.chars().take(40).collect();
    crate::position::column_of(text, &hint, false)
        .unwrap_or_else(|| crate::position::first_non_blank_column(text))
}
