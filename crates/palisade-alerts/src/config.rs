//! The `alerts.sinks` section of palisade.yaml: a list of sinks, each a map with a `type`.
//!
//! ```yaml
//! - {type: file, path: /var/log/palisade/alerts.jsonl, format: json}     # json | falco | ocsf
//! - {type: webhook, url: https://hooks.example.com/x, headers: {X-Team: sec}, ca: /etc/ca.pem}
//! - {type: syslog, address: siem.example.com:6514, transport: tls, format: cef}
//! - {type: splunk, url: https://splunk:8088, token_env: SPLUNK_HEC_TOKEN, index: k8s}
//! ```
//!
//! Secrets never come from the file: `token_env` and `headers_env` name environment variables,
//! read when the [`crate::Dispatcher`] is built. Unknown keys are errors (a typo would otherwise
//! silently disable a setting), and every error names the key and its line.

use std::path::PathBuf;
use std::time::Duration;

pub use palisade_core::ConfigError;
use palisade_core::{Mark, Node, Value};

use crate::format::JsonFormat;
use crate::format::syslog::{Facility, SyslogFormat};

#[derive(Debug, Clone, PartialEq)]
pub enum SinkConfig {
    Stdout { format: JsonFormat },
    File { path: PathBuf, format: JsonFormat },
    Webhook(WebhookConfig),
    Syslog(SyslogConfig),
    Splunk(SplunkConfig),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    pub name: Option<String>,
    pub url: String,
    /// Literal headers (no secrets: those go in `headers_env`).
    pub headers: Vec<(String, String)>,
    /// Header name → environment variable holding its value (`Authorization: WEBHOOK_AUTH`).
    pub headers_env: Vec<(String, String)>,
    pub ca: Option<PathBuf>,
    pub format: JsonFormat,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransportKind {
    Udp,
    Tcp,
    Tls,
}

impl SyslogTransportKind {
    pub fn name(self) -> &'static str {
        match self {
            SyslogTransportKind::Udp => "udp",
            SyslogTransportKind::Tcp => "tcp",
            SyslogTransportKind::Tls => "tls",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyslogConfig {
    pub name: Option<String>,
    /// `host:port`.
    pub address: String,
    pub transport: SyslogTransportKind,
    pub format: SyslogFormat,
    pub facility: Facility,
    pub ca: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SplunkConfig {
    pub name: Option<String>,
    /// HEC base URL (`https://splunk:8088`); `/services/collector/event` is appended.
    pub url: String,
    /// Environment variable holding the HEC token.
    pub token_env: String,
    pub index: Option<String>,
    pub source: String,
    pub sourcetype: String,
    /// Overrides the alert's hostname as the event's `host`.
    pub host: Option<String>,
    pub batch_size: usize,
    pub ca: Option<PathBuf>,
    pub timeout: Duration,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl SinkConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            SinkConfig::Stdout { .. } => "stdout",
            SinkConfig::File { .. } => "file",
            SinkConfig::Webhook(_) => "webhook",
            SinkConfig::Syslog(_) => "syslog",
            SinkConfig::Splunk(_) => "splunk",
        }
    }

    /// The sink's stable identity, also its spool directory's name: the configured `name`, or the
    /// type and a hash of the destination, so reordering the list keeps each spool with its sink.
    pub fn id(&self) -> String {
        let (name, destination) = match self {
            SinkConfig::Stdout { .. } => (None, "stdout".to_string()),
            SinkConfig::File { path, .. } => (None, path.display().to_string()),
            SinkConfig::Webhook(c) => (c.name.as_ref(), c.url.clone()),
            SinkConfig::Syslog(c) => (
                c.name.as_ref(),
                format!("{}://{}", c.transport.name(), c.address),
            ),
            SinkConfig::Splunk(c) => (c.name.as_ref(), c.url.clone()),
        };
        match name {
            Some(name) => name.clone(),
            None => format!(
                "{}-{:016x}",
                self.kind(),
                palisade_core::fnv1a(destination.as_bytes())
            ),
        }
    }

    /// Whether alerts go through a spool and a delivery thread.
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            SinkConfig::Webhook(_) | SinkConfig::Syslog(_) | SinkConfig::Splunk(_)
        )
    }
}

/// Reads the `alerts.sinks` list. A null node (section absent) is no sinks.
pub fn parse(node: &Node) -> Result<Vec<SinkConfig>, ConfigError> {
    const ROOT: &str = "alerts.sinks";
    match &node.value {
        Value::Null => Ok(Vec::new()),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_sink(item, &format!("{ROOT}[{i}]")))
            .collect(),
        _ => Err(error(ROOT, node.mark, "expected a list of sinks")),
    }
}

fn error(key: &str, mark: Mark, message: impl Into<String>) -> ConfigError {
    ConfigError::new(key, mark, message)
}

/// One sink's map, with the keys read so far (to report the unknown ones).
struct Entry<'a> {
    node: &'a Node,
    path: &'a str,
}

impl<'a> Entry<'a> {
    fn key(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key).filter(|n| !n.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(node) => match node.to_text() {
                Some(text) if !text.trim().is_empty() => Ok(Some(text)),
                Some(_) => Err(error(&self.key(key), node.mark, "must not be empty")),
                None => Err(error(&self.key(key), node.mark, "expected a string")),
            },
        }
    }

    fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.string(key)?.ok_or_else(|| {
            error(
                &self.key(key),
                self.node.mark,
                format!(
                    "required for a `{}` sink",
                    self.node.str_at("type").unwrap_or("")
                ),
            )
        })
    }

    fn choice<T: Copy>(
        &self,
        key: &str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        let Some(text) = self.string(key)? else {
            return Ok(default);
        };
        match choices.iter().find(|(name, _)| *name == text) {
            Some((_, value)) => Ok(*value),
            None => {
                let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
                Err(error(
                    &self.key(key),
                    self.get(key).map_or(self.node.mark, |n| n.mark),
                    format!("expected one of {}, got `{text}`", names.join(", ")),
                ))
            }
        }
    }

    fn positive(&self, key: &str, default: u64, max: u64) -> Result<u64, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(node) => match node.as_i64() {
                Some(n) if n >= 1 && (n as u64) <= max => Ok(n as u64),
                _ => Err(error(
                    &self.key(key),
                    node.mark,
                    format!("expected a whole number from 1 to {max}"),
                )),
            },
        }
    }

    fn string_map(&self, key: &str) -> Result<Vec<(String, String)>, ConfigError> {
        let Some(node) = self.get(key) else {
            return Ok(Vec::new());
        };
        if !node.is_map() {
            return Err(error(
                &self.key(key),
                node.mark,
                "expected a map of names to strings",
            ));
        }
        node.entries()
            .iter()
            .map(|(name, value)| {
                let full = format!("{}.{name}", self.key(key));
                if !is_token(name) {
                    return Err(error(&full, value.mark, "not a valid HTTP header name"));
                }
                match value.to_text() {
                    Some(text) if !text.contains(['\r', '\n']) => Ok((name.clone(), text)),
                    Some(_) => Err(error(&full, value.mark, "must not contain a line break")),
                    None => Err(error(&full, value.mark, "expected a string")),
                }
            })
            .collect()
    }

    fn path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self.string(key)?.map(PathBuf::from))
    }

    fn timeout(&self) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(self.positive(
            "timeout_seconds",
            DEFAULT_TIMEOUT.as_secs(),
            3600,
        )?))
    }

    fn only(&self, allowed: &[&str]) -> Result<(), ConfigError> {
        for (key, value) in self.node.entries() {
            if key == "type" || key == "name" || allowed.contains(&key.as_str()) {
                continue;
            }
            let hint = match key.as_str() {
                "token" | "password" | "secret" => {
                    " (secrets are read from the environment: use `token_env`/`headers_env`)"
                }
                _ => "",
            };
            return Err(error(
                &self.key(key),
                value.mark,
                format!(
                    "unknown key for a `{}` sink{hint}; expected one of name, {}",
                    self.node.str_at("type").unwrap_or(""),
                    allowed.join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn name(&self) -> Result<Option<String>, ConfigError> {
        let name = self.string("name")?;
        if let Some(name) = &name
            && !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(error(
                &self.key("name"),
                self.get("name").map_or(self.node.mark, |n| n.mark),
                "use letters, digits, `-`, `_` and `.` only (it names the sink's spool directory)",
            ));
        }
        Ok(name)
    }

    fn url(&self) -> Result<String, ConfigError> {
        let url = self.required("url")?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(error(
                &self.key("url"),
                self.get("url").map_or(self.node.mark, |n| n.mark),
                "expected an http:// or https:// URL",
            ));
        }
        Ok(url)
    }
}

/// RFC 9110 token characters (header names).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Header names whose values are credentials: they must come from `headers_env`.
fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "authorization"
        || lower == "proxy-authorization"
        || lower == "cookie"
        || ["token", "secret", "api-key", "apikey", "password"]
            .iter()
            .any(|word| lower.contains(word))
}

const JSON_FORMATS: &[(&str, JsonFormat)] = &[
    ("json", JsonFormat::Palisade),
    ("falco", JsonFormat::Falco),
    ("ocsf", JsonFormat::Ocsf),
];

fn parse_sink(node: &Node, path: &str) -> Result<SinkConfig, ConfigError> {
    if !node.is_map() {
        return Err(error(path, node.mark, "expected a map with a `type`"));
    }
    let entry = Entry { node, path };
    let kind = entry.required("type")?;
    match kind.as_str() {
        "stdout" => {
            entry.only(&["format"])?;
            Ok(SinkConfig::Stdout {
                format: entry.choice("format", JsonFormat::Palisade, JSON_FORMATS)?,
            })
        }
        "file" => {
            entry.only(&["path", "format"])?;
            Ok(SinkConfig::File {
                path: PathBuf::from(entry.required("path")?),
                format: entry.choice("format", JsonFormat::Palisade, JSON_FORMATS)?,
            })
        }
        "webhook" => {
            entry.only(&[
                "url",
                "headers",
                "headers_env",
                "ca",
                "format",
                "timeout_seconds",
            ])?;
            let headers = entry.string_map("headers")?;
            if let Some((name, _)) = headers.iter().find(|(name, _)| is_secret_header(name)) {
                let mark = entry
                    .get("headers")
                    .and_then(|h| h.get(name))
                    .map_or(node.mark, |n| n.mark);
                return Err(error(
                    &format!("{}.{name}", entry.key("headers")),
                    mark,
                    "credential headers must come from the environment: move it to `headers_env` \
                     with the name of the variable holding it",
                ));
            }
            Ok(SinkConfig::Webhook(WebhookConfig {
                name: entry.name()?,
                url: entry.url()?,
                headers,
                headers_env: entry.string_map("headers_env")?,
                ca: entry.path("ca")?,
                format: entry.choice("format", JsonFormat::Palisade, JSON_FORMATS)?,
                timeout: entry.timeout()?,
            }))
        }
        "syslog" => {
            entry.only(&[
                "address",
                "transport",
                "format",
                "facility",
                "ca",
                "timeout_seconds",
            ])?;
            let address = entry.required("address")?;
            let port_ok = address
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !port_ok {
                return Err(error(
                    &entry.key("address"),
                    entry.get("address").map_or(node.mark, |n| n.mark),
                    "expected host:port",
                ));
            }
            let facility = match entry.string("facility")? {
                None => Facility::DEFAULT,
                Some(name) => Facility::parse(&name).ok_or_else(|| {
                    error(
                        &entry.key("facility"),
                        entry.get("facility").map_or(node.mark, |n| n.mark),
                        format!("unknown facility `{name}` (kern, user, auth, authpriv, local0..local7...)"),
                    )
                })?,
            };
            Ok(SinkConfig::Syslog(SyslogConfig {
                name: entry.name()?,
                address,
                transport: entry.choice(
                    "transport",
                    SyslogTransportKind::Udp,
                    &[
                        ("udp", SyslogTransportKind::Udp),
                        ("tcp", SyslogTransportKind::Tcp),
                        ("tls", SyslogTransportKind::Tls),
                    ],
                )?,
                format: entry.choice(
                    "format",
                    SyslogFormat::Rfc5424,
                    &[
                        ("rfc5424", SyslogFormat::Rfc5424),
                        ("cef", SyslogFormat::Cef),
                    ],
                )?,
                facility,
                ca: entry.path("ca")?,
                timeout: entry.timeout()?,
            }))
        }
        "splunk" => {
            entry.only(&[
                "url",
                "token_env",
                "index",
                "source",
                "sourcetype",
                "host",
                "batch_size",
                "ca",
                "timeout_seconds",
            ])?;
            Ok(SinkConfig::Splunk(SplunkConfig {
                name: entry.name()?,
                url: entry.url()?,
                token_env: entry.required("token_env")?,
                index: entry.string("index")?,
                source: entry
                    .string("source")?
                    .unwrap_or_else(|| "palisade".to_string()),
                sourcetype: entry
                    .string("sourcetype")?
                    .unwrap_or_else(|| "palisade:alert".to_string()),
                host: entry.string("host")?,
                batch_size: entry.positive("batch_size", 100, 10_000)? as usize,
                ca: entry.path("ca")?,
                timeout: entry.timeout()?,
            }))
        }
        other => Err(error(
            &entry.key("type"),
            node.get("type").map_or(node.mark, |n| n.mark),
            format!(
                "unknown sink type `{other}`; expected one of stdout, file, webhook, syslog, splunk"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(value: Value, line: u32) -> Node {
        Node::new(value, Mark::new(line, 3))
    }

    fn s(text: &str, line: u32) -> Node {
        at(Value::String(text.to_string()), line)
    }

    fn map(entries: Vec<(&str, Node)>, line: u32) -> Node {
        at(
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ),
            line,
        )
    }

    fn list(items: Vec<Node>) -> Node {
        at(Value::Seq(items), 1)
    }

    #[test]
    fn parses_the_documented_example() {
        let node = list(vec![
            map(
                vec![
                    ("type", s("file", 2)),
                    ("path", s("/var/log/palisade/alerts.jsonl", 2)),
                    ("format", s("json", 2)),
                ],
                2,
            ),
            map(
                vec![
                    ("type", s("webhook", 3)),
                    ("url", s("https://hooks.example.com/x", 3)),
                    ("headers", map(vec![("X-Team", s("sec", 3))], 3)),
                    ("ca", s("/etc/ca.pem", 3)),
                ],
                3,
            ),
            map(
                vec![
                    ("type", s("syslog", 4)),
                    ("address", s("siem.example.com:6514", 4)),
                    ("transport", s("tls", 4)),
                    ("format", s("cef", 4)),
                ],
                4,
            ),
            map(
                vec![
                    ("type", s("splunk", 5)),
                    ("url", s("https://splunk:8088", 5)),
                    ("token_env", s("SPLUNK_HEC_TOKEN", 5)),
                    ("index", s("k8s", 5)),
                ],
                5,
            ),
        ]);
        let sinks = parse(&node).unwrap();
        assert_eq!(sinks.len(), 4);
        assert_eq!(
            sinks[0],
            SinkConfig::File {
                path: PathBuf::from("/var/log/palisade/alerts.jsonl"),
                format: JsonFormat::Palisade
            }
        );
        let SinkConfig::Webhook(webhook) = &sinks[1] else {
            panic!("{:?}", sinks[1])
        };
        assert_eq!(webhook.headers, [("X-Team".to_string(), "sec".to_string())]);
        assert_eq!(webhook.ca, Some(PathBuf::from("/etc/ca.pem")));
        let SinkConfig::Syslog(syslog) = &sinks[2] else {
            panic!("{:?}", sinks[2])
        };
        assert_eq!(syslog.transport, SyslogTransportKind::Tls);
        assert_eq!(syslog.format, SyslogFormat::Cef);
        let SinkConfig::Splunk(splunk) = &sinks[3] else {
            panic!("{:?}", sinks[3])
        };
        assert_eq!(splunk.token_env, "SPLUNK_HEC_TOKEN");
        assert_eq!(splunk.index.as_deref(), Some("k8s"));
        assert_eq!(splunk.batch_size, 100);
        // Identities are stable and distinct.
        assert!(sinks[1].id().starts_with("webhook-"));
        assert_ne!(sinks[1].id(), sinks[3].id());
        assert_eq!(parse(&Node::default()).unwrap(), []);
    }

    #[test]
    fn errors_name_key_and_line() {
        let bad_format = list(vec![map(
            vec![
                ("type", s("file", 7)),
                ("path", s("/x", 7)),
                ("format", s("xml", 8)),
            ],
            7,
        )]);
        let error = parse(&bad_format).unwrap_err();
        assert_eq!(error.key, "alerts.sinks[0].format");
        assert_eq!(error.mark.line, 8);
        assert_eq!(
            error.to_string(),
            "line 8, column 3: alerts.sinks[0].format: expected one of json, falco, ocsf, got `xml`"
        );

        let literal_token = list(vec![map(
            vec![
                ("type", s("splunk", 2)),
                ("url", s("https://s:8088", 2)),
                ("token", s("abc", 3)),
            ],
            2,
        )]);
        let error = parse(&literal_token).unwrap_err();
        assert_eq!(error.key, "alerts.sinks[0].token");
        assert_eq!(error.mark.line, 3);
        assert!(error.message.contains("token_env"), "{error}");
        assert!(!error.to_string().contains("abc"));

        let auth_header = list(vec![map(
            vec![
                ("type", s("webhook", 4)),
                ("url", s("https://h/x", 4)),
                (
                    "headers",
                    map(vec![("Authorization", s("Bearer xyz", 5))], 5),
                ),
            ],
            4,
        )]);
        let error = parse(&auth_header).unwrap_err();
        assert_eq!(error.key, "alerts.sinks[0].headers.Authorization");
        assert!(!error.to_string().contains("xyz"));

        let missing = list(vec![map(vec![("type", s("syslog", 9))], 9)]);
        let error = parse(&missing).unwrap_err();
        assert_eq!(error.key, "alerts.sinks[0].address");
        assert_eq!(error.mark.line, 9);

        let no_port = list(vec![map(
            vec![("type", s("syslog", 9)), ("address", s("siem", 10))],
            9,
        )]);
        assert_eq!(parse(&no_port).unwrap_err().mark.line, 10);

        let unknown = list(vec![map(vec![("type", s("kafka", 11))], 11)]);
        assert!(
            parse(&unknown)
                .unwrap_err()
                .message
                .contains("unknown sink type `kafka`")
        );

        let not_a_list = s("file", 12);
        assert_eq!(parse(&not_a_list).unwrap_err().key, "alerts.sinks");
    }
}
