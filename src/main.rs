//! The `tandem` binary: `tandem [config-file] [--directive value ...]`,
//! like redis-server. See `tandem --help`.

use tandem::config::Config;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", Config::help());
        return;
    }
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!(
            "tandem v{} (Redis {} compatible)",
            env!("CARGO_PKG_VERSION"),
            tandem::net::local::REDIS_VERSION
        );
        return;
    }
    let cfg = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let level = match cfg.loglevel.as_str() {
        "debug" => "debug",
        "verbose" | "notice" => "info",
        "warning" => "warn",
        _ => "error",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TANDEM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    if let Err(e) = tandem::server::run(cfg) {
        tracing::error!("{e}");
        std::process::exit(1);
    }
}
