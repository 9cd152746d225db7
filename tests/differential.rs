//! Differential test against redis-server 7.0.15: seeded random command
//! sequences over every data command tandem implements run on a local
//! redis-server and on tandem (split `--shards 3` and `--colocated yes`),
//! replies compared byte for byte, or by the rules of `diff::check` where
//! Redis leaves order or choice open. Divergences are shrunk and printed as
//! redis-cli lines. The shared code lives in `tests/diff/`.
//!
//! `cargo test --release --test differential` runs a fixed seed and a few
//! cases (well under a minute). Longer runs: `tools/difftest.sh SEED SECS`,
//! or the environment variables documented in `tests/diff/mod.rs`
//! (`TANDEM_DIFF_SEED`, `TANDEM_DIFF_CASES`, `TANDEM_DIFF_SECS`, ...).

mod common;
mod diff;

#[test]
fn differential_against_redis() {
    diff::main();
}
