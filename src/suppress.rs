//! Inline suppressions written in the page (DESIGN §7), ESLint style:
//!
//! - `<!-- promoscan-disable-next-line RULE -->`: the line after the comment;
//! - `<!-- promoscan-disable RULE -->` ... `<!-- promoscan-enable RULE -->`: the lines in
//!   between (to the end of the file when never re-enabled).
//!
//! RULE is a rule id or a category, several separated by commas or spaces; none means
//! every rule. A text after ` -- ` is a free comment (the reason).

use crate::finding::Finding;
use crate::page::Comment;

/// One suppressed line range for some rules.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Range {
    /// Rule ids or categories; empty means all.
    names: Vec<String>,
    /// First suppressed line.
    first: u32,
    /// Last suppressed line.
    last: u32,
}

/// The suppressions of one page.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    ranges: Vec<Range>,
}

impl Suppressions {
    /// Reads the suppression comments of a page.
    pub fn from_comments(comments: &[Comment]) -> Suppressions {
        let mut ranges = Vec::new();
        // Open `disable` blocks: (names, first line).
        let mut open: Vec<(Vec<String>, u32)> = Vec::new();
        for comment in comments {
            let text = comment.text.split(" -- ").next().unwrap_or("").trim();
            let (directive, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
            let names: Vec<String> = rest
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect();
            match directive {
                "promoscan-disable-next-line" => ranges.push(Range {
                    names,
                    first: comment.line + 1,
                    last: comment.line + 1,
                }),
                "promoscan-disable-line" => ranges.push(Range {
                    names,
                    first: comment.line,
                    last: comment.line,
                }),
                "promoscan-disable" => open.push((names, comment.line)),
                "promoscan-enable" => {
                    let mut still_open = Vec::new();
                    for (open_names, first) in open.drain(..) {
                        let closes = names.is_empty() || names == open_names;
                        if closes {
                            ranges.push(Range {
                                names: open_names,
                                first,
                                last: comment.line,
                            });
                        } else {
                            still_open.push((open_names, first));
                        }
                    }
                    open = still_open;
                }
                _ => {}
            }
        }
        for (names, first) in open {
            ranges.push(Range {
                names,
                first,
                last: u32::MAX,
            });
        }
        Suppressions { ranges }
    }

    /// True when the finding is suppressed by a comment.
    pub fn suppresses(&self, finding: &Finding) -> bool {
        let Some(location) = finding.location else {
            return false;
        };
        self.ranges.iter().any(|range| {
            (range.first..=range.last).contains(&location.line)
                && (range.names.is_empty()
                    || range
                        .names
                        .iter()
                        .any(|name| *name == finding.rule || *name == finding.category))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, Location, Severity};

    fn comment(text: &str, line: u32) -> Comment {
        Comment {
            text: text.to_string(),
            line,
        }
    }

    fn finding(rule: &str, line: u32) -> Finding {
        Finding {
            rule: rule.to_string(),
            category: rule.split('/').next().unwrap_or("").to_string(),
            severity: Severity::Warning,
            confidence: Confidence::Medium,
            message: String::new(),
            target: "t".to_string(),
            location: Some(Location { line, column: 1 }),
            evidence: None,
            url: None,
            network: None,
            chain: None,
            help: String::new(),
        }
    }

    #[test]
    fn next_line_covers_only_the_next_line() {
        let s = Suppressions::from_comments(&[comment(
            " promoscan-disable-next-line claim-urgency -- reviewed ",
            10,
        )]);
        assert!(s.suppresses(&finding("claim-urgency/only-n-left", 11)));
        assert!(!s.suppresses(&finding("claim-urgency/only-n-left", 12)));
        assert!(!s.suppresses(&finding("claim-price/lowest-ever", 11)));
    }

    #[test]
    fn blocks_end_at_enable_or_end_of_file() {
        let s = Suppressions::from_comments(&[
            comment("promoscan-disable claim-price", 5),
            comment("promoscan-enable claim-price", 9),
            comment("promoscan-disable", 20),
        ]);
        assert!(s.suppresses(&finding("claim-price/was-now", 7)));
        assert!(!s.suppresses(&finding("claim-urgency/x", 7)));
        assert!(!s.suppresses(&finding("claim-price/was-now", 12)));
        assert!(s.suppresses(&finding("claim-urgency/x", 900)));
    }
}
