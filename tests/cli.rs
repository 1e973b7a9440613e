//! The command line as a user runs it: the real binary, real files, real exit codes.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn promoscan() -> Command {
    let mut command = Command::cargo_bin("promoscan").expect("binary built");
    command.env_remove("NO_COLOR");
    command
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/articles")
        .join(name)
}

/// Runs the binary and parses its JSON report; returns (exit code, report).
fn scan_json(args: &[&str], dir: Option<&Path>) -> (i32, Value) {
    let mut command = promoscan();
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command
        .arg("scan")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn honest_article_exits_zero_and_dishonest_exits_one() {
    let (code, report) = scan_json(
        &[fixture("honest-amazon-kitchen-roundup.html")
            .to_str()
            .unwrap()],
        None,
    );
    assert_eq!(code, 0, "{report}");
    let (code, report) = scan_json(
        &[fixture("dishonest-aliexpress-mega-sale.html")
            .to_str()
            .unwrap()],
        None,
    );
    assert_eq!(code, 1);
    assert!(report["summary"]["error"].as_u64().unwrap() > 0);
}

#[test]
fn report_has_the_documented_shape() {
    let (_, report) = scan_json(
        &[fixture("dishonest-refund-hacks.md").to_str().unwrap()],
        None,
    );
    assert_eq!(report["schema"], "promoscan/v1");
    assert_eq!(report["tool"]["name"], "promoscan");
    let target = &report["targets"][0];
    for key in ["target", "kind", "status", "error", "final_url", "chain"] {
        assert!(target.get(key).is_some(), "target lacks {key}");
    }
    assert_eq!(target["kind"], "file");
    assert_eq!(target["status"], "scanned");
    let finding = &report["findings"][0];
    for key in [
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
    ] {
        assert!(finding.get(key).is_some(), "finding lacks {key}");
    }
    let rule = finding["rule"].as_str().unwrap();
    assert!(rule.starts_with(&format!("{}/", finding["category"].as_str().unwrap())));
    for key in ["targets", "scanned", "failed", "error", "warning", "note"] {
        assert!(report["summary"][key].is_u64(), "summary lacks {key}");
    }
}

#[test]
fn fail_on_sets_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("post.md");
    // A warning-level claim only.
    std::fs::write(
        &file,
        "# Deals\n\nFree worldwide shipping on every order!\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (code, report) = scan_json(&[path], None);
    assert_eq!(report["summary"]["error"], 0, "{report}");
    assert!(report["summary"]["warning"].as_u64().unwrap() >= 1);
    assert_eq!(code, 0, "warnings do not fail by default");
    assert_eq!(scan_json(&[path, "--fail-on", "warning"], None).0, 1);
    assert_eq!(scan_json(&[path, "--fail-on", "note"], None).0, 1);
    assert_eq!(
        scan_json(
            &[
                fixture("dishonest-refund-hacks.md").to_str().unwrap(),
                "--fail-on",
                "never"
            ],
            None
        )
        .0,
        0
    );
}

#[test]
fn markdown_findings_point_at_markdown_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("post.md");
    let markdown = "---\ntitle: \"Lowest price ever\"\n---\n\n# Phone cases\n\nWe compared six cases.\nThis one has the\nlowest price ever and we love it.\n";
    std::fs::write(&file, markdown).unwrap();
    let (_, report) = scan_json(&[file.to_str().unwrap()], None);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "front matter is not scanned: {report}");
    assert_eq!(findings[0]["rule"], "claim-price/lowest-price-ever");
    assert_eq!(findings[0]["location"]["line"], 9);
    assert_eq!(findings[0]["location"]["column"], 1);
}

#[test]
fn stdin_is_scanned_as_html_or_markdown() {
    let output = promoscan()
        .args(["scan", "-", "--format", "json"])
        .write_stdin("<p>Hello.</p>\n<p>Only 2 left in stock!</p>\n")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["targets"][0]["kind"], "stdin");
    assert_eq!(report["targets"][0]["target"], "-");
    assert_eq!(report["findings"][0]["location"]["line"], 2);

    let output = promoscan()
        .args([
            "scan",
            "-",
            "--stdin-format",
            "markdown",
            "--format",
            "json",
        ])
        .write_stdin("# Title\n\n*Only 2 left* in stock!\n")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["findings"][0]["rule"],
        "claim-urgency/low-stock-count"
    );
    assert_eq!(report["findings"][0]["location"]["line"], 3);
}

#[test]
fn folders_are_recursed_honouring_gitignore() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("posts/2026")).unwrap();
    std::fs::create_dir_all(dir.path().join("drafts")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "drafts/\n").unwrap();
    std::fs::write(dir.path().join("posts/a.md"), "Only 2 left!\n").unwrap();
    std::fs::write(dir.path().join("posts/2026/b.html"), "<p>Ends tonight!</p>").unwrap();
    std::fs::write(dir.path().join("posts/notes.txt"), "Only 2 left!").unwrap();
    std::fs::write(dir.path().join("drafts/c.md"), "Only 2 left!\n").unwrap();
    let (_, report) = scan_json(&["."], Some(dir.path()));
    let targets: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|target| target["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, vec!["./posts/2026/b.html", "./posts/a.md"]);
}

#[test]
fn bad_targets_are_reported_and_never_lose_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.md");
    std::fs::write(&good, "Only 2 left!\n").unwrap();
    let binary = dir.path().join("image.html");
    std::fs::write(&binary, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").unwrap();
    let latin1 = dir.path().join("latin1.md");
    std::fs::write(
        &latin1,
        b"Caf\xe9 cr\xe8me: only 2 left in stock, cr\xe9ez votre compte.\n",
    )
    .unwrap();
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, b"").unwrap();
    let huge = dir.path().join("huge.html");
    let block = "<p>Just an ordinary paragraph of text.</p>\n".repeat(1024 * 1024 / 42 + 1);
    let mut content = String::new();
    while content.len() < 50 * 1024 * 1024 {
        content.push_str(&block);
    }
    std::fs::write(&huge, content).unwrap();
    let missing = dir.path().join("missing.md");
    // 100,000 nested elements: refused by the linear depth check instead of taking
    // minutes in the tree builder.
    let deep = dir.path().join("deep.html");
    std::fs::write(&deep, "<div>".repeat(100_000)).unwrap();

    let args: Vec<String> = [&good, &binary, &latin1, &empty, &huge, &missing, &deep]
        .iter()
        .map(|path| path.to_str().unwrap().to_string())
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, report) = scan_json(&args, None);
    assert_eq!(code, 1);
    let targets = report["targets"].as_array().unwrap();
    let status = |name: &str| {
        targets
            .iter()
            .find(|t| t["target"].as_str().unwrap().ends_with(name))
            .map(|t| {
                (
                    t["status"].as_str().unwrap().to_string(),
                    t["error"].clone(),
                )
            })
            .unwrap()
    };
    assert_eq!(status("good.md").0, "scanned");
    assert_eq!(status("latin1.md").0, "scanned");
    assert_eq!(status("empty.html").0, "scanned");
    assert_eq!(status("image.html").0, "failed");
    assert_eq!(status("huge.html").0, "failed");
    assert!(status("huge.html").1.as_str().unwrap().contains("limit"));
    assert_eq!(status("missing.md").0, "failed");
    assert_eq!(status("deep.html").0, "failed");
    assert_eq!(report["summary"]["failed"], 4);

    let findings = report["findings"].as_array().unwrap();
    let has = |file: &str, rule: &str| {
        findings
            .iter()
            .any(|f| f["target"].as_str().unwrap().ends_with(file) && f["rule"] == rule)
    };
    assert!(has("good.md", "claim-urgency/low-stock-count"));
    assert!(
        has("latin1.md", "claim-urgency/low-stock-count"),
        "decoded text is scanned"
    );
    assert!(has("latin1.md", "scan-error/not-utf8"));
    assert!(has("empty.html", "scan-error/empty"));
    assert!(has("image.html", "scan-error/binary-file"));
    assert!(has("huge.html", "scan-error/too-large"));
    assert!(has("missing.md", "scan-error/unreadable"));
    assert!(has("deep.html", "scan-error/too-deep"));
}

#[test]
fn bad_rule_file_stops_the_run_with_exit_2_naming_file_rule_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("mine.toml"),
        "schema = \"promoscan-rules/v1\"\n\n[[rule]]\nid = \"claim-price/broken\"\ncategory = \"claim-price\"\nseverity = \"warning\"\nconfidence = \"low\"\nmessage = \"m\"\nhelp = \"h\"\npattern = '(unclosed'\n[rule.examples]\nmatch = [\"x\"]\nok = [\"y\"]\n",
    )
    .unwrap();
    let output = promoscan()
        .args([
            "scan",
            fixture("honest-coupon-page.md").to_str().unwrap(),
            "--rules",
        ])
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is scanned");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mine.toml:4: rule 'claim-price/broken': invalid regex"),
        "{stderr}"
    );
}

#[test]
fn config_file_disables_overrides_and_sets_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("post.md"),
        "Only 2 left!\n\nLowest price ever!\n",
    )
    .unwrap();
    let (_, report) = scan_json(&["post.md"], Some(dir.path()));
    let before = rules_of(&report);
    assert!(before.contains(&"claim-urgency/low-stock-count".to_string()));
    assert!(before.contains(&"claim-price/lowest-price-ever".to_string()));

    std::fs::write(
        dir.path().join("promoscan.toml"),
        "fail_on = \"note\"\ndisable = [\"claim-urgency\"]\n\n[severity]\n\"claim-price/lowest-price-ever\" = \"note\"\n",
    )
    .unwrap();
    let nested = dir.path().join("sub");
    std::fs::create_dir(&nested).unwrap();
    std::fs::copy(dir.path().join("post.md"), nested.join("post.md")).unwrap();
    let (code, report) = scan_json(&["post.md"], Some(&nested));
    assert_eq!(
        rules_of(&report),
        vec!["claim-price/lowest-price-ever"],
        "config found in a parent folder"
    );
    assert_eq!(report["findings"][0]["severity"], "note");
    assert_eq!(code, 1, "fail_on = note");
    let (_, report) = scan_json(
        &["post.md", "--disable", "claim-price/lowest-price-ever"],
        Some(&nested),
    );
    assert!(rules_of(&report).is_empty());
}

#[test]
fn bad_config_is_exit_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("post.md"), "text\n").unwrap();
    std::fs::write(
        dir.path().join("promoscan.toml"),
        "fail_on = \"error\"\ndisable = [\"claim-nope\"]\n",
    )
    .unwrap();
    let output = promoscan()
        .current_dir(dir.path())
        .args(["scan", "post.md"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("promoscan.toml:2: unknown rule or category 'claim-nope'"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("promoscan.toml"),
        "fail_on = \"sometimes\"\n",
    )
    .unwrap();
    let output = promoscan()
        .current_dir(dir.path())
        .args(["scan", "post.md"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("promoscan.toml:1:"));

    let output = promoscan()
        .args(["scan", "--format", "xml", "post.md"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "usage error");
}

#[test]
fn output_file_and_all_formats() {
    let dir = tempfile::tempdir().unwrap();
    let article = fixture("dishonest-coupon-bait.md");
    let out = dir.path().join("report.json");
    promoscan()
        .args(["scan", article.to_str().unwrap(), "--output"])
        .arg(&out)
        .assert()
        .code(1)
        .stdout("");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap().len();
    assert!(findings > 0);

    let jsonl = promoscan()
        .args(["scan", article.to_str().unwrap(), "--format", "jsonl"])
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(
        lines.iter().filter(|l| l["type"] == "finding").count(),
        findings
    );
    assert_eq!(lines.iter().filter(|l| l["type"] == "target").count(), 1);
    assert_eq!(lines.last().unwrap()["type"], "summary");

    let sarif = promoscan()
        .args(["scan", article.to_str().unwrap(), "--format", "sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        findings
    );
    let list = promoscan()
        .args(["rules", "list", "--format", "json"])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        list.as_array().unwrap().len(),
        "every rule's metadata is in SARIF"
    );

    let text = promoscan()
        .args(["scan", article.to_str().unwrap(), "--format", "text"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
    assert!(text.contains("dishonest-coupon-bait.md:"));
    assert!(text.contains("= help:"));
}

#[test]
fn output_is_deterministic() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/articles");
    let run = || {
        promoscan()
            .arg("scan")
            .arg(&folder)
            .args(["--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
}

/// The report is written as the scan goes, yet its findings are sorted by target, line,
/// column, rule and message across every target, even for a target named twice and
/// targets given out of order; the targets stay in the order given.
#[test]
fn findings_are_sorted_across_targets_given_in_any_order_or_twice() {
    let amazon = fixture("dishonest-amazon-deals.html");
    let coupons = fixture("dishonest-coupon-bait.md");
    let amazon = amazon.to_str().expect("UTF-8 path");
    let coupons = coupons.to_str().expect("UTF-8 path");
    let (code, report) = scan_json(&[coupons, amazon, coupons], None);
    assert_eq!(code, 1);
    let targets: Vec<&str> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(|target| target["target"].as_str())
        .collect();
    assert_eq!(targets, [coupons, amazon, coupons]);
    let keys: Vec<(String, u64, u64, String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            (
                finding["target"].as_str().unwrap_or("").to_string(),
                finding["location"]["line"].as_u64().unwrap_or(0),
                finding["location"]["column"].as_u64().unwrap_or(0),
                finding["rule"].as_str().unwrap_or("").to_string(),
                finding["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // The target named twice has each of its findings twice, side by side.
    let twice: Vec<_> = keys.iter().filter(|key| key.0 == coupons).collect();
    assert!(!twice.is_empty() && twice.len() % 2 == 0);
    assert!(twice.chunks(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(report["summary"]["targets"], 3);
}

/// The JSON report keeps its findings in a temporary file while the scan runs; where no
/// temporary file can be made, the report is built in memory, with the same bytes.
#[test]
fn json_report_without_a_temporary_folder_is_the_same() {
    let article = fixture("dishonest-amazon-deals.html");
    let run = |tmpdir: Option<&str>| {
        let mut command = promoscan();
        if let Some(tmpdir) = tmpdir {
            command.env("TMPDIR", tmpdir);
        }
        command
            .arg("scan")
            .arg(&article)
            .args(["--format", "json"])
            .output()
            .expect("runs")
    };
    let streamed = run(None);
    let in_memory = run(Some("/nonexistent/promoscan-no-temp"));
    assert_eq!(in_memory.status.code(), Some(1));
    assert_eq!(streamed.status.code(), Some(1));
    assert!(!streamed.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&in_memory.stdout),
        String::from_utf8_lossy(&streamed.stdout)
    );
}

#[test]
fn rules_list_explain_and_test() {
    let list = promoscan()
        .args(["rules", "list", "--format", "json"])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let rules = list.as_array().unwrap();
    for entry in rules {
        for key in [
            "id",
            "category",
            "severity",
            "confidence",
            "language",
            "message",
            "help",
        ] {
            assert!(entry.get(key).is_some(), "{key} missing in {entry}");
        }
    }
    let claims = rules
        .iter()
        .filter(|r| r["category"].as_str().unwrap().starts_with("claim-"))
        .count();
    assert!(claims >= 40, "{claims} claim rules");

    promoscan()
        .args(["rules", "explain", "claim-price/lowest-price-ever"])
        .assert()
        .success()
        .stdout(predicates::str::contains("help:"))
        .stdout(predicates::str::contains("Examples flagged:"));
    promoscan()
        .args(["rules", "explain", "claim-price/nope"])
        .assert()
        .code(2);

    promoscan()
        .args(["rules", "test"])
        .assert()
        .success()
        .stdout(predicates::str::contains(" 0 failed"));
}

#[test]
fn rules_test_on_a_folder_reports_failing_examples() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "schema = \"promoscan-rules/v1\"\nlanguage = \"en\"\n\n[[rule]]\nid = \"claim-price/too-cheap\"\ncategory = \"claim-price\"\nseverity = \"warning\"\nconfidence = \"low\"\nmessage = \"'{match}'\"\nhelp = \"h\"\npattern = '(?i)\\btoo cheap\\b'\n[rule.examples]\nmatch = [\"Too cheap to miss.\", \"Way too expensive.\"]\nok = [\"Cheap enough.\"]\n",
    )
    .unwrap();
    promoscan()
        .args(["rules", "test"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicates::str::contains("FAIL claim-price/too-cheap ("))
        .stdout(predicates::str::contains(
            "\"Way too expensive.\": should be flagged but is not",
        ))
        .stdout(predicates::str::contains(
            "1 rules, 3 examples: 2 passed, 1 failed, 0 todo",
        ));
}

/// On a terminal the default format is text, coloured unless NO_COLOR is set. The
/// terminal comes from util-linux `script`; the test is skipped (with a message) where
/// it is not installed.
#[test]
fn terminal_output_is_coloured_text_unless_no_color() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let binary = assert_cmd::cargo::cargo_bin("promoscan");
    let article = fixture("dishonest-qualifier-elsewhere.md");
    let run_on_terminal = |no_color: bool| {
        let mut command = std::process::Command::new("script");
        command
            .args(["-qec"])
            .arg(format!("{} scan {}", binary.display(), article.display()))
            .arg("/dev/null")
            .stdin(std::process::Stdio::null())
            .env_remove("NO_COLOR");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        let output = command.output().expect("script runs");
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    let coloured = run_on_terminal(false);
    assert!(
        coloured.contains("\u{1b}[") && coloured.contains("warning"),
        "{coloured}"
    );
    let plain = run_on_terminal(true);
    assert!(plain.contains("warning[claim-shipping/"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "NO_COLOR is respected: {plain}");
}

/// A minified page (one long line) with thousands of scripted loads and click handlers
/// gets every finding; each finding's work stays local to it (a quadratic cost here
/// would make this test run for minutes).
#[test]
fn one_line_page_with_many_script_matches_is_fully_reported() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("minified.html");
    let loads = "new Image().src='https://s.click.aliexpress.com/e/_D';".repeat(20_000);
    let handlers = "a.addEventListener('click', function () {".repeat(20_000);
    std::fs::write(
        &page,
        format!("<script>{loads}</script><script>{handlers}</script>"),
    )
    .unwrap();
    let (_, report) = scan_json(&[page.to_str().unwrap()], None);
    let stuffing = rules_of(&report)
        .iter()
        .filter(|rule| *rule == "cookie-stuffing/scripted-request")
        .count();
    assert_eq!(stuffing, 20_000);
}
