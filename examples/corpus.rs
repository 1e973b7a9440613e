//! Writes the benchmark corpus to a folder, for whole-process runs
//! (`benches/whole-process.sh`): `cargo run --release --example corpus -- DIR PAGES
//! [html|markdown|both] [SEED]`. Page `i` is the same bytes as the benchmark's page `i`.

#[path = "../benches/support/corpus.rs"]
mod corpus;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: corpus DIR PAGES [html|markdown|both] [SEED]";
    let (Some(dir), Some(pages)) = (args.first(), args.get(1).and_then(|n| n.parse().ok())) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let (html, markdown) = match args.get(2).map(String::as_str).unwrap_or("both") {
        "html" => (true, false),
        "markdown" => (false, true),
        "both" => (true, true),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let seed = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(corpus::DEFAULT_SEED);
    match corpus::write(std::path::Path::new(dir), seed, pages, html, markdown) {
        Ok(bytes) => println!("{dir}: {pages} pages, {:.1} MB", bytes as f64 / 1e6),
        Err(error) => {
            eprintln!("{dir}: {error}");
            std::process::exit(1);
        }
    }
}
