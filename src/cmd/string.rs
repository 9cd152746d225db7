//! Placeholder: filled in by the string family.
use super::Handler;

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[];
