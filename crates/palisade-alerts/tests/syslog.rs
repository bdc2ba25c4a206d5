//! Syslog sinks against real receivers: UDP datagrams, TCP and TLS with RFC 6587 octet counting.

mod common;

use std::time::Duration;

use common::{SyslogServer, TempDir, sample_alert, tls_server, wait_until};
use palisade_alerts::config::{SyslogConfig, SyslogTransportKind};
use palisade_alerts::{DispatchOptions, Dispatcher, Facility, SinkConfig, SyslogFormat};

const RFC5424: &str = "<131>1 2026-05-01T10:00:00.123456Z shop-cluster palisade - K8S_ExecIntoContainer \
[palisade@32473 alert_type=\"K8S_ExecIntoContainer\" rule=\"Attach/Exec Pod\" severity=\"high\" priority=\"NOTICE\" source=\"k8s_audit\" \
count=\"1\" user=\"alice\" verb=\"create\" resource=\"pods/exec\" namespace=\"shop\" name=\"web-0\" \
sourceIP=\"10.0.0.7\" mitreTactic=\"Execution\" mitreTechnique=\"T1609\" \
auditID=\"5b1c1e9e-0d7a-4c0e-9a51-2f0c6c1d8e11\"] \
Attach/Exec to pod (user=alice pod=web-0 ns=shop action=exec command=sh)";

fn cef_message() -> String {
    format!(
        "<131>1 2026-05-01T10:00:00.123456Z shop-cluster palisade - K8S_ExecIntoContainer - \
CEF:0|Palisade|Palisade|{}|K8S_ExecIntoContainer|Attach/Exec Pod|8|rt=1777629600123 dvchost=shop-cluster \
suser=alice src=10.0.0.7 act=create cat=Execution externalId=5b1c1e9e-0d7a-4c0e-9a51-2f0c6c1d8e11 cnt=1 \
cs1Label=mitreTechniques cs1=T1609 cs2Label=namespace cs2=shop cs3Label=resource cs3=pods/exec/web-0 \
cs4Label=source cs4=k8s_audit msg=Attach/Exec to pod (user\\=alice pod\\=web-0 ns\\=shop action\\=exec command\\=sh)",
        env!("CARGO_PKG_VERSION")
    )
}

fn syslog(address: String, transport: SyslogTransportKind, format: SyslogFormat) -> SyslogConfig {
    SyslogConfig {
        name: None,
        address,
        transport,
        format,
        facility: Facility::DEFAULT,
        ca: None,
        timeout: Duration::from_secs(5),
    }
}

fn options() -> DispatchOptions {
    DispatchOptions {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..DispatchOptions::default()
    }
}

#[test]
fn udp_datagram_is_one_rfc5424_message() {
    let server = SyslogServer::udp();
    let spool = TempDir::new("syslog-udp");
    let config = syslog(
        server.addr.to_string(),
        SyslogTransportKind::Udp,
        SyslogFormat::Rfc5424,
    );
    let dispatcher =
        Dispatcher::with_options(&[SinkConfig::Syslog(config)], spool.path(), options()).unwrap();
    dispatcher.send(&sample_alert()).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(5)));
    assert!(wait_until(Duration::from_secs(5), || !server
        .messages()
        .is_empty()));
    assert_eq!(server.raw(), RFC5424.as_bytes());
    dispatcher.shutdown();
}

#[test]
fn tcp_frames_are_octet_counted() {
    let server = SyslogServer::stream(None);
    let spool = TempDir::new("syslog-tcp");
    let config = syslog(
        server.addr.to_string(),
        SyslogTransportKind::Tcp,
        SyslogFormat::Rfc5424,
    );
    let dispatcher =
        Dispatcher::with_options(&[SinkConfig::Syslog(config)], spool.path(), options()).unwrap();
    dispatcher.send(&sample_alert()).unwrap();
    dispatcher.send(&sample_alert()).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(5)));
    assert!(wait_until(Duration::from_secs(5), || server
        .messages()
        .len()
        == 2));
    let frame = format!("{} {RFC5424}", RFC5424.len());
    assert_eq!(
        String::from_utf8(server.raw()).unwrap(),
        format!("{frame}{frame}")
    );
    dispatcher.shutdown();
}

#[test]
fn tls_carries_cef_to_a_private_ca_receiver() {
    let (server_config, ca_pem) = tls_server();
    let server = SyslogServer::stream(Some(server_config));
    let dir = TempDir::new("syslog-tls");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let mut config = syslog(
        format!("localhost:{}", server.addr.port()),
        SyslogTransportKind::Tls,
        SyslogFormat::Cef,
    );
    config.ca = Some(ca);
    let dispatcher = Dispatcher::with_options(
        &[SinkConfig::Syslog(config)],
        &dir.path().join("spool"),
        options(),
    )
    .unwrap();
    dispatcher.send(&sample_alert()).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));
    assert!(wait_until(Duration::from_secs(5), || server
        .messages()
        .len()
        == 1));
    let message = cef_message();
    assert_eq!(
        String::from_utf8(server.raw()).unwrap(),
        format!("{} {message}", message.len())
    );
    dispatcher.shutdown();
}

#[test]
fn tls_without_the_ca_is_refused_and_retried() {
    let (server_config, _) = tls_server();
    let server = SyslogServer::stream(Some(server_config));
    let spool = TempDir::new("syslog-tls-untrusted");
    let config = syslog(
        format!("localhost:{}", server.addr.port()),
        SyslogTransportKind::Tls,
        SyslogFormat::Rfc5424,
    );
    let dispatcher =
        Dispatcher::with_options(&[SinkConfig::Syslog(config)], spool.path(), options()).unwrap();
    dispatcher.send(&sample_alert()).unwrap();
    assert!(!dispatcher.flush(Duration::from_millis(500)));
    let status = &dispatcher.status()[0];
    assert!(status.retries >= 1);
    let error = status.last_error.clone().unwrap_or_default();
    assert!(error.contains("syslog tls localhost:"), "{error}");
    assert!(server.messages().is_empty());
    // The alert is still waiting in the spool.
    assert!(status.pending_bytes > 0);
    dispatcher.shutdown();
}
