//! Writing a report while the run is still going, so that memory stays flat in the
//! number of targets and findings: each target's record and findings are handed over
//! once, in report order, and only what the format must keep to the end is kept.
//!
//! - `jsonl`: every line is written as its target is done (its findings, then its
//!   target line; the summary last), as DESIGN §3 asks.
//! - `text`: findings are written as they come; failed targets and the summary follow.
//! - `json`: the document lists every target before any finding, so findings go to an
//!   anonymous temporary file as compact JSON lines and are copied into the document at
//!   the end; only the target records (a few hundred bytes each) stay in memory. The
//!   bytes are those [`super::json::write_report`] writes for the same report.
//! - `sarif` is not streamed (see [`StreamWriter::supports`]).
//!
//! The caller must hand targets over in the order of their names (stable for equal
//! names), each with its findings sorted, so that the findings come out sorted as in a
//! [`Report`]; the target records are written in `order`, the order the user gave.

use std::io::{BufRead, BufReader, Seek, Write};

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{Format, jsonl, text};
use crate::finding::{Finding, SCHEMA, Severity, Summary, TargetRecord, TargetStatus, ToolInfo};

/// Writes one run's report as its targets are done (see the module documentation).
pub struct StreamWriter<'out> {
    format: Format,
    out: &'out mut dyn Write,
    color: bool,
    summary: Summary,
    /// The most severe finding so far (for the exit code).
    worst: Option<Severity>,
    /// `json`: the target records by their place in the given order.
    records: Vec<Option<TargetRecord>>,
    /// `json`: the findings so far, one compact JSON object per line.
    spill: Option<BufWriterFile>,
    /// `text`: by their place in the given order, the targets listed after the findings:
    /// a chain no finding has shown (true), a failed target, or both.
    listed_after: Vec<(usize, bool, TargetRecord)>,
}

type BufWriterFile = std::io::BufWriter<std::fs::File>;

impl<'out> StreamWriter<'out> {
    /// True when `format` can be written as the run goes.
    pub fn supports(format: Format) -> bool {
        matches!(format, Format::Json | Format::Jsonl | Format::Text)
    }

    /// A writer for a run of `targets` targets. `json` opens its temporary file here,
    /// so a temporary folder that cannot be written fails before anything is scanned
    /// (the `scan` command then builds the report in memory).
    pub fn new(
        format: Format,
        out: &'out mut dyn Write,
        color: bool,
        targets: usize,
    ) -> std::io::Result<StreamWriter<'out>> {
        let (records, spill) = if format == Format::Json {
            let file = tempfile::tempfile()?;
            (vec![None; targets], Some(std::io::BufWriter::new(file)))
        } else {
            (Vec::new(), None)
        };
        Ok(StreamWriter {
            format,
            out,
            color: color && format == Format::Text,
            summary: Summary {
                targets,
                ..Summary::default()
            },
            worst: None,
            records,
            spill,
            listed_after: Vec::new(),
        })
    }

    /// Takes one target's record and its sorted findings; `order` is the target's place
    /// in the order the user gave.
    pub fn target_done(
        &mut self,
        order: usize,
        record: TargetRecord,
        findings: &[Finding],
    ) -> std::io::Result<()> {
        match record.status {
            TargetStatus::Scanned => self.summary.scanned += 1,
            TargetStatus::Failed => self.summary.failed += 1,
        }
        for finding in findings {
            match finding.severity {
                Severity::Error => self.summary.error += 1,
                Severity::Warning => self.summary.warning += 1,
                Severity::Note => self.summary.note += 1,
            }
            self.worst = self.worst.max(Some(finding.severity));
        }
        match self.format {
            Format::Jsonl => {
                for finding in findings {
                    jsonl::write_finding_line(self.out, finding)?;
                }
                jsonl::write_target_line(self.out, &record)?;
                self.out.flush()?;
            }
            Format::Text => {
                let mut written = String::new();
                for finding in findings {
                    text::push_finding(&mut written, finding, self.color);
                }
                self.out.write_all(written.as_bytes())?;
                let chain_unshown = record.chain.is_some()
                    && !findings.iter().any(|finding| finding.chain.is_some());
                if chain_unshown || record.status == TargetStatus::Failed {
                    self.listed_after.push((order, chain_unshown, record));
                }
            }
            Format::Json => {
                if let Some(spill) = &mut self.spill {
                    for finding in findings {
                        serde_json::to_writer(&mut *spill, finding)?;
                        spill.write_all(b"\n")?;
                    }
                }
                if let Some(slot) = self.records.get_mut(order) {
                    *slot = Some(record);
                }
            }
            Format::Sarif => {
                return Err(std::io::Error::other("SARIF is not written as a stream"));
            }
        }
        Ok(())
    }

    /// True when some finding so far is at or above `threshold` (`None`: never).
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|threshold| self.worst.is_some_and(|worst| worst >= threshold))
    }

    /// Writes what the format keeps for the end and flushes. Targets never handed over
    /// (an interrupted run) are left out of the report and of its counts.
    pub fn finish(mut self) -> std::io::Result<Summary> {
        let handed_over = self.summary.scanned + self.summary.failed;
        self.summary.targets = handed_over;
        match self.format {
            Format::Jsonl => jsonl::write_summary_line(self.out, &self.summary)?,
            Format::Text => {
                // As the whole-report writer does: chains, then failed targets.
                self.listed_after.sort_by_key(|(order, _, _)| *order);
                let mut written = String::new();
                for (_, chain_unshown, target) in &self.listed_after {
                    if let (true, Some(hops)) = (chain_unshown, &target.chain) {
                        text::push_target_chain(&mut written, target, hops);
                    }
                }
                let mut any_failed = false;
                for (_, _, target) in &self.listed_after {
                    if target.status == TargetStatus::Failed {
                        text::push_failed_target(&mut written, target, self.color);
                        any_failed = true;
                    }
                }
                if any_failed {
                    written.push('\n');
                }
                written.push_str(&text::summary_line(&self.summary));
                written.push('\n');
                self.out.write_all(written.as_bytes())?;
            }
            Format::Json => {
                let spill = match self.spill.take() {
                    Some(spill) => spill.into_inner().map_err(|error| error.into_error())?,
                    None => tempfile::tempfile()?,
                };
                let document = StreamedReport {
                    schema: SCHEMA,
                    tool: ToolInfo::default(),
                    targets: self.records.iter().flatten().collect(),
                    findings: SpilledFindings {
                        file: std::cell::RefCell::new(Some(spill)),
                    },
                    summary: &self.summary,
                };
                serde_json::to_writer_pretty(&mut *self.out, &document)?;
                self.out.write_all(b"\n")?;
            }
            Format::Sarif => {
                return Err(std::io::Error::other("SARIF is not written as a stream"));
            }
        }
        self.out.flush()?;
        Ok(self.summary)
    }
}

/// The fields of a [`crate::finding::Report`], in its order, with the findings read back
/// from the temporary file.
#[derive(Serialize)]
struct StreamedReport<'a> {
    schema: &'static str,
    tool: ToolInfo,
    targets: Vec<&'a TargetRecord>,
    findings: SpilledFindings,
    summary: &'a Summary,
}

/// The temporary file of findings, serialised as a JSON array one finding at a time.
struct SpilledFindings {
    /// Taken by the one serialisation.
    file: std::cell::RefCell<Option<std::fs::File>>,
}

impl Serialize for SpilledFindings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(mut file) = self.file.borrow_mut().take() else {
            return Err(S::Error::custom("the findings were already written"));
        };
        file.rewind().map_err(S::Error::custom)?;
        let mut sequence = serializer.serialize_seq(None)?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(S::Error::custom)?;
            let finding: Finding = serde_json::from_str(&line).map_err(S::Error::custom)?;
            sequence.serialize_element(&finding)?;
        }
        sequence.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Report;
    use crate::report::sample;

    /// Hands the sample report's targets over in name order, as a run does.
    fn streamed(report: &Report, format: Format) -> (Vec<u8>, Summary) {
        let mut out = Vec::new();
        let mut writer = StreamWriter::new(format, &mut out, false, report.targets.len())
            .expect("a temporary file can be made");
        let mut order: Vec<usize> = (0..report.targets.len()).collect();
        order.sort_by(|&a, &b| report.targets[a].target.cmp(&report.targets[b].target));
        for index in order {
            let record = report.targets[index].clone();
            let mut findings: Vec<Finding> = report
                .findings
                .iter()
                .filter(|finding| finding.target == record.target)
                .cloned()
                .collect();
            findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            writer
                .target_done(index, record, &findings)
                .expect("writing to memory cannot fail");
        }
        let summary = writer.finish().expect("writing to memory cannot fail");
        (out, summary)
    }

    #[test]
    fn json_is_byte_for_byte_the_whole_report() {
        let report = sample::report();
        let mut whole = Vec::new();
        crate::report::json::write_report(&report, &mut whole).expect("in memory");
        let (streamed, summary) = streamed(&report, Format::Json);
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&whole)
        );
        assert_eq!(summary, report.summary);
    }

    #[test]
    fn text_is_byte_for_byte_the_whole_report() {
        let report = sample::report();
        let mut whole = Vec::new();
        crate::report::text::write_report(&report, &mut whole, false).expect("in memory");
        let (streamed, _) = streamed(&report, Format::Text);
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&whole)
        );
    }

    /// The line order itself (each target's findings, then its target line) is checked
    /// in `jsonl`'s tests.
    #[test]
    fn jsonl_is_byte_for_byte_the_whole_report() {
        let report = sample::report();
        let mut whole = Vec::new();
        crate::report::jsonl::write_report(&report, &mut whole).expect("in memory");
        let (streamed, _) = streamed(&report, Format::Jsonl);
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&whole)
        );
    }

    #[test]
    fn an_interrupted_run_counts_only_the_targets_handed_over() {
        let report = sample::report();
        let mut out = Vec::new();
        let mut writer = StreamWriter::new(Format::Json, &mut out, false, 2).expect("tempfile");
        writer
            .target_done(0, report.targets[0].clone(), &report.findings[..2])
            .expect("in memory");
        assert!(writer.fails(Some(Severity::Error)));
        assert!(!writer.fails(None));
        let summary = writer.finish().expect("in memory");
        assert_eq!(summary.targets, 1);
        let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(value["targets"].as_array().map(Vec::len), Some(1));
        assert_eq!(value["findings"].as_array().map(Vec::len), Some(2));
    }
}
