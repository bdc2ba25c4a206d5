//! Reading `ValidatingAdmissionPolicy` and `ValidatingAdmissionPolicyBinding` objects from YAML
//! trees, checking them the way the API server would on create, and compiling every expression once.
//! Every error carries the field path and, from the tree's source marks, the line.

use palisade_core::{FieldPath, Node, Value as NodeValue};
use palisade_policy::{Action, LabelSelector};

use crate::error::LoadError;
use crate::expr::Expression;
use crate::gatekeeper::{
    ANY_OBJECT_EXPRESSION, CONSTRAINT_GROUP, Constraint, ConstraintMatch, ENGINE,
    PARAMS_EXPRESSION, TEMPLATE_GROUP, TEMPLATE_KIND, Template,
};
use crate::matching::{MatchResources, ResourceRule};

pub const POLICY_KIND: &str = "ValidatingAdmissionPolicy";
pub const BINDING_KIND: &str = "ValidatingAdmissionPolicyBinding";
const GROUP: &str = "admissionregistration.k8s.io";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    Fail,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterNotFoundAction {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamKind {
    pub api_version: String,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct ParamRef {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub selector: Option<LabelSelector>,
    pub parameter_not_found_action: ParameterNotFoundAction,
}

pub(crate) struct MatchCondition {
    pub name: String,
    pub expression: Expression,
}

pub(crate) struct Variable {
    pub name: String,
    pub expression: Expression,
}

pub(crate) struct Validation {
    pub expression: Expression,
    pub message: Option<String>,
    pub message_expression: Option<Expression>,
    pub reason: Option<String>,
}

pub(crate) struct Body {
    pub match_conditions: Vec<MatchCondition>,
    pub variables: Vec<Variable>,
    pub validations: Vec<Validation>,
    pub audit_annotations: Vec<AuditAnnotation>,
}

impl Body {
    /// Whether any expression reads `authorizer`, whose RBAC index is then built for evaluation.
    fn uses_authorizer(&self) -> bool {
        self.match_conditions
            .iter()
            .any(|c| c.expression.uses_authorizer)
            || self.variables.iter().any(|v| v.expression.uses_authorizer)
            || self.validations.iter().any(|v| {
                v.expression.uses_authorizer
                    || v.message_expression
                        .as_ref()
                        .is_some_and(|m| m.uses_authorizer)
            })
            || self
                .audit_annotations
                .iter()
                .any(|a| a.value_expression.uses_authorizer)
    }
}

pub(crate) struct AuditAnnotation {
    pub key: String,
    pub value_expression: Expression,
}

/// A loaded `ValidatingAdmissionPolicy`.
pub struct Policy {
    pub name: String,
    /// The file it was loaded from.
    pub file: String,
    pub failure_policy: FailurePolicy,
    pub param_kind: Option<ParamKind>,
    pub match_constraints: MatchResources,
    pub(crate) match_conditions: Vec<MatchCondition>,
    pub(crate) variables: Vec<Variable>,
    pub(crate) validations: Vec<Validation>,
    pub(crate) audit_annotations: Vec<AuditAnnotation>,
    pub(crate) uses_authorizer: bool,
}

/// A loaded `ValidatingAdmissionPolicyBinding`.
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub file: String,
    pub policy_name: String,
    pub param_ref: Option<ParamRef>,
    pub validation_actions: Vec<Action>,
    pub match_resources: Option<MatchResources>,
}

/// What one object of a policy file turned out to be.
pub(crate) enum Loaded {
    Policy(Box<Policy>),
    Binding(Box<Binding>),
    Template(Box<Template>),
    Constraint(Box<Constraint>),
    /// Some other kind (parameter objects, unrelated manifests): not ours to judge.
    Other,
}

/// Reads one object; errors are pushed to `errors` (as many as can be found in one pass).
pub(crate) fn load_object(file: &str, root: &Node, errors: &mut Vec<LoadError>) -> Loaded {
    let api_version = root.str_at("apiVersion").unwrap_or("");
    let kind = root.str_at("kind").unwrap_or("");
    let group = api_version.split_once('/').map_or("", |(group, _)| group);
    let gatekeeper =
        (group == TEMPLATE_GROUP && kind == TEMPLATE_KIND) || group == CONSTRAINT_GROUP;
    if kind != POLICY_KIND && kind != BINDING_KIND && !gatekeeper {
        return Loaded::Other;
    }
    let name = root
        .at(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or("");
    let mut reader = Reader {
        file,
        root,
        object: format!("{kind}/{name}"),
        errors: Vec::new(),
    };
    if !gatekeeper && group != GROUP {
        reader.error(
            &FieldPath::root().key("apiVersion"),
            format!("expected apiVersion {GROUP}/v1 for {kind}, found `{api_version}`"),
        );
    }
    if name.is_empty() {
        reader.error(
            &FieldPath::root().key("metadata"),
            "metadata.name is required",
        );
    }
    let loaded = if group == CONSTRAINT_GROUP {
        Loaded::Constraint(Box::new(reader.constraint(kind, name)))
    } else if kind == TEMPLATE_KIND {
        match reader.template(name) {
            Some(template) => Loaded::Template(Box::new(template)),
            // Rego-only templates belong to the Rego engine.
            None => Loaded::Other,
        }
    } else if kind == POLICY_KIND {
        Loaded::Policy(Box::new(reader.policy(name)))
    } else {
        Loaded::Binding(Box::new(reader.binding(name)))
    };
    let failed = !reader.errors.is_empty();
    errors.append(&mut reader.errors);
    if failed { Loaded::Other } else { loaded }
}

struct Reader<'a> {
    file: &'a str,
    root: &'a Node,
    object: String,
    errors: Vec<LoadError>,
}

impl<'a> Reader<'a> {
    fn error(&mut self, path: &FieldPath, message: impl Into<String>) {
        let mark = self.root.locate(path);
        self.errors.push(LoadError {
            file: self.file.to_string(),
            line: mark.is_known().then_some(mark.line),
            object: self.object.clone(),
            field: path.to_string(),
            message: message.into(),
        });
    }

    /// An optional string field; a value of another type is an error.
    fn string(&mut self, parent: &Node, path: &FieldPath, key: &str) -> Option<String> {
        let node = parent.get(key).filter(|n| !n.is_null())?;
        match &node.value {
            NodeValue::String(s) => Some(s.clone()),
            _ => {
                self.error(&path.key(key), format!("`{key}` must be a string"));
                None
            }
        }
    }

    fn required_string(&mut self, parent: &Node, path: &FieldPath, key: &str) -> Option<String> {
        if parent.get(key).is_none_or(Node::is_null) {
            self.error(&path.key(key), format!("`{key}` is required"));
            return None;
        }
        let value = self.string(parent, path, key)?;
        if value.trim().is_empty() {
            self.error(&path.key(key), format!("`{key}` must not be empty"));
            return None;
        }
        Some(value)
    }

    /// The items of an optional list field; anything but a list is an error.
    fn list<'n>(&mut self, parent: &'n Node, path: &FieldPath, key: &str) -> &'n [Node] {
        match parent.get(key).map(|n| &n.value) {
            None | Some(NodeValue::Null) => &[],
            Some(NodeValue::Seq(items)) => items,
            Some(_) => {
                self.error(&path.key(key), format!("`{key}` must be a list"));
                &[]
            }
        }
    }

    fn strings(&mut self, parent: &Node, path: &FieldPath, key: &str) -> Vec<String> {
        let items = self.list(parent, path, key);
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.error(&path.key(key).index(i), "must be a string"),
            }
        }
        out
    }

    /// An optional object field; anything but a map is an error.
    fn map<'n>(&mut self, parent: &'n Node, path: &FieldPath, key: &str) -> Option<&'n Node> {
        let node = parent.get(key).filter(|n| !n.is_null())?;
        if node.is_map() {
            Some(node)
        } else {
            self.error(&path.key(key), format!("`{key}` must be an object"));
            None
        }
    }

    fn expression(
        &mut self,
        source: &str,
        path: &FieldPath,
        variables: &[String],
    ) -> Option<Expression> {
        match Expression::compile(source, variables) {
            Ok(expression) => Some(expression),
            Err(message) => {
                self.error(path, format!("invalid CEL expression: {message}"));
                None
            }
        }
    }

    fn required_expression(
        &mut self,
        parent: &Node,
        path: &FieldPath,
        key: &str,
        variables: &[String],
    ) -> Option<Expression> {
        let source = self.required_string(parent, path, key)?;
        self.expression(&source, &path.key(key), variables)
    }

    fn spec(&mut self) -> (&'a Node, FieldPath) {
        let path = FieldPath::root().key("spec");
        let root = self.root;
        match self.map(root, &FieldPath::root(), "spec") {
            Some(spec) => (spec, path),
            None => {
                if root.get("spec").is_none_or(Node::is_null) {
                    self.error(&path, "`spec` is required");
                }
                (Node::null(), path)
            }
        }
    }

    fn policy(&mut self, name: &str) -> Policy {
        let (spec, path) = self.spec();
        let failure_policy = self.failure_policy(spec, &path);
        let param_kind = self.map(spec, &path, "paramKind").and_then(|node| {
            let at = path.key("paramKind");
            let api_version = self.required_string(node, &at, "apiVersion")?;
            let kind = self.required_string(node, &at, "kind")?;
            Some(ParamKind { api_version, kind })
        });
        let match_constraints = match self.map(spec, &path, "matchConstraints") {
            Some(node) => {
                let at = path.key("matchConstraints");
                let resources = self.match_resources(node, &at);
                if resources.resource_rules.is_empty() {
                    self.error(&at.key("resourceRules"), "`resourceRules` is required: a policy must say which resources it validates");
                }
                resources
            }
            None => {
                self.error(
                    &path.key("matchConstraints"),
                    "`matchConstraints` is required",
                );
                MatchResources::default()
            }
        };

        let body = self.body(spec, &path, Vec::new());
        let uses_authorizer = body.uses_authorizer();
        let Body {
            match_conditions,
            variables,
            validations,
            audit_annotations,
        } = body;

        if validations.is_empty() && audit_annotations.is_empty() && self.errors.is_empty() {
            self.error(
                &path,
                "a policy needs at least one of `validations` or `auditAnnotations`",
            );
        }

        Policy {
            name: name.to_string(),
            file: self.file.to_string(),
            failure_policy,
            param_kind,
            match_constraints,
            match_conditions,
            variables,
            validations,
            audit_annotations,
            uses_authorizer,
        }
    }

    /// The expressions of a policy (`spec` of a ValidatingAdmissionPolicy, `source` of a Gatekeeper
    /// K8sNativeValidation block). `preamble` are variables the engine defines before the user's.
    pub(crate) fn body(&mut self, spec: &Node, path: &FieldPath, preamble: Vec<Variable>) -> Body {
        let mut variable_names: Vec<String> = preamble.iter().map(|v| v.name.clone()).collect();
        let mut variables = preamble;
        // Variables come first: every other expression may read them, each variable only the ones
        // declared before it.
        for (i, node) in self.list(spec, path, "variables").iter().enumerate() {
            let at = path.key("variables").index(i);
            let Some(var_name) = self.required_string(node, &at, "name") else {
                continue;
            };
            if !is_cel_identifier(&var_name) {
                self.error(
                    &at.key("name"),
                    format!("`{var_name}` is not a valid CEL identifier"),
                );
            }
            if variable_names.contains(&var_name) {
                self.error(
                    &at.key("name"),
                    format!("variable `{var_name}` is declared twice"),
                );
            }
            if let Some(expression) =
                self.required_expression(node, &at, "expression", &variable_names)
            {
                variables.push(Variable {
                    name: var_name.clone(),
                    expression,
                });
            }
            variable_names.push(var_name);
        }

        let mut match_conditions = Vec::new();
        for (i, node) in self.list(spec, path, "matchConditions").iter().enumerate() {
            let at = path.key("matchConditions").index(i);
            let condition_name = self.required_string(node, &at, "name");
            let expression = self.required_expression(node, &at, "expression", &variable_names);
            if let (Some(name), Some(expression)) = (condition_name, expression) {
                match_conditions.push(MatchCondition { name, expression });
            }
        }

        let mut validations = Vec::new();
        for (i, node) in self.list(spec, path, "validations").iter().enumerate() {
            let at = path.key("validations").index(i);
            let expression = self.required_expression(node, &at, "expression", &variable_names);
            let message = self.string(node, &at, "message");
            if message.as_deref().is_some_and(|m| m.contains('\n')) {
                self.error(&at.key("message"), "`message` must not contain line breaks");
            }
            let message_expression =
                self.string(node, &at, "messageExpression")
                    .and_then(|source| {
                        self.expression(&source, &at.key("messageExpression"), &variable_names)
                    });
            let reason = self.string(node, &at, "reason");
            if let Some(expression) = expression {
                validations.push(Validation {
                    expression,
                    message,
                    message_expression,
                    reason,
                });
            }
        }

        let mut audit_annotations = Vec::new();
        for (i, node) in self.list(spec, path, "auditAnnotations").iter().enumerate() {
            let at = path.key("auditAnnotations").index(i);
            let key = self.required_string(node, &at, "key");
            let value_expression =
                self.required_expression(node, &at, "valueExpression", &variable_names);
            if let (Some(key), Some(value_expression)) = (key, value_expression) {
                audit_annotations.push(AuditAnnotation {
                    key,
                    value_expression,
                });
            }
        }

        Body {
            match_conditions,
            variables,
            validations,
            audit_annotations,
        }
    }

    fn failure_policy(&mut self, spec: &Node, path: &FieldPath) -> FailurePolicy {
        match self.string(spec, path, "failurePolicy").as_deref() {
            None | Some("Fail") => FailurePolicy::Fail,
            Some("Ignore") => FailurePolicy::Ignore,
            Some(other) => {
                self.error(
                    &path.key("failurePolicy"),
                    format!("unknown failurePolicy `{other}` (expected Fail or Ignore)"),
                );
                FailurePolicy::Fail
            }
        }
    }

    /// A Gatekeeper ConstraintTemplate; `None` when it has no K8sNativeValidation code.
    fn template(&mut self, name: &str) -> Option<Template> {
        let (spec, path) = self.spec();
        let mut source = None;
        for (t, target) in self.list(spec, &path, "targets").iter().enumerate() {
            let target_path = path.key("targets").index(t);
            for (c, code) in self.list(target, &target_path, "code").iter().enumerate() {
                if code.str_at("engine") == Some(ENGINE) {
                    let code_path = target_path.key("code").index(c);
                    match self.map(code, &code_path, "source") {
                        Some(node) => source = Some((node, code_path.key("source"))),
                        None => self.error(&code_path.key("source"), "`source` is required"),
                    }
                }
            }
        }
        let (source, source_path) = source?;
        let kind_path = path.keys(&["crd", "spec", "names", "kind"]);
        let constraint_kind = match spec
            .at(&["crd", "spec", "names", "kind"])
            .and_then(Node::as_str)
        {
            Some(kind) if !kind.is_empty() => kind.to_string(),
            _ => {
                self.error(&kind_path, "the constraint kind is required");
                String::new()
            }
        };
        let failure_policy = self.failure_policy(source, &source_path);
        let mut preamble = Vec::new();
        for (variable, expression) in [
            ("params", PARAMS_EXPRESSION),
            ("anyObject", ANY_OBJECT_EXPRESSION),
        ] {
            let declared: Vec<String> =
                preamble.iter().map(|v: &Variable| v.name.clone()).collect();
            if let Some(expression) = self.expression(expression, &source_path, &declared) {
                preamble.push(Variable {
                    name: variable.to_string(),
                    expression,
                });
            }
        }
        let body = self.body(source, &source_path, preamble);
        let uses_authorizer = body.uses_authorizer();
        if body.validations.is_empty() && self.errors.is_empty() {
            self.error(
                &source_path.key("validations"),
                "a K8sNativeValidation source needs at least one validation",
            );
        }
        Some(Template {
            name: name.to_string(),
            file: self.file.to_string(),
            constraint_kind,
            policy: Policy {
                name: name.to_string(),
                file: self.file.to_string(),
                failure_policy,
                param_kind: None,
                match_constraints: MatchResources::default(),
                match_conditions: body.match_conditions,
                variables: body.variables,
                validations: body.validations,
                audit_annotations: body.audit_annotations,
                uses_authorizer,
            },
        })
    }

    fn constraint(&mut self, kind: &str, name: &str) -> Constraint {
        let (spec, path) = self.spec();
        let action = match self.string(spec, &path, "enforcementAction").as_deref() {
            None | Some("deny") => Action::Deny,
            Some("warn") => Action::Warn,
            Some("dryrun") => Action::Audit,
            Some(other) => {
                self.error(
                    &path.key("enforcementAction"),
                    format!(
                        "unsupported enforcementAction `{other}` (expected deny, warn or dryrun)"
                    ),
                );
                Action::Deny
            }
        };
        let mut matcher = ConstraintMatch {
            scope: "*".into(),
            ..ConstraintMatch::default()
        };
        if let Some(node) = self.map(spec, &path, "match") {
            let at = path.key("match");
            for (i, entry) in self.list(node, &at, "kinds").iter().enumerate() {
                let entry_path = at.key("kinds").index(i);
                let groups = self.strings(entry, &entry_path, "apiGroups");
                let kinds = self.strings(entry, &entry_path, "kinds");
                matcher.kinds.push((groups, kinds));
            }
            matcher.namespaces = self.strings(node, &at, "namespaces");
            matcher.excluded_namespaces = self.strings(node, &at, "excludedNamespaces");
            matcher.label_selector = self.selector(node, &at, "labelSelector");
            matcher.namespace_selector = self.selector(node, &at, "namespaceSelector");
            matcher.name = self.string(node, &at, "name");
            if let Some(scope) = self.string(node, &at, "scope") {
                if !["*", "Cluster", "Namespaced"].contains(&scope.as_str()) {
                    self.error(
                        &at.key("scope"),
                        format!("unknown scope `{scope}` (expected Cluster, Namespaced or *)"),
                    );
                }
                matcher.scope = scope;
            }
        }
        Constraint {
            kind: kind.to_string(),
            name: name.to_string(),
            file: self.file.to_string(),
            action,
            matcher,
            object: serde_json::to_value(self.root).unwrap_or_default(),
        }
    }

    fn binding(&mut self, name: &str) -> Binding {
        let (spec, path) = self.spec();
        let policy_name = self
            .required_string(spec, &path, "policyName")
            .unwrap_or_default();
        let param_ref = self.map(spec, &path, "paramRef").map(|node| {
            let at = path.key("paramRef");
            let name = self.string(node, &at, "name");
            let namespace = self.string(node, &at, "namespace");
            let selector = self.map(node, &at, "selector").and_then(|selector| {
                let json = serde_json::to_value(selector).unwrap_or_default();
                match LabelSelector::from_value(Some(&json)) {
                    Ok(selector) => Some(selector),
                    Err(e) => {
                        self.error(&at.key("selector"), e.to_string());
                        None
                    }
                }
            });
            if name.is_some() == node.get("selector").is_some_and(|s| !s.is_null()) {
                self.error(&at, "exactly one of `name` and `selector` must be set");
            }
            let parameter_not_found_action =
                match self.string(node, &at, "parameterNotFoundAction").as_deref() {
                    None | Some("Deny") => ParameterNotFoundAction::Deny,
                    Some("Allow") => ParameterNotFoundAction::Allow,
                    Some(other) => {
                        self.error(
                            &at.key("parameterNotFoundAction"),
                            format!(
                                "unknown parameterNotFoundAction `{other}` (expected Allow or Deny)"
                            ),
                        );
                        ParameterNotFoundAction::Deny
                    }
                };
            ParamRef {
                name,
                namespace,
                selector,
                parameter_not_found_action,
            }
        });

        let mut validation_actions = Vec::new();
        let actions_path = path.key("validationActions");
        for (i, action) in self
            .strings(spec, &path, "validationActions")
            .iter()
            .enumerate()
        {
            let action = match action.as_str() {
                "Deny" => Action::Deny,
                "Warn" => Action::Warn,
                "Audit" => Action::Audit,
                other => {
                    self.error(
                        &actions_path.index(i),
                        format!(
                            "unknown validation action `{other}` (expected Deny, Warn or Audit)"
                        ),
                    );
                    continue;
                }
            };
            if validation_actions.contains(&action) {
                self.error(&actions_path.index(i), "validation action listed twice");
            }
            validation_actions.push(action);
        }
        if validation_actions.is_empty() && spec.get("validationActions").is_none() {
            self.error(
                &actions_path,
                "`validationActions` is required (Deny, Warn and/or Audit)",
            );
        }
        if validation_actions.contains(&Action::Deny) && validation_actions.contains(&Action::Warn)
        {
            // The API server refuses this pair: the failure would be reported twice.
            self.error(&actions_path, "Deny and Warn cannot be used together");
        }

        let match_resources = self
            .map(spec, &path, "matchResources")
            .map(|node| self.match_resources(node, &path.key("matchResources")));

        Binding {
            name: name.to_string(),
            file: self.file.to_string(),
            policy_name,
            param_ref,
            validation_actions,
            match_resources,
        }
    }

    fn match_resources(&mut self, node: &Node, path: &FieldPath) -> MatchResources {
        let namespace_selector = self.selector(node, path, "namespaceSelector");
        let object_selector = self.selector(node, path, "objectSelector");
        let resource_rules = self.rules(node, path, "resourceRules");
        let exclude_resource_rules = self.rules(node, path, "excludeResourceRules");
        if let Some(policy) = self.string(node, path, "matchPolicy")
            && policy != "Exact"
            && policy != "Equivalent"
        {
            self.error(
                &path.key("matchPolicy"),
                format!("unknown matchPolicy `{policy}` (expected Exact or Equivalent)"),
            );
        }
        MatchResources {
            namespace_selector,
            object_selector,
            resource_rules,
            exclude_resource_rules,
        }
    }

    fn selector(&mut self, node: &Node, path: &FieldPath, key: &str) -> LabelSelector {
        let Some(selector) = self.map(node, path, key) else {
            return LabelSelector::default();
        };
        let json = serde_json::to_value(selector).unwrap_or_default();
        LabelSelector::from_value(Some(&json)).unwrap_or_else(|e| {
            self.error(&path.key(key), e.to_string());
            LabelSelector::default()
        })
    }

    fn rules(&mut self, node: &Node, path: &FieldPath, key: &str) -> Vec<ResourceRule> {
        let mut rules = Vec::new();
        for (i, item) in self.list(node, path, key).iter().enumerate() {
            let at = path.key(key).index(i);
            if !item.is_map() {
                self.error(&at, "a resource rule must be an object");
                continue;
            }
            let rule = ResourceRule {
                api_groups: self.strings(item, &at, "apiGroups"),
                api_versions: self.strings(item, &at, "apiVersions"),
                resources: self.strings(item, &at, "resources"),
                operations: self.strings(item, &at, "operations"),
                resource_names: self.strings(item, &at, "resourceNames"),
                scope: self
                    .string(item, &at, "scope")
                    .unwrap_or_else(|| "*".into()),
            };
            for (i, operation) in rule.operations.iter().enumerate() {
                if !["*", "CREATE", "UPDATE", "DELETE", "CONNECT"].contains(&operation.as_str()) {
                    self.error(
                        &at.key("operations").index(i),
                        format!("unknown operation `{operation}` (expected CREATE, UPDATE, DELETE, CONNECT or *)"),
                    );
                }
            }
            if !["*", "Cluster", "Namespaced"].contains(&rule.scope.as_str()) {
                self.error(
                    &at.key("scope"),
                    format!(
                        "unknown scope `{}` (expected Cluster, Namespaced or *)",
                        rule.scope
                    ),
                );
            }
            rules.push(rule);
        }
        rules
    }
}

fn is_cel_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
