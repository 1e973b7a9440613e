//! Ctrl-C (SIGINT) during `follow` and `audit`: the run ends quickly, writes every
//! result already obtained (JSONL stays valid) and exits with 130.

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
