//! `rexian`: the hotline platform in one binary.

mod bench;
mod config;
mod demo;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use config::Config;
use rexian_api::{ApiSettings, AppState};
use rexian_store::Store;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "rexian",
    version,
    about = "Rexian 热线: an open government service hotline"
)]
struct Cli {
    /// Settings file (defaults, then this file, then REXIAN_… variables).
    #[arg(long, global = true, default_value = "rexian.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the platform (creates a demo city in an empty data directory).
    Serve {
        /// Start with an empty organisation instead of the demo city.
        #[arg(long)]
        empty: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Show the effective configuration (secrets hidden).
    PrintConfig,
    /// Load a year of holidays and adjusted working days (TOML) into the store.
    LoadCalendar { file: PathBuf },
    /// Benchmarks that print numbers.
    Bench {
        #[command(subcommand)]
        what: bench::BenchCmd,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let cfg = Config::load(&cli.config)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cfg.log).unwrap_or_else(|_| "info".into()),
        )
        .init();
    match cli.command {
        Cmd::Serve { empty } => serve(cfg, empty).await,
        Cmd::Migrate => {
            Store::open(&cfg.store_options()).await?;
            println!("database is up to date");
            Ok(())
        }
        Cmd::PrintConfig => {
            print!("{}", cfg.printable()?);
            Ok(())
        }
        Cmd::LoadCalendar { file } => {
            let store = Store::open(&cfg.store_options()).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let year = store.put_calendar_year(&text).await?;
            println!("loaded calendar {year}");
            Ok(())
        }
        Cmd::Bench { what } => bench::run(what, &cfg).await,
    }
}

/// Year files in `calendars_dir` that the store does not have yet are loaded,
/// so next year's calendar is one file dropped next to this year's.
async fn load_calendars(store: &Store, cfg: &Config) -> Result<()> {
    let Ok(dir) = std::fs::read_dir(&cfg.calendars_dir) else {
        return Ok(());
    };
    let known = store.snapshot().calendar.years();
    for entry in dir.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let year: Option<i32> = toml::from_str::<toml::Value>(&text)
            .ok()
            .and_then(|v| v.get("year").and_then(|y| y.as_integer()))
            .and_then(|y| i32::try_from(y).ok());
        if year.is_some_and(|y| !known.contains(&y)) {
            let y = store
                .put_calendar_year(&text)
                .await
                .with_context(|| format!("loading {}", path.display()))?;
            tracing::info!(year = y, file = %path.display(), "loaded calendar");
        }
    }
    Ok(())
}

async fn serve(cfg: Config, empty: bool) -> Result<()> {
    let store = Store::open(&cfg.store_options())
        .await
        .context("opening the store")?;
    load_calendars(&store, &cfg).await?;
    let demo = if empty {
        None
    } else {
        demo::seed(&store).await?
    };
    let settings = ApiSettings {
        secure_cookies: cfg.secure_cookies,
        attachments: rexian_store::AttachmentLimits {
            max_bytes: cfg.max_upload_mb * 1024 * 1024,
        },
        jurisdiction_id: cfg.jurisdiction_id.clone(),
        scheduler_interval: Some(Duration::from_millis(cfg.scheduler_interval_ms)),
        ..ApiSettings::default()
    };
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let base = format!("http://{host}:{}", addr.port());
    println!("Rexian 热线 is running");
    println!(
        "  store:    {}",
        match store.backend() {
            rexian_store::Backend::Sqlite => format!("SQLite in {}", cfg.data_dir.display()),
            rexian_store::Backend::Postgres => rexian_store::redact(&cfg.database_url),
        }
    );
    println!("  API:      {base}/api/   (OpenAPI: {base}/api/openapi.json)");
    println!("  Open311:  {base}/open311/v2/services.json");
    println!("  health:   {base}/healthz   metrics: {base}/metrics");
    if let Some(d) = &demo {
        println!(
            "  demo city created; every login's password is {:?}:",
            demo::DEMO_PASSWORD
        );
        for l in &d.logins {
            println!(
                "    {:<16} {:<20} {}",
                l.username,
                l.role.label_zh(),
                l.department
            );
        }
        println!("  demo Open311 api_key: {}", d.open311_key);
    }
    let state = AppState::new(store.clone(), settings);
    rexian_api::launch_with_listener(listener, state, shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
