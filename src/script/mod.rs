//! Lua scripting shared by both stages: the script cache every connection
//! sees (EVAL, EVALSHA, SCRIPT LOAD/EXISTS/FLUSH/KILL) and what the IO
//! stage needs to route a script; the Lua runtime itself lives on each
//! shard ([`lua`]).
//!
//! # How a script is routed (see `docs/design.md`)
//!
//! A script runs on one shard, the coordinator, inside the transaction
//! layer: a script whose declared keys (`KEYS`) sit on one shard runs there
//! on that shard's fast path; one whose keys span shards runs as a
//! coordinated transaction locking those keys. Scripts often build key
//! names themselves (job queues, rate limiters): a script never seen to
//! stay within its declared keys runs with every shard locked, so it is
//! atomic whatever it touches. Each script starts that way; a run that
//! stayed within `KEYS` marks it [`Script::checked`], and any run that
//! strays marks it [`Script::strays`] for good.

pub mod libs;
pub mod lua;

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

/// A script in the cache: its body and what its runs showed.
#[derive(Debug)]
pub struct Script {
    /// Lower-case hex SHA1 of the body (40 bytes).
    pub sha: String,
    pub body: Bytes,
    /// A run stayed within its declared keys.
    pub checked: AtomicBool,
    /// A run touched a key it did not declare: always lock every shard.
    pub strays: AtomicBool,
}

impl Script {
    /// Whether the script must run with every shard locked (never seen to
    /// stay within `KEYS`, or seen to leave them).
    #[inline]
    pub fn needs_every_shard(&self) -> bool {
        !self.checked.load(Ordering::Relaxed) || self.strays.load(Ordering::Relaxed)
    }
}

/// What a shard is doing with a script, for SCRIPT KILL.
const IDLE: u8 = 0;
const RUNNING: u8 = 1;
const WROTE: u8 = 2;

/// One shard's script state, on its own cache line.
#[repr(align(64))]
#[derive(Default)]
struct Slot {
    state: AtomicU8,
    kill: AtomicBool,
    /// Running for longer than `busy-reply-threshold`.
    busy: AtomicBool,
}

/// The process-wide script cache (Redis's `lctx.lua_scripts`), shared by
/// every IO thread and shard. Reads take a read lock (EVALSHA); loads and
/// flushes a write lock.
pub struct Registry {
    scripts: RwLock<hashbrown::HashMap<String, Arc<Script>>>,
    /// FUNCTION libraries and their functions.
    functions: RwLock<Functions>,
    /// Bumped by every FUNCTION LOAD, DELETE and FLUSH: shards reload.
    fn_generation: AtomicU64,
    /// Bumped by SCRIPT FLUSH: shards drop their compiled functions.
    generation: AtomicU64,
    slots: Vec<Slot>,
    /// Shutting down: every running script stops at its next check.
    abort: AtomicBool,
    /// Shards whose script has run past `busy-reply-threshold`.
    busy: std::sync::atomic::AtomicUsize,
    /// Runs that touched undeclared keys on another shard while not every
    /// shard was locked (INFO tandem `script_strayed_runs`).
    pub strayed_runs: AtomicU64,
    /// Scripts and functions routed with every shard locked (INFO tandem
    /// `script_runs_every_shard`).
    pub global_runs: AtomicU64,
}

/// Lower-case hex SHA1 of `body` (Redis's `sha1hex`).
pub fn sha1_hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

impl Registry {
    /// A registry for `shards` shard threads.
    pub fn new(shards: usize) -> Registry {
        Registry {
            scripts: RwLock::new(hashbrown::HashMap::new()),
            functions: RwLock::new(Functions::default()),
            fn_generation: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            slots: (0..shards.max(1)).map(|_| Slot::default()).collect(),
            busy: std::sync::atomic::AtomicUsize::new(0),
            abort: AtomicBool::new(false),
            strayed_runs: AtomicU64::new(0),
            global_runs: AtomicU64::new(0),
        }
    }

    /// Adds `body` (or finds it) and returns its entry.
    pub fn load(&self, body: Bytes) -> Arc<Script> {
        let sha = sha1_hex(&body);
        if let Some(s) = self.get(sha.as_bytes()) {
            return s;
        }
        let mut map = self.scripts.write().unwrap_or_else(|e| e.into_inner());
        map.entry(sha.clone())
            .or_insert_with(|| {
                Arc::new(Script {
                    sha,
                    body,
                    checked: AtomicBool::new(false),
                    strays: AtomicBool::new(false),
                })
            })
            .clone()
    }

    /// The script whose SHA1 is `sha` (any case), if cached.
    pub fn get(&self, sha: &[u8]) -> Option<Arc<Script>> {
        if sha.len() != 40 {
            return None;
        }
        let mut lower = [0u8; 40];
        lower.copy_from_slice(sha);
        lower.make_ascii_lowercase();
        let key = std::str::from_utf8(&lower).ok()?;
        let map = self.scripts.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned()
    }

    /// What a run showed about a script or function's keys: it strayed
    /// from its declared keys (lock every shard from now on) or stayed.
    pub fn learned(&self, strayed: bool, checked: &AtomicBool, strays: &AtomicBool) {
        if strayed {
            strays.store(true, Ordering::Relaxed);
            self.strayed_runs.fetch_add(1, Ordering::Relaxed);
        } else {
            checked.store(true, Ordering::Relaxed);
        }
    }

    /// SCRIPT FLUSH: forgets every script.
    pub fn flush(&self) {
        let mut map = self.scripts.write().unwrap_or_else(|e| e.into_inner());
        map.clear();
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Changes with every SCRIPT FLUSH.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Shard `shard` starts running a script.
    pub fn started(&self, shard: u16) {
        if let Some(s) = self.slots.get(shard as usize) {
            s.kill.store(false, Ordering::Relaxed);
            s.state.store(RUNNING, Ordering::Relaxed);
        }
    }

    /// The script running on `shard` wrote: SCRIPT KILL may no longer stop it.
    pub fn wrote(&self, shard: u16) {
        if let Some(s) = self.slots.get(shard as usize) {
            s.state.store(WROTE, Ordering::Relaxed);
        }
    }

    /// Shard `shard` finished its script.
    pub fn finished(&self, shard: u16) {
        if let Some(s) = self.slots.get(shard as usize) {
            s.state.store(IDLE, Ordering::Relaxed);
            s.kill.store(false, Ordering::Relaxed);
            if s.busy.swap(false, Ordering::Relaxed) {
                self.busy.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// The script on `shard` has run past `busy-reply-threshold`: other
    /// clients get `-BUSY` until it ends.
    pub fn set_busy(&self, shard: u16) {
        if let Some(s) = self.slots.get(shard as usize) {
            if !s.busy.swap(true, Ordering::Relaxed) {
                self.busy.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether any script has run past `busy-reply-threshold` (one load:
    /// written only by such scripts). Redis answers every client `BUSY
    /// Redis is busy running a script. You can only call SCRIPT KILL or
    /// SHUTDOWN NOSAVE.` then (`processCommand`).
    #[inline]
    pub fn any_busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed) != 0
    }

    /// Whether SCRIPT KILL (or a shutdown) asked the script on `shard` to
    /// stop.
    #[inline]
    pub fn kill_asked(&self, shard: u16) -> bool {
        self.abort.load(Ordering::Relaxed)
            || self
                .slots
                .get(shard as usize)
                .is_some_and(|s| s.kill.load(Ordering::Relaxed))
    }

    /// The server is shutting down: every script stops, written or not.
    pub fn abort_all(&self) {
        self.abort.store(true, Ordering::Relaxed);
    }

    /// SCRIPT KILL: asks every running script that has not written to
    /// stop. Errors (Redis 7.0 `scriptKill`): `NOTBUSY No scripts in
    /// execution right now.`; `UNKILLABLE ...` when every running script
    /// already wrote.
    pub fn kill(&self) -> Result<(), &'static str> {
        let mut running = false;
        let mut killed = false;
        for s in &self.slots {
            match s.state.load(Ordering::Relaxed) {
                RUNNING => {
                    s.kill.store(true, Ordering::Relaxed);
                    killed = true;
                    running = true;
                }
                WROTE => running = true,
                _ => {}
            }
        }
        match (running, killed) {
            (false, _) => Err("NOTBUSY No scripts in execution right now."),
            (true, false) => Err(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            ),
            _ => Ok(()),
        }
    }

    /// Number of cached scripts (INFO `number_of_cached_scripts`).
    pub fn len(&self) -> usize {
        self.scripts.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Bytes of the cached scripts' bodies and digests (MEMORY STATS'
    /// `lua.caches`; each shard's compiled copies are not counted).
    pub fn memory(&self) -> usize {
        self.scripts
            .read()
            .map(|m| m.values().map(|s| s.body.len() + s.sha.len()).sum())
            .unwrap_or(0)
    }

    /// Whether no script is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A function a library registered (FUNCTION LOAD, `redis.register_function`).
#[derive(Debug)]
pub struct FunctionMeta {
    pub name: String,
    pub library: String,
    pub description: Option<String>,
    /// As registered: `no-writes`, `allow-oom`, `allow-stale`,
    /// `no-cluster`, `allow-cross-slot-keys`.
    pub flags: Vec<String>,
    /// Routing knowledge, as for [`Script`].
    pub checked: AtomicBool,
    pub strays: AtomicBool,
}

impl FunctionMeta {
    /// See [`Script::needs_every_shard`].
    #[inline]
    pub fn needs_every_shard(&self) -> bool {
        !self.checked.load(Ordering::Relaxed) || self.strays.load(Ordering::Relaxed)
    }

    /// Registered with `no-writes` (FCALL_RO may run it).
    pub fn no_writes(&self) -> bool {
        self.flags.iter().any(|f| f == "no-writes")
    }
}

/// A loaded library: its code and its functions, in registration order.
#[derive(Debug)]
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<Arc<FunctionMeta>>,
}

/// Every library, by name, and every function, by name.
#[derive(Default, Clone)]
struct Functions {
    libs: std::collections::BTreeMap<String, Arc<Library>>,
    by_name: hashbrown::HashMap<String, Arc<FunctionMeta>>,
}

/// A library or function name already taken.
enum Conflict {
    Library(String),
    Function(String),
}

/// What FUNCTION RESTORE does with the libraries already loaded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RestorePolicy {
    Flush,
    Append,
    Replace,
}

impl Functions {
    /// Adds `lib`, replacing a library of its name when `replace`.
    fn join(&mut self, lib: Library, replace: bool) -> Result<(), Conflict> {
        if self.libs.contains_key(&lib.name) && !replace {
            return Err(Conflict::Library(lib.name));
        }
        for func in &lib.functions {
            if let Some(other) = self.by_name.get(&func.name) {
                if other.library != lib.name {
                    return Err(Conflict::Function(func.name.clone()));
                }
            }
        }
        if let Some(old) = self.libs.remove(&lib.name) {
            for func in &old.functions {
                self.by_name.remove(&func.name);
            }
        }
        for func in &lib.functions {
            self.by_name.insert(func.name.clone(), func.clone());
        }
        self.libs.insert(lib.name.clone(), Arc::new(lib));
        Ok(())
    }
}

impl Registry {
    /// Adds library `lib` (FUNCTION LOAD, REPLACE when `replace`).
    /// Errors (Redis 7.0 `functionsCreateWithLibraryCtx`): `ERR Library
    /// '<name>' already exists`, `ERR Function <name> already exists`.
    pub fn add_library(&self, lib: Library, replace: bool) -> Result<(), String> {
        let mut f = self.functions.write().unwrap_or_else(|e| e.into_inner());
        f.join(lib, replace).map_err(|c| match c {
            Conflict::Library(name) => format!("ERR Library '{name}' already exists"),
            Conflict::Function(name) => format!("ERR Function {name} already exists"),
        })?;
        self.fn_generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// FUNCTION RESTORE: adds `libs` all or none, by `policy`
    /// (`functionRestoreCommand`): `Flush` replaces every library, `Append`
    /// fails on a library name or function name already there, `Replace`
    /// replaces same-named libraries. Errors (`libraryJoin`): `ERR Library
    /// <name> already exists` (no quotes, unlike FUNCTION LOAD's), `ERR
    /// Function <name> already exists`.
    pub fn restore(&self, libs: Vec<Library>, policy: RestorePolicy) -> Result<(), String> {
        let mut f = self.functions.write().unwrap_or_else(|e| e.into_inner());
        let mut next = match policy {
            RestorePolicy::Flush => Functions::default(),
            _ => f.clone(),
        };
        for lib in libs {
            next.join(lib, policy == RestorePolicy::Replace)
                .map_err(|c| match c {
                    Conflict::Library(name) => format!("ERR Library {name} already exists"),
                    Conflict::Function(name) => format!("ERR Function {name} already exists"),
                })?;
        }
        *f = next;
        self.fn_generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// FUNCTION DELETE. Errors: `ERR Library not found`.
    pub fn delete_library(&self, name: &str) -> Result<(), String> {
        let mut f = self.functions.write().unwrap_or_else(|e| e.into_inner());
        let lib = f.libs.remove(name).ok_or("ERR Library not found")?;
        for func in &lib.functions {
            f.by_name.remove(&func.name);
        }
        self.fn_generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// FUNCTION FLUSH.
    pub fn flush_functions(&self) {
        let mut f = self.functions.write().unwrap_or_else(|e| e.into_inner());
        f.libs.clear();
        f.by_name.clear();
        self.fn_generation.fetch_add(1, Ordering::Release);
    }

    /// The function called `name` and its library.
    pub fn function(&self, name: &[u8]) -> Option<(Arc<FunctionMeta>, Arc<Library>)> {
        let name = std::str::from_utf8(name).ok()?;
        let f = self.functions.read().unwrap_or_else(|e| e.into_inner());
        let meta = f.by_name.get(name)?.clone();
        let lib = f.libs.get(&meta.library)?.clone();
        Some((meta, lib))
    }

    /// Every library, by name.
    pub fn libraries(&self) -> Vec<Arc<Library>> {
        let f = self.functions.read().unwrap_or_else(|e| e.into_inner());
        f.libs.values().cloned().collect()
    }

    /// Changes with every FUNCTION LOAD, DELETE and FLUSH.
    #[inline]
    pub fn fn_generation(&self) -> u64 {
        self.fn_generation.load(Ordering::Acquire)
    }
}

/// The `#!<engine> name=<library> ...` first line of a library (FUNCTION
/// LOAD) or script (EVAL): the library name if given, and the flags.
/// Errors as Redis 7.0's `functionExtractLibMetaData` and
/// `evalExtractShebangFlags`.
pub struct Shebang {
    pub name: Option<String>,
    pub flags: Vec<String>,
}

/// Flags a script or function may declare.
pub const FLAGS: &[&str] = &[
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

/// Parses the shebang line of `code` (which starts with `#!`); `library`
/// selects FUNCTION LOAD's rules (`name=` required, no `flags=`).
pub fn parse_shebang(code: &[u8], library: bool) -> Result<Shebang, String> {
    let line_end = memchr::memchr(b'\n', code).unwrap_or(code.len());
    let line = String::from_utf8_lossy(&code[2..line_end]);
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(if library {
            format!("ERR Engine '{engine}' not found")
        } else {
            format!("ERR Unexpected engine in script shebang: #!{engine}")
        });
    }
    let mut sb = Shebang {
        name: None,
        flags: Vec::new(),
    };
    for p in parts {
        match p.split_once('=') {
            Some(("name", v)) if library => {
                if v.is_empty() || !v.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    return Err(LIBRARY_NAME_RULE.into());
                }
                sb.name = Some(v.to_string());
            }
            Some(("flags", v)) if !library => {
                for f in v.split(',').filter(|f| !f.is_empty()) {
                    if !FLAGS.contains(&f) {
                        return Err(format!("ERR Unexpected flag in script shebang: {f}"));
                    }
                    sb.flags.push(f.to_string());
                }
            }
            _ if library => return Err(format!("ERR Invalid metadata value given: {p}")),
            _ => return Err(format!("ERR Unknown lua shebang option: {p}")),
        }
    }
    if library && sb.name.is_none() {
        return Err("ERR Library name was not given".into());
    }
    Ok(sb)
}

/// Redis 7.0's text for a bad library or function name (it names
/// libraries for both).
pub const LIBRARY_NAME_RULE: &str = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// Shared handle type.
pub type Scripts = Arc<Registry>;
