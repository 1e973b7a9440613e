//! Bad configuration and rule files (issue 7, part 3), through the real binary: every
//! mistake in a rule file given with `--rules` or in a `promoscan.toml` given with
//! `--config` (or named by its `rules = [...]`) stops the run with exit code 2 and a
//! message naming the file, the line and (for rule files) the rule id; nothing is
//! scanned, so nothing is written to standard output or to `--output`.
//!
//! The catastrophic-regex test has no timed assertion: the regex crate runs in time
//! linear in the input (no backtracking), so the test simply finishes.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// A valid rule file; the tests break one thing in it at a time.
const GOOD_RULE: &str = r#"schema = "promoscan-rules/v1"
language = "en"

[[rule]]
id = "claim-price/too-cheap"
category = "claim-price"
severity = "warning"
confidence = "low"
message = "Price claim '{match}'"
help = "Name the price."
pattern = '(?i)\btoo cheap to miss\b'

[rule.examples]
match = ["Too cheap to miss."]
ok = ["Cheap enough."]
"#;

/// A page for the rules above: one finding of `claim-price/too-cheap`.
const PAGE: &str = "# Deals\n\nThis lamp is too cheap to miss.\n";

/// A folder with `post.md` (the page) and `rules/mine.toml` (the given rule file).
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(rule_file: &str) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("post.md"), PAGE).unwrap();
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        std::fs::write(dir.path().join("rules/mine.toml"), rule_file).unwrap();
        Project { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `promoscan.toml` (as `name`) with `text`.
    fn config(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `promoscan scan post.md --format json --output report.json ARGS...`, run in the
    /// project folder.
    fn scan(&self, args: &[&str]) -> Run {
        let output = Command::cargo_bin("promoscan")
            .expect("binary built")
            .current_dir(self.dir.path())
            .args([
                "scan",
                "post.md",
                "--format",
                "json",
                "--output",
                "report.json",
            ])
            .args(args)
            .output()
            .expect("runs");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            report: self.path("report.json"),
        }
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    report: PathBuf,
}

impl Run {
    /// Exit 2, nothing scanned or written, and stderr containing every one of `parts`.
    fn refused(&self, parts: &[&str]) {
        assert_eq!(self.code, Some(2), "stderr: {}", self.stderr);
        assert!(
            self.stdout.is_empty(),
            "nothing is printed: {}",
            self.stdout
        );
        assert!(
            !self.report.exists(),
            "nothing is scanned: the --output file is never created"
        );
        for part in parts {
            assert!(
                self.stderr.contains(part),
                "stderr lacks {part:?}: {}",
                self.stderr
            );
        }
        // The first line says where: `promoscan: error: FILE:LINE: ...`.
        assert!(
            self.stderr.starts_with("promoscan: error: ") && self.stderr.contains(parts[0]),
            "{}",
            self.stderr
        );
        let first_line = self.stderr.lines().next().unwrap_or("");
        assert!(first_line.contains(parts[0]), "{}", self.stderr);
    }

    /// The run scanned: its report's rules.
    fn rules(&self) -> Vec<String> {
        assert!(
            matches!(self.code, Some(0 | 1)),
            "scanned; stderr: {}",
            self.stderr
        );
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&self.report).unwrap()).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|finding| finding["rule"].as_str().unwrap().to_string())
            .collect()
    }
}

/// `GOOD_RULE` with `from` replaced by `to` (which must occur).
fn rule_with(from: &str, to: &str) -> String {
    assert!(GOOD_RULE.contains(from), "{from}");
    GOOD_RULE.replace(from, to)
}

const MINE: &str = "rules/mine.toml";

#[test]
fn the_good_rule_file_is_used() {
    let project = Project::new(GOOD_RULE);
    let run = project.scan(&["--rules", "rules"]);
    assert!(run.rules().contains(&"claim-price/too-cheap".to_string()));
}

// ---- rule files given with --rules ----

#[test]
fn rule_file_with_an_unknown_key() {
    let project = Project::new(&rule_with("help = ", "severty = \"error\"\nhelp = "));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:10: rule 'claim-price/too-cheap': unknown field `severty`"),
        "expected one of `id`",
    ]);
}

#[test]
fn rule_file_with_an_unknown_top_level_key() {
    let project = Project::new(&rule_with("language = \"en\"", "lang = \"en\""));
    project
        .scan(&["--rules", "rules"])
        .refused(&[&format!("{MINE}:2:"), "unknown field `lang`"]);
}

#[test]
fn rule_file_with_a_wrong_type() {
    let project = Project::new(&rule_with("severity = \"warning\"", "severity = 3"));
    project.scan(&["--rules", "rules"]).refused(&[&format!(
        "{MINE}:7: rule 'claim-price/too-cheap': `severity`: "
    )]);
    let project = Project::new(&rule_with(
        "ok = [\"Cheap enough.\"]",
        "ok = \"Cheap enough.\"",
    ));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:15: rule 'claim-price/too-cheap': `ok`: invalid type: string"),
        "expected a sequence",
    ]);
    let project = Project::new(&rule_with(
        "\n[rule.examples]",
        "\nunless = { pattern = 3 }\n[rule.examples]",
    ));
    project.scan(&["--rules", "rules"]).refused(&[&format!(
        "{MINE}:13: rule 'claim-price/too-cheap': `unless`: invalid type: integer"
    )]);
}

#[test]
fn rule_file_with_an_unknown_severity() {
    let project = Project::new(&rule_with(
        "severity = \"warning\"",
        "severity = \"critical\"",
    ));
    project
        .scan(&["--rules", "rules"])
        .refused(&[&format!(
            "{MINE}:7: rule 'claim-price/too-cheap': `severity`: unknown variant `critical`, expected one of `note`, `warning`, `error`"
        )]);
}

#[test]
fn rule_file_that_is_not_toml() {
    let project = Project::new(&rule_with("[rule.examples]", "[rule.examples"));
    project
        .scan(&["--rules", "rules"])
        .refused(&[&format!("{MINE}:13:")]);
}

#[test]
fn rule_file_with_a_wrong_schema() {
    let project = Project::new(&rule_with("promoscan-rules/v1", "promoscan-rules/v9"));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:1:"),
        "schema is 'promoscan-rules/v9', expected 'promoscan-rules/v1'",
    ]);
}

#[test]
fn rule_file_with_an_invalid_regex_in_pattern_or_unless() {
    let project = Project::new(&rule_with(r"\btoo cheap to miss\b", "(unclosed"));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:5:"),
        "rule 'claim-price/too-cheap'",
        "invalid regex in pattern",
    ]);
    let project = Project::new(&rule_with(
        "\n[rule.examples]",
        "\nunless = { pattern = '[z-a]' }\n[rule.examples]",
    ));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:5:"),
        "rule 'claim-price/too-cheap'",
        "invalid regex in unless.pattern",
    ]);
}

#[test]
fn rule_file_with_a_regex_over_the_size_limit() {
    // Compiles to far more than the 2 MiB a rule regex may take.
    let project = Project::new(&rule_with(r"\btoo cheap to miss\b", r"(?:\w{100}){100}"));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:5:"),
        "rule 'claim-price/too-cheap'",
        "invalid regex in pattern",
        "size limit",
    ]);
}

/// `(a+)+$` takes exponential time in a backtracking engine on `aaa…ab`; the regex crate
/// has no backtracking, so the scan finishes in time linear in the page. No timing
/// assertion: the test simply has to finish.
#[test]
fn rule_file_with_a_catastrophic_regex_scans_in_linear_time() {
    let project = Project::new(
        &rule_with(r"(?i)\btoo cheap to miss\b", "(a+)+$")
            .replace("\"Too cheap to miss.\"", "\"aaaa\"")
            .replace("\"Cheap enough.\"", "\"aaab\"")
            .replace(
                "\n[rule.examples]",
                "\nunless = { pattern = '(x+x+)+y' }\n[rule.examples]",
            ),
    );
    // Line 1 ends in 'b' (no match), line 2 in 'a' (a match), line 3 too, but its
    // `unless` qualifier matches (suppressed).
    let page = format!(
        "<p>{a}b</p>\n<p>{a}</p>\n<p>{x}y {a}</p>\n",
        a = "a".repeat(200_000),
        x = "x".repeat(100_000)
    );
    std::fs::write(project.path("page.html"), page).unwrap();
    let output = Command::cargo_bin("promoscan")
        .unwrap()
        .current_dir(project.path("."))
        .args(["scan", "page.html", "--rules", "rules", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let lines: Vec<u64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"] == "claim-price/too-cheap")
        .map(|finding| finding["location"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2], "only the paragraph ending in 'a' matches");
    // `rules test` runs the same regexes over the examples.
    Command::cargo_bin("promoscan")
        .unwrap()
        .args(["rules", "test"])
        .arg(project.path("rules"))
        .assert()
        .success();
}

#[test]
fn rule_file_with_a_duplicate_id_in_the_same_file() {
    let second = GOOD_RULE
        .split_once("[[rule]]")
        .map(|(_, rule)| format!("\n[[rule]]{rule}"))
        .unwrap();
    let project = Project::new(&format!("{GOOD_RULE}{second}"));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:"),
        "rule 'claim-price/too-cheap'",
        "duplicate rule id (first defined at",
    ]);
}

#[test]
fn rule_file_redefining_a_built_in_id() {
    let project = Project::new(&rule_with(
        "claim-price/too-cheap",
        "claim-price/lowest-price-ever",
    ));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:5:"),
        "rule 'claim-price/lowest-price-ever'",
        "duplicate rule id (first defined at patterns/claims/en.toml:",
    ]);
}

#[test]
fn duplicate_ids_across_two_rule_files() {
    let project = Project::new(GOOD_RULE);
    std::fs::write(project.path("rules/again.toml"), GOOD_RULE).unwrap();
    // Files load in path order: again.toml first, so mine.toml holds the duplicate.
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:5:"),
        "rule 'claim-price/too-cheap'",
        "duplicate rule id (first defined at",
        "again.toml:5)",
    ]);
}

#[test]
fn rule_file_with_an_unknown_category_or_a_bad_id() {
    let project = Project::new(&rule_with(
        "category = \"claim-price\"",
        "category = \"claim-prices\"",
    ));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:5:"),
        "rule 'claim-price/too-cheap'",
        "unknown category 'claim-prices'",
    ]);
    let project = Project::new(&rule_with("claim-price/too-cheap", "claim-price/Too_Cheap"));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:5:"),
        "rule 'claim-price/Too_Cheap'",
        "id must be 'claim-price/<slug>'",
    ]);
}

#[test]
fn rule_without_examples_in_both_directions() {
    let project = Project::new(&rule_with("ok = [\"Cheap enough.\"]", "ok = []"));
    project.scan(&["--rules", "rules"]).refused(&[
        &format!("{MINE}:5:"),
        "rule 'claim-price/too-cheap'",
        "at least one examples.match and one examples.ok",
    ]);
}

#[test]
fn missing_rule_folder_or_file() {
    let project = Project::new(GOOD_RULE);
    project
        .scan(&["--rules", "no-such-rules"])
        .refused(&["no-such-rules: cannot read rule file", "No such file"]);
    project
        .scan(&["--rules", "rules/nope.toml"])
        .refused(&["rules/nope.toml: cannot read rule file"]);
}

#[test]
fn rule_file_that_is_not_utf8() {
    let project = Project::new(GOOD_RULE);
    std::fs::write(
        project.path(MINE),
        b"schema = \"promoscan-rules/v1\"\n\xff\xfe\n",
    )
    .unwrap();
    project
        .scan(&["--rules", "rules"])
        .refused(&[&format!("{MINE}: cannot read rule file")]);
}

#[test]
fn rules_commands_refuse_bad_rule_files_too() {
    let project = Project::new(&rule_with("severity = \"warning\"", "severity = 3"));
    for args in [
        vec!["rules", "list", "--rules", "rules"],
        vec!["rules", "test", "rules"],
        vec![
            "rules",
            "explain",
            "claim-price/too-cheap",
            "--rules",
            "rules",
        ],
    ] {
        let output = Command::cargo_bin("promoscan")
            .unwrap()
            .current_dir(project.path("."))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(&format!("{MINE}:7:")),
            "{args:?}"
        );
    }
}

// ---- promoscan.toml given with --config ----

#[test]
fn config_with_an_unknown_key() {
    let project = Project::new(GOOD_RULE);
    project.config("ci.toml", "fail_on = \"warning\"\nfail-on = \"note\"\n");
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:2:", "unknown field `fail-on`"]);
}

#[test]
fn config_with_a_wrong_type() {
    let project = Project::new(GOOD_RULE);
    project.config(
        "ci.toml",
        "fail_on = \"note\"\ndisable = \"claim-urgency\"\n",
    );
    project.scan(&["--config", "ci.toml"]).refused(&[
        "ci.toml:2: `disable`: invalid type: string \"claim-urgency\", expected a sequence",
    ]);
    project.config("ci.toml", "max_file_size = \"10 MiB\"\n");
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:1: `max_file_size`: invalid type: string"]);
    project.config("ci.toml", "max_file_size = -1\n");
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:1: `max_file_size`: invalid value: integer `-1`"]);
    project.config("ci.toml", "rules = \"rules\"\n");
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:1: `rules`: invalid type: string"]);
}

#[test]
fn config_with_an_unknown_value() {
    let project = Project::new(GOOD_RULE);
    project.config("ci.toml", "\nfail_on = \"sometimes\"\n");
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:2: `fail_on`: unknown variant `sometimes`"]);
    project.config(
        "ci.toml",
        "[severity]\n\"claim-price/lowest-price-ever\" = \"fatal\"\n",
    );
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:2: `claim-price/lowest-price-ever`: unknown variant `fatal`"]);
}

#[test]
fn config_naming_an_unknown_rule() {
    let project = Project::new(GOOD_RULE);
    project.config(
        "ci.toml",
        "disable = [\n  \"claim-urgency\",\n  \"claim-nope\",\n]\n",
    );
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:3: unknown rule or category 'claim-nope'"]);
    project.config(
        "ci.toml",
        "fail_on = \"note\"\n\n[severity]\n\"claim-price/lowest-price-everr\" = \"note\"\n",
    );
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:4: unknown rule or category 'claim-price/lowest-price-everr'"]);
}

#[test]
fn config_naming_a_rule_of_its_own_rule_folder_is_fine() {
    let project = Project::new(GOOD_RULE);
    project.config(
        "ci.toml",
        "rules = [\"rules\"]\n[severity]\n\"claim-price/too-cheap\" = \"error\"\n",
    );
    let run = project.scan(&["--config", "ci.toml"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.rules().contains(&"claim-price/too-cheap".to_string()));
}

#[test]
fn config_that_is_not_toml() {
    let project = Project::new(GOOD_RULE);
    project.config("ci.toml", "fail_on = \"note\"\n[severity\n");
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["ci.toml:2:"]);
}

#[test]
fn missing_config_file() {
    let project = Project::new(GOOD_RULE);
    project
        .scan(&["--config", "nope.toml"])
        .refused(&["nope.toml: cannot read config file", "No such file"]);
    project
        .scan(&["--config", "rules"])
        .refused(&["rules: cannot read config file"]);
    std::fs::write(project.path("latin1.toml"), b"fail_on = \"\xe9\"\n").unwrap();
    project.scan(&["--config", "latin1.toml"]).refused(&[
        "latin1.toml: cannot read config file",
        "did not contain valid UTF-8",
    ]);
}

#[test]
fn config_naming_a_missing_or_bad_rule_folder() {
    let project = Project::new(&rule_with("severity = \"warning\"", "severity = 3"));
    project.config("ci.toml", "rules = [\"no-such-rules\"]\n");
    project
        .scan(&["--config", "ci.toml"])
        .refused(&["no-such-rules: cannot read rule file"]);
    project.config("ci.toml", "rules = [\"rules\"]\n");
    project
        .scan(&["--config", "ci.toml"])
        .refused(&[&format!("{MINE}:7:")]);
}

#[test]
fn discovered_config_is_checked_like_a_given_one() {
    let project = Project::new(GOOD_RULE);
    project.config("promoscan.toml", "disable = [\"claim-nope\"]\n");
    project
        .scan(&[])
        .refused(&["promoscan.toml:1: unknown rule or category 'claim-nope'"]);
    // --config wins over the discovered file.
    project.config("ok.toml", "fail_on = \"never\"\n");
    let run = project.scan(&["--config", "ok.toml", "--rules", "rules"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.rules().contains(&"claim-price/too-cheap".to_string()));
}

#[test]
fn unknown_rule_on_the_command_line() {
    let project = Project::new(GOOD_RULE);
    project
        .scan(&["--disable", "claim-nope"])
        .refused(&["--disable claim-nope: unknown rule or category"]);
}

/// Paths in messages are the ones the user gave (relative stays relative).
#[test]
fn messages_name_the_file_as_given() {
    let project = Project::new(&rule_with("severity = \"warning\"", "severity = 3"));
    let absolute = project.path("rules");
    let run = project.scan(&["--rules", absolute.to_str().unwrap()]);
    run.refused(&[&format!(
        "{}:7:",
        Path::new(&absolute).join("mine.toml").display()
    )]);
}
