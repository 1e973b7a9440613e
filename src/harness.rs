//! The rule-example harness: runs every example of every rule through the same engine
//! the scanner uses, for `promoscan rules test` and `cargo test`.
//!
//! Text examples go through the claims engine as one block of visible text (same
//! normalisation, sentence splitting and `unless` window as a page). Snippet examples
//! (`{ html = ... }`, `{ markdown = ... }`, `{ hex = ... }`, `{ path = ... }`) go through
//! the whole scanner. Chain examples (`{ chain = [...] }`, `{ page_chain = [...] }`) go
//! through the redirect-chain detector.

use crate::config::Policy;
use crate::detect::claims::find_claims;
use crate::detect::redirect_chain::{self, ChainSubject};
use crate::follow::example::parse_chain;
use crate::follow::fetched_page;
use crate::input::{SourceFormat, Target};
use crate::library::Library;
use crate::page::TextScope;
use crate::page::text::{TextBlock, TextBlockBuilder};
use crate::rules::{Example, Rule, Snippet};
use crate::scan::{ScanOptions, Scanner};

/// Which list an example came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleKind {
    /// `examples.match`: must produce a finding of the rule.
    Match,
    /// `examples.ok`: must not.
    Ok,
    /// `examples.todo_match`: a known miss.
    TodoMatch,
    /// `examples.todo_ok`: a known false alarm.
    TodoOk,
}

impl ExampleKind {
    /// The list's name in rule files.
    pub fn name(self) -> &'static str {
        match self {
            ExampleKind::Match => "match",
            ExampleKind::Ok => "ok",
            ExampleKind::TodoMatch => "todo_match",
            ExampleKind::TodoOk => "todo_ok",
        }
    }

    /// True when the example is expected to produce a finding.
    fn expects_finding(self) -> bool {
        matches!(self, ExampleKind::Match | ExampleKind::TodoMatch)
    }

    /// True for todo lists, whose outcome is reported but never fails.
    pub fn is_todo(self) -> bool {
        matches!(self, ExampleKind::TodoMatch | ExampleKind::TodoOk)
    }
}

/// The outcome of one example.
#[derive(Debug, Clone)]
pub struct ExampleOutcome {
    /// The rule id.
    pub rule: String,
    /// Where the rule is defined (`file:line`).
    pub origin: String,
    /// Which list the example is in.
    pub kind: ExampleKind,
    /// The example, as a short printable string.
    pub example: String,
    /// True when the engine did what the list expects (for todo lists: what the
    /// non-todo list would expect, i.e. the todo is fixed).
    pub behaved: bool,
}

impl ExampleOutcome {
    /// True when this outcome fails the test run (a non-todo example misbehaved).
    pub fn fails(&self) -> bool {
        !self.kind.is_todo() && !self.behaved
    }
}

/// Runs every example of every rule in the library.
pub fn run(library: &Library) -> Vec<ExampleOutcome> {
    library
        .rules
        .rules()
        .iter()
        .flat_map(|rule| run_rule(library, rule))
        .collect()
}

/// Runs the examples of one rule.
pub fn run_rule(library: &Library, rule: &Rule) -> Vec<ExampleOutcome> {
    let lists = [
        (ExampleKind::Match, &rule.examples.must_match),
        (ExampleKind::Ok, &rule.examples.ok),
        (ExampleKind::TodoMatch, &rule.examples.todo_match),
        (ExampleKind::TodoOk, &rule.examples.todo_ok),
    ];
    let mut outcomes = Vec::new();
    for (kind, examples) in lists {
        for example in examples {
            let found = produces_finding(library, rule, example);
            outcomes.push(ExampleOutcome {
                rule: rule.id.clone(),
                origin: format!("{}:{}", rule.origin.file, rule.origin.line),
                kind,
                example: example.describe(),
                behaved: found == kind.expects_finding(),
            });
        }
    }
    outcomes
}

/// True when `example` produces a finding of `rule`.
fn produces_finding(library: &Library, rule: &Rule, example: &Example) -> bool {
    let rules = &library.rules;
    match example {
        Example::Text(text) => {
            let Some(block) = example_block(rule, text) else {
                return false;
            };
            find_claims(rules, &block)
                .iter()
                .any(|claim| rules.rule_at(claim.rule_index).id == rule.id)
        }
        Example::Snippet(snippet) => snippet_findings(library, snippet)
            .iter()
            .any(|finding| finding.rule == rule.id),
    }
}

/// A text example as a block of the rule's first scope (visible text when it has it).
fn example_block(rule: &Rule, text: &str) -> Option<TextBlock> {
    let scope = if rule.scope.contains(&TextScope::Text) || rule.scope.is_empty() {
        TextScope::Text
    } else {
        rule.scope[0]
    };
    let mut builder = TextBlockBuilder::new(scope, 0);
    builder.push(text, 1);
    builder.finish()
}

fn snippet_findings(library: &Library, snippet: &Snippet) -> Vec<crate::finding::Finding> {
    let options = ScanOptions {
        max_file_size: snippet
            .max_bytes
            .unwrap_or(crate::input::DEFAULT_MAX_FILE_SIZE),
        max_depth: snippet
            .max_depth
            .unwrap_or(crate::input::nesting::DEFAULT_MAX_DEPTH),
        ..ScanOptions::default()
    };
    if let Some(chain) = snippet.chain.as_ref().or(snippet.page_chain.as_ref()) {
        let Ok(chain) = parse_chain(chain) else {
            return Vec::new();
        };
        let subject = ChainSubject {
            target: "example",
            link_text: snippet.link_text.as_deref(),
            is_page: snippet.page_chain.is_some(),
            ..ChainSubject::default()
        };
        return redirect_chain::detect(library, &chain, &subject);
    }
    let scanner = Scanner::new(library, Policy::default(), options);
    if let (Some(html), Some(cap)) = (&snippet.html, snippet.fetched_cap) {
        let url = url::Url::parse("https://example.com/").expect("a valid URL");
        let page = fetched_page(url, html.as_bytes(), cap);
        return match scanner.scan_fetched("example", &page) {
            Ok(scanned) => scanned.findings,
            Err((_, findings)) => findings,
        };
    }
    if let Some(path) = &snippet.path {
        return scanner
            .scan_target(&Target::File(path.into()), None)
            .findings;
    }
    let (format, bytes) = if let Some(html) = &snippet.html {
        (SourceFormat::Html, html.as_bytes().to_vec())
    } else if let Some(markdown) = &snippet.markdown {
        (SourceFormat::Markdown, markdown.as_bytes().to_vec())
    } else if let Some(hex) = &snippet.hex {
        (SourceFormat::Markdown, decode_hex(hex))
    } else {
        return Vec::new();
    };
    if bytes.len() as u64 > options_limit(snippet) {
        let problem = crate::input::InputProblem::TooLarge {
            size: bytes.len() as u64,
            limit: options_limit(snippet),
        };
        let target = Target::File("example".into());
        return scanner.scan_target(&target, Some(problem)).findings;
    }
    match scanner.scan_bytes("example", format, &bytes) {
        Ok(findings) => findings,
        Err((_, findings)) => findings,
    }
}

fn options_limit(snippet: &Snippet) -> u64 {
    snippet
        .max_bytes
        .unwrap_or(crate::input::DEFAULT_MAX_FILE_SIZE)
}

/// Bytes from hex digits; spaces ignored; an odd trailing digit is dropped.
fn decode_hex(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex
        .chars()
        .filter_map(|c| c.to_digit(16))
        .map(|d| d as u8)
        .collect();
    digits
        .chunks_exact(2)
        .map(|pair| pair[0] * 16 + pair[1])
        .collect()
}
