//! `palisade`: the one binary. It parses arguments and wires the crates together; the work lives in
//! the crates (see ARCHITECTURE.md). Exit codes: 0 success, 1 findings at or above `--fail-on`,
//! 2 errors (unreadable input, unreachable cluster, bad arguments).

// glibc's allocator returns freed pages to the kernel and takes them back under load; on the
// admission path (thousands of short-lived request trees a second across threads) that cost more
// CPU than the policies (munmap, TLB shootdowns, arena locks). mimalloc keeps per-thread pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admission_cmd;
mod alert_delivery;
mod audit_cmd;
mod audit_serve;
mod checks_cmd;
mod db_cmd;
mod image_gates;
mod output;
mod policy_cmd;
mod sbom_cmd;
mod scan;
mod sensor_cmd;
mod vuln_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "palisade",
    version,
    about = "Open-source Kubernetes security: posture, vulnerabilities, runtime threats",
    propagate_version = true
)]
struct Cli {
    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Assess Kubernetes manifests or a live cluster.
    #[command(subcommand)]
    Scan(ScanCommand),
    /// The built-in check catalogue.
    #[command(subcommand)]
    Checks(ChecksCommand),
    /// Custom policies (Gatekeeper ConstraintTemplates and constraints).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The validating admission webhook.
    #[command(subcommand)]
    Admission(AdmissionCommand),
    /// Inventory every package in a container image (SBOM): CycloneDX, SPDX, Palisade JSON.
    Sbom(sbom_cmd::SbomArgs),
    /// Container registries.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Control-plane threat detection from Kubernetes audit logs.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run-time threat detection on this node: eBPF programs watch processes, files and
    /// connections, attributed to containers and pods.
    #[command(subcommand)]
    Sensor(SensorCommand),
    /// The advisory database (OSV, CISA KEV, FIRST EPSS) in $PALISADE_HOME/advisories.db.
    #[command(subcommand)]
    Db(DbCommand),
    /// Re-match every stored image inventory against the current advisory database, without
    /// pulling images; reports what is new and what is resolved per image.
    Rescan(vuln_cmd::RescanArgs),
    /// Image inventories kept for rescans ($PALISADE_HOME/palisade.db).
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Run the detections over audit log files (JSON lines, as the log backend writes them).
    Analyze(audit_cmd::AuditAnalyzeArgs),
    /// Serve kube-apiserver's audit webhook backend over HTTPS (`EventList` batches), raising
    /// alerts to the sinks of palisade.yaml.
    Serve(audit_serve::AuditServeArgs),
}

#[derive(Subcommand)]
enum SensorCommand {
    /// Load the eBPF programs and raise alerts until stopped (root, or CAP_BPF + CAP_PERFMON +
    /// CAP_SYS_RESOURCE).
    Run(sensor_cmd::SensorRunArgs),
    /// What this kernel supports (BTF, tracepoints, ring buffer) and which detections would be
    /// degraded; exit 1 when the sensor cannot run.
    Check(sensor_cmd::SensorCheckArgs),
}

#[derive(Subcommand)]
enum DbCommand {
    /// Import OSV dumps or records, the KEV catalog, EPSS scores (one transaction).
    Import(db_cmd::DbImportArgs),
    /// Download OSV, KEV and EPSS (conditional requests) and swap the database atomically.
    Update(db_cmd::DbUpdateArgs),
    /// What the database holds and how old it is.
    Status(db_cmd::DbStatusArgs),
}

#[derive(Subcommand)]
enum StoreCommand {
    /// The stored images: digest, references, OS, package count, when last scanned.
    List {
        #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// Write to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Forget stored images (by reference or digest) with every reference to them.
    Remove {
        #[arg(value_name = "NAME", required = true)]
        names: Vec<String>,
    },
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// List the repositories of a registry and their tags (catalog API, every page).
    List(sbom_cmd::RegistryListArgs),
}

#[derive(Subcommand)]
enum AdmissionCommand {
    /// Serve `AdmissionReview`s over HTTPS on `POST /validate`, enforcing the built-in checks named
    /// in the configuration's `admission.rules`, Gatekeeper constraints and ValidatingAdmissionPolicies.
    Serve(AdmissionServeArgs),
    /// Print the manifests that install the webhook: ServiceAccount, Deployment (2 replicas),
    /// Service, PodDisruptionBudget and ValidatingWebhookConfiguration.
    Manifests(AdmissionManifestsArgs),
}

#[derive(Args)]
struct AdmissionManifestsArgs {
    /// Namespace to install into (exempt from the webhook).
    #[arg(long, default_value = "palisade", value_name = "NAME")]
    namespace: String,
    /// Container image of Palisade.
    #[arg(
        long,
        default_value = "ghcr.io/palisade-dev/palisade:0.1.0",
        value_name = "IMAGE"
    )]
    image: String,
    /// PEM file of the CA that signed the webhook's serving certificate (becomes `caBundle`).
    #[arg(long, value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
    /// What the API server does when the webhook cannot answer.
    #[arg(long, default_value = "Ignore", value_parser = ["Ignore", "Fail"])]
    failure_policy: String,
    /// How long the API server waits for an answer (1-30).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=30))]
    timeout_seconds: u8,
    /// More namespaces the webhook never sees (kube-system and the install namespace always).
    #[arg(long, value_name = "NAME")]
    exempt_namespace: Vec<String>,
}

#[derive(Args)]
struct AdmissionServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443", value_name = "ADDR")]
    listen: std::net::SocketAddr,
    /// Serving certificate (PEM); reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    tls_cert: PathBuf,
    /// Private key of the serving certificate (PEM).
    #[arg(long, value_name = "FILE")]
    tls_key: PathBuf,
    /// Configuration file (`admission.rules`, exemptions); reloaded when it changes.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Gatekeeper templates/constraints and ValidatingAdmissionPolicies/bindings (files or
    /// directories); reloaded when they change.
    #[arg(long, value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// The namespace the webhook runs in (exempt, with kube-system).
    #[arg(
        long,
        env = "POD_NAMESPACE",
        default_value = "palisade",
        value_name = "NAME"
    )]
    namespace: String,
    /// More namespaces never evaluated.
    #[arg(long, value_name = "NAME")]
    exempt_namespace: Vec<String>,
    /// What to answer when policies cannot be evaluated in time or at all.
    #[arg(long, default_value = "open", value_parser = ["open", "closed"])]
    failure_mode: String,
    /// Per-request evaluation budget in milliseconds.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    budget_ms: u64,
    /// Threads that evaluate policies (default: 4 per CPU). Requests beyond them wait, within the
    /// budget; an evaluation that overran its budget keeps its thread until it ends.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    eval_threads: Option<u16>,
    /// Write a JSON line for every deny, warn and audit decision to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Seconds between checks of the policy and configuration files for changes.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    reload_interval: u64,
    /// Every SECONDS, list the live cluster, re-evaluate every policy over the existing objects and
    /// report their violations as JSON lines on standard output (like Gatekeeper's audit); the
    /// listed objects also become `data.inventory` for referential policies. 0: off.
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    audit_interval: u64,
    /// Kubeconfig for the audit (default: KUBECONFIG, ~/.kube/config, then the in-cluster account).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context for the audit.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Run policy test suites in the `gator verify` format (`kind: Suite`); exit 1 on any failure.
    Verify {
        /// Suite files, or directories searched recursively for them.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Print every case, not only failures.
        #[arg(long)]
        verbose_cases: bool,
    },
}

#[derive(Subcommand)]
enum ScanCommand {
    /// Assess manifests: files, directories (recursive), `kubectl get -o yaml|json` dumps, Helm
    /// output, Palisade snapshots, or `-` for standard input.
    K8s(ScanK8sArgs),
    /// Assess a live cluster through the Kubernetes API.
    Cluster(ScanClusterArgs),
    /// Find known vulnerabilities in a container image's packages (needs `palisade db`).
    Image(vuln_cmd::ScanImageArgs),
}

#[derive(Args)]
struct ScanK8sArgs {
    /// Files or directories to assess (`-` reads standard input).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Report unreadable documents but exit 0/1 as if they were not there.
    #[arg(long)]
    skip_invalid: bool,
    #[command(flatten)]
    common: ScanOptions,
}

#[derive(Args)]
struct ScanClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Objects per list request (the API server's `limit`).
    #[arg(long, default_value_t = 500, value_name = "N")]
    page_size: u32,
    /// Also write the discovered inventory (no secret values) to FILE, for `palisade scan k8s FILE`.
    #[arg(long, value_name = "FILE")]
    save_snapshot: Option<PathBuf>,
    #[command(flatten)]
    common: ScanOptions,
}

#[derive(Args)]
struct ScanOptions {
    /// Output format.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json", "sarif", "junit"])]
    format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when an unsuppressed finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = ["critical", "high", "medium", "low", "info"])]
    fail_on: Option<String>,
    /// Configuration file (default: ./palisade.yaml when it exists).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Gatekeeper ConstraintTemplates and constraints (files or directories) to evaluate beside the
    /// built-in checks; their violations become findings (audit mode).
    #[arg(long, value_name = "PATH")]
    policies: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum ChecksCommand {
    /// List every check.
    List {
        #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Explain a check: what it looks for, why it matters, how to fix it, framework mappings.
    Explain {
        /// Check ID (as printed in reports).
        id: String,
        #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Scan(ScanCommand::K8s(args)) => scan::manifests(args),
        Command::Scan(ScanCommand::Cluster(args)) => scan::cluster(args),
        Command::Scan(ScanCommand::Image(args)) => vuln_cmd::scan_image(args),
        Command::Checks(ChecksCommand::List { format }) => checks_cmd::list(&format),
        Command::Checks(ChecksCommand::Explain { id, format }) => checks_cmd::explain(&id, &format),
        Command::Admission(AdmissionCommand::Serve(args)) => admission_cmd::serve(args),
        Command::Admission(AdmissionCommand::Manifests(args)) => admission_cmd::manifests(args),
        Command::Policy(PolicyCommand::Verify {
            paths,
            verbose_cases,
        }) => policy_cmd::verify(&paths, verbose_cases),
        Command::Sbom(args) => sbom_cmd::sbom(args),
        Command::Registry(RegistryCommand::List(args)) => sbom_cmd::registry_list(args),
        Command::Store(StoreCommand::List { format, output }) => {
            sbom_cmd::store_list(&format, output.as_deref())
        }
        Command::Store(StoreCommand::Remove { names }) => sbom_cmd::store_remove(&names),
        Command::Rescan(args) => vuln_cmd::rescan(args),
        Command::Audit(AuditCommand::Analyze(args)) => audit_cmd::analyze(args),
        Command::Audit(AuditCommand::Serve(args)) => audit_serve::serve(args),
        Command::Sensor(SensorCommand::Run(args)) => sensor_cmd::run(args),
        Command::Sensor(SensorCommand::Check(args)) => sensor_cmd::check(args),
        Command::Db(DbCommand::Import(args)) => db_cmd::import(args),
        Command::Db(DbCommand::Update(args)) => db_cmd::update(args),
        Command::Db(DbCommand::Status(args)) => db_cmd::status(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            // One line per cause, outermost first, without a backtrace: the user needs the cause,
            // not our call stack.
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

fn init_logging(verbose: u8) {
    // Libraries (kube-rs, hyper) log their own view of failures we already report in one line;
    // they are heard only when asked for with -vv.
    const OURS: &str = "palisade=LEVEL,palisade_kube=LEVEL,palisade_posture=LEVEL,palisade_report=LEVEL,palisade_image=LEVEL";
    let default = match verbose {
        0 => format!("off,{}", OURS.replace("LEVEL", "warn")),
        1 => format!("off,{}", OURS.replace("LEVEL", "info")),
        _ => format!("warn,{}", OURS.replace("LEVEL", "debug")),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
