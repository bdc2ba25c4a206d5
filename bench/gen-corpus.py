#!/usr/bin/env python3
"""Deterministic generator of a mixed Kubernetes manifest corpus for benchmarks.

The corpus is modelled on the demo cluster in /work/shared/data/kube/manifests/: each namespace
holds "apps" (a workload plus the ServiceAccount, ConfigMaps, Secrets, Service, Ingress,
NetworkPolicy and RBAC that usually ship with it), with the same kinds of deliberate
misconfigurations (privileged containers, hostPath mounts, `latest` tags, missing resources,
literal secrets in env vars, wildcard RBAC, NodePort/LoadBalancer services) at realistic rates, so a
scanner has real work to do on every object.

Output is a pure function of the options and --seed: the same command always writes byte-identical
files, so runs on different machines or days compare like with like.

Layouts:
  default         --files files (default N/100) of ~100 objects each, file k holds namespace
                  ns-(k mod --namespaces) plus some cluster-scoped RBAC; the first file of each
                  namespace starts with its Namespace object.
  --single-file   the same objects as one multi-document YAML stream (corpus.yaml).
  --list-json     one `kind: List` JSON document (corpus.json) shaped like `kubectl get -A -o json`
                  output: server-populated metadata (uid, resourceVersion, creationTimestamp) and
                  4-space indentation.
  --target-bytes  ignore --objects and keep generating until the output reaches B bytes (used
                  for the 100 MB bounded-memory case); implies one output file.
  --kinds         keep only these kinds (e.g. `ConfigMap` for an input that yields almost no
                  findings, which separates the memory a scanner needs for the input from the
                  memory its findings take).

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import sys
import uuid
from typing import Any, Iterator

# --------------------------------------------------------------------------------------------
# YAML emission (block style, like hand-written manifests)
# --------------------------------------------------------------------------------------------

# Plain (unquoted) scalars are only used when no YAML 1.1 or 1.2 resolver could read them as
# anything but a string; everything else is written JSON-quoted, which is valid YAML.
_PLAIN = re.compile(r"^[A-Za-z0-9_/.$][A-Za-z0-9_./@$()=+:,-]*$")
_NUMBER_LIKE = re.compile(r"^[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?$|^0[xXoObB]")
_DATE_LIKE = re.compile(r"^\d{4}-\d\d?-\d\d?")
_RESERVED = {
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ".inf", ".nan", "-.inf", "+.inf",
}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if (
        _PLAIN.match(text)
        and text.lower() not in _RESERVED
        and not _NUMBER_LIKE.match(text)
        and not _DATE_LIKE.match(text)
        and not text.endswith(":")
        # Digits with a colon are sexagesimal integers in YAML 1.1 (`1:20` is 80).
        and not (text[0].isdigit() and ":" in text)
        and ": " not in text
    ):
        return text
    return json.dumps(text)


def _is_flat(seq: list) -> bool:
    return all(not isinstance(x, (dict, list)) and not (isinstance(x, str) and "\n" in x)
               for x in seq)


def _emit_inline(prefix: str, value: Any, indent: int, lines: list[str]) -> None:
    """Writes a value that fits after `key:` or `-`: a scalar, a flow list of scalars, an empty
    collection, or a block literal."""
    if isinstance(value, str) and "\n" in value:
        # Every multi-line value the generator builds ends in exactly one newline, which is what
        # `|` (clip chomping) restores on parsing.
        body = value[:-1] if value.endswith("\n") else value
        lines.append(f"{prefix} {'|' if value.endswith(chr(10)) else '|-'}")
        pad = " " * (indent + 2)
        for line in body.split("\n"):
            lines.append(pad + line if line else "")
    elif isinstance(value, list):
        lines.append(f"{prefix} [{', '.join(json.dumps(x) if isinstance(x, str) else _scalar(x) for x in value)}]")
    elif isinstance(value, dict):
        lines.append(f"{prefix} {{}}")
    else:
        lines.append(f"{prefix} {_scalar(value)}")


def _emit_mapping(mapping: dict, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        head = f"{pad}{_scalar(key)}:"
        if isinstance(value, dict) and value:
            lines.append(head)
            _emit_mapping(value, indent + 2, lines)
        elif isinstance(value, list) and value and not _is_flat(value):
            lines.append(head)
            # kubectl style: the dash sits at the key's indentation.
            _emit_sequence(value, indent, lines)
        else:
            _emit_inline(head, value, indent, lines)


def _emit_sequence(seq: list, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in seq:
        if isinstance(item, dict) and item:
            sub: list[str] = []
            _emit_mapping(item, indent + 2, sub)
            sub[0] = pad + "- " + sub[0][indent + 2:]
            lines.extend(sub)
        elif isinstance(item, list) and item:
            raise ValueError("nested sequences are not generated")
        else:
            _emit_inline(pad + "-", item, indent, lines)


def to_yaml(obj: dict, comment: str | None = None) -> str:
    lines: list[str] = []
    if comment:
        lines.append(f"# {comment}")
    _emit_mapping(obj, 0, lines)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Object model
# --------------------------------------------------------------------------------------------

APP_BASES = [
    "frontend", "cart", "catalog", "checkout", "payments-api", "ledger", "search", "recommender",
    "auth", "gateway", "orders", "inventory", "shipping", "notifications", "reports", "billing",
    "profile", "media", "analytics", "webhooks",
]
TEAMS = ["storefront", "payments", "platform", "data", "growth", "identity"]

# (image, ports) pools: pinned versions, floating `latest`, untagged, and digest-pinned references.
IMAGES_PINNED = [
    "nginxinc/nginx-unprivileged:1.27.3", "redis:7.2.5", "postgres:16.4", "python:3.12-slim",
    "node:20.17-alpine", "golang:1.23-bookworm", "quay.io/prometheus/node-exporter:v1.8.2",
    "grafana/grafana:11.2.0", "docker.io/library/httpd:2.4.62", "ghcr.io/acme-shop/cart:2.4.1",
    "registry.k8s.io/pause:3.10", "envoyproxy/envoy:v1.31.2", "fluent/fluent-bit:3.1.9",
]
IMAGES_FLOATING = [
    "ghcr.io/acme-shop/cart:latest", "nicolaka/netshoot:latest", "busybox:latest",
    "prom/prometheus:latest", "acmeshop/catalog", "alpine", "ubuntu:latest",
]
IMAGE_DIGEST = "ghcr.io/acme-shop/{app}@sha256:{digest}"

# Every kind the generator writes; `--kinds` must name only these or it would never finish.
KINDS = frozenset({
    "Namespace", "ServiceAccount", "ConfigMap", "Secret", "Deployment", "StatefulSet", "DaemonSet",
    "CronJob", "Job", "Pod", "Service", "Ingress", "NetworkPolicy", "Role", "RoleBinding",
    "ClusterRole", "ClusterRoleBinding",
})

HOST_PATHS = ["/", "/var/run/docker.sock", "/var/log", "/etc", "/proc", "/var/lib/kubelet",
              "/run/containerd/containerd.sock", "/sys"]
DANGEROUS_CAPS = ["SYS_ADMIN", "NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_MODULE", "ALL"]
SAFE_CAPS = ["NET_BIND_SERVICE", "CHOWN"]


class Generator:
    """Produces the object stream. All randomness comes from one seeded `random.Random`, consumed
    in a fixed order, so the stream depends only on the seed and the layout parameters."""

    def __init__(self, seed: int, namespaces: int, with_server_fields: bool,
                 kinds: frozenset[str] = frozenset()) -> None:
        self.rng = random.Random(seed)
        self.kinds = kinds
        self.namespaces = namespaces
        self.with_server_fields = with_server_fields
        self.resource_version = 1000
        self.app_counter = 0

    # -- helpers ---------------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq: list) -> Any:
        return seq[self.rng.randrange(len(seq))]

    def weighted(self, pairs: list[tuple[Any, float]]) -> Any:
        total = sum(w for _, w in pairs)
        x = self.rng.random() * total
        for value, w in pairs:
            x -= w
            if x < 0:
                return value
        return pairs[-1][0]

    def hexstr(self, n: int) -> str:
        return "".join(self.pick("0123456789abcdef") for _ in range(n))

    def meta(self, name: str, namespace: str | None, labels: dict | None = None,
             annotations: dict | None = None) -> dict:
        m: dict[str, Any] = {"name": name}
        if namespace is not None:
            m["namespace"] = namespace
        if labels:
            m["labels"] = labels
        if annotations:
            m["annotations"] = annotations
        if self.with_server_fields:
            # What the API server adds and `kubectl get -o json` prints (managedFields are hidden
            # by default since kubectl 1.21).
            self.resource_version += self.rng.randrange(1, 50)
            m["creationTimestamp"] = (
                f"2026-11-{self.rng.randrange(1, 27):02d}T{self.rng.randrange(24):02d}:"
                f"{self.rng.randrange(60):02d}:{self.rng.randrange(60):02d}Z"
            )
            m["resourceVersion"] = str(self.resource_version)
            m["uid"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return m

    # -- containers and pod specs ----------------------------------------------------------

    def image(self, app: str) -> str:
        kind = self.weighted([("pinned", 60), ("floating", 25), ("digest", 15)])
        if kind == "pinned":
            return self.pick(IMAGES_PINNED)
        if kind == "floating":
            return self.pick(IMAGES_FLOATING)
        return IMAGE_DIGEST.format(app=app, digest=self.hexstr(64))

    def container(self, app: str, name: str, port: int, config_map: str | None,
                  secret: str | None, role: str) -> dict:
        c: dict[str, Any] = {"name": name, "image": self.image(app)}
        if self.chance(0.3):
            c["imagePullPolicy"] = self.pick(["Always", "IfNotPresent"])
        if role == "main":
            if self.chance(0.35):
                c["command"] = [f"/app/{app}"]
                c["args"] = [f"--port={port}", f"--log-level={self.pick(['info', 'debug', 'warn'])}"]
            c["ports"] = [{"containerPort": port, "name": "http"}]
            if self.chance(0.05):
                c["ports"][0]["hostPort"] = port
        elif role.startswith("sidecar"):
            metrics = 9900 + int(role[len("sidecar"):] or 0)
            c["args"] = [f"--upstream=127.0.0.1:{port}", f"--metrics-port={metrics}"]
            c["ports"] = [{"containerPort": metrics, "name": f"metrics-{metrics - 9900}"}]
        else:  # init
            c["command"] = ["sh", "-c", f"until nslookup {app}-db; do sleep 2; done"]

        env: list[dict] = []
        for i in range(self.rng.randrange(0, 6)):
            env.append({"name": f"{app.upper().replace('-', '_')}_SETTING_{i}",
                        "value": self.pick(["true", "info", "8080", "https://api.example.com", "3"])})
        if secret and self.chance(0.6):
            env.append({"name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}})
        if self.chance(0.06):
            # Literal credential in the pod spec, as in the demo's fluentd DaemonSet.
            env.append({"name": self.pick(["DB_PASSWORD", "API_TOKEN", "AWS_SECRET_ACCESS_KEY"]),
                        "value": f"dummy-{self.hexstr(16)}"})
        if self.chance(0.15):
            env.append({"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
        if env:
            c["env"] = env
        if config_map and self.chance(0.4):
            c["envFrom"] = [{"configMapRef": {"name": config_map}}]

        res = self.weighted([("full", 55), ("requests", 20), ("none", 25)])
        if res != "none":
            # Limits are drawn at or above the requests: the API server rejects anything else.
            cpus = ["50m", "100m", "250m", "500m", "1", "2"]
            mems = ["64Mi", "128Mi", "256Mi", "1Gi", "2Gi"]
            cpu = self.rng.randrange(4)
            mem = self.rng.randrange(4)
            c["resources"] = {"requests": {"cpu": cpus[cpu], "memory": mems[mem]}}
            if res == "full":
                c["resources"]["limits"] = {"cpu": cpus[self.rng.randrange(cpu, len(cpus))],
                                            "memory": mems[self.rng.randrange(mem, len(mems))]}

        if role == "main":
            if self.chance(0.6):
                c["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"},
                                       "periodSeconds": 10}
            if self.chance(0.5):
                c["livenessProbe"] = self.pick([
                    {"httpGet": {"path": "/livez", "port": "http"}, "initialDelaySeconds": 15},
                    {"tcpSocket": {"port": port}},
                    {"exec": {"command": ["cat", "/tmp/healthy"]}},
                ])

        sc: dict[str, Any] = {}
        posture = self.weighted([("hardened", 40), ("partial", 35), ("none", 15), ("bad", 10)])
        if posture == "hardened":
            sc = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                  "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
            if self.chance(0.3):
                sc["capabilities"]["add"] = [self.pick(SAFE_CAPS)]
        elif posture == "partial":
            if self.chance(0.6):
                sc["allowPrivilegeEscalation"] = False
            if self.chance(0.4):
                sc["readOnlyRootFilesystem"] = True
            if self.chance(0.3):
                sc["runAsUser"] = self.pick([1000, 65534, 101])
        elif posture == "bad":
            flavour = self.weighted([("privileged", 40), ("root", 30), ("caps", 20), ("escalate", 10)])
            if flavour == "privileged":
                sc = {"privileged": True}
            elif flavour == "root":
                sc = {"runAsUser": 0, "allowPrivilegeEscalation": True}
            elif flavour == "caps":
                sc = {"capabilities": {"add": [self.pick(DANGEROUS_CAPS)]}}
            else:
                sc = {"allowPrivilegeEscalation": True}
            if self.chance(0.2):
                sc["procMount"] = "Unmasked"
        if sc:
            c["securityContext"] = sc
        return c

    def pod_spec(self, app: str, namespace: str, sa: str | None, config_map: str | None,
                 secret: str | None, port: int, restart: str | None, daemon: bool) -> dict:
        spec: dict[str, Any] = {}
        if sa:
            spec["serviceAccountName"] = sa
        if self.chance(0.3):
            spec["automountServiceAccountToken"] = False
        if restart:
            spec["restartPolicy"] = restart
        # DaemonSets are the node agents, which is where host namespaces show up in practice.
        host_bias = 4 if daemon else 1
        if self.chance(0.03 * host_bias):
            spec["hostNetwork"] = True
        if self.chance(0.02 * host_bias):
            spec["hostPID"] = True
        if self.chance(0.01 * host_bias):
            spec["hostIPC"] = True
        psc = self.weighted([("restricted", 40), ("nonroot", 25), ("none", 35)])
        if psc == "restricted":
            uid = self.pick([101, 999, 1000, 65534])
            spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid,
                                       "fsGroup": uid, "seccompProfile": {"type": "RuntimeDefault"}}
        elif psc == "nonroot":
            spec["securityContext"] = {"runAsNonRoot": True}
            if self.chance(0.1):
                spec["securityContext"]["seccompProfile"] = {"type": "Unconfined"}
            if self.chance(0.05):
                spec["securityContext"]["sysctls"] = [{"name": "kernel.shm_rmid_forced", "value": "1"}]
        if daemon:
            spec["tolerations"] = [{"operator": "Exists"}]
        elif self.chance(0.2):
            spec["nodeSelector"] = {"kubernetes.io/os": "linux"}

        n_containers = self.weighted([(1, 60), (2, 30), (3, 10)])
        containers = [self.container(app, app, port, config_map, secret, "main")]
        for i in range(1, n_containers):
            containers.append(self.container(app, self.pick(["envoy", "log-shipper", "metrics"]) + f"-{i}",
                                             port, config_map, secret, f"sidecar{i}"))
        if self.chance(0.15):
            spec["initContainers"] = [self.container(app, "wait-for-db", port, None, None, "init")]
        spec["containers"] = containers

        volumes: list[dict] = []
        mounts: list[dict] = []
        if config_map and self.chance(0.5):
            volumes.append({"name": "config", "configMap": {"name": config_map}})
            mounts.append({"name": "config", "mountPath": f"/etc/{app}", "readOnly": True})
        if self.chance(0.4):
            volumes.append({"name": "tmp", "emptyDir": self.pick([{}, {"medium": "Memory", "sizeLimit": "16Mi"}])})
            mounts.append({"name": "tmp", "mountPath": "/tmp"})
        if secret and self.chance(0.2):
            volumes.append({"name": "creds", "secret": {"secretName": secret, "defaultMode": 0o400}})
            mounts.append({"name": "creds", "mountPath": "/var/run/creds", "readOnly": True})
        if self.chance(0.16 if daemon else 0.04):
            path = self.pick(HOST_PATHS)
            hp: dict[str, Any] = {"path": path}
            if path.endswith(".sock"):
                hp["type"] = "Socket"
            volumes.append({"name": "host", "hostPath": hp})
            mounts.append({"name": "host", "mountPath": "/host" + ("" if path == "/" else path)})
        if volumes:
            spec["volumes"] = volumes
            containers[0]["volumeMounts"] = mounts
        return spec

    def template(self, app: str, labels: dict, spec: dict) -> dict:
        t: dict[str, Any] = {"metadata": {"labels": dict(labels)}}
        if self.chance(0.3):
            t["metadata"]["annotations"] = {"prometheus.io/scrape": "true", "prometheus.io/port": "9901"}
        t["spec"] = spec
        return t

    # -- one app: a workload and what ships with it ----------------------------------------

    def app(self, namespace: str, scope: str) -> Iterator[dict]:
        self.app_counter += 1
        app = f"{self.pick(APP_BASES)}-{self.app_counter}"
        labels = {"app": app, "app.kubernetes.io/part-of": namespace}
        port = self.pick([8080, 8443, 3000, 9090, 5000, 6379])
        workload = self.weighted([("Deployment", 52), ("StatefulSet", 12), ("DaemonSet", 6),
                                  ("CronJob", 11), ("Job", 7), ("Pod", 12)])

        sa = None
        if self.chance(0.8):
            sa = app
            obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount",
                                   "metadata": self.meta(app, namespace)}
            if self.chance(0.3):
                obj["automountServiceAccountToken"] = False
            yield obj

        config_map = None
        for i in range(self.weighted([(0, 10), (1, 60), (2, 30)])):
            name = f"{app}-config" if i == 0 else f"{app}-settings"
            config_map = config_map or name
            if self.chance(0.4):
                data = {"app.conf": (
                    f"server {{\n  listen {port};\n  location / {{ proxy_pass http://{app}.{namespace}"
                    f".svc.cluster.local:{port}/; }}\n}}\n")}
            else:
                data = {"LOG_LEVEL": self.pick(["info", "debug"]), "PORT": str(port),
                        "UPSTREAM_URL": f"http://{app}-backend.{namespace}.svc.cluster.local:8080",
                        "FEATURE_FLAGS": "new-checkout,beta-search"}
            yield {"apiVersion": "v1", "kind": "ConfigMap", "metadata": self.meta(name, namespace),
                   "data": data}

        secret = None
        if self.chance(0.7):
            secret = f"{app}-credentials"
            stype = self.weighted([("Opaque", 80), ("kubernetes.io/dockerconfigjson", 10),
                                   ("kubernetes.io/service-account-token", 10)])
            obj = {"apiVersion": "v1", "kind": "Secret", "type": stype}
            if stype == "Opaque":
                obj["metadata"] = self.meta(secret, namespace)
                payload = {"username": app, "password": f"dummy-{app}-pass-{self.hexstr(8)}"}
                if self.chance(0.5):
                    obj["stringData"] = payload
                else:
                    obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in payload.items()}
            elif stype == "kubernetes.io/dockerconfigjson":
                obj["metadata"] = self.meta(secret, namespace)
                auth = base64.b64encode(b"acme-ci:dummy-registry-token-0000").decode()
                obj["stringData"] = {".dockerconfigjson": json.dumps(
                    {"auths": {"ghcr.io": {"username": "acme-ci", "password": "dummy-registry-token-0000",
                                           "auth": auth}}}, separators=(",", ":"))}
            else:
                obj["metadata"] = self.meta(secret, namespace,
                                            annotations={"kubernetes.io/service-account.name": sa or "default"})
            yield obj

        daemon = workload == "DaemonSet"
        restart = {"CronJob": "OnFailure", "Job": "Never", "Pod": self.pick([None, "Never", "Always"])}.get(workload)
        spec = self.pod_spec(app, namespace, sa, config_map, secret, port, restart, daemon)
        wl_meta = self.meta(app, namespace, labels=dict(labels))
        if workload in ("Deployment", "StatefulSet", "DaemonSet"):
            body: dict[str, Any] = {}
            if workload != "DaemonSet":
                body["replicas"] = self.pick([1, 2, 3, 5])
            if workload == "StatefulSet":
                body["serviceName"] = app
            body["selector"] = {"matchLabels": {"app": app}}
            body["template"] = self.template(app, labels, spec)
            if workload == "StatefulSet":
                body["volumeClaimTemplates"] = [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                             "resources": {"requests": {"storage": self.pick(["1Gi", "10Gi", "50Gi"])}}}}]
            obj = {"apiVersion": "apps/v1", "kind": workload, "metadata": wl_meta, "spec": body}
            if self.with_server_fields:
                obj["status"] = {"observedGeneration": 1, "replicas": body.get("replicas", 2),
                                 "readyReplicas": body.get("replicas", 2)}
            yield obj
        elif workload == "CronJob":
            yield {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": wl_meta, "spec": {
                "schedule": self.pick(["*/5 * * * *", "0 2 * * *", "30 */6 * * *"]),
                "concurrencyPolicy": self.pick(["Forbid", "Allow", "Replace"]),
                "jobTemplate": {"spec": {"backoffLimit": 1, "template": self.template(app, labels, spec)}}}}
        elif workload == "Job":
            yield {"apiVersion": "batch/v1", "kind": "Job", "metadata": wl_meta, "spec": {
                "backoffLimit": self.pick([0, 1, 4]), "template": self.template(app, labels, spec)}}
        else:
            obj = {"apiVersion": "v1", "kind": "Pod", "metadata": wl_meta, "spec": spec}
            if self.with_server_fields:
                obj["status"] = {"phase": "Running", "podIP": f"10.244.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"}
            yield obj

        serves = workload in ("Deployment", "StatefulSet", "DaemonSet", "Pod")
        if serves and self.chance(0.9):
            stype = "ClusterIP" if workload == "StatefulSet" else self.weighted(
                [("ClusterIP", 75), ("NodePort", 12), ("LoadBalancer", 13)])
            svc_spec: dict[str, Any] = {}
            if stype != "ClusterIP":
                svc_spec["type"] = stype
            if workload == "StatefulSet":
                svc_spec["clusterIP"] = "None"
            svc_spec["selector"] = {"app": app}
            svc_port: dict[str, Any] = {"name": "http", "port": 80 if port in (8080, 3000) else port,
                                        "targetPort": port}
            if stype == "NodePort":
                svc_port["nodePort"] = 30000 + self.rng.randrange(2768)
            svc_spec["ports"] = [svc_port]
            annotations = None
            if stype == "LoadBalancer" and self.chance(0.5):
                annotations = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
            if stype == "LoadBalancer" and self.chance(0.3):
                svc_spec["loadBalancerSourceRanges"] = ["10.0.0.0/8"]
            yield {"apiVersion": "v1", "kind": "Service",
                   "metadata": self.meta(app, namespace, annotations=annotations), "spec": svc_spec}

            if self.chance(0.3):
                host = f"{app}.example.com"
                ing_spec: dict[str, Any] = {"ingressClassName": "nginx"}
                if self.chance(0.6):
                    ing_spec["tls"] = [{"hosts": [host], "secretName": f"{app}-tls"}]
                ing_spec["rules"] = [{"host": host, "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": app, "port": {"number": svc_port["port"]}}}}]}}]
                yield {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                       "metadata": self.meta(app, namespace), "spec": ing_spec}

        if self.chance(0.4):
            np_spec: dict[str, Any] = {"podSelector": {"matchLabels": {"app": app}},
                                       "policyTypes": ["Ingress"]}
            rule: dict[str, Any] = {"ports": [{"port": port, "protocol": "TCP"}]}
            if self.chance(0.7):
                rule["from"] = [{"podSelector": {"matchLabels": {"app": "frontend"}}}]
            np_spec["ingress"] = [rule]
            yield {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                   "metadata": self.meta(f"allow-{app}", namespace), "spec": np_spec}

        if sa and self.chance(0.35):
            rules = self.pick([
                [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [config_map or app],
                  "verbs": ["get", "update", "patch"]}],
                [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}],
                [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
                 {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}],
                [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
            ])
            yield {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                   "metadata": self.meta(f"{app}-role", namespace), "rules": rules}
            yield {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": self.meta(f"{app}-role", namespace),
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{app}-role"},
                   "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]}

        if self.chance(0.08):
            # Cluster-scoped grants; `scope` keeps the names unique across the corpus.
            name = f"{app}-{scope}-cluster"
            rules = self.pick([
                [{"apiGroups": [""], "resources": ["nodes", "namespaces"], "verbs": ["get", "list", "watch"]}],
                [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}],
                [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"],
                  "verbs": ["get", "escalate", "bind"]}],
                [{"apiGroups": [""], "resources": ["users", "groups", "serviceaccounts"], "verbs": ["impersonate"]}],
            ])
            yield {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": self.meta(name, None), "rules": rules}
            subject = self.pick([
                {"kind": "ServiceAccount", "name": sa or "default", "namespace": namespace},
                {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"},
                {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "developers"},
            ])
            yield {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": self.meta(name, None),
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": self.pick([name, name, "cluster-admin"])},
                   "subjects": [subject]}

    def namespace(self, index: int) -> dict:
        name = f"ns-{index}"
        labels = {"team": TEAMS[index % len(TEAMS)]}
        mode = self.weighted([("enforce", 40), ("warn", 30), ("none", 30)])
        if mode != "none":
            labels[f"pod-security.kubernetes.io/{mode}"] = self.pick(["baseline", "restricted"])
            labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": self.meta(name, None, labels=labels)}

    def chunk(self, index: int, size: int) -> list[dict]:
        """The objects of file `index`: one namespace's apps, cut at exactly `size` objects."""
        ns_index = index % self.namespaces
        namespace = f"ns-{ns_index}"
        objects: list[dict] = []
        if index < self.namespaces:
            objects.append(self.namespace(ns_index))
        while len(objects) < size:
            for obj in self.app(namespace, f"c{index}"):
                objects.append(obj)
                if len(objects) >= size:
                    break
            if self.kinds:
                objects = [o for o in objects if o["kind"] in self.kinds]
        return objects[:size]


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------

def yaml_documents(objects: list[dict], gen: Generator) -> str:
    docs = []
    for obj in objects:
        comment = None
        if gen.chance(0.05):
            comment = f"{obj['kind']} {obj['metadata']['name']} (owned by team {gen.pick(TEAMS)})"
        docs.append(to_yaml(obj, comment))
    return "---\n".join(docs)


class CountingWriter:
    def __init__(self, path: str) -> None:
        self.file = open(path, "w", encoding="utf-8", newline="\n")
        self.bytes = 0

    def write(self, text: str) -> None:
        self.file.write(text)
        self.bytes += len(text.encode("utf-8"))

    def close(self) -> None:
        self.file.close()


def write_list_json(writer: CountingWriter, chunks: Iterator[list[dict]]) -> int:
    """Streams a `kind: List` document item by item, so a 100 MB dump never sits in memory here."""
    writer.write('{\n    "apiVersion": "v1",\n    "items": [\n')
    count = 0
    for objects in chunks:
        for obj in objects:
            text = json.dumps(obj, indent=4)
            if count:
                writer.write(",\n")
            writer.write("\n".join("        " + line for line in text.split("\n")))
            count += 1
    writer.write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')
    return count


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", type=int, default=10_000, help="number of objects (default 10000)")
    p.add_argument("--out", default="corpus", help="output directory (created if missing)")
    p.add_argument("--files", type=int, default=None,
                   help="number of files in the default layout (default: objects/100, at least 1)")
    p.add_argument("--namespaces", type=int, default=50, help="namespaces ns-0..ns-(n-1) (default 50)")
    p.add_argument("--single-file", action="store_true", help="write one multi-document stream corpus.yaml")
    p.add_argument("--list-json", action="store_true",
                   help="write one `kind: List` JSON document corpus.json (like `kubectl get -A -o json`)")
    p.add_argument("--target-bytes", type=int, default=None,
                   help="generate until the single output file reaches this many bytes (ignores --objects)")
    p.add_argument("--kinds", default="",
                   help=f"comma-separated kinds to keep (default all): {', '.join(sorted(KINDS))}")
    p.add_argument("--seed", type=int, default=20261126, help="random seed (default 20261126)")
    args = p.parse_args(argv)

    if args.objects < 1 or args.namespaces < 1 or (args.files is not None and args.files < 1):
        p.error("--objects, --files and --namespaces must be positive")
    if args.target_bytes is not None and args.target_bytes < 1:
        p.error("--target-bytes must be positive")
    kinds = frozenset(k for k in args.kinds.split(",") if k)
    if kinds - KINDS:
        p.error(f"unknown kinds {', '.join(sorted(kinds - KINDS))}; known: {', '.join(sorted(KINDS))}")
    os.makedirs(args.out, exist_ok=True)

    gen = Generator(args.seed, args.namespaces, with_server_fields=args.list_json, kinds=kinds)
    per_chunk = 100

    if args.list_json or args.single_file or args.target_bytes is not None:
        name = "corpus.json" if args.list_json else "corpus.yaml"
        path = os.path.join(args.out, name)
        writer = CountingWriter(path)

        def chunks() -> Iterator[list[dict]]:
            index = 0
            produced = 0
            while True:
                if args.target_bytes is not None:
                    if writer.bytes >= args.target_bytes:
                        return
                    size = per_chunk
                else:
                    size = min(per_chunk, args.objects - produced)
                    if size <= 0:
                        return
                objects = gen.chunk(index, size)
                produced += len(objects)
                index += 1
                yield objects

        if args.list_json:
            count = write_list_json(writer, chunks())
        else:
            count = 0
            for objects in chunks():
                if count:
                    writer.write("---\n")
                writer.write(yaml_documents(objects, gen))
                count += len(objects)
        writer.close()
        print(f"{count} objects, {writer.bytes} bytes -> {path}", file=sys.stderr)
        return 0

    files = args.files if args.files is not None else max(1, args.objects // per_chunk)
    total = 0
    total_bytes = 0
    for index in range(files):
        # Spread the remainder over the first files so every file has within one object of the rest.
        size = args.objects // files + (1 if index < args.objects % files else 0)
        if size == 0:
            continue
        path = os.path.join(args.out, f"{index:04d}-ns-{index % args.namespaces}.yaml")
        writer = CountingWriter(path)
        writer.write(yaml_documents(gen.chunk(index, size), gen))
        writer.close()
        total += size
        total_bytes += writer.bytes
    print(f"{total} objects in {files} files, {total_bytes} bytes -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
