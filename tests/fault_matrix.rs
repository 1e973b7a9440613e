//! The fault matrix (issue 7): every way a server or a page can misbehave, served by a
//! real HTTP server on 127.0.0.1 started by the test (or written to a temp folder), and
//! scanned and followed by the real binary. For each case: the process ends, exits 0 or
//! 1, reports a record for the target that says what happened (a finding, a scan-error
//! or a note on the hop), stays within a generous memory bound, and every other target
//! of the same run (a healthy control page above all) is still reported.
//!
//! Time is bounded by the command's `timeout` (120 s), never by a timed assertion: the
//! observed wall time and peak RSS of each case are printed as a table
//! (`cargo test --release --test fault_matrix -- --nocapture`) and recorded in
//! docs/fault-matrix.md.

mod support;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use support::server::{Reply, TestServer};

/// The limits every run uses: short enough to keep the matrix quick, and each one a
/// bound some case runs into.
const LIMITS: &[&str] = &[
    "--format",
    "json",
    "--timeout",
    "2",
    "--retries",
    "0",
    "--body-cap",
    "2000000",
];

/// The chain time limit of the all-in-one runs: there every heavy page is parsed at
/// once (two cores), so a chain may wait its turn; its own runs use 5 s.
const ALL_IN_ONE_CHAIN_TIMEOUT: &str = "30";

/// The generous memory bound every case must stay under (the observed figures are far
/// lower; see docs/fault-matrix.md).
const MEMORY_BOUND_KIB: u64 = 1024 * 1024;

/// The claim every page with text carries, so a page that was read shows it was read.
const CLAIM: &str = "<p>Free shipping worldwide in 3 days, guaranteed!</p>";

/// Where a case lives.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// A path on the test server.
    Url(&'static str),
    /// A file name in the temp folder.
    File(&'static str),
}

/// What a command must report for a case's target.
#[derive(Debug, Clone, Copy)]
struct Expect {
    /// `scanned` or `failed`.
    status: &'static str,
    /// A rule id (or a prefix ending in `/`) among the target's findings; `None` when
    /// there is nothing to report about the page itself.
    rule: Option<&'static str>,
    /// Words the record's error or one of its hops' errors must hold: what happened
    /// (alternatives separated by `|`).
    says: Option<&'static str>,
}

const fn expect(status: &'static str, rule: Option<&'static str>) -> Expect {
    Expect {
        status,
        rule,
        says: None,
    }
}

impl Expect {
    const fn saying(self, words: &'static str) -> Expect {
        Expect {
            says: Some(words),
            ..self
        }
    }
}

/// One row of the matrix.
struct Case {
    /// Short name (the table's first column).
    name: &'static str,
    /// The target.
    place: Place,
    /// Extra flags for this case's own runs (not used in the all-in-one run).
    extra: &'static [&'static str],
    /// What `scan` reports.
    scan: Expect,
    /// What `follow` reports (URL cases only).
    follow: Option<Expect>,
}

fn cases() -> Vec<Case> {
    use Place::{File, Url};
    let scanned = |rule| expect("scanned", rule);
    let failed = |rule| expect("failed", rule);
    vec![
        Case {
            name: "slow headers (1 byte / 100 ms)",
            place: Url("/slow-headers"),
            extra: &[],
            scan: failed(Some("scan-error/unreadable")).saying("timed out|chain took longer"),
            follow: Some(
                failed(Some("redirect-chain/dead-end")).saying("timed out|chain took longer"),
            ),
        },
        Case {
            name: "body drips 1 byte / s",
            place: Url("/drip"),
            extra: &[],
            scan: scanned(Some("scan-error/truncated")).saying("did not arrive in time"),
            follow: Some(scanned(None).saying("did not arrive in time")),
        },
        Case {
            name: "endless body",
            place: Url("/endless"),
            extra: &[],
            scan: scanned(Some("scan-error/truncated")).saying("cap"),
            follow: Some(scanned(None).saying("cap")),
        },
        Case {
            name: "gzip bomb (200 MB of HTML in < 1 MB)",
            place: Url("/gzip-bomb"),
            extra: &[],
            scan: scanned(Some("scan-error/truncated")).saying("cap"),
            follow: Some(scanned(None).saying("cap")),
        },
        Case {
            name: "redirect loop through meta refresh",
            place: Url("/meta-loop-a"),
            extra: &[],
            scan: failed(Some("redirect-chain/loop")).saying("loop"),
            follow: Some(scanned(Some("redirect-chain/loop"))),
        },
        Case {
            name: "1,000-hop chain",
            place: Url("/hop/0"),
            extra: &[],
            scan: failed(Some("redirect-chain/too-many-hops")).saying("after 15 hops"),
            follow: Some(scanned(Some("redirect-chain/too-many-hops"))),
        },
        Case {
            name: "1,000-hop chain, --max-hops 1000",
            place: Url("/hop/0"),
            extra: &["--max-hops", "1000"],
            scan: failed(Some("scan-error/unreadable")).saying("chain took longer than 5 s"),
            follow: Some(
                scanned(Some("redirect-chain/dead-end")).saying("chain took longer than 5 s"),
            ),
        },
        Case {
            name: "connection reset mid-body",
            place: Url("/reset-mid-body"),
            extra: &[],
            scan: scanned(Some("scan-error/truncated")).saying("broke off"),
            follow: Some(scanned(None).saying("broke off")),
        },
        Case {
            name: "malformed status line",
            place: Url("/malformed-status"),
            extra: &[],
            scan: failed(Some("scan-error/unreadable")).saying("invalid HTTP status"),
            follow: Some(failed(Some("redirect-chain/dead-end")).saying("invalid HTTP status")),
        },
        Case {
            name: "Content-Length longer than the body (connection held)",
            place: Url("/length-long-held"),
            extra: &[],
            scan: scanned(Some("scan-error/truncated")).saying("did not arrive in time"),
            follow: Some(scanned(None).saying("did not arrive in time")),
        },
        Case {
            name: "Content-Length longer than the body (connection closed)",
            place: Url("/length-long-closed"),
            extra: &[],
            scan: scanned(Some("scan-error/truncated")).saying("broke off"),
            follow: Some(scanned(None).saying("broke off")),
        },
        Case {
            name: "Content-Length shorter than the body",
            place: Url("/length-short"),
            extra: &[],
            scan: scanned(None),
            follow: Some(scanned(None)),
        },
        Case {
            name: "invalid UTF-8, no charset",
            place: Url("/invalid-utf8"),
            extra: &[],
            scan: scanned(Some("scan-error/not-utf8")),
            follow: Some(scanned(None)),
        },
        Case {
            name: "lying charset (says UTF-8, is windows-1251)",
            place: Url("/lying-charset"),
            extra: &[],
            scan: scanned(Some("claim-shipping/")),
            follow: Some(scanned(None)),
        },
        Case {
            name: "20 MB single-line page",
            place: Url("/single-line.html"),
            extra: &[],
            scan: scanned(Some("scan-error/truncated")).saying("cap"),
            follow: Some(scanned(None).saying("cap")),
        },
        Case {
            name: "100,000 nested elements",
            place: Url("/deep.html"),
            extra: &[],
            scan: failed(Some("scan-error/too-deep")).saying("levels"),
            follow: Some(scanned(None).saying("levels deep")),
        },
        Case {
            name: "a page of only scripts",
            place: Url("/scripts.html"),
            extra: &[],
            scan: scanned(None),
            follow: Some(scanned(None)),
        },
        Case {
            name: "non-HTML body (image/png) at .html",
            place: Url("/photo.html"),
            extra: &[],
            scan: scanned(None),
            follow: Some(scanned(None)),
        },
        Case {
            name: "binary body sent as text/html at .html",
            place: Url("/binary.html"),
            extra: &[],
            scan: failed(Some("scan-error/binary-file")).saying("NUL"),
            follow: Some(scanned(None)),
        },
        Case {
            name: "20 MB single-line file",
            place: File("single-line.html"),
            extra: &[],
            scan: failed(Some("scan-error/too-large")).saying("limit"),
            follow: None,
        },
        Case {
            name: "20 MB single-line file, --max-file-size 25000000",
            place: File("single-line.html"),
            extra: &["--max-file-size", "25000000"],
            scan: scanned(Some("claim-shipping/")),
            follow: None,
        },
        Case {
            name: "100,000 nested elements (file)",
            place: File("deep.html"),
            extra: &[],
            scan: failed(Some("scan-error/too-deep")).saying("levels"),
            follow: None,
        },
        Case {
            name: "a page of only scripts (file)",
            place: File("scripts.html"),
            extra: &[],
            scan: scanned(None),
            follow: None,
        },
        Case {
            name: "non-HTML (PNG) file named .html",
            place: File("photo.html"),
            extra: &[],
            scan: failed(Some("scan-error/binary-file")).saying("NUL"),
            follow: None,
        },
    ]
}

/// The healthy page every run carries: its finding must survive every fault.
const CONTROL_PATH: &str = "/control";
const CONTROL_RULE: &str = "claim-shipping/";

/// The bodies the server and the files use.
struct Bodies {
    single_line: Vec<u8>,
    deep: Vec<u8>,
    scripts: Vec<u8>,
    png: Vec<u8>,
    gzip_bomb: Vec<u8>,
}

fn bodies() -> Bodies {
    // One line of 20 MiB: a claim, then inline elements without a newline.
    let mut single_line = format!("<html><body>{CLAIM}").into_bytes();
    let mut index = 0;
    while single_line.len() < 20 * 1024 * 1024 {
        single_line.extend_from_slice(format!("<span>word {index} filler</span> ").as_bytes());
        index += 1;
    }
    single_line.extend_from_slice(b"</body></html>");
    let deep = format!(
        "<html><body>{CLAIM}{}deep{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    )
    .into_bytes();
    let scripts = format!(
        "<html><head>{}</head></html>",
        "<script>var seen = (window.seen || 0) + 1; window.seen = seen;</script>\n".repeat(10_000)
    )
    .into_bytes();
    // A PNG signature and header, then bytes that are no text (NULs included).
    let mut png = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
    ];
    png.extend((0..64 * 1024u32).map(|n| (n.wrapping_mul(2_654_435_761) >> 24) as u8));
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    bomb.write_all(format!("<html><body>{CLAIM}").as_bytes())
        .expect("compress");
    let spaces = vec![b' '; 1024 * 1024];
    for _ in 0..200 {
        bomb.write_all(&spaces).expect("compress");
    }
    let gzip_bomb = bomb.finish().expect("compressed");
    assert!(gzip_bomb.len() < 1024 * 1024);
    Bodies {
        single_line,
        deep,
        scripts,
        png,
        gzip_bomb,
    }
}

/// The server for every URL case, and the temp folder for every file case.
struct Matrix {
    server: TestServer,
    files: tempfile::TempDir,
}

fn matrix() -> Matrix {
    let bodies = Arc::new(bodies());
    let files = tempfile::tempdir().expect("temp folder");
    for (name, body) in [
        ("single-line.html", &bodies.single_line),
        ("deep.html", &bodies.deep),
        ("scripts.html", &bodies.scripts),
        ("photo.html", &bodies.png),
    ] {
        std::fs::write(files.path().join(name), body).expect("write a case file");
    }
    let html = |body: &[u8]| Reply::with(200, &[("Content-Type", "text/html")], body.to_vec());
    let server = TestServer::start(move |path| match path {
        CONTROL_PATH => Reply::html(&format!("<html><body><h1>Review</h1>{CLAIM}</body></html>")),
        "/slow-headers" => Reply::SlowHeaders {
            interval: Duration::from_millis(100),
            reply: Box::new(Reply::html(CLAIM)),
        },
        "/drip" => Reply::Drip {
            interval: Duration::from_secs(1),
            total: 60,
        },
        "/endless" => Reply::Endless,
        "/gzip-bomb" => Reply::with(
            200,
            &[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
            bodies.gzip_bomb.clone(),
        ),
        "/meta-loop-a" => {
            Reply::html(r#"<meta http-equiv="refresh" content="0; url=/meta-loop-b">"#)
        }
        "/meta-loop-b" => {
            Reply::html(r#"<meta http-equiv="refresh" content="0; url=/meta-loop-a">"#)
        }
        "/reset-mid-body" => Reply::ResetMidBody {
            announced: 100_000,
            sent: 1_000,
        },
        "/malformed-status" => Reply::Raw(b"HTTP/1.1 two hundred OK\r\n\r\n<p>hi</p>".to_vec()),
        "/length-long-held" => Reply::WrongLength {
            announced: 100_000,
            body: CLAIM.as_bytes().to_vec(),
            hold: Duration::from_secs(30),
        },
        "/length-long-closed" => Reply::WrongLength {
            announced: 100_000,
            body: CLAIM.as_bytes().to_vec(),
            hold: Duration::from_millis(50),
        },
        // Announces 10 bytes of a longer page; the rest stays in the connection.
        "/length-short" => Reply::WrongLength {
            announced: 10,
            body: format!("<html><body>{CLAIM}</body></html>").into_bytes(),
            hold: Duration::ZERO,
        },
        "/invalid-utf8" => {
            let mut body = format!("<html><body>{CLAIM}<p>Caf").into_bytes();
            body.extend_from_slice(&[0xe9, b' ', 0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe]);
            body.extend_from_slice(b"</p></body></html>");
            html(&body)
        }
        "/lying-charset" => {
            let text = format!(
                "<html><body><p>Бесплатная доставка по всему миру.</p>{CLAIM}</body></html>"
            );
            let (encoded, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
            Reply::with(
                200,
                &[("Content-Type", "text/html; charset=utf-8")],
                encoded.into_owned(),
            )
        }
        "/single-line.html" => html(&bodies.single_line),
        "/deep.html" => html(&bodies.deep),
        "/scripts.html" => html(&bodies.scripts),
        "/photo.html" => Reply::with(200, &[("Content-Type", "image/png")], bodies.png.clone()),
        "/binary.html" => html(&bodies.png),
        _ => hop(path),
    });
    Matrix { server, files }
}

/// `/hop/N` redirects to `/hop/N+1` until `/hop/1000`, a page.
fn hop(path: &str) -> Reply {
    match path
        .strip_prefix("/hop/")
        .and_then(|number| number.parse::<u32>().ok())
    {
        Some(number) if number < 1000 => Reply::redirect(302, &format!("/hop/{}", number + 1)),
        Some(_) => Reply::html(CLAIM),
        None => Reply::status(404),
    }
}

/// Each URL case has a host of its own (`slow-headers.faults.test`...), pinned to
/// 127.0.0.1 with `--resolve`: the per-host limits of one case never hold up another,
/// as with real sites, and nothing leaves the machine (not even DNS).
fn host_of(path: &str) -> String {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    format!("{}.faults.test", first.trim_end_matches(".html"))
}

impl Matrix {
    /// The target name of a case, as given on the command line and reported.
    fn target(&self, place: Place) -> String {
        match place {
            Place::Url(path) => format!("http://{}:{}{path}", host_of(path), self.server.port()),
            Place::File(name) => self.files.path().join(name).to_string_lossy().into_owned(),
        }
    }

    /// The control page's URL.
    fn control(&self) -> String {
        self.target(Place::Url(CONTROL_PATH))
    }

    /// The flags every run starts with: the limits, a chain time limit, and the pins of
    /// every case's host.
    fn flags(&self, command: &str, chain_timeout: &str) -> Vec<String> {
        let mut flags = strings(&[command]);
        flags.extend(strings(LIMITS));
        flags.extend(strings(&["--chain-timeout", chain_timeout]));
        let mut paths: Vec<&str> = cases()
            .iter()
            .filter_map(|case| match case.place {
                Place::Url(path) => Some(path),
                Place::File(_) => None,
            })
            .collect();
        paths.push(CONTROL_PATH);
        let mut hosts: Vec<String> = paths.into_iter().map(host_of).collect();
        hosts.dedup();
        for host in hosts {
            flags.push("--resolve".to_string());
            flags.push(format!("{host}:127.0.0.1"));
        }
        flags
    }
}

/// What one run of the binary gave.
struct Run {
    report: Value,
    exit: Option<i32>,
    wall: Duration,
    /// Peak resident set size, when `/usr/bin/time` could measure it.
    peak_kib: Option<u64>,
}

/// Runs `promoscan ARGS` (under `/usr/bin/time` when present, for its peak RSS) with a
/// 120 s timeout, and checks it ended by itself with 0 or 1 and printed a JSON report.
fn run(args: &[String]) -> Run {
    let binary = assert_cmd::cargo::cargo_bin("promoscan");
    let time = Path::new("/usr/bin/time");
    let measure = tempfile::NamedTempFile::new().expect("a temp file");
    let mut command = if time.exists() {
        let mut command = Command::new(time);
        command
            .args(["-f", "%M", "-o"])
            .arg(measure.path())
            .arg(&binary);
        command
    } else {
        Command::new(&binary)
    };
    command
        .args(args)
        .env_remove("NO_COLOR")
        .timeout(Duration::from_secs(120));
    let started = Instant::now();
    let output = command.output().expect("promoscan runs");
    let wall = started.elapsed();
    let exit = output.status.code();
    assert!(
        matches!(exit, Some(0 | 1)),
        "promoscan {args:?} ended with {:?} after {wall:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "promoscan {args:?}: no JSON report ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let peak_kib = std::fs::read_to_string(measure.path())
        .ok()
        .and_then(|text| text.lines().last()?.trim().parse().ok());
    Run {
        report,
        exit,
        wall,
        peak_kib,
    }
}

fn record<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|target| target["target"] == name)
        .unwrap_or_else(|| panic!("no record for {name} in {report}"))
}

/// The rule ids of the findings about `name`, sorted and distinct.
fn rules_for(report: &Value, name: &str) -> Vec<String> {
    let mut rules: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["target"] == name)
        .filter_map(|finding| finding["rule"].as_str().map(str::to_string))
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

/// Checks the record and findings of `name` against `expect`.
fn check(report: &Value, name: &str, case: &str, command: &str, expect: Expect) {
    let found = record(report, name);
    assert_eq!(
        found["status"],
        expect.status,
        "{command} {case}: {found} {:?}",
        rules_for(report, name)
    );
    if let Some(rule) = expect.rule {
        let rules = rules_for(report, name);
        assert!(
            rules
                .iter()
                .any(|id| id == rule || (rule.ends_with('/') && id.starts_with(rule))),
            "{command} {case}: no {rule} in {rules:?} ({found})"
        );
    }
    if let Some(words) = expect.says {
        let mut said: Vec<&str> = found["error"].as_str().into_iter().collect();
        if let Some(hops) = found["chain"].as_array() {
            said.extend(hops.iter().filter_map(|hop| hop["error"].as_str()));
        }
        assert!(
            said.iter()
                .any(|text| words.split('|').any(|word| text.contains(word))),
            "{command} {case}: nothing says '{words}': {found}"
        );
    }
    if expect.status == "failed" {
        assert!(
            found["error"]
                .as_str()
                .is_some_and(|error| !error.is_empty()),
            "{command} {case}: a failed target says why: {found}"
        );
    }
}

fn check_control(report: &Value, control: &str, command: &str) {
    let found = record(report, control);
    assert_eq!(found["status"], "scanned", "{command}: control {found}");
    if command == "scan" {
        assert!(
            rules_for(report, control)
                .iter()
                .any(|rule| rule.starts_with(CONTROL_RULE)),
            "{command}: the control's finding is lost: {report}"
        );
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn every_fault_in_one_run_gets_a_record_and_the_other_targets_are_still_reported() {
    let matrix = matrix();
    let control = matrix.control();
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|case| case.extra.is_empty())
        .collect();

    let mut args = matrix.flags("scan", ALL_IN_ONE_CHAIN_TIMEOUT);
    args.extend(cases.iter().map(|case| matrix.target(case.place)));
    args.push(control.clone());
    let scan = run(&args);
    assert_eq!(
        scan.report["targets"].as_array().map(Vec::len),
        Some(cases.len() + 1),
        "one record per target"
    );
    for case in &cases {
        check(
            &scan.report,
            &matrix.target(case.place),
            case.name,
            "scan",
            case.scan,
        );
    }
    check_control(&scan.report, &control, "scan");
    assert_eq!(
        scan.exit,
        Some(1),
        "the control's error finding fails the run"
    );

    let mut args = matrix.flags("follow", ALL_IN_ONE_CHAIN_TIMEOUT);
    let followed: Vec<&Case> = cases.iter().filter(|case| case.follow.is_some()).collect();
    args.extend(followed.iter().map(|case| matrix.target(case.place)));
    args.push(control.clone());
    let follow = run(&args);
    assert_eq!(
        follow.report["targets"].as_array().map(Vec::len),
        Some(followed.len() + 1)
    );
    for case in followed {
        if let Some(expect) = case.follow {
            check(
                &follow.report,
                &matrix.target(case.place),
                case.name,
                "follow",
                expect,
            );
        }
    }
    check_control(&follow.report, &control, "follow");
}

#[test]
fn each_fault_alone_ends_within_its_limits_and_memory() {
    let matrix = matrix();
    let control = matrix.control();
    let mut table = vec![
        "| case | command | status | findings | wall s | peak RSS MiB |".to_string(),
        "|---|---|---|---|---:|---:|".to_string(),
    ];
    for case in cases() {
        let name = matrix.target(case.place);
        let commands = [("scan", Some(case.scan)), ("follow", case.follow)];
        for (command, expect) in commands {
            let Some(expect) = expect else { continue };
            let mut args = matrix.flags(command, "5");
            args.extend(strings(case.extra));
            args.push(name.clone());
            args.push(control.clone());
            let result = run(&args);
            check(&result.report, &name, case.name, command, expect);
            check_control(&result.report, &control, command);
            if let Some(peak) = result.peak_kib {
                assert!(
                    peak < MEMORY_BOUND_KIB,
                    "{command} {}: peak RSS {peak} KiB",
                    case.name
                );
            }
            let rules = rules_for(&result.report, &name);
            table.push(format!(
                "| {} | `{command}{}` | {} | {} | {:.1} | {} |",
                case.name,
                if case.extra.is_empty() {
                    String::new()
                } else {
                    format!(" {}", case.extra.join(" "))
                },
                record(&result.report, &name)["status"]
                    .as_str()
                    .unwrap_or("?"),
                if rules.is_empty() {
                    "none".to_string()
                } else {
                    rules.join(", ")
                },
                result.wall.as_secs_f64(),
                result.peak_kib.map_or("n/a".to_string(), |kib| format!(
                    "{:.0}",
                    kib as f64 / 1024.0
                )),
            ));
        }
    }
    println!("{}", table.join("\n"));
}
