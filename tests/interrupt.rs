//! Ctrl-C (SIGINT) during `scan`, `follow` and `audit`: the run ends quickly, writes
//! every result already obtained (JSONL stays valid) and exits with 130.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::server::{Reply, TestServer};

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits for the child; panics if it takes longer than `limit` (then kills it).
fn wait_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_during_follow_reports_what_is_done_and_exits_130() {
    let server = TestServer::start(|path| match path {
        "/fast" => Reply::redirect(302, "/end"),
        "/end" => Reply::html("<p>done</p>"),
        _ => Reply::Delayed(Duration::from_secs(60), Box::new(Reply::html("late"))),
    });
    let folder = tempfile::tempdir().expect("temp dir");
    let output = folder.path().join("out.json");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("promoscan"))
        .args([
            "follow",
            "--format",
            "json",
            "--timeout",
            "100",
            "--chain-timeout",
            "100",
        ])
        .arg(server.url("/fast"))
        .arg(server.url("/slow"))
        .arg("--output")
        .arg(&output)
        .stdin(Stdio::null())
        .spawn()
        .expect("start");
    let started = Instant::now();
    while server.hits("/end") == 0 || server.hits("/slow") == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    interrupt(&child);
    let status = wait_within(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(130));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&output).expect("output")).expect("JSON");
    let targets = report["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 1, "{report}");
    assert_eq!(targets[0]["target"], server.url("/fast"));
}

#[test]
fn ctrl_c_during_audit_keeps_valid_jsonl_and_exits_130() {
    let server = TestServer::start(|path| match path {
        "/robots.txt" => Reply::status(404),
        _ => {
            let number: u32 = path.trim_start_matches("/p/").parse().unwrap_or(0);
            Reply::html(&format!(
                "<p>Page {number}</p><a href=\"/p/{}\">next</a><a href=\"/p/{}\">other</a>",
                number + 1,
                number * 2 + 1
            ))
        }
    });
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("promoscan"))
        .args([
            "audit",
            &server.url("/p/0"),
            "--format",
            "jsonl",
            "--host-rate",
            "20",
        ])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("start");
    let started = Instant::now();
    while server.all_hits().len() < 15 {
        assert!(started.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&child);
    let status = wait_within(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(130));
    let mut text = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().expect("stdout"), &mut text).expect("read");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is complete JSON"))
        .collect();
    let pages = lines.iter().filter(|line| line["type"] == "target").count();
    assert!(pages >= 5, "{text}");
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["audit"]["interrupted"], true);
    assert_eq!(summary["audit"]["pages"], pages);
}

/// A scan of a large folder writes JSON Lines as it goes (each target's findings, then its
/// target line); Ctrl-C ends it with every line complete and a summary of what was done.
#[test]
fn ctrl_c_during_scan_keeps_valid_jsonl_and_exits_130() {
    let folder = tempfile::tempdir().expect("temp dir");
    let article = std::fs::read_to_string("fixtures/articles/dishonest-aliexpress-mega-sale.html")
        .expect("fixture");
    let pages = 3000;
    for index in 0..pages {
        std::fs::write(
            folder.path().join(format!("page-{index:04}.html")),
            &article,
        )
        .expect("write page");
    }
    let output = folder.path().join("out.jsonl");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("promoscan"))
        .args(["scan", "--format", "jsonl", "--output"])
        .arg(&output)
        .arg(folder.path())
        .stdin(Stdio::null())
        .spawn()
        .expect("start");
    // Results arrive while the scan runs: wait for the first target line.
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&output).unwrap_or_default();
        if text.contains("\"type\":\"target\"") {
            break;
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the scan ended before any result was written"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing written"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    interrupt(&child);
    let status = wait_within(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    let text = std::fs::read_to_string(&output).expect("output");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is complete JSON"))
        .collect();
    let done: Vec<&str> = lines
        .iter()
        .filter(|line| line["type"] == "target")
        .map(|line| line["target"].as_str().expect("a target name"))
        .collect();
    assert!(
        !done.is_empty() && done.len() < pages,
        "{} pages done",
        done.len()
    );
    // In name order, and every finding comes before its own target line.
    assert!(done.windows(2).all(|pair| pair[0] < pair[1]));
    let mut waiting: Vec<&str> = Vec::new();
    for line in &lines {
        match line["type"].as_str() {
            Some("finding") => waiting.push(line["target"].as_str().expect("target")),
            Some("target") => {
                let target = line["target"].as_str().expect("target");
                assert!(waiting.iter().all(|finding| *finding == target), "{line}");
                waiting.clear();
            }
            _ => {}
        }
    }
    assert!(waiting.is_empty(), "findings without their target line");
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["targets"], done.len());
    assert!(summary["error"].as_u64().is_some_and(|errors| errors > 0));
}
