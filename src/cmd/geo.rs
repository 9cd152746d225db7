//! Geospatial indexes on sorted sets
//! (<https://redis.io/docs/latest/commands/?group=geo>): GEOADD GEODIST
//! GEOHASH GEOPOS GEORADIUS GEORADIUSBYMEMBER (and their `_RO` forms)
//! GEOSEARCH GEOSEARCHSTORE, with Redis 7.0's replies and errors
//! (`r:src/geo.c`, `geohash.c`, `geohash_helper.c`).
//!
//! A point is a sorted set member whose score is its 52-bit geohash: the
//! longitude and latitude (within ±180° and ±85.05112878°, Web Mercator's
//! range) quantized to 26 bits each and interleaved. A search estimates
//! a geohash precision from the radius, then scans the score ranges of the
//! centre box and its eight neighbours (in Redis's order, so unsorted
//! results come out in the same order) and keeps the points within the
//! circle (haversine distance) or box. Units: m, km, ft, mi; distances in
//! replies have four decimals, coordinates Redis's 17 digits.
//!
//! Runs on the shard of the source key; a STORE destination on another
//! shard gets the result by a hop (the transaction layer holds both keys).

use bytes::Bytes;

use super::cfloat::{LongDouble, string2d};
use super::zset::{Build, store_result};
use super::{CmdError, CmdResult, Ctx, Handler, Shard, typed};
use crate::resp::Reply;
use crate::spec::key_hash;
use crate::store::Str;
use crate::store::zset::ZSet;

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("geoadd", geoadd),
    ("geodist", geodist),
    ("geohash", geohash),
    ("geopos", geopos),
    ("georadius", georadius),
    ("georadius_ro", georadius),
    ("georadiusbymember", georadius),
    ("georadiusbymember_ro", georadius),
    ("geosearch", georadius),
    ("geosearchstore", georadius),
];

const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;
const LAT_MIN: f64 = -85.05112878;
const LAT_MAX: f64 = 85.05112878;
/// Bits per coordinate (26 * 2 = 52).
const STEP_MAX: u32 = 26;
/// Earth's quadratic mean radius for WGS-84, metres.
const EARTH_RADIUS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

const UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";

#[derive(Clone, Copy, Default)]
struct Range {
    min: f64,
    max: f64,
}

const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// A geohash of `step` bits per coordinate; all zero means "no box".
#[derive(Clone, Copy, Default, PartialEq)]
struct Hash {
    bits: u64,
    step: u32,
}

impl Hash {
    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Clone, Copy, Default)]
struct Area {
    lon: Range,
    lat: Range,
}

/// Spreads the bits of `lat` to the even positions and `lon` to the odd.
fn interleave(lat: u32, lon: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut x = v as u64;
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        (x | (x << 1)) & 0x5555_5555_5555_5555
    }
    spread(lat) | (spread(lon) << 1)
}

/// The even bits of `v` in the low 32 bits and the odd ones in the high.
fn deinterleave(v: u64) -> u64 {
    fn gather(mut x: u64) -> u64 {
        x &= 0x5555_5555_5555_5555;
        x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
        x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
        (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    gather(v) | (gather(v >> 1) << 32)
}

/// Redis's `geohashEncode`: None outside the ranges or the WGS-84 limits.
fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u32) -> Option<Hash> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    // C converts the doubles to uint32_t arguments.
    Some(Hash {
        bits: interleave(lat_off as u32, lon_off as u32),
        step,
    })
}

/// Redis's `geohashDecode` over the WGS-84 ranges.
fn decode(hash: Hash) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave(hash.bits);
    let lat_scale = LAT_MAX - LAT_MIN;
    let lon_scale = LONG_MAX - LONG_MIN;
    let ilat = sep as u32;
    let ilon = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Some(Area {
        lat: Range {
            min: LAT_MIN + (ilat as f64 / div) * lat_scale,
            max: LAT_MIN + ((ilat as f64 + 1.0) / div) * lat_scale,
        },
        lon: Range {
            min: LONG_MIN + (ilon as f64 / div) * lon_scale,
            max: LONG_MIN + ((ilon as f64 + 1.0) / div) * lon_scale,
        },
    })
}

/// The longitude and latitude a score stands for (its box's centre).
fn decode_score(score: f64) -> Option<[f64; 2]> {
    let a = decode(Hash {
        bits: score as u64,
        step: STEP_MAX,
    })?;
    let lon = ((a.lon.min + a.lon.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some([lon, lat])
}

/// The 52-bit score of a hash (its bits shifted to the top of 52).
fn align52(h: Hash) -> u64 {
    h.bits << (52 - h.step * 2)
}

/// Moves `h` one box east/west (`x`, the odd bits: longitude) or
/// north/south (the even bits: latitude) by `d` (Redis's
/// `geohash_move_x` / `geohash_move_y`): the chosen coordinate's bits are
/// incremented or decremented through the other's, which stay as they are.
fn shift(h: &mut Hash, d: i8, x: bool) {
    // A zero step is no box (never made from a valid centre).
    if d == 0 || h.step == 0 || h.step > 32 {
        return;
    }
    const ODD: u64 = 0xaaaa_aaaa_aaaa_aaaa;
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let (mine, other) = if x { (ODD, EVEN) } else { (EVEN, ODD) };
    let mut v = h.bits & mine;
    let keep = h.bits & other;
    let zz = other >> (64 - h.step * 2);
    if d > 0 {
        v = v.wrapping_add(zz + 1);
    } else {
        v |= zz;
        v = v.wrapping_sub(zz + 1);
    }
    v &= mine >> (64 - h.step * 2);
    h.bits = v | keep;
}

/// The eight neighbours in Redis's search order: north, south, east,
/// west, north-east, north-west, south-east, south-west.
fn neighbours(h: Hash) -> [Hash; 8] {
    let at = |dx: i8, dy: i8| {
        let mut n = h;
        shift(&mut n, dx, true);
        shift(&mut n, dy, false);
        n
    };
    [
        at(0, 1),
        at(0, -1),
        at(1, 0),
        at(-1, 0),
        at(1, 1),
        at(-1, 1),
        at(1, -1),
        at(-1, -1),
    ]
}

#[derive(Clone, Copy)]
enum Shape {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// A search: its centre, shape (in the given unit) and the unit in metres.
#[derive(Clone, Copy)]
struct Search {
    xy: [f64; 2],
    shape: Shape,
    conversion: f64,
}

fn estimate_steps(mut range_m: f64, lat: f64) -> u32 {
    if range_m == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    // Doubles until past the Mercator width: bounded by f64's exponent.
    while range_m < MERCATOR_MAX && step < 2000 {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u32
}

/// [min lon, min lat, max lon, max lat] around the search.
fn bounding_box(s: &Search) -> [f64; 4] {
    let [lon, lat] = s.xy;
    let (height, width) = match s.shape {
        Shape::Circle { radius } => (s.conversion * radius, s.conversion * radius),
        Shape::Box { width, height } => (s.conversion * height / 2.0, s.conversion * width / 2.0),
    };
    let lat_delta = height / EARTH_RADIUS / D_R;
    let long_delta_top = width / EARTH_RADIUS / ((lat + lat_delta) * D_R).cos() / D_R;
    let long_delta_bottom = width / EARTH_RADIUS / ((lat - lat_delta) * D_R).cos() / D_R;
    let south = lat < 0.0;
    [
        if south {
            lon - long_delta_bottom
        } else {
            lon - long_delta_top
        },
        lat - lat_delta,
        if south {
            lon + long_delta_bottom
        } else {
            lon + long_delta_top
        },
        lat + lat_delta,
    ]
}

/// The boxes to scan, centre first (Redis's
/// `geohashCalculateAreasByShapeWGS84`); zero hashes are skipped.
fn boxes(s: &Search) -> [Hash; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(s);
    let [lon, lat] = s.xy;
    let radius_m = s.conversion
        * match s.shape {
            Shape::Circle { radius } => radius,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
    let mut steps = estimate_steps(radius_m, lat);
    let mut hash = encode(WGS84_LONG, WGS84_LAT, lon, lat, steps).unwrap_or_default();
    let mut n = neighbours(hash);
    let mut area = decode(hash).unwrap_or_default();
    let edge = |h: Hash| decode(h).unwrap_or_default();
    let decrease = edge(n[0]).lat.max < max_lat
        || edge(n[1]).lat.min > min_lat
        || edge(n[2]).lon.max < max_lon
        || edge(n[3]).lon.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        hash = encode(WGS84_LONG, WGS84_LAT, lon, lat, steps).unwrap_or_default();
        n = neighbours(hash);
        area = decode(hash).unwrap_or_default();
    }
    if steps >= 2 {
        let zero = Hash::default();
        if area.lat.min < min_lat {
            n[1] = zero; // south
            n[7] = zero; // south-west
            n[6] = zero; // south-east
        }
        if area.lat.max > max_lat {
            n[0] = zero; // north
            n[4] = zero; // north-east
            n[5] = zero; // north-west
        }
        if area.lon.min < min_lon {
            n[3] = zero; // west
            n[7] = zero;
            n[5] = zero;
        }
        if area.lon.max > max_lon {
            n[2] = zero; // east
            n[6] = zero;
            n[4] = zero;
        }
    }
    [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
}

fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS * ((lat2 * D_R) - (lat1 * D_R)).abs()
}

/// Haversine distance in metres (Redis's `geohashGetDistance`).
fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (lon1r, lon2r) = (lon1 * D_R, lon2 * D_R);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (lat1 * D_R, lat2 * D_R);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// The point at `xy` with its distance from the centre, if inside.
fn within(s: &Search, xy: [f64; 2]) -> Option<f64> {
    let [cx, cy] = s.xy;
    match s.shape {
        Shape::Circle { radius } => {
            let d = distance(cx, cy, xy[0], xy[1]);
            (d <= radius * s.conversion).then_some(d)
        }
        Shape::Box { width, height } => {
            let (w, h) = (width * s.conversion, height * s.conversion);
            if lat_distance(cy, xy[1]) > h / 2.0 {
                return None;
            }
            // East-west extent measured along the point's own parallel.
            if distance(xy[0], xy[1], cx, xy[1]) > w / 2.0 {
                return None;
            }
            Some(distance(cx, cy, xy[0], xy[1]))
        }
    }
}

/// A point found by a search.
struct Point {
    member: Str,
    score: f64,
    dist: f64,
    xy: [f64; 2],
}

/// The members inside the search, box by box (`limit` > 0: stop after
/// that many, for ANY).
fn search(z: &ZSet, s: &Search, limit: usize) -> Vec<Point> {
    let boxes = boxes(s);
    let mut found = Vec::new();
    let mut last = 0;
    for (i, &b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        // Near a huge radius neighbours repeat: skip a box just scanned.
        if last != 0 && b == boxes[last] {
            continue;
        }
        if limit > 0 && found.len() >= limit {
            break;
        }
        let min = align52(b) as f64;
        let max = align52(Hash {
            bits: b.bits + 1,
            step: b.step,
        }) as f64;
        let start = z.count_below(|sc, _| sc < min);
        let end = z.count_below(|sc, _| sc < max);
        let mut full = false;
        z.walk(start, end, false, |m, sc| {
            if full {
                return;
            }
            if let Some(xy) = decode_score(sc) {
                if let Some(dist) = within(s, xy) {
                    found.push(Point {
                        member: Str::copy_from(m),
                        score: sc,
                        dist,
                        xy,
                    });
                }
            }
            full = limit > 0 && found.len() >= limit;
        });
        last = i;
    }
    found
}

/// A unit's length in metres. Error: `unsupported unit provided...`.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    match arg.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err(CmdError::Msg(UNIT)),
    }
}

/// A float argument, with `msg` as the error (Redis's
/// `getDoubleFromObjectOrReply`).
fn float(arg: &[u8], msg: &'static str) -> Result<f64, CmdError> {
    string2d(arg).ok_or(CmdError::Msg(msg))
}

/// A longitude and latitude pair. Errors: not a valid float, `invalid
/// longitude,latitude pair <lon>,<lat>` (six decimals each).
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let x = float(lon, crate::resp::errors::NOT_FLOAT)?;
    let y = float(lat, crate::resp::errors::NOT_FLOAT)?;
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        return Err(CmdError::Owned(format!(
            "ERR invalid longitude,latitude pair {x:.6},{y:.6}"
        )));
    }
    Ok([x, y])
}

/// A distance and its unit. Errors: `need numeric radius`, `radius cannot
/// be negative`, the unit's.
fn radius(n: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = float(n, "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(CmdError::Msg("ERR radius cannot be negative"));
    }
    Ok((r, unit(u)?))
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with
/// each point's geohash as its score; ZADD's reply. Errors: syntax error
/// (NX with XX, a missing part of a triple), not a valid float, `invalid
/// longitude,latitude pair`, WRONGTYPE.
fn geoadd(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (mut nx, mut xx, mut at) = (false, false, 2);
    while at < args.len() {
        let a = &args[at];
        if a.eq_ignore_ascii_case(b"nx") {
            nx = true;
        } else if a.eq_ignore_ascii_case(b"xx") {
            xx = true;
        } else if !a.eq_ignore_ascii_case(b"ch") {
            break;
        }
        at += 1;
    }
    if (args.len() - at) % 3 != 0 || (nx && xx) {
        return Err(CmdError::Syntax);
    }
    let mut zargs: Vec<Bytes> = Vec::with_capacity(at + (args.len() - at) / 3 * 2);
    zargs.push(Bytes::from_static(b"zadd"));
    zargs.extend(args[1..at].iter().cloned());
    for t in args[at..].chunks_exact(3) {
        let [lon, lat] = lon_lat(&t[0], &t[1])?;
        let h = encode(WGS84_LONG, WGS84_LAT, lon, lat, STEP_MAX).unwrap_or_default();
        zargs.push(Bytes::from(align52(h).to_string()));
        zargs.push(t[2].clone());
    }
    let mut sub = Ctx {
        sh: &mut *ctx.sh,
        args: &zargs,
        db: ctx.db,
        hash: ctx.hash,
        first_key: 1,
        out: &mut *ctx.out,
        reply_to: ctx.reply_to,
        deferred: false,
        claim: ctx.claim,
        no_wait: ctx.no_wait,
        client_flags: ctx.client_flags,
        caller: ctx.caller,
    };
    super::zset::zadd(&mut sub)
}

/// Writes a distance as Redis's `addReplyDoubleDistance`: a bulk string
/// with four decimals (the value times 10^4 rounded to even, as `llrint`).
fn write_distance(out: &mut Reply, d: f64) {
    let v = (d * 10_000.0).round_ties_even() as i64;
    let (neg, v) = (v < 0, v.unsigned_abs());
    let s = format!(
        "{}{}.{:04}",
        if neg { "-" } else { "" },
        v / 10_000,
        v % 10_000
    );
    out.bulk(s.as_bytes());
}

/// Writes a coordinate as Redis's `addReplyHumanLongDouble`: the long
/// double's `%.17Lf` without trailing zeros, a bulk string in RESP2 and a
/// double in RESP3.
fn write_coord(out: &mut Reply, d: f64) {
    let s = LongDouble::from_f64(d).human();
    if out.resp3 {
        out.raw(format!(",{s}\r\n").as_bytes());
    } else {
        out.bulk(s.as_bytes());
    }
}

/// GEODIST key member1 member2 [M|KM|FT|MI]: the distance, nil when the
/// key or a member is missing. Errors: syntax error (more arguments, before
/// the key is read), the unit's, WRONGTYPE.
fn geodist(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let to_m = match args.len() {
        4 => 1.0,
        5 => unit(&args[4])?,
        _ => return Err(CmdError::Syntax),
    };
    let (h, now) = (ctx.key_hash(1), ctx.now());
    let Some(z) = typed::<ZSet>(&mut ctx.sh.dbs[ctx.db], h, &args[1], now)? else {
        ctx.out.null();
        return Ok(());
    };
    let points = (z.score(&args[2]), z.score(&args[3]));
    match points {
        (Some(a), Some(b)) => match (decode_score(a), decode_score(b)) {
            (Some(p), Some(q)) => write_distance(ctx.out, distance(p[0], p[1], q[0], q[1]) / to_m),
            _ => ctx.out.null(),
        },
        _ => ctx.out.null(),
    }
    Ok(())
}

/// GEOHASH key [member ...]: each member's standard 11-character geohash
/// (re-encoded over latitude ±90), nil for a missing one. Error: WRONGTYPE.
fn geohash(ctx: &mut Ctx) -> CmdResult {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let args = ctx.args;
    let (h, now) = (ctx.key_hash(1), ctx.now());
    let z = typed::<ZSet>(&mut ctx.sh.dbs[ctx.db], h, &args[1], now)?;
    let out = &mut *ctx.out;
    out.array(args.len() - 2);
    for m in &args[2..] {
        let xy = z.as_ref().and_then(|z| z.score(m)).and_then(decode_score);
        let Some([lon, lat]) = xy else {
            out.null();
            continue;
        };
        let full = Range {
            min: -90.0,
            max: 90.0,
        };
        let bits = encode(WGS84_LONG, full, lon, lat, STEP_MAX)
            .unwrap_or_default()
            .bits;
        let mut s = [b'0'; 11];
        for (i, c) in s.iter_mut().enumerate().take(10) {
            *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
        }
        out.bulk(&s);
    }
    Ok(())
}

/// GEOPOS key [member ...]: each member's `[longitude, latitude]`, a nil
/// array for a missing one. Error: WRONGTYPE.
fn geopos(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (h, now) = (ctx.key_hash(1), ctx.now());
    let z = typed::<ZSet>(&mut ctx.sh.dbs[ctx.db], h, &args[1], now)?;
    let out = &mut *ctx.out;
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.as_ref().and_then(|z| z.score(m)).and_then(decode_score) {
            Some([lon, lat]) => {
                out.array(2);
                write_coord(out, lon);
                write_coord(out, lat);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}

/// Which search command runs.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// GEORADIUS[_RO] key longitude latitude radius unit ...
    Coords,
    /// GEORADIUSBYMEMBER[_RO] key member radius unit ...
    Member,
    /// GEOSEARCH key FROM... BY... ...
    Search,
    /// GEOSEARCHSTORE destination source FROM... BY... ...
    SearchStore,
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A search command's options.
struct Options {
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    any: bool,
    count: usize,
    store: Option<Bytes>,
    store_dist: bool,
}

/// GEORADIUS, GEORADIUSBYMEMBER (and `_RO`), GEOSEARCH, GEOSEARCHSTORE:
/// the members within a radius or box of a point or member; an array of
/// names, or of `[name, dist?, hash?, [lon, lat]?]` with WITH options, or
/// with STORE/STOREDIST (GEOSEARCHSTORE) the number stored in the
/// destination (a sorted set of geohashes or distances; deleted when
/// nothing matched). COUNT without ASC/DESC sorts ascending unless ANY.
/// Errors, in Redis's order: WRONGTYPE, the centre's and shape's errors,
/// `could not decode requested zset member`, syntax error, `COUNT must be
/// > 0`, `... is not compatible with WITHDIST, WITHHASH and WITHCOORD
/// options`, `exactly one of FROMMEMBER or FROMLONLAT ...`, `exactly one
/// of BYRADIUS and BYBOX ...`, `the ANY argument requires COUNT argument`.
fn georadius(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let name = args[0].to_ascii_lowercase();
    let (form, no_store) = match &name[..] {
        b"georadius" => (Form::Coords, false),
        b"georadius_ro" => (Form::Coords, true),
        b"georadiusbymember" => (Form::Member, false),
        b"georadiusbymember_ro" => (Form::Member, true),
        b"geosearch" => (Form::Search, true),
        _ => (Form::SearchStore, true),
    };
    let src = if form == Form::SearchStore { 2 } else { 1 };
    let source_shard = ctx.sh.shard_of(&args[src]);
    if source_shard == ctx.sh.id {
        let found = run_search(ctx.sh, ctx.db, args, form, no_store)?;
        return finish(ctx, found);
    }
    // GEOSEARCHSTORE runs at its destination's shard: search where the
    // source lives, then store back here.
    let owned: Vec<Bytes> = args.to_vec();
    let (db, to) = (ctx.db, ctx.reply_to);
    ctx.deferred = true;
    ctx.sh.hop(source_shard, move |sh| {
        match run_search(sh, db, &owned, form, no_store) {
            Ok(Found::Store { dst, items, event }) => {
                store_result(sh, to, db, dst, items, Build::SkipThenConvert, event)
            }
            // GEOSEARCHSTORE always stores; answer rather than leave the
            // client waiting if that ever changes.
            Ok(Found::Reply(_)) => {
                sh.reply_later(to, |r| r.error("ERR tandem: search without a destination"))
            }
            Err(e) => sh.reply_later(to, |r| r.error(e.text())),
        }
    });
    Ok(())
}

/// What a search produced: a reply (no STORE), or what to store.
enum Found {
    Reply(Box<dyn FnOnce(&mut Reply) + Send>),
    Store {
        dst: Bytes,
        items: Vec<(Str, f64)>,
        event: &'static str,
    },
}

/// Answers a search run on this shard: its reply, or the store (on the
/// destination's shard, by a hop).
fn finish(ctx: &mut Ctx, found: Found) -> CmdResult {
    match found {
        Found::Reply(write) => write(ctx.out),
        Found::Store { dst, items, event } => {
            ctx.deferred = true;
            store_result(
                ctx.sh,
                ctx.reply_to,
                ctx.db,
                dst,
                items,
                Build::SkipThenConvert,
                event,
            );
        }
    }
    Ok(())
}

/// Parses and runs a search on the shard that holds its source key.
fn run_search(
    sh: &mut Shard,
    db: usize,
    args: &[Bytes],
    form: Form,
    no_store: bool,
) -> Result<Found, CmdError> {
    let src = if form == Form::SearchStore { 2 } else { 1 };
    let now = sh.now_ms;
    let z = typed::<ZSet>(&mut sh.dbs[db], key_hash(&args[src]), &args[src], now)?;
    let z: Option<&ZSet> = z.map(|z| &*z);
    let member_xy = |m: &[u8]| -> Result<[f64; 2], CmdError> {
        z.and_then(|z| z.score(m))
            .and_then(decode_score)
            .ok_or(CmdError::Msg("ERR could not decode requested zset member"))
    };
    let mut centre: Option<[f64; 2]> = None;
    let mut shape: Option<(Shape, f64)> = None;
    let base = match form {
        Form::Coords => {
            centre = Some(lon_lat(&args[2], &args[3])?);
            let (r, c) = radius(&args[4], &args[5])?;
            shape = Some((Shape::Circle { radius: r }, c));
            6
        }
        Form::Member if z.is_none() => 5,
        Form::Member => {
            centre = Some(member_xy(&args[2])?);
            let (r, c) = radius(&args[3], &args[4])?;
            shape = Some((Shape::Circle { radius: r }, c));
            5
        }
        Form::Search => 2,
        Form::SearchStore => 3,
    };
    let search_form = matches!(form, Form::Search | Form::SearchStore);
    let mut o = Options {
        with_dist: false,
        with_hash: false,
        with_coord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        store: (form == Form::SearchStore).then(|| args[1].clone()),
        store_dist: false,
    };
    let (mut from_member, mut from_loc, mut by_radius, mut by_box) = (false, false, false, false);
    let rest = args.get(base..).unwrap_or_default();
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i].to_ascii_lowercase();
        let left = rest.len() - i - 1;
        match &a[..] {
            b"withdist" => o.with_dist = true,
            b"withhash" => o.with_hash = true,
            b"withcoord" => o.with_coord = true,
            b"any" => o.any = true,
            b"asc" => o.sort = Sort::Asc,
            b"desc" => o.sort = Sort::Desc,
            b"count" if left >= 1 => {
                let n = crate::resp::parse::parse_i64(&rest[i + 1]).ok_or(CmdError::NotInteger)?;
                if n <= 0 {
                    return Err(CmdError::Msg("ERR COUNT must be > 0"));
                }
                o.count = n as usize;
                i += 1;
            }
            b"store" | b"storedist" if left >= 1 && !no_store && !search_form => {
                o.store = Some(rest[i + 1].clone());
                o.store_dist = &a[..] == b"storedist";
                i += 1;
            }
            b"storedist" if form == Form::SearchStore => o.store_dist = true,
            b"frommember" if left >= 1 && search_form && !from_loc => {
                if z.is_some() {
                    centre = Some(member_xy(&rest[i + 1])?);
                }
                from_member = true;
                i += 1;
            }
            b"fromlonlat" if left >= 2 && search_form && !from_member => {
                centre = Some(lon_lat(&rest[i + 1], &rest[i + 2])?);
                from_loc = true;
                i += 2;
            }
            b"byradius" if left >= 2 && search_form && !by_box => {
                let (r, c) = radius(&rest[i + 1], &rest[i + 2])?;
                shape = Some((Shape::Circle { radius: r }, c));
                by_radius = true;
                i += 2;
            }
            b"bybox" if left >= 3 && search_form && !by_radius => {
                let w = float(&rest[i + 1], "ERR need numeric width")?;
                let h = float(&rest[i + 2], "ERR need numeric height")?;
                if w < 0.0 || h < 0.0 {
                    return Err(CmdError::Msg("ERR height or width cannot be negative"));
                }
                let c = unit(&rest[i + 3])?;
                shape = Some((
                    Shape::Box {
                        width: w,
                        height: h,
                    },
                    c,
                ));
                by_box = true;
                i += 3;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if o.store.is_some() && (o.with_dist || o.with_hash || o.with_coord) {
        return Err(CmdError::Owned(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if form == Form::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    let typed_name = String::from_utf8_lossy(&args[0]);
    if search_form && !(from_member || from_loc) {
        return Err(CmdError::Owned(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {typed_name}"
        )));
    }
    if search_form && !(by_radius || by_box) {
        return Err(CmdError::Owned(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {typed_name}"
        )));
    }
    if o.any && o.count == 0 {
        return Err(CmdError::Msg(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    let event = if search_form {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    let (Some(z), Some(xy), Some((shape, conversion))) = (z, centre, shape) else {
        // No source key: an empty result (a STORE deletes its destination).
        return Ok(match o.store {
            Some(dst) => Found::Store {
                dst,
                items: Vec::new(),
                event,
            },
            None => Found::Reply(Box::new(|r: &mut Reply| r.array(0))),
        });
    };
    if o.count != 0 && o.sort == Sort::None && !o.any {
        o.sort = Sort::Asc;
    }
    let s = Search {
        xy,
        shape,
        conversion,
    };
    let mut found = search(z, &s, if o.any { o.count } else { 0 });
    match o.sort {
        Sort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Sort::None => {}
    }
    if o.count != 0 {
        found.truncate(o.count);
    }
    for p in &mut found {
        p.dist /= conversion;
    }
    if let Some(dst) = o.store {
        let items = found
            .into_iter()
            .map(|p| (p.member, if o.store_dist { p.dist } else { p.score }))
            .collect();
        return Ok(Found::Store { dst, items, event });
    }
    Ok(Found::Reply(Box::new(move |r: &mut Reply| {
        let extra = o.with_dist as usize + o.with_hash as usize + o.with_coord as usize;
        r.array(found.len());
        for p in &found {
            if extra > 0 {
                r.array(extra + 1);
            }
            r.bulk(&p.member);
            if o.with_dist {
                write_distance(r, p.dist);
            }
            if o.with_hash {
                r.int(p.score as i64);
            }
            if o.with_coord {
                r.array(2);
                write_coord(r, p.xy[0]);
                write_coord(r, p.xy[1]);
            }
        }
    })))
}
