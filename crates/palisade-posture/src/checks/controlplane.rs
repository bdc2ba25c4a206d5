//! Control-plane hardening from the CIS Kubernetes Benchmark: static pod manifests of kube-apiserver,
//! etcd, kube-controller-manager and kube-scheduler (their command-line flags), and
//! KubeletConfiguration files.
//!
//! Benchmark numbers are those of CIS Kubernetes Benchmark v1.10 (kube-bench `cfg/cis-1.10`).
//! Where a setting is absent the component's own default decides, as the component would: the
//! kube-apiserver flag defaults (`--anonymous-auth` true, `--authorization-mode` AlwaysAllow,
//! `--profiling` true) and, for KubeletConfiguration, the defaults of the v1beta1 *config file*
//! (`SetDefaults_KubeletConfiguration`), which differ from the kubelet's command-line defaults:
//! anonymous auth is off, authorization is Webhook and the read-only port is 0.
//!
//! Settings that live in files these objects only name (`--authentication-config`,
//! `--authorization-config`, a scheduler `--config`, an etcd `--config-file`) cannot be read here;
//! checks that depend on them stay silent rather than guess.

use std::net::IpAddr;

use palisade_core::{Category, Check, FieldPath, Frameworks, Node, Resource, Severity};

use crate::emit::Emitter;
use crate::pod::{ContainerView, PodView};

const NSA_AUTH: &str = "Authentication and authorization";
const NSA_NETWORK: &str = "Network separation and hardening";
const NSA_AUDIT: &str = "Audit logging and threat detection";

/// One catalogue entry, kept as static data so the whole catalogue reads as a table.
struct Spec {
    id: &'static str,
    title: &'static str,
    severity: Severity,
    cis: &'static [&'static str],
    nsa: &'static [&'static str],
    mitre: &'static [&'static str],
    description: &'static str,
    remediation: &'static str,
}

impl Spec {
    fn to_check(&self) -> Check {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Check {
            id: self.id.to_string(),
            title: self.title.to_string(),
            severity: self.severity,
            category: Category::ControlPlane,
            description: self.description.to_string(),
            remediation: self.remediation.to_string(),
            frameworks: Frameworks {
                cis: strings(self.cis),
                nsa: strings(self.nsa),
                mitre: strings(self.mitre),
                ..Frameworks::default()
            },
        }
    }
}

const SPECS: &[Spec] = &[
    // kube-apiserver (CIS 1.2, 3.2)
    Spec {
        id: "apiserver-anonymous-auth",
        title: "API server accepts anonymous requests",
        severity: Severity::Medium,
        cis: &["1.2.1"],
        nsa: &[NSA_AUTH],
        mitre: &["T1078.001", "T1190"],
        description: "kube-apiserver serves requests that carry no credentials as the user \
            `system:anonymous` (group `system:unauthenticated`); `--anonymous-auth` defaults to true. \
            With RBAC those requests only get what is bound to that user or group (discovery, \
            version and health endpoints by default), but a single careless binding then opens the \
            API to anyone who can reach it, and the version and discovery data help an attacker \
            pick exploits.",
        remediation: "Set `--anonymous-auth=false` in /etc/kubernetes/manifests/kube-apiserver.yaml. \
            Health probes that call /livez or /readyz without credentials then fail; on Kubernetes \
            1.32 and later keep them working with a structured authentication configuration \
            (`--authentication-config`) that allows anonymous requests only for those paths:\n\
            anonymous:\n  enabled: true\n  conditions:\n  - path: /livez\n  - path: /readyz\n  - path: /healthz",
    },
    Spec {
        id: "apiserver-token-auth-file",
        title: "API server accepts static tokens from a file",
        severity: Severity::Medium,
        cis: &["1.2.2"],
        nsa: &[NSA_AUTH],
        mitre: &["T1552.001"],
        description: "`--token-auth-file` loads bearer tokens from a plain-text CSV file on the \
            control-plane node. The tokens never expire, cannot be revoked or rotated without \
            editing the file and restarting the API server, and anyone who reads the file (or a \
            backup of it) holds those identities.",
        remediation: "Move users to client certificates, OIDC or a webhook token authenticator, \
            then remove `--token-auth-file` from /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-deny-service-external-ips",
        title: "API server does not deny Service external IPs",
        severity: Severity::Medium,
        cis: &["1.2.3"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1557"],
        description: "Anyone who may create or update a Service can set `spec.externalIPs` to any \
            address; kube-proxy then captures cluster traffic to that address and sends it to the \
            attacker's pods (CVE-2020-8554). The DenyServiceExternalIPs admission plugin rejects \
            new external IPs.",
        remediation: "Add DenyServiceExternalIPs to `--enable-admission-plugins` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml, e.g. \
            `--enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs`.",
    },
    Spec {
        id: "apiserver-kubelet-client-cert",
        title: "API server has no client certificate for kubelets",
        severity: Severity::Medium,
        cis: &["1.2.4"],
        nsa: &[NSA_AUTH],
        description: "Without `--kubelet-client-certificate` and `--kubelet-client-key` the API \
            server calls kubelets (exec, attach, logs, port-forward) without authenticating, so \
            the kubelets must accept anonymous requests for those features to work.",
        mitre: &[],
        remediation: "Issue a client certificate for the API server from the cluster CA and set \
            `--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt` and \
            `--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-kubelet-certificate-authority",
        title: "API server does not verify kubelet serving certificates",
        severity: Severity::Medium,
        cis: &["1.2.5"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1557"],
        description: "Without `--kubelet-certificate-authority` the API server does not verify the \
            certificate of the kubelet it connects to. Someone who can intercept or redirect \
            traffic to port 10250 can impersonate a kubelet and read or alter exec sessions, logs \
            and port-forwarded traffic.",
        remediation: "Have kubelets serve certificates signed by the cluster CA \
            (`serverTLSBootstrap: true` in the KubeletConfiguration and approve their CSRs), then set \
            `--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-authorization-always-allow",
        title: "API server authorizes every request (AlwaysAllow)",
        severity: Severity::Critical,
        cis: &["1.2.6"],
        nsa: &[NSA_AUTH],
        mitre: &["T1078"],
        description: "With the AlwaysAllow authorizer anywhere in `--authorization-mode` (or no \
            `--authorization-mode` and no `--authorization-config`, whose default is AlwaysAllow) \
            every authenticated request is allowed: any service account token mounted in any pod, \
            any node's kubelet credentials and any user is effectively cluster-admin.",
        remediation: "Set `--authorization-mode=Node,RBAC` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml (and grant permissions through RBAC \
            Roles and bindings).",
    },
    Spec {
        id: "apiserver-authorization-node",
        title: "API server does not use the Node authorizer",
        severity: Severity::Medium,
        cis: &["1.2.7"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "The Node authorizer limits each kubelet to the Secrets, ConfigMaps and \
            volumes of the pods scheduled on its own node. Without it kubelets need a broad RBAC \
            grant (the `system:node` ClusterRole), so one compromised node can read every Secret \
            in the cluster.",
        remediation: "Include Node in `--authorization-mode`, e.g. \
            `--authorization-mode=Node,RBAC` in /etc/kubernetes/manifests/kube-apiserver.yaml, and \
            remove bindings of the `system:node` ClusterRole to the `system:nodes` group.",
    },
    Spec {
        id: "apiserver-authorization-rbac",
        title: "API server does not use RBAC authorization",
        severity: Severity::Medium,
        cis: &["1.2.8"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "Role-based access control is the standard way to grant least privilege to \
            users and service accounts. Without RBAC in `--authorization-mode` permissions come \
            from an authorizer that is coarser (ABAC, AlwaysAllow) or lives outside the cluster.",
        remediation: "Include RBAC in `--authorization-mode`, e.g. \
            `--authorization-mode=Node,RBAC` in /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-event-rate-limit",
        title: "API server does not rate-limit events",
        severity: Severity::Low,
        cis: &["1.2.9"],
        nsa: &[],
        mitre: &[],
        description: "Without the EventRateLimit admission plugin a misbehaving or hostile client \
            can flood the API server and etcd with Event objects, slowing the control plane and \
            pushing useful events out of retention.",
        remediation: "Write an EventRateLimit configuration, reference it from the file named by \
            `--admission-control-config-file`, and add EventRateLimit to \
            `--enable-admission-plugins` in /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-always-admit",
        title: "API server enables the AlwaysAdmit admission plugin",
        severity: Severity::Low,
        cis: &["1.2.10"],
        nsa: &[],
        mitre: &[],
        description: "AlwaysAdmit is a deprecated plugin that admits every request; it adds no \
            protection and its presence usually means admission control was configured to let \
            everything through.",
        remediation: "Remove AlwaysAdmit from `--enable-admission-plugins` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-always-pull-images",
        title: "API server does not force image pulls (AlwaysPullImages)",
        severity: Severity::Low,
        cis: &["1.2.11"],
        nsa: &[],
        mitre: &[],
        description: "Images pulled with credentials stay cached on the node; without the \
            AlwaysPullImages admission plugin any pod scheduled there can run those private \
            images without having the pull secret. The plugin forces a pull (and so a credential \
            check) for every container start.",
        remediation: "Add AlwaysPullImages to `--enable-admission-plugins` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml (make sure registries can take the \
            extra pulls).",
    },
    Spec {
        id: "apiserver-service-account-plugin",
        title: "API server disables the ServiceAccount admission plugin",
        severity: Severity::Medium,
        cis: &["1.2.12"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "The ServiceAccount admission plugin gives every pod a service account, \
            checks that it exists and controls which credentials are mounted. With it disabled \
            pods can reference missing accounts and token mounting is no longer governed by the \
            service account settings.",
        remediation: "Remove ServiceAccount from `--disable-admission-plugins` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-namespace-lifecycle",
        title: "API server disables the NamespaceLifecycle admission plugin",
        severity: Severity::Low,
        cis: &["1.2.13"],
        nsa: &[],
        mitre: &[],
        description: "NamespaceLifecycle refuses new objects in namespaces that are being deleted \
            or do not exist and protects the system namespaces from deletion. Without it objects \
            can outlive their namespace and escape the clean-up and policies tied to it.",
        remediation: "Remove NamespaceLifecycle from `--disable-admission-plugins` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-node-restriction",
        title: "API server does not enable NodeRestriction",
        severity: Severity::High,
        cis: &["1.2.14"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "NodeRestriction limits what a kubelet may change: only its own Node object \
            and the pods bound to it, and not the labels that steer workloads. Without it a \
            compromised node can relabel itself or other nodes to attract sensitive workloads and \
            modify pods elsewhere in the cluster.",
        remediation: "Add NodeRestriction to `--enable-admission-plugins` (with `Node` in \
            `--authorization-mode`) in /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-profiling",
        title: "API server exposes profiling endpoints",
        severity: Severity::Low,
        cis: &["1.2.15"],
        nsa: &[],
        mitre: &[],
        description: "`--profiling` (default true) serves Go pprof data under /debug/pprof. It \
            reveals internals useful for tuning attacks and a heavy profile request costs CPU; \
            it is only needed while investigating a performance problem.",
        remediation: "Set `--profiling=false` in /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-audit-log-path",
        title: "API server writes no audit log",
        severity: Severity::Medium,
        cis: &["1.2.16"],
        nsa: &[NSA_AUDIT],
        mitre: &[],
        description: "Without an audit backend (`--audit-log-path` or \
            `--audit-webhook-config-file`) the API server keeps no record of who did what: \
            credential theft, privilege escalation and tampering leave no trace to detect or \
            investigate.",
        remediation: "Set `--audit-log-path=/var/log/kubernetes/audit/audit.log` (mount that \
            directory from the host) and `--audit-policy-file` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml, or send events to a collector with \
            `--audit-webhook-config-file`.",
    },
    Spec {
        id: "apiserver-audit-log-maxage",
        title: "API server keeps audit logs for less than 30 days",
        severity: Severity::Low,
        cis: &["1.2.17"],
        nsa: &[NSA_AUDIT],
        mitre: &[],
        description: "`--audit-log-maxage` deletes rotated audit files older than the given number \
            of days. Intrusions are often found weeks later; fewer than 30 days of history leaves \
            investigators without evidence. (Unset or 0 removes nothing by age.)",
        remediation: "Set `--audit-log-maxage=30` or more in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-audit-log-maxbackup",
        title: "API server keeps fewer than 10 rotated audit files",
        severity: Severity::Low,
        cis: &["1.2.18"],
        nsa: &[NSA_AUDIT],
        mitre: &[],
        description: "`--audit-log-maxbackup` caps how many rotated audit files are kept; a small \
            number lets a burst of requests, accidental or deliberate, rotate the evidence away. \
            (Unset or 0 keeps every file.)",
        remediation: "Set `--audit-log-maxbackup=10` or more in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-audit-log-maxsize",
        title: "API server rotates audit files below 100 MB",
        severity: Severity::Low,
        cis: &["1.2.19"],
        nsa: &[NSA_AUDIT],
        mitre: &[],
        description: "`--audit-log-maxsize` is the size in megabytes at which the audit file is \
            rotated; together with the number of backups it bounds how much history is kept. \
            Small files shorten that history. (Unset or 0 uses the 100 MB default.)",
        remediation: "Set `--audit-log-maxsize=100` or more in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-request-timeout",
        title: "API server request timeout is longer than 5 minutes",
        severity: Severity::Low,
        cis: &["1.2.20"],
        nsa: &[],
        mitre: &[],
        description: "`--request-timeout` (default 60s) bounds how long a non-long-running request \
            may hold API server resources. Very long timeouts let slow or hostile clients tie up \
            the server. Palisade flags values above 300s, the benchmark's example value.",
        remediation: "Remove `--request-timeout` or set it to 300s or less in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-service-account-lookup",
        title: "API server accepts tokens of deleted service accounts",
        severity: Severity::Medium,
        cis: &["1.2.21"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "With `--service-account-lookup=false` the API server trusts a service \
            account token's signature without checking that the account (and its token Secret) \
            still exists, so a stolen token keeps working after the account is deleted.",
        remediation: "Remove `--service-account-lookup=false` (the default is true) or set \
            `--service-account-lookup=true` in /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-service-account-key-file",
        title: "API server names no service account verification key",
        severity: Severity::Low,
        cis: &["1.2.22"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "`--service-account-key-file` lists the public keys that verify service \
            account tokens. Without it the API server falls back to its TLS serving key, tying \
            token signing to the serving certificate and making key rotation disruptive.",
        remediation: "Set `--service-account-key-file=/etc/kubernetes/pki/sa.pub` (the public half \
            of `--service-account-signing-key-file`) in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-etcd-client-cert",
        title: "API server connects to etcd without a client certificate",
        severity: Severity::High,
        cis: &["1.2.23"],
        nsa: &[NSA_NETWORK],
        mitre: &[],
        description: "etcd holds every object of the cluster, Secrets included. If the API server \
            has no `--etcd-certfile`/`--etcd-keyfile`, etcd cannot require client certificates, \
            so anyone who reaches its client port can read and rewrite the whole cluster state.",
        remediation: "Issue an etcd client certificate for the API server and set \
            `--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt` and \
            `--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml; then enable `--client-cert-auth` on etcd.",
    },
    Spec {
        id: "apiserver-tls-cert",
        title: "API server has no serving certificate",
        severity: Severity::Medium,
        cis: &["1.2.24"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1557"],
        description: "Without `--tls-cert-file` and `--tls-private-key-file` the API server \
            generates a self-signed certificate that clients cannot verify, which trains them to \
            skip verification and leaves API traffic (tokens included) open to interception.",
        remediation: "Issue a serving certificate from the cluster CA and set \
            `--tls-cert-file=/etc/kubernetes/pki/apiserver.crt` and \
            `--tls-private-key-file=/etc/kubernetes/pki/apiserver.key` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-client-ca-file",
        title: "API server does not authenticate client certificates",
        severity: Severity::Medium,
        cis: &["1.2.25"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "Without `--client-ca-file` the API server cannot authenticate client \
            certificates, which kubelets and control-plane components use to prove who they are; \
            clusters then fall back to weaker shared credentials.",
        remediation: "Set `--client-ca-file=/etc/kubernetes/pki/ca.crt` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-etcd-ca-file",
        title: "API server does not verify etcd's certificate",
        severity: Severity::Medium,
        cis: &["1.2.26"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1557"],
        description: "Without `--etcd-cafile` the API server cannot verify the etcd server it \
            talks to; an attacker who can redirect that connection can serve forged cluster state \
            and capture every object the API server writes, Secrets included.",
        remediation: "Set `--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml.",
    },
    Spec {
        id: "apiserver-encryption-provider-config",
        title: "API server does not encrypt Secrets at rest",
        severity: Severity::Medium,
        cis: &["1.2.27"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1552"],
        description: "Without `--encryption-provider-config` Secrets are stored in etcd as plain \
            base64. Anyone with access to etcd, its data directory, a snapshot or a backup can \
            read every credential in the cluster.",
        remediation: "Write an EncryptionConfiguration whose first provider for `secrets` is `kms` \
            (v2), `secretbox` or `aescbc`, set `--encryption-provider-config` to it in \
            /etc/kubernetes/manifests/kube-apiserver.yaml, then rewrite existing Secrets with \
            `kubectl get secrets -A -o json | kubectl replace -f -`.",
    },
    Spec {
        id: "apiserver-encryption-provider",
        title: "Encryption configuration stores data without a recommended cipher",
        severity: Severity::Medium,
        cis: &["1.2.28"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1552"],
        description: "The API server encrypts new writes with the first provider listed for a \
            resource. `identity` first means no encryption at all; the benchmark accepts only \
            `aescbc`, `kms` and `secretbox` there (`aesgcm` needs a new key every 200,000 writes).",
        remediation: "Put `kms` (apiVersion v2), `secretbox` or `aescbc` first in `providers` for \
            each resource list, keep `identity` last only while migrating, then rewrite the stored \
            objects (`kubectl get secrets -A -o json | kubectl replace -f -`).",
    },
    Spec {
        id: "apiserver-tls-cipher-suites",
        title: "API server allows weak TLS cipher suites",
        severity: Severity::Medium,
        cis: &["1.2.29"],
        nsa: &[NSA_NETWORK],
        mitre: &[],
        description: "`--tls-cipher-suites` lists suites outside the benchmark's set (ECDHE with \
            AES-GCM, ChaCha20-Poly1305 or AES-CBC-SHA, and the TLS 1.3 suites); suites without \
            forward secrecy or with RC4/3DES let recorded traffic be decrypted later or weaken the \
            handshake. (Unset, Go's secure defaults apply.)",
        remediation: "Set `--tls-cipher-suites` in /etc/kubernetes/manifests/kube-apiserver.yaml to \
            a subset of: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
            TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
            TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, \
            TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (or remove the flag).",
    },
    Spec {
        id: "apiserver-audit-policy-file",
        title: "API server has no audit policy",
        severity: Severity::Medium,
        cis: &["3.2.1"],
        nsa: &[NSA_AUDIT],
        mitre: &[],
        description: "The audit policy decides which requests are recorded and at what level. \
            Without `--audit-policy-file` the API server records no audit events at all, even \
            when an audit log path or webhook is configured.",
        remediation: "Write an audit policy (at least Metadata for Secrets, ConfigMaps and \
            TokenReviews; RequestResponse for pods/exec, pods/portforward and RBAC changes) and \
            set `--audit-policy-file=/etc/kubernetes/audit-policy.yaml` in \
            /etc/kubernetes/manifests/kube-apiserver.yaml (mount the file into the pod).",
    },
    Spec {
        id: "apiserver-insecure-port",
        title: "API server serves unauthenticated HTTP (insecure port)",
        severity: Severity::Critical,
        cis: &[],
        nsa: &[NSA_NETWORK],
        mitre: &["T1190"],
        description: "Before Kubernetes 1.20 `--insecure-port` served the whole API over plain \
            HTTP with no authentication and no authorization. Anyone who reaches that port (any \
            process on the node, any host-network pod, or the network when it is bound beyond \
            localhost) is cluster-admin. Kubernetes 1.24 removed the flag.",
        remediation: "Set `--insecure-port=0` (or upgrade; current versions no longer have the \
            flag) in /etc/kubernetes/manifests/kube-apiserver.yaml and use the secure port.",
    },
    // kube-controller-manager (CIS 1.3)
    Spec {
        id: "controller-manager-terminated-pod-gc-threshold",
        title: "Controller manager keeps up to 12,500 terminated pods",
        severity: Severity::Low,
        cis: &["1.3.1"],
        nsa: &[],
        mitre: &[],
        description: "`--terminated-pod-gc-threshold` is how many finished pods are kept before \
            the garbage collector deletes them (default 12500). Large numbers of terminated pods \
            slow the control plane and can exhaust etcd; the benchmark asks for a deliberate \
            threshold.",
        remediation: "Set `--terminated-pod-gc-threshold` (e.g. `--terminated-pod-gc-threshold=10`) in \
            /etc/kubernetes/manifests/kube-controller-manager.yaml.",
    },
    Spec {
        id: "controller-manager-profiling",
        title: "Controller manager exposes profiling endpoints",
        severity: Severity::Low,
        cis: &["1.3.2"],
        nsa: &[],
        mitre: &[],
        description: "`--profiling` (default true) serves Go pprof data under /debug/pprof; it \
            reveals internals and is only needed while investigating a performance problem.",
        remediation: "Set `--profiling=false` in \
            /etc/kubernetes/manifests/kube-controller-manager.yaml.",
    },
    Spec {
        id: "controller-manager-service-account-credentials",
        title: "Controllers share the controller manager's credentials",
        severity: Severity::Medium,
        cis: &["1.3.3"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "Unless `--use-service-account-credentials=true` (default false), every \
            controller acts with the controller manager's own broad identity instead of a \
            dedicated service account with a least-privilege role, so a flaw in one controller \
            gets the permissions of all of them and audit logs cannot tell them apart.",
        remediation: "Set `--use-service-account-credentials=true` in \
            /etc/kubernetes/manifests/kube-controller-manager.yaml.",
    },
    Spec {
        id: "controller-manager-service-account-private-key-file",
        title: "Controller manager names no service account signing key",
        severity: Severity::Low,
        cis: &["1.3.4"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "`--service-account-private-key-file` is the key that signs service account \
            token Secrets; without a dedicated key pair, token signing cannot be rotated \
            independently of other certificates.",
        remediation: "Set `--service-account-private-key-file=/etc/kubernetes/pki/sa.key` in \
            /etc/kubernetes/manifests/kube-controller-manager.yaml (the private half of the API \
            server's `--service-account-key-file`).",
    },
    Spec {
        id: "controller-manager-root-ca-file",
        title: "Controller manager does not publish the cluster CA to pods",
        severity: Severity::Medium,
        cis: &["1.3.5"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1557"],
        description: "`--root-ca-file` is the CA bundle given to pods with their service account \
            credentials. Without it pods cannot verify the API server's certificate, so clients \
            skip verification and their tokens can be intercepted.",
        remediation: "Set `--root-ca-file=/etc/kubernetes/pki/ca.crt` in \
            /etc/kubernetes/manifests/kube-controller-manager.yaml.",
    },
    Spec {
        id: "controller-manager-rotate-kubelet-server-certificate",
        title: "Controller manager disables kubelet serving certificate rotation",
        severity: Severity::Low,
        cis: &["1.3.6"],
        nsa: &[NSA_NETWORK],
        mitre: &[],
        description: "The RotateKubeletServerCertificate feature gate lets kubelets request and \
            renew their serving certificates from the cluster CA. Turning it off leaves kubelets \
            with self-signed or long-lived certificates that expire or cannot be verified.",
        remediation: "Remove `RotateKubeletServerCertificate=false` from `--feature-gates` (the gate \
            is on by default) in /etc/kubernetes/manifests/kube-controller-manager.yaml.",
    },
    Spec {
        id: "controller-manager-bind-address",
        title: "Controller manager listens beyond localhost",
        severity: Severity::Medium,
        cis: &["1.3.7"],
        nsa: &[NSA_NETWORK],
        mitre: &[],
        description: "`--bind-address` (default 0.0.0.0) is where the controller manager serves \
            health, metrics and profiling. It has no clients outside its node, so listening on \
            every interface only adds attack surface.",
        remediation: "Set `--bind-address=127.0.0.1` in \
            /etc/kubernetes/manifests/kube-controller-manager.yaml.",
    },
    // kube-scheduler (CIS 1.4)
    Spec {
        id: "scheduler-profiling",
        title: "Scheduler exposes profiling endpoints",
        severity: Severity::Low,
        cis: &["1.4.1"],
        nsa: &[],
        mitre: &[],
        description: "`--profiling` (default true) serves Go pprof data under /debug/pprof; it \
            reveals internals and is only needed while investigating a performance problem.",
        remediation: "Set `--profiling=false` in /etc/kubernetes/manifests/kube-scheduler.yaml \
            (with `--config`, set `enableProfiling: false` in the KubeSchedulerConfiguration).",
    },
    Spec {
        id: "scheduler-bind-address",
        title: "Scheduler listens beyond localhost",
        severity: Severity::Medium,
        cis: &["1.4.2"],
        nsa: &[NSA_NETWORK],
        mitre: &[],
        description: "`--bind-address` (default 0.0.0.0) is where the scheduler serves health, \
            metrics and profiling. It has no clients outside its node, so listening on every \
            interface only adds attack surface.",
        remediation: "Set `--bind-address=127.0.0.1` in \
            /etc/kubernetes/manifests/kube-scheduler.yaml.",
    },
    // etcd (CIS 2)
    Spec {
        id: "etcd-tls-cert",
        title: "etcd serves clients without TLS",
        severity: Severity::High,
        cis: &["2.1"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1040"],
        description: "Without `--cert-file` and `--key-file` etcd talks to its clients in plain \
            text: every object the API server reads or writes, Secrets included, crosses the \
            network unencrypted.",
        remediation: "Set `--cert-file=/etc/kubernetes/pki/etcd/server.crt` and \
            `--key-file=/etc/kubernetes/pki/etcd/server.key` in \
            /etc/kubernetes/manifests/etcd.yaml and use https:// in `--listen-client-urls`.",
    },
    Spec {
        id: "etcd-client-cert-auth",
        title: "etcd does not require client certificates",
        severity: Severity::Critical,
        cis: &["2.2"],
        nsa: &[NSA_AUTH],
        mitre: &["T1552"],
        description: "Unless `--client-cert-auth=true` (default false) etcd answers any client \
            that reaches its port. etcd holds the entire cluster state: reading it yields every \
            Secret and token, writing it bypasses authentication, authorization and admission.",
        remediation: "Set `--client-cert-auth=true` and `--trusted-ca-file` in \
            /etc/kubernetes/manifests/etcd.yaml, and give the API server a client certificate \
            (`--etcd-certfile`, `--etcd-keyfile`).",
    },
    Spec {
        id: "etcd-auto-tls",
        title: "etcd uses self-signed client certificates (auto-tls)",
        severity: Severity::Medium,
        cis: &["2.3"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1557"],
        description: "`--auto-tls=true` makes etcd generate a self-signed serving certificate that \
            no client can verify, so connections are encrypted but not authenticated and can be \
            intercepted.",
        remediation: "Remove `--auto-tls` (or set `--auto-tls=false`) and configure `--cert-file`/\
            `--key-file` from the etcd CA in /etc/kubernetes/manifests/etcd.yaml.",
    },
    Spec {
        id: "etcd-peer-tls-cert",
        title: "etcd peers talk without TLS",
        severity: Severity::Medium,
        cis: &["2.4"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1040"],
        description: "Without `--peer-cert-file` and `--peer-key-file` etcd members replicate the \
            cluster state, Secrets included, to each other in plain text.",
        remediation: "Set `--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt` and \
            `--peer-key-file=/etc/kubernetes/pki/etcd/peer.key` in \
            /etc/kubernetes/manifests/etcd.yaml and use https:// peer URLs.",
    },
    Spec {
        id: "etcd-peer-client-cert-auth",
        title: "etcd does not authenticate its peers",
        severity: Severity::High,
        cis: &["2.5"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "Unless `--peer-client-cert-auth=true` (default false) etcd accepts peer \
            connections from anyone who reaches the peer port, who can then take part in \
            replication and read or corrupt the cluster state.",
        remediation: "Set `--peer-client-cert-auth=true` and `--peer-trusted-ca-file` in \
            /etc/kubernetes/manifests/etcd.yaml.",
    },
    Spec {
        id: "etcd-peer-auto-tls",
        title: "etcd uses self-signed peer certificates (peer-auto-tls)",
        severity: Severity::Medium,
        cis: &["2.6"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1557"],
        description: "`--peer-auto-tls=true` makes etcd generate self-signed peer certificates, so \
            members cannot verify each other and peer traffic can be intercepted.",
        remediation: "Remove `--peer-auto-tls` (or set it to false) and configure \
            `--peer-cert-file`/`--peer-key-file` from the etcd CA in \
            /etc/kubernetes/manifests/etcd.yaml.",
    },
    Spec {
        id: "etcd-trusted-ca-file",
        title: "etcd names no CA for client certificates",
        severity: Severity::Medium,
        cis: &["2.7"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "`--trusted-ca-file` is the CA that client certificates must chain to. \
            Without it client certificate authentication cannot be scoped to a CA of the \
            operator's choosing; the benchmark asks for a CA used only for etcd, so that \
            certificates issued for other cluster purposes do not open etcd.",
        remediation: "Create a CA dedicated to etcd and set \
            `--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt` in \
            /etc/kubernetes/manifests/etcd.yaml.",
    },
    // KubeletConfiguration (CIS 4.2)
    Spec {
        id: "kubelet-anonymous-auth",
        title: "Kubelet accepts anonymous requests",
        severity: Severity::High,
        cis: &["4.2.1"],
        nsa: &[NSA_AUTH],
        mitre: &["T1078.001", "T1190"],
        description: "With `authentication.anonymous.enabled: true` the kubelet API on port 10250 \
            serves requests without credentials as `system:anonymous`. With Webhook authorization \
            the API server still decides, but one binding to `system:anonymous` or \
            `system:unauthenticated` then gives anyone on the network exec into every pod of the \
            node; with AlwaysAllow it is immediate node takeover.",
        remediation: "Set in the KubeletConfiguration (/var/lib/kubelet/config.yaml):\n\
            authentication:\n  anonymous:\n    enabled: false",
    },
    Spec {
        id: "kubelet-authorization-always-allow",
        title: "Kubelet authorizes every request (AlwaysAllow)",
        severity: Severity::Critical,
        cis: &["4.2.2"],
        nsa: &[NSA_AUTH],
        mitre: &["T1609"],
        description: "With `authorization.mode: AlwaysAllow` every caller the kubelet \
            authenticates, any service account token included, may exec into, attach to and read \
            the logs of every pod on the node, and through the pods reach their secrets and often \
            the host.",
        remediation: "Set in the KubeletConfiguration:\nauthorization:\n  mode: Webhook",
    },
    Spec {
        id: "kubelet-client-ca-file",
        title: "Kubelet does not authenticate client certificates",
        severity: Severity::Medium,
        cis: &["4.2.3"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "Without `authentication.x509.clientCAFile` the kubelet cannot verify the \
            client certificate the API server presents for exec, logs and port-forward, which \
            pushes operators towards anonymous access to keep those features working.",
        remediation: "Set in the KubeletConfiguration:\nauthentication:\n  x509:\n    \
            clientCAFile: /etc/kubernetes/pki/ca.crt",
    },
    Spec {
        id: "kubelet-read-only-port",
        title: "Kubelet serves the unauthenticated read-only port",
        severity: Severity::Medium,
        cis: &["4.2.4"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1613"],
        description: "A non-zero `readOnlyPort` (traditionally 10255) serves the specs of every pod \
            on the node, environment variables included, plus node and metrics data, over plain \
            HTTP with no authentication or authorization.",
        remediation: "Set `readOnlyPort: 0` in the KubeletConfiguration (0 is the config-file \
            default) and scrape metrics from the authenticated port 10250.",
    },
    Spec {
        id: "kubelet-iptables-util-chains",
        title: "Kubelet does not manage its iptables chains",
        severity: Severity::Low,
        cis: &["4.2.6"],
        nsa: &[NSA_NETWORK],
        mitre: &[],
        description: "With `makeIPTablesUtilChains: false` the kubelet stops maintaining its \
            iptables utility chains, so the firewall rules it relies on can drift out of step \
            with the pods and networking the node actually runs.",
        remediation: "Remove `makeIPTablesUtilChains: false` from the KubeletConfiguration (the \
            default is true).",
    },
    Spec {
        id: "kubelet-event-record-qps",
        title: "Kubelet event creation is unlimited",
        severity: Severity::Low,
        cis: &["4.2.8"],
        nsa: &[NSA_AUDIT],
        mitre: &[],
        description: "`eventRecordQPS: 0` removes the limit on how fast the kubelet creates \
            Events; a misbehaving pod can then flood the API server and etcd. (The config-file \
            default is 50.)",
        remediation: "Set `eventRecordQPS` to a positive value that captures the node's events, \
            e.g. `eventRecordQPS: 50`, or remove it to use the default.",
    },
    Spec {
        id: "kubelet-tls-cert",
        title: "Kubelet serves a self-signed certificate",
        severity: Severity::Medium,
        cis: &["4.2.9"],
        nsa: &[NSA_NETWORK],
        mitre: &["T1557"],
        description: "Without `tlsCertFile`/`tlsPrivateKeyFile` or `serverTLSBootstrap: true` the \
            kubelet generates a self-signed serving certificate. The API server and monitoring \
            cannot verify it, so connections to the kubelet can be intercepted.",
        remediation: "Set `serverTLSBootstrap: true` in the KubeletConfiguration and approve the \
            kubelet serving CSRs (or set `tlsCertFile` and `tlsPrivateKeyFile` to a certificate \
            from the cluster CA).",
    },
    Spec {
        id: "kubelet-rotate-certificates",
        title: "Kubelet does not rotate its client certificate",
        severity: Severity::Low,
        cis: &["4.2.10"],
        nsa: &[NSA_AUTH],
        mitre: &[],
        description: "Without `rotateCertificates: true` (the config-file default is false) the \
            kubelet keeps its client certificate until it expires, after which the node drops out \
            of the cluster; long-lived credentials also stay useful longer when stolen.",
        remediation: "Set `rotateCertificates: true` in the KubeletConfiguration.",
    },
    Spec {
        id: "kubelet-rotate-server-certificate",
        title: "Kubelet disables serving certificate rotation",
        severity: Severity::Low,
        cis: &["4.2.11"],
        nsa: &[NSA_NETWORK],
        mitre: &[],
        description: "`featureGates.RotateKubeletServerCertificate: false` stops the kubelet from \
            requesting and renewing its serving certificate from the cluster CA.",
        remediation: "Remove `RotateKubeletServerCertificate: false` from `featureGates` (the gate \
            is on by default) and set `serverTLSBootstrap: true`.",
    },
    Spec {
        id: "kubelet-tls-cipher-suites",
        title: "Kubelet allows weak TLS cipher suites",
        severity: Severity::Medium,
        cis: &["4.2.12"],
        nsa: &[NSA_NETWORK],
        mitre: &[],
        description: "`tlsCipherSuites` lists suites outside the benchmark's set for the kubelet \
            (AES-GCM and ChaCha20-Poly1305 suites, and the TLS 1.3 suites); CBC, RC4 and 3DES \
            suites weaken the kubelet's TLS. (Unset, Go's secure defaults apply.)",
        remediation: "Set `tlsCipherSuites` in the KubeletConfiguration to a subset of: \
            TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, \
            TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, \
            TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
            TLS_RSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_AES_128_GCM_SHA256.",
    },
    Spec {
        id: "kubelet-pod-pids-limit",
        title: "Kubelet sets no per-pod PID limit",
        severity: Severity::Low,
        cis: &["4.2.13"],
        nsa: &[],
        mitre: &[],
        description: "Without a positive `podPidsLimit` (the default -1 means unlimited) one pod \
            can fork until the node runs out of process IDs, starving every other pod and the \
            node's own daemons.",
        remediation: "Set `podPidsLimit` in the KubeletConfiguration to a value that fits the \
            workloads, e.g. `podPidsLimit: 4096`.",
    },
];

pub(crate) fn checks() -> Vec<Check> {
    SPECS.iter().map(Spec::to_check).collect()
}

pub(crate) fn assess(resource: &Resource, emit: &mut Emitter<'_>) {
    let group = resource.reference.group();
    match (group, resource.kind()) {
        ("kubelet.config.k8s.io", "KubeletConfiguration") => assess_kubelet(&resource.object, emit),
        ("apiserver.config.k8s.io", "EncryptionConfiguration") => {
            assess_encryption(&resource.object, emit)
        }
        ("", "Pod") if is_control_plane_pod(resource) => assess_static_pod(resource, emit),
        _ => {}
    }
}

/// Static pods of the control plane live in kube-system (kubeadm writes the namespace into every
/// manifest); a manifest without a namespace still counts when its labels say it is one.
fn is_control_plane_pod(resource: &Resource) -> bool {
    match resource.namespace() {
        Some(namespace) => namespace == "kube-system",
        None => {
            resource.label("tier") == Some("control-plane")
                || resource
                    .label("component")
                    .and_then(Component::from_program)
                    .is_some()
        }
    }
}

fn assess_static_pod(resource: &Resource, emit: &mut Emitter<'_>) {
    let Some(pod) = PodView::of(resource) else {
        return;
    };
    let pod_component = resource.label("component");
    let regular: Vec<ContainerView<'_>> = pod
        .containers()
        .filter(|c| c.list == "containers")
        .collect();
    let single = regular.len() == 1;
    for container in &regular {
        let Some(invocation) = Invocation::of(container, pod_component, single) else {
            continue;
        };
        let flags = Flags::parse(&invocation, container);
        let site = Site {
            container: container.name,
            binary: invocation.component.binary(),
            flags: &flags,
        };
        match invocation.component {
            Component::ApiServer => assess_apiserver(&site, emit),
            Component::ControllerManager => assess_controller_manager(&site, emit),
            Component::Scheduler => assess_scheduler(&site, emit),
            Component::Etcd => assess_etcd(&site, emit),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a component's command line
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Component {
    ApiServer,
    ControllerManager,
    Scheduler,
    Etcd,
}

impl Component {
    /// The component a program (or a container, or a `component` label) names.
    fn from_program(name: &str) -> Option<Component> {
        match name {
            "kube-apiserver" => Some(Component::ApiServer),
            "kube-controller-manager" => Some(Component::ControllerManager),
            "kube-scheduler" => Some(Component::Scheduler),
            "etcd" => Some(Component::Etcd),
            _ => None,
        }
    }

    /// The sub-command of the old all-in-one `hyperkube` binary.
    fn from_hyperkube(command: &str) -> Option<Component> {
        match command {
            "kube-apiserver" | "apiserver" => Some(Component::ApiServer),
            "kube-controller-manager" | "controller-manager" => Some(Component::ControllerManager),
            "kube-scheduler" | "scheduler" => Some(Component::Scheduler),
            _ => None,
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
        }
    }

    /// etcd parses flags with Go's `flag` package, which takes `-name` as well as `--name`; the
    /// Kubernetes components use pflag, where a single dash introduces a one-letter shorthand.
    fn accepts_single_dash(self) -> bool {
        self == Component::Etcd
    }
}

/// Flags that take no value: `--profiling` alone means true, and the next argument is not its
/// value (pflag and Go's `flag` both parse booleans this way).
const BOOLEAN_FLAGS: &[&str] = &[
    "allocate-node-cidrs",
    "allow-privileged",
    "alsologtostderr",
    "anonymous-auth",
    "audit-log-compress",
    "auto-tls",
    "client-cert-auth",
    "configure-cloud-routes",
    "contention-profiling",
    "enable-aggregator-routing",
    "enable-bootstrap-token-auth",
    "enable-garbage-collector",
    "enable-logs-handler",
    "enable-pprof",
    "enable-priority-and-fairness",
    "enable-v2",
    "leader-elect",
    "logtostderr",
    "peer-auto-tls",
    "peer-client-cert-auth",
    "profiling",
    "service-account-lookup",
    "strict-reconfig-check",
    "use-service-account-credentials",
];

/// What a container runs: the component and the command-line words that follow the program.
struct Invocation {
    component: Component,
    /// Each word with the path of the `command`/`args` element holding it.
    words: Vec<(String, FieldPath)>,
    /// Where a missing flag is reported: the container's `command`, else its `args`.
    missing: FieldPath,
}

impl Invocation {
    /// Recognises the component from `command[0]` (or `hyperkube <component>`), else from
    /// `args[0]`, else, for images whose entrypoint is the binary, from the container name or the
    /// pod's `component` label. A container whose command runs something else (a shell wrapper)
    /// is not read: its flags are not where this can see them.
    fn of(
        container: &ContainerView<'_>,
        pod_component: Option<&str>,
        single_container: bool,
    ) -> Option<Invocation> {
        let command = container
            .node
            .get("command")
            .map(Node::items)
            .unwrap_or(&[]);
        let args = container.node.get("args").map(Node::items).unwrap_or(&[]);
        let command_path = container.field(&["command"]);
        let args_path = container.field(&["args"]);

        let (component, skip_command, skip_args) = if let Some(first) = command.first() {
            let program = first.to_text()?;
            match Component::from_program(basename(&program)) {
                Some(component) => (component, 1, 0),
                None if basename(&program) == "hyperkube" => {
                    let sub = command.get(1).and_then(Node::as_str)?;
                    (Component::from_hyperkube(basename(sub))?, 2, 0)
                }
                None => return None,
            }
        } else if let Some(component) = args
            .first()
            .and_then(Node::as_str)
            .and_then(|a| Component::from_program(basename(a)))
        {
            (component, 0, 1)
        } else {
            let named = Component::from_program(container.name).or_else(|| {
                single_container
                    .then_some(pod_component)
                    .flatten()
                    .and_then(Component::from_program)
            })?;
            (named, 0, 0)
        };

        let words_of = |items: &[Node], base: &FieldPath, skip: usize| {
            items
                .iter()
                .enumerate()
                .skip(skip)
                .filter_map(|(i, n)| Some((n.to_text()?, base.index(i))))
                .collect::<Vec<_>>()
        };
        let mut words = words_of(command, &command_path, skip_command);
        words.extend(words_of(args, &args_path, skip_args));
        let missing = if !command.is_empty() {
            command_path
        } else if !args.is_empty() {
            args_path
        } else {
            container.path.clone()
        };
        Some(Invocation {
            component,
            words,
            missing,
        })
    }
}

fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FlagSource {
    Argument,
    /// An `ETCD_*` environment variable (etcd reads every flag from one).
    Environment(String),
}

#[derive(Debug, Clone)]
struct Flag {
    name: String,
    /// `None` for a bare boolean flag (`--profiling`).
    value: Option<String>,
    path: FieldPath,
    source: FlagSource,
}

impl Flag {
    fn text(&self) -> &str {
        self.value.as_deref().unwrap_or("")
    }

    /// The flag as the user wrote it, for messages.
    fn shown(&self) -> String {
        match (&self.source, &self.value) {
            (FlagSource::Environment(var), value) => {
                format!("{var}={}", value.as_deref().unwrap_or(""))
            }
            (FlagSource::Argument, Some(value)) => format!("--{}={value}", self.name),
            (FlagSource::Argument, None) => format!("--{}", self.name),
        }
    }

    fn boolean(&self) -> Option<bool> {
        match &self.value {
            None => Some(true),
            Some(value) => parse_go_bool(value),
        }
    }

    /// The items of a comma-separated list flag.
    fn items(&self) -> impl Iterator<Item = &str> {
        self.text()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// What a boolean flag ends up as.
enum Setting<'f> {
    Unset,
    Value(bool, &'f Flag),
    /// Not a Go boolean: the component refuses to start, so there is nothing to judge.
    Invalid,
}

struct Flags {
    /// In the order the component applies them, so the last occurrence of a scalar flag wins.
    flags: Vec<Flag>,
    missing: FieldPath,
}

impl Flags {
    fn parse(invocation: &Invocation, container: &ContainerView<'_>) -> Flags {
        let component = invocation.component;
        // Command-line flags override etcd's environment variables, so the variables go first.
        let mut flags = if component == Component::Etcd {
            etcd_environment(container)
        } else {
            Vec::new()
        };
        let mut words = invocation.words.iter().peekable();
        while let Some((word, path)) = words.next() {
            let body = match word.strip_prefix("--") {
                Some(body) => body,
                None if component.accepts_single_dash() => {
                    match word.strip_prefix('-').filter(|b| !b.is_empty()) {
                        Some(body) => body,
                        None => continue,
                    }
                }
                None => continue,
            };
            if body.is_empty() {
                // `--` ends flag parsing; what follows are positional arguments.
                break;
            }
            let (name, value) = match body.split_once('=') {
                Some((name, value)) => (name, Some(unquote(value).to_string())),
                None if BOOLEAN_FLAGS.contains(&body) => (body, None),
                // `--flag value`: a following word that is not itself a flag is the value.
                None => match words.next_if(|(next, _)| !next.starts_with('-')) {
                    Some((next, _)) => (body, Some(unquote(next).to_string())),
                    None => (body, None),
                },
            };
            flags.push(Flag {
                name: name.to_string(),
                value,
                path: path.clone(),
                source: FlagSource::Argument,
            });
        }
        Flags {
            flags,
            missing: invocation.missing.clone(),
        }
    }

    /// The occurrence that takes effect for a scalar flag: the last one.
    fn last(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Flag> + 's {
        self.flags.iter().filter(move |f| f.name == name)
    }

    /// Set to something other than the empty string.
    fn is_set(&self, name: &str) -> bool {
        self.last(name).is_some_and(|f| !f.text().trim().is_empty())
    }

    fn boolean(&self, name: &str) -> Setting<'_> {
        match self.last(name) {
            None => Setting::Unset,
            Some(flag) => match flag.boolean() {
                Some(value) => Setting::Value(value, flag),
                None => Setting::Invalid,
            },
        }
    }

    /// Every item of a list flag over all its occurrences (pflag appends repeated list flags),
    /// with the occurrence that holds it.
    fn items<'s>(&'s self, name: &'s str) -> Vec<(&'s str, &'s Flag)> {
        self.all(name)
            .flat_map(|flag| flag.items().map(move |item| (item, flag)))
            .collect()
    }
}

fn etcd_environment(container: &ContainerView<'_>) -> Vec<Flag> {
    let env = container.node.get("env").map(Node::items).unwrap_or(&[]);
    env.iter()
        .enumerate()
        .filter_map(|(i, var)| {
            let name = var.str_at("name")?;
            let flag = name.strip_prefix("ETCD_")?;
            // `valueFrom` values are not in the manifest; only literal values can be judged.
            let value = var.get("value").and_then(Node::to_text)?;
            Some(Flag {
                name: flag.to_ascii_lowercase().replace('_', "-"),
                value: Some(value),
                path: container.field(&["env"]).index(i).key("value"),
                source: FlagSource::Environment(name.to_string()),
            })
        })
        .collect()
}

/// Manifests copied from shell examples sometimes keep the quotes (`--client-cert-auth="true"`).
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// `strconv.ParseBool`, which both pflag and Go's `flag` use.
fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `time.ParseDuration`, in seconds: `300s`, `5m`, `1h30m`, `1.5h`, `0`.
fn parse_go_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        if number.is_empty() || number == "." {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
        rest = after;
    }
    Some(if negative { -total } else { total })
}

fn is_loopback(address: &str) -> bool {
    address
        .trim()
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

// ---------------------------------------------------------------------------------------------
// Rules shared by the components
// ---------------------------------------------------------------------------------------------

/// One component's container and its flags, with the ways to report on them.
struct Site<'f> {
    container: &'f str,
    binary: &'static str,
    flags: &'f Flags,
}

impl Site<'_> {
    fn at_flag(&self, emit: &mut Emitter<'_>, id: &str, flag: &Flag, message: String) {
        emit.emit(id, Some(self.container), &flag.path, message);
    }

    fn at_missing(&self, emit: &mut Emitter<'_>, id: &str, message: String) {
        emit.emit(id, Some(self.container), &self.flags.missing, message);
    }

    /// Every flag in `names` must be set to a non-empty value.
    fn require(&self, emit: &mut Emitter<'_>, id: &str, names: &[&str], consequence: &str) {
        let missing: Vec<String> = names
            .iter()
            .filter(|name| !self.flags.is_set(name))
            .map(|name| format!("`--{name}`"))
            .collect();
        if !missing.is_empty() {
            let list = missing.join(" and ");
            self.at_missing(
                emit,
                id,
                format!("{} does not set {list}: {consequence}", self.binary),
            );
        }
    }

    /// A boolean flag must end up `wanted`; `default` is what the component assumes without it.
    fn require_bool(
        &self,
        emit: &mut Emitter<'_>,
        id: &str,
        name: &str,
        wanted: bool,
        default: bool,
        consequence: &str,
    ) {
        match self.flags.boolean(name) {
            Setting::Value(value, flag) if value != wanted => self.at_flag(
                emit,
                id,
                flag,
                format!("{} sets `{}`: {consequence}", self.binary, flag.shown()),
            ),
            Setting::Unset if default != wanted => self.at_missing(
                emit,
                id,
                format!(
                    "{} does not set `--{name}={wanted}` (the default is {default}): {consequence}",
                    self.binary
                ),
            ),
            _ => {}
        }
    }

    /// `--bind-address` must be a loopback address; the default is every interface.
    fn require_loopback(&self, emit: &mut Emitter<'_>, id: &str) {
        match self.flags.last("bind-address") {
            Some(flag) if is_loopback(flag.text()) => {}
            Some(flag) => self.at_flag(
                emit,
                id,
                flag,
                format!(
                    "{} sets `{}`: its health, metrics and profiling endpoints listen beyond \
                     localhost",
                    self.binary,
                    flag.shown()
                ),
            ),
            None => self.at_missing(
                emit,
                id,
                format!(
                    "{} does not set `--bind-address=127.0.0.1`: it listens on all interfaces \
                     (the default 0.0.0.0)",
                    self.binary
                ),
            ),
        }
    }

    /// `--feature-gates` must not turn `gate` off.
    fn forbid_disabled_gate(&self, emit: &mut Emitter<'_>, id: &str, gate: &str) {
        for (item, flag) in self.flags.items("feature-gates") {
            let Some((name, value)) = item.split_once('=') else {
                continue;
            };
            if name.trim() == gate && parse_go_bool(value.trim()) == Some(false) {
                self.at_flag(
                    emit,
                    id,
                    flag,
                    format!(
                        "{} sets `{}`, turning {gate} off",
                        self.binary,
                        flag.shown()
                    ),
                );
            }
        }
    }
}

fn assess_profiling(site: &Site<'_>, emit: &mut Emitter<'_>, id: &str) {
    site.require_bool(
        emit,
        id,
        "profiling",
        false,
        true,
        "Go profiling data is served under /debug/pprof",
    );
}

// ---------------------------------------------------------------------------------------------
// kube-apiserver
// ---------------------------------------------------------------------------------------------

/// The authorizers kube-apiserver ends up with.
enum Modes<'f> {
    Listed(Vec<(&'f str, &'f Flag)>),
    /// Neither `--authorization-mode` nor `--authorization-config`: the default, AlwaysAllow.
    Default,
    /// `--authorization-config` names a file this cannot read.
    External,
}

impl Modes<'_> {
    fn includes(&self, mode: &str) -> bool {
        match self {
            Modes::Listed(modes) => modes.iter().any(|(m, _)| *m == mode),
            Modes::Default => mode == "AlwaysAllow",
            Modes::External => false,
        }
    }
}

fn authorization_modes(flags: &Flags) -> Modes<'_> {
    let listed = flags.items("authorization-mode");
    if !listed.is_empty() {
        Modes::Listed(listed)
    } else if flags.is_set("authorization-config") {
        Modes::External
    } else {
        Modes::Default
    }
}

/// Admission plugins turned on and off; `--admission-control` is the deprecated spelling of
/// `--enable-admission-plugins`.
struct Admission<'f> {
    enabled: Vec<(&'f str, &'f Flag)>,
    disabled: Vec<(&'f str, &'f Flag)>,
    enable_flag: Option<&'f Flag>,
}

impl<'f> Admission<'f> {
    fn of(flags: &'f Flags) -> Admission<'f> {
        let mut enabled = flags.items("enable-admission-plugins");
        enabled.extend(flags.items("admission-control"));
        Admission {
            enabled,
            disabled: flags.items("disable-admission-plugins"),
            enable_flag: flags
                .last("enable-admission-plugins")
                .or_else(|| flags.last("admission-control")),
        }
    }

    fn enabling(&self, plugin: &str) -> Option<&'f Flag> {
        self.enabled
            .iter()
            .find(|(p, _)| *p == plugin)
            .map(|(_, f)| *f)
    }

    fn disabling(&self, plugin: &str) -> Option<&'f Flag> {
        self.disabled
            .iter()
            .find(|(p, _)| *p == plugin)
            .map(|(_, f)| *f)
    }
}

/// A plugin that is off by default and must be enabled.
fn require_plugin(
    site: &Site<'_>,
    emit: &mut Emitter<'_>,
    admission: &Admission<'_>,
    id: &str,
    plugin: &str,
    consequence: &str,
) {
    if let Some(flag) = admission.disabling(plugin) {
        site.at_flag(
            emit,
            id,
            flag,
            format!(
                "kube-apiserver sets `{}`, turning {plugin} off: {consequence}",
                flag.shown()
            ),
        );
    } else if admission.enabling(plugin).is_some() {
        // Enabled and not disabled.
    } else if let Some(flag) = admission.enable_flag {
        site.at_flag(
            emit,
            id,
            flag,
            format!(
                "kube-apiserver's `{}` does not include {plugin}: {consequence}",
                flag.shown()
            ),
        );
    } else {
        site.at_missing(
            emit,
            id,
            format!(
                "kube-apiserver does not set `--enable-admission-plugins`, and {plugin} is off by \
                 default: {consequence}"
            ),
        );
    }
}

/// A plugin that is on by default and must not be disabled.
fn forbid_disabled_plugin(
    site: &Site<'_>,
    emit: &mut Emitter<'_>,
    admission: &Admission<'_>,
    id: &str,
    plugin: &str,
    consequence: &str,
) {
    if let Some(flag) = admission.disabling(plugin) {
        site.at_flag(
            emit,
            id,
            flag,
            format!(
                "kube-apiserver sets `{}`, turning {plugin} off: {consequence}",
                flag.shown()
            ),
        );
    }
}

/// The kube-apiserver cipher suites CIS 1.2.29 accepts.
const APISERVER_STRONG_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// The kubelet cipher suites CIS 4.2.12 accepts.
const KUBELET_STRONG_CIPHERS: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
];

/// TLS 1.3 suites are not configurable in Go (always on when TLS 1.3 is negotiated), and all of
/// them are strong; naming them is harmless wherever they appear.
const TLS13_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

fn is_strong_cipher(suite: &str, allowed: &[&str]) -> bool {
    allowed.contains(&suite) || TLS13_CIPHERS.contains(&suite)
}

const REQUEST_TIMEOUT_LIMIT_SECONDS: f64 = 300.0;

fn assess_apiserver(site: &Site<'_>, emit: &mut Emitter<'_>) {
    let flags = site.flags;
    let modes = authorization_modes(flags);

    // kube-apiserver turns anonymous auth off itself when AlwaysAllow is among the authorizers
    // ("AnonymousAuth is not allowed with the AlwaysAllow authorizer"), so only judge it otherwise.
    // With `--authentication-config` the anonymous settings live in that file.
    if !modes.includes("AlwaysAllow") {
        match flags.boolean("anonymous-auth") {
            Setting::Value(true, flag) => site.at_flag(
                emit,
                "apiserver-anonymous-auth",
                flag,
                format!(
                    "kube-apiserver sets `{}`: requests without credentials are served as \
                     `system:anonymous`",
                    flag.shown()
                ),
            ),
            Setting::Unset if !flags.is_set("authentication-config") => site.at_missing(
                emit,
                "apiserver-anonymous-auth",
                "kube-apiserver does not set `--anonymous-auth=false` (the default is true): \
                 requests without credentials are served as `system:anonymous`"
                    .to_string(),
            ),
            _ => {}
        }
    }

    if let Some(flag) = flags
        .last("token-auth-file")
        .filter(|f| !f.text().is_empty())
    {
        site.at_flag(
            emit,
            "apiserver-token-auth-file",
            flag,
            format!(
                "kube-apiserver sets `{}`: static bearer tokens are read from a plain-text file \
                 and never expire",
                flag.shown()
            ),
        );
    }

    let admission = Admission::of(flags);
    require_plugin(
        site,
        emit,
        &admission,
        "apiserver-deny-service-external-ips",
        "DenyServiceExternalIPs",
        "anyone who may edit a Service can set externalIPs and capture traffic to that address",
    );
    site.require(
        emit,
        "apiserver-kubelet-client-cert",
        &["kubelet-client-certificate", "kubelet-client-key"],
        "it calls kubelets without a client certificate",
    );
    site.require(
        emit,
        "apiserver-kubelet-certificate-authority",
        &["kubelet-certificate-authority"],
        "it does not verify the serving certificate of the kubelets it connects to",
    );

    match &modes {
        Modes::Listed(listed) => {
            if let Some((_, flag)) = listed.iter().find(|(m, _)| *m == "AlwaysAllow") {
                site.at_flag(
                    emit,
                    "apiserver-authorization-always-allow",
                    flag,
                    format!(
                        "kube-apiserver sets `{}`: AlwaysAllow authorizes every authenticated \
                         request, so any service account token is cluster-admin",
                        flag.shown()
                    ),
                );
            }
            let last = flags.last("authorization-mode");
            for (mode, id) in [
                ("Node", "apiserver-authorization-node"),
                ("RBAC", "apiserver-authorization-rbac"),
            ] {
                if let (false, Some(flag)) = (modes.includes(mode), last) {
                    site.at_flag(
                        emit,
                        id,
                        flag,
                        format!(
                            "kube-apiserver's `{}` does not include {mode}",
                            flag.shown()
                        ),
                    );
                }
            }
        }
        Modes::Default => {
            site.at_missing(
                emit,
                "apiserver-authorization-always-allow",
                "kube-apiserver sets neither `--authorization-mode` nor `--authorization-config`, \
                 so it uses the default AlwaysAllow: every authenticated request is allowed"
                    .to_string(),
            );
            for (mode, id) in [
                ("Node", "apiserver-authorization-node"),
                ("RBAC", "apiserver-authorization-rbac"),
            ] {
                site.at_missing(
                    emit,
                    id,
                    format!(
                        "kube-apiserver does not set `--authorization-mode`, so the {mode} \
                         authorizer is not used"
                    ),
                );
            }
        }
        Modes::External => {}
    }

    require_plugin(
        site,
        emit,
        &admission,
        "apiserver-event-rate-limit",
        "EventRateLimit",
        "clients can flood the API server and etcd with events",
    );
    if let Some(flag) = admission.enabling("AlwaysAdmit") {
        site.at_flag(
            emit,
            "apiserver-always-admit",
            flag,
            format!(
                "kube-apiserver's `{}` enables the deprecated AlwaysAdmit plugin",
                flag.shown()
            ),
        );
    }
    require_plugin(
        site,
        emit,
        &admission,
        "apiserver-always-pull-images",
        "AlwaysPullImages",
        "pods can run private images cached on the node without their pull secret",
    );
    forbid_disabled_plugin(
        site,
        emit,
        &admission,
        "apiserver-service-account-plugin",
        "ServiceAccount",
        "pods are no longer tied to existing service accounts",
    );
    forbid_disabled_plugin(
        site,
        emit,
        &admission,
        "apiserver-namespace-lifecycle",
        "NamespaceLifecycle",
        "objects can be created in namespaces that are being deleted or do not exist",
    );
    require_plugin(
        site,
        emit,
        &admission,
        "apiserver-node-restriction",
        "NodeRestriction",
        "a kubelet can modify other nodes and pods not bound to it",
    );
    assess_profiling(site, emit, "apiserver-profiling");
    assess_audit(site, emit);

    if let Some(flag) = flags.last("request-timeout")
        && let Some(seconds) = parse_go_duration(flag.text())
        && seconds > REQUEST_TIMEOUT_LIMIT_SECONDS
    {
        site.at_flag(
            emit,
            "apiserver-request-timeout",
            flag,
            format!(
                "kube-apiserver sets `{}`: requests may hold server resources for more than \
                 5 minutes",
                flag.shown()
            ),
        );
    }
    site.require_bool(
        emit,
        "apiserver-service-account-lookup",
        "service-account-lookup",
        true,
        true,
        "tokens of deleted service accounts stay valid",
    );
    site.require(
        emit,
        "apiserver-service-account-key-file",
        &["service-account-key-file"],
        "service account tokens are verified with the TLS serving key",
    );
    site.require(
        emit,
        "apiserver-etcd-client-cert",
        &["etcd-certfile", "etcd-keyfile"],
        "it connects to etcd without a client certificate",
    );
    site.require(
        emit,
        "apiserver-tls-cert",
        &["tls-cert-file", "tls-private-key-file"],
        "it serves a self-signed certificate clients cannot verify",
    );
    site.require(
        emit,
        "apiserver-client-ca-file",
        &["client-ca-file"],
        "client certificates cannot be authenticated",
    );
    site.require(
        emit,
        "apiserver-etcd-ca-file",
        &["etcd-cafile"],
        "it does not verify the etcd server's certificate",
    );
    site.require(
        emit,
        "apiserver-encryption-provider-config",
        &["encryption-provider-config"],
        "Secrets are stored unencrypted in etcd",
    );
    for flag in flags.all("tls-cipher-suites") {
        let weak: Vec<&str> = flag
            .items()
            .filter(|suite| !is_strong_cipher(suite, APISERVER_STRONG_CIPHERS))
            .collect();
        if !weak.is_empty() {
            site.at_flag(
                emit,
                "apiserver-tls-cipher-suites",
                flag,
                format!(
                    "kube-apiserver's `--tls-cipher-suites` allows {}",
                    weak.join(", ")
                ),
            );
        }
    }
    if let Some(flag) = flags.last("insecure-port")
        && flag
            .text()
            .trim()
            .parse::<i64>()
            .is_ok_and(|port| port != 0)
    {
        site.at_flag(
            emit,
            "apiserver-insecure-port",
            flag,
            format!(
                "kube-apiserver sets `{}`: the API is served over HTTP without authentication \
                 or authorization",
                flag.shown()
            ),
        );
    }
}

/// Audit backends, policy and retention (CIS 1.2.16-1.2.19, 3.2.1).
fn assess_audit(site: &Site<'_>, emit: &mut Emitter<'_>) {
    let flags = site.flags;
    let log_path = flags.last("audit-log-path").map(Flag::text).unwrap_or("");
    let has_webhook = flags.is_set("audit-webhook-config-file");
    let has_backend = !log_path.trim().is_empty() || has_webhook;
    if !has_backend {
        site.at_missing(
            emit,
            "apiserver-audit-log-path",
            "kube-apiserver sets neither `--audit-log-path` nor `--audit-webhook-config-file`: \
             API requests are not audited"
                .to_string(),
        );
    }
    if !flags.is_set("audit-policy-file") {
        let consequence = if has_backend {
            "without a policy the configured audit backend records no events"
        } else {
            "no requests are selected for auditing"
        };
        site.at_missing(
            emit,
            "apiserver-audit-policy-file",
            format!("kube-apiserver does not set `--audit-policy-file`: {consequence}"),
        );
    }
    // Rotation applies only to a log file; `-` writes to standard output. 0 (the default) keeps
    // files regardless of age and count, and rotates at lumberjack's 100 MB.
    if log_path.trim().is_empty() || log_path.trim() == "-" {
        return;
    }
    for (name, minimum, id, unit) in [
        ("audit-log-maxage", 30, "apiserver-audit-log-maxage", "days"),
        (
            "audit-log-maxbackup",
            10,
            "apiserver-audit-log-maxbackup",
            "files",
        ),
        (
            "audit-log-maxsize",
            100,
            "apiserver-audit-log-maxsize",
            "MB",
        ),
    ] {
        if let Some(flag) = flags.last(name)
            && let Ok(value) = flag.text().trim().parse::<i64>()
            && value > 0
            && value < minimum
        {
            site.at_flag(
                emit,
                id,
                flag,
                format!(
                    "kube-apiserver sets `{}`, below the recommended {minimum} {unit}",
                    flag.shown()
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// kube-controller-manager, kube-scheduler, etcd
// ---------------------------------------------------------------------------------------------

fn assess_controller_manager(site: &Site<'_>, emit: &mut Emitter<'_>) {
    site.require(
        emit,
        "controller-manager-terminated-pod-gc-threshold",
        &["terminated-pod-gc-threshold"],
        "up to 12500 terminated pods are kept (the default)",
    );
    assess_profiling(site, emit, "controller-manager-profiling");
    site.require_bool(
        emit,
        "controller-manager-service-account-credentials",
        "use-service-account-credentials",
        true,
        false,
        "every controller acts with the controller manager's own credentials",
    );
    site.require(
        emit,
        "controller-manager-service-account-private-key-file",
        &["service-account-private-key-file"],
        "there is no dedicated key for signing service account tokens",
    );
    site.require(
        emit,
        "controller-manager-root-ca-file",
        &["root-ca-file"],
        "pods are not given the CA to verify the API server",
    );
    site.forbid_disabled_gate(
        emit,
        "controller-manager-rotate-kubelet-server-certificate",
        "RotateKubeletServerCertificate",
    );
    site.require_loopback(emit, "controller-manager-bind-address");
}

fn assess_scheduler(site: &Site<'_>, emit: &mut Emitter<'_>) {
    // With `--config`, kube-scheduler ignores `--profiling`; the setting is `enableProfiling` in
    // the KubeSchedulerConfiguration file, which this cannot read.
    if !site.flags.is_set("config") {
        assess_profiling(site, emit, "scheduler-profiling");
    }
    site.require_loopback(emit, "scheduler-bind-address");
}

fn assess_etcd(site: &Site<'_>, emit: &mut Emitter<'_>) {
    // A configuration file replaces every flag and environment variable, and it is not here.
    if site.flags.is_set("config-file") {
        return;
    }
    site.require(
        emit,
        "etcd-tls-cert",
        &["cert-file", "key-file"],
        "client connections are not encrypted",
    );
    site.require_bool(
        emit,
        "etcd-client-cert-auth",
        "client-cert-auth",
        true,
        false,
        "any client that reaches etcd can read and write the whole cluster state",
    );
    site.require_bool(
        emit,
        "etcd-auto-tls",
        "auto-tls",
        false,
        false,
        "clients get a self-signed certificate they cannot verify",
    );
    site.require(
        emit,
        "etcd-peer-tls-cert",
        &["peer-cert-file", "peer-key-file"],
        "peer replication is not encrypted",
    );
    site.require_bool(
        emit,
        "etcd-peer-client-cert-auth",
        "peer-client-cert-auth",
        true,
        false,
        "anyone who reaches the peer port is accepted as a peer",
    );
    site.require_bool(
        emit,
        "etcd-peer-auto-tls",
        "peer-auto-tls",
        false,
        false,
        "peers get self-signed certificates they cannot verify",
    );
    site.require(
        emit,
        "etcd-trusted-ca-file",
        &["trusted-ca-file"],
        "client certificates are not checked against a CA chosen for etcd",
    );
}

// ---------------------------------------------------------------------------------------------
// KubeletConfiguration and EncryptionConfiguration
// ---------------------------------------------------------------------------------------------

/// A field of a config file: its node if present, its path, and the nearest path that exists.
struct Field<'n> {
    node: Option<&'n Node>,
    path: FieldPath,
    nearest: FieldPath,
}

impl Field<'_> {
    fn of<'n>(root: &'n Node, keys: &[&str]) -> Field<'n> {
        let path = FieldPath::root().keys(keys);
        let mut nearest = FieldPath::root();
        let mut node = root;
        for key in keys {
            match node.get(key).filter(|n| !n.is_null()) {
                Some(next) => {
                    node = next;
                    nearest = nearest.key(key);
                }
                None => {
                    return Field {
                        node: None,
                        path,
                        nearest,
                    };
                }
            }
        }
        Field {
            node: Some(node),
            path,
            nearest,
        }
    }

    /// The field itself when written, else where it would go.
    fn evidence(&self) -> &FieldPath {
        if self.node.is_some() {
            &self.path
        } else {
            &self.nearest
        }
    }

    fn as_bool(&self) -> Option<bool> {
        self.node.and_then(Node::as_bool)
    }

    fn as_i64(&self) -> Option<i64> {
        self.node.and_then(Node::as_i64)
    }

    fn has_text(&self) -> bool {
        self.node
            .and_then(Node::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    }
}

fn assess_kubelet(config: &Node, emit: &mut Emitter<'_>) {
    let mode = Field::of(config, &["authorization", "mode"]);
    let always_allow = mode.node.and_then(Node::as_str) == Some("AlwaysAllow");

    let anonymous = Field::of(config, &["authentication", "anonymous", "enabled"]);
    if anonymous.as_bool() == Some(true) {
        let reach = if always_allow {
            "and `authorization.mode: AlwaysAllow` lets them exec into every pod on the node"
        } else {
            "they get whatever `system:anonymous` is authorized for"
        };
        emit.emit(
            "kubelet-anonymous-auth",
            None,
            &anonymous.path,
            format!(
                "`authentication.anonymous.enabled: true` serves requests without credentials on \
                 the kubelet API; {reach}"
            ),
        );
    }
    if always_allow {
        emit.emit(
            "kubelet-authorization-always-allow",
            None,
            &mode.path,
            "`authorization.mode: AlwaysAllow`: every caller the kubelet authenticates may exec \
             into, attach to and read logs of every pod on the node",
        );
    }

    let client_ca = Field::of(config, &["authentication", "x509", "clientCAFile"]);
    if !client_ca.has_text() {
        emit.emit(
            "kubelet-client-ca-file",
            None,
            client_ca.evidence(),
            "`authentication.x509.clientCAFile` is not set: the kubelet cannot authenticate the \
             API server's client certificate",
        );
    }

    let read_only = Field::of(config, &["readOnlyPort"]);
    if let Some(port) = read_only.as_i64().filter(|p| *p > 0) {
        emit.emit(
            "kubelet-read-only-port",
            None,
            &read_only.path,
            format!(
                "`readOnlyPort: {port}` serves pod specs, node and metrics data over HTTP without \
                 authentication"
            ),
        );
    }

    let iptables = Field::of(config, &["makeIPTablesUtilChains"]);
    if iptables.as_bool() == Some(false) {
        emit.emit(
            "kubelet-iptables-util-chains",
            None,
            &iptables.path,
            "`makeIPTablesUtilChains: false`: the kubelet does not maintain its iptables chains",
        );
    }

    let event_qps = Field::of(config, &["eventRecordQPS"]);
    if event_qps.as_i64() == Some(0) {
        emit.emit(
            "kubelet-event-record-qps",
            None,
            &event_qps.path,
            "`eventRecordQPS: 0` removes the limit on event creation",
        );
    }

    let cert = Field::of(config, &["tlsCertFile"]);
    let key = Field::of(config, &["tlsPrivateKeyFile"]);
    let bootstrap = Field::of(config, &["serverTLSBootstrap"]);
    if bootstrap.as_bool() != Some(true) && !(cert.has_text() && key.has_text()) {
        let missing = if cert.has_text() { &key } else { &cert };
        emit.emit(
            "kubelet-tls-cert",
            None,
            missing.evidence(),
            "neither `tlsCertFile`/`tlsPrivateKeyFile` nor `serverTLSBootstrap: true` is set: \
             the kubelet serves a self-signed certificate",
        );
    }

    // `rotateCertificates` is a plain bool in the v1beta1 file: absent means false.
    let rotate = Field::of(config, &["rotateCertificates"]);
    match rotate.node.map(|n| n.as_bool()) {
        Some(Some(false)) => emit.emit(
            "kubelet-rotate-certificates",
            None,
            &rotate.path,
            "`rotateCertificates: false`: the kubelet keeps its client certificate until it \
             expires",
        ),
        None => emit.emit(
            "kubelet-rotate-certificates",
            None,
            rotate.evidence(),
            "`rotateCertificates` is not set (the config-file default is false): the kubelet \
             keeps its client certificate until it expires",
        ),
        Some(_) => {}
    }

    let gate = Field::of(config, &["featureGates", "RotateKubeletServerCertificate"]);
    if gate.as_bool() == Some(false) {
        emit.emit(
            "kubelet-rotate-server-certificate",
            None,
            &gate.path,
            "`featureGates.RotateKubeletServerCertificate: false` turns serving certificate \
             rotation off",
        );
    }

    let suites = Field::of(config, &["tlsCipherSuites"]);
    let weak: Vec<(usize, &str)> = suites
        .node
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some((i, n.as_str()?)))
        .filter(|(_, suite)| !is_strong_cipher(suite, KUBELET_STRONG_CIPHERS))
        .collect();
    if let Some((first, _)) = weak.first() {
        let names: Vec<&str> = weak.iter().map(|(_, s)| *s).collect();
        emit.emit(
            "kubelet-tls-cipher-suites",
            None,
            &suites.path.index(*first),
            format!("`tlsCipherSuites` allows {}", names.join(", ")),
        );
    }

    let pids = Field::of(config, &["podPidsLimit"]);
    match pids.as_i64() {
        Some(limit) if limit > 0 => {}
        Some(limit) => emit.emit(
            "kubelet-pod-pids-limit",
            None,
            &pids.path,
            format!("`podPidsLimit: {limit}` leaves the number of processes per pod unlimited"),
        ),
        None => emit.emit(
            "kubelet-pod-pids-limit",
            None,
            pids.evidence(),
            "`podPidsLimit` is not set (the default -1 is unlimited): one pod can exhaust the \
             node's process IDs",
        ),
    }
}

/// Providers CIS 1.2.28 accepts as the first (writing) provider.
const STRONG_ENCRYPTION_PROVIDERS: &[&str] = &["aescbc", "kms", "secretbox"];

fn assess_encryption(config: &Node, emit: &mut Emitter<'_>) {
    let entries = config.get("resources").map(Node::items).unwrap_or(&[]);
    for (i, entry) in entries.iter().enumerate() {
        let first = entry
            .get("providers")
            .map(Node::items)
            .unwrap_or(&[])
            .first()
            .and_then(|p| p.entries().first());
        let Some((provider, _)) = first else {
            continue;
        };
        if STRONG_ENCRYPTION_PROVIDERS.contains(&provider.as_str()) {
            continue;
        }
        let resources: Vec<&str> = entry
            .get("resources")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_str)
            .collect();
        let what = if resources.is_empty() {
            "these resources".to_string()
        } else {
            resources.join(", ")
        };
        let consequence = if provider == "identity" {
            "new writes are stored unencrypted".to_string()
        } else {
            format!("`{provider}` is not one of the recommended providers (aescbc, kms, secretbox)")
        };
        let path = FieldPath::root()
            .key("resources")
            .index(i)
            .key("providers")
            .index(0)
            .key(provider);
        emit.emit(
            "apiserver-encryption-provider",
            None,
            &path,
            format!("the first provider for {what} is `{provider}`: {consequence}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::testing::{findings, resources};

    /// A control-plane finding reduced to what the tests compare.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Hit {
        id: String,
        container: Option<String>,
        path: String,
        message: String,
    }

    /// The findings of this module's checks only (the pod checks also run on static pods).
    fn cp(yaml: &str) -> Vec<Hit> {
        let ours: BTreeSet<&str> = SPECS.iter().map(|s| s.id).collect();
        findings(yaml)
            .into_iter()
            .filter(|f| ours.contains(f.check.id.as_str()))
            .map(|f| Hit {
                id: f.check.id.clone(),
                container: f.container.clone(),
                path: f.evidence.path.clone(),
                message: f.message.clone(),
            })
            .collect()
    }

    fn ids(hits: &[Hit]) -> BTreeSet<String> {
        hits.iter().map(|h| h.id.clone()).collect()
    }

    /// A kubeadm-style static pod running `program` with `flags`.
    fn static_pod(program: &str, flags: &[String]) -> String {
        let mut yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {program}\n  namespace: kube-system\n  \
             labels:\n    component: {program}\n    tier: control-plane\nspec:\n  hostNetwork: true\n  \
             containers:\n  - name: {program}\n    image: registry.k8s.io/{program}:v1.36.2\n    \
             command:\n    - {program}\n"
        );
        for flag in flags {
            yaml.push_str(&format!("    - \"{flag}\"\n"));
        }
        yaml
    }

    const APISERVER_OK: &[&str] = &[
        "--advertise-address=10.0.0.10",
        "--allow-privileged=true",
        "--anonymous-auth=false",
        "--audit-log-maxage=30",
        "--audit-log-maxbackup=10",
        "--audit-log-maxsize=100",
        "--audit-log-path=/var/log/kubernetes/audit/audit.log",
        "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
        "--admission-control-config-file=/etc/kubernetes/admission.yaml",
        "--encryption-provider-config=/etc/kubernetes/enc/encryption.yaml",
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--etcd-servers=https://127.0.0.1:2379",
        "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
        "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "--profiling=false",
        "--request-timeout=60s",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-lookup=true",
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
    ];

    const CONTROLLER_MANAGER_OK: &[&str] = &[
        "--bind-address=127.0.0.1",
        "--kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--profiling=false",
        "--root-ca-file=/etc/kubernetes/pki/ca.crt",
        "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
        "--terminated-pod-gc-threshold=10",
        "--use-service-account-credentials=true",
        "--feature-gates=RotateKubeletServerCertificate=true",
    ];

    const SCHEDULER_OK: &[&str] = &[
        "--bind-address=127.0.0.1",
        "--kubeconfig=/etc/kubernetes/scheduler.conf",
        "--profiling=false",
    ];

    const ETCD_OK: &[&str] = &[
        "--advertise-client-urls=https://10.0.0.10:2379",
        "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
        "--client-cert-auth=true",
        "--key-file=/etc/kubernetes/pki/etcd/server.key",
        "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
        "--peer-client-cert-auth=true",
        "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
        "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
    ];

    /// `base` without the flags named in `drop` (by name), with `add` appended.
    fn with(base: &[&str], drop: &[&str], add: &[&str]) -> Vec<String> {
        let mut flags: Vec<String> = base
            .iter()
            .filter(|f| {
                let name = f.split('=').next().unwrap_or(f);
                !drop.contains(&name)
            })
            .map(|f| f.to_string())
            .collect();
        flags.extend(add.iter().map(|f| f.to_string()));
        flags
    }

    /// The path of the `command` element holding `flag` in a pod built by [`static_pod`].
    fn command_path(flags: &[String], flag: &str) -> String {
        let position = flags.iter().position(|f| f == flag).expect("flag present");
        format!("spec.containers[0].command[{}]", position + 1)
    }

    const COMMAND: &str = "spec.containers[0].command";

    enum Expect {
        /// Reported at the `command` element holding this flag.
        At(&'static str),
        /// Reported at the container's `command` (the flag is missing).
        Missing,
    }

    /// One case: a component, the flags changed from its hardened baseline, and the one finding
    /// that must result.
    struct Case {
        program: &'static str,
        drop: &'static [&'static str],
        add: &'static [&'static str],
        id: &'static str,
        expect: Expect,
    }

    fn baseline(program: &str) -> &'static [&'static str] {
        match program {
            "kube-apiserver" => APISERVER_OK,
            "kube-controller-manager" => CONTROLLER_MANAGER_OK,
            "kube-scheduler" => SCHEDULER_OK,
            _ => ETCD_OK,
        }
    }

    fn run_cases(cases: &[Case]) -> BTreeSet<String> {
        let mut fired = BTreeSet::new();
        for case in cases {
            let flags = with(baseline(case.program), case.drop, case.add);
            let hits = cp(&static_pod(case.program, &flags));
            let path = match case.expect {
                Expect::At(flag) => command_path(&flags, flag),
                Expect::Missing => COMMAND.to_string(),
            };
            assert_eq!(
                hits.iter()
                    .map(|h| (h.id.as_str(), h.container.as_deref(), h.path.as_str()))
                    .collect::<Vec<_>>(),
                vec![(case.id, Some(case.program), path.as_str())],
                "case {} (drop {:?}, add {:?})",
                case.id,
                case.drop,
                case.add
            );
            fired.insert(case.id.to_string());
        }
        fired
    }

    #[test]
    fn hardened_components_pass() {
        for program in [
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "etcd",
        ] {
            let flags = with(baseline(program), &[], &[]);
            assert_eq!(cp(&static_pod(program, &flags)), vec![], "{program}");
        }
    }

    const APISERVER_CASES: &[Case] = &[
        Case {
            program: "kube-apiserver",
            drop: &["--anonymous-auth"],
            add: &["--anonymous-auth=true"],
            id: "apiserver-anonymous-auth",
            expect: Expect::At("--anonymous-auth=true"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--anonymous-auth"],
            add: &[],
            id: "apiserver-anonymous-auth",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &[],
            add: &["--token-auth-file=/etc/kubernetes/tokens.csv"],
            id: "apiserver-token-auth-file",
            expect: Expect::At("--token-auth-file=/etc/kubernetes/tokens.csv"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--enable-admission-plugins"],
            add: &["--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages"],
            id: "apiserver-deny-service-external-ips",
            expect: Expect::At(
                "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages",
            ),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--kubelet-client-key"],
            add: &[],
            id: "apiserver-kubelet-client-cert",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--kubelet-certificate-authority"],
            add: &[],
            id: "apiserver-kubelet-certificate-authority",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--authorization-mode"],
            add: &["--authorization-mode=Node,RBAC,AlwaysAllow"],
            id: "apiserver-authorization-always-allow",
            expect: Expect::At("--authorization-mode=Node,RBAC,AlwaysAllow"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--authorization-mode"],
            add: &["--authorization-mode=RBAC"],
            id: "apiserver-authorization-node",
            expect: Expect::At("--authorization-mode=RBAC"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--authorization-mode"],
            add: &["--authorization-mode=Node,Webhook"],
            id: "apiserver-authorization-rbac",
            expect: Expect::At("--authorization-mode=Node,Webhook"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--enable-admission-plugins"],
            add: &[
                "--enable-admission-plugins=NodeRestriction,AlwaysPullImages,DenyServiceExternalIPs",
            ],
            id: "apiserver-event-rate-limit",
            expect: Expect::At(
                "--enable-admission-plugins=NodeRestriction,AlwaysPullImages,DenyServiceExternalIPs",
            ),
        },
        Case {
            program: "kube-apiserver",
            drop: &[],
            add: &["--enable-admission-plugins=AlwaysAdmit"],
            id: "apiserver-always-admit",
            expect: Expect::At("--enable-admission-plugins=AlwaysAdmit"),
        },
        Case {
            program: "kube-apiserver",
            drop: &[],
            add: &["--disable-admission-plugins=AlwaysPullImages"],
            id: "apiserver-always-pull-images",
            expect: Expect::At("--disable-admission-plugins=AlwaysPullImages"),
        },
        Case {
            program: "kube-apiserver",
            drop: &[],
            add: &["--disable-admission-plugins=ServiceAccount"],
            id: "apiserver-service-account-plugin",
            expect: Expect::At("--disable-admission-plugins=ServiceAccount"),
        },
        Case {
            program: "kube-apiserver",
            drop: &[],
            add: &["--disable-admission-plugins=NamespaceLifecycle"],
            id: "apiserver-namespace-lifecycle",
            expect: Expect::At("--disable-admission-plugins=NamespaceLifecycle"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--enable-admission-plugins"],
            add: &[
                "--enable-admission-plugins=EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
            ],
            id: "apiserver-node-restriction",
            expect: Expect::At(
                "--enable-admission-plugins=EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
            ),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--profiling"],
            add: &[],
            id: "apiserver-profiling",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--profiling"],
            add: &["--profiling"],
            id: "apiserver-profiling",
            expect: Expect::At("--profiling"),
        },
        Case {
            program: "kube-apiserver",
            drop: &[
                "--audit-log-path",
                "--audit-log-maxage",
                "--audit-log-maxbackup",
                "--audit-log-maxsize",
            ],
            add: &[],
            id: "apiserver-audit-log-path",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--audit-log-maxage"],
            add: &["--audit-log-maxage=7"],
            id: "apiserver-audit-log-maxage",
            expect: Expect::At("--audit-log-maxage=7"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--audit-log-maxbackup"],
            add: &["--audit-log-maxbackup=3"],
            id: "apiserver-audit-log-maxbackup",
            expect: Expect::At("--audit-log-maxbackup=3"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--audit-log-maxsize"],
            add: &["--audit-log-maxsize=10"],
            id: "apiserver-audit-log-maxsize",
            expect: Expect::At("--audit-log-maxsize=10"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--request-timeout"],
            add: &["--request-timeout=1h"],
            id: "apiserver-request-timeout",
            expect: Expect::At("--request-timeout=1h"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--service-account-lookup"],
            add: &["--service-account-lookup=false"],
            id: "apiserver-service-account-lookup",
            expect: Expect::At("--service-account-lookup=false"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--service-account-key-file"],
            add: &[],
            id: "apiserver-service-account-key-file",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--etcd-certfile", "--etcd-keyfile"],
            add: &[],
            id: "apiserver-etcd-client-cert",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--tls-cert-file"],
            add: &[],
            id: "apiserver-tls-cert",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--client-ca-file"],
            add: &[],
            id: "apiserver-client-ca-file",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--etcd-cafile"],
            add: &[],
            id: "apiserver-etcd-ca-file",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &["--encryption-provider-config"],
            add: &[],
            id: "apiserver-encryption-provider-config",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &[],
            add: &["--tls-cipher-suites=TLS_RSA_WITH_3DES_EDE_CBC_SHA"],
            id: "apiserver-tls-cipher-suites",
            expect: Expect::At("--tls-cipher-suites=TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
        },
        Case {
            program: "kube-apiserver",
            drop: &["--audit-policy-file"],
            add: &[],
            id: "apiserver-audit-policy-file",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-apiserver",
            drop: &[],
            add: &["--insecure-port=8080"],
            id: "apiserver-insecure-port",
            expect: Expect::At("--insecure-port=8080"),
        },
    ];

    const OTHER_CASES: &[Case] = &[
        Case {
            program: "kube-controller-manager",
            drop: &["--terminated-pod-gc-threshold"],
            add: &[],
            id: "controller-manager-terminated-pod-gc-threshold",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-controller-manager",
            drop: &["--profiling"],
            add: &["--profiling=true"],
            id: "controller-manager-profiling",
            expect: Expect::At("--profiling=true"),
        },
        Case {
            program: "kube-controller-manager",
            drop: &["--use-service-account-credentials"],
            add: &[],
            id: "controller-manager-service-account-credentials",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-controller-manager",
            drop: &["--service-account-private-key-file"],
            add: &[],
            id: "controller-manager-service-account-private-key-file",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-controller-manager",
            drop: &["--root-ca-file"],
            add: &[],
            id: "controller-manager-root-ca-file",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-controller-manager",
            drop: &[],
            add: &["--feature-gates=RotateKubeletServerCertificate=false"],
            id: "controller-manager-rotate-kubelet-server-certificate",
            expect: Expect::At("--feature-gates=RotateKubeletServerCertificate=false"),
        },
        Case {
            program: "kube-controller-manager",
            drop: &["--bind-address"],
            add: &[],
            id: "controller-manager-bind-address",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-scheduler",
            drop: &["--profiling"],
            add: &[],
            id: "scheduler-profiling",
            expect: Expect::Missing,
        },
        Case {
            program: "kube-scheduler",
            drop: &["--bind-address"],
            add: &["--bind-address=0.0.0.0"],
            id: "scheduler-bind-address",
            expect: Expect::At("--bind-address=0.0.0.0"),
        },
        Case {
            program: "etcd",
            drop: &["--key-file"],
            add: &[],
            id: "etcd-tls-cert",
            expect: Expect::Missing,
        },
        Case {
            program: "etcd",
            drop: &["--client-cert-auth"],
            add: &[],
            id: "etcd-client-cert-auth",
            expect: Expect::Missing,
        },
        Case {
            program: "etcd",
            drop: &[],
            add: &["--auto-tls=true"],
            id: "etcd-auto-tls",
            expect: Expect::At("--auto-tls=true"),
        },
        Case {
            program: "etcd",
            drop: &["--peer-cert-file", "--peer-key-file"],
            add: &[],
            id: "etcd-peer-tls-cert",
            expect: Expect::Missing,
        },
        Case {
            program: "etcd",
            drop: &["--peer-client-cert-auth"],
            add: &["--peer-client-cert-auth=false"],
            id: "etcd-peer-client-cert-auth",
            expect: Expect::At("--peer-client-cert-auth=false"),
        },
        Case {
            program: "etcd",
            drop: &[],
            add: &["--peer-auto-tls"],
            id: "etcd-peer-auto-tls",
            expect: Expect::At("--peer-auto-tls"),
        },
        Case {
            program: "etcd",
            drop: &["--trusted-ca-file"],
            add: &[],
            id: "etcd-trusted-ca-file",
            expect: Expect::Missing,
        },
    ];

    #[test]
    fn apiserver_weaknesses_are_reported_at_the_flag() {
        let fired = run_cases(APISERVER_CASES);
        assert!(fired.contains("apiserver-anonymous-auth"));
    }

    #[test]
    fn controller_manager_scheduler_and_etcd_weaknesses_are_reported_at_the_flag() {
        let fired = run_cases(OTHER_CASES);
        assert!(fired.contains("etcd-client-cert-auth"));
    }

    const KUBELET_OK: &str = r#"
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
readOnlyPort: 0
rotateCertificates: true
serverTLSBootstrap: true
podPidsLimit: 4096
eventRecordQPS: 50
makeIPTablesUtilChains: true
featureGates:
  RotateKubeletServerCertificate: true
tlsCipherSuites:
- TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
- TLS_AES_128_GCM_SHA256
# kubeadm writes zero durations; the kubelet replaces them with its defaults (4h here).
streamingConnectionIdleTimeout: 0s
"#;

    const KUBELET_WEAK: &str = r#"
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
rotateCertificates: false
tlsCertFile: /var/lib/kubelet/pki/kubelet.crt
podPidsLimit: -1
eventRecordQPS: 0
makeIPTablesUtilChains: false
featureGates:
  RotateKubeletServerCertificate: false
tlsCipherSuites:
- TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
- TLS_RSA_WITH_AES_128_CBC_SHA
- TLS_RSA_WITH_3DES_EDE_CBC_SHA
"#;

    fn kubelet_hits(yaml: &str) -> Vec<(String, String)> {
        let hits = cp(yaml);
        assert!(hits.iter().all(|h| h.container.is_none()));
        hits.into_iter().map(|h| (h.id, h.path)).collect()
    }

    #[test]
    fn hardened_kubelet_configuration_passes() {
        assert_eq!(kubelet_hits(KUBELET_OK), vec![]);
    }

    #[test]
    fn weak_kubelet_configuration_is_reported_at_each_field() {
        let mut hits = kubelet_hits(KUBELET_WEAK);
        hits.sort();
        let expected: Vec<(String, String)> = [
            ("kubelet-anonymous-auth", "authentication.anonymous.enabled"),
            ("kubelet-authorization-always-allow", "authorization.mode"),
            ("kubelet-client-ca-file", "authentication"),
            ("kubelet-event-record-qps", "eventRecordQPS"),
            ("kubelet-iptables-util-chains", "makeIPTablesUtilChains"),
            ("kubelet-pod-pids-limit", "podPidsLimit"),
            ("kubelet-read-only-port", "readOnlyPort"),
            ("kubelet-rotate-certificates", "rotateCertificates"),
            (
                "kubelet-rotate-server-certificate",
                "featureGates.RotateKubeletServerCertificate",
            ),
            ("kubelet-tls-cert", ""),
            ("kubelet-tls-cipher-suites", "tlsCipherSuites[1]"),
        ]
        .iter()
        .map(|(id, path)| (id.to_string(), path.to_string()))
        .collect();
        assert_eq!(hits, expected);
    }

    #[test]
    fn anonymous_kubelet_with_always_allow_says_so() {
        let hits = cp(KUBELET_WEAK);
        let anonymous = hits
            .iter()
            .find(|h| h.id == "kubelet-anonymous-auth")
            .expect("anonymous finding");
        assert!(
            anonymous.message.contains("AlwaysAllow"),
            "{}",
            anonymous.message
        );
        let ciphers = hits
            .iter()
            .find(|h| h.id == "kubelet-tls-cipher-suites")
            .expect("cipher finding");
        assert!(
            ciphers
                .message
                .contains("TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA")
        );
    }

    #[test]
    fn empty_kubelet_configuration_uses_the_config_file_defaults() {
        // Anonymous off, Webhook authorization, read-only port 0, iptables chains on and 50 event
        // QPS are the file defaults; client CA, serving certificate, rotation and the PID limit
        // have no safe default.
        let hits =
            kubelet_hits("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n");
        let expected: Vec<(String, String)> = [
            "kubelet-client-ca-file",
            "kubelet-tls-cert",
            "kubelet-rotate-certificates",
            "kubelet-pod-pids-limit",
        ]
        .iter()
        .map(|id| (id.to_string(), String::new()))
        .collect();
        let mut hits = hits;
        hits.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(hits, expected);
    }

    #[test]
    fn kubelet_serving_certificate_files_satisfy_the_tls_check() {
        let yaml = format!(
            "{}tlsCertFile: /var/lib/kubelet/pki/kubelet.crt\ntlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key\n",
            KUBELET_OK.replace("serverTLSBootstrap: true\n", "")
        );
        assert!(!ids(&cp(&yaml)).contains("kubelet-tls-cert"));
        let without = KUBELET_OK.replace("serverTLSBootstrap: true\n", "");
        assert_eq!(
            kubelet_hits(&without),
            vec![("kubelet-tls-cert".to_string(), String::new())]
        );
    }

    const ENCRYPTION: &str = r#"
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - kms:
      apiVersion: v2
      name: vault
      endpoint: unix:///var/run/kms.sock
  - identity: {}
- resources: [configmaps]
  providers:
  - identity: {}
  - aescbc:
      keys: []
"#;

    #[test]
    fn encryption_configuration_with_identity_first_is_reported() {
        let hits = cp(ENCRYPTION);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].id, "apiserver-encryption-provider");
        assert_eq!(hits[0].path, "resources[1].providers[0].identity");
        assert!(hits[0].message.contains("configmaps"));
        assert!(hits[0].message.contains("unencrypted"));
    }

    #[test]
    fn every_check_has_a_failing_case() {
        let mut fired = run_cases(APISERVER_CASES);
        fired.extend(run_cases(OTHER_CASES));
        fired.extend(ids(&cp(KUBELET_WEAK)));
        fired.extend(ids(&cp(ENCRYPTION)));
        let all: BTreeSet<String> = SPECS.iter().map(|s| s.id.to_string()).collect();
        let never: Vec<&String> = all.difference(&fired).collect();
        assert!(never.is_empty(), "checks without a failing case: {never:?}");
    }

    #[test]
    fn catalogue_entries_are_control_plane_with_valid_cis_numbers() {
        let checks = checks();
        assert_eq!(checks.len(), SPECS.len());
        for check in &checks {
            assert_eq!(check.category, Category::ControlPlane);
            for number in &check.frameworks.cis {
                let section = number.split('.').next().unwrap_or("");
                assert!(
                    ["1", "2", "3", "4"].contains(&section),
                    "{} has CIS {number}",
                    check.id
                );
            }
        }
    }

    // ---- the API server's defaults and the interplay of its flags ----

    #[test]
    fn apiserver_without_authorization_flags_defaults_to_always_allow() {
        let flags = with(APISERVER_OK, &["--authorization-mode"], &[]);
        let hits = cp(&static_pod("kube-apiserver", &flags));
        let found = ids(&hits);
        assert!(found.contains("apiserver-authorization-always-allow"));
        assert!(found.contains("apiserver-authorization-node"));
        assert!(found.contains("apiserver-authorization-rbac"));
        assert!(hits.iter().all(|h| h.path == COMMAND));
    }

    #[test]
    fn anonymous_auth_is_not_reported_when_always_allow_turns_it_off() {
        // kube-apiserver resets anonymous auth to false when AlwaysAllow is an authorizer.
        let flags = with(
            APISERVER_OK,
            &["--anonymous-auth", "--authorization-mode"],
            &["--authorization-mode=AlwaysAllow"],
        );
        let found = ids(&cp(&static_pod("kube-apiserver", &flags)));
        assert!(found.contains("apiserver-authorization-always-allow"));
        assert!(!found.contains("apiserver-anonymous-auth"));
    }

    #[test]
    fn structured_configuration_files_silence_what_they_decide() {
        let flags = with(
            APISERVER_OK,
            &["--anonymous-auth", "--authorization-mode"],
            &[
                "--authentication-config=/etc/kubernetes/authn.yaml",
                "--authorization-config=/etc/kubernetes/authz.yaml",
            ],
        );
        assert_eq!(cp(&static_pod("kube-apiserver", &flags)), vec![]);
    }

    #[test]
    fn audit_to_a_webhook_or_stdout_needs_no_log_file_settings() {
        let flags = with(
            APISERVER_OK,
            &[
                "--audit-log-path",
                "--audit-log-maxage",
                "--audit-log-maxbackup",
                "--audit-log-maxsize",
            ],
            &["--audit-webhook-config-file=/etc/kubernetes/audit-webhook.yaml"],
        );
        assert_eq!(cp(&static_pod("kube-apiserver", &flags)), vec![]);
        let flags = with(
            APISERVER_OK,
            &["--audit-log-path", "--audit-log-maxage"],
            &["--audit-log-path=-", "--audit-log-maxage=1"],
        );
        assert_eq!(cp(&static_pod("kube-apiserver", &flags)), vec![]);
        // Unset retention flags keep everything (maxage/maxbackup 0, maxsize 100 MB).
        let flags = with(
            APISERVER_OK,
            &[
                "--audit-log-maxage",
                "--audit-log-maxbackup",
                "--audit-log-maxsize",
            ],
            &[],
        );
        assert_eq!(cp(&static_pod("kube-apiserver", &flags)), vec![]);
    }

    #[test]
    fn audit_log_without_policy_records_nothing() {
        let flags = with(APISERVER_OK, &["--audit-policy-file"], &[]);
        let hits = cp(&static_pod("kube-apiserver", &flags));
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].message.contains("records no events"),
            "{}",
            hits[0].message
        );
    }

    #[test]
    fn admission_plugins_accumulate_over_repeated_flags() {
        let flags = with(
            APISERVER_OK,
            &["--enable-admission-plugins"],
            &[
                "--enable-admission-plugins=NodeRestriction,EventRateLimit",
                "--enable-admission-plugins=AlwaysPullImages",
                "--admission-control=DenyServiceExternalIPs",
            ],
        );
        assert_eq!(cp(&static_pod("kube-apiserver", &flags)), vec![]);
    }

    #[test]
    fn a_plugin_both_enabled_and_disabled_is_off() {
        let flags = with(
            APISERVER_OK,
            &[],
            &["--disable-admission-plugins=NodeRestriction"],
        );
        let hits = cp(&static_pod("kube-apiserver", &flags));
        assert_eq!(
            ids(&hits),
            BTreeSet::from(["apiserver-node-restriction".to_string()])
        );
        assert_eq!(
            hits[0].path,
            command_path(&flags, "--disable-admission-plugins=NodeRestriction")
        );
    }

    #[test]
    fn last_occurrence_of_a_scalar_flag_wins() {
        let flags = with(
            APISERVER_OK,
            &["--profiling"],
            &["--profiling=true", "--profiling=false"],
        );
        assert_eq!(cp(&static_pod("kube-apiserver", &flags)), vec![]);
        let flags = with(
            APISERVER_OK,
            &["--profiling"],
            &["--profiling=false", "--profiling=true"],
        );
        let hits = cp(&static_pod("kube-apiserver", &flags));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].path, command_path(&flags, "--profiling=true"));
    }

    #[test]
    fn values_may_follow_the_flag_as_the_next_word() {
        // `--flag value` as separate words; bare booleans do not swallow the next word.
        let mut flags = with(
            APISERVER_OK,
            &["--anonymous-auth", "--authorization-mode"],
            &[],
        );
        flags.extend([
            "--anonymous-auth".to_string(),
            "--authorization-mode".to_string(),
            "RBAC".to_string(),
        ]);
        let hits = cp(&static_pod("kube-apiserver", &flags));
        let found: Vec<(&str, &str)> = hits
            .iter()
            .map(|h| (h.id.as_str(), h.path.as_str()))
            .collect();
        let anonymous = command_path(&flags, "--anonymous-auth");
        let mode = command_path(&flags, "--authorization-mode");
        assert_eq!(
            found,
            vec![
                ("apiserver-anonymous-auth", anonymous.as_str()),
                ("apiserver-authorization-node", mode.as_str()),
            ]
        );
    }

    #[test]
    fn quoted_and_go_spelled_booleans_are_understood() {
        let flags = with(
            ETCD_OK,
            &["--client-cert-auth"],
            &["--client-cert-auth=\\\"TRUE\\\""],
        );
        assert_eq!(cp(&static_pod("etcd", &flags)), vec![]);
        let flags = with(ETCD_OK, &["--client-cert-auth"], &["-client-cert-auth=0"]);
        let hits = cp(&static_pod("etcd", &flags));
        assert_eq!(
            ids(&hits),
            BTreeSet::from(["etcd-client-cert-auth".to_string()])
        );
        // Not a boolean at all: etcd would not start, so nothing is judged.
        let flags = with(
            ETCD_OK,
            &["--client-cert-auth"],
            &["--client-cert-auth=yes"],
        );
        assert_eq!(cp(&static_pod("etcd", &flags)), vec![]);
    }

    #[test]
    fn etcd_reads_flags_from_the_environment_and_arguments_win() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: etcd, namespace: kube-system}
spec:
  containers:
  - name: etcd
    image: registry.k8s.io/etcd:3.6.5-0
    command: [etcd, --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt, --peer-client-cert-auth=true]
    env:
    - {name: ETCD_CERT_FILE, value: /etc/kubernetes/pki/etcd/server.crt}
    - {name: ETCD_KEY_FILE, value: /etc/kubernetes/pki/etcd/server.key}
    - {name: ETCD_CLIENT_CERT_AUTH, value: "false"}
    - {name: ETCD_PEER_CERT_FILE, value: /etc/kubernetes/pki/etcd/peer.crt}
    - {name: ETCD_PEER_KEY_FILE, value: /etc/kubernetes/pki/etcd/peer.key}
    - {name: ETCD_PEER_CLIENT_CERT_AUTH, value: "false"}
"#;
        let hits = cp(yaml);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].id, "etcd-client-cert-auth");
        assert_eq!(hits[0].path, "spec.containers[0].env[2].value");
        assert!(hits[0].message.contains("ETCD_CLIENT_CERT_AUTH=false"));
    }

    #[test]
    fn etcd_with_a_config_file_is_not_judged_on_flags() {
        let flags = vec!["--config-file=/etc/etcd/etcd.yaml".to_string()];
        assert_eq!(cp(&static_pod("etcd", &flags)), vec![]);
    }

    #[test]
    fn scheduler_profiling_is_ignored_with_a_config_file() {
        let flags = with(
            SCHEDULER_OK,
            &["--profiling"],
            &["--config=/etc/kubernetes/scheduler-config.yaml"],
        );
        assert_eq!(cp(&static_pod("kube-scheduler", &flags)), vec![]);
    }

    #[test]
    fn loopback_bind_addresses_pass() {
        for address in ["127.0.0.1", "::1", "127.0.0.2"] {
            let flags = with(
                SCHEDULER_OK,
                &["--bind-address"],
                &[&format!("--bind-address={address}")],
            );
            assert_eq!(
                cp(&static_pod("kube-scheduler", &flags)),
                vec![],
                "{address}"
            );
        }
    }

    // ---- recognising control-plane containers ----

    #[test]
    fn components_are_recognised_by_path_args_name_and_hyperkube() {
        let by_path = r#"
apiVersion: v1
kind: Pod
metadata: {name: sched, namespace: kube-system}
spec:
  containers:
  - name: scheduler
    image: example/sched
    command: [/usr/local/bin/kube-scheduler, --bind-address=0.0.0.0, --profiling=false]
"#;
        let hits = cp(by_path);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].container.as_deref(), Some("scheduler"));
        assert_eq!(hits[0].path, "spec.containers[0].command[1]");

        let by_args = r#"
apiVersion: v1
kind: Pod
metadata: {name: sched, namespace: kube-system}
spec:
  containers:
  - name: main
    image: example/sched
    args: [kube-scheduler, --profiling=false]
"#;
        let hits = cp(by_args);
        assert_eq!(
            ids(&hits),
            BTreeSet::from(["scheduler-bind-address".to_string()])
        );
        assert_eq!(hits[0].path, "spec.containers[0].args");

        let by_label = r#"
apiVersion: v1
kind: Pod
metadata: {name: sched, namespace: kube-system, labels: {component: kube-scheduler}}
spec:
  containers:
  - name: main
    image: registry.k8s.io/kube-scheduler:v1.36.2
    args: [--bind-address=127.0.0.1, --profiling]
"#;
        let hits = cp(by_label);
        assert_eq!(
            ids(&hits),
            BTreeSet::from(["scheduler-profiling".to_string()])
        );
        assert_eq!(hits[0].path, "spec.containers[0].args[1]");

        let hyperkube = r#"
apiVersion: v1
kind: Pod
metadata: {name: kube-controller-manager, namespace: kube-system}
spec:
  containers:
  - name: kube-controller-manager
    image: k8s.gcr.io/hyperkube:v1.15.0
    command:
    - /hyperkube
    - controller-manager
    - --bind-address=127.0.0.1
    - --profiling=false
    - --root-ca-file=/etc/kubernetes/pki/ca.crt
    - --service-account-private-key-file=/etc/kubernetes/pki/sa.key
    - --terminated-pod-gc-threshold=100
    - --use-service-account-credentials
"#;
        assert_eq!(cp(hyperkube), vec![]);
    }

    #[test]
    fn pods_outside_the_control_plane_are_not_judged() {
        let shop = r#"
apiVersion: v1
kind: Pod
metadata: {name: etcd, namespace: shop}
spec:
  containers:
  - name: etcd
    image: bitnami/etcd:3.5
    command: [etcd]
"#;
        assert_eq!(cp(shop), vec![]);
        let wrapped = r#"
apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver, namespace: kube-system}
spec:
  containers:
  - name: wrapper
    image: example/wrapper
    command: [/bin/sh, -c, "exec kube-apiserver --anonymous-auth=true"]
"#;
        assert_eq!(cp(wrapped), vec![]);
        let deployment = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: kube-apiserver, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - name: kube-apiserver
        image: registry.k8s.io/kube-apiserver:v1.36.2
        command: [kube-apiserver]
"#;
        assert_eq!(cp(deployment), vec![]);
    }

    #[test]
    fn malformed_manifests_do_not_panic() {
        for yaml in [
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, 42, {a: b}, --, --anonymous-auth=true]\n",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: kube-system}\nspec:\n  containers:\n  - name: etcd\n    command: [etcd, \"-\", \"---\"]\n    env: [{name: ETCD_X}, 7, {name: ETCD_Y, valueFrom: {}}]\n",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: kube-system}\nspec:\n  containers: {a: b}\n",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication: 3\nreadOnlyPort: nope\ntlsCipherSuites: {a: 1}\nfeatureGates: []\n",
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: [1, {providers: []}, {providers: [identity]}, {resources: 3, providers: [{}]}]\n",
        ] {
            let _ = cp(yaml);
        }
        // Positional words after `--` are not flags.
        let hits = cp(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --, --anonymous-auth=true]\n",
        );
        assert!(hits.iter().all(|h| h.path == COMMAND), "{hits:?}");
    }

    // ---- helpers ----

    #[test]
    fn go_durations_and_booleans_parse_like_go() {
        assert_eq!(parse_go_duration("300s"), Some(300.0));
        assert_eq!(parse_go_duration("5m"), Some(300.0));
        assert_eq!(parse_go_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_go_duration("1.5h"), Some(5400.0));
        assert_eq!(parse_go_duration("0"), Some(0.0));
        assert_eq!(parse_go_duration("-2s"), Some(-2.0));
        assert_eq!(parse_go_duration("500ms"), Some(0.5));
        assert_eq!(parse_go_duration("60"), None);
        assert_eq!(parse_go_duration("5 m"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_bool("T"), Some(true));
        assert_eq!(parse_go_bool("False"), Some(false));
        assert_eq!(parse_go_bool("yes"), None);
    }

    #[test]
    fn flags_parse_every_spelling() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver, namespace: kube-system}
spec:
  containers:
  - name: kube-apiserver
    command: [kube-apiserver, --profiling, --secure-port, "6443", --authorization-mode=Node, --authorization-mode=RBAC]
    args: [--tls-cipher-suites, "A,B", "--etcd-servers='https://127.0.0.1:2379'"]
"#;
        let resource = resources(yaml).pop().expect("one resource");
        let pod = PodView::of(&resource).expect("pod");
        let container = pod.containers().next().expect("container");
        let invocation = Invocation::of(&container, None, true).expect("recognised");
        assert_eq!(invocation.component, Component::ApiServer);
        let flags = Flags::parse(&invocation, &container);
        assert!(matches!(
            flags.boolean("profiling"),
            Setting::Value(true, _)
        ));
        assert_eq!(flags.last("secure-port").map(Flag::text), Some("6443"));
        assert_eq!(
            flags
                .items("authorization-mode")
                .iter()
                .map(|(m, _)| *m)
                .collect::<Vec<_>>(),
            vec!["Node", "RBAC"]
        );
        let suites = flags.items("tls-cipher-suites");
        assert_eq!(
            suites.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec!["A", "B"]
        );
        assert_eq!(suites[0].1.path.to_string(), "spec.containers[0].args[0]");
        assert_eq!(
            flags.last("etcd-servers").map(Flag::text),
            Some("https://127.0.0.1:2379")
        );
    }
}
