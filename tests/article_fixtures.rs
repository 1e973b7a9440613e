//! The article fixtures as a specification: every article's exact findings are kept in
//! `tests/snapshots/articles/<file>.txt` (one `line:column severity rule` per finding),
//! and honest articles must have no finding of severity error or warning.
//!
//! After an intended change, regenerate with `UPDATE_SNAPSHOTS=1 cargo test --test
//! article_fixtures` and review the diff like code.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn scan_fixtures() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::cargo_bin("promoscan")
        .expect("binary built")
        .current_dir(root)
        .args(["scan", "fixtures/articles", "--format", "json"])
        .output()
        .expect("runs");
    serde_json::from_slice(&output.stdout).expect("JSON report")
}

fn findings_of<'a>(report: &'a Value, file: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["target"].as_str() == Some(file))
        .collect()
}

#[test]
fn there_are_at_least_twelve_articles_in_both_formats() {
    let report = scan_fixtures();
    let targets: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert!(targets.len() >= 12);
    assert!(targets.iter().any(|t| t.ends_with(".md")));
    assert!(targets.iter().any(|t| t.ends_with(".html")));
    assert!(targets.iter().filter(|t| t.contains("/honest-")).count() >= 5);
    assert!(targets.iter().filter(|t| t.contains("/dishonest-")).count() >= 5);
}

#[test]
fn honest_articles_have_no_error_or_warning() {
    let report = scan_fixtures();
    for target in report["targets"].as_array().unwrap() {
        let name = target["target"].as_str().unwrap();
        if !name.contains("/honest-") {
            continue;
        }
        assert_eq!(target["status"], "scanned", "{name}");
        let serious: Vec<String> = findings_of(&report, name)
            .into_iter()
            .filter(|f| f["severity"] != "note")
            .map(|f| format!("{} {}", f["rule"], f["evidence"]))
            .collect();
        assert!(serious.is_empty(), "{name}: {serious:#?}");
    }
}

#[test]
fn every_article_matches_its_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let snapshots = root.join("tests/snapshots/articles");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let report = scan_fixtures();
    let mut mismatches = Vec::new();
    for target in report["targets"].as_array().unwrap() {
        let name = target["target"].as_str().unwrap();
        let file_name = Path::new(name)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let actual: String = findings_of(&report, name)
            .iter()
            .map(|f| {
                format!(
                    "{}:{} {} {}\n",
                    f["location"]["line"],
                    f["location"]["column"],
                    f["severity"].as_str().unwrap(),
                    f["rule"].as_str().unwrap()
                )
            })
            .collect();
        let path = snapshots.join(format!("{file_name}.txt"));
        if update {
            std::fs::create_dir_all(&snapshots).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("no snapshot {}", path.display()));
        if expected != actual {
            mismatches.push(format!(
                "{name}\n--- expected\n{expected}--- actual\n{actual}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
