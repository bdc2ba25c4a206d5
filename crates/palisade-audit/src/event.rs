//! Kubernetes audit events (`audit.k8s.io/v1` and `v1beta1` `Event`), as the log backend writes
//! them (one JSON object per line) and as the webhook backend posts them (`EventList` batches).
//!
//! Only what detections read is kept. Two things are deliberately not:
//! - Secret values: when `objectRef.resource` is `secrets`, the `data`/`stringData` values of the
//!   request and response objects, and the client-side-apply annotation that repeats them, are
//!   blanked right after decoding, so no alert, log line or output field can ever carry one.
//! - The `items` of list responses (`list pods` at RequestResponse level is the whole pod list):
//!   they are skipped while parsing, never built into a tree, so a big list costs parse time
//!   only (a response over 64 KiB is parsed at decode time, so its text is not kept either).
//!
//! Request and response objects are kept as text and parsed on first read ([`LazyJson`]): most
//! events are answered from their top-level members alone.

use std::collections::BTreeMap;
use std::io::BufRead;

use palisade_core::time::{Timestamp, civil_from_days};
use serde::{Deserialize, Deserializer, Serialize};

use crate::json::{Json, LazyJson};

/// Event times are parsed by core's one RFC 3339 parser; re-exported because this crate's API has
/// always offered it.
pub use palisade_core::time::parse_rfc3339_nanos;

/// Lines (and webhook bodies) longer than this are rejected unread: kube-apiserver truncates
/// nothing, but no legitimate single event comes close, and reading one unbounded would let a
/// writer of the log exhaust memory.
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// The annotation client-side `kubectl apply` stores the whole applied object in (Secret values
/// included).
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Why a line or body is not an audit event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("event of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed JSON: {0}")]
    Malformed(String),
    #[error("not a Kubernetes audit event: {0}")]
    NotAudit(String),
}

/// The authenticated (or impersonated) user of a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserInfo {
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// `authentication.kubernetes.io/credential-id` and the like; links a TokenRequest to the
    /// requests later made with that token.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

/// What the request was about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectRef {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseStatus {
    /// HTTP status; absent on RequestReceived events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// One audit event, trimmed to what detections use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuditEvent {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    pub level: String,
    #[serde(rename = "auditID")]
    pub audit_id: String,
    pub stage: String,
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    pub verb: String,
    pub user: UserInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<UserInfo>,
    #[serde(rename = "sourceIPs", skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user_agent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus>,
    /// Parsed on first read ([`LazyJson::get`]).
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lazy_object"
    )]
    pub request_object: Option<LazyJson>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lazy_object"
    )]
    pub response_object: Option<LazyJson>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub request_received_timestamp: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stage_timestamp: String,
    /// `v1beta1` events carry the time here instead of `stageTimestamp`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub timestamp: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl AuditEvent {
    /// `objectRef.resource`, or "" for non-resource requests.
    pub fn resource(&self) -> &str {
        self.object_ref.as_ref().map_or("", |o| o.resource.as_str())
    }

    pub fn namespace(&self) -> &str {
        self.object_ref
            .as_ref()
            .map_or("", |o| o.namespace.as_str())
    }

    pub fn name(&self) -> &str {
        self.object_ref.as_ref().map_or("", |o| o.name.as_str())
    }

    pub fn subresource(&self) -> &str {
        self.object_ref
            .as_ref()
            .map_or("", |o| o.subresource.as_str())
    }

    pub fn response_code(&self) -> Option<i64> {
        self.response_status.as_ref().and_then(|s| s.code)
    }

    /// The event's time: when this stage was reached (what Falco's k8saudit plugin stamps events
    /// with), falling back to the receive time and the v1beta1 `timestamp`.
    pub fn time(&self) -> &str {
        [
            &self.stage_timestamp,
            &self.request_received_timestamp,
            &self.timestamp,
        ]
        .into_iter()
        .find(|t| !t.is_empty())
        .map_or("", |t| t.as_str())
    }

    /// [`Self::time`] in nanoseconds since the Unix epoch, when it parses.
    pub fn time_nanos(&self) -> Option<i64> {
        parse_rfc3339_nanos(self.time())
    }

    /// `resource/subresource` or `resource`, as alerts name it.
    pub fn resource_path(&self) -> String {
        match (self.resource(), self.subresource()) {
            ("", _) => String::new(),
            (r, "") => r.to_string(),
            (r, s) => format!("{r}/{s}"),
        }
    }

    fn check(self) -> Result<AuditEvent, DecodeError> {
        if !self.api_version.is_empty()
            && self.api_version != "audit.k8s.io/v1"
            && self.api_version != "audit.k8s.io/v1beta1"
        {
            return Err(DecodeError::NotAudit(format!(
                "apiVersion `{}`",
                self.api_version
            )));
        }
        if !self.kind.is_empty() && self.kind != "Event" {
            return Err(DecodeError::NotAudit(format!("kind `{}`", self.kind)));
        }
        // auditID is what Falco's plugin keys on to tell audit events from other JSON, and
        // every real event has a verb and a stage.
        if self.audit_id.is_empty() || self.verb.is_empty() || self.stage.is_empty() {
            return Err(DecodeError::NotAudit(
                "missing auditID, verb or stage".to_string(),
            ));
        }
        let mut event = self;
        let secret = event.resource() == "secrets";
        for object in [&mut event.request_object, &mut event.response_object]
            .into_iter()
            .flatten()
        {
            object
                .check(secret)
                .map_err(|e| DecodeError::Malformed(e.to_string()))?;
            if secret {
                object.edit(redact_secret);
            }
        }
        Ok(event)
    }
}

/// Blanks every value a Secret object (or a patch to one) can carry, keeping the keys so rules
/// can still see which keys were written.
fn redact_secret(object: &mut Json) {
    if let Json::Array(ops) = object {
        // A JSON patch: blank the value of every operation (the path says which key it wrote).
        for op in ops.iter_mut() {
            if let Some(value) = op.get_mut("value") {
                *value = Json::String(String::new());
            }
        }
        return;
    }
    if !matches!(object, Json::Object(_)) {
        return;
    }
    for field in ["data", "stringData"] {
        match object.get_mut(field) {
            Some(Json::Object(values)) => {
                for (_, value) in values.iter_mut() {
                    *value = Json::String(String::new());
                }
            }
            Some(other) => *other = Json::Null,
            None => {}
        }
    }
    if let Some(applied) = object
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(|a| a.get_mut(LAST_APPLIED))
    {
        *applied = Json::String(String::new());
    }
}

/// Keeps a request/response object's text for a parse on first read (which skips a top-level
/// `items` array); `null` is no object.
fn lazy_object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<LazyJson>, D::Error> {
    let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
    Ok(LazyJson::from_raw(raw.into()))
}

/// Decodes one event (one line of a log-backend file).
pub fn decode_event(bytes: &[u8]) -> Result<AuditEvent, DecodeError> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: MAX_EVENT_BYTES,
        });
    }
    let event: AuditEvent = from_json(bytes)?;
    event.check()
}

/// Text that is valid UTF-8 (every line kube-apiserver writes) is decoded as `str`, which spares
/// serde_json checking each string's UTF-8 again; other bytes take the byte path, which rejects
/// invalid UTF-8 only inside the members it reads.
fn from_json<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, DecodeError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
    .map_err(classify)
}

/// A JSON syntax error is malformed input; valid JSON of the wrong shape is some other payload.
fn classify(err: serde_json::Error) -> DecodeError {
    match err.classify() {
        serde_json::error::Category::Data => DecodeError::NotAudit(err.to_string()),
        _ => DecodeError::Malformed(err.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventListWire {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    items: Vec<AuditEvent>,
}

/// Decodes a webhook batch (`EventList`), or a single `Event` posted on its own. The batch
/// stands or falls as a whole: the apiserver retries a rejected batch, so accepting part of
/// one would duplicate the rest.
pub fn decode_event_list(bytes: &[u8]) -> Result<Vec<AuditEvent>, DecodeError> {
    if bytes.len() > MAX_EVENT_BYTES.saturating_mul(16) {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: MAX_EVENT_BYTES.saturating_mul(16),
        });
    }
    let head: KindProbe = serde_json::from_slice(bytes).map_err(classify)?;
    if head.kind == "Event" {
        return decode_event(bytes).map(|e| vec![e]);
    }
    let list: EventListWire = from_json(bytes)?;
    if list.kind != "EventList"
        || (list.api_version != "audit.k8s.io/v1" && list.api_version != "audit.k8s.io/v1beta1")
    {
        return Err(DecodeError::NotAudit(format!(
            "expected an audit.k8s.io EventList, got kind `{}` apiVersion `{}`",
            list.kind, list.api_version
        )));
    }
    list.items.into_iter().map(AuditEvent::check).collect()
}

#[derive(Deserialize)]
struct KindProbe {
    #[serde(default)]
    kind: String,
}

/// Counts of what a [`LineReader`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    /// Audit events decoded.
    pub events: u64,
    /// Lines that are not JSON (or are cut short), and oversized lines.
    pub malformed: u64,
    /// JSON lines that are not audit events (other logs interleaved, other API objects).
    pub skipped: u64,
    /// The first few problems, with their 1-based line numbers, for a sampled warning.
    pub errors: Vec<(u64, String)>,
}

/// How many problems [`ReadStats::errors`] keeps.
pub const KEPT_ERRORS: usize = 5;

impl ReadStats {
    fn note(&mut self, line: u64, err: &DecodeError) {
        match err {
            DecodeError::NotAudit(_) => self.skipped += 1,
            DecodeError::Malformed(_) | DecodeError::TooLarge { .. } => self.malformed += 1,
        }
        if self.errors.len() < KEPT_ERRORS {
            self.errors.push((line, err.to_string()));
        }
    }
}

/// Reads JSON-lines audit logs: yields events, counts and skips the rest, and never buffers more
/// than [`MAX_EVENT_BYTES`] of one line.
pub struct LineReader<R> {
    input: R,
    line_no: u64,
    buf: Vec<u8>,
    stats: ReadStats,
    io_error: Option<std::io::Error>,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(input: R) -> Self {
        LineReader {
            input,
            line_no: 0,
            buf: Vec::new(),
            stats: ReadStats::default(),
            io_error: None,
        }
    }

    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    pub fn into_stats(self) -> ReadStats {
        self.stats
    }

    /// The read error that ended the input early, if one did.
    pub fn take_io_error(&mut self) -> Option<std::io::Error> {
        self.io_error.take()
    }

    /// Reads one line into `buf`, stopping to store at the limit; returns (bytes seen, whether
    /// the input had a line at all).
    fn read_line(&mut self) -> std::io::Result<Option<usize>> {
        self.buf.clear();
        let mut seen = 0usize;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(if seen == 0 { None } else { Some(seen) });
            }
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = (MAX_EVENT_BYTES + 1).saturating_sub(self.buf.len());
            let keep = take.min(room);
            self.buf
                .extend_from_slice(chunk.get(..keep).unwrap_or_default());
            seen = seen.saturating_add(take);
            self.input.consume(take);
            if done {
                return Ok(Some(seen));
            }
        }
    }
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = AuditEvent;

    fn next(&mut self) -> Option<AuditEvent> {
        loop {
            let seen = match self.read_line() {
                Ok(Some(n)) => n,
                Ok(None) => return None,
                Err(e) => {
                    self.io_error = Some(e);
                    return None;
                }
            };
            self.line_no += 1;
            let mut line = self.buf.as_slice();
            while let [rest @ .., b'\n' | b'\r'] = line {
                line = rest;
            }
            let content_len = seen.saturating_sub(self.buf.len() - line.len());
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if content_len > MAX_EVENT_BYTES {
                let err = DecodeError::TooLarge {
                    size: content_len,
                    limit: MAX_EVENT_BYTES,
                };
                self.stats.note(self.line_no, &err);
                continue;
            }
            match decode_event(line) {
                Ok(event) => {
                    self.stats.events += 1;
                    return Some(event);
                }
                Err(err) => self.stats.note(self.line_no, &err),
            }
        }
    }
}

/// Splits nanoseconds since the epoch into a civil UTC date and time:
/// `(year, month, day, hour, minute, second, nanosecond)`.
pub(crate) fn civil_from_nanos(nanos: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let time = Timestamp::from_unix_nanos(nanos);
    let (year, month, day) = civil_from_days(time.seconds().div_euclid(86_400));
    let of_day = time.seconds().rem_euclid(86_400);
    (
        year,
        i64::from(month),
        i64::from(day),
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        i64::from(time.subsec_nanos()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD_CREATE: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/dev/pods","verb":"create","user":{"username":"alice","groups":["dev"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"dev","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Pod","spec":{"containers":[{"name":"c","image":"busybox"}]}},"stageTimestamp":"2026-11-26T16:36:32.975400Z"}"#;

    #[test]
    fn decodes_a_v1_event() {
        let e = decode_event(POD_CREATE.as_bytes()).unwrap();
        assert_eq!(e.audit_id, "a1");
        assert_eq!(e.user.username, "alice");
        assert_eq!(e.resource(), "pods");
        assert_eq!(e.response_code(), Some(201));
        assert_eq!(e.time_nanos(), Some(1_795_710_992_975_400_000));
    }

    #[test]
    fn secret_values_never_survive_decoding() {
        let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"s","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/a/secrets","objectRef":{"resource":"secrets","namespace":"a"},"requestObject":{"kind":"Secret","data":{"password":"c2VjcmV0"},"stringData":{"token":"hunter2"},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"c2VjcmV0\"}}"}}},"responseObject":{"data":{"password":"c2VjcmV0"}}}"#;
        let e = decode_event(line.as_bytes()).unwrap();
        let text = serde_json::to_string(&e).unwrap();
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("password"), "keys stay: {text}");
        let patch = r#"{"auditID":"s","stage":"ResponseComplete","verb":"patch","objectRef":{"resource":"secrets"},"requestObject":[{"op":"replace","path":"/data/password","value":"c2VjcmV0"}]}"#;
        let text = serde_json::to_string(&decode_event(patch.as_bytes()).unwrap()).unwrap();
        assert!(
            !text.contains("c2VjcmV0") && text.contains("/data/password"),
            "{text}"
        );
    }

    #[test]
    fn list_items_are_not_kept() {
        let line = r#"{"apiVersion":"audit.k8s.io/v1","auditID":"l","stage":"ResponseComplete","verb":"list","responseObject":{"kind":"PodList","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"p"}}]}}"#;
        let e = decode_event(line.as_bytes()).unwrap();
        let resp = e.response_object.unwrap().into_json();
        assert!(resp.get("items").is_none());
        assert_eq!(
            resp.pointer("/metadata/resourceVersion")
                .and_then(Json::as_str),
            Some("5")
        );
    }

    /// Objects are parsed on first read, but whatever decoding them at once would have rejected
    /// is still rejected at decode time, and a Secret's values are gone from the text too.
    #[test]
    fn deferred_objects_decode_as_eager_ones_did() {
        let event = |object: &str| {
            format!(
                r#"{{"auditID":"d","stage":"ResponseComplete","verb":"create","objectRef":{{"resource":"pods"}},"requestObject":{object}}}"#
            )
        };
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        // serde_json's limit is 128 levels with the event itself as the first.
        assert!(decode_event(event(&nested(126)).as_bytes()).is_ok());
        assert!(matches!(
            decode_event(event(&nested(127)).as_bytes()),
            Err(DecodeError::Malformed(_))
        ));
        for bad in [r#"{"n":1e400}"#, r#"{"s":"\ud800"}"#, r#"[1E+999]"#] {
            assert!(
                matches!(
                    decode_event(event(bad).as_bytes()),
                    Err(DecodeError::Malformed(_))
                ),
                "{bad}"
            );
        }
        let fine = r#"{"n":1e300,"s":"\ud83d\ude00 3e123","k":"v"}"#;
        let e = decode_event(event(fine).as_bytes()).unwrap();
        let object = e.request_object.as_ref().unwrap().get();
        assert_eq!(object.get("k").and_then(Json::as_str), Some("v"));
        assert_eq!(
            object.get("s").and_then(Json::as_str),
            Some("\u{1f600} 3e123")
        );
        let secret = r#"{"auditID":"s","stage":"ResponseComplete","verb":"create","objectRef":{"resource":"secrets"},"requestObject":{"data":{"k":"c2VjcmV0"}}}"#;
        let e = decode_event(secret.as_bytes()).unwrap();
        assert!(!format!("{e:?}").contains("c2VjcmV0"));
        assert!(!format!("{:?}", e.clone()).contains("c2VjcmV0"));
    }

    #[test]
    fn other_json_is_not_audit_and_garbage_is_malformed() {
        assert!(matches!(
            decode_event(br#"{"kind":"Pod","apiVersion":"v1"}"#),
            Err(DecodeError::NotAudit(_))
        ));
        assert!(matches!(
            decode_event(br#"{"apiVersion":"audit.k8s.io/v1","auditID":"x","stage":"ResponseComplete","verb":"get","user":"bob"}"#),
            Err(DecodeError::NotAudit(_))
        ));
        assert!(matches!(
            decode_event(b"{\"auditID\": "),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn line_reader_counts_and_keeps_first_errors() {
        let mut input = String::new();
        input.push_str(POD_CREATE);
        input.push('\n');
        input.push_str("not json\n\n");
        input.push_str("{\"kind\":\"Pod\"}\r\n");
        input.push_str(POD_CREATE);
        let mut reader = LineReader::new(input.as_bytes());
        let events: Vec<_> = reader.by_ref().collect();
        assert_eq!(events.len(), 2);
        let stats = reader.into_stats();
        assert_eq!((stats.events, stats.malformed, stats.skipped), (2, 1, 1));
        assert_eq!(stats.errors.first().map(|e| e.0), Some(2));
        assert_eq!(stats.errors.get(1).map(|e| e.0), Some(4));
    }

    #[test]
    fn oversized_lines_are_rejected_with_their_size() {
        let mut input = vec![b'{'; MAX_EVENT_BYTES + 10];
        input.push(b'\n');
        input.extend_from_slice(POD_CREATE.as_bytes());
        let mut reader = LineReader::new(std::io::BufReader::new(input.as_slice()));
        assert_eq!(reader.by_ref().count(), 1);
        let stats = reader.into_stats();
        assert_eq!(stats.malformed, 1);
        assert!(stats.errors[0].1.contains("exceeds the 4194304-byte limit"));
    }

    #[test]
    fn event_lists_decode_whole_or_not_at_all() {
        let body = format!(
            r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{POD_CREATE},{POD_CREATE}]}}"#
        );
        assert_eq!(decode_event_list(body.as_bytes()).unwrap().len(), 2);
        let beta = body.replace("audit.k8s.io/v1\"", "audit.k8s.io/v1beta1\"");
        assert_eq!(decode_event_list(beta.as_bytes()).unwrap().len(), 2);
        let bad = r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":""}]}"#;
        assert!(decode_event_list(bad.as_bytes()).is_err());
        assert!(matches!(
            decode_event_list(br#"{"kind":"PodList","apiVersion":"v1","items":[]}"#),
            Err(DecodeError::NotAudit(_))
        ));
    }

    #[test]
    fn rfc3339_round_trip() {
        let n = parse_rfc3339_nanos("2026-11-26T16:36:32.975400Z").unwrap();
        assert_eq!(civil_from_nanos(n), (2026, 11, 26, 16, 36, 32, 975_400_000));
        assert_eq!(
            parse_rfc3339_nanos("2026-11-26T18:36:32.975400+02:00"),
            Some(n)
        );
        assert_eq!(parse_rfc3339_nanos("2026-13-26T16:36:32Z"), None);
        assert_eq!(parse_rfc3339_nanos("garbage"), None);
    }
}
