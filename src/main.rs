//! The `tandem` binary: `tandem [config-file] [--directive value ...]`,
//! like redis-server. See `tandem --help`.

use tandem::config::Config;

fn main() {
    tune_allocator();
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

/// mimalloc: thread-local free lists, so the frees of buffers that cross
/// stages (requests, reply bytes, transaction records) do not contend on
/// an arena lock as glibc's do (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    fn mi_option_set(option: i32, value: std::ffi::c_long);
}

/// `mi_option_purge_decommits` and `mi_option_purge_delay` in the vendored
/// mimalloc 3 header (libmimalloc-sys 0.1.49, `mimalloc.h`, `enum
/// mi_option_e`).
const MI_OPTION_PURGE_DECOMMITS: i32 = 5;
const MI_OPTION_PURGE_DELAY: i32 = 15;

/// Freed memory goes back to the OS lazily (`MADV_FREE`: reclaimed when
/// the kernel needs it) and after 10 s unused rather than 1 s. The
/// keyspace churns pages constantly; decommitted pages come back zeroed by
/// the kernel on every reuse, which cost ~9% of the server's CPU under
/// cross-shard MSET (jemalloc, Redis's allocator, decays over 10 s too).
fn tune_allocator() {
    // SAFETY: sets plain integer options, read by mimalloc on each purge.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DECOMMITS, 0);
        mi_option_set(MI_OPTION_PURGE_DELAY, 10_000);
    }
}
