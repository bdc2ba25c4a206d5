//! HTTP webhook: one POST per alert, JSON body in the configured format (Falco JSON makes the
//! endpoint a Falcosidekick).

use palisade_core::Alert;

use super::{DeliveryError, Transport, http};
use crate::config::WebhookConfig;

pub struct WebhookTransport {
    agent: ureq::Agent,
    url: String,
    /// Literal headers and those resolved from the environment; values are never logged.
    headers: Vec<(String, String)>,
    format: crate::format::JsonFormat,
}

impl WebhookTransport {
    /// `headers` are the config's literal headers plus those already read from the environment.
    pub fn new(
        config: &WebhookConfig,
        headers: Vec<(String, String)>,
    ) -> Result<WebhookTransport, String> {
        Ok(WebhookTransport {
            agent: http::agent(config.ca.as_deref(), config.timeout)?,
            url: config.url.clone(),
            headers,
            format: config.format,
        })
    }
}

impl Transport for WebhookTransport {
    fn deliver(&mut self, alerts: &[Alert]) -> Result<(), DeliveryError> {
        for alert in alerts {
            let body = self.format.render(alert);
            http::post(&self.agent, &self.url, &self.headers, body.as_bytes())?;
        }
        Ok(())
    }
}
