//! SLOWLOG and LATENCY: the operator's view of slow commands, answered
//! from [`crate::slowlog`] and the sampled per-command histograms of
//! [`crate::metrics`].
//!
//! Replies and errors follow Redis 7.0's `slowlog.c` and `latency.c`
//! (redis.io: SLOWLOG GET, LATENCY LATEST, ...). LATENCY DOCTOR and GRAPH
//! write tandem's own text: the numbers are Redis's, the wording and the
//! chart are not.

use std::fmt::Write as _;

use super::local::{Local, Res, reply};
use crate::cmd::{range_i64, subcommand, subcommand_syntax_error, write_help};
use crate::slowlog::{Series, Who};

/// SLOWLOG GET [count] | LEN | RESET | HELP.
///
/// GET's count: -1 for every entry, default 10; anything below -1 or not
/// an integer answers `ERR count should be greater than or equal to -1`.
pub(super) fn slowlog(l: &mut Local, args: &[&[u8]]) -> Res {
    let sub = subcommand(args, &[("get", -2), ("len", 2), ("reset", 2), ("help", 2)])
        .map_err(|e| e.text().to_string())?;
    let slow = &l.shared.metrics.slow;
    match sub.as_str() {
        "help" => reply(l, |r| {
            write_help(
                r,
                "SLOWLOG",
                &[
                    "GET [<count>]",
                    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                    "    Entries are made of:",
                    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                    "    client name",
                    "LEN",
                    "    Return the length of the slowlog.",
                    "RESET",
                    "    Reset the slowlog.",
                ],
            )
        }),
        "len" => {
            let n = slow.len();
            reply(l, |r| r.int(n as i64))
        }
        "reset" => {
            slow.reset();
            reply(l, |r| r.ok())
        }
        _ => {
            if args.len() > 3 {
                return Err(subcommand_syntax_error(args));
            }
            let count = match args.get(2) {
                None => 10,
                Some(a) => match range_i64(
                    a,
                    -1,
                    i64::MAX,
                    Some("ERR count should be greater than or equal to -1"),
                )
                .map_err(|e| e.text().to_string())?
                {
                    -1 => usize::MAX,
                    n => usize::try_from(n).unwrap_or(usize::MAX),
                },
            };
            // Entries a shard logged name their client by token: match
            // them to the clients still connected.
            if slow.has_pending() {
                let clients = l.shared.clients.lock().unwrap_or_else(|e| e.into_inner());
                slow.resolve(|io, conn| {
                    clients
                        .values()
                        .find(|c| c.io == io && c.token == conn)
                        .map(|c| (c.addr.clone(), c.name.clone()))
                });
            }
            let entries = slow.get(count);
            reply(l, |r| {
                r.array(entries.len());
                for e in &entries {
                    r.array(6);
                    r.int(e.id as i64);
                    r.int(e.time as i64);
                    r.int(e.duration_us as i64);
                    r.array(e.args.len());
                    for a in &e.args {
                        r.bulk(a);
                    }
                    let (addr, name) = match &e.who {
                        Who::Known { addr, name } => (addr.as_str(), name.as_str()),
                        // The client left before anyone looked.
                        Who::Pending { .. } => ("", ""),
                    };
                    r.bulk(addr.as_bytes());
                    r.bulk(name.as_bytes());
                }
            })
        }
    }
}

/// LATENCY LATEST | HISTORY event | RESET [event ...] | DOCTOR | GRAPH
/// event | HISTOGRAM [command ...] | HELP.
///
/// Events: `command` and `fast-command` (a command that ran at least
/// `latency-monitor-threshold` ms), `expire-cycle` (a background expiry
/// step that did). HISTOGRAM answers from the sampled per-command
/// histograms (one request in `latency-sample-every`), so its `calls`
/// counts timed samples, not every call. GRAPH errors with `ERR No samples
/// available for event '<event>'` for an event never seen.
pub(super) fn latency(l: &mut Local, args: &[&[u8]]) -> Res {
    let sub = subcommand(
        args,
        &[
            ("latest", 2),
            ("history", 3),
            ("reset", -2),
            ("doctor", 2),
            ("graph", 3),
            ("histogram", -2),
            ("help", 2),
        ],
    )
    .map_err(|e| e.text().to_string())?;
    let slow = l.shared.metrics.slow.clone();
    match sub.as_str() {
        "help" => reply(l, |r| {
            write_help(
                r,
                "LATENCY",
                &[
                    "DOCTOR",
                    "    Return a human readable latency analysis report.",
                    "GRAPH <event>",
                    "    Return an ASCII latency graph for the <event> class.",
                    "HISTORY <event>",
                    "    Return time-latency samples for the <event> class.",
                    "LATEST",
                    "    Return the latest latency samples for all events.",
                    "RESET [<event> ...]",
                    "    Reset latency data of one or more <event> classes.",
                    "    (default: reset all data for all event classes)",
                    "HISTOGRAM [COMMAND ...]",
                    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                    "    If no commands are specified then all histograms are replied.",
                ],
            )
        }),
        "latest" => {
            let events = slow.events();
            reply(l, |r| {
                r.array(events.len());
                for (name, s) in &events {
                    let (t, ms) = s.latest();
                    r.array(4);
                    r.bulk(name.as_bytes());
                    r.int(t as i64);
                    r.int(ms as i64);
                    r.int(s.max as i64);
                }
            })
        }
        "history" => {
            let events = slow.events();
            let samples: Vec<(u64, u64)> = find(&events, args[2])
                .map(|s| s.in_order().collect())
                .unwrap_or_default();
            reply(l, |r| {
                r.array(samples.len());
                for (t, ms) in &samples {
                    r.array(2);
                    r.int(*t as i64);
                    r.int(*ms as i64);
                }
            })
        }
        "reset" => {
            let n = if args.len() == 2 {
                slow.reset_events(None)
            } else {
                slow.reset_events(Some(&args[2..]))
            };
            reply(l, |r| r.int(n as i64))
        }
        "doctor" => {
            let text = doctor(l, &slow.events());
            reply(l, |r| r.verbatim(text.as_bytes()))
        }
        "graph" => {
            let events = slow.events();
            let Some((name, s)) = events
                .iter()
                .find(|(e, _)| e.as_bytes().eq_ignore_ascii_case(args[2]))
            else {
                return Err(format!(
                    "ERR No samples available for event '{}'",
                    String::from_utf8_lossy(args[2])
                ));
            };
            let text = graph(name, s);
            reply(l, |r| r.verbatim(text.as_bytes()))
        }
        _ => histogram(l, args),
    }
}

fn find<'a>(events: &'a [(&'static str, Series)], name: &[u8]) -> Option<&'a Series> {
    events
        .iter()
        .find(|(e, _)| e.as_bytes().eq_ignore_ascii_case(name))
        .map(|(_, s)| s)
}

/// LATENCY HISTOGRAM: per command, `calls` and `histogram_usec`, a map of
/// bucket upper bounds (µs, doubling from 1) to cumulative counts, empty
/// buckets left out (Redis's `fillCommandCDF`). Unknown names are skipped.
fn histogram(l: &mut Local, args: &[&[u8]]) -> Res {
    let (_, merged) = l.shared.metrics.snapshot();
    let mut hists: Vec<(&'static str, &hdrhistogram::Histogram<u64>)> = merged
        .commands
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(k, h)| (*k, h))
        .collect();
    hists.sort_by_key(|(k, _)| *k);
    if args.len() > 2 {
        hists.retain(|(k, _)| {
            args[2..]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(k.as_bytes()))
        });
    }
    reply(l, |r| {
        r.map(hists.len());
        for (name, h) in &hists {
            r.bulk(name.as_bytes());
            r.map(2);
            r.bulk(b"calls");
            r.int(h.len() as i64);
            r.bulk(b"histogram_usec");
            let mut buckets = Vec::new();
            let mut cumulative = 0u64;
            for v in h.iter_log(1024, 2.0) {
                let before = cumulative;
                cumulative += v.count_since_last_iteration();
                if cumulative > before {
                    let top = h.highest_equivalent(v.value_iterated_to());
                    buckets.push((top / 1000, cumulative));
                }
            }
            r.map(buckets.len());
            for (us, n) in buckets {
                r.int(us as i64);
                r.int(n as i64);
            }
        }
    })
}

/// Each event's statistics (Redis's `analyzeLatencyForEvent`): samples,
/// average and mean absolute deviation (ms), and seconds since the oldest.
fn analyze(s: &Series, now: u64) -> (usize, u64, u64, u64) {
    let v: Vec<(u64, u64)> = s.in_order().collect();
    if v.is_empty() {
        return (0, 0, 0, 0);
    }
    let avg = v.iter().map(|x| x.1).sum::<u64>() / v.len() as u64;
    let mad = v.iter().map(|x| x.1.abs_diff(avg)).sum::<u64>() / v.len() as u64;
    let oldest = v.iter().map(|x| x.0).min().unwrap_or(now);
    (v.len(), avg, mad, now.saturating_sub(oldest).max(1))
}

/// LATENCY DOCTOR: what the monitor saw, event by event, and what to look
/// at next.
fn doctor(l: &Local, events: &[(&'static str, Series)]) -> String {
    let c = l.shared.config();
    let mut s = String::new();
    if events.is_empty() {
        if c.latency_monitor_threshold == 0 {
            s.push_str("Latency monitoring is off in this tandem instance. Turn it on with \"CONFIG SET latency-monitor-threshold <milliseconds>\".\n");
        } else {
            s.push_str(
                "No latency spike was observed since the latency monitor was turned on or reset.\n",
            );
        }
        return s;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    s.push_str("Latency spikes were observed in this tandem instance:\n\n");
    let mut commands = false;
    for (i, (name, ts)) in events.iter().enumerate() {
        let (n, avg, mad, period) = analyze(ts, now);
        let _ = writeln!(
            s,
            "{}. {name}: {n} latency spikes (average {avg}ms, mean deviation {mad}ms, period {:.2} sec). Worst all time event {}ms.",
            i + 1,
            period as f64 / n.max(1) as f64,
            ts.max
        );
        commands |= name.ends_with("command");
    }
    s.push_str("\nAdvice:\n\n");
    if commands {
        if c.slowlog_log_slower_than < 0 {
            let _ = writeln!(
                s,
                "- Commands were slow but the slow log is off: turn it on with 'CONFIG SET slowlog-log-slower-than {}' to see which.",
                c.latency_monitor_threshold * 1000
            );
        } else if c.slowlog_log_slower_than as u64 / 1000 > c.latency_monitor_threshold {
            let _ = writeln!(
                s,
                "- The slow log logs fewer commands than the latency monitor counts: 'CONFIG SET slowlog-log-slower-than {}' logs them all.",
                c.latency_monitor_threshold * 1000
            );
        }
        s.push_str("- SLOWLOG GET shows the slow commands and their arguments. Commands over large collections (KEYS, SMEMBERS, LRANGE 0 -1, DEL of a large key) take time in proportion to their size.\n");
        s.push_str("- On a shard shared with an IO thread or other processes, the scheduler's delays count too: pin tandem's threads to idle cores ('cpus', 'pin').\n");
    }
    if events.iter().any(|(e, _)| *e == "expire-cycle") {
        s.push_str("- Background expiry took long: many keys expiring at once, or large ones. Spread their TTLs, or split large collections.\n");
    }
    s
}

/// Width of a LATENCY GRAPH, in samples.
const GRAPH_COLS: usize = 80;
/// Height of a LATENCY GRAPH's bars, in rows.
const GRAPH_ROWS: u64 = 4;

/// LATENCY GRAPH: a header with the high, low and all-time high, then one
/// bar per sample (the latest [`GRAPH_COLS`]), scaled between the low and
/// the high, and under each the sample's age (`12s`, `3m`, `5h`, `2d`)
/// written downwards.
fn graph(name: &str, s: &Series) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let all: Vec<(u64, u64)> = s.in_order().collect();
    let v = &all[all.len().saturating_sub(GRAPH_COLS)..];
    let hi = v.iter().map(|x| x.1).max().unwrap_or(0);
    let lo = v.iter().map(|x| x.1).min().unwrap_or(0);
    let mut out = format!(
        "{name} - high {hi} ms, low {lo} ms (all time high {} ms)\n{}\n",
        s.max,
        "-".repeat(GRAPH_COLS)
    );
    let height = |ms: u64| {
        if hi == lo {
            GRAPH_ROWS
        } else {
            1 + (ms - lo) * (GRAPH_ROWS - 1) / (hi - lo)
        }
    };
    for row in (1..=GRAPH_ROWS).rev() {
        let line: String = v
            .iter()
            .map(|x| if height(x.1) >= row { '#' } else { ' ' })
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let labels: Vec<Vec<char>> = v
        .iter()
        .map(|x| {
            let age = now.saturating_sub(x.0);
            match age {
                0..60 => format!("{age}s"),
                60..3600 => format!("{}m", age / 60),
                3600..86400 => format!("{}h", age / 3600),
                _ => format!("{}d", age / 86400),
            }
            .chars()
            .collect()
        })
        .collect();
    let depth = labels.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..depth {
        let line: String = labels
            .iter()
            .map(|l| l.get(i).copied().unwrap_or(' '))
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_scales_bars_between_low_and_high() {
        let mut s = Series {
            samples: [(0, 0); crate::slowlog::LATENCY_SAMPLES],
            idx: 0,
            max: 40,
        };
        s.samples[0] = (1, 10);
        s.samples[1] = (2, 40);
        s.idx = 2;
        let g = graph("command", &s);
        let lines: Vec<&str> = g.lines().collect();
        assert_eq!(
            lines[0],
            "command - high 40 ms, low 10 ms (all time high 40 ms)"
        );
        // The high sample fills every row; the low one only the bottom.
        assert_eq!(&lines[2..6], &[" #", " #", " #", "##"]);
    }
}
