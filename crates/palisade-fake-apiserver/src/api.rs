//! The request handler: authentication, routing and the responses kube-apiserver would give, built
//! from the recording. Pure (no sockets) so it is tested without TLS.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::recording::{AGGREGATED_DISCOVERY, Item, RecordedList, Recording, ServedResource};

/// What the handler needs from one HTTP request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub accept: Option<&'a str>,
    /// The value of the `Authorization` header, if any. Never stored.
    pub authorization: Option<&'a str>,
    /// The user of a verified client certificate, if the client presented one.
    pub certificate_user: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

/// A resource named the way `kubectl` does: `secrets`, `deployments.apps`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GroupResource {
    pub group: String,
    pub resource: String,
}

impl GroupResource {
    pub fn parse(name: &str) -> GroupResource {
        match name.split_once('.') {
            Some((resource, group)) => GroupResource {
                group: group.to_string(),
                resource: resource.to_string(),
            },
            None => GroupResource {
                group: String::new(),
                resource: name.to_string(),
            },
        }
    }

    fn is(&self, group: &str, resource: &str) -> bool {
        self.group == group && self.resource == resource
    }
}

/// How the stand-in misbehaves, set from [`crate::Options`].
#[derive(Debug, Default)]
pub(crate) struct Behaviour {
    /// Bearer token → user name.
    pub tokens: BTreeMap<String, String>,
    pub forbidden: Vec<GroupResource>,
    pub failing: Vec<GroupResource>,
    pub unserved: Vec<GroupResource>,
    /// Resources whose next continue token is answered with 410 Gone (once each).
    pub expire_next_continue: Mutex<BTreeSet<GroupResource>>,
    pub aggregated_discovery: bool,
}

impl Behaviour {
    fn lists(list: &[GroupResource], group: &str, resource: &str) -> bool {
        list.iter().any(|gr| gr.is(group, resource))
    }

    fn unserved(&self, group: &str, resource: &str) -> bool {
        // Subresources (`pods/status`) go with their resource.
        let base = resource.split('/').next().unwrap_or(resource);
        Self::lists(&self.unserved, group, base)
    }
}

pub(crate) struct Api {
    pub recording: Recording,
    pub behaviour: Behaviour,
}

const JSON: &str = "application/json";

impl Api {
    /// Answers one request. Also returns the authenticated user, for the request log.
    pub fn handle(&self, request: &Incoming<'_>) -> (Reply, Option<String>) {
        let Some(user) = self.authenticate(request) else {
            return (unauthorized(), None);
        };
        (self.route(request, &user), Some(user))
    }

    /// kube-apiserver tries the client certificate before bearer tokens; either is enough.
    fn authenticate(&self, request: &Incoming<'_>) -> Option<String> {
        if let Some(user) = request.certificate_user {
            return Some(user.to_string());
        }
        let token = request.authorization?.strip_prefix("Bearer ")?.trim();
        self.behaviour.tokens.get(token).cloned()
    }

    fn route(&self, request: &Incoming<'_>, user: &str) -> Reply {
        if request.method != "GET" {
            return status_reply(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                json!({}),
            );
        }
        let path = match request.path.trim_end_matches('/') {
            "" => "/",
            p => p,
        };
        if let Some(query) = request.query
            && let Some(body) = self.recording.replays.get(&format!("{path}?{query}"))
        {
            return Reply {
                status: 200,
                content_type: JSON,
                body: body.clone(),
            };
        }
        let query = Query::parse(request.query.unwrap_or(""));
        if query.watch {
            return status_reply(
                400,
                "BadRequest",
                "this stand-in API server replays recorded responses and serves only the recorded watch",
                json!({}),
            );
        }
        if path == "/version" {
            return ok(JSON, self.recording.version.clone());
        }
        if path == "/api" || path == "/apis" {
            return self.root_discovery(path, request.accept);
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (group, version, rest) = match segments.as_slice() {
            ["api", version, rest @ ..] => ("", *version, rest),
            ["apis", group, version, rest @ ..] => (*group, *version, rest),
            _ => return not_found(),
        };
        match rest {
            [] => self.group_version_discovery(path, group, version),
            [resource] => self.list(group, version, resource, None, &query, user),
            [resource, name] => self.get(group, version, resource, None, name, user),
            ["namespaces", namespace, resource] => {
                self.list(group, version, resource, Some(namespace), &query, user)
            }
            ["namespaces", namespace, resource, name] => {
                self.get(group, version, resource, Some(namespace), name, user)
            }
            _ => not_found(),
        }
    }

    fn root_discovery(&self, path: &str, accept: Option<&str>) -> Reply {
        let wants_aggregated = accept.is_some_and(|a| a.contains("as=APIGroupDiscoveryList"));
        if wants_aggregated
            && self.behaviour.aggregated_discovery
            && let Some(document) = self.recording.aggregated.get(path)
        {
            return match self.without_unserved_aggregated(document) {
                Ok(body) => ok(AGGREGATED_DISCOVERY, body),
                Err(reply) => reply,
            };
        }
        match self.recording.discovery.get(path) {
            Some(body) => ok(JSON, body.clone()),
            None => not_found(),
        }
    }

    fn group_version_discovery(&self, path: &str, group: &str, version: &str) -> Reply {
        let resources: Vec<&ServedResource> = self
            .recording
            .served
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .collect();
        if resources.is_empty() {
            return not_found();
        }
        if let Some(document) = self.recording.discovery.get(path) {
            return match self.without_unserved_legacy(group, document) {
                Ok(body) => ok(JSON, body),
                Err(reply) => reply,
            };
        }
        // Not recorded for this group version: built from the aggregated document, which lists the
        // same resources (subresources left out).
        let group_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let entries: Vec<Value> = resources
            .iter()
            .filter(|r| !self.behaviour.unserved(group, &r.resource))
            .map(|r| {
                let mut entry = json!({
                    "name": r.resource,
                    "singularName": r.singular,
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": r.verbs,
                });
                if !r.short_names.is_empty() {
                    entry["shortNames"] = json!(r.short_names);
                }
                if !r.categories.is_empty() {
                    entry["categories"] = json!(r.categories);
                }
                entry
            })
            .collect();
        json_reply(
            200,
            &json!({
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": group_version,
                "resources": entries,
            }),
        )
    }

    fn without_unserved_aggregated(&self, document: &Bytes) -> Result<Bytes, Reply> {
        if self.behaviour.unserved.is_empty() {
            return Ok(document.clone());
        }
        let mut value: Value = serde_json::from_slice(document).map_err(internal)?;
        if let Some(groups) = value.get_mut("items").and_then(Value::as_array_mut) {
            for group in groups {
                let name = group
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let Some(versions) = group.get_mut("versions").and_then(Value::as_array_mut) else {
                    continue;
                };
                for version in versions {
                    if let Some(resources) =
                        version.get_mut("resources").and_then(Value::as_array_mut)
                    {
                        resources.retain(|r| {
                            let resource = r.get("resource").and_then(Value::as_str).unwrap_or("");
                            !self.behaviour.unserved(&name, resource)
                        });
                    }
                }
            }
        }
        to_body(&value)
    }

    fn without_unserved_legacy(&self, group: &str, document: &Bytes) -> Result<Bytes, Reply> {
        if self.behaviour.unserved.is_empty() {
            return Ok(document.clone());
        }
        let mut value: Value = serde_json::from_slice(document).map_err(internal)?;
        if let Some(resources) = value.get_mut("resources").and_then(Value::as_array_mut) {
            resources.retain(|r| {
                let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                !self.behaviour.unserved(group, name)
            });
        }
        to_body(&value)
    }

    /// The checks kube-apiserver makes before it reads storage: is the resource served at this
    /// scope, does it support the verb, may the user do it.
    fn authorize(&self, access: &Access<'_>, user: &str) -> Result<&ServedResource, Reply> {
        let Access {
            group,
            version,
            resource,
            namespace,
            name,
            verb,
        } = *access;
        let served = self
            .recording
            .served(group, version, resource)
            .filter(|_| !self.behaviour.unserved(group, resource))
            .ok_or_else(not_found)?;
        if namespace.is_some() && !served.namespaced {
            return Err(not_found());
        }
        if !served.can(verb) {
            return Err(status_reply(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                json!({}),
            ));
        }
        if Behaviour::lists(&self.behaviour.forbidden, group, resource) {
            return Err(forbidden(group, resource, namespace, name, verb, user));
        }
        if Behaviour::lists(&self.behaviour.failing, group, resource) {
            let cause = "etcdserver: request timed out";
            return Err(status_reply(
                500,
                "InternalError",
                &format!("Internal error occurred: {cause}"),
                json!({ "causes": [{ "message": cause }] }),
            ));
        }
        Ok(served)
    }

    fn list(
        &self,
        group: &str,
        version: &str,
        resource: &str,
        namespace: Option<&str>,
        query: &Query,
        user: &str,
    ) -> Reply {
        let access = Access {
            group,
            version,
            resource,
            namespace,
            name: None,
            verb: "list",
        };
        let served = match self.authorize(&access, user) {
            Ok(served) => served,
            Err(reply) => return reply,
        };
        let recorded = self
            .recording
            .lists
            .get(&(group.to_string(), resource.to_string()));
        // A served resource that was not recorded had no objects in the cluster: kube-apiserver
        // answers such lists with an empty list at the current resource version.
        let empty;
        let list = match recorded {
            Some(list) => list,
            None => {
                empty = RecordedList {
                    kind: format!("{}List", served.kind),
                    api_version: served.api_version(),
                    resource_version: self.current_resource_version(),
                    items: Vec::new(),
                };
                &empty
            }
        };
        let items: Vec<&Item> = list
            .items
            .iter()
            .filter(|item| namespace.is_none() || item.namespace.as_deref() == namespace)
            .collect();
        if query.continue_token.is_some() {
            let key = GroupResource {
                group: group.to_string(),
                resource: resource.to_string(),
            };
            let expire = self
                .behaviour
                .expire_next_continue
                .lock()
                .map(|mut set| set.remove(&key))
                .unwrap_or(false);
            if expire {
                return expired();
            }
        }
        page(list, &items, namespace.is_some(), query)
    }

    fn get(
        &self,
        group: &str,
        version: &str,
        resource: &str,
        namespace: Option<&str>,
        name: &str,
        user: &str,
    ) -> Reply {
        let access = Access {
            group,
            version,
            resource,
            namespace,
            name: Some(name),
            verb: "get",
        };
        let served = match self.authorize(&access, user) {
            Ok(served) => served,
            Err(reply) => return reply,
        };
        // A namespaced object must be asked for in its namespace.
        if served.namespaced != namespace.is_some() {
            return not_found();
        }
        let item = self
            .recording
            .lists
            .get(&(group.to_string(), resource.to_string()))
            .and_then(|list| {
                list.items
                    .iter()
                    .find(|i| i.name == name && i.namespace.as_deref() == namespace)
            });
        let Some(item) = item else {
            let mut details = json!({ "name": name, "kind": resource });
            if !group.is_empty() {
                details["group"] = json!(group);
            }
            return status_reply(
                404,
                "NotFound",
                &format!("{} {name:?} not found", qualified(group, resource)),
                details,
            );
        };
        // Items of a list lack `kind` and `apiVersion`; a single GET carries them first.
        let raw = item.raw.get().trim();
        let fields = raw.strip_prefix('{').map(str::trim_start).unwrap_or(raw);
        let separator = if fields.starts_with('}') { "" } else { "," };
        let body = format!(
            "{{\"kind\":{},\"apiVersion\":{}{separator}{fields}\n",
            json!(served.kind),
            json!(served.api_version()),
        );
        ok(JSON, Bytes::from(body))
    }

    fn current_resource_version(&self) -> String {
        self.recording
            .lists
            .values()
            .next()
            .map(|list| list.resource_version.clone())
            .unwrap_or_else(|| "1".to_string())
    }
}

/// What a request asks to do, as kube-apiserver's authorizer sees it.
#[derive(Debug, Clone, Copy)]
struct Access<'a> {
    group: &'a str,
    version: &'a str,
    resource: &'a str,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    verb: &'a str,
}

/// The query parameters the stand-in understands.
#[derive(Debug, Default)]
struct Query {
    limit: Option<usize>,
    continue_token: Option<String>,
    watch: bool,
}

impl Query {
    fn parse(query: &str) -> Query {
        let mut parsed = Query::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match key {
                // kube-apiserver treats a limit it cannot use as "no limit".
                "limit" => parsed.limit = value.parse().ok().filter(|&n: &usize| n > 0),
                "continue" if !value.is_empty() => parsed.continue_token = Some(value),
                "watch" => parsed.watch = value == "1" || value == "true",
                _ => {}
            }
        }
        parsed
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|&c| (c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A continue token as kube-apiserver v1.36 writes it: unpadded base64url of this JSON.
#[derive(Serialize, Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

const CONTINUE_VERSION: &str = "meta.k8s.io/v1";

fn encode_continue(resource_version: &str, start: String) -> Option<String> {
    let token = ContinueToken {
        v: CONTINUE_VERSION.to_string(),
        rv: resource_version.parse().unwrap_or(0),
        start,
    };
    let json = serde_json::to_vec(&token).ok()?;
    Some(URL_SAFE_NO_PAD.encode(json))
}

fn decode_continue(token: &str) -> Option<ContinueToken> {
    let json = URL_SAFE_NO_PAD
        .decode(token)
        .or_else(|_| URL_SAFE.decode(token))
        .ok()?;
    let token: ContinueToken = serde_json::from_slice(&json).ok()?;
    (token.v == CONTINUE_VERSION).then_some(token)
}

#[derive(Serialize)]
struct ListPage<'a> {
    kind: &'a str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    metadata: PageMetadata<'a>,
    items: Vec<&'a RawValue>,
}

#[derive(Serialize)]
struct PageMetadata<'a> {
    #[serde(rename = "resourceVersion")]
    resource_version: &'a str,
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continue_token: Option<String>,
    #[serde(rename = "remainingItemCount", skip_serializing_if = "Option::is_none")]
    remaining_item_count: Option<usize>,
}

/// One page of a list, the way kube-apiserver pages: `limit` items from the position the continue
/// token names, a new token and the count of items left while more remain.
fn page(list: &RecordedList, items: &[&Item], namespaced: bool, query: &Query) -> Reply {
    // Keys in tokens are relative to the list's prefix: `/<ns>/<name>` cluster-wide, `/<name>`
    // inside a namespace.
    let key = |item: &Item| {
        if namespaced {
            format!("/{}", item.name)
        } else {
            item.key()
        }
    };
    let start = match &query.continue_token {
        None => 0,
        Some(token) => {
            let Some(token) = decode_continue(token) else {
                return expired();
            };
            if token.rv != list.resource_version.parse().unwrap_or(0) {
                return expired();
            }
            items
                .iter()
                .position(|item| key(item) >= token.start)
                .unwrap_or(items.len())
        }
    };
    let remaining = items.get(start..).unwrap_or(&[]);
    let count = query.limit.unwrap_or(remaining.len()).min(remaining.len());
    let (this_page, rest) = remaining.split_at(count);
    let (continue_token, remaining_item_count) = match (rest.is_empty(), this_page.last()) {
        (false, Some(last)) => (
            encode_continue(&list.resource_version, format!("{}\u{0}", key(last))),
            Some(rest.len()),
        ),
        _ => (None, None),
    };
    let body = ListPage {
        kind: &list.kind,
        api_version: &list.api_version,
        metadata: PageMetadata {
            resource_version: &list.resource_version,
            continue_token,
            remaining_item_count,
        },
        items: this_page.iter().map(|item| item.raw.as_ref()).collect(),
    };
    match to_body(&body) {
        Ok(body) => ok(JSON, body),
        Err(reply) => reply,
    }
}

fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// kube-apiserver's RBAC denial, message and details as `apierrors.NewForbidden` builds them.
fn forbidden(
    group: &str,
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
    verb: &str,
    user: &str,
) -> Reply {
    let scope = match namespace {
        Some(ns) => format!("in the namespace {ns:?}"),
        None => "at the cluster scope".to_string(),
    };
    let reason =
        format!("User {user:?} cannot {verb} resource {resource:?} in API group {group:?} {scope}");
    let subject = match name {
        Some(name) => format!("{} {name:?}", qualified(group, resource)),
        None => qualified(group, resource),
    };
    let mut details = serde_json::Map::new();
    if let Some(name) = name {
        details.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        details.insert("group".into(), json!(group));
    }
    details.insert("kind".into(), json!(resource));
    status_reply(
        403,
        "Forbidden",
        &format!("{subject} is forbidden: {reason}"),
        Value::Object(details),
    )
}

fn unauthorized() -> Reply {
    json_reply(
        401,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        }),
    )
}

fn not_found() -> Reply {
    status_reply(
        404,
        "NotFound",
        "the server could not find the requested resource",
        json!({}),
    )
}

fn expired() -> Reply {
    status_reply(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can \
         start a new list without the continue parameter.",
        Value::Null,
    )
}

/// A `metav1.Status` failure body, fields in the order kube-apiserver writes them.
fn status_reply(code: u16, reason: &str, message: &str, details: Value) -> Reply {
    let mut status = serde_json::Map::new();
    status.insert("kind".into(), json!("Status"));
    status.insert("apiVersion".into(), json!("v1"));
    status.insert("metadata".into(), json!({}));
    status.insert("status".into(), json!("Failure"));
    status.insert("message".into(), json!(message));
    status.insert("reason".into(), json!(reason));
    if !details.is_null() {
        status.insert("details".into(), details);
    }
    status.insert("code".into(), json!(code));
    json_reply(code, &Value::Object(status))
}

fn json_reply(status: u16, value: &Value) -> Reply {
    match to_body(value) {
        Ok(body) => Reply {
            status,
            content_type: JSON,
            body,
        },
        Err(reply) => reply,
    }
}

/// Compact JSON with the trailing newline Go's encoder writes.
fn to_body(value: &impl Serialize) -> Result<Bytes, Reply> {
    let mut body = serde_json::to_vec(value).map_err(internal)?;
    body.push(b'\n');
    Ok(Bytes::from(body))
}

fn internal(error: serde_json::Error) -> Reply {
    Reply {
        status: 500,
        content_type: "text/plain",
        body: Bytes::from(format!("stand-in API server: {error}\n")),
    }
}

fn ok(content_type: &'static str, body: Bytes) -> Reply {
    Reply {
        status: 200,
        content_type,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_decodes_percent_escapes_and_ignores_bad_limits() {
        let q = Query::parse("limit=3&continue=abc%3D%3D&watch=false");
        assert_eq!(q.limit, Some(3));
        assert_eq!(q.continue_token.as_deref(), Some("abc=="));
        assert!(!q.watch);
        assert_eq!(Query::parse("limit=-1").limit, None);
        assert_eq!(Query::parse("limit=0").limit, None);
        assert!(Query::parse("watch=1").watch);
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let token = encode_continue("964", "/dev/a\u{0}".to_string()).unwrap_or_default();
        let decoded = decode_continue(&token);
        assert_eq!(decoded.as_ref().map(|t| t.rv), Some(964));
        assert_eq!(decoded.map(|t| t.start), Some("/dev/a\u{0}".to_string()));
        assert!(decode_continue("not a token").is_none());
        assert!(
            decode_continue(&URL_SAFE_NO_PAD.encode(br#"{"v":"x","rv":1,"start":""}"#)).is_none()
        );
    }

    #[test]
    fn forbidden_message_names_group_scope_and_user() {
        let reply = forbidden("apps", "deployments", None, None, "list", "dev");
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        assert_eq!(reply.status, 403);
        assert_eq!(
            body["message"],
            "deployments.apps is forbidden: User \"dev\" cannot list resource \"deployments\" in \
             API group \"apps\" at the cluster scope"
        );
        assert_eq!(
            body["details"],
            json!({"group": "apps", "kind": "deployments"})
        );
    }

    #[test]
    fn group_resource_names_parse_like_kubectl() {
        assert_eq!(
            GroupResource::parse("deployments.apps"),
            GroupResource {
                group: "apps".into(),
                resource: "deployments".into()
            }
        );
        assert_eq!(GroupResource::parse("secrets").group, "");
        assert_eq!(
            GroupResource::parse("validatingwebhookconfigurations.admissionregistration.k8s.io")
                .group,
            "admissionregistration.k8s.io"
        );
    }
}
