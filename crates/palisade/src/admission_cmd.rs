//! `palisade admission serve`: builds the policy set (built-in checks from `admission.rules`,
//! Gatekeeper Rego constraints, CEL policies) and hands it to the webhook server, reloading it when
//! the files change; a broken new set is refused and the last good one keeps serving.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow};
use palisade_admission::{EvalError, Evaluator, FailureMode, Server, TlsFiles};
use palisade_kube::manifests::{self, Input};
use palisade_policy::{AdmissionRequest, Inventory, Violation};
use palisade_posture::{Catalogue, Config};

use crate::{AdmissionServeArgs, output};

/// Everything one policy set needs to judge a request.
struct Policies {
    catalogue: Catalogue,
    config: Config,
    rego: palisade_rego::PolicySet,
    cel: palisade_cel::PolicySet,
    /// The live inventory the audit loop last listed (shared by every reload of the set):
    /// `data.inventory` for referential policies and namespaces for namespace selectors.
    inventory: Arc<std::sync::RwLock<Inventory>>,
    /// Vulnerability gates on images' stored scans, when configured.
    image_gates: Option<crate::image_gates::ImageGateEvaluator>,
}

impl Evaluator for Policies {
    fn evaluate(&self, request: &AdmissionRequest) -> Result<Vec<Violation>, EvalError> {
        let mut violations =
            palisade_posture::admission_violations(request, &self.catalogue, &self.config);
        let inventory = self.inventory.read().unwrap_or_else(|e| e.into_inner());
        let rego = self.rego.evaluate(request, &inventory);
        if let Some(error) = rego.errors.first() {
            return Err(EvalError(error.to_string()));
        }
        violations.extend(rego.violations);
        violations.extend(self.cel.evaluate(request, &inventory).violations);
        if let Some(gates) = &self.image_gates {
            violations.extend(gates.violations(request)?);
        }
        Ok(violations)
    }
}

/// The files a policy set is built from, for change detection.
fn watched_files(args: &AdmissionServeArgs) -> Vec<PathBuf> {
    let (inputs, _) = manifests::expand(&args.policies);
    let mut files: Vec<PathBuf> = inputs
        .into_iter()
        .filter_map(|i| match i {
            Input::File(path) => Some(path),
            Input::Stdin => None,
        })
        .collect();
    files.extend(args.config.clone());
    files
}

/// Size and modification time of every watched file: a change in any reloads the set.
fn fingerprint(files: &[PathBuf]) -> Vec<(PathBuf, Option<(u64, SystemTime)>)> {
    files
        .iter()
        .map(|f| {
            let meta = std::fs::metadata(f).ok();
            (
                f.clone(),
                meta.and_then(|m| Some((m.len(), m.modified().ok()?))),
            )
        })
        .collect()
}

fn load(
    args: &AdmissionServeArgs,
    inventory: &Arc<std::sync::RwLock<Inventory>>,
) -> Result<Policies> {
    let catalogue = Catalogue::builtin();
    let config = output::load_config(args.config.as_deref(), &catalogue)?;
    let (inputs, errors) = manifests::expand(&args.policies);
    if let Some(error) = errors.first() {
        return Err(anyhow!("cannot read the policies: {error}"));
    }
    let mut sources = Vec::new();
    for input in &inputs {
        if let Input::File(path) = input {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the policy file {}", path.display()))?;
            sources.push((path.display().to_string(), text));
        }
    }
    let rego = palisade_rego::PolicySet::from_sources(
        sources.iter().map(|(f, t)| (f.as_str(), t.as_str())),
    )
    .map_err(|e| anyhow!("invalid Rego policies:\n{e}"))?;
    let mut cel = palisade_cel::PolicySet::new();
    for (file, text) in &sources {
        cel.load(file, text)
            .map_err(|e| anyhow!("invalid CEL policies:\n{e}"))?;
    }
    let image_gates = crate::image_gates::ImageGateEvaluator::new(
        &config.image_gates,
        crate::sbom_cmd::store_path()?,
    );
    Ok(Policies {
        catalogue,
        config,
        rego,
        cel,
        inventory: Arc::clone(inventory),
        image_gates,
    })
}

pub fn serve(args: AdmissionServeArgs) -> Result<ExitCode> {
    let inventory = Arc::new(std::sync::RwLock::new(Inventory::new()));
    let policies = Arc::new(load(&args, &inventory)?);
    // The set the audit loop evaluates: the one the server currently uses.
    let current = Arc::new(std::sync::RwLock::new(Arc::clone(&policies)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Few evaluation threads keep per-thread engine caches warm and the allocator's
        // per-thread memory bounded (the benchmark: 8 threads on 2 CPUs, 5,200 req/s and 69 MB;
        // tokio's default of 512 threads: 4,100 req/s and 720 MB).
        .max_blocking_threads(usize::from(args.eval_threads.unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
            u16::try_from(cpus.saturating_mul(4)).unwrap_or(u16::MAX)
        })))
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut config = palisade_admission::Config::new(
            args.listen,
            TlsFiles {
                cert: args.tls_cert.clone(),
                key: args.tls_key.clone(),
            },
            &args.namespace,
        );
        config.exempt_namespaces.extend(args.exempt_namespace.iter().cloned());
        let exempt = config.exempt_namespaces.clone();
        config.failure_mode = if args.failure_mode == "closed" {
            FailureMode::Closed
        } else {
            FailureMode::Open
        };
        config.budget = Duration::from_millis(args.budget_ms.max(1));
        if let Some(path) = &args.decision_log {
            let writer: Box<dyn std::io::Write + Send> = if path.as_os_str() == "-" {
                Box::new(std::io::stdout())
            } else {
                Box::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .with_context(|| format!("cannot open the decision log {}", path.display()))?,
                )
            };
            config.decision_log = Some(Arc::new(palisade_admission::DecisionLog::new(writer)));
        }
        let server = Arc::new(
            Server::bind(config, Some(policies as Arc<dyn Evaluator>))
                .await
                .map_err(|e| anyhow!("{e}"))?,
        );
        eprintln!(
            "palisade admission webhook listening on https://{}/validate",
            server.local_addr()
        );

        // Policy and configuration reload: poll the files, rebuild on change, keep the last good
        // set when the new one does not load.
        let audit = (args.audit_interval > 0).then(|| {
            let options = palisade_kube::cluster::ClusterOptions {
                kubeconfig: args.kubeconfig.clone(),
                context: args.context.clone(),
                ..palisade_kube::cluster::ClusterOptions::default()
            };
            let interval = Duration::from_secs(args.audit_interval);
            let current = Arc::clone(&current);
            let inventory = Arc::clone(&inventory);
            let exempt = exempt.clone();
            tokio::spawn(async move {
                loop {
                    audit_once(&options, &current, &inventory, &exempt).await;
                    tokio::time::sleep(interval).await;
                }
            })
        });
        let reloader = {
            let server = Arc::clone(&server);
            let current = Arc::clone(&current);
            let inventory = Arc::clone(&inventory);
            let interval = Duration::from_secs(args.reload_interval.max(1));
            tokio::spawn(async move {
                let mut last = fingerprint(&watched_files(&args));
                loop {
                    tokio::time::sleep(interval).await;
                    let now = fingerprint(&watched_files(&args));
                    if now == last {
                        continue;
                    }
                    last = now;
                    let args_ref = &args;
                    match tokio::task::block_in_place(|| load(args_ref, &inventory)) {
                        Ok(policies) => {
                            let policies = Arc::new(policies);
                            *current.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&policies);
                            server.replace_evaluator(policies);
                            tracing::info!("policies reloaded");
                        }
                        Err(error) => {
                            eprintln!("error: policies not reloaded, the last good set stays active: {error:#}");
                            server.policy_reload_failed(&format!("{error:#}"));
                        }
                    }
                }
            })
        };
        let shutdown = async {
            #[cfg(unix)]
            if let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
            let _ = tokio::signal::ctrl_c().await;
        };
        let served = server.serve(shutdown).await;
        reloader.abort();
        if let Some(audit) = audit {
            audit.abort();
        }
        served.map_err(|e| anyhow!("{e}"))?;
        Ok(ExitCode::SUCCESS)
    })
}

/// One audit pass: list the cluster, make it the inventory, judge every object as the request that
/// would create it, print each violation as a JSON line. A failed listing is reported and the next
/// pass tries again; the previous inventory stays.
async fn audit_once(
    options: &palisade_kube::cluster::ClusterOptions,
    current: &std::sync::RwLock<Arc<Policies>>,
    inventory: &std::sync::RwLock<Inventory>,
    exempt: &[String],
) {
    let mut objects = Vec::new();
    let scan = palisade_kube::cluster::scan(options, &mut |resource: palisade_core::Resource| {
        if let Ok(object) = serde_json::to_value(&resource.object) {
            objects.push(object);
        }
    })
    .await;
    let scan = match scan {
        Ok(scan) => scan,
        Err(error) => {
            eprintln!("error: audit: {error}");
            return;
        }
    };
    let mut listed = Inventory::new();
    for object in &objects {
        listed.insert(object.clone());
    }
    *inventory.write().unwrap_or_else(|e| e.into_inner()) = listed;
    let policies = Arc::clone(&current.read().unwrap_or_else(|e| e.into_inner()));
    let mut violations = 0usize;
    let mut out = std::io::stdout().lock();
    for object in objects {
        let request = AdmissionRequest::for_object(object);
        // The webhook never judges exempt namespaces; neither does its audit.
        if exempt.contains(&request.namespace) {
            continue;
        }
        let found = match policies.evaluate(&request) {
            Ok(found) => found,
            Err(error) => {
                eprintln!(
                    "error: audit: {} {}/{}: {error}",
                    request.kind.kind, request.namespace, request.name
                );
                continue;
            }
        };
        for violation in found {
            violations += 1;
            let line = serde_json::json!({
                "audit": true,
                "cluster": scan.identity.name,
                "kind": request.kind.kind,
                "namespace": request.namespace,
                "name": request.name,
                "policy": violation.policy,
                "action": violation.action,
                "message": violation.message,
            });
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = out.flush();
    for kind in &scan.not_assessed {
        eprintln!(
            "warning: audit: {} not assessed: {}",
            kind.kind, kind.reason
        );
    }
    tracing::info!(
        "audit: {violations} violations in cluster {}",
        scan.identity.name
    );
}

/// Prints the install manifests. They pass Palisade's own checks: a hardened pod, no token
/// automount, resource limits, probes, a PodDisruptionBudget so a node drain keeps one replica.
pub fn manifests(args: crate::AdmissionManifestsArgs) -> Result<ExitCode> {
    let ca_bundle = match &args.ca_bundle {
        Some(path) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read the CA bundle {}", path.display()))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(anyhow!("{} is not a PEM certificate", path.display()));
            }
            base64(&pem)
        }
        None => {
            "REPLACE-WITH-BASE64-PEM-OF-THE-CA  # palisade admission manifests --ca-bundle ca.crt"
                .to_string()
        }
    };
    let ns = &args.namespace;
    let mut exempt = vec!["kube-system".to_string(), ns.clone()];
    for extra in &args.exempt_namespace {
        if !exempt.contains(extra) {
            exempt.push(extra.clone());
        }
    }
    let exempt_yaml = exempt
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // The server must skip them too: the namespaceSelector keeps the API server from calling,
    // the flag keeps the audit loop and any other caller from judging them.
    let exempt_args: String = args
        .exempt_namespace
        .iter()
        .filter(|n| *n != ns && n.as_str() != "kube-system")
        .map(|n| format!("\n            - --exempt-namespace={n}"))
        .collect();
    let image = &args.image;
    let failure = &args.failure_policy;
    let timeout = args.timeout_seconds;
    let failure_mode = if failure == "Fail" { "closed" } else { "open" };
    print!(
        r#"# Palisade admission webhook. Before applying, create the serving certificate Secret:
#   kubectl -n {ns} create secret tls palisade-webhook-tls --cert=tls.crt --key=tls.key
# (the certificate must be valid for palisade-webhook.{ns}.svc) and the policies ConfigMap:
#   kubectl -n {ns} create configmap palisade-policies --from-file=policies/ --from-file=palisade.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: palisade-webhook
  namespace: {ns}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: palisade-webhook
  namespace: {ns}
  labels:
    app.kubernetes.io/name: palisade-webhook
    app.kubernetes.io/part-of: palisade
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade-webhook
  template:
    metadata:
      labels:
        app.kubernetes.io/name: palisade-webhook
        app.kubernetes.io/part-of: palisade
    spec:
      serviceAccountName: palisade-webhook
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app.kubernetes.io/name: palisade-webhook
      containers:
        - name: webhook
          image: {image}
          args:
            - admission
            - serve
            - --listen=0.0.0.0:8443
            - --tls-cert=/tls/tls.crt
            - --tls-key=/tls/tls.key
            - --config=/policies/palisade.yaml
            - --policies=/policies
            - --namespace={ns}
            - --failure-mode={failure_mode}{exempt_args}
          ports:
            - name: https
              containerPort: 8443
          readinessProbe:
            httpGet:
              path: /readyz
              port: https
              scheme: HTTPS
          livenessProbe:
            httpGet:
              path: /healthz
              port: https
              scheme: HTTPS
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
            limits:
              cpu: "1"
              memory: 256Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: tls
              mountPath: /tls
              readOnly: true
            - name: policies
              mountPath: /policies
              readOnly: true
      volumes:
        - name: tls
          secret:
            secretName: palisade-webhook-tls
        - name: policies
          configMap:
            name: palisade-policies
---
apiVersion: v1
kind: Service
metadata:
  name: palisade-webhook
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: palisade-webhook
  ports:
    - name: https
      port: 443
      targetPort: https
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: palisade-webhook
  namespace: {ns}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade-webhook
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: palisade
webhooks:
  - name: validate.palisade.dev
    admissionReviewVersions: ["v1", "v1beta1"]
    sideEffects: None
    timeoutSeconds: {timeout}
    failurePolicy: {failure}
    matchPolicy: Equivalent
    clientConfig:
      caBundle: {ca_bundle}
      service:
        name: palisade-webhook
        namespace: {ns}
        path: /validate
        port: 443
    namespaceSelector:
      matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values: [{exempt_yaml}]
    rules:
      - apiGroups: ["*"]
        apiVersions: ["*"]
        operations: ["CREATE", "UPDATE"]
        resources: ["*"]
        scope: "*"
"#
    );
    Ok(ExitCode::SUCCESS)
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
