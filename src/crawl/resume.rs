//! Reading a previous run's `--format jsonl` output for `--resume FILE`: which targets
//! are done, and the findings already reported for them.
//!
//! Not for writing JSONL ([`crate::report::jsonl`]) or deciding what to visit next
//! ([`super::frontier::Frontier::seed_done`] takes [`Resumed::done_urls`]).
//!
//! The file is the one a run streams (DESIGN §3): one JSON object per line, tagged
//! `"type": "target" | "finding" | "summary"` (and `"discovered"`, an audit's links per
//! page). A run interrupted mid-write leaves a last
//! line without its newline that is not complete JSON: it is dropped with a note. Any
//! other line that is not a JSON record is an error naming the file and line, since
//! resuming from a file we misread would silently skip pages. A target is done when it has
//! a target line (status `scanned` or `failed`); findings of targets without one (the run
//! stopped between a page's findings and its target line) are dropped, because that page
//! is scanned again. Lines of unknown type are skipped with a note (a newer promoscan
//! may add some).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::finding::{Finding, TargetKind, TargetRecord};

/// Why a resume file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The file could not be read.
    #[error("cannot read resume file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line (not the interrupted last one) is not a promoscan JSONL record.
    #[error("resume file {}, line {line}: {message} (is it promoscan --format jsonl output?)", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// What a previous run already did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resumed {
    /// Target records, one per target (the last line wins), in file order.
    pub targets: Vec<TargetRecord>,
    /// Findings of those targets, in file order.
    pub findings: Vec<Finding>,
    /// What the user should be told (interrupted last line, dropped findings...).
    pub notes: Vec<String>,
    /// Pages the done pages link to (`"type": "discovered"` lines an audit writes), so
    /// a resumed audit still reaches pages only they link to.
    pub discovered: Vec<Discovered>,
}

/// A `{"type": "discovered", ...}` line: the same-site links of one audited page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Discovered {
    /// The page the links are on.
    pub target: String,
    /// Its depth from the start URL.
    pub depth: u32,
    /// The links, resolved.
    pub urls: Vec<String>,
}

impl Resumed {
    /// The targets done, as written in the file.
    pub fn done(&self) -> HashSet<&str> {
        self.targets
            .iter()
            .map(|target| target.target.as_str())
            .collect()
    }

    /// The URL targets done, parsed (for [`super::frontier::Frontier::seed_done`]).
    pub fn done_urls(&self) -> Vec<Url> {
        self.targets
            .iter()
            .filter(|target| target.kind == TargetKind::Url)
            .filter_map(|target| Url::parse(&target.target).ok())
            .collect()
    }
}

/// Only the tag of a line, read first.
#[derive(Deserialize)]
struct Tag {
    /// `target`, `finding`, `summary`...
    #[serde(rename = "type")]
    record_type: String,
}

/// Reads a resume file.
pub fn read(path: &Path) -> Result<Resumed, ResumeError> {
    let text = std::fs::read(path).map_err(|source| ResumeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &String::from_utf8_lossy(&text))
}

/// Parses the text of a resume file; `path` names it in errors and notes.
pub fn parse(path: &Path, text: &str) -> Result<Resumed, ResumeError> {
    let mut resumed = Resumed::default();
    // Target name → index in `resumed.targets`.
    let mut index_of: HashMap<String, usize> = HashMap::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut unknown_types: Vec<String> = Vec::new();
    let ends_with_newline = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let interrupted_candidate = index + 1 == lines.len() && !ends_with_newline;
        let error = |message: String| ResumeError::Line {
            path: path.to_path_buf(),
            line: number,
            message,
        };
        let tag: Tag = match serde_json::from_str(line) {
            Ok(tag) => tag,
            Err(_) if interrupted_candidate => {
                resumed.notes.push(format!(
                    "{}: line {number} is incomplete (an interrupted write); ignored",
                    path.display()
                ));
                continue;
            }
            Err(parse_error) => {
                return Err(error(format!("not a tagged JSON record: {parse_error}")));
            }
        };
        match tag.record_type.as_str() {
            "target" => {
                let record: TargetRecord = serde_json::from_str(line)
                    .map_err(|parse_error| error(format!("bad target record: {parse_error}")))?;
                match index_of.get(&record.target) {
                    Some(&at) => resumed.targets[at] = record,
                    None => {
                        index_of.insert(record.target.clone(), resumed.targets.len());
                        resumed.targets.push(record);
                    }
                }
            }
            "finding" => {
                let finding: Finding = serde_json::from_str(line)
                    .map_err(|parse_error| error(format!("bad finding record: {parse_error}")))?;
                findings.push(finding);
            }
            "summary" => {}
            "discovered" => {
                let discovered: Discovered = serde_json::from_str(line).map_err(|parse_error| {
                    error(format!("bad discovered record: {parse_error}"))
                })?;
                resumed.discovered.push(discovered);
            }
            other => {
                if !unknown_types.iter().any(|seen| seen == other) {
                    unknown_types.push(other.to_string());
                }
            }
        }
    }
    let total = findings.len();
    resumed.findings = findings
        .into_iter()
        .filter(|finding| index_of.contains_key(&finding.target))
        .collect();
    let dropped = total - resumed.findings.len();
    if dropped > 0 {
        resumed.notes.push(format!(
            "{}: {dropped} findings of targets without a target line dropped; those targets are scanned again",
            path.display()
        ));
    }
    if !unknown_types.is_empty() {
        resumed.notes.push(format!(
            "{}: lines of unknown type skipped: {}",
            path.display(),
            unknown_types.join(", ")
        ));
    }
    Ok(resumed)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::finding::Summary;
    use crate::finding::{Confidence, Location, Severity, TargetStatus};
    use crate::report::jsonl::{write_finding_line, write_summary_line, write_target_line};

    fn target(name: &str, status: TargetStatus) -> TargetRecord {
        TargetRecord {
            target: name.to_string(),
            kind: TargetKind::Url,
            status,
            error: (status == TargetStatus::Failed).then(|| "connection refused".to_string()),
            final_url: Some(name.to_string()),
            chain: None,
        }
    }

    fn finding(target: &str, line: u32) -> Finding {
        Finding {
            rule: "claim-urgency/only-n-left".to_string(),
            category: "claim-urgency".to_string(),
            severity: Severity::Error,
            confidence: Confidence::High,
            message: "Fake scarcity claim 'Only 2 left'".to_string(),
            target: target.to_string(),
            location: Some(Location { line, column: 1 }),
            evidence: Some("Only 2 left".to_string()),
            url: None,
            network: None,
            chain: None,
            help: "Show real stock levels or remove the claim.".to_string(),
        }
    }

    /// A run's output as the JSONL reporter writes it: findings before each target line.
    fn run_output() -> Vec<u8> {
        let mut out = Vec::new();
        write_finding_line(&mut out, &finding("https://shop.example/a", 3)).expect("memory");
        write_target_line(
            &mut out,
            &target("https://shop.example/a", TargetStatus::Scanned),
        )
        .expect("memory");
        write_target_line(
            &mut out,
            &target("https://shop.example/b", TargetStatus::Failed),
        )
        .expect("memory");
        out
    }

    fn write_file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(bytes).expect("write temp file");
        file
    }

    #[test]
    fn scanned_and_failed_targets_are_done_with_their_findings() {
        let mut bytes = run_output();
        write_summary_line(&mut bytes, &Summary::default()).expect("memory");
        let file = write_file(&bytes);
        let resumed = read(file.path()).expect("valid file");
        assert_eq!(
            resumed.done(),
            HashSet::from(["https://shop.example/a", "https://shop.example/b"])
        );
        assert_eq!(resumed.findings, [finding("https://shop.example/a", 3)]);
        assert_eq!(
            resumed.done_urls(),
            [
                Url::parse("https://shop.example/a").expect("valid"),
                Url::parse("https://shop.example/b").expect("valid")
            ]
        );
        assert!(resumed.notes.is_empty(), "{:?}", resumed.notes);
    }

    #[test]
    fn truncated_last_line_is_ignored_with_a_note() {
        let mut bytes = run_output();
        let mut partial = Vec::new();
        write_target_line(
            &mut partial,
            &target("https://shop.example/c", TargetStatus::Scanned),
        )
        .expect("memory");
        bytes.extend_from_slice(&partial[..partial.len() / 2]);
        let file = write_file(&bytes);
        let resumed = read(file.path()).expect("an interrupted file is usable");
        assert_eq!(resumed.targets.len(), 2);
        assert!(!resumed.done().contains("https://shop.example/c"));
        assert_eq!(resumed.notes.len(), 1);
        assert!(
            resumed.notes[0].contains("line 4 is incomplete"),
            "{:?}",
            resumed.notes
        );
    }

    #[test]
    fn complete_last_line_without_newline_is_kept() {
        let mut bytes = run_output();
        bytes.pop();
        let resumed = parse(
            Path::new("run.jsonl"),
            &String::from_utf8(bytes).expect("UTF-8"),
        )
        .expect("valid");
        assert_eq!(resumed.targets.len(), 2);
        assert!(resumed.notes.is_empty());
    }

    #[test]
    fn bad_line_in_the_middle_is_an_error_naming_file_and_line() {
        let mut bytes = run_output();
        bytes.extend_from_slice(b"{\"type\":\"target\", \"target\": \"x\"\n");
        write_target_line(
            &mut bytes,
            &target("https://shop.example/d", TargetStatus::Scanned),
        )
        .expect("memory");
        let file = write_file(&bytes);
        let error = read(file.path()).expect_err("corrupt middle line");
        let text = error.to_string();
        assert!(text.contains(&file.path().display().to_string()), "{text}");
        assert!(text.contains("line 4"), "{text}");
    }

    #[test]
    fn a_line_that_is_not_a_record_is_an_error() {
        let error = parse(Path::new("run.json"), "{\"schema\": \"promoscan/v1\"}\n")
            .expect_err("a JSON report, not JSONL");
        assert!(error.to_string().contains("run.json, line 1"), "{error}");
        let error = parse(
            Path::new("run.jsonl"),
            "{\"type\":\"target\",\"target\":\"x\",\"kind\":\"url\",\"status\":\"exploded\",\"error\":null,\"final_url\":null,\"chain\":null}\n",
        )
        .expect_err("unknown status");
        assert!(error.to_string().contains("bad target record"), "{error}");
    }

    #[test]
    fn findings_without_their_target_line_are_dropped() {
        let mut bytes = run_output();
        write_finding_line(&mut bytes, &finding("https://shop.example/e", 9)).expect("memory");
        let resumed = parse(
            Path::new("run.jsonl"),
            &String::from_utf8(bytes).expect("UTF-8"),
        )
        .expect("valid");
        assert_eq!(resumed.findings.len(), 1);
        assert!(
            resumed.notes[0].contains("1 findings"),
            "{:?}",
            resumed.notes
        );
    }

    #[test]
    fn a_target_written_twice_counts_once_last_wins() {
        let mut bytes = Vec::new();
        write_target_line(
            &mut bytes,
            &target("https://shop.example/a", TargetStatus::Failed),
        )
        .expect("memory");
        write_target_line(
            &mut bytes,
            &target("https://shop.example/a", TargetStatus::Scanned),
        )
        .expect("memory");
        let resumed = parse(
            Path::new("run.jsonl"),
            &String::from_utf8(bytes).expect("UTF-8"),
        )
        .expect("valid");
        assert_eq!(resumed.targets.len(), 1);
        assert_eq!(resumed.targets[0].status, TargetStatus::Scanned);
    }

    #[test]
    fn unknown_types_and_blank_lines_are_skipped() {
        let mut bytes = b"\n{\"type\":\"progress\",\"pages\":3}\n".to_vec();
        bytes.extend_from_slice(&run_output());
        let resumed = parse(
            Path::new("run.jsonl"),
            &String::from_utf8(bytes).expect("UTF-8"),
        )
        .expect("valid");
        assert_eq!(resumed.targets.len(), 2);
        assert!(resumed.notes[0].contains("progress"), "{:?}", resumed.notes);
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let error = read(Path::new("/nonexistent/promoscan-resume.jsonl")).expect_err("missing");
        assert!(
            error.to_string().contains("promoscan-resume.jsonl"),
            "{error}"
        );
    }

    #[test]
    fn empty_file_resumes_nothing() {
        let file = write_file(b"");
        let resumed = read(file.path()).expect("empty is fine");
        assert_eq!(resumed, Resumed::default());
    }
}
