//! A shard's Lua 5.1 runtime (the version Redis embeds, through mlua): the
//! sandbox scripts run in, the `redis` library they call, and the
//! conversions between Lua values and RESP replies.
//!
//! Follows Redis 7.0's `script_lua.c` and `eval.c` and the conversion tables
//! of <https://redis.io/docs/latest/develop/interact/programmability/lua-api/>:
//!
//! - RESP → Lua (`redis.call` replies; RESP3 types after `redis.setresp(3)`):
//!   integer → number, bulk string → string, null → `false` (RESP3 null →
//!   `nil`), array → table, status → `{ok=s}`, error → `{err=s}`, map →
//!   `{map={...}}`, set → `{set={m=true}}`, double → `{double=n}`, boolean →
//!   boolean, big number → `{big_number=s}`, verbatim string →
//!   `{verbatim_string={format=f, string=s}}`.
//! - Lua → RESP (the script's result): number → integer (truncated), string
//!   → bulk string, `true` → `:1` (RESP3 `#t`), `false` → null (RESP3
//!   `#f`), `nil` → null, table → array up to its first `nil`, unless it has
//!   an `err` (error), `ok` (status), `double`, `map`, `set`, `big_number`
//!   or `verbatim_string` field.
//!
//! Errors keep Redis's texts: `ERR Error compiling script (new function):
//! user_script:1: ...`, and a run-time error as `<error> script: <sha>, on
//! @user_script:<line>.`.

use std::ffi::c_int;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicU64, Ordering};

use bytes::{BufMut, Bytes};
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};

use super::Registry;
use crate::resp::Reply;

/// Nesting limit of replies and tables converted either way: a table that
/// contains itself must not recurse forever.
const MAX_DEPTH: usize = 256;

/// [`Runtime::killed`] reasons.
const KILLED: u8 = 1;
const TIMED_OUT: u8 = 2;

/// How long a library's code may run while FUNCTION LOAD loads it, ms
/// (Redis 7.0's `LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT_MS: u64 = 500;

/// VM instructions between checks for SCRIPT KILL.
const KILL_CHECK_EVERY: u32 = 100_000;

/// Memory a shard's Lua state may hold, bytes: a script that builds a huge
/// string gets `not enough memory` instead of exhausting the machine.
const MEMORY_LIMIT: usize = 1 << 30;

/// What a running script asks of the shard it runs on.
pub trait Host {
    /// Runs one command (name first) and returns its reply, RESP3 types if
    /// `resp3`; failures before it runs (unknown command, not allowed from
    /// scripts, ...) come back as error replies.
    fn call(&mut self, args: Vec<Bytes>, resp3: bool) -> Bytes;

    /// The script declared `no-writes` (a shebang flag or a function
    /// flag): its writes are refused from now on.
    fn no_writes(&mut self);
}

/// A function registered while a library loaded.
pub struct Registered {
    pub name: String,
    pub flags: Vec<String>,
    pub description: Option<String>,
    pub callback: Function,
}

/// Checks that `body` compiles (SCRIPT LOAD on an IO thread), with a
/// bare Lua state kept per thread. Errors as [`Runtime::compile`].
pub fn check_syntax(body: &[u8]) -> Result<(), String> {
    thread_local! {
        static LUA: Option<Lua> = Lua::new_with(StdLib::NONE, LuaOptions::new()).ok();
    }
    let (code, _) = script_source(body)?;
    LUA.with(|lua| match lua {
        Some(lua) => lua
            .load(&code[..])
            .set_name("@user_script")
            .into_function()
            .map(|_| ())
            .map_err(|e| compile_error(&e)),
        None => Err("ERR cannot start Lua".into()),
    })
}

/// A script's code as Lua compiles it and its shebang flags (`#!lua
/// flags=no-writes,...`): the shebang line stays, as a comment, so line
/// numbers hold. Errors: the shebang's.
fn script_source(body: &[u8]) -> Result<(std::borrow::Cow<'_, [u8]>, Vec<String>), String> {
    if !body.starts_with(b"#!") {
        return Ok((std::borrow::Cow::Borrowed(body), Vec::new()));
    }
    let flags = super::parse_shebang(body, false)?.flags;
    let mut owned = body.to_vec();
    owned[..2].copy_from_slice(b"--");
    Ok((std::borrow::Cow::Owned(owned), flags))
}

fn compile_error(e: &mlua::Error) -> String {
    let msg = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    format!("ERR Error compiling script (new function): {msg}")
}

/// One shard's Lua state with its compiled scripts.
pub struct Runtime {
    lua: Lua,
    /// Per-run globals the sandbox shows first (`KEYS`, `ARGV`).
    run: Table,
    /// Holds `raw`, the function `redis.call` and `redis.pcall` use.
    holder: Table,
    /// The environment scripts see (a read-only view of the globals).
    env: Table,
    xpcall: Function,
    on_error: Function,
    /// Compiled scripts by SHA1, for the registry generation they belong to.
    funcs: hashbrown::HashMap<String, (Function, Vec<String>)>,
    generation: u64,
    /// Loaded libraries' functions by library, then function name, for the
    /// registry's function generation `fn_generation`.
    libs: hashbrown::HashMap<String, hashbrown::HashMap<String, Function>>,
    fn_generation: u64,
    /// `invoke(f, keys, args)`: a function's callback under the error handler.
    invoke: Function,
    /// `script(f, KEYS, ARGV)`: a script under the error handler, with its
    /// KEYS and ARGV set for the run.
    script: Function,
    /// The `redis` table libraries see while they load.
    loader_redis: Table,
    /// When a library load must stop (FUNCTION LOAD's time limit), Unix ms;
    /// 0: none.
    deadline: Arc<AtomicU64>,
    /// The protocol `redis.call` replies are converted from (`redis.setresp`).
    resp: Arc<AtomicU8>,
    /// The running script's host, for `redis.call` ([`raw_call`]): a
    /// pointer to a `&mut dyn Host`, null between runs.
    host: Arc<AtomicPtr<()>>,
    /// Why the running script was stopped: 0 not, [`KILLED`], [`TIMED_OUT`].
    killed: Arc<AtomicU8>,
    /// When the running script started, Unix ms.
    started: Arc<AtomicU64>,
}

/// The sandbox and the Lua side of the `redis` library, run once per state
/// with (globals, run table, holder, readonly-error text).
const PRELUDE: &str = r#"
local G, R, H, FLAGS, NAME_RULE = ...
local err, tostring, type, setmetatable, rawget = error, tostring, type, setmetatable, rawget
local function readonly(t)
  return setmetatable({}, {
    __index = t,
    __newindex = function() err("Attempt to modify a readonly table", 2) end,
    __metatable = false,
  })
end
local redis = G.redis
redis.call = function(...)
  local r = H.raw(...)
  if type(r) == 'table' and rawget(r, 'err') ~= nil and rawget(r, '__tandem_err') then
    r.__tandem_err = nil
    err(r, 0)
  end
  return r
end
redis.pcall = function(...)
  local r = H.raw(...)
  if type(r) == 'table' then r.__tandem_err = nil end
  return r
end
redis.setresp = function(n)
  if n ~= 2 and n ~= 3 then err({err = "ERR RESP version must be 2 or 3."}, 0) end
  H.setresp(n)
end
redis.log = function(...)
  if select('#', ...) < 2 then err({err = 'ERR redis.log() requires two arguments or more.'}, 0) end
  local level = ...
  if type(level) ~= 'number' then err({err = 'ERR First argument must be a number (log level).'}, 0) end
  if level < 0 or level > 3 then err({err = 'ERR Invalid debug level.'}, 0) end
  H.log(...)
end
redis.error_reply = function(e)
  if type(e) ~= 'string' then err("wrong number or type of arguments", 2) end
  return {err = e}
end
redis.status_reply = function(s)
  if type(s) ~= 'string' then err("wrong number or type of arguments", 2) end
  return {ok = s}
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
local V = {}
for _, name in ipairs({'assert', 'error', 'ipairs', 'next', 'pairs', 'pcall', 'rawequal',
    'rawget', 'rawset', 'select', 'setmetatable', 'getmetatable', 'tonumber', 'tostring',
    'type', 'unpack', 'xpcall', 'gcinfo', 'loadstring', '_VERSION'}) do
  V[name] = G[name]
end
for _, name in ipairs({'string', 'table', 'math', 'coroutine', 'redis', 'cjson', 'cmsgpack', 'bit', 'struct'}) do
  V[name] = readonly(G[name])
end
local E = setmetatable({}, {
  __index = function(_, k)
    local v = R[k]
    if v ~= nil then return v end
    v = V[k]
    if v ~= nil then return v end
    err("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = function() err("Attempt to modify a readonly table", 2) end,
  __metatable = false,
})
V._G = E
-- Redis's pcall hands back an error table's text (`luaRedisPcall`).
local raw_pcall = G.pcall
local function fix(ok, ...)
  if not ok then
    local e = ...
    if type(e) == 'table' and type(rawget(e, 'err')) == 'string' then return false, e.err end
  end
  return ok, ...
end
V.pcall = function(...) return fix(raw_pcall(...)) end
local getinfo = G.debug.getinfo
local function on_error(e)
  -- The innermost frame of the script itself names the line.
  local where
  for level = 2, 32 do
    local i = getinfo(level, 'Sl')
    if not i then break end
    if i.source == '@user_script' or i.source == '@user_function' then where = i break end
  end
  local killed = H.killed()
  if killed then
    e = {err = killed}
  elseif type(e) == 'userdata' then
    -- An error raised in Rust (a library function): its first line,
    -- without mlua's prefix, placed as luaL_error places a C library's.
    local s = tostring(e)
    s = s:match('^runtime error: ([^\n]*)') or s:match('^([^\n]*)') or s
    local loc = where and (where.source:sub(2) .. ':' .. where.currentline .. ': ') or ''
    e = {err = 'ERR ' .. loc .. s}
  elseif type(e) ~= 'table' then
    e = {err = 'ERR ' .. tostring(e)}
  end
  if where then
    e.source = where.source
    e.line = where.currentline
  end
  return e
end
-- Functions (FUNCTION LOAD): registering while a library loads.
local flag_ok = {}
for _, f in ipairs(FLAGS) do flag_ok[f] = true end
redis.register_function = function(...)
  local reg = H.registering
  if not reg then
    err({err = 'ERR redis.register_function can only be called on FUNCTION LOAD command'}, 0)
  end
  local name, cb, flags, desc
  local n = select('#', ...)
  if n == 1 and type(...) == 'table' then
    for k, v in pairs((...)) do
      if k == 'function_name' then name = v
      elseif k == 'callback' then cb = v
      elseif k == 'flags' then flags = v
      elseif k == 'description' then desc = v
      else err({err = 'ERR unknown argument given to redis.register_function'}, 0) end
    end
  elseif n == 2 then
    name, cb = ...
  else
    err({err = 'ERR wrong number of arguments to redis.register_function'}, 0)
  end
  if type(name) ~= 'string' then
    err({err = 'ERR function_name argument given to redis.register_function must be a string'}, 0)
  end
  if not name:match('^[%w_]+$') then err({err = NAME_RULE}, 0) end
  if type(cb) ~= 'function' then
    err({err = 'ERR callback argument given to redis.register_function must be a function'}, 0)
  end
  local fl = {}
  if flags ~= nil then
    if type(flags) ~= 'table' then
      err({err = 'ERR flags argument to redis.register_function must be a table representing function flags'}, 0)
    end
    for _, f in ipairs(flags) do
      if not flag_ok[f] then err({err = 'ERR unknown flag given'}, 0) end
      fl[#fl + 1] = f
    end
  end
  if desc ~= nil and type(desc) ~= 'string' then
    err({err = 'ERR description argument given to redis.register_function must a string'}, 0)
  end
  if reg.byname[name] then err({err = 'ERR Function already exists in the library'}, 0) end
  reg.byname[name] = true
  reg.list[#reg.list + 1] = {name = name, cb = cb, flags = fl, desc = desc}
end
-- While a library loads, `redis` offers only what Redis's loader does.
local load_ok = {register_function = true, log = true, setresp = true, REDIS_VERSION = true,
  REDIS_VERSION_NUM = true, LOG_DEBUG = true, LOG_VERBOSE = true, LOG_NOTICE = true,
  LOG_WARNING = true}
local loader_redis = setmetatable({}, {
  __index = function(_, k)
    if load_ok[k] then return redis[k] end
    err("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = function() err("Attempt to modify a readonly table", 2) end,
  __metatable = false,
})
local function invoke(f, keys, args)
  return xpcall(function() return f(keys, args) end, on_error)
end
local xpcall = G.xpcall
local function script(f, keys, argv)
  R.KEYS, R.ARGV = keys, argv
  local ok, v = xpcall(f, on_error)
  R.KEYS, R.ARGV = nil, nil
  return ok, v
end
return E, on_error, xpcall, invoke, script, loader_redis
"#;

/// A C function that calls the Lua function stored in the registry under
/// `$key`: the `redis` functions that raise errors go through one. Lua 5.1
/// drops the caller's frame when it tail-calls a Lua function (`return
/// redis.call(...)`), and the error handler could then not name the
/// script's line; it keeps it for a C function.
macro_rules! c_frame {
    ($name:ident, $key:literal) => {
        unsafe extern "C-unwind" fn $name(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
            // SAFETY: called by Lua with a valid state; the function was
            // stored in the registry at start-up; errors unwind through
            // here as through any C function (no Rust value with a
            // destructor lives in this frame).
            unsafe {
                let n = mlua::ffi::lua_gettop(l);
                mlua::ffi::lua_getfield(l, mlua::ffi::LUA_REGISTRYINDEX, $key.as_ptr());
                mlua::ffi::lua_insert(l, 1);
                mlua::ffi::lua_call(l, n, mlua::ffi::LUA_MULTRET);
                mlua::ffi::lua_gettop(l)
            }
        }
    };
}
c_frame!(call_frame, c"tandem_call");
c_frame!(setresp_frame, c"tandem_setresp");
c_frame!(log_frame, c"tandem_log");
c_frame!(error_reply_frame, c"tandem_error_reply");
c_frame!(status_reply_frame, c"tandem_status_reply");
c_frame!(register_function_frame, c"tandem_register_function");

/// The `redis` functions written in Lua that raise errors, each behind its
/// C frame (see [`c_frame`]), with the registry key the frame calls.
const FRAMED: &[(&str, &str, mlua::ffi::lua_CFunction)] = &[
    ("call", "tandem_call", call_frame),
    ("setresp", "tandem_setresp", setresp_frame),
    ("log", "tandem_log", log_frame),
    ("error_reply", "tandem_error_reply", error_reply_frame),
    ("status_reply", "tandem_status_reply", status_reply_frame),
    (
        "register_function",
        "tandem_register_function",
        register_function_frame,
    ),
];

impl Runtime {
    /// Bytes the Lua state holds (INFO `used_memory_vm_eval`).
    pub fn memory(&self) -> usize {
        self.lua.used_memory()
    }

    /// A fresh state for shard `shard`: Lua's base, table, string, math and
    /// debug libraries (debug only for the error handler), the `redis`
    /// library, the read-only sandbox and the SCRIPT KILL check.
    pub fn new(
        scripts: Arc<Registry>,
        shard: u16,
        tun: Arc<crate::config::Tunables>,
    ) -> mlua::Result<Runtime> {
        let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG;
        // SAFETY: the debug library is what makes this state "unsafe" to
        // mlua; only the error handler keeps `debug.getinfo` (captured by
        // the prelude), and `debug` leaves the globals before any script.
        let lua = unsafe { Lua::unsafe_new_with(libs, LuaOptions::new()) };
        let _ = lua.set_memory_limit(MEMORY_LIMIT);
        let g = lua.globals();
        let redis = lua.create_table()?;
        let resp = Arc::new(AtomicU8::new(2));
        let r = resp.clone();

        redis.set(
            "sha1hex",
            lua.create_function(|lua, s: mlua::String| {
                lua.create_string(super::sha1_hex(&s.as_bytes()))
            })?,
        )?;
        let holder = lua.create_table()?;
        let host = Arc::new(AtomicPtr::new(std::ptr::null_mut()));
        let (h, r2) = (host.clone(), resp.clone());
        holder.raw_set(
            "raw",
            lua.create_function(move |lua, args: MultiValue| raw_call(lua, &h, &r2, args))?,
        )?;
        holder.raw_set(
            "log",
            lua.create_function(|_, args: MultiValue| {
                let mut it = args.into_iter();
                let level = match it.next() {
                    Some(Value::Integer(n)) => n,
                    Some(Value::Number(n)) => n as i64,
                    _ => 3,
                };
                let msg: Vec<String> = it
                    .map(|v| match v {
                        Value::String(s) => s.to_string_lossy(),
                        other => format!("{other:?}"),
                    })
                    .collect();
                let msg = msg.join(" ");
                match level {
                    0 => tracing::debug!(target: "lua", "{msg}"),
                    1 | 2 => tracing::info!(target: "lua", "{msg}"),
                    _ => tracing::warn!(target: "lua", "{msg}"),
                }
                Ok(())
            })?,
        )?;
        // Replication is not implemented; the flags are accepted as Redis
        // 7.0 accepts them (effects replication is its only mode).
        redis.set("set_repl", lua.create_function(|_, _: Value| Ok(()))?)?;
        for (name, v) in [
            ("LOG_DEBUG", 0),
            ("LOG_VERBOSE", 1),
            ("LOG_NOTICE", 2),
            ("LOG_WARNING", 3),
            ("REPL_NONE", 0),
            ("REPL_AOF", 1),
            ("REPL_SLAVE", 2),
            ("REPL_REPLICA", 2),
            ("REPL_ALL", 3),
        ] {
            redis.set(name, v)?;
        }
        redis.set("REDIS_VERSION", crate::spec::REDIS_VERSION)?;
        redis.set(
            "REDIS_VERSION_NUM",
            redis_version_num(crate::spec::REDIS_VERSION),
        )?;
        g.set("redis", redis)?;
        super::libs::register(&lua)?;
        let run = lua.create_table()?;
        holder.raw_set(
            "setresp",
            lua.create_function(move |_, n: f64| {
                r.store(n as u8, Ordering::Relaxed);
                Ok(())
            })?,
        )?;
        let (env, on_error, xpcall, invoke, script, loader_redis): (
            Table,
            Function,
            Function,
            Function,
            Function,
            Table,
        ) = lua.load(PRELUDE).set_name("=tandem_prelude").call((
            g.clone(),
            run.clone(),
            holder.clone(),
            super::FLAGS.to_vec(),
            super::LIBRARY_NAME_RULE,
        ))?;
        let redis: Table = g.get("redis")?;
        for (name, key, frame) in FRAMED {
            lua.set_named_registry_value(key, redis.get::<Function>(*name)?)?;
            // SAFETY: the frames only move values on the Lua stack.
            redis.set(*name, unsafe { lua.create_c_function(*frame)? })?;
        }
        // Nothing outside the sandbox reaches the debug library.
        g.set("debug", Value::Nil)?;
        let killed = Arc::new(AtomicU8::new(0));
        let started = Arc::new(AtomicU64::new(0));
        let deadline = Arc::new(AtomicU64::new(0));
        let (k, st, dl) = (killed.clone(), started.clone(), deadline.clone());
        holder.raw_set(
            "killed",
            lua.create_function(move |_, ()| {
                Ok(match k.load(Ordering::Relaxed) {
                    KILLED => Some("ERR Script killed by user with SCRIPT KILL..."),
                    TIMED_OUT => Some("ERR FUNCTION LOAD timeout"),
                    _ => None,
                })
            })?,
        )?;
        let k = killed.clone();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(KILL_CHECK_EVERY),
            move |_, _| {
                // Once killed, every check raises again, so a pcall in
                // the script cannot swallow the kill.
                let now = crate::cmd::now_ms();
                let d = dl.load(Ordering::Relaxed);
                if d != 0 && now > d {
                    k.store(TIMED_OUT, Ordering::Relaxed);
                }
                if k.load(Ordering::Relaxed) != 0 || scripts.kill_asked(shard) {
                    if k.load(Ordering::Relaxed) == 0 {
                        k.store(KILLED, Ordering::Relaxed);
                    }
                    return Err(mlua::Error::RuntimeError("killed".into()));
                }
                let ran = now.saturating_sub(st.load(Ordering::Relaxed));
                if ran >= tun.busy_reply_threshold() {
                    scripts.set_busy(shard);
                }
                Ok(VmState::Continue)
            },
        )?;
        Ok(Runtime {
            lua,
            run,
            holder,
            env,
            xpcall,
            on_error,
            funcs: hashbrown::HashMap::new(),
            generation: 0,
            libs: hashbrown::HashMap::new(),
            fn_generation: 0,
            invoke,
            script,
            loader_redis,
            deadline,
            resp,
            host,
            killed,
            started,
        })
    }

    /// Compiles `body` (not cached), with its shebang flags (`#!lua
    /// flags=no-writes,...`, the line kept as a comment so line numbers
    /// hold). Errors: `ERR Error compiling script (new function):
    /// user_script:<line>: <message>`, and the shebang's.
    pub fn compile(&self, body: &[u8]) -> Result<(Function, Vec<String>), String> {
        let (code, flags) = script_source(body)?;
        let f = self
            .lua
            .load(&code[..])
            .set_name("@user_script")
            .into_function()
            .map_err(|e| compile_error(&e))?;
        f.set_environment(self.env.clone())
            .map_err(|e| format!("ERR {e}"))?;
        Ok((f, flags))
    }

    /// Runs a library's code (FUNCTION LOAD) and returns its name and the
    /// functions it registered. Errors (Redis 7.0 texts): `ERR Missing
    /// library metadata`, the shebang's, `ERR Error compiling function:
    /// ...`, `ERR Error registering functions: ...`, `ERR No functions
    /// registered`; a library that runs past 500 ms gets `ERR FUNCTION
    /// LOAD timeout`.
    pub fn load_library(&mut self, code: &[u8]) -> Result<(String, Vec<Registered>), String> {
        if !code.starts_with(b"#!") {
            return Err("ERR Missing library metadata".into());
        }
        let name = super::parse_shebang(code, true)?.name.unwrap_or_default();
        let mut body = code.to_vec();
        body[0] = b'-';
        body[1] = b'-';
        let f = self
            .lua
            .load(&body[..])
            .set_name("@user_function")
            .into_function()
            .map_err(|e| {
                compile_error(&e).replace(
                    "Error compiling script (new function)",
                    "Error compiling function",
                )
            })?;
        let lua_err = |e: mlua::Error| format!("ERR {e}");
        f.set_environment(self.env.clone()).map_err(lua_err)?;
        let reg = self.lua.create_table().map_err(lua_err)?;
        reg.raw_set("list", self.lua.create_table().map_err(lua_err)?)
            .map_err(lua_err)?;
        reg.raw_set("byname", self.lua.create_table().map_err(lua_err)?)
            .map_err(lua_err)?;
        self.holder
            .raw_set("registering", reg.clone())
            .map_err(lua_err)?;
        self.run
            .raw_set("redis", self.loader_redis.clone())
            .map_err(lua_err)?;
        self.killed.store(0, Ordering::Relaxed);
        self.deadline
            .store(crate::cmd::now_ms() + LOAD_TIMEOUT_MS, Ordering::Relaxed);
        let r: mlua::Result<MultiValue> = self.xpcall.call((f, self.on_error.clone()));
        self.deadline.store(0, Ordering::Relaxed);
        let _ = self.holder.raw_set("registering", Value::Nil);
        let _ = self.run.raw_set("redis", Value::Nil);
        let mut it = r.map_err(lua_err)?.into_iter();
        if !matches!(it.next(), Some(Value::Boolean(true))) {
            let e = it.next().unwrap_or(Value::Nil);
            let text = match &e {
                Value::Table(t) => t
                    .raw_get::<Option<mlua::String>>("err")
                    .ok()
                    .flatten()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_else(|| "ERR unknown error".into()),
                other => format!("ERR {other:?}"),
            };
            return Err(format!("ERR Error registering functions: {text}"));
        }
        let list: Table = reg.raw_get("list").map_err(lua_err)?;
        let mut out = Vec::new();
        for item in list.sequence_values::<Table>() {
            let item = item.map_err(lua_err)?;
            let flags: Table = item.raw_get("flags").map_err(lua_err)?;
            out.push(Registered {
                name: item.raw_get("name").map_err(lua_err)?,
                flags: flags
                    .sequence_values::<String>()
                    .filter_map(Result::ok)
                    .collect(),
                description: item.raw_get("desc").map_err(lua_err)?,
                callback: item.raw_get("cb").map_err(lua_err)?,
            });
        }
        if out.is_empty() {
            return Err("ERR No functions registered".into());
        }
        Ok((name, out))
    }

    /// Runs function `name` of `lib` (loading the library here the first
    /// time, or again after any FUNCTION change, `fn_generation`) with
    /// `keys` and `args` as its two arguments. Errors as [`Runtime::run`],
    /// `script: <function name>` in place of the SHA1.
    #[allow(clippy::too_many_arguments)]
    pub fn run_function(
        &mut self,
        lib: &super::Library,
        name: &str,
        fn_generation: u64,
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
        out: &mut Reply,
    ) {
        if fn_generation != self.fn_generation {
            self.libs.clear();
            self.fn_generation = fn_generation;
            let _ = self.lua.gc_collect();
        }
        if !self.libs.contains_key(&lib.name) {
            match self.load_library(&lib.code) {
                Ok((_, regs)) => {
                    let fns = regs.into_iter().map(|r| (r.name, r.callback)).collect();
                    self.libs.insert(lib.name.clone(), fns);
                }
                Err(e) => return out.error(&e),
            }
        }
        let Some(f) = self.libs.get(&lib.name).and_then(|l| l.get(name)).cloned() else {
            return out.error("ERR Function not found");
        };
        let Ok((k, a)) = string_arrays(&self.lua, keys, args) else {
            return out.error("ERR not enough memory");
        };
        self.execute(Invoke::Function(f, k, a), name, host, out);
    }

    /// Runs the script `sha` (compiling `body` the first time) with `keys`
    /// and `argv`, writing its result into `out` (RESP3 when `out.resp3`).
    /// `generation` is the registry's: a SCRIPT FLUSH since the last run
    /// drops every compiled function.
    pub fn run(
        &mut self,
        sha: &str,
        body: &[u8],
        generation: u64,
        keys: &[Bytes],
        argv: &[Bytes],
        host: &mut dyn Host,
        out: &mut Reply,
    ) {
        if generation != self.generation {
            self.funcs.clear();
            self.generation = generation;
            // Collect what the old functions held.
            let _ = self.lua.gc_collect();
        }
        let (f, flags) = match self.funcs.get(sha) {
            Some(f) => f.clone(),
            None => match self.compile(body) {
                Ok(f) => {
                    self.funcs.insert(sha.to_string(), f.clone());
                    f
                }
                Err(e) => return out.error(&e),
            },
        };
        if flags.iter().any(|f| f == "no-writes") {
            host.no_writes();
        }
        let Ok((k, a)) = string_arrays(&self.lua, keys, argv) else {
            return out.error("ERR not enough memory");
        };
        self.execute(Invoke::Script(f, k, a), sha, host, out);
    }

    /// Runs a script or a function's callback with `redis.call` bound to
    /// `host` and writes its result or error (`script: <id>`) into `out`.
    fn execute(&mut self, what: Invoke, id: &str, host: &mut dyn Host, out: &mut Reply) {
        self.resp.store(2, Ordering::Relaxed);
        self.killed.store(0, Ordering::Relaxed);
        self.started.store(crate::cmd::now_ms(), Ordering::Relaxed);
        let result = self.call(what, host);
        let sha = id;
        let text = match result {
            Ok((true, v)) => {
                let script_resp3 = self.resp.load(Ordering::Relaxed) == 3;
                if let Err(e) = write_value(out, &v, script_resp3, 0) {
                    out.error(&e);
                }
                return;
            }
            Ok((false, e)) => describe_error(&e, sha),
            Err(e) => format!("ERR {e} script: {sha}"),
        };
        out.error(&text);
    }

    /// Calls the script or callback under the error handler with
    /// `redis.call` bound to `host`: (true, result) or (false, error value).
    fn call(&mut self, what: Invoke, host: &mut dyn Host) -> mlua::Result<(bool, Value)> {
        let mut host: &mut dyn Host = host;
        self.host
            .store((&raw mut host).cast::<()>(), Ordering::Relaxed);
        let r: mlua::Result<MultiValue> = match what {
            Invoke::Script(f, k, a) => self.script.call((f, k, a)),
            Invoke::Function(f, k, a) => self.invoke.call((f, k, a)),
        };
        self.host.store(std::ptr::null_mut(), Ordering::Relaxed);
        let mut it = r?.into_iter();
        let ok = matches!(it.next(), Some(Value::Boolean(true)));
        Ok((ok, it.next().unwrap_or(Value::Nil)))
    }
}

/// The function behind `redis.call` and `redis.pcall` (`H.raw`), made once
/// per state: runs a command through the host of the running script
/// ([`Runtime::call`] sets `host` for the run) and converts its reply.
/// Errors (as a Lua error table): argument types, no arguments, and
/// `ERR nested redis.call` when no run is in progress (a call from inside
/// a call cannot happen: the host is taken for the call's duration).
fn raw_call(
    lua: &Lua,
    host: &AtomicPtr<()>,
    resp: &AtomicU8,
    args: MultiValue,
) -> mlua::Result<Value> {
    let mut v = Vec::with_capacity(args.len());
    for a in args.iter() {
        match a {
            Value::String(s) => v.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(n) => v.push(Bytes::from(n.to_string())),
            Value::Number(n) => v.push(Bytes::from(lua_number_text(*n))),
            _ => {
                return error_table(
                    lua,
                    "ERR Lua redis lib command arguments must be strings or integers",
                );
            }
        }
    }
    if v.is_empty() {
        return error_table(
            lua,
            "ERR Please specify at least one argument for this redis lib call",
        );
    }
    let resp3 = resp.load(Ordering::Relaxed) == 3;
    let p = host.swap(std::ptr::null_mut(), Ordering::Relaxed);
    if p.is_null() {
        return error_table(lua, "ERR nested redis.call");
    }
    // SAFETY: `p` points at the `&mut dyn Host` on the stack of
    // [`Runtime::call`], which outlives the script run it stored it for
    // and clears it before returning; this state runs on one thread only,
    // and the swap above leaves nobody else holding it until it goes back.
    let reply = unsafe { (*p.cast::<&mut dyn Host>()).call(v, resp3) };
    host.store(p, Ordering::Relaxed);
    let mut at = 0;
    match read_reply(lua, &reply, &mut at, 0)? {
        (Value::Table(t), true) => {
            t.raw_set("__tandem_err", true)?;
            Ok(Value::Table(t))
        }
        (v, _) => Ok(v),
    }
}

/// What [`Runtime::execute`] runs.
enum Invoke {
    /// An EVAL script with its KEYS and ARGV (globals while it runs).
    Script(Function, Table, Table),
    /// A function's callback with its keys and arguments tables.
    Function(Function, Table, Table),
}

/// `"7.0.15"` as Redis's `REDIS_VERSION_NUM` (0x00MMmmpp).
fn redis_version_num(v: &str) -> i64 {
    let mut n = 0i64;
    for part in v.split('.').take(3) {
        n = (n << 8) | part.parse::<i64>().unwrap_or(0);
    }
    n
}

/// A number argument of `redis.call` as Redis 7.0 passes it to the
/// command (`%.17g`, `luaRedisGenericCommand`).
fn lua_number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e17 {
        format!("{}", n as i64)
    } else if !n.is_finite() {
        if n.is_nan() {
            "nan".into()
        } else if n > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        // %.17g
        let s = format!("{:.16e}", n);
        match s.split_once('e') {
            Some((m, e)) => {
                let exp: i32 = e.parse().unwrap_or(0);
                if (-4..17).contains(&exp) {
                    let digits = (16 - exp).max(0) as usize;
                    let f = format!("{:.*}", digits, n);
                    let f = if f.contains('.') {
                        f.trim_end_matches('0').trim_end_matches('.').to_string()
                    } else {
                        f
                    };
                    f
                } else {
                    let m = m.trim_end_matches('0').trim_end_matches('.');
                    format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
                }
            }
            None => s,
        }
    }
}

/// Two Lua arrays of strings, `a` then `b` (a script's KEYS and ARGV, a
/// function's keys and args), made in one protected call: mlua protects
/// each of its own table and string operations separately once a memory
/// limit is set, which cost more than the rest of a short script's run.
fn string_arrays(lua: &Lua, a: &[Bytes], b: &[Bytes]) -> mlua::Result<(Table, Table)> {
    use mlua::ffi;
    // SAFETY: `exec_raw` runs the closure inside one `lua_pcall`, with
    // room for 3 more stack slots, which is what it uses (the two tables
    // and one string); a memory error unwinds out of it, past no Rust
    // value with a destructor (slice iterators only).
    unsafe {
        lua.exec_raw((), |state| {
            for items in [a, b] {
                ffi::lua_createtable(state, c_int::try_from(items.len()).unwrap_or(0), 0);
                for (i, s) in items.iter().enumerate() {
                    ffi::lua_pushlstring(state, s.as_ptr().cast(), s.len());
                    ffi::lua_rawseti(state, -2, i as ffi::lua_Integer + 1);
                }
            }
        })
    }
}

/// `{err = msg}` marked as raised by a call (so `redis.call` throws it).
fn error_table(lua: &Lua, msg: &str) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set("err", msg)?;
    t.raw_set("__tandem_err", true)?;
    Ok(Value::Table(t))
}

/// A failed run's error value as Redis 7.0 reports it:
/// `<err> script: <sha>, on <source>:<line>.`
fn describe_error(e: &Value, sha: &str) -> String {
    let (msg, source, line) = match e {
        Value::Table(t) => (
            t.raw_get::<Option<mlua::String>>("err")
                .ok()
                .flatten()
                .map(|s| s.to_string_lossy())
                .unwrap_or_else(|| "ERR unknown error".into()),
            t.raw_get::<Option<mlua::String>>("source")
                .ok()
                .flatten()
                .map(|s| s.to_string_lossy()),
            t.raw_get::<Option<i64>>("line").ok().flatten(),
        ),
        Value::String(s) => (format!("ERR {}", s.to_string_lossy()), None, None),
        Value::Error(e) => (format!("ERR {e}"), None, None),
        other => (format!("ERR {other:?}"), None, None),
    };
    match (source, line) {
        (Some(s), Some(l)) => format!("{msg} script: {sha}, on {s}:{l}."),
        _ => format!("{msg} script: {sha}"),
    }
}

/// Writes a script's result (see the module docs for the rules).
/// Booleans follow the script's `redis.setresp` (`script_resp3`), as Redis
/// 7.0's `luaReplyToRedisReply` does; everything else the client's
/// protocol. Errors: `ERR reached lua stack limit` for tables nested too
/// deep.
fn write_value(out: &mut Reply, v: &Value, script_resp3: bool, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("ERR reached lua stack limit".into());
    }
    match v {
        Value::Nil => out.null(),
        Value::Boolean(b) => {
            if script_resp3 {
                out.boolean(*b)
            } else if *b {
                out.int(1)
            } else {
                out.null()
            }
        }
        Value::Integer(n) => out.int(*n),
        Value::Number(n) => out.int(truncate(*n)),
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Table(t) => write_table(out, t, script_resp3, depth)?,
        _ => out.null(),
    }
    Ok(())
}

/// A Lua number as Redis casts it to `long long`: NaN and numbers out of
/// range give `LLONG_MIN`, as x86-64 does (`return 0/0` and `return 2^63`
/// reply -9223372036854775808 from redis-server).
fn truncate(n: f64) -> i64 {
    super::libs::c_long(n)
}

fn write_table(out: &mut Reply, t: &Table, script_resp3: bool, depth: usize) -> Result<(), String> {
    let get = |k: &str| t.raw_get::<Value>(k).unwrap_or(Value::Nil);
    if let Value::String(e) = get("err") {
        out.error(&e.to_string_lossy());
        return Ok(());
    }
    if let Value::String(s) = get("ok") {
        let s = s.to_string_lossy().replace(['\r', '\n'], " ");
        out.simple(&s);
        return Ok(());
    }
    match get("double") {
        Value::Number(d) => return Ok(out.double(d)),
        Value::Integer(d) => return Ok(out.double(d as f64)),
        _ => {}
    }
    if let Value::String(s) = get("big_number") {
        let s = s.to_string_lossy().replace(['\r', '\n'], " ");
        if out.resp3 {
            out.raw(format!("({s}\r\n").as_bytes());
        } else {
            out.bulk(s.as_bytes());
        }
        return Ok(());
    }
    if let Value::Table(m) = get("map") {
        let pairs: Vec<(Value, Value)> = m.pairs::<Value, Value>().filter_map(Result::ok).collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            write_value(out, k, script_resp3, depth + 1)?;
            write_value(out, v, script_resp3, depth + 1)?;
        }
        return Ok(());
    }
    if let Value::Table(s) = get("set") {
        let members: Vec<Value> = s
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, _)| k)
            .collect();
        out.set(members.len());
        for m in &members {
            write_value(out, m, script_resp3, depth + 1)?;
        }
        return Ok(());
    }
    if let Value::Table(v) = get("verbatim_string") {
        let format = v
            .raw_get::<Option<mlua::String>>("format")
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_else(|| b"txt".to_vec());
        let s = v
            .raw_get::<Option<mlua::String>>("string")
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default();
        if out.resp3 && format.len() == 3 {
            let mut b = Vec::with_capacity(s.len() + 16);
            b.put_u8(b'=');
            b.extend_from_slice((s.len() + 4).to_string().as_bytes());
            b.extend_from_slice(b"\r\n");
            b.extend_from_slice(&format);
            b.put_u8(b':');
            b.extend_from_slice(&s);
            b.extend_from_slice(b"\r\n");
            out.raw(&b);
        } else {
            out.bulk(&s);
        }
        return Ok(());
    }
    // An array: elements 1.. up to the first nil.
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in &items {
        write_value(out, v, script_resp3, depth + 1)?;
    }
    Ok(())
}

/// One reply read from `buf[*at..]` into a Lua value; the flag says it was
/// an error reply (`{err=...}`).
fn read_reply(lua: &Lua, buf: &[u8], at: &mut usize, depth: usize) -> mlua::Result<(Value, bool)> {
    let bad = || mlua::Error::RuntimeError("ERR malformed reply".into());
    if depth > MAX_DEPTH {
        return Err(bad());
    }
    let tag = *buf.get(*at).ok_or_else(bad)?;
    let end = memchr::memmem::find(&buf[*at..], b"\r\n").ok_or_else(bad)? + *at;
    let line = &buf[*at + 1..end];
    *at = end + 2;
    let int = |l: &[u8]| crate::resp::parse::parse_i64(l).ok_or_else(bad);
    let text = |l: &[u8]| lua.create_string(l);
    let one = |k: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(k, v)?;
        Ok(Value::Table(t))
    };
    let v = match tag {
        b'+' => one("ok", Value::String(text(line)?))?,
        b'-' => return Ok((one("err", Value::String(text(line)?))?, true)),
        b':' => Value::Number(int(line)? as f64),
        b'$' | b'=' => {
            let n = int(line)?;
            if n < 0 {
                Value::Boolean(false)
            } else {
                let n = n as usize;
                let body = buf.get(*at..*at + n).ok_or_else(bad)?;
                *at += n + 2;
                if tag == b'=' {
                    let (format, s) = if body.len() >= 4 && body[3] == b':' {
                        (&body[..3], &body[4..])
                    } else {
                        (&b"txt"[..], body)
                    };
                    let t = lua.create_table()?;
                    t.raw_set("format", text(format)?)?;
                    t.raw_set("string", text(s)?)?;
                    one("verbatim_string", Value::Table(t))?
                } else {
                    Value::String(text(body)?)
                }
            }
        }
        b'*' | b'~' | b'%' | b'>' => {
            let n = int(line)?;
            if n < 0 {
                Value::Boolean(false)
            } else {
                let t = lua.create_table()?;
                match tag {
                    b'%' => {
                        for _ in 0..n {
                            let (k, _) = read_reply(lua, buf, at, depth + 1)?;
                            let (v, _) = read_reply(lua, buf, at, depth + 1)?;
                            t.raw_set(k, v)?;
                        }
                        one("map", Value::Table(t))?
                    }
                    b'~' => {
                        for _ in 0..n {
                            let (k, _) = read_reply(lua, buf, at, depth + 1)?;
                            t.raw_set(k, true)?;
                        }
                        one("set", Value::Table(t))?
                    }
                    _ => {
                        for i in 0..n {
                            let (v, _) = read_reply(lua, buf, at, depth + 1)?;
                            t.raw_set(i + 1, v)?;
                        }
                        Value::Table(t)
                    }
                }
            }
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(line == b"t"),
        b',' => {
            let d = std::str::from_utf8(line)
                .ok()
                .and_then(|s| match s {
                    "inf" => Some(f64::INFINITY),
                    "-inf" => Some(f64::NEG_INFINITY),
                    "nan" => Some(f64::NAN),
                    s => s.parse::<f64>().ok(),
                })
                .ok_or_else(bad)?;
            one("double", Value::Number(d))?
        }
        b'(' => one("big_number", Value::String(text(line)?))?,
        _ => return Err(bad()),
    };
    Ok((v, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_lua_does() {
        assert_eq!(lua_number_text(3.0), "3");
        assert_eq!(lua_number_text(-42.0), "-42");
        assert_eq!(lua_number_text(0.5), "0.5");
        assert_eq!(lua_number_text(0.1), "0.10000000000000001");
        assert_eq!(lua_number_text(1e20), "1e+20");
        assert_eq!(redis_version_num("7.0.15"), 0x07000f);
    }
}
