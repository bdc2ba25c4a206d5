//! Go modules compiled into binaries, from the build information the Go linker embeds
//! (`runtime/debug.BuildInfo`), read by the shared streaming [`binary_extract`](super::binary).
//!
//! Like syft's `go-module-binary-cataloger`: the main module, every `dep` (its replacement when
//! replaced by another module), and `stdlib` at the toolchain version. A main module built from
//! a checkout reports `(devel)`; as syft does by default, a version is recovered from
//! `-ldflags -X …version=…` or else from the VCS build settings as a Go pseudo-version. GOPATH
//! builds (no `mod` line) report the `path` package as their main module.
//! Difference from syft: binaries from Go < 1.18 (pointer-format build information) are noted,
//! not decoded, since decoding needs the virtual address map that a streaming read lacks.

use std::collections::BTreeMap;

use palisade_core::{CatalogNote, Package, PackageKind, purl_escape};

use super::binary::{self, TAG_GO, TAG_GO_POINTERS};
use super::{Cataloger, Context, Interest};
use crate::files::{Content, EntryKind, FileTree};

pub struct GoBinaries;

impl Cataloger for GoBinaries {
    fn name(&self) -> &'static str {
        "go"
    }

    fn interest(&self, path: &str, size: u64, mode: u32) -> Interest {
        binary::interest(path, size, mode)
    }

    fn catalog(
        &self,
        files: &FileTree,
        _: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    ) {
        for (path, entry) in files.kept() {
            let EntryKind::File(Content::Extract(extract)) = &entry.kind else {
                continue;
            };
            for (tag, payload) in binary::records(extract) {
                match tag {
                    TAG_GO => {
                        let text = String::from_utf8_lossy(payload);
                        let (version, modinfo) = text.split_once('\0').unwrap_or((&text, ""));
                        packages.extend(packages_from_buildinfo(path, version, modinfo));
                    }
                    TAG_GO_POINTERS => notes.push(CatalogNote::new(
                        self.name(),
                        path,
                        "Go binary built before Go 1.18 (pointer-format build \
                                  information): its modules are not listed",
                    )),
                    _ => {}
                }
            }
        }
    }
}

/// One module line of the module information (`mod`/`dep`, or `=>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    pub sum: String,
    pub replace: Option<Box<Module>>,
}

/// Parsed `runtime/debug.BuildInfo` text (`debug.ParseBuildInfo` format).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModInfo {
    pub path: String,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    pub settings: Vec<(String, String)>,
}

/// Parses the tab-separated module information; malformed lines are skipped (the format is
/// produced by the linker, so a bad line means damage, not a dialect).
pub fn parse_modinfo(text: &str) -> ModInfo {
    let mut info = ModInfo::default();
    // Which module a following `=>` line replaces: true for the main module.
    let mut last_is_main = false;
    for line in text.lines() {
        let mut fields = line.split('\t');
        let key = fields.next().unwrap_or_default();
        let module = |fields: std::str::Split<'_, char>| {
            let parts: Vec<&str> = fields.collect();
            Module {
                path: parts.first().copied().unwrap_or_default().to_string(),
                version: parts.get(1).copied().unwrap_or_default().to_string(),
                sum: parts.get(2).copied().unwrap_or_default().to_string(),
                replace: None,
            }
        };
        match key {
            "path" => info.path = fields.next().unwrap_or_default().to_string(),
            "mod" => {
                info.main = Some(module(fields));
                last_is_main = true;
            }
            "dep" => {
                info.deps.push(module(fields));
                last_is_main = false;
            }
            "=>" => {
                let replacement = Box::new(module(fields));
                let target = if last_is_main {
                    info.main.as_mut()
                } else {
                    info.deps.last_mut()
                };
                if let Some(target) = target {
                    target.replace = Some(replacement);
                }
            }
            "build" => {
                let setting = fields.collect::<Vec<_>>().join("\t");
                // Keys may be quoted when they contain spaces or `=`; values are the rest.
                if let Some((k, v)) = setting.split_once('=') {
                    info.settings
                        .push((k.trim_matches('"').to_string(), unquote(v)));
                }
            }
            _ => {}
        }
    }
    info
}

fn unquote(value: &str) -> String {
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        value
            .get(1..value.len() - 1)
            .unwrap_or_default()
            .replace("\\\"", "\"")
    } else {
        value.to_string()
    }
}

/// `pkg:golang/github.com/x/y@v1.2.3`: every path segment escaped on its own.
pub fn purl(module_path: &str, version: &str) -> String {
    let path: Vec<String> = module_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(purl_escape)
        .collect();
    let mut purl = format!("pkg:golang/{}", path.join("/"));
    if !version.is_empty() {
        purl.push('@');
        purl.push_str(&purl_escape(version));
    }
    purl
}

/// `go1.22.3` (possibly followed by ` X:experiment`) → `v1.22.3`; `None` for `devel` toolchains.
pub fn stdlib_version(go_version: &str) -> Option<String> {
    let first = go_version.split_whitespace().next()?;
    let number = first.strip_prefix("go")?;
    number
        .chars()
        .next()
        .filter(char::is_ascii_digit)
        .map(|_| format!("v{number}"))
}

/// The main module's version when the build says `(devel)`: `-X …version=v1.2.3` in the
/// linker flags first, then a pseudo-version from `vcs.revision`/`vcs.time` (syft's defaults).
fn main_version(settings: &[(String, String)]) -> Option<String> {
    let get = |key: &str| {
        settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    if let Some(flags) = get("-ldflags")
        && let Some(version) = version_from_ldflags(flags)
    {
        return Some(version);
    }
    let revision = get("vcs.revision")?;
    let time = get("vcs.time")?;
    // `2024-05-01T12:34:56Z` → `20240501123456`.
    let stamp: String = time.chars().filter(char::is_ascii_digit).take(14).collect();
    if stamp.len() != 14 || revision.len() < 12 {
        return None;
    }
    let mut version = format!("v0.0.0-{stamp}-{}", revision.get(..12)?);
    if get("vcs.modified") == Some("true") {
        version.push_str("+dirty");
    }
    Some(version)
}

/// `-X main.version=1.2.3`, `-X github.com/x/y/version.Version=v1.2.3`, `-X main.gitTag=…`.
fn version_from_ldflags(flags: &str) -> Option<String> {
    let words: Vec<&str> = flags.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let assignment = if let Some(rest) = word.strip_prefix("-X=") {
            rest
        } else if *word == "-X" || *word == "--X" {
            words.get(i + 1).copied().unwrap_or_default()
        } else if let Some(rest) = word.strip_prefix("-X") {
            rest
        } else {
            continue;
        };
        let assignment = assignment.trim_matches(|c| c == '\'' || c == '"');
        let Some((symbol, value)) = assignment.split_once('=') else {
            continue;
        };
        let name = symbol.rsplit(['.', '/']).next().unwrap_or_default();
        let is_version_symbol = matches!(
            name.to_ascii_lowercase().as_str(),
            "version" | "gittag" | "buildversion" | "releaseversion"
        );
        let value = value.trim_matches(|c| c == '\'' || c == '"');
        let digits = value.strip_prefix('v').unwrap_or(value);
        let looks_like_version = digits.split('.').count() >= 3
            && digits.chars().next().is_some_and(|c| c.is_ascii_digit());
        if is_version_symbol && looks_like_version {
            return Some(format!("v{digits}"));
        }
    }
    None
}

/// A build without a `mod` line (GOPATH mode, as Debian's packaged Go programs are built) or
/// from a file list (`go build main.go`: `command-line-arguments`) still has a main package:
/// the one `(devel)` dependency when there is exactly one (it is the module being built), else
/// the `path` line, as syft decides. Its version stays `(devel)` unless linker flags or VCS
/// settings give one: syft's further guess (the first NUL-delimited semver-looking string in the
/// binary) is not made, since a wrong version is worse for matching than an unknown one.
fn adopt_main_module(info: &mut ModInfo) {
    let missing = match &info.main {
        None => !info.path.is_empty(),
        Some(main) => main.path == "command-line-arguments",
    };
    if !missing {
        return;
    }
    let devel: Vec<usize> = (0..info.deps.len())
        .filter(|&i| info.deps.get(i).is_some_and(|d| d.version == "(devel)"))
        .collect();
    info.main = if let [only] = devel.as_slice() {
        Some(info.deps.remove(*only))
    } else if info.path.is_empty() || info.path == "command-line-arguments" {
        None
    } else {
        Some(Module {
            path: info.path.clone(),
            version: "(devel)".to_string(),
            sum: String::new(),
            replace: None,
        })
    };
}

/// The packages of one binary's build information.
pub fn packages_from_buildinfo(location: &str, go_version: &str, modinfo: &str) -> Vec<Package> {
    let mut info = parse_modinfo(modinfo);
    adopt_main_module(&mut info);
    let mut common = BTreeMap::new();
    common.insert("goVersion".to_string(), go_version.to_string());
    if let Some(main) = &info.main {
        common.insert("mainModule".to_string(), main.path.clone());
    }
    for (key, value) in &info.settings {
        if matches!(key.as_str(), "GOARCH" | "GOOS" | "GOAMD64" | "CGO_ENABLED") {
            common.insert(key.clone(), value.clone());
        }
    }
    let make = |module: &Module, version: String, extra: &[(&str, &str)]| {
        let mut metadata = common.clone();
        if !module.sum.is_empty() {
            metadata.insert("h1Digest".to_string(), module.sum.clone());
        }
        for (k, v) in extra {
            metadata.insert((*k).to_string(), (*v).to_string());
        }
        Package {
            purl: purl(&module.path, &version),
            name: module.path.clone(),
            version,
            kind: PackageKind::Go,
            source: None,
            arch: None,
            licenses: Vec::new(),
            location: location.to_string(),
            layer: None,
            os_owned: false,
            files: Vec::new(),
            metadata,
        }
    };
    let mut packages = Vec::new();
    if let Some(main) = &info.main
        && !main.path.is_empty()
    {
        let effective = main.replace.as_deref().unwrap_or(main);
        let version = if effective.version.is_empty() || effective.version == "(devel)" {
            main_version(&info.settings).unwrap_or_else(|| "(devel)".to_string())
        } else {
            effective.version.clone()
        };
        let mut package = make(main, version, &[]);
        for (key, value) in &info.settings {
            if key.starts_with("vcs.") {
                package.metadata.insert(key.clone(), value.clone());
            }
        }
        packages.push(package);
    }
    for dep in &info.deps {
        if dep.path.is_empty() {
            continue;
        }
        let package = match dep.replace.as_deref() {
            // A module replacement (`=> other v1.2.3`) is the code that was compiled in.
            Some(replacement) if !replacement.version.is_empty() => {
                let mut replaced = replacement.clone();
                if replaced.sum.is_empty() {
                    replaced.sum.clone_from(&dep.sum);
                }
                make(
                    &replaced,
                    replacement.version.clone(),
                    &[("replaces", &format!("{}@{}", dep.path, dep.version))],
                )
            }
            // A local directory replacement has no version of its own: keep the required one
            // and say where the code really came from.
            Some(replacement) => make(
                dep,
                dep.version.clone(),
                &[("replacedByPath", &replacement.path)],
            ),
            None => make(dep, dep.version.clone(), &[]),
        };
        packages.push(package);
    }
    if let Some(version) = stdlib_version(go_version) {
        let stdlib = Module {
            path: "stdlib".to_string(),
            ..Module::default()
        };
        packages.push(make(&stdlib, version, &[]));
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODINFO: &str = "path\tgithub.com/acme/shop/cmd/api\n\
mod\tgithub.com/acme/shop\t(devel)\t\n\
dep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n\
dep\tgolang.org/x/net\tv0.20.0\th1:aaa=\n\
=>\tgolang.org/x/net\tv0.23.0\th1:bbb=\n\
dep\texample.com/local\tv0.0.0-00010101000000-000000000000\t\n\
=>\t../local\t\t\n\
build\t-buildmode=exe\n\
build\t-compiler=gc\n\
build\t-ldflags=\"-s -w -X main.version=1.4.2\"\n\
build\tCGO_ENABLED=0\n\
build\tGOARCH=amd64\n\
build\tGOOS=linux\n\
build\tvcs=git\n\
build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n\
build\tvcs.time=2024-05-01T12:34:56Z\n\
build\tvcs.modified=false\n";

    #[test]
    fn modules_and_stdlib() {
        let packages = packages_from_buildinfo("/usr/bin/api", "go1.22.3", MODINFO);
        let got: Vec<(&str, &str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "github.com/acme/shop",
                    "v1.4.2",
                    "pkg:golang/github.com/acme/shop@v1.4.2"
                ),
                (
                    "github.com/google/uuid",
                    "v1.6.0",
                    "pkg:golang/github.com/google/uuid@v1.6.0"
                ),
                (
                    "golang.org/x/net",
                    "v0.23.0",
                    "pkg:golang/golang.org/x/net@v0.23.0"
                ),
                (
                    "example.com/local",
                    "v0.0.0-00010101000000-000000000000",
                    "pkg:golang/example.com/local@v0.0.0-00010101000000-000000000000"
                ),
                ("stdlib", "v1.22.3", "pkg:golang/stdlib@v1.22.3"),
            ]
        );
        assert_eq!(packages[2].metadata["replaces"], "golang.org/x/net@v0.20.0");
        assert_eq!(packages[3].metadata["replacedByPath"], "../local");
        assert_eq!(packages[1].metadata["GOARCH"], "amd64");
        assert_eq!(packages[0].metadata["vcs.revision"].len(), 40);
        assert!(packages.iter().all(|p| p.location == "/usr/bin/api"));
    }

    #[test]
    fn devel_main_module_uses_pseudo_version_without_ldflags() {
        let modinfo = MODINFO.replace("-X main.version=1.4.2", "");
        let packages = packages_from_buildinfo("/app", "go1.21.0", &modinfo);
        assert_eq!(packages[0].version, "v0.0.0-20240501123456-0123456789ab");
        let bare = "path\tx.io/y\nmod\tx.io/y\t(devel)\t\n";
        let packages = packages_from_buildinfo("/app", "go1.21.0 X:boringcrypto", bare);
        assert_eq!(packages[0].version, "(devel)");
        assert_eq!(packages[1].purl, "pkg:golang/stdlib@v1.21.0");
    }

    #[test]
    fn gopath_builds_report_their_main_package() {
        // As in Debian's docker-registry 2.8.2+ds1 (go1.19.8, GOPATH mode): no `mod` line.
        let gopath = "path\tgithub.com/docker/distribution/cmd/registry\nbuild\t-compiler=gc\nbuild\tCGO_ENABLED=1\n";
        let packages = packages_from_buildinfo("/usr/bin/docker-registry", "go1.19.8", gopath);
        assert_eq!(packages.len(), 2);
        assert_eq!(
            packages[0].name,
            "github.com/docker/distribution/cmd/registry"
        );
        assert_eq!(packages[0].version, "(devel)");
        assert_eq!(packages[1].name, "stdlib");
        // `go build main.go`: the single (devel) dependency is the module being built.
        let files = "path\tcommand-line-arguments\nmod\tcommand-line-arguments\t\t\ndep\tx.io/app\t(devel)\t\ndep\tx.io/lib\tv1.2.0\th1:a=\n";
        let packages = packages_from_buildinfo("/app", "go1.22.0", files);
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["x.io/app", "x.io/lib", "stdlib"]);
    }

    #[test]
    fn stdlib_versions() {
        assert_eq!(stdlib_version("go1.22.3").as_deref(), Some("v1.22.3"));
        assert_eq!(stdlib_version("go1.23rc1").as_deref(), Some("v1.23rc1"));
        assert_eq!(stdlib_version("devel go1.23-abc"), None);
        assert_eq!(stdlib_version(""), None);
    }
}
