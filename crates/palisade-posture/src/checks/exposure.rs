//! Network exposure and isolation: Services and Ingresses that reach outside the cluster, exposed
//! dashboards, namespaces without NetworkPolicies or Pod Security Admission labels.
//!
//! Most of these checks need several objects (a Service and the workloads it selects, a namespace
//! and its policies), so they run in [`Facts::assess`] once everything was seen. The facts keep
//! full copies only of the small, few objects (Services, Ingresses, Namespaces) and a compact
//! record of each workload, so memory stays bounded on very large inputs.

use super::strings;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use palisade_core::{
    Category, Check, FieldPath, Finding, Frameworks, Node, Resource, ResourceRef, Severity, Value,
};

use crate::emit::{Context, Emitter, IGNORE_ANNOTATION, IGNORE_REASON_ANNOTATION};
use crate::pod::{ContainerView, PodView};

const LOAD_BALANCER: &str = "service-load-balancer";
const NODE_PORT: &str = "service-node-port";
const EXTERNAL_IPS: &str = "service-external-ips";
const INGRESS_NO_TLS: &str = "ingress-no-tls";
const DASHBOARD_EXPOSED: &str = "dashboard-exposed";
const DASHBOARD_SKIP_LOGIN: &str = "dashboard-skip-login";
const NO_NETWORK_POLICY: &str = "namespace-without-network-policy";
const NO_PSA_LABELS: &str = "namespace-without-psa-labels";
const PSA_PRIVILEGED: &str = "namespace-psa-privileged";

/// Namespaces run by the platform itself: their components legitimately need host access and no
/// network isolation, and users rarely own them.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

const PSA_ENFORCE: &str = "pod-security.kubernetes.io/enforce";
const PSA_WARN: &str = "pod-security.kubernetes.io/warn";
const PSA_AUDIT: &str = "pod-security.kubernetes.io/audit";

/// Annotations that make a cloud load balancer internal (reachable only from the private network),
/// with the values that do so. `None` accepts any value except `"false"`: the AWS in-tree provider
/// treats any value (historically `0.0.0.0/0`) as "internal".
const INTERNAL_LB_ANNOTATIONS: &[(&str, Option<&str>)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        None,
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        Some("internal"),
    ),
    ("networking.gke.io/load-balancer-type", Some("internal")),
    ("cloud.google.com/load-balancer-type", Some("internal")),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        Some("true"),
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        Some("true"),
    ),
];

/// The legacy way to restrict load balancer clients, still honoured by cloud providers.
const SOURCE_RANGES_ANNOTATION: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";

/// How many selected workloads a message names before summarising the rest.
const MAX_NAMED_WORKLOADS: usize = 5;

pub(crate) fn checks() -> Vec<Check> {
    let network = || vec!["Network separation and hardening".to_string()];
    vec![
        check(
            LOAD_BALANCER,
            "Service is exposed through a load balancer",
            Severity::Medium,
            "A Service of type LoadBalancer gets a cloud load balancer that anyone on the internet \
             can reach unless it is internal or limited by `loadBalancerSourceRanges`, and it also \
             opens a node port on every node. Every pod it selects becomes an entry point: an \
             application bug or an interface never meant to be public is one request away. The \
             finding is low when the load balancer is internal or its source ranges are \
             restricted.",
            "Publish only what must be public: keep internal Services `type: ClusterIP` and route \
             web traffic through an Ingress with TLS. For a load balancer that must stay, restrict \
             clients with `spec.loadBalancerSourceRanges: [\"203.0.113.0/24\"]`, or make it \
             internal with the provider's annotation \
             (`service.beta.kubernetes.io/aws-load-balancer-internal: \"true\"`, \
             `networking.gke.io/load-balancer-type: Internal`, \
             `service.beta.kubernetes.io/azure-load-balancer-internal: \"true\"`).",
            Frameworks {
                nsa: network(),
                mitre: strings(&["T1133", "T1190"]),
                microsoft: strings(&["MS-TA9005: Exposed sensitive interfaces"]),
                ..Frameworks::default()
            },
        ),
        check(
            NODE_PORT,
            "Service is exposed on a node port",
            Severity::Medium,
            "A Service of type NodePort listens on the same port (30000-32767 by default) on every \
             address of every node. Whoever can reach a node - from the internet when nodes have \
             public addresses, or from anywhere on the network - reaches the selected pods \
             directly, bypassing the TLS, authentication and logging an Ingress or load balancer \
             would put in front of them.",
            "Set `spec.type: ClusterIP` and publish the application through an Ingress or an \
             internal load balancer. If a node port is really needed, allow the node port range \
             only from known addresses in the cloud firewall or security group, and add a \
             NetworkPolicy on the selected pods.",
            Frameworks {
                nsa: network(),
                mitre: strings(&["T1133", "T1190"]),
                microsoft: strings(&["MS-TA9005: Exposed sensitive interfaces"]),
                ..Frameworks::default()
            },
        ),
        check(
            EXTERNAL_IPS,
            "Service claims external IP addresses",
            Severity::Medium,
            "`spec.externalIPs` makes kube-proxy on every node capture traffic sent to those \
             addresses, from outside and from inside the cluster, and deliver it to the Service's \
             pods. Whoever may create or edit Services can thereby intercept in-cluster traffic to \
             any IP address (CVE-2020-8554, which Kubernetes cannot fix), and the Service is \
             reachable on those addresses without any load balancer controls.",
            "Remove `spec.externalIPs` and expose the Service through a LoadBalancer or an \
             Ingress. Forbid the field cluster-wide with the `DenyServiceExternalIPs` admission \
             plugin (`kube-apiserver --enable-admission-plugins=...,DenyServiceExternalIPs`) or an \
             admission policy that allows only approved addresses.",
            Frameworks {
                nsa: network(),
                mitre: strings(&["T1557"]),
                ..Frameworks::default()
            },
        ),
        check(
            INGRESS_NO_TLS,
            "Ingress serves hosts without TLS",
            Severity::Medium,
            "An Ingress host that no `spec.tls` entry covers is served over plain HTTP: passwords, \
             session cookies and API tokens sent to it can be read and changed by anyone on the \
             path (a shared network, a compromised proxy, the provider's network). The finding \
             lists the hosts served without TLS.",
            "Add a `spec.tls` entry for every host, with a certificate Secret (or let cert-manager \
             issue it), and redirect HTTP to HTTPS:\n\
             ```yaml\n\
             spec:\n  \
               tls:\n  \
               - hosts: [admin.example.com]\n    \
                 secretName: admin-example-com-tls\n\
             ```",
            Frameworks {
                nsa: network(),
                mitre: strings(&["T1040", "T1557"]),
                ..Frameworks::default()
            },
        ),
        check(
            DASHBOARD_EXPOSED,
            "Kubernetes dashboard is reachable from outside the cluster",
            Severity::High,
            "The Kubernetes dashboard is a web UI that acts on the cluster with the token a user \
             pastes or with its own service account. Published through a LoadBalancer, a node \
             port, external IPs or an Ingress it is open to credential guessing and exploits from \
             the network; started with `--enable-skip-login`, anyone who reaches it uses it \
             without logging in, and the finding is critical. Exposed dashboards are a classic \
             entry point of cryptomining campaigns.",
            "Do not publish the dashboard: set its Service to `type: ClusterIP`, remove Ingress \
             routes to it, and reach it with `kubectl -n kubernetes-dashboard port-forward \
             svc/kubernetes-dashboard 8443:443` or `kubectl proxy`. If it must be shared, put it \
             behind an authenticating proxy (OIDC) on an internal network and remove \
             `--enable-skip-login`.",
            Frameworks {
                nsa: network(),
                mitre: strings(&["T1133", "T1190"]),
                microsoft: strings(&["MS-TA9005: Exposed sensitive interfaces"]),
                ..Frameworks::default()
            },
        ),
        check(
            DASHBOARD_SKIP_LOGIN,
            "Kubernetes dashboard allows skipping login or logging in over HTTP",
            Severity::High,
            "`--enable-skip-login` adds a Skip button to the dashboard's login page: anyone who \
             reaches the dashboard - any pod in the cluster, or the internet when it is exposed - \
             uses it with the permissions of the dashboard's service account. \
             `--enable-insecure-login` offers the login page over plain HTTP, so users' bearer \
             tokens cross the network in clear text.",
            "Remove `--enable-skip-login` and `--enable-insecure-login` from the dashboard \
             container's `args` (both default to false), let users log in with their own tokens \
             or through an OIDC proxy, and keep the dashboard's service account at the minimal \
             permissions of the upstream manifest.",
            Frameworks {
                nsa: strings(&["Authentication and authorization"]),
                mitre: strings(&["T1133"]),
                microsoft: strings(&["MS-TA9005: Exposed sensitive interfaces"]),
                ..Frameworks::default()
            },
        ),
        check(
            NO_NETWORK_POLICY,
            "Namespace has workloads but no NetworkPolicy",
            Severity::Medium,
            "Without a NetworkPolicy every pod of the namespace accepts connections from every \
             pod in the cluster and may connect anywhere, so one compromised container reaches \
             databases, internal APIs and cloud metadata endpoints in all namespaces. NetworkPolicy \
             objects of any API group (Calico's and Antrea's included) and CiliumNetworkPolicies \
             count; cluster-wide policies are not evaluated. `kube-system`, `kube-public` and \
             `kube-node-lease` are not checked: their components often need host networking and \
             are governed by the platform.",
            "Start each application namespace with a default-deny policy, then allow the flows it \
             needs (ingress from the ingress controller, egress to DNS in kube-system). The CNI \
             must enforce NetworkPolicy (CIS 5.3.1).\n\
             ```yaml\n\
             apiVersion: networking.k8s.io/v1\n\
             kind: NetworkPolicy\n\
             metadata:\n  \
               name: default-deny\n  \
               namespace: <namespace>\n\
             spec:\n  \
               podSelector: {}\n  \
               policyTypes: [Ingress, Egress]\n\
             ```",
            Frameworks {
                cis: strings(&["5.3.2"]),
                nsa: network(),
                mitre: strings(&["T1210"]),
                microsoft: strings(&["MS-TA9034: Cluster internal networking"]),
                ..Frameworks::default()
            },
        ),
        check(
            NO_PSA_LABELS,
            "Namespace does not enforce a Pod Security Standard",
            Severity::Medium,
            "Pod Security Admission enforces a standard in a namespace only when it carries the \
             label `pod-security.kubernetes.io/enforce`; otherwise the cluster default applies, \
             which is `privileged` (no restriction) unless the API server's admission \
             configuration sets another. Anyone who may create pods there can run privileged, \
             hostPID or hostPath pods and take over the node. With only `warn` or `audit` labels, \
             violations are reported but still admitted (low). `kube-system`, `kube-public` and \
             `kube-node-lease` are not checked; if another admission controller (Kyverno, \
             Gatekeeper) enforces pod security, suppress this check with that reason.",
            "Label the namespace with the strictest level its workloads pass, after a server-side \
             dry run that lists the pods that would violate it:\n\
             ```sh\n\
             kubectl label --dry-run=server --overwrite ns <namespace> \
             pod-security.kubernetes.io/enforce=restricted\n\
             kubectl label --overwrite ns <namespace> \
             pod-security.kubernetes.io/enforce=restricted \
             pod-security.kubernetes.io/enforce-version=latest\n\
             ```\n\
             Use `baseline` where `restricted` is not yet possible.",
            Frameworks {
                cis: strings(&["5.2.1"]),
                nsa: strings(&["Kubernetes Pod security"]),
                mitre: strings(&["T1611"]),
                ..Frameworks::default()
            },
        ),
        check(
            PSA_PRIVILEGED,
            "Namespace enforces the privileged Pod Security level",
            Severity::Low,
            "`pod-security.kubernetes.io/enforce: privileged` switches Pod Security Admission off \
             for the namespace: privileged containers, host namespaces and hostPath volumes are \
             all admitted. Node agents sometimes need it, but it is a standing exception that \
             every workload later added to the namespace inherits. `kube-system`, `kube-public` \
             and `kube-node-lease` are not checked.",
            "Set `pod-security.kubernetes.io/enforce` to `baseline` or `restricted`, and move the \
             workloads that really need host access to a dedicated namespace (or exempt them in \
             the PodSecurity admission configuration) so the rest of the namespace stays \
             protected.",
            Frameworks {
                cis: strings(&["5.2.1"]),
                nsa: strings(&["Kubernetes Pod security"]),
                mitre: strings(&["T1611"]),
                ..Frameworks::default()
            },
        ),
    ]
}

fn check(
    id: &str,
    title: &str,
    severity: Severity,
    description: &str,
    remediation: &str,
    frameworks: Frameworks,
) -> Check {
    Check {
        id: id.to_string(),
        title: title.to_string(),
        severity,
        category: Category::Exposure,
        description: description.to_string(),
        remediation: remediation.to_string(),
        frameworks,
    }
}

/// Checks that need only the object itself: Ingress TLS coverage and dashboard login flags.
pub(crate) fn assess(resource: &Resource, emit: &mut Emitter<'_>) {
    if is_ingress(resource) {
        assess_ingress_tls(resource, emit);
    }
    if let Some(pod) = workload_pod(resource)
        && !crate::checks::is_controlled_workload(resource)
        && is_dashboard(resource, &pod)
    {
        for container in pod.containers() {
            let flags = LoginFlags::of(&container);
            let Some(path) = flags.skip_login.as_ref().or(flags.insecure_login.as_ref()) else {
                continue;
            };
            let what = match (&flags.skip_login, &flags.insecure_login) {
                (Some(_), Some(_)) => {
                    "`--enable-skip-login` (anyone reaching it can use it without logging in) \
                     and `--enable-insecure-login` (tokens may be sent over plain HTTP)"
                }
                (Some(_), None) => {
                    "`--enable-skip-login`: anyone reaching it can use it without logging in"
                }
                _ => "`--enable-insecure-login`: tokens may be sent over plain HTTP",
            };
            emit.emit(
                DASHBOARD_SKIP_LOGIN,
                Some(container.name),
                path,
                format!(
                    "container `{}` runs the Kubernetes dashboard with {what}",
                    container.name
                ),
            );
        }
    }
}

fn assess_ingress_tls(resource: &Resource, emit: &mut Emitter<'_>) {
    let Some(spec) = resource.object.get("spec").filter(|s| s.is_map()) else {
        return;
    };
    let rules = spec.get("rules").map(Node::items).unwrap_or(&[]);
    let default_backend = ["defaultBackend", "backend"]
        .iter()
        .any(|key| spec.get(key).is_some_and(Node::is_map));
    // `None` stands for "any host": a rule without `host`, or the default backend.
    let mut served: Vec<Option<String>> = Vec::new();
    for rule in rules {
        let host = rule
            .str_at("host")
            .filter(|h| !h.is_empty())
            .map(str::to_ascii_lowercase);
        if !served.contains(&host) {
            served.push(host);
        }
    }
    if default_backend && !served.contains(&None) {
        served.push(None);
    }
    if served.is_empty() {
        return;
    }
    let tls = spec.get("tls").map(Node::items).unwrap_or(&[]);
    // A TLS entry without hosts uses the controller's default certificate for every host.
    let covers_all = tls.iter().any(|entry| {
        entry.is_map()
            && entry
                .get("hosts")
                .map(Node::items)
                .unwrap_or(&[])
                .is_empty()
    });
    if covers_all {
        return;
    }
    let tls_hosts: Vec<String> = tls
        .iter()
        .flat_map(|entry| entry.get("hosts").map(Node::items).unwrap_or(&[]))
        .filter_map(Node::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    let uncovered: Vec<String> = served
        .iter()
        .filter(|host| match host {
            Some(host) => !tls_hosts.iter().any(|tls| host_covered(host, tls)),
            None => true,
        })
        .map(|host| match host {
            Some(host) => host.clone(),
            None => "any host (rule without `host` or default backend)".to_string(),
        })
        .collect();
    if uncovered.is_empty() {
        return;
    }
    let hosts = uncovered.join(", ");
    if tls.is_empty() {
        emit.emit(
            INGRESS_NO_TLS,
            None,
            &FieldPath::root().key("spec"),
            format!("Ingress has no `spec.tls`: {hosts} served over plain HTTP"),
        );
    } else {
        emit.emit(
            INGRESS_NO_TLS,
            None,
            &FieldPath::root().keys(&["spec", "tls"]),
            format!("no `spec.tls` entry covers {hosts}: served over plain HTTP"),
        );
    }
}

/// Whether TLS host `tls` (possibly `*.example.com`) covers the rule host `host`. A wildcard
/// covers exactly one DNS label, as in certificates and Ingress host matching.
fn host_covered(host: &str, tls: &str) -> bool {
    if host == tls {
        return true;
    }
    match tls.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|label| label.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.') && label != "*"),
        None => false,
    }
}

fn is_ingress(resource: &Resource) -> bool {
    resource.kind() == "Ingress"
        && matches!(
            resource.reference.group(),
            "networking.k8s.io" | "extensions"
        )
}

/// The pod template of a workload that actually runs pods (a PodTemplate object does not).
fn workload_pod(resource: &Resource) -> Option<PodView<'_>> {
    if resource.kind() == "PodTemplate" {
        return None;
    }
    PodView::of(resource)
}

/// Whether a workload runs the Kubernetes dashboard: its image, its labels or its name say so.
fn is_dashboard(resource: &Resource, pod: &PodView<'_>) -> bool {
    pod.containers()
        .any(|c| c.node.str_at("image").is_some_and(is_dashboard_image))
        || labels_of(pod.metadata)
            .iter()
            .any(|(k, v)| is_dashboard_label(k, v))
        || resource.name() == "kubernetes-dashboard"
}

/// `kubernetesui/dashboard:v2.7.0`, `docker.io/kubernetesui/dashboard-web:1.6.0` (v3) or the old
/// `k8s.gcr.io/kubernetes-dashboard-amd64:v1.10.1`; the metrics scraper is not the dashboard.
fn is_dashboard_image(image: &str) -> bool {
    let without_digest = image.split('@').next().unwrap_or(image);
    let repository = match without_digest.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => without_digest,
    };
    if repository.contains("metrics-scraper") {
        return false;
    }
    let segments: Vec<&str> = repository.split('/').collect();
    let kubernetesui = segments.windows(2).any(|pair| {
        pair.first() == Some(&"kubernetesui")
            && pair
                .get(1)
                .is_some_and(|name| *name == "dashboard" || name.starts_with("dashboard-"))
    });
    kubernetesui
        || segments
            .last()
            .is_some_and(|name| name.starts_with("kubernetes-dashboard"))
}

fn is_dashboard_label(key: &str, value: &str) -> bool {
    let dashboard_name = |v: &str| {
        (v == "kubernetes-dashboard" || v.starts_with("kubernetes-dashboard-"))
            && !v.contains("metrics-scraper")
            && !v.contains("kong")
    };
    match key {
        "k8s-app" => value == "kubernetes-dashboard",
        "app.kubernetes.io/name" => dashboard_name(value),
        _ => false,
    }
}

/// The dashboard's login flags on one container, with the field that enables each.
#[derive(Debug, Default)]
struct LoginFlags {
    skip_login: Option<FieldPath>,
    insecure_login: Option<FieldPath>,
}

impl LoginFlags {
    fn of(container: &ContainerView<'_>) -> LoginFlags {
        let mut flags = LoginFlags::default();
        for list in ["command", "args"] {
            let items = container.node.get(list).map(Node::items).unwrap_or(&[]);
            for (index, item) in items.iter().enumerate() {
                let Some(text) = item.as_str() else { continue };
                // Shell wrappers (`sh -c "/dashboard --enable-skip-login"`) hide flags in one
                // string; flag names hold no spaces, so splitting finds them.
                for word in text.split_whitespace() {
                    let Some(flag) = word.strip_prefix("--") else {
                        continue;
                    };
                    let (name, value) = match flag.split_once('=') {
                        Some((name, value)) => (name, Some(value)),
                        None => (flag, None),
                    };
                    let slot = match name {
                        "enable-skip-login" => &mut flags.skip_login,
                        "enable-insecure-login" => &mut flags.insecure_login,
                        _ => continue,
                    };
                    // Later flags override earlier ones, as in Go's flag parsing.
                    *slot = value
                        .is_none_or(go_bool_true)
                        .then(|| container.field(&[list]).index(index));
                }
            }
        }
        flags
    }
}

/// `strconv.ParseBool` truth values; anything else is false or a startup error.
fn go_bool_true(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

/// String-valued entries of a label map (or selector), sorted by key.
fn labels_of(metadata: &Node) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = metadata
        .get("labels")
        .map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.to_text()?)))
        .collect();
    labels.sort();
    labels
}

/// Where an object lives: its cluster (multi-cluster scans) and namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Scope {
    cluster: Option<Arc<str>>,
    namespace: Option<String>,
}

impl Scope {
    fn of(resource: &Resource) -> Scope {
        Scope {
            cluster: resource.source.cluster.clone(),
            namespace: resource.namespace().map(str::to_string),
        }
    }

    /// The scope a Namespace object defines.
    fn defined_by(namespace: &Resource) -> Scope {
        Scope {
            cluster: namespace.source.cluster.clone(),
            namespace: Some(namespace.name().to_string()),
        }
    }

    fn is_system(&self) -> bool {
        self.namespace
            .as_deref()
            .is_some_and(|ns| SYSTEM_NAMESPACES.contains(&ns))
    }
}

/// What the exposure checks remember of a workload. Ordered by every field so that sorting
/// makes the choice between two copies of one object independent of input order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Workload {
    scope: Scope,
    reference: ResourceRef,
    /// The pod template's labels, sorted: what Service selectors match.
    labels: Vec<(String, String)>,
    dashboard: Option<LoginSummary>,
}

/// For a dashboard workload: whether any container enables the login shortcuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct LoginSummary {
    skip_login: bool,
    insecure_login: bool,
}

impl Workload {
    fn selected_by(&self, selector: &[(String, String)]) -> bool {
        !selector.is_empty()
            && selector
                .iter()
                .all(|(k, v)| self.labels.iter().any(|(lk, lv)| lk == k && lv == v))
    }

    fn describe(&self) -> String {
        format!("{} {}", self.reference.kind, qualified(&self.reference))
    }
}

/// The workload a namespace finding is reported on when no Namespace object was seen: a copy of
/// its identity, namespace field, labels and suppression annotations only.
#[derive(Debug, Clone)]
struct Anchor {
    /// Controlled workloads (a Deployment's Pods) are used only when nothing else is in the
    /// namespace: the controller is the object users edit.
    controlled: bool,
    resource: Resource,
}

impl Anchor {
    fn key(&self) -> AnchorKey<'_> {
        anchor_key(self.controlled, &self.resource)
    }
}

/// Which workload anchors a namespace: uncontrolled first, then by reference, then by source so
/// that two copies of one object are chosen the same way whatever order they came in.
type AnchorKey<'a> = (bool, &'a ResourceRef, Option<&'a str>, u32);

fn anchor_key(controlled: bool, resource: &Resource) -> AnchorKey<'_> {
    (
        controlled,
        &resource.reference,
        resource.source.file.as_deref(),
        resource.source.document,
    )
}

#[derive(Debug, Default)]
pub(crate) struct Facts {
    services: Vec<Resource>,
    ingresses: Vec<Resource>,
    namespaces: Vec<Resource>,
    /// Scopes (cluster and namespace) that hold at least one network policy.
    policed: BTreeSet<Scope>,
    workloads: Vec<Workload>,
    /// For every namespace that runs workloads, the first workload by reference order.
    anchors: BTreeMap<Scope, Anchor>,
}

impl Facts {
    pub(crate) fn collect(&mut self, resource: &Resource) {
        let group = resource.reference.group();
        match resource.kind() {
            "Service" if group.is_empty() => self.services.push(super::compact_copy(resource)),
            "Namespace" if group.is_empty() => self.namespaces.push(super::compact_copy(resource)),
            "Ingress" if is_ingress(resource) => self.ingresses.push(super::compact_copy(resource)),
            // Calico and Antrea name their namespaced policies NetworkPolicy too.
            "NetworkPolicy" | "CiliumNetworkPolicy" if resource.namespace().is_some() => {
                self.policed.insert(Scope::of(resource));
            }
            _ => {}
        }
        let Some(pod) = workload_pod(resource) else {
            return;
        };
        let controlled = crate::checks::is_controlled_workload(resource);
        let scope = Scope::of(resource);
        // A workload without a namespace lands wherever it is applied: no namespace to judge.
        if scope.namespace.is_some() {
            let key = anchor_key(controlled, resource);
            let better = self
                .anchors
                .get(&scope)
                .is_none_or(|current| key < current.key());
            // Build the copy only when it replaces the current anchor: most workloads do not.
            if better {
                let anchor = Anchor {
                    controlled,
                    resource: evidence_stub(resource),
                };
                self.anchors.insert(scope.clone(), anchor);
            }
        }
        if controlled {
            return;
        }
        let dashboard = is_dashboard(resource, &pod).then(|| {
            let mut summary = LoginSummary {
                skip_login: false,
                insecure_login: false,
            };
            for container in pod.containers() {
                let flags = LoginFlags::of(&container);
                summary.skip_login |= flags.skip_login.is_some();
                summary.insecure_login |= flags.insecure_login.is_some();
            }
            summary
        });
        self.workloads.push(Workload {
            scope,
            reference: resource.reference.clone(),
            labels: labels_of(pod.metadata),
            dashboard,
        });
    }

    pub(crate) fn merge(&mut self, other: Facts) {
        self.services.extend(other.services);
        self.ingresses.extend(other.ingresses);
        self.namespaces.extend(other.namespaces);
        self.policed.extend(other.policed);
        self.workloads.extend(other.workloads);
        for (scope, anchor) in other.anchors {
            match self.anchors.get(&scope) {
                Some(current) if current.key() <= anchor.key() => {}
                _ => {
                    self.anchors.insert(scope, anchor);
                }
            }
        }
    }

    pub(crate) fn assess(&self, context: Context<'_>, findings: &mut Vec<Finding>) {
        // Objects arrive in any order and sessions merge in any order: sort everything first so
        // messages, and which of two copies of an object is reported, never depend on it.
        let mut workloads: Vec<&Workload> = self.workloads.iter().collect();
        workloads.sort();
        workloads.dedup_by(|a, b| a.scope == b.scope && a.reference == b.reference);
        let mut by_scope: BTreeMap<&Scope, Vec<&Workload>> = BTreeMap::new();
        for workload in workloads {
            by_scope.entry(&workload.scope).or_default().push(workload);
        }
        let services = sorted(&self.services);
        let mut service_index: BTreeMap<(Scope, &str), ServiceFacts<'_>> = BTreeMap::new();
        for service in &services {
            let facts = ServiceFacts::of(service, &by_scope);
            facts.assess(context, findings);
            service_index
                .entry((Scope::of(service), service.name()))
                .or_insert(facts);
        }
        for ingress in sorted(&self.ingresses) {
            assess_ingress_backends(ingress, &service_index, context, findings);
        }
        self.assess_namespaces(context, findings);
    }

    fn assess_namespaces(&self, context: Context<'_>, findings: &mut Vec<Finding>) {
        let mut objects: BTreeMap<Scope, &Resource> = BTreeMap::new();
        for namespace in sorted(&self.namespaces) {
            objects
                .entry(Scope::defined_by(namespace))
                .or_insert(namespace);
        }
        for (scope, anchor) in &self.anchors {
            if scope.is_system() || self.policed.contains(scope) {
                continue;
            }
            let name = scope.namespace.as_deref().unwrap_or("");
            let example = format!(
                "{} {}",
                anchor.resource.kind(),
                qualified(&anchor.resource.reference)
            );
            match objects.get(scope) {
                Some(namespace) => report(
                    context,
                    namespace,
                    findings,
                    NO_NETWORK_POLICY,
                    &FieldPath::root().keys(&["metadata", "name"]),
                    format!(
                        "namespace `{name}` runs workloads (e.g. {example}) but has no \
                         NetworkPolicy: all traffic to and from its pods is allowed"
                    ),
                    None,
                ),
                None => report(
                    context,
                    &anchor.resource,
                    findings,
                    NO_NETWORK_POLICY,
                    &FieldPath::root().keys(&["metadata", "namespace"]),
                    format!(
                        "namespace `{name}` (no Namespace object among the inputs) runs this \
                         workload but has no NetworkPolicy: all traffic to and from its pods is \
                         allowed"
                    ),
                    None,
                ),
            }
        }
        for (scope, namespace) in &objects {
            if !scope.is_system() {
                assess_pod_security_labels(namespace, context, findings);
            }
        }
    }
}

fn assess_pod_security_labels(
    namespace: &Resource,
    context: Context<'_>,
    findings: &mut Vec<Finding>,
) {
    let name = namespace.name();
    let labels = namespace.metadata().get("labels").filter(|l| l.is_map());
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Node::to_text);
    match label(PSA_ENFORCE).as_deref() {
        // Pod Security Admission treats an unparsable level as `restricted`, so only an explicit
        // `privileged` opens the namespace.
        Some("privileged") => report(
            context,
            namespace,
            findings,
            PSA_PRIVILEGED,
            &FieldPath::root().keys(&["metadata", "labels", PSA_ENFORCE]),
            format!("namespace `{name}` enforces the `privileged` level: every pod is admitted"),
            None,
        ),
        Some(_) => {}
        None => {
            let path = match labels {
                Some(_) => FieldPath::root().keys(&["metadata", "labels"]),
                None => FieldPath::root().key("metadata"),
            };
            let partial: Vec<String> = [("warn", PSA_WARN), ("audit", PSA_AUDIT)]
                .iter()
                .filter_map(|(mode, key)| Some(format!("{mode}={}", label(key)?)))
                .collect();
            if partial.is_empty() {
                report(
                    context,
                    namespace,
                    findings,
                    NO_PSA_LABELS,
                    &path,
                    format!(
                        "namespace `{name}` has no `{PSA_ENFORCE}` label: pods are admitted under \
                         the cluster default, `privileged` unless the admission configuration \
                         sets another"
                    ),
                    None,
                );
            } else {
                report(
                    context,
                    namespace,
                    findings,
                    NO_PSA_LABELS,
                    &path,
                    format!(
                        "namespace `{name}` sets only {} and no `{PSA_ENFORCE}` label: violating \
                         pods are reported but still admitted",
                        partial.join(", ")
                    ),
                    Some(Severity::Low),
                );
            }
        }
    }
}

/// What the checks read from one Service, with the workloads it selects.
struct ServiceFacts<'a> {
    resource: &'a Resource,
    spec: &'a Node,
    /// `spec.type`, `ClusterIP` when absent.
    kind: &'a str,
    selector: Vec<(String, String)>,
    selected: Vec<&'a Workload>,
    external_ips: Vec<String>,
}

impl<'a> ServiceFacts<'a> {
    fn of(resource: &'a Resource, by_scope: &BTreeMap<&Scope, Vec<&'a Workload>>) -> Self {
        let spec = resource.object.get("spec").unwrap_or(Node::null());
        let selector: Vec<(String, String)> = {
            let mut entries: Vec<(String, String)> = spec
                .get("selector")
                .map(Node::entries)
                .unwrap_or(&[])
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.to_text()?)))
                .collect();
            entries.sort();
            entries
        };
        let selected = by_scope
            .get(&Scope::of(resource))
            .map(|workloads| {
                workloads
                    .iter()
                    .copied()
                    .filter(|w| w.selected_by(&selector))
                    .collect()
            })
            .unwrap_or_default();
        ServiceFacts {
            resource,
            spec,
            kind: spec.str_at("type").unwrap_or("ClusterIP"),
            selector,
            selected,
            external_ips: texts(spec.get("externalIPs")),
        }
    }

    fn assess(&self, context: Context<'_>, findings: &mut Vec<Finding>) {
        let type_path = FieldPath::root().keys(&["spec", "type"]);
        let ips_path = FieldPath::root().keys(&["spec", "externalIPs"]);
        match self.kind {
            "LoadBalancer" => {
                let mut notes = Vec::new();
                if let Some(ports) = self.node_ports()
                    && self
                        .spec
                        .get("allocateLoadBalancerNodePorts")
                        .and_then(Node::as_bool)
                        != Some(false)
                {
                    notes.push(format!("also open on {ports} of every node"));
                }
                let addresses = self.load_balancer_addresses();
                if !addresses.is_empty() {
                    notes.push(format!("reachable at {}", addresses.join(", ")));
                }
                let internal = self.internal_annotation();
                if let Some((key, value)) = &internal {
                    notes.push(format!("internal load balancer (`{key}: {value}`)"));
                }
                let ranges = self.source_ranges();
                let restricted = !ranges.is_empty() && !ranges.iter().any(|r| is_open_range(r));
                if restricted {
                    notes.push(format!("clients limited to {}", ranges.join(", ")));
                } else if internal.is_none() {
                    notes.push("open to any source address".to_string());
                }
                let severity = (internal.is_some() || restricted).then_some(Severity::Low);
                report(
                    context,
                    self.resource,
                    findings,
                    LOAD_BALANCER,
                    &type_path,
                    self.message(&self.ports_summary(false), &notes),
                    severity,
                );
            }
            "NodePort" => report(
                context,
                self.resource,
                findings,
                NODE_PORT,
                &type_path,
                self.message(&self.ports_summary(true), &[]),
                None,
            ),
            _ => {}
        }
        if !self.external_ips.is_empty() {
            let notes = [format!(
                "kube-proxy captures traffic to {}",
                self.external_ips.join(", ")
            )];
            report(
                context,
                self.resource,
                findings,
                EXTERNAL_IPS,
                &ips_path,
                self.message(&self.ports_summary(false), &notes),
                None,
            );
        }
        let exposed_by_type = matches!(self.kind, "LoadBalancer" | "NodePort");
        if (exposed_by_type || !self.external_ips.is_empty())
            && let Some(dashboard) = self.dashboard()
        {
            let (path, via) = if exposed_by_type {
                (&type_path, String::new())
            } else {
                (
                    &ips_path,
                    format!(" on external IPs {}", self.external_ips.join(", ")),
                )
            };
            report(
                context,
                self.resource,
                findings,
                DASHBOARD_EXPOSED,
                path,
                format!(
                    "{} publishes {}{via}",
                    self.title(&self.ports_summary(false)),
                    dashboard.describe()
                ),
                dashboard.severity(),
            );
        }
    }

    /// `Service shop/frontend (LoadBalancer, port 80)`.
    fn title(&self, ports: &str) -> String {
        format!(
            "Service {} ({}{ports})",
            qualified(&self.resource.reference),
            self.kind
        )
    }

    /// `Service shop/frontend (LoadBalancer, port 80) exposes Deployment shop/frontend; notes`.
    fn message(&self, ports: &str, notes: &[String]) -> String {
        let target = if self.selector.is_empty() {
            "has no selector (its endpoints are managed by hand)".to_string()
        } else if self.selected.is_empty() {
            format!(
                "selects no workload among the inputs (selector {})",
                self.selector
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        } else {
            format!("exposes {}", name_list(&self.selected))
        };
        let mut message = format!("{} {target}", self.title(ports));
        for note in notes {
            message.push_str("; ");
            message.push_str(note);
        }
        message
    }

    /// `, port 80`, `, ports 80, 443`, and with node ports: `, port 3000, node port 30300`.
    fn ports_summary(&self, with_node_ports: bool) -> String {
        let ports = texts_at(self.spec.get("ports"), "port");
        let mut summary = match ports.len() {
            0 => String::new(),
            1 => format!(", port {}", ports.join("")),
            _ => format!(", ports {}", ports.join(", ")),
        };
        if with_node_ports {
            match self.node_ports() {
                Some(node_ports) => {
                    summary.push_str(", ");
                    summary.push_str(&node_ports);
                }
                None => summary.push_str(", node port assigned by the cluster"),
            }
        }
        summary
    }

    /// `node port 30300` / `node ports 30080, 30443`, when the Service names them.
    fn node_ports(&self) -> Option<String> {
        let ports = texts_at(self.spec.get("ports"), "nodePort");
        match ports.len() {
            0 => None,
            1 => Some(format!("node port {}", ports.join(""))),
            _ => Some(format!("node ports {}", ports.join(", "))),
        }
    }

    /// Host names and addresses the provider assigned (live clusters only).
    fn load_balancer_addresses(&self) -> Vec<String> {
        let ingress = self
            .resource
            .object
            .at(&["status", "loadBalancer", "ingress"])
            .map(Node::items)
            .unwrap_or(&[]);
        ingress
            .iter()
            .filter_map(|entry| entry.str_at("hostname").or_else(|| entry.str_at("ip")))
            .map(str::to_string)
            .collect()
    }

    fn internal_annotation(&self) -> Option<(&'static str, String)> {
        INTERNAL_LB_ANNOTATIONS.iter().find_map(|(key, wanted)| {
            let value = self.resource.annotation(key)?.trim();
            let internal = match wanted {
                Some(wanted) => value.eq_ignore_ascii_case(wanted),
                None => !value.eq_ignore_ascii_case("false") && !value.is_empty(),
            };
            internal.then(|| (*key, value.to_string()))
        })
    }

    fn source_ranges(&self) -> Vec<String> {
        let ranges = texts(self.spec.get("loadBalancerSourceRanges"));
        if !ranges.is_empty() {
            return ranges;
        }
        self.resource
            .annotation(SOURCE_RANGES_ANNOTATION)
            .map(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The dashboard this Service leads to, if any: a selected dashboard workload, or a selector
    /// that only the dashboard uses when its workload is not among the inputs.
    fn dashboard(&self) -> Option<DashboardTarget> {
        let workloads: Vec<&Workload> = self
            .selected
            .iter()
            .copied()
            .filter(|w| w.dashboard.is_some())
            .collect();
        if !workloads.is_empty() {
            let any = |f: fn(&LoginSummary) -> bool| {
                workloads
                    .iter()
                    .any(|w| w.dashboard.as_ref().is_some_and(f))
            };
            return Some(DashboardTarget {
                workloads: Some(name_list(&workloads)),
                skip_login: any(|s| s.skip_login),
                insecure_login: any(|s| s.insecure_login),
            });
        }
        let by_selector =
            self.selected.is_empty() && self.selector.iter().any(|(k, v)| is_dashboard_label(k, v));
        by_selector.then_some(DashboardTarget::UNSEEN)
    }
}

/// The dashboard behind a Service, as the exposure finding describes it.
struct DashboardTarget {
    /// `Deployment kubernetes-dashboard/kubernetes-dashboard`; `None` when the dashboard's
    /// workload is not among the inputs and a selector or Service name revealed it.
    workloads: Option<String>,
    skip_login: bool,
    insecure_login: bool,
}

impl DashboardTarget {
    const UNSEEN: DashboardTarget = DashboardTarget {
        workloads: None,
        skip_login: false,
        insecure_login: false,
    };

    fn describe(&self) -> String {
        let mut text = match &self.workloads {
            Some(workloads) => format!("the Kubernetes dashboard ({workloads})"),
            None => "the Kubernetes dashboard".to_string(),
        };
        match (self.skip_login, self.insecure_login) {
            (true, true) => text.push_str(
                ", started with `--enable-skip-login` and `--enable-insecure-login`: anyone who \
                 reaches it can use it without logging in",
            ),
            (true, false) => text.push_str(
                ", started with `--enable-skip-login`: anyone who reaches it can use it without \
                 logging in",
            ),
            (false, true) => text.push_str(
                ", started with `--enable-insecure-login`: tokens may cross the network in clear \
                 text",
            ),
            (false, false) => {}
        }
        text
    }

    fn severity(&self) -> Option<Severity> {
        self.skip_login.then_some(Severity::Critical)
    }
}

/// Dashboard exposure through Ingress routes: each backend whose Service leads to the dashboard.
fn assess_ingress_backends(
    ingress: &Resource,
    services: &BTreeMap<(Scope, &str), ServiceFacts<'_>>,
    context: Context<'_>,
    findings: &mut Vec<Finding>,
) {
    let scope = Scope::of(ingress);
    for backend in ingress_backends(ingress) {
        let dashboard = match services.get(&(scope.clone(), backend.service.as_str())) {
            Some(service) => service.dashboard(),
            // The Service is not among the inputs: only its well-known name can tell.
            None => is_dashboard_label("app.kubernetes.io/name", &backend.service)
                .then_some(DashboardTarget::UNSEEN),
        };
        let Some(dashboard) = dashboard else {
            continue;
        };
        let route = match (&backend.host, &backend.path) {
            (Some(host), Some(path)) => format!("{host}{path}"),
            (Some(host), None) => host.clone(),
            (None, Some(path)) => format!("any host, path {path}"),
            (None, None) => "any host".to_string(),
        };
        report(
            context,
            ingress,
            findings,
            DASHBOARD_EXPOSED,
            &backend.field,
            format!(
                "Ingress {} routes {route} to Service {}, which serves {}",
                qualified(&ingress.reference),
                backend.service,
                dashboard.describe()
            ),
            dashboard.severity(),
        );
    }
}

/// One Ingress backend that points at a Service.
struct Backend {
    field: FieldPath,
    host: Option<String>,
    path: Option<String>,
    service: String,
}

/// Backends of `networking.k8s.io/v1` (`backend.service.name`) and of the older beta APIs
/// (`backend.serviceName`), in the order they are written.
fn ingress_backends(ingress: &Resource) -> Vec<Backend> {
    let service_name = |backend: &Node| {
        backend
            .at(&["service", "name"])
            .or_else(|| backend.get("serviceName"))
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    let mut backends = Vec::new();
    let Some(spec) = ingress.object.get("spec") else {
        return backends;
    };
    for key in ["defaultBackend", "backend"] {
        if let Some(service) = spec.get(key).and_then(service_name) {
            backends.push(Backend {
                field: FieldPath::root().keys(&["spec", key]),
                host: None,
                path: None,
                service,
            });
        }
    }
    let rules = spec.get("rules").map(Node::items).unwrap_or(&[]);
    for (r, rule) in rules.iter().enumerate() {
        let paths = rule.at(&["http", "paths"]).map(Node::items).unwrap_or(&[]);
        for (p, entry) in paths.iter().enumerate() {
            let Some(service) = entry.get("backend").and_then(service_name) else {
                continue;
            };
            backends.push(Backend {
                field: FieldPath::root()
                    .keys(&["spec", "rules"])
                    .index(r)
                    .keys(&["http", "paths"])
                    .index(p)
                    .key("backend"),
                host: rule
                    .str_at("host")
                    .filter(|h| !h.is_empty())
                    .map(str::to_string),
                path: entry.str_at("path").map(str::to_string),
                service,
            });
        }
    }
    backends
}

/// Reports a finding found across objects, at `severity` when the finding's severity depends on
/// what was seen (unless the user's configuration overrides the check's severity, which wins).
fn report(
    context: Context<'_>,
    resource: &Resource,
    findings: &mut Vec<Finding>,
    check_id: &str,
    path: &FieldPath,
    message: String,
    severity: Option<Severity>,
) {
    Emitter::new(context, resource, findings)
        .emit_with_severity(check_id, severity, None, path, message);
}

/// `ns/name`, or `name` for objects without a namespace.
fn qualified(reference: &ResourceRef) -> String {
    match &reference.namespace {
        Some(ns) => format!("{ns}/{}", reference.name),
        None => reference.name.clone(),
    }
}

/// `Deployment a/b`, `Deployment a/b and StatefulSet a/c`, at most a handful then `and N more`.
fn name_list(workloads: &[&Workload]) -> String {
    let mut names: Vec<String> = workloads
        .iter()
        .take(MAX_NAMED_WORKLOADS)
        .map(|w| w.describe())
        .collect();
    if workloads.len() > MAX_NAMED_WORKLOADS {
        names.push(format!("{} more", workloads.len() - MAX_NAMED_WORKLOADS));
    }
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

fn texts(node: Option<&Node>) -> Vec<String> {
    node.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::to_text)
        .collect()
}

/// The text of `key` in each item of a list (`port` of every Service port).
fn texts_at(node: Option<&Node>, key: &str) -> Vec<String> {
    node.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|item| item.get(key)?.to_text())
        .collect()
}

/// Whether a source range admits every address.
fn is_open_range(range: &str) -> bool {
    matches!(range.trim(), "0.0.0.0/0" | "::/0" | "0::0/0")
}

fn sorted(resources: &[Resource]) -> Vec<&Resource> {
    let key = |r: &Resource| {
        (
            r.source.cluster.clone(),
            r.reference.clone(),
            r.source.file.clone(),
            r.source.document,
        )
    };
    let mut list: Vec<&Resource> = resources.iter().collect();
    list.sort_by_cached_key(|r| key(r));
    list.dedup_by(|a, b| key(a) == key(b));
    list
}

/// The parts of a workload a namespace finding needs: identity and source for the evidence, the
/// `metadata.namespace` field it points at, labels for exemptions and the ignore annotations.
fn evidence_stub(resource: &Resource) -> Resource {
    let metadata = resource.metadata();
    let mut entries: Vec<(String, Node)> = ["name", "namespace", "labels"]
        .iter()
        .filter_map(|key| Some((key.to_string(), metadata.get(key)?.clone())))
        .collect();
    if let Some(annotations) = metadata.get("annotations") {
        let kept: Vec<(String, Node)> = [IGNORE_ANNOTATION, IGNORE_REASON_ANNOTATION]
            .iter()
            .filter_map(|key| Some((key.to_string(), annotations.get(key)?.clone())))
            .collect();
        if !kept.is_empty() {
            entries.push((
                "annotations".to_string(),
                Node::new(Value::Map(kept), annotations.mark),
            ));
        }
    }
    let object = Node::new(
        Value::Map(vec![(
            "metadata".to_string(),
            Node::new(Value::Map(entries), metadata.mark),
        )]),
        resource.object.mark,
    );
    Resource {
        reference: resource.reference.clone(),
        object,
        source: resource.source.clone(),
    }
}

#[cfg(test)]
mod tests {
    //! The fixtures are trimmed copies of the demo cluster "shop" in
    //! /work/shared/data/kube/manifests (01-namespaces, 20-shop, 30-payments, 40-monitoring,
    //! 50-dev, 60-kubernetes-dashboard), cut down to the fields these checks read.

    use palisade_core::Severity;

    use super::*;
    use crate::testing::{check_ids, findings, findings_with, hits, resources};
    use crate::{Catalogue, Config, Session};

    const SHOP: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    team: storefront
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/audit: restricted
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
  namespace: shop
spec:
  selector:
    matchLabels:
      app: frontend
  template:
    metadata:
      labels:
        app: frontend
        app.kubernetes.io/part-of: shop
    spec:
      containers:
      - name: nginx
        image: nginxinc/nginx-unprivileged:1.27.3
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: catalog
  namespace: shop
spec:
  template:
    metadata:
      labels:
        app: catalog
    spec:
      containers:
      - name: catalog
        image: ghcr.io/example/catalog:1.4.0
---
apiVersion: v1
kind: Service
metadata:
  name: frontend
  namespace: shop
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: nlb
spec:
  type: LoadBalancer
  selector:
    app: frontend
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: v1
kind: Service
metadata:
  name: catalog
  namespace: shop
spec:
  selector:
    app: catalog
  ports:
  - port: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
spec:
  tls:
  - hosts: ["shop.example.com"]
    secretName: shop-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: frontend
            port:
              number: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop-admin
  namespace: shop
spec:
  ingressClassName: nginx
  rules:
  - host: admin.shop.example.com
    http:
      paths:
      - path: /admin
        pathType: Prefix
        backend:
          service:
            name: catalog
            port:
              number: 8080
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: shop
spec:
  podSelector: {}
  policyTypes: ["Ingress"]
"#;

    const PAYMENTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: payments
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/warn: restricted
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  template:
    metadata:
      labels:
        app: payments-api
    spec:
      containers:
      - name: api
        image: ghcr.io/example/payments-api@sha256:0000000000000000000000000000000000000000000000000000000000000000
---
apiVersion: v1
kind: Service
metadata:
  name: payments-api
  namespace: payments
spec:
  selector:
    app: payments-api
  ports:
  - port: 8443
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
  namespace: payments
spec:
  podSelector: {}
  policyTypes: ["Ingress", "Egress"]
"#;

    const MONITORING: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: monitoring
  labels:
    team: platform
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: grafana
  namespace: monitoring
spec:
  template:
    metadata:
      labels:
        app: grafana
    spec:
      containers:
      - name: grafana
        image: grafana/grafana:11.2.0
---
apiVersion: v1
kind: Service
metadata:
  name: grafana
  namespace: monitoring
spec:
  type: NodePort
  selector:
    app: grafana
  ports:
  - name: http
    port: 3000
    targetPort: http
    nodePort: 30300
"#;

    const DEV: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: dev
  labels:
    team: engineering
    environment: development
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-sandbox
  namespace: dev
spec:
  template:
    metadata:
      labels:
        app: api-sandbox
    spec:
      containers:
      - name: app
        image: python:3.12-slim
---
apiVersion: v1
kind: Pod
metadata:
  name: node-debugger
  namespace: dev
  labels:
    purpose: troubleshooting
spec:
  containers:
  - name: shell
    image: busybox:latest
---
apiVersion: v1
kind: Service
metadata:
  name: api-sandbox
  namespace: dev
spec:
  type: NodePort
  selector:
    app: api-sandbox
  ports:
  - port: 8000
    targetPort: 8000
    nodePort: 30080
"#;

    const DASHBOARD: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: kubernetes-dashboard
  labels:
    app.kubernetes.io/name: kubernetes-dashboard
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kubernetes-dashboard
  namespace: kubernetes-dashboard
  labels:
    k8s-app: kubernetes-dashboard
spec:
  template:
    metadata:
      labels:
        k8s-app: kubernetes-dashboard
    spec:
      containers:
      - name: kubernetes-dashboard
        image: kubernetesui/dashboard:v2.7.0
        args:
        - --auto-generate-certificates
        - --namespace=kubernetes-dashboard
        - --enable-skip-login
        - --enable-insecure-login
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: dashboard-metrics-scraper
  namespace: kubernetes-dashboard
spec:
  template:
    metadata:
      labels:
        k8s-app: dashboard-metrics-scraper
    spec:
      containers:
      - name: dashboard-metrics-scraper
        image: kubernetesui/metrics-scraper:v1.0.8
---
apiVersion: v1
kind: Service
metadata:
  name: kubernetes-dashboard
  namespace: kubernetes-dashboard
spec:
  type: LoadBalancer
  selector:
    k8s-app: kubernetes-dashboard
  ports:
  - port: 443
    targetPort: 8443
---
apiVersion: v1
kind: Service
metadata:
  name: dashboard-metrics-scraper
  namespace: kubernetes-dashboard
spec:
  selector:
    k8s-app: dashboard-metrics-scraper
  ports:
  - port: 8000
"#;

    fn cluster() -> String {
        [SHOP, PAYMENTS, MONITORING, DEV, DASHBOARD].join("---\n")
    }

    /// The findings of one check, as `(resource, severity, path, message)`.
    fn of(yaml: &str, id: &str) -> Vec<(String, Severity, String, String)> {
        findings(yaml)
            .into_iter()
            .filter(|f| f.check.id == id)
            .map(|f| {
                (
                    f.resource.to_string(),
                    f.severity,
                    f.evidence.path,
                    f.message,
                )
            })
            .collect()
    }

    /// Everything that identifies a finding in a report, for comparing whole runs.
    fn summary(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {:?} {} {:?} {}",
                    f.check.id,
                    f.severity,
                    f.resource,
                    f.container,
                    f.evidence.path,
                    f.evidence.line,
                    f.message
                )
            })
            .collect()
    }

    fn run(parts: &[Vec<Resource>]) -> Vec<Finding> {
        let catalogue = Catalogue::builtin();
        let config = Config::default();
        let mut sessions = parts.iter().map(|part| {
            let mut session = Session::new(&catalogue, &config);
            for resource in part {
                session.assess(resource);
            }
            session
        });
        let Some(mut first) = sessions.next() else {
            return Vec::new();
        };
        for session in sessions {
            first.merge(session);
        }
        first.finish().findings
    }

    fn exposure_only(findings: Vec<Finding>) -> Vec<Finding> {
        let ours: BTreeSet<String> = checks().into_iter().map(|c| c.id).collect();
        findings
            .into_iter()
            .filter(|f| ours.contains(&f.check.id))
            .collect()
    }

    #[test]
    fn demo_cluster_findings() {
        let all = exposure_only(findings(&cluster()));
        let mut got: Vec<(String, String, Severity)> = all
            .iter()
            .map(|f| (f.check.id.clone(), f.resource.to_string(), f.severity))
            .collect();
        got.sort();
        let expected = [
            (
                DASHBOARD_EXPOSED,
                "Service/kubernetes-dashboard/kubernetes-dashboard",
                Severity::Critical,
            ),
            (
                DASHBOARD_SKIP_LOGIN,
                "Deployment/kubernetes-dashboard/kubernetes-dashboard",
                Severity::High,
            ),
            (INGRESS_NO_TLS, "Ingress/shop/shop-admin", Severity::Medium),
            (NO_NETWORK_POLICY, "Namespace/dev", Severity::Medium),
            (
                NO_NETWORK_POLICY,
                "Namespace/kubernetes-dashboard",
                Severity::Medium,
            ),
            (NO_NETWORK_POLICY, "Namespace/monitoring", Severity::Medium),
            (NO_PSA_LABELS, "Namespace/dev", Severity::Medium),
            (
                NO_PSA_LABELS,
                "Namespace/kubernetes-dashboard",
                Severity::Medium,
            ),
            (NO_PSA_LABELS, "Namespace/monitoring", Severity::Medium),
            (NO_PSA_LABELS, "Namespace/shop", Severity::Low),
            (
                LOAD_BALANCER,
                "Service/kubernetes-dashboard/kubernetes-dashboard",
                Severity::Medium,
            ),
            (LOAD_BALANCER, "Service/shop/frontend", Severity::Medium),
            (NODE_PORT, "Service/dev/api-sandbox", Severity::Medium),
            (NODE_PORT, "Service/monitoring/grafana", Severity::Medium),
        ];
        let mut expected: Vec<(String, String, Severity)> = expected
            .iter()
            .map(|(id, r, s)| (id.to_string(), r.to_string(), *s))
            .collect();
        expected.sort();
        assert_eq!(got, expected);
    }

    #[test]
    fn load_balancer_names_the_workloads_it_exposes() {
        let found = of(SHOP, LOAD_BALANCER);
        assert_eq!(found.len(), 1);
        let (resource, severity, path, message) = &found[0];
        assert_eq!(resource, "Service/shop/frontend");
        assert_eq!(*severity, Severity::Medium);
        assert_eq!(path, "spec.type");
        assert_eq!(
            message,
            "Service shop/frontend (LoadBalancer, port 80) exposes Deployment shop/frontend; \
             open to any source address"
        );
        let line = findings(SHOP)
            .into_iter()
            .find(|f| f.check.id == LOAD_BALANCER)
            .and_then(|f| f.evidence.line);
        let expected_line = SHOP
            .lines()
            .position(|l| l.trim() == "type: LoadBalancer")
            .map(|i| i as u32 + 1);
        assert_eq!(
            line, expected_line,
            "evidence points at `type: LoadBalancer`"
        );
    }

    #[test]
    fn cluster_ip_services_are_not_exposure() {
        assert!(of(PAYMENTS, LOAD_BALANCER).is_empty());
        assert!(of(PAYMENTS, NODE_PORT).is_empty());
        assert!(of(PAYMENTS, EXTERNAL_IPS).is_empty());
    }

    const RESTRICTED_LB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
---
apiVersion: v1
kind: Service
metadata: {name: ranged, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  loadBalancerSourceRanges: ["203.0.113.0/24"]
  ports: [{port: 443, nodePort: 31443}]
---
apiVersion: v1
kind: Service
metadata:
  name: internal
  namespace: shop
  annotations:
    networking.gke.io/load-balancer-type: Internal
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}, {port: 443}]
---
apiVersion: v1
kind: Service
metadata: {name: wide-open, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  loadBalancerSourceRanges: ["10.0.0.0/8", "0.0.0.0/0"]
  ports: [{port: 80}]
"#;

    #[test]
    fn restricted_or_internal_load_balancers_are_low() {
        let found = of(RESTRICTED_LB, LOAD_BALANCER);
        let by_name = |name: &str| {
            found
                .iter()
                .find(|(r, ..)| r == &format!("Service/shop/{name}"))
                .cloned()
        };
        let (_, severity, _, message) = by_name("ranged").expect("ranged finding");
        assert_eq!(severity, Severity::Low);
        assert_eq!(
            message,
            "Service shop/ranged (LoadBalancer, port 443) exposes Deployment shop/web; also open \
             on node port 31443 of every node; clients limited to 203.0.113.0/24"
        );
        let (_, severity, _, message) = by_name("internal").expect("internal finding");
        assert_eq!(severity, Severity::Low);
        assert!(
            message.contains("(LoadBalancer, ports 80, 443)"),
            "{message}"
        );
        assert!(
            message.contains(
                "internal load balancer (`networking.gke.io/load-balancer-type: Internal`)"
            ),
            "{message}"
        );
        let (_, severity, _, _) = by_name("wide-open").expect("wide-open finding");
        assert_eq!(severity, Severity::Medium, "0.0.0.0/0 restricts nothing");
    }

    #[test]
    fn configured_severity_wins_over_the_adjusted_one() {
        let catalogue = Catalogue::builtin();
        let severity = Node::map(vec![(LOAD_BALANCER.to_string(), Node::string("high"))]);
        let checks = Node::map(vec![("severity".to_string(), severity)]);
        let root = Node::map(vec![("checks".to_string(), checks)]);
        let config = Config::from_node(&root, &catalogue).expect("valid config");
        let severities: Vec<Severity> = findings_with(RESTRICTED_LB, &config)
            .into_iter()
            .filter(|f| f.check.id == LOAD_BALANCER)
            .map(|f| f.severity)
            .collect();
        assert_eq!(severities, vec![Severity::High; 3]);
    }

    #[test]
    fn node_port_names_port_and_workload() {
        let found = of(MONITORING, NODE_PORT);
        assert_eq!(
            found,
            vec![(
                "Service/monitoring/grafana".to_string(),
                Severity::Medium,
                "spec.type".to_string(),
                "Service monitoring/grafana (NodePort, port 3000, node port 30300) exposes \
                 Deployment monitoring/grafana"
                    .to_string()
            )]
        );
    }

    #[test]
    fn only_workloads_in_the_same_namespace_and_matching_every_label_are_named() {
        let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: other}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api-canary, namespace: dev}
spec:
  template:
    metadata: {labels: {app: api, track: canary}}
    spec: {containers: [{name: api, image: api:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: dev}
spec:
  type: NodePort
  selector: {app: api, track: stable}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: manual, namespace: dev}
spec:
  type: NodePort
  ports: [{port: 80, nodePort: 30001}]
"#;
        let messages: Vec<String> = of(yaml, NODE_PORT).into_iter().map(|f| f.3).collect();
        assert_eq!(
            messages,
            vec![
                "Service dev/api (NodePort, port 80, node port assigned by the cluster) selects \
                 no workload among the inputs (selector app=api,track=stable)"
                    .to_string(),
                "Service dev/manual (NodePort, port 80, node port 30001) has no selector (its \
                 endpoints are managed by hand)"
                    .to_string(),
            ]
        );
    }

    #[test]
    fn controlled_replica_sets_and_pods_are_not_listed_again() {
        let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  template:
    metadata: {labels: {app: frontend}}
    spec: {containers: [{name: nginx, image: nginx:1.27}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend-7d9c
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: frontend, controller: true}]
spec:
  template:
    metadata: {labels: {app: frontend, pod-template-hash: 7d9c}}
    spec: {containers: [{name: nginx, image: nginx:1.27}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: frontend-7d9c-x2x
  namespace: shop
  labels: {app: frontend, pod-template-hash: 7d9c}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: frontend-7d9c, controller: true}]
spec: {containers: [{name: nginx, image: nginx:1.27}]}
---
apiVersion: v1
kind: Service
metadata: {name: frontend, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: frontend}
  ports: [{port: 80}]
"#;
        let messages: Vec<String> = of(yaml, LOAD_BALANCER).into_iter().map(|f| f.3).collect();
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].contains("exposes Deployment shop/frontend;"),
            "{}",
            messages[0]
        );
    }

    #[test]
    fn many_selected_workloads_are_summarised() {
        let mut yaml = String::new();
        for i in 0..7 {
            yaml.push_str(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: worker-{i}, namespace: jobs, labels: {{app: worker}}}}\n\
                 spec: {{containers: [{{name: w, image: w:1}}]}}\n---\n"
            ));
        }
        yaml.push_str(
            "apiVersion: v1\nkind: Service\nmetadata: {name: workers, namespace: jobs}\n\
             spec: {type: NodePort, selector: {app: worker}, ports: [{port: 80, nodePort: 30002}]}\n",
        );
        let messages: Vec<String> = of(&yaml, NODE_PORT).into_iter().map(|f| f.3).collect();
        assert_eq!(
            messages,
            vec![
                "Service jobs/workers (NodePort, port 80, node port 30002) exposes Pod \
                 jobs/worker-0, Pod jobs/worker-1, Pod jobs/worker-2, Pod jobs/worker-3, Pod \
                 jobs/worker-4 and 2 more"
                    .to_string()
            ]
        );
    }

    #[test]
    fn external_ips_are_reported() {
        let yaml = r#"
apiVersion: v1
kind: Service
metadata: {name: mitm, namespace: dev}
spec:
  selector: {app: x}
  externalIPs: ["192.0.2.10"]
  ports: [{port: 53}]
"#;
        let found = of(yaml, EXTERNAL_IPS);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].2, "spec.externalIPs");
        assert!(
            found[0]
                .3
                .ends_with("kube-proxy captures traffic to 192.0.2.10"),
            "{}",
            found[0].3
        );
        assert!(of(PAYMENTS, EXTERNAL_IPS).is_empty());
    }

    #[test]
    fn ingress_without_tls_lists_its_hosts() {
        let found = of(SHOP, INGRESS_NO_TLS);
        assert_eq!(
            found,
            vec![(
                "Ingress/shop/shop-admin".to_string(),
                Severity::Medium,
                "spec".to_string(),
                "Ingress has no `spec.tls`: admin.shop.example.com served over plain HTTP"
                    .to_string()
            )]
        );
    }

    #[test]
    fn ingress_tls_coverage_follows_wildcards() {
        let yaml = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: partial, namespace: web}
spec:
  tls:
  - hosts: ["*.example.com"]
    secretName: wildcard
  rules:
  - host: www.example.com
  - host: deep.www.example.com
  - host: example.com
  - http:
      paths: [{path: /, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: covered, namespace: web}
spec:
  tls:
  - hosts: [a.example.org, B.example.org]
  rules:
  - host: a.example.org
  - host: b.example.org
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: default-cert, namespace: web}
spec:
  tls:
  - secretName: default
  rules:
  - host: c.example.org
"#;
        let found = of(yaml, INGRESS_NO_TLS);
        assert_eq!(
            found,
            vec![(
                "Ingress/web/partial".to_string(),
                Severity::Medium,
                "spec.tls".to_string(),
                "no `spec.tls` entry covers deep.www.example.com, example.com, any host (rule \
                 without `host` or default backend): served over plain HTTP"
                    .to_string()
            )]
        );
    }

    #[test]
    fn dashboard_with_skip_login_exposed_by_a_load_balancer_is_critical() {
        let found = of(DASHBOARD, DASHBOARD_EXPOSED);
        assert_eq!(
            found,
            vec![(
                "Service/kubernetes-dashboard/kubernetes-dashboard".to_string(),
                Severity::Critical,
                "spec.type".to_string(),
                "Service kubernetes-dashboard/kubernetes-dashboard (LoadBalancer, port 443) \
                 publishes the Kubernetes dashboard (Deployment \
                 kubernetes-dashboard/kubernetes-dashboard), started with `--enable-skip-login` \
                 and `--enable-insecure-login`: anyone who reaches it can use it without logging \
                 in"
                .to_string()
            )]
        );
    }

    #[test]
    fn dashboard_login_flags_are_reported_on_the_container() {
        let found: Vec<(Option<String>, String)> = findings(DASHBOARD)
            .into_iter()
            .filter(|f| f.check.id == DASHBOARD_SKIP_LOGIN)
            .map(|f| (f.container, f.evidence.path))
            .collect();
        assert_eq!(
            found,
            vec![(
                Some("kubernetes-dashboard".to_string()),
                "spec.template.spec.containers[0].args[2]".to_string()
            )]
        );
        let hardened = DASHBOARD
            .replace("        - --enable-skip-login\n", "")
            .replace("--enable-insecure-login", "--enable-insecure-login=false");
        assert!(hits(&hardened, DASHBOARD_SKIP_LOGIN).is_empty());
        let exposed = of(&hardened, DASHBOARD_EXPOSED);
        assert_eq!(exposed.len(), 1);
        assert_eq!(exposed[0].1, Severity::High, "exposed without skip-login");
    }

    #[test]
    fn login_flags_parse_like_go_flags() {
        let container = |args: &str| {
            let pod = resources(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    args: {args}\n"
            ))
            .pop()
            .expect("one pod");
            let view = PodView::of(&pod).expect("a pod spec");
            let container = view.containers().next().expect("one container");
            LoginFlags::of(&container)
        };
        assert!(container("[--enable-skip-login=true]").skip_login.is_some());
        assert!(
            container("[--enable-skip-login=false]")
                .skip_login
                .is_none()
        );
        assert!(
            container("[--enable-skip-login, --enable-skip-login=false]")
                .skip_login
                .is_none(),
            "the last occurrence wins"
        );
        let wrapped = container("[\"/dashboard --enable-insecure-login\"]");
        assert_eq!(
            wrapped.insecure_login.map(|p| p.to_string()).as_deref(),
            Some("spec.containers[0].args[0]")
        );
        assert!(container("[--enable-skip-login-page]").skip_login.is_none());
    }

    #[test]
    fn dashboard_images_are_recognised() {
        assert!(is_dashboard_image("kubernetesui/dashboard:v2.7.0"));
        assert!(is_dashboard_image(
            "docker.io/kubernetesui/dashboard-web:1.6.0"
        ));
        assert!(is_dashboard_image(
            "k8s.gcr.io/kubernetes-dashboard-amd64:v1.10.1"
        ));
        assert!(is_dashboard_image(
            "registry.local:5000/kubernetesui/dashboard@sha256:abc"
        ));
        assert!(!is_dashboard_image("kubernetesui/metrics-scraper:v1.0.8"));
        assert!(!is_dashboard_image(
            "kubernetesui/dashboard-metrics-scraper:1.2.1"
        ));
        assert!(!is_dashboard_image("grafana/grafana:11.2.0"));
    }

    #[test]
    fn dashboard_reached_through_an_ingress() {
        let yaml = format!(
            "{DASHBOARD}---\n{}",
            r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: dashboard, namespace: kubernetes-dashboard}
spec:
  tls: [{hosts: [dash.example.com], secretName: dash}]
  rules:
  - host: dash.example.com
    http:
      paths:
      - path: /
        backend: {service: {name: kubernetes-dashboard, port: {number: 443}}}
      - path: /metrics
        backend: {service: {name: dashboard-metrics-scraper, port: {number: 8000}}}
"#
        )
        .replace("type: LoadBalancer", "type: ClusterIP");
        let found = of(&yaml, DASHBOARD_EXPOSED);
        assert_eq!(found.len(), 1, "{found:?}");
        let (resource, severity, path, message) = &found[0];
        assert_eq!(resource, "Ingress/kubernetes-dashboard/dashboard");
        assert_eq!(*severity, Severity::Critical);
        assert_eq!(path, "spec.rules[0].http.paths[0].backend");
        assert!(
            message.starts_with(
                "Ingress kubernetes-dashboard/dashboard routes dash.example.com/ to Service \
                 kubernetes-dashboard, which serves the Kubernetes dashboard (Deployment"
            ),
            "{message}"
        );
        // Reachable only inside the cluster: no exposure finding.
        let internal = DASHBOARD.replace("type: LoadBalancer", "type: ClusterIP");
        assert!(of(&internal, DASHBOARD_EXPOSED).is_empty());
    }

    #[test]
    fn dashboard_service_is_recognised_without_its_workload() {
        let yaml = r#"
apiVersion: v1
kind: Service
metadata: {name: kubernetes-dashboard, namespace: kubernetes-dashboard}
spec:
  type: NodePort
  selector: {k8s-app: kubernetes-dashboard}
  ports: [{port: 443, nodePort: 30443}]
"#;
        let found = of(yaml, DASHBOARD_EXPOSED);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, Severity::High);
        assert!(
            found[0].3.ends_with("publishes the Kubernetes dashboard"),
            "{}",
            found[0].3
        );
    }

    #[test]
    fn namespace_without_network_policy_is_reported_on_the_namespace() {
        let found = of(&cluster(), NO_NETWORK_POLICY);
        let monitoring = found
            .iter()
            .find(|f| f.0 == "Namespace/monitoring")
            .expect("monitoring has no policy");
        assert_eq!(monitoring.2, "metadata.name");
        assert_eq!(
            monitoring.3,
            "namespace `monitoring` runs workloads (e.g. Deployment monitoring/grafana) but has no \
             NetworkPolicy: all traffic to and from its pods is allowed"
        );
        assert!(
            !found
                .iter()
                .any(|f| f.0.contains("shop") || f.0.contains("payments"))
        );
    }

    #[test]
    fn namespace_without_object_is_reported_on_its_first_workload() {
        // Plain manifests: no Namespace object, workloads in a different order than their refs.
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: node-debugger, namespace: dev}
spec: {containers: [{name: shell, image: busybox:1.36}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug-tools, namespace: dev}
spec:
  template:
    metadata: {labels: {app: debug-tools}}
    spec: {containers: [{name: netshoot, image: nicolaka/netshoot:v0.13}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api-sandbox, namespace: dev}
spec:
  template:
    metadata: {labels: {app: api-sandbox}}
    spec: {containers: [{name: app, image: python:3.12-slim}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-proxy, namespace: kube-system}
spec:
  template:
    metadata: {labels: {k8s-app: kube-proxy}}
    spec: {containers: [{name: kube-proxy, image: registry.k8s.io/kube-proxy:v1.36.2}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: no-namespace}
spec:
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: x, image: x:1}]}
"#;
        let found = findings(yaml)
            .into_iter()
            .filter(|f| f.check.id == NO_NETWORK_POLICY)
            .collect::<Vec<_>>();
        assert_eq!(
            found.len(),
            1,
            "kube-system and namespace-less objects are skipped"
        );
        let finding = &found[0];
        assert_eq!(finding.resource.to_string(), "Deployment/dev/api-sandbox");
        assert_eq!(finding.evidence.path, "metadata.namespace");
        let line = yaml
            .lines()
            .position(|l| l.contains("name: api-sandbox, namespace: dev"))
            .map(|i| i as u32 + 1);
        assert_eq!(finding.evidence.line, line);
    }

    #[test]
    fn any_network_policy_kind_counts() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: calico}
spec: {containers: [{name: a, image: a:1}]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: deny, namespace: calico}
spec: {selector: all()}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: cilium}
spec: {containers: [{name: b, image: b:1}]}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny, namespace: cilium}
spec: {endpointSelector: {}}
"#;
        assert!(hits(yaml, NO_NETWORK_POLICY).is_empty());
    }

    #[test]
    fn namespace_pod_security_labels() {
        let found = of(&cluster(), NO_PSA_LABELS);
        let dev = found.iter().find(|f| f.0 == "Namespace/dev").expect("dev");
        assert_eq!(dev.1, Severity::Medium);
        assert_eq!(dev.2, "metadata.labels");
        let shop = found
            .iter()
            .find(|f| f.0 == "Namespace/shop")
            .expect("shop");
        assert_eq!(shop.1, Severity::Low);
        assert_eq!(
            shop.3,
            "namespace `shop` sets only warn=restricted, audit=restricted and no \
             `pod-security.kubernetes.io/enforce` label: violating pods are reported but still \
             admitted"
        );
        assert!(!found.iter().any(|f| f.0 == "Namespace/payments"));
        assert!(of(&cluster(), PSA_PRIVILEGED).is_empty());
    }

    #[test]
    fn explicit_privileged_level_is_reported_except_in_system_namespaces() {
        let yaml = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: agents
  labels: {pod-security.kubernetes.io/enforce: privileged}
---
apiVersion: v1
kind: Namespace
metadata:
  name: kube-system
  labels: {pod-security.kubernetes.io/enforce: privileged}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-public}
---
apiVersion: v1
kind: Namespace
metadata: {name: bare}
"#;
        let privileged = of(yaml, PSA_PRIVILEGED);
        assert_eq!(
            privileged,
            vec![(
                "Namespace/agents".to_string(),
                Severity::Low,
                r#"metadata.labels["pod-security.kubernetes.io/enforce"]"#.to_string(),
                "namespace `agents` enforces the `privileged` level: every pod is admitted"
                    .to_string()
            )]
        );
        let missing = of(yaml, NO_PSA_LABELS);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, "Namespace/bare");
        assert_eq!(
            missing[0].2, "metadata",
            "no labels at all: the parent field"
        );
        assert_eq!(
            check_ids("apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-node-lease}\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn ignore_annotation_on_the_anchor_workload_suppresses() {
        let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: lab
  annotations:
    palisade.dev/ignore: namespace-without-network-policy
    palisade.dev/ignore-reason: lab namespace, isolated at the VPC level
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api:1}]}
"#;
        let found: Vec<Finding> = findings(yaml)
            .into_iter()
            .filter(|f| f.check.id == NO_NETWORK_POLICY)
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].suppressed.as_ref().map(|s| s.reason.as_str()),
            Some("lab namespace, isolated at the VPC level")
        );
    }

    #[test]
    fn split_sessions_merge_to_the_same_findings() {
        let all = resources(&cluster());
        let single = summary(&run(std::slice::from_ref(&all)));
        assert!(!single.is_empty());
        // Services land in one session, their workloads and namespaces in the other.
        let (services, rest): (Vec<Resource>, Vec<Resource>) = all
            .iter()
            .cloned()
            .partition(|r| r.kind() == "Service" || r.kind() == "Ingress");
        assert_eq!(summary(&run(&[services.clone(), rest.clone()])), single);
        assert_eq!(summary(&run(&[rest, services])), single);
        // Interleaved and reversed.
        let mut reversed = all.clone();
        reversed.reverse();
        let odd: Vec<Resource> = reversed.iter().step_by(2).cloned().collect();
        let even: Vec<Resource> = reversed.iter().skip(1).step_by(2).cloned().collect();
        assert_eq!(summary(&run(&[odd, even])), single);
    }

    #[test]
    fn workloads_of_another_cluster_are_not_exposed() {
        let mut objects = resources(MONITORING);
        for resource in &mut objects {
            let cluster = if resource.kind() == "Service" {
                "a"
            } else {
                "b"
            };
            resource.source.cluster = Some(Arc::from(cluster));
        }
        let messages: Vec<String> = run(&[objects])
            .into_iter()
            .filter(|f| f.check.id == NODE_PORT)
            .map(|f| f.message)
            .collect();
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].contains("selects no workload"),
            "{}",
            messages[0]
        );
    }

    #[test]
    fn trimmed_copies_drop_bulky_metadata() {
        let yaml = r#"
apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: n
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"big": "copy"}'
    keep: me
  managedFields: [{manager: kubectl}]
spec: {type: ClusterIP}
"#;
        let resource = resources(yaml).pop().expect("one object");
        let copy = crate::checks::compact_copy(&resource);
        assert!(copy.metadata().get("managedFields").is_none());
        assert_eq!(copy.annotation("keep"), Some("me"));
        assert_eq!(
            copy.annotation("kubectl.kubernetes.io/last-applied-configuration"),
            None
        );
    }
}
