//! The `json` format: the whole [`Report`] as one pretty-printed JSON document in the
//! `promoscan/v1` schema (DESIGN §3).
//!
//! Every field is written, `null` when it does not apply, so that consumers never have
//! to tell a missing field from an absent value. Not for streaming: see [`super::jsonl`].

use std::io::Write;

use crate::finding::Report;

/// Writes `report` as pretty-printed JSON followed by a newline.
pub fn write_report(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::report::sample;

    fn written(report: &Report) -> (String, Value) {
        let mut bytes = Vec::new();
        write_report(report, &mut bytes).expect("writing to memory cannot fail");
        let text = String::from_utf8(bytes).expect("JSON output is UTF-8");
        let value = serde_json::from_str(&text).expect("output is valid JSON");
        (text, value)
    }

    #[test]
    fn output_is_pretty_json_ending_in_a_newline() {
        let (text, value) = written(&sample::report());
        assert!(
            text.starts_with("{\n  \"schema\": \"promoscan/v1\","),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
        assert_eq!(value["tool"]["name"], "promoscan");
        assert_eq!(value["tool"]["version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn top_level_fields_are_those_of_the_schema() {
        let (_, value) = written(&sample::report());
        let keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec!["schema", "tool", "targets", "findings", "summary"];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn every_finding_field_is_present_and_null_when_absent() {
        let (_, value) = written(&sample::report());
        let findings = value["findings"].as_array().expect("an array");
        assert_eq!(findings.len(), 3);
        let fields = [
            "rule",
            "category",
            "severity",
            "confidence",
            "message",
            "target",
            "location",
            "evidence",
            "url",
            "network",
            "chain",
            "help",
        ];
        for finding in findings {
            let object = finding.as_object().expect("a finding is an object");
            assert_eq!(object.len(), fields.len(), "{finding}");
            for field in fields {
                assert!(object.contains_key(field), "{field} missing in {finding}");
            }
        }
        let unlocated = findings
            .iter()
            .find(|finding| finding["rule"] == "scan-error/unreachable")
            .expect("the scan error");
        for field in ["location", "evidence", "network", "chain"] {
            assert!(unlocated[field].is_null(), "{field} should be null");
        }
        let located = findings
            .iter()
            .find(|finding| finding["rule"] == "claim-urgency/only-n-left")
            .expect("the urgency claim");
        assert_eq!(
            located["location"],
            serde_json::json!({"line": 42, "column": 3})
        );
        assert_eq!(located["severity"], "error");
        assert_eq!(located["confidence"], "high");
    }

    #[test]
    fn every_target_field_is_present_and_null_when_absent() {
        let (_, value) = written(&sample::report());
        let targets = value["targets"].as_array().expect("an array");
        assert_eq!(targets.len(), 2);
        for target in targets {
            let object = target.as_object().expect("a target is an object");
            let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                ["chain", "error", "final_url", "kind", "status", "target"]
            );
        }
        assert_eq!(targets[0]["status"], "scanned");
        assert!(targets[0]["error"].is_null());
        assert!(targets[0]["chain"].is_null());
        assert_eq!(targets[1]["status"], "failed");
        assert_eq!(targets[1]["kind"], "url");
        assert_eq!(targets[1]["error"], "connection refused");
        assert_eq!(
            targets[1]["chain"][0],
            serde_json::json!({
                "url": "https://shop.example/deals?id=1",
                "status": null,
                "via": "http",
                "delay": null,
                "set_cookie": false,
                "elapsed_ms": 12,
                "error": "connection refused",
            })
        );
    }

    #[test]
    fn summary_counts_targets_and_severities() {
        let (_, value) = written(&sample::report());
        assert_eq!(
            value["summary"],
            serde_json::json!({
                "targets": 2, "scanned": 1, "failed": 1, "error": 2, "warning": 1, "note": 0
            })
        );
    }

    #[test]
    fn an_empty_report_has_empty_lists() {
        let (_, value) = written(&Report::new(Vec::new(), Vec::new()));
        assert_eq!(value["targets"], serde_json::json!([]));
        assert_eq!(value["findings"], serde_json::json!([]));
        assert_eq!(value["summary"]["targets"], 0);
    }
}
