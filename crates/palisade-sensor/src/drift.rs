//! Binary drift policy (`sensor.drift`), modelled on Defender for Containers' drift rules: an
//! ordered list of rules, each scoped by cluster, namespace, image, pod labels and container name,
//! with an action (`ignore`, `alert`, `block`) and a process allow-list. The first rule whose scope
//! matches decides; when none matches, drift is ignored.
//!
//! ```yaml
//! drift:
//!   rules:
//!     - name: system-pods
//!       namespaces: [kube-system]
//!       action: ignore
//!     - name: payments-locked-down
//!       namespaces: [payments]
//!       podLabels:
//!         matchLabels: {tier: backend}
//!         matchExpressions: [{key: track, operator: NotIn, values: [canary]}]
//!       action: block
//!       allowedProcesses: [/app/bin/migrate]
//!     - name: everything-else
//!       images: ["*"]
//!       action: alert
//! ```
//!
//! Unknown metadata: when the CRI, kubelet and API could not name a container's pod or image, a
//! rule that scopes by something unknown (namespace, labels, image, container name, or a cluster
//! when no cluster name is configured) does not match, and evaluation goes on with the next rule.
//! Because the rule skipped may have been the one exempting this very container (a kube-system
//! `ignore`), a `block` reached after such a skip is lowered to `alert`: the sensor never kills a
//! process on a guess.

use std::collections::BTreeMap;

use palisade_core::{Node, Value};

use crate::config::{ConfigError, Section, error};
use crate::model::ContainerInfo;

/// Longest process name the kernel keeps (`TASK_COMM_LEN` − 1): exact names given to the kernel
/// are compared with `comm`, which holds at most this many bytes.
pub const COMM_LEN: usize = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DriftAction {
    #[default]
    Ignore,
    Alert,
    /// Kill the process at exec (`bpf_send_signal(SIGKILL)`) and alert.
    Block,
}

impl DriftAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftAction::Ignore => "ignore",
            DriftAction::Alert => "alert",
            DriftAction::Block => "block",
        }
    }
}

/// The ordered drift rules.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DriftPolicy {
    pub rules: Vec<DriftRule>,
}

/// One rule. Every scope list that is given must match (an empty list matches everything); within
/// a list any pattern may match.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftRule {
    pub name: String,
    /// Globs on the configured cluster name.
    pub clusters: Vec<String>,
    /// Globs on the pod's namespace.
    pub namespaces: Vec<String>,
    /// Globs on the image reference, as the runtime reports it or normalised
    /// (`nginx` is also `docker.io/library/nginx:latest`).
    pub images: Vec<String>,
    pub pod_labels: Option<LabelSelector>,
    /// Globs on the container's name in its pod.
    pub containers: Vec<String>,
    pub action: DriftAction,
    /// Processes the rule lets through: exe path globs (containing `/`) or process names.
    pub allowed_processes: Vec<String>,
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`), all terms ANDed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRequirement {
    pub key: String,
    pub operator: LabelOperator,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
            && self.match_expressions.iter().all(|requirement| {
                let value = labels.get(&requirement.key);
                match requirement.operator {
                    LabelOperator::In => value.is_some_and(|v| requirement.values.contains(v)),
                    // As in Kubernetes: a pod without the label satisfies NotIn.
                    LabelOperator::NotIn => value.is_none_or(|v| !requirement.values.contains(v)),
                    LabelOperator::Exists => value.is_some(),
                    LabelOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

/// What the policy says about one drifted executable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DriftDecision {
    pub action: DriftAction,
    /// The rule that decided; `None` when no rule matched (the default, ignore).
    pub rule: Option<String>,
    /// The allow-list entry that let the process through (the action is then `ignore`).
    pub allowed_by: Option<String>,
    /// The rule said `block` but an earlier rule could not be evaluated for lack of pod metadata,
    /// so the action was lowered to `alert`.
    pub block_lowered: bool,
}

/// What the kernel enforces at exec for one container: whether a drifted executable is killed,
/// and which ones are spared. Only exact values: the kernel compares bytes, it does not glob.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KernelDriftPolicy {
    pub block: bool,
    /// Full executable paths spared.
    pub allowed_exe_paths: Vec<String>,
    /// Process names spared, cut to [`COMM_LEN`] bytes to compare with `comm`.
    pub allowed_names: Vec<String>,
    /// The rule it comes from.
    pub rule: Option<String>,
}

/// Whether a rule's scope holds for a container.
enum Scope {
    Matches,
    DoesNotMatch,
    /// The rule needs metadata the sensor does not have for this container.
    Unknown,
}

impl DriftRule {
    fn scope(&self, cluster: Option<&str>, container: &ContainerInfo) -> Scope {
        let pod = container.pod.as_ref();
        let checks: [(bool, Option<bool>); 5] = [
            (
                !self.clusters.is_empty(),
                cluster.map(|c| any_glob(&self.clusters, c)),
            ),
            (
                !self.namespaces.is_empty(),
                pod.map(|p| any_glob(&self.namespaces, &p.namespace)),
            ),
            (
                !self.images.is_empty(),
                container
                    .image
                    .as_deref()
                    .map(|image| image_forms(image).iter().any(|f| any_glob(&self.images, f))),
            ),
            (
                self.pod_labels.is_some(),
                pod.zip(self.pod_labels.as_ref())
                    .map(|(p, selector)| selector.matches(&p.labels)),
            ),
            (
                !self.containers.is_empty(),
                container
                    .name
                    .as_deref()
                    .map(|name| any_glob(&self.containers, name)),
            ),
        ];
        let mut unknown = false;
        for (scoped, result) in checks {
            match (scoped, result) {
                (false, _) => {}
                (true, Some(true)) => {}
                (true, Some(false)) => return Scope::DoesNotMatch,
                (true, None) => unknown = true,
            }
        }
        if unknown {
            Scope::Unknown
        } else {
            Scope::Matches
        }
    }

    /// The allow-list entry matching the process, if any.
    fn allowed(&self, exepath: &str, name: &str) -> Option<&str> {
        let base = exepath.rsplit('/').next().unwrap_or(exepath);
        self.allowed_processes
            .iter()
            .find(|pattern| {
                if pattern.contains('/') {
                    glob(pattern, exepath)
                } else {
                    // comm is cut to 15 bytes; the exe's file name is not.
                    glob(pattern, name) || (!base.is_empty() && glob(pattern, base))
                }
            })
            .map(String::as_str)
    }
}

impl DriftPolicy {
    /// The first rule whose scope holds for the container, and whether a rule before it was
    /// skipped for lack of metadata.
    fn first_match(
        &self,
        cluster: Option<&str>,
        container: &ContainerInfo,
    ) -> (Option<&DriftRule>, bool) {
        let mut skipped_unknown = false;
        for rule in &self.rules {
            match rule.scope(cluster, container) {
                Scope::Matches => return (Some(rule), skipped_unknown),
                Scope::DoesNotMatch => {}
                Scope::Unknown => skipped_unknown = true,
            }
        }
        (None, skipped_unknown)
    }

    /// Decides what to do about a drifted executable `exepath` (process name `name`, Falco's
    /// `proc.name`) run in `container`; `cluster` is the configured cluster name.
    pub fn decide(
        &self,
        cluster: Option<&str>,
        container: &ContainerInfo,
        exepath: &str,
        name: &str,
    ) -> DriftDecision {
        let (rule, skipped_unknown) = self.first_match(cluster, container);
        let Some(rule) = rule else {
            return DriftDecision::default();
        };
        if let Some(pattern) = rule.allowed(exepath, name) {
            return DriftDecision {
                action: DriftAction::Ignore,
                rule: Some(rule.name.clone()),
                allowed_by: Some(pattern.to_string()),
                block_lowered: false,
            };
        }
        let lowered = rule.action == DriftAction::Block && skipped_unknown;
        DriftDecision {
            action: if lowered {
                DriftAction::Alert
            } else {
                rule.action
            },
            rule: Some(rule.name.clone()),
            allowed_by: None,
            block_lowered: lowered,
        }
    }

    /// What the kernel should enforce for `container`. Blocking rules only hold exact allow-list
    /// entries (the parser rejects globs in them), so the kernel spares exactly what
    /// [`DriftPolicy::decide`] would.
    pub fn kernel_policy(
        &self,
        cluster: Option<&str>,
        container: &ContainerInfo,
    ) -> KernelDriftPolicy {
        let (rule, skipped_unknown) = self.first_match(cluster, container);
        let Some(rule) = rule else {
            return KernelDriftPolicy::default();
        };
        if rule.action != DriftAction::Block || skipped_unknown {
            return KernelDriftPolicy {
                rule: Some(rule.name.clone()),
                ..KernelDriftPolicy::default()
            };
        }
        let mut policy = KernelDriftPolicy {
            block: true,
            rule: Some(rule.name.clone()),
            ..KernelDriftPolicy::default()
        };
        for entry in rule.allowed_processes.iter().filter(|e| !is_glob(e)) {
            if entry.contains('/') {
                policy.allowed_exe_paths.push(entry.clone());
            } else {
                policy.allowed_names.push(truncate_comm(entry).to_string());
            }
        }
        policy
    }
}

fn truncate_comm(name: &str) -> &str {
    let mut end = name.len().min(COMM_LEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or(name)
}

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

fn any_glob(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|pattern| glob(pattern, text))
}

/// `*` matches any run of characters (`/` included), `?` any one character; the rest is literal.
/// Linear backtracking on the last `*`, so hostile patterns cannot blow up.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    pi = star_p + 1;
                    ti = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// The image reference as written and in Docker's normalised form (registry, `library/` for
/// official images, `:latest` without tag or digest), so `nginx*` and `docker.io/library/nginx*`
/// both match an image the pod spec calls `nginx`.
pub fn image_forms(image: &str) -> Vec<String> {
    let mut forms = vec![image.to_string()];
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let has_registry = !first.is_empty() && (first.contains(['.', ':']) || first == "localhost");
    let mut normal = if has_registry {
        image.to_string()
    } else if first.is_empty() {
        format!("docker.io/library/{rest}")
    } else {
        format!("docker.io/{image}")
    };
    let last = normal.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && !normal.contains('@') {
        normal.push_str(":latest");
    }
    if normal != image {
        forms.push(normal);
    }
    forms
}

/// Reads `sensor.drift` (`path` names it in errors).
pub(crate) fn parse_policy(node: &Node, path: &str) -> Result<DriftPolicy, ConfigError> {
    let section = Section::new(node, path, &["rules"])?;
    let Some(rules) = section.get("rules") else {
        return Ok(DriftPolicy::default());
    };
    let Value::Seq(items) = &rules.value else {
        return Err(error(
            &section.key("rules"),
            rules.mark,
            "expected a list of rules",
        ));
    };
    let mut policy = DriftPolicy::default();
    for (i, item) in items.iter().enumerate() {
        let rule = parse_rule(item, &format!("{}[{i}]", section.key("rules")))?;
        if policy.rules.iter().any(|r| r.name == rule.name) {
            return Err(error(
                &format!("{}[{i}].name", section.key("rules")),
                item.get("name").map_or(item.mark, |n| n.mark),
                format!(
                    "rule name `{}` is used twice; alerts name the rule that decided",
                    rule.name
                ),
            ));
        }
        policy.rules.push(rule);
    }
    Ok(policy)
}

const RULE_KEYS: &[&str] = &[
    "name",
    "clusters",
    "namespaces",
    "images",
    "podLabels",
    "containers",
    "action",
    "allowedProcesses",
];

fn parse_rule(node: &Node, path: &str) -> Result<DriftRule, ConfigError> {
    if !node.is_map() {
        return Err(error(
            path,
            node.mark,
            "expected a map with `name` and `action`",
        ));
    }
    let section = Section::new(node, path, RULE_KEYS)?;
    let name = section
        .string("name")?
        .ok_or_else(|| error(&section.key("name"), node.mark, "required"))?;
    let action_text = section.string("action")?.ok_or_else(|| {
        error(
            &section.key("action"),
            node.mark,
            "required (ignore, alert or block)",
        )
    })?;
    let action = match action_text.as_str() {
        "ignore" => DriftAction::Ignore,
        "alert" => DriftAction::Alert,
        "block" => DriftAction::Block,
        other => {
            return Err(error(
                &section.key("action"),
                section.mark_of("action"),
                format!("expected one of ignore, alert, block, got `{other}`"),
            ));
        }
    };
    let allowed = section.strings("allowedProcesses")?;
    if action == DriftAction::Block
        && let Some((i, (pattern, mark))) =
            allowed.iter().enumerate().find(|(_, (p, _))| is_glob(p))
    {
        return Err(error(
            &format!("{}[{i}]", section.key("allowedProcesses")),
            *mark,
            format!(
                "`{pattern}`: a blocking rule's allow-list must list exact paths or names, since \
                 the kernel decides at exec and compares bytes (use `alert` to allow by glob)"
            ),
        ));
    }
    let pod_labels = match section.get("podLabels") {
        None => None,
        Some(selector) => Some(parse_selector(selector, &section.key("podLabels"))?),
    };
    let list = |key: &str| -> Result<Vec<String>, ConfigError> {
        Ok(section
            .strings(key)?
            .into_iter()
            .map(|(text, _)| text)
            .collect())
    };
    Ok(DriftRule {
        name,
        clusters: list("clusters")?,
        namespaces: list("namespaces")?,
        images: list("images")?,
        pod_labels,
        containers: list("containers")?,
        action,
        allowed_processes: allowed.into_iter().map(|(text, _)| text).collect(),
    })
}

fn parse_selector(node: &Node, path: &str) -> Result<LabelSelector, ConfigError> {
    let section = Section::new(node, path, &["matchLabels", "matchExpressions"])?;
    let mut selector = LabelSelector::default();
    if let Some(labels) = section.get("matchLabels") {
        if !labels.is_map() {
            return Err(error(
                &section.key("matchLabels"),
                labels.mark,
                "expected a map of label names to values",
            ));
        }
        for (key, value) in labels.entries() {
            let full = format!("{}.{key}", section.key("matchLabels"));
            if key.is_empty() {
                return Err(error(&full, value.mark, "label name must not be empty"));
            }
            // `enabled: true` is a string label in Kubernetes; accept the YAML scalar's text.
            let text = match &value.value {
                Value::String(_) | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                    value.to_text().unwrap_or_default()
                }
                _ => return Err(error(&full, value.mark, "expected a label value")),
            };
            selector.match_labels.insert(key.clone(), text);
        }
    }
    if let Some(expressions) = section.get("matchExpressions") {
        let Value::Seq(items) = &expressions.value else {
            return Err(error(
                &section.key("matchExpressions"),
                expressions.mark,
                "expected a list of {key, operator, values}",
            ));
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{}[{i}]", section.key("matchExpressions"));
            selector
                .match_expressions
                .push(parse_requirement(item, &item_path)?);
        }
    }
    Ok(selector)
}

fn parse_requirement(node: &Node, path: &str) -> Result<LabelRequirement, ConfigError> {
    if !node.is_map() {
        return Err(error(
            path,
            node.mark,
            "expected a map with key, operator and values",
        ));
    }
    let section = Section::new(node, path, &["key", "operator", "values"])?;
    let key = section
        .string("key")?
        .ok_or_else(|| error(&section.key("key"), node.mark, "required"))?;
    let operator_text = section
        .string("operator")?
        .ok_or_else(|| error(&section.key("operator"), node.mark, "required"))?;
    let operator = match operator_text.as_str() {
        "In" => LabelOperator::In,
        "NotIn" => LabelOperator::NotIn,
        "Exists" => LabelOperator::Exists,
        "DoesNotExist" => LabelOperator::DoesNotExist,
        other => {
            return Err(error(
                &section.key("operator"),
                section.mark_of("operator"),
                format!("expected one of In, NotIn, Exists, DoesNotExist, got `{other}`"),
            ));
        }
    };
    let values: Vec<String> = section
        .strings("values")?
        .into_iter()
        .map(|(text, _)| text)
        .collect();
    match operator {
        LabelOperator::In | LabelOperator::NotIn if values.is_empty() => Err(error(
            &section.key("values"),
            section.mark_of("values"),
            format!("`{operator_text}` needs at least one value"),
        )),
        LabelOperator::Exists | LabelOperator::DoesNotExist if !values.is_empty() => Err(error(
            &section.key("values"),
            section.mark_of("values"),
            format!("`{operator_text}` takes no values"),
        )),
        _ => Ok(LabelRequirement {
            key,
            operator,
            values,
        }),
    }
}

impl DriftRule {
    /// A rule without scope or allow-list, for code that builds policies (tests, tools).
    pub fn new(name: &str, action: DriftAction) -> DriftRule {
        DriftRule {
            name: name.to_string(),
            clusters: Vec::new(),
            namespaces: Vec::new(),
            images: Vec::new(),
            pod_labels: None,
            containers: Vec::new(),
            action,
            allowed_processes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PodInfo, Runtime};

    fn policy(yaml: &str) -> Result<DriftPolicy, ConfigError> {
        let root = palisade_kube::yaml::read_document(yaml.as_bytes(), "palisade.yaml")
            .expect("test YAML is well formed")
            .unwrap_or_default();
        parse_policy(&root, "sensor.drift")
    }

    fn container(
        namespace: &str,
        labels: &[(&str, &str)],
        name: &str,
        image: &str,
    ) -> ContainerInfo {
        ContainerInfo {
            id: "c0ffee".repeat(10) + "c0ff",
            runtime: Runtime::Containerd,
            cgroup_path: "/kubepods/podx/c0ffee".to_string(),
            pod_uid: Some("x".to_string()),
            name: Some(name.to_string()),
            image: Some(image.to_string()),
            image_digest: None,
            privileged: Some(false),
            pod: Some(PodInfo {
                uid: "x".to_string(),
                namespace: namespace.to_string(),
                name: "web-0".to_string(),
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            }),
        }
    }

    fn unknown_container() -> ContainerInfo {
        ContainerInfo {
            id: "abc".to_string(),
            runtime: Runtime::Runc,
            cgroup_path: "/abc".to_string(),
            pod_uid: None,
            name: None,
            image: None,
            image_digest: None,
            privileged: None,
            pod: None,
        }
    }

    #[test]
    fn glob_semantics() {
        assert!(glob("*", ""));
        assert!(glob("team-*", "team-a"));
        assert!(!glob("team-*", "teams"));
        assert!(glob("/usr/*/python?", "/usr/local/bin/python3"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        // A pattern made to backtrack a lot still answers quickly.
        assert!(!glob(&"*a".repeat(50), &"a".repeat(49)));
    }

    #[test]
    fn image_forms_normalise_docker_hub_names() {
        assert_eq!(
            image_forms("nginx"),
            ["nginx", "docker.io/library/nginx:latest"]
        );
        assert_eq!(
            image_forms("bitnami/redis:7"),
            ["bitnami/redis:7", "docker.io/bitnami/redis:7"]
        );
        assert_eq!(image_forms("ghcr.io/acme/app:1"), ["ghcr.io/acme/app:1"]);
        assert_eq!(
            image_forms("localhost:5000/app"),
            ["localhost:5000/app", "localhost:5000/app:latest"]
        );
        assert_eq!(image_forms("quay.io/x@sha256:00"), ["quay.io/x@sha256:00"]);
    }

    #[test]
    fn first_matching_rule_wins_and_default_is_ignore() {
        let policy = policy(
            "rules:\n  - {name: system, namespaces: [kube-system], action: ignore}\n  - {name: shop, namespaces: [shop], action: block}\n  - {name: rest, namespaces: ['*'], action: alert}\n",
        )
        .unwrap();
        let system = container("kube-system", &[], "coredns", "coredns");
        let shop = container("shop", &[], "web", "nginx");
        let other = container("dev", &[], "web", "nginx");
        let decide = |c: &ContainerInfo| policy.decide(None, c, "/tmp/x", "x");
        assert_eq!(decide(&system).action, DriftAction::Ignore);
        assert_eq!(decide(&system).rule.as_deref(), Some("system"));
        assert_eq!(decide(&shop).action, DriftAction::Block);
        assert_eq!(decide(&other).action, DriftAction::Alert);
        assert_eq!(decide(&other).rule.as_deref(), Some("rest"));
        assert_eq!(
            DriftPolicy::default().decide(None, &shop, "/tmp/x", "x"),
            DriftDecision::default()
        );
        assert_eq!(DriftDecision::default().action, DriftAction::Ignore);
    }

    #[test]
    fn each_scope_kind_matches_and_excludes() {
        let policy = policy(
            r#"
rules:
  - {name: by-cluster, clusters: [prod-*], action: block}
  - {name: by-image, images: ["docker.io/library/redis:*"], action: alert}
  - {name: by-container, containers: [debug-*], action: ignore}
  - name: by-labels
    podLabels:
      matchLabels: {app: web}
      matchExpressions:
        - {key: track, operator: In, values: [stable]}
        - {key: canary, operator: DoesNotExist}
    action: block
  - name: by-exists
    podLabels:
      matchExpressions: [{key: team, operator: Exists}, {key: env, operator: NotIn, values: [dev]}]
    action: alert
"#,
        )
        .unwrap();
        let plain = container("ns", &[], "app", "busybox");
        let d =
            |cluster: Option<&str>, c: &ContainerInfo| policy.decide(cluster, c, "/x", "x").rule;
        assert_eq!(d(Some("prod-eu"), &plain).as_deref(), Some("by-cluster"));
        assert_eq!(d(Some("staging"), &plain), None);
        assert_eq!(
            d(None, &container("ns", &[], "app", "redis")).as_deref(),
            Some("by-image")
        );
        assert_eq!(
            d(None, &container("ns", &[], "debug-1", "busybox")).as_deref(),
            Some("by-container")
        );
        let web = [("app", "web"), ("track", "stable")];
        assert_eq!(
            d(Some("dev"), &container("ns", &web, "app", "busybox")).as_deref(),
            Some("by-labels")
        );
        let canary = [("app", "web"), ("track", "stable"), ("canary", "yes")];
        assert_eq!(
            d(Some("dev"), &container("ns", &canary, "app", "busybox")),
            None
        );
        assert_eq!(
            d(
                Some("dev"),
                &container("ns", &[("team", "a")], "app", "busybox")
            )
            .as_deref(),
            Some("by-exists")
        );
        assert_eq!(
            d(
                Some("dev"),
                &container("ns", &[("team", "a"), ("env", "dev")], "app", "busybox")
            ),
            None
        );
    }

    #[test]
    fn allow_list_by_path_glob_and_by_name() {
        let policy = policy(
            "rules:\n  - name: r\n    action: alert\n    allowedProcesses: [/opt/tools/*, pip, averyveryverylongname]\n",
        )
        .unwrap();
        let c = container("ns", &[], "app", "python");
        let allowed = policy.decide(None, &c, "/opt/tools/bin/lint", "lint");
        assert_eq!(allowed.action, DriftAction::Ignore);
        assert_eq!(allowed.allowed_by.as_deref(), Some("/opt/tools/*"));
        assert_eq!(
            policy
                .decide(None, &c, "/usr/local/bin/pip", "pip")
                .allowed_by
                .as_deref(),
            Some("pip")
        );
        // comm is cut to 15 bytes; the exe's file name still matches the full name.
        assert_eq!(
            policy
                .decide(None, &c, "/tmp/averyveryverylongname", "averyveryverylo")
                .action,
            DriftAction::Ignore
        );
        let not_allowed = policy.decide(None, &c, "/tmp/pip2", "pip2");
        assert_eq!(not_allowed.action, DriftAction::Alert);
        assert_eq!(not_allowed.allowed_by, None);
    }

    #[test]
    fn unknown_metadata_does_not_match_and_lowers_block() {
        let policy = policy(
            "rules:\n  - {name: system, namespaces: [kube-system], action: ignore}\n  - {name: all, action: block}\n",
        )
        .unwrap();
        let unknown = unknown_container();
        let decision = policy.decide(None, &unknown, "/tmp/x", "x");
        assert_eq!(decision.rule.as_deref(), Some("all"));
        assert_eq!(decision.action, DriftAction::Alert);
        assert!(decision.block_lowered);
        assert!(!policy.kernel_policy(None, &unknown).block);
        // Known metadata: the block stands.
        let known = container("shop", &[], "web", "nginx");
        let decision = policy.decide(None, &known, "/tmp/x", "x");
        assert_eq!(decision.action, DriftAction::Block);
        assert!(!decision.block_lowered);

        // A rule scoped on clusters does not match when no cluster name is configured.
        let by_cluster =
            self::policy("rules:\n  - {name: c, clusters: ['*'], action: alert}\n").unwrap();
        assert_eq!(by_cluster.decide(None, &known, "/x", "x").rule, None);
        assert_eq!(
            by_cluster
                .decide(Some("any"), &known, "/x", "x")
                .rule
                .as_deref(),
            Some("c")
        );
    }

    #[test]
    fn kernel_policy_holds_exact_entries_only() {
        let policy = policy(
            "rules:\n  - name: lock\n    namespaces: [shop]\n    action: block\n    allowedProcesses: [/app/bin/migrate, a-process-name-longer-than-comm]\n  - {name: watch, action: alert}\n",
        )
        .unwrap();
        let kernel = policy.kernel_policy(None, &container("shop", &[], "web", "nginx"));
        assert_eq!(
            kernel,
            KernelDriftPolicy {
                block: true,
                allowed_exe_paths: vec!["/app/bin/migrate".to_string()],
                allowed_names: vec!["a-process-name-".to_string()],
                rule: Some("lock".to_string()),
            }
        );
        let other = policy.kernel_policy(None, &container("dev", &[], "web", "nginx"));
        assert!(!other.block);
        assert_eq!(other.rule.as_deref(), Some("watch"));
    }

    #[test]
    fn parse_errors_name_key_and_line() {
        let cases = [
            (
                "rules:\n  - {name: a, action: kill}\n",
                "sensor.drift.rules[0].action",
                2,
            ),
            ("rules:\n  - {name: a}\n", "sensor.drift.rules[0].action", 2),
            (
                "rules:\n  - {action: alert}\n",
                "sensor.drift.rules[0].name",
                2,
            ),
            (
                "rules:\n  - name: a\n    action: alert\n    namespace: [x]\n",
                "sensor.drift.rules[0].namespace",
                4,
            ),
            (
                "rules:\n  - name: a\n    action: alert\n    podLabels:\n      matchExpressions:\n        - {key: k, operator: Equals, values: [v]}\n",
                "sensor.drift.rules[0].podLabels.matchExpressions[0].operator",
                6,
            ),
            (
                "rules:\n  - name: a\n    action: alert\n    podLabels:\n      matchExpressions:\n        - {key: k, operator: In}\n",
                "sensor.drift.rules[0].podLabels.matchExpressions[0].values",
                6,
            ),
            (
                "rules:\n  - name: a\n    action: alert\n    podLabels:\n      matchExpressions:\n        - {key: k, operator: Exists, values: [v]}\n",
                "sensor.drift.rules[0].podLabels.matchExpressions[0].values",
                6,
            ),
            (
                "rules:\n  - name: a\n    action: alert\n    podLabels: {matchLabel: {a: b}}\n",
                "sensor.drift.rules[0].podLabels.matchLabel",
                4,
            ),
            (
                "rules:\n  - name: a\n    action: block\n    allowedProcesses: [/ok, /bin/*]\n",
                "sensor.drift.rules[0].allowedProcesses[1]",
                4,
            ),
            (
                "rules:\n  - {name: a, action: alert}\n  - {name: a, action: block}\n",
                "sensor.drift.rules[1].name",
                3,
            ),
            ("rules: {name: a}\n", "sensor.drift.rules", 1),
            ("rules:\n  - just-a-string\n", "sensor.drift.rules[0]", 2),
        ];
        for (yaml, key, line) in cases {
            let error = policy(yaml).expect_err(yaml);
            assert_eq!(
                (error.key.as_str(), error.mark.line),
                (key, line),
                "{yaml}: {error}"
            );
        }
    }

    #[test]
    fn label_values_may_be_yaml_scalars() {
        let policy = policy(
            "rules:\n  - name: a\n    action: alert\n    podLabels: {matchLabels: {enabled: true, v: 2}}\n",
        )
        .unwrap();
        let c = container("ns", &[("enabled", "true"), ("v", "2")], "app", "x");
        assert_eq!(
            policy.decide(None, &c, "/x", "x").rule.as_deref(),
            Some("a")
        );
    }
}
