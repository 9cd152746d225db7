//! The Lua libraries Redis ships to scripts besides its own `redis`:
//! `cjson` (lua-cjson 2.1, as patched in Redis's `deps/lua`), `cmsgpack`
//! (lua-cmsgpack 0.4) and `bit` (LuaBitOp 1.0), written in Rust against
//! the behaviour of those C libraries. `struct` is not provided yet.
//!
//! Every recursion is bounded ([`MAX_NESTING`]) and no size read from
//! input sizes an allocation beyond the input's own length.

use mlua::{LightUserData, Lua, MultiValue, Table, Value, Variadic};

/// Deepest nesting encoded or decoded (lua-cjson's default, 1000).
const MAX_NESTING: usize = 1000;

type R<T> = mlua::Result<T>;

fn err<T>(msg: impl Into<String>) -> R<T> {
    Err(mlua::Error::RuntimeError(msg.into()))
}

/// Registers `cjson`, `cmsgpack` and `bit` as globals of `lua`.
pub fn register(lua: &Lua) -> R<()> {
    let g = lua.globals();
    g.set("cjson", cjson(lua)?)?;
    g.set("cmsgpack", cmsgpack(lua)?)?;
    g.set("bit", bit(lua)?)?;
    Ok(())
}

/// `cjson.null`: a light userdata holding NULL, as lua-cjson's.
fn json_null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn cjson(lua: &Lua) -> R<Table> {
    let t = lua.create_table()?;
    t.set("null", json_null())?;
    t.set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let mut out = Vec::new();
            encode_json(&v, &mut out, 0)?;
            lua.create_string(&out)
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let v: serde_json::Value = match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => return err(format!("Expected value but found invalid token: {e}")),
            };
            decode_json(lua, &v, 0)
        })?,
    )?;
    Ok(t)
}

/// A number as lua-cjson writes it (`%.14g`).
fn fmt_14g(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e14 {
        return format!("{}", n as i64);
    }
    let s = format!("{:.13e}", n);
    let Some((m, e)) = s.split_once('e') else {
        return s;
    };
    let exp: i32 = e.parse().unwrap_or(0);
    if (-4..14).contains(&exp) {
        let f = format!("{:.*}", (13 - exp).max(0) as usize, n);
        if f.contains('.') {
            f.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            f
        }
    } else {
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => {
                out.extend_from_slice(format!("\\u{:04x}", c).as_bytes());
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

fn encode_number(n: f64, out: &mut Vec<u8>) -> R<()> {
    if !n.is_finite() {
        return err("Cannot serialise number: must not be NaN or Inf");
    }
    out.extend_from_slice(fmt_14g(n).as_bytes());
    Ok(())
}

/// The largest key and the number of keys of `t` when every key is a
/// positive integer; None otherwise.
fn positive_int_keys(t: &Table) -> R<Option<(f64, usize)>> {
    let mut max = 0f64;
    let mut count = 0usize;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if n < 1.0 || n.fract() != 0.0 {
            return Ok(None);
        }
        max = max.max(n);
        count += 1;
    }
    Ok(Some((max, count)))
}

/// The array length of `t` if lua-cjson would write it as an array
/// (positive integer keys only, not excessively sparse), else None.
fn json_array_len(t: &Table) -> R<Option<usize>> {
    let Some((max, items)) = positive_int_keys(t)? else {
        return Ok(None);
    };
    // lua-cjson's default sparse ratio (2) and safe size (10).
    if max > 10.0 && max > (items * 2) as f64 {
        return err("Cannot serialise table: excessively sparse array");
    }
    Ok(Some(max as usize))
}

fn encode_json(v: &Value, out: &mut Vec<u8>, depth: usize) -> R<()> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => encode_number(*i as f64, out)?,
        Value::Number(n) => encode_number(*n, out)?,
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(t) => {
            if depth >= MAX_NESTING {
                return err(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                ));
            }
            match json_array_len(t)? {
                Some(n) if n > 0 => {
                    out.push(b'[');
                    for i in 1..=n {
                        if i > 1 {
                            out.push(b',');
                        }
                        encode_json(&t.raw_get::<Value>(i)?, out, depth + 1)?;
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    let mut first = true;
                    for pair in t.pairs::<Value, Value>() {
                        let (k, v) = pair?;
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::String(s) => encode_string(&s.as_bytes(), out),
                            Value::Integer(i) => encode_string(fmt_14g(*i as f64).as_bytes(), out),
                            Value::Number(n) => encode_string(fmt_14g(*n).as_bytes(), out),
                            _ => {
                                return err(
                                    "Cannot serialise table: table key must be a number or string",
                                );
                            }
                        }
                        out.push(b':');
                        encode_json(&v, out, depth + 1)?;
                    }
                    out.push(b'}');
                }
            }
        }
        other => {
            return err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ));
        }
    }
    Ok(())
}

fn decode_json(lua: &Lua, v: &serde_json::Value, depth: usize) -> R<Value> {
    use serde_json::Value as J;
    if depth > MAX_NESTING {
        return err(format!("Found too many nested data structures ({depth})"));
    }
    Ok(match v {
        J::Null => json_null(),
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Value::String(lua.create_string(s)?),
        J::Array(a) => {
            let t = lua.create_table_with_capacity(a.len(), 0)?;
            for (i, e) in a.iter().enumerate() {
                t.raw_set(i + 1, decode_json(lua, e, depth + 1)?)?;
            }
            Value::Table(t)
        }
        J::Object(o) => {
            let t = lua.create_table_with_capacity(0, o.len())?;
            for (k, e) in o {
                t.raw_set(lua.create_string(k)?, decode_json(lua, e, depth + 1)?)?;
            }
            Value::Table(t)
        }
    })
}

// --- cmsgpack ---------------------------------------------------------

fn cmsgpack(lua: &Lua) -> R<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.is_empty() {
                return err("MessagePack pack needs input.");
            }
            let mut out = Vec::new();
            for v in args.iter() {
                pack(v, &mut out, 0)?;
            }
            lua.create_string(&out)
        })?,
    )?;
    t.set(
        "unpack",
        lua.create_function(|lua, s: mlua::String| {
            let b = s.as_bytes();
            let mut at = 0;
            let mut out = Vec::new();
            while at < b.len() {
                out.push(unpack(lua, &b, &mut at, 0)?);
            }
            Ok(MultiValue::from_iter(out))
        })?,
    )?;
    Ok(t)
}

fn pack_len(out: &mut Vec<u8>, n: usize, fix: Option<(u8, usize)>, tags: [u8; 3]) {
    match fix {
        Some((base, max)) if n < max => out.push(base | n as u8),
        _ if tags[0] != 0 && n <= 0xff => {
            out.push(tags[0]);
            out.push(n as u8);
        }
        _ if n <= 0xffff => {
            out.push(tags[1]);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(tags[2]);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn pack_number(n: f64, out: &mut Vec<u8>) {
    if n.fract() == 0.0 && n >= -9.2e18 && n <= 1.8e19 {
        if n >= 0.0 {
            let u = n as u64;
            match u {
                0..=0x7f => out.push(u as u8),
                0x80..=0xff => out.extend_from_slice(&[0xcc, u as u8]),
                0x100..=0xffff => {
                    out.push(0xcd);
                    out.extend_from_slice(&(u as u16).to_be_bytes());
                }
                0x1_0000..=0xffff_ffff => {
                    out.push(0xce);
                    out.extend_from_slice(&(u as u32).to_be_bytes());
                }
                _ => {
                    out.push(0xcf);
                    out.extend_from_slice(&u.to_be_bytes());
                }
            }
        } else {
            let i = n as i64;
            if i >= -32 {
                out.push(i as i8 as u8);
            } else if i >= -128 {
                out.extend_from_slice(&[0xd0, i as i8 as u8]);
            } else if i >= -32768 {
                out.push(0xd1);
                out.extend_from_slice(&(i as i16).to_be_bytes());
            } else if i >= -2147483648 {
                out.push(0xd2);
                out.extend_from_slice(&(i as i32).to_be_bytes());
            } else {
                out.push(0xd3);
                out.extend_from_slice(&i.to_be_bytes());
            }
        }
    } else if (n as f32) as f64 == n || n.is_nan() {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The length of `t` as an array if its keys are exactly 1..n (an empty
/// table is an empty array, as lua-cmsgpack's `table_is_an_array`).
fn msgpack_array_len(t: &Table) -> R<Option<usize>> {
    let Some((max, count)) = positive_int_keys(t)? else {
        return Ok(None);
    };
    Ok((max as usize == count).then_some(count))
}

fn pack(v: &Value, out: &mut Vec<u8>, depth: usize) -> R<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => pack_number(*i as f64, out),
        Value::Number(n) => pack_number(*n, out),
        Value::String(s) => {
            let b = s.as_bytes();
            pack_len(out, b.len(), Some((0xa0, 32)), [0xd9, 0xda, 0xdb]);
            out.extend_from_slice(&b);
        }
        // lua-cmsgpack writes tables nested too deep as nil.
        Value::Table(t) if depth < 16 => match msgpack_array_len(t)? {
            Some(n) => {
                pack_len(out, n, Some((0x90, 16)), [0, 0xdc, 0xdd]);
                for i in 1..=n {
                    pack(&t.raw_get::<Value>(i)?, out, depth + 1)?;
                }
            }
            None => {
                let pairs: Vec<(Value, Value)> = t.pairs().collect::<R<_>>()?;
                pack_len(out, pairs.len(), Some((0x80, 16)), [0, 0xde, 0xdf]);
                for (k, v) in &pairs {
                    pack(k, out, depth + 1)?;
                    pack(v, out, depth + 1)?;
                }
            }
        },
        _ => out.push(0xc0),
    }
    Ok(())
}

fn take<'a>(b: &'a [u8], at: &mut usize, n: usize) -> R<&'a [u8]> {
    match b.get(*at..at.saturating_add(n)) {
        Some(s) => {
            *at += n;
            Ok(s)
        }
        None => err("Missing bytes in input."),
    }
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |a, &c| (a << 8) | c as u64)
}

fn unpack(lua: &Lua, b: &[u8], at: &mut usize, depth: usize) -> R<Value> {
    if depth > MAX_NESTING {
        return err("Found too many nested data structures");
    }
    let tag = take(b, at, 1)?[0];
    let s = |lua: &Lua, at: &mut usize, n: usize| -> R<Value> {
        Ok(Value::String(lua.create_string(take(b, at, n)?)?))
    };
    let arr = |lua: &Lua, at: &mut usize, n: usize| -> R<Value> {
        // Each element takes a byte at least: a count past the input is bad.
        if n > b.len() - *at {
            return err("Missing bytes in input.");
        }
        let t = lua.create_table_with_capacity(n, 0)?;
        for i in 1..=n {
            t.raw_set(i, unpack(lua, b, at, depth + 1)?)?;
        }
        Ok(Value::Table(t))
    };
    let map = |lua: &Lua, at: &mut usize, n: usize| -> R<Value> {
        if n > (b.len() - *at) / 2 {
            return err("Missing bytes in input.");
        }
        let t = lua.create_table()?;
        for _ in 0..n {
            let k = unpack(lua, b, at, depth + 1)?;
            let v = unpack(lua, b, at, depth + 1)?;
            if !matches!(k, Value::Nil) {
                t.raw_set(k, v)?;
            }
        }
        Ok(Value::Table(t))
    };
    Ok(match tag {
        0x00..=0x7f => Value::Number(tag as f64),
        0x80..=0x8f => map(lua, at, (tag & 0x0f) as usize)?,
        0x90..=0x9f => arr(lua, at, (tag & 0x0f) as usize)?,
        0xa0..=0xbf => s(lua, at, (tag & 0x1f) as usize)?,
        0xc0 => Value::Nil,
        0xc2 => Value::Boolean(false),
        0xc3 => Value::Boolean(true),
        0xc4 | 0xd9 => {
            let n = take(b, at, 1)?[0] as usize;
            s(lua, at, n)?
        }
        0xc5 | 0xda => {
            let n = be(take(b, at, 2)?) as usize;
            s(lua, at, n)?
        }
        0xc6 | 0xdb => {
            let n = be(take(b, at, 4)?) as usize;
            s(lua, at, n)?
        }
        0xca => {
            let v = f32::from_be_bytes(take(b, at, 4)?.try_into().unwrap_or([0; 4]));
            Value::Number(v as f64)
        }
        0xcb => {
            let v = f64::from_be_bytes(take(b, at, 8)?.try_into().unwrap_or([0; 8]));
            Value::Number(v)
        }
        0xcc => Value::Number(be(take(b, at, 1)?) as f64),
        0xcd => Value::Number(be(take(b, at, 2)?) as f64),
        0xce => Value::Number(be(take(b, at, 4)?) as f64),
        0xcf => Value::Number(be(take(b, at, 8)?) as f64),
        0xd0 => Value::Number(be(take(b, at, 1)?) as u8 as i8 as f64),
        0xd1 => Value::Number(be(take(b, at, 2)?) as u16 as i16 as f64),
        0xd2 => Value::Number(be(take(b, at, 4)?) as u32 as i32 as f64),
        0xd3 => Value::Number(be(take(b, at, 8)?) as i64 as f64),
        0xdc => {
            let n = be(take(b, at, 2)?) as usize;
            arr(lua, at, n)?
        }
        0xdd => {
            let n = be(take(b, at, 4)?) as usize;
            arr(lua, at, n)?
        }
        0xde => {
            let n = be(take(b, at, 2)?) as usize;
            map(lua, at, n)?
        }
        0xdf => {
            let n = be(take(b, at, 4)?) as usize;
            map(lua, at, n)?
        }
        0xe0..=0xff => Value::Number(tag as i8 as f64),
        _ => return err("Bad data format in input."),
    })
}

// --- bit --------------------------------------------------------------

/// LuaBitOp's `tobit`: the number modulo 2^32 as a signed 32-bit integer.
fn tobit(v: &Value) -> R<i32> {
    let n = match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        Value::String(s) => match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(n) => n,
            None => return err("bad argument (number expected)"),
        },
        _ => return err("bad argument (number expected)"),
    };
    // The 2^52 + 2^51 trick LuaBitOp uses: round to an integer, keep 32 bits.
    let b = (n + 6755399441055744.0).to_bits();
    Ok(b as u32 as i32)
}

fn bit(lua: &Lua) -> R<Table> {
    let t = lua.create_table()?;
    let num = |x: i32| Value::Number(x as f64);
    t.set(
        "tobit",
        lua.create_function(move |_, v: Value| Ok(num(tobit(&v)?)))?,
    )?;
    t.set(
        "bnot",
        lua.create_function(move |_, v: Value| Ok(num(!tobit(&v)?)))?,
    )?;
    type Op = fn(i32, i32) -> i32;
    let folds: [(&str, Op); 3] = [
        ("band", |a, b| a & b),
        ("bor", |a, b| a | b),
        ("bxor", |a, b| a ^ b),
    ];
    for (name, f) in folds {
        t.set(
            name,
            lua.create_function(move |_, args: Variadic<Value>| {
                let mut it = args.iter();
                let first = match it.next() {
                    Some(v) => tobit(v)?,
                    None => return err("bad argument #1 (number expected, got no value)"),
                };
                let mut acc = first;
                for v in it {
                    acc = f(acc, tobit(v)?);
                }
                Ok(num(acc))
            })?,
        )?;
    }
    let shifts: [(&str, Op); 5] = [
        ("lshift", |x, n| ((x as u32) << (n & 31)) as i32),
        ("rshift", |x, n| ((x as u32) >> (n & 31)) as i32),
        ("arshift", |x, n| x >> (n & 31)),
        ("rol", |x, n| (x as u32).rotate_left((n & 31) as u32) as i32),
        ("ror", |x, n| {
            (x as u32).rotate_right((n & 31) as u32) as i32
        }),
    ];
    for (name, f) in shifts {
        t.set(
            name,
            lua.create_function(move |_, (x, n): (Value, Value)| {
                Ok(num(f(tobit(&x)?, tobit(&n)?)))
            })?,
        )?;
    }
    t.set(
        "bswap",
        lua.create_function(move |_, v: Value| Ok(num(tobit(&v)?.swap_bytes())))?,
    )?;
    t.set(
        "tohex",
        lua.create_function(|lua, (x, n): (Value, Option<Value>)| {
            let x = tobit(&x)? as u32;
            let n = match n {
                Some(v) => tobit(&v)?,
                None => 8,
            };
            let upper = n < 0;
            let digits = (n.unsigned_abs().min(8)) as usize;
            let full = if upper {
                format!("{x:08X}")
            } else {
                format!("{x:08x}")
            };
            lua.create_string(&full[8 - digits..])
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_as_cjson() {
        assert_eq!(fmt_14g(1.0), "1");
        assert_eq!(fmt_14g(0.1), "0.1");
        assert_eq!(fmt_14g(1e100), "1e+100");
        assert_eq!(fmt_14g(-2.5), "-2.5");
        assert_eq!(fmt_14g(123456789012345678.0), "1.2345678901235e+17");
    }
}
