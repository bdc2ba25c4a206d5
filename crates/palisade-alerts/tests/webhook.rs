//! The webhook sink against a real local HTTP server: bodies, outages, Retry-After, rejection.

mod common;

use std::time::Duration;

use common::{HttpServer, Reply, TempDir, numbered, sample_alert, wait_until};
use palisade_alerts::config::WebhookConfig;
use palisade_alerts::{DispatchOptions, Dispatcher, JsonFormat, SinkConfig};

fn webhook(url: String, format: JsonFormat) -> SinkConfig {
    SinkConfig::Webhook(WebhookConfig {
        name: None,
        url,
        headers: vec![("X-Team".to_string(), "sec".to_string())],
        headers_env: Vec::new(),
        ca: None,
        format,
        timeout: Duration::from_secs(5),
    })
}

fn options() -> DispatchOptions {
    DispatchOptions {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..DispatchOptions::default()
    }
}

fn outputs(requests: &[common::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            let alert: palisade_core::Alert = serde_json::from_slice(&r.body).unwrap();
            alert.output
        })
        .collect()
}

const PALISADE_JSON: &str = r#"{"rule":"Attach/Exec Pod","alert_type":"K8S_ExecIntoContainer","severity":"high","priority":"NOTICE","output":"Attach/Exec to pod (user=alice pod=web-0 ns=shop action=exec command=sh)","mitre":{"tactics":["Execution"],"techniques":["T1609"],"threat_matrix":"MS-TA9006"},"entities":{"user":"alice","groups":["system:authenticated"],"source_ips":["10.0.0.7"],"verb":"create","resource":"pods/exec","namespace":"shop","name":"web-0"},"audit_ids":["5b1c1e9e-0d7a-4c0e-9a51-2f0c6c1d8e11"],"time":"2026-05-01T10:00:00.123456789Z","count":1,"tags":["k8s","mitre_execution"],"output_fields":{"ka.target.name":"web-0","ka.user.name":"alice"},"source":"k8s_audit","hostname":"shop-cluster"}"#;

const FALCO_JSON: &str = r#"{"hostname":"shop-cluster","output":"Attach/Exec to pod (user=alice pod=web-0 ns=shop action=exec command=sh)","output_fields":{"ka.target.name":"web-0","ka.user.name":"alice"},"priority":"Notice","rule":"Attach/Exec Pod","source":"k8s_audit","tags":["k8s","mitre_execution"],"time":"2026-05-01T10:00:00.123456789Z"}"#;

#[test]
fn posts_exact_palisade_and_falco_bodies() {
    let server = HttpServer::start();
    let spool = TempDir::new("webhook-bodies");
    let sinks = [
        webhook(format!("{}/palisade", server.url()), JsonFormat::Palisade),
        webhook(format!("{}/falco", server.url()), JsonFormat::Falco),
    ];
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
    dispatcher.send(&sample_alert()).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));
    let mut requests = server.requests();
    requests.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/falco");
    assert_eq!(requests[0].body_text(), FALCO_JSON);
    assert_eq!(requests[1].path, "/palisade");
    assert_eq!(requests[1].body_text(), PALISADE_JSON);
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.headers["x-team"], "sec");
        assert_eq!(request.headers["content-type"], "application/json");
    }
    dispatcher.shutdown();
}

#[test]
fn outage_mid_stream_delivers_every_alert_once_in_order() {
    let first = HttpServer::start();
    let addr = first.addr;
    let spool = TempDir::new("webhook-outage");
    let sinks = [webhook(format!("http://{addr}/hook"), JsonFormat::Palisade)];
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
    for n in 0..5 {
        dispatcher.send(&numbered(n)).unwrap();
    }
    assert!(wait_until(Duration::from_secs(10), || first
        .requests()
        .len()
        == 5));
    let before = first.stop();
    for n in 5..10 {
        dispatcher.send(&numbered(n)).unwrap();
    }
    // The sink is down: deliveries fail and the alerts wait.
    assert!(wait_until(Duration::from_secs(5), || dispatcher.status()
        [0]
    .retries
        >= 2));
    assert!(!dispatcher.flush(Duration::from_millis(100)));
    let second = HttpServer::start_on(addr);
    for n in 10..15 {
        dispatcher.send(&numbered(n)).unwrap();
    }
    assert!(dispatcher.flush(Duration::from_secs(10)));
    let after = second.stop();
    let mut all = outputs(&before);
    all.extend(outputs(&after));
    let expected: Vec<String> = (0..15).map(|n| format!("alert #{n}")).collect();
    assert_eq!(all, expected);
    let status = &dispatcher.status()[0];
    assert_eq!(status.delivered, 15);
    assert_eq!(status.last_error, None);
    dispatcher.shutdown();
}

#[test]
fn retry_after_is_honoured() {
    let server = HttpServer::start();
    server.push_reply(Reply {
        status: 503,
        headers: vec![("Retry-After".to_string(), "1".to_string())],
        body: String::new(),
    });
    let spool = TempDir::new("webhook-retry-after");
    let sinks = [webhook(server.url(), JsonFormat::Palisade)];
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
    dispatcher.send(&numbered(1)).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
    let gap = requests[1].at.duration_since(requests[0].at);
    // The back-off alone would be 20 ms; the server asked for a second.
    assert!(gap >= Duration::from_millis(900), "{gap:?}");
    assert_eq!(dispatcher.status()[0].retries, 1);
    dispatcher.shutdown();
}

#[test]
fn rejected_alert_is_set_aside_and_the_next_delivered() {
    let server = HttpServer::start();
    server.push_reply(Reply::status(400));
    let spool = TempDir::new("webhook-rejected");
    let sinks = [webhook(server.url(), JsonFormat::Palisade)];
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
    dispatcher.send(&numbered(1)).unwrap();
    dispatcher.send(&numbered(2)).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));
    let requests = server.requests();
    assert_eq!(outputs(&requests), ["alert #1", "alert #2"]);
    let status = &dispatcher.status()[0];
    assert_eq!(status.rejected, 1);
    assert_eq!(status.delivered, 1);
    dispatcher.shutdown();
}

#[test]
fn errors_do_not_reveal_the_url_path() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spool = TempDir::new("webhook-redacted");
    let sinks = [webhook(
        format!("http://127.0.0.1:{port}/services/T000/B000/s3cr3tpath?token=s3cr3tquery"),
        JsonFormat::Palisade,
    )];
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
    dispatcher.send(&numbered(1)).unwrap();
    assert!(wait_until(Duration::from_secs(5), || dispatcher.status()
        [0]
    .last_error
    .is_some()));
    let error = dispatcher.status()[0].last_error.clone().unwrap();
    assert!(
        error.starts_with(&format!("http://127.0.0.1:{port}: ")),
        "{error}"
    );
    assert!(!error.contains("s3cr3t"), "{error}");
    dispatcher.shutdown();
}

#[test]
fn concurrent_senders_keep_each_senders_order() {
    let server = HttpServer::start();
    let spool = TempDir::new("webhook-concurrent");
    let sinks = [webhook(server.url(), JsonFormat::Palisade)];
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
    std::thread::scope(|scope| {
        for sender in 0..4 {
            let dispatcher = &dispatcher;
            scope.spawn(move || {
                for n in 0..10 {
                    dispatcher.send(&numbered(sender * 100 + n)).unwrap();
                }
            });
        }
    });
    assert!(dispatcher.flush(Duration::from_secs(20)));
    let received = outputs(&server.requests());
    assert_eq!(received.len(), 40);
    for sender in 0..4 {
        let mine: Vec<&String> = received
            .iter()
            .filter(|o| {
                o.strip_prefix("alert #")
                    .and_then(|n| n.parse::<usize>().ok())
                    .is_some_and(|n| n / 100 == sender)
            })
            .collect();
        let expected: Vec<String> = (0..10)
            .map(|n| format!("alert #{}", sender * 100 + n))
            .collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>());
    }
    dispatcher.shutdown();
}
