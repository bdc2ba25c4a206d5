//! `palisade audit analyze` end to end over the audit logs recorded from a real kube-apiserver
//! v1.36 (crates/palisade-audit/tests/fixtures): formats, `--fail-on`, custom rule files,
//! malformed lines, `--follow` across log rotation; and the recommended audit policy shipped in
//! deploy/audit.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-audit/tests/fixtures")
        .join(name)
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .expect("palisade runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-audit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn analyze_the_recorded_attack() {
    let attack = fixture("attack-scenario.jsonl");
    let run = palisade(&[
        "audit",
        "analyze",
        attack.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["malformed"], 0);
    assert!(
        report["events"].as_u64().unwrap() > 300,
        "{}",
        report["events"]
    );
    let types: Vec<&str> = report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert_type"].as_str().unwrap())
        .collect();
    for expected in [
        "K8S_PenTestToolsKubeHunter",
        "K8S_PrivilegedContainer",
        "K8S_ClusterAdminBinding",
        "K8S_ExecIntoContainer",
        "K8S_DeleteEvents",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} not raised: {types:?}"
        );
    }
    let alert = &report["alerts"][0];
    for member in [
        "rule",
        "alert_type",
        "severity",
        "priority",
        "output",
        "mitre",
        "entities",
        "audit_ids",
        "time",
        "count",
    ] {
        assert!(!alert[member].is_null(), "alert without {member}: {alert}");
    }

    // --fail-on high: the attack has high-severity alerts; the benign baseline has none.
    let gate = palisade(&[
        "audit",
        "analyze",
        attack.to_str().unwrap(),
        "--fail-on",
        "high",
    ]);
    assert_eq!(gate.status.code(), Some(1));
    let table = String::from_utf8_lossy(&gate.stdout);
    assert!(table.contains("K8S_ClusterAdminBinding"), "{table}");
    let benign = fixture("benign-baseline.jsonl");
    let quiet = palisade(&[
        "audit",
        "analyze",
        benign.to_str().unwrap(),
        "--fail-on",
        "medium",
    ]);
    assert_eq!(
        quiet.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&quiet.stdout)
    );
}

#[test]
fn custom_rules_malformed_lines_and_rule_errors() {
    let dir = temp_dir("custom");
    let rules = dir.join("mine.yaml");
    std::fs::write(
        &rules,
        "- rule: Anyone deletes a namespace\n  desc: a namespace was deleted\n  condition: ka.verb = delete and ka.target.resource = namespaces\n  output: namespace %ka.target.name deleted by %ka.user.name\n  priority: CRITICAL\n  source: k8s_audit\n  tags: [k8s, mitre_impact, T1485]\n",
    )
    .unwrap();
    let log = dir.join("audit.log");
    let mut text = String::from("not json at all\n{\"kind\": \"Pod\"}\n");
    text.push_str(
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop","verb":"delete","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"namespaces","name":"shop","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-27T06:00:00.000000Z","stageTimestamp":"2026-11-27T06:00:00.100000Z"}"#,
    );
    text.push('\n');
    std::fs::write(&log, text).unwrap();
    let run = palisade(&[
        "audit",
        "analyze",
        log.to_str().unwrap(),
        "--no-builtin-rules",
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let alerts: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{stdout}");
    assert_eq!(alerts[0]["alert_type"], "K8S_CustomRule");
    assert_eq!(alerts[0]["output"], "namespace shop deleted by mallory");
    assert_eq!(alerts[0]["audit_ids"][0], "a1");
    assert_eq!(alerts[0]["mitre"]["techniques"][0], "T1485");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("1 malformed and 1 non-audit"), "{stderr}");
    assert!(
        stderr.contains(":1:"),
        "the sampled warning names the line: {stderr}"
    );

    // A broken rule file: the error names the file and line, exit 2.
    std::fs::write(&rules, "- rule: Broken\n  desc: x\n  condition: ka.verb = = delete\n  output: x\n  priority: WARNING\n  source: k8s_audit\n").unwrap();
    let broken = palisade(&[
        "audit",
        "analyze",
        log.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(broken.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        stderr.contains("mine.yaml:")
            && stderr.contains("`Broken`")
            && stderr.contains("column 11"),
        "{stderr}"
    );
}

#[test]
fn follow_survives_rotation() {
    let dir = temp_dir("follow");
    let log = dir.join("audit.log");
    let attack = std::fs::read_to_string(fixture("attack-scenario.jsonl")).unwrap();
    let lines: Vec<&str> = attack.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    std::fs::write(&log, format!("{}\n", first.join("\n"))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "audit",
            "analyze",
            log.to_str().unwrap(),
            "--follow",
            "--format",
            "jsonl",
            "--window",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<Value> = Vec::new();
    let collect_until = |seen: &mut Vec<Value>, wanted: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if seen.iter().any(|a| a["alert_type"] == wanted) {
                return true;
            }
            if let Ok(line) = receiver.recv_timeout(Duration::from_millis(200)) {
                seen.push(serde_json::from_str(&line).unwrap());
            }
        }
        false
    };
    assert!(
        collect_until(&mut seen, "K8S_PenTestToolsKubeHunter"),
        "first half: {seen:?}"
    );
    // Rotate: the log is renamed away and a new file takes its place.
    std::fs::rename(&log, dir.join("audit.log.1")).unwrap();
    let mut rotated = std::fs::File::create(&log).unwrap();
    writeln!(rotated, "{}", second.join("\n")).unwrap();
    drop(rotated);
    assert!(
        collect_until(&mut seen, "K8S_DeleteEvents"),
        "after rotation: {seen:?}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn recommended_audit_policy_is_a_policy_that_keeps_secrets_out() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/audit/audit-policy.yaml"),
    )
    .unwrap();
    let policy = palisade_kube::yaml::read_document(text.as_bytes(), "audit-policy.yaml")
        .unwrap()
        .unwrap();
    let policy = serde_json::to_value(&policy).unwrap();
    assert_eq!(policy["apiVersion"], "audit.k8s.io/v1");
    assert_eq!(policy["kind"], "Policy");
    assert_eq!(policy["omitStages"][0], "RequestReceived");
    let rules = policy["rules"].as_array().unwrap();
    let levels = ["None", "Metadata", "Request", "RequestResponse"];
    for rule in rules {
        assert!(levels.contains(&rule["level"].as_str().unwrap()), "{rule}");
    }
    // The first rule that names secrets logs them at Metadata (rules apply first match first).
    let secrets = rules
        .iter()
        .find(|rule| {
            rule["resources"].as_array().is_some_and(|groups| {
                groups.iter().any(|g| {
                    g["resources"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|x| x == "secrets"))
                })
            })
        })
        .expect("a rule for secrets");
    assert_eq!(secrets["level"], "Metadata");
    assert_eq!(
        rules.last().unwrap()["level"],
        "Metadata",
        "a catch-all at Metadata"
    );
}

/// A tiny HTTP receiver standing in for a webhook endpoint: records every POST body.
fn webhook_receiver(
    listener: std::net::TcpListener,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::io::Read;
    listener.set_nonblocking(true).unwrap();
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let Ok((stream, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        loop {
            let mut length = 0usize;
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                break;
            }
            bodies
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let out = reader.get_mut();
            if out
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .is_err()
            {
                break;
            }
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
        }
    }
}

/// POSTs `body` over TLS trusting `ca_pem`; returns the status code.
fn post_tls(addr: &str, ca_pem: &str, body: &[u8]) -> u16 {
    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
    use std::io::Read;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connection = rustls::ClientConnection::new(
        std::sync::Arc::new(config),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let socket = std::net::TcpStream::connect(addr).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, socket);
    write!(
        tls,
        "POST /audit HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    tls.write_all(body).unwrap();
    tls.flush().unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `palisade audit serve` on `listen` with the `tls.crt`/`tls.key` pair and the state
/// directory `state` under `dir`, plus `extra` arguments, and returns once it accepts connections
/// (panicking after 20 seconds).
fn spawn_audit_serve(listen: &str, dir: &Path, extra: &[&OsStr]) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["audit", "serve", "--listen", listen])
        .arg("--tls-cert")
        .arg(dir.join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(listen).is_err() {
        assert!(Instant::now() < deadline, "audit serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// `palisade audit serve` end to end: EventList batches over TLS, alerts to a webhook sink and a
/// syslog (TCP) sink; the webhook goes down mid-stream and comes back, and `audit serve` itself is
/// killed after acknowledging a batch and restarted — every alert still arrives.
#[test]
fn serve_delivers_through_outages_and_restarts() {
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Mutex};
    let dir = temp_dir("serve");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::NoCa;
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("tls.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("tls.key"), key.serialize_pem()).unwrap();

    let webhook_port = free_port();
    let bodies = Arc::new(Mutex::new(Vec::<String>::new()));
    let start_webhook = |stop: Arc<AtomicBool>| {
        let listener = std::net::TcpListener::bind(("127.0.0.1", webhook_port)).unwrap();
        let bodies = Arc::clone(&bodies);
        std::thread::spawn(move || webhook_receiver(listener, bodies, stop))
    };
    let syslog = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let syslog_addr = syslog.local_addr().unwrap();
    let syslog_messages = Arc::new(Mutex::new(String::new()));
    {
        let messages = Arc::clone(&syslog_messages);
        std::thread::spawn(move || {
            use std::io::Read;
            for stream in syslog.incoming().flatten() {
                let messages = Arc::clone(&messages);
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buffer = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buffer) {
                        if n == 0 {
                            break;
                        }
                        messages
                            .lock()
                            .unwrap()
                            .push_str(&String::from_utf8_lossy(&buffer[..n]));
                    }
                });
            }
        });
    }
    let config = dir.join("palisade.yaml");
    std::fs::write(
        &config,
        format!(
            "alerts:\n  sinks:\n    - {{type: webhook, url: \"http://127.0.0.1:{webhook_port}/\"}}\n    - {{type: syslog, address: \"{syslog_addr}\", transport: tcp}}\n"
        ),
    )
    .unwrap();

    let attack = std::fs::read_to_string(fixture("attack-scenario.jsonl")).unwrap();
    let events: Vec<&str> = attack.lines().collect();
    let batches: Vec<String> = events
        .chunks(events.len() / 3 + 1)
        .map(|chunk| {
            format!(
                "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{{}},\"items\":[{}]}}",
                chunk.join(",")
            )
        })
        .collect();
    // What the detections raise on these events, by audit ID: the reference for "nothing lost".
    let reference = palisade(&[
        "audit",
        "analyze",
        fixture("attack-scenario.jsonl").to_str().unwrap(),
        "--format",
        "json",
        "--window",
        "1",
    ]);
    let reference: Value = serde_json::from_slice(&reference.stdout).unwrap();
    let expected_types: std::collections::BTreeSet<String> = reference["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert_type"].as_str().unwrap().to_string())
        .collect();

    let listen = format!("127.0.0.1:{}", free_port());
    let serve = |dir: &Path| {
        let extra = [
            OsStr::new("--window"),
            OsStr::new("1"),
            OsStr::new("--config"),
            config.as_os_str(),
        ];
        spawn_audit_serve(&listen, dir, &extra)
    };
    let ca = cert.pem();

    let stop_first = Arc::new(AtomicBool::new(false));
    let first_webhook = start_webhook(Arc::clone(&stop_first));
    let mut server = serve(&dir);
    assert_eq!(post_tls(&listen, &ca, batches[0].as_bytes()), 200);
    assert_eq!(
        post_tls(&listen, &ca, b"{\"kind\":\"Pod\"}"),
        400,
        "not an EventList"
    );
    // The webhook goes down; a batch arrives meanwhile.
    std::thread::sleep(Duration::from_millis(1500));
    stop_first.store(true, std::sync::atomic::Ordering::SeqCst);
    first_webhook.join().unwrap();
    assert_eq!(post_tls(&listen, &ca, batches[1].as_bytes()), 200);
    // audit serve dies right after acknowledging: the journal must bring the batch back.
    assert_eq!(post_tls(&listen, &ca, batches[2].as_bytes()), 200);
    server.kill().unwrap();
    server.wait().unwrap();
    let _second_webhook = start_webhook(Arc::new(AtomicBool::new(false)));
    let mut server = serve(&dir);

    let deadline = Instant::now() + Duration::from_secs(60);
    let received_types = || -> std::collections::BTreeSet<String> {
        bodies
            .lock()
            .unwrap()
            .iter()
            .filter_map(|b| serde_json::from_str::<Value>(b).ok())
            .filter_map(|a| a["alert_type"].as_str().map(str::to_string))
            .collect()
    };
    let syslog_has_all = || {
        let text = syslog_messages.lock().unwrap().clone();
        expected_types.iter().all(|t| text.contains(t.as_str()))
    };
    while !(expected_types.is_subset(&received_types()) && syslog_has_all())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = server.kill();
    let _ = server.wait();
    let received = received_types();
    let missing: Vec<_> = expected_types.difference(&received).collect();
    assert!(missing.is_empty(), "lost alert types: {missing:?}");
    let syslog_text = syslog_messages.lock().unwrap().clone();
    for alert_type in &expected_types {
        assert!(
            syslog_text.contains(alert_type.as_str()),
            "syslog lacks {alert_type}"
        );
    }
}

#[test]
fn serve_with_client_ca_refuses_anonymous_clients() {
    let dir = temp_dir("mtls");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("tls.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("tls.key"), key.serialize_pem()).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let client_ca = dir.join("tls.crt");
    let mut child = spawn_audit_serve(
        &listen,
        &dir,
        &[OsStr::new("--client-ca"), client_ca.as_os_str()],
    );
    let body = b"{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[]}";
    let status = std::panic::catch_unwind(|| post_tls(&listen, &cert.pem(), body)).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        status, 0,
        "a client without a certificate must not get an answer"
    );
}
