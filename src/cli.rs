//! The command line: clap types only. Each subcommand maps to one function in `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Migrate a database from one engine to another according to a reviewed YAML plan.
#[derive(Debug, Parser)]
#[command(name = "decant", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Introspect and profile a source and write a starter plan that states every mapping.
    Init(InitArgs),
    /// Parse and check a plan; every problem at once, each with file:line:col.
    Validate(ValidateArgs),
    /// Print the resolved plan and every SQL statement `run` would execute, writing nothing.
    Plan(PlanCommandArgs),
    /// Print the step graph.
    Graph(GraphArgs),
    /// Execute the plan against the target: exit 0 only when every row is accounted for.
    #[command(after_help = TARGET_URL_HELP)]
    Run(RunArgs),
    /// Run the plan's checks against the existing source and target: exit 0 only when all pass.
    Check(CheckArgs),
    /// Run the whole plan against a throwaway PostgreSQL, report its timings, clean up.
    Rehearse(RehearseArgs),
    /// Show the journal in the target: runs, steps, timings, row counts, outcomes.
    Status(PlanArgs),
    /// Drop the tables the newest run created in the target; the source is never written.
    Rollback(RollbackArgs),
    /// Write the snapshot of the app's schema that a plan with `target.owner: app` is checked
    /// against (after the app's migrator ran on the database it reads)
    Snapshot(SnapshotArgs),
    /// After a completed run, make the target equal to the source's current content: only the
    /// rows inserted, updated or deleted since are applied, in one transaction
    Sync(SyncArgs),
    /// Switch over: pause the source's writes (never writing it), sync a last time, fix the
    /// sequences, run the checks and the plan's `phase: cutover` steps, release, report the pause
    Cutover(CutoverArgs),
    /// Print the JSON Schema of plan files (the one in `schemas/plan.schema.json`).
    Schema,
    /// Print the completion script for a shell: bash, zsh, fish, elvish or powershell.
    Completions(CompletionsArgs),
    /// Print the man page (roff): `decant man > ~/.local/share/man/man1/decant.1`.
    Man,
}

/// Where `run` finds its target, shown under `decant run --help`.
const TARGET_URL_HELP: &str =
    "The target is the plan's `target.url`. Plans written by `decant init` read it from the \
environment as `${TARGET_DATABASE_URL:-<default>}`: set TARGET_DATABASE_URL (e.g. \
TARGET_DATABASE_URL=postgres://app:secret@db:5432/shop) to run the same plan against another \
server, and to keep the password out of the plan file.";

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Print every check's details, also of those that passed.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// List the tables a rollback would drop, and drop nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Drop without asking (on a terminal, `rollback` asks first; it never asks when standard
    /// input is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The source database, e.g. `sqlite://data/app.sqlite3` (relative to the current folder)
    /// or `mysql://user@host:3306/app` (`mariadb://` too; its password is never written).
    #[arg(long)]
    pub source: String,
    /// The target database URL to write into the plan, as the default of `${TARGET_DATABASE_URL}`
    /// (its password is never written); default `postgres://postgres@127.0.0.1:5432/<file stem>`.
    #[arg(long)]
    pub target: Option<String>,
    /// Where to write the plan; `-` or nothing for standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Write a plan that loads into the schema the app's migrator made in `--target` (which
    /// must be reachable): `target.owner: app`, transforms proposed from both sides, and the
    /// snapshot of that schema beside the plan.
    #[arg(long, requires = "target")]
    pub app_schema: bool,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The plan file.
    pub plan: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The plan file
    pub plan: PathBuf,
    /// Print per table how many rows would be inserted, updated and deleted; write nothing
    #[arg(long, conflicts_with = "follow")]
    pub dry_run: bool,
    /// Where the report goes (default: the plan's folder)
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// Sync again and again until SIGINT/SIGTERM (or `--until-lag`), each pass journaled as a
    /// sync; a line per pass with the rows applied and the lag
    #[arg(long)]
    pub follow: bool,
    /// The way back after a cutover: bring the old SQLite source up to the target's current
    /// rows through the plan's inverse (renames and types back, each transform's inverse), in
    /// one transaction of the file, journaled in `<file>.decant-reverse.json` beside it
    #[arg(long, conflicts_with = "follow")]
    pub reverse: bool,
    /// With `--follow`: stop once a pass took at most this many seconds (the target was then
    /// at most that far behind the source)
    #[arg(long, value_name = "SECONDS", requires = "follow")]
    pub until_lag: Option<f64>,
    /// With `--follow`: the least time from one pass's start to the next's
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1.0,
        requires = "follow"
    )]
    pub interval: f64,
}

#[derive(Debug, clap::Args)]
pub struct CutoverArgs {
    /// The plan file
    pub plan: PathBuf,
    /// The operator stopped the app: take no lock, and verify after the window that the source
    /// did not change during it (the cutover fails if it did)
    #[arg(long)]
    pub app_stopped: bool,
    /// Refuse unless the run or a sync caught up at most this many seconds ago, so the final
    /// sync inside the pause is short
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub max_catch_up_age: u64,
    /// How long to wait for the app's writes in flight to let go of the source's write lock
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub lock_wait: u64,
    /// Inside the pause, run the plan's checksums too (they read every row: a longer pause);
    /// without it the pause runs the plan's other checks
    #[arg(long)]
    pub checksums: bool,
    /// Where the reports go (default: the plan's folder)
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// The way back: switch from PostgreSQL to the old database (SQLite or MySQL). Pauses the
    /// app's writers on PostgreSQL (table locks), runs a final `sync --reverse`, compares every
    /// row through the inverse, then the plan's `phase: cutover_reverse` steps
    #[arg(long, conflicts_with = "checksums")]
    pub reverse: bool,
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The plan file
    pub plan: PathBuf,
    /// The database to read the app's schema from (default: the plan's target)
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
    /// Where to write it (default: `target.snapshot`, else `<plan stem>.schema.json`)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Also run SQLite's `PRAGMA quick_check` on the source and report what it finds (reads
    /// every page: takes as long as reading the file).
    #[arg(long)]
    pub quick_check: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Continue the newest interrupted run, redoing only unfinished steps; refused when the
    /// plan or the source changed since.
    #[arg(long)]
    pub resume: bool,
    /// Create the target database first when the server has none of that name (connecting to
    /// the server's `postgres` database to do so).
    #[arg(long)]
    pub create_database: bool,
    /// Where the JSON and Markdown reports and the rejects file go (default: the plan's folder).
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// Print every step as it ends (by default: one line per table and any failure).
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, clap::Args)]
pub struct RehearseArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Rehearse in a scratch database created (and dropped afterwards) on this server, e.g.
    /// `postgres://postgres@127.0.0.1:5432/postgres`, instead of a temporary cluster that decant
    /// starts from the system's `initdb` and `postgres`. The plan's own target is never contacted.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Leave the temporary cluster running (or the scratch database in place) afterwards and
    /// print how to reach it; Ctrl-C still cleans up.
    #[arg(long)]
    pub keep: bool,
    /// Where the JSON and Markdown reports and the rejects file go (default: the plan's folder);
    /// they are named `<plan>.rehearsal.*` so they never overwrite a real run's.
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// Print every step as it ends (by default: one line per table and any failure).
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, clap::Args)]
pub struct PlanCommandArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Profile every column's values (a full scan of the source) to flag lossy conversions.
    #[arg(long)]
    pub profile: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Sql,
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}
