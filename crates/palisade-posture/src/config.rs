//! The user's exceptions and knobs (`palisade.yaml`): disabled checks, severity overrides, exemptions by
//! namespace, resource or label, and the registries images may come from.
//!
//! ```yaml
//! checks:
//!   disable: [liveness-probe, readiness-probe]   # never run these
//!   severity:
//!     latest-tag: high                           # override the catalogue's severity
//! exemptions:
//!   - reason: CNI agents need the host network   # required: shown on every suppressed finding
//!     checks: [hostNamespaces, privileged]       # omit to exempt from every check
//!     namespaces: [kube-system]                  # any of these namespaces (`*` globs allowed)
//!     resources: ["DaemonSet/kube-system/cilium*"]  # Kind/namespace/name or Kind/name, `*` globs
//!     labels: {app.kubernetes.io/part-of: cilium}   # all of these labels
//! registries:
//!   allowed: [registry.example.com, ghcr.io/acme/] # image prefixes; empty: the check is off
//! admission:
//!   rules:                                       # built-in checks enforced at admission
//!     - {checks: [privileged], action: deny}
//!   imageGates:                                  # judged on images' stored vulnerability scans
//!     unscanned: audit                           # allow | audit | deny (default audit)
//!     rules:                                     # most severe first: the first match wins
//!       - name: kev-or-critical-fixable
//!         action: deny                           # deny | warn | audit
//!         namespaces: [prod-*]                   # optional scoping, as for `rules`
//!         when: {severity: critical, fixAvailable: true}
//!       - {name: exploited, action: deny, when: {kev: true}}
//!       - {name: likely-exploited, action: audit, when: {epssAbove: 0.5}}
//! ```
//!
//! The file is parsed by the caller into a [`Node`] (this crate does no I/O); errors name the key and
//! its line.

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::{Mark, Node, Resource, Severity};

use crate::catalogue::Catalogue;

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub disabled: BTreeSet<String>,
    pub severity: BTreeMap<String, Severity>,
    pub exemptions: Vec<Exemption>,
    /// Image reference prefixes images must start with; empty turns the registry check off.
    pub allowed_registries: Vec<String>,
    /// Built-in checks enforced by `palisade admission serve`.
    pub admission_rules: Vec<AdmissionRule>,
    /// Vulnerability gates enforced by `palisade admission serve` on images' stored scans.
    pub image_gates: ImageGates,
    /// The `alerts` section (where run-time alerts go), kept as written: the alerts crate reads
    /// it, with the marks for its error messages.
    pub alerts: Option<Node>,
    /// The `sensor` section (the node sensor's settings and drift policy), kept as written: the
    /// sensor crate reads it, with the marks for its error messages.
    pub sensor: Option<Node>,
}

/// Deployment gates on stored vulnerability scans (Defender's gated deployment): the first rule
/// (in file order) whose scope and conditions match an image decides; an image with no stored scan
/// gets `unscanned`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageGates {
    pub rules: Vec<ImageGateRule>,
    pub unscanned: UnscannedAction,
}

/// What admission does with an image that has no stored scan (admission never scans inline).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnscannedAction {
    Allow,
    /// Allow, and record it in the decision log.
    #[default]
    Audit,
    Deny,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageGateRule {
    pub name: String,
    pub action: palisade_policy::Action,
    pub namespaces: Vec<String>,
    pub excluded_namespaces: Vec<String>,
    pub label_selector: Option<palisade_policy::LabelSelector>,
    pub when: GateConditions,
}

/// All given conditions must hold for one unsuppressed finding of the image.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateConditions {
    /// `critical`, `high`, `medium`, `low` or `unknown`: the finding is at least this severe.
    pub severity: Option<String>,
    /// A fixed version exists (true) or does not (false).
    pub fix_available: Option<bool>,
    /// Listed (true) or not listed (false) in CISA KEV.
    pub kev: Option<bool>,
    /// EPSS score strictly above this probability (0 to 1).
    pub epss_above: Option<f64>,
}

impl ImageGateRule {
    /// Whether the rule's scope covers an object in `namespace` (`""` cluster-scoped).
    pub fn applies_to(&self, namespace: &str, object: &serde_json::Value) -> bool {
        (self.namespaces.is_empty() || self.namespaces.iter().any(|p| glob(p, namespace)))
            && !self.excluded_namespaces.iter().any(|p| glob(p, namespace))
            && self
                .label_selector
                .as_ref()
                .is_none_or(|selector| selector.matches_object(object))
    }
}

/// Built-in checks as an admission policy: `{checks: [privileged], action: deny}` denies
/// privileged containers. Optional scoping narrows where the rule applies.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmissionRule {
    pub checks: Vec<String>,
    pub action: palisade_policy::Action,
    /// Namespaces the rule applies to (`*` globs); empty: all.
    pub namespaces: Vec<String>,
    /// Namespaces the rule never applies to (`*` globs).
    pub excluded_namespaces: Vec<String>,
    /// Kinds the rule applies to; empty: all.
    pub kinds: Vec<String>,
    /// Labels the object must match (Kubernetes label selector); none: all objects.
    pub label_selector: Option<palisade_policy::LabelSelector>,
}

/// Resources matching every given selector are exempt from `checks` (all checks when empty).
#[derive(Debug, Clone, Default)]
pub struct Exemption {
    pub reason: String,
    pub checks: Vec<String>,
    pub namespaces: Vec<String>,
    pub resources: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{line}:{column}: {message}")]
pub struct ConfigError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

fn error(mark: Mark, message: impl Into<String>) -> ConfigError {
    ConfigError {
        line: mark.line,
        column: mark.column,
        message: message.into(),
    }
}

impl Config {
    /// Reads a configuration tree, checking every check ID against `catalogue`.
    pub fn from_node(root: &Node, catalogue: &Catalogue) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if root.is_null() {
            return Ok(config);
        }
        if !root.is_map() {
            return Err(error(root.mark, "the configuration must be a mapping"));
        }
        for (key, value) in root.entries() {
            match key.as_str() {
                "checks" => read_checks(value, catalogue, &mut config)?,
                "exemptions" => {
                    for item in seq(value, "exemptions")? {
                        config.exemptions.push(read_exemption(item, catalogue)?);
                    }
                }
                "admission" => {
                    for (key, value) in map(value, "admission")? {
                        match key.as_str() {
                            "rules" => {
                                for item in seq(value, "admission.rules")? {
                                    config.admission_rules.push(read_rule(item, catalogue)?);
                                }
                            }
                            "imageGates" => config.image_gates = read_image_gates(value)?,
                            other => {
                                return Err(unknown_key(
                                    value,
                                    "admission",
                                    other,
                                    &["rules", "imageGates"],
                                ));
                            }
                        }
                    }
                }
                "registries" => {
                    for (key, value) in map(value, "registries")? {
                        match key.as_str() {
                            "allowed" => {
                                config.allowed_registries = strings(value, "registries.allowed")?
                            }
                            other => {
                                return Err(unknown_key(value, "registries", other, &["allowed"]));
                            }
                        }
                    }
                }
                "alerts" => config.alerts = Some(value.clone()),
                "sensor" => config.sensor = Some(value.clone()),
                other => {
                    return Err(unknown_key(
                        value,
                        "the configuration",
                        other,
                        &[
                            "checks",
                            "exemptions",
                            "registries",
                            "admission",
                            "alerts",
                            "sensor",
                        ],
                    ));
                }
            }
        }
        Ok(config)
    }

    pub fn is_disabled(&self, check_id: &str) -> bool {
        self.disabled.contains(check_id)
    }

    pub fn severity_of(&self, check_id: &str) -> Option<Severity> {
        self.severity.get(check_id).copied()
    }

    /// The exemption that covers `check_id` on `resource`, if any.
    pub fn exemption_for(&self, check_id: &str, resource: &Resource) -> Option<&Exemption> {
        self.exemptions
            .iter()
            .find(|e| e.covers(check_id, resource))
    }
}

impl Exemption {
    pub fn covers(&self, check_id: &str, resource: &Resource) -> bool {
        if !self.checks.is_empty() && !self.checks.iter().any(|c| c == check_id) {
            return false;
        }
        if !self.namespaces.is_empty() {
            let namespace = resource
                .namespace()
                .or_else(|| (resource.kind() == "Namespace").then(|| resource.name()))
                .unwrap_or("");
            if !self.namespaces.iter().any(|p| glob(p, namespace)) {
                return false;
            }
        }
        if !self.resources.is_empty() {
            let full = resource.reference.to_string();
            let short = format!("{}/{}", resource.kind(), resource.name());
            if !self
                .resources
                .iter()
                .any(|p| glob(p, &full) || glob(p, &short))
            {
                return false;
            }
        }
        self.labels
            .iter()
            .all(|(k, v)| resource.label(k) == Some(v.as_str()))
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

fn read_checks(
    value: &Node,
    catalogue: &Catalogue,
    config: &mut Config,
) -> Result<(), ConfigError> {
    for (key, value) in map(value, "checks")? {
        match key.as_str() {
            "disable" => {
                for item in seq(value, "checks.disable")? {
                    config.disabled.insert(check_id(item, catalogue)?);
                }
            }
            "severity" => {
                for (id, severity) in map(value, "checks.severity")? {
                    let id = known_check(id, severity.mark, catalogue)?;
                    let text = severity
                        .to_text()
                        .ok_or_else(|| error(severity.mark, "a severity must be a string"))?;
                    let parsed = text
                        .parse::<Severity>()
                        .map_err(|e| error(severity.mark, e.to_string()))?;
                    config.severity.insert(id, parsed);
                }
            }
            other => {
                return Err(unknown_key(
                    value,
                    "checks",
                    other,
                    &["disable", "severity"],
                ));
            }
        }
    }
    Ok(())
}

fn read_exemption(node: &Node, catalogue: &Catalogue) -> Result<Exemption, ConfigError> {
    let mut exemption = Exemption::default();
    for (key, value) in map(node, "an exemption")? {
        match key.as_str() {
            "reason" => {
                exemption.reason = value
                    .to_text()
                    .ok_or_else(|| error(value.mark, "`reason` must be a string"))?
            }
            "checks" => {
                for item in seq(value, "checks")? {
                    exemption.checks.push(check_id(item, catalogue)?);
                }
            }
            "namespaces" => exemption.namespaces = strings(value, "namespaces")?,
            "resources" => exemption.resources = strings(value, "resources")?,
            "labels" => {
                for (k, v) in map(value, "labels")? {
                    let v = v
                        .to_text()
                        .ok_or_else(|| error(v.mark, "label values must be strings"))?;
                    exemption.labels.insert(k.clone(), v);
                }
            }
            other => {
                return Err(unknown_key(
                    value,
                    "an exemption",
                    other,
                    &["reason", "checks", "namespaces", "resources", "labels"],
                ));
            }
        }
    }
    if exemption.reason.trim().is_empty() {
        return Err(error(
            node.mark,
            "an exemption needs a `reason`: it is shown on every finding it suppresses",
        ));
    }
    if exemption.namespaces.is_empty()
        && exemption.resources.is_empty()
        && exemption.labels.is_empty()
    {
        return Err(error(
            node.mark,
            "an exemption needs at least one of `namespaces`, `resources` or `labels` (use `checks.disable` to turn a check off everywhere)",
        ));
    }
    Ok(exemption)
}

fn read_rule(node: &Node, catalogue: &Catalogue) -> Result<AdmissionRule, ConfigError> {
    let mut rule = AdmissionRule {
        checks: Vec::new(),
        action: palisade_policy::Action::Deny,
        namespaces: Vec::new(),
        excluded_namespaces: Vec::new(),
        kinds: Vec::new(),
        label_selector: None,
    };
    let mut has_action = false;
    for (key, value) in map(node, "an admission rule")? {
        match key.as_str() {
            "checks" => {
                for item in seq(value, "checks")? {
                    rule.checks.push(check_id(item, catalogue)?);
                }
            }
            "action" => {
                has_action = true;
                rule.action = match value.to_text().as_deref() {
                    Some("deny") => palisade_policy::Action::Deny,
                    Some("warn") => palisade_policy::Action::Warn,
                    Some("audit") => palisade_policy::Action::Audit,
                    _ => return Err(error(value.mark, "`action` must be deny, warn or audit")),
                }
            }
            "namespaces" => rule.namespaces = strings(value, "namespaces")?,
            "excludedNamespaces" => {
                rule.excluded_namespaces = strings(value, "excludedNamespaces")?
            }
            "kinds" => rule.kinds = strings(value, "kinds")?,
            "labelSelector" => {
                let json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
                let selector = palisade_policy::LabelSelector::from_value(Some(&json))
                    .map_err(|e| error(value.mark, e.to_string()))?;
                rule.label_selector = Some(selector);
            }
            other => {
                return Err(unknown_key(
                    value,
                    "an admission rule",
                    other,
                    &[
                        "checks",
                        "action",
                        "namespaces",
                        "excludedNamespaces",
                        "kinds",
                    ],
                ));
            }
        }
    }
    if rule.checks.is_empty() {
        return Err(error(
            node.mark,
            "an admission rule needs `checks`: the check IDs it enforces",
        ));
    }
    if !has_action {
        return Err(error(
            node.mark,
            "an admission rule needs an `action`: deny, warn or audit",
        ));
    }
    Ok(rule)
}

fn read_image_gates(node: &Node) -> Result<ImageGates, ConfigError> {
    let mut gates = ImageGates::default();
    for (key, value) in map(node, "admission.imageGates")? {
        match key.as_str() {
            "unscanned" => {
                gates.unscanned = match value.to_text().as_deref() {
                    Some("allow") => UnscannedAction::Allow,
                    Some("audit") => UnscannedAction::Audit,
                    Some("deny") => UnscannedAction::Deny,
                    _ => {
                        return Err(error(
                            value.mark,
                            "`unscanned` must be allow, audit or deny",
                        ));
                    }
                }
            }
            "rules" => {
                for item in seq(value, "admission.imageGates.rules")? {
                    let rule = read_gate_rule(item)?;
                    if gates.rules.iter().any(|r| r.name == rule.name) {
                        return Err(error(
                            item.mark,
                            format!("two image gates are named `{}`", rule.name),
                        ));
                    }
                    gates.rules.push(rule);
                }
            }
            other => {
                return Err(unknown_key(
                    value,
                    "admission.imageGates",
                    other,
                    &["rules", "unscanned"],
                ));
            }
        }
    }
    Ok(gates)
}

fn read_gate_rule(node: &Node) -> Result<ImageGateRule, ConfigError> {
    let mut rule = ImageGateRule {
        name: String::new(),
        action: palisade_policy::Action::Deny,
        namespaces: Vec::new(),
        excluded_namespaces: Vec::new(),
        label_selector: None,
        when: GateConditions::default(),
    };
    let mut has_action = false;
    let mut has_when = false;
    for (key, value) in map(node, "an image gate")? {
        match key.as_str() {
            "name" => {
                rule.name = value
                    .to_text()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| error(value.mark, "`name` must be a non-empty string"))?
            }
            "action" => {
                has_action = true;
                rule.action = match value.to_text().as_deref() {
                    Some("deny") => palisade_policy::Action::Deny,
                    Some("warn") => palisade_policy::Action::Warn,
                    Some("audit") => palisade_policy::Action::Audit,
                    _ => return Err(error(value.mark, "`action` must be deny, warn or audit")),
                }
            }
            "namespaces" => rule.namespaces = strings(value, "namespaces")?,
            "excludedNamespaces" => {
                rule.excluded_namespaces = strings(value, "excludedNamespaces")?
            }
            "labelSelector" => {
                let json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
                let selector = palisade_policy::LabelSelector::from_value(Some(&json))
                    .map_err(|e| error(value.mark, e.to_string()))?;
                rule.label_selector = Some(selector);
            }
            "when" => {
                has_when = true;
                rule.when = read_conditions(value)?;
            }
            other => {
                return Err(unknown_key(
                    value,
                    "an image gate",
                    other,
                    &[
                        "name",
                        "action",
                        "namespaces",
                        "excludedNamespaces",
                        "labelSelector",
                        "when",
                    ],
                ));
            }
        }
    }
    if rule.name.is_empty() {
        return Err(error(node.mark, "an image gate needs a `name`"));
    }
    if !has_action {
        return Err(error(
            node.mark,
            "an image gate needs an `action`: deny, warn or audit",
        ));
    }
    if !has_when {
        return Err(error(
            node.mark,
            "an image gate needs `when`: severity, fixAvailable, kev and/or epssAbove",
        ));
    }
    Ok(rule)
}

fn read_conditions(node: &Node) -> Result<GateConditions, ConfigError> {
    let mut when = GateConditions::default();
    let boolean = |value: &Node, what: &str| match value.to_text().as_deref() {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        _ => Err(error(value.mark, format!("`{what}` must be true or false"))),
    };
    for (key, value) in map(node, "when")? {
        match key.as_str() {
            "severity" => {
                let text = value.to_text().unwrap_or_default().to_ascii_lowercase();
                if !matches!(
                    text.as_str(),
                    "critical" | "high" | "medium" | "low" | "unknown"
                ) {
                    return Err(error(
                        value.mark,
                        "`severity` must be critical, high, medium, low or unknown",
                    ));
                }
                when.severity = Some(text);
            }
            "fixAvailable" => when.fix_available = Some(boolean(value, "fixAvailable")?),
            "kev" => when.kev = Some(boolean(value, "kev")?),
            "epssAbove" => {
                let score = value
                    .to_text()
                    .and_then(|t| t.parse::<f64>().ok())
                    .filter(|s| (0.0..=1.0).contains(s))
                    .ok_or_else(|| {
                        error(value.mark, "`epssAbove` must be a probability from 0 to 1")
                    })?;
                when.epss_above = Some(score);
            }
            other => {
                return Err(unknown_key(
                    value,
                    "when",
                    other,
                    &["severity", "fixAvailable", "kev", "epssAbove"],
                ));
            }
        }
    }
    if when == GateConditions::default() {
        return Err(error(node.mark, "`when` needs at least one condition"));
    }
    Ok(when)
}

impl AdmissionRule {
    /// Whether the rule applies to an object of `kind` in `namespace` (`""` for cluster-scoped).
    pub fn applies_to(&self, kind: &str, namespace: &str) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
            && (self.namespaces.is_empty() || self.namespaces.iter().any(|p| glob(p, namespace)))
            && !self.excluded_namespaces.iter().any(|p| glob(p, namespace))
    }
}

fn map<'a>(node: &'a Node, what: &str) -> Result<&'a [(String, Node)], ConfigError> {
    if node.is_null() {
        return Ok(&[]);
    }
    if !node.is_map() {
        return Err(error(node.mark, format!("`{what}` must be a mapping")));
    }
    Ok(node.entries())
}

fn seq<'a>(node: &'a Node, what: &str) -> Result<&'a [Node], ConfigError> {
    match &node.value {
        palisade_core::Value::Null => Ok(&[]),
        palisade_core::Value::Seq(items) => Ok(items),
        _ => Err(error(node.mark, format!("`{what}` must be a list"))),
    }
}

fn strings(node: &Node, what: &str) -> Result<Vec<String>, ConfigError> {
    seq(node, what)?
        .iter()
        .map(|item| {
            item.to_text()
                .ok_or_else(|| error(item.mark, format!("`{what}` must be a list of strings")))
        })
        .collect()
}

fn check_id(node: &Node, catalogue: &Catalogue) -> Result<String, ConfigError> {
    let id = node
        .to_text()
        .ok_or_else(|| error(node.mark, "a check ID must be a string"))?;
    known_check(&id, node.mark, catalogue)
}

fn known_check(id: &str, mark: Mark, catalogue: &Catalogue) -> Result<String, ConfigError> {
    catalogue
        .lookup(id)
        .map(|c| c.id.clone())
        .map_err(|e| error(mark, e.to_string()))
}

fn unknown_key(value: &Node, within: &str, key: &str, known: &[&str]) -> ConfigError {
    error(
        value.mark,
        format!(
            "unknown key `{key}` in {within} (expected one of: {})",
            known.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("kube-*", "kube-system"));
        assert!(glob("*", ""));
        assert!(glob(
            "DaemonSet/*/cilium*",
            "DaemonSet/kube-system/cilium-agent"
        ));
        assert!(!glob("kube-*", "default"));
        assert!(!glob("a*b*c", "acb"));
        assert!(glob("exact", "exact"));
    }

    fn parse(yaml: &str) -> Result<Config, ConfigError> {
        let root = palisade_kube::yaml::read_document(yaml.as_bytes(), "palisade.yaml")
            .expect("YAML")
            .expect("a document");
        Config::from_node(&root, &Catalogue::builtin())
    }

    #[test]
    fn image_gates() {
        let config = parse(
            "admission:\n  imageGates:\n    unscanned: deny\n    rules:\n      - name: exploited\n        action: deny\n        namespaces: [prod-*]\n        when: {kev: true, severity: High, epssAbove: 0.5}\n      - {name: fixable, action: audit, when: {fixAvailable: false}}\n",
        )
        .expect("valid");
        let gates = &config.image_gates;
        assert_eq!(gates.unscanned, UnscannedAction::Deny);
        assert_eq!(gates.rules.len(), 2);
        assert_eq!(gates.rules[0].when.severity.as_deref(), Some("high"));
        assert_eq!(gates.rules[0].when.kev, Some(true));
        assert_eq!(gates.rules[0].when.epss_above, Some(0.5));
        assert_eq!(gates.rules[1].when.fix_available, Some(false));
        assert!(gates.rules[0].applies_to("prod-eu", &serde_json::json!({})));
        assert!(!gates.rules[0].applies_to("dev", &serde_json::json!({})));
        assert_eq!(
            parse("{}").unwrap().image_gates.unscanned,
            UnscannedAction::Audit
        );

        for (yaml, expected) in [
            (
                "admission:\n  imageGates:\n    rules:\n      - {name: a, action: deny, when: {severity: severe}}\n",
                "severity",
            ),
            (
                "admission:\n  imageGates:\n    rules:\n      - {name: a, action: deny, when: {}}\n",
                "at least one condition",
            ),
            (
                "admission:\n  imageGates:\n    rules:\n      - {name: a, action: deny}\n",
                "needs `when`",
            ),
            (
                "admission:\n  imageGates:\n    rules:\n      - {name: a, action: deny, when: {epssAbove: 2}}\n",
                "probability",
            ),
            (
                "admission:\n  imageGates:\n    rules:\n      - {name: a, action: deny, when: {kev: true}}\n      - {name: a, action: audit, when: {kev: true}}\n",
                "two image gates",
            ),
            (
                "admission:\n  imageGates:\n    unscaned: deny\n",
                "unscanned",
            ),
        ] {
            let error = parse(yaml).expect_err(yaml);
            assert!(error.to_string().contains(expected), "{yaml}: {error}");
        }
    }
}
