//! .NET: NuGet packages an application was built with, from its `*.deps.json` (the dependency
//! manifest `dotnet publish` writes next to the application), as syft's `dotnet-deps-cataloger`.
//!
//! Only `libraries` of type `package` are reported (NuGet packages); `project` entries are the
//! application's own projects and `runtimepack` entries are the .NET runtime of a self-contained
//! application, which advisories name by the runtime's version rather than as a NuGet package.

use std::collections::BTreeMap;

use palisade_core::{CatalogNote, Package, PackageKind, purl_escape};
use serde_json::Value;

use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

pub struct DotnetDeps;

impl Cataloger for DotnetDeps {
    fn name(&self) -> &'static str {
        "dotnet"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if path.ends_with(".deps.json") {
            Interest::Keep
        } else {
            Interest::None
        }
    }

    fn catalog(
        &self,
        files: &FileTree,
        _: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    ) {
        for (path, _) in files.kept() {
            if !path.ends_with(".deps.json") {
                continue;
            }
            let Some(bytes) = files.read(path) else {
                continue;
            };
            match parse_deps_json(path, bytes) {
                Ok(found) => packages.extend(found),
                Err(message) => notes.push(CatalogNote::new(self.name(), path, message)),
            }
        }
    }
}

/// The NuGet packages of a `.deps.json` (`libraries` keys are `Name/Version`).
pub fn parse_deps_json(location: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let document: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("deps.json is not valid JSON: {e}"))?;
    let Some(Value::Object(libraries)) = document.get("libraries") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, library) in libraries {
        if library.get("type").and_then(Value::as_str) != Some("package") {
            continue;
        }
        let Some((name, version)) = key.rsplit_once('/') else {
            continue;
        };
        if name.is_empty() || version.is_empty() {
            continue;
        }
        let mut metadata = BTreeMap::new();
        for (field, key) in [
            ("sha512", "sha512"),
            ("path", "path"),
            ("hashPath", "hashPath"),
        ] {
            if let Some(value) = library.get(key).and_then(Value::as_str) {
                metadata.insert(field.to_string(), value.to_string());
            }
        }
        out.push(Package {
            purl: format!("pkg:nuget/{}@{}", purl_escape(name), purl_escape(version)),
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageKind::Dotnet,
            source: None,
            arch: None,
            licenses: Vec::new(),
            location: location.to_string(),
            layer: None,
            os_owned: false,
            files: Vec::new(),
            metadata,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deps_json() {
        let json = br#"{
  "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0/linux-x64"},
  "targets": {".NETCoreApp,Version=v8.0/linux-x64": {"Shop/1.0.0": {"dependencies": {"Newtonsoft.Json": "13.0.1"}}}},
  "libraries": {
    "Shop/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
    "Newtonsoft.Json/13.0.1": {"type": "package", "serviceable": true,
      "sha512": "sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A==",
      "path": "newtonsoft.json/13.0.1", "hashPath": "newtonsoft.json.13.0.1.nupkg.sha512"},
    "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {"type": "runtimepack", "serviceable": false, "sha512": ""}
  }
}"#;
        let packages = parse_deps_json("/app/Shop.deps.json", json).expect("parse");
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].purl, "pkg:nuget/Newtonsoft.Json@13.0.1");
        assert_eq!(packages[0].metadata["path"], "newtonsoft.json/13.0.1");
        assert!(parse_deps_json("/x", b"{").is_err());
        assert!(parse_deps_json("/x", b"[]").expect("parse").is_empty());
    }
}
