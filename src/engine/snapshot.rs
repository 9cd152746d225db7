//! A shard's part of a background save (BGSAVE), fork-less.
//!
//! At the save's instant (a transaction holding every shard, so a
//! cross-shard transaction is in the file entirely or not at all) each
//! shard marks every key of every database unwritten
//! ([`crate::store::Db::snapshot_begin`]). The store then writes a key as
//! it was at that instant before anything changes it, and the engine loop
//! calls [`Shard::snapshot_step`] every turn, which writes a few more
//! segments and sends what is ready to the file writer
//! ([`crate::persist::Saver`]). While a part is unfinished the engine does
//! not park (it yields its core between steps), so an idle shard finishes
//! quickly and a busy one interleaves the save with its batches.

use std::sync::Arc;

use super::shard::Shard;
use crate::msg::{Begun, Mode, TxInfo, TxKind, Want, next_tx_id};
use crate::persist::Chunk;

/// Bytes of serialized entries a step produces, at most about: bounds the
/// delay a step adds to the commands queued behind it (tens of µs).
pub const STEP_BYTES: usize = 64 * 1024;

impl Shard {
    /// Begins a background save's instant from this shard (the `save`
    /// schedule and a saving shutdown, which have no client to route a
    /// BGSAVE): a transaction holding a shared lock on every whole shard,
    /// whose part on each begins that shard's snapshot. In colocated mode
    /// (one shard) the snapshot begins at once.
    pub fn begin_global_snapshot(&mut self) {
        if self.count == 1 {
            // One shard: the instant is now, with the place in the AOF's
            // queue a transaction over every shard would take (an AOF
            // rewrite opens its next incremental file there), as
            // `engine::tx` does at a snapshot's Go.
            self.log_flush();
            let place = (self.logging || self.aof.starting()).then(|| self.aof.reserve(1, true));
            self.begin_snapshot();
            if self.aof.starting() {
                self.log_armed = true;
                self.refresh_logging();
            }
            if let Some(t) = place {
                self.aof.part_done(&t);
            }
            return;
        }
        let id = next_tx_id();
        let info = Arc::new(TxInfo {
            id,
            kind: TxKind::Parts,
            shards: (0..self.count)
                .map(|s| (s, Want::Shard(Mode::Shared)))
                .collect(),
            exec: None,
            log: Default::default(),
            follows: false,
        });
        // No client: an owner of its own.
        self.tx_begun.push((info, u16::MAX, id, Begun::Snapshot));
    }

    /// Takes this instant as the shard's part of the running background
    /// save. False if no save runs (its writer failed) or this shard
    /// already has a part.
    pub fn begin_snapshot(&mut self) -> bool {
        if let Some((generation, _)) = &self.snapshot {
            if *generation == self.saver.generation() {
                return false;
            }
            // A failed save's part not stepped since: dropped.
            self.end_part();
        }
        let Some(sink) = self.saver.sink() else {
            return false;
        };
        let now = self.now_ms;
        let write = if self.saver.writes_commands() {
            crate::aof::rewrite_entry
        } else {
            crate::cmd::dump::snapshot_write
        };
        for (i, db) in self.dbs.iter_mut().enumerate() {
            db.snapshot_begin(i, write, now);
        }
        self.snapshot = Some(sink);
        true
    }

    /// Writes about `budget` more bytes of this shard's part and sends
    /// every database's waiting output to the file writer; once all is
    /// written, says so and ends the part. Returns true while work remains.
    /// If the writer is gone (it failed), the part is dropped.
    pub fn snapshot_step(&mut self, budget: usize) -> bool {
        let Some((_, sink)) = self.snapshot.as_ref() else {
            return false;
        };
        let mut remains = false;
        let mut lost = false;
        for db in self.dbs.iter_mut() {
            // Only the first unfinished database works this step.
            let complete = db.snapshot_step(if remains { 0 } else { budget });
            remains |= !complete;
            let (index, bytes) = db.snapshot_take();
            if !bytes.is_empty() && sink.send(Chunk::Data { db: index, bytes }).is_err() {
                lost = true;
                break;
            }
        }
        if !remains && !lost {
            lost = sink.send(Chunk::Done).is_err();
        }
        if lost || !remains {
            self.end_part();
            return false;
        }
        true
    }

    /// Ends this shard's part of a background save.
    fn end_part(&mut self) {
        self.snapshot = None;
        for db in self.dbs.iter_mut() {
            db.snapshot_end();
        }
    }
}
