//! Starts Finishline: read configuration, open the pool, migrate, then serve or run a command.

use anyhow::Context;
use app::db::Db;
use clap::Parser;
use server::config::{
    ApiKeyArgs, BenchArgs, Cli, Command, CreateAdminArgs, DemoArgs, ImportArgs, ImportBillArgs,
    PruneArgs, RepriceArgs, ServeArgs,
};
use server::{AppState, demo, router};
use tracing_subscriber::EnvFilter;

/// Ingestion builds and drops many small values per item on every worker thread at once;
/// mimalloc's per-thread heaps serve that with less locking than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let cli = Cli::parse();
    let url = cli.database.url()?;
    let db = Db::connect(&url)
        .await
        .with_context(|| format!("opening the database at {}", redact(&url)))?;
    db.migrate().await.context("applying database migrations")?;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Migrate => {
            println!("Migrations applied to {}.", redact(&url));
            Ok(())
        }
        Command::Demo(args) => load_demo(&db, &args).await,
        Command::ApiKey(args) => create_api_key(&db, &args).await,
        Command::CreateAdmin(CreateAdminArgs { email, password }) => {
            create_admin(&db, &email, password).await
        }
        Command::Reprice(args) => reprice(&db, &args).await,
        Command::Prune(PruneArgs { keep_calls_days }) => prune(&db, keep_calls_days).await,
        Command::Import(args) => import(&db, &args).await,
        Command::ImportBill(args) => import_bill(&db, &args).await,
        Command::Bench(BenchArgs {
            batches,
            tasks_per_batch,
            calls_per_task,
            clients,
            page_tasks,
            only,
            scale_base,
            scale_copies,
            postgres_url,
            keep,
        }) => {
            server::bench::run(server::bench::BenchSpec {
                batches,
                tasks_per_batch,
                calls_per_task,
                clients,
                page_tasks,
                only,
                scale: server::bench::scale::ScaleSpec {
                    base_tasks: scale_base,
                    copies: scale_copies,
                    postgres_url,
                    keep,
                },
            })
            .await
        }
        Command::Serve(args) => serve(db, args).await,
    }
}

async fn load_demo(db: &Db, args: &DemoArgs) -> anyhow::Result<()> {
    let end_day = match &args.end_day {
        Some(text) => app::domain::time::parse_day(text)
            .context("--end-day must be a date like 2026-11-22")?,
        None => app::domain::time::day_of(app::db::now_ms()),
    };
    let summary = demo::load(
        db,
        &demo::DemoSpec {
            seed: args.seed,
            tasks: args.tasks,
            end_day,
        },
    )
    .await?;
    println!("{summary}");
    Ok(())
}

/// The workflow named on the command line: its slug, or `team:slug` when teams share it.
async fn named_workflow(db: &Db, name: &str) -> anyhow::Result<app::model::Workflow> {
    use app::model::{NameLookup, find_workflow};
    let workflows = app::db::workflow::list_workflows(db).await?;
    let teams = app::db::identity::list_teams(db).await?;
    match find_workflow(&workflows, &teams, name) {
        Ok(found) => Ok(found.clone()),
        Err(NameLookup::Unknown) => anyhow::bail!("no workflow is named '{name}'"),
        Err(NameLookup::Ambiguous) => {
            anyhow::bail!("{}", app::model::ambiguous_name(name))
        }
    }
}

async fn create_api_key(db: &Db, args: &ApiKeyArgs) -> anyhow::Result<()> {
    let mut scopes = Vec::new();
    for slug in &args.teams {
        let teams = app::db::identity::list_teams(db).await?;
        let team = teams
            .iter()
            .find(|t| &t.slug == slug)
            .with_context(|| format!("no team has the slug '{slug}'"))?;
        scopes.push(app::model::KeyScope::Team(team.id));
    }
    for slug in &args.workflows {
        let workflow = named_workflow(db, slug).await?;
        scopes.push(app::model::KeyScope::Workflow(workflow.id));
    }
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let issued = app::service::accounts::issue_api_key(
        db,
        app::service::accounts::Actor {
            user_id: None,
            name: &actor,
        },
        &args.name,
        &scopes,
        app::db::now_ms(),
    )
    .await?;
    let secret = issued.secret;
    println!("{secret}");
    eprintln!("This key is shown once. Send it as 'Authorization: Bearer <key>'.");
    Ok(())
}

async fn create_admin(db: &Db, email: &str, password: Option<String>) -> anyhow::Result<()> {
    let generated =
        app::service::accounts::create_first_admin(db, email, password, app::db::now_ms())
            .await
            .context("creating the first admin")?;
    match generated {
        Some(password) => {
            println!("Created the admin {email}. One-time password: {password}");
            println!("It is shown once; Finishline asks for a new password at the first sign-in.");
        }
        None => {
            println!("Created the admin {email} with the password from FINISHLINE_ADMIN_PASSWORD.")
        }
    }
    Ok(())
}

/// Draws an import's progress on standard error: a bar on a terminal, a line per tenth in a log.
fn progress_bar(unit: &'static str) -> impl FnMut(u64, u64) {
    use std::io::{IsTerminal, Write};
    let terminal = std::io::stderr().is_terminal();
    let mut last_tenth = None;
    move |done, total| {
        let share = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        let filled = (share * 30.0) as usize;
        if terminal {
            eprint!(
                "\r[{}{}] {:>3.0}% {done}/{total} {unit}",
                "#".repeat(filled),
                ".".repeat(30 - filled),
                share * 100.0
            );
            let _ = std::io::stderr().flush();
            if done == total {
                eprintln!();
            }
        } else if last_tenth != Some((share * 10.0) as u64) {
            last_tenth = Some((share * 10.0) as u64);
            eprintln!("{:>3.0}% {done}/{total} {unit}", share * 100.0);
        }
    }
}

async fn import(db: &Db, args: &ImportArgs) -> anyhow::Result<()> {
    let summary = server::import::import_file(db, &args.file, progress_bar("rows")).await?;
    println!(
        "{} rows: {} accepted, {} rejected{}.",
        summary.rows,
        summary.accepted,
        summary.rejected,
        if summary.skipped > 0 {
            format!(" ({} already imported before this run)", summary.skipped)
        } else {
            String::new()
        }
    );
    let mut reasons: Vec<_> = summary.reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    for ((field, reason), count) in reasons.iter().take(20) {
        let at = if field.is_empty() {
            String::new()
        } else {
            format!("{field}: ")
        };
        println!("  {count:>6} × {at}{reason}");
    }
    Ok(())
}

async fn import_bill(db: &Db, args: &ImportBillArgs) -> anyhow::Result<()> {
    let options = server::bill::Options {
        format: args.format,
        provider: args.provider.clone(),
        columns: args.columns.clone(),
        all_services: args.all_services,
    };
    let summary =
        server::bill::import_bill(db, &args.file, &options, progress_bar("lines")).await?;
    println!(
        "{} lines: {} stored, {} already imported, {} skipped, {} refused; {} billed in the lines read.",
        summary.lines,
        summary.stored,
        summary.unchanged,
        summary.skipped,
        summary.refused,
        summary.billed
    );
    let mut reasons: Vec<_> = summary.reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    for (reason, count) in reasons.iter().take(20) {
        println!("  {count:>6} × {reason}");
    }
    println!(
        "Reconcile on the Reconciliation page (/reconciliation) or GET /api/v1/reconciliation."
    );
    Ok(())
}

async fn reprice(db: &Db, args: &RepriceArgs) -> anyhow::Result<()> {
    use app::domain::time::parse_day;
    let workflow = named_workflow(db, &args.workflow).await?;
    let from = parse_day(&args.from).context("--from must be a date like 2026-11-01")?;
    let to = parse_day(&args.to).context("--to must be a date like 2026-11-30")?;
    anyhow::ensure!(from <= to, "--from must not be after --to");
    let actor = std::env::var("USER").unwrap_or_else(|_| "command line".into());
    let mut tx = db.begin().await?;
    let summary = app::db::reprice::reprice_calls(
        &mut tx,
        workflow.id,
        from,
        to,
        (None, &format!("cli:{actor}")),
        app::db::now_ms(),
    )
    .await?;
    tx.commit().await?;
    println!(
        "Repriced {} calls of {} ({} changed): {} before, {} after.",
        summary.calls, workflow.slug, summary.changed, summary.before, summary.after
    );
    Ok(())
}

async fn prune(db: &Db, keep_days: u32) -> anyhow::Result<()> {
    use app::service::retention::{REMOVE_PER_TRANSACTION, run_pass};
    let pass = run_pass(
        db,
        i64::from(keep_days),
        app::db::now_ms(),
        REMOVE_PER_TRANSACTION,
    )
    .await?;
    match pass.sealed_through_day {
        Some(day) => println!(
            "Every day up to {} is sealed ({} of them by this run); removed {} calls in {} transactions, {:.1} s.",
            app::domain::time::format_day(day),
            pass.sealed_days,
            pass.calls_removed,
            pass.transactions,
            pass.elapsed.as_secs_f64()
        ),
        None => println!("Nothing is older than {keep_days} days: no day sealed, no call removed."),
    }
    Ok(())
}

async fn serve(db: Db, args: ServeArgs) -> anyhow::Result<()> {
    if args.demo && app::db::workflow::list_workflows(&db).await?.is_empty() {
        let end_day = app::domain::time::day_of(app::db::now_ms());
        let spec = demo::DemoSpec {
            seed: 2026,
            tasks: 30_000,
            end_day,
        };
        println!("Loading the demo dataset (once)...");
        println!("{}", demo::load(&db, &spec).await?);
    }
    if app::db::identity::count_users(&db).await? == 0 {
        match &args.admin_email {
            Some(email) => {
                let password = std::env::var("FINISHLINE_ADMIN_PASSWORD").ok();
                create_admin(&db, email, password).await?;
            }
            None => println!(
                "No accounts yet. Create the first admin with: finishline create-admin --email you@example.com \
                 (or set FINISHLINE_ADMIN_EMAIL before starting)."
            ),
        }
    }
    if app::db::rollup::rebuild_if_missing(&db).await? {
        println!("Rebuilt the daily rollups from raw rows.");
    }
    server::jobs::spawn_settling(db.clone());
    server::jobs::spawn_rollup_refresh(db.clone());
    if let Some(days) = args.keep_calls_days {
        server::jobs::spawn_retention(db.clone(), i64::from(days));
    }
    let conf =
        leptos::config::get_configuration(None).context("reading the Leptos configuration")?;
    let leptos = conf.leptos_options;
    let addr = leptos.site_addr;
    let webhooks = app::service::alerts::WebhookPolicy {
        allow_internal: args.allow_internal_webhooks,
    };
    let site = args
        .public_origin
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    server::alerts::spawn_evaluation(db.clone(), site);
    let smtp = args.smtp_url.clone().map(|url| server::alerts::Smtp {
        url,
        from: args.smtp_from.clone(),
    });
    server::alerts::spawn_delivery(db.clone(), server::alerts::Channels { webhooks, smtp });
    let web = server::web::WebSettings {
        sessions: app::service::accounts::SessionSettings {
            ttl_ms: i64::from(args.session_hours) * 3_600_000,
            secure_cookies: args.secure_cookies,
        },
        public_origin: args.public_origin.clone(),
        trust_proxy: args.trust_proxy,
        webhooks,
    };
    let limits = server::limits::Limits::from(&args.limits);
    app::service::auth::limit_password_hashing(limits.password_hashes);
    let app = router(
        AppState::new(db.clone(), leptos)
            .with_web(web)
            .with_limits(limits.clone()),
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    println!("Finishline is running at http://{addr}");
    if args.demo {
        println!("{}", demo::SIGN_IN_HELP);
    }
    server::connections::serve(listener, app, limits, shutdown_signal()).await?;
    db.close().await;
    Ok(())
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
