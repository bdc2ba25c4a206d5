//! Splunk HTTP Event Collector: `POST <url>/services/collector/event` with
//! `Authorization: Splunk <token>`, a batch being the event objects one after another (HEC's
//! documented batch form).

use palisade_core::Alert;
use serde_json::{Value, json};

use super::{DeliveryError, Transport, http};
use crate::config::SplunkConfig;
use crate::time::parse_rfc3339;

pub struct SplunkTransport {
    agent: ureq::Agent,
    endpoint: String,
    /// `Authorization: Splunk <token>`; the only place the token lives.
    headers: Vec<(String, String)>,
    index: Option<String>,
    source: String,
    sourcetype: String,
    host: Option<String>,
    batch_size: usize,
}

impl SplunkTransport {
    pub fn new(config: &SplunkConfig, token: &str) -> Result<SplunkTransport, String> {
        Ok(SplunkTransport {
            agent: http::agent(config.ca.as_deref(), config.timeout)?,
            endpoint: endpoint(&config.url),
            headers: vec![("Authorization".to_string(), format!("Splunk {token}"))],
            index: config.index.clone(),
            source: config.source.clone(),
            sourcetype: config.sourcetype.clone(),
            host: config.host.clone(),
            batch_size: config.batch_size.max(1),
        })
    }

    /// One HEC event: `time` in epoch seconds (millisecond fraction), the alert as `event`.
    pub fn event(&self, alert: &Alert) -> Value {
        let mut event = json!({
            "source": self.source,
            "sourcetype": self.sourcetype,
            "event": alert,
        });
        if let Some(t) = parse_rfc3339(&alert.time) {
            let ms = t.epoch_millis();
            event["time"] = json!(ms as f64 / 1000.0);
        }
        let host = self.host.as_deref().unwrap_or(&alert.hostname);
        if !host.is_empty() {
            event["host"] = json!(host);
        }
        if let Some(index) = &self.index {
            event["index"] = json!(index);
        }
        event
    }
}

/// The event endpoint under the configured base, accepting a base that already names it.
fn endpoint(url: &str) -> String {
    let base = url.trim_end_matches('/');
    if base.ends_with("/services/collector/event") {
        base.to_string()
    } else {
        format!("{base}/services/collector/event")
    }
}

impl Transport for SplunkTransport {
    fn deliver(&mut self, alerts: &[Alert]) -> Result<(), DeliveryError> {
        let mut body = String::new();
        for alert in alerts {
            body.push_str(&self.event(alert).to_string());
            body.push('\n');
        }
        http::post(&self.agent, &self.endpoint, &self.headers, body.as_bytes())
    }

    fn max_batch(&self) -> usize {
        self.batch_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_is_appended_once() {
        assert_eq!(
            endpoint("https://splunk:8088"),
            "https://splunk:8088/services/collector/event"
        );
        assert_eq!(
            endpoint("https://splunk:8088/services/collector/event/"),
            "https://splunk:8088/services/collector/event"
        );
    }
}
