//! One trivial hook per message, for each embedding emgd could use. Each hook reads the
//! destination, compares it, and answers "accept". Prints ns per call.
//!
//! Run: `cargo run --release` (Lua 5.4) and `cargo run --release --no-default-features
//! --features luajit` (LuaJIT); the WASM and process rows are the same in both.

use mlua::{HookTriggers, Lua, UserData, UserDataFields, VmState};
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The thread's CPU time at the count hook's first firing in the current call.
struct CpuMark(Option<Duration>);

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[derive(Clone)]
struct Msg {
    source: String,
    dest: String,
    body: Vec<u8>,
    dcs: u8,
}

fn sample(i: u64) -> Msg {
    Msg {
        source: "46700000001".into(),
        dest: format!("4670{:07}", i % 10_000_000),
        body: b"Hello from the embedding benchmark, a message of typical length".to_vec(),
        dcs: 0,
    }
}

/// The message as userdata: fields are read lazily, so a hook that reads one field costs one
/// conversion, not a table of every option.
struct MsgData(Msg);

impl UserData for MsgData {
    fn add_fields<F: UserDataFields<Self>>(f: &mut F) {
        f.add_field_method_get("destaddr", |_, m| Ok(m.0.dest.clone()));
        f.add_field_method_get("sourceaddr", |_, m| Ok(m.0.source.clone()));
        f.add_field_method_get("message", |lua, m| lua.create_string(&m.0.body));
        f.add_field_method_get("dcs", |_, m| Ok(m.0.dcs));
        f.add_field_method_set("destaddr", |_, m, v: String| {
            m.0.dest = v;
            Ok(())
        });
    }
}

const SCRIPT: &str = r#"
function before_receive(msg)
  if msg.destaddr == "blocked" then return false, "blocked" end
  return true
end
function before_receive_table(t)
  if t.destaddr == "blocked" then return false, "blocked" end
  return true
end
"#;

fn report(name: &str, n: u64, t: Duration) {
    println!(
        "{name:<52} {:>9.0} ns/call  ({n} calls)",
        t.as_nanos() as f64 / n as f64
    );
}

fn lua_state(budget_hook: bool) -> Lua {
    let lua = Lua::new();
    lua.load(SCRIPT).exec().expect("script");
    if budget_hook {
        // What emgd does to cut an endless loop: every 1000 VM instructions a count hook
        // reads the thread's CPU clock (from its first firing in a call) and errs past 10 ms.
        lua.set_app_data(Arc::new(Mutex::new(Instant::now())));
        lua.set_app_data(CpuMark(None));
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(1000),
            |lua, _| {
                let now = thread_cpu();
                let mut mark = lua.app_data_mut::<CpuMark>().unwrap();
                match mark.0 {
                    None => mark.0 = Some(now),
                    Some(t) if now - t > Duration::from_millis(10) => {
                        return Err(mlua::Error::runtime("budget exceeded"));
                    }
                    Some(_) => {}
                }
                Ok(VmState::Continue)
            },
        )
        .expect("hook");
    }
    lua
}

fn bench_lua_userdata(n: u64, budget_hook: bool) -> Duration {
    let lua = Mutex::new(lua_state(budget_hook));
    let start = Instant::now();
    let mut accepted = 0u64;
    for i in 0..n {
        let m = sample(i);
        let lua = lua.lock().unwrap();
        if budget_hook {
            // A new deadline for every call, as emgd sets one.
            lua.app_data_mut::<CpuMark>().unwrap().0 = None;
        }
        let f: mlua::Function = lua.globals().get("before_receive").unwrap();
        let ud = lua.create_userdata(MsgData(m)).unwrap();
        let (ok, _why): (bool, Option<String>) = f.call(&ud).unwrap();
        let _back = ud.take::<MsgData>().unwrap().0;
        accepted += ok as u64;
    }
    assert_eq!(accepted, n);
    start.elapsed()
}

/// What emgd does: the hook function looked up once at load, one userdata per state reused
/// for every call (the message is moved in and out), a mutex around the state.
fn bench_lua_reused(n: u64) -> Duration {
    let lua = lua_state(true);
    let f: mlua::Function = lua.globals().get("before_receive").unwrap();
    let ud = lua.create_userdata(MsgData(sample(0))).unwrap();
    let state = Mutex::new((lua, f, ud));
    let start = Instant::now();
    let mut accepted = 0u64;
    for i in 0..n {
        let m = sample(i);
        let st = state.lock().unwrap();
        st.0.app_data_mut::<CpuMark>().unwrap().0 = None;
        st.2.borrow_mut::<MsgData>().unwrap().0 = m;
        let (ok, _why): (bool, Option<String>) = st.1.call(&st.2).unwrap();
        let _back = std::mem::replace(&mut st.2.borrow_mut::<MsgData>().unwrap().0, sample(0));
        accepted += ok as u64;
    }
    assert_eq!(accepted, n);
    start.elapsed()
}

/// The same call on a dedicated thread that owns the state: each message goes there over a
/// channel and the answer comes back over another (what a plugin thread pool would cost).
fn bench_lua_thread(n: u64) -> Duration {
    let (tx, rx) = std::sync::mpsc::channel::<(Msg, std::sync::mpsc::SyncSender<bool>)>();
    let worker = std::thread::spawn(move || {
        let lua = lua_state(true);
        let f: mlua::Function = lua.globals().get("before_receive").unwrap();
        let ud = lua.create_userdata(MsgData(sample(0))).unwrap();
        for (m, reply) in rx {
            lua.app_data_mut::<CpuMark>().unwrap().0 = None;
            ud.borrow_mut::<MsgData>().unwrap().0 = m;
            let (ok, _why): (bool, Option<String>) = f.call(&ud).unwrap();
            let _ = reply.send(ok);
        }
    });
    let start = Instant::now();
    let mut accepted = 0u64;
    for i in 0..n {
        let (rtx, rrx) = std::sync::mpsc::sync_channel(1);
        tx.send((sample(i), rtx)).unwrap();
        accepted += rrx.recv().unwrap() as u64;
    }
    let t = start.elapsed();
    drop(tx);
    worker.join().unwrap();
    assert_eq!(accepted, n);
    t
}

/// How long `while true do end` runs before the budget hook cuts it (None: not cut in 2 s).
fn endless_loop_cut() -> Option<Duration> {
    let lua = lua_state(true);
    lua.load("function spin() local n = 0 while true do n = n + 1 end end")
        .exec()
        .unwrap();
    let f: mlua::Function = lua.globals().get("spin").unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        lua.app_data_mut::<CpuMark>().unwrap().0 = None;
        let r = f.call::<()>(());
        let _ = done_tx.send(r.is_err());
    });
    match done_rx.recv_timeout(Duration::from_secs(2)) {
        Ok(true) => Some(start.elapsed()),
        _ => None,
    }
}

/// The floor every row pays: making the sample message.
fn bench_nothing(n: u64) -> Duration {
    let start = Instant::now();
    let mut total = 0usize;
    for i in 0..n {
        total += std::hint::black_box(sample(i)).dest.len();
    }
    assert!(total > 0);
    start.elapsed()
}

fn bench_lua_table(n: u64) -> Duration {
    let lua = lua_state(false);
    let start = Instant::now();
    let mut accepted = 0u64;
    for i in 0..n {
        let m = sample(i);
        let f: mlua::Function = lua.globals().get("before_receive_table").unwrap();
        let t = lua.create_table().unwrap();
        t.set("destaddr", m.dest.as_str()).unwrap();
        t.set("sourceaddr", m.source.as_str()).unwrap();
        t.set("message", lua.create_string(&m.body).unwrap()).unwrap();
        t.set("dcs", m.dcs).unwrap();
        let (ok, _why): (bool, Option<String>) = f.call(&t).unwrap();
        accepted += ok as u64;
    }
    assert_eq!(accepted, n);
    start.elapsed()
}

const WAT: &str = r#"
(module
  (memory (export "memory") 1)
  ;; before_receive(ptr, len): the message is "dest\0body"; reject when dest starts with 'b'.
  (func (export "before_receive") (param $ptr i32) (param $len i32) (result i32)
    (if (result i32) (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 98))
      (then (i32.const 0)) (else (i32.const 1)))))
"#;

fn bench_wasmi(n: u64) -> Duration {
    let engine = wasmi::Engine::default();
    let wasm = wat::parse_str(WAT).unwrap();
    let module = wasmi::Module::new(&engine, &wasm[..]).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let linker = wasmi::Linker::<()>::new(&engine);
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let memory = instance.get_memory(&store, "memory").unwrap();
    let f = instance
        .get_typed_func::<(i32, i32), i32>(&store, "before_receive")
        .unwrap();
    let start = Instant::now();
    let mut accepted = 0u64;
    let mut buf = Vec::with_capacity(256);
    for i in 0..n {
        let m = sample(i);
        buf.clear();
        buf.extend_from_slice(m.dest.as_bytes());
        buf.push(0);
        buf.extend_from_slice(&m.body);
        memory.write(&mut store, 0, &buf).unwrap();
        accepted += f.call(&mut store, (0, buf.len() as i32)).unwrap() as u64;
    }
    assert_eq!(accepted, n);
    start.elapsed()
}

const PY: &str = r#"
import sys, json
for line in sys.stdin:
    m = json.loads(line)
    sys.stdout.write("0\n" if m["destaddr"] == "blocked" else "1\n")
    sys.stdout.flush()
"#;

fn bench_process(n: u64) -> Duration {
    let mut child = std::process::Command::new("python3")
        .args(["-u", "-c", PY])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let start = Instant::now();
    let mut accepted = 0u64;
    let mut line = String::new();
    for i in 0..n {
        let m = sample(i);
        let j = serde_json::json!({
            "destaddr": m.dest, "sourceaddr": m.source,
            "message": String::from_utf8_lossy(&m.body), "dcs": m.dcs,
        });
        writeln!(stdin, "{j}").unwrap();
        stdin.flush().unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        accepted += (line.trim() == "1") as u64;
    }
    let t = start.elapsed();
    drop(stdin);
    let _ = child.wait();
    assert_eq!(accepted, n);
    t
}

fn main() {
    let flavour = if cfg!(feature = "luajit") {
        "LuaJIT"
    } else {
        "Lua 5.4"
    };
    let n = 1_000_000;
    // Warm up once so the first row does not pay for page faults.
    bench_lua_userdata(10_000, true);
    report("no hook (making the sample message only)", n, bench_nothing(n));
    report(
        &format!("{flavour}: userdata message, no budget hook"),
        n,
        bench_lua_userdata(n, false),
    );
    report(
        &format!("{flavour}: userdata message + budget hook/1000 instr"),
        n,
        bench_lua_userdata(n, true),
    );
    report(
        &format!("{flavour}: cached function, reused userdata, budget"),
        n,
        bench_lua_reused(n),
    );
    report(
        &format!("{flavour}: the same on a dedicated thread (channel hop)"),
        200_000,
        bench_lua_thread(200_000),
    );
    match endless_loop_cut() {
        Some(t) => println!("{flavour}: endless loop cut by the 10 ms budget after {t:?}"),
        None => println!("{flavour}: endless loop NOT cut by the budget hook within 2 s"),
    }
    report(
        &format!("{flavour}: a fresh table of options per message"),
        n,
        bench_lua_table(n),
    );
    report("WASM (wasmi 2, interpreter): message copied in", n, bench_wasmi(n));
    let np = 50_000;
    report(
        "external process (python3, JSON line over a pipe)",
        np,
        bench_process(np),
    );
}
