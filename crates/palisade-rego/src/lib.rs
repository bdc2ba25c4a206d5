//! Gatekeeper-compatible Rego policies evaluated with regorus: loading `ConstraintTemplate`s
//! (templates.gatekeeper.sh v1 and v1beta1, Rego v0 and v1, `libs`) and their constraints
//! (constraints.gatekeeper.sh, with `match`, `parameters` and `enforcementAction`), and judging an
//! [`AdmissionRequest`] against them the way Gatekeeper does (`input.review`, `input.parameters`,
//! `data.inventory`). It also owns the fixes that make regorus agree with OPA where real policies
//! notice the difference (see [`compat`]).
//!
//! This crate must not do I/O, decide admission outcomes or know about other policy engines: it
//! reads policy text handed to it and returns [`Violation`]s and evaluation errors; the caller
//! decides what a violation or an error means for the request.

pub mod compat;
pub mod matcher;

use std::fmt;

use palisade_core::{Node, SourceError};
use palisade_kube::yaml::{self, DocumentInfo, ObjectSink};
use palisade_policy::{Action, AdmissionRequest, Inventory, Operation, Violation};
use serde_json::Value;

pub use matcher::Match;

/// Every problem found while loading a policy set, each naming its file and line.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadErrors(pub Vec<SourceError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for LoadErrors {}

/// A constraint whose evaluation failed (the request cannot be judged by it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{policy}: {message}")]
pub struct EvalError {
    pub policy: String,
    pub message: String,
}

/// What evaluating a request produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub violations: Vec<Violation>,
    pub errors: Vec<EvalError>,
}

/// A compiled `ConstraintTemplate`.
struct Template {
    kind: String,
    /// `data.<package>.violation`.
    entrypoint: String,
    /// Whether the Rego mentions `inventory`; only those templates get `data.inventory`, because
    /// adding data makes regorus re-analyse the modules.
    referential: bool,
    /// Compiled once at load; each evaluation works on a clone.
    engine: regorus::Engine,
}

/// A constraint bound to its template.
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub action: Action,
    matcher: Match,
    parameters: regorus::Value,
    template: usize,
}

impl Constraint {
    /// `<ConstraintKind>/<name>`, the policy name violations carry.
    pub fn policy(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// Templates and the constraints that instantiate them.
#[derive(Default)]
pub struct PolicySet {
    templates: Vec<Template>,
    constraints: Vec<Constraint>,
}

impl fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicySet")
            .field(
                "templates",
                &self.templates.iter().map(|t| &t.kind).collect::<Vec<_>>(),
            )
            .field(
                "constraints",
                &self
                    .constraints
                    .iter()
                    .map(Constraint::policy)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Collects the objects of a YAML stream with the file they came from.
struct Collector<'a> {
    file: &'a str,
    objects: Vec<(String, Node)>,
    errors: Vec<SourceError>,
}

impl ObjectSink for Collector<'_> {
    fn object(&mut self, object: Node, _: &DocumentInfo) {
        self.objects.push((self.file.to_string(), object));
    }
    fn error(&mut self, error: SourceError) {
        self.errors.push(error);
    }
}

impl PolicySet {
    /// Loads templates and constraints from `(file name, YAML or JSON text)` pairs. Documents that
    /// are neither are ignored (a policy directory may hold test suites and objects).
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<PolicySet, LoadErrors> {
        let mut objects = Vec::new();
        let mut errors = Vec::new();
        for (file, text) in sources {
            let mut collector = Collector {
                file,
                objects: Vec::new(),
                errors: Vec::new(),
            };
            yaml::read_stream(text.as_bytes(), file, &mut collector);
            objects.extend(collector.objects);
            errors.extend(collector.errors);
        }
        if !errors.is_empty() {
            return Err(LoadErrors(errors));
        }
        PolicySet::from_nodes(objects)
    }

    /// Loads templates and constraints from parsed objects, each with the file it came from.
    pub fn from_nodes(
        objects: impl IntoIterator<Item = (String, Node)>,
    ) -> Result<PolicySet, LoadErrors> {
        let mut set = PolicySet::default();
        let mut errors = Vec::new();
        let mut constraints = Vec::new();
        let mut other_engines: Vec<String> = Vec::new();
        for (file, node) in objects {
            let api_version = node.str_at("apiVersion").unwrap_or("");
            let kind = node.str_at("kind").unwrap_or("");
            if api_version.starts_with("templates.gatekeeper.sh/") && kind == "ConstraintTemplate" {
                match load_template(&file, &node) {
                    Ok(Some(template)) => {
                        if set.templates.iter().any(|t| t.kind == template.kind) {
                            errors.push(error_at(
                                &file,
                                &node,
                                format!("a second template defines kind `{}`", template.kind),
                            ));
                        } else {
                            set.templates.push(template);
                        }
                    }
                    // A template for another engine only (CEL): its constraints are not ours.
                    Ok(None) => {
                        if let Some(kind) = template_kind(&node) {
                            other_engines.push(kind.to_string());
                        }
                    }
                    Err(error) => errors.push(error),
                }
            } else if api_version.starts_with("constraints.gatekeeper.sh/") {
                constraints.push((file, node));
            }
        }
        for (file, node) in constraints {
            let kind = node.str_at("kind").unwrap_or("");
            if other_engines.iter().any(|k| k == kind) {
                continue;
            }
            match set.load_constraint(&file, &node) {
                Ok(constraint)
                    if set
                        .constraints
                        .iter()
                        .any(|c| c.kind == constraint.kind && c.name == constraint.name) =>
                {
                    errors.push(error_at(
                        &file,
                        &node,
                        format!("a second constraint `{}`", constraint.policy()),
                    ));
                }
                Ok(constraint) => set.constraints.push(constraint),
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(LoadErrors(errors))
        }
    }

    /// Stops any single constraint evaluation after `limit` (it then reports an [`EvalError`]), so
    /// a pathological policy cannot hold a request past the caller's budget.
    pub fn set_evaluation_limit(&mut self, limit: std::time::Duration) {
        let config = regorus::utils::limits::ExecutionTimerConfig {
            limit,
            // Reading the clock at every step would cost more than most policies take.
            check_interval: std::num::NonZeroU32::new(64).unwrap_or(std::num::NonZeroU32::MIN),
        };
        for template in &mut self.templates {
            template.engine.set_execution_timer_config(config);
        }
    }

    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// The template kinds loaded.
    pub fn template_kinds(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(|t| t.kind.as_str())
    }

    fn load_constraint(&self, file: &str, node: &Node) -> Result<Constraint, SourceError> {
        let kind = node.str_at("kind").unwrap_or("");
        let name = node.at(&["metadata", "name"]).and_then(Node::as_str);
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Err(error_at(
                file,
                node,
                "the constraint has no `metadata.name`",
            ));
        };
        let Some(template) = self.templates.iter().position(|t| t.kind == kind) else {
            return Err(error_at(
                file,
                node,
                format!(
                    "constraint `{kind}/{name}` has no ConstraintTemplate defining kind `{kind}`"
                ),
            ));
        };
        let spec = node.get("spec");
        let action_node = spec.and_then(|s| s.get("enforcementAction"));
        let action = match action_node.and_then(Node::as_str) {
            None | Some("deny") | Some("") => Action::Deny,
            Some("dryrun") => Action::Audit,
            Some("warn") => Action::Warn,
            Some(other) => {
                return Err(error_at(
                    file,
                    action_node.unwrap_or(node),
                    format!(
                        "unsupported enforcementAction `{other}` (expected deny, dryrun or warn)"
                    ),
                ));
            }
        };
        let match_node = spec.and_then(|s| s.get("match"));
        let match_json = match_node.map(to_json);
        let matcher = Match::from_value(match_json.as_ref())
            .map_err(|message| error_at(file, match_node.unwrap_or(node), message))?;
        let parameters = spec
            .and_then(|s| s.get("parameters"))
            .filter(|p| !p.is_null())
            .map(to_json)
            .unwrap_or_else(|| Value::Object(Default::default()));
        Ok(Constraint {
            kind: kind.to_string(),
            name: name.to_string(),
            action,
            matcher,
            parameters: regorus::Value::from(parameters),
            template,
        })
    }

    /// Judges `request` against every constraint whose `match` block selects it. Referential
    /// templates see `inventory` as `data.inventory`.
    pub fn evaluate(&self, request: &AdmissionRequest, inventory: &Inventory) -> Evaluation {
        let mut data: Option<regorus::Value> = None;
        self.evaluate_with(request, inventory, &mut || {
            data.get_or_insert_with(|| inventory_data(inventory))
                .clone()
        })
    }

    /// [`PolicySet::evaluate`] with the inventory already converted, for callers judging many
    /// requests against one inventory (the conversion is linear in the inventory's size).
    pub fn evaluate_prepared(
        &self,
        request: &AdmissionRequest,
        inventory: &PreparedInventory,
    ) -> Evaluation {
        self.evaluate_with(request, &inventory.inventory, &mut || {
            inventory.data.clone()
        })
    }

    fn evaluate_with(
        &self,
        request: &AdmissionRequest,
        inventory: &Inventory,
        inventory_data: &mut dyn FnMut() -> regorus::Value,
    ) -> Evaluation {
        let mut evaluation = Evaluation::default();
        let mut review: Option<regorus::Value> = None;
        for constraint in &self.constraints {
            if !constraint.matcher.matches(request, inventory) {
                continue;
            }
            let Some(template) = self.templates.get(constraint.template) else {
                continue;
            };
            let review = review.get_or_insert_with(|| review_value(request));
            let data = template.referential.then(&mut *inventory_data);
            match run(template, constraint, review.clone(), data) {
                Ok(violations) => evaluation.violations.extend(violations),
                Err(message) => evaluation.errors.push(EvalError {
                    policy: constraint.policy(),
                    message,
                }),
            }
        }
        evaluation
    }
}

/// `input.review`: the request as the API server sent it, except that for a DELETE Gatekeeper's
/// webhook copies `oldObject` into `object` (which the API server leaves null), so policies
/// written against `input.review.object` see the object being deleted.
fn review_value(request: &AdmissionRequest) -> regorus::Value {
    let mut review = serde_json::to_value(request).unwrap_or(Value::Null);
    if request.operation == Operation::Delete
        && let Some(old) = request.old_object.as_ref().filter(|o| !o.is_null())
        && let Some(fields) = review.as_object_mut()
    {
        fields.insert("object".into(), old.clone());
    }
    regorus::Value::from(review)
}

/// An inventory converted once for many evaluations.
pub struct PreparedInventory {
    inventory: Inventory,
    data: regorus::Value,
}

impl PreparedInventory {
    pub fn new(inventory: Inventory) -> PreparedInventory {
        let data = inventory_data(&inventory);
        PreparedInventory { inventory, data }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }
}

/// `{"inventory": …}`, merged into `data`.
fn inventory_data(inventory: &Inventory) -> regorus::Value {
    let mut data = serde_json::Map::new();
    data.insert("inventory".into(), inventory.to_value());
    regorus::Value::from(Value::Object(data))
}

fn run(
    template: &Template,
    constraint: &Constraint,
    review: regorus::Value,
    data: Option<regorus::Value>,
) -> Result<Vec<Violation>, String> {
    let mut engine = template.engine.clone();
    if let Some(data) = data {
        engine.add_data(data).map_err(|e| e.to_string())?;
    }
    let mut input = regorus::Value::new_object();
    if let Ok(fields) = input.as_object_mut() {
        fields.insert(regorus::Value::from("review"), review);
        fields.insert(
            regorus::Value::from("parameters"),
            constraint.parameters.clone(),
        );
    }
    engine.set_input(input);
    let result = engine
        .eval_rule(template.entrypoint.clone())
        .map_err(|e| e.to_string())?;
    let results: Vec<regorus::Value> = match result {
        regorus::Value::Set(items) => items.iter().cloned().collect(),
        regorus::Value::Array(items) => items.iter().cloned().collect(),
        regorus::Value::Undefined => Vec::new(),
        other => return Err(format!("`violation` must be a set, got {other}")),
    };
    let mut violations = Vec::with_capacity(results.len());
    for result in results {
        let json = serde_json::to_value(&result).unwrap_or(Value::Null);
        let message = match json.get("msg") {
            Some(Value::String(msg)) => msg.clone(),
            _ => {
                return Err(format!(
                    "a violation must be an object with a string `msg`, got {json}"
                ));
            }
        };
        violations.push(Violation {
            policy: constraint.policy(),
            message,
            details: json.get("details").filter(|d| !d.is_null()).cloned(),
            action: constraint.action,
            reason: None,
        });
    }
    Ok(violations)
}

fn to_json(node: &Node) -> Value {
    serde_json::to_value(node).unwrap_or(Value::Null)
}

fn error_at(file: &str, node: &Node, message: impl Into<String>) -> SourceError {
    SourceError {
        file: file.to_string(),
        line: node.mark.is_known().then_some(node.mark.line),
        column: node.mark.is_known().then_some(node.mark.column),
        message: message.into(),
    }
}

/// The Rego source of a template's admission target: the `engine: Rego` entry of `code`, whose
/// `source.version: "v1"` selects Rego v1, else the legacy `rego`/`libs` fields (Rego v0).
struct RegoSource<'a> {
    rego: &'a Node,
    libs: Vec<&'a Node>,
    v1: bool,
}

fn rego_source<'a>(target: &'a Node) -> Option<RegoSource<'a>> {
    let code_entry = target.get("code").and_then(|code| {
        code.items()
            .iter()
            .find(|entry| entry.str_at("engine") == Some("Rego"))
    });
    if let Some(source) = code_entry.and_then(|entry| entry.get("source"))
        && let Some(rego) = source.get("rego")
    {
        return Some(RegoSource {
            rego,
            libs: source
                .get("libs")
                .map(|l| l.items().iter().collect())
                .unwrap_or_default(),
            v1: source.str_at("version") == Some("v1"),
        });
    }
    target.get("rego").map(|rego| RegoSource {
        rego,
        libs: target
            .get("libs")
            .map(|l| l.items().iter().collect())
            .unwrap_or_default(),
        // Gatekeeper (3.19+) accepts Rego v1 only under `code`; legacy `rego` is always v0 (where
        // `import rego.v1` still opts a module into v1 keywords, as in OPA).
        v1: false,
    })
}

fn template_kind(node: &Node) -> Option<&str> {
    node.at(&["spec", "crd", "spec", "names", "kind"])
        .and_then(Node::as_str)
        .filter(|k| !k.is_empty())
}

/// Compiles a template; `Ok(None)` when the CEL engine owns it (it has `K8sNativeValidation` code).
fn load_template(file: &str, node: &Node) -> Result<Option<Template>, SourceError> {
    let Some(kind) = template_kind(node) else {
        return Err(error_at(
            file,
            node,
            "the ConstraintTemplate has no `spec.crd.spec.names.kind`",
        ));
    };
    let targets = node
        .at(&["spec", "targets"])
        .map(Node::items)
        .unwrap_or(&[]);
    let Some(target) = targets.first() else {
        return Err(error_at(
            file,
            node,
            format!("ConstraintTemplate `{kind}` has no `spec.targets`"),
        ));
    };
    // A template with both engines is evaluated once, by CEL: Gatekeeper's constraint framework
    // hands a template to the first driver that supports one of its engines, and registers its
    // K8sNativeValidation driver before Rego (CEL in templates is on by default since 3.17).
    // Evaluating both would report every violation twice.
    let has_cel = target.get("code").is_some_and(|code| {
        code.items()
            .iter()
            .any(|e| e.str_at("engine") == Some("K8sNativeValidation"))
    });
    if has_cel {
        return Ok(None);
    }
    let Some(source) = rego_source(target) else {
        if target.get("code").is_some() {
            return Ok(None);
        }
        return Err(error_at(
            file,
            target,
            format!("ConstraintTemplate `{kind}` has no Rego (`spec.targets[0].rego`)"),
        ));
    };
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(!source.v1);
    engine
        .add_extension("sprintf".into(), 2, Box::new(compat::sprintf))
        .map_err(|e| error_at(file, node, e.to_string()))?;
    let mut package = None;
    let mut referential = false;
    let modules = std::iter::once(source.rego).chain(source.libs.iter().copied());
    for (index, module) in modules.enumerate() {
        let Some(text) = module.as_str() else {
            return Err(error_at(file, module, "Rego source must be a string"));
        };
        referential |= text.contains("inventory");
        let path = format!("{file}#{index}");
        match engine.add_policy(path.clone(), compat::split_function_bodies(text)) {
            Ok(name) if index == 0 => package = Some(name),
            Ok(_) => {}
            Err(e) => return Err(rego_error(file, module, &path, &e.to_string())),
        }
    }
    let Some(package) = package else {
        return Err(error_at(file, source.rego, "the template has no Rego"));
    };
    // `add_policy` answers `data.<package>`.
    let entrypoint = format!("{package}.violation");
    if !engine
        .has_declared_rule_rooted_at(&format!("{file}#0"), "violation")
        .unwrap_or(false)
    {
        return Err(error_at(
            file,
            source.rego,
            format!("ConstraintTemplate `{kind}`: the Rego has no `violation` rule"),
        ));
    }
    // Compiles the modules now, so errors surface at load and evaluations start from a prepared
    // engine.
    if let Err(e) = engine.eval_query("true".into(), false) {
        let error = e.to_string();
        let modules = std::iter::once(source.rego).chain(source.libs.iter().copied());
        let (path, module) = modules
            .enumerate()
            .map(|(index, module)| (format!("{file}#{index}"), module))
            .find(|(path, _)| error.contains(&format!("--> {path}:")))
            .unwrap_or_else(|| (format!("{file}#0"), source.rego));
        return Err(rego_error(file, module, &path, &error));
    }
    Ok(Some(Template {
        kind: kind.to_string(),
        entrypoint,
        referential,
        engine,
    }))
}

/// A regorus error (`--> <path>:<row>:<col>` then the message) placed in the YAML file: a block
/// scalar's mark is its first content line and column, where row 1, column 1 of the Rego sits.
/// (For a quoted scalar the rows do not map onto lines; the position is then approximate.)
fn rego_error(file: &str, module: &Node, path: &str, error: &str) -> SourceError {
    let marker = format!("--> {path}:");
    let position = error.find(&marker).and_then(|at| {
        let rest = error.get(at + marker.len()..)?;
        let mut numbers = rest.split(|c: char| !c.is_ascii_digit());
        let row: u32 = numbers.next()?.parse().ok()?;
        let col: u32 = numbers.next()?.parse().ok()?;
        Some((row, col))
    });
    let message = error
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with("error:"))
        .map(|line| {
            line.trim_start()
                .trim_start_matches("error:")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| error.trim().to_string());
    let (line, column) = match (position, module.mark.is_known()) {
        (Some((row, col)), true) => (
            Some((module.mark.line + row).saturating_sub(1)),
            Some((module.mark.column + col).saturating_sub(1)),
        ),
        _ => (module.mark.is_known().then_some(module.mark.line), None),
    };
    SourceError {
        file: file.to_string(),
        line,
        column,
        message: format!("invalid Rego: {message}"),
    }
}
