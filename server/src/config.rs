//! Command-line flags and environment variables.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "finishline",
    version,
    about = "What one finished piece of AI work really costs"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Where data lives: `sqlite://<file>` (default: a file in the data folder) or `postgres://...`.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Folder for the embedded SQLite database.
    #[arg(
        long,
        env = "FINISHLINE_DATA_DIR",
        default_value = "data",
        global = true
    )]
    pub data_dir: PathBuf,
}

impl DatabaseArgs {
    /// The database URL, creating the data folder when the default SQLite file is used.
    pub fn url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)?;
        Ok(format!(
            "sqlite://{}",
            self.data_dir.join("finishline.db").display()
        ))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application and API (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo dataset (demo-only users and about 90 days of generated data).
    Demo(DemoArgs),
    /// Create an API key for the read and ingestion API; prints the key once.
    ApiKey(ApiKeyArgs),
    /// Import exported history: JSON lines (one item per line with a `type`) or CSV (one call
    /// per row). Resumable: run it again to finish an interrupted import.
    Import(ImportArgs),
    /// Measure ingestion: start a server on loopback with a fresh SQLite database and drive it.
    Bench(BenchArgs),
    /// Apply the price book again to a workflow's calls (audited; reported costs are kept).
    Reprice(RepriceArgs),
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Batches to send.
    #[arg(long, default_value_t = 200)]
    pub batches: usize,
    /// Tasks per batch (each with one attempt).
    #[arg(long, default_value_t = 20)]
    pub tasks_per_batch: usize,
    /// Calls per task.
    #[arg(long, default_value_t = 50)]
    pub calls_per_task: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A .jsonl/.ndjson or .csv file.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RepriceArgs {
    /// The workflow's slug.
    #[arg(long)]
    pub workflow: String,
    /// First day of calls to reprice (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day of calls to reprice (YYYY-MM-DD, inclusive).
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct ApiKeyArgs {
    /// A name that says who uses the key ("finance warehouse", "support gateway").
    #[arg(long)]
    pub name: String,
    /// Limit the key to a team's workflows (slug; repeatable).
    #[arg(long = "team")]
    pub teams: Vec<String>,
    /// Limit the key to a workflow (slug; repeatable). Without --team or --workflow the key
    /// sees every workflow.
    #[arg(long = "workflow")]
    pub workflows: Vec<String>,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Load the demo dataset first if the database has no workflows yet.
    #[arg(long, env = "FINISHLINE_DEMO")]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the generator: the same seed and end day give the same data.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Roughly how many tasks to generate.
    #[arg(long, default_value_t = 30_000)]
    pub tasks: u64,
    /// Last day of the data (YYYY-MM-DD); defaults to today (UTC).
    #[arg(long)]
    pub end_day: Option<String>,
}
