//! The `jsonl` format: one JSON object per line, each tagged with a `"type"` (`target`,
//! `finding` or `summary`) and carrying the record's own fields (DESIGN §3).
//!
//! The per-line functions let a run stream results as they arrive, so that the output
//! stays valid after an interruption: every line is complete on its own. Callers that
//! stream should flush after each line. Ordering a whole report (targets, findings,
//! summary) is [`write_report`]'s job; deciding when to write a line is the caller's.

use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;

use crate::finding::{Finding, Report, Summary, TargetRecord};

/// One output line: the record's fields after a `"type"` tag.
#[derive(Serialize)]
struct TaggedLine<'a, Record: Serialize> {
    /// `target`, `finding` or `summary`.
    #[serde(rename = "type")]
    record_type: &'static str,
    /// The record, its fields written beside `type`.
    #[serde(flatten)]
    record: &'a Record,
}

/// Serialises one tagged line and writes it with a single `write_all`, newline included.
fn write_line<Record: Serialize>(
    out: &mut dyn Write,
    record_type: &'static str,
    record: &Record,
) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(&TaggedLine {
        record_type,
        record,
    })?;
    line.push(b'\n');
    out.write_all(&line)
}

/// Writes `{"type":"target", ...}` for one target.
pub fn write_target_line(out: &mut dyn Write, target: &TargetRecord) -> std::io::Result<()> {
    write_line(out, "target", target)
}

/// Writes `{"type":"finding", ...}` for one finding.
pub fn write_finding_line(out: &mut dyn Write, finding: &Finding) -> std::io::Result<()> {
    write_line(out, "finding", finding)
}

/// Writes `{"type":"summary", ...}`, the last line of a run.
pub fn write_summary_line(out: &mut dyn Write, summary: &Summary) -> std::io::Result<()> {
    write_line(out, "summary", summary)
}

/// Writes any other tagged line (an audit's `discovered` links, its summary).
pub fn write_tagged_line<Record: Serialize>(
    out: &mut dyn Write,
    record_type: &'static str,
    record: &Record,
) -> std::io::Result<()> {
    write_line(out, record_type, record)
}

/// Writes a whole report: for each target in the report's order, its findings (sorted)
/// and then its target line; the summary last. This is the shape a streamed run writes
/// ([`super::stream`]): a target line closes that target's findings.
pub fn write_report(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut by_target: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for finding in &report.findings {
        by_target
            .entry(finding.target.as_str())
            .or_default()
            .push(finding);
    }
    for target in &report.targets {
        for finding in by_target.remove(target.target.as_str()).unwrap_or_default() {
            write_finding_line(out, finding)?;
        }
        write_target_line(out, target)?;
    }
    // Findings of no listed target (none in a report a run builds), kept all the same.
    for finding in &report.findings {
        if by_target.contains_key(finding.target.as_str()) {
            write_finding_line(out, finding)?;
        }
    }
    write_summary_line(out, &report.summary)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::report::sample;

    fn lines_of(report: &Report) -> Vec<Value> {
        let mut bytes = Vec::new();
        write_report(report, &mut bytes).expect("writing to memory cannot fail");
        let text = String::from_utf8(bytes).expect("JSONL output is UTF-8");
        assert!(text.ends_with('\n'), "the last line ends with a newline");
        text.lines()
            .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
            .collect()
    }

    #[test]
    fn each_targets_findings_then_its_target_line_then_the_summary() {
        let lines = lines_of(&sample::report());
        let types: Vec<(&str, &str)> = lines
            .iter()
            .map(|line| {
                (
                    line["type"].as_str().expect("every line has a type"),
                    line["target"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            types,
            [
                ("finding", "fixtures/articles/x.html"),
                ("finding", "fixtures/articles/x.html"),
                ("target", "fixtures/articles/x.html"),
                ("finding", "https://shop.example/deals?id=1"),
                ("target", "https://shop.example/deals?id=1"),
                ("summary", ""),
            ]
        );
    }

    #[test]
    fn lines_carry_the_record_fields_beside_the_type() {
        let report = sample::report();
        let lines = lines_of(&report);
        let mut expected_target = serde_json::to_value(&report.targets[1]).expect("serialisable");
        expected_target["type"] = "target".into();
        assert_eq!(lines[4], expected_target);
        let mut expected_finding = serde_json::to_value(&report.findings[2]).expect("serialisable");
        expected_finding["type"] = "finding".into();
        assert_eq!(lines[3], expected_finding);
        assert!(lines[3]["location"].is_null(), "absent fields are null");
        assert_eq!(
            lines[5],
            serde_json::json!({
                "type": "summary", "targets": 2, "scanned": 1, "failed": 1,
                "error": 2, "warning": 1, "note": 0
            })
        );
    }

    #[test]
    fn type_is_the_first_key_of_every_line() {
        let mut bytes = Vec::new();
        write_report(&sample::report(), &mut bytes).expect("in memory");
        let text = String::from_utf8(bytes).expect("UTF-8");
        for line in text.lines() {
            assert!(line.starts_with("{\"type\":\""), "{line}");
        }
    }

    #[test]
    fn single_line_writers_write_exactly_one_line() {
        let report = sample::report();
        let mut bytes = Vec::new();
        write_finding_line(&mut bytes, &report.findings[0]).expect("in memory");
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.ends_with('\n'));
    }
}
