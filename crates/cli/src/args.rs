//! Command-line arguments: one definition gives parsing, `--help` and the examples in it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use highneeds_ingest::TextEncoding;

/// Most plans `synth` writes: three times England's.
pub const MAX_SYNTH_PLANS: u32 = 2_000_000;

/// A number from the command line, finite and within `lo..=hi`, or the rule it breaks.
fn bounded(s: &str, lo: f64, hi: f64, what: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(v),
        Ok(_) => Err(format!("must be from {lo} to {hi} ({what})")),
        Err(_) => Err(format!("is not a number ({what})")),
    }
}

fn uplift(s: &str) -> Result<f64, String> {
    bounded(
        s,
        -0.5,
        1.0,
        "a yearly change of unit costs, -50 % to +100 %",
    )
}

fn prior_strength(s: &str) -> Result<f64, String> {
    bounded(s, 0.0, 1e6, "pseudo-counts per state")
}

fn persistence_sd(s: &str) -> Result<f64, String> {
    bounded(
        s,
        0.0,
        10.0,
        "a share of the gap between damped and undamped trends",
    )
}

/// Most worker threads: 4 per core (at least 8). Thousands of threads only hang the machine.
pub fn max_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .saturating_mul(4)
        .max(8)
}

fn threads(s: &str) -> Result<usize, String> {
    let max = max_threads();
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to {max} (4 per core on this machine)"
        )),
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "highneeds",
    version,
    term_width = 100,
    about = "Forecast EHC plans and High Needs spending for an English local authority",
    long_about = "Reads an LA's data on children with EHC plans and its High Needs Block budget, checks it, \
                  stores it (SQLite by default) and forecasts plans and costs with honest uncertainty.\n\n\
                  Start with `highneeds demo`: it builds the synthetic LA Exampleshire and shows what the tool does. \
                  The commands' examples use its files: `exampleshire/` is the folder it prints (`files: …`), which \
                  `highneeds status` shows too.",
    after_help = crate::exit::HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More diagnostics on stderr: -v the steps taken and their times, -vv details, -vvv everything
    /// (`RUST_LOG` also works, e.g. RUST_LOG=highneeds_store=debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr: no warnings, notes or progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Synth(SynthArgs),
    Validate(ValidateArgs),
    Import(ImportArgs),
    Demo(DemoArgs),
    Export(ExportArgs),
    Forecast(ForecastArgs),
    Backtest(BacktestArgs),
    Diagnose(DiagnoseArgs),
    Benchmark(BenchmarkArgs),
    Scenario(ScenarioArgs),
    Serve(ServeArgs),
    User(UserArgs),
    Token(TokenArgs),
    Status(StatusArgs),
    Completions(CompletionsArgs),
    Man(ManArgs),
}

/// Say which database is in use (and how it was chosen) and what it holds: LAs, censuses, imports, scenarios.
#[derive(Debug, Args)]
#[command(
    after_help = "The database is --db if given, else $HIGHNEEDS_DB, else your own database in your data folder \
                  (the same for every command).\n\nExamples:\n  highneeds status\n  \
                  HIGHNEEDS_DB=/srv/highneeds/la.db highneeds status --format json"
)]
pub struct StatusArgs {
    /// Database to describe (default: $HIGHNEEDS_DB, else your own database). Never created.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// How to print: a table for people, or JSON for other tools.
    #[arg(long, value_enum, default_value_t = PrintFormat::Table)]
    pub format: PrintFormat,
}

/// Print a completion script for a shell.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  highneeds completions bash > ~/.local/share/bash-completion/completions/highneeds\n  \
                  highneeds completions zsh > ~/.zfunc/_highneeds\n  \
                  highneeds completions fish > ~/.config/fish/completions/highneeds.fish\n  \
                  highneeds completions powershell >> $PROFILE"
)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the manual page (roff), for `man`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  highneeds man > ~/.local/share/man/man1/highneeds.1 && man highneeds"
)]
pub struct ManArgs {}

/// How data output is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    // An Excel workbook (with --out FILE): one sheet per table and a contents sheet. (A `//` comment: a doc
    // comment would turn every --format's help into the long layout.)
    Xlsx,
}

/// Output formats for commands whose output is a report rather than rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    // An Excel workbook (with --out FILE): one sheet per table and a contents sheet. (A `//` comment: a doc
    // comment would turn every --format's help into the long layout.)
    Xlsx,
}

/// What `demo` and `status` print (no workbook).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrintFormat {
    Table,
    Json,
}

/// Where `--format xlsx` writes its workbook.
#[derive(Debug, Args)]
pub struct WorkbookOut {
    /// With --format xlsx: the workbook to write (one sheet per table); an existing file is refused unless --force.
    #[arg(long, value_name = "FILE", required_if_eq("format", "xlsx"))]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Which resident population a person-level backtest projects with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PopulationArg {
    // Only what was known at each origin, carried forward.
    CarryForward,
    // The population file as supplied, later years included.
    Supplied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Analytic,
    MonteCarlo,
}

/// Write a synthetic LA (or several) with realistic person-level histories.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  highneeds synth --plans 2150 --seed 7 --out exampleshire\n  \
                        highneeds synth --plans 640000 --las 153 --seed 1 --out england"
)]
pub struct SynthArgs {
    /// Plans in the last census (summed over every LA), at most 2,000,000 (England has about 640,000).
    #[arg(long, default_value_t = 2150, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SYNTH_PLANS)))]
    pub plans: u32,
    /// Random seed: the same seed always writes the same files.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Folder to write to (created if missing). With several LAs, one sub-folder per LA code.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of LAs to split the plans between.
    #[arg(long, default_value_t = 1)]
    pub las: u32,
    /// January censuses of history (at least 8).
    #[arg(long, default_value_t = 10)]
    pub censuses: u32,
    /// The last census year.
    #[arg(long, default_value_t = 2024)]
    pub last_census: i32,
    /// SEN2 XML returns to write for the last censuses, into OUT/sen2/ with a GIAS-shaped establishments.csv
    /// (default: 3 for one LA, 0 for several).
    #[arg(long)]
    pub sen2_returns: Option<u32>,
}

/// Check files without importing them: every error with file, line, column and rule; warnings with counts.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  highneeds validate exampleshire/transitions.csv exampleshire/plans.csv\n\n\
                        Exit status: 0 if every file is valid (warnings allowed), 2 if any file has an error."
)]
pub struct ValidateArgs {
    /// Files to check (kind from the file name or header: transitions, population, costs, valid-states,
    /// plans, hnb-budget, or a file of the DfE's published EHC plan statistics; .csv, .xlsx, .xls or .ods; or a SEN2
    /// return, XML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// How to write the report: a table for people, JSON for other tools, or an Excel workbook (with --out).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub workbook: WorkbookOut,
    /// The text encoding of CSV files: utf-8, windows-1252 (Excel's "CSV (Comma delimited)") or iso-8859-1.
    /// Without it a byte-order mark decides, else UTF-8 if the file is valid UTF-8, else Windows-1252 with a
    /// warning naming the first character that decided it.
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<TextEncoding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    /// witan.send's four files (a folder, or the files themselves).
    Witan,
    /// Our person-level file: one row per child per census.
    Plans,
    /// The High Needs Block budget file.
    Budget,
    /// SEN2 person-level returns (the DfE XML, one per census year; several give history).
    Sen2,
    /// The DfE's published EHC plan statistics (the release's folder of CSV files, every LA in England), so the
    /// dashboard shows the diagnostic and neighbours without the folder; re-import replaces a release's years.
    Published,
}

/// Import files into the database: all or nothing, and a file imported before is recognised.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  highneeds import witan exampleshire\n  \
                        highneeds import plans exampleshire/plans.csv --la E99999999\n  \
                        highneeds import budget exampleshire/hnb-budget.csv\n  \
                        highneeds import sen2 sen2-2023.xml sen2-2024.xml --la E99999999 --establishments gias.csv\n  \
                        highneeds import published ../shared/data\n\n\
                        Exit status: 0 imported (or already imported), 2 rejected (nothing written), 1 other failure.")]
pub struct ImportArgs {
    #[arg(value_enum)]
    pub kind: ImportKind,
    /// witan: one folder holding transitions, population, costs and valid-states (.csv, .xlsx, .xls or .ods), or its
    /// transitions file; plans, budget: one file; sen2: one or more returns (XML), one per census year.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Database (default: $HIGHNEEDS_DB, else your own database in your data folder: `highneeds status` shows
    /// which).
    #[arg(
        long,
        env = "HIGHNEEDS_DB",
        hide_env_values = true,
        default_value_os_t = highneeds_usecases::home::default_database(),
        hide_default_value = true
    )]
    pub db: PathBuf,
    /// The LA the data belongs to (its ONS code, e.g. E06000037).
    #[arg(long, default_value = "LA")]
    pub la: String,
    /// The LA's name, for reports.
    #[arg(long)]
    pub la_name: Option<String>,
    /// Who is importing, for the import log (default: $USER).
    #[arg(long)]
    pub user: Option<String>,
    /// sen2: the establishment register, GIAS's "all establishments" CSV export (URN/UKPRN → type of
    /// establishment); without it, placements at a URN or UKPRN have setting `other`.
    #[arg(long)]
    pub establishments: Option<PathBuf>,
    /// Allow an import that would replace stored data with nothing or with much less: a file with no data rows,
    /// a witan.send set that leaves the LA with no transitions, population, costs or valid states or removes more
    /// than half of the stored rows of one of them, or a SEN2 return with no active plans in place of a stored
    /// census. Without it such an import is refused (exit 2) and nothing is written.
    #[arg(long)]
    pub replace_with_empty: bool,
    /// sen2: the LA's secret pseudonymisation key (default: $XDG_CONFIG_HOME/highneeds/<LA>.sen2-key, created
    /// with random bytes and permissions 0600 on first use). Keep it: the same key matches people across years.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// witan, plans, budget: the text encoding of CSV files (utf-8, windows-1252, iso-8859-1); detected if not
    /// given (see `validate --help`).
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<TextEncoding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportKind {
    /// witan.send's four files, from the LA's stored transitions.
    Witan,
    /// Our person-level plans.csv.
    Plans,
    /// The HNB budget file.
    Budget,
}

/// Write an LA's stored data back out in the formats `import` reads (person-level data: handle with care).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  highneeds export witan --out exported/\n  \
                        highneeds export plans --la E99999999 --out exported/")]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub kind: ExportKind,
    /// Database (default: $HIGHNEEDS_DB, else your own database in your data folder: `highneeds status` shows
    /// which).
    #[arg(
        long,
        env = "HIGHNEEDS_DB",
        hide_env_values = true,
        default_value_os_t = highneeds_usecases::home::default_database(),
        hide_default_value = true
    )]
    pub db: PathBuf,
    /// Which LA (default: the only one).
    #[arg(long)]
    pub la: Option<String>,
    /// Folder to write into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// Build the synthetic LA Exampleshire, import it and show what the tool does.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  highneeds demo\n  highneeds demo --db /tmp/ex.db --no-serve")]
pub struct DemoArgs {
    /// Database to build (default: $HIGHNEEDS_DB, else your own database in your data folder).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Build the database and exit (the dashboard is not started).
    #[arg(long)]
    pub no_serve: bool,
    /// Where the dashboard listens (a free port is taken if this one is busy).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
    /// How to print: a table for people, or JSON for other tools.
    #[arg(long, value_enum, default_value_t = PrintFormat::Table)]
    pub format: PrintFormat,
}

/// Where a forecast's history comes from.
#[derive(Debug, Args)]
#[command(next_help_heading = "Where the LA's history comes from")]
pub struct HistorySource {
    /// Read the LA's history from this database (default: $HIGHNEEDS_DB, else your own database: `highneeds
    /// status` shows which).
    #[arg(long, conflicts_with = "witan_dir")]
    pub db: Option<PathBuf>,
    /// Which LA in the database (default: the only one).
    #[arg(long, conflicts_with = "witan_dir")]
    pub la: Option<String>,
    /// Read witan.send's four files from this folder directly, without a database.
    #[arg(long)]
    pub witan_dir: Option<PathBuf>,
}

/// Where only aggregate counts exist.
#[derive(Debug, Args)]
#[command(next_help_heading = "Aggregate history (no transitions)")]
pub struct TotalsSource {
    /// Aggregate history only (`census_year,plans,new_plans`): runs the stock-and-flow fallback model
    /// (or a growth model if new plans are not given) instead of the transitions model.
    #[arg(long, conflicts_with_all = ["db", "witan_dir"])]
    pub totals: Option<PathBuf>,
}

/// Model settings shared by forecast and backtest.
#[derive(Debug, Args)]
#[command(next_help_heading = "Model")]
pub struct ModelArgs {
    #[arg(long, value_enum, default_value_t = EngineArg::MonteCarlo)]
    pub engine: EngineArg,
    /// Monte-Carlo simulations.
    #[arg(long, default_value_t = 1000)]
    pub sims: u32,
    /// Random seed: the same seed gives the same output on any machine and thread count.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: all cores; at most 4 per core, or 8). Does not change the output.
    #[arg(long, value_parser = threads)]
    pub threads: Option<usize>,
    /// Hold the joiner rate constant (witan.send's assumption) instead of following its damped trend.
    #[arg(long)]
    pub stationary: bool,
    /// Damping of the joiner trend: each further year keeps this share of the previous year's step. Default:
    /// weighed from the shape of the history's joiner rate (the best-fitting trend, undamped or damped by
    /// 0-0.8, mixed with constant rates by how well each fits; 0.8 when the history has under 5 years of
    /// joiners, too few to judge; 0.2 with --totals).
    #[arg(long)]
    pub damping: Option<f64>,
    /// How unsure the joiner trend's fading is: the spread of the joiner rate, as a share of the gap between
    /// the damped trend and an undamped one (0 = trust the damping fully).
    #[arg(long, default_value_t = highneeds_model::DEFAULT_PERSISTENCE_SD, value_parser = persistence_sd)]
    pub persistence_sd: f64,
    /// Pseudo-count mass of each state's prior (smoothing of sparse cells), 0 to 1,000,000.
    #[arg(long, default_value_t = 1.0, value_parser = prior_strength)]
    pub prior_strength: f64,
}

/// Forecast plans by setting, need and age group, and cost by financial year.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  highneeds forecast --witan-dir exampleshire --years 5 --format json\n  \
                        highneeds forecast --engine analytic\n  \
                        highneeds forecast --totals totals.csv --years 3\n  \
                        highneeds forecast --published ../shared/data --origin 2022 --years 3 --format csv\n  \
                        highneeds forecast --witan-dir ../shared/peers/witan-send-demo --sims 1000 --seed 1"
)]
pub struct ForecastArgs {
    #[command(flatten)]
    pub source: HistorySource,
    #[command(flatten)]
    pub totals: TotalsSource,
    #[command(flatten)]
    pub published: PublishedSource,
    /// Years to project after the last census.
    #[arg(long, default_value_t = 5, help_heading = "Forecast")]
    pub years: u32,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Annual uplift of unit costs, e.g. 0.03 for 3 % a year (a fall: -0.02); from -0.5 to 1.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = uplift, help_heading = "Forecast")]
    pub uplift: f64,
    /// The LA's own setting map (`source,label,setting` lines, e.g. `la,B,mainstream`) laid over the shipped
    /// one: adds plans by canonical setting (means) to the output.
    #[arg(long, help_heading = "Forecast")]
    pub setting_map: Option<PathBuf>,
    /// A population projection (witan.send's population.csv shape: calendar-year,academic-year,population) for
    /// the years after the history's population: its years replace the carried-forward figures.
    #[arg(long, conflicts_with_all = ["published", "totals"], help_heading = "Forecast")]
    pub population_projection: Option<PathBuf>,
    /// Extra quantiles to report, e.g. 0.1,0.9 (0.05, 0.5 and 0.95 are always reported).
    #[arg(long, value_delimiter = ',', help_heading = "Output")]
    pub quantiles: Vec<f64>,
    /// How to write the forecast: a table for people, CSV or JSON for other tools, an Excel workbook (with --out).
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    pub format: Format,
    #[command(flatten, next_help_heading = "Output")]
    pub workbook: WorkbookOut,
}

/// Rolling-origin backtest: fit on censuses up to each year, forecast ahead, compare with what happened.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  highneeds backtest --witan-dir exampleshire --horizon 3\n  \
                        highneeds backtest --witan-dir ../shared/peers/witan-send-demo --format json\n  \
                        highneeds backtest --published ../shared/data --horizon 3\n  \
                        highneeds backtest --published ../shared/data --tune-until 2017"
)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub source: HistorySource,
    /// Backtest the all-LA model on the DfE's published statistics in this folder instead (rolling origins
    /// over the published census years, against England's growth for every LA, the LA's last year's growth,
    /// 3-year growth and a linear trend).
    #[arg(long, conflicts_with_all = ["db", "witan_dir"])]
    pub published: Option<PathBuf>,
    /// Choose the model's settings by backtest on the censuses up to this year only (nothing later is read),
    /// then score them on the origins after it. With --published: the all-LA model's indicators, ridge, England's
    /// growth, error memory and point forecast (mean or median); otherwise the fallback damping and the persistence spread. A year at or after
    /// the last census is refused.
    #[arg(long)]
    pub tune_until: Option<i32>,
    /// Years ahead to forecast from each origin.
    #[arg(long, default_value_t = 3)]
    pub horizon: u32,
    /// Person-level backtests: the population each origin's forecast uses (carry-forward = only what was
    /// known at the origin).
    #[arg(long, value_enum, default_value_t = PopulationArg::CarryForward, conflicts_with = "published")]
    pub population: PopulationArg,
    /// Fewest years of transitions an origin needs (3 lets the joiner trend be fitted; 1 tries every origin).
    #[arg(long, default_value_t = 3)]
    pub min_years: usize,
    #[command(flatten)]
    pub model: ModelArgs,
    /// How to write the report: a table for people, JSON for other tools, or an Excel workbook (with --out).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub workbook: WorkbookOut,
}

/// Where the DfE's published statistics are (for every LA in England).
#[derive(Debug, Args)]
#[command(next_help_heading = "Every LA in England (the DfE's published statistics)")]
pub struct PublishedSource {
    /// Forecast every LA from the DfE's published statistics in this folder (the release's CSV files):
    /// one row per LA and projected census, `la_code,census_year,mean,median,p10,p90` (an 80 % interval) with --format csv.
    #[arg(long, conflicts_with_all = ["db", "witan_dir", "totals"])]
    pub published: Option<PathBuf>,
    /// With --published: the last census the forecast may use (default: the latest published).
    #[arg(long, requires = "published")]
    pub origin: Option<i32>,
}

/// Where an LA's EHC plans grow and why, from the DfE's published statistics (and its budget file).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  highneeds diagnose --la E08000027 --published ../shared/data\n  \
                        highneeds diagnose --la E06000037 --published ../shared/data --from 2017 --to 2022 --budget hnb-budget.csv\n  \
                        highneeds diagnose --la E06000004 --published ../shared/data --format json\n  \
                        highneeds diagnose --la E06000037 --published ../shared/data --witan-dir west-berkshire"
)]
pub struct DiagnoseArgs {
    /// The LA's ONS code (current boundaries), e.g. E06000037 for West Berkshire.
    #[arg(long)]
    pub la: String,
    /// Folder of the DfE's published EHC plan statistics (the release's CSV files).
    #[arg(long)]
    pub published: PathBuf,
    /// First census year compared (default: five years before --to).
    #[arg(long)]
    pub from: Option<i32>,
    /// Last census year compared (default: the latest published).
    #[arg(long)]
    pub to: Option<i32>,
    /// The LA's High Needs budget file (hnb-budget.csv): adds spend, unit cost and volume × mix × rate.
    #[arg(long)]
    pub budget: Option<PathBuf>,
    /// The LA's person-level history (witan.send's files): adds new plans by NCY at first plan, the share at
    /// transition years and by need.
    #[arg(long)]
    pub witan_dir: Option<PathBuf>,
    /// How to write the report: a table for people, JSON for other tools, or an Excel workbook (with --out).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub workbook: WorkbookOut,
}

/// Compare an LA with its statistical neighbours and England on published indicators.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  highneeds benchmark --la E06000037 --published ../shared/data\n  \
                        highneeds benchmark --la E08000027 --published ../shared/data --neighbours E08000028,E08000029,E08000030\n  \
                        highneeds benchmark --la E06000004 --published ../shared/data --format json"
)]
pub struct BenchmarkArgs {
    /// The LA's ONS code (current boundaries).
    #[arg(long)]
    pub la: String,
    /// Folder of the DfE's published EHC plan statistics.
    #[arg(long)]
    pub published: PathBuf,
    /// The LA's own neighbour list (ONS codes, comma-separated) instead of the computed one.
    #[arg(long, value_delimiter = ',')]
    pub neighbours: Vec<String>,
    /// How many neighbours to choose when computing them.
    #[arg(long, default_value_t = 10)]
    pub count: usize,
    /// The census year compared (default: the latest published).
    #[arg(long)]
    pub year: Option<i32>,
    /// How to write the report: a table for people, JSON for other tools, or an Excel workbook (with --out).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub workbook: WorkbookOut,
}

/// DBV plans as scenarios: initiatives with levers, the mitigated ledger, savings by initiative, the target check.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples (after `highneeds demo --db ex.db --no-serve`):\n  \
    highneeds scenario run examples/exampleshire-dbv-stockton.toml --db ex.db\n  \
    highneeds scenario run examples/exampleshire-dbv-stockton.toml --db ex.db --format json\n  \
    highneeds scenario list --db ex.db\n  \
    highneeds scenario new \"My plan\" --out my-plan.toml"
)]
pub struct ScenarioArgs {
    #[command(subcommand)]
    pub command: ScenarioCommand,
}

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Write a new scenario file to edit: the assumptions and one initiative of each kind, commented.
    New(ScenarioNewArgs),
    /// The LA's stored scenarios, with their versions.
    List(ScenarioStoreArgs),
    /// A stored scenario's latest version (or `--version N`) as TOML, and its versions.
    Show(ScenarioPickArgs),
    /// Run a scenario (a file, or a stored scenario by name): mitigated vs unmitigated, savings, target check.
    Run(ScenarioRunArgs),
    /// Several scenarios side by side: in-year and cumulative positions, total saving, balance year.
    Compare(ScenarioCompareArgs),
    /// Write a stored scenario to a TOML file.
    Export(ScenarioExportArgs),
    /// Check a scenario file against the LA's data and store it as a new version.
    Import(ScenarioImportArgs),
}

#[derive(Debug, Args)]
pub struct ScenarioStoreArgs {
    /// Database (default: $HIGHNEEDS_DB, else your own database in your data folder: `highneeds status` shows
    /// which).
    #[arg(
        long,
        env = "HIGHNEEDS_DB",
        hide_env_values = true,
        default_value_os_t = highneeds_usecases::home::default_database(),
        hide_default_value = true
    )]
    pub db: PathBuf,
    /// Which LA (default: the only one).
    #[arg(long)]
    pub la: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScenarioNewArgs {
    /// The scenario's name.
    pub name: String,
    /// The file to write (refused if it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// Target financial year for an in-year balance.
    #[arg(long, default_value = "2027-28")]
    pub target: String,
}

#[derive(Debug, Args)]
pub struct ScenarioPickArgs {
    /// The stored scenario's name.
    pub name: String,
    #[command(flatten)]
    pub store: ScenarioStoreArgs,
    /// A version (default: the latest).
    #[arg(long)]
    pub version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct ScenarioRunArgs {
    /// A scenario file (.toml or .json) or the name of a stored scenario.
    pub scenario: String,
    #[command(flatten)]
    pub store: ScenarioStoreArgs,
    /// Run on this engine instead of the scenario's own.
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// How to write the result: a table for people, CSV or JSON for other tools, or an Excel workbook (with --out).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub workbook: WorkbookOut,
    /// Worker threads (default: all cores; at most 4 per core, or 8). Does not change the output.
    #[arg(long, value_parser = threads)]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ScenarioCompareArgs {
    /// Scenario files or stored scenario names (two or more).
    #[arg(required = true, num_args = 1..)]
    pub scenarios: Vec<String>,
    #[command(flatten)]
    pub store: ScenarioStoreArgs,
    /// Run every scenario on this engine.
    #[arg(long, value_enum, default_value_t = EngineArg::Analytic)]
    pub engine: EngineArg,
    /// How to write the result: a table for people, CSV or JSON for other tools, or an Excel workbook (with --out).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub workbook: WorkbookOut,
}

#[derive(Debug, Args)]
pub struct ScenarioExportArgs {
    /// The stored scenario's name.
    pub name: String,
    #[command(flatten)]
    pub store: ScenarioStoreArgs,
    /// A version (default: the latest).
    #[arg(long)]
    pub version: Option<i64>,
    /// The file to write (refused if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ScenarioImportArgs {
    /// The scenario file (.toml).
    pub file: PathBuf,
    #[command(flatten)]
    pub store: ScenarioStoreArgs,
    /// Who is saving, for the version history (default: $USER).
    #[arg(long)]
    pub user: Option<String>,
}

/// Serve the web dashboard, the public view and the JSON API for an LA's database.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  highneeds serve --bind 127.0.0.1:8080\n  \
                        highneeds user add alice --role officer\n\n\
                        Sign in at /login; /public needs no sign-in; the API is described at /api/v1/openapi.json.")]
pub struct ServeArgs {
    /// Database (default: $HIGHNEEDS_DB, else your own database in your data folder: `highneeds status` shows
    /// which).
    #[arg(
        long,
        env = "HIGHNEEDS_DB",
        hide_env_values = true,
        default_value_os_t = highneeds_usecases::home::default_database(),
        hide_default_value = true
    )]
    pub db: PathBuf,
    /// Which LA in the database (default: the only one).
    #[arg(long)]
    pub la: Option<String>,
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
    /// Counts under this are withheld on the public view.
    #[arg(long, default_value_t = 5)]
    pub public_threshold: u64,
}

/// Accounts of the web dashboard.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  highneeds user add alice --role officer\n  \
                        highneeds user list\n  \
                        highneeds user set-role alice analyst\n  \
                        highneeds user disable alice"
)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

/// The database and LA an account command works on.
#[derive(Debug, Args)]
pub struct AccountDb {
    /// Database (default: $HIGHNEEDS_DB, else your own database in your data folder: `highneeds status` shows
    /// which).
    #[arg(
        long,
        env = "HIGHNEEDS_DB",
        hide_env_values = true,
        default_value_os_t = highneeds_usecases::home::default_database(),
        hide_default_value = true
    )]
    pub db: PathBuf,
    /// Which LA's accounts (default: the database's only LA).
    #[arg(long)]
    pub la: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add an account; prints a new password once (or reads one from stdin with --password-stdin).
    Add {
        username: String,
        /// admin, officer, analyst or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Read the password (at least 12 characters) from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: AccountDb,
    },
    /// List the accounts and their roles.
    List {
        #[command(flatten)]
        db: AccountDb,
    },
    /// Change an account's role.
    SetRole {
        username: String,
        role: String,
        #[command(flatten)]
        db: AccountDb,
    },
    /// Disable an account: it cannot sign in, its sessions end and its API tokens stop working.
    Disable {
        username: String,
        #[command(flatten)]
        db: AccountDb,
    },
}

/// API tokens for scripts and Power BI.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  highneeds token create --user alice\n  \
                        highneeds token revoke 3\n\n\
                        Use a token as `Authorization: Bearer TOKEN`; it has its user's role and every use is audited.")]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Make a token for an account and print it once (only its hash is stored).
    Create {
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. "Power BI".
        #[arg(long, default_value = "API")]
        label: String,
        #[command(flatten)]
        db: AccountDb,
    },
    /// Revoke a token by its id.
    Revoke {
        id: i64,
        #[command(flatten)]
        db: AccountDb,
    },
    /// List the tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        db: AccountDb,
    },
}
