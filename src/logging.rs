//! The process log: `tracing` to stdout at the level of the `loglevel`
//! directive, which CONFIG SET changes while the server runs.
//!
//! A leaf. Set up once by `main` ([`init`]); [`set_level`] is called by
//! CONFIG SET on an IO thread. `TANDEM_LOG` (an `EnvFilter` string) overrides
//! the directive for debugging, and then CONFIG SET leaves it alone.

use std::sync::OnceLock;

use tracing_subscriber::{EnvFilter, Registry, layer::SubscriberExt, reload};

type Handle = reload::Handle<EnvFilter, Registry>;

static HANDLE: OnceLock<Option<Handle>> = OnceLock::new();

/// The `tracing` filter for a Redis log level (debug, verbose, notice,
/// warning, nothing).
fn filter_for(loglevel: &str) -> EnvFilter {
    EnvFilter::new(match loglevel {
        "debug" => "debug",
        "verbose" | "notice" => "info",
        "warning" => "warn",
        "nothing" => "off",
        _ => "error",
    })
}

/// Installs the global subscriber at `loglevel`. Call once, first thing.
pub fn init(loglevel: &str) {
    let from_env = EnvFilter::try_from_env("TANDEM_LOG").ok();
    let fixed = from_env.is_some();
    let (layer, handle) = reload::Layer::new(from_env.unwrap_or_else(|| filter_for(loglevel)));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let subscriber = tracing_subscriber::registry().with(layer).with(fmt);
    if tracing::subscriber::set_global_default(subscriber).is_ok() {
        let _ = HANDLE.set((!fixed).then_some(handle));
    }
}

/// Applies a new `loglevel` to the running process (CONFIG SET).
pub fn set_level(loglevel: &str) {
    if let Some(Some(h)) = HANDLE.get() {
        let _ = h.reload(filter_for(loglevel));
    }
}
