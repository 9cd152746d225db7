//! The RESP codec: a zero-copy request parser and the reply writer.
//!
//! Owns nothing but bytes. No threads, no io_uring, no keyspace: the IO stage
//! calls [`parse`] on a connection's input buffer, the shard engines write
//! replies through [`write::Reply`]. Follows the RESP2 and RESP3 specifications
//! (<https://redis.io/docs/latest/develop/reference/protocol-spec/>).

pub mod errors;
pub mod parse;
pub mod write;

pub use parse::{ParseError, ParseLimits, parse_command};
pub use write::Reply;
