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
    /// Create the first admin account of an empty installation; prints a one-time password
    /// unless FINISHLINE_ADMIN_PASSWORD gives one.
    CreateAdmin(CreateAdminArgs),
    /// Import exported history: JSON lines (one item per line with a `type`) or CSV (one call
    /// per row). Resumable: run it again to finish an interrupted import.
    Import(ImportArgs),
    /// Import a provider's bill for reconciliation: a FOCUS CSV, the OpenAI Costs API's or the
    /// Anthropic cost report's JSON, or any CSV through a column mapping. Importing a file
    /// again stores nothing twice.
    ImportBill(ImportBillArgs),
    /// Measure ingestion and page times on loopback with fresh databases; prints figures.
    Bench(BenchArgs),
    /// Apply the price book again to a workflow's calls (audited; reported costs are kept).
    Reprice(RepriceArgs),
    /// Seal the days older than the retention setting and remove their raw calls, a few
    /// thousand per transaction; every figure stays as it was. `serve` does the same hourly
    /// when FINISHLINE_KEEP_CALLS_DAYS is set.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Days of raw calls to keep, today included (at least 7).
    #[arg(long, env = "FINISHLINE_KEEP_CALLS_DAYS",
          value_parser = clap::value_parser!(u32).range(7..=36_500))]
    pub keep_calls_days: u32,
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
    /// Demo tasks loaded before timing the pages.
    #[arg(long, default_value_t = 4000)]
    pub page_tasks: u64,
    /// Run one part only: ingestion, the demo pages, or the pages at scale.
    #[arg(long, value_enum)]
    pub only: Option<crate::bench::Part>,
    /// Demo tasks generated as the base of the scale dataset (about 93% are stored).
    #[arg(long, default_value_t = 54_000)]
    pub scale_base: u64,
    /// Sizes of the scale dataset, in copies of the base, smallest first.
    #[arg(long, value_delimiter = ',', default_value = "2,10,20,40")]
    pub scale_copies: Vec<u64>,
    /// A PostgreSQL server to time the pages at scale against too (a database is created on it
    /// and dropped afterwards).
    #[arg(long, env = "FINISHLINE_BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Keep the scale databases afterwards and print where they are.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A .jsonl/.ndjson or .csv file.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportBillArgs {
    /// The bill: a .csv, or the JSON a provider's cost API answered.
    pub file: PathBuf,
    /// What the file is.
    #[arg(long, value_enum)]
    pub format: crate::bill::Format,
    /// The provider the bill's lines belong to, as calls name it (`openai`, `anthropic`,
    /// `aws.bedrock`...), over whatever the file says.
    #[arg(long)]
    pub provider: Option<String>,
    /// A CSV column for a field, as `field=Header` (repeatable): start, end, cost, currency,
    /// provider, model, token_type, tokens, unit, description, category.
    #[arg(long = "column", value_parser = column_pair)]
    pub columns: Vec<(String, String)>,
    /// FOCUS: read every service category, not only AI and Machine Learning.
    #[arg(long)]
    pub all_services: bool,
}

fn column_pair(text: &str) -> Result<(String, String), String> {
    let (field, column) = text
        .split_once('=')
        .ok_or("write a column as field=Header, e.g. cost=BilledCost")?;
    Ok((field.trim().to_owned(), column.trim().to_owned()))
}

#[derive(Debug, Args)]
pub struct RepriceArgs {
    /// The workflow: its slug, or `team:slug` when teams share the slug.
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
    /// Limit the key to a workflow (slug, or `team:slug`; repeatable). Without --team or --workflow the key
    /// sees every workflow.
    #[arg(long = "workflow")]
    pub workflows: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CreateAdminArgs {
    /// The admin's email address (their sign-in name).
    #[arg(long, env = "FINISHLINE_ADMIN_EMAIL")]
    pub email: String,
    /// Their password (at least 12 characters). Without it one is generated, printed once,
    /// and must be replaced at first sign-in.
    #[arg(long, env = "FINISHLINE_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Load the demo dataset first if the database has no workflows yet.
    #[arg(long, env = "FINISHLINE_DEMO")]
    pub demo: bool,
    /// On an installation without accounts, create this first admin (see create-admin).
    #[arg(long, env = "FINISHLINE_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Mark the session cookie Secure and send HSTS: set this when people reach Finishline
    /// over HTTPS (directly or through a proxy).
    #[arg(long, env = "FINISHLINE_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// The address people use (e.g. https://finishline.example.com), when a proxy in front
    /// rewrites the Host header; state-changing requests must come from it.
    #[arg(long, env = "FINISHLINE_PUBLIC_ORIGIN")]
    pub public_origin: Option<String>,
    /// Let alert webhooks go to loopback, private-network and link-local addresses (refused
    /// by default, so a rule cannot make the server reach into its own network).
    #[arg(long, env = "FINISHLINE_ALLOW_INTERNAL_WEBHOOKS")]
    pub allow_internal_webhooks: bool,
    /// The SMTP server alert emails go through: `smtps://user:pass@host:465`,
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtp://host:25`. Without it,
    /// rules can still email, but each email is given up with the reason.
    #[arg(long, env = "FINISHLINE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of alert emails.
    #[arg(
        long,
        env = "FINISHLINE_SMTP_FROM",
        default_value = "Finishline <finishline@localhost>"
    )]
    pub smtp_from: String,
    /// Count sign-in failures against the last X-Forwarded-For address (only behind a proxy
    /// that sets it).
    #[arg(long, env = "FINISHLINE_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Hours a session lasts after sign-in.
    #[arg(long, env = "FINISHLINE_SESSION_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u16).range(1..=720))]
    pub session_hours: u16,
    /// Days of raw calls to keep, today included (at least 7): once an hour, older days are
    /// sealed and their calls removed (see `finishline prune`). Unset, every call is kept.
    #[arg(long, env = "FINISHLINE_KEEP_CALLS_DAYS",
          value_parser = clap::value_parser!(u32).range(7..=36_500))]
    pub keep_calls_days: Option<u32>,
    #[command(flatten)]
    pub limits: LimitArgs,
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

/// Timeouts, connection and request limits, and the memory budget of uploads (see
/// [`crate::limits::Limits`]). Every one has a default fit for a single server.
#[derive(Debug, Args, Clone)]
pub struct LimitArgs {
    /// Seconds a client has to send a request's headers, counted from the connection's opening
    /// or from the first byte of a later request on it.
    #[arg(long, env = "FINISHLINE_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body once its headers arrived.
    #[arg(long, env = "FINISHLINE_BODY_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "FINISHLINE_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout_secs: u64,
    /// Open connections at most; past it the connection idle longest is closed for a new one.
    #[arg(long, env = "FINISHLINE_MAX_CONNECTIONS", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    pub max_connections: u32,
    /// Requests one API key may have in progress at once.
    #[arg(long, env = "FINISHLINE_KEY_CONCURRENCY", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub key_concurrency: u32,
    /// Requests per second one API key may make, on average.
    #[arg(long, env = "FINISHLINE_KEY_RATE", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub key_rate: u32,
    /// Requests one API key may make at once above its rate, after a quiet spell.
    #[arg(long, env = "FINISHLINE_KEY_BURST", default_value_t = 400,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub key_burst: u32,
    /// Requests one client address may have in progress at once, without an API key (pages,
    /// server functions, sign-in, API requests without a key).
    #[arg(long, env = "FINISHLINE_ADDRESS_CONCURRENCY", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub address_concurrency: u32,
    /// Requests per second one client address may make without an API key, on average.
    #[arg(long, env = "FINISHLINE_ADDRESS_RATE", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub address_rate: u32,
    /// Requests one client address may make at once above its rate.
    #[arg(long, env = "FINISHLINE_ADDRESS_BURST", default_value_t = 400,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub address_burst: u32,
    /// Sign-ins one client address may have in progress at once.
    #[arg(long, env = "FINISHLINE_SIGN_IN_CONCURRENCY", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub sign_in_concurrency: u32,
    /// Sign-ins in progress at once from all addresses; more are answered 503.
    #[arg(long, env = "FINISHLINE_SIGN_INS", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub sign_ins: u32,
    /// Passwords hashed at once (argon2id takes 19 MiB each); more sign-ins wait their turn.
    #[arg(long, env = "FINISHLINE_PASSWORD_HASHES", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub password_hashes: u32,
    /// Database connections kept back from API and ingestion requests, for pages, the health
    /// check and background jobs.
    #[arg(long, env = "FINISHLINE_RESERVED_CONNECTIONS", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub reserved_connections: u32,
    /// MiB of uploaded ingestion bodies (decompressed) held in memory at once; past it
    /// uploads are answered 503 with Retry-After.
    #[arg(long, env = "FINISHLINE_INTAKE_MEMORY_MIB", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub intake_memory_mib: u32,
}

impl Default for LimitArgs {
    fn default() -> Self {
        LimitArgs::parse_from(["finishline"])
    }
}

impl LimitArgs {
    /// Parses only these flags (and their environment variables), for `Default`.
    fn parse_from<I: IntoIterator<Item = &'static str>>(args: I) -> LimitArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            limits: LimitArgs,
        }
        Only::parse_from(args).limits
    }
}
