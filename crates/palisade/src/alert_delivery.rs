//! What `audit serve` and `sensor run` share to deliver run-time alerts: the state directory, the
//! sinks of palisade.yaml, the dispatcher over them, the `--output` JSON-lines writer, and the
//! `--rules` files.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use palisade_alerts::{DispatchOptions, Dispatcher, SinkConfig};

/// `given`, else `$PALISADE_HOME/<component>`.
pub fn state_dir(given: Option<&Path>, component: &str) -> Result<PathBuf> {
    match given {
        Some(dir) => Ok(dir.to_path_buf()),
        None => palisade_image::cache::palisade_home()
            .map(|home| home.join(component))
            .ok_or_else(|| anyhow!("no PALISADE_HOME, XDG_DATA_HOME or HOME: give --state-dir")),
    }
}

/// The `alerts.sinks` of a configuration read from `path` (none when the section is absent).
pub fn sinks(config: &palisade_posture::Config, path: &Path) -> Result<Vec<SinkConfig>> {
    match config
        .alerts
        .as_ref()
        .and_then(|alerts| alerts.get("sinks"))
    {
        Some(node) => palisade_alerts::parse(node)
            .map_err(|e| anyhow!("{}: alerts.sinks: {e}", path.display())),
        None => Ok(Vec::new()),
    }
}

/// The dispatcher over `sinks`, spooling under `state/spool`; `hostname` names the source.
pub fn dispatcher(sinks: &[SinkConfig], state: &Path, hostname: String) -> Result<Dispatcher> {
    Dispatcher::with_options(
        sinks,
        &state.join("spool"),
        DispatchOptions {
            hostname,
            ..DispatchOptions::default()
        },
    )
    .map_err(|e| anyhow!("cannot open the alert sinks: {e}"))
}

/// The `--output` writer for alerts as JSON lines: standard output for `-`, else `path` opened
/// for appending.
pub fn alert_lines(path: &Path) -> Result<Box<dyn Write + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdout()));
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(file))
}

/// The texts of `--rules` files, named by their paths, in order.
pub fn read_rule_files<'a>(
    paths: impl IntoIterator<Item = &'a PathBuf>,
) -> Result<Vec<(String, String)>> {
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the rule file {}", path.display()))?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}
