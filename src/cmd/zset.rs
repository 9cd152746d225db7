//! The sorted-set family (<https://redis.io/docs/latest/commands/?group=sorted-set>).

use super::Handler;

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[];
