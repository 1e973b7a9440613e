//! The `promoscan` command line: parses arguments, loads configuration and rules, runs
//! the library, writes the report and picks the exit code (0 clean, 1 findings at or
//! above `--fail-on`, 2 usage/configuration/rule errors). All logic lives in the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use promoscan::config::{Config, FailOn, Policy};
use promoscan::finding::Report;
use promoscan::harness;
use promoscan::input::{self, SourceFormat};
use promoscan::library::Library;
use promoscan::report::{self, Format};
use promoscan::rules::{self, RuleSet};
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
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan articles (HTML or Markdown files, folders, or - for stdin)
    Scan(ScanArgs),
    /// List, test and explain rules
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Files, folders (recursed, .gitignore honoured) or - for standard input
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,
    /// How to parse standard input
    #[arg(long, value_enum, default_value = "html")]
    stdin_format: SourceFormat,
    /// Largest file scanned, in bytes [default: 10485760]
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
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
    Ok(Library::with_rules(load_rules(common, config)?)?)
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
    let library = load_library(common, config)?;
    let rules = &library.rules;
    let policy = Policy::new(config, &common.disable, rules)?;
    let options = ScanOptions {
        max_file_size: args
            .max_file_size
            .or(config.max_file_size)
            .unwrap_or(input::DEFAULT_MAX_FILE_SIZE),
        stdin_format: args.stdin_format,
        ..ScanOptions::default()
    };
    let format = output_format(common);
    // Open the output before scanning, so a bad --output path fails fast.
    let mut out = Output::open(common)?;
    let targets = input::expand_targets(&args.targets);
    if common.verbose {
        eprintln!(
            "promoscan: scanning {} target(s) with {} rules",
            targets.len(),
            rules.rules().len()
        );
    }
    let scanner = Scanner::new(&library, policy, options);
    let report: Report = scanner.scan_all(targets);
    let color = out.color && format == Format::Text;
    match report::write_report(&report, rules, format, &mut out.writer, color) {
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
    let rules = match dir {
        Some(dir) => RuleSet::new(rules::load_dir(&dir)?)?,
        None => load_rules(common, config)?,
    };
    let library = Library::with_rules(rules)?;
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
