//! The recorded responses, loaded once at start: discovery documents, the cluster-wide lists (kept
//! as the raw bytes of each item so replayed pages are byte-identical to what the real server sent)
//! and any other recorded request that is replayed verbatim (the watch stream).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The `Accept` media type of aggregated discovery (what current kubectl and client-go ask for).
pub const AGGREGATED_DISCOVERY: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

pub(crate) struct Recording {
    pub version: Bytes,
    /// Legacy discovery documents by path: `/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`.
    pub discovery: BTreeMap<String, Bytes>,
    /// Aggregated discovery documents by path (`/api`, `/apis`).
    pub aggregated: BTreeMap<String, Bytes>,
    /// Every resource the aggregated documents say the server serves.
    pub served: Vec<ServedResource>,
    /// Cluster-wide lists by (group, resource).
    pub lists: BTreeMap<(String, String), RecordedList>,
    /// Other successful recordings, by `path?query`, replayed as they are.
    pub replays: BTreeMap<String, Bytes>,
}

#[derive(Debug, Clone)]
pub(crate) struct ServedResource {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub kind: String,
    pub singular: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
}

impl ServedResource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn can(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

pub(crate) struct RecordedList {
    pub kind: String,
    pub api_version: String,
    pub resource_version: String,
    /// Sorted by storage key, the order kube-apiserver lists and pages in.
    pub items: Vec<Item>,
}

pub(crate) struct Item {
    pub namespace: Option<String>,
    pub name: String,
    pub raw: Box<RawValue>,
}

impl Item {
    /// The storage key below the resource prefix, as continue tokens carry it: `/<ns>/<name>` or
    /// `/<name>` for cluster-scoped objects.
    pub fn key(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("/{ns}/{}", self.name),
            None => format!("/{}", self.name),
        }
    }
}

#[derive(Deserialize)]
struct IndexEntry {
    file: String,
    status: u16,
}

#[derive(Deserialize)]
struct ListDocument {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    #[serde(default)]
    metadata: ListMetadata,
    items: Vec<Box<RawValue>>,
}

#[derive(Deserialize, Default)]
struct ListMetadata {
    #[serde(rename = "resourceVersion", default)]
    resource_version: String,
}

#[derive(Deserialize)]
struct ItemIdentity {
    metadata: ItemMetadata,
}

#[derive(Deserialize)]
struct ItemMetadata {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize)]
struct KindOnly {
    #[serde(default)]
    kind: String,
}

#[derive(Deserialize)]
struct AggregatedList {
    items: Vec<AggregatedGroup>,
}

#[derive(Deserialize)]
struct AggregatedGroup {
    #[serde(default)]
    metadata: AggregatedGroupMetadata,
    versions: Vec<AggregatedVersion>,
}

#[derive(Deserialize, Default)]
struct AggregatedGroupMetadata {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct AggregatedVersion {
    version: String,
    #[serde(default)]
    resources: Vec<AggregatedResource>,
}

#[derive(Deserialize)]
struct AggregatedResource {
    resource: String,
    #[serde(rename = "responseKind")]
    response_kind: ResponseKind,
    scope: String,
    #[serde(rename = "singularResource", default)]
    singular: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(rename = "shortNames", default)]
    short_names: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
}

#[derive(Deserialize)]
struct ResponseKind {
    kind: String,
}

fn invalid(file: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", file.display()),
    )
}

impl Recording {
    pub fn load(dir: &Path) -> io::Result<Recording> {
        let index_path = dir.join("index.json");
        let index: BTreeMap<String, IndexEntry> =
            serde_json::from_slice(&std::fs::read(&index_path)?)
                .map_err(|e| invalid(&index_path, e))?;
        let mut recording = Recording {
            version: Bytes::new(),
            discovery: BTreeMap::new(),
            aggregated: BTreeMap::new(),
            served: Vec::new(),
            lists: BTreeMap::new(),
            replays: BTreeMap::new(),
        };
        for (request, entry) in index {
            // Recorded failures (the 403 of the `dev` user) are generated from options instead,
            // so the same path can succeed for other users.
            if entry.status != 200 {
                continue;
            }
            let file = dir.join(&entry.file);
            let body = Bytes::from(std::fs::read(&file)?);
            if let Some((path, _accept)) = request.split_once(" (Accept: ") {
                recording.aggregated.insert(path.to_string(), body);
                continue;
            }
            if request.contains('?') {
                // Recorded pages are what the synthesised pages are tested against; other queries
                // (the watch) are replayed verbatim.
                if !request.contains("limit=") {
                    recording.replays.insert(request, body);
                }
                continue;
            }
            if request == "/version" {
                recording.version = body;
                continue;
            }
            let kind: KindOnly = serde_json::from_slice(&body).map_err(|e| invalid(&file, e))?;
            match kind.kind.as_str() {
                "APIVersions" | "APIGroupList" | "APIResourceList" => {
                    recording.discovery.insert(request, body);
                }
                k if k.ends_with("List") => {
                    if let Some(key) = cluster_wide_list_key(&request) {
                        recording.lists.insert(key, parse_list(&file, &body)?);
                    }
                    // Namespaced recordings are served by filtering the cluster-wide list.
                }
                _ => {
                    recording.replays.insert(request, body);
                }
            }
        }
        for document in recording.aggregated.values() {
            let list: AggregatedList = serde_json::from_slice(document)
                .map_err(|e| invalid(dir, format!("aggregated discovery: {e}")))?;
            for group in list.items {
                for version in group.versions {
                    for resource in version.resources {
                        recording.served.push(ServedResource {
                            group: group.metadata.name.clone(),
                            version: version.version.clone(),
                            resource: resource.resource,
                            kind: resource.response_kind.kind,
                            singular: resource.singular,
                            namespaced: resource.scope == "Namespaced",
                            verbs: resource.verbs,
                            short_names: resource.short_names,
                            categories: resource.categories,
                        });
                    }
                }
            }
        }
        if recording.version.is_empty() || recording.served.is_empty() {
            return Err(invalid(
                dir,
                "the recording lacks /version or aggregated discovery",
            ));
        }
        Ok(recording)
    }

    pub fn served(&self, group: &str, version: &str, resource: &str) -> Option<&ServedResource> {
        self.served
            .iter()
            .find(|r| r.group == group && r.version == version && r.resource == resource)
    }
}

/// `(group, resource)` of a cluster-wide list path: `/api/v1/<resource>` or
/// `/apis/<group>/<version>/<resource>`.
fn cluster_wide_list_key(path: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api", _version, resource] => Some((String::new(), resource.to_string())),
        ["apis", group, _version, resource] => Some((group.to_string(), resource.to_string())),
        _ => None,
    }
}

fn parse_list(file: &Path, body: &[u8]) -> io::Result<RecordedList> {
    let document: ListDocument = serde_json::from_slice(body).map_err(|e| invalid(file, e))?;
    let mut items = Vec::with_capacity(document.items.len());
    for raw in document.items {
        let identity: ItemIdentity =
            serde_json::from_str(raw.get()).map_err(|e| invalid(file, e))?;
        items.push(Item {
            namespace: identity.metadata.namespace.filter(|ns| !ns.is_empty()),
            name: identity.metadata.name,
            raw,
        });
    }
    items.sort_by_key(Item::key);
    Ok(RecordedList {
        kind: document.kind,
        api_version: document.api_version,
        resource_version: document.metadata.resource_version,
        items,
    })
}
