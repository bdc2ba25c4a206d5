//! Inventory snapshots: what a live scan discovered, written to a file so it can be re-assessed
//! offline with `palisade scan k8s FILE` (by a later Palisade version with new checks, on another
//! machine, or as evidence of the cluster's state at a time).
//!
//! The format is one JSON document:
//!
//! ```json
//! {"apiVersion": "palisade.dev/v1alpha1", "kind": "InventorySnapshot",
//!  "cluster": {"name": "prod", "server": "https://…", "context": "prod-admin", "version": "v1.36.2"},
//!  "takenAt": "2026-11-26T16:40:00Z",
//!  "items": [ …objects as the API returned them, with apiVersion and kind, redacted… ],
//!  "notAssessed": [ {"apiVersion": "v1", "kind": "Secret", "reason": "…"} ]}
//! ```
//!
//! `cluster` comes before `items` so the reader knows which cluster each item belongs to while
//! streaming. Items have already been through [`crate::redact`]: no Secret or ConfigMap values, no
//! last-applied copies. Literal environment values whose name says they hold a credential are
//! replaced as well, since a snapshot is a file people copy around.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use palisade_core::time::{Precision, Timestamp, format_rfc3339};
use palisade_core::{Node, NotAssessed, Resource, Value};
use serde::Serialize;

pub const API_VERSION: &str = "palisade.dev/v1alpha1";
pub const KIND: &str = "InventorySnapshot";

/// Replaces a literal environment value that a snapshot must not store. The environment-secret
/// check reports this marker like the literal it replaced, so a re-assessed snapshot keeps the
/// finding.
pub use palisade_core::credentials::REDACTED as REDACTED_VALUE;

/// The cluster a snapshot was taken from.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ClusterInfo {
    pub name: String,
    pub server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Writes a snapshot item by item, so a large cluster never has to be held in memory.
pub struct SnapshotWriter<W: Write> {
    out: W,
    items: usize,
}

impl<W: Write> SnapshotWriter<W> {
    pub fn new(mut out: W, cluster: &ClusterInfo) -> io::Result<SnapshotWriter<W>> {
        write!(
            out,
            "{{\"apiVersion\":\"{API_VERSION}\",\"kind\":\"{KIND}\",\"cluster\":"
        )?;
        serde_json::to_writer(&mut out, cluster)?;
        write!(out, ",\"takenAt\":\"{}\",\"items\":[", rfc3339_now())?;
        Ok(SnapshotWriter { out, items: 0 })
    }

    pub fn write(&mut self, resource: &Resource) -> io::Result<()> {
        if self.items > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        let object = redact_env_literals(resource.object.clone());
        serde_json::to_writer(&mut self.out, &object)?;
        self.items += 1;
        Ok(())
    }

    pub fn finish(mut self, not_assessed: &[NotAssessed]) -> io::Result<W> {
        self.out.write_all(b"\n],\"notAssessed\":")?;
        serde_json::to_writer(&mut self.out, not_assessed)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Builds a snapshot file while a scan runs, before the cluster identity and the kinds not assessed
/// are known: items go to a temporary file next to the target, and [`SnapshotFile::finish`] writes
/// the final file (header, items, trailer) and renames it into place, so a failed scan never leaves
/// a truncated snapshot behind.
pub struct SnapshotFile {
    path: PathBuf,
    items_path: PathBuf,
    items: BufWriter<File>,
    count: usize,
}

impl SnapshotFile {
    pub fn create(path: &Path) -> io::Result<SnapshotFile> {
        let items_path = sibling(path, ".items.tmp");
        let items = BufWriter::new(File::create(&items_path)?);
        Ok(SnapshotFile {
            path: path.to_path_buf(),
            items_path,
            items,
            count: 0,
        })
    }

    pub fn add(&mut self, resource: &Resource) -> io::Result<()> {
        if self.count > 0 {
            self.items.write_all(b",")?;
        }
        self.items.write_all(b"\n")?;
        serde_json::to_writer(
            &mut self.items,
            &redact_env_literals(resource.object.clone()),
        )?;
        self.count += 1;
        Ok(())
    }

    /// Writes the snapshot; returns how many objects it holds.
    pub fn finish(
        mut self,
        cluster: &ClusterInfo,
        not_assessed: &[NotAssessed],
    ) -> io::Result<usize> {
        self.items.flush()?;
        let final_tmp = sibling(&self.path, ".tmp");
        let result = (|| {
            let mut writer =
                SnapshotWriter::new(BufWriter::new(File::create(&final_tmp)?), cluster)?;
            io::copy(
                &mut BufReader::new(File::open(&self.items_path)?),
                &mut writer.out,
            )?;
            writer.items = self.count;
            writer.finish(not_assessed)?;
            std::fs::rename(&final_tmp, &self.path)
        })();
        let _ = std::fs::remove_file(&self.items_path);
        if result.is_err() {
            let _ = std::fs::remove_file(&final_tmp);
        }
        result.map(|_| self.count)
    }
}

impl Drop for SnapshotFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.items_path);
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Reads the `notAssessed` list of a snapshot's header (handed to
/// [`crate::manifests::ResourceSink::snapshot`]).
pub fn not_assessed_of(header: &Node) -> Vec<NotAssessed> {
    header
        .get("notAssessed")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| {
            Some(NotAssessed {
                api_version: n.str_at("apiVersion")?.to_string(),
                kind: n.str_at("kind")?.to_string(),
                namespace: n.str_at("namespace").map(str::to_string),
                reason: n.str_at("reason").unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// Replaces literal `env[].value`s that look like credentials (by name or by format) in every
/// container of a pod template, wherever it sits in the object.
fn redact_env_literals(mut node: Node) -> Node {
    redact_env_in(&mut node, 0);
    node
}

fn redact_env_in(node: &mut Node, depth: usize) {
    if depth > 16 {
        return;
    }
    if let Value::Map(entries) = &mut node.value {
        for (key, value) in entries.iter_mut() {
            if key == "env" {
                if let Value::Seq(vars) = &mut value.value {
                    for var in vars {
                        let name = var.str_at("name").unwrap_or("").to_string();
                        if let Some(v) = var.get_mut("value") {
                            let secret = v.as_str().is_some_and(|value| {
                                palisade_core::credentials::literal_credential(&name, value)
                                    .is_some()
                            });
                            if secret {
                                v.value = Value::String(REDACTED_VALUE.to_string());
                            }
                        }
                    }
                }
            } else {
                redact_env_in(value, depth + 1);
            }
        }
    } else if let Value::Seq(items) = &mut node.value {
        for item in items {
            redact_env_in(item, depth + 1);
        }
    }
}

fn rfc3339_now() -> String {
    format_rfc3339(Timestamp::from(SystemTime::now()), Precision::Seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifests::{ResourceSink, read_from};
    use palisade_core::{Source, SourceError};

    #[derive(Default)]
    struct Collect {
        resources: Vec<Resource>,
        headers: Vec<Node>,
    }
    impl ResourceSink for Collect {
        fn resource(&mut self, resource: Resource) {
            self.resources.push(resource);
        }
        fn error(&mut self, error: SourceError) {
            panic!("{error}");
        }
        fn snapshot(&mut self, _file: &str, header: Node) {
            self.headers.push(header);
        }
    }

    #[test]
    fn round_trip_keeps_objects_and_drops_credentials() {
        let pod = Node::from_json(
            serde_json::from_str(
                r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"dev"},
                "spec":{"containers":[{"name":"c","image":"busybox","env":[
                  {"name":"DB_PASSWORD","value":"hunter2"},{"name":"MODE","value":"fast"},
                  {"name":"NOTES","value":"ghp_0123456789abcdefghijABCDEFGHIJ012345"}]}]}}"#,
            )
            .unwrap(),
        );
        let resource = Resource::from_object(pod, Source::default()).unwrap();
        let cluster = ClusterInfo {
            name: "prod".into(),
            server: "https://10.0.0.1:6443".into(),
            context: None,
            version: Some("v1.36.2".into()),
        };
        let mut writer = SnapshotWriter::new(Vec::new(), &cluster).unwrap();
        writer.write(&resource).unwrap();
        let not_assessed = vec![NotAssessed {
            api_version: "v1".into(),
            kind: "Secret".into(),
            namespace: None,
            reason: "forbidden".into(),
        }];
        let bytes = writer.finish(&not_assessed).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("ghp_"), "{text}");
        assert!(text.contains("fast"), "{text}");
        let mut sink = Collect::default();
        read_from(&bytes[..], "snap.json", &mut sink);
        assert_eq!(sink.resources.len(), 1);
        assert_eq!(sink.resources[0].source.cluster.as_deref(), Some("prod"));
        assert_eq!(sink.headers.len(), 1);
        assert_eq!(not_assessed_of(&sink.headers[0]), not_assessed);
    }
}
