//! Every fixed RESP error reply tandem sends, as static strings without the
//! leading `-` and trailing CRLF (the writer adds them). Texts match Redis 7
//! byte for byte because clients and test suites match on them.

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const INCR_FLOAT_NAN: &str = "ERR increment would produce NaN or Infinity";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const INVALID_DB_INDEX: &str = "ERR invalid DB index";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
pub const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";

/// A script has run past `busy-reply-threshold` (Redis 7.0 `processCommand`).
pub const BUSY: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// A `denyoom` command while used memory is over `maxmemory` and nothing
/// can be evicted (Redis's `shared.oomerr`).
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
