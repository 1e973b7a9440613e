//! The scan benchmark: prints, from one run over one generated corpus, the ratios the
//! project tracks (docs/benchmarks.md):
//!
//! - scan / parse: a single-threaded scan of every page against html5ever building the
//!   same document with the crate's own arena sink (`promoscan::page::Document::parse`,
//!   Markdown rendered first, as the scanner does);
//! - all cores / one thread: the same scan in a rayon pool of every core against a pool of
//!   one;
//! - the claims engine with the built-in library against the same library plus 1,000
//!   generated rules, over the text blocks of every page;
//! - start-up: loading the library (parsing rule files, compiling the rule set).
//!
//! Steps run interleaved, round after round, and each figure is the median over rounds,
//! so background load on a shared machine hits every side of a ratio alike.
//!
//! `cargo bench --bench scan` (200 pages); `PROMOSCAN_BENCH_PAGES=N` changes the corpus
//! size, `PROMOSCAN_BENCH_ROUNDS=N` the rounds. `cargo test --bench scan` (what CI runs)
//! and `cargo bench --bench scan -- --test` are the smoke mode: 4 pages, one round, no
//! figures worth reading.
//! `PROMOSCAN_BENCH_STEP=scan-html` (or `parse-html`, `scan-md`, `parse-md`, `startup`)
//! runs that one step only (after one unmeasured warm-up pass, which fills the regex
//! caches), for a profiler or an instruction counter: `valgrind --tool=callgrind
//! --toggle-collect=scan::measured_step target/release/deps/scan-* --bench` counts the
//! step's instructions in steady state and nothing else (docs/benchmarks.md).
//! A hand-written harness rather than criterion or divan: neither prints ratios between
//! benchmarks of one run, which is what the targets are stated in.

#[path = "support/corpus.rs"]
mod corpus;

use std::time::{Duration, Instant};

use rayon::prelude::*;

use promoscan::config::Policy;
use promoscan::detect::claims::find_claims;
use promoscan::input::SourceFormat;
use promoscan::library::Library;
use promoscan::page::{Document, Page};
use promoscan::rules::{RuleSet, builtin, load_str};
use promoscan::scan::{ScanOptions, Scanner};

fn main() {
    // `cargo bench` passes `--bench`; run any other way (`cargo test --bench scan`, or
    // `cargo bench -- --test`) this is the smoke mode.
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|arg| arg == "--test") || !args.iter().any(|arg| arg == "--bench");
    let pages = env_number("PROMOSCAN_BENCH_PAGES", if smoke { 4 } else { 200 });
    let rounds = env_number("PROMOSCAN_BENCH_ROUNDS", if smoke { 1 } else { 5 });
    let threads = std::thread::available_parallelism().map_or(1, usize::from);

    let articles = corpus::generate(corpus::DEFAULT_SEED, pages);
    if let Ok(step) = std::env::var("PROMOSCAN_BENCH_STEP") {
        let library = Library::load(&[]).expect("built-in library loads");
        let scanner = Scanner::new(&library, Policy::default(), ScanOptions::default());
        let mut samples = Vec::new();
        let mut findings = run_step(&step, &scanner, &articles);
        for _ in 0..rounds {
            samples.push(timed(|| {
                findings = measured_step(&step, &scanner, &articles)
            }));
        }
        println!(
            "{step}: {pages} pages, {} (median of {rounds}), {findings} findings",
            ms(median(&samples))
        );
        return;
    }
    let html_bytes: usize = articles.iter().map(|a| a.html.len()).sum();
    let md_bytes: usize = articles.iter().map(|a| a.markdown.len()).sum();
    let links: usize = articles.iter().map(|a| a.html.matches("<a ").count()).sum();
    println!(
        "corpus: {pages} pages (seed {:#x}), HTML {:.1} MB ({} KB/page, {} links/page), Markdown {:.1} MB, {} pages with planted findings",
        corpus::DEFAULT_SEED,
        html_bytes as f64 / 1e6,
        html_bytes / pages.max(1) / 1000,
        links / pages.max(1),
        md_bytes as f64 / 1e6,
        articles.iter().filter(|a| a.planted).count(),
    );
    println!("machine: {threads} threads available; {rounds} rounds, medians\n");

    // --- start-up -----------------------------------------------------------------
    let mut startup = Vec::new();
    let mut library = None;
    for _ in 0..rounds {
        let start = Instant::now();
        library = Some(Library::load(&[]).expect("built-in library loads"));
        startup.push(start.elapsed());
    }
    let library = library.expect("at least one round");
    let scanner = Scanner::new(&library, Policy::default(), ScanOptions::default());

    // --- parse vs scan, one thread; all cores vs one ---------------------------------
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool of one");
    let all = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool of all cores");
    let mut parse_html = Vec::new();
    let mut scan_html = Vec::new();
    let mut parse_md = Vec::new();
    let mut scan_md = Vec::new();
    let mut scan_one = Vec::new();
    let mut scan_all = Vec::new();
    let mut findings = 0;
    for _ in 0..rounds {
        parse_html.push(timed(|| {
            for article in &articles {
                std::hint::black_box(Document::parse(&article.html));
            }
        }));
        scan_html.push(timed(|| {
            findings = 0;
            for article in &articles {
                findings += scan(&scanner, SourceFormat::Html, &article.html);
            }
        }));
        parse_md.push(timed(|| {
            for article in &articles {
                let html = promoscan::input::markdown::to_html(&article.markdown);
                std::hint::black_box(Document::parse(&html));
            }
        }));
        scan_md.push(timed(|| {
            for article in &articles {
                scan(&scanner, SourceFormat::Markdown, &article.markdown);
            }
        }));
        scan_one.push(timed(|| {
            one.install(|| scan_parallel(&scanner, &articles));
        }));
        scan_all.push(timed(|| {
            all.install(|| scan_parallel(&scanner, &articles));
        }));
    }

    // --- claims engine: built-in library vs 1,000 more rules -------------------------
    let builtin_rules = builtin::rules().expect("built-in rules");
    let builtin_count = builtin_rules.iter().filter(|r| r.pattern.is_some()).count();
    let mut extended = builtin_rules.clone();
    extended.extend(load_str("bench-rules.toml", &generated_rules(1_000)).expect("rules load"));
    let start = Instant::now();
    let small = RuleSet::new(builtin_rules).expect("rule set");
    let compile_small = start.elapsed();
    let start = Instant::now();
    let large = RuleSet::new(extended).expect("rule set");
    let compile_large = start.elapsed();
    let page_models: Vec<Page> = articles
        .iter()
        .map(|a| Page::from_html(&a.html, None))
        .collect();
    let blocks: usize = page_models.iter().map(|p| p.blocks.len()).sum();
    let mut claims_small = Vec::new();
    let mut claims_large = Vec::new();
    let (mut matches_small, mut matches_large) = (0, 0);
    for _ in 0..rounds {
        claims_small.push(timed(|| matches_small = claims(&small, &page_models)));
        claims_large.push(timed(|| matches_large = claims(&large, &page_models)));
    }

    // --- report ----------------------------------------------------------------------
    let mb = html_bytes as f64 / 1e6;
    let (parse_html, scan_html) = (median(&parse_html), median(&scan_html));
    let (parse_md, scan_md) = (median(&parse_md), median(&scan_md));
    let (scan_one, scan_all) = (median(&scan_one), median(&scan_all));
    let (claims_small, claims_large) = (median(&claims_small), median(&claims_large));
    println!(
        "start-up (load built-in library)   {:>9}",
        ms(median(&startup))
    );
    println!(
        "  rule set compile: built-in {} rules {:>9}, +1,000 rules {:>9}",
        builtin_count,
        ms(compile_small),
        ms(compile_large)
    );
    println!();
    println!(
        "HTML     parse {:>9} ({:.1} MB/s)   scan {:>9} ({:.1} MB/s)   scan/parse {:.2}  (target <= 1.3; {findings} findings)",
        ms(parse_html),
        mb / parse_html.as_secs_f64(),
        ms(scan_html),
        mb / scan_html.as_secs_f64(),
        ratio(scan_html, parse_html),
    );
    println!(
        "Markdown parse {:>9}                 scan {:>9}                 scan/parse {:.2}",
        ms(parse_md),
        ms(scan_md),
        ratio(scan_md, parse_md),
    );
    println!(
        "threads  1 thread {:>9}   {threads} threads {:>9}   speed-up {:.2} (efficiency {:.0}%)",
        ms(scan_one),
        ms(scan_all),
        ratio(scan_one, scan_all),
        100.0 * ratio(scan_one, scan_all) / threads as f64,
    );
    println!(
        "claims   {} blocks: {} rules {:>9} ({matches_small} matches)   {} rules {:>9} ({matches_large} matches)   time x{:.2} for rules x{:.1}",
        blocks,
        builtin_count,
        ms(claims_small),
        builtin_count + 1_000,
        ms(claims_large),
        ratio(claims_large, claims_small),
        (builtin_count + 1_000) as f64 / builtin_count as f64,
    );
}

/// [`run_step`] under another name, not inlined, so that a profiler can count the
/// measured rounds apart from the warm-up pass.
#[inline(never)]
fn measured_step(step: &str, scanner: &Scanner<'_>, articles: &[corpus::Article]) -> usize {
    run_step(step, scanner, articles)
}

/// One step of the benchmark alone (`PROMOSCAN_BENCH_STEP`); returns the findings count
/// of a scan step.
#[inline(never)]
fn run_step(step: &str, scanner: &Scanner<'_>, articles: &[corpus::Article]) -> usize {
    let mut findings = 0;
    match step {
        "parse-html" => {
            for article in articles {
                std::hint::black_box(Document::parse(&article.html));
            }
        }
        "scan-html" => {
            for article in articles {
                findings += scan(scanner, SourceFormat::Html, &article.html);
            }
        }
        "parse-md" => {
            for article in articles {
                let html = promoscan::input::markdown::to_html(&article.markdown);
                std::hint::black_box(Document::parse(&html));
            }
        }
        "scan-md" => {
            for article in articles {
                findings += scan(scanner, SourceFormat::Markdown, &article.markdown);
            }
        }
        "startup" => {
            std::hint::black_box(Library::load(&[]).expect("built-in library loads"));
        }
        other => panic!(
            "unknown PROMOSCAN_BENCH_STEP {other:?}: parse-html, scan-html, parse-md, scan-md or startup"
        ),
    }
    findings
}

/// Scans one source, returning how many findings it gave.
fn scan(scanner: &Scanner<'_>, format: SourceFormat, text: &str) -> usize {
    match scanner.scan_bytes("bench", format, text.as_bytes()) {
        Ok(findings) => findings.len(),
        Err((_, findings)) => findings.len(),
    }
}

/// Scans every page in both formats on the current rayon pool, a file per task.
fn scan_parallel(scanner: &Scanner<'_>, articles: &[corpus::Article]) -> usize {
    articles
        .par_iter()
        .flat_map(|a| {
            [
                (SourceFormat::Html, a.html.as_str()),
                (SourceFormat::Markdown, a.markdown.as_str()),
            ]
        })
        .map(|(format, text)| scan(scanner, format, text))
        .sum()
}

/// Runs the claims engine over every block of every page; returns the match count.
fn claims(rules: &RuleSet, pages: &[Page]) -> usize {
    pages
        .iter()
        .flat_map(|page| &page.blocks)
        .map(|block| find_claims(rules, block).len())
        .sum()
}

/// `count` text rules in the style of the library (alternations of words in sequence,
/// numbers and currency), over words the corpus uses, so the engine cannot reject them
/// all from the first byte.
fn generated_rules(count: usize) -> String {
    const WORDS: &[&str] = &[
        "price",
        "shipping",
        "days",
        "order",
        "battery",
        "free",
        "best",
        "deal",
        "case",
        "quality",
        "warranty",
        "returns",
        "seller",
        "model",
        "review",
        "test",
        "weeks",
        "hours",
        "cheap",
        "value",
        "coupon",
        "stock",
        "today",
        "week",
        "month",
        "brand",
        "app",
        "account",
        "charging",
        "light",
        "quiet",
        "phone",
        "kitchen",
        "desk",
        "lamp",
        "sale",
        "offer",
        "limited",
        "exclusive",
        "guaranteed",
        "official",
        "partner",
    ];
    let mut rng = corpus::Rng::new(0x0001_0000);
    let mut out = String::from("schema = \"promoscan-rules/v1\"\nlanguage = \"en\"\n");
    for index in 0..count {
        let (a, b, c, d) = (
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS),
        );
        let (pattern, example) = match index % 3 {
            0 => (
                format!(r"(?i)(?-u:\b){a}\s+(?:{b}|{c})\s+{d}(?-u:\b)"),
                format!("{a} {b} {d}"),
            ),
            1 => (
                format!(r"(?i)(?-u:\b)\d{{1,3}}\s*%\s+{a}\s+(?:on\s+)?{b}(?-u:\b)"),
                format!("50% {a} {b}"),
            ),
            _ => (
                format!(r"(?i)(?-u:\b)(?:{a}|{b})(?:\s+\w+){{0,2}}\s+{c}\s+{d}(?-u:\b)"),
                format!("{a} very {c} {d}"),
            ),
        };
        out.push_str(&format!(
            "[[rule]]\nid = \"claim-price/bench-{index}\"\ncategory = \"claim-price\"\nseverity = \"note\"\nconfidence = \"low\"\nmessage = \"bench '{{match}}'\"\nhelp = \"none\"\npattern = '''{pattern}'''\nunless = {{ pattern = '''(?i)(?-u:\\b)(?:may|usually|terms\\s+apply)(?-u:\\b)''' }}\n[rule.examples]\nmatch = [\"{example}\"]\nok = [\"nothing\"]\n\n"
        ));
    }
    out
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(default)
}
