//! Evaluating loaded policies for one admission request, in the order the API server does:
//! match constraints and binding match resources, parameters, match conditions, then validations and
//! audit annotations, with failures routed through the policy's `failurePolicy`.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use cel::Value as Cel;
use palisade_policy::{Action, AdmissionRequest, Inventory, Violation};
use serde_json::{Value as Json, json};

use crate::authorizer::{Rbac, authorizer_for};
use crate::convert::{map_of, to_cel, type_name};
use crate::expr::Expression;
use crate::gatekeeper::{Constraint, Template};
use crate::lazy::json_to_val;
use crate::load::{Binding, FailurePolicy, ParameterNotFoundAction, Policy, Validation};
use cel::common::types::CelNull;
use cel::common::value::Val;

/// An audit annotation a policy set: `key` is `<policy name>/<annotation key>`, as Kubernetes
/// writes it into the audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnnotation {
    pub key: String,
    pub value: String,
}

/// The outcome of evaluating a policy set for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// One per failed validation (or failure under `failurePolicy: Fail`) and binding action.
    pub violations: Vec<Violation>,
    pub audit_annotations: Vec<AuditAnnotation>,
}

/// The request-wide part of the CEL environment, built once per request and shared by every
/// binding: a scope holding `object`, `oldObject`, `request` and `namespaceObject`, as lazy views
/// of the request's JSON (see [`crate::lazy`]) that borrow it for `'r`.
pub(crate) struct RequestValues<'f, 'r> {
    pub scope: cel::Context<'f, 'r>,
    pub namespace_labels: BTreeMap<String, String>,
}

impl<'f, 'r> RequestValues<'f, 'r> {
    /// `attributes` is [`request_attributes`] of `request`.
    pub fn new(
        functions: &'f cel::Context<'static, 'static>,
        request: &'r AdmissionRequest,
        attributes: &'r Json,
        inventory: &'r Inventory,
    ) -> RequestValues<'f, 'r> {
        let value_or_null = |v: Option<&'r Json>| -> Box<dyn Val + 'r> {
            v.map_or_else(|| Box::new(CelNull), json_to_val)
        };
        let namespace = (!request.namespace.is_empty())
            .then(|| inventory.namespace(&request.namespace))
            .flatten();
        let mut scope: cel::Context<'f, 'r> = functions.new_inner_scope();
        scope.add_variable_as_val("object", value_or_null(request.object.as_ref()));
        scope.add_variable_as_val("oldObject", value_or_null(request.old_object.as_ref()));
        scope.add_variable_as_val("request", json_to_val(attributes));
        scope.add_variable_as_val("namespaceObject", value_or_null(namespace));
        RequestValues {
            scope,
            namespace_labels: if request.namespace.is_empty() {
                BTreeMap::new()
            } else {
                inventory.namespace_labels(&request.namespace)
            },
        }
    }
}

/// `request` as Kubernetes types it for CEL: every attribute present, with its zero value when the
/// admission request left it out (offline requests built from manifests have no user, for example),
/// so `request.userInfo.username == 'x'` is false rather than an error.
pub(crate) fn request_attributes(request: &AdmissionRequest) -> Json {
    let kind = serde_json::to_value(&request.kind).unwrap_or_default();
    let resource = serde_json::to_value(&request.resource).unwrap_or_default();
    let user = &request.user_info;
    json!({
        "uid": request.uid,
        "kind": kind,
        "resource": resource,
        "subResource": request.sub_resource.clone().unwrap_or_default(),
        "requestKind": request.request_kind.as_ref().map_or(kind.clone(), |k| serde_json::to_value(k).unwrap_or_default()),
        "requestResource": request.request_resource.as_ref().map_or(resource.clone(), |r| serde_json::to_value(r).unwrap_or_default()),
        "requestSubResource": request.request_sub_resource.clone().or_else(|| request.sub_resource.clone()).unwrap_or_default(),
        "name": request.name,
        "namespace": request.namespace,
        "operation": request.operation.as_str(),
        "userInfo": {
            "username": user.username,
            "uid": user.uid,
            "groups": user.groups,
            "extra": user.extra.clone().unwrap_or_else(|| json!({})),
        },
        "dryRun": request.dry_run.unwrap_or(false),
        "options": request.options.clone().unwrap_or(Json::Null),
    })
}

/// What every binding of one evaluation shares.
pub(crate) struct Environment<'a> {
    pub request: &'a AdmissionRequest,
    pub inventory: &'a Inventory,
    /// The inventory in Gatekeeper layout, built on first use (only parameterised policies and
    /// `authorizer` need it).
    pub inventory_json: OnceCell<Json>,
    /// RBAC grants for `authorizer`, built on first use.
    pub rbac: OnceCell<Arc<Rbac>>,
}

impl Environment<'_> {
    /// The `authorizer` variable, for policies that use it.
    fn authorizer(&self, policy: &Policy) -> Option<Cel> {
        policy.uses_authorizer.then(|| {
            let rbac = self.rbac.get_or_init(|| {
                let tree = self
                    .inventory_json
                    .get_or_init(|| self.inventory.to_value());
                Arc::new(Rbac::from_inventory(tree))
            });
            authorizer_for(self.request, rbac.clone())
        })
    }

    /// Evaluates one binding of `policy`, appending to `out`.
    pub fn evaluate_binding(
        &self,
        policy: &Policy,
        binding: &Binding,
        values: &RequestValues<'_, '_>,
        out: &mut Evaluation,
    ) {
        let request = self.request;
        if !policy
            .match_constraints
            .matches(request, &values.namespace_labels, false)
        {
            return;
        }
        if let Some(resources) = &binding.match_resources
            && !resources.matches(request, &values.namespace_labels, true)
        {
            return;
        }
        let report = Report {
            label: binding.name.clone(),
            actions: &binding.validation_actions,
            failure_policy: policy.failure_policy,
            origin: json!({"validatingAdmissionPolicy": policy.name, "binding": binding.name}),
        };
        let params = match parameters(
            policy,
            binding,
            request,
            self.inventory,
            &self.inventory_json,
        ) {
            Ok(params) => params,
            Err(Missing::Allow) => return,
            Err(Missing::Failure(message)) => {
                report.failure(&message, out);
                return;
            }
        };
        let authorizer = self.authorizer(policy);
        for param in params {
            let mut run = Run::new(policy, values, param, authorizer.clone());
            run.evaluate(&report, out);
        }
    }
}

impl Environment<'_> {
    /// Evaluates a Gatekeeper constraint with its template's CEL code.
    pub fn evaluate_constraint(
        &self,
        template: &Template,
        constraint: &Constraint,
        values: &RequestValues<'_, '_>,
        out: &mut Evaluation,
    ) {
        if !constraint
            .matcher
            .matches(self.request, &values.namespace_labels)
        {
            return;
        }
        let actions = [constraint.action];
        let report = Report {
            label: format!("{}/{}", constraint.kind, constraint.name),
            actions: &actions,
            failure_policy: template.policy.failure_policy,
            origin: json!({"constraintTemplate": template.name,
                "constraint": format!("{}/{}", constraint.kind, constraint.name)}),
        };
        let mut run = Run::new(
            &template.policy,
            values,
            to_cel(&constraint.object),
            self.authorizer(&template.policy),
        );
        run.evaluate(&report, out);
    }
}

enum Missing {
    /// `parameterNotFoundAction: Allow` and nothing found: the binding passes.
    Allow,
    Failure(String),
}

/// The parameter objects the binding selects: one evaluation per parameter, `null` when the policy
/// takes none.
fn parameters(
    policy: &Policy,
    binding: &Binding,
    request: &AdmissionRequest,
    inventory: &Inventory,
    inventory_json: &OnceCell<Json>,
) -> Result<Vec<Cel>, Missing> {
    let Some(kind) = &policy.param_kind else {
        return Ok(vec![Cel::Null]);
    };
    let Some(param_ref) = &binding.param_ref else {
        return Err(Missing::Failure(format!(
            "policy `{}` has a paramKind but binding `{}` has no paramRef",
            policy.name, binding.name
        )));
    };
    let tree = inventory_json.get_or_init(|| inventory.to_value());
    let by_name = |scope: Option<&str>| -> Option<&serde_json::Map<String, Json>> {
        let root = match scope {
            Some(ns) => tree.get("namespace")?.get(ns)?,
            None => tree.get("cluster")?,
        };
        root.get(&kind.api_version)?.get(&kind.kind)?.as_object()
    };
    // An explicit namespace is the only place to look; without one, a namespaced parameter lives
    // in the request's namespace and a cluster-scoped one at cluster scope.
    let scopes: Vec<Option<&str>> = match param_ref.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => vec![Some(ns)],
        _ if !request.namespace.is_empty() => vec![Some(request.namespace.as_str()), None],
        _ => vec![None],
    };
    let mut found = Vec::new();
    for scope in scopes {
        let Some(objects) = by_name(scope) else {
            continue;
        };
        match (&param_ref.name, &param_ref.selector) {
            (Some(name), _) => {
                if let Some(object) = objects.get(name) {
                    found.push(to_cel(object));
                    break;
                }
            }
            (None, Some(selector)) => found.extend(
                objects
                    .values()
                    .filter(|o| selector.matches_object(o))
                    .map(to_cel),
            ),
            (None, None) => {}
        }
    }
    if !found.is_empty() {
        return Ok(found);
    }
    match param_ref.parameter_not_found_action {
        ParameterNotFoundAction::Allow => Err(Missing::Allow),
        ParameterNotFoundAction::Deny => Err(Missing::Failure(format!(
            "no params found for policy binding with `Deny` parameterNotFoundAction \
             (paramKind {} {})",
            kind.api_version, kind.kind
        ))),
    }
}

/// Who reports a violation and how: a VAP binding or a Gatekeeper constraint.
struct Report<'a> {
    /// `Violation::policy`: the binding name, or `<Kind>/<name>` for a constraint.
    label: String,
    actions: &'a [Action],
    failure_policy: FailurePolicy,
    /// What produced it, for `Violation::details`.
    origin: Json,
}

impl Report<'_> {
    fn violation(&self, message: &str, reason: Option<&str>, field: &str, out: &mut Evaluation) {
        for &action in self.actions {
            let mut details = self.origin.clone();
            if let Some(fields) = details.as_object_mut()
                && !field.is_empty()
            {
                fields.insert("field".into(), Json::String(field.to_string()));
            }
            out.violations.push(Violation {
                policy: self.label.clone(),
                message: message.to_string(),
                details: Some(details),
                action,
                reason: reason.map(str::to_string),
            });
        }
    }

    /// An evaluation that could not reach a verdict: `Fail` reports it, `Ignore` lets it pass.
    fn failure(&self, message: &str, out: &mut Evaluation) {
        if self.failure_policy == FailurePolicy::Fail {
            self.violation(message, Some("InternalError"), "", out);
        }
    }
}

/// One evaluation of a policy with one parameter: the CEL activation plus memoized variables.
struct Run<'r, 'v> {
    base: cel::Context<'r, 'v>,
    policy: &'r Policy,
    /// `None` until the variable is first needed; a computed value lives in `base`, under
    /// [`crate::expr::variable_identifier`], in cel's own representation.
    variables: Vec<Option<Result<(), String>>>,
}

impl<'r, 'v> Run<'r, 'v> {
    fn new(
        policy: &'r Policy,
        values: &'r RequestValues<'_, 'v>,
        params: Cel,
        authorizer: Option<Cel>,
    ) -> Run<'r, 'v> {
        let mut base = values.scope.new_inner_scope();
        base.add_variable_from_value("params", params);
        if let Some(authorizer) = authorizer {
            base.add_variable_from_value("authorizer", authorizer);
        }
        Run {
            base,
            policy,
            variables: vec![None; policy.variables.len()],
        }
    }

    fn evaluate(&mut self, report: &Report, out: &mut Evaluation) {
        // Kubernetes: any false condition skips the policy, even when another one errored.
        let mut condition_error = None;
        for condition in &self.policy.match_conditions {
            match self.execute(&condition.expression) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => return,
                Ok(other) => {
                    condition_error.get_or_insert(format!(
                        "matchCondition `{}` must evaluate to bool, got {}",
                        condition.name,
                        type_name(&other)
                    ));
                }
                Err(e) => {
                    condition_error
                        .get_or_insert(format!("matchCondition `{}` failed: {e}", condition.name));
                }
            }
        }
        if let Some(message) = condition_error {
            report.failure(&message, out);
            return;
        }

        for (i, validation) in self.policy.validations.iter().enumerate() {
            let field = format!("spec.validations[{i}]");
            match self.execute(&validation.expression) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => {
                    let message = self.message(validation);
                    let reason = validation.reason.as_deref().unwrap_or("Invalid");
                    report.violation(&message, Some(reason), &field, out);
                }
                Ok(other) => report.failure(
                    &format!(
                        "expression '{}' must evaluate to bool, got {}",
                        validation.expression.source.trim(),
                        type_name(&other)
                    ),
                    out,
                ),
                Err(e) => report.failure(
                    &format!(
                        "expression '{}' resulted in error: {e}",
                        validation.expression.source.trim()
                    ),
                    out,
                ),
            }
        }

        for annotation in &self.policy.audit_annotations {
            match self.execute(&annotation.value_expression) {
                Ok(Cel::String(value)) => out.audit_annotations.push(AuditAnnotation {
                    key: format!("{}/{}", self.policy.name, annotation.key),
                    value: value.to_string(),
                }),
                // null means "no annotation", as in Kubernetes.
                Ok(Cel::Null) => {}
                Ok(other) => report.failure(
                    &format!(
                        "auditAnnotation `{}` must evaluate to a string or null, got {}",
                        annotation.key,
                        type_name(&other)
                    ),
                    out,
                ),
                Err(e) => report.failure(
                    &format!("auditAnnotation `{}` failed: {e}", annotation.key),
                    out,
                ),
            }
        }
    }

    /// `messageExpression` when it yields a usable string, else `message`, else Kubernetes' default.
    fn message(&mut self, validation: &Validation) -> String {
        if let Some(expression) = &validation.message_expression
            && let Ok(Cel::String(text)) = self.execute(expression)
            && !text.trim().is_empty()
            && !text.contains('\n')
        {
            return text.trim().to_string();
        }
        match &validation.message {
            Some(message) if !message.trim().is_empty() => message.clone(),
            _ => format!("failed expression: {}", validation.expression.source.trim()),
        }
    }

    fn execute(&mut self, expression: &Expression) -> Result<Cel, String> {
        // Kubernetes evaluates a variable only when an expression reaches it, so a variable that
        // fails only matters if it is actually read. Variables are computed up front (memoized); a
        // failed one is left out of the scope, and its error is reported only if the expression
        // then trips over the missing name.
        let mut failed = Vec::new();
        for &index in &expression.variables {
            if let Err(error) = self.variable(index)
                && let Some(variable) = self.policy.variables.get(index)
            {
                failed.push((variable.name.as_str(), error));
            }
        }
        let outcome = if expression.whole_variables {
            let visible: Vec<(String, Cel)> = self
                .policy
                .variables
                .iter()
                .zip(&self.variables)
                .filter(|(_, memo)| matches!(memo, Some(Ok(()))))
                .filter_map(|(variable, _)| {
                    let value = self
                        .base
                        .get_variable(crate::expr::variable_identifier(&variable.name))?;
                    Some((variable.name.clone(), Cel::try_from(value.as_ref()).ok()?))
                })
                .collect();
            let mut scope = self.base.new_inner_scope();
            scope.add_variable_from_value("variables", map_of(visible));
            expression.execute(&scope)
        } else {
            expression.execute(&self.base)
        };
        outcome.map_err(|error| explain(&error, &failed))
    }

    fn variable(&mut self, index: usize) -> Result<(), String> {
        if let Some(Some(memo)) = self.variables.get(index) {
            return memo.clone();
        }
        let policy = self.policy;
        let Some(variable) = policy.variables.get(index) else {
            return Err(format!("no variable #{index}"));
        };
        // A variable reads the ones it mentions first, as an expression does.
        let mut failed = Vec::new();
        for &needed in &variable.expression.variables {
            if let Err(error) = self.variable(needed)
                && let Some(other) = policy.variables.get(needed)
            {
                failed.push((other.name.as_str(), error));
            }
        }
        let outcome = match variable.expression.execute_val(&self.base) {
            Ok(value) => {
                self.base
                    .add_variable_as_val(crate::expr::variable_identifier(&variable.name), value);
                Ok(())
            }
            Err(error) => Err(format!(
                "variable `{}` failed: {}",
                variable.name,
                explain(&error, &failed)
            )),
        };
        if let Some(slot) = self.variables.get_mut(index) {
            *slot = Some(outcome.clone());
        }
        outcome
    }
}

/// An execution error, or the error of the failed variable it tripped over (a variable that
/// failed is left out of the scope, so reading it reports "no such key").
fn explain(error: &cel::ExecutionError, failed: &[(&str, String)]) -> String {
    let missing = match error {
        cel::ExecutionError::NoSuchKey(name) => Some(name.to_string()),
        cel::ExecutionError::UndeclaredReference(name) => {
            name.strip_prefix("@variables.").map(str::to_string)
        }
        _ => None,
    };
    missing
        .and_then(|name| failed.iter().find(|(variable, _)| *variable == name))
        .map(|(_, variable_error)| variable_error.clone())
        .unwrap_or_else(|| error.to_string())
}
