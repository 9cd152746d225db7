//! tandem: a Redis-compatible in-memory data store in two stages.
//!
//! ```text
//!  clients ──TCP──▶ IO thread 0..N-1 (pinned)                 shard engine 0..M-1 (pinned)
//!                   io_uring: multishot accept/recv,  RequestBatch   execute batch against
//!                   provided buffers; parse RESP  ───────────────▶  its own keyspace part
//!                   zero-copy; look up command;   one per shard     (hashbrown, no locks);
//!                   route by hash slot            per loop turn     serialize replies
//!                   reorder replies per conn,     ◀───────────────
//!                   Send                           ReplyBatch + eventfd doorbell if parked
//! ```
//!
//! Modules in data-flow order: [`config`] → [`server`] (threads) → [`net`]
//! (stage 1: [`resp`], [`spec`]) → [`msg`] → [`engine`] (stage 2: [`cmd`],
//! [`store`]). `resp`, `spec`, `store`, `glob`, `logging`, `alloc` and `config`
//! are leaves; `net` never imports `engine`, `cmd` or `store`, and
//! `engine`/`cmd` never import `net`.

pub mod acl;
pub mod alloc;
pub mod aof;
pub mod cmd;
pub mod config;
pub mod engine;
pub mod glob;
pub mod logging;
pub mod metrics;
pub mod monitor;
pub mod msg;
pub mod net;
pub mod persist;
pub mod pubsub;
pub mod rdb;
pub mod resp;
pub mod script;
pub mod server;
pub mod slowlog;
pub mod spec;
pub mod store;
