//! `palisade sbom REF`, `palisade registry list` and `palisade store`: open the image (registry, OCI
//! layout, docker archive, directory, SBOM file, the store), catalog it through the layer cache,
//! keep the inventory in the store for rescans, and write it; or do that for a whole registry.

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, Result, anyhow};
use palisade_core::Sbom;
use palisade_core::time::{Precision, Timestamp, format_rfc3339};
use palisade_image::cache::LayerCache;
use palisade_image::registry::{self, RegistryOptions};
use palisade_image::sbom::{self, SbomFormat, WriteOptions};
use palisade_image::source::{self, SourceOptions};
use palisade_image::{ImageSource, catalog, scan};
use palisade_store::Store;

use crate::output;

/// How to reach images; shared by `sbom` and `registry list`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ImageAccessArgs {
    /// Platform to pick from a multi-platform image: `os/arch[/variant]` (default: linux and
    /// this machine's architecture).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Registry user name (the password is read from standard input with --password-stdin);
    /// default: credentials from ~/.docker/config.json, else anonymous.
    #[arg(long, value_name = "NAME", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password or token from standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Registry host (`host[:port]`) that may be reached over plain HTTP (loopback always may).
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Extra CA certificates (PEM) to trust for registries.
    #[arg(long, value_name = "FILE")]
    pub registry_ca: Option<PathBuf>,
}

impl ImageAccessArgs {
    fn registry_options(&self) -> Result<RegistryOptions> {
        let password = if self.password_stdin {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the password from standard input")?;
            Some(text.trim_end_matches(['\r', '\n']).to_string())
        } else {
            None
        };
        Ok(RegistryOptions {
            username: self.username.clone(),
            password,
            insecure: self.insecure_registry.clone(),
            ca_file: self.registry_ca.clone(),
            platform: self.platform.clone(),
            ..RegistryOptions::default()
        })
    }
}

#[derive(clap::Args, Debug)]
pub struct SbomArgs {
    /// The image: `registry/repo:tag`, `…@sha256:…`, `oci:DIR[:TAG]`, `docker-archive:FILE`,
    /// `dir:PATH` (an unpacked root file system), `sbom:FILE` (an SBOM file, converted),
    /// `stored:NAME` (an inventory kept in the store, by reference or digest), or
    /// `registry:HOST[:PORT][/PREFIX]` (every tag of every repository under PREFIX).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Output format: table (a package list for people), cyclonedx (CycloneDX 1.6 JSON),
    /// spdx (SPDX 2.3 JSON) or json (Palisade's own, docs/sbom.md).
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "cyclonedx", "spdx", "json"])]
    pub format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With `registry:`, write one SBOM file per image into DIR (named after repository and tag).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Do not read or fill the layer cache ($PALISADE_HOME/layers).
    #[arg(long)]
    pub no_cache: bool,
    /// Do not keep the inventory in the store ($PALISADE_HOME/palisade.db), which `palisade
    /// rescan` re-matches without pulling the image again.
    #[arg(long)]
    pub no_store: bool,
    #[command(flatten)]
    pub access: ImageAccessArgs,
}

pub fn sbom(args: SbomArgs) -> Result<ExitCode> {
    if let Some(registry) = args.reference.strip_prefix("registry:") {
        return sbom_registry(registry, &args);
    }
    if args.output_dir.is_some() {
        return Err(anyhow!(
            "--output-dir is for `registry:` references (one SBOM per image); use --output FILE"
        ));
    }
    let inventory = Reader::new(&args)?.inventory(&args.reference)?;
    let timestamp = creation_time();
    output::write_output(args.output.as_deref(), "SBOM", |out, terminal| {
        write_sbom(&inventory, &args.format, &timestamp, out, terminal)
    })?;
    Ok(ExitCode::SUCCESS)
}

fn write_sbom(
    inventory: &Sbom,
    format: &str,
    timestamp: &str,
    out: &mut dyn Write,
    terminal: bool,
) -> io::Result<()> {
    if format == "table" {
        return write_table(inventory, out, terminal);
    }
    let format = SbomFormat::from_name(format)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unknown format"))?;
    let options = WriteOptions {
        // CycloneDX stays byte-stable without one; SPDX requires a creation time.
        timestamp: (format == SbomFormat::Spdx).then(|| timestamp.to_string()),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    sbom::write(inventory, format, &options, out)
}

/// The store in Palisade's data directory, unless `--no-store`. A store that cannot be opened
/// (read-only home, a newer schema) does not stop an inventory: it is reported and skipped.
fn open_store() -> Option<Store> {
    match store_path().and_then(|path| Store::open(&path).map_err(anyhow::Error::from)) {
        Ok(store) => Some(store),
        Err(error) => {
            tracing::warn!("inventories are not being stored: {error:#}");
            None
        }
    }
}

/// `$PALISADE_HOME/palisade.db`.
pub(crate) fn store_path() -> Result<PathBuf> {
    palisade_image::cache::palisade_home()
        .map(|home| home.join("palisade.db"))
        .ok_or_else(|| anyhow!("no PALISADE_HOME, XDG_DATA_HOME or HOME to keep the store in"))
}

/// What reading images needs, prepared once per command (the password is read from standard
/// input only once, however many images a registry holds).
pub(crate) struct Reader {
    registry: RegistryOptions,
    source: SourceOptions,
    cache: Option<LayerCache>,
    store: Option<Store>,
}

impl Reader {
    fn new(args: &SbomArgs) -> Result<Reader> {
        Reader::with(&args.access, args.no_cache, args.no_store)
    }

    pub(crate) fn with(access: &ImageAccessArgs, no_cache: bool, no_store: bool) -> Result<Reader> {
        let cache = if no_cache {
            None
        } else {
            match LayerCache::open_default() {
                Ok(cache) => Some(cache),
                Err(error) => {
                    // A read-only home must not stop an inventory; it only makes it slower.
                    tracing::warn!("layer cache disabled: {error}");
                    None
                }
            }
        };
        Ok(Reader {
            registry: access.registry_options()?,
            source: SourceOptions {
                platform: access.platform.clone(),
            },
            cache,
            store: if no_store { None } else { open_store() },
        })
    }

    /// The store, when inventories are being kept.
    pub(crate) fn store_mut(&mut self) -> Option<&mut Store> {
        self.store.as_mut()
    }

    /// The image's inventory, from whatever `reference` names; everything read (images and SBOM
    /// files, not the store itself) is kept in the store.
    pub(crate) fn inventory(&mut self, reference: &str) -> Result<Sbom> {
        if let Some(path) = reference.strip_prefix("sbom:") {
            let bytes = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
            let inventory = sbom::read(path, &bytes)?;
            // An SBOM made elsewhere (a build pipeline's syft run) deserves rescans too.
            self.keep(&inventory, reference);
            return Ok(inventory);
        }
        if let Some(name) = reference.strip_prefix("stored:") {
            let store = Store::open(&store_path()?)?;
            return store.sbom(name)?.ok_or_else(|| {
                anyhow!(
                    "{name} is not in the store {} (`palisade store list` shows what is)",
                    store.path().display()
                )
            });
        }
        let source: Box<dyn ImageSource> = if ["oci:", "docker-archive:", "dir:"]
            .iter()
            .any(|prefix| reference.starts_with(prefix))
        {
            source::open(reference, &self.source)?
        } else {
            let reference = reference.strip_prefix("docker://").unwrap_or(reference);
            Box::new(registry::open(reference, &self.registry)?)
        };
        let catalogers = catalog::all();
        let inventory = scan::scan(source.as_ref(), &catalogers, self.cache.as_ref())?;
        self.keep(&inventory, reference);
        Ok(inventory)
    }

    fn keep(&mut self, inventory: &Sbom, reference: &str) {
        if let Some(store) = &mut self.store
            && let Err(error) = store.put_sbom(inventory, unix_now())
        {
            tracing::warn!("the inventory of {reference} was not stored: {error}");
        }
    }
}

/// `palisade sbom registry:HOST[/PREFIX]`: every tag of every repository, one image at a time
/// (each image's layers are already read in parallel), going on past images that fail.
fn sbom_registry(registry: &str, args: &SbomArgs) -> Result<ExitCode> {
    if args.format != "table" && args.output_dir.is_none() {
        return Err(anyhow!(
            "`registry:` writes one SBOM per image: give --output-dir DIR for --format {}",
            args.format
        ));
    }
    let mut reader = Reader::new(args)?;
    let host = registry.split_once('/').map_or(registry, |(host, _)| host);
    let mut images = Vec::new();
    for repository in registry::list_repositories(registry, &reader.registry)? {
        let tags = registry::list_tags(host, &repository, &reader.registry)
            .map_err(|e| anyhow!(e).context(format!("cannot list the tags of {repository}")))?;
        images.extend(
            tags.into_iter()
                .map(|tag| format!("{host}/{repository}:{tag}")),
        );
    }
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let progress = io::stderr().is_terminal();
    let timestamp = creation_time();
    let mut rows: Vec<[String; 4]> = Vec::with_capacity(images.len());
    let mut failed = 0;
    for (done, reference) in images.iter().enumerate() {
        if progress {
            // Clear to the end of the line: references differ in length.
            eprint!(
                "\r\x1b[K[{}/{}] {}",
                done + 1,
                images.len(),
                clean(reference)
            );
        }
        let result = reader.inventory(reference).and_then(|inventory| {
            if let Some(dir) = &args.output_dir {
                let path = dir.join(sbom_file_name(reference, &args.format));
                let mut file = std::fs::File::create(&path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                write_sbom(&inventory, &args.format, &timestamp, &mut file, false)
                    .and_then(|()| file.flush())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(inventory)
        });
        rows.push(match result {
            Ok(inventory) => [
                reference.clone(),
                inventory.image.manifest_digest.clone().unwrap_or_default(),
                inventory
                    .distro
                    .as_ref()
                    .map(|d| format!("{} {}", d.id, d.version_id))
                    .unwrap_or_else(|| "-".to_string()),
                inventory.packages.len().to_string(),
            ],
            Err(error) => {
                failed += 1;
                [
                    reference.clone(),
                    format!("error: {error:#}"),
                    String::new(),
                    String::new(),
                ]
            }
        });
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    output::write_output(args.output.as_deref(), "summary", |out, _| {
        writeln!(out, "IMAGE\tDIGEST\tOS\tPACKAGES")?;
        for row in &rows {
            let cells: Vec<String> = row.iter().map(|cell| clean(cell)).collect();
            writeln!(out, "{}", cells.join("\t").trim_end())?;
        }
        writeln!(
            out,
            "{} images, {} inventoried, {failed} failed",
            rows.len(),
            rows.len() - failed
        )
    })?;
    // Exit 2 as for any error, but only after every other image was inventoried and stored.
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `host:5000/team/app:1.0` → `host_5000_team_app_1.0.cdx.json`: one flat, portable file name per
/// image that cannot leave the output directory.
fn sbom_file_name(reference: &str, format: &str) -> String {
    let stem: String = reference
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    let extension = match format {
        "cyclonedx" => "cdx.json",
        "spdx" => "spdx.json",
        "json" => "json",
        _ => "txt",
    };
    format!("{stem}.{extension}")
}

/// Now in whole seconds since the epoch, the unit the store records scan times in.
pub(crate) fn unix_now() -> i64 {
    Timestamp::from(SystemTime::now()).seconds()
}

/// A package list for a terminal: one line per package, OS packages first.
fn write_table(inventory: &Sbom, out: &mut dyn Write, terminal: bool) -> io::Result<()> {
    let image = &inventory.image;
    writeln!(out, "{}", image.reference)?;
    if let Some(digest) = &image.manifest_digest {
        writeln!(out, "  manifest {digest}")?;
    }
    if let Some(distro) = &inventory.distro {
        let name = distro
            .pretty_name
            .clone()
            .unwrap_or_else(|| format!("{} {}", distro.id, distro.version_id));
        match &distro.end_of_life {
            Some(eol) => writeln!(out, "  os {name} (end of life {eol})")?,
            None => writeln!(out, "  os {name}")?,
        }
    }
    writeln!(out)?;
    let rows: Vec<[String; 4]> = inventory
        .packages
        .iter()
        .map(|p| {
            [
                clean(&p.name),
                clean(&p.version),
                if p.os_owned {
                    format!("{} (os)", p.kind.as_str())
                } else {
                    p.kind.as_str().to_string()
                },
                clean(&p.location),
            ]
        })
        .collect();
    let headers = ["NAME", "VERSION", "TYPE", "LOCATION"];
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count()).min(60);
        }
    }
    let line = |cells: [&str; 4]| -> String {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 3 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        text.trim_end().to_string()
    };
    if terminal && std::env::var_os("NO_COLOR").is_none() {
        writeln!(out, "\x1b[1m{}\x1b[0m", line(headers))?;
    } else {
        writeln!(out, "{}", line(headers))?;
    }
    for row in &rows {
        writeln!(out, "{}", line([&row[0], &row[1], &row[2], &row[3]]))?;
    }
    writeln!(out)?;
    let os = inventory.packages.iter().filter(|p| p.kind.is_os()).count();
    writeln!(
        out,
        "{} packages ({} OS, {} language, {} of them installed by the OS package manager)",
        inventory.packages.len(),
        os,
        inventory.packages.len() - os,
        inventory.packages.iter().filter(|p| p.os_owned).count()
    )?;
    for note in &inventory.notes {
        writeln!(
            out,
            "note: {}: {}: {}",
            note.cataloger,
            clean(&note.path),
            clean(&note.message)
        )?;
    }
    Ok(())
}

/// Image contents are untrusted: control characters never reach the terminal.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Now as RFC 3339 UTC, or `SOURCE_DATE_EPOCH` when set (reproducible builds' convention).
fn creation_time() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(unix_now);
    rfc3339(seconds)
}

/// Seconds since the epoch (as the store keeps them) as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(seconds: i64) -> String {
    format_rfc3339(Timestamp::new(seconds, 0), Precision::Seconds)
}

#[derive(clap::Args, Debug)]
pub struct RegistryListArgs {
    /// `host[:port][/PREFIX]`: every repository (under PREFIX) with its tags.
    #[arg(value_name = "REGISTRY")]
    pub registry: String,
    /// Output format: table (repository and tags per line) or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub access: ImageAccessArgs,
}

/// `palisade registry list`: repositories and their tags, so a registry can be inventoried
/// (`palisade sbom` over each `repo:tag`).
pub fn registry_list(args: RegistryListArgs) -> Result<ExitCode> {
    let options = args.access.registry_options()?;
    let repositories = registry::list_repositories(&args.registry, &options)?;
    let host = args
        .registry
        .split_once('/')
        .map_or(args.registry.as_str(), |(host, _)| host);
    let progress = io::stderr().is_terminal() && repositories.len() > 1;
    let mut listed: Vec<(String, Vec<String>)> = Vec::with_capacity(repositories.len());
    for (done, repository) in repositories.iter().enumerate() {
        if progress {
            eprint!("\r{}/{} repositories", done + 1, repositories.len());
        }
        let tags = registry::list_tags(host, repository, &options)
            .map_err(|e| anyhow!(e).context(format!("cannot list the tags of {repository}")))?;
        listed.push((repository.clone(), tags));
    }
    if progress {
        eprintln!();
    }
    output::write_output(args.output.as_deref(), "listing", |out, _| {
        if args.format == "json" {
            let value: Vec<serde_json::Value> = listed
                .iter()
                .map(|(repository, tags)| {
                    serde_json::json!({"repository": format!("{host}/{repository}"), "tags": tags})
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        } else {
            for (repository, tags) in &listed {
                writeln!(
                    out,
                    "{host}/{}  {}",
                    clean(repository),
                    clean(&tags.join(" "))
                )?;
            }
            Ok(())
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `palisade store list`.
pub fn store_list(format: &str, output: Option<&std::path::Path>) -> Result<ExitCode> {
    let store = Store::open(&store_path()?)?;
    let images = store.images()?;
    output::write_output(output, "listing", |out, _| {
        if format == "json" {
            let value: Vec<serde_json::Value> = images
                .iter()
                .map(|image| {
                    serde_json::json!({
                        "key": image.key,
                        "references": image.references,
                        "manifest_digest": image.manifest_digest,
                        "config_digest": image.config_digest,
                        "platform": image.platform,
                        "os": image.distro,
                        "packages": image.package_count,
                        "first_seen": rfc3339(image.first_seen),
                        "last_scanned": rfc3339(image.last_scanned),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &value)?;
            return writeln!(out);
        }
        writeln!(out, "IMAGE\tREFERENCES\tOS\tPACKAGES\tLAST SCANNED")?;
        for image in &images {
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}",
                clean(&image.key),
                clean(&image.references.join(" ")),
                image.distro.as_deref().map_or("-".to_string(), clean),
                image.package_count,
                rfc3339(image.last_scanned)
            )?;
        }
        writeln!(out, "{} images in {}", images.len(), store.path().display())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `palisade store remove NAME...`: every name must designate a stored image, so a typo is an
/// error rather than a silent no-op.
pub fn store_remove(names: &[String]) -> Result<ExitCode> {
    let mut store = Store::open(&store_path()?)?;
    for name in names {
        if !store.remove(name)? {
            return Err(anyhow!(
                "{name} is not in the store {} (`palisade store list` shows what is)",
                store.path().display()
            ));
        }
        println!("removed {name}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{rfc3339, sbom_file_name};

    #[test]
    fn registry_sbom_file_names_stay_in_their_directory() {
        assert_eq!(
            sbom_file_name("127.0.0.1:5000/team/app:1.0", "cyclonedx"),
            "127.0.0.1_5000_team_app_1.0.cdx.json"
        );
        assert_eq!(sbom_file_name("../x/..:y", "spdx"), "_x_.._y.spdx.json");
        assert_eq!(sbom_file_name("h/r:t", "table"), "h_r_t.txt");
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
