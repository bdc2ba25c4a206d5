//! The Splunk HEC sink against a HEC-like local server. One test function: it sets the token's
//! environment variable before any thread exists (set_var is only sound then).

mod common;

use std::time::Duration;

use common::{HttpServer, Reply, TempDir, numbered, sample_alert, wait_until};
use palisade_alerts::config::{SplunkConfig, WebhookConfig};
use palisade_alerts::{BuildError, DispatchOptions, Dispatcher, JsonFormat, SinkConfig};

const TOKEN: &str = "9f1c2d3e-hec-token-0000";
const TOKEN_ENV: &str = "PALISADE_TEST_SPLUNK_HEC_TOKEN";

fn splunk(url: String, token_env: &str) -> SinkConfig {
    SinkConfig::Splunk(SplunkConfig {
        name: None,
        url,
        token_env: token_env.to_string(),
        index: Some("k8s".to_string()),
        source: "palisade".to_string(),
        sourcetype: "palisade:alert".to_string(),
        host: None,
        batch_size: 10,
        ca: None,
        timeout: Duration::from_secs(5),
    })
}

fn options() -> DispatchOptions {
    DispatchOptions {
        backoff_initial: Duration::from_millis(200),
        backoff_max: Duration::from_millis(400),
        ..DispatchOptions::default()
    }
}

#[test]
fn hec_events_batches_auth_and_secrecy() {
    // SAFETY: the first statement of the only test in this binary: no other thread reads the
    // environment yet.
    unsafe { std::env::set_var(TOKEN_ENV, TOKEN) };

    // A missing variable is named, and nothing is started.
    let spool = TempDir::new("splunk");
    match Dispatcher::new(
        &[splunk(
            "http://127.0.0.1:1".into(),
            "PALISADE_TEST_UNSET_VARIABLE",
        )],
        spool.path(),
    ) {
        Err(BuildError::MissingEnv { variable, .. }) => {
            assert_eq!(variable, "PALISADE_TEST_UNSET_VARIABLE")
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("built without its token"),
    }

    let server = HttpServer::start();
    // The first attempt is refused (bad token, as HEC answers it); the alerts sent meanwhile
    // join the retried batch.
    server.push_reply(Reply {
        status: 403,
        headers: Vec::new(),
        body: r#"{"text":"Invalid token","code":4}"#.to_string(),
    });
    let dispatcher =
        Dispatcher::with_options(&[splunk(server.url(), TOKEN_ENV)], spool.path(), options())
            .unwrap();
    dispatcher.send(&sample_alert()).unwrap();
    assert!(wait_until(Duration::from_secs(5), || dispatcher.status()
        [0]
    .last_error
    .is_some()));
    let error = dispatcher.status()[0].last_error.clone().unwrap();
    assert!(error.contains("HTTP 403"), "{error}");
    assert!(error.contains("Invalid token"), "{error}");
    assert!(!error.contains(TOKEN), "{error}");
    dispatcher.send(&numbered(1)).unwrap();
    dispatcher.send(&numbered(2)).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));

    let requests = server.requests();
    let last = requests.last().unwrap();
    assert_eq!(last.method, "POST");
    assert_eq!(last.path, "/services/collector/event");
    assert_eq!(last.headers["authorization"], format!("Splunk {TOKEN}"));
    // One POST carries the three events, one JSON object a line.
    let events: Vec<&str> = std::str::from_utf8(&last.body).unwrap().lines().collect();
    assert_eq!(events.len(), 3, "{}", last.body_text());
    let event = |alert: &palisade_core::Alert| {
        format!(
            r#"{{"event":{},"host":"shop-cluster","index":"k8s","source":"palisade","sourcetype":"palisade:alert","time":1777629600.123}}"#,
            serde_json::to_value(alert).unwrap()
        )
    };
    assert_eq!(events[0], event(&sample_alert()));
    assert_eq!(events[1], event(&numbered(1)));
    assert_eq!(events[2], event(&numbered(2)));
    assert_eq!(dispatcher.status()[0].delivered, 3);
    dispatcher.shutdown();

    // A webhook's credential header comes from the environment the same way.
    let hook = HttpServer::start();
    let webhook = SinkConfig::Webhook(WebhookConfig {
        name: None,
        url: hook.url(),
        headers: Vec::new(),
        headers_env: vec![("Authorization".to_string(), TOKEN_ENV.to_string())],
        ca: None,
        format: JsonFormat::Falco,
        timeout: Duration::from_secs(5),
    });
    let dispatcher = Dispatcher::with_options(&[webhook], spool.path(), options()).unwrap();
    dispatcher.send(&sample_alert()).unwrap();
    assert!(dispatcher.flush(Duration::from_secs(10)));
    assert_eq!(hook.requests()[0].headers["authorization"], TOKEN);
    dispatcher.shutdown();
}
