//! The spool across dispatcher restarts, when full, and when damaged.

mod common;

use std::time::Duration;

use common::{HttpServer, TempDir, numbered, wait_until};
use palisade_alerts::config::WebhookConfig;
use palisade_alerts::spool::SpoolOptions;
use palisade_alerts::{DispatchOptions, Dispatcher, JsonFormat, SinkConfig};
use palisade_core::{Alert, AlertSeverity};

fn webhook(url: String) -> SinkConfig {
    SinkConfig::Webhook(WebhookConfig {
        name: Some("soc".to_string()),
        url,
        headers: Vec::new(),
        headers_env: Vec::new(),
        ca: None,
        format: JsonFormat::Palisade,
        timeout: Duration::from_secs(5),
    })
}

fn options() -> DispatchOptions {
    DispatchOptions {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        hostname: "shop-cluster".to_string(),
        ..DispatchOptions::default()
    }
}

fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn alerts(server: &HttpServer) -> Vec<Alert> {
    server
        .requests()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[test]
fn undelivered_alerts_survive_a_dispatcher_restart() {
    let addr = free_port();
    let spool = TempDir::new("restart");
    let sinks = [webhook(format!("http://{addr}/"))];
    {
        let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
        for n in 0..3 {
            dispatcher.send(&numbered(n)).unwrap();
        }
        assert!(wait_until(Duration::from_secs(5), || dispatcher.status()
            [0]
        .retries
            >= 1));
        dispatcher.shutdown();
    }
    let server = HttpServer::start_on(addr);
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
    dispatcher.send(&numbered(3)).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));
    let outputs: Vec<String> = alerts(&server).into_iter().map(|a| a.output).collect();
    assert_eq!(outputs, ["alert #0", "alert #1", "alert #2", "alert #3"]);
    dispatcher.shutdown();
}

#[test]
fn full_spool_drops_oldest_counts_and_reports_once_the_sink_returns() {
    let addr = free_port();
    let spool = TempDir::new("full");
    let sinks = [webhook(format!("http://{addr}/"))];
    let mut tiny = options();
    tiny.spool = SpoolOptions {
        max_bytes: 4096,
        segment_bytes: 1024,
    };
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), tiny).unwrap();
    const SENT: usize = 30;
    for n in 0..SENT {
        dispatcher.send(&numbered(n)).unwrap();
    }
    let dropped = dispatcher.status()[0].dropped_total;
    assert!(dropped > 0, "a 4 KiB spool cannot hold {SENT} alerts");
    let server = HttpServer::start_on(addr);
    assert!(dispatcher.flush(Duration::from_secs(10)));
    let received = alerts(&server);
    // The health alert comes first, then the newest alerts, contiguous and in order.
    let health = &received[0];
    assert_eq!(health.alert_type, "PALISADE_AlertsDropped");
    assert_eq!(health.severity, AlertSeverity::High);
    assert_eq!(health.hostname, "shop-cluster");
    assert_eq!(
        health.output_fields["palisade.dropped"],
        dropped.to_string()
    );
    assert_eq!(health.output_fields["palisade.sink"], "soc");
    let outputs: Vec<String> = received[1..].iter().map(|a| a.output.clone()).collect();
    let expected: Vec<String> = (dropped as usize..SENT)
        .map(|n| format!("alert #{n}"))
        .collect();
    assert_eq!(outputs, expected);
    // Reported once: the count is cleared but the total is kept.
    let status = &dispatcher.status()[0];
    assert_eq!(status.dropped_total, dropped);
    dispatcher.send(&numbered(SENT)).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));
    let after = alerts(&server);
    assert_eq!(after.len(), received.len() + 1);
    assert_eq!(
        after
            .iter()
            .filter(|a| a.alert_type == "PALISADE_AlertsDropped")
            .count(),
        1
    );
    dispatcher.shutdown();
}

#[test]
fn corrupt_record_is_skipped_and_counted_after_a_crash() {
    let addr = free_port();
    let spool = TempDir::new("corrupt");
    let sinks = [webhook(format!("http://{addr}/"))];
    {
        let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
        for n in 0..3 {
            dispatcher.send(&numbered(n)).unwrap();
        }
        dispatcher.shutdown();
    }
    // Damage the second record's payload and tear the end of the segment, as a crash mid-write
    // would.
    let dir = spool.path().join("soc");
    let segment = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::metadata(p).unwrap().len() > 0 && p.extension().is_some_and(|e| e == "seg")
        })
        .min()
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let first_len = u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    bytes[8 + first_len + 8 + 10] ^= 0x55;
    bytes.extend_from_slice(&[200, 1, 0]);
    std::fs::write(&segment, &bytes).unwrap();

    let server = HttpServer::start_on(addr);
    let dispatcher = Dispatcher::with_options(&sinks, spool.path(), options()).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));
    let outputs: Vec<String> = alerts(&server).into_iter().map(|a| a.output).collect();
    assert_eq!(outputs, ["alert #0", "alert #2"]);
    assert_eq!(dispatcher.status()[0].corrupt_total, 2);
    dispatcher.shutdown();
}
