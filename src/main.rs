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
    tandem::logging::init(&cfg.loglevel);
    if let Err(e) = tandem::server::run(cfg) {
        tracing::error!("{e}");
        std::process::exit(1);
    }
}

/// mimalloc, counting the bytes it hands out (`tandem::alloc`).
#[global_allocator]
static GLOBAL: tandem::alloc::Counting = tandem::alloc::Counting;
