//! `palisade scan k8s` and `palisade scan cluster`: read an inventory, assess it, report.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use palisade_core::{Node, NotAssessed, Resource, SourceError};
use palisade_kube::manifests::{self, Input, ResourceSink};
use palisade_kube::snapshot::{self, ClusterInfo, SnapshotFile};
use palisade_posture::{Assessment, Catalogue, Config, CustomPolicies, Session};
use palisade_report::Report;
use rayon::prelude::*;

use crate::output;
use crate::{ScanClusterArgs, ScanK8sArgs};

/// What reading manifests produced on one thread.
struct Collector<'a> {
    session: Session<'a>,
    /// Every object, kept only when custom policies need the whole inventory.
    kept: Option<Vec<Resource>>,
    errors: Vec<SourceError>,
    not_assessed: Vec<NotAssessed>,
    clusters: Vec<String>,
}

impl<'a> Collector<'a> {
    fn new(catalogue: &'a Catalogue, config: &'a Config, keep: bool) -> Collector<'a> {
        Collector {
            session: Session::new(catalogue, config),
            kept: keep.then(Vec::new),
            errors: Vec::new(),
            not_assessed: Vec::new(),
            clusters: Vec::new(),
        }
    }

    fn merge(mut self, other: Collector<'a>) -> Collector<'a> {
        self.session.merge(other.session);
        if let (Some(kept), Some(other)) = (&mut self.kept, other.kept) {
            kept.extend(other);
        }
        self.errors.extend(other.errors);
        self.not_assessed.extend(other.not_assessed);
        self.clusters.extend(other.clusters);
        self
    }
}

impl ResourceSink for Collector<'_> {
    fn resource(&mut self, resource: Resource) {
        self.session.assess(&resource);
        if let Some(kept) = &mut self.kept {
            kept.push(resource);
        }
    }

    fn error(&mut self, error: SourceError) {
        self.errors.push(error);
    }

    fn skipped(&mut self, file: &str, document: u32, why: &str) {
        tracing::info!("{file}: document {document} skipped: {why}");
    }

    fn snapshot(&mut self, _file: &str, header: Node) {
        if let Some(name) = header.get("cluster").and_then(|c| c.str_at("name")) {
            self.clusters.push(name.to_string());
        }
        self.not_assessed.extend(snapshot::not_assessed_of(&header));
    }
}

pub fn manifests(args: ScanK8sArgs) -> Result<ExitCode> {
    let policies = load_policies(&args.common.policies)?;
    let catalogue = catalogue_with(policies.as_ref());
    let config = output::load_config(args.common.config.as_deref(), &catalogue)?;
    let keep = policies.is_some();
    let (inputs, expand_errors) = manifests::expand(&args.paths);
    if inputs.is_empty() && expand_errors.is_empty() {
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "no Kubernetes manifests (.yaml, .yml, .json) found in {}",
            paths.join(", ")
        );
    }
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        bail!("`-` (standard input) can be given only once");
    }

    // Files are read and assessed in parallel, each thread with its own session; sessions merge
    // at the end, so the result does not depend on which thread read what.
    let collected = inputs
        .par_iter()
        .fold(
            || Collector::new(&catalogue, &config, keep),
            |mut collector, input| {
                manifests::read(input, &mut collector);
                collector
            },
        )
        .reduce(
            || Collector::new(&catalogue, &config, keep),
            Collector::merge,
        );

    let mut errors = expand_errors;
    errors.extend(collected.errors);
    let mut policy_findings = Vec::new();
    if let (Some(policies), Some(mut kept)) = (&policies, collected.kept) {
        // Files were read in parallel: put objects in a stable order so referential policies and
        // the report do not depend on thread timing.
        kept.sort_by(|a, b| {
            (&a.source.file, a.source.document, &a.reference).cmp(&(
                &b.source.file,
                b.source.document,
                &b.reference,
            ))
        });
        let context = palisade_posture::Context::new(&catalogue, &config);
        policies.assess(&kept, context, &mut policy_findings, &mut errors);
    }
    errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    let mut not_assessed = collected.not_assessed;
    not_assessed.sort_by(|a, b| (&a.kind, &a.namespace).cmp(&(&b.kind, &b.namespace)));
    not_assessed.dedup();
    let mut assessment = collected.session.finish();
    add_findings(&mut assessment, policy_findings);

    let mut clusters = collected.clusters;
    clusters.sort();
    clusters.dedup();
    let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
    let target = match clusters.as_slice() {
        [] => format!("manifests in {}", paths.join(", ")),
        names => format!(
            "snapshot of cluster {} ({})",
            names.join(", "),
            paths.join(", ")
        ),
    };
    let code = report(
        &catalogue,
        &config,
        &target,
        &assessment,
        &not_assessed,
        &errors,
        &args.common,
    )?;
    if !errors.is_empty() {
        let what = if errors.len() == 1 { "input" } else { "inputs" };
        if args.skip_invalid {
            eprintln!(
                "warning: {} {what} could not be read and were skipped (--skip-invalid)",
                errors.len()
            );
        } else {
            eprintln!(
                "error: {} {what} could not be read or assessed (listed in the report); use --skip-invalid to exit as if they were not there",
                errors.len()
            );
            return Ok(ExitCode::from(2));
        }
    }
    Ok(code)
}

pub fn cluster(args: ScanClusterArgs) -> Result<ExitCode> {
    use palisade_kube::cluster::{self, ClusterOptions};

    let policies = load_policies(&args.common.policies)?;
    let catalogue = catalogue_with(policies.as_ref());
    let config = output::load_config(args.common.config.as_deref(), &catalogue)?;
    let mut kept: Vec<Resource> = Vec::new();
    let options = ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        page_size: args.page_size.max(1),
    };
    let mut snapshot = match &args.save_snapshot {
        Some(path) => Some(
            SnapshotFile::create(path)
                .with_context(|| format!("cannot create the snapshot file {}", path.display()))?,
        ),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let mut session = Session::new(&catalogue, &config);
    let mut snapshot_error: Option<std::io::Error> = None;
    let mut progress = Progress::new();
    let scan = runtime.block_on(cluster::scan(&options, &mut |resource: Resource| {
        progress.tick();
        if let Some(file) = &mut snapshot
            && let Err(e) = file.add(&resource)
        {
            snapshot_error.get_or_insert(e);
        }
        session.assess(&resource);
        if policies.is_some() {
            kept.push(resource);
        }
    }));
    progress.clear();
    // One line naming the cluster and the cause: the error type already says it all.
    let scan = scan.map_err(|e| anyhow::anyhow!("{e}"))?;

    if let (Some(file), Some(path)) = (snapshot, &args.save_snapshot) {
        if let Some(e) = snapshot_error {
            return Err(e).with_context(|| format!("cannot write the snapshot {}", path.display()));
        }
        let identity = &scan.identity;
        let info = ClusterInfo {
            name: identity.name.clone(),
            server: identity.server.clone(),
            context: identity.context.clone(),
            version: identity.version.clone(),
        };
        let objects = file
            .finish(&info, &scan.not_assessed)
            .with_context(|| format!("cannot write the snapshot {}", path.display()))?;
        eprintln!(
            "snapshot of {objects} objects written to {}",
            path.display()
        );
    }

    let mut assessment = session.finish();
    let mut errors = Vec::new();
    if let Some(policies) = &policies {
        kept.sort_by(|a, b| a.reference.cmp(&b.reference));
        let context = palisade_posture::Context::new(&catalogue, &config);
        let mut found = Vec::new();
        policies.assess(&kept, context, &mut found, &mut errors);
        add_findings(&mut assessment, found);
    }
    let target = format!("cluster {} ({})", scan.identity.name, scan.identity.server);
    let code = report(
        &catalogue,
        &config,
        &target,
        &assessment,
        &scan.not_assessed,
        &errors,
        &args.common,
    )?;
    if !errors.is_empty() {
        eprintln!(
            "error: {} policy evaluations failed (listed in the report)",
            errors.len()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(code)
}

fn report(
    catalogue: &Catalogue,
    config: &Config,
    target: &str,
    assessment: &Assessment,
    not_assessed: &[NotAssessed],
    errors: &[SourceError],
    options: &crate::ScanOptions,
) -> Result<ExitCode> {
    let checks: Vec<&palisade_core::Check> = catalogue
        .iter()
        .filter(|c| !config.is_disabled(&c.id))
        .map(|c| c.as_ref())
        .collect();
    let assessed: BTreeMap<String, usize> = assessment.assessed_by_kind.clone();
    let report = Report {
        tool_version: env!("CARGO_PKG_VERSION"),
        target,
        findings: &assessment.findings,
        not_assessed,
        errors,
        assessed_by_kind: &assessed,
        checks: &checks,
    };
    output::write_report(&report, options)?;
    output::fail_on_code(&assessment.findings, options.fail_on.as_deref())
}

/// A one-line object counter on stderr while a cluster is listed, only when stderr is a terminal
/// (never in logs or CI output).
struct Progress {
    enabled: bool,
    objects: usize,
    last: std::time::Instant,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        Progress {
            enabled: std::io::stderr().is_terminal(),
            objects: 0,
            last: std::time::Instant::now(),
        }
    }

    fn tick(&mut self) {
        self.objects += 1;
        if self.enabled && self.last.elapsed() >= std::time::Duration::from_millis(100) {
            self.last = std::time::Instant::now();
            eprint!("\r\x1b[2Klisting the cluster: {} objects", self.objects);
        }
    }

    fn clear(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Loads the Gatekeeper policies of `--policies` (files and directories); `None` when none given.
fn load_policies(paths: &[std::path::PathBuf]) -> Result<Option<CustomPolicies>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let (inputs, errors) = manifests::expand(paths);
    if let Some(error) = errors.first() {
        bail!("cannot read the policies: {error}");
    }
    let mut sources = Vec::new();
    for input in &inputs {
        let Input::File(path) = input else {
            bail!("--policies cannot read standard input");
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the policy file {}", path.display()))?;
        sources.push((path.display().to_string(), text));
    }
    let policies = CustomPolicies::load(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())))
        .map_err(|errors| anyhow::anyhow!("invalid policies:\n{errors}"))?;
    if policies.is_empty() {
        let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        bail!("no Gatekeeper constraints found in {}", paths.join(", "));
    }
    Ok(Some(policies))
}

/// The built-in catalogue plus one entry per custom policy.
fn catalogue_with(policies: Option<&CustomPolicies>) -> Catalogue {
    match policies {
        None => Catalogue::builtin(),
        Some(policies) => {
            let mut checks: Vec<palisade_core::Check> = Catalogue::builtin()
                .iter()
                .map(|c| c.as_ref().clone())
                .collect();
            checks.extend(policies.checks().iter().cloned());
            Catalogue::from_checks(checks)
        }
    }
}

fn add_findings(assessment: &mut Assessment, findings: Vec<palisade_core::Finding>) {
    if findings.is_empty() {
        return;
    }
    assessment.findings.extend(findings);
    assessment
        .findings
        .sort_by(palisade_core::Finding::report_order);
}
