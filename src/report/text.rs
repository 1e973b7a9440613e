//! The `text` format: compiler-like messages for people, one block per finding, then the
//! targets that could not be scanned, then a one-line summary.
//!
//! ```text
//! error[claim-urgency/only-n-left]: Fake scarcity claim 'Only 2 left'
//!   --> fixtures/articles/x.html:42:3
//!    | Only 2 left in stock, order now!
//!    = help: Show real stock levels or remove the claim.
//!
//! error: cannot scan https://shop.example/: connection refused
//!
//! 2 errors, 0 warnings, 0 notes in 2 targets (1 failed)
//! ```
//!
//! Colours (severity, dimmed rule id) are written only when the caller asks for them.
//! Text taken from scanned pages (messages, evidence, targets) may hold control
//! characters; they are shown escaped so that a hostile page cannot drive the terminal.
//! This is not a machine-readable format: use `json`, `jsonl` or `sarif` for that.

use std::fmt::Write as _;
use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::finding::{Finding, Hop, Report, Severity, Summary, TargetRecord, TargetStatus};

/// Most evidence lines shown under a finding; the rest is elided.
const EVIDENCE_MAX_LINES: usize = 5;

/// Most characters shown of one evidence line; the rest is elided.
const EVIDENCE_MAX_LINE_CHARS: usize = 200;

/// Style of a severity label.
fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Error => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
        Severity::Warning => Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold(),
        Severity::Note => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
    }
}

/// Style of a rule id.
const RULE_ID_STYLE: Style = Style::new().dimmed();

/// Writes `text` in `style` when `color` is on, plain otherwise.
fn write_styled(out: &mut String, style: Style, text: &str, color: bool) {
    if color {
        let _ = write!(out, "{}{text}{}", style.render(), style.render_reset());
    } else {
        out.push_str(text);
    }
}

/// True for characters that would change the terminal or reorder text when printed:
/// control characters and Unicode bidirectional controls.
fn is_unsafe_to_print(character: char) -> bool {
    character.is_control()
        || matches!(character, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with tabs as spaces and every other unsafe character escaped as `\u{..}`.
fn printable(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for character in text.chars() {
        if character == '\t' {
            shown.push(' ');
        } else if is_unsafe_to_print(character) {
            let _ = write!(shown, "\\u{{{:x}}}", u32::from(character));
        } else {
            shown.push(character);
        }
    }
    shown
}

/// `text` cut to `max_chars` characters, with `…` when something was cut.
fn truncated(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// `count` and `noun`, the noun in the plural unless `count` is 1.
fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Appends one finding's block (header, location, evidence, help) and a blank line.
pub(crate) fn push_finding(out: &mut String, finding: &Finding, color: bool) {
    write_styled(
        out,
        severity_style(finding.severity),
        finding.severity.name(),
        color,
    );
    write_styled(
        out,
        RULE_ID_STYLE,
        &format!("[{}]", printable(&finding.rule)),
        color,
    );
    let _ = writeln!(out, ": {}", printable(&finding.message));

    let target = printable(&finding.target);
    match finding.location {
        Some(location) => {
            let _ = writeln!(out, "  --> {target}:{}:{}", location.line, location.column);
        }
        None => {
            let _ = writeln!(out, "  --> {target}");
        }
    }

    if let Some(evidence) = &finding.evidence {
        let lines: Vec<&str> = evidence.lines().collect();
        for line in lines.iter().take(EVIDENCE_MAX_LINES) {
            let shown = truncated(&printable(line.trim_end()), EVIDENCE_MAX_LINE_CHARS);
            if shown.is_empty() {
                out.push_str("   |\n");
            } else {
                let _ = writeln!(out, "   | {shown}");
            }
        }
        if lines.len() > EVIDENCE_MAX_LINES {
            out.push_str("   | …\n");
        }
    }

    if let Some(chain) = &finding.chain {
        out.push_str("   = chain:\n");
        push_hops(out, chain);
    }
    if !finding.help.trim().is_empty() {
        let _ = writeln!(out, "   = help: {}", printable(&finding.help));
    }
    out.push('\n');
}

/// Appends a followed chain, one hop per line: status, URL, then how it was reached
/// and what it did.
fn push_hops(out: &mut String, hops: &[Hop]) {
    for hop in hops {
        let status = hop
            .status
            .map(|status| status.to_string())
            .unwrap_or_else(|| "---".to_string());
        let mut notes = Vec::new();
        if hop.via != "http" {
            match hop.delay {
                Some(delay) => notes.push(format!("{} after {delay} s", hop.via)),
                None => notes.push(hop.via.clone()),
            }
        }
        if let Some(elapsed) = hop.elapsed_ms {
            notes.push(format!("{elapsed} ms"));
        }
        if hop.set_cookie {
            notes.push("sets a cookie".to_string());
        }
        if let Some(error) = &hop.error {
            notes.push(error.clone());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", notes.join(", "))
        };
        let url = truncated(&printable(&hop.url), EVIDENCE_MAX_LINE_CHARS);
        let _ = writeln!(out, "     {status:>3} {url}{}", printable(&notes));
    }
}

/// Appends the chain of a followed URL target that no finding shows.
pub(crate) fn push_target_chain(out: &mut String, target: &TargetRecord, hops: &[Hop]) {
    let _ = writeln!(
        out,
        "{} → {}",
        printable(&target.target),
        printable(target.final_url.as_deref().unwrap_or("(nowhere)"))
    );
    push_hops(out, hops);
    out.push('\n');
}

/// Appends `error: cannot scan <target>: <error>` for a failed target.
pub(crate) fn push_failed_target(out: &mut String, target: &TargetRecord, color: bool) {
    write_styled(out, severity_style(Severity::Error), "error", color);
    let _ = write!(out, ": cannot scan {}", printable(&target.target));
    if let Some(error) = &target.error {
        let _ = write!(out, ": {}", printable(error));
    }
    out.push('\n');
}

/// The closing line: counts by severity and targets, or `No findings in N targets.`.
pub fn summary_line(summary: &Summary) -> String {
    let failed = if summary.failed > 0 {
        format!(" ({} failed)", summary.failed)
    } else {
        String::new()
    };
    let targets = counted(summary.targets, "target");
    if summary.error + summary.warning + summary.note == 0 {
        format!("No findings in {targets}{failed}.")
    } else {
        format!(
            "{}, {}, {} in {targets}{failed}",
            counted(summary.error, "error"),
            counted(summary.warning, "warning"),
            counted(summary.note, "note"),
        )
    }
}

/// Writes the whole report as text; ANSI colours only when `color` is true.
pub fn write_report(report: &Report, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
    let mut text = String::new();
    for finding in &report.findings {
        push_finding(&mut text, finding, color);
    }
    // Chains of followed URLs that no finding has shown already.
    for target in &report.targets {
        let Some(hops) = &target.chain else {
            continue;
        };
        let shown = report
            .findings
            .iter()
            .any(|finding| finding.target == target.target && finding.chain.is_some());
        if !shown {
            push_target_chain(&mut text, target, hops);
        }
    }
    let failed: Vec<&TargetRecord> = report
        .targets
        .iter()
        .filter(|target| target.status == TargetStatus::Failed)
        .collect();
    for target in &failed {
        push_failed_target(&mut text, target, color);
    }
    if !failed.is_empty() {
        text.push('\n');
    }
    text.push_str(&summary_line(&report.summary));
    text.push('\n');
    out.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, Location, TargetKind};
    use crate::report::sample;

    fn rendered(report: &Report, color: bool) -> String {
        let mut bytes = Vec::new();
        write_report(report, &mut bytes, color).expect("writing to memory cannot fail");
        String::from_utf8(bytes).expect("text output is UTF-8")
    }

    fn scanned(target: &str) -> TargetRecord {
        TargetRecord {
            target: target.to_string(),
            kind: TargetKind::File,
            status: TargetStatus::Scanned,
            error: None,
            final_url: None,
            chain: None,
        }
    }

    fn finding(severity: Severity, evidence: Option<&str>) -> Finding {
        Finding {
            rule: "claim-price/lowest-ever".to_string(),
            category: "claim-price".to_string(),
            severity,
            confidence: Confidence::Medium,
            message: "Superlative price claim".to_string(),
            target: "post.md".to_string(),
            location: Some(Location { line: 3, column: 7 }),
            evidence: evidence.map(str::to_string),
            url: None,
            network: None,
            chain: None,
            help: "Name the price.".to_string(),
        }
    }

    #[test]
    fn sample_report_renders_as_compiler_messages() {
        // Findings come sorted by target, line and column (Report::new sorts them).
        let expected = "\
error[claim-urgency/only-n-left]: Fake scarcity claim 'Only 2 left'
  --> fixtures/articles/x.html:42:3
   | Only 2 left in stock, order now!
   = help: Show real stock levels or remove the claim.

warning[claim-price/lowest-ever]: Superlative price claim 'Lowest price ever'
  --> fixtures/articles/x.html:50:1
   | Lowest price ever on this phone.
   = help: Name the price and the date.

error[scan-error/unreachable]: Cannot fetch the page: connection refused
  --> https://shop.example/deals?id=1
   = help: Check the address, or scan a saved copy of the page.

https://shop.example/deals?id=1 → (nowhere)
     --- https://shop.example/deals?id=1  (12 ms, connection refused)

error: cannot scan https://shop.example/deals?id=1: connection refused

2 errors, 1 warning, 0 notes in 2 targets (1 failed)
";
        assert_eq!(rendered(&sample::report(), false), expected);
    }

    #[test]
    fn no_colour_means_no_escape_codes() {
        assert!(!rendered(&sample::report(), false).contains('\u{1b}'));
    }

    #[test]
    fn colour_styles_severities_and_dims_rule_ids() {
        let coloured = rendered(&sample::report(), true);
        let red_bold = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
        let yellow_bold = Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold();
        let reset = red_bold.render_reset().to_string();
        assert!(coloured.contains(&format!("{}error{reset}", red_bold.render())));
        assert!(coloured.contains(&format!("{}warning{reset}", yellow_bold.render())));
        assert!(coloured.contains(&format!(
            "{}[claim-urgency/only-n-left]{}",
            RULE_ID_STYLE.render(),
            RULE_ID_STYLE.render_reset()
        )));
        assert!(coloured.contains(&format!("{}error{reset}: cannot scan", red_bold.render())));
        // Without the escapes, the text is the same as the plain rendering.
        let stripped = strip_escapes(&coloured);
        assert_eq!(stripped, rendered(&sample::report(), false));
    }

    #[test]
    fn notes_are_cyan() {
        let report = Report::new(
            vec![scanned("post.md")],
            vec![finding(Severity::Note, None)],
        );
        let coloured = rendered(&report, true);
        let cyan = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
        assert!(coloured.starts_with(&format!("{}note{}", cyan.render(), cyan.render_reset())));
    }

    /// Removes CSI sequences (`ESC [ ... letter`).
    fn strip_escapes(text: &str) -> String {
        let mut plain = String::new();
        let mut characters = text.chars();
        while let Some(character) = characters.next() {
            if character == '\u{1b}' {
                for inner in characters.by_ref() {
                    if inner.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                plain.push(character);
            }
        }
        plain
    }

    #[test]
    fn a_chain_is_shown_one_hop_per_line() {
        let hop = |url: &str, status: Option<u16>, via: &str| Hop {
            url: url.to_string(),
            status,
            via: via.to_string(),
            delay: (via == "meta-refresh").then_some(0.0),
            set_cookie: status == Some(302),
            elapsed_ms: status.map(|_| 12),
            error: status
                .is_none()
                .then(|| "timed out after 2.0 s".to_string()),
        };
        let mut finding = finding(Severity::Warning, None);
        finding.chain = Some(vec![
            hop("https://bit.ly/x", Some(301), "http"),
            hop("https://s.click.aliexpress.com/e/_A", Some(302), "http"),
            hop("https://go.example/", Some(200), "meta-refresh"),
            hop("https://slow.example/", None, "javascript"),
        ]);
        let report = Report::new(vec![scanned("a.html")], vec![finding]);
        let text = rendered(&report, false);
        assert!(
            text.contains(
                "   = chain:\n     301 https://bit.ly/x  (12 ms)\n     302 https://s.click.aliexpress.com/e/_A  (12 ms, sets a cookie)\n     200 https://go.example/  (meta-refresh after 0 s, 12 ms)\n     --- https://slow.example/  (javascript, timed out after 2.0 s)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn no_findings_says_so() {
        let report = Report::new(vec![scanned("a.md"), scanned("b.md")], Vec::new());
        assert_eq!(rendered(&report, false), "No findings in 2 targets.\n");
        let one = Report::new(vec![scanned("a.md")], Vec::new());
        assert_eq!(rendered(&one, false), "No findings in 1 target.\n");
    }

    #[test]
    fn summary_uses_singular_for_one() {
        let report = Report::new(
            vec![scanned("post.md")],
            vec![
                finding(Severity::Error, None),
                finding(Severity::Warning, None),
                finding(Severity::Note, None),
            ],
        );
        let text = rendered(&report, false);
        assert!(
            text.ends_with("\n\n1 error, 1 warning, 1 note in 1 target\n"),
            "{text}"
        );
    }

    #[test]
    fn summary_line_counts_failed_targets() {
        let summary = Summary {
            targets: 12,
            scanned: 11,
            failed: 1,
            error: 3,
            warning: 1,
            note: 0,
        };
        assert_eq!(
            summary_line(&summary),
            "3 errors, 1 warning, 0 notes in 12 targets (1 failed)"
        );
        let clean = Summary {
            error: 0,
            warning: 0,
            ..summary
        };
        assert_eq!(
            summary_line(&clean),
            "No findings in 12 targets (1 failed)."
        );
    }

    #[test]
    fn multi_line_evidence_gets_one_gutter_per_line() {
        let report = Report::new(
            vec![scanned("post.md")],
            vec![finding(
                Severity::Warning,
                Some("<div>\n\n\t<p>Lowest</p>  \r\n</div>"),
            )],
        );
        let text = rendered(&report, false);
        assert!(
            text.contains("   | <div>\n   |\n   |  <p>Lowest</p>\n   | </div>\n   = help:"),
            "{text}"
        );
    }

    #[test]
    fn long_evidence_is_elided() {
        let long_line = "x".repeat(EVIDENCE_MAX_LINE_CHARS + 10);
        let many_lines = ["line"; EVIDENCE_MAX_LINES + 3].join("\n");
        let report = Report::new(
            vec![scanned("post.md")],
            vec![
                finding(Severity::Warning, Some(&long_line)),
                finding(Severity::Note, Some(&many_lines)),
            ],
        );
        let text = rendered(&report, false);
        let cut = format!("   | {}…\n", "x".repeat(EVIDENCE_MAX_LINE_CHARS));
        assert!(text.contains(&cut), "{text}");
        assert_eq!(text.matches("   | line\n").count(), EVIDENCE_MAX_LINES);
        assert!(text.contains("   | line\n   | …\n"), "{text}");
    }

    #[test]
    fn control_characters_from_pages_are_escaped() {
        let mut hostile = finding(Severity::Error, Some("Only \u{1b}[2J2 left\u{202e}"));
        hostile.message = "Claim \u{7}'x'".to_string();
        let report = Report::new(vec![scanned("post.md")], vec![hostile]);
        let text = rendered(&report, false);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'));
        assert!(text.contains("Claim \\u{7}'x'"), "{text}");
        assert!(
            text.contains("   | Only \\u{1b}[2J2 left\\u{202e}\n"),
            "{text}"
        );
    }

    #[test]
    fn empty_help_is_not_printed() {
        let mut quiet = finding(Severity::Note, None);
        quiet.help = String::new();
        quiet.location = None;
        let report = Report::new(vec![scanned("post.md")], vec![quiet]);
        assert_eq!(
            rendered(&report, false),
            "note[claim-price/lowest-ever]: Superlative price claim\n  --> post.md\n\n\
             0 errors, 0 warnings, 1 note in 1 target\n"
        );
    }
}
