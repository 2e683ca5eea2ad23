//! Starts Finishline: read configuration, open the pool, migrate, then serve or run a command.

use anyhow::Context;
use app::db::Db;
use clap::Parser;
use server::config::{Cli, Command, DemoArgs, ServeArgs};
use server::{AppState, demo, router};
use tracing_subscriber::EnvFilter;

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
    let conf =
        leptos::config::get_configuration(None).context("reading the Leptos configuration")?;
    let leptos = conf.leptos_options;
    let addr = leptos.site_addr;
    let app = router(AppState {
        db: db.clone(),
        leptos,
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    println!("Finishline is running at http://{addr}");
    if args.demo {
        println!("{}", demo::SIGN_IN_HELP);
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
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
