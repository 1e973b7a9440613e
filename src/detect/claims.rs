//! The claims detector: text rules from the pattern library run over every text block
//! of a page, one sentence at a time, with their `unless` qualifiers.
//!
//! All text rules of a scope are matched together with one `RegexSet` pass per
//! sentence; only the rules the set reports are run again to find the match position.

use crate::finding::{Finding, Location, Severity};
use crate::page::text::sentences;
use crate::page::{Page, TextBlock};
use crate::rules::{Effect, RuleSet, Within};

/// Longest matched text quoted in a message.
const MAX_QUOTED_MATCH: usize = 80;
/// Longest evidence (the sentence) kept in a finding.
const MAX_EVIDENCE: usize = 240;

/// One text rule matching in one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMatch {
    /// Index of the rule in the rule set.
    pub rule_index: usize,
    /// Byte range of the match in the block's text.
    pub matched: std::ops::Range<usize>,
    /// Byte range of the sentence holding it.
    pub sentence: std::ops::Range<usize>,
    /// Severity after the rule's qualifier (never below `note`: dropped instead).
    pub severity: Severity,
}

/// Runs every text rule that applies to the block's scope over the block, sentence by
/// sentence. At most one match per rule and sentence.
pub fn find_claims(rules: &RuleSet, block: &TextBlock) -> Vec<ClaimMatch> {
    let set = rules.text_rules();
    if set.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for sentence in sentences(&block.text) {
        let sentence_text = &block.text[sentence.clone()];
        // Most sentences match no rule: the plain "any match?" search is much cheaper
        // than asking which rules match (an overlapping search over every pattern).
        if !set.is_match(sentence_text) {
            continue;
        }
        for rule_index in set.matching_rules(sentence_text) {
            let rule = rules.rule_at(rule_index);
            if !rule.scope.contains(&block.scope) {
                continue;
            }
            let Some(pattern) = &rule.pattern else {
                continue;
            };
            let Some(matched) = pattern.find(sentence_text) else {
                continue;
            };
            let mut severity = Some(rule.severity);
            if let Some(unless) = &rule.unless {
                let window = match unless.within {
                    Within::Sentence => sentence_text,
                    Within::Block => block.text.as_str(),
                };
                if unless.pattern.is_match(window) {
                    severity = match unless.effect {
                        Effect::Suppress => None,
                        Effect::Downgrade => rule.severity.downgraded(),
                    };
                }
            }
            if let Some(severity) = severity {
                found.push(ClaimMatch {
                    rule_index,
                    matched: sentence.start + matched.start..sentence.start + matched.end,
                    sentence: sentence.clone(),
                    severity,
                });
            }
        }
    }
    found
}

/// The claims detector over a whole page. `source` is the text of the file the user gave
/// (used to find the column of a match on its line). Blocks for which `is_hidden` says
/// true are skipped: claims are judged in what readers see (hidden offer text is the
/// hidden-content detector's).
pub fn detect(
    page: &Page,
    rules: &RuleSet,
    target: &str,
    source: &str,
    is_hidden: impl Fn(usize) -> bool,
) -> Vec<Finding> {
    // The source's lines are only needed for a column, so only split once a block has
    // a claim (most pages have none).
    let mut source_lines: Option<Vec<&str>> = None;
    let mut findings = Vec::new();
    for block in &page.blocks {
        if block.scope == crate::page::TextScope::Text && is_hidden(block.node) {
            continue;
        }
        for claim in find_claims(rules, block) {
            let rule = rules.rule_at(claim.rule_index);
            let matched = &block.text[claim.matched.clone()];
            let line = block.line_at(claim.matched.start);
            let source_lines = source_lines.get_or_insert_with(|| source.lines().collect());
            let column = column_of(source_lines, line, matched);
            findings.push(Finding {
                rule: rule.id.clone(),
                category: rule.category.clone(),
                severity: claim.severity,
                confidence: rule.confidence,
                message: rule.message_for(&shorten(matched, MAX_QUOTED_MATCH)),
                target: target.to_string(),
                location: Some(Location { line, column }),
                evidence: Some(shorten(&block.text[claim.sentence.clone()], MAX_EVIDENCE)),
                url: None,
                network: None,
                chain: None,
                help: rule.help.clone(),
            });
        }
    }
    findings
}

/// The 1-based character column of `matched` on source line `line`: where its first word
/// appears on that line (case-insensitive), else 1. Source lines hold markup and
/// entities, so this is a best effort that is right for ordinary prose.
fn column_of(source_lines: &[&str], line: u32, matched: &str) -> u32 {
    let Some(source_line) = source_lines.get(line.saturating_sub(1) as usize) else {
        return 1;
    };
    let first_word = matched.split(' ').next().unwrap_or("");
    crate::position::column_of(source_line, first_word, true).unwrap_or(1)
}

/// `text` cut to at most `limit` characters, with an ellipsis when cut.
pub fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
