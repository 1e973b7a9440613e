//! The page-analysis fixtures as a specification (fixtures/pages/EXPECTED.md):
//! honest pages — the legitimate look-alikes of stuffing, redirects and hidden content —
//! produce no finding of severity error or warning; every dishonest page's findings
//! match its reviewed snapshot in `tests/snapshots/pages/<file>.txt`.
//!
//! After an intended change: `UPDATE_SNAPSHOTS=1 cargo test --test page_fixtures`,
//! then review the diff against EXPECTED.md.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn scan(folder: &str) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::cargo_bin("promoscan")
        .expect("binary built")
        .current_dir(root)
        .args(["scan", folder, "--format", "json"])
        .output()
        .expect("runs");
    serde_json::from_slice(&output.stdout).expect("JSON report")
}

#[test]
fn honest_pages_have_no_error_or_warning() {
    let report = scan("fixtures/pages/honest");
    let targets = report["targets"].as_array().expect("targets");
    assert!(targets.len() >= 20, "{} honest pages", targets.len());
    let serious: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["severity"] != "note")
        .map(|finding| {
            format!(
                "{}:{} {} {}",
                finding["target"].as_str().unwrap_or(""),
                finding["location"]["line"],
                finding["rule"].as_str().unwrap_or(""),
                finding["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        serious.is_empty(),
        "false positives:\n{}",
        serious.join("\n")
    );
}

#[test]
fn dishonest_pages_match_their_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let snapshots = root.join("tests/snapshots/pages");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let report = scan("fixtures/pages/dishonest");
    let mut mismatches = Vec::new();
    for target in report["targets"].as_array().expect("targets") {
        let name = target["target"].as_str().unwrap_or("");
        let file_name = Path::new(name)
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let actual: String = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|finding| finding["target"].as_str() == Some(name))
            .map(|finding| {
                format!(
                    "{} {} {}\n",
                    finding["location"]["line"],
                    finding["severity"].as_str().unwrap_or(""),
                    finding["rule"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert!(
            !actual.is_empty(),
            "{name}: a dishonest page without findings"
        );
        let path = snapshots.join(format!("{file_name}.txt"));
        if update {
            std::fs::create_dir_all(&snapshots).expect("snapshot folder");
            std::fs::write(&path, &actual).expect("write snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            mismatches.push(format!(
                "{name}\n--- expected\n{expected}--- actual\n{actual}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
