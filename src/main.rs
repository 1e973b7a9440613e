//! The `promoscan` command line: parses arguments, loads configuration and rules, runs
//! the library, writes the report and picks the exit code (0 clean, 1 findings at or
//! above `--fail-on`, 2 usage/configuration/rule errors). All logic lives in the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use promoscan::audit::{AuditOptions, PageDone, ScanSetup};
use promoscan::config::{Config, FailOn, Policy};
use promoscan::finding::Report;
use promoscan::finding::Severity;
use promoscan::follow::{FollowOptions, Follower};
use promoscan::harness;
use promoscan::input::{self, SourceFormat};
use promoscan::library::Library;
use promoscan::report::jsonl;
use promoscan::report::stream::StreamWriter;
use promoscan::report::{self, Format};
use promoscan::rules::{self, RuleSet};
use promoscan::run;
use promoscan::scan::{ScanOptions, Scanner};

/// Compliance scanner for affiliate promo pages and links.
#[derive(Debug, Parser)]
#[command(name = "promoscan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: CommonArgs,
}

/// Flags every command takes.
#[derive(Debug, Args)]
struct CommonArgs {
    /// Output format [default: text on a terminal, json otherwise]
    #[arg(long, global = true, value_enum)]
    format: Option<Format>,
    /// Write the report to FILE instead of standard output
    #[arg(long, global = true, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with 1 when a finding is at or above this severity [default: error]
    #[arg(long, global = true, value_enum)]
    fail_on: Option<FailOn>,
    /// Configuration file [default: promoscan.toml in this folder or a parent]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Extra rule files (a folder or a file), added to the built-in library
    #[arg(long = "rules", global = true, value_name = "DIR")]
    rule_dirs: Vec<PathBuf>,
    /// Turn a rule or a whole category off (repeatable)
    #[arg(long, global = true, value_name = "ID")]
    disable: Vec<String>,
    /// Print nothing but the report and errors
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Print more about what is done (on stderr)
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

/// Limits for fetching pages and following links (DESIGN §6); each overrides the
/// `[follow]` table of promoscan.toml.
#[derive(Debug, Args)]
struct NetworkArgs {
    /// Follow into loopback, private and link-local addresses too
    #[arg(long, global = true)]
    allow_private: bool,
    /// Seconds allowed for one request, body included [default: 10]
    #[arg(long, global = true, value_name = "SECS")]
    timeout: Option<f64>,
    /// Seconds allowed to open a connection [default: 5]
    #[arg(long, global = true, value_name = "SECS")]
    connect_timeout: Option<f64>,
    /// Seconds allowed for a whole redirect chain [default: 30]
    #[arg(long, global = true, value_name = "SECS")]
    chain_timeout: Option<f64>,
    /// Most redirects followed per chain [default: 15]
    #[arg(long, global = true, value_name = "N")]
    max_hops: Option<usize>,
    /// Largest response body read, in bytes, after decompression [default: 5242880]
    #[arg(long, global = true, value_name = "BYTES")]
    body_cap: Option<usize>,
    /// Requests in flight at once [default: 16]
    #[arg(long, global = true, value_name = "N")]
    concurrency: Option<usize>,
    /// Requests in flight at once to one host [default: 2]
    #[arg(long, global = true, value_name = "N")]
    per_host: Option<usize>,
    /// Requests started per second on one host [default: 10]
    #[arg(long, global = true, value_name = "N")]
    host_rate: Option<f64>,
    /// Retries of 429/502/503/504 answers, with backoff [default: 2]
    #[arg(long, global = true, value_name = "N")]
    retries: Option<u32>,
    /// Use ADDR for HOST instead of DNS, on every port (as curl's --resolve), e.g.
    /// shop.example:127.0.0.1 (repeatable)
    #[arg(long, global = true, value_name = "HOST:ADDR", value_parser = parse_resolve)]
    resolve: Vec<(String, std::net::IpAddr)>,
}

fn parse_resolve(text: &str) -> Result<(String, std::net::IpAddr), String> {
    let (host, address) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not HOST:ADDR"))?;
    let address = address.trim_start_matches('[').trim_end_matches(']');
    let address = address
        .parse()
        .map_err(|_| format!("'{address}' is not an IP address"))?;
    if host.is_empty() {
        return Err(format!("'{text}' has no host"));
    }
    Ok((host.to_ascii_lowercase(), address))
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan articles (HTML or Markdown files, folders, - for stdin, or http(s) URLs)
    Scan(ScanArgs),
    /// Trace where links really go, hop by hop, and report what the chains do
    Follow(FollowArgs),
    /// Crawl a site (robots.txt, sitemaps, same-site links) and scan every page
    Audit(AuditArgs),
    /// List, test and explain rules
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Args)]
struct AuditArgs {
    /// The site's start page (http or https)
    #[arg(value_name = "URL")]
    url: String,
    /// Most pages visited [default: 10000]
    #[arg(long, value_name = "N")]
    max_pages: Option<usize>,
    /// Most links followed from the start page [default: 50]
    #[arg(long, value_name = "N")]
    max_depth: Option<u32>,
    /// Only visit URLs matching PATTERN (a glob on the path such as /blog/**, or re:REGEX)
    #[arg(long, value_name = "PATTERN")]
    include: Vec<String>,
    /// Never visit URLs matching PATTERN (a glob on the path, or re:REGEX)
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Do not read or obey robots.txt
    #[arg(long)]
    ignore_robots: bool,
    /// Continue an interrupted audit from its --format jsonl output (pages in it are not
    /// fetched again; they are copied to the new output)
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct FollowArgs {
    /// The links to follow (http or https URLs)
    #[arg(required = true, value_name = "URL")]
    urls: Vec<String>,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Files, folders (recursed, .gitignore honoured), - for standard input, or URLs
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,
    /// How to parse standard input
    #[arg(long, value_enum, default_value = "html")]
    stdin_format: SourceFormat,
    /// Largest file scanned, in bytes [default: 10485760]
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Also follow every distinct affiliate or shortened link found, once
    #[arg(long, conflicts_with = "offline")]
    follow: bool,
    /// Never touch the network (URL targets fail)
    #[arg(long)]
    offline: bool,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// List every rule
    List,
    /// Run every rule's examples (the built-in library, or the rule files in DIR)
    Test {
        /// A folder (or file) of rule files to test instead of the built-in library
        dir: Option<PathBuf>,
    },
    /// Print a rule's description, help and examples
    Explain {
        /// The rule id, e.g. claim-price/lowest-ever
        id: String,
    },
}

/// Exit code after Ctrl-C (128 + SIGINT), as shells expect.
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The first Ctrl-C asks every loop to stop and write what it has; a second one
    // ends the process at once.
    let _ = ctrlc::set_handler(|| {
        if promoscan::interrupt::requested() {
            std::process::exit(i32::from(INTERRUPTED));
        }
        promoscan::interrupt::request();
    });
    match run(cli) {
        Ok(_) if promoscan::interrupt::requested() => {
            eprintln!("promoscan: interrupted; the results obtained so far were written");
            ExitCode::from(INTERRUPTED)
        }
        Ok(code) => code,
        // A closed pipe (`promoscan rules list | head`) ends the run quietly.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("promoscan: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli.common)?;
    match cli.command {
        Command::Scan(args) => scan(&cli.common, &config, args),
        Command::Follow(args) => follow(&cli.common, &config, args),
        Command::Audit(args) => audit(&cli.common, &config, args),
        Command::Rules(RulesCommand::List) => {
            let rules = load_rules(&cli.common, &config)?;
            let format = output_format(&cli.common);
            let mut out = Output::open(&cli.common)?;
            if format == Format::Text {
                report::rules::write_list_text(&rules, &mut out.writer)?;
            } else {
                report::rules::write_list_json(&rules, &mut out.writer)?;
            }
            out.finish()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCommand::Test { dir }) => rules_test(&cli.common, &config, dir),
        Command::Rules(RulesCommand::Explain { id }) => {
            let rules = load_rules(&cli.common, &config)?;
            let Some(rule) = rules.get(&id) else {
                bail!("no rule '{id}' (see `promoscan rules list`)");
            };
            let mut out = Output::open(&cli.common)?;
            report::rules::write_explanation(rule, &mut out.writer)?;
            out.finish()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_config(common: &CommonArgs) -> anyhow::Result<Config> {
    let path = match &common.config {
        Some(path) => Some(path.clone()),
        None => {
            let cwd = std::env::current_dir().context("cannot read the current folder")?;
            Config::discover(&cwd)
        }
    };
    match path {
        Some(path) => Ok(Config::load(&path)?),
        None => Ok(Config::default()),
    }
}

fn load_rules(common: &CommonArgs, config: &Config) -> anyhow::Result<RuleSet> {
    let mut dirs = config.rule_dirs();
    dirs.extend(common.rule_dirs.iter().cloned());
    Ok(RuleSet::load(&dirs)?)
}

fn load_library(common: &CommonArgs, config: &Config) -> anyhow::Result<Library> {
    let mut dirs = config.rule_dirs();
    dirs.extend(common.rule_dirs.iter().cloned());
    Ok(Library::with_rules_and_dirs(
        load_rules(common, config)?,
        &dirs,
    )?)
}

fn output_format(common: &CommonArgs) -> Format {
    common.format.unwrap_or_else(|| {
        if common.output.is_none() && std::io::stdout().is_terminal() {
            Format::Text
        } else {
            Format::Json
        }
    })
}

fn scan(common: &CommonArgs, config: &Config, args: ScanArgs) -> anyhow::Result<ExitCode> {
    let library = Arc::new(load_library(common, config)?);
    let policy = Policy::new(config, &common.disable, &library.rules)?;
    let options = ScanOptions {
        max_file_size: args
            .max_file_size
            .or(config.max_file_size)
            .unwrap_or(input::DEFAULT_MAX_FILE_SIZE),
        stdin_format: args.stdin_format,
        collect_links: args.follow,
        ..ScanOptions::default()
    };
    let targets = input::expand_targets(&args.targets);
    let wants_network = args.follow
        || targets
            .iter()
            .any(|(target, _)| matches!(target, input::Target::Url(_)));
    let follower = if wants_network && !args.offline {
        Some(start_follower(common, config, &library)?)
    } else {
        None
    };
    // Open the output before scanning, so a bad --output path fails fast.
    let out = Output::open(common)?;
    if common.verbose {
        eprintln!(
            "promoscan: scanning {} target(s) with {} rules",
            targets.len(),
            library.rules.rules().len()
        );
    }
    let scanner = Scanner::new(&library, policy, options);
    let format = output_format(common);
    if follower.is_none() && StreamWriter::supports(format) {
        match scan_streaming(common, config, &scanner, targets, format, out) {
            Streamed::Done(outcome) => return outcome,
            // No temporary file for the JSON report: build the report whole instead.
            Streamed::NotStarted(targets_back, out_back, error) => {
                if common.verbose {
                    eprintln!(
                        "promoscan: cannot create a temporary file ({error}); the report is built in memory"
                    );
                }
                let report = run::scan(&scanner, targets_back, None, args.follow);
                return finish_report(common, config, &library, &report, out_back);
            }
        }
    }
    let report = run::scan(&scanner, targets, follower.as_ref(), args.follow);
    finish_report(common, config, &library, &report, out)
}

/// How a streamed scan went.
enum Streamed {
    /// It ran: the exit code, or the error to report.
    Done(anyhow::Result<ExitCode>),
    /// The writer could not start (no temporary file for the JSON report); nothing was
    /// scanned or written, and the targets and output are handed back.
    NotStarted(
        Vec<(input::Target, Option<input::InputProblem>)>,
        Output,
        std::io::Error,
    ),
}

/// A scan without the network, its report written as the targets are done (memory flat
/// in the number of targets and findings).
fn scan_streaming(
    common: &CommonArgs,
    config: &Config,
    scanner: &Scanner<'_>,
    targets: Vec<(input::Target, Option<input::InputProblem>)>,
    format: Format,
    mut out: Output,
) -> Streamed {
    let color = out.color && format == Format::Text;
    let mut writer = match StreamWriter::new(format, &mut out.writer, color, targets.len()) {
        Ok(writer) => writer,
        Err(error) => return Streamed::NotStarted(targets, out, error),
    };
    let scanned = run::scan_streaming(scanner, targets, |order, result| {
        writer.target_done(order, result.record, &result.findings)
    });
    let fail_on = common.fail_on.or(config.fail_on).unwrap_or(FailOn::Error);
    let fails = writer.fails(fail_on.threshold());
    let written = scanned.and_then(|()| writer.finish().map(|_| ()));
    let finished = match written {
        // A closed pipe still gets the exit code the findings so far call for.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => out.finish(),
        Err(error) => Err(error).with_context(|| "cannot write the report"),
        Ok(()) => out.finish(),
    };
    Streamed::Done(finished.map(|()| {
        if fails {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }))
}

fn follow(common: &CommonArgs, config: &Config, args: FollowArgs) -> anyhow::Result<ExitCode> {
    let library = Arc::new(load_library(common, config)?);
    let policy = Policy::new(config, &common.disable, &library.rules)?;
    let follower = start_follower(common, config, &library)?;
    let out = Output::open(common)?;
    let scanner = Scanner::new(&library, policy, ScanOptions::default());
    let report = run::follow(&scanner, &follower, &args.urls);
    finish_report(common, config, &library, &report, out)
}

fn audit(common: &CommonArgs, config: &Config, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let start = url::Url::parse(&args.url)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .with_context(|| format!("'{}' is not an http(s) URL", args.url))?;
    let library = Arc::new(load_library(common, config)?);
    let policy = Policy::new(config, &common.disable, &library.rules)?;
    let follower = start_follower(common, config, &library)?;
    // Read the resume file before the output is opened: they may be the same file.
    let resumed = match &args.resume {
        Some(path) => Some(promoscan::crawl::resume::read(path)?),
        None => None,
    };
    let format = output_format(common);
    let mut out = Output::open(common)?;
    let table = &config.audit;
    let defaults = AuditOptions::default();
    let options = AuditOptions {
        max_pages: args
            .max_pages
            .or(table.max_pages)
            .unwrap_or(defaults.max_pages),
        max_depth: args
            .max_depth
            .or(table.max_depth)
            .unwrap_or(defaults.max_depth),
        include: [table.include.clone(), args.include].concat(),
        exclude: [table.exclude.clone(), args.exclude].concat(),
        ignore_robots: args.ignore_robots || table.ignore_robots.unwrap_or(false),
        concurrency: follower.fetcher().options().concurrency,
        ..defaults
    };
    let setup = ScanSetup {
        library: library.clone(),
        policy,
        options: ScanOptions {
            collect_links: true,
            collect_page_links: true,
            ..ScanOptions::default()
        },
    };
    let progress = ProgressLine::new(common.quiet);
    let streaming = format == Format::Jsonl;
    let mut records = Vec::new();
    let mut findings = Vec::new();
    if let Some(resumed) = &resumed {
        for note in &resumed.notes {
            eprintln!("promoscan: {note}");
        }
        if streaming {
            // The new output holds everything: what the previous run found first.
            for finding in &resumed.findings {
                jsonl::write_finding_line(&mut out.writer, finding)?;
            }
            for discovered in &resumed.discovered {
                jsonl::write_tagged_line(&mut out.writer, "discovered", discovered)?;
            }
            for record in &resumed.targets {
                jsonl::write_target_line(&mut out.writer, record)?;
            }
            out.writer.flush()?;
        } else {
            records.extend(resumed.targets.iter().cloned());
        }
    }
    let writer = &mut out.writer;
    let mut on_page = |page: PageDone<'_>| -> std::io::Result<()> {
        if streaming {
            // Findings first, the target line last: a target line means "done".
            for finding in &page.result.findings {
                jsonl::write_finding_line(writer, finding)?;
            }
            jsonl::write_tagged_line(writer, "discovered", &page.discovered)?;
            jsonl::write_target_line(writer, &page.result.record)?;
            writer.flush()
        } else {
            records.push(page.result.record.clone());
            findings.extend(page.result.findings.iter().cloned());
            Ok(())
        }
    };
    let (summary, resumed_findings) = promoscan::audit::audit(
        &start,
        &setup,
        &follower,
        &options,
        resumed,
        &progress,
        &mut on_page,
    )?;
    progress.finish();
    for note in &summary.notes {
        eprintln!("promoscan: {note}");
    }
    let counts = audit_counts(&summary);
    if streaming {
        #[derive(serde::Serialize)]
        struct SummaryLine<'a> {
            #[serde(flatten)]
            counts: &'a promoscan::finding::Summary,
            audit: &'a promoscan::audit::AuditSummary,
        }
        jsonl::write_tagged_line(
            &mut out.writer,
            "summary",
            &SummaryLine {
                counts: &counts,
                audit: &summary,
            },
        )?;
        out.finish()?;
    } else {
        findings.extend(resumed_findings);
        let report = Report::new(records, findings);
        let color = out.color && format == Format::Text;
        report::write_report(&report, &library.rules, format, &mut out.writer, color)
            .with_context(|| "cannot write the report")?;
        if format == Format::Text {
            write_audit_summary_text(&summary, &mut out.writer)?;
        }
        out.finish()?;
    }
    let fail_on = common.fail_on.or(config.fail_on).unwrap_or(FailOn::Error);
    let fails = match fail_on.threshold() {
        None => false,
        Some(threshold) => summary.severity.iter().any(|(name, count)| {
            *count > 0 && name.parse::<Severity>().is_ok_and(|s| s >= threshold)
        }),
    };
    Ok(if fails {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The run's counts (the `summary` of DESIGN §3) from an audit's summary.
fn audit_counts(summary: &promoscan::audit::AuditSummary) -> promoscan::finding::Summary {
    let count = |name: &str| summary.severity.get(name).copied().unwrap_or(0);
    promoscan::finding::Summary {
        targets: summary.pages,
        scanned: summary.pages - summary.failed,
        failed: summary.failed,
        error: count("error"),
        warning: count("warning"),
        note: count("note"),
    }
}

/// The audit's own summary after a text report: pages, networks, worst pages.
fn write_audit_summary_text(
    summary: &promoscan::audit::AuditSummary,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "Audit: {} pages visited ({} failed), {} discovered, {} not allowed by robots.txt{}",
        summary.pages,
        summary.failed,
        summary.discovered,
        summary.disallowed,
        if summary.interrupted {
            ", interrupted"
        } else {
            ""
        }
    )?;
    if !summary.networks.is_empty() {
        let networks: Vec<String> = summary
            .networks
            .iter()
            .map(|(network, count)| format!("{network} ({count})"))
            .collect();
        writeln!(out, "Affiliate links by network: {}", networks.join(", "))?;
    }
    if !summary.worst_pages.is_empty() {
        writeln!(out, "Worst pages:")?;
        for page in &summary.worst_pages {
            writeln!(
                out,
                "  {} errors, {} warnings: {}",
                page.errors, page.warnings, page.target
            )?;
        }
    }
    Ok(())
}

/// A progress bar on stderr, shown only on a terminal and without -q.
struct ProgressLine {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressLine {
    fn new(quiet: bool) -> ProgressLine {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} pages  {per_sec}  {elapsed}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        ProgressLine { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl promoscan::audit::Progress for ProgressLine {
    fn update(&self, done: usize, discovered: usize, failed: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(discovered as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("{failed} failed"));
        }
    }
}

/// The follower, its limits from the flags, then `[follow]`, then the defaults.
fn start_follower(
    common: &CommonArgs,
    config: &Config,
    library: &Arc<Library>,
) -> anyhow::Result<Follower> {
    let options = follow_options(&common.network, &config.follow)?;
    Ok(Follower::new(library.clone(), options)?)
}

fn follow_options(
    flags: &NetworkArgs,
    table: &promoscan::config::FollowConfig,
) -> anyhow::Result<FollowOptions> {
    let mut options = FollowOptions::default();
    let seconds =
        |flag: Option<f64>, key: Option<f64>, name: &str, default: Duration| match flag.or(key) {
            None => Ok(default),
            Some(value) if value.is_finite() && value > 0.0 && value <= 86_400.0 => {
                Ok(Duration::from_secs_f64(value))
            }
            Some(value) => Err(anyhow::anyhow!(
                "{name} must be a number of seconds above 0 and at most 86400, not {value}"
            )),
        };
    let fetch = &mut options.fetch;
    fetch.request_timeout = seconds(
        flags.timeout,
        table.timeout,
        "timeout",
        fetch.request_timeout,
    )?;
    fetch.connect_timeout = seconds(
        flags.connect_timeout,
        table.connect_timeout,
        "connect timeout",
        fetch.connect_timeout,
    )?;
    options.chain_timeout = seconds(
        flags.chain_timeout,
        table.chain_timeout,
        "chain timeout",
        options.chain_timeout,
    )?;
    let fetch = &mut options.fetch;
    if let Some(cap) = flags.body_cap.or(table.body_cap) {
        fetch.body_cap = cap;
    }
    if let Some(concurrency) = flags.concurrency.or(table.concurrency) {
        if concurrency == 0 {
            bail!("concurrency must be at least 1");
        }
        fetch.concurrency = concurrency;
    }
    if let Some(per_host) = flags.per_host.or(table.per_host) {
        if per_host == 0 {
            bail!("per-host concurrency must be at least 1");
        }
        fetch.per_host_concurrency = per_host;
    }
    if let Some(rate) = flags.host_rate.or(table.host_rate) {
        if !(rate.is_finite() && rate > 0.0) {
            bail!("host rate must be a number of requests per second above 0, not {rate}");
        }
        fetch.per_host_interval = Duration::from_secs_f64(1.0 / rate);
    }
    if let Some(retries) = flags.retries.or(table.retries) {
        fetch.retries = retries.min(10);
    }
    fetch.allow_private = flags.allow_private || table.allow_private.unwrap_or(false);
    fetch.resolve = flags.resolve.clone();
    if let Some(hops) = flags.max_hops.or(table.max_hops) {
        options.max_hops = hops;
    }
    Ok(options)
}

/// Writes the report and picks the exit code.
fn finish_report(
    common: &CommonArgs,
    config: &Config,
    library: &Library,
    report: &Report,
    mut out: Output,
) -> anyhow::Result<ExitCode> {
    let format = output_format(common);
    let color = out.color && format == Format::Text;
    match report::write_report(report, &library.rules, format, &mut out.writer, color) {
        // A closed pipe still gets the exit code the findings call for.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.with_context(|| "cannot write the report")?,
    }
    out.finish()?;
    let fail_on = common.fail_on.or(config.fail_on).unwrap_or(FailOn::Error);
    Ok(if report.fails(fail_on.threshold()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn rules_test(
    common: &CommonArgs,
    config: &Config,
    dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let library = match dir {
        Some(dir) => Library::with_rules_and_dirs(
            RuleSet::new(rules::load_dir(&dir)?)?,
            std::slice::from_ref(&dir),
        )?,
        None => load_library(common, config)?,
    };
    let outcomes = harness::run(&library);
    let mut out = Output::open(common)?;
    let mut failures =
        report::rules::write_test_results(&library.rules, &outcomes, &mut out.writer)?;
    // The rest of the library carries examples too: networks, script signatures and
    // disclosure phrases.
    let mut other_failures: Vec<String> = library
        .networks
        .check_examples()
        .iter()
        .map(ToString::to_string)
        .collect();
    other_failures.extend(library.signatures.check_examples());
    other_failures.extend(library.disclosures.check_examples());
    for failure in &other_failures {
        writeln!(out.writer, "FAIL {failure}")?;
    }
    writeln!(
        out.writer,
        "{} networks, {} script signatures, disclosure phrases: {} failed",
        library.networks.networks().len(),
        library.signatures.all().len(),
        other_failures.len()
    )?;
    failures += other_failures.len();
    out.finish()?;
    Ok(if failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Where the report goes: a file, or standard output (coloured when it is a terminal
/// and NO_COLOR is not set).
struct Output {
    writer: Box<dyn Write>,
    color: bool,
    path: Option<PathBuf>,
}

impl Output {
    fn open(common: &CommonArgs) -> anyhow::Result<Output> {
        match &common.output {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot write the report to {}", path.display()))?;
                Ok(Output {
                    writer: Box::new(std::io::BufWriter::new(file)),
                    color: false,
                    path: Some(path.clone()),
                })
            }
            None => {
                let stdout = std::io::stdout();
                let color = stdout.is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                    && std::env::var("TERM")
                        .map(|term| term != "dumb")
                        .unwrap_or(true);
                Ok(Output {
                    writer: Box::new(std::io::BufWriter::new(stdout)),
                    color,
                    path: None,
                })
            }
        }
    }

    fn finish(mut self) -> anyhow::Result<()> {
        let target = self
            .path
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|| "standard output".to_string());
        match self.writer.flush() {
            Ok(()) => Ok(()),
            // A closed pipe (`promoscan ... | head`) is not an error worth exit 2.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(error) => Err(error).with_context(|| format!("cannot write to {target}")),
        }
    }
}
