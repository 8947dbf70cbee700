//! Helpers for tests that need a throwaway PostgreSQL database.

use sqlx::any::AnyPoolOptions;
use sqlx::Executor;

/// The server tests use: `REXIAN_TEST_PG` or the local default.
pub fn admin_url() -> String {
    std::env::var("REXIAN_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Creates a new empty database and returns its URL; `None` (with a note)
/// when no server is reachable, unless `REXIAN_REQUIRE_PG` is set, in which
/// case that is a failure.
pub async fn fresh_postgres(label: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let admin = admin_url();
    let pool = match AnyPoolOptions::new()
        .max_connections(1)
        .connect(&admin)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            if std::env::var("REXIAN_REQUIRE_PG").is_ok() {
                panic!("PostgreSQL required but unreachable at {admin}: {e}");
            }
            eprintln!("skipping PostgreSQL run: {e}");
            return None;
        }
    };
    let name = format!(
        "rexian_{}_{}_{}",
        label,
        std::process::id(),
        rand::random::<u32>()
    );
    if let Err(e) = pool
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
    {
        panic!("cannot create test database: {e}");
    }
    pool.close().await;
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin);
    Some(format!("{base}/{name}"))
}
