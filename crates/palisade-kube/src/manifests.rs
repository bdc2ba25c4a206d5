//! Manifests on disk and on standard input: which files a set of paths names, and the resources in
//! each, redacted, with where they came from.
//!
//! Directories are walked recursively in name order (so reports are stable) for `.yaml`, `.yml` and
//! `.json` files, skipping hidden directories; a file named explicitly is read whatever its name.
//! Unrendered Helm templates (`{{ … }}` outside comments) are not valid YAML and are skipped with a
//! note rather than reported as errors: render them with `helm template` first.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_core::{Node, Resource, Source, SourceError};

use crate::redact::redact;
use crate::yaml::{self, DocumentInfo, ObjectSink};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name used in reports: the path as the user gave it, `-` for standard input.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::File(path) => path.display().to_string(),
        }
    }
}

/// What reading an input produced besides resources.
pub trait ResourceSink {
    fn resource(&mut self, resource: Resource);
    /// A document or file that could not be read; the others are still read.
    fn error(&mut self, error: SourceError);
    /// A document that is not a Kubernetes object, or a file that is not a manifest.
    fn skipped(&mut self, _file: &str, _document: u32, _why: &str) {}
    /// The header of a Palisade inventory snapshot (cluster identity, kinds not assessed), after
    /// its items.
    fn snapshot(&mut self, _file: &str, _header: Node) {}
}

/// Expands paths into the inputs they name. Paths that do not exist are errors; the rest are kept.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<SourceError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(path.clone())),
            Err(e) => errors.push(file_error(path, &e)),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<SourceError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(file_error(dir, &e)),
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Follow symlinks: kubectl and kustomize users keep manifests behind them.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if !name.starts_with('.') {
                walk(&path, inputs, errors);
            }
        } else if has_manifest_extension(&name) {
            inputs.push(Input::File(path));
        }
    }
}

fn has_manifest_extension(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

fn file_error(path: &Path, e: &io::Error) -> SourceError {
    let cause = match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    SourceError {
        file: path.display().to_string(),
        line: None,
        column: None,
        message: cause,
    }
}

/// Reads every resource of one input into `sink`.
pub fn read(input: &Input, sink: &mut dyn ResourceSink) {
    let name = input.name();
    match input {
        Input::Stdin => read_from(io::stdin().lock(), &name, sink),
        Input::File(path) => match File::open(path) {
            Ok(file) => {
                let mut reader = BufReader::with_capacity(64 * 1024, file);
                if looks_like_unrendered_template(&mut reader) {
                    sink.skipped(
                        &name,
                        0,
                        "an unrendered Helm template (`{{`): render it with `helm template` first",
                    );
                    return;
                }
                read_from(reader, &name, sink)
            }
            Err(e) => sink.error(file_error(path, &e)),
        },
    }
}

/// Reads resources from any byte stream named `name` in reports.
pub fn read_from(reader: impl Read, name: &str, sink: &mut dyn ResourceSink) {
    let file: Arc<str> = Arc::from(name);
    let mut adapter = Adapter { file, sink };
    yaml::read_stream(reader, name, &mut adapter);
}

/// Peeks at the start of a file for Go template actions outside comments. Only the first block
/// is examined (templates use `{{` near the top: `metadata.name` or labels) so huge files cost nothing.
fn looks_like_unrendered_template(reader: &mut BufReader<File>) -> bool {
    use std::io::BufRead;
    let Ok(head) = reader.fill_buf() else {
        return false;
    };
    let head = String::from_utf8_lossy(head);
    head.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .any(|l| l.contains("{{") && l.contains("}}"))
}

struct Adapter<'a> {
    file: Arc<str>,
    sink: &'a mut dyn ResourceSink,
}

impl ObjectSink for Adapter<'_> {
    fn object(&mut self, object: Node, document: &DocumentInfo) {
        let source = Source {
            file: Some(self.file.clone()),
            cluster: document.cluster.clone(),
            document: document.index,
            template: document.template.clone(),
        };
        match Resource::from_object(redact(object), source) {
            Some(resource) => self.sink.resource(resource),
            None => self
                .sink
                .skipped(&self.file, document.index, "no apiVersion or kind"),
        }
    }

    fn list_header(&mut self, header: Node, _document: &DocumentInfo) {
        let is_snapshot = header.str_at("kind") == Some(crate::snapshot::KIND)
            && header.str_at("apiVersion") == Some(crate::snapshot::API_VERSION);
        if is_snapshot {
            self.sink.snapshot(&self.file, header);
        }
    }

    fn skipped(&mut self, document: &DocumentInfo, why: &str) {
        self.sink.skipped(&self.file, document.index, why);
    }

    fn error(&mut self, error: SourceError) {
        self.sink.error(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        resources: Vec<Resource>,
        errors: Vec<SourceError>,
        skipped: Vec<String>,
    }

    impl ResourceSink for Collect {
        fn resource(&mut self, resource: Resource) {
            self.resources.push(resource);
        }
        fn error(&mut self, error: SourceError) {
            self.errors.push(error);
        }
        fn skipped(&mut self, file: &str, document: u32, why: &str) {
            self.skipped.push(format!("{file}#{document}: {why}"));
        }
    }

    #[test]
    fn walks_directories_in_order_and_skips_hidden_and_templates() {
        let dir = std::env::temp_dir().join(format!("palisade-manifests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/.git")).unwrap();
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(
            dir.join("b/pod.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("b/.git/x.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: hidden}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("a/pod.json"),
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}"#,
        )
        .unwrap();
        std::fs::write(dir.join("a/notes.txt"), "not a manifest").unwrap();
        std::fs::write(
            dir.join("a/tpl.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n",
        )
        .unwrap();
        let (inputs, errors) = expand(&[dir.clone(), dir.join("missing.yaml")]);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().contains("missing.yaml"),
            "{}",
            errors[0]
        );
        let mut sink = Collect::default();
        for input in &inputs {
            read(input, &mut sink);
        }
        let names: Vec<_> = sink
            .resources
            .iter()
            .map(|r| r.name().to_string())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(
            sink.skipped
                .iter()
                .any(|s| s.contains("tpl.yaml") && s.contains("helm template")),
            "{:?}",
            sink.skipped
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn snapshot_items_carry_the_cluster() {
        let snapshot = r#"{"apiVersion":"palisade.dev/v1alpha1","kind":"InventorySnapshot",
            "cluster":{"name":"prod-eu","server":"https://10.0.0.1:6443"},
            "items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"x"}}]}"#;
        let mut sink = Collect::default();
        read_from(snapshot.as_bytes(), "snap.json", &mut sink);
        assert_eq!(sink.resources.len(), 1);
        assert_eq!(sink.resources[0].source.cluster.as_deref(), Some("prod-eu"));
    }
}
