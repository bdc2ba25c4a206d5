//! Role-based access control: wildcard rules, dangerous bindings, and who can do what that leads to
//! cluster compromise.
//!
//! Rules are matched the way the API server's RBAC authorizer matches them
//! (`pkg/apis/rbac/v1/evaluation_helpers.go`): `*` in verbs, apiGroups and resources matches
//! everything, subresources included; `*/exec` matches the `exec` subresource of every resource;
//! `pods/*` is *not* a pattern (it only matches a subresource literally named `*`, which does not
//! exist); an empty `resourceNames` means every object, and a non-empty one can never match a
//! `create` or `deletecollection` of a whole collection (the request carries no name then).
//!
//! Who counts as a Kubernetes component (and is therefore not reported): users and groups named
//! `system:…` (`system:masters`, `system:nodes`, `system:kube-scheduler`, …) except the three
//! catch-all identities `system:anonymous`, `system:unauthenticated` and `system:authenticated`,
//! and except service accounts. Service accounts (`kind: ServiceAccount`,
//! `system:serviceaccount:<ns>:<name>` users and `system:serviceaccounts[:<ns>]` groups) are
//! components only in `kube-system` *and* only when the binding or the role it grants is a
//! `system:` one (kubeadm's `system:coredns`, EKS's `eks:kube-proxy` → `system:node-proxier`):
//! a `kube-system` service account bound to `cluster-admin` or to a custom role is exactly what an
//! attacker plants for persistence, so it is reported. Bindings Kubernetes itself maintains
//! (`kubernetes.io/bootstrapping: rbac-defaults`) are never reported.

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::{Category, Check, FieldPath, Finding, Frameworks, Node, Resource, Severity};

use crate::emit::{Context, Emitter};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const BOOTSTRAP_LABEL: &str = "kubernetes.io/bootstrapping";
const BOOTSTRAP_VALUE: &str = "rbac-defaults";
const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";
const SERVICE_ACCOUNT_GROUP: &str = "system:serviceaccounts";
const COMPONENT_NAMESPACE: &str = "kube-system";
const NSA_AUTHZ: &str = "Authentication and authorization";

const WILDCARD_VERBS: &str = "rbac-wildcard-verbs";
const WILDCARD_RESOURCES: &str = "rbac-wildcard-resources";
const CLUSTER_ADMIN_BINDING: &str = "rbac-cluster-admin-binding";
const ANONYMOUS_BINDING: &str = "rbac-anonymous-binding";
const AUTHENTICATED_BINDING: &str = "rbac-authenticated-binding";
const READ_SECRETS: &str = "rbac-read-secrets";
const CREATE_PODS: &str = "rbac-create-pods";
const POD_EXEC: &str = "rbac-pod-exec";
const ESCALATE_BIND: &str = "rbac-escalate-bind";
const IMPERSONATE: &str = "rbac-impersonate";
const NODES_PROXY: &str = "rbac-nodes-proxy";
const CREATE_TOKEN: &str = "rbac-create-token";
const APPROVE_CSR: &str = "rbac-approve-csr";
const WEBHOOK_CONFIG: &str = "rbac-webhook-config";
const CREATE_PERSISTENT_VOLUMES: &str = "rbac-create-persistent-volumes";

pub(crate) fn checks() -> Vec<Check> {
    vec![
        check(
            WILDCARD_VERBS,
            "Role grants every verb (`*`)",
            Severity::High,
            "A rule with `verbs: [\"*\"]` grants every current and future verb on its resources, \
             including `escalate`, `bind`, `impersonate` and `deletecollection`, which are rarely \
             intended. Whoever is bound to the role can do far more than the job needs, and the \
             grant silently widens as the API grows.",
            "List the verbs actually needed in `rules[].verbs`, for example \
             `verbs: [\"get\", \"list\", \"watch\"]` for read access; keep `\"*\"` to the built-in \
             `cluster-admin` role.",
            Map {
                cis: &["5.1.3"],
                ..Map::default()
            },
        ),
        check(
            WILDCARD_RESOURCES,
            "Role grants access to every resource (`*`)",
            Severity::High,
            "`resources: [\"*\"]` covers every resource and subresource of the listed API groups \
             (Secrets, `pods/exec`, `serviceaccounts/token`, `nodes/proxy`) and every custom \
             resource installed later; with `apiGroups: [\"*\"]` it spans the whole API. \
             `nonResourceURLs: [\"*\"]` likewise opens every non-resource endpoint of the API \
             server, debugging endpoints included.",
            "Name the resources and their groups: `apiGroups: [\"apps\"]`, \
             `resources: [\"deployments\", \"deployments/scale\"]`; replace \
             `nonResourceURLs: [\"*\"]` with the exact paths (for example `/metrics`).",
            Map {
                cis: &["5.1.3"],
                ..Map::default()
            },
        ),
        check(
            CLUSTER_ADMIN_BINDING,
            "Binding grants cluster-admin or an equivalent role",
            Severity::Critical,
            "`cluster-admin`, and any role granting every verb on every resource, is unrestricted \
             control: the holder reads every Secret, runs privileged pods on any node and grants \
             itself anything. Through a RoleBinding it is full control of the namespace, its \
             Secrets and service account tokens included. A CI system or service account holding \
             it turns one leaked token into a cluster takeover.",
            "Bind a role with only the permissions needed (a deployment pipeline needs a \
             namespaced Role on `deployments`, `services` and `configmaps`) and delete the \
             binding (`kubectl delete clusterrolebinding <name>`); keep cluster-admin for \
             break-glass identities.",
            Map {
                cis: &["5.1.1"],
                mitre: &["T1078.003", "T1098.006"],
                microsoft: &["MS-TA9019: Cluster-admin binding"],
            },
        ),
        check(
            ANONYMOUS_BINDING,
            "Role bound to anonymous requests",
            Severity::Critical,
            "The user `system:anonymous` and the group `system:unauthenticated` are every request \
             that carries no credentials. Whatever is bound to them can be done by anyone who \
             reaches the API server, with no credential to revoke and nothing in the audit log to \
             attribute it to.",
            "Remove `system:anonymous` and `system:unauthenticated` from `subjects` (or delete the \
             binding). Health checks need nothing beyond the built-in \
             `system:public-info-viewer`; consider `--anonymous-auth=false` on kube-apiserver.",
            Map {
                mitre: &["T1078.001"],
                ..Map::default()
            },
        ),
        check(
            AUTHENTICATED_BINDING,
            "Role bound to every authenticated identity",
            Severity::High,
            "The group `system:authenticated` holds every identity the API server accepts: every \
             user, node and pod service account token (on some managed clusters it has included \
             any account of the cloud provider). `system:serviceaccounts` holds every pod's \
             service account. Whatever is bound to them is available to an attacker after any \
             compromise, however small.",
            "Bind the role to the groups or service accounts that need it instead, for example \
             `subjects: [{kind: Group, name: platform-viewers}]`.",
            Map {
                mitre: &["T1078"],
                ..Map::default()
            },
        ),
        check(
            READ_SECRETS,
            "Subject can read Secrets",
            Severity::Critical,
            "`get`, `list` or `watch` on Secrets returns their values; `list` and `watch` return \
             every Secret of the namespace at once, not only the names. Secrets hold database \
             passwords, API keys, TLS keys and service account tokens, so reading them, \
             cluster-wide or in a namespace holding a powerful account's token, leads straight to \
             other identities.",
            "Remove `secrets` from the role's rules, or limit the rule to the Secrets the subject \
             needs with `resourceNames` and `verbs: [\"get\"]`; give workloads their Secrets as \
             volumes or environment variables instead of API access.",
            Map {
                cis: &["5.1.2"],
                mitre: &["T1552.007"],
                microsoft: &["MS-TA9025: List Kubernetes secrets"],
            },
        ),
        check(
            CREATE_PODS,
            "Subject can create pods or workload controllers",
            Severity::Critical,
            "Creating a pod, directly or through a Deployment, DaemonSet, StatefulSet, ReplicaSet, \
             Job, CronJob or ReplicationController, runs any image as any service account of the \
             namespace and, unless Pod Security Admission enforces `baseline` there, as a \
             privileged pod mounting the node's root filesystem. Cluster-wide that includes \
             `kube-system` and every node.",
            "Grant `create` on pods and workload controllers only to deployment pipelines, scoped \
             to their namespaces, and enforce Pod Security Admission on every namespace where pods \
             can be created (`pod-security.kubernetes.io/enforce: restricted`).",
            Map {
                cis: &["5.1.4"],
                mitre: &["T1610", "T1611"],
                microsoft: &["MS-TA9008: New container"],
            },
        ),
        check(
            POD_EXEC,
            "Subject can exec into or attach to containers",
            Severity::Critical,
            "`create` or `get` on `pods/exec` or `pods/attach` runs commands in running \
             containers (`kubectl exec` uses `create` over SPDY and `get` over WebSocket, its \
             default since kubectl 1.30). The holder gets the container's files, environment, \
             mounted Secrets and service account token; in a privileged or host-namespace pod, \
             such as the node agents in `kube-system`, that is the node.",
            "Remove `pods/exec` and `pods/attach` from the role; grant them temporarily, in the \
             namespace being debugged, when someone needs them.",
            Map {
                mitre: &["T1609"],
                microsoft: &["MS-TA9006: Exec into container"],
                ..Map::default()
            },
        ),
        check(
            ESCALATE_BIND,
            "Subject can escalate or bind roles",
            Severity::Critical,
            "The API server refuses to let anyone create or update a role, or bind one, granting \
             more than they already hold, unless they have `escalate` (write roles beyond their \
             own rights) or `bind` (bind roles they do not hold). Either verb on `roles` or \
             `clusterroles` turns a limited identity into any role, up to cluster-admin.",
            "Remove `escalate` and `bind` from the rule; if a controller must bind a specific \
             role, restrict `bind` with `resourceNames: [\"<role>\"]`.",
            Map {
                cis: &["5.1.8"],
                mitre: &["T1098.006"],
                microsoft: &["MS-TA9019: Cluster-admin binding"],
            },
        ),
        check(
            IMPERSONATE,
            "Subject can impersonate other identities",
            Severity::Critical,
            "`impersonate` on `users`, `groups` or `serviceaccounts` lets the holder send requests \
             as any of them (`kubectl --as=admin --as-group=system:masters`): impersonating the \
             `system:masters` group is cluster-admin, and impersonating a service account gains \
             its rights. Granted in a namespace, it covers that namespace's service accounts.",
            "Remove the `impersonate` verb; where a proxy must impersonate, limit the rule with \
             `resourceNames` to the exact users, groups or service accounts.",
            Map {
                cis: &["5.1.8"],
                mitre: &["T1078"],
                ..Map::default()
            },
        ),
        check(
            NODES_PROXY,
            "Subject can reach the kubelet API through nodes/proxy",
            Severity::Critical,
            "`nodes/proxy` forwards requests through the API server to the kubelet with the API \
             server's own credentials: the holder lists the node's pods and runs commands in any \
             of its containers (`/exec`, `/run`), and `get` alone suffices over WebSocket. The \
             API server's audit log shows only the proxied request, not what ran.",
            "Remove `nodes/proxy` from the role; monitoring agents need only `get` on \
             `nodes/metrics` and `nodes/stats`.",
            Map {
                cis: &["5.1.10"],
                mitre: &["T1609"],
                ..Map::default()
            },
        ),
        check(
            CREATE_TOKEN,
            "Subject can mint service account tokens",
            Severity::Critical,
            "`create` on `serviceaccounts/token` (the TokenRequest API behind \
             `kubectl create token`) issues a token for a service account of the namespace \
             without touching any pod. The holder gains every right of every service account it \
             can name, including controllers and CI accounts bound to powerful roles; the \
             built-in `edit` and `admin` roles include it.",
            "Remove `serviceaccounts/token` from the role (bind a narrower custom role instead of \
             `edit` or `admin`), or limit it with `resourceNames` to service accounts holding no \
             more than the subject already has.",
            Map {
                cis: &["5.1.13"],
                mitre: &["T1528"],
                ..Map::default()
            },
        ),
        check(
            APPROVE_CSR,
            "Subject can approve certificate signing requests",
            Severity::Critical,
            "With `update` on `certificatesigningrequests/approval` and `approve` on a signer, the \
             holder approves its own CertificateSigningRequests; for the \
             `kubernetes.io/kube-apiserver-client` signer that is a client certificate for any \
             user and group, `system:masters` included, which RBAC cannot revoke.",
            "Leave CSR approval to kube-controller-manager: remove \
             `certificatesigningrequests/approval` and `approve` on `signers` from custom roles, \
             or limit `approve` with `resourceNames` to a signer that issues no API client \
             certificates.",
            Map {
                cis: &["5.1.11"],
                mitre: &["T1649"],
                ..Map::default()
            },
        ),
        check(
            WEBHOOK_CONFIG,
            "Subject can change admission webhooks",
            Severity::High,
            "Validating and mutating webhook configurations decide what the API server admits. \
             Whoever can create or change them can switch policy enforcement off (delete a \
             validating webhook or set `failurePolicy: Ignore`) or register a mutating webhook \
             that injects containers into every pod and receives every object sent to it.",
            "Limit `create`, `update`, `patch` and `delete` on `validatingwebhookconfigurations` \
             and `mutatingwebhookconfigurations` to the admission controller's installer; a \
             controller that only rotates its CA bundle needs `update` with `resourceNames`.",
            Map {
                cis: &["5.1.12"],
                mitre: &["T1546", "T1562.001"],
                microsoft: &["MS-TA9015: Malicious admission controller"],
            },
        ),
        check(
            CREATE_PERSISTENT_VOLUMES,
            "Subject can create PersistentVolumes",
            Severity::High,
            "A PersistentVolume can point at any `hostPath` of a node; whoever creates one and a \
             claim bound to it mounts the node's filesystem into a pod, which Pod Security \
             Admission does not prevent because it restricts `hostPath` only in pod specs.",
            "Provision volumes through StorageClasses and remove `create` on `persistentvolumes` \
             from the roles of users and workloads.",
            Map {
                cis: &["5.1.9"],
                mitre: &["T1611"],
                ..Map::default()
            },
        ),
    ]
}

/// Framework references of one check (the NSA section is the same for all of them).
#[derive(Default)]
struct Map {
    cis: &'static [&'static str],
    mitre: &'static [&'static str],
    microsoft: &'static [&'static str],
}

fn check(
    id: &str,
    title: &str,
    severity: Severity,
    description: &str,
    remediation: &str,
    map: Map,
) -> Check {
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    Check {
        id: id.to_string(),
        title: title.to_string(),
        severity,
        category: Category::Rbac,
        description: description.to_string(),
        remediation: remediation.to_string(),
        frameworks: Frameworks {
            pss: Vec::new(),
            cis: owned(map.cis),
            nsa: vec![NSA_AUTHZ.to_string()],
            mitre: owned(map.mitre),
            microsoft: owned(map.microsoft),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Per-object checks: wildcards in Roles and ClusterRoles.
// ---------------------------------------------------------------------------------------------

pub(crate) fn assess(resource: &Resource, emit: &mut Emitter<'_>) {
    if !is_rbac(resource)
        || !matches!(resource.kind(), "Role" | "ClusterRole")
        || is_kubernetes_maintained(resource)
    {
        return;
    }
    // Aggregated ClusterRoles get their rules from the aggregation controller; whatever rules the
    // object carries (filled in on a live cluster, usually empty in a manifest) are assessed as is,
    // and the roles it aggregates are assessed on their own.
    for (index, node) in rules_of(resource).iter().enumerate() {
        let rule = Rule::from_node(node);
        let path = FieldPath::root().key("rules").index(index);
        if !rule.resources.is_empty() {
            if let Some(at) = position(node, "verbs", "*") {
                emit.emit(
                    WILDCARD_VERBS,
                    None,
                    &path.key("verbs").index(at),
                    format!(
                        "rules[{index}] grants every verb (`*`) on {}",
                        rule.describe_target()
                    ),
                );
            }
            if let Some(at) = position(node, "resources", "*") {
                emit.emit(
                    WILDCARD_RESOURCES,
                    None,
                    &path.key("resources").index(at),
                    format!(
                        "rules[{index}] grants {} on {}",
                        rule.describe_verbs(),
                        rule.describe_target()
                    ),
                );
            }
        }
        if let Some(at) = position(node, "nonResourceURLs", "*") {
            emit.emit(
                WILDCARD_RESOURCES,
                None,
                &path.key("nonResourceURLs").index(at),
                format!(
                    "rules[{index}] grants {} on every non-resource URL (`nonResourceURLs: [\"*\"]`)",
                    rule.describe_verbs()
                ),
            );
        }
    }
}

/// Index of the first item of the string list `key` equal to `value`.
fn position(node: &Node, key: &str, value: &str) -> Option<usize> {
    node.get(key)?
        .items()
        .iter()
        .position(|item| item.as_str() == Some(value))
}

// ---------------------------------------------------------------------------------------------
// Policy rules and how the authorizer matches them.
// ---------------------------------------------------------------------------------------------

/// One policy rule, borrowed from an object or from the built-in role table.
#[derive(Debug, Clone)]
struct Rule<'a> {
    verbs: Vec<&'a str>,
    api_groups: Vec<&'a str>,
    resources: Vec<&'a str>,
    resource_names: Vec<&'a str>,
}

impl<'a> Rule<'a> {
    fn from_node(node: &'a Node) -> Rule<'a> {
        Rule {
            verbs: strings(node, "verbs"),
            api_groups: strings(node, "apiGroups"),
            resources: strings(node, "resources"),
            resource_names: strings(node, "resourceNames"),
        }
    }

    fn from_static(rule: &StaticRule) -> Rule<'static> {
        Rule {
            verbs: rule.verbs.to_vec(),
            api_groups: rule.groups.to_vec(),
            resources: rule.resources.to_vec(),
            resource_names: Vec::new(),
        }
    }

    /// Whether the rule covers `verb` on `group`/`resource`[/`subresource`], ignoring
    /// `resourceNames` (the caller decides what a name-limited grant is worth).
    fn covers(&self, verb: &str, group: &str, resource: &str, subresource: &str) -> bool {
        let verb_ok = self.verbs.iter().any(|v| *v == "*" || *v == verb);
        let group_ok = self.api_groups.iter().any(|g| *g == "*" || *g == group);
        verb_ok && group_ok && self.covers_resource(resource, subresource)
    }

    fn covers_resource(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            if *r == "*" {
                return true;
            }
            let exact = if subresource.is_empty() {
                *r == resource
            } else {
                r.strip_prefix(resource)
                    .and_then(|rest| rest.strip_prefix('/'))
                    == Some(subresource)
            };
            // `*/<subresource>`: that subresource of every resource.
            exact || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
        })
    }

    /// Every verb on every resource of every group, for every object: cluster-admin's rule.
    fn is_everything(&self) -> bool {
        self.resource_names.is_empty()
            && self.verbs.contains(&"*")
            && self.api_groups.contains(&"*")
            && self.resources.contains(&"*")
    }

    fn describe_verbs(&self) -> String {
        if self.verbs.contains(&"*") {
            "every verb".to_string()
        } else {
            format!("`{}`", self.verbs.join(", "))
        }
    }

    /// "every resource in every API group", "`secrets`, `configmaps` in the core API group", …
    fn describe_target(&self) -> String {
        let resources = if self.resources.contains(&"*") {
            "every resource".to_string()
        } else {
            quoted_list(&self.resources)
        };
        let groups = if self.api_groups.contains(&"*") {
            "every API group".to_string()
        } else if self.api_groups.is_empty() {
            "no API group".to_string()
        } else {
            let names: Vec<&str> = self
                .api_groups
                .iter()
                .map(|g| if g.is_empty() { "core" } else { g })
                .collect();
            let noun = if names.len() == 1 {
                "API group"
            } else {
                "API groups"
            };
            format!("the {} {noun}", quoted_list(&names))
        };
        let mut text = format!("{resources} in {groups}");
        if !self.resource_names.is_empty() {
            text.push_str(&format!(
                " (limited to objects named {})",
                quoted_list(&self.resource_names)
            ));
        }
        text
    }
}

fn strings<'a>(node: &'a Node, key: &str) -> Vec<&'a str> {
    node.get(key)
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rules_of(resource: &Resource) -> &[Node] {
    resource.object.get("rules").map(Node::items).unwrap_or(&[])
}

// ---------------------------------------------------------------------------------------------
// Built-in roles, for bindings to roles that are not among the scanned objects (manifest scans).
// Rules as served by kube-apiserver v1.36 (testdata/cluster-roles.yaml of the bootstrap policy).
// ---------------------------------------------------------------------------------------------

struct StaticRule {
    groups: &'static [&'static str],
    resources: &'static [&'static str],
    verbs: &'static [&'static str],
}

const fn rule(
    groups: &'static [&'static str],
    resources: &'static [&'static str],
    verbs: &'static [&'static str],
) -> StaticRule {
    StaticRule {
        groups,
        resources,
        verbs,
    }
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const CLUSTER_ADMIN_RULES: &[StaticRule] = &[rule(&["*"], &["*"], &["*"])];

const AGGREGATE_TO_ADMIN: &[StaticRule] = &[
    rule(
        &["authorization.k8s.io"],
        &["localsubjectaccessreviews"],
        &["create"],
    ),
    rule(&[RBAC_GROUP], &["rolebindings", "roles"], READ_WRITE),
];

const AGGREGATE_TO_EDIT: &[StaticRule] = &[
    rule(
        &[""],
        &[
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
            "secrets",
            "services/proxy",
        ],
        READ,
    ),
    rule(&[""], &["serviceaccounts"], &["impersonate"]),
    rule(
        &[""],
        &[
            "pods",
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
        ],
        WRITE,
    ),
    rule(&[""], &["pods/eviction"], &["create"]),
    rule(
        &[""],
        &[
            "configmaps",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        WRITE,
    ),
    rule(&[""], &["serviceaccounts/token"], &["create"]),
    rule(&["", "events.k8s.io"], &["events"], WRITE),
    rule(
        &["apps"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        WRITE,
    ),
    rule(&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
    rule(&["batch"], &["cronjobs", "jobs"], WRITE),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "ingresses",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicationcontrollers/scale",
        ],
        WRITE,
    ),
    rule(&["policy"], &["poddisruptionbudgets"], WRITE),
    rule(
        &["networking.k8s.io"],
        &["ingresses", "networkpolicies"],
        WRITE,
    ),
    rule(&["coordination.k8s.io"], &["leases"], READ_WRITE),
    rule(
        &["resource.k8s.io"],
        &["resourceclaims", "resourceclaimtemplates"],
        WRITE,
    ),
];

const AGGREGATE_TO_VIEW: &[StaticRule] = &[
    rule(
        &[""],
        &[
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        READ,
    ),
    rule(
        &[""],
        &[
            "bindings",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        READ,
    ),
    rule(&[""], &["namespaces"], READ),
    rule(&["", "events.k8s.io"], &["events"], READ),
    rule(&["discovery.k8s.io"], &["endpointslices"], READ),
    rule(
        &["apps"],
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        READ,
    ),
    rule(
        &["autoscaling"],
        &[
            "horizontalpodautoscalers",
            "horizontalpodautoscalers/status",
        ],
        READ,
    ),
    rule(
        &["batch"],
        &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
        READ,
    ),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "ingresses",
            "ingresses/status",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "replicationcontrollers/scale",
        ],
        READ,
    ),
    rule(
        &["policy"],
        &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        READ,
    ),
    rule(
        &["networking.k8s.io"],
        &["ingresses", "ingresses/status", "networkpolicies"],
        READ,
    ),
    rule(
        &["resource.k8s.io"],
        &[
            "resourceclaims",
            "resourceclaims/status",
            "resourceclaimtemplates",
        ],
        READ,
    ),
];

const TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// A user-facing ClusterRole every cluster has, with the rules it ends up with.
struct BuiltinRole {
    name: &'static str,
    /// `admin` aggregates `edit`, which aggregates `view`: each includes the ones below it.
    rules: &'static [&'static [StaticRule]],
    /// Labels that aggregate further ClusterRoles into it (directly or through the roles below).
    aggregates: &'static [&'static str],
}

const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "cluster-admin",
        rules: &[CLUSTER_ADMIN_RULES],
        aggregates: &[],
    },
    BuiltinRole {
        name: "admin",
        rules: &[AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW],
        aggregates: &[TO_ADMIN, TO_EDIT, TO_VIEW],
    },
    BuiltinRole {
        name: "edit",
        rules: &[AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW],
        aggregates: &[TO_EDIT, TO_VIEW],
    },
    BuiltinRole {
        name: "view",
        rules: &[AGGREGATE_TO_VIEW],
        aggregates: &[TO_VIEW],
    },
];

fn builtin_role(name: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|role| role.name == name)
}

// ---------------------------------------------------------------------------------------------
// Capabilities: what a grant lets its holder do, as authorization requests to probe.
// ---------------------------------------------------------------------------------------------

/// Whether a request is about a namespaced object (grantable by a RoleBinding) or a
/// cluster-scoped one (only a ClusterRoleBinding grants it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Namespaced,
    Cluster,
}

/// Authorization requests that exercise a capability.
struct Probe {
    verbs: &'static [&'static str],
    group: &'static str,
    resource: &'static str,
    subresource: &'static str,
    scope: Scope,
}

const fn probe(
    verbs: &'static [&'static str],
    group: &'static str,
    resource: &'static str,
    subresource: &'static str,
    scope: Scope,
) -> Probe {
    Probe {
        verbs,
        group,
        resource,
        subresource,
        scope,
    }
}

/// How a namespaced grant can reach the rights of a more powerful service account of the same
/// namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takeover {
    None,
    /// Any service account of the namespace can be used (token minting, impersonation, a pod
    /// running as it); names in `resourceNames` are service account names.
    ServiceAccounts,
    /// Only through legacy token Secrets stored in the namespace.
    TokenSecrets,
}

struct Capability {
    check: &'static str,
    /// Completes "… can {action} …".
    action: &'static str,
    /// Every requirement must be met by at least one of its probes (CSR approval needs both the
    /// approval subresource and a signer).
    requirements: &'static [&'static [Probe]],
    /// Severity when granted cluster-wide; a namespaced grant is one level lower.
    cluster_wide: Severity,
    /// Whether a grant limited by `resourceNames` is still reported (reading a few named Secrets
    /// is the least-privilege form the read-secrets check recommends, for instance).
    report_named: bool,
    takeover: Takeover,
}

const CAPABILITIES: &[Capability] = &[
    Capability {
        check: READ_SECRETS,
        action: "read Secrets",
        requirements: &[&[probe(READ, "", "secrets", "", Scope::Namespaced)]],
        cluster_wide: Severity::Critical,
        report_named: false,
        takeover: Takeover::TokenSecrets,
    },
    Capability {
        check: CREATE_PODS,
        action: "create pods or workload controllers",
        requirements: &[&[
            probe(&["create"], "", "pods", "", Scope::Namespaced),
            probe(&["create"], "apps", "deployments", "", Scope::Namespaced),
            probe(&["create"], "apps", "daemonsets", "", Scope::Namespaced),
            probe(&["create"], "apps", "statefulsets", "", Scope::Namespaced),
            probe(&["create"], "apps", "replicasets", "", Scope::Namespaced),
            probe(&["create"], "batch", "jobs", "", Scope::Namespaced),
            probe(&["create"], "batch", "cronjobs", "", Scope::Namespaced),
            probe(
                &["create"],
                "",
                "replicationcontrollers",
                "",
                Scope::Namespaced,
            ),
        ]],
        cluster_wide: Severity::Critical,
        report_named: false,
        takeover: Takeover::ServiceAccounts,
    },
    Capability {
        check: POD_EXEC,
        action: "run commands in containers",
        requirements: &[&[
            probe(&["create", "get"], "", "pods", "exec", Scope::Namespaced),
            probe(&["create", "get"], "", "pods", "attach", Scope::Namespaced),
        ]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: ESCALATE_BIND,
        action: "grant itself roles it does not hold",
        requirements: &[&[
            probe(
                &["escalate", "bind"],
                RBAC_GROUP,
                "roles",
                "",
                Scope::Namespaced,
            ),
            // Binding a ClusterRole in a RoleBinding is authorized in the binding's namespace.
            probe(&["bind"], RBAC_GROUP, "clusterroles", "", Scope::Namespaced),
            probe(
                &["escalate"],
                RBAC_GROUP,
                "clusterroles",
                "",
                Scope::Cluster,
            ),
        ]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: IMPERSONATE,
        action: "impersonate other identities",
        requirements: &[&[
            probe(&["impersonate"], "", "users", "", Scope::Cluster),
            probe(&["impersonate"], "", "groups", "", Scope::Cluster),
            probe(
                &["impersonate"],
                "",
                "serviceaccounts",
                "",
                Scope::Namespaced,
            ),
        ]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::ServiceAccounts,
    },
    Capability {
        check: NODES_PROXY,
        action: "call the kubelet API of nodes",
        requirements: &[&[probe(
            &["get", "create"],
            "",
            "nodes",
            "proxy",
            Scope::Cluster,
        )]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: CREATE_TOKEN,
        action: "mint service account tokens",
        requirements: &[&[probe(
            &["create"],
            "",
            "serviceaccounts",
            "token",
            Scope::Namespaced,
        )]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::ServiceAccounts,
    },
    Capability {
        check: APPROVE_CSR,
        action: "approve certificate signing requests",
        requirements: &[
            &[probe(
                &["update", "patch"],
                "certificates.k8s.io",
                "certificatesigningrequests",
                "approval",
                Scope::Cluster,
            )],
            &[probe(
                &["approve"],
                "certificates.k8s.io",
                "signers",
                "",
                Scope::Cluster,
            )],
        ],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: WEBHOOK_CONFIG,
        action: "change admission webhooks",
        requirements: &[&[
            probe(
                &["create", "update", "patch", "delete", "deletecollection"],
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
                "",
                Scope::Cluster,
            ),
            probe(
                &["create", "update", "patch", "delete", "deletecollection"],
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
                "",
                Scope::Cluster,
            ),
        ]],
        cluster_wide: Severity::High,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: CREATE_PERSISTENT_VOLUMES,
        action: "create PersistentVolumes",
        requirements: &[&[probe(
            &["create"],
            "",
            "persistentvolumes",
            "",
            Scope::Cluster,
        )]],
        cluster_wide: Severity::High,
        report_named: false,
        takeover: Takeover::None,
    },
];

/// What a set of rules grants of one capability.
#[derive(Debug)]
struct Grant<'a> {
    /// `None`: every object; otherwise only the objects with these names.
    names: Option<BTreeSet<&'a str>>,
    /// `("pods/exec", ["create", "get"])`, in probe order, for the message.
    details: Vec<(String, Vec<&'static str>)>,
}

impl Grant<'_> {
    /// "`pods`, `jobs.batch` (create), `pods/exec` (create, get)": resources sharing the same
    /// verbs are listed together.
    fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut run: Vec<&str> = Vec::new();
        for (i, (resource, verbs)) in self.details.iter().enumerate() {
            run.push(resource);
            let next_same = self.details.get(i + 1).is_some_and(|(_, v)| v == verbs);
            if !next_same {
                parts.push(format!("{} ({})", quoted_list(&run), verbs.join(", ")));
                run.clear();
            }
        }
        parts.join(", ")
    }
}

/// What `rules` grant of `capability`, counting only requests a binding of this reach can
/// authorize.
fn evaluate<'a>(
    capability: &Capability,
    rules: &[Rule<'a>],
    cluster_wide: bool,
) -> Option<Grant<'a>> {
    let mut details: Vec<(String, Vec<&'static str>)> = Vec::new();
    let mut limited_to: Option<BTreeSet<&'a str>> = None;
    for requirement in capability.requirements {
        let mut full = false;
        let mut named = BTreeSet::new();
        for probe in requirement.iter() {
            if probe.scope == Scope::Cluster && !cluster_wide {
                continue;
            }
            for verb in probe.verbs {
                let Some(access) = access(rules, verb, probe) else {
                    continue;
                };
                match access {
                    Access::All => full = true,
                    Access::Named(names) => named.extend(names),
                }
                let shown = display_resource(probe);
                match details.iter_mut().find(|(r, _)| *r == shown) {
                    Some((_, verbs)) => {
                        if !verbs.contains(verb) {
                            verbs.push(verb)
                        }
                    }
                    None => details.push((shown, vec![verb])),
                }
            }
        }
        if !full {
            if named.is_empty() {
                return None;
            }
            limited_to.get_or_insert_with(BTreeSet::new).extend(named);
        }
    }
    Some(Grant {
        names: limited_to,
        details,
    })
}

enum Access<'a> {
    All,
    Named(Vec<&'a str>),
}

/// Whether `rules` authorize `verb` as described by `probe`, and for which objects.
fn access<'a>(rules: &[Rule<'a>], verb: &str, probe: &Probe) -> Option<Access<'a>> {
    // A create of a new object (or a deletecollection) carries no object name, so a rule limited
    // by resourceNames never matches it; a create on a subresource names its parent object.
    let names_apply =
        !(probe.subresource.is_empty() && matches!(verb, "create" | "deletecollection"));
    let mut named = Vec::new();
    for rule in rules {
        if !rule.covers(verb, probe.group, probe.resource, probe.subresource) {
            continue;
        }
        if rule.resource_names.is_empty() {
            return Some(Access::All);
        }
        if names_apply {
            named.extend(rule.resource_names.iter().copied());
        }
    }
    (!named.is_empty()).then_some(Access::Named(named))
}

/// `pods/exec`, `deployments.apps`, `certificatesigningrequests.certificates.k8s.io/approval`.
fn display_resource(probe: &Probe) -> String {
    let mut text = probe.resource.to_string();
    if !probe.group.is_empty() {
        text.push('.');
        text.push_str(probe.group);
    }
    if !probe.subresource.is_empty() {
        text.push('/');
        text.push_str(probe.subresource);
    }
    text
}

fn one_level_lower(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster facts: roles, bindings and service-account token Secrets.
// ---------------------------------------------------------------------------------------------

/// The RBAC objects seen so far (small objects, kept whole so findings can point into them), and
/// where legacy service account tokens are stored.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    roles: Vec<Resource>,
    bindings: Vec<Resource>,
    token_secrets: Vec<TokenSecret>,
}

/// A `kubernetes.io/service-account-token` Secret: whoever reads it holds the account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TokenSecret {
    cluster: Option<String>,
    namespace: String,
    secret: String,
    service_account: String,
}

impl Facts {
    pub(crate) fn collect(&mut self, resource: &Resource) {
        if is_rbac(resource) {
            match resource.kind() {
                "Role" | "ClusterRole" => self.roles.push(compact(resource)),
                "RoleBinding" | "ClusterRoleBinding" => self.bindings.push(compact(resource)),
                _ => {}
            }
        } else if resource.kind() == "Secret"
            && resource.reference.api_version == "v1"
            && resource.object.str_at("type") == Some("kubernetes.io/service-account-token")
        {
            let account = resource.annotation("kubernetes.io/service-account.name");
            if let (Some(namespace), Some(account)) = (resource.namespace(), account) {
                self.token_secrets.push(TokenSecret {
                    cluster: resource.source.cluster.as_deref().map(str::to_string),
                    namespace: namespace.to_string(),
                    secret: resource.name().to_string(),
                    service_account: account.to_string(),
                });
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Facts) {
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
        self.token_secrets.extend(other.token_secrets);
    }

    pub(crate) fn assess(&self, context: Context<'_>, findings: &mut Vec<Finding>) {
        // Sorted so that what is reported, and how it is worded, does not depend on the order
        // objects arrived in or on how threads split them.
        let roles = sorted(&self.roles);
        let bindings = sorted(&self.bindings);
        let index = RoleIndex::new(&roles);
        let resolved: Vec<Option<ResolvedRole>> =
            bindings.iter().map(|b| index.resolve(b)).collect();
        let powers = Powers::find(&bindings, &resolved);
        let mut token_secrets = self.token_secrets.clone();
        token_secrets.sort();
        let assessor = Assessor {
            context,
            powers: &powers,
            token_secrets: &token_secrets,
        };
        for (binding, role) in bindings.iter().zip(&resolved) {
            assessor.binding(binding, role.as_ref(), findings);
        }
    }
}

/// A copy of an RBAC object without the bulky fields no check reads (managed fields and the
/// client-side apply copy of the object).
fn compact(resource: &Resource) -> Resource {
    let mut copy = resource.clone();
    if let Some(metadata) = copy.object.get_mut("metadata") {
        metadata.remove("managedFields");
        if let Some(annotations) = metadata.get_mut("annotations") {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    copy
}

fn sorted(list: &[Resource]) -> Vec<&Resource> {
    let mut refs: Vec<&Resource> = list.iter().collect();
    refs.sort_by(|a, b| {
        a.reference
            .cmp(&b.reference)
            .then_with(|| a.source.cluster.cmp(&b.source.cluster))
            .then_with(|| a.source.file.cmp(&b.source.file))
            .then_with(|| a.source.document.cmp(&b.source.document))
            // Two versions of the same object from the same place: fall back to their content.
            .then_with(|| {
                let text = |r: &Resource| serde_json::to_string(&r.object).unwrap_or_default();
                text(a).cmp(&text(b))
            })
    });
    refs
}

fn is_rbac(resource: &Resource) -> bool {
    resource.reference.group() == RBAC_GROUP
}

fn has_bootstrap_label(resource: &Resource) -> bool {
    resource.label(BOOTSTRAP_LABEL) == Some(BOOTSTRAP_VALUE)
}

/// Roles Kubernetes creates and reconciles itself: labelled as bootstrap policy, or using the
/// reserved `system:` prefix.
fn is_kubernetes_maintained(resource: &Resource) -> bool {
    has_bootstrap_label(resource) || resource.name().starts_with("system:")
}

fn cluster_of(resource: &Resource) -> Option<&str> {
    resource.source.cluster.as_deref()
}

// ---------------------------------------------------------------------------------------------
// Resolving what a binding grants.
// ---------------------------------------------------------------------------------------------

type ClusterKey<'a> = (Option<&'a str>, &'a str);
type NamespacedKey<'a> = (Option<&'a str>, Option<&'a str>, &'a str);

struct RoleIndex<'a> {
    /// ClusterRoles by (cluster, name); several when the same object was read more than once.
    cluster_roles: BTreeMap<ClusterKey<'a>, Vec<&'a Resource>>,
    /// Roles by (cluster, namespace, name).
    roles: BTreeMap<NamespacedKey<'a>, Vec<&'a Resource>>,
}

/// The role a binding refers to, with every rule it grants.
#[derive(Debug)]
struct ResolvedRole<'a> {
    kind: &'a str,
    name: &'a str,
    rules: Vec<Rule<'a>>,
    /// The role is not among the scanned objects: its rules are Kubernetes' built-in ones.
    builtin: bool,
    /// Found among the scanned objects.
    in_inventory: bool,
    /// Carries the bootstrap label.
    bootstrap_label: bool,
}

impl ResolvedRole<'_> {
    fn describe(&self) -> String {
        let mut text = format!("{} `{}`", self.kind, self.name);
        if self.builtin {
            text.push_str(" (not among the scanned objects: built-in rules of Kubernetes 1.36)");
        }
        text
    }

    fn grants_everything(&self) -> bool {
        self.rules.iter().any(Rule::is_everything)
    }

    /// One of the roles Kubernetes itself grants to broad groups (`system:basic-user`,
    /// `system:discovery`, `system:public-info-viewer`, …).
    fn is_system_default(&self) -> bool {
        self.name.starts_with("system:") && (self.bootstrap_label || !self.in_inventory)
    }
}

impl<'a> RoleIndex<'a> {
    fn new(roles: &[&'a Resource]) -> RoleIndex<'a> {
        let mut index = RoleIndex {
            cluster_roles: BTreeMap::new(),
            roles: BTreeMap::new(),
        };
        for &role in roles {
            let cluster = cluster_of(role);
            match role.kind() {
                "ClusterRole" => index
                    .cluster_roles
                    .entry((cluster, role.name()))
                    .or_default()
                    .push(role),
                "Role" => index
                    .roles
                    .entry((cluster, role.namespace(), role.name()))
                    .or_default()
                    .push(role),
                _ => {}
            }
        }
        index
    }

    fn resolve(&self, binding: &'a Resource) -> Option<ResolvedRole<'a>> {
        let role_ref = binding.object.get("roleRef")?;
        let kind = role_ref.str_at("kind")?;
        let name = role_ref.str_at("name")?;
        let cluster = cluster_of(binding);
        match kind {
            // The API server rejects a ClusterRoleBinding to a Role: it grants nothing.
            "Role" if binding.kind() == "RoleBinding" => {
                let found = self.roles.get(&(cluster, binding.namespace(), name))?;
                Some(ResolvedRole {
                    kind,
                    name,
                    rules: found
                        .iter()
                        .flat_map(|r| rules_of(r).iter().map(Rule::from_node))
                        .collect(),
                    builtin: false,
                    in_inventory: true,
                    bootstrap_label: found.iter().any(|r| has_bootstrap_label(r)),
                })
            }
            "ClusterRole" => {
                let inventory = self.cluster_roles.get(&(cluster, name));
                let (rules, builtin) = self.cluster_role_rules(cluster, name)?;
                Some(ResolvedRole {
                    kind,
                    name,
                    rules,
                    builtin,
                    in_inventory: inventory.is_some(),
                    bootstrap_label: inventory
                        .is_some_and(|list| list.iter().any(|r| has_bootstrap_label(r))),
                })
            }
            _ => None,
        }
    }

    /// The rules of ClusterRole `name` including the ClusterRoles it aggregates, as the
    /// aggregation controller would fill them in; `None` when the role is unknown. The flag says
    /// whether built-in rules were used.
    fn cluster_role_rules(
        &self,
        cluster: Option<&'a str>,
        name: &'a str,
    ) -> Option<(Vec<Rule<'a>>, bool)> {
        let mut rules = Vec::new();
        let mut used_builtin = false;
        let mut visited = BTreeSet::new();
        // A work list rather than recursion: aggregation chains come from input and may be long
        // or cyclic.
        let mut pending = vec![name];
        while let Some(current) = pending.pop() {
            if !visited.insert(current) {
                continue;
            }
            let inventory = self.cluster_roles.get(&(cluster, current));
            let mut own_rules = 0;
            let mut selected = Vec::new();
            if let Some(list) = inventory {
                for role in list {
                    let before = rules.len();
                    rules.extend(rules_of(role).iter().map(Rule::from_node));
                    own_rules += rules.len() - before;
                    let selectors = role
                        .object
                        .at(&["aggregationRule", "clusterRoleSelectors"])
                        .map(Node::items)
                        .unwrap_or(&[]);
                    if !selectors.is_empty() {
                        selected.extend(self.cluster_roles_where(cluster, |labels| {
                            selectors.iter().any(|s| selector_matches(s, labels))
                        }));
                    }
                }
            }
            // Built-in knowledge fills in a role that is missing, or one present but not yet
            // aggregated (a manifest dump of the bootstrap roles carries `rules: null`).
            let unfilled = inventory
                .is_some_and(|list| list.iter().any(|r| has_bootstrap_label(r)))
                && own_rules == 0
                && selected.is_empty();
            let builtin = builtin_role(current).filter(|_| inventory.is_none() || unfilled);
            if let Some(builtin) = builtin {
                used_builtin = true;
                for group in builtin.rules {
                    rules.extend(group.iter().map(|r| -> Rule<'a> { Rule::from_static(r) }));
                }
                selected.extend(self.cluster_roles_where(cluster, |labels| {
                    builtin
                        .aggregates
                        .iter()
                        .any(|label| labels.str_at(label) == Some("true"))
                }));
            }
            if current == name && inventory.is_none() && builtin.is_none() {
                return None;
            }
            pending.extend(selected.into_iter().filter(|n| *n != current));
        }
        Some((rules, used_builtin))
    }

    /// Names of the ClusterRoles of `cluster` whose labels satisfy `accept`.
    fn cluster_roles_where(
        &self,
        cluster: Option<&'a str>,
        accept: impl Fn(&Node) -> bool,
    ) -> Vec<&'a str> {
        self.cluster_roles
            .iter()
            .filter(|((c, _), _)| *c == cluster)
            .filter(|(_, list)| {
                list.iter().any(|role| {
                    let labels = role.metadata().get("labels").unwrap_or(Node::null());
                    accept(labels)
                })
            })
            .map(|((_, name), _)| *name)
            .collect()
    }
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`) against a labels map. An
/// empty selector matches everything, as in the aggregation controller; anything malformed
/// matches nothing.
fn selector_matches(selector: &Node, labels: &Node) -> bool {
    if !selector.is_map() {
        return false;
    }
    let label = |key: &str| labels.get(key).and_then(Node::to_text);
    let match_labels = selector
        .get("matchLabels")
        .map(Node::entries)
        .unwrap_or(&[]);
    for (key, value) in match_labels {
        if value.to_text().is_none() || label(key) != value.to_text() {
            return false;
        }
    }
    let expressions = selector
        .get("matchExpressions")
        .map(Node::items)
        .unwrap_or(&[]);
    expressions.iter().all(|expression| {
        let Some(key) = expression.str_at("key") else {
            return false;
        };
        let values: Vec<String> = expression
            .get("values")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::to_text)
            .collect();
        let actual = label(key);
        match expression.str_at("operator") {
            Some("In") => actual.is_some_and(|v| values.contains(&v)),
            Some("NotIn") => actual.is_none_or(|v| !values.contains(&v)),
            Some("Exists") => actual.is_some(),
            Some("DoesNotExist") => actual.is_none(),
            _ => false,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Subjects.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

#[derive(Debug, Clone, Copy)]
struct Subject<'a> {
    /// Position in `subjects`, for the finding's path.
    index: usize,
    kind: SubjectKind,
    name: &'a str,
    /// The service account's namespace (defaulted to the binding's for a RoleBinding).
    namespace: Option<&'a str>,
}

/// Who a subject stands for, as far as the checks are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// A Kubernetes component: not reported.
    Component,
    /// `system:anonymous` or `system:unauthenticated`.
    Anonymous,
    /// `system:authenticated` or `system:serviceaccounts`.
    Everyone,
    /// A person, team, service account or anything else.
    Principal,
}

fn subjects_of(binding: &Resource) -> Vec<Subject<'_>> {
    let items = binding
        .object
        .get("subjects")
        .map(Node::items)
        .unwrap_or(&[]);
    items
        .iter()
        .enumerate()
        .filter_map(|(index, node)| {
            let kind = match node.str_at("kind")? {
                "User" => SubjectKind::User,
                "Group" => SubjectKind::Group,
                "ServiceAccount" => SubjectKind::ServiceAccount,
                _ => return None,
            };
            let namespace = node
                .str_at("namespace")
                .filter(|ns| !ns.is_empty())
                .or_else(|| (kind == SubjectKind::ServiceAccount).then(|| binding.namespace())?);
            Some(Subject {
                index,
                kind,
                name: node.str_at("name")?,
                namespace,
            })
        })
        .collect()
}

impl<'a> Subject<'a> {
    /// `(namespace, name)` when the subject is one service account, in either spelling.
    fn service_account(&self) -> Option<(&'a str, &'a str)> {
        match self.kind {
            SubjectKind::ServiceAccount => Some((self.namespace?, self.name)),
            SubjectKind::User => self
                .name
                .strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)?
                .split_once(':'),
            SubjectKind::Group => None,
        }
    }

    /// The namespace whose service accounts this subject stands for, if it is a service account
    /// or a namespace's service-account group.
    fn service_account_namespace(&self) -> Option<&'a str> {
        match self.kind {
            SubjectKind::Group => self
                .name
                .strip_prefix(SERVICE_ACCOUNT_GROUP)?
                .strip_prefix(':'),
            _ => self.service_account().map(|(ns, _)| ns),
        }
    }

    fn audience(&self, binding: &str, role: &str) -> Audience {
        match (self.kind, self.name) {
            (SubjectKind::User, "system:anonymous")
            | (SubjectKind::Group, "system:unauthenticated") => return Audience::Anonymous,
            (SubjectKind::Group, "system:authenticated" | SERVICE_ACCOUNT_GROUP) => {
                return Audience::Everyone;
            }
            _ => {}
        }
        if let Some(namespace) = self.service_account_namespace() {
            let component_grant = binding.starts_with("system:") || role.starts_with("system:");
            return if namespace == COMPONENT_NAMESPACE && component_grant {
                Audience::Component
            } else {
                Audience::Principal
            };
        }
        if self.kind != SubjectKind::ServiceAccount && self.name.starts_with("system:") {
            Audience::Component
        } else {
            Audience::Principal
        }
    }

    fn describe(&self) -> String {
        match self.kind {
            SubjectKind::ServiceAccount => match self.namespace {
                Some(ns) => format!("ServiceAccount `{ns}/{}`", self.name),
                None => format!("ServiceAccount `{}`", self.name),
            },
            SubjectKind::User => {
                let note = match self.name {
                    "system:anonymous" => " (every request without credentials)",
                    _ => "",
                };
                format!("User `{}`{note}", self.name)
            }
            SubjectKind::Group => {
                let note = match self.name {
                    "system:unauthenticated" => " (every request without credentials)".to_string(),
                    "system:authenticated" => " (every authenticated identity)".to_string(),
                    SERVICE_ACCOUNT_GROUP => " (every service account of the cluster)".to_string(),
                    _ => match self.service_account_namespace() {
                        Some(ns) => format!(" (every service account of namespace `{ns}`)"),
                        None => String::new(),
                    },
                };
                format!("Group `{}`{note}", self.name)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Powerful service accounts: what a namespaced grant can reach by acting as one of them.
// ---------------------------------------------------------------------------------------------

/// Why a service account is powerful, for the message.
#[derive(Debug, Clone)]
struct Power {
    what: String,
    binding: String,
    /// Lower is stronger; the strongest reason is kept.
    rank: usize,
}

/// Service accounts that hold cluster-wide power, by (cluster, namespace, account).
#[derive(Debug, Default)]
struct Powers<'a> {
    by_account: BTreeMap<(Option<&'a str>, &'a str, &'a str), Power>,
}

impl<'a> Powers<'a> {
    /// Looks at every ClusterRoleBinding, those Kubernetes maintains included: whoever can act as
    /// a controller's service account holds that controller's rights.
    fn find(bindings: &[&'a Resource], roles: &[Option<ResolvedRole<'a>>]) -> Powers<'a> {
        let mut powers = Powers::default();
        for (binding, role) in bindings.iter().zip(roles) {
            let Some(role) = role else { continue };
            if binding.kind() != "ClusterRoleBinding" {
                continue;
            }
            let strongest = if role.grants_everything() {
                let what = if role.name == "cluster-admin" {
                    "holds cluster-admin".to_string()
                } else {
                    format!("holds every permission through {}", role.describe_short())
                };
                Some((0, what))
            } else {
                CAPABILITIES
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.cluster_wide == Severity::Critical)
                    .find(|(_, c)| {
                        evaluate(c, &role.rules, true).is_some_and(|g| g.names.is_none())
                    })
                    .map(|(i, c)| (i + 1, format!("can {} cluster-wide", c.action)))
            };
            let Some((rank, what)) = strongest else {
                continue;
            };
            for subject in subjects_of(binding) {
                let Some((namespace, account)) = subject.service_account() else {
                    continue;
                };
                let key = (cluster_of(binding), namespace, account);
                let candidate = Power {
                    what: what.clone(),
                    binding: binding.name().to_string(),
                    rank,
                };
                match powers.by_account.get(&key) {
                    Some(known) if known.rank <= rank => {}
                    _ => {
                        powers.by_account.insert(key, candidate);
                    }
                }
            }
        }
        powers
    }

    /// The powerful service accounts of a namespace, strongest first.
    fn in_namespace(&self, cluster: Option<&str>, namespace: &str) -> Vec<(&'a str, &Power)> {
        let mut found: Vec<(&'a str, &Power)> = self
            .by_account
            .iter()
            .filter(|((c, ns, _), _)| *c == cluster && *ns == namespace)
            .map(|((_, _, account), power)| (*account, power))
            .collect();
        found.sort_by(|a, b| a.1.rank.cmp(&b.1.rank).then(a.0.cmp(b.0)));
        found
    }

    fn get(&self, cluster: Option<&str>, namespace: &str, account: &str) -> Option<&Power> {
        self.by_account
            .iter()
            .find(|((c, ns, a), _)| *c == cluster && *ns == namespace && *a == account)
            .map(|(_, power)| power)
    }
}

impl ResolvedRole<'_> {
    fn describe_short(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }
}

// ---------------------------------------------------------------------------------------------
// Assessing bindings.
// ---------------------------------------------------------------------------------------------

struct Assessor<'c, 'p> {
    context: Context<'c>,
    powers: &'p Powers<'p>,
    token_secrets: &'p [TokenSecret],
}

impl Assessor<'_, '_> {
    fn binding(
        &self,
        binding: &Resource,
        role: Option<&ResolvedRole>,
        findings: &mut Vec<Finding>,
    ) {
        if has_bootstrap_label(binding) {
            return;
        }
        let cluster_wide = match binding.kind() {
            "ClusterRoleBinding" => true,
            "RoleBinding" => false,
            _ => return,
        };
        let Some(role_ref) = binding.object.get("roleRef") else {
            return;
        };
        let role_kind = role_ref.str_at("kind").unwrap_or("ClusterRole");
        let role_name = role_ref.str_at("name").unwrap_or("");
        let role_text = match role {
            Some(role) => role.describe(),
            None => format!("{role_kind} `{role_name}`"),
        };
        let scope = match (cluster_wide, binding.namespace()) {
            (true, _) => "cluster-wide".to_string(),
            (false, Some(ns)) => format!("in namespace `{ns}`"),
            (false, None) => "in the namespace the binding is applied to".to_string(),
        };
        let scaled = |severity: Severity| {
            if cluster_wide {
                severity
            } else {
                one_level_lower(severity)
            }
        };
        for subject in subjects_of(binding) {
            let audience = subject.audience(binding.name(), role_name);
            if audience == Audience::Component {
                continue;
            }
            let who = subject.describe();
            let public_info = role.is_none_or(|r| r.is_system_default())
                && role_name == "system:public-info-viewer";
            if audience == Audience::Anonymous && !public_info {
                self.report(
                    binding,
                    findings,
                    ANONYMOUS_BINDING,
                    subject.index,
                    format!("binds {role_text} to {who} {scope}"),
                    Severity::Critical,
                );
            }
            let system_default = match role {
                Some(role) => role.is_system_default(),
                None => role_name.starts_with("system:"),
            };
            if audience == Audience::Everyone && !system_default {
                self.report(
                    binding,
                    findings,
                    AUTHENTICATED_BINDING,
                    subject.index,
                    format!("binds {role_text} to {who} {scope}"),
                    scaled(Severity::High),
                );
            }
            let Some(role) = role else { continue };
            if role.grants_everything() {
                let what = if role.name == "cluster-admin" {
                    String::new()
                } else {
                    ", which grants every verb on every resource like cluster-admin".to_string()
                };
                let reach = if cluster_wide {
                    ""
                } else {
                    " (full control of the namespace, its Secrets and service accounts included)"
                };
                self.report(
                    binding,
                    findings,
                    CLUSTER_ADMIN_BINDING,
                    subject.index,
                    format!(
                        "binds {}{what} to {who} {scope}{reach}",
                        role.describe_short()
                    ),
                    scaled(Severity::Critical),
                );
                // Everything below would only restate that the role grants everything.
                continue;
            }
            for capability in CAPABILITIES {
                let Some(grant) = evaluate(capability, &role.rules, cluster_wide) else {
                    continue;
                };
                if grant.names.is_some() && !capability.report_named {
                    continue;
                }
                let mut severity = scaled(capability.cluster_wide);
                let mut message = format!(
                    "{who} can {} {scope} via {role_text}: {}",
                    capability.action,
                    grant.describe()
                );
                if let Some(names) = &grant.names {
                    severity = one_level_lower(severity);
                    message.push_str(&format!(
                        " (only objects named {})",
                        quoted_list(&names.iter().collect::<Vec<_>>())
                    ));
                }
                if !cluster_wide
                    && let Some(path) = self.takeover(capability, binding, &subject, &grant)
                {
                    severity = Severity::Critical;
                    message.push_str(&path);
                }
                self.report(
                    binding,
                    findings,
                    capability.check,
                    subject.index,
                    message,
                    severity,
                );
            }
        }
    }

    /// How a grant in the binding's namespace reaches a more powerful service account there.
    fn takeover(
        &self,
        capability: &Capability,
        binding: &Resource,
        subject: &Subject,
        grant: &Grant,
    ) -> Option<String> {
        let namespace = binding.namespace()?;
        let cluster = cluster_of(binding);
        let itself = |account: &str| subject.service_account() == Some((namespace, account));
        match capability.takeover {
            Takeover::None => None,
            Takeover::ServiceAccounts => {
                let (account, power) = self
                    .powers
                    .in_namespace(cluster, namespace)
                    .into_iter()
                    .filter(|(account, _)| !itself(account))
                    .find(|(account, _)| grant.names.as_ref().is_none_or(|n| n.contains(account)))?;
                Some(format!(
                    "; ServiceAccount `{namespace}/{account}` there {} (ClusterRoleBinding `{}`), so this reaches the same power",
                    power.what, power.binding
                ))
            }
            Takeover::TokenSecrets => self
                .token_secrets
                .iter()
                .filter(|s| s.cluster.as_deref() == cluster && s.namespace == namespace)
                .filter(|s| !itself(&s.service_account))
                .filter_map(|s| {
                    let power = self.powers.get(cluster, namespace, &s.service_account)?;
                    Some((power.rank, s, power))
                })
                .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
                .map(|(_, secret, power)| {
                    format!(
                        "; Secret `{}` there holds a token of ServiceAccount `{namespace}/{}`, which {} (ClusterRoleBinding `{}`)",
                        secret.secret, secret.service_account, power.what, power.binding
                    )
                }),
        }
    }

    /// Emits a finding on subject `subject` of `binding` with a severity that depends on the
    /// binding's reach, unless the user set the check's severity in the configuration.
    fn report(
        &self,
        binding: &Resource,
        findings: &mut Vec<Finding>,
        check: &str,
        subject: usize,
        message: String,
        severity: Severity,
    ) {
        let before = findings.len();
        let path = FieldPath::root().key("subjects").index(subject);
        Emitter::new(self.context, binding, findings).emit(check, None, &path, message);
        if findings.len() > before
            && self.context.config.severity_of(check).is_none()
            && let Some(finding) = findings.last_mut()
        {
            finding.severity = severity;
        }
    }
}
