//! The latency lab end to end: a small sweep (tools/sweep.py --quick:
//! tandem split and colocated plus redis-server as the reference, each
//! under tandem-loadgen closed and open loop and redis-benchmark), its CSV,
//! the report (tandem-report), and the page rendered by headless Chromium:
//! a screenshot is taken and the page's own script reports how many plots
//! rendered and whether any error was raised.
//!
//! Needs python3, redis-server, redis-benchmark, redis-cli, chromium and a
//! TrueType font (.ci/run installs them); a missing one fails the test.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` to completion, killing it after `limit`. Output goes through
/// files, so a child writing more than a pipe holds never blocks.
fn run(mut cmd: Command, limit: Duration) -> Output {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let shown = format!("{cmd:?}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
    std::fs::create_dir_all(&dir).unwrap();
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (o, e) = (
        dir.join(format!("report-{}-{n}.out", std::process::id())),
        dir.join(format!("report-{}-{n}.err", std::process::id())),
    );
    let mut child = cmd
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {shown}: {err}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{shown} ran over {limit:?}; stderr: {}",
                std::fs::read_to_string(&e).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = Output {
        status,
        stdout: std::fs::read(&o).unwrap(),
        stderr: std::fs::read(&e).unwrap(),
    };
    let _ = (std::fs::remove_file(o), std::fs::remove_file(e));
    out
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Width and height from a PNG's IHDR chunk; panics if not a PNG.
fn png_size(path: &Path) -> (u32, u32, usize) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
    (w, h, b.len())
}

fn chromium(args: &[&str], profile: &Path) -> Output {
    let mut cmd = Command::new("chromium");
    // Flags for a closed network and a root user (see the machine notes):
    // no sandbox, no background fetches, a fresh profile.
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--allow-file-access-from-files",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args);
    run(cmd, Duration::from_secs(90))
}

#[test]
fn sweep_report_renders_in_headless_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir: PathBuf = root.join(format!("target/test-logs/lab-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let csv_path = dir.join("results.csv");

    // 1. The sweep.
    let mut sweep = Command::new("python3");
    sweep
        .arg(root.join("tools/sweep.py"))
        .args(["--quick", "--out"])
        .arg(&csv_path)
        .env("TANDEM_BIN", env!("CARGO_BIN_EXE_tandem"))
        .env("LOADGEN_BIN", env!("CARGO_BIN_EXE_tandem-loadgen"));
    let out = run(sweep, Duration::from_secs(300));
    ok(&out, "tools/sweep.py --quick");
    let mut rd = csv::Reader::from_path(&csv_path).unwrap();
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    // 2 tandem configurations + redis-server, each: closed loop, redis-benchmark, 2 rates.
    assert_eq!(rows.len(), 12, "runs in the quick sweep");
    for r in &rows {
        let achieved: f64 = r[col("achieved_rps")].parse().unwrap();
        assert!(achieved > 0.0, "a run served nothing: {r:?}");
        assert_eq!(&r[col("errors")], "0", "{r:?}");
        if &r[col("tool")] == "loadgen-open" {
            assert_eq!(&r[col("timeouts")], "0", "{r:?}");
            // How close the achieved rate came to the offered one is a
            // figure of the report, not asserted: it moves with the load.
            let offered: f64 = r[col("offered_rps")].parse().unwrap();
            assert!(offered > 0.0, "{r:?}");
            assert!(!r[col("cdf")].is_empty());
        }
        if &r[col("server")] == "tandem" && r[col("tool")].starts_with("loadgen") {
            assert!(
                r[col("stages")].contains("execute:"),
                "no stage percentiles: {r:?}"
            );
        }
        assert!(r[col("machine")].contains("core"), "{r:?}");
    }

    // 2. The report.
    let report_dir = dir.join("report");
    let mut report = Command::new(env!("CARGO_BIN_EXE_tandem-report"));
    report.arg(&csv_path).arg("--out").arg(&report_dir);
    let out = run(report, Duration::from_secs(60));
    ok(&out, "tandem-report");
    let pngs: Vec<PathBuf> = std::fs::read_dir(&report_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    // latency vs load, CDF, stage bars (one pipeline depth), throughput vs pipeline.
    assert_eq!(pngs.len(), 4, "PNG plots: {pngs:?}");
    for p in &pngs {
        let (w, h, bytes) = png_size(p);
        assert_eq!((w, h), (960, 540), "{}", p.display());
        assert!(
            bytes > 10_000,
            "{} looks empty ({bytes} bytes)",
            p.display()
        );
    }
    let index = report_dir.join("index.html");
    let page = std::fs::read_to_string(&index).unwrap();
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "the page loads nothing from the network"
    );
    assert!(page.contains("machine: "), "plots name the machine");
    assert!(
        page.contains("(µs, log scale)") && page.contains("(requests/s)"),
        "axes carry units"
    );

    // 3. Headless Chromium: the page's script counts rendered plots and
    //    collects errors into <body data-...>; --dump-dom shows them.
    let url = format!("file://{}", index.display());
    let profile = dir.join("chromium-profile");
    let out = chromium(&["--dump-dom", &url], &profile);
    ok(&out, "chromium --dump-dom");
    let dom = String::from_utf8_lossy(&out.stdout);
    let body = dom
        .split("<body")
        .nth(1)
        .and_then(|s| s.split('>').next())
        .unwrap_or_else(|| panic!("no <body> in the dumped DOM: {dom:.500}"));
    assert!(
        body.contains("data-plots=\"4\""),
        "plots on the page: {body}"
    );
    assert!(
        body.contains("data-plots-rendered=\"4\""),
        "plots rendered: {body}"
    );
    assert!(body.contains("data-errors=\"\""), "page errors: {body}");

    let shot = dir.join("screenshot.png");
    let out = chromium(
        &[
            "--window-size=1100,3200",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
        &profile,
    );
    ok(&out, "chromium --screenshot");
    let (w, h, bytes) = png_size(&shot);
    assert_eq!((w, h), (1100, 3200));
    // A blank white page compresses to a few KB; four plots do not.
    assert!(bytes > 100_000, "screenshot looks blank ({bytes} bytes)");
    let _ = std::fs::remove_dir_all(dir.join("chromium-profile"));
}
