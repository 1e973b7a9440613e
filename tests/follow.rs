//! `promoscan follow` and `scan` of URLs against a real HTTP server on 127.0.0.1 started
//! by the test: every chain ends in a result within its limits, and one bad URL never
//! loses the others' results.

mod support;

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use support::server::{Reply, TestServer};

fn promoscan() -> Command {
    let mut command = Command::cargo_bin("promoscan").expect("the binary is built");
    command
        .env_remove("NO_COLOR")
        .timeout(Duration::from_secs(120));
    command
}

/// Runs promoscan with `args` (JSON output) and returns the report.
fn report(args: &[&str]) -> Value {
    let output = promoscan()
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("promoscan runs");
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON report")
}

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn target<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|target| target["target"] == name)
        .unwrap_or_else(|| panic!("no target {name} in {report}"))
}

fn statuses(target: &Value) -> Vec<Option<u64>> {
    target["chain"]
        .as_array()
        .expect("a chain")
        .iter()
        .map(|hop| hop["status"].as_u64())
        .collect()
}

#[test]
fn every_redirect_status_and_location_form_is_followed() {
    let port = Arc::new(OnceLock::<u16>::new());
    let own_port = port.clone();
    let server = TestServer::start(move |path| match path {
        "/a" => Reply::redirect(301, "/b"),
        "/b" => Reply::redirect(302, "c"),
        "/c" => Reply::redirect(303, "./d?x=1"),
        "/d?x=1" => Reply::redirect(307, "../e"),
        "/e" => Reply::redirect(
            308,
            &format!("//127.0.0.1:{}/f", own_port.get().copied().unwrap_or(0)),
        ),
        "/f" => Reply::html("<p>Landing page</p>"),
        _ => Reply::status(404),
    });
    port.set(server.port()).expect("set once");
    let start = server.url("/a");
    let report = report(&["follow", &start]);
    let record = target(&report, &start);
    assert_eq!(record["status"], "scanned");
    assert_eq!(record["final_url"], server.url("/f"));
    assert_eq!(
        statuses(record),
        [
            Some(301),
            Some(302),
            Some(303),
            Some(307),
            Some(308),
            Some(200)
        ]
    );
    assert_eq!(server.hits("/a"), 1);
    assert_eq!(server.hits("/d?x=1"), 1);
}

#[test]
fn relative_and_absolute_locations_reach_the_landing_page() {
    let server = TestServer::start(|path| match path {
        "/go" => Reply::redirect(302, "/hop"),
        "/hop" => Reply::redirect(301, "next"),
        "/next" => Reply::html("<p>Shop</p>"),
        _ => Reply::status(404),
    });
    let start = server.url("/go");
    let report = report(&["follow", &start]);
    let record = target(&report, &start);
    assert_eq!(record["final_url"], server.url("/next"));
    assert_eq!(statuses(record), [Some(302), Some(301), Some(200)]);
    let hops = record["chain"].as_array().expect("chain");
    assert!(hops.iter().all(|hop| hop["via"] == "http"));
    assert!(hops.iter().all(|hop| hop["elapsed_ms"].is_u64()));
}

#[test]
fn meta_refresh_and_script_hops_are_followed_and_reported() {
    let server = TestServer::start(|path| match path {
        "/meta" => Reply::html(r#"<meta http-equiv="refresh" content="2; url=/js"><p>Wait</p>"#),
        "/js" => Reply::html(r#"<script>window.location.replace("/end");</script>"#),
        "/end" => Reply::html("<p>Done</p>"),
        "/clicked" => Reply::html(
            r#"<a href="/end" onclick="location.href='/never'">Go</a><p>No hop without a click</p>"#,
        ),
        _ => Reply::status(404),
    });
    let start = server.url("/meta");
    let report = report(&["follow", &start]);
    let hops = target(&report, &start)["chain"]
        .as_array()
        .expect("chain")
        .clone();
    let vias: Vec<&str> = hops
        .iter()
        .map(|hop| hop["via"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(vias, ["http", "meta-refresh", "javascript"]);
    assert_eq!(hops[1]["delay"], 2.0);
    assert!(rules_of(&report).contains(&"redirect-chain/client-side-hop".to_string()));

    let clicked = server.url("/clicked");
    let report = crate::report(&["follow", &clicked]);
    assert_eq!(statuses(target(&report, &clicked)), [Some(200)]);
    assert_eq!(server.hits("/never"), 0);
}

#[test]
fn a_loop_is_found_and_stops() {
    let server = TestServer::start(|path| match path {
        "/one" => Reply::redirect(302, "/two"),
        "/two" => Reply::html(r#"<meta http-equiv="refresh" content="0;URL='/one'">"#),
        _ => Reply::status(404),
    });
    let start = server.url("/one");
    let report = report(&["follow", &start]);
    assert!(rules_of(&report).contains(&"redirect-chain/loop".to_string()));
    assert_eq!(server.hits("/one"), 1);
    assert_eq!(server.hits("/two"), 1);
}

#[test]
fn a_25_hop_chain_stops_at_the_hop_limit() {
    let server = TestServer::start(|path| {
        let number: u32 = path.trim_start_matches("/hop").parse().unwrap_or(99);
        if number < 25 {
            Reply::redirect(302, &format!("/hop{}", number + 1))
        } else {
            Reply::html("<p>End</p>")
        }
    });
    let start = server.url("/hop0");
    let report = report(&["follow", &start]);
    assert!(rules_of(&report).contains(&"redirect-chain/too-many-hops".to_string()));
    // The start plus 15 redirects were requested, nothing after.
    assert_eq!(statuses(target(&report, &start)).len(), 16);
    assert_eq!(server.hits("/hop16"), 0);

    let report = crate::report(&["follow", "--max-hops", "30", &start]);
    assert!(!rules_of(&report).contains(&"redirect-chain/too-many-hops".to_string()));
    assert_eq!(server.hits("/hop25"), 1);
}

#[test]
fn dead_ends_slow_servers_and_broken_responses_each_get_a_result() {
    let server = TestServer::start(|path| match path {
        "/gone" => Reply::redirect(302, "/missing"),
        "/missing" => Reply::status(404),
        "/slow" => Reply::Delayed(Duration::from_secs(8), Box::new(Reply::html("late"))),
        "/reset" => Reply::Reset,
        "/reset-body" => Reply::ResetMidBody {
            announced: 10_000,
            sent: 100,
        },
        "/malformed" => Reply::Raw(b"HTTP/1.1 abc Broken\r\n\r\n".to_vec()),
        "/garbage" => Reply::Raw(b"\x00\x01\x02 not http at all\r\n\r\n".to_vec()),
        "/image" => Reply::with(
            200,
            &[("Content-Type", "image/png")],
            vec![0x89, b'P', b'N', b'G'],
        ),
        "/ok" => Reply::html("<p>fine</p>"),
        _ => Reply::status(404),
    });
    let names: Vec<String> = [
        "/gone",
        "/slow",
        "/reset",
        "/reset-body",
        "/malformed",
        "/garbage",
        "/image",
        "/ok",
    ]
    .iter()
    .map(|path| server.url(path))
    .collect();
    let mut args = vec!["follow", "--timeout", "2", "--retries", "0"];
    args.extend(names.iter().map(String::as_str));
    let started = Instant::now();
    let report = report(&args);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        report["targets"].as_array().map(Vec::len),
        Some(names.len())
    );
    let dead_for = |path: &str| {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|finding| {
                finding["rule"] == "redirect-chain/dead-end"
                    && finding["target"] == server.url(path)
            })
    };
    for path in ["/gone", "/slow", "/reset", "/malformed", "/garbage"] {
        assert!(dead_for(path), "{path} should be a dead end: {report}");
    }
    for path in ["/ok", "/image", "/reset-body"] {
        assert!(!dead_for(path), "{path} is not a dead end");
        assert_eq!(target(&report, &server.url(path))["status"], "scanned");
    }
    assert_eq!(target(&report, &server.url("/slow"))["status"], "failed");
}

#[test]
fn cookies_set_along_the_chain_are_recorded() {
    let server = TestServer::start(|path| match path {
        "/track" => Reply::with(
            302,
            &[
                ("Location", "/land"),
                ("Set-Cookie", "aff=publisher-1; Path=/"),
            ],
            Vec::new(),
        ),
        "/land" => Reply::html("<p>Shop</p>"),
        _ => Reply::status(404),
    });
    let start = server.url("/track");
    let report = report(&["follow", &start]);
    let hops = target(&report, &start)["chain"]
        .as_array()
        .expect("chain")
        .clone();
    assert_eq!(hops[0]["set_cookie"], true);
    assert_eq!(hops[1]["set_cookie"], false);
}

#[test]
fn addresses_reached_by_following_are_refused_unless_allowed() {
    // The user names 127.0.0.1:PORT; it redirects to other loopback origins, which are
    // refused before any connection is made (nothing listens there anyway).
    let server = TestServer::start(|path| match path {
        "/to-localhost" => Reply::redirect(302, "http://localhost:9/admin"),
        "/to-other-ip" => Reply::redirect(302, "http://127.0.0.2:9/admin"),
        "/to-other-port" => Reply::redirect(302, "http://127.0.0.1:9/admin"),
        "/same-origin" => Reply::redirect(302, "/fine"),
        "/fine" => Reply::html("<p>fine</p>"),
        _ => Reply::status(404),
    });
    let refused = ["/to-localhost", "/to-other-ip", "/to-other-port"];
    let mut args = vec!["follow".to_string()];
    args.extend(refused.iter().map(|path| server.url(path)));
    args.push(server.url("/same-origin"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = report(&args);
    for path in refused {
        let record = target(&report, &server.url(path));
        let last = record["chain"]
            .as_array()
            .and_then(|hops| hops.last())
            .expect("a hop");
        assert!(last["status"].is_null());
        assert!(
            last["error"].as_str().unwrap_or("").contains("refused"),
            "{path}: {last}"
        );
        assert!(
            report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|finding| {
                    finding["rule"] == "redirect-chain/refused-address"
                        && finding["target"] == server.url(path)
                })
        );
    }
    assert_eq!(
        target(&report, &server.url("/same-origin"))["final_url"],
        server.url("/fine")
    );

    // With --allow-private the same redirect is attempted (and fails to connect).
    let start = server.url("/to-other-port");
    let report = crate::report(&["follow", "--allow-private", "--retries", "0", &start]);
    assert!(!rules_of(&report).contains(&"redirect-chain/refused-address".to_string()));
    assert!(rules_of(&report).contains(&"redirect-chain/dead-end".to_string()));
}

#[test]
fn a_scanned_url_is_fetched_and_its_page_scanned() {
    let server = TestServer::start(|path| match path {
        "/review" => Reply::redirect(301, "/review/"),
        "/review/" => Reply::html(
            "<html><body><h1>Phone review</h1><p>Free shipping worldwide in 3 days, guaranteed!</p></body></html>",
        ),
        _ => Reply::status(404),
    });
    let start = server.url("/review");
    let report = report(&["scan", &start]);
    let record = target(&report, &start);
    assert_eq!(record["kind"], "url");
    assert_eq!(record["status"], "scanned");
    assert_eq!(record["final_url"], server.url("/review/"));
    assert!(
        rules_of(&report)
            .iter()
            .any(|rule| rule.starts_with("claim-shipping/"))
    );

    let offline = crate::report(&["scan", "--offline", &start]);
    assert_eq!(target(&offline, &start)["status"], "failed");
    assert_eq!(server.hits("/review"), 1);
}

#[test]
fn a_windows_1251_page_is_read_like_a_utf8_page() {
    let text = "<p>Бесплатная доставка. Free shipping worldwide in 3 days, guaranteed!</p>";
    let (encoded, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let encoded = encoded.into_owned();
    let server = TestServer::start(move |path| match path {
        "/utf8" => Reply::html(text),
        "/cp1251-header" => Reply::with(
            200,
            &[("Content-Type", "text/html; charset=windows-1251")],
            encoded.clone(),
        ),
        "/cp1251-meta" => {
            let mut body = b"<meta charset=\"windows-1251\">".to_vec();
            body.extend_from_slice(&encoded);
            Reply::with(200, &[("Content-Type", "text/html")], body)
        }
        _ => Reply::status(404),
    });
    let report_for = |path: &str| {
        let report = report(&["scan", &server.url(path)]);
        let mut rules = rules_of(&report);
        rules.sort();
        (rules, report)
    };
    let (utf8, _) = report_for("/utf8");
    assert!(utf8.iter().any(|rule| rule.starts_with("claim-shipping/")));
    for path in ["/cp1251-header", "/cp1251-meta"] {
        let (rules, report) = report_for(path);
        assert_eq!(rules, utf8, "{path}: {report}");
    }
}

#[test]
fn a_body_over_the_cap_and_a_gzip_bomb_are_cut_and_noted() {
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut page = b"<html><body><p>Free shipping worldwide in 3 days, guaranteed!</p>".to_vec();
    page.resize(page.len() + 200 * 1024 * 1024, b' ');
    bomb.write_all(&page).expect("compress");
    let bomb = bomb.finish().expect("compressed");
    assert!(bomb.len() < 1024 * 1024);
    let big = format!(
        "<p>Free shipping worldwide in 3 days, guaranteed!</p>{}",
        "<p>filler text</p>".repeat(100_000)
    );
    let server = TestServer::start(move |path| match path {
        "/big" => Reply::html(&big),
        "/bomb" => Reply::with(
            200,
            &[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
            bomb.clone(),
        ),
        _ => Reply::status(404),
    });
    for path in ["/big", "/bomb"] {
        let url = server.url(path);
        let report = report(&["scan", "--body-cap", "100000", &url]);
        let rules = rules_of(&report);
        assert!(
            rules.contains(&"scan-error/truncated".to_string()),
            "{path}: {rules:?}"
        );
        assert!(
            rules.iter().any(|rule| rule.starts_with("claim-shipping/")),
            "{path}: {rules:?}"
        );
        assert_eq!(target(&report, &url)["status"], "scanned");
    }
}

/// `--resolve` pins for the affiliate hosts the tests use: every name is served by
/// the test server on 127.0.0.1, so nothing leaves the machine (not even DNS).
fn pinned(hosts: &[&str]) -> Vec<String> {
    hosts
        .iter()
        .flat_map(|host| ["--resolve".to_string(), format!("{host}:127.0.0.1")])
        .collect()
}

#[test]
fn a_hijacked_chain_is_reported() {
    let port = Arc::new(OnceLock::<u16>::new());
    let own_port = port.clone();
    let server = TestServer::start(move |path| {
        let port = own_port.get().copied().unwrap_or(0);
        match path {
            "/start" => Reply::redirect(
                302,
                &format!("http://s.click.aliexpress.com:{port}/e/_DmMine"),
            ),
            "/e/_DmMine" => Reply::redirect(
                302,
                &format!(
                    "http://www.aliexpress.com:{port}/item/1.html?sk=_DmThief&aff_platform=portals-tool"
                ),
            ),
            "/item/1.html?sk=_DmThief&aff_platform=portals-tool" => Reply::html("<p>Shop</p>"),
            _ => Reply::status(404),
        }
    });
    port.set(server.port()).expect("set once");
    let start = server.url("/start");
    let mut args = vec!["follow".to_string(), start.clone()];
    args.extend(pinned(&["s.click.aliexpress.com", "www.aliexpress.com"]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = report(&args);
    let hijacks: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["rule"] == "redirect-chain/hijacked")
        .collect();
    assert_eq!(hijacks.len(), 1, "{report}");
    assert!(
        hijacks[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("_DmThief")
    );
    assert_eq!(hijacks[0]["network"], "aliexpress-portals");
    // The start is no affiliate link of any network: the chain is also cloaked.
    assert!(rules_of(&report).contains(&"redirect-chain/cloaked".to_string()));
    assert_eq!(
        statuses(target(&report, &start)),
        [Some(302), Some(302), Some(200)]
    );
}

#[test]
fn scan_follow_follows_each_distinct_link_once_and_attaches_findings_to_each_page() {
    let server = TestServer::start(|path| match path {
        "/e/_DmGone" => Reply::redirect(302, "/missing"),
        "/missing" => Reply::status(404),
        _ => Reply::status(404),
    });
    let link = format!("http://s.click.aliexpress.com:{}/e/_DmGone", server.port());
    let pages = tempfile::tempdir().expect("pages");
    for name in ["one.html", "two.html"] {
        std::fs::write(
            pages.path().join(name),
            format!(
                "<p>As an affiliate we earn from qualifying purchases.</p>\n<p><a rel=\"sponsored\" href=\"{link}\">Phone</a></p>\n"
            ),
        )
        .expect("write page");
    }
    let pages_dir = pages.path().to_string_lossy().to_string();
    let mut args = vec!["scan".to_string(), "--follow".to_string(), pages_dir];
    args.extend(pinned(&["s.click.aliexpress.com"]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = report(&args);
    let dead: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["rule"] == "redirect-chain/dead-end")
        .collect();
    assert_eq!(dead.len(), 2, "{report}");
    for finding in dead {
        assert_eq!(finding["location"]["line"], 2);
        assert_eq!(finding["location"]["column"], 29);
        assert!(
            finding["chain"]
                .as_array()
                .is_some_and(|hops| hops.len() == 2)
        );
    }
    // Two pages hold the link; it was followed once.
    assert_eq!(server.hits("/e/_DmGone"), 1);
}

#[test]
fn the_follow_table_of_the_config_sets_limits_and_bad_values_are_refused() {
    let server = TestServer::start(|path| {
        let number: u32 = path.trim_start_matches("/hop").parse().unwrap_or(99);
        Reply::redirect(302, &format!("/hop{}", number + 1))
    });
    let folder = tempfile::tempdir().expect("temp dir");
    let config = folder.path().join("promoscan.toml");
    std::fs::write(&config, "[follow]\nmax_hops = 3\n").expect("write config");
    let config_arg = config.to_string_lossy().to_string();
    let start = server.url("/hop0");
    let report = report(&["follow", "--config", &config_arg, &start]);
    assert!(rules_of(&report).contains(&"redirect-chain/too-many-hops".to_string()));
    assert_eq!(statuses(target(&report, &start)).len(), 4);

    std::fs::write(&config, "[follow]\ntimeout = -1\n").expect("write config");
    let output = promoscan()
        .args(["follow", "--config", &config_arg, &start])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("timeout"));
    std::fs::write(&config, "[follow]\nmax_hop = 3\n").expect("write config");
    let output = promoscan()
        .args(["follow", "--config", &config_arg, &start])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("max_hop"));
}

#[test]
fn busy_answers_are_retried_after_retry_after() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let server = TestServer::start(move |path| match path {
        "/busy" => {
            if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                Reply::with(503, &[("Retry-After", "1")], b"busy".to_vec())
            } else {
                Reply::html("<p>ok now</p>")
            }
        }
        "/always-busy" => Reply::with(429, &[("Retry-After", "1")], Vec::new()),
        _ => Reply::status(404),
    });
    let start = server.url("/busy");
    let started = Instant::now();
    let report = report(&["follow", &start]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not waited for"
    );
    assert_eq!(statuses(target(&report, &start)), [Some(200)]);
    assert_eq!(server.hits("/busy"), 2);

    // Retries run out: the last answer stands (429 is "blocked", not dead).
    let always = server.url("/always-busy");
    let report = crate::report(&["follow", "--retries", "1", &always]);
    assert_eq!(server.hits("/always-busy"), 2);
    assert!(rules_of(&report).contains(&"redirect-chain/blocked".to_string()));
}

#[test]
fn requests_to_one_host_respect_the_per_host_limit() {
    let server = TestServer::start(|_| {
        Reply::Delayed(
            Duration::from_millis(300),
            Box::new(Reply::html("<p>slow page</p>")),
        )
    });
    let urls: Vec<String> = (0..6).map(|n| server.url(&format!("/page{n}"))).collect();
    let mut args = vec!["follow", "--per-host", "2", "--host-rate", "1000"];
    args.extend(urls.iter().map(String::as_str));
    let report = report(&args);
    assert_eq!(report["targets"].as_array().map(Vec::len), Some(6));
    assert_eq!(server.most_in_flight(), 2);
}

#[test]
fn a_scanned_page_that_redirects_to_an_affiliate_link_is_a_forced_redirect() {
    let port = Arc::new(OnceLock::<u16>::new());
    let own_port = port.clone();
    let server = TestServer::start(move |path| {
        let port = own_port.get().copied().unwrap_or(0);
        match path {
            "/review" => Reply::redirect(
                302,
                &format!("http://s.click.aliexpress.com:{port}/e/_DmForce"),
            ),
            "/e/_DmForce" => Reply::html("<p>AliExpress</p>"),
            _ => Reply::status(404),
        }
    });
    port.set(server.port()).expect("set once");
    let page = server.url("/review");
    let mut args = vec!["scan".to_string(), page.clone()];
    args.extend(pinned(&["s.click.aliexpress.com"]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = report(&args);
    let forced: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["rule"] == "forced-redirect/http-redirect")
        .collect();
    assert_eq!(forced.len(), 1, "{report}");
    assert_eq!(forced[0]["severity"], "error");
    assert_eq!(forced[0]["target"], page);
    assert!(
        forced[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("HTTP 302")
    );
}
