//! The HTTP part shared by the webhook and Splunk HEC sinks: one ureq agent over rustls, and the
//! reading of a response into [`DeliveryError`].

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use super::{DeliveryError, client_tls, redact_url};
use crate::time::parse_rfc3339;

/// What is read of an error response (enough for Splunk's `{"text","code"}`).
const ERROR_BODY_MAX: u64 = 4096;

pub(crate) fn agent(ca: Option<&Path>, timeout: Duration) -> Result<ureq::Agent, String> {
    let tls = client_tls(ca)?;
    Ok(ureq::AgentBuilder::new()
        .tls_config(tls)
        // A redirect would resend the body, and the credential headers, somewhere else.
        .redirects(0)
        .timeout_connect(timeout.min(Duration::from_secs(30)))
        .timeout_read(timeout)
        .timeout_write(timeout)
        .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
        .build())
}

/// POSTs `body` and sorts the outcome: 2xx delivered; 408, 429, 5xx, and 401/403/404 (a
/// credential or URL the operator has to fix: waiting beats dropping) retried; other statuses
/// reject the payload. `headers` values never appear in the error.
pub(crate) fn post(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(), DeliveryError> {
    let mut request = agent.post(url).set("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let origin = redact_url(url);
    match request.send_bytes(body) {
        Ok(response) if (200..300).contains(&response.status()) => {
            // Reading the body to its end lets ureq reuse the connection.
            let _ = response
                .into_reader()
                .take(ERROR_BODY_MAX)
                .read_to_end(&mut Vec::new());
            Ok(())
        }
        Ok(response) => Err(DeliveryError::Retry {
            reason: format!("{origin}: unexpected HTTP {}", response.status()),
            after: None,
        }),
        Err(ureq::Error::Status(status, response)) => {
            let after = retry_after(&response);
            let detail = error_detail(response);
            let reason = format!("{origin}: HTTP {status}{detail}");
            if matches!(status, 401 | 403 | 404 | 408 | 429) || status >= 500 {
                Err(DeliveryError::Retry { reason, after })
            } else {
                Err(DeliveryError::Rejected { reason })
            }
        }
        Err(ureq::Error::Transport(transport)) => Err(DeliveryError::Retry {
            reason: format!("{origin}: {}", transport_message(&transport)),
            after: None,
        }),
    }
}

/// ureq's own Display names the full URL; this names only what went wrong.
fn transport_message(transport: &ureq::Transport) -> String {
    let mut message = transport.kind().to_string();
    if let Some(detail) = transport.message() {
        message.push_str(": ");
        message.push_str(&clean(detail));
    }
    if let Some(source) = std::error::Error::source(transport) {
        message.push_str(": ");
        message.push_str(&clean(&source.to_string()));
    }
    message
}

/// ` (text)` from a bounded, control-character-free reading of the body.
fn error_detail(response: ureq::Response) -> String {
    let mut body = Vec::new();
    if response
        .into_reader()
        .take(ERROR_BODY_MAX)
        .read_to_end(&mut body)
        .is_err()
    {
        return String::new();
    }
    let text = clean(&String::from_utf8_lossy(&body));
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    }
}

fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect::<String>()
        .trim()
        .to_string()
}

/// `Retry-After`: delay seconds or an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn retry_after(response: &ureq::Response) -> Option<Duration> {
    parse_retry_after(response.header("retry-after")?, crate::time::Instant::now())
}

pub(crate) fn parse_retry_after(value: &str, now: crate::time::Instant) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, clock, "GMT"] = parts.as_slice() else {
        return None;
    };
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| m == month)? + 1;
    let when = parse_rfc3339(&format!("{year}-{month:02}-{day:0>2}T{clock}Z"))?;
    let seconds = when.seconds.saturating_sub(now.seconds);
    Some(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;

    #[test]
    fn retry_after_forms() {
        let now = parse_rfc3339("1994-11-06T08:49:00Z").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(37))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", Instant::now()), None);
    }
}
