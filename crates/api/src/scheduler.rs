//! Background loops: the deadline scheduler and the configuration refresher.

use chrono::Utc;
use rexian_store::Store;
use std::time::Duration;
use tokio::sync::watch;

/// Raises due deadline events every `every` until told to stop. Deadlines live in the
/// database, so a restart picks up where the last run left off.
pub async fn run(store: Store, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        loop {
            match store.run_due_deadlines(Utc::now(), 200).await {
                Ok(run) if run.fired + run.retried >= 200 => continue,
                Ok(run) => {
                    if run.fired > 0 {
                        tracing::info!(fired = run.fired, retried = run.retried, "deadline events");
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler pass failed; retrying next tick");
                    break;
                }
            }
        }
    }
}

/// Re-reads the configuration (changes made on other nodes) and purges
/// expired sessions and old idempotency keys.
pub async fn refresh_config(store: Store, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = store.reload().await {
            tracing::warn!(error = %e, "configuration refresh failed");
        }
        if let Err(e) = store.purge_expired(Utc::now()).await {
            tracing::warn!(error = %e, "purging expired sessions failed");
        }
    }
}
