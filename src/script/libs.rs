//! The Lua libraries Redis ships to scripts besides its own `redis`:
//! `cjson` (lua-cjson 2.1, as patched in Redis's `deps/lua`), `cmsgpack`
//! (lua-cmsgpack 0.4), `bit` (LuaBitOp 1.0) and `struct` (Roberto
//! Ierusalimschy's struct library as Redis 7.0 patches it,
//! `deps/lua/src/lua_struct.c`), written in Rust against the behaviour of
//! those C libraries.
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

/// Registers `cjson`, `cmsgpack`, `bit` and `struct` as globals of `lua`.
pub fn register(lua: &Lua) -> R<()> {
    let g = lua.globals();
    g.set("cjson", cjson(lua)?)?;
    g.set("cmsgpack", cmsgpack(lua)?)?;
    g.set("bit", bit(lua)?)?;
    g.set("struct", structlib(lua)?)?;
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

/// LuaBitOp's `tobit` of argument `n` of `name`: the number modulo 2^32
/// as a signed 32-bit integer. Errors as `luaL_checknumber`.
fn bit_arg(args: &[Value], n: usize, name: &str) -> R<i32> {
    let x = check_number(args, n, name)?;
    // The 2^52 + 2^51 trick LuaBitOp uses: round to an integer, keep 32 bits.
    let b = (x + 6755399441055744.0).to_bits();
    Ok(b as u32 as i32)
}

fn bit(lua: &Lua) -> R<Table> {
    let t = lua.create_table()?;
    let num = |x: i32| Value::Number(x as f64);
    type Unary = fn(i32) -> i32;
    let unary: [(&'static str, Unary); 3] = [
        ("tobit", |x| x),
        ("bnot", |x| !x),
        ("bswap", |x| x.swap_bytes()),
    ];
    for (name, f) in unary {
        t.set(
            name,
            lua.create_function(move |_, args: Variadic<Value>| {
                Ok(num(f(bit_arg(&args, 1, name)?)))
            })?,
        )?;
    }
    type Op = fn(i32, i32) -> i32;
    let folds: [(&'static str, Op); 3] = [
        ("band", |a, b| a & b),
        ("bor", |a, b| a | b),
        ("bxor", |a, b| a ^ b),
    ];
    for (name, f) in folds {
        t.set(
            name,
            lua.create_function(move |_, args: Variadic<Value>| {
                let mut acc = bit_arg(&args, 1, name)?;
                for n in 2..=args.len() {
                    acc = f(acc, bit_arg(&args, n, name)?);
                }
                Ok(num(acc))
            })?,
        )?;
    }
    let shifts: [(&'static str, Op); 5] = [
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
            lua.create_function(move |_, args: Variadic<Value>| {
                Ok(num(f(bit_arg(&args, 1, name)?, bit_arg(&args, 2, name)?)))
            })?,
        )?;
    }
    t.set(
        "tohex",
        lua.create_function(|lua, args: Variadic<Value>| {
            let x = bit_arg(&args, 1, "tohex")? as u32;
            let n = match args.get(1) {
                None | Some(Value::Nil) => 8,
                Some(_) => bit_arg(&args, 2, "tohex")?,
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

/// The type name Lua's argument errors use (`lua_typename`), "no value"
/// for a missing argument.
fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::Integer(_) | Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(_) => "userdata",
    }
}

/// A string as Lua 5.1 reads it as a number (`luaO_str2d`): decimal or
/// `0x` hexadecimal, surrounding white space allowed.
fn str_to_number(s: &[u8]) -> Option<f64> {
    let t = std::str::from_utf8(s).ok()?.trim();
    if let Ok(x) = t.parse::<f64>() {
        return Some(x);
    }
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let hex = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))?;
    let v = u64::from_str_radix(hex, 16).ok()? as f64;
    Some(if neg { -v } else { v })
}

/// `luaL_argerror`'s text: `bad argument #<n> to '<name>' (<msg>)`.
fn arg_error<T>(n: usize, name: &str, msg: &str) -> R<T> {
    err(format!("bad argument #{n} to '{name}' ({msg})"))
}

/// What a C function sees at argument `n` past the ones passed: `pack`
/// pushes a nil right after its arguments, so the first missing one reads
/// as nil there (Redis says "got nil"), later ones as no value.
fn missing(args: &[Value], n: usize, name: &str) -> Option<&'static Value> {
    static NIL: Value = Value::Nil;
    (name == "pack" && n > 1 && n == args.len() + 1).then_some(&NIL)
}

/// Argument `n` (1-based) as `luaL_checknumber` reads it: a number, or a
/// string that reads as one.
fn check_number(args: &[Value], n: usize, name: &str) -> R<f64> {
    let v = args.get(n - 1).or_else(|| missing(args, n, name));
    match v {
        Some(Value::Integer(i)) => Ok(*i as f64),
        Some(Value::Number(x)) => Ok(*x),
        Some(Value::String(s)) => match str_to_number(&s.as_bytes()) {
            Some(x) => Ok(x),
            None => arg_error(n, name, "number expected, got string"),
        },
        other => arg_error(
            n,
            name,
            &format!("number expected, got {}", type_name(other)),
        ),
    }
}

/// Argument `n` as `luaL_checklstring` reads it: a string, or a number in
/// Lua's `%.14g` spelling.
fn check_bytes(args: &[Value], n: usize, name: &str) -> R<Vec<u8>> {
    match args.get(n - 1).or_else(|| missing(args, n, name)) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Integer(i)) => Ok(i.to_string().into_bytes()),
        Some(Value::Number(x)) => Ok(fmt_14g(*x).into_bytes()),
        other => arg_error(
            n,
            name,
            &format!("string expected, got {}", type_name(other)),
        ),
    }
}

/// `struct`'s format state: byte order and maximum alignment (`!n`).
struct Header {
    big: bool,
    align: usize,
}

/// Alignment `!` alone sets (the C struct's double alignment, 8 on x86-64).
const STRUCT_MAXALIGN: usize = 8;
/// Largest integer size `i<n>`/`I<n>` takes.
const STRUCT_MAXINTSIZE: usize = 32;

/// A number in the format at `at`, or `default`: `getnum`, with Redis's
/// overflow check (`integral size overflow`).
fn struct_num(fmt: &[u8], at: &mut usize, default: usize) -> R<usize> {
    if !fmt.get(*at).is_some_and(u8::is_ascii_digit) {
        return Ok(default);
    }
    let mut a: i64 = 0;
    while let Some(&d) = fmt.get(*at).filter(|d| d.is_ascii_digit()) {
        let d = (d - b'0') as i64;
        if a > i32::MAX as i64 / 10 || a * 10 > i32::MAX as i64 - d {
            return err("integral size overflow");
        }
        a = a * 10 + d;
        *at += 1;
    }
    Ok(a as usize)
}

/// The size in bytes option `opt` takes (`optsize`); 0 for the control
/// options, `s`, and characters that are no option.
fn struct_optsize(opt: u8, fmt: &[u8], at: &mut usize) -> R<usize> {
    Ok(match opt {
        b'b' | b'B' => 1,
        b'h' | b'H' => 2,
        b'l' | b'L' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        b'c' => struct_num(fmt, at, 1)?,
        b'i' | b'I' => {
            let sz = struct_num(fmt, at, 4)?;
            if sz > STRUCT_MAXINTSIZE {
                return err(format!(
                    "integral size {sz} is larger than limit of {STRUCT_MAXINTSIZE}"
                ));
            }
            sz
        }
        _ => 0,
    })
}

/// Padding before an item of `size` bytes at offset `len` (`gettoalign`;
/// sizes that are no power of two give what the C expression gives).
fn struct_toalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

/// ' ', '<', '>' and '!n' (`controloptions`); anything else is `invalid
/// format option`.
fn struct_control(opt: u8, fmt: &[u8], at: &mut usize, h: &mut Header, name: &str) -> R<()> {
    match opt {
        b' ' => {}
        b'>' => h.big = true,
        b'<' => h.big = false,
        b'!' => {
            let a = struct_num(fmt, at, STRUCT_MAXALIGN)?;
            if !a.is_power_of_two() {
                return err(format!("alignment {a} is not a power of 2"));
            }
            h.align = a;
        }
        _ => {
            return arg_error(1, name, &format!("invalid format option '{}'", opt as char));
        }
    }
    Ok(())
}

/// C's `(long)x` on x86-64: out of range and NaN give `LONG_MIN`.
pub(crate) fn c_long(x: f64) -> i64 {
    if x.is_nan() || x < -9.223_372_036_854_775_808e18 || x >= 9.223_372_036_854_775_808e18 {
        i64::MIN
    } else {
        x as i64
    }
}

/// C's `(unsigned long)x` as gcc compiles it for x86-64: NaN gives 2^63,
/// 2^64 and above give 0.
fn c_ulong(x: f64) -> u64 {
    const TWO63: f64 = 9.223_372_036_854_775_808e18;
    if !(x >= TWO63) {
        c_long(x) as u64
    } else {
        (c_long(x - TWO63) as u64) ^ (1 << 63)
    }
}

fn struct_pack(lua: &Lua, args: &[Value]) -> R<mlua::String> {
    const NAME: &str = "pack";
    let fmt = check_bytes(args, 1, NAME)?;
    let mut h = Header {
        big: false,
        align: 1,
    };
    let mut out: Vec<u8> = Vec::new();
    let mut arg = 2;
    let mut at = 0;
    while let Some(&opt) = fmt.get(at) {
        at += 1;
        let mut size = struct_optsize(opt, &fmt, &mut at)?;
        let pad = struct_toalign(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(args, arg, NAME)?;
                arg += 1;
                // Sizes past 8 bytes get zeros, as the C shifts its 64-bit
                // value out.
                let mut v = if n < 0.0 {
                    c_long(n) as u64
                } else {
                    c_ulong(n)
                };
                let mut b = vec![0u8; size];
                for i in 0..size {
                    let at = if h.big { size - 1 - i } else { i };
                    b[at] = (v & 0xff) as u8;
                    v = v.checked_shr(8).unwrap_or(0);
                }
                out.extend_from_slice(&b);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(args, arg, NAME)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.big {
                    f.to_be_bytes()
                } else {
                    f.to_le_bytes()
                });
            }
            b'd' => {
                let d = check_number(args, arg, NAME)?;
                arg += 1;
                out.extend_from_slice(&if h.big {
                    d.to_be_bytes()
                } else {
                    d.to_le_bytes()
                });
            }
            b'c' | b's' => {
                let s = check_bytes(args, arg, NAME)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // Redis names the argument after this one, as its C does.
                    return arg_error(arg, NAME, "string too short");
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => struct_control(opt, &fmt, &mut at, &mut h, NAME)?,
        }
    }
    lua.create_string(&out)
}

/// Lua 5.1's C stack limit (`LUAI_MAXCSTACK`): `unpack` stops with `stack
/// overflow (too many results)` before its values would pass it.
const LUA_MAXCSTACK: usize = 8000;

fn struct_unpack(lua: &Lua, args: &[Value]) -> R<MultiValue> {
    const NAME: &str = "unpack";
    let fmt = check_bytes(args, 1, NAME)?;
    let data = check_bytes(args, 2, NAME)?;
    let ld = data.len();
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1.0,
        Some(_) => check_number(args, 3, NAME)?,
    };
    // `size_t pos = luaL_optinteger(...)`: a negative offset wraps to a
    // huge one, which then fails as too short.
    let mut pos = c_long(start) as u64 as usize;
    if pos == 0 {
        return arg_error(3, NAME, "offset must be 1 or greater");
    }
    pos -= 1;
    let mut h = Header {
        big: false,
        align: 1,
    };
    let mut out: Vec<Value> = Vec::new();
    let mut at = 0;
    while let Some(&opt) = fmt.get(at) {
        at += 1;
        let mut size = struct_optsize(opt, &fmt, &mut at)?;
        pos = pos.wrapping_add(struct_toalign(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return arg_error(2, NAME, "data string too short");
        }
        if args.len().max(2) + out.len() + 2 > LUA_MAXCSTACK {
            return err("stack overflow (too many results)");
        }
        let field = &data[pos..pos + size];
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let mut l: u64 = 0;
                for i in 0..size {
                    let byte = if h.big { field[i] } else { field[size - 1 - i] };
                    l = l.checked_shl(8).unwrap_or(0) | byte as u64;
                }
                let n = if opt.is_ascii_lowercase() {
                    // The sign bit's mask, with x86's shift count (mod 64).
                    let mask = u64::MAX << ((size * 8).wrapping_sub(1) & 63);
                    if l & mask != 0 {
                        l |= mask;
                    }
                    l as i64 as f64
                } else {
                    l as f64
                };
                out.push(Value::Number(n));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = field.try_into().unwrap_or_default();
                let f = if h.big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                };
                out.push(Value::Number(f as f64));
            }
            b'd' => {
                let b: [u8; 8] = field.try_into().unwrap_or_default();
                let d = if h.big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                };
                out.push(Value::Number(d));
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.last() {
                        Some(Value::Number(n)) => Some(*n),
                        Some(Value::String(s)) => str_to_number(&s.as_bytes()),
                        _ => None,
                    };
                    let Some(n) = prev else {
                        return err("format 'c0' needs a previous size");
                    };
                    out.pop();
                    size = c_ulong(n) as usize;
                    if !(size <= ld && pos <= ld - size) {
                        return arg_error(2, NAME, "data string too short");
                    }
                }
                out.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(end) = memchr::memchr(0, &data[pos..]) else {
                    return err("unfinished string in data");
                };
                size = end + 1;
                out.push(Value::String(lua.create_string(&data[pos..pos + end])?));
            }
            _ => struct_control(opt, &fmt, &mut at, &mut h, NAME)?,
        }
        pos += size;
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_iter(out))
}

fn struct_size(args: &[Value]) -> R<f64> {
    const NAME: &str = "size";
    let fmt = check_bytes(args, 1, NAME)?;
    let mut h = Header {
        big: false,
        align: 1,
    };
    let mut pos = 0usize;
    let mut at = 0;
    while let Some(&opt) = fmt.get(at) {
        at += 1;
        let size = struct_optsize(opt, &fmt, &mut at)?;
        pos = pos.saturating_add(struct_toalign(pos, &h, opt, size));
        if opt == b's' {
            return arg_error(1, NAME, "option 's' has no fixed size");
        } else if opt == b'c' && size == 0 {
            return arg_error(1, NAME, "option 'c0' has no fixed size");
        }
        // Letters that are no option count 0 bytes here, as in Redis.
        if !opt.is_ascii_alphanumeric() {
            struct_control(opt, &fmt, &mut at, &mut h, NAME)?;
        }
        pos = pos.saturating_add(size);
    }
    Ok(pos as f64)
}

fn structlib(lua: &Lua) -> R<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| struct_pack(lua, &args))?,
    )?;
    t.set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| struct_unpack(lua, &args))?,
    )?;
    t.set(
        "size",
        lua.create_function(|_, args: Variadic<Value>| struct_size(&args))?,
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
