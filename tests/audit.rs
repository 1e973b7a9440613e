//! `promoscan audit` against a generated site served on 127.0.0.1 by the test: robots.txt
//! with a disallowed folder, a sitemap index with a plain and a gzip sitemap, link
//! cycles, broken links, a redirecting page, a cookie-stuffing page four clicks deep,
//! and one affiliate link on 50 pages. The server counts every request.

mod support;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use support::server::{Reply, TestServer};

/// Pages in sitemaps: /p/0 .. /p/149; /p/150 .. /p/219 are reachable by links only.
const PAGES: usize = 220;

fn page(number: usize, port: u16) -> String {
    let next = (number + 1) % PAGES;
    let cycle = (number * 7 + 3) % PAGES;
    let mut body = format!(
        "<html><head><title>Page {number}</title></head><body>\n<h1>Review {number}</h1>\n<p>We test gadgets.</p>\n<a href=\"/p/{next}\">next</a> <a href=\"/p/{cycle}#top\">related</a>\n<a href=\"/private/secret-{number}\">members</a>\n"
    );
    if number.is_multiple_of(20) {
        body.push_str(&format!("<a href=\"/broken-{number}\">old</a>\n"));
    }
    if number < 50 {
        body.push_str(&format!(
            "<p>As an affiliate we earn from qualifying purchases.</p>\n<a rel=\"sponsored\" href=\"http://s.click.aliexpress.com:{port}/e/_DmSite\">Buy the phone</a>\n"
        ));
    }
    body.push_str("</body></html>");
    body
}

fn sitemap(paths: impl Iterator<Item = String>, port: u16) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for path in paths {
        xml.push_str(&format!(
            "<url><loc>http://127.0.0.1:{port}{path}</loc></url>\n"
        ));
    }
    xml.push_str("</urlset>\n");
    xml
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compressed")
}

/// The generated site.
fn site() -> TestServer {
    let port_cell = Arc::new(OnceLock::<u16>::new());
    let port_of = port_cell.clone();
    let server = TestServer::start(move |path| {
        let port = port_of.get().copied().unwrap_or(0);
        match path {
            "/robots.txt" => Reply::with(
                200,
                &[("Content-Type", "text/plain")],
                format!(
                    "User-agent: *\nDisallow: /private/\n\nSitemap: http://127.0.0.1:{port}/sitemap_index.xml\n"
                )
                .into_bytes(),
            ),
            "/sitemap_index.xml" => Reply::with(
                200,
                &[("Content-Type", "application/xml")],
                format!(
                    "<?xml version=\"1.0\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n<sitemap><loc>http://127.0.0.1:{port}/sitemap-1.xml</loc></sitemap>\n<sitemap><loc>http://127.0.0.1:{port}/sitemap-2.xml.gz</loc></sitemap>\n</sitemapindex>\n"
                )
                .into_bytes(),
            ),
            "/sitemap-1.xml" => Reply::with(
                200,
                &[("Content-Type", "application/xml")],
                sitemap((0..100).map(|n| format!("/p/{n}")), port).into_bytes(),
            ),
            "/sitemap-2.xml.gz" => Reply::with(
                200,
                &[("Content-Type", "application/gzip")],
                gzip(sitemap((100..150).map(|n| format!("/p/{n}")), port).as_bytes()),
            ),
            "/" => Reply::html(
                "<html><body><a href=\"/p/0\">Reviews</a> <a href=\"/deep/1\">Deals</a> <a href=\"/moved\">Old deals</a></body></html>",
            ),
            "/moved" => Reply::redirect(301, "/landing"),
            "/landing" => Reply::html("<p>The new deals page.</p>"),
            "/deep/1" => Reply::html("<a href=\"/deep/2\">more</a>"),
            "/deep/2" => Reply::html("<a href=\"/deep/3\">more</a>"),
            "/deep/3" => Reply::html("<a href=\"/deep/4\">more</a>"),
            "/deep/4" => Reply::html(&format!(
                "<p>Hot deals</p><iframe src=\"http://s.click.aliexpress.com:{port}/e/_DmStuff\" width=\"0\" height=\"0\"></iframe>"
            )),
            "/e/_DmSite" => Reply::redirect(302, &format!("http://www.aliexpress.com:{port}/item/1.html")),
            "/item/1.html" => Reply::html("<p>Phone</p>"),
            other => match other.strip_prefix("/p/").and_then(|n| n.parse::<usize>().ok()) {
                Some(number) if number < PAGES => Reply::html(&page(number, port)),
                _ => Reply::status(404),
            },
        }
    });
    port_cell.set(server.port()).expect("set once");
    server
}

fn audit_command(server: &TestServer) -> Command {
    let mut command = Command::cargo_bin("promoscan").expect("the binary is built");
    command
        .args([
            "audit",
            &server.url("/"),
            "--host-rate",
            "2000",
            "--per-host",
            "4",
        ])
        .args(["--resolve", "s.click.aliexpress.com:127.0.0.1"])
        .args(["--resolve", "www.aliexpress.com:127.0.0.1"])
        .timeout(Duration::from_secs(180));
    command
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn targets(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|line| line["type"] == "target")
        .map(|line| line["target"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Every page the audit may visit, as paths.
fn allowed_pages() -> HashSet<String> {
    let mut pages: HashSet<String> = (0..PAGES).map(|n| format!("/p/{n}")).collect();
    pages.extend((0..PAGES).step_by(20).map(|n| format!("/broken-{n}")));
    pages.extend(
        ["/", "/moved", "/deep/1", "/deep/2", "/deep/3", "/deep/4"]
            .iter()
            .map(ToString::to_string),
    );
    pages
}

fn check_site_requests(server: &TestServer) {
    let hits = server.all_hits();
    for page in allowed_pages() {
        assert_eq!(hits.get(&page).copied(), Some(1), "{page} fetched once");
    }
    assert_eq!(
        hits.get("/landing").copied(),
        Some(1),
        "redirect target fetched once"
    );
    let private: Vec<&String> = hits
        .keys()
        .filter(|path| path.starts_with("/private/"))
        .collect();
    assert!(
        private.is_empty(),
        "disallowed pages were requested: {private:?}"
    );
    // The affiliate link on 50 pages was followed once for the whole site.
    assert_eq!(hits.get("/e/_DmSite").copied(), Some(1));
    // The hidden iframe's address is reported, never opened.
    assert_eq!(hits.get("/e/_DmStuff").copied(), None);
}

#[test]
fn a_site_is_crawled_once_politely_and_its_findings_are_streamed() {
    let server = site();
    let output = audit_command(&server)
        .args(["--format", "jsonl"])
        .output()
        .expect("promoscan runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines = lines(&stdout);
    check_site_requests(&server);

    let names = targets(&lines);
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(names.len(), unique.len(), "each page reported once");
    let expected: HashSet<String> = allowed_pages()
        .iter()
        .map(|path| server.url(path))
        .collect();
    let reported: HashSet<String> = names.iter().cloned().collect();
    assert_eq!(reported, expected);

    let findings: Vec<&Value> = lines
        .iter()
        .filter(|line| line["type"] == "finding")
        .collect();
    let deep = server.url("/deep/4");
    assert!(findings.iter().any(|finding| {
        finding["rule"] == "cookie-stuffing/hidden-iframe" && finding["target"] == deep
    }));
    // Broken links are failed pages.
    let broken = lines
        .iter()
        .find(|line| line["type"] == "target" && line["target"] == server.url("/broken-0"))
        .expect("the broken page");
    assert_eq!(broken["status"], "failed");
    // The followed affiliate link's chain is attached to each of the 50 pages.
    let chained: HashSet<&str> = findings
        .iter()
        .filter(|finding| {
            finding["rule"] == "redirect-chain/cloaked"
                || finding["rule"] == "redirect-chain/insecure-hop"
        })
        .filter_map(|finding| finding["target"].as_str())
        .collect();
    assert_eq!(chained.len(), 50, "{chained:?}");

    let summary = lines.last().expect("a summary line");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["audit"]["pages"], expected.len());
    assert!(summary["audit"]["disallowed"].as_u64().unwrap_or(0) >= PAGES as u64);
    assert_eq!(summary["audit"]["networks"]["aliexpress-portals"], 50);
    assert!(
        !summary["audit"]["worst_pages"]
            .as_array()
            .expect("worst pages")
            .is_empty()
    );
}

#[test]
fn an_interrupted_audit_resumes_without_losing_or_refetching_pages() {
    let server = site();
    let folder = tempfile::tempdir().expect("temp dir");
    let first = folder.path().join("first.jsonl");
    let binary = assert_cmd::cargo::cargo_bin("promoscan");
    let mut child = std::process::Command::new(&binary)
        .args([
            "audit",
            &server.url("/"),
            "--host-rate",
            "40",
            "--per-host",
            "1",
        ])
        .args(["--resolve", "s.click.aliexpress.com:127.0.0.1"])
        .args(["--resolve", "www.aliexpress.com:127.0.0.1"])
        .args(["--format", "jsonl", "--output"])
        .arg(&first)
        .spawn()
        .expect("start the audit");
    // Kill it (SIGKILL: no chance to clean up) once some pages are written.
    let started = Instant::now();
    loop {
        let written = std::fs::read_to_string(&first).unwrap_or_default();
        if written.matches("\"type\":\"target\"").count() >= 40 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the audit never got going"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill");
    let _ = child.wait();
    let first_text = std::fs::read_to_string(&first).expect("first output");
    let done_first: Vec<String> = targets(&lines_lenient(&first_text));
    assert!(done_first.len() >= 40 && done_first.len() < allowed_pages().len());
    let hits_after_first: HashMap<String, usize> = server.all_hits();

    let second = folder.path().join("second.jsonl");
    let output = audit_command(&server)
        .args(["--format", "jsonl", "--resume"])
        .arg(&first)
        .arg("--output")
        .arg(&second)
        .output()
        .expect("resume");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let second_lines = lines(&std::fs::read_to_string(&second).expect("second output"));
    let names = targets(&second_lines);
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(names.len(), unique.len(), "each page reported once");
    let expected: HashSet<String> = allowed_pages()
        .iter()
        .map(|path| server.url(path))
        .collect();
    assert_eq!(names.iter().cloned().collect::<HashSet<String>>(), expected);
    // Pages recorded by the first run were not fetched again.
    let hits = server.all_hits();
    for name in &done_first {
        let path = name.trim_start_matches(&server.url(""));
        assert_eq!(
            hits.get(path),
            hits_after_first.get(path),
            "{path} was fetched again"
        );
    }
    let summary = second_lines.last().expect("summary");
    assert_eq!(summary["audit"]["pages"], expected.len());
}

/// Lines of a file cut by a kill: the last line may be incomplete.
fn lines_lenient(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// A sitemap larger than `--body-cap` (pages are capped, sitemaps have their own 50 MB
/// limit) is read whole: every page it lists is discovered.
#[test]
fn a_sitemap_larger_than_the_page_body_cap_is_read_whole() {
    // 200 pages with long addresses: about 220 KB of sitemap.
    let entries = 200;
    let padding = "x".repeat(1000);
    let port_cell = Arc::new(OnceLock::<u16>::new());
    let port_of = port_cell.clone();
    let server = TestServer::start(move |path| {
        let port = port_of.get().copied().unwrap_or(0);
        match path {
            "/robots.txt" => Reply::status(404),
            "/sitemap.xml" => Reply::with(
                200,
                &[("Content-Type", "application/xml")],
                sitemap((0..entries).map(|n| format!("/listed/{n}-{padding}")), port).into_bytes(),
            ),
            "/" => Reply::html("<p>Home</p>"),
            _ => Reply::html("<p>A listed page.</p>"),
        }
    });
    port_cell.set(server.port()).expect("set once");
    let body_cap = 16 * 1024;
    let output = audit_command(&server)
        .args(["--format", "jsonl"])
        .args(["--body-cap", &body_cap.to_string()])
        .output()
        .expect("promoscan runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines = lines(&stdout);
    let summary = lines.last().expect("a summary line");
    assert_eq!(summary["type"], "summary", "{stdout}");
    let listed = targets(&lines)
        .iter()
        .filter(|target| target.contains("/listed/"))
        .count();
    assert_eq!(listed, entries, "notes: {}", summary["audit"]["notes"]);
    assert_eq!(summary["audit"]["notes"], serde_json::json!([]));
}
