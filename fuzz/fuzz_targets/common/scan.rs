//! Shared by the `scan_html` and `scan_markdown` targets: one scanner over the built-in
//! library, and the checks every scan result must pass.

use std::sync::LazyLock;

use promoscan::config::Policy;
use promoscan::finding::Finding;
use promoscan::input::SourceFormat;
use promoscan::library::Library;
use promoscan::scan::{ScanOptions, Scanner};

static LIBRARY: LazyLock<Library> =
    LazyLock::new(|| Library::load(&[]).expect("the built-in library loads"));

/// Scans `data` as `format` and checks the findings.
pub fn check(format: SourceFormat, data: &[u8]) {
    let scanner = Scanner::new(&LIBRARY, Policy::default(), ScanOptions::default());
    let findings = match scanner.scan_bytes("fuzz", format, data) {
        Ok(findings) => findings,
        Err((_problem, findings)) => findings,
    };
    // Every line break a browser or CommonMark counts (\n, \r, \r\n) is at most one of
    // these bytes' worth of lines.
    let lines = 1 + data.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
    for finding in &findings {
        check_finding(finding, lines);
    }
}

fn check_finding(finding: &Finding, lines: usize) {
    assert!(
        LIBRARY.rules.get(&finding.rule).is_some(),
        "finding of an unknown rule: {finding:?}"
    );
    if let Some(location) = &finding.location {
        assert!(location.line >= 1, "line 0: {finding:?}");
        assert!(location.column >= 1, "column 0: {finding:?}");
        assert!(
            location.line as usize <= lines,
            "line {} past the end ({lines} lines): {finding:?}",
            location.line
        );
    }
}
