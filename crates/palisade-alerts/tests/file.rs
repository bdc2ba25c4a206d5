//! File sinks: exact lines in each JSON format, appended across dispatchers.

mod common;

use common::{TempDir, sample_alert};
use palisade_alerts::{Dispatcher, JsonFormat, SinkConfig};

const OCSF: &str = include_str!("fixtures/sample.ocsf.json");

#[test]
fn files_get_one_exact_line_per_alert_and_append() {
    let dir = TempDir::new("files");
    let path = |name: &str| dir.path().join("out").join(name);
    let sinks = [
        SinkConfig::File {
            path: path("alerts.jsonl"),
            format: JsonFormat::Palisade,
        },
        SinkConfig::File {
            path: path("falco.jsonl"),
            format: JsonFormat::Falco,
        },
        SinkConfig::File {
            path: path("ocsf.jsonl"),
            format: JsonFormat::Ocsf,
        },
    ];
    for _ in 0..2 {
        let dispatcher = Dispatcher::new(&sinks, &dir.path().join("spool")).unwrap();
        dispatcher.send(&sample_alert()).unwrap();
        assert!(dispatcher.flush(std::time::Duration::from_secs(1)));
        dispatcher.shutdown();
    }
    let lines = |name: &str| -> Vec<String> {
        std::fs::read_to_string(path(name))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let palisade = serde_json::to_string(&sample_alert()).unwrap();
    assert_eq!(lines("alerts.jsonl"), [palisade.clone(), palisade]);
    let falco = r#"{"hostname":"shop-cluster","output":"Attach/Exec to pod (user=alice pod=web-0 ns=shop action=exec command=sh)","output_fields":{"ka.target.name":"web-0","ka.user.name":"alice"},"priority":"Notice","rule":"Attach/Exec Pod","source":"k8s_audit","tags":["k8s","mitre_execution"],"time":"2026-05-01T10:00:00.123456789Z"}"#;
    assert_eq!(lines("falco.jsonl"), [falco, falco]);
    let ocsf = OCSF
        .trim_end()
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"));
    assert_eq!(lines("ocsf.jsonl"), [ocsf.clone(), ocsf]);
}
